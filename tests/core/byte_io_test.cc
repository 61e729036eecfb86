#include "phigate/core/byte_io.h"

#include <cstdint>
#include <limits>
#include <string>
#include <string_view>

#include "gtest/gtest.h"

namespace phigate {
namespace {

TEST(ByteIoTest, IntegersAreLittleEndianWhateverTheHost) {
  std::string out;
  PutLe<uint32_t>(&out, 0x01020304u);
  PutLe<int16_t>(&out, -2);
  PutLe<uint64_t>(&out, 0x1122334455667788ull);
  PutLe<uint8_t>(&out, 0xAB);
  EXPECT_EQ(out, std::string("\x04\x03\x02\x01"
                             "\xFE\xFF"
                             "\x88\x77\x66\x55\x44\x33\x22\x11"
                             "\xAB",
                             15));
}

TEST(ByteIoTest, FloatsAreTheirIeeeBits) {
  std::string out;
  PutLe<float>(&out, 1.0f);   // 0x3F800000
  PutLe<double>(&out, -2.0);  // 0xC000000000000000
  EXPECT_EQ(out, std::string("\x00\x00\x80\x3F"
                             "\x00\x00\x00\x00\x00\x00\x00\xC0",
                             12));
  ByteReader in(out);
  float f = 0;
  double d = 0;
  ASSERT_TRUE(in.Get(&f));
  ASSERT_TRUE(in.Get(&d));
  EXPECT_EQ(f, 1.0f);
  EXPECT_EQ(d, -2.0);
  EXPECT_TRUE(in.done());
}

TEST(ByteIoTest, RoundTripsEveryWidthAndExtremes) {
  std::string out;
  PutLe<int8_t>(&out, std::numeric_limits<int8_t>::min());
  PutLe<uint16_t>(&out, 0xFFFF);
  PutLe<int32_t>(&out, std::numeric_limits<int32_t>::min());
  PutLe<int64_t>(&out, std::numeric_limits<int64_t>::min());
  PutLe<uint64_t>(&out, std::numeric_limits<uint64_t>::max());
  PutLengthPrefixed<uint32_t>(&out, "abc");
  PutLengthPrefixed<uint8_t>(&out, "");
  ByteReader in(out, /*base=*/100);
  int8_t a = 0;
  uint16_t b = 0;
  int32_t c = 0;
  int64_t d = 0;
  uint64_t e = 0;
  std::string_view s1, s2 = "x";
  ASSERT_TRUE(in.Get(&a) && in.Get(&b) && in.Get(&c) && in.Get(&d) && in.Get(&e));
  EXPECT_EQ(a, std::numeric_limits<int8_t>::min());
  EXPECT_EQ(b, 0xFFFF);
  EXPECT_EQ(c, std::numeric_limits<int32_t>::min());
  EXPECT_EQ(d, std::numeric_limits<int64_t>::min());
  EXPECT_EQ(e, std::numeric_limits<uint64_t>::max());
  EXPECT_EQ(in.offset(), 100u + 1 + 2 + 4 + 8 + 8);
  ASSERT_TRUE(in.LengthPrefixed<uint32_t>(&s1));
  ASSERT_TRUE(in.LengthPrefixed<uint8_t>(&s2));
  EXPECT_EQ(s1, "abc");
  EXPECT_EQ(s2, "");
  EXPECT_TRUE(in.done());
  EXPECT_EQ(in.offset(), 100u + out.size());
}

TEST(ByteIoTest, ReadingPastTheEndFailsAndStaysFailed) {
  const std::string data("\x01\x02\x03", 3);
  ByteReader in(data);
  uint32_t v = 7;
  EXPECT_FALSE(in.Get(&v));
  EXPECT_EQ(v, 7u) << "a failed read leaves the value alone";
  EXPECT_FALSE(in.ok());
  uint8_t b = 0;
  EXPECT_FALSE(in.Get(&b)) << "the byte is there, but the reader has failed";
  EXPECT_FALSE(in.done());
  EXPECT_EQ(in.remaining(), 0u);
}

TEST(ByteIoTest, LengthBeyondTheInputFails) {
  std::string data;
  PutLe<uint64_t>(&data, 4);
  data += "abc";  // one byte short
  ByteReader in(data);
  std::string_view s;
  EXPECT_FALSE(in.LengthPrefixed<uint64_t>(&s));
  EXPECT_FALSE(in.ok());
  // A length near 2^64 must not wrap around the bounds check.
  std::string huge;
  PutLe<uint64_t>(&huge, std::numeric_limits<uint64_t>::max());
  huge += "abc";
  ByteReader in2(huge);
  EXPECT_FALSE(in2.LengthPrefixed<uint64_t>(&s));
}

TEST(ByteIoTest, CountsAreBoundedByWhatFollows) {
  std::string data;
  PutLe<uint64_t>(&data, 3);
  data.append(24, 'x');  // room for three items of 8 bytes
  {
    ByteReader in(data);
    size_t n = 0;
    EXPECT_TRUE(in.Count<uint64_t>(8, &n));
    EXPECT_EQ(n, 3u);
  }
  {
    ByteReader in(data);
    size_t n = 0;
    EXPECT_FALSE(in.Count<uint64_t>(9, &n)) << "three items of 9 bytes do not fit in 24";
    EXPECT_FALSE(in.ok());
  }
  {
    ByteReader in(data);
    size_t n = 0;
    EXPECT_TRUE(in.Count<uint64_t>(0, &n)) << "0 bytes per item is read as 1";
  }
}

TEST(ByteIoTest, Crc32cKnownAnswers) {
  EXPECT_EQ(Crc32c("123456789"), 0xE3069283u);
  EXPECT_EQ(Crc32c(""), 0u);
  // 32 bytes of zeros and of 0xFF (RFC 3720, B.4).
  EXPECT_EQ(Crc32c(std::string(32, '\0')), 0x8A9136AAu);
  EXPECT_EQ(Crc32c(std::string(32, '\xFF')), 0x62A8AB43u);
}

TEST(ByteIoTest, Crc32cContinuesAcrossPieces) {
  const std::string text = "the quick brown fox jumps over the lazy dog, 0123456789";
  for (size_t cut = 0; cut <= text.size(); ++cut) {
    const std::string_view a = std::string_view(text).substr(0, cut);
    const std::string_view b = std::string_view(text).substr(cut);
    EXPECT_EQ(Crc32c(b, Crc32c(a)), Crc32c(text)) << cut;
  }
}

}  // namespace
}  // namespace phigate
