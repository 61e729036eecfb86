// gtest helpers for Status/Result (Debian's Abseil has none).
#ifndef PHIGATE_TESTS_TESTING_STATUS_MATCHERS_H_
#define PHIGATE_TESTS_TESTING_STATUS_MATCHERS_H_

#include <cstdlib>
#include <string>

#include "gtest/gtest.h"
#include "phigate/core/status.h"

namespace phigate::testing {

inline const Status& GetStatus(const Status& s) { return s; }
template <class T>
const Status& GetStatus(const Result<T>& r) {
  return r.status();
}

// The repository root, from the PHIGATE_SOURCE_DIR that ctest sets.
inline std::string SourceDir() {
  const char* d = std::getenv("PHIGATE_SOURCE_DIR");
  return d != nullptr ? d : ".";
}

}  // namespace phigate::testing

#define PHIGATE_EXPECT_OK(expr) \
  EXPECT_TRUE(::phigate::testing::GetStatus(expr).ok()) << ::phigate::testing::GetStatus(expr)
#define PHIGATE_ASSERT_OK(expr) \
  ASSERT_TRUE(::phigate::testing::GetStatus(expr).ok()) << ::phigate::testing::GetStatus(expr)
#define PHIGATE_ASSERT_OK_AND_ASSIGN(lhs, rexpr)                                                  \
  PHIGATE_ASSERT_OK_AND_ASSIGN_IMPL_(PHIGATE_STATUS_CONCAT_(phigate_test_result_, __LINE__), lhs, \
                                     rexpr)
#define PHIGATE_ASSERT_OK_AND_ASSIGN_IMPL_(result, lhs, rexpr) \
  auto result = (rexpr);                                       \
  ASSERT_TRUE(result.ok()) << result.status();                 \
  lhs = std::move(result).value()

#endif  // PHIGATE_TESTS_TESTING_STATUS_MATCHERS_H_
