// URL dispatch, the signed-bytes layout of a tree head, and the memory store.
#include "phigate/audit/log_store.h"

#include <algorithm>
#include <map>
#include <mutex>

#include "absl/strings/str_cat.h"

namespace phigate::audit {

namespace {

std::string HeadBytes(const SignedTreeHead& h, std::string_view domain) {
  std::string out(domain);
  out.push_back(static_cast<char>(h.tenant.value().size()));
  out.append(h.tenant.value());
  for (int i = 0; i < 8; ++i) out.push_back(static_cast<char>((h.tree_size >> (8 * i)) & 0xff));
  out.append(HashBytes(h.root));
  out.append(HashBytes(h.last_leaf));
  const auto ts = static_cast<uint64_t>(h.timestamp_us);
  for (int i = 0; i < 8; ++i) out.push_back(static_cast<char>((ts >> (8 * i)) & 0xff));
  return out;
}

}  // namespace

std::string SignedTreeHead::SignedBytes() const { return HeadBytes(*this, "phigate-audit-sth-v1"); }

std::string SignedTreeHead::CutSignedBytes() const {
  return HeadBytes(*this, "phigate-audit-cut-v1");
}

Result<std::unique_ptr<AuditLogStore>> AuditLogStore::Open(std::string_view url,
                                                           const AuditStoreOptions& options) {
  for (char c : options.table_prefix) {
    if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_')) {
      return absl::InvalidArgumentError("audit store: table prefix must be [a-z0-9_]*");
    }
  }
  if (url == "memory:" || url == "memory://") return NewMemoryAuditLogStore();
  if (url.starts_with("postgres://") || url.starts_with("postgresql://")) {
    return OpenPostgresAuditLogStore(std::string(url), options);
  }
  std::string_view path = url;
  if (path.starts_with("sqlite://")) path.remove_prefix(9);
  if (path.empty()) return absl::InvalidArgumentError("audit store: empty path");
  return OpenSqliteAuditLogStore(std::string(path), options);
}

namespace {

class MemoryStore final : public AuditLogStore {
 public:
  Status Commit(const WriteBatch& batch) override {
    std::lock_guard<std::mutex> lock(mu_);
    // Validate first so the batch applies whole or not at all.
    for (const StoredRow& r : batch.rows) {
      if (tenants_[r.tenant.value()].rows.count(r.seq)) {
        return absl::AlreadyExistsError(absl::StrCat("audit store: seq ", r.seq, " exists"));
      }
    }
    for (const StoredRow& r : batch.rows) {
      Tenant& t = tenants_[r.tenant.value()];
      t.rows[r.seq] = r;
    }
    for (const TenantNode& n : batch.nodes) {
      tenants_[n.tenant.value()].nodes[n.node.id] = n.node.hash;
    }
    for (const SignedTreeHead& h : batch.heads) tenants_[h.tenant.value()].head = h;
    for (const SignedTreeHead& h : batch.head_log) {
      tenants_[h.tenant.value()].head_log[h.tree_size] = h;
    }
    return absl::OkStatus();
  }
  Status Sync() override { return absl::OkStatus(); }

