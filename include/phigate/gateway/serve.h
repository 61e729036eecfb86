// The production wiring of `phigate serve`: the gateway's seams bound to the
// real modules (policy with live reload, detect engine, transform redactor and
// surrogate generator, the encrypted vault on the store, the audit log).
//
// Example:
//   PHIGATE_ASSIGN_OR_RETURN(auto stack, ServeStack::Build("phigate.yaml", {}));
//   PHIGATE_ASSIGN_OR_RETURN(auto gw, Gateway::Create(stack->config(), stack->deps()));
#ifndef PHIGATE_GATEWAY_SERVE_H_
#define PHIGATE_GATEWAY_SERVE_H_

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>

#include "phigate/core/status.h"
#include "phigate/gateway/config.h"
#include "phigate/gateway/gateway.h"

namespace phigate::gateway {

struct ServeOptions {
  std::string store_url;  // overrides gateway.store ("" = config, then sqlite:///./phigate.db)
  std::string audit_url;  // "" = the store URL
  std::string data_dir;   // gazetteers; "" = engine default
  bool watch_policy = true;
  std::chrono::milliseconds policy_poll_interval{1000};  // file mtime/size/inode check
  // Soft limit on all SQLite memory of the process (page caches of the vault,
  // audit and breach stores): bounds resident memory by design. 0 = no limit.
  int64_t sqlite_heap_limit_bytes = int64_t{64} << 20;
  // Cap on each SQLite connection's memory-mapped I/O (resident file pages);
  // -1 = the stores' own settings.
  int64_t sqlite_max_mmap_bytes = int64_t{16} << 20;
  // Background WAL checkpoints of the SQLite vault and audit files (off the io
  // threads; see docs/gateway.md "Performance"). 0 = SQLite's own auto-checkpoints only.
  std::chrono::milliseconds wal_checkpoint_interval{200};
  // Each SQLite WAL frame written with one system call instead of two
  // (store::CoalesceSqliteWalFrames; process-wide, cannot be undone).
  bool coalesce_wal_frames = true;
};

// Owns every real component for the lifetime of the server. Build() fails with
// a clear, PHI-free message when a part cannot start (no master key, bad
// policy, store unreachable): the server never starts half-wired.
class ServeStack {
 public:
  static Result<std::unique_ptr<ServeStack>> Build(const std::string& config_path,
                                                   const ServeOptions& options);
  virtual ~ServeStack() = default;
  virtual const GatewayConfig& config() const = 0;
  virtual const GatewayDeps& deps() const = 0;
  // One line per component: what is wired ("detect: engine", ...). PHI-free.
  virtual std::string Describe() const = 0;
  // Live policy reload (ServeOptions::watch_policy): the number of policies
  // loaded so far (1 after Build) and the last reload error (OK when the last
  // attempt succeeded). A bad file keeps the previous policy in force.
  virtual uint64_t policy_generation() const = 0;
  virtual Status policy_last_error() const = 0;
  // Checks the policy file now (as the watcher does on a change or SIGHUP).
  virtual void RequestPolicyReload() = 0;
};

}  // namespace phigate::gateway

#endif  // PHIGATE_GATEWAY_SERVE_H_
