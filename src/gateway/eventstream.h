// AWS event stream (content-type application/vnd.amazon.eventstream), the
// framing of Bedrock's ConverseStream answers: binary messages of
//   prelude   total length (u32 BE, the whole message), headers length (u32 BE),
//             CRC-32 of those 8 bytes (u32 BE)
//   headers   { name length (u8), name, value type (u8), value }*
//   payload   total - headers length - 16 bytes
//   CRC-32 of everything before it (u32 BE)
// CRC-32 is zlib's crc32 (IEEE). Bytes may arrive split anywhere.
#ifndef PHIGATE_SRC_GATEWAY_EVENTSTREAM_H_
#define PHIGATE_SRC_GATEWAY_EVENTSTREAM_H_

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "phigate/core/status.h"

namespace phigate::gateway::eventstream {

struct Message {
  // Headers in wire order. String (7) and byte-array (6) values as their bytes;
  // bool as "true"/"false"; integer and timestamp types as decimal text; UUID as 32 lower-case hex
  // digits.
  std::vector<std::pair<std::string, std::string>> headers;
  std::string payload;
  // The value of the first header of this name; "" when absent.
  std::string_view Header(std::string_view name) const;
};

class Decoder {
 public:
  static constexpr size_t kDefaultMaxMessageBytes = 16u << 20;
  explicit Decoder(size_t max_message_bytes = kDefaultMaxMessageBytes);
  // Appends bytes (any split: one byte at a time must work) and appends every
  // message they complete to *out. DataLossError (a PHI-free message, never quoting
  // bytes) on a bad prelude CRC, a bad message CRC, a total length < 16 or > the
  // maximum, a headers length that does not fit, a malformed or truncated header
  // (an empty name, a value running past the headers), an unknown value type.
  // Messages completed before the bad one in the same call are still appended.
  // After an error the decoder stays failed: every later Feed returns the same
  // error and appends nothing.
  Status Feed(std::string_view bytes, std::vector<Message>* out);
  // True when no partial message is buffered (the stream may end here); false
  // once the decoder has failed.
  bool idle() const { return status_.ok() && buffer_.empty(); }

 private:
  Status CheckPrelude(std::string_view prelude, uint32_t* total);
  Status DecodeMessage(std::string_view bytes, Message* out);
  Status Fail(Status s);

  size_t max_message_bytes_;
  std::string buffer_;     // the bytes of the one unfinished message
  uint32_t expected_ = 0;  // its total length, once its prelude is buffered
  uint64_t offset_ = 0;    // stream offset of the message being decoded
  Status status_;
};

// One message with string-typed (7) headers, in the order given. For tests and
// fakes: names longer than 255 bytes and values longer than 65535 bytes are cut
// to fit their length fields.
std::string Encode(const std::vector<std::pair<std::string, std::string>>& string_headers,
                   std::string_view payload);

}  // namespace phigate::gateway::eventstream

#endif  // PHIGATE_SRC_GATEWAY_EVENTSTREAM_H_
