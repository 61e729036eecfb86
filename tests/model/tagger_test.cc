// Model file round trip, corruption, and robustness of Tag().
#include "phigate/model/tagger.h"

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>
#include <thread>
#include <vector>

#include "gtest/gtest.h"
#include "phigate/model/trainer.h"
#include "tests/testing/status_matchers.h"

namespace phigate::model {
namespace {

// A small model trained once on invented notes.
const std::string& ModelBytes() {
  static const std::string* bytes = [] {
    std::vector<Example> data;
    const char* names[] = {"Quintavia Zorblat", "Brelmor Ixworth", "Ostrid Quellan",
                           "Zanthe Drummaq"};
    for (int i = 0; i < 40; ++i) {
      Example ex;
      ex.id = std::to_string(i) + "-1";
      const std::string name = names[i % 4];
      ex.text = "Seen by Dr. " + name + " on 4/" + std::to_string(1 + i % 27) + ", stable.";
      ex.spans.push_back({12, 12 + name.size(), EntityType::kName});
      const size_t d = 12 + name.size() + 4;
      ex.spans.push_back({d, ex.text.size() - 9, EntityType::kDate});
      data.push_back(ex);
    }
    TrainOptions o;
    o.hash_bits = 14;
    o.epochs = 5;
    o.metadata = "unit test model";
    auto r = Train(data, o, nullptr);
    return new std::string(r.ok() ? *r : "");
  }();
  return *bytes;
}

std::vector<Finding> TagOrDie(const Tagger& t, std::string_view text) {
  std::vector<Finding> f;
  EXPECT_TRUE(t.Tag(text, &f).ok());
  return f;
}

class TaggerFileTest : public ::testing::Test {
 protected:
  void SetUp() override {
    path_ = (std::filesystem::temp_directory_path() /
             ("phigate_model_" +
              std::string(::testing::UnitTest::GetInstance()->current_test_info()->name()) + "_" +
              std::to_string(::testing::UnitTest::GetInstance()->random_seed()) + ".bin"))
                .string();
  }
  void TearDown() override { std::remove(path_.c_str()); }
  void WriteFile(const std::string& bytes) {
    std::ofstream(path_, std::ios::binary | std::ios::trunc) << bytes;
  }
  std::string path_;
};

TEST_F(TaggerFileTest, SaveLoadRoundTripGivesIdenticalPredictions) {
  ASSERT_FALSE(ModelBytes().empty());
  WriteFile(ModelBytes());
  PHIGATE_ASSERT_OK_AND_ASSIGN(auto loaded, Tagger::Load(path_));
  PHIGATE_ASSERT_OK_AND_ASSIGN(auto direct, Tagger::FromBytes(ModelBytes()));
  EXPECT_EQ(loaded->metadata(), "unit test model");
  EXPECT_EQ(loaded->hash_bits(), 14u);
  const std::string text = "Seen by Dr. Ostrid Quellan on 4/9, stable. Seen by Dr. Pim Ro on 4/2.";
  const auto a = TagOrDie(*loaded, text);
  const auto b = TagOrDie(*direct, text);
  ASSERT_FALSE(a.empty());
  ASSERT_EQ(a.size(), b.size());
  for (size_t i = 0; i < a.size(); ++i) {
    EXPECT_EQ(a[i], b[i]);
    EXPECT_EQ(a[i].score, b[i].score);
  }
}

TEST_F(TaggerFileTest, MissingFileIsNotFound) {
  EXPECT_EQ(Tagger::Load(path_ + ".absent").status().code(), absl::StatusCode::kNotFound);
}

TEST_F(TaggerFileTest, EveryTruncationIsRefused) {
  const std::string& bytes = ModelBytes();
  for (size_t len : {size_t{0}, size_t{4}, size_t{8}, size_t{12}, size_t{40}, bytes.size() / 2,
                     bytes.size() - 5, bytes.size() - 1}) {
    auto r = Tagger::FromBytes(std::string_view(bytes).substr(0, len));
    EXPECT_FALSE(r.ok()) << len;
  }
  WriteFile(bytes.substr(0, bytes.size() - 100));
  const Status s = Tagger::Load(path_).status();
  EXPECT_EQ(s.code(), absl::StatusCode::kDataLoss);
  EXPECT_NE(s.message().find("corrupt"), absl::string_view::npos) << s;
}

TEST_F(TaggerFileTest, FlippedBytesAreDataLoss) {
  const std::string& bytes = ModelBytes();
  for (size_t pos :
       {size_t{20}, size_t{40}, bytes.size() / 3, bytes.size() / 2, bytes.size() - 1}) {
    std::string bad = bytes;
    bad[pos] = static_cast<char>(bad[pos] ^ 0x10);
    EXPECT_EQ(Tagger::FromBytes(bad).status().code(), absl::StatusCode::kDataLoss) << pos;
  }
}

TEST_F(TaggerFileTest, WrongMagicOrVersionIsInvalidArgument) {
  std::string bad = ModelBytes();
  bad[0] = 'X';
  EXPECT_EQ(Tagger::FromBytes(bad).status().code(), absl::StatusCode::kInvalidArgument);
  std::string v2 = ModelBytes();
  v2[8] = 2;  // format version
  const Status s = Tagger::FromBytes(v2).status();
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(s.message().find("version"), absl::string_view::npos);
}

TEST(TaggerTest, HostileInputIsTaggedWithValidSpans) {
  PHIGATE_ASSERT_OK_AND_ASSIGN(auto t, Tagger::FromBytes(ModelBytes()));
  std::string hostile("Dr. \xFF\xFE\0Quintavia\0 on 4/\xC3", 24);
  hostile += std::string(3000, '\0');
  hostile += std::string(200000, 'x');  // one huge token, cut into chunks
  hostile += "\nSeen by Dr. Zanthe Drummaq on 4/3, stable.";
  for (std::string_view text : {std::string_view(), std::string_view(hostile)}) {
    std::vector<Finding> f;
    PHIGATE_ASSERT_OK(t->Tag(text, &f));
    size_t last_end = 0;
    for (const Finding& x : f) {
      EXPECT_LT(x.begin, x.end);
      EXPECT_LE(x.end, text.size());
      EXPECT_GE(x.begin, last_end);
      last_end = x.end;
      EXPECT_GE(x.score, 0.0f);
      EXPECT_LE(x.score, 1.0f);
    }
  }
}

TEST(TaggerTest, RecallBiasAndMinScoreOptions) {
  PHIGATE_ASSERT_OK_AND_ASSIGN(auto t, Tagger::FromBytes(ModelBytes()));
  const std::string text = "Seen by Dr. Zanthe Drummaq on 4/3, stable. Quiet night, ate lunch.";
  TagOptions high;
  high.recall_bias = 1e6f;  // everything becomes PHI
  std::vector<Finding> all;
  PHIGATE_ASSERT_OK(t->Tag(text, high, &all));
  size_t covered = 0;
  for (const Finding& f : all) covered += f.size();
  EXPECT_GT(covered, text.size() / 2);
  TagOptions strict;
  strict.min_score = 1.01f;
  std::vector<Finding> none;
  PHIGATE_ASSERT_OK(t->Tag(text, strict, &none));
  EXPECT_TRUE(none.empty());
}

TEST(TaggerTest, ConcurrentTagCallsAgree) {
  PHIGATE_ASSERT_OK_AND_ASSIGN(auto t, Tagger::FromBytes(ModelBytes()));
  const std::string text = "Seen by Dr. Brelmor Ixworth on 4/12, stable.";
  const auto want = TagOrDie(*t, text);
  std::vector<std::thread> threads;
  std::vector<int> ok(4, 0);
  for (int k = 0; k < 4; ++k) {
    threads.emplace_back([&, k] {
      bool same = true;
      for (int i = 0; i < 50; ++i) {
        std::vector<Finding> f;
        same = same && t->Tag(text, &f).ok() && f == want;
      }
      ok[static_cast<size_t>(k)] = same ? 1 : 0;
    });
  }
  for (auto& th : threads) th.join();
  for (int v : ok) EXPECT_EQ(v, 1);
}

}  // namespace
}  // namespace phigate::model

