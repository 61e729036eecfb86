#include "phigate/breach/incident.h"

#include <sqlite3.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <optional>
#include <set>
#include <string>
#include <thread>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "nlohmann/json.hpp"
#include "phigate/breach/incident_store.h"
#include "tests/store/store_testing.h"
#include "tests/testing/status_matchers.h"

namespace phigate::breach {
namespace {

constexpr int64_t kNov30 = 1795996800;  // 2026-11-30T00:00:00Z

using ::testing::HasSubstr;

TenantId T(const char* t) { return MakeTenantId(t).value(); }

Detection CanaryDetection() {
  Detection d;
  d.kind = DetectionKind::kCanary;
  d.severity = Severity::kCritical;
  d.detector = "canary";
  d.patient_refs = {"a1b2c3"};
  d.evidence.push_back({.begin = 10,
                        .end = 22,
                        .category = PhiCategory::kName,
                        .blind_index = "a1b2c3",
                        .ref = "req-1",
                        .note = "canary outside its tenant"});
  return d;
}

RiskAssessment AllLow() {
  RiskAssessment a;
  for (RiskFactor* f :
       {&a.nature_and_extent, &a.unauthorized_person, &a.acquired_or_viewed, &a.mitigation}) {
    f->rating = FactorRating::kLow;
    f->answer = "synthetic answer";
    f->reason = "synthetic reason";
  }
  return a;
}

TEST(IncidentTest, DiscoveryIsTheUtcDateOfFirstDetection) {
  EXPECT_EQ(FormatUnixTime(kNov30), "2026-11-30T00:00:00Z");
  Incident inc = NewIncident(T("acme"), kNov30 + 86399, "x");
  EXPECT_EQ(FormatDate(inc.DiscoveryDate()), "2026-11-30");
  EXPECT_EQ(inc.state, IncidentState::kDetected);
  ASSERT_EQ(inc.history.size(), 1u);
}

TEST(IncidentTest, AddDetectionRaisesSeverityAndMergesRefs) {
  Incident inc = NewIncident(T("acme"), kNov30, "x");
  AddDetection(inc, CanaryDetection());
  AddDetection(inc, CanaryDetection());
  EXPECT_EQ(inc.severity, Severity::kCritical);
  EXPECT_EQ(inc.patient_refs.size(), 1u);
  EXPECT_TRUE(inc.phi_categories.Contains(PhiCategory::kName));
  EXPECT_EQ(inc.detections.size(), 2u);
}

// A detected incident names its patients before anyone records counts: the
// plan owes them their notices from discovery on, not nothing.
TEST(IncidentTest, NamedPatientsAreTheFloorOfTheAffectedCount) {
  Incident inc = NewIncident(T("acme"), kNov30, "x");
  EXPECT_EQ(inc.ToFacts().Total(), 0);
  AddDetection(inc, CanaryDetection());
  ASSERT_EQ(inc.patient_refs.size(), 1u);
  EXPECT_EQ(inc.ToFacts().Total(), 1);
  inc.residents_by_state["CA"] = 40;  // counted: the count wins
  EXPECT_EQ(inc.ToFacts().Total(), 40);
}

TEST(IncidentTest, LifecycleOrderIsEnforced) {
  Incident inc = NewIncident(T("acme"), kNov30, "x");
  EXPECT_FALSE(Advance(inc, IncidentState::kNotified, "u", kNov30, "").ok());
  EXPECT_FALSE(Advance(inc, IncidentState::kAssessed, "u", kNov30, "").ok());  // no assessment
  RiskAssessment a = AllLow();
  a.nature_and_extent.rating = FactorRating::kHigh;
  PHIGATE_ASSERT_OK(RecordAssessment(inc, a, "officer", kNov30 + 60));
  EXPECT_EQ(inc.state, IncidentState::kAssessed);
  EXPECT_EQ(inc.assessment->conclusion, Conclusion::kNotifiableBreach);
  EXPECT_EQ(inc.assessment->signed_off_by, "officer");
  // A notifiable breach cannot be closed before it is notified.
  EXPECT_FALSE(Advance(inc, IncidentState::kClosed, "u", kNov30, "").ok());
  PHIGATE_ASSERT_OK(Advance(inc, IncidentState::kNotified, "officer", kNov30 + 120, "letters"));
  PHIGATE_ASSERT_OK(Advance(inc, IncidentState::kClosed, "officer", kNov30 + 180, ""));
  EXPECT_EQ(inc.history.size(), 4u);
  EXPECT_FALSE(Advance(inc, IncidentState::kClosed, "officer", kNov30 + 180, "").ok());
}

TEST(IncidentTest, ConclusionsFollowSafeHarborExclusionsAndFactors) {
  RiskAssessment a = AllLow();
  Conclude(a);
  EXPECT_EQ(a.conclusion, Conclusion::kLowProbability);
  EXPECT_FALSE(RequiresNotification(a));

  a.mitigation.rating = FactorRating::kMedium;
  Conclude(a);
  EXPECT_EQ(a.conclusion, Conclusion::kNotifiableBreach);
  EXPECT_TRUE(RequiresNotification(a));

  a.exclusion_could_not_retain = true;
  Conclude(a);
  EXPECT_EQ(a.conclusion, Conclusion::kExcluded);
  EXPECT_NE(a.conclusion_reason.find("(iii)"), std::string::npos);

  // Tokens only, key safe: not unsecured PHI, whatever the factors say.
  a.safe_harbor.only_tokens_or_encrypted = true;
  a.safe_harbor.reason = "answer held vault tokens only";
  Conclude(a);
  EXPECT_EQ(a.conclusion, Conclusion::kNotUnsecuredPhi);
  EXPECT_NE(a.conclusion_reason.find("vault tokens only"), std::string::npos);
  // The key was compromised: the safe harbor is lost.
  a.safe_harbor.key_compromised = true;
  a.exclusion_could_not_retain = false;
  Conclude(a);
  EXPECT_EQ(a.conclusion, Conclusion::kNotifiableBreach);
}

TEST(IncidentTest, SafeHarborIncidentClosesWithoutNotification) {
  Incident inc = NewIncident(T("acme"), kNov30, "x");
  RiskAssessment a;
  a.safe_harbor.only_tokens_or_encrypted = true;
  PHIGATE_ASSERT_OK(RecordAssessment(inc, a, "officer", kNov30));
  PHIGATE_ASSERT_OK(Advance(inc, IncidentState::kClosed, "officer", kNov30, "safe harbor"));
  EXPECT_FALSE(RecordAssessment(inc, a, "", kNov30).ok());
}

TEST(IncidentTest, JsonRoundTrip) {
  Incident inc = NewIncident(T("acme"), kNov30, "canary");
  AddDetection(inc, CanaryDetection());
  inc.residents_by_state = {{"CA", 3}, {"TX", 2}};
  inc.notice.role = EntityRole::kBusinessAssociate;
  inc.notice.baa_notice_days = 10;
  inc.notice.hhs_notified = ParseDate("2026-12-05").value();
  inc.notice.le_delay = LawEnforcementDelay{.oral_statement = ParseDate("2026-12-01").value()};
  PHIGATE_ASSERT_OK(RecordAssessment(inc, AllLow(), "officer", kNov30 + 5));
  PHIGATE_ASSERT_OK_AND_ASSIGN(Incident back, IncidentFromJson(IncidentToJson(inc)));
  EXPECT_EQ(IncidentToJson(back), IncidentToJson(inc));
  EXPECT_EQ(back.notice.role, EntityRole::kBusinessAssociate);
  EXPECT_EQ(back.detections.at(0).evidence.at(0).category, PhiCategory::kName);
  EXPECT_FALSE(IncidentFromJson("{").ok());
  EXPECT_FALSE(IncidentFromJson("{\"id\": 3}").ok());
}

// A record's numbers are integers; one too large for 64 bits (which the JSON
// parser reads as a double, and converting it was undefined behaviour: found
// by breach_fuzz) or with a fraction is refused, wherever it is.
TEST(IncidentTest, NumbersThatAreNotIntegersAreRefused) {
  Incident inc = NewIncident(T("acme"), kNov30, "canary");
  AddDetection(inc, CanaryDetection());
  const std::string good = IncidentToJson(inc);
  ASSERT_TRUE(IncidentFromJson(good).ok());
  const std::string at = "\"detected_at\":" + std::to_string(kNov30);
  ASSERT_NE(good.find(at), std::string::npos);
  for (const std::string& bad : {std::string("1796030309999999999999999999999999996"),
                                 std::string("1.5"), std::string("1e3")}) {
    std::string text = good;
    text.replace(text.find(at), at.size(), "\"detected_at\":" + bad);
    auto r = IncidentFromJson(text);
    EXPECT_EQ(r.status().code(), absl::StatusCode::kInvalidArgument) << bad;
  }
  // Nested too: a history entry's time.
  auto j = nlohmann::json::parse(good);
  j["history"][0]["at"] = 1e40;
  EXPECT_EQ(IncidentFromJson(j.dump()).status().code(), absl::StatusCode::kInvalidArgument);
}

// 45 CFR 164.404(a)(2): discovery is the first day known to any workforce
// member, which can be earlier than the gateway's detection; the deadlines
// run from it, and it survives the store.
TEST(IncidentTest, AnEarlierDiscoveryDateMovesTheDeadlines) {
  Incident inc = NewIncident(T("acme"), kNov30, "reported by staff");
  inc.residents_by_state = {{"CA", 3}};
  EXPECT_EQ(inc.DiscoveryDate(), inc.DetectionDate());
  const Date detected = inc.DiscoveryDate();
  inc.discovered = ParseDate("2026-11-20").value();
  EXPECT_EQ(inc.DiscoveryDate(), ParseDate("2026-11-20").value());
  EXPECT_EQ(inc.DetectionDate(), detected);
  EXPECT_EQ(inc.ToFacts().discovery, ParseDate("2026-11-20").value());
  PHIGATE_ASSERT_OK_AND_ASSIGN(Incident back, IncidentFromJson(IncidentToJson(inc)));
  EXPECT_EQ(back.discovered, inc.discovered);
  inc.discovered.reset();
  PHIGATE_ASSERT_OK_AND_ASSIGN(Incident plain, IncidentFromJson(IncidentToJson(inc)));
  EXPECT_FALSE(plain.discovered.has_value());
}

// A detection at 20:00 in New York on Dec 31 is 01:00 UTC on Jan 1: in the
// covered entity's time zone it was discovered on Dec 31, and the HHS log of
// small breaches is due 60 days after the end of 2026, not of 2027.
TEST(IncidentTest, TheTimeZoneDatesTheDetection) {
  const int64_t jan1_0100z = 1798765200;  // 2027-01-01T01:00:00Z
  Incident inc = NewIncident(T("acme"), jan1_0100z, "evening detection");
  inc.residents_by_state = {{"NY", 3}};
  EXPECT_EQ(inc.DiscoveryDate(), ParseDate("2027-01-01").value());
  inc.time_zone = "America/New_York";
  EXPECT_EQ(inc.DetectionDate(), ParseDate("2026-12-31").value());
  EXPECT_EQ(inc.DiscoveryDate(), ParseDate("2026-12-31").value());
  PHIGATE_ASSERT_OK_AND_ASSIGN(Incident back, IncidentFromJson(IncidentToJson(inc)));
  EXPECT_EQ(back.time_zone, "America/New_York");
  EXPECT_EQ(back.DiscoveryDate(), ParseDate("2026-12-31").value());
  PHIGATE_EXPECT_OK(ValidateTimeZone("America/New_York"));
  EXPECT_FALSE(ValidateTimeZone("Mars/Olympus_Mons").ok());
  EXPECT_FALSE(ValidateTimeZone("").ok());
}

// An incident's dates were computed in its zone. If that zone no longer loads
// (tzdata removed or too old), reading the incident back is refused rather
// than silently dated in UTC, which moves evening detections a day later.
TEST(IncidentTest, AZoneThatNoLongerLoadsIsRefusedNotReplacedByUtc) {
  Incident inc = NewIncident(T("acme"), 1798765200, "evening detection");
  inc.time_zone = "America/New_York";
  std::string json = IncidentToJson(inc);
  const size_t at = json.find("America/New_York");
  ASSERT_NE(at, std::string::npos);
  json.replace(at, std::strlen("America/New_York"), "Mars/Olympus_Mons");
  const auto back = IncidentFromJson(json);
  ASSERT_FALSE(back.ok());
  EXPECT_THAT(back.status().message(), HasSubstr("time zone"));
}

class IncidentStoreTest : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    std::string url = GetParam();
    std::string key;
    if (url.starts_with("store-")) {  // the generic store: memory, sqlite, postgres
      std::string backend = url.substr(6);
      if (backend.ends_with("-sealed")) {
        key = IncidentRecordKey("test master key").value();
        backend.resize(backend.size() - 7);
      }
      const std::string store_url = store::testing::FreshStoreUrl(backend);
      if (store_url.empty()) GTEST_SKIP() << "PHIGATE_TEST_PG_URL not set";
      auto st = store::Store::Open({.url = store_url});
      ASSERT_TRUE(st.ok()) << st.status();
      auto s = OpenIncidentStoreOn(std::move(*st), key);
      ASSERT_TRUE(s.ok()) << s.status();
      store_ = std::move(s).value();
      return;
    }
    if (url == "sqlite-sealed") {
      key = IncidentRecordKey("test master key").value();
      url = "sqlite";
    }
    if (url == "sqlite") {
      path_ = std::filesystem::temp_directory_path() /
              ("breach_store_test_" + std::to_string(::getpid()) + ".db");
      std::filesystem::remove(path_);
      url = "sqlite://" + path_.string();
    }
    auto s = OpenIncidentStore(url, key);
    ASSERT_TRUE(s.ok()) << s.status();
    store_ = std::move(s).value();
  }
  void TearDown() override {
    store_.reset();
    if (!path_.empty()) {
      std::filesystem::remove(path_);
      std::filesystem::remove(path_.string() + "-wal");
      std::filesystem::remove(path_.string() + "-shm");
    }
  }
  std::filesystem::path path_;
  std::unique_ptr<IncidentStore> store_;
};

