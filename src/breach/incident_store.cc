#include "phigate/breach/incident_store.h"

#include <sqlite3.h>

#include <algorithm>
#include <cstdio>
#include <map>
#include <mutex>
#include <optional>
#include <tuple>
#include <utility>

#include "absl/base/thread_annotations.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "phigate/crypto/aead.h"
#include "phigate/crypto/encoding.h"
#include "phigate/crypto/secret.h"
#include "phigate/crypto/signer.h"
#include "phigate/store/store.h"

namespace phigate::breach {
namespace {

int YearOf(const Incident& inc) { return static_cast<int>(inc.DiscoveryDate().year()); }

class MemoryIncidentStore : public IncidentStore {
 public:
  Status Create(Incident& inc) override {
    absl::MutexLock lock(&mu_);
    const int year = YearOf(inc);
    const int64_t seq = ++next_[{inc.tenant.value(), year}];
    inc.id = FormatIncidentId(year, seq);
    rows_.emplace_back(inc.tenant.value(), inc.id, IncidentToJson(inc));
    return absl::OkStatus();
  }
  Status Update(const Incident& inc) override {
    absl::MutexLock lock(&mu_);
    for (auto& [t, id, json] : rows_) {
      if (t == inc.tenant.value() && id == inc.id) {
        json = IncidentToJson(inc);
        return absl::OkStatus();
      }
    }
    return absl::NotFoundError(absl::StrCat("no incident ", inc.id));
  }
  Result<Incident> Get(const TenantId& tenant, std::string_view id) override {
    absl::MutexLock lock(&mu_);
    for (const auto& [t, i, json] : rows_) {
      if (t == tenant.value() && i == id) return IncidentFromJson(json);
    }
    return absl::NotFoundError(absl::StrCat("no incident ", ToAbsl(id), " for this tenant"));
  }
  Result<std::vector<Incident>> List(const TenantId& tenant) override {
    absl::MutexLock lock(&mu_);
    std::vector<Incident> out;
    for (const auto& [t, i, json] : rows_) {
      if (t != tenant.value()) continue;
      PHIGATE_ASSIGN_OR_RETURN(Incident inc, IncidentFromJson(json));
      out.push_back(std::move(inc));
    }
    return out;
  }
  Result<std::vector<Incident>> FindById(std::string_view id) override {
    absl::MutexLock lock(&mu_);
    std::vector<Incident> out;
    for (const auto& [t, i, json] : rows_) {
      if (i != id) continue;
      PHIGATE_ASSIGN_OR_RETURN(Incident inc, IncidentFromJson(json));
      out.push_back(std::move(inc));
    }
    return out;
  }

 private:
  absl::Mutex mu_;
  std::map<std::pair<std::string, int>, int64_t> next_ ABSL_GUARDED_BY(mu_);
  std::vector<std::tuple<std::string, std::string, std::string>> rows_ ABSL_GUARDED_BY(mu_);
};

// One statement, finalized on scope exit.
class Stmt {
 public:
  Stmt(sqlite3* db, const char* sql) { rc_ = sqlite3_prepare_v2(db, sql, -1, &s_, nullptr); }
  ~Stmt() { sqlite3_finalize(s_); }
  Stmt(const Stmt&) = delete;
  Stmt& operator=(const Stmt&) = delete;
  bool ok() const { return rc_ == SQLITE_OK; }
  sqlite3_stmt* get() { return s_; }
  void Bind(int i, std::string_view v) {
    sqlite3_bind_text(s_, i, v.data(), static_cast<int>(v.size()), SQLITE_TRANSIENT);
  }
  void Bind(int i, int64_t v) { sqlite3_bind_int64(s_, i, v); }
  int Step() { return sqlite3_step(s_); }
  std::string Text(int col) {
    const unsigned char* t = sqlite3_column_text(s_, col);
    return t == nullptr ? std::string()
                        : std::string(reinterpret_cast<const char*>(t),
                                      static_cast<size_t>(sqlite3_column_bytes(s_, col)));
  }

