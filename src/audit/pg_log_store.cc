// PostgreSQL backend of AuditLogStore (libpq). A group commit is one
// transaction that COPYs the batch's events, subjects and nodes and upserts
// the tenant's head; with synchronous_commit on (the default) COMMIT returns
// after the server flushed its WAL, so Sync() has nothing left to do. One
// connection writes, another reads; scans page through the trail by seq.
#include <libpq-fe.h>

#include <cstring>
#include <mutex>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"
#include "phigate/audit/log_store.h"
#include "phigate/crypto/signer.h"

namespace phigate::audit {
namespace {

constexpr char kSchema[] = R"sql(
CREATE TABLE IF NOT EXISTS {p}events (
  tenant TEXT NOT NULL, seq BIGINT NOT NULL, time_us BIGINT NOT NULL,
  record BYTEA NOT NULL, leaf BYTEA NOT NULL, PRIMARY KEY (tenant, seq));
CREATE INDEX IF NOT EXISTS {p}events_time ON {p}events (tenant, time_us);
CREATE TABLE IF NOT EXISTS {p}subjects (
  tenant TEXT NOT NULL, subject BYTEA NOT NULL, seq BIGINT NOT NULL,
  PRIMARY KEY (tenant, subject, seq));
CREATE TABLE IF NOT EXISTS {p}nodes (
  tenant TEXT NOT NULL, level INT NOT NULL, idx BIGINT NOT NULL, hash BYTEA NOT NULL,
  PRIMARY KEY (tenant, level, idx));
CREATE TABLE IF NOT EXISTS {p}heads (
  tenant TEXT PRIMARY KEY, tree_size BIGINT NOT NULL, root BYTEA NOT NULL,
  last_leaf BYTEA NOT NULL, time_us BIGINT NOT NULL, signature BYTEA NOT NULL);
CREATE TABLE IF NOT EXISTS {p}head_log (
  tenant TEXT NOT NULL, tree_size BIGINT NOT NULL, root BYTEA NOT NULL,
  last_leaf BYTEA NOT NULL, time_us BIGINT NOT NULL, signature BYTEA NOT NULL,
  PRIMARY KEY (tenant, tree_size));
CREATE TABLE IF NOT EXISTS {p}checkpoints (
  id BIGSERIAL PRIMARY KEY, tenant TEXT NOT NULL, tree_size BIGINT NOT NULL, root BYTEA NOT NULL,
  last_leaf BYTEA NOT NULL, time_us BIGINT NOT NULL, signature BYTEA NOT NULL,
  compact BYTEA NOT NULL, cut BOOLEAN NOT NULL);
)sql";

struct ResultDeleter {
  void operator()(PGresult* r) const { PQclear(r); }
};
using PgResult = std::unique_ptr<PGresult, ResultDeleter>;

Status PgError(PGconn* c, std::string_view what) {
  // Server messages name tables and constraints; our values are hashes and ids.
  std::string msg = c ? PQerrorMessage(c) : "no connection";
  while (!msg.empty() && (msg.back() == '\n' || msg.back() == ' ')) msg.pop_back();
  return absl::UnavailableError(absl::StrCat("audit postgres: ", ToAbsl(what), ": ", msg));
}

// A parameter list: text for ids and numbers, binary for bytea.
class Params {
 public:
  Params& Text(std::string v) {
    vals_.push_back(std::move(v));
    fmt_.push_back(0);
    return *this;
  }
  Params& Int(int64_t v) { return Text(std::to_string(v)); }
  Params& Bytes(std::string_view v) {
    vals_.emplace_back(v);
    fmt_.push_back(1);
    return *this;
  }
  Result<PgResult> Exec(PGconn* c, const std::string& sql, ExecStatusType want,
                        std::string_view what) {
    std::vector<const char*> p;
    std::vector<int> len;
    for (const std::string& v : vals_) {
      p.push_back(v.data());
      len.push_back(static_cast<int>(v.size()));
    }
    PgResult r(PQexecParams(c, sql.c_str(), static_cast<int>(vals_.size()), nullptr, p.data(),
                            len.data(), fmt_.data(), /*resultFormat=*/1));
    if (PQresultStatus(r.get()) != want) return PgError(c, what);
    return r;
  }