TEST_P(IncidentStoreTest, IdsArePerTenantAndYear) {
  Incident a = NewIncident(T("acme"), kNov30, "a");
  Incident b = NewIncident(T("acme"), kNov30 + 10, "b");
  Incident c = NewIncident(T("beta"), kNov30, "c");
  Incident d = NewIncident(T("acme"), kNov30 + 40 * 86400, "d");  // 2027
  for (Incident* i : {&a, &b, &c, &d}) PHIGATE_ASSERT_OK(store_->Create(*i));
  EXPECT_EQ(a.id, "INC-2026-0001");
  EXPECT_EQ(b.id, "INC-2026-0002");
  EXPECT_EQ(c.id, "INC-2026-0001");
  EXPECT_EQ(d.id, "INC-2027-0001");
  PHIGATE_ASSERT_OK_AND_ASSIGN(auto both, store_->FindById("INC-2026-0001"));
  EXPECT_EQ(both.size(), 2u);
  PHIGATE_ASSERT_OK_AND_ASSIGN(auto acme, store_->List(T("acme")));
  ASSERT_EQ(acme.size(), 3u);
  EXPECT_EQ(acme[0].title, "a");
}

TEST_P(IncidentStoreTest, UpdateAndGetAreTenantScoped) {
  Incident a = NewIncident(T("acme"), kNov30, "a");
  AddDetection(a, CanaryDetection());
  PHIGATE_ASSERT_OK(store_->Create(a));
  EXPECT_EQ(store_->Get(T("beta"), a.id).status().code(), absl::StatusCode::kNotFound);
  PHIGATE_ASSERT_OK(RecordAssessment(a, AllLow(), "officer", kNov30 + 1));
  PHIGATE_ASSERT_OK(store_->Update(a));
  PHIGATE_ASSERT_OK_AND_ASSIGN(Incident got, store_->Get(T("acme"), a.id));
  EXPECT_EQ(got.state, IncidentState::kAssessed);
  EXPECT_EQ(IncidentToJson(got), IncidentToJson(a));
  Incident ghost = a;
  ghost.id = "INC-2026-0099";
  EXPECT_EQ(store_->Update(ghost).code(), absl::StatusCode::kNotFound);
}

