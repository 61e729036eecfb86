#include "phigate/synth/generator.h"

#include <algorithm>
#include <array>
#include <cstdio>
#include <string>
#include <unordered_map>
#include <utility>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "phigate/core/check.h"
#include "phigate/synth/checksums.h"
#include "src/synth/data.h"
#include "src/synth/note_writer.h"
#include "src/synth/rng.h"

namespace phigate::synth {
namespace internal {
namespace {

using C = PhiCategory;

// ---------------------------------------------------------------- dates

struct Ymd {
  int y = 2000;
  int m = 1;
  int d = 1;
};

// Howard Hinnant's days_from_civil / civil_from_days.
int64_t DaysFromCivil(int y, int m, int d) {
  y -= m <= 2 ? 1 : 0;
  const int64_t era = (y >= 0 ? y : y - 399) / 400;
  const int64_t yoe = y - era * 400;
  const int64_t doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
  const int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + doe - 719468;
}

Ymd CivilFromDays(int64_t z) {
  z += 719468;
  const int64_t era = (z >= 0 ? z : z - 146096) / 146097;
  const int64_t doe = z - era * 146097;
  const int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  const int64_t y = yoe + era * 400;
  const int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const int64_t mp = (5 * doy + 2) / 153;
  const int64_t d = doy - (153 * mp + 2) / 5 + 1;
  const int64_t m = mp < 10 ? mp + 3 : mp - 9;
  return Ymd{static_cast<int>(y + (m <= 2 ? 1 : 0)), static_cast<int>(m), static_cast<int>(d)};
}

constexpr std::string_view kMonths[] = {"January",   "February", "March",    "April",
                                        "May",       "June",     "July",     "August",
                                        "September", "October",  "November", "December"};
constexpr std::string_view kMon[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                     "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};

std::string Pad2(int v) {
  char buf[8];
  std::snprintf(buf, sizeof(buf), "%02d", v % 100);
  return buf;
}
std::string Ordinal(int d) {
  const int t = d % 100;
  std::string_view suf = "th";
  if (t < 11 || t > 13) {
    if (d % 10 == 1) suf = "st";
    if (d % 10 == 2) suf = "nd";
    if (d % 10 == 3) suf = "rd";
  }
  return absl::StrCat(d, ToAbsl(suf));
}
std::string_view MonAbbrev(int m, Rng& rng) {
  if (m == 9 && rng.Chance(0.3)) return "Sept";
  return kMon[m - 1];
}

// A date with its year, in one of many formats.
std::string FormatFullDate(const Ymd& t, Rng& rng) {
  const std::string y = std::to_string(t.y);
  const std::string yy = Pad2(t.y);
  switch (rng.Below(17)) {
    case 0:
      return absl::StrCat(t.m, "/", t.d, "/", y);
    case 1:
      return absl::StrCat(Pad2(t.m), "/", Pad2(t.d), "/", y);
    case 2:
      return absl::StrCat(Pad2(t.m), "-", Pad2(t.d), "-", yy);
    case 3:
      return absl::StrCat(y, "-", Pad2(t.m), "-", Pad2(t.d));
    case 4:
      return absl::StrCat(ToAbsl(kMonths[t.m - 1]), " ", t.d, ", ", y);
    case 5:
      return absl::StrCat(t.d, " ", ToAbsl(MonAbbrev(t.m, rng)), " ", y);
    case 6:
      return absl::StrCat(ToAbsl(MonAbbrev(t.m, rng)), " ", t.d, ", ", y);
    case 7:
      return absl::StrCat(t.m, "/", t.d, "/", yy);
    case 8:
      return absl::StrCat(Pad2(t.d), "-", ToAbsl(MonAbbrev(t.m, rng)), "-", y);
    case 9:
      return absl::StrCat(ToAbsl(kMonths[t.m - 1]), " ", Ordinal(t.d), ", ", y);
    case 10:
      return absl::StrCat(t.m, ".", t.d, ".", y);
    case 11:
      return absl::StrCat(ToAbsl(MonAbbrev(t.m, rng)), ". ", t.d, ", ", y);
    case 12:
      return absl::StrCat(y, Pad2(t.m), Pad2(t.d));
    case 13:
      return absl::StrCat(t.d, " ", ToAbsl(kMonths[t.m - 1]), " ", y);
    case 14:
      return absl::StrCat(t.m, "-", t.d, "-", y);
    case 15:
      return absl::StrCat(Pad2(t.m), "/", Pad2(t.d), "/", yy);
    default:
      return absl::StrCat(ToAbsl(kMonths[t.m - 1]), " ", t.d, " ", y);
  }
}

std::string FormatNumericPartial(const Ymd& t, Rng& rng) {
  switch (rng.Below(4)) {
    case 0:
      return absl::StrCat(t.m, "/", t.d);
    case 1:
      return absl::StrCat(Pad2(t.m), "/", Pad2(t.d));
    case 2:
      return absl::StrCat(t.m, "-", t.d);
    default:
      return absl::StrCat(t.m, "/", t.d);
  }
}

// A date without its year, written out: "Jan 5th", "the 3rd", "March 14".
std::string FormatWrittenPartial(const Ymd& t, Rng& rng) {
  switch (rng.Below(7)) {
    case 0:
      return absl::StrCat(ToAbsl(kMonths[t.m - 1]), " ", t.d);
    case 1:
      return absl::StrCat(ToAbsl(MonAbbrev(t.m, rng)), " ", Ordinal(t.d));
    case 2:
      return absl::StrCat(t.d, " ", ToAbsl(MonAbbrev(t.m, rng)));
    case 3:
      return absl::StrCat(ToAbsl(kMonths[t.m - 1]), " ", Ordinal(t.d));
    case 4:
      return absl::StrCat(ToAbsl(MonAbbrev(t.m, rng)), ". ", t.d);
    case 5:
      return absl::StrCat(Ordinal(t.d), " of ", ToAbsl(kMonths[t.m - 1]));
    default:
      return absl::StrCat(ToAbsl(MonAbbrev(t.m, rng)), " ", t.d);
  }
}

std::string FormatTime(Rng& rng) {
  const int h = rng.Range(0, 23);
  const int m = static_cast<int>(rng.Below(12)) * 5 + (rng.Chance(0.3) ? rng.Range(0, 4) : 0);
  switch (rng.Below(5)) {
    case 0:
      return absl::StrCat(Pad2(h), ":", Pad2(m));
    case 1:
      return absl::StrCat(Pad2(h), Pad2(m));
    case 2:
      return absl::StrCat(
          (h + 11) % 12 + 1, ":", Pad2(m), rng.Chance(0.5) ? " " : "",
          h < 12 ? (rng.Chance(0.5) ? "AM" : "am") : (rng.Chance(0.5) ? "PM" : "pm"));
    case 3:
      return absl::StrCat(Pad2(h), ":", Pad2(m), ":", Pad2(rng.Range(0, 59)));
    default:
      return absl::StrCat(h, ":", Pad2(m));
  }
}

std::string FormatDateTime(const Ymd& t, Rng& rng) {
  switch (rng.Below(5)) {
    case 0:
      return absl::StrCat(t.y, "-", Pad2(t.m), "-", Pad2(t.d), "T", Pad2(rng.Range(0, 23)), ":",
                          Pad2(rng.Range(0, 59)), ":", Pad2(rng.Range(0, 59)));
    case 1:
      return absl::StrCat(Pad2(t.m), "/", Pad2(t.d), "/", t.y, " @ ", FormatTime(rng));
    case 2:
      return absl::StrCat(t.m, "/", t.d, "/", Pad2(t.y), " ", Pad2(rng.Range(0, 23)),
                          Pad2(rng.Range(0, 59)));
    default:
      return absl::StrCat(FormatFullDate(t, rng), " ", FormatTime(rng));
  }
}

// ---------------------------------------------------------------- case

// Re-cases ASCII and the Latin-1 letters of U+00C0..U+00FE (2-byte, same
// length), so offsets never move.
void Recase(std::string& s, size_t begin, size_t end, bool upper) {
  for (size_t i = begin; i < end; ++i) {
    const unsigned char c = static_cast<unsigned char>(s[i]);
    if (upper && c >= 'a' && c <= 'z') {
      s[i] = static_cast<char>(c - 32);
    } else if (!upper && c >= 'A' && c <= 'Z') {
      s[i] = static_cast<char>(c + 32);
    } else if (c == 0xC3 && i + 1 < end) {
      const unsigned char n = static_cast<unsigned char>(s[i + 1]);
      if (upper && n >= 0xA0 && n <= 0xBE && n != 0xB7) s[i + 1] = static_cast<char>(n - 0x20);
      if (!upper && n >= 0x80 && n <= 0x9E && n != 0x97) s[i + 1] = static_cast<char>(n + 0x20);
      ++i;
    }
  }
}
// The first code point of a name (an initial), whole even when it is not ASCII.
std::string Initial(std::string_view name) {
  if (name.empty()) return "";
  const unsigned char c = static_cast<unsigned char>(name[0]);
  size_t len = c < 0x80 ? 1 : c < 0xE0 ? 2 : c < 0xF0 ? 3 : 4;
  return std::string(name.substr(0, std::min(len, name.size())));
}

// The first n code points of a name.
std::string Prefix(std::string_view name, size_t n) {
  size_t i = 0;
  while (i < name.size() && n > 0) {
    const std::string one = Initial(name.substr(i));
    i += one.size();
    --n;
  }
  return std::string(name.substr(0, i));
}

std::string Recased(std::string_view v, bool upper) {
  std::string s(v);
  Recase(s, 0, s.size(), upper);
  return s;
}

// ---------------------------------------------------------------- people

struct Person {
  std::string first;
  std::string middle;  // one letter or empty
  std::string last;
  std::string nick;  // empty when none
  bool female = false;
};

constexpr std::pair<std::string_view, std::string_view> kNicknames[] = {
    {"Robert", "Bobby"},   {"Robert", "Bob"},     {"William", "Bill"},      {"William", "Will"},
    {"Elizabeth", "Liz"},  {"Elizabeth", "Beth"}, {"Margaret", "Peggy"},    {"Margaret", "Maggie"},
    {"James", "Jim"},      {"Richard", "Rick"},   {"Katherine", "Kate"},    {"Joseph", "Joe"},
    {"Michael", "Mike"},   {"Thomas", "Tom"},     {"Patricia", "Patty"},    {"Jennifer", "Jen"},
    {"Charles", "Chuck"},  {"Edward", "Ted"},     {"Daniel", "Danny"},      {"Anthony", "Tony"},
    {"Susan", "Sue"},      {"Deborah", "Deb"},    {"Christopher", "Chris"}, {"Alexander", "Alex"},
    {"Nicholas", "Nick"},  {"Samuel", "Sam"},     {"Rebecca", "Becky"},     {"Dorothy", "Dot"},
    {"Theodore", "Teddy"}, {"Francis", "Frank"},  {"Barbara", "Barb"},
};

constexpr std::string_view kOnsets[] = {"b",  "br", "c", "ch", "d", "dr", "f", "g", "gr", "h",  "j",
                                        "k",  "l",  "m", "n",  "p", "qu", "r", "s", "sh", "st", "t",
                                        "th", "tr", "v", "w",  "z", "",   "",  "l", "m",  "r"};
constexpr std::string_view kVowels[] = {"a", "e",  "i",  "o",  "u", "a",  "e",
                                        "o", "ai", "ea", "ou", "y", "ie", "au"};
constexpr std::string_view kCodas[] = {"",   "",   "",  "n", "r", "l",  "s",  "th",
                                       "nd", "rk", "m", "x", "v", "ck", "ll", "rn"};
constexpr std::string_view kFirstEnds[] = {"", "", "a", "en", "ia", "o", "el", "ette", "in", "ys"};
constexpr std::string_view kLastEnds[] = {"son", "ley", "ton", "berg", "ski",   "ford", "wick",
                                          "ez",  "ini", "ova", "man",  "worth", "dale", "er",
                                          "ard", "olt", "ek",  "ham",  "",      ""};

std::string InventName(Rng& rng, bool surname) {
  std::string s;
  const size_t syll = surname ? 1 + rng.Below(2) : 1 + rng.Below(2);
  for (size_t i = 0; i < syll; ++i) {
    s.append(rng.Pick(kOnsets));
    s.append(rng.Pick(kVowels));
    s.append(rng.Pick(kCodas));
  }
  s.append(surname ? rng.Pick(kLastEnds) : rng.Pick(kFirstEnds));
  if (s.size() < 3) s.append(surname ? "ridge" : "ana");
  s[0] = static_cast<char>(s[0] >= 'a' && s[0] <= 'z' ? s[0] - 32 : s[0]);
  return s;
}

constexpr std::string_view kPmh[] = {
    "CAD s/p CABG {year}, HTN, NIDDM, COPD",
    "afib on coumadin, CHF (EF 25%), CKD stage III",
    "HTN, hyperlipidemia, s/p R TKR {year}",
    "metastatic breast CA dx {year}, s/p mastectomy",
    "ESRD on HD MWF, DM2, PVD s/p L BKA",
    "Parkinson's disease, dementia, recurrent UTIs",
    "EtOH abuse, cirrhosis, varices banded in {year}",
    "asthma, depression, obesity (BMI 41)",
};
constexpr std::string_view kComplaints[] = {
    "chest pain",
    "shortness of breath",
    "a fall at home",
    "altered mental status",
    "fever and chills",
    "GI bleed",
    "syncope",
    "worsening leg edema",
    "abdominal pain",
    "hypotension",
    "a COPD exacerbation",
    "new onset afib",
};

// ---------------------------------------------------------------- identifiers

std::string MakeNpi(Rng& rng) {
  std::string s(1, rng.Chance(0.8) ? '1' : '2');
  rng.AppendDigits(8, &s);
  s.push_back(NpiCheckDigit(s));
  return s;
}

std::string MakeDea(Rng& rng, std::string_view last) {
  constexpr std::string_view kTypes = "ABFGM";
  std::string s(1, kTypes[rng.Below(kTypes.size())]);
  const char initial = last.empty() ? '9' : last[0];
  s.push_back(initial >= 'A' && initial <= 'Z' ? initial : '9');
  const std::string six = rng.Digits(6);
  s.append(six);
  s.push_back(DeaCheckDigit(six));
  return s;
}

constexpr std::string_view kVinChars = "ABCDEFGHJKLMNPRSTUVWXYZ0123456789";
constexpr std::string_view kVinYears = "ABCDEFGHJKLMNPRSTVWXY123456789";
constexpr std::string_view kWmis[] = {"1HG", "1FA", "2T1", "3VW", "JHM", "5YJ", "1G1",
                                      "KMH", "WBA", "1N4", "JTD", "4T1", "1C4", "WVW"};

std::string MakeVin(Rng& rng) {
  std::string s(rng.Pick(kWmis));
  while (s.size() < 17) s.push_back(kVinChars[rng.Below(kVinChars.size())]);
  s[9] = kVinYears[rng.Below(kVinYears.size())];
  s[8] = VinCheckChar(s);
  return s;
}

constexpr std::string_view kMbiLetters = "ACDEFGHJKMNPQRTUVWXY";
std::string MakeMbi(Rng& rng) {
  auto letter = [&] { return kMbiLetters[rng.Below(kMbiLetters.size())]; };
  auto alnum = [&] { return rng.Chance(0.5) ? letter() : rng.Digit(); };
  std::string s;
  s.push_back(rng.NonZeroDigit());
  s.push_back(letter());
  s.push_back(alnum());
  s.push_back(rng.Digit());
  s.push_back(letter());
  s.push_back(alnum());
  s.push_back(rng.Digit());
  s.push_back(letter());
  s.push_back(letter());
  s.push_back(rng.Digit());
  s.push_back(rng.Digit());
  return s;
}

std::string MakeSsn(Rng& rng) {
  int area = rng.Range(1, 899);
  if (area == 666) area = 667;
  char buf[16];
  std::snprintf(buf, sizeof(buf), "%03d%02d%04d", area, rng.Range(1, 99), rng.Range(1, 9999));
  return buf;
}

std::string MakeUdi(Rng& rng) {
  std::string gtin = "0";
  rng.AppendDigits(12, &gtin);
  gtin.push_back(Gs1CheckDigit(gtin));
  std::string s = absl::StrCat("(01)", gtin);
  if (rng.Chance(0.7)) {
    absl::StrAppend(&s, "(17)", Pad2(rng.Range(25, 35)), Pad2(rng.Range(1, 12)),
                    Pad2(rng.Range(1, 28)));
  }
  absl::StrAppend(&s, "(10)", rng.Letters(rng.Below(3)), rng.Digits(4 + rng.Below(4)));
  if (rng.Chance(0.7)) absl::StrAppend(&s, "(21)", rng.Letters(2), rng.Digits(6));
  return s;
}

std::string MakeIpv4(Rng& rng) {
  switch (rng.Below(4)) {
    case 0:
      return absl::StrCat("10.", rng.Range(0, 255), ".", rng.Range(0, 255), ".", rng.Range(1, 254));
    case 1:
      return absl::StrCat("192.168.", rng.Range(0, 255), ".", rng.Range(1, 254));
    default: {
      int a = rng.Range(1, 223);
      if (a == 127 || a == 10) a = 73;
      return absl::StrCat(a, ".", rng.Range(0, 255), ".", rng.Range(0, 255), ".",
                          rng.Range(1, 254));
    }
  }
}

std::string Hex4(Rng& rng, bool strip) {
  char buf[8];
  std::snprintf(buf, sizeof(buf), strip ? "%x" : "%04x", static_cast<unsigned>(rng.Below(65536)));
  return buf;
}

std::string MakeIpv6(Rng& rng) {
  switch (rng.Below(3)) {
    case 0: {
      std::string s;
      for (int i = 0; i < 8; ++i) absl::StrAppend(&s, i ? ":" : "", Hex4(rng, false));
      return s;
    }
    case 1:
      return absl::StrCat("2001:db8:", Hex4(rng, true), ":", Hex4(rng, true),
                          "::", Hex4(rng, true));
    default:
      return absl::StrCat("fe80::", Hex4(rng, true), ":", Hex4(rng, true), ":", Hex4(rng, true),
                          ":", Hex4(rng, true));
  }
}

constexpr std::string_view kStreetWords[] = {
    "Oak",      "Maple",     "Elm",       "Cedar",       "Pine",      "Birch",    "Willow",
    "Chestnut", "Walnut",    "Hickory",   "Spruce",      "Magnolia",  "Dogwood",  "Sycamore",
    "Highland", "Lakeview",  "Hillcrest", "Ridge",       "Meadow",    "Brook",    "Orchard",
    "Mill",     "Church",    "Main",      "Washington",  "Park",      "Prospect", "Union",
    "Summer",   "Winter",    "Spring",    "Harbor",      "Riverside", "Sunset",   "Forest",
    "Valley",   "Oak Ridge", "Pleasant",  "Cherry Hill", "Fox Run",   "Quarry",   "Beacon",
};
constexpr std::string_view kStreetSuffixes[] = {
    "St",    "Street", "Ave", "Avenue", "Rd",      "Road",   "Blvd", "Ln",  "Lane", "Dr",
    "Drive", "Ct",     "Way", "Pl",     "Terrace", "Circle", "Pkwy", "Hwy", "St.",  "Ave.",
};
constexpr std::string_view kUnits[] = {"Apt ", "Apt. ", "Unit ", "#", "Suite ", "Apt #", "Fl "};
constexpr std::string_view kDirections[] = {"N. ",    "S. ",   "E. ",   "W. ", "North ",
                                            "South ", "East ", "West ", "NW ", "SE "};

constexpr std::string_view kNature[] = {
    "Riverside",   "Oakwood",     "Maplewood",  "Cedar Ridge", "Pine Hill", "Willow Creek",
    "Brookside",   "Lakeview",    "Fairview",   "Greenfield",  "Hillside",  "Meadowbrook",
    "Stonebridge", "Elmhurst",    "Bayview",    "Ashford",     "Briarwood", "Clearwater",
    "Rosewood",    "Silver Lake", "Harborview",
};
constexpr std::string_view kSaints[] = {"Mary",    "Joseph",    "Luke",  "Jude",
                                        "Vincent", "Francis",   "Anne",  "Elizabeth",
                                        "Michael", "Catherine", "Peter", "Agnes"};
constexpr std::string_view kCounties[] = {"Essex",     "Middlesex",  "Franklin", "Hampden",
                                          "Jefferson", "Washington", "Lincoln",  "Madison",
                                          "Greene",    "Marion",     "Union",    "Clay",
                                          "Warren",    "Monroe",     "Wayne",    "Montgomery"};
constexpr std::string_view kEmailDomains[] = {
    "gmail.com",   "yahoo.com",   "outlook.com", "aol.com",     "comcast.net", "icloud.com",
    "example.com", "example.org", "mail.test",   "hotmail.com", "verizon.net", "protonmail.com"};

struct Clinician {
  Person p;
  std::string npi;
  std::string dea;
  std::string lic;
  std::string email;
  std::string phone;  // 10 digits
};

struct Relative {
  Person p;
  std::string_view role;
  int age = 50;
  std::string phone;
};

struct Patient {
  std::string id;
  Person name;
  int age = 60;
  int64_t dob = 0;
  int64_t adm = 0;
  std::string street;
  std::string city;
  std::string state;
  std::string county;
  std::string zip;
  std::string hood;  // neighbourhood (kLocation)
  std::string home_phone, cell, work_phone;
  std::string email;
  std::string ssn;
  std::string mrn;
  std::string plan;
  std::string plan_name;
  std::string mbi;
  std::string acct;
  std::string dl;
  std::string vin;
  std::string car;
  std::string plate;
  std::string serial;
  std::string udi;
  std::string device;
  std::string employer;
  std::string emp_id;
  std::string study_id;
  std::string url;
  std::string ip;
  std::string bio;
  std::string photo;
  std::string facility;
  std::string clinic;
  std::string clinic_street, clinic_city, clinic_state, clinic_zip;
  std::string clinic_phone, clinic_fax;
  std::string domain;  // the care organisation's email domain
  std::vector<Relative> relatives;
  std::vector<Clinician> team;  // [0] = PCP, [1] = attending, [2] = consultant, [3..] nurses
  int notes_left = 1;
};

constexpr std::string_view kFemaleRoles[] = {"wife",  "daughter",      "sister", "mother",
                                             "niece", "granddaughter", "aunt",   "partner"};
constexpr std::string_view kMaleRoles[] = {"husband", "son",      "brother", "father",
                                           "nephew",  "grandson", "uncle",   "partner"};
constexpr std::string_view kOtherRoles[] = {"friend", "neighbor", "HCP", "caregiver", "guardian"};
constexpr std::string_view kPlans[] = {"Blue Cross Blue Shield",
                                       "BCBS",
                                       "Aetna",
                                       "Cigna",
                                       "UnitedHealthcare",
                                       "Humana",
                                       "Tufts Health Plan",
                                       "Harvard Pilgrim",
                                       "Medicaid",
                                       "MassHealth",
                                       "Kaiser Permanente",
                                       "Anthem",
                                       "Molina",
                                       "Medicare Advantage",
                                       "Tricare"};
constexpr std::string_view kCars[] = {"Honda Civic",    "Ford Focus",      "Toyota Camry",
                                      "VW Jetta",       "Subaru Outback",  "Chevy Malibu",
                                      "Nissan Altima",  "Hyundai Elantra", "Jeep Cherokee",
                                      "Toyota Corolla", "Ford F-150",      "Tesla Model 3"};
constexpr std::string_view kDevices[] = {"dual-chamber pacemaker",
                                         "ICD",
                                         "insulin pump",
                                         "CPAP machine",
                                         "LVAD",
                                         "CGM sensor",
                                         "cochlear implant",
                                         "spinal cord stimulator",
                                         "biventricular ICD",
                                         "loop recorder",
                                         "infusion pump",
                                         "neurostimulator"};
constexpr std::string_view kEmployers[] = {
    "Acme Logistics", "the post office",          "Home Depot",         "the school district",
    "a local bakery", "Northeast Freight",        "the public library", "a construction company",
    "Walgreens",      "the city water department"};

}  // namespace

// ---------------------------------------------------------------- the note builder

class NoteBuilder final : public NoteWriter {
 public:
  NoteBuilder(Rng& rng, const Gazetteers& g, const GeneratorOptions& opts, Patient& p)
      : rng_(rng), g_(g), opts_(opts), p_(p) {
    note_day_ = p.adm + rng.Range(0, 12);
  }

