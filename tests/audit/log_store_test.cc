// One conformance suite for every AuditLogStore backend (Trillian style):
// memory, SQLite, and PostgreSQL when PHIGATE_TEST_PG_URL is set.
#include "phigate/audit/log_store.h"

#include <sqlite3.h>

#include <fstream>
#include <future>
#include <nlohmann/json.hpp>
#include <set>
#include <thread>

#include "gtest/gtest.h"
#include "phigate/audit/audit_log.h"
#include "phigate/audit/query.h"
#include "tests/audit/test_util.h"
#include "tests/testing/status_matchers.h"

namespace phigate::audit {
namespace {

using testing::SampleEvent;
using testing::TestSigner;
using testing::TestVerifier;

class AuditStoreConformance : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    AuditStoreOptions o;
    o.table_prefix = testing::UniquePrefix();
    std::string url;
    if (GetParam() == "memory") {
      url = "memory:";
    } else if (GetParam() == "sqlite") {
      url = "sqlite://" + dir_.file("audit.db");
    } else {
      if (testing::PgUrl() == nullptr) GTEST_SKIP() << "PHIGATE_TEST_PG_URL not set";
      url = testing::PgUrl();
    }
    url_ = url;
    opts_ = o;
    auto s = AuditLogStore::Open(url, o);
    ASSERT_TRUE(s.ok()) << s.status();
    store_ = std::move(s).value();
  }
  void TearDown() override {
    store_.reset();
    if (GetParam() == "postgres") testing::DropPgTables(opts_.table_prefix);
  }
  // Signs every commit unless told otherwise (the amortised signing has its
  // own tests below).
  std::unique_ptr<AuditLog> NewLog(std::unique_ptr<AuditLogStore> store, uint64_t head_log = 16,
                                   std::chrono::microseconds sign_interval = {}) {
    AuditLogOptions o;
    o.head_log_interval = head_log;
    o.sign_interval = sign_interval;
    return AuditLog::Open(std::move(store), TestSigner(), o).value();
  }
  testing::TempDir dir_;
  std::string url_;
  AuditStoreOptions opts_;
  std::unique_ptr<AuditLogStore> store_;
};

TEST_P(AuditStoreConformance, AppendVerifyProveReopen) {
  const TenantId acme("acme"), globex("globex");
  {
    auto log = NewLog(std::move(store_));
    for (int i = 0; i < 50; ++i) {
      PHIGATE_ASSERT_OK_AND_ASSIGN(uint64_t seq, log->Append(SampleEvent("acme", i)));
      EXPECT_EQ(seq, static_cast<uint64_t>(i));
      if (i % 5 == 0) {
        PHIGATE_ASSERT_OK(log->Append(SampleEvent("globex", i)));
      }
    }
    PHIGATE_ASSERT_OK_AND_ASSIGN(VerifyResult v, VerifyTrail(log->store(), acme, *TestVerifier()));
    EXPECT_EQ(v.events_checked, 50u);
    EXPECT_GE(v.heads_checked, 2u);
    PHIGATE_ASSERT_OK_AND_ASSIGN(VerifyResult g,
                                 VerifyTrail(log->store(), globex, *TestVerifier()));
    EXPECT_EQ(g.events_checked, 10u);
    PHIGATE_ASSERT_OK_AND_ASSIGN(auto tenants, log->store().Tenants());
    EXPECT_EQ(tenants.size(), 2u);

    PHIGATE_ASSERT_OK_AND_ASSIGN(SignedTreeHead head, log->LatestHead(acme));
    EXPECT_EQ(head.tree_size, 50u);
    PHIGATE_EXPECT_OK(TestVerifier()->Verify(head.SignedBytes(), head.signature));
    for (uint64_t seq : {0u, 17u, 49u}) {
      PHIGATE_ASSERT_OK_AND_ASSIGN(InclusionProofResult p, log->ProveInclusion(acme, seq));
      PHIGATE_EXPECT_OK(VerifyInclusion(seq, p.head.tree_size, p.leaf, p.path, p.head.root));
    }
    PHIGATE_ASSERT_OK_AND_ASSIGN(InclusionProofResult old, log->ProveInclusion(acme, 3, 20));
    PHIGATE_ASSERT_OK_AND_ASSIGN(auto cons, log->ProveConsistency(acme, 20, 50));
    PHIGATE_EXPECT_OK(VerifyConsistency(20, 50, old.head.root, head.root, cons));
  }
  // Reopen: the chain continues where it stopped.
  {
    auto s = AuditLogStore::Open(url_, opts_);
    if (GetParam() == "memory") return;  // nothing persists
    ASSERT_TRUE(s.ok()) << s.status();
    auto log = NewLog(std::move(s).value());
    PHIGATE_ASSERT_OK_AND_ASSIGN(uint64_t seq, log->Append(SampleEvent("acme", 50)));
    EXPECT_EQ(seq, 50u);
    PHIGATE_ASSERT_OK_AND_ASSIGN(VerifyResult v, VerifyTrail(log->store(), acme, *TestVerifier()));
    EXPECT_EQ(v.events_checked, 51u);
  }
}

