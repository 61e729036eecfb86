// Re-identification of model output: puts the originals back for the tokens
// and surrogates that this tenant's vault issued in this scope.
//
// Matching is exact and tolerant of what models do to tokens: case
// ("[name_7qk2x]"), lost or spaced brackets ("NAME_7QK2X", "[ NAME_7QK2X ]"),
// markdown escapes ("\[NAME\_7QK2X\]"), a space or hyphen for the underscore
// inside brackets ("[NAME 7QK2X]"), possessives ("[NAME_7QK2X]'s",
// "[NAME_7QK2X's]"). Surrogates match case-insensitively at word boundaries;
// shifted dates are found in whatever format the model wrote them and are
// restored in that format. Tokens of another tenant or scope, and tokens the
// model invented, are left as they are and reported — never resolved.
//
// The scan is one pass over the bytes (memchr-like loop for '_' and '['; a
// first-byte table at word starts for surrogates and dates), then one vault
// batch lookup per call for the distinct tokens found.
//
// Re-identified text is PHI again (45 CFR 164.502(d)(2)); callers need an
// explicit permission (ReidOptions::allow_reidentify), or Create() refuses.
//
// Example:
//   PHIGATE_ASSIGN_OR_RETURN(auto reid, Reidentifier::Create(*vault, scope, {.allow_reidentify =
//   true})); ReidReport report; PHIGATE_ASSIGN_OR_RETURN(std::string answer,
//   reid->Reidentify(model_output, &report));
#ifndef PHIGATE_TRANSFORM_REIDENTIFY_H_
#define PHIGATE_TRANSFORM_REIDENTIFY_H_

#include <map>
#include <memory>
#include <optional>
#include <set>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "phigate/core/status.h"
#include "phigate/transform/date_shift.h"
#include "phigate/vault/vault.h"

namespace phigate::transform {

// Whether a one-letter name surrogate (an initial: "M" or "M.") at
// text[begin, end) is written there inside an abbreviation or a contraction
// rather than as an initial: "M.D.", "p.o.", "d/c'd", "s/p", "w/", joined
// to a number ("1L", "x3") or hyphenated to letters ("PA-C", "T-bone"). Every
// letter is some word's, so re-identification restores an initial only
// elsewhere. `earlier` is text just before `text` (a stream's previous piece),
// if any. Reads at most kAbbreviationContextBytes before `begin` and after `end`.
bool InAbbreviation(std::string_view text, size_t begin, size_t end, std::string_view earlier = {});
inline constexpr size_t kAbbreviationContextBytes = 2;
// True for a surrogate that InAbbreviation applies to: one ASCII letter,
// optionally followed by a period.
bool IsInitialSurrogate(PhiCategory category, std::string_view surrogate);

struct ReidOptions {
  // The caller's explicit permission to see PHI again (CLI --allow-reidentify,
  // a gateway role). Without it Create() is PermissionDenied.
  bool allow_reidentify = false;
  // Accept mangled token forms (case, brackets, spacing, escapes).
  bool tolerant = true;
  // Restore surrogates (and shifted dates) issued in the scope.
  bool surrogates = true;
};

// Counts only: tokens are random codes, not PHI, so unknown ones are listed.
struct ReidReport {
  size_t tokens_restored = 0;      // canonical form, restored
  size_t tokens_altered = 0;       // mangled form, restored
  size_t tokens_unknown = 0;       // bracketed token shape, not issued in this tenant+scope
  size_t surrogates_restored = 0;  // exact surrogate text
  size_t surrogates_altered = 0;   // surrogate in another case
  size_t dates_restored = 0;       // shifted date written in another format
  std::vector<std::string> unknown_tokens;  // canonical spelling, in order seen
  std::vector<std::string> missing;         // sent (ExpectSent) but never seen back

  size_t restored() const {
    return tokens_restored + tokens_altered + surrogates_restored + surrogates_altered +
           dates_restored;
  }
  void Add(const ReidReport& other);
};

// Bound to one vault (tenant) and scope. Not thread-safe (one per request).
class Reidentifier {
 public:
  static Result<std::unique_ptr<Reidentifier>> Create(vault::Vault& vault, vault::Scope scope,
                                                      ReidOptions options);

  // The replacements that were sent to the model (DeidentifyReversibly's
  // `replacements`), so Summary() can list the ones that never came back.
  void ExpectSent(std::span<const std::string> replacements);

  // Re-identifies a whole text. *report (optional) receives this call's counts.
  Result<std::string> Reidentify(std::string_view text, ReidReport* report = nullptr);

  // Everything seen so far, with `missing` computed against ExpectSent().
  ReidReport Summary() const;

  // The longest text a match can span: what a stream must hold back.
  size_t holdback_bytes() const { return holdback_; }

  struct Match;  // internal: one token, surrogate or date found in the text

  // Streaming core: re-identifies text[0, consumed) into *out, where consumed
  // is all of text when `final`, else stops before any match that could still
  // grow with more input. `prev` is the byte before text (0 at the start),
  // `earlier` up to the last 24 bytes before text (the context of an age).
  Status Process(std::string_view text, char prev, bool final, std::string* out, size_t* consumed,
                 ReidReport* report, std::string_view earlier = {});

 private:
  struct Surrogate {
    std::string lower;  // surrogate text, lower case
    std::string replacement;
    std::string original;
    // An age given as a bare number ("94"): restored only where the text
    // writes an age (detect::WrittenAsAge), not in "HR 94".
    bool age_number = false;
    // An initial ("M"): not restored inside "M.D." (InAbbreviation).
    bool initial = false;
  };
  Reidentifier(vault::Vault& vault, vault::Scope scope, ReidOptions options)
      : vault_(vault), scope_(std::move(scope)), options_(options) {}
  Status Load();
  void FindTokens(std::string_view text, char prev, std::vector<Match>* out) const;
  void FindSurrogatesAndDates(std::string_view text, char prev, std::string_view earlier,
                              std::vector<Match>* out) const;

  vault::Vault& vault_;
  vault::Scope scope_;
  ReidOptions options_;
  size_t holdback_ = 64;
  std::vector<Surrogate> surrogates_;
  std::vector<std::vector<uint32_t>> by_first_byte_;  // 256 lists of surrogate indexes
  std::map<CivilDate, std::pair<CivilDate, std::string>> shifted_dates_;   // shifted -> original
  absl::flat_hash_map<std::string, std::optional<std::string>> resolved_;  // token -> original
  std::set<std::string> sent_;
  absl::flat_hash_set<std::string> seen_;  // kept only when sent_ is non-empty
  ReidReport total_;
};

// Re-identifies a streamed answer chunk by chunk. Feed() returns the text that
// is final (possibly empty), holding back only a tail that could be the start
// of a token, surrogate or date; Finish() returns the rest. Tokens split
// across chunks are restored.
class StreamReidentifier {
 public:
  explicit StreamReidentifier(std::unique_ptr<Reidentifier> reid) : reid_(std::move(reid)) {}
  Result<std::string> Feed(std::string_view chunk);
  Result<std::string> Finish();
  const Reidentifier& reidentifier() const { return *reid_; }

 private:
  static constexpr size_t kEarlierBytes = 24;
  std::unique_ptr<Reidentifier> reid_;
  std::string pending_;
  char prev_ = 0;
  std::string earlier_;  // the last kEarlierBytes bytes consumed
};

}  // namespace phigate::transform

#endif  // PHIGATE_TRANSFORM_REIDENTIFY_H_
