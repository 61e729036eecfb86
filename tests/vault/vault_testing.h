// Shared setup for vault tests: a fresh store per backend and fixed synthetic master keys.
#ifndef PHIGATE_TESTS_VAULT_VAULT_TESTING_H_
#define PHIGATE_TESTS_VAULT_VAULT_TESTING_H_

#include <memory>
#include <string>

#include "phigate/crypto/key_provider.h"
#include "phigate/vault/vault.h"
#include "tests/store/store_testing.h"

namespace phigate::vault::testing {

inline constexpr char kMasterA[] =
    "5e5e5e5e0102030405060708090a0b0c0d0e0f101112131415161718191a1b1c";
inline constexpr char kMasterB[] =
    "a7a7a7a70102030405060708090a0b0c0d0e0f101112131415161718191a1b1c";

inline std::unique_ptr<crypto::LocalKeyProvider> Master(const char* hex = kMasterA) {
  return std::move(crypto::LocalKeyProvider::FromText(hex)).value();
}

// A clock the test moves by hand.
struct FakeClock {
  int64_t now = 1'800'000'000;
  std::function<int64_t()> fn() {
    return [this] { return now; };
  }
};

}  // namespace phigate::vault::testing

#endif  // PHIGATE_TESTS_VAULT_VAULT_TESTING_H_
