// The deadline engine: from an incident's facts (discovery date, entity role,
// affected individuals per state of residence, notices already sent, a
// law-enforcement delay) and the rule table, every notification obligation with
// its rule, threshold comparison and due date, earliest binding date first.
//
// Example:
//   IncidentFacts f;
//   f.discovery = 2026y / March / 2d;
//   f.role = EntityRole::kCoveredEntity;
//   f.residents_by_state = {{"CA", 501}, {"TX", 250}};
//   PHIGATE_ASSIGN_OR_RETURN(std::vector<Obligation> plan, ComputeObligations(table, f));
//   // plan[0] is the earliest binding deadline; rows without a fixed deadline come last.
#ifndef PHIGATE_BREACH_DEADLINES_H_
#define PHIGATE_BREACH_DEADLINES_H_

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "phigate/breach/calendar.h"
#include "phigate/breach/rules.h"
#include "phigate/core/status.h"

namespace phigate::breach {

enum class EntityRole { kCoveredEntity, kBusinessAssociate, kPhrVendor };
std::string_view Name(EntityRole r);
Result<EntityRole> ParseEntityRole(std::string_view s);  // "ce", "ba", "phr" (or the long names)

// 45 CFR 164.412. Oral: delay at most `le_oral_max_days` (rule us-hipaa.le-delay-oral,
// 30) from the oral statement unless a written statement arrives within that period.
// Written: delay until `written_until`.
struct LawEnforcementDelay {
  std::optional<Date> oral_statement;    // date of the oral statement, if any
  std::optional<Date> written_received;  // date the written statement arrived, if any
  std::optional<Date> written_until;     // the end of the period the written statement names
};

// A two-letter code of a US state, DC or a territory (AS, GU, MP, PR, VI), in
// upper case, or "??" (residence unknown): the keys residents_by_state takes.
bool IsResidenceCode(std::string_view code);

struct IncidentFacts {
  Date discovery;  // first day known or that should have been known
  std::optional<Date>
      determination;  // when "the breach occurred" was determined; default discovery
  EntityRole role = EntityRole::kCoveredEntity;
  // For a business associate: whether it is the CE's agent (its discovery is the CE's).
  bool ba_is_agent = false;
  // For a business associate that is not an agent: when it notified the CE (the CE's clock).
  std::optional<Date> ce_notified;
  // For a business associate: the BAA's notice window when shorter than 60 days.
  std::optional<int> baa_notice_days;
  // Affected individuals by two-letter state of residence ("CA", "DC", "PR"). Unknown = "??".
  std::map<std::string, int64_t> residents_by_state;
  // Total affected; 0 means the sum of residents_by_state.
  int64_t total_affected = 0;
  std::optional<Date> individual_notice_sent;
  std::optional<Date> hhs_notified;
  std::optional<Date> no_harm_determination;  // NY 899-aa(2)(a) written determination
  std::optional<LawEnforcementDelay> le_delay;
  bool licensed_ca_facility = false;  // Cal. H&S 1280.15 licensee
  bool dfs_regulated = false;         // 23 NYCRR 500
  bool part2_program = false;         // 42 CFR Part 2 records involved

  int64_t Total() const;
};

struct Obligation {
  std::string rule_id;
  std::string jurisdiction;
  std::string recipient;  // who_is_notified text of the rule
  RecipientKind recipient_kind = RecipientKind::kIndividuals;
  std::string owed_by;  // "covered entity", "business associate", "licensed facility", ...
  std::string source;
  std::string confidence;
  // Threshold check: count_compared (of count_scope) vs rule threshold.
  std::string threshold;  // "> 500"
  int64_t count_compared = 0;
  CountScope count_scope = CountScope::kTotal;
  // Timing.
  std::optional<Date> due;  // nullopt: no fixed deadline
  bool projected = false;   // due depends on a notice not yet sent (uses its latest date)
  DayKind day_kind = DayKind::kCalendar;
  std::string timing;  // human text, e.g. "15 business days after discovery"
  bool must_precede_individual_notice = false;
  std::string note;  // law-enforcement delay applied, HIPAA effect, projections
  // Set for individual and HHS rows when that notice has gone out (its date);
  // `late` when it went out after `due`.
  std::optional<Date> sent;
  bool late = false;
  // phigate records when this notice goes out (facts --individual-notice-sent /
  // --hhs-notified): an individual or HHS row, but a licensed facility's report.
  bool sent_tracked = false;
};

struct PlanResult {
  std::vector<Obligation> obligations;  // sorted: earliest due first, no fixed deadline last
  // Rows whose conditions matched but that do not bind this entity (HIPAA
  // exemptions, thresholds not met are NOT listed): id + reason.
  std::vector<std::pair<std::string, std::string>> not_applicable;
  std::string rules_version;
  std::optional<Date> le_delay_end;  // when a law-enforcement delay applies
  // Affected individuals counted in the total but in no state (not even
  // "??"): the state notices and the HIPAA media notice (> 500 residents of
  // one state) could not be computed for them. 0 when every one is placed.
  int64_t unplaced = 0;
};

// The warning a plan with unplaced individuals carries ("" when none).
std::string UnplacedWarning(const PlanResult& plan);

// InvalidArgument when the facts are inconsistent (a negative count, a notice
// before discovery, a written delay without its end date).
Result<PlanResult> ComputeObligations(const RuleTable& rules, const IncidentFacts& facts);

}  // namespace phigate::breach

#endif  // PHIGATE_BREACH_DEADLINES_H_
