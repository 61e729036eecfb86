// ParsePolicy: YAML text -> PolicyConfig plus diagnostics with file:line:col.
// Structural problems (syntax, unknown keys, bad values, duplicate ids, references to
// undeclared things) are errors here; risk checks live in lint.cc.
#include <algorithm>
#include <cctype>
#include <cstdlib>
#include <set>
#include <string>
#include <string_view>

#include "absl/strings/match.h"
#include "phigate/core/ids.h"
#include "phigate/policy/policy.h"
#include "src/policy/internal/yaml_reader.h"
#include "yaml-cpp/yaml.h"

namespace phigate::policy {
namespace {

using internal::YamlReader;

// Top-level sections owned by other modules: kept as text, never interpreted here.
constexpr std::string_view kOtherSections[] = {"server", "store",   "vault", "audit",
                                               "breach", "gateway", "keys"};

// yaml-cpp recurses per nesting level; refuse inputs that could exhaust the stack.
constexpr int kMaxFlowDepth = 64;
constexpr size_t kMaxIndent = 256;

bool TooDeep(std::string_view text) {
  int depth = 0;
  size_t line_prefix = 0;
  bool at_line_start = true;
  for (char c : text) {
    if (c == '\n') {
      at_line_start = true;
      line_prefix = 0;
      continue;
    }
    if (at_line_start) {
      if (c == ' ' || c == '-' || c == '?' || c == ':' || c == '\t') {
        if (++line_prefix > kMaxIndent) return true;
      } else {
        at_line_start = false;
      }
    }
    if (c == '[' || c == '{') {
      if (++depth > kMaxFlowDepth) return true;
    } else if ((c == ']' || c == '}') && depth > 0) {
      --depth;
    }
  }
  return false;
}

std::string Lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return s;
}

bool IsHex64(std::string_view s) {
  return s.size() == 64 && std::all_of(s.begin(), s.end(), [](unsigned char c) {
           return std::isdigit(c) || (c >= 'a' && c <= 'f');
         });
}

std::vector<std::string> DefaultEndpoints(VendorKind k) {
  switch (k) {
    case VendorKind::kAnthropic:
      return {"messages"};
    case VendorKind::kBedrock:
      return {"converse"};
    default:
      return {"chat/completions"};
  }
}

class Loader {
 public:
  Loader(std::string_view file, std::vector<Diagnostic>* diags) : r_(file, diags) {}

  std::unique_ptr<PolicyConfig> Load(std::string_view text, const YAML::Node& root) {
    auto cfg = std::make_unique<PolicyConfig>();
    cfg->file = r_.file();
    cfg->version = Sha256Hex(text).substr(0, 16);
    cfg->jurisdictions = BuiltinJurisdictions();
    if (!root.IsDefined() || root.IsNull()) {
      r_.Report({1, 1}, Severity::kError, "PG004", "the policy file is empty",
                "start from config/demo.yaml");
      return cfg;
    }
    if (!r_.Map(root, "the policy file",
                {"version", "tenants", "users", "vendors", "features", "jurisdictions", "server",
                 "store", "vault", "audit", "breach", "gateway", "keys"})) {
      return cfg;
    }
    if (const auto v = r_.Int(root, "version", "the policy file")) {
      if (*v != 1) {
        r_.Error(root["version"], "PG003", "unsupported policy format version",
                 "this phigate reads `version: 1`");
      }
      cfg->format_version = *v;
    }
    for (std::string_view s : kOtherSections) {
      const YAML::Node n = root[std::string(s)];
      if (n.IsDefined()) cfg->other_section_locs[std::string(s)] = YamlReader::Loc(n);
    }
    CaptureOtherSections(text, root, cfg.get());
    LoadKeys(root["keys"], cfg.get());
    // Jurisdictions first: tenants refer to them.
    if (r_.Seq(root["jurisdictions"], "jurisdictions")) {
      for (const YAML::Node& n : root["jurisdictions"]) LoadJurisdiction(n, cfg.get());
    }
    if (r_.Seq(root["vendors"], "vendors")) {
      for (const YAML::Node& n : root["vendors"]) LoadVendor(n, cfg.get());
    }
    if (r_.Seq(root["features"], "features")) {
      for (const YAML::Node& n : root["features"]) LoadFeature(n, cfg.get());
    }
    if (r_.Seq(root["tenants"], "tenants")) {
      for (const YAML::Node& n : root["tenants"]) LoadTenant(n, cfg.get());
    }
    if (r_.Seq(root["users"], "users")) {
      for (const YAML::Node& n : root["users"]) LoadUser(n, cfg.get());
    }
    if (cfg->tenants.empty()) {
      r_.Report(YamlReader::Loc(root), Severity::kError, "PG004", "no tenants are declared",
                "add a `tenants:` list; requests of undeclared tenants are denied");
    }
    return cfg;
  }

