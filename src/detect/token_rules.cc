// The token stage of the rule engine: the tokenizer with its lexicon
// lookups, then the gazetteer and context rules (TokenRules) that score
// names and places word by word.
#include <algorithm>
#include <array>
#include <cctype>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_split.h"
#include "src/detect/lexicon.h"
#include "src/detect/rule_engine.h"

namespace phigate::detect::internal {
namespace {

// Lower-cases ASCII capitals of s from `from` on: std::tolower of the "C"
// locale (phigate never sets another), without a call per byte.
void AsciiLower(std::string& s, size_t from = 0) {
  for (size_t k = from; k < s.size(); ++k) {
    if (s[k] >= 'A' && s[k] <= 'Z') s[k] = static_cast<char>(s[k] + 32);
  }
}

// Byte classes for the tokenizer.
enum : uint8_t { kCwOther = 0, kCwUpper = 1, kCwLower = 2, kCwDigit = 3, kCwHigh = 4 };
constexpr std::array<uint8_t, 256> MakeClassTable() {
  std::array<uint8_t, 256> t{};
  for (int c = 'A'; c <= 'Z'; ++c) t[static_cast<size_t>(c)] = kCwUpper;
  for (int c = 'a'; c <= 'z'; ++c) t[static_cast<size_t>(c)] = kCwLower;
  for (int c = '0'; c <= '9'; ++c) t[static_cast<size_t>(c)] = kCwDigit;
  for (int c = 0x80; c <= 0xFF; ++c) t[static_cast<size_t>(c)] = kCwHigh;
  return t;
}
constexpr std::array<uint8_t, 256> kClass = MakeClassTable();

// True when the UTF-8 sequence at u[i] is an upper-case Latin letter outside
// ASCII: Latin-1 (À-Þ but ×) and Latin Extended-A (Ā-ž: capitals at even code
// points up to U+0137, odd ones from U+0139 to U+0148, even ones from U+014A
// to U+0177, then Ÿ and odd ones from U+0179). Names written with their
// diacritics ("Øverland", "Čapek", "Ángel") start with such a letter.
bool HighUpperAt(const unsigned char* u, size_t i, size_t n) {
  if (i + 1 >= n || (u[i + 1] & 0xC0) != 0x80) return false;
  if (u[i] == 0xC3) return u[i + 1] <= 0x9E && u[i + 1] != 0x97;
  if (u[i] != 0xC4 && u[i] != 0xC5) return false;
  const unsigned cp = ((u[i] & 0x1Fu) << 6) | (u[i + 1] & 0x3Fu);
  if (cp <= 0x137) return cp % 2 == 0;
  if (cp >= 0x139 && cp <= 0x148) return cp % 2 == 1;
  if (cp >= 0x14A && cp <= 0x177) return cp % 2 == 0;
  if (cp == 0x178) return true;
  return cp >= 0x179 && cp <= 0x17E && cp % 2 == 1;
}

// Whether a word starting at `b` opens a sentence or a line: the text's
// start, or spaces back to one of . ! ? * - (a bullet), a line break or a
// character of `also` (":" or a quote for some rules).
bool OpensSentence(std::string_view text, size_t b, std::string_view also = {}) {
  while (b > 0 && text[b - 1] == ' ') --b;
  if (b == 0) return true;
  const char c = text[b - 1];
  return std::string_view(".\n!?*-").find(c) != std::string_view::npos ||
         also.find(c) != std::string_view::npos;
}

size_t CountUpper(std::string_view w) {
  size_t n = 0;
  for (char c : w) n += (c >= 'A' && c <= 'Z') ? 1 : 0;
  const auto* u = reinterpret_cast<const unsigned char*>(w.data());
  for (size_t k = 0; k + 1 < w.size(); ++k) n += HighUpperAt(u, k, w.size()) ? 1 : 0;
  return n;
}

}  // namespace

bool RuleEngine::LooksClinical(std::string_view word, bool short_prefixes) const {
  std::string w(word);
  AsciiLower(w);
  // Hyphenated or apostrophe forms: any known part makes it vocabulary.
  if (w.find_first_of("-'") != std::string::npos) {
    size_t start = 0;
    while (start <= w.size()) {
      size_t end = w.find_first_of("-'", start);
      if (end == std::string::npos) end = w.size();
      if (end > start) {
        const LexEntry* e = lexicon_->Find(std::string_view(w).substr(start, end - start));
        if (e != nullptr && (e->flags & (kLexCommon | kLexClinical | kLexStop))) return true;
      }
      start = end + 1;
    }
    return w.size() - std::min(w.size(), w.find_first_of("-'")) <= 3;
  }
  // Inflected forms of known words: "intubated" (intubate), "titrated", "pacers".
  static constexpr std::pair<std::string_view, std::string_view> kSuffixes[] = {
      {"s", ""},    {"es", ""}, {"ed", ""}, {"ed", "e"}, {"d", ""},    {"ing", ""}, {"ing", "e"},
      {"ion", "e"}, {"ly", ""}, {"er", ""}, {"ers", ""}, {"ies", "y"}, {"ied", "y"}};
  std::string stem;
  for (auto [suffix, add] : kSuffixes) {
    if (w.size() < suffix.size() + 3 ||
        w.compare(w.size() - suffix.size(), suffix.size(), suffix) != 0) {
      continue;
    }
    stem.assign(w, 0, w.size() - suffix.size());
    stem.append(add);
    const LexEntry* e = lexicon_->Find(stem);
    if (e != nullptr && (e->flags & (kLexCommon | kLexClinical | kLexStop))) return true;
  }
  if (w.size() >= (short_prefixes ? 4u : 5u) && lexicon_->IsClinicalPrefix(w)) return true;
  // A misspelt word ("Epsiode", "Apetite", "Klonipin") or two words run
  // together ("Lungsounds", "Siderails"), unless a name list holds it.
  const LexEntry* self = lexicon_->Find(w);
  if (self != nullptr && (self->flags & (kLexFirstName | kLexSurname))) return false;
  if (lexicon_->IsNearVocabulary(w)) return true;
  // English derivational endings names rarely have ("Arousable",
  // "Nonpurposeful", "Edemedous", "Patientintubated").
  if (w.size() >= 7) {
    static constexpr std::string_view kEndings[] = {"able", "ible", "ful",  "ous",  "ness",
                                                    "tion", "sion", "ment", "ated", "ized",
                                                    "ity",  "ally", "ive"};
    for (std::string_view x : kEndings) {
      if (w.size() > x.size() && w.compare(w.size() - x.size(), x.size(), x) == 0) return true;
    }
  }
  for (size_t k = 4; k + 4 <= w.size(); ++k) {
    const LexEntry* a = lexicon_->Find(std::string_view(w).substr(0, k));
    const LexEntry* b = lexicon_->Find(std::string_view(w).substr(k));
    constexpr uint32_t kVocab = kLexCommon | kLexClinical;
    constexpr uint32_t kNames = kLexFirstName | kLexSurname | kLexCity;
    // A part may be a rare name too ("Blood", "Lung": "Bloodwork", "Lungsounds").
    auto vocab_part = [&](const LexEntry* e) {
      return e != nullptr && (e->flags & kVocab) &&
             (!(e->flags & kNames) ||
              (!(e->flags & kLexCity) && std::max(e->first_weight, e->last_weight) < 0.3f));
    };
    if (vocab_part(a) && vocab_part(b)) return true;
  }
  return false;
}

bool RuleEngine::LooksClinicalMemo(std::string_view text, const Token& t,
                                   EngineContext& ctx) const {
  const std::string_view word = text.substr(t.begin, t.end - t.begin);
  // The word as the memo keeps it: ASCII capitals lowered, as Token::hash is computed.
  auto same = [&](const std::string& lower) {
    if (lower.size() != word.size()) return false;
    for (size_t k = 0; k < word.size(); ++k) {
      char c = word[k];
      if (c >= 'A' && c <= 'Z') c = static_cast<char>(c + 32);
      if (lower[k] != c) return false;
    }
    return true;
  };
  constexpr size_t kMaxMemo = size_t{1} << 16;
  auto it = ctx.clinical_memo.find(t.hash);
  if (it != ctx.clinical_memo.end()) {
    if (same(it->second.first)) return it->second.second;
    return LooksClinical(word);  // another word with the same hash: not memoised
  }
  const bool result = LooksClinical(word);
  if (ctx.clinical_memo.size() >= kMaxMemo) ctx.clinical_memo.clear();
  std::string lower(word);
  for (char& c : lower) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c + 32);
  }
  ctx.clinical_memo.emplace(t.hash, std::make_pair(std::move(lower), result));
  return result;
}

bool RuleEngine::VocabularyOnly(std::string_view span) const {
  std::string w;
  size_t i = 0;
  bool any = false;
  while (i < span.size()) {
    while (i < span.size() && !std::isalpha(static_cast<unsigned char>(span[i]))) ++i;
    size_t j = i;
    while (j < span.size() && (std::isalpha(static_cast<unsigned char>(span[j])) ||
                               static_cast<unsigned char>(span[j]) >= 0x80)) {
      ++j;
    }
    if (j == i) break;
    w.assign(span.substr(i, j - i));
    AsciiLower(w);
    const LexEntry* e = lexicon_->Find(w);
    if (e == nullptr || !(e->flags & (kLexCommon | kLexClinical | kLexStop)) ||
        (e->flags & (kLexFirstName | kLexSurname | kLexCity | kLexCityStart | kLexStreetSuffix))) {
      return false;
    }
    any = true;
    i = j;
  }
  return any;
}

void RuleEngine::Tokenize(std::string_view text, EngineContext& ctx) const {
  ctx.tokens.clear();
  const size_t n = text.size();
  const auto* u = reinterpret_cast<const unsigned char*>(text.data());
  size_t i = 0;
  while (i < n) {
    while (i < n && kClass[u[i]] == kCwOther) ++i;
    if (i >= n) break;
    const size_t b = i;
    uint64_t h = Lexicon::kHashSeed;
    // Branch-free per byte: which classes occur (bit kCw*) and how many capitals.
    // Non-ASCII letters (kCwHigh) carry no case information.
    uint32_t seen = 0;
    int upper = 0;
    const bool high_upper = kClass[u[i]] == kCwHigh && HighUpperAt(u, i, n);
    const bool first_upper = kClass[u[i]] == kCwUpper || high_upper;
    while (i < n) {
      const unsigned char c = u[i];
      const uint8_t k = kClass[c];
      if (k != kCwOther) {
        const bool up = k == kCwUpper;
        upper += up ? 1 : 0;
        seen |= 1u << k;
        h = Lexicon::HashStep(h, static_cast<unsigned char>(c + (up ? 32 : 0)));
        ++i;
      } else if ((c == '\'' || c == '-') && i > b && i + 1 < n && kClass[u[i + 1]] != kCwOther) {
        // Internal apostrophe or hyphen (O'Neil, Quellan-Ashby); a possessive 's ends the word.
        if (c == '\'' && (u[i + 1] == 's' || u[i + 1] == 'S') &&
            (i + 2 >= n || kClass[u[i + 2]] == kCwOther)) {
          break;
        }
        h = Lexicon::HashStep(h, c);
        ++i;
      } else {
        break;
      }
    }
    const size_t e = i;
    upper += high_upper ? 1 : 0;
    if (i + 1 < n && u[i] == '\'' && (u[i + 1] == 's' || u[i + 1] == 'S')) i += 2;
    const bool lower = (seen & (1u << kCwLower)) != 0;
    const bool digits = (seen & (1u << kCwDigit)) != 0;
    const bool high = (seen & (1u << kCwHigh)) != 0;
    uint16_t flags = 0;
    if (upper > 0 || lower || high) flags |= kTokAlpha;
    if (digits) flags |= kTokDigit;
    if (!digits) flags |= kTokAllAlpha;
    if (upper > 0 && !lower) flags |= kTokUpper;
    if (lower && upper == 0) flags |= kTokLower;
    if (first_upper && lower && upper <= 3) flags |= kTokTitle;
    if (e < n && u[e] == '.') flags |= kTokPeriod;
    ctx.tokens.push_back(
        Token{static_cast<uint32_t>(b), static_cast<uint32_t>(e), flags, 0, 0, nullptr, h});
  }
  // Lexicon lookups of words (no digit, at most 64 bytes) in a second pass, each
  // slot prefetched a few words ahead so that the table's cache misses overlap.
  constexpr size_t kMaxWord = 64, kAhead = 8;
  std::vector<Token>& tk = ctx.tokens;
  const size_t nt = tk.size();
  for (size_t k = 0; k < std::min(nt, kAhead); ++k) lexicon_->Prefetch(tk[k].hash);
  for (size_t k = 0; k < nt; ++k) {
    if (k + kAhead < nt) lexicon_->Prefetch(tk[k + kAhead].hash);
    Token& t = tk[k];
    if ((t.flags & kTokDigit) || t.end - t.begin > kMaxWord) continue;
    t.lex = lexicon_->FindHashedFolded(t.hash, text.substr(t.begin, t.end - t.begin));
    t.lex_flags = t.lex != nullptr ? t.lex->flags : 0;
  }
}

namespace {

// A bit filter over a set of word hashes (16+ bits per hash, at least 512):
// most tokens of a note are not in the set, and one bit test spares them the
// binary search. Sized by the set, so a 4 MB chunk's thousands of names do not
// fill it. `storage` is reused scratch.
class HashFilter {
 public:
  HashFilter(const std::vector<uint64_t>& hashes, std::vector<uint64_t>& storage) : bits_(storage) {
    int log2 = 9;
    while ((size_t{1} << log2) < hashes.size() * 16 && log2 < 30) ++log2;
    shift_ = 64 - log2;
    bits_.assign((size_t{1} << log2) / 64, 0);
    for (uint64_t h : hashes) bits_[Bit(h) >> 6] |= uint64_t{1} << (Bit(h) & 63);
  }
  bool MayContain(uint64_t h) const { return (bits_[Bit(h) >> 6] >> (Bit(h) & 63)) & 1; }

