#include "src/detect/combine.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "src/detect/patterns.h"
#include "src/detect/resolve.h"

namespace phigate::detect {
namespace {

uint64_t Fnv(uint64_t h, std::string_view s) {
  for (char c : s) h = (h ^ static_cast<uint8_t>(c)) * 1099511628211ull;
  return (h ^ 0xFF) * 1099511628211ull;  // field separator
}

}  // namespace

std::string RulesVersion() {
  uint64_t h = 14695981039346656037ull;
  for (const PatternSpec& p : DefaultPatterns()) {
    h = Fnv(h, p.name);
    h = Fnv(h, p.regex);
    h = Fnv(h, absl::StrCat(static_cast<int>(p.category), ":", p.base_score, ":", p.invalid_score,
                            ":", p.caseless, p.id_after_label, p.address_after_cue));
  }
  return absl::StrFormat("%s;patterns=%016x", ToAbsl(kRuleHintEncoding), h);
}

Status CheckModelCompatible(const model::Tagger& tagger, bool* same_rules) {
  if (same_rules != nullptr) *same_rules = true;
  if (!tagger.stacked()) return absl::OkStatus();
  const std::string& v = tagger.rules_version();
  const std::string prefix = absl::StrCat(ToAbsl(kRuleHintEncoding), ";");
  if (v.rfind(prefix, 0) != 0) {
    return absl::InvalidArgumentError(absl::StrCat("the tagger model was trained with rule hints '",
                                                   v, "', this build makes '", RulesVersion(),
                                                   "': retrain it (phigate train --stack)"));
  }
  if (same_rules != nullptr) *same_rules = v == RulesVersion();
  return absl::OkStatus();
}

bool IsCertainRuleFinding(const Finding& f) {
  if (f.score < kCertainRuleScore) return false;
  switch (f.category) {
    case PhiCategory::kSsn:
    case PhiCategory::kEmail:
    case PhiCategory::kUrl:
    case PhiCategory::kIp:
    case PhiCategory::kPhone:
    case PhiCategory::kFax:
    case PhiCategory::kMrn:
    case PhiCategory::kHealthPlan:
    case PhiCategory::kAccount:
    case PhiCategory::kLicense:
    case PhiCategory::kVehicle:
    case PhiCategory::kDevice:
    case PhiCategory::kBiometric:
    case PhiCategory::kPhoto:
      return true;
    default:
      return false;
  }
}

void CombineBoth(std::span<const Finding> hints, std::span<const float> outside,
                 std::span<const Finding> tagged, float veto_score, Findings* out) {
  out->clear();
  const float weak_veto = std::min(veto_score, kWeakRuleVetoScore);
  for (size_t i = 0; i < hints.size(); ++i) {
    const float veto_at = hints[i].score <= kWeakRuleScore ? weak_veto : veto_score;
    if (IsCertainRuleFinding(hints[i]) || outside[i] < veto_at) out->push_back(hints[i]);
  }
  // hints are sorted by begin and disjoint, so by end too: the first one that
  // ends after a tagger span begins is the only one that may overlap it first.
  for (const Finding& f : tagged) {
    const auto it = std::upper_bound(hints.begin(), hints.end(), f.begin,
                                     [](size_t pos, const Finding& h) { return pos < h.end; });
    const bool overlaps = it != hints.end() && it->begin < f.end;
    if (overlaps || f.score >= kTaggerAloneMinScore) out->push_back(f);
  }
}

Status RunTagger(const model::Tagger& tagger, EngineOptions::Mode mode, std::string_view text,
                 Findings* tagged, Findings* out, const model::TagOptions& tag_options,
                 float veto_score) {
  if (mode == EngineOptions::Mode::kModel && !tagger.stacked()) {
    out->clear();
    PHIGATE_RETURN_IF_ERROR(tagger.Tag(text, tag_options, tagged));
    out->insert(out->end(), tagged->begin(), tagged->end());
    return absl::OkStatus();
  }
  // The rule findings as the rule engine alone returns them (resolved, before
  // the score filter): what a stacked model was trained on.
  thread_local Findings hints;
  thread_local std::vector<float> outside;
  hints = *out;
  ResolveConflicts(text, &hints);
  const bool veto = mode == EngineOptions::Mode::kBoth;
  PHIGATE_RETURN_IF_ERROR(tagger.Tag(text, tag_options, hints, tagged, veto ? &outside : nullptr));
  switch (mode) {
    case EngineOptions::Mode::kModel:
      *out = *tagged;
      break;
    case EngineOptions::Mode::kUnion:
    case EngineOptions::Mode::kRules:
      out->insert(out->end(), tagged->begin(), tagged->end());
      break;
    case EngineOptions::Mode::kBoth:
      CombineBoth(hints, outside, *tagged, veto_score, out);
      break;
  }
  return absl::OkStatus();
}

}  // namespace phigate::detect
