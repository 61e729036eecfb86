// HttpServer: HTTP/1.1 (keep-alive, optional TLS) on Boost.Beast with C++20
// coroutines, N io threads, limits and graceful shutdown. Knows nothing of
// PHI: it hands each parsed request to a Handler.
#ifndef PHIGATE_SRC_GATEWAY_HTTP_SERVER_H_
#define PHIGATE_SRC_GATEWAY_HTTP_SERVER_H_

#include <atomic>
#include <condition_variable>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "phigate/core/status.h"
#include "phigate/gateway/config.h"
#include "src/gateway/asio.h"
#include "src/gateway/metrics.h"

namespace phigate::gateway {

using HttpRequest = http::request<http::string_body>;
using HttpResponse = http::response<http::string_body>;

// How a handler answers: one full response, or a chunked stream. Methods
// return false when the client went away (stop producing).
class ResponseWriter {
 public:
  virtual ~ResponseWriter() = default;
  virtual net::awaitable<bool> Send(HttpResponse response) = 0;
  virtual net::awaitable<bool> StartStream(
      unsigned status, std::string_view content_type,
      std::vector<std::pair<std::string, std::string>> headers) = 0;
  virtual net::awaitable<bool> SendChunk(std::string_view data) = 0;
  virtual net::awaitable<bool> EndStream() = 0;
};

using Handler = std::function<net::awaitable<void>(HttpRequest&, ResponseWriter&)>;
// The error reply for requests rejected before the handler (413, 431, 400):
// (status, request target) -> full response body in the right API format.
using ErrorResponder =
    std::function<HttpResponse(unsigned status, std::string_view target, std::string_view message)>;

class HttpServer {
 public:
  static Result<std::unique_ptr<HttpServer>> Create(const ServerConfig& config, Handler handler,
                                                    ErrorResponder errors, Metrics* metrics);
  ~HttpServer();
  HttpServer(const HttpServer&) = delete;
  HttpServer& operator=(const HttpServer&) = delete;

  // Binds and starts the io threads. The bound port is port() (config port 0 = any).
  Status Start();
  uint16_t port() const { return port_; }
  net::io_context& io() { return io_; }
  // Graceful shutdown: stop accepting, let in-flight requests finish (up to
  // drain_timeout), then stop the io threads. Idempotent; returns when stopped.
  void Shutdown();
  // Blocks until Shutdown() completes (or SIGTERM/SIGINT when HandleSignals()).
  void Wait();
  // Installs SIGTERM/SIGINT handling that triggers Shutdown().
  void HandleSignals();
  bool draining() const { return draining_.load(); }
  // Called by Shutdown() once the drain time is over, with the io threads
  // still running: the owner closes what its handlers are waiting on (e.g.
  // upstream connections) so that every coroutine can run to its end.
  void SetCancelHook(std::function<void()> hook) { cancel_hook_ = std::move(hook); }

 private:
  HttpServer(const ServerConfig& config, Handler handler, ErrorResponder errors, Metrics* m);
  // Connections Accept() takes at once after each asynchronous accept.
  static constexpr int kAcceptBurst = 256;
  net::awaitable<void> Accept();
  template <class Stream>
  net::awaitable<void> Serve(Stream& stream, beast::tcp_stream& tcp);
  net::awaitable<void> Session(net::ip::tcp::socket socket);
  // Open connections, closed at shutdown (see Shutdown()). A handle is read
  // and written only on its connection's strand.
  struct ConnHandle {
    beast::tcp_stream* tcp = nullptr;
  };
  bool Register(const std::shared_ptr<ConnHandle>& h, const net::any_io_executor& ex);
  void Unregister(const std::shared_ptr<ConnHandle>& h);
  void CloseAllConnections();

  ServerConfig config_;
  Handler handler_;
  ErrorResponder errors_;
  Metrics* metrics_;
  net::io_context io_;
  // The acceptor (and signal set) are used only on this strand: the accept
  // loop and the close at shutdown never run at the same time on two io threads.
  net::strand<net::io_context::executor_type> accept_strand_;
  std::unique_ptr<ssl::context> tls_;
  net::ip::tcp::acceptor acceptor_;
  std::unique_ptr<net::signal_set> signals_;
  std::vector<std::thread> threads_;
  uint16_t port_ = 0;
  std::atomic<bool> draining_{false};
  std::atomic<bool> stopped_{false};
  std::mutex stop_mu_;
  std::condition_variable stop_cv_;
  std::function<void()> cancel_hook_;
  std::mutex conns_mu_;
  bool closing_ = false;  // guarded by conns_mu_: no new connection is served
  std::map<std::shared_ptr<ConnHandle>, net::any_io_executor> conns_;  // guarded by conns_mu_
};

}  // namespace phigate::gateway

#endif  // PHIGATE_SRC_GATEWAY_HTTP_SERVER_H_
