#include "phigate/transform/surrogate.h"

#include <algorithm>
#include <fstream>
#include <set>

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "phigate/core/paths.h"
#include "phigate/crypto/random.h"
#include "phigate/crypto/signer.h"
#include "phigate/transform/date_shift.h"
#include "phigate/vault/vault.h"
#include "src/detect/lexicon.h"

namespace phigate::transform {
namespace {

// Invented fallbacks, used when the gazetteers are missing.
constexpr std::string_view kFallbackFirst[] = {"Alder",  "Brisa",  "Corvin", "Delphine", "Emrys",
                                               "Fenna",  "Galen",  "Hollis", "Ione",     "Jory",
                                               "Kestra", "Lorcan", "Maelis", "Niven",    "Oriel"};
constexpr std::string_view kFallbackLast[] = {"Ashgrove", "Brackwell", "Culvane",  "Dunmore",
                                              "Ellery",   "Farrowby",  "Garland",  "Hartwell",
                                              "Islay",    "Jessup",    "Kilbride", "Lathrop"};
constexpr std::string_view kFallbackCities[] = {"Fairhaven", "Millbrook", "Oakridge", "Riverton",
                                                "Westfield", "Brookdale", "Lakeview", "Granville"};
constexpr std::string_view kSuffixes[][2] = {
    {"Street", "St"}, {"Avenue", "Ave"}, {"Road", "Rd"},        {"Lane", "Ln"},     {"Drive", "Dr"},
    {"Court", "Ct"},  {"Place", "Pl"},   {"Boulevard", "Blvd"}, {"Terrace", "Ter"}, {"Way", "Way"}};
constexpr std::string_view kTitles[] = {"dr",  "dr.",  "mr",   "mr.",   "mrs", "mrs.", "ms",
                                        "ms.", "miss", "prof", "prof.", "mx",  "mx."};
constexpr std::string_view kNameSuffixes[] = {"jr", "jr.",  "sr",  "sr.", "ii", "iii", "iv",
                                              "md", "m.d.", "phd", "rn",  "np", "do"};

// Collects the first CSPRNG failure so generators read linearly.
class Rng {
 public:
  size_t Below(size_t n) {
    if (n == 0) return 0;
    auto r = crypto::RandomUniform(n);
    if (!r.ok()) {
      if (status_.ok()) status_ = r.status();
      return 0;
    }
    return static_cast<size_t>(*r);
  }
  char Digit(bool nonzero = false) {
    return static_cast<char>('0' + (nonzero ? 1 + Below(9) : Below(10)));
  }
  char Letter(bool upper) {
    static constexpr std::string_view kLetters = "ABCDEFGHJKLMNPRSTUVWXYZ";
    const char c = kLetters[Below(kLetters.size())];
    return upper ? c : static_cast<char>(absl::ascii_tolower(static_cast<unsigned char>(c)));
  }
  const Status& status() const { return status_; }

