// Fuzzes the AWS event-stream decoder (Bedrock ConverseStream answers) with the
// bytes of an untrusted upstream. The first input byte picks the piece sizes
// (bits 0-5: pieces of 1, 2, ..., n bytes in turn, 0 = all at once) and the
// maximum message size (bit 6: a small one). Properties: no crash, no read out
// of bounds; in pieces the decoder gives what it gives for the whole input (the
// same messages, status and idle()); after an error it stays failed; every
// decoded message, re-encoded with string headers, decodes to itself.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "src/gateway/eventstream.h"

namespace {

using phigate::Status;
using namespace phigate::gateway::eventstream;

bool Same(const Message& a, const Message& b) {
  return a.headers == b.headers && a.payload == b.payload;
}

bool SameAll(const std::vector<Message>& a, const std::vector<Message>& b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    if (!Same(a[i], b[i])) return false;
  }
  return true;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0 || size > 1024 * 1024) return 0;
  const size_t step = data[0] & 0x3F;
  const size_t max = (data[0] & 0x40) != 0 ? 256 : Decoder::kDefaultMaxMessageBytes;
  const std::string_view in(reinterpret_cast<const char*>(data) + 1, size - 1);

  Decoder whole(max);
  std::vector<Message> whole_out;
  const Status whole_status = whole.Feed(in, &whole_out);

  Decoder pieces(max);
  std::vector<Message> out;
  Status status;
  size_t pos = 0;
  for (size_t k = 0; pos < in.size(); ++k) {
    const size_t n = step == 0 ? in.size() : 1 + k % step;
    const std::string_view piece = in.substr(pos, n);
    pos += piece.size();
    const size_t before = out.size();
    const Status s = pieces.Feed(piece, &out);
    if (!status.ok() && (s != status || out.size() != before)) __builtin_trap();  // stays failed
    if (status.ok()) status = s;
  }
  if (status != whole_status || pieces.idle() != whole.idle() || !SameAll(out, whole_out)) {
    __builtin_trap();
  }
  if (!status.ok()) {
    std::vector<Message> more;
    if (pieces.Feed(in, &more) != status || !more.empty() || pieces.idle()) __builtin_trap();
  }

  for (const Message& m : out) {
    const std::string wire = Encode(m.headers, m.payload);
    Decoder again;
    std::vector<Message> back;
    if (!again.Feed(wire, &back).ok() || back.size() != 1 || !Same(back[0], m) || !again.idle()) {
      __builtin_trap();
    }
  }
  return 0;
}
