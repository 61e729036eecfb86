// Label consistency within a group of notes (one patient's notes): a word the
// detection found as part of a name or a place in most of its occurrences in
// the group is PHI in its other occurrences too — "Harbor" found twice as a
// place in a patient's notes makes the lower-case "harbor" of a third note of
// the same patient a place. De-identification systems call this propagation;
// PhysioNet's deid.pl does the like with each patient's known names.
//
// A word is a maximal run of letters (ASCII letters and the bytes of non-ASCII
// UTF-8 characters), compared without ASCII case. It propagates when
//   - at least `min_found` of its occurrences in the group are covered by a
//     name or place finding (a category of evaluation type NAME or LOCATION:
//     names, street addresses, cities, ZIP codes, facilities, other places), and
//   - those are at least `min_share` of all its whole-word occurrences,
// and it has at least `min_letters` letters and is not a word that frames a
// name or place without being one (a title, relation, credential, facility
// word such as "medical", "nursing" or "county", function word, month,
// weekday or street suffix: "Nursing" of "Lakeside Nursing Home" says nothing
// of "nursing note"). Each of its occurrences that no
// finding touches gets a finding of the category most of the found ones had,
// scored `score`, recognizer kPropagatedRecognizer. Nothing else changes: findings are
// only added, and each note's findings are sorted by begin on return.
//
// The words are held in memory for the call only; nothing is logged.
//
// Example (a batch of one patient's notes, after Engine::Scan of each):
//   std::vector<std::string_view> texts = {note1, note2, note3};
//   std::vector<Findings> found = {f1, f2, f3};
//   size_t added = detect::PropagateInGroup(texts, found);
#ifndef PHIGATE_DETECT_PROPAGATE_H_
#define PHIGATE_DETECT_PROPAGATE_H_

#include <cstddef>
#include <span>
#include <string_view>

#include "phigate/core/finding.h"

namespace phigate::detect {

// Finding::recognizer of the findings PropagateInGroup adds.
inline constexpr std::string_view kPropagatedRecognizer = "propagated";

struct PropagateOptions {
  size_t min_found = 2;    // occurrences found as a name or place
  double min_share = 0.5;  // found occurrences / all occurrences in the group
  size_t min_letters = 3;  // shorter words never propagate
  float score = 0.6f;      // score of an added finding
};

// True for the categories whose words propagate: names and places
// (evaluation type NAME or LOCATION).
bool IsPropagatedCategory(PhiCategory c);

// texts[i] is a note of the group, (*findings)[i] its findings (byte offsets
// into texts[i]; any order on entry, sorted by begin on return). Returns the
// number of findings added. Notes beyond the shorter of the two spans are
// left alone.
size_t PropagateInGroup(std::span<const std::string_view> texts, std::span<Findings> findings,
                        const PropagateOptions& options = PropagateOptions{});

}  // namespace phigate::detect

#endif  // PHIGATE_DETECT_PROPAGATE_H_