 private:
  // Keeps each other module's section as the exact text of the file (comments
  // included), from its key's line to the next top-level key.
  void CaptureOtherSections(std::string_view text, const YAML::Node& root, PolicyConfig* cfg) {
    std::vector<std::pair<int, std::string>> starts;  // byte offset of each top-level key's line
    for (auto it = root.begin(); it != root.end(); ++it) {
      const YAML::Mark m = it->first.Mark();
      if (m.is_null() || m.pos < 0 || static_cast<size_t>(m.pos) > text.size()) return;
      size_t line_start = static_cast<size_t>(m.pos);
      while (line_start > 0 && text[line_start - 1] != '\n') --line_start;
      if (line_start != static_cast<size_t>(m.pos)) return;  // flow style: not sliceable
      starts.emplace_back(static_cast<int>(line_start), it->first.Scalar());
    }
    std::sort(starts.begin(), starts.end());
    for (size_t i = 0; i < starts.size(); ++i) {
      const auto& [begin, name] = starts[i];
      if (std::find(std::begin(kOtherSections), std::end(kOtherSections), name) ==
          std::end(kOtherSections)) {
        continue;
      }
      const size_t end =
          i + 1 < starts.size() ? static_cast<size_t>(starts[i + 1].first) : text.size();
      cfg->other_sections[name] =
          std::string(text.substr(static_cast<size_t>(begin), end - static_cast<size_t>(begin)));
    }
  }

  void LoadKeys(const YAML::Node& n, PolicyConfig* cfg) {
    if (!n.IsDefined() || n.IsNull()) return;
    if (!r_.Map(n, "keys", {"master_key_env", "master_key_file", "retired_master_key_files"})) {
      return;
    }
    if (auto s = r_.Str(n, "master_key_env", "keys", false)) cfg->keys.master_key_env = *s;
    if (auto s = r_.Str(n, "master_key_file", "keys", false)) cfg->keys.master_key_file = *s;
    cfg->keys.retired_master_key_files = r_.StrList(n, "retired_master_key_files", "keys");
    if (!cfg->keys.master_key_env.empty() && !cfg->keys.master_key_file.empty()) {
      r_.Error(n, "PG022", "keys: both master_key_env and master_key_file are set",
               "keep one: the variable or the file");
    }
  }

