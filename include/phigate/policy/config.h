// The policy model: what a compliance officer declares in the YAML file
// (docs/policy.md is the format reference). Plain value types, filled by the
// loader (policy.h) and read by the decision engine, lint and the data-flow report.
//
// Dates are calendar days in UTC. A BAA is active from 00:00:00 UTC of its
// `signed` (effective) day through 23:59:59 UTC of its `expires` day inclusive.
#ifndef PHIGATE_POLICY_CONFIG_H_
#define PHIGATE_POLICY_CONFIG_H_

#include <algorithm>
#include <array>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "phigate/core/phi_category.h"
#include "phigate/core/status.h"
#include "phigate/policy/decision.h"

namespace phigate::policy {

// Where a declaration sits in the file, 1-based (0 = unknown).
struct SourceLoc {
  uint32_t line = 0;
  uint32_t column = 0;
};

// A calendar day as days since 1970-01-01 (UTC).
using Day = int64_t;
// Parses "YYYY-MM-DD" (a valid Gregorian date) into a Day.
std::optional<Day> ParseDay(std::string_view text);
// Formats a Day as "YYYY-MM-DD".
std::string FormatDay(Day day);
// The UTC day containing unix time `unix_seconds`.
Day DayOfUnixSeconds(int64_t unix_seconds);

// Roles of a user. clinician: may have answers re-identified; analyst: may use
// features, never re-identifies; admin: manages config, never re-identifies.
enum class Role : uint8_t { kClinician = 0, kAnalyst = 1, kAdmin = 2 };
inline constexpr size_t kNumRoles = 3;
using RoleSet = uint8_t;  // bit (1 << Role)
inline constexpr RoleSet RoleBit(Role r) {
  return static_cast<RoleSet>(1u << static_cast<unsigned>(r));
}
inline constexpr RoleSet kAllRoles = 0x7;
inline constexpr RoleSet kReidentifyRoles = RoleBit(Role::kClinician);
std::string_view RoleName(Role r);
std::optional<Role> ParseRole(std::string_view name);

enum class VendorKind : uint8_t { kOpenAi, kAzureOpenAi, kAnthropic, kBedrock, kSelfHosted };
std::string_view VendorKindName(VendorKind k);  // "openai", "azure-openai", ...
std::optional<VendorKind> ParseVendorKind(std::string_view name);

struct TlsSettings {
  bool verify = true;       // verify the upstream certificate and host name
  std::string ca_file;      // extra CA bundle (PEM); empty = system store
  std::string min_version;  // "1.2" (default) or "1.3"
  SourceLoc loc;
};

// A business associate agreement with a vendor, and exactly what it covers.
struct Baa {
  std::string id;
  Day signed_day = 0;                  // effective from this day (inclusive)
  Day expires_day = 0;                 // active through the end of this day (inclusive)
  std::vector<std::string> products;   // informational, e.g. "api"
  std::vector<std::string> endpoints;  // API endpoints covered, e.g. "chat/completions"
  std::vector<std::string> models;     // exact names, or a prefix glob "gpt-4o*"
  std::vector<std::string> regions;    // empty = any region of the vendor
  bool zero_data_retention = false;
  bool no_training = false;
  SourceLoc loc;

  // Unix-second window [active_from, active_until) of the agreement.
  int64_t active_from() const { return signed_day * 86400; }
  int64_t active_until() const { return (expires_day + 1) * 86400; }
  bool ActiveAt(int64_t unix_seconds) const {
    return unix_seconds >= active_from() && unix_seconds < active_until();
  }
  // True when the agreement names this endpoint, model and (if restricted) region.
  bool Covers(std::string_view endpoint, std::string_view model, std::string_view region) const;
};

struct VendorModel {
  std::string name;            // what clients ask for, e.g. "gpt-4o"
  std::string upstream_model;  // what the upstream is sent; empty = name
  SourceLoc loc;
};

// An upstream model provider, declared like a LiteLLM model_list entry.
struct Vendor {
  std::string name;
  VendorKind kind = VendorKind::kOpenAi;
  std::string api_base;                // e.g. "https://api.openai.com/v1"
  std::string api_key_env;             // environment variable holding the upstream key
  std::string region;                  // e.g. "us", "eu"
  std::vector<std::string> endpoints;  // normalized ("chat/completions"); [0] is the default
  std::vector<VendorModel> models;
  TlsSettings tls;
  // Only for kind self-hosted: the model runs inside the covered entity's boundary,
  // so it needs no BAA. Must be declared explicitly.
  bool inside_boundary = false;
  std::vector<Baa> baas;
  SourceLoc loc;