 private:
  std::vector<std::string> vals_;
  std::vector<int> fmt_;
};

int64_t GetInt(PGresult* r, int row, int col) {  // binary int8 / int4 / bool
  const auto* p = reinterpret_cast<const uint8_t*>(PQgetvalue(r, row, col));
  const int n = PQgetlength(r, row, col);
  uint64_t v = 0;
  for (int i = 0; i < n; ++i) v = (v << 8) | p[i];
  if (n == 4) return static_cast<int32_t>(static_cast<uint32_t>(v));
  return static_cast<int64_t>(v);
}
std::string_view GetBytes(PGresult* r, int row, int col) {
  return std::string_view(PQgetvalue(r, row, col), static_cast<size_t>(PQgetlength(r, row, col)));
}

void CopyHex(std::string* out, std::string_view bytes) {
  out->append("\\\\x");
  out->append(crypto::ToHex(bytes));
}

class PgStore final : public AuditLogStore {
 public:
  static Result<std::unique_ptr<AuditLogStore>> Open(const std::string& conninfo,
                                                     const AuditStoreOptions& options) {
    auto s = std::unique_ptr<PgStore>(new PgStore(options.table_prefix));
    PHIGATE_RETURN_IF_ERROR(s->Init(conninfo, options));
    return std::unique_ptr<AuditLogStore>(std::move(s));
  }
  ~PgStore() override {
    if (w_) PQfinish(w_);
    if (r_) PQfinish(r_);
  }

  Status Commit(const WriteBatch& batch) override {
    std::lock_guard<std::mutex> lock(wmu_);
    PHIGATE_RETURN_IF_ERROR(Simple(w_, "BEGIN"));
    Status s = CommitLocked(batch);
    if (!s.ok()) {
      Simple(w_, "ROLLBACK").IgnoreError();  // report the batch error
      return s;
    }
    return Simple(w_, "COMMIT");
  }
  Status Sync() override { return absl::OkStatus(); }

  Result<std::vector<TenantId>> Tenants() override {
    std::lock_guard<std::mutex> lock(rmu_);
    PHIGATE_ASSIGN_OR_RETURN(PgResult r,
                             Params().Exec(r_,
                                           T("SELECT tenant FROM {p}heads UNION SELECT tenant FROM "
                                             "{p}checkpoints ORDER BY 1"),
                                           PGRES_TUPLES_OK, "tenants"));
    std::vector<TenantId> out;
    for (int i = 0; i < PQntuples(r.get()); ++i)
      out.emplace_back(std::string(GetBytes(r.get(), i, 0)));
    return out;
  }

  Result<std::optional<SignedTreeHead>> LatestHead(const TenantId& tenant) override {
    std::lock_guard<std::mutex> lock(rmu_);
    PHIGATE_ASSIGN_OR_RETURN(
        PgResult r,
        Params()
            .Text(tenant.value())
            .Exec(r_,
                  T("SELECT tree_size, root, last_leaf, time_us, signature FROM {p}heads "
                    "WHERE tenant = $1"),
                  PGRES_TUPLES_OK, "latest head"));
    if (PQntuples(r.get()) == 0) return std::optional<SignedTreeHead>();
    PHIGATE_ASSIGN_OR_RETURN(SignedTreeHead h, ReadHead(r.get(), 0, tenant));
    return std::optional<SignedTreeHead>(std::move(h));
  }

  Result<std::vector<SignedTreeHead>> HeadLog(const TenantId& tenant) override {
    std::lock_guard<std::mutex> lock(rmu_);
    PHIGATE_ASSIGN_OR_RETURN(
        PgResult r, Params()
                        .Text(tenant.value())
                        .Exec(r_,
                              T("SELECT tree_size, root, last_leaf, time_us, signature FROM "
                                "{p}head_log WHERE tenant = $1 ORDER BY tree_size"),
                              PGRES_TUPLES_OK, "head log"));
    std::vector<SignedTreeHead> out;
    for (int i = 0; i < PQntuples(r.get()); ++i) {
      PHIGATE_ASSIGN_OR_RETURN(SignedTreeHead h, ReadHead(r.get(), i, tenant));
      out.push_back(std::move(h));
    }
    return out;
  }

