#include "src/gateway/http_server.h"

#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <mutex>

#include "absl/strings/str_cat.h"

namespace phigate::gateway {
namespace {

// Room for one read of a whole typical request (see Serve).
constexpr size_t kReadBufferBytes = 16 * 1024;

using boost::system::error_code;

template <class Stream>
class Writer : public ResponseWriter {
 public:
  Writer(Stream& stream, beast::tcp_stream& tcp, bool keep_alive, std::chrono::milliseconds t,
         const std::atomic<bool>& draining)
      : stream_(stream), tcp_(tcp), keep_alive_(keep_alive), timeout_(t), draining_(draining) {}

  net::awaitable<bool> Send(HttpResponse res) override {
    res.version(11);
    res.keep_alive(keep_alive_ && !draining_.load());
    res.prepare_payload();
    tcp_.expires_after(timeout_);
    error_code ec;
    co_await http::async_write(stream_, res, net::redirect_error(net::use_awaitable, ec));
    ok_ = !ec;
    keep_alive_ = keep_alive_ && res.keep_alive();
    co_return ok_;
  }

  net::awaitable<bool> StartStream(
      unsigned status, std::string_view content_type,
      std::vector<std::pair<std::string, std::string>> headers) override {
    http::response<http::empty_body> res{static_cast<http::status>(status), 11};
    res.set(http::field::content_type,
            beast::string_view(content_type.data(), content_type.size()));
    res.set(http::field::cache_control, "no-cache");
    for (auto& [k, v] : headers) res.set(k, v);
    res.keep_alive(keep_alive_ && !draining_.load());
    keep_alive_ = res.keep_alive();
    res.chunked(true);
    http::response_serializer<http::empty_body> sr{res};
    tcp_.expires_after(timeout_);
    error_code ec;
    co_await http::async_write_header(stream_, sr, net::redirect_error(net::use_awaitable, ec));
    ok_ = !ec;
    co_return ok_;
  }

  net::awaitable<bool> SendChunk(std::string_view data) override {
    if (!ok_) co_return false;
    if (data.empty()) co_return true;
    tcp_.expires_after(timeout_);
    error_code ec;
    co_await net::async_write(stream_,
                              http::make_chunk(net::const_buffer(data.data(), data.size())),
                              net::redirect_error(net::use_awaitable, ec));
    ok_ = !ec;
    co_return ok_;
  }

  net::awaitable<bool> EndStream() override {
    if (!ok_) co_return false;
    tcp_.expires_after(timeout_);
    error_code ec;
    co_await net::async_write(stream_, http::make_chunk_last(),
                              net::redirect_error(net::use_awaitable, ec));
    ok_ = !ec;
    co_return ok_;
  }

  bool ok() const { return ok_; }
  bool keep_alive() const { return keep_alive_; }

