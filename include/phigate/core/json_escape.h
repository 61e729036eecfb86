// JSON string escaping shared by every module that writes JSON by hand on a hot
// path (the gateway's rewritten bodies, the synthetic generator's JSONL).
#ifndef PHIGATE_CORE_JSON_ESCAPE_H_
#define PHIGATE_CORE_JSON_ESCAPE_H_

#include <string>
#include <string_view>

namespace phigate {

// Appends `s` to *out escaped for the inside of a JSON string (no quotes):
// '"', '\\' and control characters are escaped; other bytes are copied as is.
inline void AppendJsonEscaped(std::string_view s, std::string* out) {
  static constexpr char kHex[] = "0123456789abcdef";
  for (char c : s) {
    const auto u = static_cast<unsigned char>(c);
    switch (c) {
      case '"':
        out->append("\\\"");
        break;
      case '\\':
        out->append("\\\\");
        break;
      case '\n':
        out->append("\\n");
        break;
      case '\r':
        out->append("\\r");
        break;
      case '\t':
        out->append("\\t");
        break;
      default:
        if (u < 0x20) {
          out->append("\\u00");
          out->push_back(kHex[u >> 4]);
          out->push_back(kHex[u & 0xF]);
        } else {
          out->push_back(c);
        }
    }
  }
}

}  // namespace phigate

#endif  // PHIGATE_CORE_JSON_ESCAPE_H_
