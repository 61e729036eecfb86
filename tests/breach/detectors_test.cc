#include "phigate/breach/detectors.h"

#include <set>
#include <string>

#include "gtest/gtest.h"
#include "phigate/breach/harness.h"
#include "phigate/breach/response.h"
#include "tests/testing/status_matchers.h"

namespace phigate::breach {
namespace {

TenantId T(const char* t) { return TenantId(t); }

struct Built {
  std::string text;
  Findings findings;
  Built& Text(std::string_view t) {
    text.append(t);
    return *this;
  }
  Built& Phi(PhiCategory c, std::string_view v) {
    Finding f;
    f.category = c;
    f.begin = text.size();
    text.append(v);
    f.end = text.size();
    findings.push_back(f);
    return *this;
  }
};

class DetectorsTest : public ::testing::Test {
 protected:
  DetectorsTest()
      : vault_(TestingBlindIndex),
        canaries_(TestingBlindIndex),
        scanner_(TestingBlindIndex, vault_.AsLookup(), &canaries_, &sessions_) {
    // acme: the request's patient p1 and another patient p2; beta: patient q1.
    vault_.Add(T("acme"), "p1", "conv-p1", PhiCategory::kName, "Alder Ashcombe");
    vault_.Add(T("acme"), "p1", "conv-p1", PhiCategory::kDate, "1961-04-02");
    vault_.Add(T("acme"), "p2", "conv-p2", PhiCategory::kName, "Brisa Carrow");
    vault_.Add(T("acme"), "p2", "conv-p2", PhiCategory::kDate, "1970-01-05");
    vault_.Add(T("acme"), "p2", "conv-p2", PhiCategory::kCity, "Riverton");
    vault_.Add(T("acme"), "p2", "conv-p2", PhiCategory::kZip, "99001");
    vault_.Add(T("acme"), "p3", "conv-p3", PhiCategory::kDate, "1955-07-07");
    vault_.Add(T("beta"), "q1", "conv-q1", PhiCategory::kMrn, "MRN0000042");
    for (const CanaryPatient& c : GenerateCanaries(T("beta"), 1, 1, "")) canaries_.Register(c);
    sent_ = {TestingBlindIndex(PhiCategory::kName, "Alder Ashcombe")};
  }

  std::vector<Detection> Scan(const Built& b, std::optional<CacheInfo> cache = std::nullopt,
                              std::string session = "s1") {
    LeakScanInput in;
    in.tenant = T("acme");
    in.scope = "conv-p1";
    in.patient_ref = "p1";
    in.session_id = std::move(session);
    in.request_id = "req-1";
    in.answer = b.text;
    in.findings = &b.findings;
    in.sent_blind_indexes = &sent_;
    in.cache = std::move(cache);
    auto r = scanner_.Scan(in);
    EXPECT_TRUE(r.ok()) << r.status();
    return r.ok() ? *r : std::vector<Detection>{};
  }
  static const Detection* Find(const std::vector<Detection>& ds, DetectionKind k) {
    for (const Detection& d : ds) {
      if (d.kind == k) return &d;
    }
    return nullptr;
  }

