// Upstream adapters (request shapes per vendor) and the gateway config parser.
#include "src/gateway/vendors.h"

#include <cstdlib>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "phigate/gateway/config.h"
#include "phigate/gateway/gateway.h"
#include "src/gateway/api.h"
#include "src/gateway/converse.h"
#include "src/gateway/sigv4.h"
#include "tests/testing/status_matchers.h"

namespace phigate::gateway {
namespace {

using nlohmann::json;
using ::testing::HasSubstr;

std::string HeaderOf(const UpstreamRequest& r, const std::string& name) {
  for (const auto& [k, v] : r.headers) {
    if (k == name) return v;
  }
  return "";
}

json ChatBody() {
  return json::parse(R"({"model":"gpt-4o","max_tokens":50,"temperature":0.2,"stop":"END",
    "messages":[{"role":"system","content":"sys"},{"role":"user","content":"hello"},
                {"role":"user","content":[{"type":"text","text":"again"}]}]})");
}

// The policy decides on the endpoint the vendor is called at, as its BAAs name
// it (docs/policy.md: `converse` for Bedrock): a chat request to Bedrock was
// decided as "chat/completions", which no Bedrock BAA lists (UNKNOWN_ENDPOINT).
TEST(VendorsTest, PolicyEndpointIsTheVendors) {
  EXPECT_EQ(VendorEndpoint(VendorKind::kBedrock, Api::kOpenAIChat), "converse");
  EXPECT_EQ(VendorEndpoint(VendorKind::kOpenAI, Api::kOpenAIChat), "chat/completions");
  EXPECT_EQ(VendorEndpoint(VendorKind::kAzureOpenAI, Api::kOpenAIEmbeddings), "embeddings");
  EXPECT_EQ(VendorEndpoint(VendorKind::kAnthropic, Api::kAnthropicMessages), "messages");
}

TEST(VendorsTest, OpenAISetsTenantScopedKeys) {
  UpstreamConfig up;
  up.kind = VendorKind::kOpenAI;
  up.api_key = "sk-x";
  PHIGATE_ASSERT_OK_AND_ASSIGN(UpstreamEndpoint ep, ParseUpstreamUrl("https://api.openai.com/v1/"));
  EXPECT_TRUE(ep.tls);
  EXPECT_EQ(ep.port, "443");
  json body = ChatBody();
  VendorCallOptions o;
  o.upstream_model = "gpt-4o-2024";
  o.tenant_opaque_id = TenantOpaqueId("k", "acme");
  PHIGATE_ASSERT_OK_AND_ASSIGN(VendorCall c,
                               BuildVendorCall(up, ep, Api::kOpenAIChat, body, false, o));
  EXPECT_EQ(c.request.target, "/v1/chat/completions");
  EXPECT_EQ(HeaderOf(c.request, "authorization"), "Bearer sk-x");
  json sent = json::parse(c.request.body);
  EXPECT_EQ(sent["model"], "gpt-4o-2024");
  EXPECT_EQ(sent["user"], o.tenant_opaque_id);
  EXPECT_EQ(sent["prompt_cache_key"], o.tenant_opaque_id);
  EXPECT_NE(TenantOpaqueId("k", "acme"), TenantOpaqueId("k", "globex"));
  EXPECT_THAT(TenantOpaqueId("k", "acme"), ::testing::Not(HasSubstr("acme")));
}

TEST(VendorsTest, AzureDeploymentUrlAndApiKey) {
  UpstreamConfig up;
  up.kind = VendorKind::kAzureOpenAI;
  up.api_key = "az-key";
  up.deployments = {{"gpt-4o", "prod-4o"}};
  up.api_version = "2024-10-21";
  PHIGATE_ASSERT_OK_AND_ASSIGN(UpstreamEndpoint ep,
                               ParseUpstreamUrl("https://res.openai.azure.com"));
  json body = ChatBody();
  VendorCallOptions o;
  o.upstream_model = "gpt-4o";
  PHIGATE_ASSERT_OK_AND_ASSIGN(VendorCall c,
                               BuildVendorCall(up, ep, Api::kOpenAIChat, body, true, o));
  EXPECT_EQ(c.request.target,
            "/openai/deployments/prod-4o/chat/completions?api-version=2024-10-21");
  EXPECT_EQ(HeaderOf(c.request, "api-key"), "az-key");
  EXPECT_EQ(HeaderOf(c.request, "authorization"), "");
}

// The Responses API: OpenAI's /v1/responses with the tenant-scoped keys,
// Azure's v1 surface (no deployment in the path, the deployment as the
// model), and a clear refusal from the vendor kinds that do not serve it.
TEST(VendorsTest, ResponsesApiPerVendorKind) {
  const json request = json::parse(R"({"model":"gpt-4o","input":"hello","stream":true})");
  VendorCallOptions o;
  o.upstream_model = "gpt-4o";
  o.tenant_opaque_id = TenantOpaqueId("k", "acme");
  EXPECT_EQ(VendorEndpoint(VendorKind::kOpenAI, Api::kOpenAIResponses), "responses");

  UpstreamConfig openai;
  openai.kind = VendorKind::kOpenAI;
  PHIGATE_ASSERT_OK_AND_ASSIGN(UpstreamEndpoint oep, ParseUpstreamUrl("https://api.openai.com/v1"));
  json body = request;
  PHIGATE_ASSERT_OK_AND_ASSIGN(VendorCall c,
                               BuildVendorCall(openai, oep, Api::kOpenAIResponses, body, true, o));
  EXPECT_EQ(c.request.target, "/v1/responses");
  EXPECT_EQ(HeaderOf(c.request, "accept"), "text/event-stream");
  json sent = json::parse(c.request.body);
  EXPECT_EQ(sent["input"], "hello");
  EXPECT_EQ(sent["prompt_cache_key"], o.tenant_opaque_id);

  UpstreamConfig azure;
  azure.kind = VendorKind::kAzureOpenAI;
  azure.api_key = "az-key";
  azure.deployments = {{"gpt-4o", "prod-4o"}};
  azure.api_version = "2024-10-21";
  PHIGATE_ASSERT_OK_AND_ASSIGN(UpstreamEndpoint aep,
                               ParseUpstreamUrl("https://res.openai.azure.com"));
  body = request;
  PHIGATE_ASSERT_OK_AND_ASSIGN(c,
                               BuildVendorCall(azure, aep, Api::kOpenAIResponses, body, true, o));
  EXPECT_EQ(c.request.target, "/openai/v1/responses");
  EXPECT_EQ(HeaderOf(c.request, "api-key"), "az-key");
  EXPECT_EQ(json::parse(c.request.body)["model"], "prod-4o");

  UpstreamConfig anthropic;
  anthropic.kind = VendorKind::kAnthropic;
  body = request;
  Result<VendorCall> refused =
      BuildVendorCall(anthropic, oep, Api::kOpenAIResponses, body, true, o);
  ASSERT_FALSE(refused.ok());
  EXPECT_THAT(std::string(refused.status().message()), HasSubstr("openai.responses"));
  EXPECT_FALSE(KindServes(VendorKind::kBedrock, Api::kOpenAIResponses));
  EXPECT_TRUE(KindServes(VendorKind::kOpenAICompatible, Api::kOpenAIResponses));
}

// Anthropic's token count: /v1/messages/count_tokens, decided as "messages",
// and no metadata (the endpoint takes none, so no tenant id goes in it).
TEST(VendorsTest, AnthropicCountTokens) {
  UpstreamConfig up;
  up.kind = VendorKind::kAnthropic;
  up.api_key = "sk-ant";
  PHIGATE_ASSERT_OK_AND_ASSIGN(UpstreamEndpoint ep, ParseUpstreamUrl("https://api.anthropic.com"));
  json body =
      json::parse(R"({"model":"claude-sonnet-4","messages":[{"role":"user","content":"hi"}]})");
  VendorCallOptions o;
  o.upstream_model = "claude-sonnet-4";
  o.tenant_opaque_id = TenantOpaqueId("k", "acme");
  PHIGATE_ASSERT_OK_AND_ASSIGN(VendorCall c,
                               BuildVendorCall(up, ep, Api::kAnthropicCountTokens, body, false, o));
  EXPECT_EQ(c.request.target, "/v1/messages/count_tokens");
  EXPECT_EQ(HeaderOf(c.request, "x-api-key"), "sk-ant");
  EXPECT_FALSE(json::parse(c.request.body).contains("metadata"));
  EXPECT_EQ(VendorEndpoint(VendorKind::kAnthropic, Api::kAnthropicCountTokens), "messages");
  EXPECT_TRUE(IsAnthropic(Api::kAnthropicCountTokens));
  EXPECT_FALSE(KindServes(VendorKind::kOpenAI, Api::kAnthropicCountTokens));
  // The messages call keeps its tenant-scoped metadata.
  body = json::parse(R"({"model":"claude-sonnet-4","messages":[]})");
  PHIGATE_ASSERT_OK_AND_ASSIGN(c, BuildVendorCall(up, ep, Api::kAnthropicMessages, body, false, o));
  EXPECT_EQ(json::parse(c.request.body)["metadata"]["user_id"], o.tenant_opaque_id);
}

// A Bedrock route in us-east-1 serving model "claude-haiku".
UpstreamConfig BedrockUpstream() {
  UpstreamConfig up;
  up.kind = VendorKind::kBedrock;
  up.region = "us-east-1";
  up.aws_access_key_id = "AKIDEXAMPLE";
  up.aws_secret_access_key = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY";
  up.model_ids = {{"claude-haiku", "anthropic.claude-3-haiku-20240307-v1:0"}};
  return up;
}

TEST(VendorsTest, BedrockConverseSignedWithSigV4) {
  const UpstreamConfig up = BedrockUpstream();
  PHIGATE_ASSERT_OK_AND_ASSIGN(UpstreamEndpoint ep,
                               ParseUpstreamUrl("https://bedrock-runtime.us-east-1.amazonaws.com"));
  json body = ChatBody();
  VendorCallOptions o;
  o.upstream_model = "claude-haiku";
  o.amz_date = "20250101T000000Z";
  PHIGATE_ASSERT_OK_AND_ASSIGN(VendorCall c,
                               BuildVendorCall(up, ep, Api::kOpenAIChat, body, false, o));
  EXPECT_TRUE(c.bedrock);
  EXPECT_EQ(c.request.target, "/model/anthropic.claude-3-haiku-20240307-v1%3A0/converse");
  json sent = json::parse(c.request.body);
  EXPECT_EQ(sent["system"][0]["text"], "sys");
  ASSERT_EQ(sent["messages"].size(), 1u);  // consecutive user turns merged
  EXPECT_EQ(sent["messages"][0]["content"][1]["text"], "again");
  EXPECT_EQ(sent["inferenceConfig"]["maxTokens"], 50);
  EXPECT_EQ(sent["inferenceConfig"]["stopSequences"][0], "END");
  // Recompute the signature independently from the pieces.
  SigV4Request sr;
  sr.method = "POST";
  sr.path = c.request.target;
  sr.headers = {{"host", "bedrock-runtime.us-east-1.amazonaws.com"},
                {"content-type", "application/json"}};
  sr.body = c.request.body;
  const std::string expected = SignV4(sr, {up.aws_access_key_id, up.aws_secret_access_key, ""},
                                      "us-east-1", "bedrock", "20250101T000000Z");
  EXPECT_EQ(HeaderOf(c.request, "authorization"), expected);
  EXPECT_THAT(expected, HasSubstr("/20250101/us-east-1/bedrock/aws4_request"));
  EXPECT_EQ(HeaderOf(c.request, "x-amz-date"), "20250101T000000Z");
}

// Bedrock serves chat and messages clients, through Converse, or
// ConverseStream's event stream when the client streams, and Anthropic's token
// count through CountTokens; the policy knows them all as the endpoint "converse".
TEST(VendorsTest, BedrockServesChatAndMessagesStreamedOrNot) {
  const UpstreamConfig up = BedrockUpstream();
  PHIGATE_ASSERT_OK_AND_ASSIGN(UpstreamEndpoint ep,
                               ParseUpstreamUrl("https://bedrock-runtime.us-east-1.amazonaws.com"));
  VendorCallOptions o;
  o.upstream_model = "claude-haiku";
  o.tenant_opaque_id = "pgt_0a1b";
  json body = json::parse(R"({"max_tokens":5,"messages":[{"role":"user","content":"hi"}]})");
  PHIGATE_ASSERT_OK_AND_ASSIGN(VendorCall c,
                               BuildVendorCall(up, ep, Api::kAnthropicMessages, body, true, o));
  EXPECT_EQ(json::parse(c.request.body)["requestMetadata"]["tenant"], "pgt_0a1b");
  EXPECT_TRUE(c.bedrock);
  EXPECT_EQ(c.request.target, "/model/anthropic.claude-3-haiku-20240307-v1%3A0/converse-stream");
  EXPECT_EQ(HeaderOf(c.request, "accept"), "application/vnd.amazon.eventstream");
  EXPECT_EQ(json::parse(c.request.body)["messages"][0]["content"][0]["text"], "hi");
  PHIGATE_ASSERT_OK_AND_ASSIGN(VendorCall whole,
                               BuildVendorCall(up, ep, Api::kAnthropicMessages, body, false, o));
  EXPECT_EQ(whole.request.target, "/model/anthropic.claude-3-haiku-20240307-v1%3A0/converse");
  EXPECT_EQ(HeaderOf(whole.request, "accept"), "");
  json count = body;
  PHIGATE_ASSERT_OK_AND_ASSIGN(
      VendorCall tokens, BuildVendorCall(up, ep, Api::kAnthropicCountTokens, count, false, o));
  EXPECT_EQ(tokens.request.target, "/model/anthropic.claude-3-haiku-20240307-v1%3A0/count-tokens");
  EXPECT_EQ(
      json::parse(tokens.request.body)["input"]["converse"]["messages"][0]["content"][0]["text"],
      "hi");
  EXPECT_FALSE(json::parse(tokens.request.body).contains("requestMetadata"));
  for (Api api : {Api::kOpenAIChat, Api::kAnthropicMessages, Api::kAnthropicCountTokens}) {
    EXPECT_TRUE(KindServes(VendorKind::kBedrock, api));
    EXPECT_EQ(VendorEndpoint(VendorKind::kBedrock, api), "converse");
  }
  for (Api api : {Api::kOpenAIEmbeddings, Api::kOpenAIResponses}) {
    EXPECT_FALSE(KindServes(VendorKind::kBedrock, api));
  }
}

TEST(VendorsTest, ConverseAnswerBecomesChatCompletion) {
  json c = json::parse(
      R"({"output":{"message":{"role":"assistant","content":[{"text":"Hi "},{"text":"there"}]}},
    "stopReason":"max_tokens","usage":{"inputTokens":3,"outputTokens":2,"totalTokens":5}})");
  PHIGATE_ASSERT_OK_AND_ASSIGN(json oa, FromConverse(Api::kOpenAIChat, c, "claude-haiku"));
  EXPECT_EQ(oa["choices"][0]["message"]["content"], "Hi there");
  EXPECT_EQ(oa["choices"][0]["finish_reason"], "length");
  EXPECT_EQ(oa["usage"]["total_tokens"], 5);
  EXPECT_EQ(oa["model"], "claude-haiku");
}

