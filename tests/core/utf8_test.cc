#include "phigate/core/utf8.h"

#include "gtest/gtest.h"

namespace phigate {
namespace {

TEST(Utf8Test, ValidTextHasNoInvalidOffset) {
  EXPECT_EQ(FindInvalidUtf8(""), std::string_view::npos);
  EXPECT_EQ(FindInvalidUtf8("plain ascii text that is long enough"), std::string_view::npos);
  EXPECT_EQ(FindInvalidUtf8("Sz\xC3\xB6ll\xC3\xB6sy \xE2\x82\xAC \xF0\x9F\x98\x80"),
            std::string_view::npos);
}

TEST(Utf8Test, ReportsFirstInvalidByte) {
  EXPECT_EQ(FindInvalidUtf8("abc\xFF"), 3u);
  EXPECT_EQ(FindInvalidUtf8("abcdefghij\xC3"), 10u);    // truncated
  EXPECT_EQ(FindInvalidUtf8("x\xC0\xAF"), 1u);          // overlong '/'
  EXPECT_EQ(FindInvalidUtf8("x\xED\xA0\x80"), 1u);      // surrogate
  EXPECT_EQ(FindInvalidUtf8("x\xF4\x90\x80\x80"), 1u);  // > U+10FFFF
}

TEST(Utf8Test, SanitizeReplacesOnlyInvalidBytes) {
  EXPECT_EQ(SanitizeUtf8("a\xFF"
                         "b"),
            "a\xEF\xBF\xBD"
            "b");
  EXPECT_EQ(SanitizeUtf8("\xC3\xB6"), "\xC3\xB6");
}

TEST(Utf8Test, CountsTheBytesSanitizeReplaces) {
  EXPECT_EQ(CountInvalidUtf8("plain \xc3\xa9 text"), 0u);
  EXPECT_EQ(CountInvalidUtf8("a\xff\xfe b \xc0\xaf c\xe2\x82"), 6u);
  const std::string mixed = "x\xffy \xc3\xa9 \xed\xa0\x80 z\x80";
  const std::string s = SanitizeUtf8(mixed);
  EXPECT_EQ(CountInvalidUtf8(mixed), (s.size() - mixed.size()) / 2);
}

TEST(Utf8Test, OffsetMapConvertsBothWays) {
  const std::string_view text =
      "a\xC3\xB6"
      "b\xE2\x82\xAC"
      "c";  // a ö b € c
  Utf8OffsetMap map(text);
  EXPECT_EQ(map.code_points(), 5u);
  EXPECT_EQ(map.ToByte(0), 0u);
  EXPECT_EQ(map.ToByte(2), 3u);
  EXPECT_EQ(map.ToByte(4), 7u);
  EXPECT_EQ(map.ToByte(5), text.size());
  EXPECT_EQ(map.ToCodePoint(3), 2u);
  EXPECT_EQ(map.ToCodePoint(7), 4u);
  EXPECT_EQ(map.ToCodePoint(text.size()), 5u);
}

}  // namespace
}  // namespace phigate
