// The leak-scan stage: gateway::LeakScanner on top of breach::LeakScanner.
// See include/phigate/gateway/breach_scanner.h for what is indexed and why.
#include "phigate/gateway/breach_scanner.h"

#include <algorithm>
#include <cctype>
#include <deque>
#include <fstream>
#include <set>
#include <sstream>
#include <unordered_map>
#include <utility>

#include "absl/base/thread_annotations.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "phigate/crypto/signer.h"
#include "phigate/gateway/containment.h"
#include "phigate/vault/vault.h"
#include "src/gateway/sigv4.h"
#include "yaml-cpp/yaml.h"

namespace phigate::gateway {
namespace {

// Lower-case letters and digits (and non-ASCII bytes), nothing else.
std::string Normalize(std::string_view v) {
  std::string out;
  out.reserve(v.size());
  for (char c : v) {
    const auto u = static_cast<unsigned char>(c);
    if (u >= 0x80) {
      out.push_back(c);
    } else if (std::isalnum(u)) {
      out.push_back(static_cast<char>(std::tolower(u)));
    }
  }
  return out.empty() ? std::string(v) : out;
}

// Lower case, runs of whitespace as one space: for "did the request send this text".
std::string Fold(std::string_view v) {
  std::string out;
  out.reserve(v.size());
  bool space = false;
  for (char c : v) {
    const auto u = static_cast<unsigned char>(c);
    if (std::isspace(u)) {
      space = !out.empty();
      continue;
    }
    if (space) out.push_back(' ');
    space = false;
    out.push_back(static_cast<char>(u < 0x80 ? std::tolower(u) : u));
  }
  return out;
}

// Token-shaped spans of `text` ("[NAME_7QK2X]", as the vault formats them).
std::vector<std::pair<size_t, size_t>> TokenSpans(std::string_view text) {
  std::vector<std::pair<size_t, size_t>> out;
  for (size_t p = text.find('['); p != std::string_view::npos; p = text.find('[', p + 1)) {
    const size_t close = text.find(']', p + 1);
    if (close == std::string_view::npos) break;
    if (close - p > 48) continue;
    if (vault::ParseToken(text.substr(p, close - p + 1)).has_value()) {
      out.emplace_back(p, close + 1);
    }
  }
  return out;
}

bool Overlaps(const Finding& f, const std::vector<std::pair<size_t, size_t>>& spans) {
  for (const auto& [b, e] : spans) {
    if (f.begin < e && b < f.end) return true;
  }
  return false;
}

// blind index -> the requests (tenant, scope, patient ref) that sent it. Bounded.
class RefIndex {
 public:
  explicit RefIndex(size_t max) : max_(max) {}
  void Add(const std::string& bi, const breach::VaultRef& r) {
    absl::MutexLock lock(&mu_);
    auto it = refs_.find(bi);
    if (it == refs_.end()) {
      if (refs_.size() >= max_) return;  // full: keep the oldest (documented)
      it = refs_.emplace(bi, std::vector<breach::VaultRef>{}).first;
    }
    for (const breach::VaultRef& e : it->second) {
      if (e.tenant == r.tenant && e.scope == r.scope) return;
    }
    if (it->second.size() < kMaxRefs) it->second.push_back(r);
  }
  std::vector<breach::VaultRef> Lookup(std::string_view bi) const {
    absl::MutexLock lock(&mu_);
    auto it = refs_.find(std::string(bi));
    return it == refs_.end() ? std::vector<breach::VaultRef>{} : it->second;
  }
  size_t size() const {
    absl::MutexLock lock(&mu_);
    return refs_.size();
  }

