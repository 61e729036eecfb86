#include "src/policy/internal/yaml_reader.h"

#include <algorithm>
#include <cctype>
#include <set>

namespace phigate::policy::internal {
namespace {

size_t Distance(std::string_view a, std::string_view b) {
  std::vector<size_t> prev(b.size() + 1), cur(b.size() + 1);
  for (size_t j = 0; j <= b.size(); ++j) prev[j] = j;
  for (size_t i = 1; i <= a.size(); ++i) {
    cur[0] = i;
    for (size_t j = 1; j <= b.size(); ++j) {
      const size_t sub = prev[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1);
      cur[j] = std::min({prev[j] + 1, cur[j - 1] + 1, sub});
    }
    std::swap(prev, cur);
  }
  return prev[b.size()];
}

std::string Quote(std::string_view s) {
  // Keys are config vocabulary, not PHI; still cap the length echoed back.
  std::string out(s.substr(0, 64));
  if (s.size() > 64) out += "...";
  return "'" + out + "'";
}

}  // namespace

std::string_view Closest(std::string_view word,
                         std::initializer_list<std::string_view> candidates) {
  std::string_view best;
  size_t best_d = 3;
  for (std::string_view c : candidates) {
    const size_t d = Distance(word, c);
    if (d < best_d) {
      best_d = d;
      best = c;
    }
  }
  return best;
}

SourceLoc YamlReader::Loc(const YAML::Node& n) {
  if (!n.IsDefined()) return {};
  const YAML::Mark m = n.Mark();
  if (m.is_null() || m.line < 0) return {};
  return {static_cast<uint32_t>(m.line + 1), static_cast<uint32_t>(m.column + 1)};
}

void YamlReader::Report(SourceLoc loc, Severity s, std::string_view code, std::string message,
                        std::string hint) {
  diags_->push_back(
      Diagnostic{file_, loc, s, std::string(code), std::move(message), std::move(hint)});
}

bool YamlReader::Map(const YAML::Node& n, std::string_view what,
                     std::initializer_list<std::string_view> allowed) {
  if (!n.IsMap()) {
    Error(n, "PG003", std::string(what) + " must be a mapping of keys to values",
          "write it as `key: value` lines");
    return false;
  }
  std::set<std::string, std::less<>> seen;
  for (auto it = n.begin(); it != n.end(); ++it) {
    const YAML::Node key = it->first;
    if (!key.IsScalar()) {
      Error(key, "PG003", std::string(what) + " has a key that is not a plain word",
            "use plain scalar keys");
      continue;
    }
    const std::string& k = key.Scalar();
    if (!seen.insert(k).second) {
      Error(key, "PG005", "duplicate key " + Quote(k) + " in " + std::string(what),
            "keep one of them; YAML readers disagree on which one wins");
    }
    if (std::find(allowed.begin(), allowed.end(), std::string_view(k)) == allowed.end()) {
      const std::string_view guess = Closest(k, allowed);
      std::string hint = guess.empty() ? "remove it; allowed keys are documented in docs/policy.md"
                                       : "did you mean '" + std::string(guess) + "'?";
      Error(key, "PG002", "unknown key " + Quote(k) + " in " + std::string(what), std::move(hint));
    }
  }
  return true;
}

bool YamlReader::Seq(const YAML::Node& n, std::string_view what) {
  if (!n.IsDefined() || n.IsNull()) return false;
  if (!n.IsSequence()) {
    Error(n, "PG003", std::string(what) + " must be a list", "write one `- item` per line");
    return false;
  }
  return true;
}

std::optional<std::string> YamlReader::Str(const YAML::Node& parent, std::string_view key,
                                           std::string_view what, bool required) {
  const YAML::Node n = parent[std::string(key)];
  if (!n.IsDefined() || n.IsNull()) {
    if (required) {
      Error(parent, "PG004", std::string(what) + " needs `" + std::string(key) + ":`",
            "add the field");
    }
    return std::nullopt;
  }
  if (!n.IsScalar()) {
    Error(n, "PG003", std::string(what) + " `" + std::string(key) + "` must be a single value",
          "write a plain value");
    return std::nullopt;
  }
  if (required && n.Scalar().empty()) {
    Error(n, "PG004", std::string(what) + " `" + std::string(key) + "` is empty", "fill it in");
    return std::nullopt;
  }
  return n.Scalar();
}

std::optional<bool> YamlReader::Bool(const YAML::Node& parent, std::string_view key,
                                     std::string_view what) {
  const std::optional<std::string> s = Str(parent, key, what, false);
  if (!s) return std::nullopt;
  std::string v = *s;
  std::transform(v.begin(), v.end(), v.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  if (v == "true" || v == "yes" || v == "on") return true;
  if (v == "false" || v == "no" || v == "off") return false;
  Error(parent[std::string(key)], "PG003",
        std::string(what) + " `" + std::string(key) + "` must be true or false",
        "write true or false");
  return std::nullopt;
}

std::optional<int> YamlReader::Int(const YAML::Node& parent, std::string_view key,
                                   std::string_view what) {
  const std::optional<std::string> s = Str(parent, key, what, false);
  if (!s) return std::nullopt;
  if (s->empty() || s->size() > 6 ||
      !std::all_of(s->begin(), s->end(), [](unsigned char c) { return std::isdigit(c); })) {
    Error(parent[std::string(key)], "PG003",
          std::string(what) + " `" + std::string(key) + "` must be a small whole number",
          "write a number such as 30");
    return std::nullopt;
  }
  return std::stoi(*s);
}

std::optional<Day> YamlReader::Date(const YAML::Node& parent, std::string_view key,
                                    std::string_view what, bool required) {
  const std::optional<std::string> s = Str(parent, key, what, required);
  if (!s) return std::nullopt;
  const std::optional<Day> d = ParseDay(*s);
  if (!d) {
    Error(parent[std::string(key)], "PG003",
          std::string(what) + " `" + std::string(key) + "` is not a valid date",
          "write a calendar date as YYYY-MM-DD (UTC)");
  }
  return d;
}

std::vector<std::string> YamlReader::StrList(const YAML::Node& parent, std::string_view key,
                                             std::string_view what) {
  std::vector<std::string> out;
  const YAML::Node n = parent[std::string(key)];
  if (!n.IsDefined() || n.IsNull()) return out;
  if (n.IsScalar()) {
    out.push_back(n.Scalar());
    return out;
  }
  if (!n.IsSequence()) {
    Error(n, "PG003", std::string(what) + " `" + std::string(key) + "` must be a list of values",
          "write [a, b] or one `- a` per line");
    return out;
  }
  for (const YAML::Node& item : n) {
    if (!item.IsScalar()) {
      Error(item, "PG003",
            std::string(what) + " `" + std::string(key) + "` items must be plain values",
            "write plain values");
      continue;
    }
    out.push_back(item.Scalar());
  }
  return out;
}

}  // namespace phigate::policy::internal
