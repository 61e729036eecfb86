// Migrations 3 (rowid table + unique key index) and 4 ((tenant, ns) as integer
// spaces) of the SQLite store: databases written by hand at schema versions 2
// and 3 open at the newest version, keep every record, and behave as before.
// Values are synthetic.
#include <sqlite3.h>

#include <string>

#include "gtest/gtest.h"
#include "phigate/store/store.h"
#include "tests/store/store_testing.h"
#include "tests/testing/status_matchers.h"

namespace phigate::store {
namespace {

void Exec(sqlite3* db, const char* sql) {
  char* err = nullptr;
  ASSERT_EQ(sqlite3_exec(db, sql, nullptr, nullptr, &err), SQLITE_OK) << (err ? err : "");
}

// The layout of migrations 1 and 2, with a few records.
void WriteVersion2(const std::string& path) {
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open(path.c_str(), &db), SQLITE_OK);
  Exec(db,
       "CREATE TABLE phigate_schema_migrations(version INTEGER PRIMARY KEY, applied_at INTEGER "
       "NOT NULL);"
       "CREATE TABLE phigate_records (tenant TEXT NOT NULL, ns TEXT NOT NULL, key TEXT NOT NULL, "
       "value BLOB NOT NULL, ts INTEGER NOT NULL, PRIMARY KEY (tenant, ns, key)) WITHOUT ROWID;"
       "CREATE INDEX phigate_records_by_ts ON phigate_records (tenant, ns, ts);"
       "INSERT INTO phigate_schema_migrations VALUES (1, 0), (2, 0);"
       "INSERT INTO phigate_records VALUES ('tenant-a', 'ns', 'k2', x'0001ff', 20),"
       "  ('tenant-a', 'ns', 'k1', x'76', 10), ('tenant-b', 'ns', 'k1', x'77', 30),"
       "  ('tenant-a', 'other', 'k9', x'', 5);");
  sqlite3_close(db);
}

// The layout of migration 3 (rowid table), with the same records as above
// and, like a real vault, rows that are not in key order.
void WriteVersion3(const std::string& path) {
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open(path.c_str(), &db), SQLITE_OK);
  Exec(db,
       "CREATE TABLE phigate_schema_migrations(version INTEGER PRIMARY KEY, applied_at INTEGER "
       "NOT NULL);"
       "CREATE TABLE phigate_records (id INTEGER PRIMARY KEY, tenant TEXT NOT NULL, ns TEXT NOT "
       "NULL, key TEXT NOT NULL, value BLOB NOT NULL, ts INTEGER NOT NULL);"
       "CREATE UNIQUE INDEX phigate_records_key ON phigate_records (tenant, ns, key);"
       "CREATE INDEX phigate_records_by_ts ON phigate_records (tenant, ns, ts);"
       "INSERT INTO phigate_schema_migrations VALUES (1, 0), (2, 0), (3, 0);"
       "INSERT INTO phigate_records (tenant, ns, key, value, ts) VALUES "
       "  ('tenant-a', 'ns', 'k2', x'0001ff', 20), ('tenant-b', 'ns', 'k1', x'77', 30),"
       "  ('tenant-a', 'ns', 'k1', x'76', 10), ('tenant-a', 'other', 'k9', x'', 5);");
  sqlite3_close(db);
}

