// The precompiled pattern databases (pattern_db.h): the build embeds them, the
// engine uses them only when they hold exactly its rows, and they report the
// same matches as databases compiled at start-up.
#include "src/detect/pattern_db.h"

#include <algorithm>
#include <string>
#include <tuple>
#include <vector>

#include "gtest/gtest.h"
#include "tests/detect/generated_notes.h"

namespace phigate::detect {
namespace {

using Report = std::tuple<size_t, unsigned int, unsigned long long>;  // database, row, end

// Every (database, row, end offset) Hyperscan reports on `text`, sorted.
std::vector<Report> Reports(const PatternDatabases& dbs, const std::string& text) {
  std::vector<Report> out;
  for (size_t k = 0; k < dbs.get().size(); ++k) {
    hs_scratch_t* scratch = nullptr;
    EXPECT_EQ(hs_alloc_scratch(dbs.get()[k], &scratch), HS_SUCCESS);
    struct Ctx {
      std::vector<Report>* out;
      size_t db;
    } ctx{&out, k};
    auto on_match = [](unsigned int id, unsigned long long /*from*/, unsigned long long to,
                       unsigned int /*flags*/, void* p) -> int {
      auto* c = static_cast<Ctx*>(p);
      c->out->emplace_back(c->db, id, to);
      return 0;
    };
    EXPECT_EQ(hs_scan(dbs.get()[k], text.data(), static_cast<unsigned int>(text.size()), 0, scratch,
                      on_match, &ctx),
              HS_SUCCESS);
    hs_free_scratch(scratch);
  }
  std::sort(out.begin(), out.end());
  return out;
}

TEST(PatternDbTest, TheEmbeddedSetHoldsTheCurrentRowsAndMatchesACompiledOne) {
  const auto specs = DefaultPatterns();
  const std::vector<PatternDatabaseSpec> rows = PatternDatabaseSpecs(specs);
  ASSERT_FALSE(EmbeddedPatternDatabases().empty());
  auto embedded = LoadPatternDatabases(specs, rows, EmbeddedPatternDatabases());
  ASSERT_TRUE(embedded.ok()) << embedded.status();
  EXPECT_TRUE(embedded->precompiled());  // built on this machine from these rows
  ASSERT_EQ(embedded->get().size(), rows.size());

  auto compiled = CompilePatternDatabases(specs, rows);
  ASSERT_TRUE(compiled.ok()) << compiled.status();
  EXPECT_FALSE(compiled->precompiled());

  const std::string text = testing::GeneratedNotes(23, 300);
  ASSERT_FALSE(text.empty());
  const std::vector<Report> a = Reports(*embedded, text);
  EXPECT_GT(a.size(), 1000u);  // the notes are full of identifiers
  EXPECT_EQ(a, Reports(*compiled, text));
}

// A small table (two databases: phone_intl has its own) for the fallback
// tests: each fallback compiles, and compiling the full table takes seconds
// under the sanitizers.
constexpr PatternSpec kSmallTable[] = {
    {"test_mrn", R"(\bMRN\s*[0-9]{6,8}\b)", PhiCategory::kMrn, 0.5f, true},
    {"phone_intl", R"(\+[0-9]{2} [0-9]{3} [0-9]{4})", PhiCategory::kPhone, 0.5f, false}};

std::string SmallTableBytes() {
  const std::vector<PatternDatabaseSpec> rows = PatternDatabaseSpecs(kSmallTable);
  auto compiled = CompilePatternDatabases(kSmallTable, rows);
  EXPECT_TRUE(compiled.ok()) << compiled.status();
  if (!compiled.ok()) return "";
  auto bytes = SerializePatternDatabases(rows, *compiled);
  EXPECT_TRUE(bytes.ok()) << bytes.status();
  return bytes.ok() ? *bytes : "";
}

TEST(PatternDbTest, SerializeThenLoadRoundTrips) {
  const std::vector<PatternDatabaseSpec> rows = PatternDatabaseSpecs(kSmallTable);
  ASSERT_EQ(rows.size(), 2u);
  const std::string bytes = SmallTableBytes();
  ASSERT_FALSE(bytes.empty());
  auto loaded = LoadPatternDatabases(kSmallTable, rows, bytes);
  ASSERT_TRUE(loaded.ok()) << loaded.status();
  EXPECT_TRUE(loaded->precompiled());
  EXPECT_EQ(loaded->get().size(), rows.size());
  const std::string text = "seen MRN 4471920, cell +44 207 5550 (synthetic)";
  const std::vector<Report> reports = Reports(*loaded, text);
  EXPECT_FALSE(reports.empty());
  auto compiled = CompilePatternDatabases(kSmallTable, rows);
  ASSERT_TRUE(compiled.ok()) << compiled.status();
  EXPECT_EQ(reports, Reports(*compiled, text));
}

TEST(PatternDbTest, ASetMadeFromOtherRowsIsNotUsed) {
  const std::vector<PatternDatabaseSpec> rows = PatternDatabaseSpecs(kSmallTable);
  const std::string bytes = SmallTableBytes();
  ASSERT_FALSE(bytes.empty());
  // One row's expression changed: the set no longer describes the table.
  std::vector<PatternDatabaseSpec> changed = rows;
  changed[0].exprs[0] = "(?:" + changed[0].exprs[0] + ")|zq7x";
  EXPECT_NE(DescribePatternDatabases(changed), DescribePatternDatabases(rows));
  auto loaded = LoadPatternDatabases(kSmallTable, changed, bytes);
  ASSERT_TRUE(loaded.ok()) << loaded.status();
  EXPECT_FALSE(loaded->precompiled());
  // A changed flag is a different set too.
  changed = rows;
  changed[0].flags[0] ^= HS_FLAG_CASELESS;
  loaded = LoadPatternDatabases(kSmallTable, changed, bytes);
  ASSERT_TRUE(loaded.ok()) << loaded.status();
  EXPECT_FALSE(loaded->precompiled());
  // The build's set is for the default table, not this one.
  loaded = LoadPatternDatabases(kSmallTable, rows, EmbeddedPatternDatabases());
  ASSERT_TRUE(loaded.ok()) << loaded.status();
  EXPECT_FALSE(loaded->precompiled());
}

TEST(PatternDbTest, DamagedOrMissingBytesCompileInstead) {
  const std::vector<PatternDatabaseSpec> rows = PatternDatabaseSpecs(kSmallTable);
  const std::string good = SmallTableBytes();
  ASSERT_GT(good.size(), 64u);
  const std::vector<std::string> bad = {
      "",                                // a build without the set
      good.substr(0, good.size() - 40),  // truncated inside the last database
      good.substr(0, 20),                // truncated inside the description
      good + "trailing",                 // more than the generator writes
      "not a pattern database at all"};  // no magic
  for (const std::string& bytes : bad) {
    auto loaded = LoadPatternDatabases(kSmallTable, rows, bytes);
    ASSERT_TRUE(loaded.ok()) << loaded.status();
    EXPECT_FALSE(loaded->precompiled()) << bytes.size();
    EXPECT_EQ(loaded->get().size(), rows.size());
  }
}

TEST(PatternDbTest, ARowThatDoesNotCompileIsNamed) {
  const PatternSpec bad[] = {{"broken_row", "(unclosed", PhiCategory::kMrn, 0.5f, false}};
  auto compiled = CompilePatternDatabases(bad, PatternDatabaseSpecs(bad));
  ASSERT_FALSE(compiled.ok());
  EXPECT_NE(compiled.status().message().find("broken_row"), std::string::npos);
}

}  // namespace
}  // namespace phigate::detect
