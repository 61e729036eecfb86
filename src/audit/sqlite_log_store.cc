// SQLite backend of AuditLogStore: WAL mode, synchronous=NORMAL (a commit is
// in the WAL file before it returns, so it survives a crash of the process;
// Sync() fsyncs the WAL for power loss) or synchronous=FULL when every commit
// must be fsynced. One connection writes, another reads, so verification and
// queries do not wait for the writer (WAL readers see the last commit). WAL
// checkpoints run on a thread of their own (CheckpointLoop), not inside the
// commit that crosses the threshold.
#include <fcntl.h>
#include <sqlite3.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <condition_variable>
#include <cstring>
#include <mutex>
#include <thread>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"
#include "phigate/audit/log_store.h"

namespace phigate::audit {
namespace {

constexpr char kSchema[] = R"sql(
CREATE TABLE IF NOT EXISTS {p}events (
  tenant TEXT NOT NULL, seq INTEGER NOT NULL, time_us INTEGER NOT NULL,
  record BLOB NOT NULL, leaf BLOB NOT NULL, nodes BLOB NOT NULL DEFAULT x'',
  PRIMARY KEY (tenant, seq)) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS {p}events_time ON {p}events (tenant, time_us);
CREATE TABLE IF NOT EXISTS {p}subject_buckets (
  tenant TEXT NOT NULL, bucket INTEGER NOT NULL, subject BLOB NOT NULL, seq INTEGER NOT NULL,
  PRIMARY KEY (tenant, bucket, subject, seq)) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS {p}nodes (
  tenant TEXT NOT NULL, level INTEGER NOT NULL, idx INTEGER NOT NULL, hash BLOB NOT NULL,
  PRIMARY KEY (tenant, level, idx)) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS {p}heads (
  tenant TEXT PRIMARY KEY, tree_size INTEGER NOT NULL, root BLOB NOT NULL,
  last_leaf BLOB NOT NULL, time_us INTEGER NOT NULL, signature BLOB NOT NULL);
CREATE TABLE IF NOT EXISTS {p}head_log (
  tenant TEXT NOT NULL, tree_size INTEGER NOT NULL, root BLOB NOT NULL,
  last_leaf BLOB NOT NULL, time_us INTEGER NOT NULL, signature BLOB NOT NULL,
  PRIMARY KEY (tenant, tree_size)) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS {p}checkpoints (
  id INTEGER PRIMARY KEY, tenant TEXT NOT NULL, tree_size INTEGER NOT NULL, root BLOB NOT NULL,
  last_leaf BLOB NOT NULL, time_us INTEGER NOT NULL, signature BLOB NOT NULL,
  compact BLOB NOT NULL, cut INTEGER NOT NULL);
)sql";

Status SqlError(sqlite3* db, std::string_view what) {
  // SQLite messages name tables and constraints, never bound values.
  return absl::UnavailableError(
      absl::StrCat("audit sqlite: ", ToAbsl(what), ": ", db ? sqlite3_errmsg(db) : "no handle"));
}

class Stmt {
 public:
  Stmt() = default;
  Stmt(const Stmt&) = delete;
  Stmt& operator=(const Stmt&) = delete;
  ~Stmt() { sqlite3_finalize(s_); }
  Status Prepare(sqlite3* db, const std::string& sql) {
    db_ = db;
    if (sqlite3_prepare_v2(db, sql.c_str(), -1, &s_, nullptr) != SQLITE_OK) {
      return SqlError(db, "prepare");
    }
    return absl::OkStatus();
  }
  sqlite3_stmt* get() { return s_; }
  void Reset() {
    sqlite3_reset(s_);
    sqlite3_clear_bindings(s_);
  }
  void Text(int i, const std::string& v) {
    sqlite3_bind_text(s_, i, v.data(), static_cast<int>(v.size()), SQLITE_STATIC);
  }
  void Blob(int i, std::string_view v) {
    sqlite3_bind_blob(s_, i, v.data(), static_cast<int>(v.size()), SQLITE_STATIC);
  }
  void Int(int i, int64_t v) { sqlite3_bind_int64(s_, i, v); }
  std::string_view ColBlob(int i) {
    const void* p = sqlite3_column_blob(s_, i);
    return std::string_view(static_cast<const char*>(p),
                            static_cast<size_t>(sqlite3_column_bytes(s_, i)));
  }
  int64_t ColInt(int i) { return sqlite3_column_int64(s_, i); }
  Status Run(std::string_view what) {
    const int rc = sqlite3_step(s_);
    Reset();
    if (rc != SQLITE_DONE) return SqlError(db_, what);
    return absl::OkStatus();
  }

