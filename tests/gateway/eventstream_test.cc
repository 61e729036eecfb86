// The AWS event-stream decoder and encoder (Bedrock ConverseStream framing):
// round trips at every split, every header value type, AWS's own test vectors
// (aws-sdk-js-v3 eventstream-marshaller TestVectors.fixture.ts), and every
// framing error, after which the decoder stays failed.
#include "src/gateway/eventstream.h"

#include <zlib.h>

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/testing/status_matchers.h"

namespace phigate::gateway::eventstream {
namespace {

using Headers = std::vector<std::pair<std::string, std::string>>;
using ::testing::HasSubstr;
using ::testing::Not;

uint32_t Crc(std::string_view b) {
  return static_cast<uint32_t>(
      crc32(0L, reinterpret_cast<const Bytef*>(b.data()), static_cast<uInt>(b.size())));
}

void Be(uint64_t v, size_t n, std::string* out) {
  for (size_t i = n; i-- > 0;) out->push_back(static_cast<char>((v >> (8 * i)) & 0xFF));
}

std::string Bytes(std::initializer_list<int> b) {
  std::string s;
  for (int c : b) s.push_back(static_cast<char>(c));
  return s;
}

// A message built by hand: the given prelude lengths, correct CRCs (zlib).
std::string Raw(uint32_t total, uint32_t headers_len, std::string_view body) {
  std::string m;
  Be(total, 4, &m);
  Be(headers_len, 4, &m);
  Be(Crc(m), 4, &m);
  m.append(body);
  Be(Crc(m), 4, &m);
  return m;
}
// A well-formed message of a hand-made header block and a payload.
std::string Frame(std::string_view headers, std::string_view payload) {
  return Raw(static_cast<uint32_t>(16 + headers.size() + payload.size()),
             static_cast<uint32_t>(headers.size()), std::string(headers) + std::string(payload));
}
// One header: name, type, raw value bytes.
std::string H(std::string_view name, int type, std::string_view value) {
  std::string h;
  h.push_back(static_cast<char>(name.size()));
  h.append(name);
  h.push_back(static_cast<char>(type));
  h.append(value);
  return h;
}

const Headers kDeltaHeaders = {{":event-type", "contentBlockDelta"},
                               {":content-type", "application/json"},
                               {":message-type", "event"}};
constexpr char kDeltaPayload[] = R"({"contentBlockIndex":0,"delta":{"text":"Hi"},"p":"abcd"})";
const Headers kExceptionHeaders = {{":exception-type", "throttlingException"},
                                   {":content-type", "application/json"},
                                   {":message-type", "exception"}};
constexpr char kExceptionPayload[] = R"({"message":"Too many requests"})";

struct Expected {
  Headers headers;
  std::string payload;
};

std::vector<Expected> Stream() {
  return {
      {kDeltaHeaders, kDeltaPayload},
      {kExceptionHeaders, kExceptionPayload},
      {{}, ""},
      {{{":message-type", "error"}, {":error-code", "InternalFailure"}, {":error-message", "x"}},
       std::string("bin\0ary\xff", 8)}};
}

std::string EncodeAll(const std::vector<Expected>& msgs) {
  std::string s;
  for (const Expected& e : msgs) s += Encode(e.headers, e.payload);
  return s;
}

void ExpectMessages(const std::vector<Message>& got, const std::vector<Expected>& want) {
  ASSERT_EQ(got.size(), want.size());
  for (size_t i = 0; i < got.size(); ++i) {
    EXPECT_EQ(got[i].headers, want[i].headers) << "message " << i;
    EXPECT_EQ(got[i].payload, want[i].payload) << "message " << i;
  }
}

// Feeds one message and returns the decoder's status.
Status FeedOne(std::string_view bytes, size_t max = Decoder::kDefaultMaxMessageBytes) {
  Decoder d(max);
  std::vector<Message> out;
  Status s = d.Feed(bytes, &out);
  if (!s.ok()) {
    EXPECT_TRUE(out.empty());
  }
  return s;
}

TEST(EventStreamTest, RoundTripFedWhole) {
  const std::vector<Expected> want = Stream();
  Decoder d;
  std::vector<Message> out;
  PHIGATE_ASSERT_OK(d.Feed(EncodeAll(want), &out));
  ExpectMessages(out, want);
  EXPECT_TRUE(d.idle());
  EXPECT_EQ(out[0].Header(":event-type"), "contentBlockDelta");
  EXPECT_EQ(out[1].Header(":exception-type"), "throttlingException");
}

TEST(EventStreamTest, RoundTripByteByByte) {
  const std::vector<Expected> want = Stream();
  const std::string wire = EncodeAll(want);
  Decoder d;
  std::vector<Message> out;
  for (char c : wire) {
    const Status s = d.Feed(std::string_view(&c, 1), &out);
    ASSERT_TRUE(s.ok()) << s;
  }
  ExpectMessages(out, want);
  EXPECT_TRUE(d.idle());
}

TEST(EventStreamTest, RoundTripAtEverySplitPoint) {
  const std::vector<Expected> want = Stream();
  const std::string wire = EncodeAll(want);
  for (size_t i = 0; i <= wire.size(); ++i) {
    Decoder d;
    std::vector<Message> out;
    const Status a = d.Feed(std::string_view(wire).substr(0, i), &out);
    ASSERT_TRUE(a.ok()) << "split " << i << ": " << a;
    const Status b = d.Feed(std::string_view(wire).substr(i), &out);
    ASSERT_TRUE(b.ok()) << "split " << i << ": " << b;
    ExpectMessages(out, want);
    EXPECT_TRUE(d.idle()) << "split " << i;
  }
}

TEST(EventStreamTest, LargePayloadInChunks) {
  std::string payload(300000, 'x');
  for (size_t i = 0; i < payload.size(); ++i) payload[i] = static_cast<char>(i * 7);
  const std::string wire = Encode(kDeltaHeaders, payload) + Encode({{"a", "b"}}, "c");
  Decoder d;
  std::vector<Message> out;
  for (size_t i = 0; i < wire.size(); i += 999) {
    PHIGATE_ASSERT_OK(d.Feed(std::string_view(wire).substr(i, 999), &out));
  }
  ExpectMessages(out, {{kDeltaHeaders, payload}, {{{"a", "b"}}, "c"}});
}

// Encode writes what AWS's SDK writes (vector payload_one_str_header below).
TEST(EventStreamTest, EncodeMatchesAwsVector) {
  const std::string aws =
      Bytes({0,   0,   0,   61,  0,   0,   0,   32,  7,   253, 131, 150, 12,  99,  111, 110,
             116, 101, 110, 116, 45,  116, 121, 112, 101, 7,   0,   16,  97,  112, 112, 108,
             105, 99,  97,  116, 105, 111, 110, 47,  106, 115, 111, 110, 123, 39,  102, 111,
             111, 39,  58,  39,  98,  97,  114, 39,  125, 141, 156, 8,   177});
  EXPECT_EQ(Encode({{"content-type", "application/json"}}, "{'foo':'bar'}"), aws);
  EXPECT_EQ(Encode({}, ""), Bytes({0, 0, 0, 16, 0, 0, 0, 0, 5, 194, 72, 235, 125, 152, 200, 255}));
}

// aws-sdk-js-v3, packages/eventstream-marshaller/src/TestVectors.fixture.ts.
TEST(EventStreamTest, AwsSdkVectorsDecode) {
  const std::string foo_bar = "{'foo':'bar'}";
  struct Case {
    std::string wire;
    Expected want;
  };
  const std::vector<Case> cases = {
      {Bytes({0, 0, 0, 16, 0, 0, 0, 0, 5, 194, 72, 235, 125, 152, 200, 255}), {{}, ""}},
      {Bytes({0,   0,   0,   43, 0,   0,   0,   14, 52,  139, 236, 123, 8,  101, 118,
              101, 110, 116, 45, 105, 100, 4,   0,  0,   160, 12,  123, 39, 102, 111,
              111, 39,  58,  39, 98,  97,  114, 39, 125, 211, 137, 2,   133}),
       {{{"event-id", "40972"}}, foo_bar}},
      {Bytes({0,   0,   0,   45, 0,   0,   0,   16,  65,  196, 36,  184, 10,  101, 118,
              101, 110, 116, 45, 116, 121, 112, 101, 4,   0,   0,   160, 12,  123, 39,
              102, 111, 111, 39, 58,  39,  98,  97,  114, 39,  125, 54,  244, 128, 160}),
       {{{"event-type", "40972"}}, foo_bar}},
      {Bytes({0,   0,   0,  29, 0,  0,  0,  0,   253, 82,  140, 90,  123, 39, 102,
              111, 111, 39, 58, 39, 98, 97, 114, 39,  125, 195, 101, 57,  54}),
       {{}, foo_bar}},
      {Bytes({0,   0,   0,   61,  0,   0,   0,   32,  7,   253, 131, 150, 12,  99,  111, 110,
              116, 101, 110, 116, 45,  116, 121, 112, 101, 7,   0,   16,  97,  112, 112, 108,
              105, 99,  97,  116, 105, 111, 110, 47,  106, 115, 111, 110, 123, 39,  102, 111,
              111, 39,  58,  39,  98,  97,  114, 39,  125, 141, 156, 8,   177}),
       {{{"content-type", "application/json"}}, foo_bar}},
  };
  for (const Case& c : cases) {
    Decoder d;
    std::vector<Message> out;
    const Status s = d.Feed(c.wire, &out);
    ASSERT_TRUE(s.ok()) << s;
    ExpectMessages(out, {c.want});
  }
}

TEST(EventStreamTest, AwsSdkFailureVectorsRejected) {
  const std::vector<std::string> bad = {
      // corrupted_headers ('-' of content-type made '+': message CRC)
      Bytes({0,   0,   0,   61,  0,   0,   0,   32,  7,   253, 131, 150, 12,  99,  111, 110,
             116, 101, 110, 116, 43,  116, 121, 112, 101, 7,   0,   16,  97,  112, 112, 108,
             105, 99,  97,  116, 105, 111, 110, 47,  106, 115, 111, 110, 123, 39,  102, 111,
             111, 39,  58,  39,  98,  97,  114, 39,  125, 141, 156, 8,   177}),
      // corrupted_header_len (prelude CRC)
      Bytes({0,   0,   0,   61,  0,   0,   1,   32,  7,   253, 131, 150, 12,  99,  111, 110,
             116, 101, 110, 116, 45,  116, 121, 112, 101, 7,   0,   16,  97,  112, 112, 108,
             105, 99,  97,  116, 105, 111, 110, 47,  106, 115, 111, 110, 123, 39,  102, 111,
             111, 39,  58,  39,  98,  97,  114, 39,  125, 141, 156, 8,   177}),
      // corrupted_length (prelude CRC)
      Bytes({1,   0,   0,  29, 0,  0,  0,  0,   253, 82,  140, 90,  123, 39, 102,
             111, 111, 39, 58, 39, 98, 97, 114, 39,  125, 195, 101, 57,  54}),
      // corrupted_payload (message CRC)
      Bytes({0,   0,   0,  29, 0,  0,  0,  0,   253, 82,  140, 90,  123, 39, 102,
             111, 111, 39, 58, 39, 98, 97, 114, 39,  141, 195, 101, 57,  54}),
  };
  for (const std::string& b : bad) {
    EXPECT_TRUE(absl::IsDataLoss(FeedOne(b)));
  }
}

TEST(EventStreamTest, EveryHeaderValueType) {
  std::string h;
  h += H("t", 0, "");
  h += H("f", 1, "");
  h += H("b", 2, Bytes({0xFE}));
  h += H("s", 3, Bytes({0x80, 0x00}));
  h += H("i", 4, Bytes({0x00, 0x00, 0xA0, 0x0C}));
  h += H("neg", 4, Bytes({0xFF, 0xFF, 0xFF, 0xFD}));
  h += H("l", 5, Bytes({0x80, 0, 0, 0, 0, 0, 0, 0}));
  h += H("arr", 6, Bytes({0x00, 0x03, 0x00, 0xFF, 0x41}));
  h += H("str", 7, Bytes({0x00, 0x04}) + "h\xc3\xa9!");
  h += H("ts", 8, Bytes({0x00, 0x00, 0x01, 0x8B, 0xCF, 0xE5, 0x68, 0x00}));
  h += H("uuid", 9,
         Bytes({0x12, 0x3e, 0x45, 0x67, 0xe8, 0x9b, 0x12, 0xd3, 0xa4, 0x56, 0x42, 0x66, 0x14, 0x17,
                0x40, 0xAB}));
  h += H("empty", 7, Bytes({0x00, 0x00}));
  Decoder d;
  std::vector<Message> out;
  PHIGATE_ASSERT_OK(d.Feed(Frame(h, "p"), &out));
  ASSERT_EQ(out.size(), 1u);
  const Headers want = {{"t", "true"},
                        {"f", "false"},
                        {"b", "-2"},
                        {"s", "-32768"},
                        {"i", "40972"},
                        {"neg", "-3"},
                        {"l", "-9223372036854775808"},
                        {"arr", Bytes({0x00, 0xFF, 0x41})},
                        {"str", "h\xc3\xa9!"},
                        {"ts", "1700000000000"},
                        {"uuid", "123e4567e89b12d3a4564266141740ab"},
                        {"empty", ""}};
  EXPECT_EQ(out[0].headers, want);
  EXPECT_EQ(out[0].payload, "p");
  EXPECT_EQ(out[0].Header("ts"), "1700000000000");
  EXPECT_EQ(out[0].Header("missing"), "");
}

TEST(EventStreamTest, HeaderReturnsTheFirstOfItsName) {
  Decoder d;
  std::vector<Message> out;
  PHIGATE_ASSERT_OK(d.Feed(Encode({{"k", "one"}, {"k", "two"}}, ""), &out));
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].Header("k"), "one");
  EXPECT_EQ(out[0].Header("K"), "");
}

