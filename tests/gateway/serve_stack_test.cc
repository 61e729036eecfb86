// `phigate serve`'s real wiring (ServeStack: policy file, detect engine, SQLite
// vault, audit log) against a fake upstream on 127.0.0.1:0:
//  - the audit trail the gateway writes verifies with the keys `phigate audit
//    verify` derives (audit::MasterKeyFromEnv + SigningKeyFromEnv) and names
//    the patient by subject blind index (accounting of disclosures);
//  - an edited policy file is reloaded; a broken one keeps the old policy.
// Synthetic identifiers only.
#include <sqlite3.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <limits>
#include <memory>
#include <regex>
#include <string>
#include <thread>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "nlohmann/json.hpp"
#include "phigate/audit/audit_log.h"
#include "phigate/audit/log_store.h"
#include "phigate/audit/query.h"
#include "phigate/audit/subject.h"
#include "phigate/core/paths.h"
#include "phigate/crypto/signer.h"
#include "phigate/gateway/gateway.h"
#include "phigate/gateway/serve.h"
#include "phigate/store/store.h"
#include "phigate/vault/vault.h"
#include "tests/integration/fake_upstream.h"
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
using ::testing::HasSubstr;
using ::testing::Not;

// Synthetic values (invented; the MRNs belong to nobody).
constexpr char kMrn[] = "7734229108";
constexpr char kOtherMrn[] = "5521007743";
constexpr char kMasterHex[] = "3f1c0e2a9b8d7c6e5f4a3b2c1d0e9f8a7b6c5d4e3f2a1b0c9d8e7f6a5b4c3d2e";
const char kClinicianKey[] = "pg_serve_test_clinician";
const char kNewKey[] = "pg_serve_test_newcomer";
// SHA-256 hex of the two keys above (the policy stores only hashes).
std::string Sha256Hex(std::string_view s) {
  const crypto::Sha256Digest d = crypto::Sha256(s);
  return crypto::ToHex(std::string_view(reinterpret_cast<const char*>(d.data()), d.size()));
}

std::string Note() {
  return std::string("Patient: Corwin Ashdale-Pyne\nMRN: ") + kMrn +
         "\nSeen for follow-up of hypertension; BP improved on lisinopril.";
}

Script Echo(const ReceivedRequest& r) {
  Script sc;
  json body = json::parse(r.body, nullptr, false);
  std::string text = "ok";
  if (!body.is_discarded() && body.contains("messages")) {
    text = "Summary: " + body["messages"].back().value("content", std::string());
  }
  json res = {{"id", "chatcmpl-1"},
              {"object", "chat.completion"},
              {"created", 1},
              {"model", "m"},
              {"choices", json::array({{{"index", 0},
                                        {"message", {{"role", "assistant"}, {"content", text}}},
                                        {"finish_reason", "stop"}}})}};
  sc.chunks = {res.dump()};
  return sc;
}

class ServeStackTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ::setenv("PHIGATE_MASTER_KEY", kMasterHex, 1);
    ::unsetenv("PHIGATE_AUDIT_SIGNING_KEY");
    dir_ = std::filesystem::temp_directory_path() /
           ("phigate-serve-test-" + std::to_string(::getpid()) + "-" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::remove_all(dir_);
    std::filesystem::create_directories(dir_);
    upstream_ = std::make_unique<FakeUpstream>(Echo);
    policy_path_ = (dir_ / "phigate.yaml").string();
    WritePolicy(/*with_newcomer=*/false);
  }
  void TearDown() override {
    if (gw_) gw_->Shutdown();
    gw_.reset();
    stack_.reset();
    upstream_->Stop();
    std::filesystem::remove_all(dir_);
  }

  std::string PolicyText(bool with_newcomer) const {
    std::string users =
        "  - id: dr-serve\n    tenant: acme\n    roles: [clinician]\n"
        "    api_key_sha256: " +
        Sha256Hex(kClinicianKey) + "\n";
    if (with_newcomer) {
      users +=
          "  - id: dr-new\n    tenant: acme\n    roles: [clinician]\n"
          "    api_key_sha256: " +
          Sha256Hex(kNewKey) + "\n";
    }
    return "version: 1\n"
           "tenants:\n  - id: acme\n    name: Acme (serve test)\n    jurisdictions: [US-HIPAA]\n"
           "users:\n" +
           users + "vendors:\n  - name: local\n    kind: self-hosted\n    api_base: " +
           upstream_->url("/v1") +
           "\n    inside_boundary: true\n    region: us\n    endpoints: [chat/completions]\n"
           "    models: [local-llama]\n"
           "features:\n  - name: scribe\n    purpose: treatment\n    roles: [clinician]\n"
           "    reidentify_answers: true\n    on_missing_baa: tokenize\n"
           "    phi:\n      NAME: tokenize\n      MRN: tokenize\n      DATE: tokenize\n"
           "    routes:\n      - vendor: local\n        models: [\"*\"]\n";
  }
  // Written beside and renamed over, so the watcher never reads half a file.
  // One OpenAI chat message from the clinician, feature "scribe", in `conversation`.
  HttpResult ScribeChat(const std::string& content, const std::string& conversation) {
    const json body = {{"model", "local-llama"},
                       {"messages", json::array({{{"role", "user"}, {"content", content}}})}};
    return HttpCall(gw_->port(), "POST", "/v1/chat/completions", body.dump(),
                    {{"authorization", std::string("Bearer ") + kClinicianKey},
                     {"x-phigate-feature", "scribe"},
                     {"x-phigate-conversation", conversation}});
  }
  // Writes the policy of PolicyText(false) with the lines `from` replaced by `to`.
  void WritePolicyReplacing(const std::string& from, const std::string& to) {
    std::string policy = PolicyText(false);
    const size_t at = policy.find(from);
    ASSERT_NE(at, std::string::npos) << from;
    policy.replace(at, from.size(), to);
    WriteRaw(policy);
  }
  void WriteRaw(const std::string& text) {
    const std::string tmp = policy_path_ + ".tmp";
    {
      std::ofstream out(tmp, std::ios::trunc);
      out << text;
    }
    std::filesystem::rename(tmp, policy_path_);
  }
  void WritePolicy(bool with_newcomer) { WriteRaw(PolicyText(with_newcomer)); }

  std::string StoreUrl() const { return "sqlite://" + (dir_ / "vault.db").string(); }
  std::string AuditUrl() const { return "sqlite://" + (dir_ / "audit.db").string(); }

  ServeOptions Options(bool watch) const {
    ServeOptions so;
    so.store_url = StoreUrl();
    so.audit_url = AuditUrl();
    so.watch_policy = watch;
    so.policy_poll_interval = std::chrono::milliseconds(50);
    return so;
  }
  // What ServeStack::Build says of the policy file as it is now.
  Status BuildStatus() const { return ServeStack::Build(policy_path_, Options(false)).status(); }
  void Stop() {
    gw_->Shutdown();
    gw_.reset();
    stack_.reset();
  }

  void Start(bool watch) {
    auto stack = ServeStack::Build(policy_path_, Options(watch));
    ASSERT_TRUE(stack.ok()) << stack.status();
    stack_ = std::move(stack).value();
    GatewayConfig cfg = stack_->config();
    cfg.server.address = "127.0.0.1";
    cfg.server.port = 0;
    cfg.server.io_threads = 2;
    auto gw = Gateway::Create(cfg, stack_->deps());
    ASSERT_TRUE(gw.ok()) << gw.status();
    gw_ = std::move(gw).value();
    PHIGATE_ASSERT_OK(gw_->Start());
  }

  HttpResult Chat(const std::string& key, const std::string& content = Note()) {
    json body = {{"model", "local-llama"},
                 {"messages", json::array({{{"role", "user"}, {"content", content}}})}};
    return HttpCall(gw_->port(), "POST", "/v1/chat/completions", body.dump(),
                    {{"authorization", "Bearer " + key}, {"x-phigate-feature", "scribe"}});
  }

  // Polls `done` (the watcher runs on its own thread); bounded, never a
  // timing assertion.
  template <class Fn>
  static bool Eventually(Fn done) {
    for (int i = 0; i < 1000; ++i) {
      if (done()) return true;
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    return done();
  }

  std::filesystem::path dir_;
  std::string policy_path_;
  std::unique_ptr<FakeUpstream> upstream_;
  std::unique_ptr<ServeStack> stack_;
  std::unique_ptr<Gateway> gw_;
};

