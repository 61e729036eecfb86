// Engine behaviour: one table row per recognizer family, in context, several
// per text, and the contract of Scan() (sorted, disjoint, PHI-free findings).
#include "phigate/detect/engine.h"

#include <algorithm>
#include <atomic>
#include <string>
#include <thread>
#include <vector>

#include "gtest/gtest.h"
#include "phigate/transform/redactor.h"
#include "src/detect/resolve.h"
#include "tests/testing/status_matchers.h"

namespace phigate::detect {
namespace {

class EngineTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    auto e = Engine::Create({});
    ASSERT_TRUE(e.ok()) << e.status();
    engine_ = e->release();
  }
  static void TearDownTestSuite() { delete engine_; }

  // The text of every finding of `category` in `text`.
  static std::vector<std::string> Found(const std::string& text, PhiCategory category) {
    auto found = engine_->Scan(text);
    EXPECT_TRUE(found.ok()) << found.status();
    std::vector<std::string> out;
    for (const Finding& f : *found) {
      if (f.category == category) out.push_back(text.substr(f.begin, f.end - f.begin));
    }
    return out;
  }
  // The street addresses found in `text`, each followed by '|'.
  static std::string Streets(const std::string& text) {
    std::string all;
    for (const std::string& v : Found(text, PhiCategory::kStreetAddress)) all += v + "|";
    return all;
  }
  static bool Covered(const std::string& text, const std::string& value) {
    auto found = engine_->Scan(text);
    EXPECT_TRUE(found.ok());
    const size_t at = text.find(value);
    EXPECT_NE(at, std::string::npos);
    for (size_t k = at; k < at + value.size(); ++k) {
      bool hit = false;
      for (const Finding& f : *found) hit = hit || (f.begin <= k && k < f.end);
      if (!hit) return false;
    }
    return true;
  }
  static Engine* engine_;
};
Engine* EngineTest::engine_ = nullptr;

// Free helpers reach the fixture's scanning helpers through this.
struct EngineTestAccess : EngineTest {
  using EngineTest::Covered;
  using EngineTest::Found;
};

struct Case {
  const char* text;
  const char* value;  // must be covered
  PhiCategory category;
};

// Every case's value is covered, and a finding of its category holds it.
template <size_t N>
void ExpectFoundAndTyped(const Case (&cases)[N]) {
  for (const Case& c : cases) {
    EXPECT_TRUE(EngineTestAccess::Covered(c.text, c.value)) << c.text;
    bool typed = false;
    for (const std::string& v : EngineTestAccess::Found(c.text, c.category)) {
      typed = typed || v.find(c.value) != std::string::npos || std::string(c.value).find(v) == 0;
    }
    EXPECT_TRUE(typed) << c.text << " not typed " << CategoryName(c.category);
  }
}

TEST_F(EngineTest, FindsEachIdentifierClassInContext) {
  // Synthetic values only (invalid ranges, 555 numbers, example domains).
  const Case cases[] = {
      {"Pt seen by Dr. Quennell today.", "Quennell", PhiCategory::kName},
      {"MR. EDWARDO PRZYLANSKI IS AN 83 YR OLD MALE", "PRZYLANSKI", PhiCategory::kName},
      {"son rob called at noon", "rob", PhiCategory::kName},
      {"Seen 3/14/2024 in clinic", "3/14/2024", PhiCategory::kDate},
      {"admitted on March 14, 2024 for CHF", "March 14, 2024", PhiCategory::kDate},
      {"f/u 7/22 with cardiology", "7/22", PhiCategory::kDate},
      {"DOB: 04/01/1951", "04/01/1951", PhiCategory::kDate},
      {"a 93 yo woman with CHF", "93", PhiCategory::kAge},
      {"cell 617-555-0199 ext. 22", "617-555-0199 ext. 22", PhiCategory::kPhone},
      {"fax: (617) 555-0143", "(617) 555-0143", PhiCategory::kFax},
      {"email jdoe@example.org please", "jdoe@example.org", PhiCategory::kEmail},
      {"portal https://portal.example.com/p/123 now", "https://portal.example.com/p/123",
       PhiCategory::kUrl},
      {"from 192.0.2.44 at login", "192.0.2.44", PhiCategory::kIp},
      {"SSN 219-09-9999 on file", "219-09-9999", PhiCategory::kSsn},
      {"last 4 of SSN 9999", "9999", PhiCategory::kSsn},
      {"MRN: 4429871", "4429871", PhiCategory::kMrn},
      {"Medicare MBI 1EG4-TE5-MK73", "1EG4-TE5-MK73", PhiCategory::kHealthPlan},
      {"Account # 0012-3344-55", "0012-3344-55", PhiCategory::kAccount},
      {"DEA AB1234563", "AB1234563", PhiCategory::kLicense},
      {"NPI 1234567893", "1234567893", PhiCategory::kLicense},
      {"VIN 1M8GDM9AXKP042788", "1M8GDM9AXKP042788", PhiCategory::kVehicle},
      {"pacemaker serial # PMX-88213-B", "PMX-88213-B", PhiCategory::kDevice},
      {"lives at 742 Evergreen Terrace in town", "742 Evergreen Terrace",
       PhiCategory::kStreetAddress},
      {"Springfield, IL 62704", "62704", PhiCategory::kZip},
      {"study ID: ST-20931", "ST-20931", PhiCategory::kOtherId},
  };
  ExpectFoundAndTyped(cases);
}

