#include "phigate/transform/tokenize.h"

#include <fstream>
#include <set>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "phigate/transform/date_shift.h"
#include "tests/testing/status_matchers.h"
#include "tests/transform/reversible_testing.h"

namespace phigate::transform {
namespace {

Finding F(PhiCategory c, size_t b, size_t e) { return Finding{c, b, e, 1.0f, "test"}; }

class TokenizeTest : public ::testing::Test {
 protected:
  void SetUp() override { fx_ = testing::VaultFixture::Make(); }
  std::unique_ptr<testing::VaultFixture> fx_;
  const vault::Scope scope_ = vault::Scope::Conversation("conv-42");
};

TEST_F(TokenizeTest, ReplacesEveryFindingWithATokenAndKeepsTheRest) {
  const std::string note = "Pt Qorvin Abelstam seen 3/14/2031, call (555) 010-0199.";
  Findings f = {F(PhiCategory::kName, 3, 18), F(PhiCategory::kDate, 24, 33),
                F(PhiCategory::kPhone, 40, 54)};
  PHIGATE_ASSERT_OK_AND_ASSIGN(ReversibleResult r,
                               DeidentifyReversibly(note, f, *fx_->acme, scope_, {}));
  EXPECT_EQ(r.text.find("Qorvin"), std::string::npos);
  EXPECT_EQ(r.text.find("3/14/2031"), std::string::npos);
  EXPECT_EQ(r.text.find("010-0199"), std::string::npos);
  EXPECT_EQ(r.text.substr(0, 3), "Pt ");
  ASSERT_EQ(r.replacements.size(), 3u);
  EXPECT_EQ(r.replacements[0].substr(0, 6), "[NAME_");
  EXPECT_EQ(r.replacements[1].substr(0, 6), "[DATE_");
  EXPECT_NE(r.text.find(r.replacements[2] + "."), std::string::npos);
  PHIGATE_ASSERT_OK_AND_ASSIGN(std::string again, TokenizeText(note, f, *fx_->acme, scope_));
  EXPECT_EQ(again, r.text) << "same values, same scope: same tokens";
}

TEST_F(TokenizeTest, OverlappingFindingsAreMergedAndTouchingOnesKept) {
  const std::string note = "AB12CD34";
  Findings f = {F(PhiCategory::kMrn, 0, 4), F(PhiCategory::kAccount, 2, 6),
                F(PhiCategory::kOtherId, 6, 8)};
  PHIGATE_ASSERT_OK_AND_ASSIGN(ReversibleResult r,
                               DeidentifyReversibly(note, f, *fx_->acme, scope_, {}));
  ASSERT_EQ(r.replacements.size(), 2u);
  EXPECT_EQ(r.text, r.replacements[0] + r.replacements[1]);
  PHIGATE_ASSERT_OK_AND_ASSIGN(std::string first, fx_->acme->Resolve(r.replacements[0], scope_));
  EXPECT_EQ(first, "AB12CD");
}

TEST_F(TokenizeTest, OutOfRangeFindingIsInvalidArgumentWithoutText) {
  const std::string note = "short";
  auto r = TokenizeText(note, {F(PhiCategory::kName, 2, 9)}, *fx_->acme, scope_);
  EXPECT_EQ(r.status().code(), absl::StatusCode::kInvalidArgument);
}

// Many texts in one vault batch give what one call per text gives; a text
// with invalid findings fails alone, a text without findings stays as it is.
TEST_F(TokenizeTest, ManyTextsInOneBatchAsOneByOne) {
  const std::vector<std::string> notes = {
      "Pt Qorvin Abelstam seen 3/14/2031.", "No identifiers here.", "short",
      "Call (555) 010-0199 about Qorvin Abelstam, MRN AB12CD34."};
  const std::vector<Findings> f = {
      {F(PhiCategory::kName, 3, 18), F(PhiCategory::kDate, 24, 33)},
      {},
      {F(PhiCategory::kName, 2, 9)},  // past the end
      {F(PhiCategory::kPhone, 5, 19), F(PhiCategory::kName, 26, 41), F(PhiCategory::kMrn, 47, 55)}};
  std::vector<std::string_view> texts(notes.begin(), notes.end());
  std::vector<const Findings*> fp;
  for (const Findings& x : f) fp.push_back(&x);
  std::vector<Result<std::string>> out;
  TokenizeTexts(texts, fp, *fx_->acme, scope_, &out);
  ASSERT_EQ(out.size(), 4u);
  EXPECT_EQ(out[2].status().code(), absl::StatusCode::kInvalidArgument);
  PHIGATE_ASSERT_OK_AND_ASSIGN(std::string none, out[1]);
  EXPECT_EQ(none, notes[1]);
  for (size_t i : {size_t{0}, size_t{3}}) {
    PHIGATE_ASSERT_OK_AND_ASSIGN(std::string batched, out[i]);
    PHIGATE_ASSERT_OK_AND_ASSIGN(std::string one, TokenizeText(notes[i], f[i], *fx_->acme, scope_));
    EXPECT_EQ(batched, one) << i;
    EXPECT_EQ(batched.find("Qorvin"), std::string::npos);
  }
  // The name in both texts has one token.
  const size_t a = out[0]->find("[NAME_"), b = out[3]->find("[NAME_");
  ASSERT_NE(a, std::string::npos);
  ASSERT_NE(b, std::string::npos);
  EXPECT_EQ(out[0]->substr(a, 12), out[3]->substr(b, 12));

  // A vault that fails (its tenant shredded): every text with a finding fails,
  // none comes back with its original.
  ASSERT_TRUE(fx_->beta->Shred().ok());
  TokenizeTexts(texts, fp, *fx_->beta, scope_, &out);
  EXPECT_FALSE(out[0].ok());
  EXPECT_FALSE(out[3].ok());
  EXPECT_TRUE(out[1].ok());
}

TEST_F(TokenizeTest, SurrogateModeGivesRealisticValuesAndShiftsDatesTogether) {
  const std::string note = "Qorvin Abelstam admitted 3/14/2031, discharged 3/20/2031.";
  Findings f = {F(PhiCategory::kName, 0, 15), F(PhiCategory::kDate, 25, 34),
                F(PhiCategory::kDate, 47, 56)};
  ReversibleOptions o{.mode = ReversibleMode::kSurrogate, .generator = fx_->gen.get()};
  PHIGATE_ASSERT_OK_AND_ASSIGN(ReversibleResult r,
                               DeidentifyReversibly(note, f, *fx_->acme, scope_, o));
  EXPECT_EQ(r.text.find("Qorvin"), std::string::npos);
  EXPECT_EQ(r.text.find('['), std::string::npos) << r.text;
  auto d1 = ParseDate(r.replacements[1]);
  auto d2 = ParseDate(r.replacements[2]);
  ASSERT_TRUE(d1 && d2) << r.text;
  EXPECT_NE(d1->day, (CivilDate{2031, 3, 14}));
  EXPECT_EQ(ShiftDays(d1->day, 6), d2->day) << "the interval must survive";
  // Same name again in the same scope: the same surrogate.
  PHIGATE_ASSERT_OK_AND_ASSIGN(ReversibleResult again,
                               DeidentifyReversibly(note, f, *fx_->acme, scope_, o));
  EXPECT_EQ(again.text, r.text);
}

TEST_F(TokenizeTest, SurrogateModeTakesOneDateWrittenInTwoLetterCases) {
  // An upper-case header and the prose below it: two spellings of one date,
  // whose shifted forms are equal up to case.
  const std::string note = "ADMIT DATE: MARCH 14, 2031\nAdmitted on March 14, 2031 with pain.";
  const size_t upper = note.find("MARCH"), mixed = note.find("March");
  Findings f = {F(PhiCategory::kDate, upper, upper + 14), F(PhiCategory::kDate, mixed, mixed + 14)};
  ReversibleOptions o{.mode = ReversibleMode::kSurrogate, .generator = fx_->gen.get()};
  PHIGATE_ASSERT_OK_AND_ASSIGN(ReversibleResult r,
                               DeidentifyReversibly(note, f, *fx_->acme, scope_, o));
  ASSERT_EQ(r.replacements.size(), 2u);
  EXPECT_TRUE(absl::EqualsIgnoreCase(r.replacements[0], r.replacements[1])) << r.text;
  EXPECT_EQ(r.replacements[0], absl::AsciiStrToUpper(r.replacements[0])) << "kept upper case";
  EXPECT_NE(r.replacements[1], absl::AsciiStrToUpper(r.replacements[1])) << "kept mixed case";
  // The whole date: a shift of -365 days keeps "March 14" (in 2030).
  EXPECT_EQ(r.text.find("March 14, 2031"), std::string::npos) << r.text;
  EXPECT_EQ(r.text.find("MARCH 14, 2031"), std::string::npos) << r.text;
}

// SurrogateTexts: one vault batch for many texts, with what one text at a
// time gives — the same surrogate for a value met again (here and in a later
// call), dates moved by the scope's one offset (two spellings of one date
// share its shifted form, as one text does), a date in no known format
// tokenized; a text with invalid findings fails alone, a failing vault fails
// every text with a finding.
TEST_F(TokenizeTest, SurrogateTextsInOneBatchAsOneByOne) {
  const std::vector<std::string> notes = {
      "Pt Qorvin Abelstam seen 3/14/2031.", "No identifiers here.", "short",
      "Call (555) 010-0199 about Qorvin Abelstam on MARCH 14, 2031 (3/14/2031).",
      "Seen March 14, 2031; next visit Smarch 40th."};
  const std::vector<Findings> f = {{F(PhiCategory::kName, 3, 18), F(PhiCategory::kDate, 24, 33)},
                                   {},
                                   {F(PhiCategory::kName, 2, 9)},  // past the end
                                   {F(PhiCategory::kPhone, 5, 19), F(PhiCategory::kName, 26, 41),
                                    F(PhiCategory::kDate, 45, 59), F(PhiCategory::kDate, 61, 70)},
                                   {F(PhiCategory::kDate, 5, 19), F(PhiCategory::kDate, 32, 43)}};
  std::vector<std::string_view> texts(notes.begin(), notes.end());
  std::vector<const Findings*> fp;
  for (const Findings& x : f) fp.push_back(&x);
  const ReversibleOptions o{.mode = ReversibleMode::kSurrogate, .generator = fx_->gen.get()};
  std::vector<Result<std::string>> out;
  SurrogateTexts(texts, fp, *fx_->acme, scope_, o, &out);
  ASSERT_EQ(out.size(), notes.size());
  EXPECT_EQ(out[2].status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(out[1].value_or(""), notes[1]);
  for (size_t i : {size_t{0}, size_t{3}, size_t{4}}) {
    PHIGATE_ASSERT_OK_AND_ASSIGN(std::string batched, out[i]);
    EXPECT_EQ(batched.find("Qorvin"), std::string::npos) << batched;
    EXPECT_EQ(batched.find("3/14/2031"), std::string::npos) << batched;
    EXPECT_FALSE(absl::StrContains(absl::AsciiStrToLower(batched), "march 14, 2031")) << batched;
    // The same text again, alone: the surrogates are in the vault now.
    PHIGATE_ASSERT_OK_AND_ASSIGN(ReversibleResult one,
                                 DeidentifyReversibly(notes[i], f[i], *fx_->acme, scope_, o));
    EXPECT_EQ(one.text, batched) << i;
  }
  // One surrogate for the name in both texts, one shifted date for 3/14/2031.
  PHIGATE_ASSERT_OK_AND_ASSIGN(ReversibleResult r0,
                               DeidentifyReversibly(notes[0], f[0], *fx_->acme, scope_, o));
  PHIGATE_ASSERT_OK_AND_ASSIGN(ReversibleResult r3,
                               DeidentifyReversibly(notes[3], f[3], *fx_->acme, scope_, o));
  PHIGATE_ASSERT_OK_AND_ASSIGN(ReversibleResult r4,
                               DeidentifyReversibly(notes[4], f[4], *fx_->acme, scope_, o));
  EXPECT_EQ(r0.replacements[0], r3.replacements[1]);
  EXPECT_EQ(r0.replacements[1], r3.replacements[3]);
  // "MARCH 14, 2031" and "March 14, 2031": one date, in each one's case.
  EXPECT_TRUE(absl::EqualsIgnoreCase(r3.replacements[2], r4.replacements[0]))
      << r3.replacements[2] << " / " << r4.replacements[0];
  EXPECT_EQ(r3.replacements[2], absl::AsciiStrToUpper(r3.replacements[2]));
  // No date format: a token, which resolves.
  ASSERT_TRUE(absl::StartsWith(r4.replacements[1], "[DATE_")) << r4.replacements[1];
  PHIGATE_ASSERT_OK_AND_ASSIGN(std::string back, fx_->acme->Resolve(r4.replacements[1], scope_));
  EXPECT_EQ(back, "Smarch 40th");

  // A vault that fails (its tenant shredded): every text with a finding fails.
  ASSERT_TRUE(fx_->beta->Shred().ok());
  SurrogateTexts(texts, fp, *fx_->beta, scope_, o, &out);
  EXPECT_FALSE(out[0].ok());
  EXPECT_FALSE(out[3].ok());
  EXPECT_FALSE(out[4].ok());
  EXPECT_TRUE(out[1].ok());
}

// A surrogate is drawn again when another text of the batch keeps its words
// outside its findings (re-identification would read it back there, as
// "Mae" in "A&Ox3, MAE"). Here one text keeps a third of the generator's
// surnames; 200 one-word names in another get surnames none of which it keeps
// (each draw is kept with odds of about 1 in 3, and a name has 17 draws).
TEST_F(TokenizeTest, SurrogatesAvoidWordsOtherTextsOfTheBatchKeep) {
  std::ifstream in(phigate::testing::SourceDir() + "/data/gazetteers/surnames.tsv");
  std::string line, kept_text;
  std::set<std::string> kept;
  for (size_t n = 0; std::getline(in, line);) {
    const size_t tab = line.find('\t');
    if (line.empty() || line[0] == '#' || tab == std::string::npos) continue;
    if (std::stoi(line.substr(tab + 1)) < 50 || n++ % 3 != 0) continue;
    kept.insert(absl::AsciiStrToLower(line.substr(0, tab)));
    kept_text += line.substr(0, tab) + " ";
  }
  ASSERT_GT(kept.size(), 3000u);
  std::string note;
  Findings names;
  for (int i = 0; i < 200; ++i) {
    const std::string name = "Zqorv" + std::string(1, static_cast<char>('a' + i % 26)) +
                             std::string(1, static_cast<char>('a' + i / 26)) + "x";
    note += "Seen by ";
    names.push_back(F(PhiCategory::kName, note.size(), note.size() + name.size()));
    note += name + " today.\n";
  }
  const std::vector<std::string_view> texts = {note, kept_text};
  const Findings none;
  const std::vector<const Findings*> fp = {&names, &none};
  const ReversibleOptions o{.mode = ReversibleMode::kSurrogate, .generator = fx_->gen.get()};
  std::vector<Result<std::string>> out;
  SurrogateTexts(texts, fp, *fx_->acme, scope_, o, &out);
  PHIGATE_ASSERT_OK_AND_ASSIGN(std::string safe, out[0]);
  EXPECT_EQ(out[1].value_or(""), kept_text);
  size_t checked = 0;
  for (size_t at = 0; (at = safe.find("Seen by ", at)) != std::string::npos; ++checked) {
    at += 8;
    const std::string surrogate = safe.substr(at, safe.find(" today.", at) - at);
    EXPECT_FALSE(kept.contains(absl::AsciiStrToLower(surrogate))) << surrogate;
    EXPECT_EQ(surrogate.find("Zqorv"), std::string::npos);
  }
  EXPECT_EQ(checked, 200u);
}

TEST_F(TokenizeTest, OperatorsWorkThroughTheOperatorInterface) {
  auto tok = NewTokenizeOperator();
  EXPECT_EQ(tok->name(), "tokenize");
  PHIGATE_EXPECT_OK(tok->Validate({}));
  EXPECT_FALSE(tok->Validate({{"x", "y"}}).ok());
  VaultContext ctx(*fx_->acme, scope_, fx_->gen.get());
  PHIGATE_ASSERT_OK_AND_ASSIGN(std::string t,
                               tok->Apply("Qorvin", F(PhiCategory::kName, 0, 6), {}, ctx));
  PHIGATE_ASSERT_OK_AND_ASSIGN(std::string back, fx_->acme->Resolve(t, scope_));
  EXPECT_EQ(back, "Qorvin");
  auto sur = NewSurrogateOperator();
  PHIGATE_ASSERT_OK_AND_ASSIGN(
      std::string s, sur->Apply("(555) 010-0199", F(PhiCategory::kPhone, 0, 14), {}, ctx));
  EXPECT_NE(s, "(555) 010-0199");
  auto ds = NewDateShiftOperator();
  EXPECT_FALSE(ds->Validate({{"max_days", "0"}}).ok());
  PHIGATE_EXPECT_OK(ds->Validate({{"max_days", "30"}}));
  PHIGATE_ASSERT_OK_AND_ASSIGN(std::string d, ds->Apply("3/14/2031", F(PhiCategory::kDate, 0, 9),
                                                        {{"max_days", "30"}}, ctx));
  EXPECT_TRUE(ParseDate(d).has_value()) << d;
  EXPECT_EQ(ctx.issued().size(), 3u);
  // Without a VaultContext the operators refuse (fail closed).
  TransformContext plain;
  EXPECT_EQ(tok->Apply("x", F(PhiCategory::kName, 0, 1), {}, plain).status().code(),
            absl::StatusCode::kFailedPrecondition);
}

}  // namespace
}  // namespace phigate::transform
