// The inbound APIs phigate speaks: OpenAI chat completions, responses and
// embeddings, Anthropic messages and their token count. For each: which JSON fields carry text (to
// de-identify), how answers are re-identified (whole or streamed), and the API's own error format.
#ifndef PHIGATE_SRC_GATEWAY_API_H_
#define PHIGATE_SRC_GATEWAY_API_H_

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>

#include "nlohmann/json.hpp"
#include "phigate/core/status.h"
#include "phigate/gateway/config.h"
#include "src/gateway/deid.h"
#include "src/gateway/json_io.h"
#include "src/gateway/sse.h"

namespace phigate::gateway {

enum class Api : uint8_t {
  kOpenAIChat = 0,
  kOpenAIEmbeddings = 1,
  kAnthropicMessages = 2,
  kOpenAIResponses = 3,
  kAnthropicCountTokens = 4,  // /v1/messages/count_tokens: the messages' text, a count back
};
inline constexpr size_t kNumApis = 5;
// "openai.chat", "openai.embeddings", "anthropic.messages", "openai.responses",
// "anthropic.count_tokens"
std::string_view ApiName(Api api);
// The policy's endpoint: "chat/completions", ...; a token count is decided as
// "messages" (the same text to the same vendor product).
std::string_view ApiEndpoint(Api api);
// The endpoint a vendor of `kind` is called at for `api`, as the policy (and
// its BAAs) names it: Bedrock serves chat, messages and the token count
// through "converse" (Converse, ConverseStream, CountTokens).
std::string_view VendorEndpoint(VendorKind kind, Api api);
inline bool IsAnthropic(Api api) {
  return api == Api::kAnthropicMessages || api == Api::kAnthropicCountTokens;
}

// The error body in the API's own JSON format. `message` must be PHI-free.
std::string ErrorJson(Api api, int http_status, std::string_view message);

// Calls fn on every text-bearing string of a request body (messages, system
// prompts, tool-call arguments, tool results, embedding inputs) and then on
// every other string value the vendor would receive (tool definitions, stop
// sequences, schemas, citations, unknown fields), except API vocabulary
// ("role": "user", "type": "text", the model's name) and the provider's
// opaque thinking signatures. Object keys are not text. InvalidArgument for
// content that cannot be de-identified (images, token arrays) or a bad shape.
using TextFn = std::function<Status(std::string*)>;
Status ForEachRequestText(Api api, nlohmann::json& body, const TextFn& fn);

// Re-identifies a complete answer in place when `session` is not null, and
// appends its de-identified text to *scan_text (for the leak scanner).
void RewriteResponse(Api api, nlohmann::json& body, DeidSession* session, std::string* scan_text);

// Rewrites a streamed answer event by event. Text held back (half a token) is
// emitted with the next delta of the same field or when the field ends.
class StreamRewriter {
 public:
  // `session` null: no re-identification (the caller may not see PHI).
  static std::unique_ptr<StreamRewriter> Create(Api api, DeidSession* session);
  virtual ~StreamRewriter() = default;
  // Appends the client events for one upstream event to *out and the
  // de-identified answer text to *scan_text. Unavailable when the upstream sent
  // an error event, DataLoss for a malformed one: the caller ends the stream.
  virtual Status OnEvent(const SseEvent& event, std::string* out, std::string* scan_text) = 0;
  // Emits every held-back tail. The terminal event does this by itself; the
  // gateway drops the tail of a stream that failed (the fuzzer calls this).
  virtual void Flush(std::string* out) = 0;
  // True once the upstream's terminal event ([DONE] / message_stop) was seen.
  virtual bool complete() const = 0;
  // An SSE error event in the API's streaming format.
  virtual void AppendError(std::string_view message, std::string* out) = 0;
};

}  // namespace phigate::gateway

#endif  // PHIGATE_SRC_GATEWAY_API_H_
