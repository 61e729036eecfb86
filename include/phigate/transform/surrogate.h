// Surrogates: realistic fake values of the same kind and shape as the
// original ("Qorvin Abelstam" -> "Mark Ellis", "(617) 555-0142" -> "(508) 555-0117"),
// so a model can still do its work. Consistency within a scope and the way
// back come from the vault (Vault::Surrogate); this file only makes candidates.
//
//   names      first names / surnames from data/gazetteers (weighted), keeping
//              the shape: "Last, First", initials, titles, ALL CAPS
//   phones     same punctuation, fictional 555-01xx line numbers
//   SSN        valid-format (area not 000/666/9xx, group and serial not zero)
//   IDs        same shape (letters stay letters, digits digits, prefixes like
//              "MRN-" kept); Luhn, NPI and VIN check digits stay valid when the
//              original's were
//   addresses  "<number> <Name> <Suffix>"; cities from the gazetteer; ZIPs
//   email/URL  reserved example domains; IPs from the TEST-NET ranges
//   dates      shifted by the scope's offset (date_shift.h)
//
// Example:
//   PHIGATE_ASSIGN_OR_RETURN(auto gen, SurrogateGenerator::Create({}));
//   PHIGATE_ASSIGN_OR_RETURN(std::string fake, gen->Generate(PhiCategory::kPhone, "617-555-0100",
//   0, 0));
#ifndef PHIGATE_TRANSFORM_SURROGATE_H_
#define PHIGATE_TRANSFORM_SURROGATE_H_

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "phigate/core/phi_category.h"
#include "phigate/core/status.h"
#include "phigate/transform/operator.h"

namespace phigate::transform {

struct SurrogateOptions {
  // Folder holding gazetteers/first_names.tsv, surnames.tsv, us_cities.tsv,
  // street_suffixes.tsv. Empty: paths::DataDir() (phigate/core/paths.h).
  // Missing files fall back to small built-in lists of invented names.
  std::string data_dir;
};

// What a scope gives every candidate it asks for.
struct SurrogateContext {
  // The scope's date offset (Vault::DateShiftDays).
  int date_shift_days = 0;
  // Vault::ScopeSecret(scope, kNamePartsPurpose). With it, a name part's
  // surrogate is chosen by the key instead of at random, so one name part
  // gets one surrogate everywhere in the scope: "John Smith", "Mr. Smith",
  // "SMITH, JOHN" and "John" stay one person for the model ("Tom Ellis",
  // "Mr. Ellis", "ELLIS, TOM", "Tom"). Empty: every part drawn at random.
  std::string_view name_key;
};
inline constexpr std::string_view kNamePartsPurpose = "surrogate-name-parts";

// Immutable after Create(); Generate() is thread-safe (CSPRNG draws).
//
// Names: each part keeps its role (first name, surname, initial; one word
// alone is a first name when the census ranks it far more as one, "John",
// else a surname, "Alvarez"), and a first name keeps its sex (the name's own
// in first_name_sexes.tsv, else the title's: Mr, Mrs, Ms, Miss), so the
// model reads "he" and "she" as the note meant them.
class SurrogateGenerator {
 public:
  static Result<std::unique_ptr<SurrogateGenerator>> Create(const SurrogateOptions& options);

  // A candidate for `original`. `attempt` > 0 asks for a different one (the
  // previous collided). `context` holds the scope's offset for dates and its
  // key for name parts. Dates that cannot be parsed are InvalidArgument
  // (callers tokenize them).
  Result<std::string> Generate(PhiCategory category, std::string_view original, int attempt,
                               const SurrogateContext& context) const;
  // The same without a name key.
  Result<std::string> Generate(PhiCategory category, std::string_view original, int attempt,
                               int date_shift_days) const {
    return Generate(category, original, attempt, SurrogateContext{date_shift_days, {}});
  }

  size_t first_name_count() const { return first_.size(); }
  size_t surname_count() const { return last_.size(); }

 private:
  SurrogateGenerator() = default;
  Result<std::string> GenerateOnce(PhiCategory category, std::string_view original, int attempt,
                                   const SurrogateContext& context) const;
  Result<std::string> Name(std::string_view original, int attempt, std::string_view key) const;
  Result<std::string> Pick(const std::vector<std::string>& list) const;
  // 'F', 'M' or 0 (either, or unknown) for a lower-case first name.
  char SexOf(const std::string& lower) const;
  // Whether one word alone is a first name rather than a surname.
  bool FirstNameAlone(const std::string& lower) const;
  std::vector<std::string> first_, last_, cities_, suffixes_;
  // first_ by sex (names mostly given to one sex only).
  std::vector<std::string> female_, male_;
  // Lower-case first name -> sex ('F', 'M', 'B' both) and census weights as a
  // first name and as a surname.
  absl::flat_hash_map<std::string, char> sex_;
  absl::flat_hash_map<std::string, std::pair<int64_t, int64_t>> first_weights_;
};

// Luhn check over the digits of s (non-digits ignored; false when < 2 digits).
bool LuhnValid(std::string_view s);
// NPI: 10 digits, Luhn over "80840" + digits.
bool NpiValid(std::string_view s);
// VIN: 17 characters, check digit at position 9.
bool VinValid(std::string_view s);

// Letter case across a surrogate pair. Spellings of one value in another
// letter case share its pair when a drawn candidate is the other spelling's
// (Vault::SurrogateBatch; always for a date, which has one shifted form), so
// each side is written in the case the other was: all capitals, all lower
// case, or capitalised words (a letter run after a digit stays lower:
// "22nd"). kMixed is any other spelling ("McKinley", "Saint Mary of the
// Valley"), kNone has no letter.
enum class LetterCase { kNone, kUpper, kLower, kTitle, kMixed };
LetterCase LetterCaseOf(std::string_view s);
// `value` in `style`: kUpper and kLower change every ASCII letter; kTitle
// only a value written in one case ("SAINT JOSEPH" -> "Saint Joseph");
// kNone and kMixed leave it as it is.
std::string InLetterCase(std::string value, LetterCase style);
// The surrogate the vault holds, as written for `original` (one spelling of
// the value): InLetterCase(surrogate, LetterCaseOf(original)). Tokens are
// returned as they are.
std::string SurrogateInCaseOf(std::string surrogate, std::string_view original);
// The way back: the original the vault holds for `stored_surrogate`, in the
// case in which the surrogate was found (`written`); unchanged when written
// exactly as stored. SurrogateInCaseOf then OriginalInCaseOf gives back every
// spelling in capitals, lower case or capitalised words of one value.
std::string OriginalInCaseOf(std::string original, std::string_view written,
                             std::string_view stored_surrogate);

// The "surrogate" operator: Vault::Surrogate with a SurrogateGenerator. Needs
// a VaultContext (tokenize.h) that carries the generator.
std::unique_ptr<Operator> NewSurrogateOperator();

}  // namespace phigate::transform

#endif  // PHIGATE_TRANSFORM_SURROGATE_H_
