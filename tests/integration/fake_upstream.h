// FakeUpstream: a model vendor on 127.0.0.1:0 that records what it received
// and answers from a script (JSON, SSE chunks, errors, stalls, resets).
// Test-only; one thread per connection, blocking Beast I/O.
#ifndef PHIGATE_TESTS_INTEGRATION_FAKE_UPSTREAM_H_
#define PHIGATE_TESTS_INTEGRATION_FAKE_UPSTREAM_H_

// clang-format off
#include <utility>
#include <boost/asio.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
// clang-format on

#include <sys/socket.h>

#include <atomic>
#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace phigate::testing {

struct ReceivedRequest {
  std::string method;
  std::string target;
  std::map<std::string, std::string> headers;  // lower-case names
  std::string body;
};

struct Script {
  unsigned status = 200;
  std::string content_type = "application/json";
  std::vector<std::string> chunks;  // body pieces; sent as HTTP chunks when chunked
  bool chunked = false;
  std::chrono::milliseconds delay_before_headers{0};
  std::chrono::milliseconds delay_between_chunks{0};
  int reset_after_chunks = -1;      // >= 0: send that many chunks, then RST the connection
  bool stall_after_chunks = false;  // with reset_after_chunks: stall instead of resetting
};

class FakeUpstream {
 public:
  using Responder = std::function<Script(const ReceivedRequest&)>;

  explicit FakeUpstream(Responder responder)
      : responder_(std::move(responder)),
        acceptor_(io_, {boost::asio::ip::make_address("127.0.0.1"), 0}) {
    port_ = acceptor_.local_endpoint().port();
    listen_fd_ = acceptor_.native_handle();
    thread_ = std::thread([this] { AcceptLoop(); });
  }
  ~FakeUpstream() { Stop(); }

  // Wakes the accept loop with shutdown() on the listening socket (close()
  // from this thread while another blocks in accept() on it was a data race,
  // and the fd number could be reused meanwhile), shuts the open connections
  // down (each under its lock, so never one a worker already closed), joins.
  void Stop() {
    if (stopped_.exchange(true)) return;
    ::shutdown(listen_fd_, SHUT_RDWR);
    if (thread_.joinable()) thread_.join();
    boost::system::error_code ec;
    acceptor_.close(ec);
    std::vector<std::thread> workers;
    {
      std::lock_guard<std::mutex> lock(mu_);
      workers.swap(workers_);
      for (auto& c : conns_) {
        std::lock_guard<std::mutex> conn_lock(c->mu);
        if (c->sock.is_open()) ::shutdown(c->sock.native_handle(), SHUT_RDWR);
      }
    }
    for (auto& t : workers) t.join();
  }

  uint16_t port() const { return port_; }
  std::string url(const std::string& base = "") const {
    return "http://127.0.0.1:" + std::to_string(port_) + base;
  }
  std::vector<ReceivedRequest> received() const {
    std::lock_guard<std::mutex> lock(mu_);
    return received_;
  }
  // Every byte any request carried (target, headers, body) for leak checks.
  std::string AllReceivedBytes() const {
    std::string all;
    for (const auto& r : received()) {
      all += r.target + "\n";
      for (const auto& [k, v] : r.headers) all += k + ": " + v + "\n";
      all += r.body + "\n";
    }
    return all;
  }
  size_t count() const {
    std::lock_guard<std::mutex> lock(mu_);
    return received_.size();
  }

 private:
  void AcceptLoop() {
    while (!stopped_) {
      boost::asio::ip::tcp::socket sock(io_);
      boost::system::error_code ec;
      acceptor_.accept(sock, ec);
      if (ec || stopped_) break;
      auto conn = std::make_shared<Conn>(std::move(sock));
      std::lock_guard<std::mutex> lock(mu_);
      conns_.push_back(conn);
      workers_.emplace_back([this, conn] { Serve(*conn); });
    }
  }

  struct Conn {
    explicit Conn(boost::asio::ip::tcp::socket s) : sock(std::move(s)) {}
    std::mutex mu;  // guards closing `sock` against Stop()'s shutdown
    boost::asio::ip::tcp::socket sock;
  };

  void Serve(Conn& conn) {
    boost::asio::ip::tcp::socket& sock = conn.sock;
    namespace http = boost::beast::http;
    boost::beast::flat_buffer buf;
    boost::system::error_code ec;
    while (!stopped_) {
      http::request<http::string_body> req;
      http::read(sock, buf, req, ec);
      if (ec) return;
      ReceivedRequest r;
      r.method = std::string(req.method_string());
      r.target = std::string(req.target());
      for (const auto& f : req) {
        std::string name(f.name_string());
        for (char& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
        r.headers[name] = std::string(f.value());
      }
      r.body = req.body();
      {
        std::lock_guard<std::mutex> lock(mu_);
        received_.push_back(r);
      }
      Script sc = responder_(r);
      std::this_thread::sleep_for(sc.delay_before_headers);
      if (stopped_) return;
      if (!sc.chunked) {
        http::response<http::string_body> res{static_cast<http::status>(sc.status), 11};
        res.set(http::field::content_type, sc.content_type);
        std::string body;
        for (auto& c : sc.chunks) body += c;
        res.body() = body;
        res.keep_alive(true);
        res.prepare_payload();
        http::write(sock, res, ec);
        if (ec) return;
        continue;
      }
      http::response<http::empty_body> res{static_cast<http::status>(sc.status), 11};
      res.set(http::field::content_type, sc.content_type);
      res.chunked(true);
      res.keep_alive(true);
      http::response_serializer<http::empty_body> sr{res};
      http::write_header(sock, sr, ec);
      if (ec) return;
      for (size_t i = 0; i < sc.chunks.size(); ++i) {
        if (sc.reset_after_chunks >= 0 && static_cast<int>(i) == sc.reset_after_chunks) {
          if (sc.stall_after_chunks) {
            for (int k = 0; k < 300 && !stopped_; ++k) {
              std::this_thread::sleep_for(std::chrono::milliseconds(10));
            }
          }
          std::lock_guard<std::mutex> lock(conn.mu);
          sock.set_option(boost::asio::socket_base::linger(true, 0), ec);
          sock.close(ec);
          return;
        }
        if (i > 0) std::this_thread::sleep_for(sc.delay_between_chunks);
        boost::asio::write(sock, http::make_chunk(boost::asio::buffer(sc.chunks[i])), ec);
        if (ec) return;
      }
      boost::asio::write(sock, http::make_chunk_last(), ec);
      if (ec) return;
    }
  }

  Responder responder_;
  boost::asio::io_context io_;
  boost::asio::ip::tcp::acceptor acceptor_;
  uint16_t port_ = 0;
  std::atomic<bool> stopped_{false};
  std::thread thread_;
  mutable std::mutex mu_;
  std::vector<std::thread> workers_;
  std::vector<std::shared_ptr<Conn>> conns_;
  int listen_fd_ = -1;
  std::vector<ReceivedRequest> received_;
};

}  // namespace phigate::testing

#endif  // PHIGATE_TESTS_INTEGRATION_FAKE_UPSTREAM_H_