  void T(std::string_view tpl) override {
    const size_t text_mark = text_.size();
    const size_t spans_mark = spans_.size();
    const size_t refs_mark = refs_.size();
    dropped_ = false;
    Expand(tpl);
    if (dropped_ || RedundantBlank(text_mark)) {
      text_.resize(text_mark);
      spans_.resize(spans_mark);
      refs_.resize(refs_mark);
      dropped_ = false;
    }
  }

  // A whitespace-only segment right after a line break (left when the lines
  // around it were dropped by the category filter) adds only blank lines.
  bool RedundantBlank(size_t mark) const {
    if (mark == text_.size()) return false;
    for (size_t i = mark; i < text_.size(); ++i) {
      if (text_[i] != ' ' && text_[i] != '\n') return false;
    }
    size_t j = mark;
    while (j > 0 && text_[j - 1] == ' ') --j;
    return j == 0 || text_[j - 1] == '\n';
  }
  Rng& rng() override { return rng_; }
  size_t size() const override { return text_.size(); }
  void CaseSince(size_t mark, bool upper) override { Recase(text_, mark, text_.size(), upper); }
  bool female() const override { return p_.name.female; }
  void NextRelative() override { rel_ = rng_.Below(p_.relatives.size()); }

  void Finish(Note* note) {
    // Trim trailing whitespace (no span ends there), collapse if empty.
    while (!text_.empty() && (text_.back() == ' ' || text_.back() == '\n')) {
      if (!spans_.empty() && spans_.back().end == text_.size()) break;
      if (!refs_.empty() && refs_.back().end == text_.size()) break;
      text_.pop_back();
    }
    text_.push_back('\n');
    note->text = std::move(text_);
    note->spans = std::move(spans_);
    note->references = std::move(refs_);
  }

