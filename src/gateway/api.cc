#include "src/gateway/api.h"

#include <simdjson.h>

#include <algorithm>
#include <tuple>
#include <vector>

#include "absl/container/flat_hash_set.h"
#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"

namespace phigate::gateway {

using nlohmann::json;

std::string_view ApiName(Api api) {
  switch (api) {
    case Api::kOpenAIChat:
      return "openai.chat";
    case Api::kOpenAIEmbeddings:
      return "openai.embeddings";
    case Api::kAnthropicMessages:
      return "anthropic.messages";
    case Api::kOpenAIResponses:
      return "openai.responses";
    case Api::kAnthropicCountTokens:
      return "anthropic.count_tokens";
  }
  return "unknown";
}

std::string_view VendorEndpoint(VendorKind kind, Api api) {
  if (kind == VendorKind::kBedrock) return "converse";  // chat, messages and their token count
  return ApiEndpoint(api);
}

std::string_view ApiEndpoint(Api api) {
  switch (api) {
    case Api::kOpenAIChat:
      return "chat/completions";
    case Api::kOpenAIEmbeddings:
      return "embeddings";
    case Api::kAnthropicMessages:
    case Api::kAnthropicCountTokens:
      return "messages";
    case Api::kOpenAIResponses:
      return "responses";
  }
  return "";
}

namespace {

std::string_view OpenAIErrorType(int status) {
  switch (status) {
    case 400:
    case 404:
    case 413:
    case 422:
      return "invalid_request_error";
    case 401:
      return "authentication_error";
    case 403:
      return "permission_error";
    case 429:
      return "rate_limit_error";
    case 504:
      return "timeout_error";
    default:
      return status >= 500 ? "upstream_error" : "invalid_request_error";
  }
}

std::string_view AnthropicErrorType(int status) {
  switch (status) {
    case 400:
    case 422:
      return "invalid_request_error";
    case 401:
      return "authentication_error";
    case 403:
      return "permission_error";
    case 404:
      return "not_found_error";
    case 413:
      return "request_too_large";
    case 429:
      return "rate_limit_error";
    case 503:
    case 529:
      return "overloaded_error";
    case 504:
      return "timeout_error";
    default:
      return status >= 500 ? "api_error" : "invalid_request_error";
  }
}

Status BadShape(std::string_view what) {
  return absl::InvalidArgumentError(absl::StrCat("invalid request: ", ToAbsl(what)));
}

// The de-identification callback, remembering the strings it was given (or
// that the walker handled otherwise): WalkRest gives it every other one.
class Texts {
 public:
  explicit Texts(const TextFn& fn) : fn_(fn) {}
  Status operator()(std::string* s) {
    seen_.insert(s);
    return fn_(s);
  }
  // An object key, passed as a copy: fn without recording it (keys are not
  // json string nodes).
  Status Key(std::string* s) { return fn_(s); }
  // Handled without fn: rewritten as a whole, or opaque provider data.
  void Done(const std::string* s) { seen_.insert(s); }
  bool Seen(const std::string* s) const { return seen_.contains(s); }

