// Value sources of the generator: gazetteer files, built-in fallbacks and the
// word banks of the templates.
#ifndef PHIGATE_SRC_SYNTH_DATA_H_
#define PHIGATE_SRC_SYNTH_DATA_H_

#include <map>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "phigate/core/status.h"
#include "phigate/synth/generator.h"
#include "src/synth/rng.h"

namespace phigate::synth::internal {

// Items with weights; Sample() draws half the time by weight and half the
// time uniformly, so rare entries of a long list appear too.
class WeightedList {
 public:
  void Add(std::string item, double weight);
  bool empty() const { return items_.empty(); }
  size_t size() const { return items_.size(); }
  const std::string& Sample(Rng& rng) const { return items_[SampleIndex(rng)]; }
  // REQUIRES: !empty().
  size_t SampleIndex(Rng& rng) const;
  const std::string& at(size_t i) const { return items_[i]; }

 private:
  std::vector<std::string> items_;
  std::vector<double> cumulative_;
};

struct City {
  std::string name;
  std::string state;  // two-letter code
};

struct Gazetteers {
  WeightedList first_names;
  WeightedList surnames;
  std::vector<City> cities;
  WeightedList city_weights;  // city names weighted by sqrt(pop); index = index into cities
  // Optional: 3-digit ZIP prefixes and counties by state code (zip_prefixes.tsv,
  // us_counties.tsv), so a ZIP and a county match the city's state.
  std::map<std::string, std::vector<std::string>, std::less<>> zip_prefixes;
  std::map<std::string, std::vector<std::string>, std::less<>> counties;
  DataSources sources;
};

// Reads <dir>/first_names.tsv (or <dir>/gazetteers/first_names.tsv), etc.
Result<Gazetteers> LoadGazetteers(const std::string& data_dir);

struct UsState {
  std::string_view code;
  std::string_view name;
};
std::span<const UsState> UsStates();
std::string_view StateName(std::string_view code);  // "" when unknown

// Built-in invented names (fallback and the always-mixed-in non-ASCII share).
std::span<const std::string_view> BuiltinFirstNames();
std::span<const std::string_view> BuiltinSurnames();
std::span<const std::string_view> NonAsciiFirstNames();
std::span<const std::string_view> NonAsciiSurnames();

}  // namespace phigate::synth::internal

#endif  // PHIGATE_SRC_SYNTH_DATA_H_