  std::string& mutable_text() { return text_; }

 private:
  // ---- low level
  void Lit(std::string_view s) { text_.append(s); }
  void Phi(C c, std::string_view v) {
    if (!opts_.categories.Contains(c)) dropped_ = true;
    if (v.empty()) return;
    spans_.push_back(LabeledSpan{text_.size(), text_.size() + v.size(), c});
    text_.append(v);
  }
  // A facility name: the distinctive part is PHI (a place smaller than a
  // state), the generic head ("Medical Center", "Hospital of") a neutral
  // reference span, as the PhysioNet gold standard labels them.
  void FacilityPhi(std::string_view v) {
    static constexpr std::string_view kHeads[] = {"Community Health Center",
                                                  "Skilled Nursing Facility",
                                                  "Rehabilitation Center",
                                                  "General Hospital",
                                                  "Medical Center",
                                                  "Health Center",
                                                  "Nursing Home",
                                                  "Assisted Living",
                                                  "Family Practice",
                                                  "Medical Group",
                                                  "Hospital",
                                                  "Clinic",
                                                  "Rehab"};
    if (!opts_.categories.Contains(C::kFacility)) dropped_ = true;
    for (std::string_view head : kHeads) {
      // "<name> <head>" (any case)
      if (v.size() > head.size() + 1 && v[v.size() - head.size() - 1] == ' ' &&
          absl::EqualsIgnoreCase(ToAbsl(v.substr(v.size() - head.size())), ToAbsl(head))) {
        Phi(C::kFacility, v.substr(0, v.size() - head.size() - 1));
        Lit(" ");
        Ref(ReferenceKind::kFacilityType, v.substr(v.size() - head.size()));
        return;
      }
    }
    // "Mercy Hospital of <city>": the city is the PHI.
    const size_t of = v.find(" of ");
    if (of != std::string_view::npos) {
      Ref(ReferenceKind::kFacilityType, v.substr(0, of + 3));
      Lit(" ");
      Phi(C::kFacility, v.substr(of + 4));
      return;
    }
    Phi(C::kFacility, v);
  }
  void Ref(ReferenceKind k, std::string_view v) {
    refs_.push_back(ReferenceSpan{text_.size(), text_.size() + v.size(), k});
    text_.append(v);
  }

  void Expand(std::string_view t) {
    size_t i = 0;
    while (i < t.size()) {
      const char c = t[i];
      if (c == '{') {
        const size_t close = t.find('}', i);
        PHIGATE_CHECK(close != std::string_view::npos, "unterminated {key} in a synth template");
        Emit(t.substr(i + 1, close - i - 1));
        i = close + 1;
      } else if (c == '[') {
        const size_t close = t.find(']', i);
        PHIGATE_CHECK(close != std::string_view::npos, "unterminated [a|b] in a synth template");
        std::string_view body = t.substr(i + 1, close - i - 1);
        if (!body.empty() && body[0] == '?') {
          if (rng_.Chance(0.5)) Expand(body.substr(1));
        } else {
          size_t n = 1;
          for (char ch : body) n += ch == '|' ? 1 : 0;
          size_t pick = rng_.Below(n);
          size_t start = 0;
          while (pick > 0) {
            start = body.find('|', start) + 1;
            --pick;
          }
          const size_t end = body.find('|', start);
          Expand(body.substr(start, end == std::string_view::npos ? end : end - start));
        }
        i = close + 1;
      } else {
        size_t j = i;
        while (j < t.size() && t[j] != '{' && t[j] != '[') ++j;
        Lit(t.substr(i, j - i));
        i = j;
      }
    }
  }

  // ---- values
  std::string MaybeLower(std::string v, double p = 0.04) {
    if (rng_.Chance(p)) Recase(v, 0, v.size(), false);
    return v;
  }

  std::string_view Title(const Person& x) {
    if (!x.female) return rng_.Chance(0.85) ? "Mr. " : "Mr ";
    switch (rng_.Below(4)) {
      case 0:
        return "Ms. ";
      case 1:
        return "Miss ";
      default:
        return "Mrs. ";
    }
  }

  // A person's name in one of many shapes; titles are written unlabelled.
  void Name(const Person& x, bool allow_title) {
    const size_t k = rng_.Below(allow_title ? 14 : 11);
    switch (k) {
      case 0:
      case 1:
      case 2:
        Phi(C::kName, MaybeLower(absl::StrCat(x.first, " ", x.last)));
        break;
      case 3:
        Phi(C::kName, x.middle.empty() ? absl::StrCat(x.first, " ", x.last)
                                       : absl::StrCat(x.first, " ", x.middle, ". ", x.last));
        break;
      case 4:
        // "Last, First" reads as a list entry; in prose it is rare.
        if (rng_.Chance(0.25)) {
          Phi(C::kName, absl::StrCat(x.last, ", ", x.first));
        } else {
          Phi(C::kName, absl::StrCat(x.first, " ", x.last));
        }
        break;
      case 5:
        Phi(C::kName, absl::StrCat(x.first, " ", Recased(x.last, true)));
        break;
      case 6:
        Phi(C::kName, absl::StrCat(Initial(x.first), ". ", x.last));
        break;
      case 7:
        Phi(C::kName, MaybeLower(x.last, 0.08));
        break;
      case 8:
        Phi(C::kName, MaybeLower(x.first, 0.08));
        break;
      case 9:
        if (!x.nick.empty()) {
          Phi(C::kName, absl::StrCat(x.first, " \"", x.nick, "\" ", x.last));
        } else {
          Phi(C::kName, absl::StrCat(x.first, " ", Initial(x.last), "."));
        }
        break;
      case 10:
        Phi(C::kName, Recased(absl::StrCat(x.first, " ", x.last), true));
        break;
      default:
        Lit(Title(x));
        Phi(C::kName, MaybeLower(x.last));
        break;
    }
  }