 private:
  Status status_;
};

std::string DataDir(const SurrogateOptions& o) {
  return o.data_dir.empty() ? paths::DataDir() : o.data_dir;
}

// Reads "value<TAB>weight..." lines ('#' comments); keeps values whose column
// `weight_col` is >= min_weight (or all when weight_col < 0). `weights`, when
// given, gets every row's lower-cased value and weight, kept or not.
std::vector<std::string> LoadColumn(
    const std::string& path, int weight_col, int64_t min_weight,
    std::vector<std::pair<std::string, int64_t>>* weights = nullptr) {
  std::vector<std::string> out;
  std::ifstream in(path);
  std::string line;
  while (std::getline(in, line)) {
    if (line.empty() || line[0] == '#') continue;
    std::vector<absl::string_view> f = absl::StrSplit(line, '\t');
    if (f.empty() || f[0].empty()) continue;
    if (weight_col >= 0) {
      int64_t w = 0;
      if (static_cast<size_t>(weight_col) >= f.size() ||
          !absl::SimpleAtoi(f[static_cast<size_t>(weight_col)], &w)) {
        continue;
      }
      if (weights != nullptr) weights->emplace_back(absl::AsciiStrToLower(f[0]), w);
      if (w < min_weight) continue;
    }
    // Single-word, letters-only entries keep surrogates simple to re-find.
    bool ok = true;
    for (char c : f[0]) ok = ok && (absl::ascii_isalpha(static_cast<unsigned char>(c)) || c == ' ');
    if (ok) out.emplace_back(f[0]);
  }
  return out;
}

template <size_t N>
std::vector<std::string> Fallback(const std::string_view (&list)[N]) {
  return std::vector<std::string>(std::begin(list), std::end(list));
}

bool InList(std::string_view word, std::span<const std::string_view> list) {
  const std::string w = absl::AsciiStrToLower(std::string(word));
  for (auto l : list) {
    if (w == l) return true;
  }
  return false;
}

// A candidate is written in capitals or in lower case when its original is
// (LetterCaseOf), as drawn otherwise.
LetterCase StyleOf(std::string_view original) {
  const LetterCase c = LetterCaseOf(original);
  return c == LetterCase::kUpper || c == LetterCase::kLower ? c : LetterCase::kNone;
}

// The kind words of a facility as `original` writes them: its first run of
// facility words ("Medical Center" of "Saint Mary Medical Center",
// "Children's Hospital" of "Children's Hospital of Boston"). Empty when the
// span stops before them ("Saint Mary", its "Medical Center" left outside):
// the surrogate then is a name alone and the kind is not written twice.
// Words after the run ("of Boston") are never kept.
std::string_view FacilityKind(std::string_view original) {
  size_t begin = std::string_view::npos, end = 0;
  size_t i = 0;
  while (i < original.size()) {
    while (i < original.size() && (original[i] == ' ' || original[i] == '-')) ++i;
    const size_t b = i;
    while (i < original.size() && original[i] != ' ' && original[i] != '-') ++i;
    if (b == i) break;
    std::string word = absl::AsciiStrToLower(std::string(original.substr(b, i - b)));
    while (!word.empty() && (word.back() == '.' || word.back() == ',')) word.pop_back();
    // "Children’s" with a typographic apostrophe is the list's "children's".
    for (size_t q; (q = word.find("\xe2\x80\x99")) != std::string::npos;) word.replace(q, 3, "'");
    if (detect::IsFacilityWord(word)) {
      if (begin == std::string_view::npos) begin = b;
      end = i;
    } else if (begin != std::string_view::npos) {
      break;
    }
  }
  if (begin == std::string_view::npos) return {};
  while (end > begin && (original[end - 1] == ',' || original[end - 1] == ';')) --end;
  return original.substr(begin, end - begin);
}

// Every digit/letter of `shape` replaced by a random one of the same kind;
// a leading run of 2+ letters followed by a non-letter ("MRN-") is kept.
std::string ShapeRandom(std::string_view shape, Rng& rng) {
  std::string out(shape);
  size_t keep = 0;
  while (keep < out.size() && absl::ascii_isalpha(static_cast<unsigned char>(out[keep]))) ++keep;
  if (keep < 2 || keep == out.size()) keep = 0;
  bool first_digit = true;
  for (size_t i = keep; i < out.size(); ++i) {
    const auto c = static_cast<unsigned char>(out[i]);
    if (absl::ascii_isdigit(c)) {
      out[i] = rng.Digit(first_digit && shape.size() > 1 && out[i] != '0');
      first_digit = false;
    } else if (absl::ascii_isalpha(c)) {
      out[i] = rng.Letter(absl::ascii_isupper(c));
    }
  }
  return out;
}

// Index of the last digit in s, or npos.
size_t LastDigit(std::string_view s) {
  for (size_t i = s.size(); i > 0; --i) {
    if (absl::ascii_isdigit(static_cast<unsigned char>(s[i - 1]))) return i - 1;
  }
  return std::string::npos;
}

// Sets the last digit so that valid(s) holds (when some digit does).
template <class F>
void FixLastDigit(std::string& s, F valid) {
  const size_t i = LastDigit(s);
  if (i == std::string::npos) return;
  for (char d = '0'; d <= '9'; ++d) {
    s[i] = d;
    if (valid(s)) return;
  }
}

std::string_view DigitsOnly(std::string_view s, std::string* buf) {
  buf->clear();
  for (char c : s) {
    if (absl::ascii_isdigit(static_cast<unsigned char>(c))) *buf += c;
  }
  return *buf;
}

int VinValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  static constexpr std::string_view kMap = "ABCDEFGHJKLMNPRSTUVWXYZ";
  static constexpr int kVal[] = {1, 2, 3, 4, 5, 6, 7, 8, 1, 2, 3, 4,
                                 5, 7, 9, 2, 3, 4, 5, 6, 7, 8, 9};
  const size_t i = kMap.find(static_cast<char>(absl::ascii_toupper(static_cast<unsigned char>(c))));
  return i == std::string_view::npos ? -1 : kVal[i];
}
char VinCheck(std::string_view v) {
  static constexpr int kWeights[] = {8, 7, 6, 5, 4, 3, 2, 10, 0, 9, 8, 7, 6, 5, 4, 3, 2};
  int sum = 0;
  for (size_t i = 0; i < 17; ++i) {
    const int x = VinValue(v[i]);
    if (x < 0) return '?';
    sum += x * kWeights[i];
  }
  const int r = sum % 11;
  return r == 10 ? 'X' : static_cast<char>('0' + r);
}

std::string Phone(std::string_view original, Rng& rng) {
  std::string digits;
  DigitsOnly(original, &digits);
  std::string fresh;
  size_t i = 0;
  // A leading country code 1 (+1 617 ...) stays; then a NANP number with a
  // fictional 555-01xx line; any extension digits are random.
  if (digits.size() >= 11 && digits[0] == '1') {
    fresh += '1';
    i = 1;
  }
  if (digits.size() - i >= 10) {
    fresh += static_cast<char>('2' + rng.Below(8));  // area code: 2..9
    fresh += rng.Digit();
    fresh += rng.Digit();
    fresh += "55501";
    fresh += rng.Digit();
    fresh += rng.Digit();
    i += 10;
  }
  for (; i < digits.size(); ++i) fresh += rng.Digit(fresh.empty());
  std::string out(original);
  size_t k = 0;
  for (char& c : out) {
    if (absl::ascii_isdigit(static_cast<unsigned char>(c)) && k < fresh.size()) c = fresh[k++];
  }
  return out;
}

std::string Ssn(std::string_view original, Rng& rng) {
  std::string digits;
  DigitsOnly(original, &digits);
  std::string fresh;
  if (digits.size() == 9) {
    size_t area = 1 + rng.Below(898);  // 1..898, skipping 666
    if (area >= 666) ++area;
    fresh = absl::StrCat(absl::Dec(area, absl::kZeroPad3),
                         absl::Dec(1 + rng.Below(99), absl::kZeroPad2),
                         absl::Dec(1 + rng.Below(9999), absl::kZeroPad4));
  } else {
    for (size_t i = 0; i < digits.size(); ++i) fresh += rng.Digit(i == 0);
  }
  std::string out(original);
  size_t k = 0;
  for (char& c : out) {
    if (absl::ascii_isdigit(static_cast<unsigned char>(c)) && k < fresh.size()) c = fresh[k++];
  }
  return out;
}

}  // namespace

