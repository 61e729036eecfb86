#include "phigate/gateway/containment.h"

#include "absl/status/status.h"

namespace phigate::gateway {

void ContainmentControls::SetCachePurger(CachePurger purger) {
  absl::MutexLock l(&mu_);
  purger_ = std::move(purger);
}

void ContainmentControls::SetKeyRotator(KeyRotator rotator) {
  absl::MutexLock l(&mu_);
  rotator_ = std::move(rotator);
}

Status ContainmentControls::PurgeCache(const TenantId& tenant) {
  CachePurger purger;
  {
    absl::MutexLock l(&mu_);
    purger = purger_;
  }
  if (!purger) return absl::FailedPreconditionError("no response cache to purge");
  purger(tenant);
  return absl::OkStatus();
}

Status ContainmentControls::RotateKeys(const TenantId& tenant) {
  KeyRotator rotator;
  {
    absl::MutexLock l(&mu_);
    rotator = rotator_;
  }
  if (!rotator) return absl::FailedPreconditionError("no vault to rotate keys in");
  return rotator(tenant);
}

void ContainmentControls::SuspendFeature(const TenantId& tenant, std::string_view feature) {
  absl::MutexLock l(&mu_);
  features_.emplace(tenant.value(), std::string(feature));
  any_suspended_.store(true, std::memory_order_release);
}

void ContainmentControls::SuspendRoute(const TenantId& tenant, std::string_view vendor) {
  absl::MutexLock l(&mu_);
  routes_.emplace(tenant.value(), std::string(vendor));
  any_suspended_.store(true, std::memory_order_release);
}

bool ContainmentControls::ResumeFeature(const TenantId& tenant, std::string_view feature) {
  absl::MutexLock l(&mu_);
  return features_.erase({tenant.value(), std::string(feature)}) > 0;
}

bool ContainmentControls::ResumeRoute(const TenantId& tenant, std::string_view vendor) {
  absl::MutexLock l(&mu_);
  return routes_.erase({tenant.value(), std::string(vendor)}) > 0;
}

bool ContainmentControls::Suspended(const TenantId& tenant, std::string_view feature,
                                    std::string_view vendor) const {
  if (!any_suspended_.load(std::memory_order_acquire)) return false;
  absl::MutexLock l(&mu_);
  return features_.contains({tenant.value(), std::string(feature)}) ||
         routes_.contains({tenant.value(), std::string(vendor)});
}

}  // namespace phigate::gateway