  void LoadJurisdiction(const YAML::Node& n, PolicyConfig* cfg) {
    if (!r_.Map(n, "jurisdiction",
                {"id", "name", "floors", "require_zero_data_retention", "require_no_training",
                 "residency", "individual_notice_days", "notice_source"})) {
      return;
    }
    const auto id = r_.Str(n, "id", "jurisdiction", true);
    if (!id) return;
    Jurisdiction* j = nullptr;
    // Ids are matched regardless of case: "tx" overrides the built-in TX (an
    // exact match made it a new jurisdiction no tenant used, and TX's floor
    // never tightened).
    for (Jurisdiction& x : cfg->jurisdictions) {
      if (absl::EqualsIgnoreCase(x.id, *id)) j = &x;
    }
    if (j != nullptr && !j->builtin) {
      r_.Error(n["id"], "PG005", "jurisdiction '" + *id + "' is declared twice",
               "merge the two entries");
      return;
    }
    if (j == nullptr) {
      cfg->jurisdictions.emplace_back();
      j = &cfg->jurisdictions.back();
      j->id = *id;
      j->floors.fill(Action::kAllow);
    }
    // A file entry overrides a built-in field by field.
    j->builtin = false;
    j->loc = YamlReader::Loc(n);
    if (auto v = r_.Str(n, "name", "jurisdiction", false)) j->name = *v;
    if (auto v = r_.Bool(n, "require_zero_data_retention", "jurisdiction")) {
      j->require_zero_data_retention = *v;
    }
    if (auto v = r_.Bool(n, "require_no_training", "jurisdiction")) j->require_no_training = *v;
    if (n["residency"].IsDefined()) {
      j->residency = r_.StrList(n, "residency", "jurisdiction");
      if (j->residency.empty()) {
        // A half-written `residency:` dropped a built-in's requirement (TX:
        // us) and let PHI go to any region.
        r_.Error(n["residency"], "PG003", "jurisdiction '" + *id + "': residency lists no region",
                 "list the allowed regions, or remove the key to keep the requirement as it is");
      }
    }
    if (auto v = r_.Int(n, "individual_notice_days", "jurisdiction")) {
      j->individual_notice_days = *v;
    }
    if (auto v = r_.Str(n, "notice_source", "jurisdiction", false)) j->notice_source = *v;
    const YAML::Node floors = n["floors"];
    if (floors.IsDefined() && !floors.IsNull() && floors.IsMap()) {
      std::array<bool, kNumPhiCategories> seen{};
      for (auto it = floors.begin(); it != floors.end(); ++it) {
        const auto c = Category(it->first, "jurisdiction floors");
        const auto a = ActionOf(it->second, "jurisdiction floor");
        if (!c || !a) continue;
        const auto i = static_cast<size_t>(*c);
        if (seen[i]) {
          r_.Error(it->first, "PG022",
                   "category " + std::string(CategoryName(*c)) + " has two floors",
                   "keep one entry per category (aliases name the same category)");
        }
        seen[i] = true;
        j->floors[i] = Stricter(j->floors[i], *a);
      }
    } else if (floors.IsDefined() && !floors.IsNull()) {
      r_.Error(floors, "PG003", "jurisdiction `floors` must map categories to actions",
               "write e.g. `SSN: redact`");
    }
  }

  std::optional<PhiCategory> Category(const YAML::Node& key, std::string_view what) {
    if (!key.IsScalar()) {
      r_.Error(key, "PG003", std::string(what) + " keys must be PHI category names",
               "write e.g. NAME, DATE, SSN");
      return std::nullopt;
    }
    const auto c = ParseCategory(key.Scalar());
    if (!c) {
      r_.Error(key, "PG003", "unknown PHI category in " + std::string(what),
               "use one of NAME, STREET_ADDRESS, CITY, ZIP, FACILITY, LOCATION, DATE, AGE, "
               "PHONE, FAX, EMAIL, SSN, MRN, HEALTH_PLAN, ACCOUNT, LICENSE, VEHICLE, DEVICE, URL, "
               "IP, BIOMETRIC, PHOTO, ID");
    }
    return c;
  }

  std::optional<Action> ActionOf(const YAML::Node& v, std::string_view what) {
    if (!v.IsScalar()) {
      r_.Error(v, "PG003", std::string(what) + " must be an action",
               "write allow, surrogate, tokenize, redact or block");
      return std::nullopt;
    }
    const auto a = ParseAction(v.Scalar());
    if (!a) {
      r_.Error(v, "PG003", "unknown action in " + std::string(what),
               "write allow, surrogate, tokenize, redact or block");
    }
    return a;
  }

