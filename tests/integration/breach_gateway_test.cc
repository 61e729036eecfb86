// The breach detectors in the gateway's answer path (BreachLeakScanner): the
// whole gateway on 127.0.0.1:0 against a FakeUpstream that misbehaves on
// demand (echoes another tenant's canary, replays an answer made for another
// request, emits a stored patient's name). Each detector must withhold or
// redact the answer and record an incident; clean echoes stay quiet.
// Synthetic PHI only.
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "nlohmann/json.hpp"
#include "phigate/breach/detectors.h"
#include "phigate/breach/incident_store.h"
#include "phigate/gateway/breach_scanner.h"
#include "phigate/gateway/containment.h"
#include "phigate/gateway/gateway.h"
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

// Synthetic identifiers (invented; the SSN is in the never-issued 9xx area).
constexpr char kNameA[] = "Orsolya Brightwater";
constexpr char kMrnA[] = "MRN-55120934";
constexpr char kNameB[] = "Tadeusz Quillfeather";
constexpr char kStranger[] = "Wilhelmina Oakenshaw";  // never sent by anyone
constexpr uint64_t kCanarySeed = 77;

std::string LastText(const json& body) {
  const json& m = body["messages"].back();
  return m["content"].is_string() ? m["content"].get<std::string>() : std::string();
}

Script Completion(const std::string& answer, bool stream) {
  Script sc;
  if (!stream) {
    json res = {{"id", "chatcmpl-1"},
                {"object", "chat.completion"},
                {"created", 1},
                {"model", "m"},
                {"choices", json::array({{{"index", 0},
                                          {"message", {{"role", "assistant"}, {"content", answer}}},
                                          {"finish_reason", "stop"}}})}};
    sc.chunks = {res.dump()};
    return sc;
  }
  sc.chunked = true;
  sc.content_type = "text/event-stream";
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
  for (size_t i = 0; i < answer.size(); i += 3) {
    sc.chunks.push_back(chunk({{"content", answer.substr(i, 3)}}, nullptr));
  }
  sc.chunks.push_back(chunk(json::object(), "stop"));
  sc.chunks.push_back("data: [DONE]\n\n");
  return sc;
}

// The concatenated `content` deltas of an OpenAI SSE body.
std::string DeltaText(const std::string& sse) {
  std::string text;
  for (size_t pos = sse.find("data: "); pos != std::string::npos;
       pos = sse.find("data: ", pos + 1)) {
    const size_t end = sse.find('\n', pos);
    json j = json::parse(sse.substr(pos + 6, end - pos - 6), nullptr, false);
    if (j.is_discarded() || !j.contains("choices")) continue;
    for (const json& c : j["choices"]) {
      if (c.contains("delta") && c["delta"].contains("content") &&
          c["delta"]["content"].is_string()) {
        text += c["delta"]["content"].get<std::string>();
      }
    }
  }
  return text;
}

// A detector whose failures are switched on separately from the request path's.
class SwitchDetector : public Detector {
 public:
  explicit SwitchDetector(std::shared_ptr<const Detector> d) : d_(std::move(d)) {}
  std::atomic<bool> fail{false};
  Status Scan(std::string_view text, Findings* out) const override {
    if (fail) return absl::InternalError("scratch exhausted");
    return d_->Scan(text, out);
  }

 private:
  std::shared_ptr<const Detector> d_;
};