  MemoryVaultIndex vault_;
  CanaryRegistry canaries_;
  SessionValueIndex sessions_;
  LeakScanner scanner_;
  std::set<std::string> sent_;
};

TEST_F(DetectorsTest, CleanAnswerWithOnlySentValuesIsQuiet) {
  Built b;
  b.Text("Summary for ").Phi(PhiCategory::kName, "Alder Ashcombe").Text(": stable.");
  EXPECT_TRUE(Scan(b).empty());
  // The patient's own vault value not sent in this request is in scope, not a leak.
  Built own;
  own.Text("Born ").Phi(PhiCategory::kDate, "1961-04-02");
  EXPECT_TRUE(Scan(own).empty());
}

TEST_F(DetectorsTest, PromptInjectionUnknownIdentifierIsMedium) {
  Built b;
  b.Text("SSN ").Phi(PhiCategory::kSsn, "900-11-2222");
  auto ds = Scan(b);
  const Detection* d = Find(ds, DetectionKind::kPromptInjectionLeak);
  ASSERT_NE(d, nullptr);
  EXPECT_EQ(d->severity, Severity::kMedium);
  ASSERT_EQ(d->evidence.size(), 1u);
  EXPECT_EQ(d->evidence[0].begin, 4u);
  EXPECT_EQ(d->evidence[0].category, PhiCategory::kSsn);
  EXPECT_EQ(d->evidence[0].blind_index, TestingBlindIndex(PhiCategory::kSsn, "900-11-2222"));
  EXPECT_EQ(Find(ds, DetectionKind::kCrossPatient), nullptr);
}

TEST_F(DetectorsTest, AnotherPatientsNameIsCrossPatientAndHighPromptInjection) {
  Built b;
  b.Text("See also ").Phi(PhiCategory::kName, "Brisa Carrow");
  auto ds = Scan(b);
  const Detection* pi = Find(ds, DetectionKind::kPromptInjectionLeak);
  ASSERT_NE(pi, nullptr);
  EXPECT_EQ(pi->severity, Severity::kHigh);
  const Detection* cp = Find(ds, DetectionKind::kCrossPatient);
  ASSERT_NE(cp, nullptr);
  EXPECT_EQ(cp->severity, Severity::kHigh);
  EXPECT_EQ(cp->patient_refs, std::vector<std::string>{"p2"});
  EXPECT_EQ(Find(ds, DetectionKind::kCrossTenant), nullptr);
}

TEST_F(DetectorsTest, AnotherTenantsValueIsCritical) {
  Built b;
  b.Text("MRN ").Phi(PhiCategory::kMrn, "MRN0000042");
  auto ds = Scan(b);
  const Detection* ct = Find(ds, DetectionKind::kCrossTenant);
  ASSERT_NE(ct, nullptr);
  EXPECT_EQ(ct->severity, Severity::kCritical);
  EXPECT_EQ(ct->evidence.at(0).ref, "beta");
}

TEST_F(DetectorsTest, QuasiIdentifiersNeedCorroboration) {
  Built one;
  one.Text("Since ").Phi(PhiCategory::kDate, "1970-01-05").Text(".");
  EXPECT_TRUE(Scan(one).empty());  // a date alone that matches p2 is a coincidence
  Built two;
  two.Text("Since ").Phi(PhiCategory::kDate, "1970-01-05").Text(" in ");
  two.Phi(PhiCategory::kCity, "Riverton");
  EXPECT_TRUE(Scan(two).empty());  // two quasi values: still below kQuasiOnlyMin
  Built three = two;
  three.Text(" ").Phi(PhiCategory::kZip, "99001");
  auto ds = Scan(three);  // date + city + ZIP of the same other patient
  ASSERT_NE(Find(ds, DetectionKind::kCrossPatient), nullptr);
  ASSERT_NE(Find(ds, DetectionKind::kPromptInjectionLeak), nullptr);
  EXPECT_EQ(Find(ds, DetectionKind::kCrossPatient)->evidence.size(), 3u);
  // A strong identifier of that patient corroborates one quasi value.
  Built named;
  named.Phi(PhiCategory::kName, "Brisa Carrow").Text(", since ");
  named.Phi(PhiCategory::kDate, "1970-01-05");
  EXPECT_EQ(Find(Scan(named), DetectionKind::kCrossPatient)->evidence.size(), 2u);
  // Two quasi values of two different other patients do not corroborate each other.
  Built split;
  split.Text("Since ").Phi(PhiCategory::kDate, "1970-01-05").Text(" and ");
  split.Phi(PhiCategory::kDate, "1955-07-07");
  EXPECT_TRUE(Scan(split).empty());
}

TEST_F(DetectorsTest, CanaryOutsideItsTenantIsCriticalEvenWithoutAFinding) {
  const CanaryPatient c = GenerateCanaries(T("beta"), 1, 1, "").front();
  Built b;
  b.Text("Patient ").Text(c.values[0].value).Text(" is fine.");  // no finding: raw bytes match
  auto ds = Scan(b);
  const Detection* d = Find(ds, DetectionKind::kCanary);
  ASSERT_NE(d, nullptr);
  EXPECT_EQ(d->severity, Severity::kCritical);
  EXPECT_EQ(d->evidence.at(0).begin, 8u);
  EXPECT_EQ(d->patient_refs, std::vector<std::string>{"canary-beta-0"});
  // Found both as bytes and as a finding: one piece of evidence.
  Built f;
  f.Text("Patient ").Phi(PhiCategory::kName, c.values[0].value);
  auto ds2 = Scan(f);
  ASSERT_NE(Find(ds2, DetectionKind::kCanary), nullptr);
  EXPECT_EQ(Find(ds2, DetectionKind::kCanary)->evidence.size(), 1u);
}

TEST_F(DetectorsTest, CanaryInsideItsOwnTenantAndScopeIsQuiet) {
  CanaryRegistry reg(TestingBlindIndex);
  const CanaryPatient c = GenerateCanaries(T("acme"), 9, 1, "conv-p1").front();
  reg.Register(c);
  auto det = NewCanaryDetector(&reg);
  Built b;
  b.Text(c.values[1].value);
  LeakScanInput in;
  in.tenant = T("acme");
  in.scope = "conv-p1";
  in.answer = b.text;
  std::vector<Detection> out;
  PHIGATE_ASSERT_OK(det->Scan(in, {}, &out));
  EXPECT_TRUE(out.empty());
  in.scope = "conv-p9";  // same tenant, outside the canary's scope
  PHIGATE_ASSERT_OK(det->Scan(in, {}, &out));
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].severity, Severity::kCritical);
}

