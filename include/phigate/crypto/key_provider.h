// The top of the key hierarchy: a KeyProvider holds (or reaches) the master
// key and wraps/unwraps per-tenant data keys. The master key never leaves the
// provider; a KMS or HSM plugs in by implementing this interface.
//
//   master key (file, env PHIGATE_MASTER_KEY, or a KMS)
//     └─ wraps per-tenant data keys (versioned, stored wrapped in the store)
//          └─ encrypt vault values (AES-256-GCM) and key blind indexes (HMAC)
//
// Example:
//   PHIGATE_ASSIGN_OR_RETURN(auto provider, crypto::LocalKeyProvider::FromEnvironment());
//   PHIGATE_ASSIGN_OR_RETURN(std::string wrapped, provider->Wrap(dek.view(), "acme|dek|1"));
#ifndef PHIGATE_CRYPTO_KEY_PROVIDER_H_
#define PHIGATE_CRYPTO_KEY_PROVIDER_H_

#include <memory>
#include <string>
#include <string_view>

#include "phigate/core/status.h"
#include "phigate/crypto/aead.h"
#include "phigate/crypto/secret.h"

namespace phigate::crypto {

inline constexpr std::string_view kMasterKeyEnv = "PHIGATE_MASTER_KEY";

// Thread-safe. Implementations must never log key bytes.
class KeyProvider {
 public:
  virtual ~KeyProvider() = default;
  // A stable, non-secret id of the master key (stored next to each wrapped
  // key, so a wrong master key is reported as such, not as corruption).
  virtual std::string key_id() const = 0;
  // Encrypts a data key; `context` is bound as associated data.
  virtual Result<std::string> Wrap(std::string_view data_key, std::string_view context) const = 0;
  // Decrypts a wrapped data key. FailedPrecondition when it was wrapped under
  // another master key; DataLoss when it was altered. Unavailable for a KMS outage.
  virtual Result<SecretBytes> Unwrap(std::string_view wrapped, std::string_view context) const = 0;
};

// A master key held in process memory (from a key file or the environment).
class LocalKeyProvider : public KeyProvider {
 public:
  // REQUIRES nothing; InvalidArgument unless the key is 32 bytes.
  static Result<std::unique_ptr<LocalKeyProvider>> Create(SecretBytes master_key);
  // Parses 64 hex characters or base64 of 32 bytes (surrounding whitespace ignored).
  static Result<std::unique_ptr<LocalKeyProvider>> FromText(std::string_view text);
  // $PHIGATE_MASTER_KEY. FailedPrecondition when unset or empty (the message says how to set it).
  static Result<std::unique_ptr<LocalKeyProvider>> FromEnvironment();
  // A file holding the key as text (hex or base64). NotFound / InvalidArgument.
  static Result<std::unique_ptr<LocalKeyProvider>> FromFile(const std::string& path);

  std::string key_id() const override { return key_id_; }
  Result<std::string> Wrap(std::string_view data_key, std::string_view context) const override;
  Result<SecretBytes> Unwrap(std::string_view wrapped, std::string_view context) const override;

 private:
  LocalKeyProvider(std::unique_ptr<Aead> kek, std::string key_id)
      : kek_(std::move(kek)), key_id_(std::move(key_id)) {}
  std::unique_ptr<Aead> kek_;
  std::string key_id_;
};

// A new random master key as 64 hex characters (for `phigate keys init`-like tooling and tests).
Result<std::string> GenerateMasterKeyHex();

}  // namespace phigate::crypto

#endif  // PHIGATE_CRYPTO_KEY_PROVIDER_H_
