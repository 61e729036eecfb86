// Re-identification: round trips on generated notes, tolerant matching of
// mangled tokens, scope and tenant isolation, permission, streaming.
#include "phigate/transform/reidentify.h"

#include <algorithm>
#include <random>
#include <set>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "phigate/synth/generator.h"
#include "phigate/transform/tokenize.h"
#include "tests/testing/status_matchers.h"
#include "tests/transform/reversible_testing.h"

namespace phigate::transform {
namespace {

Finding F(PhiCategory c, size_t b, size_t e) { return Finding{c, b, e, 1.0f, "test"}; }

std::vector<synth::Note> Notes(int n, uint64_t seed) {
  synth::GeneratorOptions o;
  o.seed = seed;
  o.data_dir = phigate::testing::SourceDir() + "/data";
  auto g = synth::Generator::Create(o);
  EXPECT_TRUE(g.ok()) << g.status();
  std::vector<synth::Note> out;
  for (int i = 0; i < n; ++i) out.push_back((*g)->Generate());
  return out;
}

Findings FindingsOf(const synth::Note& note) {
  Findings f;
  for (const auto& s : note.spans) f.push_back(F(s.category, s.begin, s.end));
  return f;
}

class ReidentifyTest : public ::testing::Test {
 protected:
  void SetUp() override { fx_ = testing::VaultFixture::Make(); }
  std::unique_ptr<Reidentifier> Reid(vault::Vault& v, const vault::Scope& s, bool tolerant = true) {
    auto r = Reidentifier::Create(v, s, {.allow_reidentify = true, .tolerant = tolerant});
    EXPECT_TRUE(r.ok()) << r.status();
    return std::move(*r);
  }
  std::unique_ptr<testing::VaultFixture> fx_;
  const vault::Scope scope_ = vault::Scope::Conversation("conv-42");
};

TEST_F(ReidentifyTest, NeedsExplicitPermission) {
  auto r = Reidentifier::Create(*fx_->acme, scope_, {});
  EXPECT_EQ(r.status().code(), absl::StatusCode::kPermissionDenied);
}

TEST_F(ReidentifyTest, RoundTripTokensOnGeneratedNotes) {
  int notes = 0;
  for (const auto& note : Notes(150, 11)) {
    const vault::Scope scope = vault::Scope::Conversation(note.id);
    PHIGATE_ASSERT_OK_AND_ASSIGN(
        ReversibleResult d,
        DeidentifyReversibly(note.text, FindingsOf(note), *fx_->acme, scope, {}));
    for (const auto& s : note.spans) {
      const std::string v = note.text.substr(s.begin, s.end - s.begin);
      if (v.size() >= 6) {
        EXPECT_EQ(d.text.find(v), std::string::npos) << "value survived deid";
      }
    }
    auto reid = Reid(*fx_->acme, scope);
    reid->ExpectSent(d.replacements);
    ReidReport report;
    PHIGATE_ASSERT_OK_AND_ASSIGN(std::string back, reid->Reidentify(d.text, &report));
    ASSERT_EQ(back, note.text) << note.id;
    EXPECT_EQ(report.tokens_altered, 0u);
    EXPECT_EQ(report.tokens_unknown, 0u);
    EXPECT_TRUE(reid->Summary().missing.empty());
    ++notes;
  }
  EXPECT_EQ(notes, 150);
}

TEST_F(ReidentifyTest, RoundTripSurrogatesOnGeneratedNotes) {
  int exact = 0, total = 0;
  for (const auto& note : Notes(150, 12)) {
    const vault::Scope scope = vault::Scope::Conversation(note.id);
    ReversibleOptions o{.mode = ReversibleMode::kSurrogate, .generator = fx_->gen.get()};
    PHIGATE_ASSERT_OK_AND_ASSIGN(
        ReversibleResult d,
        DeidentifyReversibly(note.text, FindingsOf(note), *fx_->acme, scope, o));
    auto reid = Reid(*fx_->acme, scope);
    PHIGATE_ASSERT_OK_AND_ASSIGN(std::string back, reid->Reidentify(d.text));
    ++total;
    if (back == note.text) {
      ++exact;
    } else {
      size_t i = 0;
      while (i < back.size() && i < note.text.size() && back[i] == note.text[i]) ++i;
      ADD_FAILURE() << "surrogate round trip differs for " << note.id << " at " << i << ": got ["
                    << back.substr(i > 20 ? i - 20 : 0, 60) << "] want ["
                    << note.text.substr(i > 20 ? i - 20 : 0, 60) << "]";
    }
  }
  EXPECT_EQ(exact, total);
}

// A surrogate is unique in its scope, and a tenant scope over a whole record
// set holds more places than the gazetteer has cities (~900) and every age
// over 89 that occurs: each still gets a surrogate of its own, and each comes
// back. (The places are made-up strings; only their count matters.)
TEST_F(ReidentifyTest, SurrogatesStayUniqueWhenAScopeHoldsManyPlacesAndAges) {
  const vault::Scope scope = vault::Scope::Tenant();
  ReversibleOptions o{.mode = ReversibleMode::kSurrogate, .generator = fx_->gen.get()};
  std::set<std::string> seen;
  std::vector<std::pair<std::string, std::string>> sample;  // (surrogate text, original)
  auto run = [&](PhiCategory c, const std::string& text, size_t b, size_t e) {
    auto d = DeidentifyReversibly(text, {F(c, b, e)}, *fx_->acme, scope, o);
    ASSERT_TRUE(d.ok()) << CategoryName(c) << " " << seen.size() << ": " << d.status();
    ASSERT_EQ(d->replacements.size(), 1u);
    EXPECT_TRUE(seen.insert(absl::AsciiStrToLower(d->replacements[0])).second)
        << "a surrogate given twice in one scope";
    if (seen.size() % 97 == 0) sample.emplace_back(d->text, text);
  };
  for (int i = 0; i < 2500; ++i) {
    const std::string place = absl::StrCat("Testplace", i, (i % 3 == 0) ? " Township" : "");
    run(i % 2 == 0 ? PhiCategory::kLocation : PhiCategory::kCity,
        absl::StrCat("Moved from ", place, " last year."), 11, 11 + place.size());
  }
  for (int age = 90; age < 110; ++age) {
    const std::string text = absl::StrCat("A ", age, " yo woman.");
    run(PhiCategory::kAge, text, 2, 2 + std::to_string(age).size());
  }
  EXPECT_EQ(seen.size(), 2520u);
  auto reid = Reid(*fx_->acme, scope);
  for (const auto& [deid, original] : sample) {
    PHIGATE_ASSERT_OK_AND_ASSIGN(std::string back, reid->Reidentify(deid));
    EXPECT_EQ(back, original);
  }
  EXPECT_GE(sample.size(), 25u);
}

// A scope holds two dozen surrogates for the ages over 89 of one format;
// past them an age gets a token instead of failing its text (session 33:
// 2,000 generated notes of one tenant scope lost two records), and every
// one comes back.
TEST_F(ReidentifyTest, AgesPastTheScopesSurrogatesGetTokens) {
  const vault::Scope scope = vault::Scope::Conversation("many-ages");
  ReversibleOptions o{.mode = ReversibleMode::kSurrogate, .generator = fx_->gen.get()};
  std::set<std::string> seen;
  size_t tokens = 0, numbers = 0;
  std::vector<std::pair<std::string, std::string>> made;  // (de-identified, original)
  for (int age = 90; age < 150; ++age) {
    const std::string text = absl::StrCat("A ", age, " yo woman.");
    auto d = DeidentifyReversibly(text, {F(PhiCategory::kAge, 2, 2 + std::to_string(age).size())},
                                  *fx_->acme, scope, o);
    ASSERT_TRUE(d.ok()) << age << ": " << d.status();
    ASSERT_EQ(d->replacements.size(), 1u);
    const std::string& r = d->replacements[0];
    EXPECT_TRUE(seen.insert(r).second) << "given twice: " << r;
    if (r.starts_with("[AGE_")) {
      ++tokens;
    } else {
      ASSERT_TRUE(std::all_of(r.begin(), r.end(), [](char c) { return c >= '0' && c <= '9'; }))
          << r;
      ++numbers;
    }
    made.emplace_back(d->text, text);
  }
  EXPECT_GE(numbers, 20u);
  EXPECT_GE(tokens, 1u);
  auto reid = Reid(*fx_->acme, scope);
  for (const auto& [deid, original] : made) {
    PHIGATE_ASSERT_OK_AND_ASSIGN(std::string back, reid->Reidentify(deid));
    EXPECT_EQ(back, original);
  }
}

// Session 34: one person keeps one surname in every request of a scope
// (the vault's scope key), and each spelling still comes back exactly.
TEST_F(ReidentifyTest, ANamePartKeepsOneSurrogateAcrossTheScope) {
  const vault::Scope scope = vault::Scope::Conversation("one-family");
  ReversibleOptions o{.mode = ReversibleMode::kSurrogate, .generator = fx_->gen.get()};
  struct Case {
    std::string text;
    size_t begin, end;
  };
  const std::vector<Case> cases = {{"Pt Qorvin Abelstam seen.", 3, 18},
                                   {"Mr. Abelstam reports pain.", 4, 12},
                                   {"ABELSTAM, QORVIN signed.", 0, 16},
                                   {"Wife Belvia Abelstam here.", 5, 20}};
  std::vector<std::string> surnames, deidentified;
  for (const Case& c : cases) {
    auto d =
        DeidentifyReversibly(c.text, {F(PhiCategory::kName, c.begin, c.end)}, *fx_->acme, scope, o);
    ASSERT_TRUE(d.ok()) << d.status();
    ASSERT_EQ(d->replacements.size(), 1u);
    const std::string r = absl::AsciiStrToLower(d->replacements[0]);
    EXPECT_EQ(r.find("abelstam"), std::string::npos) << r;
    // The surname: the last word, or the first before a comma.
    const size_t comma = r.find(',');
    surnames.push_back(comma != std::string::npos ? r.substr(0, comma)
                                                  : r.substr(r.rfind(' ') + 1));
    deidentified.push_back(d->text);
  }
  for (const std::string& s : surnames) EXPECT_EQ(s, surnames[0]);
  auto reid = Reid(*fx_->acme, scope);
  for (size_t i = 0; i < cases.size(); ++i) {
    PHIGATE_ASSERT_OK_AND_ASSIGN(std::string back, reid->Reidentify(deidentified[i]));
    EXPECT_EQ(back, cases[i].text);
  }
}

// An age surrogate is a bare number: it comes back where the text writes an
// age, and a vital sign that happens to be the same number stays as it is.
TEST_F(ReidentifyTest, AnAgeSurrogateIsRestoredOnlyWhereAnAgeIsWritten) {
  ReversibleOptions o{.mode = ReversibleMode::kSurrogate, .generator = fx_->gen.get()};
  const std::string note = "A 102 yo woman.";
  PHIGATE_ASSERT_OK_AND_ASSIGN(
      ReversibleResult d,
      DeidentifyReversibly(note, {F(PhiCategory::kAge, 2, 5)}, *fx_->acme, scope_, o));
  ASSERT_EQ(d.replacements.size(), 1u);
  const std::string a = d.replacements[0];
  ASSERT_NE(a, "102");
  ASSERT_TRUE(std::all_of(a.begin(), a.end(), [](char c) { return c >= '0' && c <= '9'; })) << a;
  auto reid = Reid(*fx_->acme, scope_);
  const std::string answer =
      absl::StrCat("She is ", a, " yo; ", a, "-year-old; age: ", a, "; ", a, "F with CP. HR ", a,
                   ", sat ", a, "%, Tmax ", a, "F, BP ", a, "/60, ", a, " min.");
  PHIGATE_ASSERT_OK_AND_ASSIGN(std::string back, reid->Reidentify(answer));
  EXPECT_EQ(back, absl::StrCat("She is 102 yo; 102-year-old; age: 102; 102F with CP. HR ", a,
                               ", sat ", a, "%, Tmax ", a, "F, BP ", a, "/60, ", a, " min."));
}

// An initial's surrogate is one letter, and every letter is some word's: it
// is restored where the text writes an initial, not inside "M.D.", "d/c'd",
// "s/p" — in the whole text and in a stream cut anywhere.
TEST_F(ReidentifyTest, AnInitialSurrogateIsNotRestoredInsideAbbreviations) {
  ReversibleOptions o{.mode = ReversibleMode::kSurrogate, .generator = fx_->gen.get()};
  const std::string note = "Seen by B. Quarrel.";
  PHIGATE_ASSERT_OK_AND_ASSIGN(
      ReversibleResult d,
      DeidentifyReversibly(note, {F(PhiCategory::kName, 8, 9)}, *fx_->acme, scope_, o));
  ASSERT_EQ(d.replacements.size(), 1u);
  const std::string x = d.replacements[0];
  ASSERT_EQ(x.size(), 1u) << x;
  ASSERT_TRUE(absl::ascii_isupper(static_cast<unsigned char>(x[0]))) << x;
  const std::string lx = absl::AsciiStrToLower(x);
  const std::string answer =
      absl::StrCat(x, ". Quarrel signed; Smith, ", x, ".D. and Jones, M.", x, ".; ", lx, "/c'", lx,
                   " today, s/", lx, "; per ", x, " Quarrel; on 1", x, ". NC, 2", lx,
                   "3. Wilson, PA-", x, "; a ", x, "-bone MVC.");
  const std::string expected = absl::StrCat(
      "B. Quarrel signed; Smith, ", x, ".D. and Jones, M.", x, ".; ", lx, "/c'", lx, " today, s/",
      lx, "; per B Quarrel; on 1", x, ". NC, 2", lx, "3. Wilson, PA-", x, "; a ", x, "-bone MVC.");
  auto reid = Reid(*fx_->acme, scope_);
  PHIGATE_ASSERT_OK_AND_ASSIGN(std::string back, reid->Reidentify(answer));
  EXPECT_EQ(back, expected);
  for (size_t chunk : {size_t{1}, size_t{2}, size_t{5}}) {
    StreamReidentifier stream(Reid(*fx_->acme, scope_));
    std::string out;
    for (size_t i = 0; i < answer.size(); i += chunk) {
      PHIGATE_ASSERT_OK_AND_ASSIGN(std::string ready,
                                   stream.Feed(std::string_view(answer).substr(i, chunk)));
      out += ready;
    }
    PHIGATE_ASSERT_OK_AND_ASSIGN(std::string rest, stream.Finish());
    EXPECT_EQ(out + rest, expected) << "chunk " << chunk;
  }
}

// A date written in capitals, in lower case and capitalised in three notes of
// one scope shares one surrogate pair (its one shifted form); each note gets
// it in its own letter case and comes back exactly as it was written — so
// does a facility, whose spellings share a pair when a drawn candidate
// collides with another spelling's.
TEST_F(ReidentifyTest, EachLetterCaseOfAValueComesBackAsWritten) {
  ReversibleOptions o{.mode = ReversibleMode::kSurrogate, .generator = fx_->gen.get()};
  const std::vector<std::string> facilities = {"Meadowbrook Nursing", "MEADOWBROOK NURSING",
                                               "meadowbrook nursing"};
  const std::vector<std::string> dates = {"May 9, 1939", "MAY 9, 1939", "may 9, 1939"};
  const vault::Scope scope = vault::Scope::Conversation("letter-case");
  std::vector<std::string> notes, sent, date_surrogates;
  for (size_t i = 0; i < facilities.size(); ++i) {
    const std::string note = absl::StrCat("From ", facilities[i], ", DOB ", dates[i], ".");
    const size_t f = 5, d = f + facilities[i].size() + 6;
    PHIGATE_ASSERT_OK_AND_ASSIGN(
        ReversibleResult r,
        DeidentifyReversibly(note,
                             {F(PhiCategory::kFacility, f, f + facilities[i].size()),
                              F(PhiCategory::kDate, d, d + dates[i].size())},
                             *fx_->acme, scope, o));
    ASSERT_EQ(r.replacements.size(), 2u);
    date_surrogates.push_back(r.replacements[1]);
    notes.push_back(note);
    sent.push_back(r.text);
  }
  // One pair, written in each note's case.
  EXPECT_TRUE(absl::EqualsIgnoreCase(date_surrogates[0], date_surrogates[1]));
  EXPECT_TRUE(absl::EqualsIgnoreCase(date_surrogates[0], date_surrogates[2]));
  EXPECT_EQ(date_surrogates[1], absl::AsciiStrToUpper(date_surrogates[1]));
  EXPECT_EQ(date_surrogates[2], absl::AsciiStrToLower(date_surrogates[2]));
  auto reid = Reid(*fx_->acme, scope);
  for (size_t i = 0; i < notes.size(); ++i) {
    PHIGATE_ASSERT_OK_AND_ASSIGN(std::string back, reid->Reidentify(sent[i]));
    EXPECT_EQ(back, notes[i]) << sent[i];
  }
  // A model that writes the date in capitals gets the original in capitals.
  PHIGATE_ASSERT_OK_AND_ASSIGN(
      std::string loud,
      reid->Reidentify(absl::StrCat("DOB ", absl::AsciiStrToUpper(date_surrogates[0]))));
  EXPECT_EQ(loud, "DOB MAY 9, 1939");
}

// Two spellings of one date shift to the same text; the second gets a token
// instead of failing, and both come back as written.
TEST_F(ReidentifyTest, ASecondSpellingOfAShiftedDateGetsAToken) {
  ReversibleOptions o{.mode = ReversibleMode::kSurrogate, .generator = fx_->gen.get()};
  const std::string a = "Seen Jan 31, 2031 for pain.";
  const std::string b = "Seen January 31, 2031 again.";
  // "Jan" and "January" shift to one month name whenever the offset lands in
  // May; other offsets give the two spellings two texts. Try scopes until one
  // collides (each scope has its own random offset).
  bool collided = false;
  for (int i = 0; i < 400 && !collided; ++i) {
    const vault::Scope s = vault::Scope::Conversation(absl::StrCat("dates-", i));
    PHIGATE_ASSERT_OK_AND_ASSIGN(
        ReversibleResult da,
        DeidentifyReversibly(a, {F(PhiCategory::kDate, 5, 17)}, *fx_->acme, s, o));
    PHIGATE_ASSERT_OK_AND_ASSIGN(
        ReversibleResult db,
        DeidentifyReversibly(b, {F(PhiCategory::kDate, 5, 21)}, *fx_->acme, s, o));
    auto reid = Reid(*fx_->acme, s);
    PHIGATE_ASSERT_OK_AND_ASSIGN(std::string back_a, reid->Reidentify(da.text));
    PHIGATE_ASSERT_OK_AND_ASSIGN(std::string back_b, reid->Reidentify(db.text));
    EXPECT_EQ(back_a, a);
    EXPECT_EQ(back_b, b);
    if (db.replacements[0].rfind("[DATE_", 0) == 0) {
      collided = true;
      EXPECT_EQ(da.replacements[0].find('['), std::string::npos) << "the first is shifted";
    }
  }
  EXPECT_TRUE(collided) << "no offset in 400 scopes shifted both spellings to one text";
}

TEST_F(ReidentifyTest, AdjacentAndOverlappingIdentifiersRoundTrip) {
  // Synthetic values, touching each other and overlapping.
  const std::string text = "QorvinAbelstam3/14/2031(555) 010-0199 MRN:AB12CD34 x";
  Findings f = {F(PhiCategory::kName, 0, 6),   F(PhiCategory::kName, 6, 14),
                F(PhiCategory::kDate, 14, 23), F(PhiCategory::kPhone, 23, 37),
                F(PhiCategory::kMrn, 42, 48),  F(PhiCategory::kAccount, 46, 50)};
  for (ReversibleMode mode : {ReversibleMode::kTokenize, ReversibleMode::kSurrogate}) {
    ReversibleOptions o{.mode = mode, .generator = fx_->gen.get()};
    PHIGATE_ASSERT_OK_AND_ASSIGN(ReversibleResult d,
                                 DeidentifyReversibly(text, f, *fx_->acme, scope_, o));
    auto reid = Reid(*fx_->acme, scope_);
    PHIGATE_ASSERT_OK_AND_ASSIGN(std::string back, reid->Reidentify(d.text));
    EXPECT_EQ(back, text) << "mode " << static_cast<int>(mode) << ": " << d.text;
  }
}

// Mangles one token the way models do.
std::string Mangle(const std::string& tok, int how) {
  std::string body = tok.substr(1, tok.size() - 2);  // NAME_7QK2X
  switch (how % 7) {
    case 0:
      return absl::AsciiStrToLower(tok);
    case 1:
      return body;  // lost brackets
    case 2:
      return "[ " + body + " ]";
    case 3: {
      std::string esc = body;
      const size_t u = esc.rfind('_');
      esc.replace(u, 1, "\\_");
      return "\\[" + esc + "\\]";
    }
    case 4: {
      std::string sp = body;
      sp[sp.rfind('_')] = ' ';
      return "[" + sp + "]";
    }
    case 5:
      return absl::AsciiStrToLower(body);
    default:
      return tok;
  }
}

TEST_F(ReidentifyTest, MangledTokensAreRestoredWithHighRecall) {
  size_t tokens = 0, restored = 0, exact_notes = 0;
  std::mt19937 rng(5);
  for (const auto& note : Notes(100, 13)) {
    const vault::Scope scope = vault::Scope::Conversation(note.id);
    PHIGATE_ASSERT_OK_AND_ASSIGN(
        ReversibleResult d,
        DeidentifyReversibly(note.text, FindingsOf(note), *fx_->acme, scope, {}));
    // Rebuild the de-identified text with every token mangled.
    std::string mangled = d.text;
    const std::set<std::string> distinct(d.replacements.begin(), d.replacements.end());
    for (const auto& tok : distinct) {
      size_t pos = 0;
      while ((pos = mangled.find(tok, pos)) != std::string::npos) {
        const std::string m = Mangle(tok, static_cast<int>(rng() % 7));
        mangled.replace(pos, tok.size(), m);
        pos += m.size();
        ++tokens;
      }
    }
    auto reid = Reid(*fx_->acme, scope);
    ReidReport report;
    PHIGATE_ASSERT_OK_AND_ASSIGN(std::string back, reid->Reidentify(mangled, &report));
    restored += report.tokens_restored + report.tokens_altered;
    if (back == note.text) ++exact_notes;
  }
  ASSERT_GT(tokens, 500u);
  const double recall = static_cast<double>(restored) / static_cast<double>(tokens);
  std::printf("mangled-token recall: %zu / %zu = %.4f (notes restored exactly: %zu/100)\n",
              restored, tokens, recall, exact_notes);
  EXPECT_GE(recall, 0.99);
}

TEST_F(ReidentifyTest, PossessivesAndCaseAroundTokens) {
  const std::string text = "Qorvin";
  PHIGATE_ASSERT_OK_AND_ASSIGN(std::string tok,
                               fx_->acme->Tokenize(PhiCategory::kName, text, scope_));
  auto reid = Reid(*fx_->acme, scope_);
  const std::string body = tok.substr(1, tok.size() - 2);
  PHIGATE_ASSERT_OK_AND_ASSIGN(std::string a, reid->Reidentify(tok + "'s chart"));
  EXPECT_EQ(a, "Qorvin's chart");
  PHIGATE_ASSERT_OK_AND_ASSIGN(std::string b, reid->Reidentify("[" + body + "'s] chart"));
  EXPECT_EQ(b, "Qorvin's chart");
  PHIGATE_ASSERT_OK_AND_ASSIGN(std::string c,
                               reid->Reidentify("see " + absl::AsciiStrToLower(body) + "."));
  EXPECT_EQ(c, "see Qorvin.");
}

TEST_F(ReidentifyTest, InventedOtherScopeAndOtherTenantTokensAreNeverResolved) {
  PHIGATE_ASSERT_OK_AND_ASSIGN(std::string tok,
                               fx_->acme->Tokenize(PhiCategory::kName, "Qorvin", scope_));
  const std::string answer = "A: " + tok + " B: [NAME_ZZZZZ] C: name_abcde";
  // Other scope of the same tenant.
  auto other_scope = Reid(*fx_->acme, vault::Scope::Conversation("conv-43"));
  ReidReport r1;
  PHIGATE_ASSERT_OK_AND_ASSIGN(std::string o1, other_scope->Reidentify(answer, &r1));
  EXPECT_EQ(o1, answer);
  EXPECT_EQ(r1.tokens_unknown, 2u);
  // Another tenant, with A's token strings in hand.
  auto beta = Reid(*fx_->beta, scope_);
  ReidReport r2;
  PHIGATE_ASSERT_OK_AND_ASSIGN(std::string o2, beta->Reidentify(answer, &r2));
  EXPECT_EQ(o2, answer);
  EXPECT_EQ(r2.restored(), 0u);
  // The right tenant and scope: only the real token resolves; the invented one is reported.
  auto acme = Reid(*fx_->acme, scope_);
  acme->ExpectSent(std::vector<std::string>{tok, "[DATE_22222]"});
  ReidReport r3;
  PHIGATE_ASSERT_OK_AND_ASSIGN(std::string o3, acme->Reidentify(answer, &r3));
  EXPECT_EQ(o3, "A: Qorvin B: [NAME_ZZZZZ] C: name_abcde");
  EXPECT_EQ(r3.tokens_restored, 1u);
  EXPECT_EQ(r3.tokens_unknown, 1u);
  ASSERT_EQ(r3.unknown_tokens.size(), 1u);
  EXPECT_EQ(r3.unknown_tokens[0], "[NAME_ZZZZZ]");
  EXPECT_EQ(acme->Summary().missing, std::vector<std::string>{"[DATE_22222]"});
}

TEST_F(ReidentifyTest, TenantBCannotReidentifyTenantASurrogates) {
  const std::string text = "Qorvin Abelstam called (555) 010-0199.";
  Findings f = {F(PhiCategory::kName, 0, 15), F(PhiCategory::kPhone, 23, 37)};
  ReversibleOptions o{.mode = ReversibleMode::kSurrogate, .generator = fx_->gen.get()};
  PHIGATE_ASSERT_OK_AND_ASSIGN(ReversibleResult d,
                               DeidentifyReversibly(text, f, *fx_->acme, scope_, o));
  auto beta = Reid(*fx_->beta, scope_);
  PHIGATE_ASSERT_OK_AND_ASSIGN(std::string o2, beta->Reidentify(d.text));
  EXPECT_EQ(o2, d.text);
  auto acme = Reid(*fx_->acme, scope_);
  PHIGATE_ASSERT_OK_AND_ASSIGN(std::string o3, acme->Reidentify(d.text));
  EXPECT_EQ(o3, text);
}

TEST_F(ReidentifyTest, ShiftedDatesInTheModelsOwnFormat) {
  const std::string text = "Admitted 3/14/2031.";
  ReversibleOptions o{.mode = ReversibleMode::kSurrogate, .generator = fx_->gen.get()};
  PHIGATE_ASSERT_OK_AND_ASSIGN(
      ReversibleResult d,
      DeidentifyReversibly(text, {F(PhiCategory::kDate, 9, 18)}, *fx_->acme, scope_, o));
  auto shifted = ParseDate(d.replacements[0]);
  ASSERT_TRUE(shifted.has_value());
  DateFormat long_form;
  long_form.kind = DateFormat::Kind::kMonthNameDy;
  const std::string model = "The patient came in on " + FormatDate(shifted->day, long_form) + ".";
  auto reid = Reid(*fx_->acme, scope_);
  ReidReport report;
  PHIGATE_ASSERT_OK_AND_ASSIGN(std::string back, reid->Reidentify(model, &report));
  EXPECT_EQ(back, "The patient came in on March 14, 2031.");
  EXPECT_EQ(report.dates_restored, 1u);
}

TEST_F(ReidentifyTest, StreamingMatchesWholeTextForAnyChunking) {
  auto notes = Notes(20, 14);
  int n = 0;
  for (const auto& note : notes) {
    const vault::Scope scope = vault::Scope::Conversation(note.id);
    // Half the notes with tokens, half with surrogates (names, phones, shifted dates).
    ReversibleOptions o{
        .mode = (n++ % 2 == 0) ? ReversibleMode::kTokenize : ReversibleMode::kSurrogate,
        .generator = fx_->gen.get()};
    PHIGATE_ASSERT_OK_AND_ASSIGN(
        ReversibleResult d,
        DeidentifyReversibly(note.text, FindingsOf(note), *fx_->acme, scope, o));
    std::string input = d.text;
    for (size_t chunk : {size_t{1}, size_t{3}, size_t{7}, size_t{64}, size_t{100000}}) {
      StreamReidentifier stream(Reid(*fx_->acme, scope));
      std::string out;
      for (size_t i = 0; i < input.size(); i += chunk) {
        PHIGATE_ASSERT_OK_AND_ASSIGN(std::string ready,
                                     stream.Feed(std::string_view(input).substr(i, chunk)));
        out += ready;
      }
      PHIGATE_ASSERT_OK_AND_ASSIGN(std::string rest, stream.Finish());
      out += rest;
      ASSERT_EQ(out, note.text) << note.id << " chunk " << chunk;
    }
  }
}

TEST_F(ReidentifyTest, StreamingHoldsBackOnlyATail) {
  PHIGATE_ASSERT_OK_AND_ASSIGN(std::string tok,
                               fx_->acme->Tokenize(PhiCategory::kName, "Qorvin", scope_));
  StreamReidentifier stream(Reid(*fx_->acme, scope_));
  const std::string long_text(500, 'x');
  PHIGATE_ASSERT_OK_AND_ASSIGN(std::string first, stream.Feed(long_text));
  EXPECT_GE(first.size(), 500 - stream.reidentifier().holdback_bytes());
  PHIGATE_ASSERT_OK_AND_ASSIGN(std::string a, stream.Feed(" " + tok.substr(0, 4)));
  PHIGATE_ASSERT_OK_AND_ASSIGN(std::string b, stream.Feed(tok.substr(4) + " done"));
  PHIGATE_ASSERT_OK_AND_ASSIGN(std::string c, stream.Finish());
  EXPECT_EQ(first + a + b + c, long_text + " Qorvin done");
}

}  // namespace
}  // namespace phigate::transform
