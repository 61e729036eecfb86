// The data-flow report for a compliance review: which PHI categories each
// feature sends to which vendor and model, under which BAA, in which form, and
// which jurisdictions shape that — as Markdown and as a Graphviz DOT diagram.
//
// Example:
//   auto report = phigate::policy::BuildDataflowReport(*policy, {.at = absl::Now()});
//   WriteFile("dataflow/dataflow.md", report.markdown);
//   WriteFile("dataflow/dataflow.dot", report.dot);
#ifndef PHIGATE_POLICY_DATAFLOW_H_
#define PHIGATE_POLICY_DATAFLOW_H_

#include <string>

#include "absl/time/time.h"
#include "phigate/policy/policy.h"

namespace phigate::policy {

struct DataflowOptions {
  absl::Time at = absl::Now();  // BAA status and decisions are computed at this time
  std::string tenant;           // empty = every tenant
  int expiry_warning_days = 30;
};

struct DataflowReport {
  std::string markdown;
  std::string dot;
};

// Pure function of the policy and options; holds ids, categories and dates only.
DataflowReport BuildDataflowReport(const Policy& policy, const DataflowOptions& options);

}  // namespace phigate::policy

#endif  // PHIGATE_POLICY_DATAFLOW_H_