bool LuhnValid(std::string_view s) {
  int sum = 0, n = 0;
  for (size_t i = s.size(); i > 0; --i) {
    const char c = s[i - 1];
    if (!absl::ascii_isdigit(static_cast<unsigned char>(c))) continue;
    int d = c - '0';
    if (n % 2 == 1) {
      d *= 2;
      if (d > 9) d -= 9;
    }
    sum += d;
    ++n;
  }
  return n >= 2 && sum % 10 == 0;
}

bool NpiValid(std::string_view s) {
  std::string d;
  DigitsOnly(s, &d);
  return d.size() == 10 && LuhnValid("80840" + d);
}

bool VinValid(std::string_view s) {
  if (s.size() != 17) return false;
  return VinCheck(s) == absl::ascii_toupper(static_cast<unsigned char>(s[8]));
}

Result<std::unique_ptr<SurrogateGenerator>> SurrogateGenerator::Create(
    const SurrogateOptions& options) {
  std::unique_ptr<SurrogateGenerator> g(new SurrogateGenerator());
  const std::string dir = DataDir(options) + "/gazetteers/";
  // Common names only (weight >= 50 ~ the top few thousand census names): realistic, re-findable.
  // Every name's weight too: they tell a first name alone ("John") from a
  // surname alone ("Alvarez").
  std::vector<std::pair<std::string, int64_t>> first_weights, last_weights;
  g->first_ = LoadColumn(dir + "first_names.tsv", 1, 50, &first_weights);
  g->last_ = LoadColumn(dir + "surnames.tsv", 1, 50, &last_weights);
  for (auto& [name, w] : first_weights) g->first_weights_[std::move(name)].first = w;
  for (const auto& [name, w] : last_weights) {
    if (auto it = g->first_weights_.find(name); it != g->first_weights_.end()) {
      it->second.second = w;
    }
  }
  g->cities_ = LoadColumn(dir + "us_cities.tsv", 2, 50000);
  std::sort(g->cities_.begin(), g->cities_.end());  // one entry a name ("Springfield" of 10 states)
  g->cities_.erase(std::unique(g->cities_.begin(), g->cities_.end()), g->cities_.end());
  // Names that are also common words ("Will", "Hope", "Brown") or medical
  // vocabulary ("Foley", "Whipple", "Hickman") would be re-identified inside
  // ordinary prose and notes ("Foley draining clear"); leave them out.
  std::set<std::string> common;
  for (const char* file : {"common_words.txt", "medical_words.txt"}) {
    std::ifstream in(dir + file);
    std::string w;
    while (std::getline(in, w)) {
      if (w.empty() || w[0] == '#') continue;
      w = w.substr(0, w.find('\t'));  // medical_words.txt: word<TAB>proper
      common.insert(absl::AsciiStrToLower(w));
    }
  }
  for (auto* list : {&g->first_, &g->last_, &g->cities_}) {
    std::erase_if(*list, [&](const std::string& n) {
      return common.count(absl::AsciiStrToLower(n)) > 0 || n.size() < 3;
    });
  }
  // Names that are also a town, a state or a word of a payer's or vehicle
  // make's name ("Poland", "Honda", "Kaiser") would be put back over a
  // place or a car a note keeps ("Honda Civic"); people get other names.
  std::set<std::string> places;
  for (const auto& c : LoadColumn(dir + "us_cities.tsv", -1, 0)) {
    places.insert(absl::AsciiStrToLower(c));
  }
  std::set<std::string> states;
  for (const auto& c : LoadColumn(dir + "us_states.tsv", -1, 0)) {
    states.insert(absl::AsciiStrToLower(c));
  }
  places.insert(states.begin(), states.end());
  for (const detect::NonPhiPhrase& p : detect::NonPhiPhrases()) {
    for (absl::string_view w : absl::StrSplit(ToAbsl(p.words), ' ')) places.emplace(w);
  }
  for (auto* list : {&g->first_, &g->last_}) {
    std::erase_if(*list,
                  [&](const std::string& n) { return places.count(absl::AsciiStrToLower(n)) > 0; });
  }
  // A town named as a state ("Wyoming", MI) would be put back over the
  // state a note keeps ("Driver's license: Wyoming"); places get other towns.
  std::erase_if(g->cities_,
                [&](const std::string& n) { return states.count(absl::AsciiStrToLower(n)) > 0; });
  // First names by sex.
  {
    std::ifstream in(dir + "first_name_sexes.tsv");
    std::string line;
    while (std::getline(in, line)) {
      if (line.empty() || line[0] == '#') continue;
      const size_t tab = line.find('\t');
      if (tab == std::string::npos) continue;
      const std::string_view x = std::string_view(line).substr(tab + 1);
      g->sex_[absl::AsciiStrToLower(line.substr(0, tab))] = x == "F" ? 'F' : x == "M" ? 'M' : 'B';
    }
  }
  if (g->first_.size() < 20) g->first_ = Fallback(kFallbackFirst);
  for (const std::string& n : g->first_) {
    const auto it = g->sex_.find(absl::AsciiStrToLower(n));
    if (it == g->sex_.end()) continue;
    if (it->second == 'F') g->female_.push_back(n);
    if (it->second == 'M') g->male_.push_back(n);
  }
  // Too few of a sex to stay unique in a scope: either sex then.
  if (g->female_.size() < 20) g->female_.clear();
  if (g->male_.size() < 20) g->male_.clear();
  if (g->last_.size() < 20) g->last_ = Fallback(kFallbackLast);
  if (g->cities_.size() < 5) g->cities_ = Fallback(kFallbackCities);
  return g;
}

