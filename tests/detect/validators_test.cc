// Table tests for the identifier validators (Presidio's recognizer tests):
// valid values, formatted values, and one row per way to be invalid.
#include "src/detect/validators.h"

#include "gtest/gtest.h"

namespace phigate::detect {
namespace {

struct Row {
  const char* value;
  bool valid;
};

void Check(bool (*fn)(std::string_view), std::initializer_list<Row> rows) {
  for (const Row& r : rows) EXPECT_EQ(fn(r.value), r.valid) << r.value;
}

TEST(ValidatorsTest, Luhn) {
  Check(&LuhnValid, {{"79927398713", true},
                     {"7992-7398-713", true},
                     {"79927398710", false},
                     {"", false},
                     {"12a4", false}});
}

TEST(ValidatorsTest, Npi) {
  // 1234567893 is the CMS documentation example (check digit 3).
  Check(&NpiValid, {{"1234567893", true},
                    {"1234567890", false},
                    {"123456789", false},
                    {"3234567893", false},
                    {"12345678931", false}});
}

TEST(ValidatorsTest, Dea) {
  // AB1234563: (1+3+5) + 2*(2+4+6) = 33 -> check digit 3.
  Check(&DeaValid, {{"AB1234563", true},
                    {"ab1234563", true},
                    {"AB1234564", false},
                    {"A11234563", false},
                    {"AB123456", false}});
}

TEST(ValidatorsTest, Vin) {
  // 1M8GDM9AXKP042788 is the standard check-digit example (check 'X').
  Check(&VinValid, {{"1M8GDM9AXKP042788", true},
                    {"1M8GDM9A1KP042788", false},
                    {"1M8GDM9AXKP04278", false},
                    {"IM8GDM9AXKP042788", false},
                    {"ABCDEFGHJKLMNPRST", false}});
}

TEST(ValidatorsTest, Mbi) {
  // CMS's published format example.
  Check(&MbiValid, {{"1EG4-TE5-MK73", true},
                    {"1EG4TE5MK73", true},
                    {"0EG4TE5MK73", false},
                    {"1SG4TE5MK73", false},
                    {"1EG4TE5MK7", false}});
}

TEST(ValidatorsTest, Ssn) {
  Check(&SsnValid, {{"219-09-9999", true},
                    {"219 09 9999", true},
                    {"000-12-3456", false},
                    {"666-12-3456", false},
                    {"912-12-3456", false},
                    {"219-00-9999", false},
                    {"219-09-0000", false},
                    {"219-09-999", false}});
}

TEST(ValidatorsTest, Ip) {
  Check(&Ipv4Valid, {{"192.0.2.44", true},
                     {"10.0.0.1", true},
                     {"256.1.1.1", false},
                     {"1.2.3", false},
                     {"01.2.3.4", false}});
  Check(&Ipv6Valid, {{"2001:db8::1", true},
                     {"::1", true},
                     {"2001:db8:0:0:0:0:2:1", true},
                     {"2001:db8:::1", false},
                     {"12:34", false}});
}

TEST(ValidatorsTest, CreditCard) {
  Check(&CreditCardValid, {{"4111 1111 1111 1111", true},
                           {"4111-1111-1111-1112", false},
                           {"1111 1111 1111 1117", false},
                           {"180012345678905", true},
                           {"180012345678904", false}});
}

TEST(ValidatorsTest, Iban) {
  // The ISO 13616 documentation example, a changed check, and a note's words.
  Check(&IbanValid, {{"GB82 WEST 1234 5698 7654 32", true},
                     {"GB82WEST12345698765432", true},
                     {"GB82 WEST 1234 5698 7654 33", false},
                     {"FI02 WEAN THIS SHIFT", false},
                     {"GB82", false}});
}

}  // namespace
}  // namespace phigate::detect
