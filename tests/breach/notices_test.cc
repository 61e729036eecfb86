#include "phigate/breach/notices.h"

#include <string>

#include "gtest/gtest.h"
#include "tests/testing/status_matchers.h"

namespace phigate::breach {
namespace {

constexpr int64_t kMar2 = 1772409600;  // 2026-03-02T00:00:00Z

TEST(RenderTemplateTest, SubstitutesAndRejectsUnknownPlaceholders) {
  PHIGATE_ASSERT_OK_AND_ASSIGN(std::string s,
                               RenderTemplate("a {{x}} b {{ y }}{{x}}", {{"x", "1"}, {"y", "2"}}));
  EXPECT_EQ(s, "a 1 b 21");
  auto bad = RenderTemplate("{{nope}}", {{"x", "1"}});
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(std::string(bad.status().message()).find("nope"), std::string::npos);
  EXPECT_FALSE(RenderTemplate("{{x", {{"x", "1"}}).ok());
  PHIGATE_ASSERT_OK_AND_ASSIGN(std::string plain, RenderTemplate("no braces } {", {}));
  EXPECT_EQ(plain, "no braces } {");
}

TEST(NoticeContextTest, ParsesKnownFieldsOnly) {
  PHIGATE_ASSERT_OK_AND_ASSIGN(NoticeContext c,
                               ParseNoticeContext(R"({"entity_name": "Synthetic Health"})"));
  EXPECT_EQ(c.entity_name, "Synthetic Health");
  EXPECT_FALSE(ParseNoticeContext(R"({"entity_nmae": "x"})").ok());
  EXPECT_FALSE(ParseNoticeContext("[1]").ok());
  EXPECT_FALSE(ParseNoticeContext("{").ok());
}

class NoticesTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto t = RuleTable::Load(testing::SourceDir() + "/data/breach/breach-deadlines.tsv");
    ASSERT_TRUE(t.ok()) << t.status();
    table_ = std::move(t).value();
    inc_ = NewIncident(TenantId("acme"), kMar2, "synthetic");
    inc_.id = "INC-2026-0007";
    inc_.breach_date = "2026-02-27";
    inc_.phi_categories.Add(PhiCategory::kName);
    inc_.phi_categories.Add(PhiCategory::kSsn);
    inc_.residents_by_state = {{"CA", 501}, {"TX", 300}, {"WI", 20}};
    ctx_.entity_name = "Synthetic Health Clinic";
    ctx_.entity_type = "Healthcare provider";
    ctx_.what_happened = "An AI assistant returned information to the wrong user.";
    ctx_.steps_individuals = "Review statements from your health plan.";
    ctx_.what_we_are_doing = "We disabled the feature and rotated keys.";
    ctx_.toll_free_phone = "1-800-555-0100";
    ctx_.contact_email = "privacy@example.invalid";
    ctx_.safeguards_before = "Encryption, access controls";
    ctx_.actions_taken = "Feature suspended";
    ctx_.breach_type = "Unauthorized Access/Disclosure";
    ctx_.location = "Other";
  }
  RuleTable table_;
  Incident inc_;
  NoticeContext ctx_;
};

