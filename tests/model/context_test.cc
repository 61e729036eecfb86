// Context feature sets (5 and 6, session 6): the words 3 to the left and
// right, facility nouns and care roles next to a word, the position after a
// line's "Label:" colon. All names and places are invented.
#include <filesystem>
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

constexpr int kExt = kFeaturesPerToken + kExtendedFeatures;
constexpr int kCtxStacked =
    kFeaturesPerToken + kHintFeatures + kExtendedFeatures + kContextFeatures;

using testing::Rows;

// Token t's context feature k (non-stacked context extractor).
uint32_t Ctx(const std::vector<uint32_t>& rows, size_t t, int k) {
  return rows[t * (kExt + kContextFeatures) + static_cast<size_t>(kExt + k)];
}

Gazetteer ContextGazetteer() {
  Gazetteer gaz;
  int files = 0;
  // No files: only the built-in words (triggers, months, and with `context`
  // the facility and role words).
  const std::filesystem::path none = std::filesystem::temp_directory_path() / "phigate_no_such_dir";
  EXPECT_TRUE(gaz.LoadDirectory(none.string(), &files, true, true).ok());
  EXPECT_EQ(files, 0);
  return gaz;
}

TEST(ContextFeaturesTest, AddsFeaturesAndKeepsTheExtendedOnesIdentical) {
  const Gazetteer gaz = ContextGazetteer();
  const std::string text = "Taken to Brackmoor Hospital by Velt RN\nFamily: son, Osk, called";
  const FeatureExtractor ext(&gaz, 16, false, true), ctx(&gaz, 16, false, true, true);
  const FeatureExtractor ext_s(&gaz, 16, true, true), ctx_s(&gaz, 16, true, false, true);
  EXPECT_EQ(ctx.features_per_token(), kExt + kContextFeatures);
  EXPECT_EQ(ctx_s.features_per_token(), kCtxStacked);  // context implies extended
  const std::vector<Finding> rules = {{PhiCategory::kName, 31, 35, 0.7f, "name_rules"}};
  const auto a = Rows(ext, text), b = Rows(ctx, text);
  const auto c = Rows(ext_s, text, rules), d = Rows(ctx_s, text, rules);
  const size_t n = a.size() / kExt;
  ASSERT_EQ(b.size(), n * static_cast<size_t>(kExt + kContextFeatures));
  ASSERT_EQ(d.size(), n * static_cast<size_t>(kCtxStacked));
  const size_t fs = static_cast<size_t>(ext_s.features_per_token());
  for (size_t t = 0; t < n; ++t) {
    for (size_t k = 0; k < kExt; ++k) {
      EXPECT_EQ(a[t * kExt + k], b[t * (kExt + kContextFeatures) + k]) << t << " " << k;
    }
    for (size_t k = 0; k < fs; ++k) EXPECT_EQ(c[t * fs + k], d[t * kCtxStacked + k]);
  }
  for (uint32_t r : d) EXPECT_LT(r, 1u << 16);
  EXPECT_EQ(Rows(ctx_s, text, rules), d);  // deterministic
}

TEST(ContextFeaturesTest, BuiltInWordsOnlyForContextGazetteers) {
  const Gazetteer ctx = ContextGazetteer();
  EXPECT_EQ(ctx.Lookup("Hospital") & kGazFacility, kGazFacility);
  EXPECT_EQ(ctx.Lookup("REHAB") & kGazFacility, kGazFacility);
  EXPECT_EQ(ctx.Lookup("rrt") & kGazRole, kGazRole);
  EXPECT_EQ(ctx.Lookup("brackmoor"), 0);
  Gazetteer ext;
  int files = 0;
  const std::filesystem::path none = std::filesystem::temp_directory_path() / "phigate_no_such_dir";
  PHIGATE_ASSERT_OK(ext.LoadDirectory(none.string(), &files, true));
  EXPECT_EQ(ext.Lookup("rehab") & kGazFacility, 0);
  EXPECT_EQ(ext.Lookup("rrt") & kGazRole, 0);
}

