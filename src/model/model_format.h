// The model file: a versioned binary format with a CRC-32C (docs/model.md).
//
//   offset  size  field (little-endian)
//   0       8     magic "PHGTMODL"
//   8       4     format version (kModelFormatVersion)
//   12      4     feature set version (kFeatureSetVersion)
//   16      4     hash_bits
//   20      4     number of labels (kNumLabels)
//   24      4     recall_bias (f32)
//   28      4     score_scale (f32)
//   32      4     weight_scale (f32): weight = int16 * weight_scale
//   36      4     metadata length M, then M bytes of metadata (UTF-8 text)
//   ...     4     feature sets 2, 4 and 6 (stacked): rules version length V, then V bytes
//   ...     8     gazetteer entries G, then G x (u64 word hash, u8 flags; u16
//                 flags in feature sets 3 to 6)
//   ...     4*(L+1)*L transition scores (f32): row p = previous label, row L = start
//   ...     4     non-zero weight rows R, then R x (u32 row, L x i16), rows ascending
//   end-4   4     CRC-32C of every byte before it
#ifndef PHIGATE_SRC_MODEL_MODEL_FORMAT_H_
#define PHIGATE_SRC_MODEL_MODEL_FORMAT_H_

#include <array>
#include <cstdint>
#include <memory>
#include <new>
#include <string>
#include <string_view>
#include <vector>

#include "phigate/core/status.h"
#include "phigate/model/features.h"
#include "phigate/model/labels.h"

namespace phigate::model {

inline constexpr std::string_view kModelMagic = "PHGTMODL";
inline constexpr uint32_t kModelFormatVersion = 1;
// Feature set 1: the kFeaturesPerToken text features. Feature set 2 (a
// stacked model): those plus kHintFeatures from the rule engine's findings
// (RuleHint encoding 1), with the rule engine's version recorded.
// Feature sets 3 and 4: 1 and 2 plus kExtendedFeatures (an extended model,
// with the high gazetteer bits).
inline constexpr uint32_t kFeatureSetVersion = 1;
inline constexpr uint32_t kStackedFeatureSetVersion = 2;
inline constexpr uint32_t kExtendedFeatureSetVersion = 3;
inline constexpr uint32_t kExtendedStackedFeatureSetVersion = 4;
// Feature sets 5 and 6: 3 and 4 plus kContextFeatures (a context model).
inline constexpr uint32_t kContextFeatureSetVersion = 5;
inline constexpr uint32_t kContextStackedFeatureSetVersion = 6;
inline constexpr size_t kMaxModelBytes = size_t{64} << 20;
inline constexpr int kNumTransRows = kNumLabels + 1;  // previous label, or start

inline constexpr int kPaddedLabels = 32;
struct AlignedDelete {
  void operator()(int16_t* p) const { ::operator delete[](p, std::align_val_t(64)); }
};

struct ModelData {
  uint32_t hash_bits = 18;
  float recall_bias = 0.0f;
  float score_scale = 1.0f;
  float weight_scale = 1.0f;
  std::string metadata;
  bool stacked = false;       // feature sets 2 and 4: trained with rule hints
  bool extended = false;      // feature sets 3 to 6: kExtendedFeatures more
  bool context = false;       // feature sets 5 and 6: kContextFeatures more
  std::string rules_version;  // stacked only: the rule engine it was trained with
  Gazetteer gazetteer;
  std::array<float, kNumTransRows * kNumLabels> trans{};
  std::vector<int16_t> weights;  // (1 << hash_bits) * kNumLabels, row-major

  // Not stored: trans with -1e9 on the transitions BIO forbids (FillDecodeTrans).
  std::array<float, kNumTransRows * kNumLabels> decode_trans{};
  // Not stored: the weights with rows padded to kPaddedLabels int16 (one
  // 64-byte cache line each), built by PadWeights() for fast decoding.
  std::unique_ptr<int16_t[], AlignedDelete> padded;
};

// Builds m->padded from m->weights and releases m->weights.
void PadWeights(ModelData* m);

// Writes `trans` plus the BIO constraints (-1e9 where !Allowed) to *out.
void FillDecodeTrans(const float* trans, float* out);

std::string SerializeModel(const ModelData& model);
Result<std::unique_ptr<ModelData>> ParseModel(std::string_view bytes);

// Viterbi decoding under the BIO constraints. `emit` holds n * kNumLabels
// scores, `trans` the kNumTransRows * kNumLabels transition scores. Writes n
// labels to *labels. `scratch` is reused between calls.
struct DecodeScratch {
  std::vector<float> fwd;     // n * L best prefix scores
  std::vector<float> bwd;     // n * L best suffix scores
  std::vector<uint8_t> back;  // n * L back pointers
};
void Viterbi(const float* emit, size_t n, const float* trans, DecodeScratch* scratch,
             std::vector<int>* labels);
// After Viterbi(): best - (best path score with token t labelled O), per token.
// Written to margins (n values, 0 for tokens labelled O).
// With `outside` (optional): for every token, (best path with it labelled O)
// - (best path with it labelled anything else): > 0 where the best path says
// O, by how much.
void Margins(const float* emit, size_t n, const float* trans, const std::vector<int>& labels,
             DecodeScratch* scratch, std::vector<float>* margins,
             std::vector<float>* outside = nullptr);

// True when label `cur` may follow `prev` (prev == kNumLabels: sequence start).
inline bool Allowed(int prev, int cur) {
  if (!IsInside(cur)) return true;
  return prev != kNumLabels && prev != kOutside && TypeOfLabel(prev) == TypeOfLabel(cur);
}

}  // namespace phigate::model

#endif  // PHIGATE_SRC_MODEL_MODEL_FORMAT_H_