 private:
  sqlite3* db_ = nullptr;
  sqlite3_stmt* s_ = nullptr;
};

Result<Hash> ColHash(Stmt& s, int i) { return HashFromBytes(s.ColBlob(i)); }

// Subject index entries are keyed by (tenant, seq >> 8, subject, seq): a
// group commit's entries then land in the few pages of the current bucket
// instead of one random page each across the whole index (each dirty page is
// a 4 KiB WAL frame per commit). A lookup probes each bucket.
constexpr int kSubjectBucketBits = 8;  // also spelled ">> 8" in the SQL below

class SqliteStore final : public AuditLogStore {
 public:
  static Result<std::unique_ptr<AuditLogStore>> Open(const std::string& path,
                                                     const AuditStoreOptions& options) {
    auto store = std::unique_ptr<SqliteStore>(new SqliteStore(path, options.table_prefix));
    PHIGATE_RETURN_IF_ERROR(store->Init(options));
    return std::unique_ptr<AuditLogStore>(std::move(store));
  }
  ~SqliteStore() override {
    if (checkpointer_.joinable()) {
      {
        std::lock_guard<std::mutex> lock(ckmu_);
        ck_stop_ = true;
      }
      ckcv_.notify_one();
      checkpointer_.join();
    }
    sqlite3_close_v2(cdb_);
    sqlite3_close_v2(wdb_);
    sqlite3_close_v2(rdb_);
  }

  Status Commit(const WriteBatch& batch) override {
    { std::lock_guard<std::mutex> turn(turnstile_); }  // see CheckpointWal
    std::lock_guard<std::mutex> lock(wmu_);
    PHIGATE_RETURN_IF_ERROR(Exec(wdb_, "BEGIN IMMEDIATE"));
    Status s = CommitLocked(batch);
    if (!s.ok()) {
      Exec(wdb_, "ROLLBACK").IgnoreError();  // the batch error is the one to report
      return s;
    }
    return Exec(wdb_, "COMMIT");
  }

  Status Sync() override {
    // With synchronous=NORMAL the WAL is not fsynced at commit. An fdatasync
    // of the WAL file (any descriptor of the same inode; the file's size is
    // synced with its data when it grew) makes every commit in it durable.
    // The database file needs none: a checkpoint fsyncs it itself before the
    // WAL may start again. Without a WAL file (a file system where SQLite
    // could not enter WAL mode) the commits are in the database file: sync it.
    const std::string wal = path_ + "-wal";
    int fd = ::open(wal.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) fd = ::open(path_.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) return absl::OkStatus();  // no file yet: nothing to sync
    const int rc = ::fdatasync(fd);
    ::close(fd);
    if (rc != 0) return absl::UnavailableError("audit sqlite: fsync failed");
    return absl::OkStatus();
  }

  Result<std::vector<TenantId>> Tenants() override {
    std::lock_guard<std::mutex> lock(rmu_);
    Stmt s;
    PHIGATE_RETURN_IF_ERROR(s.Prepare(
        rdb_, T("SELECT tenant FROM {p}heads UNION SELECT tenant FROM {p}checkpoints UNION "
                "SELECT tenant FROM {p}head_log UNION SELECT DISTINCT tenant FROM {p}events "
                "ORDER BY 1")));
    std::vector<TenantId> out;
    int rc;
    while ((rc = sqlite3_step(s.get())) == SQLITE_ROW) {
      out.emplace_back(reinterpret_cast<const char*>(sqlite3_column_text(s.get(), 0)));
    }
    if (rc != SQLITE_DONE) return SqlError(rdb_, "tenants");
    return out;
  }

  Result<std::optional<SignedTreeHead>> LatestHead(const TenantId& tenant) override {
    std::lock_guard<std::mutex> lock(rmu_);
    if (!latest_stmt_.get()) {
      PHIGATE_RETURN_IF_ERROR(latest_stmt_.Prepare(
          rdb_, T("SELECT tree_size, root, last_leaf, time_us, signature FROM {p}heads "
                  "WHERE tenant = ?")));
    }
    Stmt& s = latest_stmt_;
    s.Text(1, tenant.value());
    const int rc = sqlite3_step(s.get());
    if (rc == SQLITE_DONE) {
      s.Reset();
      return std::optional<SignedTreeHead>();
    }
    if (rc != SQLITE_ROW) {
      s.Reset();
      return SqlError(rdb_, "latest head");
    }
    auto h = ReadHead(s, tenant, 0);
    s.Reset();
    if (!h.ok()) return h.status();
    return std::optional<SignedTreeHead>(*std::move(h));
  }

