#include "phigate/audit/event.h"

#include <algorithm>

#include "absl/strings/str_cat.h"

namespace phigate::audit {
namespace {

constexpr std::string_view kKindNames[] = {
    "",       "egress", "ingress",         "reidentify",  "admin", "breach",
    "access", "export", "policy_override", "break_glass", "leak"};
constexpr std::string_view kOperatorNames[] = {"redact",     "tokenize", "surrogate",
                                               "date_shift", "hash",     "mask",
                                               "generalize", "allow",    "block"};

bool IdChar(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
         c == '.' || c == ':' || c == '/' || c == '-';
}

}  // namespace

bool AuditId::IsValid(std::string_view raw) {
  if (raw.empty() || raw.size() > kMaxAuditIdLength) return false;
  return std::all_of(raw.begin(), raw.end(), IdChar);
}

Result<AuditId> AuditId::Make(std::string_view raw) {
  if (raw.empty() || raw.size() > kMaxAuditIdLength) {
    return absl::InvalidArgumentError(
        absl::StrCat("audit id: length ", raw.size(), " not in 1..", kMaxAuditIdLength));
  }
  for (size_t i = 0; i < raw.size(); ++i) {
    if (!IdChar(raw[i])) {
      return absl::InvalidArgumentError(
          absl::StrCat("audit id: character at offset ", i, " is not in [A-Za-z0-9_.:/-]"));
    }
  }
  return AuditId(std::string(raw));
}

std::string_view EventKindName(EventKind k) {
  const auto i = static_cast<uint8_t>(k);
  return i >= 1 && i <= kMaxEventKind ? kKindNames[i] : "unknown";
}
std::optional<EventKind> ParseEventKind(std::string_view s) {
  for (uint8_t i = 1; i <= kMaxEventKind; ++i) {
    if (kKindNames[i] == s) return static_cast<EventKind>(i);
  }
  return std::nullopt;
}
std::string_view DecisionName(Decision d) { return d == Decision::kAllow ? "allow" : "deny"; }
std::string_view OutcomeName(Outcome o) {
  switch (o) {
    case Outcome::kForwarded:
      return "forwarded";
    case Outcome::kBlocked:
      return "blocked";
    case Outcome::kError:
      return "error";
  }
  return "unknown";
}
std::optional<Outcome> ParseOutcome(std::string_view s) {
  if (s == "forwarded") return Outcome::kForwarded;
  if (s == "blocked") return Outcome::kBlocked;
  if (s == "error") return Outcome::kError;
  return std::nullopt;
}
std::string_view OperatorName(OperatorKind o) {
  const auto i = static_cast<uint8_t>(o);
  return i < kNumOperatorKinds ? kOperatorNames[i] : "unknown";
}

void AuditEvent::AddCategoryCount(PhiCategory c, uint32_t n) {
  if (n == 0) return;
  for (auto& [cat, count] : category_counts) {
    if (cat == c) {
      count += n;
      return;
    }
  }
  category_counts.emplace_back(c, n);
}

namespace {
// Sorted by category, one entry per category, no zero counts.
void MergeCounts(std::vector<std::pair<PhiCategory, uint32_t>>* counts) {
  std::sort(counts->begin(), counts->end());
  std::vector<std::pair<PhiCategory, uint32_t>> merged;
  for (const auto& [c, n] : *counts) {
    if (n == 0) continue;
    if (!merged.empty() && merged.back().first == c) {
      merged.back().second += n;
    } else {
      merged.emplace_back(c, n);
    }
  }
  *counts = std::move(merged);
}
}  // namespace

void AuditEvent::Canonicalize() {
  std::sort(reasons.begin(), reasons.end());
  reasons.erase(std::unique(reasons.begin(), reasons.end()), reasons.end());
  MergeCounts(&category_counts);
  if (sent_as_written) MergeCounts(&*sent_as_written);
  std::sort(subjects.begin(), subjects.end());
  subjects.erase(std::unique(subjects.begin(), subjects.end()), subjects.end());
}

Status AuditEvent::Validate() const {
  if (!AuditId::IsValid(tenant.value()) || tenant.value().size() > 64) {
    return absl::InvalidArgumentError("audit event: tenant id missing or invalid");
  }
  const auto k = static_cast<uint8_t>(kind);
  if (k < 1 || k > kMaxEventKind) return absl::InvalidArgumentError("audit event: bad kind");
  if (decision != Decision::kAllow && decision != Decision::kDeny) {
    return absl::InvalidArgumentError("audit event: bad decision");
  }
  if (outcome != Outcome::kForwarded && outcome != Outcome::kBlocked &&
      outcome != Outcome::kError) {
    return absl::InvalidArgumentError("audit event: bad outcome");
  }
  if (reasons.size() > 255 || subjects.size() > 255 || category_counts.size() > 255) {
    return absl::InvalidArgumentError("audit event: more than 255 reasons/subjects/categories");
  }
  for (const auto& [c, n] : category_counts) {
    if (static_cast<size_t>(c) >= kNumPhiCategories) {
      return absl::InvalidArgumentError("audit event: bad category");
    }
    (void)n;
  }
  if (sent_as_written) {
    if (sent_as_written->size() > 255) {
      return absl::InvalidArgumentError("audit event: more than 255 categories sent as written");
    }
    for (const auto& [c, n] : *sent_as_written) {
      // Never more values of a category sent as written than found.
      auto found = std::find_if(category_counts.begin(), category_counts.end(),
                                [c = c](const auto& x) { return x.first == c; });
      if (static_cast<size_t>(c) >= kNumPhiCategories || found == category_counts.end() ||
          n > found->second) {
        return absl::InvalidArgumentError("audit event: bad category sent as written");
      }
    }
  }
  if (operators >> kNumOperatorKinds)
    return absl::InvalidArgumentError("audit event: bad operators");
  return absl::OkStatus();
}

}  // namespace phigate::audit
