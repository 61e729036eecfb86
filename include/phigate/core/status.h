// Status and Result: the error model of every phigate API.
//
// phigate uses absl::Status / absl::StatusOr (Debian's libabsl-dev 20220623).
// The aliases keep that choice in one file. Error messages must never hold PHI:
// they name offsets, categories, counts and ids, never the scanned text.
//
// Example:
//   phigate::Result<int> ParsePort(std::string_view s);
//   PHIGATE_ASSIGN_OR_RETURN(int port, ParsePort(arg));
#ifndef PHIGATE_CORE_STATUS_H_
#define PHIGATE_CORE_STATUS_H_

#include <string>
#include <string_view>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace phigate {

using Status = absl::Status;
template <class T>
using Result = absl::StatusOr<T>;

// Debian's Abseil is built with ABSL_OPTION_USE_STD_STRING_VIEW 0, so
// absl::string_view is its own type. Convert at the call.
inline absl::string_view ToAbsl(std::string_view sv) { return {sv.data(), sv.size()}; }
inline std::string_view FromAbsl(absl::string_view sv) { return {sv.data(), sv.size()}; }

}  // namespace phigate

#define PHIGATE_RETURN_IF_ERROR(expr)                                     \
  do {                                                                    \
    if (::absl::Status phigate_status_ = (expr); !phigate_status_.ok()) { \
      return phigate_status_;                                             \
    }                                                                     \
  } while (false)

#define PHIGATE_STATUS_CONCAT_INNER_(a, b) a##b
#define PHIGATE_STATUS_CONCAT_(a, b) PHIGATE_STATUS_CONCAT_INNER_(a, b)

// PHIGATE_ASSIGN_OR_RETURN(lhs, rexpr): expands to several statements; never
// use it as the body of an unbraced if (the warning in Abseil's own macro).
#define PHIGATE_ASSIGN_OR_RETURN(lhs, rexpr) \
  PHIGATE_ASSIGN_OR_RETURN_IMPL_(PHIGATE_STATUS_CONCAT_(phigate_result_, __LINE__), lhs, rexpr)
#define PHIGATE_ASSIGN_OR_RETURN_IMPL_(result, lhs, rexpr) \
  auto result = (rexpr);                                   \
  if (!result.ok()) return std::move(result).status();     \
  lhs = std::move(result).value()

#endif  // PHIGATE_CORE_STATUS_H_
