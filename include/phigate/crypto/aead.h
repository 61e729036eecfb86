// AES-256-GCM authenticated encryption with associated data (OpenSSL 3 EVP).
//
// Sealed format (bytes): nonce (12, random) | ciphertext | tag (16). The
// associated data (e.g. tenant id and record id) is authenticated but not
// stored: Open() with different associated data, a different key or any
// flipped byte fails with DataLoss and never returns bytes.
//
// Example:
//   PHIGATE_ASSIGN_OR_RETURN(auto aead, crypto::Aead::Create(std::move(key)));
//   PHIGATE_ASSIGN_OR_RETURN(std::string sealed, aead->Seal(value, "acme\0tok/7QK2X"));
//   PHIGATE_ASSIGN_OR_RETURN(std::string back, aead->Open(sealed, "acme\0tok/7QK2X"));
#ifndef PHIGATE_CRYPTO_AEAD_H_
#define PHIGATE_CRYPTO_AEAD_H_

#include <memory>
#include <string>
#include <string_view>

#include "phigate/core/status.h"
#include "phigate/crypto/secret.h"

namespace phigate::crypto {

inline constexpr size_t kAeadKeyBytes = 32;
inline constexpr size_t kAeadNonceBytes = 12;
inline constexpr size_t kAeadTagBytes = 16;
inline constexpr size_t kAeadOverheadBytes = kAeadNonceBytes + kAeadTagBytes;

// Immutable after Create(); Seal() and Open() may run on many threads at once.
class Aead {
 public:
  // InvalidArgument unless key is 32 bytes.
  static Result<std::unique_ptr<Aead>> Create(SecretBytes key);
  ~Aead();
  Aead(const Aead&) = delete;  // holds key material; share by pointer
  Aead& operator=(const Aead&) = delete;

  // Encrypts plaintext under a fresh random nonce. Internal only when OpenSSL fails.
  Result<std::string> Seal(std::string_view plaintext, std::string_view associated_data) const;

  // Decrypts and authenticates. DataLoss when the input is too short, was
  // tampered with, or was sealed under another key or associated data.
  Result<std::string> Open(std::string_view sealed, std::string_view associated_data) const;

 private:
  struct ContextPool;  // keyed OpenSSL contexts, reused across calls (aead.cc)
  explicit Aead(SecretBytes key);
  SecretBytes key_;
  std::unique_ptr<ContextPool> pool_;
};

}  // namespace phigate::crypto

#endif  // PHIGATE_CRYPTO_AEAD_H_
