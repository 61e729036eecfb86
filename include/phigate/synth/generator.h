// Synthetic PHI generator: realistic English clinical notes with exact labels.
//
// Every test fixture and benchmark corpus of the project comes from here, so
// no fixture ever holds a real person's data. Each note is built from
// templates of one of several styles (ICU nursing notes, discharge summaries,
// referral letters, telegraphic upper-case notes, sloppy lower-case notes,
// lab/radiology headers, emails between clinicians, patient portal messages,
// ED/MVC notes, registration face sheets) filled with synthetic values of
// every Safe Harbor class; the generator records the byte span of each value.
//
// Values: names from data/gazetteers/{first_names,surnames}.tsv when present
// (a built-in list of invented names otherwise) plus ~20 % names invented from
// syllables; cities from data/gazetteers/us_cities.tsv (built-in fallback);
// streets, facilities and every identifier invented, with valid check digits
// where the format has one (NPI, DEA, VIN, MBI, UDI's GTIN).
//
// Output is a pure function of (options, data files): the PRNG is our own
// xoshiro256**, no std:: distributions, so it is identical across compilers.
//
// Example:
//   phigate::synth::GeneratorOptions opts;
//   opts.seed = 7;
//   auto gen = phigate::synth::Generator::Create(opts);
//   if (!gen.ok()) return gen.status();
//   phigate::synth::Note note = (*gen)->Generate();
//   for (const auto& s : note.spans) {
//     std::string_view value(note.text.data() + s.begin, s.end - s.begin);
//   }
#ifndef PHIGATE_SYNTH_GENERATOR_H_
#define PHIGATE_SYNTH_GENERATOR_H_

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "phigate/core/phi_category.h"
#include "phigate/core/status.h"

namespace phigate::synth {

// One labelled PHI value: byte offsets [begin, end) into Note::text.
struct LabeledSpan {
  size_t begin = 0;
  size_t end = 0;
  PhiCategory category = PhiCategory::kOtherId;
  friend bool operator==(const LabeledSpan&, const LabeledSpan&) = default;
};

// Text that looks like PHI but is not PHI under Safe Harbor (a bare year, a
// US state, an age of 89 or less). Written as "phi": false reference spans so
// that a scorer neither asks for them nor counts them as false positives.
// Neutral reference spans ("phi": false): a year alone, a state, an age of 89
// or less, and the generic head of a facility name ("General Hospital" in
// "Calvert General Hospital"; the name part is the PHI, as in the PhysioNet
// gold standard, where the place word is labelled and "HOSPITAL" is not).
enum class ReferenceKind : uint8_t { kYear, kState, kAge, kFacilityType };
struct ReferenceSpan {
  size_t begin = 0;
  size_t end = 0;
  ReferenceKind kind = ReferenceKind::kYear;
  friend bool operator==(const ReferenceSpan&, const ReferenceSpan&) = default;
};

struct Note {
  std::string id;                         // "synth-<seed>-<index>"
  std::string patient_id;                 // "p<seed>-<index>"; several notes share one patient
  std::string style;                      // StyleName() of the template family used
  std::string text;                       // valid UTF-8
  std::vector<LabeledSpan> spans;         // sorted, non-overlapping, non-empty
  std::vector<ReferenceSpan> references;  // sorted, disjoint from spans
};

enum class Style : uint8_t {
  kMix = 0,    // every style below, weighted
  kIcu,        // ICU nursing progress note (mixed case)
  kDischarge,  // discharge summary with a demographic header
  kReferral,   // referral / consult letter with letterhead and signature
  kUpper,      // telegraphic upper-case nursing note
  kLower,      // sloppy lower-case note, abbreviations, typos
  kLab,        // lab and radiology report headers and results
  kEmail,      // email between clinicians
  kPortal,     // patient portal message
  kEd,         // emergency department / trauma note (MVC: vehicle, plate)
  kFacesheet,  // registration face sheet: every demographic and identifier
};
inline constexpr size_t kNumStyles = 11;

std::string_view StyleName(Style s);
// Case-insensitive. nullopt when unknown.
std::optional<Style> ParseStyle(std::string_view name);
// Every style name (for --help texts).
std::span<const std::string_view> StyleNames();

struct GeneratorOptions {
  uint64_t seed = 1;
  // Folder holding first_names.tsv, surnames.tsv and us_cities.tsv, either
  // directly or under gazetteers/ (so the repository's data/ works). Empty or
  // missing files: the built-in lists of invented names and a few cities.
  std::string data_dir;
  Style style = Style::kMix;
  // Only these classes appear in the text: template lines that would write
  // another class are left out. Default: all.
  CategorySet categories = CategorySet::All();
  // Share of names invented from syllables rather than drawn from the lists.
  double invented_name_share = 0.2;
  // Each patient gets 1..max_notes_per_patient notes (consecutive in output).
  uint32_t max_notes_per_patient = 5;
};

// Where the generator's name and city values come from (for logs and docs).
struct DataSources {
  size_t first_names = 0;
  size_t surnames = 0;
  size_t cities = 0;
  bool first_names_builtin = true;
  bool surnames_builtin = true;
  bool cities_builtin = true;
};

// Not thread-safe: one Generator per thread (give each its own seed).
class Generator {
 public:
  // Fails (InvalidArgument) on an unreadable or malformed gazetteer that
  // exists, or on an empty category set. Missing files fall back to built-ins.
  static Result<std::unique_ptr<Generator>> Create(const GeneratorOptions& options);

  ~Generator();
  Generator(const Generator&) = delete;  // owns a PRNG stream; copies would repeat it
  Generator& operator=(const Generator&) = delete;

  // The next note of the stream. Same options => same sequence of notes.
  Note Generate();
  // n calls of Generate().
  std::vector<Note> GenerateMany(size_t n);

  const DataSources& data_sources() const;

 private:
  struct Impl;
  explicit Generator(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

// Serialisation as a JSONL record compatible with ../shared/data and
// ../shared/tools/score.py: {"id","patient_id","style","text","spans":[{"start",
// "end","type","category","phi":true,"text"}, ... reference spans with
// "phi":false]}. Offsets are code points (default, like the shared corpora) or
// UTF-8 bytes. No trailing newline.
enum class OffsetUnit : uint8_t { kCodePoint, kUtf8 };
std::string NoteToJson(const Note& note, OffsetUnit unit = OffsetUnit::kCodePoint);

// JSON string escaping (quotes included) of valid UTF-8.
void AppendJsonString(std::string_view s, std::string* out);

}  // namespace phigate::synth

#endif  // PHIGATE_SYNTH_GENERATOR_H_
