#include "src/gateway/json_io.h"

#include <simdjson.h>

#include <cstdint>

#include "phigate/core/json_escape.h"

namespace phigate::gateway {

using nlohmann::json;

namespace {

// Larger documents go to nlohmann: a simdjson parser keeps buffers sized for
// the largest document it has read, per thread.
constexpr size_t kMaxFastParse = size_t{1} << 20;

// nlohmann's tree for a simdjson element. nlohmann reads a non-negative
// integer as unsigned, a negative one as signed, anything with a fraction or
// an exponent as a double; an object keeps the last value of a repeated key.
void Convert(simdjson::dom::element e, json* out) {
  switch (e.type()) {
    case simdjson::dom::element_type::OBJECT: {
      *out = json::object();
      json::object_t& o = out->get_ref<json::object_t&>();
      for (auto [key, value] : simdjson::dom::object(e)) {
        json& slot = o[std::string(key)];
        Convert(value, &slot);
      }
      return;
    }
    case simdjson::dom::element_type::ARRAY: {
      *out = json::array();
      json::array_t& a = out->get_ref<json::array_t&>();
      for (simdjson::dom::element v : simdjson::dom::array(e)) {
        a.emplace_back();
        Convert(v, &a.back());
      }
      return;
    }
    case simdjson::dom::element_type::STRING:
      *out = std::string(std::string_view(e));
      return;
    case simdjson::dom::element_type::INT64: {
      const int64_t v = int64_t(e);
      if (v >= 0) {
        *out = static_cast<uint64_t>(v);
      } else {
        *out = v;
      }
      return;
    }
    case simdjson::dom::element_type::UINT64:
      *out = uint64_t(e);
      return;
    case simdjson::dom::element_type::DOUBLE:
      *out = double(e);
      return;
    case simdjson::dom::element_type::BOOL:
      *out = bool(e);
      return;
    case simdjson::dom::element_type::NULL_VALUE:
      *out = nullptr;
      return;
  }
}

void AppendString(const std::string& s, std::string* out) {
  if (!simdjson::validate_utf8(s.data(), s.size())) {
    // nlohmann's replacement of invalid sequences, exactly (rare: the gateway
    // reads JSON, which is valid UTF-8; text it wrote itself may not be).
    out->append(json(s).dump(-1, ' ', false, json::error_handler_t::replace));
    return;
  }
  out->push_back('"');
  AppendJsonEscaped(s, out);
  out->push_back('"');
}

void AppendJson(const json& j, std::string* out) {
  switch (j.type()) {
    case json::value_t::null:
      out->append("null");
      return;
    case json::value_t::boolean:
      out->append(j.get<bool>() ? "true" : "false");
      return;
    case json::value_t::string:
      AppendString(j.get_ref<const std::string&>(), out);
      return;
    case json::value_t::array: {
      out->push_back('[');
      bool first = true;
      for (const json& v : j.get_ref<const json::array_t&>()) {
        if (!first) out->push_back(',');
        first = false;
        AppendJson(v, out);
      }
      out->push_back(']');
      return;
    }
    case json::value_t::object: {
      out->push_back('{');
      bool first = true;
      for (const auto& [key, value] : j.get_ref<const json::object_t&>()) {
        if (!first) out->push_back(',');
        first = false;
        AppendString(key, out);
        out->push_back(':');
        AppendJson(value, out);
      }
      out->push_back('}');
      return;
    }
    default:  // numbers, binary, discarded: nlohmann's own formatting
      out->append(j.dump(-1, ' ', false, json::error_handler_t::replace));
      return;
  }
}

}  // namespace

json ParseJson(std::string_view text) {
  if (text.size() <= kMaxFastParse) {
    thread_local simdjson::dom::parser parser;
    simdjson::dom::element root;
    const simdjson::error_code err = parser.parse(text.data(), text.size()).get(root);
    if (!err) {
      json out;
      Convert(root, &out);
      return out;
    }
    if (err == simdjson::DEPTH_ERROR) return json(json::value_t::discarded);
  }
  // nlohmann parses any depth; the tree's walkers and DumpJson recurse, so
  // deeper documents are refused here, as simdjson refuses them.
  bool too_deep = false;
  json out = json::parse(
      text,
      [&too_deep](int depth, json::parse_event_t, json&) {
        if (depth > static_cast<int>(kMaxJsonDepth)) too_deep = true;
        return !too_deep;
      },
      /*allow_exceptions=*/false);
  if (too_deep) return json(json::value_t::discarded);
  return out;
}

std::string DumpJson(const json& j) {
  std::string out;
  out.reserve(256);
  AppendJson(j, &out);
  return out;
}

}  // namespace phigate::gateway
