#include "src/gateway/sse.h"

namespace phigate::gateway {

bool SseParser::Feed(std::string_view bytes, std::vector<SseEvent>* out) {
  size_t pos = 0;
  while (pos < bytes.size()) {
    const size_t nl = bytes.find('\n', pos);
    if (nl == std::string_view::npos) {
      line_.append(bytes.substr(pos));
      break;
    }
    std::string_view piece = bytes.substr(pos, nl - pos);
    pos = nl + 1;
    if (!line_.empty()) {
      line_.append(piece);
      std::string line = std::move(line_);
      line_.clear();
      std::string_view lv = line;
      if (!lv.empty() && lv.back() == '\r') lv.remove_suffix(1);
      Line(lv, out);
    } else {
      if (!piece.empty() && piece.back() == '\r') piece.remove_suffix(1);
      Line(piece, out);
    }
  }
  return line_.size() + cur_.data.size() <= max_event_bytes_;
}

void SseParser::Line(std::string_view line, std::vector<SseEvent>* out) {
  if (line.empty()) {
    if (has_fields_) {
      if (data_seen_ || !cur_.event.empty()) out->push_back(std::move(cur_));
      cur_ = SseEvent{};
      has_fields_ = false;
      data_seen_ = false;
    }
    return;
  }
  if (line[0] == ':') return;  // comment / keep-alive
  const size_t colon = line.find(':');
  std::string_view field = line.substr(0, colon);
  std::string_view value;
  if (colon != std::string_view::npos) {
    value = line.substr(colon + 1);
    if (!value.empty() && value[0] == ' ') value.remove_prefix(1);
  }
  if (field == "data") {
    if (data_seen_) cur_.data.push_back('\n');
    cur_.data.append(value);
    data_seen_ = true;
    has_fields_ = true;
  } else if (field == "event") {
    cur_.event.assign(value);
    has_fields_ = true;
  }
  // id/retry and unknown fields are ignored.
}

void AppendSse(std::string_view event, std::string_view data, std::string* out) {
  if (!event.empty()) {
    out->append("event: ");
    out->append(event);
    out->push_back('\n');
  }
  size_t pos = 0;
  while (true) {
    const size_t nl = data.find('\n', pos);
    out->append("data: ");
    out->append(data.substr(pos, nl == std::string_view::npos ? std::string_view::npos : nl - pos));
    out->push_back('\n');
    if (nl == std::string_view::npos) break;
    pos = nl + 1;
  }
  out->push_back('\n');
}

}  // namespace phigate::gateway
