// The group-commit writer, proofs, checkpoints and retention.
#include "phigate/audit/audit_log.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "phigate/audit/record.h"

namespace phigate::audit {

AuditLog::AuditLog(std::unique_ptr<AuditLogStore> store,
                   std::shared_ptr<const crypto::Ed25519Signer> signer, AuditLogOptions options)
    : store_(std::move(store)), signer_(std::move(signer)), options_(std::move(options)) {}

Result<std::unique_ptr<AuditLog>> AuditLog::Open(
    std::unique_ptr<AuditLogStore> store, std::shared_ptr<const crypto::Ed25519Signer> signer,
    AuditLogOptions options) {
  if (store == nullptr || signer == nullptr) {
    return absl::InvalidArgumentError("audit log: store and signer are required");
  }
  if (options.max_batch == 0) options.max_batch = 1;
  if (options.head_log_interval == 0) options.head_log_interval = 4096;
  auto log = std::unique_ptr<AuditLog>(
      new AuditLog(std::move(store), std::move(signer), std::move(options)));
  log->last_sync_ = std::chrono::steady_clock::now();
  log->writer_ = std::thread([p = log.get()] { p->WriterLoop(); });
  return log;
}

AuditLog::~AuditLog() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stop_ = true;
  }
  cv_.notify_all();
  writer_.join();
}

int64_t AuditLog::Now() const {
  if (options_.now_us) return options_.now_us();
  return std::chrono::duration_cast<std::chrono::microseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

std::future<Result<uint64_t>> AuditLog::AppendAsync(AuditEvent event) {
  Pending p{std::move(event), {}};
  auto f = p.done.get_future();
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (stop_) {
      p.done.set_value(absl::FailedPreconditionError("audit log: closed"));
      return f;
    }
    queue_.push_back(std::move(p));
  }
  cv_.notify_one();
  return f;
}

Result<uint64_t> AuditLog::Append(const AuditEvent& event) { return AppendAsync(event).get(); }

Status AuditLog::Sync() { return store_->Sync(); }

void AuditLog::WriterLoop() {
  std::vector<Pending> batch;
  while (true) {
    {
      std::unique_lock<std::mutex> lock(mu_);
      if (dirty_) {
        // Wake up in time to honour the fsync bound even when idle.
        cv_.wait_until(lock, last_sync_ + options_.fsync_interval,
                       [&] { return stop_ || !queue_.empty(); });
      } else {
        cv_.wait(lock, [&] { return stop_ || !queue_.empty(); });
      }
      if (queue_.empty() && stop_) break;
      const size_t n = std::min(queue_.size(), options_.max_batch);
      for (size_t i = 0; i < n; ++i) {
        batch.push_back(std::move(queue_.front()));
        queue_.pop_front();
      }
    }
    if (!batch.empty()) CommitBatch(batch);
    batch.clear();
    if (dirty_ && std::chrono::steady_clock::now() - last_sync_ >= options_.fsync_interval) {
      // A failed fsync is retried at the next batch; the commits themselves
      // already survive a process crash.
      if (store_->Sync().ok()) dirty_ = false;
      last_sync_ = std::chrono::steady_clock::now();
    }
  }
  if (dirty_) store_->Sync().IgnoreError();  // best effort at shutdown
}

Result<AuditLog::TenantState*> AuditLog::StateFor(const TenantId& tenant) {
  auto it = tenants_.find(tenant.value());
  if (it != tenants_.end()) return &it->second;
  TenantState st;
  PHIGATE_ASSIGN_OR_RETURN(std::optional<SignedTreeHead> head, store_->LatestHead(tenant));
  if (head && head->tree_size > 0) {
    const auto ids = Decompose(0, head->tree_size);
    PHIGATE_ASSIGN_OR_RETURN(std::vector<Hash> hashes, store_->GetNodes(tenant, ids));
    PHIGATE_ASSIGN_OR_RETURN(st.tree, CompactRange::FromHashes(head->tree_size, std::move(hashes)));
    // Refuse to extend a trail whose stored tree does not match its signed head.
    if (st.tree.Root() != head->root) {
      return absl::DataLossError(absl::StrCat(
          "tenant ", tenant.value(), ": stored Merkle nodes do not match the signed head"));
    }
    st.last_leaf = head->last_leaf;
  }
  return &tenants_.emplace(tenant.value(), std::move(st)).first->second;
}

