// libFuzzer target for the sequence tagger: Tag() on any bytes, and the model
// file parser on any bytes. Properties: never crashes; findings are in range,
// non-empty, sorted and disjoint, scores in [0, 1]; a mutated model file is
// refused or loads.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

#include "phigate/model/tagger.h"
#include "phigate/model/trainer.h"

namespace {

const phigate::model::Tagger* FuzzTagger() {
  static const phigate::model::Tagger* t = [] {
    // A tiny model trained at start-up, so the target needs no file.
    std::vector<phigate::model::Example> data;
    for (int i = 0; i < 20; ++i) {
      phigate::model::Example ex;
      ex.id = std::to_string(i) + "-1";
      ex.text = "Seen by Dr. Quintavia Zorblat on 4/" + std::to_string(1 + i) + ".";
      ex.spans.push_back({12, 29, phigate::model::EntityType::kName});
      ex.spans.push_back({33, ex.text.size() - 1, phigate::model::EntityType::kDate});
      data.push_back(ex);
    }
    phigate::model::TrainOptions o;
    o.hash_bits = 12;
    o.epochs = 3;
    auto bytes = phigate::model::Train(data, o, nullptr);
    if (!bytes.ok()) std::abort();
    auto tagger = phigate::model::Tagger::FromBytes(*bytes);
    if (!tagger.ok()) std::abort();
    return tagger->release();
  }();
  return t;
}

// A tiny stacked model: "Zorblat" is a name where the rules say so.
const phigate::model::Tagger* FuzzStackedTagger() {
  static const phigate::model::Tagger* t = [] {
    std::vector<phigate::model::Example> data;
    for (int i = 0; i < 20; ++i) {
      phigate::model::Example ex;
      ex.id = std::to_string(i) + "-1";
      ex.text = "note says Zorblat then stop";
      if (i % 2 == 0) {
        ex.spans.push_back({10, 17, phigate::model::EntityType::kName});
        ex.rule_findings.push_back({phigate::PhiCategory::kName, 10, 17, 0.7f, "name_rules"});
      }
      data.push_back(ex);
    }
    phigate::model::TrainOptions o;
    o.hash_bits = 12;
    o.epochs = 3;
    o.stacked = true;
    o.rules_version = "hints=1;patterns=fuzz";
    auto bytes = phigate::model::Train(data, o, nullptr);
    if (!bytes.ok()) std::abort();
    auto tagger = phigate::model::Tagger::FromBytes(*bytes);
    if (!tagger.ok()) std::abort();
    return tagger->release();
  }();
  return t;
}

void CheckFindings(const std::vector<phigate::Finding>& found, size_t size) {
  size_t last = 0;
  for (const phigate::Finding& f : found) {
    if (f.begin < last || f.begin >= f.end || f.end > size) std::abort();
    if (!(f.score >= 0.0f && f.score <= 1.0f)) std::abort();
    last = f.end;
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size > (size_t{1} << 20)) return 0;
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  std::vector<phigate::Finding> found;
  if (!FuzzTagger()->Tag(text, &found).ok()) std::abort();
  size_t last = 0;
  for (const phigate::Finding& f : found) {
    if (f.begin < last || f.begin >= f.end || f.end > size) std::abort();
    if (!(f.score >= 0.0f && f.score <= 1.0f)) std::abort();
    last = f.end;
  }
  // A stacked model with rule findings made from the first bytes: any
  // offsets (reversed, overlapping, past the end) are accepted; veto scores
  // are in [0, 1], one per finding.
  std::vector<phigate::Finding> rules;
  for (size_t i = 0; i + 3 <= size && rules.size() < 8; i += 3) {
    const size_t a = data[i] * size / 256, b = data[i + 1] * (size + 8) / 256;
    rules.push_back({static_cast<phigate::PhiCategory>(data[i + 2] % 23), a, b,
                     static_cast<float>(data[i + 2]) / 255.0f, "fuzz_rule"});
  }
  std::vector<float> outside;
  if (!FuzzStackedTagger()->Tag(text, {}, rules, &found, &outside).ok()) std::abort();
  CheckFindings(found, size);
  if (outside.size() != rules.size()) std::abort();
  for (float v : outside) {
    if (!(v >= 0.0f && v <= 1.0f)) std::abort();
  }
  // The same bytes as a model file: must be refused (or, if valid, usable).
  auto parsed = phigate::model::Tagger::FromBytes(text);
  if (parsed.ok()) {
    if (!(*parsed)->Tag("Seen by Dr. Quintavia Zorblat on 4/2.", &found).ok()) std::abort();
  }
  return 0;
}
