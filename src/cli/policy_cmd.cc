// `phigate policy check FILE` and `phigate policy explain ...`: lint a policy
// file with file:line diagnostics, and show the decision for one request with its
// reasons.
#include <cstdio>
#include <string>

#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "phigate/policy/lint.h"
#include "phigate/policy/policy.h"
#include "src/cli/command.h"

namespace phigate::cli {
namespace {

// "YYYY-MM-DD" (start of that UTC day; every rule changes only at day boundaries)
// or an RFC 3339 instant. Empty: now.
absl::Time ParseAt(const std::string& s) {
  if (s.empty()) return absl::Now();
  if (const auto day = policy::ParseDay(s)) return absl::FromUnixSeconds(*day * 86400);
  absl::Time t;
  std::string err;
  if (absl::ParseTime(absl::RFC3339_full, s, &t, &err)) return t;
  throw CliError(2, "--at must be YYYY-MM-DD or an RFC 3339 time");
}

void Check(const std::string& file, const std::string& at, bool quiet) {
  policy::LintOptions opts;
  opts.now = ParseAt(at);
  const auto diags = policy::LintFile(file, opts);
  size_t errors = 0, warnings = 0;
  for (const auto& d : diags) {
    if (d.severity == policy::Severity::kError) ++errors;
    if (d.severity == policy::Severity::kWarning) ++warnings;
    if (quiet && d.severity == policy::Severity::kInfo) continue;
    std::printf("%s\n", policy::FormatDiagnostic(d).c_str());
  }
  std::printf("%s: %zu error(s), %zu warning(s)\n", file.c_str(), errors, warnings);
  if (errors > 0) throw CliError(1, absl::StrCat("policy check failed: ", errors, " error(s)"));
}

struct ExplainArgs {
  std::string config, tenant, user, role, feature, vendor, endpoint, model, at;
};

void Explain(const ExplainArgs& a) {
  policy::LoadOptions opts;
  opts.reject_lint_errors = false;  // explain what the engine would do, even for a bad file
  opts.lint.now = ParseAt(a.at);
  auto loaded = policy::Policy::LoadFile(a.config, opts);
  ThrowIfError(loaded.status(), "policy explain");
  const policy::Policy& p = **loaded;
  policy::DecisionRequest req{a.tenant,   a.user,  a.feature,    a.vendor,
                              a.endpoint, a.model, opts.lint.now};
  std::string caller;
  const policy::Decision* d = nullptr;
  if (!a.user.empty()) {
    d = &p.Decide(req);
    caller = "user " + a.user;
  } else {
    policy::RoleSet roles = policy::kAllRoles;
    if (!a.role.empty()) {
      const auto r = policy::ParseRole(a.role);
      if (!r) throw CliError(2, "--role must be clinician, analyst or admin");
      roles = policy::RoleBit(*r);
      caller = "role " + a.role;
    } else if (const auto* f = p.config().FindFeature(a.feature)) {
      roles = f->roles;
      caller = "any role the feature admits";
    }
    d = &p.DecideForRoles(req, roles);
  }
  std::printf("policy     %s (version %s)\n", a.config.c_str(), p.version().c_str());
  std::printf("request    tenant=%s feature=%s vendor=%s endpoint=%s model=%s at=%s\n",
              a.tenant.c_str(), a.feature.c_str(), a.vendor.c_str(),
              a.endpoint.empty() ? "(default)" : a.endpoint.c_str(), a.model.c_str(),
              absl::FormatTime("%Y-%m-%dT%H:%M:%SZ", opts.lint.now, absl::UTCTimeZone()).c_str());
  std::printf("caller     %s\n", caller.c_str());
  std::printf("decision   %s\n", d->allowed ? "ALLOW" : "DENY");
  std::printf("baa        %s\n", d->self_hosted   ? "self-hosted inside the boundary"
                                 : d->baa_covered ? d->baa_id.c_str()
                                                  : "none in force");
  std::printf("reidentify %s\n", d->reidentify ? "yes" : "no");
  std::printf("reasons\n");
  for (const auto& r : d->reasons) {
    std::printf("  %-24s %s\n", std::string(policy::ReasonCodeName(r.code)).c_str(),
                r.text.c_str());
  }
  if (!d->allowed) return;
  std::printf("actions\n");
  for (PhiCategory c : AllCategories()) {
    const policy::Action act = d->action(c);
    std::printf("  %-16s %s%s\n", std::string(CategoryName(c)).c_str(),
                std::string(policy::ActionName(act)).c_str(),
                policy::PassesIdentifying(act) ? "   (identifying value leaves)" : "");
  }
}

void Register(CLI::App& app) {
  auto* policy_cmd = app.add_subcommand("policy", "Check and explain policy files");
  policy_cmd->require_subcommand(1);

  auto* check = policy_cmd->add_subcommand(
      "check", "Lint a policy file: errors and warnings with file:line (exit 1 on errors)");
  auto file = std::make_shared<std::string>();
  auto at = std::make_shared<std::string>();
  auto quiet = std::make_shared<bool>(false);
  check->add_option("file", *file, "Policy YAML file")->required();
  check->add_option("--at", *at, "Check as of this day (YYYY-MM-DD); default today");
  check->add_flag("-q,--quiet", *quiet, "Hide info diagnostics");
  check->callback([file, at, quiet] { Check(*file, *at, *quiet); });

  auto* explain =
      policy_cmd->add_subcommand("explain", "Show the decision table and reasons for one request");
  auto args = std::make_shared<ExplainArgs>();
  explain->add_option("--config", args->config, "Policy YAML file")->required();
  explain->add_option("--tenant", args->tenant, "Tenant id")->required();
  explain->add_option("--feature", args->feature, "Feature name")->required();
  explain->add_option("--vendor", args->vendor, "Vendor name")->required();
  explain->add_option("--model", args->model, "Model name")->required();
  explain->add_option("--endpoint", args->endpoint, "API endpoint (default: the vendor's first)");
  explain->add_option("--user", args->user, "Decide as this user");
  explain->add_option("--role", args->role, "Decide as a caller with this role");
  explain->add_option("--at", args->at, "Decide at this day (YYYY-MM-DD) or RFC 3339 time");
  explain->callback([args] { Explain(*args); });
}

PHIGATE_REGISTER_COMMAND(Register);

}  // namespace
}  // namespace phigate::cli