 private:
  sqlite3_stmt* s_ = nullptr;
  int rc_ = SQLITE_ERROR;
};

Status SqlError(const char* what) {
  // SQLite messages can quote bound values; report only what failed.
  return absl::UnavailableError(absl::StrCat("incident store: ", what, " failed"));
}

constexpr std::string_view kSealedPrefix = "enc1:";

// Seals incident records at rest: AES-256-GCM under a per-tenant key (HKDF of
// the record key and the tenant id), tenant and id as associated data, so a
// record cannot be moved to another row or tenant. Without a record key,
// records are written in clear. Thread-safe.
class RecordSealer {
 public:
  RecordSealer(std::string record_key, std::vector<std::string> retired) {
    record_keys_.emplace_back(std::move(record_key));
    for (std::string& k : retired) record_keys_.emplace_back(std::move(k));
  }

  // The record as stored: "enc1:" and the sealed JSON, or the JSON in clear.
  Result<std::string> Seal(const Incident& inc) {
    absl::MutexLock lock(&mu_);
    std::string json = IncidentToJson(inc);
    if (record_keys_[0].empty()) return json;
    PHIGATE_ASSIGN_OR_RETURN(const crypto::Aead* a, TenantAead(inc.tenant.value()));
    PHIGATE_ASSIGN_OR_RETURN(std::string sealed,
                             a->Seal(json, AssociatedData(inc.tenant.value(), inc.id)));
    return absl::StrCat(ToAbsl(kSealedPrefix), crypto::Base64Encode(sealed));
  }

  // The incident of a stored record of `tenant` with `id`.
  Result<Incident> Unseal(std::string_view tenant, std::string_view id, std::string_view record) {
    absl::MutexLock lock(&mu_);
    if (!absl::StartsWith(ToAbsl(record), ToAbsl(kSealedPrefix))) return IncidentFromJson(record);
    if (record_keys_[0].empty()) {
      return absl::FailedPreconditionError(
          "incident records are encrypted: set PHIGATE_MASTER_KEY to read them");
    }
    PHIGATE_ASSIGN_OR_RETURN(std::string sealed,
                             crypto::Base64Decode(record.substr(kSealedPrefix.size())));
    // The current key first, then the retired ones (a record not updated
    // since a rotation).
    Result<std::string> json = absl::DataLossError("no key");
    for (size_t k = 0; k < record_keys_.size() && !json.ok(); ++k) {
      PHIGATE_ASSIGN_OR_RETURN(const crypto::Aead* a, TenantAead(tenant, k));
      json = a->Open(sealed, AssociatedData(tenant, id));
    }
    if (!json.ok()) {
      return absl::DataLossError(
          "an incident record does not decrypt: wrong master key (after a rotation, give the "
          "retired one too) or a tampered row");
    }
    return IncidentFromJson(*json);
  }

 private:
  // The tenant's record cipher under record key `key` (0: the current one; HKDF
  // of the record key and the tenant id).
  Result<const crypto::Aead*> TenantAead(std::string_view tenant, size_t key = 0)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    auto it = aeads_.find(std::make_pair(key, std::string(tenant)));
    if (it != aeads_.end()) return it->second.get();
    PHIGATE_ASSIGN_OR_RETURN(
        std::string k,
        crypto::HkdfSha256(record_keys_[key].view(), "phigate",
                           absl::StrCat("breach-incident-tenant-v1/", ToAbsl(tenant)), 32));
    PHIGATE_ASSIGN_OR_RETURN(std::unique_ptr<crypto::Aead> a,
                             crypto::Aead::Create(crypto::SecretBytes(std::move(k))));
    const crypto::Aead* raw = a.get();
    aeads_.emplace(std::make_pair(key, std::string(tenant)), std::move(a));
    return raw;
  }
  static std::string AssociatedData(std::string_view tenant, std::string_view id) {
    return absl::StrCat("breach.incident\n", ToAbsl(tenant), "\n", ToAbsl(id));
  }