  Result<std::vector<SignedTreeHead>> HeadLog(const TenantId& tenant) override {
    std::lock_guard<std::mutex> lock(rmu_);
    Stmt s;
    PHIGATE_RETURN_IF_ERROR(
        s.Prepare(rdb_, T("SELECT tree_size, root, last_leaf, time_us, signature FROM {p}head_log "
                          "WHERE tenant = ? ORDER BY tree_size")));
    s.Text(1, tenant.value());
    std::vector<SignedTreeHead> out;
    int rc;
    while ((rc = sqlite3_step(s.get())) == SQLITE_ROW) {
      PHIGATE_ASSIGN_OR_RETURN(SignedTreeHead h, ReadHead(s, tenant, 0));
      out.push_back(std::move(h));
    }
    if (rc != SQLITE_DONE) return SqlError(rdb_, "head log");
    return out;
  }

  Status Scan(const TenantId& tenant, const ScanOptions& options,
              const std::function<Status(const RecordView&)>& fn) override {
    // Own connection per scan: fn may call back into the store (GetNodes).
    sqlite3* db = nullptr;
    if (sqlite3_open_v2(path_.c_str(), &db, SQLITE_OPEN_READONLY | SQLITE_OPEN_NOMUTEX, nullptr) !=
        SQLITE_OK) {
      Status st = SqlError(db, "open for scan");
      sqlite3_close_v2(db);
      return st;
    }
    sqlite3_busy_timeout(db, 10000);
    // Long sequential reads (verify, export): map the file instead of a
    // pread per page.
    Exec(db, "PRAGMA mmap_size=1073741824").IgnoreError();  // an optimisation only
    Status st = ScanOn(db, tenant, options, fn);
    sqlite3_close_v2(db);
    return st;
  }

  Status ScanSubjects(const TenantId& tenant, uint64_t from_seq, uint64_t to_seq,
                      const std::function<Status(uint64_t, std::string_view)>& fn) override {
    if (from_seq >= to_seq || to_seq > kMaxSeq) {
      return absl::InvalidArgumentError("audit store: bad seq range");
    }
    // (seq, subject), sorted below: the key's order is (bucket, subject, seq),
    // and a sort in SQL cost more than this one.
    // Unsigned bytes: the records' subjects are sorted as unsigned bytes.
    std::vector<std::pair<uint64_t, std::array<uint8_t, 33>>> rows;  // fn runs outside the lock
    {
      std::lock_guard<std::mutex> lock(rmu_);
      Stmt s;
      // The key is (tenant, bucket, subject, seq): a range of buckets, then
      // the exact seqs.
      PHIGATE_RETURN_IF_ERROR(s.Prepare(
          rdb_, T("SELECT seq, subject FROM {p}subject_buckets WHERE tenant = ?1 AND bucket >= ?2 "
                  "AND bucket <= ?3 AND seq >= ?4 AND seq < ?5")));
      s.Text(1, tenant.value());
      s.Int(2, static_cast<int64_t>(from_seq >> kSubjectBucketBits));
      s.Int(3, static_cast<int64_t>((to_seq - 1) >> kSubjectBucketBits));
      s.Int(4, static_cast<int64_t>(from_seq));
      s.Int(5, static_cast<int64_t>(to_seq));
      int rc;
      while ((rc = sqlite3_step(s.get())) == SQLITE_ROW) {
        // [32] = 1 for a 32-byte subject; a damaged row of another length is
        // passed on empty (verify reports it as a subject the record lacks).
        std::array<uint8_t, 33> b{};
        const std::string_view v = s.ColBlob(1);
        if (v.size() == 32) {
          std::memcpy(b.data(), v.data(), 32);
          b[32] = 1;
        }
        rows.emplace_back(static_cast<uint64_t>(s.ColInt(0)), b);
      }
      if (rc != SQLITE_DONE) return SqlError(rdb_, "scan subjects");
    }
    std::sort(rows.begin(), rows.end());
    for (const auto& [seq, b] : rows) {
      PHIGATE_RETURN_IF_ERROR(
          fn(seq, std::string_view(reinterpret_cast<const char*>(b.data()), b[32] ? 32 : 0)));
    }
    return absl::OkStatus();
  }

