// SigV4 against values of AWS's published Signature Version 4 test suite
// (credentials AKIDEXAMPLE, 2015-08-30T12:36:00Z, us-east-1, service "service").
#include "src/gateway/sigv4.h"

#include "gtest/gtest.h"

namespace phigate::gateway {
namespace {

const SigV4Credentials kCreds{"AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", ""};
constexpr char kDate[] = "20150830T123600Z";
constexpr char kScope[] =
    "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, ";

SigV4Request Vanilla(const char* method) {
  SigV4Request r;
  r.method = method;
  r.path = "/";
  r.headers = {{"Host", "example.amazonaws.com"}};
  return r;
}

TEST(SigV4Test, GetVanillaCanonicalRequestAndStringToSign) {
  SigV4Request r = Vanilla("GET");
  r.headers.emplace_back("X-Amz-Date", kDate);
  const std::string creq = CanonicalRequest(r, true);
  EXPECT_EQ(creq,
            "GET\n/\n\nhost:example.amazonaws.com\nx-amz-date:20150830T123600Z\n\nhost;x-amz-date\n"
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  EXPECT_EQ(StringToSign(creq, kDate, "us-east-1", "service"),
            "AWS4-HMAC-SHA256\n20150830T123600Z\n20150830/us-east-1/service/aws4_request\n"
            "bb579772317eb040ac9ed261061d46c1f17a8133879d6129b6e1c25292927e63");
}

TEST(SigV4Test, GetVanilla) {
  SigV4Request r = Vanilla("GET");
  EXPECT_EQ(SignV4(r, kCreds, "us-east-1", "service", kDate),
            std::string(kScope) +
                "SignedHeaders=host;x-amz-date, "
                "Signature=5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31");
}

TEST(SigV4Test, PostVanilla) {
  SigV4Request r = Vanilla("POST");
  EXPECT_EQ(SignV4(r, kCreds, "us-east-1", "service", kDate),
            std::string(kScope) +
                "SignedHeaders=host;x-amz-date, "
                "Signature=5da7c1a2acd57cee7505fc6676e4e544621c30862966e37dddb68e92efbe5d6b");
}

TEST(SigV4Test, GetVanillaQueryOrderKeyCase) {
  SigV4Request r = Vanilla("GET");
  r.query = {{"Param2", "value2"}, {"Param1", "value1"}};
  EXPECT_EQ(SignV4(r, kCreds, "us-east-1", "service", kDate),
            std::string(kScope) +
                "SignedHeaders=host;x-amz-date, "
                "Signature=b97d918cfa904a5beff61c982a1b6f458b799221646efd99d3219ec94cdf2500");
}

TEST(SigV4Test, GetUtf8Path) {
  SigV4Request r = Vanilla("GET");
  r.path = "/\xE1\x88\xB4";
  EXPECT_EQ(SignV4(r, kCreds, "us-east-1", "service", kDate),
            std::string(kScope) +
                "SignedHeaders=host;x-amz-date, "
                "Signature=8318018e0b0f223aa2bbf98705b62bb787dc9c0e678f255a891fd03141be5d85");
}

TEST(SigV4Test, SessionTokenIsSigned) {
  SigV4Request r = Vanilla("POST");
  const std::string auth =
      SignV4(r, {"AKIDEXAMPLE", "secret", "tok"}, "us-east-1", "bedrock", kDate);
  EXPECT_NE(auth.find("SignedHeaders=host;x-amz-date;x-amz-security-token"), std::string::npos);
}

TEST(SigV4Test, BedrockPathIsEncodedTwiceInTheCanonicalRequest) {
  SigV4Request r;
  r.method = "POST";
  r.path = "/model/anthropic.claude-v2%3A1/converse";
  r.headers = {{"host", "bedrock-runtime.us-east-1.amazonaws.com"}};
  EXPECT_NE(CanonicalRequest(r, true).find("/model/anthropic.claude-v2%253A1/converse"),
            std::string::npos);
}

}  // namespace
}  // namespace phigate::gateway
