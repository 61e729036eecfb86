// The entity types the tagger knows, their BIO labels and their PhiCategory.
//
// Labels: 0 is O; for entity type t (0..kNumEntityTypes-1), B-t is 1 + 2t and
// I-t is 2 + 2t. A valid label sequence never has I-t after anything but B-t
// or I-t (the decoder enforces this).
//
// Example:
//   auto t = ParseEntityType("LOCATION");      // EntityType::kLocation
//   int b = BeginLabel(*t);                     // 3
//   PhiCategory c = ToCategory(*t);             // PhiCategory::kLocation
#ifndef PHIGATE_MODEL_LABELS_H_
#define PHIGATE_MODEL_LABELS_H_

#include <cstdint>
#include <optional>
#include <string_view>

#include "phigate/core/phi_category.h"

namespace phigate::model {

enum class EntityType : uint8_t {
  kName = 0,
  kLocation,
  kDate,
  kAge,
  kPhone,
  kEmail,
  kUrl,
  kIp,
  kSsn,
  kId,
};

inline constexpr int kNumEntityTypes = 10;
inline constexpr int kNumLabels = 1 + 2 * kNumEntityTypes;  // O, B-*, I-*
inline constexpr int kOutside = 0;

inline constexpr int BeginLabel(EntityType t) { return 1 + 2 * static_cast<int>(t); }
inline constexpr int InsideLabel(EntityType t) { return 2 + 2 * static_cast<int>(t); }
inline constexpr bool IsBegin(int label) { return label > 0 && (label % 2) == 1; }
inline constexpr bool IsInside(int label) { return label > 0 && (label % 2) == 0; }
inline constexpr EntityType TypeOfLabel(int label) {
  return static_cast<EntityType>((label - 1) / 2);
}

// "NAME", "LOCATION", ... (the evaluation types of ../shared/data).
std::string_view EntityTypeName(EntityType t);

// Parses an evaluation type name (upper case, as in the JSONL files); nullopt
// for types the tagger does not learn (ORG, TITLE, ...).
std::optional<EntityType> ParseEntityType(std::string_view name);

// NAME→kName, LOCATION→kLocation, DATE→kDate, AGE→kAge, PHONE→kPhone,
// EMAIL→kEmail, URL→kUrl, IP→kIp, SSN→kSsn, ID→kOtherId.
PhiCategory ToCategory(EntityType t);

// "O", "B-NAME", "I-NAME", ... (for tests and debugging).
std::string_view LabelName(int label);

}  // namespace phigate::model

#endif  // PHIGATE_MODEL_LABELS_H_