TEST_F(EngineTest, FindsLabelledAndContextualShapes) {
  // Shapes added after measuring the synthetic notes' misses; synthetic values only.
  const Case cases[] = {
      {"DOB: 03-Oct-1928 on file", "03-Oct-1928", PhiCategory::kDate},
      {"NOTE 3/23/2015 2355 NURSING", "3/23/2015 2355", PhiCategory::kDate},
      {"Emergency Note 10/05/2012 @ 2305|", "10/05/2012 @ 2305", PhiCategory::kDate},
      {"at baseline until the 16th, then worse", "16th", PhiCategory::kDate},
      {"Fax: 555-0124 ext 12", "555-0124 ext 12", PhiCategory::kPhone},
      {"SSN: ###-##-0579 on file", "0579", PhiCategory::kSsn},
      {"Age/Sex: 103/M", "103", PhiCategory::kAge},
      {"Job #: STU91454738", "STU91454738", PhiCategory::kOtherId},
      {"Photo on file: IMG_4530.JPG", "IMG_4530.JPG", PhiCategory::kPhoto},
      {"the new member ID is W945722266.", "W945722266", PhiCategory::kHealthPlan},
      {"Driver's license: KS H86594902", "H86594902", PhiCategory::kLicense},
      {"Ins: MassHealth LI3783951-04", "LI3783951-04", PhiCategory::kHealthPlan},
      {"iris template VP6400043", "VP6400043", PhiCategory::kBiometric},
      {"Biometric check-in: palm vein template FP-92576-78", "FP-92576-78",
       PhiCategory::kBiometric},
      {"Films from Mercy Hospital of Dublin on 07-Mar-2024.", "Dublin", PhiCategory::kFacility},
      {"TRANSFERRED FROM MERCY HOSPITAL OF ANACONDA FOR CA.", "ANACONDA", PhiCategory::kFacility},
      {"MVC near 26.0616\xc2\xb0 N, 109.6615\xc2\xb0 W today", "26.0616", PhiCategory::kLocation},
      {"MVC near 33.30482, -101.81474.", "33.30482, -101.81474", PhiCategory::kLocation},
      {"also a pt at Quenby Family Practice.", "Quenby", PhiCategory::kFacility},
      {"transferred from St. Agnes's Hospital", "St. Agnes's", PhiCategory::kFacility},
      {"EMS from Marion County reports", "Marion County", PhiCategory::kCity},
      {"copy sent to 540 lakeview lane, please", "540 lakeview lane", PhiCategory::kStreetAddress},
      {"HE LIVES AT 12 ELM ST WITH HIS WIFE.", "12 ELM ST", PhiCategory::kStreetAddress},
      {"Waterville, Maine 04901", "04901", PhiCategory::kZip},
      {"Name: LAMAR, JAMES\nMRN: 00520791", "LAMAR", PhiCategory::kName},
      {"Name: LAMAR, JAMES\nMRN: 00520791", "JAMES", PhiCategory::kName},
      {"Verified by: Oscar Mirner, MLS(ASCP)", "Oscar Mirner", PhiCategory::kName},
      {"Dear Quellbiez,\n\nThank you", "Quellbiez", PhiCategory::kName},
      {"See you then.\n\nThanks,\nJomthyven\n", "Jomthyven", PhiCategory::kName},
      {"Hello, this is Dr. Kyle Varnholt.", "Kyle Varnholt", PhiCategory::kName},
      // Session 14: a month and a day with a dash after an admission, a visit
      // or a meeting.
      {"s/p R TKR 2011, admitted 12-21 after syncope.", "12-21", PhiCategory::kDate},
      {"FAMILY MTG 8-16 AT 1400 W/ DR LUNN.", "8-16", PhiCategory::kDate},
      {"COMPARISON: 1-19\nHISTORY: fall", "1-19", PhiCategory::kDate},
      {"pt seen 8-11, c/o a fall at home.", "8-11", PhiCategory::kDate},
      // A lower-case street with a compass point.
      {"pt wants copy sent to 6367 e. chestnut pl\nmauston, wi 53450", "6367 e. chestnut pl",
       PhiCategory::kStreetAddress},
  };
  ExpectFoundAndTyped(cases);
  EXPECT_TRUE(Found("seen at mercy hospital of choice.", PhiCategory::kFacility) ==
              std::vector<std::string>{"mercy"});
  // A nursing shift is no date.
  EXPECT_TRUE(Found("NURSING NOTE 7-3: PT RESTING.", PhiCategory::kDate).empty());
  // ... and their near misses stay clean.
  EXPECT_TRUE(Found("TV 900-1000 on the vent", PhiCategory::kPhone).empty());
  EXPECT_TRUE(Found("given 4/1/2020 1000 mg", PhiCategory::kDate) ==
              std::vector<std::string>{"4/1/2020"});
  EXPECT_TRUE(Found("s/p 2nd cath today", PhiCategory::kDate).empty());
  // A field's label is not part of the name.
  for (const std::string& v : Found("Name: LAMAR, JAMES", PhiCategory::kName)) {
    EXPECT_EQ(v.find("Name"), std::string::npos) << v;
  }
}

// Address blocks (session 5): parts that run on into prose end at a postal
// code or a sentence end, the town may follow a unit number on the same line,
// a line before a unit line belongs to the street, ship mail is an address,
// and a field label ends the block. Synthetic addresses only.
TEST_F(EngineTest, AddressBlocksEndWhereTheAddressEnds) {
  const Case cases[] = {
      {"Please ship it to 41 Harbour Road Apt. 7 Kelso Bay Tasmania? Thanks", "Kelso Bay Tasmania",
       PhiCategory::kStreetAddress},
      {"Send to 12 Mill Lane\nLowfield\nNorway 40417 in case it is late.", "Norway 40417",
       PhiCategory::kStreetAddress},
      {"mail: 22 Quarry Street Low Fields\n Suite 12\n Dunmore", "Low Fields",
       PhiCategory::kStreetAddress},
      {"Forward it to USNS Brightwater\nFPO AE 09512 please", "USNS Brightwater\nFPO AE 09512",
       PhiCategory::kStreetAddress},
      {"forward it to uss kelvale fpo ap 96612.", "uss kelvale fpo ap 96612",
       PhiCategory::kStreetAddress},
  };
  ExpectFoundAndTyped(cases);
  // The prose after the block is not part of it.
  EXPECT_EQ(
      Streets("Please ship it to 41 Harbour Road Apt. 7 Kelso Bay Tasmania? Thanks").find("Thanks"),
      std::string::npos);
  EXPECT_EQ(
      Streets("Send to 12 Mill Lane\nLowfield\nNorway 40417 in case it is late.").find("case"),
      std::string::npos);
  // A labelled field after the address is not an address line.
  EXPECT_EQ(Streets("Address: 206 Elm Street, Linn Creek, MO 64001\nCounty: Holt County\n")
                .find("County"),
            std::string::npos);
  // "Room 4" is no unit number that carries a town after it.
  EXPECT_EQ(Streets("Seen at 14 Oak Street Room 4 Pt Stable").find("Stable"), std::string::npos);
  // Without a unit line after it, the street's line does not run on.
  EXPECT_EQ(Streets("Seen at 14 Oak Street Kew Gardens\nPlan: discharge"), "14 Oak Street|");
}

// Session 32: the letter of "D/C", "S/P" or "W/" after a name is no initial
// of it ("SUBJECT: QUARRELTON D/C PLANNING" lost its "D" to the name).
TEST_F(EngineTest, ALetterOfASlashAbbreviationIsNoInitial) {
  const std::string note =
      "SUBJECT: QUARRELTON D/C PLANNING\nPT ELFIERK G. QUARRELTON IS READY.\n"
      "SEEN BY T. QUARRELTON W/ FAMILY.\n";
  const std::vector<std::string> names = Found(note, PhiCategory::kName);
  ASSERT_FALSE(names.empty());
  for (const std::string& v : names) {
    EXPECT_EQ(v.find(" D"), std::string::npos) << v;
    EXPECT_EQ(v.find(" W"), std::string::npos) << v;
  }
  EXPECT_NE(std::find(names.begin(), names.end(), "ELFIERK G. QUARRELTON"), names.end());
}

// Session 32: a town written in lower case on an address line, before a state
// and a ZIP, is part of the address ("18281 w. magnolia st, plains, ks
// 66804"); without the state and ZIP after it, lower-case words stay out.
TEST_F(EngineTest, ALowerCaseTownBeforeAStateAndZipIsPartOfTheAddress) {
  EXPECT_EQ(Streets("pt wants copy sent to 18281 w. magnolia st, plains, ks 66804. got records"),
            "18281 w. magnolia st, plains|");
  EXPECT_EQ(Streets("copy to 636 83rd st., deep gap, north carolina 27230."),
            "636 83rd st., deep gap|");
  // No state and ZIP after the words: not the town.
  EXPECT_EQ(Streets("sent to 18281 w. magnolia st, plains were dry, ks later"),
            "18281 w. magnolia st|");
  EXPECT_EQ(Streets("sent to 18281 w. magnolia st, wife aware, 66804 is the code"),
            "18281 w. magnolia st|");
}