  RoleSet Roles(const YAML::Node& parent, std::string_view what) {
    RoleSet roles = 0;
    for (const std::string& s : r_.StrList(parent, "roles", what)) {
      const auto role = ParseRole(s);
      if (!role) {
        r_.Error(parent["roles"], "PG003", "unknown role in " + std::string(what),
                 "roles are clinician, analyst, admin");
        continue;
      }
      roles = static_cast<RoleSet>(roles | RoleBit(*role));
    }
    return roles;
  }

  void LoadVendor(const YAML::Node& n, PolicyConfig* cfg) {
    if (!r_.Map(n, "vendor",
                {"name", "kind", "description", "api_base", "api_key_env", "region", "endpoints",
                 "models", "tls", "inside_boundary", "baa", "baas"})) {
      return;
    }
    Vendor v;
    v.loc = YamlReader::Loc(n);
    const auto name = r_.Str(n, "name", "vendor", true);
    if (!name) return;
    v.name = *name;
    if (cfg->FindVendor(v.name) != nullptr) {
      r_.Error(n["name"], "PG005", "vendor '" + v.name + "' is declared twice",
               "give each vendor entry a distinct name");
      return;
    }
    if (const auto kind = r_.Str(n, "kind", "vendor", true)) {
      const auto k = ParseVendorKind(*kind);
      if (!k) {
        r_.Error(n["kind"], "PG003", "unknown vendor kind",
                 "use openai, azure-openai, anthropic, bedrock or self-hosted");
      } else {
        v.kind = *k;
      }
    }
    if (auto s = r_.Str(n, "api_base", "vendor", v.kind != VendorKind::kBedrock)) v.api_base = *s;
    if (auto s = r_.Str(n, "api_key_env", "vendor", false)) v.api_key_env = *s;
    if (auto s = r_.Str(n, "region", "vendor", false)) v.region = Lower(*s);
    for (const std::string& e : r_.StrList(n, "endpoints", "vendor")) {
      v.endpoints.emplace_back(NormalizeEndpoint(e));
    }
    if (v.endpoints.empty()) v.endpoints = DefaultEndpoints(v.kind);
    if (r_.Seq(n["models"], "vendor models")) {
      for (const YAML::Node& m : n["models"]) {
        VendorModel vm;
        vm.loc = YamlReader::Loc(m);
        if (m.IsScalar()) {
          vm.name = m.Scalar();
        } else if (r_.Map(m, "vendor model", {"name", "upstream_model"})) {
          if (auto s = r_.Str(m, "name", "vendor model", true)) vm.name = *s;
          if (auto s = r_.Str(m, "upstream_model", "vendor model", false)) vm.upstream_model = *s;
        }
        if (vm.name.empty()) continue;
        if (v.FindModel(vm.name) != nullptr) {
          r_.Error(m, "PG005", "model '" + vm.name + "' is listed twice for vendor " + v.name,
                   "list each model once");
          continue;
        }
        v.models.push_back(std::move(vm));
      }
    }
    if (v.models.empty()) {
      r_.Error(n, "PG004", "vendor '" + v.name + "' declares no models",
               "add `models: [...]`; requests name a model and unknown models are denied");
    }
    const YAML::Node tls = n["tls"];
    if (tls.IsDefined() && !tls.IsNull() &&
        r_.Map(tls, "vendor tls", {"verify", "ca_file", "min_version"})) {
      v.tls.loc = YamlReader::Loc(tls);
      if (auto b = r_.Bool(tls, "verify", "vendor tls")) v.tls.verify = *b;
      if (auto s = r_.Str(tls, "ca_file", "vendor tls", false)) v.tls.ca_file = *s;
      if (auto s = r_.Str(tls, "min_version", "vendor tls", false)) {
        if (*s != "1.2" && *s != "1.3") {
          r_.Error(tls["min_version"], "PG003", "tls min_version must be 1.2 or 1.3",
                   "write \"1.2\" or \"1.3\" (quoted)");
        }
        v.tls.min_version = *s;
      }
    }
    if (auto b = r_.Bool(n, "inside_boundary", "vendor")) {
      v.inside_boundary = *b;
      if (*b && v.kind != VendorKind::kSelfHosted) {
        r_.Error(n["inside_boundary"], "PG003",
                 "only a self-hosted vendor can be inside the boundary",
                 "set `kind: self-hosted` or remove inside_boundary and declare a BAA");
        v.inside_boundary = false;
      }
    }
    if (n["baa"].IsDefined() && n["baas"].IsDefined()) {
      r_.Error(n["baas"], "PG022", "vendor has both `baa:` and `baas:`",
               "use `baas:` (a list) for several agreements");
    }
    if (n["baa"].IsDefined() && !n["baa"].IsNull()) LoadBaa(n["baa"], &v);
    if (r_.Seq(n["baas"], "vendor baas")) {
      for (const YAML::Node& b : n["baas"]) LoadBaa(b, &v);
    }
    cfg->vendors.push_back(std::move(v));
  }

