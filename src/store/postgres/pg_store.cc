#include "src/store/postgres/pg_store.h"

#include <libpq-fe.h>

#include <chrono>
#include <map>
#include <set>
#include <thread>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/synchronization/mutex.h"
#include "src/store/migrations.h"

namespace phigate::store::internal {
namespace {

constexpr char kSchemaSql[] =
#include "src/store/postgres_schema.inc"
    ;

struct ResultDeleter {
  void operator()(PGresult* r) const { PQclear(r); }
};
using ResultPtr = std::unique_ptr<PGresult, ResultDeleter>;

// Status for a failed command. Only the SQLSTATE is reported: PostgreSQL's
// messages and details may quote key or value bytes.
Status PgError(PGconn* conn, const PGresult* res, std::string_view op) {
  if (PQstatus(conn) == CONNECTION_BAD) {
    return absl::UnavailableError(
        absl::StrCat("PostgreSQL unreachable during ", ToAbsl(op), " (connection lost)"));
  }
  const char* st = res != nullptr ? PQresultErrorField(res, PG_DIAG_SQLSTATE) : nullptr;
  const std::string state = st != nullptr ? st : "?????";
  const std::string msg = absl::StrCat("PostgreSQL ", ToAbsl(op), " failed (SQLSTATE ", state, ")");
  if (state == "40001" || state == "40P01") return absl::AbortedError(msg);
  if (state.rfind("08", 0) == 0 || state.rfind("57P", 0) == 0 || state.rfind("53", 0) == 0) {
    return absl::UnavailableError(msg);
  }
  if (state.rfind("22", 0) == 0) return absl::InvalidArgumentError(msg);
  return absl::InternalError(msg);
}

// Array literals for batch statements ("{...}", text format).
void AppendQuoted(std::string& out, std::string_view s) {
  out += '"';
  for (char ch : s) {
    if (ch == '"' || ch == '\\') out += '\\';
    out += ch;
  }
  out += '"';
}
std::string TextArray(std::span<const std::string> v) {
  std::string out = "{";
  for (size_t i = 0; i < v.size(); ++i) {
    if (i) out += ',';
    AppendQuoted(out, v[i]);
  }
  return out + "}";
}
std::string ByteaArray(const std::vector<std::string_view>& v) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out = "{";
  for (size_t i = 0; i < v.size(); ++i) {
    if (i) out += ',';
    out += "\"\\\\x";
    for (char ch : v[i]) {
      const auto b = static_cast<unsigned char>(ch);
      out += kHex[b >> 4];
      out += kHex[b & 15];
    }
    out += '"';
  }
  return out + "}";
}

int64_t ReadInt8(const char* p) {
  uint64_t v = 0;
  for (int i = 0; i < 8; ++i) v = (v << 8) | static_cast<unsigned char>(p[i]);
  return static_cast<int64_t>(v);
}
std::string Field(const PGresult* r, int row, int col) {
  return std::string(PQgetvalue(r, row, col), static_cast<size_t>(PQgetlength(r, row, col)));
}

class Conn {
 public:
  explicit Conn(PGconn* c) : c_(c) {}
  ~Conn() { PQfinish(c_); }
  PGconn* get() { return c_; }
  bool bad() const { return PQstatus(c_) == CONNECTION_BAD; }

  Status Exec(const char* sql, std::string_view op) {
    ResultPtr r(PQexec(c_, sql));
    const auto st = PQresultStatus(r.get());
    if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK) return PgError(c_, r.get(), op);
    return absl::OkStatus();
  }