 private:
  static constexpr size_t kMaxRefs = 16;
  const size_t max_;
  mutable absl::Mutex mu_;
  std::unordered_map<std::string, std::vector<breach::VaultRef>> refs_ ABSL_GUARDED_BY(mu_);
};

// Containment actions: recorded, and each one audited (a PHI-free event).
class AuditedContainment : public breach::ContainmentActions {
 public:
  AuditedContainment(std::shared_ptr<AuditSink> audit,
                     std::shared_ptr<ContainmentControls> controls)
      : audit_(std::move(audit)), controls_(std::move(controls)) {}
  Status PurgeCache(const TenantId& t) override { return Do("purge_cache", t, ""); }
  Status SuspendFeature(const TenantId& t, std::string_view f) override {
    return Do("suspend_feature", t, f);
  }
  Status SuspendRoute(const TenantId& t, std::string_view r) override {
    return Do("suspend_route", t, r);
  }
  Status RotateKeys(const TenantId& t) override { return Do("rotate_keys", t, ""); }
  std::vector<std::string> calls() const { return recorded_.calls(); }

 private:
  Status Do(std::string_view action, const TenantId& t, std::string_view target) {
    Status done = absl::OkStatus();
    if (action == "purge_cache") {
      recorded_.PurgeCache(t).IgnoreError();
      if (controls_ != nullptr) done = controls_->PurgeCache(t);
    } else if (action == "suspend_feature") {
      recorded_.SuspendFeature(t, target).IgnoreError();
      if (controls_ != nullptr) controls_->SuspendFeature(t, target);
    } else if (action == "suspend_route") {
      recorded_.SuspendRoute(t, target).IgnoreError();
      if (controls_ != nullptr) controls_->SuspendRoute(t, target);
    } else {
      recorded_.RotateKeys(t).IgnoreError();
      if (controls_ != nullptr) done = controls_->RotateKeys(t);
    }
    if (audit_ == nullptr) return done;
    AuditRecord r;
    r.phase = AuditPhase::kBreach;
    r.outcome = done.ok() ? AuditOutcome::kBlocked : AuditOutcome::kError;
    r.tenant = t;
    r.user = UserId("phigate");
    r.api = "breach.containment";
    r.request_id = absl::StrCat("containment-", ToAbsl(action));
    if (action == "suspend_feature") r.feature = std::string(target);
    if (action == "suspend_route") r.vendor = std::string(target);
    r.reasons.push_back(absl::StrCat("containment_", ToAbsl(action)));
    if (!done.ok())
      r.reasons.push_back(
          absl::StrCat("containment_failed_", absl::StatusCodeToString(done.code())));
    Status audited = audit_->Commit(r);
    return done.ok() ? audited : done;
  }
  std::shared_ptr<AuditSink> audit_;
  std::shared_ptr<ContainmentControls> controls_;
  breach::RecordingContainment recorded_;
};

Result<breach::ResponseAction> ActionAt(const YAML::Node& n, const char* key,
                                        breach::ResponseAction def) {
  if (!n[key]) return def;
  Result<breach::ResponseAction> a = breach::ParseResponseAction(n[key].as<std::string>());
  if (!a.ok()) {
    return absl::InvalidArgumentError(
        absl::StrCat("breach.response.", key, ": ", ToAbsl(FromAbsl(a.status().message()))));
  }
  return a;
}

// A misspelt key would be ignored and its default kept ("respones:
// {critical: pass}" leaves critical leaks withheld, "enabeld: false" leaves
// the scanner on; the reverse typos are as silent): refuse it.
Status OnlyKeys(const YAML::Node& map, std::string_view where,
                std::initializer_list<std::string_view> known) {
  for (const auto& kv : map) {
    const std::string key = kv.first.as<std::string>();
    if (std::find(known.begin(), known.end(), key) == known.end()) {
      std::string names;
      for (std::string_view k : known)
        absl::StrAppend(&names, names.empty() ? "" : ", ", ToAbsl(k));
      return absl::InvalidArgumentError(
          absl::StrCat(ToAbsl(where), ": unknown key '", key, "' (known: ", names, ")"));
    }
  }
  return absl::OkStatus();
}

}  // namespace

Result<BreachConfig> ParseBreachConfig(std::string_view yaml_text) {
  BreachConfig c;
  try {
    YAML::Node root = YAML::Load(std::string(yaml_text));
    if (!root.IsMap() || !root["breach"]) return c;
    YAML::Node b = root["breach"];
    if (b.IsNull()) {
      c.enabled = true;
      return c;
    }
    if (!b.IsMap()) return absl::InvalidArgumentError("breach: must be a mapping");
    PHIGATE_RETURN_IF_ERROR(OnlyKeys(b, "breach",
                                     {"enabled", "incidents", "containment", "max_index_entries",
                                      "response", "canaries", "time_zone"}));
    c.enabled = b["enabled"] ? b["enabled"].as<bool>() : true;
    if (b["time_zone"]) {
      c.response.time_zone = b["time_zone"].as<std::string>();
      if (Status s = breach::ValidateTimeZone(c.response.time_zone); !s.ok()) {
        return absl::InvalidArgumentError(
            absl::StrCat("breach.time_zone: ", ToAbsl(FromAbsl(s.message()))));
      }
    }
    if (b["incidents"]) c.incidents_url = b["incidents"].as<std::string>();
    if (YAML::Node cn = b["containment"]) {
      // true: execute and audit; audit_only: record and audit, execute nothing; false: off.
      if (cn.IsScalar() && cn.as<std::string>() == "audit_only") {
        c.containment = true;
        c.containment_execute = false;
      } else {
        c.containment = cn.as<bool>();
      }
    }
    if (b["max_index_entries"]) c.max_index_entries = b["max_index_entries"].as<size_t>();
    if (YAML::Node r = b["response"]) {
      if (!r.IsMap()) return absl::InvalidArgumentError("breach.response: must be a mapping");
      PHIGATE_RETURN_IF_ERROR(
          OnlyKeys(r, "breach.response", {"low", "medium", "high", "critical"}));
      PHIGATE_ASSIGN_OR_RETURN(c.response.low, ActionAt(r, "low", c.response.low));
      PHIGATE_ASSIGN_OR_RETURN(c.response.medium, ActionAt(r, "medium", c.response.medium));
      PHIGATE_ASSIGN_OR_RETURN(c.response.high, ActionAt(r, "high", c.response.high));
      PHIGATE_ASSIGN_OR_RETURN(c.response.critical, ActionAt(r, "critical", c.response.critical));
    }
    if (YAML::Node k = b["canaries"]) {
      if (!k.IsMap()) return absl::InvalidArgumentError("breach.canaries: must be a mapping");
      PHIGATE_RETURN_IF_ERROR(OnlyKeys(k, "breach.canaries", {"per_tenant", "seed"}));
      if (k["per_tenant"]) c.canaries_per_tenant = k["per_tenant"].as<int>();
      if (k["seed"]) c.canary_seed = k["seed"].as<uint64_t>();
      if (c.canaries_per_tenant < 0 || c.canaries_per_tenant > 100) {
        return absl::InvalidArgumentError("breach.canaries.per_tenant: must be 0..100");
      }
    }
  } catch (const YAML::Exception& e) {
    return absl::InvalidArgumentError(
        absl::StrCat("breach: invalid YAML at line ", e.mark.line + 1, " (", e.msg, ")"));
  }
  return c;
}

breach::BlindIndexFn KeyedBlindIndex(std::string key) {
  return [key = std::move(key)](PhiCategory, std::string_view value) {
    return HexEncode(
               HmacSha256(key, absl::StrCat("phigate-breach-bidx-v1:", ToAbsl(Normalize(value)))))
        .substr(0, 32);
  };
}

// What the scanner derives once from a request's sent values.
struct Prepared {
  size_t values = 0;                 // how many sent values it was made from
  std::set<std::string> sent;        // blind indexes of originals and replacements
  std::set<std::string> own_tokens;  // normalised tokens minted for this request
  std::string sent_text;             // Fold() of the de-identified request text
};

struct BreachLeakScanner::Impl {
  BreachConfig config;
  breach::BlindIndexFn bidx;
  Deps deps;
  RefIndex values;  // value blind index -> requests that sent it (and canaries)
  RefIndex tokens;  // token blind index -> the request it was minted for
  breach::CanaryRegistry canaries;
  breach::SessionValueIndex sessions;
  std::unique_ptr<breach::LeakScanner> scanner;
  std::unique_ptr<AuditedContainment> containment;
  std::vector<breach::CanaryPatient> planted;

