// Opening a vault from configuration: a store URL, a tenant and a master key
// from a key file or $PHIGATE_MASTER_KEY. For the CLI, the gateway and tools.
//
// Example:
//   PHIGATE_ASSIGN_OR_RETURN(auto h, vault::OpenVaultFromConfig("sqlite://phigate.db", tenant,
//   "")); PHIGATE_ASSIGN_OR_RETURN(std::string tok, h.vault->Tokenize(PhiCategory::kName, v,
//   scope));
#ifndef PHIGATE_VAULT_OPEN_H_
#define PHIGATE_VAULT_OPEN_H_

#include <memory>
#include <string>

#include "phigate/core/ids.h"
#include "phigate/core/status.h"
#include "phigate/crypto/key_provider.h"
#include "phigate/store/store.h"
#include "phigate/vault/vault.h"

namespace phigate::vault {

// Owns everything a Vault needs; members are destroyed vault first.
struct VaultHandle {
  std::unique_ptr<crypto::KeyProvider> keys;
  std::unique_ptr<store::Store> store;
  std::unique_ptr<Vault> vault;
};

// The master key from `key_file` (hex or base64 text), or from
// $PHIGATE_MASTER_KEY when key_file is empty. FailedPrecondition when neither
// is set (the message says how to set one); never prints key bytes.
Result<std::unique_ptr<crypto::KeyProvider>> LoadMasterKey(const std::string& key_file);

Result<VaultHandle> OpenVaultFromConfig(const std::string& store_url, const TenantId& tenant,
                                        const std::string& key_file, VaultOptions options = {});

// Deletes the tenant's vault mappings created before `cutoff` (Unix seconds)
// without needing its keys (retention jobs over every tenant). Returns the
// number of mappings deleted.
Result<int64_t> PurgeMappingsBefore(store::TenantStore& store, int64_t cutoff);

// "30d", "12h", "45m", "90s", "2w" -> seconds. InvalidArgument otherwise.
Result<int64_t> ParseDuration(std::string_view text);

}  // namespace phigate::vault

#endif  // PHIGATE_VAULT_OPEN_H_
