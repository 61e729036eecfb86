// Decision engine throughput: decisions per second on a loaded policy.
// Target (issue #4): >= 1,000,000 decisions/s. Run a Release build:
//   ./bench/policy_bench --benchmark_filter=Decide
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "benchmark/benchmark.h"
#include "phigate/core/check.h"
#include "phigate/policy/policy.h"

namespace phigate::policy {
namespace {

// A policy the size of a large deployment: 20 tenants, 12 features, 8 vendors
// with 5 models and 2 BAAs each, 100 users.
std::string LargePolicyYaml() {
  std::string y = "version: 1\nkeys: {master_key_env: PHIGATE_MASTER_KEY}\ntenants:\n";
  for (int t = 0; t < 20; ++t) {
    absl::StrAppend(&y, "  - {id: tenant", t, ", jurisdictions: [US-HIPAA, CA",
                    t % 3 == 0 ? ", NY, TX" : "", "]}\n");
  }
  y += "users:\n";
  for (int u = 0; u < 100; ++u) {
    absl::StrAppend(&y, "  - {id: user", u, ", tenant: tenant", u % 20, ", roles: [",
                    u % 2 == 0 ? "clinician" : "analyst", "]}\n");
  }
  y += "vendors:\n";
  for (int v = 0; v < 8; ++v) {
    absl::StrAppend(&y, "  - name: vendor", v, "\n    kind: openai\n    api_base: https://v", v,
                    ".example/v1\n    region: us\n    endpoints: [chat/completions, responses]\n"
                    "    models: [m0, m1, m2, m3, m4]\n    baas:\n");
    absl::StrAppend(&y, "      - {id: B", v,
                    "a, signed: 2025-01-01, expires: 2026-06-30, "
                    "endpoints: [chat/completions], models: [m0, m1, m2], zero_data_retention: "
                    "true}\n");
    absl::StrAppend(&y, "      - {id: B", v,
                    "b, signed: 2026-07-01, expires: 2027-12-31, "
                    "endpoints: [chat/completions, responses], models: [m0, m1], "
                    "zero_data_retention: true}\n");
  }
  y += "features:\n";
  for (int f = 0; f < 12; ++f) {
    absl::StrAppend(&y, "  - name: feature", f,
                    "\n    purpose: treatment\n"
                    "    roles: [clinician, analyst]\n    reidentify_answers: true\n"
                    "    on_missing_baa: tokenize\n"
                    "    phi: {NAME: tokenize, DATE: surrogate, AGE: allow, MRN: tokenize}\n"
                    "    routes:\n");
    for (int v = 0; v < 8; ++v)
      absl::StrAppend(&y, "      - {vendor: vendor", v, ", models: [\"*\"]}\n");
  }
  return y;
}

std::shared_ptr<const Policy> LoadLarge() {
  LoadOptions opts;
  // Routes "*" send AGE (allow) to m3/m4, which no BAA names: lint calls that an
  // error (PG011); the engine downgrades it, which is what this measures too.
  opts.reject_lint_errors = false;
  auto p = Policy::LoadString(LargePolicyYaml(), "bench.yaml", opts);
  PHIGATE_CHECK(p.ok(), "bench policy must load");
  return *p;
}

struct Req {
  std::string tenant, user, feature, vendor, endpoint, model;
};

std::vector<Req> Requests(int miss_every) {
  std::vector<Req> out;
  for (int i = 0; i < 4096; ++i) {
    const int u = (i * 7) % 100;
    Req r{absl::StrCat("tenant", u % 20),
          absl::StrCat("user", u),
          absl::StrCat("feature", i % 12),
          absl::StrCat("vendor", (i / 12) % 8),
          i % 3 == 0 ? "responses" : "chat/completions",
          absl::StrCat("m", i % 5)};
    if (miss_every > 0 && i % miss_every == 0) r.model = "unknown-model";
    out.push_back(std::move(r));
  }
  return out;
}

void BM_Decide(benchmark::State& state) {
  const auto policy = LoadLarge();
  const std::vector<Req> reqs = Requests(static_cast<int>(state.range(0)));
  const absl::Time times[] = {absl::FromUnixSeconds(1767225600),   // 2026-01-01
                              absl::FromUnixSeconds(1796083200)};  // 2026-12-01
  size_t i = 0;
  uint64_t allowed = 0;
  for (auto _ : state) {
    const Req& r = reqs[i & 4095];
    const Decision& d = policy->Decide(
        {r.tenant, r.user, r.feature, r.vendor, r.endpoint, r.model, times[(i >> 12) & 1]});
    allowed += d.allowed ? 1 : 0;
    benchmark::DoNotOptimize(&d);
    ++i;
  }
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations()));
  state.counters["allowed_fraction"] =
      static_cast<double>(allowed) / static_cast<double>(state.iterations());
}
// Argument: one request in N names an unknown model (0 = none).
BENCHMARK(BM_Decide)->Arg(0)->Arg(10);

void BM_DecideThreads(benchmark::State& state) {
  static const auto policy = LoadLarge();
  static const std::vector<Req> reqs = Requests(0);
  const absl::Time t = absl::FromUnixSeconds(1796083200);
  size_t i = static_cast<size_t>(state.thread_index()) * 997;
  for (auto _ : state) {
    const Req& r = reqs[i & 4095];
    benchmark::DoNotOptimize(
        &policy->Decide({r.tenant, r.user, r.feature, r.vendor, r.endpoint, r.model, t}));
    ++i;
  }
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations()));
}
BENCHMARK(BM_DecideThreads)->Threads(2);

void BM_FindUserByApiKey(benchmark::State& state) {
  const auto policy = LoadLarge();
  for (auto _ : state) benchmark::DoNotOptimize(policy->FindUserByApiKey("pg_demo_clinician"));
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations()));
}
BENCHMARK(BM_FindUserByApiKey);

void BM_LoadLargePolicy(benchmark::State& state) {
  const std::string yaml = LargePolicyYaml();
  for (auto _ : state) {
    LoadOptions opts;
    opts.reject_lint_errors = false;
    auto p = Policy::LoadString(yaml, "bench.yaml", opts);
    benchmark::DoNotOptimize(p);
  }
}
BENCHMARK(BM_LoadLargePolicy)->Unit(benchmark::kMillisecond);

}  // namespace
}  // namespace phigate::policy

BENCHMARK_MAIN();
