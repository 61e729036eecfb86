#include "phigate/core/ids.h"

namespace phigate {

Result<TenantId> MakeTenantId(std::string_view raw) {
  if (raw.empty() || raw.size() > 64) {
    return absl::InvalidArgumentError("tenant id must be 1 to 64 characters");
  }
  for (char c : raw) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                    c == '_' || c == '-' || c == '.';
    if (!ok) return absl::InvalidArgumentError("tenant id may hold only [A-Za-z0-9_.-]");
  }
  return TenantId(std::string(raw));
}

}  // namespace phigate