Result<std::string> SurrogateGenerator::Pick(const std::vector<std::string>& list) const {
  PHIGATE_ASSIGN_OR_RETURN(uint64_t i, crypto::RandomUniform(list.size()));
  return list[static_cast<size_t>(i)];
}

namespace {
// `lower` with its Latin-1 letters as ASCII ("josé" -> "jose"), for the
// census lists, which write names without diacritics; `lower` when it has none.
std::string FoldLatin1(const std::string& lower) {
  // U+00C0..U+00FF, lower-cased.
  static constexpr std::string_view kBase =
      "aaaaaaaceeeeiiiidnooooo*ouuuuytsaaaaaaaceeeeiiiidnooooo*ouuuuyty";
  std::string out;
  out.reserve(lower.size());
  for (size_t i = 0; i < lower.size(); ++i) {
    const auto c = static_cast<unsigned char>(lower[i]);
    const auto next = i + 1 < lower.size() ? static_cast<unsigned char>(lower[i + 1]) : 0;
    if (c == 0xC3 && next >= 0x80 && next <= 0xBF) {
      out += kBase[next - 0x80];
      ++i;
    } else {
      out += static_cast<char>(c);
    }
  }
  return out;
}

// The entry for a lower-case first name, or for its Latin-1 letters as ASCII.
template <class Map>
typename Map::const_iterator FindName(const Map& map, const std::string& lower) {
  auto it = map.find(lower);
  if (it == map.end() && lower.find('\xC3') != std::string::npos) it = map.find(FoldLatin1(lower));
  return it;
}
}  // namespace

