// How the trained tagger (src/model) and the rule engine are combined
// (docs/model.md, "Combination"). Used by RuleEngine::Scan's tagger block and
// by `phigate train --stack` / `phigate eval`, so training and serving see the
// same rule findings and the same combination.
//
// Stacking: a stacked model reads the rule engine's findings as features
// (model::RuleHint) and decides; the combined output is the tagger's spans
// (those that overlap no rule finding only when scored high enough) plus the
// rule findings that are certain by construction (IsCertainRuleFinding) plus
// the rule findings the tagger does not confidently label O (the veto).
//
// Example (inside Scan, after the rule stages wrote *out):
//   PHIGATE_RETURN_IF_ERROR(RunTagger(*tagger, mode, text, &scratch, out));
#ifndef PHIGATE_SRC_DETECT_COMBINE_H_
#define PHIGATE_SRC_DETECT_COMBINE_H_

#include <span>
#include <string>
#include <string_view>

#include "phigate/core/finding.h"
#include "phigate/core/status.h"
#include "phigate/detect/engine.h"
#include "phigate/model/tagger.h"

namespace phigate::detect {

// The rule-hint encoding a stacked model is trained with (model::RuleHint,
// TokenHints). A stacked model recording another encoding is refused.
inline constexpr std::string_view kRuleHintEncoding = "hints=1";

// "hints=1;patterns=<16 hex digits>": the hint encoding and a fingerprint of
// the pattern table (names, expressions, categories, scores). Recorded in a
// stacked model at training time.
std::string RulesVersion();

// OK for a model that is not stacked or uses kRuleHintEncoding; else
// InvalidArgument naming both versions. *same_rules (optional) is true when
// the model was trained with exactly RulesVersion().
Status CheckModelCompatible(const model::Tagger& tagger, bool* same_rules);

// A rule finding certain by construction, kept by the stacked combination even
// where the tagger says O: structured identifiers and contacts (SSN, email,
// URL, IP, phone, fax, MRN, account, plan, licence, vehicle, device, biometric,
// photo) with score >= kCertainRuleScore.
inline constexpr float kCertainRuleScore = 0.8f;
bool IsCertainRuleFinding(const Finding& f);

// The veto of mode kBoth (EngineOptions::veto_score, kDefaultVetoScore in
// engine.h): a rule finding that is not certain is dropped when the tagger is
// at least that sure that none of its tokens is PHI (model::Tagger::Tag's
// rule_outside score, 0.5..1 where it says O). The default was chosen by
// cross-validation (docs/model.md, session 12, with the two below): `both`
// above the rules alone on recall as well as precision.
// A rule finding of the weakest evidence (score <= kWeakRuleScore: a
// capitalised word no list holds, and the like) is vetoed already where the
// tagger leans to O by this much (or the veto above, if lower).
inline constexpr float kWeakRuleScore = 0.5f;
inline constexpr float kWeakRuleVetoScore = 0.55f;
// A tagger span that overlaps no rule finding is kept only from this score
// (on the held-out dev notes, such spans below it were nearly all false).
inline constexpr float kTaggerAloneMinScore = 0.55f;

// Mode kBoth's combination, given the resolved rule findings `hints` (sorted
// by begin, disjoint), the tagger's rule_outside score of each and its spans:
// *out = the tagger's spans that overlap a rule finding or score at least
// kTaggerAloneMinScore, the certain rule findings, and the rule findings whose
// outside score is below the veto (kWeakRuleVetoScore for weak ones).
void CombineBoth(std::span<const Finding> hints, std::span<const float> outside,
                 std::span<const Finding> tagged, float veto_score, Findings* out);

// The tagger's part of RuleEngine::Scan. On entry *out holds the rule
// findings (unresolved; empty in model mode with a plain model); on return:
//   kModel: the tagger's spans only (a stacked model still reads the rules);
//   kUnion: rule findings + tagger spans;
//   kBoth:  the tagger's spans that overlap a rule finding or score at least
//           kTaggerAloneMinScore + certain rule findings + the other rule
//           findings the tagger does not veto (veto_score, kWeakRuleVetoScore
//           above); a stacked model reads the rule findings as features.
// `tagged` is scratch. The caller resolves overlaps afterwards.
Status RunTagger(const model::Tagger& tagger, EngineOptions::Mode mode, std::string_view text,
                 Findings* tagged, Findings* out,
                 const model::TagOptions& tag_options = model::TagOptions{},
                 float veto_score = kDefaultVetoScore);

}  // namespace phigate::detect

#endif  // PHIGATE_SRC_DETECT_COMBINE_H_
