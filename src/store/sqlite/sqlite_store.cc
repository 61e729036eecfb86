#include "src/store/sqlite/sqlite_store.h"

#include <sqlite3.h>

#include <algorithm>
#include <map>
#include <set>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "phigate/store/sqlite_process.h"
#include "src/store/migrations.h"

namespace phigate::store::internal {
namespace {

constexpr char kSchemaSql[] =
#include "src/store/sqlite_schema.inc"
    ;

// Maps an SQLite result code to a Status. Messages name the operation and the
// code, never data.
Status SqliteError(int rc, std::string_view op) {
  const std::string msg =
      absl::StrCat("sqlite ", ToAbsl(op), " failed: ", sqlite3_errstr(rc), " (", rc, ")");
  switch (rc & 0xff) {
    case SQLITE_BUSY:
    case SQLITE_LOCKED:
      return absl::AbortedError(msg);
    case SQLITE_CORRUPT:
    case SQLITE_NOTADB:
      return absl::DataLossError(msg);
    case SQLITE_IOERR:
    case SQLITE_FULL:
    case SQLITE_CANTOPEN:
    case SQLITE_READONLY:
      return absl::UnavailableError(msg);
    case SQLITE_CONSTRAINT:
    case SQLITE_TOOBIG:
      return absl::InvalidArgumentError(msg);
    default:
      return absl::InternalError(msg);
  }
}

class Conn {
 public:
  explicit Conn(sqlite3* db) : db_(db) {}
  ~Conn() {
    for (auto& [_, s] : stmts_) sqlite3_finalize(s);
    sqlite3_close_v2(db_);
  }
  sqlite3* db() { return db_; }

  // The id of the space (tenant, ns) (schema migration 4); 0 when it does not
  // exist and `create` is false. Ids are cached: a space is never deleted, so
  // an id keeps naming the same pair, except one created in a transaction
  // that rolled back (ForgetSpaces).
  Result<int64_t> SpaceId(const std::string& tenant, std::string_view ns, bool create) {
    std::string name = absl::StrCat(tenant.size(), ":", tenant, ToAbsl(ns));
    if (auto it = spaces_.find(name); it != spaces_.end()) return it->second;
    PHIGATE_ASSIGN_OR_RETURN(sqlite3_stmt * s,
                             Stmt("SELECT id FROM phigate_spaces WHERE tenant=?1 AND ns=?2"));
    sqlite3_bind_text(s, 1, tenant.data(), static_cast<int>(tenant.size()), SQLITE_STATIC);
    sqlite3_bind_text(s, 2, ns.data(), static_cast<int>(ns.size()), SQLITE_STATIC);
    int rc = sqlite3_step(s);
    int64_t id = 0;
    if (rc == SQLITE_ROW) {
      id = sqlite3_column_int64(s, 0);
    } else if (rc != SQLITE_DONE) {
      return SqliteError(rc, "space lookup");
    }
    sqlite3_reset(s);
    if (id == 0 && create) {
      PHIGATE_ASSIGN_OR_RETURN(sqlite3_stmt * ins,
                               Stmt("INSERT INTO phigate_spaces(tenant,ns) VALUES(?1,?2)"));
      sqlite3_bind_text(ins, 1, tenant.data(), static_cast<int>(tenant.size()), SQLITE_STATIC);
      sqlite3_bind_text(ins, 2, ns.data(), static_cast<int>(ns.size()), SQLITE_STATIC);
      rc = sqlite3_step(ins);
      if (rc != SQLITE_DONE) return SqliteError(rc, "space insert");
      id = sqlite3_last_insert_rowid(db_);
    }
    if (id != 0) spaces_.emplace(std::move(name), id);
    return id;
  }
  // After a rollback: a space created in it no longer exists.
  void ForgetSpaces() { spaces_.clear(); }

  Status Exec(const char* sql, std::string_view op) {
    char* err = nullptr;
    const int rc = sqlite3_exec(db_, sql, nullptr, nullptr, &err);
    sqlite3_free(err);
    return rc == SQLITE_OK ? absl::OkStatus() : SqliteError(rc, op);
  }

