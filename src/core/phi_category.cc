#include "phigate/core/phi_category.h"

#include <cctype>
#include <string>

namespace phigate {
namespace {

struct CategoryInfo {
  PhiCategory category;
  std::string_view name;
  std::string_view eval_type;
  char letter;
};

constexpr std::array<CategoryInfo, kNumPhiCategories> kInfo = {{
    {PhiCategory::kName, "NAME", "NAME", 'A'},
    {PhiCategory::kStreetAddress, "STREET_ADDRESS", "LOCATION", 'B'},
    {PhiCategory::kCity, "CITY", "LOCATION", 'B'},
    {PhiCategory::kZip, "ZIP", "LOCATION", 'B'},
    {PhiCategory::kFacility, "FACILITY", "LOCATION", 'B'},
    {PhiCategory::kLocation, "LOCATION", "LOCATION", 'B'},
    {PhiCategory::kDate, "DATE", "DATE", 'C'},
    {PhiCategory::kAge, "AGE", "AGE", 'C'},
    {PhiCategory::kPhone, "PHONE", "PHONE", 'D'},
    {PhiCategory::kFax, "FAX", "PHONE", 'E'},
    {PhiCategory::kEmail, "EMAIL", "EMAIL", 'F'},
    {PhiCategory::kSsn, "SSN", "SSN", 'G'},
    {PhiCategory::kMrn, "MRN", "ID", 'H'},
    {PhiCategory::kHealthPlan, "HEALTH_PLAN", "ID", 'I'},
    {PhiCategory::kAccount, "ACCOUNT", "ID", 'J'},
    {PhiCategory::kLicense, "LICENSE", "ID", 'K'},
    {PhiCategory::kVehicle, "VEHICLE", "ID", 'L'},
    {PhiCategory::kDevice, "DEVICE", "ID", 'M'},
    {PhiCategory::kUrl, "URL", "URL", 'N'},
    {PhiCategory::kIp, "IP", "IP", 'O'},
    {PhiCategory::kBiometric, "BIOMETRIC", "ID", 'P'},
    {PhiCategory::kPhoto, "PHOTO", "ID", 'Q'},
    {PhiCategory::kOtherId, "ID", "ID", 'R'},
}};

constexpr std::array<PhiCategory, kNumPhiCategories> MakeAll() {
  std::array<PhiCategory, kNumPhiCategories> all{};
  for (size_t i = 0; i < kNumPhiCategories; ++i) all[i] = kInfo[i].category;
  return all;
}
constexpr std::array<PhiCategory, kNumPhiCategories> kAll = MakeAll();

const CategoryInfo& Info(PhiCategory c) { return kInfo[static_cast<size_t>(c)]; }

std::string Upper(std::string_view s) {
  std::string out(s);
  for (char& ch : out) {
    ch = (ch == '-' || ch == ' ') ? '_'
                                  : static_cast<char>(std::toupper(static_cast<unsigned char>(ch)));
  }
  return out;
}

}  // namespace

std::span<const PhiCategory> AllCategories() { return kAll; }
std::string_view CategoryName(PhiCategory c) { return Info(c).name; }
std::string_view CategoryEvalType(PhiCategory c) { return Info(c).eval_type; }
char CategorySafeHarborLetter(PhiCategory c) { return Info(c).letter; }

std::optional<PhiCategory> ParseCategory(std::string_view name) {
  const std::string u = Upper(name);
  for (const CategoryInfo& info : kInfo) {
    if (u == info.name) return info.category;
  }
  struct Alias {
    std::string_view alias;
    PhiCategory category;
  };
  static constexpr Alias kAliases[] = {
      {"ADDRESS", PhiCategory::kStreetAddress},
      {"STREET", PhiCategory::kStreetAddress},
      {"ZIPCODE", PhiCategory::kZip},
      {"ZIP_CODE", PhiCategory::kZip},
      {"TOWN", PhiCategory::kCity},
      {"HOSPITAL", PhiCategory::kFacility},
      {"TELEPHONE", PhiCategory::kPhone},
      {"PERSON", PhiCategory::kName},
      {"MBI", PhiCategory::kHealthPlan},
      {"PLAN", PhiCategory::kHealthPlan},
      {"IP_ADDRESS", PhiCategory::kIp},
      {"WEB_URL", PhiCategory::kUrl},
      {"OTHER_ID", PhiCategory::kOtherId},
      {"MEDICAL_RECORD_NUMBER", PhiCategory::kMrn},
      {"LICENCE", PhiCategory::kLicense},
      {"SERIAL", PhiCategory::kDevice},
  };
  for (const Alias& a : kAliases) {
    if (u == a.alias) return a.category;
  }
  return std::nullopt;
}

CategorySet CategorySet::All() {
  CategorySet s;
  for (PhiCategory c : kAll) s.Add(c);
  return s;
}

}  // namespace phigate