  Result<std::vector<Hash>> GetNodes(const TenantId& tenant, std::span<const NodeId> ids) override {
    std::lock_guard<std::mutex> lock(rmu_);
    if (!leaf_stmt_.get()) {
      PHIGATE_RETURN_IF_ERROR(
          leaf_stmt_.Prepare(rdb_, T("SELECT leaf FROM {p}events WHERE tenant = ? AND seq = ?")));
      // A node is in the row of its completing leaf, or (after retention
      // dropped that row, or in a trail from before events.nodes) in nodes.
      PHIGATE_RETURN_IF_ERROR(node_stmt_.Prepare(
          rdb_, T("SELECT COALESCE((SELECT substr(nodes, (?2 - 1) * 32 + 1, 32) FROM {p}events "
                  "WHERE tenant = ?1 AND seq = ?4 AND length(nodes) >= ?2 * 32), "
                  "(SELECT hash FROM {p}nodes WHERE tenant = ?1 AND level = ?2 AND idx = ?3))")));
    }
    // One read transaction so all nodes come from the same snapshot.
    PHIGATE_RETURN_IF_ERROR(Exec(rdb_, "BEGIN"));
    std::vector<Hash> out;
    out.reserve(ids.size());
    Status st;
    for (const NodeId& id : ids) {
      Stmt& s = id.level == 0 ? leaf_stmt_ : node_stmt_;
      s.Text(1, tenant.value());
      if (id.level == 0) {
        s.Int(2, static_cast<int64_t>(id.index));
      } else {
        s.Int(2, id.level);
        s.Int(3, static_cast<int64_t>(id.index));
        s.Int(4, static_cast<int64_t>(CompletingLeaf(id)));
      }
      int rc = sqlite3_step(s.get());
      if (rc == SQLITE_ROW && sqlite3_column_type(s.get(), 0) == SQLITE_NULL) rc = SQLITE_DONE;
      if (rc == SQLITE_ROW) {
        auto h = ColHash(s, 0);
        s.Reset();
        if (!h.ok()) {
          st = h.status();
          break;
        }
        out.push_back(*h);
        continue;
      }
      s.Reset();
      st = rc == SQLITE_DONE ? absl::NotFoundError(absl::StrCat("audit sqlite: node ", id.level,
                                                                "/", id.index, " missing"))
                             : SqlError(rdb_, "get node");
      break;
    }
    Exec(rdb_, "COMMIT").IgnoreError();  // read-only transaction
    if (!st.ok()) return st;
    return out;
  }

  Status PutCheckpoint(const Checkpoint& cp) override {
    std::lock_guard<std::mutex> lock(wmu_);
    return InsertCheckpoint(cp);
  }

  Result<std::vector<Checkpoint>> Checkpoints(const TenantId& tenant) override {
    std::lock_guard<std::mutex> lock(rmu_);
    Stmt s;
    PHIGATE_RETURN_IF_ERROR(
        s.Prepare(rdb_, T("SELECT tree_size, root, last_leaf, time_us, signature, compact, cut "
                          "FROM {p}checkpoints WHERE tenant = ? ORDER BY tree_size, id")));
    s.Text(1, tenant.value());
    std::vector<Checkpoint> out;
    int rc;
    while ((rc = sqlite3_step(s.get())) == SQLITE_ROW) {
      Checkpoint cp;
      PHIGATE_ASSIGN_OR_RETURN(cp.head, ReadHead(s, tenant, 0));
      const std::string_view compact = s.ColBlob(5);
      if (compact.size() % 32 != 0) return absl::DataLossError("audit sqlite: bad compact range");
      for (size_t i = 0; i < compact.size(); i += 32) {
        PHIGATE_ASSIGN_OR_RETURN(Hash h, HashFromBytes(compact.substr(i, 32)));
        cp.compact_range.push_back(h);
      }
      cp.cut = s.ColInt(6) != 0;
      out.push_back(std::move(cp));
    }
    if (rc != SQLITE_DONE) return SqlError(rdb_, "checkpoints");
    return out;
  }

