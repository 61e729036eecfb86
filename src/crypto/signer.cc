// Ed25519 and digests over OpenSSL 3 EVP. Every OpenSSL failure becomes a
// Status; no error text from OpenSSL (which never sees PHI here) is needed.
#include "phigate/crypto/signer.h"

#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/kdf.h>
#include <openssl/pem.h>
#include <openssl/rand.h>

#include <cstring>
#include <fstream>
#include <iterator>

#include "absl/strings/str_cat.h"
#include "phigate/crypto/secret.h"

namespace phigate::crypto {
namespace {

const EVP_MD* Sha256Md() {
  // Fetched once: implicit fetching per call costs a lock and a lookup.
  static EVP_MD* md = EVP_MD_fetch(nullptr, "SHA256", nullptr);
  return md;
}

struct MdCtxDeleter {
  void operator()(EVP_MD_CTX* c) const { EVP_MD_CTX_free(c); }
};

std::string Trim(std::string_view s) {
  size_t b = 0, e = s.size();
  while (b < e && (s[b] == ' ' || s[b] == '\n' || s[b] == '\r' || s[b] == '\t')) ++b;
  while (e > b && (s[e - 1] == ' ' || s[e - 1] == '\n' || s[e - 1] == '\r' || s[e - 1] == '\t'))
    --e;
  return std::string(s.substr(b, e - b));
}

struct BioDeleter {
  void operator()(BIO* b) const { BIO_free(b); }
};

}  // namespace

Sha256Digest Sha256(std::string_view a, std::string_view b, std::string_view c) {
  thread_local std::unique_ptr<EVP_MD_CTX, MdCtxDeleter> ctx(EVP_MD_CTX_new());
  Sha256Digest out{};
  unsigned int len = 0;
  // These calls fail only on allocation failure inside OpenSSL; the context is
  // preallocated and SHA-256 needs none, so a failure is a broken library.
  bool ok = EVP_DigestInit_ex2(ctx.get(), Sha256Md(), nullptr) == 1 &&
            EVP_DigestUpdate(ctx.get(), a.data(), a.size()) == 1 &&
            (b.empty() || EVP_DigestUpdate(ctx.get(), b.data(), b.size()) == 1) &&
            (c.empty() || EVP_DigestUpdate(ctx.get(), c.data(), c.size()) == 1) &&
            EVP_DigestFinal_ex(ctx.get(), out.data(), &len) == 1;
  if (!ok || len != kSha256Size) std::abort();
  return out;
}

Sha256Digest HmacSha256(std::string_view key, std::string_view message) {
  Sha256Digest out{};
  unsigned int len = 0;
  if (HMAC(Sha256Md(), key.data(), static_cast<int>(key.size()),
           reinterpret_cast<const unsigned char*>(message.data()), message.size(), out.data(),
           &len) == nullptr ||
      len != kSha256Size) {
    std::abort();
  }
  return out;
}

Result<std::string> HkdfSha256(std::string_view ikm, std::string_view salt, std::string_view info,
                               size_t out_len) {
  if (ikm.empty() || out_len == 0 || out_len > 255 * kSha256Size) {
    return absl::InvalidArgumentError("hkdf: empty key material or bad output length");
  }
  EVP_KDF* kdf = EVP_KDF_fetch(nullptr, "HKDF", nullptr);
  if (kdf == nullptr) return absl::InternalError("hkdf: unavailable");
  EVP_KDF_CTX* kctx = EVP_KDF_CTX_new(kdf);
  EVP_KDF_free(kdf);
  if (kctx == nullptr) return absl::InternalError("hkdf: context");
  std::string ikm_c(ikm), salt_c(salt), info_c(info);
  char digest[] = "SHA256";
  OSSL_PARAM params[] = {
      OSSL_PARAM_construct_utf8_string(OSSL_KDF_PARAM_DIGEST, digest, 0),
      OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_KEY, ikm_c.data(), ikm_c.size()),
      OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_SALT, salt_c.data(), salt_c.size()),
      OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_INFO, info_c.data(), info_c.size()),
      OSSL_PARAM_construct_end()};
  std::string out(out_len, '\0');
  const int rc =
      EVP_KDF_derive(kctx, reinterpret_cast<unsigned char*>(out.data()), out.size(), params);
  EVP_KDF_CTX_free(kctx);
  if (rc != 1) return absl::InternalError("hkdf: derive failed");
  return out;
}

std::string ToHex(std::string_view bytes) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string out;
  out.resize(bytes.size() * 2);
  for (size_t i = 0; i < bytes.size(); ++i) {
    const auto v = static_cast<uint8_t>(bytes[i]);
    out[2 * i] = kDigits[v >> 4];
    out[2 * i + 1] = kDigits[v & 15];
  }
  return out;
}

