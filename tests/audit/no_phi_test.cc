// Invariant: no PHI in the audit store or its exports. Synthetic notes (names,
// MRNs, phones, dates, addresses made up here from a seeded generator) go
// through a miniature pipeline (find the planted PHI, count categories, blind
// the patient, append) and then the SQLite files and every export are
// searched for each PHI string and each of its 8-character substrings.
#include <fstream>
#include <iterator>
#include <random>
#include <set>

#include "gtest/gtest.h"
#include "phigate/audit/audit_log.h"
#include "phigate/audit/query.h"
#include "phigate/audit/subject.h"
#include "tests/audit/test_util.h"
#include "tests/testing/status_matchers.h"

namespace phigate::audit {
namespace {

struct Note {
  std::string text;
  std::vector<std::pair<PhiCategory, std::string>> phi;  // what was planted
  std::string mrn;
};

class SyntheticNotes {
 public:
  explicit SyntheticNotes(uint32_t seed) : rng_(seed) {}
  Note Next() {
    Note n;
    const std::string first = Word(6), last = Word(8);
    n.mrn = "QX" + Digits(8);
    const std::string phone = "(" + Digits(3) + ") 555-" + Digits(4);
    const std::string street = Digits(4) + " " + Word(7) + " Lane";
    const std::string date = "03/" + Digits(2) + "/2031";
    n.text = "Pt " + first + " " + last + " (MRN " + n.mrn + ") seen " + date + ", lives at " +
             street + ", call " + phone + ". Complains of chest pain.";
    n.phi = {{PhiCategory::kName, first},
             {PhiCategory::kName, last},
             {PhiCategory::kName, first + " " + last},
             {PhiCategory::kMrn, n.mrn},
             {PhiCategory::kPhone, phone},
             {PhiCategory::kStreetAddress, street},
             {PhiCategory::kDate, date}};
    return n;
  }

 private:
  std::string Word(int len) {
    static constexpr char kCons[] = "bdfgklmnprstvxz", kVow[] = "aeiouy";
    std::string w;
    for (int i = 0; i < len; ++i) {
      w.push_back(i % 2 ? kVow[rng_() % 6] : kCons[rng_() % 15]);
    }
    w[0] = static_cast<char>(w[0] - 'a' + 'A');
    return w;
  }
  std::string Digits(int n) {
    std::string d;
    for (int i = 0; i < n; ++i) d.push_back(static_cast<char>('0' + rng_() % 10));
    return d;
  }
  std::mt19937 rng_;
};

std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
}

std::string Lower(std::string s) {
  for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

// Every PHI string whole, and every 8-character window of it, in both the
// original and lower case (reports lower-case nothing, but be strict).
std::set<std::string> Needles(const std::vector<Note>& notes) {
  std::set<std::string> out;
  for (const Note& n : notes) {
    for (const auto& [cat, value] : n.phi) {
      for (const std::string& v : {value, Lower(value)}) {
        if (v.size() <= 8) {
          out.insert(v);
        } else {
          for (size_t i = 0; i + 8 <= v.size(); ++i) out.insert(v.substr(i, 8));
        }
      }
    }
    out.insert(NormalizeSubjectIdentifier(n.mrn));
  }
  return out;
}

TEST(NoPhiInAuditTest, DatabaseFilesAndExportsHoldNoPhi) {
  testing::TempDir dir;
  const std::string path = dir.file("audit.db");
  const std::string master(32, '\x5a');
  const TenantId tenant("acme");
  const std::string key = TenantAuditKey(master, tenant).value();

  SyntheticNotes gen(20261130);
  std::vector<Note> notes;
  std::vector<BlindIndex> subjects;
  {
    auto log =
        AuditLog::Open(AuditLogStore::Open("sqlite://" + path).value(), testing::TestSigner())
            .value();
    for (int i = 0; i < 300; ++i) {
      Note n = gen.Next();
      // The "pipeline": detection found the planted spans; the event gets only
      // their categories and counts, and the patient as a blind index.
      AuditEvent e = testing::SampleEvent("acme", i);
      e.category_counts.clear();
      for (const auto& [cat, value] : n.phi) {
        ASSERT_NE(n.text.find(value), std::string::npos);
        e.AddCategoryCount(cat, 1);
      }
      e.subjects = {SubjectIndex(key, "MRN " + n.mrn).value()};
      subjects.push_back(e.subjects[0]);
      // Free text cannot be smuggled into an id field.
      EXPECT_FALSE(AuditId::Make(n.text).ok());
      EXPECT_FALSE(AuditId::Make(n.phi[2].second).ok());  // "First Last"
      ASSERT_TRUE(log->Append(e).ok());
      notes.push_back(std::move(n));
    }
    ASSERT_TRUE(log->MakeCheckpoint(tenant).ok());
  }

  // Exports: JSONL, disclosures as Markdown and JSON.
  auto store = AuditLogStore::Open("sqlite://" + path).value();
  std::string exports;
  QueryFilter f;
  f.tenant = tenant;
  PHIGATE_ASSERT_OK(QueryEach(*store, f, [&](const StoredEvent& e) {
    exports += EventToJson(e) + "\n";
    return absl::OkStatus();
  }));
  for (size_t i = 0; i < 20; ++i) {
    auto ds = AccountingOfDisclosures(*store, tenant, subjects[i], 0, INT64_MAX).value();
    exports += DisclosuresMarkdown(tenant, subjects[i], ds);
    exports += DisclosuresJson(tenant, subjects[i], ds);
  }
  EXPECT_GT(exports.size(), 100000u);
  PHIGATE_ASSERT_OK(VerifyTrail(*store, tenant, *testing::TestVerifier()));
  store.reset();

  std::string haystack = exports;
  for (const char* suffix : {"", "-wal", "-shm"}) haystack += ReadFile(path + suffix);
  ASSERT_GT(haystack.size(), exports.size());
  const std::set<std::string> needles = Needles(notes);
  ASSERT_GT(needles.size(), 3000u);
  // Positive control: the same search finds the PHI in the notes themselves.
  std::string all_notes;
  for (const Note& n : notes) all_notes += n.text;
  size_t control = 0;
  for (const std::string& n : needles) control += all_notes.find(n) != std::string::npos;
  EXPECT_GT(control, needles.size() / 2);
  size_t hits = 0;
  for (const std::string& n : needles) {
    if (haystack.find(n) != std::string::npos) {
      ADD_FAILURE() << "PHI fragment found in the audit store or exports: " << n;
      if (++hits > 5) break;
    }
  }
  EXPECT_EQ(hits, 0u);
}

}  // namespace
}  // namespace phigate::audit
