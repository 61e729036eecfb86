// Token syntax: "[" CATEGORY "_" BODY "]", BODY over kTokenAlphabet.
#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "absl/strings/ascii.h"
#include "phigate/crypto/random.h"
#include "phigate/vault/vault.h"

namespace phigate::vault {

std::string_view ScopeKindName(ScopeKind kind) {
  switch (kind) {
    case ScopeKind::kRequest:
      return "request";
    case ScopeKind::kConversation:
      return "conversation";
    case ScopeKind::kTenant:
      return "tenant";
  }
  return "tenant";
}

Result<Scope> ParseScope(std::string_view text) {
  if (text == "tenant") return Scope::Tenant();
  auto with_id = [&](std::string_view prefix, ScopeKind kind) -> std::optional<Scope> {
    if (text.substr(0, prefix.size()) != prefix) return std::nullopt;
    return Scope{kind, std::string(text.substr(prefix.size()))};
  };
  std::optional<Scope> s = with_id("request:", ScopeKind::kRequest);
  if (!s) s = with_id("conversation:", ScopeKind::kConversation);
  if (!s) s = Scope::Conversation(std::string(text));
  if (s->id.empty() || s->id.size() > 256) {
    return absl::InvalidArgumentError("scope id must be 1..256 bytes");
  }
  return *s;
}

std::string FormatToken(PhiCategory category, std::string_view body) {
  std::string out = "[";
  out += CategoryName(category);
  out += '_';
  out += body;
  out += ']';
  return out;
}

Result<std::string> RandomTokenBody(size_t length) {
  std::string raw(length, '\0');
  PHIGATE_RETURN_IF_ERROR(crypto::RandomBytes(raw.data(), raw.size()));
  std::string body(length, '\0');
  for (size_t i = 0; i < length; ++i) {
    // 256 % 30 = 16: reject the top 16 byte values to stay uniform.
    unsigned char b = static_cast<unsigned char>(raw[i]);
    while (b >= 240) {
      PHIGATE_RETURN_IF_ERROR(crypto::RandomBytes(&b, 1));
    }
    body[i] = kTokenAlphabet[b % kTokenAlphabet.size()];
  }
  return body;
}

Result<std::vector<std::string>> MintUnstoredTokens(std::span<const TokenRequest> requests,
                                                    size_t token_length) {
  if (token_length < 4) token_length = 4;
  std::vector<std::string> out;
  out.reserve(requests.size());
  absl::flat_hash_map<std::pair<PhiCategory, std::string_view>, size_t> seen;
  absl::flat_hash_set<std::string> issued;
  for (const TokenRequest& r : requests) {
    if (auto it = seen.find(std::pair(r.category, r.value)); it != seen.end()) {
      out.push_back(out[it->second]);
      continue;
    }
    // A clash (30^5 bodies per category) only costs another draw; the length
    // grows as the vault's does, so a full space cannot loop forever.
    std::string token;
    for (size_t len = token_length, round = 0;; ++round) {
      if (round >= 12) return absl::InternalError("token space exhausted");
      if (round > 0 && round % 3 == 0) ++len;
      PHIGATE_ASSIGN_OR_RETURN(std::string body, RandomTokenBody(len));
      token = FormatToken(r.category, body);
      if (!issued.contains(token)) break;
    }
    issued.insert(token);
    seen.emplace(std::pair(r.category, r.value), out.size());
    out.push_back(std::move(token));
  }
  return out;
}

std::optional<TokenParts> ParseToken(std::string_view text) {
  if (text.size() >= 2 && text.front() == '[' && text.back() == ']') {
    text = text.substr(1, text.size() - 2);
  }
  const size_t sep = text.rfind('_');
  if (sep == std::string_view::npos || sep == 0 || sep + 1 >= text.size()) return std::nullopt;
  const auto cat = ParseCategory(text.substr(0, sep));
  if (!cat) return std::nullopt;
  // Only the canonical spelling of the category (case aside) is a token prefix.
  const std::string_view canonical = CategoryName(*cat);
  const std::string_view given = text.substr(0, sep);
  if (given.size() != canonical.size()) return std::nullopt;
  for (size_t i = 0; i < given.size(); ++i) {
    if (absl::ascii_toupper(static_cast<unsigned char>(given[i])) != canonical[i]) {
      return std::nullopt;
    }
  }
  TokenParts parts{*cat, std::string(text.substr(sep + 1))};
  for (char& ch : parts.body) {
    ch = static_cast<char>(absl::ascii_toupper(static_cast<unsigned char>(ch)));
    if (kTokenAlphabet.find(ch) == std::string_view::npos) return std::nullopt;
  }
  return parts;
}

}  // namespace phigate::vault
