// The result of a policy decision: per PHI category, what the transform stage
// must do before a request leaves for a vendor, plus allow/deny and the reasons.
//
// Actions are ordered by strictness, allow < surrogate < tokenize < redact < block;
// combining two rules always keeps the stricter action (Stricter()).
//
//   allow      the real value is sent (only to a vendor under an active covering BAA,
//              or to a declared self-hosted model inside the boundary)
//   surrogate  replaced by a realistic fake value that is mapped back in the answer;
//              a surrogate can keep format and partial structure, so it is treated as
//              identifying: it needs the same BAA coverage as allow
//   tokenize   replaced by a random token ([NAME_7f3a..]) kept in the vault (164.514(c));
//              tokens are not derived from the value, so they may go to any vendor
//   redact     replaced by a placeholder ([NAME]); nothing comes back
//   block      the request is refused if this category is found in it
//
// Example:
//   const phigate::policy::Decision& d = policy->Decide(request);
//   if (!d.allowed) return Deny(d.reasons);
//   phigate::policy::Action a = d.action(phigate::PhiCategory::kName);
#ifndef PHIGATE_POLICY_DECISION_H_
#define PHIGATE_POLICY_DECISION_H_

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "phigate/core/phi_category.h"

namespace phigate::policy {

enum class Action : uint8_t {
  kAllow = 0,
  kSurrogate = 1,
  kTokenize = 2,
  kRedact = 3,
  kBlock = 4,
};

inline constexpr Action Stricter(Action a, Action b) {
  return static_cast<uint8_t>(a) >= static_cast<uint8_t>(b) ? a : b;
}

// True for the actions that let an identifying value (or a value that can carry
// identifying structure) through: allow and surrogate. These require an active
// covering BAA (or a declared self-hosted model inside the boundary).
inline constexpr bool PassesIdentifying(Action a) {
  return a == Action::kAllow || a == Action::kSurrogate;
}

// "allow", "surrogate", "tokenize", "redact", "block".
std::string_view ActionName(Action a);
// Case-insensitive inverse of ActionName(); nullopt when unknown.
std::optional<Action> ParseAction(std::string_view name);

// Stable, PHI-free reason codes. They go into audit records and `explain` output;
// never reorder or reuse a value (append only).
enum class ReasonCode : uint16_t {
  kUnknownTenant = 0,        // deny
  kUnknownUser,              // deny
  kUserNotInTenant,          // deny
  kUnknownFeature,           // deny
  kFeatureNotEnabled,        // deny: the tenant does not enable this feature
  kRoleNotPermitted,         // deny: none of the user's roles may use the feature
  kUnknownVendor,            // deny
  kUnknownEndpoint,          // deny: the vendor does not declare this endpoint
  kUnknownModel,             // deny: the vendor does not declare this model
  kRouteNotAllowed,          // deny: the feature has no route to this vendor+model
  kMissingBaaDeny,           // deny: no active covering BAA and the feature says deny
  kUnknownJurisdiction,      // deny: the tenant names a jurisdiction nobody defined
  kBaaActive,                // an active BAA covers vendor+endpoint+model
  kSelfHostedInBoundary,     // declared self-hosted model inside the boundary, no BAA needed
  kNoBaa,                    // the vendor has no BAA at all
  kBaaNotCovering,           // BAA(s) exist but none names this endpoint/model/region
  kBaaExpired,               // covering BAA(s) expired before this time
  kBaaNotYetEffective,       // covering BAA(s) are signed with a later effective date
  kNoBaaDowngrade,           // identifying actions raised to the feature's no-BAA action
  kMinimumNecessary,         // categories the feature does not list are redacted/blocked
  kJurisdictionFloor,        // a jurisdiction raised the action for some categories
  kJurisdictionRequirement,  // a jurisdiction requirement (ZDR, no-training, residency) unmet
  kReidentifyAllowed,        // answers are re-identified for this user
  kReidentifyNotAllowed,     // the feature or the user's roles do not allow re-identification
  kAllowed,                  // summary: the request may proceed under the action table
};

// "UNKNOWN_TENANT", "BAA_ACTIVE", ...
std::string_view ReasonCodeName(ReasonCode code);

// One reason: a code and a short text naming ids, categories and dates only (never PHI).
struct Reason {
  ReasonCode code;
  std::string text;
};

struct Decision {
  // False: refuse the request (HTTP 403); actions are then all kBlock.
  bool allowed = false;
  // Per category, indexed by static_cast<size_t>(PhiCategory).
  std::array<Action, kNumPhiCategories> actions{};
  // True when an active BAA covers vendor+endpoint+model at the decision time,
  // or the vendor is a declared self-hosted model inside the boundary.
  bool baa_covered = false;
  bool self_hosted = false;
  // Whether tokens/surrogates in the answer are mapped back for this caller.
  bool reidentify = false;
  // The covering BAA's id, empty when none.
  std::string baa_id;
  // Short hash of the policy file the decision came from, for the audit record.
  std::string policy_version;
  std::vector<Reason> reasons;

  Action action(PhiCategory c) const { return actions[static_cast<size_t>(c)]; }
  bool HasReason(ReasonCode code) const {
    for (const Reason& r : reasons) {
      if (r.code == code) return true;
    }
    return false;
  }
};

}  // namespace phigate::policy

#endif  // PHIGATE_POLICY_DECISION_H_
