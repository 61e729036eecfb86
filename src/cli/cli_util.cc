#include "src/cli/cli_util.h"

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "phigate/core/paths.h"
#include "phigate/core/utf8.h"
#include "src/cli/command.h"

namespace phigate::cli {

namespace fs = std::filesystem;

void AddEngineFlags(CLI::App* cmd, EngineFlags* flags, const std::string& mode_flag) {
  cmd->add_option(
      "--data-dir", flags->data_dir,
      "Folder with gazetteers/ (default: $PHIGATE_DATA_DIR, then the installed or source "
      "tree's data/)");
  cmd->add_option(mode_flag, flags->engine_mode,
                  "Detectors to run: rules, model, both (stacked combination with a stacked "
                  "model) or union")
      ->check(CLI::IsMember({"rules", "model", "both", "union"}));
  cmd->add_option("--model", flags->model_path,
                  "Tagger model file (default: $PHIGATE_MODEL, then the installed or source "
                  "tree's models/phigate_tagger.bin)");
  cmd->add_option("--min-score", flags->min_score, "Drop findings scoring below this (0..1)")
      ->check(CLI::Range(0.0, 1.0));
  cmd->add_option("--veto", flags->veto_score,
                  "both: drop a rule finding (not a checksummed or labelled identifier) where the "
                  "tagger is this sure it is not PHI (0.5..1, default 0.7; lower trades recall "
                  "for precision)")
      ->check(CLI::Range(0.0, 1.0));
}

detect::EngineOptions ToEngineOptions(const EngineFlags& flags) {
  detect::EngineOptions o;
  o.data_dir = flags.data_dir;
  if (flags.min_score >= 0) o.min_score = flags.min_score;
  if (flags.veto_score >= 0) o.veto_score = flags.veto_score;
  // The option's check already restricted it to rules|model|both.
  o.mode = detect::ParseMode(flags.engine_mode).value_or(detect::EngineOptions::Mode::kBoth);
  o.model_path = flags.model_path;
  return o;
}

std::unique_ptr<detect::Engine> MakeEngine(const EngineFlags& flags) {
  auto engine = detect::Engine::Create(ToEngineOptions(flags));
  ThrowIfError(engine.status(), "cannot build the detection engine");
  return std::move(engine).value();
}

std::string ResolveDataDir(const EngineFlags& flags) {
  return flags.data_dir.empty() ? paths::DataDir() : flags.data_dir;
}

namespace {

// FNV-1a 64 of each file's name and bytes, in the given order.
std::string FilesFingerprint(const std::vector<fs::path>& files) {
  uint64_t h = 1469598103934665603ull;
  auto mix = [&h](const char* p, size_t n) {
    for (size_t i = 0; i < n; ++i) {
      h ^= static_cast<unsigned char>(p[i]);
      h *= 1099511628211ull;
    }
  };
  std::vector<char> buf(1 << 16);
  for (const fs::path& f : files) {
    const std::string name = f.filename().string();
    mix(name.data(), name.size() + 1);
    std::ifstream in(f, std::ios::binary);
    while (in) {
      in.read(buf.data(), static_cast<std::streamsize>(buf.size()));
      mix(buf.data(), static_cast<size_t>(in.gcount()));
    }
  }
  return absl::StrFormat("fnv1a64:%016x", h);
}

}  // namespace

std::string GazetteerFingerprint(const std::string& data_dir) {
  const fs::path dir = fs::path(data_dir) / "gazetteers";
  std::error_code ec;
  if (!fs::is_directory(dir, ec)) return "none";
  std::vector<fs::path> files;
  for (const auto& e : fs::directory_iterator(dir, ec)) {
    if (e.is_regular_file(ec)) files.push_back(e.path());
  }
  std::sort(files.begin(), files.end());
  return absl::StrFormat("%s (%d files)", FilesFingerprint(files), files.size());
}

std::string FileFingerprint(const std::string& path) {
  std::error_code ec;
  if (!fs::is_regular_file(path, ec)) return "none";
  return FilesFingerprint({fs::path(path)});
}

bool LooksBinary(std::string_view sample) {
  if (sample.empty()) return false;
  size_t nul = 0, ctrl = 0;
  for (char ch : sample) {
    const auto c = static_cast<unsigned char>(ch);
    if (c == 0) {
      ++nul;
    } else if (c < 0x20 && c != '\n' && c != '\r' && c != '\t' && c != '\f' && c != '\v') {
      ++ctrl;
    }
  }
  const size_t n = sample.size();
  if (nul > 0) {  // as before the UTF-8 rule: control bytes count only beside NULs
    if (nul >= kBinaryMinNul && nul * 1000 >= kBinaryNulPerMille * n) return true;
    if ((nul + ctrl) * 10 >= n * 3) return true;  // short inputs: 30 % NUL or control bytes
  }
  const size_t invalid = CountInvalidUtf8(sample);
  return invalid >= kBinaryMinInvalidUtf8 && invalid * 100 >= kBinaryInvalidUtf8Percent * n;
}

bool ReadLine(std::FILE* f, std::string_view* line, const std::string& what) {
  // getline() keeps NUL bytes and returns the true length; one buffer per
  // thread is reused, so memory is bounded by the longest line.
  struct Buffer {
    char* data = nullptr;
    size_t cap = 0;
    ~Buffer() { std::free(data); }
  };
  thread_local Buffer b;
  *line = {};
  errno = 0;
  const ssize_t n = ::getline(&b.data, &b.cap, f);
  if (n < 0) {
    if (std::ferror(f)) throw CliError(3, "read error on " + what + ": " + std::strerror(errno));
    return false;
  }
  size_t len = static_cast<size_t>(n);
  if (len > 0 && b.data[len - 1] == '\n') --len;
  *line = std::string_view(b.data, len);
  return true;
}

void WriteAll(std::FILE* f, std::string_view data, const std::string& what) {
  if (data.empty()) return;
  if (std::fwrite(data.data(), 1, data.size(), f) != data.size()) {
    throw CliError(3, "write error on " + what + ": " + std::strerror(errno));
  }
}

void AddGroupFlags(CLI::App* cmd, GroupFlags* flags) {
  auto* field = cmd->add_option(
      "--group-field", flags->field,
      "Records sharing this member (e.g. patient_id), consecutive, form a group: a word found as "
      "a name or place in most of its occurrences in the group is flagged in the others too");
  auto* prefix = cmd->add_option(
      "--group-id-prefix", flags->id_prefix,
      "Like --group-field, the group being the record id up to this separator (\"-\": 12-3 and "
      "12-4 are one patient's)");
  field->excludes(prefix);
}

std::string GroupOf(const GroupFlags& flags, std::string_view id, std::string_view field_value) {
  if (!flags.field.empty()) return std::string(field_value);
  if (flags.id_prefix.empty()) return "";
  return std::string(id.substr(0, id.find(flags.id_prefix)));
}

std::string UrlForDisplay(std::string_view url) {
  const size_t scheme = url.find("://");
  if (scheme == std::string_view::npos) return std::string(url);
  const size_t auth = scheme + 3;
  const size_t end = url.find_first_of("/?#", auth);
  const std::string_view authority =
      url.substr(auth, end == std::string_view::npos ? end : end - auth);
  const size_t at = authority.rfind('@');
  if (at == std::string_view::npos) return std::string(url);
  const size_t colon = authority.substr(0, at).find(':');
  if (colon == std::string_view::npos) return std::string(url);
  return absl::StrCat(ToAbsl(url.substr(0, auth + colon + 1)), "***",
                      ToAbsl(url.substr(auth + at)));
}

std::string HumanBytes(double bytes) {
  if (bytes >= 1e9) return absl::StrFormat("%.2f GB", bytes / 1e9);
  if (bytes >= 1e6) return absl::StrFormat("%.1f MB", bytes / 1e6);
  if (bytes >= 1e3) return absl::StrFormat("%.1f kB", bytes / 1e3);
  return absl::StrFormat("%.0f B", bytes);
}

void RequireExistingSqliteStore(std::string_view url, std::string_view message) {
  if (url.starts_with("postgres://") || url.starts_with("postgresql://") ||
      url.starts_with("memory:")) {
    return;
  }
  std::string_view path = url;
  if (path.starts_with("sqlite://")) path.remove_prefix(9);
  std::error_code ec;
  if (!std::filesystem::exists(std::filesystem::path(std::string(path)), ec)) {
    throw CliError(1, absl::StrCat(ToAbsl(message), ": ", UrlForDisplay(url)));
  }
}

}  // namespace phigate::cli