uint64_t StoredHeadSize(AuditLogStore& store, const TenantId& t) {
  auto h = store.LatestHead(t);
  EXPECT_TRUE(h.ok()) << h.status();
  return h.ok() && h->has_value() ? (*h)->tree_size : 0;
}

TEST_P(AuditStoreConformance, AmortisedSigningLeavesAnUnsignedTailUntilSignHeadsAndClose) {
  const TenantId acme("acme");
  {
    auto log = NewLog(std::move(store_), 16, std::chrono::hours(1));
    for (int i = 0; i < 10; ++i) PHIGATE_ASSERT_OK(log->Append(SampleEvent("acme", i)));
    // The first commit of a tenant signs at once; the next nine are within
    // the hour: committed and chained, not signed yet.
    EXPECT_EQ(StoredHeadSize(log->store(), acme), 1u);
    EXPECT_EQ(log->stats().signatures, 1u);
    PHIGATE_ASSERT_OK_AND_ASSIGN(VerifyResult v, VerifyTrail(log->store(), acme, *TestVerifier()));
    EXPECT_EQ(v.events_checked, 10u);
    EXPECT_EQ(v.signed_size, 1u);
    EXPECT_EQ(v.unsigned_events, 9u);

    PHIGATE_ASSERT_OK(log->SignHeads());
    EXPECT_EQ(StoredHeadSize(log->store(), acme), 10u);
    PHIGATE_ASSERT_OK_AND_ASSIGN(v, VerifyTrail(log->store(), acme, *TestVerifier()));
    EXPECT_EQ(v.unsigned_events, 0u);
    PHIGATE_ASSERT_OK_AND_ASSIGN(InclusionProofResult p, log->ProveInclusion(acme, 9));
    PHIGATE_EXPECT_OK(VerifyInclusion(9, p.head.tree_size, p.leaf, p.path, p.head.root));

    for (int i = 10; i < 15; ++i) PHIGATE_ASSERT_OK(log->Append(SampleEvent("acme", i)));
    PHIGATE_ASSERT_OK_AND_ASSIGN(v, VerifyTrail(log->store(), acme, *TestVerifier()));
    EXPECT_EQ(v.unsigned_events, 5u);
  }                                    // close: signs the tail
  if (GetParam() == "memory") return;  // nothing persists
  auto s = AuditLogStore::Open(url_, opts_);
  ASSERT_TRUE(s.ok()) << s.status();
  EXPECT_EQ(StoredHeadSize(**s, acme), 15u);
  PHIGATE_ASSERT_OK_AND_ASSIGN(VerifyResult v, VerifyTrail(**s, acme, *TestVerifier()));
  EXPECT_EQ(v.events_checked, 15u);
  EXPECT_EQ(v.unsigned_events, 0u);
}