 private:
  uint64_t Bit(uint64_t h) const { return (h * 0x9E3779B97F4A7C15ull) >> shift_; }
  std::vector<uint64_t>& bits_;
  int shift_;
};

// Name-like: letters only (hyphen/apostrophe inside), not a function word or
// clinical abbreviation.
bool NameLike(const Token& t) {
  if (!t.IsAlphaWord()) return false;
  const uint32_t f = t.lf();
  return (f & (kLexStop | kLexMonth | kLexWeekday | kLexCredential | kLexRelation | kLexTitle)) ==
         0;
}

// A necessary condition for SingleEdit(lower(w), m) != kNone, read from w's first
// three bytes as they are (ASCII letters folded): one edit leaves m's first
// letter in place, or shifts or swaps it with its neighbours. Most words fail
// it, so the token rule lowers and compares few of them.
bool MayBeOneEditFrom(std::string_view w, std::string_view m) {
  if (w.size() < 3 || w.size() + 1 < m.size() || m.size() + 1 < w.size()) return false;
  const char a = static_cast<char>(w[0] | 0x20), b = static_cast<char>(w[1] | 0x20),
             c = static_cast<char>(w[2] | 0x20);
  if (a == m[0]) return b == m[1] || c == m[2] || b == m[2] || c == m[1];
  return (b == m[1] && c == m[2]) || (a == m[1] && b == m[2]) || (b == m[0] && c == m[1]) ||
         (a == m[1] && b == m[0]);
}

// A day of the month as a token: "3", "30", "30th", "1st" (1-31).
bool DayOfMonth(std::string_view w) {
  size_t d = 0;
  int v = 0;
  while (d < w.size() && d < 2 && std::isdigit(static_cast<unsigned char>(w[d]))) {
    v = v * 10 + (w[d++] - '0');
  }
  if (d == 0 || v < 1 || v > 31) return false;
  if (d == w.size()) return true;
  if (w.size() - d != 2) return false;
  const char a = static_cast<char>(std::tolower(static_cast<unsigned char>(w[d])));
  const char b = static_cast<char>(std::tolower(static_cast<unsigned char>(w[d + 1])));
  return (a == 's' && b == 't') || (a == 'n' && b == 'd') || (a == 'r' && b == 'd') ||
         (a == 't' && b == 'h');
}

// A year of a date: four digits, 1900-2099.
bool Year(std::string_view w) {
  return w.size() == 4 && (w.starts_with("19") || w.starts_with("20")) &&
         std::isdigit(static_cast<unsigned char>(w[2])) &&
         std::isdigit(static_cast<unsigned char>(w[3]));
}

bool IsInitial(const Token& t) {
  return t.IsAlphaWord() && t.end - t.begin == 1 && (t.flags & kTokUpper);
}

// Punctuation between two tokens allows a context link ("Dr. Smith", "son, Rob").
bool LinkGap(std::string_view text, const Token& a, const Token& b, bool allow_comma) {
  if (b.begin - a.end > 4) return false;
  // Three spaces separate columns, not the words of one name
  // ("Dr. Ó BRIAIN   NPI 1641002724").
  if (b.begin - a.end >= 3 &&
      text.substr(a.end, b.begin - a.end).find("   ") != std::string_view::npos) {
    return false;
  }
  for (size_t i = a.end; i < b.begin; ++i) {
    const char c = text[i];
    if (c == ' ' || c == '.' || c == '\t' || c == ':') continue;
    if (allow_comma && (c == ',' || c == '(' || c == '-')) continue;
    return false;
  }
  return true;
}

bool NewlineBetween(std::string_view text, const Token& a, const Token& b) {
  for (size_t i = a.end; i < b.begin; ++i) {
    if (text[i] == '\n') return true;
  }
  return false;
}

// Two words of one multi-word name: LinkGap, on one line, and no colon between
// (a field label is no part of the name: "Disposition: Rehab", "County: Marion County").
bool NameGap(std::string_view text, const Token& a, const Token& b, bool allow_comma) {
  return LinkGap(text, a, b, allow_comma) && !NewlineBetween(text, a, b) &&
         text.substr(a.end, b.begin - a.end).find(':') == std::string_view::npos;
}

// A token used as a measurement label: a number or a slash follows it
// ("with RA 17", "with CO/CI 5.8/2.7", "Ve 7-9L").
bool MeasurementNext(std::string_view text, const std::vector<Token>& tk, size_t i) {
  const Token& t = tk[i];
  if (t.end < text.size() && text[t.end] == '/') return true;
  return i + 1 < tk.size() && (tk[i + 1].flags & kTokDigit) && tk[i + 1].begin - t.end <= 2 &&
         !NewlineBetween(text, t, tk[i + 1]);
}

// A decimal number follows token i: "PH 7.39", "CO 5.5".
bool DecimalNext(std::string_view text, const std::vector<Token>& tk, size_t i) {
  if (i + 1 >= tk.size()) return false;
  const Token& v = tk[i + 1];
  return (v.flags & kTokDigit) && !(v.flags & kTokAlpha) && v.begin - tk[i].end <= 2 &&
         !NewlineBetween(text, tk[i], v) && v.end + 1 < text.size() && text[v.end] == '.' &&
         std::isdigit(static_cast<unsigned char>(text[v.end + 1]));
}

// A dose or a measured value follows token i: a number with a unit
// ("2mcg/kg", "12 cc/hr", ".35mcg") or a decimal ("1.70"), directly or after
// "at", "@", "gtt", "drip", "iv", "po".
// A treatment word follows token i on its line: what was given, started or
// applied ("Neosynephrine started", "Lacrilube applied", "Mgsulfate x1",
// "Levoquin po") is a drug, a device or a procedure, not a person.
bool TreatmentAfter(std::string_view text, const std::vector<Token>& tk, size_t i) {
  static const uint64_t kTreat[] = {
      Lexicon::Hash("given"),     Lexicon::Hash("started"),  Lexicon::Hash("restarted"),
      Lexicon::Hash("applied"),   Lexicon::Hash("placed"),   Lexicon::Hash("infusing"),
      Lexicon::Hash("infusion"),  Lexicon::Hash("infused"),  Lexicon::Hash("gtt"),
      Lexicon::Hash("drip"),      Lexicon::Hash("po"),       Lexicon::Hash("iv"),
      Lexicon::Hash("continues"), Lexicon::Hash("dc'd"),     Lexicon::Hash("discontinued"),
      Lexicon::Hash("bolus"),     Lexicon::Hash("titrated"), Lexicon::Hash("ordered"),
      Lexicon::Hash("x1"),        Lexicon::Hash("x2"),       Lexicon::Hash("x3")};
  if (i + 1 >= tk.size()) return false;
  const Token& t = tk[i];
  const Token& q = tk[i + 1];
  if (q.begin - t.end > 2 || NewlineBetween(text, t, q)) return false;
  for (size_t p = t.end; p < q.begin; ++p) {
    if (text[p] != ' ') return false;
  }
  for (uint64_t h : kTreat) {
    if (q.hash == h) return true;
  }
  return false;
}

bool DoseAfter(std::string_view text, const std::vector<Token>& tk, size_t i) {
  static const uint64_t kLinks[] = {Lexicon::Hash("at"),       Lexicon::Hash("gtt"),
                                    Lexicon::Hash("drip"),     Lexicon::Hash("iv"),
                                    Lexicon::Hash("po"),       Lexicon::Hash("infusion"),
                                    Lexicon::Hash("infusing"), Lexicon::Hash("continues")};
  static const uint64_t kUnits[] = {
      Lexicon::Hash("mg"),   Lexicon::Hash("mcg"),   Lexicon::Hash("ml"),   Lexicon::Hash("cc"),
      Lexicon::Hash("u"),    Lexicon::Hash("units"), Lexicon::Hash("meq"),  Lexicon::Hash("g"),
      Lexicon::Hash("gm"),   Lexicon::Hash("mgs"),   Lexicon::Hash("mcgs"), Lexicon::Hash("mic"),
      Lexicon::Hash("mmol"), Lexicon::Hash("l")};
  auto is_unit = [&](std::string_view lower_word) {
    const uint64_t h = Lexicon::Hash(lower_word);
    for (uint64_t u : kUnits) {
      if (h == u) return true;
    }
    return false;
  };
  size_t k = i + 1;
  if (k >= tk.size() || NewlineBetween(text, tk[k - 1], tk[k])) return false;
  bool linked = false;
  for (uint64_t h : kLinks) linked = linked || tk[k].hash == h;
  for (size_t p = tk[i].end; p < tk[k].begin; ++p) linked = linked || text[p] == '@';
  if (linked && !(tk[k].flags & kTokDigit)) ++k;
  if (k >= tk.size() || tk[k].begin - tk[k - 1].end > 3 || !(tk[k].flags & kTokDigit)) {
    return false;
  }
  const Token& v = tk[k];
  // A unit fused to the number: "2mcg", "35mcg", "10cc".
  size_t d = v.begin;
  while (d < v.end && std::isdigit(static_cast<unsigned char>(text[d]))) ++d;
  if (d > v.begin && d < v.end) {
    std::string u(text.substr(d, v.end - d));
    AsciiLower(u);
    return is_unit(u);
  }
  if (d != v.end) return false;
  // A decimal value: "1.70", "24.8" (not a dotted phone number "440.652.7401").
  if (v.end - v.begin <= 3 && v.end + 1 < text.size() && text[v.end] == '.' &&
      std::isdigit(static_cast<unsigned char>(text[v.end + 1]))) {
    size_t f = v.end + 1;
    while (f < text.size() && std::isdigit(static_cast<unsigned char>(text[f]))) ++f;
    return f - v.end - 1 <= 2 && (f >= text.size() || text[f] != '.' || f + 1 >= text.size() ||
                                  !std::isdigit(static_cast<unsigned char>(text[f + 1])));
  }
  // A unit word after the number: "12 cc/hr".
  if (k + 1 < tk.size() && tk[k + 1].begin - v.end <= 2 && !NewlineBetween(text, v, tk[k + 1])) {
    std::string u(text.substr(tk[k + 1].begin, tk[k + 1].end - tk[k + 1].begin));
    AsciiLower(u);
    return is_unit(u);
  }
  return false;
}

// "Sr" is a title (sister) only with its period; "SR" is sinus rhythm.
const uint64_t kSrHash = Lexicon::Hash("sr");
const uint64_t kAttendingHash = Lexicon::Hash("attending");
const uint64_t kMsHash = Lexicon::Hash("ms");

// A title before a name: "Dr. Smith", "MS JONES". Not a header ("MS: sedated",
// mental status), not an abbreviation with a slash ("sr w/ freq"), and "Sr"
// (sister) only with its period and before no vocabulary word ("SR" is sinus
// rhythm).
bool TitleLink(std::string_view text, const Token& title, const Token& t) {
  if (!LinkGap(text, title, t, false) || NewlineBetween(text, title, t)) return false;
  for (size_t i = title.end; i < t.begin; ++i) {
    if (text[i] == ':') return false;
  }
  if (t.end < text.size() && text[t.end] == '/') return false;
  constexpr uint32_t kVocab = kLexCommon | kLexClinical | kLexStop;
  constexpr uint32_t kNames = kLexFirstName | kLexSurname;
  // A role written out ("attending") is no abbreviation: a period after it
  // ends a sentence ("discussed with attending. next labs due"), and a word
  // of the vocabulary after it (unless a frequent name) is what the attending
  // did ("attending later", "cardiology attending come to see pt").
  if (title.hash == kAttendingHash) {
    if (title.flags & kTokPeriod) return false;
    if (!(t.lf() & kVocab)) return true;
    // A word that is also a name only when the name is a frequent one.
    return (t.lf() & kNames) && std::max(t.lex->first_weight, t.lex->last_weight) >= 0.3f;
  }
  // "MS" is mental status as often as a title: written "ms" or "MS" before a
  // word in another case ("assess ms. med for safety", "changes in MS.
  // Aspiration precautions") it takes no vocabulary word that is not a
  // frequent name. "Ms." and all-caps "MS. WREATH" stay titles.
  const bool caps = (title.flags & kTokUpper) && (t.flags & kTokUpper);
  if (title.hash == kMsHash && !(title.flags & kTokTitle) && !caps) {
    if (!(t.lf() & kVocab)) return true;
    return (t.lf() & kNames) && std::max(t.lex->first_weight, t.lex->last_weight) >= 0.3f;
  }
  if (title.hash != kSrHash) return true;
  // "SR. CURRENTLY ON", "PT IN SR. HAVING ECTOPY": sinus rhythm at a sentence
  // end; a sister's name is no common or clinical word.
  return (title.flags & kTokPeriod) && !((t.lf() & kVocab) && !(t.lf() & kNames));
}

}  // namespace

// A name token with a hyphen inside: returns false when no part of it is a
// name, else sets *end (the whole token, or only its first part when a later
// part is a common, clinical or function word that no name list holds,
// written in lower case unless the note is all caps; "Okafor-smith" stays).
bool RuleEngine::HyphenJoinsWord(std::string_view text, const Token& t, DocCase doc,
                                 uint32_t* end) const {
  *end = t.end;
  const std::string_view w = text.substr(t.begin, t.end - t.begin);
  const size_t hy = w.find('-');
  if (hy == std::string_view::npos || doc == DocCase::kLower) return true;
  auto lower = [](std::string_view x) {
    std::string l(x);
    for (char& c : l) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return l;
  };
  auto vocabulary = [&](std::string_view part) {
    const LexEntry* e = lexicon_->Find(lower(part));
    return e != nullptr && (e->flags & (kLexCommon | kLexClinical | kLexStop)) != 0 &&
           (e->flags & (kLexFirstName | kLexSurname)) == 0;
  };
  bool joins_word = false;
  size_t p = hy + 1;
  while (p < w.size() && !joins_word) {
    size_t q = p;
    while (q < w.size() && w[q] != '-') ++q;
    const std::string_view part = w.substr(p, q - p);
    const bool all_lower = part.size() >= 2 && std::all_of(part.begin(), part.end(), [](char c) {
                             return std::islower(static_cast<unsigned char>(c)) != 0;
                           });
    joins_word = (doc == DocCase::kUpper || all_lower) && part.size() >= 2 && vocabulary(part);
    p = q + 1;
  }
  if (!joins_word) return true;
  const std::string_view first = w.substr(0, hy);
  const bool letters = std::all_of(first.begin(), first.end(), [](char c) {
    return std::isalpha(static_cast<unsigned char>(c)) != 0;
  });
  if (first.size() < 2 || !letters || !std::isupper(static_cast<unsigned char>(first[0])) ||
      vocabulary(first)) {
    return false;
  }
  *end = t.begin + static_cast<uint32_t>(hy);
  return true;
}

// The token rules of one Scan (RuleEngine::RunTokenRules): the state they
// share and one method per rule, run in the order of Run(). The name rules
// score words into name_, the place rules mark loc_, Emit() turns both into
// findings; a later rule reads what the earlier ones decided.
// Words that end a neighbourhood's name: "Walnut Village", "Sunset Heights".
bool IsNeighbourhoodWord(uint64_t hash) {
  static const uint64_t kWords[] = {
      Lexicon::Hash("estates"),  Lexicon::Hash("heights"), Lexicon::Hash("village"),
      Lexicon::Hash("park"),     Lexicon::Hash("hills"),   Lexicon::Hash("gardens"),
      Lexicon::Hash("woods"),    Lexicon::Hash("meadows"), Lexicon::Hash("ridge"),
      Lexicon::Hash("acres"),    Lexicon::Hash("manor"),   Lexicon::Hash("commons"),
      Lexicon::Hash("terrace"),  Lexicon::Hash("square"),  Lexicon::Hash("landing"),
      Lexicon::Hash("crossing"), Lexicon::Hash("grove"),   Lexicon::Hash("glen"),
      Lexicon::Hash("lakes"),    Lexicon::Hash("creek"),   Lexicon::Hash("springs"),
      Lexicon::Hash("valley"),   Lexicon::Hash("shores"),  Lexicon::Hash("pines"),
      Lexicon::Hash("oaks"),     Lexicon::Hash("plaza"),   Lexicon::Hash("farms")};
  for (uint64_t h : kWords) {
    if (h == hash) return true;
  }
  return false;
}

class TokenRules {
 public:
  TokenRules(const RuleEngine& engine, std::string_view text, EngineContext& ctx);
  void Run(Findings* out);

 private:
  bool Capitalised(const Token& t) const {
    return mixed_ ? (t.flags & (kTokTitle | kTokUpper)) != 0 : true;
  }
  // Whether what follows token i is what follows a sentence's subject or an
  // address: nothing else on the text, a comma, a possessive, an initial, an
  // auxiliary or a verb of telling and doing ("is", "will", "spent", "began"),
  // "and" with another capitalised word ("Odile and Bram were"), or a
  // second capitalised word followed by one of these.
  bool SubjectFollows(size_t i, bool second_word = true) const {
    const Token& t = tk_[i];
    size_t e = t.end;
    while (e < text_.size() && text_[e] == ' ') ++e;
    if (e == text_.size() || text_[e] == ',') return true;
    if (text_.compare(e, 2, "'s") == 0 || text_.compare(e, 4, "\u2019s") == 0) return true;
    if (i + 1 >= n_ || tk_[i + 1].begin != e) return false;
    const Token& q = tk_[i + 1];
    // "Trark D., RN": an initial after it.
    if (q.end - q.begin == 1 && (q.flags & kTokUpper) && q.end < text_.size() &&
        text_[q.end] == '.') {
      return true;
    }
    // "Menoo Cope is": a second capitalised word, then what follows a subject.
    if (second_word && (q.flags & kTokTitle) && q.IsAlphaWord()) {
      return SubjectFollows(i + 1, false);
    }
    if (q.lf() & kLexSubjectVerb) return true;
    static const uint64_t kAnd = Lexicon::Hash("and");
    return q.hash == kAnd && i + 2 < n_ && (tk_[i + 2].flags & kTokTitle) &&
           !NewlineBetween(text_, q, tk_[i + 2]);
  }
  // Whether token i opens the text of a clinical section: "Skin: Decube on
  // his R hip", "PLAN: Unclamp CT". Not after labels persons and places
  // follow ("Social:", "Interpreter:", "Where:").
  bool AfterSectionHeader(size_t i) const {
    if (i == 0) return false;
    size_t k = tk_[i].begin;
    while (k > 0 && text_[k - 1] == ' ') --k;
    if (k == 0 || text_[k - 1] != ':' || tk_[i - 1].end + 1 != k) return false;
    return (tk_[i - 1].lf() & kLexSectionHeader) != 0;
  }
  // A credential written with periods at token j: "M.D.", "R.N.", "N.P.".
  // In an all-lower-case note also "m.d.", "r.n.".
  bool DottedCredentialAt(size_t j) const {
    auto letter = [&](const Token& u) {
      return IsInitial(u) || (doc_ == DocCase::kLower && u.IsAlphaWord() && u.end - u.begin == 1 &&
                              (u.flags & kTokLower));
    };
    if (j + 1 >= n_ || !letter(tk_[j]) || !letter(tk_[j + 1]) ||
        tk_[j + 1].begin != tk_[j].end + 1 || text_[tk_[j].end] != '.') {
      return false;
    }
    const char w[2] = {
        static_cast<char>(std::tolower(static_cast<unsigned char>(text_[tk_[j].begin]))),
        static_cast<char>(std::tolower(static_cast<unsigned char>(text_[tk_[j + 1].begin])))};
    const LexEntry* e = lexicon_->Find(std::string_view(w, 2));
    return e != nullptr && (e->flags & kLexStrongCred);
  }
  // LooksClinical() of token k, computed at most once per token (several rules ask).
  bool LooksClinicalAt(size_t k) {
    if (clinical_[k] < 0) clinical_[k] = engine_.LooksClinicalMemo(text_, tk_[k], ctx_) ? 1 : 0;
    return clinical_[k] != 0;
  }
  // Clinical by more than being the first four letters of a longer term: a
  // short surname ("Vell", "Koro") next to a first name is no shorthand.
  bool ClinicalBeyondPrefix(size_t k) {
    if (!LooksClinicalAt(k)) return false;
    return tk_[k].end - tk_[k].begin != 4 ||
           LooksClinical(text_.substr(tk_[k].begin, 4), /*short_prefixes=*/false);
  }
  bool LooksClinical(std::string_view word, bool short_prefixes = true) const {
    return engine_.LooksClinical(word, short_prefixes);
  }

  void ScoreNameWords();
  void NameFields();
  bool InvertedSurname(size_t k) const;
  void MisspelledMonthDates();
  void SignOffs();
  void SubjectLines();
  void BeforeRecordNumber();
  void SignatureLines();
  void UnknownCapitalisedPairs();
  void FirstInitialLast();
  void FirstNamePairs();
  void SignOffCredentialLines();
  void FirstNameBeforeWardVerb();
  void AfterPersonVerb();
  void PossessiveBeforeRelation();
  void QuotedNicknames();
  void AgeSubjects();
  void EmailDisplayNames();
  void ExtendNames();
  void Coordination();
  void UnknownAfterNameAnd();
  void FirstNameAndUnknown();
  void NameConsistency();
  void DeviceEponyms();
  void ScorePlaces();
  static constexpr size_t kNoTown = static_cast<size_t>(-1);
  // `vocabulary`: the town's later words may be clinical or facility words
  // (when what follows says it is a town: "sand point Fire").
  size_t LowerCaseTownAt(size_t i, bool vocabulary = false) const;
  void PlaceConsistency();
  void FacilityAfterPlace();
  void FusedInitials();
  void NonPhiPhrases();
  void Emit();

  bool HyphenJoinsWord(std::string_view text, const Token& t, DocCase doc, uint32_t* end) const {
    return engine_.HyphenJoinsWord(text, t, doc, end);
  }

  const RuleEngine& engine_;
  const Lexicon* const lexicon_;
  Findings* out_ = nullptr;  // Run()'s argument: the rules' findings
  const std::string_view text_;
  EngineContext& ctx_;
  const std::vector<Token>& tk_;
  const size_t n_;
  DocCase doc_ = DocCase::kMixed;
  bool mixed_ = true;
  // Prose (sentences of common words) rather than clinical shorthand: most
  // alphabetic tokens are known English words.
  bool doc_prose_ = false;
  std::vector<float>& name_;
  std::vector<uint8_t>& loc_;         // 1 city, 2 facility, 3 other location
  std::vector<uint8_t>& field_name_;  // 1: a name field's word, 2: its label
  std::vector<int8_t>& clinical_;     // LooksClinicalAt(k): -1 not computed yet
  std::vector<uint64_t>& eponyms_;    // DeviceEponyms(): sorted word hashes
};

TokenRules::TokenRules(const RuleEngine& engine, std::string_view text, EngineContext& ctx)
    : engine_(engine),
      lexicon_(engine.lexicon_.get()),
      text_(text),
      ctx_(ctx),
      tk_(ctx.tokens),
      n_(ctx.tokens.size()),
      name_(ctx.name_score),
      loc_(ctx.loc),
      field_name_(ctx.field_name),
      clinical_(ctx.clinical),
      eponyms_(ctx.eponyms) {
  // Document case: in all-caps or all-lower notes capitalisation says nothing.
  size_t n_upper = 0, n_lower = 0, n_alpha = 0;
  for (const Token& t : tk_) {
    if (!t.IsAlphaWord() || t.end - t.begin < 2) continue;
    ++n_alpha;
    if (t.flags & kTokUpper) ++n_upper;
    if (t.flags & kTokLower) ++n_lower;
  }
  if (n_alpha > 0 && n_upper * 10 >= n_alpha * 7) doc_ = DocCase::kUpper;
  if (n_alpha > 0 && n_lower * 100 >= n_alpha * 93) doc_ = DocCase::kLower;
  mixed_ = doc_ == DocCase::kMixed;
  size_t n_common = 0;
  for (const Token& t : tk_) n_common += (t.lf() & (kLexCommon | kLexStop)) ? 1 : 0;
  doc_prose_ = n_alpha > 0 && n_common * 100 >= n_alpha * 80;
  name_.assign(n_, 0.0f);
  loc_.assign(n_, 0);
  field_name_.assign(n_, 0);
  clinical_.assign(n_, -1);
}

void TokenRules::Run(Findings* out) {
  out_ = out;
  ScoreNameWords();
  NameFields();
  SignOffs();
  SubjectLines();
  BeforeRecordNumber();
  SignatureLines();
  UnknownCapitalisedPairs();
  FirstInitialLast();
  FirstNamePairs();
  SignOffCredentialLines();
  FirstNameBeforeWardVerb();
  AfterPersonVerb();
  PossessiveBeforeRelation();
  QuotedNicknames();
  AgeSubjects();
  EmailDisplayNames();
  ExtendNames();
  Coordination();
  UnknownAfterNameAnd();
  FirstNameAndUnknown();
  NameConsistency();
  DeviceEponyms();
  ScorePlaces();
  PlaceConsistency();
  FacilityAfterPlace();
  FusedInitials();
  NonPhiPhrases();
  MisspelledMonthDates();
  Emit();
}

