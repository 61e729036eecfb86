#include "src/gateway/deid.h"

#include <algorithm>
#include <cctype>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "phigate/core/json_escape.h"
#include "phigate/detect/engine.h"
#include "phigate/transform/reidentify.h"
#include "phigate/transform/surrogate.h"

namespace phigate::gateway {
namespace {

// A surrogate in the letter case of the spelling it replaces here: a vault
// pair may serve several spellings of a value (dates come from the vault in
// their own case already).
std::string InCaseOf(PhiCategory c, std::string surrogate, std::string_view original) {
  if (c == PhiCategory::kDate) return surrogate;
  return transform::SurrogateInCaseOf(std::move(surrogate), original);
}

// ASCII only, as std::tolower in the "C" locale phigate runs in, without its
// call per byte (it was 2.5 % of re-identifying a stream).
inline char Lower(char c) { return absl::ascii_tolower(static_cast<unsigned char>(c)); }
inline bool IsWordByte(char c) {
  const auto u = static_cast<unsigned char>(c);
  return std::isalnum(u) || c == '_' || u >= 0x80;
}
// Case-insensitive compare of text[0, lower.size()) with an already lower-cased string.
inline bool EqualsLower(std::string_view text, std::string_view lower) {
  for (size_t i = 0; i < lower.size(); ++i) {
    if (Lower(text[i]) != lower[i]) return false;
  }
  return true;
}

}  // namespace

std::string_view ActionName(Action a) {
  switch (a) {
    case Action::kAllow:
      return "allow";
    case Action::kTokenize:
      return "tokenize";
    case Action::kSurrogate:
      return "surrogate";
    case Action::kRedact:
      return "redact";
    case Action::kBlock:
      return "block";
  }
  return "unknown";
}

DeidSession::DeidSession(const Detector& detector, const Redactor* redactor, TokenVault* vault,
                         const Decision& decision, std::string scope)
    : detector_(detector),
      redactor_(redactor),
      vault_(vault),
      decision_(decision),
      scope_(std::move(scope)) {}

std::string DeidSession::MapKey(bool surrogate, PhiCategory c, std::string_view original) {
  std::string key;
  key.reserve(original.size() + 2);
  key.push_back(surrogate ? 's' : 't');
  key.push_back(static_cast<char>(c));
  key.append(original);
  return key;
}

size_t DeidSession::AddEntry(Entry e, bool index_variants) {
  index_.emplace(MapKey(e.surrogate, e.category, e.original), map_.size());
  map_.push_back(std::move(e));
  ++stats_.tokens_minted;
  AddVariants(map_.size() - 1);
  if (index_variants) IndexVariants();
  return map_.size() - 1;
}

Status DeidSession::Deidentify(std::string* text) {
  const size_t first = fields_.size();
  PHIGATE_RETURN_IF_ERROR(Scan(*text));
  Status s = Mint();
  if (s.ok()) s = Apply(text);
  if (!s.ok()) fields_.resize(first);  // a failed field is not pending
  applied_ = fields_.size();
  return s;
}

Status DeidSession::Scan(std::string_view text) {
  Findings findings;
  if (Status s = detector_.Scan(text, &findings); !s.ok()) {
    failure_ = DeidFailure::kDetect;
    return absl::InternalError("PHI detection failed; request refused");
  }
  // Check the spans and the blocked categories before any vault write.
  size_t prev_end = 0;
  for (const Finding& f : findings) {
    if (f.begin < prev_end || f.begin >= f.end || f.end > text.size()) {
      failure_ = DeidFailure::kDetect;
      return absl::InternalError("PHI detection returned invalid spans; request refused");
    }
    prev_end = f.end;
    if (decision_.ActionFor(f.category) == Action::kBlock) {
      failure_ = DeidFailure::kBlocked;
      return absl::PermissionDeniedError(absl::StrCat("the policy blocks PHI of category ",
                                                      ToAbsl(CategoryName(f.category)),
                                                      " for this feature and vendor"));
    }
  }
  // The values to tokenize or give surrogates that no earlier field of the
  // request already has.
  for (const Finding& f : findings) {
    const Action action = decision_.ActionFor(f.category);
    if (action != Action::kTokenize && action != Action::kSurrogate) continue;
    const bool surrogate = action == Action::kSurrogate;
    const std::string_view original = text.substr(f.begin, f.size());
    std::string key = MapKey(surrogate, f.category, original);
    if (index_.contains(key) || pending_keys_.contains(key)) continue;
    pending_keys_.insert(std::move(key));
    (surrogate ? pending_surrogates_ : pending_).emplace_back(f.category, std::string(original));
  }
  // The words this field keeps, so that no new surrogate reads as them.
  if (std::any_of(decision_.actions.begin(), decision_.actions.end(),
                  [](Action a) { return a == Action::kSurrogate; })) {
    kept_lower_.emplace_back(text);
    absl::AsciiStrToLower(&kept_lower_.back());
    kept_.Add(kept_lower_.back(), findings);
  }
  fields_.push_back(
      ScannedField{text.size(), std::hash<std::string_view>{}(text), std::move(findings)});
  return absl::OkStatus();
}

Status DeidSession::Mint() {
  // The kept words serve the fields scanned for this mint only.
  struct ClearKept {
    DeidSession* s;
    ~ClearKept() {
      s->kept_.clear();
      s->kept_lower_.clear();
    }
  } clear_kept{this};
  if (pending_.empty() && pending_surrogates_.empty()) return absl::OkStatus();
  std::vector<std::pair<PhiCategory, std::string>> pending = std::move(pending_);
  std::vector<std::pair<PhiCategory, std::string>> surrogates = std::move(pending_surrogates_);
  pending_.clear();
  pending_surrogates_.clear();
  pending_keys_.clear();
  if (vault_ == nullptr) {
    failure_ = DeidFailure::kVault;
    return absl::UnavailableError("the token vault is not available; request refused");
  }
  PHIGATE_RETURN_IF_ERROR(MintSurrogates(std::move(surrogates)));
  if (pending.empty()) return absl::OkStatus();
  std::vector<std::pair<PhiCategory, std::string_view>> batch;
  batch.reserve(pending.size());
  for (const auto& [c, v] : pending) batch.emplace_back(c, v);
  // A value is minted once per session (Scan skips values already in index_),
  // so a request's own scope is never tokenized into twice for the same value:
  // the vault may skip its value index for it (TokenizeBatchOnce).
  Result<std::vector<std::string>> tokens = vault_->TokenizeBatchOnce(batch, scope_);
  if (!tokens.ok() || tokens->size() != batch.size()) {
    failure_ = DeidFailure::kVault;
    return absl::UnavailableError("the token vault failed; request refused");
  }
  for (const std::string& t : *tokens) {
    if (t.empty()) {
      failure_ = DeidFailure::kVault;
      return absl::UnavailableError("the token vault failed; request refused");
    }
  }
  // A token an earlier batch of this session gave another value: possible when
  // the vault keeps a request's tokens in memory only (it cannot see the
  // earlier batch), ~1 in 24 M per pair. Those values are minted again.
  for (int round = 0;; ++round) {
    std::vector<size_t> clash;
    if (!map_.empty()) {
      absl::flat_hash_map<std::string_view, size_t> earlier;
      for (size_t k = 0; k < map_.size(); ++k) earlier.emplace(map_[k].replacement, k);
      for (size_t i = 0; i < tokens->size(); ++i) {
        auto it = earlier.find((*tokens)[i]);
        if (it == earlier.end()) continue;
        const Entry& e = map_[it->second];
        if (e.category != batch[i].first ||
            absl::StripAsciiWhitespace(e.original) !=
                absl::StripAsciiWhitespace(ToAbsl(batch[i].second))) {
          clash.push_back(i);
        }
      }
    }
    if (clash.empty()) break;
    std::vector<std::pair<PhiCategory, std::string_view>> again;
    for (size_t i : clash) again.push_back(batch[i]);
    Result<std::vector<std::string>> fresh =
        round < 3 ? vault_->TokenizeBatchOnce(again, scope_) : absl::InternalError("clash");
    if (!fresh.ok() || fresh->size() != again.size()) {
      failure_ = DeidFailure::kVault;
      return absl::UnavailableError("the token vault failed; request refused");
    }
    for (size_t j = 0; j < clash.size(); ++j) (*tokens)[clash[j]] = std::move((*fresh)[j]);
  }
  map_.reserve(map_.size() + pending.size());
  for (size_t i = 0; i < pending.size(); ++i) {
    AddEntry(Entry{std::move((*tokens)[i]), std::move(pending[i].second), pending[i].first,
                   /*surrogate=*/false},
             /*index_variants=*/false);
  }
  IndexVariants();  // once per batch, not once per token
  return absl::OkStatus();
}

// Every new surrogate of the request in one SurrogateBatch (one vault
// transaction), as Mint does for tokens.
Status DeidSession::MintSurrogates(std::vector<std::pair<PhiCategory, std::string>> values) {
  if (values.empty()) return absl::OkStatus();
  std::vector<std::pair<PhiCategory, std::string_view>> batch;
  batch.reserve(values.size());
  for (const auto& [c, v] : values) batch.emplace_back(c, v);
  Result<std::vector<std::string>> made = vault_->SurrogateBatchAvoiding(
      batch, scope_, [this](std::string_view candidate) { return kept_.Covers(candidate); });
  if (!made.ok() || made->size() != batch.size() ||
      std::any_of(made->begin(), made->end(), [](const std::string& r) { return r.empty(); })) {
    failure_ = DeidFailure::kVault;
    return absl::UnavailableError("the token vault failed; request refused");
  }
  map_.reserve(map_.size() + values.size());
  for (size_t i = 0; i < values.size(); ++i) {
    std::string rep = InCaseOf(values[i].first, std::move((*made)[i]), values[i].second);
    AddEntry(Entry{std::move(rep), std::move(values[i].second), values[i].first,
                   /*surrogate=*/true},
             /*index_variants=*/false);
  }
  IndexVariants();
  return absl::OkStatus();
}

Status DeidSession::FinishFields() const {
  if (applied_ != fields_.size()) {
    return absl::InternalError("de-identification did not cover every field; request refused");
  }
  return absl::OkStatus();
}

Status DeidSession::Apply(std::string* text) {
  if (applied_ >= fields_.size() || fields_[applied_].size != text->size() ||
      fields_[applied_].hash != std::hash<std::string_view>{}(*text)) {
    failure_ = DeidFailure::kDetect;
    return absl::InternalError("the request changed during de-identification; request refused");
  }
  const Findings& findings = fields_[applied_].findings;
  if (findings.empty()) {
    ++applied_;
    sent_text_.append(*text).push_back('\n');
    return absl::OkStatus();
  }
  std::string out;
  out.reserve(text->size() + findings.size() * 8);
  size_t pos = 0;
  for (const Finding& f : findings) {
    out.append(*text, pos, f.begin - pos);
    const std::string_view original = std::string_view(*text).substr(f.begin, f.size());
    const Action action = decision_.ActionFor(f.category);
    ++stats_.category_counts[static_cast<size_t>(f.category)];
    ++stats_.action_counts[static_cast<size_t>(action)];
    if (action == Action::kAllow) {
      ++stats_.sent_as_written[static_cast<size_t>(f.category)];
      out.append(original);
      plain_.push_back(SentValue{f.category, std::string(original), ""});
    } else {
      Result<std::string> r = Replace(original, f);
      if (!r.ok()) return r.status();
      if (action == Action::kRedact) {
        plain_.push_back(SentValue{f.category, std::string(original), *r});
      }
      out.append(*r);
    }
    pos = f.end;
  }
  out.append(*text, pos, std::string::npos);
  *text = std::move(out);
  ++applied_;
  sent_text_.append(*text).push_back('\n');
  return absl::OkStatus();
}

Result<std::string> DeidSession::Replace(std::string_view original, const Finding& f) {
  const Action action = decision_.ActionFor(f.category);
  if (action == Action::kRedact) {
    if (redactor_ == nullptr) return absl::StrCat("[", ToAbsl(CategoryName(f.category)), "]");
    Result<std::string> r = redactor_->Redact(original, f);
    if (!r.ok()) {
      failure_ = DeidFailure::kRedact;
      return absl::InternalError("redaction failed; request refused");
    }
    return r;
  }
  const bool surrogate = action == Action::kSurrogate;
  if (auto it = index_.find(MapKey(surrogate, f.category, original)); it != index_.end()) {
    return map_[it->second].replacement;
  }
  if (vault_ == nullptr) {
    failure_ = DeidFailure::kVault;
    return absl::UnavailableError("the token vault is not available; request refused");
  }
  Result<std::string> r = surrogate ? vault_->Surrogate(f.category, original, scope_)
                                    : vault_->Tokenize(f.category, original, scope_);
  if (!r.ok() || r->empty()) {
    failure_ = DeidFailure::kVault;
    return absl::UnavailableError("the token vault failed; request refused");
  }
  if (surrogate) *r = InCaseOf(f.category, std::move(*r), original);
  AddEntry(Entry{*r, std::string(original), f.category, surrogate});
  return std::move(r).value();
}

void DeidSession::AddVariants(size_t entry) {
  const std::string& rep = map_[entry].replacement;
  std::string lower(rep.size(), '\0');
  std::transform(rep.begin(), rep.end(), lower.begin(), Lower);
  const bool bracketed = rep.size() > 2 && rep.front() == '[' && rep.back() == ']';
  const bool age_number =
      map_[entry].surrogate && map_[entry].category == PhiCategory::kAge && !rep.empty() &&
      std::all_of(rep.begin(), rep.end(), [](char c) { return c >= '0' && c <= '9'; });
  const bool initial =
      map_[entry].surrogate && transform::IsInitialSurrogate(map_[entry].category, rep);
  variants_.push_back(Variant{lower, entry, !bracketed, age_number, initial});
  if (bracketed) variants_.push_back(Variant{lower.substr(1, lower.size() - 2), entry, true});
}

size_t DeidSession::ContextBytes(const Variant& v) {
  if (v.age_number) return detect::kAgeContextBytes;
  return v.initial ? transform::kAbbreviationContextBytes : 0;
}

void DeidSession::IndexVariants() {
  std::stable_sort(variants_.begin(), variants_.end(), [](const Variant& a, const Variant& b) {
    return a.lower.size() > b.lower.size();
  });
  first_bytes_.fill(false);
  max_variant_ = 0;
  for (const Variant& v : variants_) {
    first_bytes_[static_cast<unsigned char>(v.lower[0])] = true;
    first_bytes_[static_cast<unsigned char>(std::toupper(static_cast<unsigned char>(v.lower[0])))] =
        true;
    max_variant_ = std::max(max_variant_, v.lower.size() + ContextBytes(v));
  }
}

void DeidSession::Reidentify(std::string_view text, bool json_escape, std::string* out) {
  if (variants_.empty()) {
    out->append(text);
    return;
  }
  size_t last = 0;
  size_t i = 0;
  const size_t n = text.size();
  while (i < n) {
    if (!first_bytes_[static_cast<unsigned char>(text[i])]) {
      ++i;
      continue;
    }
    const Variant* hit = nullptr;
    for (const Variant& v : variants_) {
      const size_t len = v.lower.size();
      if (n - i < len || !EqualsLower(text.substr(i), v.lower)) continue;
      if (v.needs_word_boundary &&
          ((i > 0 && IsWordByte(text[i - 1])) || (i + len < n && IsWordByte(text[i + len])))) {
        continue;
      }
      if (v.age_number && !detect::WrittenAsAge(text, i, i + len)) continue;
      if (v.initial && transform::InAbbreviation(text, i, i + len)) continue;
      hit = &v;
      break;
    }
    if (hit == nullptr) {
      ++i;
      continue;
    }
    out->append(text.substr(last, i - last));
    // A surrogate's original in the letter case the answer writes it in
    // (tokens' case means nothing).
    const Entry& e = map_[hit->entry];
    const std::string original =
        e.surrogate ? transform::OriginalInCaseOf(e.original, text.substr(i, hit->lower.size()),
                                                  e.replacement)
                    : e.original;
    if (json_escape) {
      AppendJsonEscaped(original, out);
    } else {
      out->append(original);
    }
    ++stats_.tokens_reidentified;
    i += hit->lower.size();
    last = i;
  }
  out->append(text.substr(last));
}

size_t DeidSession::HoldBack(std::string_view text) const {
  if (variants_.empty() || text.empty()) return 0;
  const size_t n = text.size();
  const size_t start = n >= max_variant_ ? n - max_variant_ + 1 : 0;
  for (size_t i = start; i < n; ++i) {
    if (!first_bytes_[static_cast<unsigned char>(text[i])]) continue;
    const std::string_view suffix = text.substr(i);
    for (const Variant& v : variants_) {
      // An age (an initial) also waits for the bytes after it that say
      // whether it is one.
      const size_t wait = v.lower.size() + ContextBytes(v);
      if (wait <= suffix.size()) continue;
      if (!EqualsLower(suffix.substr(0, std::min(suffix.size(), v.lower.size())),
                       v.lower.substr(0, std::min(suffix.size(), v.lower.size())))) {
        continue;
      }
      if (v.needs_word_boundary && i > 0 && IsWordByte(text[i - 1])) continue;
      return n - i;
    }
  }
  return 0;
}

std::vector<std::string> DeidSession::SentReplacements() const {
  std::vector<std::string> out;
  out.reserve(map_.size());
  for (const Entry& e : map_) out.push_back(e.replacement);
  return out;
}

std::vector<SentValue> DeidSession::SentValues() const {
  std::vector<SentValue> out = plain_;
  out.reserve(plain_.size() + map_.size());
  for (const Entry& e : map_) out.push_back(SentValue{e.category, e.original, e.replacement});
  return out;
}

}  // namespace phigate::gateway
