// store::CoalesceSqliteWalFrames: the WAL a connection writes through the
// coalescing VFS must be byte-for-byte a WAL plain SQLite accepts — readers on
// the default "unix" VFS see every commit while the writer is open, and a copy
// of the files taken without a checkpoint (as after a crash) recovers every
// committed row and none of the rolled-back ones (recovery checks each frame's
// checksum chain). Own test binary: the VFS becomes the process default.
#include <sqlite3.h>

#include <cstring>
#include <filesystem>
#include <string>

#include "gtest/gtest.h"
#include "phigate/store/sqlite_process.h"
#include "tests/store/sqlite_testing.h"
#include "tests/store/store_testing.h"

namespace phigate::store {
namespace {

namespace fs = std::filesystem;

using testing::Exec;

int64_t Count(sqlite3* db, const std::string& where = "1") {
  sqlite3_stmt* st = nullptr;
  EXPECT_EQ(
      sqlite3_prepare_v2(db, ("SELECT count(*) FROM t WHERE " + where).c_str(), -1, &st, nullptr),
      SQLITE_OK);
  int64_t n = -1;
  if (sqlite3_step(st) == SQLITE_ROW) n = sqlite3_column_int64(st, 0);
  sqlite3_finalize(st);
  return n;
}

sqlite3* Open(const std::string& path, const char* vfs) {
  sqlite3* db = nullptr;
  EXPECT_EQ(sqlite3_open_v2(path.c_str(), &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, vfs),
            SQLITE_OK);
  sqlite3_busy_timeout(db, 5000);
  return db;
}

class WalVfsTest : public ::testing::TestWithParam<const char*> {};

TEST_P(WalVfsTest, WritesAWalPlainSqliteReadsAndRecovers) {
  ASSERT_TRUE(CoalesceSqliteWalFrames());
  ASSERT_TRUE(CoalesceSqliteWalFrames());  // idempotent
  ASSERT_STREQ(sqlite3_vfs_find(nullptr)->zName, "phigate-wal-frames");

  const fs::path dir = fs::temp_directory_path() / testing::UniqueName("phigate_walvfs");
  fs::create_directories(dir);
  const std::string path = (dir / "w.db").string();
  sqlite3* w = Open(path, nullptr);  // the default: the coalescing VFS
  Exec(w, "PRAGMA journal_mode=WAL");
  Exec(w, std::string("PRAGMA synchronous=") + GetParam());
  Exec(w, "PRAGMA wal_autocheckpoint=0");  // everything stays in the WAL
  Exec(w, "PRAGMA cache_size=8");          // big transactions spill frames early
  Exec(w, "CREATE TABLE t (id INTEGER PRIMARY KEY, kind TEXT, v BLOB)");
  sqlite3* r = Open(path, "unix");  // plain SQLite, same process

  int64_t committed = 0;
  for (int i = 0; i < 300; ++i) {
    // Rows of 10 B to 9 KB (overflow pages), one transaction each.
    Exec(w,
         "INSERT INTO t (kind, v) VALUES ('c', randomblob(" + std::to_string(10 + i * 30) + "))");
    ++committed;
    if (i % 50 == 0) {
      ASSERT_EQ(Count(r), committed) << "a commit is visible before its frames are written";
    }
    if (i % 60 == 7) {
      // A transaction larger than the page cache (frames written before the
      // commit), rolled back; then a commit from the plain connection.
      Exec(w, "BEGIN");
      for (int j = 0; j < 40; ++j)
        Exec(w, "INSERT INTO t (kind, v) VALUES ('x', randomblob(4000))");
      Exec(w, "ROLLBACK");
      Exec(r, "INSERT INTO t (kind, v) VALUES ('c', randomblob(100))");
      ++committed;
    }
    if (i % 70 == 3) {
      // A savepoint rolled back inside a committed transaction.
      Exec(w, "BEGIN");
      Exec(w, "INSERT INTO t (kind, v) VALUES ('c', randomblob(3000))");
      Exec(w, "SAVEPOINT s");
      for (int j = 0; j < 30; ++j)
        Exec(w, "INSERT INTO t (kind, v) VALUES ('x', randomblob(3000))");
      Exec(w, "ROLLBACK TO s");
      Exec(w, "INSERT INTO t (kind, v) VALUES ('c', randomblob(50))");
      Exec(w, "COMMIT");
      committed += 2;
    }
  }
  EXPECT_EQ(Count(r), committed);
  EXPECT_EQ(Count(w), committed);
  ASSERT_GT(fs::file_size(path + "-wal"), size_t{1} << 20);

  // Copy the files while both connections are open (no checkpoint, as after
  // a crash) and recover the copy with plain SQLite.
  const std::string copy = (dir / "copy.db").string();
  fs::copy_file(path, copy);
  fs::copy_file(path + "-wal", copy + "-wal");
  sqlite3* c = Open(copy, "unix");
  EXPECT_EQ(Count(c), committed);
  EXPECT_EQ(Count(c, "kind = 'x'"), 0);
  sqlite3_stmt* st = nullptr;
  ASSERT_EQ(sqlite3_prepare_v2(c, "PRAGMA integrity_check", -1, &st, nullptr), SQLITE_OK);
  ASSERT_EQ(sqlite3_step(st), SQLITE_ROW);
  EXPECT_STREQ(reinterpret_cast<const char*>(sqlite3_column_text(st, 0)), "ok");
  sqlite3_finalize(st);
  sqlite3_close(c);

  sqlite3_close(r);
  sqlite3_close(w);
  fs::remove_all(dir);
}

INSTANTIATE_TEST_SUITE_P(Synchronous, WalVfsTest, ::testing::Values("NORMAL", "FULL"));

}  // namespace
}  // namespace phigate::store
