// Lint: everything wrong or risky in a policy file, each with file:line:col,
// severity, a stable code, a message and what to do about it.
//
// Example:
//   auto diags = phigate::policy::LintFile("phigate.yaml", {});
//   for (const auto& d : diags) std::puts(FormatDiagnostic(d).c_str());
//   bool bad = HasErrors(diags);
#ifndef PHIGATE_POLICY_LINT_H_
#define PHIGATE_POLICY_LINT_H_

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "absl/time/time.h"
#include "phigate/policy/config.h"

namespace phigate::policy {

enum class Severity : uint8_t { kInfo, kWarning, kError };
std::string_view SeverityName(Severity s);  // "info", "warning", "error"

// Codes (docs/policy.md has the full list):
//   PG001 syntax             PG002 unknown key           PG003 wrong type / bad value
//   PG004 missing field      PG005 duplicate id          PG006 undeclared reference
//   PG010 PHI to vendor without any BAA                  PG011 BAA does not cover route
//   PG012 BAA expires within 30 days (warning)           PG013 BAA expired / not yet effective
//   PG020 feature route to undeclared vendor/model       PG021 overlapping routes/BAAs
//   PG022 contradictory rules (jurisdiction raises a declared action, unusable options)
//   PG030 TLS off / plain http to a non-loopback upstream
//   PG031 no master key configured                       PG032 user without a usable key
//   PG033 self-hosted vendor not declared inside the boundary
struct Diagnostic {
  std::string file;
  SourceLoc loc;
  Severity severity = Severity::kError;
  std::string code;
  std::string message;  // ids, categories, dates only: never key material or PHI
  std::string hint;     // what to do
};

// "file:line:col: error: PG010: message (fix: hint)".
std::string FormatDiagnostic(const Diagnostic& d);
bool HasErrors(const std::vector<Diagnostic>& diags);

struct LintOptions {
  // "Today" for expiry checks; default: now.
  absl::Time now = absl::Now();
  // Days before expiry that a BAA is reported (PG012).
  int expiry_warning_days = 30;
};

// Parses and checks `text`; `file` is only used in the diagnostics. Never fails:
// a file that cannot be parsed yields PG001 diagnostics.
std::vector<Diagnostic> LintString(std::string_view text, std::string_view file,
                                   const LintOptions& options);
// Reads `path` (a read failure is one PG001 diagnostic) and lints it.
std::vector<Diagnostic> LintFile(const std::string& path, const LintOptions& options);
// The semantic checks only, over an already parsed config.
std::vector<Diagnostic> LintConfig(const PolicyConfig& config, const LintOptions& options);

}  // namespace phigate::policy

#endif  // PHIGATE_POLICY_LINT_H_
