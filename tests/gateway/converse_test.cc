// Bedrock's Converse API: requests translated from OpenAI chat and Anthropic
// messages, answers and ConverseStream events translated back.
#include "src/gateway/converse.h"

#include <string>
#include <utility>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "src/gateway/eventstream.h"
#include "tests/testing/status_matchers.h"

namespace phigate::gateway {
namespace {

using nlohmann::json;
using ::testing::HasSubstr;

TEST(ConverseTest, ChatRequestWithToolsAndHistory) {
  const json body = json::parse(R"({
    "model": "m", "max_completion_tokens": 64, "temperature": 0.2, "stop": "END",
    "tools": [{"type": "function", "function": {"name": "lookup", "description": "find",
               "parameters": {"type": "object", "properties": {"id": {"type": "string"}}}}},
              {"type": "function", "function": {"name": "bare"}}],
    "tool_choice": {"type": "function", "function": {"name": "lookup"}},
    "messages": [
      {"role": "developer", "content": "be brief"},
      {"role": "user", "content": [{"type": "text", "text": "a"}, {"type": "text", "text": "b"}]},
      {"role": "assistant", "content": null, "tool_calls": [
        {"id": "c1", "type": "function", "function": {"name": "lookup", "arguments": "{\"id\":\"7\"}"}},
        {"id": "c2", "type": "function", "function": {"name": "bare", "arguments": ""}}]},
      {"role": "tool", "tool_call_id": "c1", "content": "found"},
      {"role": "tool", "tool_call_id": "c2", "content": [{"type": "text", "text": "none"}]},
      {"role": "user", "content": "next"}]})");
  PHIGATE_ASSERT_OK_AND_ASSIGN(json c, ToConverse(Api::kOpenAIChat, body));
  EXPECT_EQ(c["system"], json::parse(R"([{"text":"be brief"}])"));
  EXPECT_EQ(c["inferenceConfig"],
            json::parse(R"({"maxTokens":64,"temperature":0.2,"stopSequences":["END"]})"));
  ASSERT_EQ(c["messages"].size(), 3u);
  EXPECT_EQ(c["messages"][0], json::parse(R"({"role":"user","content":[{"text":"a\nb"}]})"));
  const json& calls = c["messages"][1]["content"];
  ASSERT_EQ(calls.size(), 2u);  // no empty text block before the calls
  EXPECT_EQ(calls[0]["toolUse"],
            json::parse(R"({"toolUseId":"c1","name":"lookup","input":{"id":"7"}})"));
  EXPECT_EQ(calls[1]["toolUse"]["input"], json::object());
  // The two tool results and the next user turn are one user message.
  const json& results = c["messages"][2]["content"];
  ASSERT_EQ(results.size(), 3u);
  EXPECT_EQ(results[0]["toolResult"],
            json::parse(R"({"toolUseId":"c1","content":[{"text":"found"}]})"));
  EXPECT_EQ(results[1]["toolResult"]["content"][0]["text"], "none");
  EXPECT_EQ(results[2]["text"], "next");
  const json& tools = c["toolConfig"]["tools"];
  EXPECT_EQ(tools[0]["toolSpec"]["name"], "lookup");
  EXPECT_EQ(tools[0]["toolSpec"]["description"], "find");
  EXPECT_EQ(tools[0]["toolSpec"]["inputSchema"]["json"]["properties"]["id"]["type"], "string");
  EXPECT_EQ(tools[1]["toolSpec"]["inputSchema"]["json"]["type"], "object");
  EXPECT_EQ(c["toolConfig"]["toolChoice"], json::parse(R"({"tool":{"name":"lookup"}})"));

