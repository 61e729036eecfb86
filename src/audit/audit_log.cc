// The group-commit writer, proofs, checkpoints and retention.
#include "phigate/audit/audit_log.h"

#include <linux/futex.h>
#include <sys/syscall.h>
#include <unistd.h>

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
  log->background_ = std::thread([p = log.get()] { p->BackgroundLoop(); });
  return log;
}

AuditLog::~AuditLog() {
  // A log closed cleanly ends with a signed head covering everything. Best
  // effort: a failure leaves an unsigned tail, which the next writer signs.
  SignHeads().IgnoreError();
  {
    std::lock_guard<std::mutex> lock(mu_);
    stop_ = true;
  }
  bg_cv_.notify_all();
  background_.join();
}

int64_t AuditLog::Now() const {
  if (options_.now_us) return options_.now_us();
  return std::chrono::duration_cast<std::chrono::microseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

static_assert(sizeof(std::atomic<uint32_t>) == sizeof(uint32_t) &&
                  std::atomic<uint32_t>::is_always_lock_free,
              "the futex word must be a plain 32-bit integer");

void AuditLog::Writer::Wait() {
  while (woken.load(std::memory_order_acquire) == 0) {
    // Returns at once if woken is no longer 0; spurious wake-ups loop.
    syscall(SYS_futex, reinterpret_cast<uint32_t*>(&woken), FUTEX_WAIT_PRIVATE, 0, nullptr, nullptr,
            0);
  }
}

void AuditLog::Writer::Wake() {
  // After the store the owner may return and free this writer; a wake on a
  // stale address is harmless (a waiter that reuses it re-checks its word).
  uint32_t* word = reinterpret_cast<uint32_t*>(&woken);
  woken.store(1, std::memory_order_release);
  syscall(SYS_futex, word, FUTEX_WAKE_PRIVATE, 1, nullptr, nullptr, 0);
}

namespace {
template <class T, class Less>
bool StrictlySorted(const std::vector<T>& v, Less less) {
  for (size_t i = 1; i < v.size(); ++i) {
    if (!less(v[i - 1], v[i])) return false;
  }
  return true;
}
// True when Canonicalize() would change nothing (the usual case: one reason,
// categories added in order), so Append need not copy the event.
bool IsCanonical(const AuditEvent& e) {
  // Sorted by category, one entry each, no zero count.
  auto canonical_counts = [](const std::vector<std::pair<PhiCategory, uint32_t>>& counts) {
    for (const auto& [c, n] : counts) {
      if (n == 0) return false;
    }
    return StrictlySorted(counts, [](const auto& a, const auto& b) { return a.first < b.first; });
  };
  return StrictlySorted(e.reasons, std::less<AuditId>()) && canonical_counts(e.category_counts) &&
         (!e.sent_as_written || canonical_counts(*e.sent_as_written)) &&
         StrictlySorted(e.subjects, std::less<BlindIndex>());
}
}  // namespace

// Everything that does not depend on the event's place in the trail runs here,
// on the caller's thread, in parallel with other callers and with the leader.
Status AuditLog::Prepare(const AuditEvent& event, Writer* w) {
  const AuditEvent* e = &event;
  AuditEvent canonical;
  if (!IsCanonical(event)) {
    canonical = event;
    canonical.Canonicalize();
    e = &canonical;
  }
  PHIGATE_RETURN_IF_ERROR(e->Validate());
  PHIGATE_ASSIGN_OR_RETURN(w->frame, EncodeEventFrame(*e));
  w->tenant = e->tenant;
  w->time_us = e->time_us;
  w->subjects = e->subjects;
  return absl::OkStatus();
}

Result<uint64_t> AuditLog::Append(const AuditEvent& event) {
  active_.fetch_add(1, std::memory_order_relaxed);
  struct Leave {
    std::atomic<int>& n;
    ~Leave() { n.fetch_sub(1, std::memory_order_relaxed); }
  } leave{active_};
  Writer w;
  PHIGATE_RETURN_IF_ERROR(Prepare(event, &w));
  PHIGATE_RETURN_IF_ERROR(RunQueued(&w));
  return w.seq;
}

Status AuditLog::RunQueued(Writer* w) {
  bool lead;
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (stop_) return absl::FailedPreconditionError("audit log: closed");
    queue_.push_back(w);
    lead = queue_.size() == 1;
  }
  // Not first: sleep until a leader committed our event (done) or handed us
  // the lead. Exactly one Wake() reaches each waiting writer.
  if (!lead) w->Wait();
  if (!w->done) LeadBatch(w);
  return w->status;
}

Status AuditLog::RunSignOnly(const TenantId* tenant) {
  Writer w;
  w.sign_only = true;
  if (tenant != nullptr) w.tenant = *tenant;
  return RunQueued(&w);
}

