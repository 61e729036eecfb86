// `phigate breach`: the breach workflow (docs/breach.md). Subcommands:
//   list       open incidents, severity, days left
//   new        open an incident by hand (first detection = now)
//   facts      affected counts per state, notice dates, flags
//   show       what leaked, where, which patients (refs), evidence
//   assess     the 4-factor assessment, signed off
//   plan       every notice owed, to whom, by when, earliest first
//   notices    Markdown drafts from templates/breach
//   advance    move an incident to notified or closed
//   drill      plants canaries, proves each detector fires
//   false-alarms  detectors over clean synthetic answers
//   canaries   the synthetic canaries `phigate serve` plants for a tenant
//   failopen   egress ids without a forwarded egress event in the audit trail
//
// The store is --store (default sqlite://phigate-incidents.db). Nothing printed
// holds PHI: incidents hold blind-index references, offsets and categories only.
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <string>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/time/civil_time.h"
#include "absl/time/time.h"
#include "phigate/audit/log_store.h"
#include "phigate/audit/query.h"
#include "phigate/breach/calendar.h"
#include "phigate/breach/deadlines.h"
#include "phigate/breach/harness.h"
#include "phigate/breach/incident.h"
#include "phigate/breach/incident_store.h"
#include "phigate/breach/notices.h"
#include "phigate/breach/response.h"
#include "phigate/breach/rules.h"
#include "src/cli/command.h"

