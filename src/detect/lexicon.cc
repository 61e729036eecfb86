#include "src/detect/lexicon.h"

#include <sys/mman.h>

#include <algorithm>
#include <array>
#include <bit>
#include <cctype>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>
#include <new>
#include <sstream>
#include <string>
#include <type_traits>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "phigate/core/byte_io.h"
#include "phigate/core/paths.h"

namespace phigate::detect {
namespace {

std::string Lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

std::string_view Trim(std::string_view s) {
  while (!s.empty() && (s.back() == '\r' || s.back() == ' ' || s.back() == '\t'))
    s.remove_suffix(1);
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  return s;
}

// The gazetteer files a lexicon is built from, in the order they are read.
constexpr const char* kSourceFiles[] = {"first_names.tsv",  "surnames.tsv",    "us_cities.tsv",
                                        "us_states.tsv",    "us_counties.tsv", "common_words.txt",
                                        "medical_words.txt"};

bool FileExists(const std::string& path) {
  std::ifstream in(path);
  return in.good();
}

// Built-in word lists: generic English and clinical vocabulary, not taken
// from any evaluation file.
constexpr std::string_view kTitles[] = {
    "dr",        "drs",   "doctor",    "mr",     "mrs",      "ms",   "miss",   "mister",
    "mx",        "prof",  "professor", "sr",     "sister",   "rev",  "father", "fr",
    "attending", "rabbi", "chaplain",  "pastor", "reverend", "imam", "deacon"};
// Police titles: "per Newark PD officer Liellys Carpenter", "Trooper Hale".
constexpr std::string_view kPoliceTitles[] = {"officer",   "deputy",   "trooper",
                                              "detective", "sergeant", "sgt"};
constexpr std::string_view kRelations[] = {
    "son",         "sons",        "daughter", "daughters", "dtr",       "dau",
    "wife",        "husband",     "hubby",    "spouse",    "brother",   "bro",
    "sister",      "sis",         "mother",   "mom",       "mum",       "father",
    "dad",         "friend",      "niece",    "nephew",    "grandson",  "granddaughter",
    "grandmother", "grandfather", "grandma",  "grandpa",   "aunt",      "uncle",
    "cousin",      "fiance",      "fiancee",  "partner",   "boyfriend", "girlfriend",
    "neighbor",    "neighbour",   "sil",      "dil",       "stepson",   "stepdaughter",
    "stepmother",  "stepfather",  "hcp",      "proxy",     "guardian",  "caregiver",
    "roommate",    "companion",   "inlaw",    "granddtr",  "gdtr",      "gson",
    "goddaughter", "godson",      "family",   "contact",   "pastor"};
constexpr std::string_view kCredentials[] = {
    "md",   "do",   "rn",       "rrt",    "crt",    "np",        "pa",  "pa-c", "lpn",
    "cna",  "msw",  "lcsw",     "licsw",  "pharmd", "rph",       "phd", "dds",  "dmd",
    "od",   "pt",   "dpt",      "ot",     "otr",    "slp",       "rd",  "ld",   "crna",
    "cnm",  "fnp",  "anp",      "aprn",   "dnp",    "bsn",       "msn", "mph",  "facs",
    "facc", "facp", "resident", "intern", "fellow", "attending", "sn",  "snf",  "cm"};
constexpr std::string_view kFacilityWords[] = {
    "hospital",       "hosp",       "clinic",     "clinics",
    "medical",        "center",     "centre",     "ctr",
    "health",         "healthcare", "nursing",    "rehab",
    "rehabilitation", "hospice",    "infirmary",  "sanatorium",
    "manor",          "assisted",   "living",     "care",
    "pavilion",       "institute",  "university", "univ",
    "memorial",       "regional",   "general",    "community",
    "county",         "children's", "va",         "vamc",
    "medctr",         "pediatrics", "practice",   "associates",
    "group",          "home",       "homes",      "residence",
    "village",        "lodge",      "gardens",    "place",
    "house",          "towers",     "court",      "commons",
    "family",         "skilled",    "facility"};
constexpr std::string_view kStop[] = {
    "a",        "an",        "the",       "and",       "or",         "but",       "nor",
    "of",       "in",        "on",        "at",        "to",         "from",      "by",
    "for",      "with",      "without",   "w/",        "w/o",        "s/p",       "as",
    "is",       "are",       "was",       "were",      "be",         "been",      "being",
    "has",      "have",      "had",       "do",        "does",       "did",       "will",
    "would",    "shall",     "should",    "can",       "could",      "may",       "might",
    "must",     "not",       "no",        "yes",       "this",       "that",      "these",
    "those",    "it",        "its",       "he",        "she",        "him",       "her",
    "his",      "hers",      "they",      "them",      "their",      "we",        "us",
    "our",      "you",       "your",      "i",         "me",         "my",        "who",
    "whom",     "whose",     "which",     "what",      "when",       "where",     "why",
    "how",      "all",       "any",       "some",      "each",       "every",     "both",
    "either",   "neither",   "other",     "another",   "such",       "than",      "then",
    "there",    "here",      "also",      "very",      "so",         "too",       "just",
    "only",     "about",     "above",     "after",     "again",      "against",   "before",
    "below",    "between",   "during",    "into",      "over",       "through",   "under",
    "until",    "up",        "down",      "out",       "off",        "per",       "via",
    "re",       "if",        "while",     "because",   "since",      "though",    "although",
    "well",     "now",       "today",     "tonight",   "tomorrow",   "yesterday", "am",
    "pm",       "noc",       "aware",     "called",    "notified",   "updated",   "informed",
    "said",     "states",    "stated",    "spoke",     "plan",       "pt",        "pts",
    "patient",  "patients",  "family",    "team",      "staff",      "nurse",     "rn",
    "md",       "dr",        "mr",        "mrs",       "ms",         "see",       "seen",
    "note",     "notes",     "none",      "new",       "old",        "yr",        "yo",
    "y/o",      "male",      "female",    "man",       "woman",      "lady",      "gentleman",
    "visit",    "visited",   "visiting",  "home",      "here",       "call",      "page",
    "paged",    "x",         "h/o",       "c/o",       "f/u",        "d/c",       "dc",
    "p",        "s",         "o",         "a",         "r",          "l",         "c",
    "t",        "ok",        "okay",      "alert",     "oriented",   "unit",      "floor",
    "room",     "bed",       "icu",       "micu",      "sicu",       "ccu",       "csru",
    "er",       "ed",        "or",        "pacu",      "tcu",        "rehab",     "vent",
    "cath",     "lab",       "labs",      "cxr",       "ct",         "mri",       "ekg",
    "ecg",      "echo",      "iv",        "ivf",       "po",         "prn",       "q",
    "bid",      "tid",       "qid",       "qd",        "qhs",        "hr",        "bp",
    "rr",       "sat",       "sats",      "temp",      "resp",       "neuro",     "cv",
    "gi",       "gu",        "id",        "skin",      "social",     "dispo",     "code",
    "full",     "dnr",       "dni",       "cmo",       "abg",        "ng",        "ngt",
    "ogt",      "peg",       "picc",      "ett",       "trach",      "foley",     "ns",
    "lr",       "d5w",       "kcl",       "mg",        "mcg",        "ml",        "cc",
    "hep",      "ins",       "ss",        "rss",       "fs",         "bs",        "bm",
    "uo",       "u/o",       "i&o",       "neg",       "pos",        "wnl",       "nad",
    "sob",      "doe",       "cp",        "n/v",       "abd",        "ext",       "pulses",
    "edema",    "mae",       "perrl",     "perrla",    "htn",        "dm",        "cad",
    "chf",      "copd",      "afib",      "mi",        "cabg",       "ptca",      "pe",
    "dvt",      "uti",       "pna",       "ards",      "osh",        "ew",        "sepsis",
    "arf",      "cri",       "esrd",      "hd",        "cvvh",       "cvvhd",     "tpn",
    "npo",      "ad",        "lib",       "tol",       "tolerating", "tolerated", "cont",
    "continue", "continues", "continued", "remains",   "received",   "recieved",  "given",
    "started",  "stopped",   "increased", "decreased", "weaned",     "placed",    "removed",
    "changed",  "sent",      "done",      "pending",   "ordered",    "awaiting",  "await",
    "will",     "wants",     "would",     "like",      "likes",      "needs",     "need",
    "able",     "unable",    "lue",       "rue",       "lle",        "rle",       "blocker",
    "liws",     "lcws",      "lis",       "lws",       "atl",        "riss",      "tyl",
    "ceo",      "most",      "many",      "several"};
// Contractions are function words too: "it's Mary. I've been", "Barbara I'm".
constexpr std::string_view kContractions[] = {
    "i'm",     "i've",    "i'll",   "i'd",    "we're",    "we've",    "we'll",    "we'd",
    "you're",  "you've",  "you'll", "you'd",  "they're",  "they've",  "they'll",  "they'd",
    "don't",   "doesn't", "didn't", "can't",  "won't",    "isn't",    "aren't",   "wasn't",
    "weren't", "haven't", "hasn't", "hadn't", "couldn't", "wouldn't", "shouldn't"};
// Clinical abbreviations and product names that the word lists hold only as
// names or places, or not at all: never a name alone, still one after a title
// ("Dr. Lima"). The left internal mammary artery; tube feeds; tracheostomy
// tubes; the catheter.
constexpr std::string_view kClinicalAbbreviations[] = {
    "lima",   "nepro",  "jevity", "osmolite", "glucerna", "peptamen", "vivonex", "pulmocare",
    "portex", "shiley", "bivona", "hickman",  "indep",    "mtg",      "mvc",     "npi"};
constexpr std::string_view kNameVerbs[] = {
    "per",       "with",         "w/",         "by",           "spoke",       "talked",
    "called",    "paged",        "page",       "notified",     "informed",    "updated",
    "discussed", "seen",         "evaluated",  "examined",     "consulted",   "told",
    "asked",     "contacted",    "message",    "messaged",     "emailed",     "phoned",
    "meet",      "met",          "visited",    "accompanied",  "signed",      "cosigned",
    "dictated",  "attending",    "resident",   "fellow",       "intern",      "pcp",
    "surgeon",   "cardiologist", "oncologist", "nephrologist", "neurologist", "psychiatrist",
    "therapist", "sw",           "cm",         "coordinator",  "chaplain",    "dear",
    "cc",        "to",           "from",       "aware",        "name",        "named",
    "patient",   "pt",           "mr",         "mrs",          "ms"};
// Languages, nationalities and demonyms: capitalised, but never a person or a place.
constexpr std::string_view kDemonyms[] = {
    "english",   "spanish",  "french",     "german",     "italian",    "russian",    "polish",
    "chinese",   "mandarin", "cantonese",  "japanese",   "korean",     "vietnamese", "arabic",
    "hindi",     "urdu",     "portuguese", "greek",      "haitian",    "creole",     "somali",
    "tagalog",   "hebrew",   "yiddish",    "american",   "african",    "asian",      "hispanic",
    "latino",    "latina",   "caucasian",  "european",   "jewish",     "catholic",   "christian",
    "muslim",    "baptist",  "methodist",  "lutheran",   "irish",      "scottish",   "british",
    "canadian",  "mexican",  "cuban",      "indian",     "persian",    "farsi",      "turkish",
    "ukrainian", "albanian", "amharic",    "swahili",    "bengali",    "punjabi",    "iranian",
    "iraqi",     "afghan",   "armenian",   "brazilian",  "cambodian",  "khmer",      "dominican",
    "ethiopian", "eritrean", "filipino",   "ghanaian",   "guatemalan", "jamaican",   "laotian",
    "lebanese",  "nigerian", "pakistani",  "salvadoran", "syrian",     "thai",       "egyptian",
    "israeli",   "kenyan",   "colombian",  "peruvian",   "venezuelan", "dutch",      "swedish",
    "norwegian", "danish",   "finnish",    "hungarian",  "czech",      "romanian",   "bulgarian",
    "serbian",   "croatian", "bosnian",    "nepali",     "hmong",      "burmese",    "tamil",
    "gujarati",  "navajo"};
// Auxiliaries and verbs of telling and doing: after a capitalised word at a
// sentence start they make it the sentence's subject ("Menoo Cope is ...").
constexpr std::string_view kSubjectVerbs[] = {
    "is",    "was",   "will",  "has",    "had",   "can",   "could", "would", "should", "may",
    "might", "does",  "did",   "says",   "said",  "spent", "began", "went",  "came",   "called",
    "told",  "asked", "wants", "wanted", "lives", "lived", "works", "worked"};
// Clinical section labels: the first word after "Skin:" opens a sentence.
constexpr std::string_view kSectionHeaders[] = {
    "plan",  "skin",     "heme",       "renal",      "gi",         "gu",       "cv",      "resp",
    "neuro", "id",       "integument", "allergies",  "assessment", "a",        "p",       "o",
    "pmh",   "hpi",      "meds",       "labs",       "ros",        "endo",     "access",  "pulm",
    "pain",  "activity", "wound",      "diet",       "nutrition",  "fen",      "cardiac", "lungs",
    "abd",   "ext",      "psych",      "impression", "dispo",      "addendum", "ms",      "mental"};
constexpr NonPhiPhrase kNonPhiPhrases[] = {
    // Payers (health plans): organisation names, not the patient's plan number.
    {"blue cross blue shield", NonPhiPhrase::kAlways, false},
    {"blue cross", NonPhiPhrase::kAlways, false},
    {"blue shield", NonPhiPhrase::kAlways, false},
    {"bcbs", NonPhiPhrase::kAlways, false},
    {"kaiser permanente", NonPhiPhrase::kAlways, false},
    {"harvard pilgrim", NonPhiPhrase::kAlways, false},
    {"tufts health plan", NonPhiPhrase::kAlways, false},
    {"united healthcare", NonPhiPhrase::kAlways, false},
    {"unitedhealthcare", NonPhiPhrase::kAlways, false},
    {"medicare advantage", NonPhiPhrase::kAlways, false},
    {"medicare", NonPhiPhrase::kAlways, false},
    {"medicaid", NonPhiPhrase::kAlways, false},
    {"masshealth", NonPhiPhrase::kAlways, false},
    {"tricare", NonPhiPhrase::kAlways, false},
    {"aetna", NonPhiPhrase::kAlways, false},
    {"cigna", NonPhiPhrase::kAlways, false},
    {"humana", NonPhiPhrase::kAlways, false},
    {"wellcare", NonPhiPhrase::kAlways, false},
    {"amerigroup", NonPhiPhrase::kAlways, false},
    {"caresource", NonPhiPhrase::kAlways, false},
    {"molina", NonPhiPhrase::kAfterCue, false},  // also a surname
    {"anthem", NonPhiPhrase::kAfterCue, false},
    {"kaiser", NonPhiPhrase::kAfterCue, false},
    // Vehicle makes (the VIN and the plate are the identifiers).
    {"toyota", NonPhiPhrase::kAlways, true},
    {"honda", NonPhiPhrase::kAlways, true},
    {"nissan", NonPhiPhrase::kAlways, true},
    {"hyundai", NonPhiPhrase::kAlways, true},
    {"chevy", NonPhiPhrase::kAlways, true},
    {"chevrolet", NonPhiPhrase::kAlways, true},
    {"volkswagen", NonPhiPhrase::kAlways, true},
    {"vw", NonPhiPhrase::kAlways, true},
    {"kia", NonPhiPhrase::kAlways, true},
    {"subaru", NonPhiPhrase::kAlways, true},
    {"mazda", NonPhiPhrase::kAlways, true},
    {"lexus", NonPhiPhrase::kAlways, true},
    {"jeep", NonPhiPhrase::kAlways, true},
    {"tesla", NonPhiPhrase::kAlways, true},
    {"acura", NonPhiPhrase::kAlways, true},
    {"infiniti", NonPhiPhrase::kAlways, true},
    {"mitsubishi", NonPhiPhrase::kAlways, true},
    {"ford", NonPhiPhrase::kAfterCue, true},  // also names and places
    {"dodge", NonPhiPhrase::kAfterCue, true},
    {"buick", NonPhiPhrase::kAfterCue, true},
    // Clinical scales named after a place.
    {"glasgow coma scale", NonPhiPhrase::kAlways, false},
    {"glasgow coma score", NonPhiPhrase::kAlways, false},
    {"glasgow coma", NonPhiPhrase::kAlways, false},
};
constexpr std::pair<std::string_view, uint32_t> kCueWords[] = {
    {"and", kLexAnd},
    {"&", kLexAnd},
    {"university", kLexUniversity},
    {"univ", kLexUniversity},
    {"u", kLexUniversity},
    {"uof", kLexUniversity},
    {"st", kLexSaint},
    {"saint", kLexSaint},
    {"hospital", kLexFacilityHead},
    {"regional", kLexFacilityHead},
    {"hosp", kLexFacilityHead},
    {"clinic", kLexFacilityHead},
    {"rehab", kLexFacilityHead},
    {"hospice", kLexFacilityHead},
    {"infirmary", kLexFacilityHead},
    {"manor", kLexFacilityHead},
    {"center", kLexFacilityHead},
    {"centre", kLexFacilityHead},
    {"ctr", kLexFacilityHead},
    {"home", kLexFacilityHead | kLexWeakHead},
    {"living", kLexFacilityHead | kLexWeakHead},
    {"institute", kLexFacilityHead},
    {"practice", kLexFacilityHead | kLexWeakHead},  // "Family Practice"
    {"group", kLexFacilityHead | kLexWeakHead},     // "Medical Group"
    {"facility", kLexFacilityHead | kLexWeakHead},  // "Skilled Nursing Facility"
    {"lives", kLexResideVerb},
    {"lived", kLexResideVerb},
    {"resides", kLexResideVerb},
    {"living", kLexResideVerb},
    {"moved", kLexResideVerb},
    {"relocated", kLexResideVerb},
    {"vacationing", kLexResideVerb},
    {"traveling", kLexResideVerb},
    {"travelling", kLexResideVerb},
    {"called", kLexWardVerb},
    {"calls", kLexWardVerb},
    {"visited", kLexWardVerb},
    {"visits", kLexWardVerb},
    {"phoned", kLexWardVerb},
    {"states", kLexWardVerb},
    {"stated", kLexWardVerb},
    {"said", kLexWardVerb},
    {"aware", kLexWardVerb},
    {"notified", kLexWardVerb},
    {"tolerated", kLexWardVerb},
    {"remains", kLexWardVerb},
    {"seen", kLexWardVerb},
    {"on", kLexWardCue},
    {"per", kLexWardCue},
    {"transfer", kLexWardCue},
    {"transferred", kLexWardCue},
    {"plan", kLexWardCue},
    {"admitted", kLexWardCue},
    {"or", kLexWardCue},
    {"rn", kLexStrongCred | kLexCredTitle},
    {"rrt", kLexStrongCred | kLexCredTitle},
    {"md", kLexStrongCred | kLexCredTitle},
    {"np", kLexStrongCred | kLexCredTitle},
    {"crt", kLexStrongCred},
    {"pa-c", kLexStrongCred},
    {"lpn", kLexStrongCred},
    {"msw", kLexStrongCred},
    {"lcsw", kLexStrongCred},
    {"licsw", kLexStrongCred},
    {"crna", kLexStrongCred},
    {"pharmd", kLexStrongCred},
    {"phd", kLexStrongCred},
    {"resident", kLexStrongCred},
    {"cna", kLexStrongCred}};
constexpr std::string_view kLocPreps[] = {"in",      "from",   "to",      "at",  "near", "into",
                                          "outside", "toward", "towards", "via", "of"};
constexpr std::string_view kMonths[] = {
    "january",   "february", "march",    "april",    "may",  "june", "july", "august",
    "september", "october",  "november", "december", "jan",  "feb",  "mar",  "apr",
    "jun",       "jul",      "aug",      "sep",      "sept", "oct",  "nov",  "dec"};
constexpr std::string_view kWeekdays[] = {
    "monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday", "mon", "tue",
    "tues",   "wed",     "thu",       "thur",     "thurs",  "fri",      "sat",    "sun"};
constexpr std::string_view kStreetSuffixes[] = {
    "street",  "st",    "avenue", "ave",     "road",  "rd",      "boulevard", "blvd",    "lane",
    "ln",      "drive", "dr",     "court",   "ct",    "circle",  "cir",       "place",   "pl",
    "terrace", "ter",   "way",    "parkway", "pkwy",  "highway", "hwy",       "route",   "rte",
    "square",  "sq",    "trail",  "trl",     "alley", "plaza",   "pike",      "turnpike"};

// Stable LSD radix sort of (hash, id) pairs on the 64-bit hash, 16 bits a pass.
template <class Vec>
void RadixSortByHash(Vec* v) {
  constexpr int kPasses = 4;
  constexpr size_t kBuckets = size_t{1} << 16;
  std::vector<std::array<uint32_t, kBuckets>> counts(kPasses);
  for (auto& c : counts) c.fill(0);
  for (const auto& e : *v) {
    for (int p = 0; p < kPasses; ++p) ++counts[p][(e.first >> (16 * p)) & 0xFFFF];
  }
  Vec tmp(v->size());
  for (int p = 0; p < kPasses; ++p) {
    uint32_t sum = 0;
    for (uint32_t& c : counts[p]) {
      const uint32_t n = c;
      c = sum;
      sum += n;
    }
    for (const auto& e : *v) tmp[counts[p][(e.first >> (16 * p)) & 0xFFFF]++] = e;
    v->swap(tmp);
  }
}

}  // namespace

bool IsFrameWord(std::string_view lower_word) {
  static const absl::flat_hash_set<std::string_view>* const kWords = [] {
    auto* set = new absl::flat_hash_set<std::string_view>();
    for (auto list :
         {std::span<const std::string_view>(kTitles),
          std::span<const std::string_view>(kPoliceTitles),
          std::span<const std::string_view>(kRelations),
          std::span<const std::string_view>(kCredentials),
          std::span<const std::string_view>(kFacilityWords),
          std::span<const std::string_view>(kStop), std::span<const std::string_view>(kMonths),
          std::span<const std::string_view>(kWeekdays),
          std::span<const std::string_view>(kStreetSuffixes)}) {
      set->insert(list.begin(), list.end());
    }
    return set;
  }();
  return kWords->contains(lower_word);
}

bool IsFacilityWord(std::string_view lower_word) {
  return std::find(std::begin(kFacilityWords), std::end(kFacilityWords), lower_word) !=
         std::end(kFacilityWords);
}

void* AllocateHuge(size_t bytes) {
  void* p = std::aligned_alloc(size_t{2} << 20, bytes);
  if (p == nullptr) throw std::bad_alloc();
  madvise(p, bytes, MADV_HUGEPAGE);  // a hint: without huge pages it is only slower
  return p;
}

void Lexicon::Add(std::string_view lower, uint32_t flags, float first_w, float last_w) {
  LexEntry& e = words_[ToAbsl(lower)];
  e.flags |= flags;
  e.first_weight = std::max(e.first_weight, first_w);
  e.last_weight = std::max(e.last_weight, last_w);
}

std::span<const NonPhiPhrase> NonPhiPhrases() { return kNonPhiPhrases; }

void Lexicon::AddBuiltins() {
  for (auto w : kTitles) Add(w, kLexTitle, 0, 0);
  for (auto w : kPoliceTitles) Add(w, kLexTitle, 0, 0);
  for (auto w : kRelations) Add(w, kLexRelation, 0, 0);
  for (auto w : kCredentials) Add(w, kLexCredential, 0, 0);
  for (auto w : kFacilityWords) Add(w, kLexFacility, 0, 0);
  for (auto w : kStop) Add(w, kLexStop, 0, 0);
  for (auto w : kContractions) Add(w, kLexStop, 0, 0);
  // "w/" (with) is the word "w" to the tokenizer: "lives in alpine w/ father".
  Add("w", kLexStop, 0, 0);
  for (auto w : kNameVerbs) Add(w, kLexNameVerb, 0, 0);
  for (auto w : kLocPreps) Add(w, kLexLocPrep, 0, 0);
  for (auto w : kDemonyms) Add(w, kLexCommon, 0, 0);
  for (auto [w, flag] : kCueWords) Add(w, flag, 0, 0);
  for (auto w : kSubjectVerbs) Add(w, kLexSubjectVerb, 0, 0);
  for (auto w : kSectionHeaders) Add(w, kLexSectionHeader, 0, 0);
  for (const NonPhiPhrase& p : kNonPhiPhrases) {
    Add(p.words.substr(0, p.words.find(' ')), kLexPhraseStart, 0, 0);
  }
  for (auto w : kMonths) Add(w, kLexMonth, 0, 0);
  for (auto w : kWeekdays) Add(w, kLexWeekday, 0, 0);
  for (auto w : kStreetSuffixes) Add(w, kLexStreetSuffix, 0, 0);
  for (auto w : kClinicalAbbreviations) Add(w, kLexClinical, 0, 0);
}

bool Lexicon::IsClinicalPrefix(std::string_view lower) const {
  auto it = std::lower_bound(clinical_sorted_.begin(), clinical_sorted_.end(), lower,
                             [](const std::string& a, std::string_view b) { return a < b; });
  return it != clinical_sorted_.end() && it->size() >= lower.size() + 2 &&
         std::string_view(*it).substr(0, lower.size()) == lower;
}

bool Lexicon::IsCityPrefix(std::string_view lower) const {
  auto it = std::lower_bound(cities_sorted_.begin(), cities_sorted_.end(), lower,
                             [](const std::string& a, std::string_view b) { return a < b; });
  for (; it != cities_sorted_.end() && std::string_view(*it).substr(0, lower.size()) == lower;
       ++it) {
    if (it->size() >= lower.size() + 2) return true;
  }
  return false;
}

Edit SingleEdit(std::string_view q, std::string_view w) {
  auto one_deleted = [](std::string_view shorter, std::string_view longer) {
    size_t i = 0;
    while (i < shorter.size() && shorter[i] == longer[i]) ++i;
    return shorter.substr(i) == longer.substr(i + 1);
  };
  if (q.size() + 1 == w.size()) return one_deleted(q, w) ? Edit::kDelete : Edit::kNone;
  if (q.size() == w.size() + 1) return one_deleted(w, q) ? Edit::kInsert : Edit::kNone;
  if (q.size() != w.size()) return Edit::kNone;
  size_t i = 0;
  while (i < q.size() && q[i] == w[i]) ++i;
  if (i == q.size()) return Edit::kNone;  // equal
  if (q.substr(i + 1) == w.substr(i + 1)) return Edit::kSubstitute;
  if (i + 1 < q.size() && q[i] == w[i + 1] && q[i + 1] == w[i] &&
      q.substr(i + 2) == w.substr(i + 2))
    return Edit::kTranspose;
  return Edit::kNone;
}

bool Lexicon::IsNearVocabulary(std::string_view lower, bool shorter) const {
  // Short words are too often a real name one letter away from a word
  // ("Pallin", "Jourkdale"): swapped letters count from 6
  // letters, dropped letters from 7, added letters from 8, substituted ones
  // from 9 and never the last letter ("Australia": endings vary). `shorter`
  // (where the context already doubts a name) lowers each by one.
  const size_t d = shorter ? 1 : 0;
  const size_t kMinTranspose = 6 - d, kMinDelete = 7 - d, kMinInsert = 8 - d,
               kMinSubstitute = 9 - d;
  if (lower.size() < kMinTranspose || lower.size() > 40 || deletes_.empty()) return false;
  auto probe = [&](std::string_view v) {
    const uint64_t h = Hash(v);
    const uint64_t bit = (h * 0x9E3779B97F4A7C15ull) >> delete_filter_shift_;
    if (((delete_filter_[bit >> 6] >> (bit & 63)) & 1) == 0) return false;
    auto it = std::lower_bound(deletes_.begin(), deletes_.end(), std::make_pair(h, uint32_t{0}));
    for (; it != deletes_.end() && it->first == h; ++it) {
      const std::string& w = vocab_[it->second];
      switch (SingleEdit(lower, w)) {
        case Edit::kTranspose:
          return true;
        case Edit::kDelete:
          // A proper word minus its last letter is often a related place
          // ("Australia" from "Australian"), not a typo.
          if (lower.size() >= kMinDelete &&
              !(vocab_proper_[it->second] && w.compare(0, lower.size(), lower) == 0)) {
            return true;
          }
          break;
        case Edit::kInsert:
          if (lower.size() >= kMinInsert) return true;
          break;
        case Edit::kSubstitute:
          if (lower.size() >= kMinSubstitute && lower.back() == w.back()) return true;
          break;
        case Edit::kNone:
          break;
      }
    }
    return false;
  };
  // The query among the words' one-letter deletions (a dropped letter), and the
  // query's deletions among the words and their deletions (the other edits).
  if (probe(lower)) return true;
  std::string v;
  for (size_t i = 0; i < lower.size(); ++i) {
    if (i > 0 && lower[i] == lower[i - 1]) continue;  // same string as the previous deletion
    v.assign(lower.substr(0, i));
    v.append(lower.substr(i + 1));
    if (probe(v)) return true;
  }
  return false;
}

void Lexicon::Freeze() {
  // One pass over the words fills the lookup table, the sorted clinical words
  // and towns, and the delete index over common and clinical words (5+
  // letters; apostrophes and hyphens kept as letters) that no name or place
  // list holds.
  vocab_.clear();
  vocab_proper_.clear();
  deletes_.clear();
  clinical_sorted_.clear();
  cities_sorted_.clear();
  size_t cap = 16;
  while (cap < words_.size() * 2) cap <<= 1;
  table_.assign(cap, Slot{});
  mask_ = cap - 1;
  arena_.clear();
  // In the order of (hash, word), not the map's (which changes from process
  // to process): the same sources give the same table, vocabulary ids and
  // snapshot bytes. (Sorting on the hash first reads the words only on the
  // rare equal hashes: word order alone cost ~0.1 s more.)
  struct Item {
    uint64_t hash;
    const std::pair<const std::string, LexEntry>* kv;
  };
  std::vector<Item> order;
  order.reserve(words_.size());
  for (const auto& kv : words_) order.push_back({Hash(kv.first), &kv});
  std::sort(order.begin(), order.end(), [](const Item& a, const Item& b) {
    return a.hash != b.hash ? a.hash < b.hash : a.kv->first < b.kv->first;
  });
  for (const Item& item : order) {
    const std::string& word = item.kv->first;
    const LexEntry& entry = item.kv->second;
    if ((entry.flags & kLexClinical) && !(entry.flags & (kLexFirstName | kLexSurname))) {
      clinical_sorted_.push_back(word);
    }
    if (entry.flags & kLexCity) cities_sorted_.push_back(word);
    const uint64_t h = item.hash;
    if (!word.empty() && word.size() <= 0xFFFF) {
      size_t i = h & mask_;
      while (table_[i].len != 0) i = (i + 1) & mask_;
      Slot& s = table_[i];
      s.hash = h;
      s.entry = entry;
      s.len = static_cast<uint16_t>(word.size());
      if (word.size() <= kInline) {
        word.copy(s.chars, word.size());
      } else {
        const auto offset = static_cast<uint32_t>(arena_.size());
        __builtin_memcpy(s.chars, &offset, sizeof offset);
        arena_ += word;
      }
    }
    const bool vocab = (entry.flags & (kLexCommon | kLexClinical)) != 0;
    if (!vocab || word.size() < 5 || word.size() > 41 ||
        (entry.flags &
         (kLexFirstName | kLexSurname | kLexCity | kLexCityStart | kLexState | kLexCounty))) {
      continue;
    }
    const auto id = static_cast<uint32_t>(vocab_.size());
    vocab_.push_back(word);
    vocab_proper_.push_back((entry.flags & kLexProperVocab) && !(entry.flags & kLexCommon));
    deletes_.emplace_back(h, id);
    // Hash(word without word[i]) without building that string: FNV-1a is a
    // left fold, so it continues from the hash of word[0, i) over word[i+1, ...).
    uint64_t prefix = kHashSeed;
    for (size_t i = 0; i < word.size(); ++i) {
      if (i == 0 || word[i] != word[i - 1]) {  // else the same string as the previous deletion
        uint64_t d = prefix;
        for (size_t k = i + 1; k < word.size(); ++k) {
          d = HashStep(d, static_cast<unsigned char>(word[k]));
        }
        deletes_.emplace_back(d, id);
      }
      prefix = HashStep(prefix, static_cast<unsigned char>(word[i]));
    }
  }
  std::sort(clinical_sorted_.begin(), clinical_sorted_.end());
  std::sort(cities_sorted_.begin(), cities_sorted_.end());
  // Sorted by (hash, id): the ids were appended in increasing order, so a
  // stable radix sort on the hash alone gives std::sort's order (~4x faster at
  // start-up on ~1.4 M entries).
  RadixSortByHash(&deletes_);
  deletes_.erase(std::unique(deletes_.begin(), deletes_.end()), deletes_.end());
  int bits = 6;
  while ((size_t{1} << bits) < deletes_.size() * 16) ++bits;
  delete_filter_.assign((size_t{1} << bits) / 64, 0);
  delete_filter_shift_ = 64 - bits;
  for (const auto& [h, id] : deletes_) {
    const uint64_t bit = (h * 0x9E3779B97F4A7C15ull) >> delete_filter_shift_;
    delete_filter_[bit >> 6] |= uint64_t{1} << (bit & 63);
  }
}

Status Lexicon::LoadNames(const std::string& path, bool first) {
  std::ifstream in(path);
  if (!in) return absl::NotFoundError(absl::StrCat("cannot read gazetteer ", path));
  std::string line;
  std::vector<std::pair<std::string, double>> rows;
  double max_count = 1;
  size_t lineno = 0;
  while (std::getline(in, line)) {
    ++lineno;
    std::string_view l = Trim(line);
    if (l.empty() || l[0] == '#') continue;
    std::vector<absl::string_view> cols = absl::StrSplit(ToAbsl(l), '\t');
    double count = 1;
    if (cols.size() >= 2) {
      try {
        count = std::stod(std::string(cols[1]));
      } catch (...) {
        return absl::InvalidArgumentError(absl::StrCat(path, ":", lineno, ": bad weight"));
      }
    }
    max_count = std::max(max_count, count);
    rows.emplace_back(Lower(FromAbsl(cols[0])), count);
  }
  const double denom = std::log1p(max_count);
  for (auto& [name, count] : rows) {
    const float w = static_cast<float>(std::log1p(count) / denom);
    Add(name, first ? kLexFirstName : kLexSurname, first ? w : 0.f, first ? 0.f : w);
  }
  return absl::OkStatus();
}

Status Lexicon::LoadCities(const std::string& path) {
  std::ifstream in(path);
  if (!in) return absl::NotFoundError(absl::StrCat("cannot read gazetteer ", path));
  std::string line;
  while (std::getline(in, line)) {
    std::string_view l = Trim(line);
    if (l.empty() || l[0] == '#') continue;
    std::vector<absl::string_view> cols = absl::StrSplit(ToAbsl(l), '\t');
    const std::string city = Lower(FromAbsl(cols[0]));
    if (city.empty()) continue;
    const size_t sp = city.find(' ');
    if (sp == std::string::npos) {
      Add(city, kLexCity, 0, 0);
    } else {
      multi_cities_.insert(city);
      Add(std::string_view(city).substr(0, sp), kLexCityStart, 0, 0);
    }
  }
  return absl::OkStatus();
}

Status Lexicon::LoadWords(const std::string& path, uint32_t flag) {
  std::ifstream in(path);
  if (!in) return absl::NotFoundError(absl::StrCat("cannot read gazetteer ", path));
  std::string line;
  while (std::getline(in, line)) {
    std::string_view l = Trim(line);
    if (l.empty() || l[0] == '#') continue;
    std::vector<absl::string_view> cols = absl::StrSplit(ToAbsl(l), '\t');
    std::string w = Lower(FromAbsl(cols[0]));
    if (flag == kLexState && cols.size() >= 2) Add(Lower(FromAbsl(cols[1])), flag, 0, 0);
    if (w.find(' ') != std::string::npos) {
      if (flag == kLexState || flag == kLexCounty) {
        multi_cities_.insert(w);
        Add(std::string_view(w).substr(0, w.find(' ')), kLexCityStart, 0, 0);
      }
      continue;
    }
    const bool proper = flag == kLexClinical && cols.size() >= 2 && cols[1] == "proper";
    Add(w, proper ? flag | kLexProperVocab : flag, 0, 0);
  }
  return absl::OkStatus();
}

Result<std::unique_ptr<Lexicon>> Lexicon::Build(const std::string& data_dir) {
  auto lex = std::unique_ptr<Lexicon>(new Lexicon());
  const std::string dir = data_dir + "/gazetteers";
  if (!FileExists(dir + "/first_names.tsv") || !FileExists(dir + "/surnames.tsv")) {
    return absl::NotFoundError(
        absl::StrCat("gazetteers not found in ", dir, " (expected first_names.tsv, surnames.tsv)"));
  }
  // About one word per 10 bytes of list: reserved once instead of rehashing
  // the map (and faulting in each new array) as it grows.
  size_t list_bytes = 0;
  for (const char* f : kSourceFiles) {
    std::error_code ec;
    const auto n = std::filesystem::file_size(dir + "/" + f, ec);
    if (!ec) list_bytes += static_cast<size_t>(n);
  }
  lex->words_.reserve(list_bytes / 10);
  lex->AddBuiltins();
  PHIGATE_RETURN_IF_ERROR(lex->LoadNames(dir + "/first_names.tsv", true));
  PHIGATE_RETURN_IF_ERROR(lex->LoadNames(dir + "/surnames.tsv", false));
  if (FileExists(dir + "/us_cities.tsv"))
    PHIGATE_RETURN_IF_ERROR(lex->LoadCities(dir + "/us_cities.tsv"));
  if (FileExists(dir + "/us_states.tsv")) {
    PHIGATE_RETURN_IF_ERROR(lex->LoadWords(dir + "/us_states.tsv", kLexState));
  }
  if (FileExists(dir + "/us_counties.tsv")) {
    PHIGATE_RETURN_IF_ERROR(lex->LoadWords(dir + "/us_counties.tsv", kLexCounty));
  }
  if (FileExists(dir + "/common_words.txt")) {
    PHIGATE_RETURN_IF_ERROR(lex->LoadWords(dir + "/common_words.txt", kLexCommon));
  }
  if (FileExists(dir + "/medical_words.txt")) {
    PHIGATE_RETURN_IF_ERROR(lex->LoadWords(dir + "/medical_words.txt", kLexClinical));
  }
  lex->Freeze();
  lex->size_ = lex->words_.size();
  lex->version_ = absl::StrCat("lexicon:", lex->size_, "w:", lex->multi_cities_.size(), "mc");
  // The frozen table, sorted lists and delete index hold everything lookups
  // need; the build map (~500 k strings) would only hold memory.
  absl::flat_hash_map<std::string, LexEntry>().swap(lex->words_);
  return lex;
}

// ---- Snapshot ----
//
// kSnapshotMagic, the source digest, the payload's length, the payload, a
// checksum of the payload; integers 8-byte little-endian (a snapshot is made
// and read by one build on one kind of machine), strings length-prefixed.
// Payload: mask, size, version; the table's slots as they lie in memory; the
// arena; the sorted clinical words and towns; the vocabulary and its proper
// flags; the delete index (hash, id); the delete filter and its shift; the
// multi-word places, sorted.

namespace {

constexpr std::string_view kSnapshotMagic = "phigate-lexicon-snapshot-1\n";

static_assert(std::endian::native == std::endian::little, "snapshots are little-endian");

// Four independent multiply-rotate lanes over 8-byte words, then the tail:
// a few milliseconds over a whole snapshot, and any changed byte changes it.
uint64_t Checksum(std::string_view bytes) {
  uint64_t lane[4] = {0x9E3779B97F4A7C15ull, 0xC2B2AE3D27D4EB4Full, 0x165667B19E3779F9ull,
                      0x27D4EB2F165667C5ull};
  size_t i = 0;
  for (; i + 32 <= bytes.size(); i += 32) {
    for (int k = 0; k < 4; ++k) {
      uint64_t w;
      std::memcpy(&w, bytes.data() + i + 8 * k, 8);
      lane[k] = std::rotl((lane[k] ^ w) * 0x9FB21C651E98DF25ull, 29);
    }
  }
  uint64_t h = bytes.size();
  for (int k = 0; k < 4; ++k) h = std::rotl((h ^ lane[k]) * 0x9FB21C651E98DF25ull, 31);
  for (; i < bytes.size(); ++i) h = (h ^ static_cast<unsigned char>(bytes[i])) * 0x100000001b3ull;
  return h ^ (h >> 32);
}

// The snapshot's encoding: core/byte_io.h's little-endian integers and
// 8-byte-length-prefixed strings, and the table's slots as their bytes.
class Writer {
 public:
  void U64(uint64_t v) { PutLe<uint64_t>(&out_, v); }
  void Raw(const void* p, size_t n) { out_.append(static_cast<const char*>(p), n); }
  void Str(std::string_view v) { PutLengthPrefixed<uint64_t>(&out_, v); }
  template <class Strings>
  void Strs(const Strings& v) {
    U64(v.size());
    for (const auto& e : v) Str(e);
  }
  std::string& bytes() { return out_; }