  // Runs a prepared statement (prepared on first use on this connection).
  // Params are text except the ones flagged binary. Results are binary.
  Result<ResultPtr> Run(const char* name, const char* sql,
                        std::initializer_list<std::string_view> params,
                        std::initializer_list<bool> binary, std::string_view op) {
    if (!prepared_.count(name)) {
      ResultPtr p(PQprepare(c_, name, sql, static_cast<int>(params.size()), nullptr));
      if (PQresultStatus(p.get()) != PGRES_COMMAND_OK) return PgError(c_, p.get(), op);
      prepared_.insert(name);
    }
    const int n = static_cast<int>(params.size());
    std::vector<const char*> values;
    std::vector<int> lengths, formats;
    std::vector<std::string> holders;  // NUL-terminated copies for text params
    holders.reserve(params.size());
    auto bin = binary.begin();
    for (std::string_view p : params) {
      const bool b = bin != binary.end() && *bin;
      if (bin != binary.end()) ++bin;
      if (b) {
        values.push_back(p.data());
      } else {
        holders.emplace_back(p);
        values.push_back(holders.back().c_str());
      }
      lengths.push_back(static_cast<int>(p.size()));
      formats.push_back(b ? 1 : 0);
    }
    ResultPtr r(PQexecPrepared(c_, name, n, values.data(), lengths.data(), formats.data(), 1));
    const auto st = PQresultStatus(r.get());
    if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK) return PgError(c_, r.get(), op);
    return r;
  }

 private:
  PGconn* c_;
  std::set<std::string> prepared_;
};

constexpr char kGet[] =
    "SELECT value, ts FROM phigate_records WHERE tenant=$1 AND ns=$2 AND key=$3";
// One primary-key probe per key. With `key = ANY($3)` the planner costed 1,000
// probes above one scan of the table and filtered a sequential scan instead,
// which grows with the table (1.7 s per 1,000 keys at 200k rows). LIMIT 1
// keeps the LATERAL subquery from being flattened into a join.
constexpr char kGetMany[] =
    "SELECT r.key, r.value, r.ts FROM unnest($3::text[]) AS u(k) CROSS JOIN LATERAL "
    "(SELECT key, value, ts FROM phigate_records WHERE tenant=$1 AND ns=$2 AND key=u.k LIMIT 1) "
    "AS r";
constexpr char kPut[] =
    "INSERT INTO phigate_records(tenant,ns,key,value,ts) VALUES($1,$2,$3,$4::bytea,$5::int8) "
    "ON CONFLICT (tenant,ns,key) DO UPDATE SET value=EXCLUDED.value, ts=EXCLUDED.ts";
constexpr char kPutMany[] =
    "INSERT INTO phigate_records(tenant,ns,key,value,ts) SELECT $1,$2,k,v,t FROM "
    "unnest($3::text[],$4::bytea[],$5::int8[]) AS u(k,v,t) "
    "ON CONFLICT (tenant,ns,key) DO UPDATE SET value=EXCLUDED.value, ts=EXCLUDED.ts";
constexpr char kPutIfAbsent[] =
    "INSERT INTO phigate_records(tenant,ns,key,value,ts) VALUES($1,$2,$3,$4::bytea,$5::int8) "
    "ON CONFLICT DO NOTHING";
constexpr char kPutIfAbsentMany[] =
    "INSERT INTO phigate_records(tenant,ns,key,value,ts) SELECT $1,$2,k,v,t FROM "
    "unnest($3::text[],$4::bytea[],$5::int8[]) WITH ORDINALITY AS u(k,v,t,o) ORDER BY o "
    "ON CONFLICT DO NOTHING RETURNING key";
constexpr char kDelete[] = "DELETE FROM phigate_records WHERE tenant=$1 AND ns=$2 AND key=$3";
// Under READ COMMITTED a row changed by a concurrent transaction is
// re-checked against `value = $4` once that one commits (and skipped if it
// deleted the row): a compare-and-set without a prior SELECT ... FOR UPDATE.
constexpr char kReplaceIfEqual[] =
    "UPDATE phigate_records SET value=$5::bytea WHERE tenant=$1 AND ns=$2 AND key=$3 AND "
    "value=$4::bytea";
constexpr char kScan[] =
    "SELECT key, value, ts FROM phigate_records WHERE tenant=$1 AND ns=$2 AND key >= $3 AND "
    "starts_with(key, $3) AND key > $4 ORDER BY key LIMIT $5::int8";
constexpr char kScanBounded[] =
    "SELECT key, value, ts FROM phigate_records WHERE tenant=$1 AND ns=$2 AND key >= $3 AND "
    "key < $6 AND key > $4 ORDER BY key LIMIT $5::int8";
