#include "phigate/policy/dataflow.h"

#include <string>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/policy/policy_fixture.h"
#include "tests/testing/status_matchers.h"

namespace phigate::policy {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

TEST(DataflowTest, DemoReportHasEveryDimension) {
  LoadOptions opts;
  opts.lint.now = testing::Day("2026-11-30");
  PHIGATE_ASSERT_OK_AND_ASSIGN(
      auto p, Policy::LoadFile(phigate::testing::SourceDir() + "/config/demo.yaml", opts));
  DataflowOptions o;
  o.at = testing::Day("2026-11-30");
  const DataflowReport r = BuildDataflowReport(*p, o);
  // Vendors and BAAs.
  EXPECT_THAT(r.markdown, HasSubstr("BAA-DEMO-OPENAI-2026"));
  EXPECT_THAT(r.markdown, HasSubstr("NO BAA: de-identified data only"));
  EXPECT_THAT(r.markdown, HasSubstr("self-hosted inside the boundary"));
  // Jurisdictions with the breach figure and the tenant's tightening.
  EXPECT_THAT(r.markdown, HasSubstr("| CA |"));
  EXPECT_THAT(r.markdown, HasSubstr("30 calendar days"));
  EXPECT_THAT(r.markdown, HasSubstr("SSN >= block"));
  // Features x categories x vendors.
  EXPECT_THAT(r.markdown, HasSubstr("### Feature `scribe`"));
  EXPECT_THAT(r.markdown, HasSubstr("| AGE | allow | **allow** |"));
  EXPECT_THAT(r.markdown, HasSubstr("openai / gpt-4o"));
  // chat-no-phi to the vendor without a BAA sends no identifiers.
  EXPECT_THAT(r.markdown, HasSubstr("| nobaa-cloud / open-mixtral | chat/completions | allowed | "
                                    "none in force | - |"));
  // Diagram.
  EXPECT_THAT(r.dot, HasSubstr("digraph dataflow"));
  EXPECT_THAT(r.dot, HasSubstr("cluster_boundary"));
  EXPECT_THAT(r.dot, HasSubstr("\"v_openai\""));
  EXPECT_THAT(r.dot, HasSubstr("\"f_acme_scribe\" -> \"v_openai\""));
  EXPECT_THAT(r.dot, Not(HasSubstr("pg_demo")));
}

TEST(DataflowTest, ExpiredBaaShowsAndDowngrades) {
  LoadOptions opts;
  opts.lint.now = testing::Day("2027-08-01");
  PHIGATE_ASSERT_OK_AND_ASSIGN(
      auto p, Policy::LoadFile(phigate::testing::SourceDir() + "/config/demo.yaml", opts));
  DataflowOptions o;
  o.at = testing::Day("2027-08-01");
  const DataflowReport r = BuildDataflowReport(*p, o);
  EXPECT_THAT(r.markdown, HasSubstr("EXPIRED 2027-06-30"));
  EXPECT_THAT(r.markdown, HasSubstr("BAA_EXPIRED"));
}

}  // namespace
}  // namespace phigate::policy