 private:
  const TextFn& fn_;
  absl::flat_hash_set<const std::string*> seen_;
};

// Values that are API vocabulary ("role": "user", "type": "text", the model's
// name), not text: short, one word, from a closed alphabet. Any other value
// of these keys is de-identified like text.
bool IsVocabulary(std::string_view key, std::string_view v) {
  static constexpr std::string_view kKeys[] = {
      "role", "type", "object", "tool_choice", "encoding_format", "modalities", "detail",
      "reasoning_effort", "service_tier", "format",
      // The Responses API's: "include": ["reasoning.encrypted_content"] and
      // "reasoning": {"effort": "low"} (a dotted include read as a host name
      // and tokenized would be refused by the vendor).
      "include", "effort", "truncation", "verbosity"};
  if (v.empty() || v.size() > 128) return false;
  if (key == "model") {
    // A model's name holds a letter ("gpt-4o", "claude-sonnet-4"): a bare
    // number in its place is text.
    if (std::none_of(v.begin(), v.end(),
                     [](char c) { return absl::ascii_isalpha(static_cast<unsigned char>(c)); })) {
      return false;
    }
    return std::all_of(v.begin(), v.end(), [](char c) {
      return absl::ascii_isalnum(static_cast<unsigned char>(c)) || c == '.' || c == '_' ||
             c == '-' || c == ':' || c == '/' || c == '@';
    });
  }
  if (std::find(std::begin(kKeys), std::end(kKeys), key) == std::end(kKeys)) return false;
  // No digits: every value these keys take is a word ("image_url", "auto"),
  // and "role": "123-45-6789" is text.
  return v.size() <= 64 && std::all_of(v.begin(), v.end(), [](char c) {
           return absl::ascii_islower(static_cast<unsigned char>(c)) || c == '_' || c == '.' ||
                  c == '-';
         });
}

// An object key that is a field name, not text: lower-case letters and
// underscores ("messages", "patient_name"). Any other key — a name, a number,
// words with spaces or capitals — reaches the vendor as text and is
// de-identified like a value.
bool IsFieldName(std::string_view k) {
  return !k.empty() && k.size() <= 64 && std::all_of(k.begin(), k.end(), [](char c) {
    return absl::ascii_islower(static_cast<unsigned char>(c)) || c == '_';
  });
}

// Every string value of the body that the API's walker did not take: tool
// definitions, stop sequences, response schemas, citations, fields this
// version does not know. The vendor receives them, so they are text.
Status WalkRest(json& j, std::string_view key, Texts& fn) {
  if (j.is_string()) {
    std::string* s = j.get_ptr<std::string*>();
    if (fn.Seen(s) || IsVocabulary(key, *s)) return absl::OkStatus();
    return fn(s);
  }
  if (j.is_object()) {
    std::vector<std::pair<std::string, std::string>> renamed;  // old key, new key
    for (auto it = j.begin(); it != j.end(); ++it) {
      if (!IsFieldName(it.key())) {
        std::string k = it.key();
        PHIGATE_RETURN_IF_ERROR(fn.Key(&k));
        if (k != it.key()) renamed.emplace_back(it.key(), std::move(k));
      }
      PHIGATE_RETURN_IF_ERROR(WalkRest(it.value(), it.key(), fn));
    }
    for (auto& [from, to] : renamed) {
      if (j.contains(to)) {
        // Two keys of one object de-identify to the same text ("[NAME]"):
        // one would overwrite the other.
        return BadShape("two keys of an object are the same once de-identified");
      }
      json v = std::move(j[from]);
      j.erase(from);
      j[to] = std::move(v);
    }
  } else if (j.is_array()) {
    for (auto& v : j) PHIGATE_RETURN_IF_ERROR(WalkRest(v, key, fn));  // "stop": [...]
  }
  return absl::OkStatus();
}

// Every string value (not key) under j.
Status WalkStrings(json& j, Texts& fn) {
  if (j.is_string()) return fn(j.get_ptr<std::string*>());
  if (j.is_object() || j.is_array()) {
    for (auto& v : j) PHIGATE_RETURN_IF_ERROR(WalkStrings(v, fn));
  }
  return absl::OkStatus();
}

// Tool-call arguments are JSON text: de-identify the decoded strings when they
// parse, else the text as a whole.
Status DeidArguments(json& args, Texts& fn) {
  if (!args.is_string()) return WalkStrings(args, fn);
  std::string* s = args.get_ptr<std::string*>();
  json parsed = ParseJson(*s);
  if (parsed.is_discarded() || !(parsed.is_object() || parsed.is_array())) return fn(s);
  PHIGATE_RETURN_IF_ERROR(WalkStrings(parsed, fn));
  *s = DumpJson(parsed);
  fn.Done(s);
  return absl::OkStatus();
}

Status OpenAIContent(json& content, Texts& fn) {
  if (content.is_null()) return absl::OkStatus();
  if (content.is_string()) return fn(content.get_ptr<std::string*>());
  if (!content.is_array()) return BadShape("message content must be a string or an array");
  for (json& part : content) {
    if (part.is_string()) {
      PHIGATE_RETURN_IF_ERROR(fn(part.get_ptr<std::string*>()));
      continue;
    }
    if (!part.is_object()) return BadShape("content part must be an object");
    auto type = part.find("type");
    if (type == part.end() || !type->is_string()) return BadShape("content part without a type");
    const std::string& t = type->get_ref<const std::string&>();
    // Chat's text parts, and the Responses API's (also in assistant turns,
    // reasoning summaries and tool outputs sent back).
    if (t == "text" || t == "input_text" || t == "output_text" || t == "summary_text" ||
        t == "reasoning_text" || t == "refusal") {
      auto f = part.find(t == "refusal" ? "refusal" : "text");
      if (f != part.end() && f->is_string())
        PHIGATE_RETURN_IF_ERROR(fn(f->get_ptr<std::string*>()));
    } else {
      return absl::InvalidArgumentError(
          "only text content parts can be de-identified; images, audio and files are refused");
    }
  }
  return absl::OkStatus();
}

Status OpenAIChat(json& body, Texts& fn) {
  auto msgs = body.find("messages");
  if (msgs == body.end() || !msgs->is_array()) return BadShape("messages must be an array");
  for (json& m : *msgs) {
    if (!m.is_object()) return BadShape("each message must be an object");
    if (auto c = m.find("content"); c != m.end()) PHIGATE_RETURN_IF_ERROR(OpenAIContent(*c, fn));
    if (auto n = m.find("name"); n != m.end() && n->is_string()) {
      PHIGATE_RETURN_IF_ERROR(fn(n->get_ptr<std::string*>()));
    }
    if (auto r = m.find("refusal"); r != m.end() && r->is_string()) {
      PHIGATE_RETURN_IF_ERROR(fn(r->get_ptr<std::string*>()));
    }
    if (auto tcs = m.find("tool_calls"); tcs != m.end() && tcs->is_array()) {
      for (json& tc : *tcs) {
        auto f = tc.find("function");
        if (f == tc.end() || !f->is_object()) continue;
        if (auto a = f->find("arguments"); a != f->end()) {
          PHIGATE_RETURN_IF_ERROR(DeidArguments(*a, fn));
        }
      }
    }
    if (auto fc = m.find("function_call"); fc != m.end() && fc->is_object()) {
      if (auto a = fc->find("arguments"); a != fc->end()) {
        PHIGATE_RETURN_IF_ERROR(DeidArguments(*a, fn));
      }
    }
    if (m.contains("audio")) {
      return absl::InvalidArgumentError("audio messages cannot be de-identified; refused");
    }
  }
  if (auto md = body.find("metadata"); md != body.end())
    PHIGATE_RETURN_IF_ERROR(WalkStrings(*md, fn));
  if (auto p = body.find("prediction"); p != body.end() && p->is_object()) {
    if (auto c = p->find("content"); c != p->end()) PHIGATE_RETURN_IF_ERROR(OpenAIContent(*c, fn));
  }
  return absl::OkStatus();
}

Status OpenAIEmbeddings(json& body, Texts& fn) {
  auto in = body.find("input");
  if (in == body.end()) return BadShape("input is required");
  if (in->is_string()) return fn(in->get_ptr<std::string*>());
  if (!in->is_array()) return BadShape("input must be a string or an array of strings");
  for (json& s : *in) {
    if (!s.is_string()) {
      return absl::InvalidArgumentError(
          "token-array embedding input cannot be de-identified; send text");
    }
    PHIGATE_RETURN_IF_ERROR(fn(s.get_ptr<std::string*>()));
  }
  return absl::OkStatus();
}

Status AnthropicBlocks(json& content, Texts& fn, int depth) {
  if (content.is_string()) return fn(content.get_ptr<std::string*>());
  if (!content.is_array()) return BadShape("content must be a string or an array of blocks");
  for (json& b : content) {
    if (!b.is_object()) return BadShape("content block must be an object");
    auto type = b.find("type");
    if (type == b.end() || !type->is_string()) return BadShape("content block without a type");
    const std::string& t = type->get_ref<const std::string&>();
    if (t == "text") {
      if (auto f = b.find("text"); f != b.end() && f->is_string()) {
        PHIGATE_RETURN_IF_ERROR(fn(f->get_ptr<std::string*>()));
      }
    } else if (t == "tool_use" || t == "server_tool_use") {
      if (auto f = b.find("input"); f != b.end()) PHIGATE_RETURN_IF_ERROR(WalkStrings(*f, fn));
    } else if (t == "tool_result") {
      if (auto f = b.find("content"); f != b.end() && !f->is_null()) {
        if (depth > 0) return BadShape("nested tool results");
        PHIGATE_RETURN_IF_ERROR(AnthropicBlocks(*f, fn, depth + 1));
      }
    } else if (t == "thinking") {
      if (auto f = b.find("thinking"); f != b.end() && f->is_string()) {
        PHIGATE_RETURN_IF_ERROR(fn(f->get_ptr<std::string*>()));
      }
      // The provider's signature of the thinking: checked by the provider, so
      // it must go back unchanged.
      if (auto f = b.find("signature"); f != b.end() && f->is_string()) {
        fn.Done(f->get_ptr<std::string*>());
      }
    } else if (t == "redacted_thinking") {
      // Opaque, encrypted by the provider: holds no client text.
      if (auto f = b.find("data"); f != b.end() && f->is_string()) {
        fn.Done(f->get_ptr<std::string*>());
      }
    } else {
      return absl::InvalidArgumentError(
          "only text, tool_use and tool_result blocks can be de-identified; images and "
          "documents are refused");
    }
  }
  return absl::OkStatus();
}

Status AnthropicMessages(json& body, Texts& fn) {
  if (auto sys = body.find("system"); sys != body.end() && !sys->is_null()) {
    PHIGATE_RETURN_IF_ERROR(AnthropicBlocks(*sys, fn, 0));
  }
  auto msgs = body.find("messages");
  if (msgs == body.end() || !msgs->is_array()) return BadShape("messages must be an array");
  for (json& m : *msgs) {
    if (!m.is_object()) return BadShape("each message must be an object");
    auto c = m.find("content");
    if (c == m.end()) return BadShape("message without content");
    PHIGATE_RETURN_IF_ERROR(AnthropicBlocks(*c, fn, 0));
  }
  return absl::OkStatus();
}

// One item of a Responses API `input` array: a message, a function call the
// model made earlier and its output, a reasoning item. Other item types
// (references, hosted tool calls) are left to WalkRest: every string of
// theirs is de-identified too, except those that carry images.
Status ResponsesItem(json& item, Texts& fn) {
  if (!item.is_object()) return BadShape("each input item must be an object");
  std::string type = "message";  // an item with a role and no type is a message
  if (auto t = item.find("type"); t != item.end()) {
    if (!t->is_string()) return BadShape("an input item's type must be a string");
    type = t->get<std::string>();
  }
  if (type == "message") {
    if (auto c = item.find("content"); c != item.end()) {
      PHIGATE_RETURN_IF_ERROR(OpenAIContent(*c, fn));
    }
  } else if (type == "function_call") {
    if (auto a = item.find("arguments"); a != item.end()) {
      PHIGATE_RETURN_IF_ERROR(DeidArguments(*a, fn));
    }
  } else if (type == "function_call_output" || type == "custom_tool_call_output") {
    if (auto o = item.find("output"); o != item.end()) {
      // Tool output is often JSON text: its decoded strings are de-identified.
      PHIGATE_RETURN_IF_ERROR(o->is_array() ? OpenAIContent(*o, fn) : DeidArguments(*o, fn));
    }
  } else if (type == "reasoning") {
    for (const char* key : {"summary", "content"}) {
      if (auto f = item.find(key); f != item.end() && !f->is_null()) {
        PHIGATE_RETURN_IF_ERROR(OpenAIContent(*f, fn));
      }
    }
    // The provider's encrypted reasoning: opaque, checked by the provider,
    // so it must go back unchanged.
    if (auto f = item.find("encrypted_content"); f != item.end() && f->is_string()) {
      fn.Done(f->get_ptr<std::string*>());
    }
  } else if (type == "computer_call_output" || type == "image_generation_call") {
    return absl::InvalidArgumentError(
        "screenshots and generated images cannot be de-identified; refused");
  }
  return absl::OkStatus();
}

Status OpenAIResponses(json& body, Texts& fn) {
  // A background response is read back later by id (GET /v1/responses/{id}),
  // which the gateway does not serve: the client could never get the answer,
  // and a stored answer read around the gateway is not re-identified.
  if (auto b = body.find("background"); b != body.end() && b->is_boolean() && b->get<bool>()) {
    return absl::InvalidArgumentError(
        "background responses are not served: a response read back by id would not be "
        "re-identified; send the request without background");
  }
  // Each a string or a list of items. No input is allowed: a stored prompt or
  // an earlier response may give it.
  for (const char* key : {"instructions", "input"}) {
    auto f = body.find(key);
    if (f == body.end() || f->is_null()) continue;
    if (f->is_string()) {
      PHIGATE_RETURN_IF_ERROR(fn(f->get_ptr<std::string*>()));
    } else if (f->is_array()) {
      for (json& item : *f) PHIGATE_RETURN_IF_ERROR(ResponsesItem(item, fn));
    } else {
      return BadShape(absl::StrCat(key, " must be a string or an array of items"));
    }
  }
  return absl::OkStatus();
}

// Re-identifies one string in place; collects its de-identified text.
void Rewrite(json& j, DeidSession* s, bool json_escape, std::string* scan) {
  if (!j.is_string()) return;
  std::string* v = j.get_ptr<std::string*>();
  scan->append(*v);
  scan->push_back('\n');
  if (s == nullptr || !s->has_replacements()) return;
  std::string out;
  out.reserve(v->size() + 16);
  s->Reidentify(*v, json_escape, &out);
  *v = std::move(out);
}

void RewriteAll(json& j, DeidSession* s, std::string* scan) {
  if (j.is_string()) {
    Rewrite(j, s, false, scan);
  } else if (j.is_object() || j.is_array()) {
    for (auto& v : j) RewriteAll(v, s, scan);
  }
}

// One item of a Responses API answer's output: message text and refusals,
// function-call arguments (JSON text: values go back JSON-escaped), a custom
// tool's input, reasoning summaries and text.
void RewriteResponsesItem(json& item, DeidSession* s, std::string* scan) {
  if (!item.is_object()) return;
  for (const char* key : {"content", "summary"}) {
    auto parts = item.find(key);
    if (parts == item.end() || !parts->is_array()) continue;
    for (json& p : *parts) {
      if (!p.is_object()) continue;
      if (auto t = p.find("text"); t != p.end()) Rewrite(*t, s, false, scan);
      if (auto t = p.find("refusal"); t != p.end()) Rewrite(*t, s, false, scan);
    }
  }
  if (auto a = item.find("arguments"); a != item.end()) Rewrite(*a, s, true, scan);
  if (auto a = item.find("input"); a != item.end()) Rewrite(*a, s, false, scan);
}

// A Responses API response object (the answer, and the snapshots stream
// events carry): its output items, and the request's instructions and
// metadata, which it echoes as the vendor received them.
void RewriteResponsesObject(json& r, DeidSession* s, std::string* scan) {
  if (!r.is_object()) return;
  if (auto out = r.find("output"); out != r.end() && out->is_array()) {
    for (json& item : *out) RewriteResponsesItem(item, s, scan);
  }
  if (auto t = r.find("output_text"); t != r.end()) Rewrite(*t, s, false, scan);
  for (const char* key : {"instructions", "metadata"}) {
    if (auto f = r.find(key); f != r.end()) RewriteAll(*f, s, scan);
  }
}

}  // namespace

std::string ErrorJson(Api api, int status, std::string_view message) {
  json j;
  if (IsAnthropic(api)) {
    j = {{"type", "error"},
         {"error", {{"type", AnthropicErrorType(status)}, {"message", message}}}};
  } else {
    j = {{"error",
          {{"message", message},
           {"type", OpenAIErrorType(status)},
           {"param", nullptr},
           {"code", nullptr}}}};
  }
  return DumpJson(j);
}

Status ForEachRequestText(Api api, json& body, const TextFn& text_fn) {
  if (!body.is_object()) return BadShape("the body must be a JSON object");
  Texts fn(text_fn);
  switch (api) {
    case Api::kOpenAIChat:
      PHIGATE_RETURN_IF_ERROR(OpenAIChat(body, fn));
      break;
    case Api::kOpenAIEmbeddings:
      PHIGATE_RETURN_IF_ERROR(OpenAIEmbeddings(body, fn));
      break;
    case Api::kAnthropicMessages:
    case Api::kAnthropicCountTokens:
      PHIGATE_RETURN_IF_ERROR(AnthropicMessages(body, fn));
      break;
    case Api::kOpenAIResponses:
      PHIGATE_RETURN_IF_ERROR(OpenAIResponses(body, fn));
      break;
  }
  return WalkRest(body, "", fn);
}

void RewriteResponse(Api api, json& body, DeidSession* s, std::string* scan) {
  if (!body.is_object()) return;
  if (api == Api::kOpenAIChat) {
    auto choices = body.find("choices");
    if (choices == body.end() || !choices->is_array()) return;
    for (json& c : *choices) {
      auto m = c.find("message");
      if (m == c.end() || !m->is_object()) continue;
      if (auto f = m->find("content"); f != m->end()) {
        if (f->is_array()) {
          for (json& part : *f) {
            if (auto t = part.find("text"); t != part.end()) Rewrite(*t, s, false, scan);
          }
        } else {
          Rewrite(*f, s, false, scan);
        }
      }
      if (auto f = m->find("refusal"); f != m->end()) Rewrite(*f, s, false, scan);
      if (auto tcs = m->find("tool_calls"); tcs != m->end() && tcs->is_array()) {
        for (json& tc : *tcs) {
          auto fn = tc.find("function");
          if (fn == tc.end() || !fn->is_object()) continue;
          if (auto a = fn->find("arguments"); a != fn->end()) Rewrite(*a, s, true, scan);
        }
      }
      if (auto fc = m->find("function_call"); fc != m->end() && fc->is_object()) {
        if (auto a = fc->find("arguments"); a != fc->end()) Rewrite(*a, s, true, scan);
      }
    }
  } else if (api == Api::kAnthropicMessages) {
    auto content = body.find("content");
    if (content == body.end() || !content->is_array()) return;
    for (json& b : *content) {
      if (auto t = b.find("text"); t != b.end()) Rewrite(*t, s, false, scan);
      if (auto t = b.find("thinking"); t != b.end()) Rewrite(*t, s, false, scan);
      if (auto in = b.find("input"); in != b.end()) RewriteAll(*in, s, scan);
    }
  } else if (api == Api::kOpenAIResponses) {
    RewriteResponsesObject(body, s, scan);
  }
}

namespace {

// One streamed text field and its held-back tail.
struct Field {
  int owner = 0;  // choice index (OpenAI) or block index (Anthropic)
  int sub = -1;   // OpenAI: -1 content, -2 refusal, >= 0 tool-call index; Anthropic: kind
  bool json_escape = false;
  std::string tail;
};

class FieldSet {
 public:
  explicit FieldSet(DeidSession* s) : s_(s) {}
  Field& Get(int owner, int sub, bool json_escape) {
    for (Field& f : fields_) {
      if (f.owner == owner && f.sub == sub) return f;
    }
    fields_.push_back(Field{owner, sub, json_escape, {}});
    return fields_.back();
  }
  // Rewrites *text (one delta of field f); holds back a possible partial token
  // unless `final`. True when *text changed (a value put back, a tail held or
  // released); false when the event may go out as the upstream wrote it.
  bool Process(Field& f, std::string* text, bool final, std::string* scan) {
    if (s_ == nullptr || !s_->has_replacements()) {
      scan->append(*text);
      return false;
    }
    const bool had_tail = !f.tail.empty();
    std::string full = std::move(f.tail);
    f.tail.clear();
    full.append(*text);
    const size_t hold = final ? 0 : s_->HoldBack(full);
    const std::string_view emit = std::string_view(full).substr(0, full.size() - hold);
    scan->append(emit);
    std::string out;
    out.reserve(emit.size());
    s_->Reidentify(emit, f.json_escape, &out);
    f.tail.assign(full, full.size() - hold, std::string::npos);
    const bool changed = had_tail || hold > 0 || out != *text;
    *text = std::move(out);
    return changed;
  }
  // Re-identified tail of f (emptied).
  std::string TakeTail(Field& f) {
    std::string out;
    if (f.tail.empty()) return out;
    s_->Reidentify(f.tail, f.json_escape, &out);
    f.tail.clear();
    return out;
  }
  std::vector<Field>& fields() { return fields_; }

