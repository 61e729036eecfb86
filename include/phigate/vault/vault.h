// The vault: reversible tokens and surrogates of one tenant, stored encrypted.
//
// A Vault is bound to one tenant when it is opened (like TenantStore). It maps
// an original value to a token such as "[NAME_7QK2X]" (or to a realistic
// surrogate) inside a scope, and back. Tokens are drawn from a CSPRNG, never
// derived from the value (45 CFR 164.514(c), hipaa-rules.md §1.6); "the same
// value again" is found through a keyed blind index, HMAC(tenant index key,
// scope ‖ category ‖ value), that never leaves the vault. Values are sealed with
// AES-256-GCM under the tenant's current data key, with the tenant, record id
// and key version as associated data.
//
// Scopes: a token issued in one scope resolves only in that scope (the scope
// is part of every record key), and a tenant's vault reads only its own rows
// (TenantStore) with its own keys.
//
// Example:
//   PHIGATE_ASSIGN_OR_RETURN(auto store, store::Store::Open({.url = "sqlite:///tmp/v.db"}));
//   PHIGATE_ASSIGN_OR_RETURN(auto acme, store->ForTenant(tenant));
//   PHIGATE_ASSIGN_OR_RETURN(auto keys, crypto::LocalKeyProvider::FromEnvironment());
//   PHIGATE_ASSIGN_OR_RETURN(auto vault, vault::Vault::Open(std::move(acme), *keys, {}));
//   const auto scope = vault::Scope::Conversation("conv-42");
//   PHIGATE_ASSIGN_OR_RETURN(std::string tok, vault->Tokenize(PhiCategory::kName, name, scope));
//   PHIGATE_ASSIGN_OR_RETURN(std::string back, vault->Resolve(tok, scope));
#ifndef PHIGATE_VAULT_VAULT_H_
#define PHIGATE_VAULT_VAULT_H_

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "absl/functional/function_ref.h"
#include "phigate/core/ids.h"
#include "phigate/core/phi_category.h"
#include "phigate/core/status.h"
#include "phigate/crypto/key_provider.h"
#include "phigate/store/store.h"

namespace phigate::vault {

enum class ScopeKind : uint8_t { kRequest = 1, kConversation = 2, kTenant = 3 };

struct Scope {
  ScopeKind kind = ScopeKind::kTenant;
  std::string id;  // the request or conversation id; empty for kTenant