  bool HasEndpoint(std::string_view e) const;
  const VendorModel* FindModel(std::string_view m) const;
};

// What the feature may do when the target has no active covering BAA.
enum class OnMissingBaa : uint8_t { kTokenize, kRedact, kBlock, kDeny };
std::string_view OnMissingBaaName(OnMissingBaa a);

struct Route {
  std::string vendor;
  std::vector<std::string> models;  // exact names or "*" (every model the vendor declares)
  SourceLoc loc;
};

// A use of the model: its purpose, the PHI it may send (minimum necessary) and how.
struct Feature {
  std::string name;
  std::string purpose;  // purpose of use: treatment, payment, operations, ...
  std::string description;
  RoleSet roles = kAllRoles;        // roles that may use it
  bool reidentify_answers = false;  // map tokens/surrogates back for roles that may
  // Per category: the declared action; nullopt = not listed (gets `unlisted`).
  std::array<std::optional<Action>, kNumPhiCategories> phi{};
  std::array<SourceLoc, kNumPhiCategories> phi_loc{};
  Action unlisted = Action::kRedact;  // redact or block
  OnMissingBaa on_missing_baa = OnMissingBaa::kRedact;
  std::vector<Route> routes;
  SourceLoc loc;
};

// A legal regime a tenant operates under. Rules only raise strictness.
struct Jurisdiction {
  std::string id;  // "US-HIPAA", "CA", "NY", "TX", ...
  std::string name;
  std::array<Action, kNumPhiCategories> floors{};  // minimum action per category (kAllow = none)
  bool require_zero_data_retention = false;        // identifying data only under a ZDR BAA
  bool require_no_training = false;                // identifying data only under a no-training BAA
  std::vector<std::string> residency;  // allowed vendor regions (prefix match); empty = any
  int individual_notice_days = 0;      // breach notice to individuals (0 = no fixed days)
  std::string notice_source;           // statute for the figure above
  bool builtin = false;
  SourceLoc loc;
};

struct Tenant {
  std::string id;
  std::string name;
  std::vector<std::string> jurisdictions;
  std::vector<std::string> features;  // the enabled features, when listed
  // With no feature listed: every feature when the config has no `features:`
  // key (the default), none when it says `features: []` (read as "all" before,
  // so a list emptied to switch a tenant off enabled everything).
  bool all_features = true;
  bool Enables(std::string_view feature) const {
    if (features.empty()) return all_features;
    return std::find(features.begin(), features.end(), feature) != features.end();
  }
  SourceLoc loc;
};

struct User {
  std::string id;
  std::string tenant;
  RoleSet roles = 0;
  std::string api_key_sha256;  // lower-case hex of SHA-256(api key)
  std::string key_env;         // or: the key is read from this environment variable at load
  SourceLoc loc;
};

// The whole declared policy, as loaded from one file.
struct PolicyConfig {
  std::string file;     // path or name given to the loader
  std::string version;  // first 16 hex digits of SHA-256 of the file bytes
  int format_version = 1;
  std::vector<Tenant> tenants;
  std::vector<User> users;
  std::vector<Vendor> vendors;
  std::vector<Feature> features;
  std::vector<Jurisdiction> jurisdictions;  // built-ins, overridden/extended by the file
  // Top-level sections owned by other modules (server, store, vault, audit, breach,
  // gateway, keys), re-emitted as YAML text, untouched by policy.
  std::map<std::string, std::string, std::less<>> other_sections;
  std::map<std::string, SourceLoc, std::less<>> other_section_locs;
  // `keys:` — where `phigate serve` reads the master key: the variable named
  // by master_key_env, or the file master_key_file (chmod 600); one of them.
  // Neither: PHIGATE_MASTER_KEY. retired_master_key_files: the master keys
  // `phigate keys rewrap` retired, oldest first (chmod 600 each), under which
  // incident records sealed before the rotation are still read.
  struct Keys {
    std::string master_key_env;
    std::string master_key_file;
    std::vector<std::string> retired_master_key_files;
  } keys;

  const Tenant* FindTenant(std::string_view id) const;
  const User* FindUser(std::string_view id) const;
  const Vendor* FindVendor(std::string_view name) const;
  const Feature* FindFeature(std::string_view name) const;
  const Jurisdiction* FindJurisdiction(std::string_view id) const;
};

// The jurisdictions phigate knows without configuration (docs/policy.md lists
// their rules and sources). A file may override any field of them.
std::vector<Jurisdiction> BuiltinJurisdictions();

// Normalizes an API endpoint: "/v1/chat/completions" -> "chat/completions".
std::string_view NormalizeEndpoint(std::string_view endpoint);

// Lower-case hex SHA-256 of `data` (used for API key hashes and policy versions).
std::string Sha256Hex(std::string_view data);

}  // namespace phigate::policy

#endif  // PHIGATE_POLICY_CONFIG_H_
