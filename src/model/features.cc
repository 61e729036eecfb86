#include "phigate/model/features.h"

#include <algorithm>
#include <array>
#include <cstdint>
#include <fstream>
#include <string>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"

namespace phigate::model {
namespace {

// Byte classes of the tokenizer: 0 = separator, 1 = word byte, 2 = punctuation.
constexpr std::array<uint8_t, 256> MakeByteClass() {
  std::array<uint8_t, 256> c{};
  for (int b = 0; b < 256; ++b) {
    if (b >= 0x80 || (b >= '0' && b <= '9') || (b >= 'a' && b <= 'z') || (b >= 'A' && b <= 'Z')) {
      c[static_cast<size_t>(b)] = 1;
    } else if (b > 0x20 && b < 0x7f) {
      c[static_cast<size_t>(b)] = 2;
    } else {
      c[static_cast<size_t>(b)] = 0;  // space, controls (NUL, \n, \t), DEL
    }
  }
  return c;
}
constexpr std::array<uint8_t, 256> kByteClass = MakeByteClass();

inline uint8_t Lower(uint8_t b) {
  return (b >= 'A' && b <= 'Z') ? static_cast<uint8_t>(b + 32) : b;
}

inline char ShapeChar(uint8_t b) {
  if (b >= 'A' && b <= 'Z') return 'X';
  if (b >= 'a' && b <= 'z') return 'x';
  if (b >= '0' && b <= '9') return 'd';
  if (b >= 0x80) return 'u';
  return static_cast<char>(b);
}

constexpr uint64_t kFnvOffset = 14695981039346656037ull;
constexpr uint64_t kFnvPrime = 1099511628211ull;

inline uint64_t Fmix64(uint64_t k) {
  k ^= k >> 33;
  k *= 0xff51afd7ed558ccdull;
  k ^= k >> 33;
  k *= 0xc4ceb9fe1a85ec53ull;
  k ^= k >> 33;
  return k;
}

inline uint64_t Combine(uint64_t a, uint64_t b) { return Fmix64(a * 0x9E3779B97F4A7C15ull + b); }

// Shape hash: long = runs capped at 4, short = runs collapsed to 1.
uint64_t ShapeHash(std::string_view w, size_t max_run) {
  uint64_t h = kFnvOffset;
  char prev = 0;
  size_t run = 0;
  for (char ch : w) {
    const char s = ShapeChar(static_cast<uint8_t>(ch));
    run = (s == prev) ? run + 1 : 1;
    prev = s;
    if (run <= max_run) h = (h ^ static_cast<uint8_t>(s)) * kFnvPrime;
  }
  return h;
}

// Case classes.
enum Cls : uint8_t {
  kPunct = 0,
  kLowerCls,
  kTitleCls,
  kUpperCls,
  kDigitCls,
  kAlnumCls,
  kNonAsciiCls,
  kMixedCls
};

uint8_t CaseClass(std::string_view w) {
  if (w.empty()) return kPunct;
  int up = 0, lo = 0, dig = 0, hi = 0;
  for (char ch : w) {
    const auto b = static_cast<uint8_t>(ch);
    if (b >= 'A' && b <= 'Z') {
      ++up;
    } else if (b >= 'a' && b <= 'z') {
      ++lo;
    } else if (b >= '0' && b <= '9') {
      ++dig;
    } else if (b >= 0x80) {
      ++hi;
    }
  }
  if (up + lo + dig + hi == 0) return kPunct;
  if (hi > 0) return kNonAsciiCls;
  if (dig > 0) return (up + lo == 0) ? kDigitCls : kAlnumCls;
  if (up == 0) return kLowerCls;
  if (lo == 0) return kUpperCls;
  const auto first = static_cast<uint8_t>(w[0]);
  if (first >= 'A' && first <= 'Z' && up == 1) return kTitleCls;
  return kMixedCls;
}

// Numeric class of an all-digit token, or the word hash.
uint64_t NormHash(std::string_view w, uint8_t cls, uint64_t word_hash) {
  if (cls != kDigitCls) return word_hash;
  const size_t n = w.size();
  std::string_view tag;
  if (n <= 2) {
    int v = 0;
    for (char ch : w) v = v * 10 + (ch - '0');
    tag = v == 0 ? "#n0" : v <= 12 ? "#nm" : v <= 31 ? "#nd" : "#ns";
  } else if (n == 4) {
    const int v = (w[0] - '0') * 1000 + (w[1] - '0') * 100 + (w[2] - '0') * 10 + (w[3] - '0');
    tag = (v >= 1900 && v <= 2099) ? "#ny" : "#n4";
  } else {
    static constexpr std::array<std::string_view, 13> kLen = {"#l0",  "#l1",  "#l2", "#l3", "#l4",
                                                              "#l5",  "#l6",  "#l7", "#l8", "#l9",
                                                              "#l10", "#l11", "#l12"};
    tag = kLen[std::min<size_t>(n, 12)];
  }
  return HashLower(tag);
}

struct TokInfo {
  uint64_t word = 0;
  uint64_t shape = 0;
  uint64_t sshape = 0;
  uint64_t norm = 0;
  uint8_t gaz = 0;   // the low 8 GazetteerFlag bits (feature sets 1 and 2)
  uint8_t gazx = 0;  // the high bits >> 8 (extended feature sets only)
  uint8_t cls = 0;
  uint8_t flags = 0;
  bool alnum = false;
  uint32_t line_index = 0;
  size_t line_first = 0;
  // Extended feature sets only:
  uint32_t line = 0;        // line number (within the text)
  size_t last_trigger = 0;  // nearest earlier trigger word of the line, or SIZE_MAX
};

constexpr std::string_view kTriggers[] = {
    "dr",      "mr",          "mrs",       "ms",       "miss",    "md",       "rn",       "np",
    "mrn",     "dob",         "ssn",       "phone",    "tel",     "fax",      "cell",     "email",
    "pager",   "lives",       "living",    "from",     "room",    "rm",       "bed",      "age",
    "aged",    "yo",          "pt",        "patient",  "son",     "daughter", "wife",     "husband",
    "mother",  "father",      "sister",    "brother",  "friend",  "admitted", "seen",     "by",
    "called",  "spoke",       "hospital",  "clinic",   "center",  "street",   "st",       "ave",
    "avenue",  "rd",          "road",      "blvd",     "lane",    "ln",       "apt",      "suite",
    "zip",     "date",        "id",        "acct",     "account", "policy",   "member",   "npi",
    "dea",     "license",     "www",       "http",     "https",   "com",      "org",      "net",
    "edu",     "gov",         "attending", "resident", "nurse",   "name",     "named",    "contact",
    "visited", "transferred", "home",      "old",      "year",    "years",    "birthday", "born"};

// Context feature sets only (kGazFacility, kGazRole): generic English facility
// nouns and the care roles and credentials written after a clinician's name.
constexpr std::string_view kFacilityWords[] = {
    "hospital", "hospitals",  "hosp",     "clinic",    "clinics", "center",     "centre",
    "ctr",      "medical",    "memorial", "regional",  "general", "rehab",      "rehabilitation",
    "nursing",  "manor",      "hospice",  "institute", "college", "university", "infirmary",
    "health",   "healthcare", "facility", "sanitarium"};
constexpr std::string_view kRoleWords[] = {
    "rn",   "rrt", "crt", "rt",  "md",  "np",     "pa",       "ho",     "lpn",
    "cna",  "ot",  "slp", "sw",  "msw", "lcsw",   "cm",       "pharmd", "phd",
    "crna", "do",  "ns",  "nsg", "rph", "intern", "resident", "fellow", "attending"};

constexpr std::string_view kMonths[] = {
    "jan",      "january", "feb",       "february",  "mar",    "march",   "apr",
    "april",    "may",     "jun",       "june",      "jul",    "july",    "aug",
    "august",   "sep",     "sept",      "september", "oct",    "october", "nov",
    "november", "dec",     "december",  "mon",       "monday", "tue",     "tues",
    "tuesday",  "wed",     "wednesday", "thu",       "thur",   "thurs",   "thursday",
    "fri",      "friday",  "sat",       "saturday",  "sun",    "sunday"};

// Adds each word token of `entry` with `flags`.
void AddEntryWords(Gazetteer* g, std::string_view entry, uint16_t flags, bool letters_only) {
  std::vector<Token> toks;
  Tokenize(entry, &toks);
  for (const Token& t : toks) {
    std::string_view w = entry.substr(t.begin, t.end - t.begin);
    if (kByteClass[static_cast<uint8_t>(w[0])] != 1) continue;
    if (letters_only &&
        std::all_of(w.begin(), w.end(), [](char c) { return c >= '0' && c <= '9'; })) {
      continue;
    }
    g->Add(w, flags);
  }
}

std::vector<std::string_view> SplitTabs(std::string_view line) {
  std::vector<std::string_view> cols;
  size_t pos = 0;
  while (true) {
    const size_t tab = line.find('\t', pos);
    cols.push_back(
        line.substr(pos, tab == std::string_view::npos ? std::string_view::npos : tab - pos));
    if (tab == std::string_view::npos) break;
    pos = tab + 1;
  }
  return cols;
}

// Reads the lines of `path` that are not blank or '#' comments. False if the
// file cannot be opened.
bool ReadLines(const std::string& path, std::vector<std::string>* lines) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return false;
  std::string line;
  while (std::getline(in, line)) {
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (line.empty() || line[0] == '#') continue;
    lines->push_back(line);
  }
  return true;
}

// Loads a name<TAB>weight file: kind on every word, kGazFrequent on the top
// tenth by weight.
Status LoadNames(Gazetteer* g, const std::string& path, uint8_t kind, bool* found) {
  std::vector<std::string> lines;
  *found = ReadLines(path, &lines);
  if (!*found) return absl::OkStatus();
  std::vector<std::pair<std::string_view, double>> rows;
  rows.reserve(lines.size());
  for (size_t i = 0; i < lines.size(); ++i) {
    std::vector<std::string_view> cols = SplitTabs(lines[i]);
    double w = 1.0;
    if (cols.size() >= 2 && !absl::SimpleAtod(ToAbsl(cols[1]), &w)) {
      return absl::InvalidArgumentError(
          absl::StrCat("gazetteer ", path, ": bad weight on data line ", i + 1));
    }
    rows.emplace_back(cols[0], w);
  }
  std::vector<double> ws;
  ws.reserve(rows.size());
  for (const auto& r : rows) ws.push_back(r.second);
  double cut = 0.0;
  if (!ws.empty()) {
    const size_t k = ws.size() / 10;
    std::nth_element(ws.begin(), ws.begin() + static_cast<std::ptrdiff_t>(k), ws.end(),
                     std::greater<double>());
    cut = ws[k];
  }
  for (const auto& r : rows) {
    const bool frequent = rows.size() >= 10 && r.second >= cut;
    AddEntryWords(g, r.first, static_cast<uint8_t>(kind | (frequent ? kGazFrequent : 0)), true);
  }
  return absl::OkStatus();
}

}  // namespace

