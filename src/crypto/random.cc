#include "phigate/crypto/random.h"

#include <openssl/crypto.h>
#include <openssl/rand.h>
#include <pthread.h>

#include <atomic>
#include <climits>
#include <cstring>

namespace phigate::crypto {
namespace {

// One RAND_bytes call costs ~1.5 us whatever its size (DRBG locking, fork and
// reseed checks), which was a third of the vault's per-token crypto. Small
// requests (nonces, token bodies) are served from a per-thread buffer filled
// by one call: consumed bytes are wiped at once, the buffer is discarded in a
// child after fork() (so parent and child never hand out the same bytes), and
// wiped when the thread ends. Secrets (keys) never come from the buffer.
constexpr size_t kPoolBytes = 4096;
constexpr size_t kPooledMax = 64;

std::atomic<uint64_t> fork_generation{1};
void OnForkChild() { fork_generation.fetch_add(1, std::memory_order_relaxed); }

struct Pool {
  unsigned char buf[kPoolBytes];
  size_t pos = kPoolBytes;  // empty
  uint64_t generation = 0;
  ~Pool() { OPENSSL_cleanse(buf, sizeof buf); }
};

Status DirectBytes(unsigned char* p, size_t n) {
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

}  // namespace

Status RandomBytes(void* out, size_t n) {
  auto* p = static_cast<unsigned char*>(out);
  if (n > kPooledMax) return DirectBytes(p, n);
  static const bool fork_hook = pthread_atfork(nullptr, nullptr, &OnForkChild) == 0;
  if (!fork_hook) return DirectBytes(p, n);  // cannot detect forks: no buffering
  thread_local Pool pool;
  const uint64_t generation = fork_generation.load(std::memory_order_relaxed);
  if (pool.generation != generation || kPoolBytes - pool.pos < n) {
    OPENSSL_cleanse(pool.buf, sizeof pool.buf);
    pool.pos = kPoolBytes;
    PHIGATE_RETURN_IF_ERROR(DirectBytes(pool.buf, kPoolBytes));
    pool.pos = 0;
    pool.generation = generation;
  }
  std::memcpy(p, pool.buf + pool.pos, n);
  OPENSSL_cleanse(pool.buf + pool.pos, n);
  pool.pos += n;
  return absl::OkStatus();
}

Result<std::string> RandomString(size_t n) {
  std::string s(n, '\0');
  PHIGATE_RETURN_IF_ERROR(RandomBytes(s.data(), n));
  return s;
}

Result<SecretBytes> RandomSecret(size_t n) {
  std::string s(n, '\0');
  if (Status st = DirectBytes(reinterpret_cast<unsigned char*>(s.data()), n); !st.ok()) {
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
