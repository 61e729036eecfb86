// Containment controls shared by the gateway and its breach leak scanner: when
// a leak is detected, the scanner's containment plan purges the tenant's cached
// answers, suspends a feature or a vendor route for the tenant, and rotates the
// tenant's vault data key. The gateway refuses suspended traffic (503) until an
// operator resumes it (a restart clears suspensions; the incident keeps the
// record). Thread-safe; holds tenant ids, feature and vendor names only.
#ifndef PHIGATE_GATEWAY_CONTAINMENT_H_
#define PHIGATE_GATEWAY_CONTAINMENT_H_

#include <atomic>
#include <functional>
#include <set>
#include <string>
#include <string_view>
#include <utility>

#include "absl/synchronization/mutex.h"
#include "phigate/core/ids.h"
#include "phigate/core/status.h"

namespace phigate::gateway {

class ContainmentControls {
 public:
  using CachePurger = std::function<size_t(const TenantId&)>;  // returns entries removed
  using KeyRotator = std::function<Status(const TenantId&)>;

  // Wiring (serve_stack / Gateway::Create). Without a purger or rotator the
  // action fails with FailedPrecondition, which the incident records.
  void SetCachePurger(CachePurger purger);
  void SetKeyRotator(KeyRotator rotator);

  Status PurgeCache(const TenantId& tenant);
  Status RotateKeys(const TenantId& tenant);
  void SuspendFeature(const TenantId& tenant, std::string_view feature);
  void SuspendRoute(const TenantId& tenant, std::string_view vendor);
  // Operator's resume (returns false when it was not suspended).
  bool ResumeFeature(const TenantId& tenant, std::string_view feature);
  bool ResumeRoute(const TenantId& tenant, std::string_view vendor);

  // True when this tenant's traffic for `feature` or to `vendor` is suspended.
  bool Suspended(const TenantId& tenant, std::string_view feature, std::string_view vendor) const;

 private:
  // Checked on every request: false until the first suspension, so the common
  // case takes no lock.
  std::atomic<bool> any_suspended_{false};
  mutable absl::Mutex mu_;
  CachePurger purger_ ABSL_GUARDED_BY(mu_);
  KeyRotator rotator_ ABSL_GUARDED_BY(mu_);
  std::set<std::pair<std::string, std::string>> features_ ABSL_GUARDED_BY(mu_);
  std::set<std::pair<std::string, std::string>> routes_ ABSL_GUARDED_BY(mu_);
};

}  // namespace phigate::gateway

#endif  // PHIGATE_GATEWAY_CONTAINMENT_H_
