// Policy loading and the decision engine. Compile() precomputes every decision a
// request can get, so Decide() does no allocation: a user lookup, one hash lookup
// on (tenant, feature, vendor, endpoint, model) and a compare against the BAA
// start/expiry instants that split the timeline into segments.
#include "phigate/policy/policy.h"

#include <algorithm>
#include <cstdlib>
#include <deque>
#include <fstream>
#include <limits>
#include <sstream>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"

namespace phigate::policy {

// One stretch of time over which the decision does not change.
struct Segment {
  int64_t start = std::numeric_limits<int64_t>::min();  // unix seconds, inclusive
  const Decision* no_reidentify = nullptr;              // callers whose roles may not
  const Decision* reidentify = nullptr;                 // callers whose roles may
};

struct Entry {
  RoleSet feature_roles = kAllRoles;
  std::vector<Segment> segments;  // sorted by start; segments[0].start == min
};

struct Policy::Tables {
  absl::flat_hash_map<std::string, Entry> entries;
  absl::flat_hash_map<std::string, size_t> users_by_id;
  absl::flat_hash_map<std::string, size_t> users_by_key_hash;
  std::vector<Decision> deny;  // indexed by ReasonCode
  // Every distinct decision, once: routes of tenants with the same jurisdictions and of
  // endpoints with the same coverage share them, which keeps large policies small.
  std::deque<Decision> pool;
  absl::flat_hash_map<std::string, const Decision*> interned;

