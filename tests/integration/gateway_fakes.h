// Test fakes for the gateway's seams (include/phigate/gateway/interfaces.h):
// a key table, a fixed decision table, a dictionary detector, an in-memory
// vault and an in-memory audit sink, each with switches to make it fail.
// Synthetic values only.
#ifndef PHIGATE_TESTS_INTEGRATION_GATEWAY_FAKES_H_
#define PHIGATE_TESTS_INTEGRATION_GATEWAY_FAKES_H_

#include <atomic>
#include <map>
#include <mutex>
#include <random>
#include <stdexcept>
#include <string>
#include <tuple>
#include <utility>
#include <vector>

#include "nlohmann/json.hpp"
#include "phigate/gateway/config.h"
#include "phigate/gateway/interfaces.h"

namespace phigate::testing {

using gateway::Action;

class FakeAuth : public gateway::Authenticator {
 public:
  void Add(std::string key, std::string tenant, std::string user, std::string feature = "scribe") {
    gateway::Principal p;
    p.tenant = TenantId(std::move(tenant));
    p.user = UserId(std::move(user));
    p.key_id = "key-" + p.user.value();
    p.default_feature = std::move(feature);
    keys_[std::move(key)] = p;
  }
  Result<gateway::Principal> Authenticate(std::string_view key) const override {
    auto it = keys_.find(std::string(key));
    if (it == keys_.end()) return absl::UnauthenticatedError("unknown key");
    return it->second;
  }

 private:
  std::map<std::string, gateway::Principal> keys_;
};

class FakePolicy : public gateway::PolicyDecider {
 public:
  FakePolicy() {
    base_.allowed = true;
    base_.SetAll(Action::kTokenize);
    base_.policy_version = "test-v1";
    base_.purpose = "treatment";
    base_.reasons = {"BAA_ACTIVE"};
  }
  gateway::Decision& base() { return base_; }
  // Users that may not see PHI in answers.
  void DenyReid(std::string user) { no_reid_.push_back(std::move(user)); }
  std::atomic<bool> fail{false};
  std::atomic<bool> is_loaded{true};

  Result<gateway::Decision> Decide(const gateway::DecisionRequest& r) const override {
    if (fail || !is_loaded) return absl::UnavailableError("no policy loaded");
    gateway::Decision d = base_;
    d.reidentify = true;
    for (const auto& u : no_reid_) {
      if (r.principal->user.value() == u) d.reidentify = false;
    }
    return d;
  }
  bool loaded() const override { return is_loaded; }

 private:
  gateway::Decision base_;
  std::vector<std::string> no_reid_;
};

// Finds every occurrence of the registered synthetic strings.
class DictDetector : public gateway::Detector {
 public:
  void Add(std::string value, PhiCategory c) { dict_.emplace_back(std::move(value), c); }
  std::atomic<bool> fail{false};
  std::atomic<bool> throws{false};  // Scan throws (a bug's stand-in), not an error status
  Status Scan(std::string_view text, Findings* out) const override {
    if (fail) return absl::InternalError("scratch exhausted");
    if (throws) throw std::runtime_error("detector bug");
    out->clear();
    for (size_t i = 0; i < text.size();) {
      bool hit = false;
      for (const auto& [v, c] : dict_) {
        if (text.substr(i, v.size()) == v) {
          out->push_back(Finding{c, i, i + v.size(), 0.9f, "dict"});
          i += v.size();
          hit = true;
          break;
        }
      }
      if (!hit) ++i;
    }
    return absl::OkStatus();
  }

 private:
  std::vector<std::pair<std::string, PhiCategory>> dict_;
};

class MemoryVault : public gateway::TokenVault {
 public:
  MemoryVault(std::string tenant, std::atomic<bool>* fail)
      : tenant_(std::move(tenant)), fail_(fail) {}
  Result<std::string> Tokenize(PhiCategory c, std::string_view v, std::string_view scope) override {
    return Get(c, v, scope, false);
  }
  Result<std::string> Surrogate(PhiCategory c, std::string_view v,
                                std::string_view scope) override {
    return Get(c, v, scope, true);
  }
  std::vector<std::string> AllTokens() {
    std::lock_guard<std::mutex> lock(mu_);
    std::vector<std::string> out;
    for (auto& [k, t] : map_) out.push_back(t);
    return out;
  }

