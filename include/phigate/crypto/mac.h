// HMAC-SHA256 (blind indexes, key ids) and HKDF-SHA256 (key derivation).
//
// A blind index is HMAC(tenant index key, domain-separated input): equal
// inputs give equal indexes, so a store can find "the same value again"
// without holding the value; without the key it reveals nothing.
//
// Example:
//   PHIGATE_ASSIGN_OR_RETURN(auto mac, crypto::HmacSha256::Create(std::move(key)));
//   PHIGATE_ASSIGN_OR_RETURN(crypto::Digest d, mac->Compute({"scope", "NAME", value}));
#ifndef PHIGATE_CRYPTO_MAC_H_
#define PHIGATE_CRYPTO_MAC_H_

#include <array>
#include <cstdint>
#include <initializer_list>
#include <memory>
#include <string>
#include <string_view>

#include "phigate/core/status.h"
#include "phigate/crypto/secret.h"

namespace phigate::crypto {

using Digest = std::array<uint8_t, 32>;

// Keyed HMAC-SHA256. Immutable after Create(); Compute() is thread-safe.
class HmacSha256 {
 public:
  // InvalidArgument when the key is shorter than 16 bytes.
  static Result<std::unique_ptr<HmacSha256>> Create(SecretBytes key);
  ~HmacSha256();
  HmacSha256(const HmacSha256&) = delete;
  HmacSha256& operator=(const HmacSha256&) = delete;

  // HMAC over the parts, each prefixed with its length (4 bytes, big endian),
  // so ("ab","c") and ("a","bc") differ.
  Result<Digest> Compute(std::initializer_list<std::string_view> parts) const;

 private:
  struct State;
  explicit HmacSha256(std::unique_ptr<State> state);
  std::unique_ptr<State> state_;
};

// HKDF-SHA256 (RFC 5869): `length` bytes derived from ikm, salt and info.
Result<SecretBytes> HkdfSha256(std::string_view ikm, std::string_view salt, std::string_view info,
                               size_t length);

// SHA-256 of data (non-secret uses: fingerprints of key ids).
Digest Sha256(std::string_view data);

// Constant-time comparison of equal-length byte strings (false when lengths differ).
bool ConstantTimeEquals(std::string_view a, std::string_view b);

}  // namespace phigate::crypto

#endif  // PHIGATE_CRYPTO_MAC_H_