TEST(EventStreamTest, FlippedBitInPreludeCrc) {
  std::string m = Encode(kDeltaHeaders, kDeltaPayload);
  PHIGATE_ASSERT_OK(FeedOne(m));
  m[9] = static_cast<char>(m[9] ^ 0x10);
  const Status s = FeedOne(m);
  EXPECT_TRUE(absl::IsDataLoss(s)) << s;
  EXPECT_THAT(s.message(), HasSubstr("prelude CRC"));
}

TEST(EventStreamTest, FlippedBitInPayload) {
  std::string m = Encode(kDeltaHeaders, kDeltaPayload);
  m[m.size() - 10] = static_cast<char>(m[m.size() - 10] ^ 0x01);
  const Status s = FeedOne(m);
  EXPECT_TRUE(absl::IsDataLoss(s)) << s;
  EXPECT_THAT(s.message(), HasSubstr("message CRC"));
}

TEST(EventStreamTest, ErrorsQuoteNoBytes) {
  const std::string secret = "Zephyrine Quallsworth MRN-48213377";
  std::string m = Encode({{":event-type", secret}}, secret);
  m[m.size() - 5] = static_cast<char>(m[m.size() - 5] ^ 0x01);
  const Status s = FeedOne(m);
  ASSERT_FALSE(s.ok());
  EXPECT_THAT(std::string(s.message()), Not(HasSubstr("Zephyrine")));
  EXPECT_THAT(std::string(s.message()), Not(HasSubstr("MRN")));
}

