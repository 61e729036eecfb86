// `phigate serve` wiring: adapters from the gateway's seams to the real modules.

#include <atomic>
#include <condition_variable>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <mutex>
#include <thread>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "phigate/audit/audit_log.h"
#include "phigate/audit/event.h"
#include "phigate/audit/log_store.h"
#include "phigate/audit/subject.h"
#include "phigate/core/paths.h"
#include "phigate/crypto/key_provider.h"
#include "phigate/crypto/secret.h"
#include "phigate/crypto/signer.h"
#include "phigate/detect/engine.h"
#include "phigate/gateway/breach_scanner.h"
#include "phigate/gateway/containment.h"
#include "phigate/gateway/serve.h"
#include "phigate/policy/holder.h"
#include "phigate/policy/policy.h"
#include "phigate/store/sqlite_process.h"
#include "phigate/store/store.h"
#include "phigate/transform/date_shift.h"
#include "phigate/transform/redactor.h"
#include "phigate/transform/surrogate.h"
#include "phigate/vault/vault.h"

namespace phigate::gateway {

// The gateway writes the reason code that the audit module's accounting reads.
static_assert(kReasonUpstreamNotSent == audit::kReasonUpstreamNotSent);

namespace {

// --- detect ---------------------------------------------------------------
class EngineDetector : public Detector {
 public:
  explicit EngineDetector(std::unique_ptr<detect::Engine> e) : engine_(std::move(e)) {}
  Status Scan(std::string_view text, Findings* out) const override {
    thread_local std::unique_ptr<detect::ScanContext> ctx;
    thread_local const detect::Engine* owner = nullptr;
    if (!ctx || owner != engine_.get()) {
      ctx = engine_->NewContext();
      owner = engine_.get();
    }
    return engine_->Scan(text, *ctx, out);
  }

 private:
  std::unique_ptr<detect::Engine> engine_;
};

// --- transform (redact) ---------------------------------------------------
class TransformRedactor : public Redactor {
 public:
  explicit TransformRedactor(std::unique_ptr<transform::Redactor> r) : r_(std::move(r)) {}
  Result<std::string> Redact(std::string_view original, const Finding& f) const override {
    Findings one{Finding{f.category, 0, original.size(), f.score, f.recognizer}};
    return r_->Apply(original, one);
  }

 private:
  std::unique_ptr<transform::Redactor> r_;
};

// --- policy: auth, decisions, routes --------------------------------------
Action MapAction(policy::Action a) {
  switch (a) {
    case policy::Action::kAllow:
      return Action::kAllow;
    case policy::Action::kSurrogate:
      return Action::kSurrogate;
    case policy::Action::kTokenize:
      return Action::kTokenize;
    case policy::Action::kRedact:
      return Action::kRedact;
    case policy::Action::kBlock:
      return Action::kBlock;
  }
  return Action::kBlock;
}

class PolicyAdapter : public Authenticator, public PolicyDecider, public Router {
 public:
  explicit PolicyAdapter(std::unique_ptr<policy::PolicyHolder> h) : holder_(std::move(h)) {}
  policy::PolicyHolder& holder() { return *holder_; }

  Result<Principal> Authenticate(std::string_view api_key) const override {
    std::shared_ptr<const policy::Policy> p = holder_->Current();
    const policy::User* u = p->FindUserByApiKey(api_key);
    if (u == nullptr) return absl::UnauthenticatedError("unknown API key");
    PHIGATE_ASSIGN_OR_RETURN(TenantId t, MakeTenantId(u->tenant));
    Principal who;
    who.tenant = std::move(t);
    who.user = UserId(u->id);
    for (size_t r = 0; r < policy::kNumRoles; ++r) {
      if (u->roles & (1u << r)) {
        who.roles.emplace_back(policy::RoleName(static_cast<policy::Role>(r)));
      }
    }
    who.key_id = "user:" + u->id;
    return who;
  }

  Result<Decision> Decide(const DecisionRequest& r) const override {
    std::shared_ptr<const policy::Policy> p = holder_->Current();
    policy::DecisionRequest pr{r.principal->tenant.value(),
                               r.principal->user.value(),
                               r.feature,
                               r.vendor,
                               r.endpoint,
                               r.model,
                               absl::Now()};
    const policy::Decision& pd = p->Decide(pr);
    Decision d;
    d.allowed = pd.allowed;
    for (size_t i = 0; i < kNumPhiCategories; ++i) d.actions[i] = MapAction(pd.actions[i]);
    d.policy_version = pd.policy_version.empty() ? p->version() : pd.policy_version;
    d.baa_id = pd.baa_id;
    d.reidentify = pd.reidentify;
    d.token_scope = "conversation";
    for (const policy::Reason& reason : pd.reasons) {
      d.reasons.push_back(
          absl::StrCat(ToAbsl(policy::ReasonCodeName(reason.code)), ": ", reason.text));
    }
    if (const policy::Feature* f = p->config().FindFeature(r.feature)) d.purpose = f->purpose;
    return d;
  }
  bool loaded() const override { return holder_->Current() != nullptr; }

