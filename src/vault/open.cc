#include "phigate/vault/open.h"

#include "absl/strings/numbers.h"

namespace phigate::vault {

Result<std::unique_ptr<crypto::KeyProvider>> LoadMasterKey(const std::string& key_file) {
  if (!key_file.empty()) {
    PHIGATE_ASSIGN_OR_RETURN(auto p, crypto::LocalKeyProvider::FromFile(key_file));
    return std::unique_ptr<crypto::KeyProvider>(std::move(p));
  }
  PHIGATE_ASSIGN_OR_RETURN(auto p, crypto::LocalKeyProvider::FromEnvironment());
  return std::unique_ptr<crypto::KeyProvider>(std::move(p));
}

Result<VaultHandle> OpenVaultFromConfig(const std::string& store_url, const TenantId& tenant,
                                        const std::string& key_file, VaultOptions options) {
  VaultHandle h;
  PHIGATE_ASSIGN_OR_RETURN(h.keys, LoadMasterKey(key_file));
  PHIGATE_ASSIGN_OR_RETURN(h.store, store::Store::Open({.url = store_url}));
  PHIGATE_ASSIGN_OR_RETURN(auto ts, h.store->ForTenant(tenant));
  PHIGATE_ASSIGN_OR_RETURN(h.vault, Vault::Open(std::move(ts), *h.keys, std::move(options)));
  return h;
}

Result<int64_t> PurgeMappingsBefore(store::TenantStore& store, int64_t cutoff) {
  int64_t n = 0;
  Status s = store.RunInTransaction([&](store::Transaction& tx) -> Status {
    PHIGATE_ASSIGN_OR_RETURN(n, tx.DeleteOlderThan(kMapNamespace, cutoff));
    PHIGATE_ASSIGN_OR_RETURN(int64_t m, tx.DeleteOlderThan(kIndexNamespace, cutoff));
    (void)m;
    return absl::OkStatus();
  });
  if (!s.ok()) return s;
  return n;
}

Result<int64_t> ParseDuration(std::string_view text) {
  if (text.size() < 2) return absl::InvalidArgumentError("duration must look like 30d, 12h, 45m");
  int64_t n = 0;
  if (!absl::SimpleAtoi(ToAbsl(text.substr(0, text.size() - 1)), &n) || n < 0) {
    return absl::InvalidArgumentError("duration must look like 30d, 12h, 45m");
  }
  int64_t unit = 0;
  switch (text.back()) {
    case 's':
      unit = 1;
      break;
    case 'm':
      unit = 60;
      break;
    case 'h':
      unit = 3600;
      break;
    case 'd':
      unit = 86400;
      break;
    case 'w':
      unit = 7 * 86400;
      break;
    default:
      return absl::InvalidArgumentError("duration unit must be s, m, h, d or w");
  }
  // At most 10,000 years: a larger count used to overflow (a cutoff in the
  // future, purging everything).
  constexpr int64_t kMaxSeconds = int64_t{10'000} * 366 * 86400;
  if (n > kMaxSeconds / unit) {
    return absl::InvalidArgumentError("duration too large (at most 10000 years)");
  }
  return n * unit;
}

}  // namespace phigate::vault
