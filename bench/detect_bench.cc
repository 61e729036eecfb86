// Detection speed, one thread (issue 2's targets): the whole engine plus
// placeholder replacement, the pattern stage alone and the dictionary stage
// alone, on generated notes (4 KB documents and 1 MiB bodies) and on the dev
// corpus when ../shared/data is present. Reports bytes/s.
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

void Run(benchmark::State& state, const std::vector<std::string>& docs, uint32_t stages,
         bool replace) {
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
    const std::string& d = docs[i++ % docs.size()];
    if (!engine.Scan(d, *ctx, &found).ok()) state.SkipWithError("scan failed");
    if (replace) benchmark::DoNotOptimize(redactor->Apply(d, found));
    bytes += d.size();
  }
  state.SetBytesProcessed(static_cast<int64_t>(bytes));
}

constexpr uint32_t kAll = EngineOptions::kPatternStage | EngineOptions::kDictionaryStage;

void BM_DetectAndReplace_Generated4K(benchmark::State& s) {
  static auto docs = GeneratedDocs(4096, 8 << 20);
  Run(s, docs, kAll, true);
}
void BM_DetectAndReplace_Generated1M(benchmark::State& s) {
  static auto docs = GeneratedDocs(1 << 20, 8 << 20);
  Run(s, docs, kAll, true);
}
void BM_DetectAndReplace_DevCorpus(benchmark::State& s) {
  static auto docs = DevCorpus();
  Run(s, docs, kAll, true);
}
void BM_PatternStage_Generated4K(benchmark::State& s) {
  static auto docs = GeneratedDocs(4096, 8 << 20);
  Run(s, docs, EngineOptions::kPatternStage, false);
}
void BM_PatternStage_DevCorpus(benchmark::State& s) {
  static auto docs = DevCorpus();
  Run(s, docs, EngineOptions::kPatternStage, false);
}
void BM_DictionaryStage_Generated4K(benchmark::State& s) {
  static auto docs = GeneratedDocs(4096, 8 << 20);
  Run(s, docs, EngineOptions::kDictionaryStage, false);
}

BENCHMARK(BM_DetectAndReplace_Generated4K);
BENCHMARK(BM_DetectAndReplace_Generated1M);
BENCHMARK(BM_DetectAndReplace_DevCorpus);
BENCHMARK(BM_PatternStage_Generated4K);
BENCHMARK(BM_PatternStage_DevCorpus);
BENCHMARK(BM_DictionaryStage_Generated4K);

}  // namespace

BENCHMARK_MAIN();
