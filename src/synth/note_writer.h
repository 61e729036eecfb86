// The interface the style scripts (templates.cc) write notes through.
//
// Template syntax, expanded by T():
//   {key}        a value: PHI ({pt}, {dob}, {mrn} ...) or filler ({hr}, {med} ...)
//   [a|b|c]      one alternative at random (alternatives may hold {keys}, no nesting)
//   [?text]      text half of the time
//   anything else is literal text.
// One T() call is one segment: if it writes a PHI class outside the allowed
// set, the whole segment is left out.
#ifndef PHIGATE_SRC_SYNTH_NOTE_WRITER_H_
#define PHIGATE_SRC_SYNTH_NOTE_WRITER_H_

#include <cstddef>
#include <span>
#include <string_view>

#include "phigate/synth/generator.h"
#include "src/synth/rng.h"

namespace phigate::synth::internal {

class NoteWriter {
 public:
  virtual ~NoteWriter() = default;
  virtual void T(std::string_view tpl) = 0;
  virtual Rng& rng() = 0;
  // Bytes written so far; with CaseSince() re-cases what was written after a mark.
  virtual size_t size() const = 0;
  virtual void CaseSince(size_t mark, bool upper) = 0;
  virtual bool female() const = 0;
  // Picks the relative that {rel}/{relrole} refer to for the next templates.
  virtual void NextRelative() = 0;

  void Pick(std::span<const std::string_view> choices) { T(choices[rng().Below(choices.size())]); }
  bool Chance(double p) { return rng().Chance(p); }
};

// Writes one note of the given style (not kMix).
void WriteStyle(Style style, NoteWriter& w);

}  // namespace phigate::synth::internal

#endif  // PHIGATE_SRC_SYNTH_NOTE_WRITER_H_
