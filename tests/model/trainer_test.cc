// Training on a tiny synthetic set: it learns, is deterministic, and the
// JSONL reader converts code points to bytes. All names are invented.
#include "phigate/model/trainer.h"

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "phigate/model/tagger.h"
#include "tests/testing/status_matchers.h"

namespace phigate::model {
namespace {

// Invented values, never real people.
constexpr std::string_view kFirst[] = {"Quintavia", "Brelmor", "Ostrid",  "Zanthe", "Pellorin",
                                       "Vexanna",   "Torvik",  "Alembre", "Jorrin", "Misquel"};
constexpr std::string_view kLast[] = {"Zorblat",   "Ixworth", "Quellan", "Drummaq", "Varsk",
                                      "Fennimore", "Oskaloo", "Brindt",  "Hallisk", "Yorrow"};
constexpr std::string_view kCity[] = {"Glimmerford", "Ostervale", "Pennock", "Quarrytown",
                                      "Wendlebury"};

void AddSpan(Example* ex, std::string_view value, EntityType type) {
  ex->spans.push_back({ex->text.size(), ex->text.size() + value.size(), type});
  ex->text.append(value);
}

// "Pt <First> <Last> seen on <m>/<d> at <City> hospital. Called <First> today."
std::vector<Example> TinySet(int n) {
  std::vector<Example> out;
  for (int i = 0; i < n; ++i) {
    Example ex;
    ex.id = std::to_string(i % 7) + "-" + std::to_string(i);
    const auto k = static_cast<size_t>(i);
    ex.text = "Pt ";
    AddSpan(&ex, kFirst[k % 10], EntityType::kName);
    ex.text += " ";
    ex.spans.back().end = ex.text.size() - 1;
    const size_t b = ex.spans.back().begin;
    ex.text.append(kLast[(k * 3) % 10]);
    ex.spans.back() = {b, ex.text.size(), EntityType::kName};
    ex.text += " seen on ";
    AddSpan(&ex, std::to_string(1 + i % 12) + "/" + std::to_string(1 + (i * 5) % 28),
            EntityType::kDate);
    ex.text += " at ";
    AddSpan(&ex, kCity[k % 5], EntityType::kLocation);
    ex.text += " hospital. BP stable, no pain. Called ";
    AddSpan(&ex, kFirst[(k + 3) % 10], EntityType::kName);
    ex.text += " today.";
    out.push_back(std::move(ex));
  }
  return out;
}

TrainOptions SmallOptions() {
  TrainOptions o;
  o.hash_bits = 16;
  o.epochs = 6;
  o.seed = 3;
  o.recall_bias = 0.0f;
  return o;
}

TEST(TrainerTest, LearnsTinySetAndErrorsDecrease) {
  const auto data = TinySet(60);
  TrainStats st;
  PHIGATE_ASSERT_OK_AND_ASSIGN(std::string bytes, Train(data, SmallOptions(), &st));
  ASSERT_EQ(st.token_errors_per_epoch.size(), 6u);
  EXPECT_GT(st.token_errors_per_epoch.front(), 0u);
  EXPECT_LT(st.token_errors_per_epoch.back(), st.token_errors_per_epoch.front());
  EXPECT_EQ(st.examples, 60u);

  PHIGATE_ASSERT_OK_AND_ASSIGN(auto tagger, Tagger::FromBytes(bytes));
  size_t correct = 0, total = 0;
  for (const Example& ex : data) {
    std::vector<Finding> found;
    PHIGATE_ASSERT_OK(tagger->Tag(ex.text, &found));
    for (const LabeledSpan& s : ex.spans) {
      ++total;
      for (const Finding& f : found) {
        if (f.begin == s.begin && f.end == s.end && f.category == ToCategory(s.type)) ++correct;
      }
    }
  }
  EXPECT_EQ(correct, total);
}

TEST(TrainerTest, GeneralisesToUnseenNamesInSameContext) {
  const auto data = TinySet(60);
  PHIGATE_ASSERT_OK_AND_ASSIGN(std::string bytes, Train(data, SmallOptions(), nullptr));
  PHIGATE_ASSERT_OK_AND_ASSIGN(auto tagger, Tagger::FromBytes(bytes));
  const std::string text = "Pt Kelvanor Ruspitt seen on 3/9 at Ostervale hospital.";
  std::vector<Finding> found;
  PHIGATE_ASSERT_OK(tagger->Tag(text, &found));
  ASSERT_FALSE(found.empty());
  EXPECT_EQ(found[0].category, PhiCategory::kName);
  EXPECT_EQ(text.substr(found[0].begin, found[0].end - found[0].begin), "Kelvanor Ruspitt");
  for (const Finding& f : found) {
    EXPECT_GT(f.score, 0.5f);
    EXPECT_LE(f.score, 1.0f);
    EXPECT_EQ(f.recognizer, kTaggerRecognizer);
  }
}

TEST(TrainerTest, SameSeedSameBytesOtherSeedOtherBytes) {
  const auto data = TinySet(30);
  PHIGATE_ASSERT_OK_AND_ASSIGN(std::string a, Train(data, SmallOptions(), nullptr));
  PHIGATE_ASSERT_OK_AND_ASSIGN(std::string b, Train(data, SmallOptions(), nullptr));
  EXPECT_EQ(a, b);
  TrainOptions other = SmallOptions();
  other.seed = 4;
  PHIGATE_ASSERT_OK_AND_ASSIGN(std::string c, Train(data, other, nullptr));
  EXPECT_NE(a, c);
}

TEST(TrainerTest, RejectsBadOptions) {
  TrainOptions o = SmallOptions();
  o.hash_bits = 40;
  EXPECT_EQ(Train(TinySet(3), o, nullptr).status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(Train({}, SmallOptions(), nullptr).status().code(), absl::StatusCode::kInvalidArgument);
}

class JsonlTest : public ::testing::Test {
 protected:
  std::string Write(const std::string& content) {
    const std::string path =
        (std::filesystem::temp_directory_path() /
         ("phigate_model_jsonl_" +
          std::to_string(::testing::UnitTest::GetInstance()->random_seed()) + "_" +
          ::testing::UnitTest::GetInstance()->current_test_info()->name() + ".jsonl"))
            .string();
    std::ofstream(path) << content;
    paths_.push_back(path);
    return path;
  }
  void TearDown() override {
    for (const auto& p : paths_) std::remove(p.c_str());
  }
  std::vector<std::string> paths_;
};

TEST_F(JsonlTest, ConvertsCodePointsToBytesAndDropsNonPhi) {
  // "Zoë" is 3 code points and 4 bytes; the name after it starts at cp 4 = byte 5.
  const std::string path = Write(
      "{\"id\":\"12-3\",\"text\":\"Zo\\u00eb Quellan 2019\",\"spans\":["
      "{\"start\":4,\"end\":11,\"type\":\"NAME\",\"phi\":true},"
      "{\"start\":12,\"end\":16,\"type\":\"DATE\",\"phi\":false},"
      "{\"start\":0,\"end\":3,\"type\":\"ORG\"}]}\n\n");
  std::vector<Example> ex;
  PHIGATE_ASSERT_OK(ReadJsonl(path, &ex));
  ASSERT_EQ(ex.size(), 1u);
  EXPECT_EQ(ex[0].id, "12-3");
  ASSERT_EQ(ex[0].spans.size(), 1u);
  EXPECT_EQ(ex[0].spans[0].begin, 5u);
  EXPECT_EQ(ex[0].spans[0].end, 12u);
  EXPECT_EQ(ex[0].text.substr(5, 7), "Quellan");
}

TEST_F(JsonlTest, MalformedLinesAreInvalidArgumentWithLineNumber) {
  std::vector<Example> ex;
  const Status s = ReadJsonl(Write("{\"id\":\"1-1\",\"text\":\"ok\"}\n{not json\n"), &ex);
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(s.message().find(":2:"), absl::string_view::npos);
  ex.clear();
  EXPECT_EQ(ReadJsonl(Write("{\"id\":\"1-1\",\"text\":\"ab\",\"spans\":[{\"start\":1,\"end\":9,"
                            "\"type\":\"NAME\"}]}\n"),
                      &ex)
                .code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(ReadJsonl("/nonexistent/x.jsonl", &ex).code(), absl::StatusCode::kNotFound);
}

TEST(FoldsTest, PatientsStayTogetherAndFoldsAreBalanced) {
  std::vector<Example> ex;
  for (int p = 0; p < 20; ++p) {
    for (int n = 0; n < 3; ++n) ex.push_back({std::to_string(p) + "-" + std::to_string(n), "", {}});
  }
  const std::vector<int> f = AssignFolds(ex, 5, 9);
  std::vector<int> per_fold(5, 0);
  for (size_t i = 0; i < ex.size(); ++i) {
    EXPECT_EQ(f[i], f[i - i % 3]) << "patient split across folds";
    ++per_fold[static_cast<size_t>(f[i])];
  }
  for (int c : per_fold) EXPECT_EQ(c, 12);
  EXPECT_EQ(f, AssignFolds(ex, 5, 9));
  EXPECT_EQ(PatientOf("12-3"), "12");
  EXPECT_EQ(PatientOf("solo"), "solo");
}

}  // namespace
}  // namespace phigate::model
