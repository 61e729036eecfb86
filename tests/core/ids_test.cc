#include "phigate/core/ids.h"

#include "gtest/gtest.h"

namespace phigate {
namespace {

TEST(TenantIdTest, AcceptsSafeCharacters) {
  auto t = MakeTenantId("acme-health_01.prod");
  ASSERT_TRUE(t.ok());
  EXPECT_EQ(t->value(), "acme-health_01.prod");
}

TEST(TenantIdTest, RejectsEmptyLongAndUnsafe) {
  EXPECT_EQ(MakeTenantId("").status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_FALSE(MakeTenantId(std::string(65, 'a')).ok());
  EXPECT_FALSE(MakeTenantId("acme/../b").ok());
  EXPECT_FALSE(MakeTenantId("a b").ok());
  EXPECT_FALSE(MakeTenantId("a'; drop table x").ok());
}

TEST(TenantIdTest, DistinctTenantsCompareUnequal) {
  EXPECT_NE(*MakeTenantId("a"), *MakeTenantId("b"));
  EXPECT_EQ(*MakeTenantId("a"), *MakeTenantId("a"));
}

}  // namespace
}  // namespace phigate
