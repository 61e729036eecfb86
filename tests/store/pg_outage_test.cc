// PostgreSQL outages: an unreachable server and a connection cut in the
// middle of a transaction both give a clear Unavailable error and leave no
// partial write behind. Also: the server's notices stay off stderr. Runs when
// PHIGATE_TEST_PG_URL is set.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <cstdio>
#include <fstream>
#include <mutex>
#include <sstream>
#include <thread>

#include "gtest/gtest.h"
#include "phigate/store/store.h"
#include "tests/store/store_testing.h"
#include "tests/testing/status_matchers.h"

namespace phigate::store {
namespace {

// A TCP forwarder on 127.0.0.1:0 that can cut every connection at once.
class CuttableProxy {
 public:
  explicit CuttableProxy(int target_port) : target_port_(target_port) {
    listen_fd_ = socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    a.sin_port = 0;
    bind(listen_fd_, reinterpret_cast<sockaddr*>(&a), sizeof a);
    listen(listen_fd_, 16);
    socklen_t len = sizeof a;
    getsockname(listen_fd_, reinterpret_cast<sockaddr*>(&a), &len);
    port_ = ntohs(a.sin_port);
    acceptor_ = std::thread([this] { AcceptLoop(); });
  }
  ~CuttableProxy() {
    Cut();
    acceptor_.join();
    for (auto& t : pumps_) t.join();
  }
  int port() const { return port_; }
  // Closes the listener and every forwarded connection.
  void Cut() {
    std::lock_guard<std::mutex> l(mu_);
    if (cut_) return;
    cut_ = true;
    shutdown(listen_fd_, SHUT_RDWR);
    close(listen_fd_);
    for (int fd : fds_) shutdown(fd, SHUT_RDWR);
  }

