// Little-endian binary encoding shared by phigate's file and record formats
// (the audit record, the tagger's model file, the lexicon snapshot, the
// precompiled pattern databases), and the CRC-32C their checksums use.
//
// Integers and floats are written as their little-endian bytes whatever the
// host's byte order. Reading is bounds-checked and sticky: the first read that
// runs past the end fails, and so does every read after it, so a decoder can
// read a whole header and check ok() once, or test each read.
#ifndef PHIGATE_CORE_BYTE_IO_H_
#define PHIGATE_CORE_BYTE_IO_H_

#include <bit>
#include <concepts>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <type_traits>

namespace phigate {

// A fixed-width value the codec can write: an integer (not bool) or a float.
template <class T>
concept ByteCodable = (std::integral<T> && !std::same_as<T, bool>) || std::same_as<T, float> ||
                      std::same_as<T, double>;

namespace byte_io_internal {
template <class T>
using Bits =
    std::conditional_t<sizeof(T) == 1, uint8_t,
                       std::conditional_t<sizeof(T) == 2, uint16_t,
                                          std::conditional_t<sizeof(T) == 4, uint32_t, uint64_t>>>;
}  // namespace byte_io_internal

// Appends v's little-endian bytes to *out.
template <ByteCodable T>
void PutLe(std::string* out, T v) {
  using U = byte_io_internal::Bits<T>;
  const U u = std::bit_cast<U>(v);
  char buf[sizeof(T)];
  for (size_t i = 0; i < sizeof(T); ++i) buf[i] = static_cast<char>((u >> (8 * i)) & 0xFFu);
  out->append(buf, sizeof(T));
}

// Appends `bytes` after its length as a little-endian `Length`.
// REQUIRES: bytes.size() fits in Length.
template <std::unsigned_integral Length>
void PutLengthPrefixed(std::string* out, std::string_view bytes) {
  PutLe<Length>(out, static_cast<Length>(bytes.size()));
  out->append(bytes);
}

class ByteReader {
 public:
  // `base` is the offset of data's first byte in the whole input; offset()
  // adds it, so that errors can name the byte of the file or record.
  explicit ByteReader(std::string_view data, size_t base = 0) : data_(data), base_(base) {}

  template <ByteCodable T>
  bool Get(T* v) {
    using U = byte_io_internal::Bits<T>;
    if (!Have(sizeof(T))) return false;
    U u = 0;
    for (size_t i = 0; i < sizeof(T); ++i) {
      u = static_cast<U>(u | (U{static_cast<uint8_t>(data_[pos_ + i])} << (8 * i)));
    }
    *v = std::bit_cast<T>(u);
    pos_ += sizeof(T);
    return true;
  }

  // The next n bytes, as a view into the input.
  bool Bytes(size_t n, std::string_view* v) {
    if (!Have(n)) return false;
    *v = data_.substr(pos_, n);
    pos_ += n;
    return true;
  }

  // Bytes written by PutLengthPrefixed<Length>.
  template <std::unsigned_integral Length>
  bool LengthPrefixed(std::string_view* v) {
    Length n = 0;
    return Get(&n) && Bytes(static_cast<size_t>(n), v);
  }

  // A count (a little-endian `Length`) of items that each take at least
  // `min_item` bytes of what follows: a count larger than the rest of the
  // input could hold fails, so a damaged count cannot make the caller
  // allocate without bound.
  template <std::unsigned_integral Length>
  bool Count(size_t min_item, size_t* n) {
    Length c = 0;
    if (!Get(&c)) return false;
    if (c > remaining() / (min_item == 0 ? 1 : min_item)) return Fail();
    *n = static_cast<size_t>(c);
    return true;
  }

  bool ok() const { return ok_; }
  bool done() const { return ok_ && pos_ == data_.size(); }
  size_t remaining() const { return ok_ ? data_.size() - pos_ : 0; }
  // Offset of the next byte to read in the whole input (base + position).
  size_t offset() const { return base_ + pos_; }

 private:
  bool Have(size_t n) {
    if (!ok_ || data_.size() - pos_ < n) return Fail();
    return true;
  }
  bool Fail() {
    ok_ = false;
    return false;
  }

  std::string_view data_;
  size_t base_;
  size_t pos_ = 0;
  bool ok_ = true;
};

// CRC-32C (Castagnoli, reflected, as iSCSI and ext4 use it) of data, continuing
// from the CRC `init` of the bytes before it (0 to start). Uses the SSE4.2
// instruction when the CPU has it. Crc32c("123456789") == 0xE3069283.
uint32_t Crc32c(std::string_view data, uint32_t init = 0);

}  // namespace phigate

#endif  // PHIGATE_CORE_BYTE_IO_H_