char SurrogateGenerator::SexOf(const std::string& lower) const {
  const auto it = FindName(sex_, lower);
  return it == sex_.end() || it->second == 'B' ? 0 : it->second;
}

bool SurrogateGenerator::FirstNameAlone(const std::string& lower) const {
  const auto it = FindName(first_weights_, lower);
  // Far more common as a first name ("John", "Mary") than as a surname
  // ("Taylor", "Lewis" stay surnames).
  return it != first_weights_.end() && it->second.first >= 2 * it->second.second;
}

namespace {
// A keyed choice in [0, n): HMAC-SHA256 of the parts under the scope's key.
size_t KeyedIndex(std::string_view key, std::string_view role, std::string_view value, int attempt,
                  size_t n) {
  const crypto::Sha256Digest d =
      crypto::HmacSha256(key, absl::StrCat(ToAbsl(role), "\n", ToAbsl(value), "\n", attempt));
  uint64_t v = 0;
  for (int i = 0; i < 8; ++i) v = (v << 8) | d[static_cast<size_t>(i)];
  return n == 0 ? 0 : static_cast<size_t>(v % n);
}
}  // namespace

Result<std::string> SurrogateGenerator::Name(std::string_view original, int attempt,
                                             std::string_view key) const {
  Rng rng;
  const LetterCase style = StyleOf(original);
  // Spellings of one name in capitals, lower case or capitalised words share
  // one surrogate pair, written in each one's case (LetterCaseOf). A name in
  // mixed case ("Alvin DRAINVILLE", "McKinley") cannot be written back from
  // another spelling's pair, so its parts are keyed by their exact spelling:
  // consistent wherever it is written so, and no pair with "Alvin Drainville".
  const bool exact = LetterCaseOf(original) == LetterCase::kMixed;
  std::vector<std::string> words = absl::StrSplit(std::string(original), ' ', absl::SkipEmpty());
  const bool last_first = !words.empty() && words[0].size() > 1 && words[0].back() == ',';
  // Which words are name parts (not titles or suffixes)? A title tells the sex.
  std::vector<size_t> parts;
  char title_sex = 0;
  for (size_t i = 0; i < words.size(); ++i) {
    std::string w = absl::AsciiStrToLower(words[i]);
    if (!w.empty() && w.back() == ',') w.pop_back();
    if (InList(w, kTitles) || InList(w, kNameSuffixes)) {
      if (w == "mr" || w == "mr.") title_sex = 'M';
      if (w == "mrs" || w == "mrs." || w == "ms" || w == "ms." || w == "miss") title_sex = 'F';
      continue;
    }
    parts.push_back(i);
  }
  for (size_t j = 0; j < parts.size(); ++j) {
    std::string& w = words[parts[j]];
    const bool comma = !w.empty() && w.back() == ',';
    std::string core = comma ? w.substr(0, w.size() - 1) : w;
    const bool initial = core.size() <= 2 && (core.size() == 1 || core.back() == '.');
    const std::string lower = absl::AsciiStrToLower(core);
    const std::string_view keyed = exact ? std::string_view(core) : std::string_view(lower);
    const std::string_view spelling = exact ? "exact " : "";
    std::string fresh;
    if (initial) {
      static constexpr std::string_view kLetters = "ABCDEFGHJKLMNPRSTUVWXYZ";
      const char c = key.empty()
                         ? rng.Letter(true)
                         : kLetters[KeyedIndex(key, absl::StrCat(ToAbsl(spelling), "initial"),
                                               keyed.substr(0, 1), attempt, kLetters.size())];
      fresh = std::string(1, c) + (core.size() == 2 ? "." : "");
    } else {
      // The surname is the last part, or the first in "Last, First"; one
      // part alone is a surname unless it is mostly a first name.
      const bool is_surname = parts.size() == 1 ? !FirstNameAlone(lower)
                                                : (last_first ? j == 0 : j + 1 == parts.size());
      const std::vector<std::string>* list = &last_;
      std::string_view role = "surname";
      if (!is_surname) {
        const char own = SexOf(lower);
        const char sex = own != 0 ? own : title_sex;
        list = sex == 'F' && !female_.empty() ? &female_
               : sex == 'M' && !male_.empty() ? &male_
                                              : &first_;
        role = list == &female_ ? "first-f" : list == &male_ ? "first-m" : "first";
      }
      if (key.empty()) {
        PHIGATE_ASSIGN_OR_RETURN(fresh, Pick(*list));
      } else {
        fresh = (*list)[KeyedIndex(key, absl::StrCat(ToAbsl(spelling), ToAbsl(role)), keyed,
                                   attempt, list->size())];
      }
    }
    w = InLetterCase(fresh, style) + (comma ? "," : "");
  }
  PHIGATE_RETURN_IF_ERROR(rng.status());
  if (words.empty()) return Pick(last_);
  // Keep the original's leading/trailing whitespace.
  const size_t lead = original.find_first_not_of(' ');
  const size_t end = original.find_last_not_of(' ');
  return absl::StrCat(ToAbsl(original.substr(0, lead == std::string_view::npos ? 0 : lead)),
                      absl::StrJoin(words, " "),
                      ToAbsl(end == std::string_view::npos ? "" : original.substr(end + 1)));
}

