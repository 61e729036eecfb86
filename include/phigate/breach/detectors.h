// Leak detectors: run on every model answer (the gateway's leak-scan stage)
// and on demand over stored events. They see the answer, the engine's findings
// on it, the blind indexes of the values this request sent, and a lookup of
// blind indexes in the vault; they emit PHI-free Detections (offsets,
// categories, blind indexes, ids).
//
// The blind-index function is injected (`BlindIndexFn`) so the gateway passes
// the vault's keyed HMAC; tests pass any deterministic function.
//
// Example:
//   LeakScanner scanner(blind_index_fn, vault_lookup, &canaries, &sessions);
//   LeakScanInput in{.tenant = tenant, .scope = conversation, .answer = answer,
//                    .findings = &findings, .sent_blind_indexes = &sent};
//   PHIGATE_ASSIGN_OR_RETURN(std::vector<Detection> found, scanner.Scan(in));
#ifndef PHIGATE_BREACH_DETECTORS_H_
#define PHIGATE_BREACH_DETECTORS_H_

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "phigate/breach/incident.h"
#include "phigate/core/finding.h"
#include "phigate/core/ids.h"
#include "phigate/core/phi_category.h"
#include "phigate/core/status.h"

namespace phigate::breach {

// (category, value text) -> lower-case hex keyed hash. Must be deterministic
// per tenant-independent key (the vault's blind-index key) and thread-safe.
using BlindIndexFn = std::function<std::string(PhiCategory, std::string_view)>;

// A vault entry holding a value with some blind index.
struct VaultRef {
  TenantId tenant;
  std::string patient_ref;  // blind-index reference of the patient
  std::string scope;        // conversation / feature scope of the entry
};
// Every vault entry (any tenant) holding a value with this blind index. Must be
// thread-safe. Empty when unknown.
using BlindIndexLookup = std::function<std::vector<VaultRef>(std::string_view blind_index)>;

// For tests, drills and the false-alarm harness only, NOT for production (it is
// unkeyed; the gateway passes the vault's HMAC): 64-bit FNV-1a of
// "CATEGORY|value" in hex, stable across runs.
std::string TestingBlindIndex(PhiCategory c, std::string_view value);

// Categories that identify on their own. The others (dates, ZIP, city, age,
// facility, location, photo) are quasi-identifiers: they count only when the
// vault places them with the same other patient as another value of the answer.
bool IsStrongIdentifier(PhiCategory c);

struct CacheInfo {
  bool served_from_cache = false;
  std::string cached_tenant_tag;           // the tenant the cached answer was made for
  std::string cached_policy_tag;           // hash of the decision table it was made under
  std::string request_policy_tag;          // the request's decision-table hash
  bool provider_key_tenant_scoped = true;  // upstream prompt-cache key includes the tenant
  std::string cache_key_ref;               // hash of the cache key (evidence)
  // The conversation scope the cached answer was made for and the request's
  // ("" = not known): same tenant, other scope is still a cache leak (high).
  std::string cached_scope_tag;
  std::string request_scope_tag;
  // Offsets in the answer that show where the cached answer came from (e.g.
  // tokens minted for another request), as evidence spans.
  std::vector<std::pair<size_t, size_t>> spans;
};

struct LeakScanInput {
  TenantId tenant;
  std::string scope;        // conversation / feature scope of the request
  std::string patient_ref;  // the patient the request is about (blind ref), may be empty
  std::string session_id;   // for the training-data detector
  std::string request_id;
  std::string_view answer;             // the model's answer (after upstream, before re-identify)
  const Findings* findings = nullptr;  // the engine's findings on `answer`; REQUIRED
  // Blind indexes of every value this request sent (after re-identification scoping).
  const std::set<std::string>* sent_blind_indexes = nullptr;  // REQUIRED
  std::optional<CacheInfo> cache;
};

// One finding of the answer with its blind index (computed once per scan).
struct AnswerValue {
  Finding finding;
  std::string blind_index;
  bool sent = false;
  std::vector<VaultRef> refs;  // vault entries holding it
};

class LeakDetector {
 public:
  virtual ~LeakDetector() = default;
  virtual std::string_view name() const = 0;
  // Appends detections. Non-OK means the detector failed: the caller must
  // fail closed (withhold the answer).
  virtual Status Scan(const LeakScanInput& in, std::span<const AnswerValue> values,
                      std::vector<Detection>* out) const = 0;
};

// PHI in the answer that this request did not send. Strong identifiers fire
// alone (high when the vault knows the value, i.e. someone else's PHI; medium
// when unknown); quasi-identifiers fire only when corroborated.
std::unique_ptr<LeakDetector> NewPromptInjectionDetector();
// Answer values whose blind index matches another tenant's (critical) or
// another patient's (high) vault entries.
std::unique_ptr<LeakDetector> NewCrossTenantPatientDetector();
// Cached answer tags that differ from the request's tenant (critical) or policy
// (high), or a provider cache key not scoped to the tenant (high).
std::unique_ptr<LeakDetector> NewCacheLeakDetector();

// ---- Canaries: synthetic patients planted per tenant (never real people).
struct CanaryValue {
  PhiCategory category = PhiCategory::kName;
  std::string value;  // synthetic; safe to store and to search for
};
struct CanaryPatient {
  TenantId tenant;
  std::string scope;        // where it is allowed to appear ("" = anywhere in its tenant)
  std::string patient_ref;  // "canary-<tenant>-<n>"
  std::vector<CanaryValue> values;
};

// Deterministic canaries for (tenant, seed): invented names from syllables,
// MRNs "CNRY-" + digits, SSNs in the never-issued 9xx area, 555-01xx phones,
// e-mail at canary.invalid. Same inputs, same canaries.
std::vector<CanaryPatient> GenerateCanaries(const TenantId& tenant, uint64_t seed, int count,
                                            std::string scope = "");

// Thread-safe registry of planted canaries.
class CanaryRegistry {
 public:
  explicit CanaryRegistry(BlindIndexFn blind_index) : blind_index_(std::move(blind_index)) {}
  void Register(const CanaryPatient& canary);
  size_t size() const;
  struct Hit {
    const CanaryPatient* canary;
    size_t begin, end;
    PhiCategory category;
    std::string blind_index;
  };
  // Every occurrence of a registered canary value in `text` (exact bytes) and
  // every finding whose blind index is a canary's.
  std::vector<Hit> Find(std::string_view text, std::span<const AnswerValue> values) const;

