// Shared setup for the reversible-transform tests: a memory (or SQLite) store,
// a fixed synthetic master key, vaults for two tenants, the surrogate generator.
#ifndef PHIGATE_TESTS_TRANSFORM_REVERSIBLE_TESTING_H_
#define PHIGATE_TESTS_TRANSFORM_REVERSIBLE_TESTING_H_

#include <memory>
#include <string>

#include "phigate/crypto/key_provider.h"
#include "phigate/store/store.h"
#include "phigate/transform/surrogate.h"
#include "phigate/vault/vault.h"
#include "tests/testing/status_matchers.h"

namespace phigate::transform::testing {

struct VaultFixture {
  std::unique_ptr<crypto::LocalKeyProvider> master;
  std::unique_ptr<store::Store> store;
  std::unique_ptr<vault::Vault> acme, beta;
  std::unique_ptr<SurrogateGenerator> gen;

  static std::unique_ptr<VaultFixture> Make(const std::string& url = "memory:") {
    auto f = std::make_unique<VaultFixture>();
    f->master = std::move(crypto::LocalKeyProvider::FromText(
                              "0f1e2d3c4b5a69788796a5b4c3d2e1f00112233445566778899aabbccddeeff0"))
                    .value();
    f->store = std::move(store::Store::Open({.url = url})).value();
    f->acme = f->Open("acme");
    f->beta = f->Open("beta");
    SurrogateOptions o;
    o.data_dir = phigate::testing::SourceDir() + "/data";
    f->gen = std::move(SurrogateGenerator::Create(o)).value();
    return f;
  }
  std::unique_ptr<vault::Vault> Open(const std::string& tenant) {
    auto ts = std::move(store->ForTenant(TenantId(tenant))).value();
    return std::move(vault::Vault::Open(std::move(ts), *master, {})).value();
  }
};

}  // namespace phigate::transform::testing

#endif  // PHIGATE_TESTS_TRANSFORM_REVERSIBLE_TESTING_H_