TEST_F(DetectorsTest, CanariesAreDeterministicPerTenantAndSeed) {
  auto a = GenerateCanaries(T("acme"), 5, 3);
  auto b = GenerateCanaries(T("acme"), 5, 3);
  auto c = GenerateCanaries(T("beta"), 5, 3);
  ASSERT_EQ(a.size(), 3u);
  EXPECT_EQ(a[2].values[0].value, b[2].values[0].value);
  EXPECT_NE(a[0].values[1].value, c[0].values[1].value);
  EXPECT_EQ(a[0].values[2].value[0], '9');  // never-issued SSN area
  EXPECT_NE(a[0].values[4].value.find("@canary.invalid"), std::string::npos);
}

TEST_F(DetectorsTest, CacheLeakOnTenantOrPolicyMismatchOrUnscopedProviderKey) {
  Built b;
  b.Text("cached text");
  CacheInfo ok{.served_from_cache = true,
               .cached_tenant_tag = "acme",
               .cached_policy_tag = "p",
               .request_policy_tag = "p"};
  EXPECT_TRUE(Scan(b, ok).empty());
  CacheInfo other_tenant = ok;
  other_tenant.cached_tenant_tag = "beta";
  auto ds = Scan(b, other_tenant);
  ASSERT_NE(Find(ds, DetectionKind::kCacheLeak), nullptr);
  EXPECT_EQ(Find(ds, DetectionKind::kCacheLeak)->severity, Severity::kCritical);
  CacheInfo other_policy = ok;
  other_policy.cached_policy_tag = "q";
  EXPECT_EQ(Find(Scan(b, other_policy), DetectionKind::kCacheLeak)->severity, Severity::kHigh);
  CacheInfo unscoped = ok;
  unscoped.served_from_cache = false;
  unscoped.provider_key_tenant_scoped = false;
  EXPECT_NE(Find(Scan(b, unscoped), DetectionKind::kCacheLeak), nullptr);
}

TEST_F(DetectorsTest, CacheLeakOfAnotherConversationCarriesTheSpans) {
  Built b;
  b.Text("Summary: [NAME_7QK2X] is stable.");
  CacheInfo same{.served_from_cache = true,
                 .cached_tenant_tag = "acme",
                 .cached_policy_tag = "p",
                 .request_policy_tag = "p",
                 .cached_scope_tag = "conv-p1",
                 .request_scope_tag = "conv-p1"};
  EXPECT_TRUE(Scan(b, same).empty());
  CacheInfo other_conv = same;
  other_conv.cached_scope_tag = "conv-p2";
  other_conv.spans = {{9, 21}, {30, 99}};  // the second is outside the answer: ignored
  auto ds = Scan(b, other_conv);
  const Detection* d = Find(ds, DetectionKind::kCacheLeak);
  ASSERT_NE(d, nullptr);
  EXPECT_EQ(d->severity, Severity::kHigh);
  bool span = false;
  for (const Evidence& e : d->evidence) span |= e.begin == 9 && e.end == 21;
  EXPECT_TRUE(span);
  auto redacted = RedactEvidence(b.text, ds);
  ASSERT_TRUE(redacted.ok()) << redacted.status();
  EXPECT_EQ(*redacted, "Summary: [REDACTED] is stable.");
}

