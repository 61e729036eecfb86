#include "phigate/breach/calendar.h"

#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "tests/testing/status_matchers.h"

namespace phigate::breach {
namespace {

using namespace std::chrono_literals;  // NOLINT

Date D(const char* s) { return ParseDate(s).value(); }

TEST(CalendarTest, ParseAndFormatRoundTrip) {
  EXPECT_EQ(FormatDate(D("2028-02-29")), "2028-02-29");
  EXPECT_FALSE(ParseDate("2026-02-29").ok());  // not a leap year
  EXPECT_FALSE(ParseDate("2026-13-01").ok());
  EXPECT_FALSE(ParseDate("2026-1-01").ok());
  EXPECT_FALSE(ParseDate("2026/01/01").ok());
}

TEST(CalendarTest, CalendarDaysAcrossMonthEndsAndLeapYears) {
  struct Row {
    const char* from;
    int days;
    const char* want;
  } rows[] = {
      {"2026-01-31", 60, "2026-04-01"}, {"2026-01-31", 30, "2026-03-02"},
      {"2028-01-31", 60, "2028-03-31"}, {"2028-02-29", 60, "2028-04-29"},
      {"2028-02-29", 30, "2028-03-30"}, {"2026-12-31", 60, "2027-03-01"},
      {"2027-12-31", 60, "2028-02-29"}, {"2026-03-02", 60, "2026-05-01"},
  };
  for (const Row& r : rows) {
    EXPECT_EQ(FormatDate(AddDays(D(r.from), r.days)), r.want) << r.from << " + " << r.days;
  }
  EXPECT_EQ(DaysBetween(D("2026-03-10"), D("2026-04-09")), 30);
}

std::vector<std::string> HolidayDates(int year) {
  std::vector<std::string> out;
  for (const Holiday& h : FederalHolidays(year)) out.push_back(FormatDate(h.date));
  return out;
}

TEST(CalendarTest, FederalHolidays2026WithObservedIndependenceDay) {
  EXPECT_EQ(HolidayDates(2026),
            (std::vector<std::string>{"2026-01-01", "2026-01-19", "2026-02-16", "2026-05-25",
                                      "2026-06-19", "2026-07-03", "2026-09-07", "2026-10-12",
                                      "2026-11-11", "2026-11-26", "2026-12-25"}));
}

TEST(CalendarTest, FederalHolidays2027IncludesNextNewYearObservedOnDec31) {
  EXPECT_EQ(HolidayDates(2027),
            (std::vector<std::string>{"2027-01-01", "2027-01-18", "2027-02-15", "2027-05-31",
                                      "2027-06-18", "2027-07-05", "2027-09-06", "2027-10-11",
                                      "2027-11-11", "2027-11-25", "2027-12-24", "2027-12-31"}));
  // 2028-01-01 is a Saturday: its observed day belongs to 2027, so 2028 lists no New Year's Day.
  EXPECT_EQ(HolidayDates(2028).front(), "2028-01-17");
}

TEST(CalendarTest, SundayHolidaysMoveToMonday) {
  EXPECT_TRUE(IsFederalHoliday(D("2023-01-02")));   // Jan 1 2023 is a Sunday
  EXPECT_TRUE(IsFederalHoliday(D("2022-06-20")));   // Juneteenth 2022 is a Sunday
  EXPECT_FALSE(IsFederalHoliday(D("2020-06-19")));  // before Juneteenth became a holiday
  EXPECT_TRUE(IsFederalHoliday(D("2021-12-31")));   // Jan 1 2022 is a Saturday
}

TEST(CalendarTest, BusinessDaysSkipThanksgivingButNotTheDayAfter) {
  // Fri 2026-11-20 + 15 business days: Thanksgiving (Nov 26) skipped, Nov 27 counted.
  EXPECT_EQ(FormatDate(AddBusinessDays(D("2026-11-20"), 15)), "2026-12-14");
  EXPECT_EQ(FormatDate(AddBusinessDays(D("2026-11-20"), 0)), "2026-11-20");
  EXPECT_EQ(FormatDate(AddBusinessDays(D("2026-11-25"), 1)), "2026-11-27");
}

TEST(CalendarTest, BusinessDaysAcrossChristmasAndObservedNewYear) {
  EXPECT_EQ(FormatDate(AddBusinessDays(D("2026-12-22"), 5)), "2026-12-30");
  // 2027-12-31 (Fri) is the observed New Year's Day of 2028.
  EXPECT_EQ(FormatDate(AddBusinessDays(D("2027-12-29"), 5)), "2028-01-06");
  // A Saturday start counts from Monday.
  EXPECT_EQ(FormatDate(AddBusinessDays(D("2026-03-07"), 1)), "2026-03-09");
}

}  // namespace
}  // namespace phigate::breach
