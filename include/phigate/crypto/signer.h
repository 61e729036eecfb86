// Ed25519 signatures and the digests the audit trail is built on (OpenSSL 3 EVP).
//
// The audit log signs its tree heads with an Ed25519Signer and anyone holding
// the exported public key checks them with an Ed25519Verifier. The digest
// helpers (SHA-256, HMAC-SHA256, HKDF-SHA256) live here because crypto is the
// only module allowed to include OpenSSL.
//
// Example:
//   PHIGATE_ASSIGN_OR_RETURN(auto signer, crypto::Ed25519Signer::FromSeed(seed));
//   std::string sig = signer->Sign("message");
//   PHIGATE_ASSIGN_OR_RETURN(auto verifier,
//                            crypto::Ed25519Verifier::FromRawPublicKey(signer->RawPublicKey()));
//   PHIGATE_RETURN_IF_ERROR(verifier->Verify("message", sig));
//
// Thread safety: all classes are immutable after creation; Sign() and Verify()
// may be called from many threads at once.
#ifndef PHIGATE_CRYPTO_SIGNER_H_
#define PHIGATE_CRYPTO_SIGNER_H_

#include <array>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "phigate/core/status.h"

namespace phigate::crypto {

inline constexpr size_t kSha256Size = 32;
using Sha256Digest = std::array<uint8_t, kSha256Size>;

// SHA-256 of the concatenation of up to three byte strings (no copies).
Sha256Digest Sha256(std::string_view a, std::string_view b = {}, std::string_view c = {});

// HMAC-SHA256(key, message).
Sha256Digest HmacSha256(std::string_view key, std::string_view message);

// HKDF-SHA256 (RFC 5869): out_len bytes from input key material, salt and info.
// InvalidArgument when ikm is empty or out_len is 0 or > 255*32.
Result<std::string> HkdfSha256(std::string_view ikm, std::string_view salt, std::string_view info,
                               size_t out_len);

// Lower-case hex; and back (InvalidArgument on odd length or a non-hex digit).
std::string ToHex(std::string_view bytes);
Result<std::string> FromHex(std::string_view hex);

inline constexpr size_t kEd25519SeedSize = 32;
inline constexpr size_t kEd25519PublicKeySize = 32;
inline constexpr size_t kEd25519SignatureSize = 64;

class Ed25519Signer {
 public:
  // From a 32-byte private seed (RFC 8032). InvalidArgument on a bad size.
  static Result<std::unique_ptr<Ed25519Signer>> FromSeed(std::string_view seed);
  // From a PKCS#8 PEM private key ("-----BEGIN PRIVATE KEY-----"), or a file
  // holding 64 hex digits of seed. InvalidArgument when unreadable or not Ed25519.
  static Result<std::unique_ptr<Ed25519Signer>> FromPem(std::string_view pem);
  static Result<std::unique_ptr<Ed25519Signer>> FromFile(const std::string& path);
  // A fresh random key (tests, `phigate audit keygen`).
  static Result<std::unique_ptr<Ed25519Signer>> Generate();

  ~Ed25519Signer();
  Ed25519Signer(const Ed25519Signer&) = delete;  // owns an OpenSSL key
  Ed25519Signer& operator=(const Ed25519Signer&) = delete;

  // The 64-byte signature of message. Internal on an OpenSSL failure.
  Result<std::string> Sign(std::string_view message) const;
  // 32 raw bytes; and as a SubjectPublicKeyInfo PEM; and the PKCS#8 PEM of the private key.
  const std::string& RawPublicKey() const { return raw_public_; }
  std::string PublicKeyPem() const;
  Result<std::string> PrivateKeyPem() const;

 private:
  struct Key;
  explicit Ed25519Signer(std::unique_ptr<Key> key, std::string raw_public);
  std::unique_ptr<Key> key_;
  std::string raw_public_;
};

class Ed25519Verifier {
 public:
  static Result<std::unique_ptr<Ed25519Verifier>> FromRawPublicKey(std::string_view raw);
  // SubjectPublicKeyInfo PEM ("-----BEGIN PUBLIC KEY-----") or 64 hex digits.
  static Result<std::unique_ptr<Ed25519Verifier>> FromPem(std::string_view pem);

  ~Ed25519Verifier();
  Ed25519Verifier(const Ed25519Verifier&) = delete;
  Ed25519Verifier& operator=(const Ed25519Verifier&) = delete;

  // OK when signature is a valid signature of message; DataLoss otherwise.
  Status Verify(std::string_view message, std::string_view signature) const;
  const std::string& RawPublicKey() const { return raw_public_; }

 private:
  struct Key;
  Ed25519Verifier(std::unique_ptr<Key> key, std::string raw_public);
  std::unique_ptr<Key> key_;
  std::string raw_public_;
};

}  // namespace phigate::crypto

#endif  // PHIGATE_CRYPTO_SIGNER_H_