// Session 33: streets with a two-letter direction ("NW"), upper-case "PL" /
// "WAY", a one-digit house number in lower case, and a lower-case street's
// unit ("#31", "fl 7", "apt #35d") are all the street.
TEST_F(EngineTest, StreetsWithTwoLetterDirectionsUnitsAndShortNumbers) {
  EXPECT_EQ(Streets("Lab Results\nCambridgeport Memorial Hospital  18963 NW Sunset St.\nok"),
            "18963 NW Sunset St.|");
  EXPECT_EQ(Streets("ST. ANNE'S HOSPITAL\n15524 DEATHCHURARD PL\nPHONE: 4"),
            "15524 DEATHCHURARD PL|");
  EXPECT_EQ(Streets("CLINIC\n229 CHETHRENDARD WAY\nPHONE: 4"), "229 CHETHRENDARD WAY|");
  EXPECT_EQ(Streets("pt wants copy sent to 9 south beacon lane. got records"),
            "9 south beacon lane.|");
  EXPECT_EQ(Streets("pt wants copy sent to 13659 mosmamwick dr #31\nmore"),
            "13659 mosmamwick dr #31|");
  EXPECT_EQ(Streets("copy sent to 714 kirscht terrace, fl 7. ok"), "714 kirscht terrace, fl 7|");
  // Not: "PLACE" in capitals ("3 WAY FOLEY IN PLACE"), a lower-case street
  // word without a number, a one-digit number before clinical words.
  EXPECT_EQ(Streets("GU: 3 WAY FOLEY IN PLACE & DRAINING"), "");
  EXPECT_EQ(Streets("walked down the hospital lane, fl 7 later"), "");
  EXPECT_EQ(Streets("gave 2 units ffp, fl 7 team aware"), "");
}

// Session 33: in a note that capitalises, a town of the list written in lower
// case after a residence cue is a place; other lower-case words are not.
TEST_F(EngineTest, ALowerCaseTownAfterAResidenceCue) {
  EXPECT_TRUE(Covered("Cell 555-0151. Lives in red bluff with his son.\nPlan: home.", "red bluff"));
  EXPECT_TRUE(Covered("Pt lives alone in saukville, Wisconsin.\nSOCIAL: none.", "saukville"));
  EXPECT_TRUE(Covered("She is 24yo and lives alone in chocorua. Best, Dr. Lee", "chocorua"));
  EXPECT_FALSE(Covered("Pt lives alone in comfort, Family aware.", "comfort"));
  EXPECT_FALSE(Covered("Pt lives alone in halfway house, Family aware.", "halfway"));
  EXPECT_FALSE(Covered("Pt lives alone in an apartment, Family aware.", "apartment"));
}

// Session 33: in a note that capitalises, a town of the list of several words
// written in lower case after "in" or "from" is a place; one word is not taken
// there ("in bed", "from home").
TEST_F(EngineTest, ALowerCaseTownOfSeveralWordsAfterAPreposition) {
  EXPECT_TRUE(Covered("Granddaughter driving in from rapid city, ETA 11:45AM.", "rapid city"));
  EXPECT_TRUE(
      Covered("She now lives at Brookside Rehab in los angeles. Please call.", "los angeles"));
  EXPECT_FALSE(
      Covered("Pain in left side. Came from home health. Stays in long term care.", "left"));
  EXPECT_FALSE(
      Covered("Pain in left side. Came from home health. Stays in long term care.", "home"));
  EXPECT_FALSE(
      Covered("Pain in left side. Came from home health. Stays in long term care.", "long"));
}

// Session 33: in a note that capitalises, a town of the list in lower case
// before its police or fire service is a place.
TEST_F(EngineTest, ALowerCaseTownBeforeItsPoliceIsAPlace) {
  EXPECT_TRUE(
      Covered("VIN on file. Per college park PD officer Jones (badge 12).", "college park"));
  EXPECT_TRUE(Covered("Per warner robins PD officer Kenneth Lee.", "warner robins"));
  EXPECT_FALSE(Covered("Pt had a house fire. Forest fire nearby. Called police.", "house"));
  EXPECT_FALSE(Covered("Pt had a house fire. Forest fire nearby. Called police.", "Forest"));
  // Session 37: a town's later word may be a clinical one there ("point").
  EXPECT_TRUE(Covered("Trauma alert. EMS from sand point Fire reports GCS 15.", "sand point"));
  EXPECT_FALSE(Covered("Tender at the trigger point. Fire alarm tested.", "point"));
}

// Session 33: outside mixed case a letter's "RE:" / "REGARDING:" line names
// the patient when a date of birth or a record number follows the name.
TEST_F(EngineTest, AReLineBeforeADateOfBirthNamesThePatient) {
  const std::string letter = "DR IVFORD\nST. VINCENT'S HOSPITAL\n\n";
  EXPECT_TRUE(Covered(letter + "REGARDING: JYNDJAV L. DEAN, DOB 2.10.1954\n\nDEAR DR. IVFORD,",
                      "JYNDJAV L. DEAN"));
  EXPECT_TRUE(Covered(letter + "RE: CYETTE LARGE (DOB: 24-NOV-1933)\n", "CYETTE LARGE"));
  EXPECT_TRUE(
      Covered("scotland medical center\n\nre: freeda briain (dob: 8/13/1963)\n", "freeda briain"));
  // Without a date of birth after it, "RE:" in shorthand is a subject.
  EXPECT_FALSE(Covered(letter + "RE: JYNDJAV DEAN FOLLOW UP\n", "JYNDJAV"));
  EXPECT_FALSE(Covered(letter + "RE: HEART TRANSPLANT, DOB 2.10.1954\n", "TRANSPLANT"));
}

// Session 6: facility nicknames and unit names written another way, and
// sign-off lines whose names are also clinical eponyms.
TEST_F(EngineTest, FacilityNicknamesWardsAndSignOffs) {
  // "Memorial"/"Regional" after a place name the facility by themselves.
  EXPECT_TRUE(Covered("Her son works as a nurse at Easton Memorial. Pt stable.", "Memorial"));
  EXPECT_TRUE(
      Covered("TRANSFERRED TO SALISBURY REGIONAL FOR CATH. PT STABLE.", "SALISBURY REGIONAL"));
  // "university of <state>" in lower case, before a facility word.
  EXPECT_TRUE(
      Covered("Pt recieved from university of iowa hospital, intubated.", "university of iowa"));
  // A unit of the note with its number fused on.
  EXPECT_TRUE(
      Covered("BACK TO LINTHICUM 4 AFTER CATH. LINTHICUM4 REPORTED CP AT 0300.", "LINTHICUM4"));
  // "First Surname CRED" where both names are also eponyms.
  EXPECT_TRUE(Covered("Pt stable on floor.\nOrrin Foley RRT", "Orrin Foley"));
  const auto all = [](const std::string& text) {
    std::string out;
    for (PhiCategory c :
         {PhiCategory::kName, PhiCategory::kCity, PhiCategory::kFacility, PhiCategory::kLocation}) {
      for (const std::string& v : Found(text, c)) out += v + "|";
    }
    return out;
  };
  // Not: "memorial" without a place, a university without a facility word,
  // a catheter with no name before its credential-like word.
  EXPECT_EQ(all("family planning a memorial service next week."), "");
  EXPECT_EQ(all("Pt is stable. Her son is at university of maryland now."), "");
  EXPECT_EQ(all("Foley RN aware of low output."), "");
}

