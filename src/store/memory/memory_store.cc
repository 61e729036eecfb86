#include "src/store/memory/memory_store.h"

#include <map>
#include <mutex>
#include <set>

#include "absl/synchronization/mutex.h"

namespace phigate::store::internal {
namespace {

// (tenant, ns) -> key -> record.
using Table = std::map<std::pair<std::string, std::string>, std::map<std::string, Record>>;

struct Shared {
  absl::Mutex mu;
  Table table ABSL_GUARDED_BY(mu);
};

class MemoryTransaction : public Transaction {
 public:
  MemoryTransaction(Table& table, const std::string& tenant) : table_(table), tenant_(tenant) {}

  Result<std::optional<Record>> Get(std::string_view ns, std::string_view key) override {
    PHIGATE_RETURN_IF_ERROR(ValidateKey("namespace", ns));
    PHIGATE_RETURN_IF_ERROR(ValidateKey("key", key));
    auto& m = Ns(ns);
    auto it = m.find(std::string(key));
    if (it == m.end()) return std::optional<Record>();
    return std::optional<Record>(it->second);
  }
  Result<std::vector<std::optional<Record>>> GetMany(std::string_view ns,
                                                     std::span<const std::string> keys) override {
    std::vector<std::optional<Record>> out;
    out.reserve(keys.size());
    for (const auto& k : keys) {
      PHIGATE_ASSIGN_OR_RETURN(auto r, Get(ns, k));
      out.push_back(std::move(r));
    }
    return out;
  }
  Status Put(std::string_view ns, std::string_view key, std::string_view value,
             int64_t ts) override {
    PHIGATE_RETURN_IF_ERROR(ValidateKey("namespace", ns));
    PHIGATE_RETURN_IF_ERROR(ValidateKey("key", key));
    auto& m = Ns(ns);
    std::string k(key);
    auto it = m.find(k);
    Remember(ns, k, it == m.end() ? std::nullopt : std::optional<Record>(it->second));
    m[k] = Record{k, std::string(value), ts};
    return absl::OkStatus();
  }
  Status PutMany(std::string_view ns, std::span<const Record> records) override {
    for (const auto& r : records) PHIGATE_RETURN_IF_ERROR(Put(ns, r.key, r.value, r.ts));
    return absl::OkStatus();
  }
  Result<bool> PutIfAbsent(std::string_view ns, std::string_view key, std::string_view value,
                           int64_t ts) override {
    PHIGATE_RETURN_IF_ERROR(ValidateKey("namespace", ns));
    PHIGATE_RETURN_IF_ERROR(ValidateKey("key", key));
    if (Ns(ns).count(std::string(key)) > 0) return false;
    PHIGATE_RETURN_IF_ERROR(Put(ns, key, value, ts));
    return true;
  }
  Result<std::vector<bool>> PutIfAbsentMany(std::string_view ns,
                                            std::span<const Record> records) override {
    std::vector<bool> out;
    out.reserve(records.size());
    for (const auto& r : records) {
      PHIGATE_ASSIGN_OR_RETURN(bool ins, PutIfAbsent(ns, r.key, r.value, r.ts));
      out.push_back(ins);
    }
    return out;
  }
  Result<bool> ReplaceIfEqual(std::string_view ns, std::string_view key, std::string_view expected,
                              std::string_view value) override {
    PHIGATE_RETURN_IF_ERROR(ValidateKey("namespace", ns));
    PHIGATE_RETURN_IF_ERROR(ValidateKey("key", key));
    auto& m = Ns(ns);
    auto it = m.find(std::string(key));
    if (it == m.end() || it->second.value != expected) return false;
    Remember(ns, it->first, it->second);
    it->second.value = std::string(value);
    return true;
  }
  Result<bool> Delete(std::string_view ns, std::string_view key) override {
    PHIGATE_RETURN_IF_ERROR(ValidateKey("namespace", ns));
    PHIGATE_RETURN_IF_ERROR(ValidateKey("key", key));
    auto& m = Ns(ns);
    auto it = m.find(std::string(key));
    if (it == m.end()) return false;
    Remember(ns, it->first, it->second);
    m.erase(it);
    return true;
  }
  Result<std::vector<Record>> Scan(std::string_view ns, std::string_view prefix,
                                   const ScanOptions& options) override {
    PHIGATE_RETURN_IF_ERROR(ValidateKey("namespace", ns));
    auto& m = Ns(ns);
    std::vector<Record> out;
    auto it = m.lower_bound(std::string(prefix));
    if (!options.start_after.empty()) {
      // The later of the two starts (past the last key: none).
      auto after = m.upper_bound(options.start_after);
      if (after == m.end() || (it != m.end() && after->first > it->first)) it = after;
    }
    for (; it != m.end() && out.size() < options.limit; ++it) {
      if (it->first.compare(0, prefix.size(), prefix) != 0) break;
      out.push_back(it->second);
    }
    return out;
  }
  Result<int64_t> DeletePrefix(std::string_view ns, std::string_view prefix) override {
    PHIGATE_RETURN_IF_ERROR(ValidateKey("namespace", ns));
    auto& m = Ns(ns);
    int64_t n = 0;
    for (auto it = m.lower_bound(std::string(prefix));
         it != m.end() && it->first.compare(0, prefix.size(), prefix) == 0;) {
      Remember(ns, it->first, it->second);
      it = m.erase(it);
      ++n;
    }
    return n;
  }
  Result<int64_t> DeleteOlderThan(std::string_view ns, int64_t cutoff) override {
    PHIGATE_RETURN_IF_ERROR(ValidateKey("namespace", ns));
    auto& m = Ns(ns);
    int64_t n = 0;
    for (auto it = m.begin(); it != m.end();) {
      if (it->second.ts < cutoff) {
        Remember(ns, it->first, it->second);
        it = m.erase(it);
        ++n;
      } else {
        ++it;
      }
    }
    return n;
  }

