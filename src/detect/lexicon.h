// The lexicon: every word the context rules know, lower-cased, with flags
// (first name, surname, city, common English word, title, relation...) and a
// name weight. Built once from the gazetteers in data/gazetteers plus the
// built-in clinical word lists; immutable afterwards.
#ifndef PHIGATE_SRC_DETECT_LEXICON_H_
#define PHIGATE_SRC_DETECT_LEXICON_H_

#include <cstdint>
#include <cstdlib>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "phigate/core/status.h"

namespace phigate::detect {

enum LexFlag : uint32_t {
  kLexFirstName = 1u << 0,
  kLexSurname = 1u << 1,
  kLexCommon = 1u << 2,      // a common English word (Debian wamerican, lower-case entries)
  kLexCity = 1u << 3,        // a one-word US city
  kLexCityStart = 1u << 4,   // first word of a multi-word city
  kLexState = 1u << 5,       // US state name or code
  kLexTitle = 1u << 6,       // Dr, Mr, Mrs, Ms ...
  kLexRelation = 1u << 7,    // son, daughter, wife ...
  kLexCredential = 1u << 8,  // RN, MD, RRT ...
  kLexFacility = 1u << 9,    // hospital, clinic, nursing ...
  kLexClinical = 1u << 10,   // clinical vocabulary and abbreviations: never a name alone
  kLexStop = 1u << 11,       // function words: never part of a name
  kLexNameVerb = 1u << 12,   // per, spoke, called, paged ... (a name may follow)
  kLexLocPrep = 1u << 13,    // in, from, to, at, near
  kLexMonth = 1u << 14,
  kLexCounty = 1u << 15,
  kLexStreetSuffix = 1u << 16,
  kLexWeekday = 1u << 17,
  // Cue words of single rules, so the rules test a flag instead of a string.
  kLexAnd = 1u << 18,           // and, &
  kLexUniversity = 1u << 19,    // university, univ, u, uof
  kLexSaint = 1u << 20,         // st, saint
  kLexFacilityHead = 1u << 21,  // hospital, clinic, center ... (ends a facility name)
  kLexResideVerb = 1u << 22,    // lives, resides, moved ...
  kLexWardCue = 1u << 23,       // on, per, transfer, admitted ... (a unit name may follow)
  kLexStrongCred = 1u << 24,    // RN, RRT, MD ... (a name precedes it)
  kLexCredTitle = 1u << 25,     // NP, RN, MD, RRT (a name may follow)
  kLexWeakHead = 1u << 26,      // home, living: a facility head only after "nursing", "assisted"
  kLexProperVocab =
      1u << 27,             // a clinical word its source writes only capitalised (brands, places)
  kLexWardVerb = 1u << 28,  // called, visited, states, aware ... (a person did it)
  kLexSubjectVerb = 1u << 29,    // is, was, will, told ... (follows a sentence's subject)
  kLexSectionHeader = 1u << 30,  // plan, skin, neuro ... (a clinical section's label)
  kLexPhraseStart = 1u << 31,    // first word of a NonPhiPhrases() entry
};

// Names that look like PHI but name a payer, a vehicle make or a clinical
// scale: "Blue Cross Blue Shield", "Kaiser Permanente", "Honda (Civic)",
// "Glasgow Coma Scale". Lower-case, words separated by one space.
struct NonPhiPhrase {
  enum Kind : uint8_t {
    kAlways,    // never PHI (unless a title, a relation word or a name comes right before it)
    kAfterCue,  // only after an insurance or vehicle word: "ins molina", "drives a Ford"
  };
  std::string_view words;
  Kind kind;
  bool make;  // a vehicle make: the model after it goes too ("Toyota Camry")
};
std::span<const NonPhiPhrase> NonPhiPhrases();

// A word of the built-in lists that frames a name or a place but is never one
// by itself: titles, relations, credentials, facility words (hospital,
// medical, nursing, county ...), function words, months, weekdays, street
// suffixes. Lower-case input.
bool IsFrameWord(std::string_view lower_word);

// A word that names the kind of a facility, not the facility: hospital,
// hosp, medical, center, clinic, nursing, home, children's ... Lower-case input.
bool IsFacilityWord(std::string_view lower_word);

// Allocates arrays of 1 MiB and more on 2 MiB boundaries and asks the kernel
// for transparent huge pages there: the lexicon's tables are read at random,
// and with 4 KiB pages nearly every lookup would also miss the TLB.
// aligned_alloc + madvise(MADV_HUGEPAGE); throws std::bad_alloc like operator new.
void* AllocateHuge(size_t bytes);
template <class T>
struct HugePageAllocator {
  using value_type = T;
  HugePageAllocator() = default;
  template <class U>
  explicit HugePageAllocator(const HugePageAllocator<U>&) {}
  static constexpr size_t kHuge = size_t{2} << 20;
  static bool Big(size_t n) { return n * sizeof(T) >= (size_t{1} << 20); }
  T* allocate(size_t n) {
    if (!Big(n)) return std::allocator<T>().allocate(n);
    return static_cast<T*>(AllocateHuge((n * sizeof(T) + kHuge - 1) / kHuge * kHuge));
  }
  void deallocate(T* p, size_t n) {
    if (!Big(n)) return std::allocator<T>().deallocate(p, n);
    std::free(p);
  }
  friend bool operator==(const HugePageAllocator&, const HugePageAllocator&) { return true; }
};

struct LexEntry {
  uint32_t flags = 0;
  float first_weight = 0;  // 0..1, how common as a first name
  float last_weight = 0;   // 0..1, how common as a surname
};

// The single edit that turns word `w` into `q`, if there is one: a deleted
// letter, an adjacent transposition, a substituted letter or an inserted
// letter (kNone: equal, or further apart).
enum class Edit { kNone, kDelete, kTranspose, kSubstitute, kInsert };
Edit SingleEdit(std::string_view q, std::string_view w);

namespace internal {
// A lexicon snapshot around `payload`: magic, digest, payload, checksum (what
// Lexicon::Snapshot() returns); for the snapshot fuzzer, which frames its
// input as a payload.
std::string FrameSnapshot(std::string_view payload, std::string_view source_digest);
}  // namespace internal

class Lexicon {
 public:
  // Loads data_dir/gazetteers/*.tsv|txt. Missing optional files are skipped;
  // a missing folder is NotFound. Malformed lines are InvalidArgument with the
  // file name and line number. Uses the build's snapshot (DefaultSnapshotPath())
  // when it was made from exactly these files and built-in lists, and builds
  // from the files otherwise: the same lexicon either way, and a process
  // starts ~3x sooner from the snapshot (docs/detect.md, "Lexicon snapshot").
  static Result<std::unique_ptr<Lexicon>> Load(const std::string& data_dir);
  // The same with another snapshot file; "" builds from the files.
  static Result<std::unique_ptr<Lexicon>> Load(const std::string& data_dir,
                                               const std::string& snapshot_path);
  // paths::LexiconSnapshotPath(): $PHIGATE_LEXICON_SNAPSHOT when set ("none" or
  // "" for no snapshot), else the installed tree's lexicon.snapshot, else the
  // file the build wrote (phigate_lexicon_snapshot_gen).
  static std::string DefaultSnapshotPath();
  // A fingerprint (32 hex digits; not cryptographic) of what a lexicon is
  // built from: the gazetteer files of data_dir (absent optional ones marked
  // as absent), the built-in word lists and the snapshot format's version.
  // NotFound without the name lists.
  static Result<std::string> SourceDigest(const std::string& data_dir);
  // The frozen lexicon as bytes, labelled with the digest of its sources.
  std::string Snapshot(std::string_view source_digest) const;
  // A lexicon from Snapshot()'s bytes. InvalidArgument when they were made
  // from other sources or are damaged (every length, offset and index is
  // checked, and a checksum covers the whole); never reads out of bounds.
  static Result<std::unique_ptr<Lexicon>> FromSnapshot(std::string_view bytes,
                                                       std::string_view source_digest);
  // True when this lexicon came from a snapshot.
  bool from_snapshot() const { return from_snapshot_; }

