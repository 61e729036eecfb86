#include "src/gateway/cache.h"

#include "src/gateway/sigv4.h"

namespace phigate::gateway {

std::string ResponseCache::Key(std::string_view tenant, std::string_view policy_version,
                               std::string_view vendor, std::string_view api,
                               std::string_view request) {
  // Length-prefixed fields: no two different tuples produce the same input.
  std::string in;
  in.reserve(request.size() + 96);
  for (std::string_view f : {tenant, policy_version, vendor, api, request}) {
    in += std::to_string(f.size());
    in.push_back(':');
    in.append(f);
  }
  return Sha256Hex(in);
}

std::optional<std::string> ResponseCache::Get(const std::string& key) {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = map_.find(key);
  if (it == map_.end()) return std::nullopt;
  if (std::chrono::steady_clock::now() >= it->second.expires) {
    lru_.erase(it->second.lru);
    map_.erase(it);
    return std::nullopt;
  }
  lru_.splice(lru_.begin(), lru_, it->second.lru);
  return it->second.value;
}

void ResponseCache::Put(const std::string& key, std::string value, std::string_view tenant) {
  if (max_ == 0) return;
  std::lock_guard<std::mutex> lock(mu_);
  auto it = map_.find(key);
  if (it != map_.end()) {
    lru_.erase(it->second.lru);
    map_.erase(it);
  }
  while (map_.size() >= max_ && !lru_.empty()) {
    map_.erase(lru_.back());
    lru_.pop_back();
  }
  lru_.push_front(key);
  map_.emplace(key, Entry{std::move(value), std::string(tenant),
                          std::chrono::steady_clock::now() + ttl_, lru_.begin()});
}

size_t ResponseCache::PurgeTenant(std::string_view tenant) {
  std::lock_guard<std::mutex> lock(mu_);
  size_t removed = 0;
  for (auto it = map_.begin(); it != map_.end();) {
    if (it->second.tenant == tenant) {
      lru_.erase(it->second.lru);
      it = map_.erase(it);
      ++removed;
    } else {
      ++it;
    }
  }
  return removed;
}

size_t ResponseCache::size() const {
  std::lock_guard<std::mutex> lock(mu_);
  return map_.size();
}

}  // namespace phigate::gateway