  Status Scan(const TenantId& tenant, const ScanOptions& o,
              const std::function<Status(const RecordView&)>& fn) override {
    constexpr int kPage = 20000;
    std::string sql =
        "SELECT seq, time_us, record, leaf FROM {p}events WHERE tenant = $1 AND seq >= $2 "
        "AND time_us >= $3 AND time_us < $4";
    if (o.subject) {
      sql += " AND seq IN (SELECT seq FROM {p}subjects WHERE tenant = $1 AND subject = $5)";
    }
    sql += absl::StrCat(" ORDER BY seq LIMIT ", kPage);
    sql = T(sql);
    uint64_t from = o.from_seq;
    while (true) {
      PgResult r;
      {
        std::lock_guard<std::mutex> lock(rmu_);
        Params p;
        p.Text(tenant.value()).Int(static_cast<int64_t>(from)).Int(o.since_us).Int(o.until_us);
        if (o.subject) {
          p.Bytes(std::string_view(reinterpret_cast<const char*>(o.subject->data()), 32));
        }
        PHIGATE_ASSIGN_OR_RETURN(r, p.Exec(r_, sql, PGRES_TUPLES_OK, "scan"));
      }
      const int n = PQntuples(r.get());
      for (int i = 0; i < n; ++i) {
        RecordView v;
        v.seq = static_cast<uint64_t>(GetInt(r.get(), i, 0));
        v.time_us = GetInt(r.get(), i, 1);
        v.record = GetBytes(r.get(), i, 2);
        const std::string_view leaf = GetBytes(r.get(), i, 3);
        if (leaf.size() == 32) std::memcpy(v.leaf.data(), leaf.data(), 32);
        PHIGATE_RETURN_IF_ERROR(fn(v));
        from = v.seq + 1;
      }
      if (n < kPage) return absl::OkStatus();
    }
  }

  Result<std::vector<Hash>> GetNodes(const TenantId& tenant, std::span<const NodeId> ids) override {
    if (ids.empty()) return std::vector<Hash>();
    // One round trip: the ids as two arrays, joined back with their ordinal.
    std::string levels = "{", idxs = "{";
    for (size_t i = 0; i < ids.size(); ++i) {
      if (i) {
        levels += ",";
        idxs += ",";
      }
      absl::StrAppend(&levels, ids[i].level);
      absl::StrAppend(&idxs, ids[i].index);
    }
    levels += "}";
    idxs += "}";
    std::lock_guard<std::mutex> lock(rmu_);
    PHIGATE_ASSIGN_OR_RETURN(
        PgResult r,
        Params()
            .Text(tenant.value())
            .Text(levels)
            .Text(idxs)
            .Exec(r_,
                  T("SELECT q.ord, COALESCE(n.hash, e.leaf) FROM "
                    "unnest($2::int[], $3::bigint[]) WITH ORDINALITY AS q(level, idx, ord) "
                    "LEFT JOIN {p}nodes n ON q.level > 0 AND n.tenant = $1 AND n.level = q.level "
                    "AND n.idx = q.idx "
                    "LEFT JOIN {p}events e ON q.level = 0 AND e.tenant = $1 AND e.seq = q.idx "
                    "ORDER BY q.ord"),
                  PGRES_TUPLES_OK, "get nodes"));
    std::vector<Hash> out;
    for (int i = 0; i < PQntuples(r.get()); ++i) {
      if (PQgetisnull(r.get(), i, 1)) {
        return absl::NotFoundError(absl::StrCat("audit postgres: node ",
                                                ids[static_cast<size_t>(i)].level, "/",
                                                ids[static_cast<size_t>(i)].index, " missing"));
      }
      PHIGATE_ASSIGN_OR_RETURN(Hash h, HashFromBytes(GetBytes(r.get(), i, 1)));
      out.push_back(h);
    }
    if (out.size() != ids.size()) return absl::InternalError("audit postgres: node count");
    return out;
  }

  Status PutCheckpoint(const Checkpoint& cp) override {
    std::lock_guard<std::mutex> lock(wmu_);
    return InsertCheckpoint(cp);
  }

  Result<std::vector<Checkpoint>> Checkpoints(const TenantId& tenant) override {
    std::lock_guard<std::mutex> lock(rmu_);
    PHIGATE_ASSIGN_OR_RETURN(
        PgResult r,
        Params()
            .Text(tenant.value())
            .Exec(r_,
                  T("SELECT tree_size, root, last_leaf, time_us, signature, compact, cut "
                    "FROM {p}checkpoints WHERE tenant = $1 ORDER BY tree_size, id"),
                  PGRES_TUPLES_OK, "checkpoints"));
    std::vector<Checkpoint> out;
    for (int i = 0; i < PQntuples(r.get()); ++i) {
      Checkpoint cp;
      PHIGATE_ASSIGN_OR_RETURN(cp.head, ReadHead(r.get(), i, tenant));
      const std::string_view compact = GetBytes(r.get(), i, 5);
      if (compact.size() % 32 != 0) return absl::DataLossError("audit postgres: bad compact range");
      for (size_t k = 0; k < compact.size(); k += 32) {
        PHIGATE_ASSIGN_OR_RETURN(Hash h, HashFromBytes(compact.substr(k, 32)));
        cp.compact_range.push_back(h);
      }
      cp.cut = GetInt(r.get(), i, 6) != 0;
      out.push_back(std::move(cp));
    }
    return out;
  }

