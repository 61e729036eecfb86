// AWS Bedrock's Converse API. An inbound OpenAI chat or Anthropic messages
// request (already de-identified) becomes a Converse request; the answer comes
// back in the inbound API's shape: whole (Converse), or event by event
// (ConverseStream's binary event stream, decoded by src/gateway/eventstream.h
// and turned into the inbound API's SSE events, which the API's
// StreamRewriter then re-identifies like any other vendor's stream).
//
// Text, tool use (tool definitions, tool choice, calls and results) and
// reasoning are translated. What Converse cannot express the way the client
// asked is refused (FailedPrecondition), never dropped: several choices,
// tool_choice "none", JSON response formats, server tools.
#ifndef PHIGATE_SRC_GATEWAY_CONVERSE_H_
#define PHIGATE_SRC_GATEWAY_CONVERSE_H_

#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "nlohmann/json.hpp"
#include "phigate/core/status.h"
#include "src/gateway/api.h"
#include "src/gateway/eventstream.h"
#include "src/gateway/sse.h"

namespace phigate::gateway {

// The Converse request body for an inbound chat (kOpenAIChat) or messages
// (kAnthropicMessages) body; for a token count (kAnthropicCountTokens), the
// body of Bedrock's CountTokens ({"input": {"converse": ...}}). InvalidArgument for a malformed
// body (a message without a role, tool-call arguments that are no JSON object), FailedPrecondition
// for what Converse does not offer.
Result<nlohmann::json> ToConverse(Api api, const nlohmann::json& body);

// A Converse answer as an OpenAI chat completion or an Anthropic message
// (`model`: the model the client asked for), a CountTokens answer as
// Anthropic's token count. DataLoss when malformed.
Result<nlohmann::json> FromConverse(Api api, const nlohmann::json& converse,
                                    std::string_view model);

// ConverseStream's answer as the inbound API's stream: OpenAI chat chunks
// ending with "[DONE]", or Anthropic's message_start ... message_stop.
// Nothing is buffered beyond the event-stream message being decoded.
class ConverseStream {
 public:
  // `include_usage`: an OpenAI client asked for a usage chunk
  // (stream_options.include_usage).
  ConverseStream(Api api, std::string model, bool include_usage);

  // Decodes event-stream bytes (split anywhere) and appends the SSE events of
  // every message they complete. Unavailable when the upstream sent an
  // exception or error message; DataLoss for malformed bytes or an event of
  // the wrong shape. Events appended before the failure are good ones.
  Status Feed(std::string_view bytes, std::vector<SseEvent>* out);
  // The upstream body ended. Appends the end of the stream when the answer
  // had ended (messageStop) but the usage event did not come; DataLoss when
  // the answer was cut before its end.
  Status Finish(std::vector<SseEvent>* out);
  // True once the stream's terminal event was appended.
  bool done() const { return done_; }

 private:
  Status OnMessage(const eventstream::Message& m, std::vector<SseEvent>* out);
  // An OpenAI chunk's id, object, created and model.
  nlohmann::json ChunkBase() const;
  void Chunk(nlohmann::json delta, const nlohmann::json& finish, std::vector<SseEvent>* out) const;
  void Event(std::string_view type, nlohmann::json data, std::vector<SseEvent>* out) const;
  // Anthropic: opens block `index` as `type` unless it is open already;
  // DataLoss when it was closed.
  Status OpenBlock(int64_t index, std::string_view type, std::vector<SseEvent>* out);
  void End(const nlohmann::json* usage, std::vector<SseEvent>* out);

  Api api_;
  std::string model_;
  bool include_usage_;
  int64_t created_;
  eventstream::Decoder decoder_;
  std::vector<eventstream::Message> messages_;
  bool started_ = false;
  bool stopped_ = false;  // messageStop seen
  bool done_ = false;
  std::string stop_reason_;
  // OpenAI: Converse block index -> tool_calls index.
  std::map<int64_t, int> tool_index_;
  // Anthropic: the blocks started, open or closed.
  enum class Block : uint8_t { kOpen, kClosed };
  std::map<int64_t, Block> blocks_;
};

}  // namespace phigate::gateway

#endif  // PHIGATE_SRC_GATEWAY_CONVERSE_H_