  // A cached prepared statement, reset and with bindings cleared.
  Result<sqlite3_stmt*> Stmt(const char* sql) {
    auto it = stmts_.find(sql);
    if (it != stmts_.end()) {
      sqlite3_reset(it->second);
      sqlite3_clear_bindings(it->second);
      return it->second;
    }
    sqlite3_stmt* s = nullptr;
    const int rc = sqlite3_prepare_v3(db_, sql, -1, SQLITE_PREPARE_PERSISTENT, &s, nullptr);
    if (rc != SQLITE_OK) return SqliteError(rc, "prepare");
    stmts_[sql] = s;
    return s;
  }

 private:
  sqlite3* db_;
  std::map<const char*, sqlite3_stmt*> stmts_;
  std::map<std::string, int64_t, std::less<>> spaces_;
};

void BindText(sqlite3_stmt* s, int i, std::string_view v) {
  sqlite3_bind_text(s, i, v.data(), static_cast<int>(v.size()), SQLITE_STATIC);
}
void BindBlob(sqlite3_stmt* s, int i, std::string_view v) {
  // A zero-length blob must not be bound as NULL (the column is NOT NULL).
  sqlite3_bind_blob(s, i, v.empty() ? "" : v.data(), static_cast<int>(v.size()), SQLITE_STATIC);
}
std::string ColumnBytes(sqlite3_stmt* s, int i) {
  const void* p = sqlite3_column_blob(s, i);
  const int n = sqlite3_column_bytes(s, i);
  return p == nullptr ? std::string()
                      : std::string(static_cast<const char*>(p), static_cast<size_t>(n));
}

// ?1 is the space id of (tenant, ns) (Conn::SpaceId).
constexpr char kGet[] = "SELECT value, ts FROM phigate_records WHERE space=?1 AND key=?3";
constexpr char kPut[] =
    "INSERT INTO phigate_records(space,key,value,ts) VALUES(?1,?3,?4,?5) "
    "ON CONFLICT(space,key) DO UPDATE SET value=excluded.value, ts=excluded.ts";
constexpr char kPutIfAbsent[] =
    "INSERT OR IGNORE INTO phigate_records(space,key,value,ts) VALUES(?1,?3,?4,?5)";
constexpr char kDelete[] = "DELETE FROM phigate_records WHERE space=?1 AND key=?3";
constexpr char kReplaceIfEqual[] =
    "UPDATE phigate_records SET value=?4 WHERE space=?1 AND key=?3 AND value=?2";
constexpr char kScanBounded[] =
    "SELECT key, value, ts FROM phigate_records WHERE space=?1 AND key>=?3 AND "
    "key<?4 AND key>?5 ORDER BY key LIMIT ?6";
constexpr char kScanOpen[] =
    "SELECT key, value, ts FROM phigate_records WHERE space=?1 AND key>=?3 AND "
    "key>?5 ORDER BY key LIMIT ?6";
constexpr char kDeleteBounded[] =
    "DELETE FROM phigate_records WHERE space=?1 AND key>=?3 AND key<?4";
constexpr char kDeleteOpen[] = "DELETE FROM phigate_records WHERE space=?1 AND key>=?3";
constexpr char kDeleteOld[] = "DELETE FROM phigate_records WHERE space=?1 AND ts<?3";

// Indexes 0..n-1 ordered by key(i), ties by index (so the first occurrence comes first).
template <class KeyFn>
std::vector<size_t> SortedOrder(size_t n, KeyFn key) {
  std::vector<size_t> order(n);
  for (size_t i = 0; i < n; ++i) order[i] = i;
  std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) { return key(a) < key(b); });
  return order;
}

class SqliteTransaction : public Transaction {
 public:
  SqliteTransaction(Conn& conn, const std::string& tenant) : c_(conn), tenant_(tenant) {}

  Result<std::optional<Record>> Get(std::string_view ns, std::string_view key) override {
    PHIGATE_RETURN_IF_ERROR(ValidateKey("namespace", ns));
    PHIGATE_RETURN_IF_ERROR(ValidateKey("key", key));
    PHIGATE_ASSIGN_OR_RETURN(int64_t space, Space(ns, false));
    if (space == 0) return std::optional<Record>();
    return GetIn(space, key);
  }
  Result<std::vector<std::optional<Record>>> GetMany(std::string_view ns,
                                                     std::span<const std::string> keys) override {
    PHIGATE_RETURN_IF_ERROR(ValidateKey("namespace", ns));
    for (const auto& k : keys) PHIGATE_RETURN_IF_ERROR(ValidateKey("key", k));
    std::vector<std::optional<Record>> out(keys.size());
    PHIGATE_ASSIGN_OR_RETURN(int64_t space, Space(ns, false));
    if (space == 0) return out;
    // In key order: consecutive B-tree descents then touch neighbouring pages.
    for (size_t i :
         SortedOrder(keys.size(), [&](size_t j) -> std::string_view { return keys[j]; })) {
      PHIGATE_ASSIGN_OR_RETURN(out[i], GetIn(space, keys[i]));
    }
    return out;
  }