// Names, word by word: a score from the name lists (rare entries need
// context), raised by what comes before (a title, a relation word, a verb
// that takes a person, an initial, "my name is") and after (a credential,
// "(son)"), lowered for lower-case and vocabulary words. Emit() reports the
// words that reach 0.5; the rules below raise more of them.
void TokenRules::ScoreNameWords() {
  for (size_t i = 0; i < n_; ++i) {
    const Token& t = tk_[i];
    const uint32_t f = t.lf();
    if (f & (kLexRelation | kLexTitle)) continue;
    if (!NameLike(t)) {
      // A first name that is also a function word ("Will", "Ed") counts only
      // after a title or a relation word. The token's flags are tested before
      // its weight: reading `lex` is a cache miss into the lexicon table.
      const bool strong_prev =
          i > 0 && t.IsAlphaWord() && (f & kLexFirstName) &&
          !(f & (kLexLocPrep | kLexMonth | kLexWeekday)) && t.end - t.begin >= 2 &&
          t.lex != nullptr && t.lex->first_weight >= 0.4f &&
          (((tk_[i - 1].lf() & kLexTitle) && TitleLink(text_, tk_[i - 1], t)) ||
           ((tk_[i - 1].lf() & kLexRelation) && t.begin > tk_[i - 1].end &&
            text_[tk_[i - 1].end] == ','));
      if (!strong_prev) continue;
    }
    const bool common = (f & (kLexCommon | kLexClinical)) != 0;
    const bool is_first = (f & kLexFirstName) != 0;
    // A frequent first name, also when it is an eponym or a clinical word
    // ("james", "Jackson"): a name in the strong contexts below.
    const bool frequent_first = is_first && !(f & kLexCommon) && t.lex->first_weight >= 0.5f;
    const bool is_last = (f & kLexSurname) != 0;
    const size_t len = t.end - t.begin;
    float s = 0.0f;
    const bool acronym_like = len <= 3 && (t.flags & kTokUpper) && mixed_;
    if ((is_first || is_last) && !common && len >= 3 && !acronym_like) {
      const float w = std::max(t.lex->first_weight, t.lex->last_weight);
      // Rare list entries (weight < 0.3: census rank beyond ~20,000) need context.
      s = w >= 0.3f ? 0.5f + 0.3f * w : 0.3f;
      if (len == 3 && doc_ == DocCase::kUpper) s -= 0.15f;
      if (mixed_ && (t.flags & kTokLower)) s -= 0.3f;
    } else if ((is_first || is_last) && !common) {
      s = 0.25f;
    } else if ((is_first || is_last) && common) {
      s = 0.15f;
    } else if (!common && t.lex == nullptr && len >= 2) {
      s = 0.1f;  // unknown word: a name only with context
    }
    // Context before: a title, a relation, a verb that takes a person.
    bool titled = false, related = false;
    if (i > 0) {
      const Token& p = tk_[i - 1];
      const uint32_t pf = p.lf();
      const bool cred_title =
          (pf & kLexCredTitle) && (p.flags & kTokUpper) && Capitalised(t) &&
          (((f & (kLexFirstName | kLexSurname)) && !((f & kLexCommon) && (f & kLexClinical))) ||
           t.lex == nullptr);
      // In mixed-case text a title takes no lower-case vocabulary word ("MS
      // changes" is mental status; "Dr. smith" stays a name).
      // "Sister" and "Father" are relations too: before a vocabulary word
      // ("FATHER ASKING", "sister. Retired") they are no title.
      const bool relation_title = (pf & kLexRelation) && common && !is_first && !is_last;
      if (((pf & kLexTitle) || cred_title) && TitleLink(text_, p, t) && !relation_title &&
          !(mixed_ && (t.flags & kTokLower) && common && !is_first && !is_last)) {
        s += cred_title && !(pf & kLexTitle) ? 0.5f : 0.7f;
        titled = true;
      } else if ((pf & kLexRelation) && LinkGap(text_, p, t, true) &&
                 ((is_first || is_last) ||
                  text_.substr(p.end, t.begin - p.end).find('.') == std::string_view::npos)) {
        // Across a sentence end only to a listed name ("proxy. Famliy is" is
        // not one); a misspelt or inflected word ("family accompianied",
        // "daughter phoned-family") gets little.
        bool vocab_like = common;
        if (!vocab_like && t.lex == nullptr) {
          std::string& w = ctx_.lower;
          w.assign(text_.substr(t.begin, t.end - t.begin));
          AsciiLower(w);
          vocab_like = lexicon_->IsNearVocabulary(w, /*shorter=*/true);
        }
        // A frequent surname is a name there even when it is also a word
        // ("CONFIRMED WITH PARTNER SMITH", "son Johnson"; not "will contact
        // case management", nor a lower-case word in a mixed-case note).
        static const uint64_t kContact = Lexicon::Hash("contact");
        if (vocab_like && is_last && !(f & kLexStop) && t.lex->last_weight >= 0.5f &&
            p.hash != kContact && (!mixed_ || (t.flags & (kTokTitle | kTokUpper)))) {
          vocab_like = false;
        }
        s += (vocab_like && !is_first) ? 0.2f : 0.5f;
        related = true;
      } else if ((pf & kLexNameVerb) && (is_first || is_last) && !MeasurementNext(text_, tk_, i) &&
                 LinkGap(text_, p, t, false)) {
        // "to" and "from" take things as often as people ("wires to PACER",
        // "foley to grav"): only a common name ("called to mary") gains.
        static const uint64_t kTo = Lexicon::Hash("to"), kFrom = Lexicon::Hash("from");
        const bool weak_verb = p.hash == kTo || p.hash == kFrom;
        if (!weak_verb || std::max(t.lex->first_weight, t.lex->last_weight) >= 0.3f) s += 0.25f;
      }
      // A frequent surname that is also a word or an eponym, capitalised in a
      // mixed-case note, after an initial: "confirmed with nephew C. Johnson".
      const bool frequent_surname = mixed_ && (t.flags & kTokTitle) && is_last && !(f & kLexStop) &&
                                    t.lex->last_weight >= 0.5f;
      // "Dr. J. Smith": title, initial, name. "N. Velcorte aware": initial, name.
      // In an all-lower-case note an initial is a letter with its period.
      const bool lower_initial = doc_ == DocCase::kLower && p.IsAlphaWord() &&
                                 p.end - p.begin == 1 && (p.flags & kTokPeriod);
      if (i > 1 && IsInitial(p) && (tk_[i - 2].lf() & kLexTitle) &&
          (tk_[i - 2].hash != kSrHash || (tk_[i - 2].flags & kTokPeriod))) {
        s += 0.6f;
      } else if (i > 1 && lower_initial && (tk_[i - 2].lf() & (kLexTitle | kLexRelation)) &&
                 (is_first || is_last || t.lex == nullptr) && !(f & kLexStop) &&
                 t.end - t.begin >= 3 && !NewlineBetween(text_, tk_[i - 2], t)) {
        // "dtr k. johnson will pick up", "dr. j. halloran".
        s += 0.6f;
      } else if (IsInitial(p) && (p.flags & kTokPeriod) && Capitalised(t) &&
                 (!(f & (kLexCommon | kLexClinical)) || frequent_surname) && t.end - t.begin >= 3 &&
                 !NewlineBetween(text_, p, t) &&
                 (t.lex != nullptr ||
                  text_.substr(t.begin, t.end - t.begin).find('-') != std::string_view::npos ||
                  !LooksClinicalAt(i))) {
        // Not an inflected or misspelt clinical word after a letter that ends a
        // word or an abbreviation ("O.R. PRIVELAGES", "0-15CC/H. BOLUSED");
        // hyphenated surnames stay ("D. Kell-Ames").
        s += 0.45f;
      }
    }
    // Name-introducing phrases: "my name is X", "maiden name is X", "calls me X", "says X".
    if (i >= 2 && (Capitalised(t) || doc_ == DocCase::kLower)) {
      const uint64_t p1 = tk_[i - 1].hash, p2 = tk_[i - 2].hash;
      static const uint64_t kIs = Lexicon::Hash("is"), kName = Lexicon::Hash("name"),
                            kMe = Lexicon::Hash("me"), kCalls = Lexicon::Hash("calls"),
                            kCall = Lexicon::Hash("call"), kSays = Lexicon::Hash("says"),
                            kNamed = Lexicon::Hash("named"), kWas = Lexicon::Hash("was");
      if ((p2 == kName && (p1 == kIs || p1 == kWas)) ||
          (p1 == kMe && (p2 == kCalls || p2 == kCall)) || p1 == kNamed ||
          (p1 == kSays && Capitalised(t) &&
           (mixed_ || !common || ((f & kLexFirstName) && !(f & kLexClinical))))) {
        s += 0.5f;
      }
      // A writer introducing themselves after a greeting: "Dear Dr. Lind,
      // this is Rama." ("this is" right after a comma), not a vocabulary word.
      // Also "it's Rama", and a letter's patient: "Thank you for seeing
      // Wells, a pleasant", "seeing my patient, Vannuck,".
      static const uint64_t kThis = Lexicon::Hash("this"), kIt = Lexicon::Hash("it"),
                            kFor = Lexicon::Hash("for"), kSeeing = Lexicon::Hash("seeing"),
                            kMy = Lexicon::Hash("my"), kPatient = Lexicon::Hash("patient");
      // A frequent first name that is also an eponym or a clinical word is a
      // name there too ("it's Lance.", "for seeing James, a pleasant").
      const bool name_word =
          Capitalised(t) &&
          (frequent_first ||
           ((!common || ((f & kLexFirstName) && !(f & kLexClinical))) && !LooksClinicalAt(i)));
      const bool its = p1 == kIt && text_.compare(tk_[i - 1].end, 3, "'s ") == 0;
      if (((p2 == kThis && p1 == kIs) || its) && name_word) {
        size_t k = tk_[its ? i - 1 : i - 2].begin;
        while (k > 0 && text_[k - 1] == ' ') --k;
        if (k > 0 && text_[k - 1] == ',') s += 0.5f;
      }
      if (name_word && ((p2 == kFor && p1 == kSeeing && LinkGap(text_, tk_[i - 1], t, false)) ||
                        (p2 == kMy && p1 == kPatient &&
                         text_.substr(tk_[i - 1].end, t.begin - tk_[i - 1].end) == ", "))) {
        s += 0.5f;
      }
    }
    // Context after: a credential ("Smith, RN"), or "(son)".
    if (i + 1 < n_) {
      const Token& q = tk_[i + 1];
      const bool strong_cred = (q.lf() & kLexStrongCred) != 0 || DottedCredentialAt(i + 1);
      const bool listed = (f & (kLexFirstName | kLexSurname)) != 0;
      // Not across a sentence end: "FOLEY LEFT IN PLACE. RN TO CHECK K".
      const bool sentence_end =
          t.end - t.begin >= 2 &&
          text_.substr(t.end, q.begin - t.end).find('.') != std::string_view::npos;
      // Nor a word of the vocabulary in an all-caps note that opens a sentence
      // or follows a clinical or function word: "WELL. STRONG NP COUGH", "U/O
      // REMAINS LOW MD AWARE", "BP STABLE, RN TO WEAN".
      auto vocab_after_vocab = [&] {
        if (doc_ != DocCase::kUpper || !(f & kLexCommon) || (f & kLexFirstName)) return false;
        if (i > 0 && IsInitial(tk_[i - 1])) return false;  // "E. SMITH, M.D."
        if (i == 0 || OpensSentence(text_, t.begin)) return true;
        const uint32_t pf = tk_[i - 1].lf();
        return (pf & (kLexStop | kLexClinical)) &&
               !(pf & (kLexNameVerb | kLexTitle | kLexRelation | kLexFirstName | kLexSurname));
      };
      if (strong_cred && !sentence_end && !vocab_after_vocab() && LinkGap(text_, t, q, true) &&
          !NewlineBetween(text_, t, q) && (Capitalised(t) || (listed && (q.flags & kTokLower))) &&
          (listed || !common)) {
        s += ((q.flags & kTokUpper) || doc_ == DocCase::kLower) ? 0.45f : 0.2f;
      } else if (strong_cred && (q.flags & kTokUpper) && (t.flags & kTokLower) &&
                 t.end - t.begin >= 3 && text_.substr(t.end, q.begin - t.end) == ", " && i > 0 &&
                 (tk_[i - 1].lf() & kLexNameVerb) &&
                 ((listed && !common) || (t.lex == nullptr && !LooksClinicalAt(i)) ||
                  frequent_first)) {
        // After a word that takes a person, a lower-case name or word no list
        // knows, a comma, an all-caps credential: "called to soren, RN",
        // "report received from darion, RN". Not a misspelt word; a frequent
        // first name that is also an eponym is a name there ("called to
        // james, RN").
        std::string& w = ctx_.lower;
        w.assign(text_.substr(t.begin, t.end - t.begin));
        if (listed || !lexicon_->IsNearVocabulary(w)) s += 0.65f;
      }
      // "Ivo Oberwald (son)": a relation in brackets after a name.
      if ((q.lf() & kLexRelation) && q.begin > t.end && text_[q.begin - 1] == '(' &&
          Capitalised(t)) {
        s += 0.45f;
      }
    }
    if (mixed_ && !(t.flags & (kTokTitle | kTokUpper)) && s < 0.7f) s -= 0.1f;
    // Mixed-case prose: a capitalised word no list knows, not starting a
    // sentence or line, is most likely a proper name.
    if (mixed_ && (t.flags & kTokTitle) && t.lex == nullptr && t.end - t.begin >= 4 &&
        CountUpper(text_.substr(t.begin, t.end - t.begin)) == 1 && !LooksClinicalAt(i)) {
      const bool sentence_start = OpensSentence(text_, t.begin) || AfterSectionHeader(i);
      // At a sentence start an unknown word is a name only when no clinical
      // header follows it ("Neuro:") and it is not a note-style heading.
      const bool header = t.end < text_.size() && (text_[t.end] == ':' || text_[t.end] == '-');
      // A pointer to a record or a system is not a person: "see Carevue for",
      // "refer to Careview", "as per Carevue".
      static const uint64_t kSee = Lexicon::Hash("see"), kRefer = Lexicon::Hash("refer"),
                            kTo = Lexicon::Hash("to"), kPer = Lexicon::Hash("per"),
                            kAs = Lexicon::Hash("as");
      const bool reference =
          i >= 1 && (tk_[i - 1].hash == kSee ||
                     (i >= 2 && tk_[i - 1].hash == kTo && tk_[i - 2].hash == kRefer) ||
                     (i >= 2 && tk_[i - 1].hash == kPer && tk_[i - 2].hash == kAs));
      // At a sentence start in prose (or after a clinical section header), only
      // where what follows is what follows a subject or an address ("Olvessa
      // spent a year", "Olvessa is very reliable", "Brevandt, can I"), or
      // nothing does ("What's your last name? Brevandt"); not a clinical word
      // written wrong ("Sxnd pt x2", "Lungsounds CTA", "Decube on his R hip").
      if (!header && !reference && (!sentence_start || (doc_prose_ && SubjectFollows(i)))) {
        s = std::max(s, 0.5f);
      }
    }
    // A frequent first name that is also a lower-case word ("Chuck", "Penny"),
    // written capitalised inside a sentence of a mixed- or lower-case note with
    // no capitalised word beside it, is a person: "unable to reach Chuck",
    // "supportive, Penny." (not a sentence's or a line's first word).
    if (doc_ != DocCase::kUpper && (t.flags & kTokTitle) && len >= 3 && is_first &&
        (f & kLexCommon) && t.lex->first_weight >= 0.5f &&
        !(f & (kLexClinical | kLexStop | kLexMonth | kLexWeekday | kLexState | kLexCredential |
               kLexFacility))) {
      const bool sentence_start = OpensSentence(text_, t.begin, ":\"");
      auto capital_word = [&](size_t j) {
        return tk_[j].IsAlphaWord() && (tk_[j].flags & (kTokTitle | kTokUpper)) &&
               !NewlineBetween(text_, tk_[std::min(i, j)], tk_[std::max(i, j)]) &&
               LinkGap(text_, tk_[std::min(i, j)], tk_[std::max(i, j)], false);
      };
      if (!sentence_start && !(i > 0 && capital_word(i - 1)) &&
          !(i + 1 < n_ && capital_word(i + 1)))
        s = std::max(s, 0.5f);
    }
    // A drug or a lab before its dose or value ("Integrillin at 2mcg/kg/min",
    // "Aggrestat 12 cc/hr", "Digixin 1.70") is not a person.
    if (!titled && s >= 0.5f && DoseAfter(text_, tk_, i)) s = 0.3f;
    // A word no list holds before a treatment word ("Neosynephrine started",
    // "Readicat given") is what was given, not who (unless a title or a
    // relation names a person: "Wife Tahnee given update").
    if (!titled && !related && s >= 0.5f && t.lex == nullptr && TreatmentAfter(text_, tk_, i)) {
      s = 0.3f;
    }
    name_[i] = s;
  }
}

