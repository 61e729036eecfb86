#include "phigate/transform/date_shift.h"

#include <array>
#include <cstdio>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/time/civil_time.h"

namespace phigate::transform {
namespace {

constexpr std::array<std::string_view, 12> kMonths = {
    "january", "february", "march",     "april",   "may",      "june",
    "july",    "august",   "september", "october", "november", "december"};

bool IsDigit(char c) { return c >= '0' && c <= '9'; }
bool IsAlpha(char c) { return absl::ascii_isalpha(static_cast<unsigned char>(c)); }
bool IsAlnum(char c) { return absl::ascii_isalnum(static_cast<unsigned char>(c)); }

// Reads 1..max digits at text[i]; returns count (0 when none).
size_t Digits(std::string_view t, size_t i, size_t max, int* value) {
  size_t n = 0;
  int v = 0;
  while (i + n < t.size() && n < max && IsDigit(t[i + n])) {
    v = v * 10 + (t[i + n] - '0');
    ++n;
  }
  *value = v;
  return n;
}

bool ValidDay(int y, int m, int d) {
  if (y < 1 || y > 9999 || m < 1 || m > 12 || d < 1) return false;
  const absl::CivilDay cd(y, m, d);
  return cd.year() == y && cd.month() == m && cd.day() == d;
}

int ExpandYear(int yy) { return yy < 50 ? 2000 + yy : 1900 + yy; }

// Month name at t[i]: full or 3-letter (+ optional '.'; "Sept" too).
size_t MonthAt(std::string_view t, size_t i, int* month, DateFormat* f) {
  size_t n = 0;
  while (i + n < t.size() && IsAlpha(t[i + n])) ++n;
  if (n < 3) return 0;
  const std::string word = absl::AsciiStrToLower(std::string(t.substr(i, n)));
  for (size_t m = 0; m < 12; ++m) {
    const bool full = word == kMonths[m];
    const bool abbr = word == kMonths[m].substr(0, 3) || (m == 8 && word == "sept");
    if (!full && !abbr) continue;
    *month = static_cast<int>(m) + 1;
    f->abbreviated = !full;
    const std::string_view w = t.substr(i, n);
    bool all_upper = true, all_lower = true;
    for (char c : w) {
      all_upper = all_upper && absl::ascii_isupper(static_cast<unsigned char>(c));
      all_lower = all_lower && absl::ascii_islower(static_cast<unsigned char>(c));
    }
    f->month_case = all_upper && n > 1 ? DateFormat::Case::kUpper
                    : all_lower        ? DateFormat::Case::kLower
                                       : DateFormat::Case::kTitle;
    if (f->abbreviated && i + n < t.size() && t[i + n] == '.') {
      f->month_period = true;
      ++n;
    }
    return n;
  }
  return 0;
}

size_t Ordinal(std::string_view t, size_t i, DateFormat* f) {
  if (i + 2 <= t.size()) {
    const std::string s = absl::AsciiStrToLower(std::string(t.substr(i, 2)));
    if (s == "st" || s == "nd" || s == "rd" || s == "th") {
      if (i + 2 == t.size() || !IsAlnum(t[i + 2])) {
        f->ordinal = true;
        f->ordinal_upper = absl::ascii_isupper(static_cast<unsigned char>(t[i])) &&
                           absl::ascii_isupper(static_cast<unsigned char>(t[i + 1]));
        return 2;
      }
    }
  }
  return 0;
}

std::optional<ParsedDate> Numeric(std::string_view t) {
  int a = 0, b = 0, c = 0;
  const size_t na = Digits(t, 0, 4, &a);
  if (na == 0 || na == 3 || na >= t.size()) return std::nullopt;
  const char sep = t[na];
  if (sep != '/' && sep != '-' && sep != '.') return std::nullopt;
  const size_t nb = Digits(t, na + 1, 2, &b);
  if (nb == 0 || na + 1 + nb >= t.size() || t[na + 1 + nb] != sep) return std::nullopt;
  const size_t ci = na + 2 + nb;
  const size_t nc = Digits(t, ci, 4, &c);
  const size_t end = ci + nc;
  if (end < t.size() && IsAlnum(t[end])) return std::nullopt;
  ParsedDate p;
  p.format.sep = sep;
  if (na == 4) {  // YYYY-MM-DD
    if (nc == 0 || nc > 2) return std::nullopt;
    p.format.kind = DateFormat::Kind::kNumericYmd;
    p.day = {a, b, c};
    p.format.pad_month = nb == 2;
    p.format.pad_day = nc == 2;
  } else {  // M/D/Y
    if (nc != 2 && nc != 4) return std::nullopt;
    p.format.kind = DateFormat::Kind::kNumericMdy;
    p.format.two_digit_year = nc == 2;
    p.day = {nc == 2 ? ExpandYear(c) : c, a, b};
    p.format.pad_month = na == 2;
    p.format.pad_day = nb == 2;
  }
  // A two-digit value >= 10 does not say whether the writer pads: follow the
  // other component ("03/14" pads, "3/14" does not).
  const int month = p.day.month, day = p.day.day;
  const size_t month_digits = na == 4 ? nb : na, day_digits = na == 4 ? nc : nb;
  const int month_pad = month_digits == 2 ? (month < 10 ? 1 : 0) : -1;  // 1 yes, -1 no, 0 unknown
  const int day_pad = day_digits == 2 ? (day < 10 ? 1 : 0) : -1;
  p.format.pad_month = month_pad == 1 || (month_pad == 0 && day_pad == 1);
  p.format.pad_day = day_pad == 1 || (day_pad == 0 && month_pad == 1);
  if (!ValidDay(p.day.year, p.day.month, p.day.day)) return std::nullopt;
  p.length = end;
  return p;
}

std::optional<ParsedDate> MonthFirst(std::string_view t) {
  ParsedDate p;
  p.format.kind = DateFormat::Kind::kMonthNameDy;
  int month = 0, day = 0, year = 0;
  size_t i = MonthAt(t, 0, &month, &p.format);
  if (i == 0 || i >= t.size() || t[i] != ' ') return std::nullopt;
  ++i;
  const size_t nd = Digits(t, i, 2, &day);
  if (nd == 0) return std::nullopt;
  p.format.pad_day = nd == 2 && day < 10;
  i += nd;
  i += Ordinal(t, i, &p.format);
  p.format.comma = false;
  if (i < t.size() && t[i] == ',') {
    p.format.comma = true;
    ++i;
  }
  if (i >= t.size() || t[i] != ' ') return std::nullopt;
  ++i;
  const size_t ny = Digits(t, i, 4, &year);
  if (ny != 4 || (i + ny < t.size() && IsAlnum(t[i + ny]))) return std::nullopt;
  p.day = {year, month, day};
  if (!ValidDay(year, month, day)) return std::nullopt;
  p.length = i + ny;
  return p;
}

std::optional<ParsedDate> DayFirst(std::string_view t) {
  ParsedDate p;
  p.format.kind = DateFormat::Kind::kDayMonthNameY;
  int month = 0, day = 0, year = 0;
  const size_t nd = Digits(t, 0, 2, &day);
  if (nd == 0) return std::nullopt;
  p.format.pad_day = nd == 2 && day < 10;
  size_t i = nd + Ordinal(t, nd, &p.format);
  if (i >= t.size() || (t[i] != ' ' && t[i] != '-')) return std::nullopt;
  p.format.sep = t[i];
  ++i;
  const size_t nm = MonthAt(t, i, &month, &p.format);
  if (nm == 0) return std::nullopt;
  i += nm;
  if (i >= t.size() || t[i] != p.format.sep) return std::nullopt;
  ++i;
  const size_t ny = Digits(t, i, 4, &year);
  if (ny != 4 || (i + ny < t.size() && IsAlnum(t[i + ny]))) return std::nullopt;
  p.day = {year, month, day};
  if (!ValidDay(year, month, day)) return std::nullopt;
  p.length = i + ny;
  return p;
}

std::string MonthText(int month, const DateFormat& f) {
  std::string m(kMonths[static_cast<size_t>(month - 1)]);
  if (f.abbreviated) m = m.substr(0, 3);
  if (f.month_case == DateFormat::Case::kUpper) {
    absl::AsciiStrToUpper(&m);
  } else if (f.month_case == DateFormat::Case::kTitle) {
    m[0] = static_cast<char>(absl::ascii_toupper(static_cast<unsigned char>(m[0])));
  }
  if (f.abbreviated && f.month_period) m += '.';
  return m;
}

std::string OrdinalSuffix(int d, bool upper) {
  const char* s = "th";
  if (d % 100 < 11 || d % 100 > 13) {
    switch (d % 10) {
      case 1:
        s = "st";
        break;
      case 2:
        s = "nd";
        break;
      case 3:
        s = "rd";
        break;
      default:
        break;
    }
  }
  return upper ? absl::AsciiStrToUpper(s) : std::string(s);
}

std::string Pad(int v, bool pad) { return pad && v < 10 ? absl::StrCat("0", v) : absl::StrCat(v); }

}  // namespace

std::optional<ParsedDate> ParseDateAt(std::string_view text) {
  if (text.empty()) return std::nullopt;
  if (IsDigit(text[0])) {
    if (auto p = Numeric(text)) return p;
    return DayFirst(text);
  }
  if (IsAlpha(text[0])) return MonthFirst(text);
  return std::nullopt;
}

std::optional<ParsedDate> ParseDate(std::string_view text) {
  while (!text.empty() && absl::ascii_isspace(static_cast<unsigned char>(text.front()))) {
    text.remove_prefix(1);
  }
  while (!text.empty() && absl::ascii_isspace(static_cast<unsigned char>(text.back()))) {
    text.remove_suffix(1);
  }
  auto p = ParseDateAt(text);
  if (!p || p->length != text.size()) return std::nullopt;
  return p;
}

CivilDate ShiftDays(const CivilDate& day, int days) {
  const absl::CivilDay d = absl::CivilDay(day.year, day.month, day.day) + days;
  return {static_cast<int>(d.year()), d.month(), d.day()};
}

// A four-digit year ("0225", not "225"), so that a formatted date parses again.
std::string Year4(int year) {
  char buf[16];
  std::snprintf(buf, sizeof buf, "%04d", year);
  return buf;
}

std::string FormatDate(const CivilDate& d, const DateFormat& f) {
  switch (f.kind) {
    case DateFormat::Kind::kNumericMdy: {
      const std::string y = f.two_digit_year ? Pad(d.year % 100, true) : Year4(d.year);
      return absl::StrCat(Pad(d.month, f.pad_month), std::string(1, f.sep), Pad(d.day, f.pad_day),
                          std::string(1, f.sep), y);
    }
    case DateFormat::Kind::kNumericYmd:
      return absl::StrCat(Year4(d.year), std::string(1, f.sep), Pad(d.month, f.pad_month),
                          std::string(1, f.sep), Pad(d.day, f.pad_day));
    case DateFormat::Kind::kMonthNameDy:
      return absl::StrCat(MonthText(d.month, f), " ", Pad(d.day, f.pad_day),
                          f.ordinal ? OrdinalSuffix(d.day, f.ordinal_upper) : "",
                          f.comma ? "," : "", " ", Year4(d.year));
    case DateFormat::Kind::kDayMonthNameY: {
      const std::string sep(1, f.sep);
      return absl::StrCat(Pad(d.day, f.pad_day),
                          f.ordinal ? OrdinalSuffix(d.day, f.ordinal_upper) : "", sep,
                          MonthText(d.month, f), sep, Year4(d.year));
    }
  }
  return "";
}

std::string MatchDateCase(std::string_view original, int days, std::string surrogate) {
  std::optional<std::string> own = ShiftDateText(original, days);
  if (own && absl::EqualsIgnoreCase(*own, surrogate)) return std::move(*own);
  return surrogate;
}

std::optional<std::string> ShiftDateText(std::string_view text, int days) {
  auto p = ParseDate(text);
  if (!p) return std::nullopt;
  // Keep surrounding whitespace exactly.
  const size_t lead = text.find_first_not_of(" \t\r\n");
  const size_t trail = text.size() - (text.find_last_not_of(" \t\r\n") + 1);
  return absl::StrCat(ToAbsl(text.substr(0, lead)), FormatDate(ShiftDays(p->day, days), p->format),
                      ToAbsl(text.substr(text.size() - trail)));
}

}  // namespace phigate::transform
