// Value helpers of the policy model: names, dates, coverage, built-in jurisdictions.
#include "phigate/policy/config.h"

#include <array>
#include <cctype>
#include <cstdio>
#include <string>

#include "phigate/policy/decision.h"

namespace phigate::policy {
namespace {

bool EqualsIgnoreCase(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    const auto ca = std::tolower(static_cast<unsigned char>(a[i]));
    const auto cb = std::tolower(static_cast<unsigned char>(b[i]));
    if (ca != cb) return false;
  }
  return true;
}

// Howard Hinnant's days_from_civil / civil_from_days (public domain algorithms).
int64_t DaysFromCivil(int64_t y, unsigned m, unsigned d) {
  y -= m <= 2 ? 1 : 0;
  const int64_t era = (y >= 0 ? y : y - 399) / 400;
  const auto yoe = static_cast<unsigned>(y - era * 400);
  const unsigned doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
  const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + static_cast<int64_t>(doe) - 719468;
}

void CivilFromDays(int64_t z, int64_t* y, unsigned* m, unsigned* d) {
  z += 719468;
  const int64_t era = (z >= 0 ? z : z - 146096) / 146097;
  const auto doe = static_cast<unsigned>(z - era * 146097);
  const unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  const unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const unsigned mp = (5 * doy + 2) / 153;
  *d = doy - (153 * mp + 2) / 5 + 1;
  *m = mp < 10 ? mp + 3 : mp - 9;
  *y = static_cast<int64_t>(yoe) + era * 400 + (*m <= 2 ? 1 : 0);
}

bool GlobMatch(std::string_view pattern, std::string_view value) {
  if (pattern == "*") return true;
  if (!pattern.empty() && pattern.back() == '*') {
    const std::string_view prefix = pattern.substr(0, pattern.size() - 1);
    return value.substr(0, prefix.size()) == prefix;
  }
  return pattern == value;
}

}  // namespace

std::string_view ActionName(Action a) {
  switch (a) {
    case Action::kAllow:
      return "allow";
    case Action::kSurrogate:
      return "surrogate";
    case Action::kTokenize:
      return "tokenize";
    case Action::kRedact:
      return "redact";
    case Action::kBlock:
      return "block";
  }
  return "block";
}

std::optional<Action> ParseAction(std::string_view name) {
  for (Action a :
       {Action::kAllow, Action::kSurrogate, Action::kTokenize, Action::kRedact, Action::kBlock}) {
    if (EqualsIgnoreCase(name, ActionName(a))) return a;
  }
  return std::nullopt;
}

std::string_view ReasonCodeName(ReasonCode code) {
  static constexpr std::array<std::string_view, 25> kNames = {"UNKNOWN_TENANT",
                                                              "UNKNOWN_USER",
                                                              "USER_NOT_IN_TENANT",
                                                              "UNKNOWN_FEATURE",
                                                              "FEATURE_NOT_ENABLED",
                                                              "ROLE_NOT_PERMITTED",
                                                              "UNKNOWN_VENDOR",
                                                              "UNKNOWN_ENDPOINT",
                                                              "UNKNOWN_MODEL",
                                                              "ROUTE_NOT_ALLOWED",
                                                              "MISSING_BAA_DENY",
                                                              "UNKNOWN_JURISDICTION",
                                                              "BAA_ACTIVE",
                                                              "SELF_HOSTED_IN_BOUNDARY",
                                                              "NO_BAA",
                                                              "BAA_NOT_COVERING",
                                                              "BAA_EXPIRED",
                                                              "BAA_NOT_YET_EFFECTIVE",
                                                              "NO_BAA_DOWNGRADE",
                                                              "MINIMUM_NECESSARY",
                                                              "JURISDICTION_FLOOR",
                                                              "JURISDICTION_REQUIREMENT",
                                                              "REIDENTIFY_ALLOWED",
                                                              "REIDENTIFY_NOT_ALLOWED",
                                                              "ALLOWED"};
  const auto i = static_cast<size_t>(code);
  return i < kNames.size() ? kNames[i] : "UNKNOWN_REASON";
}

