// Live reload: PolicyHolder keeps the current policy and swaps in a new one
// atomically; a bad file keeps the old policy running and reports why.
// PolicyWatcher polls the file (mtime, size) and reacts to SIGHUP.
//
// Example:
//   PHIGATE_ASSIGN_OR_RETURN(auto holder, PolicyHolder::Create("phigate.yaml", {}));
//   PolicyWatcher::InstallSighupHandler();
//   PHIGATE_ASSIGN_OR_RETURN(auto watcher, PolicyWatcher::Start(*holder, {}));
//   ...
//   std::shared_ptr<const Policy> p = holder->Current();  // per request
//   const Decision& d = p->Decide(req);                    // valid while p lives
#ifndef PHIGATE_POLICY_HOLDER_H_
#define PHIGATE_POLICY_HOLDER_H_

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

#include "phigate/core/status.h"
#include "phigate/policy/policy.h"

namespace phigate::policy {

// Thread-safe. Current() may be called from any thread at any time.
class PolicyHolder {
 public:
  // Loads `path`; fails (and returns no holder) when the first load fails.
  static Result<std::unique_ptr<PolicyHolder>> Create(std::string path, LoadOptions options);
  // Wraps an already loaded policy (tests, embedding); Reload() reads `path`.
  PolicyHolder(std::string path, LoadOptions options, std::shared_ptr<const Policy> initial);

  PolicyHolder(const PolicyHolder&) = delete;
  PolicyHolder& operator=(const PolicyHolder&) = delete;

  // The policy in force. Never null.
  std::shared_ptr<const Policy> Current() const;

  // Reads and compiles the file again. OK: the new policy is in force. Error:
  // the old one stays in force, the error is returned and kept in last_error().
  Status Reload();

  // Number of successful loads (1 after Create()).
  uint64_t generation() const { return generation_.load(std::memory_order_acquire); }
  Status last_error() const;
  const std::string& path() const { return path_; }

 private:
  const std::string path_;
  const LoadOptions options_;
  mutable std::mutex mu_;
  std::shared_ptr<const Policy> current_;  // guarded by mu_
  Status last_error_;                      // guarded by mu_
  std::mutex reload_mu_;                   // serializes Reload()
  std::atomic<uint64_t> generation_{0};
};

struct FileStamp;  // mtime, size and inode of the watched file (holder.cc)

struct WatchOptions {
  std::chrono::milliseconds poll_interval{1000};
  // Called on the watcher thread after every reload attempt (OK or not).
  // Must not block for long; messages carry no PHI.
  std::function<void(const Status&, uint64_t generation)> on_reload;
};

// A thread that calls holder.Reload() when the file's mtime or size changes, when
// SIGHUP arrived (after InstallSighupHandler()), or on RequestReload().
class PolicyWatcher {
 public:
  // REQUIRES: `holder` outlives the watcher.
  static Result<std::unique_ptr<PolicyWatcher>> Start(PolicyHolder& holder, WatchOptions options);
  ~PolicyWatcher();  // Stop()s
  PolicyWatcher(const PolicyWatcher&) = delete;
  PolicyWatcher& operator=(const PolicyWatcher&) = delete;

  // Stops and joins the thread. Idempotent.
  void Stop();
  // Asks for a reload at the next wake-up (now).
  void RequestReload();
  // Number of reload attempts made by this watcher.
  uint64_t attempts() const { return attempts_.load(std::memory_order_acquire); }

  // Installs a SIGHUP handler that makes every running watcher reload. Optional;
  // a gateway with its own signal handling calls RequestReload() instead.
  static void InstallSighupHandler();

 private:
  PolicyWatcher(PolicyHolder& holder, WatchOptions options);
  void Run(const FileStamp& initial);

  PolicyHolder& holder_;
  const WatchOptions options_;
  std::mutex mu_;
  std::condition_variable cv_;
  bool stop_ = false;       // guarded by mu_
  bool requested_ = false;  // guarded by mu_
  std::atomic<uint64_t> attempts_{0};
  std::thread thread_;
};

}  // namespace phigate::policy

#endif  // PHIGATE_POLICY_HOLDER_H_
