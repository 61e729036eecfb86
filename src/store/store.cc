#include "phigate/store/store.h"

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "src/store/memory/memory_store.h"
#include "src/store/migrations.h"
#include "src/store/postgres/pg_store.h"
#include "src/store/sqlite/sqlite_store.h"

namespace phigate::store {

Status ValidateKey(std::string_view what, std::string_view key) {
  if (key.empty() || key.size() > 512 || key.find('\0') != std::string_view::npos) {
    return absl::InvalidArgumentError(
        absl::StrCat(ToAbsl(what), " must be 1..512 bytes without NUL"));
  }
  return absl::OkStatus();
}

Result<std::unique_ptr<Store>> Store::Open(const StoreOptions& options) {
  const std::string& url = options.url;
  if (url == "memory:" || url == "memory://") return internal::NewMemoryStore();
  if (absl::StartsWith(url, "sqlite://")) {
    std::string path = url.substr(std::string_view("sqlite://").size());
    if (path.empty()) return absl::InvalidArgumentError("sqlite URL has no path");
    return internal::OpenSqliteStore(path, options);
  }
  if (absl::StartsWith(url, "postgres://") || absl::StartsWith(url, "postgresql://")) {
    return internal::OpenPgStore(options);
  }
  return absl::InvalidArgumentError(
      "unknown store URL scheme (use memory:, sqlite:///path or postgres://...)");
}

namespace internal {

std::vector<Migration> ParseMigrations(std::string_view sql) {
  std::vector<Migration> out;
  constexpr std::string_view kMarker = "-- phigate:migration ";
  size_t pos = 0;
  while ((pos = sql.find(kMarker, pos)) != std::string_view::npos) {
    const size_t num_begin = pos + kMarker.size();
    const size_t eol = sql.find('\n', num_begin);
    const std::string_view num = sql.substr(num_begin, eol - num_begin);
    Migration m;
    if (!absl::SimpleAtoi(ToAbsl(num), &m.version)) m.version = -1;
    const size_t body = eol == std::string_view::npos ? sql.size() : eol + 1;
    const size_t next = sql.find(kMarker, body);
    m.sql =
        std::string(sql.substr(body, (next == std::string_view::npos ? sql.size() : next) - body));
    out.push_back(std::move(m));
    pos = body;
  }
  return out;
}

std::string PrefixSuccessor(std::string_view prefix) {
  std::string s(prefix);
  while (!s.empty() && static_cast<unsigned char>(s.back()) == 0xff) s.pop_back();
  if (s.empty()) return s;
  s.back() = static_cast<char>(static_cast<unsigned char>(s.back()) + 1);
  return s;
}

}  // namespace internal
}  // namespace phigate::store
