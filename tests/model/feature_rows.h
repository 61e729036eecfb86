// Test helper shared by the model tests: the feature rows the extractor
// produces for a text (tokenized here), optionally with rule findings as hints.
#ifndef PHIGATE_TESTS_MODEL_FEATURE_ROWS_H_
#define PHIGATE_TESTS_MODEL_FEATURE_ROWS_H_

#include <cstdint>
#include <string_view>
#include <vector>

#include "phigate/model/features.h"

namespace phigate::model::testing {

inline std::vector<uint32_t> Rows(const FeatureExtractor& fx, std::string_view text,
                                  const std::vector<Finding>& rules = {}) {
  std::vector<Token> toks;
  Tokenize(text, &toks);
  std::vector<RuleHint> hints;
  if (!rules.empty()) TokenHints(toks, rules, &hints);
  std::vector<uint32_t> rows;
  fx.Extract(text, toks, &rows, false, hints);
  return rows;
}

}  // namespace phigate::model::testing

#endif  // PHIGATE_TESTS_MODEL_FEATURE_ROWS_H_