namespace {
// Endings of the composite places drawn once a scope's real cities are
// crowded (see kCity below).
constexpr std::string_view kPlaceEndings[] = {"Springs", "Heights", "Falls", "Ridge",   "Valley",
                                              "Hills",   "Grove",   "Park",  "Landing", "Meadows",
                                              "Point",   "Village", "Creek", "Harbor",  "Junction"};
// Attempts at a real city (or a random age over 89) before the fallbacks.
constexpr int kRealPlaceAttempts = 8;

// Four digits that read as a year of the last two centuries or a clock time
// ("1996", "1435"): notes keep such numbers ("s/p CABG 1996", "paged at
// 1435"), and re-identification would put a value back over them.
bool LooksLikeYearOrTime(std::string_view s) {
  if (s.size() != 4 || !std::all_of(s.begin(), s.end(), [](char c) {
        return absl::ascii_isdigit(static_cast<unsigned char>(c));
      })) {
    return false;
  }
  const int hh = (s[0] - '0') * 10 + (s[1] - '0'), mm = (s[2] - '0') * 10 + (s[3] - '0');
  return hh == 19 || hh == 20 || (hh < 24 && mm < 60);
}
}  // namespace

Result<std::string> SurrogateGenerator::Generate(PhiCategory category, std::string_view original,
                                                 int attempt,
                                                 const SurrogateContext& context) const {
  Result<std::string> out = GenerateOnce(category, original, attempt, context);
  // A four-digit number (a partial SSN, an extension, a short id) is drawn
  // again while it reads as a year or a time (16 times at most).
  for (int i = 0; i < 16 && category != PhiCategory::kDate && out.ok() && LooksLikeYearOrTime(*out);
       ++i) {
    out = GenerateOnce(category, original, attempt, context);
  }
  return out;
}