// Opens the migrated store at `url` and checks the records of WriteVersion2/3.
void ExpectMigratedRecords(const std::string& url) {
  PHIGATE_ASSERT_OK_AND_ASSIGN(auto store, Store::Open({.url = url}));
  PHIGATE_ASSERT_OK_AND_ASSIGN(int version, store->SchemaVersion());
  EXPECT_EQ(version, 4);
  PHIGATE_ASSERT_OK_AND_ASSIGN(auto a, store->ForTenant(TenantId("tenant-a")));
  PHIGATE_ASSERT_OK_AND_ASSIGN(auto b, store->ForTenant(TenantId("tenant-b")));
  PHIGATE_ASSERT_OK(a->RunInTransaction([&](Transaction& tx) -> Status {
    PHIGATE_ASSIGN_OR_RETURN(auto page, tx.Scan("ns", "", {}));
    EXPECT_EQ(page.size(), 2u);
    if (page.size() == 2) {
      EXPECT_EQ(page[0], (Record{"k1", "v", 10}));
      EXPECT_EQ(page[1], (Record{"k2", std::string("\0\x01\xff", 3), 20}));
    }
    PHIGATE_ASSIGN_OR_RETURN(auto empty, tx.Get("other", "k9"));
    EXPECT_EQ(empty.value_or(Record{"", "missing", 0}), (Record{"k9", "", 5}));
    // The unique key still decides.
    PHIGATE_ASSIGN_OR_RETURN(bool inserted, tx.PutIfAbsent("ns", "k1", "x", 99));
    EXPECT_FALSE(inserted);
    PHIGATE_RETURN_IF_ERROR(tx.Put("ns", "k1", "new", 40));
    PHIGATE_ASSIGN_OR_RETURN(int64_t gone, tx.DeleteOlderThan("ns", 25));
    EXPECT_EQ(gone, 1);  // k2 (ts 20); k1 was rewritten at ts 40
    PHIGATE_ASSIGN_OR_RETURN(auto k1, tx.Get("ns", "k1"));
    EXPECT_EQ(k1.value_or(Record{}), (Record{"k1", "new", 40}));
    return absl::OkStatus();
  }));
  PHIGATE_ASSERT_OK(b->RunInTransaction([&](Transaction& tx) -> Status {
    PHIGATE_ASSIGN_OR_RETURN(auto k1, tx.Get("ns", "k1"));
    EXPECT_EQ(k1.value_or(Record{}), (Record{"k1", "w", 30}));
    return absl::OkStatus();
  }));
  PHIGATE_ASSERT_OK_AND_ASSIGN(auto tenants, store->ListTenants());
  ASSERT_EQ(tenants.size(), 2u);
  EXPECT_EQ(tenants[0].value(), "tenant-a");
  EXPECT_EQ(tenants[1].value(), "tenant-b");
  // A namespace that did not exist before the migration works too, per tenant.
  PHIGATE_ASSERT_OK(b->RunInTransaction([&](Transaction& tx) -> Status {
    PHIGATE_ASSIGN_OR_RETURN(bool inserted, tx.PutIfAbsent("fresh", "k1", "b1", 50));
    EXPECT_TRUE(inserted);
    PHIGATE_ASSIGN_OR_RETURN(auto other, tx.Get("other", "k9"));
    EXPECT_FALSE(other.has_value());  // tenant-a's namespace, not tenant-b's
    return absl::OkStatus();
  }));
  PHIGATE_ASSERT_OK(a->RunInTransaction([&](Transaction& tx) -> Status {
    PHIGATE_ASSIGN_OR_RETURN(auto fresh, tx.Get("fresh", "k1"));
    EXPECT_FALSE(fresh.has_value());
    return absl::OkStatus();
  }));
}

TEST(SqliteMigrationTest, Version2DatabaseMigratesAndKeepsRecords) {
  std::string path;
  const std::string url = testing::FreshStoreUrl("sqlite", &path);
  WriteVersion2(path);
  ExpectMigratedRecords(url);
}

TEST(SqliteMigrationTest, Version3DatabaseMigratesAndKeepsRecords) {
  std::string path;
  const std::string url = testing::FreshStoreUrl("sqlite", &path);
  WriteVersion3(path);
  ExpectMigratedRecords(url);
  // Reopened: still version 4 with the records written after the migration.
  PHIGATE_ASSERT_OK_AND_ASSIGN(auto store, Store::Open({.url = url}));
  PHIGATE_ASSERT_OK_AND_ASSIGN(int version, store->SchemaVersion());
  EXPECT_EQ(version, 4);
  PHIGATE_ASSERT_OK_AND_ASSIGN(auto b, store->ForTenant(TenantId("tenant-b")));
  PHIGATE_ASSERT_OK(b->RunInTransaction([&](Transaction& tx) -> Status {
    PHIGATE_ASSIGN_OR_RETURN(auto fresh, tx.Get("fresh", "k1"));
    EXPECT_EQ(fresh.value_or(Record{}), (Record{"k1", "b1", 50}));
    return absl::OkStatus();
  }));
}

