// Finding: a typed, scored PHI span. Holds offsets into the scanned text,
// never the text, so it can be logged, counted and audited without carrying PHI.
#ifndef PHIGATE_CORE_FINDING_H_
#define PHIGATE_CORE_FINDING_H_

#include <cstddef>
#include <string_view>
#include <vector>

#include "phigate/core/phi_category.h"

namespace phigate {

struct Finding {
  PhiCategory category = PhiCategory::kOtherId;
  size_t begin = 0;  // byte offsets into the UTF-8 text, [begin, end)
  size_t end = 0;
  float score = 0.0f;           // 0..1 after validation and context
  std::string_view recognizer;  // static name, e.g. "us_ssn"; points to static storage

  size_t size() const { return end - begin; }
  friend bool operator==(const Finding& a, const Finding& b) {
    return a.category == b.category && a.begin == b.begin && a.end == b.end;
  }
};

using Findings = std::vector<Finding>;

}  // namespace phigate

#endif  // PHIGATE_CORE_FINDING_H_
