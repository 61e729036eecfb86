#include "phigate/core/paths.h"

#include <stdlib.h>

#include <filesystem>
#include <string>

#include "gtest/gtest.h"
#include "tests/testing/temp_dir.h"

namespace phigate::paths {
namespace {

namespace fs = std::filesystem;

using ::phigate::testing::TempDir;

// Sets an environment variable for one test and restores it after.
class ScopedEnv {
 public:
  ScopedEnv(const char* name, const char* value) : name_(name) {
    if (const char* old = ::getenv(name)) {
      old_ = old;
      had_ = true;
    }
    ::setenv(name, value, 1);
  }
  ~ScopedEnv() {
    if (had_) {
      ::setenv(name_, old_.c_str(), 1);
    } else {
      ::unsetenv(name_);
    }
  }

 private:
  const char* name_;
  std::string old_;
  bool had_ = false;
};

TEST(ShareDirFor, TheShareFolderBesideBinWhenItHoldsData) {
  TempDir tmp;
  fs::create_directories(tmp.path() / "bin");
  const std::string program = (tmp.path() / "bin" / "phigate").string();
  EXPECT_EQ(internal::ShareDirFor(program), "");  // no share/phigate yet
  fs::create_directories(tmp.path() / "share" / "phigate");
  EXPECT_EQ(internal::ShareDirFor(program), "");  // no data/ in it
  fs::create_directories(tmp.path() / "share" / "phigate" / "data");
  EXPECT_EQ(internal::ShareDirFor(program), (tmp.path() / "share" / "phigate").string());
  // Another program's folder is not this one's.
  EXPECT_EQ(internal::ShareDirFor((tmp.path() / "phigate").string()), "");
  EXPECT_EQ(internal::ShareDirFor(""), "");
}

TEST(FirstShareDir, TheFirstCandidateHoldingData) {
  TempDir tmp;
  const std::string a = (tmp.path() / "a").string();
  const std::string b = (tmp.path() / "b").string();
  const std::string c = (tmp.path() / "c").string();
  fs::create_directories(tmp.path() / "a");  // no data/
  fs::create_directories(tmp.path() / "b" / "data");
  fs::create_directories(tmp.path() / "c" / "data");
  EXPECT_EQ(internal::FirstShareDir({a, b, c}), b);
  EXPECT_EQ(internal::FirstShareDir({c, b}), c);
  EXPECT_EQ(internal::FirstShareDir({a, (tmp.path() / "none").string()}), "");
  EXPECT_EQ(internal::FirstShareDir({}), "");
}

TEST(Paths, TheBuildTreesWhenNotInstalled) {
  // The test programs run from the build tree: nothing is installed beside them.
  ASSERT_EQ(InstalledShareDir(), "");
  for (const char* v :
       {"PHIGATE_DATA_DIR", "PHIGATE_MODEL", "PHIGATE_TEMPLATE_DIR", "PHIGATE_LEXICON_SNAPSHOT"}) {
    ::unsetenv(v);
  }
  EXPECT_TRUE(fs::is_directory(fs::path(DataDir()) / "gazetteers")) << DataDir();
  EXPECT_TRUE(fs::is_directory(fs::path(DataDir()) / "breach")) << DataDir();
  EXPECT_TRUE(fs::is_regular_file(ModelPath())) << ModelPath();
  EXPECT_EQ(fs::path(ModelPath()).filename(), "phigate_tagger.bin");
  EXPECT_TRUE(fs::is_regular_file(fs::path(TemplateDir()) / "hhs_portal.md")) << TemplateDir();
  EXPECT_EQ(fs::path(LexiconSnapshotPath()).filename(), "lexicon.snapshot");
}

TEST(Paths, EnvironmentComesFirst) {
  ScopedEnv data("PHIGATE_DATA_DIR", "/x/data");
  ScopedEnv model("PHIGATE_MODEL", "/x/m.bin");
  ScopedEnv templates("PHIGATE_TEMPLATE_DIR", "/x/t");
  ScopedEnv snapshot("PHIGATE_LEXICON_SNAPSHOT", "/x/s");
  EXPECT_EQ(DataDir(), "/x/data");
  EXPECT_EQ(ModelPath(), "/x/m.bin");
  EXPECT_EQ(TemplateDir(), "/x/t");
  EXPECT_EQ(LexiconSnapshotPath(), "/x/s");
}

TEST(Paths, EmptyVariablesAreUnsetButAnEmptySnapshotMeansNone) {
  ScopedEnv data("PHIGATE_DATA_DIR", "");
  ScopedEnv model("PHIGATE_MODEL", "");
  EXPECT_NE(DataDir(), "");
  EXPECT_NE(ModelPath(), "");
  {
    ScopedEnv snapshot("PHIGATE_LEXICON_SNAPSHOT", "none");
    EXPECT_EQ(LexiconSnapshotPath(), "");
  }
  {
    ScopedEnv snapshot("PHIGATE_LEXICON_SNAPSHOT", "");
    EXPECT_EQ(LexiconSnapshotPath(), "");
  }
}

}  // namespace
}  // namespace phigate::paths
