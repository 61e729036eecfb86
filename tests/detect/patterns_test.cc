// MatchableBytes(): the byte set the rule engine trusts to bound where a
// pattern's match can start. It must hold every byte of every real match.
#include "src/detect/patterns.h"

#include <algorithm>
#include <bitset>
#include <string>

#include "gtest/gtest.h"
#include "re2/re2.h"
#include "tests/detect/generated_notes.h"

namespace phigate::detect {
namespace {

std::string Members(const std::bitset<256>& set) {
  std::string s;
  for (size_t b = 0; b < 256; ++b) {
    if (set.test(b)) s.push_back(static_cast<char>(b));
  }
  return s;
}

TEST(MatchableBytesTest, ClassesRangesAndEscapes) {
  EXPECT_EQ(Members(MatchableBytes(
                {"ip", R"(\b(?:[0-9]{1,3}\.){3}[0-9]{1,3}\b)", PhiCategory::kIp, 0.5f, true})),
            ".0123456789");
  EXPECT_EQ(Members(MatchableBytes({"x", R"([a-c\-]x\x41{2,3})", PhiCategory::kIp, 0.5f, false})),
            "-Aabcx");
  // Caseless: both cases, Latin-1 letters included.
  EXPECT_EQ(Members(MatchableBytes({"x", "ab\\xe9", PhiCategory::kIp, 0.5f, true})),
            "ABab\xc9\xe9");
  EXPECT_EQ(Members(MatchableBytes({"x", R"(a\s)", PhiCategory::kIp, 0.5f, false})),
            "\t\n\v\f\r a");
}

TEST(MatchableBytesTest, NegatedClassAndUnknownConstructsAdmitMore) {
  const std::bitset<256> neg = MatchableBytes({"x", R"([^\s<>])", PhiCategory::kUrl, 0.5f, true});
  EXPECT_FALSE(neg.test(' '));
  EXPECT_FALSE(neg.test('<'));
  EXPECT_TRUE(neg.test('a'));
  EXPECT_TRUE(neg.test(0xff));
  EXPECT_TRUE(MatchableBytes({"x", "a.b", PhiCategory::kUrl, 0.5f, true}).all());
  EXPECT_TRUE(MatchableBytes({"x", "(?i)ab", PhiCategory::kUrl, 0.5f, true}).all());
  EXPECT_TRUE(MatchableBytes({"x", R"(\S+)", PhiCategory::kUrl, 0.5f, true}).all());
  EXPECT_TRUE(MatchableBytes({"x", "[[:alpha:]]", PhiCategory::kUrl, 0.5f, true}).all());
}

// Every byte of every match of every default pattern on generated notes
// (synthetic values only) lies in the pattern's set.
TEST(MatchableBytesTest, HoldsEveryMatchOfTheDefaultPatterns) {
  const std::string text = testing::GeneratedNotes(11, 400);
  ASSERT_FALSE(text.empty());
  size_t checked = 0;
  for (const PatternSpec& spec : DefaultPatterns()) {
    RE2::Options ro;
    ro.set_case_sensitive(!spec.caseless);
    ro.set_encoding(RE2::Options::EncodingLatin1);
    ro.set_max_mem(8 << 20);
    const RE2 re(re2::StringPiece(spec.regex.data(), spec.regex.size()), ro);
    ASSERT_TRUE(re.ok()) << spec.name;
    const std::bitset<256> set = MatchableBytes(spec);
    re2::StringPiece input(text), m;
    size_t pos = 0;
    while (pos < text.size() && re.Match(input, pos, text.size(), RE2::UNANCHORED, &m, 1)) {
      const size_t b = static_cast<size_t>(m.data() - text.data());
      for (const char c : m) {
        ASSERT_TRUE(set.test(static_cast<unsigned char>(c)))
            << spec.name << ": byte " << static_cast<int>(static_cast<unsigned char>(c))
            << " at offset " << b;
      }
      ++checked;
      pos = std::max(b + m.size(), pos + 1);
    }
  }
  EXPECT_GT(checked, 1000u);
}

TEST(GroupIsWholeMatchTest, Shapes) {
  EXPECT_TRUE(GroupIsWholeMatch(R"(\b([0-9]{3}-[0-9]{2})\b)"));
  EXPECT_TRUE(GroupIsWholeMatch(R"((\(01\)[0-9]{14}))"));
  EXPECT_TRUE(GroupIsWholeMatch(R"(^(a|b)$)"));
  EXPECT_TRUE(GroupIsWholeMatch(R"(\b([)\]]+))"));
  EXPECT_FALSE(GroupIsWholeMatch(R"(\bmrn\s*([0-9]+))"));
  EXPECT_FALSE(GroupIsWholeMatch(R"((a)(b))"));
  EXPECT_FALSE(GroupIsWholeMatch(R"((a)b)"));
  EXPECT_FALSE(GroupIsWholeMatch(R"((?:a)\b)"));
  EXPECT_FALSE(GroupIsWholeMatch(R"((a\))"));
  EXPECT_FALSE(GroupIsWholeMatch(R"((a)\\b)"));  // a literal backslash, then 'b'
  EXPECT_FALSE(GroupIsWholeMatch("(a"));
  EXPECT_FALSE(GroupIsWholeMatch(""));
}

// Where GroupIsWholeMatch() holds for a default pattern, RE2's group 1 is its
// whole match on generated notes.
TEST(GroupIsWholeMatchTest, AgreesWithRe2OnTheDefaultPatterns) {
  const std::string text = testing::GeneratedNotes(12, 400);
  ASSERT_FALSE(text.empty());
  size_t patterns = 0, checked = 0;
  for (const PatternSpec& spec : DefaultPatterns()) {
    if (!GroupIsWholeMatch(spec.regex)) continue;
    ++patterns;
    RE2::Options ro;
    ro.set_case_sensitive(!spec.caseless);
    ro.set_encoding(RE2::Options::EncodingLatin1);
    ro.set_max_mem(8 << 20);
    const RE2 re(re2::StringPiece(spec.regex.data(), spec.regex.size()), ro);
    ASSERT_TRUE(re.ok()) << spec.name;
    ASSERT_GE(re.NumberOfCapturingGroups(), 1) << spec.name;
    re2::StringPiece input(text), m[2];
    size_t pos = 0;
    while (pos < text.size() && re.Match(input, pos, text.size(), RE2::UNANCHORED, m, 2)) {
      ASSERT_EQ(m[0].data(), m[1].data()) << spec.name;
      ASSERT_EQ(m[0].size(), m[1].size()) << spec.name;
      ++checked;
      pos = std::max(static_cast<size_t>(m[0].data() - text.data()) + m[0].size(), pos + 1);
    }
  }
  EXPECT_GE(patterns, 20u);
  EXPECT_GT(checked, 500u);
}

}  // namespace
}  // namespace phigate::detect
