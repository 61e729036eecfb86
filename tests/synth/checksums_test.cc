#include "phigate/synth/checksums.h"

#include <string>

#include "gtest/gtest.h"

namespace phigate::synth {
namespace {

TEST(LuhnTest, KnownValues) {
  EXPECT_TRUE(LuhnValid("79927398713"));
  EXPECT_FALSE(LuhnValid("79927398710"));
  EXPECT_FALSE(LuhnValid(""));
  EXPECT_FALSE(LuhnValid("7992739871a"));
  EXPECT_EQ(LuhnCheckDigit("7992739871"), '3');
  EXPECT_EQ(LuhnCheckDigit("12a"), '?');
}

TEST(NpiTest, ValidAndInvalid) {
  EXPECT_TRUE(NpiValid("1234567893"));   // the CMS example
  EXPECT_FALSE(NpiValid("1234567890"));  // check digit
  EXPECT_FALSE(NpiValid("3234567893"));  // first digit must be 1 or 2
  EXPECT_FALSE(NpiValid("123456789"));   // length
  EXPECT_FALSE(NpiValid("12345678931"));
  EXPECT_FALSE(NpiValid("12345a7893"));
  EXPECT_EQ(NpiCheckDigit("123456789"), '3');
}

TEST(DeaTest, ValidAndInvalid) {
  EXPECT_TRUE(DeaValid("BS1234563"));
  EXPECT_TRUE(DeaValid("M91234563"));   // '9' instead of a surname initial
  EXPECT_FALSE(DeaValid("BS1234564"));  // check digit
  EXPECT_FALSE(DeaValid("IS1234563"));  // I is no registrant type
  EXPECT_FALSE(DeaValid("Bs1234563"));
  EXPECT_FALSE(DeaValid("BS123456"));
  EXPECT_EQ(DeaCheckDigit("123456"), '3');
  EXPECT_EQ(DeaCheckDigit("12345"), '?');
}

TEST(VinTest, ValidAndInvalid) {
  EXPECT_TRUE(VinValid("1M8GDM9AXKP042788"));
  EXPECT_TRUE(VinValid("11111111111111111"));
  EXPECT_FALSE(VinValid("1M8GDM9A1KP042788"));  // check character
  EXPECT_FALSE(VinValid("1M8GDM9AXKP04278"));   // length
  EXPECT_FALSE(VinValid("1M8GDM9AXKO042788"));  // O is not allowed
  EXPECT_EQ(VinCheckChar("1M8GDM9A0KP042788"), 'X');
}

TEST(MbiTest, ValidAndInvalid) {
  EXPECT_TRUE(MbiValid("1EG4-TE5-MK73"));  // the CMS example
  EXPECT_TRUE(MbiValid("1EG4TE5MK73"));
  EXPECT_FALSE(MbiValid("0EG4-TE5-MK73"));  // position 1 is 1-9
  EXPECT_FALSE(MbiValid("1SG4-TE5-MK73"));  // S is excluded
  EXPECT_FALSE(MbiValid("1EG4-TE5-MK7"));
  EXPECT_FALSE(MbiValid("1EG4TE5-MK73"));
  EXPECT_FALSE(MbiValid("1EGA-TE5-MK73"));  // position 4 is a digit
}

TEST(SsnTest, Ranges) {
  EXPECT_TRUE(SsnValid("123-45-6789"));
  EXPECT_TRUE(SsnValid("123 45 6789"));
  EXPECT_TRUE(SsnValid("123456789"));
  EXPECT_FALSE(SsnValid("666-45-6789"));
  EXPECT_FALSE(SsnValid("000-45-6789"));
  EXPECT_FALSE(SsnValid("912-45-6789"));
  EXPECT_FALSE(SsnValid("123-00-6789"));
  EXPECT_FALSE(SsnValid("123-45-0000"));
  EXPECT_FALSE(SsnValid("123-45 6789"));
  EXPECT_FALSE(SsnValid("12-345-6789"));
}

TEST(GtinTest, CheckDigit) {
  EXPECT_TRUE(GtinValid("4006381333931"));  // a textbook EAN-13
  EXPECT_FALSE(GtinValid("4006381333932"));
  EXPECT_EQ(Gs1CheckDigit("400638133393"), '1');
  EXPECT_TRUE(GtinValid(std::string("0001234560001") + Gs1CheckDigit("0001234560001")));
}

}  // namespace
}  // namespace phigate::synth