// Name fields: "Name: SMITH, SANDRA", "Patient: Marciniak, Lien N", "From: Ciera
// Smith", "Signed by: Maribel Confer, MD". The words after such a label, on
// its line, up to a credential, a bracket, a digit or a common lower-case
// word, are a person's name whatever the lists say of them.
void TokenRules::NameFields() {
  static const uint64_t kFieldLabels[] = {
      Lexicon::Hash("name"),      Lexicon::Hash("patient"),    Lexicon::Hash("pt"),
      Lexicon::Hash("preferred"), Lexicon::Hash("from"),       Lexicon::Hash("to"),
      Lexicon::Hash("cc"),        Lexicon::Hash("attending"),  Lexicon::Hash("pcp"),
      Lexicon::Hash("referring"), Lexicon::Hash("ordering"),   Lexicon::Hash("by"),
      Lexicon::Hash("physician"), Lexicon::Hash("provider"),   Lexicon::Hash("contact"),
      Lexicon::Hash("guarantor"), Lexicon::Hash("subscriber"), Lexicon::Hash("re"),
      Lexicon::Hash("regarding")};
  static const uint64_t kDob = Lexicon::Hash("dob"), kMrn = Lexicon::Hash("mrn");
  static const uint64_t kGreetings[] = {Lexicon::Hash("dear"), Lexicon::Hash("hi"),
                                        Lexicon::Hash("hello"), Lexicon::Hash("hey")};
  for (size_t i = 0; i + 1 < n_; ++i) {
    const Token& l = tk_[i];
    bool field = false;
    // "re: heart transplant" in shorthand notes is not a letter's "Re: Donald
    // Tronzo": outside mixed case a "Re:" field holds a name only when a date
    // of birth or a record number follows it ("REGARDING: JYNDJAV L. DEAN, DOB").
    bool needs_id_after = false;
    if (l.end < text_.size() && text_[l.end] == ':') {
      for (uint64_t h : kFieldLabels) field = field || l.hash == h;
      static const uint64_t kRe = Lexicon::Hash("re"), kRegarding = Lexicon::Hash("regarding");
      needs_id_after =
          field && (l.hash == kRe || l.hash == kRegarding) && (!mixed_ || (l.flags & kTokLower));
    }
    bool greeting = false;
    if (!field && (l.begin == 0 || text_[l.begin - 1] == '\n')) {
      for (uint64_t h : kGreetings) greeting = greeting || l.hash == h;
    }
    if (!field && !greeting) continue;
    size_t k = i + 1;
    // "Subject: RE: Smith": not a field; "To: Dr. Garling": skip the title.
    while (k < n_ && (tk_[k].lf() & kLexTitle) && !NewlineBetween(text_, tk_[k - 1], tk_[k])) ++k;
    size_t taken = 0;
    size_t first = k;
    for (; k < n_ && taken < 4; ++k) {
      const Token& u = tk_[k];
      if (NewlineBetween(text_, tk_[k - 1], u)) break;
      if (k > first) {
        // Only spaces, one comma or an initial's period between the parts,
        // and no column gap ("Dr. Ó BRIAIN   NPI 1641002724").
        bool ok = u.begin - tk_[k - 1].end < 4 || text_.compare(tk_[k - 1].end, 3, "   ") != 0;
        int commas = 0;
        for (size_t c = tk_[k - 1].end; c < u.begin && ok; ++c) {
          const char ch = text_[c];
          if (ch == ',') {
            ok = ++commas <= 1;
          } else if (ch != ' ' && ch != '.') {
            ok = false;
          }
        }
        // A greeting's name ends at its comma ("Hi Anna, I am ...").
        if (!ok || (greeting && commas > 0)) break;
      } else if (u.begin - tk_[k - 1].end > 4) {
        break;
      }
      if (!u.IsAlphaWord() || !Capitalised(u)) break;
      if (needs_id_after && (u.hash == kDob || u.hash == kMrn)) break;
      // A middle initial there: "JYNDJAV L. DEAN, DOB".
      if (needs_id_after && k > first && u.end - u.begin == 1 && (u.flags & kTokPeriod)) {
        ++taken;
        continue;
      }
      // The next field's label ("Name: ROCQUE, DEVIN   Preferred: Devin"), or a
      // saint's facility ("PCP: Dr. Maickjorford, St. Peter's Hospital").
      if (k > first && u.end < text_.size() && text_[u.end] == ':') break;
      static const uint64_t kSt = Lexicon::Hash("st"), kSaint = Lexicon::Hash("saint");
      if (k > first && (u.hash == kSt || u.hash == kSaint) && k + 1 < n_ &&
          tk_[k + 1].end + 1 < text_.size() && text_[tk_[k + 1].end] == '\'' &&
          (text_[tk_[k + 1].end + 1] == 's' || text_[tk_[k + 1].end + 1] == 'S')) {
        break;
      }
      const uint32_t uf = u.lf();
      if (uf & (kLexCredential | kLexStop | kLexMonth | kLexWeekday | kLexTitle)) break;
      const bool listed =
          (uf & (kLexFirstName | kLexSurname)) != 0 || (field && k == first && InvertedSurname(k));
      if (!listed && (uf & (kLexClinical | kLexFacility))) break;
      if (!listed && (uf & kLexCommon) && (greeting || taken == 0)) break;
      // "Oscar Mirner, MLS(ASCP)": a short all-caps word after a comma is a credential.
      if (!listed && mixed_ && (u.flags & kTokUpper) && u.end - u.begin <= 4 && taken > 0) break;
      ++taken;
    }
    // A greeting takes one or two words before its comma ("Dear Gomez-Ruiz,").
    if (greeting && (taken == 0 || taken > 2 || k >= n_ || tk_[k - 1].end >= text_.size() ||
                     text_[tk_[k - 1].end] != ',')) {
      continue;
    }
    if (needs_id_after) {
      const size_t after = first + taken;
      if (taken == 0 || after >= n_ || NewlineBetween(text_, tk_[after - 1], tk_[after]) ||
          (tk_[after].hash != kDob && tk_[after].hash != kMrn) ||
          tk_[after].begin - tk_[after - 1].end > 3) {
        continue;
      }
    }
    if (field) field_name_[i] = 2;  // the label itself is never a name
    for (size_t j = first; j < first + taken; ++j) {
      name_[j] = std::max(name_[j], 0.7f);
      field_name_[j] = 1;
    }
    // One span for the whole field: "SMITH, SANDRA" keeps its comma.
    if (taken > 1) {
      out_->push_back(Finding{PhiCategory::kName, tk_[first].begin, tk_[first + taken - 1].end,
                              0.7f, "name_field"});
    }
  }
}

// "PT: DOX, RUTH O": a surname that is also a word ("dox", a drug's short
// name), written last name first. The word before the comma is the surname
// when a listed first name in the same letter case follows it, and after
// that the line ends or an initial, another name word of that case, a comma
// or a parenthesis comes ("Pt: Stable, Will follow up" is no name).
bool TokenRules::InvertedSurname(size_t k) const {
  if (k + 1 >= n_) return false;
  const Token& s = tk_[k];
  const Token& f = tk_[k + 1];
  if (s.end >= text_.size() || text_[s.end] != ',' || NewlineBetween(text_, s, f)) return false;
  for (size_t c = s.end + 1; c < f.begin; ++c) {
    if (text_[c] != ' ') return false;
  }
  const uint32_t ff = f.lf();
  if (!f.IsAlphaWord() || f.end - f.begin < 2 || !(ff & kLexFirstName) ||
      (ff & (kLexStop | kLexTitle | kLexCredential | kLexMonth | kLexWeekday))) {
    return false;
  }
  const bool upper = (s.flags & kTokUpper) != 0;
  auto same_case = [&](const Token& t) {
    return upper ? (t.flags & kTokUpper) != 0
                 : (t.flags & kTokTitle) != 0 && (t.flags & kTokUpper) == 0;
  };
  if (!same_case(s) || !same_case(f)) return false;
  if (f.end >= text_.size() || text_[f.end] == '\n' || text_[f.end] == ',' || text_[f.end] == '(') {
    return true;
  }
  if (k + 2 >= n_ || NewlineBetween(text_, f, tk_[k + 2])) return true;
  const Token& next = tk_[k + 2];
  if (next.begin - f.end > 2) return false;
  if (next.IsAlphaWord() && next.end - next.begin == 1 && (next.flags & kTokUpper)) return true;
  return next.IsAlphaWord() && same_case(next) && (next.lf() & (kLexFirstName | kLexSurname));
}

// A month name misspelt by one letter beside a day or a year: "Admitted
// Febuary 30th, 2019", "on 3 Ocotber 2019", "Feburary 2019". The patterns
// know the months as written, so the day was left and the month taken for a
// name or a place. It is a date as the month spelt right would be: with the
// day and the year when a day is there, the month alone before a year alone
// (the year is no identifier). Only words no list of the lexicon holds
// ("Augusta" is a town), of the seven months of six letters or more.
void TokenRules::MisspelledMonthDates() {
  static constexpr std::string_view kMonths[] = {"january", "february", "august",  "september",
                                                 "october", "november", "december"};
  auto word = [&](const Token& t) { return text_.substr(t.begin, t.end - t.begin); };
  // Token j follows token i on the line after spaces only (a comma first when
  // `comma`), at most two characters apart.
  auto next_to = [&](size_t i, size_t j, bool comma) {
    if (j >= n_ || tk_[j].begin - tk_[i].end > 2) return false;
    for (size_t c = tk_[i].end; c < tk_[j].begin; ++c) {
      if (text_[c] != ' ' && !(comma && c == tk_[i].end && text_[c] == ',')) return false;
    }
    return true;
  };
  std::string lower;
  for (size_t i = 0; i < n_; ++i) {
    const Token& t = tk_[i];
    const size_t len = t.end - t.begin;
    if (!t.IsAlphaWord() || len < 5 || len > 10 || t.lex != nullptr) continue;
    bool maybe = false;
    for (std::string_view m : kMonths) maybe = maybe || MayBeOneEditFrom(word(t), m);
    if (!maybe) continue;
    lower.assign(word(t));
    AsciiLower(lower);
    bool month = false;
    for (std::string_view m : kMonths) month = month || SingleEdit(lower, m) != Edit::kNone;
    if (!month) continue;
    uint32_t b = t.begin, e = t.end;
    if (next_to(i, i + 1, false) && DayOfMonth(word(tk_[i + 1]))) {
      e = tk_[i + 1].end;  // "Febuary 30th", then ", 2019"
      if (next_to(i + 1, i + 2, true) && Year(word(tk_[i + 2]))) e = tk_[i + 2].end;
    } else if (i > 0 && next_to(i - 1, i, false) && DayOfMonth(word(tk_[i - 1]))) {
      b = tk_[i - 1].begin;  // "3 Ocotber", then " 2019"
      if (next_to(i, i + 1, false) && Year(word(tk_[i + 1]))) e = tk_[i + 1].end;
    } else if (!(next_to(i, i + 1, true) && Year(word(tk_[i + 1])))) {
      continue;  // neither a day nor a year beside it
    }
    name_[i] = 0.0f;
    loc_[i] = 0;
    out_->push_back(Finding{PhiCategory::kDate, b, e, 0.85f, "date_misspelt_month"});
  }
}

// Sign-offs: "Thanks,\nJohn", "Best regards,\n\nSolon Furino, MD": the line
// after the closing holds the writer's name.
void TokenRules::SignOffs() {
  static const uint64_t kClosings[] = {
      Lexicon::Hash("thanks"),  Lexicon::Hash("best"),   Lexicon::Hash("sincerely"),
      Lexicon::Hash("regards"), Lexicon::Hash("thx"),    Lexicon::Hash("cheers"),
      Lexicon::Hash("you"),     Lexicon::Hash("warmly"), Lexicon::Hash("respectfully")};
  for (size_t i = 0; i + 1 < n_; ++i) {
    const Token& c = tk_[i];
    if (c.end + 1 >= text_.size() || text_[c.end] != ',') continue;
    bool closing = false;
    for (uint64_t h : kClosings) closing = closing || c.hash == h;
    if (!closing) continue;
    size_t p = c.end + 1;
    while (p < text_.size() && text_[p] == ' ') ++p;
    if (p >= text_.size() || text_[p] != '\n') continue;
    // The next non-empty line: 1-3 name-like words, then the line's end or ", MD".
    size_t k = i + 1;
    size_t taken = 0;
    for (; k < n_ && taken < 3; ++k) {
      const Token& u = tk_[k];
      if (taken > 0 &&
          (NewlineBetween(text_, tk_[k - 1], u) || !LinkGap(text_, tk_[k - 1], u, false)))
        break;
      const uint32_t uf = u.lf();
      const bool listed = (uf & (kLexFirstName | kLexSurname)) != 0;
      if (!u.IsAlphaWord() || !Capitalised(u) ||
          (uf & (kLexCredential | kLexStop | kLexTitle | kLexMonth | kLexWeekday)) ||
          (!listed && (uf & (kLexCommon | kLexClinical)))) {
        break;
      }
      ++taken;
    }
    if (taken == 0) continue;
    const size_t e = tk_[i + taken].end;
    size_t q = e;
    while (q < text_.size() && text_[q] == ' ') ++q;
    if (q < text_.size() && text_[q] != '\n' && text_[q] != ',') continue;
    for (size_t j = i + 1; j <= i + taken; ++j) name_[j] = std::max(name_[j], 0.6f);
  }
}

// A message's subject that opens with a name: "Subject: Quarvello - labs",
// "Subject: RE: orvane d/c planning". One or two words, after any "RE:" or
// "FW:", that are listed names (not also common words unless capitalised)
// or words no list holds that do not look clinical.
void TokenRules::SubjectLines() {
  static const uint64_t kSubject = Lexicon::Hash("subject"), kReply = Lexicon::Hash("re"),
                        kFw = Lexicon::Hash("fw"), kFwd = Lexicon::Hash("fwd");
  for (size_t i = 0; i + 1 < n_; ++i) {
    if (tk_[i].hash != kSubject || tk_[i].end >= text_.size() || text_[tk_[i].end] != ':') continue;
    size_t k = i + 1;
    while (k < n_ && (tk_[k].hash == kReply || tk_[k].hash == kFw || tk_[k].hash == kFwd) &&
           tk_[k].end < text_.size() && text_[tk_[k].end] == ':' &&
           !NewlineBetween(text_, tk_[i], tk_[k])) {
      ++k;
    }
    const size_t first = k;
    for (; k < n_ && k < first + 2; ++k) {
      const Token& u = tk_[k];
      if (NewlineBetween(text_, tk_[k - 1], u)) break;
      if (k > first && (u.begin != tk_[k - 1].end + 1 || text_[tk_[k - 1].end] != ' ')) break;
      const uint32_t uf = u.lf();
      const bool listed = (uf & (kLexFirstName | kLexSurname)) != 0;
      const bool ok = u.IsAlphaWord() && u.end - u.begin >= 3 &&
                      !(uf & (kLexNeverAName | kLexFacility | kLexClinical)) &&
                      (listed ? !(uf & kLexCommon) || (u.flags & kTokTitle)
                              : u.lex == nullptr && !LooksClinicalAt(k));
      if (!ok) break;
    }
    if (k == first) continue;
    for (size_t j = i; j < first; ++j) field_name_[j] = 2;  // "Subject", "RE", "FW": labels
    for (size_t j = first; j < k; ++j) name_[j] = std::max(name_[j], 0.6f);
  }
}

// The words right before a bracketed MRN or date of birth name the patient:
// "our mutual patient Quillan (MRN 0042", "Tova R. (DOB 3/4/51)": up to
// three capitalised listed names, words no list holds or initials.
void TokenRules::BeforeRecordNumber() {
  static const uint64_t kMrn = Lexicon::Hash("mrn"), kDob = Lexicon::Hash("dob");
  for (size_t i = 1; i + 1 < n_; ++i) {
    const Token& lab = tk_[i + 1];
    if ((lab.hash != kMrn && lab.hash != kDob) || lab.begin < 2 || text_[lab.begin - 1] != '(' ||
        text_[lab.begin - 2] != ' ' ||
        (tk_[i].end + 2 != lab.begin &&
         !(tk_[i].end + 3 == lab.begin && text_[tk_[i].end] == '.'))) {
      continue;
    }
    size_t k = i + 1;
    while (k > 0 && i + 1 - k < 3) {
      const Token& u = tk_[k - 1];
      const uint32_t uf = u.lf();
      const bool listed = (uf & (kLexFirstName | kLexSurname)) != 0;
      const bool ok = u.IsAlphaWord() && Capitalised(u) &&
                      !(uf & (kLexNeverAName | kLexFacility)) &&
                      (IsInitial(u) ||
                       (u.end - u.begin >= 3 &&
                        (listed ? !(uf & kLexClinical) ||
                                      // A frequent name that is also an eponym: "Jackson (MRN".
                                      (!(uf & kLexCommon) &&
                                       std::max(u.lex->first_weight, u.lex->last_weight) >= 0.5f)
                                : u.lex == nullptr && !LooksClinicalAt(k - 1))));
      if (!ok) break;
      if (k <= i && !LinkGap(text_, u, tk_[k], false)) break;
      if (k <= i && NewlineBetween(text_, u, tk_[k])) break;
      --k;
    }
    // An initial alone is no name.
    if (k > i || (k == i && IsInitial(tk_[i]))) continue;
    for (size_t j = k; j <= i; ++j) name_[j] = std::max(name_[j], 0.6f);
  }
}

// A signature line: a dash and one or two names alone on a line ("- Orla
// Venn", "-kasprow"): each word a listed name, or a word no list holds that
// does not look clinical.
void TokenRules::SignatureLines() {
  for (size_t i = 0; i < n_; ++i) {
    const Token& a = tk_[i];
    size_t p = a.begin;
    while (p > 0 && text_[p - 1] == ' ') --p;
    if (p == 0 || text_[p - 1] != '-') continue;
    --p;
    while (p > 0 && text_[p - 1] == ' ') --p;
    if (p != 0 && text_[p - 1] != '\n') continue;
    size_t last = i;
    if (i + 1 < n_ && tk_[i + 1].begin == a.end + 1 && text_[a.end] == ' ' &&
        !NewlineBetween(text_, a, tk_[i + 1])) {
      last = i + 1;
    }
    size_t q = tk_[last].end;
    while (q < text_.size() && text_[q] == ' ') ++q;
    if (q < text_.size() && text_[q] != '\n') continue;
    bool names = true;
    for (size_t k = i; names && k <= last; ++k) {
      const Token& u = tk_[k];
      const uint32_t uf = u.lf();
      const bool listed = (uf & (kLexFirstName | kLexSurname)) != 0;
      names =
          u.IsAlphaWord() && u.end - u.begin >= 3 &&
          !(uf & (kLexNeverAName | kLexFacility | kLexClinical)) &&
          (listed ? !(uf & kLexCommon) || Capitalised(u) : u.lex == nullptr && !LooksClinicalAt(k));
    }
    if (!names) continue;
    for (size_t k = i; k <= last; ++k) name_[k] = std::max(name_[k], 0.6f);
  }
  // A line that is only a name and a credential: "Tony G., RN", "karen, RN",
  // "karen, rn". One or two words (or a word and an initial) at the start of
  // a line, a comma, a strong credential, the end of the line.
  for (size_t i = 0; i + 1 < n_; ++i) {
    const Token& a = tk_[i];
    size_t p = a.begin;
    while (p > 0 && text_[p - 1] == ' ') --p;
    if (p != 0 && text_[p - 1] != '\n') continue;
    size_t last = i;
    const Token& b = tk_[i + 1];
    if (b.begin == a.end + 1 && text_[a.end] == ' ') {
      last = i + 1;
    } else if (!(b.begin == a.end + 2 && text_.substr(a.end, 2) == ", ")) {
      continue;
    }
    if (last + 1 >= n_) continue;
    const Token& l = tk_[last];
    const size_t c = last + 1;
    const Token& cred = tk_[c];
    // The comma right after the last word, or after an initial's period.
    const size_t comma = (l.flags & kTokPeriod) && IsInitial(l) ? l.end + 1 : l.end;
    if (cred.begin != comma + 2 || text_.substr(comma, 2) != ", ") continue;
    size_t cred_end = cred.end;
    if (DottedCredentialAt(c)) {
      cred_end = tk_[c + 1].end + 1;
    } else if (!(cred.lf() & kLexStrongCred) ||
               !((cred.flags & kTokUpper) || doc_ == DocCase::kLower)) {
      continue;
    }
    size_t q = cred_end;
    while (q < text_.size() && (text_[q] == ' ' || text_[q] == '.')) ++q;
    if (q < text_.size() && text_[q] != '\n') continue;
    bool names = true;
    for (size_t k = i; names && k <= last; ++k) {
      const Token& u = tk_[k];
      const uint32_t uf = u.lf();
      const bool initial = k == last && k > i && IsInitial(u) && (u.flags & kTokPeriod);
      names = u.IsAlphaWord() && (initial || u.end - u.begin >= 2) &&
              !(uf & (kLexNeverAName | kLexStop | kLexTitle | kLexCredential | kLexRelation |
                      kLexSectionHeader | kLexFacility));
    }
    if (!names) continue;
    for (size_t k = i; k <= last; ++k) name_[k] = std::max(name_[k], 0.6f);
  }
}