constexpr char kDeletePrefix[] =
    "DELETE FROM phigate_records WHERE tenant=$1 AND ns=$2 AND key >= $3 AND starts_with(key, $3)";
constexpr char kDeleteOld[] =
    "DELETE FROM phigate_records WHERE tenant=$1 AND ns=$2 AND ts < $3::int8";

// An ASCII successor keeps the upper bound valid UTF-8 (PostgreSQL rejects anything else).
std::string AsciiSuccessor(std::string_view prefix) {
  if (prefix.empty() || static_cast<unsigned char>(prefix.back()) >= 0x7e) return "";
  for (char ch : prefix) {
    if (static_cast<unsigned char>(ch) >= 0x80) return "";
  }
  return PrefixSuccessor(prefix);
}

class PgTransaction : public Transaction {
 public:
  PgTransaction(Conn& c, const std::string& tenant) : c_(c), tenant_(tenant) {}

  Result<std::optional<Record>> Get(std::string_view ns, std::string_view key) override {
    PHIGATE_RETURN_IF_ERROR(ValidateKey("namespace", ns));
    PHIGATE_RETURN_IF_ERROR(ValidateKey("key", key));
    PHIGATE_ASSIGN_OR_RETURN(ResultPtr r, c_.Run("get", kGet, {tenant_, ns, key}, {}, "get"));
    if (PQntuples(r.get()) == 0) return std::optional<Record>();
    return std::optional<Record>(
        Record{std::string(key), Field(r.get(), 0, 0), ReadInt8(PQgetvalue(r.get(), 0, 1))});
  }
  Result<std::vector<std::optional<Record>>> GetMany(std::string_view ns,
                                                     std::span<const std::string> keys) override {
    PHIGATE_RETURN_IF_ERROR(ValidateKey("namespace", ns));
    for (const auto& k : keys) PHIGATE_RETURN_IF_ERROR(ValidateKey("key", k));
    std::vector<std::optional<Record>> out(keys.size());
    if (keys.empty()) return out;
    PHIGATE_ASSIGN_OR_RETURN(ResultPtr r, c_.Run("getmany_probe", kGetMany,
                                                 {tenant_, ns, TextArray(keys)}, {}, "get-many"));
    std::map<std::string, Record, std::less<>> found;
    for (int i = 0; i < PQntuples(r.get()); ++i) {
      Record rec{Field(r.get(), i, 0), Field(r.get(), i, 1), ReadInt8(PQgetvalue(r.get(), i, 2))};
      std::string k = rec.key;
      found.emplace(std::move(k), std::move(rec));
    }
    for (size_t i = 0; i < keys.size(); ++i) {
      auto it = found.find(keys[i]);
      if (it != found.end()) out[i] = it->second;
    }
    return out;
  }
  Status Put(std::string_view ns, std::string_view key, std::string_view value,
             int64_t ts) override {
    PHIGATE_RETURN_IF_ERROR(ValidateKey("namespace", ns));
    PHIGATE_RETURN_IF_ERROR(ValidateKey("key", key));
    const std::string t = absl::StrCat(ts);
    PHIGATE_ASSIGN_OR_RETURN(ResultPtr r, c_.Run("put", kPut, {tenant_, ns, key, value, t},
                                                 {false, false, false, true, false}, "put"));
    return absl::OkStatus();
  }
  Status PutMany(std::string_view ns, std::span<const Record> records) override {
    PHIGATE_RETURN_IF_ERROR(ValidateKey("namespace", ns));
    if (records.empty()) return absl::OkStatus();
    // Last write wins for repeated keys (one statement cannot update a row twice).
    std::map<std::string_view, const Record*> last;
    for (const auto& rec : records) {
      PHIGATE_RETURN_IF_ERROR(ValidateKey("key", rec.key));
      last[rec.key] = &rec;
    }
    std::vector<std::string> keys;
    std::vector<std::string_view> values;
    std::string ts = "{";
    for (const auto& [k, rec] : last) {
      keys.push_back(rec->key);
      values.push_back(rec->value);
      if (ts.size() > 1) ts += ',';
      ts += absl::StrCat(rec->ts);
    }
    ts += '}';
    PHIGATE_ASSIGN_OR_RETURN(
        ResultPtr r,
        c_.Run("putmany", kPutMany, {tenant_, ns, TextArray(keys), ByteaArray(values), ts}, {},
               "put-many"));
    return absl::OkStatus();
  }
  Result<bool> PutIfAbsent(std::string_view ns, std::string_view key, std::string_view value,
                           int64_t ts) override {
    PHIGATE_RETURN_IF_ERROR(ValidateKey("namespace", ns));
    PHIGATE_RETURN_IF_ERROR(ValidateKey("key", key));
    const std::string t = absl::StrCat(ts);
    PHIGATE_ASSIGN_OR_RETURN(ResultPtr r,
                             c_.Run("putifabsent", kPutIfAbsent, {tenant_, ns, key, value, t},
                                    {false, false, false, true, false}, "put-if-absent"));
    return std::string_view(PQcmdTuples(r.get())) == "1";
  }
  Result<std::vector<bool>> PutIfAbsentMany(std::string_view ns,
                                            std::span<const Record> records) override {
    PHIGATE_RETURN_IF_ERROR(ValidateKey("namespace", ns));
    std::vector<bool> out(records.size(), false);
    if (records.empty()) return out;
    std::vector<std::string> keys;
    std::vector<std::string_view> values;
    std::string ts = "{";
    keys.reserve(records.size());
    for (const auto& rec : records) {
      PHIGATE_RETURN_IF_ERROR(ValidateKey("key", rec.key));
      keys.push_back(rec.key);
      values.push_back(rec.value);
      if (ts.size() > 1) ts += ',';
      ts += absl::StrCat(rec.ts);
    }
    ts += '}';
    PHIGATE_ASSIGN_OR_RETURN(
        ResultPtr r,
        c_.Run("putifabsentmany", kPutIfAbsentMany,
               {tenant_, ns, TextArray(keys), ByteaArray(values), ts}, {}, "put-if-absent-many"));
    std::set<std::string, std::less<>> inserted;
    for (int i = 0; i < PQntuples(r.get()); ++i) inserted.insert(Field(r.get(), i, 0));
    for (size_t i = 0; i < records.size(); ++i) {
      auto it = inserted.find(records[i].key);
      if (it != inserted.end()) {
        out[i] = true;
        inserted.erase(it);  // a repeated key counts once: its first occurrence
      }
    }
    return out;
  }
  Result<bool> ReplaceIfEqual(std::string_view ns, std::string_view key, std::string_view expected,
                              std::string_view value) override {
    PHIGATE_RETURN_IF_ERROR(ValidateKey("namespace", ns));
    PHIGATE_RETURN_IF_ERROR(ValidateKey("key", key));
    PHIGATE_ASSIGN_OR_RETURN(ResultPtr r,
                             c_.Run("replace", kReplaceIfEqual, {tenant_, ns, key, expected, value},
                                    {false, false, false, true, true}, "replace-if-equal"));
    return std::string_view(PQcmdTuples(r.get())) != "0";
  }
  Result<bool> Delete(std::string_view ns, std::string_view key) override {
    PHIGATE_RETURN_IF_ERROR(ValidateKey("namespace", ns));
    PHIGATE_RETURN_IF_ERROR(ValidateKey("key", key));
    PHIGATE_ASSIGN_OR_RETURN(ResultPtr r,
                             c_.Run("delete", kDelete, {tenant_, ns, key}, {}, "delete"));
    return std::string_view(PQcmdTuples(r.get())) != "0";
  }
  Result<std::vector<Record>> Scan(std::string_view ns, std::string_view prefix,
                                   const ScanOptions& options) override {
    PHIGATE_RETURN_IF_ERROR(ValidateKey("namespace", ns));
    const std::string limit = absl::StrCat(options.limit);
    const std::string succ = AsciiSuccessor(prefix);
    ResultPtr r;
    if (succ.empty()) {
      PHIGATE_ASSIGN_OR_RETURN(
          r, c_.Run("scan", kScan, {tenant_, ns, prefix, options.start_after, limit}, {}, "scan"));
    } else {
      PHIGATE_ASSIGN_OR_RETURN(
          r, c_.Run("scanb", kScanBounded, {tenant_, ns, prefix, options.start_after, limit, succ},
                    {}, "scan"));
    }
    std::vector<Record> out;
    for (int i = 0; i < PQntuples(r.get()); ++i) {
      out.push_back(
          Record{Field(r.get(), i, 0), Field(r.get(), i, 1), ReadInt8(PQgetvalue(r.get(), i, 2))});
    }
    return out;
  }
  Result<int64_t> DeletePrefix(std::string_view ns, std::string_view prefix) override {
    PHIGATE_RETURN_IF_ERROR(ValidateKey("namespace", ns));
    PHIGATE_ASSIGN_OR_RETURN(ResultPtr r, c_.Run("deleteprefix", kDeletePrefix,
                                                 {tenant_, ns, prefix}, {}, "delete-prefix"));
    int64_t n = 0;
    if (!absl::SimpleAtoi(PQcmdTuples(r.get()), &n)) n = 0;
    return n;
  }
  Result<int64_t> DeleteOlderThan(std::string_view ns, int64_t cutoff) override {
    PHIGATE_RETURN_IF_ERROR(ValidateKey("namespace", ns));
    const std::string c = absl::StrCat(cutoff);
    PHIGATE_ASSIGN_OR_RETURN(
        ResultPtr r, c_.Run("deleteold", kDeleteOld, {tenant_, ns, c}, {}, "delete-older-than"));
    int64_t n = 0;
    if (!absl::SimpleAtoi(PQcmdTuples(r.get()), &n)) n = 0;
    return n;
  }