  void DoctorName(const Person& x) {
    switch (rng_.Below(9)) {
      case 0:
      case 1:
      case 2:
        Lit(rng_.Chance(0.8) ? "Dr. " : (rng_.Chance(0.5) ? "Dr " : "dr "));
        Phi(C::kName, MaybeLower(x.last, 0.06));
        break;
      case 3:
        Lit("Dr. ");
        Phi(C::kName, absl::StrCat(x.first, " ", x.last));
        break;
      case 4:
        Phi(C::kName, absl::StrCat(x.first, " ", x.last));
        Lit(rng_.Chance(0.5) ? ", MD" : " MD");
        break;
      case 5:
        Phi(C::kName, absl::StrCat(Initial(x.first), ". ", x.last));
        Lit(", M.D.");
        break;
      case 6:
        Lit("Dr. ");
        Phi(C::kName, Recased(x.last, true));
        break;
      case 7:
        Phi(C::kName, x.last);
        Lit(rng_.Chance(0.5) ? ", NP" : ", PA-C");
        break;
      default:
        Lit("Dr. ");
        Phi(C::kName, x.middle.empty() ? absl::StrCat(x.first, " ", x.last)
                                       : absl::StrCat(x.first, " ", x.middle, ". ", x.last));
        break;
    }
  }

  Ymd Day(int64_t d) const { return CivilFromDays(d); }
  int64_t NearDay() { return note_day_ - rng_.Range(0, 25) + (rng_.Chance(0.2) ? 30 : 0); }

  void Age(int age) {
    const std::string n = std::to_string(age);
    if (age > 89) {
      Phi(C::kAge, n);
    } else {
      Ref(ReferenceKind::kAge, n);
    }
  }
  // "92 y/o", "aged 95", "91-year-old"...; with_sex adds forms like "92F" and
  // "92 y/o M" (the label covers the number only).
  void AgeFormatted(int age, bool with_sex) {
    const std::string_view sex = p_.name.female ? "F" : "M";
    switch (rng_.Below(with_sex ? 14 : 11)) {
      case 0:
        Age(age);
        Lit(" y/o");
        break;
      case 1:
        Age(age);
        Lit(" yo");
        break;
      case 2:
        Age(age);
        Lit("yo");
        break;
      case 3:
        Age(age);
        Lit(" y.o.");
        break;
      case 4:
        Age(age);
        Lit("-year-old");
        break;
      case 5:
        Age(age);
        Lit(" year old");
        break;
      case 6:
        Age(age);
        Lit(" yr old");
        break;
      case 7:
        Lit("aged ");
        Age(age);
        break;
      case 8:
        Age(age);
        Lit(" years old");
        break;
      case 9:
        Age(age);
        Lit("-yr-old");
        break;
      case 10:
        Age(age);
        Lit(" yo");
        break;
      case 11:
        Age(age);
        Lit(sex);
        break;
      case 12:
        Age(age);
        Lit(" y/o ");
        Lit(sex);
        break;
      default:
        Age(age);
        Lit(" yo ");
        Lit(sex);
        break;
    }
  }

  std::string Phone(std::string_view digits) {
    const std::string_view a = digits.substr(0, 3), e = digits.substr(3, 3),
                           l = digits.substr(6, 4);
    std::string s;
    switch (rng_.Below(11)) {
      case 0:
      case 1:
        s = absl::StrCat("(", ToAbsl(a), ") ", ToAbsl(e), "-", ToAbsl(l));
        break;
      case 2:
      case 3:
        s = absl::StrCat(ToAbsl(a), "-", ToAbsl(e), "-", ToAbsl(l));
        break;
      case 4:
        s = absl::StrCat(ToAbsl(a), ".", ToAbsl(e), ".", ToAbsl(l));
        break;
      case 5:
        s = absl::StrCat("+1 ", ToAbsl(a), " ", ToAbsl(e), " ", ToAbsl(l));
        break;
      case 6:
        s = absl::StrCat("1-", ToAbsl(a), "-", ToAbsl(e), "-", ToAbsl(l));
        break;
      case 7:
        s = absl::StrCat(ToAbsl(a), " ", ToAbsl(e), " ", ToAbsl(l));
        break;
      case 8:
        s = absl::StrCat("(", ToAbsl(a), ")", ToAbsl(e), "-", ToAbsl(l));
        break;
      case 9:
        s = absl::StrCat("+1 (", ToAbsl(a), ") ", ToAbsl(e), "-", ToAbsl(l));
        break;
      default:
        s = absl::StrCat(ToAbsl(e), "-", ToAbsl(l));
        break;
    }
    return s;
  }
  std::string PhoneWithExt(std::string_view digits) {
    std::string s = Phone(digits);
    switch (rng_.Below(4)) {
      case 0:
        absl::StrAppend(&s, " ext. ", rng_.Range(2, 9999));
        break;
      case 1:
        absl::StrAppend(&s, " x", rng_.Range(100, 999));
        break;
      case 2:
        absl::StrAppend(&s, " ext ", rng_.Range(10, 999));
        break;
      default:
        break;
    }
    return s;
  }
  std::string InternationalPhone() {
    switch (rng_.Below(5)) {
      case 0:
        return absl::StrCat("+44 20 7946 0", rng_.Digits(3));
      case 1:
        return absl::StrCat("+49 30 ", rng_.Digits(3), " ", rng_.Digits(4));
      case 2:
        return absl::StrCat("+33 1 ", rng_.Digits(2), " ", rng_.Digits(2), " ", rng_.Digits(2), " ",
                            rng_.Digits(2));
      case 3:
        return absl::StrCat("+52 55 ", rng_.Digits(4), " ", rng_.Digits(4));
      default:
        return absl::StrCat("+91 9", rng_.Digits(4), " ", rng_.Digits(5));
    }
  }

  std::string Ssn() {
    const std::string& s = p_.ssn;
    switch (rng_.Below(10)) {
      case 0:
        return absl::StrCat(s.substr(0, 3), " ", s.substr(3, 2), " ", s.substr(5));
      case 1:
      case 2:
        return s;
      default:
        return absl::StrCat(s.substr(0, 3), "-", s.substr(3, 2), "-", s.substr(5));
    }
  }
  std::string Mbi() {
    const std::string& s = p_.mbi;
    if (rng_.Chance(0.4))
      return absl::StrCat(s.substr(0, 4), "-", s.substr(4, 3), "-", s.substr(7));
    return s;
  }

  std::string Zip() {
    if (p_.zip.size() > 5 && rng_.Chance(0.5)) return p_.zip.substr(0, 5);
    return p_.zip;
  }

  void State(std::string_view code) {
    if (rng_.Chance(0.2)) {
      Ref(ReferenceKind::kState, StateName(code));
    } else {
      Ref(ReferenceKind::kState, code);
    }
  }

  std::string Location() {
    switch (rng_.Below(6)) {
      case 0:
      case 1:
        return p_.hood;
      case 2: {
        const int lat = rng_.Range(25, 48), lon = rng_.Range(70, 122);
        return absl::StrCat(lat, ".", rng_.Digits(4), "° N, ", lon, ".", rng_.Digits(4), "° W");
      }
      case 3: {
        const int lat = rng_.Range(25, 48), lon = rng_.Range(70, 122);
        return absl::StrCat(lat, ".", rng_.Digits(5), ", -", lon, ".", rng_.Digits(5));
      }
      case 4:
        return absl::StrCat("Lake ", InventName(rng_, true));
      default:
        return absl::StrCat(ToAbsl(rng_.Pick(kStreetWords)), rng_.Chance(0.5) ? " Plaza" : " Mall");
    }
  }

  std::string Facility() {
    const City& city = g_.cities[g_.city_weights.SampleIndex(rng_)];
    switch (rng_.Below(11)) {
      case 0:
        return absl::StrCat("St. ", ToAbsl(rng_.Pick(kSaints)), "'s Hospital");
      case 1:
        return absl::StrCat(city.name, " General Hospital");
      case 2:
        return absl::StrCat(city.name, " Medical Center");
      case 3:
        return absl::StrCat(ToAbsl(rng_.Pick(kNature)), " Nursing Home");
      case 4:
        return absl::StrCat(ToAbsl(rng_.Pick(kNature)), " Rehabilitation Center");
      case 5:
        return absl::StrCat(g_.surnames.Sample(rng_), " Family Practice");
      case 6:
        return absl::StrCat(city.name, " Memorial Hospital");
      case 7:
        return absl::StrCat("Mercy Hospital of ", city.name);
      case 8:
        return absl::StrCat(ToAbsl(rng_.Pick(kNature)), " Assisted Living");
      case 9:
        return absl::StrCat(city.name, " Community Health Center");
      default:
        return absl::StrCat(ToAbsl(rng_.Pick(kNature)), " Clinic");
    }
  }
  std::string SnfName() {
    switch (rng_.Below(3)) {
      case 0:
        return absl::StrCat(ToAbsl(rng_.Pick(kNature)), " Nursing Home");
      case 1:
        return absl::StrCat(ToAbsl(rng_.Pick(kNature)), " Rehab");
      default:
        return absl::StrCat(ToAbsl(rng_.Pick(kNature)), " Skilled Nursing Facility");
    }
  }

