// Lint: the risk checks over a parsed policy (the loader reports structural
// problems). Every diagnostic names ids, categories and dates, never key material.
#include "phigate/policy/lint.h"

#include <algorithm>
#include <fstream>
#include <set>
#include <sstream>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "phigate/policy/policy.h"

namespace phigate::policy {
namespace {

std::string CategoryList(const std::vector<PhiCategory>& cats) {
  std::vector<std::string> names;
  for (PhiCategory c : cats) names.emplace_back(CategoryName(c));
  return absl::StrJoin(names, ",");
}

// The host of "scheme://host:port/path", lower-cased; empty when unparsable.
std::string HostOf(std::string_view url, std::string* scheme) {
  const size_t p = url.find("://");
  if (p == std::string_view::npos) return "";
  *scheme = std::string(url.substr(0, p));
  std::string_view rest = url.substr(p + 3);
  rest = rest.substr(0, rest.find_first_of("/?#"));
  if (const size_t at = rest.rfind('@'); at != std::string_view::npos) rest.remove_prefix(at + 1);
  std::string host;
  if (!rest.empty() && rest.front() == '[') {
    host = std::string(rest.substr(1, rest.find(']') - 1));
  } else {
    host = std::string(rest.substr(0, rest.find(':')));
  }
  std::transform(host.begin(), host.end(), host.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return host;
}

// localhost, ::1 or an IPv4 address in 127.0.0.0/8 — the address itself, not
// a name that starts like one ("127.0.0.1.example.org").
bool IsLoopback(const std::string& host) {
  if (host == "localhost" || host == "::1") return true;
  if (host.rfind("127.", 0) != 0) return false;
  int parts = 0, digits = 0, value = 0;
  for (char c : host + ".") {
    if (c == '.') {
      if (digits == 0 || value > 255) return false;
      ++parts;
      digits = value = 0;
    } else if (c >= '0' && c <= '9' && digits < 3) {
      value = value * 10 + (c - '0');
      ++digits;
    } else {
      return false;
    }
  }
  return parts == 4;
}

class Linter {
 public:
  Linter(const PolicyConfig& cfg, const LintOptions& o) : cfg_(cfg), opts_(o) {
    now_ = absl::ToUnixSeconds(o.now);
    today_ = DayOfUnixSeconds(now_);
  }

  std::vector<Diagnostic> Run() {
    for (const Vendor& v : cfg_.vendors) CheckVendor(v);
    for (const Feature& f : cfg_.features) CheckFeature(f);
    for (const Tenant& t : cfg_.tenants) CheckTenant(t);
    for (const User& u : cfg_.users) CheckUser(u);
    CheckMasterKey();
    return std::move(out_);
  }

 private:
  void Add(SourceLoc loc, Severity s, std::string code, std::string msg, std::string hint) {
    out_.push_back(Diagnostic{cfg_.file, loc, s, std::move(code), std::move(msg), std::move(hint)});
  }

  static bool SelfHostedInBoundary(const Vendor& v) {
    return v.kind == VendorKind::kSelfHosted && v.inside_boundary;
  }

  void CheckVendor(const Vendor& v) {
    if (!v.api_base.empty()) {
      std::string scheme;
      const std::string host = HostOf(v.api_base, &scheme);
      if (host.empty()) {
        Add(v.loc, Severity::kError, "PG003",
            absl::StrCat("vendor '", v.name, "' api_base is not a URL"),
            "write e.g. https://api.openai.com/v1");
      } else if (!IsLoopback(host)) {
        if (scheme != "https") {
          Add(v.loc, Severity::kError, "PG030",
              absl::StrCat("vendor '", v.name, "' is reached without TLS (", scheme,
                           "://) on a non-loopback host"),
              "use https:// for every upstream outside this machine");
        }
        if (!v.tls.verify) {
          Add(v.tls.loc.line != 0 ? v.tls.loc : v.loc, Severity::kError, "PG030",
              absl::StrCat("vendor '", v.name, "' turns TLS certificate verification off"),
              "remove `verify: false`; add `ca_file:` for a private CA instead");
        }
      }
    }
    if (v.kind == VendorKind::kSelfHosted && !v.inside_boundary) {
      Add(v.loc, Severity::kWarning, "PG033",
          absl::StrCat("self-hosted vendor '", v.name,
                       "' is not declared inside the boundary, so it needs a BAA like any vendor"),
          "set `inside_boundary: true` if it runs inside your HIPAA boundary");
    }
    for (const Baa& b : v.baas) {
      if (b.active_from() > now_) {
        Add(b.loc, Severity::kInfo, "PG013",
            absl::StrCat("BAA ", b.id, " of vendor '", v.name, "' takes effect ",
                         FormatDay(b.signed_day), "; until then it counts as none"),
            "nothing to do if the date is right");
      } else if (b.active_until() <= now_) {
        Add(b.loc, Severity::kWarning, "PG013",
            absl::StrCat("BAA ", b.id, " of vendor '", v.name, "' expired ",
                         FormatDay(b.expires_day), "; it counts as none"),
            "renew it and update `expires:`, or remove the agreement");
      } else if (b.expires_day - today_ < opts_.expiry_warning_days) {
        Add(b.loc, Severity::kWarning, "PG012",
            absl::StrCat("BAA ", b.id, " of vendor '", v.name, "' expires ",
                         FormatDay(b.expires_day), " (in ", b.expires_day - today_, " days)"),
            "renew it now; after that day identifying categories are downgraded");
      }
      for (const std::string& m : b.models) {
        if (m == "*") {
          Add(b.loc, Severity::kWarning, "PG021",
              absl::StrCat("BAA ", b.id, " claims to cover every model"),
              "list the models the agreement names; vendors cover model by model");
        }
      }
      for (const std::string& e : b.endpoints) {
        if (e == "*") {
          Add(b.loc, Severity::kWarning, "PG021",
              absl::StrCat("BAA ", b.id, " claims to cover every endpoint"),
              "list the endpoints the agreement names (e.g. chat/completions); a BAA rarely "
              "covers every service of a vendor");
        }
      }
    }
    // Overlapping agreements: two BAAs in force on the same day for the same route.
    for (size_t i = 0; i < v.baas.size(); ++i) {
      for (size_t j = i + 1; j < v.baas.size(); ++j) {
        const Baa& a = v.baas[i];
        const Baa& b = v.baas[j];
        if (a.signed_day > b.expires_day || b.signed_day > a.expires_day) continue;
        for (const std::string& e : v.endpoints) {
          bool hit = false;
          for (const VendorModel& m : v.models) {
            if (a.Covers(e, m.name, v.region) && b.Covers(e, m.name, v.region)) {
              Add(b.loc, Severity::kWarning, "PG021",
                  absl::StrCat("BAAs ", a.id, " and ", b.id, " of vendor '", v.name,
                               "' overlap in time and both cover model '", m.name, "'"),
                  "end the old agreement the day before the new one starts; the first listed "
                  "is recorded while both are active");
              hit = true;
              break;
            }
          }
          if (hit) break;
        }
      }
    }
  }

  void CheckFeature(const Feature& f) {
    std::vector<PhiCategory> identifying;
    bool reversible = false;
    for (PhiCategory c : AllCategories()) {
      const auto& a = f.phi[static_cast<size_t>(c)];
      if (a && PassesIdentifying(*a)) identifying.push_back(c);
      if (a && (*a == Action::kTokenize || *a == Action::kSurrogate)) reversible = true;
    }
    if (f.reidentify_answers && (f.roles & kReidentifyRoles) == 0) {
      Add(f.loc, Severity::kWarning, "PG022",
          absl::StrCat("feature '", f.name,
                       "' re-identifies answers but none of its roles may re-identify"),
          "add `clinician` to its roles or set `reidentify_answers: false`");
    }
    if (f.reidentify_answers && !reversible) {
      Add(f.loc, Severity::kInfo, "PG022",
          absl::StrCat("feature '", f.name,
                       "' re-identifies answers but uses no tokenize/surrogate action"),
          "nothing will be mapped back; set `reidentify_answers: false`");
    }
    // Routes: overlap, and whether identifying data would reach a vendor without a BAA.
    std::set<std::pair<std::string, std::string>> seen;
    for (const Route& r : f.routes) {
      const Vendor* v = cfg_.FindVendor(r.vendor);
      if (v == nullptr) continue;  // reported by the loader (PG020)
      for (const VendorModel& m : v->models) {
        const bool listed = std::find(r.models.begin(), r.models.end(), m.name) != r.models.end() ||
                            std::find(r.models.begin(), r.models.end(), "*") != r.models.end();
        if (!listed) continue;
        if (!seen.insert({v->name, m.name}).second) {
          Add(r.loc, Severity::kWarning, "PG021",
              absl::StrCat("feature '", f.name, "' lists vendor '", v->name, "' model '", m.name,
                           "' in more than one route"),
              "keep one route per vendor and model");
          continue;
        }
        if (identifying.empty() || SelfHostedInBoundary(*v)) continue;
        CheckCoverage(f, r, *v, m.name, identifying);
      }
    }
  }

  void CheckCoverage(const Feature& f, const Route& r, const Vendor& v, const std::string& model,
                     const std::vector<PhiCategory>& identifying) {
    const std::string what =
        absl::StrCat("feature '", f.name, "' sends ", CategoryList(identifying),
                     " (allow/surrogate) to vendor '", v.name, "' model '", model, "'");
    const std::string downgrade = absl::StrCat(
        "; the engine will ", ToAbsl(OnMissingBaaName(f.on_missing_baa)), " them instead");
    if (v.baas.empty()) {
      Add(r.loc, Severity::kError, "PG010", absl::StrCat(what, " which has no BAA", downgrade),
          "declare the vendor's BAA under `baa:`, or set these categories to tokenize or redact");
      return;
    }
    std::vector<std::string> uncovered;
    bool active = false, any = false;
    for (const std::string& e : v.endpoints) {
      bool covered = false;
      for (const Baa& b : v.baas) {
        if (!b.Covers(e, model, v.region)) continue;
        covered = true;
        any = true;
        active = active || b.ActiveAt(now_);
      }
      if (!covered) uncovered.push_back(e);
    }
    if (!any) {
      Add(r.loc, Severity::kError, "PG011",
          absl::StrCat(what, " but no BAA of the vendor names this model/endpoints/region",
                       downgrade),
          "add the model and endpoints to the BAA's `models:`/`endpoints:` only if the signed "
          "agreement covers them, or remove the route");
      return;
    }
    if (!uncovered.empty()) {
      Add(r.loc, Severity::kWarning, "PG011",
          absl::StrCat(what, " but endpoints ", absl::StrJoin(uncovered, ","),
                       " are not named in any BAA", downgrade, " there"),
          "remove the uncovered endpoints from the vendor or extend the BAA");
    }
    if (!active) {
      Add(r.loc, Severity::kWarning, "PG013",
          absl::StrCat(what, " but no covering BAA is in force today", downgrade),
          "renew the agreement or correct its dates");
    }
  }

  void CheckTenant(const Tenant& t) {
    for (const Feature& f : cfg_.features) {
      if (!t.Enables(f.name)) {
        continue;
      }
      for (const std::string& jid : t.jurisdictions) {
        const Jurisdiction* j = cfg_.FindJurisdiction(jid);
        if (j == nullptr) continue;
        std::vector<PhiCategory> raised;
        for (PhiCategory c : AllCategories()) {
          const auto i = static_cast<size_t>(c);
          if (f.phi[i] && static_cast<uint8_t>(j->floors[i]) > static_cast<uint8_t>(*f.phi[i])) {
            raised.push_back(c);
          }
        }
        if (!raised.empty()) {
          Add(f.loc, Severity::kWarning, "PG022",
              absl::StrCat("feature '", f.name, "' declares ", CategoryList(raised),
                           " less strictly than jurisdiction ", j->id, " of tenant '", t.id,
                           "' allows; the stricter action applies"),
              "align the feature's actions with the jurisdiction floors");
        }
        if (j->residency.empty()) continue;
        for (const Route& r : f.routes) {
          const Vendor* v = cfg_.FindVendor(r.vendor);
          // Inside the boundary with no region: where the boundary is.
          if (v == nullptr || (SelfHostedInBoundary(*v) && v->region.empty())) continue;
          bool ok = false;
          for (const std::string& reg : j->residency) {
            if (!v->region.empty() && v->region.rfind(reg, 0) == 0) ok = true;
          }
          if (!ok) {
            Add(r.loc, Severity::kWarning, "PG022",
                absl::StrCat("jurisdiction ", j->id, " of tenant '", t.id,
                             "' requires vendor regions [", absl::StrJoin(j->residency, ","),
                             "] but vendor '", v->name, "' region is '", v->region,
                             "'; identifying categories are downgraded"),
                "route to a vendor region that the jurisdiction allows");
          }
        }
      }
    }
  }

  void CheckUser(const User& u) {
    if (u.api_key_sha256.empty() && u.key_env.empty()) {
      Add(u.loc, Severity::kWarning, "PG032",
          absl::StrCat("user '", u.id, "' has no API key and cannot authenticate"),
          "add `api_key_sha256:` (hex SHA-256 of the key) or `key_env:`");
    } else if (!u.key_env.empty() && std::getenv(u.key_env.c_str()) == nullptr) {
      Add(u.loc, Severity::kWarning, "PG032",
          absl::StrCat("user '", u.id, "' reads its key from $", u.key_env, ", which is not set"),
          "set the variable before starting phigate");
    }
  }

  void CheckMasterKey() {
    if (!cfg_.keys.master_key_env.empty() || !cfg_.keys.master_key_file.empty()) return;
    const auto loc = cfg_.other_section_locs.find("keys");
    Add(loc != cfg_.other_section_locs.end() ? loc->second : SourceLoc{1, 1}, Severity::kWarning,
        "PG031", "no master key is configured (keys.master_key_env or keys.master_key_file)",
        "add `keys: {master_key_env: PHIGATE_MASTER_KEY}`; without it the vault cannot encrypt");
  }

  const PolicyConfig& cfg_;
  const LintOptions& opts_;
  int64_t now_ = 0;
  Day today_ = 0;
  std::vector<Diagnostic> out_;
};

}  // namespace

std::string_view SeverityName(Severity s) {
  switch (s) {
    case Severity::kInfo:
      return "info";
    case Severity::kWarning:
      return "warning";
    case Severity::kError:
      return "error";
  }
  return "error";
}

std::string FormatDiagnostic(const Diagnostic& d) {
  std::string out = d.file;
  if (d.loc.line != 0) absl::StrAppend(&out, ":", d.loc.line, ":", d.loc.column);
  absl::StrAppend(&out, ": ", ToAbsl(SeverityName(d.severity)), ": ", d.code, ": ", d.message);
  if (!d.hint.empty()) absl::StrAppend(&out, " (fix: ", d.hint, ")");
  return out;
}

bool HasErrors(const std::vector<Diagnostic>& diags) {
  return std::any_of(diags.begin(), diags.end(),
                     [](const Diagnostic& d) { return d.severity == Severity::kError; });
}

std::vector<Diagnostic> LintConfig(const PolicyConfig& config, const LintOptions& options) {
  return Linter(config, options).Run();
}

std::vector<Diagnostic> LintString(std::string_view text, std::string_view file,
                                   const LintOptions& options) {
  ParseOutput parsed = ParsePolicy(text, file);
  std::vector<Diagnostic> out = std::move(parsed.diagnostics);
  if (parsed.config != nullptr) {
    std::vector<Diagnostic> more = LintConfig(*parsed.config, options);
    out.insert(out.end(), more.begin(), more.end());
  }
  std::stable_sort(out.begin(), out.end(), [](const Diagnostic& a, const Diagnostic& b) {
    return std::tie(a.loc.line, a.loc.column) < std::tie(b.loc.line, b.loc.column);
  });
  return out;
}

std::vector<Diagnostic> LintFile(const std::string& path, const LintOptions& options) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    return {Diagnostic{path,
                       {},
                       Severity::kError,
                       "PG001",
                       "cannot read the file",
                       "check the path and permissions"}};
  }
  std::ostringstream ss;
  ss << in.rdbuf();
  return LintString(ss.str(), path, options);
}

}  // namespace phigate::policy
