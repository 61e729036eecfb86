// Test and drill support that needs no gateway: an in-memory blind-index ->
// vault-entry index, clean synthetic exchanges, the false-alarm harness, and
// the drill that plants canaries and proves each detector fires.
//
// Example:
//   MemoryVaultIndex vault(TestingBlindIndex);
//   LeakScanner scanner(TestingBlindIndex, vault.AsLookup(), &canaries, &sessions);
//   SimpleExchangeGenerator gen(/*seed=*/7, &vault);
//   auto report = MeasureFalseAlarms(scanner, TestingBlindIndex, 10000,
//                                    [&](size_t) { return gen.Next(); });
#ifndef PHIGATE_BREACH_HARNESS_H_
#define PHIGATE_BREACH_HARNESS_H_

#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "phigate/breach/detectors.h"
#include "phigate/breach/incident_store.h"
#include "phigate/breach/response.h"
#include "phigate/core/finding.h"
#include "phigate/core/ids.h"

namespace phigate::breach {

// blind index -> vault entries, in memory (tests, drills). Thread-safe.
class MemoryVaultIndex {
 public:
  explicit MemoryVaultIndex(BlindIndexFn blind_index) : blind_index_(std::move(blind_index)) {}
  void Add(const TenantId& tenant, std::string patient_ref, std::string scope, PhiCategory c,
           std::string_view value);
  std::vector<VaultRef> Lookup(std::string_view blind_index) const;
  BlindIndexLookup AsLookup() const {
    return [this](std::string_view b) { return Lookup(b); };
  }
  size_t size() const;

 private:
  BlindIndexFn blind_index_;
  mutable absl::Mutex mu_;
  std::map<std::string, std::vector<VaultRef>, std::less<>> entries_ ABSL_GUARDED_BY(mu_);
};

// One request/answer pair with the truth about what was sent and found.
struct CleanExchange {
  TenantId tenant;
  std::string scope;
  std::string patient_ref;
  std::string session_id;
  std::vector<std::pair<PhiCategory, std::string>> sent;  // values the request sent
  std::string answer;
  Findings findings;  // PHI spans of `answer`
};

// Built-in clean traffic (used when the project's synth generator is not
// linked): invented patients of a few tenants, each registered in the vault;
// answers repeat the request's own values and add model-made quasi-identifiers
// (follow-up dates, cities, clinic names) drawn from small pools that collide
// with other patients' vault entries on purpose. Not thread-safe.
class SimpleExchangeGenerator {
 public:
  SimpleExchangeGenerator(uint64_t seed, MemoryVaultIndex* vault, int tenants = 3,
                          int patients_per_tenant = 200);
  CleanExchange Next();

 private:
  struct Patient {
    TenantId tenant;
    std::string ref, name, mrn, phone, dob, city;
  };
  uint64_t state_;
  std::vector<Patient> patients_;
  uint64_t counter_ = 0;
  uint64_t Rand();
};

struct FalseAlarmReport {
  size_t answers = 0;
  size_t answers_flagged = 0;
  std::map<DetectionKind, size_t> by_kind;
  double rate() const { return answers == 0 ? 0.0 : double(answers_flagged) / double(answers); }
};

// Runs the scanner over n clean exchanges from `next` and counts answers with
// any detection. Values each exchange sends are recorded in `sessions` (when
// given) after its scan, as the gateway would.
Result<FalseAlarmReport> MeasureFalseAlarms(const LeakScanner& scanner, const BlindIndexFn& bi,
                                            size_t n,
                                            const std::function<CleanExchange(size_t)>& next,
                                            SessionValueIndex* sessions = nullptr);

// The drill: plants canaries for `tenant` (and a second, synthetic tenant),
// then feeds misbehaving fake-upstream answers through a BreachResponder and
// checks that every detector fires and that clean answers pass.
struct DrillStep {
  std::string name;  // "canary of another tenant echoed"
  DetectionKind expected;
  bool fired = false;
  ResponseAction action = ResponseAction::kPassAlert;
  std::string incident_id;
};
struct DrillReport {
  std::vector<DrillStep> steps;
  size_t clean_answers = 0;
  size_t clean_flagged = 0;
  std::vector<std::string> containment_calls;
  bool ok() const;
};
// Incidents are recorded in `store` under `tenant` (the drill's incidents say "drill" in the
// title).
Result<DrillReport> RunDrill(const TenantId& tenant, uint64_t seed, IncidentStore& store,
                             int64_t now_unix);

}  // namespace phigate::breach

#endif  // PHIGATE_BREACH_HARNESS_H_
