#include "phigate/breach/detectors.h"

#include <algorithm>
#include <cstdio>
#include <utility>

#include "absl/strings/str_cat.h"

namespace phigate::breach {
namespace {

using PatientKey = std::pair<std::string, std::string>;  // (tenant, patient_ref)

PatientKey KeyOf(const VaultRef& r) { return {r.tenant.value(), r.patient_ref}; }

bool IsRequestPatient(const LeakScanInput& in, const VaultRef& r) {
  if (r.tenant != in.tenant) return false;
  if (!in.patient_ref.empty()) return r.patient_ref == in.patient_ref;
  return r.scope == in.scope;
}

Evidence EvidenceOf(const AnswerValue& v, std::string ref, std::string note) {
  Evidence e;
  e.begin = v.finding.begin;
  e.end = v.finding.end;
  e.category = v.finding.category;
  e.blind_index = v.blind_index;
  e.ref = std::move(ref);
  e.note = std::move(note);
  return e;
}

// Quasi-identifiers alone (dates, cities, ZIPs, ...) corroborate another
// patient only from this many distinct values: with 2, a coincidental birth
// date + city match fired on ~0.1 % of clean answers (docs/breach.md).
constexpr int kQuasiOnlyMin = 3;

struct Support {
  int strong = 0;
  int total = 0;
};

// How many distinct not-sent answer values each other patient's vault entries hold.
std::map<PatientKey, Support> OtherPatientCounts(const LeakScanInput& in,
                                                 std::span<const AnswerValue> values) {
  std::map<PatientKey, Support> counts;
  for (const AnswerValue& v : values) {
    if (v.sent) continue;
    std::set<PatientKey> keys;
    for (const VaultRef& r : v.refs) {
      if (!IsRequestPatient(in, r)) keys.insert(KeyOf(r));
    }
    for (const PatientKey& k : keys) {
      Support& s = counts[k];
      ++s.total;
      if (IsStrongIdentifier(v.finding.category)) ++s.strong;
    }
  }
  return counts;
}

// A quasi-identifier counts when the same other patient is matched by a strong
// identifier and at least one more value, or by kQuasiOnlyMin quasi values.
bool Corroborated(const LeakScanInput& in, const AnswerValue& v,
                  const std::map<PatientKey, Support>& counts) {
  for (const VaultRef& r : v.refs) {
    if (IsRequestPatient(in, r)) continue;
    auto it = counts.find(KeyOf(r));
    if (it == counts.end()) continue;
    const Support& s = it->second;
    if ((s.strong >= 1 && s.total >= 2) || s.total >= kQuasiOnlyMin) return true;
  }
  return false;
}

void Emit(DetectionKind kind, std::string_view detector, Detection&& d,
          std::vector<Detection>* out) {
  if (d.evidence.empty()) return;
  d.kind = kind;
  d.detector = std::string(detector);
  std::sort(d.patient_refs.begin(), d.patient_refs.end());
  d.patient_refs.erase(std::unique(d.patient_refs.begin(), d.patient_refs.end()),
                       d.patient_refs.end());
  out->push_back(std::move(d));
}

class PromptInjectionDetector : public LeakDetector {
 public:
  std::string_view name() const override { return "prompt_injection"; }
  Status Scan(const LeakScanInput& in, std::span<const AnswerValue> values,
              std::vector<Detection>* out) const override {
    const auto counts = OtherPatientCounts(in, values);
    Detection d;
    for (const AnswerValue& v : values) {
      if (v.sent) continue;
      const bool known_elsewhere =
          std::any_of(v.refs.begin(), v.refs.end(),
                      [&](const VaultRef& r) { return !IsRequestPatient(in, r); });
      const bool only_own = !v.refs.empty() && !known_elsewhere;
      if (only_own) continue;  // this patient's own PHI, within the request's scope
      if (IsStrongIdentifier(v.finding.category)) {
        const Severity s = known_elsewhere ? Severity::kHigh : Severity::kMedium;
        d.severity = std::max(d.severity, s);
        d.evidence.push_back(EvidenceOf(
            v, in.request_id,
            known_elsewhere ? "not sent by this request; held in the vault for someone else"
                            : "not sent by this request; unknown to the vault"));
      } else if (Corroborated(in, v, counts)) {
        d.severity = std::max(d.severity, Severity::kHigh);
        d.evidence.push_back(EvidenceOf(v, in.request_id,
                                        "quasi-identifier not sent by this request, corroborated"));
      } else {
        continue;
      }
      for (const VaultRef& r : v.refs) {
        if (!IsRequestPatient(in, r)) d.patient_refs.push_back(r.patient_ref);
      }
    }
    Emit(DetectionKind::kPromptInjectionLeak, name(), std::move(d), out);
    return absl::OkStatus();
  }
};

class CrossTenantPatientDetector : public LeakDetector {
 public:
  std::string_view name() const override { return "cross_tenant_patient"; }
  Status Scan(const LeakScanInput& in, std::span<const AnswerValue> values,
              std::vector<Detection>* out) const override {
    const auto counts = OtherPatientCounts(in, values);
    Detection tenant_d, patient_d;
    for (const AnswerValue& v : values) {
      if (v.sent || v.refs.empty()) continue;
      if (!IsStrongIdentifier(v.finding.category) && !Corroborated(in, v, counts)) continue;
      bool other_tenant = false, other_patient = false;
      std::string other_tenant_id;
      for (const VaultRef& r : v.refs) {
        if (r.tenant != in.tenant) {
          other_tenant = true;
          other_tenant_id = r.tenant.value();
          tenant_d.patient_refs.push_back(r.patient_ref);
        } else if (!IsRequestPatient(in, r)) {
          other_patient = true;
          patient_d.patient_refs.push_back(r.patient_ref);
        }
      }
      if (other_tenant) {
        tenant_d.severity = Severity::kCritical;
        tenant_d.evidence.push_back(
            EvidenceOf(v, other_tenant_id, "matches another tenant's vault entry"));
      } else if (other_patient) {
        patient_d.severity = Severity::kHigh;
        patient_d.evidence.push_back(
            EvidenceOf(v, in.request_id, "matches another patient's vault entry"));
      }
    }
    Emit(DetectionKind::kCrossTenant, name(), std::move(tenant_d), out);
    Emit(DetectionKind::kCrossPatient, name(), std::move(patient_d), out);
    return absl::OkStatus();
  }
};

class CacheLeakDetector : public LeakDetector {
 public:
  std::string_view name() const override { return "cache_leak"; }
  Status Scan(const LeakScanInput& in, std::span<const AnswerValue>,
              std::vector<Detection>* out) const override {
    if (!in.cache.has_value()) return absl::OkStatus();
    const CacheInfo& c = *in.cache;
    Detection d;
    auto add = [&](Severity s, const char* note) {
      d.severity = std::max(d.severity, s);
      Evidence e;
      e.ref = c.cache_key_ref;
      e.note = note;
      d.evidence.push_back(std::move(e));
    };
    if (c.served_from_cache) {
      if (c.cached_tenant_tag != in.tenant.value()) {
        add(Severity::kCritical, "cached answer made for another tenant");
      } else if (!c.cached_scope_tag.empty() && !c.request_scope_tag.empty() &&
                 c.cached_scope_tag != c.request_scope_tag) {
        add(Severity::kHigh, "cached answer made for another conversation");
      }
      if (c.cached_policy_tag != c.request_policy_tag) {
        add(Severity::kHigh, "cached answer made under another decision table");
      }
    }
    if (!d.evidence.empty()) {
      // Where it shows in the answer (offsets only), so a redaction can find it.
      for (const auto& [b, e] : c.spans) {
        if (b >= e || e > in.answer.size()) continue;
        Evidence ev;
        ev.begin = b;
        ev.end = e;
        ev.ref = c.cache_key_ref;
        ev.note = "part of an answer made for another request";
        d.evidence.push_back(std::move(ev));
      }
    }
    if (!c.provider_key_tenant_scoped) {
      add(Severity::kHigh, "provider cache key not scoped to the tenant");
    }
    Emit(DetectionKind::kCacheLeak, name(), std::move(d), out);
    return absl::OkStatus();
  }
};

class CanaryDetector : public LeakDetector {
 public:
  explicit CanaryDetector(const CanaryRegistry* r) : registry_(r) {}
  std::string_view name() const override { return "canary"; }
  Status Scan(const LeakScanInput& in, std::span<const AnswerValue> values,
              std::vector<Detection>* out) const override {
    Detection d;
    for (const CanaryRegistry::Hit& h : registry_->Find(in.answer, values)) {
      const CanaryPatient& c = *h.canary;
      const bool outside = c.tenant != in.tenant || (!c.scope.empty() && c.scope != in.scope);
      if (!outside) continue;
      d.severity = Severity::kCritical;
      Evidence e;
      e.begin = h.begin;
      e.end = h.end;
      e.category = h.category;
      e.blind_index = h.blind_index;
      e.ref = c.tenant.value();
      e.note = c.tenant != in.tenant ? "canary of another tenant" : "canary outside its scope";
      d.evidence.push_back(std::move(e));
      d.patient_refs.push_back(c.patient_ref);
    }
    // One hit per (begin, end): a value found both as bytes and as a finding.
    std::sort(d.evidence.begin(), d.evidence.end(), [](const Evidence& a, const Evidence& b) {
      return std::tie(a.begin, a.end) < std::tie(b.begin, b.end);
    });
    d.evidence.erase(std::unique(d.evidence.begin(), d.evidence.end(),
                                 [](const Evidence& a, const Evidence& b) {
                                   return a.begin == b.begin && a.end == b.end;
                                 }),
                     d.evidence.end());
    Emit(DetectionKind::kCanary, name(), std::move(d), out);
    return absl::OkStatus();
  }