 private:
  DeidSession* s_;
  std::vector<Field> fields_;
};

// The text fields of one OpenAI stream event, read with simdjson (a DOM
// parse that validates the whole event) without building a nlohmann tree:
// most events need nothing put back and go out as the upstream wrote them.
// Read() gives kOther for any shape it would read differently from nlohmann
// (a key of interest given twice: nlohmann, like a client's JSON.parse, keeps
// the last; a number simdjson does not take) or that is malformed (a choice
// or tool call that is no object, an index that is no integer): that event is
// parsed with nlohmann and read by ReadChunkTree, which refuses the malformed
// ones.
struct ChunkText {
  int sub = -1;  // as Field::sub
  std::string_view text;
  std::string* slot = nullptr;  // ReadChunkTree: the string in the nlohmann tree
};
struct ChunkChoice {
  int idx = 0;
  bool final = false;
  bool delta = false;  // "delta" is an object
  bool content = false, refusal = false;
  std::vector<ChunkText> texts;
};

class OpenAIChunkReader {
 public:
  enum class Outcome { kRead, kError, kOther };
  // kError: the event is an error event; kOther: use the nlohmann path.
  Outcome Read(std::string_view data, bool* has_choices) {
    choices_.clear();
    *has_choices = false;
    simdjson::dom::element doc;
    simdjson::dom::object top;
    if (parser_.parse(data.data(), data.size()).get(doc) || doc.get_object().get(top)) {
      return Outcome::kOther;
    }
    simdjson::dom::element choices;
    bool have_choices = false;
    for (auto [key, value] : top) {
      if (key == "error") return Outcome::kError;
      if (key == "choices") {
        if (have_choices) return Outcome::kOther;
        have_choices = true;
        choices = value;
      }
    }
    simdjson::dom::array list;
    if (!have_choices || choices.get_array().get(list)) return Outcome::kRead;
    *has_choices = true;
    for (simdjson::dom::element c : list) {
      ChunkChoice cc;
      if (!ReadChoice(c, &cc)) return Outcome::kOther;
      choices_.push_back(std::move(cc));
    }
    return Outcome::kRead;
  }
  std::vector<ChunkChoice>& choices() { return choices_; }

