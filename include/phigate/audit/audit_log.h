// AuditLog: the tamper-evident, durable, PHI-free audit trail.
//
// Each tenant has its own trail: records numbered 0, 1, 2..., each holding the
// leaf hash of the one before (a hash chain), all hashed into an RFC 6962
// Merkle tree whose head is signed (Ed25519). Every commit extends the chain
// and the tree durably; the tree head is signed at most once per
// `sign_interval` per tenant (Trillian's signed tree heads per interval,
// Certificate Transparency's maximum merge delay): by the next commit after
// the interval, by the background thread when the log is idle, and always by
// SignHeads() and the destructor. 0 = sign on every commit.
//
// Group commit (LevelDB's writer queue, leader/follower): Append() encodes
// the event on the caller's thread, then queues it. The caller at the front
// of the queue becomes the leader: it takes every event queued behind it (up
// to max_batch), chains and hashes them, signs the new tree head of each
// tenant in the batch, writes all of it in one transaction, and only then
// wakes the followers whose events were in the batch and hands the lead to
// the next queued caller. A lone caller commits on its own thread (no thread
// hand-off); under load one commit carries as many events as arrived during
// the previous one. So when Append() returns OK the event is committed: it
// survives a kill -9 of the process. The fsync that makes it survive a power
// loss is batched too: a background thread runs it at most `fsync_interval`
// after the commit (0 = the leader fsyncs before anyone in the batch returns).
// On any failure Append() returns an error and the caller must not forward
// anything (no audit, no egress).
//
// Example:
//   PHIGATE_ASSIGN_OR_RETURN(auto store, AuditLogStore::Open("sqlite:///var/audit.db"));
//   PHIGATE_ASSIGN_OR_RETURN(auto log, AuditLog::Open(std::move(store), signer));
//   PHIGATE_ASSIGN_OR_RETURN(uint64_t seq, log->Append(event));
//   PHIGATE_ASSIGN_OR_RETURN(VerifyResult v, VerifyTrail(log->store(), tenant, verifier));
//
// Thread safety: every method may be called from many threads at once.
#ifndef PHIGATE_AUDIT_AUDIT_LOG_H_
#define PHIGATE_AUDIT_AUDIT_LOG_H_

#include <atomic>
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
#include <set>
#include <span>
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
  // Group-commit window (PostgreSQL's commit_delay, adaptive): when other
  // callers are appending concurrently, the leader waits while more events
  // keep arriving, at most this long, so that one transaction (one signature,
  // one set of page writes) carries many events. A lone caller never waits.
  // Zero: commit at once.
  std::chrono::microseconds max_commit_delay{500};
  // Bound on how long a committed event may stay un-fsynced (power-loss
  // window). Zero: fsync before Append returns.
  std::chrono::microseconds fsync_interval{std::chrono::milliseconds(20)};
  // A head is also appended to the sparse head log whenever the tree crosses
  // a multiple of this size, so Verify can narrow a mismatch to that window.
  uint64_t head_log_interval = 4096;
  // Most time between a commit and a signed tree head covering it (plus
  // scheduling delay); also the least time between two signatures of one
  // tenant's head by commits. Zero: every commit signs its tenants' heads.
  // Until signed, the newest events (the "unsigned tail") are protected by
  // the hash chain only: someone with write access to the store could rewrite
  // them undetected before the next signed head (docs/audit.md).
  std::chrono::microseconds sign_interval{std::chrono::milliseconds(1000)};
  // Clock for tree-head timestamps (microseconds since the epoch).
  std::function<int64_t()> now_us;
};

// Counters of the group commit (monotonic since Open).
struct AuditLogStats {
  uint64_t commits = 0;     // transactions (batches) committed
  uint64_t events = 0;      // events committed
  uint64_t syncs = 0;       // fsyncs run (by the background thread or the leader)
  uint64_t signatures = 0;  // tree heads signed and stored
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
  // The newest signed head covers this many events (seq < signed_size) ...
  uint64_t signed_size = 0;
  // ... and this many newer events are not covered by any signed head yet
  // (the unsigned tail; their chain was checked). Not an error: a running log
  // signs them within sign_interval; a log closed cleanly leaves none.
  uint64_t unsigned_events = 0;
  // The index in the TreeHeadKeys of the key that signed the newest head
  // (0 with one key or no head).
  size_t newest_key = 0;
};

// The keys a trail's tree heads may be signed with, oldest first: the one
// signing key, or after master key rotations the retired keys and then the
// current one. Along the tree the keys are used in this order: a head signed
// by a key older than one that signed a smaller head fails verification, so a
// retired key (perhaps retired because it leaked) cannot sign past the heads
// of its successor. Retention cuts, signed when made over an older size, may
// be signed by any of them; so may witnessed heads.
using TreeHeadKeys = std::span<const crypto::Ed25519Verifier* const>;