  // FNV-1a over lower-cased bytes; the tokenizer computes it on the fly.
  static constexpr uint64_t kHashSeed = 0xcbf29ce484222325ull;
  static constexpr uint64_t HashStep(uint64_t h, unsigned char lower_byte) {
    return (h ^ lower_byte) * 0x100000001b3ull;
  }
  static uint64_t Hash(std::string_view lower) {
    uint64_t h = kHashSeed;
    for (char c : lower) h = HashStep(h, static_cast<unsigned char>(c));
    return h;
  }

  // Looks up a lower-cased word; nullptr when unknown.
  const LexEntry* Find(std::string_view lower) const { return FindHashed(Hash(lower), lower); }
  // The same with the word's Hash() already computed.
  const LexEntry* FindHashed(uint64_t hash, std::string_view lower) const {
    return Probe<false>(hash, lower);
  }
  // The same for a word as written: ASCII capitals compare as lower case
  // (`hash` is the Hash() of the lower-cased word, as the tokenizer makes it).
  const LexEntry* FindHashedFolded(uint64_t hash, std::string_view word) const {
    return Probe<true>(hash, word);
  }
  // Starts loading the slot a later FindHashed*(hash, ...) reads first, so that
  // lookups of a run of words overlap their cache misses.
  void Prefetch(uint64_t hash) const { __builtin_prefetch(&table_[hash & mask_]); }
  bool IsMultiWordCity(std::string_view lower_phrase) const {
    return multi_cities_.contains(ToAbsl(lower_phrase));
  }
  // True when `lower` (4+ letters) begins a longer clinical word ("vanco" ->
  // "vancomycin"): clinical shorthand, not a name.
  bool IsClinicalPrefix(std::string_view lower) const;
  // True when `lower` begins a longer one-word town of the list, by 2+
  // letters ("phila" -> "philadelphia"): a town's name cut short.
  bool IsCityPrefix(std::string_view lower) const;
  // True when `lower` (5+ letters, not itself listed) is a misspelling of a
  // common English or clinical word: within Damerau edit distance 1 of one
  // (2 for words of 8+ letters), found with a SymSpell-style delete index
  // built at load. "epsiode" (episode), "apetite" (appetite), "klonipin".
  bool IsNearVocabulary(std::string_view lower, bool shorter = false) const;
  size_t size() const { return size_; }
  std::string version() const { return version_; }