class BreachGatewayTest : public ::testing::Test {
 protected:
  void SetUp() override {
    upstream_ = std::make_unique<FakeUpstream>([this](const ReceivedRequest& r) {
      json body = json::parse(r.body, nullptr, false);
      const bool stream = !body.is_discarded() && body.value("stream", false);
      std::string answer = "Summary: " + (body.is_discarded() ? "" : LastText(body));
      std::lock_guard<std::mutex> lock(mu_);
      if (!say_.empty()) answer = say_;
      if (replay_) {
        if (last_answer_.empty()) last_answer_ = answer;  // a cache not scoped to the tenant
        answer = last_answer_;
      }
      return Completion(answer, stream);
    });
    auth_ = std::make_shared<testing::FakeAuth>();
    auth_->Add("pg_test_alice", "acme", "alice");
    auth_->Add("pg_test_carol", "globex", "carol");
    policy_ = std::make_shared<testing::FakePolicy>();
    policy_->base().token_scope = "conversation";
    dict_ = std::make_shared<testing::DictDetector>();
    for (const char* n : {kNameA, kNameB, kStranger}) dict_->Add(n, PhiCategory::kName);
    dict_->Add(kMrnA, PhiCategory::kMrn);
    canaries_ = breach::GenerateCanaries(TenantId("globex"), kCanarySeed, 1);
    for (const breach::CanaryValue& v : canaries_[0].values) dict_->Add(v.value, v.category);
    scan_detector_ = std::make_shared<SwitchDetector>(dict_);
    vaults_ = std::make_shared<testing::MemoryVaultProvider>();
    audit_ = std::make_shared<testing::MemoryAudit>();

    BreachConfig bc;
    bc.enabled = true;
    bc.canaries_per_tenant = 1;
    bc.canary_seed = kCanarySeed;
    BreachLeakScanner::Deps d;
    d.detector = scan_detector_;
    auto store = breach::OpenIncidentStore("memory:");
    ASSERT_TRUE(store.ok()) << store.status();
    d.incidents = std::move(store).value();
    d.audit = audit_;
    d.clock = [] { return int64_t{1796083200}; };  // 2026-12-01
    if (with_controls_) {
      controls_ = std::make_shared<ContainmentControls>();
      controls_->SetKeyRotator([this](const TenantId& t) {
        std::lock_guard<std::mutex> lock(mu_);
        rotated_.push_back(t.value());
        return absl::OkStatus();
      });
      d.controls = controls_;
    }
    auto s = BreachLeakScanner::Create(bc, "test-breach-key",
                                       {TenantId("acme"), TenantId("globex")}, std::move(d));
    ASSERT_TRUE(s.ok()) << s.status();
    scanner_ = std::shared_ptr<BreachLeakScanner>(std::move(s).value());

    GatewayConfig config;
    config.server.port = 0;
    config.server.io_threads = 2;
    config.tenant_key = "test-tenant-key";
    const UpstreamConfig oa = testing::OpenAiUpstream(upstream_->url("/v1"));
    config.upstreams = {oa};
    GatewayDeps deps;
    deps.auth = auth_;
    deps.policy = policy_;
    deps.detector = dict_;
    deps.vaults = vaults_;
    deps.audit = audit_;
    deps.leak = scanner_;
    deps.containment = controls_;
    config.cache.enabled = with_controls_;
    auto gw = Gateway::Create(config, deps);
    ASSERT_TRUE(gw.ok()) << gw.status();
    gw_ = std::move(gw).value();
    PHIGATE_ASSERT_OK(gw_->Start());
  }
  void TearDown() override {
    if (gw_) gw_->Shutdown();
    upstream_->Stop();
  }

  void Say(std::string s) {
    std::lock_guard<std::mutex> lock(mu_);
    say_ = std::move(s);
  }
  void Replay(bool on) {
    std::lock_guard<std::mutex> lock(mu_);
    replay_ = on;
    last_answer_.clear();
  }

  HttpResult Chat(const std::string& key, const std::string& content, const std::string& conv,
                  bool stream = false) {
    json body = {{"model", "gpt-4o"},
                 {"stream", stream},
                 {"messages", json::array({{{"role", "user"}, {"content", content}}})}};
    return HttpCall(gw_->port(), "POST", "/v1/chat/completions", body.dump(),
                    {{"authorization", "Bearer " + key}, {"x-phigate-conversation", conv}});
  }

  std::vector<breach::Incident> Incidents(const std::string& tenant) {
    auto list = scanner_->incidents().List(TenantId(tenant));
    EXPECT_TRUE(list.ok()) << list.status();
    return list.ok() ? *list : std::vector<breach::Incident>{};
  }
  static std::vector<std::string> Kinds(const breach::Incident& inc) {
    std::vector<std::string> out;
    for (const breach::Detection& d : inc.detections) out.emplace_back(breach::Name(d.kind));
    return out;
  }

  bool with_controls_ = false;
  std::shared_ptr<ContainmentControls> controls_;
  std::vector<std::string> rotated_;
  std::mutex mu_;
  std::string say_;
  bool replay_ = false;
  std::string last_answer_;
  std::unique_ptr<FakeUpstream> upstream_;
  std::shared_ptr<testing::FakeAuth> auth_;
  std::shared_ptr<testing::FakePolicy> policy_;
  std::shared_ptr<testing::DictDetector> dict_;
  std::shared_ptr<SwitchDetector> scan_detector_;
  std::shared_ptr<testing::MemoryVaultProvider> vaults_;
  std::shared_ptr<testing::MemoryAudit> audit_;
  std::vector<breach::CanaryPatient> canaries_;
  std::shared_ptr<BreachLeakScanner> scanner_;
  std::unique_ptr<Gateway> gw_;
};

