// Viterbi decoding under BIO constraints, margins and token labelling.
#include <vector>

#include "gtest/gtest.h"
#include "phigate/model/labels.h"
#include "phigate/model/trainer.h"
#include "src/model/model_format.h"

namespace phigate::model {
namespace {

constexpr int L = kNumLabels;

std::vector<float> Emissions(const std::vector<int>& argmax, float strength) {
  std::vector<float> e(argmax.size() * L, 0.0f);
  for (size_t t = 0; t < argmax.size(); ++t) e[t * L + static_cast<size_t>(argmax[t])] = strength;
  return e;
}

std::vector<int> Decode(const std::vector<float>& emit, size_t n) {
  std::array<float, kNumTransRows * L> raw{}, trans{};
  FillDecodeTrans(raw.data(), trans.data());
  DecodeScratch s;
  std::vector<int> labels;
  Viterbi(emit.data(), n, trans.data(), &s, &labels);
  return labels;
}

TEST(ViterbiTest, FollowsEmissionsWhenAllowed) {
  const int bn = BeginLabel(EntityType::kName), in = InsideLabel(EntityType::kName);
  const int bd = BeginLabel(EntityType::kDate);
  const std::vector<int> want = {kOutside, bn, in, kOutside, bd};
  EXPECT_EQ(Decode(Emissions(want, 5.0f), want.size()), want);
}

TEST(ViterbiTest, NeverStartsWithInsideOrSwitchesTypeInside) {
  const int in = InsideLabel(EntityType::kName), il = InsideLabel(EntityType::kLocation);
  const int bn = BeginLabel(EntityType::kName);
  // I-NAME at the start and I-LOCATION after B-NAME are forbidden.
  const std::vector<int> asked = {in, kOutside, bn, il};
  const std::vector<int> got = Decode(Emissions(asked, 5.0f), asked.size());
  EXPECT_NE(got[0], in);
  EXPECT_FALSE(got[2] == bn && got[3] == il);
  for (size_t t = 0; t < got.size(); ++t) {
    EXPECT_TRUE(Allowed(t == 0 ? kNumLabels : got[t - 1], got[t])) << t;
  }
}

TEST(ViterbiTest, EmptySequence) { EXPECT_TRUE(Decode({}, 0).empty()); }

TEST(MarginsTest, PositiveForTaggedTokensAndGrowWithEvidence) {
  const int bn = BeginLabel(EntityType::kName);
  std::array<float, kNumTransRows * L> raw{}, trans{};
  FillDecodeTrans(raw.data(), trans.data());
  DecodeScratch s;
  std::vector<int> labels;
  std::vector<float> weak, strong;
  auto e1 = Emissions({kOutside, bn}, 1.0f);
  Viterbi(e1.data(), 2, trans.data(), &s, &labels);
  Margins(e1.data(), 2, trans.data(), labels, &s, &weak);
  auto e2 = Emissions({kOutside, bn}, 4.0f);
  Viterbi(e2.data(), 2, trans.data(), &s, &labels);
  Margins(e2.data(), 2, trans.data(), labels, &s, &strong);
  EXPECT_EQ(weak[0], 0.0f);
  EXPECT_FLOAT_EQ(weak[1], 1.0f);
  EXPECT_FLOAT_EQ(strong[1], 4.0f);
}

TEST(LabelTokensTest, BeginThenInsideForOverlappingTokens) {
  const std::string text = "seen 7/22 by Quintavia Zorblat .";
  std::vector<Token> toks;
  Tokenize(text, &toks);
  const std::vector<LabeledSpan> spans = {{5, 9, EntityType::kDate}, {13, 30, EntityType::kName}};
  const std::vector<int> labels = LabelTokens(toks, spans);
  const int bd = BeginLabel(EntityType::kDate), id = InsideLabel(EntityType::kDate);
  const int bn = BeginLabel(EntityType::kName), in = InsideLabel(EntityType::kName);
  EXPECT_EQ(labels, (std::vector<int>{kOutside, bd, id, id, kOutside, bn, in, kOutside}));
}

TEST(LabelTokensTest, AdjacentSpansEachBegin) {
  const std::string text = "Ann Bo";
  std::vector<Token> toks;
  Tokenize(text, &toks);
  const std::vector<int> labels =
      LabelTokens(toks, {{0, 3, EntityType::kName}, {4, 6, EntityType::kName}});
  EXPECT_EQ(labels,
            (std::vector<int>{BeginLabel(EntityType::kName), BeginLabel(EntityType::kName)}));
}

TEST(LabelsTest, NamesAndCategories) {
  EXPECT_EQ(LabelName(0), "O");
  EXPECT_EQ(LabelName(BeginLabel(EntityType::kSsn)), "B-SSN");
  EXPECT_EQ(LabelName(InsideLabel(EntityType::kId)), "I-ID");
  EXPECT_EQ(ParseEntityType("LOCATION"), EntityType::kLocation);
  EXPECT_EQ(ParseEntityType("ORG"), std::nullopt);
  EXPECT_EQ(ToCategory(EntityType::kId), PhiCategory::kOtherId);
  EXPECT_EQ(ToCategory(EntityType::kName), PhiCategory::kName);
  for (int t = 0; t < kNumEntityTypes; ++t) {
    const auto e = static_cast<EntityType>(t);
    EXPECT_EQ(ParseEntityType(EntityTypeName(e)), e);
  }
}

}  // namespace
}  // namespace phigate::model