  Status DropBefore(const Checkpoint& cut) override {
    if (!cut.cut) return absl::InvalidArgumentError("audit store: not a retention checkpoint");
    std::lock_guard<std::mutex> lock(wmu_);
    PHIGATE_RETURN_IF_ERROR(Exec(wdb_, "BEGIN IMMEDIATE"));
    Status s = InsertCheckpoint(cut);
    if (s.ok()) s = ArchiveNodes(cut.head.tenant, cut.head.tree_size);
    for (const char* sql : {"DELETE FROM {p}events WHERE tenant = ? AND seq < ?",
                            "DELETE FROM {p}subject_buckets WHERE tenant = ?1 AND "
                            "bucket <= (?2 >> 8) AND seq < ?2"}) {
      if (!s.ok()) break;
      Stmt d;
      s = d.Prepare(wdb_, T(sql));
      if (!s.ok()) break;
      d.Text(1, cut.head.tenant.value());
      d.Int(2, static_cast<int64_t>(cut.head.tree_size));
      s = d.Run("retention delete");
    }
    if (!s.ok()) {
      Exec(wdb_, "ROLLBACK").IgnoreError();
      return s;
    }
    return Exec(wdb_, "COMMIT");
  }

 private:
  SqliteStore(std::string path, std::string prefix)
      : path_(std::move(path)), prefix_(std::move(prefix)) {}

  std::string T(std::string_view sql) const {
    return absl::StrReplaceAll(ToAbsl(sql), {{"{p}", prefix_}});
  }

  static Status Exec(sqlite3* db, const std::string& sql) {
    char* err = nullptr;
    if (sqlite3_exec(db, sql.c_str(), nullptr, nullptr, &err) != SQLITE_OK) {
      Status s = absl::UnavailableError(absl::StrCat("audit sqlite: ", err ? err : "exec failed"));
      sqlite3_free(err);
      return s;
    }
    return absl::OkStatus();
  }

  Status Init(const AuditStoreOptions& options) {
    for (sqlite3** db : {&wdb_, &rdb_}) {
      if (sqlite3_open_v2(path_.c_str(), db,
                          SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX,
                          nullptr) != SQLITE_OK) {
        return SqlError(*db, "open");
      }
      sqlite3_busy_timeout(*db, 10000);
    }
    PHIGATE_RETURN_IF_ERROR(Exec(wdb_, "PRAGMA journal_mode=WAL"));
    PHIGATE_RETURN_IF_ERROR(Exec(wdb_, options.fsync_every_commit ? "PRAGMA synchronous=FULL"
                                                                  : "PRAGMA synchronous=NORMAL"));
    // A larger page cache and fewer, larger WAL checkpoints: the writer
    // appends to a few B-trees in key order, so this is mostly sequential I/O.
    PHIGATE_RETURN_IF_ERROR(Exec(wdb_, "PRAGMA cache_size=-65536"));
    PHIGATE_RETURN_IF_ERROR(Exec(wdb_, T(kSchema)));
    {
      // Trails created before events.nodes existed: add the column.
      Stmt probe;
      if (!probe.Prepare(wdb_, T("SELECT nodes FROM {p}events LIMIT 0")).ok()) {
        PHIGATE_RETURN_IF_ERROR(
            Exec(wdb_, T("ALTER TABLE {p}events ADD COLUMN nodes BLOB NOT NULL DEFAULT x''")));
      }
    }
    PHIGATE_RETURN_IF_ERROR(event_stmt_.Prepare(
        wdb_, T("INSERT INTO {p}events (tenant, seq, time_us, record, leaf, nodes) "
                "VALUES (?,?,?,?,?,?)")));
    PHIGATE_RETURN_IF_ERROR(subject_stmt_.Prepare(
        wdb_, T("INSERT OR IGNORE INTO {p}subject_buckets (tenant, bucket, subject, seq) "
                "VALUES (?,?,?,?)")));
    PHIGATE_RETURN_IF_ERROR(node_insert_stmt_.Prepare(
        wdb_, T("INSERT OR REPLACE INTO {p}nodes (tenant, level, idx, hash) VALUES (?,?,?,?)")));
    PHIGATE_RETURN_IF_ERROR(head_stmt_.Prepare(
        wdb_, T("INSERT OR REPLACE INTO {p}heads (tenant, tree_size, root, last_leaf, time_us, "
                "signature) VALUES (?,?,?,?,?,?)")));
    PHIGATE_RETURN_IF_ERROR(head_log_stmt_.Prepare(
        wdb_, T("INSERT OR REPLACE INTO {p}head_log (tenant, tree_size, root, last_leaf, "
                "time_us, signature) VALUES (?,?,?,?,?,?)")));
    return StartCheckpointer(options);
  }

