// Build-time generator of the lexicon snapshot (lexicon.h):
//   lexicon_snapshot_gen DATA_DIR OUT
// builds the lexicon from DATA_DIR/gazetteers and the built-in lists and
// writes its snapshot, labelled with the digest of those sources, to OUT
// (through a temporary file and a rename, so an interrupted build leaves no
// truncated snapshot). Lexicon::Load() uses it only for the same sources.
#include <cstdio>
#include <string>

#include "src/detect/gen/write_file.h"
#include "src/detect/lexicon.h"

int main(int argc, char** argv) {
  if (argc != 3) {
    std::fprintf(stderr, "usage: lexicon_snapshot_gen DATA_DIR OUT\n");
    return 2;
  }
  const std::string data_dir = argv[1], path = argv[2];
  auto lex = phigate::detect::Lexicon::Load(data_dir, /*snapshot_path=*/"");
  auto digest = phigate::detect::Lexicon::SourceDigest(data_dir);
  if (!lex.ok() || !digest.ok()) {
    const auto& st = lex.ok() ? digest.status() : lex.status();
    std::fprintf(stderr, "lexicon_snapshot_gen: %s\n", st.ToString().c_str());
    return 1;
  }
  if (!phigate::detect::gen::WriteFileAtomically("lexicon_snapshot_gen", path,
                                                 (*lex)->Snapshot(*digest))) {
    return 1;
  }
  return 0;
}
