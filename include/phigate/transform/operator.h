// Operators turn one finding into its replacement text (Presidio's operators).
//
// Built in: "placeholder" ([NAME], [DATE]; the format is configurable), "mask"
// (every character but separators becomes '*'), "generalize" (Safe Harbor:
// keep the year of a date, ages over 89 -> "90 or older", ZIP -> 3 digits or
// 000). Reversible operators ("tokenize", "surrogate") keep the original in a
// vault; they plug in through the same interface with their own context.
//
// Example:
//   auto redactor = Redactor::Create(RedactorOptions{}).value();
//   std::string safe = redactor->Apply(note, findings).value();
#ifndef PHIGATE_TRANSFORM_OPERATOR_H_
#define PHIGATE_TRANSFORM_OPERATOR_H_

#include <array>
#include <map>
#include <memory>
#include <string>
#include <string_view>

#include "phigate/core/finding.h"
#include "phigate/core/phi_category.h"
#include "phigate/core/status.h"

namespace phigate::transform {

// Free-form operator parameters from config, checked by Operator::Validate()
// when a policy loads.
using OperatorParams = std::map<std::string, std::string, std::less<>>;

// Per-call state an operator may use (vault handle, scope, counters). Reversible
// operators downcast to their own subclass.
class TransformContext {
 public:
  virtual ~TransformContext() = default;
};

class Operator {
 public:
  virtual ~Operator() = default;
  virtual std::string_view name() const = 0;  // "placeholder", "mask", "generalize", ...
  virtual Status Validate(const OperatorParams& params) const = 0;
  // The replacement text for one finding; `original` is the finding's text.
  virtual Result<std::string> Apply(std::string_view original, const Finding& finding,
                                    const OperatorParams& params, TransformContext& ctx) const = 0;
};

}  // namespace phigate::transform

#endif  // PHIGATE_TRANSFORM_OPERATOR_H_