// Two capitalised words that no list knows or that only name lists hold,
// side by side in mixed-case text ("Quorra Delvantis will", "Ysolde
// Brannock", two listed surnames), are a name even at a sentence start.
void TokenRules::UnknownCapitalisedPairs() {
  if (mixed_) {
    for (size_t i = 0; i + 1 < n_; ++i) {
      const Token& a = tk_[i];
      const Token& b = tk_[i + 1];
      auto unknown_title = [&](size_t k) {
        const Token& u = tk_[k];
        return u.IsAlphaWord() && (u.flags & kTokTitle) && u.end - u.begin >= 3 &&
               (u.lex == nullptr ||
                ((u.lf() & (kLexFirstName | kLexSurname)) &&
                 !(u.lf() & (kLexCommon | kLexClinical | kLexStop | kLexCity | kLexState |
                             kLexMonth | kLexWeekday | kLexFacility | kLexStreetSuffix)))) &&
               !LooksClinicalAt(k);
      };
      // A word only a clinical source holds, and only capitalised (a surname
      // there as an eponym or an author: "Lindqvist"), next to such a word.
      auto proper_vocab = [&](size_t k) {
        const Token& u = tk_[k];
        return u.IsAlphaWord() && (u.flags & kTokTitle) && u.end - u.begin >= 4 &&
               (u.lf() & kLexProperVocab) &&
               !(u.lf() & (kLexCommon | kLexStop | kLexCity | kLexState | kLexMonth | kLexWeekday |
                           kLexFacility | kLexStreetSuffix));
      };
      if (b.begin != a.end + 1 || text_[a.end] != ' ') continue;
      if (!(unknown_title(i) && (unknown_title(i + 1) || proper_vocab(i + 1))) &&
          !(proper_vocab(i) && unknown_title(i + 1))) {
        continue;
      }
      name_[i] = std::max(name_[i], 0.55f);
      name_[i + 1] = std::max(name_[i + 1], 0.55f);
    }
  }
}

// First name, middle initial, surname ("Tamsin R Oakley", "orla j. brennick"):
// a listed first name (a frequent one may be a word too, in mixed case) or,
// outside all-caps notes, a word no list holds; one letter; a listed name or
// a word no list holds that does not look clinical; the three in one case.
void TokenRules::FirstInitialLast() {
  for (size_t i = 0; i + 2 < n_; ++i) {
    const Token& a = tk_[i];
    const Token& m = tk_[i + 1];
    const Token& c = tk_[i + 2];
    const bool unknown_first = a.IsAlphaWord() && a.lex == nullptr && a.end - a.begin >= 3 &&
                               doc_ != DocCase::kUpper && !LooksClinicalAt(i);
    if (!unknown_first && (!a.IsAlphaWord() || !(a.lf() & kLexFirstName) || a.end - a.begin < 3 ||
                           (a.lf() & (kLexNeverAName | kLexState)))) {
      continue;
    }
    if ((a.lf() & (kLexCommon | kLexClinical)) &&
        !(mixed_ && (a.flags & kTokTitle) && a.lex->first_weight >= 0.5f)) {
      continue;
    }
    if (!m.IsAlphaWord() || m.end - m.begin != 1 || m.begin != a.end + 1 || text_[a.end] != ' ') {
      continue;
    }
    const size_t gap = c.begin - m.end;
    if (!(gap == 1 && text_[m.end] == ' ') &&
        !(gap == 2 && text_[m.end] == '.' && text_[m.end + 1] == ' ')) {
      continue;
    }
    if (!c.IsAlphaWord() || c.end - c.begin < 2 || (c.lf() & (kLexNeverAName))) {
      continue;
    }
    bool cased;
    if (mixed_) {
      cased = (a.flags & kTokTitle) && (m.flags & kTokUpper) && (c.flags & kTokTitle);
    } else {
      constexpr uint16_t kCase = kTokUpper | kTokLower;
      cased = (a.flags & kCase) == (m.flags & kCase) && (a.flags & kCase) == (c.flags & kCase);
    }
    if (!cased) continue;
    if (!(c.lf() & (kLexFirstName | kLexSurname)) && (c.lex != nullptr || LooksClinicalAt(i + 2)))
      continue;
    name_[i] = std::max(name_[i], 0.6f);
    name_[i + 1] = std::max(name_[i + 1], 0.6f);
    name_[i + 2] = std::max(name_[i + 2], 0.6f);
  }
}

// Pairs: a first name next to a name-like word makes both names.
void TokenRules::FirstNamePairs() {
  for (size_t i = 0; i + 1 < n_; ++i) {
    const Token& a = tk_[i];
    const Token& b = tk_[i + 1];
    if (!NameLike(a) || !NameLike(b) || !LinkGap(text_, a, b, false)) continue;
    if (NewlineBetween(text_, a, b)) continue;
    const bool a_first = (a.lf() & kLexFirstName) != 0;
    const bool b_known = (b.lf() & (kLexSurname | kLexFirstName)) != 0 && !(b.lf() & kLexCommon);
    const bool b_surname_any =
        (b.lf() & kLexSurname) != 0 &&
        (name_[i] >= 0.5f ||
         (mixed_ && (a.flags & kTokTitle) && (b.flags & kTokTitle) && !(a.lf() & kLexClinical)));
    // A frequent first name that is also a word ("Martin", "Lea") before a
    // capitalised word no list holds, in mixed-case text ("Martin Larsen").
    const bool frequent_first =
        mixed_ && a_first && (a.flags & kTokTitle) && (b.flags & kTokTitle) &&
        (b.lex == nullptr || ((b.lf() & kLexSurname) && !(b.lf() & kLexCommon))) &&
        b.end - b.begin >= 4 && b.begin - a.end == 1 && a.lex->first_weight >= 0.5f &&
        !(a.lf() & (kLexMonth | kLexWeekday | kLexState)) &&
        (b.lex != nullptr || !LooksClinicalAt(i + 1));
    if (a_first && Capitalised(a) && Capitalised(b) &&
        (b_known || b_surname_any || (!(b.lf() & kLexCommon) && b.lex == nullptr))) {
      if (name_[i] >= 0.5f || name_[i + 1] >= 0.5f || b_surname_any || frequent_first ||
          (b_known && !(a.lf() & kLexCommon))) {
        name_[i] = std::max(name_[i], 0.6f);
        name_[i + 1] = std::max(name_[i + 1], 0.6f);
      }
    }
  }
}

// A sign-off line "First Word CRED" ("Orrin Hickman RRT"): a listed first
// name, a capitalised word and an upper-case credential are a person, even
// when the names are also clinical words (eponyms: "Bernard", "Foley").
void TokenRules::SignOffCredentialLines() {
  for (size_t i = 0; i + 2 < n_; ++i) {
    const Token& a = tk_[i];
    const Token& b = tk_[i + 1];
    const Token& c = tk_[i + 2];
    // Or an initial with its period: "Seen by V. Likes, M.D."; in an all-caps
    // note only before a listed name ("VITAMIN D. NOTED, RN").
    const bool initial =
        IsInitial(a) && (a.flags & kTokPeriod) && b.begin == a.end + 2 &&
        ((mixed_ && (b.flags & kTokTitle)) ||
         ((b.lf() & (kLexFirstName | kLexSurname)) && !(b.lf() & (kLexCommon | kLexClinical))));
    if (!initial &&
        (!(a.lf() & kLexFirstName) || (a.lf() & (kLexCommon | kLexStop)) || !a.IsAlphaWord() ||
         !(a.flags & (kTokTitle | kTokUpper)) || a.end - a.begin < 3)) {
      continue;
    }
    if (!b.IsAlphaWord() || !(b.flags & (kTokTitle | kTokUpper)) || b.end - b.begin < 3 ||
        (b.lf() & (kLexTitle | kLexRelation | kLexCredential | kLexMonth | kLexWeekday))) {
      continue;
    }
    if (!(((c.lf() & kLexStrongCred) && (c.flags & kTokUpper)) || DottedCredentialAt(i + 2))) {
      continue;
    }
    if ((!initial && (b.begin - a.end != 1 || text_[a.end] != ' ')) ||
        !LinkGap(text_, b, c, true) || NewlineBetween(text_, b, c)) {
      continue;
    }
    name_[i] = std::max(name_[i], 0.6f);
    name_[i + 1] = std::max(name_[i + 1], 0.6f);
  }
}

// A listed first name right before a verb that people do on the ward
// ("bill called once", "bob visited", "JOHN STATES"), or a first name and a
// word no list holds before it ("KORVANDEL PRISTAMORE AWARE"), is a person in any case.
void TokenRules::FirstNameBeforeWardVerb() {
  auto first = [&](const Token& u, float min_weight) {
    return u.IsAlphaWord() && (u.lf() & kLexFirstName) && u.end - u.begin >= 3 &&
           !(u.lf() & (kLexNeverAName | kLexCity | kLexState)) && u.lex != nullptr &&
           u.lex->first_weight >= min_weight;
  };
  static const uint64_t kPtHash = Lexicon::Hash("pt"), kPatientHash = Lexicon::Hash("patient");

  for (size_t i = 1; i < n_; ++i) {
    if (!(tk_[i].lf() & kLexWardVerb)) continue;
    const Token& v = tk_[i];
    const Token& a = tk_[i - 1];
    if (v.begin - a.end != 1 || text_[a.end] != ' ') continue;
    if (first(a, 0.3f) && !(mixed_ && (a.flags & kTokLower) && !(v.flags & kTokLower))) {
      name_[i - 1] = std::max(name_[i - 1], 0.55f);
    } else if (i >= 2 && a.IsAlphaWord() && a.lex == nullptr && a.end - a.begin >= 3 &&
               first(tk_[i - 2], 0.3f) && tk_[i - 2].flags == a.flags && Capitalised(a) &&
               a.begin - tk_[i - 2].end == 1 && text_[tk_[i - 2].end] == ' ' &&
               !ClinicalBeyondPrefix(i - 1)) {
      name_[i - 2] = std::max(name_[i - 2], 0.55f);
      name_[i - 1] = std::max(name_[i - 1], 0.55f);
    } else if (i >= 2 && a.IsAlphaWord() && tk_[i - 2].IsAlphaWord() && a.lex == nullptr &&
               tk_[i - 2].lex == nullptr && a.end - a.begin >= 4 &&
               tk_[i - 2].end - tk_[i - 2].begin >= 4 && tk_[i - 2].flags == a.flags &&
               Capitalised(a) && a.begin - tk_[i - 2].end == 1 && text_[tk_[i - 2].end] == ' ' &&
               !LooksClinicalAt(i - 1) && !LooksClinicalAt(i - 2)) {
      // Two words no list holds before such a verb ("RUNDMALLA TRIELCARKSKI
      // TOLERATED PROCEDURE", "korvandel pristamore remains on micu").
      name_[i - 2] = std::max(name_[i - 2], 0.55f);
      name_[i - 1] = std::max(name_[i - 1], 0.55f);
    } else if (i >= 2 && (tk_[i - 2].hash == kPtHash || tk_[i - 2].hash == kPatientHash) &&
               a.IsAlphaWord() && a.lex == nullptr && a.end - a.begin >= 6 &&
               a.begin - tk_[i - 2].end == 1 && text_[tk_[i - 2].end] == ' ' &&
               !LooksClinicalAt(i - 1)) {
      // "pt kollmerand seen 10/23": the patient's name between "pt" and the
      // verb (6+ letters: shorthand such as "pt sxned seen" is shorter).
      name_[i - 1] = std::max(name_[i - 1], 0.55f);
    } else if (i >= 3 && (tk_[i - 3].hash == kPtHash || tk_[i - 3].hash == kPatientHash) &&
               a.IsAlphaWord() && a.end - a.begin >= 3 && tk_[i - 2].IsAlphaWord() &&
               !NewlineBetween(text_, tk_[i - 3], a)) {
      // "pt a. baransky seen", "pt leroy madden seen": an initial or a listed
      // first name (a town's name too), then a listed surname or a word no
      // list holds, between "pt" and the verb, in one case.
      const Token& m = tk_[i - 2];
      constexpr uint16_t kCase = kTokUpper | kTokLower;
      const bool initial = m.end - m.begin == 1 && (m.flags & kTokPeriod) && a.begin == m.end + 2 &&
                           m.begin == tk_[i - 3].end + 1;
      const bool named_first =
          m.IsAlphaWord() && (m.lf() & kLexFirstName) && m.end - m.begin >= 3 &&
          m.lex->first_weight >= 0.3f &&
          !(m.lf() & (kLexCommon | kLexClinical | kLexNeverAName | kLexState)) &&
          a.begin == m.end + 1 && text_[m.end] == ' ' && m.begin == tk_[i - 3].end + 1;
      const uint32_t af = a.lf();
      const bool surname = ((af & kLexSurname) && !(af & (kLexCommon | kLexStop))) ||
                           (a.lex == nullptr && !LooksClinicalAt(i - 1));
      if ((initial || named_first) && surname && (m.flags & kCase) == (a.flags & kCase) &&
          !(af & (kLexNeverAName | kLexCity | kLexState))) {
        name_[i - 2] = std::max(name_[i - 2], 0.55f);
        name_[i - 1] = std::max(name_[i - 1], 0.55f);
      }
    }
  }
}

// After a verb that takes a person ("by", "with", "per"): an initial and a
// listed name ("BY C. HOPE"), or (not after "to"/"from") a listed first
// name and a word no list holds or only the surname list holds ("seen with
// anika zellweg"), are a person in any case.
void TokenRules::AfterPersonVerb() {
  static const uint64_t kToHash = Lexicon::Hash("to"), kFromHash = Lexicon::Hash("from");
  for (size_t i = 2; i < n_; ++i) {
    const Token& v = tk_[i - 2];
    const Token& a = tk_[i - 1];
    const Token& b = tk_[i];
    if (!(v.lf() & kLexNameVerb) || !b.IsAlphaWord() || b.end - b.begin < 3 ||
        NewlineBetween(text_, v, b) || !LinkGap(text_, v, a, false) ||
        !LinkGap(text_, a, b, false)) {
      continue;
    }
    if (b.lf() & (kLexNeverAName | kLexFacility)) {
      continue;
    }
    if (IsInitial(a) && (a.flags & kTokPeriod) && (b.flags & kTokUpper) &&
        (b.lf() & (kLexFirstName | kLexSurname)) && b.lex != nullptr &&
        std::max(b.lex->first_weight, b.lex->last_weight) >= 0.3f) {
      name_[i - 1] = std::max(name_[i - 1], 0.55f);
      name_[i] = std::max(name_[i], 0.55f);
    } else if (v.hash != kToHash && v.hash != kFromHash && a.IsAlphaWord() &&
               (a.lf() & kLexFirstName) && a.end - a.begin >= 3 &&
               !(a.lf() & (kLexNeverAName | kLexState)) && a.lex->first_weight >= 0.3f &&
               (b.lex == nullptr ||
                ((b.lf() & kLexSurname) &&
                 !(b.lf() & (kLexCommon | kLexClinical | kLexFirstName | kLexCity | kLexState)))) &&
               a.flags == b.flags && b.begin - a.end == 1) {
      name_[i - 1] = std::max(name_[i - 1], 0.55f);
      name_[i] = std::max(name_[i], 0.55f);
    }
  }
}

// A possessive before a relation word or a phone number is a person's:
// "Zackton's sister, Laura", "SOCIAL: PAM'S NUMBER IS", "Peafourys Smith's
// brother" (ExtendNames then takes "Peafourys"). Not a vocabulary word no name
// list holds ("Patient's sister", "Hospital's number") nor a relation or title.
void TokenRules::PossessiveBeforeRelation() {
  static const uint64_t kNumber = Lexicon::Hash("number"), kCell = Lexicon::Hash("cell"),
                        kPhone = Lexicon::Hash("phone");
  for (size_t i = 0; i + 1 < n_; ++i) {
    const Token& t = tk_[i];
    const Token& r = tk_[i + 1];
    if (name_[i] >= 0.5f || !NameLike(t) || !Capitalised(t) || t.end - t.begin < 2) continue;
    if (r.begin != t.end + 3 || text_[t.end] != '\'' ||
        (text_[t.end + 1] != 's' && text_[t.end + 1] != 'S') || text_[t.end + 2] != ' ') {
      continue;
    }
    if (!(r.lf() & kLexRelation) && r.hash != kNumber && r.hash != kCell && r.hash != kPhone) {
      continue;
    }
    const uint32_t f = t.lf();
    if (f & (kLexFacility | kLexCredential | kLexNeverAName)) continue;
    const bool listed = (f & (kLexFirstName | kLexSurname)) != 0;
    if ((f & (kLexCommon | kLexClinical)) && !listed) continue;
    if (!listed && t.lex == nullptr && LooksClinicalAt(i)) continue;
    name_[i] = std::max(name_[i], 0.6f);
  }
}

// A nickname in quotes between a first name and a surname: 'Barbara "Barb"
// Orme', "James 'Jim' Lucky". The first name is a listed one or already a
// name; the nickname one capitalised word; the surname a capitalised word.
void TokenRules::QuotedNicknames() {
  for (size_t i = 0; i + 2 < n_; ++i) {
    const Token& a = tk_[i];
    const Token& b = tk_[i + 1];
    const Token& c = tk_[i + 2];
    const char q = b.begin >= 1 ? text_[b.begin - 1] : '\0';
    if (q != '"' && q != '\'') continue;
    if (b.begin != a.end + 2 || text_[a.end] != ' ') continue;
    if (c.begin != b.end + 2 || text_[b.end] != q || text_[b.end + 1] != ' ') continue;
    if (!NameLike(a) || !NameLike(b) || !NameLike(c) || !Capitalised(a) || !Capitalised(b) ||
        !Capitalised(c) || c.end - c.begin < 2) {
      continue;
    }
    const uint32_t af = a.lf();
    const bool first =
        name_[i] >= 0.5f || ((af & kLexFirstName) && !(af & (kLexCommon | kLexClinical)) &&
                             a.lex->first_weight >= 0.3f);
    if (!first || (c.lf() & (kLexFacility | kLexNeverAName | kLexCity | kLexState))) continue;
    if (c.lex == nullptr && LooksClinicalAt(i + 2)) continue;
    name_[i] = std::max(name_[i], 0.6f);
    name_[i + 1] = std::max(name_[i + 1], 0.6f);
    name_[i + 2] = std::max(name_[i + 2], 0.6f);
  }
}

