#include "phigate/crypto/keyring.h"

#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "phigate/crypto/encoding.h"
#include "phigate/crypto/random.h"

namespace phigate::crypto {

std::string WrappedKey::Serialize() const {
  return absl::StrCat("pgk1|", static_cast<int>(purpose), "|", version, "|", master_key_id, "|",
                      created_at, "|", HexEncode(wrapped));
}

Result<WrappedKey> WrappedKey::Parse(std::string_view text) {
  std::vector<absl::string_view> f = absl::StrSplit(ToAbsl(text), '|');
  if (f.size() != 6 || f[0] != "pgk1") return absl::DataLossError("wrapped key record malformed");
  WrappedKey k;
  int purpose = 0;
  if (!absl::SimpleAtoi(f[1], &purpose) || (purpose != 1 && purpose != 2) ||
      !absl::SimpleAtoi(f[2], &k.version) || !absl::SimpleAtoi(f[4], &k.created_at)) {
    return absl::DataLossError("wrapped key record has a bad field");
  }
  k.purpose = static_cast<KeyPurpose>(purpose);
  k.master_key_id = std::string(f[3]);
  auto w = HexDecode(FromAbsl(f[5]));
  if (!w.ok()) return absl::DataLossError("wrapped key record has bad hex");
  k.wrapped = std::move(*w);
  return k;
}

std::string WrapContext(std::string_view tenant, KeyPurpose purpose, uint32_t version) {
  return absl::StrCat("phigate-dek|", ToAbsl(tenant), "|", static_cast<int>(purpose), "|", version);
}

Result<WrappedKey> NewWrappedKey(const KeyProvider& provider, std::string_view tenant,
                                 KeyPurpose purpose, uint32_t version, int64_t now) {
  PHIGATE_ASSIGN_OR_RETURN(SecretBytes dek, RandomSecret(kAeadKeyBytes));
  WrappedKey k;
  k.purpose = purpose;
  k.version = version;
  k.master_key_id = provider.key_id();
  k.created_at = now;
  PHIGATE_ASSIGN_OR_RETURN(k.wrapped,
                           provider.Wrap(dek.view(), WrapContext(tenant, purpose, version)));
  return k;
}

Result<WrappedKey> RewrapKey(const WrappedKey& key, std::string_view tenant,
                             const KeyProvider& from, const KeyProvider& to) {
  const std::string ctx = WrapContext(tenant, key.purpose, key.version);
  PHIGATE_ASSIGN_OR_RETURN(SecretBytes dek, from.Unwrap(key.wrapped, ctx));
  WrappedKey out = key;
  out.master_key_id = to.key_id();
  PHIGATE_ASSIGN_OR_RETURN(out.wrapped, to.Wrap(dek.view(), ctx));
  return out;
}

Result<std::unique_ptr<Keyring>> Keyring::Unwrap(const KeyProvider& provider,
                                                 std::string_view tenant,
                                                 const std::vector<WrappedKey>& keys) {
  std::unique_ptr<Keyring> ring(new Keyring());
  for (const WrappedKey& k : keys) {
    PHIGATE_ASSIGN_OR_RETURN(SecretBytes dek,
                             provider.Unwrap(k.wrapped, WrapContext(tenant, k.purpose, k.version)));
    if (k.purpose == KeyPurpose::kIndex) {
      PHIGATE_ASSIGN_OR_RETURN(ring->index_, KeyedHash::Create(std::move(dek)));
    } else {
      PHIGATE_ASSIGN_OR_RETURN(auto aead, Aead::Create(std::move(dek)));
      ring->data_[k.version] = std::move(aead);
      if (k.version > ring->current_version_) ring->current_version_ = k.version;
    }
  }
  if (ring->index_ == nullptr) return absl::NotFoundError("tenant has no blind-index key");
  if (ring->data_.empty()) return absl::NotFoundError("tenant has no data key");
  return ring;
}

Result<const Aead*> Keyring::DataKey(uint32_t version) const {
  auto it = data_.find(version);
  if (it == data_.end()) {
    return absl::NotFoundError(
        absl::StrCat("data key version ", version, " does not exist (destroyed or never made)"));
  }
  return it->second.get();
}

std::vector<uint32_t> Keyring::versions() const {
  std::vector<uint32_t> v;
  for (const auto& [ver, _] : data_) v.push_back(ver);
  return v;
}

}  // namespace phigate::crypto