  Result<std::vector<RouteTarget>> Routes(const Principal&, std::string_view feature,
                                          std::string_view, std::string_view model,
                                          std::string_view hint) const override {
    std::shared_ptr<const policy::Policy> p = holder_->Current();
    const policy::Feature* f = p->config().FindFeature(feature);
    if (f == nullptr) return absl::NotFoundError("unknown feature");
    std::vector<RouteTarget> out;
    for (const policy::Route& route : f->routes) {
      if (!hint.empty() && route.vendor != hint) continue;
      bool listed = false;
      for (const std::string& m : route.models) listed |= m == "*" || m == model;
      if (!listed) continue;
      const policy::Vendor* v = p->config().FindVendor(route.vendor);
      if (v == nullptr) continue;
      const policy::VendorModel* vm = v->FindModel(model);
      if (vm == nullptr) continue;
      out.push_back(
          RouteTarget{v->name, vm->upstream_model.empty() ? vm->name : vm->upstream_model});
    }
    return out;
  }

  std::vector<ListedModel> Models(const Principal& who, std::string_view feature) const override {
    std::shared_ptr<const policy::Policy> p = holder_->Current();
    std::vector<ListedModel> out;
    const policy::Feature* f = p->config().FindFeature(feature);
    if (f == nullptr) return out;
    const absl::Time now = absl::Now();
    for (const policy::Route& route : f->routes) {
      const policy::Vendor* v = p->config().FindVendor(route.vendor);
      if (v == nullptr) continue;
      for (const policy::VendorModel& vm : v->models) {
        bool listed = false;
        for (const std::string& m : route.models) listed |= m == "*" || m == vm.name;
        bool known = false;
        for (const ListedModel& l : out) known |= l.model == vm.name;
        if (!listed || known) continue;
        bool allowed = false;
        for (const std::string& e : v->endpoints) {
          policy::DecisionRequest pr{
              who.tenant.value(), who.user.value(), feature, v->name, e, vm.name, now};
          allowed = allowed || p->Decide(pr).allowed;
        }
        if (allowed) out.push_back(ListedModel{vm.name, v->name});
      }
    }
    return out;
  }

