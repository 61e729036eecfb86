#include "phigate/detect/evaluation.h"

#include <cmath>
#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/testing/status_matchers.h"

namespace phigate::detect {
namespace {

GoldRecord Gold(std::string id, std::string text, std::vector<GoldSpan> spans) {
  return GoldRecord{std::move(id), std::move(text), std::move(spans)};
}

EvalResult Score(const std::vector<GoldRecord>& gold,
                 const std::vector<std::vector<PredSpan>>& pred, ScoreOptions opts = {}) {
  Scorer scorer(opts);
  for (size_t i = 0; i < gold.size(); ++i) {
    Status s = scorer.Add(gold[i], i < pred.size() ? &pred[i] : nullptr);
    EXPECT_TRUE(s.ok()) << s;
  }
  return scorer.Finish();
}

TEST(EvaluationTest, PerfectPredictionIsFullRecallAndPrecision) {
  // "Pt John Smith seen" : NAME at [3, 13).
  auto r = Score({Gold("a", "Pt John Smith seen", {{3, 13, "NAME"}})}, {{{3, 13, "NAME"}}});
  EXPECT_EQ(r.chars.gold, 9);  // "JohnSmith": the space is not counted
  EXPECT_EQ(r.chars.caught, 9);
  EXPECT_EQ(r.chars.pred, 9);
  EXPECT_DOUBLE_EQ(r.chars.recall(), 1.0);
  EXPECT_DOUBLE_EQ(r.chars.precision(), 1.0);
  EXPECT_EQ(r.tokens.gold, 2);
  EXPECT_EQ(r.entities_total, 1);
  EXPECT_EQ(r.entities_full, 1);
  EXPECT_EQ(r.entities_missed(), 0);
  EXPECT_EQ(r.per_type["NAME"].tokens_caught_typed, 2);
}

TEST(EvaluationTest, PartialOverlapAndFalsePositive) {
  // text: "Dr Ann Lee on 3/14 ok" ; NAME [3,10) "Ann Lee", DATE [14,18) "3/14".
  const std::string text = "Dr Ann Lee on 3/14 ok";
  auto r = Score({Gold("a", text, {{3, 10, "NAME"}, {14, 18, "DATE"}})},
                 {{{3, 6, "NAME"}, {19, 21, "ID"}}});
  // Gold chars: AnnLee (6) + 3/14 (4) = 10; caught: Ann (3).
  EXPECT_EQ(r.chars.gold, 10);
  EXPECT_EQ(r.chars.caught, 3);
  // Predicted chars: Ann (3, in gold) + ok (2, outside).
  EXPECT_EQ(r.chars.pred, 5);
  EXPECT_EQ(r.chars.pred_in_gold, 3);
  EXPECT_DOUBLE_EQ(r.chars.precision(), 0.6);
  EXPECT_EQ(r.entities_total, 2);
  EXPECT_EQ(r.entities_any, 1);
  EXPECT_EQ(r.entities_full, 0);
  EXPECT_EQ(r.entities_missed(), 1);
  // Tokens: Ann Lee 3 14 are gold (4); caught: Ann. Predicted tokens: Ann, ok.
  EXPECT_EQ(r.tokens.gold, 4);
  EXPECT_EQ(r.tokens.caught, 1);
  EXPECT_EQ(r.tokens.pred, 2);
  EXPECT_EQ(r.per_pred_type["ID"].tokens, 1);
  EXPECT_EQ(r.per_pred_type["ID"].tokens_gold, 0);
  EXPECT_EQ(r.per_type["DATE"].entities_any, 0);
}

TEST(EvaluationTest, NeutralSpansAreNeitherRecallNorFalsePositive) {
  // "age 45 in 1999": AGE 45 neutral, year-only DATE neutral.
  const std::string text = "age 45 in 1999";
  GoldSpan age{4, 6, "AGE", false, false};
  GoldSpan year{10, 14, "DATE", false, true};
  auto r = Score({Gold("a", text, {age, year})}, {{{4, 6, "AGE"}, {10, 14, "DATE"}}});
  EXPECT_EQ(r.chars.gold, 0);
  EXPECT_EQ(r.chars.pred, 0);  // inside neutral spans: not counted
  EXPECT_TRUE(std::isnan(r.chars.recall()));
  EXPECT_EQ(r.no_phi_records, 1);
  EXPECT_EQ(r.no_phi_flagged, 0);

  // --years-as-phi turns the year into PHI.
  ScoreOptions opts;
  opts.years_as_phi = true;
  auto y = Score({Gold("a", text, {age, year})}, {{{10, 14, "DATE"}}}, opts);
  EXPECT_EQ(y.chars.gold, 4);
  EXPECT_EQ(y.chars.caught, 4);
  EXPECT_EQ(y.no_phi_records, 0);
}

TEST(EvaluationTest, NoPhiRecordFlaggedWhenPredictionOutsideNeutral) {
  auto r = Score({Gold("a", "all quiet", {})}, {{{0, 3, "NAME"}}});
  EXPECT_EQ(r.no_phi_records, 1);
  EXPECT_EQ(r.no_phi_flagged, 1);
  EXPECT_EQ(r.chars.pred, 3);
  EXPECT_DOUBLE_EQ(r.chars.precision(), 0.0);
}

TEST(EvaluationTest, MissingPredictionCountsAndScoresAsNothing) {
  auto r = Score({Gold("a", "Bo", {{0, 2, "NAME"}})}, {});
  EXPECT_EQ(r.missing_predictions, 1);
  EXPECT_EQ(r.chars.gold, 2);
  EXPECT_EQ(r.chars.caught, 0);
  EXPECT_EQ(r.entities_missed(), 1);
}

TEST(EvaluationTest, Utf8OffsetsMapToCodePoints) {
  // "José Núñez x": code points J o s é _ N ú ñ e z _ x; é, ú, ñ are 2 bytes.
  const std::string text =
      "Jos\xC3\xA9 N\xC3\xBA\xC3\xB1"
      "ez x";
  GoldSpan name{0, 10, "NAME"};
  ScoreOptions opts;
  opts.unit = OffsetUnit::kUtf8;
  // Bytes: "José" = 0..5, " " = 5, "Núñez" = 6..13.
  auto r = Score({Gold("a", text, {name})}, {{{0, 13, "NAME"}}}, opts);
  EXPECT_EQ(r.chars.gold, 9);
  EXPECT_EQ(r.chars.caught, 9);
  EXPECT_EQ(r.chars.pred, 9);
  // A byte offset inside a character maps to that character (score.py floors):
  // end=4 is the middle of "é", so "é" is not covered.
  auto m = Score({Gold("a", text, {name})}, {{{0, 4, "NAME"}}}, opts);
  EXPECT_EQ(m.chars.caught, 3);
  // Code point offsets by default.
  auto c = Score({Gold("a", text, {name})}, {{{0, 10, "NAME"}}});
  EXPECT_EQ(c.chars.caught, 9);
}

TEST(EvaluationTest, Utf16OffsetsCountAstralCharactersTwice) {
  // U+1F600 (4 UTF-8 bytes, 2 UTF-16 units) then "Al".
  const std::string text = "\xF0\x9F\x98\x80 Al";
  ScoreOptions opts;
  opts.unit = OffsetUnit::kUtf16;
  auto r = Score({Gold("a", text, {{2, 4, "NAME"}})}, {{{3, 5, "NAME"}}}, opts);
  EXPECT_EQ(r.chars.caught, 2);
}

TEST(EvaluationTest, TypedTokenRecallNeedsMatchingType) {
  auto r = Score({Gold("a", "call 555 0199", {{5, 13, "PHONE"}})}, {{{5, 13, "ID"}}});
  EXPECT_EQ(r.per_type["PHONE"].tokens_gold, 2);
  EXPECT_EQ(r.per_type["PHONE"].tokens_caught, 2);
  EXPECT_EQ(r.per_type["PHONE"].tokens_caught_typed, 0);
}

TEST(EvaluationTest, CollectsMissesWithOffsetsOnly) {
  ScoreOptions opts;
  opts.collect_misses = true;
  auto r =
      Score({Gold("n1", "Bo saw Al", {{0, 2, "NAME"}, {7, 9, "NAME"}})}, {{{0, 2, "NAME"}}}, opts);
  ASSERT_EQ(r.misses.size(), 1u);
  EXPECT_EQ(r.misses[0].id, "n1");
  EXPECT_EQ(r.misses[0].start, 7);
  EXPECT_EQ(r.misses[0].end, 9);
  EXPECT_THAT(r.ToJson(), ::testing::HasSubstr("\"misses\""));
}

TEST(EvaluationTest, GoldSpanOutsideTextIsAnError) {
  Scorer scorer({});
  GoldRecord g = Gold("a", "abc", {{1, 9, "NAME"}});
  std::vector<PredSpan> p;
  EXPECT_EQ(scorer.Add(g, &p).code(), absl::StatusCode::kInvalidArgument);
}

TEST(EvaluationTest, ParsesGoldAndPredictionLines) {
  PHIGATE_ASSERT_OK_AND_ASSIGN(
      GoldRecord g,
      ParseGoldLine(
          R"({"id": 7, "text": "Bo 1999", "spans": [{"start": 0, "end": 2, "type": "NAME"},
        {"start": 3, "end": 7, "type": "DATE", "phi": false, "year_only": true}]})"));
  EXPECT_EQ(g.id, "7");
  ASSERT_EQ(g.spans.size(), 2u);
  EXPECT_TRUE(g.spans[0].phi);
  EXPECT_FALSE(g.spans[1].phi);
  EXPECT_TRUE(g.spans[1].year_only);

