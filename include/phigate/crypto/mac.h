// KeyedHash: HMAC-SHA256 with a key held once (blind indexes); DeriveSecret:
// HKDF-SHA256 into a SecretBytes. (One-shot helpers for audit are in signer.h.)
//
// A blind index is HMAC(tenant index key, domain-separated input): equal
// inputs give equal indexes, so a store can find "the same value again"
// without holding the value; without the key it reveals nothing.
//
// Example:
//   PHIGATE_ASSIGN_OR_RETURN(auto mac, crypto::KeyedHash::Create(std::move(key)));
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
class KeyedHash {
 public:
  // InvalidArgument when the key is shorter than 16 bytes.
  static Result<std::unique_ptr<KeyedHash>> Create(SecretBytes key);
  ~KeyedHash();
  KeyedHash(const KeyedHash&) = delete;
  KeyedHash& operator=(const KeyedHash&) = delete;

  // HMAC over the parts, each prefixed with its length (4 bytes, big endian),
  // so ("ab","c") and ("a","bc") differ.
  Result<Digest> Compute(std::initializer_list<std::string_view> parts) const;

 private:
  struct State;
  explicit KeyedHash(std::unique_ptr<State> state);
  std::unique_ptr<State> state_;
};

// HKDF-SHA256 (RFC 5869): `length` bytes derived from ikm, salt and info.
Result<SecretBytes> DeriveSecret(std::string_view ikm, std::string_view salt, std::string_view info,
                                 size_t length);

// Constant-time comparison of equal-length byte strings (false when lengths differ).
bool ConstantTimeEquals(std::string_view a, std::string_view b);

}  // namespace phigate::crypto

#endif  // PHIGATE_CRYPTO_MAC_H_
