// The vault over a TenantStore. Record layout (namespaces in vault.h):
//
//   vault.keys  "idx"                 the tenant's wrapped blind-index key
//               "dek/<%08u version>"  wrapped data keys, one per version
//               "tomb"                after a shred: the last version used
//   vault.map   "<scope>/t/<CAT>_<BODY>"   sealed token mapping
//               "<scope>/s/<hmac>"         sealed surrogate mapping (key: the surrogate's index)
//               "<scope>/d"                sealed date offset of the scope
//   vault.bidx  "<scope>/<t|s>/<hmac>"     blind index of an original -> "t/<CAT>_<BODY>" or
//   "s/<hmac>"
//
// <scope> = hex(HMAC(index key, "scope" ‖ kind ‖ id))[0:16]: scope ids never
// reach the database, and a token of one scope has no row under another.
// Sealed value: 0x01 ‖ key version (u32 BE) ‖ AES-256-GCM(nonce ‖ ct ‖ tag),
// associated data "pgv1|tenant|ns|key|version": a row copied to another
// tenant, record or version fails authentication (DataLoss).
#include "phigate/vault/vault.h"

#include <chrono>
#include <map>
#include <set>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/synchronization/mutex.h"
#include "phigate/crypto/encoding.h"
#include "phigate/crypto/keyring.h"
#include "phigate/crypto/random.h"
#include "phigate/vault/open.h"

