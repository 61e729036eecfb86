// Redactor: applies one operator per PHI category to the findings of a text.
//
// Built-in operators (no vault needed):
//   placeholder  "[NAME]", "[DATE]" (format configurable: "{type}" is the
//                category name, e.g. "<{type}>" or "[{type}]")
//   mask         every letter and digit becomes '*', separators stay
//   generalize   Safe Harbor generalisation: dates keep only their year (or
//                become "[DATE]"), ages over 89 become "90 or older", ZIP codes
//                keep their first three digits ("021**") or "000**" for the
//                restricted prefixes (data/gazetteers/zip3.tsv, list census2020
//                by default); other categories fall back to the placeholder
// Reversible operators (tokenize, surrogate) are registered by the vault module
// through RegisterOperator().
//
// Example:
//   PHIGATE_ASSIGN_OR_RETURN(auto redactor, Redactor::Create({}));
//   PHIGATE_ASSIGN_OR_RETURN(std::string safe, redactor->Apply(note, findings));
#ifndef PHIGATE_TRANSFORM_REDACTOR_H_
#define PHIGATE_TRANSFORM_REDACTOR_H_

#include <array>
#include <memory>
#include <string>
#include <string_view>

#include "phigate/core/finding.h"
#include "phigate/core/phi_category.h"
#include "phigate/core/status.h"
#include "phigate/transform/operator.h"

namespace phigate::transform {

struct RedactorOptions {
  // Operator per category by name; "placeholder" for all by default.
  std::array<std::string, kNumPhiCategories> operator_for;
  std::string default_operator = "placeholder";
  // Placeholder format; "{type}" is replaced by CategoryName() or, when
  // coarse_placeholders is set, by a coarse type (NAME, LOCATION, DATE, ID...).
  std::string placeholder_format = "[{type}]";
  bool coarse_placeholders = true;
  // generalize: which restricted ZIP3 list applies (hhs2000, census2010, census2020).
  std::string zip3_list = "census2020";
  // Folder holding gazetteers/zip3.tsv; empty = paths::DataDir() (phigate/core/paths.h).
  std::string data_dir;
  // generalize: a year Y with reference_year - Y >= 90 could be the birth year
  // of someone aged 90 or older (Safe Harbor: such years are aggregated), so it
  // becomes "<reference_year - 90> or earlier". 0 = the current year.
  int reference_year = 0;
};

class Redactor {
 public:
  // InvalidArgument for an unknown operator name or bad parameters.
  static Result<std::unique_ptr<Redactor>> Create(const RedactorOptions& options);
  ~Redactor();

  // Replaces every finding of `text` by its operator's output. REQUIRES: findings
  // sorted by begin and disjoint (as Engine::Scan returns them), within text.
  // Out-of-range or overlapping findings are InvalidArgument (never a partial result).
  Result<std::string> Apply(std::string_view text, const Findings& findings) const;
  Result<std::string> Apply(std::string_view text, const Findings& findings,
                            TransformContext& ctx) const;

  // Adds (or replaces) an operator, e.g. the vault's "tokenize". Not thread-safe:
  // call before sharing the Redactor.
  void RegisterOperator(std::unique_ptr<Operator> op);
  // Sets the operator of one category. InvalidArgument if no such operator.
  Status SetOperator(PhiCategory category, std::string_view name);

 private:
  struct Impl;
  explicit Redactor(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

// The placeholder text for one category under `format` ("[{type}]" -> "[NAME]").
std::string PlaceholderFor(PhiCategory category, std::string_view format, bool coarse);

}  // namespace phigate::transform

#endif  // PHIGATE_TRANSFORM_REDACTOR_H_