std::optional<Day> ParseDay(std::string_view t) {
  if (t.size() != 10 || t[4] != '-' || t[7] != '-') return std::nullopt;
  for (size_t i :
       {size_t{0}, size_t{1}, size_t{2}, size_t{3}, size_t{5}, size_t{6}, size_t{8}, size_t{9}}) {
    if (!std::isdigit(static_cast<unsigned char>(t[i]))) return std::nullopt;
  }
  const int y = (t[0] - '0') * 1000 + (t[1] - '0') * 100 + (t[2] - '0') * 10 + (t[3] - '0');
  const unsigned m = static_cast<unsigned>((t[5] - '0') * 10 + (t[6] - '0'));
  const unsigned d = static_cast<unsigned>((t[8] - '0') * 10 + (t[9] - '0'));
  if (y < 1970 || m < 1 || m > 12 || d < 1) return std::nullopt;
  static constexpr unsigned kDays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  const bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
  const unsigned max = kDays[m - 1] + ((m == 2 && leap) ? 1 : 0);
  if (d > max) return std::nullopt;
  return DaysFromCivil(y, m, d);
}

std::string FormatDay(Day day) {
  int64_t y = 0;
  unsigned m = 0, d = 0;
  CivilFromDays(day, &y, &m, &d);
  char buf[32];
  std::snprintf(buf, sizeof(buf), "%04lld-%02u-%02u", static_cast<long long>(y), m, d);
  return buf;
}

Day DayOfUnixSeconds(int64_t s) { return (s >= 0 ? s : s - 86399) / 86400; }

std::string_view RoleName(Role r) {
  switch (r) {
    case Role::kClinician:
      return "clinician";
    case Role::kAnalyst:
      return "analyst";
    case Role::kAdmin:
      return "admin";
  }
  return "?";
}

std::optional<Role> ParseRole(std::string_view name) {
  for (Role r : {Role::kClinician, Role::kAnalyst, Role::kAdmin}) {
    if (EqualsIgnoreCase(name, RoleName(r))) return r;
  }
  return std::nullopt;
}

std::string_view VendorKindName(VendorKind k) {
  switch (k) {
    case VendorKind::kOpenAi:
      return "openai";
    case VendorKind::kAzureOpenAi:
      return "azure-openai";
    case VendorKind::kAnthropic:
      return "anthropic";
    case VendorKind::kBedrock:
      return "bedrock";
    case VendorKind::kSelfHosted:
      return "self-hosted";
  }
  return "?";
}

std::optional<VendorKind> ParseVendorKind(std::string_view name) {
  for (VendorKind k : {VendorKind::kOpenAi, VendorKind::kAzureOpenAi, VendorKind::kAnthropic,
                       VendorKind::kBedrock, VendorKind::kSelfHosted}) {
    if (EqualsIgnoreCase(name, VendorKindName(k))) return k;
  }
  return std::nullopt;
}

std::string_view OnMissingBaaName(OnMissingBaa a) {
  switch (a) {
    case OnMissingBaa::kTokenize:
      return "tokenize";
    case OnMissingBaa::kRedact:
      return "redact";
    case OnMissingBaa::kBlock:
      return "block";
    case OnMissingBaa::kDeny:
      return "deny";
  }
  return "deny";
}

std::string_view NormalizeEndpoint(std::string_view e) {
  while (!e.empty() && e.front() == '/') e.remove_prefix(1);
  if (e.substr(0, 3) == "v1/") e.remove_prefix(3);
  while (!e.empty() && e.back() == '/') e.remove_suffix(1);
  return e;
}