 private:
  std::string out_;
};

// Reads what Writer wrote, returning values: a read that fails returns an
// empty value and leaves ok() false from then on (ByteReader is sticky), so
// a group of reads is checked once.
class Reader {
 public:
  explicit Reader(std::string_view in) : in_(in) {}
  bool ok() const { return in_.ok(); }
  bool done() const { return in_.done(); }
  uint64_t U64() {
    uint64_t v = 0;
    in_.Get(&v);
    return v;
  }
  void Raw(void* p, size_t n) {
    std::string_view b;
    if (in_.Bytes(n, &b)) std::memcpy(p, b.data(), n);
  }
  // A count of items of at least `min_item` bytes each (ByteReader::Count).
  size_t Count(size_t min_item) {
    size_t n = 0;
    in_.Count<uint64_t>(min_item, &n);
    return n;
  }
  std::string_view Str() {
    std::string_view v;
    in_.LengthPrefixed<uint64_t>(&v);
    return v;
  }
  std::vector<std::string> Strs() {
    std::vector<std::string> v(Count(8));
    for (std::string& e : v) e = std::string(Str());
    return v;
  }

 private:
  ByteReader in_;
};

}  // namespace

Result<std::string> Lexicon::SourceDigest(const std::string& data_dir) {
  const std::string dir = data_dir + "/gazetteers";
  std::string all(kSnapshotMagic);
  for (const char* f : kSourceFiles) {
    const std::string path = dir + "/" + f;
    absl::StrAppend(&all, f, "\n");
    std::ifstream in(path, std::ios::binary);
    if (!in) {
      if (std::string_view(f) == "first_names.tsv" || std::string_view(f) == "surnames.tsv") {
        return absl::NotFoundError(absl::StrCat("cannot read gazetteer ", path));
      }
      all += "absent\n";
      continue;
    }
    std::ostringstream ss;
    ss << in.rdbuf();
    const std::string bytes = std::move(ss).str();
    absl::StrAppend(&all, bytes.size(), "\n", bytes);
  }
  // The built-in lists, as AddBuiltins() enters them.
  Lexicon builtins;
  builtins.AddBuiltins();
  std::vector<std::pair<std::string, uint32_t>> words;
  words.reserve(builtins.words_.size());
  for (const auto& [w, e] : builtins.words_) words.emplace_back(w, e.flags);
  std::sort(words.begin(), words.end());
  for (const auto& [w, flags] : words) absl::StrAppend(&all, w, "\t", flags, "\n");
  // Two seeds of the payload checksum: a 128-bit fingerprint, not a
  // cryptographic digest (it tells changed sources from the snapshot's; the
  // snapshot is a build product, trusted like the binary).
  return absl::StrCat(absl::Hex(Checksum(all), absl::kZeroPad16),
                      absl::Hex(Checksum(absl::StrCat("1", all)), absl::kZeroPad16));
}

std::string Lexicon::Snapshot(std::string_view source_digest) const {
  static_assert(std::is_trivially_copyable_v<Slot>);
  Writer p;
  p.U64(mask_);
  p.U64(size_);
  p.Str(version_);
  p.U64(table_.size());
  p.Raw(table_.data(), table_.size() * sizeof(Slot));
  p.Str(arena_);
  p.Strs(clinical_sorted_);
  p.Strs(cities_sorted_);
  p.Strs(vocab_);
  for (const bool b : vocab_proper_) p.bytes().push_back(b ? '\1' : '\0');
  p.U64(deletes_.size());
  for (const auto& [h, id] : deletes_) {
    p.U64(h);
    p.Raw(&id, sizeof id);
  }
  p.U64(static_cast<uint64_t>(delete_filter_shift_));
  p.U64(delete_filter_.size());
  p.Raw(delete_filter_.data(), delete_filter_.size() * sizeof(uint64_t));
  std::vector<std::string> multi(multi_cities_.begin(), multi_cities_.end());
  std::sort(multi.begin(), multi.end());
  p.Strs(multi);

  return internal::FrameSnapshot(p.bytes(), source_digest);
}

std::string internal::FrameSnapshot(std::string_view payload, std::string_view source_digest) {
  Writer out;
  out.Raw(kSnapshotMagic.data(), kSnapshotMagic.size());
  out.Str(source_digest);
  out.Str(payload);
  out.U64(Checksum(payload));
  return std::move(out.bytes());
}

Result<std::unique_ptr<Lexicon>> Lexicon::FromSnapshot(std::string_view bytes,
                                                       std::string_view source_digest) {
  auto damaged = [](const char* what) {
    return absl::InvalidArgumentError(absl::StrCat("lexicon snapshot is damaged: ", what));
  };
  if (bytes.substr(0, kSnapshotMagic.size()) != kSnapshotMagic) {
    return absl::InvalidArgumentError("not a lexicon snapshot of this format");
  }
  Reader outer(bytes.substr(kSnapshotMagic.size()));
  const std::string_view digest = outer.Str();
  if (outer.ok() && digest != source_digest) {
    return absl::InvalidArgumentError("lexicon snapshot was made from other gazetteers");
  }
  const std::string_view payload = outer.Str();
  const uint64_t checksum = outer.U64();
  if (!outer.ok() || !outer.done()) return damaged("framing");
  if (checksum != Checksum(payload)) return damaged("checksum");

  auto lex = std::unique_ptr<Lexicon>(new Lexicon());
  Reader in(payload);
  lex->mask_ = static_cast<size_t>(in.U64());
  lex->size_ = static_cast<size_t>(in.U64());
  lex->version_ = std::string(in.Str());
  const size_t slots = in.Count(sizeof(Slot));
  if (!in.ok() || slots < 16 || !std::has_single_bit(slots) || lex->mask_ != slots - 1 ||
      lex->size_ >= slots) {
    return damaged("table size");
  }
  lex->table_.resize(slots);
  in.Raw(lex->table_.data(), slots * sizeof(Slot));
  lex->arena_ = std::string(in.Str());
  lex->clinical_sorted_ = in.Strs();
  lex->cities_sorted_ = in.Strs();
  lex->vocab_ = in.Strs();
  if (!in.ok()) return damaged("word lists");
  // Every slot's word lies inside the arena, and some slot is empty (a
  // probe for an unknown word stops there).
  size_t empty = 0;
  for (const Slot& s : lex->table_) {
    if (s.len == 0) {
      ++empty;
    } else if (s.len > kInline) {
      uint32_t offset;
      std::memcpy(&offset, s.chars, sizeof offset);
      if (size_t{offset} + s.len > lex->arena_.size()) return damaged("arena offset");
    }
  }
  if (empty == 0) return damaged("no empty slot");
  if (!std::is_sorted(lex->clinical_sorted_.begin(), lex->clinical_sorted_.end()) ||
      !std::is_sorted(lex->cities_sorted_.begin(), lex->cities_sorted_.end())) {
    return damaged("word order");
  }
  lex->vocab_proper_.resize(lex->vocab_.size());
  for (size_t k = 0; k < lex->vocab_.size(); ++k) {
    char b = 0;
    in.Raw(&b, 1);
    if (b != 0 && b != 1) return damaged("proper flag");
    lex->vocab_proper_[k] = b != 0;
  }
  const size_t deletes = in.Count(12);
  if (!in.ok()) return damaged("delete index size");
  lex->deletes_.resize(deletes);
  for (auto& [h, id] : lex->deletes_) {
    h = in.U64();
    in.Raw(&id, sizeof id);
    if (id >= lex->vocab_.size()) return damaged("delete index entry");
  }
  if (!std::is_sorted(lex->deletes_.begin(), lex->deletes_.end())) {
    return damaged("delete index order");
  }
  const uint64_t shift = in.U64();
  const size_t filter_words = in.Count(sizeof(uint64_t));
  // IsNearVocabulary reads word (hash-derived bit >> 6) < 2^(64 - shift - 6).
  if (!in.ok() || shift < 24 || shift > 58 || filter_words != (uint64_t{1} << (64 - shift)) / 64) {
    return damaged("delete filter");
  }
  lex->delete_filter_shift_ = static_cast<int>(shift);
  lex->delete_filter_.resize(filter_words);
  in.Raw(lex->delete_filter_.data(), filter_words * sizeof(uint64_t));
  std::vector<std::string> multi = in.Strs();
  if (std::adjacent_find(multi.begin(), multi.end(), std::greater_equal<>()) != multi.end()) {
    return damaged("place order");  // sorted and unique, as Snapshot() writes them
  }
  for (std::string& w : multi) lex->multi_cities_.insert(std::move(w));
  if (!in.ok() || !in.done()) return damaged("trailing bytes");
  lex->from_snapshot_ = true;
  return lex;
}

std::string Lexicon::DefaultSnapshotPath() { return paths::LexiconSnapshotPath(); }

Result<std::unique_ptr<Lexicon>> Lexicon::Load(const std::string& data_dir) {
  return Load(data_dir, DefaultSnapshotPath());
}

Result<std::unique_ptr<Lexicon>> Lexicon::Load(const std::string& data_dir,
                                               const std::string& snapshot_path) {
  std::error_code ec;
  if (!snapshot_path.empty() && std::filesystem::is_regular_file(snapshot_path, ec)) {
    std::ifstream in(snapshot_path, std::ios::binary | std::ios::ate);
    // (A real snapshot is ~40 MB; a file of 1 GiB or more is not one.)
    if (in && in.tellg() >= 0 && in.tellg() < (std::streamoff{1} << 30)) {
      // Made from these files? Then it is the lexicon Build() would make. A
      // missing, stale or damaged snapshot only costs the build below.
      // (Without its name lists Build() says what is missing.)
      if (Result<std::string> digest = SourceDigest(data_dir); digest.ok()) {
        // One read into a buffer of the file's size (~40 MB: no stream copies).
        std::string bytes(static_cast<size_t>(in.tellg()), '\0');
        in.seekg(0);
        in.read(bytes.data(), static_cast<std::streamsize>(bytes.size()));
        if (in.gcount() == static_cast<std::streamsize>(bytes.size())) {
          auto lex = FromSnapshot(bytes, *digest);
          if (lex.ok()) return lex;
        }
      }
    }
  }
  return Build(data_dir);
}

}  // namespace phigate::detect