TEST(ContextFeaturesTest, WindowFacilityRoleAndColonFeaturesReactToTheirContext) {
  const Gazetteer gaz = ContextGazetteer();
  const FeatureExtractor ctx(&gaz, 16, false, true, true);
  // Token 0 sees the word 3 to the right (feature 1); token 3 the word 3 to
  // the left (feature 0).
  const auto w1 = Rows(ctx, "Osk went to Brackmoor"), w2 = Rows(ctx, "Osk went to Dellport");
  EXPECT_NE(Ctx(w1, 0, 1), Ctx(w2, 0, 1));
  EXPECT_EQ(Ctx(w1, 0, 0), Ctx(w2, 0, 0));
  const auto l1 = Rows(ctx, "Osk went to Brackmoor"), l2 = Rows(ctx, "Pim went to Brackmoor");
  EXPECT_NE(Ctx(l1, 3, 0), Ctx(l2, 3, 0));
  // "Brackmoor" (token 2) before a facility noun vs before a common noun
  // (features 2 and 3).
  const auto f1 = Rows(ctx, "taken to Brackmoor Hospital"),
             f2 = Rows(ctx, "taken to Brackmoor today");
  EXPECT_NE(Ctx(f1, 2, 2), Ctx(f2, 2, 2));
  EXPECT_NE(Ctx(f1, 2, 3), Ctx(f2, 2, 3));
  // ... and two words before it ("Brackmoor General Hospital").
  const auto f3 = Rows(ctx, "taken to Brackmoor General Hospital");
  const auto f4 = Rows(ctx, "taken to Brackmoor General today");
  EXPECT_NE(Ctx(f3, 2, 2), Ctx(f4, 2, 2));
  // A role after the name, or before it (feature 4).
  const auto r1 = Rows(ctx, "by Velt RN"), r2 = Rows(ctx, "by Velt today"),
             r3 = Rows(ctx, "HO Velt notified");
  EXPECT_NE(Ctx(r1, 1, 4), Ctx(r2, 1, 4));
  EXPECT_NE(Ctx(r3, 1, 4), Ctx(r2, 1, 4));
  // Position after the line's colon and its label (feature 5): "Osk" is the
  // first word after "Social:" but the second after "Family:" (son, Osk).
  const auto c1 = Rows(ctx, "Social: Osk called"), c2 = Rows(ctx, "Family: Osk called"),
             c3 = Rows(ctx, "Social Osk called");
  EXPECT_NE(Ctx(c1, 2, 5), Ctx(c2, 2, 5));
  EXPECT_NE(Ctx(c1, 2, 5), Ctx(c3, 1, 5));
  // The colon state ends with the line.
  const auto c4 = Rows(ctx, "Social: ok\nOsk called"), c5 = Rows(ctx, "Social ok\nOsk called");
  EXPECT_EQ(Ctx(c4, 3, 5), Ctx(c5, 2, 5));
}

// "Pt <name> seen by <name> RN at <place> Hospital." with invented words.
std::vector<Example> FacilitySet(int n) {
  static constexpr std::string_view kNames[] = {"Vorlen", "Quibbet", "Aslund", "Merrow"};
  static constexpr std::string_view kPlaces[] = {"Brackmoor", "Dellport", "Fennick", "Oxlow"};
  std::vector<Example> out;
  for (int i = 0; i < n; ++i) {
    Example ex;
    ex.id = std::to_string(i % 4) + "-" + std::to_string(i);
    auto add = [&](std::string_view v, EntityType type) {
      ex.spans.push_back({ex.text.size(), ex.text.size() + v.size(), type});
      ex.text.append(v);
    };
    const auto k = static_cast<size_t>(i);
    ex.text = "Seen by ";
    add(kNames[k % 4], EntityType::kName);
    ex.text += " RN, taken to ";
    add(kPlaces[(k + 1) % 4], EntityType::kLocation);
    ex.text += " Hospital.";
    out.push_back(std::move(ex));
  }
  return out;
}

TEST(ContextModelTest, TrainsSavesLoadsTagsAndRefusesTruncations) {
  const auto data = FacilitySet(40);
  TrainOptions o;
  o.hash_bits = 14;
  o.epochs = 4;
  o.seed = 5;
  o.recall_bias = 0.0f;
  o.context = true;
  o.stacked = true;
  o.rules_version = "hints=1;patterns=00000000feedf00d";
  PHIGATE_ASSERT_OK_AND_ASSIGN(std::string bytes, Train(data, o, nullptr));
  PHIGATE_ASSERT_OK_AND_ASSIGN(std::string again, Train(data, o, nullptr));
  EXPECT_EQ(bytes, again);
  // Feature set 6 (context + stacked) at bytes 12..15.
  ASSERT_GT(bytes.size(), 16u);
  EXPECT_EQ(static_cast<uint8_t>(bytes[12]), 6);
  PHIGATE_ASSERT_OK_AND_ASSIGN(auto tagger, Tagger::FromBytes(bytes));
  EXPECT_TRUE(tagger->stacked());
  std::vector<Finding> found;
  PHIGATE_ASSERT_OK(tagger->Tag(data[3].text, TagOptions{}, {}, &found));
  ASSERT_EQ(found.size(), data[3].spans.size());
  for (size_t i = 0; i < found.size(); ++i) {
    EXPECT_EQ(found[i].begin, data[3].spans[i].begin);
    EXPECT_EQ(found[i].end, data[3].spans[i].end);
  }
  // Different bytes from the extended model of the same data and options.
  o.context = false;
  o.extended = true;
  PHIGATE_ASSERT_OK_AND_ASSIGN(std::string ext, Train(data, o, nullptr));
  EXPECT_NE(ext, bytes);
  EXPECT_EQ(static_cast<uint8_t>(ext[12]), 4);
  // A plain context model is feature set 5.
  o.context = true;
  o.stacked = false;
  PHIGATE_ASSERT_OK_AND_ASSIGN(std::string plain, Train(data, o, nullptr));
  EXPECT_EQ(static_cast<uint8_t>(plain[12]), 5);
  PHIGATE_ASSERT_OK_AND_ASSIGN(auto plain_tagger, Tagger::FromBytes(plain));
  EXPECT_FALSE(plain_tagger->stacked());
  for (size_t cut = 0; cut < bytes.size(); cut += 97) {
    EXPECT_FALSE(Tagger::FromBytes(bytes.substr(0, cut)).ok()) << cut;
  }
}

}  // namespace
}  // namespace phigate::model
