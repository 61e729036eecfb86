#include "phigate/crypto/aead.h"

#include <openssl/evp.h>

#include <climits>

#include "phigate/crypto/random.h"

namespace phigate::crypto {
namespace {

// Fetched once: OpenSSL 3's implicit fetch in EVP_aes_256_gcm() costs a
// lookup per call, which shows in the vault benchmark.
const EVP_CIPHER* Gcm() {
  static EVP_CIPHER* cipher = EVP_CIPHER_fetch(nullptr, "AES-256-GCM", nullptr);
  return cipher;
}

struct CtxDeleter {
  void operator()(EVP_CIPHER_CTX* c) const { EVP_CIPHER_CTX_free(c); }
};
using CtxPtr = std::unique_ptr<EVP_CIPHER_CTX, CtxDeleter>;

// One context per thread, re-initialised per call (cheaper than new/free).
EVP_CIPHER_CTX* ThreadCtx() {
  thread_local CtxPtr ctx(EVP_CIPHER_CTX_new());
  return ctx.get();
}

bool FitsInt(size_t n) { return n <= static_cast<size_t>(INT_MAX); }

}  // namespace

Result<std::unique_ptr<Aead>> Aead::Create(SecretBytes key) {
  if (key.size() != kAeadKeyBytes) {
    return absl::InvalidArgumentError("AES-256-GCM needs a 32-byte key");
  }
  if (Gcm() == nullptr) return absl::InternalError("OpenSSL has no AES-256-GCM");
  return std::unique_ptr<Aead>(new Aead(std::move(key)));
}

Aead::~Aead() = default;

Result<std::string> Aead::Seal(std::string_view plaintext, std::string_view ad) const {
  if (!FitsInt(plaintext.size()) || !FitsInt(ad.size())) {
    return absl::InvalidArgumentError("AEAD input too large");
  }
  std::string out(kAeadNonceBytes + plaintext.size() + kAeadTagBytes, '\0');
  auto* o = reinterpret_cast<unsigned char*>(out.data());
  PHIGATE_RETURN_IF_ERROR(RandomBytes(o, kAeadNonceBytes));
  EVP_CIPHER_CTX* ctx = ThreadCtx();
  if (ctx == nullptr) return absl::InternalError("EVP_CIPHER_CTX_new failed");
  int len = 0;
  if (EVP_EncryptInit_ex2(ctx, Gcm(), key_.data(), o, nullptr) != 1 ||
      (!ad.empty() &&
       EVP_EncryptUpdate(ctx, nullptr, &len, reinterpret_cast<const unsigned char*>(ad.data()),
                         static_cast<int>(ad.size())) != 1) ||
      EVP_EncryptUpdate(ctx, o + kAeadNonceBytes, &len,
                        reinterpret_cast<const unsigned char*>(plaintext.data()),
                        static_cast<int>(plaintext.size())) != 1 ||
      EVP_EncryptFinal_ex(ctx, o + kAeadNonceBytes + len, &len) != 1 ||
      EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_GET_TAG, static_cast<int>(kAeadTagBytes),
                          o + kAeadNonceBytes + plaintext.size()) != 1) {
    return absl::InternalError("AES-256-GCM seal failed");
  }
  return out;
}

Result<std::string> Aead::Open(std::string_view sealed, std::string_view ad) const {
  if (sealed.size() < kAeadOverheadBytes) {
    return absl::DataLossError("sealed value is truncated");
  }
  if (!FitsInt(sealed.size()) || !FitsInt(ad.size())) {
    return absl::InvalidArgumentError("AEAD input too large");
  }
  const auto* in = reinterpret_cast<const unsigned char*>(sealed.data());
  const size_t ct_len = sealed.size() - kAeadOverheadBytes;
  std::string out(ct_len, '\0');
  EVP_CIPHER_CTX* ctx = ThreadCtx();
  if (ctx == nullptr) return absl::InternalError("EVP_CIPHER_CTX_new failed");
  int len = 0;
  unsigned char tag[kAeadTagBytes];
  std::copy(in + kAeadNonceBytes + ct_len, in + sealed.size(), tag);
  if (EVP_DecryptInit_ex2(ctx, Gcm(), key_.data(), in, nullptr) != 1 ||
      (!ad.empty() &&
       EVP_DecryptUpdate(ctx, nullptr, &len, reinterpret_cast<const unsigned char*>(ad.data()),
                         static_cast<int>(ad.size())) != 1) ||
      EVP_DecryptUpdate(ctx, reinterpret_cast<unsigned char*>(out.data()), &len,
                        in + kAeadNonceBytes, static_cast<int>(ct_len)) != 1 ||
      EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_SET_TAG, static_cast<int>(kAeadTagBytes), tag) != 1) {
    SecureWipe(out.data(), out.size());
    return absl::InternalError("AES-256-GCM open failed");
  }
  int final_len = 0;
  if (EVP_DecryptFinal_ex(ctx, reinterpret_cast<unsigned char*>(out.data()) + len, &final_len) !=
      1) {
    // Never hand out unauthenticated plaintext.
    SecureWipe(out.data(), out.size());
    return absl::DataLossError(
        "authentication failed: wrong key, wrong record binding or corrupted value");
  }
  return out;
}

}  // namespace phigate::crypto
