// The lexicon's vocabulary lookups: misspellings of common and clinical words
// (the delete index) are recognised, real names one letter from a word are not.
// Its snapshot: the same lexicon as a build from the files, used only for the
// sources it was made from, and damaged bytes refused without a crash.
#include "src/detect/lexicon.h"

#include <unistd.h>

#include <cctype>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "tests/testing/temp_dir.h"

namespace phigate::detect {
namespace {

std::string DataDir() {
  const char* src = std::getenv("PHIGATE_SOURCE_DIR");
  return std::string(src != nullptr ? src : ".") + "/data";
}

class LexiconTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    auto lex = Lexicon::Load(DataDir(), /*snapshot_path=*/"");
    ASSERT_TRUE(lex.ok()) << lex.status();
    lexicon_ = lex->release();
  }
  static void TearDownTestSuite() { delete lexicon_; }
  static Lexicon* lexicon_;
};
Lexicon* LexiconTest::lexicon_ = nullptr;

TEST_F(LexiconTest, FrozenTableAnswersAfterTheBuildMapIsReleased) {
  // Load() releases its build map after freezing: every lookup, the sorted
  // lists and the size come from the frozen structures.
  EXPECT_GT(lexicon_->size(), 100000u);
  EXPECT_NE(lexicon_->version().find(std::to_string(lexicon_->size()) + "w"), std::string::npos);
  const LexEntry* e = lexicon_->Find("street");
  ASSERT_NE(e, nullptr);
  EXPECT_NE(e->flags & kLexStreetSuffix, 0u);
  EXPECT_EQ(lexicon_->Find("qzxvbnmw"), nullptr);
  EXPECT_TRUE(lexicon_->IsCityPrefix("philad"));
  EXPECT_FALSE(lexicon_->IsCityPrefix("qzxvb"));
}

TEST_F(LexiconTest, MisspeltVocabularyIsNearVocabulary) {
  // Swapped letters (6+ letters), dropped (7+), added (8+) or substituted letter (9+).
  for (const char* w : {"apetite", "epsiode", "famliy", "reveiw", "curently", "tranfuse",
                        "excellant", "persistant", "antiobiotic", "hemodyamically",
                        // Brand names (capitalised in the source): "Integrilin", "Augmentin".
                        "integrelin", "aumentin"}) {
    EXPECT_TRUE(lexicon_->IsNearVocabulary(w)) << w;
  }
}

TEST_F(LexiconTest, NamesAndShortWordsAreNotNearVocabulary) {
  for (const char* w : {"pallin", "jourkdale",
                        // Invented, each one edit from a listed word, shorter than that edit
                        // needs: substituted ("sperts", "resve", "haysreds"), added ("treiad",
                        // "nuells", "luemurs"), dropped ("pnches", "pnded") or swapped letters
                        // ("sedey", "bocth").
                        "sperts", "resve", "haysreds", "treiad", "nuells", "luemurs", "pnches",
                        "pnded", "sedey", "bocth",
                        // One letter from a capitalised-only source word (a place).
                        "australia"}) {
    EXPECT_FALSE(lexicon_->IsNearVocabulary(w)) << w;
  }
}

// The words of the repository's gazetteers (first column, lower-cased, and
// each word of a multi-word entry), for lookups compared across two lexicons.
std::vector<std::string> GazetteerWords() {
  std::vector<std::string> words;
  for (const char* f : {"first_names.tsv", "surnames.tsv", "us_cities.tsv", "us_states.tsv",
                        "us_counties.tsv", "common_words.txt", "medical_words.txt"}) {
    std::ifstream in(DataDir() + "/gazetteers/" + f);
    std::string line;
    while (std::getline(in, line)) {
      std::string entry = line.substr(0, line.find('\t'));
      for (char& c : entry) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
      words.push_back(entry);
      std::istringstream parts(entry);
      for (std::string w; parts >> w;) words.push_back(w);
    }
  }
  return words;
}

std::string ReadAll(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream ss;
  ss << in.rdbuf();
  return std::move(ss).str();
}

using ::phigate::testing::TempDir;