 private:
  std::unique_ptr<policy::PolicyHolder> holder_;
};

// --- vault ------------------------------------------------------------------
vault::Scope ToScope(std::string_view s) {
  if (s == "tenant") return vault::Scope::Tenant();
  if (s.rfind("conv:", 0) == 0) return vault::Scope::Conversation(std::string(s.substr(5)));
  return vault::Scope::Request(std::string(s));
}

class RealVault : public TokenVault {
 public:
  RealVault(std::unique_ptr<vault::Vault> v, const transform::SurrogateGenerator* gen,
            bool request_tokens_in_store)
      : v_(std::move(v)), gen_(gen), request_tokens_in_store_(request_tokens_in_store) {}
  Result<std::string> Tokenize(PhiCategory c, std::string_view value,
                               std::string_view scope) override {
    return v_->Tokenize(c, value, ToScope(scope));
  }
  Result<std::vector<std::string>> TokenizeBatch(
      const std::vector<std::pair<PhiCategory, std::string_view>>& values,
      std::string_view scope) override {
    std::vector<vault::TokenRequest> reqs;
    reqs.reserve(values.size());
    for (const auto& [c, v] : values) reqs.push_back(vault::TokenRequest{c, v});
    return v_->TokenizeBatch(reqs, ToScope(scope));
  }
  // The gateway's request scopes (a fresh request id) are minted into once.
  // With gateway.request_tokens: memory (the default) their tokens are not
  // stored at all: the request re-identifies its answer from its own map.
  Result<std::vector<std::string>> TokenizeBatchOnce(
      const std::vector<std::pair<PhiCategory, std::string_view>>& values,
      std::string_view scope) override {
    std::vector<vault::TokenRequest> reqs;
    reqs.reserve(values.size());
    for (const auto& [c, v] : values) reqs.push_back(vault::TokenRequest{c, v});
    const vault::Scope sc = ToScope(scope);
    if (!request_tokens_in_store_ && sc.kind == vault::ScopeKind::kRequest) {
      return vault::MintUnstoredTokens(reqs, vault::VaultOptions{}.token_length);
    }
    return v_->TokenizeBatchOnce(reqs, sc);
  }
  Result<std::string> Surrogate(PhiCategory c, std::string_view value,
                                std::string_view scope) override {
    PHIGATE_ASSIGN_OR_RETURN(std::vector<std::string> out, SurrogateBatch({{c, value}}, scope));
    return std::move(out[0]);
  }
  // One vault transaction for the surrogates (dates moved by the scope's one
  // offset, in their own letter case), one for the values that get a token:
  // a date the generator cannot shape (unknown format) or whose one shifted
  // form another spelling of the scope took ("Oct 31, 2022" and "October 31,
  // 2022" both become "May 20, 2022").
  Result<std::vector<std::string>> SurrogateBatch(
      const std::vector<std::pair<PhiCategory, std::string_view>>& values,
      std::string_view scope) override {
    return SurrogateBatchAvoiding(values, scope, nullptr);
  }
  // A candidate `avoid` holds (its words are text the request keeps) is drawn
  // again, 16 times at most, as the CLI does for a batch (transform::KeptWords).
  Result<std::vector<std::string>> SurrogateBatchAvoiding(
      const std::vector<std::pair<PhiCategory, std::string_view>>& values, std::string_view scope,
      const std::function<bool(std::string_view)>& avoid) override {
    const vault::Scope sc = ToScope(scope);
    int shift = 0;
    if (std::any_of(values.begin(), values.end(),
                    [](const auto& v) { return v.first == PhiCategory::kDate; })) {
      PHIGATE_ASSIGN_OR_RETURN(shift, v_->DateShiftDays(sc, 365));
    }
    // One key for the scope's name parts: "Smith" gets one surname in every name.
    std::string name_key;
    if (std::any_of(values.begin(), values.end(),
                    [](const auto& v) { return v.first == PhiCategory::kName; })) {
      PHIGATE_ASSIGN_OR_RETURN(name_key, v_->ScopeSecret(sc, transform::kNamePartsPurpose));
    }
    const transform::SurrogateContext context{shift, name_key};
    std::vector<vault::SurrogateRequest> reqs;
    reqs.reserve(values.size());
    for (const auto& [c, v] : values) reqs.push_back(vault::SurrogateRequest{c, v});
    const transform::SurrogateGenerator* gen = gen_;
    std::vector<Result<std::string>> made;
    PHIGATE_RETURN_IF_ERROR(v_->SurrogateBatch(
        reqs, sc,
        [gen, &context, &avoid](size_t, PhiCategory cat, std::string_view orig, int attempt) {
          Result<std::string> candidate = gen->Generate(cat, orig, attempt, context);
          for (int i = 0;
               i < 16 && avoid && cat != PhiCategory::kDate && candidate.ok() && avoid(*candidate);
               ++i) {
            candidate = gen->Generate(cat, orig, attempt + 1 + i, context);
          }
          return candidate;
        },
        &made));
    std::vector<std::string> out(values.size());
    std::vector<vault::TokenRequest> tok;
    std::vector<size_t> tok_at;
    for (size_t i = 0; i < values.size(); ++i) {
      const auto& [c, v] = values[i];
      if (made[i].ok()) {
        out[i] = c == PhiCategory::kDate ? transform::MatchDateCase(v, shift, *std::move(made[i]))
                                         : *std::move(made[i]);
        continue;
      }
      const absl::StatusCode code = made[i].status().code();
      // An unparsed date, a date whose shifted form another spelling took, a
      // value with no unique surrogate left in the scope: a token instead.
      if (code == absl::StatusCode::kInvalidArgument ||
          code == absl::StatusCode::kResourceExhausted ||
          (c == PhiCategory::kDate && code == absl::StatusCode::kAlreadyExists)) {
        tok.push_back(vault::TokenRequest{c, v});
        tok_at.push_back(i);
        continue;
      }
      return made[i].status();
    }
    if (!tok.empty()) {
      PHIGATE_ASSIGN_OR_RETURN(std::vector<std::string> tokens, v_->TokenizeBatch(tok, sc));
      for (size_t j = 0; j < tok.size(); ++j) out[tok_at[j]] = std::move(tokens[j]);
    }
    return out;
  }
  Status RotateKey() override { return v_->RotateKey().status(); }

