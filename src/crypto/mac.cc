#include "phigate/crypto/mac.h"

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/kdf.h>
#include <openssl/params.h>

#include <mutex>
#include <vector>

namespace phigate::crypto {
namespace {

EVP_MAC* HmacAlgo() {
  static EVP_MAC* mac = EVP_MAC_fetch(nullptr, "HMAC", nullptr);
  return mac;
}

struct MacCtxDeleter {
  void operator()(EVP_MAC_CTX* c) const { EVP_MAC_CTX_free(c); }
};
using MacCtxPtr = std::unique_ptr<EVP_MAC_CTX, MacCtxDeleter>;

}  // namespace

// A keyed template context plus a pool of keyed contexts for Compute(): a
// call takes one (or duplicates the template), re-initialises it with the
// same key (EVP_MAC_init with a null key restores the keyed state, no
// re-keying) and returns it, instead of duplicating the template per call.
struct KeyedHash::State {
  MacCtxPtr keyed;
  std::mutex mu;
  std::vector<MacCtxPtr> free;

  MacCtxPtr Take() {
    {
      std::lock_guard<std::mutex> lock(mu);
      if (!free.empty()) {
        MacCtxPtr c = std::move(free.back());
        free.pop_back();
        return c;
      }
    }
    return MacCtxPtr(EVP_MAC_CTX_dup(keyed.get()));
  }
  void Give(MacCtxPtr c) {
    std::lock_guard<std::mutex> lock(mu);
    if (free.size() < 64) free.push_back(std::move(c));
  }
};

KeyedHash::KeyedHash(std::unique_ptr<State> state) : state_(std::move(state)) {}
KeyedHash::~KeyedHash() = default;

Result<std::unique_ptr<KeyedHash>> KeyedHash::Create(SecretBytes key) {
  if (key.size() < 16) return absl::InvalidArgumentError("HMAC key must be at least 16 bytes");
  if (HmacAlgo() == nullptr) return absl::InternalError("OpenSSL has no HMAC");
  MacCtxPtr ctx(EVP_MAC_CTX_new(HmacAlgo()));
  if (ctx == nullptr) return absl::InternalError("EVP_MAC_CTX_new failed");
  char digest[] = "SHA256";
  OSSL_PARAM params[] = {
      OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, digest, 0),
      OSSL_PARAM_construct_end(),
  };
  if (EVP_MAC_init(ctx.get(), key.data(), key.size(), params) != 1) {
    return absl::InternalError("HMAC init failed");
  }
  auto state = std::make_unique<State>();
  state->keyed = std::move(ctx);
  return std::unique_ptr<KeyedHash>(new KeyedHash(std::move(state)));
}

Result<Digest> KeyedHash::Compute(std::initializer_list<std::string_view> parts) const {
  MacCtxPtr ctx = state_->Take();
  if (ctx == nullptr) return absl::InternalError("EVP_MAC_CTX_dup failed");
  if (EVP_MAC_init(ctx.get(), nullptr, 0, nullptr) != 1) {
    return absl::InternalError("HMAC re-init failed");
  }
  for (std::string_view p : parts) {
    const uint32_t n = static_cast<uint32_t>(p.size());
    const unsigned char len[4] = {
        static_cast<unsigned char>(n >> 24), static_cast<unsigned char>(n >> 16),
        static_cast<unsigned char>(n >> 8), static_cast<unsigned char>(n)};
    if (EVP_MAC_update(ctx.get(), len, 4) != 1 ||
        EVP_MAC_update(ctx.get(), reinterpret_cast<const unsigned char*>(p.data()), p.size()) !=
            1) {
      return absl::InternalError("HMAC update failed");
    }
  }
  Digest d{};
  size_t out_len = 0;
  if (EVP_MAC_final(ctx.get(), d.data(), &out_len, d.size()) != 1 || out_len != d.size()) {
    return absl::InternalError("HMAC final failed");
  }
  state_->Give(std::move(ctx));
  return d;
}

Result<SecretBytes> DeriveSecret(std::string_view ikm, std::string_view salt, std::string_view info,
                                 size_t length) {
  EVP_KDF* kdf = EVP_KDF_fetch(nullptr, "HKDF", nullptr);
  if (kdf == nullptr) return absl::InternalError("OpenSSL has no HKDF");
  EVP_KDF_CTX* ctx = EVP_KDF_CTX_new(kdf);
  EVP_KDF_free(kdf);
  if (ctx == nullptr) return absl::InternalError("EVP_KDF_CTX_new failed");
  char digest[] = "SHA256";
  std::string salt_copy(salt), info_copy(info), ikm_copy(ikm);
  OSSL_PARAM params[] = {
      OSSL_PARAM_construct_utf8_string(OSSL_KDF_PARAM_DIGEST, digest, 0),
      OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_KEY, ikm_copy.data(), ikm_copy.size()),
      OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_SALT, salt_copy.data(), salt_copy.size()),
      OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_INFO, info_copy.data(), info_copy.size()),
      OSSL_PARAM_construct_end(),
  };
  std::string out(length, '\0');
  const int rc =
      EVP_KDF_derive(ctx, reinterpret_cast<unsigned char*>(out.data()), out.size(), params);
  EVP_KDF_CTX_free(ctx);
  SecureWipe(ikm_copy.data(), ikm_copy.size());
  if (rc != 1) return absl::InternalError("HKDF derive failed");
  return SecretBytes(std::move(out));
}

bool ConstantTimeEquals(std::string_view a, std::string_view b) {
  return a.size() == b.size() && CRYPTO_memcmp(a.data(), b.data(), a.size()) == 0;
}

}  // namespace phigate::crypto
