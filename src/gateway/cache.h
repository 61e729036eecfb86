// ResponseCache: optional exact-match cache of de-identified answers. The key
// is a SHA-256 over (tenant, policy version, vendor, API, de-identified
// request), so entries are partitioned by tenant and policy by construction:
// no lookup of tenant B can produce a key of tenant A. Values are the
// upstream's de-identified answers; they are re-identified per request.
#ifndef PHIGATE_SRC_GATEWAY_CACHE_H_
#define PHIGATE_SRC_GATEWAY_CACHE_H_

#include <chrono>
#include <list>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>

namespace phigate::gateway {

class ResponseCache {
 public:
  ResponseCache(size_t max_entries, std::chrono::seconds ttl) : max_(max_entries), ttl_(ttl) {}

  static std::string Key(std::string_view tenant, std::string_view policy_version,
                         std::string_view vendor, std::string_view api,
                         std::string_view deidentified_request);

  std::optional<std::string> Get(const std::string& key);
  // `tenant`: the owner, for PurgeTenant (breach containment).
  void Put(const std::string& key, std::string value, std::string_view tenant = {});
  // Drops every entry of `tenant`; returns how many.
  size_t PurgeTenant(std::string_view tenant);
  size_t size() const;

 private:
  struct Entry {
    std::string value;
    std::string tenant;
    std::chrono::steady_clock::time_point expires;
    std::list<std::string>::iterator lru;
  };
  const size_t max_;
  const std::chrono::seconds ttl_;
  mutable std::mutex mu_;
  std::list<std::string> lru_;  // front = most recent
  std::unordered_map<std::string, Entry> map_;
};

}  // namespace phigate::gateway

#endif  // PHIGATE_SRC_GATEWAY_CACHE_H_