Result<std::string> FromHex(std::string_view hex) {
  if (hex.size() % 2 != 0) return absl::InvalidArgumentError("hex: odd length");
  auto nib = [](char c) -> int {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
  };
  std::string out(hex.size() / 2, '\0');
  for (size_t i = 0; i < out.size(); ++i) {
    const int hi = nib(hex[2 * i]), lo = nib(hex[2 * i + 1]);
    if (hi < 0 || lo < 0) {
      return absl::InvalidArgumentError(absl::StrCat("hex: bad digit at offset ", 2 * i));
    }
    out[i] = static_cast<char>((hi << 4) | lo);
  }
  return out;
}

// ---------------------------------------------------------------- Ed25519

struct Ed25519Signer::Key {
  EVP_PKEY* pkey = nullptr;
  ~Key() { EVP_PKEY_free(pkey); }
};
struct Ed25519Verifier::Key {
  EVP_PKEY* pkey = nullptr;
  ~Key() { EVP_PKEY_free(pkey); }
};

namespace {

Result<std::string> RawPublicOf(EVP_PKEY* pkey) {
  std::string raw(kEd25519PublicKeySize, '\0');
  size_t len = raw.size();
  if (EVP_PKEY_get_raw_public_key(pkey, reinterpret_cast<unsigned char*>(raw.data()), &len) != 1 ||
      len != kEd25519PublicKeySize) {
    return absl::InternalError("ed25519: cannot read public key");
  }
  return raw;
}

}  // namespace

Ed25519Signer::Ed25519Signer(std::unique_ptr<Key> key, std::string raw_public)
    : key_(std::move(key)), raw_public_(std::move(raw_public)) {}
Ed25519Signer::~Ed25519Signer() = default;

Result<std::unique_ptr<Ed25519Signer>> Ed25519Signer::FromSeed(std::string_view seed) {
  if (seed.size() != kEd25519SeedSize) {
    return absl::InvalidArgumentError("ed25519: the seed must be 32 bytes");
  }
  auto key = std::make_unique<Key>();
  key->pkey = EVP_PKEY_new_raw_private_key(
      EVP_PKEY_ED25519, nullptr, reinterpret_cast<const unsigned char*>(seed.data()), seed.size());
  if (key->pkey == nullptr) return absl::InternalError("ed25519: cannot load seed");
  PHIGATE_ASSIGN_OR_RETURN(std::string raw, RawPublicOf(key->pkey));
  return std::unique_ptr<Ed25519Signer>(new Ed25519Signer(std::move(key), std::move(raw)));
}

Result<std::unique_ptr<Ed25519Signer>> Ed25519Signer::FromPem(std::string_view pem) {
  const std::string trimmed = Trim(pem);
  if (trimmed.size() == 2 * kEd25519SeedSize && trimmed.find('-') == std::string::npos) {
    PHIGATE_ASSIGN_OR_RETURN(std::string seed, FromHex(trimmed));
    return FromSeed(seed);
  }
  std::unique_ptr<BIO, BioDeleter> bio(
      BIO_new_mem_buf(trimmed.data(), static_cast<int>(trimmed.size())));
  auto key = std::make_unique<Key>();
  key->pkey = PEM_read_bio_PrivateKey(bio.get(), nullptr, nullptr, nullptr);
  if (key->pkey == nullptr || EVP_PKEY_get_id(key->pkey) != EVP_PKEY_ED25519) {
    return absl::InvalidArgumentError(
        "ed25519: not an Ed25519 private key (PKCS#8 PEM or hex seed)");
  }
  PHIGATE_ASSIGN_OR_RETURN(std::string raw, RawPublicOf(key->pkey));
  return std::unique_ptr<Ed25519Signer>(new Ed25519Signer(std::move(key), std::move(raw)));
}

Result<std::unique_ptr<Ed25519Signer>> Ed25519Signer::FromFile(const std::string& path) {
  PHIGATE_ASSIGN_OR_RETURN(SecretBytes pem, ReadSecretFile(path, "ed25519: the signing key file"));
  return FromPem(pem.view());
}

Result<std::unique_ptr<Ed25519Signer>> Ed25519Signer::Generate() {
  std::string seed(kEd25519SeedSize, '\0');
  if (RAND_bytes(reinterpret_cast<unsigned char*>(seed.data()), static_cast<int>(seed.size())) !=
      1) {
    return absl::InternalError("ed25519: no randomness");
  }
  return FromSeed(seed);
}