// Session 6: a first name right before what people do on a ward, in any case.
TEST_F(EngineTest, FirstNamesBeforeWardVerbs) {
  EXPECT_TRUE(Covered("Labs sent. social: bill called once about 2am, updated.", "bill"));
  EXPECT_TRUE(Covered("Pt resting. bob visited during the evening.", "bob"));
  EXPECT_TRUE(Covered("PT RESTING. JOHN STATES HIS SISTER IS COMING. PT STABLE.", "JOHN"));
  // After a verb that takes a person: an initial and a listed name, a first
  // name and an unknown word; a lower-case first name before a lower-case name.
  EXPECT_TRUE(Covered("LINE RESITED BY C. HOPE. NO BLEEDING AT SITE.", "HOPE"));
  EXPECT_TRUE(Covered("Wound care discussed with anika zellweg today.", "anika zellweg"));
  EXPECT_TRUE(Covered("Plan per oncology note.\nlucinda morris rn", "lucinda morris"));
  EXPECT_TRUE(Found("CONTINUE TO MAX RPP- ENALAPRIL AS ORDERED.", PhiCategory::kName).empty());
  // A region named by a compass word and a coast; an acronym facility of the
  // note wherever it is named.
  EXPECT_TRUE(
      Covered("Was on vacation on the Western Shore when the pain began.", "Western Shore"));
  EXPECT_EQ(Found("Pt referred to NRH for cath. Wants NRH records soon.", PhiCategory::kLocation),
            (std::vector<std::string>{"NRH"}));
  // Two words no list holds before such a verb.
  EXPECT_TRUE(
      Covered("BP STABLE. KORVANDEL PRISTAMORE TOLERATED PROCEDURE WELL.", "KORVANDEL PRISTAMORE"));
  EXPECT_TRUE(Found("Pt stable. Dressing changed and remains intact.", PhiCategory::kName).empty());
  EXPECT_TRUE(Covered("vs stable. pt zorbeth quillane seen 5/20, c/o fever.", "zorbeth quillane"));
  EXPECT_TRUE(Found("Wound seen by team.", PhiCategory::kName).empty());
  // The patient's name between "pt" and such a verb; a name before "PA-C".
  EXPECT_TRUE(Covered("vs stable. pt kollmerand seen 10/23, c/o hypotension.", "kollmerand"));
  EXPECT_TRUE(Found("Pt sxned seen by RT.", PhiCategory::kName).empty());
  EXPECT_TRUE(Covered("labs ok. pcp is zorbeth, pa-c. no changes.", "zorbeth"));
  // A writer introducing themselves after a greeting, even with a common word.
  EXPECT_TRUE(
      Covered("Subject: refill\n\nDear Dr. Lindqvist, this is Grace. I need a refill.", "Grace"));
  EXPECT_TRUE(Found("Pain better, this is Tylenol related.", PhiCategory::kName).empty());
  // A name is not extended over a hyphenated word with a relation part.
  EXPECT_EQ(Found("Heplocks x2. |FAMILY-son Ned notified of change.", PhiCategory::kName),
            (std::vector<std::string>{"Ned"}));
  // Common words that are also first names, before the same verbs, are not.
  EXPECT_TRUE(
      Found("Pt calm, grace period given for meds, hope states she is fine.", PhiCategory::kName)
          .empty());
}

// Session 6: a frequent first name that is also a word, a town or an eponym,
// before a capitalised surname or unknown word, in mixed-case text.
TEST_F(EngineTest, FrequentFirstNamesBeforeASurname) {
  EXPECT_TRUE(Covered("A tribute to Warren Petersen today, sadly.", "Warren Petersen"));
  EXPECT_TRUE(Covered("We spoke to Martin Larsen about it.", "Martin Larsen"));
  EXPECT_TRUE(Found("Will Reassess in am.", PhiCategory::kName).empty());
}

// Session 6: a spaced phone number in brackets with one digit too many.
TEST_F(EngineTest, SpacedPhoneInBracketsWithATypo) {
  const Case cases[] = {
      {"Son and grandson visited today (410 555 01234), both updated.", "410 555 01234",
       PhiCategory::kPhone},
  };
  ExpectFoundAndTyped(cases);
  // Not without the brackets, nor with a leading 0 or 1 (no US area code).
  EXPECT_TRUE(Found("Vent 410 555 01234 cycles.", PhiCategory::kPhone).empty());
  EXPECT_TRUE(Found("Counts (110 555 01234) noted.", PhiCategory::kPhone).empty());
}

TEST_F(EngineTest, LeavesNonPhiAlone) {
  const char* clean[] = {
      "BP 120/80, HR 72, RR 18, on CPAP 5/5 with FiO2 40%.",
      "Pt is a 67 yo male with CHF; denies chest pain.",
      "Given 1 1/2 amps calcium chloride. Plan to wean vent in 2-3 days.",
      "History of MI in 2019; no stents since.",
      // A heart rate and its rhythm, not a house number and a street.
      "CARDIAC: HR 99-104 NSR ST WITH OCCASIONAL PAC NOTED.",
      "HR 80-90 SR ST. BP 118 LEFT ARM.",
  };
  for (const char* t : clean) {
    auto found = engine_->Scan(t);
    ASSERT_TRUE(found.ok());
    for (const Finding& f : *found) {
      ADD_FAILURE() << t << " flagged [" << std::string(t).substr(f.begin, f.end - f.begin)
                    << "] as " << CategoryName(f.category);
    }
  }
}

TEST_F(EngineTest, InvalidChecksumsAreNotIdentifiers) {
  EXPECT_TRUE(Found("VIN 1M8GDM9A1KP042788x", PhiCategory::kVehicle).empty());
  EXPECT_TRUE(Found("code AB1234564 here", PhiCategory::kLicense).empty());
}

TEST_F(EngineTest, FindingsAreSortedDisjointAndInRange) {
  const std::string text =
      "Pt John Smith (MRN 4429871) seen 3/14/2024 by Dr. Alvarez, cell 617-555-0199; "
      "wife Mary at 12 Oak Street, Boston, MA 02118. email js@example.com";
  auto found = engine_->Scan(text);
  ASSERT_TRUE(found.ok());
  ASSERT_GE(found->size(), 6u);
  for (size_t i = 0; i < found->size(); ++i) {
    const Finding& f = (*found)[i];
    EXPECT_LT(f.begin, f.end);
    EXPECT_LE(f.end, text.size());
    if (i > 0) {
      EXPECT_LE((*found)[i - 1].end, f.begin);
    }
  }
}

TEST_F(EngineTest, IssueExampleBecomesTypedPlaceholders) {
  const std::string text =
      "Pt John Smith (MRN 4429871) seen 3/14/2024 by Dr. Alvarez, cell 617-555-0199";
  auto found = engine_->Scan(text);
  ASSERT_TRUE(found.ok());
  auto redactor = transform::Redactor::Create({});
  ASSERT_TRUE(redactor.ok()) << redactor.status();
  auto out = (*redactor)->Apply(text, *found);
  ASSERT_TRUE(out.ok());
  EXPECT_EQ(*out, "Pt [NAME] (MRN [MRN]) seen [DATE] by Dr. [NAME], cell [PHONE]");
}

TEST_F(EngineTest, BadInputIsScannedNotCrashed) {
  const std::string nul("Dr. Quennell\0MRN: 4429871", 25);
  auto f1 = engine_->Scan(nul);
  ASSERT_TRUE(f1.ok());
  EXPECT_FALSE(f1->empty());
  const std::string invalid = "MRN: 4429871 \xff\xfe Dr. Quennell \xc3";
  auto f2 = engine_->Scan(invalid);
  ASSERT_TRUE(f2.ok());
  EXPECT_FALSE(f2->empty());
  auto f3 = engine_->Scan("");
  ASSERT_TRUE(f3.ok());
  EXPECT_TRUE(f3->empty());
}

