// The whole gateway on 127.0.0.1:0 against a FakeUpstream that records what it
// received: de-identification of every text field, re-identification (whole and
// streamed), permission, fail-closed paths, tenant isolation, limits and probes.
// Synthetic PHI only.
#include <chrono>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "nlohmann/json.hpp"
#include "phigate/gateway/gateway.h"
#include "src/gateway/api.h"
#include "src/gateway/eventstream.h"
#include "tests/integration/fake_upstream.h"
#include "tests/integration/gateway_fakes.h"
#include "tests/integration/http_client.h"
#include "tests/testing/status_matchers.h"

namespace phigate::gateway {
namespace {

using nlohmann::json;
using ::phigate::testing::FakeUpstream;
using ::phigate::testing::HttpCall;
using ::phigate::testing::HttpResult;
using ::phigate::testing::ReceivedRequest;
using ::phigate::testing::Script;
using ::testing::Contains;
using ::testing::HasSubstr;
using ::testing::Not;

// Synthetic identifiers (made up; the SSN is in the never-issued 9xx area).
constexpr char kName[] = "Zephyrine Quallsworth";
constexpr char kMrn[] = "MRN-48213377";
constexpr char kPhone[] = "(555) 010-4477";
constexpr char kSsn[] = "912-44-5678";
const char* const kAllPhi[] = {kName, kMrn, kPhone, kSsn};

std::string Note() {
  return std::string("Pt ") + kName + " (" + kMrn + ") called from " + kPhone +
         " about refills; SSN " + kSsn + " on file.";
}

// The text of the last message (OpenAI or Anthropic shape).
std::string LastText(const json& body) {
  const json& m = body["messages"].back();
  if (m["content"].is_string()) return m["content"].get<std::string>();
  std::string out;
  for (const json& b : m["content"]) {
    if (b.contains("text")) out += b["text"].get<std::string>();
    if (b.contains("content") && b["content"].is_string()) out += b["content"].get<std::string>();
  }
  return out;
}

std::vector<std::string> Pieces(const std::string& s, size_t n) {
  std::vector<std::string> out;
  for (size_t i = 0; i < s.size(); i += n) out.push_back(s.substr(i, n));
  return out;
}

// The Responses API's echo: "Summary: <last input text>" as a response
// object, or streamed as typed events with 3-byte text deltas.
Script ResponsesEcho(const json& body) {
  const json& in = body["input"];
  const std::string answer =
      "Summary: " + (in.is_string() ? in.get<std::string>() : LastText(json{{"messages", in}}));
  json response = {{"id", "resp_1"},
                   {"object", "response"},
                   {"status", "completed"},
                   {"model", "m"},
                   {"instructions", body.value("instructions", json(nullptr))}};
  const auto events = testing::ResponsesStreamEvents(answer, 3, response);
  Script sc;
  if (!body.value("stream", false)) {
    sc.chunks = {events.back().second["response"].dump()};  // the final snapshot
    return sc;
  }
  sc.chunked = true;
  sc.content_type = "text/event-stream";
  for (const auto& [type, data] : events) {
    sc.chunks.push_back("event: " + type + "\ndata: " + data.dump() + "\n\n");
  }
  return sc;
}

// Echoes "Summary: <last user text>" in the vendor's format, streamed in
// 3-byte pieces (so tokens split across chunks).
Script Echo(const ReceivedRequest& r) {
  Script sc;
  json body = json::parse(r.body, nullptr, false);
  if (body.is_discarded()) {
    sc.status = 400;
    sc.chunks = {R"({"error":{"message":"bad json"}})"};
    return sc;
  }
  if (r.target.find("/responses") != std::string::npos) return ResponsesEcho(body);
  if (r.target.find("/count_tokens") != std::string::npos) {
    // One "token" per byte of the last message, as the vendor received it.
    sc.chunks = {json{{"input_tokens", LastText(body).size()}}.dump()};
    return sc;
  }
  const std::string answer = "Summary: " + LastText(body);
  const bool stream = body.value("stream", false);
  const bool anthropic = r.target.find("/v1/messages") != std::string::npos;
  if (!stream) {
    json res;
    if (anthropic) {
      res = {{"id", "msg_1"},
             {"type", "message"},
             {"role", "assistant"},
             {"model", "m"},
             {"content", json::array({{{"type", "text"}, {"text", answer}}})},
             {"stop_reason", "end_turn"},
             {"usage", {{"input_tokens", 1}, {"output_tokens", 1}}}};
    } else {
      res = {{"id", "chatcmpl-1"},
             {"object", "chat.completion"},
             {"created", 1},
             {"model", "m"},
             {"choices", json::array({{{"index", 0},
                                       {"message", {{"role", "assistant"}, {"content", answer}}},
                                       {"finish_reason", "stop"}}})}};
    }
    sc.chunks = {res.dump()};
    return sc;
  }
  sc.chunked = true;
  sc.content_type = "text/event-stream";
  if (anthropic) {
    sc.chunks.push_back("event: message_start\ndata: " +
                        json{{"type", "message_start"},
                             {"message",
                              {{"id", "msg_1"},
                               {"type", "message"},
                               {"role", "assistant"},
                               {"model", "m"},
                               {"content", json::array()},
                               {"stop_reason", nullptr},
                               {"stop_sequence", nullptr},
                               {"usage", {{"input_tokens", 1}, {"output_tokens", 1}}}}}}
                            .dump() +
                        "\n\n");
    sc.chunks.push_back("event: content_block_start\ndata: " +
                        json{{"type", "content_block_start"},
                             {"index", 0},
                             {"content_block", {{"type", "text"}, {"text", ""}}}}
                            .dump() +
                        "\n\n");
    for (const std::string& p : Pieces(answer, 3)) {
      sc.chunks.push_back("event: content_block_delta\ndata: " +
                          json{{"type", "content_block_delta"},
                               {"index", 0},
                               {"delta", {{"type", "text_delta"}, {"text", p}}}}
                              .dump() +
                          "\n\n");
    }
    sc.chunks.push_back(
        "event: content_block_stop\ndata: {\"type\":\"content_block_stop\",\"index\":0}\n\n");
    sc.chunks.push_back("event: message_delta\ndata: " +
                        json{{"type", "message_delta"},
                             {"delta", {{"stop_reason", "end_turn"}, {"stop_sequence", nullptr}}},
                             {"usage", {{"output_tokens", 5}}}}
                            .dump() +
                        "\n\n");
    sc.chunks.push_back("event: message_stop\ndata: {\"type\":\"message_stop\"}\n\n");
    return sc;
  }
  auto chunk = [](json delta, json finish) {
    json e = {
        {"id", "chatcmpl-1"},
        {"object", "chat.completion.chunk"},
        {"created", 1},
        {"model", "m"},
        {"choices", json::array({{{"index", 0}, {"delta", delta}, {"finish_reason", finish}}})}};
    return "data: " + e.dump() + "\n\n";
  };
  sc.chunks.push_back(chunk({{"role", "assistant"}, {"content", ""}}, nullptr));
  for (const std::string& p : Pieces(answer, 3))
    sc.chunks.push_back(chunk({{"content", p}}, nullptr));
  sc.chunks.push_back(chunk(json::object(), "stop"));
  sc.chunks.push_back("data: [DONE]\n\n");
  return sc;
}

// Calls fn(data) for the data line of each event of an SSE body.
template <class Fn>
void ForEachSseData(const std::string& sse, Fn fn) {
  size_t pos = 0;
  while ((pos = sse.find("data: ", pos)) != std::string::npos) {
    const size_t end = sse.find('\n', pos);
    fn(sse.substr(pos + 6, end - pos - 6));
    pos = end;
  }
}

// Concatenated text deltas of an SSE body (OpenAI or Anthropic).
std::string StreamedText(const std::string& sse, bool* saw_error = nullptr,
                         bool* saw_end = nullptr) {
  std::string text;
  ForEachSseData(sse, [&](const std::string& data) {
    if (data == "[DONE]") {
      if (saw_end) *saw_end = true;
      return;
    }
    json j = json::parse(data, nullptr, false);
    if (j.is_discarded()) return;
    if (j.contains("error") && saw_error) *saw_error = true;
    if (j.value("type", "") == "message_stop" && saw_end) *saw_end = true;
    if (j.contains("choices")) {
      for (const json& c : j["choices"]) {
        if (c.contains("delta") && c["delta"].contains("content") &&
            c["delta"]["content"].is_string()) {
          text += c["delta"]["content"].get<std::string>();
        }
      }
    }
    if (j.value("type", "") == "content_block_delta" && j["delta"].contains("text")) {
      text += j["delta"]["text"].get<std::string>();
    }
  });
  return text;
}

class GatewayTest : public ::testing::Test {
 protected:
  void SetUp() override {
    upstream_ =
        std::make_unique<FakeUpstream>([this](const ReceivedRequest& r) { return responder_(r); });
    auth_ = std::make_shared<testing::FakeAuth>();
    auth_->Add("pg_test_alice", "acme", "alice");
    auth_->Add("pg_test_bob", "acme", "bob");
    auth_->Add("pg_test_carol", "globex", "carol");
    policy_ = std::make_shared<testing::FakePolicy>();
    policy_->DenyReid("bob");
    detector_ = std::make_shared<testing::DictDetector>();
    detector_->Add(kName, PhiCategory::kName);
    detector_->Add(kMrn, PhiCategory::kMrn);
    detector_->Add(kPhone, PhiCategory::kPhone);
    detector_->Add(kSsn, PhiCategory::kSsn);
    vaults_ = std::make_shared<testing::MemoryVaultProvider>();
    audit_ = std::make_shared<testing::MemoryAudit>();
    config_.server.port = 0;
    config_.server.io_threads = 2;
    config_.server.upstream_timeout = std::chrono::milliseconds(1500);
    config_.server.upstream_idle_timeout = std::chrono::milliseconds(1500);
    config_.server.max_body_bytes = 64 * 1024;
    config_.tenant_key = "test-tenant-key";
    const UpstreamConfig oa = testing::OpenAiUpstream(upstream_->url("/v1"));
    UpstreamConfig an;
    an.vendor = "anthropic";
    an.kind = VendorKind::kAnthropic;
    an.base_url = upstream_->url();
    an.models = {"claude-sonnet-4"};
    an.api_key = "sk-ant-upstream";
    config_.upstreams = {oa, an};
  }

  void StartGateway() {
    GatewayDeps deps;
    deps.auth = auth_;
    deps.policy = policy_;
    deps.detector = detector_;
    deps.vaults = vaults_;
    deps.audit = audit_;
    deps.subjects = subjects_;
    deps.leak = leak_;
    auto gw = Gateway::Create(config_, deps);
    ASSERT_TRUE(gw.ok()) << gw.status();
    gw_ = std::move(gw).value();
    PHIGATE_ASSERT_OK(gw_->Start());
  }
  void TearDown() override {
    if (gw_) gw_->Shutdown();
    upstream_->Stop();
  }