  Status DropBefore(const Checkpoint& cut) override {
    if (!cut.cut) return absl::InvalidArgumentError("audit store: not a retention checkpoint");
    std::lock_guard<std::mutex> lock(wmu_);
    PHIGATE_RETURN_IF_ERROR(Simple(w_, "BEGIN"));
    Status s = InsertCheckpoint(cut);
    for (const char* sql : {"DELETE FROM {p}events WHERE tenant = $1 AND seq < $2",
                            "DELETE FROM {p}subjects WHERE tenant = $1 AND seq < $2"}) {
      if (!s.ok()) break;
      s = Params()
              .Text(cut.head.tenant.value())
              .Int(static_cast<int64_t>(cut.head.tree_size))
              .Exec(w_, T(sql), PGRES_COMMAND_OK, "retention delete")
              .status();
    }
    if (!s.ok()) {
      Simple(w_, "ROLLBACK").IgnoreError();
      return s;
    }
    return Simple(w_, "COMMIT");
  }

 private:
  explicit PgStore(std::string prefix) : prefix_(std::move(prefix)) {}

  std::string T(std::string_view sql) const {
    return absl::StrReplaceAll(ToAbsl(sql), {{"{p}", prefix_}});
  }

  static Status Simple(PGconn* c, const std::string& sql) {
    PgResult r(PQexec(c, sql.c_str()));
    const auto st = PQresultStatus(r.get());
    if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK) return PgError(c, "exec");
    return absl::OkStatus();
  }

  Status Init(const std::string& conninfo, const AuditStoreOptions& options) {
    for (PGconn** c : {&w_, &r_}) {
      *c = PQconnectdb(conninfo.c_str());
      if (PQstatus(*c) != CONNECTION_OK) return PgError(*c, "connect");
      PHIGATE_RETURN_IF_ERROR(Simple(*c, "SET client_min_messages = warning"));
    }
    if (options.pg_async_commit)
      PHIGATE_RETURN_IF_ERROR(Simple(w_, "SET synchronous_commit = off"));
    // Serialise concurrent schema creation by several replicas.
    PHIGATE_RETURN_IF_ERROR(Simple(w_, "BEGIN"));
    PHIGATE_RETURN_IF_ERROR(Simple(w_, "SELECT pg_advisory_xact_lock(726173)"));
    Status s = Simple(w_, T(kSchema));
    if (!s.ok()) {
      Simple(w_, "ROLLBACK").IgnoreError();
      return s;
    }
    return Simple(w_, "COMMIT");
  }

  Status Copy(const std::string& sql, const std::string& data) {
    PgResult r(PQexec(w_, sql.c_str()));
    if (PQresultStatus(r.get()) != PGRES_COPY_IN) return PgError(w_, "copy");
    if (PQputCopyData(w_, data.data(), static_cast<int>(data.size())) != 1 ||
        PQputCopyEnd(w_, nullptr) != 1) {
      return PgError(w_, "copy data");
    }
    PgResult done(PQgetResult(w_));
    const bool ok = PQresultStatus(done.get()) == PGRES_COMMAND_OK;
    while (PGresult* extra = PQgetResult(w_)) PQclear(extra);
    if (!ok) return PgError(w_, "copy end");
    return absl::OkStatus();
  }

