// The rule engine's types, shared by engine.cc (patterns, findings, Scan)
// and token_rules.cc (tokenizer, gazetteer and context rules). Internal to
// src/detect.
#ifndef PHIGATE_SRC_DETECT_RULE_ENGINE_H_
#define PHIGATE_SRC_DETECT_RULE_ENGINE_H_

#include <hs/hs.h>

#include <bitset>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "phigate/detect/engine.h"
#include "phigate/model/tagger.h"
#include "re2/re2.h"
#include "src/detect/lexicon.h"
#include "src/detect/patterns.h"

namespace phigate::detect::internal {

// Lexicon classes whose words are never part of a person's name ("and", "Dr",
// "son", "RN", "March", "Monday").
constexpr uint32_t kLexNeverAName =
    kLexStop | kLexTitle | kLexRelation | kLexCredential | kLexMonth | kLexWeekday;

// ---------------------------------------------------------------- tokens

enum TokFlag : uint16_t {
  kTokAlpha = 1 << 0,  // has a letter
  kTokDigit = 1 << 1,  // has a digit
  kTokUpper = 1 << 2,  // letters all upper case (and >= 1 letter)
  kTokTitle = 1 << 3,  // first letter upper, rest lower
  kTokLower = 1 << 4,  // letters all lower case
  kTokAllAlpha = 1 << 5,
  kTokPeriod = 1 << 6,  // immediately followed by '.'
};

struct Token {
  uint32_t begin;
  uint32_t end;  // excludes a trailing possessive 's
  uint16_t flags;
  uint16_t pad = 0;
  uint32_t lex_flags;   // lex->flags (0 when unknown), copied so rules need not chase lex
  const LexEntry* lex;  // may be null
  uint64_t hash;        // Lexicon::Hash of the lower-cased word: equal words, equal hashes
  bool IsAlphaWord() const { return (flags & kTokAllAlpha) != 0; }
  uint32_t lf() const { return lex_flags; }
};

enum class DocCase { kMixed, kUpper, kLower };

class EngineContext : public ScanContext {
 public:
  ~EngineContext() override {
    if (scratch) hs_free_scratch(scratch);
  }
  hs_scratch_t* scratch = nullptr;
  std::string lf_text;  // a CRLF text with its line ends read as LF (see Scan)
  std::vector<Token> tokens;
  std::vector<float> name_score;
  std::vector<uint8_t> loc;
  std::vector<uint8_t> field_name;
  std::vector<uint64_t> hashes;
  std::vector<uint64_t> filter_bits;  // HashFilter storage
  std::vector<uint64_t> eponyms;
  std::vector<int8_t> clinical;  // per token: LooksClinical() result, -1 not computed yet
  // LooksClinical() of words seen before on this thread (a pure function of the
  // lower-cased word): token hash -> (lower-cased word, result). Cleared when large.
  absl::flat_hash_map<uint64_t, std::pair<std::string, bool>> clinical_memo;
  Findings model_findings;
  std::string lower;
  struct RawMatch {
    uint32_t id;
    size_t from;
    size_t to;
    size_t prev_to;  // `to` of the previous window of `id`, or kNoWindow
    size_t first;    // the least end reported (Hyperscan may report one late)
  };
  std::vector<RawMatch> matches;     // windows: [from, to] holds every reported end of `id`
  std::vector<int32_t> open_window;  // per pattern: index into matches, or -1
};

struct CompiledPattern {
  const PatternSpec* spec;
  std::unique_ptr<RE2> re2;     // finds spans; group 1, when present, is the value
  std::bitset<256> bytes;       // MatchableBytes(): no match holds another byte
  size_t min_width = 0;         // Hyperscan's bounds on a match's length
  size_t max_width = 0;         // (SIZE_MAX when unbounded)
  bool group_is_match = false;  // GroupIsWholeMatch(): group 1 is group 0
};

class TokenRules;

class RuleEngine final : public Engine {
 public:
  RuleEngine(EngineOptions options, std::vector<hs_database_t*> dbs,
             std::vector<CompiledPattern> patterns, std::unique_ptr<Lexicon> lexicon,
             std::unique_ptr<model::Tagger> tagger)
      : Engine(std::move(options)),
        dbs_(std::move(dbs)),
        patterns_(std::move(patterns)),
        lexicon_(std::move(lexicon)),
        tagger_(std::move(tagger)) {}
  ~RuleEngine() override {
    for (hs_database_t* db : dbs_) hs_free_database(db);
  }

  std::unique_ptr<ScanContext> NewContext() const override {
    auto ctx = std::make_unique<EngineContext>();
    // Allocation failure leaves scratch null; Scan() then fails closed.
    // One scratch serves every database (hs_alloc_scratch grows it to fit).
    for (hs_database_t* db : dbs_) {
      if (hs_alloc_scratch(db, &ctx->scratch) != HS_SUCCESS) {
        if (ctx->scratch != nullptr) hs_free_scratch(ctx->scratch);
        ctx->scratch = nullptr;
        break;
      }
    }
    return ctx;
  }

  Status Scan(std::string_view text, ScanContext& base_ctx, Findings* out) const override;

 private:
  Status RunPatterns(std::string_view text, EngineContext& ctx, Findings* out) const;
  void Tokenize(std::string_view text, EngineContext& ctx) const;
  void RunTokenRules(std::string_view text, EngineContext& ctx, Findings* out) const;
  bool HyphenJoinsWord(std::string_view text, const Token& t, DocCase doc, uint32_t* end) const;
  // An unknown word that is clinical shorthand: hyphenated or plural forms of
  // known words ("A-line", "TFs") or a prefix of a clinical term ("Vanco").
  // `short_prefixes`: a 4-letter word that starts a longer clinical term counts
  // (most such beginnings are shorthand); without it only the other tests do.
  bool LooksClinical(std::string_view word, bool short_prefixes = true) const;
  // LooksClinical() of token t, through ctx.clinical_memo.
  bool LooksClinicalMemo(std::string_view text, const Token& t, EngineContext& ctx) const;
  // Every word of `span` is a common or clinical word no name or place list
  // holds (digits and punctuation are skipped).
  bool VocabularyOnly(std::string_view span) const;
  friend class TokenRules;

  // Hyperscan databases: [0] every row but those of kOwnDatabase, then one
  // database per row of kOwnDatabase (see there).
  std::vector<hs_database_t*> dbs_;
  std::vector<CompiledPattern> patterns_;
  std::unique_ptr<Lexicon> lexicon_;
  std::unique_ptr<model::Tagger> tagger_;  // null in rules-only mode
};

}  // namespace phigate::detect::internal

#endif  // PHIGATE_SRC_DETECT_RULE_ENGINE_H_
