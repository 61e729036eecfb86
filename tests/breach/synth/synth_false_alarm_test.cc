// False alarms of the leak detectors over clean answers built from the
// project's synthetic note generator (phigate::synth). Built only when the
// synth module is part of the build.
#include <cstdio>
#include <set>
#include <string>

#include "gtest/gtest.h"
#include "phigate/breach/harness.h"
#include "phigate/synth/generator.h"
#include "tests/testing/status_matchers.h"

namespace phigate::breach {
namespace {

TEST(SynthFalseAlarmTest, TenThousandCleanAnswersFromSynthNotes) {
  synth::GeneratorOptions opts;
  opts.seed = 23;
  opts.data_dir = testing::SourceDir() + "/data";
  auto gen = synth::Generator::Create(opts);
  ASSERT_TRUE(gen.ok()) << gen.status();
  MemoryVaultIndex vault(TestingBlindIndex);
  CanaryRegistry canaries(TestingBlindIndex);
  SessionValueIndex sessions;
  for (int t = 0; t < 3; ++t) {
    for (const CanaryPatient& c :
         GenerateCanaries(TenantId("synth-t" + std::to_string(t)), 23, 5)) {
      canaries.Register(c);
    }
  }
  LeakScanner scanner(TestingBlindIndex, vault.AsLookup(), &canaries, &sessions);
  std::string prev_date, prev_city;
  size_t values = 0;
  auto next = [&](size_t i) {
    synth::Note note = (*gen)->Generate();
    CleanExchange ex;
    ex.tenant = TenantId("synth-t" + std::to_string(std::hash<std::string>{}(note.patient_id) % 3));
    ex.patient_ref = note.patient_id;
    ex.scope = "conv-" + note.patient_id;
    ex.session_id = "sess-" + std::to_string(i);
    // The request sends the whole note; the vault keeps every value of it.
    for (const synth::LabeledSpan& s : note.spans) {
      const std::string v = note.text.substr(s.begin, s.end - s.begin);
      ex.sent.emplace_back(s.category, v);
      vault.Add(ex.tenant, ex.patient_ref, ex.scope, s.category, v);
      ex.findings.push_back(Finding{s.category, s.begin, s.end, 1.0f, "truth"});
    }
    values += note.spans.size();
    // The answer restates the note and adds model-made quasi-identifiers that
    // belong to earlier (other) patients: a date and a city.
    ex.answer = note.text;
    ex.answer += "\nSuggested follow-up ";
    if (!prev_date.empty()) {
      ex.answer += "on ";
      ex.findings.push_back(Finding{PhiCategory::kDate, ex.answer.size(),
                                    ex.answer.size() + prev_date.size(), 1.0f, "truth"});
      ex.answer += prev_date;
    }
    if (!prev_city.empty()) {
      ex.answer += " in ";
      ex.findings.push_back(Finding{PhiCategory::kCity, ex.answer.size(),
                                    ex.answer.size() + prev_city.size(), 1.0f, "truth"});
      ex.answer += prev_city;
    }
    ex.answer += ".";
    for (const synth::LabeledSpan& s : note.spans) {
      if (s.category == PhiCategory::kDate) prev_date = note.text.substr(s.begin, s.end - s.begin);
      if (s.category == PhiCategory::kCity) prev_city = note.text.substr(s.begin, s.end - s.begin);
    }
    return ex;
  };
  PHIGATE_ASSERT_OK_AND_ASSIGN(
      FalseAlarmReport r, MeasureFalseAlarms(scanner, TestingBlindIndex, 10000, next, &sessions));
  std::printf("false alarms (synth notes): %zu / %zu = %.4f%% (%zu PHI values sent)\n",
              r.answers_flagged, r.answers, 100.0 * r.rate(), values);
  for (const auto& [k, n] : r.by_kind) std::printf("  %s: %zu\n", std::string(Name(k)).c_str(), n);
  EXPECT_EQ(r.answers, 10000u);
  EXPECT_EQ(r.by_kind[DetectionKind::kCanary], 0u);
  EXPECT_EQ(r.by_kind[DetectionKind::kCacheLeak], 0u);
  EXPECT_LT(r.rate(), 0.01);
}

}  // namespace
}  // namespace phigate::breach
