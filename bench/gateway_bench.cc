// Per-request CPU of the gateway's hot path, without the network: JSON parse,
// detection (the real engine), tokenization (an in-memory vault: the vault's own
// cost is measured by the vault benchmarks), re-serialization, and the
// re-identification of a streamed answer. bench/load/run.sh measures the whole
// server under wrk.
#include <map>
#include <mutex>
#include <string>
#include <vector>

#include "benchmark/benchmark.h"
#include "nlohmann/json.hpp"
#include "phigate/detect/engine.h"
#include "src/gateway/api.h"
#include "src/gateway/deid.h"
#include "src/gateway/sse.h"

namespace phigate::gateway {
namespace {

class EngineDetector : public Detector {
 public:
  EngineDetector() : engine_(detect::Engine::Create({}).value()), ctx_(engine_->NewContext()) {}
  Status Scan(std::string_view text, Findings* out) const override {
    return engine_->Scan(text, *ctx_, out);
  }

 private:
  std::unique_ptr<detect::Engine> engine_;
  std::unique_ptr<detect::ScanContext> ctx_;
};

class MapVault : public TokenVault {
 public:
  Result<std::string> Tokenize(PhiCategory c, std::string_view v, std::string_view) override {
    auto [it, fresh] = map_.try_emplace(std::string(v), "");
    if (fresh) it->second = "[" + std::string(CategoryName(c)) + "_" + std::to_string(n_++) + "X]";
    return it->second;
  }
  Result<std::string> Surrogate(PhiCategory c, std::string_view v, std::string_view s) override {
    return Tokenize(c, v, s);
  }

 private:
  std::map<std::string, std::string> map_;
  int n_ = 0;
};

Decision TokenizeAll() {
  Decision d;
  d.allowed = true;
  d.SetAll(Action::kTokenize);
  return d;
}

// A session that tokenizes every category into an in-memory vault.
struct TokenizingSession {
  explicit TokenizingSession(const Detector& detector) : s(detector, nullptr, &vault, d, "req") {}
  const Decision d = TokenizeAll();
  MapVault vault;
  DeidSession s;
};

// ~4 KB chat request with ~10 synthetic identifiers (as bench/load/gen_fixtures.py).
std::string Request() {
  std::string note =
      "DISCHARGE SUMMARY\nPatient: Orrin Tessaly-Brookmere   DOB: 03/14/1962   MRN: 00482913\n"
      "SSN: 912-45-6789   Phone: (555) 010-0134\nEmail: o.tessaly62@example.com\n"
      "Admitted: 01/03/2024   Discharged: 01/09/2024   Attending: Dr. Velma Ostrander\n";
  while (note.size() < 3900) {
    note +=
        "HOSPITAL COURSE: Chest radiograph showed bilateral pleural effusions. BNP 1,840 "
        "pg/mL. He was diuresed with IV furosemide 40 mg twice daily with net negative 6.2 L. ";
  }
  nlohmann::json j = {{"model", "local-llama"},
                      {"messages",
                       {{{"role", "system"}, {"content", "Summarize the note."}},
                        {{"role", "user"}, {"content", note}}}}};
  return j.dump();
}

void BM_DeidentifyChatRequest(benchmark::State& state) {
  static EngineDetector detector;
  const std::string body = Request();
  const Decision d = TokenizeAll();
  MapVault vault;
  size_t tokens = 0;
  for (auto _ : state) {
    nlohmann::json j = ParseJson(body);
    DeidSession s(detector, nullptr, &vault, d, "req");
    Status st =
        ForEachRequestText(Api::kOpenAIChat, j, [&](std::string* t) { return s.Deidentify(t); });
    benchmark::DoNotOptimize(st);
    std::string out = DumpJson(j);
    benchmark::DoNotOptimize(out);
    tokens = s.stats().tokens_minted;
  }
  state.counters["identifiers"] = static_cast<double>(tokens);
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * body.size()));
}
BENCHMARK(BM_DeidentifyChatRequest);