// A space created in a transaction that rolled back is gone from the database;
// the connection must not keep using its id (it could later name another pair).
TEST(SqliteMigrationTest, SpaceCreatedInRolledBackTransactionIsForgotten) {
  const std::string url = testing::FreshStoreUrl("sqlite");
  PHIGATE_ASSERT_OK_AND_ASSIGN(auto store, Store::Open({.url = url}));
  PHIGATE_ASSERT_OK_AND_ASSIGN(auto a, store->ForTenant(TenantId("tenant-a")));
  PHIGATE_ASSERT_OK_AND_ASSIGN(auto b, store->ForTenant(TenantId("tenant-b")));
  const Status rolled_back = a->RunInTransaction([&](Transaction& tx) -> Status {
    PHIGATE_RETURN_IF_ERROR(tx.Put("ns", "k", "a", 1));
    return absl::CancelledError("roll back");
  });
  EXPECT_EQ(rolled_back.code(), absl::StatusCode::kCancelled);
  // tenant-b now takes the first space id; tenant-a's rolled-back id must not alias it.
  PHIGATE_ASSERT_OK(
      b->RunInTransaction([&](Transaction& tx) -> Status { return tx.Put("ns", "k", "b", 2); }));
  PHIGATE_ASSERT_OK(a->RunInTransaction([&](Transaction& tx) -> Status {
    PHIGATE_ASSIGN_OR_RETURN(auto got, tx.Get("ns", "k"));
    EXPECT_FALSE(got.has_value());
    PHIGATE_RETURN_IF_ERROR(tx.Put("ns", "k", "a", 3));
    return absl::OkStatus();
  }));
  PHIGATE_ASSERT_OK(b->RunInTransaction([&](Transaction& tx) -> Status {
    PHIGATE_ASSIGN_OR_RETURN(auto got, tx.Get("ns", "k"));
    EXPECT_EQ(got.value_or(Record{}), (Record{"k", "b", 2}));
    return absl::OkStatus();
  }));
  PHIGATE_ASSERT_OK_AND_ASSIGN(auto tenants, store->ListTenants());
  EXPECT_EQ(tenants.size(), 2u);
}

TEST(SqlitePageSizeTest, NewDatabaseGetsTheConfiguredPageSize) {
  std::string path;
  const std::string url = testing::FreshStoreUrl("sqlite", &path);
  {
    PHIGATE_ASSERT_OK_AND_ASSIGN(auto store, Store::Open({.url = url, .sqlite_page_size = 16384}));
    PHIGATE_ASSERT_OK_AND_ASSIGN(auto a, store->ForTenant(TenantId("tenant-a")));
    PHIGATE_ASSERT_OK(
        a->RunInTransaction([&](Transaction& tx) { return tx.Put("ns", "k", "v", 1); }));
  }
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open(path.c_str(), &db), SQLITE_OK);
  sqlite3_stmt* s = nullptr;
  ASSERT_EQ(sqlite3_prepare_v2(db, "PRAGMA page_size", -1, &s, nullptr), SQLITE_OK);
  ASSERT_EQ(sqlite3_step(s), SQLITE_ROW);
  EXPECT_EQ(sqlite3_column_int(s, 0), 16384);
  sqlite3_finalize(s);
  sqlite3_close(db);
  // An existing file keeps its page size and its records.
  PHIGATE_ASSERT_OK_AND_ASSIGN(auto store, Store::Open({.url = url, .sqlite_page_size = 4096}));
  PHIGATE_ASSERT_OK_AND_ASSIGN(auto a, store->ForTenant(TenantId("tenant-a")));
  PHIGATE_ASSERT_OK(a->RunInTransaction([&](Transaction& tx) -> Status {
    PHIGATE_ASSIGN_OR_RETURN(auto got, tx.Get("ns", "k"));
    EXPECT_EQ(got.value_or(Record{}), (Record{"k", "v", 1}));
    return absl::OkStatus();
  }));
}

TEST(SqlitePageSizeTest, BadPageSizeIsInvalidArgument) {
  const std::string url = testing::FreshStoreUrl("sqlite");
  EXPECT_EQ(Store::Open({.url = url, .sqlite_page_size = 5000}).status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(Store::Open({.url = url, .sqlite_page_size = 131072}).status().code(),
            absl::StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace phigate::store
