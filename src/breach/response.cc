#include "phigate/breach/response.h"

#include <algorithm>
#include <set>
#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"

namespace phigate::breach {

std::string_view Name(ResponseAction a) {
  switch (a) {
    case ResponseAction::kPassAlert:
      return "pass_alert";
    case ResponseAction::kRedact:
      return "redact";
    case ResponseAction::kWithhold:
      return "withhold";
  }
  return "?";
}

Result<ResponseAction> ParseResponseAction(std::string_view s) {
  const std::string l = absl::AsciiStrToLower(ToAbsl(s));
  if (l == "pass_alert" || l == "pass") return ResponseAction::kPassAlert;
  if (l == "redact") return ResponseAction::kRedact;
  if (l == "withhold") return ResponseAction::kWithhold;
  return absl::InvalidArgumentError("response action must be withhold, redact or pass_alert");
}

ResponseAction ResponsePolicy::For(Severity s) const {
  switch (s) {
    case Severity::kLow:
      return low;
    case Severity::kMedium:
      return medium;
    case Severity::kHigh:
      return high;
    case Severity::kCritical:
      return critical;
  }
  return ResponseAction::kWithhold;
}

Result<std::string> RedactEvidence(std::string_view answer, const std::vector<Detection>& found) {
  std::vector<std::pair<size_t, size_t>> spans;
  for (const Detection& d : found) {
    for (const Evidence& e : d.evidence) {
      if (e.begin == e.end) continue;
      if (e.begin > e.end || e.end > answer.size()) {
        return absl::InvalidArgumentError("evidence span outside the answer");
      }
      spans.emplace_back(e.begin, e.end);
    }
  }
  std::sort(spans.begin(), spans.end());
  std::string out;
  size_t pos = 0;
  for (size_t i = 0; i < spans.size();) {
    size_t b = spans[i].first, e = spans[i].second;
    while (++i < spans.size() && spans[i].first < e) e = std::max(e, spans[i].second);
    if (b < pos) b = pos;
    out.append(answer.substr(pos, b - pos));
    out.append("[REDACTED]");
    pos = std::max(pos, e);
  }
  out.append(answer.substr(pos));
  return out;
}

std::string_view Name(ContainmentKind k) {
  switch (k) {
    case ContainmentKind::kPurgeCache:
      return "purge_cache";
    case ContainmentKind::kSuspendFeature:
      return "suspend_feature";
    case ContainmentKind::kSuspendRoute:
      return "suspend_route";
    case ContainmentKind::kRotateKeys:
      return "rotate_keys";
  }
  return "?";
}

Status RecordingContainment::PurgeCache(const TenantId& tenant) {
  absl::MutexLock lock(&mu_);
  calls_.push_back("purge_cache " + tenant.value());
  return absl::OkStatus();
}
Status RecordingContainment::SuspendFeature(const TenantId& tenant, std::string_view feature) {
  absl::MutexLock lock(&mu_);
  calls_.push_back(absl::StrCat("suspend_feature ", tenant.value(), " ", ToAbsl(feature)));
  return absl::OkStatus();
}
Status RecordingContainment::SuspendRoute(const TenantId& tenant, std::string_view route) {
  absl::MutexLock lock(&mu_);
  calls_.push_back(absl::StrCat("suspend_route ", tenant.value(), " ", ToAbsl(route)));
  return absl::OkStatus();
}
Status RecordingContainment::RotateKeys(const TenantId& tenant) {
  absl::MutexLock lock(&mu_);
  calls_.push_back("rotate_keys " + tenant.value());
  return absl::OkStatus();
}
std::vector<std::string> RecordingContainment::calls() const {
  absl::MutexLock lock(&mu_);
  return calls_;
}

ContainmentPlan ContainmentPlan::Default() {
  using CK = ContainmentKind;
  ContainmentPlan p;
  p.actions[DetectionKind::kCacheLeak] = {CK::kPurgeCache};
  p.actions[DetectionKind::kCrossTenant] = {CK::kPurgeCache, CK::kSuspendRoute, CK::kRotateKeys};
  p.actions[DetectionKind::kCanary] = {CK::kPurgeCache, CK::kSuspendRoute, CK::kRotateKeys};
  p.actions[DetectionKind::kPromptInjectionLeak] = {CK::kSuspendFeature};
  p.actions[DetectionKind::kCrossPatient] = {CK::kSuspendFeature};
  p.actions[DetectionKind::kTrainingDataLeak] = {CK::kSuspendRoute};
  p.actions[DetectionKind::kFailOpen] = {CK::kSuspendRoute};
  return p;
}

Status RunContainment(const ContainmentPlan& plan, const std::vector<Detection>& found,
                      const TenantId& tenant, ContainmentActions& actions, Incident* inc) {
  std::set<ContainmentKind> todo;
  for (const Detection& d : found) {
    auto it = plan.actions.find(d.kind);
    if (it != plan.actions.end()) todo.insert(it->second.begin(), it->second.end());
  }
  Status first = absl::OkStatus();
  for (ContainmentKind k : todo) {
    Status s;
    std::string target = tenant.value();
    switch (k) {
      case ContainmentKind::kPurgeCache:
        s = actions.PurgeCache(tenant);
        break;
      case ContainmentKind::kSuspendFeature:
        target = absl::StrCat(tenant.value(), "/", plan.feature);
        s = actions.SuspendFeature(tenant, plan.feature);
        break;
      case ContainmentKind::kSuspendRoute:
        target = absl::StrCat(tenant.value(), "/", plan.route);
        s = actions.SuspendRoute(tenant, plan.route);
        break;
      case ContainmentKind::kRotateKeys:
        s = actions.RotateKeys(tenant);
        break;
    }
    if (inc != nullptr) {
      inc->containment.push_back(
          absl::StrCat(ToAbsl(Name(k)), " ", target, ": ",
                       s.ok() ? std::string("ok")
                              : absl::StrCat("failed (", absl::StatusCodeToString(s.code()), ")")));
    }
    if (!s.ok() && first.ok()) first = s;
  }
  return first;
}

BreachResponder::BreachResponder(const LeakScanner* scanner, IncidentStore* store,
                                 ContainmentActions* actions, ResponsePolicy policy,
                                 ContainmentPlan plan)
    : scanner_(scanner),
      store_(store),
      actions_(actions),
      policy_(policy),
      plan_(std::move(plan)) {}

Result<std::string> BreachResponder::Record(const TenantId& tenant, std::vector<Detection> found,
                                            int64_t now_unix, std::string title) {
  Incident inc = NewIncident(tenant, now_unix, std::move(title));
  inc.time_zone = policy_.time_zone;
  for (Detection& d : found) AddDetection(inc, std::move(d));
  Status contained = absl::OkStatus();
  if (actions_ != nullptr) {
    contained = RunContainment(plan_, inc.detections, tenant, *actions_, &inc);
  }
  PHIGATE_RETURN_IF_ERROR(store_->Create(inc));
  // A failed containment is recorded on the incident; the incident itself stands.
  contained.IgnoreError();
  return inc.id;
}

Result<LeakResponse> BreachResponder::OnAnswer(const LeakScanInput& in, int64_t now_unix) {
  LeakResponse r;
  PHIGATE_ASSIGN_OR_RETURN(r.detections, scanner_->Scan(in));
  if (r.detections.empty()) {
    r.text = std::string(in.answer);
    return r;
  }
  Severity worst = Severity::kLow;
  std::vector<std::string> kinds;
  for (const Detection& d : r.detections) {
    worst = std::max(worst, d.severity);
    kinds.emplace_back(Name(d.kind));
  }
  PHIGATE_ASSIGN_OR_RETURN(
      r.incident_id,
      Record(in.tenant, r.detections, now_unix,
             absl::StrCat(absl::StrJoin(kinds, "+"), " in answer to request ", in.request_id)));
  r.action = policy_.For(worst);
  if (r.action == ResponseAction::kRedact) {
    PHIGATE_ASSIGN_OR_RETURN(r.text, RedactEvidence(in.answer, r.detections));
  } else if (r.action == ResponseAction::kPassAlert) {
    r.text = std::string(in.answer);
  }
  return r;
}

}  // namespace phigate::breach
