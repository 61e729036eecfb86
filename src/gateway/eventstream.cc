#include "src/gateway/eventstream.h"

#include <zlib.h>

#include <algorithm>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"

namespace phigate::gateway::eventstream {

namespace {

constexpr size_t kPreludeBytes = 12;   // total length, headers length, prelude CRC
constexpr size_t kOverheadBytes = 16;  // prelude + message CRC

uint32_t Crc32(std::string_view bytes) {
  // Every length here fits a uint32 (the prelude's total length field).
  return static_cast<uint32_t>(
      crc32(0L, reinterpret_cast<const Bytef*>(bytes.data()), static_cast<uInt>(bytes.size())));
}

// Big-endian unsigned integer of n (<= 8) bytes at p; the caller checked the bounds.
uint64_t ReadBE(const char* p, size_t n) {
  uint64_t v = 0;
  for (size_t i = 0; i < n; ++i) v = (v << 8) | static_cast<unsigned char>(p[i]);
  return v;
}

void AppendBE(uint64_t v, size_t n, std::string* out) {
  for (size_t i = n; i-- > 0;) out->push_back(static_cast<char>((v >> (8 * i)) & 0xFF));
}

// Parses the header block (exactly the headers-length bytes) into *out.
Status DecodeHeaders(std::string_view h, uint64_t offset,
                     std::vector<std::pair<std::string, std::string>>* out) {
  auto bad = [offset](std::string_view what) {
    return absl::DataLossError(
        absl::StrCat("event stream: ", ToAbsl(what), " in the message at stream offset ", offset));
  };
  size_t pos = 0;
  while (pos < h.size()) {
    const size_t name_len = static_cast<unsigned char>(h[pos++]);
    if (name_len == 0) return bad("empty header name");
    if (h.size() - pos < name_len + 1) return bad("truncated header");
    std::string name(h.substr(pos, name_len));
    pos += name_len;
    const auto type = static_cast<unsigned char>(h[pos++]);
    size_t fixed = 0;  // size of a fixed-size value
    switch (type) {
      case 0:
      case 1:
        out->emplace_back(std::move(name), type == 0 ? "true" : "false");
        continue;
      case 2:
        fixed = 1;
        break;
      case 3:
        fixed = 2;
        break;
      case 4:
        fixed = 4;
        break;
      case 5:
      case 8:
        fixed = 8;
        break;
      case 9:
        fixed = 16;
        break;
      case 6:
      case 7: {
        if (h.size() - pos < 2) return bad("truncated header");
        const auto len = static_cast<size_t>(ReadBE(h.data() + pos, 2));
        pos += 2;
        if (h.size() - pos < len) return bad("truncated header");
        out->emplace_back(std::move(name), std::string(h.substr(pos, len)));
        pos += len;
        continue;
      }
      default:
        return bad("unknown header value type");
    }
    if (h.size() - pos < fixed) return bad("truncated header");
    const char* p = h.data() + pos;
    std::string value;
    switch (type) {
      case 2:
        value = absl::StrCat(static_cast<int8_t>(ReadBE(p, 1)));
        break;
      case 3:
        value = absl::StrCat(static_cast<int16_t>(ReadBE(p, 2)));
        break;
      case 4:
        value = absl::StrCat(static_cast<int32_t>(ReadBE(p, 4)));
        break;
      case 9:
        value = absl::BytesToHexString(ToAbsl(std::string_view(p, 16)));
        break;
      default:
        value = absl::StrCat(static_cast<int64_t>(ReadBE(p, 8)));
        break;  // 5, 8
    }
    pos += fixed;
    out->emplace_back(std::move(name), std::move(value));
  }
  return absl::OkStatus();
}

}  // namespace

std::string_view Message::Header(std::string_view name) const {
  for (const auto& [n, v] : headers) {
    if (n == name) return v;
  }
  return {};
}

Decoder::Decoder(size_t max_message_bytes) : max_message_bytes_(max_message_bytes) {}

Status Decoder::Fail(Status s) {
  status_ = std::move(s);
  std::string().swap(buffer_);
  return status_;
}

Status Decoder::CheckPrelude(std::string_view prelude, uint32_t* total) {
  const auto t = static_cast<uint32_t>(ReadBE(prelude.data(), 4));
  const auto headers = static_cast<uint32_t>(ReadBE(prelude.data() + 4, 4));
  if (Crc32(prelude.substr(0, 8)) != static_cast<uint32_t>(ReadBE(prelude.data() + 8, 4))) {
    return absl::DataLossError(
        absl::StrCat("event stream: bad prelude CRC in the message at stream offset ", offset_));
  }
  if (t < kOverheadBytes || t > max_message_bytes_) {
    return absl::DataLossError(absl::StrCat("event stream: message length outside [16, ",
                                            max_message_bytes_, "] at stream offset ", offset_));
  }
  if (headers > t - kOverheadBytes) {
    return absl::DataLossError(
        absl::StrCat("event stream: headers longer than their message at stream offset ", offset_));
  }
  *total = t;
  return absl::OkStatus();
}

Status Decoder::DecodeMessage(std::string_view bytes, Message* out) {
  // bytes: one whole message whose prelude CheckPrelude accepted.
  const size_t body_end = bytes.size() - 4;
  if (Crc32(bytes.substr(0, body_end)) !=
      static_cast<uint32_t>(ReadBE(bytes.data() + body_end, 4))) {
    return absl::DataLossError(
        absl::StrCat("event stream: bad message CRC in the message at stream offset ", offset_));
  }
  const auto headers_len = static_cast<size_t>(ReadBE(bytes.data() + 4, 4));
  PHIGATE_RETURN_IF_ERROR(
      DecodeHeaders(bytes.substr(kPreludeBytes, headers_len), offset_, &out->headers));
  out->payload.assign(
      bytes.substr(kPreludeBytes + headers_len, body_end - kPreludeBytes - headers_len));
  return absl::OkStatus();
}

Status Decoder::Feed(std::string_view bytes, std::vector<Message>* out) {
  if (!status_.ok()) return status_;
  while (!bytes.empty()) {
    if (buffer_.empty() && bytes.size() >= kPreludeBytes) {
      // A message starts here: decode it in place when it is all there.
      uint32_t total = 0;
      if (Status s = CheckPrelude(bytes.substr(0, kPreludeBytes), &total); !s.ok()) {
        return Fail(std::move(s));
      }
      if (bytes.size() < total) {
        buffer_.assign(bytes);
        expected_ = total;
        return absl::OkStatus();
      }
      Message m;
      if (Status s = DecodeMessage(bytes.substr(0, total), &m); !s.ok()) return Fail(std::move(s));
      out->push_back(std::move(m));
      bytes.remove_prefix(total);
      offset_ += total;
      continue;
    }
    if (buffer_.size() < kPreludeBytes) {
      const size_t take = std::min(kPreludeBytes - buffer_.size(), bytes.size());
      buffer_.append(bytes.substr(0, take));
      bytes.remove_prefix(take);
      if (buffer_.size() < kPreludeBytes) break;
      if (Status s = CheckPrelude(buffer_, &expected_); !s.ok()) return Fail(std::move(s));
    }
    const size_t take = std::min(expected_ - buffer_.size(), bytes.size());
    buffer_.append(bytes.substr(0, take));
    bytes.remove_prefix(take);
    if (buffer_.size() < expected_) break;
    Message m;
    if (Status s = DecodeMessage(buffer_, &m); !s.ok()) return Fail(std::move(s));
    out->push_back(std::move(m));
    offset_ += expected_;
    // Keep no large allocation between messages.
    if (buffer_.capacity() > (size_t{64} << 10)) {
      std::string().swap(buffer_);
    } else {
      buffer_.clear();
    }
  }
  return absl::OkStatus();
}

std::string Encode(const std::vector<std::pair<std::string, std::string>>& string_headers,
                   std::string_view payload) {
  std::string headers;
  for (const auto& [name, value] : string_headers) {
    const size_t n = std::min<size_t>(name.size(), 255);
    const size_t v = std::min<size_t>(value.size(), 65535);
    headers.push_back(static_cast<char>(n));
    headers.append(name, 0, n);
    headers.push_back(7);
    AppendBE(v, 2, &headers);
    headers.append(value, 0, v);
  }
  const size_t total = kOverheadBytes + headers.size() + payload.size();
  std::string out;
  out.reserve(total);
  AppendBE(total, 4, &out);
  AppendBE(headers.size(), 4, &out);
  AppendBE(Crc32(out), 4, &out);
  out.append(headers);
  out.append(payload);
  AppendBE(Crc32(out), 4, &out);
  return out;
}

}  // namespace phigate::gateway::eventstream
