// Tokenizer, gazetteer and hashed feature extraction of the sequence tagger.
//
// Tokens: a byte loop. A run of ASCII letters, digits and bytes >= 0x80 (UTF-8
// sequences, valid or not) is one token; every other printable ASCII byte is a
// token of its own; whitespace and control bytes (NUL included) separate
// tokens. Offsets are bytes into the text, so invalid UTF-8 is harmless.
//
// Features: each token gets exactly kFeaturesPerToken hashed features (word,
// shape, affixes, case, gazetteer hits, a +-2 context window, the previous and
// next words skipping punctuation, trigger words, position in the line), each
// a row index in a table of 2^hash_bits rows (feature hashing).
//
// Example:
//   std::vector<Token> tokens;
//   Tokenize("Dr. Alvarez seen 3/14", &tokens);   // Dr . Alvarez seen 3 / 14
//   FeatureExtractor fx(&gazetteer, 18);
//   std::vector<uint32_t> rows;
//   fx.Extract(text, tokens, &rows);   // tokens.size() * kFeaturesPerToken rows
#ifndef PHIGATE_MODEL_FEATURES_H_
#define PHIGATE_MODEL_FEATURES_H_

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "phigate/core/finding.h"
#include "phigate/core/status.h"

namespace phigate::model {

struct Token {
  size_t begin = 0;  // byte offsets, [begin, end)
  size_t end = 0;
  uint8_t flags = 0;  // kTokenLineStart | kTokenSpaceBefore
};
inline constexpr uint8_t kTokenLineStart = 1;    // first token of its line
inline constexpr uint8_t kTokenSpaceBefore = 2;  // whitespace right before it

// Appends the tokens of `text` to *out (cleared first).
void Tokenize(std::string_view text, std::vector<Token>* out);

// Word shape: each byte mapped to X (upper), x (lower), d (digit), u (byte >=
// 0x80) or itself (punctuation); runs longer than 4 cut to 4:
// "Smith" -> "Xxxxx", "Alexandria" -> "Xxxxx", "2024" -> "dddd", "3rd" -> "dxx".
std::string WordShape(std::string_view word);
// Short shape: runs collapsed to one: "Smith" -> "Xx", "MRN4429" -> "Xd".
std::string ShortShape(std::string_view word);

// Gazetteer bits of a lower-cased word. The low 8 bits are those of feature
// sets 1 and 2; the high bits are loaded only for extended models (feature
// sets 3 and 4, LoadDirectory's `extended`).
enum GazetteerFlag : uint16_t {
  kGazFirstName = 1,
  kGazSurname = 2,
  kGazCity = 4,             // a one-word city, or one word of a multi-word city
  kGazState = 8,            // a US state name word or postal code
  kGazCommon = 16,          // a common English word
  kGazTrigger = 32,         // built in: a title or label word (dr, mr, mrn, dob, ...)
  kGazMonth = 64,           // built in: month and weekday names and abbreviations
  kGazFrequent = 128,       // a first name or surname of the top weight decile
  kGazMedical = 256,        // a word of the clinical dictionary (medical_words.txt)
  kGazMedicalProper = 512,  // ... that it writes only capitalised (brands, eponyms)
  kGazCounty = 1024,        // a word of a US county name
  kGazStreet = 2048,        // a USPS street suffix or unit designator (st, ave, apt)
  // Built in, context feature sets (5 and 6) only (LoadDirectory's `context`):
  kGazFacility = 4096,  // a facility noun (hospital, clinic, rehab, memorial, ...)
  kGazRole = 8192,      // a care role or credential written after a name (rn, rrt, md, ho)
};

// A set of words (ASCII-lower-cased) with GazetteerFlag bits. Keys are 64-bit
// hashes, so it stores no text and is compact in the model file.
class Gazetteer {
 public:
  Gazetteer();  // holds the built-in trigger and month words
  void Add(std::string_view word, uint16_t flags);
  void AddHash(uint64_t hash, uint16_t flags) { map_[hash] |= flags; }
  uint16_t Lookup(std::string_view word) const;
  uint16_t LookupHash(uint64_t hash) const {
    auto it = map_.find(hash);
    return it == map_.end() ? 0 : it->second;
  }
  size_t size() const { return map_.size(); }
  const absl::flat_hash_map<uint64_t, uint16_t>& entries() const { return map_; }

