// Per-tenant data keys: versions, rotation and the byte format of a wrapped key.
//
// A tenant has one blind-index key (stable: rotating it would give the same
// value a new token) and data-encryption keys with versions 1, 2, ... The
// newest active version encrypts; every version still present decrypts, so
// rotation needs no downtime. Destroying the wrapped keys (crypto-shredding)
// makes every value sealed under them unreadable, backups included.
//
// This file holds only the crypto; vault/ persists WrappedKey records in the store.
//
// Example:
//   PHIGATE_ASSIGN_OR_RETURN(WrappedKey k, NewWrappedKey(provider, "acme", KeyPurpose::kData, 2));
//   PHIGATE_ASSIGN_OR_RETURN(Keyring ring, Keyring::Unwrap(provider, "acme", records));
#ifndef PHIGATE_CRYPTO_KEYRING_H_
#define PHIGATE_CRYPTO_KEYRING_H_

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "phigate/core/status.h"
#include "phigate/crypto/aead.h"
#include "phigate/crypto/key_provider.h"
#include "phigate/crypto/mac.h"

namespace phigate::crypto {

enum class KeyPurpose : uint8_t { kData = 1, kIndex = 2 };

// One wrapped key as stored. Serialize()/Parse() give a versioned text format:
//   "pgk1|<purpose>|<version>|<master key id>|<created unix s>|<hex wrapped>"
struct WrappedKey {
  KeyPurpose purpose = KeyPurpose::kData;
  uint32_t version = 0;
  std::string master_key_id;
  int64_t created_at = 0;
  std::string wrapped;  // KeyProvider::Wrap output

  std::string Serialize() const;
  // DataLoss on any malformed field.
  static Result<WrappedKey> Parse(std::string_view text);
};

// The associated data that binds a wrapped key to its tenant, purpose and version.
std::string WrapContext(std::string_view tenant, KeyPurpose purpose, uint32_t version);

// Generates a random 32-byte key and wraps it under `provider`.
Result<WrappedKey> NewWrappedKey(const KeyProvider& provider, std::string_view tenant,
                                 KeyPurpose purpose, uint32_t version, int64_t now);

// Re-wraps `key` from `from` to `to` (master key rotation). The key bytes do not change.
Result<WrappedKey> RewrapKey(const WrappedKey& key, std::string_view tenant,
                             const KeyProvider& from, const KeyProvider& to);

// The unwrapped keys of one tenant. Immutable; thread-safe.
class Keyring {
 public:
  // Unwraps every record. FailedPrecondition when the master key does not
  // match, DataLoss when a record is corrupt, NotFound when there is no index
  // key or no data key.
  static Result<std::unique_ptr<Keyring>> Unwrap(const KeyProvider& provider,
                                                 std::string_view tenant,
                                                 const std::vector<WrappedKey>& keys);

  uint32_t current_version() const { return current_version_; }
  // The AEAD of a version; NotFound (naming the version) when it was destroyed.
  Result<const Aead*> DataKey(uint32_t version) const;
  const KeyedHash& index() const { return *index_; }
  std::vector<uint32_t> versions() const;

 private:
  Keyring() = default;
  uint32_t current_version_ = 0;
  std::map<uint32_t, std::unique_ptr<Aead>> data_;
  std::unique_ptr<KeyedHash> index_;
};

}  // namespace phigate::crypto

#endif  // PHIGATE_CRYPTO_KEYRING_H_
