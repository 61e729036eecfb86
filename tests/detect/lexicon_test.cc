// The lexicon's vocabulary lookups: misspellings of common and clinical words
// (the delete index) are recognised, real names one letter from a word are not.
#include "src/detect/lexicon.h"

#include <cstdlib>
#include <memory>
#include <string>

#include "gtest/gtest.h"

namespace phigate::detect {
namespace {

class LexiconTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    const char* src = std::getenv("PHIGATE_SOURCE_DIR");
    auto lex = Lexicon::Load(std::string(src != nullptr ? src : ".") + "/data");
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

}  // namespace
}  // namespace phigate::detect