TEST_F(ServeStackTest, AuditTrailVerifiesWithTheCliKeysAndNamesThePatient) {
  Start(/*watch=*/false);
  HttpResult r = Chat(kClinicianKey);
  ASSERT_EQ(r.status, 200u) << r.body;
  ASSERT_EQ(upstream_->count(), 1u);
  EXPECT_THAT(upstream_->AllReceivedBytes(), Not(HasSubstr(kMrn)));
  EXPECT_THAT(r.body, HasSubstr(kMrn));  // re-identified for the clinician
  // Stop the server and close the audit log (everything committed).
  gw_->Shutdown();
  gw_.reset();
  stack_.reset();

  // What `phigate audit verify` does: the master key from PHIGATE_MASTER_KEY,
  // the signing key derived from it (or PHIGATE_AUDIT_SIGNING_KEY), VerifyTrail.
  auto store = audit::AuditLogStore::Open(AuditUrl());
  ASSERT_TRUE(store.ok()) << store.status();
  auto master = audit::MasterKeyFromEnv();
  ASSERT_TRUE(master.ok()) << master.status();
  auto signer = audit::SigningKeyFromEnv(*master);
  ASSERT_TRUE(signer.ok()) << signer.status();
  auto verifier = crypto::Ed25519Verifier::FromRawPublicKey((*signer)->RawPublicKey());
  ASSERT_TRUE(verifier.ok()) << verifier.status();
  const TenantId acme("acme");
  auto v = audit::VerifyTrail(**store, acme, **verifier);
  ASSERT_TRUE(v.ok()) << v.status();
  EXPECT_EQ(v->events_checked, 2u);  // egress + ingress
  EXPECT_GE(v->heads_checked, 1u);
  // Signing is amortised (audit.sign_interval_ms), but a stopped server has
  // signed a head over everything it wrote.
  EXPECT_EQ(v->signed_size, 2u);
  EXPECT_EQ(v->unsigned_events, 0u);

  // Another key does not verify it (the check is real).
  auto other_master = audit::MasterKeyFromHex(std::string(64, '7'));
  ASSERT_TRUE(other_master.ok());
  auto other = audit::SigningKeyFromMaster(*other_master);
  ASSERT_TRUE(other.ok());
  auto other_verifier = crypto::Ed25519Verifier::FromRawPublicKey((*other)->RawPublicKey());
  ASSERT_TRUE(other_verifier.ok());
  EXPECT_FALSE(audit::VerifyTrail(**store, acme, **other_verifier).ok());

  // The patient is on the events as a subject blind index: the accounting of
  // disclosures (`phigate audit disclosures --patient "MRN ..."`) finds the
  // forwarded request, and nothing for another patient.
  auto key = audit::TenantAuditKey(*master, acme);
  ASSERT_TRUE(key.ok());
  auto subject = audit::SubjectIndexesToQuery(*key, std::string("MRN ") + kMrn);
  ASSERT_TRUE(subject.ok());
  auto d = audit::AccountingOfDisclosures(**store, acme, *subject, 0,
                                          std::numeric_limits<int64_t>::max());
  ASSERT_TRUE(d.ok()) << d.status();
  ASSERT_EQ(d->size(), 1u);
  EXPECT_EQ((*d)[0].recipient.value(), "local");
  EXPECT_EQ((*d)[0].feature.value(), "scribe");
  // Every value left tokenized (the policy tokenizes NAME, MRN and DATE): a
  // send about the patient, but no identifiable PHI disclosed; answered.
  ASSERT_TRUE((*d)[0].sent_as_written.has_value());
  EXPECT_TRUE((*d)[0].sent_as_written->empty());
  EXPECT_FALSE((*d)[0].Identifiable());
  EXPECT_FALSE((*d)[0].categories.empty());
  EXPECT_EQ((*d)[0].delivery, "answered");
  // Unlabelled, the MRN is looked up in every category: found.
  auto bare = audit::SubjectIndexesToQuery(*key, kMrn);
  ASSERT_TRUE(bare.ok());
  auto found =
      audit::AccountingOfDisclosures(**store, acme, *bare, 0, std::numeric_limits<int64_t>::max());
  ASSERT_TRUE(found.ok());
  EXPECT_EQ(found->size(), 1u);
  for (const std::string& who : {std::string("MRN ") + kOtherMrn, std::string("SSN ") + kMrn}) {
    // Another patient, and an SSN with this MRN's digits: nothing.
    auto nobody = audit::SubjectIndexesToQuery(*key, who);
    ASSERT_TRUE(nobody.ok());
    auto none = audit::AccountingOfDisclosures(**store, acme, *nobody, 0,
                                               std::numeric_limits<int64_t>::max());
    ASSERT_TRUE(none.ok());
    EXPECT_TRUE(none->empty()) << who;
  }

  // And the stored events hold no identifier text.
  audit::QueryFilter f;
  f.tenant = acme;
  auto events = audit::Query(**store, f);
  ASSERT_TRUE(events.ok());
  ASSERT_EQ(events->size(), 2u);
  for (const audit::StoredEvent& e : *events) {
    EXPECT_THAT(audit::EventToJson(e), Not(HasSubstr(kMrn)));
    EXPECT_EQ(e.event.subjects.size(), 1u);
  }
}

// While the audit trail cannot commit, every audited request is refused: a
// load balancer must see /readyz fail and send traffic elsewhere, and see it
// pass again once the trail commits.
// Where PHI goes is the policy's to say: an adapter entry under
// gateway.upstreams cannot send a vendor's traffic to another address or
// region than the ones lint (TLS, loopback) and the BAA checks judged.
TEST_F(ServeStackTest, GatewayUpstreamsCannotMoveAVendor) {
  const std::string entry = "gateway:\n  upstreams:\n    - vendor: local\n";
  WriteRaw(PolicyText(false) + entry + "      base_url: http://192.0.2.2:18790/v1\n");
  Status bad = BuildStatus();
  EXPECT_EQ(bad.code(), absl::StatusCode::kInvalidArgument) << bad;
  EXPECT_THAT(std::string(bad.message()), HasSubstr("base_url other than its api_base")) << bad;
  WriteRaw(PolicyText(false) + entry + "      base_url: " + upstream_->url("/v1") +
           "\n      region: eu-central-1\n");
  bad = BuildStatus();
  EXPECT_EQ(bad.code(), absl::StatusCode::kInvalidArgument) << bad;
  EXPECT_THAT(std::string(bad.message()), HasSubstr("region 'eu-central-1'")) << bad;
  // Repeating them (a trailing slash aside) is fine.
  WriteRaw(PolicyText(false) + entry + "      base_url: " + upstream_->url("/v1") +
           "/\n      region: us\n");
  PHIGATE_EXPECT_OK(BuildStatus());
}

