// Incidents: the PHI-free record of a suspected breach, from first detection
// to closure, with the 4-factor risk assessment (45 CFR 164.402) and the
// encryption safe harbor (HHS guidance, 74 FR 19006) recorded with reasons.
//
// No PHI is stored: affected patients are blind-index references (hex keyed
// hashes the vault can resolve for an authorised role) with counts per state
// of residence; evidence is offsets, categories and blind indexes. Free-text
// fields (answers, reasons, notes) are written by the compliance team and must
// not quote PHI; the CLI says so at the prompt.
//
// Example:
//   Incident inc = NewIncident(tenant, now_unix, "canary of tenant a in tenant b answer");
//   inc.detections.push_back(detection);
//   PHIGATE_RETURN_IF_ERROR(store.Create(inc));            // assigns "INC-2026-0001"
//   PHIGATE_RETURN_IF_ERROR(Advance(inc, IncidentState::kAssessed, "officer", now_unix, ""));
#ifndef PHIGATE_BREACH_INCIDENT_H_
#define PHIGATE_BREACH_INCIDENT_H_

#include <cstddef>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "phigate/breach/calendar.h"
#include "phigate/breach/deadlines.h"
#include "phigate/core/ids.h"
#include "phigate/core/phi_category.h"
#include "phigate/core/status.h"

namespace phigate::breach {

enum class Severity : uint8_t { kLow = 0, kMedium, kHigh, kCritical };
std::string_view Name(Severity s);
Result<Severity> ParseSeverity(std::string_view s);

enum class DetectionKind : uint8_t {
  kPromptInjectionLeak,  // answer holds PHI this request did not send
  kCrossTenant,          // answer value matches another tenant's vault entry
  kCrossPatient,         // answer value matches another patient's vault entry (same tenant)
  kCanary,               // a planted canary appeared outside its tenant/scope
  kCacheLeak,            // cached answer's tenant/policy tag differs from the request's
  kTrainingDataLeak,     // PHI of an earlier session appeared in a later session
  kFailOpen,             // egress without a matching audit event
};
std::string_view Name(DetectionKind k);
Result<DetectionKind> ParseDetectionKind(std::string_view s);

// One piece of evidence. Never the text: offsets into the answer, a category,
// the blind index of the value, and ids.
struct Evidence {
  size_t begin = 0;  // byte offsets into the scanned answer, [begin, end)
  size_t end = 0;
  std::optional<PhiCategory> category;
  std::string blind_index;  // hex; empty when not applicable
  std::string ref;          // an id: request id, egress id, cache key hash, other tenant id
  std::string note;         // fixed wording chosen by the detector ("not sent by this request")
};

struct Detection {
  DetectionKind kind = DetectionKind::kPromptInjectionLeak;
  Severity severity = Severity::kLow;
  std::vector<Evidence> evidence;
  // Blind-index references of the patients whose PHI appeared (when known).
  std::vector<std::string> patient_refs;
  std::string detector;  // static name of the detector
};

enum class IncidentState : uint8_t { kDetected = 0, kAssessed, kNotified, kClosed };
std::string_view Name(IncidentState s);

struct Transition {
  IncidentState state = IncidentState::kDetected;
  int64_t at_unix = 0;  // seconds since the epoch, UTC
  std::string by;       // user id or "phigate" for automatic steps
  std::string note;
};

// 45 CFR 164.402(2): the four factors, each with answer, rating and reason.
enum class FactorRating : uint8_t { kLow = 0, kMedium, kHigh };
std::string_view Name(FactorRating r);
Result<FactorRating> ParseFactorRating(std::string_view s);

struct RiskFactor {
  FactorRating rating = FactorRating::kHigh;  // risk that PHI was compromised
  std::string answer;                         // what was found (no PHI)
  std::string reason;                         // why this rating
};

// HHS guidance under HITECH 13402(h)(2): PHI that left only as tokens or as
// ciphertext whose key was not compromised is not "unsecured PHI".
struct SafeHarbor {
  bool only_tokens_or_encrypted = false;
  bool key_compromised = false;
  std::string reason;
  bool Applies() const { return only_tokens_or_encrypted && !key_compromised; }
};

enum class Conclusion : uint8_t {
  kNotifiableBreach = 0,  // presumed breach: notify
  kLowProbability,        // documented low probability of compromise: no notice
  kExcluded,              // one of the three 164.402(1) exclusions
  kNotUnsecuredPhi,       // safe harbor: no notification obligation
};
std::string_view Name(Conclusion c);

struct RiskAssessment {
  RiskFactor nature_and_extent;    // (i) types of identifiers, likelihood of re-identification
  RiskFactor unauthorized_person;  // (ii) who used or received it
  RiskFactor acquired_or_viewed;   // (iii) whether actually acquired or viewed
  RiskFactor mitigation;           // (iv) extent the risk has been mitigated
  // 164.402(1)(i)-(iii); any true (with reason) excludes the event from "breach".
  bool exclusion_good_faith_workforce = false;
  bool exclusion_inadvertent_authorized = false;
  bool exclusion_could_not_retain = false;
  std::string exclusion_reason;
  SafeHarbor safe_harbor;
  Conclusion conclusion = Conclusion::kNotifiableBreach;
  std::string conclusion_reason;  // filled by Conclude()
  std::string signed_off_by;
  int64_t signed_off_at_unix = 0;
};

// Derives the conclusion and its reason from the answers: safe harbor first,
// then the exclusions, then "low probability" only when all four factors are
// rated low; anything else is a notifiable breach (the 164.402 presumption).
void Conclude(RiskAssessment& a);
// True when the conclusion creates notification obligations.
bool RequiresNotification(const RiskAssessment& a);

// Facts needed by the deadline engine that are not derived from detections.
struct NoticeFacts {
  EntityRole role = EntityRole::kCoveredEntity;
  bool ba_is_agent = false;
  std::optional<Date> ce_notified;
  std::optional<int> baa_notice_days;
  std::optional<Date> determination;
  std::optional<Date> individual_notice_sent;
  std::optional<Date> hhs_notified;
  std::optional<Date> no_harm_determination;
  std::optional<LawEnforcementDelay> le_delay;
  bool licensed_ca_facility = false;
  bool dfs_regulated = false;
  bool part2_program = false;
};

struct Incident {
  std::string id;  // "INC-2026-0007", assigned by IncidentStore::Create
  TenantId tenant;
  std::string title;  // PHI-free summary
  Severity severity = Severity::kLow;
  IncidentState state = IncidentState::kDetected;
  int64_t detected_at_unix = 0;  // first detection = discovery (the org "should have known")
  std::vector<Transition> history;
  std::vector<Detection> detections;
  // Affected individuals: blind-index references (deduplicated) and counts.
  std::vector<std::string> patient_refs;
  std::map<std::string, int64_t> residents_by_state;
  int64_t total_affected = 0;  // 0 = sum of residents_by_state
  CategorySet phi_categories;
  std::optional<RiskAssessment> assessment;
  NoticeFacts notice;
  std::vector<std::string> containment;  // recorded containment actions ("purge_cache ok")
  std::string breach_date;               // "YYYY-MM-DD" when known (may precede discovery)
  // The first day a workforce member knew or should have known (45 CFR
  // 164.404(a)(2)), when that is earlier than the first detection's date
  // (`breach facts --discovered`); nullopt: the detection's date.
  std::optional<Date> discovered;
  // The IANA time zone whose calendar dates the first detection (the covered
  // entity's: a detection at 20:00 in New York is discovered that day, not on
  // the next UTC day); empty: UTC. Set from `breach.time_zone` or
  // `breach new|facts --time-zone`.
  std::string time_zone;