namespace phigate::model {
namespace {

// The shipped model is stacked: without the rule findings it reads "the rules
// found nothing", so here only a shape it still finds on its own is checked
// (the session-12 model no longer tags the date alone); combine_test.cc checks
// names, dates and phones inside the engine, as it is used.
TEST(ShippedModelTest, LoadsAndFindsInventedPhi) {
  const std::string path = ::phigate::testing::SourceDir() + "/models/phigate_tagger.bin";
  if (!std::filesystem::exists(path)) GTEST_SKIP() << "no shipped model";
  PHIGATE_ASSERT_OK_AND_ASSIGN(auto t, Tagger::Load(path));
  EXPECT_NE(t->metadata().find("\"seed\""), std::string::npos);
  const std::string text =
      "Pt Quintavia Zorblat seen 3/14 by Dr. Alvarez, lives in Ostervale. Call 617-555-0199.";
  std::vector<Finding> found;
  PHIGATE_ASSERT_OK(t->Tag(text, &found));
  EXPECT_TRUE(t->stacked());
  bool phone = false;
  for (const Finding& f : found) {
    const std::string_view v = std::string_view(text).substr(f.begin, f.end - f.begin);
    phone = phone || (f.category == PhiCategory::kPhone && v == "617-555-0199");
  }
  EXPECT_TRUE(phone);
}

}  // namespace
}  // namespace phigate::model