  const Decision* Intern(Decision d) {
    std::string key =
        absl::StrCat(d.allowed, d.baa_covered, d.self_hosted, d.reidentify, "|", d.baa_id, "|");
    for (Action a : d.actions) key.push_back(static_cast<char>('0' + static_cast<int>(a)));
    for (const Reason& r : d.reasons) {
      absl::StrAppend(&key, "|", static_cast<int>(r.code), ":", r.text);
    }
    const auto it = interned.find(key);
    if (it != interned.end()) return it->second;
    pool.push_back(std::move(d));
    const Decision* p = &pool.back();
    interned.emplace(std::move(key), p);
    return p;
  }
};

namespace {

constexpr char kSep = '\x1f';
constexpr size_t kNumReasonCodes = static_cast<size_t>(ReasonCode::kAllowed) + 1;

void AppendKey(std::string* key, std::string_view tenant, std::string_view feature,
               std::string_view vendor, std::string_view endpoint, std::string_view model) {
  key->clear();
  key->append(tenant.data(), tenant.size()).push_back(kSep);
  key->append(feature.data(), feature.size()).push_back(kSep);
  key->append(vendor.data(), vendor.size()).push_back(kSep);
  key->append(endpoint.data(), endpoint.size()).push_back(kSep);
  key->append(model.data(), model.size());
}

std::string_view DenyText(ReasonCode code) {
  switch (code) {
    case ReasonCode::kUnknownTenant:
      return "tenant is not declared in the policy";
    case ReasonCode::kUnknownUser:
      return "user is not declared in the policy";
    case ReasonCode::kUserNotInTenant:
      return "user belongs to another tenant";
    case ReasonCode::kUnknownFeature:
      return "feature is not declared in the policy";
    case ReasonCode::kFeatureNotEnabled:
      return "feature is not enabled for this tenant";
    case ReasonCode::kRoleNotPermitted:
      return "none of the caller's roles may use this feature";
    case ReasonCode::kUnknownVendor:
      return "vendor is not declared in the policy";
    case ReasonCode::kUnknownEndpoint:
      return "vendor does not declare this endpoint";
    case ReasonCode::kUnknownModel:
      return "vendor does not declare this model";
    case ReasonCode::kRouteNotAllowed:
      return "feature has no route to this vendor and model";
    case ReasonCode::kUnknownJurisdiction:
      return "tenant names a jurisdiction that is not defined";
    default:
      return "request denied by policy";
  }
}

std::string CategoryList(const std::vector<PhiCategory>& cats) {
  std::string out;
  for (PhiCategory c : cats) {
    if (!out.empty()) out += ",";
    out += std::string(CategoryName(c));
  }
  return out;
}

bool RegionAllowed(const std::string& region, const std::vector<std::string>& allowed) {
  if (allowed.empty()) return true;
  if (region.empty()) return false;  // unknown region fails closed
  for (const std::string& a : allowed) {
    if (region.compare(0, a.size(), a) == 0) return true;
  }
  return false;
}

// What a tenant's jurisdictions add up to.
struct TenantRules {
  std::array<Action, kNumPhiCategories> floors{};
  std::array<std::string, kNumPhiCategories> floor_source{};
  bool require_zdr = false;
  bool require_no_training = false;
  std::vector<std::pair<std::string, std::vector<std::string>>>
      residency;  // (jurisdiction, regions)
  bool unknown_jurisdiction = false;
};

TenantRules RulesFor(const PolicyConfig& cfg, const Tenant& t) {
  TenantRules r;
  r.floors.fill(Action::kAllow);
  for (const std::string& id : t.jurisdictions) {
    const Jurisdiction* j = cfg.FindJurisdiction(id);
    if (j == nullptr) {
      r.unknown_jurisdiction = true;
      continue;
    }
    for (size_t i = 0; i < kNumPhiCategories; ++i) {
      if (static_cast<uint8_t>(j->floors[i]) > static_cast<uint8_t>(r.floors[i])) {
        r.floors[i] = j->floors[i];
        r.floor_source[i] = j->id;
      }
    }
    r.require_zdr = r.require_zdr || j->require_zero_data_retention;
    r.require_no_training = r.require_no_training || j->require_no_training;
    if (!j->residency.empty()) r.residency.emplace_back(j->id, j->residency);
  }
  return r;
}

// How a route stands with respect to BAAs during one segment.
struct Coverage {
  bool covered = false;
  bool self_hosted = false;
  ReasonCode code = ReasonCode::kNoBaa;
  std::string baa_id;
  std::string text;
};

Decision BuildDecision(const PolicyConfig& cfg, const Feature& f, const TenantRules& rules,
                       const Coverage& cov, bool caller_may_reidentify) {
  Decision d;
  d.policy_version = cfg.version;
  d.baa_covered = cov.covered;
  d.self_hosted = cov.self_hosted;
  d.baa_id = cov.baa_id;
  d.reasons.push_back({cov.code, cov.text});

  std::vector<PhiCategory> unlisted, raised, downgraded;
  std::vector<std::string> raised_by;
  for (PhiCategory c : AllCategories()) {
    const auto i = static_cast<size_t>(c);
    Action a = f.phi[i].has_value() ? *f.phi[i] : f.unlisted;
    if (!f.phi[i].has_value()) unlisted.push_back(c);
    if (static_cast<uint8_t>(rules.floors[i]) > static_cast<uint8_t>(a)) {
      a = rules.floors[i];
      raised.push_back(c);
      if (std::find(raised_by.begin(), raised_by.end(), rules.floor_source[i]) == raised_by.end()) {
        raised_by.push_back(rules.floor_source[i]);
      }
    }
    d.actions[i] = a;
  }
  if (!unlisted.empty()) {
    d.reasons.push_back({ReasonCode::kMinimumNecessary,
                         absl::StrCat(unlisted.size(), " categories not listed by feature '",
                                      f.name, "' are ", ToAbsl(ActionName(f.unlisted)))});
  }
  if (!raised.empty()) {
    d.reasons.push_back(
        {ReasonCode::kJurisdictionFloor,
         absl::StrCat("raised by ", absl::StrJoin(raised_by, ","), ": ", CategoryList(raised))});
  }
  if (!cov.covered) {
    for (PhiCategory c : AllCategories()) {
      if (PassesIdentifying(d.actions[static_cast<size_t>(c)])) downgraded.push_back(c);
    }
    if (!downgraded.empty()) {
      if (f.on_missing_baa == OnMissingBaa::kDeny) {
        d.allowed = false;
        d.actions.fill(Action::kBlock);
        d.reasons.push_back({ReasonCode::kMissingBaaDeny,
                             absl::StrCat("feature '", f.name,
                                          "' denies requests without an active covering BAA")});
        return d;
      }
      const Action fallback = f.on_missing_baa == OnMissingBaa::kTokenize ? Action::kTokenize
                              : f.on_missing_baa == OnMissingBaa::kRedact ? Action::kRedact
                                                                          : Action::kBlock;
      for (PhiCategory c : downgraded) {
        auto& a = d.actions[static_cast<size_t>(c)];
        a = Stricter(a, fallback);
      }
      d.reasons.push_back(
          {ReasonCode::kNoBaaDowngrade,
           absl::StrCat(CategoryList(downgraded), " -> ", ToAbsl(ActionName(fallback)))});
    }
  }
  if (!f.reidentify_answers) {
    d.reasons.push_back(
        {ReasonCode::kReidentifyNotAllowed, "feature does not re-identify answers"});
  } else if (!caller_may_reidentify) {
    d.reasons.push_back({ReasonCode::kReidentifyNotAllowed, "caller's roles may not re-identify"});
  } else {
    d.reidentify = true;
    d.reasons.push_back({ReasonCode::kReidentifyAllowed, "answers are re-identified"});
  }
  d.allowed = true;
  d.reasons.push_back(
      {ReasonCode::kAllowed, absl::StrCat("feature '", f.name, "' purpose ", f.purpose)});
  return d;
}

// The coverage of (vendor, endpoint, model) at unix time t.
Coverage CoverageAt(const Vendor& v, std::string_view endpoint, std::string_view model,
                    const TenantRules& rules, int64_t t) {
  Coverage c;
  const bool in_boundary = v.kind == VendorKind::kSelfHosted && v.inside_boundary;
  // Residency binds where the data goes, whoever runs the server: a
  // self-hosted model inside the boundary but in a region the tenant's
  // jurisdiction excludes is refused like a vendor there (one that declares
  // no region is taken to be where the boundary is).
  for (const auto& [jid, regions] : rules.residency) {
    if ((!in_boundary || !v.region.empty()) && !RegionAllowed(v.region, regions)) {
      c.code = ReasonCode::kJurisdictionRequirement;
      c.text = absl::StrCat(jid, " requires vendor region in [", absl::StrJoin(regions, ","),
                            "]; vendor '", v.name, "' region is '", v.region, "'");
      return c;
    }
  }
  if (in_boundary) {
    c.covered = true;
    c.self_hosted = true;
    c.code = ReasonCode::kSelfHostedInBoundary;
    c.text = absl::StrCat("vendor '", v.name, "' is self-hosted inside the boundary");
    return c;
  }
  if (v.baas.empty()) {
    c.code = ReasonCode::kNoBaa;
    c.text = absl::StrCat("vendor '", v.name, "' has no BAA");
    return c;
  }
  std::vector<const Baa*> covering;
  for (const Baa& b : v.baas) {
    if (b.Covers(endpoint, model, v.region)) covering.push_back(&b);
  }
  if (covering.empty()) {
    c.code = ReasonCode::kBaaNotCovering;
    c.text = absl::StrCat("no BAA of vendor '", v.name, "' names endpoint '", ToAbsl(endpoint),
                          "' and model '", ToAbsl(model), "'");
    return c;
  }
  const Baa* unmet = nullptr;
  for (const Baa* b : covering) {
    if (!b->ActiveAt(t)) continue;
    if ((rules.require_zdr && !b->zero_data_retention) ||
        (rules.require_no_training && !b->no_training)) {
      unmet = b;
      continue;
    }
    c.covered = true;
    c.code = ReasonCode::kBaaActive;
    c.baa_id = b->id;
    c.text = absl::StrCat("BAA ", b->id, " active ", FormatDay(b->signed_day), "..",
                          FormatDay(b->expires_day), " covers this endpoint and model");
    return c;
  }
  if (unmet != nullptr) {
    c.code = ReasonCode::kJurisdictionRequirement;
    c.text = absl::StrCat("BAA ", unmet->id, " lacks ",
                          rules.require_zdr && !unmet->zero_data_retention ? "zero data retention"
                                                                           : "a no-training term",
                          " required by the tenant's jurisdictions");
    return c;
  }
  bool all_later = true;
  for (const Baa* b : covering) all_later = all_later && t < b->active_from();
  if (all_later) {
    c.code = ReasonCode::kBaaNotYetEffective;
    c.text = absl::StrCat("covering BAA ", covering.front()->id, " takes effect ",
                          FormatDay(covering.front()->signed_day));
  } else {
    const Baa* last = covering.front();
    for (const Baa* b : covering) {
      if (b->expires_day > last->expires_day && b->active_from() <= t) last = b;
    }
    c.code = ReasonCode::kBaaExpired;
    c.text = absl::StrCat("covering BAA ", last->id, " expired ", FormatDay(last->expires_day));
  }
  return c;
}

Decision MakeDeny(ReasonCode code, const std::string& version) {
  Decision d;
  d.allowed = false;
  d.actions.fill(Action::kBlock);
  d.policy_version = version;
  d.reasons.push_back({code, std::string(DenyText(code))});
  return d;
}

std::string FirstErrors(const std::vector<Diagnostic>& diags) {
  std::string out;
  size_t n = 0, total = 0;
  for (const Diagnostic& d : diags) {
    if (d.severity != Severity::kError) continue;
    ++total;
    if (n < 5) {
      if (!out.empty()) out += "; ";
      out += FormatDiagnostic(d);
      ++n;
    }
  }
  if (total > n) out += absl::StrCat(" (and ", total - n, " more errors)");
  return out;
}

}  // namespace

Policy::Policy(PolicyConfig config)
    : config_(std::move(config)), tables_(std::make_unique<Tables>()) {}
Policy::~Policy() = default;

Result<std::shared_ptr<const Policy>> Policy::LoadFile(const std::string& path,
                                                       const LoadOptions& options) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return absl::NotFoundError(absl::StrCat("cannot read policy file ", path));
  std::ostringstream ss;
  ss << in.rdbuf();
  return LoadString(ss.str(), path, options);
}

