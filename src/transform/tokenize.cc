#include "phigate/transform/tokenize.h"

#include <algorithm>
#include <iterator>

#include "absl/container/flat_hash_set.h"
#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "phigate/transform/date_shift.h"

namespace phigate::transform {
namespace {

struct Span {
  size_t begin, end;
  PhiCategory category;
};

// Sorted, with overlapping findings merged (touching ones stay separate).
Result<std::vector<Span>> MergeSpans(std::string_view text, const Findings& findings) {
  std::vector<Span> spans;
  spans.reserve(findings.size());
  for (const Finding& f : findings) {
    if (f.begin >= f.end || f.end > text.size()) {
      return absl::InvalidArgumentError(absl::StrCat("finding [", f.begin, ",", f.end,
                                                     ") is empty or outside the text of ",
                                                     text.size(), " bytes"));
    }
    spans.push_back({f.begin, f.end, f.category});
  }
  std::sort(spans.begin(), spans.end(), [](const Span& a, const Span& b) {
    return a.begin != b.begin ? a.begin < b.begin : a.end > b.end;
  });
  std::vector<Span> merged;
  for (const Span& s : spans) {
    if (!merged.empty() && s.begin < merged.back().end) {
      merged.back().end = std::max(merged.back().end, s.end);
      continue;
    }
    merged.push_back(s);
  }
  return merged;
}

VaultContext* AsVaultContext(TransformContext& ctx) { return dynamic_cast<VaultContext*>(&ctx); }

Status NeedsVault(std::string_view op) {
  return absl::FailedPreconditionError(
      absl::StrCat("operator ", ToAbsl(op), " needs a VaultContext (a vault and a scope)"));
}

// Whether `candidate` occurs in `lower_text` (the whole text in ASCII lower
// case). A surrogate that already occurs in its text (outside its own span:
// "97" for an age when the note also says "BP 144/97") would be mapped back in
// the wrong place, so such candidates are drawn again.
bool OccursInText(std::string_view lower_text, std::string_view candidate) {
  if (lower_text.empty() || candidate.empty()) return false;
  return lower_text.find(absl::AsciiStrToLower(std::string(candidate))) != std::string_view::npos;
}

void SurrogateSpans(std::span<const std::string_view> texts,
                    std::span<const std::vector<Span>> spans, vault::Vault& vault,
                    const vault::Scope& scope, const ReversibleOptions& options,
                    std::vector<Result<std::vector<std::string>>>* out);

}  // namespace

bool KeptWords::Covers(std::string_view candidate) const {
  const std::string lower = absl::AsciiStrToLower(std::string(candidate));
  bool any = false;
  const bool all = ForEachWord(lower, [&](std::string_view w) {
    any = true;
    return words_.contains(w);
  });
  return any && all;
}

namespace {

class TokenizeOperator : public Operator {
 public:
  std::string_view name() const override { return "tokenize"; }
  Status Validate(const OperatorParams& params) const override {
    if (!params.empty()) return absl::InvalidArgumentError("tokenize takes no parameters");
    return absl::OkStatus();
  }
  Result<std::string> Apply(std::string_view original, const Finding& finding,
                            const OperatorParams&, TransformContext& ctx) const override {
    VaultContext* vc = AsVaultContext(ctx);
    if (vc == nullptr) return NeedsVault(name());
    PHIGATE_ASSIGN_OR_RETURN(std::string tok,
                             vc->vault().Tokenize(finding.category, original, vc->scope()));
    vc->issued().push_back(tok);
    return tok;
  }
};

Result<int> MaxDays(const OperatorParams& params, int fallback) {
  auto it = params.find("max_days");
  if (it == params.end()) return fallback;
  int v = 0;
  if (!absl::SimpleAtoi(it->second, &v) || v < 1 || v > 3650) {
    return absl::InvalidArgumentError("max_days must be an integer in 1..3650");
  }
  return v;
}

class SurrogateOperator : public Operator {
 public:
  explicit SurrogateOperator(std::string_view name) : name_(name) {}
  std::string_view name() const override { return name_; }
  Status Validate(const OperatorParams& params) const override {
    for (const auto& [k, v] : params) {
      if (k != "max_days")
        return absl::InvalidArgumentError(absl::StrCat(name_, ": unknown parameter"));
    }
    return MaxDays(params, 365).status();
  }
  Result<std::string> Apply(std::string_view original, const Finding& finding,
                            const OperatorParams& params, TransformContext& ctx) const override {
    VaultContext* vc = AsVaultContext(ctx);
    if (vc == nullptr) return NeedsVault(name());
    PHIGATE_ASSIGN_OR_RETURN(int max_days, MaxDays(params, 365));
    if (name_ == "date_shift" && finding.category != PhiCategory::kDate) {
      PHIGATE_ASSIGN_OR_RETURN(std::string tok,
                               vc->vault().Tokenize(finding.category, original, vc->scope()));
      vc->issued().push_back(tok);
      return tok;
    }
    ReversibleOptions options;
    options.mode = ReversibleMode::kSurrogate;
    options.generator = vc->generator();
    options.max_date_shift_days = max_days;
    const std::vector<Span> span = {{0, original.size(), finding.category}};
    std::vector<Result<std::vector<std::string>>> out;
    SurrogateSpans(std::span(&original, 1), std::span(&span, 1), vc->vault(), vc->scope(), options,
                   &out);
    PHIGATE_RETURN_IF_ERROR(out[0].status());
    vc->issued().push_back((*out[0])[0]);
    return std::move((*out[0])[0]);
  }