  Impl(const BreachConfig& c, breach::BlindIndexFn b, Deps d)
      : config(c),
        bidx(std::move(b)),
        deps(std::move(d)),
        values(c.max_index_entries),
        tokens(c.max_index_entries),
        canaries(bidx),
        sessions(c.max_index_entries) {}

  // Per request id, the last kMaxPrepared requests (FIFO).
  static constexpr size_t kMaxPrepared = 4096;
  absl::Mutex prep_mu;
  std::unordered_map<std::string, std::shared_ptr<const Prepared>> prepared
      ABSL_GUARDED_BY(prep_mu);
  std::deque<std::string> prepared_order ABSL_GUARDED_BY(prep_mu);

  std::shared_ptr<const Prepared> Prepare(const LeakScanContext& ctx, const TenantId& tenant,
                                          const std::string& scope, const std::string& session) {
    const size_t n = ctx.sent_values != nullptr ? ctx.sent_values->size() : 0;
    const std::string key(ctx.request_id);
    if (!key.empty()) {
      absl::MutexLock lock(&prep_mu);
      auto it = prepared.find(key);
      if (it != prepared.end() && it->second->values == n) return it->second;
    }
    auto p = std::make_shared<Prepared>();
    p->values = n;
    p->sent_text = Fold(ctx.sent_text);
    std::set<std::string> originals;
    std::string patient_ref;
    if (ctx.sent_values != nullptr) {
      for (const SentValue& v : *ctx.sent_values) {
        const std::string bo = bidx(v.category, v.original);
        p->sent.insert(bo);
        originals.insert(bo);
        if (patient_ref.empty() && v.category == PhiCategory::kName) patient_ref = bo;
        if (!v.replacement.empty()) {
          p->sent.insert(bidx(v.category, v.replacement));
          if (vault::ParseToken(v.replacement).has_value()) {
            p->own_tokens.insert(Normalize(v.replacement));
          }
        }
      }
    }
    if (patient_ref.empty()) {
      patient_ref =
          "scope-" +
          bidx(PhiCategory::kOtherId, absl::StrCat(tenant.value(), "|", scope)).substr(0, 16);
    }
    if (ctx.sent_values != nullptr) {
      const breach::VaultRef ref{tenant, patient_ref, scope};
      for (const SentValue& v : *ctx.sent_values) {
        values.Add(bidx(v.category, v.original), ref);
        if (!v.replacement.empty() && vault::ParseToken(v.replacement).has_value()) {
          tokens.Add(bidx(v.category, v.replacement), ref);
        }
      }
    }
    if (!session.empty()) sessions.RecordSent(tenant, session, originals);
    if (!key.empty()) {
      absl::MutexLock lock(&prep_mu);
      if (prepared.insert_or_assign(key, p).second) prepared_order.push_back(key);
      while (prepared_order.size() > kMaxPrepared) {
        prepared.erase(prepared_order.front());
        prepared_order.pop_front();
      }
    }
    return p;
  }

