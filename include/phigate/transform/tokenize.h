// Reversible de-identification: "tokenize" and "surrogate" replace each
// finding by a token ("[NAME_7QK2X]") or a realistic surrogate kept in the
// tenant's vault, so Reidentifier (reidentify.h) can put the originals back.
//
// Two ways in:
//   - whole texts: DeidentifyReversibly()/TokenizeText() (one vault batch per
//     text), TokenizeTexts()/SurrogateTexts() (one per group of texts: what
//     `phigate deid --mode tokenize|surrogate` calls for records and fields);
//   - per finding: the Operators below, through Redactor::RegisterOperator()
//     with a VaultContext as the TransformContext.
//
// Example:
//   vault::Scope scope = vault::Scope::Conversation("conv-42");
//   PHIGATE_ASSIGN_OR_RETURN(std::string safe, TokenizeText(note, findings, *vault, scope));
#ifndef PHIGATE_TRANSFORM_TOKENIZE_H_
#define PHIGATE_TRANSFORM_TOKENIZE_H_

#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "absl/container/flat_hash_set.h"
#include "absl/strings/ascii.h"
#include "phigate/core/finding.h"
#include "phigate/core/status.h"
#include "phigate/transform/operator.h"
#include "phigate/transform/surrogate.h"
#include "phigate/vault/vault.h"

namespace phigate::transform {

// The TransformContext of the reversible operators: which vault and scope.
// `generator` is needed by "surrogate" only. Not owned; must outlive the context.
class VaultContext : public TransformContext {
 public:
  VaultContext(vault::Vault& vault, vault::Scope scope,
               const SurrogateGenerator* generator = nullptr)
      : vault_(vault), scope_(std::move(scope)), generator_(generator) {}
  vault::Vault& vault() const { return vault_; }
  const vault::Scope& scope() const { return scope_; }
  const SurrogateGenerator* generator() const { return generator_; }
  // Replacements issued through this context, in order (tokens and surrogates).
  std::vector<std::string>& issued() { return issued_; }

 private:
  vault::Vault& vault_;
  vault::Scope scope_;
  const SurrogateGenerator* generator_;
  std::vector<std::string> issued_;
};

enum class ReversibleMode { kTokenize, kSurrogate };

struct ReversibleOptions {
  ReversibleMode mode = ReversibleMode::kTokenize;
  // Surrogate mode: the generator (required) and the date offset range.
  const SurrogateGenerator* generator = nullptr;
  int max_date_shift_days = 365;
};

struct ReversibleResult {
  std::string text;
  // The replacements sent out, one per span after merging (for the reid report).
  std::vector<std::string> replacements;
};

// Replaces every finding of `text` by a token or surrogate from `vault` in
// `scope`. Findings may come in any order and may overlap or touch: overlapping
// ones are merged into one span (so the way back restores the text exactly).
// Out-of-range findings are InvalidArgument. Any vault error fails the whole
// call (never a partial result, never the original text).
Result<ReversibleResult> DeidentifyReversibly(std::string_view text, const Findings& findings,
                                              vault::Vault& vault, const vault::Scope& scope,
                                              const ReversibleOptions& options);

// Tokenize mode for many texts at once: texts[i] with findings[i] (as
// DeidentifyReversibly takes them), in one vault batch — one transaction —
// for all of them, so a bulk job pays one commit per group of texts instead
// of one per text. (*out)[i] is texts[i]'s result: a text whose findings are
// invalid fails alone; a vault error fails every text that had a finding.
// The tokens are those DeidentifyReversibly would give the texts one by one.
void TokenizeTexts(std::span<const std::string_view> texts,
                   std::span<const Findings* const> findings, vault::Vault& vault,
                   const vault::Scope& scope, std::vector<Result<std::string>>* out);

// Surrogate mode for many texts at once (options.generator needed for all but
// dates): one Vault::SurrogateBatch — one transaction — for the surrogates of
// all of them, and one TokenizeBatch for the dates that get a token (an
// unknown format, or a shifted form another spelling took). (*out)[i] is
// texts[i]'s result: a text whose findings are invalid, or with a value that
// found no unique surrogate, fails alone; a vault error fails every text that
// had a finding. The surrogates are those DeidentifyReversibly would give the
// texts one by one, in order (a value met again keeps its surrogate).
void SurrogateTexts(std::span<const std::string_view> texts,
                    std::span<const Findings* const> findings, vault::Vault& vault,
                    const vault::Scope& scope, const ReversibleOptions& options,
                    std::vector<Result<std::string>>* out);

// The words (runs of ASCII letters and digits) that a batch of texts keeps
// outside its findings, lower-cased. Re-identification finds surrogates as
// words, so a surrogate whose words all occur there may be read back where a
// text keeps them: "Mae" for a name, where other notes write "A&Ox3, MAE"
// (moves all extremities); "Harvard" for a town, beside "Harvard Pilgrim".
class KeptWords {
 public:
  // `lower` is a text lower-cased, `spans` its findings in order (anything
  // with `begin` and `end`); `lower` must outlive this set.
  template <class Spans>
  void Add(std::string_view lower, const Spans& spans) {
    size_t pos = 0;
    for (const auto& s : spans) {
      AddWords(lower.substr(pos, s.begin - pos));
      pos = s.end;
    }
    AddWords(lower.substr(pos));
  }
  // True when `candidate` has a word and every one of its words is kept.
  bool Covers(std::string_view candidate) const;
  bool empty() const { return words_.empty(); }
  void clear() { words_.clear(); }

 private:
  void AddWords(std::string_view text) {
    ForEachWord(text, [&](std::string_view w) {
      words_.insert(w);
      return true;
    });
  }
  // Calls fn(word) for each run of ASCII letters and digits of `text` while
  // it returns true; returns false when fn did.
  template <class Fn>
  static bool ForEachWord(std::string_view text, Fn fn) {
    for (size_t i = 0; i < text.size();) {
      if (!absl::ascii_isalnum(static_cast<unsigned char>(text[i]))) {
        ++i;
        continue;
      }
      size_t j = i;
      while (j < text.size() && absl::ascii_isalnum(static_cast<unsigned char>(text[j]))) ++j;
      if (!fn(text.substr(i, j - i))) return false;
      i = j;
    }
    return true;
  }
  absl::flat_hash_set<std::string_view> words_;
};

// DeidentifyReversibly in tokenize mode, returning the text only.
Result<std::string> TokenizeText(std::string_view text, const Findings& findings,
                                 vault::Vault& vault, const vault::Scope& scope);

// The "tokenize" operator (no params). Needs a VaultContext.
std::unique_ptr<Operator> NewTokenizeOperator();

}  // namespace phigate::transform

#endif  // PHIGATE_TRANSFORM_TOKENIZE_H_