  Result<std::vector<TenantId>> Tenants() override {
    std::lock_guard<std::mutex> lock(mu_);
    std::vector<TenantId> out;
    for (const auto& [name, t] : tenants_) out.emplace_back(name);
    return out;
  }
  Result<std::optional<SignedTreeHead>> LatestHead(const TenantId& tenant) override {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = tenants_.find(tenant.value());
    if (it == tenants_.end()) return std::optional<SignedTreeHead>();
    return it->second.head;
  }
  Result<std::vector<SignedTreeHead>> HeadLog(const TenantId& tenant) override {
    std::lock_guard<std::mutex> lock(mu_);
    std::vector<SignedTreeHead> out;
    auto it = tenants_.find(tenant.value());
    if (it != tenants_.end()) {
      for (const auto& [size, h] : it->second.head_log) out.push_back(h);
    }
    return out;
  }
  Status Scan(const TenantId& tenant, const ScanOptions& options,
              const std::function<Status(const RecordView&)>& fn) override {
    std::vector<StoredRow> rows;  // copied so fn may call back into the store
    {
      std::lock_guard<std::mutex> lock(mu_);
      auto it = tenants_.find(tenant.value());
      if (it == tenants_.end()) return absl::OkStatus();
      for (auto r = it->second.rows.lower_bound(options.from_seq); r != it->second.rows.end();
           ++r) {
        const StoredRow& row = r->second;
        if (row.time_us < options.since_us || row.time_us >= options.until_us) continue;
        if (options.subject && std::find(row.subjects.begin(), row.subjects.end(),
                                         *options.subject) == row.subjects.end()) {
          continue;
        }
        rows.push_back(row);
      }
    }
    for (const StoredRow& row : rows) {
      PHIGATE_RETURN_IF_ERROR(fn(RecordView{row.seq, row.time_us, row.record, row.leaf}));
    }
    return absl::OkStatus();
  }
  Status ScanSubjects(const TenantId& tenant, uint64_t from_seq, uint64_t to_seq,
                      const std::function<Status(uint64_t, std::string_view)>& fn) override {
    if (from_seq >= to_seq || to_seq > kMaxSeq) {
      return absl::InvalidArgumentError("audit store: bad seq range");
    }
    std::vector<std::pair<uint64_t, BlindIndex>> out;
    {
      std::lock_guard<std::mutex> lock(mu_);
      auto it = tenants_.find(tenant.value());
      if (it == tenants_.end()) return absl::OkStatus();
      for (auto r = it->second.rows.lower_bound(from_seq);
           r != it->second.rows.end() && r->first < to_seq; ++r) {
        std::vector<BlindIndex> subjects = r->second.subjects;
        std::sort(subjects.begin(), subjects.end());
        subjects.erase(std::unique(subjects.begin(), subjects.end()), subjects.end());
        for (const BlindIndex& b : subjects) out.emplace_back(r->first, b);
      }
    }
    for (const auto& [seq, b] : out) {
      PHIGATE_RETURN_IF_ERROR(
          fn(seq, std::string_view(reinterpret_cast<const char*>(b.data()), b.size())));
    }
    return absl::OkStatus();
  }
  Result<std::vector<Hash>> GetNodes(const TenantId& tenant, std::span<const NodeId> ids) override {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = tenants_.find(tenant.value());
    std::vector<Hash> out;
    for (const NodeId& id : ids) {
      if (it == tenants_.end()) return absl::NotFoundError("audit store: no such tenant");
      if (id.level == 0) {
        auto r = it->second.rows.find(id.index);
        if (r == it->second.rows.end()) return absl::NotFoundError("audit store: leaf missing");
        out.push_back(r->second.leaf);
      } else {
        auto n = it->second.nodes.find(id);
        if (n == it->second.nodes.end()) return absl::NotFoundError("audit store: node missing");
        out.push_back(n->second);
      }
    }
    return out;
  }
  Status PutCheckpoint(const Checkpoint& cp) override {
    std::lock_guard<std::mutex> lock(mu_);
    tenants_[cp.head.tenant.value()].checkpoints.push_back(cp);
    return absl::OkStatus();
  }
  Result<std::vector<Checkpoint>> Checkpoints(const TenantId& tenant) override {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = tenants_.find(tenant.value());
    if (it == tenants_.end()) return std::vector<Checkpoint>();
    auto out = it->second.checkpoints;
    std::stable_sort(out.begin(), out.end(), [](const Checkpoint& a, const Checkpoint& b) {
      return a.head.tree_size < b.head.tree_size;
    });
    return out;
  }
  Status DropBefore(const Checkpoint& cut) override {
    if (!cut.cut) return absl::InvalidArgumentError("audit store: not a retention checkpoint");
    std::lock_guard<std::mutex> lock(mu_);
    Tenant& t = tenants_[cut.head.tenant.value()];
    t.checkpoints.push_back(cut);
    t.rows.erase(t.rows.begin(), t.rows.lower_bound(cut.head.tree_size));
    return absl::OkStatus();
  }

 private:
  struct Tenant {
    std::map<uint64_t, StoredRow> rows;
    std::map<NodeId, Hash> nodes;
    std::optional<SignedTreeHead> head;
    std::map<uint64_t, SignedTreeHead> head_log;
    std::vector<Checkpoint> checkpoints;
  };
  std::mutex mu_;
  std::map<std::string, Tenant> tenants_;
};

}  // namespace

std::unique_ptr<AuditLogStore> NewMemoryAuditLogStore() { return std::make_unique<MemoryStore>(); }

}  // namespace phigate::audit
