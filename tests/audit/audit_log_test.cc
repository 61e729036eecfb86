// AuditLog behaviour that does not depend on the backend: fail closed on a
// store failure, fsync-before-ack mode, one trail per tenant, and the group
// commit (leader/follower queue) under concurrent callers.
#include "phigate/audit/audit_log.h"

#include <atomic>
#include <future>
#include <mutex>
#include <set>
#include <thread>

#include "gtest/gtest.h"
#include "phigate/audit/record.h"
#include "tests/audit/test_util.h"
#include "tests/testing/status_matchers.h"

namespace phigate::audit {
namespace {

using testing::SampleEvent;
using testing::TestSigner;
using testing::TestVerifier;

// Delegates to a memory store; fails commits / syncs on demand.
class FlakyStore : public AuditLogStore {
 public:
  FlakyStore() : inner_(NewMemoryAuditLogStore()) {}
  std::atomic<bool> fail_commit{false};
  std::atomic<int> syncs{0};
  std::atomic<int> commit_sleep_us{0};  // a slow disk, so callers queue up
  std::atomic<size_t> max_rows{0};      // largest batch seen
  Status Commit(const WriteBatch& b) override {
    if (commit_sleep_us > 0)
      std::this_thread::sleep_for(std::chrono::microseconds(commit_sleep_us));
    if (fail_commit) return absl::UnavailableError("disk full (test)");
    size_t m = max_rows.load();
    while (b.rows.size() > m && !max_rows.compare_exchange_weak(m, b.rows.size())) {
    }
    return inner_->Commit(b);
  }
  Status Sync() override {
    ++syncs;
    return absl::OkStatus();
  }
  Result<std::vector<TenantId>> Tenants() override { return inner_->Tenants(); }
  Result<std::optional<SignedTreeHead>> LatestHead(const TenantId& t) override {
    return inner_->LatestHead(t);
  }
  Result<std::vector<SignedTreeHead>> HeadLog(const TenantId& t) override {
    return inner_->HeadLog(t);
  }
  Status Scan(const TenantId& t, const ScanOptions& o,
              const std::function<Status(const RecordView&)>& fn) override {
    return inner_->Scan(t, o, fn);
  }
  Status ScanSubjects(const TenantId& t, uint64_t from, uint64_t to,
                      const std::function<Status(uint64_t, std::string_view)>& fn) override {
    return inner_->ScanSubjects(t, from, to, fn);
  }
  Result<std::vector<Hash>> GetNodes(const TenantId& t, std::span<const NodeId> ids) override {
    return inner_->GetNodes(t, ids);
  }
  Status PutCheckpoint(const Checkpoint& c) override { return inner_->PutCheckpoint(c); }
  Result<std::vector<Checkpoint>> Checkpoints(const TenantId& t) override {
    return inner_->Checkpoints(t);
  }
  Status DropBefore(const Checkpoint& c) override { return inner_->DropBefore(c); }