  // SQLite's automatic checkpoint runs inside the commit that takes the WAL
  // past its threshold: that commit (and every request waiting for the
  // audit trail) waits while thousands of pages are copied and two files
  // fsynced. Instead the WAL hook (which replaces the automatic checkpoint
  // on the write connection) wakes a thread that checkpoints through a
  // connection of its own while commits go on. A checkpoint that commits
  // overtook copies the few frames they added with commits held back, so it
  // completes and the next commit starts the WAL again from its beginning
  // (a WAL that never completes a checkpoint grows without bound).
  Status StartCheckpointer(const AuditStoreOptions& options) {
    if (options.sqlite_checkpoint_frames < 1) {
      return absl::InvalidArgumentError(
          "audit sqlite: sqlite_checkpoint_frames must be at least 1");
    }
    if (sqlite3_open_v2(path_.c_str(), &cdb_, SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX,
                        nullptr) != SQLITE_OK) {
      return SqlError(cdb_, "open");
    }
    sqlite3_busy_timeout(cdb_, 10000);
    // The checkpoint's fsyncs follow the connection's setting: the writer's.
    PHIGATE_RETURN_IF_ERROR(Exec(cdb_, options.fsync_every_commit ? "PRAGMA synchronous=FULL"
                                                                  : "PRAGMA synchronous=NORMAL"));
    checkpoint_frames_ = options.sqlite_checkpoint_frames;
    sqlite3_wal_hook(wdb_, &SqliteStore::OnWalCommit, this);
    checkpointer_ = std::thread([this] { CheckpointLoop(); });
    return absl::OkStatus();
  }

  // Called by SQLite on the writer's thread after each commit, with the
  // number of frames now in the WAL.
  static int OnWalCommit(void* self, sqlite3*, const char*, int frames) {
    auto* store = static_cast<SqliteStore*>(self);
    store->wal_frames_.store(frames, std::memory_order_relaxed);
    if (frames >= store->checkpoint_frames_) {
      {
        std::lock_guard<std::mutex> lock(store->ckmu_);
        store->ck_due_ = true;
      }
      store->ckcv_.notify_one();
    }
    return SQLITE_OK;
  }

  void CheckpointLoop() {
    std::unique_lock<std::mutex> lock(ckmu_);
    while (true) {
      ckcv_.wait(lock, [&] { return ck_due_ || ck_stop_; });
      if (ck_stop_) return;
      ck_due_ = false;
      lock.unlock();
      CheckpointWal();
      lock.lock();
    }
  }

  void CheckpointWal() {
    int log = 0, copied = 0;
    // An error (a busy file) leaves the WAL as it is; the next commit past
    // the threshold tries again.
    if (sqlite3_wal_checkpoint_v2(cdb_, nullptr, SQLITE_CHECKPOINT_PASSIVE, &log, &copied) !=
        SQLITE_OK) {
      return;
    }
    // The WAL starts again from its beginning only when a write transaction
    // begins with every frame copied. Commits that landed meanwhile left a
    // tail: copy it with commits held back (a few frames, so a short wait).
    // Not when frames stayed behind (a reader still reads an older snapshot):
    // holding commits back would not get past them either.
    if (copied < log || wal_frames_.load(std::memory_order_relaxed) <= log) return;
    // Committers pass the turnstile before taking wmu_, so a busy writer
    // cannot keep taking wmu_ again ahead of this thread.
    std::unique_lock<std::mutex> turn(turnstile_);
    std::lock_guard<std::mutex> writer(wmu_);
    turn.unlock();
    sqlite3_wal_checkpoint_v2(cdb_, nullptr, SQLITE_CHECKPOINT_PASSIVE, &log, &copied);
  }

