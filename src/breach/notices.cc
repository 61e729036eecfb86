#include "phigate/breach/notices.h"

#include <fstream>
#include <set>
#include <sstream>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "nlohmann/json.hpp"
#include "phigate/core/paths.h"

namespace phigate::breach {
namespace {

std::string_view PhiTypeName(PhiCategory c) {
  switch (c) {
    case PhiCategory::kName:
      return "names";
    case PhiCategory::kStreetAddress:
      return "street addresses";
    case PhiCategory::kCity:
    case PhiCategory::kZip:
    case PhiCategory::kLocation:
      return "city, ZIP code or other location information";
    case PhiCategory::kFacility:
      return "names of treating facilities";
    case PhiCategory::kDate:
      return "dates (such as dates of birth, admission or service)";
    case PhiCategory::kAge:
      return "ages";
    case PhiCategory::kPhone:
      return "telephone numbers";
    case PhiCategory::kFax:
      return "fax numbers";
    case PhiCategory::kEmail:
      return "e-mail addresses";
    case PhiCategory::kSsn:
      return "Social Security numbers";
    case PhiCategory::kMrn:
      return "medical record numbers";
    case PhiCategory::kHealthPlan:
      return "health plan or Medicare beneficiary numbers";
    case PhiCategory::kAccount:
      return "account numbers";
    case PhiCategory::kLicense:
      return "license or certificate numbers";
    case PhiCategory::kVehicle:
      return "vehicle identifiers";
    case PhiCategory::kDevice:
      return "device identifiers";
    case PhiCategory::kUrl:
      return "web addresses";
    case PhiCategory::kIp:
      return "IP addresses";
    case PhiCategory::kBiometric:
      return "biometric identifiers";
    case PhiCategory::kPhoto:
      return "photographs";
    case PhiCategory::kOtherId:
      return "other identifying numbers";
  }
  return "other information";
}

Result<std::string> ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return absl::NotFoundError(absl::StrCat("cannot open template ", path));
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

std::string DateOr(const std::optional<Date>& d, std::string_view fallback) {
  return d ? FormatDate(*d) : std::string(fallback);
}

std::string EscapeCell(std::string_view s) {
  std::string out;
  for (char c : s) {
    if (c == '|') {
      out += "\\|";
    } else if (c == '\n') {
      out += ' ';
    } else {
      out += c;
    }
  }
  return out;
}

std::string ObligationRows(const std::vector<const Obligation*>& obs, const Date* today) {
  std::string t =
      today != nullptr
          ? "| due | days left | jurisdiction | notify | owed by | timing | threshold "
            "(count) | rule | source | confidence | note |\n|---|---|---|---|---|---|---|"
            "---|---|---|---|\n"
          : "| due | jurisdiction | notify | timing | threshold (count) | rule | source "
            "| confidence | note |\n|---|---|---|---|---|---|---|---|---|\n";
  for (const Obligation* o : obs) {
    std::string due = o->due ? FormatDate(*o->due) : "no fixed deadline";
    if (o->projected) due += " (projected)";
    absl::StrAppend(&t, "| ", due, " | ");
    if (today != nullptr) {
      absl::StrAppend(&t, o->due ? absl::StrCat(DaysBetween(*today, *o->due)) : "-", " | ");
    }
    absl::StrAppend(&t, EscapeCell(o->jurisdiction), " | ", EscapeCell(o->recipient), " | ");
    if (today != nullptr) absl::StrAppend(&t, EscapeCell(o->owed_by), " | ");
    absl::StrAppend(&t, EscapeCell(o->timing), " | ", o->threshold, " (", o->count_compared, ") | ",
                    o->rule_id, " | ", EscapeCell(o->source), " | ", o->confidence, " | ",
                    EscapeCell(o->note), " |\n");
  }
  return t;
}

}  // namespace

Result<std::string> RenderTemplate(std::string_view tmpl,
                                   const std::map<std::string, std::string>& vars) {
  std::string out;
  size_t pos = 0;
  while (true) {
    const size_t open = tmpl.find("{{", pos);
    if (open == std::string_view::npos) break;
    const size_t close = tmpl.find("}}", open + 2);
    if (close == std::string_view::npos) {
      return absl::InvalidArgumentError(absl::StrCat("template: unterminated {{ at byte ", open));
    }
    out.append(tmpl.substr(pos, open - pos));
    const std::string name(
        absl::StripAsciiWhitespace(ToAbsl(tmpl.substr(open + 2, close - open - 2))));
    auto it = vars.find(name);
    if (it == vars.end()) {
      return absl::InvalidArgumentError(
          absl::StrCat("template: unknown placeholder {{", name, "}}"));
    }
    out.append(it->second);
    pos = close + 2;
  }
  out.append(tmpl.substr(pos));
  return out;
}

Result<NoticeContext> ParseNoticeContext(std::string_view text) {
  try {
    const nlohmann::json j = nlohmann::json::parse(text.begin(), text.end());
    if (!j.is_object()) return absl::InvalidArgumentError("notice context must be a JSON object");
    NoticeContext c;
    const std::pair<const char*, std::string*> fields[] = {
        {"entity_name", &c.entity_name},
        {"entity_type", &c.entity_type},
        {"what_happened", &c.what_happened},
        {"steps_individuals", &c.steps_individuals},
        {"what_we_are_doing", &c.what_we_are_doing},
        {"toll_free_phone", &c.toll_free_phone},
        {"contact_email", &c.contact_email},
        {"website", &c.website},
        {"postal_address", &c.postal_address},
        {"safeguards_before", &c.safeguards_before},
        {"actions_taken", &c.actions_taken},
        {"breach_type", &c.breach_type},
        {"location", &c.location},
        {"third_parties", &c.third_parties}};
    for (const auto& [key, dst] : fields) *dst = j.value(key, "");
    for (const auto& [key, value] : j.items()) {
      bool known = false;
      for (const auto& f : fields) known |= key == f.first;
      if (!known) {
        return absl::InvalidArgumentError(absl::StrCat("notice context: unknown field ", key));
      }
    }
    return c;
  } catch (const nlohmann::json::exception&) {
    return absl::InvalidArgumentError("notice context is not a JSON object of strings");
  }
}

Result<NoticeContext> LoadNoticeContext(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return absl::NotFoundError("cannot open the notice context file");
  std::stringstream ss;
  ss << in.rdbuf();
  return ParseNoticeContext(ss.str());
}

std::string DefaultTemplateDir() { return paths::TemplateDir(); }

std::string DescribePhiTypes(const CategorySet& categories) {
  std::vector<std::string> parts;
  for (PhiCategory c : AllCategories()) {
    if (!categories.Contains(c)) continue;
    std::string n(PhiTypeName(c));
    if (std::find(parts.begin(), parts.end(), n) == parts.end()) parts.push_back(std::move(n));
  }
  if (parts.empty()) return "[TO FILL: types of information involved]";
  return absl::StrJoin(parts, "; ");
}

std::string PlanMarkdown(const PlanResult& plan, const Date& today) {
  std::vector<const Obligation*> obs;
  for (const Obligation& o : plan.obligations) obs.push_back(&o);
  std::string md = ObligationRows(obs, &today);
  if (!plan.not_applicable.empty()) {
    md += "\nNot applicable to this entity:\n\n";
    for (const auto& [id, why] : plan.not_applicable)
      absl::StrAppend(&md, "- ", id, ": ", why, "\n");
  }
  if (const std::string w = UnplacedWarning(plan); !w.empty())
    absl::StrAppend(&md, "\n**", w, "**\n");
  absl::StrAppend(&md, "\nRules version ", plan.rules_version,
                  ". Not legal advice: have counsel confirm before relying on these dates.\n");
  return md;
}

Result<std::vector<NoticeDraft>> DraftNotices(const Incident& inc, const PlanResult& plan,
                                              const NoticeContext& ctx,
                                              const std::string& template_dir) {
  // Common variables.
  std::map<std::string, std::string> vars;
  std::vector<std::string> missing;
  auto need = [&](const char* key, const std::string& value, const char* what) {
    if (value.empty()) {
      vars[key] = absl::StrCat("[TO FILL: ", what, "]");
      missing.push_back(what);
    } else {
      vars[key] = value;
    }
  };
  need("entity_name", ctx.entity_name, "entity name");
  need("entity_type", ctx.entity_type, "entity type");
  need("what_happened", ctx.what_happened, "(A) what happened");
  need("steps_individuals", ctx.steps_individuals, "(C) steps individuals should take");
  need("what_we_are_doing", ctx.what_we_are_doing, "(D) what the entity is doing");
  need("safeguards_before", ctx.safeguards_before, "safeguards in place before the breach");
  need("actions_taken", ctx.actions_taken, "actions taken in response");
  need("breach_type", ctx.breach_type, "type of breach");
  need("location", ctx.location, "location of breached information");
  const bool any_contact = !ctx.toll_free_phone.empty() || !ctx.contact_email.empty() ||
                           !ctx.website.empty() || !ctx.postal_address.empty();
  if (!any_contact)
    missing.push_back(
        "(E) contact procedures (toll-free number, e-mail, website or postal address)");
  for (const auto& [key, value] : std::initializer_list<std::pair<const char*, const std::string*>>{
           {"toll_free_phone", &ctx.toll_free_phone},
           {"contact_email", &ctx.contact_email},
           {"website", &ctx.website},
           {"postal_address", &ctx.postal_address}}) {
    vars[key] = value->empty() ? "[TO FILL or delete this line]" : *value;
  }
  vars["incident_id"] = inc.id;
  vars["discovery_date"] = FormatDate(inc.DiscoveryDate());
  if (inc.breach_date.empty()) missing.push_back("(A) date of the breach");
  vars["breach_date"] =
      inc.breach_date.empty() ? "[TO FILL: date of breach, if known]" : inc.breach_date;
  vars["phi_types"] = DescribePhiTypes(inc.phi_categories);
  if (inc.phi_categories.empty()) missing.push_back("(B) types of PHI involved");
  const IncidentFacts facts = inc.ToFacts();
  vars["total_affected"] = absl::StrCat(facts.Total());
  vars["individual_notice_sent"] = DateOr(inc.notice.individual_notice_sent, "[not yet sent]");
  vars["ba_involved"] = inc.notice.role == EntityRole::kBusinessAssociate ? "Yes" : "No";
  vars["rules_version"] = plan.rules_version;
  vars["law_enforcement"] =
      plan.le_delay_end ? absl::StrCat("delay requested; ends ", FormatDate(*plan.le_delay_end))
                        : "no delay requested";

  const Obligation* individual = nullptr;
  const Obligation* hhs = nullptr;
  const Obligation* ftc_notice = nullptr;  // the FTC's notice or annual log
  std::map<std::string, const Obligation*> media;
  std::map<std::string, std::vector<const Obligation*>> by_state;
  for (const Obligation& o : plan.obligations) {
    if (o.recipient_kind == RecipientKind::kIndividuals && o.due &&
        (individual == nullptr ||
         std::chrono::sys_days{*o.due} < std::chrono::sys_days{*individual->due})) {
      individual = &o;
    }
    if (o.recipient_kind == RecipientKind::kHhs && hhs == nullptr) hhs = &o;
    if (o.recipient_kind == RecipientKind::kRegulator && o.jurisdiction == "US-FTC-HBNR" &&
        ftc_notice == nullptr) {
      ftc_notice = &o;
    }
    const size_t slash = o.jurisdiction.find('/');
    if (o.recipient_kind == RecipientKind::kMedia && slash != std::string::npos) {
      media[o.jurisdiction.substr(slash + 1)] = &o;
    }
    if (o.jurisdiction.size() == 2 && (o.recipient_kind == RecipientKind::kRegulator ||
                                       o.recipient_kind == RecipientKind::kCra)) {
      by_state[o.jurisdiction].push_back(&o);
    }
  }
  vars["individual_notice_due"] =
      individual ? FormatDate(*individual->due) : std::string("[no individual notice deadline]");
  // The law the notices answer to: a PHR vendor (not a HIPAA entity) owes
  // them under the FTC Health Breach Notification Rule, which also asks who
  // acquired the information.
  const bool ftc = inc.notice.role == EntityRole::kPhrVendor;
  vars["individual_rule"] =
      ftc ? "16 CFR 318.4 and 318.6 (FTC Health Breach Notification Rule)" : "45 CFR 164.404(c)";
  vars["individual_law"] = ftc ? "the FTC Health Breach Notification Rule" : "HIPAA";
  vars["media_rule"] = ftc ? "16 CFR 318.5(b)" : "45 CFR 164.406";
  vars["third_parties"] =
      ctx.third_parties.empty()
          ? "[TO FILL: full identification, to the extent known, of any third party that "
            "acquired the information]"
          : ctx.third_parties;
  vars["third_parties_section"] =
      ftc ? absl::StrCat("\n## Who acquired the information\n\n", vars["third_parties"], "\n") : "";
  if (ftc && ctx.third_parties.empty()) {
    missing.push_back("(FTC 318.6(a)) third parties that acquired the information");
  }

  std::vector<NoticeDraft> drafts;
  auto render = [&](const char* tmpl_name, std::string filename,
                    const std::map<std::string, std::string>& v) -> Status {
    PHIGATE_ASSIGN_OR_RETURN(std::string tmpl, ReadFile(template_dir + "/" + tmpl_name));
    PHIGATE_ASSIGN_OR_RETURN(std::string md, RenderTemplate(tmpl, v));
    drafts.push_back({std::move(filename), std::move(md), missing});
    return absl::OkStatus();
  };

  if (individual != nullptr) {
    PHIGATE_RETURN_IF_ERROR(render("individual_notice.md", "individual-notice.md", vars));
  }
  // The federal regulator's report (HHS, or the FTC for a PHR vendor): its
  // due date, and whether it is the notice for 500 or more or the annual log.
  auto regulator = [&](const Obligation& o, const std::string& prefix, std::string_view annual_rule,
                       std::string_view annual_text, const char* tmpl,
                       const char* filename) -> Status {
    auto v = vars;
    v[prefix + "_due"] = o.due ? FormatDate(*o.due) : "no fixed deadline";
    v[prefix + "_timing"] = o.timing;
    v[prefix + "_report_type"] = o.rule_id == annual_rule
                                     ? absl::StrCat("Breach affecting fewer than 500 individuals (",
                                                    ToAbsl(annual_text), ")")
                                     : "Breach affecting 500 or more individuals";
    v["media_required"] = media.empty() ? "No" : "Yes";
    return render(tmpl, filename, v);
  };
  if (hhs != nullptr) {
    PHIGATE_RETURN_IF_ERROR(regulator(*hhs, "hhs", "us-hipaa.hhs-annual-log", "annual submission",
                                      "hhs_portal.md", "hhs-portal.md"));
  }
  if (ftc_notice != nullptr) {
    PHIGATE_RETURN_IF_ERROR(regulator(*ftc_notice, "ftc", "us-ftc.ftc-annual-log", "annual log",
                                      "ftc_notice.md", "ftc-notice.md"));
  }
  for (const auto& [state, o] : media) {
    auto v = vars;
    v["state"] = state;
    v["state_count"] = absl::StrCat(o->count_compared);
    v["media_due"] = o->due ? FormatDate(*o->due) : "no fixed deadline";
    PHIGATE_RETURN_IF_ERROR(render("media_statement.md", "media-" + state + ".md", v));
  }
  for (const auto& [state, obs] : by_state) {
    auto v = vars;
    v["state"] = state;
    auto it = facts.residents_by_state.find(state);
    v["state_count"] = absl::StrCat(it == facts.residents_by_state.end() ? 0 : it->second);
    v["obligations_table"] = ObligationRows(obs, nullptr);
    PHIGATE_RETURN_IF_ERROR(render("state_ag_notice.md", "state-" + state + ".md", v));
  }
  drafts.push_back({"plan.md",
                    absl::StrCat("# Notification plan — ", inc.id, "\n\n",
                                 PlanMarkdown(plan, inc.DiscoveryDate())),
                    missing});
  return drafts;
}

}  // namespace phigate::breach