 private:
  Stream& stream_;
  beast::tcp_stream& tcp_;
  bool keep_alive_;
  std::chrono::milliseconds timeout_;
  const std::atomic<bool>& draining_;
  bool ok_ = true;
};

struct Gauge {
  explicit Gauge(std::atomic<int64_t>& g) : g_(g) { g_.fetch_add(1); }
  ~Gauge() { g_.fetch_sub(1); }
  std::atomic<int64_t>& g_;
};

}  // namespace

HttpServer::HttpServer(const ServerConfig& config, Handler handler, ErrorResponder errors,
                       Metrics* m)
    : config_(config),
      handler_(std::move(handler)),
      errors_(std::move(errors)),
      metrics_(m),
      io_(config.io_threads > 0 ? config.io_threads : 1),
      accept_strand_(net::make_strand(io_)),
      acceptor_(accept_strand_) {}

HttpServer::~HttpServer() { Shutdown(); }

Result<std::unique_ptr<HttpServer>> HttpServer::Create(const ServerConfig& config, Handler handler,
                                                       ErrorResponder errors, Metrics* metrics) {
  if (metrics == nullptr) return absl::InvalidArgumentError("metrics required");
  std::unique_ptr<HttpServer> s(
      new HttpServer(config, std::move(handler), std::move(errors), metrics));
  if (!config.tls_cert_file.empty() || !config.tls_key_file.empty()) {
    if (config.tls_cert_file.empty() || config.tls_key_file.empty()) {
      return absl::InvalidArgumentError("server.tls needs both cert_file and key_file");
    }
    try {
      auto ctx = std::make_unique<ssl::context>(ssl::context::tls_server);
      ctx->set_options(ssl::context::default_workarounds | ssl::context::no_sslv2 |
                       ssl::context::no_sslv3 | ssl::context::no_tlsv1 | ssl::context::no_tlsv1_1 |
                       ssl::context::single_dh_use);
      ctx->use_certificate_chain_file(config.tls_cert_file);
      ctx->use_private_key_file(config.tls_key_file, ssl::context::pem);
      s->tls_ = std::move(ctx);
    } catch (const boost::system::system_error&) {
      return absl::InvalidArgumentError("cannot load the server TLS certificate or key file");
    }
  }
  return s;
}

Status HttpServer::Start() {
  error_code ec;
  const auto addr = net::ip::make_address(config_.address, ec);
  if (ec) return absl::InvalidArgumentError("server.listen: bad address");
  net::ip::tcp::endpoint ep{addr, config_.port};
  acceptor_.open(ep.protocol(), ec);
  if (!ec) acceptor_.set_option(net::socket_base::reuse_address(true), ec);
  if (!ec) acceptor_.bind(ep, ec);
  if (!ec) acceptor_.listen(net::socket_base::max_listen_connections, ec);
  // Accept() drains the backlog with synchronous accepts, which must not block.
  if (!ec) acceptor_.non_blocking(true, ec);
  if (ec) {
    return absl::UnavailableError(
        absl::StrCat("cannot listen on ", config_.address, ":", config_.port, ": ", ec.message()));
  }
  port_ = acceptor_.local_endpoint().port();
  net::co_spawn(accept_strand_, Accept(), net::detached);
  const int n = config_.io_threads > 0 ? config_.io_threads : 1;
  for (int i = 0; i < n; ++i) threads_.emplace_back([this] { io_.run(); });
  return absl::OkStatus();
}

void HttpServer::HandleSignals() {
  signals_ = std::make_unique<net::signal_set>(accept_strand_, SIGTERM, SIGINT);
  signals_->async_wait([this](const error_code& ec, int) {
    if (ec) return;
    std::lock_guard<std::mutex> lock(stop_mu_);
    draining_ = true;
    stop_cv_.notify_all();
  });
}

void HttpServer::Wait() {
  {
    std::unique_lock<std::mutex> lock(stop_mu_);
    stop_cv_.wait(lock, [this] { return draining_.load() || stopped_.load(); });
  }
  Shutdown();
}

// Shutdown never leaves a coroutine suspended for the io_context's destructor.
// Boost 1.74's awaitable_thread destructor *posts* the unwinding of a
// destroyed coroutine to its executor: a session's frame destroyed while
// ~io_context shuts its services down is unwound through a strand whose
// service is already shut down or destroyed, and its sockets, timers and
// strand are released in the middle of that teardown (use after free; one
// SIGSEGV in CI, see docs/gateway.md "Shutdown"). So: stop accepting, let the
// requests in flight finish (drain_timeout), then close every connection and
// let the owner close the upstream ones (cancel hook) — each close runs on its
// connection's strand — and let the io threads run every coroutine to its end:
// run() returns by itself when nothing is left. io_.stop() is only the last
// resort if something still runs after a further drain_timeout.
void HttpServer::Shutdown() {
  if (stopped_.exchange(true)) {
    for (auto& t : threads_) {
      if (t.joinable() && t.get_id() != std::this_thread::get_id()) t.join();
    }
    return;
  }
  draining_ = true;
  {
    std::lock_guard<std::mutex> lock(stop_mu_);
    stop_cv_.notify_all();
  }
  // On the accept strand: closing the acceptor while the accept loop (on
  // another io thread) starts its next accept was a data race (TSan: the
  // reactor's descriptor state freed under a starting accept).
  net::post(accept_strand_, [this] {
    error_code ec;
    acceptor_.close(ec);
    if (signals_) signals_->cancel(ec);
  });
  auto deadline = std::chrono::steady_clock::now() + config_.drain_timeout;
  while (metrics_->active_requests.load() > 0 && std::chrono::steady_clock::now() < deadline &&
         !threads_.empty()) {
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  CloseAllConnections();
  if (cancel_hook_) cancel_hook_();
  deadline = std::chrono::steady_clock::now() +
             std::max(config_.drain_timeout, std::chrono::milliseconds(1000));
  while (!threads_.empty() && !io_.stopped() && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
  }
  io_.stop();  // a no-op when the threads ran out of work
  for (auto& t : threads_) {
    if (t.joinable() && t.get_id() != std::this_thread::get_id()) t.join();
  }
}

bool HttpServer::Register(const std::shared_ptr<ConnHandle>& h, const net::any_io_executor& ex) {
  std::lock_guard<std::mutex> lock(conns_mu_);
  if (closing_) return false;
  conns_.emplace(h, ex);
  return true;
}

void HttpServer::Unregister(const std::shared_ptr<ConnHandle>& h) {
  h->tcp = nullptr;  // on the connection's strand, like every use of the handle
  std::lock_guard<std::mutex> lock(conns_mu_);
  conns_.erase(h);
}

void HttpServer::CloseAllConnections() {
  std::lock_guard<std::mutex> lock(conns_mu_);
  closing_ = true;
  for (const auto& [h, ex] : conns_) {
    net::post(ex, [h = h] {
      if (h->tcp != nullptr) h->tcp->close();  // pending reads/writes complete with an error
    });
  }
}

net::awaitable<void> HttpServer::Accept() {
  // Each connection runs on its own strand: with several io threads, a Beast
  // stream's timer handler (which closes the socket and flags the timeout)
  // and its read/write completions must never run concurrently, or a timeout
  // is seen as a plain "operation aborted" (502 instead of 504) or worse.
  // Upstream streams opened by the session inherit this strand.
  auto spawn = [this](net::ip::tcp::socket socket) {
    error_code ec;
    socket.set_option(net::ip::tcp::no_delay(true), ec);
    net::any_io_executor strand = socket.get_executor();
    net::co_spawn(strand, Session(std::move(socket)), net::detached);
  };
  while (acceptor_.is_open()) {
    error_code ec;
    net::ip::tcp::socket socket = co_await acceptor_.async_accept(
        net::make_strand(io_), net::redirect_error(net::use_awaitable, ec));
    if (ec) {
      if (!acceptor_.is_open()) break;
      continue;
    }
    spawn(std::move(socket));
    // Then every connection already waiting in the kernel's backlog, now:
    // under load each async_accept completes only after the io queue's other
    // handlers have run, so taking one connection per completion left 500
    // clients connecting at once waiting up to ~10 s for their turn
    // (bench/load, 500 concurrent streams). A burst is bounded so that the
    // established connections are not starved either.
    for (int k = 0; k < kAcceptBurst && acceptor_.is_open(); ++k) {
      net::ip::tcp::socket next(net::make_strand(io_));
      acceptor_.accept(next, ec);
      if (ec) break;  // would_block: the backlog is empty
      spawn(std::move(next));
    }
  }
}

net::awaitable<void> HttpServer::Session(net::ip::tcp::socket socket) {
  Gauge conn(metrics_->open_connections);
  beast::tcp_stream tcp(std::move(socket));
  auto handle = std::make_shared<ConnHandle>();
  handle->tcp = &tcp;
  if (!Register(handle, co_await net::this_coro::executor)) co_return;  // shutting down
  struct Unregistration {
    HttpServer* server;
    std::shared_ptr<ConnHandle> h;
    ~Unregistration() { server->Unregister(h); }
  } unregister{this, handle};
  error_code ec;
  if (tls_) {
    beast::ssl_stream<beast::tcp_stream> s(std::move(tcp), *tls_);
    handle->tcp = &s.next_layer();
    s.next_layer().expires_after(config_.read_timeout);
    co_await s.async_handshake(ssl::stream_base::server,
                               net::redirect_error(net::use_awaitable, ec));
    if (ec) {
      metrics_->Inc("phigate_tls_handshake_failures_total");
      co_return;
    }
    co_await Serve(s, s.next_layer());
    s.next_layer().expires_after(std::chrono::seconds(1));
    co_await s.async_shutdown(net::redirect_error(net::use_awaitable, ec));
    handle->tcp = nullptr;  // `s` goes before `unregister`
  } else {
    co_await Serve(tcp, tcp);
    tcp.socket().shutdown(net::ip::tcp::socket::shutdown_send, ec);
    // Lingering close (as nginx does): read and drop what the client is still
    // sending (e.g. the rest of a refused 413 body) so our reply is not lost to a reset.
    char sink[4096];
    size_t drained = 0;
    while (!ec && drained < (size_t{1} << 20)) {
      tcp.expires_after(std::chrono::milliseconds(500));
      drained += co_await tcp.async_read_some(net::buffer(sink),
                                              net::redirect_error(net::use_awaitable, ec));
    }
  }
}

template <class Stream>
net::awaitable<void> HttpServer::Serve(Stream& stream, beast::tcp_stream& tcp) {
  beast::flat_buffer buf;
  // Beast reads max(512, free capacity) bytes per read_some, and a string_body
  // parser consumes what it reads, so an empty buffer stayed at 512 bytes: a
  // 4 KB chat request took 8 recvmsg calls, each with its own timer update and
  // epoll round trip. 16 KiB of room reads a typical request in one call.
  buf.reserve(kReadBufferBytes);
  bool first = true;
  while (!draining_.load()) {
    http::request_parser<http::string_body> parser;
    parser.body_limit(config_.max_body_bytes);
    parser.header_limit(config_.max_header_bytes);
    error_code ec;
    tcp.expires_after(first ? config_.read_timeout : config_.idle_timeout);
    first = false;
    co_await http::async_read_header(stream, buf, parser,
                                     net::redirect_error(net::use_awaitable, ec));
    if (!ec && !parser.is_done()) {
      tcp.expires_after(config_.read_timeout);
      co_await http::async_read(stream, buf, parser, net::redirect_error(net::use_awaitable, ec));
    }
    if (ec) {
      unsigned status = 0;
      std::string_view msg;
      if (ec == http::error::body_limit) {
        status = 413;
        msg = "request body too large";
      } else if (ec == http::error::header_limit) {
        status = 431;
        msg = "request headers too large";
      } else if (&ec.category() == &http::make_error_code(http::error::bad_target).category() &&
                 ec != http::error::end_of_stream && ec != http::error::partial_message) {
        status = 400;
        msg = "malformed HTTP request";
      }
      if (status != 0) {
        const std::string target =
            parser.is_header_done() ? std::string(parser.get().target()) : std::string();
        HttpResponse res = errors_(status, target, msg);
        Writer<Stream> w(stream, tcp, false, config_.read_timeout, draining_);
        metrics_->Inc("phigate_requests_total",
                      absl::StrCat("route=\"rejected\",status=\"", status, "\""));
        co_await w.Send(std::move(res));
      }
      co_return;
    }
    tcp.expires_never();
    HttpRequest req = parser.release();
    Writer<Stream> w(stream, tcp, req.keep_alive(), config_.read_timeout, draining_);
    {
      Gauge active(metrics_->active_requests);
      co_await handler_(req, w);
    }
    if (!w.ok() || !w.keep_alive()) co_return;
  }
}

}  // namespace phigate::gateway
