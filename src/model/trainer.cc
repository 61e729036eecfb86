#include "phigate/model/trainer.h"

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <map>
#include <string>

#include "absl/strings/str_cat.h"
#include "nlohmann/json.hpp"
#include "phigate/core/utf8.h"
#include "src/model/model_format.h"

namespace phigate::model {
namespace {

// splitmix64: a tiny, fully specified PRNG (std distributions differ between
// standard libraries, which would break reproducibility).
class Rng {
 public:
  explicit Rng(uint64_t seed) : s_(seed) {}
  uint64_t Next() {
    uint64_t z = (s_ += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
  }
  size_t Below(size_t n) { return static_cast<size_t>(Next() % n); }

 private:
  uint64_t s_;
};

template <class T>
void Shuffle(std::vector<T>* v, Rng* rng) {
  for (size_t i = v->size(); i > 1; --i) std::swap((*v)[i - 1], (*v)[rng->Below(i)]);
}

struct Prepared {
  std::vector<uint32_t> rows;      // tokens * features per token
  std::vector<uint32_t> unk_rows;  // the same with unknown_words
  std::vector<int> labels;
};

constexpr int L = kNumLabels;

void Emissions(const std::vector<float>& w, const uint32_t* rows, size_t n, size_t fpt,
               std::vector<float>* e) {
  e->assign(n * L, 0.0f);
  for (size_t t = 0; t < n; ++t) {
    float* out = &(*e)[t * L];
    for (size_t k = 0; k < fpt; ++k) {
      const float* row = &w[size_t{rows[t * fpt + k]} * L];
      for (int l = 0; l < L; ++l) out[l] += row[l];
    }
  }
}

// One averaged-perceptron run with its own seed (shuffle order, word dropout),
// the lazy-average trick: keep w and u = sum of c * update; the average is
// w - u / c. Adds the final (averaged) emission weights to *avg_sum (rows * L)
// and the transition weights to trans_sum; appends the epochs' error counts.
void LearnPerceptron(std::vector<Prepared>& data, size_t fpt, size_t rows,
                     const TrainOptions& options, uint64_t seed, std::vector<float>* avg_sum,
                     double* trans_sum, TrainStats* stats) {
  // One extra row: the target of dropped word features, always zero.
  std::vector<float> w((rows + 1) * L, 0.0f);
  std::vector<double> u((rows + 1) * L, 0.0);
  std::array<float, kNumTransRows * L> tw{};
  std::array<double, kNumTransRows * L> tu{};
  std::array<float, kNumTransRows * L> dtrans{};
  double c = 1.0;
  std::vector<size_t> order(data.size());
  for (size_t i = 0; i < order.size(); ++i) order[i] = i;
  Rng rng(seed);
  std::vector<float> emit;
  std::vector<int> pred;
  std::vector<uint32_t> mixed;
  DecodeScratch scratch;
  const uint64_t drop_phi = static_cast<uint64_t>(options.word_dropout * 65536.0f);
  const uint64_t drop_other = drop_phi / 4;
  const float miss_cost = options.miss_cost;
  for (int epoch = 0; epoch < options.epochs; ++epoch) {
    Shuffle(&order, &rng);
    size_t errors = 0;
    for (size_t idx : order) {
      Prepared& p = data[idx];
      const size_t n = p.labels.size();
      if (n == 0) continue;
      const std::vector<uint32_t>* rows_used = &p.rows;
      if (drop_phi > 0) {
        mixed = p.rows;
        for (size_t t = 0; t < n; ++t) {
          const uint64_t cut = p.labels[t] != kOutside ? drop_phi : drop_other;
          if ((rng.Next() & 0xFFFF) < cut) {
            std::copy_n(&p.unk_rows[t * fpt], fpt, &mixed[t * fpt]);
          }
        }
        rows_used = &mixed;
      }
      Emissions(w, rows_used->data(), n, fpt, &emit);
      if (options.margin > 0) {
        for (size_t t = 0; t < n; ++t) {
          for (int l = 0; l < L; ++l) {
            if (l == p.labels[t]) continue;
            const bool miss = l == kOutside;
            emit[t * L + static_cast<size_t>(l)] += miss ? 2 * options.margin : options.margin;
          }
        }
      }
      FillDecodeTrans(tw.data(), dtrans.data());
      Viterbi(emit.data(), n, dtrans.data(), &scratch, &pred);
      int prev_gold = kNumLabels, prev_pred = kNumLabels;
      for (size_t t = 0; t < n; ++t) {
        const int g = p.labels[t], y = pred[t];
        if (g != y) {
          ++errors;
          // Cost-sensitive: a PHI token predicted O (a miss) moves the
          // weights miss_cost times as far as other mistakes.
          const float step = (g != kOutside && y == kOutside) ? miss_cost : 1.0f;
          for (size_t k = 0; k < fpt; ++k) {
            const size_t r = size_t{(*rows_used)[t * fpt + k]} * L;
            if (r == rows * L) continue;
            w[r + static_cast<size_t>(g)] += step;
            u[r + static_cast<size_t>(g)] += c * step;
            w[r + static_cast<size_t>(y)] -= step;
            u[r + static_cast<size_t>(y)] -= c * step;
          }
        }
        if (g != y || prev_gold != prev_pred) {
          const size_t kg = static_cast<size_t>(prev_gold) * L + static_cast<size_t>(g);
          const size_t kp = static_cast<size_t>(prev_pred) * L + static_cast<size_t>(y);
          tw[kg] += 1.0f;
          tu[kg] += c;
          tw[kp] -= 1.0f;
          tu[kp] -= c;
        }
        prev_gold = g;
        prev_pred = y;
      }
      c += 1.0;
    }
    stats->token_errors_per_epoch.push_back(errors);
  }
  for (size_t i = 0; i < rows * L; ++i) {
    (*avg_sum)[i] += options.average ? static_cast<float>(w[i] - u[i] / c) : w[i];
  }
  for (size_t i = 0; i < tw.size(); ++i) {
    trans_sum[i] += options.average ? tw[i] - tu[i] / c : tw[i];
  }
}

}  // namespace

Status ReadJsonl(std::string_view path, std::vector<Example>* out) {
  std::ifstream in{std::string(path), std::ios::binary};
  if (!in) return absl::NotFoundError(absl::StrCat("cannot open ", ToAbsl(path)));
  std::string line;
  size_t lineno = 0;
  while (std::getline(in, line)) {
    ++lineno;
    if (line.find_first_not_of(" \t\r") == std::string::npos) continue;
    auto bad = [&](std::string_view why) {
      return absl::InvalidArgumentError(absl::StrCat(ToAbsl(path), ":", lineno, ": ", ToAbsl(why)));
    };
    nlohmann::json j = nlohmann::json::parse(line, nullptr, /*allow_exceptions=*/false);
    if (j.is_discarded() || !j.is_object()) return bad("not a JSON object");
    if (!j.contains("text") || !j["text"].is_string()) return bad("no \"text\" string");
    Example ex;
    if (j.contains("id") && j["id"].is_string()) {
      ex.id = j["id"].get<std::string>();
    } else if (j.contains("id") && j["id"].is_number_integer()) {
      ex.id = std::to_string(j["id"].get<int64_t>());
    } else {
      ex.id = absl::StrCat("line", lineno);
    }
    ex.text = j["text"].get<std::string>();
    if (FindInvalidUtf8(ex.text) != std::string_view::npos) return bad("text is not valid UTF-8");
    const Utf8OffsetMap map(ex.text);
    if (j.contains("spans")) {
      if (!j["spans"].is_array()) return bad("\"spans\" is not an array");
      for (const auto& s : j["spans"]) {
        if (!s.is_object() || !s.contains("start") || !s.contains("end") ||
            !s["start"].is_number_integer() || !s["end"].is_number_integer()) {
          return bad("span without integer start/end");
        }
        if (s.contains("phi") && s["phi"].is_boolean() && !s["phi"].get<bool>()) continue;
        if (!s.contains("type") || !s["type"].is_string()) continue;
        auto type = ParseEntityType(s["type"].get<std::string>());
        if (!type) continue;
        const int64_t a = s["start"].get<int64_t>(), b = s["end"].get<int64_t>();
        if (a < 0 || b < a || static_cast<uint64_t>(b) > map.code_points()) {
          return bad("span offsets out of range");
        }
        ex.spans.push_back(
            {map.ToByte(static_cast<size_t>(a)), map.ToByte(static_cast<size_t>(b)), *type});
      }
    }
    std::sort(ex.spans.begin(), ex.spans.end(),
              [](const LabeledSpan& x, const LabeledSpan& y) { return x.begin < y.begin; });
    out->push_back(std::move(ex));
  }
  if (in.bad()) return absl::DataLossError(absl::StrCat("cannot read ", ToAbsl(path)));
  return absl::OkStatus();
}

std::string PatientOf(std::string_view id) {
  const size_t dash = id.find('-');
  return std::string(dash == std::string_view::npos ? id : id.substr(0, dash));
}

std::vector<int> AssignFolds(const std::vector<Example>& examples, int k, uint64_t seed) {
  std::vector<std::string> patients;
  for (const Example& e : examples) patients.push_back(PatientOf(e.id));
  std::sort(patients.begin(), patients.end());
  patients.erase(std::unique(patients.begin(), patients.end()), patients.end());
  Rng rng(seed ^ 0x5EEDF01D5ull);
  Shuffle(&patients, &rng);
  std::map<std::string, int> fold;
  for (size_t i = 0; i < patients.size(); ++i) {
    fold[patients[i]] = static_cast<int>(i % static_cast<size_t>(k));
  }
  std::vector<int> out;
  out.reserve(examples.size());
  for (const Example& e : examples) out.push_back(fold[PatientOf(e.id)]);
  return out;
}

std::vector<int> LabelTokens(const std::vector<Token>& tokens,
                             const std::vector<LabeledSpan>& spans) {
  std::vector<int> labels(tokens.size(), kOutside);
  size_t t = 0;
  for (const LabeledSpan& s : spans) {  // spans sorted by begin
    while (t > 0 && tokens[t - 1].end > s.begin) --t;
    while (t < tokens.size() && tokens[t].end <= s.begin) ++t;
    bool first = true;
    for (size_t u = t; u < tokens.size() && tokens[u].begin < s.end; ++u) {
      if (tokens[u].end <= s.begin) continue;
      labels[u] = first ? BeginLabel(s.type) : InsideLabel(s.type);
      first = false;
    }
  }
  return labels;
}

Result<std::string> Train(const std::vector<Example>& examples, const TrainOptions& options,
                          TrainStats* stats) {
  TrainStats local;
  if (stats == nullptr) stats = &local;
  *stats = TrainStats{};
  if (options.hash_bits < 10 || options.hash_bits > 24) {
    return absl::InvalidArgumentError("hash_bits must be in 10..24");
  }
  if (options.epochs < 1) return absl::InvalidArgumentError("epochs must be >= 1");
  if (examples.empty()) return absl::InvalidArgumentError("no training examples");

  ModelData model;
  model.hash_bits = options.hash_bits;
  model.recall_bias = options.recall_bias;
  model.metadata = options.metadata;
  model.stacked = options.stacked;
  model.extended = options.extended || options.context;
  model.context = options.context;
  model.rules_version = options.stacked ? options.rules_version : std::string();
  if (!options.gazetteer_dir.empty()) {
    PHIGATE_RETURN_IF_ERROR(model.gazetteer.LoadDirectory(
        options.gazetteer_dir, &stats->gazetteer_files, model.extended, model.context));
  }

  // Features and gold labels, computed once.
  const FeatureExtractor fx(&model.gazetteer, options.hash_bits, options.stacked, model.extended,
                            model.context);
  const size_t fpt = static_cast<size_t>(fx.features_per_token());
  std::vector<Prepared> data(examples.size());
  std::vector<Token> tokens;
  std::vector<RuleHint> hints;
  for (size_t i = 0; i < examples.size(); ++i) {
    Tokenize(examples[i].text, &tokens);
    hints.clear();
    if (options.stacked) TokenHints(tokens, examples[i].rule_findings, &hints);
    fx.Extract(examples[i].text, tokens, &data[i].rows, false, hints);
    if (options.word_dropout > 0) {
      fx.Extract(examples[i].text, tokens, &data[i].unk_rows, true, hints);
    }
    data[i].labels = LabelTokens(tokens, examples[i].spans);
    stats->tokens += tokens.size();
  }
  stats->examples = examples.size();

  // Averaged perceptron (Collins 2002), one run per ensemble member (seeds
  // seed, seed+1, ...: other shuffles and dropout); the members' averaged
  // weights are averaged again. The model is linear, so that is exactly the
  // mean of the members' scores, in one model of the same size and speed.
  const size_t rows = size_t{1} << options.hash_bits;
  const int members = std::max(1, options.ensemble);
  std::vector<float> avg(rows * L, 0.0f);
  std::array<double, kNumTransRows * L> trans_sum{};
  for (int m = 0; m < members; ++m) {
    LearnPerceptron(data, fpt, rows, options, options.seed + static_cast<uint64_t>(m), &avg,
                    trans_sum.data(), stats);
  }
  float max_abs = 0.0f;
  for (float& a : avg) {
    a /= static_cast<float>(members);
    max_abs = std::max(max_abs, std::fabs(a));
  }
  for (size_t i = 0; i < model.trans.size(); ++i) {
    model.trans[i] = static_cast<float>(trans_sum[i] / members);
  }
  model.weight_scale = max_abs > 0 ? max_abs / 32767.0f : 1.0f;
  model.weights.resize(rows * L);
  for (size_t i = 0; i < avg.size(); ++i) {
    model.weights[i] = static_cast<int16_t>(std::lround(avg[i] / model.weight_scale));
    avg[i] = static_cast<float>(model.weights[i]) * model.weight_scale;
  }

  // Score scale: the median margin of the PHI tokens of (up to 400) training
  // examples maps to a score of sigmoid(2) = 0.88.
  std::vector<float> margins_all, margins, emit;
  std::vector<int> pred;
  std::array<float, kNumTransRows * L> dtrans{};
  DecodeScratch scratch;
  FillDecodeTrans(model.trans.data(), dtrans.data());
  for (size_t i = 0; i < data.size() && i < 400; ++i) {
    const size_t n = data[i].labels.size();
    if (n == 0) continue;
    Emissions(avg, data[i].rows.data(), n, fpt, &emit);
    for (size_t t = 0; t < n; ++t) emit[t * L] -= options.recall_bias;
    Viterbi(emit.data(), n, dtrans.data(), &scratch, &pred);
    Margins(emit.data(), n, dtrans.data(), pred, &scratch, &margins);
    for (size_t t = 0; t < n; ++t) {
      if (pred[t] != kOutside && margins[t] > 0) margins_all.push_back(margins[t]);
    }
  }
  model.score_scale = 1.0f;
  if (!margins_all.empty()) {
    auto mid = margins_all.begin() + static_cast<std::ptrdiff_t>(margins_all.size() / 2);
    std::nth_element(margins_all.begin(), mid, margins_all.end());
    if (*mid > 0) model.score_scale = *mid / 2.0f;
  }
  return SerializeModel(model);
}

}  // namespace phigate::model
