// What each pattern row costs Hyperscan (issue 2; docs/detect.md, "Speed
// (session 7)"): hs_scan alone, no RE2, of the engine's shared database
// (PatternDatabaseSpecs()'s first), of that database without one row, and of
// one row in a database by itself, on generated 4 KiB notes and on the dev corpus.
// Hyperscan's cost is not additive over rows, so `Without` is the figure that
// says what a row costs the shared scan. Run the variants alternating on a
// shared machine, e.g.
//   pattern_rows_bench --benchmark_filter='(Shared|Without)/.*generated'
//     --benchmark_repetitions=5 --benchmark_enable_random_interleaving=true
// Counters: reports_per_kb (Hyperscan callbacks per KB of text) and
// db_bytes (hs_database_size).
#include <benchmark/benchmark.h>
#include <hs/hs.h>

#include <cstdlib>
#include <fstream>
#include <map>
#include <string>
#include <vector>

#include "bench/detect_corpora.h"
#include "src/detect/pattern_db.h"
#include "src/detect/patterns.h"

namespace {

using phigate::detect::DefaultPatterns;
using phigate::detect::PatternDatabaseSpec;
using phigate::detect::PatternDatabaseSpecs;

// The engine's shared database: the rows of PatternDatabaseSpecs()'s first.
const PatternDatabaseSpec& Shared() {
  static const auto* shared = new PatternDatabaseSpec(PatternDatabaseSpecs(DefaultPatterns())[0]);
  return *shared;
}

const std::vector<std::string>& Corpus(bool dev) {
  static const auto* generated =
      new std::vector<std::string>(phigate::bench::GeneratedDocs(4096, size_t{4} << 20));
  static const auto* dev_docs = new std::vector<std::string>(phigate::bench::DevCorpus());
  return dev ? *dev_docs : *generated;
}

// The rows of the shared database without row `skip`, or only row `only`
// (indices into DefaultPatterns(); -1: none). Compiled once per selection.
hs_database_t* Database(int skip, int only) {
  static auto* cache = new std::map<std::pair<int, int>, hs_database_t*>();
  auto [it, inserted] = cache->try_emplace({skip, only}, nullptr);
  if (!inserted) return it->second;
  const PatternDatabaseSpec& shared = Shared();
  std::vector<const char*> ptrs;
  std::vector<unsigned int> flags, ids;
  for (size_t k = 0; k < shared.ids.size(); ++k) {
    const int row = static_cast<int>(shared.ids[k]);
    if (row == skip || (only >= 0 && row != only)) continue;
    ptrs.push_back(shared.exprs[k].c_str());
    flags.push_back(shared.flags[k]);
    ids.push_back(shared.ids[k]);
  }
  hs_compile_error_t* err = nullptr;
  if (hs_compile_multi(ptrs.data(), flags.data(), ids.data(),
                       static_cast<unsigned int>(ptrs.size()), HS_MODE_BLOCK, nullptr, &it->second,
                       &err) != HS_SUCCESS) {
    hs_free_compile_error(err);
    it->second = nullptr;
  }
  return it->second;
}

int CountReport(unsigned int, unsigned long long, unsigned long long, unsigned int, void* n) {
  ++*static_cast<size_t*>(n);
  return 0;
}

void Scan(benchmark::State& state, int skip, int only, bool dev) {
  const std::vector<std::string>& docs = Corpus(dev);
  hs_database_t* db = Database(skip, only);
  hs_scratch_t* scratch = nullptr;
  if (docs.empty() || db == nullptr || hs_alloc_scratch(db, &scratch) != HS_SUCCESS) {
    state.SkipWithError("no documents or no database");
    return;
  }
  size_t reports = 0, corpus_bytes = 0;
  for (const std::string& d : docs) {
    hs_scan(db, d.data(), static_cast<unsigned int>(d.size()), 0, scratch, &CountReport, &reports);
    corpus_bytes += d.size();
  }
  size_t bytes = 0, i = 0, ignored = 0;
  for (auto _ : state) {
    const std::string& d = docs[i++ % docs.size()];
    hs_scan(db, d.data(), static_cast<unsigned int>(d.size()), 0, scratch, &CountReport, &ignored);
    bytes += d.size();
  }
  state.SetBytesProcessed(static_cast<int64_t>(bytes));
  size_t db_bytes = 0;
  hs_database_size(db, &db_bytes);
  state.counters["reports_per_kb"] =
      static_cast<double>(reports) * 1024.0 / static_cast<double>(corpus_bytes);
  state.counters["db_bytes"] = static_cast<double>(db_bytes);
  hs_free_scratch(scratch);
}

}  // namespace

int main(int argc, char** argv) {
  const auto specs = DefaultPatterns();
  for (const bool dev : {false, true}) {
    const std::string corpus = dev ? "/dev" : "/generated";
    benchmark::RegisterBenchmark(("Shared" + corpus).c_str(),
                                 [dev](benchmark::State& s) { Scan(s, -1, -1, dev); });
    for (const unsigned int id : Shared().ids) {
      const int row = static_cast<int>(id);
      const std::string name(specs[id].name);
      benchmark::RegisterBenchmark(("Without/" + name + corpus).c_str(),
                                   [row, dev](benchmark::State& s) { Scan(s, row, -1, dev); });
      benchmark::RegisterBenchmark(("Alone/" + name + corpus).c_str(),
                                   [row, dev](benchmark::State& s) { Scan(s, -1, row, dev); });
    }
  }
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