TEST_F(DetectorsTest, TrainingDataLeakFromAnEarlierSession) {
  sessions_.RecordSent(T("acme"), "s0", {TestingBlindIndex(PhiCategory::kAccount, "AC-77")});
  sessions_.RecordSent(T("beta"), "t0", {TestingBlindIndex(PhiCategory::kAccount, "AC-88")});
  Built b;
  b.Text("acct ").Phi(PhiCategory::kAccount, "AC-77");
  const auto found = Scan(b, std::nullopt, "s1");
  const Detection* d = Find(found, DetectionKind::kTrainingDataLeak);
  ASSERT_NE(d, nullptr);
  EXPECT_EQ(d->severity, Severity::kHigh);
  EXPECT_EQ(d->evidence[0].ref, "s0");
  // The same session is not a training-data leak.
  EXPECT_EQ(Find(Scan(b, std::nullopt, "s0"), DetectionKind::kTrainingDataLeak), nullptr);
  Built c;
  c.Text("acct ").Phi(PhiCategory::kAccount, "AC-88");
  EXPECT_EQ(Find(Scan(c), DetectionKind::kTrainingDataLeak)->severity, Severity::kCritical);
}

TEST_F(DetectorsTest, FailOpenListsEgressWithoutAudit) {
  const std::vector<std::string> egress = {"e1", "e2", "e3"};
  const std::vector<std::string> audit = {"e1", "e3", "e9"};
  auto d = DetectFailOpen(egress, audit);
  ASSERT_TRUE(d.has_value());
  EXPECT_EQ(d->severity, Severity::kCritical);
  ASSERT_EQ(d->evidence.size(), 1u);
  EXPECT_EQ(d->evidence[0].ref, "e2");
  const std::vector<std::string> all = {"e1", "e2", "e3"};
  EXPECT_FALSE(DetectFailOpen(egress, all).has_value());
}

TEST_F(DetectorsTest, ScannerFailsClosedOnBadInput) {
  Built b;
  b.Text("x");
  b.findings.push_back(Finding{PhiCategory::kName, 0, 9, 1.0f, "t"});
  LeakScanInput in;
  in.tenant = T("acme");
  in.answer = b.text;
  in.findings = &b.findings;
  in.sent_blind_indexes = &sent_;
  EXPECT_EQ(scanner_.Scan(in).status().code(), absl::StatusCode::kInvalidArgument);
  in.findings = nullptr;
  EXPECT_FALSE(scanner_.Scan(in).ok());
}

TEST(ResponseTest, RedactMergesOverlappingSpans) {
  std::vector<Detection> ds(2);
  ds[0].evidence.push_back({.begin = 4, .end = 9});
  ds[1].evidence.push_back({.begin = 6, .end = 12});
  ds[1].evidence.push_back({.begin = 15, .end = 17});
  PHIGATE_ASSERT_OK_AND_ASSIGN(std::string r, RedactEvidence("abc SECRET12 x ZZ end", ds));
  EXPECT_EQ(r, "abc [REDACTED] x [REDACTED] end");
  ds[0].evidence.push_back({.begin = 4, .end = 99});
  EXPECT_FALSE(RedactEvidence("short", ds).ok());
}