// The policy's `keys:` says where serve reads the master key: a file only its
// owner can read, or another variable; anything else there is an error (it
// was ignored, and serve read PHIGATE_MASTER_KEY whatever the file said).
TEST_F(ServeStackTest, TheKeysSectionSaysWhereTheMasterKeyIs) {
  ::unsetenv("PHIGATE_MASTER_KEY");
  const std::string key_file = (dir_ / "master.key").string();
  std::ofstream(key_file) << kMasterHex << "\n";
  using std::filesystem::perms;
  std::filesystem::permissions(key_file, perms::owner_read | perms::owner_write);
  WriteRaw("keys:\n  master_key_file: " + key_file + "\n" + PolicyText(false));
  PHIGATE_EXPECT_OK(BuildStatus());
  std::filesystem::permissions(key_file,
                               perms::owner_read | perms::owner_write | perms::others_read);
  Status bad = BuildStatus();
  EXPECT_EQ(bad.code(), absl::StatusCode::kFailedPrecondition) << bad;
  EXPECT_THAT(std::string(bad.message()), HasSubstr("chmod 600")) << bad;

  WriteRaw("keys:\n  master_key_env: PHIGATE_TEST_SERVE_MK\n" + PolicyText(false));
  bad = BuildStatus();
  EXPECT_EQ(bad.code(), absl::StatusCode::kFailedPrecondition) << bad;
  EXPECT_THAT(std::string(bad.message()), HasSubstr("PHIGATE_TEST_SERVE_MK is not set")) << bad;
  ::setenv("PHIGATE_TEST_SERVE_MK", kMasterHex, 1);
  PHIGATE_EXPECT_OK(BuildStatus());
  ::unsetenv("PHIGATE_TEST_SERVE_MK");

  WriteRaw("keys:\n  rotate_days: 90\n" + PolicyText(false));
  EXPECT_FALSE(BuildStatus().ok());

  // Retired master keys (after `keys rewrap`): owner-only files of a master
  // key each, or the start is refused.
  const std::string retired = (dir_ / "old.key").string();
  std::ofstream(retired) << std::string(64, 'a') << "\n";
  std::filesystem::permissions(retired, perms::owner_read | perms::owner_write);
  const std::string with_retired =
      "keys:\n  master_key_file: " + key_file + "\n  retired_master_key_files: [" + retired + "]\n";
  std::filesystem::permissions(key_file, perms::owner_read | perms::owner_write);
  WriteRaw(with_retired + PolicyText(false));
  PHIGATE_EXPECT_OK(BuildStatus());
  std::ofstream(retired) << "not a key\n";
  bad = BuildStatus();
  EXPECT_EQ(bad.code(), absl::StatusCode::kFailedPrecondition) << bad;
  EXPECT_THAT(std::string(bad.message()), HasSubstr("retired_master_key_files")) << bad;
  EXPECT_THAT(std::string(bad.message()), Not(HasSubstr("not a key"))) << bad;
  std::filesystem::permissions(retired,
                               perms::owner_read | perms::owner_write | perms::others_read);
  bad = BuildStatus();
  EXPECT_EQ(bad.code(), absl::StatusCode::kFailedPrecondition) << bad;
  ::setenv("PHIGATE_MASTER_KEY", kMasterHex, 1);
}

// A model declared under another name than the vendor's (docs/policy.md's
// alias): the decision is taken on the declared name, as `policy explain`
// takes it, and the vendor gets its own name. It was denied UNKNOWN_MODEL.
TEST_F(ServeStackTest, AModelAliasIsDecidedByItsDeclaredName) {
  std::string text = PolicyText(false);
  const std::string plain = "    models: [local-llama]\n";
  text.replace(text.find(plain), plain.size(),
               "    models: [{name: fast, upstream_model: local-llama-3b}]\n");
  WriteRaw(text);
  Start(/*watch=*/false);
  const json body = {{"model", "fast"},
                     {"messages", json::array({{{"role", "user"}, {"content", Note()}}})}};
  HttpResult r = HttpCall(
      gw_->port(), "POST", "/v1/chat/completions", body.dump(),
      {{"authorization", "Bearer " + std::string(kClinicianKey)}, {"x-phigate-feature", "scribe"}});
  ASSERT_EQ(r.status, 200u) << r.body;
  ASSERT_EQ(upstream_->count(), 1u);
  EXPECT_EQ(json::parse(upstream_->received()[0].body)["model"], "local-llama-3b");
}