  Status CommitLocked(const WriteBatch& batch) {
    // Each Merkle node is stored in the row of the leaf that completed it,
    // level by level (no node rows, no node B-tree pages per commit). The
    // writer lists a row's nodes right after the row, in level order.
    size_t next_node = 0;
    std::string nodes;
    for (const StoredRow& r : batch.rows) {
      nodes.clear();
      while (next_node < batch.nodes.size() && batch.nodes[next_node].tenant == r.tenant &&
             CompletingLeaf(batch.nodes[next_node].node.id) == r.seq) {
        const Node& n = batch.nodes[next_node++].node;
        if (nodes.size() != (n.id.level - 1) * size_t{32}) {
          return absl::InternalError("audit sqlite: Merkle nodes out of order in a batch");
        }
        nodes.append(HashBytes(n.hash));
      }
      event_stmt_.Text(1, r.tenant.value());
      event_stmt_.Int(2, static_cast<int64_t>(r.seq));
      event_stmt_.Int(3, r.time_us);
      event_stmt_.Blob(4, r.record);
      event_stmt_.Blob(5, HashBytes(r.leaf));
      event_stmt_.Blob(6, nodes);
      PHIGATE_RETURN_IF_ERROR(event_stmt_.Run("insert event"));
      for (const BlindIndex& b : r.subjects) {
        subject_stmt_.Text(1, r.tenant.value());
        subject_stmt_.Int(2, static_cast<int64_t>(r.seq >> kSubjectBucketBits));
        subject_stmt_.Blob(3, std::string_view(reinterpret_cast<const char*>(b.data()), b.size()));
        subject_stmt_.Int(4, static_cast<int64_t>(r.seq));
        PHIGATE_RETURN_IF_ERROR(subject_stmt_.Run("insert subject"));
      }
    }
    if (next_node != batch.nodes.size()) {
      return absl::InternalError("audit sqlite: a Merkle node has no row in its batch");
    }
    for (const auto* list : {&batch.heads, &batch.head_log}) {
      Stmt& s = list == &batch.heads ? head_stmt_ : head_log_stmt_;
      for (const SignedTreeHead& h : *list) {
        BindHead(s, h);
        PHIGATE_RETURN_IF_ERROR(s.Run("insert head"));
      }
    }
    return absl::OkStatus();
  }

  // Copies the Merkle nodes kept in the rows below `end` into the nodes
  // table (retention drops those rows; proofs still need the nodes).
  Status ArchiveNodes(const TenantId& tenant, uint64_t end) {
    Stmt q;
    PHIGATE_RETURN_IF_ERROR(q.Prepare(wdb_, T("SELECT seq, nodes FROM {p}events WHERE tenant = ? "
                                              "AND seq < ? AND length(nodes) > 0")));
    q.Text(1, tenant.value());
    q.Int(2, static_cast<int64_t>(end));
    int rc;
    while ((rc = sqlite3_step(q.get())) == SQLITE_ROW) {
      const auto seq = static_cast<uint64_t>(q.ColInt(0));
      const std::string_view nodes = q.ColBlob(1);
      for (uint32_t level = 1; level * size_t{32} <= nodes.size(); ++level) {
        node_insert_stmt_.Text(1, tenant.value());
        node_insert_stmt_.Int(2, level);
        node_insert_stmt_.Int(3, static_cast<int64_t>(((seq + 1) >> level) - 1));
        node_insert_stmt_.Blob(4, nodes.substr((level - 1) * size_t{32}, 32));
        PHIGATE_RETURN_IF_ERROR(node_insert_stmt_.Run("archive node"));
      }
    }
    if (rc != SQLITE_DONE) return SqlError(wdb_, "archive nodes");
    return absl::OkStatus();
  }

  static void BindHead(Stmt& s, const SignedTreeHead& h) {
    s.Text(1, h.tenant.value());
    s.Int(2, static_cast<int64_t>(h.tree_size));
    s.Blob(3, HashBytes(h.root));
    s.Blob(4, HashBytes(h.last_leaf));
    s.Int(5, h.timestamp_us);
    s.Blob(6, h.signature);
  }

  static Result<SignedTreeHead> ReadHead(Stmt& s, const TenantId& tenant, int col) {
    SignedTreeHead h;
    h.tenant = tenant;
    h.tree_size = static_cast<uint64_t>(s.ColInt(col));
    PHIGATE_ASSIGN_OR_RETURN(h.root, ColHash(s, col + 1));
    PHIGATE_ASSIGN_OR_RETURN(h.last_leaf, ColHash(s, col + 2));
    h.timestamp_us = s.ColInt(col + 3);
    h.signature = std::string(s.ColBlob(col + 4));
    return h;
  }

