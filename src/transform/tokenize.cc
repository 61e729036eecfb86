#include "phigate/transform/tokenize.h"

#include <algorithm>

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

// One surrogate through the vault; dates use the scope's offset (no
// generator needed), and dates in an unknown format fall back to a token.
//
// A candidate that already occurs in the text (outside its own span: "97"
// for an age when the note also says "BP 144/97") would be mapped back in the
// wrong place, so such candidates are drawn again.
// `lower_text` is the whole text in ASCII lower case.
bool OccursInText(std::string_view lower_text, std::string_view candidate) {
  if (lower_text.empty() || candidate.empty()) return false;
  return lower_text.find(absl::AsciiStrToLower(std::string(candidate))) != std::string_view::npos;
}

Result<std::string> SurrogateFor(vault::Vault& vault, const vault::Scope& scope,
                                 const SurrogateGenerator* gen, PhiCategory category,
                                 std::string_view original, int max_days,
                                 std::optional<int>* offset, std::string_view lower_text = {}) {
  if (category == PhiCategory::kDate) {
    if (!ParseDate(original)) return vault.Tokenize(category, original, scope);
    if (!offset->has_value()) {
      PHIGATE_ASSIGN_OR_RETURN(int days, vault.DateShiftDays(scope, max_days));
      *offset = days;
    }
    const int days = **offset;
    Result<std::string> out = vault.Surrogate(
        category, original, scope,
        [days](PhiCategory, std::string_view o, int attempt) -> Result<std::string> {
          auto shifted = ShiftDateText(o, days);
          if (!shifted || attempt > 0) {
            return absl::AlreadyExistsError("shifted date unavailable");
          }
          return *shifted;
        });
    // A date has one shifted form, and it can be taken: "Oct 31, 2022" and
    // "October 31, 2022" both shift to "May 20, 2022". The second spelling
    // gets a token instead, as an unparsed date does (reversible all the same).
    if (!out.ok() && out.status().code() == absl::StatusCode::kAlreadyExists) {
      return vault.Tokenize(category, original, scope);
    }
    PHIGATE_RETURN_IF_ERROR(out.status());
    return MatchDateCase(original, days, *std::move(out));
  }
  if (gen == nullptr) {
    return absl::FailedPreconditionError("surrogate operator needs a SurrogateGenerator");
  }
  return vault.Surrogate(
      category, original, scope,
      [gen, lower_text](PhiCategory c, std::string_view o, int attempt) -> Result<std::string> {
        Result<std::string> candidate = gen->Generate(c, o, attempt, 0);
        for (int i = 0; i < 16 && candidate.ok() && OccursInText(lower_text, *candidate); ++i) {
          candidate = gen->Generate(c, o, attempt + 1 + i, 0);
        }
        return candidate;
      });
}

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
    std::optional<int> offset;
    PHIGATE_ASSIGN_OR_RETURN(
        std::string out, SurrogateFor(vc->vault(), vc->scope(), vc->generator(), finding.category,
                                      original, max_days, &offset));
    vc->issued().push_back(out);
    return out;
  }

 private:
  std::string name_;
};

}  // namespace

Result<ReversibleResult> DeidentifyReversibly(std::string_view text, const Findings& findings,
                                              vault::Vault& vault, const vault::Scope& scope,
                                              const ReversibleOptions& options) {
  PHIGATE_ASSIGN_OR_RETURN(std::vector<Span> spans, MergeSpans(text, findings));
  ReversibleResult result;
  result.replacements.reserve(spans.size());
  if (options.mode == ReversibleMode::kTokenize) {
    std::vector<vault::TokenRequest> reqs;
    reqs.reserve(spans.size());
    for (const Span& s : spans) reqs.push_back({s.category, text.substr(s.begin, s.end - s.begin)});
    if (!reqs.empty()) {  // no finding: no vault transaction
      PHIGATE_ASSIGN_OR_RETURN(result.replacements, vault.TokenizeBatch(reqs, scope));
    }
  } else {
    if (options.generator == nullptr) {
      return absl::InvalidArgumentError("surrogate mode needs a SurrogateGenerator");
    }
    std::optional<int> offset;
    const std::string lower_text = absl::AsciiStrToLower(std::string(text));
    for (const Span& s : spans) {
      PHIGATE_ASSIGN_OR_RETURN(std::string r,
                               SurrogateFor(vault, scope, options.generator, s.category,
                                            text.substr(s.begin, s.end - s.begin),
                                            options.max_date_shift_days, &offset, lower_text));
      result.replacements.push_back(std::move(r));
    }
  }
  size_t pos = 0;
  result.text.reserve(text.size() + spans.size() * 8);
  for (size_t i = 0; i < spans.size(); ++i) {
    result.text.append(text.substr(pos, spans[i].begin - pos));
    result.text.append(result.replacements[i]);
    pos = spans[i].end;
  }
  result.text.append(text.substr(pos));
  return result;
}

void TokenizeTexts(std::span<const std::string_view> texts,
                   std::span<const Findings* const> findings, vault::Vault& vault,
                   const vault::Scope& scope, std::vector<Result<std::string>>* out) {
  out->assign(texts.size(), std::string());
  std::vector<std::vector<Span>> spans(texts.size());
  std::vector<bool> valid(texts.size(), false);
  std::vector<vault::TokenRequest> reqs;
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
    for (const Span& sp : spans[i]) {
      reqs.push_back({sp.category, texts[i].substr(sp.begin, sp.end - sp.begin)});
    }
  }
  Result<std::vector<std::string>> tokens = std::vector<std::string>();
  if (!reqs.empty()) tokens = vault.TokenizeBatch(reqs, scope);  // no finding: no transaction
  size_t next = 0;                                               // into *tokens
  for (size_t i = 0; i < texts.size(); ++i) {
    if (!valid[i]) continue;
    if (!spans[i].empty() && !tokens.ok()) {
      (*out)[i] = tokens.status();
      continue;
    }
    std::string text;
    text.reserve(texts[i].size() + spans[i].size() * 8);
    size_t pos = 0;
    for (const Span& sp : spans[i]) {
      text.append(texts[i].substr(pos, sp.begin - pos));
      text.append((*tokens)[next++]);
      pos = sp.end;
    }
    text.append(texts[i].substr(pos));
    (*out)[i] = std::move(text);
  }
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