// An address in a quoted or bulleted block continues over the lines that
// open with the marks ("> ", "* "); each line is reported without its mark.
TEST_F(EngineTest, AddressBlocksInQuotedOrBulletedLines) {
  const std::string quoted =
      "Forwarded note:\n> Tova Brenning\n> 4471 Larkspur Avenue\n> Suite 210\n> Wendmoor "
      "Falls\n> Canada 55120\n> thanks";
  EXPECT_EQ(Found(quoted, PhiCategory::kStreetAddress),
            (std::vector<std::string>{"4471 Larkspur Avenue", "Suite 210", "Wendmoor Falls",
                                      "Canada 55120"}));
  const std::string bulleted =
      "Contact:\n* 88 Quillan Road\n* Apt. 4\n* Harrowgate\n* Norway 20931";
  EXPECT_TRUE(Covered(bulleted, "Harrowgate"));
  EXPECT_TRUE(Covered(bulleted, "Norway 20931"));
  // A bulleted plan after an address line is not taken into it.
  EXPECT_FALSE(Covered("Lives at 12 Mill Lane\n* continue lasix", "continue"));
}

// An intersection after "the corner of" is one address, the phrase included.
TEST_F(EngineTest, IntersectionsAreAddresses) {
  EXPECT_TRUE(Covered("Meet me at the corner of Quillby Street and Harlow Lane tomorrow.",
                      "the corner of Quillby Street and Harlow Lane"));
  EXPECT_TRUE(Covered("She waits at the corner of Brennoch Way & 5th St. then leaves.",
                      "the corner of Brennoch Way & 5th St."));
  EXPECT_FALSE(
      Covered("Meet me at the corner of Quillby Street and Harlow Lane tomorrow.", "tomorrow"));
  EXPECT_TRUE(Found("Redness in the corner of the left eye.", PhiCategory::kStreetAddress).empty());
}

// Names without a cue: two rare listed surnames, a word no list holds
// beside a capitalised-only clinical-source word (an eponym's surname), and a
// first name, a middle initial and a surname.
TEST_F(EngineTest, SurnamePairsAndMiddleInitials) {
  EXPECT_TRUE(
      Covered("Consent signed today; Houghland Leverenz witnessed it.", "Houghland Leverenz"));
  EXPECT_TRUE(
      Covered("Consent signed today; Zofiena Bardenheuer witnessed it.", "Zofiena Bardenheuer"));
  EXPECT_TRUE(Covered("Plan reviewed. Tamsin R Oakley will call back.", "Tamsin R Oakley"));
  EXPECT_TRUE(
      Covered("Meds given. Brivelle K Tormanski brought the forms.", "Brivelle K Tormanski"));
  EXPECT_TRUE(Covered("plan reviewed. maren j. brennick will call back.", "maren j. brennick"));
  EXPECT_TRUE(Covered("plan reviewed. zofiena t kasprow will call back.", "zofiena t kasprow"));
  // Drugs with a letter are not names.
  EXPECT_TRUE(
      Found("Pt got K Dur at 0800; gave Bumex 1 mg and K Phos.", PhiCategory::kName).empty());
  EXPECT_TRUE(Found("pt given k dur at 0800. gave bob a call.", PhiCategory::kName).empty());
}

// A first name and a word only the surname list holds after "with"; a
// frequent first name that is also an eponym in a list of names; a lower-case
// initial before a lower-case name.
TEST_F(EngineTest, NamesAfterWithInListsAndAfterLowerCaseInitials) {
  EXPECT_TRUE(
      Covered("dsg changed. will consult with sandy kobryn re wound care.", "sandy kobryn"));
  EXPECT_TRUE(Covered("MICU NOTE\nDaughters Zofia, Lenka and Clara in to visit.", "Clara"));
  EXPECT_TRUE(Covered("no events overnight. all is well. d. halloran rrt", "d. halloran"));
  EXPECT_TRUE(Found("pt given a. fib meds", PhiCategory::kName).empty());
  EXPECT_TRUE(Found("Labs and Clara cell counts pending.", PhiCategory::kName).empty());
}

// A labelled phone number may open with its area code in brackets, on the
// label's line or the next.
TEST_F(EngineTest, LabelledPhonesWithABracketedAreaCode) {
  EXPECT_EQ(Found("Name: Orla Kettering\nPhone: (44) 812-905", PhiCategory::kPhone),
            (std::vector<std::string>{"(44) 812-905"}));
  EXPECT_TRUE(Covered("Personal Info:\nPhone:\n(03) 9182 4471\n", "(03) 9182 4471"));
  EXPECT_TRUE(Found("Resting in bed, call (2-3 times) if needed.", PhiCategory::kPhone).empty());
}

// A greeting's name ends at its comma, even when a capitalised word follows.
TEST_F(EngineTest, GreetingNameEndsAtItsComma) {
  EXPECT_EQ(Found("Hi Warren, I'm writing about my refill.", PhiCategory::kName),
            (std::vector<std::string>{"Warren"}));
  EXPECT_TRUE(Found("Hello Everyone, We got your forms.", PhiCategory::kName).empty());
}

// A word that starts with an upper-case Latin letter outside ASCII is
// capitalised: names written with their diacritics (invented names).
TEST_F(EngineTest, NamesStartingWithAnAccentedCapital) {
  EXPECT_TRUE(Covered("Discussed plan with Ingrid \u00d8stmarkvik this afternoon.",
                      "Ingrid \u00d8stmarkvik"));
  EXPECT_TRUE(Covered("Family meeting with Tomas \u010celakorv\u00fd and the team.",
                      "Tomas \u010celakorv\u00fd"));
  EXPECT_TRUE(Covered("Visited by \u00c9milie Brandtv\u00f6l, friend.", "\u00c9milie"));
  // Lower-case accented letters start no capitalised word.
  EXPECT_TRUE(Found("Pt ate cr\u00e8me br\u00fbl\u00e9e today.", PhiCategory::kName).empty());
}

// Session 8: a short surname that starts a longer clinical term (its first
// four letters) is no shorthand beside a listed first name before a ward verb.
TEST_F(EngineTest, ShortSurnamesBeforeWardVerbs) {
  EXPECT_TRUE(Covered("HR 88 SR. RUN OF VENT BIGEMINY, EDA KEME AWARE, MGSO4 GIVEN.", "EDA KEME"));
  EXPECT_TRUE(Covered("pt calm. flo kabo notified of k 3.1.", "flo kabo"));
}

// Session 8: a first name and a word no list holds, joined by "and" (and a
// title) to a confirmed name, are a person as well.
TEST_F(EngineTest, FirstNameAndUnknownWordJoinedToANamedPerson) {
  EXPECT_TRUE(Covered("KCL GIVEN. EDA KEME AND DRS HALVORSEN AND QUARVELLO AWARE.", "EDA KEME"));
  EXPECT_TRUE(Covered("KCL GIVEN. DR. HALVORSEN AND EDA KEME UPDATED. NO NEW ORDERS.", "EDA KEME"));
  EXPECT_EQ(Found("MAG AND K REPLETED. DR. HALVORSEN AND TEAM UPDATED.", PhiCategory::kName),
            (std::vector<std::string>{"HALVORSEN"}));
}

// Session 14: a possessive before a relation word or a phone number is a
// person's; a vocabulary word's is not.
TEST_F(EngineTest, PossessivesBeforeRelationWords) {
  EXPECT_TRUE(Covered("Hx of CHF, CKD stage III. Zackton's sister, Laura, visits.", "Zackton"));
  EXPECT_TRUE(Covered("PROTONIX IV.\nSOCIAL: PAM'S NUMBER IS (412) 555-0100.", "PAM"));
  EXPECT_TRUE(Covered("Social: Peafourys Smith's brother asking for update.", "Peafourys Smith"));
  EXPECT_TRUE(Found("Social: Patient's sister at bedside. Hospital's number given. Doctor's son "
                    "visited.",
                    PhiCategory::kName)
                  .empty());
}

