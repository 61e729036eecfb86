// The gateway's leak-scan stage on top of the breach module: every model
// answer (de-identified form, before re-identification) goes through
// breach::LeakScanner with all detectors (prompt injection, cross-tenant /
// cross-patient, canaries, cache leak, training-data leak); a detection
// records an incident in the incident store, runs the containment plan (each
// action audited) and withholds or redacts the answer per severity.
//
// What it indexes (keyed blind indexes only, never values): the PHI values
// each request sent (tenant, conversation scope, patient ref), the tokens it
// was given, and the first session each value was seen in. The vault's own
// blind indexes are per tenant and per scope by design, so the scanner keeps
// this cross-tenant index itself, under its own key (HKDF of the master key).
// The index lives in memory (bounded); a restart starts it empty.
//
// Example (serve_stack.cc):
//   PHIGATE_ASSIGN_OR_RETURN(BreachConfig bc, ParseBreachConfig(yaml_text));
//   BreachLeakScanner::Deps d{detector, std::move(incident_store), audit_sink};
//   PHIGATE_ASSIGN_OR_RETURN(auto scanner,
//       BreachLeakScanner::Create(bc, blind_index_key, tenants, std::move(d)));
//   deps.leak = std::move(scanner);
#ifndef PHIGATE_GATEWAY_BREACH_SCANNER_H_
#define PHIGATE_GATEWAY_BREACH_SCANNER_H_

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "phigate/breach/detectors.h"
#include "phigate/breach/incident_store.h"
#include "phigate/breach/response.h"
#include "phigate/core/ids.h"
#include "phigate/core/status.h"
#include "phigate/gateway/interfaces.h"

namespace phigate::gateway {

// The `breach:` section of the serve config.
//
//   breach:
//     enabled: true                       # default true when the section exists
//     incidents: sqlite:///var/lib/phigate/incidents.db   # default: beside the store
//     response: {low: pass_alert, medium: redact, high: withhold, critical: withhold}
//     containment: true                   # run (and audit) the default containment plan;
//                                         # audit_only: record and audit, execute nothing
//     canaries: {per_tenant: 2, seed: 1}  # synthetic canary patients planted per tenant
//     max_index_entries: 1048576          # bound of the in-memory value index
struct BreachConfig {
  bool enabled = false;  // false when the section is absent or says `enabled: false`
  std::string incidents_url;
  breach::ResponsePolicy response;
  bool containment = true;
  // false (`containment: audit_only`): actions are recorded and audited, not executed.
  bool containment_execute = true;
  int canaries_per_tenant = 2;
  uint64_t canary_seed = 1;
  size_t max_index_entries = size_t{1} << 20;
};

// Parses the `breach:` section of a YAML document (other sections ignored).
// InvalidArgument naming the key on a bad value.
Result<BreachConfig> ParseBreachConfig(std::string_view yaml_text);

// The scanner's blind index: hex HMAC-SHA256(key, normalised value), where the
// value is lower-cased and reduced to letters, digits and non-ASCII bytes (so
// "(555) 014-2293" and "555-014-2293" match). The category is not part of the
// hash: the engine may type one value differently in a request and an answer.
breach::BlindIndexFn KeyedBlindIndex(std::string key);

class ContainmentControls;

class BreachLeakScanner : public LeakScanner {
 public:
  struct Deps {
    std::shared_ptr<const Detector> detector;          // required: finds PHI in answers
    std::unique_ptr<breach::IncidentStore> incidents;  // required
    std::shared_ptr<AuditSink> audit;                  // optional: audits containment actions
    // optional: executes containment (cache purge, suspensions, key rotation);
    // without, actions are recorded and audited only
    std::shared_ptr<ContainmentControls> controls;
    std::function<int64_t()> clock;  // unix seconds; default: system clock
  };
  // Plants config.canaries_per_tenant canaries for each of `tenants`.
  // InvalidArgument without detector or incident store, or with an empty key.
  static Result<std::unique_ptr<BreachLeakScanner>> Create(const BreachConfig& config,
                                                           std::string blind_index_key,
                                                           const std::vector<TenantId>& tenants,
                                                           Deps deps);
  ~BreachLeakScanner() override;

  Result<LeakVerdict> Scan(const Principal& who, std::string_view answer,
                           const std::vector<std::string>& sent_replacements) override;
  Result<LeakScanResult> ScanAnswer(const LeakScanContext& ctx, std::string_view answer) override;

  // The planted canaries (synthetic, safe to print).
  std::vector<breach::CanaryPatient> Canaries() const;
  breach::IncidentStore& incidents();
  // The containment actions taken so far ("purge_cache acme", ...).
  std::vector<std::string> ContainmentCalls() const;
  std::string Describe() const;  // one PHI-free line for `phigate serve`

 private:
  struct Impl;
  explicit BreachLeakScanner(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

// `phigate serve` wiring: reads the `breach:` section of the config file and
// builds the scanner, or returns nullptr when the section is absent or
// disabled. The blind-index key is derived from the master key; the incident
// store defaults to the store URL with "-incidents" before ".db" (SQLite).
// With `vaults`, each tenant's canaries are also planted in its vault (tokens
// in scope "canary"), so they sit among the real entries; any vault error
// fails the start. `retired_master_keys` (keys.retired_master_key_files, oldest
// first): incident records sealed before a master key rotation are read under
// them; every write seals under the current key.
Result<std::shared_ptr<BreachLeakScanner>> BuildServeLeakScanner(
    const std::string& config_path, std::string_view master_key, std::string_view store_url,
    const std::vector<TenantId>& tenants, std::shared_ptr<const Detector> detector,
    std::shared_ptr<AuditSink> audit, std::shared_ptr<VaultProvider> vaults = nullptr,
    std::shared_ptr<ContainmentControls> controls = nullptr,
    const std::vector<std::string>& retired_master_keys = {});

}  // namespace phigate::gateway

#endif  // PHIGATE_GATEWAY_BREACH_SCANNER_H_
