// Incremental Server-Sent Events parser (the subset model APIs use): lines
// "event: x" and "data: y", events ended by a blank line, CRLF or LF, comments
// (":...") ignored. Bytes may arrive split anywhere.
#ifndef PHIGATE_SRC_GATEWAY_SSE_H_
#define PHIGATE_SRC_GATEWAY_SSE_H_

#include <string>
#include <string_view>
#include <vector>

namespace phigate::gateway {

struct SseEvent {
  std::string event;  // "" when the event had no "event:" line
  std::string data;   // "data:" lines joined by '\n'
};

class SseParser {
 public:
  // Appends every event completed by `bytes` to *out. Returns false when the
  // buffered incomplete event grows over `max_event_bytes` (a malformed stream).
  bool Feed(std::string_view bytes, std::vector<SseEvent>* out);
  // True when bytes of an unfinished event are buffered (a truncated stream).
  bool has_partial() const { return !line_.empty() || has_fields_; }
  void set_max_event_bytes(size_t n) { max_event_bytes_ = n; }

 private:
  void Line(std::string_view line, std::vector<SseEvent>* out);
  std::string line_;
  SseEvent cur_;
  bool has_fields_ = false;
  bool data_seen_ = false;
  size_t max_event_bytes_ = size_t{8} << 20;
};

// Serializes one event ("event: x\ndata: y\n\n"; multi-line data split).
void AppendSse(std::string_view event, std::string_view data, std::string* out);

}  // namespace phigate::gateway

#endif  // PHIGATE_SRC_GATEWAY_SSE_H_