  absl::Mutex mu_;
  // [0] the current record key (empty: records in clear), then retired ones.
  std::vector<crypto::SecretBytes> record_keys_;
  std::map<std::pair<size_t, std::string>, std::unique_ptr<crypto::Aead>> aeads_
      ABSL_GUARDED_BY(mu_);
};

class SqliteIncidentStore : public IncidentStore {
 public:
  static Result<std::unique_ptr<IncidentStore>> Open(const std::string& path,
                                                     std::string record_key,
                                                     std::vector<std::string> retired) {
    sqlite3* db = nullptr;
    if (sqlite3_open_v2(path.c_str(), &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, nullptr) !=
        SQLITE_OK) {
      sqlite3_close(db);
      return absl::UnavailableError("incident store: cannot open the SQLite file");
    }
    std::unique_ptr<SqliteIncidentStore> s(
        new SqliteIncidentStore(db, std::move(record_key), std::move(retired)));
    sqlite3_busy_timeout(db, 5000);
    PHIGATE_RETURN_IF_ERROR(s->Exec("PRAGMA journal_mode=WAL"));
    PHIGATE_RETURN_IF_ERROR(s->Exec(
        "CREATE TABLE IF NOT EXISTS breach_incidents ("
        " tenant TEXT NOT NULL, id TEXT NOT NULL, year INTEGER NOT NULL, seq INTEGER NOT NULL,"
        " detected_at INTEGER NOT NULL, state TEXT NOT NULL, record TEXT NOT NULL,"
        " PRIMARY KEY (tenant, id), UNIQUE (tenant, year, seq))"));
    return std::unique_ptr<IncidentStore>(std::move(s));
  }
  ~SqliteIncidentStore() override { sqlite3_close(db_); }

  Status Create(Incident& inc) override {
    absl::MutexLock lock(&mu_);
    PHIGATE_RETURN_IF_ERROR(Exec("BEGIN IMMEDIATE"));
    Status s = CreateLocked(inc);
    PHIGATE_RETURN_IF_ERROR(Exec(s.ok() ? "COMMIT" : "ROLLBACK"));
    return s;
  }
  Status Update(const Incident& inc) override {
    absl::MutexLock lock(&mu_);
    Stmt st(db_,
            "UPDATE breach_incidents SET state = ?1, record = ?2 WHERE tenant = ?3 AND id = ?4");
    if (!st.ok()) return SqlError("prepare update");
    PHIGATE_ASSIGN_OR_RETURN(std::string record, Seal(inc));
    st.Bind(1, Name(inc.state));
    st.Bind(2, record);
    st.Bind(3, inc.tenant.value());
    st.Bind(4, inc.id);
    if (st.Step() != SQLITE_DONE) return SqlError("update");
    if (sqlite3_changes(db_) == 0) return absl::NotFoundError(absl::StrCat("no incident ", inc.id));
    return absl::OkStatus();
  }
  Result<Incident> Get(const TenantId& tenant, std::string_view id) override {
    absl::MutexLock lock(&mu_);
    Stmt st(db_, "SELECT tenant, id, record FROM breach_incidents WHERE tenant = ?1 AND id = ?2");
    if (!st.ok()) return SqlError("prepare get");
    st.Bind(1, tenant.value());
    st.Bind(2, id);
    const int rc = st.Step();
    if (rc == SQLITE_DONE) {
      return absl::NotFoundError(absl::StrCat("no incident ", ToAbsl(id), " for this tenant"));
    }
    if (rc != SQLITE_ROW) return SqlError("get");
    return Unseal(st.Text(0), st.Text(1), st.Text(2));
  }
  Result<std::vector<Incident>> List(const TenantId& tenant) override {
    absl::MutexLock lock(&mu_);
    Stmt st(db_,
            "SELECT tenant, id, record FROM breach_incidents WHERE tenant = ?1 "
            "ORDER BY detected_at, year, seq");
    if (!st.ok()) return SqlError("prepare list");
    st.Bind(1, tenant.value());
    return Collect(st);
  }
  Result<std::vector<Incident>> FindById(std::string_view id) override {
    absl::MutexLock lock(&mu_);
    Stmt st(db_, "SELECT tenant, id, record FROM breach_incidents WHERE id = ?1 ORDER BY tenant");
    if (!st.ok()) return SqlError("prepare find");
    st.Bind(1, id);
    return Collect(st);
  }

