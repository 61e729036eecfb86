// PostgreSQL backend of AuditLogStore (libpq). A group commit is ONE
// statement, prepared once: data-modifying CTEs insert the batch's events,
// subjects, Merkle nodes and head-log entries from binary arrays (unnest) and
// upsert the tenants' heads (never to a smaller tree: a replica with a stale
// view may sign an older head). One statement in autocommit mode is one
// transaction, so the whole batch costs one round trip plus the server's WAL
// flush; with synchronous_commit on (the default) it returns after the flush,
// so Sync() has nothing left to do. One connection writes, another reads;
// scans page through the trail by seq.
#include <libpq-fe.h>

#include <algorithm>
#include <cstring>
#include <map>
#include <mutex>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"
#include "phigate/audit/log_store.h"

namespace phigate::audit {
namespace {

// Tenant ids compare bytewise (COLLATE "C"): every index search on a tenant
// column would otherwise call strcoll (the database may use C.UTF-8). The time
// index is a BRIN (block ranges): event times grow with insertion order, so it
// serves time-range queries at almost no cost per insert (a B-tree costs the
// server about 4 us per event).
constexpr char kSchema[] = R"sql(
CREATE TABLE IF NOT EXISTS {p}events (
  tenant TEXT COLLATE "C" NOT NULL, seq BIGINT NOT NULL, time_us BIGINT NOT NULL,
  record BYTEA NOT NULL, leaf BYTEA NOT NULL, PRIMARY KEY (tenant, seq));
ALTER TABLE {p}events ADD COLUMN IF NOT EXISTS nodes BYTEA NOT NULL DEFAULT '';
CREATE INDEX IF NOT EXISTS {p}events_time ON {p}events USING brin (tenant, time_us);
CREATE TABLE IF NOT EXISTS {p}subject_buckets (
  tenant TEXT COLLATE "C" NOT NULL, bucket BIGINT NOT NULL, subject BYTEA NOT NULL,
  seq BIGINT NOT NULL,
  PRIMARY KEY (tenant, bucket, subject, seq));
CREATE TABLE IF NOT EXISTS {p}nodes (
  tenant TEXT COLLATE "C" NOT NULL, level INT NOT NULL, idx BIGINT NOT NULL, hash BYTEA NOT NULL,
  PRIMARY KEY (tenant, level, idx));
CREATE TABLE IF NOT EXISTS {p}heads (
  tenant TEXT COLLATE "C" PRIMARY KEY, tree_size BIGINT NOT NULL, root BYTEA NOT NULL,
  last_leaf BYTEA NOT NULL, time_us BIGINT NOT NULL, signature BYTEA NOT NULL);
CREATE TABLE IF NOT EXISTS {p}head_log (
  tenant TEXT COLLATE "C" NOT NULL, tree_size BIGINT NOT NULL, root BYTEA NOT NULL,
  last_leaf BYTEA NOT NULL, time_us BIGINT NOT NULL, signature BYTEA NOT NULL,
  PRIMARY KEY (tenant, tree_size));
CREATE TABLE IF NOT EXISTS {p}checkpoints (
  id BIGSERIAL PRIMARY KEY, tenant TEXT COLLATE "C" NOT NULL, tree_size BIGINT NOT NULL,
  root BYTEA NOT NULL,
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

// A one-dimensional array in PostgreSQL's binary format (array_recv): ndim,
// has-null flag, element type, then per element its length and bytes; all
// integers big-endian.
class PgArray {
 public:
  static constexpr uint32_t kInt8 = 20, kText = 25, kBytea = 17;  // pg_type OIDs
  explicit PgArray(uint32_t oid) : oid_(oid) {}
  void Clear() {
    body_.clear();
    n_ = 0;
  }
  void Add(std::string_view bytes) {
    PutBe32(&body_, static_cast<uint32_t>(bytes.size()));
    body_.append(bytes);
    ++n_;
  }
  void AddInt8(int64_t v) {
    PutBe32(&body_, 8);
    PutBe32(&body_, static_cast<uint32_t>(static_cast<uint64_t>(v) >> 32));
    PutBe32(&body_, static_cast<uint32_t>(static_cast<uint64_t>(v) & 0xffffffffu));
    ++n_;
  }
  void AddInt4(int32_t v) {
    PutBe32(&body_, 4);
    PutBe32(&body_, static_cast<uint32_t>(v));
    ++n_;
  }
  // The whole array value; valid until the next change.
  const std::string& Finish() {
    out_.clear();
    PutBe32(&out_, n_ == 0 ? 0 : 1);  // ndim
    PutBe32(&out_, 0);                // no nulls
    PutBe32(&out_, oid_);
    if (n_ > 0) {
      PutBe32(&out_, n_);
      PutBe32(&out_, 1);  // lower bound
    }
    out_.append(body_);
    return out_;
  }

 private:
  static void PutBe32(std::string* out, uint32_t v) {
    const char b[4] = {static_cast<char>(v >> 24), static_cast<char>((v >> 16) & 0xff),
                       static_cast<char>((v >> 8) & 0xff), static_cast<char>(v & 0xff)};
    out->append(b, 4);
  }
  uint32_t oid_;
  uint32_t n_ = 0;
  std::string body_, out_;
};

constexpr char kCommitSql[] = R"sql(
WITH e AS (
  INSERT INTO {p}events (tenant, seq, time_us, record, leaf, nodes)
  SELECT * FROM unnest($1::text[], $2::int8[], $3::int8[], $4::bytea[], $5::bytea[],
                       $6::bytea[])),
s AS (
  INSERT INTO {p}subject_buckets (tenant, bucket, subject, seq)
  SELECT t, q >> 8, b, q FROM unnest($7::text[], $8::bytea[], $9::int8[]) AS u(t, b, q)),
hl AS (
  INSERT INTO {p}head_log (tenant, tree_size, root, last_leaf, time_us, signature)
  SELECT * FROM unnest($10::text[], $11::int8[], $12::bytea[], $13::bytea[], $14::int8[],
                       $15::bytea[])
  ON CONFLICT DO NOTHING)
INSERT INTO {p}heads (tenant, tree_size, root, last_leaf, time_us, signature)
SELECT * FROM unnest($16::text[], $17::int8[], $18::bytea[], $19::bytea[], $20::int8[],
                     $21::bytea[])
ON CONFLICT (tenant) DO UPDATE SET tree_size = EXCLUDED.tree_size, root = EXCLUDED.root,
  last_leaf = EXCLUDED.last_leaf, time_us = EXCLUDED.time_us, signature = EXCLUDED.signature
  WHERE {p}heads.tree_size <= EXCLUDED.tree_size
)sql";
constexpr char kCommitStmt[] = "phigate_audit_commit";

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
    return CommitLocked(batch);
  }
  Status Sync() override { return absl::OkStatus(); }

