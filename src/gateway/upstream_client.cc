#include "src/gateway/upstream_client.h"

#include <openssl/ssl.h>

#include <algorithm>
#include <limits>

#include "absl/strings/cord.h"
#include "absl/strings/str_cat.h"

namespace phigate::gateway {

using boost::system::error_code;

struct UpstreamStream::Conn {
  ~Conn() {
    if (client != nullptr) client->Forget(this);
  }
  std::string key;
  std::unique_ptr<beast::tcp_stream> tcp;
  std::unique_ptr<beast::ssl_stream<beast::tcp_stream>> tls;
  bool reused = false;
  UpstreamClient* client = nullptr;  // set while a request uses the connection (Track)
  beast::tcp_stream& lowest() { return tls ? tls->next_layer() : *tcp; }
};

namespace {

Status MapError(const error_code& ec, std::string_view what) {
  if (ec == beast::error::timeout) {
    return absl::DeadlineExceededError(absl::StrCat("the upstream timed out (", ToAbsl(what), ")"));
  }
  return absl::UnavailableError(
      absl::StrCat("the upstream connection failed (", ToAbsl(what), ")"));
}

constexpr std::string_view kNeverSentPayload = "phigate.upstream/never-sent";

Status NeverSent(Status s) {
  s.SetPayload(ToAbsl(kNeverSentPayload), absl::Cord("1"));
  return s;
}

std::string PoolKey(const UpstreamEndpoint& ep) {
  return absl::StrCat(ep.tls ? "https://" : "http://", ep.host, ":", ep.port, "|", ep.ca_file);
}

}  // namespace

bool UpstreamNeverSent(const Status& s) {
  return !s.ok() && s.GetPayload(ToAbsl(kNeverSentPayload)).has_value();
}

Result<UpstreamEndpoint> ParseUpstreamUrl(std::string_view url) {
  UpstreamEndpoint ep;
  std::string_view rest;
  if (url.substr(0, 8) == "https://") {
    ep.tls = true;
    rest = url.substr(8);
  } else if (url.substr(0, 7) == "http://") {
    rest = url.substr(7);
  } else {
    return absl::InvalidArgumentError("upstream URL must start with http:// or https://");
  }
  const size_t slash = rest.find('/');
  std::string_view hostport = rest.substr(0, slash);
  std::string_view path = slash == std::string_view::npos ? "" : rest.substr(slash);
  while (!path.empty() && path.back() == '/') path.remove_suffix(1);
  if (hostport.empty()) return absl::InvalidArgumentError("upstream URL without a host");
  if (hostport.front() == '[') {  // [::1]:8080
    const size_t close = hostport.find(']');
    if (close == std::string_view::npos) return absl::InvalidArgumentError("bad IPv6 host");
    ep.host = std::string(hostport.substr(1, close - 1));
    std::string_view after = hostport.substr(close + 1);
    ep.port = after.size() > 1 && after[0] == ':' ? std::string(after.substr(1)) : "";
  } else {
    const size_t colon = hostport.rfind(':');
    ep.host = std::string(hostport.substr(0, colon));
    if (colon != std::string_view::npos) ep.port = std::string(hostport.substr(colon + 1));
  }
  if (ep.port.empty()) ep.port = ep.tls ? "443" : "80";
  ep.base_path = std::string(path);
  return ep;
}

UpstreamClient::UpstreamClient(UpstreamOptions options) : options_(std::move(options)) {}
UpstreamClient::~UpstreamClient() = default;

Result<ssl::context*> UpstreamClient::TlsContext(const std::string& ca_file) {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = tls_.find(ca_file);
  if (it != tls_.end()) return it->second.get();
  try {
    auto ctx = std::make_unique<ssl::context>(ssl::context::tls_client);
    ctx->set_options(ssl::context::default_workarounds | ssl::context::no_sslv2 |
                     ssl::context::no_sslv3 | ssl::context::no_tlsv1 | ssl::context::no_tlsv1_1);
    ctx->set_verify_mode(ssl::verify_peer);
    if (ca_file.empty()) {
      ctx->set_default_verify_paths();
    } else {
      ctx->load_verify_file(ca_file);
    }
    ssl::context* raw = ctx.get();
    tls_[ca_file] = std::move(ctx);
    return raw;
  } catch (const boost::system::system_error&) {
    return absl::FailedPreconditionError("cannot load the upstream CA file");
  }
}

std::unique_ptr<UpstreamClient::Conn> UpstreamClient::TakeIdle(const std::string& key) {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = idle_.find(key);
  if (it == idle_.end() || it->second.empty()) return nullptr;
  std::unique_ptr<Conn> c = std::move(it->second.back());
  it->second.pop_back();
  c->reused = true;
  return c;
}

void UpstreamClient::Close() {
  std::map<std::string, std::vector<std::unique_ptr<Conn>>> idle;
  std::lock_guard<std::mutex> lock(mu_);
  closed_ = true;
  idle.swap(idle_);
}

bool UpstreamClient::Track(Conn* conn, const net::any_io_executor& ex) {
  std::lock_guard<std::mutex> lock(mu_);
  if (cancelling_) return false;
  active_[conn] = ex;
  conn->client = this;
  return true;
}

void UpstreamClient::Forget(Conn* conn) {
  std::lock_guard<std::mutex> lock(mu_);
  active_.erase(conn);
  conn->client = nullptr;
}

void UpstreamClient::CancelActive() {
  std::lock_guard<std::mutex> lock(mu_);
  cancelling_ = true;
  for (const auto& [conn, ex] : active_) {
    // Runs on the strand of the coroutine using the connection; it is still
    // in use there only if it is still tracked (it is forgotten on that strand).
    net::post(ex, [this, c = conn] {
      std::lock_guard<std::mutex> l(mu_);
      if (active_.count(c) != 0) c->lowest().close();
    });
  }
}

void UpstreamClient::Release(std::unique_ptr<Conn> conn) {
  Forget(conn.get());
  std::lock_guard<std::mutex> lock(mu_);
  if (closed_ || cancelling_) return;
  auto& v = idle_[conn->key];
  if (v.size() < options_.max_idle_per_host) v.push_back(std::move(conn));
}

net::awaitable<Result<std::unique_ptr<UpstreamClient::Conn>>> UpstreamClient::Connect(
    const UpstreamEndpoint& ep) {
  auto ex = co_await net::this_coro::executor;
  auto conn = std::make_unique<Conn>();
  conn->key = PoolKey(ep);
  net::ip::tcp::resolver resolver(ex);
  error_code ec;
  auto results = co_await resolver.async_resolve(ep.host, ep.port,
                                                 net::redirect_error(net::use_awaitable, ec));
  if (ec) co_return absl::UnavailableError("the upstream host does not resolve");
  ssl::context* ctx = nullptr;
  if (ep.tls) {
    Result<ssl::context*> c = TlsContext(ep.ca_file);
    if (!c.ok()) co_return c.status();
    ctx = *c;
    conn->tls = std::make_unique<beast::ssl_stream<beast::tcp_stream>>(ex, *ctx);
  } else {
    conn->tcp = std::make_unique<beast::tcp_stream>(ex);
  }
  beast::tcp_stream& tcp = conn->lowest();
  tcp.expires_after(options_.connect_timeout);
  co_await tcp.async_connect(results, net::redirect_error(net::use_awaitable, ec));
  if (ec) {
    if (ec == beast::error::timeout)
      co_return absl::DeadlineExceededError("the upstream did not accept the connection in time");
    co_return absl::UnavailableError("the upstream is unreachable");
  }
  tcp.socket().set_option(net::ip::tcp::no_delay(true), ec);
  if (conn->tls) {
    if (!SSL_set_tlsext_host_name(conn->tls->native_handle(), ep.host.c_str())) {
      co_return absl::UnavailableError("cannot set the TLS server name");
    }
    conn->tls->set_verify_callback(ssl::host_name_verification(ep.host));
    tcp.expires_after(options_.connect_timeout);
    co_await conn->tls->async_handshake(ssl::stream_base::client,
                                        net::redirect_error(net::use_awaitable, ec));
    if (ec == beast::error::timeout) {
      co_return absl::DeadlineExceededError("the upstream TLS handshake did not finish in time");
    }
    if (ec) co_return absl::UnavailableError("upstream TLS handshake or certificate check failed");
  }
  co_return conn;
}

net::awaitable<Result<std::unique_ptr<UpstreamStream>>> UpstreamClient::Open(
    const UpstreamRequest& request) {
  const UpstreamEndpoint& ep = *request.endpoint;
  http::request<http::string_body> req{request.method, request.target, 11};
  const bool default_port = ep.port == (ep.tls ? "443" : "80");
  req.set(http::field::host, default_port ? ep.host : ep.host + ":" + ep.port);
  req.set(http::field::user_agent, "phigate/0.1");
  for (const auto& [k, v] : request.headers) req.set(k, v);
  req.body() = request.body;
  req.keep_alive(true);
  req.prepare_payload();

  // Whether a write of the request began on some connection: until then a
  // failure is marked as never sent (UpstreamNeverSent).
  bool written = false;
  for (int attempt = 0; attempt < 2; ++attempt) {
    std::unique_ptr<Conn> conn = attempt == 0 ? TakeIdle(PoolKey(ep)) : nullptr;
    if (conn == nullptr) {
      Result<std::unique_ptr<Conn>> c = co_await Connect(ep);
      if (!c.ok()) co_return written ? c.status() : NeverSent(c.status());
      conn = std::move(c).value();
    }
    const bool reused = conn->reused;
    if (!Track(conn.get(), co_await net::this_coro::executor)) {
      Status shutting_down = absl::UnavailableError("the gateway is shutting down");
      co_return written ? shutting_down : NeverSent(std::move(shutting_down));
    }
    auto s = std::unique_ptr<UpstreamStream>(new UpstreamStream());
    s->client_ = this;
    s->parser_ = std::make_unique<http::response_parser<http::buffer_body>>();
    s->parser_->body_limit(std::numeric_limits<uint64_t>::max());
    // Beast reads max(512, free capacity) bytes per read_some: with an empty
    // buffer a 5.6 KB streamed answer took 12 reads, each rewritten and sent
    // to the client as its own write with its own timer updates and epoll
    // round trip. With room for a chunk_, whatever the upstream has sent is read
    // (and forwarded) at once — nothing waits for more.
    s->buffer_.reserve(sizeof(s->chunk_));
    error_code ec;
    conn->lowest().expires_after(options_.response_timeout);
    written = true;
    if (conn->tls) {
      co_await http::async_write(*conn->tls, req, net::redirect_error(net::use_awaitable, ec));
      if (!ec) {
        // A tcp_stream's expiry covers one logical operation: set it again for the answer.
        conn->lowest().expires_after(options_.response_timeout);
        co_await http::async_read_header(*conn->tls, s->buffer_, *s->parser_,
                                         net::redirect_error(net::use_awaitable, ec));
      }
    } else {
      co_await http::async_write(*conn->tcp, req, net::redirect_error(net::use_awaitable, ec));
      if (!ec) {
        // A tcp_stream's expiry covers one logical operation: set it again for the answer.
        conn->lowest().expires_after(options_.response_timeout);
        co_await http::async_read_header(*conn->tcp, s->buffer_, *s->parser_,
                                         net::redirect_error(net::use_awaitable, ec));
      }
    }
    if (ec) {
      // A pooled connection the upstream closed while idle: retry once on a new one.
      if (reused && ec != beast::error::timeout) continue;
      co_return MapError(ec, "sending the request");
    }
    s->status_ = s->parser_->get().result_int();
    auto ct = s->parser_->get().find(http::field::content_type);
    if (ct != s->parser_->get().end()) s->content_type_ = std::string(ct->value());
    s->conn_ = std::move(conn);
    s->done_ = s->parser_->is_done();
    co_return s;
  }
  co_return absl::UnavailableError("the upstream connection failed");
}

UpstreamStream::~UpstreamStream() {
  if (conn_ && done_ && parser_ && parser_->keep_alive() && client_ != nullptr) {
    client_->Release(std::move(conn_));
  }
}

net::awaitable<Result<std::string_view>> UpstreamStream::Next() {
  while (!done_) {
    auto& body = parser_->get().body();
    body.data = chunk_;
    body.size = sizeof(chunk_);
    error_code ec;
    auto expiry = std::chrono::duration_cast<std::chrono::steady_clock::duration>(
        client_->options().idle_timeout);
    if (deadline_) {
      const auto left = *deadline_ - std::chrono::steady_clock::now();
      if (left <= std::chrono::steady_clock::duration::zero()) {
        conn_.reset();
        co_return absl::DeadlineExceededError("the upstream timed out (reading the answer)");
      }
      expiry = std::min(expiry, left);
    }
    conn_->lowest().expires_after(expiry);
    if (conn_->tls) {
      co_await http::async_read_some(*conn_->tls, buffer_, *parser_,
                                     net::redirect_error(net::use_awaitable, ec));
    } else {
      co_await http::async_read_some(*conn_->tcp, buffer_, *parser_,
                                     net::redirect_error(net::use_awaitable, ec));
    }
    if (ec == http::error::need_buffer) ec = {};
    const size_t n = sizeof(chunk_) - parser_->get().body().size;
    if (ec) {
      conn_.reset();
      done_ = false;
      co_return MapError(ec, "reading the answer");
    }
    done_ = parser_->is_done();
    if (n > 0) co_return std::string_view(chunk_, n);
  }
  co_return std::string_view();
}

net::awaitable<Result<std::string>> UpstreamStream::ReadAll(uint64_t max) {
  std::string out;
  while (true) {
    Result<std::string_view> r = co_await Next();
    if (!r.ok()) co_return r.status();
    if (r->empty()) break;
    if (out.size() + r->size() > max) {
      conn_.reset();
      co_return absl::ResourceExhaustedError("the upstream answer is too large");
    }
    out.append(*r);
  }
  co_return out;
}

net::awaitable<Result<UpstreamResponse>> UpstreamClient::Send(const UpstreamRequest& request) {
  const auto deadline = std::chrono::steady_clock::now() + options_.response_timeout;
  Result<std::unique_ptr<UpstreamStream>> s = co_await Open(request);
  if (!s.ok()) co_return s.status();
  (*s)->deadline_ = deadline;  // the whole answer, not only its first byte
  UpstreamResponse res;
  res.status = (*s)->status();
  res.content_type = (*s)->content_type();
  Result<std::string> body = co_await (*s)->ReadAll(options_.max_body_bytes);
  if (!body.ok()) co_return body.status();
  res.body = std::move(body).value();
  co_return res;
}

}  // namespace phigate::gateway