 private:
  Conn& c_;
  const std::string& tenant_;
};

struct PgConfig {
  std::string conninfo;  // the URL without phigate_schema
  std::string schema;    // "" = default search_path
  int pool_size = 4;
  int connect_timeout = 3;
  int max_retries = 5;
};

class Pool {
 public:
  explicit Pool(PgConfig cfg) : cfg_(std::move(cfg)) {}

  Result<std::unique_ptr<Conn>> Acquire() {
    {
      absl::MutexLock lock(&mu_);
      auto ready = [this]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
        return !idle_.empty() || open_ < cfg_.pool_size;
      };
      mu_.Await(absl::Condition(&ready));
      if (!idle_.empty()) {
        auto c = std::move(idle_.back());
        idle_.pop_back();
        return c;
      }
      ++open_;
    }
    auto c = Connect();
    if (!c.ok()) {
      absl::MutexLock lock(&mu_);
      --open_;
    }
    return c;
  }
  void Release(std::unique_ptr<Conn> c) {
    absl::MutexLock lock(&mu_);
    if (c->bad()) {
      --open_;  // dropped; the next Acquire reconnects
      return;
    }
    idle_.push_back(std::move(c));
  }
  const PgConfig& config() const { return cfg_; }

 private:
  Result<std::unique_ptr<Conn>> Connect() {
    const std::string timeout = absl::StrCat(cfg_.connect_timeout);
    const char* keys[] = {"connect_timeout", "dbname", nullptr};
    const char* vals[] = {timeout.c_str(), cfg_.conninfo.c_str(), nullptr};
    auto c = std::make_unique<Conn>(PQconnectdbParams(keys, vals, 1));
    if (c->get() == nullptr || PQstatus(c->get()) != CONNECTION_OK) {
      // PQerrorMessage names host and port only; still, keep it out of the status.
      return absl::UnavailableError("PostgreSQL unreachable: cannot connect to the store URL");
    }
    // The server's NOTICEs ("relation ... already exists, skipping" when the
    // schema and tables are there) would go to the process's stderr.
    PHIGATE_RETURN_IF_ERROR(c->Exec("SET client_min_messages = warning", "set message level"));
    if (!cfg_.schema.empty()) {
      const std::string sql = absl::StrCat("CREATE SCHEMA IF NOT EXISTS \"", cfg_.schema,
                                           "\"; SET search_path TO \"", cfg_.schema, "\"");
      Status s = c->Exec(sql.c_str(), "set schema");
      if (!s.ok() && s.code() != absl::StatusCode::kInternal) return s;
      if (!s.ok()) {
        // Two connections racing to create the schema: the loser sets the path only.
        const std::string set = absl::StrCat("SET search_path TO \"", cfg_.schema, "\"");
        PHIGATE_RETURN_IF_ERROR(c->Exec(set.c_str(), "set schema"));
      }
    }
    return c;
  }

  PgConfig cfg_;
  absl::Mutex mu_;
  std::vector<std::unique_ptr<Conn>> idle_ ABSL_GUARDED_BY(mu_);
  int open_ ABSL_GUARDED_BY(mu_) = 0;
};