 private:
  // Get of a validated key in an existing space.
  Result<std::optional<Record>> GetIn(int64_t space, std::string_view key) {
    PHIGATE_ASSIGN_OR_RETURN(sqlite3_stmt * s, c_.Stmt(kGet));
    sqlite3_bind_int64(s, 1, space);
    BindText(s, 3, key);
    const int rc = sqlite3_step(s);
    if (rc == SQLITE_DONE) return std::optional<Record>();
    if (rc != SQLITE_ROW) return SqliteError(rc, "get");
    std::optional<Record> r(
        Record{std::string(key), ColumnBytes(s, 0), sqlite3_column_int64(s, 1)});
    sqlite3_reset(s);  // a pending read must not outlive the call
    return r;
  }

 public:
  Status Put(std::string_view ns, std::string_view key, std::string_view value,
             int64_t ts) override {
    PHIGATE_ASSIGN_OR_RETURN(int changed, Write(kPut, ns, key, value, ts, "put"));
    (void)changed;
    return absl::OkStatus();
  }
  Status PutMany(std::string_view ns, std::span<const Record> records) override {
    for (const auto& r : records) PHIGATE_RETURN_IF_ERROR(Put(ns, r.key, r.value, r.ts));
    return absl::OkStatus();
  }
  Result<bool> PutIfAbsent(std::string_view ns, std::string_view key, std::string_view value,
                           int64_t ts) override {
    PHIGATE_ASSIGN_OR_RETURN(int changed, Write(kPutIfAbsent, ns, key, value, ts, "put-if-absent"));
    return changed > 0;
  }
  Result<std::vector<bool>> PutIfAbsentMany(std::string_view ns,
                                            std::span<const Record> records) override {
    // Inserted in key order (see GetMany); a repeated key: its first occurrence wins.
    PHIGATE_RETURN_IF_ERROR(ValidateKey("namespace", ns));
    std::vector<bool> out(records.size(), false);
    if (records.empty()) return out;
    PHIGATE_ASSIGN_OR_RETURN(int64_t space, Space(ns, true));
    for (size_t i : SortedOrder(records.size(),
                                [&](size_t j) -> std::string_view { return records[j].key; })) {
      const Record& r = records[i];
      PHIGATE_ASSIGN_OR_RETURN(int changed,
                               WriteIn(kPutIfAbsent, space, r.key, r.value, r.ts, "put-if-absent"));
      out[i] = changed > 0;
    }
    return out;
  }
  Result<bool> ReplaceIfEqual(std::string_view ns, std::string_view key, std::string_view expected,
                              std::string_view value) override {
    PHIGATE_RETURN_IF_ERROR(ValidateKey("namespace", ns));
    PHIGATE_RETURN_IF_ERROR(ValidateKey("key", key));
    PHIGATE_ASSIGN_OR_RETURN(int64_t space, Space(ns, false));
    if (space == 0) return false;
    PHIGATE_ASSIGN_OR_RETURN(sqlite3_stmt * s, c_.Stmt(kReplaceIfEqual));
    sqlite3_bind_int64(s, 1, space);
    BindBlob(s, 2, expected);
    BindText(s, 3, key);
    BindBlob(s, 4, value);
    const int rc = sqlite3_step(s);
    if (rc != SQLITE_DONE) return SqliteError(rc, "replace-if-equal");
    return sqlite3_changes(c_.db()) > 0;
  }
  Result<bool> Delete(std::string_view ns, std::string_view key) override {
    PHIGATE_RETURN_IF_ERROR(ValidateKey("namespace", ns));
    PHIGATE_RETURN_IF_ERROR(ValidateKey("key", key));
    PHIGATE_ASSIGN_OR_RETURN(int64_t space, Space(ns, false));
    if (space == 0) return false;
    PHIGATE_ASSIGN_OR_RETURN(sqlite3_stmt * s, c_.Stmt(kDelete));
    sqlite3_bind_int64(s, 1, space);
    BindText(s, 3, key);
    const int rc = sqlite3_step(s);
    if (rc != SQLITE_DONE) return SqliteError(rc, "delete");
    return sqlite3_changes(c_.db()) > 0;
  }
  Result<std::vector<Record>> Scan(std::string_view ns, std::string_view prefix,
                                   const ScanOptions& options) override {
    PHIGATE_RETURN_IF_ERROR(ValidateKey("namespace", ns));
    PHIGATE_ASSIGN_OR_RETURN(int64_t space, Space(ns, false));
    if (space == 0) return std::vector<Record>();
    const std::string succ = PrefixSuccessor(prefix);
    PHIGATE_ASSIGN_OR_RETURN(sqlite3_stmt * s, c_.Stmt(succ.empty() ? kScanOpen : kScanBounded));
    sqlite3_bind_int64(s, 1, space);
    BindText(s, 3, prefix);
    if (!succ.empty()) BindText(s, 4, succ);
    BindText(s, 5, options.start_after);
    sqlite3_bind_int64(s, 6, static_cast<sqlite3_int64>(options.limit));
    std::vector<Record> out;
    for (;;) {
      const int rc = sqlite3_step(s);
      if (rc == SQLITE_DONE) break;
      if (rc != SQLITE_ROW) return SqliteError(rc, "scan");
      out.push_back(Record{ColumnBytes(s, 0), ColumnBytes(s, 1), sqlite3_column_int64(s, 2)});
    }
    return out;
  }
  Result<int64_t> DeletePrefix(std::string_view ns, std::string_view prefix) override {
    PHIGATE_RETURN_IF_ERROR(ValidateKey("namespace", ns));
    PHIGATE_ASSIGN_OR_RETURN(int64_t space, Space(ns, false));
    if (space == 0) return int64_t{0};
    const std::string succ = PrefixSuccessor(prefix);
    PHIGATE_ASSIGN_OR_RETURN(sqlite3_stmt * s,
                             c_.Stmt(succ.empty() ? kDeleteOpen : kDeleteBounded));
    sqlite3_bind_int64(s, 1, space);
    BindText(s, 3, prefix);
    if (!succ.empty()) BindText(s, 4, succ);
    const int rc = sqlite3_step(s);
    if (rc != SQLITE_DONE) return SqliteError(rc, "delete-prefix");
    return static_cast<int64_t>(sqlite3_changes(c_.db()));
  }
  Result<int64_t> DeleteOlderThan(std::string_view ns, int64_t cutoff) override {
    PHIGATE_RETURN_IF_ERROR(ValidateKey("namespace", ns));
    PHIGATE_ASSIGN_OR_RETURN(int64_t space, Space(ns, false));
    if (space == 0) return int64_t{0};
    PHIGATE_ASSIGN_OR_RETURN(sqlite3_stmt * s, c_.Stmt(kDeleteOld));
    sqlite3_bind_int64(s, 1, space);
    sqlite3_bind_int64(s, 3, cutoff);
    const int rc = sqlite3_step(s);
    if (rc != SQLITE_DONE) return SqliteError(rc, "delete-older-than");
    return static_cast<int64_t>(sqlite3_changes(c_.db()));
  }