// An age after "is a", ", a (pleasant)" or in brackets: the capitalised
// words before it are a person's name ("Brea Johnson is a 51 y.o. woman",
// "Moore, a pleasant 61-year-old", "partner Ivo Marr (57 y/o)"). One to three
// words on one line, none a function, title or clinical word, at least one a
// listed name or a word no list holds.
void TokenRules::AgeSubjects() {
  // Whether an age ("51 y.o.", "61-year-old", "98 yr", "32yo") starts at `p`.
  auto age_at = [&](size_t p) {
    size_t d = p;
    while (d < text_.size() && d - p < 3 && std::isdigit(static_cast<unsigned char>(text_[d]))) ++d;
    if (d == p || (d < text_.size() && std::isdigit(static_cast<unsigned char>(text_[d])))) {
      return false;
    }
    if (d < text_.size() && (text_[d] == ' ' || text_[d] == '-')) ++d;
    std::string& w = ctx_.lower;
    w.clear();
    while (d < text_.size() && w.size() < 5 &&
           (std::isalpha(static_cast<unsigned char>(text_[d])) || text_[d] == '/' ||
            text_[d] == '.')) {
      w.push_back(static_cast<char>(std::tolower(static_cast<unsigned char>(text_[d]))));
      ++d;
    }
    for (std::string_view unit : {"yo", "y/o", "y.o", "yr", "year", "years"}) {
      if (w.compare(0, unit.size(), unit) == 0) return true;
    }
    return false;
  };
  static const uint64_t kIs = Lexicon::Hash("is"), kA = Lexicon::Hash("a"),
                        kPleasant = Lexicon::Hash("pleasant");
  for (size_t i = 0; i + 1 < n_; ++i) {
    // i: the last word of the name; then "is a", ", a (pleasant)" or an age
    // in brackets ("partner Stork Catignani (57 y/o)").
    size_t k = i + 1;
    if (text_.substr(tk_[i].end, 2) == " (" && tk_[k].begin == tk_[i].end + 2) {
      if (!age_at(tk_[k].begin)) continue;
    } else {
      if (tk_[k].hash == kIs && k + 1 < n_ && tk_[k + 1].hash == kA) {
        if (tk_[k].begin != tk_[i].end + 1 || text_[tk_[i].end] != ' ') continue;
        ++k;
      } else if (!(tk_[k].hash == kA && text_.substr(tk_[i].end, 2) == ", " &&
                   tk_[k].begin == tk_[i].end + 2)) {
        continue;
      }
      size_t num = k + 1;
      if (num < n_ && tk_[num].hash == kPleasant) ++num;
      if (num >= n_ ||
          tk_[num].begin > tk_[k].end + 1 + (num > k + 1 ? tk_[k + 1].end - tk_[k].end : 0)) {
        continue;
      }
      if (!age_at(tk_[num].begin)) continue;
    }
    size_t first = i + 1;
    bool proper = false;
    while (first > 0 && i + 1 - first < 3) {
      const Token& u = tk_[first - 1];
      const uint32_t uf = u.lf();
      const bool listed = (uf & (kLexFirstName | kLexSurname)) != 0;
      // A town or state is a name here only when a name list holds it too ("Moore").
      if (!u.IsAlphaWord() || !Capitalised(u) || !NameLike(u) ||
          (uf & (kLexNeverAName | kLexFacility | kLexSectionHeader)) ||
          ((uf & (kLexCity | kLexState)) && !listed)) {
        break;
      }
      if (first <= i &&
          (!NameGap(text_, u, tk_[first], false) || NewlineBetween(text_, u, tk_[first]))) {
        break;
      }
      const bool initial = IsInitial(u) && first <= i;
      if (!initial && u.end - u.begin < 2) break;
      if ((uf & (kLexCommon | kLexClinical)) && !listed && !initial) break;
      if (!listed && !initial && u.lex == nullptr && LooksClinicalAt(first - 1)) break;
      proper = proper || (listed && !(uf & kLexCommon)) || (u.lex == nullptr && !initial);
      --first;
    }
    if (first > i || !proper) continue;
    for (size_t j = first; j <= i; ++j) name_[j] = std::max(name_[j], 0.6f);
  }
}

// The display name before an e-mail address in angle brackets: "From: Jan
// Quellham <jquellham@example.org>", "To: Dol Hammatt <dh@...>". One to three
// words at the line's start or after a label's colon, none a function, title
// or credential word, one a listed name or a word no list holds.
void TokenRules::EmailDisplayNames() {
  for (size_t i = 0; i < n_; ++i) {
    const Token& t = tk_[i];
    if (t.end + 2 >= text_.size() || text_[t.end] != ' ' || text_[t.end + 1] != '<') continue;
    const size_t close = text_.find('>', t.end + 2);
    if (close == std::string_view::npos || close - t.end > 130) continue;
    const std::string_view inside = text_.substr(t.end + 2, close - t.end - 2);
    if (inside.find('@') == std::string_view::npos ||
        inside.find_first_of(" \n") != std::string_view::npos) {
      continue;
    }
    size_t first = i + 1;
    bool proper = false;
    while (first > 0 && i + 1 - first < 3) {
      const Token& u = tk_[first - 1];
      const uint32_t uf = u.lf();
      // A month's name only before another word ("Jan Quellham").
      const bool month_first = first <= i && (uf & kLexMonth) && !(uf & kLexStop);
      if (!u.IsAlphaWord() || (!NameLike(u) && !month_first) ||
          (uf & ((kLexNeverAName & ~(month_first ? kLexMonth : 0u)) | kLexFacility))) {
        break;
      }
      if (first <= i &&
          (!NameGap(text_, u, tk_[first], false) || NewlineBetween(text_, u, tk_[first]))) {
        break;
      }
      proper = proper || ((uf & (kLexFirstName | kLexSurname)) && !(uf & kLexCommon)) ||
               (u.lex == nullptr && !LooksClinicalAt(first - 1));
      --first;
    }
    // At least one listed name or word no list holds ("Pharmacy <rx@...>" is
    // none); the words start the line or follow a field label's colon.
    if (first > i || !proper) continue;
    size_t p = tk_[first].begin;
    while (p > 0 && text_[p - 1] == ' ') --p;
    if (p > 0 && text_[p - 1] != '\n' && text_[p - 1] != ':') continue;
    for (size_t j = first; j <= i; ++j) name_[j] = std::max(name_[j], 0.6f);
  }
}

// Extend confirmed names over adjacent initials and name-like words; not over
// a hyphenated word with a relation or vocabulary part ("FAMILY-son Ned",
// "dtr-in-law Ida"): that is telegraphic punctuation.
void TokenRules::ExtendNames() {
  auto hyphen_vocab = [&](const Token& u) {
    const std::string_view w = text_.substr(u.begin, u.end - u.begin);
    if (w.find('-') == std::string_view::npos) return false;
    size_t from = 0;
    while (from <= w.size()) {
      size_t to = w.find('-', from);
      if (to == std::string_view::npos) to = w.size();
      std::string& part = ctx_.lower;
      part.assign(w.substr(from, to - from));
      AsciiLower(part);
      const LexEntry* e = part.empty() ? nullptr : lexicon_->Find(part);
      if (e != nullptr && (e->flags & (kLexRelation | kLexStop | kLexCommon | kLexClinical)) &&
          !(e->flags & (kLexFirstName | kLexSurname))) {
        return true;
      }
      from = to + 1;
    }
    return false;
  };
  for (int pass = 0; pass < 2; ++pass) {
    for (size_t i = 0; i < n_; ++i) {
      if (name_[i] < 0.5f) continue;
      for (int dir : {-1, 1}) {
        const size_t j = i + static_cast<size_t>(dir);
        if (j >= n_ || name_[j] >= 0.5f) continue;
        const Token& a = dir > 0 ? tk_[i] : tk_[j];
        const Token& b = dir > 0 ? tk_[j] : tk_[i];
        if (!LinkGap(text_, a, b, false) || NewlineBetween(text_, a, b)) continue;
        // Not across a sentence end: a period after a word that is no initial
        // ("TO DR. WEXHAM. PRBC INFUSING", "AS PER B. OKAFOR. NGT TO LCWS").
        if ((a.flags & kTokPeriod) && a.end - a.begin >= 2) continue;
        const Token& u = tk_[j];
        if (hyphen_vocab(u)) continue;
        // A lower-case initial with its period before a lower-case name
        // ("d. halloran rrt").
        if (dir < 0 && u.IsAlphaWord() && u.end - u.begin == 1 && (u.flags & kTokLower) &&
            (tk_[i].flags & kTokLower) && (u.flags & kTokPeriod) && u.end + 2 == tk_[i].begin) {
          name_[j] = 0.55f;
        } else if (IsInitial(u) && (u.flags & kTokPeriod || dir > 0) &&
                   !(u.end < text_.size() && text_[u.end] == '/') &&
                   !(u.begin > 0 && text_[u.begin - 1] == '/')) {
          // Not a letter of "D/C", "S/P", "W/": "QUARRELTON D/C PLANNING".
          name_[j] = 0.55f;
        } else if (dir > 0 && mixed_ && IsInitial(tk_[i]) && i > 0 && name_[i - 1] >= 0.5f &&
                   (tk_[i - 1].flags & kTokTitle) && (u.flags & kTokTitle) && NameLike(u) &&
                   u.end - u.begin >= 3 &&
                   !(u.lf() & (kLexFacility | kLexNeverAName | kLexClinical | kLexCity | kLexState |
                               kLexStreetSuffix))) {
          // A capitalised word after a first name and a middle initial is the
          // surname even when it is also a word: "Dr. Sierra O. Crumble".
          name_[j] = 0.55f;
        } else if (dir > 0 && doc_ == DocCase::kLower && u.IsAlphaWord() && u.end - u.begin == 1 &&
                   (u.flags & kTokPeriod)) {
          // A lower-case middle or last initial: "jackson i. goodenough", "linda s.".
          name_[j] = 0.55f;
        } else if (dir < 0 && mixed_ && (u.flags & kTokLower) && (tk_[i].flags & kTokLower) &&
                   u.IsAlphaWord() && u.end - u.begin >= 3 && (u.lf() & kLexFirstName) &&
                   !(u.lf() & (kLexCommon | kLexStop | kLexState | kLexMonth | kLexWeekday |
                               kLexTitle | kLexRelation)) &&
                   u.lex->first_weight >= 0.3f) {
          // A lower-case first name before a lower-case name ("lucinda morris rn").
          name_[j] = 0.55f;
        } else if (NameLike(u) && Capitalised(u) && !(u.lf() & kLexFacility) &&
                   ((!(u.lf() & (kLexCommon | kLexClinical)) &&
                     (u.lf() & (kLexFirstName | kLexSurname) || u.lex == nullptr)) ||
                    ((u.lf() & kLexFirstName) && dir < 0 &&
                     (!(u.lf() & kLexClinical) || IsInitial(tk_[i]))) ||
                    // A frequent surname that is also an eponym or a word,
                    // capitalised after a first name in a mixed-case note:
                    // "Byxwaurn Bowen is a", "Ann Brown".
                    (dir > 0 && mixed_ && (u.flags & kTokTitle) && (u.lf() & kLexSurname) &&
                     u.lex->last_weight >= 0.5f && (tk_[i].flags & kTokTitle)))) {
          name_[j] = 0.55f;
        }
      }
    }
  }
}

// Coordination: "Odile and Bram", "Wren, Casimir, Ilse and Tobiah": a
// listed name joined to a confirmed name by "and" or a comma is a name too.
void TokenRules::Coordination() {
  auto listed_name = [&](const Token& u) {
    // A frequent first name that a clinical source writes capitalised (an
    // eponym) is still a name in a list of names ("Sons Ned, Ivo and Roland").
    if (u.IsAlphaWord() && mixed_ && (u.flags & kTokTitle) && (u.lf() & kLexFirstName) &&
        (u.lf() & kLexProperVocab) && u.lex->first_weight >= 0.5f &&
        !(u.lf() & (kLexStop | kLexMonth | kLexWeekday | kLexRelation | kLexTitle))) {
      return true;
    }
    return u.IsAlphaWord() && Capitalised(u) && (u.lf() & (kLexFirstName | kLexSurname)) &&
           !(u.lf() &
             (kLexClinical | kLexStop | kLexMonth | kLexWeekday | kLexRelation | kLexTitle));
  };
  auto joined = [&](size_t a, size_t b) {  // tokens a < b joined by ", " or " and "
    if (b == a + 1) {
      for (size_t k = tk_[a].end; k < tk_[b].begin; ++k) {
        if (text_[k] != ',' && text_[k] != ' ') return false;
      }
      return tk_[b].begin - tk_[a].end <= 3 && text_.substr(tk_[a].end, 1) == ",";
    }
    return b == a + 2 && (tk_[a + 1].lf() & kLexAnd) && LinkGap(text_, tk_[a], tk_[a + 1], true) &&
           LinkGap(text_, tk_[a + 1], tk_[b], false);
  };
  for (int pass = 0; pass < 2; ++pass) {
    for (size_t i = 0; i < n_; ++i) {
      if (name_[i] < 0.5f) continue;
      for (size_t j : {i + 1, i + 2}) {
        if (j < n_ && name_[j] < 0.5f && listed_name(tk_[j]) && joined(i, j)) name_[j] = 0.55f;
      }
      for (size_t back : {size_t{1}, size_t{2}}) {
        if (i >= back && name_[i - back] < 0.5f && listed_name(tk_[i - back]) &&
            joined(i - back, i)) {
          name_[i - back] = 0.55f;
        }
      }
    }
  }
}

// A word no list holds after a confirmed name and "and", in the name's
// case, at the end of its sentence or line: "her sons, rolf and ivek".
void TokenRules::UnknownAfterNameAnd() {
  for (size_t i = 0; i + 2 < n_; ++i) {
    const Token& a = tk_[i];
    const Token& y = tk_[i + 2];
    if (name_[i] < 0.5f || name_[i + 2] >= 0.5f || !(tk_[i + 1].lf() & kLexAnd) ||
        !a.IsAlphaWord() || !y.IsAlphaWord() || y.lex != nullptr || y.end - y.begin < 3 ||
        (a.flags & (kTokUpper | kTokTitle | kTokLower)) !=
            (y.flags & (kTokUpper | kTokTitle | kTokLower)) ||
        tk_[i + 1].begin != a.end + 1 || y.begin != tk_[i + 1].end + 1 || text_[a.end] != ' ' ||
        text_[tk_[i + 1].end] != ' ') {
      continue;
    }
    size_t q = y.end;
    while (q < text_.size() && text_[q] == ' ') ++q;
    const bool ends = q >= text_.size() || text_[q] == '\n' || text_[q] == '.' || text_[q] == ',' ||
                      text_[q] == ';' || text_[q] == '!' || text_[q] == '?';
    if (ends && !LooksClinicalAt(i + 2)) name_[i + 2] = 0.55f;
  }
}

// A listed first name and a word no list holds, joined by "and" (and a
// title) to a confirmed name, are a person too, in one case: "Vera Koll and
// Dr. Ames aware", "called Dr. Ames and Vera Koll".
void TokenRules::FirstNameAndUnknown() {
  auto spaces_only = [&](const Token& a, const Token& b) {
    if (b.begin <= a.end) return false;
    for (size_t c = a.end; c < b.begin; ++c) {
      if (text_[c] != ' ') return false;
    }
    return true;
  };
  auto first_unknown_pair = [&](size_t a) {  // tokens a and a + 1
    if (a + 1 >= n_ || name_[a + 1] >= 0.5f) return false;
    const Token& x = tk_[a];
    const Token& y = tk_[a + 1];
    return x.IsAlphaWord() && (x.lf() & kLexFirstName) && x.end - x.begin >= 3 &&
           !(x.lf() & (kLexNeverAName | kLexCity | kLexState | kLexCommon | kLexClinical)) &&
           x.lex->first_weight >= 0.3f && y.IsAlphaWord() && y.lex == nullptr &&
           y.end - y.begin >= 3 && x.flags == y.flags && Capitalised(x) && y.begin - x.end == 1 &&
           text_[x.end] == ' ' && !ClinicalBeyondPrefix(a + 1);
  };
  for (size_t i = 0; i < n_; ++i) {
    if (name_[i] < 0.5f || !tk_[i].IsAlphaWord()) continue;
    // Before: pair, "and", a title or none, name i.
    size_t k = i;
    if (k >= 1 && (tk_[k - 1].lf() & kLexTitle) && TitleLink(text_, tk_[k - 1], tk_[k])) --k;
    if (k >= 3 && (tk_[k - 1].lf() & kLexAnd) && spaces_only(tk_[k - 2], tk_[k - 1]) &&
        spaces_only(tk_[k - 1], tk_[k]) && first_unknown_pair(k - 3)) {
      name_[k - 3] = std::max(name_[k - 3], 0.55f);
      name_[k - 2] = 0.55f;
    }
    // After: name i, "and", a title or none, pair.
    if (i + 3 < n_ && (tk_[i + 1].lf() & kLexAnd) && spaces_only(tk_[i], tk_[i + 1])) {
      size_t j = i + 2;
      if (!spaces_only(tk_[i + 1], tk_[j])) continue;
      if ((tk_[j].lf() & kLexTitle) && j + 1 < n_ && TitleLink(text_, tk_[j], tk_[j + 1])) ++j;
      if (first_unknown_pair(j)) {
        name_[j] = std::max(name_[j], 0.55f);
        name_[j + 1] = 0.55f;
      }
    }
  }
}

// Document-level consistency: a word confirmed as a name elsewhere in the note
// is a name everywhere in it (unless it is a common word).
void TokenRules::NameConsistency() {
  std::vector<uint64_t>& confirmed = ctx_.hashes;
  confirmed.clear();
  for (size_t i = 0; i < n_; ++i) {
    if (name_[i] >= 0.75f && !(tk_[i].lf() & kLexCommon) && tk_[i].end - tk_[i].begin >= 3) {
      confirmed.push_back(tk_[i].hash);
    }
  }
  if (!confirmed.empty()) {
    std::sort(confirmed.begin(), confirmed.end());
    const HashFilter filter(confirmed, ctx_.filter_bits);
    for (size_t i = 0; i < n_; ++i) {
      if (name_[i] >= 0.5f || !tk_[i].IsAlphaWord() || !filter.MayContain(tk_[i].hash)) continue;
      if (std::binary_search(confirmed.begin(), confirmed.end(), tk_[i].hash)) name_[i] = 0.6f;
    }
  }
}

// Places. Device eponyms: a town's name written before a device noun anywhere in
// the note ("Hickman catheter", "HICKMAN CATH") names the device everywhere
// in it.
void TokenRules::DeviceEponyms() {
  eponyms_.clear();
  {
    static const uint64_t kDevices[] = {Lexicon::Hash("cath"),  Lexicon::Hash("catheter"),
                                        Lexicon::Hash("line"),  Lexicon::Hash("placement"),
                                        Lexicon::Hash("port"),  Lexicon::Hash("tube"),
                                        Lexicon::Hash("drain"), Lexicon::Hash("placed")};
    for (size_t i = 0; i + 1 < n_; ++i) {
      if (!(tk_[i].lf() & kLexCity)) continue;
      if (NewlineBetween(text_, tk_[i], tk_[i + 1]) || tk_[i + 1].begin - tk_[i].end > 2) continue;
      for (uint64_t h : kDevices) {
        if (tk_[i + 1].hash == h) eponyms_.push_back(tk_[i].hash);
      }
    }
    std::sort(eponyms_.begin(), eponyms_.end());
  }
}

