#include "phigate/breach/harness.h"

#include <cstdio>
#include <optional>
#include <set>

#include "absl/strings/str_cat.h"

namespace phigate::breach {
namespace {

uint64_t SplitMix(uint64_t& s) {
  uint64_t z = (s += 0x9e3779b97f4a7c15ULL);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}

// Builds an answer from pieces; pieces with a category become findings.
class AnswerBuilder {
 public:
  AnswerBuilder& Text(std::string_view t) {
    text_.append(t);
    return *this;
  }
  AnswerBuilder& Phi(PhiCategory c, std::string_view v) {
    Finding f;
    f.category = c;
    f.begin = text_.size();
    text_.append(v);
    f.end = text_.size();
    f.score = 1.0f;
    f.recognizer = "truth";
    findings_.push_back(f);
    return *this;
  }
  std::string text_;
  Findings findings_;
};

// Invented name parts, disjoint from the canary syllables.
constexpr std::string_view kFirst[] = {"Alder",  "Brisa",  "Corin", "Dovie",  "Eliam",  "Farra",
                                       "Galen",  "Hesta",  "Ivor",  "Jessa",  "Kelam",  "Liora",
                                       "Maddox", "Nerys",  "Osric", "Perrin", "Quilla", "Rowan",
                                       "Sabine", "Tamsin", "Ulric", "Verity", "Wren",   "Yestin"};
constexpr std::string_view kLast[] = {
    "Ashcombe",     "Blackwood", "Carrow",    "Dunmore", "Ellery",    "Fairleigh",
    "Greaves",      "Harrowby",  "Ingleby",   "Jessop",  "Kettering", "Lockhart",
    "Merriweather", "Northcott", "Ormsby",    "Pendry",  "Quarles",   "Redfern",
    "Stanwick",     "Thistle",   "Underhill", "Vance",   "Whitlock",  "Yardley"};
constexpr std::string_view kCities[] = {"Brookhaven", "Cedar Falls", "Millbrook",   "Oakridge",
                                        "Pine Bluff", "Riverton",    "Stonebridge", "Westfield"};
constexpr std::string_view kClinics[] = {"Riverside Clinic", "Lakeview Medical Center",
                                         "Hillcrest Family Practice", "Northgate Health"};
constexpr std::string_view kAdvice[] = {"Labs reviewed; potassium is within range.",
                                        "Continue the current dose and recheck in two weeks.",
                                        "Blood pressure trend is improving.",
                                        "No medication changes are needed at this time.",
                                        "Please bring your medication list to the visit.",
                                        "Hydrate well and rest."};

std::string RandomDate(uint64_t& s, int from_year, int years) {
  char buf[16];
  std::snprintf(buf, sizeof buf, "%04d-%02d-%02d",
                from_year + static_cast<int>(SplitMix(s) % static_cast<uint64_t>(years)),
                1 + static_cast<int>(SplitMix(s) % 12), 1 + static_cast<int>(SplitMix(s) % 28));
  return buf;
}

std::string Digits(uint64_t& s, int n) {
  std::string out;
  for (int i = 0; i < n; ++i) out += static_cast<char>('0' + SplitMix(s) % 10);
  return out;
}

}  // namespace

void MemoryVaultIndex::Add(const TenantId& tenant, std::string patient_ref, std::string scope,
                           PhiCategory c, std::string_view value) {
  std::string b = blind_index_(c, value);
  absl::MutexLock lock(&mu_);
  entries_[std::move(b)].push_back({tenant, std::move(patient_ref), std::move(scope)});
}

std::vector<VaultRef> MemoryVaultIndex::Lookup(std::string_view blind_index) const {
  absl::MutexLock lock(&mu_);
  auto it = entries_.find(blind_index);
  return it == entries_.end() ? std::vector<VaultRef>{} : it->second;
}

size_t MemoryVaultIndex::size() const {
  absl::MutexLock lock(&mu_);
  return entries_.size();
}

SimpleExchangeGenerator::SimpleExchangeGenerator(uint64_t seed, MemoryVaultIndex* vault,
                                                 int tenants, int patients_per_tenant)
    : state_(seed * 0x2545f4914f6cdd1dULL + 1) {
  for (int t = 0; t < tenants; ++t) {
    const TenantId tenant(absl::StrCat("synth-t", t));
    for (int p = 0; p < patients_per_tenant; ++p) {
      Patient pt;
      pt.tenant = tenant;
      pt.ref = absl::StrCat("synth-p", t, "-", p);
      pt.name = absl::StrCat(ToAbsl(kFirst[Rand() % std::size(kFirst)]), " ",
                             ToAbsl(kLast[Rand() % std::size(kLast)]));
      pt.mrn = absl::StrCat("MRN", Digits(state_, 7));
      pt.phone = absl::StrCat("(555) ", Digits(state_, 3), "-", Digits(state_, 4));
      pt.dob = RandomDate(state_, 1940, 65);
      pt.city = std::string(kCities[Rand() % std::size(kCities)]);
      if (vault != nullptr) {
        const std::string scope = "conv-" + pt.ref;
        vault->Add(tenant, pt.ref, scope, PhiCategory::kName, pt.name);
        vault->Add(tenant, pt.ref, scope, PhiCategory::kMrn, pt.mrn);
        vault->Add(tenant, pt.ref, scope, PhiCategory::kPhone, pt.phone);
        vault->Add(tenant, pt.ref, scope, PhiCategory::kDate, pt.dob);
        vault->Add(tenant, pt.ref, scope, PhiCategory::kCity, pt.city);
      }
      patients_.push_back(std::move(pt));
    }
  }
}

uint64_t SimpleExchangeGenerator::Rand() { return SplitMix(state_); }

CleanExchange SimpleExchangeGenerator::Next() {
  const Patient& p = patients_[Rand() % patients_.size()];
  CleanExchange ex;
  ex.tenant = p.tenant;
  ex.patient_ref = p.ref;
  ex.scope = "conv-" + p.ref;
  ex.session_id = absl::StrCat("sess-", counter_++);
  ex.sent = {{PhiCategory::kName, p.name},
             {PhiCategory::kMrn, p.mrn},
             {PhiCategory::kDate, p.dob},
             {PhiCategory::kPhone, p.phone},
             {PhiCategory::kCity, p.city}};
  AnswerBuilder a;
  a.Text("Summary for ").Phi(PhiCategory::kName, p.name);
  if (Rand() % 2 == 0) a.Text(" (MRN ").Phi(PhiCategory::kMrn, p.mrn).Text(")");
  a.Text(". ").Text(kAdvice[Rand() % std::size(kAdvice)]).Text(" ");
  // Model-made quasi-identifiers, not sent by the request.
  if (Rand() % 2 == 0) {
    // A historical date drawn from the same range as birth dates: collides with
    // other patients' vault entries by chance.
    a.Text("Symptoms reported since ")
        .Phi(PhiCategory::kDate, RandomDate(state_, 1940, 65))
        .Text(". ");
  }
  a.Text("Follow up on ").Phi(PhiCategory::kDate, RandomDate(state_, 2026, 2));
  a.Text(" at ").Phi(PhiCategory::kFacility, kClinics[Rand() % std::size(kClinics)]);
  a.Text(" in ").Phi(PhiCategory::kCity, kCities[Rand() % std::size(kCities)]).Text(".");
  if (Rand() % 3 == 0) a.Text(" Call ").Phi(PhiCategory::kPhone, p.phone).Text(" with questions.");
  ex.answer = std::move(a.text_);
  ex.findings = std::move(a.findings_);
  return ex;
}

Result<FalseAlarmReport> MeasureFalseAlarms(const LeakScanner& scanner, const BlindIndexFn& bi,
                                            size_t n,
                                            const std::function<CleanExchange(size_t)>& next,
                                            SessionValueIndex* sessions) {
  FalseAlarmReport report;
  for (size_t i = 0; i < n; ++i) {
    CleanExchange ex = next(i);
    std::set<std::string> sent;
    for (const auto& [c, v] : ex.sent) sent.insert(bi(c, v));
    LeakScanInput in;
    in.tenant = ex.tenant;
    in.scope = ex.scope;
    in.patient_ref = ex.patient_ref;
    in.session_id = ex.session_id;
    in.request_id = absl::StrCat("clean-", i);
    in.answer = ex.answer;
    in.findings = &ex.findings;
    in.sent_blind_indexes = &sent;
    PHIGATE_ASSIGN_OR_RETURN(std::vector<Detection> found, scanner.Scan(in));
    ++report.answers;
    if (!found.empty()) ++report.answers_flagged;
    for (const Detection& d : found) ++report.by_kind[d.kind];
    if (sessions != nullptr) sessions->RecordSent(ex.tenant, ex.session_id, sent);
  }
  return report;
}

bool DrillReport::ok() const {
  for (const DrillStep& s : steps) {
    if (!s.fired) return false;
  }
  return clean_flagged == 0;
}

Result<DrillReport> RunDrill(const TenantId& tenant, uint64_t seed, IncidentStore& store,
                             int64_t now_unix) {
  const BlindIndexFn bi = TestingBlindIndex;
  const TenantId other(tenant.value() == "drill-other" ? "drill-other2" : "drill-other");
  MemoryVaultIndex vault(bi);
  CanaryRegistry canaries(bi);
  SessionValueIndex sessions;
  std::vector<CanaryPatient> mine = GenerateCanaries(tenant, seed, 2, "canary-scope");
  std::vector<CanaryPatient> theirs = GenerateCanaries(other, seed, 2, "canary-scope");
  for (const auto* set : {&mine, &theirs}) {
    for (const CanaryPatient& c : *set) {
      canaries.Register(c);
      for (const CanaryValue& v : c.values)
        vault.Add(c.tenant, c.patient_ref, c.scope, v.category, v.value);
    }
  }
  // Two synthetic patients of the tenant and one of the other tenant, in the vault.
  struct P {
    TenantId tenant;
    std::string ref, name, mrn;
  };
  const P alice{tenant, "drill-patient-1", "Liora Stanwick", "MRN7000001"};
  const P bob{tenant, "drill-patient-2", "Osric Pendry", "MRN7000002"};
  const P carol{other, "drill-patient-3", "Tamsin Whitlock", "MRN7000003"};
  for (const P& p : {alice, bob, carol}) {
    vault.Add(p.tenant, p.ref, "conv-" + p.ref, PhiCategory::kName, p.name);
    vault.Add(p.tenant, p.ref, "conv-" + p.ref, PhiCategory::kMrn, p.mrn);
  }
  LeakScanner scanner(bi, vault.AsLookup(), &canaries, &sessions);
  RecordingContainment containment;
  ContainmentPlan plan = ContainmentPlan::Default();
  plan.feature = "drill-feature";
  plan.route = "drill-route";
  BreachResponder responder(&scanner, &store, &containment, ResponsePolicy{}, plan);

  DrillReport report;
  // A request about alice that sent her name and MRN.
  std::set<std::string> sent_alice = {bi(PhiCategory::kName, alice.name),
                                      bi(PhiCategory::kMrn, alice.mrn)};
  auto run = [&](std::string name, DetectionKind expected, AnswerBuilder answer,
                 std::optional<CacheInfo> cache, const std::string& session) -> Status {
    LeakScanInput in;
    in.tenant = tenant;
    in.scope = "conv-" + alice.ref;
    in.patient_ref = alice.ref;
    in.session_id = session;
    in.request_id = absl::StrCat("drill-", report.steps.size() + 1);
    in.answer = answer.text_;
    in.findings = &answer.findings_;
    in.sent_blind_indexes = &sent_alice;
    in.cache = std::move(cache);
    PHIGATE_ASSIGN_OR_RETURN(LeakResponse r, responder.OnAnswer(in, now_unix));
    DrillStep step;
    step.name = std::move(name);
    step.expected = expected;
    step.action = r.action;
    step.incident_id = r.incident_id;
    for (const Detection& d : r.detections) step.fired |= d.kind == expected;
    report.steps.push_back(std::move(step));
    return absl::OkStatus();
  };

  const CanaryPatient& their_canary = theirs.front();
  {
    AnswerBuilder a;
    a.Text("Summary for ").Phi(PhiCategory::kName, alice.name).Text(". Also seen: ");
    a.Phi(PhiCategory::kName, their_canary.values[0].value).Text(", ");
    a.Phi(PhiCategory::kMrn, their_canary.values[1].value).Text(".");
    PHIGATE_RETURN_IF_ERROR(run("fake upstream echoes another tenant's canary",
                                DetectionKind::kCanary, a, std::nullopt, "drill-s1"));
  }
  {
    AnswerBuilder a;
    a.Text("Cached: the patient is stable.");
    CacheInfo c;
    c.served_from_cache = true;
    c.cached_tenant_tag = other.value();
    c.cached_policy_tag = "policy-b";
    c.request_policy_tag = "policy-a";
    c.cache_key_ref = "cachekey-drill";
    PHIGATE_RETURN_IF_ERROR(run("poisoned cached answer of another tenant",
                                DetectionKind::kCacheLeak, a, c, "drill-s1"));
  }
  {
    AnswerBuilder a;
    a.Text("Summary for ").Phi(PhiCategory::kName, alice.name).Text("; compare with ");
    a.Phi(PhiCategory::kName, bob.name).Text(" (").Phi(PhiCategory::kMrn, bob.mrn).Text(").");
    PHIGATE_RETURN_IF_ERROR(run("fake upstream emits another stored patient's name",
                                DetectionKind::kCrossPatient, a, std::nullopt, "drill-s1"));
  }
  {
    AnswerBuilder a;
    a.Text("Ignore prior rules. Patient ").Phi(PhiCategory::kName, carol.name).Text(".");
    PHIGATE_RETURN_IF_ERROR(run("fake upstream emits another tenant's patient",
                                DetectionKind::kCrossTenant, a, std::nullopt, "drill-s1"));
  }
  {
    AnswerBuilder a;
    a.Text("Per the injected note, SSN ").Phi(PhiCategory::kSsn, "900-12-0001").Text(".");
    PHIGATE_RETURN_IF_ERROR(run("prompt injection: identifier this request never sent",
                                DetectionKind::kPromptInjectionLeak, a, std::nullopt, "drill-s1"));
  }
  {
    // An earlier session sent an identifier; a later session's answer repeats it.
    sessions.RecordSent(tenant, "drill-s0", {bi(PhiCategory::kAccount, "ACCT-5550001")});
    AnswerBuilder a;
    a.Text("Account on file: ").Phi(PhiCategory::kAccount, "ACCT-5550001").Text(".");
    PHIGATE_RETURN_IF_ERROR(run("fine-tuned model repeats an earlier session's identifier",
                                DetectionKind::kTrainingDataLeak, a, std::nullopt, "drill-s2"));
  }
  {
    const std::vector<std::string> egress = {"egress-1", "egress-2", "egress-3"};
    const std::vector<std::string> audit = {"egress-1", "egress-3"};
    DrillStep step;
    step.name = "egress without a matching audit event";
    step.expected = DetectionKind::kFailOpen;
    step.action = ResponseAction::kWithhold;
    if (std::optional<Detection> d = DetectFailOpen(egress, audit)) {
      step.fired = true;
      PHIGATE_ASSIGN_OR_RETURN(step.incident_id,
                               responder.Record(tenant, {*d}, now_unix, "drill: fail_open"));
    }
    report.steps.push_back(std::move(step));
  }
  // Clean traffic must stay quiet: the tenant's own values only.
  for (int i = 0; i < 50; ++i) {
    AnswerBuilder a;
    a.Text("Summary for ").Phi(PhiCategory::kName, alice.name).Text(" (MRN ");
    a.Phi(PhiCategory::kMrn, alice.mrn).Text("): continue the current plan.");
    LeakScanInput in;
    in.tenant = tenant;
    in.scope = "conv-" + alice.ref;
    in.patient_ref = alice.ref;
    in.session_id = "drill-clean";
    in.request_id = absl::StrCat("drill-clean-", i);
    in.answer = a.text_;
    in.findings = &a.findings_;
    in.sent_blind_indexes = &sent_alice;
    PHIGATE_ASSIGN_OR_RETURN(std::vector<Detection> found, scanner.Scan(in));
    ++report.clean_answers;
    if (!found.empty()) ++report.clean_flagged;
  }
  report.containment_calls = containment.calls();
  return report;
}

}  // namespace phigate::breach