  json b = body;
  b["tool_choice"] = "auto";
  EXPECT_EQ(ToConverse(Api::kOpenAIChat, b)->at("toolConfig")["toolChoice"],
            json::parse(R"({"auto":{}})"));
  b["tool_choice"] = "required";
  EXPECT_EQ(ToConverse(Api::kOpenAIChat, b)->at("toolConfig")["toolChoice"],
            json::parse(R"({"any":{}})"));
}

TEST(ConverseTest, ChatRequestsConverseCannotServeAreRefused) {
  const json base = json::parse(R"({"model":"m","messages":[{"role":"user","content":"hi"}]})");
  struct Case {
    const char* patch;
    absl::StatusCode code;
  } cases[] = {
      {R"({"n":2})", absl::StatusCode::kFailedPrecondition},
      {R"({"response_format":{"type":"json_object"}})", absl::StatusCode::kFailedPrecondition},
      {R"({"tool_choice":"none","tools":[{"type":"function","function":{"name":"f"}}]})",
       absl::StatusCode::kFailedPrecondition},
      {R"({"tools":[{"type":"web_search"}]})", absl::StatusCode::kFailedPrecondition},
      {R"({"tool_choice":"auto"})", absl::StatusCode::kInvalidArgument},
      {R"({"tools":"lookup"})", absl::StatusCode::kInvalidArgument},
      {R"({"messages":[{"role":"function","name":"f","content":"x"}]})",
       absl::StatusCode::kFailedPrecondition},
      {R"({"messages":[{"role":"assistant","tool_calls":[{"id":"c","function":{"name":"f",)"
       R"("arguments":"not json"}}]}]})",
       absl::StatusCode::kInvalidArgument},
      {R"({"messages":[{"role":"assistant","tool_calls":[{"function":{"name":"f"}}]}]})",
       absl::StatusCode::kInvalidArgument},
      {R"({"messages":[{"role":"tool","content":"x"}]})", absl::StatusCode::kInvalidArgument},
  };
  for (const Case& c : cases) {
    json body = base;
    body.merge_patch(json::parse(c.patch));
    EXPECT_EQ(ToConverse(Api::kOpenAIChat, body).status().code(), c.code) << c.patch;
  }
  // The refusal names no client text (a role or block type may be anything).
  json odd = base;
  odd.merge_patch(json::parse(R"({"messages":[{"role":"Quill Smith","content":"x"}]})"));
  EXPECT_THAT(std::string(ToConverse(Api::kOpenAIChat, odd).status().message()),
              Not(HasSubstr("Quill")));
  json odd_block = json::parse(
      R"({"messages":[{"role":"user","content":[{"type":"Quill Smith","text":"x"}]}]})");
  EXPECT_THAT(std::string(ToConverse(Api::kAnthropicMessages, odd_block).status().message()),
              Not(HasSubstr("Quill")));

  json ok = base;
  ok.merge_patch(json::parse(R"({"n":1,"response_format":{"type":"text"}})"));
  EXPECT_TRUE(ToConverse(Api::kOpenAIChat, ok).ok());
  EXPECT_EQ(ToConverse(Api::kOpenAIResponses, base).status().code(),
            absl::StatusCode::kFailedPrecondition);
}

TEST(ConverseTest, MessagesRequestWithToolsThinkingAndParameters) {
  const json body = json::parse(R"({
    "model": "m", "max_tokens": 99, "top_p": 0.9, "top_k": 5, "stop_sequences": ["X"],
    "thinking": {"type": "enabled", "budget_tokens": 1024},
    "system": [{"type": "text", "text": "s1", "cache_control": {"type": "ephemeral"}}],
    "tools": [{"name": "lookup", "input_schema": {"type": "object"}}],
    "tool_choice": {"type": "any"},
    "messages": [
      {"role": "user", "content": "find"},
      {"role": "assistant", "content": [
        {"type": "thinking", "thinking": "hm", "signature": "sig=="},
        {"type": "text", "text": "ok"},
        {"type": "tool_use", "id": "t1", "name": "lookup", "input": {"q": "a"}}]},
      {"role": "user", "content": [
        {"type": "tool_result", "tool_use_id": "t1", "is_error": true, "content": "boom"},
        {"type": "tool_result", "tool_use_id": "t1",
         "content": [{"type": "text", "text": "r"}]}]}]})");
  PHIGATE_ASSERT_OK_AND_ASSIGN(json c, ToConverse(Api::kAnthropicMessages, body));
  EXPECT_EQ(c["system"], json::parse(R"([{"text":"s1"}])"));
  EXPECT_EQ(c["inferenceConfig"],
            json::parse(R"({"maxTokens":99,"topP":0.9,"stopSequences":["X"]})"));
  EXPECT_EQ(c["additionalModelRequestFields"]["top_k"], 5);
  EXPECT_EQ(c["additionalModelRequestFields"]["thinking"]["budget_tokens"], 1024);
  const json& a = c["messages"][1]["content"];
  EXPECT_EQ(a[0]["reasoningContent"]["reasoningText"],
            json::parse(R"({"text":"hm","signature":"sig=="})"));
  EXPECT_EQ(a[1]["text"], "ok");
  EXPECT_EQ(a[2]["toolUse"],
            json::parse(R"({"toolUseId":"t1","name":"lookup","input":{"q":"a"}})"));
  const json& r = c["messages"][2]["content"];
  EXPECT_EQ(r[0]["toolResult"]["status"], "error");
  EXPECT_EQ(r[0]["toolResult"]["content"][0]["text"], "boom");
  EXPECT_EQ(r[1]["toolResult"]["status"], "success");
  EXPECT_EQ(c["toolConfig"]["tools"][0]["toolSpec"]["inputSchema"]["json"]["type"], "object");
  EXPECT_EQ(c["toolConfig"]["toolChoice"], json::parse(R"({"any":{}})"));

