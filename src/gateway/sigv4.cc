#include "src/gateway/sigv4.h"

#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <algorithm>
#include <cctype>

namespace phigate::gateway {

std::string HexEncode(std::string_view raw) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  out.reserve(raw.size() * 2);
  for (char c : raw) {
    const auto u = static_cast<unsigned char>(c);
    out.push_back(kHex[u >> 4]);
    out.push_back(kHex[u & 0xF]);
  }
  return out;
}

std::string Sha256Hex(std::string_view data) {
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  EVP_Digest(data.data(), data.size(), md, &len, EVP_sha256(), nullptr);
  return HexEncode(std::string_view(reinterpret_cast<const char*>(md), len));
}

std::string HmacSha256(std::string_view key, std::string_view data) {
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()),
       reinterpret_cast<const unsigned char*>(data.data()), data.size(), md, &len);
  return std::string(reinterpret_cast<const char*>(md), len);
}

std::string UriEncode(std::string_view s, bool keep_slash) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  for (char c : s) {
    const auto u = static_cast<unsigned char>(c);
    if (std::isalnum(u) || c == '-' || c == '_' || c == '.' || c == '~' ||
        (keep_slash && c == '/')) {
      out.push_back(c);
    } else {
      out.push_back('%');
      out.push_back(kHex[u >> 4]);
      out.push_back(kHex[u & 0xF]);
    }
  }
  return out;
}

namespace {

std::string Lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

// Trims and collapses runs of spaces (SigV4 canonical header values).
std::string TrimAll(std::string_view v) {
  std::string out;
  bool space = false;
  for (char c : v) {
    if (c == ' ' || c == '\t') {
      space = !out.empty();
      continue;
    }
    if (space) out.push_back(' ');
    space = false;
    out.push_back(c);
  }
  return out;
}

std::vector<std::pair<std::string, std::string>> SortedHeaders(const SigV4Request& r) {
  std::vector<std::pair<std::string, std::string>> h;
  for (const auto& [k, v] : r.headers) h.emplace_back(Lower(k), TrimAll(v));
  std::stable_sort(h.begin(), h.end(),
                   [](const auto& a, const auto& b) { return a.first < b.first; });
  // Repeated headers join with ','.
  std::vector<std::pair<std::string, std::string>> out;
  for (auto& kv : h) {
    if (!out.empty() && out.back().first == kv.first) {
      out.back().second += "," + kv.second;
    } else {
      out.push_back(std::move(kv));
    }
  }
  return out;
}

std::string SignedHeaders(const std::vector<std::pair<std::string, std::string>>& h) {
  std::string s;
  for (const auto& kv : h) {
    if (!s.empty()) s.push_back(';');
    s += kv.first;
  }
  return s;
}

}  // namespace

std::string CanonicalRequest(const SigV4Request& r, bool double_encode_path) {
  std::string out = r.method + "\n";
  const std::string path = r.path.empty() ? "/" : r.path;
  out += double_encode_path ? UriEncode(path, true) : path;
  out += "\n";
  std::vector<std::pair<std::string, std::string>> q;
  for (const auto& [k, v] : r.query) q.emplace_back(UriEncode(k, false), UriEncode(v, false));
  std::sort(q.begin(), q.end());
  for (size_t i = 0; i < q.size(); ++i) {
    if (i > 0) out.push_back('&');
    out += q[i].first + "=" + q[i].second;
  }
  out += "\n";
  const auto headers = SortedHeaders(r);
  for (const auto& [k, v] : headers) out += k + ":" + v + "\n";
  out += "\n" + SignedHeaders(headers) + "\n" + Sha256Hex(r.body);
  return out;
}

std::string StringToSign(std::string_view canonical_request, std::string_view amz_date,
                         std::string_view region, std::string_view service) {
  std::string s = "AWS4-HMAC-SHA256\n";
  s += amz_date;
  s += "\n";
  s += amz_date.substr(0, 8);
  s += "/";
  s += region;
  s += "/";
  s += service;
  s += "/aws4_request\n";
  s += Sha256Hex(canonical_request);
  return s;
}

std::string SigningKey(std::string_view secret, std::string_view date, std::string_view region,
                       std::string_view service) {
  std::string k = HmacSha256("AWS4" + std::string(secret), date);
  k = HmacSha256(k, region);
  k = HmacSha256(k, service);
  return HmacSha256(k, "aws4_request");
}

std::string SignV4(SigV4Request& r, const SigV4Credentials& creds, std::string_view region,
                   std::string_view service, std::string_view amz_date, bool double_encode_path) {
  r.headers.emplace_back("x-amz-date", std::string(amz_date));
  if (!creds.session_token.empty())
    r.headers.emplace_back("x-amz-security-token", creds.session_token);
  const std::string canonical = CanonicalRequest(r, double_encode_path);
  const std::string sts = StringToSign(canonical, amz_date, region, service);
  const std::string date(amz_date.substr(0, 8));
  const std::string sig =
      HexEncode(HmacSha256(SigningKey(creds.secret_access_key, date, region, service), sts));
  return "AWS4-HMAC-SHA256 Credential=" + creds.access_key_id + "/" + date + "/" +
         std::string(region) + "/" + std::string(service) +
         "/aws4_request, SignedHeaders=" + SignedHeaders(SortedHeaders(r)) + ", Signature=" + sig;
}

}  // namespace phigate::gateway