  static Scope Request(std::string id) { return {ScopeKind::kRequest, std::move(id)}; }
  static Scope Conversation(std::string id) { return {ScopeKind::kConversation, std::move(id)}; }
  static Scope Tenant() { return {ScopeKind::kTenant, ""}; }
  friend bool operator==(const Scope&, const Scope&) = default;
};

// "tenant", "request:<id>", "conversation:<id>", or a bare id (a conversation).
Result<Scope> ParseScope(std::string_view text);
std::string_view ScopeKindName(ScopeKind kind);

// The token alphabet: digits and upper-case letters without the confusable
// 0/O, 1/I/L and U/V pairs, so case-mangled tokens map back unambiguously.
inline constexpr std::string_view kTokenAlphabet = "23456789ABCDEFGHJKMNPQRSTVWXYZ";

// A parsed token: "[NAME_7QK2X]" -> {kName, "7QK2X"}.
struct TokenParts {
  PhiCategory category;
  std::string body;  // upper case
};
// Accepts the canonical form and case-mangled forms ("[name_7qk2x]"), with or
// without brackets. nullopt when `text` is not token-shaped.
std::optional<TokenParts> ParseToken(std::string_view text);
// "[" + CategoryName(category) + "_" + body + "]".
std::string FormatToken(PhiCategory category, std::string_view body);
// `length` characters drawn uniformly from kTokenAlphabet (OpenSSL's CSPRNG).
Result<std::string> RandomTokenBody(size_t length);

enum class MappingKind : uint8_t { kToken = 1, kSurrogate = 2 };

// A decrypted mapping, in memory only.
struct Mapping {
  MappingKind kind = MappingKind::kToken;
  PhiCategory category = PhiCategory::kOtherId;
  std::string original;
  std::string replacement;  // the token or the surrogate
};

struct TokenRequest {
  PhiCategory category;
  std::string_view value;
};

// Tokens for a scope that nothing will ever resolve from the store: the
// gateway's own request scope, whose answer is re-identified from the
// request's memory (gateway.request_tokens: memory). Same format and alphabet
// as the vault's tokens, but no row is written, so no PHI is kept at rest and
// no transaction is paid. Values repeated within `requests` (same category and
// bytes) share one token; distinct values get distinct tokens. Tokens of an
// earlier call are not known here: a caller minting into one scope twice
// checks the second batch against the first.
Result<std::vector<std::string>> MintUnstoredTokens(std::span<const TokenRequest> requests,
                                                    size_t token_length);

struct VaultOptions {
  // Characters of a token body (30^5 = 24.3 M per scope and category; a
  // collision is detected by the store's unique key and retried, and the
  // length grows by one after repeated collisions).
  size_t token_length = 5;
  // Records older than this no longer resolve (and Purge deletes them); 0 = keep.
  int64_t ttl_seconds = 0;
  // Unix seconds; tests inject a fake clock. Default: the system clock.
  std::function<int64_t()> clock;
  // Exact (default): the same bytes (after trimming surrounding whitespace)
  // give the same token, so reid(deid(text)) == text. Loose: ASCII case and,
  // for numbers/ids, punctuation and spaces are ignored ("123-45-6789" and
  // "123456789" share one token; reidentification returns the first form seen).
  bool loose_matching = false;
};

// Generates a surrogate candidate for `original`; `attempt` counts from 0 and
// grows when a candidate collided with another value's surrogate.
using SurrogateFn = absl::FunctionRef<Result<std::string>(PhiCategory category,
                                                          std::string_view original, int attempt)>;

// A value to give a surrogate (Vault::SurrogateBatch).
struct SurrogateRequest {
  PhiCategory category;
  std::string_view value;
};

// SurrogateFn for a batch: `index` is the request's position in the batch, so
// one generator can shape candidates per request (per text, per date offset).
using BatchSurrogateFn = absl::FunctionRef<Result<std::string>(
    size_t index, PhiCategory category, std::string_view original, int attempt)>;

// Thread-safe: one Vault may serve many requests of its tenant at once.
//
// Errors: NotFound for an unknown, purged, expired or other-scope token;
// DataLoss for a record that fails authentication (corrupted, moved between
// tenants or records); FailedPrecondition for a wrong master key or a shredded
// tenant; Unavailable when the store is unreachable. Nothing is ever returned
// unauthenticated, and no message holds a value.
class Vault {
 public:
  // Loads (or, for a new tenant, creates) the tenant's keys.
  static Result<std::unique_ptr<Vault>> Open(std::unique_ptr<store::TenantStore> store,
                                             const crypto::KeyProvider& keys, VaultOptions options);
  virtual ~Vault() = default;

  virtual const TenantId& tenant() const = 0;

  // The token for `value` in `scope` (the same one every time within the scope).
  virtual Result<std::string> Tokenize(PhiCategory category, std::string_view value,
                                       const Scope& scope) = 0;
  // Many at once, in one transaction; tokens in request order.
  virtual Result<std::vector<std::string>> TokenizeBatch(std::span<const TokenRequest> requests,
                                                         const Scope& scope) = 0;
  // TokenizeBatch for a request scope that is tokenized into exactly once (the
  // gateway's per-request scope: one batch per request, the scope id never
  // reused): the sealed token mappings are written as usual, but no blind-index
  // rows are read or written — half the rows per new token. Values repeated
  // within `requests` still share one token; a later call in the same request
  // scope would get new tokens. Other scope kinds: exactly TokenizeBatch.
  virtual Result<std::vector<std::string>> TokenizeBatchOnce(std::span<const TokenRequest> requests,
                                                             const Scope& scope) = 0;
  // The original of a token issued in `scope` (canonical or case-mangled form).
  virtual Result<std::string> Resolve(std::string_view token, const Scope& scope) = 0;
  // One entry per token, nullopt where unknown/purged/expired/other scope.
  virtual Result<std::vector<std::optional<std::string>>> ResolveBatch(
      std::span<const std::string> tokens, const Scope& scope) = 0;