// Runs fn in one transaction on a pooled connection, with retries.
Status RunTx(Pool& pool, const std::string& tenant, absl::FunctionRef<Status(Transaction&)> fn) {
  Status last;
  const int retries = pool.config().max_retries;
  for (int attempt = 0; attempt <= retries; ++attempt) {
    if (attempt > 0)
      std::this_thread::sleep_for(std::chrono::milliseconds(2 << std::min(attempt, 6)));
    PHIGATE_ASSIGN_OR_RETURN(auto conn, pool.Acquire());
    Status s = conn->Exec("BEGIN", "begin");
    bool commit_sent = false;
    if (s.ok()) {
      PgTransaction tx(*conn, tenant);
      s = fn(tx);
      if (s.ok()) {
        commit_sent = true;
        s = conn->Exec("COMMIT", "commit");
      }
    }
    if (!s.ok() && !conn->bad()) conn->Exec("ROLLBACK", "rollback").IgnoreError();
    const bool lost = conn->bad();
    pool.Release(std::move(conn));
    if (s.ok()) return s;
    last = s;
    const bool retry = s.code() == absl::StatusCode::kAborted ||
                       (lost && !commit_sent && s.code() == absl::StatusCode::kUnavailable);
    if (!retry) return s;
  }
  return last;
}

