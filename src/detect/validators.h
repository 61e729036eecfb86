// Check-digit and range validators for identifiers (Presidio's validate_result).
// Each takes the matched text (separators allowed) and returns true when the
// value is structurally valid. They never allocate on the heap.
#ifndef PHIGATE_SRC_DETECT_VALIDATORS_H_
#define PHIGATE_SRC_DETECT_VALIDATORS_H_

#include <string_view>

namespace phigate::detect {

bool LuhnValid(std::string_view digits_with_separators);
bool NpiValid(std::string_view s);         // 10 digits, Luhn over "80840" + digits
bool DeaValid(std::string_view s);         // 2 letters + 7 digits with DEA check digit
bool VinValid(std::string_view s);         // 17 chars, ISO 3779 check digit (position 9)
bool MbiValid(std::string_view s);         // Medicare Beneficiary Identifier format
bool SsnValid(std::string_view s);         // area not 000/666/9xx, group not 00, serial not 0000
bool Ipv4Valid(std::string_view s);        // four octets 0..255, no leading zeros beyond "0"
bool Ipv6Valid(std::string_view s);        // inet_pton-equivalent
bool CreditCardValid(std::string_view s);  // 13-19 digits, Luhn, known IIN ranges
bool IbanValid(std::string_view s);        // ISO 13616: 15-34 characters, mod-97 check == 1

}  // namespace phigate::detect

#endif  // PHIGATE_SRC_DETECT_VALIDATORS_H_
