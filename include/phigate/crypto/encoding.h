// Hex and base64 (standard alphabet, padded) for keys and binary fields.
#ifndef PHIGATE_CRYPTO_ENCODING_H_
#define PHIGATE_CRYPTO_ENCODING_H_

#include <string>
#include <string_view>

#include "phigate/core/status.h"

namespace phigate::crypto {

std::string HexEncode(std::string_view bytes);
// InvalidArgument on odd length or a non-hex character (the message names the offset only).
Result<std::string> HexDecode(std::string_view hex);

std::string Base64Encode(std::string_view bytes);
// Accepts padded standard base64; whitespace is not allowed. InvalidArgument otherwise.
Result<std::string> Base64Decode(std::string_view b64);

}  // namespace phigate::crypto

#endif  // PHIGATE_CRYPTO_ENCODING_H_