// A streamed answer whose text deltas are `pieces`, in the API's own event format.
std::string StreamOf(Api api, const std::vector<std::string>& pieces) {
  std::string sse;
  if (api == Api::kAnthropicMessages) {
    AppendSse("message_start",
              R"({"type":"message_start","message":{"id":"msg_1","type":"message",)"
              R"("role":"assistant","model":"m","content":[],"stop_reason":null,)"
              R"("usage":{"input_tokens":1,"output_tokens":1}}})",
              &sse);
    AppendSse(
        "content_block_start",
        R"({"type":"content_block_start","index":0,"content_block":{"type":"text","text":""}})",
        &sse);
  }
  for (const std::string& piece : pieces) {
    nlohmann::json e;
    if (api == Api::kOpenAIChat) {
      e = {{"choices",
            {{{"index", 0}, {"delta", {{"content", piece}}}, {"finish_reason", nullptr}}}}};
      AppendSse("", e.dump(), &sse);
    } else {
      e = {{"type", "content_block_delta"},
           {"index", 0},
           {"delta", {{"type", "text_delta"}, {"text", piece}}}};
      AppendSse("content_block_delta", e.dump(), &sse);
    }
  }
  if (api == Api::kOpenAIChat) {
    sse += "data: [DONE]\n\n";
  } else {
    AppendSse("content_block_stop", R"({"type":"content_block_stop","index":0})", &sse);
    AppendSse(
        "message_delta",
        R"({"type":"message_delta","delta":{"stop_reason":"end_turn"},"usage":{"output_tokens":60}})",
        &sse);
    AppendSse("message_stop", R"({"type":"message_stop"})", &sse);
  }
  return sse;
}

void RewriteStream(benchmark::State& state, Api api, DeidSession& s, const std::string& sse) {
  for (auto _ : state) {
    SseParser p;
    std::vector<SseEvent> events;
    p.Feed(sse, &events);
    auto rw = StreamRewriter::Create(api, &s);
    std::string out, scan;
    for (const SseEvent& e : events) rw->OnEvent(e, &out, &scan).IgnoreError();
    benchmark::DoNotOptimize(out);
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * sse.size()));
}

Api ApiOf(const benchmark::State& state) {
  return state.range(0) == 0 ? Api::kOpenAIChat : Api::kAnthropicMessages;
}

// A streamed answer of 60 text deltas, each 7 bytes of a de-identified
// sentence (so tokens split across events), in the API's own event format:
// range(0) is 0 for OpenAI chat, 1 for Anthropic messages.
void BM_ReidentifyStream(benchmark::State& state) {
  static EngineDetector detector;
  TokenizingSession ts(detector);
  DeidSession& s = ts.s;
  std::string seed = "Patient: Orrin Tessaly-Brookmere MRN: 00482913";
  s.Deidentify(&seed).IgnoreError();
  std::vector<std::string> pieces;
  for (int i = 0; i < 60; ++i) pieces.push_back(seed.substr(i % 20, 7));
  RewriteStream(state, ApiOf(state), s, StreamOf(ApiOf(state), pieces));
}
BENCHMARK(BM_ReidentifyStream)->Arg(0)->Arg(1);

// The answer of bench/load/mock_echo.js (the load test's echo upstream) to the
// ~4 KB request: every token of the request, then a three-line summary, in
// pieces of 4 bytes (about a model token), so most tokens split across events.
void BM_ReidentifyEchoStream(benchmark::State& state) {
  static EngineDetector detector;
  TokenizingSession ts(detector);
  DeidSession& s = ts.s;
  nlohmann::json j = ParseJson(Request());
  ForEachRequestText(Api::kOpenAIChat, j, [&](std::string* t) {
    return s.Deidentify(t);
  }).IgnoreError();
  std::string answer = "Patient and contacts: ";
  const std::vector<std::string> tokens = s.SentReplacements();
  for (size_t i = 0; i < tokens.size(); ++i) answer += (i > 0 ? ", " : "") + tokens[i];
  answer +=
      ".\n- 61M with T2DM, HTN, HLD, CKD 3a admitted for acute on chronic HFrEF (LVEF 35%).\n"
      "- Diuresed with IV furosemide, net -6.2 L.\n- Follow-up: HF clinic, BMP in 1 week.";
  std::vector<std::string> pieces;
  for (size_t i = 0; i < answer.size(); i += 4) pieces.push_back(answer.substr(i, 4));
  state.counters["tokens"] = static_cast<double>(tokens.size());
  state.counters["events"] = static_cast<double>(pieces.size());
  RewriteStream(state, ApiOf(state), s, StreamOf(ApiOf(state), pieces));
}
BENCHMARK(BM_ReidentifyEchoStream)->Arg(0)->Arg(1);

}  // namespace
}  // namespace phigate::gateway

BENCHMARK_MAIN();
