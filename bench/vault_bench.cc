// Vault and re-identification throughput (synthetic values only).
//
//   BM_TokenizeSqlite        new values, batches of 10/1000/10000 in one transaction, one thread
//   BM_TokenizeSqlite16kPages  the same on a database made with 16 KiB pages
//   BM_TokenizeSqliteRepeat  values already in the vault (blind-index hits)
//   BM_TokenizePostgres      as above on PostgreSQL ($PHIGATE_TEST_PG_URL; skipped without)
//   BM_TokenizePostgresRepeat  values already in the vault, PostgreSQL
//
// items_per_second is per CPU second of this process (the PostgreSQL server's
// work is not in it); wall_items_per_second is per elapsed second.
//   BM_Reidentify            model output with tokens: MB/s, one Reidentifier per answer
//
// Targets (issue #3): >= 100,000 values/s SQLite, >= 30,000/s PostgreSQL, >= 100 MB/s reid.
#include <benchmark/benchmark.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <random>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "phigate/crypto/key_provider.h"
#include "phigate/store/store.h"
#include "phigate/synth/generator.h"
#include "phigate/transform/reidentify.h"
#include "phigate/transform/tokenize.h"
#include "phigate/vault/vault.h"

namespace phigate {
namespace {

constexpr char kMaster[] = "0f1e2d3c4b5a69788796a5b4c3d2e1f00112233445566778899aabbccddeeff0";

struct Bench {
  std::unique_ptr<crypto::LocalKeyProvider> keys;
  std::unique_ptr<store::Store> store;
  std::unique_ptr<vault::Vault> vault;
};

std::unique_ptr<Bench> Open(const std::string& url, const std::string& tenant,
                            int sqlite_page_size = 0) {
  auto b = std::make_unique<Bench>();
  b->keys = std::move(crypto::LocalKeyProvider::FromText(kMaster)).value();
  auto s = store::Store::Open({.url = url, .sqlite_page_size = sqlite_page_size});
  if (!s.ok()) return nullptr;
  b->store = std::move(*s);
  auto ts = std::move(b->store->ForTenant(TenantId(tenant))).value();
  b->vault = std::move(vault::Vault::Open(std::move(ts), *b->keys, {})).value();
  return b;
}

// The benchmark's SQLite files, removed when the program ends.
struct TempDir {
  std::filesystem::path path =
      std::filesystem::temp_directory_path() / absl::StrCat("phigate_vault_bench_", getpid());
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path, ec);
  }
};

std::string TempSqliteUrl() {
  static TempDir dir;
  static int n = 0;
  std::filesystem::create_directories(dir.path);
  return absl::StrCat("sqlite://", (dir.path / absl::StrCat("b", n++, ".db")).string());
}

void TokenizeLoop(benchmark::State& state, vault::Vault& v, bool repeat) {
  const size_t batch = static_cast<size_t>(state.range(0));
  const vault::Scope scope = vault::Scope::Conversation("bench");
  uint64_t counter = 0;
  std::vector<std::string> values(batch);
  std::vector<vault::TokenRequest> reqs(batch);
  if (repeat) {  // put the values in first, outside the timing
    for (size_t i = 0; i < batch; ++i) values[i] = absl::StrCat("Synthetic Person ", counter++);
    for (size_t i = 0; i < batch; ++i) reqs[i] = {PhiCategory::kName, values[i]};
    if (!v.TokenizeBatch(reqs, scope).ok()) {
      state.SkipWithError("tokenize failed");
      return;
    }
  }
  const auto start = std::chrono::steady_clock::now();
  for (auto _ : state) {
    if (!repeat || counter == 0) {
      for (size_t i = 0; i < batch; ++i) values[i] = absl::StrCat("Synthetic Person ", counter++);
    }
    for (size_t i = 0; i < batch; ++i) reqs[i] = {PhiCategory::kName, values[i]};
    auto r = v.TokenizeBatch(reqs, scope);
    if (!r.ok()) {
      state.SkipWithError("tokenize failed");
      return;
    }
    benchmark::DoNotOptimize(r->data());
  }
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations()) * state.range(0));
  // Counter::kIsRate divides by CPU time; this one is per elapsed second.
  const double wall =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  state.counters["wall_items_per_second"] =
      wall > 0
          ? static_cast<double>(state.iterations()) * static_cast<double>(state.range(0)) / wall
          : 0;
}

void BM_TokenizeSqlite(benchmark::State& state) {
  auto b = Open(TempSqliteUrl(), "bench");
  TokenizeLoop(state, *b->vault, false);
}
BENCHMARK(BM_TokenizeSqlite)->Arg(10)->Arg(1000)->Arg(10000)->Unit(benchmark::kMillisecond);