TEST_F(NoticesTest, DraftsEveryNoticeWithAllRequiredElements) {
  PHIGATE_ASSERT_OK_AND_ASSIGN(PlanResult plan, ComputeObligations(table_, inc_.ToFacts()));
  PHIGATE_ASSERT_OK_AND_ASSIGN(
      auto drafts, DraftNotices(inc_, plan, ctx_, testing::SourceDir() + "/templates/breach"));
  std::map<std::string, const NoticeDraft*> by_name;
  for (const NoticeDraft& d : drafts) by_name[d.filename] = &d;
  ASSERT_TRUE(by_name.contains("individual-notice.md"));
  ASSERT_TRUE(by_name.contains("hhs-portal.md"));
  ASSERT_TRUE(by_name.contains("media-CA.md"));
  EXPECT_FALSE(by_name.contains("media-TX.md"));  // 300 is not > 500
  ASSERT_TRUE(by_name.contains("state-CA.md"));
  ASSERT_TRUE(by_name.contains("state-TX.md"));
  ASSERT_TRUE(by_name.contains("plan.md"));

  const std::string& letter = by_name["individual-notice.md"]->markdown;
  for (const char* must :
       {"2026-02-27", "2026-03-02", "names; Social Security numbers", "Review statements",
        "disabled the feature", "1-800-555-0100", "privacy@example.invalid", "2026-04-01"}) {
    EXPECT_NE(letter.find(must), std::string::npos) << must;
  }
  EXPECT_EQ(letter.find("{{"), std::string::npos);
  EXPECT_TRUE(by_name["individual-notice.md"]->missing.empty());
  EXPECT_NE(letter.find("45 CFR 164.404(c)"), std::string::npos);
  EXPECT_EQ(letter.find("Who acquired"), std::string::npos);  // an FTC element only
  EXPECT_FALSE(by_name.contains("ftc-notice.md"));

  const std::string& hhs = by_name["hhs-portal.md"]->markdown;
  EXPECT_NE(hhs.find("500 or more"), std::string::npos);
  EXPECT_NE(hhs.find("| 821 |"), std::string::npos);
  EXPECT_NE(by_name["state-TX.md"]->markdown.find("tx.ag"), std::string::npos);
  EXPECT_NE(by_name["media-CA.md"]->markdown.find("501"), std::string::npos);
}

TEST_F(NoticesTest, SmallBreachUsesTheAnnualLogAndListsMissingElements) {
  inc_.residents_by_state = {{"WI", 12}};
  inc_.breach_date.clear();
  NoticeContext empty;
  PHIGATE_ASSERT_OK_AND_ASSIGN(PlanResult plan, ComputeObligations(table_, inc_.ToFacts()));
  PHIGATE_ASSERT_OK_AND_ASSIGN(
      auto drafts, DraftNotices(inc_, plan, empty, testing::SourceDir() + "/templates/breach"));
  const NoticeDraft* hhs = nullptr;
  const NoticeDraft* letter = nullptr;
  for (const NoticeDraft& d : drafts) {
    if (d.filename == "hhs-portal.md") hhs = &d;
    if (d.filename == "individual-notice.md") letter = &d;
  }
  ASSERT_NE(hhs, nullptr);
  EXPECT_NE(hhs->markdown.find("fewer than 500"), std::string::npos);
  EXPECT_NE(hhs->markdown.find("2027-03-01"), std::string::npos);
  ASSERT_NE(letter, nullptr);
  EXPECT_NE(letter->markdown.find("[TO FILL: (A) what happened]"), std::string::npos);
  bool contact_missing = false;
  for (const std::string& m : letter->missing) contact_missing |= m.find("(E)") == 0;
  EXPECT_TRUE(contact_missing);
}

