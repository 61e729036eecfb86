#include "src/cli/csv.h"

#include <string>
#include <string_view>
#include <vector>

#include "gtest/gtest.h"
#include "tests/testing/status_matchers.h"

namespace phigate::cli {
namespace {

using Records = std::vector<CsvRecord>;

// Parses `input` fed in pieces of `piece` bytes (every split must give the same records).
Result<Records> Parse(std::string_view input, size_t piece = 1 << 20, char delimiter = ',') {
  CsvReader reader(delimiter);
  Records out;
  for (size_t i = 0; i < input.size(); i += piece) {
    PHIGATE_RETURN_IF_ERROR(reader.Feed(input.substr(i, piece), &out));
  }
  PHIGATE_RETURN_IF_ERROR(reader.Finish(&out));
  return out;
}

TEST(CsvTest, QuotedFieldsDoubledQuotesAndLineBreaksInside) {
  const std::string input =
      "id,text\n"
      "1,plain\n"
      "2,\"with, comma\"\n"
      "3,\"say \"\"hi\"\"\"\n"
      "4,\"two\nlines\"\n"
      "5,\n";
  for (size_t piece : {size_t{1}, size_t{2}, size_t{7}, size_t{1} << 20}) {
    PHIGATE_ASSERT_OK_AND_ASSIGN(Records r, Parse(input, piece));
    ASSERT_EQ(r.size(), 6u) << piece;
    EXPECT_EQ(r[0], (CsvRecord{"id", "text"}));
    EXPECT_EQ(r[1], (CsvRecord{"1", "plain"}));
    EXPECT_EQ(r[2], (CsvRecord{"2", "with, comma"}));
    EXPECT_EQ(r[3], (CsvRecord{"3", "say \"hi\""}));
    EXPECT_EQ(r[4], (CsvRecord{"4", "two\nlines"}));
    EXPECT_EQ(r[5], (CsvRecord{"5", ""}));
  }
}

TEST(CsvTest, SpacesAreKeptAndTheLastRecordNeedsNoLineBreak) {
  PHIGATE_ASSERT_OK_AND_ASSIGN(Records r, Parse("a, b ,\tc\n x,y,z"));
  ASSERT_EQ(r.size(), 2u);
  EXPECT_EQ(r[0], (CsvRecord{"a", " b ", "\tc"}));
  EXPECT_EQ(r[1], (CsvRecord{" x", "y", "z"}));
}

TEST(CsvTest, CrLfIsOneLineEndAndIsReported) {
  CsvReader reader;
  Records out;
  PHIGATE_ASSERT_OK(reader.Feed("a,b\r\n1,2\r\n", &out));
  PHIGATE_ASSERT_OK(reader.Finish(&out));
  ASSERT_EQ(out.size(), 2u);
  EXPECT_EQ(out[1], (CsvRecord{"1", "2"}));
  EXPECT_TRUE(reader.crlf());
  CsvReader lf;
  out.clear();
  PHIGATE_ASSERT_OK(lf.Feed("a,b\n1,2\n", &out));
  EXPECT_FALSE(lf.crlf());
}

TEST(CsvTest, MalformedInputNamesTheRecordNotItsText) {
  // A quote inside an unquoted field.
  Result<Records> r = Parse("a,b\n1,Smi\"th\n");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(r.status().message().find("record 2"), std::string::npos) << r.status();
  EXPECT_EQ(r.status().message().find("Smi"), std::string::npos) << "no field text in errors";
  // A quoted field still open at the end.
  r = Parse("a,b\n1,\"John Smith\n");
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("not closed"), std::string::npos) << r.status();
  EXPECT_EQ(r.status().message().find("John"), std::string::npos);
  // Text after a closing quote.
  EXPECT_FALSE(Parse("a\n\"x\"y\n").ok());
}

TEST(CsvTest, AFieldOverTheLimitIsAnError) {
  CsvReader reader(',', 1000);
  Records out;
  PHIGATE_ASSERT_OK(reader.Feed("a,b\n1,\"", &out));
  Status s;
  for (int i = 0; i < 200 && s.ok(); ++i) s = reader.Feed(std::string(100, 'x'), &out);
  ASSERT_FALSE(s.ok()) << "an open quote does not read on without bound";
  EXPECT_NE(s.message().find("longer than 1000 bytes"), std::string::npos) << s;
  EXPECT_NE(s.message().find("record 2"), std::string::npos) << s;
  CsvReader fits(',', 1000);
  out.clear();
  const Status fit = fits.Feed("a\n\"" + std::string(900, 'x') + "\"\n", &out);
  PHIGATE_ASSERT_OK(fit);
  ASSERT_EQ(out.size(), 2u);
  EXPECT_EQ(out[1][0].size(), 900u);
}

TEST(CsvTest, OtherDelimiters) {
  PHIGATE_ASSERT_OK_AND_ASSIGN(Records r, Parse("a\tb\n1,2\t\"x\ty\"\n", 3, '\t'));
  ASSERT_EQ(r.size(), 2u);
  EXPECT_EQ(r[1], (CsvRecord{"1,2", "x\ty"}));
}

TEST(CsvTest, WriterQuotesOnlyWhatNeedsIt) {
  std::string out;
  AppendCsvRecord({"1", "plain", "with, comma", "say \"hi\"", "two\nlines", " lead", ""}, ',',
                  "\r\n", &out);
  EXPECT_EQ(out, "1,plain,\"with, comma\",\"say \"\"hi\"\"\",\"two\nlines\",\" lead\",\r\n");
  out.clear();
  AppendCsvRecord({""}, ',', "\n", &out);
  EXPECT_EQ(out, "\"\"\n") << "a lone empty field is not an empty line";
  out.clear();
  AppendCsvRecord({"a,b", "c\td"}, '\t', "\n", &out);
  EXPECT_EQ(out, "a,b\t\"c\td\"\n");
}

TEST(CsvTest, WrittenRecordsReadBackTheSame) {
  const Records records = {{"id", "text", "note"},
                           {"1", "", "\"quoted\""},
                           {"", " ", "a\r\nb"},
                           {"x,y", "\"", "\n"},
                           {""}};
  std::string csv;
  for (const CsvRecord& r : records) AppendCsvRecord(r, ',', "\n", &csv);
  PHIGATE_ASSERT_OK_AND_ASSIGN(Records back, Parse(csv, 5));
  EXPECT_EQ(back, records);
}

}  // namespace
}  // namespace phigate::cli