 private:
  Result<int> Write(const char* sql, std::string_view ns, std::string_view key,
                    std::string_view value, int64_t ts, std::string_view op) {
    PHIGATE_RETURN_IF_ERROR(ValidateKey("namespace", ns));
    PHIGATE_ASSIGN_OR_RETURN(int64_t space, Space(ns, true));
    return WriteIn(sql, space, key, value, ts, op);
  }
  Result<int> WriteIn(const char* sql, int64_t space, std::string_view key, std::string_view value,
                      int64_t ts, std::string_view op) {
    PHIGATE_RETURN_IF_ERROR(ValidateKey("key", key));
    PHIGATE_ASSIGN_OR_RETURN(sqlite3_stmt * s, c_.Stmt(sql));
    sqlite3_bind_int64(s, 1, space);
    BindText(s, 3, key);
    BindBlob(s, 4, value);
    sqlite3_bind_int64(s, 5, ts);
    const int rc = sqlite3_step(s);
    if (rc != SQLITE_DONE) return SqliteError(rc, op);
    return sqlite3_changes(c_.db());
  }

  // The space id of (tenant_, ns), remembered for this transaction.
  Result<int64_t> Space(std::string_view ns, bool create) {
    for (const auto& [name, id] : spaces_) {
      if (name == ns) return id;
    }
    PHIGATE_ASSIGN_OR_RETURN(int64_t id, c_.SpaceId(tenant_, ns, create));
    if (id != 0) spaces_.emplace_back(std::string(ns), id);
    return id;
  }

