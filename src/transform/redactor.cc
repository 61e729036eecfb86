#include "phigate/transform/redactor.h"

#include <cctype>
#include <ctime>
#include <fstream>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "phigate/core/paths.h"

namespace phigate::transform {

std::string PlaceholderFor(PhiCategory category, std::string_view format, bool coarse) {
  std::string_view type = CategoryName(category);
  if (coarse) {
    type = CategoryEvalType(category);
    if (category == PhiCategory::kMrn) type = "MRN";
    if (category == PhiCategory::kFax) type = "FAX";
  }
  std::string out;
  const size_t at = format.find("{type}");
  if (at == std::string_view::npos) return std::string(format);
  out.append(format.substr(0, at));
  out.append(type);
  out.append(format.substr(at + 6));
  return out;
}

namespace {

class NullContext : public TransformContext {};

class PlaceholderOperator : public Operator {
 public:
  PlaceholderOperator(std::string format, bool coarse)
      : format_(std::move(format)), coarse_(coarse) {}
  std::string_view name() const override { return "placeholder"; }
  Status Validate(const OperatorParams&) const override { return absl::OkStatus(); }
  Result<std::string> Apply(std::string_view, const Finding& f, const OperatorParams&,
                            TransformContext&) const override {
    return PlaceholderFor(f.category, format_, coarse_);
  }

 private:
  std::string format_;
  bool coarse_;
};

class MaskOperator : public Operator {
 public:
  std::string_view name() const override { return "mask"; }
  Status Validate(const OperatorParams&) const override { return absl::OkStatus(); }
  Result<std::string> Apply(std::string_view original, const Finding&, const OperatorParams&,
                            TransformContext&) const override {
    std::string out;
    out.reserve(original.size());
    for (size_t i = 0; i < original.size(); ++i) {
      const auto c = static_cast<unsigned char>(original[i]);
      if (std::isalnum(c)) {
        out.push_back('*');
      } else if (c >= 0x80) {
        // One '*' per UTF-8 code point: skip continuation bytes.
        if ((c & 0xC0) != 0x80) out.push_back('*');
      } else {
        out.push_back(static_cast<char>(c));
      }
    }
    return out;
  }
};

// Finds a 4-digit year (19xx/20xx) in a date; empty if none.
std::string YearOf(std::string_view s) {
  for (size_t i = 0; i + 4 <= s.size(); ++i) {
    const bool start_ok = i == 0 || !std::isdigit(static_cast<unsigned char>(s[i - 1]));
    const bool end_ok = i + 4 == s.size() || !std::isdigit(static_cast<unsigned char>(s[i + 4]));
    if (start_ok && end_ok && (s.substr(i, 2) == "19" || s.substr(i, 2) == "20") &&
        std::isdigit(static_cast<unsigned char>(s[i + 2])) &&
        std::isdigit(static_cast<unsigned char>(s[i + 3]))) {
      return std::string(s.substr(i, 4));
    }
  }
  return "";
}

class GeneralizeOperator : public Operator {
 public:
  GeneralizeOperator(std::set<std::string> restricted, std::string format, bool coarse,
                     int reference_year)
      : restricted_(std::move(restricted)),
        format_(std::move(format)),
        coarse_(coarse),
        oldest_kept_(reference_year - 89) {}
  std::string_view name() const override { return "generalize"; }
  Status Validate(const OperatorParams&) const override { return absl::OkStatus(); }
  Result<std::string> Apply(std::string_view original, const Finding& f, const OperatorParams&,
                            TransformContext&) const override {
    switch (f.category) {
      case PhiCategory::kDate: {
        std::string year = YearOf(original);
        if (year.empty()) return PlaceholderFor(f.category, format_, coarse_);
        // A year that could be the birth year of someone 90 or older gives
        // the age back ("DOB: 1920   Age: 90 or older"): one category for all.
        if (std::stoi(year) < oldest_kept_) return absl::StrCat(oldest_kept_ - 1, " or earlier");
        return year;
      }
      case PhiCategory::kAge:
        return std::string("90 or older");
      case PhiCategory::kZip: {
        // The ZIP is the span's last run of exactly five digits (a ZIP+4's
        // first part). A span that also holds the address before it (an
        // address and its ZIP merged into one finding) must not give its
        // house number's digits as the "ZIP3": the rest is a placeholder.
        const auto digit = [&](size_t k) {
          return k < original.size() && std::isdigit(static_cast<unsigned char>(original[k]));
        };
        size_t zip = std::string_view::npos;
        for (size_t i = 0; i + 5 <= original.size(); ++i) {
          if ((i > 0 && digit(i - 1)) || digit(i + 5)) continue;
          bool five = true;
          for (size_t k = i; k < i + 5; ++k) five = five && digit(k);
          if (five) zip = i;
        }
        if (zip == std::string_view::npos) return std::string("000**");
        const std::string prefix(original.substr(zip, 3));
        std::string out = (restricted_.count(prefix) ? std::string("000") : prefix) + "**";
        const size_t lead = original.find_first_not_of(" \t");
        if (lead != std::string_view::npos && lead < zip) {
          out =
              absl::StrCat(PlaceholderFor(PhiCategory::kStreetAddress, format_, coarse_), " ", out);
        }
        return out;
      }
      default:
        return PlaceholderFor(f.category, format_, coarse_);
    }
  }