class PgTenantStore : public TenantStore {
 public:
  PgTenantStore(std::shared_ptr<Pool> pool, TenantId t)
      : pool_(std::move(pool)), tenant_(std::move(t)) {}
  const TenantId& tenant() const override { return tenant_; }
  Status RunInTransaction(absl::FunctionRef<Status(Transaction&)> fn) override {
    return RunTx(*pool_, tenant_.value(), fn);
  }

 private:
  std::shared_ptr<Pool> pool_;
  TenantId tenant_;
};

class PgStore : public Store {
 public:
  explicit PgStore(std::shared_ptr<Pool> pool) : pool_(std::move(pool)) {}
  Result<std::unique_ptr<TenantStore>> ForTenant(const TenantId& tenant) override {
    if (tenant.empty()) return absl::InvalidArgumentError("empty tenant id");
    return std::unique_ptr<TenantStore>(new PgTenantStore(pool_, tenant));
  }
  Result<std::vector<TenantId>> ListTenants() override {
    PHIGATE_ASSIGN_OR_RETURN(auto conn, pool_->Acquire());
    auto r = conn->Run("tenants", "SELECT DISTINCT tenant FROM phigate_records ORDER BY 1", {}, {},
                       "list tenants");
    pool_->Release(std::move(conn));
    if (!r.ok()) return r.status();
    std::vector<TenantId> out;
    for (int i = 0; i < PQntuples(r->get()); ++i) out.emplace_back(Field(r->get(), i, 0));
    return out;
  }
  Result<int> SchemaVersion() override {
    PHIGATE_ASSIGN_OR_RETURN(auto conn, pool_->Acquire());
    auto r = conn->Run("schemaversion",
                       "SELECT COALESCE(MAX(version),0)::int8 FROM phigate_schema_migrations", {},
                       {}, "schema version");
    pool_->Release(std::move(conn));
    if (!r.ok()) return r.status();
    return static_cast<int>(ReadInt8(PQgetvalue(r->get(), 0, 0)));
  }
  std::string_view backend() const override { return "postgres"; }

 private:
  std::shared_ptr<Pool> pool_;
};

