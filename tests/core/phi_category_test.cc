#include "phigate/core/phi_category.h"

#include <set>
#include <string>

#include "gtest/gtest.h"

namespace phigate {
namespace {

TEST(PhiCategoryTest, NamesRoundTripThroughParse) {
  std::set<std::string> seen;
  for (PhiCategory c : AllCategories()) {
    const std::string_view name = CategoryName(c);
    EXPECT_TRUE(seen.insert(std::string(name)).second) << "duplicate name " << name;
    EXPECT_EQ(ParseCategory(name), c);
  }
  EXPECT_EQ(seen.size(), kNumPhiCategories);
}

TEST(PhiCategoryTest, EveryEvalTypeIsOneTheScorerKnows) {
  const std::set<std::string_view> known = {"NAME", "DATE", "LOCATION", "PHONE", "EMAIL",
                                            "URL",  "IP",   "SSN",      "ID",    "AGE"};
  for (PhiCategory c : AllCategories()) EXPECT_TRUE(known.count(CategoryEvalType(c))) << int(c);
}

TEST(PhiCategoryTest, EveryEnumValueHasItsOwnRow) {
  for (size_t i = 0; i < AllCategories().size(); ++i) {
    EXPECT_EQ(static_cast<size_t>(AllCategories()[i]), i);
  }
}

TEST(PhiCategoryTest, ParseIsCaseInsensitiveAndKnowsAliases) {
  EXPECT_EQ(ParseCategory("ssn"), PhiCategory::kSsn);
  EXPECT_EQ(ParseCategory("Street-Address"), PhiCategory::kStreetAddress);
  EXPECT_EQ(ParseCategory("mbi"), PhiCategory::kHealthPlan);
  EXPECT_FALSE(ParseCategory("favourite_colour").has_value());
}

TEST(PhiCategoryTest, SetAddRemoveContains) {
  CategorySet s;
  EXPECT_TRUE(s.empty());
  s.Add(PhiCategory::kDate);
  EXPECT_TRUE(s.Contains(PhiCategory::kDate));
  EXPECT_FALSE(s.Contains(PhiCategory::kName));
  s.Remove(PhiCategory::kDate);
  EXPECT_TRUE(s.empty());
  EXPECT_TRUE(CategorySet::All().Contains(PhiCategory::kOtherId));
}

}  // namespace
}  // namespace phigate
