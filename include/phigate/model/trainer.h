// Training the sequence tagger (phigate train): reading labelled JSONL notes,
// splitting them by patient, and learning an averaged structured perceptron.
//
// Training is deterministic for a given seed, data and options: the same call
// writes the same model bytes.
//
// Example:
//   std::vector<Example> notes;
//   PHIGATE_RETURN_IF_ERROR(ReadJsonl("notes.jsonl", &notes));
//   TrainOptions opt;
//   opt.seed = 7;
//   PHIGATE_ASSIGN_OR_RETURN(std::string model_bytes, Train(notes, opt, nullptr));
#ifndef PHIGATE_MODEL_TRAINER_H_
#define PHIGATE_MODEL_TRAINER_H_

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "phigate/core/status.h"
#include "phigate/model/features.h"
#include "phigate/model/labels.h"

namespace phigate::model {

struct LabeledSpan {
  size_t begin = 0;  // byte offsets into Example::text, [begin, end)
  size_t end = 0;
  EntityType type = EntityType::kName;
};

struct Example {
  std::string id;                  // "PATIENT-NOTE", e.g. "12-3"
  std::string text;                // UTF-8
  std::vector<LabeledSpan> spans;  // PHI spans only ("phi": false spans are dropped)
  // Stacked training only: the rule engine's findings on `text` (byte offsets),
  // the input features of a stacked model (Tagger::Tag's rule_findings).
  std::vector<Finding> rule_findings;
};

// Appends the records of a JSONL file ({"id","text","spans":[{"start","end",
// "type","phi"}]}, offsets in code points) to *out, offsets converted to bytes.
// Spans of types the tagger does not learn, and "phi": false spans, are dropped.
// InvalidArgument names the line number of a malformed record (never its text).
Status ReadJsonl(std::string_view path, std::vector<Example>* out);

// The patient of a record id: the part before the first '-' ("12-3" -> "12").
// Ids without '-' are their own patient.
std::string PatientOf(std::string_view id);

// The fold (0..k-1) of each example for k-fold cross-validation by patient:
// the distinct patients, sorted and shuffled with `seed`, are dealt round-robin,
// so every note of a patient is in the same fold. REQUIRES: k >= 1.
std::vector<int> AssignFolds(const std::vector<Example>& examples, int k, uint64_t seed);

struct TrainOptions {
  uint64_t seed = 1;
  int epochs = 12;
  uint32_t hash_bits = 18;
  // Default decoding recall bias stored in the model (TagOptions::recall_bias).
  float recall_bias = 2.0f;
  // Word dropout: the share of PHI tokens (and of other word tokens, times
  // 1/4) whose own word features are replaced by "unknown" in each epoch.
  float word_dropout = 0.5f;
  // Loss-augmented training: during training decoding, every wrong label of a
  // token gets +margin, and O on a PHI token +2*margin (misses cost more).
  float margin = 0.0f;
  // Average the weights over all steps (Collins 2002); false keeps the final ones.
  bool average = true;
  // Ensemble: train this many perceptrons (seeds seed, seed+1, ...) on the same
  // data and average their weights into one model (same size and speed: the
  // model is linear, so this is the mean of their scores).
  int ensemble = 1;
  // Cost-sensitive updates: a PHI token decoded as O moves the weights this
  // many times as far as other mistakes (recall is the weaker side).
  float miss_cost = 1.0f;
  // Folder with first_names.tsv, surnames.tsv, us_cities.tsv, us_states.tsv,
  // common_words.txt; embedded in the model. Empty or missing: no gazetteers.
  std::string gazetteer_dir;
  // Free text stored in the model file (how it was trained).
  std::string metadata;
  // Stacking: train with Example::rule_findings as features (model feature
  // set 2). `rules_version` names the rule engine that made them (stored in the
  // model; the engine refuses a stacked model made for other rules' hints).
  bool stacked = false;
  std::string rules_version;
  // Extended feature set (3, or 4 when stacked): kExtendedFeatures more per
  // token and the extra gazetteers (Gazetteer::LoadDirectory's `extended`).
  bool extended = false;
  // Context feature set (5, or 6 when stacked; implies extended):
  // kContextFeatures more per token and the built-in facility/role words.
  bool context = false;
};

struct TrainStats {
  // Mistakes of the online pass, epoch by epoch (ensemble members one after
  // the other).
  std::vector<size_t> token_errors_per_epoch;
  size_t tokens = 0;
  size_t examples = 0;
  int gazetteer_files = 0;
};

// Trains on `examples` and returns the bytes of a model file (Tagger::FromBytes).
Result<std::string> Train(const std::vector<Example>& examples, const TrainOptions& options,
                          TrainStats* stats);

// BIO labels of `tokens` from byte spans: a token overlapping a span is B (the
// first one) or I of its type. Used by training and its tests.
std::vector<int> LabelTokens(const std::vector<Token>& tokens,
                             const std::vector<LabeledSpan>& spans);

}  // namespace phigate::model

#endif  // PHIGATE_MODEL_TRAINER_H_