uint64_t HashLower(std::string_view s) {
  uint64_t h = kFnvOffset;
  for (char ch : s) h = (h ^ Lower(static_cast<uint8_t>(ch))) * kFnvPrime;
  return h;
}

void Tokenize(std::string_view text, std::vector<Token>* out) {
  out->clear();
  const size_t n = text.size();
  const auto* p = reinterpret_cast<const uint8_t*>(text.data());
  uint8_t pending = kTokenLineStart;
  size_t i = 0;
  while (i < n) {
    const uint8_t c = kByteClass[p[i]];
    if (c == 0) {
      if (p[i] == '\n') pending |= kTokenLineStart;
      pending |= kTokenSpaceBefore;
      ++i;
      continue;
    }
    Token t;
    t.begin = i;
    t.flags = pending;
    pending = 0;
    if (c == 2) {
      ++i;
    } else {
      while (i < n && kByteClass[p[i]] == 1) ++i;
    }
    t.end = i;
    out->push_back(t);
  }
}

std::string WordShape(std::string_view word) {
  std::string s;
  char prev = 0;
  size_t run = 0;
  for (char ch : word) {
    const char c = ShapeChar(static_cast<uint8_t>(ch));
    run = (c == prev) ? run + 1 : 1;
    prev = c;
    if (run <= 4) s.push_back(c);
  }
  return s;
}

