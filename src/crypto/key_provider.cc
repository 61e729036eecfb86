#include "phigate/crypto/key_provider.h"

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>

#include "absl/strings/str_cat.h"
#include "phigate/crypto/encoding.h"
#include "phigate/crypto/mac.h"
#include "phigate/crypto/random.h"

namespace phigate::crypto {
namespace {

// Wrapped format: "w1" | key id length (1 byte) | key id | AEAD sealed data key.
constexpr std::string_view kWrapMagic = "w1";

std::string_view Trim(std::string_view s) {
  while (!s.empty() &&
         (s.front() == ' ' || s.front() == '\n' || s.front() == '\r' || s.front() == '\t')) {
    s.remove_prefix(1);
  }
  while (!s.empty() &&
         (s.back() == ' ' || s.back() == '\n' || s.back() == '\r' || s.back() == '\t')) {
    s.remove_suffix(1);
  }
  return s;
}

}  // namespace

Result<std::unique_ptr<LocalKeyProvider>> LocalKeyProvider::Create(SecretBytes master_key) {
  if (master_key.size() != 32) {
    return absl::InvalidArgumentError("master key must be 32 bytes (64 hex or 44 base64 chars)");
  }
  // The key-encryption key and the public key id are derived, never the raw master key.
  PHIGATE_ASSIGN_OR_RETURN(SecretBytes kek,
                           DeriveSecret(master_key.view(), "phigate", "kek v1", kAeadKeyBytes));
  PHIGATE_ASSIGN_OR_RETURN(SecretBytes id_bytes,
                           DeriveSecret(master_key.view(), "phigate", "key id v1", 8));
  PHIGATE_ASSIGN_OR_RETURN(auto aead, Aead::Create(std::move(kek)));
  return std::unique_ptr<LocalKeyProvider>(
      new LocalKeyProvider(std::move(aead), "local:" + HexEncode(id_bytes.view())));
}

Result<std::unique_ptr<LocalKeyProvider>> LocalKeyProvider::FromText(std::string_view text) {
  text = Trim(text);
  std::string raw;
  if (text.size() == 64) {
    auto r = HexDecode(text);
    if (!r.ok()) return absl::InvalidArgumentError("master key: 64 characters but not hex");
    raw = std::move(*r);
  } else if (text.size() == 44) {
    auto r = Base64Decode(text);
    if (!r.ok()) return absl::InvalidArgumentError("master key: 44 characters but not base64");
    raw = std::move(*r);
  } else {
    return absl::InvalidArgumentError(
        "master key must be 32 bytes as 64 hex characters or 44 base64 characters");
  }
  return Create(SecretBytes(std::move(raw)));
}

Result<std::unique_ptr<LocalKeyProvider>> LocalKeyProvider::FromEnvironment() {
  const char* v = std::getenv(std::string(kMasterKeyEnv).c_str());
  if (v == nullptr || *v == '\0') {
    return absl::FailedPreconditionError(
        "no master key: set PHIGATE_MASTER_KEY (64 hex chars) or pass --master-key-file");
  }
  return FromText(v);
}

Result<std::unique_ptr<LocalKeyProvider>> LocalKeyProvider::FromFile(const std::string& path) {
  // The one secret that unwraps every tenant's keys.
  PHIGATE_ASSIGN_OR_RETURN(SecretBytes text, ReadSecretFile(path, "master key file"));
  return FromText(text.view());
}

Result<std::string> LocalKeyProvider::Wrap(std::string_view data_key,
                                           std::string_view context) const {
  PHIGATE_ASSIGN_OR_RETURN(std::string sealed, kek_->Seal(data_key, context));
  std::string out(kWrapMagic);
  out += static_cast<char>(key_id_.size());
  out += key_id_;
  out += sealed;
  return out;
}

Result<SecretBytes> LocalKeyProvider::Unwrap(std::string_view wrapped,
                                             std::string_view context) const {
  if (wrapped.size() < 3 || wrapped.substr(0, 2) != kWrapMagic) {
    return absl::DataLossError("wrapped key has an unknown format");
  }
  const size_t id_len = static_cast<unsigned char>(wrapped[2]);
  if (wrapped.size() < 3 + id_len) return absl::DataLossError("wrapped key is truncated");
  const std::string_view id = wrapped.substr(3, id_len);
  if (id != key_id_) {
    return absl::FailedPreconditionError(
        absl::StrCat("wrong master key: the data key was wrapped under master key ", ToAbsl(id),
                     " but the configured master key is ", key_id_));
  }
  auto opened = kek_->Open(wrapped.substr(3 + id_len), context);
  if (!opened.ok()) {
    return absl::DataLossError("wrapped data key failed authentication (corrupted or moved)");
  }
  return SecretBytes(std::move(*opened));
}

Result<std::string> GenerateMasterKeyHex() {
  PHIGATE_ASSIGN_OR_RETURN(SecretBytes k, RandomSecret(32));
  return HexEncode(k.view());
}

}  // namespace phigate::crypto