  Conn& c_;
  const std::string& tenant_;
  std::vector<std::pair<std::string, int64_t>> spaces_;
};

struct Shared {
  absl::Mutex mu;
  std::unique_ptr<Conn> conn ABSL_GUARDED_BY(mu);
  int max_retries = 5;
};

Status RunTx(Shared& sh, const std::string& tenant, absl::FunctionRef<Status(Transaction&)> fn) {
  Status last;
  for (int attempt = 0; attempt <= sh.max_retries; ++attempt) {
    absl::MutexLock lock(&sh.mu);
    Conn& c = *sh.conn;
    last = c.Exec("BEGIN IMMEDIATE", "begin");
    if (!last.ok()) {
      if (last.code() == absl::StatusCode::kAborted) continue;  // busy beyond busy_timeout
      return last;
    }
    SqliteTransaction tx(c, tenant);
    Status s = fn(tx);
    if (s.ok()) {
      s = c.Exec("COMMIT", "commit");
      if (s.ok()) return s;
    }
    c.Exec("ROLLBACK", "rollback").IgnoreError();  // also fine when COMMIT already failed
    c.ForgetSpaces();
    if (s.code() != absl::StatusCode::kAborted) return s;
    last = s;
  }
  return last;
}

class SqliteTenantStore : public TenantStore {
 public:
  SqliteTenantStore(std::shared_ptr<Shared> sh, TenantId t)
      : sh_(std::move(sh)), tenant_(std::move(t)) {}
  const TenantId& tenant() const override { return tenant_; }
  Status RunInTransaction(absl::FunctionRef<Status(Transaction&)> fn) override {
    return RunTx(*sh_, tenant_.value(), fn);
  }

 private:
  std::shared_ptr<Shared> sh_;
  TenantId tenant_;
};

class SqliteStore : public Store {
 public:
  explicit SqliteStore(std::shared_ptr<Shared> sh) : sh_(std::move(sh)) {}
  Result<std::unique_ptr<TenantStore>> ForTenant(const TenantId& tenant) override {
    if (tenant.empty()) return absl::InvalidArgumentError("empty tenant id");
    return std::unique_ptr<TenantStore>(new SqliteTenantStore(sh_, tenant));
  }
  Result<std::vector<TenantId>> ListTenants() override {
    absl::MutexLock lock(&sh_->mu);
    PHIGATE_ASSIGN_OR_RETURN(
        sqlite3_stmt * s,
        sh_->conn->Stmt("SELECT DISTINCT s.tenant FROM phigate_spaces s WHERE EXISTS "
                        "(SELECT 1 FROM phigate_records r WHERE r.space = s.id) ORDER BY 1"));
    std::vector<TenantId> out;
    for (;;) {
      const int rc = sqlite3_step(s);
      if (rc == SQLITE_DONE) break;
      if (rc != SQLITE_ROW) return SqliteError(rc, "list tenants");
      out.emplace_back(ColumnBytes(s, 0));
    }
    return out;
  }
  Result<int> SchemaVersion() override {
    absl::MutexLock lock(&sh_->mu);
    PHIGATE_ASSIGN_OR_RETURN(
        sqlite3_stmt * s,
        sh_->conn->Stmt("SELECT COALESCE(MAX(version),0) FROM phigate_schema_migrations"));
    if (sqlite3_step(s) != SQLITE_ROW)
      return absl::InternalError("sqlite schema version unreadable");
    const int v = sqlite3_column_int(s, 0);
    sqlite3_reset(s);
    return v;
  }
  std::string_view backend() const override { return "sqlite"; }