  std::string Email(const Person& x) {
    std::string first = Recased(x.first, false), last = Recased(x.last, false);
    auto ascii = [](std::string s) {
      std::string o;
      for (char c : s) {
        if ((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9')) o.push_back(c);
      }
      return o.empty() ? std::string("pt") : o;
    };
    first = ascii(first);
    last = ascii(last);
    const std::string_view dom = rng_.Pick(kEmailDomains);
    switch (rng_.Below(5)) {
      case 0:
        return absl::StrCat(first, ".", last, "@", ToAbsl(dom));
      case 1:
        return absl::StrCat(first.substr(0, 1), last, "@", ToAbsl(dom));
      case 2:
        return absl::StrCat(first, last, rng_.Range(1, 99), "@", ToAbsl(dom));
      case 3:
        return absl::StrCat(first, "_", last, "@", ToAbsl(dom));
      default:
        return absl::StrCat(last, ".", first, rng_.Range(50, 99), "@", ToAbsl(dom));
    }
  }

  std::string Url() {
    switch (rng_.Below(7)) {
      case 0:
        return p_.url;
      case 1:
        return absl::StrCat("https://mychart.", p_.domain, "/MyChart/Messages?id=", rng_.Digits(8));
      case 2:
        return absl::StrCat("https://portal.", p_.domain, "/patient/", rng_.Digits(7));
      case 3:
        return absl::StrCat("www.", p_.domain, "/records/", rng_.Letters(2), rng_.Digits(6));
      case 4:
        return absl::StrCat("https://", p_.domain, "/fhir/Patient/", rng_.Digits(9));
      case 5:
        return absl::StrCat("http://telehealth.", p_.domain, "/visit/", rng_.Digits(6));
      default:
        return p_.url;
    }
  }

  std::string Plate() {
    if (rng_.Chance(0.6)) return p_.plate;
    switch (rng_.Below(3)) {
      case 0:
        return absl::StrCat(rng_.Letters(3), "-", rng_.Digits(4));
      case 1:
        return absl::StrCat(std::string(1, rng_.NonZeroDigit()), rng_.Letters(3), rng_.Digits(3));
      default:
        return absl::StrCat(rng_.Digits(3), " ", rng_.Letters(3));
    }
  }

  std::string OtherId() {
    switch (rng_.Below(5)) {
      case 0:
        return p_.emp_id;
      case 1:
        return p_.study_id;
      case 2:
        return absl::StrCat("CL", rng_.Digits(9));
      case 3:
        return absl::StrCat(rng_.Digits(3), "-", rng_.Digits(4));
      default:
        return absl::StrCat("B", rng_.Digits(6));
    }
  }

  std::string Accession() {
    switch (rng_.Below(4)) {
      case 0:
        return absl::StrCat("S", Pad2(Day(note_day_).y), "-", rng_.Digits(5));
      case 1:
        return absl::StrCat("RAD-", rng_.Digits(7));
      case 2:
        return absl::StrCat("CH", Pad2(Day(note_day_).y), "-", rng_.Digits(5));
      default:
        return rng_.Digits(10);
    }
  }

  std::string License(const Clinician& c) { return c.lic; }

  const Clinician& Staff(size_t i) const { return p_.team[std::min(i, p_.team.size() - 1)]; }
  const Relative& Rel() const { return p_.relatives[rel_]; }

  void Emit(std::string_view key);

  // Filler values (not PHI).
  std::string Num(int lo, int hi) { return std::to_string(rng_.Range(lo, hi)); }
  std::string Dec(int lo, int hi) {
    return absl::StrCat(rng_.Range(lo, hi), ".", rng_.Range(0, 9));
  }

  Rng& rng_;
  const Gazetteers& g_;
  const GeneratorOptions& opts_;
  Patient& p_;
  int64_t note_day_ = 0;
  size_t rel_ = 0;
  bool dropped_ = false;
  std::string text_;
  std::vector<LabeledSpan> spans_;
  std::vector<ReferenceSpan> refs_;
};

namespace {

enum class K : uint8_t {
  // names
  kPt,
  kPtFull,
  kPtFirst,
  kPtLast,
  kPtLf,
  kPtTitle,
  kPtPoss,
  kPtInit,
  kPtNick,
  kRel,
  kRelFull,
  kRelRole,
  kRelPoss,
  kRelAge,
  kDr,
  kDrFull,
  kDrLast,
  kDrFirst,
  kDr2,
  kDr2Full,
  kDr2Last,
  kPcp,
  kPcpFull,
  kRn,
  kRnFull,
  kOther,
  // dates
  kDate,
  kDob,
  kAdm,
  kDc,
  kDShort,
  kDPart,
  kDth,
  kDrPoss,
  kSsnMasked,
  kDTime,
  kDLong,
  kDNum,
  kNext,
  kTime,
  kYear,
  // age
  kAge,
  kAgeFmt,
  kOldAge,
  // places
  kStreet,
  kCity,
  kCounty,
  kState,
  kZip,
  kFullAddr,
  kFac,
  kFac2,
  kSnf,
  kClinic,
  kClinicAddr,
  kLoc,
  kHood,
  // contact
  kPhone,
  kCell,
  kWorkPhone,
  kClinicPhone,
  kPager,
  kFax,
  kIntlPhone,
  kRelPhone,
  kEmail,
  kDrEmail,
  kDr2Email,
  kUrl,
  kIp,
  kIp6,
  // identifiers
  kSsn,
  kSsn4,
  kMrn,
  kPlan,
  kMbi,
  kAcct,
  kDl,
  kDea,
  kNpi,
  kLic,
  kVin,
  kPlate,
  kSerial,
  kUdi,
  kEmpId,
  kStudyId,
  kAccession,
  kBio,
  kPhoto,
  kOtherId,
  // filler
  kPlanName,
  kCar,
  kDevice,
  kEmployer,
  kSex,
  kHeShe,
  kHisHer,
  kManWoman,
  kHr,
  kBp,
  kRr,
  kTemp,
  kSpo2,
  kK,
  kNa,
  kCr,
  kBun,
  kGlu,
  kHgb,
  kWbc,
  kPlt,
  kInr,
  kNum,
  kDose,
  kBed,
  kWt,
  kPmhKey,
  kAgeSex,
  kHimHer,
  kHeSheCap,
  kHisHerCap,
  kMaleFemale,
  kComplaint,
};

const std::unordered_map<std::string_view, K>& KeyTable() {
  static const auto* table = new std::unordered_map<std::string_view, K>{
      {"pt", K::kPt},
      {"ptfull", K::kPtFull},
      {"ptfirst", K::kPtFirst},
      {"ptlast", K::kPtLast},
      {"ptlf", K::kPtLf},
      {"pttitle", K::kPtTitle},
      {"ptposs", K::kPtPoss},
      {"ptinit", K::kPtInit},
      {"ptnick", K::kPtNick},
      {"rel", K::kRel},
      {"relfull", K::kRelFull},
      {"relrole", K::kRelRole},
      {"relposs", K::kRelPoss},
      {"relage", K::kRelAge},
      {"dr", K::kDr},
      {"drfull", K::kDrFull},
      {"drlast", K::kDrLast},
      {"drfirst", K::kDrFirst},
      {"dr2", K::kDr2},
      {"dr2full", K::kDr2Full},
      {"dr2last", K::kDr2Last},
      {"pcp", K::kPcp},
      {"pcpfull", K::kPcpFull},
      {"rn", K::kRn},
      {"rnfull", K::kRnFull},
      {"other", K::kOther},
      {"date", K::kDate},
      {"dob", K::kDob},
      {"adm", K::kAdm},
      {"dc", K::kDc},
      {"dshort", K::kDShort},
      {"dpart", K::kDPart},
      {"dth", K::kDth},
      {"drposs", K::kDrPoss},
      {"ssnmasked", K::kSsnMasked},
      {"dtime", K::kDTime},
      {"dlong", K::kDLong},
      {"dnum", K::kDNum},
      {"next", K::kNext},
      {"time", K::kTime},
      {"year", K::kYear},
      {"age", K::kAge},
      {"agefmt", K::kAgeFmt},
      {"oldage", K::kOldAge},
      {"street", K::kStreet},
      {"city", K::kCity},
      {"county", K::kCounty},
      {"state", K::kState},
      {"zip", K::kZip},
      {"fulladdr", K::kFullAddr},
      {"fac", K::kFac},
      {"fac2", K::kFac2},
      {"snf", K::kSnf},
      {"clinic", K::kClinic},
      {"clinicaddr", K::kClinicAddr},
      {"loc", K::kLoc},
      {"hood", K::kHood},
      {"phone", K::kPhone},
      {"cell", K::kCell},
      {"workphone", K::kWorkPhone},
      {"clinicphone", K::kClinicPhone},
      {"pager", K::kPager},
      {"fax", K::kFax},
      {"intlphone", K::kIntlPhone},
      {"relphone", K::kRelPhone},
      {"email", K::kEmail},
      {"dremail", K::kDrEmail},
      {"dr2email", K::kDr2Email},
      {"url", K::kUrl},
      {"ip", K::kIp},
      {"ip6", K::kIp6},
      {"ssn", K::kSsn},
      {"ssn4", K::kSsn4},
      {"mrn", K::kMrn},
      {"plan", K::kPlan},
      {"mbi", K::kMbi},
      {"acct", K::kAcct},
      {"dl", K::kDl},
      {"dea", K::kDea},
      {"npi", K::kNpi},
      {"lic", K::kLic},
      {"vin", K::kVin},
      {"plate", K::kPlate},
      {"serial", K::kSerial},
      {"udi", K::kUdi},
      {"empid", K::kEmpId},
      {"studyid", K::kStudyId},
      {"accession", K::kAccession},
      {"bio", K::kBio},
      {"photo", K::kPhoto},
      {"otherid", K::kOtherId},
      {"planname", K::kPlanName},
      {"car", K::kCar},
      {"device", K::kDevice},
      {"employer", K::kEmployer},
      {"sex", K::kSex},
      {"heshe", K::kHeShe},
      {"hisher", K::kHisHer},
      {"manwoman", K::kManWoman},
      {"hr", K::kHr},
      {"bp", K::kBp},
      {"rr", K::kRr},
      {"temp", K::kTemp},
      {"spo2", K::kSpo2},
      {"k", K::kK},
      {"na", K::kNa},
      {"cr", K::kCr},
      {"bun", K::kBun},
      {"glu", K::kGlu},
      {"hgb", K::kHgb},
      {"wbc", K::kWbc},
      {"plt", K::kPlt},
      {"inr", K::kInr},
      {"num", K::kNum},
      {"dose", K::kDose},
      {"bed", K::kBed},
      {"wt", K::kWt},
      {"pmh", K::kPmhKey},
      {"complaint", K::kComplaint},
      {"agesex", K::kAgeSex},
      {"himher", K::kHimHer},
      {"HeShe", K::kHeSheCap},
      {"HisHer", K::kHisHerCap},
      {"malefemale", K::kMaleFemale},
  };
  return *table;
}

}  // namespace

void NoteBuilder::Emit(std::string_view key) {
  const auto& table = KeyTable();
  const auto it = table.find(key);
  PHIGATE_CHECK(it != table.end(), "unknown {key} in a synth template");
  const Person& pt = p_.name;
  switch (it->second) {
    case K::kPt:
      Name(pt, true);
      break;
    case K::kPtFull:
      Phi(C::kName, MaybeLower(rng_.Chance(0.3) && !pt.middle.empty()
                                   ? absl::StrCat(pt.first, " ", pt.middle, ". ", pt.last)
                                   : absl::StrCat(pt.first, " ", pt.last),
                               0.03));
      break;
    case K::kPtFirst:
      Phi(C::kName, MaybeLower(pt.first));
      break;
    case K::kPtLast:
      Phi(C::kName, MaybeLower(pt.last));
      break;
    case K::kPtLf:
      Phi(C::kName, rng_.Chance(0.5) ? Recased(absl::StrCat(pt.last, ", ", pt.first), true)
                                     : absl::StrCat(pt.last, ", ", pt.first,
                                                    pt.middle.empty() ? "" : " ", pt.middle));
      break;
    case K::kPtTitle:
      Lit(Title(pt));
      Phi(C::kName, pt.last);
      break;
    case K::kPtPoss:
      Phi(C::kName, rng_.Chance(0.5) ? pt.last : absl::StrCat(pt.first, " ", pt.last));
      Lit("'s");
      break;
    case K::kPtInit:
      Phi(C::kName, rng_.Chance(0.5) ? absl::StrCat(Initial(pt.first), ".", Initial(pt.last), ".")
                                     : absl::StrCat(Initial(pt.first), Initial(pt.last)));
      break;
    case K::kPtNick:
      Phi(C::kName, pt.nick.empty() ? pt.first : pt.nick);
      break;
    case K::kRel:
      Name(Rel().p, true);
      break;
    case K::kRelFull:
      Phi(C::kName, absl::StrCat(Rel().p.first, " ", Rel().p.last));
      break;
    case K::kRelRole:
      Lit(Rel().role);
      break;
    case K::kRelPoss:
      Phi(C::kName, Rel().p.first);
      Lit("'s");
      break;
    case K::kRelAge:
      AgeFormatted(Rel().age, false);
      break;
    case K::kDr:
      DoctorName(Staff(1).p);
      break;
    case K::kDrFull:
      Phi(C::kName, absl::StrCat(Staff(1).p.first, " ", Staff(1).p.last));
      break;
    case K::kDrLast:
      Phi(C::kName, Staff(1).p.last);
      break;
    case K::kDrFirst:
      Phi(C::kName, Staff(1).p.first);
      break;
    case K::kDr2:
      DoctorName(Staff(2).p);
      break;
    case K::kDr2Full:
      Phi(C::kName, absl::StrCat(Staff(2).p.first, " ", Staff(2).p.last));
      break;
    case K::kDr2Last:
      Phi(C::kName, Staff(2).p.last);
      break;
    case K::kPcp:
      DoctorName(Staff(0).p);
      break;
    case K::kPcpFull:
      Phi(C::kName, absl::StrCat(Staff(0).p.first, " ", Staff(0).p.last));
      break;
    case K::kRn:
      Phi(C::kName, MaybeLower(Staff(3 + rng_.Below(2)).p.first, 0.1));
      break;
    case K::kRnFull: {
      const Person& n = Staff(3 + rng_.Below(2)).p;
      Phi(C::kName, rng_.Chance(0.5) ? absl::StrCat(n.first, " ", Initial(n.last), ".")
                                     : absl::StrCat(n.first, " ", n.last));
      Lit(", RN");
      break;
    }
    case K::kPmhKey:
      Expand(rng_.Pick(kPmh));
      break;
    case K::kComplaint:
      Lit(rng_.Pick(kComplaints));
      break;
    case K::kOther: {
      Person o;
      o.first = rng_.Chance(0.2) ? InventName(rng_, false) : g_.first_names.Sample(rng_);
      o.last = rng_.Chance(0.2) ? InventName(rng_, true) : g_.surnames.Sample(rng_);
      Phi(C::kName, absl::StrCat(o.first, " ", o.last));
      break;
    }
    case K::kDate: {
      const Ymd d = Day(NearDay());
      Phi(C::kDate, rng_.Chance(0.7) ? FormatFullDate(d, rng_) : FormatNumericPartial(d, rng_));
      break;
    }
    case K::kDob:
      Phi(C::kDate, FormatFullDate(Day(p_.dob), rng_));
      break;
    case K::kAdm:
      Phi(C::kDate, FormatFullDate(Day(p_.adm), rng_));
      break;
    case K::kDc:
      Phi(C::kDate, FormatFullDate(Day(note_day_ + rng_.Range(0, 3)), rng_));
      break;
    case K::kDShort:
      Phi(C::kDate, FormatNumericPartial(Day(NearDay()), rng_));
      break;
    case K::kDPart:
      Phi(C::kDate, FormatWrittenPartial(Day(NearDay()), rng_));
      break;
    case K::kDth:
      // "the 3rd": the day is the date element; the article stays unlabelled.
      Lit("the ");
      Phi(C::kDate, Ordinal(Day(NearDay()).d));
      break;
    case K::kDrPoss:
      Lit("Dr. ");
      Phi(C::kName, Staff(1).p.last);
      Lit("'s");
      break;
    case K::kSsnMasked:
      // A partial SSN: the visible digits are the identifier.
      Lit(rng_.Pick(std::array<std::string_view, 4>{"***-**-", "xxx-xx-", "XXX-XX-", "###-##-"}));
      Phi(C::kSsn, p_.ssn.substr(5));
      break;
    case K::kDTime:
      Phi(C::kDate, FormatDateTime(Day(note_day_), rng_));
      break;
    case K::kDLong: {
      const Ymd d = Day(note_day_);
      Phi(C::kDate, rng_.Chance(0.5) ? absl::StrCat(ToAbsl(kMonths[d.m - 1]), " ", d.d, ", ", d.y)
                                     : absl::StrCat(d.d, " ", ToAbsl(kMonths[d.m - 1]), " ", d.y));
      break;
    }
    case K::kDNum: {
      const Ymd d = Day(NearDay());
      Phi(C::kDate, rng_.Chance(0.5) ? absl::StrCat(d.m, "/", d.d, "/", d.y)
                                     : absl::StrCat(Pad2(d.m), "/", Pad2(d.d), "/", d.y));
      break;
    }
    case K::kNext: {
      const Ymd d = Day(note_day_ + rng_.Range(7, 60));
      Phi(C::kDate, rng_.Chance(0.5) ? FormatFullDate(d, rng_) : FormatWrittenPartial(d, rng_));
      break;
    }
    case K::kTime:
      Lit(FormatTime(rng_));
      break;
    case K::kYear: {
      // A past event year after the patient's 15th birthday.
      const int span = std::clamp(p_.age - 15, 1, 30);
      Ref(ReferenceKind::kYear, std::to_string(Day(note_day_).y - rng_.Range(1, span)));
      break;
    }
    case K::kAge:
      Age(p_.age);
      break;
    case K::kAgeFmt:
      AgeFormatted(p_.age, false);
      break;
    case K::kAgeSex:
      AgeFormatted(p_.age, true);
      break;
    case K::kOldAge:
      AgeFormatted(rng_.Range(90, 104), false);
      break;
    case K::kStreet:
      Phi(C::kStreetAddress, p_.street);
      break;
    case K::kCity:
      Phi(C::kCity, MaybeLower(p_.city, 0.03));
      break;
    case K::kCounty:
      Phi(C::kCity, p_.county);
      break;
    case K::kState:
      State(p_.state);
      break;
    case K::kZip:
      Phi(C::kZip, Zip());
      break;
    case K::kFullAddr:
      Phi(C::kStreetAddress, p_.street);
      Lit(rng_.Chance(0.7) ? ", " : "\n");
      Phi(C::kCity, p_.city);
      Lit(", ");
      State(p_.state);
      Lit(" ");
      Phi(C::kZip, Zip());
      break;
    case K::kFac:
      FacilityPhi(p_.facility);
      break;
    case K::kFac2:
      FacilityPhi(Facility());
      break;
    case K::kSnf:
      FacilityPhi(SnfName());
      break;
    case K::kClinic:
      FacilityPhi(p_.clinic);
      break;
    case K::kClinicAddr:
      Phi(C::kStreetAddress, p_.clinic_street);
      Lit(rng_.Chance(0.5) ? ", " : "\n");
      Phi(C::kCity, p_.clinic_city);
      Lit(", ");
      State(p_.clinic_state);
      Lit(" ");
      Phi(C::kZip, p_.clinic_zip);
      break;
    case K::kLoc:
      Phi(C::kLocation, Location());
      break;
    case K::kHood:
      Phi(C::kLocation, p_.hood);
      break;
    case K::kPhone:
      Phi(C::kPhone, Phone(p_.home_phone));
      break;
    case K::kCell:
      Phi(C::kPhone, Phone(p_.cell));
      break;
    case K::kWorkPhone:
      Phi(C::kPhone, PhoneWithExt(p_.work_phone));
      break;
    case K::kClinicPhone:
      Phi(C::kPhone, PhoneWithExt(p_.clinic_phone));
      break;
    case K::kPager:
      Phi(C::kPhone, rng_.Chance(0.5) ? Phone(Staff(1).phone) : rng_.Digits(5));
      break;
    case K::kFax:
      Phi(C::kFax, Phone(p_.clinic_fax));
      break;
    case K::kIntlPhone:
      Phi(C::kPhone, InternationalPhone());
      break;
    case K::kRelPhone:
      Phi(C::kPhone, Phone(Rel().phone));
      break;
    case K::kEmail:
      Phi(C::kEmail, p_.email);
      break;
    case K::kDrEmail:
      Phi(C::kEmail, Staff(1).email);
      break;
    case K::kDr2Email:
      Phi(C::kEmail, Staff(2).email);
      break;
    case K::kUrl:
      Phi(C::kUrl, Url());
      break;
    case K::kIp:
      Phi(C::kIp, rng_.Chance(0.75) ? p_.ip : MakeIpv6(rng_));
      break;
    case K::kIp6:
      Phi(C::kIp, MakeIpv6(rng_));
      break;
    case K::kSsn:
      Phi(C::kSsn, Ssn());
      break;
    case K::kSsn4:
      Phi(C::kSsn, p_.ssn.substr(5));
      break;
    case K::kMrn:
      Phi(C::kMrn, p_.mrn);
      break;
    case K::kPlan:
      Phi(C::kHealthPlan, p_.plan);
      break;
    case K::kMbi:
      Phi(C::kHealthPlan, Mbi());
      break;
    case K::kAcct:
      Phi(C::kAccount, p_.acct);
      break;
    case K::kDl:
      Phi(C::kLicense, p_.dl);
      break;
    case K::kDea:
      Phi(C::kLicense, Staff(1).dea);
      break;
    case K::kNpi:
      Phi(C::kLicense, Staff(1).npi);
      break;
    case K::kLic:
      Phi(C::kLicense, License(Staff(1)));
      break;
    case K::kVin:
      Phi(C::kVehicle, p_.vin);
      break;
    case K::kPlate:
      Phi(C::kVehicle, Plate());
      break;
    case K::kSerial:
      Phi(C::kDevice, p_.serial);
      break;
    case K::kUdi:
      Phi(C::kDevice, p_.udi);
      break;
    case K::kEmpId:
      Phi(C::kOtherId, p_.emp_id);
      break;
    case K::kStudyId:
      Phi(C::kOtherId, p_.study_id);
      break;
    case K::kAccession:
      Phi(C::kOtherId, Accession());
      break;
    case K::kBio:
      Phi(C::kBiometric, p_.bio);
      break;
    case K::kPhoto:
      Phi(C::kPhoto, p_.photo);
      break;
    case K::kOtherId:
      Phi(C::kOtherId, OtherId());
      break;
    case K::kPlanName:
      Lit(p_.plan_name);
      break;
    case K::kCar:
      Lit(p_.car);
      break;
    case K::kDevice:
      Lit(p_.device);
      break;
    case K::kEmployer:
      Lit(p_.employer);
      break;
    case K::kSex:
      Lit(pt.female ? "F" : "M");
      break;
    case K::kHeShe:
      Lit(pt.female ? "she" : "he");
      break;
    case K::kHisHer:
      Lit(pt.female ? "her" : "his");
      break;
    case K::kHimHer:
      Lit(pt.female ? "her" : "him");
      break;
    case K::kHeSheCap:
      Lit(pt.female ? "She" : "He");
      break;
    case K::kHisHerCap:
      Lit(pt.female ? "Her" : "His");
      break;
    case K::kMaleFemale:
      Lit(pt.female ? "female" : "male");
      break;
    case K::kManWoman:
      Lit(pt.female ? "woman" : "man");
      break;
    case K::kHr:
      Lit(Num(52, 128));
      break;
    case K::kBp:
      Lit(absl::StrCat(rng_.Range(84, 178), "/", rng_.Range(42, 98)));
      break;
    case K::kRr:
      Lit(Num(12, 32));
      break;
    case K::kTemp:
      Lit(rng_.Chance(0.5) ? Dec(97, 101) : Dec(36, 38));
      break;
    case K::kSpo2:
      Lit(Num(88, 100));
      break;
    case K::kK:
      Lit(absl::StrCat(rng_.Range(3, 5), ".", rng_.Range(0, 9)));
      break;
    case K::kNa:
      Lit(Num(128, 146));
      break;
    case K::kCr:
      Lit(absl::StrCat(rng_.Range(0, 3), ".", rng_.Range(0, 9)));
      break;
    case K::kBun:
      Lit(Num(8, 64));
      break;
    case K::kGlu:
      Lit(Num(68, 310));
      break;
    case K::kHgb:
      Lit(Dec(7, 15));
      break;
    case K::kWbc:
      Lit(Dec(3, 19));
      break;
    case K::kPlt:
      Lit(Num(45, 420));
      break;
    case K::kInr:
      Lit(Dec(1, 3));
      break;
    case K::kNum:
      Lit(Num(1, 12));
      break;
    case K::kDose:
      Lit(absl::StrCat(rng_.Pick(std::array<int, 10>{1, 2, 5, 10, 20, 25, 40, 50, 100, 500})));
      break;
    case K::kBed:
      Lit(Num(1, 32));
      break;
    case K::kWt:
      Lit(Dec(45, 130));
      break;
  }
}

}  // namespace internal

// ---------------------------------------------------------------- Generator

namespace {

using internal::Gazetteers;
using internal::Patient;
using internal::Rng;

constexpr std::string_view kStyleNames[kNumStyles] = {"mix",    "icu",   "discharge", "referral",
                                                      "upper",  "lower", "lab",       "email",
                                                      "portal", "ed",    "facesheet"};

// Relative frequency of each style in kMix (index = Style value).
constexpr uint32_t kMixWeights[kNumStyles] = {0, 22, 12, 9, 12, 9, 9, 8, 8, 6, 5};

}  // namespace

std::string_view StyleName(Style s) { return kStyleNames[static_cast<size_t>(s)]; }
std::span<const std::string_view> StyleNames() { return kStyleNames; }
std::optional<Style> ParseStyle(std::string_view name) {
  for (size_t i = 0; i < kNumStyles; ++i) {
    const std::string_view n = kStyleNames[i];
    if (n.size() != name.size()) continue;
    bool eq = true;
    for (size_t j = 0; j < n.size(); ++j) {
      char c = name[j];
      if (c >= 'A' && c <= 'Z') c = static_cast<char>(c + 32);
      if (c != n[j]) eq = false;
    }
    if (eq) return static_cast<Style>(i);
  }
  return std::nullopt;
}

struct Generator::Impl {
  GeneratorOptions opts;
  Gazetteers g;
  Rng rng{1};
  uint64_t note_index = 0;
  uint64_t patient_index = 0;
  std::unique_ptr<Patient> patient;