Result<std::string> Ed25519Signer::Sign(std::string_view message) const {
  std::unique_ptr<EVP_MD_CTX, MdCtxDeleter> ctx(EVP_MD_CTX_new());
  std::string sig(kEd25519SignatureSize, '\0');
  size_t len = sig.size();
  if (ctx == nullptr || EVP_DigestSignInit(ctx.get(), nullptr, nullptr, nullptr, key_->pkey) != 1 ||
      EVP_DigestSign(ctx.get(), reinterpret_cast<unsigned char*>(sig.data()), &len,
                     reinterpret_cast<const unsigned char*>(message.data()), message.size()) != 1 ||
      len != kEd25519SignatureSize) {
    return absl::InternalError("ed25519: signing failed");
  }
  return sig;
}

std::string Ed25519Signer::PublicKeyPem() const {
  std::unique_ptr<BIO, BioDeleter> bio(BIO_new(BIO_s_mem()));
  if (PEM_write_bio_PUBKEY(bio.get(), key_->pkey) != 1) return "";
  char* data = nullptr;
  const long n = BIO_get_mem_data(bio.get(), &data);
  return std::string(data, static_cast<size_t>(n));
}

Result<std::string> Ed25519Signer::PrivateKeyPem() const {
  std::unique_ptr<BIO, BioDeleter> bio(BIO_new(BIO_s_mem()));
  if (PEM_write_bio_PrivateKey(bio.get(), key_->pkey, nullptr, nullptr, 0, nullptr, nullptr) != 1) {
    return absl::InternalError("ed25519: cannot export the private key");
  }
  char* data = nullptr;
  const long n = BIO_get_mem_data(bio.get(), &data);
  return std::string(data, static_cast<size_t>(n));
}

Ed25519Verifier::Ed25519Verifier(std::unique_ptr<Key> key, std::string raw_public)
    : key_(std::move(key)), raw_public_(std::move(raw_public)) {}
Ed25519Verifier::~Ed25519Verifier() = default;

Result<std::unique_ptr<Ed25519Verifier>> Ed25519Verifier::FromRawPublicKey(std::string_view raw) {
  if (raw.size() != kEd25519PublicKeySize) {
    return absl::InvalidArgumentError("ed25519: the public key must be 32 bytes");
  }
  auto key = std::make_unique<Key>();
  key->pkey = EVP_PKEY_new_raw_public_key(
      EVP_PKEY_ED25519, nullptr, reinterpret_cast<const unsigned char*>(raw.data()), raw.size());
  if (key->pkey == nullptr) return absl::InvalidArgumentError("ed25519: bad public key");
  return std::unique_ptr<Ed25519Verifier>(new Ed25519Verifier(std::move(key), std::string(raw)));
}

Result<std::unique_ptr<Ed25519Verifier>> Ed25519Verifier::FromPem(std::string_view pem) {
  const std::string trimmed = Trim(pem);
  if (trimmed.size() == 2 * kEd25519PublicKeySize && trimmed.find('-') == std::string::npos) {
    PHIGATE_ASSIGN_OR_RETURN(std::string raw, FromHex(trimmed));
    return FromRawPublicKey(raw);
  }
  std::unique_ptr<BIO, BioDeleter> bio(
      BIO_new_mem_buf(trimmed.data(), static_cast<int>(trimmed.size())));
  auto key = std::make_unique<Key>();
  key->pkey = PEM_read_bio_PUBKEY(bio.get(), nullptr, nullptr, nullptr);
  if (key->pkey == nullptr || EVP_PKEY_get_id(key->pkey) != EVP_PKEY_ED25519) {
    return absl::InvalidArgumentError("ed25519: not an Ed25519 public key");
  }
  PHIGATE_ASSIGN_OR_RETURN(std::string raw, RawPublicOf(key->pkey));
  return std::unique_ptr<Ed25519Verifier>(new Ed25519Verifier(std::move(key), std::move(raw)));
}

Status Ed25519Verifier::Verify(std::string_view message, std::string_view signature) const {
  if (signature.size() != kEd25519SignatureSize) {
    return absl::DataLossError("ed25519: signature has the wrong size");
  }
  std::unique_ptr<EVP_MD_CTX, MdCtxDeleter> ctx(EVP_MD_CTX_new());
  if (ctx == nullptr ||
      EVP_DigestVerifyInit(ctx.get(), nullptr, nullptr, nullptr, key_->pkey) != 1) {
    return absl::InternalError("ed25519: verify init failed");
  }
  if (EVP_DigestVerify(ctx.get(), reinterpret_cast<const unsigned char*>(signature.data()),
                       signature.size(), reinterpret_cast<const unsigned char*>(message.data()),
                       message.size()) != 1) {
    return absl::DataLossError("ed25519: signature does not verify");
  }
  return absl::OkStatus();
}

}  // namespace phigate::crypto