 private:
  SqliteIncidentStore(sqlite3* db, std::string record_key, std::vector<std::string> retired)
      : db_(db), sealer_(std::move(record_key), std::move(retired)) {}

  Status Exec(const char* sql) {
    if (sqlite3_exec(db_, sql, nullptr, nullptr, nullptr) != SQLITE_OK)
      return SqlError("statement");
    return absl::OkStatus();
  }

  Status CreateLocked(Incident& inc) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    const int year = YearOf(inc);
    int64_t seq = 1;
    {
      Stmt st(
          db_,
          "SELECT COALESCE(MAX(seq), 0) + 1 FROM breach_incidents WHERE tenant = ?1 AND year = ?2");
      if (!st.ok()) return SqlError("prepare sequence");
      st.Bind(1, inc.tenant.value());
      st.Bind(2, int64_t{year});
      if (st.Step() != SQLITE_ROW) return SqlError("sequence");
      seq = sqlite3_column_int64(st.get(), 0);
    }
    inc.id = FormatIncidentId(year, seq);
    Stmt st(db_,
            "INSERT INTO breach_incidents (tenant, id, year, seq, detected_at, state, record) "
            "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)");
    if (!st.ok()) return SqlError("prepare insert");
    st.Bind(1, inc.tenant.value());
    st.Bind(2, inc.id);
    st.Bind(3, int64_t{year});
    st.Bind(4, seq);
    st.Bind(5, inc.detected_at_unix);
    st.Bind(6, Name(inc.state));
    PHIGATE_ASSIGN_OR_RETURN(std::string record, Seal(inc));
    st.Bind(7, record);
    if (st.Step() != SQLITE_DONE) return SqlError("insert");
    return absl::OkStatus();
  }

  Result<std::vector<Incident>> Collect(Stmt& st) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    std::vector<Incident> out;
    for (;;) {
      const int rc = st.Step();
      if (rc == SQLITE_DONE) break;
      if (rc != SQLITE_ROW) return SqlError("read");
      PHIGATE_ASSIGN_OR_RETURN(Incident inc, Unseal(st.Text(0), st.Text(1), st.Text(2)));
      out.push_back(std::move(inc));
    }
    return out;
  }

  Result<std::string> Seal(const Incident& inc) { return sealer_.Seal(inc); }
  Result<Incident> Unseal(std::string_view tenant, std::string_view id, std::string_view record) {
    return sealer_.Unseal(tenant, id, record);
  }

  absl::Mutex mu_;
  sqlite3* db_;  // one connection, serialised by mu_
  RecordSealer sealer_;
};

// Incidents on the generic store (phigate/store/store.h), so that gateway
// replicas sharing PostgreSQL share their incidents as they share the vault
// and the audit trail. Per tenant:
//   breach.incident      id ("INC-2026-0007") -> the sealed record, ts = detection time
//   breach.incident.seq  year ("2026")        -> the last sequence number given
// An id is taken with PutIfAbsent, so two replicas creating incidents at once
// never share one: the one that loses moves on to the next number.
class StoreIncidentStore : public IncidentStore {
 public:
  StoreIncidentStore(std::shared_ptr<store::Store> store, std::string record_key,
                     std::vector<std::string> retired)
      : store_(std::move(store)), sealer_(std::move(record_key), std::move(retired)) {}

