// store::UseSqlitePageCacheWithoutIdleTruncation: the page cache over SQLite's
// default one must skip the commit-time truncations that can remove nothing
// (the whole-cache walk after a b-tree split renumbers a page through the
// lock-byte page) and must still hand on every truncation that can remove a
// page: a rolled-back transaction that grew the database leaves pages past its
// end in the cache, and reusing them would corrupt the file. Own test binary:
// the cache is process-wide and must be installed before SQLite starts.
#include <sqlite3.h>

#include <filesystem>
#include <random>
#include <string>

#include "gtest/gtest.h"
#include "phigate/store/sqlite_process.h"
#include "tests/store/sqlite_testing.h"
#include "tests/store/store_testing.h"

namespace phigate::store {
namespace {

namespace fs = std::filesystem;

using testing::Exec;

std::string Text(sqlite3* db, const std::string& sql) {
  sqlite3_stmt* st = nullptr;
  EXPECT_EQ(sqlite3_prepare_v2(db, sql.c_str(), -1, &st, nullptr), SQLITE_OK) << sql;
  std::string out;
  if (sqlite3_step(st) == SQLITE_ROW && sqlite3_column_text(st, 0) != nullptr) {
    out = reinterpret_cast<const char*>(sqlite3_column_text(st, 0));
  }
  sqlite3_finalize(st);
  return out;
}

sqlite3* Open(const std::string& path) {
  sqlite3* db = nullptr;
  EXPECT_EQ(sqlite3_open_v2(path.c_str(), &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, nullptr),
            SQLITE_OK);
  return db;
}

// Inserts `rows` rows with random keys (so index pages split in the middle and
// their new siblings get renumbered) in one transaction.
void InsertRandom(sqlite3* db, std::mt19937_64& rng, int rows, int value_bytes) {
  Exec(db, "BEGIN");
  sqlite3_stmt* st = nullptr;
  ASSERT_EQ(
      sqlite3_prepare_v2(db, "INSERT INTO t(k, v) VALUES(?1, randomblob(?2))", -1, &st, nullptr),
      SQLITE_OK);
  for (int i = 0; i < rows; ++i) {
    const std::string key = std::to_string(rng()) + std::to_string(rng());
    sqlite3_bind_text(st, 1, key.data(), static_cast<int>(key.size()), SQLITE_TRANSIENT);
    sqlite3_bind_int(st, 2, value_bytes);
    ASSERT_EQ(sqlite3_step(st), SQLITE_DONE);
    sqlite3_reset(st);
  }
  sqlite3_finalize(st);
}

TEST(SqlitePageCacheTest, SkipsIdleTruncationsAndKeepsTheOnesThatRemovePages) {
  ASSERT_TRUE(UseSqlitePageCacheWithoutIdleTruncation());
  ASSERT_TRUE(UseSqlitePageCacheWithoutIdleTruncation());  // idempotent

  const fs::path dir = fs::temp_directory_path() / testing::UniqueName("phigate_pcache");
  fs::create_directories(dir);
  const std::string path = (dir / "p.db").string();
  sqlite3* db = Open(path);
  Exec(db, "PRAGMA journal_mode=WAL");
  Exec(db, "PRAGMA cache_size=-65536");
  Exec(db, "CREATE TABLE t(k TEXT PRIMARY KEY, v BLOB) WITHOUT ROWID");
  Exec(db, "CREATE TABLE u(id INTEGER PRIMARY KEY, k TEXT UNIQUE)");

  // Many small random-key transactions, as the vault's mints: b-tree splits
  // renumber pages through the lock-byte page, and every commit truncates.
  std::mt19937_64 rng(20261201);
  const SqlitePageCacheStats before = SqlitePageCacheCounters();
  for (int tx = 0; tx < 300; ++tx) {
    InsertRandom(db, rng, 20, 300);
    Exec(db, "COMMIT");
  }
  const SqlitePageCacheStats grown = SqlitePageCacheCounters();
  EXPECT_GT(grown.lock_page_renumberings, before.lock_page_renumberings)
      << "no split renumbered a page: the case the cache is for did not occur";
  EXPECT_GE(grown.truncations_skipped - before.truncations_skipped, 250u);

  // A transaction that grows the file and is rolled back: its pages past the
  // old end are still cached and must be removed (the truncation is passed on).
  const std::string pages_before = Text(db, "PRAGMA page_count");
  InsertRandom(db, rng, 400, 3000);
  EXPECT_GT(std::stoll(Text(db, "PRAGMA page_count")), std::stoll(pages_before) + 100);
  Exec(db, "ROLLBACK");
  const SqlitePageCacheStats rolled = SqlitePageCacheCounters();
  EXPECT_GT(rolled.truncations_passed, grown.truncations_passed);
  EXPECT_EQ(Text(db, "PRAGMA page_count"), pages_before);

  // The same page numbers are used again with other content: a stale cached
  // page would show up as a corrupt b-tree or wrong rows.
  Exec(db, "BEGIN");
  Exec(db,
       "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 2000) "
       "INSERT INTO u(id, k) SELECT i, printf('key-%08d', i * 7919 % 2000) FROM n");
  Exec(db, "COMMIT");
  EXPECT_EQ(Text(db, "PRAGMA integrity_check"), "ok");
  EXPECT_EQ(Text(db, "SELECT count(*) FROM t"), "6000");
  EXPECT_EQ(Text(db, "SELECT count(DISTINCT k) FROM u"), "2000");
  sqlite3_close_v2(db);

  // A fresh connection (empty cache) reads the same file.
  db = Open(path);
  EXPECT_EQ(Text(db, "PRAGMA integrity_check"), "ok");
  EXPECT_EQ(Text(db, "SELECT count(*) FROM t"), "6000");
  EXPECT_EQ(Text(db, "SELECT sum(id) FROM u"), "2001000");
  sqlite3_close_v2(db);
  fs::remove_all(dir);
}

}  // namespace
}  // namespace phigate::store
