// The breach-notification rule table: data/breach/breach-deadlines.tsv, one
// row per (jurisdiction, recipient) duty, with the source's text columns kept
// verbatim and machine-readable columns added (data/breach/README.md).
//
// Example:
//   PHIGATE_ASSIGN_OR_RETURN(RuleTable table, RuleTable::LoadDefault());
//   const Rule* r = table.Find("us-hipaa.media");   // comparator ">", threshold 500
#ifndef PHIGATE_BREACH_RULES_H_
#define PHIGATE_BREACH_RULES_H_

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "phigate/core/status.h"

namespace phigate::breach {

enum class RecipientKind {
  kIndividuals,
  kMedia,
  kHhs,
  kRegulator,
  kCra,
  kDataOwner,
  kCoveredEntity,
  kLeDelay
};
enum class Comparator { kAny, kGreater, kGreaterEqual, kLess };
enum class CountScope { kTotal, kStateResidents };
enum class RelativeTo {
  kDiscovery,
  kDetermination,
  kIndividualNotice,
  kHhsNotice,
  kYearEnd,
  kNoHarmDetermination,
  kOralStatement
};
enum class AppliesTo {
  kAll,
  kCoveredEntity,
  kBusinessAssociate,
  kLicensedFacility,
  kDfsRegulated,
  kPhrVendor,
  kPart2Program
};
enum class DayKind { kCalendar, kBusiness };
// What a law-enforcement delay (45 CFR 164.412 and state analogues) does to the row.
enum class LeDelayEffect {
  kNone,      // not delayed (follows other notices, or the statute allows no delay)
  kToll,      // the clock stops for the delay period: due moves by the delay's length
  kAfterEnd,  // the full period restarts when the delay ends (Cal. H&S 1280.15(c))
};
enum class HipaaEffect { kNone, kDeemedCompliant, kExempt };

std::string_view Name(RecipientKind k);
std::string_view Name(Comparator c);  // "any", ">", ">=", "<"
std::string_view Name(CountScope s);
std::string_view Name(RelativeTo r);
std::string_view Name(AppliesTo a);
std::string_view Name(DayKind d);
std::string_view Name(HipaaEffect h);

struct Rule {
  std::string id;  // "ca.ag"
  // Verbatim columns of the source table.
  std::string jurisdiction, who_is_notified, threshold_text, deadline_days_text, day_kind_text,
      clock_starts, source, confidence;
  // Machine-readable columns.
  RecipientKind recipient = RecipientKind::kIndividuals;
  Comparator comparator = Comparator::kAny;
  int64_t threshold_count = 0;  // unused for kAny
  CountScope scope = CountScope::kTotal;
  RelativeTo relative_to = RelativeTo::kDiscovery;
  std::optional<int> due_days;  // nullopt = no fixed deadline
  DayKind day_kind = DayKind::kCalendar;
  bool must_precede_individual_notice = false;
  bool no_later_than_individual_notice = false;
  AppliesTo applies_to = AppliesTo::kAll;
  LeDelayEffect le_delay = LeDelayEffect::kNone;
  HipaaEffect hipaa_effect = HipaaEffect::kNone;

  // Whether `count` meets the threshold (kAny: count >= 1).
  bool Meets(int64_t count) const;
  // "> 500", ">= 250", "< 500", "any".
  std::string ThresholdString() const;
  // True for a two-letter US state, DC or PR jurisdiction ("CA"), false for "US-HIPAA", "NY-DFS".
  bool IsStateRow() const;
};

class RuleTable {
 public:
  // Parses the TSV text: '#' lines are comments (the first holds the version),
  // then a header naming at least the columns in data/breach/README.md, in any
  // order. InvalidArgument names the line and column of the first bad cell.
  static Result<RuleTable> Parse(std::string_view tsv);
  static Result<RuleTable> Load(const std::string& path);
  // breach/breach-deadlines.tsv in paths::DataDir() ($PHIGATE_DATA_DIR, the
  // installed tree, the source tree: phigate/core/paths.h).
  static Result<RuleTable> LoadDefault();
  static std::string DefaultPath();

  const std::vector<Rule>& rules() const { return rules_; }
  const std::string& version() const { return version_; }
  const Rule* Find(std::string_view id) const;

 private:
  std::vector<Rule> rules_;
  std::string version_;
};

}  // namespace phigate::breach

#endif  // PHIGATE_BREACH_RULES_H_
