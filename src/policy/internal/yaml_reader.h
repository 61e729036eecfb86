// Typed access to yaml-cpp nodes that records diagnostics with file:line:col
// instead of throwing. Internal to the policy loader.
#ifndef PHIGATE_SRC_POLICY_INTERNAL_YAML_READER_H_
#define PHIGATE_SRC_POLICY_INTERNAL_YAML_READER_H_

#include <initializer_list>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "phigate/policy/config.h"
#include "phigate/policy/lint.h"
#include "yaml-cpp/yaml.h"

namespace phigate::policy::internal {

class YamlReader {
 public:
  YamlReader(std::string_view file, std::vector<Diagnostic>* diags) : file_(file), diags_(diags) {}

  static SourceLoc Loc(const YAML::Node& n);

  void Report(SourceLoc loc, Severity s, std::string_view code, std::string message,
              std::string hint);
  void Error(const YAML::Node& n, std::string_view code, std::string message, std::string hint) {
    Report(Loc(n), Severity::kError, code, std::move(message), std::move(hint));
  }

  // True when `n` is a mapping. Reports PG003 if not, PG002 for every key not in
  // `allowed` (with a did-you-mean hint), PG005 for duplicate keys.
  bool Map(const YAML::Node& n, std::string_view what,
           std::initializer_list<std::string_view> allowed);
  // True when `n` is a sequence (or null/absent: then false without a report).
  bool Seq(const YAML::Node& n, std::string_view what);

  // The scalar at parent[key]; nullopt when absent/null (PG004 if required) or not a scalar
  // (PG003).
  std::optional<std::string> Str(const YAML::Node& parent, std::string_view key,
                                 std::string_view what, bool required);
  std::optional<bool> Bool(const YAML::Node& parent, std::string_view key, std::string_view what);
  std::optional<int> Int(const YAML::Node& parent, std::string_view key, std::string_view what);
  std::optional<Day> Date(const YAML::Node& parent, std::string_view key, std::string_view what,
                          bool required);
  // A scalar or a sequence of scalars.
  std::vector<std::string> StrList(const YAML::Node& parent, std::string_view key,
                                   std::string_view what);

  const std::string& file() const { return file_; }

 private:
  std::string file_;
  std::vector<Diagnostic>* diags_;
};

// Levenshtein-closest of `candidates` within distance 2, or empty.
std::string_view Closest(std::string_view word, std::initializer_list<std::string_view> candidates);

}  // namespace phigate::policy::internal

#endif  // PHIGATE_SRC_POLICY_INTERNAL_YAML_READER_H_
