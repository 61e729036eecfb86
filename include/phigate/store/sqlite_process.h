// Process-wide SQLite settings and maintenance for long-running servers
// (`phigate serve`). The store module is the only one that talks to SQLite;
// the gateway reaches these through this header.
//
//   store::LimitSqliteMemory({.max_mmap_bytes = 16 << 20, .heap_limit_bytes = 64 << 20});
//   auto ckpt = store::WalCheckpointer::Start({"/var/lib/phigate.db"},
//   std::chrono::milliseconds(200));
#ifndef PHIGATE_STORE_SQLITE_PROCESS_H_
#define PHIGATE_STORE_SQLITE_PROCESS_H_

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace phigate::store {

struct SqliteMemoryLimits {
  // Cap of every connection's memory-mapped I/O (`PRAGMA mmap_size`); < 0 keeps
  // the stores' own sizes. Takes effect only before SQLite is first initialized.
  int64_t max_mmap_bytes = -1;
  // Soft limit shared by every page cache of the process; past it SQLite
  // recycles clean pages instead of growing. <= 0: no limit.
  int64_t heap_limit_bytes = 0;
};

// Applies `limits` process-wide. Best effort: a setting SQLite no longer
// accepts (already initialized) leaves the previous one in force.
void LimitSqliteMemory(const SqliteMemoryLimits& limits);

// Makes every SQLite connection the process opens from now on write each WAL
// frame (24-byte header + page) with one write call instead of two, through a
// VFS over the default one that becomes the default (src/store/sqlite/wal_vfs.cc).
// The bytes, their order and offsets in the file are unchanged; only the number
// of system calls drops. Idempotent; false if it could not be registered (the
// default VFS stays in use).
bool CoalesceSqliteWalFrames();

// Makes every SQLite connection the process opens use a page cache over the
// default one that skips end-of-transaction truncations which can remove
// nothing (src/store/sqlite/page_cache.cc: without it, a commit after a b-tree
// split walks the whole cache, ~200 µs at a 64 MiB cache). Must run before
// SQLite is initialized (before any connection, VFS registration or
// sqlite3_initialize); false if it was too late or failed (the default cache
// stays in use). Idempotent. LimitSqliteMemory(), CoalesceSqliteWalFrames() and
// OpenSqliteStore() call it first.
bool UseSqlitePageCacheWithoutIdleTruncation();

struct SqlitePageCacheStats {
  uint64_t truncations_passed = 0;      // handed to SQLite's cache
  uint64_t truncations_skipped = 0;     // no page at or past the limit: not handed on
  uint64_t lock_page_renumberings = 0;  // pages moved to the lock-byte number (b-tree swaps)
};
// Process-wide counts since start (zero when the cache is not installed).
SqlitePageCacheStats SqlitePageCacheCounters();

// "sqlite:///abs.db" / "sqlite://rel.db" -> the file path; "" for other URLs.
std::string SqliteFilePath(std::string_view url);

// Runs PASSIVE WAL checkpoints of the given database files every `interval`
// on its own thread, so that writers rarely reach their auto-checkpoint
// threshold on a request path. PASSIVE checkpoints take no lock a writer waits
// on; a failed checkpoint changes nothing (the data is in the WAL) and is
// retried on the next tick. Destruction stops and joins the thread.
class WalCheckpointer {
 public:
  static std::unique_ptr<WalCheckpointer> Start(std::vector<std::string> paths,
                                                std::chrono::milliseconds interval);
  virtual ~WalCheckpointer() = default;

 protected:
  WalCheckpointer() = default;
};

}  // namespace phigate::store

#endif  // PHIGATE_STORE_SQLITE_PROCESS_H_