Status AuditLog::SignHeads() { return RunSignOnly(nullptr); }

std::future<Result<uint64_t>> AuditLog::AppendAsync(AuditEvent event) {
  auto w = std::make_unique<Writer>();
  w->promise = std::make_unique<std::promise<Result<uint64_t>>>();
  auto f = w->promise->get_future();
  if (Status s = Prepare(event, w.get()); !s.ok()) {
    w->promise->set_value(s);
    return f;
  }
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (stop_) {
      w->promise->set_value(absl::FailedPreconditionError("audit log: closed"));
      return f;
    }
    queue_.push_back(w.release());    // owned by the queue until done
    if (queue_.size() > 1) return f;  // the current leader hands the lead on
  }
  bg_cv_.notify_one();  // an async writer at the front: the background thread leads
  return f;
}

void AuditLog::WaitForMoreWriters() {
  const auto max_delay = options_.max_commit_delay;
  if (max_delay.count() <= 0) return;
  auto queued = [&] {
    std::lock_guard<std::mutex> lock(mu_);
    return queue_.size();
  };
  size_t n = queued();
  // Concurrency: callers still encoding their event, or the last batch had
  // company. A lone caller commits at once.
  auto others_coming = [&](size_t q) {
    return static_cast<size_t>(std::max(active_.load(std::memory_order_relaxed), 0)) > q;
  };
  if (n >= options_.max_batch || (last_batch_ <= 1 && !others_coming(n))) return;
  const auto deadline = std::chrono::steady_clock::now() + max_delay;
  const auto step = std::max(max_delay / 8, std::chrono::microseconds(20));
  while (std::chrono::steady_clock::now() + step <= deadline) {
    // Sleeping hands the CPU to the callers that are about to queue (on a
    // busy machine they are runnable but not running).
    std::this_thread::sleep_for(step);
    const size_t m = queued();
    if (m >= options_.max_batch || (m == n && !others_coming(m))) break;
    n = m;
  }
}

void AuditLog::LeadBatch(Writer* self) {
  // The batch stays at the front of the queue while it commits, so no one
  // else can lead; callers arriving meanwhile queue up for the next batch.
  thread_local std::vector<Writer*> batch;
  WaitForMoreWriters();
  {
    std::lock_guard<std::mutex> lock(mu_);
    const size_t n = std::min(queue_.size(), options_.max_batch);
    batch.assign(queue_.begin(), queue_.begin() + static_cast<std::ptrdiff_t>(n));
    leading_ = true;
  }
  last_batch_ = batch.size();
  const CommitOutcome out = CommitBatch(batch);
  Writer* next = nullptr;
  {
    std::lock_guard<std::mutex> lock(mu_);
    leading_ = false;
    for (size_t i = 0; i < batch.size(); ++i) queue_.pop_front();
    if (!queue_.empty()) next = queue_.front();
    if (out.unsigned_tail && !sign_pending_) {
      // The sign_interval clock starts now: the background thread signs the
      // tail by then if no commit has.
      sign_pending_ = true;
      sign_due_ = std::chrono::steady_clock::now() + options_.sign_interval;
      bg_cv_.notify_one();
    } else if (!out.unsigned_tail) {
      sign_pending_ = false;
    }
    if (out.unsynced && !dirty_) {
      dirty_ = true;  // the fsync_interval clock starts now
      dirty_since_ = std::chrono::steady_clock::now();
      bg_cv_.notify_one();
    }
    if (next != nullptr && next->promise) {
      bg_cv_.notify_one();
      next = nullptr;
    }
  }
  // Wake outside the lock, so woken callers do not pile up on mu_. The next
  // leader first: its commit overlaps the wake-ups of this batch.
  if (next != nullptr) next->Wake();
  for (Writer* w : batch) {
    w->done = true;  // published to w's owner by Wake() / set_value()
    if (w->promise) {
      std::unique_ptr<Writer> owned(w);
      if (w->status.ok()) {
        w->promise->set_value(w->seq);
      } else {
        w->promise->set_value(w->status);
      }
    } else if (w != self) {
      w->Wake();
    }
  }
}

Status AuditLog::Sync() { return store_->Sync(); }

