// `phigate synth`: labelled synthetic clinical notes (docs/synth.md).
//
//   phigate synth --notes 1000 --seed 7 > synth.jsonl
//   phigate synth --size-mb 100 --format text > bench.txt
#include <cerrno>
#include <cstdio>
#include <memory>
#include <string>
#include <vector>

#include "phigate/core/paths.h"
#include "phigate/synth/generator.h"
#include "src/cli/command.h"

namespace phigate::cli {
namespace {

struct SynthArgs {
  uint64_t seed = 1;
  size_t notes = 100;
  double size_mb = 0;
  std::string categories;
  std::string style = "mix";
  std::string unit = "codepoint";
  std::string format = "jsonl";
  std::string data_dir = paths::DataDir();
  std::string out;
  uint32_t max_notes_per_patient = 5;
};

CategorySet ParseCategoryList(const std::string& list) {
  CategorySet set;
  size_t start = 0;
  while (start <= list.size()) {
    size_t comma = list.find(',', start);
    if (comma == std::string::npos) comma = list.size();
    const std::string item = list.substr(start, comma - start);
    if (!item.empty()) {
      const auto c = ParseCategory(item);
      if (!c) throw CliError(2, "synth: unknown category in --categories (see CategoryName())");
      set.Add(*c);
    }
    start = comma + 1;
  }
  if (set.empty()) throw CliError(2, "synth: --categories names no category");
  return set;
}

class Output {
 public:
  explicit Output(const std::string& path) {
    if (path.empty() || path == "-") {
      f_ = stdout;
    } else {
      f_ = std::fopen(path.c_str(), "wb");
      if (f_ == nullptr) throw CliError(3, "synth: cannot open the --out file for writing");
      owned_ = true;
    }
    buf_.reserve(kFlushAt + 65536);
  }
  ~Output() {
    if (owned_) std::fclose(f_);
  }
  void Write(std::string_view s) {
    buf_.append(s);
    if (buf_.size() >= kFlushAt) Flush();
  }
  void Flush() {
    if (!buf_.empty() && std::fwrite(buf_.data(), 1, buf_.size(), f_) != buf_.size()) {
      throw CliError(3, "synth: write failed");
    }
    buf_.clear();
    if (std::fflush(f_) != 0) throw CliError(3, "synth: write failed");
  }

 private:
  static constexpr size_t kFlushAt = 1 << 20;
  std::FILE* f_ = nullptr;
  bool owned_ = false;
  std::string buf_;
};

void Run(const SynthArgs& a) {
  synth::GeneratorOptions opts;
  opts.seed = a.seed;
  opts.data_dir = a.data_dir;
  opts.max_notes_per_patient = a.max_notes_per_patient;
  if (!a.categories.empty()) opts.categories = ParseCategoryList(a.categories);
  const auto style = synth::ParseStyle(a.style);
  if (!style) throw CliError(2, "synth: unknown --style");
  opts.style = *style;
  synth::OffsetUnit unit = synth::OffsetUnit::kCodePoint;
  if (a.unit == "utf8" || a.unit == "byte" || a.unit == "bytes") {
    unit = synth::OffsetUnit::kUtf8;
  } else if (a.unit != "codepoint" && a.unit != "cp") {
    throw CliError(2, "synth: --unit must be utf8 or codepoint");
  }
  const bool text = a.format == "text" || a.format == "txt";
  if (!text && a.format != "jsonl") throw CliError(2, "synth: --format must be jsonl or text");

  auto gen = synth::Generator::Create(opts);
  ThrowIfError(gen.status(), "synth");
  Output out(a.out);
  const uint64_t target_bytes = static_cast<uint64_t>(a.size_mb * 1024.0 * 1024.0);
  uint64_t written = 0;
  for (size_t i = 0;; ++i) {
    if (target_bytes > 0 ? written >= target_bytes : i >= a.notes) break;
    const synth::Note note = (*gen)->Generate();
    if (text) {
      out.Write(note.text);
      out.Write("\n");
      written += note.text.size() + 1;
    } else {
      const std::string line = synth::NoteToJson(note, unit);
      out.Write(line);
      out.Write("\n");
      written += line.size() + 1;
    }
  }
  out.Flush();
}

void Register(CLI::App& app) {
  auto args = std::make_shared<SynthArgs>();
  auto* cmd = app.add_subcommand(
      "synth", "Write labelled synthetic clinical notes (JSONL in the ../shared/data format)");
  cmd->add_option("--seed", args->seed, "PRNG seed; same seed, same notes")->capture_default_str();
  cmd->add_option("--notes", args->notes, "Number of notes")->capture_default_str();
  cmd->add_option("--size-mb", args->size_mb,
                  "Generate about this many MiB of output instead of --notes")
      ->check(CLI::Range(0.0, 1e6));  // a negative size never ended
  cmd->add_option("--categories", args->categories,
                  "Comma-separated PHI classes to write (e.g. NAME,DATE,SSN); default all");
  cmd->add_option("--style", args->style,
                  "mix|icu|discharge|referral|upper|lower|lab|email|portal|ed|facesheet")
      ->capture_default_str();
  cmd->add_option("--unit", args->unit, "Span offsets: codepoint (default) or utf8");
  cmd->add_option("--format", args->format, "jsonl (default) or text (notes only)");
  cmd->add_option(
         "--data-dir", args->data_dir,
         "Folder with gazetteers/ (default: $PHIGATE_DATA_DIR, then the installed or source "
         "tree's data/)")
      ->capture_default_str();
  cmd->add_option("--max-notes-per-patient", args->max_notes_per_patient,
                  "Each patient gets 1..N consecutive notes")
      ->capture_default_str();
  cmd->add_option("-o,--out", args->out, "Output file (default stdout)");
  cmd->callback([args] { Run(*args); });
}

PHIGATE_REGISTER_COMMAND(Register);

}  // namespace
}  // namespace phigate::cli