  Date DetectionDate() const;  // date of detected_at_unix in time_zone (UTC if empty)
  Date DiscoveryDate() const;  // `discovered`, else DetectionDate()
  Severity MaxSeverity() const;
  IncidentFacts ToFacts() const;
};

// A new incident in state kDetected at `now_unix`, with a "detected" transition by "phigate".
Incident NewIncident(const TenantId& tenant, int64_t now_unix, std::string title);

// OK when `name` is an IANA time zone this machine knows (tzdata).
Status ValidateTimeZone(std::string_view name);

// Adds a detection: raises the severity, merges patient refs and categories.
void AddDetection(Incident& inc, Detection d);

// Moves the lifecycle forward: detected -> assessed -> notified -> closed, or
// assessed -> closed when no notification is required. FailedPrecondition for
// any other move (and for kAssessed without a signed-off assessment).
Status Advance(Incident& inc, IncidentState to, std::string by, int64_t now_unix, std::string note);

// Records a signed-off risk assessment (Conclude() is applied) and moves the
// incident to kAssessed. InvalidArgument without a signer.
Status RecordAssessment(Incident& inc, RiskAssessment a, std::string by, int64_t now_unix);

// JSON (nlohmann) round trip, the stored form. InvalidArgument on malformed input.
std::string IncidentToJson(const Incident& inc);
Result<Incident> IncidentFromJson(std::string_view json);

std::string FormatUnixTime(int64_t unix_seconds);  // "2026-11-30T08:30:00Z"

}  // namespace phigate::breach

#endif  // PHIGATE_BREACH_INCIDENT_H_
