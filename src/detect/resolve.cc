#include "src/detect/resolve.h"

#include <algorithm>

namespace phigate::detect {
namespace {

// True when text[a, b) holds only spaces/tabs, or ". " after an initial.
bool JoinableGap(std::string_view text, size_t a, size_t b) {
  if (b < a || b - a > 3) return false;
  for (size_t i = a; i < b; ++i) {
    const char c = text[i];
    if (c != ' ' && c != '\t' && c != '.') return false;
  }
  return true;
}

}  // namespace

void ResolveConflicts(std::string_view text, Findings* findings, ConflictPolicy /*policy*/) {
  Findings& f = *findings;
  f.erase(std::remove_if(f.begin(), f.end(), [](const Finding& x) { return x.end <= x.begin; }),
          f.end());
  if (f.size() < 2) return;
  // A total order on everything the merge reads, so the result depends only on
  // the set of candidates, never on the order they were reported in (which
  // std::sort would otherwise leave to chance for exact ties: same span and
  // score, two categories). Ties: the higher score, then the lower category,
  // then the recognizer's name.
  std::sort(f.begin(), f.end(), [](const Finding& a, const Finding& b) {
    if (a.begin != b.begin) return a.begin < b.begin;
    if (a.end != b.end) return a.end > b.end;
    if (a.score != b.score) return a.score > b.score;
    if (a.category != b.category) return a.category < b.category;
    return a.recognizer < b.recognizer;
  });
  // Merged in place: f[0, w) is the output so far (w <= r, so x is never overwritten).
  size_t w = 0;
  for (size_t r = 0; r < f.size(); ++r) {
    const Finding x = f[r];
    if (w > 0) {
      Finding& last = f[w - 1];
      const bool overlap = x.begin < last.end;
      const bool join =
          !overlap && x.category == last.category && JoinableGap(text, last.end, x.begin);
      if (overlap || join) {
        // The winner's category: higher score, then longer span.
        const bool x_wins =
            x.score > last.score || (x.score == last.score && x.size() > last.size());
        if (x_wins && overlap) {
          last.category = x.category;
          last.recognizer = x.recognizer;
        }
        last.score = std::max(last.score, x.score);
        last.end = std::max(last.end, x.end);
        continue;
      }
    }
    f[w++] = x;
  }
  f.resize(w);
}

}  // namespace phigate::detect
