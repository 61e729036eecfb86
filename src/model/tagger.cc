#include "phigate/model/tagger.h"

#include <algorithm>
#if defined(__SSE2__)
#include <emmintrin.h>
#endif
#include <cmath>
#include <fstream>
#include <sstream>
#include <utility>

#include "absl/strings/str_cat.h"
#include "src/model/model_format.h"

namespace phigate::model {
namespace {

constexpr size_t kChunkMin = size_t{32} << 10;
constexpr size_t kChunkMax = size_t{64} << 10;
// Lanes summed per row: the 21 labels rounded up to whole 8-lane vectors.
constexpr int kSumLanes = 24;
static_assert(kSumLanes >= kNumLabels && kSumLanes <= kPaddedLabels);

// A token made of quotation marks only.
bool IsQuoteMark(std::string_view chunk, const Token& t) {
  for (size_t i = t.begin; i < t.end; ++i) {
    if (chunk[i] != '"') return false;
  }
  return t.end > t.begin;
}

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

// acc[l] = sum over the rows of row[l], l < kSumLanes: the emission scores of
// one token. SSE2 (every x86-64): 8 int16 lanes sign-extended to two int32x4
// per load; g++ -O2 leaves the plain loop scalar.
inline void SumRows(const int16_t* table, const uint32_t* rows, size_t count, int32_t* acc) {
#if defined(__SSE2__)
  static_assert(kSumLanes == 24);
  __m128i a0 = _mm_setzero_si128(), a1 = a0, a2 = a0, a3 = a0, a4 = a0, a5 = a0;
  for (size_t k = 0; k < count; ++k) {
    const auto* w = reinterpret_cast<const __m128i*>(table + size_t{rows[k]} * kPaddedLabels);
    const __m128i x0 = _mm_load_si128(w), x1 = _mm_load_si128(w + 1), x2 = _mm_load_si128(w + 2);
    // Interleaving a value with itself then shifting right by 16 sign-extends it.
    a0 = _mm_add_epi32(a0, _mm_srai_epi32(_mm_unpacklo_epi16(x0, x0), 16));
    a1 = _mm_add_epi32(a1, _mm_srai_epi32(_mm_unpackhi_epi16(x0, x0), 16));
    a2 = _mm_add_epi32(a2, _mm_srai_epi32(_mm_unpacklo_epi16(x1, x1), 16));
    a3 = _mm_add_epi32(a3, _mm_srai_epi32(_mm_unpackhi_epi16(x1, x1), 16));
    a4 = _mm_add_epi32(a4, _mm_srai_epi32(_mm_unpacklo_epi16(x2, x2), 16));
    a5 = _mm_add_epi32(a5, _mm_srai_epi32(_mm_unpackhi_epi16(x2, x2), 16));
  }
  auto* out = reinterpret_cast<__m128i*>(acc);
  _mm_store_si128(out, a0);
  _mm_store_si128(out + 1, a1);
  _mm_store_si128(out + 2, a2);
  _mm_store_si128(out + 3, a3);
  _mm_store_si128(out + 4, a4);
  _mm_store_si128(out + 5, a5);
#else
  for (size_t k = 0; k < count; ++k) {
    const int16_t* w = table + size_t{rows[k]} * kPaddedLabels;
    for (int l = 0; l < kSumLanes; ++l) acc[l] += w[l];
  }
#endif
}

struct Scratch {
  std::vector<Token> tokens;
  std::vector<uint32_t> rows;
  std::vector<Finding> chunk_rules;
  std::vector<RuleHint> hints;
  std::vector<float> emit;
  std::vector<int> labels;
  std::vector<float> margins;
  std::vector<float> outside;
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
  // Read in blocks (an istreambuf_iterator copy went byte by byte: ~5 % of a
  // CLI start, more under ASan). Works on any stream, not only regular files.
  std::stringstream ss;
  ss << in.rdbuf();
  if (in.bad()) return absl::DataLossError(absl::StrCat("cannot read model file ", ToAbsl(path)));
  const std::string bytes = std::move(ss).str();
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

bool Tagger::stacked() const { return data_->stacked; }
const std::string& Tagger::rules_version() const { return data_->rules_version; }

Status Tagger::Tag(std::string_view text, const TagOptions& options,
                   std::vector<Finding>* out) const {
  return Tag(text, options, {}, out);
}

Status Tagger::Tag(std::string_view text, const TagOptions& options,
                   std::span<const Finding> rule_findings, std::vector<Finding>* out,
                   std::vector<float>* rule_outside) const {
  out->clear();
  if (rule_outside != nullptr) rule_outside->assign(rule_findings.size(), 1e30f);
  const ModelData& m = *data_;
  const float bias = std::isnan(options.recall_bias) ? m.recall_bias : options.recall_bias;
  const FeatureExtractor fx(&m.gazetteer, m.hash_bits, m.stacked, m.extended, m.context);
  const size_t fpt = static_cast<size_t>(fx.features_per_token());
  thread_local Scratch s;
  constexpr int L = kNumLabels;
  for (size_t pos = 0; pos < text.size();) {
    const size_t end = ChunkEnd(text, pos);
    const std::string_view chunk = text.substr(pos, end - pos);
    Tokenize(chunk, &s.tokens);
    const size_t n = s.tokens.size();
    if (m.stacked) {
      // The rule findings of this chunk, in chunk offsets.
      s.chunk_rules.clear();
      for (const Finding& f : rule_findings) {
        if (f.end <= pos || f.begin >= end) continue;
        Finding g = f;
        g.begin = std::max(f.begin, pos) - pos;
        g.end = std::min(f.end, end) - pos;
        s.chunk_rules.push_back(g);
      }
      TokenHints(s.tokens, s.chunk_rules, &s.hints);
    } else {
      s.hints.clear();
    }
    fx.Extract(chunk, s.tokens, &s.rows, false, s.hints);
    s.emit.resize(n * L);
    const int16_t* table = m.padded.get();
    for (size_t t = 0; t < n; ++t) {
      alignas(64) int32_t acc[kSumLanes] = {};
      const uint32_t* rows = &s.rows[t * fpt];
      if (t + 1 < n) {
        for (size_t k = 0; k < fpt; ++k) {
          __builtin_prefetch(table + size_t{rows[fpt + k]} * kPaddedLabels);
        }
      }
      SumRows(table, rows, fpt, acc);
      float* e = &s.emit[t * L];
      for (int l = 0; l < L; ++l) e[l] = static_cast<float>(acc[l]) * m.weight_scale;
      e[kOutside] -= bias;
    }
    Viterbi(s.emit.data(), n, m.decode_trans.data(), &s.decode, &s.labels);
    Margins(s.emit.data(), n, m.decode_trans.data(), s.labels, &s.decode, &s.margins,
            rule_outside != nullptr ? &s.outside : nullptr);
    if (rule_outside != nullptr) {
      // Minimum outside margin over the tokens of each rule finding in this chunk.
      for (size_t r = 0; r < rule_findings.size(); ++r) {
        const Finding& f = rule_findings[r];
        if (f.end <= pos || f.begin >= end) continue;
        const size_t b = std::max(f.begin, pos) - pos, e = std::min(f.end, end) - pos;
        auto it = std::partition_point(s.tokens.begin(), s.tokens.end(),
                                       [&](const Token& tok) { return tok.end <= b; });
        for (size_t t = static_cast<size_t>(it - s.tokens.begin()); t < n && s.tokens[t].begin < e;
             ++t) {
          (*rule_outside)[r] = std::min((*rule_outside)[r], s.outside[t]);
        }
      }
    }
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
      // A quotation mark is no part of a value: a span does not begin or end
      // on one ('Daughter "Mary" called'; the training data hold no quoted
      // value, so the tagger has not learnt where such a span stops).
      size_t first = t, last = u - 1;
      while (first < last && IsQuoteMark(chunk, s.tokens[first])) ++first;
      while (last > first && IsQuoteMark(chunk, s.tokens[last])) --last;
      if (IsQuoteMark(chunk, s.tokens[first])) {
        t = u;
        continue;
      }
      Finding f;
      f.category = ToCategory(type);
      f.begin = pos + s.tokens[first].begin;
      f.end = pos + s.tokens[last].end;
      f.score = 1.0f / (1.0f + std::exp(-margin / m.score_scale));
      f.recognizer = kTaggerRecognizer;
      if (f.score >= options.min_score) out->push_back(f);
      t = u;
    }
    pos = end;
  }
  if (rule_outside != nullptr) {
    for (float& v : *rule_outside) {
      // A finding covering no token (only separators) gets no veto score (0).
      v = v >= 1e29f ? 0.0f : 1.0f / (1.0f + std::exp(-v / m.score_scale));
    }
  }
  return absl::OkStatus();
}

}  // namespace phigate::model
