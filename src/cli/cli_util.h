// Helpers shared by `phigate deid` and `phigate eval`: engine options from
// flags, binary-input detection, line reading, the gazetteer fingerprint.
#ifndef PHIGATE_CLI_CLI_UTIL_H_
#define PHIGATE_CLI_CLI_UTIL_H_

#include <cstdio>
#include <memory>
#include <string>
#include <string_view>

#include "CLI/CLI.hpp"
#include "phigate/detect/engine.h"

namespace phigate::cli {

// Flags that build the detection engine, common to deid and eval.
struct EngineFlags {
  std::string data_dir;  // --data-dir; empty: paths::DataDir() (phigate/core/paths.h)
  // --engine rules|model|both: which detectors run. Parsed and validated here;
  // ToEngineOptions() is the one place that maps it onto EngineOptions once the
  // engine has a switch for it (today every value runs the engine as built).
  std::string engine_mode = "both";
  std::string model_path;
  float min_score = -1;   // --min-score; < 0: the engine's default
  float veto_score = -1;  // --veto; < 0: the engine's default
};

// Adds --data-dir, --engine (with `mode_flag` as its name), --min-score to `cmd`.
void AddEngineFlags(CLI::App* cmd, EngineFlags* flags, const std::string& mode_flag = "--engine");

detect::EngineOptions ToEngineOptions(const EngineFlags& flags);

// "fnv1a64:<hex>" of the file's name and bytes ("none" when it is not a
// regular file): which model a manifest's output came from.
std::string FileFingerprint(const std::string& path);

// Builds the engine; throws CliError (exit 1) when the data is missing or bad.
std::unique_ptr<detect::Engine> MakeEngine(const EngineFlags& flags);

// The data folder the engine will read (same resolution as EngineOptions).
std::string ResolveDataDir(const EngineFlags& flags);

// "fnv1a64:<hex>" over the names and bytes of data_dir/gazetteers/* (sorted),
// plus the file count; "none" when the folder is absent. Identifies the
// gazetteer version in manifests without holding any of their content.
std::string GazetteerFingerprint(const std::string& data_dir);

// Binary detection by NUL density over `sample` (the first kBinarySampleBytes
// of an input): binary when it holds at least kBinaryMinNul NUL bytes making
// at least kBinaryNulPerMille per thousand, or when it holds a NUL and NUL and
// other control bytes (not tab, newline, CR, FF, VT) make 30 % of it, or when
// at least kBinaryMinInvalidUtf8 bytes that are not valid UTF-8 make
// kBinaryInvalidUtf8Percent of it (compressed or encrypted
// data, with few NULs: a .gz, a .docx, random bytes). Text with a few stray
// NULs, or Latin-1 text with some accented letters, is not binary.
inline constexpr size_t kBinarySampleBytes = 64 * 1024;
inline constexpr size_t kBinaryNulPerMille = 10;
inline constexpr size_t kBinaryMinNul = 16;
inline constexpr size_t kBinaryInvalidUtf8Percent = 10;
inline constexpr size_t kBinaryMinInvalidUtf8 = 32;  // a stray byte in a short note is text
bool LooksBinary(std::string_view sample);

// Reads one line (without its '\n') of any length, NUL bytes included; false
// at end of input. *line points into a per-thread buffer valid until the next
// call. A read error throws CliError(3) naming `what`.
bool ReadLine(std::FILE* f, std::string_view* line, const std::string& what);

// Writes all of `data` or throws CliError(3) naming `what`.
void WriteAll(std::FILE* f, std::string_view data, const std::string& what);

// --group-field / --group-id-prefix of `deid --jsonl`, `deid --spans-jsonl`
// and `eval`: consecutive records of one group (one patient's notes) have
// their name and place findings made consistent (detect/propagate.h).
struct GroupFlags {
  std::string field;      // a member of each record naming its group, e.g. patient_id
  std::string id_prefix;  // a separator: the group is the record's id up to its first one
  bool enabled() const { return !field.empty() || !id_prefix.empty(); }
};
void AddGroupFlags(CLI::App* cmd, GroupFlags* flags);
// The group of a record whose id (as text) is `id` and whose --group-field
// member is `field_value` ("" when absent). Records without a group value
// form a group of their own ("" never matches the next record's group).
std::string GroupOf(const GroupFlags& flags, std::string_view id, std::string_view field_value);

// Human-readable byte count: "12.3 MB".
std::string HumanBytes(double bytes);

// Commands that act on an existing store (audit, key management): throws
// CliError(1, "<message>: <url>") when `url` names a SQLite file
// ("sqlite://PATH" or a bare path) that does not exist, so that a mistyped
// --store is an error rather than a new, empty database that "succeeds".
// Other schemes pass.
void RequireExistingSqliteStore(std::string_view url, std::string_view message);

// A store URL fit for a message: the password of "scheme://user:password@host"
// (PostgreSQL) is replaced by "***".
std::string UrlForDisplay(std::string_view url);

}  // namespace phigate::cli

#endif  // PHIGATE_CLI_CLI_UTIL_H_