 private:
  // nlohmann's value("index", 0): absent -> 0, an integer -> itself.
  static bool Index(const simdjson::dom::element* e, int* out) {
    *out = 0;
    if (e == nullptr) return true;
    int64_t v = 0;
    if (e->get_int64().get(v) || v < INT32_MIN || v > INT32_MAX) return false;
    *out = static_cast<int>(v);
    return true;
  }
  // The members of `o` named in `names` (nullptr when absent); false when one
  // is given twice.
  template <size_t N>
  static bool Members(simdjson::dom::object o, const std::string_view (&names)[N],
                      simdjson::dom::element (&values)[N], bool (&present)[N]) {
    for (size_t k = 0; k < N; ++k) present[k] = false;
    for (auto [key, value] : o) {
      for (size_t k = 0; k < N; ++k) {
        if (key != names[k]) continue;
        if (present[k]) return false;
        present[k] = true;
        values[k] = value;
      }
    }
    return true;
  }
  static bool ReadChoice(simdjson::dom::element c, ChunkChoice* cc) {
    simdjson::dom::object o;
    if (c.get_object().get(o)) return false;
    static constexpr std::string_view kNames[] = {"index", "finish_reason", "delta"};
    simdjson::dom::element v[3];
    bool has[3];
    if (!Members(o, kNames, v, has) || !Index(has[0] ? &v[0] : nullptr, &cc->idx)) return false;
    cc->final = has[1] && !v[1].is_null();
    simdjson::dom::object d;
    if (!has[2] || v[2].get_object().get(d)) return true;
    cc->delta = true;
    static constexpr std::string_view kDelta[] = {"content", "refusal", "tool_calls"};
    simdjson::dom::element dv[3];
    bool dhas[3];
    if (!Members(d, kDelta, dv, dhas)) return false;
    std::string_view text;
    if (dhas[0] && !dv[0].get_string().get(text)) {
      cc->content = true;
      cc->texts.push_back({-1, text});
    }
    if (dhas[1] && !dv[1].get_string().get(text)) {
      cc->refusal = true;
      cc->texts.push_back({-2, text});
    }
    simdjson::dom::array calls;
    if (!dhas[2] || dv[2].get_array().get(calls)) return true;
    for (simdjson::dom::element tc : calls) {
      simdjson::dom::object t;
      if (tc.get_object().get(t)) return false;
      static constexpr std::string_view kCall[] = {"index", "function"};
      simdjson::dom::element tv[2];
      bool thas[2];
      int ti = 0;
      if (!Members(t, kCall, tv, thas) || !Index(thas[0] ? &tv[0] : nullptr, &ti)) return false;
      simdjson::dom::object fn;
      if (!thas[1] || tv[1].get_object().get(fn)) continue;
      static constexpr std::string_view kFn[] = {"arguments"};
      simdjson::dom::element fv[1];
      bool fhas[1];
      if (!Members(fn, kFn, fv, fhas)) return false;
      if (fhas[0] && !fv[0].get_string().get(text)) cc->texts.push_back({ti, text});
    }
    return true;
  }

