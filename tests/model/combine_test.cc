// The combination of the rule engine and the tagger (src/detect/combine.h):
// certain rule findings, the rules-version check of stacked models, and what
// each engine mode returns. All values are invented.
#include "src/detect/combine.h"

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <limits>
#include <memory>
#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "phigate/detect/engine.h"
#include "phigate/model/tagger.h"
#include "phigate/model/trainer.h"
#include "phigate/synth/generator.h"
#include "src/detect/resolve.h"
#include "tests/testing/status_matchers.h"

namespace phigate::detect {
namespace {

using Mode = EngineOptions::Mode;

TEST(CombineTest, CertainRuleFindingsAreStructuredAndConfident) {
  EXPECT_TRUE(IsCertainRuleFinding({PhiCategory::kSsn, 0, 11, 0.95f, "ssn_labelled"}));
  EXPECT_TRUE(IsCertainRuleFinding({PhiCategory::kEmail, 0, 11, 0.95f, "email"}));
  EXPECT_FALSE(IsCertainRuleFinding({PhiCategory::kSsn, 0, 11, 0.6f, "ssn_spaced"}));
  EXPECT_FALSE(IsCertainRuleFinding({PhiCategory::kName, 0, 5, 0.99f, "name_rules"}));
  EXPECT_FALSE(IsCertainRuleFinding({PhiCategory::kDate, 0, 5, 0.95f, "date_iso"}));
}

TEST(CombineTest, RulesVersionNamesTheHintEncodingAndIsStable) {
  const std::string v = RulesVersion();
  EXPECT_EQ(v.rfind(std::string(kRuleHintEncoding) + ";patterns=", 0), 0u) << v;
  EXPECT_EQ(v, RulesVersion());
}

// A stacked model on notes where "Brumble" is a name exactly when the rules
// say so.
std::string StackedModel(const std::string& rules_version) {
  std::vector<model::Example> data;
  for (int i = 0; i < 40; ++i) {
    model::Example ex;
    ex.id = std::to_string(i % 5) + "-" + std::to_string(i);
    ex.text = "note says Brumble then stop";
    if (i % 2 == 0) {
      ex.spans.push_back({10, 17, model::EntityType::kName});
      ex.rule_findings.push_back({PhiCategory::kName, 10, 17, 0.7f, "name_rules"});
    }
    data.push_back(std::move(ex));
  }
  model::TrainOptions o;
  o.hash_bits = 14;
  o.epochs = 5;
  o.recall_bias = 0.0f;
  o.word_dropout = 0.0f;
  o.stacked = true;
  o.rules_version = rules_version;
  auto bytes = model::Train(data, o, nullptr);
  EXPECT_TRUE(bytes.ok());
  return bytes.ok() ? *bytes : std::string();
}

TEST(CombineTest, StackedModelWithAnotherHintEncodingIsRefused) {
  PHIGATE_ASSERT_OK_AND_ASSIGN(auto other,
                               model::Tagger::FromBytes(StackedModel("hints=0;patterns=1")));
  Status s = CheckModelCompatible(*other, nullptr);
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(std::string(s.message()).find("retrain"), std::string::npos);

  PHIGATE_ASSERT_OK_AND_ASSIGN(auto same, model::Tagger::FromBytes(StackedModel(RulesVersion())));
  bool same_rules = false;
  PHIGATE_EXPECT_OK(CheckModelCompatible(*same, &same_rules));
  EXPECT_TRUE(same_rules);
  PHIGATE_ASSERT_OK_AND_ASSIGN(
      auto older, model::Tagger::FromBytes(StackedModel("hints=1;patterns=0000000000000000")));
  PHIGATE_EXPECT_OK(CheckModelCompatible(*older, &same_rules));
  EXPECT_FALSE(same_rules);
}

TEST(CombineTest, ModesOfAStackedModel) {
  PHIGATE_ASSERT_OK_AND_ASSIGN(auto tagger, model::Tagger::FromBytes(StackedModel(RulesVersion())));
  const std::string text = "note says Brumble then stop";
  const Findings rules = {
      {PhiCategory::kName, 10, 17, 0.7f, "name_rules"},
      {PhiCategory::kEmail, 23, 27, 0.95f, "email"},           // certain: kept
      {PhiCategory::kLocation, 0, 4, 0.6f, "location_rules"},  // tagger says O: dropped
  };
  Findings tagged, out = rules;
  PHIGATE_ASSERT_OK(RunTagger(*tagger, Mode::kBoth, text, &tagged, &out));
  ResolveConflicts(text, &out);
  ASSERT_EQ(out.size(), 2u);
  EXPECT_EQ(out[0].begin, 10u);
  EXPECT_EQ(out[0].recognizer, model::kTaggerRecognizer);
  EXPECT_EQ(out[1].category, PhiCategory::kEmail);

  out = rules;
  PHIGATE_ASSERT_OK(RunTagger(*tagger, Mode::kModel, text, &tagged, &out));
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].begin, 10u);

