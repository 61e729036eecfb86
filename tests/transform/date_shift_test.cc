#include "phigate/transform/date_shift.h"

#include "gtest/gtest.h"

namespace phigate::transform {
namespace {

struct Row {
  const char* text;
  CivilDate day;
  const char* shifted_19;  // the same format, 19 days later
};

TEST(DateShiftTest, ParsesAndRewritesEachFormat) {
  const Row rows[] = {
      {"3/14/2024", {2024, 3, 14}, "4/2/2024"},
      {"03/14/2024", {2024, 3, 14}, "04/02/2024"},
      {"3/14/24", {2024, 3, 14}, "4/2/24"},
      {"3-14-2024", {2024, 3, 14}, "4-2-2024"},
      {"3.14.2024", {2024, 3, 14}, "4.2.2024"},
      {"2024-03-14", {2024, 3, 14}, "2024-04-02"},
      {"2024/3/14", {2024, 3, 14}, "2024/4/2"},
      {"March 14, 2024", {2024, 3, 14}, "April 2, 2024"},
      {"Mar 14 2024", {2024, 3, 14}, "Apr 2 2024"},
      {"Mar. 14th, 2024", {2024, 3, 14}, "Apr. 2nd, 2024"},
      {"MARCH 14, 2024", {2024, 3, 14}, "APRIL 2, 2024"},
      {"NOVEMBER 7TH, 2015", {2015, 11, 7}, "NOVEMBER 26TH, 2015"},  // session 33
      {"11TH MARCH 2024", {2024, 3, 11}, "30TH MARCH 2024"},
      {"MARCH 1st, 2024", {2024, 3, 1}, "MARCH 20th, 2024"},
      {"14 March 2024", {2024, 3, 14}, "2 April 2024"},
      {"14-Mar-2024", {2024, 3, 14}, "2-Apr-2024"},
      {"december 31, 1999", {1999, 12, 31}, "january 19, 2000"},
  };
  for (const Row& r : rows) {
    auto p = ParseDate(r.text);
    ASSERT_TRUE(p.has_value()) << r.text;
    EXPECT_EQ(p->day, r.day) << r.text;
    EXPECT_EQ(FormatDate(p->day, p->format), r.text) << "format not kept";
    EXPECT_EQ(ShiftDateText(r.text, 19).value_or("?"), r.shifted_19) << r.text;
    EXPECT_EQ(ShiftDateText(r.shifted_19, -19).value_or("?"), r.text) << r.text;
  }
}

TEST(DateShiftTest, RejectsImpossibleOrPartialDates) {
  for (const char* bad : {"2/30/2024", "13/01/2024", "2024-02-30", "Smarch 3, 2024", "3/14",
                          "14/3/2024x", "", "March 2024", "1/1/123"}) {
    EXPECT_FALSE(ParseDate(bad).has_value()) << bad;
  }
}

TEST(DateShiftTest, LeapYearsAndYearBoundaries) {
  EXPECT_EQ(ShiftDateText("2/28/2024", 1).value(), "2/29/2024");
  EXPECT_EQ(ShiftDateText("2/28/2023", 1).value(), "3/1/2023");
  EXPECT_EQ(ShiftDateText("12/31/2024", 1).value(), "1/1/2025");
  EXPECT_EQ(ShiftDateText(" 1/1/2025 ", -1).value(), " 12/31/2024 ");
}

TEST(DateShiftTest, ParseDateAtReportsLength) {
  auto p = ParseDateAt("4/2/2024, then");
  ASSERT_TRUE(p.has_value());
  EXPECT_EQ(p->length, 8u);
}

}  // namespace
}  // namespace phigate::transform