// One model name declared by two kinds of vendor: a request goes to the first
// route whose vendor speaks the client's API (before session 36 the first
// route was taken whatever its kind, and an OpenAI client got a 404).
TEST_F(ServeStackTest, AModelTwoKindsOfVendorDeclareGoesToTheOneThatSpeaksTheAPI) {
  std::string policy = PolicyText(false);
  const std::string claude =
      "  - name: claude-side\n    kind: anthropic\n    api_base: " + upstream_->url() +
      "\n    region: us\n    endpoints: [messages]\n"
      "    models: [local-llama]\n"
      "features:\n";
  const std::string routes = "    routes:\n      - vendor: local\n";
  policy.replace(policy.find("features:\n"), 10, claude);
  policy.replace(policy.find(routes), routes.size(),
                 "    routes:\n      - vendor: claude-side\n        models: [\"*\"]\n"
                 "      - vendor: local\n");
  WriteRaw(policy);
  Start(/*watch=*/false);
  ASSERT_EQ(Chat(kClinicianKey).status, 200u);
  ASSERT_EQ(upstream_->count(), 1u);
  EXPECT_EQ(upstream_->received()[0].target, "/v1/chat/completions");
  const json body = {{"model", "local-llama"},
                     {"max_tokens", 10},
                     {"messages", json::array({{{"role", "user"}, {"content", Note()}}})}};
  HttpCall(gw_->port(), "POST", "/v1/messages", body.dump(),
           {{"x-api-key", kClinicianKey}, {"x-phigate-feature", "scribe"}});
  ASSERT_EQ(upstream_->count(), 2u);
  EXPECT_EQ(upstream_->received()[1].target, "/v1/messages");
}

TEST_F(ServeStackTest, ReadyzFailsWhileTheAuditTrailCannotCommit) {
  Start(/*watch=*/false);
  ASSERT_EQ(Chat(kClinicianKey).status, 200u);
  auto ready = [&] { return HttpCall(gw_->port(), "GET", "/readyz", "").status; };
  EXPECT_EQ(ready(), 200u);
  // Another process holds the audit database's write lock (the commit waits
  // out SQLite's 10 s busy timeout, then fails).
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open((dir_ / "audit.db").string().c_str(), &db), SQLITE_OK);
  ASSERT_EQ(sqlite3_exec(db, "BEGIN EXCLUSIVE", nullptr, nullptr, nullptr), SQLITE_OK);
  EXPECT_EQ(Chat(kClinicianKey).status, 503u);
  EXPECT_EQ(ready(), 503u);
  sqlite3_exec(db, "ROLLBACK", nullptr, nullptr, nullptr);
  sqlite3_close(db);
  EXPECT_EQ(Chat(kClinicianKey).status, 200u);
  EXPECT_EQ(ready(), 200u);
}

TEST_F(ServeStackTest, DetectionModeComesFromTheConfigAndABadOneRefusesToStart) {
  // gateway.detection: both runs the rules with the stacked tagger (the shipped
  // model); the request is de-identified as with the rules.
  WriteRaw(PolicyText(false) + "gateway:\n  detection: both\n");
  Start(/*watch=*/false);
  // The data folder in use is named (no option here: paths::DataDir()).
  EXPECT_THAT(stack_->Describe(),
              HasSubstr("detect: engine (both), data " + paths::DataDir() + "\n"));
  HttpResult r = Chat(kClinicianKey);
  ASSERT_EQ(r.status, 200u) << r.body;
  ASSERT_EQ(upstream_->count(), 1u);
  EXPECT_THAT(upstream_->AllReceivedBytes(), Not(HasSubstr(kMrn)));
  EXPECT_THAT(upstream_->AllReceivedBytes(), Not(HasSubstr("Ashdale")));
  EXPECT_THAT(r.body, HasSubstr(kMrn));
  gw_->Shutdown();
  gw_.reset();
  stack_.reset();

  // An unknown mode is a configuration error, not a silent fallback.
  WriteRaw(PolicyText(false) + "gateway:\n  detection: fancy\n");
  const Status bad = BuildStatus();
  EXPECT_EQ(bad.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(bad.message()), HasSubstr("gateway.detection"));
}

// The vault rows of tenant acme in `ns` (the gateway stopped first).
size_t VaultRows(const std::string& url, std::string_view ns) {
  auto store = store::Store::Open(store::StoreOptions{url});
  if (!store.ok()) return SIZE_MAX;
  auto ts = (*store)->ForTenant(TenantId("acme"));
  if (!ts.ok()) return SIZE_MAX;
  size_t n = SIZE_MAX;
  Status st = (*ts)->RunInTransaction([&](store::Transaction& tx) -> Status {
    PHIGATE_ASSIGN_OR_RETURN(auto rows, tx.Scan(ns, "", store::ScanOptions{}));
    n = rows.size();
    return absl::OkStatus();
  });
  return st.ok() ? n : SIZE_MAX;
}