  simdjson::dom::parser parser_;
  std::vector<ChunkChoice> choices_;
};

// An "index" member as an int: false unless an integer in int's range (a
// float or a huge number is a malformed event, not something to convert).
bool IntIndex(const json& v, int* out) {
  if (v.is_number_unsigned()) {
    if (v.get<uint64_t>() > static_cast<uint64_t>(INT32_MAX)) return false;
  } else if (!v.is_number_integer() || v.get<int64_t>() < INT32_MIN ||
             v.get<int64_t>() > INT32_MAX) {
    return false;
  }
  *out = v.get<int>();
  return true;
}

// The same fields from a nlohmann tree (events OpenAIChunkReader leaves to
// nlohmann, and the tree a changed event is written back into), each with
// its string in the tree. False for a choice or tool call that is no object
// or an index that is no integer (IntIndex): a malformed event.
bool ReadChunkTree(json& j, bool* has_choices, std::vector<ChunkChoice>* out) {
  out->clear();
  auto choices = j.find("choices");
  *has_choices = choices != j.end() && choices->is_array();
  if (!*has_choices) return true;
  auto index = [](const json& o, int* v) {
    auto it = o.find("index");
    return it == o.end() || IntIndex(*it, v);
  };
  for (json& c : *choices) {
    ChunkChoice cc;
    if (!c.is_object() || !index(c, &cc.idx)) return false;
    auto fr = c.find("finish_reason");
    cc.final = fr != c.end() && !fr->is_null();
    auto d = c.find("delta");
    cc.delta = d != c.end() && d->is_object();
    if (cc.delta) {
      for (const auto& [name, sub] :
           {std::pair<const char*, int>{"content", -1}, {"refusal", -2}}) {
        if (auto t = d->find(name); t != d->end() && t->is_string()) {
          (sub == -1 ? cc.content : cc.refusal) = true;
          std::string* str = t->get_ptr<std::string*>();
          cc.texts.push_back({sub, *str, str});
        }
      }
      if (auto tcs = d->find("tool_calls"); tcs != d->end() && tcs->is_array()) {
        for (json& tc : *tcs) {
          int ti = 0;
          if (!tc.is_object() || !index(tc, &ti)) return false;
          auto fn = tc.find("function");
          if (fn == tc.end() || !fn->is_object()) continue;
          if (auto a = fn->find("arguments"); a != fn->end() && a->is_string()) {
            std::string* str = a->get_ptr<std::string*>();
            cc.texts.push_back({ti, *str, str});
          }
        }
      }
    }
    out->push_back(std::move(cc));
  }
  return true;
}

class OpenAIStream : public StreamRewriter {
 public:
  explicit OpenAIStream(DeidSession* s) : fields_(s), s_(s) {}

  Status OnEvent(const SseEvent& ev, std::string* out, std::string* scan) override {
    if (ev.data == "[DONE]") {
      Flush(out);
      out->append("data: [DONE]\n\n");
      complete_ = true;
      return absl::OkStatus();
    }
    bool has_choices = false;
    switch (reader_.Read(ev.data, &has_choices)) {
      case OpenAIChunkReader::Outcome::kError:
        return absl::UnavailableError("the upstream reported an error");
      case OpenAIChunkReader::Outcome::kRead:
        return OnChunk(ev, has_choices, reader_.choices(), nullptr, out, scan);
      case OpenAIChunkReader::Outcome::kOther:
        break;
    }
    json j = ParseJson(ev.data);
    if (j.is_discarded() || !j.is_object()) {
      return absl::DataLossError("the upstream sent a malformed stream event");
    }
    if (j.contains("error")) return absl::UnavailableError("the upstream reported an error");
    if (!ReadChunkTree(j, &has_choices, &tree_choices_)) {
      return absl::DataLossError("the upstream sent a malformed stream event");
    }
    return OnChunk(ev, has_choices, tree_choices_, &j, out, scan);
  }

  void Flush(std::string* out) override {
    for (Field& f : fields_.fields()) {
      if (f.tail.empty()) continue;
      json d = json::object();
      SetDelta(f, fields_.TakeTail(f), d);
      AppendSse("", DumpJson(Wrap(f.owner, std::move(d))), out);
    }
  }
  bool complete() const override { return complete_; }
  void AppendError(std::string_view message, std::string* out) override {
    json j = {{"error",
               {{"message", message},
                {"type", "upstream_error"},
                {"param", nullptr},
                {"code", nullptr}}}};
    AppendSse("", DumpJson(j), out);
  }

