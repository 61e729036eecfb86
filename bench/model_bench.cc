// Speed of the sequence tagger (docs/model.md): MB/s per thread on generated
// notes of 4 KiB and 64 KiB, load time of the shipped model, and the p50/p99
// time to tag one 4 KiB prompt; the same with the rule findings as input (the
// stacked combination's tagger work: features from the rules, veto scores).
//
//   build/<dir>/bench/model_bench --benchmark_min_time=1
// Model: $PHIGATE_MODEL, else models/phigate_tagger.bin of the source tree.
#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <string>
#include <vector>

#include "benchmark/benchmark.h"
#include "phigate/detect/engine.h"
#include "phigate/model/tagger.h"
#include "phigate/synth/generator.h"

namespace {

std::string ModelPath() {
  if (const char* p = std::getenv("PHIGATE_MODEL"); p != nullptr && *p != '\0') return p;
  return std::string(PHIGATE_SOURCE_DIR) + "/models/phigate_tagger.bin";
}

const phigate::model::Tagger* SharedTagger() {
  static const phigate::model::Tagger* t = [] {
    auto r = phigate::model::Tagger::Load(ModelPath());
    return r.ok() ? r->release() : nullptr;
  }();
  return t;
}

// Generated notes (synthetic PHI only) concatenated up to `bytes`.
std::string Corpus(size_t bytes, uint64_t seed) {
  phigate::synth::GeneratorOptions o;
  o.seed = seed;
  o.data_dir = std::string(PHIGATE_SOURCE_DIR) + "/data";
  auto gen = phigate::synth::Generator::Create(o);
  std::string out;
  while (gen.ok() && out.size() < bytes) {
    out += (*gen)->Generate().text;
    out += "\n\n";
  }
  out.resize(std::min(out.size(), bytes));
  return out;
}

void BM_Tag(benchmark::State& state) {
  const auto* t = SharedTagger();
  if (t == nullptr) {
    state.SkipWithError("model file not found (set PHIGATE_MODEL)");
    return;
  }
  const std::string text = Corpus(static_cast<size_t>(state.range(0)), 42);
  std::vector<phigate::Finding> found;
  for (auto _ : state) {
    if (!t->Tag(text, &found).ok()) state.SkipWithError("tag failed");
    benchmark::DoNotOptimize(found.data());
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * text.size()));
}
BENCHMARK(BM_Tag)->Arg(4 << 10)->Arg(64 << 10)->Arg(1 << 20);

void BM_Load(benchmark::State& state) {
  for (auto _ : state) {
    auto r = phigate::model::Tagger::Load(ModelPath());
    if (!r.ok()) {
      state.SkipWithError("model file not found (set PHIGATE_MODEL)");
      return;
    }
    benchmark::DoNotOptimize(r->get());
  }
}
BENCHMARK(BM_Load)->Unit(benchmark::kMillisecond);

// Latency added per 4 KiB prompt: 200 different prompts, each timed alone;
// p50 and p99 reported as counters (microseconds).
void BM_Prompt4KLatency(benchmark::State& state) {
  const auto* t = SharedTagger();
  if (t == nullptr) {
    state.SkipWithError("model file not found (set PHIGATE_MODEL)");
    return;
  }
  std::vector<std::string> prompts;
  const std::string big = Corpus(200 * 4096, 7);
  for (size_t i = 0; i + 4096 <= big.size(); i += 4096) prompts.push_back(big.substr(i, 4096));
  std::vector<double> us;
  std::vector<phigate::Finding> found;
  size_t k = 0;
  for (auto _ : state) {
    const std::string& p = prompts[k++ % prompts.size()];
    const auto a = std::chrono::steady_clock::now();
    if (!t->Tag(p, &found).ok()) state.SkipWithError("tag failed");
    const auto b = std::chrono::steady_clock::now();
    us.push_back(std::chrono::duration<double, std::micro>(b - a).count());
  }
  std::sort(us.begin(), us.end());
  if (!us.empty()) {
    state.counters["p50_us"] = us[us.size() / 2];
    state.counters["p99_us"] = us[std::min(us.size() - 1, us.size() * 99 / 100)];
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * 4096));
}
BENCHMARK(BM_Prompt4KLatency)->Iterations(2000);

// The tagger's work in engine mode `both` with a stacked model: tagging with
// the rule findings as features plus the veto scores of those findings
// (the rule engine's own time is not counted; detect_bench measures it).
const phigate::detect::Engine* RuleEngine() {
  static const phigate::detect::Engine* e = [] {
    phigate::detect::EngineOptions o;
    o.data_dir = std::string(PHIGATE_SOURCE_DIR) + "/data";
    o.min_score = 0.0f;
    auto r = phigate::detect::Engine::Create(o);
    return r.ok() ? r->release() : nullptr;
  }();
  return e;
}

void BM_TagWithRules(benchmark::State& state) {
  const auto* t = SharedTagger();
  const auto* e = RuleEngine();
  if (t == nullptr || e == nullptr) {
    state.SkipWithError("model file or rule engine not available");
    return;
  }
  const std::string text = Corpus(static_cast<size_t>(state.range(0)), 42);
  auto rules = e->Scan(text);
  if (!rules.ok()) {
    state.SkipWithError("rule engine failed");
    return;
  }
  std::vector<phigate::Finding> found;
  std::vector<float> outside;
  for (auto _ : state) {
    if (!t->Tag(text, {}, *rules, &found, &outside).ok()) state.SkipWithError("tag failed");
    benchmark::DoNotOptimize(found.data());
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * text.size()));
}
BENCHMARK(BM_TagWithRules)->Arg(4 << 10)->Arg(64 << 10);

void BM_Prompt4KLatencyWithRules(benchmark::State& state) {
  const auto* t = SharedTagger();
  const auto* e = RuleEngine();
  if (t == nullptr || e == nullptr) {
    state.SkipWithError("model file or rule engine not available");
    return;
  }
  std::vector<std::string> prompts;
  std::vector<phigate::Findings> rules;
  const std::string big = Corpus(200 * 4096, 7);
  for (size_t i = 0; i + 4096 <= big.size(); i += 4096) {
    prompts.push_back(big.substr(i, 4096));
    auto r = e->Scan(prompts.back());
    rules.push_back(r.ok() ? *r : phigate::Findings{});
  }
  std::vector<double> us;
  std::vector<phigate::Finding> found;
  std::vector<float> outside;
  size_t k = 0;
  for (auto _ : state) {
    const size_t i = k++ % prompts.size();
    const auto a = std::chrono::steady_clock::now();
    if (!t->Tag(prompts[i], {}, rules[i], &found, &outside).ok()) {
      state.SkipWithError("tag failed");
    }
    const auto b = std::chrono::steady_clock::now();
    us.push_back(std::chrono::duration<double, std::micro>(b - a).count());
  }
  std::sort(us.begin(), us.end());
  if (!us.empty()) {
    state.counters["p50_us"] = us[us.size() / 2];
    state.counters["p99_us"] = us[std::min(us.size() - 1, us.size() * 99 / 100)];
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * 4096));
}
BENCHMARK(BM_Prompt4KLatencyWithRules)->Iterations(2000);

}  // namespace

BENCHMARK_MAIN();
