#include "phigate/breach/deadlines.h"

#include <algorithm>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"

namespace phigate::breach {
namespace {

std::string RelativeText(RelativeTo r) {
  switch (r) {
    case RelativeTo::kDiscovery:
      return "discovery";
    case RelativeTo::kDetermination:
      return "determination of the breach";
    case RelativeTo::kIndividualNotice:
      return "notice to individuals";
    case RelativeTo::kHhsNotice:
      return "notice to HHS";
    case RelativeTo::kYearEnd:
      return "end of the calendar year of discovery";
    case RelativeTo::kNoHarmDetermination:
      return "the written no-harm determination";
    case RelativeTo::kOralStatement:
      return "the oral statement";
  }
  return "?";
}

bool Earlier(const std::optional<Date>& a, const std::optional<Date>& b) {
  if (!a.has_value()) return false;
  if (!b.has_value()) return true;
  return std::chrono::sys_days{*a} < std::chrono::sys_days{*b};
}

Date Max(const Date& a, const Date& b) {
  return std::chrono::sys_days{a} < std::chrono::sys_days{b} ? b : a;
}

Date Advance(const Date& start, int n, DayKind kind) {
  return kind == DayKind::kBusiness ? AddBusinessDays(start, n) : AddDays(start, n);
}

// One candidate obligation while the plan is computed.
struct Pending {
  const Rule* rule = nullptr;
  Obligation ob;
  std::string state;  // the state the row counts residents of ("" for total-scope rows)
  Date clock;         // the owner's discovery clock
  bool done = false;
};

}  // namespace

std::string_view Name(EntityRole r) {
  switch (r) {
    case EntityRole::kCoveredEntity:
      return "covered_entity";
    case EntityRole::kBusinessAssociate:
      return "business_associate";
    case EntityRole::kPhrVendor:
      return "phr_vendor";
  }
  return "?";
}

Result<EntityRole> ParseEntityRole(std::string_view s) {
  const std::string l = absl::AsciiStrToLower(ToAbsl(s));
  if (l == "ce" || l == "covered_entity") return EntityRole::kCoveredEntity;
  if (l == "ba" || l == "business_associate") return EntityRole::kBusinessAssociate;
  if (l == "phr" || l == "phr_vendor") return EntityRole::kPhrVendor;
  return absl::InvalidArgumentError("entity role must be ce, ba or phr");
}

bool IsResidenceCode(std::string_view code) {
  static constexpr std::string_view kCodes[] = {
      "AL", "AK", "AZ", "AR", "CA", "CO", "CT", "DE", "FL", "GA", "HI", "ID", "IL", "IN", "IA",
      "KS", "KY", "LA", "ME", "MD", "MA", "MI", "MN", "MS", "MO", "MT", "NE", "NV", "NH", "NJ",
      "NM", "NY", "NC", "ND", "OH", "OK", "OR", "PA", "RI", "SC", "SD", "TN", "TX", "UT", "VT",
      "VA", "WA", "WV", "WI", "WY", "DC", "AS", "GU", "MP", "PR", "VI", "??"};
  return std::find(std::begin(kCodes), std::end(kCodes), code) != std::end(kCodes);
}

int64_t IncidentFacts::Total() const {
  if (total_affected > 0) return total_affected;
  int64_t sum = 0;
  for (const auto& [state, n] : residents_by_state) sum += n;
  return sum;
}

std::string UnplacedWarning(const PlanResult& plan) {
  if (plan.unplaced <= 0) return "";
  return absl::StrCat(
      "WARNING: ", plan.unplaced,
      " affected individual(s) have no state of residence recorded: state notices and the "
      "HIPAA media notice (more than 500 residents of one state) were not computed for them. "
      "Record them with `breach facts --state XX=N` (?? for unknown).");
}

Result<PlanResult> ComputeObligations(const RuleTable& rules, const IncidentFacts& f) {
  using std::chrono::sys_days;
  if (!f.discovery.ok()) return absl::InvalidArgumentError("discovery date is not a valid date");
  int64_t sum = 0;
  for (const auto& [state, n] : f.residents_by_state) {
    if (n < 0) return absl::InvalidArgumentError("affected count per state must be >= 0");
    // A code no rule is keyed by ("ca", "ZZ") would silently drop that
    // state's obligations from the plan.
    if (!IsResidenceCode(state)) {
      return absl::InvalidArgumentError(absl::StrCat(
          "affected state \"", state,
          "\" is not a two-letter upper-case code of a US state, DC or territory (or \"??\")"));
    }
    sum += n;
  }
  if (f.total_affected < 0) return absl::InvalidArgumentError("total affected must be >= 0");
  if (f.total_affected > 0 && f.total_affected < sum) {
    return absl::InvalidArgumentError("total affected is smaller than the sum over states");
  }
  for (const std::optional<Date>* d : {&f.individual_notice_sent, &f.hhs_notified, &f.determination,
                                       &f.no_harm_determination, &f.ce_notified}) {
    if (d->has_value() && (!(*d)->ok() || sys_days{**d} < sys_days{f.discovery})) {
      return absl::InvalidArgumentError("a notice or determination date precedes discovery");
    }
  }
  const int64_t total = f.Total();

  PlanResult plan;
  plan.rules_version = rules.version();
  plan.unplaced = total - sum;

  // Law-enforcement delay window [le_start, le_end].
  std::optional<Date> le_start, le_end;
  std::string le_note;
  if (f.le_delay.has_value()) {
    const LawEnforcementDelay& le = *f.le_delay;
    int oral_max = 30;
    if (const Rule* r = rules.Find("us-hipaa.le-delay-oral"); r != nullptr && r->due_days) {
      oral_max = *r->due_days;
    }
    if (le.written_received.has_value() != le.written_until.has_value()) {
      return absl::InvalidArgumentError(
          "a written law-enforcement statement needs both its receipt date and the end of its "
          "period");
    }
    if (le.oral_statement.has_value()) {
      const Date oral_end = AddDays(*le.oral_statement, oral_max);
      le_start = *le.oral_statement;
      le_end = oral_end;
      le_note = absl::StrCat("oral law-enforcement statement of ", FormatDate(*le.oral_statement),
                             ": delayed at most ", oral_max, " days, to ", FormatDate(oral_end));
      if (le.written_received.has_value()) {
        if (sys_days{*le.written_received} <= sys_days{oral_end}) {
          le_end = *le.written_until;
          le_note =
              absl::StrCat("oral law-enforcement statement of ", FormatDate(*le.oral_statement),
                           " confirmed in writing on ", FormatDate(*le.written_received),
                           ": delayed until ", FormatDate(*le.written_until));
        } else {
          absl::StrAppend(&le_note, " (the written statement of ", FormatDate(*le.written_received),
                          " came after the oral period ended and does not extend it)");
        }
      }
    } else if (le.written_received.has_value()) {
      le_start = *le.written_received;
      le_end = *le.written_until;
      le_note =
          absl::StrCat("written law-enforcement statement of ", FormatDate(*le.written_received),
                       ": delayed until ", FormatDate(*le.written_until));
    }
    if (le_start && le_end && sys_days{*le_end} < sys_days{*le_start}) {
      return absl::InvalidArgumentError("a law-enforcement delay ends before it starts");
    }
    plan.le_delay_end = le_end;
  }

  // The covered entity's clock when this entity is a business associate.
  std::optional<Date> ce_clock;
  if (f.role == EntityRole::kBusinessAssociate) {
    if (f.ba_is_agent) {
      ce_clock = f.discovery;
    } else if (f.ce_notified.has_value()) {
      ce_clock = *f.ce_notified;
    }
  }

  std::vector<Pending> pending;
  for (const Rule& rule : rules.rules()) {
    if (rule.recipient == RecipientKind::kLeDelay) continue;  // a parameter, not a notice
    // Who owes this row, and from which clock.
    std::string owed_by;
    std::optional<Date> clock;
    const char* skip_reason = nullptr;
    switch (rule.applies_to) {
      case AppliesTo::kAll:
      case AppliesTo::kCoveredEntity:
        if (f.role == EntityRole::kCoveredEntity ||
            (f.role == EntityRole::kPhrVendor && rule.applies_to == AppliesTo::kAll)) {
          owed_by = f.role == EntityRole::kPhrVendor ? "PHR vendor" : "covered entity";
          clock = f.discovery;
        } else if (f.role == EntityRole::kBusinessAssociate) {
          owed_by = "covered entity (data owner)";
          clock = ce_clock;
          if (!clock) skip_reason = "the covered entity's clock starts when the BA notifies it";
        } else {
          continue;  // HIPAA rows do not bind a non-HIPAA PHR vendor
        }
        break;
      case AppliesTo::kBusinessAssociate:
        if (f.role != EntityRole::kBusinessAssociate) continue;
        owed_by = "business associate";
        clock = f.discovery;
        break;
      case AppliesTo::kLicensedFacility:
        if (!f.licensed_ca_facility) continue;
        owed_by = "licensed facility";
        clock = f.discovery;
        break;
      case AppliesTo::kDfsRegulated:
        if (!f.dfs_regulated) continue;
        owed_by = "DFS-regulated entity";
        clock = f.discovery;
        break;
      case AppliesTo::kPhrVendor:
        if (f.role != EntityRole::kPhrVendor) continue;
        owed_by = "PHR vendor";
        clock = f.discovery;
        break;
      case AppliesTo::kPart2Program:
        if (!f.part2_program) continue;
        owed_by = f.role == EntityRole::kBusinessAssociate ? "covered entity (data owner)"
                                                           : "Part 2 program";
        clock = f.role == EntityRole::kBusinessAssociate ? ce_clock : f.discovery;
        if (!clock) skip_reason = "the covered entity's clock starts when the BA notifies it";
        break;
    }
    // Which counts to compare: one row per state for federal per-state rows.
    std::vector<std::pair<std::string, int64_t>> counts;
    if (rule.scope == CountScope::kStateResidents) {
      if (rule.IsStateRow()) {
        auto it = f.residents_by_state.find(rule.jurisdiction);
        counts.emplace_back(rule.jurisdiction, it == f.residents_by_state.end() ? 0 : it->second);
      } else {
        for (const auto& [state, n] : f.residents_by_state) counts.emplace_back(state, n);
      }
    } else {
      counts.emplace_back("", total);
      // A state's law binds only when one of its residents is affected (licensed
      // facilities and DFS-regulated entities are bound by their licence instead).
      if (rule.IsStateRow() && rule.applies_to != AppliesTo::kLicensedFacility) {
        auto it = f.residents_by_state.find(rule.jurisdiction);
        if (it == f.residents_by_state.end() || it->second < 1) continue;
      }
    }
    for (const auto& [state, count] : counts) {
      if (!rule.Meets(count)) continue;
      const std::string where =
          rule.IsStateRow() || state.empty() ? rule.jurisdiction : rule.jurisdiction + "/" + state;
      if (skip_reason != nullptr) {
        plan.not_applicable.emplace_back(
            rule.id + (state.empty() || rule.IsStateRow() ? "" : "/" + state), skip_reason);
        continue;
      }
      if (rule.hipaa_effect == HipaaEffect::kExempt && f.role != EntityRole::kPhrVendor) {
        plan.not_applicable.emplace_back(
            rule.id,
            "HIPAA-regulated entities are exempt under this state's law (verify with counsel)");
        continue;
      }
      Pending p;
      p.rule = &rule;
      p.state = rule.IsStateRow() ? rule.jurisdiction : state;
      p.clock = *clock;
      Obligation& ob = p.ob;
      ob.rule_id = rule.id;
      ob.jurisdiction = where;
      ob.recipient = rule.who_is_notified;
      ob.recipient_kind = rule.recipient;
      ob.owed_by = owed_by;
      ob.source = rule.source;
      ob.confidence = rule.confidence;
      ob.threshold = rule.ThresholdString();
      ob.count_compared = count;
      ob.count_scope = rule.scope;
      ob.day_kind = rule.day_kind;
      ob.must_precede_individual_notice = rule.must_precede_individual_notice;
      if (rule.hipaa_effect == HipaaEffect::kDeemedCompliant && f.role != EntityRole::kPhrVendor) {
        ob.note =
            "notice given under HIPAA may be deemed compliant with this state's rule "
            "(verify with counsel)";
      }
      pending.push_back(std::move(p));
    }
  }

  auto add_note = [](Obligation& ob, const std::string& n) {
    if (n.empty()) return;
    if (!ob.note.empty()) ob.note += "; ";
    ob.note += n;
  };

  // Phase 1: rows counted from discovery/determination/year end/no-harm determination.
  for (Pending& p : pending) {
    const Rule& r = *p.rule;
    Obligation& ob = p.ob;
    std::optional<Date> start;
    switch (r.relative_to) {
      case RelativeTo::kDiscovery:
        start = p.clock;
        break;
      case RelativeTo::kDetermination:
        start = f.determination.has_value() && p.clock == f.discovery ? *f.determination : p.clock;
        break;
      case RelativeTo::kYearEnd:
        start = std::chrono::year_month_day{p.clock.year(), std::chrono::December,
                                            std::chrono::day{31}};
        break;
      case RelativeTo::kNoHarmDetermination:
        if (!f.no_harm_determination.has_value()) {
          p.done = true;  // not triggered: only when no notice is given on that ground
          ob.rule_id.clear();
          continue;
        }
        start = *f.no_harm_determination;
        break;
      default:
        continue;  // later phases
    }
    p.done = true;
    if (!r.due_days.has_value()) {
      ob.timing = absl::StrCat("no fixed deadline (", r.clock_starts, ")");
      continue;
    }
    int n = *r.due_days;
    if (r.recipient == RecipientKind::kCoveredEntity && f.baa_notice_days.has_value() &&
        *f.baa_notice_days >= 0 && *f.baa_notice_days < n) {
      n = *f.baa_notice_days;
      add_note(ob,
               absl::StrCat("BAA sets ", n, " days (shorter than the rule's ", *r.due_days, ")"));
    }
    Date due = Advance(*start, n, r.day_kind);
    ob.timing = n == 0 ? absl::StrCat("immediately after ", RelativeText(r.relative_to))
                       : absl::StrCat(n, " ", ToAbsl(Name(r.day_kind)), " days after ",
                                      RelativeText(r.relative_to));
    if (le_end.has_value() && r.le_delay != LeDelayEffect::kNone &&
        sys_days{*le_start} <= sys_days{due}) {
      if (r.le_delay == LeDelayEffect::kAfterEnd) {
        due = Advance(*le_end, n, r.day_kind);
        add_note(ob, absl::StrCat(le_note, "; ", n, " ", ToAbsl(Name(r.day_kind)),
                                  " days counted from the end of the delay"));
      } else {
        const Date from = Max(*le_start, *start);
        const int64_t tolled = std::max<int64_t>(0, DaysBetween(from, *le_end));
        due = AddDays(due, tolled);
        add_note(ob, absl::StrCat(le_note, "; clock tolled ", tolled, " days"));
      }
    }
    ob.due = due;
  }
  pending.erase(std::remove_if(pending.begin(), pending.end(),
                               [](const Pending& p) { return p.ob.rule_id.empty(); }),
                pending.end());

  // Individual-notice bounds: the actual date, else the earliest individual due
  // date that binds the row (federal rows: federal individual rows; state rows:
  // those plus the state's own).
  auto individual_bound = [&](const Pending& who) -> std::pair<std::optional<Date>, bool> {
    if (f.individual_notice_sent.has_value()) return {f.individual_notice_sent, false};
    std::optional<Date> best;
    for (const Pending& p : pending) {
      if (p.rule->recipient != RecipientKind::kIndividuals || !p.done || !p.ob.due) continue;
      const bool federal = !p.rule->IsStateRow();
      const bool same_state = p.rule->IsStateRow() && p.rule->jurisdiction == who.state &&
                              p.rule->applies_to != AppliesTo::kLicensedFacility;
      if (federal || (who.rule->IsStateRow() && same_state)) {
        if (Earlier(p.ob.due, best)) best = p.ob.due;
      }
    }
    return {best, true};
  };

  // Phase 2: "no later than individual notice" caps on phase-1 rows.
  for (Pending& p : pending) {
    if (!p.rule->no_later_than_individual_notice || !p.ob.due) continue;
    auto [bound, projected] = individual_bound(p);
    if (bound && sys_days{*bound} < sys_days{*p.ob.due}) {
      p.ob.due = *bound;
      p.ob.projected = projected;
      add_note(p.ob, projected ? "capped at the latest date for notice to individuals"
                               : "capped at the date individuals were notified");
    }
  }

  // Phase 3: rows counted from the individual notice.
  for (Pending& p : pending) {
    if (p.done || p.rule->relative_to != RelativeTo::kIndividualNotice) continue;
    p.done = true;
    const Rule& r = *p.rule;
    auto [bound, projected] = individual_bound(p);
    if (r.must_precede_individual_notice) {
      p.ob.timing = "before notice to individuals";
      if (bound) {
        p.ob.due = AddDays(*bound, -1);
        p.ob.projected = projected;
        add_note(p.ob, "must be given BEFORE individuals are notified");
      }
      continue;
    }
    if (!r.due_days.has_value()) {
      p.ob.timing = absl::StrCat("no fixed deadline (", r.clock_starts, ")");
      continue;
    }
    const int n = *r.due_days;
    p.ob.timing = n == 0 ? "no later than notice to individuals"
                         : absl::StrCat(n, " ", ToAbsl(Name(r.day_kind)),
                                        " days after notice to individuals");
    if (bound) {
      p.ob.due = Advance(*bound, n, r.day_kind);
      p.ob.projected = projected;
      if (projected) add_note(p.ob, "projected from the latest date for notice to individuals");
    } else {
      add_note(p.ob, "no individual-notice date is known yet");
    }
  }

  // Phase 4: rows counted from the HHS notice.
  std::optional<Date> hhs_bound = f.hhs_notified;
  bool hhs_projected = false;
  bool hhs_owed = f.hhs_notified.has_value();
  if (!hhs_bound) {
    for (const Pending& p : pending) {
      if (p.rule->recipient == RecipientKind::kHhs && p.ob.due) {
        hhs_owed = true;
        if (Earlier(p.ob.due, hhs_bound)) hhs_bound = p.ob.due;
      }
    }
    hhs_projected = true;
  }
  for (Pending& p : pending) {
    if (p.done || p.rule->relative_to != RelativeTo::kHhsNotice) continue;
    p.done = true;
    const Rule& r = *p.rule;
    if (!hhs_owed) {
      p.ob.rule_id.clear();  // no HHS filing by this entity: the row is not triggered
      continue;
    }
    const int n = r.due_days.value_or(0);
    p.ob.timing = absl::StrCat(n, " ", ToAbsl(Name(r.day_kind)), " days after notice to HHS");
    p.ob.due = Advance(*hhs_bound, n, r.day_kind);
    p.ob.projected = hhs_projected;
    if (hhs_projected) add_note(p.ob, "projected from the latest date for notice to HHS");
  }
  pending.erase(std::remove_if(pending.begin(), pending.end(),
                               [](const Pending& p) { return p.ob.rule_id.empty(); }),
                pending.end());

  for (Pending& p : pending) {
    Obligation& ob = p.ob;
    std::optional<Date> sent;
    if (ob.recipient_kind == RecipientKind::kIndividuals &&
        p.rule->applies_to != AppliesTo::kLicensedFacility) {
      sent = f.individual_notice_sent;
      ob.sent_tracked = true;
    } else if (ob.recipient_kind == RecipientKind::kHhs) {
      sent = f.hhs_notified;
      ob.sent_tracked = true;
    }
    if (sent) {
      ob.sent = sent;
      ob.late = ob.due.has_value() && sys_days{*ob.due} < sys_days{*sent};
      add_note(ob, absl::StrCat("sent ", FormatDate(*sent), ob.late ? " (LATE)" : " (on time)"));
    }
    plan.obligations.push_back(std::move(ob));
  }
  std::stable_sort(plan.obligations.begin(), plan.obligations.end(),
                   [](const Obligation& a, const Obligation& b) { return Earlier(a.due, b.due); });
  return plan;
}

}  // namespace phigate::breach
