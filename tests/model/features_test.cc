#include "phigate/model/features.h"

#include <string>
#include <vector>

#include "gtest/gtest.h"

namespace phigate::model {
namespace {

std::vector<std::string> Words(std::string_view text) {
  std::vector<Token> toks;
  Tokenize(text, &toks);
  std::vector<std::string> out;
  for (const Token& t : toks) out.emplace_back(text.substr(t.begin, t.end - t.begin));
  return out;
}

TEST(TokenizeTest, SplitsWordsAndPunctuation) {
  EXPECT_EQ(Words("Dr. Alvarez seen 3/14/2024, MRN4429871"),
            (std::vector<std::string>{"Dr", ".", "Alvarez", "seen", "3", "/", "14", "/", "2024",
                                      ",", "MRN4429871"}));
}

TEST(TokenizeTest, OffsetsAndLineFlags) {
  std::vector<Token> toks;
  Tokenize("ab  c\nd-e", &toks);
  ASSERT_EQ(toks.size(), 5u);
  EXPECT_EQ(toks[0].begin, 0u);
  EXPECT_EQ(toks[0].end, 2u);
  EXPECT_EQ(toks[0].flags, kTokenLineStart);
  EXPECT_EQ(toks[1].begin, 4u);
  EXPECT_EQ(toks[1].flags, kTokenSpaceBefore);
  EXPECT_EQ(toks[2].flags, kTokenLineStart | kTokenSpaceBefore);  // "d"
  EXPECT_EQ(toks[3].flags, 0);                                    // "-" glued
}

TEST(TokenizeTest, InvalidUtf8AndNulAreSafe) {
  const std::string text("Jos\xC3\xA9\0\xFF\xFE x", 10);
  std::vector<Token> toks;
  Tokenize(text, &toks);
  ASSERT_EQ(toks.size(), 3u);
  EXPECT_EQ(toks[0].end, 5u);    // "José": the UTF-8 bytes belong to the word
  EXPECT_EQ(toks[1].begin, 6u);  // NUL separates; 0xFF 0xFE form a word
  EXPECT_EQ(toks[1].end, 8u);
  EXPECT_EQ(toks[2].begin, 9u);
  EXPECT_TRUE(Words("").empty());
  EXPECT_TRUE(Words(std::string("\0\0\n", 3)).empty());
}

TEST(ShapeTest, LongAndShortShapes) {
  EXPECT_EQ(WordShape("Smith"), "Xxxxx");
  EXPECT_EQ(WordShape("Alexandria"), "Xxxxx");
  EXPECT_EQ(WordShape("2024"), "dddd");
  EXPECT_EQ(WordShape("3rd"), "dxx");
  EXPECT_EQ(WordShape("O'Neil"), "X'Xxxx");
  EXPECT_EQ(ShortShape("Smith"), "Xx");
  EXPECT_EQ(ShortShape("MRN4429871"), "Xd");
  EXPECT_EQ(ShortShape("07/22"), "d/d");
}

TEST(GazetteerTest, CaseInsensitiveAndBuiltIns) {
  Gazetteer g;
  g.Add("Quintavia", kGazFirstName);
  g.Add("quintavia", kGazSurname);
  EXPECT_EQ(g.Lookup("QUINTAVIA"), kGazFirstName | kGazSurname);
  EXPECT_EQ(g.Lookup("Zorblat"), 0);
  EXPECT_NE(g.Lookup("Dr") & kGazTrigger, 0);
  EXPECT_NE(g.Lookup("JANUARY") & kGazMonth, 0);
}

TEST(GazetteerTest, MissingDirectoryLoadsNothing) {
  Gazetteer g;
  int files = -1;
  ASSERT_TRUE(g.LoadDirectory("/nonexistent/phigate/gazetteers", &files).ok());
  EXPECT_EQ(files, 0);
}

std::vector<uint32_t> Rows(const FeatureExtractor& fx, std::string_view text, bool unk = false) {
  std::vector<Token> toks;
  Tokenize(text, &toks);
  std::vector<uint32_t> rows;
  fx.Extract(text, toks, &rows, unk);
  return rows;
}

std::vector<uint32_t> TokenRows(const std::vector<uint32_t>& rows, size_t i) {
  return {rows.begin() + static_cast<long>(i * kFeaturesPerToken),
          rows.begin() + static_cast<long>((i + 1) * kFeaturesPerToken)};
}

TEST(FeatureExtractorTest, FixedCountInRangeDeterministic) {
  Gazetteer g;
  FeatureExtractor fx(&g, 12);
  const auto a = Rows(fx, "Pt Quintavia Zorblat seen 7/22 by Dr. Ixworth");
  EXPECT_EQ(a.size(), 11u * kFeaturesPerToken);
  for (uint32_t r : a) EXPECT_LT(r, 1u << 12);
  EXPECT_EQ(a, Rows(fx, "Pt Quintavia Zorblat seen 7/22 by Dr. Ixworth"));
}

TEST(FeatureExtractorTest, ContextWindowChangesOnlyNearbyTokens) {
  Gazetteer g;
  FeatureExtractor fx(&g, 20);
  // Tokens: a b c d e f g ; change "a" -> "z": token 3 ("d") is 3 away and
  // keeps the same features; token 1 ("b") sees it in its window.
  const auto x = Rows(fx, "a b c d e f g");
  const auto y = Rows(fx, "z b c d e f g");
  EXPECT_NE(TokenRows(x, 1), TokenRows(y, 1));
  EXPECT_NE(TokenRows(x, 0), TokenRows(y, 0));
  // The line's first word is a feature of every token, so compare the rest.
  auto d1 = TokenRows(x, 5), d2 = TokenRows(y, 5);
  size_t diff = 0;
  for (size_t k = 0; k < d1.size(); ++k) diff += d1[k] != d2[k] ? 1 : 0;
  EXPECT_EQ(diff, 1u);
}

TEST(FeatureExtractorTest, GazetteerHitChangesFeatures) {
  Gazetteer empty;
  Gazetteer names;
  names.Add("quintavia", kGazFirstName);
  FeatureExtractor a(&empty, 20), b(&names, 20);
  EXPECT_NE(TokenRows(Rows(a, "saw Quintavia today"), 1),
            TokenRows(Rows(b, "saw Quintavia today"), 1));
  EXPECT_EQ(Rows(a, "saw Bob today"), Rows(b, "saw Bob today"));
}

TEST(FeatureExtractorTest, UnknownWordsHidesIdentityKeepsContext) {
  Gazetteer g;
  FeatureExtractor fx(&g, 20);
  const auto a = TokenRows(Rows(fx, "Dr. Quintavia said", true), 2);
  const auto b = TokenRows(Rows(fx, "Dr. Zorblatt said", true), 2);
  // Same shape length class differs ("Quintavia" vs "Zorblatt"), but many
  // features (identity, context) are now equal.
  size_t same = 0;
  for (size_t k = 0; k < a.size(); ++k) same += a[k] == b[k] ? 1 : 0;
  EXPECT_GT(same, kFeaturesPerToken / 2u);
  EXPECT_NE(Rows(fx, "Dr. Quintavia said", true), Rows(fx, "Dr. Quintavia said", false));
}

}  // namespace
}  // namespace phigate::model