Result<std::shared_ptr<const Policy>> Policy::LoadString(std::string_view text,
                                                         std::string_view file,
                                                         const LoadOptions& options) {
  if (text.size() > options.max_file_bytes) {
    return absl::InvalidArgumentError(absl::StrCat(ToAbsl(file), ": policy file is larger than ",
                                                   options.max_file_bytes, " bytes"));
  }
  ParseOutput parsed = ParsePolicy(text, file);
  if (parsed.config == nullptr || HasErrors(parsed.diagnostics)) {
    return absl::InvalidArgumentError(FirstErrors(parsed.diagnostics));
  }
  std::vector<Diagnostic> lint = LintConfig(*parsed.config, options.lint);
  if (options.reject_lint_errors && HasErrors(lint)) {
    return absl::InvalidArgumentError(FirstErrors(lint));
  }
  std::shared_ptr<Policy> p(new Policy(std::move(*parsed.config)));
  p->load_diagnostics_ = std::move(parsed.diagnostics);
  p->load_diagnostics_.insert(p->load_diagnostics_.end(), lint.begin(), lint.end());
  PHIGATE_RETURN_IF_ERROR(p->Compile());
  return std::shared_ptr<const Policy>(std::move(p));
}

Result<std::shared_ptr<const Policy>> Policy::FromConfig(PolicyConfig config) {
  if (config.version.empty()) config.version = "in-memory";
  std::shared_ptr<Policy> p(new Policy(std::move(config)));
  PHIGATE_RETURN_IF_ERROR(p->Compile());
  return std::shared_ptr<const Policy>(std::move(p));
}