void AuditLog::BackgroundLoop() {
  std::unique_lock<std::mutex> lock(mu_);
  while (true) {
    const auto async_front = [&] {
      return !leading_ && !queue_.empty() && queue_.front()->promise != nullptr;
    };
    if (async_front()) {
      // Only the front may lead and an async front waits for this thread, so
      // nobody else leads between here and LeadBatch taking the batch.
      lock.unlock();
      LeadBatch(nullptr);
      lock.lock();
      continue;
    }
    const auto due = dirty_since_ + options_.fsync_interval;
    if (dirty_ && std::chrono::steady_clock::now() >= due) {
      // Cleared before the fsync: a commit that lands meanwhile sets it again
      // and is synced next time. A failed fsync is retried; the commits
      // themselves already survive a process crash.
      dirty_ = false;
      lock.unlock();
      const bool ok = store_->Sync().ok();
      syncs_.fetch_add(1, std::memory_order_relaxed);
      lock.lock();
      if (!ok && !dirty_) {
        dirty_ = true;
        dirty_since_ = std::chrono::steady_clock::now();
      }
      continue;
    }
    if (sign_pending_ && !stop_ && std::chrono::steady_clock::now() >= sign_due_) {
      // Idle with an unsigned tail: queue a sign-only writer (this thread
      // leads it when it reaches the front; a busy leader takes it along).
      // Retried after another interval if the tail is still unsigned then.
      sign_due_ = std::chrono::steady_clock::now() + options_.sign_interval;
      auto w = std::make_unique<Writer>();
      w->sign_only = true;
      w->promise = std::make_unique<std::promise<Result<uint64_t>>>();
      queue_.push_back(w.release());  // owned by the queue until done
      continue;
    }
    if (stop_ && queue_.empty()) break;
    const auto wake = [&] { return stop_ || async_front(); };
    if (dirty_ && sign_pending_) {
      bg_cv_.wait_until(lock, std::min(due, sign_due_), wake);
    } else if (dirty_) {
      bg_cv_.wait_until(lock, due, wake);
    } else if (sign_pending_) {
      bg_cv_.wait_until(lock, sign_due_, [&] { return wake() || dirty_; });
    } else {
      bg_cv_.wait(lock, [&] { return wake() || dirty_ || sign_pending_; });
    }
  }
  if (dirty_) {
    lock.unlock();
    store_->Sync().IgnoreError();  // best effort at shutdown
  }
}

Result<AuditLog::TenantState*> AuditLog::StateFor(const TenantId& tenant) {
  auto it = tenants_.find(tenant.value());
  if (it != tenants_.end()) return &it->second;
  TenantState st;
  PHIGATE_ASSIGN_OR_RETURN(std::optional<SignedTreeHead> head, store_->LatestHead(tenant));
  if (head) st.signed_size = head->tree_size;
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
  // The unsigned tail (events committed after the newest signed head, e.g.
  // by a writer that crashed before signing): extend the tree over it, and
  // refuse to go on from a tail that does not chain (it would get signed).
  const auto bad_tail = [&](uint64_t seq, std::string_view why) {
    return absl::DataLossError(absl::StrCat("tenant ", tenant.value(), ": event seq ", seq,
                                            " (unsigned tail): ", ToAbsl(why)));
  };
  PHIGATE_RETURN_IF_ERROR(store_->Scan(tenant, ScanOptions{.from_seq = st.tree.size()},
                                       [&](const RecordView& v) -> Status {
                                         if (v.seq != st.tree.size())
                                           return bad_tail(st.tree.size(), "missing");
                                         auto rec = ParseRecordHeader(v.record);
                                         if (!rec.ok())
                                           return bad_tail(v.seq, FromAbsl(rec.status().message()));
                                         const Hash leaf = LeafHash(v.record);
                                         if (rec->seq != v.seq || rec->tenant != tenant.value() ||
                                             rec->prev_hash != st.last_leaf || leaf != v.leaf) {
                                           return bad_tail(v.seq, "does not chain to the trail");
                                         }
                                         st.tree.Append(leaf, nullptr);
                                         st.last_leaf = leaf;
                                         return absl::OkStatus();
                                       }));
  return &tenants_.emplace(tenant.value(), std::move(st)).first->second;
}

