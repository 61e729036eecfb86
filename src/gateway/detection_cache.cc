#include "src/gateway/detection_cache.h"

#include <openssl/rand.h>

#include <string>

#include "src/gateway/sigv4.h"

namespace phigate::gateway {

DetectionCache::DetectionCache(size_t max_entries) : max_(max_entries), hmac_key_(32, '\0') {
  // Without a random key the cache stays off (max_ = 0 behaves as disabled):
  // a predictable key would let anyone holding a key test guesses offline.
  if (RAND_bytes(reinterpret_cast<unsigned char*>(hmac_key_.data()),
                 static_cast<int>(hmac_key_.size())) != 1) {
    max_ = 0;
  }
}

std::optional<std::string> DetectionCache::Key(std::string_view partition,
                                               std::string_view text) const {
  if (max_ == 0 || text.size() < kMinTextBytes) return std::nullopt;
  // Length-prefixed: no two (partition, text) pairs give the same input.
  std::string in = std::to_string(partition.size());
  in.push_back(':');
  in.append(partition);
  in.append(text);
  return HmacSha256(hmac_key_, in);
}

bool DetectionCache::Get(const std::string& key, Findings* out) {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = map_.find(key);
  if (it == map_.end()) return false;
  lru_.splice(lru_.begin(), lru_, it->second.lru);
  *out = it->second.findings;
  return true;
}

void DetectionCache::Put(std::string key, const Findings& findings) {
  std::lock_guard<std::mutex> lock(mu_);
  if (auto it = map_.find(key); it != map_.end()) {
    lru_.splice(lru_.begin(), lru_, it->second.lru);
    return;
  }
  while (map_.size() >= max_ && !lru_.empty()) {
    map_.erase(lru_.back());
    lru_.pop_back();
  }
  lru_.push_front(key);
  map_.emplace(std::move(key), Entry{findings, lru_.begin()});
}

size_t DetectionCache::size() const {
  std::lock_guard<std::mutex> lock(mu_);
  return map_.size();
}

Status CachedDetector::Scan(std::string_view text, Findings* out) const {
  // One key per text: a miss looks up and stores under the same HMAC.
  std::optional<std::string> key;
  if (cache_ != nullptr) key = cache_->Key(partition_, text);
  if (key && cache_->Get(*key, out)) {
    ++hits_;
    return absl::OkStatus();
  }
  // A failed scan caches nothing: the request is refused as without the cache.
  PHIGATE_RETURN_IF_ERROR(inner_.Scan(text, out));
  if (key) {
    ++misses_;
    cache_->Put(std::move(*key), *out);
  }
  return absl::OkStatus();
}

}  // namespace phigate::gateway
