// PropagateInGroup: a word found as a name or place in most of its
// occurrences in a group of notes is flagged in the others; nothing else is.
// Values are synthetic.
#include "phigate/detect/propagate.h"

#include <string>
#include <string_view>
#include <vector>

#include "gtest/gtest.h"

namespace phigate::detect {
namespace {

// A finding over the n-th occurrence (0-based) of `word` in `text`.
Finding At(std::string_view text, std::string_view word, PhiCategory c, int n = 0) {
  size_t pos = text.find(word);
  for (int i = 0; i < n; ++i) pos = text.find(word, pos + 1);
  EXPECT_NE(pos, std::string_view::npos) << word;
  return Finding{c, pos, pos + word.size(), 0.9f, "test"};
}

struct Group {
  std::vector<std::string> notes;
  std::vector<Findings> found;
  size_t Run(const PropagateOptions& o = PropagateOptions{}) {
    std::vector<std::string_view> texts(notes.begin(), notes.end());
    return PropagateInGroup(texts, found, o);
  }
};

TEST(PropagateTest, AWordFoundInMostOccurrencesIsFlaggedInTheOthers) {
  Group g;
  g.notes = {"Surgeon from Harbor came by.", "Wants to go to Harbor today.",
             "after the meeting at harbor, MRN 555 seen"};
  g.found = {{At(g.notes[0], "Harbor", PhiCategory::kFacility)},
             {At(g.notes[1], "Harbor", PhiCategory::kFacility)},
             {At(g.notes[2], "555", PhiCategory::kMrn)}};
  EXPECT_EQ(g.Run(), 1u);
  ASSERT_EQ(g.found[2].size(), 2u);
  const Finding& f = g.found[2][0];  // sorted by begin: "harbor" before "555"
  EXPECT_EQ(g.notes[2].substr(f.begin, f.end - f.begin), "harbor");
  EXPECT_EQ(f.category, PhiCategory::kFacility);
  EXPECT_EQ(f.recognizer, kPropagatedRecognizer);
  EXPECT_FLOAT_EQ(f.score, PropagateOptions{}.score);
  EXPECT_EQ(g.found[2][1].category, PhiCategory::kMrn);
  EXPECT_EQ(g.found[0].size(), 1u);  // the found ones are left as they were
  EXPECT_EQ(g.found[1].size(), 1u);
}

TEST(PropagateTest, TheCategoryIsThatOfMostFoundOccurrences) {
  Group g;
  g.notes = {"Dr Brook saw her", "Brook called", "Brook Street", "brook later"};
  g.found = {{At(g.notes[0], "Brook", PhiCategory::kName)},
             {At(g.notes[1], "Brook", PhiCategory::kName)},
             {At(g.notes[2], "Brook Street", PhiCategory::kStreetAddress)},
             {}};
  EXPECT_EQ(g.Run(), 1u);
  ASSERT_EQ(g.found[3].size(), 1u);
  EXPECT_EQ(g.found[3][0].category, PhiCategory::kName);
}

TEST(PropagateTest, OneFoundOccurrenceIsNotEnough) {
  Group g;
  g.notes = {"seen at Lakeport", "lakeport again"};
  g.found = {{At(g.notes[0], "Lakeport", PhiCategory::kCity)}, {}};
  EXPECT_EQ(g.Run(), 0u);
  EXPECT_TRUE(g.found[1].empty());
  // With min_found 1 it is.
  PropagateOptions o;
  o.min_found = 1;
  EXPECT_EQ(g.Run(o), 1u);
  EXPECT_EQ(g.found[1].size(), 1u);
}

TEST(PropagateTest, AWordMostlyNotFoundIsLeftAlone) {
  // Found twice as a name, three times not: under half.
  Group g;
  g.notes = {"Mr Small here", "Mr Small again", "small amt stool", "small BM", "small clots"};
  g.found = {{At(g.notes[0], "Small", PhiCategory::kName)},
             {At(g.notes[1], "Small", PhiCategory::kName)},
             {},
             {},
             {}};
  EXPECT_EQ(g.Run(), 0u);
  for (size_t i = 2; i < g.found.size(); ++i) EXPECT_TRUE(g.found[i].empty()) << i;
}

TEST(PropagateTest, FrameWordsNeverPropagate) {
  // "Nursing" and "County" are inside found places, but are not places.
  Group g;
  g.notes = {"from Elmview Nursing Home",
             "to Elmview Nursing Home",
             "Nursing note 7a-7p",
             "Wise County",
             "Wise County",
             "county line"};
  g.found = {{At(g.notes[0], "Elmview Nursing Home", PhiCategory::kFacility)},
             {At(g.notes[1], "Elmview Nursing Home", PhiCategory::kFacility)},
             {},
             {At(g.notes[3], "Wise County", PhiCategory::kLocation)},
             {At(g.notes[4], "Wise County", PhiCategory::kLocation)},
             {}};
  EXPECT_EQ(g.Run(), 0u);
  EXPECT_TRUE(g.found[2].empty());
  EXPECT_TRUE(g.found[5].empty());
}

TEST(PropagateTest, OnlyWholeUncoveredWordsOfNamesAndPlacesCount) {
  // Found 3 times of 6 whole-word occurrences: half.
  Group g;
  g.notes = {"Dr Marlow",         "Dr Marlow",     "Dr Marlow",
             "Marlowe, Marlow's", "MARLOW on 3/4", "May 3, Marlow"};
  g.found = {{At(g.notes[0], "Marlow", PhiCategory::kName)},
             {At(g.notes[1], "Marlow", PhiCategory::kName)},
             {At(g.notes[2], "Marlow", PhiCategory::kName)},
             {},
             {},
             // A date finding over "Marlow" would keep it from being flagged;
             // this one covers "May 3" only.
             {At(g.notes[5], "May 3", PhiCategory::kDate)}};
  EXPECT_EQ(g.Run(), 3u);
  // "Marlowe" is another word; "Marlow" of "Marlow's" is whole.
  ASSERT_EQ(g.found[3].size(), 1u);
  EXPECT_EQ(g.found[3][0].begin, g.notes[3].find("Marlow's"));
  ASSERT_EQ(g.found[4].size(), 1u);  // upper case
  EXPECT_EQ(g.found[4][0].begin, 0u);
  ASSERT_EQ(g.found[5].size(), 2u);
  EXPECT_EQ(g.found[5][0].category, PhiCategory::kDate);
  EXPECT_EQ(g.found[5][1].begin, g.notes[5].find("Marlow"));
  // Under half (min_share 0.6): nothing.
  Group h;
  h.notes = {"Dr Marlow", "Dr Marlow", "Dr Marlow", "marlow", "marlow", "marlow"};
  h.found = {{At(h.notes[0], "Marlow", PhiCategory::kName)},
             {At(h.notes[1], "Marlow", PhiCategory::kName)},
             {At(h.notes[2], "Marlow", PhiCategory::kName)},
             {},
             {},
             {}};
  PropagateOptions o;
  o.min_share = 0.6;
  EXPECT_EQ(h.Run(o), 0u);
  EXPECT_EQ(h.Run(), 3u);
}

TEST(PropagateTest, AnOccurrenceTouchedByAnotherFindingIsNotFlaggedAgain) {
  Group g;
  g.notes = {"Tarrow", "Tarrow", "id Tarrow-22"};
  g.found = {{At(g.notes[0], "Tarrow", PhiCategory::kName)},
             {At(g.notes[1], "Tarrow", PhiCategory::kName)},
             {At(g.notes[2], "w-22", PhiCategory::kOtherId)}};
  EXPECT_EQ(g.Run(), 0u);
  EXPECT_EQ(g.found[2].size(), 1u);
}

TEST(PropagateTest, NonNamesDoNotMakeAWordPropagate) {
  // Two date findings cover "March": dates are not names or places.
  Group g;
  g.notes = {"March 3", "March 4", "forward march"};
  g.found = {{At(g.notes[0], "March 3", PhiCategory::kDate)},
             {At(g.notes[1], "March 4", PhiCategory::kDate)},
             {}};
  EXPECT_EQ(g.Run(), 0u);
}

TEST(PropagateTest, ShortWordsAndNonAsciiWords) {
  Group g;
  g.notes = {"Dr Ng", "Dr Ng", "ng tube", "Székely", "Székely", "Székely again"};
  g.found = {{At(g.notes[0], "Ng", PhiCategory::kName)},
             {At(g.notes[1], "Ng", PhiCategory::kName)},
             {},
             {At(g.notes[3], "Székely", PhiCategory::kName)},
             {At(g.notes[4], "Székely", PhiCategory::kName)},
             {}};
  EXPECT_EQ(g.Run(), 1u);  // "ng" is under min_letters; "Székely" is one word
  EXPECT_TRUE(g.found[2].empty());
  ASSERT_EQ(g.found[5].size(), 1u);
  EXPECT_EQ(g.found[5][0].end - g.found[5][0].begin, std::string_view("Székely").size());
}

TEST(PropagateTest, MismatchedSpansAndEmptyGroups) {
  std::vector<std::string_view> texts = {"Harbor", "Harbor", "harbor"};
  std::vector<Findings> found(2);
  found[0].push_back(Finding{PhiCategory::kCity, 0, 6, 0.9f, "test"});
  found[1].push_back(Finding{PhiCategory::kCity, 0, 6, 0.9f, "test"});
  // The third text has no findings slot: it is left out.
  EXPECT_EQ(PropagateInGroup(texts, found), 0u);
  EXPECT_EQ(PropagateInGroup({}, {}), 0u);
}

}  // namespace
}  // namespace phigate::detect