std::string ShortShape(std::string_view word) {
  std::string s;
  for (char ch : word) {
    const char c = ShapeChar(static_cast<uint8_t>(ch));
    if (s.empty() || s.back() != c) s.push_back(c);
  }
  return s;
}

Gazetteer::Gazetteer() {
  for (std::string_view w : kTriggers) Add(w, kGazTrigger);
  for (std::string_view w : kMonths) Add(w, kGazMonth);
}

void Gazetteer::Add(std::string_view word, uint16_t flags) { map_[HashLower(word)] |= flags; }

uint16_t Gazetteer::Lookup(std::string_view word) const { return LookupHash(HashLower(word)); }

Status Gazetteer::LoadDirectory(std::string_view dir, int* files_loaded, bool extended,
                                bool context) {
  if (context) {
    for (std::string_view w : kFacilityWords) Add(w, kGazFacility);
    for (std::string_view w : kRoleWords) Add(w, kGazRole);
  }
  *files_loaded = 0;
  const std::string d(dir);
  bool found = false;
  PHIGATE_RETURN_IF_ERROR(LoadNames(this, d + "/first_names.tsv", kGazFirstName, &found));
  *files_loaded += found ? 1 : 0;
  PHIGATE_RETURN_IF_ERROR(LoadNames(this, d + "/surnames.tsv", kGazSurname, &found));
  *files_loaded += found ? 1 : 0;
  std::vector<std::string> lines;
  if (ReadLines(d + "/us_cities.tsv", &lines)) {
    ++*files_loaded;
    for (const std::string& l : lines) {
      AddEntryWords(this, SplitTabs(l)[0], kGazCity, true);
    }
  }
  lines.clear();
  if (ReadLines(d + "/us_states.tsv", &lines)) {
    ++*files_loaded;
    for (const std::string& l : lines) AddEntryWords(this, l, kGazState, true);
  }
  lines.clear();
  if (ReadLines(d + "/common_words.txt", &lines)) {
    ++*files_loaded;
    for (const std::string& l : lines) AddEntryWords(this, l, kGazCommon, true);
  }
  if (!extended) return absl::OkStatus();
  lines.clear();
  if (ReadLines(d + "/medical_words.txt", &lines)) {
    ++*files_loaded;
    for (const std::string& l : lines) {
      const std::vector<std::string_view> cols = SplitTabs(l);
      const bool proper = cols.size() >= 2 && cols[1] == "proper";
      AddEntryWords(this, cols[0], proper ? kGazMedicalProper : kGazMedical, true);
    }
  }
  lines.clear();
  if (ReadLines(d + "/us_counties.tsv", &lines)) {
    ++*files_loaded;
    for (const std::string& l : lines) AddEntryWords(this, SplitTabs(l)[0], kGazCounty, true);
  }
  for (const char* f : {"/street_suffixes.tsv", "/secondary_units.tsv"}) {
    lines.clear();
    if (!ReadLines(d + f, &lines)) continue;
    ++*files_loaded;
    for (const std::string& l : lines) {
      for (std::string_view col : SplitTabs(l)) {
        // "ALLEY<TAB>ALY,ALLEE,ALLY": every spelling.
        size_t pos = 0;
        while (pos <= col.size()) {
          const size_t comma = std::min(col.find(',', pos), col.size());
          AddEntryWords(this, col.substr(pos, comma - pos), kGazStreet, true);
          pos = comma + 1;
        }
      }
    }
  }
  return absl::OkStatus();
}

