#include "phigate/model/labels.h"

#include <array>

namespace phigate::model {
namespace {

constexpr std::array<std::string_view, kNumEntityTypes> kTypeNames = {
    "NAME", "LOCATION", "DATE", "AGE", "PHONE", "EMAIL", "URL", "IP", "SSN", "ID"};

constexpr std::array<std::string_view, kNumLabels> kLabelNames = {
    "O",     "B-NAME", "I-NAME",  "B-LOCATION", "I-LOCATION", "B-DATE",  "I-DATE",
    "B-AGE", "I-AGE",  "B-PHONE", "I-PHONE",    "B-EMAIL",    "I-EMAIL", "B-URL",
    "I-URL", "B-IP",   "I-IP",    "B-SSN",      "I-SSN",      "B-ID",    "I-ID"};

}  // namespace

std::string_view EntityTypeName(EntityType t) { return kTypeNames[static_cast<size_t>(t)]; }

std::optional<EntityType> ParseEntityType(std::string_view name) {
  for (size_t i = 0; i < kTypeNames.size(); ++i) {
    if (kTypeNames[i] == name) return static_cast<EntityType>(i);
  }
  return std::nullopt;
}

PhiCategory ToCategory(EntityType t) {
  switch (t) {
    case EntityType::kName:
      return PhiCategory::kName;
    case EntityType::kLocation:
      return PhiCategory::kLocation;
    case EntityType::kDate:
      return PhiCategory::kDate;
    case EntityType::kAge:
      return PhiCategory::kAge;
    case EntityType::kPhone:
      return PhiCategory::kPhone;
    case EntityType::kEmail:
      return PhiCategory::kEmail;
    case EntityType::kUrl:
      return PhiCategory::kUrl;
    case EntityType::kIp:
      return PhiCategory::kIp;
    case EntityType::kSsn:
      return PhiCategory::kSsn;
    case EntityType::kId:
      return PhiCategory::kOtherId;
  }
  return PhiCategory::kOtherId;
}

std::string_view LabelName(int label) {
  if (label < 0 || label >= kNumLabels) return "?";
  return kLabelNames[static_cast<size_t>(label)];
}

}  // namespace phigate::model
