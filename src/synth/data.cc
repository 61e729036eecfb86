#include "src/synth/data.h"

#include <algorithm>
#include <cmath>
#include <fstream>
#include <sstream>

#include "absl/strings/str_cat.h"
#include "phigate/core/utf8.h"

namespace phigate::synth::internal {

void WeightedList::Add(std::string item, double weight) {
  const double prev = cumulative_.empty() ? 0.0 : cumulative_.back();
  items_.push_back(std::move(item));
  cumulative_.push_back(prev + (weight > 0 ? weight : 0.0));
}

size_t WeightedList::SampleIndex(Rng& rng) const {
  // Every list is checked non-empty when it is built.
  if (rng.Chance(0.5) || cumulative_.back() <= 0.0) return rng.Below(items_.size());
  const double x = rng.Unit() * cumulative_.back();
  auto it = std::upper_bound(cumulative_.begin(), cumulative_.end(), x);
  size_t i = static_cast<size_t>(it - cumulative_.begin());
  if (i >= items_.size()) i = items_.size() - 1;
  return i;
}

namespace {

constexpr UsState kStates[] = {
    {"AL", "Alabama"},        {"AK", "Alaska"},        {"AZ", "Arizona"},
    {"AR", "Arkansas"},       {"CA", "California"},    {"CO", "Colorado"},
    {"CT", "Connecticut"},    {"DE", "Delaware"},      {"FL", "Florida"},
    {"GA", "Georgia"},        {"HI", "Hawaii"},        {"ID", "Idaho"},
    {"IL", "Illinois"},       {"IN", "Indiana"},       {"IA", "Iowa"},
    {"KS", "Kansas"},         {"KY", "Kentucky"},      {"LA", "Louisiana"},
    {"ME", "Maine"},          {"MD", "Maryland"},      {"MA", "Massachusetts"},
    {"MI", "Michigan"},       {"MN", "Minnesota"},     {"MS", "Mississippi"},
    {"MO", "Missouri"},       {"MT", "Montana"},       {"NE", "Nebraska"},
    {"NV", "Nevada"},         {"NH", "New Hampshire"}, {"NJ", "New Jersey"},
    {"NM", "New Mexico"},     {"NY", "New York"},      {"NC", "North Carolina"},
    {"ND", "North Dakota"},   {"OH", "Ohio"},          {"OK", "Oklahoma"},
    {"OR", "Oregon"},         {"PA", "Pennsylvania"},  {"RI", "Rhode Island"},
    {"SC", "South Carolina"}, {"SD", "South Dakota"},  {"TN", "Tennessee"},
    {"TX", "Texas"},          {"UT", "Utah"},          {"VT", "Vermont"},
    {"VA", "Virginia"},       {"WA", "Washington"},    {"WV", "West Virginia"},
    {"WI", "Wisconsin"},      {"WY", "Wyoming"},       {"DC", "District of Columbia"},
};

// Invented names: no list of real people's names was used.
constexpr std::string_view kFirst[] = {
    "Arlindo", "Bexley",  "Corvina",  "Dashel",  "Elowen",   "Farrion",  "Galena",    "Haskell",
    "Ilsabet", "Jorvik",  "Kestrel",  "Lunette", "Maddox",   "Nerissa",  "Orrin",     "Perrine",
    "Quillon", "Rosalba", "Sorrel",   "Tamsin",  "Ulric",    "Velda",    "Wendeline", "Xavia",
    "Yestin",  "Zorana",  "Alvar",    "Brisa",   "Caspian",  "Delphine", "Emrys",     "Fenna",
    "Gideon",  "Halcyon", "Iolanthe", "Jessamy", "Kaius",    "Liesl",    "Merrit",    "Noelani",
    "Oriel",   "Pascoe",  "Romilly",  "Saffron", "Thaddeus", "Ursa",     "Vashti",    "Wystan",
};
constexpr std::string_view kLast[] = {
    "Ambervale",      "Brackwell",  "Corrigan-Vey", "Dunmarsh",   "Elsworthy",   "Fallowmere",
    "Garrow",         "Hollinrake", "Ivesdale",     "Jaskowiak",  "Kettleby",    "Lorimer",
    "Marchbank",      "Nethercott", "Oakhurst",     "Pellow",     "Quarrington", "Rudgwick",
    "Stanhope",       "Trevanion",  "Underhill",    "Vardell",    "Wetherall",   "Yarborough",
    "Zellweger-Ames", "Abernathy",  "Blackwood",    "Castellane", "Drummond",    "Esterhazy",
    "Fairweather",    "Greaves",    "Hartigan",     "Islington",  "Kincaid",     "Lindqvist",
    "Moncrieff",      "Northcott",  "O'Dowell",     "Penhaligon", "Ravenscroft",
};
// Non-ASCII spellings, always mixed in so code-point offsets get exercised.
constexpr std::string_view kNonAsciiFirst[] = {
    "José",  "Zoë",        "Renée",    "Søren", "Łucja",  "Agnès", "Björn", "Inés",
    "Ángel", "Małgorzata", "François", "Chloé", "Jürgen", "Dóra",  "Niamh", "Ramón",
};
constexpr std::string_view kNonAsciiLast[] = {
    "Nguyễn",     "Müllerová", "Ibáñez",  "Øvrebø",  "Kowalczyk-Żak", "Duprès",
    "Gómez-Ruíz", "Ó Briain",  "Székely", "Çelikta", "Väisänen",      "Peña",
};

// A few cities per region, used only when us_cities.tsv is missing.
constexpr std::pair<std::string_view, std::string_view> kCities[] = {
    {"Springfield", "MA"}, {"Worcester", "MA"},   {"Lowell", "MA"},     {"Framingham", "MA"},
    {"Quincy", "MA"},      {"Providence", "RI"},  {"Hartford", "CT"},   {"Albany", "NY"},
    {"Buffalo", "NY"},     {"Newark", "NJ"},      {"Trenton", "NJ"},    {"Scranton", "PA"},
    {"Allentown", "PA"},   {"Baltimore", "MD"},   {"Richmond", "VA"},   {"Raleigh", "NC"},
    {"Charleston", "SC"},  {"Savannah", "GA"},    {"Tampa", "FL"},      {"Orlando", "FL"},
    {"Birmingham", "AL"},  {"Memphis", "TN"},     {"Louisville", "KY"}, {"Columbus", "OH"},
    {"Dayton", "OH"},      {"Detroit", "MI"},     {"Lansing", "MI"},    {"Madison", "WI"},
    {"Rockford", "IL"},    {"Peoria", "IL"},      {"Des Moines", "IA"}, {"Omaha", "NE"},
    {"Wichita", "KS"},     {"Tulsa", "OK"},       {"Lubbock", "TX"},    {"El Paso", "TX"},
    {"Boise", "ID"},       {"Spokane", "WA"},     {"Tacoma", "WA"},     {"Eugene", "OR"},
    {"Fresno", "CA"},      {"Bakersfield", "CA"}, {"Santa Rosa", "CA"}, {"Reno", "NV"},
    {"Tucson", "AZ"},      {"Albuquerque", "NM"}, {"Provo", "UT"},      {"Fort Collins", "CO"},
    {"Burlington", "VT"},  {"Nashua", "NH"},      {"Bangor", "ME"},     {"St. Cloud", "MN"},
};

// Reads one gazetteer: name<TAB>weight[<TAB>...] lines, '#' comments.
// Returns false when the file does not exist.
Result<bool> ReadTsv(const std::string& path, size_t min_fields,
                     std::vector<std::vector<std::string>>* rows) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return false;
  std::string line;
  size_t line_no = 0;
  while (std::getline(in, line)) {
    ++line_no;
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (line.empty() || line[0] == '#') continue;
    if (FindInvalidUtf8(line) != std::string_view::npos) {
      return absl::InvalidArgumentError(
          absl::StrCat("gazetteer line ", line_no, " of ", ToAbsl(path), " is not valid UTF-8"));
    }
    std::vector<std::string> fields;
    size_t start = 0;
    while (true) {
      const size_t tab = line.find('\t', start);
      fields.push_back(line.substr(start, tab == std::string::npos ? tab : tab - start));
      if (tab == std::string::npos) break;
      start = tab + 1;
    }
    if (fields.size() < min_fields || fields[0].empty()) {
      return absl::InvalidArgumentError(
          absl::StrCat("gazetteer line ", line_no, " of ", ToAbsl(path), " has too few fields"));
    }
    rows->push_back(std::move(fields));
  }
  if (in.bad()) {
    return absl::InvalidArgumentError(absl::StrCat("cannot read gazetteer ", ToAbsl(path)));
  }
  return true;
}

double ParseWeight(const std::vector<std::string>& row, size_t i) {
  if (row.size() <= i) return 1.0;
  char* end = nullptr;
  const double w = std::strtod(row[i].c_str(), &end);
  return (end == row[i].c_str() || !(w > 0)) ? 1.0 : w;
}

std::string FindFile(const std::string& dir, std::string_view name) {
  if (dir.empty()) return "";
  for (const std::string& candidate :
       {absl::StrCat(dir, "/", ToAbsl(name)), absl::StrCat(dir, "/gazetteers/", ToAbsl(name))}) {
    std::ifstream probe(candidate);
    if (probe) return candidate;
  }
  return "";
}

Status LoadNames(const std::string& dir, std::string_view file, WeightedList* list, size_t* count,
                 bool* builtin, std::span<const std::string_view> fallback) {
  const std::string path = FindFile(dir, file);
  if (!path.empty()) {
    std::vector<std::vector<std::string>> rows;
    PHIGATE_ASSIGN_OR_RETURN(bool found, ReadTsv(path, 1, &rows));
    if (found) {
      for (auto& row : rows) {
        // Keep names as written in the list; title-case all-caps entries.
        std::string name = row[0];
        bool all_upper = true;
        for (char c : name) {
          if (c >= 'a' && c <= 'z') all_upper = false;
        }
        if (all_upper && name.size() > 1) {
          for (size_t i = 1; i < name.size(); ++i) {
            if (name[i] >= 'A' && name[i] <= 'Z' && name[i - 1] != '-' && name[i - 1] != ' ' &&
                name[i - 1] != '\'') {
              name[i] = static_cast<char>(name[i] - 'A' + 'a');
            }
          }
        }
        list->Add(std::move(name), ParseWeight(row, 1));
      }
    }
  }
  if (list->empty()) {
    for (std::string_view n : fallback) list->Add(std::string(n), 1.0);
    *builtin = true;
  } else {
    *builtin = false;
  }
  *count = list->size();
  return absl::OkStatus();
}

}  // namespace