void AuditLog::CommitBatch(std::vector<Pending>& batch) {
  WriteBatch wb;
  std::map<std::string, TenantState> backup;  // to undo on a failed commit
  std::map<std::string, uint64_t> start_size;
  std::vector<std::pair<Pending*, uint64_t>> accepted;
  std::vector<Node> completed;
  for (Pending& p : batch) {
    AuditEvent& e = p.event;
    e.Canonicalize();
    if (Status s = e.Validate(); !s.ok()) {
      p.done.set_value(s);
      continue;
    }
    auto st = StateFor(e.tenant);
    if (!st.ok()) {
      p.done.set_value(st.status());
      continue;
    }
    TenantState& ts = **st;
    if (!backup.count(e.tenant.value())) {
      backup[e.tenant.value()] = ts;
      start_size[e.tenant.value()] = ts.tree.size();
    }
    Record r{ts.tree.size(), ts.last_leaf, std::move(e)};
    auto frame = EncodeRecord(r);
    if (!frame.ok()) {
      p.done.set_value(frame.status());
      continue;
    }
    StoredRow row;
    row.tenant = r.event.tenant;
    row.seq = r.seq;
    row.time_us = r.event.time_us;
    row.leaf = LeafHash(*frame);
    row.record = *std::move(frame);
    row.subjects = r.event.subjects;
    completed.clear();
    ts.tree.Append(row.leaf, &completed);
    ts.last_leaf = row.leaf;
    for (const Node& n : completed) wb.nodes.push_back(TenantNode{row.tenant, n});
    accepted.emplace_back(&p, row.seq);
    wb.rows.push_back(std::move(row));
  }
  if (accepted.empty()) return;

  Status status;
  const int64_t now = Now();
  for (const auto& [name, size0] : start_size) {
    const TenantState& ts = tenants_.at(name);
    SignedTreeHead h;
    h.tenant = TenantId(name);
    h.tree_size = ts.tree.size();
    h.root = ts.tree.Root();
    h.last_leaf = ts.last_leaf;
    h.timestamp_us = now;
    auto sig = signer_->Sign(h.SignedBytes());
    if (!sig.ok()) {
      status = sig.status();
      break;
    }
    h.signature = *std::move(sig);
    const uint64_t k = options_.head_log_interval;
    if (size0 == 0 || size0 / k != h.tree_size / k) wb.head_log.push_back(h);
    wb.heads.push_back(std::move(h));
  }
  if (status.ok()) status = store_->Commit(wb);
  if (status.ok()) {
    dirty_ = true;
    if (options_.fsync_interval.count() == 0) {
      status = store_->Sync();
      last_sync_ = std::chrono::steady_clock::now();
      if (status.ok()) dirty_ = false;
    }
  }
  if (!status.ok()) {
    // Nothing was written (or it is not durable). Forget the tenants' cached
    // state so the next append reloads it from the store (another writer may
    // have extended the trail), and fail every caller of the batch so none of
    // them forwards anything.
    for (const auto& [name, st] : backup) tenants_.erase(name);
    for (auto& [p, seq] : accepted) p->done.set_value(status);
    return;
  }
  for (auto& [p, seq] : accepted) p->done.set_value(seq);
}

Result<SignedTreeHead> AuditLog::LatestHead(const TenantId& tenant) {
  PHIGATE_ASSIGN_OR_RETURN(std::optional<SignedTreeHead> head, store_->LatestHead(tenant));
  if (!head)
    return absl::NotFoundError(absl::StrCat("audit: no trail for tenant ", tenant.value()));
  return *head;
}

namespace {
NodeFetcher FetcherFor(AuditLogStore& store, const TenantId& tenant) {
  return [&store, tenant](std::span<const NodeId> ids) { return store.GetNodes(tenant, ids); };
}
}  // namespace

Result<InclusionProofResult> AuditLog::ProveInclusion(const TenantId& tenant, uint64_t seq,
                                                      uint64_t tree_size) {
  PHIGATE_ASSIGN_OR_RETURN(SignedTreeHead head, LatestHead(tenant));
  InclusionProofResult out;
  out.seq = seq;
  if (tree_size == 0 || tree_size == head.tree_size) {
    out.head = head;
  } else {
    if (tree_size > head.tree_size) {
      return absl::InvalidArgumentError("inclusion proof: tree size beyond the latest head");
    }
    out.head.tenant = tenant;
    out.head.tree_size = tree_size;
    PHIGATE_ASSIGN_OR_RETURN(out.head.root, RootAt(tree_size, FetcherFor(*store_, tenant)));
    // An unsigned head: the caller pairs it with a consistency proof to a signed one.
  }
  if (seq >= out.head.tree_size) {
    return absl::InvalidArgumentError("inclusion proof: seq beyond the tree size");
  }
  // One store round trip: the leaf rides along with the proof's nodes.
  bool fetched = false;
  NodeFetcher with_leaf = [&](std::span<const NodeId> ids) -> Result<std::vector<Hash>> {
    std::vector<NodeId> all(ids.begin(), ids.end());
    all.push_back(NodeId{0, seq});
    PHIGATE_ASSIGN_OR_RETURN(std::vector<Hash> h, store_->GetNodes(tenant, all));
    out.leaf = h.back();
    h.pop_back();
    fetched = true;
    return h;
  };
  PHIGATE_ASSIGN_OR_RETURN(out.path, InclusionProof(seq, out.head.tree_size, with_leaf));
  if (!fetched) {  // a tree of one leaf has an empty path
    const NodeId leaf_id{0, seq};
    PHIGATE_ASSIGN_OR_RETURN(auto leaf,
                             store_->GetNodes(tenant, std::span<const NodeId>(&leaf_id, 1)));
    out.leaf = leaf[0];
  }
  return out;
}