 private:
  static void SetDelta(const Field& f, std::string text, json& d) {
    if (f.sub == -1) {
      d["content"] = std::move(text);
    } else if (f.sub == -2) {
      d["refusal"] = std::move(text);
    } else {
      d["tool_calls"] =
          json::array({{{"index", f.sub}, {"function", {{"arguments", std::move(text)}}}}});
    }
  }
  json Wrap(int idx, json delta) const {
    json e = ParseJson(last_with_choices_);
    if (!e.is_object()) e = json::object();
    e.erase("choices");
    e.erase("usage");
    e["choices"] =
        json::array({{{"index", idx}, {"delta", std::move(delta)}, {"finish_reason", nullptr}}});
    return e;
  }
  // Before a choice's final event: tails of fields the final delta does not carry.
  void EmitOtherTails(int idx, bool has_content, bool has_refusal, std::string* out) {
    for (Field& f : fields_.fields()) {
      if (f.owner != idx || f.tail.empty()) continue;
      if ((f.sub == -1 && has_content) || (f.sub == -2 && has_refusal)) continue;
      json nd = json::object();
      SetDelta(f, fields_.TakeTail(f), nd);
      AppendSse("", DumpJson(Wrap(idx, std::move(nd))), out);
    }
  }

  // One event's text fields, read by OpenAIChunkReader (`tree` null) or by
  // ReadChunkTree from `tree`. An event whose text needed nothing put back
  // goes out as the upstream wrote it; a changed one is written into its
  // nlohmann tree (parsed here when simdjson read the event) and serialized.
  Status OnChunk(const SseEvent& ev, bool has_choices, const std::vector<ChunkChoice>& choices,
                 json* tree, std::string* out, std::string* scan) {
    const bool rewrite = s_ != nullptr && s_->has_replacements();
    bool changed = false;
    if (has_choices) last_with_choices_ = ev.data;  // Wrap's envelope, parsed only if needed
    std::vector<std::string>& texts = chunk_texts_;
    texts.clear();
    for (const ChunkChoice& c : choices) {
      if (!c.delta) continue;
      if (c.final && rewrite) EmitOtherTails(c.idx, c.content, c.refusal, out);
      for (const ChunkText& t : c.texts) {
        texts.emplace_back(t.text);
        changed |=
            fields_.Process(fields_.Get(c.idx, t.sub, t.sub >= 0), &texts.back(), c.final, scan);
      }
    }
    if (!changed) {
      AppendSse("", ev.data, out);
      return absl::OkStatus();
    }
    json parsed;
    const std::vector<ChunkChoice>* slots = &choices;
    if (tree == nullptr) {
      parsed = ParseJson(ev.data);
      bool again = false;
      if (!parsed.is_object() || !ReadChunkTree(parsed, &again, &tree_choices_)) {
        return absl::DataLossError("the upstream sent a malformed stream event");
      }
      tree = &parsed;
      slots = &tree_choices_;
    }
    // The tree's fields in the order they were read (the same order: both
    // readers visit content, refusal, then tool calls, choice by choice).
    size_t n = 0;
    for (const ChunkChoice& c : *slots) n += c.delta ? c.texts.size() : 0;
    if (n != texts.size()) return absl::DataLossError("the upstream sent a malformed stream event");
    size_t next = 0;
    for (const ChunkChoice& c : *slots) {
      if (!c.delta) continue;
      for (const ChunkText& t : c.texts) *t.slot = std::move(texts[next++]);
    }
    AppendSse("", DumpJson(*tree), out);
    return absl::OkStatus();
  }

  FieldSet fields_;
  DeidSession* s_;
  std::string last_with_choices_;  // the data of the last event with a choices array
  bool complete_ = false;
  OpenAIChunkReader reader_;
  std::vector<ChunkChoice> tree_choices_;  // ReadChunkTree's, into a nlohmann tree
  std::vector<std::string> chunk_texts_;   // OnChunk's texts, in the order it read them
};

// The fields of one Anthropic stream event that the stream rewriter uses,
// read with simdjson (a DOM parse that validates the whole event) without
// building a nlohmann tree: most events go out as the upstream wrote them.
// Read() gives false for what it leaves to the nlohmann path: a
// content_block_start (every string of its block is rewritten in the tree), a
// key of interest given twice (a client's JSON.parse keeps the last), a type
// that is no string, an index that is no integer, or JSON simdjson does not
// take. That path reads them as a client would, or refuses them.
struct AnthropicEvent {
  bool has_type = false;
  std::string_view type;
  int index = 0;  // absent: 0
  int kind = -1;  // a content_block_delta's text field: AnthropicStream::Kind, -1 none
  std::string_view text;
};

// The delta text fields, in the order a delta is read: the first that is a string counts.
constexpr std::string_view kDeltaFields[] = {"text", "partial_json", "thinking"};

class AnthropicEventReader {
 public:
  bool Read(std::string_view data, AnthropicEvent* e) {
    *e = AnthropicEvent{};
    simdjson::dom::element doc;
    simdjson::dom::object top;
    if (parser_.parse(data.data(), data.size()).get(doc) || doc.get_object().get(top)) {
      return false;
    }
    simdjson::dom::element type, index, delta;
    bool has_index = false, has_delta = false;
    for (auto [key, value] : top) {
      bool* seen = key == "type"    ? &e->has_type
                   : key == "index" ? &has_index
                   : key == "delta" ? &has_delta
                                    : nullptr;
      if (seen == nullptr) continue;
      if (*seen) return false;
      *seen = true;
      (key == "type" ? type : key == "index" ? index : delta) = value;
    }
    if (e->has_type && type.get_string().get(e->type)) return false;
    if (e->type == "content_block_start") return false;
    if (has_index) {
      int64_t v = 0;
      if (index.get_int64().get(v) || v < INT32_MIN || v > INT32_MAX) return false;
      e->index = static_cast<int>(v);
    }
    simdjson::dom::object d;
    if (!has_delta || delta.get_object().get(d)) return true;
    simdjson::dom::element values[3];
    bool present[3] = {false, false, false};
    for (auto [key, value] : d) {
      for (int k = 0; k < 3; ++k) {
        if (key != kDeltaFields[k]) continue;
        if (present[k]) return false;
        present[k] = true;
        values[k] = value;
      }
    }
    for (int k = 0; k < 3; ++k) {
      if (present[k] && !values[k].get_string().get(e->text)) {
        e->kind = k;
        break;
      }
    }
    return true;
  }

 private:
  simdjson::dom::parser parser_;
};

class AnthropicStream : public StreamRewriter {
 public:
  explicit AnthropicStream(DeidSession* s) : fields_(s), s_(s) {}
  enum Kind { kText = 0, kJson = 1, kThinking = 2 };

  Status OnEvent(const SseEvent& ev, std::string* out, std::string* scan) override {
    if (ev.event == "ping") {
      AppendSse(ev.event, ev.data, out);
      return absl::OkStatus();
    }
    if (ev.event == "error") return absl::UnavailableError("the upstream reported an error");
    AnthropicEvent e;
    if (reader_.Read(ev.data, &e)) return OnRead(ev, e, out, scan);
    return OnTree(ev, out, scan);
  }

  void Flush(std::string* out) override {
    for (Field& f : fields_.fields()) {
      if (!f.tail.empty()) EmitTail(f, out);
    }
  }
  bool complete() const override { return complete_; }
  void AppendError(std::string_view message, std::string* out) override {
    json j = {{"type", "error"}, {"error", {{"type", "api_error"}, {"message", message}}}};
    AppendSse("error", DumpJson(j), out);
  }

