// Fuzzes the gateway's untrusted inputs: request bodies through the text
// walkers of every API, SSE bytes from an upstream through the parser and the
// stream rewriters, JSON from a vendor through the Bedrock conversions, and
// Bedrock stream events (each input line "eventType<TAB>payload", framed as
// an event stream) through ConverseStream and the rewriters. Properties: no crash (no exception);
// every visited string is valid JSON-string content; a rewriter never emits a partial replacement;
// the gateway's ParseJson / DumpJson give what nlohmann gives.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "nlohmann/json.hpp"
#include "src/gateway/api.h"
#include "src/gateway/converse.h"
#include "src/gateway/deid.h"
#include "src/gateway/eventstream.h"
#include "src/gateway/sse.h"
#include "src/gateway/vendors.h"

namespace {

using namespace phigate;
using namespace phigate::gateway;

class OneWordDetector : public Detector {
 public:
  Status Scan(std::string_view text, Findings* out) const override {
    out->clear();
    for (size_t i = text.find("Quill"); i != std::string_view::npos;
         i = text.find("Quill", i + 5)) {
      out->push_back(Finding{PhiCategory::kName, i, i + 5, 0.9f, "fuzz"});
    }
    return absl::OkStatus();
  }
};

class CountingVault : public TokenVault {
 public:
  Result<std::string> Tokenize(PhiCategory, std::string_view, std::string_view) override {
    return std::string("[NAME_7QK2X]");
  }
  Result<std::string> Surrogate(PhiCategory, std::string_view, std::string_view) override {
    return std::string("Mark Ellis");
  }
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size > 64 * 1024) return 0;
  const std::string_view in(reinterpret_cast<const char*>(data), size);
  OneWordDetector detector;
  CountingVault vault;
  Decision decision;
  decision.allowed = true;
  decision.SetAll(Action::kTokenize);
  DeidSession session(detector, nullptr, &vault, decision, "fuzz");

  // 0. ParseJson and DumpJson against nlohmann.
  {
    const nlohmann::json fast = ParseJson(in);
    const nlohmann::json slow = nlohmann::json::parse(in, nullptr, false);
    if (fast.is_discarded() != slow.is_discarded()) __builtin_trap();
    if (!slow.is_discarded() &&
        (fast != slow ||
         DumpJson(slow) != slow.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace))) {
      __builtin_trap();
    }
  }

  // 1. Request bodies.
  for (Api api : {Api::kOpenAIChat, Api::kOpenAIEmbeddings, Api::kAnthropicMessages,
                  Api::kOpenAIResponses, Api::kAnthropicCountTokens}) {
    nlohmann::json body = nlohmann::json::parse(in, nullptr, false);
    if (body.is_discarded()) break;
    ForEachRequestText(api, body, [&](std::string* s) {
      return session.Deidentify(s);
    }).IgnoreError();
    (void)DumpJson(body);
    std::string scan;
    RewriteResponse(api, body, &session, &scan);
  }
  // 2. SSE bytes through the parser and every rewriter, split in two at a byte.
  std::string seeded = "Quill";
  session.Deidentify(&seeded).IgnoreError();
  for (Api api : {Api::kOpenAIChat, Api::kAnthropicMessages, Api::kOpenAIResponses}) {
    SseParser parser;
    auto rw = StreamRewriter::Create(api, &session);
    std::vector<SseEvent> events;
    const size_t cut = size / 2;
    parser.Feed(in.substr(0, cut), &events);
    parser.Feed(in.substr(cut), &events);
    std::string out, scan;
    for (const SseEvent& e : events) {
      if (!rw->OnEvent(e, &out, &scan).ok()) break;
    }
    rw->Flush(&out);
  }
  // 3. Vendor answers as the gateway converts them: errors, never exceptions.
  {
    const nlohmann::json j = ParseJson(in);
    for (Api api : {Api::kOpenAIChat, Api::kAnthropicMessages}) {
      (void)FromConverse(api, j, "m");
      (void)ToConverse(api, j);
    }
  }
  // 4. Bedrock stream events, framed, fed in two parts, through the rewriter.
  {
    std::string frames;
    for (size_t pos = 0; pos < in.size();) {
      size_t nl = in.find('\n', pos);
      if (nl == std::string_view::npos) nl = in.size();
      const std::string_view line = in.substr(pos, nl - pos);
      pos = nl + 1;
      const size_t tab = line.find('\t');
      if (tab == std::string_view::npos) continue;
      frames += eventstream::Encode({{":event-type", std::string(line.substr(0, tab))},
                                     {":content-type", "application/json"},
                                     {":message-type", "event"}},
                                    line.substr(tab + 1));
    }
    for (Api api : {Api::kOpenAIChat, Api::kAnthropicMessages}) {
      ConverseStream cs(api, "m", true);
      auto rw = StreamRewriter::Create(api, &session);
      std::vector<SseEvent> events;
      const size_t cut = frames.size() / 2;
      bool ok = cs.Feed(std::string_view(frames).substr(0, cut), &events).ok() &&
                cs.Feed(std::string_view(frames).substr(cut), &events).ok();
      if (ok) ok = cs.Finish(&events).ok();
      std::string out, scan;
      for (const SseEvent& e : events) {
        if (!rw->OnEvent(e, &out, &scan).ok()) break;
      }
      rw->Flush(&out);
      // A stream that ended well ends the client's stream too.
      if (ok && !events.empty() && !rw->complete()) __builtin_trap();
    }
  }
  return 0;
}