  int64_t Now() const { return deps.clock ? deps.clock() : absl::ToUnixSeconds(absl::Now()); }
};

BreachLeakScanner::BreachLeakScanner(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
BreachLeakScanner::~BreachLeakScanner() = default;

Result<std::unique_ptr<BreachLeakScanner>> BreachLeakScanner::Create(
    const BreachConfig& config, std::string blind_index_key, const std::vector<TenantId>& tenants,
    Deps deps) {
  if (deps.detector == nullptr || deps.incidents == nullptr) {
    return absl::InvalidArgumentError("the leak scanner needs a detector and an incident store");
  }
  if (blind_index_key.empty()) {
    return absl::InvalidArgumentError("the leak scanner needs a blind-index key");
  }
  auto impl =
      std::make_unique<Impl>(config, KeyedBlindIndex(std::move(blind_index_key)), std::move(deps));
  Impl* raw = impl.get();
  impl->scanner = std::make_unique<breach::LeakScanner>(
      raw->bidx, [raw](std::string_view bi) { return raw->values.Lookup(bi); }, &raw->canaries,
      &raw->sessions);
  if (config.containment) {
    impl->containment = std::make_unique<AuditedContainment>(impl->deps.audit, impl->deps.controls);
  }
  for (const TenantId& t : tenants) {
    for (breach::CanaryPatient& c :
         breach::GenerateCanaries(t, config.canary_seed, config.canaries_per_tenant)) {
      impl->canaries.Register(c);
      for (const breach::CanaryValue& v : c.values) {
        impl->values.Add(impl->bidx(v.category, v.value),
                         breach::VaultRef{t, c.patient_ref, "canary"});
      }
      impl->planted.push_back(std::move(c));
    }
  }
  return std::unique_ptr<BreachLeakScanner>(new BreachLeakScanner(std::move(impl)));
}

std::vector<breach::CanaryPatient> BreachLeakScanner::Canaries() const { return impl_->planted; }
breach::IncidentStore& BreachLeakScanner::incidents() { return *impl_->deps.incidents; }
std::vector<std::string> BreachLeakScanner::ContainmentCalls() const {
  return impl_->containment ? impl_->containment->calls() : std::vector<std::string>{};
}

std::string BreachLeakScanner::Describe() const {
  const breach::ResponsePolicy& r = impl_->config.response;
  return absl::StrCat(
      "breach detectors (prompt injection, cross-tenant/patient, canary x", impl_->planted.size(),
      ", cache, training data); response low=", ToAbsl(breach::Name(r.low)),
      " medium=", ToAbsl(breach::Name(r.medium)), " high=", ToAbsl(breach::Name(r.high)),
      " critical=", ToAbsl(breach::Name(r.critical)),
      !impl_->config.containment        ? "; containment off"
      : impl_->deps.controls != nullptr ? "; containment executed (cache purge, suspensions, "
                                          "key rotation) and audited"
                                        : "; containment audited");
}

Result<LeakVerdict> BreachLeakScanner::Scan(const Principal& who, std::string_view answer,
                                            const std::vector<std::string>& sent_replacements) {
  std::vector<SentValue> sent;
  for (const std::string& r : sent_replacements)
    sent.push_back(SentValue{PhiCategory::kOtherId, r, r});
  LeakScanContext ctx;
  ctx.who = &who;
  ctx.sent_values = &sent;
  PHIGATE_ASSIGN_OR_RETURN(LeakScanResult r, ScanAnswer(ctx, answer));
  return r.verdict;
}

Result<LeakScanResult> BreachLeakScanner::ScanAnswer(const LeakScanContext& ctx,
                                                     std::string_view answer) {
  Impl& m = *impl_;
  if (ctx.who == nullptr) return absl::InvalidArgumentError("leak scan without a principal");
  const TenantId& tenant = ctx.who->tenant;
  const std::string scope(ctx.scope.empty() ? ctx.request_id : ctx.scope);
  const std::string session(ctx.session_id.empty() ? scope : ctx.session_id);

  // 1. This request's own values: never a leak to this caller; indexed for
  // later requests. Once per request (a stream is scanned chunk by chunk).
  std::shared_ptr<const Prepared> prep = m.Prepare(ctx, tenant, scope, session);
  std::set<std::string> sent = prep->sent;

  // 2. PHI in the answer, less tokens and text the request itself sent.
  Findings found;
  PHIGATE_RETURN_IF_ERROR(m.deps.detector->Scan(answer, &found));
  const auto token_spans = TokenSpans(answer);
  const std::string& sent_text = prep->sent_text;
  Findings kept;
  for (const Finding& f : found) {
    if (f.begin >= f.end || f.end > answer.size()) {
      return absl::InternalError("PHI detection returned a span outside the answer");
    }
    if (Overlaps(f, token_spans)) continue;
    const std::string text = Fold(answer.substr(f.begin, f.size()));
    if (!text.empty() && sent_text.find(text) != std::string::npos) {
      sent.insert(m.bidx(f.category, answer.substr(f.begin, f.size())));
    }
    kept.push_back(f);
  }

  // 3. Tokens minted for another request: the answer (or part of it) was made
  // for someone else and replayed, as a shared cache does.
  std::optional<breach::CacheInfo> cache;
  if (ctx.from_cache) {
    cache.emplace();
    cache->served_from_cache = true;
    cache->cached_tenant_tag = tenant.value();  // the cache key holds tenant and policy
    cache->cached_policy_tag = std::string(ctx.policy_version);
    cache->request_policy_tag = std::string(ctx.policy_version);
  }
  for (const auto& [b, e] : token_spans) {
    const std::string_view tok = answer.substr(b, e - b);
    if (prep->own_tokens.contains(Normalize(tok))) continue;
    const std::string tb = m.bidx(PhiCategory::kOtherId, tok);
    for (const breach::VaultRef& r : m.tokens.Lookup(tb)) {
      if (r.tenant == tenant && r.scope == scope) continue;
      if (!cache) cache.emplace();
      cache->served_from_cache = true;
      cache->cache_key_ref = tb;
      cache->request_policy_tag = cache->cached_policy_tag = std::string(ctx.policy_version);
      cache->request_scope_tag = scope;
      if (r.tenant != tenant || cache->cached_tenant_tag.empty() ||
          cache->cached_tenant_tag == tenant.value()) {
        cache->cached_tenant_tag = r.tenant.value();  // another tenant's wins over a scope
        cache->cached_scope_tag = r.scope;
      }
      cache->spans.emplace_back(b, e);
    }
  }

  breach::LeakScanInput in;
  in.tenant = tenant;
  in.scope = scope;
  in.session_id = session;
  in.request_id = std::string(ctx.request_id);
  in.answer = answer;
  in.findings = &kept;
  in.sent_blind_indexes = &sent;
  in.cache = std::move(cache);

  breach::ContainmentPlan plan = breach::ContainmentPlan::Default();
  plan.feature = std::string(ctx.feature);
  plan.route = std::string(ctx.vendor);
  breach::BreachResponder responder(m.scanner.get(), m.deps.incidents.get(), m.containment.get(),
                                    m.config.response, std::move(plan));
  PHIGATE_ASSIGN_OR_RETURN(breach::LeakResponse resp, responder.OnAnswer(in, m.Now()));

  LeakScanResult out;
  out.incident_id = resp.incident_id;
  switch (resp.action) {
    case breach::ResponseAction::kPassAlert:
      out.verdict = LeakVerdict::kClean;
      break;
    case breach::ResponseAction::kWithhold:
      out.verdict = LeakVerdict::kWithhold;
      break;
    case breach::ResponseAction::kRedact: {
      out.verdict = LeakVerdict::kRedact;
      std::set<std::string> values;
      for (const breach::Detection& d : resp.detections) {
        for (const breach::Evidence& e : d.evidence) {
          if (e.begin < e.end && e.end <= answer.size()) {
            values.insert(std::string(answer.substr(e.begin, e.end - e.begin)));
          }
        }
      }
      out.redact.assign(values.begin(), values.end());
      // Longest first, so a value containing another is replaced whole.
      std::sort(out.redact.begin(), out.redact.end(),
                [](const std::string& a, const std::string& b) { return a.size() > b.size(); });
      break;
    }
  }
  return out;
}

Result<std::shared_ptr<BreachLeakScanner>> BuildServeLeakScanner(
    const std::string& config_path, std::string_view master_key, std::string_view store_url,
    const std::vector<TenantId>& tenants, std::shared_ptr<const Detector> detector,
    std::shared_ptr<AuditSink> audit, std::shared_ptr<VaultProvider> vaults,
    std::shared_ptr<ContainmentControls> controls,
    const std::vector<std::string>& retired_master_keys) {
  std::ifstream f(config_path);
  if (!f) return absl::NotFoundError("cannot read the config file");
  std::stringstream text;
  text << f.rdbuf();
  PHIGATE_ASSIGN_OR_RETURN(BreachConfig bc, ParseBreachConfig(text.str()));
  if (!bc.enabled) return std::shared_ptr<BreachLeakScanner>();
  std::string url = bc.incidents_url;
  if (url.empty()) {
    // Beside the vault and audit store: a SQLite store's file with
    // "-incidents" in its name, or the same PostgreSQL database (so that
    // replicas share their incidents as they share the vault and the trail).
    url = std::string(store_url);
    const size_t dot = url.rfind(".db");
    if (url.rfind("postgres://", 0) == 0 || url.rfind("postgresql://", 0) == 0) {
      // as it is
    } else if (url.rfind("sqlite:", 0) == 0 && dot != std::string::npos) {
      url.insert(dot, "-incidents");
    } else {
      url = "sqlite://phigate-incidents.db";
    }
  }
  // Incident records are sealed at rest under a per-tenant key from the master key.
  PHIGATE_ASSIGN_OR_RETURN(std::string record_key, breach::IncidentRecordKey(master_key));
  std::vector<std::string> retired_record_keys;
  for (const std::string& old : retired_master_keys) {
    PHIGATE_ASSIGN_OR_RETURN(std::string k, breach::IncidentRecordKey(old));
    retired_record_keys.push_back(std::move(k));
  }
  PHIGATE_ASSIGN_OR_RETURN(
      std::unique_ptr<breach::IncidentStore> store,
      breach::OpenIncidentStore(url, std::move(record_key), std::move(retired_record_keys)));
  PHIGATE_ASSIGN_OR_RETURN(std::string key,
                           crypto::HkdfSha256(master_key, "phigate", "breach-blind-index-v1", 32));
  BreachLeakScanner::Deps deps;
  deps.detector = std::move(detector);
  deps.incidents = std::move(store);
  deps.audit = std::move(audit);
  if (bc.containment_execute) deps.controls = std::move(controls);
  PHIGATE_ASSIGN_OR_RETURN(std::unique_ptr<BreachLeakScanner> s,
                           BreachLeakScanner::Create(bc, std::move(key), tenants, std::move(deps)));
  if (vaults != nullptr) {
    // Plant: the same canary gets the same token every start (scope "canary").
    for (const breach::CanaryPatient& c : s->Canaries()) {
      PHIGATE_ASSIGN_OR_RETURN(std::shared_ptr<TokenVault> v, vaults->ForTenant(c.tenant));
      std::vector<std::pair<PhiCategory, std::string_view>> values;
      for (const breach::CanaryValue& cv : c.values) values.emplace_back(cv.category, cv.value);
      Result<std::vector<std::string>> planted = v->TokenizeBatch(values, "canary");
      if (!planted.ok()) {
        return absl::UnavailableError(absl::StrCat(
            "breach: could not plant the canaries of tenant ", c.tenant.value(), " in the vault"));
      }
    }
  }
  return std::shared_ptr<BreachLeakScanner>(std::move(s));
}

}  // namespace phigate::gateway
