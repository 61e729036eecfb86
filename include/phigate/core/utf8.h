// UTF-8 helpers. Detection works on bytes; evaluation data counts code points.
#ifndef PHIGATE_CORE_UTF8_H_
#define PHIGATE_CORE_UTF8_H_

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

namespace phigate {

// Returns the byte offset of the first invalid UTF-8 sequence, or npos if the
// text is valid (overlong forms, surrogates and code points > U+10FFFF are invalid).
size_t FindInvalidUtf8(std::string_view text);

// Replaces every invalid sequence by U+FFFD. Valid text is returned unchanged.
std::string SanitizeUtf8(std::string_view text);

// The bytes SanitizeUtf8 would replace (each invalid byte is one U+FFFD).
size_t CountInvalidUtf8(std::string_view text);

// Maps byte offsets to code point offsets for one text. REQUIRES: valid UTF-8.
class Utf8OffsetMap {
 public:
  explicit Utf8OffsetMap(std::string_view text);
  // Code point index of byte offset b (b may equal text.size()).
  size_t ToCodePoint(size_t byte_offset) const;
  // Byte offset of code point index cp (cp may equal the code point count).
  size_t ToByte(size_t code_point) const;
  size_t code_points() const { return cp_to_byte_.size() - 1; }

 private:
  std::vector<size_t> cp_to_byte_;
};

}  // namespace phigate

#endif  // PHIGATE_CORE_UTF8_H_