  void Rollback() {
    for (auto it = undo_.rbegin(); it != undo_.rend(); ++it) {
      auto& m = table_[{tenant_, it->ns}];
      if (it->before) {
        m[it->key] = *it->before;
      } else {
        m.erase(it->key);
      }
    }
    undo_.clear();
  }

 private:
  struct Undo {
    std::string ns, key;
    std::optional<Record> before;
  };
  std::map<std::string, Record>& Ns(std::string_view ns) {
    return table_[{tenant_, std::string(ns)}];
  }
  void Remember(std::string_view ns, const std::string& key, std::optional<Record> before) {
    undo_.push_back(Undo{std::string(ns), key, std::move(before)});
  }
  Table& table_;
  const std::string& tenant_;
  std::vector<Undo> undo_;
};

class MemoryTenantStore : public TenantStore {
 public:
  MemoryTenantStore(std::shared_ptr<Shared> shared, TenantId tenant)
      : shared_(std::move(shared)), tenant_(std::move(tenant)) {}
  const TenantId& tenant() const override { return tenant_; }
  Status RunInTransaction(absl::FunctionRef<Status(Transaction&)> fn) override {
    absl::MutexLock lock(&shared_->mu);
    MemoryTransaction tx(shared_->table, tenant_.value());
    Status s = fn(tx);
    if (!s.ok()) tx.Rollback();
    return s;
  }

 private:
  std::shared_ptr<Shared> shared_;
  TenantId tenant_;
};

class MemoryStore : public Store {
 public:
  Result<std::unique_ptr<TenantStore>> ForTenant(const TenantId& tenant) override {
    if (tenant.empty()) return absl::InvalidArgumentError("empty tenant id");
    return std::unique_ptr<TenantStore>(new MemoryTenantStore(shared_, tenant));
  }
  Result<std::vector<TenantId>> ListTenants() override {
    absl::MutexLock lock(&shared_->mu);
    std::set<std::string> seen;
    for (const auto& [k, m] : shared_->table) {
      if (!m.empty()) seen.insert(k.first);
    }
    std::vector<TenantId> out;
    for (const auto& t : seen) out.emplace_back(t);
    return out;
  }
  Result<int> SchemaVersion() override { return 0; }
  std::string_view backend() const override { return "memory"; }

 private:
  std::shared_ptr<Shared> shared_ = std::make_shared<Shared>();
};

}  // namespace

std::unique_ptr<Store> NewMemoryStore() { return std::make_unique<MemoryStore>(); }

}  // namespace phigate::store::internal