std::span<const UsState> UsStates() { return kStates; }
std::string_view StateName(std::string_view code) {
  for (const UsState& s : kStates) {
    if (s.code == code) return s.name;
  }
  return "";
}
std::span<const std::string_view> BuiltinFirstNames() { return kFirst; }
std::span<const std::string_view> BuiltinSurnames() { return kLast; }
std::span<const std::string_view> NonAsciiFirstNames() { return kNonAsciiFirst; }
std::span<const std::string_view> NonAsciiSurnames() { return kNonAsciiLast; }

Result<Gazetteers> LoadGazetteers(const std::string& data_dir) {
  Gazetteers g;
  PHIGATE_RETURN_IF_ERROR(LoadNames(data_dir, "first_names.tsv", &g.first_names,
                                    &g.sources.first_names, &g.sources.first_names_builtin,
                                    kFirst));
  PHIGATE_RETURN_IF_ERROR(LoadNames(data_dir, "surnames.tsv", &g.surnames, &g.sources.surnames,
                                    &g.sources.surnames_builtin, kLast));
  const std::string path = FindFile(data_dir, "us_cities.tsv");
  if (!path.empty()) {
    std::vector<std::vector<std::string>> rows;
    PHIGATE_ASSIGN_OR_RETURN(bool found, ReadTsv(path, 2, &rows));
    if (found) {
      for (auto& row : rows) {
        if (StateName(row[1]).empty()) continue;  // territories and unknown codes
        g.city_weights.Add(row[0], std::sqrt(ParseWeight(row, 2)));
        g.cities.push_back(City{std::move(row[0]), std::move(row[1])});
      }
    }
  }
  g.sources.cities_builtin = g.cities.empty();
  if (g.cities.empty()) {
    for (const auto& [name, state] : kCities) {
      g.city_weights.Add(std::string(name), 1.0);
      g.cities.push_back(City{std::string(name), std::string(state)});
    }
  }
  g.sources.cities = g.cities.size();
  if (const std::string zp = FindFile(data_dir, "zip_prefixes.tsv"); !zp.empty()) {
    std::vector<std::vector<std::string>> rows;
    PHIGATE_ASSIGN_OR_RETURN(bool found, ReadTsv(zp, 2, &rows));
    for (size_t i = 0; found && i < rows.size(); ++i) {
      const std::string& prefix = rows[i][0];
      if (prefix.size() != 3 || prefix == "000") continue;
      size_t start = 0;
      while (start <= rows[i][1].size()) {
        size_t comma = rows[i][1].find(',', start);
        if (comma == std::string::npos) comma = rows[i][1].size();
        g.zip_prefixes[rows[i][1].substr(start, comma - start)].push_back(prefix);
        start = comma + 1;
      }
    }
  }
  if (const std::string cp = FindFile(data_dir, "us_counties.tsv"); !cp.empty()) {
    std::vector<std::vector<std::string>> rows;
    PHIGATE_ASSIGN_OR_RETURN(bool found, ReadTsv(cp, 2, &rows));
    for (size_t i = 0; found && i < rows.size(); ++i) {
      g.counties[rows[i][1]].push_back(std::move(rows[i][0]));
    }
  }
  return g;
}

}  // namespace phigate::synth::internal