class AuditLog {
 public:
  static Result<std::unique_ptr<AuditLog>> Open(std::unique_ptr<AuditLogStore> store,
                                                std::shared_ptr<const crypto::Ed25519Signer> signer,
                                                AuditLogOptions options = {});
  // Commits everything queued by AppendAsync, signs the heads of every
  // unsigned tail (SignHeads), fsyncs, stops the background thread.
  // REQUIRES: no Append() call in progress.
  ~AuditLog();
  AuditLog(const AuditLog&) = delete;  // owns a thread
  AuditLog& operator=(const AuditLog&) = delete;

  // Returns the event's sequence number once committed. InvalidArgument when
  // the event does not Validate(); Unavailable/DataLoss when it could not be
  // committed (the trail is unchanged then). Blocks; the calling thread may
  // itself commit a whole batch (as leader). `event` is read only before
  // queueing (it is encoded on the caller's thread).
  Result<uint64_t> Append(const AuditEvent& event);
  // The same without blocking: the future is ready once committed (the
  // background thread leads batches that start with an async event).
  std::future<Result<uint64_t>> AppendAsync(AuditEvent event);
  // Fsyncs now (everything committed so far survives a power loss).
  Status Sync();
  // Signs and stores the tree head of every tenant this log has appended to
  // whose newest events are not covered by a signed head yet. Returns once
  // stored (blocks like Append).
  Status SignHeads();
  AuditLogStats stats() const {
    return {commits_.load(std::memory_order_relaxed), events_.load(std::memory_order_relaxed),
            syncs_.load(std::memory_order_relaxed), signatures_.load(std::memory_order_relaxed)};
  }

  AuditLogStore& store() { return *store_; }
  const crypto::Ed25519Signer& signer() const { return *signer_; }

  // NotFound for a tenant with no trail.
  Result<SignedTreeHead> LatestHead(const TenantId& tenant);
  // Proof that record `seq` is in the tree of `tree_size` records (0 = the latest head).
  Result<InclusionProofResult> ProveInclusion(const TenantId& tenant, uint64_t seq,
                                              uint64_t tree_size = 0);
  Result<std::vector<Hash>> ProveConsistency(const TenantId& tenant, uint64_t first,
                                             uint64_t second);
  // Signs the tenant's head first (SignHeads for this tenant, also a tail left
  // by a crashed writer), then signs and stores a checkpoint of it (for an
  // external witness).
  Result<Checkpoint> MakeCheckpoint(const TenantId& tenant);
  // Drops the records older than `retention` (>= kMinRetentionUs) behind a
  // signed retention checkpoint. Returns the number of records dropped.
  Result<uint64_t> ApplyRetention(const TenantId& tenant, int64_t now_us,
                                  int64_t retention_us = kMinRetentionUs);

 private:
  // One queued append. Lives on the caller's stack (Append) or the heap
  // (AppendAsync, then `promise` is set and the background thread leads).
  struct Writer {
    std::string frame;  // EncodeEventFrame; sealed and moved out by the leader
    TenantId tenant;
    int64_t time_us = 0;
    std::vector<BlindIndex> subjects;
    std::unique_ptr<std::promise<Result<uint64_t>>> promise;
    // No event: asks the leader to sign every unsigned tail now (and, when
    // `tenant` is set, to load that tenant and sign its tail too).
    bool sign_only = false;
    Status status;      // set by the leader
    uint64_t seq = 0;   // set by the leader when status is OK
    bool done = false;  // set by the leader before it wakes the writer
    // Woken once: when the event is committed (done) or the lead is handed to
    // this writer (not done). A bare futex word: one system call to sleep and
    // one to wake, no mutex for the woken thread to queue on. (libstdc++ 12's
    // std::binary_semaphore spins on sched_yield first, which costs more than
    // it saves with dozens of waiters on two cores.)
    void Wait();
    void Wake();  // the writer may be destroyed as soon as the store is seen
    std::atomic<uint32_t> woken{0};
  };
  struct TenantState {
    CompactRange tree;
    Hash last_leaf{};
    uint64_t signed_size = 0;  // tree size of the newest signed head
    bool sign_now = true;      // new or reloaded: the next commit signs
    std::chrono::steady_clock::time_point signed_at{};
  };
  struct CommitOutcome {
    bool unsynced = false;       // something committed but not fsynced
    bool unsigned_tail = false;  // some tenant's newest events are unsigned
  };

