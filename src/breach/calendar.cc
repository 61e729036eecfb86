#include "phigate/breach/calendar.h"

#include <algorithm>
#include <cstdio>

#include "absl/strings/str_cat.h"

namespace phigate::breach {
namespace {

using std::chrono::days;
using std::chrono::sys_days;
using std::chrono::weekday;

Date Observed(const Date& d) {
  const weekday wd{sys_days{d}};
  if (wd == std::chrono::Saturday) return Date{sys_days{d} - days{1}};
  if (wd == std::chrono::Sunday) return Date{sys_days{d} + days{1}};
  return d;
}

Date Nth(int year, unsigned month, weekday wd, unsigned n) {
  return Date{
      std::chrono::year_month_weekday{std::chrono::year{year}, std::chrono::month{month}, wd[n]}};
}

Date Last(int year, unsigned month, weekday wd) {
  return Date{std::chrono::year_month_weekday_last{
      std::chrono::year{year}, std::chrono::month{month}, wd[std::chrono::last]}};
}

Date Ymd(int y, unsigned m, unsigned d) {
  return Date{std::chrono::year{y}, std::chrono::month{m}, std::chrono::day{d}};
}

}  // namespace

Result<Date> ParseDate(std::string_view text) {
  int y = 0;
  unsigned m = 0, d = 0;
  if (text.size() != 10 || text[4] != '-' || text[7] != '-') {
    return absl::InvalidArgumentError("date must be YYYY-MM-DD");
  }
  for (size_t i : {0u, 1u, 2u, 3u, 5u, 6u, 8u, 9u}) {
    if (text[i] < '0' || text[i] > '9')
      return absl::InvalidArgumentError("date must be YYYY-MM-DD");
  }
  y = (text[0] - '0') * 1000 + (text[1] - '0') * 100 + (text[2] - '0') * 10 + (text[3] - '0');
  m = static_cast<unsigned>((text[5] - '0') * 10 + (text[6] - '0'));
  d = static_cast<unsigned>((text[8] - '0') * 10 + (text[9] - '0'));
  const Date date = Ymd(y, m, d);
  if (!date.ok()) return absl::InvalidArgumentError("no such calendar date");
  return date;
}

std::string FormatDate(const Date& d) {
  char buf[16];
  std::snprintf(buf, sizeof buf, "%04d-%02u-%02u", static_cast<int>(d.year()),
                static_cast<unsigned>(d.month()), static_cast<unsigned>(d.day()));
  return buf;
}

Date AddDays(const Date& d, int64_t n) { return Date{sys_days{d} + days{n}}; }

int64_t DaysBetween(const Date& a, const Date& b) {
  return static_cast<int64_t>((sys_days{b} - sys_days{a}).count());
}

bool IsWeekend(const Date& d) {
  const weekday wd{sys_days{d}};
  return wd == std::chrono::Saturday || wd == std::chrono::Sunday;
}

std::vector<Holiday> FederalHolidays(int year) {
  using std::chrono::Monday;
  using std::chrono::Thursday;
  std::vector<Holiday> out;
  // New Year's Day of this year, unless observed on Dec 31 of the year before.
  const Date ny = Observed(Ymd(year, 1, 1));
  if (ny.year() == std::chrono::year{year}) out.push_back({ny, "New Year's Day"});
  out.push_back({Nth(year, 1, Monday, 3), "Birthday of Martin Luther King, Jr."});
  out.push_back({Nth(year, 2, Monday, 3), "Washington's Birthday"});
  out.push_back({Last(year, 5, Monday), "Memorial Day"});
  if (year >= 2021)
    out.push_back({Observed(Ymd(year, 6, 19)), "Juneteenth National Independence Day"});
  out.push_back({Observed(Ymd(year, 7, 4)), "Independence Day"});
  out.push_back({Nth(year, 9, Monday, 1), "Labor Day"});
  out.push_back({Nth(year, 10, Monday, 2), "Columbus Day"});
  out.push_back({Observed(Ymd(year, 11, 11)), "Veterans Day"});
  out.push_back({Nth(year, 11, Thursday, 4), "Thanksgiving Day"});
  out.push_back({Observed(Ymd(year, 12, 25)), "Christmas Day"});
  // Next year's New Year's Day observed on this year's Dec 31 (a Friday).
  const Date next_ny = Observed(Ymd(year + 1, 1, 1));
  if (next_ny.year() == std::chrono::year{year}) out.push_back({next_ny, "New Year's Day"});
  std::sort(out.begin(), out.end(),
            [](const Holiday& a, const Holiday& b) { return sys_days{a.date} < sys_days{b.date}; });
  return out;
}

bool IsFederalHoliday(const Date& d) {
  for (const Holiday& h : FederalHolidays(static_cast<int>(d.year()))) {
    if (h.date == d) return true;
  }
  return false;
}

bool IsBusinessDay(const Date& d) { return !IsWeekend(d) && !IsFederalHoliday(d); }

Date AddBusinessDays(const Date& d, int n) {
  Date cur = d;
  while (n > 0) {
    cur = AddDays(cur, 1);
    if (IsBusinessDay(cur)) --n;
  }
  return cur;
}

}  // namespace phigate::breach