  void LoadBaa(const YAML::Node& n, Vendor* v) {
    if (!r_.Map(n, "baa",
                {"id", "signed", "expires", "products", "endpoints", "models", "regions",
                 "zero_data_retention", "no_training", "notes"})) {
      return;
    }
    Baa b;
    b.loc = YamlReader::Loc(n);
    const auto id = r_.Str(n, "id", "baa", true);
    const auto signed_day = r_.Date(n, "signed", "baa", true);
    const auto expires_day = r_.Date(n, "expires", "baa", true);
    if (!id || !signed_day || !expires_day) return;
    b.id = *id;
    b.signed_day = *signed_day;
    b.expires_day = *expires_day;
    if (b.expires_day < b.signed_day) {
      r_.Error(n["expires"], "PG003", "BAA '" + b.id + "' expires before it is signed",
               "check the dates (YYYY-MM-DD)");
      return;
    }
    for (const Baa& other : v->baas) {
      if (other.id == b.id) {
        r_.Error(n["id"], "PG005", "BAA '" + b.id + "' is declared twice for vendor " + v->name,
                 "give each agreement its own id");
        return;
      }
    }
    b.products = r_.StrList(n, "products", "baa");
    for (const std::string& e : r_.StrList(n, "endpoints", "baa")) {
      b.endpoints.emplace_back(NormalizeEndpoint(e));
    }
    b.models = r_.StrList(n, "models", "baa");
    for (std::string& reg : r_.StrList(n, "regions", "baa")) b.regions.push_back(Lower(reg));
    if (b.endpoints.empty()) {
      r_.Error(n, "PG004", "BAA '" + b.id + "' lists no endpoints",
               "list the API endpoints the agreement covers, e.g. [chat/completions]; an "
               "agreement covers only what it names");
    }
    if (b.models.empty()) {
      r_.Error(n, "PG004", "BAA '" + b.id + "' lists no models",
               "list the models the agreement covers; an agreement covers only what it names");
    }
    if (auto x = r_.Bool(n, "zero_data_retention", "baa")) b.zero_data_retention = *x;
    if (auto x = r_.Bool(n, "no_training", "baa")) b.no_training = *x;
    v->baas.push_back(std::move(b));
  }

