// Helpers for tests that talk to SQLite directly (they link SQLite::SQLite3).
#ifndef PHIGATE_TESTS_STORE_SQLITE_TESTING_H_
#define PHIGATE_TESTS_STORE_SQLITE_TESTING_H_

#include <sqlite3.h>

#include <string>

#include "gtest/gtest.h"

namespace phigate::store::testing {

// Runs `sql` on `db`; a failure fails the calling test with SQLite's message.
inline void Exec(sqlite3* db, const std::string& sql) {
  char* err = nullptr;
  const int rc = sqlite3_exec(db, sql.c_str(), nullptr, nullptr, &err);
  ASSERT_EQ(rc, SQLITE_OK) << sql << ": " << (err ? err : "");
  sqlite3_free(err);
}

}  // namespace phigate::store::testing

#endif  // PHIGATE_TESTS_STORE_SQLITE_TESTING_H_