TEST(EventStreamTest, TotalLengthTooSmall) {
  // 15 bytes: a prelude with a correct CRC and 3 more bytes.
  std::string m;
  Be(15, 4, &m);
  Be(0, 4, &m);
  Be(Crc(m), 4, &m);
  m += "abc";
  const Status s = FeedOne(m);
  EXPECT_TRUE(absl::IsDataLoss(s)) << s;
  EXPECT_THAT(s.message(), HasSubstr("length"));
}

TEST(EventStreamTest, TotalLengthOverTheMaximum) {
  const std::string m = Encode(kDeltaHeaders, kDeltaPayload);
  PHIGATE_ASSERT_OK(FeedOne(m, m.size()));
  const Status s = FeedOne(m, m.size() - 1);
  EXPECT_TRUE(absl::IsDataLoss(s)) << s;
  // Rejected at the prelude, before the message is buffered.
  Decoder d(64);
  std::vector<Message> out;
  EXPECT_TRUE(absl::IsDataLoss(d.Feed(std::string_view(m).substr(0, 12), &out)));
}

TEST(EventStreamTest, HeadersLengthBeyondTheMessage) {
  // total 20: room for 4 bytes of headers and payload; headers length 5.
  const Status s = FeedOne(Raw(20, 5, "abcd"));
  EXPECT_TRUE(absl::IsDataLoss(s)) << s;
  EXPECT_THAT(s.message(), HasSubstr("headers"));
  PHIGATE_EXPECT_OK(FeedOne(Raw(20, 4, H("ab", 0, ""))));
}

