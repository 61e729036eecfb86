// AuditLogStore: the audit trail's own persistence seam.
//
// The generic Store of include/phigate/store/ was not ready when the audit
// trail was written, so the trail has its own small storage layer (issue #5
// allows this): an in-memory store for tests, SQLite in WAL mode (the embedded
// default) and PostgreSQL (libpq) for several gateway replicas. Every backend
// passes the same conformance suite (tests/audit/log_store_test.cc).
//
// URLs: "memory:", "sqlite:///var/lib/phigate/audit.db" (or a plain path),
// "postgres://..." / "postgresql://...".
//
// What is stored per tenant: the framed records (record.h) with their leaf
// hashes and sequence numbers, the subject blind indexes of each record (for
// accounting of disclosures), every complete Merkle subtree hash, the latest
// signed tree head, a sparse log of older signed tree heads, and checkpoints.
// Nothing stored holds PHI: records are PHI-free by construction.
//
// Thread safety: every method may be called from any thread; Commit() calls
// are serialised by the caller (AuditLog: one group-commit leader at a time).
#ifndef PHIGATE_AUDIT_LOG_STORE_H_
#define PHIGATE_AUDIT_LOG_STORE_H_

#include <cstdint>
#include <functional>
#include <limits>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "phigate/audit/event.h"
#include "phigate/audit/merkle.h"
#include "phigate/core/ids.h"
#include "phigate/core/status.h"

namespace phigate::audit {

// A signed tree head (STH): the tenant's tree of `tree_size` records has this
// root, and its last record has leaf hash `last_leaf`. Signed with Ed25519
// over SignedBytes() (docs/formats/audit_log.md).
struct SignedTreeHead {
  TenantId tenant;
  uint64_t tree_size = 0;
  Hash root{};
  Hash last_leaf{};  // zero when tree_size == 0
  int64_t timestamp_us = 0;
  std::string signature;  // 64 bytes
  std::string SignedBytes() const;
  // The bytes a retention cut's head is signed over: SignedBytes() under its
  // own domain ("phigate-audit-cut-v1"), so no other signed head — a witness
  // checkpoint, a head of the trail — can be turned into a cut.
  std::string CutSignedBytes() const;
  friend bool operator==(const SignedTreeHead&, const SignedTreeHead&) = default;
};

// A signed tree head plus the compact range of the tree at that size, so the
// trail can be verified onwards without the records before it. `cut` marks a
// retention checkpoint: records with seq < head.tree_size were dropped.
struct Checkpoint {
  SignedTreeHead head;
  std::vector<Hash> compact_range;  // hashes of Decompose(0, head.tree_size)
  bool cut = false;
};

// Sequence numbers are stored as signed 64-bit integers.
inline constexpr uint64_t kMaxSeq = static_cast<uint64_t>(std::numeric_limits<int64_t>::max());

struct StoredRow {
  TenantId tenant;
  uint64_t seq = 0;
  int64_t time_us = 0;
  std::string record;  // framed record bytes
  Hash leaf{};
  std::vector<BlindIndex> subjects;
};

struct TenantNode {
  TenantId tenant;
  Node node;  // level >= 1 (level 0 are the rows' leaf hashes)
};

// Everything one group commit writes, in one transaction.
struct WriteBatch {
  std::vector<StoredRow> rows;
  std::vector<TenantNode> nodes;
  std::vector<SignedTreeHead> heads;     // replaces each tenant's latest head
  std::vector<SignedTreeHead> head_log;  // appended to the sparse head log
};

struct RecordView {
  uint64_t seq = 0;
  int64_t time_us = 0;
  std::string_view record;  // valid only during the callback
  Hash leaf{};
  // The hashes of the Merkle nodes this leaf completes, by level, as the row
  // stores them (valid only during the callback). Empty where the store keeps
  // them elsewhere (the memory store; rows written before the column): read
  // them with GetNodes.
  std::string_view nodes;
};

struct ScanOptions {
  uint64_t from_seq = 0;
  int64_t since_us = std::numeric_limits<int64_t>::min();  // time_us >= since_us
  int64_t until_us = std::numeric_limits<int64_t>::max();  // time_us < until_us
  std::optional<BlindIndex> subject;                       // only rows naming this subject
};

struct AuditStoreOptions {
  // SQLite: fsync every commit (synchronous=FULL) instead of WAL with
  // synchronous=NORMAL plus the writer's batched Sync().
  bool fsync_every_commit = false;
  // SQLite: checkpoint the WAL once it holds this many frames (pages). The
  // checkpoint runs on a thread of the store's own while commits go on, not
  // inside the commit that crossed the threshold. At least 1.
  int sqlite_checkpoint_frames = 8192;
  // Table name prefix (tests use a unique one per run), [a-z0-9_]*.
  std::string table_prefix = "audit_";
  // PostgreSQL: SET synchronous_commit = off (commit returns before the WAL
  // flush; the server flushes within 3 x wal_writer_delay). Off by default.
  bool pg_async_commit = false;
};

class AuditLogStore {
 public:
  virtual ~AuditLogStore() = default;