  out = rules;
  PHIGATE_ASSERT_OK(RunTagger(*tagger, Mode::kUnion, text, &tagged, &out));
  ResolveConflicts(text, &out);
  EXPECT_EQ(out.size(), 3u);
}

TEST(CombineTest, BothVetoesWeakRuleFindingsSoonerAndDropsLowTaggerSpansAlone) {
  // Rule findings (sorted, disjoint) and the tagger's outside score of each.
  const Findings hints = {
      {PhiCategory::kName, 0, 5, 0.5f, "name_rules"},       // weak, outside 0.6: vetoed
      {PhiCategory::kName, 10, 15, 0.6f, "name_rules"},     // outside 0.6 < 0.7: kept
      {PhiCategory::kName, 20, 25, 0.5f, "name_rules"},     // weak, outside 0.5: kept
      {PhiCategory::kEmail, 30, 40, 0.95f, "email"},        // certain: kept at any outside
      {PhiCategory::kLocation, 50, 55, 0.6f, "loc_rules"},  // outside 0.75: vetoed
  };
  const std::vector<float> outside = {0.6f, 0.6f, 0.5f, 0.99f, 0.75f};
  const Findings tagged = {
      {PhiCategory::kName, 12, 18, 0.52f, model::kTaggerRecognizer},  // overlaps 10-15: kept
      {PhiCategory::kName, 60, 65, 0.52f, model::kTaggerRecognizer},  // alone, low: dropped
      {PhiCategory::kName, 70, 75, 0.8f, model::kTaggerRecognizer},   // alone, high: kept
      {PhiCategory::kName, 2, 4, 0.51f, model::kTaggerRecognizer},    // overlaps vetoed 0-5: kept
  };
  Findings out;
  CombineBoth(hints, outside, tagged, kDefaultVetoScore, &out);
  std::vector<std::pair<size_t, size_t>> got;
  for (const Finding& f : out) got.emplace_back(f.begin, f.end);
  std::sort(got.begin(), got.end());
  const std::vector<std::pair<size_t, size_t>> want = {{2, 4},   {10, 15}, {12, 18},
                                                       {20, 25}, {30, 40}, {70, 75}};
  EXPECT_EQ(got, want);
  // A lower veto than the weak one applies to every finding.
  CombineBoth(hints, outside, {}, 0.52f, &out);
  ASSERT_EQ(out.size(), 2u);
  EXPECT_EQ(out[0].begin, 20u);
  EXPECT_EQ(out[1].begin, 30u);
}

