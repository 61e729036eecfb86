// Crash test: a child process appends in a burst from several threads and
// reports each acknowledged sequence number through a pipe; the parent kills
// it with SIGKILL mid-burst. After reopening, the trail verifies and every
// acknowledged event is present.
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <set>
#include <thread>

#include "gtest/gtest.h"
#include "phigate/audit/audit_log.h"
#include "tests/audit/test_util.h"
#include "tests/testing/status_matchers.h"

namespace phigate::audit {
namespace {

[[noreturn]] void Child(const std::string& url, const std::string& prefix, int fd) {
  AuditStoreOptions so;
  so.table_prefix = prefix;
  auto store = AuditLogStore::Open(url, so);
  if (!store.ok()) _exit(3);
  AuditLogOptions o;
  o.fsync_interval = std::chrono::seconds(10);  // kill -9 needs no fsync
  o.head_log_interval = 64;
  // Only the first commit signs: the kill leaves an unsigned tail, which the
  // next writer must continue and sign.
  o.sign_interval = std::chrono::hours(1);
  auto log = AuditLog::Open(std::move(store).value(), testing::TestSigner(), o);
  if (!log.ok()) _exit(4);
  std::vector<std::thread> threads;
  for (int t = 0; t < 8; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0;; ++i) {
        auto r = (*log)->Append(testing::SampleEvent("acme", t * 1000000 + i));
        if (!r.ok()) _exit(5);
        const uint64_t seq = *r;
        // 8 bytes < PIPE_BUF: each write is atomic.
        if (write(fd, &seq, sizeof(seq)) != sizeof(seq)) _exit(6);
      }
    });
  }
  for (auto& th : threads) th.join();
  _exit(0);
}

void RunCrash(const std::string& url, const std::string& prefix) {
  int fds[2];
  ASSERT_EQ(pipe(fds), 0);
  const pid_t pid = fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    close(fds[0]);
    Child(url, prefix, fds[1]);
  }
  close(fds[1]);
  std::set<uint64_t> acked;
  uint64_t seq;
  while (acked.size() < 3000 && read(fds[0], &seq, sizeof(seq)) == sizeof(seq)) acked.insert(seq);
  ASSERT_EQ(kill(pid, SIGKILL), 0);
  while (read(fds[0], &seq, sizeof(seq)) == sizeof(seq)) acked.insert(seq);  // drain to EOF
  close(fds[0]);
  int status = 0;
  ASSERT_EQ(waitpid(pid, &status, 0), pid);
  ASSERT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL)
      << "child exited early: " << status;
  ASSERT_GE(acked.size(), 3000u);

  AuditStoreOptions so;
  so.table_prefix = prefix;
  auto store = AuditLogStore::Open(url, so).value();
  PHIGATE_ASSERT_OK_AND_ASSIGN(VerifyResult v,
                               VerifyTrail(*store, TenantId("acme"), *testing::TestVerifier()));
  EXPECT_GE(v.tree_size, *acked.rbegin() + 1);
  EXPECT_GT(v.unsigned_events, 0u);
  EXPECT_EQ(v.signed_size + v.unsigned_events, v.tree_size);
  std::set<uint64_t> present;
  PHIGATE_ASSERT_OK(store->Scan(TenantId("acme"), {}, [&](const RecordView& r) {
    present.insert(r.seq);
    return absl::OkStatus();
  }));
  for (uint64_t a : acked) ASSERT_TRUE(present.count(a)) << "acknowledged event " << a << " lost";
  // And the trail can be extended after the crash.
  auto log = AuditLog::Open(std::move(store), testing::TestSigner()).value();
  PHIGATE_ASSERT_OK_AND_ASSIGN(uint64_t next, log->Append(testing::SampleEvent("acme", 1)));
  EXPECT_EQ(next, v.tree_size);
  // The reloaded tenant's first commit signs a head over the old tail too.
  PHIGATE_ASSERT_OK_AND_ASSIGN(SignedTreeHead head, log->LatestHead(TenantId("acme")));
  EXPECT_EQ(head.tree_size, next + 1);
  PHIGATE_ASSERT_OK_AND_ASSIGN(
      VerifyResult after, VerifyTrail(log->store(), TenantId("acme"), *testing::TestVerifier()));
  EXPECT_EQ(after.unsigned_events, 0u);
  EXPECT_EQ(after.events_checked, next + 1);
}

TEST(AuditCrashTest, KillDuringBurstLosesNoAcknowledgedEventSqlite) {
  testing::TempDir dir;
  RunCrash("sqlite://" + dir.file("audit.db"), "audit_");
}

TEST(AuditCrashTest, KillDuringBurstLosesNoAcknowledgedEventPostgres) {
  if (testing::PgUrl() == nullptr) GTEST_SKIP() << "PHIGATE_TEST_PG_URL not set";
  const std::string prefix = testing::UniquePrefix();
  RunCrash(testing::PgUrl(), prefix);
  testing::DropPgTables(prefix);
}

}  // namespace
}  // namespace phigate::audit
