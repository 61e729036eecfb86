// The pattern table: one row per PHI pattern (Presidio's PatternRecognizer).
// All rows compile into Hyperscan (pattern_db.cc's kOwnDatabase decides which rows
// share a database); a row's optional capture group 1 (RE2, run only on
// matches) narrows the span to the value, so labelled patterns ("MRN: 12345")
// report only the identifier.
#ifndef PHIGATE_SRC_DETECT_PATTERNS_H_
#define PHIGATE_SRC_DETECT_PATTERNS_H_

#include <bitset>
#include <span>
#include <string_view>

#include "phigate/core/phi_category.h"

namespace phigate::detect {

struct PatternSpec {
  std::string_view name;   // static recognizer name, e.g. "us_ssn_dashed"
  std::string_view regex;  // Hyperscan and RE2 syntax: no backreferences, no lookaround
  PhiCategory category;
  float base_score = 0.5f;
  bool caseless = true;
  bool (*validate)(std::string_view value) = nullptr;  // on the value (group 1 or whole)
  float invalid_score = 0.0f;                          // score when validate() fails (0 = drop)
  // The regex matches only a label ("MRN #:"); the value is the identifier that
  // follows it (4-25 characters of [A-Za-z0-9] joined by - . /, with a digit).
  bool id_after_label = false;
  // The regex matches a cue ("lives at", "address:"); the value is the rest of
  // the sentence when it holds a digit (a house number or postal code).
  bool address_after_cue = false;
};

std::span<const PatternSpec> DefaultPatterns();

// Every byte a match of `spec.regex` can consume (over-approximated: an
// unsupported construct such as '.' or "(?i)" gives all 256). Zero-width
// assertions (\b, ^, $) consume nothing. With `spec.caseless` a letter also
// admits its other case (Latin-1 included, as RE2 folds it). The rule engine
// uses it to bound where a match that reaches a Hyperscan-reported end can
// start: no byte outside the set lies inside any match.
std::bitset<256> MatchableBytes(const PatternSpec& spec);

// True when capture group 1 always spans the whole match: the regex is a
// capturing group with only zero-width assertions (\b, ^, $) around it, as in
// "\b([0-9]{3}-[0-9]{2}-[0-9]{4})\b". RE2 then finds the value without its
// (slower) submatch engine.
bool GroupIsWholeMatch(std::string_view regex);

}  // namespace phigate::detect

#endif  // PHIGATE_SRC_DETECT_PATTERNS_H_