  void LoadFeature(const YAML::Node& n, PolicyConfig* cfg) {
    if (!r_.Map(n, "feature",
                {"name", "purpose", "description", "roles", "reidentify_answers", "phi", "unlisted",
                 "on_missing_baa", "routes"})) {
      return;
    }
    Feature f;
    f.loc = YamlReader::Loc(n);
    const auto name = r_.Str(n, "name", "feature", true);
    if (!name) return;
    f.name = *name;
    if (cfg->FindFeature(f.name) != nullptr) {
      r_.Error(n["name"], "PG005", "feature '" + f.name + "' is declared twice",
               "give each feature a distinct name");
      return;
    }
    static constexpr std::string_view kPurposes[] = {
        "treatment",         "payment",       "operations",
        "individual_access", "authorization", "required_by_law",
        "research",          "public_health", "none"};
    if (auto s = r_.Str(n, "purpose", "feature", true)) {
      if (std::find(std::begin(kPurposes), std::end(kPurposes), *s) == std::end(kPurposes)) {
        r_.Error(n["purpose"], "PG003", "unknown purpose of use",
                 "use treatment, payment, operations, individual_access, authorization, "
                 "required_by_law, research, public_health or none");
      }
      f.purpose = *s;
    }
    if (auto s = r_.Str(n, "description", "feature", false)) f.description = *s;
    if (n["roles"].IsDefined()) f.roles = Roles(n, "feature");
    if (auto b = r_.Bool(n, "reidentify_answers", "feature")) f.reidentify_answers = *b;
    if (auto s = r_.Str(n, "unlisted", "feature", false)) {
      const auto a = ParseAction(*s);
      if (!a || (*a != Action::kRedact && *a != Action::kBlock)) {
        r_.Error(n["unlisted"], "PG003", "`unlisted` must be redact or block",
                 "a feature never sends a category it does not list");
      } else {
        f.unlisted = *a;
      }
    }
    if (auto s = r_.Str(n, "on_missing_baa", "feature", false)) {
      bool ok = false;
      for (OnMissingBaa a : {OnMissingBaa::kTokenize, OnMissingBaa::kRedact, OnMissingBaa::kBlock,
                             OnMissingBaa::kDeny}) {
        if (Lower(*s) == OnMissingBaaName(a)) {
          f.on_missing_baa = a;
          ok = true;
        }
      }
      if (!ok) {
        r_.Error(n["on_missing_baa"], "PG003",
                 "`on_missing_baa` must be tokenize, redact, "
                 "block or deny",
                 "choose what happens to identifying categories without a BAA");
      }
    }
    const YAML::Node phi = n["phi"];
    if (phi.IsDefined() && !phi.IsNull()) {
      if (!phi.IsMap()) {
        r_.Error(phi, "PG003", "feature `phi` must map categories to actions",
                 "write e.g. `NAME: tokenize`");
      } else {
        for (auto it = phi.begin(); it != phi.end(); ++it) {
          const auto c = Category(it->first, "feature phi");
          const auto a = ActionOf(it->second, "feature phi");
          if (!c || !a) continue;
          const auto i = static_cast<size_t>(*c);
          if (f.phi[i].has_value()) {
            const bool same = *f.phi[i] == *a;
            r_.Report(YamlReader::Loc(it->first), same ? Severity::kWarning : Severity::kError,
                      same ? "PG021" : "PG022",
                      "category " + std::string(CategoryName(*c)) +
                          " is listed twice in feature '" + f.name + "'" +
                          (same ? "" : " with different actions"),
                      "keep one entry per category (aliases name the same category)");
            f.phi[i] = Stricter(*f.phi[i], *a);
            continue;
          }
          f.phi[i] = *a;
          f.phi_loc[i] = YamlReader::Loc(it->first);
        }
      }
    }
    if (r_.Seq(n["routes"], "feature routes")) {
      for (const YAML::Node& rn : n["routes"]) {
        if (!r_.Map(rn, "feature route", {"vendor", "models"})) continue;
        Route route;
        route.loc = YamlReader::Loc(rn);
        const auto vendor = r_.Str(rn, "vendor", "feature route", true);
        if (!vendor) continue;
        route.vendor = *vendor;
        route.models = r_.StrList(rn, "models", "feature route");
        const Vendor* v = cfg->FindVendor(route.vendor);
        if (v == nullptr) {
          r_.Error(rn["vendor"], "PG020",
                   "feature '" + f.name + "' routes to undeclared vendor '" + route.vendor + "'",
                   "declare the vendor under `vendors:` or remove the route");
          continue;
        }
        if (route.models.empty()) {
          r_.Error(rn, "PG004", "route to vendor '" + route.vendor + "' lists no models",
                   "write `models: [name, ...]` or `models: [\"*\"]` for every declared model");
          continue;
        }
        for (const std::string& m : route.models) {
          if (m != "*" && v->FindModel(m) == nullptr) {
            r_.Error(rn["models"], "PG020",
                     "feature '" + f.name + "' routes to model '" + m + "' that vendor '" +
                         v->name + "' does not declare",
                     "add the model to the vendor's `models:` or fix the name");
          }
        }
        f.routes.push_back(std::move(route));
      }
    }
    if (f.routes.empty()) {
      r_.Report(f.loc, Severity::kWarning, "PG020", "feature '" + f.name + "' has no routes",
                "add `routes:`; every request for it is denied until then");
    }
    cfg->features.push_back(std::move(f));
  }