TEST_F(BreachGatewayTest, CleanEchoIsDeliveredAndRecordsNothing) {
  const std::string note = std::string("Pt ") + kNameA + " (" + kMrnA + ") doing well.";
  for (bool stream : {false, true}) {
    HttpResult r = Chat("pg_test_alice", note, "c-clean", stream);
    ASSERT_EQ(r.status, 200u) << r.body;
    EXPECT_THAT(r.body, HasSubstr(kMrnA));  // re-identified
  }
  EXPECT_TRUE(Incidents("acme").empty());
  EXPECT_EQ(gw_->CounterForTesting("phigate_leak_withheld_total", ""), 0u);
}

TEST_F(BreachGatewayTest, CanaryOfAnotherTenantIsWithheldAsCritical) {
  ASSERT_EQ(scanner_->Canaries().size(), 2u);  // one per tenant
  Say("Also seen: " + canaries_[0].values[0].value + ".");
  HttpResult r = Chat("pg_test_alice", "Pt doing well.", "c-canary");
  EXPECT_EQ(r.status, 502u);
  EXPECT_THAT(r.body, HasSubstr("withheld by leak detection (incident INC-2026-0001)"));
  EXPECT_THAT(r.body, Not(HasSubstr(canaries_[0].values[0].value)));
  auto incs = Incidents("acme");
  ASSERT_EQ(incs.size(), 1u);
  EXPECT_EQ(incs[0].severity, breach::Severity::kCritical);
  EXPECT_THAT(Kinds(incs[0]), Contains("canary"));
  EXPECT_THAT(incs[0].patient_refs, Contains("canary-globex-0"));
  // Containment ran and each action was audited (PHI-free records).
  EXPECT_THAT(scanner_->ContainmentCalls(), Contains("purge_cache acme"));
  int audited = 0;
  for (const AuditRecord& a : audit_->records()) audited += a.api == "breach.containment";
  EXPECT_GE(audited, 1);
}

TEST_F(BreachGatewayTest, StoredPatientNameNotSentIsWithheld) {
  // Conversation 1 sends patient A; conversation 2 is about patient B, but the
  // model answers with patient A's name (prompt injection / cross-patient).
  ASSERT_EQ(Chat("pg_test_alice", std::string("Pt ") + kNameA + " seen today.", "c-1").status,
            200u);
  Say(std::string("As noted for ") + kNameA + ", continue.");
  HttpResult r = Chat("pg_test_alice", std::string("Pt ") + kNameB + " seen today.", "c-2");
  EXPECT_EQ(r.status, 502u);
  EXPECT_THAT(r.body, Not(HasSubstr(kNameA)));
  auto incs = Incidents("acme");
  ASSERT_EQ(incs.size(), 1u);
  EXPECT_THAT(Kinds(incs[0]), Contains("prompt_injection_leak"));
  EXPECT_THAT(Kinds(incs[0]), Contains("cross_patient"));
  EXPECT_THAT(Kinds(incs[0]), Contains("training_data_leak"));
  // The incident holds offsets and blind indexes, never the name.
  EXPECT_THAT(breach::IncidentToJson(incs[0]), Not(HasSubstr(kNameA)));
}

TEST_F(BreachGatewayTest, AnotherTenantsPatientIsCrossTenantCritical) {
  ASSERT_EQ(Chat("pg_test_carol", std::string("Pt ") + kNameB + " seen.", "g-1").status, 200u);
  Say(std::string("Patient ") + kNameB + " is stable.");
  HttpResult r = Chat("pg_test_alice", "Pt doing well.", "c-x");
  EXPECT_EQ(r.status, 502u);
  auto incs = Incidents("acme");
  ASSERT_EQ(incs.size(), 1u);
  EXPECT_EQ(incs[0].severity, breach::Severity::kCritical);
  EXPECT_THAT(Kinds(incs[0]), Contains("cross_tenant"));
  EXPECT_TRUE(Incidents("globex").empty());
}

