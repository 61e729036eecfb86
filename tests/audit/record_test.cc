#include "phigate/audit/record.h"

#include "gtest/gtest.h"
#include "tests/audit/test_util.h"
#include "tests/testing/status_matchers.h"

namespace phigate::audit {
namespace {

using testing::Id;
using testing::SampleEvent;

TEST(AuditIdTest, AcceptsIdsRejectsText) {
  EXPECT_TRUE(AuditId::Make("u17").ok());
  EXPECT_TRUE(AuditId::Make("api.openai.com/v1/chat:completions_x-1").ok());
  EXPECT_FALSE(AuditId::Make("").ok());
  EXPECT_FALSE(AuditId::Make("two words").ok());
  EXPECT_FALSE(AuditId::Make("semi;colon").ok());
  EXPECT_FALSE(AuditId::Make(std::string(129, 'a')).ok());
  auto bad = AuditId::Make("Zorvan Quillet");
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(std::string(bad.status().message()).find("Zorvan"), std::string::npos);
}

TEST(RecordTest, RoundTripIsExactAndCanonical) {
  Record r{42, {}, SampleEvent("acme", 3)};
  r.prev_hash[5] = 9;
  // Out-of-order input encodes like the sorted one.
  Record shuffled = r;
  shuffled.event.reasons = {Id("zeta"), Id("alpha"), Id("zeta")};
  r.event.reasons = {Id("alpha"), Id("zeta")};
  PHIGATE_ASSERT_OK_AND_ASSIGN(std::string a, EncodeRecord(r));
  PHIGATE_ASSERT_OK_AND_ASSIGN(std::string b, EncodeRecord(shuffled));
  EXPECT_EQ(a, b);
  PHIGATE_ASSERT_OK_AND_ASSIGN(Record back, DecodeRecord(a));
  Record canon = r;
  canon.event.Canonicalize();
  EXPECT_EQ(back, canon);
}

TEST(RecordTest, InvalidEventIsRejected) {
  Record r{0, {}, SampleEvent("acme", 1)};
  r.event.tenant = TenantId("");
  EXPECT_EQ(EncodeRecord(r).status().code(), absl::StatusCode::kInvalidArgument);
}

TEST(RecordTest, EveryFlippedByteIsDataLoss) {
  PHIGATE_ASSERT_OK_AND_ASSIGN(std::string frame,
                               EncodeRecord(Record{1, {}, SampleEvent("acme", 1)}));
  for (size_t i = 0; i < frame.size(); ++i) {
    std::string bad = frame;
    bad[i] = static_cast<char>(bad[i] ^ 0x20);
    EXPECT_EQ(DecodeRecord(bad).status().code(), absl::StatusCode::kDataLoss) << "byte " << i;
  }
}

TEST(RecordTest, TruncatedAndExtendedFramesAreDataLoss) {
  PHIGATE_ASSERT_OK_AND_ASSIGN(std::string frame,
                               EncodeRecord(Record{1, {}, SampleEvent("acme", 1)}));
  for (size_t n = 0; n < frame.size(); ++n) {
    EXPECT_FALSE(DecodeRecord(frame.substr(0, n)).ok()) << n;
  }
  EXPECT_FALSE(DecodeRecord(frame + "x").ok());
}

TEST(RecordTest, FixedChecksumOnNonCanonicalPayloadIsDataLoss) {
  // Swap two reasons' order in the payload and recompute the CRC: the frame
  // is intact but the payload is not canonical.
  Record r{1, {}, SampleEvent("acme", 1)};
  r.event.reasons = {Id("aa"), Id("bb")};
  PHIGATE_ASSERT_OK_AND_ASSIGN(std::string frame, EncodeRecord(r));
  const size_t at = frame.find(
      "\x02"
      "aa"
      "\x02"
      "bb");
  ASSERT_NE(at, std::string::npos);
  frame.replace(at + 1, 2, "cc");  // now "cc" then "bb": unsorted
  const size_t len = frame.size() - kRecordHeaderSize - kRecordTrailerSize;
  const uint32_t crc = MaskCrc(Crc32c(std::string_view(frame).substr(4, 1 + len)));
  for (int i = 0; i < 4; ++i) {
    frame[kRecordHeaderSize + len + static_cast<size_t>(i)] =
        static_cast<char>((crc >> (8 * i)) & 0xff);
  }
  auto d = DecodeRecord(frame);
  EXPECT_EQ(d.status().code(), absl::StatusCode::kDataLoss);
  EXPECT_NE(std::string(d.status().message()).find("non-canonical"), std::string::npos);
}

TEST(RecordTest, Crc32cKnownAnswer) { EXPECT_EQ(Crc32c("123456789"), 0xe3069283u); }

}  // namespace
}  // namespace phigate::audit