Status Policy::Compile() {
  Tables& tb = *tables_;
  tb.deny.clear();
  for (size_t i = 0; i < kNumReasonCodes; ++i) {
    tb.deny.push_back(MakeDeny(static_cast<ReasonCode>(i), config_.version));
  }
  for (size_t i = 0; i < config_.users.size(); ++i) {
    const User& u = config_.users[i];
    tb.users_by_id.emplace(u.id, i);
    std::string hash = u.api_key_sha256;
    if (hash.empty() && !u.key_env.empty()) {
      const char* key = std::getenv(u.key_env.c_str());
      if (key != nullptr && *key != '\0') hash = Sha256Hex(key);
    }
    if (hash.empty()) continue;
    // One key, one user: otherwise the key would sign in as whichever came
    // first, in another tenant perhaps.
    auto [it, fresh] = tb.users_by_key_hash.emplace(std::move(hash), i);
    if (!fresh) {
      return absl::InvalidArgumentError(absl::StrCat(
          "users '", config_.users[it->second].id, "' and '", u.id,
          "' have the same API key (api_key_sha256 or the value of key_env): give each its own"));
    }
  }
  std::string key;
  for (const Tenant& t : config_.tenants) {
    const TenantRules rules = RulesFor(config_, t);
    if (rules.unknown_jurisdiction) continue;  // every request of the tenant is denied
    for (const Feature& f : config_.features) {
      if (!t.Enables(f.name)) {
        continue;
      }
      for (const Route& r : f.routes) {
        const Vendor* v = config_.FindVendor(r.vendor);
        if (v == nullptr) continue;
        for (const VendorModel& m : v->models) {
          if (std::find(r.models.begin(), r.models.end(), m.name) == r.models.end() &&
              std::find(r.models.begin(), r.models.end(), "*") == r.models.end()) {
            continue;
          }
          for (size_t ei = 0; ei <= v->endpoints.size(); ++ei) {
            // ei == endpoints.size(): the empty endpoint, meaning the vendor's default.
            const std::string& endpoint = v->endpoints[ei == v->endpoints.size() ? 0 : ei];
            AppendKey(&key, t.id, f.name, v->name, ei == v->endpoints.size() ? "" : endpoint,
                      m.name);
            if (tb.entries.contains(key)) continue;  // overlapping routes: first wins
            Entry e;
            e.feature_roles = f.roles;
            std::vector<int64_t> cuts;
            for (const Baa& b : v->baas) {
              cuts.push_back(b.active_from());
              cuts.push_back(b.active_until());
            }
            std::sort(cuts.begin(), cuts.end());
            cuts.erase(std::unique(cuts.begin(), cuts.end()), cuts.end());
            std::vector<int64_t> starts = {std::numeric_limits<int64_t>::min()};
            starts.insert(starts.end(), cuts.begin(), cuts.end());
            for (int64_t s : starts) {
              const Coverage cov = CoverageAt(*v, endpoint, m.name, rules, s);
              Segment seg;
              seg.start = s;
              seg.no_reidentify = tb.Intern(BuildDecision(config_, f, rules, cov, false));
              seg.reidentify = tb.Intern(BuildDecision(config_, f, rules, cov, true));
              e.segments.push_back(std::move(seg));
            }
            tb.entries.emplace(key, std::move(e));
          }
        }
      }
    }
  }
  return absl::OkStatus();
}