TEST_F(BreachGatewayTest, ReplayedAnswerOfAnotherTenantIsACacheLeak) {
  Replay(true);  // the upstream serves the first answer it made to everyone
  HttpResult first = Chat("pg_test_carol", std::string("Pt ") + kNameB + " seen.", "g-2");
  ASSERT_EQ(first.status, 200u) << first.body;
  EXPECT_THAT(first.body, HasSubstr(kNameB));
  HttpResult r = Chat("pg_test_alice", std::string("Pt ") + kNameA + " seen.", "c-r");
  EXPECT_EQ(r.status, 502u);
  auto incs = Incidents("acme");
  ASSERT_EQ(incs.size(), 1u);
  EXPECT_THAT(Kinds(incs[0]), Contains("cache_leak"));
  EXPECT_EQ(incs[0].severity, breach::Severity::kCritical);
}

TEST_F(BreachGatewayTest, ReplayedAnswerOfAnotherConversationIsACacheLeakHigh) {
  Replay(true);
  ASSERT_EQ(Chat("pg_test_alice", std::string("Pt ") + kNameA + " seen.", "c-r1").status, 200u);
  HttpResult r = Chat("pg_test_alice", std::string("Pt ") + kNameB + " seen.", "c-r2");
  EXPECT_EQ(r.status, 502u);
  auto incs = Incidents("acme");
  ASSERT_EQ(incs.size(), 1u);
  EXPECT_THAT(Kinds(incs[0]), Contains("cache_leak"));
  EXPECT_EQ(incs[0].severity, breach::Severity::kHigh);
}

TEST_F(BreachGatewayTest, UnknownNameIsRedactedAndTheAnswerDelivered) {
  // A name nobody sent and the vault does not know: medium -> redact.
  Say(std::string("Refer to Dr ") + kStranger + " for follow-up.");
  HttpResult r = Chat("pg_test_alice", "Pt doing well.", "c-red");
  ASSERT_EQ(r.status, 200u) << r.body;
  EXPECT_THAT(r.body, HasSubstr("Refer to Dr [REDACTED] for follow-up."));
  EXPECT_THAT(r.body, Not(HasSubstr(kStranger)));
  EXPECT_EQ(r.headers["x-phigate-leak"], "redacted");
  EXPECT_EQ(r.headers["x-phigate-incident"], "INC-2026-0001");
  auto incs = Incidents("acme");
  ASSERT_EQ(incs.size(), 1u);
  EXPECT_EQ(incs[0].severity, breach::Severity::kMedium);
}

TEST_F(BreachGatewayTest, LeakSplitAcrossStreamedChunksEndsTheStream) {
  ASSERT_EQ(Chat("pg_test_alice", std::string("Pt ") + kNameA + " seen today.", "c-s1").status,
            200u);
  Say(std::string("Continue the plan agreed with ") + kNameA + " last week and more text.");
  HttpResult r = Chat("pg_test_alice", "Pt doing well.", "c-s2", /*stream=*/true);
  ASSERT_EQ(r.status, 200u);
  EXPECT_THAT(r.body, HasSubstr("withheld by leak detection"));
  // Nothing of the name (held back until it was scanned whole), nothing after it.
  const std::string text = DeltaText(r.body);
  EXPECT_THAT(text, Not(HasSubstr("Ors")));
  EXPECT_THAT(text, Not(HasSubstr("last week")));
  auto incs = Incidents("acme");
  ASSERT_EQ(incs.size(), 1u);
  EXPECT_THAT(Kinds(incs[0]), Contains("cross_patient"));
  // Recorded as withheld, like a whole answer the leak scan stops (the
  // accounting of disclosures says "answer withheld", not "error").
  const auto recs = audit_->records();
  ASSERT_FALSE(recs.empty());
  EXPECT_EQ(recs.back().phase, AuditPhase::kIngress);
  EXPECT_EQ(recs.back().outcome, AuditOutcome::kBlocked);
}

TEST_F(BreachGatewayTest, CleanStreamIsDeliveredWholeDespiteTheHoldBack) {
  std::string note = std::string("Pt ") + kNameA + " (" + kMrnA + ").";
  for (int i = 0; i < 20; ++i) note += " Stable, continue the current plan.";
  HttpResult r = Chat("pg_test_alice", note, "c-long", /*stream=*/true);
  ASSERT_EQ(r.status, 200u);
  EXPECT_EQ(DeltaText(r.body), "Summary: " + note);  // re-identified, complete, in order
  EXPECT_THAT(r.body, HasSubstr("[DONE]"));
  EXPECT_TRUE(Incidents("acme").empty());
}

