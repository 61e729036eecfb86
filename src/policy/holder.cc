// Live reload: an atomic swap of shared_ptr<const Policy> under a mutex; readers
// copy the pointer and keep using their policy for the whole request.
#include "phigate/policy/holder.h"

#include <sys/stat.h>

#include <csignal>
#include <set>

#include "absl/strings/str_cat.h"

namespace phigate::policy {
namespace {

// Bumped by the SIGHUP handler; watchers compare it with the value they last saw.
std::atomic<uint64_t> g_sighup_count{0};
static_assert(std::atomic<uint64_t>::is_always_lock_free, "used from a signal handler");

extern "C" void PhigatePolicySighup(int /*sig*/) {
  g_sighup_count.fetch_add(1, std::memory_order_relaxed);
}

}  // namespace

struct FileStamp {
  bool ok = false;
  int64_t mtime_ns = 0;
  int64_t size = 0;
  uint64_t inode = 0;
  friend bool operator==(const FileStamp&, const FileStamp&) = default;
};

static FileStamp Stamp(const std::string& path) {
  struct stat st {};
  FileStamp s;
  if (::stat(path.c_str(), &st) != 0) return s;
  s.ok = true;
  s.mtime_ns = static_cast<int64_t>(st.st_mtim.tv_sec) * 1000000000 + st.st_mtim.tv_nsec;
  s.size = static_cast<int64_t>(st.st_size);
  s.inode = static_cast<uint64_t>(st.st_ino);
  return s;
}

Result<std::unique_ptr<PolicyHolder>> PolicyHolder::Create(std::string path, LoadOptions options) {
  PHIGATE_ASSIGN_OR_RETURN(std::shared_ptr<const Policy> p, Policy::LoadFile(path, options));
  return std::make_unique<PolicyHolder>(std::move(path), std::move(options), std::move(p));
}

PolicyHolder::PolicyHolder(std::string path, LoadOptions options,
                           std::shared_ptr<const Policy> initial)
    : path_(std::move(path)), options_(std::move(options)), current_(std::move(initial)) {
  generation_.store(1, std::memory_order_release);
}

std::shared_ptr<const Policy> PolicyHolder::Current() const {
  std::lock_guard<std::mutex> lock(mu_);
  return current_;
}

Status PolicyHolder::Reload() {
  std::lock_guard<std::mutex> reload_lock(reload_mu_);
  LoadOptions opts = options_;
  opts.lint.now = absl::Now();
  Result<std::shared_ptr<const Policy>> next = Policy::LoadFile(path_, opts);
  std::shared_ptr<const Policy> old;  // released outside the lock
  std::lock_guard<std::mutex> lock(mu_);
  if (!next.ok()) {
    last_error_ = next.status();
    return next.status();
  }
  old = std::move(current_);
  current_ = *std::move(next);
  last_error_ = absl::OkStatus();
  generation_.fetch_add(1, std::memory_order_acq_rel);
  return absl::OkStatus();
}

Status PolicyHolder::last_error() const {
  std::lock_guard<std::mutex> lock(mu_);
  return last_error_;
}

PolicyWatcher::PolicyWatcher(PolicyHolder& holder, WatchOptions options)
    : holder_(holder), options_(std::move(options)) {}

Result<std::unique_ptr<PolicyWatcher>> PolicyWatcher::Start(PolicyHolder& holder,
                                                            WatchOptions options) {
  if (options.poll_interval.count() <= 0) {
    return absl::InvalidArgumentError("poll_interval must be positive");
  }
  std::unique_ptr<PolicyWatcher> w(new PolicyWatcher(holder, std::move(options)));
  // Stamp the file now, not on the thread: a change made right after Start()
  // returns must be seen as a change.
  const FileStamp initial = Stamp(holder.path());
  w->thread_ = std::thread([p = w.get(), initial] { p->Run(initial); });
  return w;
}

PolicyWatcher::~PolicyWatcher() { Stop(); }

void PolicyWatcher::Stop() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stop_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
}

void PolicyWatcher::RequestReload() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    requested_ = true;
  }
  cv_.notify_all();
}

void PolicyWatcher::InstallSighupHandler() {
  struct sigaction sa {};
  sa.sa_handler = &PhigatePolicySighup;
  sigemptyset(&sa.sa_mask);
  sa.sa_flags = SA_RESTART;
  ::sigaction(SIGHUP, &sa, nullptr);
}

void PolicyWatcher::Run(const FileStamp& initial) {
  FileStamp last = initial;
  uint64_t seen_hup = g_sighup_count.load(std::memory_order_relaxed);
  std::unique_lock<std::mutex> lock(mu_);
  while (!stop_) {
    cv_.wait_for(lock, options_.poll_interval, [this] { return stop_ || requested_; });
    if (stop_) break;
    const bool requested = requested_;
    requested_ = false;
    lock.unlock();
    const FileStamp now = Stamp(holder_.path());
    const uint64_t hup = g_sighup_count.load(std::memory_order_relaxed);
    const bool changed = now.ok && !(now == last);
    if (requested || hup != seen_hup || changed) {
      seen_hup = hup;
      last = now;
      const Status s = holder_.Reload();
      attempts_.fetch_add(1, std::memory_order_acq_rel);
      if (options_.on_reload) options_.on_reload(s, holder_.generation());
    }
    lock.lock();
  }
}

}  // namespace phigate::policy