const Decision& Policy::Deny(ReasonCode code) const {
  return tables_->deny[static_cast<size_t>(code)];
}

const Decision& Policy::Decide(const DecisionRequest& request) const {
  const auto it = tables_->users_by_id.find(ToAbsl(request.user));
  if (it == tables_->users_by_id.end()) {
    if (config_.FindTenant(request.tenant) == nullptr) return Deny(ReasonCode::kUnknownTenant);
    return Deny(ReasonCode::kUnknownUser);
  }
  const User& u = config_.users[it->second];
  if (u.tenant != request.tenant) {
    if (config_.FindTenant(request.tenant) == nullptr) return Deny(ReasonCode::kUnknownTenant);
    return Deny(ReasonCode::kUserNotInTenant);
  }
  return DecideImpl(request, &u, u.roles);
}

const Decision& Policy::DecideForRoles(const DecisionRequest& request, RoleSet roles) const {
  return DecideImpl(request, nullptr, roles);
}

const Decision& Policy::DecideImpl(const DecisionRequest& request, const User* /*user*/,
                                   RoleSet roles) const {
  const std::string_view endpoint = NormalizeEndpoint(request.endpoint);
  for (std::string_view field :
       {request.tenant, request.feature, request.vendor, endpoint, request.model}) {
    if (field.find(kSep) != std::string_view::npos) return Deny(ReasonCode::kRouteNotAllowed);
  }
  thread_local std::string key;
  AppendKey(&key, request.tenant, request.feature, request.vendor, endpoint, request.model);
  const auto it = tables_->entries.find(key);
  if (it != tables_->entries.end()) {
    const Entry& e = it->second;
    if ((roles & e.feature_roles) == 0) return Deny(ReasonCode::kRoleNotPermitted);
    const int64_t t = absl::ToUnixSeconds(request.at);
    size_t i = e.segments.size() - 1;
    while (i > 0 && e.segments[i].start > t) --i;
    const Segment& s = e.segments[i];
    return (roles & kReidentifyRoles) != 0 ? *s.reidentify : *s.no_reidentify;
  }
  // Miss: find the most specific reason (rare path).
  const Tenant* t = config_.FindTenant(request.tenant);
  if (t == nullptr) return Deny(ReasonCode::kUnknownTenant);
  for (const std::string& j : t->jurisdictions) {
    if (config_.FindJurisdiction(j) == nullptr) return Deny(ReasonCode::kUnknownJurisdiction);
  }
  const Feature* f = config_.FindFeature(request.feature);
  if (f == nullptr) return Deny(ReasonCode::kUnknownFeature);
  if (!t->Enables(request.feature)) {
    return Deny(ReasonCode::kFeatureNotEnabled);
  }
  const Vendor* v = config_.FindVendor(request.vendor);
  if (v == nullptr) return Deny(ReasonCode::kUnknownVendor);
  if (!endpoint.empty() && !v->HasEndpoint(endpoint)) return Deny(ReasonCode::kUnknownEndpoint);
  if (v->FindModel(request.model) == nullptr) return Deny(ReasonCode::kUnknownModel);
  return Deny(ReasonCode::kRouteNotAllowed);
}

const User* Policy::FindUserByApiKey(std::string_view api_key) const {
  if (api_key.empty()) return nullptr;
  const auto it = tables_->users_by_key_hash.find(Sha256Hex(api_key));
  if (it == tables_->users_by_key_hash.end()) return nullptr;
  return &config_.users[it->second];
}

}  // namespace phigate::policy
