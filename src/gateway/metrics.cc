#include "src/gateway/metrics.h"

#include "absl/strings/str_cat.h"
#include "phigate/core/status.h"
#include "phigate/store/sqlite_process.h"

namespace phigate::gateway {
namespace {
std::string Key(std::string_view name, std::string_view labels) {
  if (labels.empty()) return std::string(name);
  return absl::StrCat(ToAbsl(name), "{", ToAbsl(labels), "}");
}
}  // namespace

void Metrics::Inc(std::string_view name, std::string_view labels, uint64_t n) {
  std::string key = Key(name, labels);
  std::lock_guard<std::mutex> lock(mu_);
  counters_[std::move(key)] += n;
}

void Metrics::ObserveLatencyUs(uint64_t us) {
  latency_sum_us_.fetch_add(us, std::memory_order_relaxed);
  latency_count_.fetch_add(1, std::memory_order_relaxed);
}

uint64_t Metrics::Get(std::string_view name, std::string_view labels) const {
  const std::string key = Key(name, labels);
  std::lock_guard<std::mutex> lock(mu_);
  auto it = counters_.find(key);
  return it == counters_.end() ? 0 : it->second;
}

std::string Metrics::Render() const {
  std::string out;
  std::string last_name;
  {
    std::lock_guard<std::mutex> lock(mu_);
    for (const auto& [key, value] : counters_) {
      const std::string name = key.substr(0, key.find('{'));
      if (name != last_name) {
        absl::StrAppend(&out, "# TYPE ", name, " counter\n");
        last_name = name;
      }
      absl::StrAppend(&out, key, " ", value, "\n");
    }
  }
  absl::StrAppend(&out, "# TYPE phigate_active_streams gauge\nphigate_active_streams ",
                  active_streams.load(), "\n");
  absl::StrAppend(&out, "# TYPE phigate_active_requests gauge\nphigate_active_requests ",
                  active_requests.load(), "\n");
  absl::StrAppend(&out, "# TYPE phigate_open_connections gauge\nphigate_open_connections ",
                  open_connections.load(), "\n");
  // SQLite's page-cache truncations at commit: skipped ones cost nothing, passed
  // ones may walk the cache (src/store/sqlite/page_cache.cc). Process-wide.
  const store::SqlitePageCacheStats pc = store::SqlitePageCacheCounters();
  absl::StrAppend(&out, "# TYPE phigate_sqlite_page_cache_truncations_total counter\n",
                  "phigate_sqlite_page_cache_truncations_total{result=\"passed\"} ",
                  pc.truncations_passed, "\n",
                  "phigate_sqlite_page_cache_truncations_total{result=\"skipped\"} ",
                  pc.truncations_skipped, "\n");
  absl::StrAppend(&out, "# TYPE phigate_request_duration_microseconds summary\n",
                  "phigate_request_duration_microseconds_sum ", latency_sum_us_.load(), "\n",
                  "phigate_request_duration_microseconds_count ", latency_count_.load(), "\n");
  return out;
}

}  // namespace phigate::gateway