// Every lookup answers the same in `built` and `r`: for every third gazetteer
// word, the word, the word cut short, and the word with its first two letters
// swapped.
void ExpectSameLookups(const Lexicon& built, const Lexicon& r) {
  const Lexicon* lexicon = &built;
  size_t found = 0, near = 0;
  const std::vector<std::string> words = GazetteerWords();
  for (size_t k = 0; k < words.size(); k += 3) {  // a third: seconds under ASan, not minutes
    const std::string& w = words[k];
    for (const std::string& q : {w, w.substr(0, w.size() / 2 + 1),
                                 w.size() >= 2 ? std::string{w[1], w[0]} + w.substr(2) : w}) {
      const LexEntry* a = lexicon->Find(q);
      const LexEntry* b = r.Find(q);
      ASSERT_EQ(a == nullptr, b == nullptr) << q;
      if (a != nullptr) {
        ++found;
        EXPECT_EQ(a->flags, b->flags) << q;
        EXPECT_EQ(a->first_weight, b->first_weight) << q;
        EXPECT_EQ(a->last_weight, b->last_weight) << q;
      }
      const bool nv = lexicon->IsNearVocabulary(q);
      near += nv ? 1 : 0;
      EXPECT_EQ(r.IsNearVocabulary(q), nv) << q;
      EXPECT_EQ(r.IsClinicalPrefix(q), lexicon->IsClinicalPrefix(q)) << q;
      EXPECT_EQ(r.IsCityPrefix(q), lexicon->IsCityPrefix(q)) << q;
      EXPECT_EQ(r.IsMultiWordCity(q), lexicon->IsMultiWordCity(q)) << q;
    }
  }
  EXPECT_GT(found, 50000u);
  EXPECT_GT(near, 500u);  // the comparison reached the delete index
}

TEST_F(LexiconTest, ASnapshotRestoresTheSameLexicon) {
  auto digest = Lexicon::SourceDigest(DataDir());
  ASSERT_TRUE(digest.ok()) << digest.status();
  EXPECT_EQ(digest->size(), 32u);
  const std::string bytes = lexicon_->Snapshot(*digest);
  auto restored = Lexicon::FromSnapshot(bytes, *digest);
  ASSERT_TRUE(restored.ok()) << restored.status();
  const Lexicon& r = **restored;
  EXPECT_TRUE(r.from_snapshot());
  EXPECT_FALSE(lexicon_->from_snapshot());
  // Every member a snapshot holds comes back: its own snapshot is the same bytes.
  EXPECT_TRUE(r.Snapshot(*digest) == bytes);  // (not EXPECT_EQ: no diff of 40 MB)
  EXPECT_EQ(r.size(), lexicon_->size());
  EXPECT_EQ(r.version(), lexicon_->version());
  ExpectSameLookups(*lexicon_, r);
  EXPECT_TRUE(r.IsMultiWordCity("san francisco"));
}

TEST_F(LexiconTest, TheBuildsSnapshotIsUsedForTheRepositoryData) {
  // The build wrote a snapshot of data/ (lexicon_snapshot_gen), and Load()
  // takes it: the default path of a process started without
  // PHIGATE_LEXICON_SNAPSHOT. The same lexicon as the build from the files,
  // to the byte: the build is deterministic (words enter the table in word
  // order), here in another process than the generator's.
  ASSERT_FALSE(Lexicon::DefaultSnapshotPath().empty());
  auto lex = Lexicon::Load(DataDir());
  ASSERT_TRUE(lex.ok()) << lex.status();
  EXPECT_TRUE((*lex)->from_snapshot());
  EXPECT_EQ((*lex)->size(), lexicon_->size());
  EXPECT_EQ((*lex)->version(), lexicon_->version());
  auto digest = Lexicon::SourceDigest(DataDir());
  ASSERT_TRUE(digest.ok());
  EXPECT_TRUE((*lex)->Snapshot(*digest) == lexicon_->Snapshot(*digest));
}

