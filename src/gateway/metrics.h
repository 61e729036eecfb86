// Prometheus counters of the gateway (text exposition format). Labels are
// routes, status codes, stages, categories and actions: never PHI.
#ifndef PHIGATE_SRC_GATEWAY_METRICS_H_
#define PHIGATE_SRC_GATEWAY_METRICS_H_

#include <atomic>
#include <cstdint>
#include <map>
#include <mutex>
#include <string>
#include <string_view>

namespace phigate::gateway {

class Metrics {
 public:
  // Adds `n` to counter `name` with the given label set, e.g.
  // Inc("phigate_requests_total", "route=\"openai.chat\",status=\"200\"").
  // `labels` must be PHI-free and already escaped.
  void Inc(std::string_view name, std::string_view labels = {}, uint64_t n = 1);
  // Gauges.
  std::atomic<int64_t> active_streams{0};
  std::atomic<int64_t> active_requests{0};
  std::atomic<int64_t> open_connections{0};
  // Latency sum/count (microseconds) of completed non-streamed requests, for a mean.
  void ObserveLatencyUs(uint64_t us);
  uint64_t Get(std::string_view name, std::string_view labels = {}) const;
  std::string Render() const;

 private:
  mutable std::mutex mu_;
  std::map<std::string, uint64_t, std::less<>> counters_;  // "name{labels}" -> value
  std::atomic<uint64_t> latency_sum_us_{0};
  std::atomic<uint64_t> latency_count_{0};
};

}  // namespace phigate::gateway

#endif  // PHIGATE_SRC_GATEWAY_METRICS_H_
