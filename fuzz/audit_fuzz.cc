// Fuzzes the audit record reader (untrusted bytes from a store or an export):
// DecodeRecord must never crash, and anything it accepts must re-encode to
// exactly the same bytes (canonical format, one hash per record).
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "phigate/audit/record.h"
#include "phigate/core/byte_io.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size > (1u << 17)) return 0;
  const std::string_view bytes(reinterpret_cast<const char*>(data), size);
  auto rec = phigate::audit::DecodeRecord(bytes);
  if (rec.ok()) {
    auto again = phigate::audit::EncodeRecord(*rec);
    if (!again.ok() || *again != bytes) std::abort();
  }
  // Also as a payload inside a valid frame, so the fuzzer gets past the CRC.
  if (size >= 1) {
    std::string frame(5, '\0');
    const uint32_t len = static_cast<uint32_t>(size);
    for (int i = 0; i < 4; ++i)
      frame[static_cast<size_t>(i)] = static_cast<char>((len >> (8 * i)) & 0xff);
    frame[4] = static_cast<char>(phigate::audit::kRecordTypeEvent);
    frame.append(bytes);
    const uint32_t crc =
        phigate::audit::MaskCrc(phigate::Crc32c(std::string_view(frame).substr(4)));
    for (int i = 0; i < 4; ++i) frame.push_back(static_cast<char>((crc >> (8 * i)) & 0xff));
    auto r2 = phigate::audit::DecodeRecord(frame);
    if (r2.ok()) {
      auto again = phigate::audit::EncodeRecord(*r2);
      if (!again.ok() || *again != frame) std::abort();
    }
  }
  return 0;
}