  HttpResult Chat(const std::string& key, bool stream, const std::string& content = Note()) {
    json body = {{"model", "gpt-4o"},
                 {"stream", stream},
                 {"messages", json::array({{{"role", "system"}, {"content", "You are a scribe."}},
                                           {{"role", "user"}, {"content", content}}})}};
    return HttpCall(gw_->port(), "POST", "/v1/chat/completions", body.dump(),
                    {{"authorization", "Bearer " + key}});
  }
  HttpResult Messages(const std::string& key, bool stream) {
    json body = {{"model", "claude-sonnet-4"},
                 {"max_tokens", 100},
                 {"stream", stream},
                 {"system", std::string("Patient ") + kName + " is known to the clinic."},
                 {"messages", json::array({{{"role", "user"}, {"content", Note()}}})}};
    return HttpCall(gw_->port(), "POST", "/v1/messages", body.dump(),
                    {{"x-api-key", key}, {"anthropic-version", "2023-06-01"}});
  }
  HttpResult Responses(const std::string& key, bool stream, const std::string& model = "gpt-4o") {
    json body = {
        {"model", model},
        {"stream", stream},
        {"instructions", std::string("Patient ") + kName + " is known to the clinic."},
        {"input",
         json::array({{{"role", "user"},
                       {"content", json::array({{{"type", "input_text"}, {"text", Note()}}})}}})}};
    return HttpCall(gw_->port(), "POST", "/v1/responses", body.dump(),
                    {{"authorization", "Bearer " + key}});
  }
  void ExpectUpstreamSawNoPhi() {
    const std::string all = upstream_->AllReceivedBytes();
    for (const char* phi : kAllPhi) EXPECT_THAT(all, Not(HasSubstr(phi))) << "leaked: a PHI value";
  }