INSTANTIATE_TEST_SUITE_P(Backends, IncidentStoreTest,
                         ::testing::Values("memory:", "sqlite", "sqlite-sealed", "store-memory",
                                           "store-sqlite", "store-sqlite-sealed", "store-postgres",
                                           "store-postgres-sealed"),
                         [](const auto& tp) {
                           std::string n = tp.param == "memory:" ? "memory" : tp.param;
                           std::replace(n.begin(), n.end(), '-', '_');
                           return n;
                         });

// Gateway replicas sharing one store (two handles on one SQLite file, or on one
// PostgreSQL database) create incidents at the same time: every incident gets
// an id of its own, numbered without a gap, and each replica lists them all.
class SharedIncidentStoreTest : public ::testing::TestWithParam<std::string> {};

TEST_P(SharedIncidentStoreTest, ReplicasCreatingAtOnceNeverShareAnId) {
  const std::string url = store::testing::FreshStoreUrl(GetParam());
  if (url.empty()) GTEST_SKIP() << "PHIGATE_TEST_PG_URL not set";
  const std::string key = IncidentRecordKey("test master key").value();
  std::vector<std::unique_ptr<IncidentStore>> replicas;
  std::shared_ptr<store::Store> shared;
  for (int r = 0; r < 2; ++r) {
    if (GetParam() == "memory") {  // one process: one store, two incident stores on it
      if (shared == nullptr) shared = store::Store::Open({.url = url}).value();
      replicas.push_back(OpenIncidentStoreOn(shared, key).value());
    } else {
      auto st = store::Store::Open({.url = url});
      ASSERT_TRUE(st.ok()) << st.status();
      replicas.push_back(OpenIncidentStoreOn(std::move(*st), key).value());
    }
  }
  constexpr int kEach = 15;
  std::vector<std::string> ids[2];
  std::vector<std::thread> threads;
  for (int r = 0; r < 2; ++r) {
    threads.emplace_back([&, r] {
      for (int i = 0; i < kEach; ++i) {
        Incident inc = NewIncident(T("acme"), kNov30 + i, "replica " + std::to_string(r));
        const Status st = replicas[r]->Create(inc);
        EXPECT_TRUE(st.ok()) << st;
        if (st.ok()) ids[r].push_back(inc.id);
      }
    });
  }
  for (auto& t : threads) t.join();
  std::set<std::string> all(ids[0].begin(), ids[0].end());
  all.insert(ids[1].begin(), ids[1].end());
  ASSERT_EQ(all.size(), 2u * kEach) << "an id given twice";
  for (int n = 1; n <= 2 * kEach; ++n) EXPECT_TRUE(all.count(FormatIncidentId(2026, n))) << n;
  for (const auto& r : replicas) {
    PHIGATE_ASSERT_OK_AND_ASSIGN(std::vector<Incident> listed, r->List(T("acme")));
    EXPECT_EQ(listed.size(), 2u * kEach);
    for (size_t i = 1; i < listed.size(); ++i) {
      EXPECT_LE(listed[i - 1].detected_at_unix, listed[i].detected_at_unix) << "oldest first";
    }
  }
  PHIGATE_ASSERT_OK_AND_ASSIGN(Incident one, replicas[1]->Get(T("acme"), ids[0].front()));
  EXPECT_EQ(one.title, "replica 0");
  PHIGATE_ASSERT_OK_AND_ASSIGN(auto found, replicas[0]->FindById(ids[1].back()));
  ASSERT_EQ(found.size(), 1u);
  EXPECT_EQ(found[0].title, "replica 1");
}

