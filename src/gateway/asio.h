// The one place the gateway includes Boost.Asio/Beast. <utility> first: Boost
// 1.74's awaitable.hpp uses std::exchange without including it.
#ifndef PHIGATE_SRC_GATEWAY_ASIO_H_
#define PHIGATE_SRC_GATEWAY_ASIO_H_

// clang-format off
#include <utility>
#include <boost/asio.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
// clang-format on

namespace phigate::gateway {
namespace net = boost::asio;
namespace beast = boost::beast;
namespace http = boost::beast::http;
namespace ssl = boost::asio::ssl;
}  // namespace phigate::gateway

#endif  // PHIGATE_SRC_GATEWAY_ASIO_H_