  std::string FirstName() {
    if (rng.Chance(opts.invented_name_share)) return internal::InventName(rng, false);
    if (rng.Chance(0.04)) return std::string(rng.Pick(internal::NonAsciiFirstNames()));
    std::string n = g.first_names.Sample(rng);
    if (rng.Chance(0.02)) n = absl::StrCat(n, "-", g.first_names.Sample(rng));
    return n;
  }
  std::string Surname() {
    std::string n;
    if (rng.Chance(opts.invented_name_share)) {
      n = internal::InventName(rng, true);
    } else if (rng.Chance(0.04)) {
      n = std::string(rng.Pick(internal::NonAsciiSurnames()));
    } else {
      n = g.surnames.Sample(rng);
    }
    if (rng.Chance(0.06)) n = absl::StrCat(n, "-", g.surnames.Sample(rng));
    return n;
  }
  internal::Person MakePerson(bool female) {
    internal::Person p;
    p.female = female;
    p.first = FirstName();
    p.last = Surname();
    if (rng.Chance(0.5)) p.middle = std::string(1, rng.Upper());
    for (const auto& [full, nick] : internal::kNicknames) {
      if (full == p.first && rng.Chance(0.7)) p.nick = std::string(nick);
    }
    if (p.nick.empty() && rng.Chance(0.1) && p.first.size() > 4) {
      p.nick = absl::StrCat(internal::Prefix(p.first, 3), "ie");
    }
    return p;
  }
  std::string PhoneDigits() {
    std::string s;
    s.push_back(static_cast<char>('2' + rng.Below(8)));
    rng.AppendDigits(2, &s);
    if (rng.Chance(0.6)) {
      s.append("55501");
      rng.AppendDigits(2, &s);
    } else {
      s.push_back(static_cast<char>('2' + rng.Below(8)));
      rng.AppendDigits(6, &s);
    }
    return s;
  }
  // A ZIP whose 3-digit prefix belongs to the state when zip_prefixes.tsv is loaded.
  std::string ZipFor(const std::string& state) {
    std::string z;
    const auto it = g.zip_prefixes.find(state);
    if (it != g.zip_prefixes.end() && !it->second.empty()) {
      z = it->second[rng.Below(it->second.size())] + rng.Digits(2);
    } else {
      z = rng.Digits(5);
    }
    if (z == "00000") z = "01001";
    if (rng.Chance(0.3)) absl::StrAppend(&z, "-", rng.Digits(4));
    return z;
  }
  std::string Street() {
    if (rng.Chance(0.07))
      return absl::StrCat(rng.Chance(0.5) ? "P.O. Box " : "PO Box ", rng.Range(1, 9999));
    std::string s = std::to_string(rng.Range(1, rng.Chance(0.5) ? 999 : 29999));
    s.push_back(' ');
    if (rng.Chance(0.15)) s.append(rng.Pick(internal::kDirections));
    switch (rng.Below(5)) {
      case 0:
        s.append(g.surnames.Sample(rng));
        break;
      case 1:
        s.append(internal::InventName(rng, true));
        break;
      case 2: {
        const int n = rng.Range(1, 99);
        s.append(std::to_string(n));
        const int t = n % 100;
        s.append((t >= 11 && t <= 13) ? "th"
                 : n % 10 == 1        ? "st"
                 : n % 10 == 2        ? "nd"
                 : n % 10 == 3        ? "rd"
                                      : "th");
        break;
      }
      default:
        s.append(rng.Pick(internal::kStreetWords));
        break;
    }
    s.push_back(' ');
    s.append(rng.Pick(internal::kStreetSuffixes));
    if (rng.Chance(0.25)) {
      s.append(rng.Chance(0.5) ? ", " : " ");
      s.append(rng.Pick(internal::kUnits));
      s.append(std::to_string(rng.Range(1, 40)));
      if (rng.Chance(0.3)) s.push_back(static_cast<char>('A' + rng.Below(6)));
    }
    return s;
  }
  std::string Domain(const std::string& facility) {
    std::string d;
    for (char c : facility) {
      if (c >= 'A' && c <= 'Z') d.push_back(static_cast<char>(c + 32));
      if ((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9')) d.push_back(c);
      if (d.size() >= 18) break;
    }
    if (d.size() < 4) d = absl::StrCat(d, "health");
    static constexpr std::string_view kTld[] = {".org", ".org", ".com", ".net", ".health"};
    return absl::StrCat(d, ToAbsl(rng.Pick(kTld)));
  }
  internal::Clinician MakeClinician(const std::string& domain) {
    internal::Clinician c;
    c.p = MakePerson(rng.Chance(0.5));
    c.npi = internal::MakeNpi(rng);
    c.dea = internal::MakeDea(rng, c.p.last);
    switch (rng.Below(3)) {
      case 0:
        c.lic = absl::StrCat("MD", rng.Digits(6));
        break;
      case 1:
        c.lic = rng.Digits(6);
        break;
      default:
        c.lic = absl::StrCat(rng.Letters(1), rng.Digits(5));
        break;
    }
    std::string local;
    for (char ch : absl::StrCat(c.p.first.substr(0, 1), c.p.last)) {
      if (ch >= 'A' && ch <= 'Z') local.push_back(static_cast<char>(ch + 32));
      if ((ch >= 'a' && ch <= 'z')) local.push_back(ch);
    }
    if (local.size() < 2) local = absl::StrCat("md", rng.Digits(4));
    c.email = absl::StrCat(local, "@", domain);
    c.phone = PhoneDigits();
    return c;
  }

  void NewPatient() {
    auto p = std::make_unique<Patient>();
    ++patient_index;
    p->id = absl::StrCat("p", opts.seed, "-", patient_index);
    p->notes_left =
        1 + static_cast<int>(rng.Below(std::max<uint32_t>(1, opts.max_notes_per_patient)));
    p->name = MakePerson(rng.Chance(0.5));
    p->age = rng.Chance(0.16) ? rng.Range(90, 104) : rng.Range(18, 89);
    p->adm = internal::DaysFromCivil(2012, 1, 1) + rng.Range(0, 14 * 365);
    p->dob = p->adm - 365LL * p->age - rng.Range(1, 360) - p->age / 4;
    const internal::City& city = g.cities[g.city_weights.SampleIndex(rng)];
    p->street = Street();
    p->city = city.name;
    p->state = city.state;
    {
      const std::string_view kind = city.state == "LA"   ? " Parish"
                                    : city.state == "AK" ? " Borough"
                                                         : " County";
      const auto it = g.counties.find(city.state);
      if (it != g.counties.end() && !it->second.empty() && rng.Chance(0.8)) {
        p->county = absl::StrCat(it->second[rng.Below(it->second.size())], ToAbsl(kind));
      } else if (rng.Chance(0.5)) {
        p->county = absl::StrCat(ToAbsl(rng.Pick(internal::kCounties)), ToAbsl(kind));
      } else {
        p->county = absl::StrCat(city.name, ToAbsl(kind));
      }
    }
    p->zip = ZipFor(p->state);
    switch (rng.Below(4)) {
      case 0:
        p->hood = absl::StrCat(ToAbsl(rng.Pick(internal::kStreetWords)), " Heights");
        break;
      case 1:
        p->hood = absl::StrCat(ToAbsl(rng.Pick(internal::kNature)), " Estates");
        break;
      case 2:
        p->hood = absl::StrCat(g.surnames.Sample(rng), " Park");
        break;
      default:
        p->hood = absl::StrCat(ToAbsl(rng.Pick(internal::kStreetWords)), " Village");
        break;
    }
    p->home_phone = PhoneDigits();
    p->cell = PhoneDigits();
    p->work_phone = PhoneDigits();
    p->ssn = internal::MakeSsn(rng);
    switch (rng.Below(5)) {
      case 0:
        p->mrn = rng.Digits(7);
        break;
      case 1:
        p->mrn = rng.Digits(8);
        break;
      case 2:
        p->mrn = absl::StrCat("00", rng.Digits(6));
        break;
      case 3:
        p->mrn = absl::StrCat("MR", rng.Digits(7));
        break;
      default:
        p->mrn = absl::StrCat(rng.Digits(3), "-", rng.Digits(2), "-", rng.Digits(2));
        break;
    }
    p->plan_name = std::string(rng.Pick(internal::kPlans));
    switch (rng.Below(4)) {
      case 0:
        p->plan = absl::StrCat(rng.Letters(3), rng.Digits(9));
        break;
      case 1:
        p->plan = absl::StrCat("W", rng.Digits(9));
        break;
      case 2:
        p->plan = absl::StrCat(rng.Digits(9), rng.Letters(1));
        break;
      default:
        p->plan = absl::StrCat(rng.Letters(2), rng.Digits(7), "-0", rng.Digits(1));
        break;
    }
    p->mbi = internal::MakeMbi(rng);
    switch (rng.Below(3)) {
      case 0:
        p->acct = rng.Digits(10);
        break;
      case 1:
        p->acct = absl::StrCat(rng.Digits(4), "-", rng.Digits(4), "-", rng.Digits(2));
        break;
      default:
        p->acct = absl::StrCat("A", rng.Digits(8));
        break;
    }
    switch (rng.Below(4)) {
      case 0:
        p->dl = absl::StrCat(rng.Letters(1), rng.Digits(8));
        break;
      case 1:
        p->dl = rng.Digits(9);
        break;
      case 2:
        p->dl = absl::StrCat(rng.Letters(1), rng.Digits(3), "-", rng.Digits(4), "-", rng.Digits(4));
        break;
      default:
        p->dl = absl::StrCat(rng.Letters(1), rng.Digits(7));
        break;
    }
    p->vin = internal::MakeVin(rng);
    p->car = std::string(rng.Pick(internal::kCars));
    switch (rng.Below(3)) {
      case 0:
        p->plate = absl::StrCat(rng.Letters(3), rng.Chance(0.5) ? "-" : " ", rng.Digits(4));
        break;
      case 1:
        p->plate = absl::StrCat(std::string(1, rng.NonZeroDigit()), rng.Letters(3), rng.Digits(3));
        break;
      default:
        p->plate = absl::StrCat(rng.Digits(1), rng.Letters(2), "-", rng.Digits(3));
        break;
    }
    p->device = std::string(rng.Pick(internal::kDevices));
    switch (rng.Below(3)) {
      case 0:
        p->serial = absl::StrCat(rng.Letters(3), rng.Digits(6), rng.Letters(1));
        break;
      case 1:
        p->serial = absl::StrCat(rng.Digits(4), "-", rng.Digits(4));
        break;
      default:
        p->serial = absl::StrCat(rng.Letters(2), rng.Digits(8));
        break;
    }
    p->udi = internal::MakeUdi(rng);
    p->employer = std::string(rng.Pick(internal::kEmployers));
    p->emp_id =
        rng.Chance(0.5) ? absl::StrCat("EMP-", rng.Digits(6)) : absl::StrCat("E", rng.Digits(5));
    switch (rng.Below(3)) {
      case 0:
        p->study_id = absl::StrCat(rng.Letters(2), "-", rng.Range(2015, 2025), "-", rng.Digits(4));
        break;
      case 1:
        p->study_id = absl::StrCat("SUBJ-", rng.Digits(3), "-", rng.Digits(4));
        break;
      default:
        p->study_id = absl::StrCat("STU", rng.Digits(8));
        break;
    }
    p->ip = internal::MakeIpv4(rng);
    switch (rng.Below(3)) {
      case 0:
        p->bio = absl::StrCat("FP-", rng.Digits(5), "-", rng.Digits(2));
        break;
      case 1:
        p->bio = absl::StrCat("BIO-", rng.Letters(2), rng.Digits(2), "-", rng.Digits(4));
        break;
      default:
        p->bio = absl::StrCat("VP", rng.Digits(7));
        break;
    }
    switch (rng.Below(4)) {
      case 0:
        p->photo = absl::StrCat("IMG_", rng.Digits(4), ".JPG");
        break;
      case 1:
        p->photo = absl::StrCat("DSC", rng.Digits(5), ".jpg");
        break;
      case 2:
        p->photo = absl::StrCat("photo-", rng.Digits(6), ".png");
        break;
      default:
        p->photo = absl::StrCat("PX", rng.Digits(6), ".jpeg");
        break;
    }
    p->facility = FacilityName();
    p->clinic = FacilityName();
    p->domain = Domain(p->facility);
    const internal::City& cc = g.cities[g.city_weights.SampleIndex(rng)];
    p->clinic_street = Street();
    p->clinic_city = cc.name;
    p->clinic_state = cc.state;
    p->clinic_zip = ZipFor(p->clinic_state);
    p->clinic_phone = PhoneDigits();
    p->clinic_fax = PhoneDigits();
    const size_t nrel = 1 + rng.Below(3);
    for (size_t i = 0; i < nrel; ++i) {
      internal::Relative r;
      const size_t kind = rng.Below(5);
      r.p = MakePerson(kind < 2);
      if (kind >= 4) {
        r.role = rng.Pick(internal::kOtherRoles);
      } else {
        r.role = r.p.female ? rng.Pick(internal::kFemaleRoles) : rng.Pick(internal::kMaleRoles);
      }
      if (rng.Chance(0.6)) r.p.last = p->name.last;  // family surname
      r.age = rng.Chance(0.1) ? rng.Range(90, 102) : rng.Range(20, 85);
      r.phone = PhoneDigits();
      p->relatives.push_back(std::move(r));
    }
    for (int i = 0; i < 5; ++i) p->team.push_back(MakeClinician(p->domain));
    {
      std::string first = p->name.first, last = p->name.last;
      auto slug = [](const std::string& s) {
        std::string o;
        for (char c : s) {
          if (c >= 'A' && c <= 'Z') o.push_back(static_cast<char>(c + 32));
          if (c >= 'a' && c <= 'z') o.push_back(c);
        }
        return o;
      };
      switch (rng.Below(4)) {
        case 0:
          p->url = absl::StrCat("https://www.caringbridge.org/visit/", slug(first), slug(last));
          break;
        case 1:
          p->url = absl::StrCat("www.", slug(last), "family.net");
          break;
        case 2:
          p->url = absl::StrCat("https://gofundme.com/f/help-", slug(first), "-", slug(last));
          break;
        default:
          p->url = absl::StrCat("https://portal.", p->domain, "/u/", rng.Letters(3), rng.Digits(5));
          break;
      }
    }
    {
      // Email: from the name, ASCII letters only.
      std::string first, last;
      for (char c : p->name.first) {
        if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'))
          first.push_back(static_cast<char>(c | 0x20));
      }
      for (char c : p->name.last) {
        if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'))
          last.push_back(static_cast<char>(c | 0x20));
      }
      if (first.empty()) first = "pt";
      if (last.empty()) last = "mail";
      const std::string_view dom = rng.Pick(internal::kEmailDomains);
      switch (rng.Below(5)) {
        case 0:
          p->email = absl::StrCat(first, ".", last, "@", ToAbsl(dom));
          break;
        case 1:
          p->email = absl::StrCat(first.substr(0, 1), last, "@", ToAbsl(dom));
          break;
        case 2:
          p->email = absl::StrCat(first, last, rng.Range(1, 99), "@", ToAbsl(dom));
          break;
        case 3:
          p->email = absl::StrCat(first, "_", last, "@", ToAbsl(dom));
          break;
        default:
          p->email = absl::StrCat(last, ".", first, rng.Range(50, 99), "@", ToAbsl(dom));
          break;
      }
    }
    patient = std::move(p);
  }

  std::string FacilityName() {
    const internal::City& city = g.cities[g.city_weights.SampleIndex(rng)];
    switch (rng.Below(8)) {
      case 0:
        return absl::StrCat("St. ", ToAbsl(rng.Pick(internal::kSaints)), "'s Hospital");
      case 1:
        return absl::StrCat(city.name, " General Hospital");
      case 2:
        return absl::StrCat(city.name, " Medical Center");
      case 3:
        return absl::StrCat(ToAbsl(rng.Pick(internal::kNature)), " Health Center");
      case 4:
        return absl::StrCat(city.name, " Memorial Hospital");
      case 5:
        return absl::StrCat(ToAbsl(rng.Pick(internal::kNature)), " Medical Group");
      case 6:
        return absl::StrCat(g.surnames.Sample(rng), " Clinic");
      default:
        return absl::StrCat(city.name, " Regional Medical Center");
    }
  }

  Style PickStyle() {
    if (opts.style != Style::kMix) return opts.style;
    uint32_t total = 0;
    for (uint32_t w : kMixWeights) total += w;
    size_t x = rng.Below(total);
    for (size_t i = 0; i < kNumStyles; ++i) {
      if (x < kMixWeights[i]) return static_cast<Style>(i);
      x -= kMixWeights[i];
    }
    return Style::kIcu;
  }

  Note Next() {
    if (!patient || patient->notes_left <= 0) NewPatient();
    --patient->notes_left;
    Note note;
    note.id = absl::StrCat("synth-", opts.seed, "-", ++note_index);
    note.patient_id = patient->id;
    const Style style = PickStyle();
    note.style = std::string(StyleName(style));
    internal::NoteBuilder b(rng, g, opts, *patient);
    b.NextRelative();
    internal::WriteStyle(style, b);
    // Whole-note case: telegraphic notes are upper case, sloppy ones lower
    // case; a few notes of the other styles are shouted too.
    std::string& text = b.mutable_text();
    if (style == Style::kUpper || (style == Style::kIcu && rng.Chance(0.2)) ||
        (style != Style::kLower && style != Style::kUpper && rng.Chance(0.03))) {
      internal::Recase(text, 0, text.size(), true);
    } else if (style == Style::kLower || rng.Chance(0.02)) {
      internal::Recase(text, 0, text.size(), false);
    }
    b.Finish(&note);
    return note;
  }
};

Generator::Generator(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Generator::~Generator() = default;

Result<std::unique_ptr<Generator>> Generator::Create(const GeneratorOptions& options) {
  if (options.categories.empty()) {
    return absl::InvalidArgumentError("synth: the category set is empty");
  }
  if (!(options.invented_name_share >= 0.0 && options.invented_name_share <= 1.0)) {
    return absl::InvalidArgumentError("synth: invented_name_share must be in [0, 1]");
  }
  auto impl = std::make_unique<Impl>();
  impl->opts = options;
  PHIGATE_ASSIGN_OR_RETURN(impl->g, internal::LoadGazetteers(options.data_dir));
  impl->rng = Rng(options.seed);
  return std::unique_ptr<Generator>(new Generator(std::move(impl)));
}

Note Generator::Generate() { return impl_->Next(); }

std::vector<Note> Generator::GenerateMany(size_t n) {
  std::vector<Note> out;
  out.reserve(n);
  for (size_t i = 0; i < n; ++i) out.push_back(impl_->Next());
  return out;
}

const DataSources& Generator::data_sources() const { return impl_->g.sources; }

}  // namespace phigate::synth