  for (const char* patch :
       {R"({"tool_choice":{"type":"none"}})", R"({"tools":[{"type":"web_search_20250305"}]})",
        R"({"messages":[{"role":"user","content":[{"type":"image","source":{}}]}]})"}) {
    json b = body;
    b.merge_patch(json::parse(patch));
    EXPECT_EQ(ToConverse(Api::kAnthropicMessages, b).status().code(),
              absl::StatusCode::kFailedPrecondition)
        << patch;
  }
  for (const char* patch :
       {R"({"messages":[{"role":"system","content":"x"}]})", R"({"messages":[{"role":"user"}]})",
        R"({"messages":[{"role":"user","content":[{"type":"tool_use","id":"t"}]}]})",
        R"({"tools":null,"tool_choice":{"type":"auto"}})"}) {
    json b = body;
    b.merge_patch(json::parse(patch));
    EXPECT_EQ(ToConverse(Api::kAnthropicMessages, b).status().code(),
              absl::StatusCode::kInvalidArgument)
        << patch;
  }
}

TEST(ConverseTest, AnswersWithToolUseAndReasoning) {
  const json c = json::parse(R"({"output":{"message":{"role":"assistant","content":[
      {"reasoningContent":{"reasoningText":{"text":"think","signature":"s"}}},
      {"text":"Calling."},
      {"toolUse":{"toolUseId":"t9","name":"lookup","input":{"q":"x"}}}]}},
    "stopReason":"tool_use","usage":{"inputTokens":3,"outputTokens":4,"totalTokens":7}})");
  PHIGATE_ASSERT_OK_AND_ASSIGN(json oa, FromConverse(Api::kOpenAIChat, c, "claude"));
  const json& m = oa["choices"][0]["message"];
  EXPECT_EQ(m["content"], "Calling.");  // reasoning has no place in chat completions
  EXPECT_EQ(m["tool_calls"][0]["id"], "t9");
  EXPECT_EQ(json::parse(m["tool_calls"][0]["function"]["arguments"].get<std::string>()),
            json::parse(R"({"q":"x"})"));
  EXPECT_EQ(oa["choices"][0]["finish_reason"], "tool_calls");

  PHIGATE_ASSERT_OK_AND_ASSIGN(json an, FromConverse(Api::kAnthropicMessages, c, "claude"));
  ASSERT_EQ(an["content"].size(), 3u);
  EXPECT_EQ(an["content"][0],
            json::parse(R"({"type":"thinking","thinking":"think","signature":"s"})"));
  EXPECT_EQ(an["content"][1], json::parse(R"({"type":"text","text":"Calling."})"));
  EXPECT_EQ(an["content"][2],
            json::parse(R"({"type":"tool_use","id":"t9","name":"lookup","input":{"q":"x"}})"));
  EXPECT_EQ(an["stop_reason"], "tool_use");
  EXPECT_EQ(an["usage"], json::parse(R"({"input_tokens":3,"output_tokens":4})"));
  EXPECT_EQ(an["model"], "claude");

  // Only tool calls: OpenAI's content is null. A guardrail is a content filter / refusal.
  const json only = json::parse(R"({"output":{"message":{"content":[
      {"toolUse":{"toolUseId":"t","name":"f","input":{}}}]}},"stopReason":"guardrail_intervened"})");
  EXPECT_TRUE(
      FromConverse(Api::kOpenAIChat, only, "m")->at("choices")[0]["message"]["content"].is_null());
  EXPECT_EQ(FromConverse(Api::kOpenAIChat, only, "m")->at("choices")[0]["finish_reason"],
            "content_filter");
  EXPECT_EQ(FromConverse(Api::kAnthropicMessages, only, "m")->at("stop_reason"), "refusal");
}