  std::string id;
  std::vector<PredSpan> spans;
  PHIGATE_ASSERT_OK(
      ParsePredLine(R"({"id": "x", "spans": [{"start": 1, "end": 2}]})", &id, &spans));
  EXPECT_EQ(id, "s:x");
  ASSERT_EQ(spans.size(), 1u);
  EXPECT_EQ(spans[0].type, "");
  // Matched as score.py's dict matches them: "1" is not 1, 2.0 is 2.
  PHIGATE_ASSERT_OK_AND_ASSIGN(GoldRecord one,
                               ParseGoldLine(R"({"id": 1, "text": "a", "spans": []})"));
  PHIGATE_ASSERT_OK(ParsePredLine(R"({"id": "1", "spans": []})", &id, &spans));
  EXPECT_NE(id, one.key);
  PHIGATE_ASSERT_OK(ParsePredLine(R"({"id": 1.0, "spans": []})", &id, &spans));
  EXPECT_EQ(id, one.key);
  EXPECT_EQ(one.id, "1");  // printed as before

  EXPECT_FALSE(ParseGoldLine("not json").ok());
  EXPECT_FALSE(ParseGoldLine(R"({"id": 1, "text": "a"})").ok());
  EXPECT_FALSE(
      ParsePredLine(R"({"id": 1, "spans": [{"start": "1", "end": 2}]})", &id, &spans).ok());
}

TEST(EvaluationTest, PythonCharacterClasses) {
  EXPECT_TRUE(PyIsSpace(U' '));
  EXPECT_TRUE(PyIsSpace(0x1F));
  EXPECT_TRUE(PyIsSpace(0xA0));
  EXPECT_TRUE(PyIsSpace(0x3000));
  EXPECT_FALSE(PyIsSpace(0x200B));  // zero-width space is not whitespace in Python
  EXPECT_TRUE(PyIsAlnum(U'a'));
  EXPECT_TRUE(PyIsAlnum(0xE9));    // é
  EXPECT_TRUE(PyIsAlnum(0xB2));    // superscript two is numeric
  EXPECT_TRUE(PyIsAlnum(0x4E00));  // CJK
  EXPECT_FALSE(PyIsAlnum(U'_'));
  EXPECT_FALSE(PyIsAlnum(U'-'));
  EXPECT_FALSE(PyIsAlnum(0xD7));  // multiplication sign
}

TEST(EvaluationTest, FindingsBecomeTypedByteSpans) {
  Findings f = {Finding{PhiCategory::kStreetAddress, 4, 9, 0.9f, "x"}};
  auto spans = FindingsToPredSpans(f);
  ASSERT_EQ(spans.size(), 1u);
  EXPECT_EQ(spans[0].start, 4);
  EXPECT_EQ(spans[0].end, 9);
  EXPECT_EQ(spans[0].type, "LOCATION");
}

}  // namespace
}  // namespace phigate::detect