Result<std::string> SurrogateGenerator::GenerateOnce(PhiCategory category,
                                                     std::string_view original, int attempt,
                                                     const SurrogateContext& context) const {
  // Every call draws fresh randomness (name parts: chosen by the scope's key
  // when there is one); places and ages over 89 also widen their choice as
  // `attempt` grows.
  Rng rng;
  std::string out;
  switch (category) {
    case PhiCategory::kName:
      return Name(original, attempt, context.name_key);
    case PhiCategory::kDate: {
      auto shifted = ShiftDateText(original, context.date_shift_days);
      if (!shifted) return absl::InvalidArgumentError("date in an unsupported format");
      if (attempt > 0) return absl::AlreadyExistsError("shifted date collides");
      return *shifted;
    }
    case PhiCategory::kPhone:
    case PhiCategory::kFax:
      out = Phone(original, rng);
      break;
    case PhiCategory::kSsn:
      out = Ssn(original, rng);
      break;
    case PhiCategory::kEmail: {
      PHIGATE_ASSIGN_OR_RETURN(std::string f, Pick(first_));
      PHIGATE_ASSIGN_OR_RETURN(std::string l, Pick(last_));
      static constexpr std::string_view kDomains[] = {"example.com", "example.org", "example.net"};
      out = absl::AsciiStrToLower(
          absl::StrCat(f, ".", l, rng.Below(100), "@", ToAbsl(kDomains[rng.Below(3)])));
      break;
    }
    case PhiCategory::kStreetAddress: {
      size_t nd = 0;
      while (nd < original.size() && absl::ascii_isdigit(static_cast<unsigned char>(original[nd])))
        ++nd;
      std::string number;
      for (size_t i = 0; i < nd; ++i) number += rng.Digit(i == 0);
      PHIGATE_ASSIGN_OR_RETURN(std::string street, Pick(last_));
      // Abbreviated suffix when the original's last word is short ("St", "Ave.").
      const auto& suffix = kSuffixes[rng.Below(std::size(kSuffixes))];
      std::string_view last_word = original.substr(
          original.rfind(' ') == std::string_view::npos ? 0 : original.rfind(' ') + 1);
      const bool dot = !last_word.empty() && last_word.back() == '.';
      const bool abbr = dot || last_word.size() <= 4;
      out = absl::StrCat(number, number.empty() ? "" : " ", street, " ",
                         ToAbsl(abbr ? suffix[1] : suffix[0]), dot ? "." : "");
      out = InLetterCase(out, StyleOf(original));
      break;
    }
    case PhiCategory::kCity:
    case PhiCategory::kLocation: {
      // A real city first. The gazetteer's few hundred cities are taken in a
      // scope that holds that many places (a tenant's whole record set, and a
      // surrogate is unique in its scope), so later attempts draw composite
      // places ("Ashby Springs": a city or surname and an ending), of which
      // there are hundreds of thousands.
      PHIGATE_ASSIGN_OR_RETURN(std::string c, Pick(cities_));
      if (attempt >= kRealPlaceAttempts) {
        PHIGATE_ASSIGN_OR_RETURN(std::string stem, Pick(rng.Below(2) == 0 ? last_ : cities_));
        c = absl::StrCat(stem, " ", ToAbsl(kPlaceEndings[rng.Below(std::size(kPlaceEndings))]));
      }
      out = InLetterCase(c, StyleOf(original));
      break;
    }
    case PhiCategory::kFacility: {
      PHIGATE_ASSIGN_OR_RETURN(std::string n, Pick(last_));
      const std::string_view kind = FacilityKind(original);
      out = InLetterCase(absl::StrCat(n, kind.empty() ? "" : " ", ToAbsl(kind)), StyleOf(original));
      break;
    }
    case PhiCategory::kZip:
      out = ShapeRandom(original, rng);
      break;
    case PhiCategory::kAge: {
      int age = 0;
      std::string d;
      DigitsOnly(original, &d);
      if (!absl::SimpleAtoi(d, &age)) age = 90;
      // Over 89: random at first, then every age from 90 up in turn, so the
      // two dozen a scope can hold are all found.
      size_t fresh = age >= 90 ? 90 + rng.Below(15) : 18 + rng.Below(72);
      if (age >= 90 && attempt >= kRealPlaceAttempts) {
        fresh = 90 + static_cast<size_t>(attempt - kRealPlaceAttempts);
      }
      out = std::string(original);
      const size_t b = out.find_first_of("0123456789");
      if (b == std::string::npos) {
        out = absl::StrCat(fresh);
        break;
      }
      const size_t e = out.find_first_not_of("0123456789", b);
      out.replace(b, (e == std::string::npos ? out.size() : e) - b, absl::StrCat(fresh));
      break;
    }
    case PhiCategory::kUrl: {
      std::string path;
      for (int i = 0; i < 8; ++i) path += rng.Letter(false);
      const bool http = original.substr(0, 7) == "http://";
      out = absl::StrCat(http ? "http://" : "https://", "www.example.org/", path);
      break;
    }
    case PhiCategory::kIp:
      if (original.find(':') != std::string_view::npos) {
        out = absl::StrCat("2001:db8::", absl::Hex(1 + rng.Below(0xfffe)));
      } else {
        static constexpr std::string_view kNets[] = {"192.0.2.", "198.51.100.", "203.0.113."};
        out = absl::StrCat(ToAbsl(kNets[rng.Below(3)]), 1 + rng.Below(254));
      }
      break;
    case PhiCategory::kVehicle:
      out = ShapeRandom(original, rng);
      if (VinValid(original)) {
        for (char& c : out) {
          if (c == 'I' || c == 'O' || c == 'Q') c = 'X';
        }
        out[8] = VinCheck(out);
      }
      break;
    case PhiCategory::kLicense:
      out = ShapeRandom(original, rng);
      if (NpiValid(original)) {
        FixLastDigit(out, NpiValid);
      } else if (LuhnValid(original)) {
        FixLastDigit(out, LuhnValid);
      }
      break;
    default: {  // MRN, health plan, account, device, other ids, biometric, photo
      out = ShapeRandom(original, rng);
      std::string d;
      if (DigitsOnly(original, &d).size() >= 8 && LuhnValid(original)) FixLastDigit(out, LuhnValid);
      break;
    }
  }
  PHIGATE_RETURN_IF_ERROR(rng.status());
  return out;
}