// A vendor of personal health records that is not a HIPAA entity owes its
// notices under the FTC Health Breach Notification Rule (16 CFR 318): the FTC
// gets a draft, and the letters cite the FTC rule and name who acquired the
// information (318.6(a)), not HIPAA.
TEST_F(NoticesTest, PhrVendorGetsAnFtcDraftAndFtcCitations) {
  inc_.notice.role = EntityRole::kPhrVendor;
  inc_.residents_by_state = {{"CA", 600}, {"FL", 3}};
  ctx_.entity_type = "Vendor of personal health records";
  PHIGATE_ASSERT_OK_AND_ASSIGN(PlanResult plan, ComputeObligations(table_, inc_.ToFacts()));
  PHIGATE_ASSERT_OK_AND_ASSIGN(
      auto drafts, DraftNotices(inc_, plan, ctx_, testing::SourceDir() + "/templates/breach"));
  std::map<std::string, const NoticeDraft*> by_name;
  for (const NoticeDraft& d : drafts) by_name[d.filename] = &d;
  ASSERT_TRUE(by_name.contains("ftc-notice.md"));
  EXPECT_FALSE(by_name.contains("hhs-portal.md"));
  const std::string& ftc = by_name["ftc-notice.md"]->markdown;
  EXPECT_NE(ftc.find("500 or more"), std::string::npos);
  EXPECT_NE(ftc.find("| 603 |"), std::string::npos);
  EXPECT_NE(ftc.find("2026-05-01"), std::string::npos);  // 60 days after discovery
  EXPECT_NE(ftc.find("| Yes |"), std::string::npos);     // media: 600 CA residents
  EXPECT_EQ(ftc.find("{{"), std::string::npos);

  ASSERT_TRUE(by_name.contains("individual-notice.md"));
  const NoticeDraft& letter = *by_name["individual-notice.md"];
  EXPECT_NE(letter.markdown.find("16 CFR 318"), std::string::npos);
  EXPECT_EQ(letter.markdown.find("164.404"), std::string::npos);
  EXPECT_NE(letter.markdown.find("## Who acquired the information"), std::string::npos);
  bool third_parties_missing = false;
  for (const std::string& m : letter.missing) third_parties_missing |= m.find("318.6") != m.npos;
  EXPECT_TRUE(third_parties_missing);
  ASSERT_TRUE(by_name.contains("media-CA.md"));
  EXPECT_NE(by_name["media-CA.md"]->markdown.find("16 CFR 318.5(b)"), std::string::npos);
  EXPECT_EQ(by_name["media-CA.md"]->markdown.find("164.406"), std::string::npos);

  // Named once, the third parties appear in the letter and the FTC notice.
  ctx_.third_parties = "Acquired by an unauthorized user of the app (identity not known)";
  PHIGATE_ASSERT_OK_AND_ASSIGN(
      drafts, DraftNotices(inc_, plan, ctx_, testing::SourceDir() + "/templates/breach"));
  for (const NoticeDraft& d : drafts) {
    if (d.filename == "individual-notice.md" || d.filename == "ftc-notice.md") {
      EXPECT_NE(d.markdown.find("unauthorized user of the app"), std::string::npos) << d.filename;
      EXPECT_TRUE(d.missing.empty()) << d.filename;
    }
  }

  // Under 500, the FTC's annual log, due 60 days after the year's end.
  inc_.residents_by_state = {{"FL", 12}};
  PHIGATE_ASSERT_OK_AND_ASSIGN(plan, ComputeObligations(table_, inc_.ToFacts()));
  PHIGATE_ASSERT_OK_AND_ASSIGN(
      drafts, DraftNotices(inc_, plan, ctx_, testing::SourceDir() + "/templates/breach"));
  bool annual = false;
  for (const NoticeDraft& d : drafts) {
    if (d.filename == "ftc-notice.md") {
      annual = d.markdown.find("fewer than 500") != std::string::npos &&
               d.markdown.find("2027-03-01") != std::string::npos;
    }
  }
  EXPECT_TRUE(annual);
}

TEST_F(NoticesTest, MissingTemplateIsNotFound) {
  PHIGATE_ASSERT_OK_AND_ASSIGN(PlanResult plan, ComputeObligations(table_, inc_.ToFacts()));
  EXPECT_EQ(DraftNotices(inc_, plan, ctx_, "/nonexistent").status().code(),
            absl::StatusCode::kNotFound);
}

TEST(PlanMarkdownTest, ShowsDaysLeftAndVersion) {
  auto table = RuleTable::Load(testing::SourceDir() + "/data/breach/breach-deadlines.tsv").value();
  IncidentFacts f;
  f.discovery = ParseDate("2026-03-02").value();
  f.residents_by_state = {{"WI", 3}};
  PlanResult p = ComputeObligations(table, f).value();
  const std::string md = PlanMarkdown(p, ParseDate("2026-03-12").value());
  EXPECT_NE(md.find("| 2026-05-01 | 50 |"), std::string::npos);
  EXPECT_NE(md.find("2026-11-30.1"), std::string::npos);
}

}  // namespace
}  // namespace phigate::breach