void TokenHints(std::span<const Token> tokens, std::span<const Finding> findings,
                std::vector<RuleHint>* out) {
  out->assign(tokens.size(), RuleHint{});
  std::vector<float> best(tokens.size(), -1.0f);
  for (const Finding& f : findings) {
    if (f.end <= f.begin) continue;
    // First token ending after f.begin (tokens are sorted and disjoint).
    auto it = std::partition_point(tokens.begin(), tokens.end(),
                                   [&](const Token& t) { return t.end <= f.begin; });
    const uint8_t bucket = f.score < 0.35f ? 0 : f.score < 0.6f ? 1 : f.score < 0.85f ? 2 : 3;
    const uint64_t rec = HashLower(f.recognizer);
    bool first = true;
    for (size_t i = static_cast<size_t>(it - tokens.begin());
         i < tokens.size() && tokens[i].begin < f.end; ++i) {
      if (f.score > best[i]) {
        best[i] = f.score;
        RuleHint& h = (*out)[i];
        h.category = static_cast<uint8_t>(1 + static_cast<int>(f.category));
        h.begin = first ? 1 : 0;
        h.score_bucket = bucket;
        h.recognizer = rec;
      }
      first = false;
    }
  }
}

void FeatureExtractor::Extract(std::string_view text, std::span<const Token> tokens,
                               std::vector<uint32_t>* rows, bool unknown_words,
                               std::span<const RuleHint> hints) const {
  const size_t n = tokens.size();
  const int fpt = features_per_token();
  rows->resize(n * static_cast<size_t>(fpt));
  if (n == 0) return;
  static const RuleHint kNoHint{};
  auto hint = [&](size_t i, long d) -> const RuleHint& {
    const long j = static_cast<long>(i) + d;
    if (hints.size() != n || j < 0 || j >= static_cast<long>(n)) return kNoHint;
    return hints[static_cast<size_t>(j)];
  };

  // Per-token facts, computed once and shared by the window features.
  thread_local std::vector<TokInfo> infos;
  infos.resize(n);
  size_t line_first = 0;
  uint32_t line_index = 0;
  for (size_t i = 0; i < n; ++i) {
    const Token& t = tokens[i];
    std::string_view w = text.substr(t.begin, t.end - t.begin);
    TokInfo& f = infos[i];
    f.word = HashLower(w);
    f.shape = ShapeHash(w, 4);
    f.sshape = ShapeHash(w, 1);
    f.cls = CaseClass(w);
    f.alnum = f.cls != kPunct;
    f.norm = NormHash(w, f.cls, f.word);
    const uint16_t gaz = f.alnum ? gazetteer_->LookupHash(f.word) : 0;
    f.gaz = static_cast<uint8_t>(gaz & 0xFF);
    f.gazx = static_cast<uint8_t>(gaz >> 8);
    f.flags = t.flags;
    if ((t.flags & kTokenLineStart) != 0) {
      line_first = i;
      line_index = 0;
    }
    f.line_first = line_first;
    f.line_index = line_index++;
  }
  // Extended feature sets: per-line case, the nearest earlier trigger word of
  // the line, the word after next, and per-text facts about each word.
  struct ExtraFacts {
    size_t next_word2 = SIZE_MAX;
    uint8_t repeats = 0;       // occurrences of the word in the text, capped at 3
    uint8_t doc_category = 0;  // a rule category on some occurrence of the word
  };
  struct WordFacts {
    uint32_t count = 0;
    uint8_t category = 0;
  };
  thread_local std::vector<uint8_t> line_case;
  thread_local std::vector<ExtraFacts> extra;
  thread_local absl::flat_hash_map<uint64_t, WordFacts> words;
  if (extended_) {
    line_case.clear();
    extra.assign(n, ExtraFacts{});
    words.clear();
    uint32_t line = 0;
    size_t upper = 0, lower = 0, trigger = SIZE_MAX;
    auto close_line = [&] {
      uint8_t cls = 0;  // no letters
      if (upper + lower > 0) {
        cls = (lower == 0 || upper > 4 * lower) ? 2 : (lower > 8 * upper) ? 1 : 3;
      }
      line_case.push_back(cls);
      upper = lower = 0;
    };
    for (size_t i = 0; i < n; ++i) {
      if (i > 0 && (tokens[i].flags & kTokenLineStart) != 0) {
        close_line();
        ++line;
        trigger = SIZE_MAX;
      }
      TokInfo& f = infos[i];
      f.line = line;
      f.last_trigger = trigger;
      if (f.alnum && (f.gaz & kGazTrigger) != 0) trigger = i;
      for (size_t b = tokens[i].begin; b < tokens[i].end; ++b) {
        const char ch = text[b];
        upper += (ch >= 'A' && ch <= 'Z') ? 1 : 0;
        lower += (ch >= 'a' && ch <= 'z') ? 1 : 0;
      }
      if (f.alnum && f.cls != kDigitCls) {
        WordFacts& w = words[f.word];
        ++w.count;
        if (hints.size() == n && hints[i].category != 0 && w.category == 0) {
          w.category = hints[i].category;
        }
      }
    }
    close_line();
    size_t next1 = SIZE_MAX, next2 = SIZE_MAX;  // the next two word tokens after i
    for (size_t i = n; i-- > 0;) {
      extra[i].next_word2 = next2;
      if (infos[i].alnum) {
        next2 = next1;
        next1 = i;
      }
    }
    // next_word2 above is the second word token after i; nw (next_word) is
    // the first, so the pair is (next word, the word after it).
    for (size_t i = 0; i < n; ++i) {
      const TokInfo& f = infos[i];
      if (!f.alnum || f.cls == kDigitCls) continue;
      const WordFacts& w = words[f.word];
      extra[i].repeats = static_cast<uint8_t>(std::min<uint32_t>(w.count, 3));
      extra[i].doc_category = w.category;
    }
  }

  // Context feature sets: the word token right before the first ':' of the
  // line ("Family", "social") and how many word tokens after it this one is.
  struct ContextFacts {
    uint64_t label = 0;  // 0: no colon earlier in the line
    uint8_t after = 0;   // word tokens since the colon, capped at 4 (1: the first)
  };
  thread_local std::vector<ContextFacts> ctx;
  if (context_) {
    ctx.assign(n, ContextFacts{});
    uint64_t label = 0;
    uint8_t after = 0;
    size_t last_word = SIZE_MAX;
    for (size_t i = 0; i < n; ++i) {
      if ((tokens[i].flags & kTokenLineStart) != 0) {
        label = 0;
        after = 0;
        last_word = SIZE_MAX;
      }
      const TokInfo& f = infos[i];
      if (f.alnum) {
        if (label != 0 && after < 4) ++after;
        last_word = i;
      } else if (label == 0 && tokens[i].end - tokens[i].begin == 1 &&
                 text[tokens[i].begin] == ':') {
        label = last_word < n ? infos[last_word].word : HashLower(":");
      }
      ctx[i].label = label;
      ctx[i].after = f.alnum ? after : 0;
    }
  }

  static const TokInfo kBos = [] {
    TokInfo b;
    b.word = b.shape = b.sshape = b.norm = HashLower("<s>");
    return b;
  }();
  static const TokInfo kEos = [] {
    TokInfo b;
    b.word = b.shape = b.sshape = b.norm = HashLower("</s>");
    return b;
  }();
  auto at = [&](size_t i, long d) -> const TokInfo& {
    const long j = static_cast<long>(i) + d;
    if (j < 0) return kBos;
    if (j >= static_cast<long>(n)) return kEos;
    return infos[static_cast<size_t>(j)];
  };
  // The nearest word token before/after i (skipping up to 3 punctuation tokens).
  auto prev_word = [&](size_t i, size_t* pos) -> const TokInfo& {
    for (size_t k = 1; k <= 4 && k <= i; ++k) {
      if (infos[i - k].alnum) {
        *pos = i - k;
        return infos[i - k];
      }
    }
    *pos = n;
    return kBos;
  };
  auto next_word = [&](size_t i) -> const TokInfo& {
    for (size_t k = 1; k <= 4 && i + k < n; ++k) {
      if (infos[i + k].alnum) return infos[i + k];
    }
    return kEos;
  };

  const uint32_t shift = 64 - hash_bits_;
  uint32_t* out = rows->data();
  for (size_t i = 0; i < n; ++i) {
    const TokInfo& c = infos[i];
    const TokInfo& m1 = at(i, -1);
    const TokInfo& m2 = at(i, -2);
    const TokInfo& p1 = at(i, 1);
    const TokInfo& p2 = at(i, 2);
    size_t prev_pos = n;
    const TokInfo& pw = prev_word(i, &prev_pos);
    size_t unused = n;
    const TokInfo& pw2 = prev_pos < n ? prev_word(prev_pos, &unused) : kBos;
    const TokInfo& nw = next_word(i);
    const Token& t = tokens[i];
    std::string_view w = text.substr(t.begin, t.end - t.begin);
    const size_t len = w.size();
    static const uint64_t kUnk = HashLower("<unk>");
    const bool unk = unknown_words && c.alnum && c.cls != kDigitCls;
    const uint64_t cw = unk ? kUnk : c.word;
    const uint64_t cn = unk ? kUnk : c.norm;
    auto affix = [&](bool prefix, size_t k) -> uint64_t {
      if (unk && k >= 3) return kUnk;
      if (len <= k) return cw;
      return HashLower(prefix ? w.substr(0, k) : w.substr(len - k));
    };
    uint64_t v[kFeaturesPerToken] = {
        0,
        cw,
        c.shape,
        c.sshape,
        affix(true, 1),
        affix(true, 2),
        affix(true, 3),
        affix(false, 1),
        affix(false, 2),
        affix(false, 3),
        affix(false, 4),
        std::min<size_t>(len, 12) * 8 + c.cls,
        c.gaz,
        uint64_t{c.gaz} * 8 + c.cls,
        m1.word,
        p1.word,
        m2.word,
        p2.word,
        m1.sshape,
        p1.sshape,
        m2.sshape,
        p2.sshape,
        m1.gaz,
        p1.gaz,
        Combine(m1.word, cw),
        Combine(cw, p1.word),
        Combine(Combine(m1.sshape, c.sshape), p1.sshape),
        pw.word,
        nw.word,
        pw2.word,
        Combine(pw.word, c.sshape),
        Combine(c.flags & kTokenLineStart, c.sshape),
        infos[c.line_first].word,
        cn,
        Combine(Combine(m1.norm, cn), p1.norm),
        Combine(m1.word, p1.word),
        uint64_t{std::min<uint32_t>(c.line_index, 7)} * 8 + c.cls,
        (uint64_t{m1.gaz} << 16) | (uint64_t{c.gaz} << 8) | p1.gaz,
        Combine(nw.word, c.sshape),
        (uint64_t{c.flags} << 16) | (uint64_t{p1.flags} << 8) | c.cls,
    };
    for (int k = 0; k < kFeaturesPerToken; ++k) {
      const uint64_t h = Fmix64(v[k] ^ (static_cast<uint64_t>(k + 1) * 0x9E3779B97F4A7C15ull));
      out[k] = static_cast<uint32_t>(h >> shift);
      // Word dropout: the token's own identity features point at the row past
      // the table, which training keeps at zero (as for a word never seen).
      if (unk && v[k] == kUnk) out[k] = uint32_t{1} << hash_bits_;
    }
    if (stacked_) {
      // Stacking: what the rule engine found here and around.
      const RuleHint& h = hint(i, 0);
      const RuleHint& hm = hint(i, -1);
      const RuleHint& hp = hint(i, 1);
      const uint64_t cat = h.category;
      const uint64_t hv[kHintFeatures] = {
          (cat << 8) | (uint64_t{h.begin} << 4) | h.score_bucket,
          Combine(h.recognizer, h.begin),
          (uint64_t{hm.category} << 16) | (cat << 8) | hp.category,
          Combine(Combine(cat, c.sshape), c.gaz),
          unk ? kUnk : Combine(cat, c.word),
          Combine(Combine(cat, h.score_bucket), pw.word),
      };
      for (int k = 0; k < kHintFeatures; ++k) {
        const uint64_t hh = Fmix64(
            hv[k] ^ (static_cast<uint64_t>(kFeaturesPerToken + k + 1) * 0x9E3779B97F4A7C15ull));
        out[kFeaturesPerToken + k] = static_cast<uint32_t>(hh >> shift);
        if (unk && hv[k] == kUnk) out[kFeaturesPerToken + k] = uint32_t{1} << hash_bits_;
      }
    }
    if (extended_) {
      const RuleHint& h = hint(i, 0);
      const ExtraFacts& x = extra[i];
      const TokInfo& nw2 = x.next_word2 < n ? infos[x.next_word2] : kEos;
      const uint64_t trig = c.last_trigger < n ? Combine(infos[c.last_trigger].word,
                                                         std::min<size_t>(i - c.last_trigger, 7))
                                               : 0;
      const uint64_t ev[kExtendedFeatures] = {
          Combine(Combine(line_case[c.line], c.cls), c.gaz & 0x1F),
          uint64_t{c.gazx} * 8 + c.cls,
          (uint64_t{m1.gazx} << 16) | (uint64_t{c.gazx} << 8) | p1.gazx,
          Combine(trig, c.sshape),
          Combine(Combine(m2.sshape, m1.word), c.sshape),
          Combine(Combine(c.sshape, p1.word), p2.sshape),
          Combine(nw.word, nw2.word),
          Combine(x.repeats, c.cls),
          Combine(Combine(x.doc_category, h.category), c.cls),
      };
      const int base = kFeaturesPerToken + (stacked_ ? kHintFeatures : 0);
      for (int k = 0; k < kExtendedFeatures; ++k) {
        const uint64_t hh =
            Fmix64(ev[k] ^ (static_cast<uint64_t>(100 + k) * 0x9E3779B97F4A7C15ull));
        out[base + k] = static_cast<uint32_t>(hh >> shift);
      }
    }
    if (context_) {
      const ContextFacts& cf = ctx[i];
      const TokInfo& m3 = at(i, -3);
      const TokInfo& p3 = at(i, 3);
      const size_t next2 = extra[i].next_word2;
      const uint8_t nw2x = next2 < n ? infos[next2].gazx : 0;
      constexpr uint8_t kFac = kGazFacility >> 8, kRole = kGazRole >> 8;
      // Facility noun after the word (next word, or the one after it:
      // "X general hospital", "university of X hospital").
      const uint64_t fac = ((nw.gazx & kFac) != 0 ? 1 : 0) | ((nw2x & kFac) != 0 ? 2 : 0);
      const uint64_t role = ((nw.gazx & kRole) != 0 ? 1 : 0) | ((pw.gazx & kRole) != 0 ? 2 : 0);
      const uint64_t cv[kContextFeatures] = {
          m3.word,
          p3.word,
          Combine(Combine(fac, c.cls), c.gaz & 0x1F),
          Combine(Combine(fac, pw.word), c.cls),
          Combine(Combine(role, c.sshape), c.gaz & 0x1F),
          Combine(Combine(cf.label, cf.after), c.cls),
      };
      const int base =
          kFeaturesPerToken + (stacked_ ? kHintFeatures : 0) + (extended_ ? kExtendedFeatures : 0);
      for (int k = 0; k < kContextFeatures; ++k) {
        const uint64_t hh =
            Fmix64(cv[k] ^ (static_cast<uint64_t>(200 + k) * 0x9E3779B97F4A7C15ull));
        out[base + k] = static_cast<uint32_t>(hh >> shift);
      }
    }
    out += fpt;
  }
}

}  // namespace phigate::model
