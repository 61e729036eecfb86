#include "src/gateway/vendors.h"

#include <ctime>

#include "absl/strings/str_cat.h"
#include "src/gateway/converse.h"
#include "src/gateway/sigv4.h"

namespace phigate::gateway {

using nlohmann::json;

bool KindServes(VendorKind kind, Api api) {
  switch (kind) {
    case VendorKind::kOpenAI:
    case VendorKind::kAzureOpenAI:
    case VendorKind::kOpenAICompatible:
      return api == Api::kOpenAIChat || api == Api::kOpenAIEmbeddings ||
             api == Api::kOpenAIResponses;
    case VendorKind::kAnthropic:
      return api == Api::kAnthropicMessages || api == Api::kAnthropicCountTokens;
    case VendorKind::kBedrock:
      return api == Api::kOpenAIChat || api == Api::kAnthropicMessages ||
             api == Api::kAnthropicCountTokens;
  }
  return false;
}

namespace {

std::string NowAmzDate() {
  std::time_t t = std::time(nullptr);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[20];
  std::strftime(buf, sizeof buf, "%Y%m%dT%H%M%SZ", &tm);
  return buf;
}

}  // namespace

Result<VendorCall> BuildVendorCall(const UpstreamConfig& up, const UpstreamEndpoint& ep, Api api,
                                   json& body, bool stream, const VendorCallOptions& o) {
  if (!KindServes(up.kind, api)) {
    return absl::FailedPreconditionError(
        absl::StrCat("the route's vendor kind ", ToAbsl(VendorKindName(up.kind)),
                     " does not serve the ", ToAbsl(ApiName(api)), " API"));
  }
  VendorCall call;
  UpstreamRequest& r = call.request;
  r.endpoint = &ep;
  r.headers.emplace_back("content-type", "application/json");
  const std::string model = o.upstream_model;
  switch (up.kind) {
    case VendorKind::kOpenAI:
    case VendorKind::kOpenAICompatible: {
      r.target = absl::StrCat(ep.base_path, "/", ToAbsl(ApiEndpoint(api)));
      if (!up.api_key.empty()) r.headers.emplace_back("authorization", "Bearer " + up.api_key);
      body["model"] = model;
      if (!o.tenant_opaque_id.empty()) {
        body["user"] = o.tenant_opaque_id;
        if (up.kind == VendorKind::kOpenAI &&
            (api == Api::kOpenAIChat || api == Api::kOpenAIResponses)) {
          body["prompt_cache_key"] = o.tenant_opaque_id;
        }
      }
      r.body = DumpJson(body);
      break;
    }
    case VendorKind::kAzureOpenAI: {
      auto it = up.deployments.find(model);
      const std::string deployment = it == up.deployments.end() ? model : it->second;
      if (api == Api::kOpenAIResponses) {
        // Azure serves the Responses API on its v1 surface only: no
        // deployment in the path, the deployment's name as the model.
        r.target = absl::StrCat(ep.base_path, "/openai/v1/responses");
        body["model"] = deployment;
      } else {
        r.target = absl::StrCat(ep.base_path, "/openai/deployments/", UriEncode(deployment, false),
                                "/", ToAbsl(ApiEndpoint(api)),
                                "?api-version=", UriEncode(up.api_version, false));
        body["model"] = model;
      }
      if (!up.api_key.empty()) r.headers.emplace_back("api-key", up.api_key);
      if (!o.tenant_opaque_id.empty()) body["user"] = o.tenant_opaque_id;
      r.body = DumpJson(body);
      break;
    }
    case VendorKind::kAnthropic: {
      // base_url may or may not carry the version ("https://api.anthropic.com[/v1]").
      const bool versioned =
          ep.base_path.size() >= 3 && ep.base_path.compare(ep.base_path.size() - 3, 3, "/v1") == 0;
      r.target = absl::StrCat(ep.base_path, versioned ? "/messages" : "/v1/messages",
                              api == Api::kAnthropicCountTokens ? "/count_tokens" : "");
      if (!up.api_key.empty()) r.headers.emplace_back("x-api-key", up.api_key);
      r.headers.emplace_back("anthropic-version", o.client_anthropic_version.empty()
                                                      ? up.anthropic_version
                                                      : o.client_anthropic_version);
      body["model"] = model;
      // A token count has no metadata parameter (messages, model, system,
      // thinking, tool_choice, tools): no tenant id goes there.
      if (!o.tenant_opaque_id.empty() && api != Api::kAnthropicCountTokens) {
        if (!body.contains("metadata") || !body["metadata"].is_object()) {
          body["metadata"] = json::object();
        }
        body["metadata"]["user_id"] = o.tenant_opaque_id;
      }
      r.body = DumpJson(body);
      break;
    }
    case VendorKind::kBedrock: {
      auto it = up.model_ids.find(model);
      const std::string model_id = it == up.model_ids.end() ? model : it->second;
      PHIGATE_ASSIGN_OR_RETURN(json converse, ToConverse(api, body));
      r.target = absl::StrCat(ep.base_path, "/model/", UriEncode(model_id, false),
                              api == Api::kAnthropicCountTokens ? "/count-tokens"
                              : stream                          ? "/converse-stream"
                                                                : "/converse");
      // The tenant-scoped opaque id, as for the other vendors' user fields:
      // Bedrock writes requestMetadata to the account's invocation logs
      // (CountTokens takes none).
      if (!o.tenant_opaque_id.empty() && api != Api::kAnthropicCountTokens) {
        converse["requestMetadata"] = {{"tenant", o.tenant_opaque_id}};
      }
      r.body = DumpJson(converse);
      call.bedrock = true;
      if (up.aws_access_key_id.empty() || up.aws_secret_access_key.empty()) {
        return absl::FailedPreconditionError("the Bedrock route has no AWS credentials");
      }
      SigV4Request sr;
      sr.method = "POST";
      sr.path = r.target;
      const bool default_port = ep.port == (ep.tls ? "443" : "80");
      const std::string host = default_port ? ep.host : ep.host + ":" + ep.port;
      sr.headers = {{"host", host}, {"content-type", "application/json"}};
      sr.body = r.body;
      const std::string date = o.amz_date.empty() ? NowAmzDate() : o.amz_date;
      const std::string auth = SignV4(
          sr,
          SigV4Credentials{up.aws_access_key_id, up.aws_secret_access_key, up.aws_session_token},
          up.region, "bedrock", date);
      r.headers.emplace_back("host", host);
      for (const auto& [k, v] : sr.headers) {
        if (k.rfind("x-amz-", 0) == 0) r.headers.emplace_back(k, v);
      }
      r.headers.emplace_back("authorization", auth);
      if (stream) r.headers.emplace_back("accept", "application/vnd.amazon.eventstream");
      return call;
    }
  }
  if (stream) r.headers.emplace_back("accept", "text/event-stream");
  return call;
}

}  // namespace phigate::gateway
