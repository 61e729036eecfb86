// AuditLog: the tamper-evident, durable, PHI-free audit trail.
//
// Each tenant has its own trail: records numbered 0, 1, 2..., each holding the
// leaf hash of the one before (a hash chain), all hashed into an RFC 6962
// Merkle tree whose head is signed (Ed25519) on every group commit.
//
// Append() hands the event to one writer thread, which batches every event
// that arrived meanwhile into one transaction (group commit), signs the new
// tree heads of the tenants in it, commits, and only then wakes the callers.
// So when Append() returns OK the event is committed: it survives a kill -9
// of the process. The fsync that makes it survive a power loss is batched too:
// it runs at most `fsync_interval` after the commit (0 = before Append returns).
// On any failure Append() returns an error and the caller must not forward
// anything (no audit, no egress).
//
// Example:
//   PHIGATE_ASSIGN_OR_RETURN(auto store,
//   AuditLogStore::Open("sqlite:///var/lib/phigate/audit.db")); PHIGATE_ASSIGN_OR_RETURN(auto log,
//   AuditLog::Open(std::move(store), signer)); PHIGATE_ASSIGN_OR_RETURN(uint64_t seq,
//   log->Append(event)); PHIGATE_ASSIGN_OR_RETURN(VerifyResult v, VerifyTrail(log->store(), tenant,
//   verifier));
//
// Thread safety: every method may be called from many threads at once.
#ifndef PHIGATE_AUDIT_AUDIT_LOG_H_
#define PHIGATE_AUDIT_AUDIT_LOG_H_

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <future>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "phigate/audit/event.h"
#include "phigate/audit/log_store.h"
#include "phigate/audit/merkle.h"
#include "phigate/core/ids.h"
#include "phigate/core/status.h"
#include "phigate/crypto/signer.h"

namespace phigate::audit {

// HIPAA documentation retention (45 CFR 164.316(b)(2)): six years. Retention
// never drops anything younger.
inline constexpr int64_t kMinRetentionUs = int64_t{2192} * 24 * 3600 * 1000000;  // 6 y + 1 d

struct AuditLogOptions {
  // Most events per group commit.
  size_t max_batch = 4096;
  // Bound on how long a committed event may stay un-fsynced (power-loss
  // window). Zero: fsync before Append returns.
  std::chrono::microseconds fsync_interval{std::chrono::milliseconds(20)};
  // A head is also appended to the sparse head log whenever the tree crosses
  // a multiple of this size, so Verify can narrow a mismatch to that window.
  uint64_t head_log_interval = 4096;
  // Clock for tree-head timestamps (microseconds since the epoch).
  std::function<int64_t()> now_us;
};

struct InclusionProofResult {
  uint64_t seq = 0;
  Hash leaf{};
  std::vector<Hash> path;
  SignedTreeHead head;  // the tree the proof is for
};

struct VerifyResult {
  TenantId tenant;
  uint64_t first_seq = 0;  // > 0 after a retention cut
  uint64_t events_checked = 0;
  uint64_t tree_size = 0;
  Hash root{};
  uint64_t heads_checked = 0;  // signatures verified
};

class AuditLog {
 public:
  static Result<std::unique_ptr<AuditLog>> Open(std::unique_ptr<AuditLogStore> store,
                                                std::shared_ptr<const crypto::Ed25519Signer> signer,
                                                AuditLogOptions options = {});
  // Commits everything queued, fsyncs, stops the writer.
  ~AuditLog();
  AuditLog(const AuditLog&) = delete;  // owns a thread
  AuditLog& operator=(const AuditLog&) = delete;

  // Returns the event's sequence number once committed. InvalidArgument when
  // the event does not Validate(); Unavailable/DataLoss when it could not be
  // committed (the trail is unchanged then).
  Result<uint64_t> Append(const AuditEvent& event);
  // The same without blocking: the future is ready once committed.
  std::future<Result<uint64_t>> AppendAsync(AuditEvent event);
  // Fsyncs now (everything committed so far survives a power loss).
  Status Sync();

  AuditLogStore& store() { return *store_; }
  const crypto::Ed25519Signer& signer() const { return *signer_; }

  // NotFound for a tenant with no trail.
  Result<SignedTreeHead> LatestHead(const TenantId& tenant);
  // Proof that record `seq` is in the tree of `tree_size` records (0 = the latest head).
  Result<InclusionProofResult> ProveInclusion(const TenantId& tenant, uint64_t seq,
                                              uint64_t tree_size = 0);
  Result<std::vector<Hash>> ProveConsistency(const TenantId& tenant, uint64_t first,
                                             uint64_t second);
  // Signs and stores a checkpoint of the latest head (for an external witness).
  Result<Checkpoint> MakeCheckpoint(const TenantId& tenant);
  // Drops the records older than `retention` (>= kMinRetentionUs) behind a
  // signed retention checkpoint. Returns the number of records dropped.
  Result<uint64_t> ApplyRetention(const TenantId& tenant, int64_t now_us,
                                  int64_t retention_us = kMinRetentionUs);

 private:
  struct Pending {
    AuditEvent event;
    std::promise<Result<uint64_t>> done;
  };
  struct TenantState {
    CompactRange tree;
    Hash last_leaf{};
  };

  AuditLog(std::unique_ptr<AuditLogStore> store,
           std::shared_ptr<const crypto::Ed25519Signer> signer, AuditLogOptions options);
  void WriterLoop();
  void CommitBatch(std::vector<Pending>& batch);
  Result<TenantState*> StateFor(const TenantId& tenant);
  int64_t Now() const;

  std::unique_ptr<AuditLogStore> store_;
  std::shared_ptr<const crypto::Ed25519Signer> signer_;
  AuditLogOptions options_;

  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<Pending> queue_;  // guarded by mu_
  bool stop_ = false;          // guarded by mu_

  // Writer thread only.
  std::map<std::string, TenantState> tenants_;
  bool dirty_ = false;  // committed but not fsynced
  std::chrono::steady_clock::time_point last_sync_;
  std::thread writer_;
};

// Checks the whole trail of one tenant: every record's frame and checksum,
// sequence numbers, tenant, stored leaf hash, the hash chain, every signed
// tree head (latest, head log, checkpoints) against the recomputed Merkle
// root, and that nothing is missing after the last signed head or present
// beyond it. On the first problem returns DataLoss whose message starts with
// "tenant T: event seq N:" naming the first bad event (FirstBadSeq parses it).
Result<VerifyResult> VerifyTrail(AuditLogStore& store, const TenantId& tenant,
                                 const crypto::Ed25519Verifier& verifier);
// The N of "event seq N" in a VerifyTrail error; nullopt if none.
std::optional<uint64_t> FirstBadSeq(const Status& status);

// Checks a checkpoint's signature and that its compact range folds to its root.
Status VerifyCheckpoint(const Checkpoint& cp, const crypto::Ed25519Verifier& verifier);

}  // namespace phigate::audit

#endif  // PHIGATE_AUDIT_AUDIT_LOG_H_
