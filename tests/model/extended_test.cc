// Extended feature sets (3 and 4), ensembles of perceptrons averaged into one
// model, and cost-sensitive updates (session 4). All values are invented.
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "phigate/model/features.h"
#include "phigate/model/tagger.h"
#include "phigate/model/trainer.h"
#include "tests/model/feature_rows.h"
#include "tests/testing/status_matchers.h"

namespace phigate::model {
namespace {

constexpr int kExtendedStacked = kFeaturesPerToken + kHintFeatures + kExtendedFeatures;

using testing::Rows;

TEST(ExtendedFeaturesTest, AddsFeaturesAndKeepsTheOldOnesIdentical) {
  Gazetteer gaz;
  gaz.Add("quellan", kGazSurname);
  const std::string text = "Seen by Quellan today\nQUELLAN CALLED BACK";
  const FeatureExtractor plain(&gaz, 16), ext(&gaz, 16, false, true);
  const FeatureExtractor stacked(&gaz, 16, true), ext_stacked(&gaz, 16, true, true);
  EXPECT_EQ(ext.features_per_token(), kFeaturesPerToken + kExtendedFeatures);
  EXPECT_EQ(ext_stacked.features_per_token(), kExtendedStacked);
  EXPECT_EQ(kMaxFeaturesPerToken, kExtendedStacked + kContextFeatures);
  const auto a = Rows(plain, text), b = Rows(ext, text);
  const auto c = Rows(stacked, text), d = Rows(ext_stacked, text);
  const size_t n = a.size() / kFeaturesPerToken;
  ASSERT_EQ(b.size(), n * static_cast<size_t>(ext.features_per_token()));
  ASSERT_EQ(d.size(), n * static_cast<size_t>(kExtendedStacked));
  const size_t fe = static_cast<size_t>(ext.features_per_token());
  const size_t fs = static_cast<size_t>(kFeaturesPerToken + kHintFeatures);
  for (size_t t = 0; t < n; ++t) {
    for (size_t k = 0; k < kFeaturesPerToken; ++k) {
      EXPECT_EQ(a[t * kFeaturesPerToken + k], b[t * fe + k]);  // text features unchanged
    }
    for (size_t k = 0; k < fs; ++k) EXPECT_EQ(c[t * fs + k], d[t * kExtendedStacked + k]);
  }
  for (uint32_t r : d) EXPECT_LT(r, 1u << 16);
  // Deterministic.
  EXPECT_EQ(Rows(ext_stacked, text), d);
}

TEST(ExtendedFeaturesTest, LineCaseAndWordRepeatsChangeTheExtendedFeatures) {
  Gazetteer gaz;
  const FeatureExtractor ext(&gaz, 16, false, true);
  // Token 0 ("Bexley") in a mixed-case line vs an all-caps line: only the
  // extended features may differ, and the line-case one must.
  const auto mixed = Rows(ext, "Bexley is here today");
  const auto caps = Rows(ext, "Bexley IS HERE TODAY");
  EXPECT_NE(mixed[kFeaturesPerToken], caps[kFeaturesPerToken]);
  // A word that occurs twice vs once (feature 7 of the extended block).
  const auto once = Rows(ext, "Bexley came alone");
  const auto twice = Rows(ext, "Bexley came Bexley");
  EXPECT_NE(once[kFeaturesPerToken + 7], twice[kFeaturesPerToken + 7]);
}

TEST(ExtendedFeaturesTest, RuleFindingOnAnotherOccurrenceIsSeen) {
  Gazetteer gaz;
  const FeatureExtractor ext(&gaz, 16, true, true);
  const std::string text = "Harlow called. Later Harlow came";
  // The rules flag only the second "Harlow" (bytes 21..27).
  const std::vector<Finding> rules = {{PhiCategory::kName, 21, 27, 0.9f, "name_rules"}};
  const auto with = Rows(ext, text, rules);
  const auto without = Rows(ext, text);
  const size_t last = kFeaturesPerToken + kHintFeatures + kExtendedFeatures - 1;
  // Token 0 has no finding itself, but its word is flagged elsewhere.
  EXPECT_NE(with[last], without[last]);
}

TEST(ExtendedFeaturesTest, ExtendedGazetteerBitsOnlyWhenAsked) {
  const std::filesystem::path dir =
      std::filesystem::temp_directory_path() /
      ("phigate_ext_gaz_" + std::to_string(::testing::UnitTest::GetInstance()->random_seed()));
  std::filesystem::create_directories(dir);
  {
    std::ofstream(dir / "medical_words.txt") << "# test\nzorbamycin\nquixil\tproper\n";
    std::ofstream(dir / "us_counties.tsv") << "# test\nFlemwick\tZZ\n";
    std::ofstream(dir / "street_suffixes.tsv") << "# test\nPLOVERWAY\tPLWY,PLOVR\n";
  }
  Gazetteer plain, ext;
  int files = 0;
  PHIGATE_ASSERT_OK(plain.LoadDirectory(dir.string(), &files));
  EXPECT_EQ(files, 0);
  EXPECT_EQ(plain.Lookup("zorbamycin"), 0);
  PHIGATE_ASSERT_OK(ext.LoadDirectory(dir.string(), &files, true));
  EXPECT_EQ(files, 3);
  EXPECT_EQ(ext.Lookup("Zorbamycin"), kGazMedical);
  EXPECT_EQ(ext.Lookup("quixil"), kGazMedicalProper);
  EXPECT_EQ(ext.Lookup("FLEMWICK"), kGazCounty);
  EXPECT_EQ(ext.Lookup("plwy"), kGazStreet);
  EXPECT_EQ(ext.Lookup("plovr"), kGazStreet);
  std::filesystem::remove_all(dir);
}

// "Pt <name> seen by <name>. <name> called." with invented names.
std::vector<Example> NameSet(int n) {
  static constexpr std::string_view kNames[] = {"Vorlen", "Quibbet", "Aslund", "Merrow",
                                                "Tindle", "Grausk",  "Polwin", "Hestra"};
  std::vector<Example> out;
  for (int i = 0; i < n; ++i) {
    Example ex;
    ex.id = std::to_string(i % 4) + "-" + std::to_string(i);
    auto add = [&](std::string_view v) {
      ex.spans.push_back({ex.text.size(), ex.text.size() + v.size(), EntityType::kName});
      ex.text.append(v);
    };
    const auto k = static_cast<size_t>(i);
    ex.text = i % 3 == 0 ? "PT " : "Pt ";
    add(kNames[k % 8]);
    ex.text += " seen by ";
    add(kNames[(k + 3) % 8]);
    ex.text += ". Bp ok, ";
    add(kNames[k % 8]);
    ex.text += " called.";
    out.push_back(std::move(ex));
  }
  return out;
}

TrainOptions Small() {
  TrainOptions o;
  o.hash_bits = 14;
  o.epochs = 4;
  o.seed = 9;
  o.recall_bias = 0.0f;
  return o;
}

TEST(EnsembleTest, OneModelOfTheSameSizeDeterministicAndDifferentFromOneMember) {
  const auto data = NameSet(40);
  TrainOptions o = Small();
  TrainStats one_stats, ens_stats;
  PHIGATE_ASSERT_OK_AND_ASSIGN(std::string one, Train(data, o, &one_stats));
  o.ensemble = 3;
  PHIGATE_ASSERT_OK_AND_ASSIGN(std::string ens, Train(data, o, &ens_stats));
  PHIGATE_ASSERT_OK_AND_ASSIGN(std::string again, Train(data, o, nullptr));
  EXPECT_EQ(ens, again);
  EXPECT_NE(ens, one);
  // Every member's epochs are recorded; the first member is the single model.
  ASSERT_EQ(ens_stats.token_errors_per_epoch.size(), 12u);
  for (size_t e = 0; e < 4; ++e) {
    EXPECT_EQ(ens_stats.token_errors_per_epoch[e], one_stats.token_errors_per_epoch[e]);
  }
  PHIGATE_ASSERT_OK_AND_ASSIGN(auto tagger, Tagger::FromBytes(ens));
  std::vector<Finding> found;
  PHIGATE_ASSERT_OK(tagger->Tag(data[1].text, &found));
  ASSERT_EQ(found.size(), data[1].spans.size());
  for (size_t i = 0; i < found.size(); ++i) {
    EXPECT_EQ(found[i].begin, data[1].spans[i].begin);
    EXPECT_EQ(found[i].end, data[1].spans[i].end);
  }
}

TEST(EnsembleTest, MissCostChangesTrainingAndOneIsTheDefault) {
  const auto data = NameSet(30);
  TrainOptions o = Small();
  PHIGATE_ASSERT_OK_AND_ASSIGN(std::string base, Train(data, o, nullptr));
  o.miss_cost = 1.0f;
  PHIGATE_ASSERT_OK_AND_ASSIGN(std::string same, Train(data, o, nullptr));
  EXPECT_EQ(base, same);
  o.miss_cost = 3.0f;
  PHIGATE_ASSERT_OK_AND_ASSIGN(std::string costly, Train(data, o, nullptr));
  EXPECT_NE(base, costly);
}

TEST(ExtendedModelTest, TrainsSavesLoadsAndRefusesTruncations) {
  const auto data = NameSet(40);
  TrainOptions o = Small();
  o.extended = true;
  o.stacked = true;
  o.rules_version = "hints=1;patterns=00000000feedf00d";
  PHIGATE_ASSERT_OK_AND_ASSIGN(std::string bytes, Train(data, o, nullptr));
  PHIGATE_ASSERT_OK_AND_ASSIGN(auto tagger, Tagger::FromBytes(bytes));
  EXPECT_TRUE(tagger->stacked());
  EXPECT_EQ(tagger->rules_version(), o.rules_version);
  std::vector<Finding> found;
  PHIGATE_ASSERT_OK(tagger->Tag(data[2].text, TagOptions{}, {}, &found));
  ASSERT_EQ(found.size(), data[2].spans.size());
  EXPECT_EQ(found[0].begin, data[2].spans[0].begin);
  // A plain extended model too.
  o.stacked = false;
  PHIGATE_ASSERT_OK_AND_ASSIGN(std::string plain, Train(data, o, nullptr));
  PHIGATE_ASSERT_OK_AND_ASSIGN(auto plain_tagger, Tagger::FromBytes(plain));
  EXPECT_FALSE(plain_tagger->stacked());
  PHIGATE_ASSERT_OK(plain_tagger->Tag("Pt Grausk seen by Polwin.", &found));
  EXPECT_FALSE(found.empty());
  for (size_t cut = 0; cut < bytes.size(); cut += 101) {
    EXPECT_FALSE(Tagger::FromBytes(bytes.substr(0, cut)).ok()) << cut;
  }
}

}  // namespace
}  // namespace phigate::model