  void LoadTenant(const YAML::Node& n, PolicyConfig* cfg) {
    if (!r_.Map(n, "tenant", {"id", "name", "jurisdictions", "features"})) return;
    Tenant t;
    t.loc = YamlReader::Loc(n);
    const auto id = r_.Str(n, "id", "tenant", true);
    if (!id) return;
    t.id = *id;
    if (!MakeTenantId(t.id).ok()) {
      r_.Error(n["id"], "PG003", "tenant id must be 1..64 characters of [A-Za-z0-9_.-]",
               "rename the tenant");
      return;
    }
    if (cfg->FindTenant(t.id) != nullptr) {
      r_.Error(n["id"], "PG005", "tenant '" + t.id + "' is declared twice", "merge the entries");
      return;
    }
    if (auto s = r_.Str(n, "name", "tenant", false)) t.name = *s;
    t.jurisdictions = r_.StrList(n, "jurisdictions", "tenant");
    if (t.jurisdictions.empty()) {
      r_.Error(n, "PG004", "tenant '" + t.id + "' names no jurisdictions",
               "add e.g. `jurisdictions: [US-HIPAA, CA]`");
    }
    for (const std::string& j : t.jurisdictions) {
      if (cfg->FindJurisdiction(j) == nullptr) {
        r_.Error(n["jurisdictions"], "PG006",
                 "tenant '" + t.id + "' names undeclared jurisdiction '" + j + "'",
                 "use a built-in (US-HIPAA, CA, NY, TX, CO, FL, ME, WA) or declare it under "
                 "`jurisdictions:`");
      }
    }
    t.features = r_.StrList(n, "features", "tenant");
    t.all_features = !n["features"].IsDefined();
    for (const std::string& f : t.features) {
      if (cfg->FindFeature(f) == nullptr) {
        r_.Error(n["features"], "PG006",
                 "tenant '" + t.id + "' enables undeclared feature '" + f + "'",
                 "declare it under `features:` or remove it");
      }
    }
    cfg->tenants.push_back(std::move(t));
  }

