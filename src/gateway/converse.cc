#include "src/gateway/converse.h"

#include <ctime>
#include <utility>

#include "absl/strings/str_cat.h"
#include "src/gateway/json_io.h"

namespace phigate::gateway {

using nlohmann::json;

namespace {

// Converse allows this many content blocks in an answer we translate; an
// index beyond it is a malformed event (it would only grow our maps).
constexpr int64_t kMaxBlocks = 4096;

Status Unsupported(std::string_view what) {
  return absl::FailedPreconditionError(
      absl::StrCat(ToAbsl(what), " is not supported on Bedrock routes"));
}

// Text of an OpenAI message content (a string or text parts; the request
// walker has already refused every other kind of part).
std::string ContentText(const json* c) {
  if (c == nullptr) return "";
  if (c->is_string()) return c->get<std::string>();
  std::string out;
  if (c->is_array()) {
    for (const json& p : *c) {
      if (const json* t = Member(p, "text"); t != nullptr && t->is_string()) {
        if (!out.empty()) out.push_back('\n');
        out += t->get_ref<const std::string&>();
      }
    }
  }
  return out;
}

// Appends `blocks` as a message of `role`, merged into the previous message
// when that has the same role (Converse wants the roles to alternate; a run
// of OpenAI tool messages becomes one user message of tool results).
void AddMessage(const std::string& role, json blocks, json* messages) {
  if (blocks.empty()) blocks.push_back({{"text", ""}});
  if (!messages->empty() && messages->back()["role"] == role) {
    for (json& b : blocks) messages->back()["content"].push_back(std::move(b));
  } else {
    messages->push_back({{"role", role}, {"content", std::move(blocks)}});
  }
}

json ToolSpec(const json* name, const json* description, const json* schema) {
  json spec = {{"name", *name}};
  if (description != nullptr && description->is_string()) spec["description"] = *description;
  spec["inputSchema"] = {{"json", schema != nullptr && schema->is_object()
                                      ? *schema
                                      : json{{"type", "object"}, {"properties", json::object()}}}};
  return {{"toolSpec", std::move(spec)}};
}

void CopyInference(const json& body, std::string_view max_key, std::string_view stop_key,
                   json* out) {
  json inf = json::object();
  if (const json* v = Member(body, max_key)) inf["maxTokens"] = *v;
  if (const json* v = Member(body, "temperature")) inf["temperature"] = *v;
  if (const json* v = Member(body, "top_p")) inf["topP"] = *v;
  if (const json* v = Member(body, stop_key)) {
    inf["stopSequences"] = v->is_string() ? json::array({*v}) : *v;
  }
  if (!inf.empty()) (*out)["inferenceConfig"] = std::move(inf);
}

Result<json> OpenAIChatToConverse(const json& body) {
  const json* list = Member(body, "messages");
  if (list == nullptr || !list->is_array()) {
    return absl::InvalidArgumentError("the request has no messages array");
  }
  if (const json* n = Member(body, "n"); n != nullptr && !(n->is_number_integer() && *n == 1)) {
    return Unsupported("n other than 1");
  }
  if (const json* rf = Member(body, "response_format");
      rf != nullptr && !rf->is_null() && StringOr(Member(rf, "type"), "") != "text") {
    return Unsupported("a JSON response_format");
  }
  json system = json::array();
  json messages = json::array();
  for (const json& m : *list) {
    const json* r = Member(m, "role");
    if (r == nullptr || !r->is_string()) {
      return absl::InvalidArgumentError("a message has no role");
    }
    const std::string& role = r->get_ref<const std::string&>();
    const std::string text = ContentText(Member(m, "content"));
    json blocks = json::array();
    if (role == "system" || role == "developer") {
      system.push_back({{"text", text}});
      continue;
    }
    if (role == "user") {
      blocks.push_back({{"text", text}});
    } else if (role == "assistant") {
      if (!text.empty()) blocks.push_back({{"text", text}});
      if (Member(m, "function_call") != nullptr) return Unsupported("function_call (legacy)");
      if (const json* calls = Member(m, "tool_calls"); calls != nullptr && !calls->is_null()) {
        if (!calls->is_array()) return absl::InvalidArgumentError("tool_calls must be an array");
        for (const json& c : *calls) {
          const json* id = Member(c, "id");
          const json* fn = Member(c, "function");
          const json* name = Member(fn, "name");
          if (id == nullptr || !id->is_string() || name == nullptr || !name->is_string()) {
            return absl::InvalidArgumentError("a tool call needs an id and a function name");
          }
          json input = json::object();
          if (const json* args = Member(fn, "arguments"); args != nullptr && args->is_string()) {
            const std::string& a = args->get_ref<const std::string&>();
            if (!a.empty()) input = ParseJson(a);
          }
          if (!input.is_object()) {
            return absl::InvalidArgumentError("tool-call arguments must be a JSON object");
          }
          blocks.push_back(
              {{"toolUse", {{"toolUseId", *id}, {"name", *name}, {"input", std::move(input)}}}});
        }
      }
    } else if (role == "tool") {
      const json* id = Member(m, "tool_call_id");
      if (id == nullptr || !id->is_string()) {
        return absl::InvalidArgumentError("a tool message has no tool_call_id");
      }
      blocks.push_back(
          {{"toolResult", {{"toolUseId", *id}, {"content", json::array({{{"text", text}}})}}}});
      AddMessage("user", std::move(blocks), &messages);
      continue;
    } else {
      return Unsupported("a message role other than system, developer, user, assistant or tool");
    }
    AddMessage(role, std::move(blocks), &messages);
  }
  json out = {{"messages", std::move(messages)}};
  if (!system.empty()) out["system"] = std::move(system);
  CopyInference(
      body,
      Member(body, "max_completion_tokens") != nullptr ? "max_completion_tokens" : "max_tokens",
      "stop", &out);
  const json* tools = Member(body, "tools");
  const json* choice = Member(body, "tool_choice");
  if (choice != nullptr && choice->is_string() && *choice == "none") {
    return Unsupported("tool_choice \"none\"");
  }
  if (tools != nullptr && !tools->is_null()) {
    if (!tools->is_array()) return absl::InvalidArgumentError("tools must be an array");
    json specs = json::array();
    for (const json& t : *tools) {
      if (StringOr(Member(t, "type"), "") != "function") return Unsupported("a non-function tool");
      const json* fn = Member(t, "function");
      const json* name = Member(fn, "name");
      if (name == nullptr || !name->is_string()) {
        return absl::InvalidArgumentError("a tool has no function name");
      }
      specs.push_back(ToolSpec(name, Member(fn, "description"), Member(fn, "parameters")));
    }
    json config = {{"tools", std::move(specs)}};
    if (choice != nullptr && !choice->is_null()) {
      if (*choice == "auto") {
        config["toolChoice"] = {{"auto", json::object()}};
      } else if (*choice == "required") {
        config["toolChoice"] = {{"any", json::object()}};
      } else if (const json* name = Member(Member(choice, "function"), "name");
                 name != nullptr && name->is_string()) {
        config["toolChoice"] = {{"tool", {{"name", *name}}}};
      } else {
        return absl::InvalidArgumentError("tool_choice is malformed");
      }
    }
    out["toolConfig"] = std::move(config);
  } else if (choice != nullptr && !choice->is_null()) {
    return absl::InvalidArgumentError("tool_choice without tools");
  }
  return out;
}

// Anthropic text blocks (or a string) as Converse text blocks.
Result<json> TextBlocks(const json& content) {
  json out = json::array();
  if (content.is_string()) {
    out.push_back({{"text", content}});
    return out;
  }
  if (!content.is_array()) return absl::InvalidArgumentError("content must be a string or blocks");
  for (const json& b : content) {
    const json* t = Member(b, "text");
    if (StringOr(Member(b, "type"), "") != "text" || t == nullptr || !t->is_string()) {
      return Unsupported("a non-text block here");
    }
    out.push_back({{"text", *t}});
  }
  return out;
}

Result<json> AnthropicBlock(const json& b) {
  const std::string type = StringOr(Member(b, "type"), "");
  if (type == "text") {
    const json* t = Member(b, "text");
    if (t == nullptr || !t->is_string())
      return absl::InvalidArgumentError("a text block has no text");
    return json{{"text", *t}};
  }
  if (type == "tool_use") {
    const json* id = Member(b, "id");
    const json* name = Member(b, "name");
    const json* input = Member(b, "input");
    if (id == nullptr || !id->is_string() || name == nullptr || !name->is_string() ||
        input == nullptr || !input->is_object()) {
      return absl::InvalidArgumentError("a tool_use block needs an id, a name and an input object");
    }
    return json{{"toolUse", {{"toolUseId", *id}, {"name", *name}, {"input", *input}}}};
  }
  if (type == "tool_result") {
    const json* id = Member(b, "tool_use_id");
    if (id == nullptr || !id->is_string()) {
      return absl::InvalidArgumentError("a tool_result block has no tool_use_id");
    }
    json content = json::array();
    if (const json* c = Member(b, "content"); c != nullptr && !c->is_null()) {
      PHIGATE_ASSIGN_OR_RETURN(content, TextBlocks(*c));
    }
    const json* err = Member(b, "is_error");
    return json{{"toolResult",
                 {{"toolUseId", *id},
                  {"content", std::move(content)},
                  {"status", err != nullptr && *err == true ? "error" : "success"}}}};
  }
  if (type == "thinking") {
    json text = {{"text", StringOr(Member(b, "thinking"), "")}};
    if (const json* sig = Member(b, "signature"); sig != nullptr && sig->is_string()) {
      text["signature"] = *sig;
    }
    return json{{"reasoningContent", {{"reasoningText", std::move(text)}}}};
  }
  if (type == "redacted_thinking") {
    return json{{"reasoningContent", {{"redactedContent", StringOr(Member(b, "data"), "")}}}};
  }
  return Unsupported("a content block other than text, tool_use, tool_result or thinking");
}

Result<json> AnthropicToConverse(const json& body) {
  json out = json::object();
  if (const json* sys = Member(body, "system"); sys != nullptr && !sys->is_null()) {
    PHIGATE_ASSIGN_OR_RETURN(json system, TextBlocks(*sys));
    out["system"] = std::move(system);
  }
  const json* list = Member(body, "messages");
  if (list == nullptr || !list->is_array()) {
    return absl::InvalidArgumentError("the request has no messages array");
  }
  json messages = json::array();
  for (const json& m : *list) {
    const std::string role = StringOr(Member(m, "role"), "");
    if (role != "user" && role != "assistant") {
      return absl::InvalidArgumentError("a message's role must be user or assistant");
    }
    const json* content = Member(m, "content");
    if (content == nullptr) return absl::InvalidArgumentError("a message has no content");
    json blocks = json::array();
    if (content->is_string()) {
      blocks.push_back({{"text", *content}});
    } else if (content->is_array()) {
      for (const json& b : *content) {
        PHIGATE_ASSIGN_OR_RETURN(json block, AnthropicBlock(b));
        blocks.push_back(std::move(block));
      }
    } else {
      return absl::InvalidArgumentError("content must be a string or blocks");
    }
    AddMessage(role, std::move(blocks), &messages);
  }
  out["messages"] = std::move(messages);
  CopyInference(body, "max_tokens", "stop_sequences", &out);
  json extra = json::object();  // Anthropic's own parameters, as Bedrock takes them
  if (const json* v = Member(body, "top_k")) extra["top_k"] = *v;
  if (const json* v = Member(body, "thinking")) extra["thinking"] = *v;
  if (!extra.empty()) out["additionalModelRequestFields"] = std::move(extra);
  const json* choice = Member(body, "tool_choice");
  const std::string choice_type = StringOr(Member(choice, "type"), "");
  if (choice_type == "none") return Unsupported("tool_choice \"none\"");
  if (const json* tools = Member(body, "tools"); tools != nullptr && !tools->is_null()) {
    if (!tools->is_array()) return absl::InvalidArgumentError("tools must be an array");
    json specs = json::array();
    for (const json& t : *tools) {
      const std::string type = StringOr(Member(t, "type"), "custom");
      if (type != "custom") return Unsupported("a server tool");
      const json* name = Member(t, "name");
      if (name == nullptr || !name->is_string()) {
        return absl::InvalidArgumentError("a tool has no name");
      }
      specs.push_back(ToolSpec(name, Member(t, "description"), Member(t, "input_schema")));
    }
    json config = {{"tools", std::move(specs)}};
    if (choice_type == "auto") {
      config["toolChoice"] = {{"auto", json::object()}};
    } else if (choice_type == "any") {
      config["toolChoice"] = {{"any", json::object()}};
    } else if (choice_type == "tool") {
      const json* name = Member(choice, "name");
      if (name == nullptr || !name->is_string()) {
        return absl::InvalidArgumentError("tool_choice names no tool");
      }
      config["toolChoice"] = {{"tool", {{"name", *name}}}};
    } else if (choice != nullptr && !choice->is_null()) {
      return absl::InvalidArgumentError("tool_choice is malformed");
    }
    out["toolConfig"] = std::move(config);
  } else if (choice != nullptr && !choice->is_null()) {
    return absl::InvalidArgumentError("tool_choice without tools");
  }
  return out;
}

std::string OpenAIFinish(std::string_view stop) {
  if (stop == "tool_use") return "tool_calls";
  if (stop == "max_tokens") return "length";
  if (stop == "content_filtered" || stop == "guardrail_intervened") return "content_filter";
  return "stop";
}

std::string AnthropicStop(std::string_view stop) {
  if (stop == "tool_use" || stop == "max_tokens" || stop == "stop_sequence") {
    return std::string(stop);
  }
  if (stop == "content_filtered" || stop == "guardrail_intervened") return "refusal";
  return "end_turn";
}

}  // namespace

Result<json> ToConverse(Api api, const json& body) {
  if (api == Api::kOpenAIChat) return OpenAIChatToConverse(body);
  if (api == Api::kAnthropicMessages) return AnthropicToConverse(body);
  if (api == Api::kAnthropicCountTokens) {
    // CountTokens takes what Converse would be given, less the inference
    // parameters: messages, system, toolConfig, additionalModelRequestFields.
    PHIGATE_ASSIGN_OR_RETURN(json c, AnthropicToConverse(body));
    c.erase("inferenceConfig");
    return json{{"input", {{"converse", std::move(c)}}}};
  }
  return absl::FailedPreconditionError(
      absl::StrCat("the ", ToAbsl(ApiName(api)), " API is not served on Bedrock routes"));
}

Result<json> FromConverse(Api api, const json& c, std::string_view model) {
  if (api == Api::kAnthropicCountTokens) {
    const json* n = Member(c, "inputTokens");
    if (n == nullptr || !n->is_number_integer()) {
      return absl::DataLossError("malformed Bedrock CountTokens answer");
    }
    return json{{"input_tokens", *n}};
  }
  const json* output = Member(c, "output");
  const json* content = Member(Member(output, "message"), "content");
  if (content == nullptr || !content->is_array()) {
    return absl::DataLossError("malformed Bedrock Converse answer");
  }
  const std::string stop = StringOr(Member(c, "stopReason"), "end_turn");
  const json* usage = Member(c, "usage");
  if (api == Api::kAnthropicMessages) {
    json blocks = json::array();
    for (const json& b : *content) {
      if (const json* t = Member(b, "text"); t != nullptr && t->is_string()) {
        blocks.push_back({{"type", "text"}, {"text", *t}});
      } else if (const json* u = Member(b, "toolUse"); u != nullptr) {
        const json* input = Member(u, "input");
        blocks.push_back({{"type", "tool_use"},
                          {"id", StringOr(Member(u, "toolUseId"), "")},
                          {"name", StringOr(Member(u, "name"), "")},
                          {"input", input != nullptr ? *input : json::object()}});
      } else if (const json* r = Member(Member(b, "reasoningContent"), "reasoningText")) {
        blocks.push_back({{"type", "thinking"},
                          {"thinking", StringOr(Member(r, "text"), "")},
                          {"signature", StringOr(Member(r, "signature"), "")}});
      }
    }
    return json{{"id", "msg_bedrock"},
                {"type", "message"},
                {"role", "assistant"},
                {"model", model},
                {"content", std::move(blocks)},
                {"stop_reason", AnthropicStop(stop)},
                {"stop_sequence", nullptr},
                {"usage",
                 {{"input_tokens", CountOr(Member(usage, "inputTokens"))},
                  {"output_tokens", CountOr(Member(usage, "outputTokens"))}}}};
  }
  std::string text;
  json calls = json::array();
  for (const json& b : *content) {
    if (const json* t = Member(b, "text"); t != nullptr && t->is_string()) {
      text += t->get_ref<const std::string&>();
    } else if (const json* u = Member(b, "toolUse"); u != nullptr) {
      const json* input = Member(u, "input");
      calls.push_back({{"id", StringOr(Member(u, "toolUseId"), "")},
                       {"type", "function"},
                       {"function",
                        {{"name", StringOr(Member(u, "name"), "")},
                         {"arguments", DumpJson(input != nullptr ? *input : json::object())}}}});
    }
  }
  json message = {{"role", "assistant"},
                  {"content", text.empty() && !calls.empty() ? json(nullptr) : json(text)}};
  if (!calls.empty()) message["tool_calls"] = std::move(calls);
  return json{{"id", "chatcmpl-bedrock"},
              {"object", "chat.completion"},
              {"created", static_cast<int64_t>(std::time(nullptr))},
              {"model", model},
              {"choices", json::array({{{"index", 0},
                                        {"message", std::move(message)},
                                        {"finish_reason", OpenAIFinish(stop)}}})},
              {"usage",
               {{"prompt_tokens", CountOr(Member(usage, "inputTokens"))},
                {"completion_tokens", CountOr(Member(usage, "outputTokens"))},
                {"total_tokens", CountOr(Member(usage, "totalTokens"))}}}};
}

ConverseStream::ConverseStream(Api api, std::string model, bool include_usage)
    : api_(api),
      model_(std::move(model)),
      include_usage_(include_usage),
      created_(static_cast<int64_t>(std::time(nullptr))) {}

Status ConverseStream::Feed(std::string_view bytes, std::vector<SseEvent>* out) {
  messages_.clear();
  const Status decoded = decoder_.Feed(bytes, &messages_);
  for (const eventstream::Message& m : messages_) {
    PHIGATE_RETURN_IF_ERROR(OnMessage(m, out));
  }
  if (!decoded.ok()) return absl::DataLossError("malformed Bedrock event stream");
  return absl::OkStatus();
}

Status ConverseStream::Finish(std::vector<SseEvent>* out) {
  if (done_) return absl::OkStatus();
  if (!stopped_ || !decoder_.idle()) return absl::DataLossError("the Bedrock stream was cut");
  End(nullptr, out);
  return absl::OkStatus();
}

json ConverseStream::ChunkBase() const {
  return {{"id", "chatcmpl-bedrock"},
          {"object", "chat.completion.chunk"},
          {"created", created_},
          {"model", model_}};
}

void ConverseStream::Chunk(json delta, const json& finish, std::vector<SseEvent>* out) const {
  json c = ChunkBase();
  c["choices"] =
      json::array({{{"index", 0}, {"delta", std::move(delta)}, {"finish_reason", finish}}});
  out->push_back({"", DumpJson(c)});
}

void ConverseStream::Event(std::string_view type, json data, std::vector<SseEvent>* out) const {
  data["type"] = type;
  out->push_back({std::string(type), DumpJson(data)});
}

Status ConverseStream::OpenBlock(int64_t index, std::string_view type, std::vector<SseEvent>* out) {
  if (auto it = blocks_.find(index); it != blocks_.end()) {
    return it->second == Block::kOpen ? absl::OkStatus()
                                      : absl::DataLossError("malformed Bedrock event");
  }
  blocks_[index] = Block::kOpen;
  json block = {{"type", type}};
  block[type == "thinking" ? "thinking" : "text"] = "";
  if (type == "thinking") block["signature"] = "";
  Event("content_block_start", {{"index", index}, {"content_block", std::move(block)}}, out);
  return absl::OkStatus();
}

void ConverseStream::End(const json* usage, std::vector<SseEvent>* out) {
  done_ = true;
  if (api_ == Api::kAnthropicMessages) {
    Event("message_delta",
          {{"delta", {{"stop_reason", AnthropicStop(stop_reason_)}, {"stop_sequence", nullptr}}},
           {"usage", {{"output_tokens", CountOr(Member(usage, "outputTokens"))}}}},
          out);
    Event("message_stop", json::object(), out);
    return;
  }
  if (include_usage_ && usage != nullptr) {
    json c = ChunkBase();
    c["choices"] = json::array();
    c["usage"] = {{"prompt_tokens", CountOr(Member(usage, "inputTokens"))},
                  {"completion_tokens", CountOr(Member(usage, "outputTokens"))},
                  {"total_tokens", CountOr(Member(usage, "totalTokens"))}};
    out->push_back({"", DumpJson(c)});
  }
  out->push_back({"", "[DONE]"});
}

Status ConverseStream::OnMessage(const eventstream::Message& m, std::vector<SseEvent>* out) {
  const std::string_view kind = m.Header(":message-type");
  if (kind == "exception" || kind == "error") {
    return absl::UnavailableError("the Bedrock stream reported an error");
  }
  if (kind != "event") return absl::DataLossError("malformed Bedrock event");
  if (done_) return absl::OkStatus();  // nothing is sent after the end
  const std::string_view type = m.Header(":event-type");
  const json p = ParseJson(m.payload);
  if (!p.is_object()) return absl::DataLossError("malformed Bedrock event");
  const bool anthropic = api_ == Api::kAnthropicMessages;
  int64_t index = 0;
  if (const json* i = Member(p, "contentBlockIndex"); i != nullptr) {
    if (!i->is_number_integer() || *i < 0 || *i >= kMaxBlocks) {
      return absl::DataLossError("malformed Bedrock event");
    }
    index = i->get<int64_t>();
  }
  if (type == "messageStart") {
    if (started_) return absl::DataLossError("malformed Bedrock event");
    started_ = true;
    if (anthropic) {
      Event("message_start",
            {{"message",
              {{"id", "msg_bedrock"},
               {"type", "message"},
               {"role", "assistant"},
               {"model", model_},
               {"content", json::array()},
               {"stop_reason", nullptr},
               {"stop_sequence", nullptr},
               {"usage", {{"input_tokens", 0}, {"output_tokens", 0}}}}}},
            out);
    } else {
      Chunk({{"role", "assistant"}, {"content", ""}}, nullptr, out);
    }
    return absl::OkStatus();
  }
  if (type == "metadata") {  // usage, after the answer's end
    if (stopped_) End(Member(p, "usage"), out);
    return absl::OkStatus();
  }
  const bool in_answer = started_ && !stopped_;
  if (type == "contentBlockStart" || type == "contentBlockDelta" || type == "contentBlockStop" ||
      type == "messageStop") {
    if (!in_answer) return absl::DataLossError("malformed Bedrock event");
  }
  if (type == "contentBlockStart") {
    const json* tool = Member(Member(p, "start"), "toolUse");
    if (tool == nullptr) return absl::OkStatus();  // nothing else starts with content
    const json* id = Member(tool, "toolUseId");
    const json* name = Member(tool, "name");
    if (id == nullptr || !id->is_string() || name == nullptr || !name->is_string()) {
      return absl::DataLossError("malformed Bedrock event");
    }
    if (anthropic) {
      if (blocks_.contains(index)) return absl::DataLossError("malformed Bedrock event");
      blocks_[index] = Block::kOpen;
      Event("content_block_start",
            {{"index", index},
             {"content_block",
              {{"type", "tool_use"}, {"id", *id}, {"name", *name}, {"input", json::object()}}}},
            out);
    } else {
      if (tool_index_.contains(index)) return absl::DataLossError("malformed Bedrock event");
      const int k = static_cast<int>(tool_index_.size());
      tool_index_[index] = k;
      Chunk({{"tool_calls", json::array({{{"index", k},
                                          {"id", *id},
                                          {"type", "function"},
                                          {"function", {{"name", *name}, {"arguments", ""}}}}})}},
            nullptr, out);
    }
    return absl::OkStatus();
  }
  if (type == "contentBlockDelta") {
    const json* delta = Member(p, "delta");
    if (delta == nullptr || !delta->is_object()) {
      return absl::DataLossError("malformed Bedrock event");
    }
    if (const json* t = Member(delta, "text"); t != nullptr) {
      if (!t->is_string()) return absl::DataLossError("malformed Bedrock event");
      if (anthropic) {
        PHIGATE_RETURN_IF_ERROR(OpenBlock(index, "text", out));
        Event("content_block_delta",
              {{"index", index}, {"delta", {{"type", "text_delta"}, {"text", *t}}}}, out);
      } else {
        Chunk({{"content", *t}}, nullptr, out);
      }
    } else if (const json* u = Member(delta, "toolUse"); u != nullptr) {
      const json* input = Member(u, "input");
      if (input == nullptr || !input->is_string()) {
        return absl::DataLossError("malformed Bedrock event");
      }
      if (anthropic) {
        auto it = blocks_.find(index);
        if (it == blocks_.end() || it->second != Block::kOpen) {
          return absl::DataLossError("malformed Bedrock event");
        }
        Event(
            "content_block_delta",
            {{"index", index}, {"delta", {{"type", "input_json_delta"}, {"partial_json", *input}}}},
            out);
      } else {
        auto it = tool_index_.find(index);
        if (it == tool_index_.end()) return absl::DataLossError("malformed Bedrock event");
        Chunk({{"tool_calls",
                json::array({{{"index", it->second}, {"function", {{"arguments", *input}}}}})}},
              nullptr, out);
      }
    } else if (const json* r = Member(delta, "reasoningContent"); r != nullptr) {
      // OpenAI's chat API has no place for reasoning: it is not sent there.
      if (!anthropic) return absl::OkStatus();
      if (const json* rt = Member(r, "text"); rt != nullptr && rt->is_string()) {
        PHIGATE_RETURN_IF_ERROR(OpenBlock(index, "thinking", out));
        Event("content_block_delta",
              {{"index", index}, {"delta", {{"type", "thinking_delta"}, {"thinking", *rt}}}}, out);
      } else if (const json* sig = Member(r, "signature"); sig != nullptr && sig->is_string()) {
        PHIGATE_RETURN_IF_ERROR(OpenBlock(index, "thinking", out));
        Event("content_block_delta",
              {{"index", index}, {"delta", {{"type", "signature_delta"}, {"signature", *sig}}}},
              out);
      }
    }
    return absl::OkStatus();
  }
  if (type == "contentBlockStop") {
    if (anthropic) {
      PHIGATE_RETURN_IF_ERROR(OpenBlock(index, "text", out));  // an empty block gets a start too
      blocks_[index] = Block::kClosed;
      Event("content_block_stop", {{"index", index}}, out);
    }
    return absl::OkStatus();
  }
  if (type == "messageStop") {
    stopped_ = true;
    stop_reason_ = StringOr(Member(p, "stopReason"), "end_turn");
    if (!anthropic) Chunk(json::object(), OpenAIFinish(stop_reason_), out);
    return absl::OkStatus();
  }
  return absl::OkStatus();  // an event type added later: nothing to send
}

}  // namespace phigate::gateway
