// Vault behaviour over every store backend (memory, SQLite, PostgreSQL when
// PHIGATE_TEST_PG_URL is set). All values are synthetic.
#include "phigate/vault/vault.h"

#include <cstdio>
#include <fstream>
#include <functional>
#include <iterator>
#include <map>
#include <set>
#include <thread>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "phigate/crypto/encoding.h"
#include "phigate/crypto/keyring.h"
#include "phigate/vault/open.h"
#include "tests/testing/status_matchers.h"
#include "tests/vault/vault_testing.h"

namespace phigate::vault {
namespace {

using store::Store;
using testing::FakeClock;
using testing::Master;

class VaultTest : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    url_ = store::testing::FreshStoreUrl(GetParam(), &sqlite_path_);
    if (url_.empty()) GTEST_SKIP() << "PHIGATE_TEST_PG_URL not set";
    auto s = Store::Open({.url = url_});
    ASSERT_TRUE(s.ok()) << s.status();
    store_ = std::move(*s);
    master_ = Master();
    vault_ = OpenVault("acme");
  }
  std::unique_ptr<Vault> OpenVaultWithTtl(const std::string& tenant, int64_t ttl_seconds) {
    auto ts = store_->ForTenant(TenantId(tenant));
    EXPECT_TRUE(ts.ok());
    if (!ts.ok()) return nullptr;
    VaultOptions o;
    o.clock = clock_.fn();
    o.ttl_seconds = ttl_seconds;
    auto v = Vault::Open(std::move(*ts), *master_, std::move(o));
    EXPECT_TRUE(v.ok()) << v.status();
    return v.ok() ? std::move(*v) : nullptr;
  }
  std::unique_ptr<Vault> OpenVault(const std::string& tenant,
                                   const crypto::KeyProvider* keys = nullptr, Store* st = nullptr) {
    auto ts = (st ? st : store_.get())->ForTenant(TenantId(tenant));
    EXPECT_TRUE(ts.ok());
    VaultOptions o;
    o.clock = clock_.fn();
    auto v = Vault::Open(std::move(*ts), keys ? *keys : *master_, std::move(o));
    EXPECT_TRUE(v.ok()) << v.status();
    return v.ok() ? std::move(*v) : nullptr;
  }

  // Writes a surrogate mapping the way the vault did before surrogates were
  // unique across categories: the map row under the per-category index
  // HMAC("sur", category, lower(surrogate)) and the original's blind-index row
  // pointing to it. Built from the stored keys and the record layout of
  // vault.cc, not from the vault's code.
  Status PlantLegacySurrogate(PhiCategory category, std::string_view original,
                              std::string_view surrogate, const Scope& scope) {
    const std::string tenant = "acme";
    PHIGATE_ASSIGN_OR_RETURN(auto ts, store_->ForTenant(TenantId(tenant)));
    const int64_t now = clock_.now;
    return ts->RunInTransaction([&](store::Transaction& tx) -> Status {
      PHIGATE_ASSIGN_OR_RETURN(auto rows, tx.Scan(kKeysNamespace, "", {.limit = 1000}));
      std::vector<crypto::WrappedKey> keys;
      for (const store::Record& r : rows) {
        if (r.key == "tomb") continue;
        PHIGATE_ASSIGN_OR_RETURN(crypto::WrappedKey k, crypto::WrappedKey::Parse(r.value));
        keys.push_back(std::move(k));
      }
      PHIGATE_ASSIGN_OR_RETURN(auto ring, crypto::Keyring::Unwrap(*master_, tenant, keys));
      auto hex = [](const crypto::Digest& d, size_t n) {
        return crypto::HexEncode(std::string_view(reinterpret_cast<const char*>(d.data()), n));
      };
      const char kind = static_cast<char>(scope.kind);
      PHIGATE_ASSIGN_OR_RETURN(
          crypto::Digest sd,
          ring->index().Compute({"scope", std::string_view(&kind, 1), scope.id}));
      const std::string sk = hex(sd, 8);
      PHIGATE_ASSIGN_OR_RETURN(
          crypto::Digest rd,
          ring->index().Compute(
              {"sur", CategoryName(category), absl::AsciiStrToLower(std::string(surrogate))}));
      const std::string ref = absl::StrCat("s/", hex(rd, 16));
      PHIGATE_ASSIGN_OR_RETURN(
          crypto::Digest bd,
          ring->index().Compute({"bidx", "s", CategoryName(category), original}));
      const std::string bidx = absl::StrCat(sk, "/s/", hex(bd, 16));
      const std::string key = absl::StrCat(sk, "/", ref);
      // Mapping: kind, category, u32 BE length of the original, original, surrogate.
      const auto n = static_cast<uint32_t>(original.size());
      std::string plain;
      plain += static_cast<char>(MappingKind::kSurrogate);
      plain += static_cast<char>(category);
      for (int shift = 24; shift >= 0; shift -= 8) plain += static_cast<char>(n >> shift);
      absl::StrAppend(&plain, ToAbsl(original), ToAbsl(surrogate));
      const uint32_t v = ring->current_version();
      PHIGATE_ASSIGN_OR_RETURN(const crypto::Aead* aead, ring->DataKey(v));
      PHIGATE_ASSIGN_OR_RETURN(
          std::string sealed,
          aead->Seal(plain,
                     absl::StrCat("pgv1|", tenant, "|", ToAbsl(kMapNamespace), "|", key, "|", v)));
      std::string version(4, '\0');
      for (int i = 0; i < 4; ++i) version[i] = static_cast<char>(v >> (24 - 8 * i));
      PHIGATE_RETURN_IF_ERROR(
          tx.Put(kMapNamespace, key, absl::StrCat("\x01", version, sealed), now));
      return tx.Put(kIndexNamespace, bidx, ref, now);
    });
  }

  std::string url_, sqlite_path_;
  FakeClock clock_;
  std::unique_ptr<Store> store_;
  std::unique_ptr<crypto::LocalKeyProvider> master_;
  std::unique_ptr<Vault> vault_;
  const Scope conv_ = Scope::Conversation("conv-42");
};

TEST_P(VaultTest, TokensAreTypedShortAndFromTheAlphabet) {
  PHIGATE_ASSERT_OK_AND_ASSIGN(std::string tok,
                               vault_->Tokenize(PhiCategory::kName, "Qorvin Abelstam", conv_));
  ASSERT_EQ(tok.size(), std::string("[NAME_XXXXX]").size()) << tok;
  EXPECT_EQ(tok.substr(0, 6), "[NAME_");
  EXPECT_EQ(tok.back(), ']');
  for (char c : tok.substr(6, 5)) EXPECT_NE(kTokenAlphabet.find(c), std::string_view::npos) << tok;
  PHIGATE_ASSERT_OK_AND_ASSIGN(
      std::string addr, vault_->Tokenize(PhiCategory::kStreetAddress, "12 Synthetic Row", conv_));
  EXPECT_EQ(addr.substr(0, 16), "[STREET_ADDRESS_");
}

TEST_P(VaultTest, SameValueAndScopeGiveTheSameToken) {
  PHIGATE_ASSERT_OK_AND_ASSIGN(std::string a,
                               vault_->Tokenize(PhiCategory::kName, "Qorvin Abelstam", conv_));
  PHIGATE_ASSERT_OK_AND_ASSIGN(std::string b,
                               vault_->Tokenize(PhiCategory::kName, "Qorvin Abelstam", conv_));
  PHIGATE_ASSERT_OK_AND_ASSIGN(
      std::string other_scope,
      vault_->Tokenize(PhiCategory::kName, "Qorvin Abelstam", Scope::Conversation("c2")));
  PHIGATE_ASSERT_OK_AND_ASSIGN(std::string other_value,
                               vault_->Tokenize(PhiCategory::kName, "Belvia Tranter", conv_));
  EXPECT_EQ(a, b);
  EXPECT_NE(a, other_scope);
  EXPECT_NE(a, other_value);
  // A second vault instance over the same store agrees (state is in the store).
  auto again = OpenVault("acme");
  PHIGATE_ASSERT_OK_AND_ASSIGN(std::string c,
                               again->Tokenize(PhiCategory::kName, "Qorvin Abelstam", conv_));
  EXPECT_EQ(a, c);
}