 private:
  const CanaryRegistry* registry_;
};

class TrainingDataLeakDetector : public LeakDetector {
 public:
  explicit TrainingDataLeakDetector(const SessionValueIndex* s) : sessions_(s) {}
  std::string_view name() const override { return "training_data"; }
  Status Scan(const LeakScanInput& in, std::span<const AnswerValue> values,
              std::vector<Detection>* out) const override {
    Detection d;
    for (const AnswerValue& v : values) {
      if (v.sent || !IsStrongIdentifier(v.finding.category)) continue;
      auto origin = sessions_->FirstSent(v.blind_index);
      if (!origin) continue;
      const bool other_tenant = origin->tenant != in.tenant;
      if (!other_tenant && origin->session_id == in.session_id) continue;
      d.severity = std::max(d.severity, other_tenant ? Severity::kCritical : Severity::kHigh);
      d.evidence.push_back(EvidenceOf(v, origin->session_id,
                                      other_tenant ? "sent in another tenant's earlier session"
                                                   : "sent in an earlier session, not this one"));
      for (const VaultRef& r : v.refs) d.patient_refs.push_back(r.patient_ref);
    }
    Emit(DetectionKind::kTrainingDataLeak, name(), std::move(d), out);
    return absl::OkStatus();
  }

 private:
  const SessionValueIndex* sessions_;
};

// splitmix64: small, fixed, identical on every compiler.
uint64_t Mix(uint64_t& state) {
  uint64_t z = (state += 0x9e3779b97f4a7c15ULL);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}

uint64_t Fnv1a(std::string_view s, uint64_t h = 1469598103934665603ULL) {
  for (char c : s) {
    h ^= static_cast<unsigned char>(c);
    h *= 1099511628211ULL;
  }
  return h;
}

std::string Syllables(uint64_t& st, int n) {
  static constexpr std::string_view kOn[] = {"zor", "quel", "vex", "thra", "mib",  "krun",
                                             "yol", "dax",  "wib", "ulm",  "phen", "sorv"};
  static constexpr std::string_view kCoda[] = {"an", "by", "ix", "orn", "elt", "ud", "ash", "ov"};
  std::string s;
  for (int i = 0; i < n; ++i) {
    s += kOn[Mix(st) % std::size(kOn)];
    if (i + 1 == n) s += kCoda[Mix(st) % std::size(kCoda)];
  }
  s[0] = static_cast<char>(s[0] - 'a' + 'A');
  return s;
}

std::string Digits(uint64_t& st, int n) {
  std::string s;
  for (int i = 0; i < n; ++i) s += static_cast<char>('0' + Mix(st) % 10);
  return s;
}

}  // namespace

std::string TestingBlindIndex(PhiCategory c, std::string_view value) {
  uint64_t h = Fnv1a(CategoryName(c));
  h = Fnv1a("|", h);
  h = Fnv1a(value, h);
  char buf[20];
  std::snprintf(buf, sizeof buf, "%016llx", static_cast<unsigned long long>(h));
  return buf;
}

bool IsStrongIdentifier(PhiCategory c) {
  switch (c) {
    case PhiCategory::kDate:
    case PhiCategory::kAge:
    case PhiCategory::kZip:
    case PhiCategory::kCity:
    case PhiCategory::kFacility:
    case PhiCategory::kLocation:
    case PhiCategory::kPhoto:
      return false;
    default:
      return true;
  }
}

std::unique_ptr<LeakDetector> NewPromptInjectionDetector() {
  return std::make_unique<PromptInjectionDetector>();
}
std::unique_ptr<LeakDetector> NewCrossTenantPatientDetector() {
  return std::make_unique<CrossTenantPatientDetector>();
}
std::unique_ptr<LeakDetector> NewCacheLeakDetector() {
  return std::make_unique<CacheLeakDetector>();
}
std::unique_ptr<LeakDetector> NewCanaryDetector(const CanaryRegistry* registry) {
  return std::make_unique<CanaryDetector>(registry);
}
std::unique_ptr<LeakDetector> NewTrainingDataLeakDetector(const SessionValueIndex* sessions) {
  return std::make_unique<TrainingDataLeakDetector>(sessions);
}

std::vector<CanaryPatient> GenerateCanaries(const TenantId& tenant, uint64_t seed, int count,
                                            std::string scope) {
  std::vector<CanaryPatient> out;
  uint64_t st = Fnv1a(tenant.value()) ^ (seed * 0x2545f4914f6cdd1dULL);
  for (int i = 0; i < count; ++i) {
    CanaryPatient c;
    c.tenant = tenant;
    c.scope = scope;
    c.patient_ref = absl::StrCat("canary-", tenant.value(), "-", i);
    const std::string first = Syllables(st, 2);
    const std::string last = Syllables(st, 2);
    c.values.push_back({PhiCategory::kName, first + " " + last});
    c.values.push_back({PhiCategory::kMrn, "CNRY-" + Digits(st, 8)});
    c.values.push_back({PhiCategory::kSsn,
                        absl::StrCat("9", Digits(st, 2), "-", Digits(st, 2), "-", Digits(st, 4))});
    c.values.push_back({PhiCategory::kPhone, absl::StrCat("202-555-01", Digits(st, 2))});
    std::string mail = absl::StrCat(first, ".", last, ".", Digits(st, 4), "@canary.invalid");
    for (char& ch : mail) ch = static_cast<char>(ch >= 'A' && ch <= 'Z' ? ch - 'A' + 'a' : ch);
    c.values.push_back({PhiCategory::kEmail, std::move(mail)});
    out.push_back(std::move(c));
  }
  return out;
}

void CanaryRegistry::Register(const CanaryPatient& canary) {
  auto owned = std::make_unique<CanaryPatient>(canary);
  absl::MutexLock lock(&mu_);
  for (const CanaryValue& v : owned->values) {
    by_blind_index_[blind_index_(v.category, v.value)] = owned.get();
  }
  canaries_.push_back(std::move(owned));
}

size_t CanaryRegistry::size() const {
  absl::MutexLock lock(&mu_);
  return canaries_.size();
}

std::vector<CanaryRegistry::Hit> CanaryRegistry::Find(std::string_view text,
                                                      std::span<const AnswerValue> values) const {
  std::vector<Hit> hits;
  absl::MutexLock lock(&mu_);
  // TODO(breach): one Hyperscan/Aho-Corasick pass when registries grow past a few thousand values.
  for (const auto& c : canaries_) {
    for (const CanaryValue& v : c->values) {
      if (v.value.empty()) continue;
      for (size_t p = text.find(v.value); p != std::string_view::npos;
           p = text.find(v.value, p + 1)) {
        hits.push_back(
            {c.get(), p, p + v.value.size(), v.category, blind_index_(v.category, v.value)});
      }
    }
  }
  for (const AnswerValue& v : values) {
    auto it = by_blind_index_.find(v.blind_index);
    if (it != by_blind_index_.end()) {
      hits.push_back(
          {it->second, v.finding.begin, v.finding.end, v.finding.category, v.blind_index});
    }
  }
  return hits;
}

void SessionValueIndex::RecordSent(const TenantId& tenant, std::string_view session_id,
                                   const std::set<std::string>& blind_indexes) {
  absl::MutexLock lock(&mu_);
  for (const std::string& b : blind_indexes) {
    if (first_.size() >= max_entries_) break;  // bounded: oldest first-sends are kept
    first_.try_emplace(b, Origin{tenant, std::string(session_id)});
  }
}

std::optional<SessionValueIndex::Origin> SessionValueIndex::FirstSent(
    std::string_view blind_index) const {
  absl::MutexLock lock(&mu_);
  auto it = first_.find(blind_index);
  if (it == first_.end()) return std::nullopt;
  return it->second;
}

size_t SessionValueIndex::size() const {
  absl::MutexLock lock(&mu_);
  return first_.size();
}

std::optional<Detection> DetectFailOpen(std::span<const std::string> egress_ids,
                                        std::span<const std::string> audit_event_ids) {
  const std::set<std::string_view> audited(audit_event_ids.begin(), audit_event_ids.end());
  Detection d;
  for (const std::string& id : egress_ids) {
    if (audited.contains(id)) continue;
    Evidence e;
    e.ref = id;
    e.note = "egress without a committed audit event";
    d.evidence.push_back(std::move(e));
  }
  if (d.evidence.empty()) return std::nullopt;
  d.kind = DetectionKind::kFailOpen;
  d.severity = Severity::kCritical;
  d.detector = "fail_open";
  return d;
}

LeakScanner::LeakScanner(BlindIndexFn blind_index, BlindIndexLookup lookup,
                         const CanaryRegistry* canaries, const SessionValueIndex* sessions)
    : blind_index_(std::move(blind_index)), lookup_(std::move(lookup)) {
  detectors_.push_back(NewPromptInjectionDetector());
  detectors_.push_back(NewCrossTenantPatientDetector());
  detectors_.push_back(NewCacheLeakDetector());
  if (canaries != nullptr) detectors_.push_back(NewCanaryDetector(canaries));
  if (sessions != nullptr) detectors_.push_back(NewTrainingDataLeakDetector(sessions));
}

Result<std::vector<AnswerValue>> LeakScanner::Prepare(const LeakScanInput& in) const {
  if (in.findings == nullptr || in.sent_blind_indexes == nullptr) {
    return absl::InvalidArgumentError("leak scan needs the answer's findings and the sent set");
  }
  std::vector<AnswerValue> values;
  values.reserve(in.findings->size());
  for (const Finding& f : *in.findings) {
    if (f.begin > f.end || f.end > in.answer.size()) {
      return absl::InvalidArgumentError(
          absl::StrCat("finding [", f.begin, ", ", f.end, ") is outside the answer"));
    }
    AnswerValue v;
    v.finding = f;
    v.blind_index = blind_index_(f.category, in.answer.substr(f.begin, f.end - f.begin));
    v.sent = in.sent_blind_indexes->contains(v.blind_index);
    if (!v.sent && lookup_) v.refs = lookup_(v.blind_index);
    values.push_back(std::move(v));
  }
  return values;
}

Result<std::vector<Detection>> LeakScanner::Scan(const LeakScanInput& in) const {
  PHIGATE_ASSIGN_OR_RETURN(std::vector<AnswerValue> values, Prepare(in));
  std::vector<Detection> out;
  for (const auto& d : detectors_) PHIGATE_RETURN_IF_ERROR(d->Scan(in, values, &out));
  return out;
}

}  // namespace phigate::breach