TEST_F(LexiconTest, ASnapshotOfOtherSourcesIsNotUsed) {
  // A data folder whose surnames differ by one line: another digest, so the
  // build's snapshot is passed over and the folder's own words are found.
  TempDir tmp;
  std::filesystem::copy(DataDir() + "/gazetteers", tmp.file("gazetteers"));
  auto before = Lexicon::SourceDigest(tmp.path().string());
  ASSERT_TRUE(before.ok());
  EXPECT_EQ(*before, *Lexicon::SourceDigest(DataDir()));
  {
    std::ofstream out(tmp.file("gazetteers/surnames.tsv"), std::ios::app);
    out << "Qzvaldtrop\t5\n";
  }
  auto after = Lexicon::SourceDigest(tmp.path().string());
  ASSERT_TRUE(after.ok());
  EXPECT_NE(*after, *before);
  auto lex = Lexicon::Load(tmp.path().string(), Lexicon::DefaultSnapshotPath());
  ASSERT_TRUE(lex.ok()) << lex.status();
  EXPECT_FALSE((*lex)->from_snapshot());
  const LexEntry* e = (*lex)->Find("qzvaldtrop");
  ASSERT_NE(e, nullptr);
  EXPECT_NE(e->flags & kLexSurname, 0u);
  EXPECT_EQ(lexicon_->Find("qzvaldtrop"), nullptr);
  // A missing optional file changes the digest too.
  std::filesystem::remove(tmp.file("gazetteers/us_counties.tsv"));
  EXPECT_NE(*Lexicon::SourceDigest(tmp.path().string()), *after);
  // Without the name lists there is no digest, and Load() says what is missing.
  std::filesystem::remove(tmp.file("gazetteers/surnames.tsv"));
  EXPECT_EQ(Lexicon::SourceDigest(tmp.path().string()).status().code(),
            absl::StatusCode::kNotFound);
  auto missing = Lexicon::Load(tmp.path().string(), Lexicon::DefaultSnapshotPath());
  EXPECT_EQ(missing.status().code(), absl::StatusCode::kNotFound);
  EXPECT_NE(std::string(missing.status().message()).find("surnames.tsv"), std::string::npos);
}

TEST_F(LexiconTest, DamagedSnapshotsAreRefusedAndLoadBuildsInstead) {
  auto digest = Lexicon::SourceDigest(DataDir());
  ASSERT_TRUE(digest.ok());
  const std::string good = lexicon_->Snapshot(*digest);
  ASSERT_TRUE(Lexicon::FromSnapshot(good, *digest).ok());
  EXPECT_FALSE(Lexicon::FromSnapshot(good, "another digest").ok());
  EXPECT_FALSE(Lexicon::FromSnapshot("", *digest).ok());
  // Cut short anywhere, or one byte changed anywhere: refused.
  for (size_t k = 0; k < 64; ++k) {
    const size_t at = k < 32 ? k * 7 : good.size() / 32 * (k - 32) + k;
    EXPECT_FALSE(Lexicon::FromSnapshot(std::string_view(good).substr(0, at), *digest).ok()) << at;
    std::string flipped = good;
    flipped[at] = static_cast<char>(flipped[at] ^ 0x20);
    EXPECT_FALSE(Lexicon::FromSnapshot(flipped, *digest).ok()) << at;
  }
  EXPECT_FALSE(Lexicon::FromSnapshot(good + "x", *digest).ok());
  // Load() with a damaged snapshot file still gives the lexicon, built from the files.
  TempDir tmp;
  const std::string path = tmp.file("lexicon.snapshot");
  {
    std::ofstream out(path, std::ios::binary);
    out << std::string_view(good).substr(0, good.size() / 2);
  }
  auto lex = Lexicon::Load(DataDir(), path);
  ASSERT_TRUE(lex.ok()) << lex.status();
  EXPECT_FALSE((*lex)->from_snapshot());
  EXPECT_EQ((*lex)->size(), lexicon_->size());
  // So does a folder or a missing file in its place.
  for (const std::string& other : {tmp.path().string(), tmp.file("missing")}) {
    auto built = Lexicon::Load(DataDir(), other);
    ASSERT_TRUE(built.ok()) << built.status();
    EXPECT_FALSE((*built)->from_snapshot());
  }
  // The whole snapshot in that file is used.
  {
    std::ofstream out(path, std::ios::binary | std::ios::trunc);
    out << good;
  }
  EXPECT_EQ(ReadAll(path), good);
  auto whole = Lexicon::Load(DataDir(), path);
  ASSERT_TRUE(whole.ok());
  EXPECT_TRUE((*whole)->from_snapshot());
}

}  // namespace
}  // namespace phigate::detect