TEST_F(ServeStackTest, RequestTokensStayInMemoryUnlessTheConfigStoresThem) {
  // Default (gateway.request_tokens: memory): the request's tokens are minted
  // in memory; the answer is still re-identified, and the vault holds no row.
  Start(/*watch=*/false);
  HttpResult r = Chat(kClinicianKey);
  ASSERT_EQ(r.status, 200u) << r.body;
  ASSERT_EQ(upstream_->count(), 1u);
  EXPECT_THAT(upstream_->AllReceivedBytes(), Not(HasSubstr(kMrn)));
  EXPECT_THAT(upstream_->AllReceivedBytes(), HasSubstr("[MRN_"));
  EXPECT_THAT(r.body, HasSubstr(kMrn));
  EXPECT_THAT(r.body, Not(HasSubstr("[MRN_")));
  Stop();
  EXPECT_EQ(VaultRows(StoreUrl(), vault::kMapNamespace), 0u);

  // A conversation scope is stored as before (other turns, other replicas).
  Start(/*watch=*/false);
  json body = {{"model", "local-llama"},
               {"messages", json::array({{{"role", "user"}, {"content", Note()}}})}};
  HttpResult conv = HttpCall(gw_->port(), "POST", "/v1/chat/completions", body.dump(),
                             {{"authorization", std::string("Bearer ") + kClinicianKey},
                              {"x-phigate-feature", "scribe"},
                              {"x-phigate-conversation", "conv-serve-1"}});
  ASSERT_EQ(conv.status, 200u) << conv.body;
  EXPECT_THAT(conv.body, HasSubstr(kMrn));
  Stop();
  const size_t conversation_rows = VaultRows(StoreUrl(), vault::kMapNamespace);
  EXPECT_GE(conversation_rows, 2u);  // at least the name and the MRN
  EXPECT_NE(conversation_rows, SIZE_MAX);

  // gateway.request_tokens: store writes the request's sealed rows too.
  WriteRaw(PolicyText(false) + "gateway:\n  request_tokens: store\n");
  Start(/*watch=*/false);
  ASSERT_EQ(Chat(kClinicianKey).status, 200u);
  Stop();
  EXPECT_GE(VaultRows(StoreUrl(), vault::kMapNamespace), conversation_rows + 2);

  // Anything else is a configuration error.
  WriteRaw(PolicyText(false) + "gateway:\n  request_tokens: disk\n");
  const Status bad = BuildStatus();
  EXPECT_EQ(bad.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(bad.message()), HasSubstr("gateway.request_tokens"));
}

// A feature that sends surrogates: every new surrogate of the request in one
// vault batch, dates moved by the scope's one offset. Two spellings of one
// date ("Oct 31, 2022", "October 31, 2022") shift to one form when the offset
// lands in May ("May 20, 2022" both), which the second cannot also have: it
// gets a token instead (the request was refused). Each conversation draws its
// own offset; 1 in 12 lands in May, so 150 conversations see it (all but
// certainly), and every request must pass with its originals put back.
TEST_F(ServeStackTest, SurrogatesForTwoSpellingsOfOneDateAreSentAndPutBack) {
  std::string policy = PolicyText(false);
  const std::string from = "      NAME: tokenize\n      MRN: tokenize\n      DATE: tokenize\n";
  const size_t at = policy.find(from);
  ASSERT_NE(at, std::string::npos);
  policy.replace(at, from.size(),
                 "      NAME: surrogate\n      MRN: surrogate\n      DATE: surrogate\n");
  WriteRaw(policy);
  Start(/*watch=*/false);
  const std::string note = std::string("Patient: Corwin Ashdale-Pyne, MRN ") + kMrn +
                           ", admitted Oct 31, 2022; discharge summary of October 31, 2022.";
  json body = {{"model", "local-llama"},
               {"messages", json::array({{{"role", "user"}, {"content", note}}})}};
  bool shared_form = false;
  for (int i = 0; i < 150 && !shared_form; ++i) {
    HttpResult r = HttpCall(gw_->port(), "POST", "/v1/chat/completions", body.dump(),
                            {{"authorization", std::string("Bearer ") + kClinicianKey},
                             {"x-phigate-feature", "scribe"},
                             {"x-phigate-conversation", "conv-dates-" + std::to_string(i)}});
    ASSERT_EQ(r.status, 200u) << r.body;
    const json answer = json::parse(r.body, nullptr, false);
    ASSERT_FALSE(answer.is_discarded()) << r.body;
    ASSERT_EQ(answer["choices"][0]["message"]["content"].get<std::string>(), "Summary: " + note);
    const std::string sent = upstream_->AllReceivedBytes();
    ASSERT_THAT(sent, Not(HasSubstr(kMrn)));
    ASSERT_THAT(sent, Not(HasSubstr("Ashdale")));
    ASSERT_THAT(sent, Not(HasSubstr("Oct 31, 2022")));
    ASSERT_THAT(sent, Not(HasSubstr("October 31, 2022")));
    shared_form = sent.find("[DATE_") != std::string::npos;
  }
  EXPECT_TRUE(shared_form) << "no conversation's offset landed in May";
}