 private:
  Result<std::string> Get(PhiCategory c, std::string_view v, std::string_view scope, bool sur) {
    if (fail_->load()) return absl::UnavailableError("store down");
    std::lock_guard<std::mutex> lock(mu_);
    auto key = std::make_tuple(std::string(scope), c, std::string(v), sur);
    auto it = map_.find(key);
    if (it != map_.end()) return it->second;
    static constexpr char kAlpha[] = "23456789ABCDEFGHJKMNPQRSTVWXYZ";
    std::string body;
    for (int i = 0; i < 5; ++i) body.push_back(kAlpha[rng_() % 30]);
    std::string t =
        sur ? "Surro" + body + " Gatewood" : "[" + std::string(CategoryName(c)) + "_" + body + "]";
    map_[key] = t;
    return t;
  }
  std::string tenant_;
  std::atomic<bool>* fail_;
  std::mutex mu_;
  std::mt19937 rng_{std::random_device{}()};
  std::map<std::tuple<std::string, PhiCategory, std::string, bool>, std::string> map_;
};

class MemoryVaultProvider : public gateway::VaultProvider {
 public:
  std::atomic<bool> fail{false};
  Result<std::shared_ptr<gateway::TokenVault>> ForTenant(const TenantId& t) override {
    if (fail) return absl::UnavailableError("store down");
    std::lock_guard<std::mutex> lock(mu_);
    auto& v = vaults_[t.value()];
    if (!v) v = std::make_shared<MemoryVault>(t.value(), &fail_tokens);
    return std::shared_ptr<gateway::TokenVault>(v);
  }
  bool ready() const override { return !fail; }
  std::shared_ptr<MemoryVault> vault(const std::string& tenant) {
    std::lock_guard<std::mutex> lock(mu_);
    return vaults_[tenant];
  }
  std::atomic<bool> fail_tokens{false};

 private:
  std::mutex mu_;
  std::map<std::string, std::shared_ptr<MemoryVault>> vaults_;
};

class MemoryAudit : public gateway::AuditSink {
 public:
  std::atomic<bool> fail{false};
  std::atomic<bool> fail_ingress{false};  // only the answers' events fail
  Status Commit(const gateway::AuditRecord& r) override {
    if (fail) return absl::UnavailableError("disk full");
    if (fail_ingress && r.phase == gateway::AuditPhase::kIngress) {
      return absl::UnavailableError("disk full");
    }
    std::lock_guard<std::mutex> lock(mu_);
    records_.push_back(r);
    return absl::OkStatus();
  }
  bool ready() const override { return !fail; }
  std::vector<gateway::AuditRecord> records() {
    std::lock_guard<std::mutex> lock(mu_);
    return records_;
  }

 private:
  std::mutex mu_;
  std::vector<gateway::AuditRecord> records_;
};

// The OpenAI upstream every gateway test talks to: a FakeUpstream serving
// base_url (".../v1"), model gpt-4o, upstream key "sk-upstream".
// A streamed Responses API answer as OpenAI sends it: (type, data) with
// increasing sequence numbers; `answer` as one message item's output_text,
// in deltas of `piece` bytes, then the whole texts, and last
// response.completed with `response` (its output set to the item).
inline std::vector<std::pair<std::string, nlohmann::json>> ResponsesStreamEvents(
    const std::string& answer, size_t piece, nlohmann::json response) {
  using nlohmann::json;
  std::vector<std::pair<std::string, json>> evs;
  auto ev = [&](const std::string& type, json data) {
    data["type"] = type;
    data["sequence_number"] = evs.size();
    evs.emplace_back(type, std::move(data));
  };
  const json at = {{"item_id", "msg_1"}, {"output_index", 0}, {"content_index", 0}};
  auto with = [&](json extra) {
    json j = at;
    j.update(extra);
    return j;
  };
  const json part = {{"type", "output_text"}, {"text", answer}, {"annotations", json::array()}};
  const json item = {{"type", "message"},
                     {"id", "msg_1"},
                     {"status", "completed"},
                     {"role", "assistant"},
                     {"content", json::array({part})}};
  ev("response.created",
     {{"response", {{"id", "resp_1"}, {"status", "in_progress"}, {"output", json::array()}}}});
  ev("response.output_item.added",
     {{"output_index", 0},
      {"item", {{"type", "message"}, {"id", "msg_1"}, {"content", json::array()}}}});
  ev("response.content_part.added", with({{"part", {{"type", "output_text"}, {"text", ""}}}}));
  for (size_t i = 0; i < answer.size(); i += piece) {
    ev("response.output_text.delta", with({{"delta", answer.substr(i, piece)}}));
  }
  ev("response.output_text.done", with({{"text", answer}}));
  ev("response.content_part.done", with({{"part", part}}));
  ev("response.output_item.done", {{"output_index", 0}, {"item", item}});
  response["output"] = json::array({item});
  ev("response.completed", {{"response", std::move(response)}});
  return evs;
}

inline gateway::UpstreamConfig OpenAiUpstream(std::string base_url) {
  gateway::UpstreamConfig oa;
  oa.vendor = "openai";
  oa.kind = gateway::VendorKind::kOpenAI;
  oa.base_url = std::move(base_url);
  oa.models = {"gpt-4o"};
  oa.api_key = "sk-upstream";
  return oa;
}

}  // namespace phigate::testing

#endif  // PHIGATE_TESTS_INTEGRATION_GATEWAY_FAKES_H_
