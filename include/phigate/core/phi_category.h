// PHI categories: the 18 HIPAA Safe Harbor identifier classes
// (45 CFR 164.514(b)(2)(i)(A)-(R)), split where the transforms differ
// (a ZIP code is generalised differently from a street address).
//
// Example:
//   PhiCategory c = PhiCategory::kSsn;
//   std::string_view n = CategoryName(c);          // "SSN"
//   std::string_view t = CategoryEvalType(c);      // "SSN"
//   auto parsed = ParseCategory("phone");          // PhiCategory::kPhone
#ifndef PHIGATE_CORE_PHI_CATEGORY_H_
#define PHIGATE_CORE_PHI_CATEGORY_H_

#include <array>
#include <cstdint>
#include <optional>
#include <span>
#include <string_view>

namespace phigate {

enum class PhiCategory : uint8_t {
  kName = 0,       // (A) names of the individual, relatives, employers, clinicians
  kStreetAddress,  // (B) street address
  kCity,           // (B) city, town, county, precinct
  kZip,            // (B) ZIP code
  kFacility,       // (B) named hospital, clinic, ward that reveals a place
  kLocation,       // (B) any other geographic subdivision smaller than a state
  kDate,           // (C) all elements of dates except the year
  kAge,            // (C) ages over 89
  kPhone,          // (D)
  kFax,            // (E)
  kEmail,          // (F)
  kSsn,            // (G) full or partial
  kMrn,            // (H) medical record number
  kHealthPlan,     // (I) health plan beneficiary number, Medicare MBI
  kAccount,        // (J)
  kLicense,        // (K) certificate/licence numbers: driver's licence, DEA, NPI
  kVehicle,        // (L) VIN, licence plate
  kDevice,         // (M) device identifiers and serial numbers, UDI
  kUrl,            // (N)
  kIp,             // (O)
  kBiometric,      // (P) biometric identifiers (references to them in text)
  kPhoto,          // (Q) full-face photographs (references to them in text)
  kOtherId,        // (R) any other unique identifying number or code
};

inline constexpr size_t kNumPhiCategories = 23;

// All categories, in enum order.
std::span<const PhiCategory> AllCategories();

// Upper-case stable name used in config, placeholders and audit: "NAME", "STREET_ADDRESS".
std::string_view CategoryName(PhiCategory c);

// The evaluation type of ../shared/data (NAME, DATE, LOCATION, PHONE, EMAIL, URL,
// IP, SSN, ID, AGE) that this category is scored as.
std::string_view CategoryEvalType(PhiCategory c);

// The Safe Harbor paragraph letter, "A".."R".
char CategorySafeHarborLetter(PhiCategory c);

// Case-insensitive; accepts CategoryName() spellings and a few aliases
// ("address", "zipcode", "ssn", "mbi"). nullopt when unknown.
std::optional<PhiCategory> ParseCategory(std::string_view name);

// A bit set of categories, cheap to copy.
class CategorySet {
 public:
  constexpr CategorySet() = default;
  static CategorySet All();
  void Add(PhiCategory c) { bits_ |= Bit(c); }
  void Remove(PhiCategory c) { bits_ &= ~Bit(c); }
  bool Contains(PhiCategory c) const { return (bits_ & Bit(c)) != 0; }
  bool empty() const { return bits_ == 0; }
  uint32_t bits() const { return bits_; }
  friend bool operator==(CategorySet, CategorySet) = default;

 private:
  static constexpr uint32_t Bit(PhiCategory c) { return uint32_t{1} << static_cast<uint32_t>(c); }
  uint32_t bits_ = 0;
};

}  // namespace phigate

#endif  // PHIGATE_CORE_PHI_CATEGORY_H_