TEST_F(DetectorsTest, ResponderWithholdsRecordsAndContains) {
  auto store = OpenIncidentStore("memory:").value();
  RecordingContainment rec;
  ContainmentPlan plan = ContainmentPlan::Default();
  plan.feature = "summarize";
  plan.route = "vendor-x";
  BreachResponder responder(&scanner_, store.get(), &rec, ResponsePolicy{}, plan);
  Built leak;
  leak.Text("MRN ").Phi(PhiCategory::kMrn, "MRN0000042");
  LeakScanInput in;
  in.tenant = T("acme");
  in.scope = "conv-p1";
  in.patient_ref = "p1";
  in.request_id = "req-9";
  in.answer = leak.text;
  in.findings = &leak.findings;
  in.sent_blind_indexes = &sent_;
  PHIGATE_ASSERT_OK_AND_ASSIGN(LeakResponse r, responder.OnAnswer(in, 1795996800));
  EXPECT_EQ(r.action, ResponseAction::kWithhold);
  EXPECT_TRUE(r.text.empty());
  EXPECT_EQ(r.incident_id, "INC-2026-0001");
  PHIGATE_ASSERT_OK_AND_ASSIGN(Incident inc, store->Get(T("acme"), r.incident_id));
  EXPECT_EQ(inc.severity, Severity::kCritical);
  EXPECT_FALSE(inc.containment.empty());
  const auto calls = rec.calls();
  EXPECT_NE(std::find(calls.begin(), calls.end(), "purge_cache acme"), calls.end());
  EXPECT_NE(std::find(calls.begin(), calls.end(), "rotate_keys acme"), calls.end());
  // The stored incident holds no answer text.
  EXPECT_EQ(IncidentToJson(inc).find("MRN0000042"), std::string::npos);

  // Medium (unknown SSN) -> redacted.
  Built inj;
  inj.Text("SSN ").Phi(PhiCategory::kSsn, "900-11-2222").Text(" ok");
  in.answer = inj.text;
  in.findings = &inj.findings;
  PHIGATE_ASSERT_OK_AND_ASSIGN(LeakResponse r2, responder.OnAnswer(in, 1795996800));
  EXPECT_EQ(r2.action, ResponseAction::kRedact);
  EXPECT_EQ(r2.text, "SSN [REDACTED] ok");
  // Nothing found -> the answer passes, no incident.
  Built clean;
  clean.Text("fine");
  in.answer = clean.text;
  in.findings = &clean.findings;
  PHIGATE_ASSERT_OK_AND_ASSIGN(LeakResponse r3, responder.OnAnswer(in, 1795996800));
  EXPECT_TRUE(r3.incident_id.empty());
  EXPECT_EQ(r3.text, "fine");
}

TEST(DrillTest, EveryDetectorFiresAndCleanTrafficPasses) {
  auto store = OpenIncidentStore("memory:").value();
  PHIGATE_ASSERT_OK_AND_ASSIGN(DrillReport r, RunDrill(T("acme"), 7, *store, 1795996800));
  ASSERT_EQ(r.steps.size(), 7u);
  for (const DrillStep& s : r.steps) {
    EXPECT_TRUE(s.fired) << s.name;
    EXPECT_FALSE(s.incident_id.empty()) << s.name;
  }
  EXPECT_EQ(r.clean_flagged, 0u);
  EXPECT_TRUE(r.ok());
  EXPECT_FALSE(r.containment_calls.empty());
  PHIGATE_ASSERT_OK_AND_ASSIGN(auto incidents, store->List(T("acme")));
  EXPECT_EQ(incidents.size(), 7u);
}

TEST(FalseAlarmTest, TenThousandCleanAnswers) {
  MemoryVaultIndex vault(TestingBlindIndex);
  CanaryRegistry canaries(TestingBlindIndex);
  SessionValueIndex sessions;
  SimpleExchangeGenerator gen(11, &vault);
  for (int t = 0; t < 3; ++t) {
    for (const CanaryPatient& c :
         GenerateCanaries(TenantId("synth-t" + std::to_string(t)), 11, 5)) {
      canaries.Register(c);
    }
  }
  LeakScanner scanner(TestingBlindIndex, vault.AsLookup(), &canaries, &sessions);
  PHIGATE_ASSERT_OK_AND_ASSIGN(
      FalseAlarmReport r,
      MeasureFalseAlarms(
          scanner, TestingBlindIndex, 10000, [&](size_t) { return gen.Next(); }, &sessions));
  EXPECT_EQ(r.answers, 10000u);
  std::printf("false alarms (built-in clean traffic): %zu / %zu = %.4f%%\n", r.answers_flagged,
              r.answers, 100.0 * r.rate());
  for (const auto& [k, n] : r.by_kind) std::printf("  %s: %zu\n", std::string(Name(k)).c_str(), n);
  // Never on canaries, caches, other tenants or earlier sessions in clean traffic.
  EXPECT_EQ(r.by_kind[DetectionKind::kCanary], 0u);
  EXPECT_EQ(r.by_kind[DetectionKind::kCacheLeak], 0u);
  EXPECT_EQ(r.by_kind[DetectionKind::kCrossTenant], 0u);
  EXPECT_EQ(r.by_kind[DetectionKind::kTrainingDataLeak], 0u);
  EXPECT_LT(r.rate(), 0.01);
}

}  // namespace
}  // namespace phigate::breach