TEST_P(AuditStoreConformance, UnsignedTailIsSignedAfterTheIntervalWhenIdle) {
  const TenantId acme("acme");
  auto log = NewLog(std::move(store_), 16, std::chrono::milliseconds(20));
  for (int i = 0; i < 6; ++i) PHIGATE_ASSERT_OK(log->Append(SampleEvent("acme", i)));
  // No more appends: the background thread signs the tail. (Generous bound
  // for a loaded machine; the test asserts that it happens, not when.)
  const auto give_up = std::chrono::steady_clock::now() + std::chrono::seconds(60);
  while (StoredHeadSize(log->store(), acme) < 6 && std::chrono::steady_clock::now() < give_up) {
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  EXPECT_EQ(StoredHeadSize(log->store(), acme), 6u);
  PHIGATE_ASSERT_OK_AND_ASSIGN(VerifyResult v, VerifyTrail(log->store(), acme, *TestVerifier()));
  EXPECT_EQ(v.unsigned_events, 0u);
  EXPECT_EQ(v.events_checked, 6u);
}

TEST_P(AuditStoreConformance, ZeroSignIntervalSignsEveryCommit) {
  const TenantId acme("acme");
  auto log = NewLog(std::move(store_), 16, std::chrono::microseconds(0));
  for (uint64_t i = 0; i < 10; ++i) {
    PHIGATE_ASSERT_OK(log->Append(SampleEvent("acme", static_cast<int>(i))));
    EXPECT_EQ(StoredHeadSize(log->store(), acme), i + 1);
  }
  EXPECT_EQ(log->stats().signatures, 10u);
  PHIGATE_ASSERT_OK_AND_ASSIGN(VerifyResult v, VerifyTrail(log->store(), acme, *TestVerifier()));
  EXPECT_EQ(v.unsigned_events, 0u);
}

TEST_P(AuditStoreConformance, ConcurrentAppendersAreGroupCommitted) {
  auto log = NewLog(std::move(store_), 64);
  std::vector<std::thread> threads;
  std::mutex mu;
  std::set<uint64_t> seqs;
  for (int t = 0; t < 8; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 40; ++i) {
        auto r = log->Append(SampleEvent("acme", t * 1000 + i));
        ASSERT_TRUE(r.ok()) << r.status();
        std::lock_guard<std::mutex> l(mu);
        EXPECT_TRUE(seqs.insert(*r).second);
      }
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(seqs.size(), 320u);
  EXPECT_EQ(*seqs.rbegin(), 319u);
  PHIGATE_ASSERT_OK_AND_ASSIGN(VerifyResult v,
                               VerifyTrail(log->store(), TenantId("acme"), *TestVerifier()));
  EXPECT_EQ(v.events_checked, 320u);
}

TEST_P(AuditStoreConformance, InvalidEventIsRefusedAndTrailUnchanged) {
  auto log = NewLog(std::move(store_));
  PHIGATE_ASSERT_OK(log->Append(SampleEvent("acme", 0)));
  AuditEvent bad = SampleEvent("acme", 1);
  bad.tenant = TenantId("bad tenant");
  EXPECT_EQ(log->Append(bad).status().code(), absl::StatusCode::kInvalidArgument);
  PHIGATE_ASSERT_OK_AND_ASSIGN(uint64_t seq, log->Append(SampleEvent("acme", 2)));
  EXPECT_EQ(seq, 1u);
}

TEST_P(AuditStoreConformance, QueriesAndDisclosures) {
  auto log = NewLog(std::move(store_));
  for (int i = 0; i < 30; ++i) PHIGATE_ASSERT_OK(log->Append(SampleEvent("acme", i)));
  QueryFilter f;
  f.tenant = TenantId("acme");
  f.user = testing::Id("u3");
  PHIGATE_ASSERT_OK_AND_ASSIGN(auto byuser, Query(log->store(), f));
  EXPECT_EQ(byuser.size(), 4u);  // i = 3, 10, 17, 24
  for (const auto& e : byuser) EXPECT_EQ(e.event.user.value(), "u3");
  f = QueryFilter{};
  f.tenant = TenantId("acme");
  f.outcome = Outcome::kBlocked;
  f.vendor = testing::Id("openai");
  PHIGATE_ASSERT_OK_AND_ASSIGN(auto blocked, Query(log->store(), f));
  for (const auto& e : blocked) {
    EXPECT_EQ(e.event.outcome, Outcome::kBlocked);
    EXPECT_EQ(e.event.vendor.value(), "openai");
  }
  EXPECT_FALSE(blocked.empty());
  f = QueryFilter{};
  f.tenant = TenantId("acme");
  f.since_us = SampleEvent("acme", 10).time_us;
  f.until_us = SampleEvent("acme", 20).time_us;
  PHIGATE_ASSERT_OK_AND_ASSIGN(auto range, Query(log->store(), f));
  EXPECT_EQ(range.size(), 10u);

  BlindIndex subject{};
  subject[0] = 4;  // events i with i % 11 == 4: 4, 15, 26; 4 and 24... blocked when i%5==4
  PHIGATE_ASSERT_OK_AND_ASSIGN(
      auto ds, AccountingOfDisclosures(log->store(), TenantId("acme"), subject, 0, INT64_MAX));
  ASSERT_EQ(ds.size(), 2u);  // 4 was blocked; 15 and 26 were forwarded
  EXPECT_EQ(ds[0].seq, 15u);
  EXPECT_EQ(ds[1].seq, 26u);
  const std::string md = DisclosuresMarkdown(TenantId("acme"), subject, ds);
  EXPECT_NE(md.find("| purpose |"), std::string::npos);
  EXPECT_NE(md.find("treatment"), std::string::npos);
  const std::string js = DisclosuresJson(TenantId("acme"), subject, ds);
  EXPECT_NE(js.find("\"recipient\""), std::string::npos);
  EXPECT_NE(js.find("\"MRN\": 1"), std::string::npos);
}

// §164.528 asks what was disclosed: the accounting names the categories that
// reached the recipient as written, lists sends whose values all left
// tokenized or redacted apart, and says what became of each send.
TEST_P(AuditStoreConformance, DisclosuresSayWhatLeftIdentifiableAndWhatBecameOfIt) {
  auto log = NewLog(std::move(store_));
  BlindIndex patient{};
  patient[0] = 42;
  using Counts = std::vector<std::pair<PhiCategory, uint32_t>>;
  auto append = [&](int i, EventKind kind, Outcome outcome, std::optional<Counts> sent) {
    AuditEvent e = SampleEvent("acme", i);  // NAME x(1 + i % 3), MRN x1 found
    e.kind = kind;
    e.outcome = outcome;
    e.subjects = {patient};
    e.sent_as_written = std::move(sent);
    PHIGATE_ASSERT_OK(log->Append(e).status());
  };
  append(0, EventKind::kEgress, Outcome::kForwarded, Counts{{PhiCategory::kMrn, 1}});
  append(0, EventKind::kIngress, Outcome::kForwarded, Counts{});
  append(1, EventKind::kEgress, Outcome::kForwarded, Counts{});  // all tokenized
  append(1, EventKind::kIngress, Outcome::kForwarded, Counts{});
  append(2, EventKind::kEgress, Outcome::kForwarded, Counts{{PhiCategory::kName, 1}});
  append(2, EventKind::kIngress, Outcome::kError, Counts{});
  append(5, EventKind::kEgress, Outcome::kForwarded, std::nullopt);  // an older record
  // The connection failed before the request was written: no disclosure.
  append(6, EventKind::kEgress, Outcome::kForwarded, Counts{{PhiCategory::kName, 1}});
  {
    AuditEvent e = SampleEvent("acme", 6);
    e.kind = EventKind::kIngress;
    e.outcome = Outcome::kError;
    e.subjects = {patient};
    e.reasons.push_back(phigate::audit::testing::Id(kReasonUpstreamNotSent));
    PHIGATE_ASSERT_OK(log->Append(e).status());
  }

  PHIGATE_ASSERT_OK_AND_ASSIGN(
      auto ds, AccountingOfDisclosures(log->store(), TenantId("acme"), patient, 0, INT64_MAX));
  ASSERT_EQ(ds.size(), 5u);
  EXPECT_TRUE(ds[0].Identifiable());
  EXPECT_EQ(ds[0].Disclosed(), (Counts{{PhiCategory::kMrn, 1}}));
  EXPECT_EQ(ds[0].delivery, "answered");
  EXPECT_FALSE(ds[1].Identifiable());
  EXPECT_EQ(ds[1].delivery, "answered");
  EXPECT_EQ(ds[2].Disclosed(), (Counts{{PhiCategory::kName, 1}}));
  EXPECT_EQ(ds[2].delivery, "error");
  EXPECT_TRUE(ds[3].Identifiable());  // unknown: every category counts
  EXPECT_EQ(ds[3].Disclosed(), ds[3].categories);
  EXPECT_EQ(ds[3].delivery, "");
  EXPECT_EQ(ds[4].delivery, "not sent");
  EXPECT_EQ(ds[4].group(), Disclosure::Group::kNotSent);
  EXPECT_EQ(ds[2].group(), Disclosure::Group::kDisclosure);  // an error may have reached it

  const std::string md = DisclosuresMarkdown(TenantId("acme"), patient, ds);
  EXPECT_NE(md.find("- disclosures: 3\n"), std::string::npos) << md;
  EXPECT_NE(md.find("would have gone as written): 1\n"), std::string::npos) << md;
  EXPECT_NE(md.find("## Sends with no detected value sent as written"), std::string::npos) << md;
  EXPECT_NE(md.find("| MRN x1 (tokenize) | answered |"), std::string::npos) << md;
  EXPECT_NE(md.find("| NAME x1 (tokenize) | error |"), std::string::npos) << md;
  EXPECT_NE(md.find("all counted"), std::string::npos) << md;
  EXPECT_NE(md.find("before the request was written): 1\n"), std::string::npos) << md;
  EXPECT_NE(md.find("## Sends that never reached the recipient"), std::string::npos) << md;
  EXPECT_NE(md.find("(tokenize) | not sent |"), std::string::npos) << md;
  const std::string js = DisclosuresJson(TenantId("acme"), patient, ds);
  const nlohmann::json j = nlohmann::json::parse(js);
  ASSERT_EQ(j["disclosures"].size(), 3u) << js;
  ASSERT_EQ(j["deidentified_sends"].size(), 1u) << js;
  EXPECT_EQ(j["disclosures"][0]["what"], nlohmann::json({{"MRN", 1}})) << js;
  EXPECT_EQ(j["disclosures"][0]["found"]["NAME"], 1) << js;
  EXPECT_TRUE(j["disclosures"][2]["sent_as_written"].is_null()) << js;
  EXPECT_EQ(j["deidentified_sends"][0]["seq"], ds[1].seq) << js;
  ASSERT_EQ(j["not_sent"].size(), 1u) << js;
  EXPECT_EQ(j["not_sent"][0]["seq"], ds[4].seq) << js;
  EXPECT_EQ(j["not_sent"][0]["what"], nlohmann::json({{"MRN", 1}, {"NAME", 1}})) << js;
}

// Subject lookups across many index buckets (the SQLite index is bucketed by
// 256 events), from the start and from the middle of the trail.
TEST_P(AuditStoreConformance, SubjectScanFindsEveryMatchAcrossBuckets) {
  auto log = NewLog(std::move(store_), 4096);
  std::vector<std::future<Result<uint64_t>>> fs;
  for (int i = 0; i < 2600; ++i) fs.push_back(log->AppendAsync(SampleEvent("acme", i)));
  for (auto& f : fs) PHIGATE_ASSERT_OK(f.get().status());
  BlindIndex subject{};
  subject[0] = 7;  // SampleEvent(i) names subject i % 11
  for (uint64_t from : {uint64_t{0}, uint64_t{1500}, uint64_t{2599}}) {
    std::vector<uint64_t> got;
    PHIGATE_ASSERT_OK(log->store().Scan(TenantId("acme"),
                                        ScanOptions{.from_seq = from, .subject = subject},
                                        [&](const RecordView& v) {
                                          got.push_back(v.seq);
                                          return absl::OkStatus();
                                        }));
    std::vector<uint64_t> want;
    for (uint64_t i = from; i < 2600; ++i) {
      if (i % 11 == 7) want.push_back(i);
    }
    EXPECT_EQ(got, want) << "from " << from;
  }
}

// VerifyTrail compares the subject index with the records through this.
TEST_P(AuditStoreConformance, ScanSubjectsReturnsTheIndexRowsOfASeqRangeInOrder) {
  auto log = NewLog(std::move(store_), 4096);
  std::vector<std::future<Result<uint64_t>>> fs;
  for (int i = 0; i < 600; ++i) fs.push_back(log->AppendAsync(SampleEvent("acme", i)));
  for (auto& f : fs) PHIGATE_ASSERT_OK(f.get().status());
  // [250, 520) spans three buckets of 256 events.
  std::vector<std::pair<uint64_t, int>> got;
  PHIGATE_ASSERT_OK(log->store().ScanSubjects(
      TenantId("acme"), 250, 520, [&](uint64_t seq, std::string_view subject) {
        EXPECT_EQ(subject.size(), 32u);
        got.emplace_back(seq, static_cast<uint8_t>(subject[0]));
        return absl::OkStatus();
      }));
  std::vector<std::pair<uint64_t, int>> want;
  for (uint64_t i = 250; i < 520; ++i) want.emplace_back(i, static_cast<int>(i % 11));
  EXPECT_EQ(got, want);
  int beyond = 0;
  PHIGATE_ASSERT_OK(
      log->store().ScanSubjects(TenantId("acme"), 600, kMaxSeq, [&](uint64_t, std::string_view) {
        ++beyond;
        return absl::OkStatus();
      }));
  EXPECT_EQ(beyond, 0);
  auto none = [](uint64_t, std::string_view) { return absl::OkStatus(); };
  EXPECT_EQ(log->store().ScanSubjects(TenantId("acme"), 5, 5, none).code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(log->store().ScanSubjects(TenantId("acme"), 0, kMaxSeq + 1, none).code(),
            absl::StatusCode::kInvalidArgument);
  PHIGATE_ASSERT_OK(VerifyTrail(log->store(), TenantId("acme"), *TestVerifier()).status());
}

// Several subjects per event, bytes above 0x7f among them: the store returns
// them in the records' order (unsigned bytes) and verify accepts the trail.
TEST_P(AuditStoreConformance, EventsWithSeveralSubjectsVerify) {
  auto log = NewLog(std::move(store_), 4096);
  for (int i = 0; i < 300; ++i) {
    AuditEvent e = SampleEvent("acme", i);
    BlindIndex hi{}, lo{};
    hi[0] = 0x90;
    hi[1] = static_cast<uint8_t>(i);
    lo[0] = 0x01;
    e.subjects = {hi, lo};
    PHIGATE_ASSERT_OK(log->Append(e).status());
  }
  std::vector<int> first;
  PHIGATE_ASSERT_OK(
      log->store().ScanSubjects(TenantId("acme"), 7, 8, [&](uint64_t, std::string_view s) {
        first.push_back(static_cast<uint8_t>(s[0]));
        return absl::OkStatus();
      }));
  EXPECT_EQ(first, (std::vector<int>{0x01, 0x90}));
  PHIGATE_ASSERT_OK(VerifyTrail(log->store(), TenantId("acme"), *TestVerifier()).status());
}

TEST_P(AuditStoreConformance, RetentionDropsOnlyBehindSignedCheckpoint) {
  std::atomic<int64_t> now{0};
  AuditLogOptions o;
  o.head_log_interval = 8;
  o.now_us = [&] { return now.load(); };
  auto log = AuditLog::Open(std::move(store_), TestSigner(), o).value();
  const TenantId acme("acme");
  const int64_t year = int64_t{365} * 24 * 3600 * 1000000;
  for (int i = 0; i < 41; ++i) {
    AuditEvent e = SampleEvent("acme", i);
    e.time_us = (i < 25 ? 0 : 5 * year) + i;
    PHIGATE_ASSERT_OK(log->Append(e));
  }
  EXPECT_EQ(log->ApplyRetention(acme, 10 * year, year).status().code(),
            absl::StatusCode::kInvalidArgument);  // < six years
  PHIGATE_ASSERT_OK_AND_ASSIGN(uint64_t dropped, log->ApplyRetention(acme, 7 * year));
  EXPECT_EQ(dropped, 24u);  // 25 old events, cut rounded down to even
  PHIGATE_ASSERT_OK_AND_ASSIGN(VerifyResult v, VerifyTrail(log->store(), acme, *TestVerifier()));
  EXPECT_EQ(v.first_seq, 24u);
  EXPECT_EQ(v.events_checked, 17u);
  // Appending and proving still work after the cut.
  PHIGATE_ASSERT_OK_AND_ASSIGN(uint64_t seq, log->Append(SampleEvent("acme", 99)));
  EXPECT_EQ(seq, 41u);
  PHIGATE_ASSERT_OK_AND_ASSIGN(InclusionProofResult p, log->ProveInclusion(acme, 24));
  PHIGATE_EXPECT_OK(VerifyInclusion(24, p.head.tree_size, p.leaf, p.path, p.head.root));
  PHIGATE_ASSERT_OK(VerifyTrail(log->store(), acme, *TestVerifier()));
  // A witness checkpoint verifies and is checked by VerifyTrail.
  PHIGATE_ASSERT_OK_AND_ASSIGN(Checkpoint cp, log->MakeCheckpoint(acme));
  PHIGATE_EXPECT_OK(VerifyCheckpoint(cp, *TestVerifier()));
  PHIGATE_ASSERT_OK(VerifyTrail(log->store(), acme, *TestVerifier()));
}

// Anyone who can write to the store could take a witness checkpoint (signed,
// published by `phigate audit checkpoint`), mark it a retention cut and drop
// every record before it: a cut must be signed as a cut.
TEST_P(AuditStoreConformance, AWitnessCheckpointCannotBeTurnedIntoARetentionCut) {
  auto log = AuditLog::Open(std::move(store_), TestSigner(), AuditLogOptions{}).value();
  const TenantId acme("acme");
  for (int i = 0; i < 10; ++i) PHIGATE_ASSERT_OK(log->Append(SampleEvent("acme", i)));
  PHIGATE_ASSERT_OK_AND_ASSIGN(Checkpoint witness, log->MakeCheckpoint(acme));
  PHIGATE_EXPECT_OK(VerifyCheckpoint(witness, *TestVerifier()));
  Checkpoint forged = witness;
  forged.cut = true;
  EXPECT_FALSE(VerifyCheckpoint(forged, *TestVerifier()).ok());
  PHIGATE_ASSERT_OK(log->store().DropBefore(forged));  // what an UPDATE + DELETE would do
  auto v = VerifyTrail(log->store(), acme, *TestVerifier());
  EXPECT_EQ(v.status().code(), absl::StatusCode::kDataLoss)
      << "a trail cut by a forged retention checkpoint verified";
}

// SQLite only: the WAL is checkpointed by the store's own thread, beside the
// commits, and the WAL starts again from its beginning once a checkpoint has
// copied all of it, so it does not grow with the trail. SQLite writes the
// WAL's checkpoint sequence number (bytes 12-15 of the WAL header, big
// endian) anew at each such restart.
class SqliteWalTest : public ::testing::Test {
 protected:
  std::unique_ptr<AuditLog> OpenLog(int checkpoint_frames) {
    AuditStoreOptions o;
    o.sqlite_checkpoint_frames = checkpoint_frames;
    auto store = OpenSqliteAuditLogStore(path_, o);
    EXPECT_TRUE(store.ok()) << store.status();
    return AuditLog::Open(std::move(store).value(), TestSigner(), {}).value();
  }
  int64_t WalRestarts() const {
    std::ifstream in(path_ + "-wal", std::ios::binary);
    unsigned char h[16] = {};
    if (!in.read(reinterpret_cast<char*>(h), sizeof h)) return -1;
    return (int64_t{h[12]} << 24) | (h[13] << 16) | (h[14] << 8) | h[15];
  }
  // Appends events until the WAL has started again since `before` (at most
  // `limit` events: the checkpoint thread runs when the machine lets it).
  bool AppendUntilRestart(AuditLog& log, int64_t before, int* next, int limit = 20000) {
    for (int k = 0; k < limit && WalRestarts() == before; ++k) {
      if (!log.Append(SampleEvent("acme", (*next)++)).ok()) return false;
    }
    return WalRestarts() != before;
  }
  testing::TempDir dir_;
  const std::string path_ = dir_.file("audit.db");
};

TEST_F(SqliteWalTest, TheWalStartsAgainUnderConcurrentCommits) {
  const TenantId acme("acme");
  constexpr int kThreads = 4, kEach = 150;
  int next = kThreads * kEach;
  {
    auto log = OpenLog(16);
    PHIGATE_ASSERT_OK(log->Append(SampleEvent("acme", next++)));
    const int64_t before = WalRestarts();
    ASSERT_GE(before, 0);
    std::vector<std::thread> threads;
    for (int t = 0; t < kThreads; ++t) {
      threads.emplace_back([&, t] {
        for (int i = 0; i < kEach; ++i) {
          auto r = log->Append(SampleEvent("acme", t * kEach + i));
          ASSERT_TRUE(r.ok()) << r.status();
        }
      });
    }
    for (auto& th : threads) th.join();
    EXPECT_TRUE(AppendUntilRestart(*log, before, &next)) << "the WAL never started again";
    PHIGATE_ASSERT_OK_AND_ASSIGN(VerifyResult v, VerifyTrail(log->store(), acme, *TestVerifier()));
    EXPECT_EQ(v.events_checked, static_cast<uint64_t>(next));
  }
  auto log = OpenLog(16);  // nothing lost across a close and a reopen
  PHIGATE_ASSERT_OK_AND_ASSIGN(VerifyResult v, VerifyTrail(log->store(), acme, *TestVerifier()));
  EXPECT_EQ(v.events_checked, static_cast<uint64_t>(next));
}

TEST_F(SqliteWalTest, CommitsGoOnWhileAReaderHoldsASnapshot) {
  const TenantId acme("acme");
  auto log = OpenLog(16);
  int next = 0;
  PHIGATE_ASSERT_OK(log->Append(SampleEvent("acme", next++)));
  // Another connection keeps a read transaction open: while its snapshot
  // holds WAL frames no checkpoint can copy past them (a snapshot taken when
  // the WAL was all copied reads the database file only and holds nothing
  // back); commits go on either way.
  sqlite3* reader = nullptr;
  ASSERT_EQ(sqlite3_open_v2(path_.c_str(), &reader, SQLITE_OPEN_READONLY, nullptr), SQLITE_OK);
  ASSERT_EQ(
      sqlite3_exec(reader, "BEGIN; SELECT count(*) FROM audit_events;", nullptr, nullptr, nullptr),
      SQLITE_OK);
  for (int i = 0; i < 300; ++i) PHIGATE_ASSERT_OK(log->Append(SampleEvent("acme", next++)));
  ASSERT_EQ(sqlite3_exec(reader, "COMMIT", nullptr, nullptr, nullptr), SQLITE_OK);
  sqlite3_close(reader);
  // Released: a checkpoint copies the backlog and the WAL starts again.
  const int64_t released = WalRestarts();
  EXPECT_TRUE(AppendUntilRestart(*log, released, &next)) << "the WAL never started again";
  PHIGATE_ASSERT_OK_AND_ASSIGN(VerifyResult v, VerifyTrail(log->store(), acme, *TestVerifier()));
  EXPECT_EQ(v.events_checked, static_cast<uint64_t>(next));
}

TEST_F(SqliteWalTest, ACheckpointThresholdBelowOneIsRefused) {
  AuditStoreOptions o;
  o.sqlite_checkpoint_frames = 0;
  auto store = OpenSqliteAuditLogStore(path_, o);
  ASSERT_FALSE(store.ok());
  EXPECT_EQ(store.status().code(), absl::StatusCode::kInvalidArgument);
}

INSTANTIATE_TEST_SUITE_P(Backends, AuditStoreConformance,
                         ::testing::Values("memory", "sqlite", "postgres"),
                         [](const auto& p) { return p.param; });

}  // namespace
}  // namespace phigate::audit