INSTANTIATE_TEST_SUITE_P(Backends, SharedIncidentStoreTest,
                         ::testing::Values("memory", "sqlite", "postgres"));

// Creates an incident titled `title` with a canary detection in `store`, reads
// it back, and returns its id (empty on a failure, which is reported).
std::string CreateCanaryIncident(IncidentStore& store, const std::string& title) {
  Incident a = NewIncident(T("acme"), kNov30, title);
  AddDetection(a, CanaryDetection());
  const Status st = store.Create(a);
  EXPECT_TRUE(st.ok()) << st;
  auto back = store.Get(T("acme"), a.id);
  EXPECT_TRUE(back.ok()) << back.status();
  if (!st.ok() || !back.ok()) return "";
  EXPECT_EQ(back->title, title);
  return a.id;
}

// A sealed record does not open without a key (FailedPrecondition) nor with
// another master key's (DataLoss).
void ExpectNeedsItsKey(IncidentStore& no_key, IncidentStore& wrong_key, const std::string& id) {
  EXPECT_EQ(no_key.Get(T("acme"), id).status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(wrong_key.Get(T("acme"), id).status().code(), absl::StatusCode::kDataLoss);
}

// The bytes of a SQLite database file and of its write-ahead log.
std::string FileAndWal(const std::string& path) {
  std::string raw;
  for (const std::string& f : {path, path + "-wal"}) {
    std::ifstream in(f, std::ios::binary);
    raw += std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  }
  return raw;
}

// Sealed records on the generic store: the SQLite file holds no record text, and
// a record moved to another tenant's rows does not open.
TEST(SealedIncidentStoreTest, GenericStoreRecordsAreEncryptedAtRest) {
  std::string path;
  const std::string url = store::testing::FreshStoreUrl("sqlite", &path);
  const std::string title = "canary in answer to request req-quokka-7781";
  std::string id;
  {
    auto st = store::Store::Open({.url = url});
    ASSERT_TRUE(st.ok()) << st.status();
    auto s = OpenIncidentStoreOn(std::move(*st), IncidentRecordKey("master one").value());
    ASSERT_TRUE(s.ok()) << s.status();
    id = CreateCanaryIncident(**s, title);
    ASSERT_FALSE(id.empty());
  }
  const std::string raw = FileAndWal(path);
  EXPECT_NE(raw.find("breach.incident"), std::string::npos) << "the namespace is in the file";
  EXPECT_EQ(raw.find("req-quokka-7781"), std::string::npos);
  EXPECT_EQ(raw.find("canary"), std::string::npos);
  auto st = store::Store::Open({.url = url});
  ASSERT_TRUE(st.ok());
  std::shared_ptr<store::Store> shared = std::move(*st);
  auto no_key = OpenIncidentStoreOn(shared);
  auto wrong = OpenIncidentStoreOn(shared, IncidentRecordKey("master two").value());
  ASSERT_TRUE(no_key.ok() && wrong.ok());
  ExpectNeedsItsKey(**no_key, **wrong, id);
  // The sealed record copied into another tenant's rows does not open there.
  auto acme = shared->ForTenant(T("acme")).value();
  auto beta = shared->ForTenant(T("beta")).value();
  std::optional<store::Record> row;
  PHIGATE_ASSERT_OK(acme->RunInTransaction([&](store::Transaction& tx) -> Status {
    PHIGATE_ASSIGN_OR_RETURN(row, tx.Get("breach.incident", id));
    return absl::OkStatus();
  }));
  ASSERT_TRUE(row.has_value());
  PHIGATE_ASSERT_OK(beta->RunInTransaction(
      [&](store::Transaction& tx) { return tx.Put("breach.incident", id, row->value, row->ts); }));
  auto right = OpenIncidentStoreOn(shared, IncidentRecordKey("master one").value());
  ASSERT_TRUE(right.ok());
  EXPECT_EQ((*right)->Get(T("beta"), id).status().code(), absl::StatusCode::kDataLoss);
  PHIGATE_EXPECT_OK((*right)->Get(T("acme"), id).status());
}

// Records written with a key are sealed at rest: the file holds no record text,
// reading needs the key, a wrong key or a row moved to another tenant fails.
TEST(SealedIncidentStoreTest, RecordsAreEncryptedAtRestAndBoundToTheirRow) {
  const std::filesystem::path path = std::filesystem::temp_directory_path() /
                                     ("breach_sealed_test_" + std::to_string(::getpid()) + ".db");
  std::filesystem::remove(path);
  const std::string url = "sqlite://" + path.string();
  const std::string title = "canary in answer to request req-quokka-7781";
  std::string id;
  {
    auto store = OpenIncidentStore(url, IncidentRecordKey("master one").value());
    ASSERT_TRUE(store.ok()) << store.status();
    id = CreateCanaryIncident(**store, title);
    ASSERT_FALSE(id.empty());
  }
  const std::string raw = FileAndWal(path.string());
  EXPECT_EQ(raw.find("req-quokka-7781"), std::string::npos);
  EXPECT_EQ(raw.find("canary"), std::string::npos);
  {
    auto no_key = OpenIncidentStore(url);
    auto wrong = OpenIncidentStore(url, IncidentRecordKey("master two").value());
    ASSERT_TRUE(no_key.ok() && wrong.ok());
    ExpectNeedsItsKey(**no_key, **wrong, id);
  }
  {
    // Move the sealed record to another tenant's row: it no longer opens.
    sqlite3* db = nullptr;
    ASSERT_EQ(sqlite3_open(path.string().c_str(), &db), SQLITE_OK);
    ASSERT_EQ(
        sqlite3_exec(db, "UPDATE breach_incidents SET tenant = 'beta'", nullptr, nullptr, nullptr),
        SQLITE_OK);
    sqlite3_close(db);
    auto store = OpenIncidentStore(url, IncidentRecordKey("master one").value());
    ASSERT_TRUE(store.ok());
    EXPECT_EQ((*store)->Get(T("beta"), id).status().code(), absl::StatusCode::kDataLoss);
  }
  std::filesystem::remove(path);
  std::filesystem::remove(path.string() + "-wal");
  std::filesystem::remove(path.string() + "-shm");
}

// After a master key rotation: records sealed under the old key are read with
// it as a retired key, every write seals under the new one, and once updated
// a record no longer needs the old key.
TEST(SealedIncidentStoreTest, RetiredKeyReadsRecordsSealedBeforeARotation) {
  const std::filesystem::path path = std::filesystem::temp_directory_path() /
                                     ("breach_rotated_test_" + std::to_string(::getpid()) + ".db");
  std::filesystem::remove(path);
  const std::string url = "sqlite://" + path.string();
  const std::string old_key = IncidentRecordKey("master one").value();
  const std::string new_key = IncidentRecordKey("master two").value();
  std::string id, later;
  {
    auto store = OpenIncidentStore(url, old_key);
    ASSERT_TRUE(store.ok()) << store.status();
    Incident a = NewIncident(T("acme"), kNov30, "sealed before the rotation");
    PHIGATE_ASSERT_OK((*store)->Create(a));
    id = a.id;
  }
  {
    // The new key alone cannot read it; with the old one retired it can.
    auto alone = OpenIncidentStore(url, new_key);
    ASSERT_TRUE(alone.ok());
    EXPECT_EQ((*alone)->Get(T("acme"), id).status().code(), absl::StatusCode::kDataLoss);
    auto store = OpenIncidentStore(url, new_key, {old_key});
    ASSERT_TRUE(store.ok()) << store.status();
    PHIGATE_ASSERT_OK_AND_ASSIGN(Incident back, (*store)->Get(T("acme"), id));
    EXPECT_EQ(back.title, "sealed before the rotation");
    Incident b = NewIncident(T("acme"), kNov30, "sealed after the rotation");
    PHIGATE_ASSERT_OK((*store)->Create(b));
    later = b.id;
    PHIGATE_ASSERT_OK_AND_ASSIGN(std::vector<Incident> all, (*store)->List(T("acme")));
    EXPECT_EQ(all.size(), 2u);
    // What `phigate breach reseal` does: update each record.
    PHIGATE_ASSERT_OK((*store)->Update(back));
  }
  {
    // Both records are now under the new key only; the old key reads neither.
    auto alone = OpenIncidentStore(url, new_key);
    ASSERT_TRUE(alone.ok());
    PHIGATE_EXPECT_OK((*alone)->Get(T("acme"), id).status());
    PHIGATE_EXPECT_OK((*alone)->Get(T("acme"), later).status());
    auto old = OpenIncidentStore(url, old_key);
    ASSERT_TRUE(old.ok());
    EXPECT_EQ((*old)->Get(T("acme"), id).status().code(), absl::StatusCode::kDataLoss);
  }
  // Retired keys need a current key, and none may be empty.
  EXPECT_EQ(OpenIncidentStore(url, "", {old_key}).status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(OpenIncidentStore(url, new_key, {""}).status().code(),
            absl::StatusCode::kInvalidArgument);
  std::filesystem::remove(path);
  std::filesystem::remove(path.string() + "-wal");
  std::filesystem::remove(path.string() + "-shm");
}

TEST(IncidentStoreUrlTest, RejectsUnknownSchemes) {
  EXPECT_EQ(OpenIncidentStore("mysql://x").status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_FALSE(OpenIncidentStore("sqlite://").ok());
  EXPECT_EQ(OpenIncidentStoreOn(nullptr).status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(OpenIncidentStore("postgres://x", "", {"old"}).status().code(),
            absl::StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace phigate::breach