TEST(CombineTest, EngineRefusesAStackedModelWithAnotherHintEncoding) {
  const std::string path = (std::filesystem::temp_directory_path() /
                            ("phigate_combine_test_" + std::to_string(::getpid()) + ".bin"))
                               .string();
  {
    std::ofstream f(path, std::ios::binary);
    const std::string bytes = StackedModel("hints=9;patterns=1");
    f.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
  }
  EngineOptions eo;
  eo.data_dir = std::string(PHIGATE_SOURCE_DIR) + "/data";
  eo.model_path = path;
  eo.mode = Mode::kBoth;
  auto engine = Engine::Create(eo);
  std::filesystem::remove(path);
  ASSERT_FALSE(engine.ok());
  EXPECT_EQ(engine.status().code(), absl::StatusCode::kInvalidArgument);
}

TEST(CombineTest, EngineInBothModeWithAStackedModelKeepsCertainRuleFindings) {
  const std::string path = (std::filesystem::temp_directory_path() /
                            ("phigate_combine_test2_" + std::to_string(::getpid()) + ".bin"))
                               .string();
  {
    std::ofstream f(path, std::ios::binary);
    const std::string bytes = StackedModel(RulesVersion());
    f.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
  }
  EngineOptions eo;
  eo.data_dir = std::string(PHIGATE_SOURCE_DIR) + "/data";
  eo.model_path = path;
  eo.mode = Mode::kBoth;
  auto engine = Engine::Create(eo);
  std::filesystem::remove(path);
  PHIGATE_ASSERT_OK(engine.status());
  const std::string text = "Write to qorv.blenn@example.org or call SSN 123-45-6789 today.";
  PHIGATE_ASSERT_OK_AND_ASSIGN(Findings found, (*engine)->Scan(text));
  bool email = false, ssn = false;
  for (const Finding& f : found) {
    email = email || f.category == PhiCategory::kEmail;
    ssn = ssn || f.category == PhiCategory::kSsn;
  }
  EXPECT_TRUE(email);
  EXPECT_TRUE(ssn);
}

// The shipped model, and engine options that use it in `mode` (the tests
// skip when the file is absent).
std::string ShippedModel() {
  return std::string(PHIGATE_SOURCE_DIR) + "/models/phigate_tagger.bin";
}
EngineOptions ShippedModelOptions(Mode mode) {
  EngineOptions eo;
  eo.data_dir = std::string(PHIGATE_SOURCE_DIR) + "/data";
  eo.model_path = ShippedModel();
  eo.mode = mode;
  return eo;
}

// The shipped model, used as the engine uses it (a stacked model reads the
// rule findings as features), finds invented PHI in model-only mode.
TEST(CombineTest, ShippedModelInTheEngineFindsInventedPhi) {
  if (!std::filesystem::exists(ShippedModel())) GTEST_SKIP() << "no shipped model";
  const EngineOptions eo = ShippedModelOptions(Mode::kModel);
  PHIGATE_ASSERT_OK_AND_ASSIGN(auto engine, Engine::Create(eo));
  const std::string text =
      "Pt Quintavia Zorblat seen 3/14 by Dr. Alvarez, lives in Ostervale. Call 617-555-0199.";
  PHIGATE_ASSERT_OK_AND_ASSIGN(Findings found, engine->Scan(text));
  bool name = false, date = false, phone = false;
  for (const Finding& f : found) {
    const std::string_view v = std::string_view(text).substr(f.begin, f.end - f.begin);
    name = name || (f.category == PhiCategory::kName && v == "Quintavia Zorblat");
    date = date || (f.category == PhiCategory::kDate && v == "3/14");
    phone = phone || (f.category == PhiCategory::kPhone && v == "617-555-0199");
  }
  EXPECT_TRUE(name);
  EXPECT_TRUE(date);
  EXPECT_TRUE(phone);
}

