// Fuzzes the lexicon snapshot reader (Lexicon::FromSnapshot). The input is a
// snapshot's payload: the harness frames it as Snapshot() does (magic,
// digest, length, checksum), so the fuzzer reaches the structural checks
// instead of stopping at the checksum. Properties: no crash or out-of-bounds read, for
// the restore and for lookups in whatever it accepts; what it accepts
// snapshots back to the same payload.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "src/detect/lexicon.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using phigate::detect::Lexicon;
  const std::string_view payload(reinterpret_cast<const char*>(data), size);
  const std::string_view digest = "fuzz";
  const std::string bytes = phigate::detect::internal::FrameSnapshot(payload, digest);
  auto lex = Lexicon::FromSnapshot(bytes, digest);
  if (!lex.ok()) return 0;
  const Lexicon& l = **lex;
  for (std::string_view w : {"street", "smith", "boston", "vancomycin", "apetite", "san francisco",
                             "qzxvbnmwq", "a", "philad", "x"}) {
    (void)l.Find(w);
    (void)l.IsNearVocabulary(w);
    (void)l.IsNearVocabulary(w, true);
    (void)l.IsClinicalPrefix(w);
    (void)l.IsCityPrefix(w);
    (void)l.IsMultiWordCity(w);
  }
  // Accepted bytes are a snapshot: written again, the same bytes.
  if (l.Snapshot(digest) != bytes) std::abort();
  return 0;
}