  Status CommitLocked(const WriteBatch& batch) {
    if (!batch.rows.empty()) {
      std::string events, subjects;
      events.reserve(batch.rows.size() * 700);
      for (const StoredRow& r : batch.rows) {
        // Tenant ids are [A-Za-z0-9_.:/-]: nothing to escape in COPY text.
        absl::StrAppend(&events, r.tenant.value(), "\t", r.seq, "\t", r.time_us, "\t");
        CopyHex(&events, r.record);
        events += "\t";
        CopyHex(&events, HashBytes(r.leaf));
        events += "\n";
        for (const BlindIndex& b : r.subjects) {
          absl::StrAppend(&subjects, r.tenant.value(), "\t");
          CopyHex(&subjects, std::string_view(reinterpret_cast<const char*>(b.data()), 32));
          absl::StrAppend(&subjects, "\t", r.seq, "\n");
        }
      }
      PHIGATE_RETURN_IF_ERROR(
          Copy(T("COPY {p}events (tenant, seq, time_us, record, leaf) FROM STDIN"), events));
      if (!subjects.empty()) {
        PHIGATE_RETURN_IF_ERROR(
            Copy(T("COPY {p}subjects (tenant, subject, seq) FROM STDIN"), subjects));
      }
    }
    if (!batch.nodes.empty()) {
      std::string nodes;
      for (const TenantNode& n : batch.nodes) {
        absl::StrAppend(&nodes, n.tenant.value(), "\t", n.node.id.level, "\t", n.node.id.index,
                        "\t");
        CopyHex(&nodes, HashBytes(n.node.hash));
        nodes += "\n";
      }
      PHIGATE_RETURN_IF_ERROR(
          Copy(T("COPY {p}nodes (tenant, level, idx, hash) FROM STDIN"), nodes));
    }
    for (const SignedTreeHead& h : batch.heads) {
      PHIGATE_RETURN_IF_ERROR(
          HeadParams(h)
              .Exec(w_,
                    T("INSERT INTO {p}heads (tenant, tree_size, root, last_leaf, time_us, "
                      "signature) VALUES ($1,$2,$3,$4,$5,$6) ON CONFLICT (tenant) DO UPDATE SET "
                      "tree_size = EXCLUDED.tree_size, root = EXCLUDED.root, last_leaf = "
                      "EXCLUDED.last_leaf, time_us = EXCLUDED.time_us, signature = "
                      "EXCLUDED.signature"),
                    PGRES_COMMAND_OK, "upsert head")
              .status());
    }
    for (const SignedTreeHead& h : batch.head_log) {
      PHIGATE_RETURN_IF_ERROR(
          HeadParams(h)
              .Exec(w_,
                    T("INSERT INTO {p}head_log (tenant, tree_size, root, last_leaf, time_us, "
                      "signature) VALUES ($1,$2,$3,$4,$5,$6) ON CONFLICT DO NOTHING"),
                    PGRES_COMMAND_OK, "insert head log")
              .status());
    }
    return absl::OkStatus();
  }

  static Params HeadParams(const SignedTreeHead& h) {
    Params p;
    p.Text(h.tenant.value())
        .Int(static_cast<int64_t>(h.tree_size))
        .Bytes(HashBytes(h.root))
        .Bytes(HashBytes(h.last_leaf))
        .Int(h.timestamp_us)
        .Bytes(h.signature);
    return p;
  }

  static Result<SignedTreeHead> ReadHead(PGresult* r, int row, const TenantId& tenant) {
    SignedTreeHead h;
    h.tenant = tenant;
    h.tree_size = static_cast<uint64_t>(GetInt(r, row, 0));
    PHIGATE_ASSIGN_OR_RETURN(h.root, HashFromBytes(GetBytes(r, row, 1)));
    PHIGATE_ASSIGN_OR_RETURN(h.last_leaf, HashFromBytes(GetBytes(r, row, 2)));
    h.timestamp_us = GetInt(r, row, 3);
    h.signature = std::string(GetBytes(r, row, 4));
    return h;
  }

  Status InsertCheckpoint(const Checkpoint& cp) {
    std::string compact;
    for (const Hash& h : cp.compact_range) compact.append(HashBytes(h));
    Params p = HeadParams(cp.head);
    p.Bytes(compact).Text(cp.cut ? "true" : "false");
    return p
        .Exec(w_,
              T("INSERT INTO {p}checkpoints (tenant, tree_size, root, last_leaf, time_us, "
                "signature, compact, cut) VALUES ($1,$2,$3,$4,$5,$6,$7,$8)"),
              PGRES_COMMAND_OK, "insert checkpoint")
        .status();
  }

  const std::string prefix_;
  std::mutex wmu_;
  PGconn* w_ = nullptr;
  std::mutex rmu_;
  PGconn* r_ = nullptr;
};

}  // namespace

Result<std::unique_ptr<AuditLogStore>> OpenPostgresAuditLogStore(const std::string& conninfo,
                                                                 const AuditStoreOptions& options) {
  return PgStore::Open(conninfo, options);
}

}  // namespace phigate::audit