namespace phigate::vault {
namespace {

using crypto::KeyPurpose;
using crypto::Keyring;
using crypto::WrappedKey;
using store::Record;
using store::Transaction;

constexpr std::string_view kTomb = "tomb";
constexpr std::string_view kIdx = "idx";
constexpr int kMaxTokenRounds = 12;
constexpr size_t kReencryptPage = 500;  // records re-sealed per transaction

std::string DekKey(uint32_t v) { return absl::StrFormat("dek/%08u", v); }

std::string Be32(uint32_t v) {
  std::string s(4, '\0');
  s[0] = static_cast<char>(v >> 24);
  s[1] = static_cast<char>(v >> 16);
  s[2] = static_cast<char>(v >> 8);
  s[3] = static_cast<char>(v);
  return s;
}
uint32_t ReadBe32(std::string_view s) {
  return (uint32_t{static_cast<unsigned char>(s[0])} << 24) |
         (uint32_t{static_cast<unsigned char>(s[1])} << 16) |
         (uint32_t{static_cast<unsigned char>(s[2])} << 8) |
         uint32_t{static_cast<unsigned char>(s[3])};
}

std::string SerializeMapping(const Mapping& m) {
  std::string out;
  out += static_cast<char>(m.kind);
  out += static_cast<char>(m.category);
  out += Be32(static_cast<uint32_t>(m.original.size()));
  out += m.original;
  out += m.replacement;
  return out;
}
Result<Mapping> ParseMapping(std::string_view s) {
  if (s.size() < 6) return absl::DataLossError("vault mapping is truncated");
  Mapping m;
  m.kind = static_cast<MappingKind>(s[0]);
  const auto cat = static_cast<uint8_t>(s[1]);
  if ((m.kind != MappingKind::kToken && m.kind != MappingKind::kSurrogate) ||
      cat >= kNumPhiCategories) {
    return absl::DataLossError("vault mapping has a bad header");
  }
  m.category = static_cast<PhiCategory>(cat);
  const uint32_t n = ReadBe32(s.substr(2, 4));
  if (n > s.size() - 6) return absl::DataLossError("vault mapping has a bad length");
  m.original = std::string(s.substr(6, n));
  m.replacement = std::string(s.substr(6 + n));
  return m;
}

bool NumericCategory(PhiCategory c) {
  switch (c) {
    case PhiCategory::kPhone:
    case PhiCategory::kFax:
    case PhiCategory::kSsn:
    case PhiCategory::kMrn:
    case PhiCategory::kHealthPlan:
    case PhiCategory::kAccount:
    case PhiCategory::kLicense:
    case PhiCategory::kVehicle:
    case PhiCategory::kDevice:
    case PhiCategory::kIp:
    case PhiCategory::kZip:
    case PhiCategory::kOtherId:
      return true;
    default:
      return false;
  }
}

std::string Normalize(PhiCategory c, std::string_view v, bool loose) {
  if (!loose) return std::string(v);
  std::string out;
  out.reserve(v.size());
  if (NumericCategory(c)) {
    for (char ch : v) {
      if (absl::ascii_isalnum(static_cast<unsigned char>(ch))) {
        out += static_cast<char>(absl::ascii_toupper(static_cast<unsigned char>(ch)));
      }
    }
    return out;
  }
  bool space = false;
  for (char ch : v) {
    if (absl::ascii_isspace(static_cast<unsigned char>(ch))) {
      space = !out.empty();
      continue;
    }
    if (space) out += ' ';
    space = false;
    out += static_cast<char>(absl::ascii_tolower(static_cast<unsigned char>(ch)));
  }
  return out;
}

int64_t SystemNow() {
  return std::chrono::duration_cast<std::chrono::seconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

Result<std::vector<WrappedKey>> LoadKeys(Transaction& tx, uint32_t* tomb) {
  *tomb = 0;
  std::vector<WrappedKey> keys;
  std::string after;
  for (;;) {
    PHIGATE_ASSIGN_OR_RETURN(auto page,
                             tx.Scan(kKeysNamespace, "", {.start_after = after, .limit = 500}));
    for (const Record& r : page) {
      if (r.key == kTomb) {
        if (!absl::SimpleAtoi(r.value, tomb))
          return absl::DataLossError("vault tombstone malformed");
        continue;
      }
      PHIGATE_ASSIGN_OR_RETURN(WrappedKey k, WrappedKey::Parse(r.value));
      keys.push_back(std::move(k));
    }
    if (page.size() < 500) break;
    after = page.back().key;
  }
  return keys;
}

uint32_t MaxVersion(const std::vector<WrappedKey>& keys, uint32_t tomb) {
  uint32_t v = tomb;
  for (const auto& k : keys) v = std::max(v, k.version);
  return v;
}

class VaultImpl : public Vault {
 public:
  VaultImpl(std::unique_ptr<store::TenantStore> store, const crypto::KeyProvider& keys,
            VaultOptions options)
      : store_(std::move(store)), keys_(keys), options_(std::move(options)) {
    if (!options_.clock) options_.clock = SystemNow;
    if (options_.token_length < 4) options_.token_length = 4;
  }

  // Loads the keyring, creating the first keys of a new (or shredded) tenant.
  Status Init() {
    std::vector<WrappedKey> keys;
    const int64_t now = options_.clock();
    if (Status tx_status = store_->RunInTransaction([&](Transaction& tx) -> Status {
          uint32_t tomb = 0;
          PHIGATE_ASSIGN_OR_RETURN(keys, LoadKeys(tx, &tomb));
          if (!keys.empty()) return absl::OkStatus();
          const uint32_t v = tomb + 1;
          PHIGATE_ASSIGN_OR_RETURN(
              WrappedKey idx,
              crypto::NewWrappedKey(keys_, tenant().value(), KeyPurpose::kIndex, v, now));
          PHIGATE_ASSIGN_OR_RETURN(
              WrappedKey dek,
              crypto::NewWrappedKey(keys_, tenant().value(), KeyPurpose::kData, v, now));
          // PutIfAbsent: two processes creating a tenant's keys at once keep one set.
          PHIGATE_ASSIGN_OR_RETURN(bool won,
                                   tx.PutIfAbsent(kKeysNamespace, kIdx, idx.Serialize(), now));
          if (won) {
            PHIGATE_RETURN_IF_ERROR(tx.Put(kKeysNamespace, DekKey(v), dek.Serialize(), now));
            keys = {idx, dek};
            return absl::OkStatus();
          }
          PHIGATE_ASSIGN_OR_RETURN(keys, LoadKeys(tx, &tomb));
          return absl::OkStatus();
        });
        !tx_status.ok())
      return tx_status;
    return Install(keys);
  }

  const TenantId& tenant() const override { return store_->tenant(); }

  Result<std::string> Tokenize(PhiCategory category, std::string_view value,
                               const Scope& scope) override {
    const TokenRequest req{category, value};
    PHIGATE_ASSIGN_OR_RETURN(auto tokens, TokenizeBatch(std::span(&req, 1), scope));
    return std::move(tokens[0]);
  }

  Result<std::vector<std::string>> TokenizeBatch(std::span<const TokenRequest> requests,
                                                 const Scope& scope) override {
    return Mint(requests, scope, /*indexed=*/true);
  }

  Result<std::vector<std::string>> TokenizeBatchOnce(std::span<const TokenRequest> requests,
                                                     const Scope& scope) override {
    return Mint(requests, scope, /*indexed=*/scope.kind != ScopeKind::kRequest);
  }

  // indexed = false: the scope is never tokenized into again, so neither the
  // blind index is looked up (nothing can be there) nor written (nothing will
  // look). Values repeated within `requests` still share one token.
  Result<std::vector<std::string>> Mint(std::span<const TokenRequest> requests, const Scope& scope,
                                        bool indexed) {
    uint32_t generation = 0;
    PHIGATE_ASSIGN_OR_RETURN(auto ring, Ring(&generation));
    PHIGATE_ASSIGN_OR_RETURN(const std::string sk, ScopeKey(*ring, scope));
    const int64_t now = options_.clock();
    // Distinct values, by blind index.
    struct Item {
      PhiCategory category;
      std::string_view value;
      std::string bidx;
      std::string ref;  // "t/CAT_BODY" once known
    };
    std::vector<Item> items;
    items.reserve(requests.size());  // never reallocates: by_bidx views items[].bidx
    std::vector<size_t> which(requests.size());
    absl::flat_hash_map<std::string_view, size_t> by_bidx;
    by_bidx.reserve(requests.size());
    std::string normalized;
    for (size_t i = 0; i < requests.size(); ++i) {
      const auto& r = requests[i];
      std::string_view v = r.value;
      if (options_.loose_matching) {
        normalized = Normalize(r.category, r.value, true);
        v = normalized;
      }
      PHIGATE_ASSIGN_OR_RETURN(crypto::Digest d,
                               ring->index().Compute({"bidx", "t", CategoryName(r.category), v}));
      std::string key = absl::StrCat(
          sk, "/t/",
          crypto::HexEncode(std::string_view(reinterpret_cast<const char*>(d.data()), 16)));
      if (auto it = by_bidx.find(key); it != by_bidx.end()) {
        which[i] = it->second;
        continue;
      }
      which[i] = items.size();
      items.push_back(Item{r.category, r.value, std::move(key), ""});
      by_bidx.emplace(items.back().bidx, which[i]);
    }

    bool replaced = false;
    if (Status tx_status = store_->RunInTransaction([&](Transaction& tx) -> Status {
          for (auto& it : items) it.ref.clear();  // fn may be re-run
          PHIGATE_RETURN_IF_ERROR(CheckGeneration(tx, generation, &replaced));
          std::vector<std::string> keys;
          keys.reserve(items.size());
          for (const auto& it : items) keys.push_back(it.bidx);
          std::vector<std::optional<Record>> found(items.size());
          if (indexed) {
            PHIGATE_ASSIGN_OR_RETURN(found, tx.GetMany(kIndexNamespace, keys));
          }
          std::vector<size_t> missing;
          for (size_t i = 0; i < items.size(); ++i) {
            if (found[i].has_value() && !Expired(found[i]->ts, now)) {
              items[i].ref = found[i]->value;
              continue;
            }
            if (found[i].has_value()) {  // expired: drop the old pair, issue a new token
              PHIGATE_ASSIGN_OR_RETURN(bool d1, tx.Delete(kIndexNamespace, items[i].bidx));
              PHIGATE_ASSIGN_OR_RETURN(
                  bool d2, tx.Delete(kMapNamespace, absl::StrCat(sk, "/", found[i]->value)));
              (void)d1;
              (void)d2;
            }
            missing.push_back(i);
          }
          // New tokens: random bodies; the store's unique key detects collisions.
          size_t len = options_.token_length;
          for (int round = 0; !missing.empty(); ++round) {
            if (round >= kMaxTokenRounds) return absl::InternalError("token space exhausted");
            if (round > 0 && round % 3 == 0) ++len;
            std::vector<Record> recs;
            recs.reserve(missing.size());
            for (size_t i : missing) {
              PHIGATE_ASSIGN_OR_RETURN(std::string body, RandomBody(len));
              std::string ref =
                  absl::StrCat("t/", ToAbsl(CategoryName(items[i].category)), "_", body);
              std::string key = absl::StrCat(sk, "/", ref);
              Mapping m{MappingKind::kToken, items[i].category, std::string(items[i].value),
                        FormatToken(items[i].category, body)};
              PHIGATE_ASSIGN_OR_RETURN(std::string sealed,
                                       Seal(*ring, kMapNamespace, key, SerializeMapping(m)));
              items[i].ref = std::move(ref);
              recs.push_back(Record{std::move(key), std::move(sealed), now});
            }
            PHIGATE_ASSIGN_OR_RETURN(auto ok, tx.PutIfAbsentMany(kMapNamespace, recs));
            std::vector<size_t> again;
            for (size_t j = 0; j < missing.size(); ++j) {
              if (!ok[j]) again.push_back(missing[j]);
            }
            missing.swap(again);
          }
          if (!indexed) return absl::OkStatus();
          // Index the new tokens. Losing here means another transaction (maybe
          // another replica) indexed the same value first: use its token.
          std::vector<Record> idx;
          std::vector<size_t> idx_items;
          for (size_t i = 0; i < items.size(); ++i) {
            if (found[i].has_value() && !Expired(found[i]->ts, now)) continue;
            idx.push_back(Record{items[i].bidx, items[i].ref, now});
            idx_items.push_back(i);
          }
          PHIGATE_ASSIGN_OR_RETURN(auto won, tx.PutIfAbsentMany(kIndexNamespace, idx));
          std::vector<std::string> lost_keys;
          std::vector<size_t> lost_items;
          for (size_t j = 0; j < idx.size(); ++j) {
            if (won[j]) continue;
            lost_keys.push_back(idx[j].key);
            lost_items.push_back(idx_items[j]);
          }
          if (!lost_keys.empty()) {
            PHIGATE_ASSIGN_OR_RETURN(auto winners, tx.GetMany(kIndexNamespace, lost_keys));
            for (size_t j = 0; j < lost_items.size(); ++j) {
              Item& it = items[lost_items[j]];
              if (!winners[j].has_value()) return absl::AbortedError("blind index race; retry");
              PHIGATE_ASSIGN_OR_RETURN(bool d,
                                       tx.Delete(kMapNamespace, absl::StrCat(sk, "/", it.ref)));
              (void)d;
              it.ref = winners[j]->value;
            }
          }
          return absl::OkStatus();
        });
        !tx_status.ok())
      return replaced ? KeysReplaced() : tx_status;
    std::vector<std::string> out;
    out.reserve(requests.size());
    for (size_t i = 0; i < requests.size(); ++i) {
      const std::string& ref = items[which[i]].ref;
      if (ref.size() < 3 || ref[0] != 't')
        return absl::DataLossError("vault index entry malformed");
      out.push_back(absl::StrCat("[", ToAbsl(std::string_view(ref).substr(2)), "]"));
    }
    return out;
  }

  Result<std::string> Resolve(std::string_view token, const Scope& scope) override {
    const std::string t(token);
    PHIGATE_ASSIGN_OR_RETURN(auto r, ResolveBatch(std::span(&t, 1), scope));
    if (!r[0].has_value()) {
      return absl::NotFoundError(
          "token not found in this tenant and scope (unknown, purged or expired)");
    }
    return std::move(*r[0]);
  }

  Result<std::vector<std::optional<std::string>>> ResolveBatch(std::span<const std::string> tokens,
                                                               const Scope& scope) override {
    PHIGATE_ASSIGN_OR_RETURN(auto ring, Ring());
    PHIGATE_ASSIGN_OR_RETURN(const std::string sk, ScopeKey(*ring, scope));
    std::vector<std::optional<std::string>> out(tokens.size());
    std::vector<std::string> keys;
    std::vector<size_t> pos;
    for (size_t i = 0; i < tokens.size(); ++i) {
      auto parts = ParseToken(tokens[i]);
      if (!parts) continue;
      keys.push_back(
          absl::StrCat(sk, "/t/", ToAbsl(CategoryName(parts->category)), "_", parts->body));
      pos.push_back(i);
    }
    if (keys.empty()) return out;
    std::vector<std::optional<Record>> rows;
    if (Status tx_status = store_->RunInTransaction([&](Transaction& tx) -> Status {
          PHIGATE_ASSIGN_OR_RETURN(rows, tx.GetMany(kMapNamespace, keys));
          return absl::OkStatus();
        });
        !tx_status.ok())
      return tx_status;
    const int64_t now = options_.clock();
    for (size_t j = 0; j < rows.size(); ++j) {
      if (!rows[j].has_value() || Expired(rows[j]->ts, now)) continue;
      PHIGATE_ASSIGN_OR_RETURN(std::string plain, Open(kMapNamespace, keys[j], rows[j]->value));
      PHIGATE_ASSIGN_OR_RETURN(Mapping m, ParseMapping(plain));
      if (m.kind != MappingKind::kToken) return absl::DataLossError("vault record kind mismatch");
      out[pos[j]] = std::move(m.original);
    }
    return out;
  }

  Result<std::string> Surrogate(PhiCategory category, std::string_view value, const Scope& scope,
                                SurrogateFn generate) override {
    const SurrogateRequest req{category, value};
    std::vector<Result<std::string>> out;
    PHIGATE_RETURN_IF_ERROR(SurrogateBatch(
        std::span(&req, 1), scope,
        [&generate](size_t, PhiCategory c, std::string_view o, int attempt) {
          return generate(c, o, attempt);
        },
        &out));
    return std::move(out[0]);
  }

  // Every distinct value (by blind index) is looked up; the missing ones draw
  // candidates in rounds — attempt k of every value still open in round k —
  // so a batch costs a few statements per round, not a transaction per value.
  // A candidate is taken when a surrogate mapping holds it (any category) or
  // a legacy per-category index of it exists; the map row's unique key decides
  // between two writers, the blind index between two writers of one value.
  Status SurrogateBatch(std::span<const SurrogateRequest> requests, const Scope& scope,
                        BatchSurrogateFn generate, std::vector<Result<std::string>>* out) override {
    out->clear();
    uint32_t generation = 0;
    PHIGATE_ASSIGN_OR_RETURN(auto ring, Ring(&generation));
    PHIGATE_ASSIGN_OR_RETURN(const std::string sk, ScopeKey(*ring, scope));
    const int64_t now = options_.clock();
    using Item = SurrogateItem;
    std::vector<Item> items;
    std::vector<size_t> which(requests.size());
    absl::flat_hash_map<std::string, size_t> by_bidx;
    for (size_t i = 0; i < requests.size(); ++i) {
      const SurrogateRequest& r = requests[i];
      PHIGATE_ASSIGN_OR_RETURN(
          crypto::Digest d,
          ring->index().Compute({"bidx", "s", CategoryName(r.category),
                                 Normalize(r.category, r.value, options_.loose_matching)}));
      std::string bidx = absl::StrCat(
          sk, "/s/",
          crypto::HexEncode(std::string_view(reinterpret_cast<const char*>(d.data()), 16)));
      auto [it, fresh] = by_bidx.emplace(bidx, items.size());
      which[i] = it->second;
      if (fresh)
        items.push_back(Item{i, r.category, r.value, std::move(bidx), {}, {}, {}, {}, {}, {}});
    }
    if (items.empty()) return absl::OkStatus();
    bool replaced = false;
    const Status tx_status = store_->RunInTransaction([&](Transaction& tx) -> Status {
      for (Item& it : items) it.result.reset();  // fn may be re-run
      PHIGATE_RETURN_IF_ERROR(CheckGeneration(tx, generation, &replaced));
      // 1. Values already mapped in this scope.
      std::vector<std::string> keys;
      keys.reserve(items.size());
      for (const Item& it : items) keys.push_back(it.bidx);
      PHIGATE_ASSIGN_OR_RETURN(auto index, tx.GetMany(kIndexNamespace, keys));
      std::vector<size_t> open;  // items still without a surrogate
      std::vector<size_t> mapped;
      keys.clear();
      for (size_t i = 0; i < items.size(); ++i) {
        if (index[i].has_value() && !Expired(index[i]->ts, now)) {
          mapped.push_back(i);
          keys.push_back(absl::StrCat(sk, "/", index[i]->value));
        } else {
          if (index[i].has_value()) {  // expired: the value may be given a surrogate again
            PHIGATE_RETURN_IF_ERROR(DropIndexed(tx, sk, *index[i], items[i].bidx));
          }
          open.push_back(i);
        }
      }
      PHIGATE_ASSIGN_OR_RETURN(auto rows, tx.GetMany(kMapNamespace, keys));
      for (size_t j = 0; j < mapped.size(); ++j) {
        Item& it = items[mapped[j]];
        if (rows[j].has_value() && !Expired(rows[j]->ts, now)) {
          PHIGATE_ASSIGN_OR_RETURN(Mapping m, OpenMapping(keys[j], rows[j]->value));
          it.result = std::move(m.replacement);
          continue;
        }
        // An index entry whose mapping is gone (purged by age after a later
        // spelling linked to it): nothing resolves through it any more.
        PHIGATE_ASSIGN_OR_RETURN(bool gone, tx.Delete(kIndexNamespace, it.bidx));
        (void)gone;
        open.push_back(mapped[j]);
      }
      std::sort(open.begin(), open.end());
      // 2. New surrogates, in rounds.
      for (int attempt = 0; attempt < kSurrogateAttempts && !open.empty(); ++attempt) {
        std::vector<size_t> drawn;
        for (size_t i : open) {
          Item& it = items[i];
          Result<std::string> c = generate(it.first, it.category, it.value, attempt);
          if (!c.ok()) {
            it.result = c.status();
            continue;
          }
          if (c->empty() || absl::EqualsIgnoreCase(*c, ToAbsl(it.value))) continue;
          it.candidate = *std::move(c);
          PHIGATE_ASSIGN_OR_RETURN(it.ref, SurrogateRef(*ring, it.candidate));
          PHIGATE_ASSIGN_OR_RETURN(std::string legacy_ref,
                                   LegacySurrogateRef(*ring, it.category, it.candidate));
          it.key = absl::StrCat(sk, "/", it.ref);
          it.legacy_key = absl::StrCat(sk, "/", legacy_ref);
          Mapping m{MappingKind::kSurrogate, it.category, std::string(it.value), it.candidate};
          PHIGATE_ASSIGN_OR_RETURN(it.sealed,
                                   Seal(*ring, kMapNamespace, it.key, SerializeMapping(m)));
          drawn.push_back(i);
        }
        // A legacy index of the candidate in its category: taken.
        keys.clear();
        for (size_t i : drawn) keys.push_back(items[i].legacy_key);
        PHIGATE_ASSIGN_OR_RETURN(auto legacy, tx.GetMany(kMapNamespace, keys));
        std::vector<size_t> trying;
        for (size_t j = 0; j < drawn.size(); ++j) {
          if (!legacy[j].has_value()) trying.push_back(drawn[j]);
        }
        if (options_.ttl_seconds > 0) {
          // An expired mapping holding the candidate is gone already for
          // readers: drop it so the candidate can be issued again.
          keys.clear();
          for (size_t i : trying) keys.push_back(items[i].key);
          PHIGATE_ASSIGN_OR_RETURN(auto held, tx.GetMany(kMapNamespace, keys));
          for (size_t j = 0; j < trying.size(); ++j) {
            if (held[j].has_value() && Expired(held[j]->ts, now)) {
              PHIGATE_ASSIGN_OR_RETURN(bool gone, tx.Delete(kMapNamespace, keys[j]));
              (void)gone;
            }
          }
        }
        std::vector<Record> recs;
        recs.reserve(trying.size());
        for (size_t i : trying) recs.push_back(Record{items[i].key, items[i].sealed, now});
        PHIGATE_ASSIGN_OR_RETURN(auto inserted, tx.PutIfAbsentMany(kMapNamespace, recs));
        // Ours: index them. Losing the index means another transaction gave
        // the value a surrogate first: drop our row and take theirs.
        std::vector<size_t> mine, collided;
        for (size_t j = 0; j < trying.size(); ++j) {
          (inserted[j] ? mine : collided).push_back(trying[j]);
        }
        PHIGATE_RETURN_IF_ERROR(Link(tx, sk, now, mine, /*drop_lost=*/true, &items));
        // Taken: by the same value in another letter case ("MARCH 14, 2024"
        // and "March 14, 2024" shift to the same date, which has no other
        // candidate), which this spelling then shares; else draw again.
        keys.clear();
        for (size_t i : collided) keys.push_back(items[i].key);
        PHIGATE_ASSIGN_OR_RETURN(auto taken, tx.GetMany(kMapNamespace, keys));
        std::vector<size_t> sharing;
        for (size_t j = 0; j < collided.size(); ++j) {
          Item& it = items[collided[j]];
          if (!taken[j].has_value() || Expired(taken[j]->ts, now)) continue;
          PHIGATE_ASSIGN_OR_RETURN(Mapping held, OpenMapping(keys[j], taken[j]->value));
          if (held.kind == MappingKind::kSurrogate && held.category == it.category &&
              absl::EqualsIgnoreCase(held.original, ToAbsl(it.value))) {
            it.candidate = std::move(held.replacement);
            sharing.push_back(collided[j]);
          }
        }
        PHIGATE_RETURN_IF_ERROR(Link(tx, sk, now, sharing, /*drop_lost=*/false, &items));
        std::vector<size_t> still;
        for (size_t i : open) {
          if (!items[i].result.has_value()) still.push_back(i);
        }
        open.swap(still);
      }
      for (size_t i : open) {
        items[i].result = absl::ResourceExhaustedError(
            absl::StrCat("no unique ", ToAbsl(CategoryName(items[i].category)),
                         " surrogate found after ", kSurrogateAttempts, " attempts"));
      }
      return absl::OkStatus();
    });
    if (replaced) return KeysReplaced();
    PHIGATE_RETURN_IF_ERROR(tx_status);
    out->reserve(requests.size());
    for (size_t i = 0; i < requests.size(); ++i) out->push_back(*items[which[i]].result);
    return absl::OkStatus();
  }

  Result<std::vector<Mapping>> ListSurrogates(const Scope& scope) override {
    PHIGATE_ASSIGN_OR_RETURN(auto ring, Ring());
    PHIGATE_ASSIGN_OR_RETURN(const std::string sk, ScopeKey(*ring, scope));
    const std::string prefix = absl::StrCat(sk, "/s/");
    std::vector<Record> rows;
    if (Status tx_status = store_->RunInTransaction([&](Transaction& tx) -> Status {
          rows.clear();
          std::string after;
          for (;;) {
            PHIGATE_ASSIGN_OR_RETURN(auto page,
                                     tx.Scan(kMapNamespace, prefix, {.start_after = after}));
            for (auto& r : page) rows.push_back(std::move(r));
            if (page.size() < 1000) break;
            after = rows.back().key;
          }
          return absl::OkStatus();
        });
        !tx_status.ok())
      return tx_status;
    const int64_t now = options_.clock();
    std::vector<Mapping> out;
    for (const auto& r : rows) {
      if (Expired(r.ts, now)) continue;
      PHIGATE_ASSIGN_OR_RETURN(std::string plain, Open(kMapNamespace, r.key, r.value));
      PHIGATE_ASSIGN_OR_RETURN(Mapping m, ParseMapping(plain));
      out.push_back(std::move(m));
    }
    return out;
  }

  Result<std::string> ScopeSecret(const Scope& scope, std::string_view purpose) override {
    if (scope.kind != ScopeKind::kTenant && scope.id.empty()) {
      return absl::InvalidArgumentError("request and conversation scopes need an id");
    }
    uint32_t generation = 0;
    PHIGATE_ASSIGN_OR_RETURN(auto ring, Ring(&generation));
    const char kind = static_cast<char>(scope.kind);
    PHIGATE_ASSIGN_OR_RETURN(
        crypto::Digest d,
        ring->index().Compute({"scope-secret", std::string_view(&kind, 1), scope.id, purpose}));
    return std::string(reinterpret_cast<const char*>(d.data()), d.size());
  }

  Result<int> DateShiftDays(const Scope& scope, int max_days) override {
    if (max_days < 1 || max_days > 3650)
      return absl::InvalidArgumentError("max_days must be 1..3650");
    uint32_t generation = 0;
    PHIGATE_ASSIGN_OR_RETURN(auto ring, Ring(&generation));
    PHIGATE_ASSIGN_OR_RETURN(const std::string sk, ScopeKey(*ring, scope));
    const std::string key = absl::StrCat(sk, "/d");
    const int64_t now = options_.clock();
    PHIGATE_ASSIGN_OR_RETURN(uint64_t mag, crypto::RandomUniform(static_cast<uint64_t>(max_days)));
    PHIGATE_ASSIGN_OR_RETURN(uint64_t sign, crypto::RandomUniform(2));
    const int fresh = (sign ? -1 : 1) * static_cast<int>(mag + 1);
    PHIGATE_ASSIGN_OR_RETURN(std::string sealed,
                             Seal(*ring, kMapNamespace, key, absl::StrCat(fresh)));
    std::optional<Record> row;
    bool replaced = false;
    if (Status tx_status = store_->RunInTransaction([&](Transaction& tx) -> Status {
          PHIGATE_RETURN_IF_ERROR(CheckGeneration(tx, generation, &replaced));
          PHIGATE_ASSIGN_OR_RETURN(row, tx.Get(kMapNamespace, key));
          if (row.has_value() && !Expired(row->ts, now)) return absl::OkStatus();
          if (row.has_value()) {
            PHIGATE_ASSIGN_OR_RETURN(bool d, tx.Delete(kMapNamespace, key));
            (void)d;
          }
          // PutIfAbsent, not Put: two replicas giving a scope its first offset
          // at once (PostgreSQL reads committed rows only) keep one offset,
          // the first committed, and both use it.
          PHIGATE_ASSIGN_OR_RETURN(bool won, tx.PutIfAbsent(kMapNamespace, key, sealed, now));
          if (won) {
            row = Record{key, sealed, now};
            return absl::OkStatus();
          }
          PHIGATE_ASSIGN_OR_RETURN(row, tx.Get(kMapNamespace, key));
          if (!row.has_value()) return absl::AbortedError("date offset race; retry");
          return absl::OkStatus();
        });
        !tx_status.ok())
      return replaced ? KeysReplaced() : tx_status;
    PHIGATE_ASSIGN_OR_RETURN(std::string plain, Open(kMapNamespace, key, row->value));
    int days = 0;
    if (!absl::SimpleAtoi(plain, &days)) return absl::DataLossError("date offset record malformed");
    return days;
  }

  Result<int64_t> Purge(int64_t older_than_seconds) override {
    if (older_than_seconds < 0) return absl::InvalidArgumentError("older_than must be >= 0");
    return PurgeMappingsBefore(*store_, options_.clock() - older_than_seconds);
  }

  Result<uint32_t> RotateKey() override {
    PHIGATE_ASSIGN_OR_RETURN(auto ring, Ring());
    (void)ring;
    const int64_t now = options_.clock();
    uint32_t version = 0;
    if (Status tx_status = store_->RunInTransaction([&](Transaction& tx) -> Status {
          uint32_t tomb = 0;
          PHIGATE_ASSIGN_OR_RETURN(auto keys, LoadKeys(tx, &tomb));
          version = MaxVersion(keys, tomb) + 1;
          PHIGATE_ASSIGN_OR_RETURN(
              WrappedKey dek,
              crypto::NewWrappedKey(keys_, tenant().value(), KeyPurpose::kData, version, now));
          PHIGATE_ASSIGN_OR_RETURN(
              bool ins, tx.PutIfAbsent(kKeysNamespace, DekKey(version), dek.Serialize(), now));
          return ins ? absl::OkStatus() : absl::AbortedError("concurrent key rotation; retry");
        });
        !tx_status.ok())
      return tx_status;
    PHIGATE_RETURN_IF_ERROR(Reload());
    return version;
  }

  Result<int64_t> ReencryptAll() override {
    PHIGATE_RETURN_IF_ERROR(Reload());
    uint32_t generation = 0;
    PHIGATE_ASSIGN_OR_RETURN(auto ring, Ring(&generation));
    const uint32_t current = ring->current_version();
    int64_t changed = 0;
    std::string after;
    bool more = true;
    while (more) {
      // One transaction per page: read, re-seal, and write back only a record
      // still holding the value read (compare-and-set). A record purged,
      // shredded or rewritten meanwhile stays as the other writer left it;
      // keys replaced by `keys shred` stop the run (nothing written under
      // destroyed keys).
      // Set by the attempt that commits (a retried attempt starts over).
      int64_t page_changed = 0;
      bool page_full = false, replaced = false;
      std::string page_last;
      if (Status tx_status = store_->RunInTransaction([&](Transaction& tx) -> Status {
            page_changed = 0;
            PHIGATE_RETURN_IF_ERROR(CheckGeneration(tx, generation, &replaced));
            PHIGATE_ASSIGN_OR_RETURN(
                std::vector<Record> page,
                tx.Scan(kMapNamespace, "", {.start_after = after, .limit = kReencryptPage}));
            page_full = page.size() == kReencryptPage;
            page_last = page.empty() ? after : page.back().key;
            for (const auto& r : page) {
              if (r.value.size() < 5 || ReadBe32(std::string_view(r.value).substr(1, 4)) == current)
                continue;
              PHIGATE_ASSIGN_OR_RETURN(std::string plain, Open(kMapNamespace, r.key, r.value));
              auto sealed = Seal(*ring, kMapNamespace, r.key, plain);
              crypto::SecureWipe(plain.data(), plain.size());
              if (!sealed.ok()) return sealed.status();
              PHIGATE_ASSIGN_OR_RETURN(bool done,
                                       tx.ReplaceIfEqual(kMapNamespace, r.key, r.value, *sealed));
              page_changed += done ? 1 : 0;
            }
            return absl::OkStatus();
          });
          !tx_status.ok()) {
        if (replaced) return KeysReplaced();
        return tx_status;
      }
      changed += page_changed;
      after = std::move(page_last);
      more = page_full;
    }
    return changed;
  }

  Status Shred() override {
    PHIGATE_RETURN_IF_ERROR(ShredTenant(*store_, options_.clock()));
    absl::MutexLock lock(&mu_);
    ring_.reset();
    shredded_ = true;
    return absl::OkStatus();
  }

  Result<uint32_t> CurrentKeyVersion() override {
    PHIGATE_ASSIGN_OR_RETURN(auto ring, Ring());
    return ring->current_version();
  }

 private:
  bool Expired(int64_t ts, int64_t now) const {
    return options_.ttl_seconds > 0 && ts + options_.ttl_seconds <= now;
  }

  Status Install(const std::vector<WrappedKey>& keys) {
    PHIGATE_ASSIGN_OR_RETURN(std::unique_ptr<Keyring> ring,
                             Keyring::Unwrap(keys_, tenant().value(), keys));
    uint32_t generation = 0;
    for (const WrappedKey& k : keys) {
      if (k.purpose == KeyPurpose::kIndex) generation = k.version;
    }
    absl::MutexLock lock(&mu_);
    ring_ = std::shared_ptr<const Keyring>(std::move(ring));
    generation_ = generation;
    shredded_ = false;
    return absl::OkStatus();
  }

  // Inside a writing transaction: fails when the tenant's keys are no longer
  // the generation this vault holds — another process (`phigate keys shred`)
  // destroyed them. Writing on would seal rows under destroyed keys: orphans
  // that nothing can read and that block every later re-encryption.
  static Status CheckGeneration(Transaction& tx, uint32_t generation, bool* replaced) {
    PHIGATE_ASSIGN_OR_RETURN(auto idx, tx.Get(kKeysNamespace, kIdx));
    uint32_t now_generation = 0;
    if (idx.has_value()) {
      PHIGATE_ASSIGN_OR_RETURN(WrappedKey k, WrappedKey::Parse(idx->value));
      now_generation = k.version;
    }
    if (now_generation == generation) return absl::OkStatus();
    *replaced = true;
    return absl::FailedPreconditionError("vault keys replaced");  // not Aborted: no retry
  }

  // After CheckGeneration failed: takes up the tenant's new keys (creating
  // them if the tenant was shredded, as opening the vault afresh would), so
  // the next call works, and fails this one.
  Status KeysReplaced() {
    PHIGATE_RETURN_IF_ERROR(Init());
    return absl::AbortedError(
        "the tenant's vault keys were destroyed by another process (crypto-shredded); nothing "
        "was written, retry");
  }

  Status Reload() {
    std::vector<WrappedKey> keys;
    if (Status tx_status = store_->RunInTransaction([&](Transaction& tx) -> Status {
          uint32_t tomb = 0;
          PHIGATE_ASSIGN_OR_RETURN(keys, LoadKeys(tx, &tomb));
          return absl::OkStatus();
        });
        !tx_status.ok())
      return tx_status;
    if (keys.empty()) {
      absl::MutexLock lock(&mu_);
      ring_.reset();
      shredded_ = true;
      return absl::FailedPreconditionError(
          "the tenant's keys were destroyed (crypto-shredded); reopen the vault to start anew");
    }
    return Install(keys);
  }

  // The keyring, and (when asked) its generation: both of one Install.
  Result<std::shared_ptr<const Keyring>> Ring(uint32_t* generation = nullptr) {
    absl::MutexLock lock(&mu_);
    if (shredded_ || ring_ == nullptr) {
      return absl::FailedPreconditionError(
          "the tenant's keys were destroyed (crypto-shredded); reopen the vault to start anew");
    }
    if (generation != nullptr) *generation = generation_;
    return ring_;
  }

  Result<std::string> ScopeKey(const Keyring& ring, const Scope& scope) const {
    if (scope.kind != ScopeKind::kTenant && scope.id.empty()) {
      return absl::InvalidArgumentError("request and conversation scopes need an id");
    }
    const char kind = static_cast<char>(scope.kind);
    PHIGATE_ASSIGN_OR_RETURN(crypto::Digest d,
                             ring.index().Compute({"scope", std::string_view(&kind, 1), scope.id}));
    return crypto::HexEncode(std::string_view(reinterpret_cast<const char*>(d.data()), 8));
  }

  // A surrogate's index is the same whatever its category: one surrogate text
  // ("Marion") is issued once per scope, so re-identification never has to
  // choose between a patient's name and a town that were given the same one.
  Result<std::string> SurrogateRef(const Keyring& ring, std::string_view surrogate) const {
    PHIGATE_ASSIGN_OR_RETURN(
        crypto::Digest d,
        ring.index().Compute({"surrogate", absl::AsciiStrToLower(std::string(surrogate))}));
    return absl::StrCat(
        "s/", crypto::HexEncode(std::string_view(reinterpret_cast<const char*>(d.data()), 16)));
  }

  // The index that rows written before the one above (which were unique per
  // category only) are stored under; a new candidate that equals one of them
  // in the same category still counts as taken.
  Result<std::string> LegacySurrogateRef(const Keyring& ring, PhiCategory category,
                                         std::string_view surrogate) const {
    PHIGATE_ASSIGN_OR_RETURN(crypto::Digest d,
                             ring.index().Compute({"sur", CategoryName(category),
                                                   absl::AsciiStrToLower(std::string(surrogate))}));
    return absl::StrCat(
        "s/", crypto::HexEncode(std::string_view(reinterpret_cast<const char*>(d.data()), 16)));
  }

  static constexpr int kSurrogateAttempts = 32;

  // A distinct value of a SurrogateBatch and, while it draws, its candidate.
  struct SurrogateItem {
    size_t first;  // the first request of this value
    PhiCategory category;
    std::string_view value;
    std::string bidx;
    std::optional<Result<std::string>> result;  // set once decided
    std::string candidate, ref, key, legacy_key, sealed;
  };

  Result<Mapping> OpenMapping(std::string_view key, std::string_view sealed) {
    PHIGATE_ASSIGN_OR_RETURN(std::string plain, Open(kMapNamespace, key, sealed));
    Result<Mapping> m = ParseMapping(plain);
    crypto::SecureWipe(plain.data(), plain.size());
    return m;
  }

  // Drops an expired index entry of a value and the mapping it points to.
  static Status DropIndexed(Transaction& tx, const std::string& sk, const Record& index,
                            std::string_view bidx) {
    PHIGATE_ASSIGN_OR_RETURN(bool d1, tx.Delete(kIndexNamespace, bidx));
    PHIGATE_ASSIGN_OR_RETURN(bool d2, tx.Delete(kMapNamespace, absl::StrCat(sk, "/", index.value)));
    (void)d1;
    (void)d2;
    return absl::OkStatus();
  }

  // Points the blind index of each of `which` at its candidate's mapping
  // (ref). Where another transaction indexed the value first, its surrogate is
  // taken instead (and, with drop_lost, our own mapping row removed); one that
  // cannot be read stays undecided and draws again.
  Status Link(Transaction& tx, const std::string& sk, int64_t now, const std::vector<size_t>& which,
              bool drop_lost, std::vector<SurrogateItem>* items) {
    if (which.empty()) return absl::OkStatus();
    std::vector<Record> idx;
    idx.reserve(which.size());
    for (size_t i : which) idx.push_back(Record{(*items)[i].bidx, (*items)[i].ref, now});
    PHIGATE_ASSIGN_OR_RETURN(auto won, tx.PutIfAbsentMany(kIndexNamespace, idx));
    for (size_t j = 0; j < which.size(); ++j) {
      SurrogateItem& it = (*items)[which[j]];
      if (won[j]) {
        it.result = it.candidate;
        continue;
      }
      if (drop_lost) {
        PHIGATE_ASSIGN_OR_RETURN(bool gone, tx.Delete(kMapNamespace, it.key));
        (void)gone;
      }
      PHIGATE_ASSIGN_OR_RETURN(auto theirs, tx.Get(kIndexNamespace, it.bidx));
      if (!theirs.has_value() || Expired(theirs->ts, now)) continue;
      const std::string key = absl::StrCat(sk, "/", theirs->value);
      PHIGATE_ASSIGN_OR_RETURN(auto row, tx.Get(kMapNamespace, key));
      if (!row.has_value() || Expired(row->ts, now)) continue;
      PHIGATE_ASSIGN_OR_RETURN(Mapping m, OpenMapping(key, row->value));
      it.result = std::move(m.replacement);
    }
    return absl::OkStatus();
  }

  static Result<std::string> RandomBody(size_t len) { return RandomTokenBody(len); }

  std::string AssociatedData(std::string_view ns, std::string_view key, uint32_t version) const {
    return absl::StrCat("pgv1|", tenant().value(), "|", ToAbsl(ns), "|", ToAbsl(key), "|", version);
  }

  Result<std::string> Seal(const Keyring& ring, std::string_view ns, std::string_view key,
                           std::string_view plain) const {
    const uint32_t v = ring.current_version();
    PHIGATE_ASSIGN_OR_RETURN(const crypto::Aead* aead, ring.DataKey(v));
    PHIGATE_ASSIGN_OR_RETURN(std::string sealed, aead->Seal(plain, AssociatedData(ns, key, v)));
    return absl::StrCat("\x01", Be32(v), sealed);
  }

  Result<std::string> Open(std::string_view ns, std::string_view key, std::string_view sealed) {
    if (sealed.size() < 5 || sealed[0] != '\x01') {
      return absl::DataLossError("vault record has an unknown format (corrupted)");
    }
    const uint32_t v = ReadBe32(sealed.substr(1, 4));
    PHIGATE_ASSIGN_OR_RETURN(auto ring, Ring());
    auto aead = ring->DataKey(v);
    if (!aead.ok()) {  // maybe rotated by another process: reload once
      PHIGATE_RETURN_IF_ERROR(Reload());
      PHIGATE_ASSIGN_OR_RETURN(ring, Ring());
      aead = ring->DataKey(v);
      if (!aead.ok()) return aead.status();
    }
    auto plain = (*aead)->Open(sealed.substr(5), AssociatedData(ns, key, v));
    if (!plain.ok()) {
      return absl::DataLossError(
          "vault record failed authentication (corrupted, moved or sealed under another key)");
    }
    return plain;
  }

  std::unique_ptr<store::TenantStore> store_;
  const crypto::KeyProvider& keys_;
  VaultOptions options_;
  absl::Mutex mu_;
  std::shared_ptr<const Keyring> ring_ ABSL_GUARDED_BY(mu_);
  uint32_t generation_ ABSL_GUARDED_BY(mu_) = 0;  // the version of the index key
  bool shredded_ ABSL_GUARDED_BY(mu_) = false;
};

}  // namespace

Result<std::unique_ptr<Vault>> Vault::Open(std::unique_ptr<store::TenantStore> store,
                                           const crypto::KeyProvider& keys, VaultOptions options) {
  if (store == nullptr) return absl::InvalidArgumentError("vault needs a tenant store");
  auto v = std::make_unique<VaultImpl>(std::move(store), keys, std::move(options));
  PHIGATE_RETURN_IF_ERROR(v->Init());
  return std::unique_ptr<Vault>(std::move(v));
}

Status ShredTenant(store::TenantStore& store, int64_t now) {
  return store.RunInTransaction([&](Transaction& tx) -> Status {
    uint32_t tomb = 0;
    PHIGATE_ASSIGN_OR_RETURN(auto keys, LoadKeys(tx, &tomb));
    const uint32_t last = MaxVersion(keys, tomb);
    PHIGATE_ASSIGN_OR_RETURN(int64_t a, tx.DeletePrefix(kKeysNamespace, ""));
    PHIGATE_ASSIGN_OR_RETURN(int64_t b, tx.DeletePrefix(kMapNamespace, ""));
    PHIGATE_ASSIGN_OR_RETURN(int64_t c, tx.DeletePrefix(kIndexNamespace, ""));
    (void)a;
    (void)b;
    (void)c;
    return tx.Put(kKeysNamespace, kTomb, absl::StrCat(last), now);
  });
}

Result<int> RewrapTenantKeys(store::TenantStore& store, const crypto::KeyProvider& from,
                             const crypto::KeyProvider& to) {
  int n = 0;
  if (Status tx_status = store.RunInTransaction([&](Transaction& tx) -> Status {
        n = 0;
        PHIGATE_ASSIGN_OR_RETURN(auto rows, tx.Scan(kKeysNamespace, "", {.limit = 100000}));
        for (const Record& r : rows) {
          if (r.key == kTomb) continue;
          PHIGATE_ASSIGN_OR_RETURN(WrappedKey k, WrappedKey::Parse(r.value));
          if (k.master_key_id == to.key_id()) continue;
          PHIGATE_ASSIGN_OR_RETURN(WrappedKey moved,
                                   crypto::RewrapKey(k, store.tenant().value(), from, to));
          PHIGATE_RETURN_IF_ERROR(tx.Put(kKeysNamespace, r.key, moved.Serialize(), r.ts));
          ++n;
        }
        return absl::OkStatus();
      });
      !tx_status.ok())
    return tx_status;
  return n;
}

}  // namespace phigate::vault