 private:
  BlindIndexFn blind_index_;
  mutable absl::Mutex mu_;
  std::vector<std::unique_ptr<CanaryPatient>> canaries_ ABSL_GUARDED_BY(mu_);
  std::map<std::string, const CanaryPatient*> by_blind_index_ ABSL_GUARDED_BY(mu_);
};
// A canary outside its own tenant, or outside its scope when it has one: critical.
std::unique_ptr<LeakDetector> NewCanaryDetector(const CanaryRegistry* registry);

// ---- Training-data leak: values sent in earlier sessions.
// Thread-safe, bounded index of blind index -> (tenant, session) of first send.
class SessionValueIndex {
 public:
  explicit SessionValueIndex(size_t max_entries = 1 << 20) : max_entries_(max_entries) {}
  void RecordSent(const TenantId& tenant, std::string_view session_id,
                  const std::set<std::string>& blind_indexes);
  struct Origin {
    TenantId tenant;
    std::string session_id;
  };
  std::optional<Origin> FirstSent(std::string_view blind_index) const;
  size_t size() const;

 private:
  size_t max_entries_;
  mutable absl::Mutex mu_;
  std::map<std::string, Origin, std::less<>> first_ ABSL_GUARDED_BY(mu_);
};
// A value not sent by this request but sent in an earlier session: high (same
// tenant) or critical (another tenant's session).
std::unique_ptr<LeakDetector> NewTrainingDataLeakDetector(const SessionValueIndex* sessions);

// ---- Fail-open evidence: egress ids with no audit event id.
// One critical detection listing each egress id without an audit event (as ref).
std::optional<Detection> DetectFailOpen(std::span<const std::string> egress_ids,
                                        std::span<const std::string> audit_event_ids);

// Runs a set of detectors over one answer. Thread-safe after construction.
class LeakScanner {
 public:
  // registry/sessions may be null (those detectors are then not run); they must
  // outlive the scanner.
  LeakScanner(BlindIndexFn blind_index, BlindIndexLookup lookup, const CanaryRegistry* canaries,
              const SessionValueIndex* sessions);
  void AddDetector(std::unique_ptr<LeakDetector> d) { detectors_.push_back(std::move(d)); }
  // InvalidArgument when findings/sent are missing or a finding is out of range.
  Result<std::vector<Detection>> Scan(const LeakScanInput& in) const;
  // The values of one answer with blind index, sent flag and vault refs.
  Result<std::vector<AnswerValue>> Prepare(const LeakScanInput& in) const;

 private:
  BlindIndexFn blind_index_;
  BlindIndexLookup lookup_;
  std::vector<std::unique_ptr<LeakDetector>> detectors_;
};

}  // namespace phigate::breach

#endif  // PHIGATE_BREACH_DETECTORS_H_