TEST(EventStreamTest, TruncatedHeader) {
  const std::vector<std::string> blocks = {
      H("name", 7, Bytes({0x00, 0x05}) + "abcd"),  // string value past the block
      H("name", 6, Bytes({0x00})),                 // half a length
      H("n", 4, Bytes({0x00, 0x00, 0x01})),        // int32 of 3 bytes
      H("u", 9, std::string(15, 'u')),             // UUID of 15 bytes
      Bytes({0x05}) + "nam",                       // name past the block
      Bytes({0x04}) + "name",                      // no value type
      H("ok", 0, "") + Bytes({0x00, 0x00}),        // empty name (of a bool)
  };
  for (const std::string& b : blocks) {
    const Status s = FeedOne(Frame(b, "payload"));
    EXPECT_TRUE(absl::IsDataLoss(s)) << s;
    EXPECT_THAT(s.message(), HasSubstr("header"));
  }
}

TEST(EventStreamTest, UnknownValueType) {
  PHIGATE_ASSERT_OK(FeedOne(Frame(H("x", 9, std::string(16, '\0')), "")));
  const Status s = FeedOne(Frame(H("x", 10, std::string(16, '\0')), ""));
  EXPECT_TRUE(absl::IsDataLoss(s)) << s;
  EXPECT_THAT(s.message(), HasSubstr("unknown header value type"));
}