  // Loads data/gazetteers-style files from `dir`: first_names.tsv, surnames.tsv
  // (name<TAB>weight), us_cities.tsv (city<TAB>STATE<TAB>pop), us_states.tsv,
  // common_words.txt; '#' starts a comment line. Missing files are skipped and
  // counted in *files_loaded; a malformed file is InvalidArgument. With
  // `extended`, also medical_words.txt, us_counties.tsv, street_suffixes.tsv
  // and secondary_units.tsv (the high GazetteerFlag bits). With `context`
  // (REQUIRES extended), also the built-in facility and role words.
  Status LoadDirectory(std::string_view dir, int* files_loaded, bool extended = false,
                       bool context = false);

 private:
  absl::flat_hash_map<uint64_t, uint16_t> map_;
};

// Hash of the ASCII-lower-cased bytes (FNV-1a 64). Stable across builds and
// platforms: it is part of the model file format.
uint64_t HashLower(std::string_view s);

// Features of every token; a stacked model (trained with the rule engine's
// findings as input, see RuleHint) has kHintFeatures more, an extended model
// (feature sets 3 and 4) kExtendedFeatures more: the line's case, the high
// gazetteer bits (clinical word, county, street), the nearest trigger word
// earlier in the line, initial-dot-name patterns, the word after next, how
// often the word occurs in the text and (stacked) whether the rules flag
// another occurrence of it.
inline constexpr int kFeaturesPerToken = 40;
inline constexpr int kHintFeatures = 6;
inline constexpr int kExtendedFeatures = 9;
// Context feature sets (5, or 6 when stacked; always extended): the words 3
// to the left and right, facility nouns after the word, care roles after it,
// and the token's position after the line's "Label:" colon (session 6).
inline constexpr int kContextFeatures = 6;
inline constexpr int kMaxFeaturesPerToken =
    kFeaturesPerToken + kHintFeatures + kExtendedFeatures + kContextFeatures;

// What the rule engine said about one token (stacking): the category of the
// rule finding covering it (0: none; else 1 + PhiCategory), whether the token
// starts that finding, a score bucket and a hash of the recognizer name.
struct RuleHint {
  uint8_t category = 0;
  uint8_t begin = 0;         // 1: first token of the finding
  uint8_t score_bucket = 0;  // 0: < 0.35, 1: < 0.6, 2: < 0.85, 3: >= 0.85
  uint64_t recognizer = 0;   // HashLower(recognizer name)
};

// The hint of each token from rule findings (byte offsets, any order, may
// overlap: the highest-scoring finding covering a token wins). Writes
// tokens.size() hints to *out.
void TokenHints(std::span<const Token> tokens, std::span<const Finding> findings,
                std::vector<RuleHint>* out);

class FeatureExtractor {
 public:
  // `gazetteer` must outlive the extractor. 10 <= hash_bits <= 24.
  // With `stacked`, each token gets kHintFeatures more features from its
  // RuleHint (and its neighbours'); Extract() then needs the hints.
  // With `extended`, kExtendedFeatures more (feature sets 3 and 4); with
  // `context` (which implies extended), kContextFeatures more (5 and 6).
  FeatureExtractor(const Gazetteer* gazetteer, uint32_t hash_bits, bool stacked = false,
                   bool extended = false, bool context = false)
      : gazetteer_(gazetteer),
        hash_bits_(hash_bits),
        stacked_(stacked),
        extended_(extended || context),
        context_(context) {}

  int features_per_token() const {
    return kFeaturesPerToken + (stacked_ ? kHintFeatures : 0) +
           (extended_ ? kExtendedFeatures : 0) + (context_ ? kContextFeatures : 0);
  }

  // Writes tokens.size() * features_per_token() row indices (< 2^hash_bits) to
  // *rows (resized), token by token. Deterministic. With `unknown_words`, each
  // word token's own identity features (word, bigrams, long affixes) are the
  // row 2^hash_bits instead, which training keeps at zero, while its context
  // stays: training mixes these rows in (word dropout) so the model learns to
  // tag names it has never seen.
  // `hints` (stacked extractors only): tokens.size() hints from TokenHints(),
  // or empty for "the rules found nothing".
  void Extract(std::string_view text, std::span<const Token> tokens, std::vector<uint32_t>* rows,
               bool unknown_words = false, std::span<const RuleHint> hints = {}) const;

  uint32_t hash_bits() const { return hash_bits_; }

 private:
  const Gazetteer* gazetteer_;
  uint32_t hash_bits_;
  bool stacked_ = false;
  bool extended_ = false;
  bool context_ = false;
};

}  // namespace phigate::model

#endif  // PHIGATE_MODEL_FEATURES_H_