// Places, word by word: towns of the list (one word or several), facilities
// named before a facility word or by acronym, universities and saints' names,
// wards and town services named after places, counties, neighbourhoods,
// regions, and what follows a residence cue ("lives in"). Marks loc_
// (1 city, 2 facility, 3 other location).
void TokenRules::ScorePlaces() {
  static const uint64_t kFromHash = Lexicon::Hash("from");
  for (size_t i = 0; i < n_; ++i) {
    const Token& t = tk_[i];
    const uint32_t f = t.lf();
    const bool prev_prep = i > 0 && (tk_[i - 1].lf() & kLexLocPrep) != 0;
    if (!t.IsAlphaWord()) {
      // Unit names with the number fused on: "LINTHICUM7", "linthicum2".
      if (prev_prep && (t.flags & kTokAlpha) && t.end - t.begin >= 6 && Capitalised(t)) {
        size_t d = t.end;
        while (d > t.begin && std::isdigit(static_cast<unsigned char>(text_[d - 1]))) --d;
        bool alpha_prefix = t.end - d <= 2 && d - t.begin >= 5;
        for (size_t k = t.begin; alpha_prefix && k < d; ++k) {
          alpha_prefix = std::isalpha(static_cast<unsigned char>(text_[k])) != 0;
        }
        if (alpha_prefix) {
          std::string& w = ctx_.lower;
          w.assign(text_.substr(t.begin, d - t.begin));
          AsciiLower(w);
          const LexEntry* e = lexicon_->Find(w);
          if (e == nullptr || !(e->flags & (kLexCommon | kLexClinical | kLexStop))) loc_[i] = 3;
        }
      }
      continue;
    }
    // Multi-word cities ("san diego"), longest first.
    if ((f & kLexCityStart) && (Capitalised(t))) {
      std::string& phrase = ctx_.lower;
      phrase.assign(text_.substr(t.begin, t.end - t.begin));
      AsciiLower(phrase);
      size_t best = 0;
      for (size_t k = i + 1; k < n_ && k < i + 4; ++k) {
        if (!LinkGap(text_, tk_[k - 1], tk_[k], false) || !Capitalised(tk_[k])) break;
        phrase += ' ';
        const size_t from = phrase.size();
        phrase.append(text_.substr(tk_[k].begin, tk_[k].end - tk_[k].begin));
        AsciiLower(phrase, from);
        if (lexicon_->IsMultiWordCity(phrase)) best = k;
      }
      // Outside mixed case, a town named with common words only ("Left Hand",
      // "Spring Valley") needs a preposition before it.
      // An address line before (a comma), a state or a police force after
      // keeps it ("12 elm st, sandy ridge, nc", "per pine ridge pd").
      size_t prev_end = i > 0 ? tk_[i - 1].end : 0;
      while (prev_end < t.begin && text_[prev_end] == ' ') ++prev_end;
      const bool after_comma = prev_end < t.begin && text_[prev_end] == ',';
      static const uint64_t kPd = Lexicon::Hash("pd"), kPolice = Lexicon::Hash("police");
      const bool state_next = best + 1 < n_ &&
                              ((tk_[best + 1].lf() & kLexState) || tk_[best + 1].hash == kPd ||
                               tk_[best + 1].hash == kPolice) &&
                              !NewlineBetween(text_, tk_[best], tk_[best + 1]);
      bool all_common = best > 0 && !mixed_ && !prev_prep && !after_comma && !state_next;
      for (size_t k = i; all_common && k <= best; ++k) {
        all_common = (tk_[k].lf() & kLexCommon) != 0;
      }
      if (best > 0 && !all_common) {
        for (size_t k = i; k <= best; ++k) loc_[k] = 1;
        i = best;
        continue;
      }
    }
    if ((f & kLexCity) && !(f & (kLexCommon | kLexStop | kLexState | kLexMonth)) &&
        Capitalised(t) && t.end - t.begin >= 3 && (!(f & kLexClinical) || (f & kLexProperVocab)) &&
        !std::binary_search(eponyms_.begin(), eponyms_.end(), t.hash) &&
        (prev_prep || !LooksClinicalAt(i))) {
      // A town that is also clinical vocabulary ("Hickman" catheter, "LIMA"
      // graft) needs more than a preposition: the multi-word, residence,
      // county and address rules.
      loc_[i] = 1;
    }
    // A town named with a common word ("Liberty", "Paradise"), capitalised
    // alone right after "to", "from", "at", "in" or "near" in mixed-case text:
    // "surgeon from Paradise", "wants to go to Liberty".
    if (mixed_ && prev_prep && (f & kLexCity) && (f & kLexCommon) && (t.flags & kTokTitle) &&
        t.end - t.begin >= 4 &&
        !(f & (kLexStop | kLexState | kLexMonth | kLexWeekday | kLexFacility | kLexUniversity |
               kLexTitle | kLexRelation | kLexCredential)) &&
        (!(f & kLexClinical) || (f & kLexProperVocab)) &&
        !std::binary_search(eponyms_.begin(), eponyms_.end(), t.hash) &&
        !DecimalNext(text_, tk_, i)) {
      static const uint64_t kVia = Lexicon::Hash("via"), kInto = Lexicon::Hash("into"),
                            kOf = Lexicon::Hash("of");
      const uint64_t ph = tk_[i - 1].hash;
      const bool next_capital =
          i + 1 < n_ && tk_[i + 1].IsAlphaWord() && (tk_[i + 1].flags & (kTokTitle | kTokUpper)) &&
          LinkGap(text_, t, tk_[i + 1], false) && !NewlineBetween(text_, t, tk_[i + 1]);
      if (ph != kVia && ph != kInto && ph != kOf && !next_capital &&
          LinkGap(text_, tk_[i - 1], t, false)) {
        loc_[i] = 1;
      }
    }
    // Where a patient came from, named by capitalised words and no facility
    // word, in mixed-case text: "transferred from Mercy Ridge s/p MI",
    // "arrived from Riverbend tonight".
    if (mixed_ && i >= 2 && (t.flags & kTokTitle) && tk_[i - 1].hash == kFromHash &&
        LinkGap(text_, tk_[i - 1], t, false) && LinkGap(text_, tk_[i - 2], tk_[i - 1], false) &&
        !NewlineBetween(text_, tk_[i - 2], t)) {
      static const uint64_t kCameFrom[] = {Lexicon::Hash("transferred"), Lexicon::Hash("transfer"),
                                           Lexicon::Hash("admitted"), Lexicon::Hash("arrived"),
                                           Lexicon::Hash("came")};
      bool came = false;
      for (uint64_t h : kCameFrom) came = came || tk_[i - 2].hash == h;
      size_t k = i;
      while (came && k < n_ && k < i + 3) {
        const Token& u = tk_[k];
        const uint32_t uf = u.lf();
        if (!u.IsAlphaWord() || !(u.flags & kTokTitle) || u.end - u.begin < 3 ||
            (uf & (kLexNeverAName | kLexFacility | kLexState)) ||
            ((uf & kLexClinical) && !(uf & kLexProperVocab)) ||
            (u.lex == nullptr && LooksClinicalAt(k))) {
          break;
        }
        if (k > i && (u.begin - tk_[k - 1].end != 1 || text_[tk_[k - 1].end] != ' ')) break;
        ++k;
      }
      const bool facility_next = k < n_ && (tk_[k].lf() & kLexFacility) &&
                                 LinkGap(text_, tk_[k - 1], tk_[k], false) &&
                                 !NewlineBetween(text_, tk_[k - 1], tk_[k]);
      if (came && k > i && !facility_next) {
        for (size_t j = i; j < k; ++j) loc_[j] = 2;
      }
    }
    // Facility names: words before "Hospital", "Medical Center", "Nursing Home"...
    if ((f & kLexFacility) && i > 0 && Capitalised(t)) {
      // "home" and "living" end a facility name only as "nursing home", "assisted living".
      const bool weak_head = (f & kLexWeakHead) && !(tk_[i - 1].lf() & kLexFacility);
      const bool head = (f & kLexFacilityHead) != 0 && !weak_head;
      if (head) {
        size_t k = i;
        int taken = 0;
        while (k > 0 && taken < 3) {
          const Token& p = tk_[k - 1];
          // Not over a parenthesis or a comma ("Dr. STEVENS (Bayview Medical
          // Group)", "D. Blanchett, M.D. (Scottsboro Memorial"), not a title or credential.
          if (!NameGap(text_, p, tk_[k], false)) break;
          const uint32_t pf = p.lf();
          if (!p.IsAlphaWord() || !Capitalised(p) || (pf & (kLexTitle | kLexCredential))) break;
          // "Memorial" in "Memorial Hospital", "Family" in "Family Practice": part of the name.
          if ((pf & kLexFacility) && !(pf & kLexLocPrep)) {
            --k;
            continue;
          }
          if ((pf & (kLexStop | kLexLocPrep)) && !(p.end - p.begin <= 3 && (p.flags & kTokPeriod)))
            break;
          if ((pf & kLexCommon) && !(pf & (kLexFirstName | kLexSurname | kLexCity)) && !mixed_)
            break;
          // Clinical shorthand is no facility name ("CON'T REHAB", "Cardic Rehab").
          if (p.lex == nullptr && LooksClinicalAt(k - 1)) break;
          --k;
          ++taken;
        }
        // Before a weak head ("facility", "home", "living") the name holds a
        // proper word, not only generic ones ("assisted living facility").
        bool proper = !(f & kLexWeakHead);
        for (size_t j = k; j < i; ++j) {
          const uint32_t jf = tk_[j].lf();
          proper = proper || !(jf & (kLexFacility | kLexCommon | kLexClinical | kLexStop)) ||
                   (jf & (kLexCity | kLexCityStart | kLexSaint)) ||
                   ((jf & (kLexFirstName | kLexSurname)) && !(jf & kLexFacility));
        }
        for (size_t j = k; proper && j < i; ++j) loc_[j] = 2;
      }
    }
    // "University of X", "U of X", "U Maryland".
    {
      if ((f & kLexUniversity) && i + 1 < n_ && LinkGap(text_, t, tk_[i + 1], false) &&
          t.end < text_.size() && text_[t.end] == ' ') {
        size_t k = i + 1;
        if (k < n_ && k + 1 < n_ && text_.substr(tk_[k].begin, 2) != "" &&
            (tk_[k].lf() & kLexLocPrep) && tk_[k].end - tk_[k].begin == 2) {
          ++k;
        }
        // Written in lower case ("university of iowa hospital"), the place
        // needs a facility word after it.
        const bool cased = Capitalised(t) && k < n_ && Capitalised(tk_[k]);
        const bool facility_next =
            k + 1 < n_ && t.end - t.begin >= 4 && (tk_[k + 1].lf() & kLexFacility) &&
            LinkGap(text_, tk_[k], tk_[k + 1], false) && !NewlineBetween(text_, tk_[k], tk_[k + 1]);
        if (k < n_ && tk_[k].end - tk_[k].begin >= 2 && tk_[k].IsAlphaWord() &&
            (tk_[k].lf() & (kLexState | kLexCity | kLexCityStart)) && (cased || facility_next)) {
          for (size_t j = i; j <= k; ++j) loc_[j] = 2;
        }
      }
      // "St. Mary's", "Saint Agnes": a saint's name is a facility.
      if ((f & kLexSaint) && i + 1 < n_ && Capitalised(tk_[i + 1]) &&
          (tk_[i + 1].lf() & kLexFirstName) && LinkGap(text_, t, tk_[i + 1], false) &&
          (i == 0 || !(tk_[i - 1].flags & kTokDigit))) {
        loc_[i] = 2;
        loc_[i + 1] = 2;
      }
    }
    // Acronym facilities after a location preposition: "to NRH", "at KMC";
    // after "leave" ("would need to leave NRH"); in lower case after "at",
    // "to", "from" in mixed-case text ("had surgery at nrh").
    const bool prev_the_by =
        i > 0 && (text_.substr(tk_[i - 1].begin, tk_[i - 1].end - tk_[i - 1].begin).size() <= 3) &&
        (tk_[i - 1].lf() & kLexStop) && !(tk_[i - 1].flags & kTokDigit);
    static const uint64_t kLeave = Lexicon::Hash("leave"), kLeaving = Lexicon::Hash("leaving"),
                          kAt = Lexicon::Hash("at"), kToPlace = Lexicon::Hash("to"),
                          kFromPlace = Lexicon::Hash("from");
    const bool prev_leave = i > 0 && (tk_[i - 1].hash == kLeave || tk_[i - 1].hash == kLeaving) &&
                            LinkGap(text_, tk_[i - 1], t, false);
    const bool lower_acronym =
        mixed_ && (t.flags & kTokLower) && t.IsAlphaWord() && t.end - t.begin <= 3 && i > 0 &&
        (tk_[i - 1].hash == kAt || tk_[i - 1].hash == kToPlace || tk_[i - 1].hash == kFromPlace) &&
        LinkGap(text_, tk_[i - 1], t, false);
    if ((prev_prep || prev_the_by || prev_leave) && t.lex == nullptr && t.end - t.begin >= 2 &&
        t.end - t.begin <= 5 && (t.flags & kTokUpper || !mixed_ || lower_acronym)) {
      const char last =
          static_cast<char>(std::tolower(static_cast<unsigned char>(text_[t.end - 1])));
      const char before_last =
          static_cast<char>(std::tolower(static_cast<unsigned char>(text_[t.end - 2])));
      const bool ends_h = last == 'h';
      const bool ends_mc = t.end - t.begin >= 3 && last == 'c' && before_last == 'm';
      if ((ends_h || ends_mc) && !DecimalNext(text_, tk_, i)) loc_[i] = 2;  // not "and PH 7.39"
    }
    // Mixed-case prose: an all-caps unknown word (or rare listed name) after
    // "in", "to", "from" ("based in VARLEBY", "flew to KESTRUP") is a place.
    // Not after "via"/"into", nor "of" after a lower-case word ("unit of PRBC",
    // but "University of HALMVIK"); not before a decimal.
    static const uint64_t kOf = Lexicon::Hash("of"), kVia = Lexicon::Hash("via"),
                          kInto = Lexicon::Hash("into");
    const bool place_prep =
        prev_prep && tk_[i - 1].hash != kVia && tk_[i - 1].hash != kInto &&
        (tk_[i - 1].hash != kOf || (i >= 2 && (tk_[i - 2].flags & (kTokTitle | kTokUpper)))) &&
        !DecimalNext(text_, tk_, i);
    if (mixed_ && place_prep && (t.flags & kTokUpper) && t.end - t.begin >= 4 &&
        (t.lex == nullptr || (f & kLexCity) ||
         std::max(t.lex->first_weight, t.lex->last_weight) < 0.3f) &&
        !(f & (kLexCommon | kLexClinical | kLexState | kLexStop)) && !LooksClinicalAt(i)) {
      loc_[i] = 1;
    }
    // A town's name cut short ("in Phila", "from Indpls"): a capitalised word
    // no list holds that begins a listed town, alone after a place
    // preposition in mixed-case text.
    if (mixed_ && place_prep && (t.flags & kTokTitle) && t.lex == nullptr && t.IsAlphaWord() &&
        t.end - t.begin >= 4 && LinkGap(text_, tk_[i - 1], t, false) &&
        !(i + 1 < n_ && tk_[i + 1].IsAlphaWord() && (tk_[i + 1].flags & (kTokTitle | kTokUpper)) &&
          LinkGap(text_, t, tk_[i + 1], false) && !NewlineBetween(text_, t, tk_[i + 1]))) {
      std::string& w = ctx_.lower;
      w.assign(text_.substr(t.begin, t.end - t.begin));
      AsciiLower(w);
      if (lexicon_->IsCityPrefix(w)) loc_[i] = 1;
    }
    // An employer named by its acronym after a job title: "CEO of ZNT",
    // "director at KWX" (an acronym no list holds).
    if (i >= 2 && (t.flags & kTokUpper) && t.IsAlphaWord() && t.lex == nullptr &&
        t.end - t.begin >= 2 && t.end - t.begin <= 5 && LinkGap(text_, tk_[i - 1], t, false) &&
        LinkGap(text_, tk_[i - 2], tk_[i - 1], false) && !NewlineBetween(text_, tk_[i - 2], t)) {
      static const uint64_t kJobs[] = {
          Lexicon::Hash("ceo"),     Lexicon::Hash("cfo"),       Lexicon::Hash("coo"),
          Lexicon::Hash("cto"),     Lexicon::Hash("president"), Lexicon::Hash("chairman"),
          Lexicon::Hash("founder"), Lexicon::Hash("owner"),     Lexicon::Hash("director"),
          Lexicon::Hash("manager"), Lexicon::Hash("employee"),  Lexicon::Hash("vp")};
      static const uint64_t kOfJob = Lexicon::Hash("of"), kAtJob = Lexicon::Hash("at"),
                            kForJob = Lexicon::Hash("for");
      const uint64_t ph = tk_[i - 1].hash;
      bool job = false;
      for (uint64_t h : kJobs) job = job || tk_[i - 2].hash == h;
      if (job && (ph == kOfJob || ph == kAtJob || ph == kForJob)) loc_[i] = 3;
    }
    // Wards and units named after places: "to Linthicum 2".
    const bool ward_ctx = i > 0 && (prev_prep || (tk_[i - 1].lf() & kLexWardCue));
    if (ward_ctx && i + 1 < n_ && t.lex == nullptr && t.IsAlphaWord() && Capitalised(t) &&
        t.end - t.begin >= 5 && (tk_[i + 1].flags & kTokDigit) && !(tk_[i + 1].flags & kTokAlpha) &&
        tk_[i + 1].end - tk_[i + 1].begin <= 2 && LinkGap(text_, t, tk_[i + 1], false) &&
        !LooksClinicalAt(i)) {  // "to recieve 1 bag"
      loc_[i] = 3;
    }
    // Town services: "Per Bowie PD officer", "EMS from Branch Fire": the town before them.
    if (i > 0 && (t.flags & (kTokUpper | kTokTitle)) && t.end - t.begin <= 9) {
      static const uint64_t kServices[] = {Lexicon::Hash("pd"), Lexicon::Hash("police"),
                                           Lexicon::Hash("fire"), Lexicon::Hash("ambulance"),
                                           Lexicon::Hash("sheriff")};
      bool service = false;
      for (uint64_t h : kServices) service = service || t.hash == h;
      const Token& p = tk_[i - 1];
      if (service && p.IsAlphaWord() && (p.flags & (kTokUpper | kTokTitle)) &&
          !(p.lf() & (kLexStop | kLexLocPrep | kLexTitle | kLexMonth)) &&
          LinkGap(text_, p, t, false) && !NewlineBetween(text_, p, t) && p.end - p.begin >= 3) {
        loc_[i - 1] = 1;
      }
    }
    // Counties and parishes: "Marion County", "Palm Beach County", "SUFFOLK COUNTY".
    if (i > 0 && t.end - t.begin == 6 && Capitalised(t) &&
        (absl::EqualsIgnoreCase(ToAbsl(text_.substr(t.begin, 6)), "county") ||
         absl::EqualsIgnoreCase(ToAbsl(text_.substr(t.begin, 6)), "parish"))) {
      size_t k = i;
      while (k > 0 && i - k < 3) {
        const Token& p = tk_[k - 1];
        if (!p.IsAlphaWord() || !Capitalised(p) || (p.lf() & (kLexStop | kLexLocPrep)) ||
            !NameGap(text_, p, tk_[k], false)) {
          break;
        }
        --k;
      }
      if (k < i) {
        for (size_t j = k; j <= i; ++j) loc_[j] = 1;
      }
    }
    // Neighbourhoods: "in the Ashford Estates area", and in prose "near Cherry Hill Plaza".
    // In capitals too ("IN THE WALNUT VILLAGE AREA OF PURLING"); the town after "area of".
    if (t.end - t.begin == 4 && i >= 2 && (t.flags & (kTokLower | kTokUpper)) &&
        absl::EqualsIgnoreCase(ToAbsl(text_.substr(t.begin, 4)), "area")) {
      size_t k = i;
      while (k > 0 && i - k < 3 && tk_[k - 1].IsAlphaWord() && Capitalised(tk_[k - 1]) &&
             !(tk_[k - 1].lf() & (kLexStop | kLexLocPrep)) &&
             NameGap(text_, tk_[k - 1], tk_[k], false)) {
        --k;
      }
      // "AREA" in capitals only in a phrase all in capitals ("IN THE X AREA").
      if (k < i && k > 0 &&
          (!(t.flags & kTokUpper) || doc_ == DocCase::kUpper || (tk_[k - 1].flags & kTokUpper)) &&
          absl::EqualsIgnoreCase(
              ToAbsl(text_.substr(tk_[k - 1].begin, tk_[k - 1].end - tk_[k - 1].begin)), "the")) {
        // Where case says nothing (an all-lower or all-caps note or phrase)
        // the name ends in a neighbourhood word or holds a word no list
        // holds or a town ("in the groin area of right leg", "IN THE
        // WAITING AREA" are none).
        bool cased = mixed_;
        for (size_t j = k; j < i; ++j) cased = cased && (tk_[j].flags & kTokTitle);
        bool proper = cased || IsNeighbourhoodWord(tk_[i - 1].hash);
        for (size_t j = k; !proper && j < i; ++j) {
          proper = (tk_[j].lex == nullptr && !LooksClinicalAt(j)) || (tk_[j].lf() & kLexCity);
        }
        if (proper) {
          for (size_t j = k; j < i; ++j) loc_[j] = 3;
        }
        if (proper && i + 2 < n_ && tk_[i + 1].hash == kOf &&
            LinkGap(text_, t, tk_[i + 1], false) && !NewlineBetween(text_, t, tk_[i + 1])) {
          for (size_t j = i + 2; j < n_ && j < i + 4; ++j) {
            const Token& u = tk_[j];
            const uint32_t uf = u.lf();
            if (!u.IsAlphaWord() || !Capitalised(u) || (uf & (kLexStop | kLexLocPrep)) ||
                !NameGap(text_, tk_[j - 1], u, false) ||
                (!cased && (uf & (kLexCommon | kLexClinical)) && !(uf & kLexCity))) {
              break;
            }
            loc_[j] = 3;
          }
        }
      }
    }
    if (mixed_ && i > 0 && (t.flags & kTokTitle) && t.IsAlphaWord() &&
        !(f & (kLexStop | kLexTitle | kLexMonth | kLexWeekday | kLexState)) &&
        tk_[i - 1].end - tk_[i - 1].begin == 4 && (tk_[i - 1].flags & kTokLower) &&
        absl::EqualsIgnoreCase(ToAbsl(text_.substr(tk_[i - 1].begin, 4)), "near")) {
      for (size_t k = i; k < n_ && k < i + 3; ++k) {
        const Token& u = tk_[k];
        if (!u.IsAlphaWord() || !(u.flags & kTokTitle) || (u.lf() & (kLexStop | kLexTitle))) break;
        if (k > i &&
            (!LinkGap(text_, tk_[k - 1], u, false) || NewlineBetween(text_, tk_[k - 1], u)))
          break;
        loc_[k] = 3;
      }
    }
    // Regions named by a compass word and a coast: "the Western Shore", "the
    // North Shore", "the West Coast" (mixed case, both capitalised).
    if (mixed_ && i + 1 < n_ && (t.flags & kTokTitle) && (tk_[i + 1].flags & kTokTitle) &&
        tk_[i + 1].begin - t.end == 1 && text_[t.end] == ' ') {
      static const uint64_t kCompass[] = {Lexicon::Hash("north"),    Lexicon::Hash("south"),
                                          Lexicon::Hash("east"),     Lexicon::Hash("west"),
                                          Lexicon::Hash("northern"), Lexicon::Hash("southern"),
                                          Lexicon::Hash("eastern"),  Lexicon::Hash("western"),
                                          Lexicon::Hash("upper"),    Lexicon::Hash("lower")};
      static const uint64_t kCoast[] = {Lexicon::Hash("shore"), Lexicon::Hash("coast"),
                                        Lexicon::Hash("shores"), Lexicon::Hash("peninsula")};
      bool compass = false, coast = false;
      for (uint64_t h : kCompass) compass = compass || t.hash == h;
      for (uint64_t h : kCoast) coast = coast || tk_[i + 1].hash == h;
      if (compass && coast) {
        loc_[i] = 3;
        loc_[i + 1] = 3;
      }
    }
    // A town of the list of several words in lower case after "in", "from",
    // "near" in a note that capitalises: "driving in from rapid city", "Rehab in
    // south jordan".
    // The town of the list a lower-case word starts in a note that
    // capitalises (for the three rules below), looked up once.
    const bool lower_word = (t.flags & kTokLower) && !Capitalised(t);
    const size_t lower_town =
        lower_word && (f & (kLexCity | kLexCityStart)) ? LowerCaseTownAt(i) : kNoTown;
    if (prev_prep && lower_town != kNoTown && lower_town > i &&
        LinkGap(text_, tk_[i - 1], t, false)) {
      for (size_t k = i; k <= lower_town; ++k) loc_[k] = 1;
      i = lower_town;
      continue;
    }
    // A town of the list in lower case before its police or fire service, in
    // a note that capitalises: "Per college park PD officer", "EMS from sand
    // point Fire reports" — there a town's later word may be a clinical one
    // ("point"), looked up again only when the plain lookup is not before one.
    if (lower_word && (f & (kLexCity | kLexCityStart))) {
      static const uint64_t kPd = Lexicon::Hash("pd"), kPolice = Lexicon::Hash("police"),
                            kFire = Lexicon::Hash("fire"), kSheriff = Lexicon::Hash("sheriff");
      auto service = [&](size_t k) {
        const uint64_t h = tk_[k].hash;
        return h == kPd || h == kPolice || h == kFire || h == kSheriff;
      };
      auto before_service = [&](size_t last) {
        return last != kNoTown && last + 1 < n_ && service(last + 1) &&
               tk_[last + 1].begin == tk_[last].end + 1 && text_[tk_[last].end] == ' ';
      };
      size_t town = before_service(lower_town) ? lower_town : kNoTown;
      // Looked up again with vocabulary words only when a service word is near.
      for (size_t k = i + 1; town == kNoTown && k < n_ && k <= i + 4; ++k) {
        if (!service(k)) continue;
        const size_t with_vocabulary = LowerCaseTownAt(i, /*vocabulary=*/true);
        if (before_service(with_vocabulary)) town = with_vocabulary;
        break;
      }
      if (town != kNoTown) {
        for (size_t k = i; k <= town; ++k) loc_[k] = 1;
        i = town;
        continue;
      }
    }
    // "lives in X", "lives alone in X", "resides at X".
    for (size_t back = 2; prev_prep && back <= 3 && i >= back; ++back) {
      if (tk_[i - back].lf() & kLexResideVerb) {
        // In lower case in a note that capitalises (in an all-lower-case
        // note every word is "capitalised"), only a town of the list:
        // "Lives in red bluff", "moved to springfield" (not "in comfort").
        if (lower_word) {
          for (size_t k = i; lower_town != kNoTown && k <= lower_town; ++k) loc_[k] = 1;
          break;
        }
        for (size_t k = i; k < n_ && k < i + 3; ++k) {
          const Token& u = tk_[k];
          if (!u.IsAlphaWord() || (u.lf() & (kLexStop | kLexState)) || !Capitalised(u)) break;
          if (k > i &&
              (!LinkGap(text_, tk_[k - 1], u, false) || NewlineBetween(text_, tk_[k - 1], u)))
            break;
          loc_[k] = 1;
        }
        break;
      }
    }
  }
}

