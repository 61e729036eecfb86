#include "phigate/core/utf8.h"

#include <cstdint>

namespace phigate {
namespace {

// Length of the valid UTF-8 sequence at text[i], or 0 if invalid.
size_t ValidSequenceLength(std::string_view text, size_t i) {
  const auto b0 = static_cast<uint8_t>(text[i]);
  if (b0 < 0x80) return 1;
  size_t n;
  uint32_t cp;
  if ((b0 & 0xE0) == 0xC0) {
    n = 2;
    cp = b0 & 0x1Fu;
  } else if ((b0 & 0xF0) == 0xE0) {
    n = 3;
    cp = b0 & 0x0Fu;
  } else if ((b0 & 0xF8) == 0xF0) {
    n = 4;
    cp = b0 & 0x07u;
  } else {
    return 0;
  }
  if (i + n > text.size()) return 0;
  for (size_t k = 1; k < n; ++k) {
    const auto b = static_cast<uint8_t>(text[i + k]);
    if ((b & 0xC0) != 0x80) return 0;
    cp = (cp << 6) | (b & 0x3Fu);
  }
  static constexpr uint32_t kMin[5] = {0, 0, 0x80, 0x800, 0x10000};
  if (cp < kMin[n] || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return 0;
  return n;
}

}  // namespace

size_t FindInvalidUtf8(std::string_view text) {
  size_t i = 0;
  while (i < text.size()) {
    // Fast path over ASCII, eight bytes at a time.
    while (i + 8 <= text.size()) {
      uint64_t w;
      __builtin_memcpy(&w, text.data() + i, 8);
      if (w & 0x8080808080808080ull) break;
      i += 8;
    }
    if (i >= text.size()) break;
    const size_t n = ValidSequenceLength(text, i);
    if (n == 0) return i;
    i += n;
  }
  return std::string_view::npos;
}

size_t CountInvalidUtf8(std::string_view text) {
  size_t invalid = 0;
  for (size_t i = FindInvalidUtf8(text); i < text.size();) {
    const size_t n = ValidSequenceLength(text, i);
    invalid += n == 0 ? 1 : 0;
    i += n == 0 ? 1 : n;
  }
  return invalid;
}

std::string SanitizeUtf8(std::string_view text) {
  if (FindInvalidUtf8(text) == std::string_view::npos) return std::string(text);
  std::string out;
  out.reserve(text.size());
  size_t i = 0;
  while (i < text.size()) {
    const size_t n = ValidSequenceLength(text, i);
    if (n == 0) {
      out += "\xEF\xBF\xBD";
      ++i;
    } else {
      out.append(text.substr(i, n));
      i += n;
    }
  }
  return out;
}

Utf8OffsetMap::Utf8OffsetMap(std::string_view text) {
  cp_to_byte_.reserve(text.size() + 1);
  for (size_t i = 0; i < text.size(); ++i) {
    if ((static_cast<uint8_t>(text[i]) & 0xC0) != 0x80) cp_to_byte_.push_back(i);
  }
  cp_to_byte_.push_back(text.size());
}

size_t Utf8OffsetMap::ToCodePoint(size_t byte_offset) const {
  // First code point whose byte offset is >= byte_offset.
  size_t lo = 0, hi = cp_to_byte_.size() - 1;
  while (lo < hi) {
    const size_t mid = (lo + hi) / 2;
    if (cp_to_byte_[mid] < byte_offset) {
      lo = mid + 1;
    } else {
      hi = mid;
    }
  }
  return lo;
}

size_t Utf8OffsetMap::ToByte(size_t code_point) const {
  if (code_point >= cp_to_byte_.size()) return cp_to_byte_.back();
  return cp_to_byte_[code_point];
}

}  // namespace phigate
