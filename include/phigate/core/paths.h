// Where phigate finds the files it ships with: the gazetteers and breach
// tables (data/), the tagger (models/phigate_tagger.bin), the notice templates
// (templates/breach) and the lexicon snapshot the build writes.
//
// Each is looked up in this order, the first that applies wins:
//   1. its environment variable: PHIGATE_DATA_DIR, PHIGATE_MODEL,
//      PHIGATE_TEMPLATE_DIR, PHIGATE_LEXICON_SNAPSHOT ("none": no snapshot);
//   2. the installed tree of the running program: <prefix>/share/phigate/ when
//      the program is <prefix>/bin/<name> and that folder holds data/
//      (`cmake --install`, also after the prefix has been moved);
//   3. the source and build trees the binary was built from, while they exist;
//   4. the first share/phigate with a data/ folder of: the install prefix
//      configured at build time (CMAKE_INSTALL_PREFIX), /usr/local, /usr (the
//      .deb's) — for programs that link the library and run from elsewhere.
// A caller's explicit option (a --data-dir flag, EngineOptions::data_dir)
// comes before all of these.
#ifndef PHIGATE_CORE_PATHS_H_
#define PHIGATE_CORE_PATHS_H_

#include <initializer_list>
#include <string>
#include <string_view>

namespace phigate::paths {

// The folder holding gazetteers/ and breach/.
std::string DataDir();

// The shipped tagger's model file.
std::string ModelPath();

// The breach notice templates' folder.
std::string TemplateDir();

// The lexicon snapshot to try first; empty when none is to be used.
std::string LexiconSnapshotPath();

// <prefix>/share/phigate of the running program when it runs from an installed
// tree (step 2 above), else empty.
std::string InstalledShareDir();

namespace internal {

// The installed share folder for a program at `program_path` (step 2), or
// empty: <dir of program>/../share/phigate when it holds a data/ folder.
std::string ShareDirFor(const std::string& program_path);

// The first of `candidates` (share/phigate folders) that holds a data/
// folder, or empty (step 4).
std::string FirstShareDir(std::initializer_list<std::string_view> candidates);

}  // namespace internal

}  // namespace phigate::paths

#endif  // PHIGATE_CORE_PATHS_H_
