// Upstream adapters: turn a de-identified inbound request into the vendor's
// request (URL, auth headers, body), and a vendor's answer back into the
// inbound API's shape. OpenAI, Azure OpenAI, Anthropic, AWS Bedrock (Converse,
// SigV4) and any self-hosted OpenAI-compatible server.
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
  bool bedrock = false;         // the answer is a Converse response (translate it)
  bool emulate_stream = false;  // the vendor is called without streaming; phigate streams
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

// A Bedrock Converse answer as an OpenAI chat completion.
Result<nlohmann::json> ConverseToOpenAI(const nlohmann::json& converse, std::string_view model);
// A complete OpenAI chat completion as the SSE events of a stream (for vendors
// called without streaming). DataLoss when it has no choices array or a
// choice that is no object.
Result<std::string> CompletionToSse(const nlohmann::json& completion);

bool KindServes(VendorKind kind, Api api);

}  // namespace phigate::gateway

#endif  // PHIGATE_SRC_GATEWAY_VENDORS_H_
