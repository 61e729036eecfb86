// Stacking: a model trained with the rule engine's findings as features
// (feature set 2) learns from them, records the rules it was trained with, and
// survives save/load. All values are invented.
#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "phigate/model/features.h"
#include "phigate/model/tagger.h"
#include "phigate/model/trainer.h"
#include "tests/testing/status_matchers.h"

namespace phigate::model {
namespace {

constexpr int kStackedFeatures = kFeaturesPerToken + kHintFeatures;

TEST(TokenHintsTest, MarksCoveredTokensWithBeginAndBucket) {
  const std::string text = "Seen by Qorv Blenn on 3/4 today";
  std::vector<Token> tokens;
  Tokenize(text, &tokens);  // Seen by Qorv Blenn on 3 / 4 today
  const std::vector<Finding> rules = {
      {PhiCategory::kName, 8, 18, 0.9f, "name_rules"},
      {PhiCategory::kDate, 22, 25, 0.5f, "date_md"},
      {PhiCategory::kLocation, 8, 12, 0.3f, "weaker"},  // overlaps, loses
  };
  std::vector<RuleHint> hints;
  TokenHints(tokens, rules, &hints);
  ASSERT_EQ(hints.size(), tokens.size());
  EXPECT_EQ(hints[0].category, 0);
  EXPECT_EQ(hints[2].category, 1 + static_cast<int>(PhiCategory::kName));
  EXPECT_EQ(hints[2].begin, 1);
  EXPECT_EQ(hints[2].score_bucket, 3);
  EXPECT_EQ(hints[2].recognizer, HashLower("name_rules"));
  EXPECT_EQ(hints[3].category, 1 + static_cast<int>(PhiCategory::kName));
  EXPECT_EQ(hints[3].begin, 0);
  EXPECT_EQ(hints[5].category, 1 + static_cast<int>(PhiCategory::kDate));
  EXPECT_EQ(hints[5].begin, 1);
  EXPECT_EQ(hints[5].score_bucket, 1);
  EXPECT_EQ(hints[7].category, 1 + static_cast<int>(PhiCategory::kDate));
  EXPECT_EQ(hints[8].category, 0);
}

TEST(TokenHintsTest, StackedExtractorAddsHintFeaturesThatDependOnHints) {
  const std::string text = "code Wexal here";
  std::vector<Token> tokens;
  Tokenize(text, &tokens);
  Gazetteer gaz;
  FeatureExtractor plain(&gaz, 16), stacked(&gaz, 16, true);
  EXPECT_EQ(plain.features_per_token(), kFeaturesPerToken);
  EXPECT_EQ(stacked.features_per_token(), kStackedFeatures);
  std::vector<uint32_t> a, b, c;
  plain.Extract(text, tokens, &a);
  stacked.Extract(text, tokens, &b);
  ASSERT_EQ(b.size(), tokens.size() * kStackedFeatures);
  // The text features are the same as the plain extractor's.
  for (size_t t = 0; t < tokens.size(); ++t) {
    for (int k = 0; k < kFeaturesPerToken; ++k) {
      EXPECT_EQ(a[t * kFeaturesPerToken + k], b[t * kStackedFeatures + k]);
    }
  }
  std::vector<RuleHint> hints;
  const std::vector<Finding> rules = {{PhiCategory::kName, 5, 10, 0.9f, "name_rules"}};
  TokenHints(tokens, rules, &hints);
  stacked.Extract(text, tokens, &c, false, hints);
  int differ = 0;
  for (int k = kFeaturesPerToken; k < kStackedFeatures; ++k) {
    differ += b[kStackedFeatures + k] != c[kStackedFeatures + k] ? 1 : 0;
    EXPECT_LT(c[kStackedFeatures + k], 1u << 16);
  }
  EXPECT_EQ(differ, kHintFeatures);
}

// Notes where the same invented word is PHI exactly when the "rules" flag it:
// only the hint features can tell the two apart.
std::vector<Example> HintOnlySet(int n) {
  std::vector<Example> out;
  for (int i = 0; i < n; ++i) {
    Example ex;
    ex.id = std::to_string(i % 5) + "-" + std::to_string(i);
    const bool phi = i % 2 == 0;
    ex.text = "note says Brumble then stop";
    if (phi) {
      ex.spans.push_back({10, 17, EntityType::kName});
      ex.rule_findings.push_back({PhiCategory::kName, 10, 17, 0.7f, "name_rules"});
    }
    out.push_back(std::move(ex));
  }
  return out;
}

TEST(StackedTrainerTest, LearnsFromRuleFindingsAndRecordsTheRules) {
  TrainOptions o;
  o.hash_bits = 14;
  o.epochs = 5;
  o.seed = 5;
  o.recall_bias = 0.0f;
  o.word_dropout = 0.0f;
  o.stacked = true;
  o.rules_version = "hints=1;patterns=00000000deadbeef";
  const auto data = HintOnlySet(40);
  PHIGATE_ASSERT_OK_AND_ASSIGN(std::string bytes, Train(data, o, nullptr));
  PHIGATE_ASSERT_OK_AND_ASSIGN(auto tagger, Tagger::FromBytes(bytes));
  EXPECT_TRUE(tagger->stacked());
  EXPECT_EQ(tagger->rules_version(), o.rules_version);

  std::vector<Finding> found;
  PHIGATE_ASSERT_OK(tagger->Tag(data[0].text, TagOptions{}, data[0].rule_findings, &found));
  ASSERT_EQ(found.size(), 1u);
  EXPECT_EQ(found[0].begin, 10u);
  EXPECT_EQ(found[0].end, 17u);
  EXPECT_EQ(found[0].category, PhiCategory::kName);
  PHIGATE_ASSERT_OK(tagger->Tag(data[1].text, TagOptions{}, data[1].rule_findings, &found));
  EXPECT_TRUE(found.empty());

  // Deterministic, and a plain model of the same data is not stacked.
  PHIGATE_ASSERT_OK_AND_ASSIGN(std::string again, Train(data, o, nullptr));
  EXPECT_EQ(again, bytes);
  o.stacked = false;
  PHIGATE_ASSERT_OK_AND_ASSIGN(std::string plain, Train(data, o, nullptr));
  PHIGATE_ASSERT_OK_AND_ASSIGN(auto plain_tagger, Tagger::FromBytes(plain));
  EXPECT_FALSE(plain_tagger->stacked());
  EXPECT_EQ(plain_tagger->rules_version(), "");
}

TEST(StackedTrainerTest, EveryTruncationOfAStackedModelIsRefused) {
  TrainOptions o;
  o.hash_bits = 10;
  o.epochs = 1;
  o.stacked = true;
  o.rules_version = "hints=1;patterns=0123456789abcdef";
  PHIGATE_ASSERT_OK_AND_ASSIGN(std::string bytes, Train(HintOnlySet(4), o, nullptr));
  for (size_t cut = 0; cut < bytes.size(); cut += 97) {
    EXPECT_FALSE(Tagger::FromBytes(bytes.substr(0, cut)).ok()) << cut;
  }
}

}  // namespace
}  // namespace phigate::model