// Session 14: initials beside names (a frequent surname that is also a word
// after an initial in a mixed-case note, lower-case initials in an
// all-lower-case one), a frequent surname after a first name or a relation
// word, and police titles.
TEST_F(EngineTest, InitialsFrequentSurnamesAndPoliceTitles) {
  EXPECT_TRUE(
      Covered("Code: full code, confirmed with nephew C. Johnson.\nNeuro: sedated", "C. Johnson"));
  EXPECT_TRUE(Covered("hx cabg 2015. dtr k. johnson will pick up rx.", "k. johnson"));
  EXPECT_TRUE(Covered("glu 259. spoke w/ brother linda s. @ 405.555.0163", "linda s."));
  EXPECT_TRUE(Found("R. Knee pain, L. Arm weak. S. Aureus in blood.", PhiCategory::kName).empty());
  // ... and after a first name.
  EXPECT_TRUE(Covered("History of Present Illness:\nByxwaurn Bowen is a 90 y.o. man with CHF.",
                      "Byxwaurn Bowen"));
  // A police officer's title.
  EXPECT_TRUE(Covered("Per Pryor Creek PD officer Mao Miller (badge #CL9564), belted driver.",
                      "Mao Miller"));
  EXPECT_TRUE(Found("Officer present at bedside. Chief Medical Officer aware.", PhiCategory::kName)
                  .empty());
  // A frequent surname that is also a word, after a relation word.
  EXPECT_TRUE(Covered("CODE: FULL CODE, CONFIRMED WITH PARTNER SMITH.\nNEURO: SEDATED", "SMITH"));
  EXPECT_TRUE(
      Found("pt calm, cooperative. will contact case management re: placement.", PhiCategory::kName)
          .empty());
}

// Session 15: a nickname in quotes inside a name, a surname that is also a
// word after a first name and a middle initial, an initial and a word before
// a dotted credential, a line holding only a name and a credential, and a
// frequent first name that is also an eponym before ", RN".
TEST_F(EngineTest, NicknamesMiddleInitialsAndCredentialLines) {
  for (const char* part : {"Barbara", "Barb", "Orme"}) {
    EXPECT_TRUE(Covered("Family: aunt Barbara \"Barb\" Orme called x2, questions answered.", part))
        << part;
  }
  for (const char* part : {"James", "Jim", "Lucky"}) {
    EXPECT_TRUE(Covered("Social: caregiver James 'Jim' Lucky in to visit, updated.", part)) << part;
  }
  EXPECT_TRUE(
      Covered("Surgery (Dr. Smith) at bedside.\nDr. Sierra O. Crumble\n", "Sierra O. Crumble"));
  EXPECT_TRUE(Covered("Lasix given. Seen by V. Likes, M.D. from renal.", "V. Likes"));
  EXPECT_TRUE(Covered("Cath in am, hold heparin at 0400.\nTony G., RN\n", "Tony G."));
  EXPECT_TRUE(Covered("Advance diet as tol, OOB to chair.\nkaren, RN\n", "karen"));
  EXPECT_TRUE(Covered("Hgb 6.0 g/dL.\nCritical value called to james, RN at 18:25.", "james"));
  // Not a vitamin's letter, not a word before a credential inside a sentence.
  EXPECT_TRUE(Found("GIVEN VITAMIN D. NOTED, RN AWARE OF PLAN.", PhiCategory::kName).empty());
  EXPECT_TRUE(
      Found("Spoke with family, RN aware of plan.\nLabs, MD.\n", PhiCategory::kName).empty());
}

// Session 15: the subject of an age ("X is a 51 y.o.", "X, a pleasant
// 61-year-old"), a name before "(MRN" that is also an eponym, and a frequent
// first name that is also a clinical word after "it's".
TEST_F(EngineTest, AgeSubjectsRecordNumbersAndGreetings) {
  EXPECT_TRUE(Covered("History of Present Illness: Brea Johnson is a 51 y.o. woman with CHF.",
                      "Brea Johnson"));
  EXPECT_TRUE(Covered("HPI: Pea Kusch is a 61 yo man with COPD.", "Pea Kusch"));
  EXPECT_TRUE(
      Covered("Social: pt's partner Stork Catignani (57 y/o) also here.", "Stork Catignani"));
  EXPECT_TRUE(Found("Lives with Husband (70 yo).", PhiCategory::kName).empty());
  EXPECT_TRUE(
      Covered("Thank you for seeing my patient, Moore, a pleasant 61-year-old man.", "Moore"));
  EXPECT_TRUE(
      Covered("We discussed our mutual patient Jackson (MRN MR5946) with the team.", "Jackson"));
  EXPECT_TRUE(Covered(
      "hey Dr. Petrucco, it's Benjamin. My insurance changed, can you send the form?", "Benjamin"));
  // Not a clinical or common subject, not a town alone.
  EXPECT_TRUE(Found("Patient is a 61 yo man. The Patient is a 45 year old. CABG is a 3 year old "
                    "procedure. Heart Failure is a 2 yr problem.",
                    PhiCategory::kName)
                  .empty());
}

// Session 15: in an all-lower-case note, an initial and a surname between
// "pt" and a ward verb, and an initial and a name before a dotted credential.
TEST_F(EngineTest, LowerCaseInitialsAfterPtAndBeforeCredentials) {
  const std::string note =
      "pt a. baransky seen 5/21, c/o pain. pcp is r. genin, m.d.. appt apr 30 w dr. pt sxned "
      "seen. pt is seen daily. pt a. fib seen on tele.";
  EXPECT_TRUE(Covered(note, "a. baransky"));
  EXPECT_TRUE(Covered(note, "r. genin"));
  EXPECT_EQ(Found(note, PhiCategory::kName), (std::vector<std::string>{"a. baransky", "r. genin"}));
}

// Session 15: the display name before an e-mail address in angle brackets.
TEST_F(EngineTest, EmailDisplayNames) {
  const std::string mail =
      "From: Jan Quellham <jquellham@example.org>\nTo: Dol Hammatt <dhammatt@example.org>\n"
      "Subject: labs\n\nPlease ask the Pharmacy <rx@example.org> to call.\n";
  EXPECT_TRUE(Covered(mail, "Jan Quellham"));
  EXPECT_TRUE(Covered(mail, "Dol Hammatt"));
  EXPECT_EQ(Found(mail, PhiCategory::kName),
            (std::vector<std::string>{"Jan Quellham", "Dol Hammatt"}));
}

// Session 15: a neighbourhood in an all-caps note and the town after "area
// of"; a month-day after a note's title, but not a nursing shift or a count.
TEST_F(EngineTest, NeighbourhoodsTownsAndNoteDates) {
  const std::string caps =
      "SOCIAL: LIVES AT HOME IN THE WALNUT VILLAGE AREA OF PURLING WITH WIFE. RETIRED. PT IS "
      "DNR. HE WILL CONTINUE TO BE TREATED. DAUGHTER IN TO VISIT.";
  EXPECT_TRUE(Covered(caps, "WALNUT VILLAGE"));
  EXPECT_TRUE(Covered(caps, "PURLING"));
  EXPECT_TRUE(
      Covered("Social: lives at home in the Pine Hill Estates area of Issue with uncle.", "Issue"));
  // A phrase in capitals inside a mixed-case note.
  EXPECT_TRUE(
      Covered("Resp: extubated this am.\nSOCIAL: LIVES AT HOME IN THE SUNSET HEIGHTS AREA OF "
              "DOVER WITH SON.\nPlan: monitor.",
              "SUNSET HEIGHTS"));
  // Where case says nothing, a body part or a room is no neighbourhood.
  EXPECT_TRUE(Found("pain in the groin area of right leg. pt is in the waiting area of the er.",
                    PhiCategory::kCity)
                  .empty());
  EXPECT_TRUE(Found("pain in the groin area of right leg. pt is in the waiting area of the er.",
                    PhiCategory::kLocation)
                  .empty());
  EXPECT_TRUE(Found("PT IS IN THE ICU AREA OF CONCERN IS HIS BP. WILL CONTINUE TO MONITOR. "
                    "DAUGHTER IN TO VISIT.",
                    PhiCategory::kCity)
                  .empty());
  EXPECT_EQ(Found("Nursing note 11-4 7p-7a:\nPt resting.", PhiCategory::kDate),
            (std::vector<std::string>{"11-4"}));
  EXPECT_TRUE(Found("Nursing note 7-3: pt resting.", PhiCategory::kDate).empty());
  EXPECT_TRUE(Found("see note 1-2 times daily. seen 1-2 days ago.", PhiCategory::kDate).empty());
  EXPECT_TRUE(Found("SAT>95 ON 4-5 L NC.", PhiCategory::kDate).empty());
}

