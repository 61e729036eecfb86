// The small fast model: a BIO sequence tagger over tokens (an averaged
// structured perceptron with hashed features and Viterbi decoding, see
// docs/model.md) that finds NAME, LOCATION, DATE, AGE, PHONE, EMAIL, URL, IP,
// SSN and ID spans in clinical free text.
//
// A Tagger is loaded once from a model file, is immutable afterwards and may be
// shared by any number of threads. Tag() returns Findings (byte offsets,
// category, score in 0..1), never copies of the text.
//
// Example:
//   PHIGATE_ASSIGN_OR_RETURN(auto tagger,
//   phigate::model::Tagger::Load("models/phigate_tagger.bin")); phigate::Findings found;
//   PHIGATE_RETURN_IF_ERROR(tagger->Tag(note, &found));
#ifndef PHIGATE_MODEL_TAGGER_H_
#define PHIGATE_MODEL_TAGGER_H_

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "phigate/core/finding.h"
#include "phigate/core/status.h"

namespace phigate::model {

struct ModelData;  // src/model/model_format.h

// The recognizer name on every Finding the tagger makes.
inline constexpr std::string_view kTaggerRecognizer = "model_tagger";

struct TagOptions {
  // Subtracted from the score of the O label before decoding: larger values
  // trade precision for recall. NaN: the default stored in the model file.
  float recall_bias = __builtin_nanf("");
  // Findings scoring below this are dropped.
  float min_score = 0.0f;
};

class Tagger {
 public:
  // Reads and verifies a model file (magic, version, sizes, CRC-32C).
  // NotFound when the file is missing, DataLoss when it is corrupt or truncated,
  // InvalidArgument when it is not a phigate model or of another version.
  static Result<std::unique_ptr<Tagger>> Load(std::string_view path);
  // The same from the bytes of a model file.
  static Result<std::unique_ptr<Tagger>> FromBytes(std::string_view bytes);

  ~Tagger();
  Tagger(const Tagger&) = delete;  // owns the weight table; share by pointer
  Tagger& operator=(const Tagger&) = delete;

  // Writes the findings of `text` to *out (cleared first), sorted by begin and
  // pairwise disjoint. Any bytes are accepted (invalid UTF-8, NULs); very long
  // texts are tagged in chunks of about 64 KiB cut at line ends.
  Status Tag(std::string_view text, std::vector<Finding>* out) const;
  Status Tag(std::string_view text, const TagOptions& options, std::vector<Finding>* out) const;
  // Stacking: `rule_findings` are the rule engine's findings on the same text
  // (byte offsets), read as features by a stacked model (stacked() true) and
  // ignored otherwise. A stacked model given no rule findings reads "the rules
  // found nothing", which is not what it was trained on: pass them.
  // `rule_outside` (optional, any model): for each rule finding, in order, how
  // sure the tagger is that none of its tokens is PHI: sigmoid(min over its
  // tokens of (best path with the token O - best path with it not O) /
  // score scale); above 0.5 when the tagger labels every token O, below when it
  // tags one (the veto of the union combination).
  Status Tag(std::string_view text, const TagOptions& options,
             std::span<const Finding> rule_findings, std::vector<Finding>* out,
             std::vector<float>* rule_outside = nullptr) const;

  // True for a model trained with the rule engine's findings as features
  // (model feature set 2); rules_version() names the rule engine and hint
  // encoding it was trained with ("" for other models).
  bool stacked() const;
  const std::string& rules_version() const;

  // The training record stored in the model file (command, seed, data hashes).
  const std::string& metadata() const;
  uint32_t hash_bits() const;
  float default_recall_bias() const;

 private:
  explicit Tagger(std::unique_ptr<ModelData> data);
  std::unique_ptr<ModelData> data_;
};

}  // namespace phigate::model

#endif  // PHIGATE_MODEL_TAGGER_H_
