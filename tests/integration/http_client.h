// A blocking HTTP/1.1 client for tests (one request per connection).
#ifndef PHIGATE_TESTS_INTEGRATION_HTTP_CLIENT_H_
#define PHIGATE_TESTS_INTEGRATION_HTTP_CLIENT_H_

// clang-format off
#include <utility>
#include <boost/asio.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
// clang-format on

#include <map>
#include <string>
#include <vector>

namespace phigate::testing {

struct HttpResult {
  unsigned status = 0;
  std::map<std::string, std::string> headers;
  std::string body;
  bool ok = false;  // the exchange completed
};

inline HttpResult HttpCall(uint16_t port, const std::string& method, const std::string& target,
                           const std::string& body,
                           const std::vector<std::pair<std::string, std::string>>& headers = {}) {
  namespace http = boost::beast::http;
  HttpResult out;
  boost::asio::io_context io;
  boost::asio::ip::tcp::socket sock(io);
  boost::system::error_code ec;
  sock.connect({boost::asio::ip::make_address("127.0.0.1"), port}, ec);
  if (ec) return out;
  http::request<http::string_body> req{http::string_to_verb(method), target, 11};
  req.set(http::field::host, "127.0.0.1");
  req.set(http::field::content_type, "application/json");
  for (const auto& [k, v] : headers) req.set(k, v);
  req.body() = body;
  req.prepare_payload();
  http::write(sock, req, ec);
  if (ec) return out;
  boost::beast::flat_buffer buf;
  http::response_parser<http::string_body> p;
  p.body_limit(64u << 20);
  http::read(sock, buf, p, ec);
  if (ec && ec != http::error::partial_message) return out;
  auto& res = p.get();
  out.status = res.result_int();
  for (const auto& f : res) {
    std::string n(f.name_string());
    for (char& c : n) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    out.headers[n] = std::string(f.value());
  }
  out.body = res.body();
  out.ok = !ec;
  return out;
}

}  // namespace phigate::testing

#endif  // PHIGATE_TESTS_INTEGRATION_HTTP_CLIENT_H_
