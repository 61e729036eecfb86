#include "phigate/synth/generator.h"

#include <unistd.h>

#include <cctype>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <string>

#include "gtest/gtest.h"
#include "phigate/core/check.h"
#include "phigate/core/utf8.h"
#include "phigate/synth/checksums.h"
#include "tests/testing/status_matchers.h"

namespace phigate::synth {
namespace {

std::unique_ptr<Generator> Make(uint64_t seed, Style style = Style::kMix,
                                CategorySet cats = CategorySet::All()) {
  GeneratorOptions o;
  o.seed = seed;
  o.style = style;
  o.categories = cats;
  auto g = Generator::Create(o);
  PHIGATE_CHECK(g.ok(), "generator");
  return std::move(g).value();
}

std::string_view Value(const Note& n, const LabeledSpan& s) {
  return std::string_view(n.text).substr(s.begin, s.end - s.begin);
}

bool IsSpace(char c) { return c == ' ' || c == '\n' || c == '\t' || c == '\r'; }

// Structural invariants every note must satisfy.
void CheckNote(const Note& n) {
  ASSERT_FALSE(n.text.empty());
  ASSERT_EQ(FindInvalidUtf8(n.text), std::string_view::npos) << n.id;
  size_t prev_end = 0;
  for (const LabeledSpan& s : n.spans) {
    ASSERT_LT(s.begin, s.end) << n.id;
    ASSERT_LE(s.end, n.text.size()) << n.id;
    ASSERT_GE(s.begin, prev_end) << n.id << " spans overlap or are unsorted";
    prev_end = s.end;
    EXPECT_FALSE(IsSpace(n.text[s.begin])) << n.id;
    EXPECT_FALSE(IsSpace(n.text[s.end - 1])) << n.id;
    // Spans start and end on code point boundaries.
    EXPECT_NE(static_cast<unsigned char>(n.text[s.begin]) & 0xC0, 0x80) << n.id;
    if (s.end < n.text.size()) {
      EXPECT_NE(static_cast<unsigned char>(n.text[s.end]) & 0xC0, 0x80) << n.id;
    }
  }
  size_t prev_ref_end = 0;
  for (const ReferenceSpan& r : n.references) {
    ASSERT_LT(r.begin, r.end);
    ASSERT_LE(r.end, n.text.size());
    ASSERT_GE(r.begin, prev_ref_end);
    prev_ref_end = r.end;
    for (const LabeledSpan& s : n.spans) {
      EXPECT_TRUE(r.end <= s.begin || s.end <= r.begin) << n.id << " reference overlaps PHI";
    }
  }
}

bool AllDigits(std::string_view v) {
  if (v.empty()) return false;
  for (char c : v) {
    if (!std::isdigit(static_cast<unsigned char>(c))) return false;
  }
  return true;
}
size_t CountDigits(std::string_view v) {
  size_t n = 0;
  for (char c : v) n += std::isdigit(static_cast<unsigned char>(c)) ? 1 : 0;
  return n;
}
std::string Upper(std::string_view v) {
  std::string s(v);
  for (char& c : s) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return s;
}

TEST(SynthGeneratorTest, SameSeedSameNotes) {
  auto a = Make(7);
  auto b = Make(7);
  for (int i = 0; i < 300; ++i) {
    const Note x = a->Generate();
    const Note y = b->Generate();
    ASSERT_EQ(x.id, y.id);
    ASSERT_EQ(x.patient_id, y.patient_id);
    ASSERT_EQ(x.text, y.text);
    ASSERT_EQ(x.spans, y.spans);
    ASSERT_EQ(x.references, y.references);
  }
}

TEST(SynthGeneratorTest, DifferentSeedDifferentNotes) {
  auto a = Make(7);
  auto b = Make(8);
  int same = 0;
  for (int i = 0; i < 50; ++i) same += a->Generate().text == b->Generate().text ? 1 : 0;
  EXPECT_EQ(same, 0);
}

TEST(SynthGeneratorTest, GenerateManyEqualsRepeatedGenerate) {
  auto a = Make(3);
  auto b = Make(3);
  const std::vector<Note> many = a->GenerateMany(40);
  ASSERT_EQ(many.size(), 40u);
  for (const Note& n : many) {
    const Note m = b->Generate();
    EXPECT_EQ(n.text, m.text);
    EXPECT_EQ(n.id, m.id);
  }
}

TEST(SynthGeneratorTest, SpansAreSortedDisjointAndOnBoundaries) {
  auto g = Make(11);
  for (int i = 0; i < 1500; ++i) {
    const Note n = g->Generate();
    CheckNote(n);
    if (::testing::Test::HasFatalFailure()) return;
  }
}

// Each labelled value has the shape of its class, so a span that is shifted,
// cut short or runs into its neighbour would fail here.
TEST(SynthGeneratorTest, SpansCoverExactlyTheValues) {
  auto g = Make(12);
  std::map<PhiCategory, size_t> checked;
  size_t checksummed = 0;
  for (int i = 0; i < 2000; ++i) {
    const Note n = g->Generate();
    for (const LabeledSpan& s : n.spans) {
      const std::string_view v = Value(n, s);
      ++checked[s.category];
      // No span may begin or end inside a word, except ages written "92yo" / "92F".
      if (s.begin > 0 && s.category != PhiCategory::kAge) {
        const unsigned char before = static_cast<unsigned char>(n.text[s.begin - 1]);
        EXPECT_FALSE(std::isalnum(before)) << n.id << " " << CategoryName(s.category);
      }
      if (s.end < n.text.size() && s.category != PhiCategory::kAge) {
        const unsigned char after = static_cast<unsigned char>(n.text[s.end]);
        EXPECT_FALSE(std::isalnum(after)) << n.id << " " << CategoryName(s.category);
      }
      switch (s.category) {
        case PhiCategory::kAge: {
          ASSERT_TRUE(AllDigits(v)) << n.id;
          EXPECT_GT(std::stoi(std::string(v)), 89) << n.id;
          break;
        }
        case PhiCategory::kSsn: {
          if (v.size() == 4) {
            EXPECT_TRUE(AllDigits(v)) << n.id;
          } else {
            EXPECT_TRUE(SsnValid(v)) << n.id;
          }
          break;
        }
        case PhiCategory::kEmail:
          EXPECT_NE(v.find('@'), std::string_view::npos) << n.id;
          EXPECT_EQ(v.find(' '), std::string_view::npos) << n.id;
          break;
        case PhiCategory::kZip:
          EXPECT_TRUE((v.size() == 5 && AllDigits(v)) ||
                      (v.size() == 10 && AllDigits(v.substr(0, 5)) && v[5] == '-' &&
                       AllDigits(v.substr(6))))
              << n.id;
          break;
        case PhiCategory::kPhone:
        case PhiCategory::kFax:
          EXPECT_GE(CountDigits(v), 5u) << n.id;
          break;
        case PhiCategory::kLicense:
          if (v.size() == 10 && AllDigits(v)) {
            EXPECT_TRUE(NpiValid(v)) << n.id;
            ++checksummed;
          }
          // DEA: two letters and seven digits (whole notes may be lower-cased).
          if (v.size() == 9 && std::isalpha(static_cast<unsigned char>(v[0])) &&
              std::isalpha(static_cast<unsigned char>(v[1])) && AllDigits(v.substr(2))) {
            EXPECT_TRUE(DeaValid(Upper(v))) << n.id << " " << v;
            ++checksummed;
          }
          break;
        case PhiCategory::kVehicle:
          if (v.size() == 17) {
            EXPECT_TRUE(VinValid(Upper(v))) << n.id << " " << v;
            ++checksummed;
          }
          break;
        case PhiCategory::kHealthPlan:
          if (v.size() == 11 || (v.size() == 13 && v[4] == '-')) {
            EXPECT_TRUE(MbiValid(Upper(v))) << n.id << " " << v;
            ++checksummed;
          }
          break;
        case PhiCategory::kDevice:
          if (v.substr(0, 4) == "(01)") {
            EXPECT_TRUE(GtinValid(v.substr(4, 14))) << n.id;
          }
          break;
        case PhiCategory::kDate: {
          // A digit or a month name; never a bare year.
          EXPECT_FALSE(v.size() == 4 && AllDigits(v)) << n.id;
          const std::string u = Upper(v);
          bool month = false;
          for (const char* m : {"JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP",
                                "OCT", "NOV", "DEC"}) {
            month |= u.find(m) != std::string::npos;
          }
          EXPECT_TRUE(month || CountDigits(v) >= 2 || (CountDigits(v) == 1 && v.size() == 3))
              << n.id << " " << v;  // "3rd" of "the 3rd"
          break;
        }
        case PhiCategory::kIp:
          EXPECT_TRUE(v.find('.') != std::string_view::npos ||
                      v.find(':') != std::string_view::npos)
              << n.id;
          break;
        case PhiCategory::kName:
          EXPECT_EQ(CountDigits(v), 0u) << n.id;
          break;
        default:
          break;
      }
    }
    for (const ReferenceSpan& r : n.references) {
      const std::string_view v = std::string_view(n.text).substr(r.begin, r.end - r.begin);
      if (r.kind == ReferenceKind::kAge) {
        ASSERT_TRUE(AllDigits(v));
        EXPECT_LE(std::stoi(std::string(v)), 89);
      }
      if (r.kind == ReferenceKind::kYear) {
        EXPECT_TRUE(v.size() == 4 && AllDigits(v));
      }
    }
  }
  EXPECT_GT(checked[PhiCategory::kLicense], 100u);
  EXPECT_GT(checked[PhiCategory::kVehicle], 20u);
  EXPECT_GT(checksummed, 500u);
}

TEST(SynthGeneratorTest, EveryCategoryAppearsIn2000Notes) {
  auto g = Make(5);
  std::map<PhiCategory, size_t> count;
  size_t years = 0, states = 0, young_ages = 0;
  for (int i = 0; i < 2000; ++i) {
    const Note n = g->Generate();
    for (const LabeledSpan& s : n.spans) ++count[s.category];
    for (const ReferenceSpan& r : n.references) {
      years += r.kind == ReferenceKind::kYear ? 1 : 0;
      states += r.kind == ReferenceKind::kState ? 1 : 0;
      young_ages += r.kind == ReferenceKind::kAge ? 1 : 0;
    }
  }
  for (PhiCategory c : AllCategories()) {
    EXPECT_GE(count[c], 10u) << CategoryName(c);
  }
  EXPECT_GT(years, 50u);
  EXPECT_GT(states, 50u);
  EXPECT_GT(young_ages, 50u);
}

TEST(SynthGeneratorTest, CategoryFilterKeepsOnlyThoseClasses) {
  CategorySet cats;
  cats.Add(PhiCategory::kSsn);
  cats.Add(PhiCategory::kDate);
  auto g = Make(9, Style::kMix, cats);
  size_t spans = 0;
  for (int i = 0; i < 300; ++i) {
    const Note n = g->Generate();
    CheckNote(n);
    for (const LabeledSpan& s : n.spans) {
      ++spans;
      EXPECT_TRUE(s.category == PhiCategory::kSsn || s.category == PhiCategory::kDate)
          << CategoryName(s.category);
    }
  }
  EXPECT_GT(spans, 100u);
}

TEST(SynthGeneratorTest, EmptyCategorySetIsInvalid) {
  GeneratorOptions o;
  o.categories = CategorySet();
  EXPECT_EQ(Generator::Create(o).status().code(), absl::StatusCode::kInvalidArgument);
}

TEST(SynthGeneratorTest, EveryStyleWritesLabelledNotes) {
  for (size_t i = 1; i < kNumStyles; ++i) {
    const Style style = static_cast<Style>(i);
    auto g = Make(21, style);
    size_t spans = 0;
    for (int k = 0; k < 30; ++k) {
      const Note n = g->Generate();
      EXPECT_EQ(n.style, StyleName(style));
      CheckNote(n);
      spans += n.spans.size();
      if (style == Style::kUpper) {
        for (char c : n.text) ASSERT_FALSE(c >= 'a' && c <= 'z') << n.id;
      }
      if (style == Style::kLower) {
        for (char c : n.text) ASSERT_FALSE(c >= 'A' && c <= 'Z') << n.id;
      }
    }
    EXPECT_GT(spans, 60u) << StyleName(style);
  }
}

TEST(SynthGeneratorTest, StyleNamesRoundTrip) {
  for (size_t i = 0; i < kNumStyles; ++i) {
    const Style s = static_cast<Style>(i);
    EXPECT_EQ(ParseStyle(StyleName(s)), s);
  }
  EXPECT_EQ(ParseStyle("ICU"), Style::kIcu);
  EXPECT_EQ(ParseStyle("nope"), std::nullopt);
}

TEST(SynthGeneratorTest, NotesOfOnePatientShareIdentifiers) {
  auto g = Make(4);
  std::map<std::string, std::set<std::string>> mrns;
  std::map<std::string, size_t> notes;
  for (int i = 0; i < 600; ++i) {
    const Note n = g->Generate();
    ++notes[n.patient_id];
    for (const LabeledSpan& s : n.spans) {
      if (s.category == PhiCategory::kMrn)
        mrns[n.patient_id].insert(Upper(Value(n, s)));  // some notes are re-cased
    }
  }
  size_t multi = 0;
  for (const auto& [pid, count] : notes) multi += count > 1 ? 1 : 0;
  EXPECT_GT(multi, 50u);
  for (const auto& [pid, set] : mrns) EXPECT_EQ(set.size(), 1u) << pid;
  EXPECT_LT(notes.size(), 600u);
}

TEST(SynthGeneratorTest, InventedAndNonAsciiNamesAppear) {
  auto g = Make(6);
  size_t non_ascii = 0, names = 0;
  for (int i = 0; i < 1000; ++i) {
    const Note n = g->Generate();
    for (const LabeledSpan& s : n.spans) {
      if (s.category != PhiCategory::kName) continue;
      ++names;
      for (char c : Value(n, s)) {
        if (static_cast<unsigned char>(c) >= 0x80) {
          ++non_ascii;
          break;
        }
      }
    }
  }
  EXPECT_GT(names, 3000u);
  EXPECT_GT(non_ascii, 30u);
}

class SynthDataDirTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() /
           ("phigate_synth_test_" + std::to_string(::getpid()) + "_" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::create_directories(dir_ / "gazetteers");
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }
  void Write(const std::string& name, const std::string& content) {
    std::ofstream(dir_ / "gazetteers" / name, std::ios::binary) << content;
  }
  std::filesystem::path dir_;
};

TEST_F(SynthDataDirTest, UsesGazetteerFiles) {
  Write("first_names.tsv", "# first names\nZyxwanda\t10\nQorbert\t5\n");
  Write("surnames.tsv", "Plimpfield\t3\nVORTWELL\t1\n");
  Write("us_cities.tsv", "Testville\tMA\t1000\nNowhere\tZZ\t10\n");
  GeneratorOptions o;
  o.seed = 1;
  o.data_dir = dir_.string();
  o.invented_name_share = 0.0;
  PHIGATE_ASSERT_OK_AND_ASSIGN(auto g, Generator::Create(o));
  EXPECT_FALSE(g->data_sources().first_names_builtin);
  EXPECT_EQ(g->data_sources().first_names, 2u);
  EXPECT_EQ(g->data_sources().surnames, 2u);
  EXPECT_EQ(g->data_sources().cities, 1u);  // the unknown state code is skipped
  std::string all;
  for (int i = 0; i < 100; ++i) all += g->Generate().text;
  EXPECT_NE(all.find("Zyxwanda"), std::string::npos);
  EXPECT_NE(all.find("Plimpfield"), std::string::npos);
  EXPECT_NE(all.find("Vortwell"), std::string::npos);  // all-caps entries are title-cased
  EXPECT_NE(all.find("Testville"), std::string::npos);
}

// Every name non-ASCII: initials, nicknames, re-casing and upper-case notes
// must never cut a UTF-8 sequence.
TEST_F(SynthDataDirTest, NonAsciiNamesKeepTextValid) {
  Write("first_names.tsv", "Łukasz\t3\nÅsa\t2\nZoë\t1\nÉmile\t1\nĐorđe\t1\n");
  Write("surnames.tsv", "Nguyễn\t3\nŻółć-Øster\t1\nÖzdemir\t1\n");
  GeneratorOptions o;
  o.seed = 2;
  o.data_dir = dir_.string();
  o.invented_name_share = 0.0;
  PHIGATE_ASSERT_OK_AND_ASSIGN(auto g, Generator::Create(o));
  size_t names = 0;
  for (int i = 0; i < 600; ++i) {
    const Note n = g->Generate();
    CheckNote(n);
    if (::testing::Test::HasFatalFailure()) return;
    for (const LabeledSpan& s : n.spans) names += s.category == PhiCategory::kName ? 1 : 0;
  }
  EXPECT_GT(names, 1000u);
}

TEST_F(SynthDataDirTest, MissingFilesFallBackToBuiltins) {
  GeneratorOptions o;
  o.data_dir = dir_.string();
  PHIGATE_ASSERT_OK_AND_ASSIGN(auto g, Generator::Create(o));
  EXPECT_TRUE(g->data_sources().first_names_builtin);
  EXPECT_TRUE(g->data_sources().cities_builtin);
  EXPECT_GT(g->data_sources().first_names, 10u);
}

TEST_F(SynthDataDirTest, InvalidUtf8GazetteerIsAnError) {
  Write("surnames.tsv", "Good\t1\nBa\xff\xfe\t1\n");
  GeneratorOptions o;
  o.data_dir = dir_.string();
  const auto g = Generator::Create(o);
  EXPECT_EQ(g.status().code(), absl::StatusCode::kInvalidArgument);
  // The message names the line, never the bytes of the entry.
  EXPECT_EQ(std::string(g.status().message()).find("Ba"), std::string::npos);
}

TEST(SynthRepoDataTest, RepositoryGazetteersLoadWhenPresent) {
  GeneratorOptions o;
  o.data_dir = testing::SourceDir() + "/data";
  PHIGATE_ASSERT_OK_AND_ASSIGN(auto g, Generator::Create(o));
  for (int i = 0; i < 200; ++i) {
    CheckNote(g->Generate());
    if (::testing::Test::HasFatalFailure()) return;
  }
}

}  // namespace
}  // namespace phigate::synth
