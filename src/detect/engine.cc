// The rule engine: one Hyperscan pass for every pattern (here), one token
// pass for the gazetteer and context rules (token_rules.cc), then the
// tagger's spans and conflict resolution (Scan, here). Shared types:
// rule_engine.h.
#include "phigate/detect/engine.h"

#include <hs/hs.h>

#include <algorithm>
#include <array>
#include <bitset>
#include <cctype>
#include <climits>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "phigate/core/paths.h"
#include "phigate/model/tagger.h"
#include "re2/re2.h"
#include "src/detect/combine.h"
#include "src/detect/lexicon.h"
#include "src/detect/pattern_db.h"
#include "src/detect/patterns.h"
#include "src/detect/resolve.h"
#include "src/detect/rule_engine.h"

namespace phigate::detect {
namespace internal {
namespace {

// How far before a reported match end the match may start. Every pattern but
// URLs is bounded well below this; a longer URL is still covered up to its end.
constexpr size_t kWindowBack = 320;
constexpr size_t kUrlWindowBack = 4096;
constexpr size_t kNoWindow = static_cast<size_t>(-1);

int OnMatch(unsigned int id, unsigned long long, unsigned long long to, unsigned int, void* user) {
  auto* ctx = static_cast<EngineContext*>(user);
  const auto end = static_cast<size_t>(to);
  int32_t& open = ctx->open_window[id];
  if (open >= 0) {
    auto& w = ctx->matches[static_cast<size_t>(open)];
    if (end <= w.to + kWindowBack) {
      w.to = std::max(w.to, end);
      w.first = std::min(w.first, end);
      return 0;
    }
  }
  const size_t prev_to = open >= 0 ? ctx->matches[static_cast<size_t>(open)].to : kNoWindow;
  open = static_cast<int32_t>(ctx->matches.size());
  ctx->matches.push_back({id, end, end, prev_to, end});  // `from` is widened by the caller
  return 0;
}

std::string LowerWordBefore(std::string_view text, size_t pos) {
  size_t e = pos;
  while (e > 0 && (text[e - 1] == ' ' || text[e - 1] == '\t' || text[e - 1] == ':' ||
                   text[e - 1] == ',' || text[e - 1] == '@')) {
    --e;
  }
  size_t b = e;
  while (b > 0 && (std::isalnum(static_cast<unsigned char>(text[b - 1])) || text[b - 1] == '/'))
    --b;
  std::string w(text.substr(b, e - b));
  for (char& c : w) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return w;
}

std::string LowerWordAfter(std::string_view text, size_t pos) {
  size_t b = pos;
  while (b < text.size() && text[b] == ' ') ++b;
  size_t e = b;
  while (e < text.size() && std::isalpha(static_cast<unsigned char>(text[e]))) ++e;
  std::string w(text.substr(b, e - b));
  for (char& c : w) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return w;
}

// Whether the number at text[b] followed by F or M is a temperature, not an
// age and a sex: "Tmax 101F w/ chills", "spiked to 102F", "101.5F".
bool IsTemperatureAt(std::string_view text, size_t b) {
  static constexpr std::string_view kTemperature[] = {
      "t",     "tc",     "tm",     "tmax",  "temp",     "temperature", "febrile",
      "fever", "fevers", "spiked", "spike", "afebrile", "to",          "of",
      "at",    "max",    "peak",   "up",    "oral",     "rectal",      "axillary"};
  if (b >= 1 && text[b - 1] == '.') return true;  // a decimal
  const std::string before = LowerWordBefore(text, b);
  for (std::string_view w : kTemperature) {
    if (before == w) return true;
  }
  return false;
}

// The identifier after a label: separators, then 4-25 characters of
// [A-Za-z0-9] joined by single - . / characters, holding at least one digit.
bool IdAfterLabel(std::string_view text, size_t pos, size_t* b, size_t* e) {
  size_t i = pos;
  while (
      i < text.size() && i < pos + 6 &&
      (text[i] == ' ' || text[i] == ':' || text[i] == '#' || text[i] == '=' || text[i] == '\t')) {
    ++i;
  }
  // "member ID is W945722266", "MRN was 1234567".
  for (std::string_view verb : {std::string_view("is "), std::string_view("was ")}) {
    if (text.size() - i > verb.size() + 3 &&
        absl::EqualsIgnoreCase(ToAbsl(text.substr(i, verb.size())), ToAbsl(verb))) {
      i += verb.size();
      while (i < text.size() && (text[i] == ' ' || text[i] == '#' || text[i] == ':')) ++i;
      break;
    }
  }
  const size_t start = i;
  bool digit = false;
  while (i < text.size()) {
    const auto c = static_cast<unsigned char>(text[i]);
    if (std::isalnum(c)) {
      digit = digit || std::isdigit(c);
      ++i;
    } else if ((c == '-' || c == '.' || c == '/') && i + 1 < text.size() &&
               std::isalnum(static_cast<unsigned char>(text[i + 1])) && i > start) {
      ++i;
    } else {
      break;
    }
    if (i - start > 25) return false;
  }
  if (!digit || i - start < 4) return false;
  *b = start;
  *e = i;
  return true;
}

// The rest of the sentence after an address cue, when it holds a digit: up to
// a newline, '?', '!', ';', or a period that ends a sentence; at most 120 bytes.
bool AddressAfterCue(std::string_view text, size_t pos, size_t* b, size_t* e) {
  size_t i = pos;
  while (i < text.size() && (text[i] == ' ' || text[i] == ':')) ++i;
  const size_t start = i;
  bool digit = false;
  while (i < text.size() && i - start < 120) {
    const char c = text[i];
    if (c == '\n' || c == '?' || c == '!' || c == ';' || c == '"') break;
    if (c == '.' && (i + 1 >= text.size() || text[i + 1] == ' ' || text[i + 1] == '\n') &&
        (i + 2 >= text.size() || !std::islower(static_cast<unsigned char>(text[i + 2])))) {
      // "u. 15." and "Apt. 4" keep going; a sentence end stops.
      const bool abbrev =
          i >= 3 && text[i - 3] == ' ' && std::isalpha(static_cast<unsigned char>(text[i - 1]));
      if (!abbrev) break;
    }
    // A period after a postal code (four digits or more) ends the address
    // whatever follows: "texas 79902. i can't make it" in a lower-case letter
    // ("Csabai kapu 39. and" goes on).
    if (c == '.' && (i + 1 >= text.size() || text[i + 1] == ' ' || text[i + 1] == '\n')) {
      size_t d = i;
      while (d > start && std::isdigit(static_cast<unsigned char>(text[d - 1]))) --d;
      if (i - d >= 4) break;
    }
    digit = digit || std::isdigit(static_cast<unsigned char>(c));
    ++i;
  }
  if (!digit || i - start < 4 || i - start >= 120) return false;
  *b = start;
  *e = i;
  return true;
}

// Context vetoes for ambiguous date shapes: "CPAP 5/5", "1/2 NS", "pain 5/10",
// "1st step", "2nd cath". These are clinical ratios and ordinals, not dates.
bool Vetoed(std::string_view text, size_t b, size_t e, std::string_view rec) {
  auto digit_at = [&](size_t i) {
    return i < text.size() && std::isdigit(static_cast<unsigned char>(text[i]));
  };
  if (rec.starts_with("street_address")) {
    // "AGED 48 FEMALE ADMITTED FROM ST. AGNES'S": an age and a sex, not a
    // house number and a street ("1200 M ST NW" stays one).
    size_t k = b;
    while (k < e && digit_at(k)) ++k;
    if (k > b && k < e && text[k] == ' ') {
      static constexpr std::string_view kAgeSex[] = {"yo",   "yr",     "yrs", "year", "years",
                                                     "male", "female", "man", "woman"};
      const std::string w = LowerWordAfter(text, k);
      for (std::string_view a : kAgeSex) {
        if (w == a) return true;
      }
    }
  }
  if (rec == "age_over_89_sex" && IsTemperatureAt(text, b)) return true;
  if (rec == "date_md" || rec == "date_my" || rec == "date_md_dot_y" || rec == "date_md_dash" ||
      rec == "date_mdy_slash" || rec == "date_md_after_word" || rec == "date_range") {
    // Part of a chain of measurements, not a date: a decimal or a range joined
    // on ("CO/CI 5.8/2.71", "3.5-4/1.7", "5-6/3-4", "4/1.7").
    if (b >= 2 && (text[b - 1] == '.' || text[b - 1] == ',') && digit_at(b - 2)) return true;
    if (e + 1 < text.size() && (text[e] == '.' || text[e] == ',') && digit_at(e + 1)) return true;
    if (b >= 2 && text[b - 1] == '-' && digit_at(b - 2) && e + 1 < text.size() && text[e] == '-' &&
        digit_at(e + 1)) {
      return true;
    }
    // After a plural apostrophe ("bp 120-140'2/70's") or before a slash and a
    // digit ("5/3.27/928"): a chain of values.
    if (b >= 1 && text[b - 1] == '\'') return true;
    if (e + 1 < text.size() && text[e] == '/' && digit_at(e + 1)) return true;
    // A percentage or a longer slash chain: "10/5/40%", "AC/400/12/5/60%".
    if (e < text.size() && text[e] == '%') return true;
    if (b >= 2 && text[b - 1] == '/' && std::isalnum(static_cast<unsigned char>(text[b - 2]))) {
      return true;
    }
    // Vent settings glued to a rate multiplier: "700x10x.3/5".
    if (b >= 3 && text[b - 1] == '.' && (text[b - 2] == 'x' || text[b - 2] == 'X') &&
        digit_at(b - 3)) {
      return true;
    }
    // A pain score: "8/10 CP", "3/10 incisional pain", "3-4/10 cpain",
    // "rating 3/10", "pain as 5/10", "#4/10", "severe 10/10 angina".
    if (e >= 3 && text.substr(e - 3, 3) == "/10") {
      if (b >= 1 && text[b - 1] == '#') return true;
      const std::string w0 = LowerWordBefore(text, b);
      if (w0 == "rating" || w0 == "rated" || w0 == "as" || w0 == "severe" || w0 == "mild" ||
          w0 == "moderate" || w0 == "c/o") {
        return true;
      }
      // In brackets after the complaint: "chest pain (7/10)".
      if (b >= 1 && text[b - 1] == '(') {
        const std::string w1 = LowerWordBefore(text, b - 1);
        if (w1 == "pain" || w1 == "cp" || w1 == "discomfort" || w1 == "angina") return true;
      }
      size_t k = e;
      for (int words = 0; words < 2; ++words) {
        const std::string w = LowerWordAfter(text, k);
        if (w.empty()) break;
        if (w == "cp" || w == "pain" || w == "cpain" || w == "discomfort" || w == "angina") {
          return true;
        }
        k = text.find_first_not_of(' ', k);
        k = k == std::string_view::npos ? text.size() : k + w.size();
      }
    }
    // A ventilator setting: a ventilator mode or pressure word within the 40
    // bytes before on the same line, or right after ("CPAP .5% 5/5", "flowby
    // 6/3", "IMV 700x10, 50% 8/5", "10/5 BIPAP").
    if (e - b <= 5) {
      // (and a blood gas or a trial of settings: "Abg acceptable on 5/5",
      // "trialed on 5/5", "FROM 5/5 IPS/CPAP")
      static constexpr std::string_view kVent[] = {"cpap", "bipap", "psv",    "peep",
                                                   "simv", "imv",   "flowby", "fio2",
                                                   "ps",   "ips",   "abg",    "trialed"};
      size_t from = b > 40 ? b - 40 : 0;
      const size_t nl = text.rfind('\n', b);
      if (nl != std::string_view::npos && nl + 1 > from) from = nl + 1;
      std::string window(text.substr(from, b - from));
      for (char& c : window) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
      bool vent = false;
      for (auto v : kVent) {
        for (size_t at = window.find(v); !vent && at != std::string::npos;
             at = window.find(v, at + 1)) {
          const bool left = at == 0 || !std::isalpha(static_cast<unsigned char>(window[at - 1]));
          const size_t r = at + v.size();
          const bool right =
              r >= window.size() || !std::isalpha(static_cast<unsigned char>(window[r]));
          vent = left && right;
        }
      }
      const std::string next = LowerWordAfter(text, e);
      for (auto v : kVent) vent = vent || next == v;
      if (vent) return true;
    }
    // A proper fraction of a place: "upper 1/3 of", "rales up 1/4", "~1/3 up".
    if (e - b == 3 && text[b + 1] == '/' && text[b] < text[b + 2]) {
      const std::string before = LowerWordBefore(text, b);
      const std::string after = LowerWordAfter(text, e);
      if (before == "up" || before == "upper" || before == "lower" || after == "of" ||
          after == "up" || (b > 0 && text[b - 1] == '~')) {
        return true;
      }
      // The low end of a range of quantities: "q 1/2-1 hrs".
      if (e + 1 < text.size() && text[e] == '-' && digit_at(e + 1)) return true;
    }
    // A quantity before a unit or a count noun: "3/4 str", "4/4 bottles", "1/2 hour".
    const std::string unit = LowerWordAfter(text, e);
    static constexpr std::string_view kUnits[] = {
        "str",   "bottles", "bottle", "hour",    "hours",   "hr",   "amp",    "amps",
        "units", "unit",    "liter",  "liters",  "tsp",     "tbsp", "cup",    "cups",
        "dose",  "doses",   "inch",   "inches",  "cm",      "mm",   "lpm",    "meq",
        "u",     "way",     "gallon", "gallons", "breaths", "sem",  "murmur", "rate"};
    for (auto u : kUnits) {
      if (unit == u) return true;
    }
  }
  if (rec == "phone_labelled") {
    // "pH 7.35", "ph 7.44-7.46": a decimal measurement, not a phone number.
    size_t digits = 0;
    bool decimal = false;
    for (size_t i = b; i < e; ++i) {
      digits += digit_at(i) ? 1 : 0;
      decimal = decimal ||
                (text[i] == '.' && i > b && digit_at(i - 1) && digit_at(i + 1) && !digit_at(i + 3));
    }
    if (decimal && digits < 7) return true;
  }
  if (rec == "account_labelled") {
    // "A/C 600x12", "A/C 12/700/1.0/5": ventilator settings after assist-control.
    // An account number holds a run of 4+ digits and no slash.
    size_t run = 0, longest = 0;
    for (size_t i = b; i < e; ++i) {
      if (text[i] == '/') return true;
      run = digit_at(i) ? run + 1 : 0;
      longest = std::max(longest, run);
    }
    if (longest < 4) return true;
  }
  if (rec == "other_id_labelled") {
    // "ID: 98.9 po": a short decimal after a header, a temperature or a value.
    size_t digits = 0;
    bool dot = false, other = false;
    for (size_t i = b; i < e; ++i) {
      if (digit_at(i)) {
        ++digits;
      } else if (text[i] == '.') {
        dot = true;
      } else {
        other = true;
      }
    }
    if (dot && !other && digits <= 5) return true;
  }
  if (rec == "ipv4") {
    // "abg 80/48/7.45.34.7": blood gas values in a slash chain.
    if (b >= 2 && text[b - 1] == '/' && digit_at(b - 2)) return true;
  }
  if (rec == "date_month_word") {
    // "this may not be", "thinks this MAY BE R/T": the modal verb.
    if (e - b == 3 && (text[b] == 'm' || text[b] == 'M') &&
        (text[b + 1] == 'a' || text[b + 1] == 'A') && (text[b + 2] == 'y' || text[b + 2] == 'Y')) {
      const std::string next = LowerWordAfter(text, e);
      if (next == "be" || next == "not" || next == "have" || next == "need" || next == "also" ||
          next == "help" || next == "want") {
        return true;
      }
    }
  }
  if (rec == "plate_labelled") {
    // A plate holds a digit ("plate in frig", "PLATELETS" are not plates).
    bool digit = false;
    for (size_t i = b; i < e; ++i) digit = digit || digit_at(i);
    if (!digit) return true;
  }
  if (rec == "street_address_upper" || rec == "street_address_title" ||
      rec == "street_address_intl") {
    // A sentence break inside ("4 EXTREMITIES SPONTANEOUSLY. HEAD CT"): a
    // period after a word of 5+ letters ("Avda." and "Blvd." are shorter).
    for (size_t i = b + 5; i + 1 < e; ++i) {
      if (text[i] == '.' && text[i + 1] == ' ' &&
          std::isalpha(static_cast<unsigned char>(text[i - 5])) &&
          std::isalpha(static_cast<unsigned char>(text[i - 1])) &&
          std::isalpha(static_cast<unsigned char>(text[i - 2])) &&
          std::isalpha(static_cast<unsigned char>(text[i - 3])) &&
          std::isalpha(static_cast<unsigned char>(text[i - 4]))) {
        return true;
      }
    }
    // A number joined to a measurement ("5-5 WO ACUTE ST", ".015 1800 PER DR",
    // "@2200 PER DR.", ">30 PER DR.") or street words that are units and
    // function words ("4 MG SQ", "30 PER DR") are not an address ("W." is West).
    if (b > 0 && (text[b - 1] == '-' || text[b - 1] == '.' || text[b - 1] == '@' ||
                  text[b - 1] == '>' || text[b - 1] == '<' || text[b - 1] == '/')) {
      return true;
    }
    // A number after a vital sign's label is its reading, and a rhythm or a
    // rate after it is no street ("HR 99-104 NSR ST", "BP 120 SR ST").
    static constexpr std::string_view kVitalLabel[] = {"hr",  "bp",    "rr",   "sbp", "dbp",
                                                       "map", "pulse", "rate", "sat", "sats"};
    const std::string label = LowerWordBefore(text, b);
    for (auto x : kVitalLabel) {
      if (label == x) return true;
    }
    static constexpr std::string_view kNotStreet[] = {
        "per", "to",    "of", "with", "wo", "at",  "x",   "for", "and", "mg",   "mcg", "ml", "cc",
        "u",   "units", "g",  "kg",   "hr", "min", "sec", "l",   "meq", "mmhg", "nsr", "bpm"};
    size_t i = b;
    while (i < e && (digit_at(i) || text[i] == '-')) ++i;
    while (i < e) {
      while (i < e && !std::isalpha(static_cast<unsigned char>(text[i]))) ++i;
      size_t j = i;
      while (j < e && std::isalpha(static_cast<unsigned char>(text[j]))) ++j;
      std::string w(text.substr(i, j - i));
      for (char& c : w) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
      for (auto x : kNotStreet) {
        if (w == x) return true;
      }
      i = j;
    }
  }
  if (rec == "address_cue") {
    // The first number after the cue is a house number or a postal code, not
    // a percentage, a date, a time, a decade or a duration ("staying at 67%",
    // "on 7/23", "initially 120's", "at 10:30", "the 90s", "24 hour aide").
    size_t i = b;
    while (i < e && !digit_at(i)) ++i;
    while (i < e && digit_at(i)) ++i;
    if (i < text.size() && (text[i] == 's' || text[i] == 'S') &&
        (i + 1 >= text.size() || !std::isalpha(static_cast<unsigned char>(text[i + 1])))) {
      return true;
    }
    {
      std::string unit = LowerWordAfter(text, i);
      size_t after = i;
      while (after < text.size() && text[after] == ' ') ++after;
      after += unit.size();
      if (after < text.size() && (std::isalpha(static_cast<unsigned char>(text[after])) ||
                                  static_cast<unsigned char>(text[after]) >= 0x80)) {
        unit.clear();  // "1540 Mlýnská": a word that goes on is no unit
      }
      static constexpr std::string_view kDurations[] = {
          "hour",  "hours",  "hr",   "hrs",   "min", "minutes", "day", "days", "week", "weeks",
          "month", "months", "year", "years", "yr",  "yrs",     "mg",  "ml",   "cc",   "units"};
      for (auto u : kDurations) {
        if (unit == u) return true;
      }
    }
    if (i < text.size() && (text[i] == '%' || text[i] == '/' || text[i] == ':' || text[i] == '\'' ||
                            (text[i] == '.' && digit_at(i + 1)))) {
      return true;
    }
  }
  if (rec == "date_md_dash") {
    // "note 1-2 times daily", "since 2-3 days": a count range before a unit.
    static constexpr std::string_view kCounts[] = {
        "times", "x",    "day",   "days",   "week", "weeks", "wks",      "hr",    "hrs",    "hours",
        "min",   "mins", "month", "months", "yr",   "yrs",   "years",    "mg",    "ml",     "cc",
        "units", "l",    "cm",    "mm",     "tabs", "puffs", "episodes", "beats", "breaths"};
    const std::string after = LowerWordAfter(text, e);
    for (auto w : kCounts) {
      if (after == w) return true;
    }
    // "NURSING NOTE 7-3:": after "note", a nursing shift (7-3, 3-11, 11-7,
    // 7-7) is no date, unless the shift follows it ("note 11-7 7p-7a").
    if (LowerWordBefore(text, b) == "note") {
      static constexpr std::string_view kShifts[] = {"7-3", "3-11", "11-7", "7-7", "7-11", "11-3"};
      const std::string_view value = text.substr(b, e - b);
      size_t k = e;
      while (k < text.size() && text[k] == ' ') ++k;
      const bool shift_next = k + 1 < text.size() &&
                              std::isdigit(static_cast<unsigned char>(text[k])) &&
                              text.substr(k, 6).find_first_of("aApP") != std::string_view::npos;
      for (auto w : kShifts) {
        if (value == w && !shift_next) return true;
      }
    }
  }
  if (rec == "date_md" || rec == "date_my" || rec == "date_range") {
    static constexpr std::string_view kBefore[] = {
        "cpap",      "ps",      "psv",   "peep",  "simv",     "ac",      "a/c",      "bipap",
        "ipap",      "epap",    "vent",  "d5",    "pain",     "rales",   "crackles", "strength",
        "grade",     "ratio",   "x",     "of",    "ie",       "i/e",     "rate",     "settings",
        "set",       "fio2",    "vt",    "tv",    "pressure", "support", "rr",       "bp",
        "nbp",       "abp",     "map",   "cvp",   "pap",      "pcwp",    "hr",       "sat",
        "sats",      "o2",      "mg",    "pip",   "plat",     "gtt",     "drip",     "sliding",
        "scale",     "score",   "gcs",   "apgar", "mae",      "wean",    "weaned",   "decreased",
        "increased", "changed", "motor", "co",    "ci",       "svr",     "perrla",   "perrl"};
    std::string before = LowerWordBefore(text, b);
    if (const size_t slash = before.rfind('/');
        slash != std::string::npos && slash + 1 < before.size()) {
      before = before.substr(slash + 1);
    }
    // "IV in R AC 11/17": after a side, "AC" is the antecubital fossa (an
    // IV or a line site), not the assist-control mode.
    bool side_ac = false;
    if (before == "ac") {
      size_t k = b;
      while (k > 0 && !std::isalpha(static_cast<unsigned char>(text[k - 1]))) --k;
      while (k > 0 && std::isalpha(static_cast<unsigned char>(text[k - 1]))) --k;
      const std::string side = LowerWordBefore(text, k);
      side_ac = side == "r" || side == "l" || side == "rt" || side == "lt" || side == "right" ||
                side == "left";
    }
    for (auto w : kBefore) {
      if (before == w && !side_ac) return true;
    }
    // "1 1/2": a fraction after a whole number.
    if (b >= 2 && text[b - 1] == ' ' && std::isdigit(static_cast<unsigned char>(text[b - 2])) &&
        (b < 3 || !std::isalnum(static_cast<unsigned char>(text[b - 3])))) {
      const size_t slash = text.find('/', b);
      if (slash != std::string_view::npos && slash < e) {
        const std::string_view num = text.substr(b, slash - b);
        const std::string_view den = text.substr(slash + 1, e - slash - 1);
        if (num.size() == 1 && den.size() == 1 && num < den) return true;  // proper fraction
      }
    }
    const std::string after = LowerWordAfter(text, e);
    static constexpr std::string_view kAfter[] = {"ns",   "nss", "strength", "th",   "tabs", "tab",
                                                  "ml",   "cc",  "mg",       "peep", "ps",   "cpap",
                                                  "mmhg", "hrs", "days",     "wks",  "weeks"};
    for (auto w : kAfter) {
      if (after == w) return true;
    }
    if (e < text.size() && (text[e] == '%' || text[e] == '/')) return true;
  } else if (rec == "phone_local") {
    // "TV 900-1000", "IS 750-1000": round numbers are ranges, not local numbers.
    return e - b == 8 && text[e - 1] == '0' && text[e - 2] == '0';
  } else if (rec == "date_ordinal_ctx") {
    const std::string after = LowerWordAfter(text, e);
    if (!after.empty() && after != "of" && after != "at" && after != "and" && after != "or") {
      return true;  // "2nd cath", "1st step": an ordinal before a noun
    }
  }
  return false;
}

}  // namespace

Status RuleEngine::RunPatterns(std::string_view text, EngineContext& ctx, Findings* out) const {
  // Stage 1: Hyperscan (no start-of-match tracking) reports where matches end;
  // nearby ends of one pattern merge into a window. Stage 2: RE2 finds each
  // occurrence, with its value group, inside those windows only.
  ctx.matches.clear();
  ctx.open_window.assign(patterns_.size(), -1);
  if (text.size() > 0xFFFFFFFFu) return absl::ResourceExhaustedError("text too long for one scan");
  for (hs_database_t* db : dbs_) {
    const hs_error_t err = hs_scan(db, text.data(), static_cast<unsigned int>(text.size()), 0,
                                   ctx.scratch, &OnMatch, &ctx);
    if (err != HS_SUCCESS) {
      return absl::InternalError(absl::StrCat("pattern scan failed (hyperscan error ", err, ")"));
    }
  }
  re2::StringPiece input(text.data(), text.size());
  re2::StringPiece groups[2];
  for (const auto& hit : ctx.matches) {
    const CompiledPattern& p = patterns_[hit.id];
    const RE2& re = *p.re2;
    const int ngroups = std::min(re.NumberOfCapturingGroups(), 1) + 1;
    const int nsearch = p.group_is_match ? 1 : ngroups;
    const size_t back = p.spec->category == PhiCategory::kUrl ? kUrlWindowBack : kWindowBack;
    const size_t floor = hit.from > back ? hit.from - back : 0;
    size_t pos = floor;
    // RE2 starts where the first match it would find from `floor` can start
    // at the earliest, so it finds the same matches reading far fewer bytes.
    // That match ends at or after `first` (no end of this pattern lies in
    // [floor, first) unless an earlier window reaches past `floor`, as a URL
    // window can), so it starts no earlier than max_width before `first`, and
    // every byte between its start and `first` is one the pattern can consume.
    // When the previous window of this pattern reaches past `floor` (only URL
    // windows can: 4096 bytes back), the search from `floor` first finds
    // matches ending at or before that window's last end `prev_to` (found by
    // that window already: repeats, or parts of its spans) and then goes on
    // from prev_to + 1 at the latest, so a start after prev_to finds the same
    // later matches. The findings after conflict resolution are unchanged
    // (spans-check); only the repeats are no longer produced.
    if (hit.first >= floor) {
      const size_t lowest = hit.first - std::min(hit.first - floor, p.max_width);
      size_t start = hit.first;
      while (start > lowest && p.bytes.test(static_cast<unsigned char>(text[start - 1]))) --start;
      if (hit.prev_to == kNoWindow || hit.prev_to < floor || start > hit.prev_to) pos = start;
    }
    // RE2 sees a little past the window so that \b and lookahead-like
    // classes at its last end read the real next character; a match ending
    // past the window's last reported end is not a real one. A match starting
    // at `pos` ends at `pos + min_width` at the earliest, so once that passes
    // the window's last end no search can find one.
    const size_t limit = std::min(text.size(), hit.to + 64);
    while (pos + p.min_width <= hit.to && pos < text.size() &&
           re.Match(input, pos, limit, RE2::UNANCHORED, groups, nsearch)) {
      if (p.group_is_match) groups[1] = groups[0];
      const size_t mb = static_cast<size_t>(groups[0].data() - text.data());
      const size_t me = mb + groups[0].size();
      if (me > hit.to) break;
      size_t b = mb, e = me;
      if (p.spec->id_after_label) {
        pos = std::max(me, pos + 1);
        if (!IdAfterLabel(text, me, &b, &e)) continue;
      } else if (p.spec->address_after_cue) {
        pos = std::max(me, pos + 1);
        if (!AddressAfterCue(text, me, &b, &e)) continue;
      } else if (ngroups == 2) {
        if (groups[1].data() == nullptr || groups[1].empty()) {
          pos = std::max(me, pos + 1);
          continue;
        }
        b = static_cast<size_t>(groups[1].data() - text.data());
        e = b + groups[1].size();
        pos = std::max(e, pos + 1);
      } else {
        pos = std::max(me, pos + 1);
      }
      if (Vetoed(text, b, e, p.spec->name)) continue;
      if (p.spec->name == "street_address_intl" && VocabularyOnly(text.substr(b, e - b)) &&
          !(e - b > 4 && std::isdigit(static_cast<unsigned char>(text[b + 3])))) {
        continue;  // "750 Rate 10", "8 Wedge 13": a measurement, not "692 Varnholt 53"
      }
      float score = p.spec->base_score;
      if (p.spec->validate != nullptr && !p.spec->validate(text.substr(b, e - b))) {
        score = p.spec->invalid_score;
      }
      if (score <= 0.0f) continue;
      // Trim trailing punctuation that patterns may swallow (URLs, IDs); a
      // street address keeps the period of its abbreviated suffix ("Spruce St.").
      while (e > b && (text[e - 1] == '.' || text[e - 1] == ',' || text[e - 1] == ';' ||
                       text[e - 1] == ':' || text[e - 1] == '-' || text[e - 1] == ' ')) {
        if (text[e - 1] == '.' && p.spec->category == PhiCategory::kStreetAddress && e >= b + 3 &&
            std::isalpha(static_cast<unsigned char>(text[e - 2])) &&
            std::isalpha(static_cast<unsigned char>(text[e - 3]))) {
          break;
        }
        --e;
      }
      if (e > b) out->push_back(Finding{p.spec->category, b, e, score, p.spec->name});
    }
  }
  return absl::OkStatus();
}

namespace {

// An address continues over the lines or comma-separated parts that follow a
// street line: a town ("Toronto", "LONDON"), a region code ("ON", "CO"), a
// country, a postal code. Each part is at most three capitalised or all-caps
// words, or a 3-7 character postal code; a part with a lower-case word, or a
// sentence end, stops the block. Also joins a house number written before it.
// A part that runs on into prose ends the block at a postal code ("Norway
// 40817 in case of"), and after a unit number the town may follow on the same
// line ("Apt. 512 Wattle Flat NSW", up to the line's or sentence's end).

// True when the text before `end` is a unit designator and its number
// ("Apt. 512", "Suite 9B"); not "Room 4" or "Unit 2", which clinical notes use.
bool EndsWithUnitNumber(std::string_view text, size_t end) {
  size_t k = end;
  while (k > 0 && std::isalnum(static_cast<unsigned char>(text[k - 1])) && end - k < 6) --k;
  if (k == end || !std::isdigit(static_cast<unsigned char>(text[k]))) return false;
  while (k > 0 && (text[k - 1] == ' ' || text[k - 1] == '#' || text[k - 1] == '.')) --k;
  size_t w = k;
  while (w > 0 && std::isalpha(static_cast<unsigned char>(text[w - 1]))) --w;
  if (w == k || (w > 0 && std::isalnum(static_cast<unsigned char>(text[w - 1])))) return false;
  std::string word(text.substr(w, k - w));
  for (char& c : word) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return word == "apt" || word == "apartment" || word == "suite" || word == "ste" || word == "flat";
}

// True when the line at `pos` starts (after spaces) with a unit designator
// and its number ("Apt. 12", "Suite 300").
bool LineStartsWithUnit(std::string_view text, size_t pos) {
  while (pos < text.size() && (text[pos] == ' ' || text[pos] == '\t')) ++pos;
  size_t k = pos;
  while (k < text.size() && std::isalpha(static_cast<unsigned char>(text[k]))) ++k;
  size_t d = k;
  while (d < text.size() && (text[d] == '.' || text[d] == ' ' || text[d] == '#')) ++d;
  if (d >= text.size() || !std::isdigit(static_cast<unsigned char>(text[d]))) return false;
  while (d < text.size() && std::isalnum(static_cast<unsigned char>(text[d]))) ++d;
  return EndsWithUnitNumber(text, d);
}

// A postal code: 3-10 digits with at most one hyphen.
bool IsPostalDigits(std::string_view word) {
  return word.size() >= 3 && word.size() <= 10 &&
         std::isdigit(static_cast<unsigned char>(word[0])) &&
         std::all_of(word.begin(), word.end(), [](char c) {
           return std::isdigit(static_cast<unsigned char>(c)) || c == '-';
         });
}

// Past the marks that open a line of a quoted or bulleted block: '>' (e-mail
// quoting), '*', '|', '?' (a bullet lost to a wrong encoding) or a bullet
// character, then spaces. Returns `pos` when the line has none.
size_t SkipLineMarks(std::string_view text, size_t pos) {
  size_t k = pos;
  while (k < text.size() && (text[k] == ' ' || text[k] == '\t')) ++k;
  size_t marks = k;
  for (;;) {
    if (marks < text.size() &&
        (text[marks] == '>' || text[marks] == '*' || text[marks] == '|' || text[marks] == '?')) {
      ++marks;
    } else if (text.substr(marks, 3) == "\xE2\x80\xA2") {
      marks += 3;
    } else {
      break;
    }
  }
  if (marks == k || marks - k > 4) return pos;
  while (marks < text.size() && (text[marks] == ' ' || text[marks] == '\t')) ++marks;
  return marks;
}

// True when text[at..] is ", <US state> <ZIP>" in any letter case: a USPS
// code or a state's name, then five digits (and maybe "-" and four more).
// The words before it on an address line name the town ("18281 w. magnolia
// st, plains, ks 66804"), whatever their case.
bool StateAndZipAt(std::string_view text, size_t at) {
  // USPS codes (with DC and PR), two letters each, then the states' names.
  static constexpr std::string_view kCodes =
      "al ak az ar ca co ct de dc fl ga hi id il in ia ks ky la me md ma mi mn ms mo mt ne "
      "nv nh nj nm ny nc nd oh ok or pa pr ri sc sd tn tx ut vt va wa wv wi wy";
  static constexpr std::string_view kNames[] = {
      "alabama",       "alaska",      "arizona",        "arkansas",      "california",
      "colorado",      "connecticut", "delaware",       "florida",       "georgia",
      "hawaii",        "idaho",       "illinois",       "indiana",       "iowa",
      "kansas",        "kentucky",    "louisiana",      "maine",         "maryland",
      "massachusetts", "michigan",    "minnesota",      "mississippi",   "missouri",
      "montana",       "nebraska",    "nevada",         "new hampshire", "new jersey",
      "new mexico",    "new york",    "north carolina", "north dakota",  "ohio",
      "oklahoma",      "oregon",      "pennsylvania",   "rhode island",  "south carolina",
      "south dakota",  "tennessee",   "texas",          "utah",          "vermont",
      "virginia",      "washington",  "west virginia",  "wisconsin",     "wyoming",
  };
  if (at >= text.size() || text[at] != ',') return false;
  size_t i = at + 1;
  while (i < text.size() && text[i] == ' ') ++i;
  auto matches = [&](std::string_view st) {
    if (text.size() - i < st.size() + 6) return false;
    bool eq = true;
    for (size_t k = 0; k < st.size() && eq; ++k) {
      eq = std::tolower(static_cast<unsigned char>(text[i + k])) == st[k];
    }
    if (!eq) return false;
    size_t z = i + st.size();
    if (text[z] != ' ') return false;
    while (z < text.size() && text[z] == ' ') ++z;
    size_t d = z;
    while (d < text.size() && std::isdigit(static_cast<unsigned char>(text[d]))) ++d;
    return d - z == 5 && (d == text.size() || !std::isalnum(static_cast<unsigned char>(text[d])));
  };
  for (size_t c = 0; c + 2 <= kCodes.size(); c += 3) {
    if (matches(kCodes.substr(c, 2))) return true;
  }
  for (std::string_view name : kNames) {
    if (matches(name)) return true;
  }
  return false;
}

void ExtendAddressBlocks(std::string_view text, Findings* findings) {
  const size_t n_before = findings->size();
  Findings lines;  // the later lines of quoted or bulleted blocks
  for (size_t fi = 0; fi < n_before; ++fi) {
    Finding& f = (*findings)[fi];
    if (f.category != PhiCategory::kStreetAddress) continue;
    size_t end = f.end;
    // A block whose lines open with marks is reported line by line, without them.
    size_t line_begin = f.begin, first_end = 0;
    auto new_line = [&](bool marked, size_t at) {
      if (!marked) return;
      if (first_end == 0) {
        first_end = end;
      } else {
        lines.push_back(Finding{f.category, line_begin, end, f.score, f.recognizer});
      }
      line_begin = at;
    };
    for (int parts = 0; parts < 5; ++parts) {
      size_t i = end;
      int newlines = 0;
      bool comma = false;
      bool marked = false;
      while (i < text.size() && (text[i] == ' ' || text[i] == '\n' || text[i] == ',' ||
                                 text[i] == '\t' || text[i] == '\r')) {
        newlines += text[i] == '\n';
        comma = comma || text[i] == ',';
        ++i;
        // A quoted or bulleted block: the marks that open each of its lines
        // ("> ", "* ", "| ", a bullet) are no part of the address.
        if (text[i - 1] == '\n') {
          const size_t at = i;
          i = SkipLineMarks(text, i);
          marked = marked || i != at;
        }
      }
      if (i >= text.size() || newlines > 1) break;
      const bool same_line = newlines == 0 && !comma && i - end < 2;
      // One part: up to the next comma, newline or end.
      size_t j = i;
      while (j < text.size() && text[j] != ',' && text[j] != '\n' && j - i < 48) ++j;
      // On the street's own line only after a unit number, or when the next
      // line is the unit ("14 Oak Street Kew Gardens\n Suite 3").
      if (same_line && !EndsWithUnitNumber(text, end) &&
          !(j < text.size() && text[j] == '\n' && LineStartsWithUnit(text, j + 1))) {
        break;
      }
      std::string_view part = text.substr(i, j - i);
      // A town in any case when a state and a ZIP follow it: one to three
      // words of letters ("plains", "deep gap", "st. marys").
      bool town = !same_line && j - i <= 32 && StateAndZipAt(text, j);
      for (size_t k = 0, words = 0; town && k < part.size(); ++k) {
        const auto c = static_cast<unsigned char>(part[k]);
        town = std::isalpha(c) || c == ' ' || c == '.' || c == '-' || c == '\'';
        if (std::isalpha(c) && (k == 0 || part[k - 1] == ' ')) town = town && ++words <= 3;
      }
      // Every word of the part must start upper-case or be a digit group. A
      // part that runs on into other words ends at a postal code (or, on the
      // line of a unit number, at a sentence end).
      bool ok = true;
      bool runs_on = j - i >= 48;
      int words = 0;
      size_t k = 0;
      size_t last_code_end = 0;  // end of the part's words up to a postal code
      size_t last_word_end = 0;
      bool stop_after = false;  // the part ends at sentence punctuation
      while (k < part.size() && ok) {
        while (k < part.size() && part[k] == ' ') ++k;
        size_t w = k;
        while (w < part.size() && part[w] != ' ') ++w;
        if (w == k) break;
        std::string_view word = part.substr(k, w - k);
        // A field label ("County:", "Patient:") starts something else.
        if (word.back() == ':') {
          ok = false;
          break;
        }
        // Sentence punctuation after the word ends the part ("Norway 40817?").
        // A period ends a sentence after a number or a word of 5+ letters
        // ("Norway 40817. I"), not after an abbreviation ("u. 31.", "St.").
        bool sentence_end = false;
        bool period = false;
        while (!word.empty() && (word.back() == '?' || word.back() == '!' || word.back() == ';' ||
                                 word.back() == '.')) {
          sentence_end = sentence_end || word.back() != '.';
          period = period || word.back() == '.';
          word.remove_suffix(1);
        }
        if (word.empty()) {
          ok = false;
          break;
        }
        if (period && (word.size() >= 5 || std::isdigit(static_cast<unsigned char>(word.back())))) {
          sentence_end = true;
        }
        const auto c0 = static_cast<unsigned char>(word[0]);
        const bool digits = std::all_of(word.begin(), word.end(), [](char c) {
          return std::isdigit(static_cast<unsigned char>(c)) || c == '-';
        });
        // Place-name particles: "Torrenova del Campo", "Quinta de Sao Brenio".
        static constexpr std::string_view kParticles[] = {"de", "del", "la",  "le",  "di",  "da",
                                                          "do", "van", "von", "der", "den", "na",
                                                          "y",  "e",   "des", "du",  "am",  "an"};
        bool particle = words > 0;
        if (particle) {
          particle = false;
          for (std::string_view pw : kParticles) particle = particle || word == pw;
        }
        const bool good = (std::isupper(c0) || c0 >= 0x80 || c0 == '(' || particle || town ||
                           (digits && word.size() >= 3 && word.size() <= 10));
        if (!good) {
          ok = false;
          break;
        }
        ++words;
        last_word_end = k + word.size();
        if (IsPostalDigits(word) && words >= 2) last_code_end = last_word_end;
        k = w;
        if (sentence_end && k < part.size()) {
          stop_after = true;
          break;
        }
      }
      // A whole part, or words up to a sentence end (or, on a unit number's
      // line, up to the first word that is not a place's).
      if (((ok && !runs_on) || stop_after || same_line) && words > 0 && words <= 4) {
        new_line(marked, i);
        end = i + last_word_end;
        if (ok && !runs_on && !stop_after) continue;
        break;
      }
      // The part runs on: keep its words up to a postal code.
      if (last_code_end > 0 && words <= 5) {
        new_line(marked, i);
        end = i + last_code_end;
      }
      break;
    }
    if (first_end != 0) {
      lines.push_back(Finding{f.category, line_begin, end, f.score, f.recognizer});
      end = first_end;
    }
    f.end = end;
    // "9554 62 Rue Talmont": a house number written before the street number.
    size_t b = f.begin;
    size_t k = b;
    while (k > 0 && text[k - 1] == ' ') --k;
    size_t d = k;
    while (d > 0 && std::isdigit(static_cast<unsigned char>(text[d - 1]))) --d;
    if (d < k && k - d <= 6 && k < b &&
        (d == 0 || !std::isalnum(static_cast<unsigned char>(text[d - 1])))) {
      f.begin = d;
    }
  }
  findings->insert(findings->end(), lines.begin(), lines.end());
}

// An intersection is an address: "the corner of Elm Street and 5th", "at the
// corner of Dunmore and Vale". A name or place found right after "corner of"
// takes the phrase (and a "the" before it) into a street address.
void ExtendIntersections(std::string_view text, Findings* findings) {
  const size_t n_before = findings->size();
  for (size_t fi = 0; fi < n_before; ++fi) {
    const Finding f = (*findings)[fi];
    const PhiCategory c = f.category;
    if (c != PhiCategory::kStreetAddress && c != PhiCategory::kCity &&
        c != PhiCategory::kLocation && c != PhiCategory::kFacility && c != PhiCategory::kName) {
      continue;
    }
    size_t k = f.begin;
    while (k > 0 && text[k - 1] == ' ') --k;
    auto ends_with_word = [&](size_t at, std::string_view w) {
      if (at < w.size()) return false;
      if (at > w.size() && std::isalnum(static_cast<unsigned char>(text[at - w.size() - 1]))) {
        return false;
      }
      for (size_t j = 0; j < w.size(); ++j) {
        if (std::tolower(static_cast<unsigned char>(text[at - w.size() + j])) != w[j]) {
          return false;
        }
      }
      return true;
    };
    if (k == f.begin || !ends_with_word(k, "of")) continue;
    size_t b = k - 2;
    while (b > 0 && text[b - 1] == ' ') --b;
    if (!ends_with_word(b, "corner")) continue;
    b -= 6;
    size_t t = b;
    while (t > 0 && text[t - 1] == ' ') --t;
    if (ends_with_word(t, "the")) b = t - 3;
    // The streets: capitalised words or numbers ("Elm Street", "5th", "St."),
    // joined by "and" or "&", on one line.
    size_t end = f.begin, p = f.begin;
    bool joined = false;
    for (int words = 0; words < 10; ++words) {
      while (p < text.size() && text[p] == ' ') ++p;
      size_t w = p;
      while (w < text.size() && text[w] != ' ' && text[w] != '\n' && text[w] != ',' &&
             text[w] != '?' && text[w] != '!' && text[w] != ';' && text[w] != ')') {
        ++w;
      }
      if (w == p) break;
      const std::string_view word = text.substr(p, w - p);
      if (!joined && words > 0 && (word == "and" || word == "&")) {
        joined = true;
        p = w;
        continue;
      }
      const auto c0 = static_cast<unsigned char>(word[0]);
      if (!std::isupper(c0) && !std::isdigit(c0) && c0 < 0x80) break;
      size_t word_end = w;
      // A period ends the phrase after a number or a word of 5+ letters ("St." does not).
      const bool period = word.back() == '.' &&
                          (word.size() >= 6 || std::isdigit(static_cast<unsigned char>(word[0])));
      if (period) --word_end;
      end = std::max(end, word_end);
      p = w;
      if (period || (w < text.size() && text[w] != ' ')) break;
    }
    findings->push_back(
        Finding{PhiCategory::kStreetAddress, b, std::max(end, f.end), f.score, "location_rules"});
  }
}

// "St. Joseph's Hospital", "ST. ELIZABETH'S": a saint's abbreviation found as a
// place of its own ("St", a facility word) with the place or facility name
// after it ("Joseph", a city) are one facility name; ExtendDatesAndInitials
// then gives it its possessive.
void JoinSaintNames(std::string_view text, Findings* findings) {
  auto place = [](PhiCategory c) {
    return c == PhiCategory::kFacility || c == PhiCategory::kCity || c == PhiCategory::kLocation;
  };
  for (Finding& f : *findings) {
    if (!place(f.category) || f.end - f.begin > 5) continue;
    std::string w(text.substr(f.begin, f.end - f.begin));
    for (char& c : w) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    if (w != "st" && w != "ste" && w != "saint") continue;
    size_t next = f.end;
    if (next < text.size() && text[next] == '.') ++next;
    if (next >= text.size() || text[next] != ' ') continue;
    ++next;
    for (const Finding& g : *findings) {
      if (g.begin == next && place(g.category) && g.end > f.end) {
        // A facility's when a possessive follows ("St. Joseph's"), else the
        // name's own ("St. Louis", a city).
        const bool possessive = g.end + 1 < text.size() && text[g.end] == '\'' &&
                                (text[g.end + 1] == 's' || text[g.end + 1] == 'S');
        f.end = g.end;
        f.category = possessive ? PhiCategory::kFacility : g.category;
        f.score = std::max(f.score, g.score);
        break;
      }
    }
  }
}

// A time written after a date is part of it: "3/23/2015 2355", "10/05/2012 @
// 2305", "May 5, 2022 0610", "6.1.2017 1:33". Four-digit military times count
// only after a date with a year and not before a lower-case word ("1/2/2020
// 1000 units"). And a name that ends in an initial takes its period ("Ettie P.").
void ExtendDatesAndInitials(std::string_view text, Findings* findings) {
  auto digit = [&](size_t i) { return i < text.size() && text[i] >= '0' && text[i] <= '9'; };
  auto alpha = [&](size_t i) {
    return i < text.size() && std::isalpha(static_cast<unsigned char>(text[i]));
  };
  std::vector<Finding> range_starts;
  for (Finding& f : *findings) {
    // "St. Mary's Hospital": the possessive belongs to the facility's name.
    if (f.category == PhiCategory::kFacility && text.size() - f.end >= 2 && (text[f.end] == '\'') &&
        (text[f.end + 1] == 's' || text[f.end + 1] == 'S') && !alpha(f.end + 2)) {
      f.end += 2;
      continue;
    }
    if (f.category == PhiCategory::kName) {
      if (f.end < text.size() && text[f.end] == '.' && f.end >= f.begin + 1 && alpha(f.end - 1) &&
          (f.end - 1 == f.begin || !alpha(f.end - 2))) {
        ++f.end;
      }
      continue;
    }
    if (f.category != PhiCategory::kDate) continue;
    // A range of days before a day and a month: "3->4 June", "10-11 Mar": the
    // first day is a date too (the arrow or dash is not).
    if (digit(f.begin) && f.begin >= 2) {
      size_t d = f.begin;
      while (d < f.end && digit(d)) ++d;
      size_t b = f.begin;
      if (d - f.begin <= 2 && d < f.end && text[d] == ' ' && alpha(d + 1)) {
        if (text[b - 1] == '>' && b >= 3 && text[b - 2] == '-') {
          b -= 2;
        } else if (text[b - 1] == '-') {
          b -= 1;
        }
        size_t k = b;
        while (k > 0 && digit(k - 1) && b - k < 3) --k;
        int day = 0;
        for (size_t c = k; c < b; ++c) day = day * 10 + (text[c] - '0');
        if (b < f.begin && day >= 1 && day <= 31 &&
            (k == 0 || (!digit(k - 1) && !alpha(k - 1) && text[k - 1] != '/' &&
                        text[k - 1] != '.' && text[k - 1] != '-'))) {
          range_starts.push_back(Finding{PhiCategory::kDate, k, b, f.score, f.recognizer});
        }
      }
    }
    size_t i = f.end;
    size_t spaces = 0;
    while (i < text.size() && text[i] == ' ' && spaces < 3) ++i, ++spaces;
    if (spaces == 0) continue;
    if (i < text.size() && text[i] == '@') {
      ++i;
      while (i < text.size() && text[i] == ' ') ++i;
    } else if (text.size() - i > 3 && (text[i] == 'a' || text[i] == 'A') &&
               (text[i + 1] == 't' || text[i + 1] == 'T') && text[i + 2] == ' ') {
      i += 3;
    }
    const size_t t = i;
    size_t j = t;
    while (digit(j) && j - t < 4) ++j;
    size_t end = 0;
    if ((j - t == 1 || j - t == 2) && j < text.size() && text[j] == ':' && digit(j + 1) &&
        digit(j + 2) && !digit(j + 3)) {
      end = j + 3;
      if (end < text.size() && text[end] == ':' && digit(end + 1) && digit(end + 2)) end += 3;
      size_t k = end;
      if (k < text.size() && text[k] == ' ') ++k;
      if (text.size() - k >= 2 &&
          (text[k] == 'a' || text[k] == 'p' || text[k] == 'A' || text[k] == 'P') &&
          (text[k + 1] == 'm' || text[k + 1] == 'M') && !alpha(k + 2)) {
        end = k + 2;
      }
    } else if (j - t == 4 && !digit(j) && !alpha(j) && text[t] <= '2' &&
               (text[t] < '2' || text[t + 1] <= '3') && text[t + 2] <= '5') {
      // Military time: only after a date that holds a year.
      int groups = 0, run = 0, longest = 0;
      for (size_t k = f.begin; k <= f.end; ++k) {
        if (k < f.end && digit(k)) {
          ++run;
        } else {
          if (run > 0) ++groups;
          longest = std::max(longest, run);
          run = 0;
        }
      }
      size_t k = j;
      while (k < text.size() && text[k] == ' ') ++k;
      static constexpr std::string_view kUnits[] = {"mg",  "mcg",  "ml", "cc",    "g",
                                                    "kg",  "u",    "iu", "units", "unit",
                                                    "meq", "mmol", "l",  "x",     "times"};
      bool unit_next = false;
      if (k > j) {
        const std::string next = LowerWordAfter(text, k);
        for (std::string_view u : kUnits) unit_next = unit_next || next == u;
      }
      if ((groups >= 3 || longest >= 4) && !unit_next) end = j;
    }
    if (end != 0) f.end = end;
  }
  findings->insert(findings->end(), range_starts.begin(), range_starts.end());
}

}  // namespace

Status RuleEngine::Scan(std::string_view text, ScanContext& base_ctx, Findings* out) const {
  out->clear();
  if (text.size() > options().max_text_bytes) {
    return absl::ResourceExhaustedError(absl::StrCat(
        "text of ", text.size(), " bytes exceeds the scan limit of ", options().max_text_bytes));
  }
  auto& ctx = static_cast<EngineContext&>(base_ctx);
  if (ctx.scratch == nullptr) return absl::InternalError("scan context has no pattern scratch");
  if (text.empty()) return absl::OkStatus();
  // Windows line ends: the rules read a line's end as '\n' just after it, so
  // "\r\n" is scanned as " \n" (same length: offsets are the text's).
  if (std::memchr(text.data(), '\r', text.size()) != nullptr) {
    ctx.lf_text.assign(text.data(), text.size());
    for (size_t i = 0; i + 1 < ctx.lf_text.size(); ++i) {
      if (ctx.lf_text[i] == '\r' && ctx.lf_text[i + 1] == '\n') ctx.lf_text[i] = ' ';
    }
    text = ctx.lf_text;
  }
  // A stacked tagger reads the rule findings, so the rules run in model mode too.
  const bool rules =
      options().mode != EngineOptions::Mode::kModel || (tagger_ != nullptr && tagger_->stacked());
  if (rules && (options().stages & EngineOptions::kPatternStage)) {
    PHIGATE_RETURN_IF_ERROR(RunPatterns(text, ctx, out));
  }
  if (rules && (options().stages & EngineOptions::kDictionaryStage)) RunTokenRules(text, ctx, out);
  if (rules) {
    ExtendAddressBlocks(text, out);
    ExtendIntersections(text, out);
    JoinSaintNames(text, out);
    ExtendDatesAndInitials(text, out);
  }
  if (tagger_ != nullptr) {
    PHIGATE_RETURN_IF_ERROR(RunTagger(*tagger_, options().mode, text, &ctx.model_findings, out, {},
                                      options().veto_score));
  }
  ResolveConflicts(text, out);
  const CategorySet& want = options().categories;
  const float min_score = options().min_score;
  out->erase(std::remove_if(out->begin(), out->end(),
                            [&](const Finding& f) {
                              return f.score < min_score || !want.Contains(f.category);
                            }),
             out->end());
  return absl::OkStatus();
}

}  // namespace internal

namespace {

std::string ModelPath(const EngineOptions& o) {
  return o.model_path.empty() ? paths::ModelPath() : o.model_path;
}

std::string DataDir(const EngineOptions& o) {
  return o.data_dir.empty() ? paths::DataDir() : o.data_dir;
}

}  // namespace

std::string ResolvedModelPath(const EngineOptions& options) { return ModelPath(options); }

using internal::CompiledPattern;
using internal::RuleEngine;

Result<std::unique_ptr<Engine>> Engine::Create(const EngineOptions& options) {
  if (options.min_score < 0.0f || options.min_score > 1.0f) {
    return absl::InvalidArgumentError("min_score must be within [0, 1]");
  }
  if (!(options.veto_score >= 0.0f && options.veto_score <= 1.0f)) {
    return absl::InvalidArgumentError("veto_score must be within [0, 1]");
  }
  PHIGATE_ASSIGN_OR_RETURN(std::unique_ptr<Lexicon> lexicon, Lexicon::Load(DataDir(options)));

  std::span<const PatternSpec> specs = DefaultPatterns();
  std::vector<CompiledPattern> compiled;
  compiled.reserve(specs.size());
  for (size_t i = 0; i < specs.size(); ++i) {
    const PatternSpec& s = specs[i];
    // Every pattern also compiles in RE2, which finds the spans and value groups.
    RE2::Options ro;
    ro.set_case_sensitive(!s.caseless);
    ro.set_log_errors(false);
    ro.set_max_mem(8 << 20);
    ro.set_encoding(RE2::Options::EncodingLatin1);  // bytes, as Hyperscan sees them
    auto re = std::make_unique<RE2>(re2::StringPiece(s.regex.data(), s.regex.size()), ro);
    if (!re->ok()) {
      return absl::InternalError(
          absl::StrCat("pattern ", ToAbsl(s.name), " does not compile in RE2"));
    }
    const std::string expr(s.regex);
    hs_expr_info_t* info = nullptr;
    hs_compile_error_t* ierr = nullptr;
    if (hs_expression_info(expr.c_str(), s.caseless ? HS_FLAG_CASELESS : 0u, &info, &ierr) !=
        HS_SUCCESS) {
      hs_free_compile_error(ierr);
      return absl::InternalError(
          absl::StrCat("pattern ", ToAbsl(s.name), " does not compile in Hyperscan"));
    }
    const bool group_is_match = re->NumberOfCapturingGroups() >= 1 && GroupIsWholeMatch(s.regex);
    CompiledPattern cp{&s,
                       std::move(re),
                       MatchableBytes(s),
                       info->min_width,
                       info->max_width == UINT_MAX ? SIZE_MAX : size_t{info->max_width},
                       group_is_match};
    std::free(info);  // allocated with Hyperscan's default allocator (malloc)
    compiled.push_back(std::move(cp));
  }
  // The build's precompiled databases when they hold exactly these rows for
  // this CPU, else compiled now (pattern_db.h). Conflict resolution does not
  // depend on the order of reports (resolve.cc), so the layout only changes speed.
  PHIGATE_ASSIGN_OR_RETURN(
      PatternDatabases databases,
      LoadPatternDatabases(specs, PatternDatabaseSpecs(specs), EmbeddedPatternDatabases()));
  std::vector<hs_database_t*> dbs = databases.Release();
  auto free_dbs = [&dbs] {
    for (hs_database_t* db : dbs) hs_free_database(db);  // accepts nullptr
  };
  std::unique_ptr<model::Tagger> tagger;
  if (options.mode != EngineOptions::Mode::kRules) {
    auto loaded = model::Tagger::Load(ModelPath(options));
    if (!loaded.ok()) {
      free_dbs();
      return loaded.status();
    }
    tagger = std::move(loaded).value();
    // A stacked model made for another rule-hint encoding is refused.
    if (Status st = CheckModelCompatible(*tagger, nullptr); !st.ok()) {
      free_dbs();
      return st;
    }
  }
  return std::unique_ptr<Engine>(new RuleEngine(options, std::move(dbs), std::move(compiled),
                                                std::move(lexicon), std::move(tagger)));
}

Result<EngineOptions::Mode> ParseMode(std::string_view name) {
  if (name == "rules") return EngineOptions::Mode::kRules;
  if (name == "model") return EngineOptions::Mode::kModel;
  if (name == "both") return EngineOptions::Mode::kBoth;
  if (name == "union") return EngineOptions::Mode::kUnion;
  return absl::InvalidArgumentError(
      absl::StrCat("unknown detection mode '", ToAbsl(name), "' (rules, model, both or union)"));
}

Result<Findings> Engine::Scan(std::string_view text) const {
  thread_local const Engine* owner = nullptr;
  thread_local std::unique_ptr<ScanContext> ctx;
  if (owner != this || !ctx) {
    ctx = NewContext();
    owner = this;
  }
  Findings out;
  PHIGATE_RETURN_IF_ERROR(Scan(text, *ctx, &out));
  return out;
}

bool WrittenAsAge(std::string_view text, size_t begin, size_t end, std::string_view earlier) {
  // After: an age unit (the "age_over_89" row's), or a sex letter ("age_over_89_sex").
  size_t k = end;
  if (k < text.size() && (text[k] == ' ' || text[k] == '-')) ++k;
  std::string after(text.substr(std::min(k, text.size()), 4));
  for (char& c : after) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  for (std::string_view unit : {"yo", "y/o", "y.o", "y-o", "yr", "year"}) {
    if (after.starts_with(unit)) return true;
  }
  // Before: the label of "age_over_89_label", also in `earlier`.
  std::string back(earlier.substr(earlier.size() - std::min<size_t>(earlier.size(), 24)));
  back.append(text.substr(begin - std::min<size_t>(begin, 24), std::min<size_t>(begin, 24)));
  while (!back.empty() && back.back() == '=') back.pop_back();
  const std::string before = internal::LowerWordBefore(back, back.size());
  if (before == "age" || before == "ages" || before == "aged" || before == "age/sex" ||
      before == "age/gender") {
    return true;
  }
  const bool sex = !after.empty() && (after[0] == 'm' || after[0] == 'f') &&
                   (after.size() == 1 || !std::isalpha(static_cast<unsigned char>(after[1])));
  return sex && !internal::IsTemperatureAt(back, back.size());
}

}  // namespace phigate::detect
