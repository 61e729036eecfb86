#include "phigate/transform/reidentify.h"

#include <algorithm>
#include <array>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "phigate/detect/engine.h"
#include "phigate/transform/surrogate.h"

namespace phigate::transform {

struct Reidentifier::Match {
  enum class Kind : uint8_t { kToken, kSurrogate, kDate };
  size_t begin = 0, end = 0;
  Kind kind = Kind::kToken;
  bool exact = false;
  std::string canonical;  // tokens: "[CAT_BODY]"
  std::string suffix;     // kept after the replacement ("'s" moved out of brackets)
  std::string replacement;
};

namespace {

using Match = Reidentifier::Match;

constexpr size_t kMinBody = 4;
constexpr size_t kMaxBody = 10;

inline bool Alnum(unsigned char c) { return absl::ascii_isalnum(c); }
inline char Upper(char c) {
  return static_cast<char>(absl::ascii_toupper(static_cast<unsigned char>(c)));
}

// Body characters: the token alphabet in either case.
struct BodyTable {
  std::array<bool, 256> ok{};
  constexpr BodyTable() {
    for (char c : vault::kTokenAlphabet) {
      ok[static_cast<unsigned char>(c)] = true;
      if (c >= 'A' && c <= 'Z') ok[static_cast<unsigned char>(c - 'A' + 'a')] = true;
    }
  }
};
constexpr BodyTable kBody;

// Reads a token body at t[i]; returns its length if it is 4..10 body chars
// not followed by another alphanumeric, else 0.
size_t BodyAt(std::string_view t, size_t i) {
  size_t n = 0;
  while (i + n < t.size() && n <= kMaxBody && kBody.ok[static_cast<unsigned char>(t[i + n])]) ++n;
  if (n < kMinBody || n > kMaxBody) return 0;
  if (i + n < t.size() && Alnum(static_cast<unsigned char>(t[i + n]))) return 0;
  return n;
}

std::string Canonical(PhiCategory c, std::string_view body) {
  std::string b(body);
  for (char& ch : b) ch = Upper(ch);
  return vault::FormatToken(c, b);
}

// Does t[i..) spell category name `name` case-insensitively, with '_' in the
// name matched by '_', "\_", ' ' or '-' (tolerant)? Returns bytes consumed or 0.
size_t CategoryAt(std::string_view t, size_t i, std::string_view name, bool tolerant) {
  size_t j = i;
  for (char c : name) {
    if (j >= t.size()) return 0;
    if (c == '_') {
      if (t[j] == '_') {
        ++j;
      } else if (tolerant && t[j] == '\\' && j + 1 < t.size() && t[j + 1] == '_') {
        j += 2;
      } else if (tolerant && (t[j] == ' ' || t[j] == '-')) {
        ++j;
      } else {
        return 0;
      }
      continue;
    }
    if (Upper(t[j]) != c) return 0;
    ++j;
  }
  return j - i;
}

// Separator between category and body: '_' (or, tolerant: "\_", ' ', '-').
size_t SepAt(std::string_view t, size_t i, bool tolerant) {
  if (i >= t.size()) return 0;
  if (t[i] == '_') return 1;
  if (!tolerant) return 0;
  if (t[i] == '\\' && i + 1 < t.size() && t[i + 1] == '_') return 2;
  if (t[i] == ' ' || t[i] == '-') return 1;
  return 0;
}

std::array<std::vector<PhiCategory>, 256> CategoriesByInitial() {
  std::array<std::vector<PhiCategory>, 256> out;
  for (PhiCategory c : AllCategories()) {
    const std::string_view n = CategoryName(c);
    out[static_cast<unsigned char>(n[0])].push_back(c);
  }
  // Longest names first, so STREET_ADDRESS wins over any shorter prefix.
  for (auto& v : out) {
    std::sort(v.begin(), v.end(), [](PhiCategory a, PhiCategory b) {
      return CategoryName(a).size() > CategoryName(b).size();
    });
  }
  return out;
}
const std::array<std::vector<PhiCategory>, 256>& ByInitial() {
  static const auto* t = new auto(CategoriesByInitial());
  return *t;
}

// "'s" or "’s" (possessive) at t[i]; returns its length or 0.
size_t PossessiveAt(std::string_view t, size_t i) {
  if (i + 2 <= t.size() && t[i] == '\'' && (t[i + 1] == 's' || t[i + 1] == 'S')) return 2;
  if (i + 4 <= t.size() && t.substr(i, 3) == "\xE2\x80\x99" &&
      (t[i + 3] == 's' || t[i + 3] == 'S')) {
    return 4;
  }
  return 0;
}

// A bracketed token starting at the '[' at t[i] (a preceding '\' included).
std::optional<Match> BracketForm(std::string_view t, size_t i, bool tolerant) {
  size_t j = i + 1;
  if (tolerant) {
    while (j < t.size() && t[j] == ' ') ++j;
  }
  if (j >= t.size()) return std::nullopt;
  const auto& cands = ByInitial()[static_cast<unsigned char>(Upper(t[j]))];
  for (PhiCategory c : cands) {
    const size_t nc = CategoryAt(t, j, CategoryName(c), tolerant);
    if (nc == 0) continue;
    size_t k = j + nc;
    const size_t ns = SepAt(t, k, tolerant);
    if (ns == 0) continue;
    k += ns;
    const size_t nb = BodyAt(t, k);
    if (nb == 0) continue;
    const std::string_view body = t.substr(k, nb);
    k += nb;
    std::string suffix;
    if (tolerant) {
      if (const size_t np = PossessiveAt(t, k); np > 0) {
        suffix = std::string(t.substr(k, np));
        k += np;
      }
      while (k < t.size() && t[k] == ' ') ++k;
      if (k < t.size() && t[k] == '\\') ++k;
    }
    if (k >= t.size() || t[k] != ']') continue;
    ++k;
    Match m;
    m.begin = (tolerant && i > 0 && t[i - 1] == '\\') ? i - 1 : i;
    m.end = k;
    m.canonical = Canonical(c, body);
    m.suffix = std::move(suffix);
    m.exact = t.substr(m.begin, m.end - m.begin) == m.canonical;
    return m;
  }
  return std::nullopt;
}

// A bracketless (or half-bracketed) token whose separator '_' is at t[u].
std::optional<Match> UnderscoreForm(std::string_view t, size_t u, char prev) {
  const size_t nb = BodyAt(t, u + 1);
  if (nb == 0) return std::nullopt;
  size_t k = u;
  if (k > 0 && t[k - 1] == '\\') --k;  // "NAME\_7QK2X"
  // The longest category name ending at k, starting at a word boundary.
  size_t rs = k;
  while (rs > 0 && (absl::ascii_isalpha(static_cast<unsigned char>(t[rs - 1])) || t[rs - 1] == '_'))
    --rs;
  for (size_t start = rs; start < k; ++start) {
    const char before = start > 0 ? t[start - 1] : prev;
    if (Alnum(static_cast<unsigned char>(before))) continue;
    const std::string_view word = t.substr(start, k - start);
    for (PhiCategory c : ByInitial()[static_cast<unsigned char>(Upper(word[0]))]) {
      if (CategoryAt(word, 0, CategoryName(c), false) != word.size()) continue;
      Match m;
      m.begin = start;
      m.end = u + 1 + nb;
      // Take a stray bracket on either side along.
      if (m.begin > 0 && t[m.begin - 1] == '[') {
        --m.begin;
        if (m.begin > 0 && t[m.begin - 1] == '\\') --m.begin;
      }
      size_t e = m.end;
      if (const size_t np = PossessiveAt(t, e); np > 0 && e + np < t.size() && t[e + np] == ']') {
        m.suffix = std::string(t.substr(e, np));
        e += np;
      }
      if (e < t.size() && t[e] == ']') {
        m.end = e + 1;
      } else if (e + 1 < t.size() && t[e] == '\\' && t[e + 1] == ']') {
        m.end = e + 2;
      } else {
        m.suffix.clear();
      }
      m.canonical = Canonical(c, t.substr(u + 1, nb));
      m.exact = false;
      return m;
    }
  }
  return std::nullopt;
}

// Whether a match may not start or end between bytes a and b: both letters
// (unless a lower-to-upper camel-case step, "SmithJohn") or both digits.
bool SameClass(unsigned char a, unsigned char b) {
  if (absl::ascii_isalpha(a) && absl::ascii_isalpha(b)) {
    return !(absl::ascii_islower(a) && absl::ascii_isupper(b));
  }
  return absl::ascii_isdigit(a) && absl::ascii_isdigit(b);
}

constexpr std::string_view kMonthPrefixes[] = {"jan", "feb", "mar", "apr", "may", "jun",
                                               "jul", "aug", "sep", "oct", "nov", "dec"};
bool MaybeDateStart(std::string_view t, size_t i) {
  const auto c = static_cast<unsigned char>(t[i]);
  if (absl::ascii_isdigit(c)) return true;
  if (i + 3 > t.size()) return false;
  const char p[3] = {static_cast<char>(absl::ascii_tolower(c)),
                     static_cast<char>(absl::ascii_tolower(static_cast<unsigned char>(t[i + 1]))),
                     static_cast<char>(absl::ascii_tolower(static_cast<unsigned char>(t[i + 2])))};
  for (auto m : kMonthPrefixes) {
    if (m[0] == p[0] && m[1] == p[1] && m[2] == p[2]) return true;
  }
  return false;
}

}  // namespace

bool IsInitialSurrogate(PhiCategory category, std::string_view surrogate) {
  if (category != PhiCategory::kName || surrogate.empty() || surrogate.size() > 2) return false;
  if (!absl::ascii_isalpha(static_cast<unsigned char>(surrogate[0]))) return false;
  return surrogate.size() == 1 || surrogate[1] == '.';
}

bool InAbbreviation(std::string_view text, size_t begin, size_t end, std::string_view earlier) {
  auto at = [&](std::ptrdiff_t k) -> unsigned char {  // k relative to begin; 0 outside
    if (k >= 0) {
      const size_t u = begin + static_cast<size_t>(k);
      return u < text.size() ? static_cast<unsigned char>(text[u]) : 0;
    }
    const size_t back = static_cast<size_t>(-k);
    if (back <= begin) return static_cast<unsigned char>(text[begin - back]);
    const size_t from_earlier = back - begin;
    return from_earlier <= earlier.size()
               ? static_cast<unsigned char>(earlier[earlier.size() - from_earlier])
               : 0;
  };
  const auto len = static_cast<std::ptrdiff_t>(end - begin);
  const unsigned char after = at(len), after2 = at(len + 1);
  const unsigned char before = at(-1), before2 = at(-2);
  const bool dotted = text[end - 1] == '.';
  // A letter joined to a number: "1L", "neg 1L.", "x3".
  if (absl::ascii_isdigit(before) || absl::ascii_isdigit(after)) return true;
  // "d/c'd", "s/p", "w/", "c'd".
  if (after == '/' || after == '\'' || before == '/' || before == '\'') return true;
  // A letter hyphenated to letters: "PA-C", "T-bone", "x-ray".
  if ((before == '-' && absl::ascii_isalpha(before2)) ||
      (after == '-' && absl::ascii_isalpha(after2))) {
    return true;
  }
  // "M.D.", "p.o.": a letter right after its period; or the second letter of one.
  if (dotted ? absl::ascii_isalpha(after) : (after == '.' && absl::ascii_isalpha(after2))) {
    return true;
  }
  return before == '.' && absl::ascii_isalpha(before2);
}

void ReidReport::Add(const ReidReport& o) {
  tokens_restored += o.tokens_restored;
  tokens_altered += o.tokens_altered;
  tokens_unknown += o.tokens_unknown;
  surrogates_restored += o.surrogates_restored;
  surrogates_altered += o.surrogates_altered;
  dates_restored += o.dates_restored;
  unknown_tokens.insert(unknown_tokens.end(), o.unknown_tokens.begin(), o.unknown_tokens.end());
}

Result<std::unique_ptr<Reidentifier>> Reidentifier::Create(vault::Vault& vault, vault::Scope scope,
                                                           ReidOptions options) {
  if (!options.allow_reidentify) {
    return absl::PermissionDeniedError(
        "re-identification needs explicit permission (--allow-reidentify or the reidentify role)");
  }
  std::unique_ptr<Reidentifier> r(new Reidentifier(vault, std::move(scope), options));
  PHIGATE_RETURN_IF_ERROR(r->Load());
  return r;
}

Status Reidentifier::Load() {
  by_first_byte_.assign(256, {});
  if (!options_.surrogates) return absl::OkStatus();
  PHIGATE_ASSIGN_OR_RETURN(std::vector<vault::Mapping> maps, vault_.ListSurrogates(scope_));
  for (auto& m : maps) {
    if (m.replacement.empty()) continue;
    if (m.category == PhiCategory::kDate) {
      auto shifted = ParseDate(m.replacement);
      auto orig = ParseDate(m.original);
      if (shifted && orig) shifted_dates_[shifted->day] = {orig->day, m.original};
    }
    holdback_ = std::max(holdback_, m.replacement.size() + 8);
    Surrogate s{absl::AsciiStrToLower(m.replacement), std::move(m.replacement),
                std::move(m.original)};
    s.age_number =
        m.category == PhiCategory::kAge && std::all_of(s.lower.begin(), s.lower.end(), [](char c) {
          return absl::ascii_isdigit(static_cast<unsigned char>(c));
        });
    s.initial = IsInitialSurrogate(m.category, s.lower);
    by_first_byte_[static_cast<unsigned char>(s.lower[0])].push_back(
        static_cast<uint32_t>(surrogates_.size()));
    surrogates_.push_back(std::move(s));
  }
  // Longest first, so "Ellis Marsh" wins over "Ellis".
  for (auto& v : by_first_byte_) {
    std::sort(v.begin(), v.end(), [this](uint32_t a, uint32_t b) {
      return surrogates_[a].lower.size() > surrogates_[b].lower.size();
    });
  }
  return absl::OkStatus();
}

void Reidentifier::ExpectSent(std::span<const std::string> replacements) {
  for (const auto& r : replacements) {
    if (auto p = vault::ParseToken(r)) {
      sent_.insert(vault::FormatToken(p->category, p->body));
    } else {
      sent_.insert(r);
    }
  }
}

ReidReport Reidentifier::Summary() const {
  ReidReport r = total_;
  for (const auto& s : sent_) {
    if (!seen_.count(s)) r.missing.push_back(s);
  }
  return r;
}

void Reidentifier::FindTokens(std::string_view t, char prev, std::vector<Match>* out) const {
  const bool tolerant = options_.tolerant;
  const char* p = t.data();
  const size_t n = t.size();
  size_t covered = 0;  // matches never overlap: skip anchors inside the last one
  for (size_t i = 0; i < n; ++i) {
    const char c = p[i];
    if (c != '[' && c != '_') continue;
    if (i < covered) continue;
    std::optional<Match> m;
    if (c == '[') {
      m = BracketForm(t, i, tolerant);
    } else if (tolerant) {
      m = UnderscoreForm(t, i, prev);
    }
    if (!m) continue;
    if (!out->empty() && m->begin < out->back().end) continue;
    covered = m->end;
    out->push_back(std::move(*m));
  }
}

void Reidentifier::FindSurrogatesAndDates(std::string_view t, char prev, std::string_view earlier,
                                          std::vector<Match>* out) const {
  if (surrogates_.empty() && shifted_dates_.empty()) return;
  const size_t n = t.size();
  for (size_t i = 0; i < n; ++i) {
    const auto c = static_cast<unsigned char>(t[i]);
    const auto before = static_cast<unsigned char>(i > 0 ? t[i - 1] : prev);
    // Alphanumeric starts need a boundary; a surrogate may also start with
    // punctuation ("(617) 555-0142", "+1 ...").
    if (Alnum(c) ? (Alnum(before) && SameClass(before, c)) : by_first_byte_[c].empty()) continue;
    bool found = false;
    for (uint32_t idx : by_first_byte_[absl::ascii_tolower(c)]) {
      const Surrogate& s = surrogates_[idx];
      if (i + s.lower.size() > n) continue;
      bool eq = true;
      for (size_t k = 0; k < s.lower.size() && eq; ++k) {
        eq = absl::ascii_tolower(static_cast<unsigned char>(t[i + k])) == s.lower[k];
      }
      if (!eq) continue;
      const size_t e = i + s.lower.size();
      if (e < n &&
          SameClass(static_cast<unsigned char>(t[e - 1]), static_cast<unsigned char>(t[e]))) {
        continue;
      }
      if (s.age_number && !detect::WrittenAsAge(t, i, e, earlier)) continue;
      if (s.initial && InAbbreviation(t, i, e, earlier)) continue;
      Match m;
      m.begin = i;
      m.end = e;
      m.kind = Match::Kind::kSurrogate;
      m.exact = t.substr(i, e - i) == s.replacement;
      // In the case the surrogate is written here ("MEADOWBROOK NURSING" for
      // a "SAINT JOSEPH" of a pair stored as "Saint Joseph").
      m.replacement = OriginalInCaseOf(s.original, t.substr(i, e - i), s.replacement);
      out->push_back(std::move(m));
      i = e - 1;
      found = true;
      break;
    }
    if (found || shifted_dates_.empty() || !Alnum(c) || !MaybeDateStart(t, i)) continue;
    auto d = ParseDateAt(t.substr(i, std::min<size_t>(40, n - i)));
    if (!d) continue;
    auto it = shifted_dates_.find(d->day);
    if (it == shifted_dates_.end()) continue;
    Match m;
    m.begin = i;
    m.end = i + d->length;
    m.kind = Match::Kind::kDate;
    m.replacement = FormatDate(it->second.first, d->format);
    out->push_back(std::move(m));
    i = m.end - 1;
  }
}

Status Reidentifier::Process(std::string_view text, char prev, bool final, std::string* out,
                             size_t* consumed, ReidReport* report, std::string_view earlier) {
  *consumed = 0;
  size_t cut = text.size();
  if (!final) {
    if (text.size() <= holdback_) return absl::OkStatus();
    cut = text.size() - holdback_;
  }
  std::vector<Match> tokens, others;
  FindTokens(text, prev, &tokens);
  FindSurrogatesAndDates(text, prev, earlier, &others);
  // Resolve the distinct new tokens in one vault batch.
  std::vector<std::string> ask;
  for (const Match& m : tokens) {
    if (m.begin < cut && !resolved_.contains(m.canonical)) ask.push_back(m.canonical);
  }
  std::sort(ask.begin(), ask.end());
  ask.erase(std::unique(ask.begin(), ask.end()), ask.end());
  if (!ask.empty()) {
    PHIGATE_ASSIGN_OR_RETURN(auto got, vault_.ResolveBatch(ask, scope_));
    for (size_t i = 0; i < ask.size(); ++i) resolved_[ask[i]] = std::move(got[i]);
  }
  // Both lists are sorted by begin: merge them, dropping overlaps (the earlier
  // match wins; at the same offset, the token).
  ReidReport local;
  size_t pos = 0;
  size_t last_end = 0;
  const bool track_seen = !sent_.empty();
  size_t ti = 0, oi = 0;
  while (ti < tokens.size() || oi < others.size()) {
    const bool take_token =
        oi >= others.size() || (ti < tokens.size() && tokens[ti].begin <= others[oi].begin);
    Match& m = take_token ? tokens[ti++] : others[oi++];
    if (m.begin < last_end) continue;  // overlaps an earlier match
    if (m.begin >= cut) break;
    out->append(text.substr(pos, m.begin - pos));
    if (m.kind == Match::Kind::kToken) {
      auto it = resolved_.find(m.canonical);
      if (it != resolved_.end() && it->second.has_value()) {
        out->append(*it->second);
        out->append(m.suffix);
        ++(m.exact ? local.tokens_restored : local.tokens_altered);
        if (track_seen) seen_.insert(m.canonical);
      } else {
        out->append(text.substr(m.begin, m.end - m.begin));
        // Only bracketed shapes count as tokens the model returned; bare
        // "name_abcde" in prose is far more likely an identifier of its own.
        if (text.substr(m.begin, m.end - m.begin).find('[') != std::string_view::npos) {
          ++local.tokens_unknown;
          local.unknown_tokens.push_back(m.canonical);
        }
      }
    } else if (m.kind == Match::Kind::kSurrogate) {
      out->append(m.replacement);
      if (track_seen) seen_.insert(std::string(text.substr(m.begin, m.end - m.begin)));
      ++(m.exact ? local.surrogates_restored : local.surrogates_altered);
    } else {
      out->append(m.replacement);
      ++local.dates_restored;
    }
    pos = m.end;
    last_end = m.end;
  }
  const size_t end = std::max(cut, last_end);
  out->append(text.substr(pos, end - pos));
  *consumed = end;
  total_.Add(local);
  if (report != nullptr) report->Add(local);
  return absl::OkStatus();
}

Result<std::string> Reidentifier::Reidentify(std::string_view text, ReidReport* report) {
  std::string out;
  out.reserve(text.size() + text.size() / 8);
  size_t consumed = 0;
  PHIGATE_RETURN_IF_ERROR(Process(text, 0, true, &out, &consumed, report));
  return out;
}

Result<std::string> StreamReidentifier::Feed(std::string_view chunk) {
  pending_.append(chunk);
  std::string out;
  size_t consumed = 0;
  PHIGATE_RETURN_IF_ERROR(
      reid_->Process(pending_, prev_, false, &out, &consumed, nullptr, earlier_));
  if (consumed > 0) {
    prev_ = pending_[consumed - 1];
    earlier_.append(pending_, 0, consumed);
    if (earlier_.size() > kEarlierBytes) earlier_.erase(0, earlier_.size() - kEarlierBytes);
    pending_.erase(0, consumed);
  }
  return out;
}

Result<std::string> StreamReidentifier::Finish() {
  std::string out;
  size_t consumed = 0;
  PHIGATE_RETURN_IF_ERROR(
      reid_->Process(pending_, prev_, true, &out, &consumed, nullptr, earlier_));
  pending_.clear();
  return out;
}

}  // namespace phigate::transform
