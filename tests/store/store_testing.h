// Helpers for tests that run against every store backend: memory, SQLite and
// (when PHIGATE_TEST_PG_URL is set) PostgreSQL in a schema unique to the run.
// What they create (SQLite folders, PostgreSQL schemas) is removed when the
// test process exits. Tests that include this link libpq (PostgreSQL::PostgreSQL).
#ifndef PHIGATE_TESTS_STORE_STORE_TESTING_H_
#define PHIGATE_TESTS_STORE_STORE_TESTING_H_

#include <libpq-fe.h>
#include <unistd.h>

#include <atomic>
#include <cstdlib>
#include <filesystem>
#include <mutex>
#include <random>
#include <string>
#include <system_error>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "phigate/store/store.h"

namespace phigate::store::testing {

inline const char* PgUrl() {
  const char* u = std::getenv("PHIGATE_TEST_PG_URL");
  return (u != nullptr && *u != '\0') ? u : nullptr;
}

// A fresh, unique name for this process and call (schemas, files).
inline std::string UniqueName(std::string_view stem) {
  static std::atomic<int> counter{0};
  std::random_device rd;
  return absl::StrCat(ToAbsl(stem), "_", getpid(), "_", counter++, "_", rd() % 100000);
}

// The directories FreshStoreUrl made, removed when the test process exits
// (not by a forked child, which would pull them from under its parent).
class CreatedDirs {
 public:
  static CreatedDirs& Get() {
    static CreatedDirs dirs;
    return dirs;
  }
  void Add(std::filesystem::path dir) {
    std::lock_guard<std::mutex> lock(mu_);
    dirs_.push_back(std::move(dir));
  }
  ~CreatedDirs() {
    if (getpid() != owner_) return;
    for (const auto& dir : dirs_) {
      std::error_code ec;
      std::filesystem::remove_all(dir, ec);
    }
  }

 private:
  CreatedDirs() = default;
  const pid_t owner_ = getpid();
  std::mutex mu_;
  std::vector<std::filesystem::path> dirs_;
};

// The PostgreSQL schemas FreshStoreUrl named, dropped when the test process
// exits (not by a forked child), so a long-lived server does not collect one
// schema per test. A schema some connection still locks is left after 2 s
// rather than hanging the exit.
class CreatedSchemas {
 public:
  static CreatedSchemas& Get() {
    static CreatedSchemas schemas;
    return schemas;
  }
  void Add(std::string schema) {
    std::lock_guard<std::mutex> lock(mu_);
    schemas_.push_back(std::move(schema));
  }
  // Drops every schema added so far; the number dropped (0 without a server).
  int DropAll() {
    std::lock_guard<std::mutex> lock(mu_);
    const char* url = PgUrl();
    if (url == nullptr || schemas_.empty()) return 0;
    PGconn* c = PQconnectdb(url);
    int dropped = 0;
    if (PQstatus(c) == CONNECTION_OK) {
      PQclear(PQexec(c, "SET client_min_messages = warning; SET lock_timeout = '2s'"));
      for (const std::string& schema : schemas_) {
        // Names come from UniqueName(): letters, digits and '_' only.
        PGresult* r = PQexec(c, ("DROP SCHEMA IF EXISTS " + schema + " CASCADE").c_str());
        if (PQresultStatus(r) == PGRES_COMMAND_OK) ++dropped;
        PQclear(r);
      }
    }
    PQfinish(c);
    schemas_.clear();
    return dropped;
  }
  ~CreatedSchemas() {
    if (getpid() == owner_) DropAll();
  }

 private:
  CreatedSchemas() = default;
  const pid_t owner_ = getpid();
  std::mutex mu_;
  std::vector<std::string> schemas_;
};

// A URL for a fresh, empty store of `backend` ("memory", "sqlite", "postgres").
// Empty when the backend is not available here (PostgreSQL without the env var).
inline std::string FreshStoreUrl(std::string_view backend, std::string* sqlite_path = nullptr) {
  if (backend == "memory") return "memory:";
  if (backend == "sqlite") {
    auto dir = std::filesystem::temp_directory_path() / UniqueName("phigate_store");
    std::filesystem::create_directories(dir);
    CreatedDirs::Get().Add(dir);
    const std::string path = (dir / "store.db").string();
    if (sqlite_path != nullptr) *sqlite_path = path;
    return "sqlite://" + path;
  }
  const char* pg = PgUrl();
  if (pg == nullptr) return "";
  std::string url = pg;
  url += (url.find('?') == std::string::npos ? "?" : "&");
  const std::string schema = UniqueName("t");
  CreatedSchemas::Get().Add(schema);
  url += "phigate_schema=" + schema;
  return url;
}

}  // namespace phigate::store::testing

#endif  // PHIGATE_TESTS_STORE_STORE_TESTING_H_
