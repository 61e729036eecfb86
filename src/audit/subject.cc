#include "phigate/audit/subject.h"

#include <cstdlib>
#include <cstring>
#include <fstream>
#include <iterator>
#include <optional>

#include "absl/strings/str_cat.h"
#include "phigate/crypto/secret.h"

namespace phigate::audit {
namespace {

// Longest first, so "MEDICAL RECORD NUMBER" wins over "MEDICAL RECORD". The
// gateway indexes MRNs, SSNs and health-plan ids; each is asked for with its
// label as often as without. A label names the identifier's category, but
// the generic ones (ID, NUMBER, NO).
struct Label {
  std::string_view text;
  std::optional<PhiCategory> category;
};
constexpr Label kLabels[] = {{"SOCIAL SECURITY NUMBER", PhiCategory::kSsn},
                             {"MEDICAL RECORD NUMBER", PhiCategory::kMrn},
                             {"SOCIAL SECURITY NO", PhiCategory::kSsn},
                             {"MEDICAL RECORD NO", PhiCategory::kMrn},
                             {"HEALTH PLAN ID", PhiCategory::kHealthPlan},
                             {"MEDICAL RECORD", PhiCategory::kMrn},
                             {"SUBSCRIBER ID", PhiCategory::kHealthPlan},
                             {"MEMBER NUMBER", PhiCategory::kHealthPlan},
                             {"POLICY NUMBER", PhiCategory::kHealthPlan},
                             {"PATIENT NUMBER", PhiCategory::kMrn},
                             {"RECORD NUMBER", PhiCategory::kMrn},
                             {"MEDICARE ID", PhiCategory::kHealthPlan},
                             {"PATIENT NO", PhiCategory::kMrn},
                             {"PATIENT ID", PhiCategory::kMrn},
                             {"POLICY NO", PhiCategory::kHealthPlan},
                             {"MEMBER ID", PhiCategory::kHealthPlan},
                             {"RECORD NO", PhiCategory::kMrn},
                             {"PLAN ID", PhiCategory::kHealthPlan},
                             {"PT ID", PhiCategory::kMrn},
                             {"MRN", PhiCategory::kMrn},
                             {"SSN", PhiCategory::kSsn},
                             {"MBI", PhiCategory::kHealthPlan},
                             {"MR", PhiCategory::kMrn},
                             {"ID", std::nullopt},
                             {"NUMBER", std::nullopt},
                             {"NO", std::nullopt}};

bool Alnum(char c) { return (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9'); }

// The normalised identifier, and the category of its first specific label.
std::string Normalize(std::string_view identifier, std::optional<PhiCategory>* category) {
  // Upper-case and collapse every run of non-alphanumerics into one space, so
  // labels can be matched as whole words.
  std::string words;
  for (char c : identifier) {
    if (c >= 'a' && c <= 'z') c = static_cast<char>(c - 'a' + 'A');
    if (Alnum(c)) {
      words.push_back(c);
    } else if (!words.empty() && words.back() != ' ') {
      words.push_back(' ');
    }
  }
  while (!words.empty() && words.back() == ' ') words.pop_back();
  // Strip leading labels ("MRN NO 123" -> "123") while something is left.
  bool stripped = true;
  while (stripped) {
    stripped = false;
    for (const Label& label : kLabels) {
      if (words.size() > label.text.size() + 1 &&
          words.compare(0, label.text.size(), label.text) == 0 && words[label.text.size()] == ' ') {
        words.erase(0, label.text.size() + 1);
        if (category != nullptr && !category->has_value()) *category = label.category;
        stripped = true;
        break;
      }
    }
  }
  std::string out;
  for (char c : words) {
    if (c != ' ') out.push_back(c);
  }
  return out;
}

bool NamesPatient(PhiCategory c) {
  return c == PhiCategory::kMrn || c == PhiCategory::kSsn || c == PhiCategory::kHealthPlan;
}

}  // namespace

std::string NormalizeSubjectIdentifier(std::string_view identifier) {
  return Normalize(identifier, nullptr);
}

std::vector<PhiCategory> SubjectCategoriesOf(std::string_view identifier) {
  std::optional<PhiCategory> category;
  Normalize(identifier, &category);
  if (category.has_value()) return {*category};
  return {PhiCategory::kMrn, PhiCategory::kSsn, PhiCategory::kHealthPlan};
}

Result<BlindIndex> SubjectIndex(std::string_view tenant_key, std::string_view identifier) {
  if (tenant_key.size() < 16) return absl::InvalidArgumentError("subject index: key too short");
  const std::string norm = NormalizeSubjectIdentifier(identifier);
  if (norm.empty()) {
    return absl::InvalidArgumentError("subject index: identifier has no letters or digits");
  }
  static constexpr char kDomain[] = "phigate-subject-v1";
  std::string msg(kDomain, sizeof(kDomain));  // includes the NUL separator
  msg += norm;
  return crypto::HmacSha256(tenant_key, msg);
}

Result<BlindIndex> SubjectIndexFor(std::string_view tenant_key, PhiCategory category,
                                   std::string_view identifier) {
  if (tenant_key.size() < 16) return absl::InvalidArgumentError("subject index: key too short");
  if (!NamesPatient(category)) {
    return absl::InvalidArgumentError("subject index: the category names no patient");
  }
  const std::string norm = NormalizeSubjectIdentifier(identifier);
  if (norm.empty()) {
    return absl::InvalidArgumentError("subject index: identifier has no letters or digits");
  }
  static constexpr char kDomain[] = "phigate-subject-v2";
  std::string msg(kDomain, sizeof(kDomain));  // includes the NUL separator
  msg += CategoryName(category);
  msg.push_back('\0');
  msg += norm;
  return crypto::HmacSha256(tenant_key, msg);
}

Result<std::vector<BlindIndex>> SubjectIndexesToQuery(std::string_view tenant_key,
                                                      std::string_view identifier) {
  std::vector<BlindIndex> out;
  for (PhiCategory c : SubjectCategoriesOf(identifier)) {
    PHIGATE_ASSIGN_OR_RETURN(BlindIndex b, SubjectIndexFor(tenant_key, c, identifier));
    out.push_back(b);
  }
  PHIGATE_ASSIGN_OR_RETURN(BlindIndex legacy, SubjectIndex(tenant_key, identifier));
  out.push_back(legacy);
  return out;
}

Result<std::string> TenantAuditKey(std::string_view master_key, const TenantId& tenant) {
  if (master_key.size() < 32) return absl::InvalidArgumentError("audit key: master key too short");
  return crypto::HkdfSha256(master_key, "phigate-audit-v1",
                            absl::StrCat("subject-index:", tenant.value()), 32);
}

Result<std::string> MasterKeyFromHex(std::string_view hex) {
  std::string h;
  for (char c : hex) {
    if (c != ' ' && c != '\n' && c != '\r' && c != '\t') h.push_back(c);
  }
  if (h.size() < 64) {
    return absl::InvalidArgumentError("master key: need at least 64 hex digits (32 bytes)");
  }
  return crypto::FromHex(h);
}

Result<std::string> MasterKeyFromEnv() {
  const char* v = std::getenv(kMasterKeyEnv);
  if (v == nullptr || *v == '\0') {
    return absl::NotFoundError("master key: set PHIGATE_MASTER_KEY (64+ hex digits)");
  }
  return MasterKeyFromHex(v);
}

Result<std::string> MasterKeyFromFile(const std::string& path) {
  PHIGATE_ASSIGN_OR_RETURN(crypto::SecretBytes text,
                           crypto::ReadSecretFile(path, "master key file"));
  return MasterKeyFromHex(text.view());
}

Result<std::unique_ptr<crypto::Ed25519Signer>> SigningKeyFromMaster(std::string_view master_key) {
  if (master_key.size() < 32)
    return absl::InvalidArgumentError("signing key: master key too short");
  PHIGATE_ASSIGN_OR_RETURN(std::string seed,
                           crypto::HkdfSha256(master_key, "phigate-audit-v1", "audit-signing-key",
                                              crypto::kEd25519SeedSize));
  return crypto::Ed25519Signer::FromSeed(seed);
}

Result<std::unique_ptr<crypto::Ed25519Signer>> SigningKeyFromEnv(std::string_view master_key) {
  const char* path = std::getenv(kSigningKeyEnv);
  if (path != nullptr && *path != '\0') return crypto::Ed25519Signer::FromFile(path);
  return SigningKeyFromMaster(master_key);
}

std::string BlindIndexHex(const BlindIndex& b) {
  return crypto::ToHex(std::string_view(reinterpret_cast<const char*>(b.data()), b.size()));
}

Result<BlindIndex> BlindIndexFromHex(std::string_view hex) {
  PHIGATE_ASSIGN_OR_RETURN(std::string raw, crypto::FromHex(hex));
  if (raw.size() != 32) return absl::InvalidArgumentError("blind index: need 64 hex digits");
  BlindIndex b;
  std::memcpy(b.data(), raw.data(), 32);
  return b;
}

}  // namespace phigate::audit