// Anthropic's token count through Bedrock's CountTokens: what Converse would
// be given, without the inference parameters; the count back in Anthropic's shape.
TEST(ConverseTest, TokenCount) {
  const json body = json::parse(R"({"model":"m","max_tokens":9,"system":"s",
    "tools":[{"name":"f","input_schema":{"type":"object"}}],
    "messages":[{"role":"user","content":"hi"}]})");
  PHIGATE_ASSERT_OK_AND_ASSIGN(json c, ToConverse(Api::kAnthropicCountTokens, body));
  const json& in = c["input"]["converse"];
  EXPECT_EQ(in["messages"][0]["content"][0]["text"], "hi");
  EXPECT_EQ(in["system"][0]["text"], "s");
  EXPECT_EQ(in["toolConfig"]["tools"][0]["toolSpec"]["name"], "f");
  EXPECT_FALSE(in.contains("inferenceConfig"));
  EXPECT_EQ(c.size(), 1u);
  PHIGATE_ASSERT_OK_AND_ASSIGN(
      json n, FromConverse(Api::kAnthropicCountTokens, json::parse(R"({"inputTokens":42})"), "m"));
  EXPECT_EQ(n, json::parse(R"({"input_tokens":42})"));
  for (const char* bad : {R"({})", R"({"inputTokens":"42"})", R"([42])"}) {
    EXPECT_EQ(FromConverse(Api::kAnthropicCountTokens, json::parse(bad), "m").status().code(),
              absl::StatusCode::kDataLoss)
        << bad;
  }
}

// ConverseStream ---------------------------------------------------------

std::string Frame(const std::string& type, const json& payload,
                  const std::string& message_type = "event") {
  return eventstream::Encode({{":event-type", type},
                              {":content-type", "application/json"},
                              {":message-type", message_type}},
                             payload.dump());
}

// A text block, a tool call and the usage, as Bedrock streams them.
std::string ToolAnswerStream(bool with_metadata = true) {
  std::string s = Frame("messageStart", {{"role", "assistant"}});
  for (const char* t : {"Hel", "lo"}) {
    s += Frame("contentBlockDelta",
               {{"contentBlockIndex", 0}, {"delta", {{"text", t}}}, {"p", "ab"}});
  }
  s += Frame("contentBlockStop", {{"contentBlockIndex", 0}});
  s += Frame("contentBlockStart",
             {{"contentBlockIndex", 1},
              {"start", {{"toolUse", {{"toolUseId", "t9"}, {"name", "lookup"}}}}}});
  for (const char* t : {"{\"q\":", "\"x\"}"}) {
    s += Frame("contentBlockDelta",
               {{"contentBlockIndex", 1}, {"delta", {{"toolUse", {{"input", t}}}}}});
  }
  s += Frame("contentBlockStop", {{"contentBlockIndex", 1}});
  s += Frame("messageStop", {{"stopReason", "tool_use"}});
  if (with_metadata) {
    s +=
        Frame("metadata", {{"usage", {{"inputTokens", 3}, {"outputTokens", 4}, {"totalTokens", 7}}},
                           {"metrics", {{"latencyMs", 5}}}});
  }
  return s;
}