  Status Create(Incident& inc) override {
    PHIGATE_ASSIGN_OR_RETURN(std::unique_ptr<store::TenantStore> ts, store_->ForTenant(inc.tenant));
    const int year = YearOf(inc);
    const std::string year_key = absl::StrCat(year);
    Incident draft = inc;
    PHIGATE_RETURN_IF_ERROR(ts->RunInTransaction([&](store::Transaction& tx) -> Status {
      PHIGATE_ASSIGN_OR_RETURN(std::optional<store::Record> last, tx.Get(kSeqNs, year_key));
      int64_t seq = 1;
      if (last.has_value()) {
        if (!absl::SimpleAtoi(last->value, &seq) || seq < 0) {
          return absl::DataLossError("incident store: a sequence record is not a number");
        }
        ++seq;
      }
      for (int tries = 0;; ++tries, ++seq) {
        if (tries >= kMaxIdTries) return absl::AbortedError("incident store: no free incident id");
        draft.id = FormatIncidentId(year, seq);
        PHIGATE_ASSIGN_OR_RETURN(std::string record, sealer_.Seal(draft));
        PHIGATE_ASSIGN_OR_RETURN(
            bool taken, tx.PutIfAbsent(kIncidentNs, draft.id, record, inc.detected_at_unix));
        if (taken) break;
      }
      return tx.Put(kSeqNs, year_key, absl::StrCat(seq), inc.detected_at_unix);
    }));
    inc.id = draft.id;
    return absl::OkStatus();
  }

  Status Update(const Incident& inc) override {
    PHIGATE_ASSIGN_OR_RETURN(std::unique_ptr<store::TenantStore> ts, store_->ForTenant(inc.tenant));
    PHIGATE_ASSIGN_OR_RETURN(std::string record, sealer_.Seal(inc));
    return ts->RunInTransaction([&](store::Transaction& tx) -> Status {
      PHIGATE_ASSIGN_OR_RETURN(std::optional<store::Record> old, tx.Get(kIncidentNs, inc.id));
      if (!old.has_value()) return absl::NotFoundError(absl::StrCat("no incident ", inc.id));
      return tx.Put(kIncidentNs, inc.id, record, old->ts);
    });
  }

  Result<Incident> Get(const TenantId& tenant, std::string_view id) override {
    PHIGATE_ASSIGN_OR_RETURN(std::unique_ptr<store::TenantStore> ts, store_->ForTenant(tenant));
    std::optional<store::Record> row;
    PHIGATE_RETURN_IF_ERROR(ts->RunInTransaction([&](store::Transaction& tx) -> Status {
      PHIGATE_ASSIGN_OR_RETURN(row, tx.Get(kIncidentNs, id));
      return absl::OkStatus();
    }));
    if (!row.has_value()) {
      return absl::NotFoundError(absl::StrCat("no incident ", ToAbsl(id), " for this tenant"));
    }
    return sealer_.Unseal(tenant.value(), id, row->value);
  }

  // Oldest first: by detection time, then year and sequence (as SQLite's).
  Result<std::vector<Incident>> List(const TenantId& tenant) override {
    PHIGATE_ASSIGN_OR_RETURN(std::unique_ptr<store::TenantStore> ts, store_->ForTenant(tenant));
    std::vector<store::Record> rows;
    PHIGATE_RETURN_IF_ERROR(ts->RunInTransaction([&](store::Transaction& tx) -> Status {
      rows.clear();
      store::ScanOptions page;
      for (;;) {
        PHIGATE_ASSIGN_OR_RETURN(std::vector<store::Record> got, tx.Scan(kIncidentNs, "", page));
        const bool last = got.size() < page.limit;
        if (!got.empty()) page.start_after = got.back().key;
        for (store::Record& r : got) rows.push_back(std::move(r));
        if (last) break;
      }
      return absl::OkStatus();
    }));
    std::vector<std::pair<std::tuple<int64_t, int, int64_t>, Incident>> sorted;
    for (const store::Record& r : rows) {
      PHIGATE_ASSIGN_OR_RETURN(Incident inc, sealer_.Unseal(tenant.value(), r.key, r.value));
      sorted.emplace_back(std::make_tuple(r.ts, YearOf(inc), SequenceOf(r.key)), std::move(inc));
    }
    std::stable_sort(sorted.begin(), sorted.end(),
                     [](const auto& a, const auto& b) { return a.first < b.first; });
    std::vector<Incident> out;
    out.reserve(sorted.size());
    for (auto& e : sorted) out.push_back(std::move(e.second));
    return out;
  }