 private:
  std::unique_ptr<vault::Vault> v_;
  const transform::SurrogateGenerator* gen_;
  const bool request_tokens_in_store_;
};

class RealVaultProvider : public VaultProvider {
 public:
  RealVaultProvider(std::unique_ptr<store::Store> store, std::unique_ptr<crypto::KeyProvider> keys,
                    std::unique_ptr<transform::SurrogateGenerator> gen,
                    bool request_tokens_in_store)
      : store_(std::move(store)),
        keys_(std::move(keys)),
        gen_(std::move(gen)),
        request_tokens_in_store_(request_tokens_in_store) {}
  Result<std::shared_ptr<TokenVault>> ForTenant(const TenantId& tenant) override {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = vaults_.find(tenant.value());
    if (it != vaults_.end()) return it->second;
    PHIGATE_ASSIGN_OR_RETURN(std::unique_ptr<store::TenantStore> ts, store_->ForTenant(tenant));
    PHIGATE_ASSIGN_OR_RETURN(std::unique_ptr<vault::Vault> v,
                             vault::Vault::Open(std::move(ts), *keys_, vault::VaultOptions{}));
    auto tv = std::make_shared<RealVault>(std::move(v), gen_.get(), request_tokens_in_store_);
    vaults_[tenant.value()] = tv;
    return std::shared_ptr<TokenVault>(tv);
  }
  bool ready() const override { return store_ != nullptr && keys_ != nullptr; }

 private:
  std::unique_ptr<store::Store> store_;
  std::unique_ptr<crypto::KeyProvider> keys_;
  std::unique_ptr<transform::SurrogateGenerator> gen_;
  const bool request_tokens_in_store_;
  std::mutex mu_;
  std::map<std::string, std::shared_ptr<TokenVault>> vaults_;
};

// --- audit ------------------------------------------------------------------
// AuditId allows [A-Za-z0-9_.:/-]{1,128}; anything else becomes '_'.
audit::AuditId Id(std::string_view raw) {
  if (raw.empty()) return audit::AuditId();
  std::string s(raw.substr(0, audit::kMaxAuditIdLength));
  for (char& c : s) {
    const bool ok = std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '.' ||
                    c == ':' || c == '/' || c == '-';
    if (!ok) c = '_';
  }
  Result<audit::AuditId> id = audit::AuditId::Make(s);
  return id.ok() ? *id : audit::AuditId();
}

class RealAudit : public AuditSink {
 public:
  explicit RealAudit(std::unique_ptr<audit::AuditLog> log) : log_(std::move(log)) {}
  Status Commit(const AuditRecord& r) override {
    audit::AuditEvent e;
    e.time_us = absl::ToUnixMicros(absl::Now());
    e.kind =
        r.phase == AuditPhase::kIngress ? audit::EventKind::kIngress : audit::EventKind::kEgress;
    if (r.phase == AuditPhase::kBreach) e.kind = audit::EventKind::kBreach;
    e.tenant = r.tenant;
    e.user = Id(r.user.value());
    if (!r.roles.empty()) e.role = Id(r.roles.front());
    e.feature = Id(r.feature);
    e.purpose = Id(r.purpose);
    e.request_id = Id(r.request_id);
    e.vendor = Id(r.vendor);
    e.endpoint = Id(r.endpoint);
    e.model = Id(r.model);
    e.baa_id = Id(r.baa_id);
    e.policy_version = Id(r.policy_version);
    e.decision = r.outcome == AuditOutcome::kBlocked && r.phase == AuditPhase::kRefused
                     ? audit::Decision::kDeny
                     : audit::Decision::kAllow;
    switch (r.outcome) {
      case AuditOutcome::kBlocked:
        e.outcome = audit::Outcome::kBlocked;
        break;
      case AuditOutcome::kError:
        e.outcome = audit::Outcome::kError;
        break;
      default:
        e.outcome = audit::Outcome::kForwarded;
        break;
    }
    if (r.phase == AuditPhase::kRefused && r.outcome != AuditOutcome::kBlocked) {
      e.outcome = audit::Outcome::kError;
    }
    for (const std::string& reason : r.reasons) {
      audit::AuditId id = Id(std::string_view(reason).substr(0, reason.find(':')));
      if (!id.empty()) e.reasons.push_back(std::move(id));
    }
    for (size_t c = 0; c < kNumPhiCategories; ++c) {
      if (r.category_counts[c] > 0)
        e.AddCategoryCount(static_cast<PhiCategory>(c), r.category_counts[c]);
    }
    e.sent_as_written.emplace();
    for (size_t c = 0; c < kNumPhiCategories; ++c) {
      if (r.sent_as_written[c] > 0)
        e.sent_as_written->emplace_back(static_cast<PhiCategory>(c), r.sent_as_written[c]);
    }
    static constexpr audit::OperatorKind kOps[] = {
        audit::OperatorKind::kAllow, audit::OperatorKind::kTokenize,
        audit::OperatorKind::kSurrogate, audit::OperatorKind::kRedact, audit::OperatorKind::kBlock};
    for (size_t a = 0; a < r.action_counts.size(); ++a) {
      if (r.action_counts[a] > 0) e.AddOperator(kOps[a]);
    }
    e.tokens_minted = r.tokens_minted;
    e.tokens_reidentified = r.tokens_reidentified;
    for (const std::string& hex : r.subject_refs) {
      Result<audit::BlindIndex> b = audit::BlindIndexFromHex(hex);
      if (!b.ok()) return absl::InternalError("audit: malformed subject reference");
      e.subjects.push_back(*b);
    }
    Result<uint64_t> seq = log_->Append(e);
    const int64_t now = absl::ToUnixMicros(absl::Now());
    if (!seq.ok()) {
      last_failure_us_.store(now);
      return absl::UnavailableError("the audit trail could not commit the event");
    }
    last_success_us_.store(now);
    return absl::OkStatus();
  }
  // Not ready while the last commit failed (every audited request would be
  // refused: a load balancer should send them elsewhere) — for at most
  // kUnreadyFor after that failure, so that traffic probes again: no commit
  // is attempted without a request.
  bool ready() const override {
    if (log_ == nullptr) return false;
    const int64_t failed = last_failure_us_.load();
    if (failed == 0 || last_success_us_.load() > failed) return true;
    return absl::ToUnixMicros(absl::Now()) - failed > kUnreadyForUs;
  }

