#include "phigate/crypto/random.h"

#include <openssl/rand.h>

#include <climits>

namespace phigate::crypto {

Status RandomBytes(void* out, size_t n) {
  auto* p = static_cast<unsigned char*>(out);
  while (n > 0) {
    const size_t chunk = n > size_t{INT_MAX} ? size_t{INT_MAX} : n;
    if (RAND_bytes(p, static_cast<int>(chunk)) != 1) {
      return absl::InternalError("CSPRNG failure (RAND_bytes)");
    }
    p += chunk;
    n -= chunk;
  }
  return absl::OkStatus();
}

Result<std::string> RandomString(size_t n) {
  std::string s(n, '\0');
  PHIGATE_RETURN_IF_ERROR(RandomBytes(s.data(), n));
  return s;
}

Result<SecretBytes> RandomSecret(size_t n) {
  std::string s(n, '\0');
  if (Status st = RandomBytes(s.data(), n); !st.ok()) {
    SecureWipe(s.data(), s.size());
    return st;
  }
  return SecretBytes(std::move(s));
}

Result<uint64_t> RandomUniform(uint64_t bound) {
  if (bound == 0) return absl::InvalidArgumentError("RandomUniform: bound must be > 0");
  // Rejection sampling: drop values in the incomplete last block.
  const uint64_t limit = UINT64_MAX - (UINT64_MAX % bound);
  for (;;) {
    uint64_t v = 0;
    PHIGATE_RETURN_IF_ERROR(RandomBytes(&v, sizeof v));
    if (v < limit) return v % bound;
  }
}

}  // namespace phigate::crypto
