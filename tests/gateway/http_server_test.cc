// HttpServer's accept loop: connections that queue in the kernel's backlog
// while the io thread is busy are accepted together, not one per trip
// through the io queue (under load that left clients connecting at once
// waiting seconds for their turn: docs/gateway.md, "Session 9").
// clang-format off
#include "src/gateway/http_server.h"
// clang-format on

#include <gtest/gtest.h>

#include <atomic>
#include <future>
#include <memory>
#include <string>
#include <vector>

#include "src/gateway/metrics.h"

namespace phigate::gateway {
namespace {

namespace asio = boost::asio;

TEST(HttpServerTest, ConnectionsQueuedWhileBusyAreAcceptedTogetherAndAllServed) {
  constexpr int kClients = 300;  // more than one burst (HttpServer::kAcceptBurst = 256)
  ServerConfig config;
  config.port = 0;
  config.io_threads = 1;
  Metrics metrics;
  std::atomic<int64_t> open_at_first_request{-1};
  std::atomic<int> handled{0};
  Handler handler = [&](HttpRequest&, ResponseWriter& writer) -> net::awaitable<void> {
    int64_t unset = -1;
    open_at_first_request.compare_exchange_strong(unset, metrics.open_connections.load());
    HttpResponse response{http::status::ok, 11};
    response.body() = "ok";
    response.prepare_payload();
    co_await writer.Send(std::move(response));
    ++handled;
  };
  ErrorResponder errors = [](unsigned status, std::string_view, std::string_view message) {
    HttpResponse r{static_cast<http::status>(status), 11};
    r.body() = std::string(message);
    r.prepare_payload();
    return r;
  };
  auto server = HttpServer::Create(config, handler, errors, &metrics);
  ASSERT_TRUE(server.ok()) << server.status();
  ASSERT_TRUE((*server)->Start().ok());
  const uint16_t port = (*server)->port();

  // Occupy the one io thread.
  std::promise<void> blocked, release;
  std::shared_future<void> go = release.get_future().share();
  asio::post((*server)->io(), [&blocked, go] {
    blocked.set_value();
    go.wait();
  });
  blocked.get_future().wait();

  // Meanwhile every client connects (the kernel completes the handshake and
  // queues the connection) and sends its request.
  asio::io_context client_io;
  std::vector<asio::ip::tcp::socket> clients;
  const std::string request = "GET /x HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n";
  for (int i = 0; i < kClients; ++i) {
    clients.emplace_back(client_io);
    boost::system::error_code ec;
    clients.back().connect({asio::ip::make_address("127.0.0.1"), port}, ec);
    ASSERT_FALSE(ec) << "client " << i << ": " << ec.message();
    asio::write(clients.back(), asio::buffer(request), ec);
    ASSERT_FALSE(ec) << ec.message();
  }
  release.set_value();

  int ok = 0;
  for (auto& socket : clients) {
    std::string reply;
    boost::system::error_code ec;
    asio::read(socket, asio::dynamic_buffer(reply), ec);  // until the server closes
    if (reply.rfind("HTTP/1.1 200", 0) == 0 && reply.ends_with("ok")) ++ok;
  }
  EXPECT_EQ(ok, kClients);
  EXPECT_EQ(handled.load(), kClients);
  // The first request ran after a whole burst of queued connections had been
  // taken; one accept per trip through the io queue would have opened only a
  // few before it.
  EXPECT_GE(open_at_first_request.load(), 200);
  (*server)->Shutdown();
}

}  // namespace
}  // namespace phigate::gateway