 private:
  static constexpr int64_t kUnreadyForUs = 5'000'000;
  std::unique_ptr<audit::AuditLog> log_;
  std::atomic<int64_t> last_failure_us_{0};
  std::atomic<int64_t> last_success_us_{0};
};

// Subject blind indexes as `phigate audit disclosures --patient` looks them up:
// SubjectIndexFor (with the finding's category) under the tenant's audit key
// (HKDF of the master key).
class AuditSubjectIndexer : public SubjectIndexer {
 public:
  explicit AuditSubjectIndexer(std::string master_raw) : master_(std::move(master_raw)) {}
  Result<std::string> Index(const TenantId& tenant, PhiCategory category,
                            std::string_view identifier) const override {
    std::string key;
    {
      std::lock_guard<std::mutex> lock(mu_);
      auto it = keys_.find(tenant.value());
      if (it == keys_.end()) {
        PHIGATE_ASSIGN_OR_RETURN(std::string k, audit::TenantAuditKey(master_, tenant));
        it = keys_.emplace(tenant.value(), std::move(k)).first;
      }
      key = it->second;
    }
    PHIGATE_ASSIGN_OR_RETURN(audit::BlindIndex b,
                             audit::SubjectIndexFor(key, category, identifier));
    return audit::BlindIndexHex(b);
  }

 private:
  const std::string master_;
  mutable std::mutex mu_;
  mutable std::map<std::string, std::string> keys_;  // tenant -> audit key; guarded by mu_
};

VendorKind MapKind(policy::VendorKind k) {
  switch (k) {
    case policy::VendorKind::kOpenAi:
      return VendorKind::kOpenAI;
    case policy::VendorKind::kAzureOpenAi:
      return VendorKind::kAzureOpenAI;
    case policy::VendorKind::kAnthropic:
      return VendorKind::kAnthropic;
    case policy::VendorKind::kBedrock:
      return VendorKind::kBedrock;
    case policy::VendorKind::kSelfHosted:
      return VendorKind::kOpenAICompatible;
  }
  return VendorKind::kOpenAICompatible;
}

class Stack : public ServeStack {
 public:
  const GatewayConfig& config() const override { return config_; }
  const GatewayDeps& deps() const override { return deps_; }
  std::string Describe() const override { return describe_; }
  uint64_t policy_generation() const override { return policy_->holder().generation(); }
  Status policy_last_error() const override { return policy_->holder().last_error(); }
  void RequestPolicyReload() override {
    if (watcher_) watcher_->RequestReload();
  }

