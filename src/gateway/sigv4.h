// AWS Signature Version 4 (for Bedrock), on OpenSSL's SHA-256 and HMAC-SHA256.
// Checked against the values of AWS's published SigV4 test suite
// (tests/gateway/sigv4_test.cc).
#ifndef PHIGATE_SRC_GATEWAY_SIGV4_H_
#define PHIGATE_SRC_GATEWAY_SIGV4_H_

#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace phigate::gateway {

struct SigV4Credentials {
  std::string access_key_id;
  std::string secret_access_key;
  std::string session_token;  // optional (temporary credentials)
};

struct SigV4Request {
  std::string method;  // "POST"
  std::string path;  // as sent on the wire (already percent-encoded), e.g. "/model/x%3A0/converse"
  std::vector<std::pair<std::string, std::string>> query;    // unencoded key/value pairs
  std::vector<std::pair<std::string, std::string>> headers;  // must include "host"
  std::string body;
};

std::string Sha256Hex(std::string_view data);
std::string HmacSha256(std::string_view key, std::string_view data);  // raw bytes
std::string HexEncode(std::string_view raw);
// RFC 3986 unreserved characters kept, everything else %XX (upper case); '/' kept when asked.
std::string UriEncode(std::string_view s, bool keep_slash);

// `double_encode_path`: true for every service but S3 (AWS encodes the path twice).
std::string CanonicalRequest(const SigV4Request& r, bool double_encode_path);
std::string StringToSign(std::string_view canonical_request, std::string_view amz_date,
                         std::string_view region, std::string_view service);
std::string SigningKey(std::string_view secret, std::string_view date, std::string_view region,
                       std::string_view service);

// Adds "x-amz-date" (and "x-amz-security-token") to r.headers, then returns the
// Authorization header value. amz_date is "YYYYMMDDTHHMMSSZ".
std::string SignV4(SigV4Request& r, const SigV4Credentials& creds, std::string_view region,
                   std::string_view service, std::string_view amz_date,
                   bool double_encode_path = true);

}  // namespace phigate::gateway

#endif  // PHIGATE_SRC_GATEWAY_SIGV4_H_