 private:
  void AcceptLoop() {
    for (;;) {
      const int c = accept(listen_fd_, nullptr, nullptr);
      if (c < 0) return;
      const int s = socket(AF_INET, SOCK_STREAM, 0);
      sockaddr_in a{};
      a.sin_family = AF_INET;
      a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
      a.sin_port = htons(static_cast<uint16_t>(target_port_));
      if (connect(s, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) {
        close(c);
        close(s);
        continue;
      }
      std::lock_guard<std::mutex> l(mu_);
      if (cut_) {
        close(c);
        close(s);
        return;
      }
      fds_.push_back(c);
      fds_.push_back(s);
      pumps_.emplace_back([c, s] { Pump(c, s); });
    }
  }
  static void Pump(int a, int b) {
    pollfd p[2] = {{a, POLLIN, 0}, {b, POLLIN, 0}};
    char buf[16384];
    for (;;) {
      if (poll(p, 2, -1) < 0) break;
      bool done = false;
      for (int i = 0; i < 2; ++i) {
        if (p[i].revents == 0) continue;
        const ssize_t n = read(p[i].fd, buf, sizeof buf);
        if (n <= 0 || write(p[1 - i].fd, buf, static_cast<size_t>(n)) != n) done = true;
      }
      if (done) break;
    }
    close(a);
    close(b);
  }

  int target_port_;
  int listen_fd_ = -1;
  int port_ = 0;
  std::mutex mu_;
  bool cut_ = false;
  std::vector<int> fds_;
  std::thread acceptor_;
  std::vector<std::thread> pumps_;
};

// Rewrites host:port of a postgresql://user@host:port/db URL.
std::string WithHostPort(const std::string& url, int port, int* old_port) {
  const size_t at = url.find('@');
  const size_t start = at == std::string::npos ? url.find("//") + 2 : at + 1;
  const size_t slash = url.find('/', start);
  const std::string hostport = url.substr(start, slash - start);
  const size_t colon = hostport.rfind(':');
  *old_port = colon == std::string::npos ? 5432 : std::stoi(hostport.substr(colon + 1));
  return url.substr(0, start) + "127.0.0.1:" + std::to_string(port) + url.substr(slash);
}

TEST(PgOutageTest, UnreachableServerIsUnavailable) {
  // A port that was just free: nothing listens there.
  const int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a);
  socklen_t len = sizeof a;
  getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len);
  const int port = ntohs(a.sin_port);
  close(fd);
  auto s = Store::Open({.url = "postgresql://phigate@127.0.0.1:" + std::to_string(port) + "/x",
                        .connect_timeout_seconds = 1});
  EXPECT_EQ(s.status().code(), absl::StatusCode::kUnavailable) << s.status();
  EXPECT_NE(std::string(s.status().message()).find("unreachable"), std::string::npos);
}

TEST(PgOutageTest, ConnectionCutMidTransactionWritesNothing) {
  const std::string url = testing::FreshStoreUrl("postgres");
  if (url.empty()) GTEST_SKIP() << "PHIGATE_TEST_PG_URL not set";
  int pg_port = 0;
  const std::string direct = url;
  PHIGATE_ASSERT_OK_AND_ASSIGN(auto direct_store, Store::Open({.url = direct}));  // migrates
  WithHostPort(url, 1, &pg_port);  // learn the server's port
  CuttableProxy real(pg_port);
  const std::string via_proxy = WithHostPort(url, real.port(), &pg_port);
  PHIGATE_ASSERT_OK_AND_ASSIGN(
      auto store,
      Store::Open(
          {.url = via_proxy, .pool_size = 1, .connect_timeout_seconds = 1, .max_retries = 0}));
  PHIGATE_ASSERT_OK_AND_ASSIGN(auto acme, store->ForTenant(TenantId("acme")));
  Status s = acme->RunInTransaction([&](Transaction& tx) -> Status {
    PHIGATE_RETURN_IF_ERROR(tx.Put("ns", "first", "v1", 1));
    real.Cut();  // the database goes away mid-transaction
    return tx.Put("ns", "second", "v2", 1);
  });
  EXPECT_EQ(s.code(), absl::StatusCode::kUnavailable) << s;
  // Later transactions fail fast and clearly too.
  Status again = acme->RunInTransaction([](Transaction& tx) { return tx.Put("ns", "x", "y", 1); });
  EXPECT_EQ(again.code(), absl::StatusCode::kUnavailable) << again;

  PHIGATE_ASSERT_OK_AND_ASSIGN(auto check, direct_store->ForTenant(TenantId("acme")));
  std::vector<Record> rows;
  PHIGATE_ASSERT_OK(check->RunInTransaction([&](Transaction& tx) -> Status {
    PHIGATE_ASSIGN_OR_RETURN(rows, tx.Scan("ns", "", {}));
    return absl::OkStatus();
  }));
  EXPECT_TRUE(rows.empty()) << "a partial write survived the outage";
}

// Opening a store whose schema and tables exist makes the server send
// NOTICEs ("relation ... already exists, skipping"), which libpq prints on
// the process's stderr: noise in every `phigate deid --store postgres://...`.
TEST(PgOutageTest, OpeningAnExistingStorePrintsNothing) {
  const std::string url = testing::FreshStoreUrl("postgres");
  if (url.empty()) GTEST_SKIP() << "PHIGATE_TEST_PG_URL not set";
  PHIGATE_ASSERT_OK_AND_ASSIGN(auto first, Store::Open({.url = url}));  // creates
  char path[] = "/tmp/phigate-stderr-XXXXXX";
  const int capture = mkstemp(path);
  ASSERT_GE(capture, 0);
  std::fflush(stderr);
  const int saved = dup(2);
  ASSERT_GE(saved, 0);
  ASSERT_GE(dup2(capture, 2), 0);
  Status opened;
  {
    auto again = Store::Open({.url = url});  // the schema and tables exist now
    opened = again.status();
    if (again.ok()) {
      auto acme = (*again)->ForTenant(TenantId("acme"));
      opened =
          acme.ok()
              ? (*acme)->RunInTransaction([](Transaction& tx) { return tx.Put("ns", "k", "v", 1); })
              : acme.status();
    }
  }
  std::fflush(stderr);
  dup2(saved, 2);
  close(saved);
  close(capture);
  std::ifstream in(path);
  std::stringstream printed;
  printed << in.rdbuf();
  std::remove(path);
  PHIGATE_ASSERT_OK(opened);
  EXPECT_EQ(printed.str(), "");
}

}  // namespace
}  // namespace phigate::store