namespace phigate::cli {
namespace {

using namespace phigate::breach;  // NOLINT: the command is the breach module's front end

constexpr const char* kDefaultStore = "sqlite://phigate-incidents.db";

struct Common {
  std::string store = kDefaultStore;
  std::string tenant;
  std::string id;
  std::string rules;
  std::string today;
};

int64_t NowUnix() {
  return std::chrono::duration_cast<std::chrono::seconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

Date Today(const Common& c) {
  if (!c.today.empty()) {
    auto d = ParseDate(c.today);
    if (!d.ok()) throw CliError(2, "--today must be YYYY-MM-DD");
    return *d;
  }
  return Date{std::chrono::floor<std::chrono::days>(std::chrono::system_clock::now())};
}

std::optional<Date> OptDate(const std::string& s, const char* flag) {
  if (s.empty()) return std::nullopt;
  auto d = ParseDate(s);
  if (!d.ok()) throw CliError(2, absl::StrCat(flag, " must be YYYY-MM-DD"));
  return *d;
}

// Records written by `phigate serve` are sealed under a key from the master key
// (PHIGATE_MASTER_KEY); without it they are read and written in clear. After a
// rotation (`phigate keys rewrap`), PHIGATE_RETIRED_MASTER_KEYS holds the
// retired master keys, comma-separated: records sealed before it are read
// under them (and `breach reseal` moves them to the current key).
std::unique_ptr<IncidentStore> OpenStore(const Common& c) {
  std::string record_key;
  std::vector<std::string> retired;
  if (const char* master = std::getenv("PHIGATE_MASTER_KEY"); master != nullptr && *master) {
    auto k = IncidentRecordKey(master);
    ThrowIfError(k.status(), "PHIGATE_MASTER_KEY");
    record_key = std::move(k).value();
  }
  if (const char* old = std::getenv("PHIGATE_RETIRED_MASTER_KEYS"); old != nullptr && *old) {
    if (record_key.empty()) {
      throw CliError(2, "PHIGATE_RETIRED_MASTER_KEYS is set but PHIGATE_MASTER_KEY is not");
    }
    for (absl::string_view part : absl::StrSplit(old, ',')) {
      const absl::string_view key = absl::StripAsciiWhitespace(part);
      if (key.empty()) throw CliError(2, "PHIGATE_RETIRED_MASTER_KEYS: an empty key");
      auto k = IncidentRecordKey(std::string(key));
      ThrowIfError(k.status(), "PHIGATE_RETIRED_MASTER_KEYS");
      retired.push_back(std::move(k).value());
    }
  }
  auto s = OpenIncidentStore(c.store, std::move(record_key), std::move(retired));
  ThrowIfError(s.status(), "incident store");
  return std::move(s).value();
}

TenantId Tenant(const std::string& raw) {
  auto t = MakeTenantId(raw);
  ThrowIfError(t.status(), "--tenant");
  return *t;
}

Incident Load(IncidentStore& store, const Common& c) {
  if (!c.tenant.empty()) {
    auto inc = store.Get(Tenant(c.tenant), c.id);
    ThrowIfError(inc.status(), "incident");
    return *std::move(inc);
  }
  auto found = store.FindById(c.id);
  ThrowIfError(found.status(), "incident");
  if (found->empty()) throw CliError(1, absl::StrCat("incident: no incident ", c.id));
  if (found->size() > 1) {
    throw CliError(1, absl::StrCat("incident: ", c.id, " exists in ", found->size(),
                                   " tenants; pass --tenant"));
  }
  return std::move(found->front());
}

void Save(IncidentStore& store, const Incident& inc) {
  ThrowIfError(store.Update(inc), "incident store");
}

RuleTable Rules(const Common& c) {
  auto t = c.rules.empty() ? RuleTable::LoadDefault() : RuleTable::Load(c.rules);
  ThrowIfError(t.status(), "rule table");
  return *std::move(t);
}

PlanResult Plan(const Common& c, const Incident& inc) {
  auto p = ComputeObligations(Rules(c), inc.ToFacts());
  ThrowIfError(p.status(), "plan");
  return *std::move(p);
}

void AddCommon(CLI::App* cmd, Common* c, bool with_id) {
  cmd->add_option("--store", c->store,
                  "Incident store URL: sqlite://PATH, postgres://... (the gateway's shared "
                  "database) or memory:")
      ->capture_default_str();
  if (with_id) {
    cmd->add_option("incident", c->id, "Incident id, e.g. INC-2026-0007")->required();
    cmd->add_option("--tenant", c->tenant, "Tenant (needed when the id exists in several)");
  }
}

void PrintPlan(const Incident& inc, const PlanResult& plan, const Date& today) {
  std::printf("%s  discovered %s  (rules %s)\n", inc.id.c_str(),
              FormatDate(inc.DiscoveryDate()).c_str(), plan.rules_version.c_str());
  if (inc.assessment && !RequiresNotification(*inc.assessment)) {
    std::printf(
        "assessment: %s: %s\nNo notification obligation; the plan below is for reference.\n",
        std::string(Name(inc.assessment->conclusion)).c_str(),
        inc.assessment->conclusion_reason.c_str());
  }
  std::printf("%-22s %6s  %-16s %-34s %-22s %s\n", "DUE", "LEFT", "JURISDICTION", "NOTIFY",
              "THRESHOLD", "RULE / TIMING");
  for (const Obligation& o : plan.obligations) {
    std::string due = o.due ? FormatDate(*o.due) : "no fixed deadline";
    if (o.projected) due += "*";
    const std::string left = o.due ? absl::StrCat(DaysBetween(today, *o.due)) : "-";
    std::string who = o.recipient.substr(0, 34);
    std::printf("%-22s %6s  %-16s %-34s %-22s %s (%s; %s) [%s; owed by %s]\n", due.c_str(),
                left.c_str(), o.jurisdiction.c_str(), who.c_str(),
                absl::StrCat(o.count_compared, " vs ", o.threshold).c_str(), o.rule_id.c_str(),
                o.timing.c_str(), o.source.c_str(), o.confidence.c_str(), o.owed_by.c_str());
    if (!o.note.empty()) std::printf("%32s note: %s\n", "", o.note.c_str());
  }
  for (const auto& [id, why] : plan.not_applicable) {
    std::printf("not applicable: %s: %s\n", id.c_str(), why.c_str());
  }
  if (const std::string w = UnplacedWarning(plan); !w.empty()) std::printf("%s\n", w.c_str());
  std::printf(
      "* projected from the latest date of a notice not yet sent.\n"
      "Owed by: see `--markdown`. Not legal advice: have counsel confirm the dates.\n");
}

void RegisterBreach(CLI::App& app) {
  auto* breach =
      app.add_subcommand("breach", "Breach workflow: incidents, deadlines, notices, drills");
  breach->require_subcommand(1);

  // ---- list
  {
    auto* cmd = breach->add_subcommand("list", "List a tenant's incidents (open ones by default)");
    auto c = std::make_shared<Common>();
    auto all = std::make_shared<bool>(false);
    AddCommon(cmd, c.get(), false);
    cmd->add_option("--tenant", c->tenant, "Tenant")->required();
    cmd->add_option("--rules", c->rules,
                    "Rule table TSV (default data/breach/breach-deadlines.tsv)");
    cmd->add_option("--today", c->today, "Date to count days left from (YYYY-MM-DD)");
    cmd->add_flag("--all", *all, "Include closed incidents");
    cmd->callback([c, all] {
      auto store = OpenStore(*c);
      auto list = store->List(Tenant(c->tenant));
      ThrowIfError(list.status(), "incident store");
      const RuleTable rules = Rules(*c);
      const Date today = Today(*c);
      std::printf("%-14s %-9s %-9s %-20s %-11s %5s  %s\n", "ID", "STATE", "SEVERITY", "DETECTED",
                  "NEXT DUE", "LEFT", "TITLE");
      for (const Incident& inc : *list) {
        if (!*all && inc.state == IncidentState::kClosed) continue;
        std::string due = "-", left = "-";
        const bool notify = !inc.assessment || RequiresNotification(*inc.assessment);
        if (notify && inc.state != IncidentState::kClosed) {
          auto plan = ComputeObligations(rules, inc.ToFacts());
          // The earliest obligation still open (a notice recorded as sent is done).
          const Obligation* next = nullptr;
          if (plan.ok()) {
            for (const Obligation& ob : plan->obligations) {
              if (ob.due && !ob.sent) {
                next = &ob;
                break;
              }
            }
          }
          if (next != nullptr) {
            due = FormatDate(*next->due);
            left = absl::StrCat(DaysBetween(today, *next->due));
          }
        }
        std::printf("%-14s %-9s %-9s %-20s %-11s %5s  %s\n", inc.id.c_str(),
                    std::string(Name(inc.state)).c_str(), std::string(Name(inc.severity)).c_str(),
                    FormatUnixTime(inc.detected_at_unix).c_str(), due.c_str(), left.c_str(),
                    inc.title.c_str());
      }
    });
  }

  // ---- reseal
  {
    auto* cmd = breach->add_subcommand(
        "reseal",
        "Seal a tenant's incident records under the current master key (after a rotation)");
    auto c = std::make_shared<Common>();
    AddCommon(cmd, c.get(), false);
    cmd->add_option("--tenant", c->tenant, "Tenant")->required();
    cmd->callback([c] {
      if (const char* k = std::getenv("PHIGATE_MASTER_KEY"); k == nullptr || *k == '\0') {
        throw CliError(2, "breach reseal: set PHIGATE_MASTER_KEY (the current master key)");
      }
      auto store = OpenStore(*c);
      auto list = store->List(Tenant(c->tenant));
      ThrowIfError(list.status(), "incident store");
      // Update seals each record under the current key; the record is unchanged.
      for (const Incident& inc : *list) ThrowIfError(store->Update(inc), "incident store");
      std::printf("tenant %s: %zu incident records sealed under the current master key\n",
                  c->tenant.c_str(), list->size());
    });
  }

  // ---- new
  {
    auto* cmd =
        breach->add_subcommand("new", "Open an incident by hand (e.g. a report from staff)");
    auto c = std::make_shared<Common>();
    auto title = std::make_shared<std::string>();
    auto kind = std::make_shared<std::string>();
    auto severity = std::make_shared<std::string>("high");
    auto detected = std::make_shared<std::string>();
    auto zone = std::make_shared<std::string>();
    AddCommon(cmd, c.get(), false);
    cmd->add_option("--tenant", c->tenant, "Tenant")->required();
    cmd->add_option("--title", *title, "PHI-free summary")->required();
    cmd->add_option("--kind", *kind, "Detection kind (canary, cache_leak, cross_tenant, ...)");
    cmd->add_option("--severity", *severity, "low|medium|high|critical")->capture_default_str();
    cmd->add_option("--detected-on", *detected,
                    "Date of first detection (YYYY-MM-DD; default now): the discovery date");
    cmd->add_option("--time-zone", *zone,
                    "IANA time zone whose calendar dates the detection (default UTC), e.g. "
                    "America/New_York");
    cmd->callback([c, title, kind, severity, detected, zone] {
      if (!zone->empty()) ThrowIfError(ValidateTimeZone(*zone), "--time-zone");
      int64_t at = NowUnix();
      if (!detected->empty()) {
        auto d = OptDate(*detected, "--detected-on");
        at = std::chrono::sys_seconds{std::chrono::sys_days{*d}}.time_since_epoch().count();
        if (!zone->empty()) {
          // Noon of that day on the zone's clock: its local date is the day given.
          absl::TimeZone tz;
          absl::LoadTimeZone(*zone, &tz);
          at = absl::ToUnixSeconds(absl::FromCivil(
              absl::CivilSecond(static_cast<int>(d->year()), static_cast<unsigned>(d->month()),
                                static_cast<unsigned>(d->day()), 12, 0, 0),
              tz));
        }
      }
      Incident inc = NewIncident(Tenant(c->tenant), at, *title);
      inc.time_zone = *zone;
      auto sev = ParseSeverity(*severity);
      ThrowIfError(sev.status(), "--severity");
      if (!kind->empty()) {
        auto k = ParseDetectionKind(*kind);
        ThrowIfError(k.status(), "--kind");
        Detection d;
        d.kind = *k;
        d.severity = *sev;
        d.detector = "manual";
        AddDetection(inc, std::move(d));
      }
      inc.severity = std::max(inc.severity, *sev);
      auto store = OpenStore(*c);
      ThrowIfError(store->Create(inc), "incident store");
      std::printf("%s\n", inc.id.c_str());
    });
  }

  // ---- facts
  {
    auto* cmd =
        breach->add_subcommand("facts", "Record affected counts, notice dates and entity facts");
    auto c = std::make_shared<Common>();
    struct F {
      std::vector<std::string> states, categories;
      int64_t total = -1;
      int baa_days = -1;
      std::string role, ce_notified, determination, breach_date, individual, hhs, no_harm, le_oral,
          le_written, le_until, discovered, zone;
      bool ba_agent = false, licensed = false, dfs = false, part2 = false, clear_le = false;
    };
    auto f = std::make_shared<F>();
    AddCommon(cmd, c.get(), true);
    cmd->add_option("--state", f->states, "Affected residents of a state: CA=501 (repeatable)");
    cmd->add_option("--total", f->total, "Total affected (default: sum over states)");
    cmd->add_option("--category", f->categories,
                    "PHI category involved, e.g. NAME, SSN (repeatable)");
    cmd->add_option("--role", f->role, "ce | ba | phr");
    cmd->add_flag("--ba-agent", f->ba_agent, "The BA is the covered entity's agent");
    cmd->add_option("--ce-notified", f->ce_notified, "Date the BA notified the covered entity");
    cmd->add_option("--baa-days", f->baa_days, "BA: the BAA's notice window in days (if < 60)");
    cmd->add_option("--determination", f->determination, "Date the breach was determined");
    cmd->add_option("--breach-date", f->breach_date,
                    "Date of the breach, if known (not after discovery)");
    cmd->add_option("--time-zone", f->zone,
                    "IANA time zone whose calendar dates the first detection (e.g. "
                    "America/New_York; default UTC)");
    cmd->add_option("--discovered", f->discovered,
                    "First day a workforce member knew or should have known, when earlier than "
                    "the first detection's date (45 CFR 164.404(a)(2)); deadlines run from it");
    cmd->add_option("--individual-notice-sent", f->individual, "Date individuals were notified");
    cmd->add_option("--hhs-notified", f->hhs, "Date HHS was notified");
    cmd->add_option("--no-harm-determination", f->no_harm,
                    "Date of a NY written no-harm determination");
    cmd->add_option("--le-oral", f->le_oral, "Date of an oral law-enforcement delay statement");
    cmd->add_option("--le-written", f->le_written,
                    "Date a written law-enforcement statement arrived");
    cmd->add_option("--le-until", f->le_until, "End of the period the written statement names");
    cmd->add_flag("--clear-le", f->clear_le, "Remove the law-enforcement delay");
    cmd->add_flag("--licensed-ca-facility", f->licensed, "Licensed CA facility (H&S 1280.15)");
    cmd->add_flag("--dfs-regulated", f->dfs, "NY DFS-regulated entity (23 NYCRR 500)");
    cmd->add_flag("--part2", f->part2, "42 CFR Part 2 records involved");
    cmd->callback([c, f] {
      auto store = OpenStore(*c);
      Incident inc = Load(*store, *c);
      for (const std::string& s : f->states) {
        std::vector<std::string> kv = absl::StrSplit(s, '=');
        int64_t n = 0;
        if (kv.size() != 2 || kv[0].size() != 2 || !absl::SimpleAtoi(kv[1], &n) || n < 0) {
          throw CliError(2, "--state must be XX=count, e.g. CA=501");
        }
        const std::string code = absl::AsciiStrToUpper(kv[0]);
        if (!IsResidenceCode(code)) {
          throw CliError(2,
                         "--state " + kv[0] +
                             ": not a code of a US state, DC or territory (or \"??\" for unknown)");
        }
        inc.residents_by_state[code] = n;
      }
      if (f->total >= 0) inc.total_affected = f->total;
      for (const std::string& cat : f->categories) {
        auto pc = ParseCategory(cat);
        if (!pc) throw CliError(2, "--category: unknown PHI category");
        inc.phi_categories.Add(*pc);
      }
      NoticeFacts& n = inc.notice;
      if (!f->role.empty()) {
        auto r = ParseEntityRole(f->role);
        ThrowIfError(r.status(), "--role");
        n.role = *r;
      }
      if (f->ba_agent) n.ba_is_agent = true;
      if (f->baa_days >= 0) n.baa_notice_days = f->baa_days;
      if (f->licensed) n.licensed_ca_facility = true;
      if (f->dfs) n.dfs_regulated = true;
      if (f->part2) n.part2_program = true;
      if (auto d = OptDate(f->ce_notified, "--ce-notified")) n.ce_notified = d;
      if (auto d = OptDate(f->determination, "--determination")) n.determination = d;
      if (!f->zone.empty()) {
        ThrowIfError(ValidateTimeZone(f->zone), "--time-zone");
        inc.time_zone = f->zone;
      }
      if (auto d = OptDate(f->discovered, "--discovered")) {
        if (*d > inc.DetectionDate()) {
          throw CliError(2, "--discovered " + FormatDate(*d) + " is after the first detection (" +
                                FormatDate(inc.DetectionDate()) +
                                "): discovery can only be moved earlier");
        }
        inc.discovered = d;
        inc.history.push_back(
            {inc.state, NowUnix(), "breach facts", "discovery date set to " + FormatDate(*d)});
      }
      if (auto d = OptDate(f->breach_date, "--breach-date")) inc.breach_date = FormatDate(*d);
      if (!inc.breach_date.empty()) {
        auto b = ParseDate(inc.breach_date);
        if (b.ok() && *b > inc.DiscoveryDate()) {
          throw CliError(2, "--breach-date " + inc.breach_date + " is after discovery (" +
                                FormatDate(inc.DiscoveryDate()) + ")");
        }
      }
      if (auto d = OptDate(f->individual, "--individual-notice-sent")) n.individual_notice_sent = d;
      if (auto d = OptDate(f->hhs, "--hhs-notified")) n.hhs_notified = d;
      if (auto d = OptDate(f->no_harm, "--no-harm-determination")) n.no_harm_determination = d;
      if (f->clear_le) n.le_delay.reset();
      if (!f->le_oral.empty() || !f->le_written.empty() || !f->le_until.empty()) {
        LawEnforcementDelay le = n.le_delay.value_or(LawEnforcementDelay{});
        if (auto d = OptDate(f->le_oral, "--le-oral")) le.oral_statement = d;
        if (auto d = OptDate(f->le_written, "--le-written")) le.written_received = d;
        if (auto d = OptDate(f->le_until, "--le-until")) le.written_until = d;
        n.le_delay = le;
      }
      // Validate before saving.
      ThrowIfError(ComputeObligations(Rules(*c), inc.ToFacts()).status(), "facts");
      Save(*store, inc);
      std::printf("%s updated: %lld affected in %zu state(s)\n", inc.id.c_str(),
                  static_cast<long long>(inc.ToFacts().Total()), inc.residents_by_state.size());
    });
  }

  // ---- show
  {
    auto* cmd =
        breach->add_subcommand("show", "Show an incident: evidence, patients (refs), timeline");
    auto c = std::make_shared<Common>();
    auto json = std::make_shared<bool>(false);
    AddCommon(cmd, c.get(), true);
    cmd->add_flag("--json", *json, "Print the stored record as JSON");
    cmd->callback([c, json] {
      auto store = OpenStore(*c);
      const Incident inc = Load(*store, *c);
      if (*json) {
        std::printf("%s\n", IncidentToJson(inc).c_str());
        return;
      }
      std::printf("%s  tenant %s  %s  severity %s\n  %s\n", inc.id.c_str(),
                  inc.tenant.value().c_str(), std::string(Name(inc.state)).c_str(),
                  std::string(Name(inc.severity)).c_str(), inc.title.c_str());
      std::printf("discovered (first detection): %s\n",
                  FormatUnixTime(inc.detected_at_unix).c_str());
      if (!inc.breach_date.empty()) std::printf("date of breach: %s\n", inc.breach_date.c_str());
      std::printf("PHI types: %s\n", DescribePhiTypes(inc.phi_categories).c_str());
      const IncidentFacts f = inc.ToFacts();
      std::printf("affected: %lld total", static_cast<long long>(f.Total()));
      for (const auto& [s, n] : inc.residents_by_state)
        std::printf("  %s=%lld", s.c_str(), static_cast<long long>(n));
      std::printf(
          "\npatients (blind-index references; resolve through the vault with an authorised "
          "role): %zu\n",
          inc.patient_refs.size());
      for (const std::string& r : inc.patient_refs) std::printf("  %s\n", r.c_str());
      std::printf("detections:\n");
      for (const Detection& d : inc.detections) {
        std::printf("  %s (%s) by %s\n", std::string(Name(d.kind)).c_str(),
                    std::string(Name(d.severity)).c_str(), d.detector.c_str());
        for (const Evidence& e : d.evidence) {
          std::printf("    [%zu,%zu) %s bidx=%s ref=%s %s\n", e.begin, e.end,
                      e.category ? std::string(CategoryName(*e.category)).c_str() : "-",
                      e.blind_index.empty() ? "-" : e.blind_index.c_str(),
                      e.ref.empty() ? "-" : e.ref.c_str(), e.note.c_str());
        }
      }
      if (!inc.containment.empty()) {
        std::printf("containment:\n");
        for (const std::string& s : inc.containment) std::printf("  %s\n", s.c_str());
      }
      if (inc.assessment) {
        const RiskAssessment& a = *inc.assessment;
        std::printf("assessment: %s (signed off by %s at %s)\n  %s\n",
                    std::string(Name(a.conclusion)).c_str(), a.signed_off_by.c_str(),
                    FormatUnixTime(a.signed_off_at_unix).c_str(), a.conclusion_reason.c_str());
        const std::pair<const char*, const RiskFactor*> factors[] = {
            {"nature and extent", &a.nature_and_extent},
            {"unauthorized person", &a.unauthorized_person},
            {"acquired or viewed", &a.acquired_or_viewed},
            {"mitigation", &a.mitigation}};
        for (const auto& [label, fac] : factors) {
          std::printf("  %-20s %-6s %s -- %s\n", label, std::string(Name(fac->rating)).c_str(),
                      fac->answer.c_str(), fac->reason.c_str());
        }
      }
      std::printf("timeline:\n");
      for (const Transition& t : inc.history) {
        std::printf("  %s  %-9s by %s  %s\n", FormatUnixTime(t.at_unix).c_str(),
                    std::string(Name(t.state)).c_str(), t.by.c_str(), t.note.c_str());
      }
    });
  }

  // ---- assess
  {
    auto* cmd = breach->add_subcommand(
        "assess", "Record the 4-factor risk assessment (45 CFR 164.402) and sign it off");
    auto c = std::make_shared<Common>();
    struct A {
      std::string by;
      std::string rating[4], answer[4], reason[4];
      bool tokens_only = false, key_compromised = false;
      std::string safe_harbor_reason, exclusion, exclusion_reason;
    };
    auto a = std::make_shared<A>();
    AddCommon(cmd, c.get(), true);
    cmd->add_option("--by", a->by, "User signing off")->required();
    const char* names[4] = {"nature", "person", "acquired", "mitigation"};
    const char* helps[4] = {"(i) nature and extent of the PHI", "(ii) the unauthorized person",
                            "(iii) whether the PHI was actually acquired or viewed",
                            "(iv) extent to which the risk was mitigated"};
    for (int i = 0; i < 4; ++i) {
      cmd->add_option(absl::StrCat("--", names[i]), a->rating[i],
                      absl::StrCat("Risk rating low|medium|high for ", helps[i]))
          ->required();
      cmd->add_option(absl::StrCat("--", names[i], "-answer"), a->answer[i],
                      "What was found (no PHI)");
      cmd->add_option(absl::StrCat("--", names[i], "-reason"), a->reason[i], "Why this rating");
    }
    cmd->add_flag("--tokens-only", a->tokens_only,
                  "Safe harbor: the PHI left only as tokens or encrypted");
    cmd->add_flag("--key-compromised", a->key_compromised, "The encryption key was exposed too");
    cmd->add_option("--safe-harbor-reason", a->safe_harbor_reason, "Why the safe harbor applies");
    cmd->add_option("--exclusion", a->exclusion,
                    "164.402(1) exclusion: good_faith | inadvertent | could_not_retain");
    cmd->add_option("--exclusion-reason", a->exclusion_reason, "Why the exclusion applies");
    cmd->callback([c, a] {
      auto store = OpenStore(*c);
      Incident inc = Load(*store, *c);
      RiskAssessment ra;
      RiskFactor* fs[4] = {&ra.nature_and_extent, &ra.unauthorized_person, &ra.acquired_or_viewed,
                           &ra.mitigation};
      for (int i = 0; i < 4; ++i) {
        auto r = ParseFactorRating(a->rating[i]);
        ThrowIfError(r.status(), "rating");
        fs[i]->rating = *r;
        fs[i]->answer = a->answer[i];
        fs[i]->reason = a->reason[i];
      }
      ra.safe_harbor.only_tokens_or_encrypted = a->tokens_only;
      ra.safe_harbor.key_compromised = a->key_compromised;
      ra.safe_harbor.reason = a->safe_harbor_reason;
      if (a->exclusion == "good_faith") {
        ra.exclusion_good_faith_workforce = true;
      } else if (a->exclusion == "inadvertent") {
        ra.exclusion_inadvertent_authorized = true;
      } else if (a->exclusion == "could_not_retain") {
        ra.exclusion_could_not_retain = true;
      } else if (!a->exclusion.empty()) {
        throw CliError(2, "--exclusion must be good_faith, inadvertent or could_not_retain");
      }
      ra.exclusion_reason = a->exclusion_reason;
      ThrowIfError(RecordAssessment(inc, std::move(ra), a->by, NowUnix()), "assess");
      Save(*store, inc);
      std::printf("%s assessed: %s\n%s\n", inc.id.c_str(),
                  std::string(Name(inc.assessment->conclusion)).c_str(),
                  inc.assessment->conclusion_reason.c_str());
    });
  }

  // ---- plan
  {
    auto* cmd =
        breach->add_subcommand("plan", "Every notice owed, to whom, by when (earliest first)");
    auto c = std::make_shared<Common>();
    auto markdown = std::make_shared<bool>(false);
    AddCommon(cmd, c.get(), true);
    cmd->add_option("--rules", c->rules,
                    "Rule table TSV (default data/breach/breach-deadlines.tsv)");
    cmd->add_option("--today", c->today, "Date to count days left from (YYYY-MM-DD)");
    cmd->add_flag("--markdown", *markdown, "Print the plan as a Markdown table");
    cmd->callback([c, markdown] {
      auto store = OpenStore(*c);
      const Incident inc = Load(*store, *c);
      const PlanResult plan = Plan(*c, inc);
      if (*markdown) {
        std::printf("%s", PlanMarkdown(plan, Today(*c)).c_str());
      } else {
        PrintPlan(inc, plan, Today(*c));
      }
    });
  }

  // ---- notices
  {
    auto* cmd = breach->add_subcommand("notices", "Write Markdown notice drafts for an incident");
    auto c = std::make_shared<Common>();
    auto out = std::make_shared<std::string>();
    auto context = std::make_shared<std::string>();
    auto templates = std::make_shared<std::string>();
    AddCommon(cmd, c.get(), true);
    cmd->add_option("--out", *out, "Folder for the drafts")->required();
    cmd->add_option("--context", *context,
                    "JSON with entity_name, what_happened, steps_individuals, what_we_are_doing, "
                    "toll_free_phone, contact_email, website, postal_address, ...");
    cmd->add_option("--templates", *templates, "Template folder (default templates/breach)");
    cmd->add_option("--rules", c->rules, "Rule table TSV");
    cmd->callback([c, out, context, templates] {
      auto store = OpenStore(*c);
      const Incident inc = Load(*store, *c);
      const PlanResult plan = Plan(*c, inc);
      NoticeContext ctx;
      if (!context->empty()) {
        auto r = LoadNoticeContext(*context);
        ThrowIfError(r.status(), "--context");
        ctx = *r;
      }
      auto drafts =
          DraftNotices(inc, plan, ctx, templates->empty() ? DefaultTemplateDir() : *templates);
      ThrowIfError(drafts.status(), "notices");
      std::error_code ec;
      std::filesystem::create_directories(*out, ec);
      if (ec) throw CliError(3, "cannot create the --out folder");
      for (const NoticeDraft& d : *drafts) {
        const std::string path = (std::filesystem::path(*out) / d.filename).string();
        std::ofstream f(path, std::ios::binary | std::ios::trunc);
        f << d.markdown;
        if (!f) throw CliError(3, "cannot write " + path);
        std::printf("wrote %s\n", path.c_str());
      }
      if (!drafts->empty() && !drafts->front().missing.empty()) {
        std::printf("still to fill in: %s\n", absl::StrJoin(drafts->front().missing, "; ").c_str());
      }
    });
  }

  // ---- advance
  {
    auto* cmd = breach->add_subcommand("advance", "Move an incident to notified or closed");
    auto c = std::make_shared<Common>();
    auto to = std::make_shared<std::string>();
    auto by = std::make_shared<std::string>();
    auto note = std::make_shared<std::string>();
    AddCommon(cmd, c.get(), true);
    cmd->add_option("--to", *to, "notified | closed")->required();
    cmd->add_option("--by", *by, "User")->required();
    cmd->add_option("--note", *note, "Note (no PHI)");
    cmd->callback([c, to, by, note] {
      IncidentState s;
      if (*to == "notified") {
        s = IncidentState::kNotified;
      } else if (*to == "closed") {
        s = IncidentState::kClosed;
      } else {
        throw CliError(2, "--to must be notified or closed");
      }
      auto store = OpenStore(*c);
      Incident inc = Load(*store, *c);
      if (s == IncidentState::kClosed && inc.assessment && RequiresNotification(*inc.assessment)) {
        // Closed means done: the notices whose sending is recorded (individuals,
        // HHS) must have gone out; the others are listed as a reminder.
        auto plan = ComputeObligations(Rules(*c), inc.ToFacts());
        ThrowIfError(plan.status(), "advance");
        std::string unsent;
        for (const Obligation& ob : plan->obligations) {
          if (!ob.due || ob.sent) continue;
          if (ob.sent_tracked) {
            absl::StrAppend(&unsent, "\n  ", ob.rule_id, " due ", FormatDate(*ob.due));
          } else {
            std::fprintf(stderr, "reminder: %s (%s) was due %s; make sure it went out\n",
                         ob.rule_id.c_str(), ob.recipient.c_str(), FormatDate(*ob.due).c_str());
          }
        }
        if (!unsent.empty()) {
          throw CliError(1, "advance: " + inc.id +
                                " still owes notices with no sent date recorded (breach facts "
                                "--individual-notice-sent / --hhs-notified):" +
                                unsent);
        }
      }
      ThrowIfError(Advance(inc, s, *by, NowUnix(), *note), "advance");
      Save(*store, inc);
      std::printf("%s %s\n", inc.id.c_str(), std::string(Name(inc.state)).c_str());
    });
  }

  // ---- drill
  {
    auto* cmd = breach->add_subcommand(
        "drill", "Plant canaries and prove each detector fires (synthetic data, fake upstream)");
    auto c = std::make_shared<Common>();
    auto seed = std::make_shared<uint64_t>(1);
    auto record = std::make_shared<bool>(false);
    AddCommon(cmd, c.get(), false);
    cmd->add_option("--tenant", c->tenant, "Tenant")->required();
    cmd->add_option("--seed", *seed, "Canary seed")->capture_default_str();
    cmd->add_flag("--record", *record, "Keep the drill's incidents in --store (default: memory)");
    cmd->callback([c, seed, record] {
      Common mem = *c;
      if (!*record) mem.store = "memory:";
      auto store = OpenStore(mem);
      auto r = RunDrill(Tenant(c->tenant), *seed, *store, NowUnix());
      ThrowIfError(r.status(), "drill");
      for (const DrillStep& s : r->steps) {
        std::printf("%-4s %-20s %-9s %-14s %s\n", s.fired ? "OK" : "FAIL",
                    std::string(Name(s.expected)).c_str(), std::string(Name(s.action)).c_str(),
                    s.incident_id.c_str(), s.name.c_str());
      }
      std::printf("%-4s clean answers flagged: %zu of %zu\n", r->clean_flagged == 0 ? "OK" : "FAIL",
                  r->clean_flagged, r->clean_answers);
      std::printf("containment (recorded, not executed): %s\n",
                  absl::StrJoin(r->containment_calls, ", ").c_str());
      if (!r->ok())
        throw CliError(1, "drill failed: a detector did not fire or clean traffic was flagged");
      std::printf("drill passed\n");
    });
  }

  // ---- canaries: the synthetic canary patients `phigate serve` plants per tenant
  {
    auto* cmd = breach->add_subcommand(
        "canaries", "Print the synthetic canary patients planted for a tenant (breach.canaries)");
    auto tenant = std::make_shared<std::string>();
    auto seed = std::make_shared<uint64_t>(1);
    auto count = std::make_shared<int>(2);
    auto as_json = std::make_shared<bool>(false);
    cmd->add_option("--tenant", *tenant, "Tenant")->required();
    cmd->add_option("--seed", *seed, "breach.canaries.seed")->capture_default_str();
    cmd->add_option("--count", *count, "breach.canaries.per_tenant")->capture_default_str();
    cmd->add_flag("--json", *as_json, "One JSON object per canary value");
    cmd->callback([tenant, seed, count, as_json] {
      // Canaries are invented (syllable names, CNRY- MRNs, 9xx SSNs, 555-01xx
      // phones, canary.invalid e-mail): printing them prints no real person's data.
      for (const CanaryPatient& c : GenerateCanaries(Tenant(*tenant), *seed, *count)) {
        for (const CanaryValue& v : c.values) {
          if (*as_json) {
            std::printf("{\"patient_ref\":\"%s\",\"category\":\"%s\",\"value\":\"%s\"}\n",
                        c.patient_ref.c_str(), std::string(CategoryName(v.category)).c_str(),
                        v.value.c_str());
          } else {
            std::printf("%-22s %-8s %s\n", c.patient_ref.c_str(),
                        std::string(CategoryName(v.category)).c_str(), v.value.c_str());
          }
        }
      }
    });
  }

  // ---- failopen: egress without a matching audit event
  {
    auto* cmd = breach->add_subcommand(
        "failopen",
        "Fail-open evidence: egress request ids (e.g. a vendor or proxy log) without a "
        "forwarded egress event in the audit trail; records a critical incident");
    auto c = std::make_shared<Common>();
    auto audit_url = std::make_shared<std::string>();
    auto egress_file = std::make_shared<std::string>();
    auto dry = std::make_shared<bool>(false);
    AddCommon(cmd, c.get(), false);
    cmd->add_option("--tenant", c->tenant, "Tenant")->required();
    cmd->add_option("--audit", *audit_url, "Audit store URL (sqlite://PATH or postgres://...)")
        ->required();
    cmd->add_option("--egress", *egress_file, "File with one egress request id per line")
        ->required();
    cmd->add_flag("--dry-run", *dry, "Report only; record no incident");
    cmd->callback([c, audit_url, egress_file, dry] {
      std::ifstream in(*egress_file);
      if (!in) throw CliError(1, "failopen: cannot read the egress id file");
      std::vector<std::string> egress;
      for (std::string line; std::getline(in, line);) {
        while (!line.empty() && (line.back() == '\r' || line.back() == ' ')) line.pop_back();
        if (!line.empty()) egress.push_back(line);
      }
      auto astore = audit::AuditLogStore::Open(*audit_url);
      ThrowIfError(astore.status(), "audit store");
      audit::QueryFilter f;
      f.tenant = Tenant(c->tenant);
      f.kind = audit::EventKind::kEgress;
      f.outcome = audit::Outcome::kForwarded;
      std::vector<std::string> audited;
      ThrowIfError(audit::QueryEach(**astore, f,
                                    [&](const audit::StoredEvent& e) {
                                      audited.push_back(e.event.request_id.value());
                                      return absl::OkStatus();
                                    }),
                   "audit query");
      std::optional<Detection> d = DetectFailOpen(egress, audited);
      std::printf("egress ids: %zu  audited egress events: %zu  without audit: %zu\n",
                  egress.size(), audited.size(), d ? d->evidence.size() : size_t{0});
      if (!d) {
        std::printf("no fail-open evidence\n");
        return;
      }
      for (const Evidence& e : d->evidence) std::printf("  %s\n", e.ref.c_str());
      if (*dry) throw CliError(2, "fail-open evidence found (dry run: no incident recorded)");
      auto store = OpenStore(*c);
      BreachResponder responder(nullptr, store.get(), nullptr, ResponsePolicy{},
                                ContainmentPlan::Default());
      auto id = responder.Record(
          Tenant(c->tenant), {*d}, NowUnix(),
          absl::StrCat("fail_open: ", d->evidence.size(), " egress without an audit event"));
      ThrowIfError(id.status(), "incident store");
      std::printf("%s recorded (critical)\n", id->c_str());
      throw CliError(2, absl::StrCat("fail-open evidence: incident ", *id));
    });
  }

  // ---- false-alarms
  {
    auto* cmd = breach->add_subcommand(
        "false-alarms", "Run the detectors over clean synthetic answers and count alarms");
    auto n = std::make_shared<size_t>(10000);
    auto seed = std::make_shared<uint64_t>(11);
    cmd->add_option("--n", *n, "Number of clean answers")->capture_default_str();
    cmd->add_option("--seed", *seed, "Seed")->capture_default_str();
    cmd->callback([n, seed] {
      MemoryVaultIndex vault(TestingBlindIndex);
      CanaryRegistry canaries(TestingBlindIndex);
      SessionValueIndex sessions;
      SimpleExchangeGenerator gen(*seed, &vault);
      for (int t = 0; t < 3; ++t) {
        for (const CanaryPatient& cp :
             GenerateCanaries(TenantId(absl::StrCat("synth-t", t)), *seed, 5)) {
          canaries.Register(cp);
        }
      }
      LeakScanner scanner(TestingBlindIndex, vault.AsLookup(), &canaries, &sessions);
      auto r = MeasureFalseAlarms(
          scanner, TestingBlindIndex, *n, [&](size_t) { return gen.Next(); }, &sessions);
      ThrowIfError(r.status(), "false-alarms");
      std::printf("clean answers: %zu  flagged: %zu  false-alarm rate: %.4f%%\n", r->answers,
                  r->answers_flagged, 100.0 * r->rate());
      for (const auto& [k, count] : r->by_kind) {
        std::printf("  %s: %zu\n", std::string(Name(k)).c_str(), count);
      }
    });
  }
}

PHIGATE_REGISTER_COMMAND(RegisterBreach);

}  // namespace
}  // namespace phigate::cli