 private:
  // An event AnthropicEventReader read. A changed delta is written into the
  // event's tree (ParseJson: the same tree nlohmann would build) and serialized.
  Status OnRead(const SseEvent& ev, const AnthropicEvent& e, std::string* out, std::string* scan) {
    const std::string_view type = e.has_type ? e.type : std::string_view(ev.event);
    if (type == "error") return absl::UnavailableError("the upstream reported an error");
    const bool rewrite = s_ != nullptr && s_->has_replacements();
    bool modified = false;
    std::string text;
    if (type == "content_block_delta" && e.kind >= 0) {
      text.assign(e.text);
      modified = fields_.Process(fields_.Get(e.index, e.kind, e.kind == kJson), &text, false, scan);
    } else if (type == "content_block_stop") {
      if (rewrite) FlushBlock(e.index, out);
    } else if (type == "message_stop") {
      Flush(out);
      complete_ = true;
    }
    const std::string_view name = ev.event.empty() ? type : std::string_view(ev.event);
    if (!rewrite || !modified) {
      AppendSse(name, ev.data, out);
      return absl::OkStatus();
    }
    json j = ParseJson(ev.data);
    auto d = j.is_object() ? j.find("delta") : j.end();
    if (d == j.end() || !d->is_object()) {
      return absl::DataLossError("the upstream sent a malformed stream event");
    }
    (*d)[std::string(kDeltaFields[e.kind])] = std::move(text);
    AppendSse(name, DumpJson(j), out);
    return absl::OkStatus();
  }

  // Any other event, read from a nlohmann tree as a client's JSON parser
  // would; a type that is no string or an index that is no integer is refused.
  Status OnTree(const SseEvent& ev, std::string* out, std::string* scan) {
    json j = ParseJson(ev.data);
    if (j.is_discarded() || !j.is_object()) {
      return absl::DataLossError("the upstream sent a malformed stream event");
    }
    std::string type = ev.event;
    if (auto t = j.find("type"); t != j.end()) {
      if (!t->is_string()) return absl::DataLossError("the upstream sent a malformed stream event");
      type = t->get<std::string>();
    }
    if (type == "error") return absl::UnavailableError("the upstream reported an error");
    int idx = 0;
    if (type == "content_block_delta" || type == "content_block_stop") {
      if (auto i = j.find("index"); i != j.end() && !IntIndex(*i, &idx)) {
        return absl::DataLossError("the upstream sent a malformed stream event");
      }
    }
    const bool rewrite = s_ != nullptr && s_->has_replacements();
    bool modified = false;
    if (type == "content_block_delta") {
      if (auto d = j.find("delta"); d != j.end() && d->is_object()) {
        for (int k = 0; k < 3; ++k) {
          auto t = d->find(kDeltaFields[k]);
          if (t == d->end() || !t->is_string()) continue;
          modified = fields_.Process(fields_.Get(idx, k, k == kJson), t->get_ptr<std::string*>(),
                                     false, scan);
          break;
        }
      }
    } else if (type == "content_block_start") {
      if (auto cb = j.find("content_block"); cb != j.end()) {
        RewriteAllStrings(*cb, rewrite ? s_ : nullptr, scan);
        modified = true;
      }
    } else if (type == "content_block_stop") {
      if (rewrite) FlushBlock(idx, out);
    } else if (type == "message_stop") {
      Flush(out);
      complete_ = true;
    }
    const std::string_view name = ev.event.empty() ? std::string_view(type) : ev.event;
    if (rewrite && modified) {
      AppendSse(name, DumpJson(j), out);
    } else {
      AppendSse(name, ev.data, out);
    }
    return absl::OkStatus();
  }

  static void RewriteAllStrings(json& j, DeidSession* s, std::string* scan) {
    if (j.is_string()) {
      Rewrite(j, s, false, scan);
    } else if (j.is_object()) {
      for (auto it = j.begin(); it != j.end(); ++it) {
        if (it.key() == "type" || it.key() == "id" || it.key() == "name") continue;
        RewriteAllStrings(it.value(), s, scan);
      }
    } else if (j.is_array()) {
      for (auto& v : j) RewriteAllStrings(v, s, scan);
    }
  }
  void FlushBlock(int idx, std::string* out) {
    for (Field& f : fields_.fields()) {
      if (f.owner == idx && !f.tail.empty()) EmitTail(f, out);
    }
  }
  void EmitTail(Field& f, std::string* out) {
    json d;
    const std::string text = fields_.TakeTail(f);
    if (f.sub == kText) d = {{"type", "text_delta"}, {"text", text}};
    if (f.sub == kJson) d = {{"type", "input_json_delta"}, {"partial_json", text}};
    if (f.sub == kThinking) d = {{"type", "thinking_delta"}, {"thinking", text}};
    json e = {{"type", "content_block_delta"}, {"index", f.owner}, {"delta", std::move(d)}};
    AppendSse("content_block_delta", DumpJson(e), out);
  }

  FieldSet fields_;
  DeidSession* s_;
  bool complete_ = false;
  AnthropicEventReader reader_;
};

// The Responses API's stream: typed events (`event: response.output_text.delta`
// and the same "type" in the data), each with a sequence_number. Text comes
// as deltas of one field (an output item's content part, function-call
// arguments, a reasoning summary part), then once whole in the field's
// ".done" event, the part's and the item's ".done" events and the final
// response snapshot. Deltas hold back half a token like the other APIs; the
// whole texts are rewritten as a whole. A tail held back is sent as one more
// delta event of its field before the field's ".done" event; to keep the
// sequence numbers strictly increasing, every later event's number moves up
// by the events added so far. Events are read with nlohmann: a client's
// JSON.parse sees the same tree (a key given twice: the last).
class ResponsesStream : public StreamRewriter {
 public:
  explicit ResponsesStream(DeidSession* s) : fields_(s), s_(s) {}

  // The streamed text fields: their delta event, ".done" event, the member
  // holding the text, and the index member naming the part within the item.
  struct Kind {
    std::string_view delta, done, text, sub_index;
    bool json_escape;
  };
  static constexpr Kind kKinds[] = {
      {"response.output_text.delta", "response.output_text.done", "text", "content_index", false},
      {"response.refusal.delta", "response.refusal.done", "refusal", "content_index", false},
      {"response.function_call_arguments.delta", "response.function_call_arguments.done",
       "arguments", "", true},
      {"response.custom_tool_call_input.delta", "response.custom_tool_call_input.done", "input", "",
       false},
      {"response.reasoning_summary_text.delta", "response.reasoning_summary_text.done", "text",
       "summary_index", false},
      {"response.reasoning_text.delta", "response.reasoning_text.done", "text", "content_index",
       false},
  };
  static constexpr int kNumKinds = sizeof(kKinds) / sizeof(kKinds[0]);
  static constexpr int kMaxSubIndex = 1 << 20;
  static constexpr int64_t kMaxSeq = int64_t{1} << 53;