bool Baa::Covers(std::string_view endpoint, std::string_view model, std::string_view region) const {
  bool endpoint_ok = false;
  for (const std::string& e : endpoints) {
    if (GlobMatch(e, endpoint)) {
      endpoint_ok = true;
      break;
    }
  }
  if (!endpoint_ok) return false;
  bool model_ok = false;
  for (const std::string& m : models) {
    if (GlobMatch(m, model)) {
      model_ok = true;
      break;
    }
  }
  if (!model_ok) return false;
  if (regions.empty()) return true;
  for (const std::string& r : regions) {
    if (r == region) return true;
  }
  return false;
}

bool Vendor::HasEndpoint(std::string_view e) const {
  for (const std::string& x : endpoints) {
    if (x == e) return true;
  }
  return false;
}

const VendorModel* Vendor::FindModel(std::string_view m) const {
  for (const VendorModel& x : models) {
    if (x.name == m) return &x;
  }
  return nullptr;
}

namespace {
template <class T, class F>
const T* FindBy(const std::vector<T>& v, F key, std::string_view id) {
  for (const T& x : v) {
    if (key(x) == id) return &x;
  }
  return nullptr;
}
}  // namespace

const Tenant* PolicyConfig::FindTenant(std::string_view id) const {
  return FindBy(
      tenants, [](const Tenant& t) -> const std::string& { return t.id; }, id);
}
const User* PolicyConfig::FindUser(std::string_view id) const {
  return FindBy(
      users, [](const User& u) -> const std::string& { return u.id; }, id);
}
const Vendor* PolicyConfig::FindVendor(std::string_view name) const {
  return FindBy(
      vendors, [](const Vendor& v) -> const std::string& { return v.name; }, name);
}
const Feature* PolicyConfig::FindFeature(std::string_view name) const {
  return FindBy(
      features, [](const Feature& f) -> const std::string& { return f.name; }, name);
}
const Jurisdiction* PolicyConfig::FindJurisdiction(std::string_view id) const {
  return FindBy(
      jurisdictions, [](const Jurisdiction& j) -> const std::string& { return j.id; }, id);
}

std::vector<Jurisdiction> BuiltinJurisdictions() {
  // Figures from hipaa-rules.md §4, §7 and breach-deadlines.tsv (individual notice).
  // Built-ins add no category floors of their own: HIPAA's "no BAA, no PHI" rule is
  // enforced for every tenant. Texas adds the US data-residency requirement of
  // Tex. Health & Safety Code ch. 183 (SB 1188, 2025) as a design choice.
  struct Row {
    const char* id;
    const char* name;
    int days;
    const char* source;
    bool us_residency;
  };
  static constexpr Row kRows[] = {
      {"US-HIPAA", "HIPAA Privacy, Security and Breach Notification Rules", 60, "45 CFR 164.404(b)",
       false},
      {"CA", "California (CMIA, Civ. Code 1798.82)", 30,
       "Cal. Civ. Code 1798.82(a) as amended by SB 446, eff. 2026-01-01", false},
      {"NY", "New York (SHIELD Act, GBL 899-aa)", 30, "N.Y. Gen. Bus. Law 899-aa(2)", false},
      {"TX", "Texas (H&S Code ch. 181/183, Bus. & Com. Code 521)", 60,
       "Tex. Bus. & Com. Code 521.053(b)", true},
      {"CO", "Colorado", 30, "C.R.S. 6-1-716(2)", false},
      {"FL", "Florida", 30, "Fla. Stat. 501.171(4)(a)", false},
      {"ME", "Maine", 30, "10 M.R.S. 1348(1)", false},
      {"WA", "Washington", 30, "RCW 19.255.010(8)", false},
  };
  std::vector<Jurisdiction> out;
  for (const Row& r : kRows) {
    Jurisdiction j;
    j.id = r.id;
    j.name = r.name;
    j.floors.fill(Action::kAllow);
    j.individual_notice_days = r.days;
    j.notice_source = r.source;
    if (r.us_residency) j.residency = {"us"};
    j.builtin = true;
    out.push_back(std::move(j));
  }
  return out;
}

}  // namespace phigate::policy