// Session 34: the key that gives a name part one surrogate per scope
// (transform::SurrogateContext::name_key): stable across vault instances,
// another for every scope, purpose and tenant, none after a shred.
TEST_P(VaultTest, ScopeSecretsAreStablePerScopeAndPurpose) {
  PHIGATE_ASSERT_OK_AND_ASSIGN(std::string a, vault_->ScopeSecret(conv_, "names"));
  EXPECT_EQ(a.size(), 32u);
  auto again = OpenVault("acme");
  PHIGATE_ASSERT_OK_AND_ASSIGN(std::string b, again->ScopeSecret(conv_, "names"));
  EXPECT_EQ(a, b);
  PHIGATE_ASSERT_OK_AND_ASSIGN(std::string other_scope,
                               vault_->ScopeSecret(Scope::Conversation("c2"), "names"));
  PHIGATE_ASSERT_OK_AND_ASSIGN(std::string tenant_scope,
                               vault_->ScopeSecret(Scope::Tenant(), "names"));
  PHIGATE_ASSERT_OK_AND_ASSIGN(std::string other_purpose, vault_->ScopeSecret(conv_, "other"));
  auto beta = OpenVault("beta");
  PHIGATE_ASSERT_OK_AND_ASSIGN(std::string other_tenant, beta->ScopeSecret(conv_, "names"));
  EXPECT_NE(a, other_scope);
  EXPECT_NE(a, tenant_scope);
  EXPECT_NE(a, other_purpose);
  EXPECT_NE(a, other_tenant);
  EXPECT_EQ(vault_->ScopeSecret(Scope::Request(""), "names").status().code(),
            absl::StatusCode::kInvalidArgument);
  PHIGATE_ASSERT_OK(vault_->Shred());
  EXPECT_FALSE(vault_->ScopeSecret(conv_, "names").ok());
}

