// Notes of the project's generator (synthetic values only), one per line,
// shared by the detect tests; empty if the generator cannot be created.
#ifndef PHIGATE_TESTS_DETECT_GENERATED_NOTES_H_
#define PHIGATE_TESTS_DETECT_GENERATED_NOTES_H_

#include <cstdint>
#include <string>

#include "phigate/synth/generator.h"

namespace phigate::detect::testing {

inline std::string GeneratedNotes(uint64_t seed, int notes) {
  synth::GeneratorOptions o;
  o.seed = seed;
  auto gen = synth::Generator::Create(o);
  if (!gen.ok()) return "";
  std::string text;
  for (int i = 0; i < notes; ++i) text += (*gen)->Generate().text + "\n";
  return text;
}

}  // namespace phigate::detect::testing

#endif  // PHIGATE_TESTS_DETECT_GENERATED_NOTES_H_