namespace {
bool Alpha(char c) { return absl::ascii_isalpha(static_cast<unsigned char>(c)); }
bool Digit(char c) { return absl::ascii_isdigit(static_cast<unsigned char>(c)); }
}  // namespace

LetterCase LetterCaseOf(std::string_view s) {
  bool upper = false, lower = false, title = true;
  size_t i = 0;
  while (i < s.size()) {
    if (!Alpha(s[i])) {
      ++i;
      continue;
    }
    // A run of letters: capitalised, or all lower case after a digit ("22nd").
    const size_t run = i;
    const bool after_digit = i > 0 && Digit(s[i - 1]);
    for (; i < s.size() && Alpha(s[i]); ++i) {
      const bool up = absl::ascii_isupper(static_cast<unsigned char>(s[i]));
      upper = upper || up;
      lower = lower || !up;
      title = title && up == (i == run && !after_digit);
    }
  }
  if (!upper && !lower) return LetterCase::kNone;
  if (!lower) return LetterCase::kUpper;
  if (!upper) return LetterCase::kLower;
  return title ? LetterCase::kTitle : LetterCase::kMixed;
}

std::string InLetterCase(std::string value, LetterCase style) {
  switch (style) {
    case LetterCase::kUpper:
      absl::AsciiStrToUpper(&value);
      break;
    case LetterCase::kLower:
      absl::AsciiStrToLower(&value);
      break;
    case LetterCase::kTitle: {
      const LetterCase now = LetterCaseOf(value);
      if (now != LetterCase::kUpper && now != LetterCase::kLower) break;
      for (size_t i = 0; i < value.size(); ++i) {
        if (!Alpha(value[i])) continue;
        const bool first = (i == 0 || !Alpha(value[i - 1])) && !(i > 0 && Digit(value[i - 1]));
        value[i] = first ? absl::ascii_toupper(static_cast<unsigned char>(value[i]))
                         : absl::ascii_tolower(static_cast<unsigned char>(value[i]));
      }
      break;
    }
    case LetterCase::kNone:
    case LetterCase::kMixed:
      break;
  }
  return value;
}

std::string SurrogateInCaseOf(std::string surrogate, std::string_view original) {
  if (vault::ParseToken(surrogate)) return surrogate;
  return InLetterCase(std::move(surrogate), LetterCaseOf(original));
}

std::string OriginalInCaseOf(std::string original, std::string_view written,
                             std::string_view stored_surrogate) {
  if (written == stored_surrogate) return original;
  return InLetterCase(std::move(original), LetterCaseOf(written));
}

}  // namespace phigate::transform
