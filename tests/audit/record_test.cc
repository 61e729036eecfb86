#include "phigate/audit/record.h"

#include "gtest/gtest.h"
#include "phigate/core/byte_io.h"
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

// Version 2 records what reached the recipient as written; an event without
// it is written as version 1, byte for byte as before, so existing trails keep
// their hashes and both versions decode and verify.
TEST(RecordTest, SentAsWrittenIsVersion2AndVersion1StaysAsItWas) {
  Record v1{7, {}, SampleEvent("acme", 1)};
  v1.event.sent_as_written.reset();
  PHIGATE_ASSERT_OK_AND_ASSIGN(std::string a, EncodeRecord(v1));
  EXPECT_EQ(static_cast<uint8_t>(a[kRecordHeaderSize]), kRecordVersion1);
  PHIGATE_ASSERT_OK_AND_ASSIGN(Record back1, DecodeRecord(a));
  EXPECT_FALSE(back1.event.sent_as_written.has_value());

  Record v2 = v1;
  v2.event.sent_as_written.emplace();
  v2.event.sent_as_written->emplace_back(PhiCategory::kMrn, 1);
  PHIGATE_ASSERT_OK_AND_ASSIGN(std::string b, EncodeRecord(v2));
  EXPECT_EQ(static_cast<uint8_t>(b[kRecordHeaderSize]), kRecordVersion);
  EXPECT_EQ(b.size(), a.size() + 1 + 5);
  PHIGATE_ASSERT_OK_AND_ASSIGN(Record back2, DecodeRecord(b));
  EXPECT_EQ(back2, v2);
  // The verifier's header parse finds the same subjects in both.
  PHIGATE_ASSERT_OK_AND_ASSIGN(RecordHeader h1, ParseRecordHeader(a));
  PHIGATE_ASSERT_OK_AND_ASSIGN(RecordHeader h2, ParseRecordHeader(b));
  EXPECT_EQ(h1.subjects, h2.subjects);
  EXPECT_EQ(h2.num_subjects(), 1u);

  // Empty (nothing sent as written) is not the same event as unrecorded.
  Record none = v1;
  none.event.sent_as_written.emplace();
  PHIGATE_ASSERT_OK_AND_ASSIGN(std::string c, EncodeRecord(none));
  EXPECT_NE(c, a);
  PHIGATE_ASSERT_OK_AND_ASSIGN(Record back3, DecodeRecord(c));
  ASSERT_TRUE(back3.event.sent_as_written.has_value());
  EXPECT_TRUE(back3.event.sent_as_written->empty());

  // Never more values sent as written than found, nor a category not found.
  Record more = v2;
  (*more.event.sent_as_written)[0].second = 2;  // one MRN was found
  EXPECT_EQ(EncodeRecord(more).status().code(), absl::StatusCode::kInvalidArgument);
  Record other = v2;
  (*other.event.sent_as_written)[0].first = PhiCategory::kSsn;
  EXPECT_EQ(EncodeRecord(other).status().code(), absl::StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace phigate::audit