  // A surrogate for `value` in `scope`, consistent within the scope and unique
  // (two originals never share a surrogate, case-insensitively).
  virtual Result<std::string> Surrogate(PhiCategory category, std::string_view value,
                                        const Scope& scope, SurrogateFn generate) = 0;
  // Surrogates for many values in one transaction: (*out)[i] is requests[i]'s,
  // the one Surrogate would give (values repeated in the batch share one; a
  // value in another letter case shares a date's one shifted form). A value
  // whose generator fails, or finds no unique candidate in 32 attempts
  // (ResourceExhausted: the scope has none left), gets that error in its entry
  // and the others are still made (the generator's status is passed on, so a
  // caller can tell "no candidate" codes apart). A
  // store or key error fails the call: nothing is written and *out is empty.
  virtual Status SurrogateBatch(std::span<const SurrogateRequest> requests, const Scope& scope,
                                BatchSurrogateFn generate,
                                std::vector<Result<std::string>>* out) = 0;
  // Every surrogate mapping of the scope (for re-identification of model output).
  virtual Result<std::vector<Mapping>> ListSurrogates(const Scope& scope) = 0;

  // A 32-byte secret of the scope for `purpose`: the same in every process
  // holding the tenant's keys, another for every scope and purpose, nothing
  // stored. The surrogate generator keys name parts with it, so one surname
  // gets one surrogate everywhere in a scope ("John Smith", "Mr. Smith",
  // "SMITH, JOHN"). Gone with the tenant's keys (Shred).
  virtual Result<std::string> ScopeSecret(const Scope& scope, std::string_view purpose) = 0;

  // One random date offset in days for the scope, in [-max_days, -1] ∪ [1, max_days],
  // created on first use and stored encrypted.
  virtual Result<int> DateShiftDays(const Scope& scope, int max_days) = 0;

  // Deletes mappings created before now - older_than_seconds; returns how
  // many mappings went. Purged tokens and surrogates no longer resolve.
  virtual Result<int64_t> Purge(int64_t older_than_seconds) = 0;

  // Key management. RotateKey: a new data key version encrypts from now on;
  // older versions still decrypt. ReencryptAll (the re-wrap job): re-seals
  // every record under the current version; returns how many changed.
  // Shred (crypto-shredding): destroys the tenant's wrapped keys and deletes
  // its mappings, so copies of the rows (backups) can never be decrypted.
  virtual Result<uint32_t> RotateKey() = 0;
  virtual Result<int64_t> ReencryptAll() = 0;
  virtual Status Shred() = 0;
  virtual Result<uint32_t> CurrentKeyVersion() = 0;
};

// Crypto-shredding without the keys: what Vault::Shred does (deletes the
// tenant's wrapped keys and mappings in one transaction and leaves a
// tombstone), for a tenant whose keys cannot be unwrapped — left out of a
// master key rotation, or its key lost. `now` is the tombstone's time.
Status ShredTenant(store::TenantStore& store, int64_t now);

// Master key rotation: re-wraps every wrapped key of the tenant from `from` to
// `to` (the data keys themselves, and hence the rows, do not change).
Result<int> RewrapTenantKeys(store::TenantStore& store, const crypto::KeyProvider& from,
                             const crypto::KeyProvider& to);

// Store namespaces used by the vault (for tests and tools).
inline constexpr std::string_view kKeysNamespace = "vault.keys";
inline constexpr std::string_view kMapNamespace = "vault.map";
inline constexpr std::string_view kIndexNamespace = "vault.bidx";

}  // namespace phigate::vault

#endif  // PHIGATE_VAULT_VAULT_H_
