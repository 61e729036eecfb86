// JSON string escaping shared by every module that writes JSON by hand on a hot
// path (the gateway's rewritten bodies, the synthetic generator's JSONL).
#ifndef PHIGATE_CORE_JSON_ESCAPE_H_
#define PHIGATE_CORE_JSON_ESCAPE_H_

#include <string>
#include <string_view>

namespace phigate {

// Appends `s` to *out escaped for the inside of a JSON string (no quotes):
// '"', '\\' and control characters are escaped as nlohmann::json writes them
// (\b \f \n \r \t, others \u00xx); other bytes are copied as is, in runs.
inline void AppendJsonEscaped(std::string_view s, std::string* out) {
  static constexpr char kHex[] = "0123456789abcdef";
  const char* p = s.data();
  const char* const end = p + s.size();
  const char* run = p;
  for (; p < end; ++p) {
    const auto c = static_cast<unsigned char>(*p);
    if (c >= 0x20 && c != '"' && c != '\\') continue;
    out->append(run, static_cast<size_t>(p - run));
    run = p + 1;
    switch (c) {
      case '"':
        out->append("\\\"");
        break;
      case '\\':
        out->append("\\\\");
        break;
      case '\b':
        out->append("\\b");
        break;
      case '\f':
        out->append("\\f");
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
      default: {
        const char u[] = {'\\', 'u', '0', '0', kHex[c >> 4], kHex[c & 0xF]};
        out->append(u, sizeof u);
      }
    }
  }
  out->append(run, static_cast<size_t>(end - run));
}

}  // namespace phigate

#endif  // PHIGATE_CORE_JSON_ESCAPE_H_