 private:
  std::set<std::string> restricted_;
  std::string format_;
  bool coarse_;
  int oldest_kept_;  // the earliest year written as it is
};

std::string DataDir(const RedactorOptions& o) {
  return o.data_dir.empty() ? paths::DataDir() : o.data_dir;
}

Result<std::set<std::string>> LoadRestrictedZip3(const std::string& path, std::string_view list) {
  std::ifstream in(path);
  if (!in) return absl::NotFoundError(absl::StrCat("cannot read ", path));
  std::set<std::string> out;
  std::string line;
  bool list_seen = false;
  while (std::getline(in, line)) {
    if (line.empty() || line[0] == '#') continue;
    std::vector<std::string> cols = absl::StrSplit(line, '\t');
    if (cols.size() < 3) return absl::InvalidArgumentError(absl::StrCat(path, ": bad row"));
    if (cols[2] == list) {
      list_seen = true;
      if (cols[1] == "restricted") out.insert(cols[0]);
    }
  }
  if (!list_seen) {
    return absl::InvalidArgumentError(absl::StrCat("unknown ZIP3 list '", ToAbsl(list), "'"));
  }
  return out;
}

}  // namespace

struct Redactor::Impl {
  RedactorOptions options;
  std::map<std::string, std::unique_ptr<Operator>, std::less<>> ops;
  std::array<const Operator*, kNumPhiCategories> by_category{};
};

Redactor::Redactor(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Redactor::~Redactor() = default;

Result<std::unique_ptr<Redactor>> Redactor::Create(const RedactorOptions& options) {
  if (options.placeholder_format.find('\n') != std::string::npos) {
    return absl::InvalidArgumentError("placeholder format must be one line");
  }
  auto impl = std::make_unique<Impl>();
  impl->options = options;
  PHIGATE_ASSIGN_OR_RETURN(
      std::set<std::string> restricted,
      LoadRestrictedZip3(DataDir(options) + "/gazetteers/zip3.tsv", options.zip3_list));
  impl->ops["placeholder"] = std::make_unique<PlaceholderOperator>(options.placeholder_format,
                                                                   options.coarse_placeholders);
  impl->ops["mask"] = std::make_unique<MaskOperator>();
  int reference_year = options.reference_year;
  if (reference_year == 0) {
    const std::time_t now = std::time(nullptr);
    std::tm utc{};
    gmtime_r(&now, &utc);
    reference_year = utc.tm_year + 1900;
  }
  impl->ops["generalize"] =
      std::make_unique<GeneralizeOperator>(std::move(restricted), options.placeholder_format,
                                           options.coarse_placeholders, reference_year);
  auto redactor = std::unique_ptr<Redactor>(new Redactor(std::move(impl)));
  for (PhiCategory c : AllCategories()) {
    const std::string& name = options.operator_for[static_cast<size_t>(c)];
    PHIGATE_RETURN_IF_ERROR(
        redactor->SetOperator(c, name.empty() ? options.default_operator : name));
  }
  return redactor;
}

void Redactor::RegisterOperator(std::unique_ptr<Operator> op) {
  const std::string name(op->name());
  const Operator* old = nullptr;
  if (auto it = impl_->ops.find(name); it != impl_->ops.end()) old = it->second.get();
  const Operator* now = op.get();
  impl_->ops[name] = std::move(op);
  for (auto& p : impl_->by_category) {
    if (p == old) p = now;
  }
}

Status Redactor::SetOperator(PhiCategory category, std::string_view name) {
  auto it = impl_->ops.find(name);
  if (it == impl_->ops.end()) {
    return absl::InvalidArgumentError(absl::StrCat("unknown operator '", ToAbsl(name), "'"));
  }
  impl_->by_category[static_cast<size_t>(category)] = it->second.get();
  return absl::OkStatus();
}

Result<std::string> Redactor::Apply(std::string_view text, const Findings& findings) const {
  NullContext ctx;
  return Apply(text, findings, ctx);
}

Result<std::string> Redactor::Apply(std::string_view text, const Findings& findings,
                                    TransformContext& ctx) const {
  std::string out;
  out.reserve(text.size() + findings.size() * 8);
  size_t pos = 0;
  static const OperatorParams kNoParams;
  for (const Finding& f : findings) {
    if (f.begin < pos || f.end > text.size() || f.end < f.begin) {
      return absl::InvalidArgumentError(
          absl::StrCat("finding [", f.begin, ",", f.end, ") overlaps or lies outside the text"));
    }
    out.append(text.substr(pos, f.begin - pos));
    const Operator* op = impl_->by_category[static_cast<size_t>(f.category)];
    PHIGATE_ASSIGN_OR_RETURN(std::string rep,
                             op->Apply(text.substr(f.begin, f.end - f.begin), f, kNoParams, ctx));
    out.append(rep);
    pos = f.end;
  }
  out.append(text.substr(pos));
  return out;
}

}  // namespace phigate::transform