  Result<std::vector<TenantId>> Tenants() override {
    std::lock_guard<std::mutex> lock(rmu_);
    PHIGATE_ASSIGN_OR_RETURN(PgResult r,
                             Params().Exec(r_,
                                           T("SELECT tenant FROM {p}heads UNION SELECT tenant FROM "
                                             "{p}checkpoints UNION SELECT tenant FROM {p}head_log "
                                             "UNION SELECT tenant FROM {p}events ORDER BY 1"),
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
        "SELECT seq, time_us, record, leaf, nodes FROM {p}events WHERE tenant = $1 AND seq >= $2 "
        "AND time_us >= $3 AND time_us < $4";
    if (o.subject) {
      // One index probe per bucket of 256 events (as on SQLite: a batch's
      // entries share a few index pages instead of one random page each).
      sql +=
          " AND seq IN (SELECT s.seq FROM generate_series($2::bigint >> 8, (SELECT max(seq) "
          "FROM {p}events WHERE tenant = $1) >> 8) AS b(x) JOIN {p}subject_buckets s ON "
          "s.tenant = $1 AND s.bucket = b.x AND s.subject = $5)";
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
        v.nodes = GetBytes(r.get(), i, 4);
        PHIGATE_RETURN_IF_ERROR(fn(v));
        from = v.seq + 1;
      }
      if (n < kPage) return absl::OkStatus();
    }
  }

  Status ScanSubjects(const TenantId& tenant, uint64_t from_seq, uint64_t to_seq,
                      const std::function<Status(uint64_t, std::string_view)>& fn) override {
    if (from_seq >= to_seq || to_seq > kMaxSeq) {
      return absl::InvalidArgumentError("audit store: bad seq range");
    }
    PgResult r;
    {
      std::lock_guard<std::mutex> lock(rmu_);
      Params p;
      p.Text(tenant.value())
          .Int(static_cast<int64_t>(from_seq >> 8))
          .Int(static_cast<int64_t>((to_seq - 1) >> 8))
          .Int(static_cast<int64_t>(from_seq))
          .Int(static_cast<int64_t>(to_seq));
      PHIGATE_ASSIGN_OR_RETURN(
          r, p.Exec(r_,
                    T("SELECT seq, subject FROM {p}subject_buckets WHERE tenant = $1 AND bucket "
                      ">= $2 AND bucket <= $3 AND seq >= $4 AND seq < $5 ORDER BY seq, subject"),
                    PGRES_TUPLES_OK, "scan subjects"));
    }
    const int n = PQntuples(r.get());
    for (int i = 0; i < n; ++i) {
      PHIGATE_RETURN_IF_ERROR(
          fn(static_cast<uint64_t>(GetInt(r.get(), i, 0)), GetBytes(r.get(), i, 1)));
    }
    return absl::OkStatus();
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
            .Exec(
                r_,
                // A node is in the row of the leaf that completed it, or
                // (after retention dropped that row) in the nodes table.
                T("SELECT q.ord, CASE WHEN q.level = 0 THEN e.leaf ELSE COALESCE(NULLIF("
                  "substring(e.nodes FROM (q.level - 1) * 32 + 1 FOR 32), ''::bytea), n.hash) "
                  "END FROM unnest($2::int[], $3::bigint[]) WITH ORDINALITY AS q(level, idx, ord) "
                  "LEFT JOIN {p}events e ON e.tenant = $1 AND e.seq = "
                  "((q.idx + 1) << q.level) - 1 "
                  "LEFT JOIN {p}nodes n ON q.level > 0 AND n.tenant = $1 AND n.level = q.level "
                  "AND n.idx = q.idx ORDER BY q.ord"),
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
    for (const char* sql : {// Keep the Merkle nodes of the dropped rows (proofs need them).
                            "INSERT INTO {p}nodes (tenant, level, idx, hash) "
                            "SELECT e.tenant, l, ((e.seq + 1) >> l) - 1, "
                            "substring(e.nodes FROM (l - 1) * 32 + 1 FOR 32) "
                            "FROM {p}events e, generate_series(1, octet_length(e.nodes) / 32) AS l "
                            "WHERE e.tenant = $1 AND e.seq < $2 ON CONFLICT DO NOTHING",
                            "DELETE FROM {p}events WHERE tenant = $1 AND seq < $2",
                            "DELETE FROM {p}subject_buckets WHERE tenant = $1 AND "
                            "bucket <= ($2::bigint >> 8) AND seq < $2"}) {
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
    PHIGATE_RETURN_IF_ERROR(Simple(w_, "COMMIT"));
    PgResult prep(PQprepare(w_, kCommitStmt, T(kCommitSql).c_str(), 0, nullptr));
    if (PQresultStatus(prep.get()) != PGRES_COMMAND_OK) return PgError(w_, "prepare commit");
    return absl::OkStatus();
  }

  Status CommitLocked(const WriteBatch& batch) {
    for (PgArray& a : cols_) a.Clear();
    // Each Merkle node goes into the row of the leaf that completed it
    // (CompletingLeaf), level by level, so a batch writes no node rows at all.
    std::map<std::pair<std::string_view, uint64_t>, std::string> row_nodes;
    for (const TenantNode& n : batch.nodes) {
      std::string& blob = row_nodes[{n.tenant.value(), CompletingLeaf(n.node.id)}];
      if (blob.size() != (n.node.id.level - 1) * size_t{32}) {
        return absl::InternalError("audit postgres: Merkle nodes out of order in a batch");
      }
      blob.append(HashBytes(n.node.hash));
    }
    for (const StoredRow& r : batch.rows) {
      cols_[0].Add(r.tenant.value());
      cols_[1].AddInt8(static_cast<int64_t>(r.seq));
      cols_[2].AddInt8(r.time_us);
      cols_[3].Add(r.record);
      cols_[4].Add(HashBytes(r.leaf));
      auto it = row_nodes.find({r.tenant.value(), r.seq});
      cols_[5].Add(it == row_nodes.end() ? std::string_view() : std::string_view(it->second));
      for (const BlindIndex& b : r.subjects) {
        cols_[6].Add(r.tenant.value());
        cols_[7].Add(std::string_view(reinterpret_cast<const char*>(b.data()), b.size()));
        cols_[8].AddInt8(static_cast<int64_t>(r.seq));
      }
    }
    size_t c = 9;
    for (const auto* heads : {&batch.head_log, &batch.heads}) {
      for (const SignedTreeHead& h : *heads) {
        cols_[c].Add(h.tenant.value());
        cols_[c + 1].AddInt8(static_cast<int64_t>(h.tree_size));
        cols_[c + 2].Add(HashBytes(h.root));
        cols_[c + 3].Add(HashBytes(h.last_leaf));
        cols_[c + 4].AddInt8(h.timestamp_us);
        cols_[c + 5].Add(h.signature);
      }
      c += 6;
    }
    const char* values[kCommitParams];
    int lengths[kCommitParams];
    int formats[kCommitParams];
    for (size_t i = 0; i < kCommitParams; ++i) {
      const std::string& v = cols_[i].Finish();
      values[i] = v.data();
      lengths[i] = static_cast<int>(v.size());
      formats[i] = 1;
    }
    PgResult r(PQexecPrepared(w_, kCommitStmt, static_cast<int>(kCommitParams), values, lengths,
                              formats, /*resultFormat=*/0));
    if (PQresultStatus(r.get()) != PGRES_COMMAND_OK) return PgError(w_, "commit batch");
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

  static constexpr size_t kCommitParams = 21;
  const std::string prefix_;
  std::mutex wmu_;
  PGconn* w_ = nullptr;
  // The commit statement's array parameters, reused across batches (wmu_).
  PgArray cols_[kCommitParams] = {
      // events: tenant, seq, time_us, record, leaf, nodes
      PgArray(PgArray::kText),
      PgArray(PgArray::kInt8),
      PgArray(PgArray::kInt8),
      PgArray(PgArray::kBytea),
      PgArray(PgArray::kBytea),
      PgArray(PgArray::kBytea),
      // subjects: tenant, subject, seq
      PgArray(PgArray::kText),
      PgArray(PgArray::kBytea),
      PgArray(PgArray::kInt8),
      // head log, then heads: tenant, tree_size, root, last_leaf, time_us, signature
      PgArray(PgArray::kText),
      PgArray(PgArray::kInt8),
      PgArray(PgArray::kBytea),
      PgArray(PgArray::kBytea),
      PgArray(PgArray::kInt8),
      PgArray(PgArray::kBytea),
      PgArray(PgArray::kText),
      PgArray(PgArray::kInt8),
      PgArray(PgArray::kBytea),
      PgArray(PgArray::kBytea),
      PgArray(PgArray::kInt8),
      PgArray(PgArray::kBytea),
  };
  std::mutex rmu_;
  PGconn* r_ = nullptr;
};

}  // namespace

Result<std::unique_ptr<AuditLogStore>> OpenPostgresAuditLogStore(const std::string& conninfo,
                                                                 const AuditStoreOptions& options) {
  return PgStore::Open(conninfo, options);
}

}  // namespace phigate::audit