// The same with 16 KiB SQLite pages (StoreOptions::sqlite_page_size), the
// choice for bulk tokenization jobs; the default 4 KiB suits small batches.
void BM_TokenizeSqlite16kPages(benchmark::State& state) {
  auto b = Open(TempSqliteUrl(), "bench", 16384);
  TokenizeLoop(state, *b->vault, false);
}
BENCHMARK(BM_TokenizeSqlite16kPages)->Arg(10)->Arg(1000)->Arg(10000)->Unit(benchmark::kMillisecond);

void BM_TokenizeSqliteRepeat(benchmark::State& state) {
  auto b = Open(TempSqliteUrl(), "bench");
  TokenizeLoop(state, *b->vault, true);
}
BENCHMARK(BM_TokenizeSqliteRepeat)->Arg(1000)->Unit(benchmark::kMillisecond);

void TokenizePostgres(benchmark::State& state, bool repeat) {
  const char* pg = std::getenv("PHIGATE_TEST_PG_URL");
  if (pg == nullptr || *pg == '\0') {
    state.SkipWithError("PHIGATE_TEST_PG_URL not set");
    return;
  }
  std::string url = pg;
  url += (url.find('?') == std::string::npos ? "?" : "&");
  url += absl::StrCat("phigate_schema=bench_", getpid(), "_", std::random_device()() % 100000);
  auto b = Open(url, "bench");
  if (b == nullptr) {
    state.SkipWithError("PostgreSQL unreachable");
    return;
  }
  TokenizeLoop(state, *b->vault, repeat);
}
void BM_TokenizePostgres(benchmark::State& state) { TokenizePostgres(state, false); }
// Real time: most of the work is the server's, so CPU-time iteration counts
// would grow the table far beyond what the wall-clock budget means.
BENCHMARK(BM_TokenizePostgres)->Arg(1000)->Arg(10000)->UseRealTime()->Unit(benchmark::kMillisecond);
void BM_TokenizePostgresRepeat(benchmark::State& state) { TokenizePostgres(state, true); }
BENCHMARK(BM_TokenizePostgresRepeat)->Arg(1000)->UseRealTime()->Unit(benchmark::kMillisecond);

// ~1 MiB of "model output": generated notes with their PHI tokenized.
void BM_Reidentify(benchmark::State& state) {
  auto b = Open("memory:", "bench");
  const vault::Scope scope = vault::Scope::Conversation("bench");
  synth::GeneratorOptions o;
  o.seed = 3;
  o.data_dir = std::string(PHIGATE_SOURCE_DIR) + "/data";
  auto gen = std::move(synth::Generator::Create(o)).value();
  std::string answer;
  size_t tokens = 0;
  while (answer.size() < (size_t{1} << 20)) {
    synth::Note note = gen->Generate();
    Findings f;
    for (const auto& s : note.spans)
      f.push_back(Finding{s.category, s.begin, s.end, 1.0f, "synth"});
    auto d = transform::DeidentifyReversibly(note.text, f, *b->vault, scope, {});
    if (!d.ok()) {
      state.SkipWithError("deid failed");
      return;
    }
    answer += d->text;
    answer += "\n\n";
    tokens += d->replacements.size();
  }
  for (auto _ : state) {
    auto reid = transform::Reidentifier::Create(*b->vault, scope, {.allow_reidentify = true});
    auto out = (*reid)->Reidentify(answer);
    if (!out.ok()) {
      state.SkipWithError("reid failed");
      return;
    }
    benchmark::DoNotOptimize(out->data());
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * answer.size()));
  state.counters["tokens_per_answer"] = static_cast<double>(tokens);
}
BENCHMARK(BM_Reidentify)->Unit(benchmark::kMillisecond);

// The scan alone: the Reidentifier and its token cache stay warm.
void BM_ReidentifyWarm(benchmark::State& state) {
  auto b = Open("memory:", "bench");
  const vault::Scope scope = vault::Scope::Conversation("bench");
  synth::GeneratorOptions o;
  o.seed = 4;
  o.data_dir = std::string(PHIGATE_SOURCE_DIR) + "/data";
  auto gen = std::move(synth::Generator::Create(o)).value();
  std::string answer;
  while (answer.size() < (size_t{1} << 20)) {
    synth::Note note = gen->Generate();
    Findings f;
    for (const auto& s : note.spans)
      f.push_back(Finding{s.category, s.begin, s.end, 1.0f, "synth"});
    answer += std::move(transform::TokenizeText(note.text, f, *b->vault, scope)).value();
  }
  auto reid =
      std::move(transform::Reidentifier::Create(*b->vault, scope, {.allow_reidentify = true}))
          .value();
  for (auto _ : state) {
    auto out = reid->Reidentify(answer);
    benchmark::DoNotOptimize(out->data());
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * answer.size()));
}
BENCHMARK(BM_ReidentifyWarm)->Unit(benchmark::kMillisecond);

}  // namespace
}  // namespace phigate

BENCHMARK_MAIN();