// What a vendor or a client sends is never read with a conversion that
// throws: a member of the wrong type is an error (or left out), not an
// exception that would end the connection without a reply.
TEST(VendorsTest, MalformedShapesAreErrorsNotExceptions) {
  for (const char* bad : {R"(5)", R"({"output":5})", R"({"output":[1]})", R"({})",
                          R"({"output":{"message":{"content":{}}}})"}) {
    for (Api api : {Api::kOpenAIChat, Api::kAnthropicMessages}) {
      EXPECT_EQ(FromConverse(api, json::parse(bad), "m").status().code(),
                absl::StatusCode::kDataLoss)
          << bad;
    }
  }
  // Members of the wrong type inside a well-formed answer are left out.
  PHIGATE_ASSERT_OK_AND_ASSIGN(
      json oa, FromConverse(Api::kOpenAIChat,
                            json::parse(R"({"output":{"message":{"content":[7,{"text":1},)"
                                        R"({"text":"ok"}]}},"stopReason":9,)"
                                        R"("usage":{"inputTokens":"3","outputTokens":2}})"),
                            "m"));
  EXPECT_EQ(oa["choices"][0]["message"]["content"], "ok");
  EXPECT_EQ(oa["choices"][0]["finish_reason"], "stop");
  EXPECT_EQ(oa["usage"]["prompt_tokens"], 0);
  EXPECT_EQ(oa["usage"]["completion_tokens"], 2);
  // A Bedrock route's request: messages must be an array of objects with a string role.
  const UpstreamConfig up = BedrockUpstream();
  VendorCallOptions o;
  o.upstream_model = "claude-haiku";
  o.amz_date = "20250101T000000Z";
  PHIGATE_ASSERT_OK_AND_ASSIGN(UpstreamEndpoint ep,
                               ParseUpstreamUrl("https://bedrock-runtime.us-east-1.amazonaws.com"));
  for (const char* bad : {R"({"messages":"hi"})", R"({"messages":[5]})",
                          R"({"messages":[{"role":5,"content":"hi"}]})", R"({})"}) {
    json body = json::parse(bad);
    EXPECT_EQ(BuildVendorCall(up, ep, Api::kOpenAIChat, body, false, o).status().code(),
              absl::StatusCode::kInvalidArgument)
        << bad;
  }
  {
    json body = json::parse(R"({"messages":[{"role":"user","content":"hi"}]})");
    EXPECT_TRUE(BuildVendorCall(up, ep, Api::kOpenAIChat, body, false, o).ok());
  }
}

