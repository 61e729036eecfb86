// Cryptographically secure random bytes (OpenSSL's DRBG, seeded by the OS).
// Every function is thread-safe. A failure of the generator is an Internal
// error; callers must fail closed (never fall back to a weaker source).
//
// Example:
//   PHIGATE_ASSIGN_OR_RETURN(uint64_t n, crypto::RandomUniform(30));
#ifndef PHIGATE_CRYPTO_RANDOM_H_
#define PHIGATE_CRYPTO_RANDOM_H_

#include <cstddef>
#include <cstdint>
#include <string>

#include "phigate/core/status.h"
#include "phigate/crypto/secret.h"

namespace phigate::crypto {

// Fills [out, out+n) with CSPRNG bytes.
Status RandomBytes(void* out, size_t n);

// n CSPRNG bytes as a string.
Result<std::string> RandomString(size_t n);

// n CSPRNG bytes held as a secret (keys).
Result<SecretBytes> RandomSecret(size_t n);

// A uniform integer in [0, bound), bound > 0, without modulo bias.
Result<uint64_t> RandomUniform(uint64_t bound);

}  // namespace phigate::crypto

#endif  // PHIGATE_CRYPTO_RANDOM_H_