// Session 8: a frequent first name that is also a word, capitalised inside a
// sentence of a mixed- or lower-case note, alone, is a person.
TEST_F(EngineTest, CapitalisedFirstNamesThatAreAlsoWords) {
  EXPECT_TRUE(Covered("Plan discussed. Unable to reach Chuck overnight, will try again.", "Chuck"));
  EXPECT_TRUE(
      Covered("social- daughter at bedside all day, supportive, Penny. son flying in.", "Penny"));
  // Not a sentence's first word, nor a word of a capitalised phrase.
  EXPECT_TRUE(Found("Pt ate well. Faith remains strong per family.", PhiCategory::kName).empty());
  EXPECT_TRUE(Found("Wound care per Rose Garden protocol.", PhiCategory::kName).empty());
}

// Session 8: a town named with a common word, capitalised alone after a
// place preposition in mixed-case text.
TEST_F(EngineTest, TownsNamedWithCommonWordsAfterAPreposition) {
  EXPECT_EQ(Found("Wants to go to Liberty to be near family.", PhiCategory::kCity),
            (std::vector<std::string>{"Liberty"}));
  EXPECT_TRUE(Covered("Surgeon from Paradise came by this eve to talk to pt.", "Paradise"));
  // Not clinical words.
  EXPECT_TRUE(Found("Pt was in Pain most of the shift, then went to Radiology.", PhiCategory::kCity)
                  .empty());
}

// Session 8: where a patient was transferred from, named by capitalised words
// and no facility word.
TEST_F(EngineTest, PlacesAPatientWasTransferredFrom) {
  EXPECT_EQ(Found("O: 72 yo female transferred from Kind Hal s/p fall.", PhiCategory::kFacility),
            (std::vector<std::string>{"Kind Hal"}));
  EXPECT_TRUE(Found("Pt transferred from Cardiology service. Admitted from ER. Arrived from OSH.",
                    PhiCategory::kFacility)
                  .empty());
}

// Session 8: a town's name cut short, after a place preposition.
TEST_F(EngineTest, TownNamesCutShort) {
  EXPECT_EQ(Found("Pt arrived by ambulance from Phila this evening, alert.", PhiCategory::kCity),
            (std::vector<std::string>{"Phila"}));
  EXPECT_EQ(Found("Son drove in from Albuq overnight to be with pt.", PhiCategory::kCity),
            (std::vector<std::string>{"Albuq"}));
  EXPECT_TRUE(Found("Pt sent to Zorvex for scan.", PhiCategory::kCity).empty());
}

// Session 8: acronym facilities after "leave", and in lower case after "at",
// "to", "from" in mixed-case text.
TEST_F(EngineTest, AcronymFacilitiesAfterLeaveAndInLowerCase) {
  EXPECT_EQ(Found("PT MAY LEAVE KMH TOMORROW FOR A SECOND OPINION.", PhiCategory::kFacility),
            (std::vector<std::string>{"KMH"}));
  EXPECT_EQ(Found("Had a long stay at bmh last spring, per daughter.", PhiCategory::kFacility),
            (std::vector<std::string>{"bmh"}));
  EXPECT_TRUE(
      Found("Pt has pain with each breath, worse when moving to rt side.", PhiCategory::kFacility)
          .empty());
}

// Session 8: a six-digit month-day-year date standing alone.
TEST_F(EngineTest, SixDigitMonthDayYearDates) {
  EXPECT_EQ(Found("Plan: wean vent, meeting with team 031525", PhiCategory::kDate),
            (std::vector<std::string>{"031525"}));
  // Not a longer number, an impossible month, or a decimal.
  EXPECT_TRUE(
      Found("Order 1031525 sent. plt 150000. level 031525.7 noted.", PhiCategory::kDate).empty());
}

// Session 8: the first day of a range before a day and a month is a date;
// the arrow or dash between is not.
TEST_F(EngineTest, FirstDayOfARangeBeforeADayAndMonth) {
  EXPECT_EQ(Found("progress note\n3->4 june, 97\n1900 - 0700", PhiCategory::kDate),
            (std::vector<std::string>{"3", "4 june, 97"}));
  EXPECT_EQ(Found("Vacation planned 10-11 Mar with family.", PhiCategory::kDate),
            (std::vector<std::string>{"10", "11 Mar"}));
  // Not a number that cannot be a day.
  EXPECT_EQ(Found("Pt had 120-2 Mar labs.", PhiCategory::kDate),
            (std::vector<std::string>{"2 Mar"}));
}

// Session 8: an initial fused to the word before it by a hyphen, before a
// confirmed name.
TEST_F(EngineTest, InitialAfterAHyphenBeforeAName) {
  EXPECT_TRUE(Covered("GI: NGT-CLEAR. GIVEN HEPARIN-K. VOSS AWARE, WILL RECHECK PTT.", "K. VOSS"));
  EXPECT_FALSE(Covered("GI: NGT-CLEAR. GIVEN HEPARIN-K. VOSS AWARE, WILL RECHECK PTT.", "HEPARIN"));
  EXPECT_TRUE(Found("Pt on A-C. Weaned to PS-A. Stable.", PhiCategory::kName).empty());
}

// Session 8: a word no list holds after a confirmed name and "and", in the
// name's case, at the end of its sentence or line.
TEST_F(EngineTest, UnknownWordJoinedToANameAtASentenceEnd) {
  EXPECT_TRUE(Covered("pt calm overnight. proxies are her sons, rolf and ivek", "ivek"));
  // Not a word that goes on into the sentence, nor lower case after a capital.
  EXPECT_FALSE(Covered("Spoke with Dr. Lindqvist and vanco level pending.", "vanco"));
  EXPECT_FALSE(Covered("Spoke with Dr. Lindqvist and ivek.", "ivek"));
}

// Session 8: a two-digit year opening a history item before a procedure.
TEST_F(EngineTest, TwoDigitYearsBeforeAProcedure) {
  EXPECT_EQ(Found("PMH: DM. 04 CABG x3. 11 PTCA to RCA. HTN.", PhiCategory::kDate),
            (std::vector<std::string>{"04", "11"}));
  EXPECT_TRUE(
      Found("Plan: 2 units PRBC. 20 minutes after cath, HR 88; 10 beats of VT.", PhiCategory::kDate)
          .empty());
}

