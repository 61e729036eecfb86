// Conflict resolution: turns overlapping candidate findings into one sorted,
// disjoint set (Presidio's ConflictResolutionStrategy).
#ifndef PHIGATE_SRC_DETECT_RESOLVE_H_
#define PHIGATE_SRC_DETECT_RESOLVE_H_

#include <string_view>

#include "phigate/core/finding.h"

namespace phigate::detect {

enum class ConflictPolicy {
  // Overlaps merge into one span; its category is the one of the highest-scoring
  // candidate (ties: the longer one). No PHI byte any candidate covered is lost.
  kMergeKeepCoverage,
};

// Sorts *findings by begin and resolves overlaps. Afterwards spans are disjoint
// and non-empty. Adjacent spans of the same category separated only by
// spaces/tabs (or an initial's period) in `text` are joined into one.
void ResolveConflicts(std::string_view text, Findings* findings,
                      ConflictPolicy policy = ConflictPolicy::kMergeKeepCoverage);

}  // namespace phigate::detect

#endif  // PHIGATE_SRC_DETECT_RESOLVE_H_