  std::function<Script(const ReceivedRequest&)> responder_ = Echo;
  std::unique_ptr<FakeUpstream> upstream_;
  std::shared_ptr<testing::FakeAuth> auth_;
  std::shared_ptr<testing::FakePolicy> policy_;
  std::shared_ptr<testing::DictDetector> detector_;
  std::shared_ptr<testing::MemoryVaultProvider> vaults_;
  std::shared_ptr<testing::MemoryAudit> audit_;
  std::shared_ptr<const SubjectIndexer> subjects_;
  std::shared_ptr<LeakScanner> leak_;
  GatewayConfig config_;
  std::unique_ptr<Gateway> gw_;
};

TEST_F(GatewayTest, OpenAINonStreamDeidentifiesUpstreamAndReidentifiesAnswer) {
  StartGateway();
  HttpResult r = Chat("pg_test_alice", false);
  ASSERT_EQ(r.status, 200u) << r.body;
  ASSERT_EQ(upstream_->count(), 1u);
  ExpectUpstreamSawNoPhi();
  const ReceivedRequest got = upstream_->received()[0];
  EXPECT_EQ(got.target, "/v1/chat/completions");
  EXPECT_EQ(got.headers.at("authorization"), "Bearer sk-upstream");
  EXPECT_THAT(got.body, HasSubstr("[NAME_"));
  json sent = json::parse(got.body);
  EXPECT_THAT(sent["user"].get<std::string>(), HasSubstr("pgt_"));
  EXPECT_EQ(sent["user"], sent["prompt_cache_key"]);
  EXPECT_THAT(got.body, Not(HasSubstr("acme")));
  json answer = json::parse(r.body);
  EXPECT_EQ(answer["choices"][0]["message"]["content"], "Summary: " + Note());
  // Audit: egress committed before the upstream, then ingress; counts, no text.
  auto recs = audit_->records();
  ASSERT_EQ(recs.size(), 2u);
  EXPECT_EQ(recs[0].phase, AuditPhase::kEgress);
  EXPECT_EQ(recs[1].phase, AuditPhase::kIngress);
  EXPECT_EQ(recs[0].category_counts[static_cast<size_t>(PhiCategory::kName)], 1u);
  EXPECT_EQ(recs[0].tokens_minted, 4u);
  EXPECT_EQ(recs[1].tokens_reidentified, 4u);
  EXPECT_EQ(recs[0].tenant.value(), "acme");
}

TEST_F(GatewayTest, CallerWithoutPermissionGetsTokens) {
  StartGateway();
  HttpResult r = Chat("pg_test_bob", false);
  ASSERT_EQ(r.status, 200u) << r.body;
  EXPECT_THAT(r.body, HasSubstr("[NAME_"));
  for (const char* phi : kAllPhi) EXPECT_THAT(r.body, Not(HasSubstr(phi)));
  HttpResult s = Chat("pg_test_bob", true);
  ASSERT_EQ(s.status, 200u);
  const std::string text = StreamedText(s.body);
  EXPECT_THAT(text, HasSubstr("[NAME_"));
  for (const char* phi : kAllPhi) EXPECT_THAT(text, Not(HasSubstr(phi)));
}

TEST_F(GatewayTest, OpenAIStreamReidentifiesTokensSplitAcrossChunks) {
  StartGateway();
  HttpResult r = Chat("pg_test_alice", true);
  ASSERT_EQ(r.status, 200u) << r.body;
  EXPECT_EQ(r.headers["content-type"], "text/event-stream");
  bool err = false, end = false;
  EXPECT_EQ(StreamedText(r.body, &err, &end), "Summary: " + Note());
  EXPECT_FALSE(err);
  EXPECT_TRUE(end);
  ExpectUpstreamSawNoPhi();
  for (const char* phi : kAllPhi) {
    // The raw stream never carries a partial token to the client.
    EXPECT_THAT(r.body, Not(HasSubstr("[NAME_")));
    (void)phi;
  }
}

// The text deltas of a Responses API stream, and whether it completed.
std::string ResponsesStreamedText(const std::string& sse, bool* completed, bool* error) {
  std::string text;
  ForEachSseData(sse, [&](const std::string& data) {
    const json j = json::parse(data, nullptr, false);
    if (j.is_discarded()) return;
    const std::string type = j.value("type", "");
    if (type == "response.output_text.delta") text += j["delta"].get<std::string>();
    if (type == "response.completed") *completed = true;
    if (type == "error") *error = true;
  });
  return text;
}

// The OpenAI Responses API (/v1/responses), whole and streamed: the vendor
// gets no PHI (instructions and input parts included), the caller gets the
// values back (also in the instructions the answer echoes), a caller without
// the permission gets tokens, and a vendor kind without the API is no route.
TEST_F(GatewayTest, ResponsesApiNonStreamAndStream) {
  StartGateway();
  HttpResult r = Responses("pg_test_alice", false);
  ASSERT_EQ(r.status, 200u) << r.body;
  ASSERT_EQ(upstream_->count(), 1u);
  EXPECT_EQ(upstream_->received()[0].target, "/v1/responses");
  EXPECT_THAT(upstream_->received()[0].body, HasSubstr("[NAME_"));
  ExpectUpstreamSawNoPhi();
  const json answer = json::parse(r.body);
  EXPECT_EQ(answer["output"][0]["content"][0]["text"], "Summary: " + Note());
  EXPECT_EQ(answer["instructions"], std::string("Patient ") + kName + " is known to the clinic.");
  auto recs = audit_->records();
  ASSERT_EQ(recs.size(), 2u);
  EXPECT_EQ(recs[0].api, "openai.responses");
  EXPECT_EQ(recs[1].tokens_reidentified, 5u);  // 4 in the echoed note, 1 in the instructions

  HttpResult s = Responses("pg_test_alice", true);
  ASSERT_EQ(s.status, 200u) << s.body;
  EXPECT_EQ(s.headers["content-type"], "text/event-stream");
  bool completed = false, error = false;
  EXPECT_EQ(ResponsesStreamedText(s.body, &completed, &error), "Summary: " + Note());
  EXPECT_TRUE(completed);
  EXPECT_FALSE(error);
  EXPECT_THAT(s.body, Not(HasSubstr("[NAME_")));
  ExpectUpstreamSawNoPhi();

  HttpResult b = Responses("pg_test_bob", false);
  ASSERT_EQ(b.status, 200u) << b.body;
  EXPECT_THAT(b.body, HasSubstr("[NAME_"));
  for (const char* phi : kAllPhi) EXPECT_THAT(b.body, Not(HasSubstr(phi)));

  const size_t sent = upstream_->count();
  HttpResult a = Responses("pg_test_alice", false, "claude-sonnet-4");
  EXPECT_EQ(a.status, 404u) << a.body;
  EXPECT_TRUE(json::parse(a.body)["error"].contains("message"));
  EXPECT_EQ(upstream_->count(), sent);
}

// A Responses stream that ends before response.completed ends with the
// API's error event, counted as truncated.
TEST_F(GatewayTest, TruncatedResponsesStreamEndsWithErrorEvent) {
  responder_ = [](const ReceivedRequest& r) {
    Script sc = Echo(r);
    sc.chunks.pop_back();  // no response.completed
    return sc;
  };
  StartGateway();
  HttpResult s = Responses("pg_test_alice", true);
  ASSERT_EQ(s.status, 200u);
  bool completed = false, error = false;
  ResponsesStreamedText(s.body, &completed, &error);
  EXPECT_FALSE(completed);
  EXPECT_TRUE(error);
  EXPECT_THAT(s.body, HasSubstr("event: error"));
  EXPECT_EQ(gw_->CounterForTesting("phigate_upstream_errors_total", "kind=\"stream_truncated\""),
            1u);
}

// GET /v1/models: without a router, the upstreams' models, in the format of
// the SDK asking (Anthropic's when it sends anthropic-version); a key is
// required, and only GET; nothing reaches a vendor.
TEST_F(GatewayTest, ModelsAreListedInEachApiFormat) {
  StartGateway();
  HttpResult r =
      HttpCall(gw_->port(), "GET", "/v1/models", "", {{"authorization", "Bearer pg_test_alice"}});
  ASSERT_EQ(r.status, 200u) << r.body;
  json list = json::parse(r.body);
  EXPECT_EQ(list["object"], "list");
  ASSERT_EQ(list["data"].size(), 2u) << r.body;
  EXPECT_EQ(list["data"][0]["id"], "gpt-4o");
  EXPECT_EQ(list["data"][0]["object"], "model");
  EXPECT_EQ(list["data"][0]["owned_by"], "openai");
  EXPECT_EQ(list["data"][1]["id"], "claude-sonnet-4");

  HttpResult a = HttpCall(gw_->port(), "GET", "/v1/models", "",
                          {{"x-api-key", "pg_test_alice"}, {"anthropic-version", "2023-06-01"}});
  ASSERT_EQ(a.status, 200u) << a.body;
  json alist = json::parse(a.body);
  EXPECT_EQ(alist["data"][1]["type"], "model");
  EXPECT_EQ(alist["first_id"], "gpt-4o");
  EXPECT_EQ(alist["last_id"], "claude-sonnet-4");
  EXPECT_EQ(alist["has_more"], false);

  // One model (the SDKs' models.retrieve): the same entry, or a 404 in the
  // API's format for a model the feature may not call.
  HttpResult one = HttpCall(gw_->port(), "GET", "/v1/models/claude-sonnet-4", "",
                            {{"authorization", "Bearer pg_test_alice"}});
  ASSERT_EQ(one.status, 200u) << one.body;
  EXPECT_EQ(json::parse(one.body), list["data"][1]);
  HttpResult aone = HttpCall(gw_->port(), "GET", "/v1/models/gpt%2D4o", "",
                             {{"x-api-key", "pg_test_alice"}, {"anthropic-version", "2023-06-01"}});
  ASSERT_EQ(aone.status, 200u) << aone.body;
  EXPECT_EQ(json::parse(aone.body), alist["data"][0]);
  HttpResult none = HttpCall(gw_->port(), "GET", "/v1/models/gpt-5-unlisted", "",
                             {{"authorization", "Bearer pg_test_alice"}});
  EXPECT_EQ(none.status, 404u);
  EXPECT_EQ(json::parse(none.body)["error"]["type"], "invalid_request_error");
  EXPECT_EQ(HttpCall(gw_->port(), "GET", "/v1/models/gpt-4o", "", {}).status, 401u);

  HttpResult bad = HttpCall(gw_->port(), "GET", "/v1/models", "",
                            {{"x-api-key", "pg_test_nobody"}, {"anthropic-version", "2023-06-01"}});
  EXPECT_EQ(bad.status, 401u);
  EXPECT_EQ(json::parse(bad.body)["error"]["type"], "authentication_error");
  EXPECT_EQ(HttpCall(gw_->port(), "GET", "/v1/models", "", {}).status, 401u);
  EXPECT_EQ(
      HttpCall(gw_->port(), "POST", "/v1/models", "{}", {{"authorization", "Bearer pg_test_alice"}})
          .status,
      405u);
  EXPECT_EQ(upstream_->count(), 0u);
  EXPECT_TRUE(audit_->records().empty());
}

// Anthropic's token count: the messages are de-identified like a messages
// request (the vendor counts the tokens it would be sent), the count comes
// back as the vendor wrote it, and the request is audited.
TEST_F(GatewayTest, AnthropicCountTokensIsDeidentifiedAndAudited) {
  StartGateway();
  json body = {{"model", "claude-sonnet-4"},
               {"system", std::string("Patient ") + kName + " is known to the clinic."},
               {"messages", json::array({{{"role", "user"}, {"content", Note()}}})}};
  HttpResult r = HttpCall(gw_->port(), "POST", "/v1/messages/count_tokens", body.dump(),
                          {{"x-api-key", "pg_test_alice"}, {"anthropic-version", "2023-06-01"}});
  ASSERT_EQ(r.status, 200u) << r.body;
  ASSERT_EQ(upstream_->count(), 1u);
  EXPECT_EQ(upstream_->received()[0].target, "/v1/messages/count_tokens");
  ExpectUpstreamSawNoPhi();
  const json sent = json::parse(upstream_->received()[0].body);
  EXPECT_FALSE(sent.contains("metadata"));
  EXPECT_EQ(json::parse(r.body)["input_tokens"], LastText(sent).size());
  auto recs = audit_->records();
  ASSERT_EQ(recs.size(), 2u);
  EXPECT_EQ(recs[0].api, "anthropic.count_tokens");
  EXPECT_EQ(recs[0].phase, AuditPhase::kEgress);
  // An unknown key gets Anthropic's error format.
  HttpResult bad = HttpCall(gw_->port(), "POST", "/v1/messages/count_tokens", body.dump(),
                            {{"x-api-key", "pg_test_nobody"}});
  EXPECT_EQ(bad.status, 401u);
  EXPECT_EQ(json::parse(bad.body)["type"], "error");
}

TEST_F(GatewayTest, AnthropicMessagesNonStreamAndStream) {
  StartGateway();
  HttpResult r = Messages("pg_test_alice", false);
  ASSERT_EQ(r.status, 200u) << r.body;
  json answer = json::parse(r.body);
  EXPECT_EQ(answer["content"][0]["text"], "Summary: " + Note());
  HttpResult s = Messages("pg_test_alice", true);
  ASSERT_EQ(s.status, 200u) << s.body;
  bool err = false, end = false;
  EXPECT_EQ(StreamedText(s.body, &err, &end), "Summary: " + Note());
  EXPECT_FALSE(err);
  EXPECT_TRUE(end);
  ExpectUpstreamSawNoPhi();
  const ReceivedRequest got = upstream_->received()[0];
  EXPECT_EQ(got.target, "/v1/messages");
  EXPECT_EQ(got.headers.at("x-api-key"), "sk-ant-upstream");
  json sent = json::parse(got.body);
  EXPECT_THAT(sent["metadata"]["user_id"].get<std::string>(), HasSubstr("pgt_"));
  EXPECT_THAT(sent["system"].get<std::string>(), HasSubstr("[NAME_"));
}

TEST_F(GatewayTest, ToolArgumentsAndToolResultsAreDeidentified) {
  StartGateway();
  json args = {{"patient", kName}, {"mrn", kMrn}};
  json body = {
      {"model", "gpt-4o"},
      {"tools",
       json::array({{{"type", "function"},
                     {"function", {{"name", "lookup"}, {"parameters", {{"type", "object"}}}}}}})},
      {"messages",
       json::array(
           {{{"role", "user"}, {"content", json::array({{{"type", "text"}, {"text", Note()}}})}},
            {{"role", "assistant"},
             {"content", nullptr},
             {"tool_calls",
              json::array({{{"id", "call_1"},
                            {"type", "function"},
                            {"function", {{"name", "lookup"}, {"arguments", args.dump()}}}}})}},
            {{"role", "tool"},
             {"tool_call_id", "call_1"},
             {"content", std::string("Found ") + kName + " phone " + kPhone}}})}};
  HttpResult r = HttpCall(gw_->port(), "POST", "/v1/chat/completions", body.dump(),
                          {{"authorization", "Bearer pg_test_alice"}});
  ASSERT_EQ(r.status, 200u) << r.body;
  ExpectUpstreamSawNoPhi();
  // The answer echoes the tool result, re-identified.
  EXPECT_THAT(r.body, HasSubstr(kName));

  json an = {
      {"model", "claude-sonnet-4"},
      {"max_tokens", 10},
      {"messages",
       json::array(
           {{{"role", "user"}, {"content", "look up the patient"}},
            {{"role", "assistant"},
             {"content",
              json::array(
                  {{{"type", "tool_use"}, {"id", "tu_1"}, {"name", "lookup"}, {"input", args}}})}},
            {{"role", "user"},
             {"content", json::array({{{"type", "tool_result"},
                                       {"tool_use_id", "tu_1"},
                                       {"content", std::string("SSN ") + kSsn}}})}}})}};
  HttpResult a =
      HttpCall(gw_->port(), "POST", "/v1/messages", an.dump(), {{"x-api-key", "pg_test_alice"}});
  ASSERT_EQ(a.status, 200u) << a.body;
  ExpectUpstreamSawNoPhi();
  EXPECT_THAT(a.body, HasSubstr(kSsn));
}

// Strings outside the messages reach the vendor too: tool definitions, stop
// sequences, response schemas, citations, fields the gateway does not know.
TEST_F(GatewayTest, PhiOutsideTheMessagesNeverReachesTheVendor) {
  StartGateway();
  const std::string who = std::string(kName) + " MRN " + kMrn;
  json body = {
      {"model", "gpt-4o"},
      {"messages",
       json::array(
           {{{"role", "user"},
             {"content", json::array({{{"type", "text"}, {"text", "hi"}, {"note", who}}})}}})},
      {"tools",
       json::array({{{"type", "function"},
                     {"function",
                      {{"name", "lookup"},
                       {"description", "Find " + who},
                       {"parameters",
                        {{"type", "object"},
                         {"properties", {{"who", {{"type", "string"}, {"enum", {who}}}}}}}}}}}})},
      {"stop", json::array({who})},
      {"response_format",
       {{"type", "json_schema"},
        {"json_schema", {{"name", "n"}, {"schema", {{"description", who}}}}}}},
      {"x_future_field", {{"deep", json::array({json::array({who})})}}},
      {"metadata", {{who, "a key naming the patient"}}}};
  HttpResult r = HttpCall(gw_->port(), "POST", "/v1/chat/completions", body.dump(),
                          {{"authorization", "Bearer pg_test_alice"}});
  ASSERT_EQ(r.status, 200u) << r.body;
  ExpectUpstreamSawNoPhi();

  json an = {{"model", "claude-sonnet-4"},
             {"max_tokens", 10},
             {"tools", json::array({{{"name", "lookup"},
                                     {"description", "Find " + who},
                                     {"input_schema", {{"type", "object"}}}}})},
             {"messages",
              json::array({{{"role", "assistant"},
                            {"content", json::array({{{"type", "text"},
                                                      {"text", "See the chart."},
                                                      {"citations", json::array({{
                                                                        {"type", "char_location"},
                                                                        {"cited_text", who},
                                                                        {"document_title", who},
                                                                    }})}}})}},
                           {{"role", "user"}, {"content", "Summarise."}}})}};
  HttpResult a =
      HttpCall(gw_->port(), "POST", "/v1/messages", an.dump(), {{"x-api-key", "pg_test_alice"}});
  ASSERT_EQ(a.status, 200u) << a.body;
  ExpectUpstreamSawNoPhi();
}

TEST_F(GatewayTest, BlockedCategoryInACitationRefusesTheRequest) {
  policy_->base().actions[static_cast<size_t>(PhiCategory::kSsn)] = Action::kBlock;
  StartGateway();
  json an = {
      {"model", "claude-sonnet-4"},
      {"max_tokens", 10},
      {"messages",
       json::array(
           {{{"role", "assistant"},
             {"content",
              json::array(
                  {{{"type", "text"},
                    {"text", "See the chart."},
                    {"citations", json::array({{{"type", "char_location"},
                                                {"cited_text", std::string("SSN ") + kSsn}}})}}})}},
            {{"role", "user"}, {"content", "Summarise."}}})}};
  HttpResult a =
      HttpCall(gw_->port(), "POST", "/v1/messages", an.dump(), {{"x-api-key", "pg_test_alice"}});
  EXPECT_EQ(a.status, 403u) << a.body;
  EXPECT_EQ(upstream_->count(), 0u);
}

TEST_F(GatewayTest, DeeplyNestedBodyIs400AndTheGatewayServesOn) {
  config_.server.max_body_bytes = size_t{4} << 20;  // the default
  StartGateway();
  const size_t depth = 200'000;  // overflowed the io thread's stack
  const std::string body = R"({"model":"gpt-4o","messages":[{"role":"user","content":"hi"}],"x":)" +
                           std::string(depth, '[') + std::string(depth, ']') + "}";
  HttpResult r = HttpCall(gw_->port(), "POST", "/v1/chat/completions", body,
                          {{"authorization", "Bearer pg_test_alice"}});
  EXPECT_EQ(r.status, 400u) << r.body.substr(0, 200);
  EXPECT_EQ(upstream_->count(), 0u);
  EXPECT_EQ(Chat("pg_test_alice", false).status, 200u);
}

TEST_F(GatewayTest, ImagesAreRefusedNotForwarded) {
  StartGateway();
  json body = {
      {"model", "gpt-4o"},
      {"messages",
       json::array({{{"role", "user"},
                     {"content",
                      json::array({{{"type", "image_url"},
                                    {"image_url", {{"url", "data:image/png;base64,AAAA"}}}}})}}})}};
  HttpResult r = HttpCall(gw_->port(), "POST", "/v1/chat/completions", body.dump(),
                          {{"authorization", "Bearer pg_test_alice"}});
  EXPECT_EQ(r.status, 400u);
  EXPECT_EQ(upstream_->count(), 0u);
  EXPECT_EQ(json::parse(r.body)["error"]["type"], "invalid_request_error");
}

TEST_F(GatewayTest, BlockedCategoryRefusesWholeRequest) {
  policy_->base().actions[static_cast<size_t>(PhiCategory::kSsn)] = Action::kBlock;
  StartGateway();
  HttpResult r = Chat("pg_test_alice", false);
  EXPECT_EQ(r.status, 403u);
  EXPECT_THAT(r.body, HasSubstr("SSN"));
  for (const char* phi : kAllPhi) EXPECT_THAT(r.body, Not(HasSubstr(phi)));
  EXPECT_EQ(upstream_->count(), 0u);
  EXPECT_EQ(gw_->CounterForTesting("phigate_transform_blocked_total", ""), 1u);
}

TEST_F(GatewayTest, RedactAndAllowActions) {
  policy_->base().actions[static_cast<size_t>(PhiCategory::kPhone)] = Action::kRedact;
  policy_->base().actions[static_cast<size_t>(PhiCategory::kMrn)] = Action::kAllow;
  StartGateway();
  HttpResult r = Chat("pg_test_alice", false);
  ASSERT_EQ(r.status, 200u);
  const std::string sent = upstream_->received()[0].body;
  EXPECT_THAT(sent, HasSubstr("[PHONE]"));
  EXPECT_THAT(sent, HasSubstr(kMrn));  // allowed by the decision table
  EXPECT_THAT(sent, Not(HasSubstr(kName)));
  EXPECT_THAT(sent, Not(HasSubstr(kPhone)));
}

// A stand-in for the audit module's keyed index: "subj:" + tenant + category
// + digits.
class FakeSubjects : public SubjectIndexer {
 public:
  bool fail = false;
  Result<std::string> Index(const TenantId& tenant, PhiCategory c,
                            std::string_view id) const override {
    if (fail) return absl::InternalError("key store down");
    std::string digits;
    for (char ch : id) {
      if (ch >= '0' && ch <= '9') digits.push_back(ch);
    }
    if (digits.empty()) return absl::InvalidArgumentError("no digits");
    return absl::StrCat("subj:", tenant.value(), ":", ToAbsl(CategoryName(c)), ":", digits);
  }
};

TEST_F(GatewayTest, AuditEventsNameThePatientBySubjectIndexOnly) {
  subjects_ = std::make_shared<FakeSubjects>();
  StartGateway();
  ASSERT_EQ(Chat("pg_test_alice", false).status, 200u);
  auto recs = audit_->records();
  ASSERT_EQ(recs.size(), 2u);
  // The MRN and the SSN name the patient (sorted, one each); the name and the
  // phone do not.
  const std::vector<std::string> want = {"subj:acme:MRN:48213377", "subj:acme:SSN:912445678"};
  EXPECT_EQ(recs[0].subject_refs, want);
  EXPECT_EQ(recs[1].subject_refs, want);
  // Same prompt for another tenant: that tenant's indexes.
  ASSERT_EQ(Chat("pg_test_carol", false).status, 200u);
  EXPECT_EQ(audit_->records()[2].subject_refs[0], "subj:globex:MRN:48213377");
  // No patient identifier: no subject.
  ASSERT_EQ(Chat("pg_test_alice", false, "How should a refill request be worded?").status, 200u);
  EXPECT_TRUE(audit_->records().back().subject_refs.empty());
}

TEST_F(GatewayTest, SubjectIndexFailureRefusesAndForwardsNothing) {
  auto subjects = std::make_shared<FakeSubjects>();
  subjects->fail = true;
  subjects_ = subjects;
  StartGateway();
  HttpResult r = Chat("pg_test_alice", false);
  EXPECT_EQ(r.status, 503u);
  EXPECT_THAT(r.body, HasSubstr("audit"));
  EXPECT_EQ(upstream_->count(), 0u);
}

// --- fail closed -----------------------------------------------------------

TEST_F(GatewayTest, UpstreamDownIs502) {
  config_.upstreams[0].base_url = "http://127.0.0.1:1/v1";
  StartGateway();
  HttpResult r = Chat("pg_test_alice", false);
  EXPECT_EQ(r.status, 502u);
  EXPECT_EQ(json::parse(r.body)["error"]["type"], "upstream_error");
  HttpResult s = Chat("pg_test_alice", true);
  EXPECT_EQ(s.status, 502u);
  for (const char* phi : kAllPhi) EXPECT_THAT(r.body + s.body, Not(HasSubstr(phi)));
  // No connection, so no byte of either request reached the upstream: both
  // ingress records say so, for the accounting of disclosures.
  int ingress = 0;
  for (const AuditRecord& a : audit_->records()) {
    if (a.phase != AuditPhase::kIngress) continue;
    ++ingress;
    EXPECT_THAT(a.reasons, Contains(std::string(kReasonUpstreamNotSent)));
  }
  EXPECT_EQ(ingress, 2);
}

// The upstream answers long after the configured upstream timeout: the gateway
// answers 504 (not 502) with a clear, PHI-free error in the API's format, and
// audits the request as forwarded (egress) then failed (ingress, 504).
TEST_F(GatewayTest, UpstreamSlowIs504) {
  config_.server.upstream_timeout = std::chrono::milliseconds(200);
  responder_ = [](const ReceivedRequest& r) {
    Script sc = Echo(r);
    sc.delay_before_headers = std::chrono::milliseconds(1200);
    return sc;
  };
  StartGateway();
  HttpResult r = Chat("pg_test_alice", false);
  ASSERT_EQ(r.status, 504u) << r.body;
  json err = json::parse(r.body);
  EXPECT_EQ(err["error"]["type"], "timeout_error");
  EXPECT_THAT(err["error"]["message"].get<std::string>(), HasSubstr("timed out"));
  for (const char* phi : kAllPhi) EXPECT_THAT(r.body, Not(HasSubstr(phi)));
  EXPECT_EQ(gw_->CounterForTesting("phigate_upstream_errors_total", "kind=\"timeout\""), 1u);
  auto recs = audit_->records();
  ASSERT_EQ(recs.size(), 2u);
  EXPECT_EQ(recs[0].phase, AuditPhase::kEgress);
  EXPECT_EQ(recs[1].phase, AuditPhase::kIngress);
  EXPECT_EQ(recs[1].outcome, AuditOutcome::kError);
  EXPECT_EQ(recs[1].http_status, 504);
  EXPECT_EQ(recs[1].request_id, recs[0].request_id);
  // The upstream got the request and did not answer in time: it may hold it.
  EXPECT_THAT(recs[1].reasons, Not(Contains(std::string(kReasonUpstreamNotSent))));
}

// Same when the client asked for a stream: no header arrives in time, so the
// stream never starts and the answer is a 504 JSON error (Anthropic format).
TEST_F(GatewayTest, UpstreamSlowBeforeStreamIs504) {
  config_.server.upstream_timeout = std::chrono::milliseconds(200);
  responder_ = [](const ReceivedRequest& r) {
    Script sc = Echo(r);
    sc.delay_before_headers = std::chrono::milliseconds(1200);
    return sc;
  };
  StartGateway();
  HttpResult r = Messages("pg_test_alice", true);
  ASSERT_EQ(r.status, 504u) << r.body;
  json err = json::parse(r.body);
  EXPECT_EQ(err["type"], "error");
  EXPECT_EQ(err["error"]["type"], "timeout_error");
  for (const char* phi : kAllPhi) EXPECT_THAT(r.body, Not(HasSubstr(phi)));
  auto recs = audit_->records();
  ASSERT_EQ(recs.size(), 2u);
  EXPECT_EQ(recs[1].outcome, AuditOutcome::kError);
  EXPECT_EQ(recs[1].http_status, 504);
}

// A non-streamed answer that trickles in (each piece well within the idle
// timeout, the whole far beyond the upstream timeout) is cut off: 504.
TEST_F(GatewayTest, UpstreamTricklingAnswerIs504) {
  config_.server.upstream_timeout = std::chrono::milliseconds(300);
  config_.server.upstream_idle_timeout = std::chrono::milliseconds(5000);
  responder_ = [](const ReceivedRequest& r) {
    Script sc = Echo(r);
    sc.chunked = true;
    sc.chunks = Pieces(sc.chunks[0], sc.chunks[0].size() / 12 + 1);
    sc.delay_between_chunks = std::chrono::milliseconds(150);
    return sc;
  };
  StartGateway();
  HttpResult r = Chat("pg_test_alice", false);
  ASSERT_EQ(r.status, 504u) << r.body;
  for (const char* phi : kAllPhi) EXPECT_THAT(r.body, Not(HasSubstr(phi)));
  auto recs = audit_->records();
  ASSERT_EQ(recs.size(), 2u);
  EXPECT_EQ(recs[1].http_status, 504);
}

TEST_F(GatewayTest, Upstream5xxIs502WithoutVendorText) {
  responder_ = [](const ReceivedRequest&) {
    Script sc;
    sc.status = 500;
    sc.chunks = {R"({"error":{"message":"internal failure near [NAME_ABCDE]"}})"};
    return sc;
  };
  StartGateway();
  HttpResult r = Chat("pg_test_alice", false);
  EXPECT_EQ(r.status, 502u);
  EXPECT_THAT(r.body, HasSubstr("500"));
  EXPECT_THAT(r.body, Not(HasSubstr("NAME_")));
  HttpResult a = Messages("pg_test_alice", true);
  EXPECT_EQ(a.status, 502u);
  EXPECT_EQ(json::parse(a.body)["type"], "error");
}

TEST_F(GatewayTest, ResetMidStreamEndsWithErrorEvent) {
  responder_ = [](const ReceivedRequest& r) {
    Script sc = Echo(r);
    sc.reset_after_chunks = 6;
    return sc;
  };
  StartGateway();
  HttpResult r = Chat("pg_test_alice", true);
  ASSERT_EQ(r.status, 200u);
  bool err = false, end = false;
  StreamedText(r.body, &err, &end);
  EXPECT_TRUE(err);
  EXPECT_FALSE(end);
  EXPECT_TRUE(r.ok) << "the gateway ends the chunked stream cleanly";
  EXPECT_EQ(gw_->CounterForTesting("phigate_upstream_errors_total", "kind=\"stream_broken\""), 1u);
}

TEST_F(GatewayTest, StalledStreamEndsWithErrorEvent) {
  config_.server.upstream_idle_timeout = std::chrono::milliseconds(200);
  responder_ = [](const ReceivedRequest& r) {
    Script sc = Echo(r);
    sc.reset_after_chunks = 4;
    sc.stall_after_chunks = true;
    return sc;
  };
  StartGateway();
  HttpResult r = Messages("pg_test_alice", true);
  ASSERT_EQ(r.status, 200u);
  EXPECT_THAT(r.body, HasSubstr("event: error"));
  EXPECT_THAT(r.body, HasSubstr("stalled"));
  EXPECT_THAT(r.body, Not(HasSubstr("message_stop")));
  EXPECT_TRUE(r.ok) << "the gateway ends the chunked stream cleanly";
  EXPECT_EQ(gw_->CounterForTesting("phigate_upstream_errors_total", "kind=\"stream_stalled\""), 1u);
}

// OpenAI format: the upstream stops sending in the middle of the answer (the
// connection stays open). The text before the stall reaches the client
// re-identified; then one error event, no [DONE]; the request is audited as
// failed (504).
TEST_F(GatewayTest, StalledOpenAIStreamEndsWithErrorEventAndIsAudited) {
  config_.server.upstream_idle_timeout = std::chrono::milliseconds(200);
  responder_ = [](const ReceivedRequest& r) {
    Script sc = Echo(r);
    sc.reset_after_chunks = 12;
    sc.stall_after_chunks = true;
    return sc;
  };
  StartGateway();
  HttpResult r = Chat("pg_test_alice", true);
  ASSERT_EQ(r.status, 200u);
  EXPECT_TRUE(r.ok) << "the gateway ends the chunked stream cleanly";
  bool err = false, end = false;
  const std::string text = StreamedText(r.body, &err, &end);
  EXPECT_TRUE(err);
  EXPECT_FALSE(end);
  EXPECT_THAT(r.body, HasSubstr("stalled"));
  // Delivered: a re-identified prefix of the answer; the tail held back as a
  // possible token start is flushed as it came (de-identified text, never PHI).
  EXPECT_THAT(text, HasSubstr(kName));
  EXPECT_THAT("Summary: " + Note(), ::testing::StartsWith(text.substr(0, text.rfind('['))));
  EXPECT_THAT(r.body, Not(HasSubstr("[NAME_")));
  ExpectUpstreamSawNoPhi();
  EXPECT_EQ(gw_->CounterForTesting("phigate_upstream_errors_total", "kind=\"stream_stalled\""), 1u);
  auto recs = audit_->records();
  ASSERT_EQ(recs.size(), 2u);
  EXPECT_EQ(recs[1].phase, AuditPhase::kIngress);
  EXPECT_EQ(recs[1].outcome, AuditOutcome::kError);
  EXPECT_EQ(recs[1].http_status, 504);
}

TEST_F(GatewayTest, TruncatedSseEndsWithErrorEvent) {
  responder_ = [](const ReceivedRequest& r) {
    Script sc = Echo(r);
    sc.chunks.resize(sc.chunks.size() - 2);                // no finish chunk, no [DONE]
    sc.chunks.back().resize(sc.chunks.back().size() / 2);  // and half an event
    return sc;
  };
  StartGateway();
  HttpResult r = Chat("pg_test_alice", true);
  ASSERT_EQ(r.status, 200u);
  bool err = false, end = false;
  StreamedText(r.body, &err, &end);
  EXPECT_TRUE(err);
  EXPECT_FALSE(end);
  EXPECT_EQ(gw_->CounterForTesting("phigate_upstream_errors_total", "kind=\"stream_truncated\""),
            1u);
}

// A stream cut right after an event that ends inside a token ("... [NA"): the
// client gets the answer up to the token, re-identified, then the error event;
// the half token the gateway held back is dropped, not sent as text.
TEST_F(GatewayTest, StreamCutInsideATokenDropsTheHeldBackHalf) {
  responder_ = [](const ReceivedRequest& r) {
    Script sc = Echo(r);
    std::string text;
    for (size_t i = 0; i < sc.chunks.size(); ++i) {
      text += StreamedText(sc.chunks[i]);
      const size_t open = text.rfind('[');
      if (open != std::string::npos && text.find(']', open) == std::string::npos &&
          text.size() - open >= 2) {
        sc.chunks.resize(i + 1);  // no more text, no end event
        break;
      }
    }
    return sc;
  };
  StartGateway();
  const std::string full = "Summary: " + Note();
  for (bool anthropic : {false, true}) {
    HttpResult r = anthropic ? Messages("pg_test_alice", true) : Chat("pg_test_alice", true);
    ASSERT_EQ(r.status, 200u) << anthropic;
    bool err = false, end = false;
    const std::string text = StreamedText(r.body, &err, &end);
    EXPECT_TRUE(err) << anthropic;
    EXPECT_FALSE(end) << anthropic;
    EXPECT_GT(text.size(), std::string("Summary: ").size()) << anthropic;
    EXPECT_TRUE(full.starts_with(text)) << anthropic << ": " << text;
    EXPECT_EQ(text.find('['), std::string::npos) << anthropic << ": " << text;
  }
}

TEST_F(GatewayTest, UpstreamErrorEventMidStreamEndsCleanly) {
  responder_ = [](const ReceivedRequest& r) {
    Script sc = Echo(r);
    sc.chunks.insert(sc.chunks.begin() + 3, "data: {\"error\":{\"message\":\"overloaded\"}}\n\n");
    return sc;
  };
  StartGateway();
  HttpResult r = Chat("pg_test_alice", true);
  bool err = false, end = false;
  StreamedText(r.body, &err, &end);
  EXPECT_TRUE(err);
  EXPECT_FALSE(end);
}

// An upstream event of the wrong shape (an index that is no number, a type
// that is no string) ends the stream with an error event; the gateway goes on
// serving.
TEST_F(GatewayTest, MalformedAnthropicStreamEventEndsWithErrorEvent) {
  for (const char* bad :
       {R"({"type":"content_block_delta","index":"0","delta":{"type":"text_delta","text":"x"}})",
        R"({"type":"content_block_stop","index":[0]})", R"({"type":7,"index":0})"}) {
    responder_ = [bad](const ReceivedRequest& r) {
      Script sc = Echo(r);
      if (sc.chunked) sc.chunks.insert(sc.chunks.begin() + 3, std::string("data: ") + bad + "\n\n");
      return sc;
    };
    if (!gw_) StartGateway();
    HttpResult s = Messages("pg_test_alice", true);
    ASSERT_EQ(s.status, 200u) << bad;
    bool err = false, end = false;
    StreamedText(s.body, &err, &end);
    EXPECT_TRUE(err) << bad;
    EXPECT_FALSE(end) << bad;
  }
  // Each was audited as an answer that failed.
  int failed = 0;
  for (const AuditRecord& a : audit_->records()) {
    failed += a.phase == AuditPhase::kIngress && a.outcome == AuditOutcome::kError ? 1 : 0;
  }
  EXPECT_EQ(failed, 3);
  responder_ = Echo;
  HttpResult ok = Messages("pg_test_alice", true);
  ASSERT_EQ(ok.status, 200u);
  EXPECT_EQ(StreamedText(ok.body), "Summary: " + Note());
}

// An exception in the pipeline (a stage's bug) ends the request like any
// other failure: a 500 before anything left, audited, nothing forwarded; the
// gateway goes on serving.
TEST_F(GatewayTest, ExceptionBeforeForwardingRefusesWith500AndIsAudited) {
  detector_->throws = true;
  StartGateway();
  HttpResult r = Chat("pg_test_alice", false);
  EXPECT_EQ(r.status, 500u) << r.body;
  EXPECT_THAT(r.body, HasSubstr("internal error"));
  EXPECT_THAT(r.body, Not(HasSubstr("detector bug")));
  HttpResult m = Messages("pg_test_alice", true);
  EXPECT_EQ(m.status, 500u);
  EXPECT_EQ(json::parse(m.body)["type"], "error");  // in the Anthropic format
  EXPECT_EQ(upstream_->count(), 0u);
  const auto records = audit_->records();
  ASSERT_EQ(records.size(), 2u);
  for (const AuditRecord& a : records) {
    EXPECT_EQ(a.phase, AuditPhase::kRefused);
    EXPECT_EQ(a.http_status, 500);
  }
  EXPECT_EQ(gw_->CounterForTesting("phigate_internal_errors_total", ""), 2u);
  detector_->throws = false;
  EXPECT_EQ(Chat("pg_test_alice", false).status, 200u);
}

// Throws on the answer's first scan: in a stream, after the headers went out.
class ThrowingLeakScanner : public LeakScanner {
 public:
  Result<LeakVerdict> Scan(const Principal&, std::string_view,
                           const std::vector<std::string>&) override {
    throw std::runtime_error("scanner bug");
  }
};

TEST_F(GatewayTest, ExceptionMidStreamEndsWithErrorEventAndIsAudited) {
  leak_ = std::make_shared<ThrowingLeakScanner>();
  StartGateway();
  for (bool anthropic : {false, true}) {
    HttpResult s = anthropic ? Messages("pg_test_alice", true) : Chat("pg_test_alice", true);
    ASSERT_EQ(s.status, 200u);
    bool err = false, end = false;
    StreamedText(s.body, &err, &end);
    EXPECT_TRUE(err) << anthropic;
    EXPECT_FALSE(end) << anthropic;
    EXPECT_THAT(s.body, HasSubstr("internal error"));
    EXPECT_THAT(s.body, Not(HasSubstr("scanner bug")));
  }
  const auto records = audit_->records();
  ASSERT_EQ(records.size(), 4u);  // egress and a failed ingress, twice
  for (size_t i = 0; i < records.size(); i += 2) {
    EXPECT_EQ(records[i].phase, AuditPhase::kEgress);
    EXPECT_EQ(records[i + 1].phase, AuditPhase::kIngress);
    EXPECT_EQ(records[i + 1].outcome, AuditOutcome::kError);
    EXPECT_EQ(records[i + 1].http_status, 500);
  }
  EXPECT_EQ(gw_->CounterForTesting("phigate_internal_errors_total", ""), 2u);
}

TEST_F(GatewayTest, VaultDownRefusesAndForwardsNothing) {
  vaults_->fail = true;
  StartGateway();
  HttpResult r = Chat("pg_test_alice", false);
  EXPECT_EQ(r.status, 503u);
  EXPECT_THAT(r.body, HasSubstr("vault"));
  vaults_->fail = false;
  vaults_->fail_tokens = true;  // open works, token writes fail
  HttpResult s = Chat("pg_test_alice", true);
  EXPECT_EQ(s.status, 503u);
  EXPECT_EQ(upstream_->count(), 0u);
}

TEST_F(GatewayTest, AuditFailureRefusesAndForwardsNothing) {
  audit_->fail = true;
  StartGateway();
  HttpResult r = Chat("pg_test_alice", false);
  EXPECT_EQ(r.status, 503u);
  EXPECT_THAT(r.body, HasSubstr("audit"));
  HttpResult s = Messages("pg_test_alice", true);
  EXPECT_EQ(s.status, 503u);
  EXPECT_EQ(upstream_->count(), 0u);
}

// The answer's audit event fails to commit after the upstream answered: a
// stream must not end as complete (no [DONE], no message_stop) — the client
// learns the answer is not on record — and a whole answer is withheld (503).
TEST_F(GatewayTest, AnswerNotOnRecordDoesNotEndAsComplete) {
  audit_->fail_ingress = true;
  StartGateway();
  HttpResult s = Chat("pg_test_alice", true);
  ASSERT_EQ(s.status, 200u);
  EXPECT_THAT(s.body, Not(HasSubstr("[DONE]")));
  EXPECT_THAT(s.body, HasSubstr("audit trail is not available"));
  HttpResult a = Messages("pg_test_alice", true);
  ASSERT_EQ(a.status, 200u);
  EXPECT_THAT(a.body, Not(HasSubstr("message_stop")));
  EXPECT_THAT(a.body, HasSubstr("audit trail is not available"));
  HttpResult r = Chat("pg_test_alice", false);
  EXPECT_EQ(r.status, 503u);
  audit_->fail_ingress = false;
  HttpResult ok = Chat("pg_test_alice", true);
  EXPECT_THAT(ok.body, HasSubstr("[DONE]"));
}

// What a Bedrock model answers (Converse, or ConverseStream's event stream):
// "Summary: " + the last user text, and, when the request defines tools, a
// call of the first one with that text as its "note" argument.
enum class BedrockFault { kNone, kException, kTruncated, kBadCrc };
Script BedrockAnswer(const ReceivedRequest& r, BedrockFault fault = BedrockFault::kNone) {
  json body = json::parse(r.body, nullptr, false);
  Script sc;
  if (r.target.ends_with("/count-tokens") && !body.is_discarded()) {
    // A token count: one per byte of the last user text.
    sc.chunks = {json{{"inputTokens", LastText(body["input"]["converse"]).size()}}.dump()};
    return sc;
  }
  if (body.is_discarded() || !body.contains("messages")) {
    sc.status = 400;
    sc.chunks = {R"({"message":"bad request"})"};
    return sc;
  }
  const std::string text = "Summary: " + LastText(body);
  std::string tool;
  if (body.contains("toolConfig")) tool = body["toolConfig"]["tools"][0]["toolSpec"]["name"];
  const json input = {{"note", text}};
  const json usage = {{"inputTokens", 5}, {"outputTokens", 7}, {"totalTokens", 12}};
  if (r.target.find("/converse-stream") == std::string::npos) {
    json content = json::array({{{"text", text}}});
    if (!tool.empty()) {
      content.push_back({{"toolUse", {{"toolUseId", "tu_9"}, {"name", tool}, {"input", input}}}});
    }
    sc.chunks = {json{
        {"output", {{"message", {{"role", "assistant"}, {"content", content}}}}},
        {"stopReason", tool.empty() ? "end_turn" : "tool_use"},
        {"usage",
         usage}}.dump()};
    return sc;
  }
  std::vector<std::pair<std::string, json>> events = {{"messageStart", {{"role", "assistant"}}}};
  for (const std::string& p : Pieces(text, 5)) {
    events.push_back({"contentBlockDelta", {{"contentBlockIndex", 0}, {"delta", {{"text", p}}}}});
    if (fault == BedrockFault::kException && events.size() == 3) break;
  }
  if (fault != BedrockFault::kException) {
    events.push_back({"contentBlockStop", {{"contentBlockIndex", 0}}});
    if (!tool.empty()) {
      events.push_back({"contentBlockStart",
                        {{"contentBlockIndex", 1},
                         {"start", {{"toolUse", {{"toolUseId", "tu_9"}, {"name", tool}}}}}}});
      for (const std::string& p : Pieces(input.dump(), 7)) {
        events.push_back({"contentBlockDelta",
                          {{"contentBlockIndex", 1}, {"delta", {{"toolUse", {{"input", p}}}}}}});
      }
      events.push_back({"contentBlockStop", {{"contentBlockIndex", 1}}});
    }
    if (fault != BedrockFault::kTruncated) {
      events.push_back({"messageStop", {{"stopReason", tool.empty() ? "end_turn" : "tool_use"}}});
      events.push_back({"metadata", {{"usage", usage}, {"metrics", {{"latencyMs", 10}}}}});
    }
  }
  std::string bytes;
  for (const auto& [type, payload] : events) {
    bytes += eventstream::Encode(
        {{":event-type", type}, {":content-type", "application/json"}, {":message-type", "event"}},
        payload.dump());
  }
  if (fault == BedrockFault::kException) {
    bytes += eventstream::Encode({{":exception-type", "throttlingException"},
                                  {":content-type", "application/json"},
                                  {":message-type", "exception"}},
                                 R"({"message":"Too many requests"})");
  }
  if (fault == BedrockFault::kBadCrc) bytes[bytes.size() / 2] ^= 0x20;
  sc.content_type = "application/vnd.amazon.eventstream";
  sc.chunked = true;
  sc.chunks = Pieces(bytes, 37);  // frames cut everywhere
  return sc;
}

// Tool calls of a streamed answer (OpenAI chunks or Anthropic events):
// arguments / partial JSON concatenated per call, in order.
std::vector<std::string> StreamedToolInputs(const std::string& sse) {
  std::vector<std::string> calls;
  ForEachSseData(sse, [&](const std::string& data) {
    const json j = json::parse(data, nullptr, false);
    if (j.is_discarded()) return;
    if (j.value("type", "") == "content_block_start" && j["content_block"]["type"] == "tool_use") {
      calls.emplace_back();
    }
    if (j.value("type", "") == "content_block_delta" && j["delta"]["type"] == "input_json_delta") {
      calls.back() += j["delta"]["partial_json"].get<std::string>();
    }
    if (j.contains("choices") && !j["choices"].empty() &&
        j["choices"][0]["delta"].contains("tool_calls")) {
      for (const json& c : j["choices"][0]["delta"]["tool_calls"]) {
        const size_t i = c["index"].get<size_t>();
        if (calls.size() <= i) calls.resize(i + 1);
        calls[i] += c["function"].value("arguments", "");
      }
    }
  });
  return calls;
}

class BedrockTest : public GatewayTest {
 protected:
  void UseBedrock() {
    UpstreamConfig br;
    br.vendor = "bedrock";
    br.kind = VendorKind::kBedrock;
    br.base_url = upstream_->url();
    br.models = {"claude-haiku"};
    br.model_ids = {{"claude-haiku", "anthropic.claude-3-haiku-20240307-v1:0"}};
    br.region = "us-east-1";
    br.aws_access_key_id = "AKIDEXAMPLE";
    br.aws_secret_access_key = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY";
    config_.upstreams.push_back(br);
  }
  // A chat (OpenAI) or messages (Anthropic) request for the Bedrock model;
  // with `tools`, one tool and a history of one call of it and its result.
  HttpResult Call(Api api, bool stream, bool tools = false, const std::string& key = "alice") {
    const json args = {{"patient", kName}, {"mrn", kMrn}};
    json body = {{"model", "claude-haiku"}, {"stream", stream}, {"max_tokens", 100}};
    if (api == Api::kOpenAIChat) {
      json messages = json::array({{{"role", "system"}, {"content", "You are a scribe."}}});
      if (tools) {
        body["tools"] = json::array(
            {{{"type", "function"},
              {"function", {{"name", "lookup"}, {"parameters", {{"type", "object"}}}}}}});
        messages.push_back({{"role", "user"}, {"content", "look up the patient"}});
        messages.push_back(
            {{"role", "assistant"},
             {"content", nullptr},
             {"tool_calls",
              json::array({{{"id", "call_1"},
                            {"type", "function"},
                            {"function", {{"name", "lookup"}, {"arguments", args.dump()}}}}})}});
        messages.push_back({{"role", "tool"},
                            {"tool_call_id", "call_1"},
                            {"content", std::string("Found ") + kName}});
      }
      messages.push_back({{"role", "user"}, {"content", Note()}});
      body["messages"] = std::move(messages);
      return HttpCall(gw_->port(), "POST", "/v1/chat/completions", body.dump(),
                      {{"authorization", "Bearer pg_test_" + key}});
    }
    body["system"] = "You are a scribe.";
    json messages = json::array();
    if (tools) {
      body["tools"] = json::array({{{"name", "lookup"}, {"input_schema", {{"type", "object"}}}}});
      messages.push_back({{"role", "user"}, {"content", "look up the patient"}});
      messages.push_back(
          {{"role", "assistant"},
           {"content",
            json::array(
                {{{"type", "tool_use"}, {"id", "tu_1"}, {"name", "lookup"}, {"input", args}}})}});
      messages.push_back({{"role", "user"},
                          {"content", json::array({{{"type", "tool_result"},
                                                    {"tool_use_id", "tu_1"},
                                                    {"content", std::string("Found ") + kName}},
                                                   {{"type", "text"}, {"text", Note()}}})}});
    } else {
      messages.push_back({{"role", "user"}, {"content", Note()}});
    }
    body["messages"] = std::move(messages);
    return HttpCall(gw_->port(), "POST", "/v1/messages", body.dump(),
                    {{"x-api-key", "pg_test_" + key}, {"anthropic-version", "2023-06-01"}});
  }
};

// AWS Bedrock (Converse and ConverseStream, SigV4) end to end, for OpenAI
// chat and Anthropic messages clients: the request reaches Bedrock
// de-identified and signed at /converse or /converse-stream; the answer comes
// back in the client's format, re-identified for a caller allowed to see PHI
// (tokens for one who is not); the stream is ConverseStream's binary event
// stream cut at arbitrary bytes, translated event by event.
TEST_F(BedrockTest, ChatAndMessagesWholeAndStreamed) {
  UseBedrock();
  responder_ = [](const ReceivedRequest& r) { return BedrockAnswer(r); };
  StartGateway();
  size_t calls = 0;
  for (Api api : {Api::kOpenAIChat, Api::kAnthropicMessages}) {
    for (bool stream : {false, true}) {
      SCOPED_TRACE(std::string(ApiName(api)) + (stream ? " streamed" : " whole"));
      HttpResult r = Call(api, stream);
      ASSERT_EQ(r.status, 200u) << r.body;
      ASSERT_EQ(upstream_->count(), ++calls);
      const ReceivedRequest got = upstream_->received().back();
      EXPECT_EQ(got.target, std::string("/model/anthropic.claude-3-haiku-20240307-v1%3A0/") +
                                (stream ? "converse-stream" : "converse"));
      EXPECT_THAT(got.headers.at("authorization"), HasSubstr("AWS4-HMAC-SHA256"));
      const json sent = json::parse(got.body);
      EXPECT_EQ(sent["system"][0]["text"], "You are a scribe.");
      EXPECT_EQ(sent["inferenceConfig"]["maxTokens"], 100);
      EXPECT_THAT(LastText(sent), HasSubstr("[NAME_"));
      if (!stream) {
        const json answer = json::parse(r.body);
        EXPECT_EQ(api == Api::kOpenAIChat ? answer["choices"][0]["message"]["content"]
                                          : answer["content"][0]["text"],
                  "Summary: " + Note());
        EXPECT_EQ(answer["model"], "claude-haiku");
      } else {
        bool err = false, end = false;
        EXPECT_EQ(StreamedText(r.body, &err, &end), "Summary: " + Note());
        EXPECT_FALSE(err);
        EXPECT_TRUE(end);
      }
    }
  }
  // Anthropic's token count, through CountTokens.
  const json count = {{"model", "claude-haiku"},
                      {"messages", json::array({{{"role", "user"}, {"content", Note()}}})}};
  HttpResult n = HttpCall(gw_->port(), "POST", "/v1/messages/count_tokens", count.dump(),
                          {{"x-api-key", "pg_test_alice"}, {"anthropic-version", "2023-06-01"}});
  ASSERT_EQ(n.status, 200u) << n.body;
  const ReceivedRequest counted = upstream_->received().back();
  EXPECT_EQ(counted.target, "/model/anthropic.claude-3-haiku-20240307-v1%3A0/count-tokens");
  EXPECT_EQ(json::parse(n.body)["input_tokens"],
            LastText(json::parse(counted.body)["input"]["converse"]).size());
  // A caller without the permission gets the tokens Bedrock saw.
  HttpResult bob = Call(Api::kAnthropicMessages, true, false, "bob");
  ASSERT_EQ(bob.status, 200u) << bob.body;
  EXPECT_THAT(StreamedText(bob.body), HasSubstr("[NAME_"));
  for (const char* phi : kAllPhi) EXPECT_THAT(bob.body, Not(HasSubstr(phi)));
  ExpectUpstreamSawNoPhi();
  EXPECT_EQ(audit_->records().size(), 2 * upstream_->count());  // egress and ingress each
}

// Tools through Bedrock: definitions become Converse tool specs, the history's
// calls and results toolUse and toolResult blocks (de-identified), and the
// model's call comes back as the client's tool call with its arguments
// re-identified, whole or streamed.
TEST_F(BedrockTest, ToolCallsWholeAndStreamed) {
  UseBedrock();
  responder_ = [](const ReceivedRequest& r) { return BedrockAnswer(r); };
  StartGateway();
  const json expected_input = {{"note", "Summary: " + Note()}};
  for (Api api : {Api::kOpenAIChat, Api::kAnthropicMessages}) {
    for (bool stream : {false, true}) {
      SCOPED_TRACE(std::string(ApiName(api)) + (stream ? " streamed" : " whole"));
      HttpResult r = Call(api, stream, /*tools=*/true);
      ASSERT_EQ(r.status, 200u) << r.body;
      const json sent = json::parse(upstream_->received().back().body);
      EXPECT_EQ(sent["toolConfig"]["tools"][0]["toolSpec"]["name"], "lookup");
      ASSERT_EQ(sent["messages"].size(), 3u);
      const json& use = sent["messages"][1]["content"].back()["toolUse"];
      EXPECT_EQ(use["name"], "lookup");
      EXPECT_THAT(use["input"]["patient"].get<std::string>(), HasSubstr("[NAME_"));
      const json& result = sent["messages"][2]["content"][0]["toolResult"];
      EXPECT_EQ(result["toolUseId"], api == Api::kOpenAIChat ? "call_1" : "tu_1");
      EXPECT_THAT(result["content"][0]["text"].get<std::string>(), HasSubstr("[NAME_"));
      if (!stream) {
        const json answer = json::parse(r.body);
        if (api == Api::kOpenAIChat) {
          const json& call = answer["choices"][0]["message"]["tool_calls"][0];
          EXPECT_EQ(call["function"]["name"], "lookup");
          EXPECT_EQ(json::parse(call["function"]["arguments"].get<std::string>()), expected_input);
          EXPECT_EQ(answer["choices"][0]["finish_reason"], "tool_calls");
        } else {
          EXPECT_EQ(answer["content"][1]["type"], "tool_use");
          EXPECT_EQ(answer["content"][1]["input"], expected_input);
          EXPECT_EQ(answer["stop_reason"], "tool_use");
        }
      } else {
        const std::vector<std::string> inputs = StreamedToolInputs(r.body);
        ASSERT_EQ(inputs.size(), 1u) << r.body;
        EXPECT_EQ(json::parse(inputs[0]), expected_input);
        EXPECT_THAT(r.body, HasSubstr(api == Api::kOpenAIChat ? R"("finish_reason":"tool_calls")"
                                                              : R"("stop_reason":"tool_use")"));
      }
    }
  }
  ExpectUpstreamSawNoPhi();
  // What Converse cannot do the way the client asked is refused, not dropped.
  json none = {{"model", "claude-haiku"},
               {"tool_choice", "none"},
               {"tools", json::array({{{"type", "function"}, {"function", {{"name", "f"}}}}})},
               {"messages", json::array({{{"role", "user"}, {"content", "hi"}}})}};
  const size_t before = upstream_->count();
  HttpResult refused = HttpCall(gw_->port(), "POST", "/v1/chat/completions", none.dump(),
                                {{"authorization", "Bearer pg_test_alice"}});
  EXPECT_EQ(refused.status, 400u);
  EXPECT_THAT(refused.body, HasSubstr("not supported on Bedrock routes"));
  EXPECT_EQ(upstream_->count(), before);
}

// A ConverseStream that fails ends the client's stream cleanly with an error
// event in its API's format (no end-of-stream marker): an exception message,
// an answer cut before messageStop, a frame whose CRC is wrong. When the
// answer's audit event fails to commit, the end of the stream is withheld.
TEST_F(BedrockTest, StreamFailuresEndCleanly) {
  UseBedrock();
  BedrockFault fault = BedrockFault::kNone;
  responder_ = [&fault](const ReceivedRequest& r) { return BedrockAnswer(r, fault); };
  StartGateway();
  const std::pair<BedrockFault, const char*> cases[] = {
      {BedrockFault::kException, "reported an error"},
      {BedrockFault::kTruncated, "truncated"},
      {BedrockFault::kBadCrc, "malformed stream"}};
  for (const auto& [f, message] : cases) {
    fault = f;
    for (Api api : {Api::kOpenAIChat, Api::kAnthropicMessages}) {
      SCOPED_TRACE(std::string(ApiName(api)) + " " + message);
      HttpResult r = Call(api, true);
      ASSERT_EQ(r.status, 200u) << r.body;
      bool err = false, end = false;
      StreamedText(r.body, &err, &end);
      EXPECT_TRUE(err) << r.body;
      EXPECT_FALSE(end) << r.body;
      EXPECT_THAT(r.body, HasSubstr(message));
      EXPECT_THAT(r.body, Not(HasSubstr("Too many requests")));  // the vendor's text stays out
    }
  }
  fault = BedrockFault::kNone;
  audit_->fail_ingress = true;
  HttpResult held = Call(Api::kAnthropicMessages, true);
  EXPECT_THAT(held.body, Not(HasSubstr("message_stop")));
  EXPECT_THAT(held.body, HasSubstr("audit trail is not available"));
  audit_->fail_ingress = false;
  ExpectUpstreamSawNoPhi();
}

// Statuses that carry no answer (204, 304) or are no answer (201, 302) are
// the upstream failing: 502, not a relay (a 204 or 304 with an error body
// could not even be written, and the client waited for the idle timeout).
TEST_F(GatewayTest, UpstreamStatusWithoutAnAnswerIs502) {
  unsigned status = 204;
  responder_ = [&status](const ReceivedRequest&) {
    Script sc;
    sc.status = status;
    return sc;
  };
  StartGateway();
  for (unsigned st : {204u, 304u, 201u, 302u}) {
    status = st;
    HttpResult r = Chat("pg_test_alice", false);
    EXPECT_EQ(r.status, 502u) << st;
    EXPECT_THAT(r.body, HasSubstr(absl::StrCat("HTTP status ", st))) << st;
  }
  status = 404;
  EXPECT_EQ(Chat("pg_test_alice", false).status, 404u);
}

TEST_F(GatewayTest, PolicyMissingRefuses) {
  policy_->is_loaded = false;
  StartGateway();
  HttpResult r = Chat("pg_test_alice", false);
  EXPECT_EQ(r.status, 503u);
  EXPECT_EQ(upstream_->count(), 0u);
  HttpResult ready = HttpCall(gw_->port(), "GET", "/readyz", "");
  EXPECT_EQ(ready.status, 503u);
  EXPECT_EQ(json::parse(ready.body)["checks"]["policy"], false);
}

TEST_F(GatewayTest, PolicyDenyIs403) {
  policy_->base().allowed = false;
  policy_->base().reasons = {"NO_BAA: vendor openai has no BAA"};
  StartGateway();
  HttpResult r = Chat("pg_test_alice", false);
  EXPECT_EQ(r.status, 403u);
  EXPECT_THAT(r.body, HasSubstr("NO_BAA"));
  EXPECT_EQ(upstream_->count(), 0u);
  auto recs = audit_->records();
  ASSERT_EQ(recs.size(), 1u);
  EXPECT_EQ(recs[0].phase, AuditPhase::kRefused);
  EXPECT_EQ(recs[0].outcome, AuditOutcome::kBlocked);
}

// The feature header is the client's text until the configuration knows it:
// a refused request with a name in it must not put the name into the
// (append-only) audit trail.
TEST_F(GatewayTest, AnUnknownFeatureHeaderIsNotRecorded) {
  policy_->base().allowed = false;
  policy_->base().reasons = {"UNKNOWN_FEATURE"};
  StartGateway();
  json body = {{"model", "gpt-4o"},
               {"messages", json::array({{{"role", "user"}, {"content", "hi"}}})}};
  const std::string header = std::string(kName) + " " + kMrn;
  HttpResult r =
      HttpCall(gw_->port(), "POST", "/v1/chat/completions", body.dump(),
               {{"authorization", "Bearer pg_test_alice"}, {"x-phigate-feature", header}});
  EXPECT_EQ(r.status, 403u);
  auto recs = audit_->records();
  ASSERT_EQ(recs.size(), 1u);
  EXPECT_EQ(recs[0].feature, "unknown");
  for (const AuditRecord& a : recs) {
    EXPECT_THAT(a.feature, Not(HasSubstr(kMrn)));
    EXPECT_THAT(a.feature, Not(HasSubstr("Quallsworth")));
  }
  // A feature the policy allows is recorded by its name.
  policy_->base().allowed = true;
  HttpResult ok =
      HttpCall(gw_->port(), "POST", "/v1/chat/completions", body.dump(),
               {{"authorization", "Bearer pg_test_alice"}, {"x-phigate-feature", "scribe"}});
  EXPECT_EQ(ok.status, 200u);
  EXPECT_EQ(audit_->records().back().feature, "scribe");
}

TEST_F(GatewayTest, StreamLimitRefusalIsAudited) {
  config_.server.max_concurrent_streams = 0;
  StartGateway();
  HttpResult s = Chat("pg_test_alice", true);
  EXPECT_EQ(s.status, 429u);
  EXPECT_EQ(upstream_->count(), 0u);
  auto recs = audit_->records();
  ASSERT_EQ(recs.size(), 1u);
  EXPECT_EQ(recs[0].phase, AuditPhase::kRefused);
  EXPECT_EQ(recs[0].http_status, 429);
}

TEST_F(GatewayTest, DetectorFailureRefuses) {
  detector_->fail = true;
  StartGateway();
  HttpResult r = Chat("pg_test_alice", false);
  EXPECT_EQ(r.status, 500u);
  EXPECT_EQ(upstream_->count(), 0u);
}

TEST_F(GatewayTest, UnknownKeyIs401InEachApiFormat) {
  StartGateway();
  HttpResult r = Chat("pg_wrong", false);
  EXPECT_EQ(r.status, 401u);
  EXPECT_EQ(json::parse(r.body)["error"]["type"], "authentication_error");
  HttpResult a = Messages("pg_wrong", false);
  EXPECT_EQ(a.status, 401u);
  EXPECT_EQ(json::parse(a.body)["error"]["type"], "authentication_error");
  EXPECT_EQ(json::parse(a.body)["type"], "error");
  EXPECT_EQ(upstream_->count(), 0u);
}

// --- isolation --------------------------------------------------------------

TEST_F(GatewayTest, TwoTenantsNeverShareATokenOrCacheEntry) {
  policy_->base().token_scope = "tenant";
  config_.cache.enabled = true;
  StartGateway();
  HttpResult a1 = Chat("pg_test_alice", false);
  HttpResult a2 = Chat("pg_test_alice", false);
  HttpResult c1 = Chat("pg_test_carol", false);
  ASSERT_EQ(a1.status, 200u);
  ASSERT_EQ(a2.status, 200u);
  ASSERT_EQ(c1.status, 200u);
  EXPECT_EQ(a1.headers["x-phigate-cache"], "miss");
  EXPECT_EQ(a2.headers["x-phigate-cache"], "hit");   // same tenant, same policy, same request
  EXPECT_EQ(c1.headers["x-phigate-cache"], "miss");  // identical prompt, other tenant
  EXPECT_EQ(upstream_->count(), 2u);
  EXPECT_EQ(json::parse(c1.body)["choices"][0]["message"]["content"], "Summary: " + Note());
  const auto got = upstream_->received();
  json acme = json::parse(got[0].body), globex = json::parse(got[1].body);
  EXPECT_NE(acme["messages"], globex["messages"]);  // different tokens
  EXPECT_NE(acme["user"], globex["user"]);          // different provider cache keys
  auto acme_tokens = vaults_->vault("acme")->AllTokens();
  for (const std::string& t : vaults_->vault("globex")->AllTokens()) {
    EXPECT_THAT(acme_tokens, Not(::testing::Contains(t)));
  }
}

TEST_F(GatewayTest, ConversationScopeKeepsTokensAcrossTurns) {
  policy_->base().token_scope = "conversation";
  StartGateway();
  json body = {{"model", "gpt-4o"},
               {"messages", json::array({{{"role", "user"}, {"content", Note()}}})}};
  for (int i = 0; i < 2; ++i) {
    HttpResult r =
        HttpCall(gw_->port(), "POST", "/v1/chat/completions", body.dump(),
                 {{"authorization", "Bearer pg_test_alice"}, {"x-phigate-conversation", "c-1"}});
    ASSERT_EQ(r.status, 200u);
  }
  const auto got = upstream_->received();
  EXPECT_EQ(json::parse(got[0].body)["messages"], json::parse(got[1].body)["messages"]);
}

// --- limits and probes -----------------------------------------------------

TEST_F(GatewayTest, OversizedBodyIs413Json) {
  StartGateway();
  std::string big(100 * 1024, 'x');
  HttpResult r = Chat("pg_test_alice", false, big);
  EXPECT_EQ(r.status, 413u);
  EXPECT_EQ(json::parse(r.body)["error"]["type"], "invalid_request_error");
  EXPECT_EQ(upstream_->count(), 0u);
}

TEST_F(GatewayTest, HealthReadyAndMetrics) {
  StartGateway();
  EXPECT_EQ(HttpCall(gw_->port(), "GET", "/healthz", "").status, 200u);
  EXPECT_EQ(HttpCall(gw_->port(), "GET", "/readyz", "").status, 200u);
  ASSERT_EQ(Chat("pg_test_alice", false).status, 200u);
  HttpResult m = HttpCall(gw_->port(), "GET", "/metrics", "");
  EXPECT_EQ(m.status, 200u);
  EXPECT_THAT(m.body, HasSubstr("phigate_requests_total{route=\"openai.chat\",status=\"200\"} 1"));
  EXPECT_THAT(m.body, HasSubstr("phigate_transform_actions_total{action=\"tokenize\"} 4"));
  for (const char* phi : kAllPhi) EXPECT_THAT(m.body, Not(HasSubstr(phi)));
  audit_->fail = true;
  EXPECT_EQ(HttpCall(gw_->port(), "GET", "/readyz", "").status, 503u);
}

TEST_F(GatewayTest, EmbeddingsAreDeidentified) {
  responder_ = [](const ReceivedRequest&) {
    Script sc;
    sc.chunks = {
        R"({"object":"list","data":[{"object":"embedding","index":0,"embedding":[0.1,0.2]}],"model":"m","usage":{"prompt_tokens":1,"total_tokens":1}})"};
    return sc;
  };
  StartGateway();
  json body = {{"model", "gpt-4o"}, {"input", json::array({Note(), "plain text"})}};
  HttpResult r = HttpCall(gw_->port(), "POST", "/v1/embeddings", body.dump(),
                          {{"authorization", "Bearer pg_test_alice"}});
  ASSERT_EQ(r.status, 200u) << r.body;
  EXPECT_EQ(upstream_->received()[0].target, "/v1/embeddings");
  ExpectUpstreamSawNoPhi();
  json tokens = {{"model", "gpt-4o"}, {"input", json::array({json::array({1, 2, 3})})}};
  EXPECT_EQ(HttpCall(gw_->port(), "POST", "/v1/embeddings", tokens.dump(),
                     {{"authorization", "Bearer pg_test_alice"}})
                .status,
            400u);
}

// Clients of the Azure OpenAI SDKs (AzureOpenAI) change only their endpoint:
// a deployment's path names the model (the body's is replaced, as Azure
// ignores it), the key comes in the api-key header, the api-version query is
// accepted; the v1 surface /openai/v1/... serves as /v1/... does.
TEST_F(GatewayTest, AzureOpenAIClientPathsAndApiKeyHeader) {
  responder_ = [](const ReceivedRequest& r) {
    if (r.target != "/v1/embeddings") return Echo(r);
    Script sc;
    sc.chunks = {
        R"({"object":"list","data":[{"object":"embedding","index":0,"embedding":[0.5]}]})"};
    return sc;
  };
  StartGateway();
  auto chat = [&](const std::string& path, bool stream, const std::string& key,
                  const char* header = "api-key") {
    json body = {{"model", "not-a-deployment"},
                 {"stream", stream},
                 {"messages", json::array({{{"role", "user"}, {"content", Note()}}})}};
    return HttpCall(gw_->port(), "POST", path, body.dump(),
                    {{header, std::string(header) == "api-key" ? key : "Bearer " + key}});
  };
  const std::string deployment =
      "/openai/deployments/gpt-4o/chat/completions?api-version=2024-10-21";
  HttpResult r = chat(deployment, false, "pg_test_alice");
  ASSERT_EQ(r.status, 200u) << r.body;
  EXPECT_EQ(json::parse(r.body)["choices"][0]["message"]["content"], "Summary: " + Note());
  ASSERT_EQ(upstream_->count(), 1u);
  EXPECT_EQ(upstream_->received()[0].target, "/v1/chat/completions");
  EXPECT_EQ(json::parse(upstream_->received()[0].body)["model"], "gpt-4o");

  HttpResult s = chat(deployment, true, "pg_test_alice");
  ASSERT_EQ(s.status, 200u) << s.body;
  bool err = false, end = false;
  EXPECT_EQ(StreamedText(s.body, &err, &end), "Summary: " + Note());
  EXPECT_FALSE(err);
  EXPECT_TRUE(end);

  HttpResult b = chat(deployment, false, "pg_test_bob");  // no permission to see PHI: tokens
  ASSERT_EQ(b.status, 200u) << b.body;
  EXPECT_THAT(b.body, HasSubstr("[NAME_"));
  for (const char* phi : kAllPhi) EXPECT_THAT(b.body, Not(HasSubstr(phi)));

  // A percent-encoded deployment name; the v1 surface with a bearer key.
  EXPECT_EQ(chat("/openai/deployments/gpt%2D4o/chat/completions", false, "pg_test_alice").status,
            200u);
  HttpResult v1 = chat("/openai/v1/chat/completions", false, "pg_test_alice", "authorization");
  EXPECT_EQ(v1.status, 404u) << v1.body;  // its body names a model no upstream serves
  json v1_body = {{"model", "gpt-4o"},
                  {"messages", json::array({{{"role", "user"}, {"content", Note()}}})}};
  EXPECT_EQ(HttpCall(gw_->port(), "POST", "/openai/v1/chat/completions", v1_body.dump(),
                     {{"authorization", "Bearer pg_test_alice"}})
                .status,
            200u);
  json emb = {{"input", json::array({Note()})}};
  HttpResult e =
      HttpCall(gw_->port(), "POST", "/openai/deployments/gpt-4o/embeddings?api-version=x",
               emb.dump(), {{"api-key", "pg_test_alice"}});
  EXPECT_EQ(e.status, 200u) << e.body;
  EXPECT_EQ(upstream_->received().back().target, "/v1/embeddings");
  // The client's calls outside a deployment: /openai/responses, /openai/models.
  json resp_body = {{"model", "gpt-4o"}, {"input", Note()}};
  HttpResult resp = HttpCall(gw_->port(), "POST", "/openai/responses?api-version=x",
                             resp_body.dump(), {{"api-key", "pg_test_alice"}});
  ASSERT_EQ(resp.status, 200u) << resp.body;
  EXPECT_EQ(json::parse(resp.body)["output"][0]["content"][0]["text"], "Summary: " + Note());
  EXPECT_EQ(upstream_->received().back().target, "/v1/responses");
  HttpResult models = HttpCall(gw_->port(), "GET", "/openai/models?api-version=x", "",
                               {{"api-key", "pg_test_alice"}});
  ASSERT_EQ(models.status, 200u) << models.body;
  EXPECT_EQ(json::parse(models.body)["data"][0]["id"], "gpt-4o");
  ExpectUpstreamSawNoPhi();

  // Refused before anything is sent: a deployment no upstream serves, an
  // Azure operation the gateway does not serve, a wrong api-key.
  const size_t sent = upstream_->count();
  EXPECT_EQ(chat("/openai/deployments/nope/chat/completions", false, "pg_test_alice").status, 404u);
  EXPECT_EQ(chat("/openai/deployments/gpt-4o/completions", false, "pg_test_alice").status, 404u);
  EXPECT_EQ(chat("/openai/deployments//chat/completions", false, "pg_test_alice").status, 404u);
  EXPECT_EQ(chat(deployment, false, "pg_wrong").status, 401u);
  EXPECT_EQ(upstream_->count(), sent);
}

TEST_F(GatewayTest, ManyConcurrentStreams) {
  config_.server.io_threads = 2;
  StartGateway();
  std::vector<std::thread> threads;
  std::atomic<int> good{0};
  for (int i = 0; i < 24; ++i) {
    threads.emplace_back([&] {
      HttpResult r = Chat("pg_test_alice", true);
      if (r.status == 200 && StreamedText(r.body) == "Summary: " + Note()) ++good;
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(good.load(), 24);
}

}  // namespace
}  // namespace phigate::gateway