 private:
  std::string name_;
};

// Surrogate mode for many texts: the replacements of spans[i] (merged, as
// MergeSpans gives them) of texts[i], into (*out)[i]. One vault batch
// (Vault::SurrogateBatch) for the surrogates of all texts, and one
// TokenizeBatch for the dates that get a token: those the offset cannot shift
// (an unknown format) and those whose one shifted form another spelling took,
// and for any value that found no unique surrogate (the scope has none left).
// A text with a value whose surrogate failed otherwise fails alone; a vault
// error fails every text with a finding.
void SurrogateSpans(std::span<const std::string_view> texts,
                    std::span<const std::vector<Span>> spans, vault::Vault& vault,
                    const vault::Scope& scope, const ReversibleOptions& options,
                    std::vector<Result<std::vector<std::string>>>* out) {
  out->assign(texts.size(), std::vector<std::string>());
  auto fail_all = [&](const Status& s) {
    for (size_t i = 0; i < texts.size(); ++i) {
      if (!spans[i].empty()) (*out)[i] = s;
    }
  };
  struct Where {
    size_t text, span;
  };
  std::vector<vault::SurrogateRequest> sur;
  std::vector<Where> sur_at;
  std::vector<vault::TokenRequest> tok;
  std::vector<Where> tok_at;
  // Every text lower-cased, for OccursInText and KeptWords.
  std::vector<std::string> lower(texts.size());
  KeptWords kept;
  for (size_t i = 0; i < texts.size(); ++i) {
    lower[i] = absl::AsciiStrToLower(std::string(texts[i]));
    kept.Add(lower[i], spans[i]);
  }
  bool dates = false, names = false;
  for (size_t i = 0; i < texts.size(); ++i) {
    (*out)[i]->resize(spans[i].size());
    for (size_t k = 0; k < spans[i].size(); ++k) {
      const Span& s = spans[i][k];
      const std::string_view value = texts[i].substr(s.begin, s.end - s.begin);
      if (s.category == PhiCategory::kDate && !ParseDate(value)) {
        tok.push_back({s.category, value});
        tok_at.push_back({i, k});
        continue;
      }
      names = names || s.category == PhiCategory::kName;
      if (s.category == PhiCategory::kDate) {
        dates = true;
      } else if (options.generator == nullptr) {
        (*out)[i] = absl::InvalidArgumentError("surrogate mode needs a SurrogateGenerator");
        break;
      }
      sur.push_back({s.category, value});
      sur_at.push_back({i, k});
    }
  }
  int days = 0;
  if (dates) {
    Result<int> d = vault.DateShiftDays(scope, options.max_date_shift_days);
    if (!d.ok()) return fail_all(d.status());
    days = *d;
  }
  // One key for the scope's name parts: "Smith" gets one surname in every name.
  std::string name_key;
  if (names && options.generator != nullptr) {
    Result<std::string> k = vault.ScopeSecret(scope, kNamePartsPurpose);
    if (!k.ok()) return fail_all(k.status());
    name_key = *std::move(k);
  }
  const SurrogateContext context{0, name_key};
  const SurrogateGenerator* gen = options.generator;
  auto generate = [&](size_t index, PhiCategory c, std::string_view o,
                      int attempt) -> Result<std::string> {
    if (c == PhiCategory::kDate) {
      auto shifted = ShiftDateText(o, days);
      if (!shifted || attempt > 0) return absl::AlreadyExistsError("shifted date unavailable");
      return *shifted;
    }
    // A candidate that already occurs in its text (outside its own span: "97"
    // for an age when the note also says "BP 144/97"), or whose words another
    // text of the batch keeps, would be mapped back in the wrong place, so such
    // candidates are drawn again (16 times at most: an initial's every letter
    // is some text's word).
    const std::string_view text = lower[sur_at[index].text];
    Result<std::string> candidate = gen->Generate(c, o, attempt, context);
    for (int i = 0;
         i < 16 && candidate.ok() && (OccursInText(text, *candidate) || kept.Covers(*candidate));
         ++i) {
      candidate = gen->Generate(c, o, attempt + 1 + i, context);
    }
    return candidate;
  };
  std::vector<Result<std::string>> made;
  if (!sur.empty()) {
    if (Status s = vault.SurrogateBatch(sur, scope, generate, &made); !s.ok()) {
      return fail_all(s);
    }
  }
  for (size_t j = 0; j < sur.size(); ++j) {
    const Where& w = sur_at[j];
    if (!(*out)[w.text].ok()) continue;
    if (made[j].ok()) {
      // In the value's letter case here: one pair serves every spelling.
      (*out)[w.text]->at(w.span) = sur[j].category == PhiCategory::kDate
                                       ? MatchDateCase(sur[j].value, days, *std::move(made[j]))
                                       : SurrogateInCaseOf(*std::move(made[j]), sur[j].value);
    } else if ((sur[j].category == PhiCategory::kDate &&
                made[j].status().code() == absl::StatusCode::kAlreadyExists) ||
               made[j].status().code() == absl::StatusCode::kResourceExhausted) {
      // "Oct 31, 2022" and "October 31, 2022" both shift to "May 20, 2022":
      // the second spelling gets a token, as an unparsed date does. So does a
      // value whose category has no unique surrogate left in the scope (the
      // 25th age over 89 of one format in a tenant scope).
      tok.push_back({sur[j].category, sur[j].value});
      tok_at.push_back(w);
    } else {
      (*out)[w.text] = made[j].status();
    }
  }
  if (tok.empty()) return;
  Result<std::vector<std::string>> tokens = vault.TokenizeBatch(tok, scope);
  if (!tokens.ok()) return fail_all(tokens.status());
  for (size_t j = 0; j < tok.size(); ++j) {
    const Where& w = tok_at[j];
    if ((*out)[w.text].ok()) (*out)[w.text]->at(w.span) = std::move((*tokens)[j]);
  }
}

// Tokenize mode for many texts: one TokenizeBatch for the spans of all of
// them (none when no text has one); a vault error fails every text with a span.
void TokenizeSpans(std::span<const std::string_view> texts,
                   std::span<const std::vector<Span>> spans, vault::Vault& vault,
                   const vault::Scope& scope, std::vector<Result<std::vector<std::string>>>* out) {
  out->assign(texts.size(), std::vector<std::string>());
  std::vector<vault::TokenRequest> reqs;
  for (size_t i = 0; i < texts.size(); ++i) {
    for (const Span& sp : spans[i]) {
      reqs.push_back({sp.category, texts[i].substr(sp.begin, sp.end - sp.begin)});
    }
  }
  if (reqs.empty()) return;
  Result<std::vector<std::string>> tokens = vault.TokenizeBatch(reqs, scope);
  size_t next = 0;  // into *tokens
  for (size_t i = 0; i < texts.size(); ++i) {
    if (spans[i].empty()) continue;
    if (!tokens.ok()) {
      (*out)[i] = tokens.status();
      continue;
    }
    auto first = tokens->begin() + static_cast<std::ptrdiff_t>(next);
    (*out)[i]->assign(
        std::make_move_iterator(first),
        std::make_move_iterator(first + static_cast<std::ptrdiff_t>(spans[i].size())));
    next += spans[i].size();
  }
}

// `text` with spans[k] replaced by replacements[k].
std::string Splice(std::string_view text, const std::vector<Span>& spans,
                   const std::vector<std::string>& replacements) {
  std::string out;
  out.reserve(text.size() + spans.size() * 8);
  size_t pos = 0;
  for (size_t k = 0; k < spans.size(); ++k) {
    out.append(text.substr(pos, spans[k].begin - pos));
    out.append(replacements[k]);
    pos = spans[k].end;
  }
  out.append(text.substr(pos));
  return out;
}

// TokenizeTexts and SurrogateTexts.
void ReversibleTexts(std::span<const std::string_view> texts,
                     std::span<const Findings* const> findings, vault::Vault& vault,
                     const vault::Scope& scope, const ReversibleOptions& options,
                     std::vector<Result<std::string>>* out) {
  out->assign(texts.size(), std::string());
  std::vector<std::vector<Span>> spans(texts.size());
  std::vector<bool> valid(texts.size(), false);
  for (size_t i = 0; i < texts.size(); ++i) {
    if (i >= findings.size() || findings[i] == nullptr) {
      (*out)[i] = absl::InvalidArgumentError("no findings given for this text");
      continue;
    }
    Result<std::vector<Span>> s = MergeSpans(texts[i], *findings[i]);
    if (!s.ok()) {
      (*out)[i] = s.status();
      continue;
    }
    valid[i] = true;
    spans[i] = *std::move(s);
  }
  std::vector<Result<std::vector<std::string>>> reps;
  if (options.mode == ReversibleMode::kTokenize) {
    TokenizeSpans(texts, spans, vault, scope, &reps);
  } else {
    SurrogateSpans(texts, spans, vault, scope, options, &reps);
  }
  for (size_t i = 0; i < texts.size(); ++i) {
    if (!valid[i]) continue;
    if (!reps[i].ok()) {
      (*out)[i] = reps[i].status();
      continue;
    }
    (*out)[i] = Splice(texts[i], spans[i], *reps[i]);
  }
}

}  // namespace

Result<ReversibleResult> DeidentifyReversibly(std::string_view text, const Findings& findings,
                                              vault::Vault& vault, const vault::Scope& scope,
                                              const ReversibleOptions& options) {
  PHIGATE_ASSIGN_OR_RETURN(std::vector<Span> spans, MergeSpans(text, findings));
  std::vector<Result<std::vector<std::string>>> reps;
  if (options.mode == ReversibleMode::kTokenize) {
    TokenizeSpans(std::span(&text, 1), std::span(&spans, 1), vault, scope, &reps);
  } else {
    SurrogateSpans(std::span(&text, 1), std::span(&spans, 1), vault, scope, options, &reps);
  }
  ReversibleResult result;
  PHIGATE_ASSIGN_OR_RETURN(result.replacements, std::move(reps[0]));
  result.text = Splice(text, spans, result.replacements);
  return result;
}

void TokenizeTexts(std::span<const std::string_view> texts,
                   std::span<const Findings* const> findings, vault::Vault& vault,
                   const vault::Scope& scope, std::vector<Result<std::string>>* out) {
  ReversibleTexts(texts, findings, vault, scope, {}, out);
}

void SurrogateTexts(std::span<const std::string_view> texts,
                    std::span<const Findings* const> findings, vault::Vault& vault,
                    const vault::Scope& scope, const ReversibleOptions& options,
                    std::vector<Result<std::string>>* out) {
  ReversibleOptions o = options;
  o.mode = ReversibleMode::kSurrogate;
  ReversibleTexts(texts, findings, vault, scope, o, out);
}

Result<std::string> TokenizeText(std::string_view text, const Findings& findings,
                                 vault::Vault& vault, const vault::Scope& scope) {
  PHIGATE_ASSIGN_OR_RETURN(ReversibleResult r,
                           DeidentifyReversibly(text, findings, vault, scope, {}));
  return std::move(r.text);
}

std::unique_ptr<Operator> NewTokenizeOperator() { return std::make_unique<TokenizeOperator>(); }
std::unique_ptr<Operator> NewSurrogateOperator() {
  return std::make_unique<SurrogateOperator>("surrogate");
}
std::unique_ptr<Operator> NewDateShiftOperator() {
  return std::make_unique<SurrogateOperator>("date_shift");
}

}  // namespace phigate::transform