  void LoadUser(const YAML::Node& n, PolicyConfig* cfg) {
    if (!r_.Map(n, "user", {"id", "tenant", "roles", "api_key_sha256", "key_env"})) return;
    User u;
    u.loc = YamlReader::Loc(n);
    const auto id = r_.Str(n, "id", "user", true);
    const auto tenant = r_.Str(n, "tenant", "user", true);
    if (!id || !tenant) return;
    u.id = *id;
    u.tenant = *tenant;
    if (cfg->FindUser(u.id) != nullptr) {
      r_.Error(n["id"], "PG005", "user '" + u.id + "' is declared twice",
               "user ids are unique across tenants");
      return;
    }
    if (cfg->FindTenant(u.tenant) == nullptr) {
      r_.Error(n["tenant"], "PG006",
               "user '" + u.id + "' belongs to undeclared tenant '" + u.tenant + "'",
               "declare the tenant or fix the name");
    }
    u.roles = Roles(n, "user");
    if (u.roles == 0) {
      r_.Error(n, "PG004", "user '" + u.id + "' has no roles",
               "add `roles: [clinician]`, `[analyst]` or `[admin]`");
    }
    if (auto s = r_.Str(n, "api_key_sha256", "user", false)) {
      const std::string h = Lower(*s);
      if (!IsHex64(h)) {
        r_.Error(n["api_key_sha256"], "PG003", "api_key_sha256 must be 64 hex digits",
                 "store `printf %s \"$KEY\" | sha256sum`, never the key itself");
      } else {
        u.api_key_sha256 = h;
      }
    }
    if (auto s = r_.Str(n, "key_env", "user", false)) {
      // The name of a variable, never the key: a key pasted here would be
      // printed by every message that names the variable.
      const bool name = !s->empty() && !std::isdigit(static_cast<unsigned char>((*s)[0])) &&
                        std::all_of(s->begin(), s->end(), [](char c) {
                          return (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_';
                        });
      if (name) {
        u.key_env = *s;
      } else {
        r_.Error(n["key_env"], "PG003",
                 "user '" + u.id + "': key_env is not the name of an environment variable",
                 "write the variable's name (A-Z, 0-9, _), e.g. `key_env: PHIGATE_KEY_DR_LEE`, "
                 "never the key itself");
      }
    }
    if (!u.api_key_sha256.empty() && !u.key_env.empty()) {
      r_.Error(n["key_env"], "PG022", "user '" + u.id + "' has both api_key_sha256 and key_env",
               "keep one");
    }
    // One key, one user: a shared key signs in as whichever user comes first.
    for (const User& other : cfg->users) {
      if (!u.api_key_sha256.empty() && other.api_key_sha256 == u.api_key_sha256) {
        r_.Error(n["api_key_sha256"], "PG005",
                 "user '" + u.id + "' has the same API key as user '" + other.id + "'",
                 "give each user its own key");
      }
      if (!u.key_env.empty() && other.key_env == u.key_env) {
        r_.Error(
            n["key_env"], "PG005",
            "user '" + u.id + "' reads its key from the same variable as user '" + other.id + "'",
            "give each user its own key");
      }
    }
    cfg->users.push_back(std::move(u));
  }

  YamlReader r_;
};

}  // namespace

ParseOutput ParsePolicy(std::string_view text, std::string_view file) {
  ParseOutput out;
  YamlReader r(file, &out.diagnostics);
  if (TooDeep(text)) {
    r.Report({1, 1}, Severity::kError, "PG001", "the file nests too deeply to be a policy",
             "policies nest a few levels; check the indentation");
    return out;
  }
  YAML::Node root;
  try {
    root = YAML::Load(std::string(text));
  } catch (const YAML::Exception& e) {
    const SourceLoc loc = e.mark.is_null() ? SourceLoc{}
                                           : SourceLoc{static_cast<uint32_t>(e.mark.line + 1),
                                                       static_cast<uint32_t>(e.mark.column + 1)};
    // e.msg is yaml-cpp's own wording of the syntax problem, not file content.
    r.Report(loc, Severity::kError, "PG001", "YAML syntax error: " + e.msg,
             "fix the indentation or quoting at this position");
    return out;
  }
  try {
    Loader loader(file, &out.diagnostics);
    out.config = loader.Load(text, root);
  } catch (const YAML::Exception& e) {
    out.config.reset();
    const SourceLoc loc = e.mark.is_null() ? SourceLoc{}
                                           : SourceLoc{static_cast<uint32_t>(e.mark.line + 1),
                                                       static_cast<uint32_t>(e.mark.column + 1)};
    r.Report(loc, Severity::kError, "PG003", "unexpected structure in the policy file",
             "compare with config/demo.yaml");
  }
  return out;
}

}  // namespace phigate::policy
