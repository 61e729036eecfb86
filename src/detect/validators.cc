#include "src/detect/validators.h"

#include <arpa/inet.h>

#include <array>
#include <cctype>
#include <cstring>

namespace phigate::detect {
namespace {

bool IsDigit(char c) { return c >= '0' && c <= '9'; }
bool IsSep(char c) { return c == '-' || c == ' ' || c == '.' || c == '/'; }

// Copies the alphanumerics of s (upper-cased) into buf; false if more than cap.
template <size_t N>
bool Compact(std::string_view s, std::array<char, N>& buf, size_t* n) {
  *n = 0;
  for (char c : s) {
    if (IsSep(c)) continue;
    if (!std::isalnum(static_cast<unsigned char>(c))) return false;
    if (*n >= N) return false;
    buf[(*n)++] = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  }
  return true;
}

bool LuhnDigits(const char* d, size_t n) {
  int sum = 0;
  bool dbl = false;
  for (size_t i = n; i-- > 0;) {
    if (!IsDigit(d[i])) return false;
    int v = d[i] - '0';
    if (dbl) {
      v *= 2;
      if (v > 9) v -= 9;
    }
    sum += v;
    dbl = !dbl;
  }
  return n > 0 && sum % 10 == 0;
}

}  // namespace

bool LuhnValid(std::string_view s) {
  std::array<char, 32> buf;
  size_t n;
  return Compact(s, buf, &n) && n >= 2 && LuhnDigits(buf.data(), n);
}

bool NpiValid(std::string_view s) {
  std::array<char, 16> buf;
  size_t n;
  if (!Compact(s, buf, &n) || n != 10 || (buf[0] != '1' && buf[0] != '2')) return false;
  std::array<char, 15> full{'8', '0', '8', '4', '0'};
  std::memcpy(full.data() + 5, buf.data(), 10);
  return LuhnDigits(full.data(), 15);
}

bool DeaValid(std::string_view s) {
  std::array<char, 12> b;
  size_t n;
  if (!Compact(s, b, &n) || n != 9) return false;
  if (!std::isalpha(static_cast<unsigned char>(b[0]))) return false;
  if (!std::isalpha(static_cast<unsigned char>(b[1])) && b[1] != '9') return false;
  for (size_t i = 2; i < 9; ++i) {
    if (!IsDigit(b[i])) return false;
  }
  const int d1 = b[2] - '0', d2 = b[3] - '0', d3 = b[4] - '0', d4 = b[5] - '0', d5 = b[6] - '0',
            d6 = b[7] - '0', check = b[8] - '0';
  return ((d1 + d3 + d5) + 2 * (d2 + d4 + d6)) % 10 == check;
}

bool VinValid(std::string_view s) {
  std::array<char, 20> b;
  size_t n;
  if (!Compact(s, b, &n) || n != 17) return false;
  static constexpr int kWeights[17] = {8, 7, 6, 5, 4, 3, 2, 10, 0, 9, 8, 7, 6, 5, 4, 3, 2};
  int sum = 0;
  bool has_digit = false;
  for (size_t i = 0; i < 17; ++i) {
    const char c = b[i];
    int v;
    if (IsDigit(c)) {
      v = c - '0';
      has_digit = true;
    } else {
      if (c == 'I' || c == 'O' || c == 'Q') return false;
      static constexpr std::string_view kMap = "12345678.12345.7.923456789";  // A..Z
      const char m = kMap[static_cast<size_t>(c - 'A')];
      if (m == '.') return false;
      v = m - '0';
    }
    sum += v * kWeights[i];
  }
  const int rem = sum % 11;
  const char expect = rem == 10 ? 'X' : static_cast<char>('0' + rem);
  return has_digit && b[8] == expect;
}

bool MbiValid(std::string_view s) {
  std::array<char, 14> b;
  size_t n;
  if (!Compact(s, b, &n) || n != 11) return false;
  auto alpha = [](char c) { return c >= 'A' && c <= 'Z' && std::strchr("SLOIBZ", c) == nullptr; };
  auto digit = [](char c) { return IsDigit(c); };
  auto an = [&](char c) { return alpha(c) || digit(c); };
  return b[0] >= '1' && b[0] <= '9' && alpha(b[1]) && an(b[2]) && digit(b[3]) && alpha(b[4]) &&
         an(b[5]) && digit(b[6]) && alpha(b[7]) && alpha(b[8]) && digit(b[9]) && digit(b[10]);
}

bool SsnValid(std::string_view s) {
  std::array<char, 12> b;
  size_t n;
  if (!Compact(s, b, &n) || n != 9) return false;
  for (size_t i = 0; i < 9; ++i) {
    if (!IsDigit(b[i])) return false;
  }
  const std::string_view d(b.data(), 9);
  if (d.substr(0, 3) == "000" || d.substr(0, 3) == "666" || d[0] == '9') return false;
  if (d.substr(3, 2) == "00" || d.substr(5, 4) == "0000") return false;
  return d != "123456789" && d != "111111111";
}

bool Ipv4Valid(std::string_view s) {
  int parts = 0;
  size_t i = 0;
  while (i <= s.size()) {
    size_t j = i;
    int v = 0;
    while (j < s.size() && IsDigit(s[j]) && j - i < 3) v = v * 10 + (s[j++] - '0');
    if (j == i || v > 255 || (j - i > 1 && s[i] == '0')) return false;
    ++parts;
    if (j == s.size()) break;
    if (s[j] != '.') return false;
    i = j + 1;
  }
  return parts == 4;
}

bool Ipv6Valid(std::string_view s) {
  if (s.size() < 2 || s.size() > 45) return false;
  char buf[64];
  std::memcpy(buf, s.data(), s.size());
  buf[s.size()] = '\0';
  unsigned char out[16];
  return inet_pton(AF_INET6, buf, out) == 1;
}

bool CreditCardValid(std::string_view s) {
  std::array<char, 24> b;
  size_t n;
  if (!Compact(s, b, &n) || n < 13 || n > 19) return false;
  // Issuer prefixes: 2/5 Mastercard, 3 Amex/Diners/JCB, 4 Visa, 6 Discover/UnionPay,
  // and the 15-digit JCB ranges 1800 and 2131.
  const bool jcb15 = n == 15 && b[0] == '1' && b[1] == '8' && b[2] == '0' && b[3] == '0';
  if (!jcb15 && b[0] != '3' && b[0] != '4' && b[0] != '5' && b[0] != '6' && b[0] != '2') {
    return false;
  }
  return LuhnDigits(b.data(), n);
}

bool IbanValid(std::string_view s) {
  // Letters and digits only (spaces skipped); the first four characters move
  // to the end, letters become 10..35, and the number mod 97 must be 1.
  char buf[40];
  size_t n = 0;
  for (char c : s) {
    if (c == ' ') continue;
    if (n >= sizeof(buf)) return false;
    const auto u = static_cast<unsigned char>(c);
    if (!std::isalnum(u)) return false;
    buf[n++] = static_cast<char>(std::toupper(u));
  }
  if (n < 15 || n > 34 || !std::isalpha(static_cast<unsigned char>(buf[0])) ||
      !std::isalpha(static_cast<unsigned char>(buf[1])) ||
      !std::isdigit(static_cast<unsigned char>(buf[2])) ||
      !std::isdigit(static_cast<unsigned char>(buf[3]))) {
    return false;
  }
  unsigned rem = 0;
  for (size_t k = 0; k < n; ++k) {
    const char c = buf[(k + 4) % n];
    if (std::isdigit(static_cast<unsigned char>(c))) {
      rem = (rem * 10 + static_cast<unsigned>(c - '0')) % 97;
    } else {
      rem = (rem * 100 + static_cast<unsigned>(c - 'A' + 10)) % 97;
    }
  }
  return rem == 1;
}

}  // namespace phigate::detect