TEST(EventStreamTest, StaysFailedAfterAnError) {
  const std::string good = Encode(kDeltaHeaders, kDeltaPayload);
  std::string bad = good;
  bad[bad.size() - 1] = static_cast<char>(bad[bad.size() - 1] ^ 0x80);
  Decoder d;
  std::vector<Message> out;
  // The good message before the bad one in the same call is delivered.
  const Status first = d.Feed(good + bad + good, &out);
  EXPECT_TRUE(absl::IsDataLoss(first)) << first;
  EXPECT_EQ(out.size(), 1u);
  out.clear();
  for (int i = 0; i < 3; ++i) {
    EXPECT_EQ(d.Feed(good, &out), first);
    EXPECT_EQ(d.Feed("", &out), first);
  }
  EXPECT_TRUE(out.empty());
  EXPECT_FALSE(d.idle());
}

TEST(EventStreamTest, Idle) {
  const std::string m = Encode(kDeltaHeaders, kDeltaPayload);
  Decoder d;
  std::vector<Message> out;
  EXPECT_TRUE(d.idle());
  PHIGATE_ASSERT_OK(d.Feed("", &out));
  EXPECT_TRUE(d.idle());
  PHIGATE_ASSERT_OK(d.Feed(std::string_view(m).substr(0, 1), &out));
  EXPECT_FALSE(d.idle());
  PHIGATE_ASSERT_OK(d.Feed(std::string_view(m).substr(1, 11), &out));
  EXPECT_FALSE(d.idle());
  PHIGATE_ASSERT_OK(d.Feed(std::string_view(m).substr(12, m.size() - 13), &out));
  EXPECT_FALSE(d.idle());
  EXPECT_TRUE(out.empty());
  PHIGATE_ASSERT_OK(d.Feed(std::string_view(m).substr(m.size() - 1), &out));
  EXPECT_TRUE(d.idle());
  EXPECT_EQ(out.size(), 1u);
  // A whole message and the start of the next: not idle.
  PHIGATE_ASSERT_OK(d.Feed(m + m.substr(0, 20), &out));
  EXPECT_EQ(out.size(), 2u);
  EXPECT_FALSE(d.idle());
}

}  // namespace
}  // namespace phigate::gateway::eventstream