TEST_F(BreachGatewayTest, ScannerFailureWithholdsTheAnswer) {
  scan_detector_->fail = true;
  HttpResult r = Chat("pg_test_alice", "Pt doing well.", "c-f");
  EXPECT_EQ(r.status, 502u);
  EXPECT_THAT(r.body, HasSubstr("withheld by leak detection"));
  EXPECT_EQ(gw_->CounterForTesting("phigate_stage_failures_total", "stage=\"leak_scan\""), 1u);
}

TEST_F(BreachGatewayTest, ServeConfigSectionParses) {
  auto c = ParseBreachConfig(
      "breach:\n  response: {medium: withhold, low: redact}\n  canaries: {per_tenant: 3, seed: "
      "9}\n  incidents: \"memory:\"\n");
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_TRUE(c->enabled);
  EXPECT_EQ(c->response.medium, breach::ResponseAction::kWithhold);
  EXPECT_EQ(c->response.low, breach::ResponseAction::kRedact);
  EXPECT_EQ(c->canaries_per_tenant, 3);
  EXPECT_EQ(c->canary_seed, 9u);
  EXPECT_EQ(c->incidents_url, "memory:");
  auto off = ParseBreachConfig("server: {}\n");
  ASSERT_TRUE(off.ok());
  EXPECT_FALSE(off->enabled);
  EXPECT_FALSE(ParseBreachConfig("breach:\n  response: {high: shrug}\n").ok());
  // The covered entity's time zone dates the incidents; an unknown one is refused.
  auto zoned = ParseBreachConfig("breach:\n  time_zone: America/Chicago\n");
  ASSERT_TRUE(zoned.ok()) << zoned.status();
  EXPECT_EQ(zoned->response.time_zone, "America/Chicago");
  EXPECT_FALSE(ParseBreachConfig("breach:\n  time_zone: Mars/Olympus_Mons\n").ok());
  // Misspelt keys are refused, not ignored with their defaults kept.
  for (const char* typo :
       {"breach:\n  enabeld: false\n", "breach:\n  respones: {critical: pass}\n",
        "breach:\n  response: {critcal: pass}\n", "breach:\n  canaries: {per_tenat: 3}\n"}) {
    auto bad = ParseBreachConfig(typo);
    EXPECT_EQ(bad.status().code(), absl::StatusCode::kInvalidArgument) << typo;
    EXPECT_NE(bad.status().message().find("unknown key"), std::string_view::npos) << bad.status();
  }
}

// Containment executes: after another tenant's canary shows up in acme's
// answer, acme's cached answers are purged, acme's route to the vendor is
// suspended (503, nothing forwarded), its keys are rotated; globex is untouched.
class BreachContainmentTest : public BreachGatewayTest {
 protected:
  BreachContainmentTest() { with_controls_ = true; }
};