Result<std::vector<Hash>> AuditLog::ProveConsistency(const TenantId& tenant, uint64_t first,
                                                     uint64_t second) {
  PHIGATE_ASSIGN_OR_RETURN(SignedTreeHead head, LatestHead(tenant));
  if (second > head.tree_size) {
    return absl::InvalidArgumentError("consistency proof: size beyond the latest head");
  }
  return ConsistencyProof(first, second, FetcherFor(*store_, tenant));
}

Result<Checkpoint> AuditLog::MakeCheckpoint(const TenantId& tenant) {
  PHIGATE_ASSIGN_OR_RETURN(SignedTreeHead head, LatestHead(tenant));
  Checkpoint cp;
  const auto ids = Decompose(0, head.tree_size);
  PHIGATE_ASSIGN_OR_RETURN(cp.compact_range, store_->GetNodes(tenant, ids));
  cp.head = head;
  cp.head.timestamp_us = Now();
  PHIGATE_ASSIGN_OR_RETURN(cp.head.signature, signer_->Sign(cp.head.SignedBytes()));
  PHIGATE_RETURN_IF_ERROR(store_->PutCheckpoint(cp));
  return cp;
}

Result<uint64_t> AuditLog::ApplyRetention(const TenantId& tenant, int64_t now_us,
                                          int64_t retention_us) {
  if (retention_us < kMinRetentionUs) {
    return absl::InvalidArgumentError("retention: must keep at least six years");
  }
  PHIGATE_ASSIGN_OR_RETURN(SignedTreeHead head, LatestHead(tenant));
  PHIGATE_ASSIGN_OR_RETURN(std::vector<Checkpoint> cps, store_->Checkpoints(tenant));
  uint64_t first = 0;
  for (const Checkpoint& c : cps) {
    if (c.cut) first = std::max(first, c.head.tree_size);
  }
  // The cut is the first record (in trail order) that is not old enough; a
  // younger record stops the cut even if older ones follow it.
  const int64_t cutoff = now_us - retention_us;
  uint64_t cut = first;
  Status s = store_->Scan(tenant, ScanOptions{.from_seq = first}, [&](const RecordView& v) {
    if (v.time_us >= cutoff || v.seq >= head.tree_size) return absl::CancelledError("stop");
    cut = v.seq + 1;
    return absl::OkStatus();
  });
  if (!s.ok() && s.code() != absl::StatusCode::kCancelled) return s;
  cut &= ~uint64_t{1};  // even, so every proof for a kept leaf needs only kept leaves
  if (cut <= first) return uint64_t{0};

  Checkpoint cp;
  cp.cut = true;
  cp.head.tenant = tenant;
  cp.head.tree_size = cut;
  const auto ids = Decompose(0, cut);
  PHIGATE_ASSIGN_OR_RETURN(cp.compact_range, store_->GetNodes(tenant, ids));
  PHIGATE_ASSIGN_OR_RETURN(CompactRange range, CompactRange::FromHashes(cut, cp.compact_range));
  cp.head.root = range.Root();
  const NodeId last{0, cut - 1};
  PHIGATE_ASSIGN_OR_RETURN(auto last_leaf,
                           store_->GetNodes(tenant, std::span<const NodeId>(&last, 1)));
  cp.head.last_leaf = last_leaf[0];
  cp.head.timestamp_us = Now();
  // The checkpoint must agree with the signed trail before anything is dropped.
  PHIGATE_ASSIGN_OR_RETURN(auto proof,
                           ConsistencyProof(cut, head.tree_size, FetcherFor(*store_, tenant)));
  PHIGATE_RETURN_IF_ERROR(VerifyConsistency(cut, head.tree_size, cp.head.root, head.root, proof));
  PHIGATE_ASSIGN_OR_RETURN(cp.head.signature, signer_->Sign(cp.head.SignedBytes()));
  PHIGATE_RETURN_IF_ERROR(store_->DropBefore(cp));
  return cut - first;
}

}  // namespace phigate::audit