  Result<std::vector<Incident>> FindById(std::string_view id) override {
    PHIGATE_ASSIGN_OR_RETURN(std::vector<TenantId> tenants, store_->ListTenants());
    std::sort(tenants.begin(), tenants.end(),
              [](const TenantId& a, const TenantId& b) { return a.value() < b.value(); });
    std::vector<Incident> out;
    for (const TenantId& t : tenants) {
      Result<Incident> inc = Get(t, id);
      if (inc.ok()) {
        out.push_back(*std::move(inc));
      } else if (inc.status().code() != absl::StatusCode::kNotFound) {
        return inc.status();
      }
    }
    return out;
  }

 private:
  static constexpr std::string_view kIncidentNs = "breach.incident";
  static constexpr std::string_view kSeqNs = "breach.incident.seq";
  static constexpr int kMaxIdTries = 1000;

  // The sequence number of an id "INC-2026-0007" (0 if it has none).
  static int64_t SequenceOf(std::string_view id) {
    int64_t seq = 0;
    const size_t dash = id.rfind('-');
    if (dash == std::string_view::npos || !absl::SimpleAtoi(ToAbsl(id.substr(dash + 1)), &seq)) {
      return 0;
    }
    return seq;
  }

  std::shared_ptr<store::Store> store_;
  RecordSealer sealer_;
};

}  // namespace

std::string FormatIncidentId(int year, int64_t seq) {
  char buf[48];
  std::snprintf(buf, sizeof buf, "INC-%04d-%04lld", year, static_cast<long long>(seq));
  return buf;
}

Result<std::string> IncidentRecordKey(std::string_view master_key) {
  if (master_key.empty()) return absl::InvalidArgumentError("empty master key");
  return crypto::HkdfSha256(master_key, "phigate", "breach-incident-records-v1", 32);
}

namespace {
Status CheckRecordKeys(const std::string& record_key,
                       const std::vector<std::string>& retired_record_keys) {
  for (const std::string& k : retired_record_keys) {
    if (k.empty()) return absl::InvalidArgumentError("incident store: an empty retired record key");
  }
  if (record_key.empty() && !retired_record_keys.empty()) {
    return absl::InvalidArgumentError("incident store: retired record keys without a current one");
  }
  return absl::OkStatus();
}
}  // namespace

Result<std::unique_ptr<IncidentStore>> OpenIncidentStoreOn(
    std::shared_ptr<store::Store> store, std::string record_key,
    std::vector<std::string> retired_record_keys) {
  if (store == nullptr) return absl::InvalidArgumentError("incident store: no store");
  PHIGATE_RETURN_IF_ERROR(CheckRecordKeys(record_key, retired_record_keys));
  return std::unique_ptr<IncidentStore>(new StoreIncidentStore(
      std::move(store), std::move(record_key), std::move(retired_record_keys)));
}

Result<std::unique_ptr<IncidentStore>> OpenIncidentStore(
    std::string_view url, std::string record_key, std::vector<std::string> retired_record_keys) {
  if (url == "memory:") return std::unique_ptr<IncidentStore>(new MemoryIncidentStore());
  if (absl::StartsWith(ToAbsl(url), "postgres://") ||
      absl::StartsWith(ToAbsl(url), "postgresql://")) {
    PHIGATE_RETURN_IF_ERROR(CheckRecordKeys(record_key, retired_record_keys));
    PHIGATE_ASSIGN_OR_RETURN(std::unique_ptr<store::Store> s,
                             store::Store::Open({.url = std::string(url)}));
    return OpenIncidentStoreOn(std::move(s), std::move(record_key), std::move(retired_record_keys));
  }
  std::string path;
  if (absl::StartsWith(ToAbsl(url), "sqlite://")) {
    path = std::string(url.substr(9));
  } else if (url.find("://") == std::string_view::npos && !url.empty() && url != "memory:") {
    path = std::string(url);
  } else {
    return absl::InvalidArgumentError(
        "incident store URL must be memory:, sqlite://path or postgres://...");
  }
  if (path.empty()) return absl::InvalidArgumentError("incident store URL has no path");
  PHIGATE_RETURN_IF_ERROR(CheckRecordKeys(record_key, retired_record_keys));
  return SqliteIncidentStore::Open(path, std::move(record_key), std::move(retired_record_keys));
}

}  // namespace phigate::breach