TEST_F(BreachContainmentTest, CanaryLeakPurgesCacheSuspendsRouteAndRotatesKeys) {
  // A clean answer is cached for acme.
  HttpResult warm = Chat("pg_test_alice", "Pt doing well.", "c-warm");
  ASSERT_EQ(warm.status, 200u) << warm.body;
  HttpResult again = Chat("pg_test_alice", "Pt doing well.", "c-warm");
  ASSERT_EQ(again.status, 200u) << again.body;
  EXPECT_GE(gw_->CounterForTesting("phigate_cache_total", "result=\"hit\""), 1u);

  Say("Also seen: " + canaries_[0].values[0].value + ".");
  HttpResult leak = Chat("pg_test_alice", "Pt stable overnight.", "c-canary");
  EXPECT_EQ(leak.status, 502u);
  auto incs = Incidents("acme");
  ASSERT_EQ(incs.size(), 1u);
  EXPECT_THAT(incs[0].containment, Contains(HasSubstr("purge_cache acme: ok")));
  EXPECT_THAT(incs[0].containment, Contains(HasSubstr("suspend_route acme/openai: ok")));
  EXPECT_THAT(incs[0].containment, Contains(HasSubstr("rotate_keys acme: ok")));
  {
    std::lock_guard<std::mutex> lock(mu_);
    EXPECT_EQ(rotated_, std::vector<std::string>{"acme"});
  }
  EXPECT_TRUE(controls_->Suspended(TenantId("acme"), "any-feature", "openai"));
  EXPECT_FALSE(controls_->Suspended(TenantId("globex"), "any-feature", "openai"));

  // acme's route is suspended: refused before anything leaves, even the cached prompt.
  Say("");
  const size_t forwarded = upstream_->received().size();
  HttpResult refused = Chat("pg_test_alice", "Pt doing well.", "c-warm");
  EXPECT_EQ(refused.status, 503u);
  EXPECT_THAT(refused.body, HasSubstr("suspended by breach containment"));
  EXPECT_EQ(upstream_->received().size(), forwarded);
  // Another tenant is served.
  HttpResult other = Chat("pg_test_carol", "Pt doing well.", "c-other");
  EXPECT_EQ(other.status, 200u) << other.body;
  // The operator resumes; acme's old cache entry is gone (a miss goes upstream).
  EXPECT_TRUE(controls_->ResumeRoute(TenantId("acme"), "openai"));
  // The same answer was also a prompt-injection leak, which suspends the feature.
  for (const std::string& c : incs[0].containment) {
    const std::string prefix = "suspend_feature acme/";
    if (c.rfind(prefix, 0) == 0) {
      const std::string feature = c.substr(prefix.size(), c.find(':') - prefix.size());
      EXPECT_TRUE(controls_->ResumeFeature(TenantId("acme"), feature)) << c;
    }
  }
  HttpResult resumed = Chat("pg_test_alice", "Pt doing well.", "c-warm");
  EXPECT_EQ(resumed.status, 200u) << resumed.body;
  EXPECT_GT(upstream_->received().size(), forwarded + 1);
}

TEST(ContainmentControlsTest, PurgeAndRotateFailClosedWhenNotWired) {
  ContainmentControls c;
  EXPECT_EQ(c.PurgeCache(TenantId("acme")).code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(c.RotateKeys(TenantId("acme")).code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_FALSE(c.Suspended(TenantId("acme"), "summarize", "openai"));
  c.SuspendFeature(TenantId("acme"), "summarize");
  EXPECT_TRUE(c.Suspended(TenantId("acme"), "summarize", "openai"));
  EXPECT_FALSE(c.Suspended(TenantId("acme"), "coding", "openai"));
  EXPECT_FALSE(c.Suspended(TenantId("globex"), "summarize", "openai"));
  EXPECT_TRUE(c.ResumeFeature(TenantId("acme"), "summarize"));
  EXPECT_FALSE(c.ResumeFeature(TenantId("acme"), "summarize"));
}

TEST(ContainmentControlsTest, ConfigChoosesExecuteOrAuditOnly) {
  auto exec = ParseBreachConfig("breach:\n  containment: true\n");
  ASSERT_TRUE(exec.ok()) << exec.status();
  EXPECT_TRUE(exec->containment && exec->containment_execute);
  auto audit_only = ParseBreachConfig("breach:\n  containment: audit_only\n");
  ASSERT_TRUE(audit_only.ok()) << audit_only.status();
  EXPECT_TRUE(audit_only->containment);
  EXPECT_FALSE(audit_only->containment_execute);
  auto off = ParseBreachConfig("breach:\n  containment: false\n");
  ASSERT_TRUE(off.ok()) << off.status();
  EXPECT_FALSE(off->containment);
  EXPECT_FALSE(ParseBreachConfig("breach:\n  containment: sometimes\n").ok());
}

TEST(KeyedBlindIndexTest, FormattingAndCaseDoNotMatterTheKeyDoes) {
  const breach::BlindIndexFn a = KeyedBlindIndex("key-one");
  const breach::BlindIndexFn b = KeyedBlindIndex("key-two");
  EXPECT_EQ(a(PhiCategory::kPhone, "(555) 014-2293"), a(PhiCategory::kPhone, "555-014-2293"));
  EXPECT_EQ(a(PhiCategory::kName, kNameA), a(PhiCategory::kOtherId, "ORSOLYA  BRIGHTWATER"));
  EXPECT_NE(a(PhiCategory::kName, kNameA), a(PhiCategory::kName, kNameB));
  EXPECT_NE(a(PhiCategory::kName, kNameA), b(PhiCategory::kName, kNameA));
  EXPECT_EQ(a(PhiCategory::kName, kNameA).size(), 32u);
  EXPECT_EQ(a(PhiCategory::kName, kNameA).find("orsolya"), std::string::npos);
}

}  // namespace
}  // namespace phigate::gateway