std::vector<SseEvent> Translate(Api api, std::string_view bytes, size_t piece, Status* feed,
                                Status* finish, bool include_usage = true) {
  ConverseStream cs(api, "claude", include_usage);
  std::vector<SseEvent> out;
  *feed = absl::OkStatus();
  for (size_t i = 0; i < bytes.size() && feed->ok(); i += piece) {
    *feed = cs.Feed(bytes.substr(i, piece), &out);
  }
  *finish = feed->ok() ? cs.Finish(&out) : absl::OkStatus();
  return out;
}

std::string Joined(const std::vector<SseEvent>& events) {
  std::string s;
  for (const SseEvent& e : events) AppendSse(e.event, e.data, &s);
  return s;
}

TEST(ConverseStreamTest, OpenAIChunksWhateverTheSplit) {
  const std::string bytes = ToolAnswerStream();
  Status feed, finish;
  const std::vector<SseEvent> whole =
      Translate(Api::kOpenAIChat, bytes, bytes.size(), &feed, &finish);
  PHIGATE_ASSERT_OK(feed);
  PHIGATE_ASSERT_OK(finish);
  std::vector<json> chunks;
  for (const SseEvent& e : whole) {
    EXPECT_EQ(e.event, "");
    if (e.data != "[DONE]") chunks.push_back(json::parse(e.data));
  }
  EXPECT_EQ(whole.back().data, "[DONE]");
  ASSERT_EQ(chunks.size(), 8u);
  EXPECT_EQ(chunks[0]["choices"][0]["delta"]["role"], "assistant");
  EXPECT_EQ(chunks[1]["choices"][0]["delta"]["content"], "Hel");
  EXPECT_EQ(chunks[2]["choices"][0]["delta"]["content"], "lo");
  EXPECT_EQ(chunks[3]["choices"][0]["delta"]["tool_calls"][0],
            json::parse(R"({"index":0,"id":"t9","type":"function",
                            "function":{"name":"lookup","arguments":""}})"));
  EXPECT_EQ(chunks[4]["choices"][0]["delta"]["tool_calls"][0]["function"]["arguments"], "{\"q\":");
  EXPECT_EQ(chunks[6]["choices"][0]["finish_reason"], "tool_calls");
  EXPECT_TRUE(chunks[7]["choices"].empty());
  EXPECT_EQ(chunks[7]["usage"]["total_tokens"], 7);
  for (const json& c : chunks) EXPECT_EQ(c["model"], "claude");
  // The same events from the bytes cut anywhere.
  for (size_t piece : {1u, 2u, 7u, 64u}) {
    const std::vector<SseEvent> split = Translate(Api::kOpenAIChat, bytes, piece, &feed, &finish);
    PHIGATE_EXPECT_OK(feed);
    PHIGATE_EXPECT_OK(finish);
    EXPECT_EQ(Joined(split), Joined(whole)) << piece;
  }
  // Without include_usage, no usage chunk.
  const auto no_usage = Translate(Api::kOpenAIChat, bytes, bytes.size(), &feed, &finish, false);
  EXPECT_EQ(no_usage.size(), whole.size() - 1);
  EXPECT_THAT(Joined(no_usage), Not(HasSubstr("total_tokens")));
}