  GatewayConfig config_;
  GatewayDeps deps_;
  std::string describe_;
  std::unique_ptr<policy::PolicyWatcher> watcher_;
  std::shared_ptr<PolicyAdapter> policy_;
  // Declared last: stopped first, before the stores it checkpoints close.
  std::unique_ptr<store::WalCheckpointer> checkpointer_;
};

std::string EnvOr(const char* name, std::string fallback) {
  const char* v = std::getenv(name);
  return v != nullptr && *v != '\0' ? std::string(v) : fallback;
}

// A key file's text, surrounding whitespace removed: an owner-only regular
// file (crypto::ReadSecretFile; `what` names it in errors, never its bytes).
Result<std::string> KeyFileText(const std::string& path, std::string_view what) {
  PHIGATE_ASSIGN_OR_RETURN(crypto::SecretBytes text, crypto::ReadSecretFile(path, what));
  return std::string(absl::StripAsciiWhitespace(ToAbsl(text.view())));
}

}  // namespace

Result<std::unique_ptr<ServeStack>> ServeStack::Build(const std::string& path,
                                                      const ServeOptions& options) {
  auto stack = std::make_unique<Stack>();
  PHIGATE_ASSIGN_OR_RETURN(stack->config_, LoadGatewayConfig(path));
  GatewayConfig& cfg = stack->config_;

  // Policy (fails on a bad file), with live reload.
  PHIGATE_ASSIGN_OR_RETURN(std::unique_ptr<policy::PolicyHolder> holder,
                           policy::PolicyHolder::Create(path, policy::LoadOptions{}));
  stack->policy_ = std::make_shared<PolicyAdapter>(std::move(holder));
  // Requests read PolicyHolder::Current() each time, so a reload applies to the
  // next request. Routes to vendors not configured at startup need a restart.
  if (options.watch_policy) {
    policy::WatchOptions wo;
    wo.poll_interval = options.policy_poll_interval;
    wo.on_reload = [](const Status& s, uint64_t generation) {
      if (s.ok()) {
        std::fprintf(stderr, "phigate serve: policy reloaded (generation %llu)\n",
                     static_cast<unsigned long long>(generation));
      } else {
        std::fprintf(stderr, "phigate serve: policy reload failed, keeping the old policy: %s\n",
                     std::string(s.message()).c_str());
      }
    };
    PHIGATE_ASSIGN_OR_RETURN(stack->watcher_,
                             policy::PolicyWatcher::Start(stack->policy_->holder(), std::move(wo)));
    policy::PolicyWatcher::InstallSighupHandler();  // `kill -HUP` reloads too
  }
  std::shared_ptr<const policy::Policy> pol = stack->policy_->holder().Current();

  // Upstreams: the policy's vendors, completed by gateway.upstreams entries of the same name.
  std::vector<UpstreamConfig> extra = std::move(cfg.upstreams);
  cfg.upstreams.clear();
  for (const policy::Vendor& v : pol->config().vendors) {
    UpstreamConfig up;
    up.vendor = v.name;
    up.kind = MapKind(v.kind);
    up.base_url = v.api_base;
    if (!v.api_key_env.empty()) up.api_key = EnvOr(v.api_key_env.c_str(), "");
    up.ca_file = v.tls.ca_file;
    up.models = {"*"};  // routes come from the policy (PolicyAdapter::Route)
    if (!v.region.empty()) up.region = v.region;
    for (UpstreamConfig& e : extra) {
      if (e.vendor != v.name) continue;
      // Where PHI goes is the policy's to say: its api_base and region are
      // what lint (TLS, loopback) and the BAA and residency rules judge, so
      // an adapter entry may repeat them but not send the traffic elsewhere.
      auto trimmed = [](std::string_view u) {
        while (!u.empty() && u.back() == '/') u.remove_suffix(1);
        return u;
      };
      if (!e.base_url.empty() && trimmed(e.base_url) != trimmed(v.api_base)) {
        return absl::InvalidArgumentError(absl::StrCat(
            "gateway.upstreams: vendor '", v.name,
            "' has a base_url other than its api_base in the policy; set the address in the "
            "policy's vendors: entry, where lint and the BAA checks see it"));
      }
      if (e.region_explicit && !v.region.empty() && e.region != v.region) {
        return absl::InvalidArgumentError(
            absl::StrCat("gateway.upstreams: vendor '", v.name, "' has region '", e.region,
                         "', the policy says '", v.region,
                         "'; residency and the BAA are judged on the policy's region"));
      }
      if (e.kind_explicit) up.kind = e.kind;
      if (!e.api_key.empty()) up.api_key = e.api_key;
      up.deployments = e.deployments;
      up.model_ids = e.model_ids;
      up.api_version = e.api_version;
      up.anthropic_version = e.anthropic_version;
      up.region = e.region;  // the signing region (Bedrock); the host is the policy's
      up.aws_access_key_id = e.aws_access_key_id;
      up.aws_secret_access_key = e.aws_secret_access_key;
      up.aws_session_token = e.aws_session_token;
      if (!e.ca_file.empty()) up.ca_file = e.ca_file;
    }
    cfg.upstreams.push_back(std::move(up));
  }

  // Keys: the master key (vault data keys, audit signing key, tenant HMAC key),
  // from where the policy's `keys:` says: a file, another variable, or
  // PHIGATE_MASTER_KEY.
  const policy::PolicyConfig::Keys& key_source = pol->config().keys;
  std::string master;
  if (!key_source.master_key_file.empty()) {
    PHIGATE_ASSIGN_OR_RETURN(master,
                             KeyFileText(key_source.master_key_file, "keys.master_key_file"));
    if (master.empty()) return absl::FailedPreconditionError("keys.master_key_file is empty");
  } else {
    const std::string var =
        key_source.master_key_env.empty() ? "PHIGATE_MASTER_KEY" : key_source.master_key_env;
    master = EnvOr(var.c_str(), "");
    if (master.empty()) {
      return absl::FailedPreconditionError(
          absl::StrCat(var, " is not set (64 hex digits); the vault and the audit trail need it"));
    }
  }
  // Master keys retired by `phigate keys rewrap`, oldest first: incident
  // records sealed before the rotation are read under them.
  std::vector<std::string> retired_masters;
  for (const std::string& file : key_source.retired_master_key_files) {
    PHIGATE_ASSIGN_OR_RETURN(std::string old, KeyFileText(file, "keys.retired_master_key_files"));
    if (!audit::MasterKeyFromHex(old).ok()) {
      return absl::FailedPreconditionError(
          "keys.retired_master_key_files: a file does not hold a 64-hex-digit master key");
    }
    retired_masters.push_back(std::move(old));
  }
  PHIGATE_ASSIGN_OR_RETURN(std::unique_ptr<crypto::LocalKeyProvider> keys,
                           crypto::LocalKeyProvider::FromText(master));
  // The audit keys are derived exactly as `phigate audit` derives them
  // (audit/subject.h), so `phigate audit verify` checks the gateway's trail.
  Result<std::string> master_raw = audit::MasterKeyFromHex(master);
  if (!master_raw.ok()) {
    return absl::FailedPreconditionError(
        "PHIGATE_MASTER_KEY must be 64 hex digits for the audit trail (as `phigate audit` reads "
        "it)");
  }
  if (cfg.tenant_key.empty()) {
    PHIGATE_ASSIGN_OR_RETURN(cfg.tenant_key,
                             crypto::HkdfSha256(master, "phigate", "gateway-tenant-id-v1", 32));
  }

  // Memory-mapped database pages count as resident too: cap every
  // connection's `PRAGMA mmap_size` (the stores ask for 256 MiB-1 GiB). Only
  // possible before SQLite is initialized (first connection or heap limit); otherwise
  // the stores' own sizes stay in force. Every SQLite page cache of the process
  // (vault, audit, breach stores) shares one soft heap limit, so resident memory
  // is bounded by design, not by the database sizes.
  store::LimitSqliteMemory({.max_mmap_bytes = options.sqlite_max_mmap_bytes,
                            .heap_limit_bytes = options.sqlite_heap_limit_bytes});
  // One write call per WAL frame instead of two (header + page) for every
  // SQLite file opened from here on (vault, audit, breach stores). After the
  // memory limits: registering a VFS initializes SQLite.
  if (options.coalesce_wal_frames) (void)store::CoalesceSqliteWalFrames();

  // Store + vault.
  std::string store_url = options.store_url;
  if (store_url.empty()) store_url = cfg.store_url;
  if (store_url.empty()) store_url = EnvOr("PHIGATE_STORE_URL", "sqlite://phigate.db");
  PHIGATE_ASSIGN_OR_RETURN(std::unique_ptr<store::Store> store,
                           store::Store::Open(store::StoreOptions{store_url}));
  transform::SurrogateOptions so;
  so.data_dir = options.data_dir;
  PHIGATE_ASSIGN_OR_RETURN(std::unique_ptr<transform::SurrogateGenerator> gen,
                           transform::SurrogateGenerator::Create(so));
  stack->deps_.vaults = std::make_shared<RealVaultProvider>(
      std::move(store), std::move(keys), std::move(gen), cfg.request_tokens_in_store);

  // Audit log.
  // The audit trail gets its own SQLite file (no lock contention with the vault).
  std::string audit_url = options.audit_url;
  if (audit_url.empty()) {
    audit_url = store_url;
    const size_t dot = audit_url.rfind(".db");
    if (audit_url.rfind("sqlite:", 0) == 0 && dot != std::string::npos) {
      audit_url.insert(dot, "-audit");
    }
  }
  PHIGATE_ASSIGN_OR_RETURN(std::unique_ptr<audit::AuditLogStore> astore,
                           audit::AuditLogStore::Open(audit_url));
  PHIGATE_ASSIGN_OR_RETURN(std::unique_ptr<crypto::Ed25519Signer> signer,
                           audit::SigningKeyFromEnv(*master_raw));
  audit::AuditLogOptions audit_options;
  audit_options.sign_interval = stack->config_.audit_sign_interval;
  PHIGATE_ASSIGN_OR_RETURN(
      std::unique_ptr<audit::AuditLog> log,
      audit::AuditLog::Open(std::move(astore),
                            std::shared_ptr<const crypto::Ed25519Signer>(std::move(signer)),
                            std::move(audit_options)));
  stack->deps_.audit = std::make_shared<RealAudit>(std::move(log));
  // The files written on the request path (vault, audit) are checkpointed on a
  // background thread, so the WAL copy-back rarely lands on an io thread.
  if (options.wal_checkpoint_interval.count() > 0) {
    std::vector<std::string> wal_files;
    for (const std::string* url : {&store_url, &audit_url}) {
      if (std::string p = store::SqliteFilePath(*url); !p.empty())
        wal_files.push_back(std::move(p));
    }
    if (!wal_files.empty()) {
      stack->checkpointer_ =
          store::WalCheckpointer::Start(std::move(wal_files), options.wal_checkpoint_interval);
    }
  }
  stack->deps_.subjects = std::make_shared<AuditSubjectIndexer>(*master_raw);

  // Detection and redaction.
  detect::EngineOptions eo;
  eo.data_dir = options.data_dir;
  PHIGATE_ASSIGN_OR_RETURN(eo.mode, detect::ParseMode(cfg.detection));
  PHIGATE_ASSIGN_OR_RETURN(std::unique_ptr<detect::Engine> engine, detect::Engine::Create(eo));
  stack->deps_.detector = std::make_shared<EngineDetector>(std::move(engine));
  PHIGATE_ASSIGN_OR_RETURN(std::unique_ptr<transform::Redactor> red,
                           transform::Redactor::Create(transform::RedactorOptions{}));
  stack->deps_.redactor = std::make_shared<TransformRedactor>(std::move(red));

  // Leak scan: the breach detectors (`breach:` section; docs/breach.md).
  std::vector<TenantId> breach_tenants;
  for (const policy::Tenant& t : pol->config().tenants) {
    if (Result<TenantId> id = MakeTenantId(t.id); id.ok()) breach_tenants.push_back(*id);
  }
  // Containment executes: the gateway registers its cache purge, suspended
  // features/routes are refused, and key rotation goes to the tenant's vault.
  auto controls = std::make_shared<ContainmentControls>();
  if (std::shared_ptr<VaultProvider> vaults = stack->deps_.vaults; vaults != nullptr) {
    controls->SetKeyRotator([vaults](const TenantId& t) -> Status {
      PHIGATE_ASSIGN_OR_RETURN(std::shared_ptr<TokenVault> v, vaults->ForTenant(t));
      return v->RotateKey();
    });
  }
  PHIGATE_ASSIGN_OR_RETURN(
      std::shared_ptr<BreachLeakScanner> leak,
      BuildServeLeakScanner(path, master, store_url, breach_tenants, stack->deps_.detector,
                            stack->deps_.audit, stack->deps_.vaults, controls, retired_masters));
  if (leak != nullptr) stack->deps_.containment = controls;
  const std::string leak_line = leak ? leak->Describe() : "off (no breach: section)";
  stack->deps_.leak = std::move(leak);

  stack->deps_.auth = stack->policy_;
  stack->deps_.policy = stack->policy_;
  stack->deps_.router = stack->policy_;
  stack->describe_ = absl::StrCat("auth: policy users (SHA-256 API keys)\npolicy: ", pol->version(),
                                  " (live reload)\ndetect: engine (", cfg.detection, "), data ",
                                  eo.data_dir.empty() ? paths::DataDir() : eo.data_dir,
                                  "\ntransform: redactor + vault tokens/surrogates\nvault: ",
                                  store_url.substr(0, store_url.find(':')),
                                  "\naudit: ", audit_url.substr(0, audit_url.find(':')),
                                  " (group commit, signed heads)\nleak scan: ", leak_line,
                                  "\nupstreams: ", cfg.upstreams.size(), "\n");
  return std::unique_ptr<ServeStack>(std::move(stack));
}

}  // namespace phigate::gateway