// One conversation that names more ages over 89 than its scope has
// surrogates for (two dozen of one format): the later ones get tokens
// instead of refusing the request (session 33), and every answer comes back
// with its own age.
TEST_F(ServeStackTest, AgesPastTheScopesSurrogatesGetTokens) {
  ASSERT_NO_FATAL_FAILURE(
      WritePolicyReplacing("      NAME: tokenize\n      MRN: tokenize\n      DATE: tokenize\n",
                           "      NAME: surrogate\n      AGE: surrogate\n"));
  Start(/*watch=*/false);
  bool tokens = false;
  for (int age = 90; age < 140; ++age) {
    const std::string note = "A " + std::to_string(age) + " yo woman with chest pain.";
    HttpResult r = ScribeChat(note, "conv-many-ages");
    ASSERT_EQ(r.status, 200u) << "age " << age << ": " << r.body;
    const json answer = json::parse(r.body, nullptr, false);
    ASSERT_FALSE(answer.is_discarded()) << r.body;
    ASSERT_EQ(answer["choices"][0]["message"]["content"].get<std::string>(), "Summary: " + note);
    tokens = tokens || upstream_->AllReceivedBytes().find("[AGE_") != std::string::npos;
  }
  EXPECT_TRUE(tokens) << "no age needed a token";
}

// Session 34: the model reads one person under one surrogate name ("Mr.
// <surname>" is the surname of "<first> <surname>"), and the answer comes
// back whole.
TEST_F(ServeStackTest, ANamePartKeepsOneSurrogateInARequest) {
  ASSERT_NO_FATAL_FAILURE(
      WritePolicyReplacing("      NAME: tokenize\n", "      NAME: surrogate\n"));
  Start(/*watch=*/false);
  const std::string note = "Pt Qorvin Abelstam seen today. Mr. Abelstam is stable.";
  HttpResult r = ScribeChat(note, "conv-one-family");
  ASSERT_EQ(r.status, 200u) << r.body;
  const json answer = json::parse(r.body, nullptr, false);
  ASSERT_FALSE(answer.is_discarded()) << r.body;
  EXPECT_EQ(answer["choices"][0]["message"]["content"].get<std::string>(), "Summary: " + note);
  const std::string sent = upstream_->AllReceivedBytes();
  std::smatch m;
  ASSERT_TRUE(
      std::regex_search(sent, m, std::regex(R"(Pt (\w+) (\w+) seen today\. Mr\. (\w+) is)")))
      << sent;
  EXPECT_NE(m[2].str(), "Abelstam");
  EXPECT_EQ(m[2].str(), m[3].str());  // one surname
}

// The value of one labelled metric ("" when absent).
std::string Metric(const std::string& text, const std::string& series) {
  const size_t p = text.find(series + " ");
  if (p == std::string::npos) return "";
  const size_t b = p + series.size() + 1;
  return text.substr(b, text.find('\n', b) - b);
}

TEST_F(ServeStackTest, AConversationsResentHistoryIsNotScannedAgain) {
  Start(/*watch=*/false);
  std::string history = Note();
  while (history.size() < 400) history += " Home meds unchanged; diet reviewed with the patient.";
  auto turn = [&](const std::string& conversation) {
    json body = {
        {"model", "local-llama"},
        {"messages",
         json::array({{{"role", "user"}, {"content", history}},
                      {{"role", "assistant"}, {"content", "Noted."}},
                      {{"role", "user"}, {"content", std::string("Is it MRN ") + kMrn + "?"}}})}};
    std::vector<std::pair<std::string, std::string>> headers = {
        {"authorization", std::string("Bearer ") + kClinicianKey}, {"x-phigate-feature", "scribe"}};
    if (!conversation.empty()) headers.emplace_back("x-phigate-conversation", conversation);
    return HttpCall(gw_->port(), "POST", "/v1/chat/completions", body.dump(), headers);
  };
  auto metrics = [&] { return HttpCall(gw_->port(), "GET", "/metrics", "", {}).body; };
  const std::string hit = "phigate_detection_cache_total{result=\"hit\"}";
  const std::string miss = "phigate_detection_cache_total{result=\"miss\"}";

  ASSERT_EQ(turn("").status, 200u);  // no conversation: nothing cached
  EXPECT_EQ(Metric(metrics(), miss), "");
  HttpResult first = turn("conv-cache-1");
  ASSERT_EQ(first.status, 200u) << first.body;
  EXPECT_EQ(Metric(metrics(), miss), "1");  // only the long message is cacheable
  EXPECT_EQ(Metric(metrics(), hit), "");
  HttpResult second = turn("conv-cache-1");  // the next turn resends the history
  ASSERT_EQ(second.status, 200u) << second.body;
  EXPECT_EQ(Metric(metrics(), hit), "1");
  ASSERT_EQ(turn("conv-cache-2").status, 200u);  // another conversation scans again
  EXPECT_EQ(Metric(metrics(), hit), "1");
  EXPECT_EQ(Metric(metrics(), miss), "2");
  // A cached scan de-identifies as a fresh one: the upstream never saw the MRN
  // or the name, and the clinician got both back.
  ASSERT_EQ(upstream_->count(), 4u);
  EXPECT_THAT(upstream_->AllReceivedBytes(), Not(HasSubstr(kMrn)));
  EXPECT_THAT(upstream_->AllReceivedBytes(), Not(HasSubstr("Ashdale")));
  EXPECT_THAT(second.body, HasSubstr(kMrn));
  EXPECT_EQ(first.body, second.body);  // same conversation scope: same tokens, same answer
  Stop();

  WriteRaw(PolicyText(false) + "gateway:\n  detection_cache_entries: -1\n");
  const Status bad = BuildStatus();
  EXPECT_EQ(bad.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(bad.message()), HasSubstr("gateway.detection_cache_entries"));
}

