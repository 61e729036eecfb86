// The de-identification engine: finds PHI spans in clinical free text.
//
// An Engine is built once from EngineOptions (patterns, validators, gazetteers,
// context rules), is immutable afterwards and may be shared by any number of
// threads. Scan() returns typed, scored, non-overlapping Findings sorted by
// offset: byte offsets and categories, never copies of the text.
//
// Example:
//   PHIGATE_ASSIGN_OR_RETURN(auto engine, phigate::detect::Engine::Create({}));
//   PHIGATE_ASSIGN_OR_RETURN(phigate::Findings found, engine->Scan(note));
//   for (const phigate::Finding& f : found) Count(f.category);
#ifndef PHIGATE_DETECT_ENGINE_H_
#define PHIGATE_DETECT_ENGINE_H_

#include <memory>
#include <string>
#include <string_view>

#include "phigate/core/finding.h"
#include "phigate/core/phi_category.h"
#include "phigate/core/status.h"

namespace phigate::detect {

// EngineOptions::veto_score's default, chosen by cross-validation (docs/model.md).
inline constexpr float kDefaultVetoScore = 0.7f;

struct EngineOptions {
  // Folder holding the gazetteers (data/gazetteers in the source tree). Empty:
  // paths::DataDir() ($PHIGATE_DATA_DIR, the installed tree, the source tree;
  // phigate/core/paths.h).
  std::string data_dir;
  // Only findings of these categories are returned.
  CategorySet categories = CategorySet::All();
  // Findings scoring below this are dropped.
  float min_score = 0.35f;
  // Texts longer than this are refused with ResourceExhausted (callers split bulk input).
  size_t max_text_bytes = size_t{256} << 20;
  // Which stages run (for ablations and the per-stage benchmarks): the pattern
  // stage (Hyperscan + RE2 + validators) and the dictionary/context stage
  // (tokenizer, gazetteer lookups, name and place rules).
  static constexpr uint32_t kPatternStage = 1u << 0;
  static constexpr uint32_t kDictionaryStage = 1u << 1;
  uint32_t stages = kPatternStage | kDictionaryStage;

  // Which detectors run: the rules above, the trained tagger (src/model), or
  // both. kBoth is the score-aware combination (src/detect/combine.h): the
  // tagger's spans (a stacked model reads the rule findings as features), rule
  // findings certain by construction, and the other rule findings the tagger
  // does not veto. kUnion: every span of either, merged by the resolver. The
  // tagger adds ~0.5 ms per 4 KiB, so the library default is rules only; bulk
  // `phigate deid` turns it on.
  enum class Mode { kRules, kModel, kBoth, kUnion };
  Mode mode = Mode::kRules;
  // kBoth's veto: a rule finding that is not certain by construction is
  // dropped where the tagger is at least this sure none of its tokens is PHI
  // (0.5..1). The weakest rule findings are vetoed from min(veto_score, 0.55),
  // so 1 keeps all but those. Lower: more precision, less recall (docs/model.md).
  float veto_score = kDefaultVetoScore;
  // The tagger's model file; empty = paths::ModelPath() ($PHIGATE_MODEL, then
  // models/phigate_tagger.bin of the installed tree or the source tree).
  std::string model_path;
};

// "rules", "model", "both", "union" -> Mode; InvalidArgument otherwise.
Result<EngineOptions::Mode> ParseMode(std::string_view name);

// The tagger model file the engine loads for these options (model_path, then
// paths::ModelPath()), in the modes that use one.
std::string ResolvedModelPath(const EngineOptions& options);

// Per-thread mutable state (Hyperscan scratch, buffers). Not thread-safe; make
// one per worker with Engine::NewContext(), or let Scan(text) use a thread-local one.
class ScanContext {
 public:
  virtual ~ScanContext() = default;
};

class Engine {
 public:
  // Builds the engine: compiles the pattern database, loads gazetteers.
  // InvalidArgument/NotFound when the data folder is missing or malformed.
  static Result<std::unique_ptr<Engine>> Create(const EngineOptions& options);

  virtual ~Engine() = default;
  Engine(const Engine&) = delete;  // owns compiled databases; share by pointer
  Engine& operator=(const Engine&) = delete;

  virtual std::unique_ptr<ScanContext> NewContext() const = 0;

  // Appends the findings in `text` to *out (cleared first), sorted by begin,
  // pairwise disjoint. Invalid UTF-8 is scanned as bytes (offsets stay valid).
  // A non-OK status means the scan failed and the caller must fail closed.
  virtual Status Scan(std::string_view text, ScanContext& ctx, Findings* out) const = 0;

  // Convenience: Scan() with a thread-local context.
  Result<Findings> Scan(std::string_view text) const;

  const EngineOptions& options() const { return options_; }

 protected:
  explicit Engine(EngineOptions options) : options_(std::move(options)) {}

 private:
  EngineOptions options_;
};

// Whether text[begin, end) (a number) is written as an age, as the engine's
// age_over_89* patterns find one: before an age unit ("94 yo", "94-year-old",
// "94 y/o", "94yrs") or a sex ("94M", "94 F"; not a temperature, "Tmax 101F"),
// or after "age"/"aged" ("age: 94"). `earlier` is text just before `text` (a
// stream's previous piece), if any. Reads at most kAgeContextBytes after `end`.
// Re-identification restores an age surrogate (a bare number) only here:
// numbers abound in clinical text ("HR 94", "sat 94%").
bool WrittenAsAge(std::string_view text, size_t begin, size_t end, std::string_view earlier = {});
inline constexpr size_t kAgeContextBytes = 7;

}  // namespace phigate::detect

#endif  // PHIGATE_DETECT_ENGINE_H_