TEST(ConverseStreamTest, AnthropicEventsWithImplicitTextBlocksAndThinking) {
  Status feed, finish;
  std::string good = Frame("messageStart", {{"role", "assistant"}});
  good += Frame("contentBlockDelta",
                {{"contentBlockIndex", 0}, {"delta", {{"reasoningContent", {{"text", "hm"}}}}}});
  good += Frame("contentBlockDelta", {{"contentBlockIndex", 0},
                                      {"delta", {{"reasoningContent", {{"signature", "sg"}}}}}});
  good += Frame("contentBlockStop", {{"contentBlockIndex", 0}});
  good += Frame("contentBlockDelta", {{"contentBlockIndex", 1}, {"delta", {{"text", "Hi"}}}});
  good += Frame("contentBlockStop", {{"contentBlockIndex", 1}});
  good += Frame("contentBlockStop", {{"contentBlockIndex", 2}});  // an empty block
  good += Frame("messageStop", {{"stopReason", "max_tokens"}});
  good += Frame("metadata", {{"usage", {{"inputTokens", 3}, {"outputTokens", 4}}}});
  const std::vector<SseEvent> ev = Translate(Api::kAnthropicMessages, good, 5, &feed, &finish);
  PHIGATE_ASSERT_OK(feed);
  PHIGATE_ASSERT_OK(finish);
  std::vector<std::string> types;
  for (const SseEvent& e : ev) {
    const json j = json::parse(e.data);
    EXPECT_EQ(j["type"], e.event);
    types.push_back(e.event);
  }
  EXPECT_EQ(types, (std::vector<std::string>{
                       "message_start", "content_block_start", "content_block_delta",
                       "content_block_delta", "content_block_stop", "content_block_start",
                       "content_block_delta", "content_block_stop", "content_block_start",
                       "content_block_stop", "message_delta", "message_stop"}));
  EXPECT_EQ(json::parse(ev[0].data)["message"]["model"], "claude");
  EXPECT_EQ(json::parse(ev[1].data)["content_block"]["type"], "thinking");
  EXPECT_EQ(json::parse(ev[2].data)["delta"],
            json::parse(R"({"type":"thinking_delta","thinking":"hm"})"));
  EXPECT_EQ(json::parse(ev[3].data)["delta"],
            json::parse(R"({"type":"signature_delta","signature":"sg"})"));
  EXPECT_EQ(json::parse(ev[5].data)["content_block"], json::parse(R"({"type":"text","text":""})"));
  EXPECT_EQ(json::parse(ev[6].data)["index"], 1);
  EXPECT_EQ(json::parse(ev[10].data)["delta"]["stop_reason"], "max_tokens");
  EXPECT_EQ(json::parse(ev[10].data)["usage"]["output_tokens"], 4);

  // OpenAI has no place for the reasoning: only the text reaches the client.
  // A delta for a block that was closed is malformed.
  const std::string closed =
      Frame("messageStart", {{"role", "assistant"}}) +
      Frame("contentBlockDelta", {{"contentBlockIndex", 1}, {"delta", {{"text", "Hi"}}}}) +
      Frame("contentBlockStop", {{"contentBlockIndex", 1}}) +
      Frame("contentBlockDelta", {{"contentBlockIndex", 1}, {"delta", {{"text", "late"}}}});
  Translate(Api::kAnthropicMessages, closed, 7, &feed, &finish);
  EXPECT_EQ(feed.code(), absl::StatusCode::kDataLoss);

  const std::vector<SseEvent> oa = Translate(Api::kOpenAIChat, good, 5, &feed, &finish);
  PHIGATE_ASSERT_OK(feed);
  EXPECT_THAT(Joined(oa), Not(HasSubstr("hm")));
  EXPECT_THAT(Joined(oa), HasSubstr(R"("content":"Hi")"));
  EXPECT_THAT(Joined(oa), HasSubstr(R"("finish_reason":"length")"));
}

