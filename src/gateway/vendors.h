// Upstream adapters: turn a de-identified inbound request into the vendor's
// request (URL, auth headers, body), and a vendor's answer back into the
// inbound API's shape. OpenAI, Azure OpenAI, Anthropic, AWS Bedrock (Converse
// and ConverseStream, SigV4; the translation is src/gateway/converse.h) and
// any self-hosted OpenAI-compatible server.
#ifndef PHIGATE_SRC_GATEWAY_VENDORS_H_
#define PHIGATE_SRC_GATEWAY_VENDORS_H_

#include <string>
#include <string_view>

#include "nlohmann/json.hpp"
#include "phigate/core/status.h"
#include "phigate/gateway/config.h"
#include "src/gateway/api.h"
#include "src/gateway/upstream_client.h"

namespace phigate::gateway {

struct VendorCall {
  UpstreamRequest request;
  // The answer is Converse's (translate it: src/gateway/converse.h); streamed,
  // a ConverseStream event stream.
  bool bedrock = false;
};

struct VendorCallOptions {
  std::string upstream_model;            // what the vendor is asked for
  std::string tenant_opaque_id;          // HMAC of the tenant id (provider cache/user keys)
  std::string client_anthropic_version;  // the client's anthropic-version header, if any
  std::string amz_date;                  // "YYYYMMDDTHHMMSSZ" (bedrock signing); "" = now
};

// FailedPrecondition when the vendor kind cannot serve this API.
Result<VendorCall> BuildVendorCall(const UpstreamConfig& up, const UpstreamEndpoint& ep, Api api,
                                   nlohmann::json& body, bool stream,
                                   const VendorCallOptions& options);

bool KindServes(VendorKind kind, Api api);

}  // namespace phigate::gateway

#endif  // PHIGATE_SRC_GATEWAY_VENDORS_H_