  AuditLog(std::unique_ptr<AuditLogStore> store,
           std::shared_ptr<const crypto::Ed25519Signer> signer, AuditLogOptions options);
  static Status Prepare(const AuditEvent& event, Writer* w);
  // Commits a batch from the front of the queue and hands the lead on.
  // REQUIRES: mu_ not held; the caller's writer `self` (nullptr for the
  // background thread) is queue_.front().
  void LeadBatch(Writer* self);
  // The adaptive group-commit window (max_commit_delay). Leader only.
  void WaitForMoreWriters();
  // Leader only, without mu_. Sets every writer's status and seq.
  CommitOutcome CommitBatch(std::span<Writer* const> batch);
  // Queues a sign_only writer and waits for it (SignHeads, MakeCheckpoint).
  // Queues |w| and returns once it ran: led by this thread, or committed by
  // the leader it waited for (group commit).
  Status RunQueued(Writer* w);
  Status RunSignOnly(const TenantId* tenant);
  void BackgroundLoop();
  // The tenant's cached state; loads it from the store on first use: the
  // tree at the signed head, extended by the unsigned tail after it (chain
  // and leaf hashes checked).
  Result<TenantState*> StateFor(const TenantId& tenant);
  int64_t Now() const;

  std::unique_ptr<AuditLogStore> store_;
  std::shared_ptr<const crypto::Ed25519Signer> signer_;
  AuditLogOptions options_;

  std::mutex mu_;
  std::condition_variable bg_cv_;                      // wakes the background thread
  std::deque<Writer*> queue_;                          // guarded by mu_; front = leader
  bool leading_ = false;                               // guarded by mu_: a batch is being committed
  bool stop_ = false;                                  // guarded by mu_
  bool dirty_ = false;                                 // guarded by mu_: committed but not fsynced
  std::chrono::steady_clock::time_point dirty_since_;  // guarded by mu_
  bool sign_pending_ = false;                          // guarded by mu_: an unsigned tail exists
  std::chrono::steady_clock::time_point sign_due_;     // guarded by mu_

  // Only the current leader touches these (one leader at a time).
  std::map<std::string, TenantState> tenants_;
  std::set<std::string> unsigned_;  // tenants with an unsigned tail
  std::atomic<uint64_t> commits_{0}, events_{0}, syncs_{0}, signatures_{0};
  std::atomic<int> active_{0};  // callers inside Append / Prepare
  size_t last_batch_ = 0;       // leader only
  WriteBatch wb_;
  std::thread background_;
};

// Checks the whole trail of one tenant: every record's frame and checksum,
// sequence numbers, tenant, stored leaf hash, the hash chain, every signed
// tree head (latest, head log, checkpoints) against the recomputed Merkle
// root, and that nothing the newest signed head covers is missing. Events
// after the newest signed head (the unsigned tail) are checked for frame,
// sequence and chain and counted in VerifyResult::unsigned_events; they are
// not an error. On the first problem returns DataLoss whose message starts with
// "tenant T: event seq N:" naming the first bad event (FirstBadSeq parses it).
Result<VerifyResult> VerifyTrail(AuditLogStore& store, const TenantId& tenant,
                                 const crypto::Ed25519Verifier& verifier);
// The same with keys rotated: every head signed by one of `keys`, in order
// (TreeHeadKeys). InvalidArgument when `keys` is empty.
Result<VerifyResult> VerifyTrail(AuditLogStore& store, const TenantId& tenant, TreeHeadKeys keys);
// The N of "event seq N" in a VerifyTrail error; nullopt if none.
std::optional<uint64_t> FirstBadSeq(const Status& status);

// Checks a checkpoint's signature and that its compact range folds to its root.
Status VerifyCheckpoint(const Checkpoint& cp, const crypto::Ed25519Verifier& verifier);
Status VerifyCheckpoint(const Checkpoint& cp, TreeHeadKeys keys);  // signed by any of them

// A signed tree head kept outside the database by a witness (`phigate audit
// checkpoint` prints it): checks its signature, and that the trail
// VerifyTrail verified as `verified` contains it — as many events at least,
// and the root of its first tree_size events, from the stored Merkle nodes
// (which VerifyTrail checked against the events), equal to the witnessed
// root. This is what catches a trail whose heads were rolled back and whose
// later events were then rewritten or dropped: the store alone cannot.
// DataLoss on a mismatch; FailedPrecondition when the head is older than the
// retention cut and its nodes are gone (it cannot be checked).
Status CheckWitnessedHead(AuditLogStore& store, const SignedTreeHead& witnessed,
                          const VerifyResult& verified, const crypto::Ed25519Verifier& verifier);
Status CheckWitnessedHead(AuditLogStore& store, const SignedTreeHead& witnessed,
                          const VerifyResult& verified, TreeHeadKeys keys);  // any of them
// One line of `phigate audit checkpoint` output (JSON: tenant, tree_size,
// root, last_leaf, timestamp, signature, public_key), and its parser.
// InvalidArgument when malformed.
std::string WitnessedHeadJson(const SignedTreeHead& head, std::string_view raw_public_key);
Result<SignedTreeHead> ParseWitnessedHead(std::string_view json_line);

}  // namespace phigate::audit

#endif  // PHIGATE_AUDIT_AUDIT_LOG_H_