TEST(ConverseStreamTest, EndsErrorsAndMalformedEvents) {
  Status feed, finish;
  // Usage missing after messageStop: the stream still ends.
  for (Api api : {Api::kOpenAIChat, Api::kAnthropicMessages}) {
    const auto ev = Translate(api, ToolAnswerStream(false), 9, &feed, &finish);
    PHIGATE_EXPECT_OK(feed);
    PHIGATE_EXPECT_OK(finish);
    EXPECT_EQ(ev.back().data, api == Api::kOpenAIChat ? "[DONE]" : R"({"type":"message_stop"})");
  }
  // Cut before messageStop, inside it, or inside the usage frame after it:
  // the answer is truncated.
  const std::string whole = ToolAnswerStream();
  const std::string to_stop = ToolAnswerStream(false);
  const size_t stop_frame = Frame("messageStop", {{"stopReason", "tool_use"}}).size();
  for (size_t cut : {to_stop.size() - stop_frame, to_stop.size() - 5, whole.size() - 3}) {
    Translate(Api::kOpenAIChat, whole.substr(0, cut), 11, &feed, &finish);
    PHIGATE_EXPECT_OK(feed);
    EXPECT_EQ(finish.code(), absl::StatusCode::kDataLoss) << cut;
  }
  // An exception: Unavailable, after the events before it.
  {
    std::string bytes =
        Frame("messageStart", {{"role", "assistant"}}) +
        Frame("contentBlockDelta", {{"contentBlockIndex", 0}, {"delta", {{"text", "A"}}}}) +
        eventstream::Encode(
            {{":exception-type", "modelStreamErrorException"}, {":message-type", "exception"}},
            R"({"message":"Quill said no"})");
    ConverseStream cs(Api::kOpenAIChat, "m", false);
    std::vector<SseEvent> out;
    EXPECT_EQ(cs.Feed(bytes, &out).code(), absl::StatusCode::kUnavailable);
    ASSERT_EQ(out.size(), 2u);
    EXPECT_THAT(out[1].data, HasSubstr(R"("content":"A")"));
    EXPECT_THAT(Joined(out), Not(HasSubstr("Quill")));
  }
  // Malformed events.
  const std::string start = Frame("messageStart", {{"role", "assistant"}});
  const std::pair<Api, std::string> bad[] = {
      {Api::kOpenAIChat, Frame("contentBlockDelta", {{"delta", {{"text", "x"}}}})},  // no start
      {Api::kOpenAIChat, start + start},
      {Api::kOpenAIChat,
       start + Frame("contentBlockDelta", {{"contentBlockIndex", -1}, {"delta", {{"text", "x"}}}})},
      {Api::kOpenAIChat, start + Frame("contentBlockDelta",
                                       {{"contentBlockIndex", 99999}, {"delta", {{"text", "x"}}}})},
      {Api::kOpenAIChat, start + Frame("contentBlockDelta", {{"delta", {{"text", 5}}}})},
      {Api::kOpenAIChat, start + Frame("contentBlockDelta", {{"delta", 5}})},
      {Api::kOpenAIChat,
       start + Frame("contentBlockDelta",
                     {{"contentBlockIndex", 1}, {"delta", {{"toolUse", {{"input", "{"}}}}}})},
      {Api::kAnthropicMessages,
       start + Frame("contentBlockDelta",
                     {{"contentBlockIndex", 1}, {"delta", {{"toolUse", {{"input", "{"}}}}}})},
      {Api::kAnthropicMessages,
       start + Frame("contentBlockStart",
                     {{"contentBlockIndex", 0}, {"start", {{"toolUse", {{"toolUseId", 1}}}}}})},
      {Api::kOpenAIChat,
       start + eventstream::Encode(
                   {{":event-type", "contentBlockDelta"}, {":message-type", "event"}}, "not json")},
      {Api::kOpenAIChat, start + eventstream::Encode({{":event-type", "contentBlockDelta"}}, "{}")},
      {Api::kOpenAIChat, start + std::string(16, '\x7f')},  // not a frame
  };
  for (const auto& [api, bytes] : bad) {
    ConverseStream cs(api, "m", false);
    std::vector<SseEvent> out;
    EXPECT_EQ(cs.Feed(bytes, &out).code(), absl::StatusCode::kDataLoss) << bytes;
    EXPECT_FALSE(cs.done());
  }
  // An event type Bedrock may add later is skipped.
  {
    ConverseStream cs(Api::kOpenAIChat, "m", false);
    std::vector<SseEvent> out;
    PHIGATE_EXPECT_OK(cs.Feed(
        start + Frame("futureEvent", {{"x", 1}}) + ToolAnswerStream().substr(start.size()), &out));
    PHIGATE_EXPECT_OK(cs.Finish(&out));
    EXPECT_TRUE(cs.done());
  }
}

}  // namespace
}  // namespace phigate::gateway
