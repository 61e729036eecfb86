// Check digits and format rules of the identifiers the synthetic generator
// writes (and the detection engine validates): Luhn, NPI, DEA, VIN, MBI,
// SSN ranges and the GS1 check digit of a UDI's GTIN.
//
// Header-only and dependency-free on purpose, so that any module (detect
// included) can use it without linking phigate_synth.
//
// Example:
//   phigate::synth::NpiValid("1234567893");         // true
//   phigate::synth::DeaValid("BS1234563");          // true
//   phigate::synth::VinValid("1M8GDM9AXKP042788");  // true
//   phigate::synth::MbiValid("1EG4-TE5-MK73");      // true (dashes optional)
#ifndef PHIGATE_SYNTH_CHECKSUMS_H_
#define PHIGATE_SYNTH_CHECKSUMS_H_

#include <cstddef>
#include <string>
#include <string_view>

namespace phigate::synth {

inline bool IsAsciiDigit(char c) { return c >= '0' && c <= '9'; }
inline bool IsAsciiUpper(char c) { return c >= 'A' && c <= 'Z'; }

// Luhn (mod 10) over a string of digits, the last one being the check digit.
// False for empty input or any non-digit.
inline bool LuhnValid(std::string_view digits) {
  if (digits.empty()) return false;
  int sum = 0;
  bool dbl = false;
  for (size_t i = digits.size(); i-- > 0;) {
    if (!IsAsciiDigit(digits[i])) return false;
    int d = digits[i] - '0';
    if (dbl) {
      d *= 2;
      if (d > 9) d -= 9;
    }
    sum += d;
    dbl = !dbl;
  }
  return sum % 10 == 0;
}

// The Luhn check digit to append to `payload` (digits only). '?' on a non-digit.
inline char LuhnCheckDigit(std::string_view payload) {
  int sum = 0;
  bool dbl = true;  // the rightmost payload digit is doubled once the check digit is appended
  for (size_t i = payload.size(); i-- > 0;) {
    if (!IsAsciiDigit(payload[i])) return '?';
    int d = payload[i] - '0';
    if (dbl) {
      d *= 2;
      if (d > 9) d -= 9;
    }
    sum += d;
    dbl = !dbl;
  }
  return static_cast<char>('0' + (10 - sum % 10) % 10);
}

// NPI: 10 digits, first digit 1 or 2, check digit = Luhn over "80840" + the
// first 9 digits (the ISO 7812 prefix of US health identifiers).
inline bool NpiValid(std::string_view npi) {
  if (npi.size() != 10 || (npi[0] != '1' && npi[0] != '2')) return false;
  std::string full = "80840";
  full.append(npi);
  return LuhnValid(full);
}
inline char NpiCheckDigit(std::string_view first9) {
  std::string payload = "80840";
  payload.append(first9);
  return LuhnCheckDigit(payload);
}

// DEA registration number: 2 letters + 7 digits. The first letter is a
// registrant type (A B C D E F G H J K L M P R S T U X), the second a letter
// (the registrant's surname initial) or '9'. Check: (d1+d3+d5) + 2*(d2+d4+d6)
// has d7 as its last digit.
inline bool DeaRegistrantTypeValid(char c) {
  constexpr std::string_view kTypes = "ABCDEFGHJKLMPRSTUX";
  return kTypes.find(c) != std::string_view::npos;
}
inline char DeaCheckDigit(std::string_view six_digits) {
  if (six_digits.size() != 6) return '?';
  for (char c : six_digits) {
    if (!IsAsciiDigit(c)) return '?';
  }
  const int odd = (six_digits[0] - '0') + (six_digits[2] - '0') + (six_digits[4] - '0');
  const int even = (six_digits[1] - '0') + (six_digits[3] - '0') + (six_digits[5] - '0');
  return static_cast<char>('0' + (odd + 2 * even) % 10);
}
inline bool DeaValid(std::string_view dea) {
  if (dea.size() != 9) return false;
  if (!DeaRegistrantTypeValid(dea[0])) return false;
  if (!IsAsciiUpper(dea[1]) && dea[1] != '9') return false;
  for (size_t i = 2; i < 9; ++i) {
    if (!IsAsciiDigit(dea[i])) return false;
  }
  return DeaCheckDigit(dea.substr(2, 6)) == dea[8];
}

// VIN (ISO 3779, North American check digit): 17 characters of [A-HJ-NPR-Z0-9]
// (no I, O, Q); position 9 is the check character 0-9 or X.
inline int VinTransliterate(char c) {
  if (IsAsciiDigit(c)) return c - '0';
  switch (c) {
    case 'A':
    case 'J':
      return 1;
    case 'B':
    case 'K':
    case 'S':
      return 2;
    case 'C':
    case 'L':
    case 'T':
      return 3;
    case 'D':
    case 'M':
    case 'U':
      return 4;
    case 'E':
    case 'N':
    case 'V':
      return 5;
    case 'F':
    case 'W':
      return 6;
    case 'G':
    case 'P':
    case 'X':
      return 7;
    case 'H':
    case 'Y':
      return 8;
    case 'R':
    case 'Z':
      return 9;
    default:
      return -1;  // I, O, Q and anything else
  }
}
// The check character for a 17-character VIN (position 9 is ignored). '?' when
// a character is not allowed.
inline char VinCheckChar(std::string_view vin) {
  if (vin.size() != 17) return '?';
  constexpr int kWeights[17] = {8, 7, 6, 5, 4, 3, 2, 10, 0, 9, 8, 7, 6, 5, 4, 3, 2};
  int sum = 0;
  for (size_t i = 0; i < 17; ++i) {
    const int v = VinTransliterate(vin[i]);
    if (v < 0) return '?';
    sum += v * kWeights[i];
  }
  const int r = sum % 11;
  return r == 10 ? 'X' : static_cast<char>('0' + r);
}
inline bool VinValid(std::string_view vin) {
  if (vin.size() != 17) return false;
  const char check = VinCheckChar(vin);
  return check != '?' && check == vin[8];
}

// Medicare Beneficiary Identifier (CMS format): 11 characters, optionally
// written 4-3-4 with dashes. Positions (1-based): 1 digit 1-9; 2, 5, 8, 9
// letters; 3, 6 letter or digit; 4, 7, 10, 11 digits. Letters exclude
// S, L, O, I, B, Z.
inline bool MbiLetter(char c) {
  return IsAsciiUpper(c) && c != 'S' && c != 'L' && c != 'O' && c != 'I' && c != 'B' && c != 'Z';
}
inline bool MbiValid(std::string_view mbi) {
  std::string s;
  if (mbi.size() == 13) {
    if (mbi[4] != '-' || mbi[8] != '-') return false;
    s.append(mbi.substr(0, 4)).append(mbi.substr(5, 3)).append(mbi.substr(9, 4));
  } else if (mbi.size() == 11) {
    s.assign(mbi);
  } else {
    return false;
  }
  // n = 1-9, d = 0-9, a = letter, x = letter or digit
  constexpr std::string_view kShape = "naxdaxdaadd";
  for (size_t i = 0; i < 11; ++i) {
    const char c = s[i];
    switch (kShape[i]) {
      case 'n':
        if (c < '1' || c > '9') return false;
        break;
      case 'd':
        if (!IsAsciiDigit(c)) return false;
        break;
      case 'a':
        if (!MbiLetter(c)) return false;
        break;
      default:
        if (!IsAsciiDigit(c) && !MbiLetter(c)) return false;
        break;
    }
  }
  return true;
}

// SSN number ranges the SSA issues: area 001-899 except 666, group 01-99,
// serial 0001-9999. Accepts "123-45-6789", "123 45 6789" or 9 digits.
inline bool SsnValid(std::string_view ssn) {
  std::string d;
  for (size_t i = 0; i < ssn.size(); ++i) {
    const char c = ssn[i];
    if (IsAsciiDigit(c)) {
      d.push_back(c);
    } else if ((c == '-' || c == ' ') && (i == 3 || i == 6)) {
      continue;
    } else {
      return false;
    }
  }
  if (d.size() != 9) return false;
  if (ssn.size() != 9 && ssn.size() != 11) return false;
  if (ssn.size() == 11 && ssn[3] != ssn[6]) return false;
  const int area = (d[0] - '0') * 100 + (d[1] - '0') * 10 + (d[2] - '0');
  const int group = (d[3] - '0') * 10 + (d[4] - '0');
  const int serial = (d[5] - '0') * 1000 + (d[6] - '0') * 100 + (d[7] - '0') * 10 + (d[8] - '0');
  return area != 0 && area != 666 && area < 900 && group != 0 && serial != 0;
}

// GS1 mod-10 check digit (GTIN-8/12/13/14, the (01) element of a UDI): weights
// 3,1,3,1... from the rightmost payload digit. '?' on a non-digit.
inline char Gs1CheckDigit(std::string_view payload) {
  int sum = 0;
  int w = 3;
  for (size_t i = payload.size(); i-- > 0;) {
    if (!IsAsciiDigit(payload[i])) return '?';
    sum += (payload[i] - '0') * w;
    w = 4 - w;
  }
  return static_cast<char>('0' + (10 - sum % 10) % 10);
}
inline bool GtinValid(std::string_view gtin) {
  if (gtin.size() != 8 && gtin.size() != 12 && gtin.size() != 13 && gtin.size() != 14) {
    return false;
  }
  return Gs1CheckDigit(gtin.substr(0, gtin.size() - 1)) == gtin.back();
}

}  // namespace phigate::synth

#endif  // PHIGATE_SYNTH_CHECKSUMS_H_
