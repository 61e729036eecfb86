// The process-level SQLite helpers `phigate serve` uses: URL -> file path, and
// the background checkpointer that copies committed WAL pages back into the
// database file off the request path. Values are synthetic.
#include "phigate/store/sqlite_process.h"

#include <chrono>
#include <filesystem>
#include <string>
#include <thread>

#include "gtest/gtest.h"
#include "phigate/store/store.h"
#include "tests/store/store_testing.h"
#include "tests/testing/status_matchers.h"

namespace phigate::store {
namespace {

TEST(SqliteFilePathTest, OnlySqliteUrlsNameAFile) {
  EXPECT_EQ(SqliteFilePath("sqlite:///var/lib/p.db"), "/var/lib/p.db");
  EXPECT_EQ(SqliteFilePath("sqlite://rel/p.db"), "rel/p.db");
  EXPECT_EQ(SqliteFilePath("postgres://u@h/db"), "");
  EXPECT_EQ(SqliteFilePath("memory:"), "");
  EXPECT_EQ(SqliteFilePath("sqlite:"), "");
}

TEST(WalCheckpointerTest, CopiesCommittedPagesBackIntoTheDatabaseFile) {
  std::string path;
  const std::string url = testing::FreshStoreUrl("sqlite", &path);
  PHIGATE_ASSERT_OK_AND_ASSIGN(auto store, Store::Open({.url = url}));
  PHIGATE_ASSERT_OK_AND_ASSIGN(auto t, store->ForTenant(TenantId("tenant-a")));
  const auto before = std::filesystem::file_size(path);
  // ~2 MB of rows: far below the auto-checkpoint size, so they stay in the WAL.
  PHIGATE_ASSERT_OK(t->RunInTransaction([&](Transaction& tx) -> Status {
    const std::string value(1000, 'v');
    for (int i = 0; i < 2000; ++i) {
      PHIGATE_RETURN_IF_ERROR(tx.Put("ns", "key-" + std::to_string(i), value, i));
    }
    return absl::OkStatus();
  }));
  ASSERT_EQ(std::filesystem::file_size(path), before) << "rows went to the WAL, not the file";

  auto ckpt = WalCheckpointer::Start({path}, std::chrono::milliseconds(5));
  // Poll (no timing assertion): the checkpointer must copy the pages back.
  auto size = before;
  for (int i = 0; i < 2000 && size <= before + 1000000; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
    size = std::filesystem::file_size(path);
  }
  EXPECT_GT(size, before + 1000000);
  ckpt.reset();  // stops and joins

  // The records are intact and readable after the checkpoints.
  PHIGATE_ASSERT_OK(t->RunInTransaction([&](Transaction& tx) -> Status {
    PHIGATE_ASSIGN_OR_RETURN(auto v, tx.Get("ns", "key-1999"));
    EXPECT_TRUE(v.has_value());
    return absl::OkStatus();
  }));
}

TEST(WalCheckpointerTest, MissingFileIsRetriedNotFatal) {
  auto ckpt = WalCheckpointer::Start({"/nonexistent-dir/phigate.db"}, std::chrono::milliseconds(1));
  std::this_thread::sleep_for(std::chrono::milliseconds(20));
  ckpt.reset();
  EXPECT_FALSE(std::filesystem::exists("/nonexistent-dir/phigate.db"));
}

}  // namespace
}  // namespace phigate::store
