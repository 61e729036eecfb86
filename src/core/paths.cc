#include "phigate/core/paths.h"

#include <cstdlib>
#include <filesystem>
#include <initializer_list>
#include <string_view>
#include <system_error>

// The build defines these (src/core/CMakeLists.txt); the fallbacks keep the
// file compilable on its own.
#ifndef PHIGATE_BUILD_DATA_DIR
#define PHIGATE_BUILD_DATA_DIR "data"
#endif
#ifndef PHIGATE_BUILD_MODEL_PATH
#define PHIGATE_BUILD_MODEL_PATH "models/phigate_tagger.bin"
#endif
#ifndef PHIGATE_BUILD_TEMPLATE_DIR
#define PHIGATE_BUILD_TEMPLATE_DIR "templates/breach"
#endif
#ifndef PHIGATE_BUILD_LEXICON_SNAPSHOT
#define PHIGATE_BUILD_LEXICON_SNAPSHOT ""
#endif
#ifndef PHIGATE_INSTALL_SHARE_DIR
#define PHIGATE_INSTALL_SHARE_DIR "/usr/local/share/phigate"
#endif

namespace phigate::paths {
namespace {

namespace fs = std::filesystem;

bool IsDir(const fs::path& p) {
  std::error_code ec;
  return fs::is_directory(p, ec);
}

// The files of one tree: an installed share/phigate folder, or the source
// and build trees.
struct Tree {
  std::string data;
  std::string model;
  std::string templates;
  std::string snapshot;
};

Tree InstalledTree(const std::string& share) {
  const fs::path s(share);
  return Tree{(s / "data").string(), (s / "models" / "phigate_tagger.bin").string(),
              (s / "templates" / "breach").string(), (s / "lexicon.snapshot").string()};
}

Tree ResolveTree() {
  if (std::string share = InstalledShareDir(); !share.empty()) return InstalledTree(share);
  const Tree build{PHIGATE_BUILD_DATA_DIR, PHIGATE_BUILD_MODEL_PATH, PHIGATE_BUILD_TEMPLATE_DIR,
                   PHIGATE_BUILD_LEXICON_SNAPSHOT};
  if (IsDir(PHIGATE_BUILD_DATA_DIR)) return build;
  const std::string share = internal::FirstShareDir(
      {PHIGATE_INSTALL_SHARE_DIR, "/usr/local/share/phigate", "/usr/share/phigate"});
  // With none on disk, the build's paths: the errors then name them.
  return share.empty() ? build : InstalledTree(share);
}

// Resolved once per process: the program's location and the trees on disk do
// not move under a running process in any way phigate supports.
const Tree& TheTree() {
  static const Tree* const tree = new Tree(ResolveTree());
  return *tree;
}

const char* Env(const char* name) {
  const char* v = std::getenv(name);
  return v != nullptr && *v != '\0' ? v : nullptr;
}

}  // namespace

namespace internal {

std::string FirstShareDir(std::initializer_list<std::string_view> candidates) {
  for (std::string_view dir : candidates) {
    if (IsDir(fs::path(dir) / "data")) return std::string(dir);
  }
  return "";
}

std::string ShareDirFor(const std::string& program_path) {
  if (program_path.empty()) return "";
  const fs::path share = fs::path(program_path).parent_path().parent_path() / "share" / "phigate";
  return FirstShareDir({share.string()});
}

}  // namespace internal

std::string InstalledShareDir() {
  static const std::string* const dir = [] {
    std::error_code ec;
    const fs::path self = fs::read_symlink("/proc/self/exe", ec);
    return new std::string(ec ? "" : internal::ShareDirFor(self.string()));
  }();
  return *dir;
}

std::string DataDir() {
  if (const char* v = Env("PHIGATE_DATA_DIR")) return v;
  return TheTree().data;
}

std::string ModelPath() {
  if (const char* v = Env("PHIGATE_MODEL")) return v;
  return TheTree().model;
}

std::string TemplateDir() {
  if (const char* v = Env("PHIGATE_TEMPLATE_DIR")) return v;
  return TheTree().templates;
}

std::string LexiconSnapshotPath() {
  if (const char* v = std::getenv("PHIGATE_LEXICON_SNAPSHOT"); v != nullptr) {
    return std::string_view(v) == "none" ? "" : v;
  }
  return TheTree().snapshot;
}

}  // namespace phigate::paths
