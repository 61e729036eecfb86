// Token syntax: "[" CATEGORY "_" BODY "]", BODY over kTokenAlphabet.
#include "absl/strings/ascii.h"
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
