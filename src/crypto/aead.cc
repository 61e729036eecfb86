#include "phigate/crypto/aead.h"

#include <openssl/evp.h>

#include <climits>
#include <mutex>
#include <vector>

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
  void operator()(EVP_CIPHER_CTX* c) const { EVP_CIPHER_CTX_free(c); }  // cleanses the key
};
using CtxPtr = std::unique_ptr<EVP_CIPHER_CTX, CtxDeleter>;

bool FitsInt(size_t n) { return n <= static_cast<size_t>(INT_MAX); }

}  // namespace

// Contexts already keyed with this Aead's key, for encryption and decryption.
// A call takes one (or keys a new one), sets only the nonce, and returns it:
// the AES key schedule and GHASH table are computed once per context instead
// of once per call (half the cost of sealing a short value). The contexts die
// with the Aead (EVP_CIPHER_CTX_free wipes the key schedule).
struct Aead::ContextPool {
  std::mutex mu;
  std::vector<CtxPtr> enc, dec;

  // A context keyed for `encrypt`, or null when OpenSSL fails.
  CtxPtr Take(bool encrypt, const SecretBytes& key) {
    {
      std::lock_guard<std::mutex> lock(mu);
      auto& free = encrypt ? enc : dec;
      if (!free.empty()) {
        CtxPtr c = std::move(free.back());
        free.pop_back();
        return c;
      }
    }
    CtxPtr c(EVP_CIPHER_CTX_new());
    if (c == nullptr) return nullptr;
    const int ok = encrypt ? EVP_EncryptInit_ex2(c.get(), Gcm(), key.data(), nullptr, nullptr)
                           : EVP_DecryptInit_ex2(c.get(), Gcm(), key.data(), nullptr, nullptr);
    return ok == 1 ? std::move(c) : nullptr;
  }
  void Give(bool encrypt, CtxPtr c) {
    std::lock_guard<std::mutex> lock(mu);
    auto& free = encrypt ? enc : dec;
    if (free.size() < 64) free.push_back(std::move(c));
  }
};

Aead::Aead(SecretBytes key) : key_(std::move(key)), pool_(std::make_unique<ContextPool>()) {}

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
  CtxPtr held = pool_->Take(/*encrypt=*/true, key_);
  if (held == nullptr) return absl::InternalError("AES-256-GCM context setup failed");
  EVP_CIPHER_CTX* ctx = held.get();
  int len = 0;
  // A failed call drops the context (never returned to the pool).
  if (EVP_EncryptInit_ex2(ctx, nullptr, nullptr, o, nullptr) != 1 ||
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
  pool_->Give(/*encrypt=*/true, std::move(held));
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
  CtxPtr held = pool_->Take(/*encrypt=*/false, key_);
  if (held == nullptr) return absl::InternalError("AES-256-GCM context setup failed");
  EVP_CIPHER_CTX* ctx = held.get();
  int len = 0;
  unsigned char tag[kAeadTagBytes];
  std::copy(in + kAeadNonceBytes + ct_len, in + sealed.size(), tag);
  if (EVP_DecryptInit_ex2(ctx, nullptr, nullptr, in, nullptr) != 1 ||
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
  pool_->Give(/*encrypt=*/false, std::move(held));
  return out;
}

}  // namespace phigate::crypto