// Session 8: an employer named by an acronym no list holds after a job title.
TEST_F(EngineTest, EmployerAcronymsAfterAJobTitle) {
  EXPECT_TRUE(Covered("SOCIAL: MARRIED. WIFE IS DIRECTOR AT KWX. NO ETOH.", "KWX"));
  EXPECT_TRUE(Covered("Social: son is the owner of ZNT, lives nearby.", "ZNT"));
  // Clinical acronyms stay.
  EXPECT_TRUE(Found("Pt is a retired manager of ICU staffing; director of PT at rehab.",
                    PhiCategory::kLocation)
                  .empty());
}

// Session 8: a signature line, a dash and one or two names alone on a line.
TEST_F(EngineTest, DashSignatureLines) {
  EXPECT_EQ(Found("PLAN: NPO P MN FOR CATH IN AM.\n- QUENTARD", PhiCategory::kName),
            (std::vector<std::string>{"QUENTARD"}));
  EXPECT_EQ(Found("gave tylenol, pain better.\n-kasprow\n", PhiCategory::kName),
            (std::vector<std::string>{"kasprow"}));
  // Bullets of a plan are no signature.
  EXPECT_TRUE(Found("Plan:\n- Monitor\n- NPO\n- cont abx\n- Wean vent\n- Update family\n",
                    PhiCategory::kName)
                  .empty());
}

// Session 8: the words right before a bracketed MRN or date of birth name
// the patient.
TEST_F(EngineTest, NamesBeforeABracketedMrnOrBirthDate) {
  EXPECT_TRUE(
      Covered("Wanted to loop you in on our mutual patient Miles (MRN 00931245).", "Miles"));
  EXPECT_TRUE(Found("Labs drawn on Heparin (MRN 00931245).", PhiCategory::kName).empty());
  EXPECT_TRUE(Found("Labs drawn today (DOB 1/2/45).", PhiCategory::kName).empty());
}

// Session 8: a message's subject that opens with a name; "RE:" and "FW:" are
// labels.
TEST_F(EngineTest, SubjectLinesThatOpenWithAName) {
  EXPECT_EQ(Found("From: clinic desk\nSubject: FW: Quarvello - labs\n\nHi, see the labs below.",
                  PhiCategory::kName),
            (std::vector<std::string>{"Quarvello"}));
  EXPECT_TRUE(Covered("Subject: RE: orvane d/c planning\n\nHello, quick question about the plan.",
                      "orvane"));
  EXPECT_TRUE(
      Found("Subject: test results\n\nHello, my refill is late.", PhiCategory::kName).empty());
}

// Session 13: a lower-case name before ", RN" after a word that takes a
// person; a letter's patient and writer. Not a misspelt word before the
// credential, not a clinical word as the patient.
TEST_F(EngineTest, LowerCaseNamesBeforeACredentialAndALettersPatient) {
  EXPECT_TRUE(Covered("Critical value called to vorlenna, RN at 1930.", "vorlenna"));
  EXPECT_TRUE(Covered("Report received from darion, RN. Code status full.", "darion"));
  EXPECT_TRUE(Found("pt hemodynamically stabel, RN aware.", PhiCategory::kName).empty());
  EXPECT_TRUE(Covered("Thank you for seeing my patient, Vannuck, a pleasant man.", "Vannuck"));
  EXPECT_TRUE(Covered("Thank you for seeing Shania, a pleasant 55 yr old.", "Shania"));
  EXPECT_TRUE(Covered("THANK YOU FOR SEEING KOUSEN, A PLEASANT 72 Y/O MAN.", "KOUSEN"));
  EXPECT_TRUE(Covered("Hi Dr. Smith, it's Faith. My insurance changed.", "Faith"));
  EXPECT_TRUE(
      Found("Thank you for seeing my patient, Cardiology, today.", PhiCategory::kName).empty());
  EXPECT_TRUE(Found("It's Tuesday and the plan is unchanged.", PhiCategory::kName).empty());
}

TEST_F(EngineTest, RefusesTextOverTheLimit) {
  EngineOptions o;
  o.max_text_bytes = 16;
  auto small = Engine::Create(o);
  ASSERT_TRUE(small.ok());
  auto r = (*small)->Scan(std::string(17, 'a'));
  EXPECT_EQ(r.status().code(), absl::StatusCode::kResourceExhausted);
}

TEST_F(EngineTest, CategoryFilterApplies) {
  EngineOptions o;
  o.categories = CategorySet();
  o.categories.Add(PhiCategory::kDate);
  auto dates_only = Engine::Create(o);
  ASSERT_TRUE(dates_only.ok());
  auto r = (*dates_only)->Scan("Dr. Quennell saw pt 3/14/2024, MRN: 4429871");
  ASSERT_TRUE(r.ok());
  ASSERT_EQ(r->size(), 1u);
  EXPECT_EQ((*r)[0].category, PhiCategory::kDate);
}

TEST_F(EngineTest, MissingDataFolderIsNotFound) {
  EngineOptions o;
  o.data_dir = "/nonexistent/phigate-data";
  EXPECT_EQ(Engine::Create(o).status().code(), absl::StatusCode::kNotFound);
}

TEST_F(EngineTest, ConcurrentScansAgree) {
  const std::string text = "Dr. Quennell saw pt 3/14/2024, MRN: 4429871, cell 617-555-0199";
  auto expect = engine_->Scan(text);
  ASSERT_TRUE(expect.ok());
  std::vector<std::thread> threads;
  std::atomic<int> mismatches{0};
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&] {
      auto ctx = engine_->NewContext();
      Findings out;
      for (int i = 0; i < 200; ++i) {
        if (!engine_->Scan(text, *ctx, &out).ok() || out != *expect) ++mismatches;
      }
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(mismatches.load(), 0);
}

TEST(ResolveTest, OverlapsMergeAndKeepCoverage) {
  const std::string text = "John Smith 3/14/2024";
  Findings f = {{PhiCategory::kName, 0, 4, 0.6f, "a"},
                {PhiCategory::kName, 5, 10, 0.7f, "a"},
                {PhiCategory::kDate, 11, 20, 0.9f, "b"},
                {PhiCategory::kOtherId, 13, 20, 0.5f, "c"}};
  ResolveConflicts(text, &f);
  ASSERT_EQ(f.size(), 2u);
  EXPECT_EQ(f[0].begin, 0u);
  EXPECT_EQ(f[0].end, 10u);  // adjacent names joined
  EXPECT_EQ(f[1].category, PhiCategory::kDate);
  EXPECT_EQ(f[1].begin, 11u);
  EXPECT_EQ(f[1].end, 20u);
}

// Exact ties (same span and score, two categories) resolve the same way
// whatever order the candidates were reported in.
TEST(ResolveTest, ExactTiesDoNotDependOnReportOrder) {
  const std::string text = "ref 12345678 on 3/14/2024";
  Findings in = {{PhiCategory::kOtherId, 4, 12, 0.5f, "other_id"},
                 {PhiCategory::kDate, 4, 12, 0.5f, "date_compact"},
                 {PhiCategory::kMrn, 4, 12, 0.5f, "mrn"},
                 {PhiCategory::kDate, 16, 25, 0.9f, "date_numeric"},
                 {PhiCategory::kOtherId, 16, 25, 0.9f, "other_id"}};
  std::vector<size_t> order = {0, 1, 2, 3, 4};
  Findings first;
  int orders = 0;
  do {
    Findings f;
    for (size_t k : order) f.push_back(in[k]);
    ResolveConflicts(text, &f);
    ASSERT_EQ(f.size(), 2u);
    if (orders++ == 0) {
      first = f;
    } else {
      EXPECT_EQ(f, first) << "order #" << orders;
    }
  } while (std::next_permutation(order.begin(), order.end()));
  EXPECT_EQ(orders, 120);
}

}  // namespace
}  // namespace phigate::detect
