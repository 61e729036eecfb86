// JSON in and out of the gateway's request path, as nlohmann::json trees but
// faster than nlohmann's own lexer and serializer: a request body is parsed
// and written again on every request (docs/gateway.md, "Session 17").
//
//   nlohmann::json j = ParseJson(body);  // discarded() when malformed
//   std::string out = DumpJson(j);
//
// Both give exactly what nlohmann gives (tests/gateway/json_io_test.cc), but
// for one number: "-0" is nlohmann's signed 0 and ParseJson's unsigned 0
// (equal, and both write "0").
#ifndef PHIGATE_SRC_GATEWAY_JSON_IO_H_
#define PHIGATE_SRC_GATEWAY_JSON_IO_H_

#include <string>
#include <string_view>

#include "nlohmann/json.hpp"

namespace phigate::gateway {

// Arrays and objects nested deeper than this are refused: the walkers of a
// tree and DumpJson recurse once per level (simdjson's default limit).
inline constexpr size_t kMaxJsonDepth = 1024;

// nlohmann::json::parse(text, nullptr, /*allow_exceptions=*/false): the same
// tree (a key given twice keeps its last value), or a discarded value when
// `text` is not JSON or nests deeper than kMaxJsonDepth. simdjson reads the
// text; what it does not take (numbers beyond 64 bits, texts over 1 MiB) is
// left to nlohmann.
nlohmann::json ParseJson(std::string_view text);

// j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace): compact,
// UTF-8 as is, invalid UTF-8 replaced by U+FFFD; never throws.
std::string DumpJson(const nlohmann::json& j);

// Reading what a client or a vendor sent, without nlohmann's value() or
// get<>() on a value of unchecked type (which throw):
// the member `key` of `o`, or nullptr when `o` is null, no object or has no
// such member;
inline const nlohmann::json* Member(const nlohmann::json* o, std::string_view key) {
  if (o == nullptr || !o->is_object()) return nullptr;
  auto it = o->find(key);
  return it == o->end() ? nullptr : &*it;
}
inline const nlohmann::json* Member(const nlohmann::json& o, std::string_view key) {
  return Member(&o, key);
}
// the string `v` holds, else `fallback`;
inline std::string StringOr(const nlohmann::json* v, std::string_view fallback) {
  return v != nullptr && v->is_string() ? v->get<std::string>() : std::string(fallback);
}
// a token count: the integer given, else 0.
inline nlohmann::json CountOr(const nlohmann::json* v) {
  return v != nullptr && v->is_number_integer() ? *v : nlohmann::json(0);
}

}  // namespace phigate::gateway

#endif  // PHIGATE_SRC_GATEWAY_JSON_IO_H_