AuditLog::CommitOutcome AuditLog::CommitBatch(std::span<Writer* const> batch) {
  WriteBatch& wb = wb_;  // reused: its vectors keep their capacity
  wb.rows.clear();
  wb.nodes.clear();
  wb.heads.clear();
  wb.head_log.clear();
  std::set<std::string> touched;  // tenants with rows in the batch
  std::vector<Writer*> accepted;
  accepted.reserve(batch.size());
  thread_local std::vector<Node> completed;
  const std::string* last_tenant = nullptr;
  TenantState* ts = nullptr;
  bool force_sign = false;            // a sign_only writer is in the batch
  std::vector<Writer*> sign_writers;  // their status is the commit's
  for (Writer* w : batch) {
    if (w->sign_only) {
      force_sign = true;
      if (!w->tenant.value().empty()) {
        auto st = StateFor(w->tenant);
        if (!st.ok()) {
          w->status = st.status();
          continue;
        }
        if ((*st)->tree.size() > (*st)->signed_size) unsigned_.insert(w->tenant.value());
      }
      sign_writers.push_back(w);
      continue;
    }
    if (last_tenant == nullptr || *last_tenant != w->tenant.value()) {
      auto st = StateFor(w->tenant);
      if (!st.ok()) {
        w->status = st.status();
        last_tenant = nullptr;
        continue;
      }
      ts = *st;
      last_tenant = &w->tenant.value();
      touched.insert(w->tenant.value());
    }
    StoredRow& row = wb.rows.emplace_back();
    row.seq = ts->tree.size();
    SealRecord(&w->frame, row.seq, ts->last_leaf);
    row.tenant = w->tenant;
    row.time_us = w->time_us;
    row.leaf = LeafHash(w->frame);
    row.record = std::move(w->frame);
    row.subjects = std::move(w->subjects);
    completed.clear();
    ts->tree.Append(row.leaf, &completed);
    ts->last_leaf = row.leaf;
    for (const Node& n : completed) wb.nodes.push_back(TenantNode{row.tenant, n});
    w->seq = row.seq;
    accepted.push_back(w);
  }
  // Whose heads to sign: every tenant with an unsigned tail when asked to
  // (sign_only), else the batch's tenants whose last signature is at least
  // sign_interval old (or that are new / reloaded).
  const auto steady_now = std::chrono::steady_clock::now();
  for (const std::string& name : touched) unsigned_.insert(name);
  std::vector<std::string> to_sign;
  for (const std::string& name : unsigned_) {
    const TenantState& st = tenants_.at(name);
    if (force_sign || st.sign_now || options_.sign_interval.count() <= 0 ||
        steady_now - st.signed_at >= options_.sign_interval) {
      to_sign.push_back(name);
    }
  }
  CommitOutcome out;
  if (accepted.empty() && to_sign.empty()) {
    for (Writer* w : sign_writers) w->status = absl::OkStatus();
    out.unsigned_tail = !unsigned_.empty();
    return out;
  }

  Status status;
  const int64_t now = Now();
  for (const std::string& name : to_sign) {
    const TenantState& st = tenants_.at(name);
    SignedTreeHead h;
    h.tenant = TenantId(name);
    h.tree_size = st.tree.size();
    h.root = st.tree.Root();
    h.last_leaf = st.last_leaf;
    h.timestamp_us = now;
    auto sig = signer_->Sign(h.SignedBytes());
    if (!sig.ok()) {
      status = sig.status();
      break;
    }
    h.signature = *std::move(sig);
    const uint64_t k = options_.head_log_interval;
    if (st.signed_size == 0 || st.signed_size / k != h.tree_size / k) wb.head_log.push_back(h);
    wb.heads.push_back(std::move(h));
  }
  if (status.ok()) status = store_->Commit(wb);
  bool synced = false;
  if (status.ok() && options_.fsync_interval.count() == 0) {
    status = store_->Sync();
    synced = status.ok();
  }
  if (!status.ok()) {
    // Nothing was written (or it is not durable). Forget the tenants' cached
    // state so the next append reloads it from the store (another writer may
    // have extended the trail), and fail every caller of the batch so none of
    // them forwards anything.
    // A tenant forgotten here is reloaded (with its tail) and signed at
    // its next append.
    for (const std::string& name : touched) tenants_.erase(name);
    for (const std::string& name : to_sign) tenants_.erase(name);
    for (auto it = unsigned_.begin(); it != unsigned_.end();) {
      it = tenants_.count(*it) == 0 ? unsigned_.erase(it) : std::next(it);
    }
    for (Writer* w : accepted) w->status = status;
    for (Writer* w : sign_writers) w->status = status;
    out.unsigned_tail = !unsigned_.empty();
    return out;
  }
  for (const std::string& name : to_sign) {
    TenantState& st = tenants_.at(name);
    st.signed_size = st.tree.size();
    st.signed_at = steady_now;
    st.sign_now = false;
    unsigned_.erase(name);
  }
  for (Writer* w : accepted) w->status = absl::OkStatus();
  for (Writer* w : sign_writers) w->status = absl::OkStatus();
  commits_.fetch_add(1, std::memory_order_relaxed);
  events_.fetch_add(accepted.size(), std::memory_order_relaxed);
  signatures_.fetch_add(wb.heads.size(), std::memory_order_relaxed);
  if (synced) syncs_.fetch_add(1, std::memory_order_relaxed);
  out.unsynced = !synced;
  out.unsigned_tail = !unsigned_.empty();
  return out;
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
  PHIGATE_RETURN_IF_ERROR(RunSignOnly(&tenant));
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
  PHIGATE_RETURN_IF_ERROR(RunSignOnly(&tenant));  // cut behind a head covering everything
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
  PHIGATE_ASSIGN_OR_RETURN(cp.head.signature, signer_->Sign(cp.head.CutSignedBytes()));
  PHIGATE_RETURN_IF_ERROR(store_->DropBefore(cp));
  return cut - first;
}

}  // namespace phigate::audit
