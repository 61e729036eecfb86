// Strongly typed identifiers. A TenantId is never a bare std::string, so a
// store or vault handle cannot be given a user id or a patient string by mistake.
#ifndef PHIGATE_CORE_IDS_H_
#define PHIGATE_CORE_IDS_H_

#include <string>
#include <string_view>
#include <utility>

#include "phigate/core/status.h"

namespace phigate {

template <class Tag>
class StrongId {
 public:
  StrongId() = default;
  explicit StrongId(std::string v) : value_(std::move(v)) {}
  const std::string& value() const { return value_; }
  bool empty() const { return value_.empty(); }
  friend bool operator==(const StrongId&, const StrongId&) = default;
  friend auto operator<=>(const StrongId&, const StrongId&) = default;
  template <typename H>
  friend H AbslHashValue(H h, const StrongId& id) {
    return H::combine(std::move(h), id.value_);
  }

 private:
  std::string value_;
};

struct TenantTag {};
struct UserTag {};
struct RequestTag {};
using TenantId = StrongId<TenantTag>;
using UserId = StrongId<UserTag>;
using RequestId = StrongId<RequestTag>;

// Tenant ids are 1..64 characters of [A-Za-z0-9_.-]; anything else is
// InvalidArgument. They appear in file names, SQL and audit records.
Result<TenantId> MakeTenantId(std::string_view raw);

}  // namespace phigate

#endif  // PHIGATE_CORE_IDS_H_
