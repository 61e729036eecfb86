// Versioned schema migrations parsed from a backend's schema.sql.
#ifndef PHIGATE_SRC_STORE_MIGRATIONS_H_
#define PHIGATE_SRC_STORE_MIGRATIONS_H_

#include <string>
#include <string_view>
#include <vector>

namespace phigate::store::internal {

struct Migration {
  int version = 0;
  std::string sql;
};

// Splits schema.sql at "-- phigate:migration N" lines. Versions must be 1, 2, 3...
std::vector<Migration> ParseMigrations(std::string_view schema_sql);

// Smallest successor of every string with this prefix ("" when none exists,
// i.e. the prefix is empty or all 0xFF bytes): keys with the prefix are in
// [prefix, successor).
std::string PrefixSuccessor(std::string_view prefix);

}  // namespace phigate::store::internal

#endif  // PHIGATE_SRC_STORE_MIGRATIONS_H_
