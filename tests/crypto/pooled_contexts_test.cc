// The reused OpenSSL contexts (Aead, KeyedHash) and the per-thread random
// buffer give the same results as fresh ones, across threads, after
// failures, and never the same random bytes in a parent and its fork child.
#include <sys/wait.h>
#include <unistd.h>

#include <set>
#include <string>
#include <thread>
#include <vector>

#include "gtest/gtest.h"
#include "phigate/crypto/aead.h"
#include "phigate/crypto/encoding.h"
#include "phigate/crypto/mac.h"
#include "phigate/crypto/random.h"
#include "tests/testing/status_matchers.h"

namespace phigate::crypto {
namespace {

std::string Hex(const Digest& d) {
  return HexEncode(std::string_view(reinterpret_cast<const char*>(d.data()), d.size()));
}

TEST(PooledHmacTest, MatchesReferenceValuesOnEveryReuseAndThread) {
  // Expected: Python hmac.new(b"k" * 32, b"".join(len(p).to_bytes(4, "big") + p ...), sha256).
  PHIGATE_ASSERT_OK_AND_ASSIGN(auto mac, KeyedHash::Create(SecretBytes(std::string(32, 'k'))));
  auto check = [&] {
    for (int i = 0; i < 200; ++i) {
      auto a = mac->Compute({"ab", "c"});
      auto b = mac->Compute({"bidx", "t", "NAME", "Synthetic Person 1"});
      ASSERT_TRUE(a.ok() && b.ok());
      ASSERT_EQ(Hex(*a), "909c06defa5f705b5efd8e09629cd0ed7a67cca8b8040c545a27eb587f051aa6");
      ASSERT_EQ(Hex(*b), "7205522f642f122dcb9827672f385fc0e9fbc752f01147aaeefde8a900774ca9");
    }
  };
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) threads.emplace_back(check);
  for (auto& th : threads) th.join();
  check();
}

TEST(PooledAeadTest, ReusedContextsRoundTripAcrossThreadsAndAfterFailures) {
  PHIGATE_ASSERT_OK_AND_ASSIGN(auto aead, Aead::Create(SecretBytes(std::string(32, 'a'))));
  PHIGATE_ASSERT_OK_AND_ASSIGN(std::string good, aead->Seal("synthetic value", "ad-1"));
  std::string bad = good;
  bad.back() ^= 1;
  auto work = [&](int id) {
    for (int i = 0; i < 300; ++i) {
      const std::string pt = "value " + std::to_string(id) + "/" + std::to_string(i);
      auto sealed = aead->Seal(pt, "ad");
      ASSERT_TRUE(sealed.ok());
      auto opened = aead->Open(*sealed, "ad");
      ASSERT_TRUE(opened.ok());
      ASSERT_EQ(*opened, pt);
      // A failed authentication must not leave a context behind that breaks the next call.
      ASSERT_EQ(aead->Open(bad, "ad-1").status().code(), absl::StatusCode::kDataLoss);
      ASSERT_EQ(aead->Open(good, "ad-2").status().code(), absl::StatusCode::kDataLoss);
      auto again = aead->Open(good, "ad-1");
      ASSERT_TRUE(again.ok());
      ASSERT_EQ(*again, "synthetic value");
    }
  };
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) threads.emplace_back(work, t);
  for (auto& th : threads) th.join();
  // Another key opens nothing sealed under this one, pool or not.
  PHIGATE_ASSERT_OK_AND_ASSIGN(auto other, Aead::Create(SecretBytes(std::string(32, 'b'))));
  EXPECT_EQ(other->Open(good, "ad-1").status().code(), absl::StatusCode::kDataLoss);
}

TEST(PooledAeadTest, NoncesNeverRepeat) {
  PHIGATE_ASSERT_OK_AND_ASSIGN(auto aead, Aead::Create(SecretBytes(std::string(32, 'n'))));
  std::set<std::string> nonces;
  for (int i = 0; i < 20000; ++i) {
    PHIGATE_ASSERT_OK_AND_ASSIGN(std::string s, aead->Seal("x", ""));
    nonces.insert(s.substr(0, kAeadNonceBytes));
  }
  EXPECT_EQ(nonces.size(), 20000u);
}

TEST(RandomPoolTest, ForkChildNeverRepeatsTheParentsBytes) {
  unsigned char warm[8];
  PHIGATE_ASSERT_OK(RandomBytes(warm, sizeof warm));  // the parent's buffer is now filled
  int fds[2];
  ASSERT_EQ(pipe(fds), 0);
  const pid_t pid = fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    unsigned char b[32];
    const bool ok = RandomBytes(b, sizeof b).ok();
    const ssize_t n = ok ? write(fds[1], b, sizeof b) : -1;
    _exit(n == static_cast<ssize_t>(sizeof b) ? 0 : 1);
  }
  close(fds[1]);
  unsigned char child[32] = {}, parent[32];
  size_t got = 0;
  while (got < sizeof child) {
    const ssize_t n = read(fds[0], child + got, sizeof child - got);
    if (n <= 0) break;
    got += static_cast<size_t>(n);
  }
  close(fds[0]);
  int status = 0;
  waitpid(pid, &status, 0);
  ASSERT_EQ(got, sizeof child);
  ASSERT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
  PHIGATE_ASSERT_OK(RandomBytes(parent, sizeof parent));
  EXPECT_NE(std::string(reinterpret_cast<char*>(child), sizeof child),
            std::string(reinterpret_cast<char*>(parent), sizeof parent));
}

TEST(RandomPoolTest, SmallAndLargeRequestsAreDistinct) {
  std::set<std::string> seen;
  for (size_t n : {1, 5, 12, 16, 64, 65, 4096, 5000}) {
    for (int i = 0; i < 50; ++i) {
      std::string s(n, '\0');
      PHIGATE_ASSERT_OK(RandomBytes(s.data(), s.size()));
      if (n >= 12) {
        EXPECT_TRUE(seen.insert(s).second) << n;
      }
    }
  }
}

}  // namespace
}  // namespace phigate::crypto
