#include "phigate/transform/surrogate.h"

#include <fstream>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_split.h"
#include "gtest/gtest.h"
#include "phigate/transform/date_shift.h"
#include "tests/testing/status_matchers.h"

namespace phigate::transform {
namespace {

class SurrogateTest : public ::testing::Test {
 protected:
  void SetUp() override {
    SurrogateOptions o;
    o.data_dir = phigate::testing::SourceDir() + "/data";
    auto g = SurrogateGenerator::Create(o);
    ASSERT_TRUE(g.ok()) << g.status();
    gen_ = std::move(*g);
  }
  std::string Gen(PhiCategory c, std::string_view v, int shift = 0) {
    auto r = gen_->Generate(c, v, 0, shift);
    EXPECT_TRUE(r.ok()) << r.status();
    return r.ok() ? *r : "";
  }
  // Letters stay letters, digits digits, everything else in place.
  static void ExpectSameShape(std::string_view a, std::string_view b) {
    ASSERT_EQ(a.size(), b.size()) << a << " vs " << b;
    for (size_t i = 0; i < a.size(); ++i) {
      const auto x = static_cast<unsigned char>(a[i]), y = static_cast<unsigned char>(b[i]);
      EXPECT_EQ(absl::ascii_isdigit(x), absl::ascii_isdigit(y)) << a << " vs " << b;
      EXPECT_EQ(absl::ascii_isalpha(x), absl::ascii_isalpha(y)) << a << " vs " << b;
      if (!absl::ascii_isalnum(x)) {
        EXPECT_EQ(x, y);
      }
    }
  }
  std::unique_ptr<SurrogateGenerator> gen_;
};

TEST_F(SurrogateTest, UsesTheGazetteers) {
  EXPECT_GT(gen_->first_name_count(), 100u);
  EXPECT_GT(gen_->surname_count(), 100u);
}

TEST_F(SurrogateTest, FallsBackToBuiltInNamesWithoutData) {
  PHIGATE_ASSERT_OK_AND_ASSIGN(auto g, SurrogateGenerator::Create({.data_dir = "/nonexistent"}));
  EXPECT_GT(g->first_name_count(), 5u);
  PHIGATE_ASSERT_OK_AND_ASSIGN(std::string n,
                               g->Generate(PhiCategory::kName, "Qorvin Abelstam", 0, 0));
  EXPECT_NE(n.find(' '), std::string::npos);
}

TEST_F(SurrogateTest, NamesKeepTheirShape) {
  const std::string two = Gen(PhiCategory::kName, "Qorvin Abelstam");
  EXPECT_EQ(std::count(two.begin(), two.end(), ' '), 1) << two;
  EXPECT_NE(two, "Qorvin Abelstam");
  const std::string caps = Gen(PhiCategory::kName, "QORVIN ABELSTAM");
  EXPECT_EQ(caps, absl::AsciiStrToUpper(caps));
  const std::string last_first = Gen(PhiCategory::kName, "Abelstam, Qorvin");
  EXPECT_NE(last_first.find(", "), std::string::npos) << last_first;
  const std::string titled = Gen(PhiCategory::kName, "Dr. Qorvin J. Abelstam");
  EXPECT_TRUE(absl::StartsWith(titled, "Dr. ")) << titled;
  EXPECT_EQ(titled.size() > 8 && titled.find(". ", 4) != std::string::npos, true) << titled;
}

TEST_F(SurrogateTest, PhonesKeepFormatAndUseFictionalLines) {
  const std::string p = Gen(PhiCategory::kPhone, "(617) 432-0199");
  ExpectSameShape("(617) 432-0199", p);
  EXPECT_EQ(p.substr(6, 5), "555-0") << p;
  EXPECT_GE(p[1], '2');
  ExpectSameShape("617.432.0199", Gen(PhiCategory::kFax, "617.432.0199"));
}

TEST_F(SurrogateTest, SsnIsValidFormat) {
  for (int i = 0; i < 50; ++i) {
    const std::string s = Gen(PhiCategory::kSsn, "123-45-6789");
    ExpectSameShape("123-45-6789", s);
    const int area = std::stoi(s.substr(0, 3));
    EXPECT_TRUE(area > 0 && area != 666 && area < 900) << s;
    EXPECT_NE(s.substr(4, 2), "00");
    EXPECT_NE(s.substr(7, 4), "0000");
  }
}

TEST_F(SurrogateTest, CheckDigitsStayValid) {
  // Synthetic identifiers with valid check digits.
  const std::string npi = "1234567893";
  ASSERT_TRUE(NpiValid(npi));
  const std::string luhn = "4111111111111111";
  ASSERT_TRUE(LuhnValid(luhn));
  const std::string vin = "1M8GDM9AXKP042788";
  ASSERT_TRUE(VinValid(vin));
  for (int i = 0; i < 20; ++i) {
    const std::string n = Gen(PhiCategory::kLicense, npi);
    EXPECT_TRUE(NpiValid(n)) << n;
    ExpectSameShape(npi, n);
    const std::string a = Gen(PhiCategory::kAccount, luhn);
    EXPECT_TRUE(LuhnValid(a)) << a;
    const std::string v = Gen(PhiCategory::kVehicle, vin);
    EXPECT_TRUE(VinValid(v)) << v;
    EXPECT_NE(v, vin);
  }
}

TEST_F(SurrogateTest, IdsKeepPrefixAndShape) {
  const std::string m = Gen(PhiCategory::kMrn, "MRN-00482913");
  EXPECT_TRUE(absl::StartsWith(m, "MRN-")) << m;
  ExpectSameShape("MRN-00482913", m);
  EXPECT_NE(m, "MRN-00482913");
}

TEST_F(SurrogateTest, EmailUrlIpUseReservedRanges) {
  EXPECT_NE(Gen(PhiCategory::kEmail, "q.abelstam@mail.test").find("@example."), std::string::npos);
  EXPECT_NE(Gen(PhiCategory::kUrl, "https://qorvin.test/me").find("example.org"),
            std::string::npos);
  const std::string ip = Gen(PhiCategory::kIp, "10.1.2.3");
  EXPECT_TRUE(absl::StartsWith(ip, "192.0.2.") || absl::StartsWith(ip, "198.51.100.") ||
              absl::StartsWith(ip, "203.0.113."))
      << ip;
}

TEST_F(SurrogateTest, AddressesAndDates) {
  const std::string a = Gen(PhiCategory::kStreetAddress, "482 Quillon Ave.");
  EXPECT_TRUE(absl::ascii_isdigit(static_cast<unsigned char>(a[0]))) << a;
  EXPECT_EQ(a.back(), '.') << a;
  EXPECT_EQ(Gen(PhiCategory::kDate, "3/14/2024", 19), "4/2/2024");
  EXPECT_EQ(gen_->Generate(PhiCategory::kDate, "yesterday", 0, 19).status().code(),
            absl::StatusCode::kInvalidArgument);
}

// A facility keeps its own kind words and nothing else of the original; a
// span that stops before them ("Quillon" of "Quillon Medical Center") gets a
// name alone, so "... Medical Center Center" is never written.
TEST_F(SurrogateTest, FacilitiesKeepTheirKindWordsOnce) {
  for (int i = 0; i < 20; ++i) {
    const std::string whole = Gen(PhiCategory::kFacility, "Saint Qorvina Medical Center");
    EXPECT_TRUE(absl::EndsWith(whole, " Medical Center")) << whole;
    EXPECT_EQ(whole.find("Qorvina"), std::string::npos) << whole;
    EXPECT_EQ(whole.find("Center Center"), std::string::npos) << whole;
    const std::string cut = Gen(PhiCategory::kFacility, "Saint Qorvina Medical");
    EXPECT_TRUE(absl::EndsWith(cut, " Medical")) << cut;
    const std::string bare = Gen(PhiCategory::kFacility, "Quillon");
    EXPECT_EQ(bare.find(' '), std::string::npos) << bare;
    EXPECT_NE(bare, "Quillon");
    const std::string of = Gen(PhiCategory::kFacility, "Children's Hospital of Quillonville");
    EXPECT_TRUE(absl::EndsWith(of, " Children's Hospital")) << of;
    const std::string curly =
        Gen(PhiCategory::kFacility, "Quillon Children\xe2\x80\x99s Hospital,");
    EXPECT_TRUE(absl::EndsWith(curly, " Children\xe2\x80\x99s Hospital")) << curly;
    const std::string upper = Gen(PhiCategory::kFacility, "ABELSTAM-QUILLON HOSP");
    EXPECT_TRUE(absl::EndsWith(upper, " HOSP")) << upper;
    EXPECT_EQ(upper, absl::AsciiStrToUpper(upper));
  }
}

// A four-digit number's surrogate is never a year of the last two centuries
// or a clock time (a note's bare years and times, "s/p CABG 1996", "at 1435",
// would be put back as that number; a partial SSN's last four), and
// a place's is never "<city> Center" (a place found before a kept "Center"
// would then read as it).
TEST_F(SurrogateTest, NumbersAreNoYearsAndPlacesNoCenters) {
  for (int i = 0; i < 3000; ++i) {
    const std::string n = Gen(PhiCategory::kOtherId, "2115");
    ASSERT_EQ(n.size(), 4u);
    EXPECT_FALSE(absl::StartsWith(n, "19") || absl::StartsWith(n, "20")) << n;
    const int hh = std::stoi(n.substr(0, 2)), mm = std::stoi(n.substr(2));
    EXPECT_FALSE(hh < 24 && mm < 60) << n;  // a clock time: "paged at 1435"
  }
  for (int attempt = 8; attempt < 400; ++attempt) {
    PHIGATE_ASSERT_OK_AND_ASSIGN(
        std::string p, gen_->Generate(PhiCategory::kLocation, "Quillon Falls", attempt, 0));
    EXPECT_FALSE(absl::EndsWith(p, " Center")) << p;
  }
}

// A person's surrogate is no town, state, payer or vehicle make ("Poland",
// "Honda Civic"): re-identification would put the person back over the place
// or the car a note keeps.
TEST_F(SurrogateTest, NamesAreNoPlacesOrMakes) {
  std::set<std::string> places = {"honda", "kaiser", "poland"};
  std::ifstream in(phigate::testing::SourceDir() + "/data/gazetteers/us_cities.tsv");
  for (std::string line; std::getline(in, line);) {
    if (!line.empty() && line[0] != '#') {
      places.insert(absl::AsciiStrToLower(line.substr(0, line.find('\t'))));
    }
  }
  ASSERT_GT(places.size(), 10000u);
  for (int i = 0; i < 2000; ++i) {
    const std::string n = Gen(PhiCategory::kName, "Qorvin Abelstam");
    for (absl::string_view w : absl::StrSplit(n, ' ')) {
      EXPECT_FALSE(places.count(absl::AsciiStrToLower(w))) << n;
    }
  }
}

// Session 33: a town named as a state ("Wyoming", MI) is not drawn: the state
// a note keeps ("Driver's license: Wyoming") would be read as its surrogate.
TEST_F(SurrogateTest, TownsAreNoStates) {
  std::set<std::string> states;
  std::ifstream in(phigate::testing::SourceDir() + "/data/gazetteers/us_states.tsv");
  for (std::string line; std::getline(in, line);) {
    if (line.empty() || line[0] == '#') continue;
    for (absl::string_view f : absl::StrSplit(line, '\t')) states.insert(absl::AsciiStrToLower(f));
  }
  ASSERT_TRUE(states.count("wyoming"));
  std::set<std::string> towns;
  for (int i = 0; i < 20000; ++i) {
    const std::string c = Gen(PhiCategory::kCity, "Springfield");
    EXPECT_FALSE(states.count(absl::AsciiStrToLower(c))) << c;
    towns.insert(c);
  }
  EXPECT_GT(towns.size(), 300u);  // still a realistic spread of towns
}

// Session 34: with the scope's key, a name part gets one surrogate in every
// name of the scope, so "John Smith", "Mr. Smith", "SMITH, JOHN" and "John"
// stay one person for the model; another scope's key gives other names.
TEST_F(SurrogateTest, AScopesKeyGivesANamePartOneSurrogate) {
  const std::string key(32, 'k'), other(32, 'o');
  auto gen = [&](std::string_view v, const std::string& k, int attempt = 0) {
    auto r = gen_->Generate(PhiCategory::kName, v, attempt, SurrogateContext{0, k});
    EXPECT_TRUE(r.ok()) << r.status();
    return r.ok() ? *r : "";
  };
  const std::string full = gen("John Smith", key);
  const std::vector<std::string> parts = absl::StrSplit(full, ' ');
  ASSERT_EQ(parts.size(), 2u) << full;
  EXPECT_EQ(gen("John Smith", key), full);  // the same every time
  EXPECT_EQ(gen("Mr. Smith", key), "Mr. " + parts[1]);
  EXPECT_EQ(gen("Smith", key), parts[1]);
  EXPECT_EQ(gen("John", key), parts[0]);  // a first name alone stays a first name
  EXPECT_EQ(gen("SMITH, JOHN", key),
            absl::AsciiStrToUpper(parts[1]) + ", " + absl::AsciiStrToUpper(parts[0]));
  EXPECT_EQ(gen("John Q. Smith", key).substr(0, parts[0].size()), parts[0]);
  const std::string wife = gen("Mary Smith", key);
  EXPECT_TRUE(absl::EndsWith(wife, " " + parts[1])) << wife;  // the family keeps one surname
  EXPECT_NE(wife, full);
  // A collision asks again (attempt 1): another candidate.
  EXPECT_NE(gen("John Smith", key, 1), full);
  // Other scopes, other names (a chance match of all 20 is ~never).
  int differ = 0;
  for (const char* n : {"John Smith",  "Ana Ruiz",  "Li Wei",    "Omar Haddad", "Ruth Cohen",
                        "Maria Rossi", "Sven Berg", "Ada Obi",   "Ivan Petrov", "Mei Chen",
                        "Paul Dubois", "Eva Novak", "Raj Patel", "Kim Tran",    "Jose Silva",
                        "Anna Lind",   "Tom Walsh", "Yuki Sato", "Ali Khan",    "Emma Stone"}) {
    differ += gen(n, key) != gen(n, other) ? 1 : 0;
  }
  EXPECT_GT(differ, 15);
  // Without a key every part is drawn at random (20 draws are not all one).
  std::set<std::string> drawn;
  for (int i = 0; i < 20; ++i) drawn.insert(Gen(PhiCategory::kName, "John Smith"));
  EXPECT_GT(drawn.size(), 1u);
}

// A name in mixed case is keyed by its exact spelling: it cannot share the
// pair of "Alvin Drainville" (whose surrogate would be written back in the
// wrong case), but is itself written the same way every time.
TEST_F(SurrogateTest, AMixedCaseNameIsKeyedByItsSpelling) {
  const std::string key(32, 'k');
  auto gen = [&](std::string_view v) {
    auto r = gen_->Generate(PhiCategory::kName, v, 0, SurrogateContext{0, key});
    EXPECT_TRUE(r.ok()) << r.status();
    return r.ok() ? absl::AsciiStrToLower(*r) : "";
  };
  EXPECT_EQ(gen("Alvin DRAINVILLE"), gen("Alvin DRAINVILLE"));
  int differ = 0;
  for (const char* n : {"Alvin DRAINVILLE", "Ruth COHEN", "Omar HADDAD", "Sven BERG", "Ada OBI"}) {
    std::string title(n);
    for (size_t i = title.find(' ') + 2; i < title.size(); ++i) {
      title[i] = absl::ascii_tolower(static_cast<unsigned char>(title[i]));
    }
    differ += gen(n) != gen(title) ? 1 : 0;
  }
  EXPECT_GE(differ, 4);
}

// A first name's surrogate is of the same sex: the name's own in
// first_name_sexes.tsv, else the title's.
TEST_F(SurrogateTest, FirstNamesKeepTheirSex) {
  std::map<std::string, char> sex;
  std::ifstream in(phigate::testing::SourceDir() + "/data/gazetteers/first_name_sexes.tsv");
  for (std::string line; std::getline(in, line);) {
    if (line.empty() || line[0] == '#') continue;
    const std::vector<std::string> f = absl::StrSplit(line, '\t');
    if (f.size() == 2)
      sex[absl::AsciiStrToLower(f[0])] = f[1] == "F" ? 'F' : f[1] == "M" ? 'M' : 'B';
  }
  ASSERT_EQ(sex["mary"], 'F');
  ASSERT_EQ(sex["john"], 'M');
  const std::string key(32, 'k');
  for (int i = 0; i < 200; ++i) {
    for (const auto& [name, want] : {std::pair{"Mary Smith", 'F'},
                                     {"John Smith", 'M'},
                                     {"Renée Dubois", 'F'},
                                     {"José Ruiz", 'M'},
                                     {"Mrs. Qorvina Abelstam", 'F'},
                                     {"Mr. Qorvin Abelstam", 'M'}}) {
      // Half keyed (attempt i), half drawn at random.
      auto r = i % 2 ? gen_->Generate(PhiCategory::kName, name, i, SurrogateContext{0, key})
                     : gen_->Generate(PhiCategory::kName, name, 0, 0);
      ASSERT_TRUE(r.ok()) << r.status();
      std::vector<std::string> w = absl::StrSplit(*r, ' ');
      const std::string first = absl::AsciiStrToLower(w[w.size() - 2]);
      EXPECT_EQ(sex[first], want) << name << " -> " << *r;
    }
  }
  // One word alone: a first name when the census ranks it far more as one.
  std::set<std::string> firsts;
  std::ifstream fn(phigate::testing::SourceDir() + "/data/gazetteers/first_names.tsv");
  for (std::string line; std::getline(fn, line);) {
    if (!line.empty() && line[0] != '#') firsts.insert(line.substr(0, line.find('\t')));
  }
  std::set<std::string> surnames;
  std::ifstream ln(phigate::testing::SourceDir() + "/data/gazetteers/surnames.tsv");
  for (std::string line; std::getline(ln, line);) {
    if (!line.empty() && line[0] != '#') surnames.insert(line.substr(0, line.find('\t')));
  }
  int mary_first = 0;
  for (int i = 0; i < 50; ++i) {
    mary_first += firsts.count(Gen(PhiCategory::kName, "Mary")) ? 1 : 0;
    mary_first += firsts.count(Gen(PhiCategory::kName, "María")) ? 1 : 0;
    EXPECT_TRUE(surnames.count(Gen(PhiCategory::kName, "Alvarez")));
  }
  EXPECT_EQ(mary_first, 100);  // "María" alone too (the census writes "Maria")
}

TEST(LetterCaseTest, OfAndIn) {
  EXPECT_EQ(LetterCaseOf("SAINT JOSEPH"), LetterCase::kUpper);
  EXPECT_EQ(LetterCaseOf("saint joseph"), LetterCase::kLower);
  EXPECT_EQ(LetterCaseOf("Saint Joseph"), LetterCase::kTitle);
  EXPECT_EQ(LetterCaseOf("May 22nd, 1939"), LetterCase::kTitle);
  EXPECT_EQ(LetterCaseOf("O'Brien"), LetterCase::kTitle);
  EXPECT_EQ(LetterCaseOf("McKinley"), LetterCase::kMixed);
  EXPECT_EQ(LetterCaseOf("Saint Mary of the Valley"), LetterCase::kMixed);
  EXPECT_EQ(LetterCaseOf("(617) 555-0142"), LetterCase::kNone);
  EXPECT_EQ(InLetterCase("Saint Joseph", LetterCase::kUpper), "SAINT JOSEPH");
  EXPECT_EQ(InLetterCase("Saint Joseph", LetterCase::kLower), "saint joseph");
  EXPECT_EQ(InLetterCase("MAY 22ND, 1939", LetterCase::kTitle), "May 22nd, 1939");
  EXPECT_EQ(InLetterCase("McKinley", LetterCase::kTitle), "McKinley");  // not one case
  EXPECT_EQ(InLetterCase("McKinley", LetterCase::kMixed), "McKinley");
  EXPECT_EQ(SurrogateInCaseOf("[NAME_7QK2X]", "qorvin"), "[NAME_7QK2X]");
  // Each spelling of a value through one pair stored as (original, surrogate).
  const std::string original = "Meadowbrook Nursing", surrogate = "Saint Joseph";
  for (std::string spelling :
       {"Meadowbrook Nursing", "MEADOWBROOK NURSING", "meadowbrook nursing"}) {
    const std::string written = SurrogateInCaseOf(surrogate, spelling);
    EXPECT_TRUE(absl::EqualsIgnoreCase(written, surrogate)) << written;
    EXPECT_EQ(OriginalInCaseOf(original, written, surrogate), spelling);
  }
  // The pair stored from the capitals; a capitalised spelling comes back so.
  EXPECT_EQ(
      OriginalInCaseOf("MEADOWBROOK NURSING",
                       SurrogateInCaseOf("SAINT JOSEPH", "Meadowbrook Nursing"), "SAINT JOSEPH"),
      "Meadowbrook Nursing");
}

}  // namespace
}  // namespace phigate::transform
