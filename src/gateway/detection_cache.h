// DetectionCache: the findings of texts already scanned in the same tenant's
// conversation. A chat client resends every earlier message of a conversation
// with each new turn, so without it the detector reads turn N's history N
// times. The engine's findings depend on the text alone (its configuration is
// fixed for the process), so a cached entry is exactly what a new scan would
// return.
//
// Keys are HMAC-SHA256 under a key drawn at start-up over (partition, text):
// no text is stored and no key can be recomputed from outside the process;
// values are spans (category, offsets, score), never text. The partition is the
// tenant and the conversation, so one tenant's or conversation's lookups can
// never produce another's key — and a hit cannot tell a tenant that another one
// sent the same text. Bounded: least recently used entries go first.
#ifndef PHIGATE_SRC_GATEWAY_DETECTION_CACHE_H_
#define PHIGATE_SRC_GATEWAY_DETECTION_CACHE_H_

#include <atomic>
#include <list>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>

#include "phigate/core/finding.h"
#include "phigate/gateway/interfaces.h"

namespace phigate::gateway {

class DetectionCache {
 public:
  // Texts shorter than this are scanned every time (cheap, and they would
  // crowd out the long messages worth keeping).
  static constexpr size_t kMinTextBytes = 256;

  explicit DetectionCache(size_t max_entries);

  // The key of `text` scanned in `partition`: HMAC-SHA256 under the cache's
  // key; nullopt when the cache is off or the text too short to keep.
  std::optional<std::string> Key(std::string_view partition, std::string_view text) const;
  // The findings stored under `key`, if any.
  bool Get(const std::string& key, Findings* out);
  void Put(std::string key, const Findings& findings);
  size_t size() const;

 private:
  struct Entry {
    Findings findings;
    std::list<std::string>::iterator lru;
  };
  size_t max_;  // 0 = off
  std::string hmac_key_;
  mutable std::mutex mu_;
  std::list<std::string> lru_;  // front = most recent
  std::unordered_map<std::string, Entry> map_;
};

// A Detector for one request: scans through `inner` and keeps the findings of
// long texts in `cache` under `partition` (tenant + conversation).
class CachedDetector : public Detector {
 public:
  CachedDetector(const Detector& inner, DetectionCache* cache, std::string partition)
      : inner_(inner), cache_(cache), partition_(std::move(partition)) {}
  Status Scan(std::string_view text, Findings* out) const override;
  size_t hits() const { return hits_; }
  size_t misses() const { return misses_; }

 private:
  const Detector& inner_;
  DetectionCache* cache_;
  std::string partition_;
  mutable size_t hits_ = 0;
  mutable size_t misses_ = 0;
};

}  // namespace phigate::gateway

#endif  // PHIGATE_SRC_GATEWAY_DETECTION_CACHE_H_
