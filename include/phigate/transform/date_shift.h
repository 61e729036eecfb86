// Dates: parse the common clinical and model-written formats, shift by a
// number of days, and write the result back in the same format. Used by the
// "date_shift" operator (one random offset per scope, kept in the vault, so
// intervals between dates survive) and by re-identification, which must find
// shifted dates again when a model rewrote "4/2/2024" as "April 2, 2024".
//
// Formats: M/D/YYYY, MM/DD/YY, M-D-YYYY, M.D.YYYY, YYYY-MM-DD, YYYY/MM/DD,
// "March 14, 2024", "Mar 14 2024", "Mar. 14th, 2024", "14 March 2024",
// "14-Mar-2024". Month names in English, any case.
//
// Example:
//   auto d = ParseDate("3/14/2024");                 // {2024-03-14, M/D/YYYY}
//   std::string s = FormatDate(ShiftDays(d->day, 19), d->format);   // "4/2/2024"
#ifndef PHIGATE_TRANSFORM_DATE_SHIFT_H_
#define PHIGATE_TRANSFORM_DATE_SHIFT_H_

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "phigate/core/status.h"
#include "phigate/transform/operator.h"

namespace phigate::transform {

struct CivilDate {
  int year = 0;
  int month = 0;  // 1..12
  int day = 0;    // 1..31
  friend bool operator==(const CivilDate&, const CivilDate&) = default;
  friend auto operator<=>(const CivilDate&, const CivilDate&) = default;
};

struct DateFormat {
  enum class Kind : uint8_t {
    kNumericMdy,     // 3/14/2024
    kNumericYmd,     // 2024-03-14
    kMonthNameDy,    // March 14, 2024
    kDayMonthNameY,  // 14 March 2024
  };
  Kind kind = Kind::kNumericMdy;
  char sep = '/';          // numeric separator, or ' '/'-' for day-month-name
  bool pad_month = false;  // 03
  bool pad_day = false;    // 04
  bool two_digit_year = false;
  bool abbreviated = false;    // Mar
  bool month_period = false;   // Mar.
  bool ordinal = false;        // 14th
  bool ordinal_upper = false;  // 14TH
  bool comma = true;           // March 14, 2024
  enum class Case : uint8_t { kTitle, kUpper, kLower } month_case = Case::kTitle;
};

struct ParsedDate {
  CivilDate day;
  DateFormat format;
  size_t length = 0;  // bytes consumed
};

// Parses a date that starts at text[0]; length says how far it reached.
// nullopt when no supported format matches there or the day does not exist.
std::optional<ParsedDate> ParseDateAt(std::string_view text);
// The whole of `text` must be one date (surrounding whitespace allowed).
std::optional<ParsedDate> ParseDate(std::string_view text);

std::string FormatDate(const CivilDate& day, const DateFormat& format);
CivilDate ShiftDays(const CivilDate& day, int days);

// Shifts a date string by `days`, keeping its format. nullopt when unparseable.
std::optional<std::string> ShiftDateText(std::string_view text, int days);

// A date's surrogate from the vault, in `original`'s letter case: a surrogate
// shared with another spelling of the same date ("MARCH 14, 2024" and
// "March 14, 2024" share one) comes back as that spelling wrote it, and
// `original` shifted by `days` is the same text in its own case. Any other
// surrogate is returned as it is.
std::string MatchDateCase(std::string_view original, int days, std::string surrogate);

// The "date_shift" operator. Params: "max_days" (1..3650, default 365): the
// scope's random offset is drawn from [-max_days, max_days] \ {0} once. Needs
// a VaultContext (tokenize.h); dates it cannot parse become tokens.
std::unique_ptr<Operator> NewDateShiftOperator();

}  // namespace phigate::transform

#endif  // PHIGATE_TRANSFORM_DATE_SHIFT_H_
