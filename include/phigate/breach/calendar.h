// Dates for breach deadlines: calendar-day and business-day arithmetic on
// std::chrono::year_month_day (no time zones; a deadline is a date), with the
// US federal holiday calendar (5 U.S.C. 6103) computed per year, observed days
// included.
//
// Example:
//   using namespace std::chrono;
//   Date d = 2026y / November / 20d;
//   Date due = AddBusinessDays(d, 15);   // skips weekends and Thanksgiving
//   std::string s = FormatDate(due);     // "2026-12-14"
#ifndef PHIGATE_BREACH_CALENDAR_H_
#define PHIGATE_BREACH_CALENDAR_H_

#include <chrono>
#include <string>
#include <string_view>
#include <vector>

#include "phigate/core/status.h"

namespace phigate::breach {

using Date = std::chrono::year_month_day;

// "YYYY-MM-DD". InvalidArgument for anything else or an impossible date (2026-02-29).
Result<Date> ParseDate(std::string_view text);
std::string FormatDate(const Date& d);

Date AddDays(const Date& d, int64_t days);
// Days from a to b (b - a), negative when b is earlier.
int64_t DaysBetween(const Date& a, const Date& b);

bool IsWeekend(const Date& d);

struct Holiday {
  Date date;              // the day off (the observed day when the holiday falls on a weekend)
  std::string_view name;  // static storage, e.g. "Thanksgiving Day"
};

// The federal holidays observed in `year`, sorted: New Year's Day, Birthday of
// Martin Luther King Jr., Washington's Birthday, Memorial Day, Juneteenth (from
// 2021), Independence Day, Labor Day, Columbus Day, Veterans Day, Thanksgiving
// Day, Christmas Day. A Saturday holiday is observed the Friday before, a
// Sunday one the Monday after. New Year's Day falling on a Saturday is observed
// on Friday Dec 31 of the year before, so that day is listed in that earlier
// year's calendar (the one the day belongs to).
std::vector<Holiday> FederalHolidays(int year);

bool IsFederalHoliday(const Date& d);
bool IsBusinessDay(const Date& d);

// The n-th business day after d (d itself is never counted): n >= 0; n == 0
// returns d. Business day = Monday..Friday and not a federal holiday.
Date AddBusinessDays(const Date& d, int n);

}  // namespace phigate::breach

#endif  // PHIGATE_BREACH_CALENDAR_H_