 private:
  std::shared_ptr<Shared> sh_;
};

Status Migrate(Conn& c) {
  PHIGATE_RETURN_IF_ERROR(c.Exec("BEGIN IMMEDIATE", "begin migration"));
  auto run = [&]() -> Status {
    PHIGATE_RETURN_IF_ERROR(
        c.Exec("CREATE TABLE IF NOT EXISTS phigate_schema_migrations(version INTEGER PRIMARY KEY, "
               "applied_at INTEGER NOT NULL)",
               "create migrations table"));
    PHIGATE_ASSIGN_OR_RETURN(
        sqlite3_stmt * s, c.Stmt("SELECT COALESCE(MAX(version),0) FROM phigate_schema_migrations"));
    if (sqlite3_step(s) != SQLITE_ROW)
      return absl::InternalError("sqlite schema version unreadable");
    const int current = sqlite3_column_int(s, 0);
    sqlite3_reset(s);
    const auto migrations = ParseMigrations(kSchemaSql);
    const int newest = migrations.empty() ? 0 : migrations.back().version;
    if (current > newest) {
      return absl::FailedPreconditionError(absl::StrCat("sqlite store schema version ", current,
                                                        " is newer than this binary's ", newest));
    }
    for (const auto& m : migrations) {
      if (m.version <= current) continue;
      PHIGATE_RETURN_IF_ERROR(c.Exec(m.sql.c_str(), absl::StrCat("migration ", m.version)));
      const std::string ins =
          absl::StrCat("INSERT INTO phigate_schema_migrations(version, applied_at) VALUES(",
                       m.version, ", CAST(strftime('%s','now') AS INTEGER))");
      PHIGATE_RETURN_IF_ERROR(c.Exec(ins.c_str(), "record migration"));
    }
    return absl::OkStatus();
  };
  Status s = run();
  if (s.ok()) return c.Exec("COMMIT", "commit migration");
  c.Exec("ROLLBACK", "rollback migration").IgnoreError();
  return s;
}

}  // namespace

Result<std::unique_ptr<Store>> OpenSqliteStore(const std::string& path,
                                               const StoreOptions& options) {
  (void)UseSqlitePageCacheWithoutIdleTruncation();  // best effort: only before SQLite starts
  sqlite3* db = nullptr;
  const int rc = sqlite3_open_v2(
      path.c_str(), &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, nullptr);
  auto conn = std::make_unique<Conn>(db);
  if (rc != SQLITE_OK) return SqliteError(rc, "open");
  sqlite3_busy_timeout(db, options.busy_timeout_ms);
  if (options.sqlite_page_size != 0) {
    // Takes effect only while the file is still empty (a new database).
    const int ps = options.sqlite_page_size;
    if (ps < 512 || ps > 65536 || (ps & (ps - 1)) != 0) {
      return absl::InvalidArgumentError("sqlite_page_size must be a power of two in 512..65536");
    }
    PHIGATE_RETURN_IF_ERROR(
        conn->Exec(absl::StrCat("PRAGMA page_size=", ps).c_str(), "set page size"));
  }
  PHIGATE_RETURN_IF_ERROR(conn->Exec("PRAGMA journal_mode=WAL", "enable WAL"));
  PHIGATE_RETURN_IF_ERROR(conn->Exec("PRAGMA cache_size=-65536", "set cache size"));
  PHIGATE_RETURN_IF_ERROR(conn->Exec("PRAGMA mmap_size=268435456", "set mmap size"));
  // Checkpoint (copy the WAL back and fsync) every 16,384 WAL pages (64 MiB at 4 KiB pages), not
  // every 1000.
  PHIGATE_RETURN_IF_ERROR(conn->Exec("PRAGMA wal_autocheckpoint=16384", "set checkpoint"));
  PHIGATE_RETURN_IF_ERROR(conn->Exec("PRAGMA synchronous=NORMAL", "set synchronous"));
  PHIGATE_RETURN_IF_ERROR(Migrate(*conn));
  auto sh = std::make_shared<Shared>();
  {
    absl::MutexLock lock(&sh->mu);
    sh->conn = std::move(conn);
    sh->max_retries = options.max_retries;
  }
  return std::unique_ptr<Store>(new SqliteStore(std::move(sh)));
}

}  // namespace phigate::store::internal
