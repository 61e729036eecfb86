// Detection speed, one thread (issue 2's targets): the whole engine plus
// placeholder replacement, the pattern stage alone and the dictionary stage
// alone, on generated notes (4 KB documents and 1 MiB bodies) and on the dev
// corpus when ../shared/data is present. Reports bytes/s. The *Cold rows
// write over 64 MiB of other memory before each document (untimed), so the
// engine's tables start outside the caches, as they do in a gateway that
// serves one request now and then (docs/detect-history.md, session 25).
#include <benchmark/benchmark.h>

#include <cstdlib>
#include <fstream>
#include <memory>
#include <string>
#include <vector>

#include "bench/detect_corpora.h"
#include "phigate/detect/engine.h"
#include "phigate/transform/redactor.h"

namespace {

using phigate::detect::Engine;
using phigate::detect::EngineOptions;

using phigate::bench::DevCorpus;
using phigate::bench::GeneratedDocs;

const Engine& GetEngine(uint32_t stages) {
  static std::unique_ptr<Engine> engines[4];
  if (!engines[stages]) {
    EngineOptions o;
    o.stages = stages;
    engines[stages] = std::move(Engine::Create(o).value());
  }
  return *engines[stages];
}

// Writes one byte per cache line of a 64 MiB buffer: more than the caches hold.
void EvictCaches() {
  static std::vector<char> other(64 << 20);
  for (size_t k = 0; k < other.size(); k += 64) other[k] = static_cast<char>(other[k] + 1);
  benchmark::ClobberMemory();
}

// The generated 4 KiB documents, made once for every row that reads them.
const std::vector<std::string>& Generated4K() {
  static const auto docs = GeneratedDocs(4096, 8 << 20);
  return docs;
}

void Run(benchmark::State& state, const std::vector<std::string>& docs, uint32_t stages,
         bool replace, bool cold = false) {
  if (docs.empty()) {
    state.SkipWithError("no input documents");
    return;
  }
  const Engine& engine = GetEngine(stages);
  auto redactor = phigate::transform::Redactor::Create({}).value();
  auto ctx = engine.NewContext();
  phigate::Findings found;
  size_t bytes = 0, i = 0;
  for (auto _ : state) {
    if (cold) {
      state.PauseTiming();
      EvictCaches();
      state.ResumeTiming();
    }
    const std::string& d = docs[i++ % docs.size()];
    if (!engine.Scan(d, *ctx, &found).ok()) state.SkipWithError("scan failed");
    if (replace) benchmark::DoNotOptimize(redactor->Apply(d, found));
    bytes += d.size();
  }
  state.SetBytesProcessed(static_cast<int64_t>(bytes));
}

constexpr uint32_t kAll = EngineOptions::kPatternStage | EngineOptions::kDictionaryStage;

void BM_DetectAndReplace_Generated4K(benchmark::State& s) { Run(s, Generated4K(), kAll, true); }
void BM_DetectAndReplace_Generated1M(benchmark::State& s) {
  static auto docs = GeneratedDocs(1 << 20, 8 << 20);
  Run(s, docs, kAll, true);
}
void BM_DetectAndReplace_DevCorpus(benchmark::State& s) {
  static auto docs = DevCorpus();
  Run(s, docs, kAll, true);
}
void BM_PatternStage_Generated4K(benchmark::State& s) {
  Run(s, Generated4K(), EngineOptions::kPatternStage, false);
}
void BM_PatternStage_DevCorpus(benchmark::State& s) {
  static auto docs = DevCorpus();
  Run(s, docs, EngineOptions::kPatternStage, false);
}
void BM_DictionaryStage_Generated4K(benchmark::State& s) {
  Run(s, Generated4K(), EngineOptions::kDictionaryStage, false);
}

BENCHMARK(BM_DetectAndReplace_Generated4K);
BENCHMARK(BM_DetectAndReplace_Generated1M);
BENCHMARK(BM_DetectAndReplace_DevCorpus);
BENCHMARK(BM_PatternStage_Generated4K);
BENCHMARK(BM_PatternStage_DevCorpus);
BENCHMARK(BM_DictionaryStage_Generated4K);

void BM_DetectAndReplace_Generated4KCold(benchmark::State& s) {
  Run(s, Generated4K(), kAll, true, true);
}
void BM_PatternStage_Generated4KCold(benchmark::State& s) {
  Run(s, Generated4K(), EngineOptions::kPatternStage, false, true);
}
void BM_DictionaryStage_Generated4KCold(benchmark::State& s) {
  Run(s, Generated4K(), EngineOptions::kDictionaryStage, false, true);
}
// A fixed count: each iteration also spends a few milliseconds (untimed) evicting.
BENCHMARK(BM_DetectAndReplace_Generated4KCold)->Iterations(400);
BENCHMARK(BM_PatternStage_Generated4KCold)->Iterations(400);
BENCHMARK(BM_DictionaryStage_Generated4KCold)->Iterations(400);

}  // namespace

BENCHMARK_MAIN();
