#include "phigate/model/tagger.h"

#include <cmath>
#include <fstream>
#include <iterator>

#include "absl/strings/str_cat.h"
#include "src/model/model_format.h"

namespace phigate::model {
namespace {

constexpr size_t kChunkMin = size_t{32} << 10;
constexpr size_t kChunkMax = size_t{64} << 10;
// Lanes summed per row: the 21 labels rounded up to whole 8-lane vectors.
constexpr int kSumLanes = 24;
static_assert(kSumLanes >= kNumLabels && kSumLanes <= kPaddedLabels);

// End of the chunk that starts at `pos`: the whole rest if short, else just
// after the last newline (or space) in [pos + kChunkMin, pos + kChunkMax), else
// kChunkMax bytes moved back to a UTF-8 lead byte.
size_t ChunkEnd(std::string_view text, size_t pos) {
  if (text.size() - pos <= kChunkMax) return text.size();
  const size_t lo = pos + kChunkMin, hi = pos + kChunkMax;
  for (char sep : {'\n', ' '}) {
    for (size_t i = hi; i > lo; --i) {
      if (text[i - 1] == sep) return i;
    }
  }
  size_t e = hi;
  for (int k = 0; k < 3 && (static_cast<uint8_t>(text[e]) & 0xC0) == 0x80; ++k) --e;
  return e;
}

struct Scratch {
  std::vector<Token> tokens;
  std::vector<uint32_t> rows;
  std::vector<float> emit;
  std::vector<int> labels;
  std::vector<float> margins;
  DecodeScratch decode;
};

}  // namespace

Tagger::Tagger(std::unique_ptr<ModelData> data) : data_(std::move(data)) {
  FillDecodeTrans(data_->trans.data(), data_->decode_trans.data());
  PadWeights(data_.get());
}

Tagger::~Tagger() = default;

Result<std::unique_ptr<Tagger>> Tagger::FromBytes(std::string_view bytes) {
  PHIGATE_ASSIGN_OR_RETURN(std::unique_ptr<ModelData> data, ParseModel(bytes));
  return std::unique_ptr<Tagger>(new Tagger(std::move(data)));
}

Result<std::unique_ptr<Tagger>> Tagger::Load(std::string_view path) {
  std::ifstream in{std::string(path), std::ios::binary};
  if (!in) {
    return absl::NotFoundError(absl::StrCat("cannot open model file ", ToAbsl(path)));
  }
  std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  if (in.bad()) return absl::DataLossError(absl::StrCat("cannot read model file ", ToAbsl(path)));
  auto t = FromBytes(bytes);
  if (!t.ok()) {
    return Status(t.status().code(), absl::StrCat(ToAbsl(path), ": ", t.status().message()));
  }
  return t;
}

const std::string& Tagger::metadata() const { return data_->metadata; }
uint32_t Tagger::hash_bits() const { return data_->hash_bits; }
float Tagger::default_recall_bias() const { return data_->recall_bias; }

Status Tagger::Tag(std::string_view text, std::vector<Finding>* out) const {
  return Tag(text, TagOptions{}, out);
}

Status Tagger::Tag(std::string_view text, const TagOptions& options,
                   std::vector<Finding>* out) const {
  out->clear();
  const ModelData& m = *data_;
  const float bias = std::isnan(options.recall_bias) ? m.recall_bias : options.recall_bias;
  const FeatureExtractor fx(&m.gazetteer, m.hash_bits);
  thread_local Scratch s;
  constexpr int L = kNumLabels;
  for (size_t pos = 0; pos < text.size();) {
    const size_t end = ChunkEnd(text, pos);
    const std::string_view chunk = text.substr(pos, end - pos);
    Tokenize(chunk, &s.tokens);
    const size_t n = s.tokens.size();
    fx.Extract(chunk, s.tokens, &s.rows);
    s.emit.resize(n * L);
    const int16_t* table = m.padded.get();
    for (size_t t = 0; t < n; ++t) {
      alignas(64) int32_t acc[kSumLanes] = {};
      const uint32_t* rows = &s.rows[t * kFeaturesPerToken];
      if (t + 1 < n) {
        for (int k = 0; k < kFeaturesPerToken; ++k) {
          __builtin_prefetch(table + size_t{rows[kFeaturesPerToken + k]} * kPaddedLabels);
        }
      }
      for (int k = 0; k < kFeaturesPerToken; ++k) {
        const int16_t* w = table + size_t{rows[k]} * kPaddedLabels;
        for (int l = 0; l < kSumLanes; ++l) acc[l] += w[l];
      }
      float* e = &s.emit[t * L];
      for (int l = 0; l < L; ++l) e[l] = static_cast<float>(acc[l]) * m.weight_scale;
      e[kOutside] -= bias;
    }
    Viterbi(s.emit.data(), n, m.decode_trans.data(), &s.decode, &s.labels);
    Margins(s.emit.data(), n, m.decode_trans.data(), s.labels, &s.decode, &s.margins);
    for (size_t t = 0; t < n;) {
      const int lab = s.labels[t];
      if (lab == kOutside) {
        ++t;
        continue;
      }
      // A span: one B (or a stray I) and the I labels of the same type after it.
      const EntityType type = TypeOfLabel(lab);
      float margin = s.margins[t];
      size_t u = t + 1;
      while (u < n && s.labels[u] == InsideLabel(type)) {
        margin = std::min(margin, s.margins[u]);
        ++u;
      }
      Finding f;
      f.category = ToCategory(type);
      f.begin = pos + s.tokens[t].begin;
      f.end = pos + s.tokens[u - 1].end;
      f.score = 1.0f / (1.0f + std::exp(-margin / m.score_scale));
      f.recognizer = kTaggerRecognizer;
      if (f.score >= options.min_score) out->push_back(f);
      t = u;
    }
    pos = end;
  }
  return absl::OkStatus();
}

}  // namespace phigate::model
