#include "src/model/model_format.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>
#if defined(__SSE2__)
#include <emmintrin.h>
#endif

#include "absl/strings/str_cat.h"
#include "phigate/core/byte_io.h"

namespace phigate::model {
namespace {

Status Corrupt(std::string_view what, size_t offset) {
  return absl::DataLossError(
      absl::StrCat("model file is corrupt: ", ToAbsl(what), " at byte ", offset));
}

}  // namespace

std::string SerializeModel(const ModelData& m) {
  std::string out;
  out.append(kModelMagic);
  PutLe<uint32_t>(&out, kModelFormatVersion);
  uint32_t feature_version = m.stacked ? kStackedFeatureSetVersion : kFeatureSetVersion;
  if (m.context) {
    feature_version = m.stacked ? kContextStackedFeatureSetVersion : kContextFeatureSetVersion;
  } else if (m.extended) {
    feature_version = m.stacked ? kExtendedStackedFeatureSetVersion : kExtendedFeatureSetVersion;
  }
  PutLe<uint32_t>(&out, feature_version);
  PutLe<uint32_t>(&out, m.hash_bits);
  PutLe<uint32_t>(&out, static_cast<uint32_t>(kNumLabels));
  PutLe<float>(&out, m.recall_bias);
  PutLe<float>(&out, m.score_scale);
  PutLe<float>(&out, m.weight_scale);
  PutLe<uint32_t>(&out, static_cast<uint32_t>(m.metadata.size()));
  out.append(m.metadata);
  if (m.stacked) {
    PutLe<uint32_t>(&out, static_cast<uint32_t>(m.rules_version.size()));
    out.append(m.rules_version);
  }
  // Gazetteer entries sorted by hash, so the bytes are deterministic.
  std::vector<std::pair<uint64_t, uint16_t>> gaz(m.gazetteer.entries().begin(),
                                                 m.gazetteer.entries().end());
  std::sort(gaz.begin(), gaz.end());
  PutLe<uint64_t>(&out, gaz.size());
  for (const auto& [h, f] : gaz) {
    PutLe<uint64_t>(&out, h);
    if (m.extended || m.context) {
      PutLe<uint16_t>(&out, f);
    } else {
      PutLe<uint8_t>(&out, static_cast<uint8_t>(f & 0xFF));
    }
  }
  for (float t : m.trans) PutLe<float>(&out, t);
  const size_t rows = size_t{1} << m.hash_bits;
  uint32_t nonzero = 0;
  for (size_t r = 0; r < rows; ++r) {
    const int16_t* w = &m.weights[r * kNumLabels];
    for (int l = 0; l < kNumLabels; ++l) {
      if (w[l] != 0) {
        ++nonzero;
        break;
      }
    }
  }
  PutLe<uint32_t>(&out, nonzero);
  for (size_t r = 0; r < rows; ++r) {
    const int16_t* w = &m.weights[r * kNumLabels];
    bool any = false;
    for (int l = 0; l < kNumLabels; ++l) any = any || w[l] != 0;
    if (!any) continue;
    PutLe<uint32_t>(&out, static_cast<uint32_t>(r));
    for (int l = 0; l < kNumLabels; ++l) PutLe<int16_t>(&out, w[l]);
  }
  PutLe<uint32_t>(&out, Crc32c(out));
  return out;
}

Result<std::unique_ptr<ModelData>> ParseModel(std::string_view bytes) {
  if (bytes.size() < kModelMagic.size() || bytes.substr(0, kModelMagic.size()) != kModelMagic) {
    return absl::InvalidArgumentError("not a phigate model file (bad magic)");
  }
  if (bytes.size() > kMaxModelBytes) {
    return absl::InvalidArgumentError(
        absl::StrCat("model file is larger than the limit of ", kMaxModelBytes, " bytes"));
  }
  ByteReader head(bytes.substr(kModelMagic.size()));
  uint32_t version = 0;
  if (!head.Get(&version)) return Corrupt("truncated header", kModelMagic.size());
  if (version != kModelFormatVersion) {
    return absl::InvalidArgumentError(absl::StrCat("model file format version ", version,
                                                   " is not supported (this build reads ",
                                                   kModelFormatVersion, ")"));
  }
  if (bytes.size() < kModelMagic.size() + 8 + 4) return Corrupt("truncated file", bytes.size());
  const std::string_view body = bytes.substr(0, bytes.size() - 4);
  uint32_t stored_crc = 0;
  ByteReader(bytes.substr(body.size())).Get(&stored_crc);
  if (Crc32c(body) != stored_crc) {
    return Corrupt("checksum mismatch (truncated or modified file)", body.size());
  }

  auto m = std::make_unique<ModelData>();
  const size_t base = kModelMagic.size() + 4;
  ByteReader r(body.substr(base), base);
  uint32_t feature_version = 0, hash_bits = 0, labels = 0, meta_len = 0;
  if (!r.Get(&feature_version) || !r.Get(&hash_bits) || !r.Get(&labels) ||
      !r.Get(&m->recall_bias) || !r.Get(&m->score_scale) || !r.Get(&m->weight_scale) ||
      !r.Get(&meta_len)) {
    return Corrupt("truncated header", r.offset());
  }
  if (feature_version < kFeatureSetVersion || feature_version > kContextStackedFeatureSetVersion) {
    return absl::InvalidArgumentError(
        absl::StrCat("model feature set version ", feature_version, " is not supported"));
  }
  if (hash_bits < 10 || hash_bits > 24 || labels != static_cast<uint32_t>(kNumLabels)) {
    return Corrupt("bad hash_bits or label count", base);
  }
  if (!std::isfinite(m->recall_bias) || !std::isfinite(m->score_scale) ||
      !std::isfinite(m->weight_scale) || m->score_scale <= 0) {
    return Corrupt("bad scale", base);
  }
  m->hash_bits = hash_bits;
  std::string_view meta;
  if (!r.Bytes(meta_len, &meta)) return Corrupt("truncated metadata", r.offset());
  m->metadata = std::string(meta);
  m->extended = feature_version >= kExtendedFeatureSetVersion;
  m->context = feature_version >= kContextFeatureSetVersion;
  if (feature_version % 2 == 0) {  // 2, 4, 6: stacked
    m->stacked = true;
    uint32_t rv_len = 0;
    std::string_view rv;
    if (!r.Get(&rv_len) || !r.Bytes(rv_len, &rv)) {
      return Corrupt("truncated rules version", r.offset());
    }
    m->rules_version = std::string(rv);
  }
  uint64_t gaz_count = 0;
  const size_t entry_bytes = m->extended ? 10 : 9;
  if (!r.Get(&gaz_count) || gaz_count > r.remaining() / entry_bytes) {
    return Corrupt("bad gazetteer size", r.offset());
  }
  for (uint64_t i = 0; i < gaz_count; ++i) {
    uint64_t h = 0;
    uint16_t f = 0;
    uint8_t f8 = 0;
    if (!r.Get(&h) || !(m->extended ? r.Get(&f) : r.Get(&f8))) {
      return Corrupt("truncated gazetteer", r.offset());
    }
    m->gazetteer.AddHash(h, m->extended ? f : f8);
  }
  for (float& t : m->trans) {
    if (!r.Get(&t) || !std::isfinite(t)) return Corrupt("bad transitions", r.offset());
  }
  const size_t rows = size_t{1} << hash_bits;
  m->weights.assign(rows * kNumLabels, 0);
  uint32_t nonzero = 0;
  if (!r.Get(&nonzero) || nonzero > rows) return Corrupt("bad row count", r.offset());
  int64_t last = -1;
  for (uint32_t i = 0; i < nonzero; ++i) {
    uint32_t row = 0;
    if (!r.Get(&row)) return Corrupt("truncated weights", r.offset());
    if (row >= rows || static_cast<int64_t>(row) <= last) {
      return Corrupt("bad weight row index", r.offset());
    }
    last = row;
    for (int l = 0; l < kNumLabels; ++l) {
      if (!r.Get(&m->weights[size_t{row} * kNumLabels + static_cast<size_t>(l)])) {
        return Corrupt("truncated weights", r.offset());
      }
    }
  }
  if (r.remaining() != 0) return Corrupt("trailing bytes", r.offset());
  return m;
}

// Under the BIO constraints, I-X can only follow B-X or I-X, and only O or a B
// label can follow O; the loops below visit just the allowed pairs (the
// forbidden ones score -1e9 in `trans` anyway, so the result is the same).
namespace {

// 21 labels padded to 24 floats: six 4-lane vectors.
constexpr int kLanes = 24;
constexpr float kPad = -1e30f;

// max over the 24 lanes of a[i] + b[i], and the first lane reaching it.
inline float MaxSum(const float* a, const float* b, int* arg) {
#if defined(__SSE2__)
  __m128 s[6];
  __m128 m = _mm_set1_ps(-3e38f);
  for (int j = 0; j < 6; ++j) {
    s[j] = _mm_add_ps(_mm_loadu_ps(a + 4 * j), _mm_loadu_ps(b + 4 * j));
    m = _mm_max_ps(m, s[j]);
  }
  m = _mm_max_ps(m, _mm_shuffle_ps(m, m, _MM_SHUFFLE(2, 3, 0, 1)));
  m = _mm_max_ps(m, _mm_shuffle_ps(m, m, _MM_SHUFFLE(1, 0, 3, 2)));
  for (int j = 0; j < 6; ++j) {
    const int mask = _mm_movemask_ps(_mm_cmpeq_ps(s[j], m));
    if (mask != 0) {
      *arg = 4 * j + __builtin_ctz(static_cast<unsigned>(mask));
      return _mm_cvtss_f32(m);
    }
  }
#endif
  float best = a[0] + b[0];
  int k = 0;
  for (int i = 1; i < kLanes; ++i) {
    const float v = a[i] + b[i];
    if (v > best) {
      best = v;
      k = i;
    }
  }
  *arg = k;
  return best;
}

}  // namespace

// Under the BIO constraints, I-X can only follow B-X or I-X, and only O or a B
// label can follow O; the loops below visit just the allowed pairs for I
// labels (the forbidden ones score -1e9 in `trans` anyway, so the result is the
// same), and take O and B labels' best predecessor with 4-lane max/compare
// over the transposed transitions (the first best index, as a scalar scan).
void Viterbi(const float* emit, size_t n, const float* trans, DecodeScratch* s,
             std::vector<int>* labels) {
  constexpr int L = kNumLabels;
  labels->assign(n, kOutside);
  if (n == 0) return;
  s->fwd.resize(n * L);
  s->back.resize(n * L);
  float* fwd = s->fwd.data();
  alignas(16) float trans_t[L][kLanes];  // [cur][prev]
  for (int y = 0; y < L; ++y) {
    for (int p = 0; p < kLanes; ++p) trans_t[y][p] = p < L ? trans[p * L + y] : kPad;
  }
  alignas(16) float prev_pad[kLanes];
  for (int p = L; p < kLanes; ++p) prev_pad[p] = kPad;
  const float* start = trans + static_cast<size_t>(kNumLabels) * L;
  for (int y = 0; y < L; ++y) fwd[y] = emit[y] + start[y];
  for (size_t t = 1; t < n; ++t) {
    const float* prev = fwd + (t - 1) * L;
    std::copy_n(prev, L, prev_pad);
    float* cur = fwd + t * L;
    uint8_t* bp = s->back.data() + t * L;
    const float* e = emit + t * L;
    for (int y = 0; y < L; ++y) {
      if (IsInside(y)) {
        const float vb = prev[y - 1] + trans[(y - 1) * L + y];
        const float vi = prev[y] + trans[y * L + y];
        const bool from_b = vb >= vi;
        cur[y] = (from_b ? vb : vi) + e[y];
        bp[y] = static_cast<uint8_t>(from_b ? y - 1 : y);
        continue;
      }
      int arg = 0;
      const float best = MaxSum(prev_pad, trans_t[y], &arg);
      cur[y] = best + e[y];
      bp[y] = static_cast<uint8_t>(arg);
    }
  }
  const float* last = fwd + (n - 1) * L;
  int y = 0;
  for (int k = 1; k < L; ++k) {
    if (last[k] > last[y]) y = k;
  }
  for (size_t t = n; t-- > 0;) {
    (*labels)[t] = y;
    if (t > 0) y = s->back[t * L + static_cast<size_t>(y)];
  }
}

void Margins(const float* emit, size_t n, const float* trans, const std::vector<int>& labels,
             DecodeScratch* s, std::vector<float>* margins, std::vector<float>* outside) {
  constexpr int L = kNumLabels;
  margins->assign(n, 0.0f);
  if (outside != nullptr) outside->assign(n, 0.0f);
  if (n == 0) return;
  bool any = outside != nullptr;
  for (int l : labels) any = any || l != kOutside;
  if (!any) return;
  s->bwd.resize(n * L);
  float* bwd = s->bwd.data();
  const float* fwd = s->fwd.data();
  for (int y = 0; y < L; ++y) bwd[(n - 1) * L + static_cast<size_t>(y)] = 0.0f;
  // Next label after y: O or any B, or the I of y's own type; the forbidden
  // ones score -1e9 in trans, so the max over all labels is the same.
  alignas(16) float trans_pad[L][kLanes];
  for (int y = 0; y < L; ++y) {
    for (int c = 0; c < kLanes; ++c) trans_pad[y][c] = c < L ? trans[y * L + c] : kPad;
  }
  alignas(16) float gain[kLanes];
  for (int c = L; c < kLanes; ++c) gain[c] = kPad;
  for (size_t t = n - 1; t-- > 0;) {
    const float* nb = bwd + (t + 1) * L;
    const float* e = emit + (t + 1) * L;
    float* cur = bwd + t * L;
    for (int c = 0; c < L; ++c) gain[c] = e[c] + nb[c];
    for (int y = 0; y < L; ++y) {
      int unused = 0;
      cur[y] = MaxSum(trans_pad[y], gain, &unused);
    }
  }
  if (outside != nullptr) {
    for (size_t t = 0; t < n; ++t) {
      const size_t k = t * L;
      float other = fwd[k + 1] + bwd[k + 1];
      for (size_t y = 2; y < static_cast<size_t>(L); ++y)
        other = std::max(other, fwd[k + y] + bwd[k + y]);
      (*outside)[t] = fwd[k] + bwd[k] - other;
    }
  }
  for (size_t t = 0; t < n; ++t) {
    if (labels[t] == kOutside) continue;
    const size_t k = t * L;
    const float best =
        fwd[k + static_cast<size_t>(labels[t])] + bwd[k + static_cast<size_t>(labels[t])];
    (*margins)[t] = best - (fwd[k] + bwd[k]);
  }
}

}  // namespace phigate::model

namespace phigate::model {

void PadWeights(ModelData* m) {
  const size_t rows = size_t{1} << m->hash_bits;
  const size_t n = rows * kPaddedLabels;
  m->padded.reset(
      static_cast<int16_t*>(::operator new[](n * sizeof(int16_t), std::align_val_t(64))));
  std::fill(m->padded.get(), m->padded.get() + n, int16_t{0});
  for (size_t r = 0; r < rows; ++r) {
    std::copy_n(&m->weights[r * kNumLabels], kNumLabels, &m->padded[r * kPaddedLabels]);
  }
  std::vector<int16_t>().swap(m->weights);
}

void FillDecodeTrans(const float* trans, float* out) {
  for (int p = 0; p < kNumTransRows; ++p) {
    for (int y = 0; y < kNumLabels; ++y) {
      const size_t k = static_cast<size_t>(p) * kNumLabels + static_cast<size_t>(y);
      out[k] = Allowed(p, y) ? trans[k] : -1e9f;
    }
  }
}

}  // namespace phigate::model
