// Policy: a loaded, immutable policy file and its decision engine.
//
// Load once (or through PolicyHolder for live reload), share as
// std::shared_ptr<const Policy> across threads: every method is const and
// thread-safe. Loading precomputes a decision for every (tenant, feature,
// vendor, endpoint, model) the file allows, split at BAA start/expiry instants,
// so Decide() is one hash lookup, one user lookup and a time compare.
//
// Rules (docs/policy.md):
//  - unknown tenant, user, feature, vendor, endpoint or model, a feature not enabled
//    for the tenant, a role the feature does not admit, a route the feature does not
//    list -> deny;
//  - a category the feature does not list -> its `unlisted` action (redact or block);
//  - each of the tenant's jurisdictions may raise actions (floors) and add
//    requirements (ZDR, no-training, residency); the strictest wins;
//  - no active BAA covering vendor + endpoint + model (expired and not yet effective
//    count as none; a self-hosted vendor declared inside the boundary needs none), or an
//    unmet jurisdiction requirement -> allow and surrogate are raised to the
//    feature's on_missing_baa action (tokenize | redact | block), or the request is
//    denied (on_missing_baa: deny).
//
// Example:
//   PHIGATE_ASSIGN_OR_RETURN(auto policy, phigate::policy::Policy::LoadFile("phigate.yaml", {}));
//   const auto& d = policy->Decide({.tenant = "acme", .user = "dr-demo", .feature = "scribe",
//                                   .vendor = "openai", .model = "gpt-4o", .at = absl::Now()});
#ifndef PHIGATE_POLICY_POLICY_H_
#define PHIGATE_POLICY_POLICY_H_

#include <array>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "absl/time/time.h"
#include "phigate/core/status.h"
#include "phigate/policy/config.h"
#include "phigate/policy/decision.h"
#include "phigate/policy/lint.h"

namespace phigate::policy {

struct DecisionRequest {
  std::string_view tenant;
  std::string_view user;
  std::string_view feature;
  std::string_view vendor;
  std::string_view
      endpoint;  // "chat/completions" or "/v1/chat/completions"; empty = vendor default
  std::string_view model;
  absl::Time at;
};

struct LoadOptions {
  // Also refuse files whose lint reports errors (PG010 PHI to a vendor without a
  // BAA, ...), so `phigate policy check` and a reload agree. Structural errors
  // (syntax, unknown keys, bad values) always refuse.
  bool reject_lint_errors = true;
  LintOptions lint;
  // Files larger than this are refused (the loader's input limit).
  size_t max_file_bytes = size_t{4} << 20;
};

// Parse result with diagnostics, for lint and the loader. `config` is null when a
// structural error made the file unusable.
struct ParseOutput {
  std::unique_ptr<PolicyConfig> config;
  std::vector<Diagnostic> diagnostics;
};
ParseOutput ParsePolicy(std::string_view text, std::string_view file);

class Policy {
 public:
  // InvalidArgument listing the first errors as "file:line:col: code: message";
  // NotFound when the file cannot be read.
  static Result<std::shared_ptr<const Policy>> LoadFile(const std::string& path,
                                                        const LoadOptions& options);
  static Result<std::shared_ptr<const Policy>> LoadString(std::string_view text,
                                                          std::string_view file,
                                                          const LoadOptions& options);
  // Compiles an already built config (tests, tools). Fails on undeclared references.
  static Result<std::shared_ptr<const Policy>> FromConfig(PolicyConfig config);

  Policy(const Policy&) = delete;  // owns the precomputed tables; share by pointer
  Policy& operator=(const Policy&) = delete;
  ~Policy();

  // The decision for one request. The reference stays valid as long as this
  // Policy lives. Never fails: anything unknown yields a deny decision.
  const Decision& Decide(const DecisionRequest& request) const;
  // As Decide(), for a caller holding `roles` in the tenant instead of a named
  // user (used by `explain`); request.user is ignored.
  const Decision& DecideForRoles(const DecisionRequest& request, RoleSet roles) const;

  // The user whose API key is `api_key` (compared by SHA-256), or null.
  const User* FindUserByApiKey(std::string_view api_key) const;

  const PolicyConfig& config() const { return config_; }
  const std::string& version() const { return config_.version; }
  // Diagnostics of lint at load time (warnings and infos; errors refused the load
  // unless reject_lint_errors was false).
  const std::vector<Diagnostic>& load_diagnostics() const { return load_diagnostics_; }

 private:
  struct Tables;  // precomputed decisions (src/policy/policy.cc)
  explicit Policy(PolicyConfig config);
  Status Compile();
  const Decision& DecideImpl(const DecisionRequest& request, const User* user, RoleSet roles) const;
  const Decision& Deny(ReasonCode code) const;

  PolicyConfig config_;
  std::vector<Diagnostic> load_diagnostics_;
  std::unique_ptr<Tables> tables_;
};

}  // namespace phigate::policy

#endif  // PHIGATE_POLICY_POLICY_H_
