#include "phigate/store/sqlite_process.h"

#include <sqlite3.h>

#include <condition_variable>
#include <mutex>
#include <thread>

namespace phigate::store {
namespace {

class ThreadCheckpointer final : public WalCheckpointer {
 public:
  ThreadCheckpointer(std::vector<std::string> paths, std::chrono::milliseconds interval)
      : paths_(std::move(paths)), interval_(interval) {
    thread_ = std::thread([this] { Loop(); });
  }
  ~ThreadCheckpointer() override {
    {
      std::lock_guard<std::mutex> lock(mu_);
      stop_ = true;
    }
    cv_.notify_all();
    thread_.join();
  }
  ThreadCheckpointer(const ThreadCheckpointer&) = delete;
  ThreadCheckpointer& operator=(const ThreadCheckpointer&) = delete;

 private:
  void Loop() {
    std::vector<sqlite3*> dbs(paths_.size(), nullptr);
    opened_.assign(paths_.size(), false);
    std::unique_lock<std::mutex> lock(mu_);
    while (!cv_.wait_for(lock, interval_, [this] { return stop_; })) {
      lock.unlock();
      for (size_t i = 0; i < paths_.size(); ++i) {
        if (dbs[i] == nullptr &&
            sqlite3_open_v2(paths_[i].c_str(), &dbs[i], SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX,
                            nullptr) != SQLITE_OK) {
          sqlite3_close_v2(dbs[i]);
          dbs[i] = nullptr;
          continue;
        }
        if (!opened_[i]) {
          // A fresh connection learns that the file is in WAL mode only when
          // it first reads it; until then a checkpoint is a no-op (log -1).
          if (sqlite3_exec(dbs[i], "SELECT count(*) FROM sqlite_master", nullptr, nullptr,
                           nullptr) != SQLITE_OK) {
            continue;
          }
          opened_[i] = true;
        }
        // Errors (SQLITE_BUSY while another checkpoint runs) are retried next tick.
        (void)sqlite3_wal_checkpoint_v2(dbs[i], nullptr, SQLITE_CHECKPOINT_PASSIVE, nullptr,
                                        nullptr);
      }
      lock.lock();
    }
    for (sqlite3* db : dbs) sqlite3_close_v2(db);
  }

  const std::vector<std::string> paths_;
  const std::chrono::milliseconds interval_;
  std::mutex mu_;
  std::condition_variable cv_;
  bool stop_ = false;         // guarded by mu_
  std::vector<bool> opened_;  // the checkpoint thread's own
  std::thread thread_;
};

}  // namespace

void LimitSqliteMemory(const SqliteMemoryLimits& limits) {
  // The heap limit below starts SQLite; the page cache can only be set before.
  (void)UseSqlitePageCacheWithoutIdleTruncation();
  if (limits.max_mmap_bytes >= 0) {
    (void)sqlite3_config(SQLITE_CONFIG_MMAP_SIZE, sqlite3_int64{0},
                         sqlite3_int64{limits.max_mmap_bytes});
  }
  if (limits.heap_limit_bytes > 0) sqlite3_soft_heap_limit64(limits.heap_limit_bytes);
}

std::string SqliteFilePath(std::string_view url) {
  constexpr std::string_view kPrefix = "sqlite://";
  if (url.substr(0, kPrefix.size()) != kPrefix) return "";
  return std::string(url.substr(kPrefix.size()));
}

std::unique_ptr<WalCheckpointer> WalCheckpointer::Start(std::vector<std::string> paths,
                                                        std::chrono::milliseconds interval) {
  return std::make_unique<ThreadCheckpointer>(std::move(paths), interval);
}

}  // namespace phigate::store