  Status InsertCheckpoint(const Checkpoint& cp) {
    Stmt s;
    PHIGATE_RETURN_IF_ERROR(
        s.Prepare(wdb_, T("INSERT INTO {p}checkpoints (tenant, tree_size, root, last_leaf, "
                          "time_us, signature, compact, cut) VALUES (?,?,?,?,?,?,?,?)")));
    BindHead(s, cp.head);
    std::string compact;
    for (const Hash& h : cp.compact_range) compact.append(HashBytes(h));
    s.Blob(7, compact);
    s.Int(8, cp.cut ? 1 : 0);
    return s.Run("insert checkpoint");
  }

  Status ScanOn(sqlite3* db, const TenantId& tenant, const ScanOptions& o,
                const std::function<Status(const RecordView&)>& fn) {
    Stmt s;
    std::string sql =
        "SELECT seq, time_us, record, leaf, nodes FROM {p}events WHERE tenant = ?1 AND seq >= ?2 "
        "AND time_us >= ?3 AND time_us < ?4 ORDER BY seq";
    if (o.subject) {
      // One index probe per bucket of 256 events, from the first bucket the
      // scan can reach to the last one written, then one lookup per match
      // (CROSS JOIN keeps the matches as the outer loop).
      sql =
          "WITH RECURSIVE b(x) AS (SELECT ?2 >> 8 UNION ALL SELECT x + 1 FROM b "
          "WHERE x < (SELECT max(seq) >> 8 FROM {p}events WHERE tenant = ?1)), "
          "m AS (SELECT s.seq AS seq FROM b JOIN {p}subject_buckets s ON s.tenant = ?1 "
          "AND s.bucket = b.x AND s.subject = ?5) "
          "SELECT e.seq, e.time_us, e.record, e.leaf, e.nodes FROM m CROSS JOIN {p}events e "
          "ON e.tenant = ?1 AND e.seq = m.seq WHERE e.seq >= ?2 AND e.time_us >= ?3 "
          "AND e.time_us < ?4 ORDER BY e.seq";
    }
    PHIGATE_RETURN_IF_ERROR(s.Prepare(db, T(sql)));
    s.Text(1, tenant.value());
    s.Int(2, static_cast<int64_t>(o.from_seq));
    s.Int(3, o.since_us);
    s.Int(4, o.until_us);
    if (o.subject) {
      s.Blob(5, std::string_view(reinterpret_cast<const char*>(o.subject->data()), 32));
    }
    int rc;
    while ((rc = sqlite3_step(s.get())) == SQLITE_ROW) {
      RecordView v;
      v.seq = static_cast<uint64_t>(s.ColInt(0));
      v.time_us = s.ColInt(1);
      v.record = s.ColBlob(2);
      const std::string_view leaf = s.ColBlob(3);
      if (leaf.size() == 32) {
        std::memcpy(v.leaf.data(), leaf.data(), 32);
      } else {
        v.leaf = Hash{};  // a damaged leaf column: Verify reports it
      }
      v.nodes = s.ColBlob(4);
      PHIGATE_RETURN_IF_ERROR(fn(v));
    }
    if (rc != SQLITE_DONE) return SqlError(db, "scan");
    return absl::OkStatus();
  }

  const std::string path_;
  const std::string prefix_;
  std::mutex wmu_;  // the write connection and its statements
  sqlite3* wdb_ = nullptr;
  Stmt event_stmt_, subject_stmt_, node_insert_stmt_, head_stmt_, head_log_stmt_;
  std::mutex rmu_;  // the read connection and its statements
  sqlite3* rdb_ = nullptr;
  Stmt leaf_stmt_, node_stmt_, latest_stmt_;
  sqlite3* cdb_ = nullptr;  // the checkpoint connection, used by checkpointer_ only
  std::mutex ckmu_;
  std::mutex turnstile_;  // CheckpointWal's turn at wmu_ (see there)
  std::condition_variable ckcv_;
  int checkpoint_frames_ = 0;
  std::atomic<int> wal_frames_{0};  // frames in the WAL after the last commit
  bool ck_due_ = false;             // a commit took the WAL past checkpoint_frames_
  bool ck_stop_ = false;            // the destructor is waiting for checkpointer_
  std::thread checkpointer_;
};

}  // namespace

Result<std::unique_ptr<AuditLogStore>> OpenSqliteAuditLogStore(const std::string& path,
                                                               const AuditStoreOptions& options) {
  return SqliteStore::Open(path, options);
}

}  // namespace phigate::audit
