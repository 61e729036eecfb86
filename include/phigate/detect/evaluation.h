// Scoring of PHI predictions against a gold JSONL corpus: the metrics of
// ../shared/tools/score.py, reimplemented exactly so `phigate eval` and
// score.py agree on the same predictions (tests/detect/eval_agreement_test.sh).
//
// Gold JSONL: {"id", "text", "spans": [{"start","end","type","phi"?,"year_only"?}]},
// offsets in code points. Spans with "phi": false are neutral reference spans:
// left out of recall, and predicted characters inside them are not false positives.
// Predictions: {"id", "spans": [{"start","end","type"?}]}, offsets in code points,
// UTF-8 bytes or UTF-16 code units (OffsetUnit).
//
// Metrics are type-blind unless stated (a PHI character is caught when ANY
// predicted span covers it):
//   char   non-whitespace code points (Python's str.isspace() decides whitespace);
//   token  runs of alphanumerics ([^\W_]+);
//   entity per gold PHI span: full = every non-space char covered, any = one char
//          covered, missed = none covered;
//   typed  per gold type, token recall counting only predicted spans of that type.
//
// Example:
//   Scorer scorer(ScoreOptions{.unit = OffsetUnit::kUtf8});
//   for (...) PHIGATE_RETURN_IF_ERROR(scorer.Add(gold_record, &pred_spans));
//   EvalResult r = scorer.Finish();
//   std::printf("%.1f%%\n", 100 * r.chars.recall());
#ifndef PHIGATE_DETECT_EVALUATION_H_
#define PHIGATE_DETECT_EVALUATION_H_

#include <cstddef>
#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "phigate/core/finding.h"
#include "phigate/core/status.h"

namespace phigate::detect {

enum class OffsetUnit { kCodePoint, kUtf8, kUtf16 };

// "cp", "utf8", "utf16" (score.py --unit spellings).
Result<OffsetUnit> ParseOffsetUnit(std::string_view name);

struct GoldSpan {
  int64_t start = 0;  // code points, [start, end)
  int64_t end = 0;
  std::string type;  // NAME, DATE, LOCATION, ...
  bool phi = true;   // false: neutral reference span
  bool year_only = false;
};

struct GoldRecord {
  std::string id;    // the JSON id as text (numbers are printed as JSON)
  std::string text;  // UTF-8
  std::vector<GoldSpan> spans;
  std::string group;  // ParseGoldLine's group_field as text ("" when absent or not asked)
  std::string key;    // the id as score.py matches it: "s:1" for "1", "n:1" for 1 and 1.0
};

struct PredSpan {
  int64_t start = 0;  // in the unit of ScoreOptions::unit
  int64_t end = 0;
  std::string type;  // may be empty ("UNK")
};

// Parses one gold JSONL line. InvalidArgument (naming the field, never the
// text) when malformed. A non-empty `group_field` names a member read into
// GoldRecord::group (strings as they are, other values as JSON).
Result<GoldRecord> ParseGoldLine(std::string_view line, std::string_view group_field = {});

// Parses one prediction line into its id's match key (GoldRecord::key) and spans.
Status ParsePredLine(std::string_view line, std::string* id, std::vector<PredSpan>* spans);

// Reads a whole prediction file: id -> spans (a later line with the same id wins,
// as in score.py). Blank lines are skipped. Errors name the file and line number.
Result<std::unordered_map<std::string, std::vector<PredSpan>>> LoadPredictions(
    const std::string& path);

// Converts engine findings (byte offsets) into prediction spans in UTF-8 bytes,
// typed with CategoryEvalType().
std::vector<PredSpan> FindingsToPredSpans(const Findings& findings);

struct ScoreOptions {
  OffsetUnit unit = OffsetUnit::kCodePoint;
  bool years_as_phi = false;    // count year_only DATE spans as PHI (score.py --years-as-phi)
  bool collect_misses = false;  // fill EvalResult::misses
};

struct Counts {
  int64_t gold = 0, caught = 0, pred = 0, pred_in_gold = 0;
  double recall() const;     // caught / gold; NaN when gold == 0 (score.py's ratio)
  double precision() const;  // pred_in_gold / pred; NaN when pred == 0
  double f1() const;         // 0 when precision + recall == 0 (NaN propagates as in score.py)
};

struct TypeStats {
  int64_t entities = 0, entities_full = 0, entities_any = 0;
  int64_t chars_gold = 0, chars_caught = 0;
  int64_t tokens_gold = 0, tokens_caught = 0, tokens_caught_typed = 0;
};

struct PredTypeStats {
  int64_t tokens = 0, tokens_gold = 0;
};

// A gold PHI span no predicted character touches. Offsets only (code points).
struct Miss {
  std::string id;
  std::string type;
  int64_t start = 0, end = 0;
};

struct EvalResult {
  int64_t notes = 0;
  int64_t missing_predictions = 0;
  Counts chars, tokens;
  int64_t entities_total = 0, entities_full = 0, entities_any = 0;
  int64_t entities_missed() const { return entities_total - entities_any; }
  std::map<std::string, TypeStats> per_type;  // keys as score.py: entity or token gold types
  std::map<std::string, PredTypeStats> per_pred_type;
  int64_t no_phi_records = 0, no_phi_flagged = 0;
  std::vector<Miss> misses;  // only with ScoreOptions::collect_misses

  // The JSON of score.py's result for one prediction file (same keys and
  // values; NaN is written as NaN, as Python's json does). No text.
  std::string ToJson(int indent = 1) const;
};

// Accumulates records one at a time, so a corpus need not be held in memory.
class Scorer {
 public:
  explicit Scorer(ScoreOptions options) : options_(options) {}

  // Scores one gold record. `pred` null means the record has no prediction
  // (counted in missing_predictions, scored as predicting nothing).
  // InvalidArgument when a gold span lies outside the text.
  Status Add(const GoldRecord& gold, const std::vector<PredSpan>* pred);

  const EvalResult& result() const { return result_; }
  EvalResult Finish() { return std::move(result_); }

 private:
  ScoreOptions options_;
  EvalResult result_;
};

// Python's str.isspace() and str.isalnum() for one code point (the character
// classes score.py uses). Exposed for tests.
bool PyIsSpace(char32_t c);
bool PyIsAlnum(char32_t c);

}  // namespace phigate::detect

#endif  // PHIGATE_DETECT_EVALUATION_H_
