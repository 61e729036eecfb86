#include "src/gateway/vendors.h"

#include <ctime>

#include "absl/strings/str_cat.h"
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
      return api == Api::kOpenAIChat;
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

// The member `key` of `o`, or nullptr when `o` is null, no object or has no
// such member. What a vendor or a client sent is read through these, never
// with nlohmann's value() or get<>() on a value of unchecked type (which throw).
const json* Member(const json* o, std::string_view key) {
  if (o == nullptr || !o->is_object()) return nullptr;
  auto it = o->find(key);
  return it == o->end() ? nullptr : &*it;
}
const json* Member(const json& o, std::string_view key) { return Member(&o, key); }

std::string StringOr(const json* v, std::string_view fallback) {
  return v != nullptr && v->is_string() ? v->get<std::string>() : std::string(fallback);
}

// A token count: the integer given, else 0.
json CountOr(const json* v) { return v != nullptr && v->is_number_integer() ? *v : json(0); }

// Text of an OpenAI message content (string or text parts).
std::string ContentText(const json& c) {
  if (c.is_string()) return c.get<std::string>();
  std::string out;
  if (c.is_array()) {
    for (const json& p : c) {
      if (p.is_object() && p.contains("text") && p["text"].is_string()) {
        if (!out.empty()) out.push_back('\n');
        out += p["text"].get<std::string>();
      }
    }
  }
  return out;
}

Result<json> OpenAIToConverse(const json& body) {
  json out = json::object();
  json system = json::array();
  json messages = json::array();
  const json* list = Member(body, "messages");
  if (list == nullptr || !list->is_array()) {
    return absl::InvalidArgumentError("the request has no messages array");
  }
  for (const json& m : *list) {
    const json* r = Member(m, "role");
    if (r == nullptr || !r->is_string()) {
      return absl::InvalidArgumentError("a message has no role");
    }
    const std::string& role = r->get_ref<const std::string&>();
    const json* content = Member(m, "content");
    if (role == "system" || role == "developer") {
      system.push_back({{"text", content != nullptr ? ContentText(*content) : ""}});
    } else if (role == "user" || role == "assistant") {
      const std::string text = content != nullptr ? ContentText(*content) : "";
      if (m.contains("tool_calls")) {
        return absl::FailedPreconditionError("tool calls are not supported on Bedrock routes");
      }
      if (!messages.empty() && messages.back()["role"] == role) {
        messages.back()["content"].push_back({{"text", text}});
      } else {
        messages.push_back({{"role", role}, {"content", json::array({{{"text", text}}})}});
      }
    } else {
      return absl::FailedPreconditionError("tool messages are not supported on Bedrock routes");
    }
  }
  if (body.contains("tools")) {
    return absl::FailedPreconditionError("tools are not supported on Bedrock routes");
  }
  out["messages"] = std::move(messages);
  if (!system.empty()) out["system"] = std::move(system);
  json inf = json::object();
  if (body.contains("max_completion_tokens"))
    inf["maxTokens"] = body["max_completion_tokens"];
  else if (body.contains("max_tokens"))
    inf["maxTokens"] = body["max_tokens"];
  if (body.contains("temperature")) inf["temperature"] = body["temperature"];
  if (body.contains("top_p")) inf["topP"] = body["top_p"];
  if (body.contains("stop")) {
    inf["stopSequences"] = body["stop"].is_string() ? json::array({body["stop"]}) : body["stop"];
  }
  if (!inf.empty()) out["inferenceConfig"] = std::move(inf);
  return out;
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
      PHIGATE_ASSIGN_OR_RETURN(json converse, OpenAIToConverse(body));
      r.target = absl::StrCat(ep.base_path, "/model/", UriEncode(model_id, false), "/converse");
      r.body = DumpJson(converse);
      call.bedrock = true;
      call.emulate_stream = stream;
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
      break;
    }
  }
  if (stream && !call.emulate_stream) r.headers.emplace_back("accept", "text/event-stream");
  return call;
}

Result<json> ConverseToOpenAI(const json& c, std::string_view model) {
  const json* output = Member(c, "output");
  if (output == nullptr || !output->is_object()) {
    return absl::DataLossError("malformed Bedrock Converse answer");
  }
  std::string text;
  if (const json* content = Member(Member(*output, "message"), "content");
      content != nullptr && content->is_array()) {
    for (const json& b : *content) {
      if (const json* t = Member(b, "text"); t != nullptr && t->is_string()) {
        text += t->get_ref<const std::string&>();
      }
    }
  }
  const std::string stop = StringOr(Member(c, "stopReason"), "end_turn");
  std::string finish = "stop";
  if (stop == "max_tokens") finish = "length";
  if (stop == "content_filtered" || stop == "guardrail_intervened") finish = "content_filter";
  const json* usage = Member(c, "usage");
  return json{{"id", "chatcmpl-bedrock"},
              {"object", "chat.completion"},
              {"created", static_cast<int64_t>(std::time(nullptr))},
              {"model", model},
              {"choices", json::array({{{"index", 0},
                                        {"message", {{"role", "assistant"}, {"content", text}}},
                                        {"finish_reason", finish}}})},
              {"usage",
               {{"prompt_tokens", CountOr(Member(usage, "inputTokens"))},
                {"completion_tokens", CountOr(Member(usage, "outputTokens"))},
                {"total_tokens", CountOr(Member(usage, "totalTokens"))}}}};
}

Result<std::string> CompletionToSse(const json& completion) {
  const json* choices = Member(completion, "choices");
  if (choices == nullptr || !choices->is_array()) {
    return absl::DataLossError("malformed upstream answer");
  }
  const json* created = Member(completion, "created");
  json base = {{"id", StringOr(Member(completion, "id"), "chatcmpl")},
               {"object", "chat.completion.chunk"},
               {"created", created != nullptr && created->is_number_integer() ? *created : json(0)},
               {"model", StringOr(Member(completion, "model"), "")}};
  std::string out;
  for (const json& ch : *choices) {
    if (!ch.is_object()) return absl::DataLossError("malformed upstream answer");
    const json* index = Member(ch, "index");
    const json idx = index != nullptr && index->is_number_integer() ? *index : json(0);
    const json* content = Member(Member(ch, "message"), "content");
    const json* finish = Member(ch, "finish_reason");
    json first = base;
    first["choices"] = json::array(
        {{{"index", idx},
          {"delta", {{"role", "assistant"}, {"content", content != nullptr ? *content : json("")}}},
          {"finish_reason", nullptr}}});
    AppendSse("", DumpJson(first), &out);
    json last = base;
    last["choices"] =
        json::array({{{"index", idx},
                      {"delta", json::object()},
                      {"finish_reason", finish != nullptr ? *finish : json("stop")}}});
    AppendSse("", DumpJson(last), &out);
  }
  out += "data: [DONE]\n\n";
  return out;
}

}  // namespace phigate::gateway
