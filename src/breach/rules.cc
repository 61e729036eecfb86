#include "phigate/breach/rules.h"

#include <fstream>
#include <map>
#include <sstream>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "phigate/core/paths.h"

namespace phigate::breach {
namespace {

constexpr std::pair<RecipientKind, std::string_view> kRecipients[] = {
    {RecipientKind::kIndividuals, "individuals"},
    {RecipientKind::kMedia, "media"},
    {RecipientKind::kHhs, "hhs"},
    {RecipientKind::kRegulator, "regulator"},
    {RecipientKind::kCra, "cra"},
    {RecipientKind::kDataOwner, "data_owner"},
    {RecipientKind::kCoveredEntity, "covered_entity"},
    {RecipientKind::kLeDelay, "le_delay"}};
constexpr std::pair<Comparator, std::string_view> kComparators[] = {
    {Comparator::kAny, "any"},
    {Comparator::kGreater, ">"},
    {Comparator::kGreaterEqual, ">="},
    {Comparator::kLess, "<"}};
constexpr std::pair<CountScope, std::string_view> kScopes[] = {
    {CountScope::kTotal, "total"}, {CountScope::kStateResidents, "state_residents"}};
constexpr std::pair<RelativeTo, std::string_view> kRelatives[] = {
    {RelativeTo::kDiscovery, "discovery"},
    {RelativeTo::kDetermination, "determination"},
    {RelativeTo::kIndividualNotice, "individual_notice"},
    {RelativeTo::kHhsNotice, "hhs_notice"},
    {RelativeTo::kYearEnd, "year_end"},
    {RelativeTo::kNoHarmDetermination, "no_harm_determination"},
    {RelativeTo::kOralStatement, "oral_statement"}};
constexpr std::pair<AppliesTo, std::string_view> kApplies[] = {
    {AppliesTo::kAll, "all"},
    {AppliesTo::kCoveredEntity, "covered_entity"},
    {AppliesTo::kBusinessAssociate, "business_associate"},
    {AppliesTo::kLicensedFacility, "licensed_facility"},
    {AppliesTo::kDfsRegulated, "dfs_regulated"},
    {AppliesTo::kPhrVendor, "phr_vendor"},
    {AppliesTo::kPart2Program, "part2_program"}};
constexpr std::pair<DayKind, std::string_view> kDayKinds[] = {{DayKind::kCalendar, "calendar"},
                                                              {DayKind::kBusiness, "business"}};
constexpr std::pair<LeDelayEffect, std::string_view> kLeDelays[] = {
    {LeDelayEffect::kNone, "none"},
    {LeDelayEffect::kToll, "toll"},
    {LeDelayEffect::kAfterEnd, "after_end"}};
constexpr std::pair<HipaaEffect, std::string_view> kHipaaEffects[] = {
    {HipaaEffect::kNone, "none"},
    {HipaaEffect::kDeemedCompliant, "deemed_compliant"},
    {HipaaEffect::kExempt, "exempt"}};

template <class E, size_t N>
std::string_view NameOf(const std::pair<E, std::string_view> (&table)[N], E e) {
  for (const auto& [k, v] : table) {
    if (k == e) return v;
  }
  return "?";
}

template <class E, size_t N>
bool ParseEnum(const std::pair<E, std::string_view> (&table)[N], std::string_view s, E* out) {
  for (const auto& [k, v] : table) {
    if (v == s) {
      *out = k;
      return true;
    }
  }
  return false;
}

constexpr std::string_view kRequiredColumns[] = {
    "id",           "jurisdiction",    "who_is_notified", "threshold",   "deadline_days",
    "day_kind",     "clock_starts",    "source",          "confidence",  "recipient_kind",
    "comparator",   "threshold_count", "scope",           "relative_to", "due_days",
    "must_precede", "no_later_than",   "applies_to",      "le_delay",    "hipaa_effect"};

}  // namespace

std::string_view Name(RecipientKind k) { return NameOf(kRecipients, k); }
std::string_view Name(Comparator c) { return NameOf(kComparators, c); }
std::string_view Name(CountScope s) { return NameOf(kScopes, s); }
std::string_view Name(RelativeTo r) { return NameOf(kRelatives, r); }
std::string_view Name(AppliesTo a) { return NameOf(kApplies, a); }
std::string_view Name(DayKind d) { return NameOf(kDayKinds, d); }
std::string_view Name(HipaaEffect h) { return NameOf(kHipaaEffects, h); }

bool Rule::Meets(int64_t count) const {
  switch (comparator) {
    case Comparator::kAny:
      return count >= 1;
    case Comparator::kGreater:
      return count > threshold_count;
    case Comparator::kGreaterEqual:
      return count >= threshold_count;
    case Comparator::kLess:
      return count >= 1 && count < threshold_count;
  }
  return false;
}

std::string Rule::ThresholdString() const {
  if (comparator == Comparator::kAny) return "any";
  return absl::StrCat(ToAbsl(Name(comparator)), " ", threshold_count);
}

bool Rule::IsStateRow() const { return jurisdiction.size() == 2; }

Result<RuleTable> RuleTable::Parse(std::string_view tsv) {
  RuleTable table;
  std::map<std::string, size_t, std::less<>> col;
  size_t line_no = 0;
  for (absl::string_view line : absl::StrSplit(ToAbsl(tsv), '\n')) {
    ++line_no;
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    if (line.empty()) continue;
    if (line.front() == '#') {
      if (table.version_.empty()) {
        const size_t p = line.find("version ");
        if (p != absl::string_view::npos) {
          absl::string_view v = line.substr(p + 8);
          table.version_ = std::string(v.substr(0, v.find(' ')));
        }
      }
      continue;
    }
    std::vector<std::string> cells = absl::StrSplit(line, '\t');
    if (col.empty()) {
      for (size_t i = 0; i < cells.size(); ++i) col[cells[i]] = i;
      for (std::string_view c : kRequiredColumns) {
        if (!col.contains(c)) {
          return absl::InvalidArgumentError(
              absl::StrCat("breach rule table: missing column ", ToAbsl(c)));
        }
      }
      continue;
    }
    auto cell = [&](std::string_view name) -> const std::string& {
      static const std::string kEmpty;
      const size_t i = col.find(name)->second;
      return i < cells.size() ? cells[i] : kEmpty;
    };
    auto bad = [&](std::string_view name) {
      return absl::InvalidArgumentError(
          absl::StrCat("breach rule table line ", line_no, ": bad value in column ", ToAbsl(name)));
    };
    Rule r;
    r.id = cell("id");
    if (r.id.empty()) return bad("id");
    r.jurisdiction = cell("jurisdiction");
    r.who_is_notified = cell("who_is_notified");
    r.threshold_text = cell("threshold");
    r.deadline_days_text = cell("deadline_days");
    r.day_kind_text = cell("day_kind");
    r.clock_starts = cell("clock_starts");
    r.source = cell("source");
    r.confidence = cell("confidence");
    if (!ParseEnum(kRecipients, cell("recipient_kind"), &r.recipient)) return bad("recipient_kind");
    if (!ParseEnum(kComparators, cell("comparator"), &r.comparator)) return bad("comparator");
    if (r.comparator != Comparator::kAny) {
      if (!absl::SimpleAtoi(cell("threshold_count"), &r.threshold_count) || r.threshold_count < 0) {
        return bad("threshold_count");
      }
    }
    if (!ParseEnum(kScopes, cell("scope"), &r.scope)) return bad("scope");
    if (!ParseEnum(kRelatives, cell("relative_to"), &r.relative_to)) return bad("relative_to");
    if (!cell("due_days").empty()) {
      int d = 0;
      // Capped: no statute counts in years, and business-day arithmetic is linear in d.
      if (!absl::SimpleAtoi(cell("due_days"), &d) || d < 0 || d > 3660) return bad("due_days");
      r.due_days = d;
    }
    if (!ParseEnum(kDayKinds, cell("day_kind"), &r.day_kind)) return bad("day_kind");
    const std::string& mp = cell("must_precede");
    if (mp == "individual_notice") {
      r.must_precede_individual_notice = true;
    } else if (!mp.empty()) {
      return bad("must_precede");
    }
    const std::string& nlt = cell("no_later_than");
    if (nlt == "individual_notice") {
      r.no_later_than_individual_notice = true;
    } else if (!nlt.empty()) {
      return bad("no_later_than");
    }
    if (!ParseEnum(kApplies, cell("applies_to"), &r.applies_to)) return bad("applies_to");
    if (!ParseEnum(kLeDelays, cell("le_delay"), &r.le_delay)) return bad("le_delay");
    if (!ParseEnum(kHipaaEffects, cell("hipaa_effect"), &r.hipaa_effect))
      return bad("hipaa_effect");
    if (table.Find(r.id) != nullptr) return bad("id (duplicate)");
    table.rules_.push_back(std::move(r));
  }
  if (table.rules_.empty()) return absl::InvalidArgumentError("breach rule table: no rows");
  return table;
}

Result<RuleTable> RuleTable::Load(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return absl::NotFoundError("breach rule table: cannot open the file");
  std::stringstream ss;
  ss << in.rdbuf();
  return Parse(ss.str());
}

std::string RuleTable::DefaultPath() { return paths::DataDir() + "/breach/breach-deadlines.tsv"; }

Result<RuleTable> RuleTable::LoadDefault() { return Load(DefaultPath()); }

const Rule* RuleTable::Find(std::string_view id) const {
  for (const Rule& r : rules_) {
    if (r.id == id) return &r;
  }
  return nullptr;
}

}  // namespace phigate::breach
