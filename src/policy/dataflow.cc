// The data-flow report: every (tenant, feature, vendor, model) the policy allows,
// with the action per PHI category and the BAA behind it, computed by the same
// decision engine the gateway uses (so the report cannot drift from enforcement).
#include "phigate/policy/dataflow.h"

#include <algorithm>
#include <map>
#include <set>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_replace.h"
#include "absl/time/time.h"

namespace phigate::policy {
namespace {

std::string Md(std::string_view s) {
  return absl::StrReplaceAll(ToAbsl(s), {{"|", "\\|"}, {"\n", " "}});
}
std::string Dot(std::string_view s) {
  return absl::StrReplaceAll(ToAbsl(s), {{"\\", "\\\\"}, {"\"", "\\\""}, {"\n", "\\n"}});
}

std::string Join(const std::vector<std::string>& v) {
  return v.empty() ? "-" : absl::StrJoin(v, ", ");
}

enum class BaaState { kNone, kSelfHosted, kActive, kExpiring, kExpired, kNotYet };

struct BaaStatus {
  BaaState state = BaaState::kNone;
  std::string text;
};

BaaStatus StatusOf(const Baa& b, int64_t now, int warn_days) {
  const Day today = DayOfUnixSeconds(now);
  if (b.active_from() > now) {
    return {BaaState::kNotYet, "not yet effective (from " + FormatDay(b.signed_day) + ")"};
  }
  if (b.active_until() <= now) {
    return {BaaState::kExpired, "EXPIRED " + FormatDay(b.expires_day)};
  }
  if (b.expires_day - today < warn_days) {
    return {BaaState::kExpiring,
            absl::StrCat("active, EXPIRES IN ", b.expires_day - today, " DAYS")};
  }
  return {BaaState::kActive, "active"};
}

BaaStatus VendorStatus(const Vendor& v, int64_t now, int warn_days) {
  if (v.kind == VendorKind::kSelfHosted && v.inside_boundary) {
    return {BaaState::kSelfHosted, "self-hosted inside the boundary (no BAA needed)"};
  }
  if (v.baas.empty()) return {BaaState::kNone, "NO BAA: de-identified data only"};
  BaaStatus best{BaaState::kExpired, ""};
  for (const Baa& b : v.baas) {
    BaaStatus s = StatusOf(b, now, warn_days);
    if (s.state == BaaState::kActive ||
        (s.state == BaaState::kExpiring && best.state != BaaState::kActive)) {
      best = s;
    } else if (best.text.empty()) {
      best = s;
    }
  }
  return best;
}

const char* Color(BaaState s) {
  switch (s) {
    case BaaState::kActive:
      return "palegreen";
    case BaaState::kSelfHosted:
      return "lightblue";
    case BaaState::kExpiring:
      return "orange";
    default:
      return "lightpink";
  }
}

std::string ActionCell(Action a) {
  return PassesIdentifying(a) ? absl::StrCat("**", ToAbsl(ActionName(a)), "**")
                              : std::string(ActionName(a));
}

std::vector<std::string> RoutedModels(const Route& r, const Vendor& v) {
  std::vector<std::string> out;
  for (const VendorModel& m : v.models) {
    if (std::find(r.models.begin(), r.models.end(), m.name) != r.models.end() ||
        std::find(r.models.begin(), r.models.end(), "*") != r.models.end()) {
      out.push_back(m.name);
    }
  }
  return out;
}

std::string Reasons(const Decision& d) {
  std::vector<std::string> parts;
  for (const Reason& r : d.reasons) {
    if (r.code == ReasonCode::kAllowed) continue;
    parts.push_back(absl::StrCat(ToAbsl(ReasonCodeName(r.code)), ": ", r.text));
  }
  return absl::StrJoin(parts, "; ");
}

}  // namespace

DataflowReport BuildDataflowReport(const Policy& policy, const DataflowOptions& opt) {
  const PolicyConfig& cfg = policy.config();
  const int64_t now = absl::ToUnixSeconds(opt.at);
  std::string md;
  std::string dot;
  absl::StrAppend(&md, "# phigate data-flow report\n\n");
  absl::StrAppend(&md, "- Policy file: `", cfg.file, "` (version `", cfg.version, "`)\n");
  absl::StrAppend(
      &md, "- Computed at: ", absl::FormatTime("%Y-%m-%d %H:%M UTC", opt.at, absl::UTCTimeZone()),
      " (BAA status and actions hold at this instant)\n");
  absl::StrAppend(&md,
                  "- Actions: **allow** = real value sent, **surrogate** = realistic fake "
                  "value (treated as identifying), tokenize = random token kept in the vault, "
                  "redact = placeholder, block = request refused if found. Bold = identifying "
                  "data leaves the gateway; this happens only under an active covering BAA or to "
                  "a self-hosted model inside the boundary.\n\n");

  // Vendors and BAAs.
  absl::StrAppend(&md, "## Vendors and business associate agreements\n\n");
  absl::StrAppend(&md,
                  "| vendor | kind | region | upstream | endpoints | models | status | BAA | "
                  "signed | expires | covers endpoints | covers models | ZDR | no training |\n");
  absl::StrAppend(&md, "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|\n");
  for (const Vendor& v : cfg.vendors) {
    std::vector<std::string> models;
    for (const VendorModel& m : v.models) models.push_back(m.name);
    const BaaStatus vs = VendorStatus(v, now, opt.expiry_warning_days);
    const std::string head = absl::StrCat("| ", Md(v.name), " | ", ToAbsl(VendorKindName(v.kind)),
                                          " | ", Md(v.region.empty() ? "-" : v.region), " | ",
                                          Md(v.api_base.empty() ? "-" : v.api_base), " | ",
                                          Md(Join(v.endpoints)), " | ", Md(Join(models)), " | ");
    if (v.baas.empty()) {
      absl::StrAppend(&md, head, Md(vs.text), " | - | - | - | - | - | - | - |\n");
      continue;
    }
    for (const Baa& b : v.baas) {
      absl::StrAppend(&md, head, Md(StatusOf(b, now, opt.expiry_warning_days).text), " | ",
                      Md(b.id), " | ", FormatDay(b.signed_day), " | ", FormatDay(b.expires_day),
                      " | ", Md(Join(b.endpoints)), " | ", Md(Join(b.models)), " | ",
                      b.zero_data_retention ? "yes" : "no", " | ", b.no_training ? "yes" : "no",
                      " |\n");
    }
  }

  // Jurisdictions in use.
  std::set<std::string> used;
  for (const Tenant& t : cfg.tenants) {
    if (!opt.tenant.empty() && t.id != opt.tenant) continue;
    used.insert(t.jurisdictions.begin(), t.jurisdictions.end());
  }
  absl::StrAppend(&md, "\n## Jurisdictions\n\n");
  absl::StrAppend(&md,
                  "| id | name | breach notice to individuals | source | category floors | "
                  "requirements |\n|---|---|---|---|---|---|\n");
  for (const Jurisdiction& j : cfg.jurisdictions) {
    if (!used.contains(j.id)) continue;
    std::vector<std::string> floors, req;
    for (PhiCategory c : AllCategories()) {
      const Action a = j.floors[static_cast<size_t>(c)];
      if (a != Action::kAllow) {
        floors.push_back(absl::StrCat(ToAbsl(CategoryName(c)), " >= ", ToAbsl(ActionName(a))));
      }
    }
    if (j.require_zero_data_retention) req.push_back("zero data retention");
    if (j.require_no_training) req.push_back("no training");
    if (!j.residency.empty()) req.push_back("vendor region in " + absl::StrJoin(j.residency, "/"));
    absl::StrAppend(&md, "| ", Md(j.id), " | ", Md(j.name), " | ",
                    j.individual_notice_days > 0
                        ? absl::StrCat(j.individual_notice_days, " calendar days")
                        : std::string("no fixed days"),
                    " | ", Md(j.notice_source.empty() ? "-" : j.notice_source), " | ",
                    Md(Join(floors)), " | ", Md(Join(req)), " |\n");
  }
  absl::StrAppend(&md,
                  "\nThe strictest rule of all of a tenant's jurisdictions applies. Breach "
                  "deadlines are shown for orientation; the breach module computes them.\n");

  // Diagram header.
  absl::StrAppend(&dot,
                  "digraph dataflow {\n  rankdir=LR;\n  node [shape=box, style=filled, "
                  "fillcolor=white, fontname=\"Helvetica\"];\n  edge [fontname=\"Helvetica\", "
                  "fontsize=10];\n");
  absl::StrAppend(&dot, "  label=\"phigate data flow at ",
                  absl::FormatTime("%Y-%m-%d", opt.at, absl::UTCTimeZone()), " (policy ",
                  cfg.version, ")\";\n");
  absl::StrAppend(&dot,
                  "  subgraph cluster_boundary {\n    label=\"HIPAA boundary (phigate + "
                  "vault)\";\n    style=dashed;\n");
  std::string edges;
  std::set<std::string> vendors_used;

  for (const Tenant& t : cfg.tenants) {
    if (!opt.tenant.empty() && t.id != opt.tenant) continue;
    absl::StrAppend(&md, "\n## Tenant `", Md(t.id), "`", t.name.empty() ? "" : " — ", Md(t.name),
                    "\n\nJurisdictions: ", Md(Join(t.jurisdictions)), "\n");
    const std::string tnode = "t_" + t.id;
    absl::StrAppend(&dot, "    \"", Dot(tnode), "\" [label=\"tenant ", Dot(t.id), "\\n",
                    Dot(absl::StrJoin(t.jurisdictions, ", ")), "\", shape=folder];\n");
    for (const Feature& f : cfg.features) {
      if (!t.Enables(f.name)) {
        continue;
      }
      std::vector<std::string> roles;
      for (Role r : {Role::kClinician, Role::kAnalyst, Role::kAdmin}) {
        if ((f.roles & RoleBit(r)) != 0) roles.emplace_back(RoleName(r));
      }
      absl::StrAppend(&md, "\n### Feature `", Md(f.name), "`\n\n- Purpose: ", Md(f.purpose),
                      f.description.empty() ? "" : " — ", Md(f.description),
                      "\n- Roles: ", Join(roles), "\n- Answers re-identified: ",
                      f.reidentify_answers ? "yes (for roles that may re-identify)" : "no",
                      "\n- Unlisted categories: ", ToAbsl(ActionName(f.unlisted)),
                      "\n- Without an active covering BAA: ",
                      ToAbsl(OnMissingBaaName(f.on_missing_baa)), "\n\n");
      const std::string fnode = "f_" + t.id + "_" + f.name;
      absl::StrAppend(&dot, "    \"", Dot(fnode), "\" [label=\"feature ", Dot(f.name), "\\n(",
                      Dot(f.purpose), ")\", shape=component];\n");
      absl::StrAppend(&edges, "  \"", Dot(tnode), "\" -> \"", Dot(fnode), "\";\n");

      struct Column {
        std::string label;
        const Decision* d;
      };
      std::vector<Column> cols;
      absl::StrAppend(&md,
                      "| route | endpoint | decision | BAA | identifying sent | tokenized | "
                      "redacted | blocked | reasons |\n|---|---|---|---|---|---|---|---|---|\n");
      for (const Route& r : f.routes) {
        const Vendor* v = cfg.FindVendor(r.vendor);
        if (v == nullptr) continue;
        vendors_used.insert(v->name);
        std::vector<std::string> edge_lines;
        bool edge_identifying = false;
        for (const std::string& model : RoutedModels(r, *v)) {
          for (size_t ei = 0; ei < v->endpoints.size(); ++ei) {
            const std::string& e = v->endpoints[ei];
            DecisionRequest req{t.id, "", f.name, v->name, e, model, opt.at};
            const Decision& d = policy.DecideForRoles(req, f.roles);
            std::vector<std::string> ident, tok, red, blk;
            for (PhiCategory c : AllCategories()) {
              const Action a = d.action(c);
              const std::string n(CategoryName(c));
              if (PassesIdentifying(a)) {
                ident.push_back(absl::StrCat(n, "(", ToAbsl(ActionName(a)), ")"));
              } else if (a == Action::kTokenize) {
                tok.push_back(n);
              } else if (a == Action::kRedact) {
                red.push_back(n);
              } else {
                blk.push_back(n);
              }
            }
            absl::StrAppend(&md, "| ", Md(v->name), " / ", Md(model), " | ", Md(e), " | ",
                            d.allowed ? "allowed" : "**DENIED**", " | ",
                            d.self_hosted   ? "self-hosted"
                            : d.baa_covered ? Md(d.baa_id)
                                            : std::string("none in force"),
                            " | ", Md(Join(ident)), " | ", tok.size(), " | ", red.size(), " | ",
                            blk.size(), " | ", Md(Reasons(d)), " |\n");
            if (ei == 0) {
              cols.push_back({absl::StrCat(v->name, " / ", model), &d});
              edge_identifying = edge_identifying || !ident.empty();
              edge_lines.push_back(absl::StrCat(
                  model, ": ", d.allowed ? "" : "DENIED ",
                  ident.empty() ? std::string("no identifiers")
                                : absl::StrCat("identifiers: ", absl::StrJoin(ident, ",")),
                  tok.empty() ? "" : absl::StrCat("; ", tok.size(), " tokenized")));
            }
          }
        }
        const std::string color = edge_identifying ? "darkgreen" : "gray40";
        absl::StrAppend(&edges, "  \"", Dot(fnode), "\" -> \"v_", Dot(v->name), "\" [label=\"",
                        Dot(absl::StrJoin(edge_lines, "\n")), "\", color=", color,
                        edge_identifying ? ", penwidth=2" : "", "];\n");
      }
      if (cols.empty()) {
        absl::StrAppend(&md, "\n(no routes: every request is denied)\n");
        continue;
      }
      absl::StrAppend(&md,
                      "\nAction per PHI category (default endpoint of each vendor):\n\n"
                      "| category | declared |");
      for (const Column& c : cols) absl::StrAppend(&md, " ", Md(c.label), " |");
      absl::StrAppend(&md, "\n|---|---|");
      for (size_t i = 0; i < cols.size(); ++i) absl::StrAppend(&md, "---|");
      absl::StrAppend(&md, "\n");
      for (PhiCategory c : AllCategories()) {
        const auto& declared = f.phi[static_cast<size_t>(c)];
        absl::StrAppend(&md, "| ", ToAbsl(CategoryName(c)), " | ",
                        declared ? ToAbsl(ActionName(*declared))
                                 : absl::StrCat("(", ToAbsl(ActionName(f.unlisted)), ")"),
                        " |");
        for (const Column& col : cols)
          absl::StrAppend(&md, " ", ActionCell(col.d->action(c)), " |");
        absl::StrAppend(&md, "\n");
      }
    }
  }
  // Self-hosted vendors inside the boundary sit in the cluster, others outside.
  for (const Vendor& v : cfg.vendors) {
    if (!(v.kind == VendorKind::kSelfHosted && v.inside_boundary)) continue;
    const BaaStatus s = VendorStatus(v, now, opt.expiry_warning_days);
    absl::StrAppend(&dot, "    \"v_", Dot(v.name), "\" [label=\"", Dot(v.name), "\\n", Dot(s.text),
                    "\", shape=cylinder, fillcolor=", Color(s.state), "];\n");
  }
  absl::StrAppend(&dot, "  }\n");
  for (const Vendor& v : cfg.vendors) {
    if (v.kind == VendorKind::kSelfHosted && v.inside_boundary) continue;
    const BaaStatus s = VendorStatus(v, now, opt.expiry_warning_days);
    std::string baa_ids;
    for (const Baa& b : v.baas)
      absl::StrAppend(&baa_ids, "\\n", Dot(b.id), " -> ", FormatDay(b.expires_day));
    absl::StrAppend(&dot, "  \"v_", Dot(v.name), "\" [label=\"", Dot(v.name), " (",
                    ToAbsl(VendorKindName(v.kind)), ")\\n", Dot(s.text), baa_ids,
                    "\", fillcolor=", Color(s.state), "];\n");
  }
  absl::StrAppend(&dot, edges, "}\n");
  return DataflowReport{std::move(md), std::move(dot)};
}

}  // namespace phigate::policy