 private:
  std::unique_ptr<AuditLogStore> inner_;
};

TEST(AuditLogTest, StoreFailureFailsTheAppendAndTheTrailStaysValid) {
  auto owned = std::make_unique<FlakyStore>();
  FlakyStore* store = owned.get();
  auto log = AuditLog::Open(std::move(owned), TestSigner()).value();
  PHIGATE_ASSERT_OK(log->Append(SampleEvent("acme", 0)));
  store->fail_commit = true;
  auto r = log->Append(SampleEvent("acme", 1));
  EXPECT_EQ(r.status().code(), absl::StatusCode::kUnavailable);
  store->fail_commit = false;
  PHIGATE_ASSERT_OK_AND_ASSIGN(uint64_t seq, log->Append(SampleEvent("acme", 2)));
  EXPECT_EQ(seq, 1u);  // the failed event took no sequence number
  PHIGATE_ASSERT_OK_AND_ASSIGN(VerifyResult v,
                               VerifyTrail(*store, TenantId("acme"), *TestVerifier()));
  EXPECT_EQ(v.events_checked, 2u);
}

TEST(AuditLogTest, ZeroFsyncIntervalSyncsBeforeAcknowledging) {
  auto owned = std::make_unique<FlakyStore>();
  FlakyStore* store = owned.get();
  AuditLogOptions o;
  o.fsync_interval = std::chrono::microseconds(0);
  auto log = AuditLog::Open(std::move(owned), TestSigner(), o).value();
  for (int i = 0; i < 3; ++i) {
    const int before = store->syncs.load();
    PHIGATE_ASSERT_OK(log->Append(SampleEvent("acme", i)));
    EXPECT_GT(store->syncs.load(), before);
  }
}

TEST(AuditLogTest, TenantsHaveSeparateTrails) {
  auto log = AuditLog::Open(NewMemoryAuditLogStore(), TestSigner()).value();
  PHIGATE_ASSERT_OK_AND_ASSIGN(uint64_t a0, log->Append(SampleEvent("acme", 0)));
  PHIGATE_ASSERT_OK_AND_ASSIGN(uint64_t b0, log->Append(SampleEvent("globex", 0)));
  PHIGATE_ASSERT_OK_AND_ASSIGN(uint64_t a1, log->Append(SampleEvent("acme", 1)));
  EXPECT_EQ(a0, 0u);
  EXPECT_EQ(b0, 0u);
  EXPECT_EQ(a1, 1u);
  PHIGATE_ASSERT_OK_AND_ASSIGN(SignedTreeHead ha, log->LatestHead(TenantId("acme")));
  PHIGATE_ASSERT_OK_AND_ASSIGN(SignedTreeHead hb, log->LatestHead(TenantId("globex")));
  EXPECT_NE(ha.root, hb.root);
  // A head signed for one tenant does not verify as another tenant's.
  SignedTreeHead forged = ha;
  forged.tenant = TenantId("globex");
  EXPECT_FALSE(TestVerifier()->Verify(forged.SignedBytes(), ha.signature).ok());
  EXPECT_EQ(log->LatestHead(TenantId("initech")).status().code(), absl::StatusCode::kNotFound);
}

// Append canonicalises what the caller gives (unsorted, repeated, zero counts)
// before encoding: every stored record decodes, so queries and the accounting
// of disclosures never meet a record the decoder refuses.
TEST(AuditLogTest, AppendStoresOnlyCanonicalRecords) {
  auto log = AuditLog::Open(NewMemoryAuditLogStore(), TestSigner()).value();
  AuditEvent e = SampleEvent("acme", 0);  // NAME x1, MRN x1 found
  e.sent_as_written = std::vector<std::pair<PhiCategory, uint32_t>>{
      {PhiCategory::kMrn, 1}, {PhiCategory::kName, 0}, {PhiCategory::kName, 1}};
  PHIGATE_ASSERT_OK(log->Append(e).status());
  e.sent_as_written = std::vector<std::pair<PhiCategory, uint32_t>>{{PhiCategory::kMrn, 0}};
  PHIGATE_ASSERT_OK(log->Append(e).status());
  std::vector<AuditEvent> back;
  PHIGATE_ASSERT_OK(log->store().Scan(TenantId("acme"), {}, [&](const RecordView& v) {
    PHIGATE_ASSIGN_OR_RETURN(Record r, DecodeRecord(v.record));
    back.push_back(r.event);
    return absl::OkStatus();
  }));
  ASSERT_EQ(back.size(), 2u);
  ASSERT_TRUE(back[0].sent_as_written.has_value());
  EXPECT_EQ(*back[0].sent_as_written, (std::vector<std::pair<PhiCategory, uint32_t>>{
                                          {PhiCategory::kName, 1}, {PhiCategory::kMrn, 1}}));
  ASSERT_TRUE(back[1].sent_as_written.has_value());
  EXPECT_TRUE(back[1].sent_as_written->empty());
}

// Runs `threads` callers of Append, `per_thread` events each; returns the
// sequence numbers acknowledged (each must be unique).
std::set<uint64_t> AppendConcurrently(AuditLog& log, int threads, int per_thread,
                                      std::atomic<int>* failures = nullptr) {
  std::mutex mu;
  std::set<uint64_t> seqs;
  std::vector<std::thread> ts;
  for (int t = 0; t < threads; ++t) {
    ts.emplace_back([&, t] {
      for (int i = 0; i < per_thread; ++i) {
        auto r = log.Append(SampleEvent("acme", t * 10000 + i));
        if (!r.ok()) {
          if (failures != nullptr) ++*failures;
          continue;
        }
        std::lock_guard<std::mutex> l(mu);
        EXPECT_TRUE(seqs.insert(*r).second) << "seq " << *r << " acknowledged twice";
      }
    });
  }
  for (auto& th : ts) th.join();
  return seqs;
}

TEST(AuditLogGroupCommitTest, ConcurrentCallersShareTransactions) {
  auto owned = std::make_unique<FlakyStore>();
  FlakyStore* store = owned.get();
  store->commit_sleep_us = 2000;
  auto log = AuditLog::Open(std::move(owned), TestSigner()).value();
  const std::set<uint64_t> seqs = AppendConcurrently(*log, 16, 25);
  ASSERT_EQ(seqs.size(), 400u);
  EXPECT_EQ(*seqs.rbegin(), 399u);  // dense: no sequence number skipped
  const AuditLogStats st = log->stats();
  EXPECT_EQ(st.events, 400u);
  EXPECT_LT(st.commits, 400u);  // callers waiting on a slow commit ride the next one together
  EXPECT_GT(store->max_rows.load(), 1u);
  PHIGATE_ASSERT_OK_AND_ASSIGN(VerifyResult v,
                               VerifyTrail(*store, TenantId("acme"), *TestVerifier()));
  EXPECT_EQ(v.events_checked, 400u);
}

TEST(AuditLogGroupCommitTest, MaxBatchBoundsOneTransaction) {
  auto owned = std::make_unique<FlakyStore>();
  FlakyStore* store = owned.get();
  store->commit_sleep_us = 1000;
  AuditLogOptions o;
  o.max_batch = 4;
  auto log = AuditLog::Open(std::move(owned), TestSigner(), o).value();
  EXPECT_EQ(AppendConcurrently(*log, 12, 10).size(), 120u);
  EXPECT_LE(store->max_rows.load(), 4u);
  PHIGATE_ASSERT_OK(VerifyTrail(*store, TenantId("acme"), *TestVerifier()).status());
}

TEST(AuditLogGroupCommitTest, FailedTransactionFailsEveryCallerInItAndNoOneElse) {
  auto owned = std::make_unique<FlakyStore>();
  FlakyStore* store = owned.get();
  store->commit_sleep_us = 500;
  auto log = AuditLog::Open(std::move(owned), TestSigner()).value();
  std::atomic<int> failures{0};
  // Flip the store to failing for a while in the middle of the burst.
  std::thread flipper([&] {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
    store->fail_commit = true;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
    store->fail_commit = false;
  });
  const std::set<uint64_t> seqs = AppendConcurrently(*log, 8, 60, &failures);
  flipper.join();
  EXPECT_EQ(seqs.size() + static_cast<size_t>(failures.load()), 480u);
  // Every acknowledged event is in the trail, densely numbered, and it verifies.
  PHIGATE_ASSERT_OK_AND_ASSIGN(VerifyResult v,
                               VerifyTrail(*store, TenantId("acme"), *TestVerifier()));
  EXPECT_EQ(v.events_checked, seqs.size());
  if (!seqs.empty()) {
    EXPECT_EQ(*seqs.rbegin() + 1, seqs.size());
  }
}

TEST(AuditLogGroupCommitTest, AsyncAndBlockingAppendsInterleave) {
  auto owned = std::make_unique<FlakyStore>();
  FlakyStore* store = owned.get();
  store->commit_sleep_us = 300;
  auto log = AuditLog::Open(std::move(owned), TestSigner()).value();
  std::vector<std::future<Result<uint64_t>>> futures;
  std::thread async_caller([&] {
    for (int i = 0; i < 100; ++i) futures.push_back(log->AppendAsync(SampleEvent("acme", i)));
  });
  std::set<uint64_t> seqs = AppendConcurrently(*log, 4, 25);
  async_caller.join();
  for (auto& f : futures) {
    PHIGATE_ASSERT_OK_AND_ASSIGN(uint64_t seq, f.get());
    EXPECT_TRUE(seqs.insert(seq).second);
  }
  EXPECT_EQ(seqs.size(), 200u);
  EXPECT_EQ(*seqs.rbegin(), 199u);
  PHIGATE_ASSERT_OK_AND_ASSIGN(VerifyResult v,
                               VerifyTrail(*store, TenantId("acme"), *TestVerifier()));
  EXPECT_EQ(v.events_checked, 200u);
}

TEST(AuditLogGroupCommitTest, ZeroCommitDelayStillBatchesUnderContention) {
  auto owned = std::make_unique<FlakyStore>();
  FlakyStore* store = owned.get();
  store->commit_sleep_us = 2000;
  AuditLogOptions o;
  o.max_commit_delay = std::chrono::microseconds(0);
  auto log = AuditLog::Open(std::move(owned), TestSigner(), o).value();
  EXPECT_EQ(AppendConcurrently(*log, 8, 20).size(), 160u);
  EXPECT_LT(log->stats().commits, 160u);
}

}  // namespace
}  // namespace phigate::audit