// The last token of a town of the list written in lower case from token i
// ("red bluff", "springfield"), the longest of up to four words, or kNoTown.
// A town of one word is no common, clinical or calendar word ("comfort"); one
// of several holds no facility or clinical word ("halfway house").
size_t TokenRules::LowerCaseTownAt(size_t i, bool vocabulary) const {
  const Token& t = tk_[i];
  size_t best = kNoTown;
  if (t.lf() & kLexCityStart) {
    std::string& phrase = ctx_.lower;
    phrase.assign(text_.substr(t.begin, t.end - t.begin));
    for (size_t k = i + 1; k < n_ && k < i + 4; ++k) {
      const Token& u = tk_[k];
      if (!u.IsAlphaWord() || !(u.flags & kTokLower) || u.begin != tk_[k - 1].end + 1 ||
          text_[tk_[k - 1].end] != ' ') {
        break;
      }
      // Not a facility's or a ward's word: "lives in halfway house".
      if (!vocabulary && (u.lf() & (kLexFacility | kLexClinical))) break;
      phrase += ' ';
      phrase.append(text_.substr(u.begin, u.end - u.begin));
      if (lexicon_->IsMultiWordCity(phrase)) best = k;
    }
  }
  const uint32_t f = t.lf();
  if (best == kNoTown && (f & kLexCity) && t.end - t.begin >= 4 &&
      !(f & (kLexCommon | kLexStop | kLexState | kLexMonth | kLexWeekday | kLexClinical |
             kLexFacility | kLexTitle | kLexRelation | kLexCredential))) {
    best = i;
  }
  return best;
}

// Document-level consistency for places: a word confirmed as a place once is
// a place everywhere in the note.
void TokenRules::PlaceConsistency() {
  std::vector<uint64_t>& places = ctx_.hashes;
  places.clear();
  for (size_t i = 0; i < n_; ++i) {
    if (loc_[i] != 0 && tk_[i].IsAlphaWord() && tk_[i].end - tk_[i].begin >= 4 &&
        !(tk_[i].lf() & (kLexCommon | kLexFacility | kLexStop | kLexClinical))) {
      places.push_back(tk_[i].hash);
    }
    // An acronym facility ("to NRH") is that facility wherever the note names it.
    if (loc_[i] == 2 && tk_[i].lex == nullptr && (tk_[i].flags & kTokUpper) &&
        tk_[i].IsAlphaWord() && tk_[i].end - tk_[i].begin >= 2 && tk_[i].end - tk_[i].begin <= 5) {
      places.push_back(tk_[i].hash);
    }
  }
  if (!places.empty()) {
    std::sort(places.begin(), places.end());
    const HashFilter filter(places, ctx_.filter_bits);
    for (size_t i = 0; i < n_; ++i) {
      if (loc_[i] != 0) continue;
      const Token& t = tk_[i];
      uint64_t h = t.hash;
      if (!t.IsAlphaWord()) {
        // The place's name with a unit number fused on: "LINTHICUM3" where
        // "Linthicum 3" is a place of this note.
        if ((t.flags & (kTokAlpha | kTokDigit)) != (kTokAlpha | kTokDigit)) continue;
        size_t d = t.end;
        while (d > t.begin && std::isdigit(static_cast<unsigned char>(text_[d - 1]))) --d;
        if (t.end - d > 2 || d - t.begin < 4) continue;
        bool alpha = true;
        for (size_t k = t.begin; alpha && k < d; ++k) {
          alpha = std::isalpha(static_cast<unsigned char>(text_[k])) != 0;
        }
        if (!alpha) continue;
        std::string& w = ctx_.lower;
        w.assign(text_.substr(t.begin, d - t.begin));
        AsciiLower(w);
        h = Lexicon::Hash(w);
      }
      if (!filter.MayContain(h)) continue;
      if (std::binary_search(places.begin(), places.end(), h)) loc_[i] = 3;
    }
  }
}

// "Memorial" and "Regional" after a place name the facility by themselves:
// "works at Brennock Memorial", "taken to TAMSIN REGIONAL where".
void TokenRules::FacilityAfterPlace() {
  static const uint64_t kMemorial = Lexicon::Hash("memorial"),
                        kRegional = Lexicon::Hash("regional");
  for (size_t i = 0; i + 1 < n_; ++i) {
    const Token& q = tk_[i + 1];
    if (loc_[i] == 0 || loc_[i + 1] != 0 || (q.hash != kMemorial && q.hash != kRegional)) continue;
    if (q.begin - tk_[i].end != 1 || text_[tk_[i].end] != ' ') continue;
    loc_[i + 1] = 2;
  }
  // "Mercy Hospital of Dublin", "MERCY HOSPITAL OF ANACONDA": the place after a
  // named facility's "Hospital of" is part of its name (in an all-lower-case
  // note only a word no vocabulary holds: "mercy hospital of choice").
  static const uint64_t kOf = Lexicon::Hash("of");
  for (size_t i = 0; i + 3 < n_; ++i) {
    const Token& h = tk_[i + 1];
    const Token& u = tk_[i + 3];
    if (loc_[i] == 0 || loc_[i + 3] != 0 || !(h.lf() & kLexFacility) || tk_[i + 2].hash != kOf ||
        !u.IsAlphaWord() || !Capitalised(u) || u.end - u.begin < 3 ||
        (u.lf() & (kLexStop | kLexMonth | kLexWeekday | kLexTitle | kLexRelation)) ||
        (doc_ == DocCase::kLower && (u.lf() & (kLexCommon | kLexClinical)))) {
      continue;
    }
    // One space before "Hospital" ("Mercy, Hospital of" is no name), one line.
    if (h.begin != tk_[i].end + 1 || text_[tk_[i].end] != ' ' || NewlineBetween(text_, tk_[i], u)) {
      continue;
    }
    loc_[i + 3] = 2;
  }
}

// An initial fused to the word before it by a hyphen, before a confirmed
// name ("HEPARIN-K. VOSS AWARE"): telegraphic punctuation, the letter is the
// person's initial.
void TokenRules::FusedInitials() {
  for (size_t i = 1; i < n_; ++i) {
    const Token& u = tk_[i - 1];
    if (name_[i] < 0.5f || !u.IsAlphaWord() || u.end - u.begin < 4 || !(u.flags & kTokPeriod) ||
        tk_[i].begin != u.end + 2 || text_[u.end + 1] != ' ' || text_[u.end - 2] != '-' ||
        !std::isupper(static_cast<unsigned char>(text_[u.end - 1])) || !Capitalised(tk_[i])) {
      continue;
    }
    out_->push_back(Finding{PhiCategory::kName, u.end - 1, u.end, 0.55f, "name_rules"});
  }
}

// Payers, vehicle makes and clinical scales (lexicon.h, NonPhiPhrases()) are
// neither names nor places, whatever the rules above made of their words:
// "ins Kaiser Permanente", "Vehicle: Honda Civic", "GLASGOW COMA SCALE 14".
// Not after a title, a relation or a name ("Dr. Honda", "MOTHER KIA IN",
// "Kenji Honda"); the kAfterCue ones only after an insurance or vehicle word.
void TokenRules::NonPhiPhrases() {
  struct Compiled {
    std::vector<uint64_t> words;
    NonPhiPhrase::Kind kind;
    bool make;
  };
  static const std::vector<Compiled> kPhrases = [] {
    std::vector<Compiled> v;
    for (const NonPhiPhrase& p : detect::NonPhiPhrases()) {
      Compiled c{{}, p.kind, p.make};
      for (absl::string_view w : absl::StrSplit(ToAbsl(p.words), ' ')) {
        c.words.push_back(Lexicon::Hash(std::string_view(w.data(), w.size())));
      }
      v.push_back(std::move(c));
    }
    // Longest first, so "blue cross blue shield" wins over "blue cross".
    std::stable_sort(v.begin(), v.end(), [](const Compiled& a, const Compiled& b) {
      return a.words.size() > b.words.size();
    });
    return v;
  }();
  static const uint64_t kCues[] = {
      Lexicon::Hash("ins"),     Lexicon::Hash("insurance"), Lexicon::Hash("insurer"),
      Lexicon::Hash("payer"),   Lexicon::Hash("coverage"),  Lexicon::Hash("plan"),
      Lexicon::Hash("vehicle"), Lexicon::Hash("car"),       Lexicon::Hash("truck"),
      Lexicon::Hash("drives"),  Lexicon::Hash("drove"),     Lexicon::Hash("driving"),
      Lexicon::Hash("permit")};
  for (size_t i = 0; i < n_; ++i) {
    if (!(tk_[i].lf() & kLexPhraseStart)) continue;
    if (i > 0 && ((tk_[i - 1].lf() & (kLexTitle | kLexRelation)) || name_[i - 1] >= 0.5f) &&
        !NewlineBetween(text_, tk_[i - 1], tk_[i])) {
      continue;
    }
    for (const Compiled& p : kPhrases) {
      const size_t len = p.words.size();
      if (i + len > n_) continue;
      bool match = true;
      for (size_t k = 0; k < len && match; ++k) {
        match = tk_[i + k].hash == p.words[k] &&
                (k == 0 ||
                 (tk_[i + k].begin == tk_[i + k - 1].end + 1 && text_[tk_[i + k - 1].end] == ' '));
      }
      if (!match) continue;
      if (p.kind == NonPhiPhrase::kAfterCue) {
        bool cue = false;
        for (size_t k = i; k > 0 && k + 3 > i && !cue; --k) {
          if (NewlineBetween(text_, tk_[k - 1], tk_[i])) break;
          for (uint64_t h : kCues) cue = cue || tk_[k - 1].hash == h;
        }
        if (!cue) break;
      }
      size_t end = i + len;
      // The model after a make, one word: "Camry", "F-150".
      if (p.make && end < n_ && tk_[end].begin == tk_[end - 1].end + 1 &&
          (Capitalised(tk_[end]) || (tk_[end].flags & kTokDigit))) {
        ++end;
      }
      for (size_t j = i; j < end; ++j) {
        name_[j] = 0;
        loc_[j] = 0;
      }
      i = end - 1;
      break;
    }
  }
}

// Emit: names, then locations (the resolver merges adjacent same-category spans).
void TokenRules::Emit() {
  for (size_t i = 0; i < n_; ++i) {
    // A field label is neither a name nor a place ("Preferred:", "Signed:",
    // "Vehicle:", "Location:"): a vocabulary word no name or place list holds,
    // right before a colon, and no title before it ("Dr. Brown:" stays).
    {
      const Token& t = tk_[i];
      const uint32_t f = t.lf();
      if (t.end < text_.size() && text_[t.end] == ':' && t.IsAlphaWord() &&
          (f & (kLexCommon | kLexClinical)) &&
          !(f & (kLexFirstName | kLexSurname | kLexCity | kLexCityStart | kLexState)) &&
          !(i > 0 && (tk_[i - 1].lf() & kLexTitle))) {
        continue;
      }
    }
    // A device eponym of this note is neither a place nor, without a title, a person.
    if (!eponyms_.empty() && name_[i] < 0.7f &&
        std::binary_search(eponyms_.begin(), eponyms_.end(), tk_[i].hash)) {
      continue;
    }
    // A city-list word inside a person's name ("Dr. Ansel Marion", "Greta
    // Orlando") is the name: a name next to it or a title before it decides.
    const bool name_ctx =
        name_[i] >= 0.6f && ((i > 0 && (name_[i - 1] >= 0.5f || (tk_[i - 1].lf() & kLexTitle))) ||
                             (i + 1 < n_ && name_[i + 1] >= 0.5f));
    if (loc_[i] != 0 && field_name_[i] != 1 && !(loc_[i] == 1 && name_ctx)) {
      const PhiCategory c = loc_[i] == 1   ? PhiCategory::kCity
                            : loc_[i] == 2 ? PhiCategory::kFacility
                                           : PhiCategory::kLocation;
      out_->push_back(Finding{c, tk_[i].begin, tk_[i].end, 0.6f, "location_rules"});
      continue;
    }
    if (name_[i] >= 0.5f && field_name_[i] != 2) {
      // A hyphen that joins a word to a name is telegraphic punctuation, not
      // a double-barrelled name ("Dr. Halvorsen-thinking", "daughter
      // phoned-family", "NEW S.L. STARTED-TRAUMA"): only the first part can
      // be a name, and only when it is no vocabulary word.
      uint32_t end = tk_[i].end;
      if (!HyphenJoinsWord(text_, tk_[i], doc_, &end)) continue;
      out_->push_back(
          Finding{PhiCategory::kName, tk_[i].begin, end, std::min(name_[i], 0.99f), "name_rules"});
    }
  }
}

void RuleEngine::RunTokenRules(std::string_view text, EngineContext& ctx, Findings* out) const {
  Tokenize(text, ctx);
  if (ctx.tokens.empty()) return;
  TokenRules(*this, text, ctx).Run(out);
}

}  // namespace phigate::detect::internal
