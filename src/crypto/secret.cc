#include "phigate/crypto/secret.h"

#include <openssl/crypto.h>

namespace phigate::crypto {

void SecureWipe(void* p, size_t n) { OPENSSL_cleanse(p, n); }

}  // namespace phigate::crypto