  static Result<std::unique_ptr<AuditLogStore>> Open(std::string_view url,
                                                     const AuditStoreOptions& options = {});

  // Writes the whole batch in one transaction, or nothing. OK means committed:
  // it survives a crash of this process (not necessarily a power loss: Sync()).
  virtual Status Commit(const WriteBatch& batch) = 0;
  // Makes every committed batch survive a power loss (fsync).
  virtual Status Sync() = 0;

  virtual Result<std::vector<TenantId>> Tenants() = 0;
  virtual Result<std::optional<SignedTreeHead>> LatestHead(const TenantId& tenant) = 0;
  virtual Result<std::vector<SignedTreeHead>> HeadLog(const TenantId& tenant) = 0;  // by size

  // Calls fn for each stored row of the tenant that matches, ascending seq;
  // stops at the first non-OK status from fn and returns it.
  virtual Status Scan(const TenantId& tenant, const ScanOptions& options,
                      const std::function<Status(const RecordView&)>& fn) = 0;

  // The subject index rows (accounting of disclosures) of the tenant's events
  // with from_seq <= seq < to_seq <= kMaxSeq, ascending by (seq, subject). `subject` is
  // the stored bytes (32 unless damaged); valid only during the callback. fn
  // must not call back into the store.
  virtual Status ScanSubjects(
      const TenantId& tenant, uint64_t from_seq, uint64_t to_seq,
      const std::function<Status(uint64_t seq, std::string_view subject)>& fn) = 0;

  // Hashes of the given nodes (level 0 = leaf hashes of the rows), in order.
  // NotFound when one is missing.
  virtual Result<std::vector<Hash>> GetNodes(const TenantId& tenant,
                                             std::span<const NodeId> ids) = 0;

  virtual Status PutCheckpoint(const Checkpoint& checkpoint) = 0;
  virtual Result<std::vector<Checkpoint>> Checkpoints(const TenantId& tenant) = 0;  // by size
  // In one transaction: stores `cut` (cut.cut must be true) and deletes the
  // tenant's rows (and their subject entries) with seq < cut.head.tree_size.
  // Merkle nodes are kept (they hold only hashes) so proofs still work.
  virtual Status DropBefore(const Checkpoint& cut) = 0;
};

std::unique_ptr<AuditLogStore> NewMemoryAuditLogStore();
Result<std::unique_ptr<AuditLogStore>> OpenSqliteAuditLogStore(const std::string& path,
                                                               const AuditStoreOptions& options);
Result<std::unique_ptr<AuditLogStore>> OpenPostgresAuditLogStore(const std::string& conninfo,
                                                                 const AuditStoreOptions& options);

}  // namespace phigate::audit

#endif  // PHIGATE_AUDIT_LOG_STORE_H_