TEST(VendorsTest, KindMustServeTheApi) {
  UpstreamConfig up;
  up.kind = VendorKind::kAnthropic;
  PHIGATE_ASSERT_OK_AND_ASSIGN(UpstreamEndpoint ep, ParseUpstreamUrl("http://127.0.0.1:9"));
  json body = ChatBody();
  EXPECT_EQ(BuildVendorCall(up, ep, Api::kOpenAIChat, body, false, {}).status().code(),
            absl::StatusCode::kFailedPrecondition);
}

TEST(ConfigTest, ParsesServerAndGatewaySections) {
  setenv("PHIGATE_TEST_UP_KEY", "sk-env", 1);
  PHIGATE_ASSERT_OK_AND_ASSIGN(GatewayConfig c, ParseGatewayConfig(R"(
tenants: [ignored]
server:
  listen: 0.0.0.0:9090
  io_threads: 4
  max_body_bytes: 1000
  upstream_timeout_ms: 2500
  tls: {cert_file: /c.pem, key_file: /k.pem}
gateway:
  cache: {enabled: true, max_entries: 5, ttl_seconds: 9}
  upstreams:
    - vendor: azure-east
      kind: azure-openai
      base_url: https://res.openai.azure.com
      api_key_env: PHIGATE_TEST_UP_KEY
      models: [gpt-4o]
      deployments: {gpt-4o: prod-4o}
)"));
  EXPECT_EQ(c.server.address, "0.0.0.0");
  EXPECT_EQ(c.server.port, 9090);
  EXPECT_EQ(c.server.io_threads, 4);
  EXPECT_EQ(c.server.max_body_bytes, 1000u);
  EXPECT_EQ(c.server.upstream_timeout, std::chrono::milliseconds(2500));
  EXPECT_EQ(c.server.tls_key_file, "/k.pem");
  EXPECT_TRUE(c.cache.enabled);
  ASSERT_EQ(c.upstreams.size(), 1u);
  EXPECT_EQ(c.upstreams[0].kind, VendorKind::kAzureOpenAI);
  EXPECT_EQ(c.upstreams[0].api_key, "sk-env");
  EXPECT_EQ(c.upstreams[0].deployments.at("gpt-4o"), "prod-4o");
  EXPECT_FALSE(
      ParseGatewayConfig(
          "gateway:\n  upstreams:\n    - vendor: x\n      kind: nope\n      base_url: http://a\n")
          .ok());
  EXPECT_FALSE(ParseGatewayConfig("server: [unclosed").ok());
}

TEST(ConfigTest, AuditSignInterval) {
  PHIGATE_ASSERT_OK_AND_ASSIGN(GatewayConfig d, ParseGatewayConfig("gateway: {}\n"));
  EXPECT_EQ(d.audit_sign_interval, std::chrono::milliseconds(1000));
  PHIGATE_ASSERT_OK_AND_ASSIGN(GatewayConfig z,
                               ParseGatewayConfig("audit:\n  sign_interval_ms: 0\n"));
  EXPECT_EQ(z.audit_sign_interval, std::chrono::milliseconds(0));
  PHIGATE_ASSERT_OK_AND_ASSIGN(GatewayConfig f,
                               ParseGatewayConfig("audit: {sign_interval_ms: 250}\n"));
  EXPECT_EQ(f.audit_sign_interval, std::chrono::milliseconds(250));
  EXPECT_FALSE(ParseGatewayConfig("audit: {sign_interval_ms: -1}\n").ok());
}

}  // namespace
}  // namespace phigate::gateway