// GET /v1/models lists what the caller's feature may call: the models its
// routes name (not every model the vendor declares) that the policy allows
// this caller (a feature of another role lists nothing).
TEST_F(ServeStackTest, ModelsListedAreThoseThePolicyAllows) {
  const std::string cloud =
      "  - name: cloud\n    kind: openai\n    api_base: " + upstream_->url("/v1") +
      "\n    region: us\n    endpoints: [chat/completions, responses]\n"
      "    models: [cloud-a, cloud-b]\n"
      "features:\n";
  const std::string routes = "      - vendor: local\n        models: [\"*\"]\n";
  const std::string research =
      "  - name: research\n    purpose: research\n    roles: [analyst]\n"
      "    phi:\n      NAME: redact\n"
      "    routes:\n      - vendor: local\n        models: [\"*\"]\n";
  std::string policy = PolicyText(false);
  policy.replace(policy.find("features:\n"), 10, cloud);
  policy.replace(policy.find(routes), routes.size(),
                 routes + "      - vendor: cloud\n        models: [cloud-a]\n");
  policy += research;
  WriteRaw(policy);
  Start(false);
  auto listed = [&](const std::string& feature) {
    HttpResult r = HttpCall(gw_->port(), "GET", "/v1/models", "",
                            {{"authorization", std::string("Bearer ") + kClinicianKey},
                             {"x-phigate-feature", feature}});
    EXPECT_EQ(r.status, 200u) << r.body;
    const json list = json::parse(r.body);
    std::vector<std::string> ids;
    for (const json& m : list["data"]) ids.push_back(m["id"]);
    return ids;
  };
  EXPECT_THAT(listed("scribe"), ::testing::ElementsAre("local-llama", "cloud-a"));
  EXPECT_THAT(listed("research"), ::testing::IsEmpty());  // the policy denies a clinician
  EXPECT_THAT(listed("billing"), ::testing::IsEmpty());   // no such feature
  // No header and no feature bound to the key: a 400 in the OpenAI format.
  HttpResult none = HttpCall(gw_->port(), "GET", "/v1/models", "",
                             {{"authorization", std::string("Bearer ") + kClinicianKey}});
  EXPECT_EQ(none.status, 400u);
  EXPECT_THAT(json::parse(none.body)["error"]["message"].get<std::string>(),
              HasSubstr("no feature"));
}

TEST_F(ServeStackTest, EditedPolicyReloadsAndABrokenOneKeepsTheOld) {
  Start(/*watch=*/true);
  EXPECT_EQ(stack_->policy_generation(), 1u);
  EXPECT_EQ(Chat(kNewKey).status, 401u);
  ASSERT_EQ(Chat(kClinicianKey).status, 200u);

  // Add a user: the next requests see the new policy.
  WritePolicy(/*with_newcomer=*/true);
  ASSERT_TRUE(Eventually([&] { return stack_->policy_generation() >= 2; }));
  PHIGATE_EXPECT_OK(stack_->policy_last_error());
  EXPECT_EQ(Chat(kNewKey).status, 200u);

  // A broken file: the reload fails and the old policy stays in force.
  WriteRaw("version: 1\nusers: [this is not: a valid policy\n");
  ASSERT_TRUE(Eventually([&] { return !stack_->policy_last_error().ok(); }));
  EXPECT_EQ(stack_->policy_generation(), 2u);
  EXPECT_EQ(Chat(kNewKey).status, 200u);
  EXPECT_EQ(Chat(kClinicianKey).status, 200u);
  HttpResult ready = HttpCall(gw_->port(), "GET", "/readyz", "");
  EXPECT_EQ(ready.status, 200u);

  // Fixed again (the newcomer removed): reloads.
  WritePolicy(/*with_newcomer=*/false);
  ASSERT_TRUE(Eventually([&] { return stack_->policy_generation() >= 3; }));
  EXPECT_EQ(Chat(kNewKey).status, 401u);
}

}  // namespace
}  // namespace phigate::gateway