 private:
  static Result<std::unique_ptr<Lexicon>> Build(const std::string& data_dir);
  void Add(std::string_view lower, uint32_t flags, float first_w, float last_w);
  Status LoadNames(const std::string& path, bool first);
  Status LoadCities(const std::string& path);
  Status LoadWords(const std::string& path, uint32_t flag);
  void AddBuiltins();
  // Builds the open-addressing lookup table from words_.
  void Freeze();

  // One 32-byte slot per word: a word of up to kInline bytes is stored in the
  // slot itself, so a lookup reads one cache line; a longer one in arena_
  // (its offset in the first 4 bytes of `chars`).
  static constexpr size_t kInline = 10;
  struct Slot {
    uint64_t hash = 0;
    LexEntry entry;
    uint16_t len = 0;  // 0 = empty slot
    char chars[kInline] = {};
  };
  static_assert(sizeof(Slot) == 32, "two slots per cache line");
  template <bool kFold>
  static bool SameWord(const char* stored, std::string_view w) {
    for (size_t k = 0; k < w.size(); ++k) {
      char c = w[k];
      if (kFold && c >= 'A' && c <= 'Z') c = static_cast<char>(c + 32);
      if (stored[k] != c) return false;
    }
    return true;
  }
  template <bool kFold>
  const LexEntry* Probe(uint64_t hash, std::string_view w) const {
    size_t i = hash & mask_;
    while (true) {
      const Slot& s = table_[i];
      if (s.len == 0) return nullptr;
      if (s.hash == hash && s.len == w.size()) {
        const char* stored = s.chars;
        if (s.len > kInline) {
          uint32_t offset;
          __builtin_memcpy(&offset, s.chars, sizeof offset);
          stored = arena_.data() + offset;
        }
        if (SameWord<kFold>(stored, w)) return &s.entry;
      }
      i = (i + 1) & mask_;
    }
  }
  std::vector<Slot, HugePageAllocator<Slot>> table_;
  std::vector<std::string> clinical_sorted_;
  std::vector<std::string> cities_sorted_;  // one-word towns, sorted
  // The delete index: (hash of a vocabulary word or of the word with one
  // letter deleted, index into vocab_), sorted by hash.
  std::vector<std::pair<uint64_t, uint32_t>, HugePageAllocator<std::pair<uint64_t, uint32_t>>>
      deletes_;
  // One bit per delete hash (16+ bits per entry, ~6 % false hits): most probes
  // miss, and the bit test spares them the binary search over deletes_.
  std::vector<uint64_t> delete_filter_;
  int delete_filter_shift_ = 64;
  std::vector<std::string> vocab_;
  std::vector<bool> vocab_proper_;  // only capitalised in its source (brand, eponym, place)
  std::string arena_;
  size_t mask_ = 0;

  absl::flat_hash_map<std::string, LexEntry> words_;  // while loading; empty once frozen
  size_t size_ = 0;                                   // words in the frozen table
  absl::flat_hash_set<std::string> multi_cities_;
  std::string version_;
  bool from_snapshot_ = false;
};

}  // namespace phigate::detect

#endif  // PHIGATE_SRC_DETECT_LEXICON_H_
