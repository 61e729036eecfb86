// Audit trail benchmarks: durable appends per second with group commit
// (SQLite; PostgreSQL when PHIGATE_TEST_PG_URL is set), VerifyTrail over
// 1,000,000 events, and inclusion proofs on that trail.
//
//   build/<dir>/bench/audit_bench --benchmark_filter=Append
//   build/<dir>/bench/audit_bench --benchmark_filter='Verify|Proof'   # builds a 1M trail once
//
// Env: PHIGATE_BENCH_DIR (default /tmp) for the SQLite files;
// PHIGATE_BENCH_VERIFY_EVENTS (default 1000000).
#include <benchmark/benchmark.h>
#include <libpq-fe.h>
#include <sys/resource.h>
#include <unistd.h>

#include <atomic>
#include <cstdlib>
#include <deque>
#include <filesystem>
#include <random>

#include "phigate/audit/audit_log.h"
#include "phigate/crypto/signer.h"

namespace phigate::audit {
namespace {

std::shared_ptr<const crypto::Ed25519Signer> Signer() {
  static auto s = std::shared_ptr<const crypto::Ed25519Signer>(
      crypto::Ed25519Signer::FromSeed(std::string(32, '\x09')).value());
  return s;
}

AuditId Id(std::string_view s) { return AuditId::Make(s).value(); }

// A gateway-like event: ids from a template (the gateway makes them once per
// request too), a fresh request id, time and patient per event.
AuditEvent Event(int i) {
  static const AuditEvent kTemplate = [] {
    AuditEvent e;
    e.kind = EventKind::kEgress;
    e.tenant = TenantId("acme");
    e.user = Id("u17");
    e.role = Id("clinician");
    e.feature = Id("summarize");
    e.purpose = Id("treatment");
    e.vendor = Id("openai");
    e.endpoint = Id("/v1/chat/completions");
    e.model = Id("gpt-4o");
    e.baa_id = Id("baa-2026-01");
    e.policy_version = Id("p7");
    e.reasons = {Id("baa_covered")};
    e.AddCategoryCount(PhiCategory::kName, 2);
    e.AddCategoryCount(PhiCategory::kMrn, 1);
    e.AddCategoryCount(PhiCategory::kDate, 3);
    e.AddOperator(OperatorKind::kTokenize);
    e.tokens_minted = 6;
    return e;
  }();
  static const bool kNoSubjects = std::getenv("PHIGATE_BENCH_NO_SUBJECTS") != nullptr;
  AuditEvent e = kTemplate;
  e.time_us = int64_t{1795000000} * 1000000 + i;
  e.request_id = Id("req-" + std::to_string(i));
  if (!kNoSubjects) {
    // A keyed hash in real use: spread over the whole key space.
    BlindIndex b{};
    const uint64_t h = static_cast<uint64_t>(i) * 0x9e3779b97f4a7c15ull;
    for (int k = 0; k < 8; ++k) b[static_cast<size_t>(k)] = static_cast<uint8_t>(h >> (8 * k));
    e.subjects = {b};
  }
  return e;
}

std::string BenchDir() {
  const char* d = std::getenv("PHIGATE_BENCH_DIR");
  return d ? d : "/tmp";
}

std::string FreshSqlitePath(const std::string& name) {
  const std::string p =
      BenchDir() + "/phigate_audit_bench_" + std::to_string(getpid()) + "_" + name;
  for (const char* s : {"", "-wal", "-shm"}) std::filesystem::remove(p + s);
  return p;
}

// Removes what a benchmark wrote: the SQLite files or the PostgreSQL tables.
void Cleanup(const std::string& sqlite_path, const std::string& pg_prefix) {
  if (!sqlite_path.empty()) {
    for (const char* s : {"", "-wal", "-shm"}) std::filesystem::remove(sqlite_path + s);
  }
  const char* url = std::getenv("PHIGATE_TEST_PG_URL");
  if (pg_prefix.empty() || url == nullptr) return;
  PGconn* c = PQconnectdb(url);
  if (PQstatus(c) == CONNECTION_OK) {
    std::string sql = "SET client_min_messages = warning; DROP TABLE IF EXISTS ";
    const char* tables[] = {"events", "subjects", "subject_buckets", "nodes",
                            "heads",  "head_log", "checkpoints"};
    for (size_t i = 0; i < std::size(tables); ++i) sql += (i ? ", " : "") + pg_prefix + tables[i];
    PQclear(PQexec(c, sql.c_str()));
  }
  PQfinish(c);
}

std::unique_ptr<AuditLog> g_log;
std::string g_sqlite_path, g_pg_prefix;
std::atomic<int> g_counter{0};

void AppendBench(benchmark::State& state, bool pg, bool pg_async_commit = false) {
  if (state.thread_index() == 0) {
    std::string url;
    AuditStoreOptions so;
    if (pg) {
      const char* u = std::getenv("PHIGATE_TEST_PG_URL");
      if (u == nullptr) {
        state.SkipWithError("PHIGATE_TEST_PG_URL not set");
      } else {
        url = u;
        so.table_prefix = "bench" + std::to_string(getpid()) + "_";
        g_pg_prefix = so.table_prefix;
        so.pg_async_commit = pg_async_commit;
      }
    } else {
      g_sqlite_path = FreshSqlitePath("append.db");
      url = "sqlite://" + g_sqlite_path;
    }
    if (!url.empty()) {
      AuditLogOptions o;
      o.fsync_interval = std::chrono::milliseconds(20);  // power-loss window bound
      if (const char* d = std::getenv("PHIGATE_BENCH_COMMIT_DELAY_US")) {
        o.max_commit_delay = std::chrono::microseconds(std::atoi(d));
      }
      if (const char* f = std::getenv("PHIGATE_BENCH_FSYNC_INTERVAL_US")) {
        o.fsync_interval = std::chrono::microseconds(std::atoi(f));
      }
      g_log = AuditLog::Open(AuditLogStore::Open(url, so).value(), Signer(), o).value();
    }
  }
  for (auto _ : state) {
    if (!g_log) break;
    auto r = g_log->Append(Event(g_counter.fetch_add(1)));
    if (!r.ok()) {
      state.SkipWithError("append failed");
      break;
    }
  }
  state.SetItemsProcessed(state.iterations());
  if (state.thread_index() == 0 && g_log) {
    const AuditLogStats st = g_log->stats();
    state.counters["per_commit"] =
        st.commits ? static_cast<double>(st.events) / static_cast<double>(st.commits) : 0;
    g_log.reset();
    Cleanup(g_sqlite_path, g_pg_prefix);
    g_sqlite_path.clear();
    g_pg_prefix.clear();
  }
}

void BM_AppendSqlite(benchmark::State& state) { AppendBench(state, false); }
void BM_AppendPostgres(benchmark::State& state) { AppendBench(state, true); }
// synchronous_commit = off: a commit survives a crash of phigate (the server
// has it) but a server crash may lose the last <= 3 x wal_writer_delay.
void BM_AppendPostgresAsyncCommit(benchmark::State& state) { AppendBench(state, true, true); }
BENCHMARK(BM_AppendSqlite)->ThreadRange(1, 256)->UseRealTime()->MinTime(2.0);
BENCHMARK(BM_AppendPostgres)->ThreadRange(1, 256)->UseRealTime()->MinTime(2.0);
BENCHMARK(BM_AppendPostgresAsyncCommit)->ThreadRange(8, 256)->UseRealTime()->MinTime(2.0);

// Many requests in flight from one thread: the writer's own throughput
// (each future still resolves only after its group commit).
void AppendAsyncBench(benchmark::State& state, bool pg) {
  std::string url = "sqlite://" + FreshSqlitePath("async.db");
  AuditStoreOptions so;
  if (pg) {
    const char* u = std::getenv("PHIGATE_TEST_PG_URL");
    if (u == nullptr) {
      state.SkipWithError("PHIGATE_TEST_PG_URL not set");
      return;
    }
    url = u;
    so.table_prefix =
        "bencha" + std::to_string(getpid()) + "_" + std::to_string(state.range(0)) + "_";
  }
  auto log = AuditLog::Open(AuditLogStore::Open(url, so).value(), Signer()).value();
  std::deque<std::future<Result<uint64_t>>> inflight;
  int i = 0;
  for (auto _ : state) {
    inflight.push_back(log->AppendAsync(Event(i++)));
    if (inflight.size() >= static_cast<size_t>(state.range(0))) {
      if (!inflight.front().get().ok()) state.SkipWithError("append failed");
      inflight.pop_front();
    }
  }
  for (auto& f : inflight) f.get().IgnoreError();
  state.SetItemsProcessed(state.iterations());
  log.reset();
  Cleanup(pg ? "" : url.substr(9), pg ? so.table_prefix : "");
}
void BM_AppendAsyncSqlite(benchmark::State& state) { AppendAsyncBench(state, false); }
void BM_AppendAsyncPostgres(benchmark::State& state) { AppendAsyncBench(state, true); }
BENCHMARK(BM_AppendAsyncSqlite)->Arg(256)->Arg(4096)->UseRealTime()->MinTime(2.0);
BENCHMARK(BM_AppendAsyncPostgres)->Arg(256)->Arg(4096)->UseRealTime()->MinTime(2.0);

// The trail for the verify and proof benchmarks: built once.
struct BigTrail {
  std::string url;
  uint64_t size = 0;
  ~BigTrail() {  // at exit: the trail is ~470 MB
    if (url.starts_with("sqlite://")) Cleanup(url.substr(9), "");
  }
};
const BigTrail& Big() {
  static BigTrail t = [] {
    BigTrail b;
    const char* n = std::getenv("PHIGATE_BENCH_VERIFY_EVENTS");
    b.size = n ? std::strtoull(n, nullptr, 10) : 1000000;
    b.url = "sqlite://" + FreshSqlitePath("verify.db");
    auto log = AuditLog::Open(AuditLogStore::Open(b.url).value(), Signer()).value();
    std::vector<std::future<Result<uint64_t>>> inflight;
    for (uint64_t i = 0; i < b.size; ++i) {
      inflight.push_back(log->AppendAsync(Event(static_cast<int>(i))));
      if (inflight.size() == 8192) {
        for (auto& f : inflight) f.get().IgnoreError();
        inflight.clear();
      }
    }
    for (auto& f : inflight) f.get().IgnoreError();
    return b;
  }();
  return t;
}

double ProcessCpuSeconds() {
  rusage u{};
  getrusage(RUSAGE_SELF, &u);
  return static_cast<double>(u.ru_utime.tv_sec + u.ru_stime.tv_sec) +
         static_cast<double>(u.ru_utime.tv_usec + u.ru_stime.tv_usec) / 1e6;
}

void BM_Verify(benchmark::State& state) {
  const BigTrail& b = Big();
  auto store = AuditLogStore::Open(b.url).value();
  auto verifier = crypto::Ed25519Verifier::FromRawPublicKey(Signer()->RawPublicKey()).value();
  double cpu_s = 0;
  for (auto _ : state) {
    const double cpu0 = ProcessCpuSeconds();
    auto r = VerifyTrail(*store, TenantId("acme"), *verifier);
    cpu_s += ProcessCpuSeconds() - cpu0;
    if (!r.ok() || r->events_checked != b.size) state.SkipWithError("verify failed");
  }
  // CPU of every thread of the process (the benchmark's own CPU column counts
  // only the calling thread, not the reader thread).
  state.counters["process_cpu_s"] = cpu_s / static_cast<double>(state.iterations());
  state.counters["events"] = static_cast<double>(b.size);
  state.SetItemsProcessed(state.iterations() * static_cast<int64_t>(b.size));
}
BENCHMARK(BM_Verify)->Unit(benchmark::kSecond)->Iterations(1);

void BM_InclusionProof(benchmark::State& state) {
  const BigTrail& b = Big();
  auto log = AuditLog::Open(AuditLogStore::Open(b.url).value(), Signer()).value();
  std::mt19937_64 rng(7);
  for (auto _ : state) {
    const uint64_t seq = rng() % b.size;
    auto p = log->ProveInclusion(TenantId("acme"), seq);
    if (!p.ok() || !VerifyInclusion(seq, p->head.tree_size, p->leaf, p->path, p->head.root).ok()) {
      state.SkipWithError("proof failed");
    }
  }
}
BENCHMARK(BM_InclusionProof)->Unit(benchmark::kMicrosecond);

void BM_ConsistencyProof(benchmark::State& state) {
  const BigTrail& b = Big();
  auto log = AuditLog::Open(AuditLogStore::Open(b.url).value(), Signer()).value();
  std::mt19937_64 rng(9);
  for (auto _ : state) {
    const uint64_t first = 1 + rng() % (b.size - 1);
    auto p = log->ProveConsistency(TenantId("acme"), first, b.size);
    if (!p.ok()) state.SkipWithError("proof failed");
  }
}
BENCHMARK(BM_ConsistencyProof)->Unit(benchmark::kMicrosecond);

}  // namespace
}  // namespace phigate::audit

BENCHMARK_MAIN();
