// What happens after a detection: the answer is withheld, redacted or passed
// with an alert (configurable per severity), an incident is recorded, and the
// configured containment actions run (purge the tenant's cache, suspend a
// feature or vendor route, rotate keys), each one recorded on the incident.
//
// Example:
//   BreachResponder responder(&scanner, &store, &containment, ResponsePolicy{}, plan);
//   PHIGATE_ASSIGN_OR_RETURN(LeakResponse r, responder.OnAnswer(in, now_unix));
//   if (r.action == ResponseAction::kWithhold) return Refuse(r.incident_id);
#ifndef PHIGATE_BREACH_RESPONSE_H_
#define PHIGATE_BREACH_RESPONSE_H_

#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "phigate/breach/detectors.h"
#include "phigate/breach/incident.h"
#include "phigate/breach/incident_store.h"
#include "phigate/core/status.h"

namespace phigate::breach {

enum class ResponseAction : uint8_t { kPassAlert = 0, kRedact, kWithhold };
std::string_view Name(ResponseAction a);
Result<ResponseAction> ParseResponseAction(std::string_view s);

struct ResponsePolicy {
  ResponseAction low = ResponseAction::kPassAlert;
  ResponseAction medium = ResponseAction::kRedact;
  ResponseAction high = ResponseAction::kWithhold;
  ResponseAction critical = ResponseAction::kWithhold;
  // IANA time zone the incidents this responder opens are dated in (their
  // discovery date; Incident::time_zone); empty: UTC.
  std::string time_zone;
  ResponseAction For(Severity s) const;
};

// Replaces every evidence span [begin, end) of the detections with
// "[REDACTED]" (overlaps merged). Spans outside the text are InvalidArgument.
Result<std::string> RedactEvidence(std::string_view answer, const std::vector<Detection>& found);

enum class ContainmentKind : uint8_t {
  kPurgeCache = 0,
  kSuspendFeature,
  kSuspendRoute,
  kRotateKeys
};
std::string_view Name(ContainmentKind k);

// Implemented by the gateway (cache, router, keyring); each implementation
// must write an audit event for every action it takes.
class ContainmentActions {
 public:
  virtual ~ContainmentActions() = default;
  virtual Status PurgeCache(const TenantId& tenant) = 0;
  virtual Status SuspendFeature(const TenantId& tenant, std::string_view feature) = 0;
  virtual Status SuspendRoute(const TenantId& tenant, std::string_view route) = 0;
  virtual Status RotateKeys(const TenantId& tenant) = 0;
};

// Records every call (for tests, drills and dry runs). Thread-safe.
class RecordingContainment : public ContainmentActions {
 public:
  Status PurgeCache(const TenantId& tenant) override;
  Status SuspendFeature(const TenantId& tenant, std::string_view feature) override;
  Status SuspendRoute(const TenantId& tenant, std::string_view route) override;
  Status RotateKeys(const TenantId& tenant) override;
  std::vector<std::string> calls() const;  // "purge_cache acme", "suspend_feature acme summarize"

 private:
  mutable absl::Mutex mu_;
  std::vector<std::string> calls_ ABSL_GUARDED_BY(mu_);
};

// Which containment runs for which detection kind.
struct ContainmentPlan {
  std::map<DetectionKind, std::vector<ContainmentKind>> actions;
  std::string feature;  // the feature/route to suspend (from the request context)
  std::string route;
  // Cache leak -> purge; cross-tenant/canary -> purge + suspend route + rotate
  // keys; prompt injection / cross-patient -> suspend feature; training data ->
  // suspend route; fail open -> suspend route.
  static ContainmentPlan Default();
};

// Runs the plan's actions for the kinds found (each action at most once) and
// appends "<action> <target>: ok|failed (<code>)" to inc->containment. Returns
// the first failure after trying all actions.
Status RunContainment(const ContainmentPlan& plan, const std::vector<Detection>& found,
                      const TenantId& tenant, ContainmentActions& actions, Incident* inc);

struct LeakResponse {
  ResponseAction action = ResponseAction::kPassAlert;
  std::string text;  // the answer to return (redacted when action is kRedact, empty if withheld)
  std::vector<Detection> detections;
  std::string incident_id;  // empty when nothing was detected
};

// Scan -> incident -> containment -> response, for one answer. Fails closed: if
// scanning or recording fails the result is an error and the caller withholds.
class BreachResponder {
 public:
  BreachResponder(const LeakScanner* scanner, IncidentStore* store, ContainmentActions* actions,
                  ResponsePolicy policy, ContainmentPlan plan);
  Result<LeakResponse> OnAnswer(const LeakScanInput& in, int64_t now_unix);
  // Records detections found outside the answer path (fail-open audits, stored-event scans).
  Result<std::string> Record(const TenantId& tenant, std::vector<Detection> found, int64_t now_unix,
                             std::string title);

 private:
  const LeakScanner* scanner_;
  IncidentStore* store_;
  ContainmentActions* actions_;
  ResponsePolicy policy_;
  ContainmentPlan plan_;
};

}  // namespace phigate::breach

#endif  // PHIGATE_BREACH_RESPONSE_H_