TEST_P(VaultTest, ResolveRoundTripsIncludingCaseMangledTokens) {
  PHIGATE_ASSERT_OK_AND_ASSIGN(std::string tok,
                               vault_->Tokenize(PhiCategory::kSsn, "900-12-3456", conv_));
  PHIGATE_ASSERT_OK_AND_ASSIGN(std::string back, vault_->Resolve(tok, conv_));
  EXPECT_EQ(back, "900-12-3456");
  std::string lower = tok;
  for (char& c : lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  PHIGATE_ASSERT_OK_AND_ASSIGN(std::string back2, vault_->Resolve(lower, conv_));
  EXPECT_EQ(back2, "900-12-3456");
  PHIGATE_ASSERT_OK_AND_ASSIGN(std::string back3,
                               vault_->Resolve(tok.substr(1, tok.size() - 2), conv_));
  EXPECT_EQ(back3, "900-12-3456");
  EXPECT_EQ(vault_->Resolve("[SSN_22222]", conv_).status().code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(vault_->Resolve("not a token", conv_).status().code(), absl::StatusCode::kNotFound);
}

TEST_P(VaultTest, OtherScopeCannotResolve) {
  PHIGATE_ASSERT_OK_AND_ASSIGN(std::string tok,
                               vault_->Tokenize(PhiCategory::kName, "Qorvin Abelstam", conv_));
  EXPECT_EQ(vault_->Resolve(tok, Scope::Conversation("conv-43")).status().code(),
            absl::StatusCode::kNotFound);
  EXPECT_EQ(vault_->Resolve(tok, Scope::Tenant()).status().code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(vault_->Resolve(tok, Scope::Request("conv-42")).status().code(),
            absl::StatusCode::kNotFound);
}

TEST_P(VaultTest, TenantBCannotResolveTenantATokensEvenWithTheStrings) {
  PHIGATE_ASSERT_OK_AND_ASSIGN(std::string tok,
                               vault_->Tokenize(PhiCategory::kName, "Qorvin Abelstam", conv_));
  auto b = OpenVault("beta");
  EXPECT_EQ(b->Resolve(tok, conv_).status().code(), absl::StatusCode::kNotFound);
  PHIGATE_ASSERT_OK_AND_ASSIGN(std::string btok,
                               b->Tokenize(PhiCategory::kName, "Qorvin Abelstam", conv_));
  PHIGATE_ASSERT_OK_AND_ASSIGN(std::string bback, b->Resolve(btok, conv_));
  EXPECT_EQ(bback, "Qorvin Abelstam");
  if (btok != tok) {
    EXPECT_EQ(b->Resolve(tok, conv_).status().code(), absl::StatusCode::kNotFound);
  }
  // Surrogates too.
  auto gen = [](PhiCategory, std::string_view, int attempt) -> Result<std::string> {
    return absl::StrCat("Surro Gate", attempt);
  };
  PHIGATE_ASSERT_OK_AND_ASSIGN(
      std::string sur, vault_->Surrogate(PhiCategory::kName, "Qorvin Abelstam", conv_, gen));
  PHIGATE_ASSERT_OK_AND_ASSIGN(auto b_list, b->ListSurrogates(conv_));
  EXPECT_TRUE(b_list.empty());
  PHIGATE_ASSERT_OK_AND_ASSIGN(auto a_list, vault_->ListSurrogates(conv_));
  ASSERT_EQ(a_list.size(), 1u);
  EXPECT_EQ(a_list[0].replacement, sur);
}

// A request scope minted into once (the gateway's per-request batch): the
// mappings are written and resolve, repeated values share a token, but no
// blind-index row is written; other scope kinds behave exactly as TokenizeBatch.
TEST_P(VaultTest, BatchOnceInARequestScopeWritesNoIndexRows) {
  auto index_rows = [&] {
    auto ts = store_->ForTenant(TenantId("acme"));
    EXPECT_TRUE(ts.ok());
    size_t n = 0;
    Status s = (*ts)->RunInTransaction([&](store::Transaction& tx) -> Status {
      PHIGATE_ASSIGN_OR_RETURN(auto page, tx.Scan(kIndexNamespace, "", {.limit = 1000}));
      n = page.size();
      return absl::OkStatus();
    });
    EXPECT_TRUE(s.ok()) << s;
    return n;
  };
  const size_t before = index_rows();
  const Scope req = Scope::Request("req-7Q2");
  std::vector<TokenRequest> reqs = {{PhiCategory::kName, "Qorvin Abelstam"},
                                    {PhiCategory::kPhone, "(555) 010-0199"},
                                    {PhiCategory::kName, "Qorvin Abelstam"}};
  PHIGATE_ASSERT_OK_AND_ASSIGN(auto toks, vault_->TokenizeBatchOnce(reqs, req));
  ASSERT_EQ(toks.size(), 3u);
  EXPECT_EQ(toks[0], toks[2]);
  EXPECT_NE(toks[0], toks[1]);
  EXPECT_EQ(index_rows(), before);
  PHIGATE_ASSERT_OK_AND_ASSIGN(auto back, vault_->ResolveBatch(toks, req));
  EXPECT_EQ(back[0], std::optional<std::string>("Qorvin Abelstam"));
  EXPECT_EQ(back[1], std::optional<std::string>("(555) 010-0199"));
  // Scoped like any token: not resolvable from another scope.
  EXPECT_FALSE(vault_->Resolve(toks[0], Scope::Request("req-other")).ok());
  // A conversation scope keeps its index: the same token again.
  PHIGATE_ASSERT_OK_AND_ASSIGN(auto c1, vault_->TokenizeBatchOnce(reqs, conv_));
  PHIGATE_ASSERT_OK_AND_ASSIGN(auto c2, vault_->TokenizeBatch(reqs, conv_));
  EXPECT_EQ(c1, c2);
  EXPECT_GT(index_rows(), before);
}

TEST_P(VaultTest, BatchMatchesSingleAndDeduplicates) {
  std::vector<TokenRequest> reqs = {{PhiCategory::kName, "Qorvin Abelstam"},
                                    {PhiCategory::kPhone, "(555) 010-0199"},
                                    {PhiCategory::kName, "Qorvin Abelstam"},
                                    {PhiCategory::kDate, "03/14/2031"}};
  PHIGATE_ASSERT_OK_AND_ASSIGN(auto toks, vault_->TokenizeBatch(reqs, conv_));
  ASSERT_EQ(toks.size(), 4u);
  EXPECT_EQ(toks[0], toks[2]);
  EXPECT_NE(toks[0], toks[1]);
  PHIGATE_ASSERT_OK_AND_ASSIGN(std::string single,
                               vault_->Tokenize(PhiCategory::kPhone, "(555) 010-0199", conv_));
  EXPECT_EQ(single, toks[1]);
  std::vector<std::string> ask = {toks[3], "[DATE_ZZZZZ]", toks[1]};
  PHIGATE_ASSERT_OK_AND_ASSIGN(auto back, vault_->ResolveBatch(ask, conv_));
  EXPECT_EQ(back[0], std::optional<std::string>("03/14/2031"));
  EXPECT_FALSE(back[1].has_value());
  EXPECT_EQ(back[2], std::optional<std::string>("(555) 010-0199"));
}

TEST_P(VaultTest, PurgedTokensNoLongerResolve) {
  PHIGATE_ASSERT_OK_AND_ASSIGN(std::string old_tok,
                               vault_->Tokenize(PhiCategory::kName, "Old Synthetic", conv_));
  clock_.now += 40 * 86400;
  PHIGATE_ASSERT_OK_AND_ASSIGN(std::string new_tok,
                               vault_->Tokenize(PhiCategory::kName, "New Synthetic", conv_));
  PHIGATE_ASSERT_OK_AND_ASSIGN(int64_t purged, vault_->Purge(30 * 86400));
  EXPECT_EQ(purged, 1);
  EXPECT_EQ(vault_->Resolve(old_tok, conv_).status().code(), absl::StatusCode::kNotFound);
  PHIGATE_ASSERT_OK_AND_ASSIGN(std::string still, vault_->Resolve(new_tok, conv_));
  EXPECT_EQ(still, "New Synthetic");
  // The purged value gets a fresh token when it comes back.
  PHIGATE_ASSERT_OK_AND_ASSIGN(std::string again,
                               vault_->Tokenize(PhiCategory::kName, "Old Synthetic", conv_));
  PHIGATE_ASSERT_OK_AND_ASSIGN(std::string back, vault_->Resolve(again, conv_));
  EXPECT_EQ(back, "Old Synthetic");
}

TEST_P(VaultTest, TtlExpiresWithoutPurge) {
  auto v = OpenVaultWithTtl("ttl-tenant", 3600);
  ASSERT_NE(v, nullptr);
  PHIGATE_ASSERT_OK_AND_ASSIGN(std::string tok,
                               v->Tokenize(PhiCategory::kEmail, "x@example.test", conv_));
  clock_.now += 3599;
  PHIGATE_EXPECT_OK(v->Resolve(tok, conv_));
  clock_.now += 2;
  EXPECT_EQ(v->Resolve(tok, conv_).status().code(), absl::StatusCode::kNotFound);
  PHIGATE_ASSERT_OK_AND_ASSIGN(std::string fresh,
                               v->Tokenize(PhiCategory::kEmail, "x@example.test", conv_));
  PHIGATE_ASSERT_OK_AND_ASSIGN(std::string back, v->Resolve(fresh, conv_));
  EXPECT_EQ(back, "x@example.test");
}

TEST_P(VaultTest, RotationKeepsOldTokensAndReencryptMovesThem) {
  PHIGATE_ASSERT_OK_AND_ASSIGN(std::string t1,
                               vault_->Tokenize(PhiCategory::kName, "Before Rotation", conv_));
  PHIGATE_ASSERT_OK_AND_ASSIGN(uint32_t v2, vault_->RotateKey());
  EXPECT_EQ(v2, 2u);
  // Another process with the old keyring still decrypts new records (reload on demand).
  auto other = OpenVault("acme");
  PHIGATE_ASSERT_OK_AND_ASSIGN(std::string t2,
                               vault_->Tokenize(PhiCategory::kName, "After Rotation", conv_));
  PHIGATE_ASSERT_OK_AND_ASSIGN(std::string b1, vault_->Resolve(t1, conv_));
  PHIGATE_ASSERT_OK_AND_ASSIGN(std::string b2, other->Resolve(t2, conv_));
  EXPECT_EQ(b1, "Before Rotation");
  EXPECT_EQ(b2, "After Rotation");
  PHIGATE_ASSERT_OK_AND_ASSIGN(int64_t moved, vault_->ReencryptAll());
  EXPECT_EQ(moved, 1);
  PHIGATE_ASSERT_OK_AND_ASSIGN(int64_t moved_again, vault_->ReencryptAll());
  EXPECT_EQ(moved_again, 0);
  PHIGATE_ASSERT_OK_AND_ASSIGN(std::string b1b, other->Resolve(t1, conv_));
  EXPECT_EQ(b1b, "Before Rotation");
  // Same value, same token across the rotation (the index key does not rotate).
  PHIGATE_ASSERT_OK_AND_ASSIGN(std::string t1b,
                               vault_->Tokenize(PhiCategory::kName, "Before Rotation", conv_));
  EXPECT_EQ(t1, t1b);
}

TEST_P(VaultTest, ShreddingMakesEvenRestoredRowsUnreadable) {
  PHIGATE_ASSERT_OK_AND_ASSIGN(std::string tok,
                               vault_->Tokenize(PhiCategory::kName, "Shred Me", conv_));
  // Take a "backup" of every row of the tenant.
  auto ts = store_->ForTenant(TenantId("acme"));
  ASSERT_TRUE(ts.ok());
  std::vector<store::Record> backup_map, backup_keys;
  PHIGATE_ASSERT_OK((*ts)->RunInTransaction([&](store::Transaction& tx) -> Status {
    PHIGATE_ASSIGN_OR_RETURN(backup_map, tx.Scan(kMapNamespace, "", {}));
    PHIGATE_ASSIGN_OR_RETURN(backup_keys, tx.Scan(kKeysNamespace, "", {}));
    return absl::OkStatus();
  }));
  ASSERT_FALSE(backup_map.empty());
  PHIGATE_ASSERT_OK(vault_->Shred());
  EXPECT_EQ(vault_->Resolve(tok, conv_).status().code(), absl::StatusCode::kFailedPrecondition);
  // Restore the data rows (not the keys, which are gone) into a new key generation.
  auto fresh = OpenVault("acme");
  PHIGATE_ASSERT_OK((*ts)->RunInTransaction(
      [&](store::Transaction& tx) { return tx.PutMany(kMapNamespace, backup_map); }));
  EXPECT_FALSE(fresh->Resolve(tok, conv_).ok());
  PHIGATE_ASSERT_OK_AND_ASSIGN(uint32_t gen, fresh->CurrentKeyVersion());
  EXPECT_GT(gen, 1u);
  // Even pointing the new vault at a restored row under its own scope key fails closed.
  std::vector<std::string> keys;
  for (const auto& r : backup_map) keys.push_back(r.key);
  (void)keys;
}

// `phigate keys shred` runs in another process than the gateway, whose Vault
// stays open: its next write must not seal rows under the destroyed keys
// (orphans nothing can read, which also broke every later re-encryption).
TEST_P(VaultTest, ShredByAnotherProcessStopsThisOneWritingUnderTheDestroyedKeys) {
  auto ops = std::vector<std::pair<std::string, std::function<Status()>>>{
      {"tokenize",
       [&] { return vault_->Tokenize(PhiCategory::kName, "Running Synthetic", conv_).status(); }},
      {"surrogate",
       [&] {
         return vault_
             ->Surrogate(PhiCategory::kName, "Running Synthetic", conv_,
                         [](PhiCategory, std::string_view, int attempt) -> Result<std::string> {
                           return absl::StrCat("Velm Orrin", attempt);
                         })
             .status();
       }},
      {"date offset", [&] { return vault_->DateShiftDays(conv_, 30).status(); }},
  };
  for (const auto& [name, op] : ops) {
    SCOPED_TRACE(name);
    PHIGATE_ASSERT_OK(vault_->Tokenize(PhiCategory::kName, "Before Shred", conv_).status());
    auto other = OpenVault("acme");  // `phigate keys shred`
    ASSERT_NE(other, nullptr);
    PHIGATE_ASSERT_OK(other->Shred());
    const Status refused = op();
    EXPECT_EQ(refused.code(), absl::StatusCode::kAborted) << refused;
    auto ts = store_->ForTenant(TenantId("acme"));
    ASSERT_TRUE(ts.ok());
    std::vector<store::Record> rows;
    PHIGATE_ASSERT_OK((*ts)->RunInTransaction([&](store::Transaction& tx) -> Status {
      PHIGATE_ASSIGN_OR_RETURN(rows, tx.Scan(kMapNamespace, "", {}));
      return absl::OkStatus();
    }));
    EXPECT_TRUE(rows.empty()) << rows.size() << " rows written after the shred";
    // The next call works, under a new key generation that others can read.
    PHIGATE_ASSERT_OK(op());
    PHIGATE_ASSERT_OK_AND_ASSIGN(std::string tok,
                                 vault_->Tokenize(PhiCategory::kName, "After Shred", conv_));
    auto fresh = OpenVault("acme");
    ASSERT_NE(fresh, nullptr);
    PHIGATE_ASSERT_OK_AND_ASSIGN(std::string back, fresh->Resolve(tok, conv_));
    EXPECT_EQ(back, "After Shred");
    PHIGATE_ASSERT_OK(fresh->RotateKey().status());
    PHIGATE_ASSERT_OK(fresh->ReencryptAll().status());
  }
}

TEST_P(VaultTest, WrongMasterKeyIsAClearError) {
  auto wrong = Master(testing::kMasterB);
  auto ts = store_->ForTenant(TenantId("acme"));
  ASSERT_TRUE(ts.ok());
  auto v = Vault::Open(std::move(*ts), *wrong, {});
  EXPECT_EQ(v.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_NE(std::string(v.status().message()).find("wrong master key"), std::string::npos);
}

TEST_P(VaultTest, CorruptedRowIsDataLossAndNeverGarbage) {
  PHIGATE_ASSERT_OK_AND_ASSIGN(std::string tok,
                               vault_->Tokenize(PhiCategory::kMrn, "MRN-5550001", conv_));
  auto ts = store_->ForTenant(TenantId("acme"));
  ASSERT_TRUE(ts.ok());
  PHIGATE_ASSERT_OK((*ts)->RunInTransaction([&](store::Transaction& tx) -> Status {
    PHIGATE_ASSIGN_OR_RETURN(auto rows, tx.Scan(kMapNamespace, "", {}));
    for (auto& r : rows) {
      r.value[r.value.size() / 2] = static_cast<char>(r.value[r.value.size() / 2] ^ 0x40);
      PHIGATE_RETURN_IF_ERROR(tx.Put(kMapNamespace, r.key, r.value, r.ts));
    }
    return absl::OkStatus();
  }));
  auto r = vault_->Resolve(tok, conv_);
  EXPECT_EQ(r.status().code(), absl::StatusCode::kDataLoss);
  EXPECT_EQ(std::string(r.status().message()).find("5550001"), std::string::npos);
}

TEST_P(VaultTest, RewrapMovesTenantToNewMasterKey) {
  PHIGATE_ASSERT_OK_AND_ASSIGN(std::string tok,
                               vault_->Tokenize(PhiCategory::kName, "Rewrap Person", conv_));
  auto b = Master(testing::kMasterB);
  auto ts = store_->ForTenant(TenantId("acme"));
  ASSERT_TRUE(ts.ok());
  PHIGATE_ASSERT_OK_AND_ASSIGN(int n, RewrapTenantKeys(**ts, *master_, *b));
  EXPECT_EQ(n, 2);
  auto old_master = store_->ForTenant(TenantId("acme"));
  EXPECT_EQ(Vault::Open(std::move(*old_master), *master_, {}).status().code(),
            absl::StatusCode::kFailedPrecondition);
  auto with_b = OpenVault("acme", b.get());
  ASSERT_NE(with_b, nullptr);
  PHIGATE_ASSERT_OK_AND_ASSIGN(std::string back, with_b->Resolve(tok, conv_));
  EXPECT_EQ(back, "Rewrap Person");
}

TEST_P(VaultTest, SurrogatesAreConsistentAndUniqueInScope) {
  // A generator with few candidates forces collisions.
  auto gen = [](PhiCategory, std::string_view, int attempt) -> Result<std::string> {
    static const char* kNames[] = {"Mara Velt", "Osk Brimley", "Tarn Ekwe", "Lio Pardo"};
    return std::string(kNames[attempt % 4]);
  };
  PHIGATE_ASSERT_OK_AND_ASSIGN(
      std::string s1, vault_->Surrogate(PhiCategory::kName, "Qorvin Abelstam", conv_, gen));
  PHIGATE_ASSERT_OK_AND_ASSIGN(std::string s2,
                               vault_->Surrogate(PhiCategory::kName, "Belvia Tranter", conv_, gen));
  PHIGATE_ASSERT_OK_AND_ASSIGN(
      std::string s1b, vault_->Surrogate(PhiCategory::kName, "Qorvin Abelstam", conv_, gen));
  EXPECT_EQ(s1, s1b);
  EXPECT_NE(s1, s2);
  PHIGATE_ASSERT_OK_AND_ASSIGN(auto list, vault_->ListSurrogates(conv_));
  ASSERT_EQ(list.size(), 2u);
  std::set<std::string> originals;
  for (const auto& m : list) originals.insert(m.original);
  EXPECT_EQ(originals, (std::set<std::string>{"Qorvin Abelstam", "Belvia Tranter"}));
}

TEST_P(VaultTest, SurrogatesAreUniqueAcrossCategoriesInScope) {
  // A generator that offers the same text for a name and for a town first:
  // the second one must be given another, or "Marlow" in a model's answer
  // could be read back as either.
  auto gen = [](PhiCategory, std::string_view, int attempt) -> Result<std::string> {
    return std::string(attempt == 0 ? "Marlow" : "Penhallow");
  };
  PHIGATE_ASSERT_OK_AND_ASSIGN(std::string name,
                               vault_->Surrogate(PhiCategory::kName, "Qorvin", conv_, gen));
  PHIGATE_ASSERT_OK_AND_ASSIGN(std::string town,
                               vault_->Surrogate(PhiCategory::kCity, "Belvia", conv_, gen));
  EXPECT_EQ(name, "Marlow");
  EXPECT_EQ(town, "Penhallow");
  // Case does not make a second surrogate either.
  auto upper = [](PhiCategory, std::string_view, int attempt) -> Result<std::string> {
    return std::string(attempt == 0 ? "MARLOW" : "Trevose");
  };
  PHIGATE_ASSERT_OK_AND_ASSIGN(std::string place,
                               vault_->Surrogate(PhiCategory::kLocation, "Ardmere", conv_, upper));
  EXPECT_EQ(place, "Trevose");
  // Another scope may use the same text.
  PHIGATE_ASSERT_OK_AND_ASSIGN(
      std::string other,
      vault_->Surrogate(PhiCategory::kCity, "Belvia", Scope::Conversation("conv-other"), gen));
  EXPECT_EQ(other, "Marlow");
}

// A date's surrogate is the date shifted by the scope's offset: one candidate
// only. "MARCH 14, 2024" and "March 14, 2024" are two originals whose shifted
// forms are equal up to case; the second shares the first's surrogate instead
// of failing the whole note.
TEST_P(VaultTest, OneValueInTwoLetterCasesSharesItsSurrogate) {
  auto shift = [](PhiCategory, std::string_view o, int attempt) -> Result<std::string> {
    if (attempt > 0) return absl::AlreadyExistsError("shifted date unavailable");
    if (o == "MARCH 14, 2024") return std::string("MAY 26, 2024");
    if (o == "March 14, 2024") return std::string("May 26, 2024");
    return std::string("May 26, 2024");  // another date landing on a taken one
  };
  PHIGATE_ASSERT_OK_AND_ASSIGN(
      std::string upper, vault_->Surrogate(PhiCategory::kDate, "MARCH 14, 2024", conv_, shift));
  PHIGATE_ASSERT_OK_AND_ASSIGN(
      std::string mixed, vault_->Surrogate(PhiCategory::kDate, "March 14, 2024", conv_, shift));
  EXPECT_EQ(upper, "MAY 26, 2024");
  EXPECT_EQ(mixed, "MAY 26, 2024");  // the shared surrogate, as first written
  PHIGATE_ASSERT_OK_AND_ASSIGN(
      std::string again, vault_->Surrogate(PhiCategory::kDate, "March 14, 2024", conv_, shift));
  EXPECT_EQ(again, mixed);
  PHIGATE_ASSERT_OK_AND_ASSIGN(auto list, vault_->ListSurrogates(conv_));
  ASSERT_EQ(list.size(), 1u);
  EXPECT_EQ(list[0].original, "MARCH 14, 2024");
  // Another value is still never given a surrogate that is taken.
  EXPECT_FALSE(vault_->Surrogate(PhiCategory::kDate, "April 1, 2024", conv_, shift).ok());
  auto other_category = [](PhiCategory, std::string_view, int attempt) -> Result<std::string> {
    if (attempt > 0) return absl::AlreadyExistsError("no other candidate");
    return std::string("May 26, 2024");
  };
  EXPECT_FALSE(vault_->Surrogate(PhiCategory::kName, "march 14, 2024", conv_, other_category).ok());
}

TEST_P(VaultTest, TtlExpiredSurrogateIsReplacedWithoutPurge) {
  auto v = OpenVaultWithTtl("ttl-tenant", 3600);
  ASSERT_NE(v, nullptr);
  auto gen = [](PhiCategory, std::string_view, int attempt) -> Result<std::string> {
    static const char* kNames[] = {"Mara Velt", "Osk Brimley"};
    return std::string(kNames[attempt % 2]);
  };
  PHIGATE_ASSERT_OK_AND_ASSIGN(std::string first,
                               v->Surrogate(PhiCategory::kName, "Qorvin Abelstam", conv_, gen));
  EXPECT_EQ(first, "Mara Velt");
  clock_.now += 3601;
  PHIGATE_ASSERT_OK_AND_ASSIGN(std::string later,
                               v->Surrogate(PhiCategory::kName, "Qorvin Abelstam", conv_, gen));
  EXPECT_EQ(later, "Mara Velt");  // the expired candidate is free again
  PHIGATE_ASSERT_OK_AND_ASSIGN(auto list, v->ListSurrogates(conv_));
  ASSERT_EQ(list.size(), 1u);
  EXPECT_EQ(list[0].original, "Qorvin Abelstam");
}

TEST_P(VaultTest, LegacyPerCategorySurrogateStaysTakenInItsCategory) {
  // A row written under the old per-category surrogate index: a name mapped
  // to "Marlow" in this scope.
  PHIGATE_ASSERT_OK(PlantLegacySurrogate(PhiCategory::kName, "Qorvin", "Marlow", conv_));
  auto gen = [](PhiCategory, std::string_view, int attempt) -> Result<std::string> {
    return std::string(attempt == 0 ? "Marlow" : "Penhallow");
  };
  // The planted row is a valid old mapping: its original still gets it back.
  PHIGATE_ASSERT_OK_AND_ASSIGN(std::string old_name,
                               vault_->Surrogate(PhiCategory::kName, "Qorvin", conv_, gen));
  EXPECT_EQ(old_name, "Marlow");
  // Another name in the same scope is given neither "Marlow" nor another case of it.
  auto upper = [](PhiCategory, std::string_view, int attempt) -> Result<std::string> {
    return std::string(attempt == 0 ? "MARLOW" : "Trevose");
  };
  PHIGATE_ASSERT_OK_AND_ASSIGN(std::string cased,
                               vault_->Surrogate(PhiCategory::kName, "Ardmere", conv_, upper));
  EXPECT_EQ(cased, "Trevose");
  PHIGATE_ASSERT_OK_AND_ASSIGN(std::string name,
                               vault_->Surrogate(PhiCategory::kName, "Belvia", conv_, gen));
  EXPECT_EQ(name, "Penhallow");
  PHIGATE_ASSERT_OK_AND_ASSIGN(auto listed, vault_->ListSurrogates(conv_));
  std::multiset<std::string> replacements;
  for (const Mapping& m : listed) replacements.insert(m.replacement);
  EXPECT_EQ(replacements, (std::multiset<std::string>{"Marlow", "Penhallow", "Trevose"}));
  // The legacy row belongs to its scope: another scope may issue the same text.
  PHIGATE_ASSERT_OK_AND_ASSIGN(
      std::string other,
      vault_->Surrogate(PhiCategory::kName, "Belvia", Scope::Conversation("conv-other"), gen));
  EXPECT_EQ(other, "Marlow");
}

// A transaction that forwards every call; tests override one to play another
// process's write landing in the middle of this one.
class ForwardingTransaction : public store::Transaction {
 public:
  explicit ForwardingTransaction(store::Transaction& tx) : tx_(tx) {}
  Result<std::optional<store::Record>> Get(std::string_view ns, std::string_view key) override {
    return tx_.Get(ns, key);
  }
  Result<std::vector<std::optional<store::Record>>> GetMany(
      std::string_view ns, std::span<const std::string> keys) override {
    return tx_.GetMany(ns, keys);
  }
  Status Put(std::string_view ns, std::string_view key, std::string_view value,
             int64_t ts) override {
    return tx_.Put(ns, key, value, ts);
  }
  Status PutMany(std::string_view ns, std::span<const store::Record> records) override {
    return tx_.PutMany(ns, records);
  }
  Result<bool> PutIfAbsent(std::string_view ns, std::string_view key, std::string_view value,
                           int64_t ts) override {
    return tx_.PutIfAbsent(ns, key, value, ts);
  }
  Result<std::vector<bool>> PutIfAbsentMany(std::string_view ns,
                                            std::span<const store::Record> records) override {
    return tx_.PutIfAbsentMany(ns, records);
  }
  Result<bool> ReplaceIfEqual(std::string_view ns, std::string_view key, std::string_view expected,
                              std::string_view value) override {
    return tx_.ReplaceIfEqual(ns, key, expected, value);
  }
  Result<bool> Delete(std::string_view ns, std::string_view key) override {
    return tx_.Delete(ns, key);
  }
  Result<std::vector<store::Record>> Scan(std::string_view ns, std::string_view prefix,
                                          const store::ScanOptions& options) override {
    return tx_.Scan(ns, prefix, options);
  }
  Result<int64_t> DeletePrefix(std::string_view ns, std::string_view prefix) override {
    return tx_.DeletePrefix(ns, prefix);
  }
  Result<int64_t> DeleteOlderThan(std::string_view ns, int64_t cutoff) override {
    return tx_.DeleteOlderThan(ns, cutoff);
  }

 protected:
  store::Transaction& tx_;
};

// A tenant store whose transactions are wrapped in T(tx, &armed).
template <class T>
class WrappingStore : public store::TenantStore {
 public:
  explicit WrappingStore(std::unique_ptr<store::TenantStore> inner) : inner_(std::move(inner)) {}
  const TenantId& tenant() const override { return inner_->tenant(); }
  Status RunInTransaction(absl::FunctionRef<Status(store::Transaction&)> fn) override {
    return inner_->RunInTransaction([&](store::Transaction& tx) {
      T t(tx, &armed_);
      return fn(t);
    });
  }

 private:
  std::unique_ptr<store::TenantStore> inner_;
  bool armed_ = true;
};

// The first read of a date-offset row (key ".../d") sees nothing: what a
// PostgreSQL transaction (read committed) sees when another replica's first
// offset for the scope commits between its read and its write.
class HideFirstOffset : public ForwardingTransaction {
 public:
  HideFirstOffset(store::Transaction& tx, bool* armed) : ForwardingTransaction(tx), armed_(armed) {}
  Result<std::optional<store::Record>> Get(std::string_view ns, std::string_view key) override {
    if (*armed_ && key.ends_with("/d")) {
      *armed_ = false;
      return std::optional<store::Record>();
    }
    return tx_.Get(ns, key);
  }

 private:
  bool* armed_;
};
using OffsetRaceStore = WrappingStore<HideFirstOffset>;

// Right after the first scan of the mappings, every mapping it returned is
// deleted: a `vault purge` (or `keys shred`) committing between a
// re-encryption's read and its write.
class PurgeAfterFirstScan : public ForwardingTransaction {
 public:
  PurgeAfterFirstScan(store::Transaction& tx, bool* armed)
      : ForwardingTransaction(tx), armed_(armed) {}
  Result<std::vector<store::Record>> Scan(std::string_view ns, std::string_view prefix,
                                          const store::ScanOptions& options) override {
    PHIGATE_ASSIGN_OR_RETURN(auto rows, tx_.Scan(ns, prefix, options));
    if (*armed_ && ns == kMapNamespace && !rows.empty()) {
      *armed_ = false;
      for (const auto& r : rows) PHIGATE_RETURN_IF_ERROR(tx_.Delete(ns, r.key).status());
    }
    return rows;
  }

 private:
  bool* armed_;
};

// The retry_nth-th transaction from now runs its function, then fails as a
// serialization conflict would (rolled back) and is run again: what
// RunInTransaction does on PostgreSQL.
class RetryFirstStore : public store::TenantStore {
 public:
  explicit RetryFirstStore(std::unique_ptr<store::TenantStore> inner) : inner_(std::move(inner)) {}
  const TenantId& tenant() const override { return inner_->tenant(); }
  Status RunInTransaction(absl::FunctionRef<Status(store::Transaction&)> fn) override {
    if (retry_nth > 0 && --retry_nth == 0) {
      inner_
          ->RunInTransaction([&](store::Transaction& tx) {
            fn(tx).IgnoreError();
            return absl::AbortedError("serialization conflict (test)");
          })
          .IgnoreError();
    }
    return inner_->RunInTransaction(fn);
  }
  int retry_nth = 0;

 private:
  std::unique_ptr<store::TenantStore> inner_;
};

TEST_P(VaultTest, ReencryptionRetriedPageIsNotSkipped) {
  std::vector<std::string> values;  // TokenRequest holds views
  for (int i = 0; i < 600; ++i) values.push_back(absl::StrCat("ID-", i));
  std::vector<TokenRequest> reqs;
  for (const std::string& v : values) reqs.push_back({PhiCategory::kOtherId, v});
  PHIGATE_ASSERT_OK(vault_->TokenizeBatch(reqs, conv_).status());  // two pages of 500
  PHIGATE_ASSERT_OK(vault_->RotateKey().status());
  auto ts = store_->ForTenant(TenantId("acme"));
  ASSERT_TRUE(ts.ok());
  auto retrying = std::make_unique<RetryFirstStore>(std::move(*ts));
  RetryFirstStore* r = retrying.get();
  VaultOptions o;
  o.clock = clock_.fn();
  PHIGATE_ASSERT_OK_AND_ASSIGN(auto v, Vault::Open(std::move(retrying), *master_, std::move(o)));
  r->retry_nth = 2;  // ReencryptAll's second transaction: its first page
  PHIGATE_ASSERT_OK_AND_ASSIGN(int64_t moved, v->ReencryptAll());
  EXPECT_EQ(moved, 600);
  PHIGATE_ASSERT_OK_AND_ASSIGN(int64_t again, v->ReencryptAll());
  EXPECT_EQ(again, 0);
}

TEST_P(VaultTest, ReencryptionDoesNotResurrectMappingsPurgedMeanwhile) {
  PHIGATE_ASSERT_OK_AND_ASSIGN(std::string tok,
                               vault_->Tokenize(PhiCategory::kName, "Purged Meanwhile", conv_));
  PHIGATE_ASSERT_OK(vault_->RotateKey().status());
  auto ts = store_->ForTenant(TenantId("acme"));
  ASSERT_TRUE(ts.ok());
  VaultOptions o;
  o.clock = clock_.fn();
  PHIGATE_ASSERT_OK_AND_ASSIGN(
      auto v, Vault::Open(std::make_unique<WrappingStore<PurgeAfterFirstScan>>(std::move(*ts)),
                          *master_, std::move(o)));
  PHIGATE_ASSERT_OK_AND_ASSIGN(int64_t moved, v->ReencryptAll());
  EXPECT_EQ(moved, 0);
  EXPECT_EQ(OpenVault("acme")->Resolve(tok, conv_).status().code(), absl::StatusCode::kNotFound);
}

TEST_P(VaultTest, TwoReplicasGivingAScopeItsFirstDateOffsetKeepOne) {
  auto first = OpenVault("acme");  // the replica whose offset commits first
  PHIGATE_ASSERT_OK_AND_ASSIGN(int theirs, first->DateShiftDays(conv_, 3650));
  auto ts = store_->ForTenant(TenantId("acme"));
  ASSERT_TRUE(ts.ok());
  VaultOptions o;
  o.clock = clock_.fn();
  PHIGATE_ASSERT_OK_AND_ASSIGN(
      auto late,
      Vault::Open(std::make_unique<OffsetRaceStore>(std::move(*ts)), *master_, std::move(o)));
  PHIGATE_ASSERT_OK_AND_ASSIGN(int mine, late->DateShiftDays(conv_, 3650));
  EXPECT_EQ(mine, theirs);
  PHIGATE_ASSERT_OK_AND_ASSIGN(int stored, OpenVault("acme")->DateShiftDays(conv_, 3650));
  EXPECT_EQ(stored, theirs);
}

TEST_P(VaultTest, DateShiftIsStablePerScope) {
  PHIGATE_ASSERT_OK_AND_ASSIGN(int d1, vault_->DateShiftDays(conv_, 30));
  PHIGATE_ASSERT_OK_AND_ASSIGN(int d2, vault_->DateShiftDays(conv_, 30));
  EXPECT_EQ(d1, d2);
  EXPECT_NE(d1, 0);
  EXPECT_LE(std::abs(d1), 30);
}

// Reads a whole file ("" when absent).
std::string Slurp(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
}

TEST_P(VaultTest, RawDatabaseHoldsNoValueInClear) {
  const std::vector<std::string> values = {"Zebulon Quarrington", "900-55-1234", "zq@example.test",
                                           "77 Imaginary Lane", "MRN-4040404"};
  std::vector<TokenRequest> reqs;
  for (const auto& v : values) reqs.push_back({PhiCategory::kOtherId, v});
  PHIGATE_ASSERT_OK(vault_->TokenizeBatch(reqs, conv_));
  auto gen = [](PhiCategory, std::string_view, int a) -> Result<std::string> {
    return absl::StrCat("Fake Name ", a);
  };
  PHIGATE_ASSERT_OK(vault_->Surrogate(PhiCategory::kName, "Zebulon Quarrington", conv_, gen));
  std::string raw;
  if (GetParam() == "sqlite") {
    vault_.reset();
    store_.reset();  // checkpoint and close
    raw = Slurp(sqlite_path_) + Slurp(sqlite_path_ + "-wal");
  } else if (GetParam() == "postgres") {
    std::string base = url_.substr(0, url_.find("?"));
    const std::string schema = url_.substr(url_.find("phigate_schema=") + 15);
    const std::string cmd = "pg_dump --data-only -n " + schema + " '" + base + "' 2>/dev/null";
    FILE* p = popen(cmd.c_str(), "r");
    ASSERT_NE(p, nullptr);
    char buf[4096];
    size_t n;
    while ((n = fread(buf, 1, sizeof buf, p)) > 0) raw.append(buf, n);
    ASSERT_EQ(pclose(p), 0) << "pg_dump failed";
  } else {
    auto ts = store_->ForTenant(TenantId("acme"));
    ASSERT_TRUE(ts.ok());
    PHIGATE_ASSERT_OK((*ts)->RunInTransaction([&](store::Transaction& tx) -> Status {
      for (auto ns : {kMapNamespace, kIndexNamespace, kKeysNamespace}) {
        PHIGATE_ASSIGN_OR_RETURN(auto rows, tx.Scan(ns, "", {.limit = 100000}));
        for (const auto& r : rows) raw += r.key + r.value;
      }
      return absl::OkStatus();
    }));
  }
  ASSERT_GT(raw.size(), 100u);
  for (const auto& v : values) EXPECT_EQ(raw.find(v), std::string::npos) << "clear value in store";
  EXPECT_EQ(raw.find("conv-42"), std::string::npos) << "scope id in store";
}

TEST_P(VaultTest, ConcurrentStoresIssueTheSameTokenForTheSameValue) {
  if (GetParam() == "memory") GTEST_SKIP() << "needs a shared database";
  // Two Store instances = two connection pools, as two processes would have.
  PHIGATE_ASSERT_OK_AND_ASSIGN(auto second, Store::Open({.url = url_}));
  auto v1 = OpenVault("shared");
  auto v2 = OpenVault("shared", nullptr, second.get());
  constexpr int kValues = 200;
  std::vector<TokenRequest> reqs;
  std::vector<std::string> vals;
  for (int i = 0; i < kValues; ++i) vals.push_back(absl::StrCat("Synthetic Person ", i));
  for (const auto& v : vals) reqs.push_back({PhiCategory::kName, v});
  std::vector<std::string> out1, out2;
  Status s1, s2;
  std::thread a([&] {
    for (int i = 0; i < kValues; i += 20) {
      auto r = v1->TokenizeBatch(std::span(reqs).subspan(static_cast<size_t>(i), 20), conv_);
      if (!r.ok()) {
        s1 = r.status();
        return;
      }
      out1.insert(out1.end(), r->begin(), r->end());
    }
  });
  std::thread b([&] {
    for (int i = 0; i < kValues; ++i) {
      auto r = v2->Tokenize(PhiCategory::kName, vals[static_cast<size_t>(i)], conv_);
      if (!r.ok()) {
        s2 = r.status();
        return;
      }
      out2.push_back(*r);
    }
  });
  a.join();
  b.join();
  PHIGATE_ASSERT_OK(s1);
  PHIGATE_ASSERT_OK(s2);
  ASSERT_EQ(out1.size(), out2.size());
  EXPECT_EQ(out1, out2);
  PHIGATE_ASSERT_OK_AND_ASSIGN(auto back, v2->ResolveBatch(out1, conv_));
  for (int i = 0; i < kValues; ++i)
    EXPECT_EQ(back[static_cast<size_t>(i)], vals[static_cast<size_t>(i)]);
}

// A batch gives what Surrogate gives one value at a time: one surrogate per
// value (repeats in the batch share it, later calls find it), none shared by
// two values, and each request's own generator input (its index).
TEST_P(VaultTest, SurrogateBatchIsConsistentAndUnique) {
  std::vector<std::string> vals;
  for (int i = 0; i < 40; ++i) vals.push_back(absl::StrCat("Synthetic Person ", i % 25));
  std::vector<SurrogateRequest> reqs;
  for (const auto& v : vals) reqs.push_back({PhiCategory::kName, v});
  // Few candidates, so values collide with each other within the batch; the
  // index picks where each request starts drawing.
  std::vector<size_t> asked;
  auto gen = [&](size_t index, PhiCategory, std::string_view, int attempt) -> Result<std::string> {
    asked.push_back(index);
    return absl::StrCat("Candidate ", (index + static_cast<size_t>(attempt)) % 30);
  };
  std::vector<Result<std::string>> out;
  PHIGATE_ASSERT_OK(vault_->SurrogateBatch(reqs, conv_, gen, &out));
  ASSERT_EQ(out.size(), vals.size());
  std::map<std::string, std::string> by_value;
  std::set<std::string> issued;
  for (size_t i = 0; i < vals.size(); ++i) {
    PHIGATE_ASSERT_OK(out[i].status());
    auto [it, fresh] = by_value.emplace(vals[i], *out[i]);
    if (fresh) {
      EXPECT_TRUE(issued.insert(absl::AsciiStrToLower(*out[i])).second) << *out[i];
    } else {
      EXPECT_EQ(it->second, *out[i]) << vals[i];
    }
  }
  EXPECT_EQ(by_value.size(), 25u);
  // Repeats are not asked for: only the first request of each value draws.
  for (size_t index : asked) EXPECT_LT(index, 25u);
  // One at a time, the same answers; the scope lists each mapping once.
  for (const auto& [value, sur] : by_value) {
    auto never = [](PhiCategory, std::string_view, int) -> Result<std::string> {
      return absl::InternalError("must not be asked: the value has a surrogate");
    };
    PHIGATE_ASSERT_OK_AND_ASSIGN(std::string again,
                                 vault_->Surrogate(PhiCategory::kName, value, conv_, never));
    EXPECT_EQ(again, sur);
  }
  PHIGATE_ASSERT_OK_AND_ASSIGN(auto list, vault_->ListSurrogates(conv_));
  EXPECT_EQ(list.size(), 25u);
}

// One value whose generator fails, or runs out of candidates, fails alone.
TEST_P(VaultTest, SurrogateBatchFailsOneValueAlone) {
  PHIGATE_ASSERT_OK(
      vault_->Surrogate(PhiCategory::kName, "Taken Holder", conv_,
                        [](PhiCategory, std::string_view, int) -> Result<std::string> {
                          return std::string("Always Taken");
                        }));
  const std::vector<SurrogateRequest> reqs = {{PhiCategory::kName, "Qorvin Abelstam"},
                                              {PhiCategory::kDate, "Unshiftable Day"},
                                              {PhiCategory::kName, "Belvia Tranter"},
                                              {PhiCategory::kName, "Corra Vantly"}};
  auto gen = [](size_t index, PhiCategory, std::string_view, int attempt) -> Result<std::string> {
    if (index == 1) return absl::AlreadyExistsError("no candidate");
    if (index == 3) return std::string("ALWAYS TAKEN");  // another value's, in another case
    return absl::StrCat("Fresh ", index, " ", attempt);
  };
  std::vector<Result<std::string>> out;
  PHIGATE_ASSERT_OK(vault_->SurrogateBatch(reqs, conv_, gen, &out));
  ASSERT_EQ(out.size(), 4u);
  EXPECT_EQ(out[0].value_or(""), "Fresh 0 0");
  EXPECT_EQ(out[1].status().code(), absl::StatusCode::kAlreadyExists);
  EXPECT_EQ(out[2].value_or(""), "Fresh 2 0");
  EXPECT_EQ(out[3].status().code(), absl::StatusCode::kResourceExhausted);
  EXPECT_NE(out[3].status().message().find("no unique NAME surrogate"), std::string_view::npos);
  PHIGATE_ASSERT_OK_AND_ASSIGN(auto list, vault_->ListSurrogates(conv_));
  EXPECT_EQ(list.size(), 3u);  // the holder's, 0's and 2's
}

// Two spellings of one date in one batch share its one shifted form, as they
// do one call at a time.
TEST_P(VaultTest, SurrogateBatchSharesADateAcrossLetterCases) {
  const std::vector<SurrogateRequest> reqs = {{PhiCategory::kDate, "MARCH 14, 2024"},
                                              {PhiCategory::kDate, "March 14, 2024"},
                                              {PhiCategory::kDate, "April 1, 2024"}};
  auto shift = [](size_t, PhiCategory, std::string_view o, int attempt) -> Result<std::string> {
    if (attempt > 0) return absl::AlreadyExistsError("shifted date unavailable");
    if (o == "April 1, 2024") return std::string("May 26, 2024");  // taken by the first
    return absl::AsciiStrToUpper(std::string("May 26, 2024"));
  };
  std::vector<Result<std::string>> out;
  PHIGATE_ASSERT_OK(vault_->SurrogateBatch(reqs, conv_, shift, &out));
  ASSERT_EQ(out.size(), 3u);
  EXPECT_EQ(out[0].value_or(""), "MAY 26, 2024");
  EXPECT_EQ(out[1].value_or(""), "MAY 26, 2024");
  EXPECT_EQ(out[2].status().code(), absl::StatusCode::kAlreadyExists);
  PHIGATE_ASSERT_OK_AND_ASSIGN(auto list, vault_->ListSurrogates(conv_));
  EXPECT_EQ(list.size(), 1u);
}

// Two processes giving the same values surrogates at once, one in batches and
// one value at a time, agree on every value's surrogate and never issue one
// surrogate for two values.
TEST_P(VaultTest, ConcurrentStoresIssueTheSameSurrogateForTheSameValue) {
  if (GetParam() == "memory") GTEST_SKIP() << "needs a shared database";
  PHIGATE_ASSERT_OK_AND_ASSIGN(auto second, Store::Open({.url = url_}));
  auto v1 = OpenVault("shared");
  auto v2 = OpenVault("shared", nullptr, second.get());
  constexpr int kValues = 120;
  std::vector<std::string> vals;
  for (int i = 0; i < kValues; ++i) vals.push_back(absl::StrCat("Synthetic Person ", i));
  std::vector<SurrogateRequest> reqs;
  for (const auto& v : vals) reqs.push_back({PhiCategory::kName, v});
  // 150 candidates for 120 values: both writers collide often.
  auto pick = [](std::string_view o, int attempt) {
    return absl::StrCat(
        "Candidate ", (std::hash<std::string_view>()(o) + static_cast<size_t>(attempt) * 7) % 150);
  };
  std::vector<std::string> out1, out2;
  Status s1, s2;
  std::thread a([&] {
    for (int i = 0; i < kValues; i += 20) {
      std::vector<Result<std::string>> part;
      s1 = v1->SurrogateBatch(
          std::span(reqs).subspan(static_cast<size_t>(i), 20), conv_,
          [&](size_t, PhiCategory, std::string_view o, int attempt) -> Result<std::string> {
            return pick(o, attempt);
          },
          &part);
      if (!s1.ok()) return;
      for (auto& r : part) {
        if (!r.ok()) {
          s1 = r.status();
          return;
        }
        out1.push_back(*r);
      }
    }
  });
  std::thread b([&] {
    for (int i = kValues - 1; i >= 0; --i) {
      auto r = v2->Surrogate(PhiCategory::kName, vals[static_cast<size_t>(i)], conv_,
                             [&](PhiCategory, std::string_view o,
                                 int attempt) -> Result<std::string> { return pick(o, attempt); });
      if (!r.ok()) {
        s2 = r.status();
        return;
      }
      out2.insert(out2.begin(), *r);
    }
  });
  a.join();
  b.join();
  PHIGATE_ASSERT_OK(s1);
  PHIGATE_ASSERT_OK(s2);
  EXPECT_EQ(out1, out2);
  EXPECT_EQ(std::set<std::string>(out1.begin(), out1.end()).size(), out1.size());
  PHIGATE_ASSERT_OK_AND_ASSIGN(auto list, v1->ListSurrogates(conv_));
  EXPECT_EQ(list.size(), static_cast<size_t>(kValues));
}

INSTANTIATE_TEST_SUITE_P(Backends, VaultTest, ::testing::Values("memory", "sqlite", "postgres"),
                         [](const auto& p) { return p.param; });

TEST(TokenSyntaxTest, ParseAndFormat) {
  EXPECT_EQ(FormatToken(PhiCategory::kName, "7QK2X"), "[NAME_7QK2X]");
  auto p = ParseToken("[name_7qk2x]");
  ASSERT_TRUE(p.has_value());
  EXPECT_EQ(p->category, PhiCategory::kName);
  EXPECT_EQ(p->body, "7QK2X");
  EXPECT_TRUE(ParseToken("STREET_ADDRESS_ABCDE").has_value());
  EXPECT_FALSE(ParseToken("[NAME_7QK2O]").has_value());  // O is not in the alphabet
  EXPECT_FALSE(ParseToken("[NOPE_7QK2X]").has_value());
  EXPECT_FALSE(ParseToken("[ADDRESS_7QK2X]").has_value());  // alias, not the canonical name
  EXPECT_FALSE(ParseToken("NAME_").has_value());
}

TEST(UnstoredTokensTest, VaultShapedDistinctPerValueSharedPerRepeat) {
  const std::string names[] = {"Orrin Tessaly", "Velma Ostrander", "Orrin Tessaly"};
  std::vector<TokenRequest> reqs;
  for (const std::string& n : names) reqs.push_back({PhiCategory::kName, n});
  reqs.push_back({PhiCategory::kMrn, "00482913"});
  reqs.push_back({PhiCategory::kPhone, "Orrin Tessaly"});  // same bytes, another category
  PHIGATE_ASSERT_OK_AND_ASSIGN(std::vector<std::string> t, MintUnstoredTokens(reqs, 5));
  ASSERT_EQ(t.size(), reqs.size());
  for (size_t i = 0; i < t.size(); ++i) {
    auto p = ParseToken(t[i]);
    ASSERT_TRUE(p.has_value()) << t[i];
    EXPECT_EQ(p->category, reqs[i].category);
    EXPECT_EQ(FormatToken(p->category, p->body), t[i]);  // canonical form
    EXPECT_EQ(p->body.size(), 5u);
  }
  EXPECT_EQ(t[0], t[2]);  // a repeated value shares its token
  EXPECT_NE(t[0], t[1]);
  EXPECT_EQ(t[4].rfind("[PHONE_", 0), 0u);
  // Random, not derived from the value: a second batch gets other tokens.
  PHIGATE_ASSERT_OK_AND_ASSIGN(std::vector<std::string> again, MintUnstoredTokens(reqs, 5));
  EXPECT_NE(again[0], t[0]);
  // Many distinct values in one batch never share a token.
  std::vector<std::string> values;
  for (int i = 0; i < 2000; ++i) values.push_back("Patient " + std::to_string(i));
  std::vector<TokenRequest> many;
  for (const std::string& v : values) many.push_back({PhiCategory::kName, v});
  PHIGATE_ASSERT_OK_AND_ASSIGN(std::vector<std::string> mt, MintUnstoredTokens(many, 4));
  EXPECT_EQ(std::set<std::string>(mt.begin(), mt.end()).size(), many.size());
}

TEST(ScopeTest, Parse) {
  EXPECT_EQ(*ParseScope("tenant"), Scope::Tenant());
  EXPECT_EQ(*ParseScope("conv-42"), Scope::Conversation("conv-42"));
  EXPECT_EQ(*ParseScope("request:r1"), Scope::Request("r1"));
  EXPECT_FALSE(ParseScope("").ok());
}

}  // namespace
}  // namespace phigate::vault

namespace phigate::vault {
namespace {

TEST(DurationTest, ParsesUnitsAndRefusesWhatWouldOverflow) {
  PHIGATE_ASSERT_OK_AND_ASSIGN(int64_t d, ParseDuration("30d"));
  EXPECT_EQ(d, 30 * 86400);
  PHIGATE_ASSERT_OK_AND_ASSIGN(int64_t w, ParseDuration("2w"));
  EXPECT_EQ(w, 14 * 86400);
  PHIGATE_ASSERT_OK_AND_ASSIGN(int64_t y, ParseDuration("3650d"));
  EXPECT_EQ(y, int64_t{3650} * 86400);
  // 213503982334601 days wrapped to -25216 s: a cutoff 7 hours in the
  // future, which purged every mapping.
  for (const char* big : {"213503982334601d", "9223372036854775807s", "30500000000000w"}) {
    EXPECT_EQ(ParseDuration(big).status().code(), absl::StatusCode::kInvalidArgument) << big;
  }
  EXPECT_FALSE(ParseDuration("-1d").ok());
  EXPECT_FALSE(ParseDuration("5y").ok());
}

}  // namespace
}  // namespace phigate::vault