  Status OnEvent(const SseEvent& ev, std::string* out, std::string* scan) override {
    json j = ParseJson(ev.data);
    if (j.is_discarded() || !j.is_object()) return Malformed();
    std::string type = ev.event;
    if (auto t = j.find("type"); t != j.end()) {
      if (!t->is_string()) return Malformed();
      type = t->get<std::string>();
    }
    if (type == "error" || type == "response.failed") {
      return absl::UnavailableError("the upstream reported an error");
    }
    const std::string name = ev.event.empty() ? type : ev.event;
    int64_t seq = -1;  // the event's own sequence number, -1 without one
    if (auto n = j.find("sequence_number"); n != j.end()) {
      // A number a client's JSON.parse holds exactly (and no overflow when moved up).
      if (!n->is_number_integer() ||
          (n->is_number_unsigned() && n->get<uint64_t>() > static_cast<uint64_t>(kMaxSeq)) ||
          (!n->is_number_unsigned() && (n->get<int64_t>() < 0 || n->get<int64_t>() > kMaxSeq))) {
        return Malformed();
      }
      seq = n->get<int64_t>();
    }
    bool modified = false;
    for (int k = 0; k < kNumKinds; ++k) {
      const Kind& kind = kKinds[k];
      if (type != kind.delta && type != kind.done) continue;
      int owner = 0, sub = 0;
      if (!ReadIndex(j, "output_index", &owner) ||
          (!kind.sub_index.empty() && !ReadIndex(j, kind.sub_index, &sub)) || sub > kMaxSubIndex) {
        return Malformed();
      }
      Field& f = fields_.Get(owner, k + kNumKinds * sub, kind.json_escape);
      Remember(f, j);
      if (type == kind.delta) {
        auto d = j.find("delta");
        if (d == j.end() || !d->is_string()) return Malformed();
        modified = fields_.Process(f, d->get_ptr<std::string*>(), false, scan);
      } else {
        if (!f.tail.empty()) EmitTail(f, seq, out);
        auto t = j.find(kind.text);
        if (t != j.end()) Rewrite(*t, s_, kind.json_escape, scan);
        modified = true;
      }
      break;
    }
    if (type == "response.content_part.added" || type == "response.content_part.done" ||
        type == "response.reasoning_summary_part.added" ||
        type == "response.reasoning_summary_part.done") {
      if (auto p = j.find("part"); p != j.end() && p->is_object()) {
        for (const char* key : {"text", "refusal"}) {
          if (auto t = p->find(key); t != p->end()) Rewrite(*t, s_, false, scan);
        }
        modified = true;
      }
    } else if (type == "response.output_item.added" || type == "response.output_item.done") {
      int owner = 0;
      if (!ReadIndex(j, "output_index", &owner)) return Malformed();
      if (type == "response.output_item.done") FlushOwner(owner, seq, out);
      if (auto item = j.find("item"); item != j.end()) {
        RewriteResponsesItem(*item, s_, scan);
        modified = true;
      }
    } else if (type.rfind("response.", 0) == 0 && j.contains("response")) {
      // response.created / in_progress / queued / completed / incomplete: the
      // response's snapshot. The last ones end the stream.
      const bool terminal = type == "response.completed" || type == "response.incomplete";
      if (terminal) FlushAll(seq, out);
      RewriteResponsesObject(j["response"], s_, scan);
      modified = true;
      complete_ = complete_ || terminal;
    }
    if (seq >= 0 && added_ > 0) {
      j["sequence_number"] = seq + added_;
      modified = true;
    }
    if (seq >= 0) last_seq_ = seq;
    const bool rewrite = s_ != nullptr && s_->has_replacements();
    AppendSse(name, rewrite && modified ? DumpJson(j) : ev.data, out);
    return absl::OkStatus();
  }

  void Flush(std::string* out) override { FlushAll(-1, out); }
  bool complete() const override { return complete_; }
  void AppendError(std::string_view message, std::string* out) override {
    json j = {
        {"type", "error"}, {"code", "upstream_error"}, {"message", message}, {"param", nullptr}};
    if (last_seq_ >= 0) j["sequence_number"] = last_seq_ + added_ + 1;
    AppendSse("error", DumpJson(j), out);
  }

 private:
  static Status Malformed() {
    return absl::DataLossError("the upstream sent a malformed stream event");
  }
  // An index member: absent -> 0; false unless a non-negative integer.
  static bool ReadIndex(const json& j, std::string_view key, int* out) {
    *out = 0;
    auto it = j.find(key);
    return it == j.end() || (IntIndex(*it, out) && *out >= 0);
  }
  // The item id a field's added delta events carry.
  void Remember(const Field& f, const json& j) {
    auto id = j.find("item_id");
    if (id == j.end() || !id->is_string()) return;
    for (auto& [owner, sub, item] : item_ids_) {
      if (owner == f.owner && sub == f.sub) {
        item = id->get<std::string>();
        return;
      }
    }
    item_ids_.emplace_back(f.owner, f.sub, id->get<std::string>());
  }
  // Sends f's held-back tail as one more delta event of its field, numbered
  // before the event `seq` that made it due (-1: after the last event).
  void EmitTail(Field& f, int64_t seq, std::string* out) {
    const Kind& kind = kKinds[f.sub % kNumKinds];
    json e = {{"type", kind.delta}};
    for (const auto& [owner, sub, item] : item_ids_) {
      if (owner == f.owner && sub == f.sub) e["item_id"] = item;
    }
    e["output_index"] = f.owner;
    if (!kind.sub_index.empty()) e[std::string(kind.sub_index)] = f.sub / kNumKinds;
    e["delta"] = fields_.TakeTail(f);
    if (seq >= 0) {
      e["sequence_number"] = seq + added_;
    } else if (last_seq_ >= 0) {
      e["sequence_number"] = last_seq_ + 1 + added_;
    }
    ++added_;
    AppendSse(kind.delta, DumpJson(e), out);
  }
  void FlushOwner(int owner, int64_t seq, std::string* out) {
    for (Field& f : fields_.fields()) {
      if (f.owner == owner && !f.tail.empty()) EmitTail(f, seq, out);
    }
  }
  void FlushAll(int64_t seq, std::string* out) {
    for (Field& f : fields_.fields()) {
      if (!f.tail.empty()) EmitTail(f, seq, out);
    }
  }

  FieldSet fields_;
  DeidSession* s_;
  bool complete_ = false;
  int64_t added_ = 0;      // events added so far (tails sent as deltas of their own)
  int64_t last_seq_ = -1;  // the last upstream sequence number seen
  std::vector<std::tuple<int, int, std::string>> item_ids_;  // field -> item id
};

}  // namespace

std::unique_ptr<StreamRewriter> StreamRewriter::Create(Api api, DeidSession* session) {
  if (IsAnthropic(api)) return std::make_unique<AnthropicStream>(session);
  if (api == Api::kOpenAIResponses) return std::make_unique<ResponsesStream>(session);
  return std::make_unique<OpenAIStream>(session);
}

}  // namespace phigate::gateway
