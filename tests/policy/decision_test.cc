// Table tests for the decision engine: one row per rule of docs/policy.md.
#include <memory>
#include <string>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "phigate/core/check.h"
#include "phigate/policy/policy.h"
#include "tests/policy/policy_fixture.h"
#include "tests/testing/status_matchers.h"

namespace phigate::policy {
namespace {

using testing::At;
using testing::Day;
using ::testing::HasSubstr;
using ::testing::Not;

std::shared_ptr<const Policy> TablePolicy() {
  LoadOptions opts;
  opts.reject_lint_errors = false;  // it deliberately routes PHI to a vendor without a BAA
  auto p = Policy::LoadString(testing::kTablePolicy, "table.yaml", opts);
  PHIGATE_CHECK(p.ok(), "table policy must load");
  return *p;
}

class DecisionTest : public ::testing::Test {
 protected:
  const Decision& D(std::string_view tenant, std::string_view user, std::string_view feature,
                    std::string_view vendor, std::string_view endpoint, std::string_view model,
                    absl::Time at) {
    return policy_->Decide({tenant, user, feature, vendor, endpoint, model, at});
  }
  std::shared_ptr<const Policy> policy_ = TablePolicy();
};

constexpr PhiCategory kName = PhiCategory::kName;
constexpr PhiCategory kDate = PhiCategory::kDate;

TEST_F(DecisionTest, ActiveBaaLetsDeclaredActionsThrough) {
  const Decision& d = D("acme", "doc", "scribe", "oa", "chat/completions", "m1", Day("2026-03-01"));
  ASSERT_TRUE(d.allowed);
  EXPECT_TRUE(d.baa_covered);
  EXPECT_EQ(d.baa_id, "NEW");
  EXPECT_TRUE(d.HasReason(ReasonCode::kBaaActive));
  EXPECT_EQ(d.action(kName), Action::kAllow);
  EXPECT_EQ(d.action(kDate), Action::kSurrogate);
  EXPECT_EQ(d.action(PhiCategory::kAge), Action::kAllow);
  EXPECT_EQ(d.action(PhiCategory::kMrn), Action::kTokenize);
  EXPECT_EQ(d.action(PhiCategory::kSsn), Action::kBlock);     // CA floor raises redact
  EXPECT_EQ(d.action(PhiCategory::kPhone), Action::kRedact);  // unlisted
  EXPECT_TRUE(d.HasReason(ReasonCode::kMinimumNecessary));
  EXPECT_TRUE(d.HasReason(ReasonCode::kJurisdictionFloor));
  EXPECT_TRUE(d.reidentify);
  EXPECT_EQ(d.policy_version, policy_->version());
  EXPECT_EQ(d.policy_version.size(), 16u);
}

TEST_F(DecisionTest, BaaExpiringTodayIsActiveThroughTheEndOfTheDayUtc) {
  const Decision& last_second =
      D("acme", "doc", "scribe", "oa", "chat/completions", "m1", At("2026-06-30", 23, 59, 59));
  EXPECT_TRUE(last_second.baa_covered);
  EXPECT_EQ(last_second.baa_id, "NEW");
  EXPECT_EQ(last_second.action(kName), Action::kAllow);

  const Decision& next_day =
      D("acme", "doc", "scribe", "oa", "chat/completions", "m1", At("2026-07-01", 0, 0, 0));
  ASSERT_TRUE(next_day.allowed);
  EXPECT_FALSE(next_day.baa_covered);
  EXPECT_TRUE(next_day.HasReason(ReasonCode::kBaaExpired));
  EXPECT_TRUE(next_day.HasReason(ReasonCode::kNoBaaDowngrade));
  EXPECT_EQ(next_day.action(kName), Action::kTokenize);
  EXPECT_EQ(next_day.action(kDate), Action::kTokenize);
  EXPECT_EQ(next_day.action(PhiCategory::kAge), Action::kTokenize);
  EXPECT_TRUE(next_day.baa_id.empty());
}

TEST_F(DecisionTest, BaaNotYetSignedCountsAsNone) {
  // m2 is only in NEW, effective 2026-01-01.
  const Decision& before =
      D("acme", "doc", "scribe", "oa", "chat/completions", "m2", At("2025-12-31", 23, 59, 59));
  EXPECT_FALSE(before.baa_covered);
  EXPECT_TRUE(before.HasReason(ReasonCode::kBaaNotYetEffective));
  EXPECT_EQ(before.action(kName), Action::kTokenize);
  const Decision& first =
      D("acme", "doc", "scribe", "oa", "chat/completions", "m2", At("2026-01-01", 0, 0, 0));
  EXPECT_TRUE(first.baa_covered);
  EXPECT_EQ(first.action(kName), Action::kAllow);

  const Decision& fut = D("acme", "doc", "scribe", "future", "", "c1", Day("2026-11-30"));
  EXPECT_FALSE(fut.baa_covered);
  EXPECT_TRUE(fut.HasReason(ReasonCode::kBaaNotYetEffective));
}

TEST_F(DecisionTest, RenewalHandsOverAtMidnight) {
  // m1: OLD through 2025-12-31, NEW from 2026-01-01.
  EXPECT_EQ(D("acme", "doc", "scribe", "oa", "", "m1", At("2025-12-31", 23, 59, 59)).baa_id, "OLD");
  EXPECT_EQ(D("acme", "doc", "scribe", "oa", "", "m1", At("2026-01-01", 0, 0, 0)).baa_id, "NEW");
  const Decision& before_all = D("acme", "doc", "scribe", "oa", "", "m1", Day("2024-06-01"));
  EXPECT_TRUE(before_all.HasReason(ReasonCode::kBaaNotYetEffective));
}

TEST_F(DecisionTest, ModelNotNamedInBaaGetsNoIdentifiers) {
  const Decision& d = D("acme", "doc", "scribe", "oa", "chat/completions", "m3", Day("2026-03-01"));
  ASSERT_TRUE(d.allowed);
  EXPECT_FALSE(d.baa_covered);
  EXPECT_TRUE(d.HasReason(ReasonCode::kBaaNotCovering));
  for (PhiCategory c : AllCategories()) EXPECT_FALSE(PassesIdentifying(d.action(c)));
}

TEST_F(DecisionTest, EndpointNotNamedInBaaGetsNoIdentifiers) {
  const Decision& d = D("acme", "doc", "scribe", "oa", "embeddings", "m1", Day("2026-03-01"));
  EXPECT_FALSE(d.baa_covered);
  EXPECT_TRUE(d.HasReason(ReasonCode::kBaaNotCovering));
  EXPECT_EQ(d.action(kName), Action::kTokenize);
}

TEST_F(DecisionTest, EndpointSpellingsAndDefault) {
  const absl::Time t = Day("2026-03-01");
  const Decision& a = D("acme", "doc", "scribe", "oa", "/v1/chat/completions", "m1", t);
  const Decision& b = D("acme", "doc", "scribe", "oa", "chat/completions", "m1", t);
  const Decision& c = D("acme", "doc", "scribe", "oa", "", "m1", t);
  EXPECT_EQ(&a, &b);  // one precomputed entry
  EXPECT_EQ(c.baa_id, b.baa_id);
  EXPECT_EQ(c.actions, b.actions);
  EXPECT_TRUE(a.baa_covered);
  const Decision& bad = D("acme", "doc", "scribe", "oa", "assistants", "m1", t);
  EXPECT_FALSE(bad.allowed);
  EXPECT_TRUE(bad.HasReason(ReasonCode::kUnknownEndpoint));
}

TEST_F(DecisionTest, DeclaredSelfHostedNeedsNoBaa) {
  const Decision& d = D("acme", "doc", "scribe", "local", "", "m-local", Day("2026-03-01"));
  ASSERT_TRUE(d.allowed);
  EXPECT_TRUE(d.baa_covered);
  EXPECT_TRUE(d.self_hosted);
  EXPECT_TRUE(d.HasReason(ReasonCode::kSelfHostedInBoundary));
  EXPECT_EQ(d.action(kName), Action::kAllow);
}

TEST_F(DecisionTest, SelfHostedNotDeclaredInsideBoundaryNeedsABaa) {
  const Decision& d = D("acme", "doc", "scribe", "gpu", "", "m-gpu", Day("2026-03-01"));
  ASSERT_TRUE(d.allowed);
  EXPECT_FALSE(d.baa_covered);
  EXPECT_TRUE(d.HasReason(ReasonCode::kNoBaa));
  EXPECT_EQ(d.action(kName), Action::kTokenize);
}

TEST_F(DecisionTest, NoBaaFollowsTheFeaturesChoice) {
  const absl::Time t = Day("2026-03-01");
  const Decision& tok = D("acme", "doc", "scribe", "none", "", "n1", t);
  EXPECT_TRUE(tok.allowed);
  EXPECT_TRUE(tok.HasReason(ReasonCode::kNoBaa));
  EXPECT_EQ(tok.action(kName), Action::kTokenize);
  EXPECT_EQ(tok.action(kDate), Action::kTokenize);

  const Decision& deny = D("acme", "doc", "strict", "none", "", "n1", t);
  EXPECT_FALSE(deny.allowed);
  EXPECT_TRUE(deny.HasReason(ReasonCode::kMissingBaaDeny));
  for (PhiCategory c : AllCategories()) EXPECT_EQ(deny.action(c), Action::kBlock);
  EXPECT_TRUE(D("acme", "doc", "strict", "oa", "", "m1", t).allowed);

  const Decision& block = D("acme", "doc", "blocky", "none", "", "n1", t);
  EXPECT_TRUE(block.allowed);
  EXPECT_EQ(block.action(kName), Action::kBlock);
  EXPECT_EQ(block.action(kDate), Action::kTokenize);  // already not identifying: unchanged
}

TEST_F(DecisionTest, FeatureNeverSendsUnlistedCategories) {
  const Decision& d = D("acme", "doc", "chat", "oa", "", "m1", Day("2026-03-01"));
  ASSERT_TRUE(d.allowed);
  EXPECT_TRUE(d.baa_covered);
  for (PhiCategory c : AllCategories()) EXPECT_EQ(d.action(c), Action::kBlock);
  // No identifying category, so no BAA is needed and none is downgraded.
  const Decision& n = D("acme", "doc", "chat", "none", "", "n1", Day("2026-03-01"));
  EXPECT_TRUE(n.allowed);
  EXPECT_FALSE(n.HasReason(ReasonCode::kNoBaaDowngrade));
}

TEST_F(DecisionTest, TenantInSeveralStatesGetsTheStrictestOfAll) {
  const absl::Time t = Day("2026-03-01");
  const Decision& m = D("multi", "mdoc", "scribe", "oa", "", "m1", t);
  ASSERT_TRUE(m.allowed);
  EXPECT_TRUE(m.baa_covered);  // NEW has ZDR (NY requires it)
  EXPECT_EQ(m.action(kName), Action::kAllow);
  EXPECT_EQ(m.action(kDate), Action::kTokenize);           // NY floor over surrogate
  EXPECT_EQ(m.action(PhiCategory::kSsn), Action::kBlock);  // CA floor
  EXPECT_TRUE(m.HasReason(ReasonCode::kJurisdictionFloor));
  // The same request for a CA-only tenant keeps the surrogate.
  EXPECT_EQ(D("acme", "doc", "scribe", "oa", "", "m1", t).action(kDate), Action::kSurrogate);

  // TX residency: an EU vendor gets no identifiers for the TX tenant, but does for acme.
  const Decision& eu_multi = D("multi", "mdoc", "scribe", "eu", "", "e1", t);
  EXPECT_FALSE(eu_multi.baa_covered);
  EXPECT_TRUE(eu_multi.HasReason(ReasonCode::kJurisdictionRequirement));
  EXPECT_EQ(eu_multi.action(kName), Action::kTokenize);
  EXPECT_TRUE(D("acme", "doc", "scribe", "eu", "", "e1", t).baa_covered);

  // Residency binds a self-hosted model inside the boundary too when it says
  // where it runs: in the EU it gets no identifiers for the TX tenant; without
  // a region it is taken to be where the boundary is.
  EXPECT_TRUE(D("multi", "mdoc", "scribe", "local", "", "m-local", t).baa_covered);
  PolicyConfig cfg = policy_->config();
  for (Vendor& v : cfg.vendors) {
    if (v.name == "local") v.region = "eu-west";
  }
  PHIGATE_ASSERT_OK_AND_ASSIGN(auto eu_local, Policy::FromConfig(std::move(cfg)));
  const Decision& el = eu_local->Decide({"multi", "mdoc", "scribe", "local", "", "m-local", t});
  EXPECT_FALSE(el.baa_covered);
  EXPECT_TRUE(el.HasReason(ReasonCode::kJurisdictionRequirement));
  EXPECT_EQ(el.action(kName), Action::kTokenize);
  EXPECT_TRUE(eu_local->Decide({"acme", "doc", "scribe", "local", "", "m-local", t}).baa_covered);

  // NY requires zero data retention: a BAA without it does not count for `multi`.
  const Decision& nz_multi = D("multi", "mdoc", "scribe", "nozdr", "", "z1", t);
  EXPECT_FALSE(nz_multi.baa_covered);
  EXPECT_TRUE(nz_multi.HasReason(ReasonCode::kJurisdictionRequirement));
  EXPECT_EQ(nz_multi.action(kName), Action::kTokenize);
  EXPECT_TRUE(D("acme", "doc", "scribe", "nozdr", "", "z1", t).baa_covered);
}

TEST_F(DecisionTest, ReidentifyOnlyForRolesThatMay) {
  const absl::Time t = Day("2026-03-01");
  EXPECT_TRUE(D("acme", "doc", "scribe", "oa", "", "m1", t).reidentify);
  const Decision& ana = D("acme", "ana", "scribe", "oa", "", "m1", t);
  EXPECT_TRUE(ana.allowed);
  EXPECT_FALSE(ana.reidentify);
  EXPECT_TRUE(ana.HasReason(ReasonCode::kReidentifyNotAllowed));
  EXPECT_FALSE(D("acme", "doc", "chat", "oa", "", "m1", t).reidentify);  // feature says no
}

struct DenyRow {
  const char* name;
  const char* tenant;
  const char* user;
  const char* feature;
  const char* vendor;
  const char* endpoint;
  const char* model;
  ReasonCode code;
};

// `features: []` (a tenant switched off) is no feature; it enabled every one.
TEST(TenantFeaturesTest, AnEmptyListEnablesNoFeatureAndNoKeyEnablesAll) {
  std::string yaml(testing::kTablePolicy);
  const std::string limited = "features: [chat]";
  const size_t at = yaml.find(limited);
  ASSERT_NE(at, std::string::npos);
  LoadOptions opts;
  opts.reject_lint_errors = false;  // as TablePolicy()
  auto with = [&](std::string_view replacement) {
    std::string y = yaml;
    y.replace(at, limited.size(), replacement);
    auto p = Policy::LoadString(y, "table.yaml", opts);
    EXPECT_TRUE(p.ok()) << p.status();
    return p.ok() ? *p : nullptr;
  };
  auto none = with("features: []");
  ASSERT_NE(none, nullptr);
  for (const char* f : {"scribe", "chat"}) {
    const Decision& d =
        none->Decide({"limited", "ldoc", f, "oa", "chat/completions", "m1", Day("2026-03-01")});
    EXPECT_FALSE(d.allowed) << f;
    EXPECT_TRUE(d.HasReason(ReasonCode::kFeatureNotEnabled)) << f;
  }
  auto all = with("");  // no key: every feature
  ASSERT_NE(all, nullptr);
  const Decision& d =
      all->Decide({"limited", "ldoc", "scribe", "oa", "chat/completions", "m1", Day("2026-03-01")});
  EXPECT_FALSE(d.HasReason(ReasonCode::kFeatureNotEnabled));
}

// A jurisdiction entry is an override of the built-in of the same id in any
// letter case: "tx" tightening TX's floor was a new, unused jurisdiction.
TEST(JurisdictionOverrideTest, IdsMatchBuiltInsRegardlessOfCase) {
  LoadOptions opts;
  opts.reject_lint_errors = false;  // as TablePolicy()
  auto load = [&](std::string_view extra) {
    auto p =
        Policy::LoadString(std::string(testing::kTablePolicy) + std::string(extra), "t.yaml", opts);
    EXPECT_TRUE(p.ok()) << p.status();
    return p.ok() ? *p : nullptr;
  };
  auto base = load("");
  auto tightened = load("  - id: tx\n    floors: {NAME: block}\n");
  ASSERT_NE(base, nullptr);
  ASSERT_NE(tightened, nullptr);
  const DecisionRequest r{"multi", "mdoc",           "scribe", "oa", "chat/completions",
                          "m1",    Day("2026-03-01")};
  EXPECT_NE(base->Decide(r).action(kName), Action::kBlock);
  EXPECT_EQ(tightened->Decide(r).action(kName), Action::kBlock);
}

TEST_F(DecisionTest, UnknownAnythingIsDenied) {
  const DenyRow rows[] = {
      {"unknown tenant", "nobody", "doc", "scribe", "oa", "", "m1", ReasonCode::kUnknownTenant},
      {"unknown user", "acme", "ghost", "scribe", "oa", "", "m1", ReasonCode::kUnknownUser},
      {"user of another tenant", "acme", "mdoc", "scribe", "oa", "", "m1",
       ReasonCode::kUserNotInTenant},
      {"unknown feature", "acme", "doc", "nope", "oa", "", "m1", ReasonCode::kUnknownFeature},
      {"feature not enabled", "limited", "ldoc", "scribe", "oa", "", "m1",
       ReasonCode::kFeatureNotEnabled},
      {"role not permitted", "acme", "adm", "scribe", "oa", "", "m1",
       ReasonCode::kRoleNotPermitted},
      {"unknown vendor", "acme", "doc", "scribe", "nope", "", "m1", ReasonCode::kUnknownVendor},
      {"unknown endpoint", "acme", "doc", "scribe", "oa", "files", "m1",
       ReasonCode::kUnknownEndpoint},
      {"unknown model", "acme", "doc", "scribe", "oa", "", "m9", ReasonCode::kUnknownModel},
      {"route not allowed", "acme", "doc", "strict", "local", "", "m-local",
       ReasonCode::kRouteNotAllowed},
      {"empty everything", "", "", "", "", "", "", ReasonCode::kUnknownTenant},
      {"separator injection", "acme", "doc", "scribe", "oa", "", "m1\x1f",
       ReasonCode::kRouteNotAllowed},
  };
  for (const DenyRow& r : rows) {
    SCOPED_TRACE(r.name);
    const Decision& d =
        D(r.tenant, r.user, r.feature, r.vendor, r.endpoint, r.model, Day("2026-03-01"));
    EXPECT_FALSE(d.allowed);
    ASSERT_FALSE(d.reasons.empty());
    EXPECT_EQ(d.reasons.front().code, r.code) << ReasonCodeName(d.reasons.front().code);
    for (PhiCategory c : AllCategories()) EXPECT_EQ(d.action(c), Action::kBlock);
  }
  // A chat-only tenant still gets chat.
  EXPECT_TRUE(D("limited", "ldoc", "chat", "oa", "", "m1", Day("2026-03-01")).allowed);
}

TEST_F(DecisionTest, UndefinedJurisdictionDeniesTheTenant) {
  PolicyConfig cfg = policy_->config();
  cfg.tenants[0].jurisdictions.push_back("ATLANTIS");
  PHIGATE_ASSERT_OK_AND_ASSIGN(auto p, Policy::FromConfig(std::move(cfg)));
  const Decision& d = p->Decide({"acme", "doc", "scribe", "oa", "", "m1", Day("2026-03-01")});
  EXPECT_FALSE(d.allowed);
  EXPECT_EQ(d.reasons.front().code, ReasonCode::kUnknownJurisdiction);
}

TEST_F(DecisionTest, ApiKeysAreMatchedByHash) {
  const User* u = policy_->FindUserByApiKey("k-doc");
  ASSERT_NE(u, nullptr);
  EXPECT_EQ(u->id, "doc");
  EXPECT_EQ(policy_->FindUserByApiKey("k-doc "), nullptr);
  EXPECT_EQ(policy_->FindUserByApiKey(""), nullptr);
}

// The table policy with user ana's key read from $PHIGATE_TEST_POLICY_KEY,
// which holds `key` while the policy loads.
Result<std::shared_ptr<const Policy>> LoadWithAnaKeyFromEnv(const char* key) {
  ::setenv("PHIGATE_TEST_POLICY_KEY", key, 1);
  std::string yaml(testing::kTablePolicy);
  yaml.replace(yaml.find("{id: ana, tenant: acme, roles: [analyst]}"),
               std::string("{id: ana, tenant: acme, roles: [analyst]}").size(),
               "{id: ana, tenant: acme, roles: [analyst], key_env: PHIGATE_TEST_POLICY_KEY}");
  LoadOptions opts;
  opts.reject_lint_errors = false;
  auto p = Policy::LoadString(yaml, "t.yaml", opts);
  ::unsetenv("PHIGATE_TEST_POLICY_KEY");
  return p;
}

TEST_F(DecisionTest, KeyEnvIsHashedAtLoad) {
  PHIGATE_ASSERT_OK_AND_ASSIGN(auto p, LoadWithAnaKeyFromEnv("k-env-user"));
  const User* u = p->FindUserByApiKey("k-env-user");
  ASSERT_NE(u, nullptr);
  EXPECT_EQ(u->id, "ana");
}

// One key, one user: a key shared by two users (here doc's key, also in the
// variable another user reads) would sign in as whichever came first.
TEST_F(DecisionTest, OneApiKeyForTwoUsersIsRefused) {
  auto p = LoadWithAnaKeyFromEnv("k-doc");
  ASSERT_FALSE(p.ok());
  EXPECT_THAT(std::string(p.status().message()),
              HasSubstr("'doc' and 'ana' have the same API key"));
  EXPECT_THAT(std::string(p.status().message()), Not(HasSubstr("k-doc")));
}

TEST_F(DecisionTest, DemoConfigDecisions) {
  LoadOptions opts;
  opts.lint.now = Day("2026-11-30");
  PHIGATE_ASSERT_OK_AND_ASSIGN(
      auto demo, Policy::LoadFile(phigate::testing::SourceDir() + "/config/demo.yaml", opts));
  const absl::Time t = Day("2026-11-30");
  const Decision& s = demo->Decide({"acme", "dr-demo", "scribe", "openai", "", "gpt-4o", t});
  ASSERT_TRUE(s.allowed);
  EXPECT_EQ(s.baa_id, "BAA-DEMO-OPENAI-2026");
  EXPECT_EQ(s.action(kName), Action::kTokenize);
  EXPECT_EQ(s.action(PhiCategory::kAge), Action::kAllow);
  EXPECT_EQ(s.action(PhiCategory::kSsn), Action::kBlock);
  EXPECT_TRUE(s.reidentify);
  const Decision& nb =
      demo->Decide({"acme", "analyst-demo", "chat-no-phi", "nobaa-cloud", "", "open-mixtral", t});
  ASSERT_TRUE(nb.allowed);
  for (PhiCategory c : AllCategories()) EXPECT_FALSE(PassesIdentifying(nb.action(c)));
  const Decision& local =
      demo->Decide({"acme", "dr-demo", "scribe", "local", "", "local-llama", t});
  EXPECT_TRUE(local.self_hosted);
  EXPECT_EQ(demo->FindUserByApiKey("pg_demo_clinician")->id, "dr-demo");
  // gpt-4.1 is not named in the demo BAA: chat-no-phi may use it, scribe may not route there.
  EXPECT_FALSE(demo->Decide({"acme", "dr-demo", "scribe", "openai", "", "gpt-4.1", t}).allowed);
}

}  // namespace
}  // namespace phigate::policy
