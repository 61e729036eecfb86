// UpstreamClient: HTTP/1.1 client to model vendors, plain or verified TLS
// (system CAs or a configured CA file, host name checked), with a keep-alive
// connection pool per (scheme, host, port, CA). Coroutine API for the io threads.
#ifndef PHIGATE_SRC_GATEWAY_UPSTREAM_CLIENT_H_
#define PHIGATE_SRC_GATEWAY_UPSTREAM_CLIENT_H_

#include <chrono>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "phigate/core/status.h"
#include "src/gateway/asio.h"

namespace phigate::gateway {

struct UpstreamEndpoint {
  bool tls = false;
  std::string host;
  std::string port;
  std::string base_path;  // no trailing '/', e.g. "/v1" or ""
  std::string ca_file;    // "" = system CA store
};
// "https://host[:port][/base]". InvalidArgument otherwise.
Result<UpstreamEndpoint> ParseUpstreamUrl(std::string_view url);

struct UpstreamRequest {
  const UpstreamEndpoint* endpoint = nullptr;
  http::verb method = http::verb::post;
  std::string target;  // path and query, e.g. "/v1/chat/completions"
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;
};

struct UpstreamResponse {
  unsigned status = 0;
  std::string content_type;
  std::string body;
};

struct UpstreamOptions {
  std::chrono::milliseconds connect_timeout{5'000};
  // Until the status line (Open) / the whole body (Send).
  std::chrono::milliseconds response_timeout{120'000};
  std::chrono::milliseconds idle_timeout{60'000};  // between streamed chunks
  uint64_t max_body_bytes = 32u << 20;
  size_t max_idle_per_host = 256;
};

class UpstreamClient;

// A response being read. Holds its connection; returns it to the pool when the
// body was read completely.
class UpstreamStream {
 public:
  ~UpstreamStream();
  unsigned status() const { return status_; }
  const std::string& content_type() const { return content_type_; }
  // The next body bytes (valid until the next call). Empty with OK = end of the
  // body. DeadlineExceeded when the upstream stalls, Unavailable when it resets
  // or closes before the end of the message.
  net::awaitable<Result<std::string_view>> Next();
  // The rest of the body, at most `max` bytes (ResourceExhausted beyond).
  net::awaitable<Result<std::string>> ReadAll(uint64_t max);

 private:
  friend class UpstreamClient;
  struct Conn;
  UpstreamStream() = default;
  UpstreamClient* client_ = nullptr;
  std::unique_ptr<Conn> conn_;
  std::unique_ptr<http::response_parser<http::buffer_body>> parser_;
  beast::flat_buffer buffer_;
  unsigned status_ = 0;
  std::string content_type_;
  bool done_ = false;
  // Send(): the whole answer must arrive by then (else DeadlineExceeded).
  std::optional<std::chrono::steady_clock::time_point> deadline_;
  char chunk_[16384];
};

// True when Open()/Send() failed before any byte of the request was written to
// a connection (no host, no connection, TLS handshake or certificate failure,
// shutting down): the upstream cannot have received it. Any other failure may
// have reached the upstream.
bool UpstreamNeverSent(const Status& s);

class UpstreamClient {
 public:
  explicit UpstreamClient(UpstreamOptions options);
  ~UpstreamClient();
  UpstreamClient(const UpstreamClient&) = delete;
  UpstreamClient& operator=(const UpstreamClient&) = delete;

  // Sends the request and reads the status line and headers.
  net::awaitable<Result<std::unique_ptr<UpstreamStream>>> Open(const UpstreamRequest& request);
  // Sends the request and reads the whole answer.
  net::awaitable<Result<UpstreamResponse>> Send(const UpstreamRequest& request);

  const UpstreamOptions& options() const { return options_; }
  // Drops every pooled connection; later releases are dropped too. Call while
  // the io_context that made the connections still exists (before it is destroyed).
  void Close();
  // Shutdown: closes every connection a request is using (on the strand of
  // the coroutine using it), so requests waiting on an upstream end now with
  // an error; later Open()s fail. The io threads must still be running.
  void CancelActive();

 private:
  friend class UpstreamStream;
  using Conn = UpstreamStream::Conn;
  net::awaitable<Result<std::unique_ptr<Conn>>> Connect(const UpstreamEndpoint& ep);
  std::unique_ptr<Conn> TakeIdle(const std::string& key);
  void Release(std::unique_ptr<Conn> conn);
  Result<ssl::context*> TlsContext(const std::string& ca_file);
  // Connections in use, with the executor of the coroutine using each.
  bool Track(Conn* conn, const net::any_io_executor& ex);
  void Forget(Conn* conn);

  UpstreamOptions options_;
  std::mutex mu_;
  std::map<std::string, std::vector<std::unique_ptr<Conn>>> idle_;  // guarded by mu_
  std::map<std::string, std::unique_ptr<ssl::context>> tls_;        // guarded by mu_
  bool closed_ = false;                                             // guarded by mu_
  bool cancelling_ = false;                                         // guarded by mu_
  std::map<Conn*, net::any_io_executor> active_;                    // guarded by mu_
};

}  // namespace phigate::gateway

#endif  // PHIGATE_SRC_GATEWAY_UPSTREAM_CLIENT_H_