Status Migrate(Pool& pool) {
  PHIGATE_ASSIGN_OR_RETURN(auto conn, pool.Acquire());
  auto run = [&]() -> Status {
    PHIGATE_RETURN_IF_ERROR(conn->Exec("BEGIN", "begin migration"));
    // One migrator at a time across replicas (the lock ends with the transaction).
    PHIGATE_RETURN_IF_ERROR(
        conn->Exec("SELECT pg_advisory_xact_lock(7291004415)", "lock migrations"));
    PHIGATE_RETURN_IF_ERROR(
        conn->Exec("CREATE TABLE IF NOT EXISTS phigate_schema_migrations(version INT PRIMARY KEY, "
                   "applied_at TIMESTAMPTZ NOT NULL DEFAULT now())",
                   "create migrations table"));
    PHIGATE_ASSIGN_OR_RETURN(
        ResultPtr r,
        conn->Run("mig_version",
                  "SELECT COALESCE(MAX(version),0)::int8 FROM phigate_schema_migrations", {}, {},
                  "schema version"));
    const int current = static_cast<int>(ReadInt8(PQgetvalue(r.get(), 0, 0)));
    const auto migrations = ParseMigrations(kSchemaSql);
    const int newest = migrations.empty() ? 0 : migrations.back().version;
    if (current > newest) {
      return absl::FailedPreconditionError(absl::StrCat("PostgreSQL store schema version ", current,
                                                        " is newer than this binary's ", newest));
    }
    for (const auto& m : migrations) {
      if (m.version <= current) continue;
      PHIGATE_RETURN_IF_ERROR(conn->Exec(m.sql.c_str(), absl::StrCat("migration ", m.version)));
      const std::string ins =
          absl::StrCat("INSERT INTO phigate_schema_migrations(version) VALUES(", m.version, ")");
      PHIGATE_RETURN_IF_ERROR(conn->Exec(ins.c_str(), "record migration"));
    }
    return conn->Exec("COMMIT", "commit migration");
  };
  Status s = run();
  if (!s.ok() && !conn->bad()) conn->Exec("ROLLBACK", "rollback migration").IgnoreError();
  pool.Release(std::move(conn));
  return s;
}

// Splits `phigate_schema=<name>` out of the URL's query string.
Result<PgConfig> ParseConfig(const StoreOptions& options) {
  PgConfig cfg;
  cfg.pool_size = std::max(1, options.pool_size);
  cfg.connect_timeout = std::max(1, options.connect_timeout_seconds);
  cfg.max_retries = std::max(0, options.max_retries);
  const std::string& url = options.url;
  const size_t q = url.find('?');
  if (q == std::string::npos) {
    cfg.conninfo = url;
    return cfg;
  }
  std::vector<std::string> kept;
  for (absl::string_view kv : absl::StrSplit(absl::string_view(url).substr(q + 1), '&')) {
    if (kv.empty()) continue;
    if (absl::StartsWith(kv, "phigate_schema=")) {
      cfg.schema = std::string(kv.substr(15));
      for (char ch : cfg.schema) {
        if (!((ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') || ch == '_')) {
          return absl::InvalidArgumentError("phigate_schema may hold only [a-z0-9_]");
        }
      }
      if (cfg.schema.empty() || cfg.schema.size() > 63) {
        return absl::InvalidArgumentError("phigate_schema must be 1..63 characters");
      }
    } else {
      kept.emplace_back(kv);
    }
  }
  cfg.conninfo = url.substr(0, q);
  if (!kept.empty()) cfg.conninfo += "?" + absl::StrJoin(kept, "&");
  return cfg;
}

}  // namespace

Result<std::unique_ptr<Store>> OpenPgStore(const StoreOptions& options) {
  PHIGATE_ASSIGN_OR_RETURN(PgConfig cfg, ParseConfig(options));
  auto pool = std::make_shared<Pool>(std::move(cfg));
  PHIGATE_RETURN_IF_ERROR(Migrate(*pool));
  return std::unique_ptr<Store>(new PgStore(std::move(pool)));
}

}  // namespace phigate::store::internal