// A quoted name ('Daughter "Mary" called'): the tagger's span stops at the
// quotation marks (it had taken the closing one, and the placeholder ate it).
TEST(CombineTest, TaggerSpansDoNotTakeQuotationMarks) {
  if (!std::filesystem::exists(ShippedModel())) GTEST_SKIP() << "no shipped model";
  const std::string text =
      "Daughter \"Mary\" called from Boston. Son \"Rob Quintavia\" visited; \"\" and \" alone.";
  for (Mode mode : {Mode::kModel, Mode::kBoth}) {
    PHIGATE_ASSERT_OK_AND_ASSIGN(auto engine, Engine::Create(ShippedModelOptions(mode)));
    PHIGATE_ASSERT_OK_AND_ASSIGN(Findings found, engine->Scan(text));
    bool mary = false, rob = false;
    for (const Finding& f : found) {
      ASSERT_LT(f.begin, f.end);
      EXPECT_NE(text[f.begin], '"') << f.begin;
      EXPECT_NE(text[f.end - 1], '"') << f.end;
      const std::string_view v = std::string_view(text).substr(f.begin, f.end - f.begin);
      mary = mary || (f.category == PhiCategory::kName && v == "Mary");
      rob = rob || (f.category == PhiCategory::kName && v == "Rob Quintavia");
    }
    EXPECT_TRUE(mary) << static_cast<int>(mode);
    EXPECT_TRUE(rob) << static_cast<int>(mode);
  }
}

// EngineOptions::veto_score (phigate --veto): out of [0, 1] is refused; a lower
// veto only ever drops rule findings, so what it covers is a subset of what a
// higher one covers, and checksummed or labelled identifiers stay. On 40 notes
// of the project's generator (seed 5) the veto changes something.
TEST(CombineTest, LowerVetoCoversLessAndKeepsCertainFindings) {
  if (!std::filesystem::exists(ShippedModel())) GTEST_SKIP() << "no shipped model";
  EngineOptions eo = ShippedModelOptions(Mode::kBoth);
  for (float bad : {-0.1f, 1.5f, std::numeric_limits<float>::quiet_NaN()}) {
    eo.veto_score = bad;
    EXPECT_EQ(Engine::Create(eo).status().code(), absl::StatusCode::kInvalidArgument) << bad;
  }
  std::unique_ptr<Engine> engines[3];
  const float vetoes[3] = {0.5f, kDefaultVetoScore, 1.0f};
  for (int v = 0; v < 3; ++v) {
    eo.veto_score = vetoes[v];
    PHIGATE_ASSERT_OK_AND_ASSIGN(engines[v], Engine::Create(eo));
  }
  synth::GeneratorOptions go;
  go.seed = 5;
  go.data_dir = eo.data_dir;
  PHIGATE_ASSERT_OK_AND_ASSIGN(auto gen, synth::Generator::Create(go));
  size_t n_low = 0, n_high = 0;
  for (const synth::Note& note : gen->GenerateMany(40)) {
    const std::string& text = note.text;
    Findings found[3];
    std::vector<bool> c[3];
    for (int v = 0; v < 3; ++v) {
      PHIGATE_ASSERT_OK_AND_ASSIGN(found[v], engines[v]->Scan(text));
      c[v].assign(text.size(), false);
      for (const Finding& f : found[v])
        std::fill(c[v].begin() + f.begin, c[v].begin() + f.end, true);
    }
    // Certain findings (checksummed, labelled) are never vetoed.
    for (const Finding& f : found[2]) {
      if (!IsCertainRuleFinding(f)) continue;
      bool kept = false;
      for (const Finding& g : found[0]) kept = kept || (g.begin <= f.begin && f.end <= g.end);
      EXPECT_TRUE(kept) << f.recognizer;
    }
    for (size_t i = 0; i < text.size(); ++i) {
      EXPECT_TRUE(!c[0][i] || c[1][i]) << i;
      EXPECT_TRUE(!c[1][i] || c[2][i]) << i;
      n_low += c[0][i];
      n_high += c[2][i];
    }
  }
  EXPECT_LT(n_low, n_high);  // the veto did something
}

}  // namespace
}  // namespace phigate::detect
