#include "phigate/breach/incident.h"

#include <algorithm>
#include <cstdio>
#include <ctime>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "nlohmann/json.hpp"

namespace phigate::breach {
namespace {

using nlohmann::json;

template <class E, size_t N>
std::string_view NameIn(const std::string_view (&names)[N], E e) {
  const size_t i = static_cast<size_t>(e);
  return i < N ? names[i] : "?";
}

template <class E, size_t N>
Result<E> ParseIn(const std::string_view (&names)[N], std::string_view s, const char* what) {
  const std::string l = absl::AsciiStrToLower(ToAbsl(s));
  for (size_t i = 0; i < N; ++i) {
    if (names[i] == l) return static_cast<E>(i);
  }
  return absl::InvalidArgumentError(absl::StrCat("unknown ", what));
}

constexpr std::string_view kSeverities[] = {"low", "medium", "high", "critical"};
constexpr std::string_view kKinds[] = {
    "prompt_injection_leak", "cross_tenant", "cross_patient", "canary", "cache_leak",
    "training_data_leak",    "fail_open"};
constexpr std::string_view kStates[] = {"detected", "assessed", "notified", "closed"};
constexpr std::string_view kRatings[] = {"low", "medium", "high"};
constexpr std::string_view kConclusions[] = {"notifiable_breach", "low_probability", "excluded",
                                             "not_unsecured_phi"};

json DateJson(const std::optional<Date>& d) { return d ? json(FormatDate(*d)) : json(nullptr); }

Result<std::optional<Date>> DateFrom(const json& j, const char* key) {
  if (!j.contains(key) || j.at(key).is_null()) return std::optional<Date>();
  PHIGATE_ASSIGN_OR_RETURN(Date d, ParseDate(j.at(key).get<std::string>()));
  return std::optional<Date>(d);
}

json FactorJson(const RiskFactor& f) {
  return {{"rating", std::string(Name(f.rating))}, {"answer", f.answer}, {"reason", f.reason}};
}

Result<RiskFactor> FactorFrom(const json& j) {
  RiskFactor f;
  PHIGATE_ASSIGN_OR_RETURN(f.rating, ParseFactorRating(j.at("rating").get<std::string>()));
  f.answer = j.value("answer", "");
  f.reason = j.value("reason", "");
  return f;
}

}  // namespace

std::string_view Name(Severity s) { return NameIn(kSeverities, s); }
Result<Severity> ParseSeverity(std::string_view s) {
  return ParseIn<Severity>(kSeverities, s, "severity");
}
std::string_view Name(DetectionKind k) { return NameIn(kKinds, k); }
Result<DetectionKind> ParseDetectionKind(std::string_view s) {
  return ParseIn<DetectionKind>(kKinds, s, "detection kind");
}
std::string_view Name(IncidentState s) { return NameIn(kStates, s); }
std::string_view Name(FactorRating r) { return NameIn(kRatings, r); }
Result<FactorRating> ParseFactorRating(std::string_view s) {
  return ParseIn<FactorRating>(kRatings, s, "factor rating (low, medium, high)");
}
std::string_view Name(Conclusion c) { return NameIn(kConclusions, c); }

void Conclude(RiskAssessment& a) {
  if (a.safe_harbor.Applies()) {
    a.conclusion = Conclusion::kNotUnsecuredPhi;
    a.conclusion_reason =
        "PHI left only as tokens or as ciphertext whose key was not compromised: not unsecured "
        "PHI (HITECH 13402(h), 74 FR 19006), no notification obligation";
    if (!a.safe_harbor.reason.empty())
      absl::StrAppend(&a.conclusion_reason, ". ", a.safe_harbor.reason);
    return;
  }
  if (a.exclusion_good_faith_workforce || a.exclusion_inadvertent_authorized ||
      a.exclusion_could_not_retain) {
    a.conclusion = Conclusion::kExcluded;
    a.conclusion_reason = absl::StrCat(
        "excluded from the definition of breach by 45 CFR 164.402(1)(",
        a.exclusion_good_faith_workforce ? "i"
                                         : (a.exclusion_inadvertent_authorized ? "ii" : "iii"),
        ")");
    if (!a.exclusion_reason.empty())
      absl::StrAppend(&a.conclusion_reason, ": ", a.exclusion_reason);
    return;
  }
  const bool all_low = a.nature_and_extent.rating == FactorRating::kLow &&
                       a.unauthorized_person.rating == FactorRating::kLow &&
                       a.acquired_or_viewed.rating == FactorRating::kLow &&
                       a.mitigation.rating == FactorRating::kLow;
  if (all_low) {
    a.conclusion = Conclusion::kLowProbability;
    a.conclusion_reason =
        "all four factors of 45 CFR 164.402(2) rated low: low probability that the PHI has been "
        "compromised (keep this assessment 6 years; 164.414 burden of proof)";
    return;
  }
  a.conclusion = Conclusion::kNotifiableBreach;
  a.conclusion_reason =
      "presumed breach (45 CFR 164.402(2)): at least one factor is not rated low, so a low "
      "probability of compromise is not demonstrated; notify";
}

bool RequiresNotification(const RiskAssessment& a) {
  return a.conclusion == Conclusion::kNotifiableBreach;
}

Date Incident::DetectionDate() const {
  int64_t local = detected_at_unix;
  absl::TimeZone tz;
  if (!time_zone.empty() && absl::LoadTimeZone(time_zone, &tz)) {
    // Seconds of the local wall clock: its day is the local date.
    const absl::TimeZone::CivilInfo ci = tz.At(absl::FromUnixSeconds(detected_at_unix));
    local += ci.offset;
  }
  const auto tp = std::chrono::sys_seconds{std::chrono::seconds{local}};
  return Date{std::chrono::floor<std::chrono::days>(tp)};
}

Status ValidateTimeZone(std::string_view name) {
  absl::TimeZone tz;
  if (name.empty() || !absl::LoadTimeZone(std::string(name), &tz)) {
    return absl::InvalidArgumentError(
        absl::StrCat("unknown time zone \"", ToAbsl(name),
                     "\" (an IANA name such as America/New_York; tzdata must be installed)"));
  }
  return absl::OkStatus();
}

Date Incident::DiscoveryDate() const { return discovered.value_or(DetectionDate()); }

Severity Incident::MaxSeverity() const {
  Severity s = Severity::kLow;
  for (const Detection& d : detections) s = std::max(s, d.severity);
  return s;
}

IncidentFacts Incident::ToFacts() const {
  IncidentFacts f;
  f.discovery = DiscoveryDate();
  f.determination = notice.determination;
  f.role = notice.role;
  f.ba_is_agent = notice.ba_is_agent;
  f.ce_notified = notice.ce_notified;
  f.baa_notice_days = notice.baa_notice_days;
  f.residents_by_state = residents_by_state;
  f.total_affected = total_affected;
  // Before anyone has counted, the patients the detections named are the
  // floor: an incident with an affected patient owes at least the individual
  // notice and the HHS log (the clock runs from discovery, not from `facts`).
  const int64_t named = static_cast<int64_t>(patient_refs.size());
  if (f.Total() < named) f.total_affected = named;
  f.individual_notice_sent = notice.individual_notice_sent;
  f.hhs_notified = notice.hhs_notified;
  f.no_harm_determination = notice.no_harm_determination;
  f.le_delay = notice.le_delay;
  f.licensed_ca_facility = notice.licensed_ca_facility;
  f.dfs_regulated = notice.dfs_regulated;
  f.part2_program = notice.part2_program;
  return f;
}

Incident NewIncident(const TenantId& tenant, int64_t now_unix, std::string title) {
  Incident inc;
  inc.tenant = tenant;
  inc.title = std::move(title);
  inc.detected_at_unix = now_unix;
  inc.history.push_back({IncidentState::kDetected, now_unix, "phigate", "first detection"});
  return inc;
}

void AddDetection(Incident& inc, Detection d) {
  inc.severity = std::max(inc.severity, d.severity);
  for (const Evidence& e : d.evidence) {
    if (e.category) inc.phi_categories.Add(*e.category);
  }
  for (const std::string& ref : d.patient_refs) {
    if (std::find(inc.patient_refs.begin(), inc.patient_refs.end(), ref) ==
        inc.patient_refs.end()) {
      inc.patient_refs.push_back(ref);
    }
  }
  inc.detections.push_back(std::move(d));
}

Status Advance(Incident& inc, IncidentState to, std::string by, int64_t now_unix,
               std::string note) {
  const IncidentState from = inc.state;
  bool ok = static_cast<int>(to) == static_cast<int>(from) + 1;
  if (from == IncidentState::kAssessed && to == IncidentState::kClosed && inc.assessment &&
      !RequiresNotification(*inc.assessment)) {
    ok = true;
  }
  if (to == IncidentState::kAssessed && !inc.assessment) ok = false;
  if (!ok) {
    return absl::FailedPreconditionError(absl::StrCat(
        "incident ", inc.id, " cannot move from ", ToAbsl(Name(from)), " to ", ToAbsl(Name(to))));
  }
  if (by.empty()) return absl::InvalidArgumentError("a lifecycle step needs the user who made it");
  inc.state = to;
  inc.history.push_back({to, now_unix, std::move(by), std::move(note)});
  return absl::OkStatus();
}

Status RecordAssessment(Incident& inc, RiskAssessment a, std::string by, int64_t now_unix) {
  if (by.empty()) return absl::InvalidArgumentError("the risk assessment needs a sign-off user");
  if (inc.state != IncidentState::kDetected && inc.state != IncidentState::kAssessed) {
    return absl::FailedPreconditionError("the incident was already notified or closed");
  }
  Conclude(a);
  a.signed_off_by = by;
  a.signed_off_at_unix = now_unix;
  const std::string note = std::string(Name(a.conclusion));
  inc.assessment = std::move(a);
  if (inc.state == IncidentState::kAssessed) {
    // A revised assessment: record it in the history without a state change.
    inc.history.push_back(
        {IncidentState::kAssessed, now_unix, std::move(by), "reassessed: " + note});
    return absl::OkStatus();
  }
  return Advance(inc, IncidentState::kAssessed, std::move(by), now_unix, note);
}

std::string FormatUnixTime(int64_t unix_seconds) {
  const std::time_t t = static_cast<std::time_t>(unix_seconds);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

std::string IncidentToJson(const Incident& inc) {
  json j;
  j["id"] = inc.id;
  j["tenant"] = inc.tenant.value();
  j["title"] = inc.title;
  j["severity"] = std::string(Name(inc.severity));
  j["state"] = std::string(Name(inc.state));
  j["detected_at"] = inc.detected_at_unix;
  j["history"] = json::array();
  for (const Transition& t : inc.history) {
    j["history"].push_back(
        {{"state", std::string(Name(t.state))}, {"at", t.at_unix}, {"by", t.by}, {"note", t.note}});
  }
  j["detections"] = json::array();
  for (const Detection& d : inc.detections) {
    json jd{{"kind", std::string(Name(d.kind))},
            {"severity", std::string(Name(d.severity))},
            {"detector", d.detector},
            {"patient_refs", d.patient_refs},
            {"evidence", json::array()}};
    for (const Evidence& e : d.evidence) {
      jd["evidence"].push_back(
          {{"begin", e.begin},
           {"end", e.end},
           {"category", e.category ? json(std::string(CategoryName(*e.category))) : json(nullptr)},
           {"blind_index", e.blind_index},
           {"ref", e.ref},
           {"note", e.note}});
    }
    j["detections"].push_back(std::move(jd));
  }
  j["patient_refs"] = inc.patient_refs;
  j["residents_by_state"] = inc.residents_by_state;
  j["total_affected"] = inc.total_affected;
  j["phi_categories"] = inc.phi_categories.bits();
  j["breach_date"] = inc.breach_date;
  if (inc.discovered) j["discovered"] = FormatDate(*inc.discovered);
  if (!inc.time_zone.empty()) j["time_zone"] = inc.time_zone;
  j["containment"] = inc.containment;
  if (inc.assessment) {
    const RiskAssessment& a = *inc.assessment;
    j["assessment"] = {{"nature_and_extent", FactorJson(a.nature_and_extent)},
                       {"unauthorized_person", FactorJson(a.unauthorized_person)},
                       {"acquired_or_viewed", FactorJson(a.acquired_or_viewed)},
                       {"mitigation", FactorJson(a.mitigation)},
                       {"exclusion_good_faith_workforce", a.exclusion_good_faith_workforce},
                       {"exclusion_inadvertent_authorized", a.exclusion_inadvertent_authorized},
                       {"exclusion_could_not_retain", a.exclusion_could_not_retain},
                       {"exclusion_reason", a.exclusion_reason},
                       {"safe_harbor",
                        {{"only_tokens_or_encrypted", a.safe_harbor.only_tokens_or_encrypted},
                         {"key_compromised", a.safe_harbor.key_compromised},
                         {"reason", a.safe_harbor.reason}}},
                       {"conclusion", std::string(Name(a.conclusion))},
                       {"conclusion_reason", a.conclusion_reason},
                       {"signed_off_by", a.signed_off_by},
                       {"signed_off_at", a.signed_off_at_unix}};
  }
  const NoticeFacts& n = inc.notice;
  j["notice"] = {{"role", std::string(Name(n.role))},
                 {"ba_is_agent", n.ba_is_agent},
                 {"ce_notified", DateJson(n.ce_notified)},
                 {"baa_notice_days", n.baa_notice_days ? json(*n.baa_notice_days) : json(nullptr)},
                 {"determination", DateJson(n.determination)},
                 {"individual_notice_sent", DateJson(n.individual_notice_sent)},
                 {"hhs_notified", DateJson(n.hhs_notified)},
                 {"no_harm_determination", DateJson(n.no_harm_determination)},
                 {"licensed_ca_facility", n.licensed_ca_facility},
                 {"dfs_regulated", n.dfs_regulated},
                 {"part2_program", n.part2_program}};
  if (n.le_delay) {
    j["notice"]["le_delay"] = {{"oral_statement", DateJson(n.le_delay->oral_statement)},
                               {"written_received", DateJson(n.le_delay->written_received)},
                               {"written_until", DateJson(n.le_delay->written_until)}};
  }
  return j.dump();
}

namespace {

// Whether any number in `j` is not an integer. An incident record holds
// integers only; nlohmann reads an integer too large for 64 bits as a double,
// and converting a double out of int64's range to int64 is undefined
// behaviour (found by breach_fuzz), so such records are refused up front.
// Iterative: a stored record is not trusted to be shallow.
bool HasNonInteger(const json& root) {
  std::vector<const json*> todo = {&root};
  while (!todo.empty()) {
    const json* v = todo.back();
    todo.pop_back();
    if (v->is_number_float()) return true;
    if (v->is_structured()) {
      for (const json& child : *v) todo.push_back(&child);
    }
  }
  return false;
}

}  // namespace

Result<Incident> IncidentFromJson(std::string_view text) {
  try {
    const json j = json::parse(text.begin(), text.end());
    if (HasNonInteger(j)) {
      return absl::InvalidArgumentError(
          "incident record holds a number that is not a 64-bit integer");
    }
    Incident inc;
    inc.id = j.at("id").get<std::string>();
    PHIGATE_ASSIGN_OR_RETURN(inc.tenant, MakeTenantId(j.at("tenant").get<std::string>()));
    inc.title = j.value("title", "");
    PHIGATE_ASSIGN_OR_RETURN(inc.severity, ParseSeverity(j.at("severity").get<std::string>()));
    PHIGATE_ASSIGN_OR_RETURN(
        inc.state, ParseIn<IncidentState>(kStates, j.at("state").get<std::string>(), "state"));
    inc.detected_at_unix = j.at("detected_at").get<int64_t>();
    for (const json& t : j.at("history")) {
      Transition tr;
      PHIGATE_ASSIGN_OR_RETURN(
          tr.state, ParseIn<IncidentState>(kStates, t.at("state").get<std::string>(), "state"));
      tr.at_unix = t.at("at").get<int64_t>();
      tr.by = t.value("by", "");
      tr.note = t.value("note", "");
      inc.history.push_back(std::move(tr));
    }
    for (const json& jd : j.at("detections")) {
      Detection d;
      PHIGATE_ASSIGN_OR_RETURN(d.kind, ParseDetectionKind(jd.at("kind").get<std::string>()));
      PHIGATE_ASSIGN_OR_RETURN(d.severity, ParseSeverity(jd.at("severity").get<std::string>()));
      d.detector = jd.value("detector", "");
      d.patient_refs = jd.value("patient_refs", std::vector<std::string>{});
      for (const json& je : jd.at("evidence")) {
        Evidence e;
        e.begin = je.at("begin").get<size_t>();
        e.end = je.at("end").get<size_t>();
        if (!je.at("category").is_null()) {
          e.category = ParseCategory(je.at("category").get<std::string>());
          if (!e.category) return absl::InvalidArgumentError("incident: unknown PHI category");
        }
        e.blind_index = je.value("blind_index", "");
        e.ref = je.value("ref", "");
        e.note = je.value("note", "");
        d.evidence.push_back(std::move(e));
      }
      inc.detections.push_back(std::move(d));
    }
    inc.patient_refs = j.value("patient_refs", std::vector<std::string>{});
    inc.residents_by_state = j.value("residents_by_state", std::map<std::string, int64_t>{});
    inc.total_affected = j.value("total_affected", int64_t{0});
    const uint32_t bits = j.value("phi_categories", uint32_t{0});
    for (PhiCategory c : AllCategories()) {
      if ((bits >> static_cast<uint32_t>(c)) & 1u) inc.phi_categories.Add(c);
    }
    inc.breach_date = j.value("breach_date", "");
    inc.time_zone = j.value("time_zone", "");
    if (!inc.time_zone.empty()) {
      // Its dates were computed in that zone: falling back to UTC would move
      // every deadline by a day for evening detections. Refuse instead.
      if (Status s = ValidateTimeZone(inc.time_zone); !s.ok()) {
        return absl::FailedPreconditionError(
            absl::StrCat("incident: its time zone cannot be loaded: ", s.message()));
      }
    }
    if (j.contains("discovered")) {
      PHIGATE_ASSIGN_OR_RETURN(inc.discovered, DateFrom(j, "discovered"));
    }
    inc.containment = j.value("containment", std::vector<std::string>{});
    if (j.contains("assessment")) {
      const json& ja = j.at("assessment");
      RiskAssessment a;
      PHIGATE_ASSIGN_OR_RETURN(a.nature_and_extent, FactorFrom(ja.at("nature_and_extent")));
      PHIGATE_ASSIGN_OR_RETURN(a.unauthorized_person, FactorFrom(ja.at("unauthorized_person")));
      PHIGATE_ASSIGN_OR_RETURN(a.acquired_or_viewed, FactorFrom(ja.at("acquired_or_viewed")));
      PHIGATE_ASSIGN_OR_RETURN(a.mitigation, FactorFrom(ja.at("mitigation")));
      a.exclusion_good_faith_workforce = ja.value("exclusion_good_faith_workforce", false);
      a.exclusion_inadvertent_authorized = ja.value("exclusion_inadvertent_authorized", false);
      a.exclusion_could_not_retain = ja.value("exclusion_could_not_retain", false);
      a.exclusion_reason = ja.value("exclusion_reason", "");
      const json& sh = ja.at("safe_harbor");
      a.safe_harbor.only_tokens_or_encrypted = sh.value("only_tokens_or_encrypted", false);
      a.safe_harbor.key_compromised = sh.value("key_compromised", false);
      a.safe_harbor.reason = sh.value("reason", "");
      PHIGATE_ASSIGN_OR_RETURN(
          a.conclusion,
          ParseIn<Conclusion>(kConclusions, ja.at("conclusion").get<std::string>(), "conclusion"));
      a.conclusion_reason = ja.value("conclusion_reason", "");
      a.signed_off_by = ja.value("signed_off_by", "");
      a.signed_off_at_unix = ja.value("signed_off_at", int64_t{0});
      inc.assessment = std::move(a);
    }
    const json& jn = j.at("notice");
    NoticeFacts& n = inc.notice;
    PHIGATE_ASSIGN_OR_RETURN(n.role, ParseEntityRole(jn.at("role").get<std::string>()));
    n.ba_is_agent = jn.value("ba_is_agent", false);
    PHIGATE_ASSIGN_OR_RETURN(n.ce_notified, DateFrom(jn, "ce_notified"));
    if (jn.contains("baa_notice_days") && !jn.at("baa_notice_days").is_null()) {
      n.baa_notice_days = jn.at("baa_notice_days").get<int>();
    }
    PHIGATE_ASSIGN_OR_RETURN(n.determination, DateFrom(jn, "determination"));
    PHIGATE_ASSIGN_OR_RETURN(n.individual_notice_sent, DateFrom(jn, "individual_notice_sent"));
    PHIGATE_ASSIGN_OR_RETURN(n.hhs_notified, DateFrom(jn, "hhs_notified"));
    PHIGATE_ASSIGN_OR_RETURN(n.no_harm_determination, DateFrom(jn, "no_harm_determination"));
    n.licensed_ca_facility = jn.value("licensed_ca_facility", false);
    n.dfs_regulated = jn.value("dfs_regulated", false);
    n.part2_program = jn.value("part2_program", false);
    if (jn.contains("le_delay")) {
      const json& jl = jn.at("le_delay");
      LawEnforcementDelay le;
      PHIGATE_ASSIGN_OR_RETURN(le.oral_statement, DateFrom(jl, "oral_statement"));
      PHIGATE_ASSIGN_OR_RETURN(le.written_received, DateFrom(jl, "written_received"));
      PHIGATE_ASSIGN_OR_RETURN(le.written_until, DateFrom(jl, "written_until"));
      n.le_delay = le;
    }
    return inc;
  } catch (const json::exception&) {
    return absl::InvalidArgumentError("incident record is not valid JSON of the expected shape");
  }
}

}  // namespace phigate::breach
