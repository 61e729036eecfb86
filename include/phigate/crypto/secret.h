// SecretBytes: key material that is wiped from memory when it goes away.
//
// Example:
//   PHIGATE_ASSIGN_OR_RETURN(SecretBytes key, RandomSecret(32));
//   UseKey(key.view());
#ifndef PHIGATE_CRYPTO_SECRET_H_
#define PHIGATE_CRYPTO_SECRET_H_

#include <string>
#include <string_view>
#include <utility>

#include "phigate/core/status.h"

namespace phigate::crypto {

// Overwrites n bytes at p with zeros in a way the compiler may not elide.
void SecureWipe(void* p, size_t n);

// Owns secret bytes (keys). Movable, not copyable (a copy would be one more
// place to wipe); Clone() makes an explicit copy. Never printed or logged.
class SecretBytes {
 public:
  SecretBytes() = default;
  explicit SecretBytes(std::string bytes) : bytes_(std::move(bytes)) {}
  SecretBytes(std::string_view bytes) = delete;  // be explicit: SecretBytes(std::string(...))
  ~SecretBytes() { Wipe(); }
  SecretBytes(SecretBytes&& o) noexcept : bytes_(std::move(o.bytes_)) { o.Wipe(); }
  SecretBytes& operator=(SecretBytes&& o) noexcept {
    if (this != &o) {
      Wipe();
      bytes_ = std::move(o.bytes_);
      o.Wipe();
    }
    return *this;
  }
  SecretBytes(const SecretBytes&) = delete;
  SecretBytes& operator=(const SecretBytes&) = delete;

  SecretBytes Clone() const { return SecretBytes(std::string(bytes_)); }
  std::string_view view() const { return bytes_; }
  const unsigned char* data() const {
    return reinterpret_cast<const unsigned char*>(bytes_.data());
  }
  size_t size() const { return bytes_.size(); }
  bool empty() const { return bytes_.empty(); }

 private:
  void Wipe() {
    if (!bytes_.empty()) SecureWipe(bytes_.data(), bytes_.size());
    bytes_.clear();
  }
  std::string bytes_;
};

// Reads a file that holds a key (`what` names it in errors, e.g. "master key
// file"): a regular file of at most 4 KiB that only its owner may read, as
// ssh requires of a private key. NotFound, InvalidArgument (not a regular
// file, too large) or FailedPrecondition (readable by group or others:
// "chmod 600 it"). The contents are never part of an error.
Result<SecretBytes> ReadSecretFile(const std::string& path, std::string_view what);

}  // namespace phigate::crypto

#endif  // PHIGATE_CRYPTO_SECRET_H_
