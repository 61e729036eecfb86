// AuditLog behaviour that does not depend on the backend: fail closed on a
// store failure, fsync-before-ack mode, one trail per tenant.
#include "phigate/audit/audit_log.h"

#include <atomic>

#include "gtest/gtest.h"
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
  Status Commit(const WriteBatch& b) override {
    if (fail_commit) return absl::UnavailableError("disk full (test)");
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

}  // namespace
}  // namespace phigate::audit
