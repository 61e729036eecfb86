// `phigate deid`: de-identifies text, files, folders and JSONL records.
//
//   phigate deid < note.txt                    text in, text with placeholders out
//   phigate deid FILE...                       each file's de-identified text to stdout
//   phigate deid DIR|FILE... --out OUTDIR      one output per input + OUTDIR/manifest.json
//   phigate deid --jsonl < in.jsonl            {"id","text"} -> {"id","text","spans"}
//   phigate deid --spans-jsonl < gold.jsonl    {"id","spans":[{start,end,type}]} (score.py --unit
//   utf8)
//   phigate deid --mode tokenize --tenant acme --scope conv-42 < note.txt   reversible tokens
//   phigate deid --mode surrogate --tenant acme < note.txt                  realistic surrogates
//
// The reversible modes keep the originals in the tenant's encrypted vault
// (docs/vault.md): --store URL (default sqlite://phigate.db), --master-key-file
// FILE (default $PHIGATE_MASTER_KEY), --scope (default: the tenant scope), the
// same flags as `phigate reid`, which puts the originals back. Each chunk,
// record or file is one vault batch (one transaction); a vault error fails
// that input closed (no output for it).
//
// Input handling (docs/deid-cli.md): invalid UTF-8 is sanitised (each invalid
// byte becomes U+FFFD) before detection, so offsets and output always refer to
// valid UTF-8; NUL bytes are kept as text; binary inputs (NUL density,
// LooksBinary) are refused with a per-file error (or skipped with
// --skip-binary); plain text is streamed in chunks cut at line breaks, and a
// single line is always scanned whole. Nothing printed on stderr or written to
// the manifest holds input text.
#include <unistd.h>

#include <array>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <set>
#include <string>
#include <vector>

#include "absl/strings/str_format.h"
#include "nlohmann/json.hpp"
#include "phigate/core/phi_category.h"
#include "phigate/core/utf8.h"
#include "phigate/transform/redactor.h"
#include "phigate/transform/surrogate.h"
#include "phigate/transform/tokenize.h"
#include "phigate/vault/open.h"
#include "phigate/vault/vault.h"
#include "src/cli/cli_util.h"
#include "src/cli/command.h"

namespace phigate::cli {
namespace {

namespace fs = std::filesystem;
using Json = nlohmann::json;
using OJson = nlohmann::ordered_json;

constexpr const char* kToolVersion = "phigate 0.1.0";

// ------------------------------------------------------------- replacement
// The replacement step: the transform module's Redactor (placeholder, mask,
// generalize) or, for tokenize and surrogate, transform::DeidentifyReversibly
// over the tenant's vault. ApplyReplacement() is the one switch point.
enum class ReplacementMode { kPlaceholder, kMask, kGeneralize, kTokenize, kSurrogate };

constexpr char kDefaultStore[] = "sqlite://phigate.db";

struct ReplacementOptions {
  ReplacementMode mode = ReplacementMode::kPlaceholder;
  std::unique_ptr<transform::Redactor> redactor;
  // tokenize and surrogate only.
  vault::VaultHandle vault;
  vault::Scope scope;
  std::unique_ptr<transform::SurrogateGenerator> generator;
  int max_date_shift_days = 365;

  bool reversible() const {
    return mode == ReplacementMode::kTokenize || mode == ReplacementMode::kSurrogate;
  }
};

// Replaces every finding in `text`. Findings are sorted and disjoint (the
// engine's contract); anything else is an error and the caller fails closed.
// Reversible modes: one vault batch per call; any vault error fails the call.
Result<std::string> ApplyReplacement(std::string_view text, const Findings& findings,
                                     const ReplacementOptions& options) {
  if (options.reversible()) {
    transform::ReversibleOptions ro;
    ro.mode = options.mode == ReplacementMode::kTokenize ? transform::ReversibleMode::kTokenize
                                                         : transform::ReversibleMode::kSurrogate;
    ro.generator = options.generator.get();
    ro.max_date_shift_days = options.max_date_shift_days;
    PHIGATE_ASSIGN_OR_RETURN(
        transform::ReversibleResult r,
        transform::DeidentifyReversibly(text, findings, *options.vault.vault, options.scope, ro));
    return std::move(r.text);
  }
  return options.redactor->Apply(text, findings);
}

// ------------------------------------------------------------- processing
struct DeidFlags {
  std::vector<std::string> inputs;
  std::string out;
  bool jsonl = false;
  bool spans_jsonl = false;
  std::string mode = "placeholder";
  std::string placeholder_format = "[{type}]";
  std::string placeholder_types = "coarse";
  bool drop_year = false;
  std::string zip3_list = "census2020";
  bool skip_binary = false;
  bool no_progress = false;
  size_t chunk_bytes = size_t{4} << 20;
  EngineFlags engine;
  // tokenize / surrogate
  std::string tenant;
  std::string scope;
  std::string store = kDefaultStore;
  std::string master_key_file;
  int max_date_shift_days = 365;
};

struct FileStats {
  std::string input, output, status = "ok", error;
  int64_t bytes_in = 0, bytes_out = 0, findings = 0, invalid_utf8_bytes = 0, nul_bytes = 0;
  std::array<int64_t, kNumPhiCategories> counts{};
};

// An input refused as binary.
struct BinaryInput {
  size_t nul = 0, sampled = 0;
};

class Deidentifier {
 public:
  Deidentifier(const DeidFlags& flags, const detect::Engine& engine, ReplacementOptions ropts)
      : flags_(flags), engine_(engine), ctx_(engine.NewContext()), ropts_(std::move(ropts)) {}

  // Scans one chunk of text and writes its replacement to `out`.
  Status Chunk(std::string_view raw, FileStats* st, std::FILE* out, const std::string& out_name) {
    std::string sanitized;
    std::string_view text = raw;
    if (FindInvalidUtf8(raw) != std::string_view::npos) {
      sanitized = SanitizeUtf8(raw);
      st->invalid_utf8_bytes += static_cast<int64_t>((sanitized.size() - raw.size()) / 2);
      text = sanitized;
    }
    st->nul_bytes += static_cast<int64_t>(std::count(raw.begin(), raw.end(), '\0'));
    PHIGATE_RETURN_IF_ERROR(engine_.Scan(text, *ctx_, &findings_));
    Count(st);
    PHIGATE_ASSIGN_OR_RETURN(std::string replaced, ApplyReplacement(text, findings_, ropts_));
    st->bytes_out += static_cast<int64_t>(replaced.size());
    WriteAll(out, replaced, out_name);
    return absl::OkStatus();
  }

  // Streams `in` to `out` in chunks cut at line breaks (a blank line when one
  // is near). Returns BinaryInput through *binary (and OK) when refused.
  Status Stream(std::FILE* in, const std::string& in_name, std::FILE* out,
                const std::string& out_name, FileStats* st, BinaryInput* binary) {
    std::string buf;
    std::vector<char> block(size_t{1} << 20);
    bool first = true, eof = false;
    const size_t target = std::max<size_t>(flags_.chunk_bytes, 1024);
    const size_t max_line = engine_.options().max_text_bytes;
    while (!eof) {
      const size_t n = std::fread(block.data(), 1, block.size(), in);
      if (n < block.size()) {
        if (std::ferror(in)) {
          return absl::DataLossError(absl::StrCat("read error: ", std::strerror(errno)));
        }
        eof = true;
      }
      buf.append(block.data(), n);
      st->bytes_in += static_cast<int64_t>(n);
      if (first && (buf.size() >= kBinarySampleBytes || eof)) {
        first = false;
        const std::string_view sample(buf.data(), std::min(buf.size(), kBinarySampleBytes));
        if (LooksBinary(sample)) {
          binary->nul = static_cast<size_t>(std::count(sample.begin(), sample.end(), '\0'));
          binary->sampled = sample.size();
          return absl::OkStatus();
        }
      }
      if (first) continue;
      while (buf.size() >= target) {
        size_t cut = buf.rfind("\n\n");
        if (cut != std::string::npos && cut >= target / 2) {
          cut += 2;
        } else {
          cut = buf.rfind('\n');
          if (cut == std::string::npos) break;  // one long line: keep reading it whole
          ++cut;
        }
        PHIGATE_RETURN_IF_ERROR(Chunk(std::string_view(buf).substr(0, cut), st, out, out_name));
        buf.erase(0, cut);
      }
      if (buf.size() > max_line) {
        return absl::ResourceExhaustedError(
            absl::StrFormat("%s: a line longer than %d bytes; split the input", in_name, max_line));
      }
    }
    if (!buf.empty()) PHIGATE_RETURN_IF_ERROR(Chunk(buf, st, out, out_name));
    return absl::OkStatus();
  }

  // One JSONL record; false with *error set when the line is malformed.
  bool Record(std::string_view line, std::string* out_line, std::string* error, FileStats* st) {
    Json j = Json::parse(line.begin(), line.end(), nullptr, /*allow_exceptions=*/false);
    if (j.is_discarded() || !j.is_object()) {
      *error = "not a JSON object (or invalid UTF-8 in a string)";
      return false;
    }
    auto text = j.find("text");
    if (text == j.end() || !text->is_string()) {
      *error = "no string \"text\"";
      return false;
    }
    const std::string& t = text->get_ref<const std::string&>();
    st->bytes_in += static_cast<int64_t>(t.size());
    Status s = engine_.Scan(t, *ctx_, &findings_);
    if (!s.ok()) {
      *error = absl::StrCat("detection failed: ", s.message());
      return false;
    }
    Count(st);
    OJson o;
    o["id"] = j.contains("id") ? OJson::parse(j["id"].dump()) : OJson(nullptr);
    if (!flags_.spans_jsonl) {
      auto replaced = ApplyReplacement(t, findings_, ropts_);
      if (!replaced.ok()) {
        *error = std::string(FromAbsl(replaced.status().message()));
        return false;
      }
      o["text"] = *std::move(replaced);
    }
    OJson spans = OJson::array();
    for (const Finding& f : findings_) {
      OJson sp;
      sp["start"] = f.begin;
      sp["end"] = f.end;
      sp["type"] = CategoryEvalType(f.category);
      if (!flags_.spans_jsonl) {
        sp["category"] = CategoryName(f.category);
        sp["score"] = std::round(static_cast<double>(f.score) * 1000) / 1000;
      }
      spans.push_back(std::move(sp));
    }
    o["spans"] = std::move(spans);
    *out_line = o.dump(-1, ' ', false, OJson::error_handler_t::replace);
    out_line->push_back('\n');
    return true;
  }

 private:
  void Count(FileStats* st) const {
    st->findings += static_cast<int64_t>(findings_.size());
    for (const Finding& f : findings_) ++st->counts[static_cast<size_t>(f.category)];
  }

  const DeidFlags& flags_;
  const detect::Engine& engine_;
  std::unique_ptr<detect::ScanContext> ctx_;
  ReplacementOptions ropts_;
  Findings findings_;
};

std::string BinaryMessage(const BinaryInput& b) {
  return absl::StrFormat(
      "looks binary (%d NUL bytes in the first %d bytes); not processed (--skip-binary to skip "
      "such inputs without failing)",
      b.nul, b.sampled);
}

// Opens the tenant's vault (and, for surrogates, the generator) for the reversible modes.
void OpenReversible(const DeidFlags& flags, ReplacementOptions* o) {
  if (flags.tenant.empty()) {
    throw CliError(2, "--mode " + flags.mode +
                          " needs --tenant (and optionally --scope, --store, --master-key-file)");
  }
  auto tenant = MakeTenantId(flags.tenant);
  ThrowIfError(tenant.status(), "--tenant");
  auto scope = vault::ParseScope(flags.scope.empty() ? "tenant" : flags.scope);
  ThrowIfError(scope.status(), "--scope");
  o->scope = *std::move(scope);
  o->max_date_shift_days = flags.max_date_shift_days;
  if (o->mode == ReplacementMode::kSurrogate) {
    auto gen = transform::SurrogateGenerator::Create({.data_dir = ResolveDataDir(flags.engine)});
    ThrowIfError(gen.status(), "cannot set up the surrogate generator");
    o->generator = *std::move(gen);
  }
  auto h = vault::OpenVaultFromConfig(flags.store, *tenant, flags.master_key_file);
  ThrowIfError(h.status(), "vault");
  o->vault = *std::move(h);
}

ReplacementOptions MakeReplacementOptions(const DeidFlags& flags) {
  ReplacementOptions o;
  if (flags.mode == "placeholder") {
    o.mode = ReplacementMode::kPlaceholder;
  } else if (flags.mode == "mask") {
    o.mode = ReplacementMode::kMask;
  } else if (flags.mode == "generalize") {
    o.mode = ReplacementMode::kGeneralize;
  } else if (flags.mode == "tokenize" || flags.mode == "surrogate") {
    o.mode = flags.mode == "tokenize" ? ReplacementMode::kTokenize : ReplacementMode::kSurrogate;
    OpenReversible(flags, &o);
    return o;
  } else {
    throw CliError(2, "--mode " + flags.mode + " is unknown");
  }
  if (!flags.tenant.empty() || !flags.scope.empty()) {
    throw CliError(2, "--tenant and --scope apply to --mode tokenize and surrogate only");
  }
  if (flags.placeholder_format.find("{type}") == std::string::npos) {
    throw CliError(2, "--placeholder-format must contain {type}");
  }
  transform::RedactorOptions ro;
  ro.default_operator = flags.mode;
  ro.placeholder_format = flags.placeholder_format;
  ro.coarse_placeholders = flags.placeholder_types == "coarse";
  ro.zip3_list = flags.zip3_list;
  ro.data_dir = flags.engine.data_dir;
  if (flags.drop_year && o.mode == ReplacementMode::kGeneralize) {
    ro.operator_for[static_cast<size_t>(PhiCategory::kDate)] = "placeholder";
  }
  auto redactor = transform::Redactor::Create(ro);
  ThrowIfError(redactor.status(), "cannot set up the replacement");
  o.redactor = std::move(redactor).value();
  return o;
}

OJson CountsJson(const std::array<int64_t, kNumPhiCategories>& counts) {
  OJson o = OJson::object();
  for (PhiCategory c : AllCategories()) {
    if (counts[static_cast<size_t>(c)] > 0)
      o[std::string(CategoryName(c))] = counts[static_cast<size_t>(c)];
  }
  return o;
}

class Progress {
 public:
  Progress(bool enabled, size_t total) : enabled_(enabled), total_(total) {}
  void Update(size_t done, double bytes) {
    if (!enabled_) return;
    const double secs =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
    std::fprintf(stderr, "\r[%zu/%zu files] %s  %.1f MB/s ", done, total_,
                 HumanBytes(bytes).c_str(), secs > 0 ? bytes / 1e6 / secs : 0.0);
    std::fflush(stderr);
  }
  void Done() {
    if (enabled_) std::fputc('\n', stderr);
  }

 private:
  bool enabled_;
  size_t total_;
  std::chrono::steady_clock::time_point start_ = std::chrono::steady_clock::now();
};

// Text from stdin to stdout.
int RunStdin(const DeidFlags& flags, Deidentifier& d) {
  FileStats st;
  BinaryInput bin;
  Status s = d.Stream(stdin, "standard input", stdout, "standard output", &st, &bin);
  ThrowIfError(s, "standard input");
  if (bin.sampled > 0) {
    if (flags.skip_binary) {
      std::fprintf(stderr, "phigate: standard input %s\n", BinaryMessage(bin).c_str());
      return 0;
    }
    throw CliError(1, "standard input " + BinaryMessage(bin));
  }
  if (st.invalid_utf8_bytes > 0) {
    std::fprintf(stderr, "phigate: warning: %lld invalid UTF-8 bytes replaced by U+FFFD\n",
                 static_cast<long long>(st.invalid_utf8_bytes));
  }
  return 0;
}

// JSONL from stdin or the input files to stdout.
int RunJsonl(const DeidFlags& flags, Deidentifier& d) {
  std::vector<std::string> inputs = flags.inputs;
  if (inputs.empty()) inputs.push_back("-");
  int rc = 0;
  std::string out_line, error;
  FileStats st;
  for (const std::string& name : inputs) {
    const bool is_stdin = name == "-";
    std::FILE* in = is_stdin ? stdin : std::fopen(name.c_str(), "rb");
    if (in == nullptr) throw CliError(1, "cannot open " + name + ": " + std::strerror(errno));
    const std::string what = is_stdin ? "standard input" : name;
    std::string_view line;
    size_t lineno = 0;
    while (ReadLine(in, &line, what)) {
      ++lineno;
      if (line.find_first_not_of(" \t\r\f\v") == std::string_view::npos) continue;
      if (!d.Record(line, &out_line, &error, &st)) {
        std::fprintf(stderr, "phigate: error: %s line %zu: %s; record not written\n", what.c_str(),
                     lineno, error.c_str());
        rc = 1;
        continue;
      }
      WriteAll(stdout, out_line, "standard output");
    }
    if (!is_stdin) std::fclose(in);
  }
  return rc;
}

struct Job {
  fs::path input;
  std::string rel;  // output path relative to OUTDIR (and the manifest's name)
};

std::vector<Job> CollectJobs(const DeidFlags& flags, std::vector<FileStats>* errors) {
  std::vector<Job> jobs;
  std::error_code ec;
  const fs::path outdir = flags.out.empty() ? fs::path() : fs::weakly_canonical(flags.out, ec);
  const bool single_dir = flags.inputs.size() == 1 && fs::is_directory(flags.inputs[0], ec);
  for (const std::string& arg : flags.inputs) {
    const fs::path p(arg);
    fs::file_status status = fs::status(p, ec);
    if (ec || !fs::exists(status))
      throw CliError(1, "cannot read " + arg + ": no such file or directory");
    if (fs::is_directory(status)) {
      if (flags.out.empty()) throw CliError(2, arg + " is a folder: give --out OUTDIR");
      const std::string prefix = single_dir ? "" : p.filename().string() + "/";
      std::vector<Job> found;
      fs::recursive_directory_iterator it(p, fs::directory_options::none, ec), end;
      if (ec) throw CliError(1, "cannot read folder " + arg + ": " + ec.message());
      for (; it != end; it.increment(ec)) {
        if (ec) {
          FileStats st;
          st.input = arg;
          st.status = "error";
          st.error = "cannot list: " + ec.message();
          errors->push_back(st);
          break;
        }
        std::error_code ec2;
        if (it->is_directory(ec2) && !outdir.empty() &&
            fs::weakly_canonical(it->path(), ec2) == outdir) {
          it.disable_recursion_pending();  // never de-identify our own output
          continue;
        }
        const bool link = it->is_symlink(ec2);
        if (it->is_directory(ec2) && !link) continue;  // walked into
        if (!it->is_regular_file(ec2)) {
          // A dangling link, fifo, socket or device: reported, never skipped silently.
          FileStats st;
          st.input = prefix + fs::relative(it->path(), p, ec2).generic_string();
          st.status = "error";
          st.error = !link                   ? "not a regular file"
                     : it->is_directory(ec2) ? "symbolic link to a folder, not followed"
                                             : "broken symbolic link";
          errors->push_back(st);
          continue;
        }
        found.push_back({it->path(), prefix + fs::relative(it->path(), p, ec2).generic_string()});
      }
      std::sort(found.begin(), found.end(),
                [](const Job& a, const Job& b) { return a.rel < b.rel; });
      jobs.insert(jobs.end(), found.begin(), found.end());
    } else {
      jobs.push_back({p, p.filename().string()});
    }
  }
  std::set<std::string> seen;
  for (const Job& j : jobs) {
    if (!flags.out.empty() && !seen.insert(j.rel).second) {
      throw CliError(2, "two inputs would both be written to " + j.rel + " in " + flags.out);
    }
  }
  return jobs;
}

int RunFiles(const DeidFlags& flags, Deidentifier& d) {
  std::vector<FileStats> results;
  const std::vector<Job> jobs = CollectJobs(flags, &results);
  for (const FileStats& st : results) {
    std::fprintf(stderr, "phigate: error: %s: %s\n", st.input.c_str(), st.error.c_str());
  }
  const bool to_dir = !flags.out.empty();
  std::error_code ec;
  if (to_dir) {
    fs::create_directories(flags.out, ec);
    if (ec) throw CliError(1, "cannot create " + flags.out + ": " + ec.message());
  }
  Progress progress(to_dir && !flags.no_progress && isatty(STDERR_FILENO) != 0, jobs.size());
  double total_bytes = 0;
  int rc = results.empty() ? 0 : 1;
  for (size_t i = 0; i < jobs.size(); ++i) {
    const Job& job = jobs[i];
    FileStats st;
    st.input = job.rel;
    const std::string in_name = job.input.string();
    std::FILE* in = std::fopen(in_name.c_str(), "rb");
    if (in == nullptr) {
      st.status = "error";
      st.error = absl::StrCat("cannot read: ", std::strerror(errno));
    } else {
      std::FILE* out = stdout;
      std::string out_name = "standard output", tmp;
      fs::path final_path;
      if (to_dir) {
        final_path = fs::path(flags.out) / job.rel;
        fs::create_directories(final_path.parent_path(), ec);
        tmp = final_path.string() + absl::StrFormat(".phigate-tmp-%d", getpid());
        out = std::fopen(tmp.c_str(), "wb");
        out_name = final_path.string();
        if (out == nullptr) {
          st.status = "error";
          st.error = absl::StrCat("cannot write ", out_name, ": ", std::strerror(errno));
        }
      }
      if (out != nullptr) {
        BinaryInput bin;
        Status s;
        try {
          s = d.Stream(in, in_name, out, out_name, &st, &bin);
        } catch (const CliError& e) {
          s = absl::DataLossError(e.what());
        }
        if (!s.ok()) {
          st.status = "error";
          st.error = std::string(FromAbsl(s.message()));
        } else if (bin.sampled > 0) {
          st.status = flags.skip_binary ? "skipped_binary" : "binary";
          st.error = BinaryMessage(bin);
        }
        if (to_dir) {
          const bool flushed = std::fclose(out) == 0;
          if (st.status == "ok" && !flushed) {
            st.status = "error";
            st.error = "write error on " + out_name;
          }
          if (st.status == "ok") {
            fs::rename(tmp, final_path, ec);
            if (ec) {
              st.status = "error";
              st.error = "cannot rename into " + out_name + ": " + ec.message();
            } else {
              st.output = job.rel;
            }
          }
          if (st.status != "ok") fs::remove(tmp, ec);  // fail closed: no partial output
        }
      }
      std::fclose(in);
    }
    if (st.status != "ok" && st.status != "skipped_binary") rc = 1;
    if (st.status != "ok") {
      progress.Done();
      std::fprintf(stderr, "phigate: %s: %s: %s\n",
                   st.status == "skipped_binary" ? "note" : "error", in_name.c_str(),
                   st.error.c_str());
    } else if (st.invalid_utf8_bytes > 0) {
      std::fprintf(stderr, "phigate: warning: %s: %lld invalid UTF-8 bytes replaced by U+FFFD\n",
                   in_name.c_str(), static_cast<long long>(st.invalid_utf8_bytes));
    }
    total_bytes += static_cast<double>(st.bytes_in);
    progress.Update(i + 1, total_bytes);
    results.push_back(std::move(st));
  }
  progress.Done();
  if (to_dir) {
    OJson m;
    m["tool"] = kToolVersion;
    m["engine"] = {{"mode", flags.engine.engine_mode},
                   {"data_dir", ResolveDataDir(flags.engine)},
                   {"gazetteers", GazetteerFingerprint(ResolveDataDir(flags.engine))}};
    if (flags.mode == "tokenize" || flags.mode == "surrogate") {
      // Tenant and scope ids name the vault mappings (no PHI; no store URL or key).
      m["transform"] = {{"mode", flags.mode},
                        {"tenant", flags.tenant},
                        {"scope", flags.scope.empty() ? "tenant" : flags.scope}};
    } else {
      m["transform"] = {{"mode", flags.mode},
                        {"placeholder_format", flags.placeholder_format},
                        {"placeholder_types", flags.placeholder_types},
                        {"keep_year", !flags.drop_year},
                        {"zip3_list", flags.zip3_list}};
    }
    std::array<int64_t, kNumPhiCategories> totals{};
    int64_t bytes_in = 0, bytes_out = 0, findings = 0, ok = 0, failed = 0, skipped = 0;
    OJson files = OJson::array();
    for (const FileStats& st : results) {
      OJson f;
      f["input"] = st.input;
      f["output"] = st.output.empty() ? OJson(nullptr) : OJson(st.output);
      f["status"] = st.status;
      if (!st.error.empty()) f["error"] = st.error;
      f["bytes_in"] = st.bytes_in;
      f["bytes_out"] = st.bytes_out;
      f["findings"] = st.findings;
      f["counts"] = CountsJson(st.counts);
      f["invalid_utf8_bytes"] = st.invalid_utf8_bytes;
      f["nul_bytes"] = st.nul_bytes;
      files.push_back(std::move(f));
      for (size_t c = 0; c < kNumPhiCategories; ++c) totals[c] += st.counts[c];
      bytes_in += st.bytes_in;
      bytes_out += st.bytes_out;
      findings += st.findings;
      if (st.status == "ok") {
        ++ok;
      } else if (st.status == "skipped_binary") {
        ++skipped;
      } else {
        ++failed;
      }
    }
    m["totals"] = {{"files", results.size()}, {"ok", ok},
                   {"failed", failed},        {"skipped", skipped},
                   {"bytes_in", bytes_in},    {"bytes_out", bytes_out},
                   {"findings", findings},    {"counts", CountsJson(totals)}};
    m["files"] = std::move(files);
    const fs::path mpath = fs::path(flags.out) / "manifest.json";
    const std::string tmp = mpath.string() + ".tmp";
    {
      std::ofstream mf(tmp, std::ios::binary | std::ios::trunc);
      mf << m.dump(1, ' ', false, OJson::error_handler_t::replace) << '\n';
      if (!mf) throw CliError(3, "cannot write " + mpath.string());
    }
    fs::rename(tmp, mpath, ec);
    if (ec) throw CliError(3, "cannot write " + mpath.string() + ": " + ec.message());
    std::fprintf(stderr, "phigate: %lld files de-identified, %lld failed, %lld skipped; %s\n",
                 static_cast<long long>(ok), static_cast<long long>(failed),
                 static_cast<long long>(skipped), mpath.string().c_str());
  }
  return rc;
}

void RunDeid(const DeidFlags& flags) {
  if (flags.jsonl && flags.spans_jsonl)
    throw CliError(2, "--jsonl and --spans-jsonl exclude each other");
  if ((flags.jsonl || flags.spans_jsonl) && !flags.out.empty()) {
    throw CliError(2,
                   "--jsonl/--spans-jsonl write to standard output; redirect it instead of --out");
  }
  if (!flags.out.empty() && flags.inputs.empty())
    throw CliError(2, "--out needs input files or folders");
  ReplacementOptions ropts = MakeReplacementOptions(flags);
  std::unique_ptr<detect::Engine> engine = MakeEngine(flags.engine);
  Deidentifier d(flags, *engine, std::move(ropts));
  // A plain array: it outlives static destructors, so the exit-time flush is safe.
  static char stdout_buf[1 << 20];
  std::setvbuf(stdout, stdout_buf, _IOFBF, sizeof stdout_buf);
  int rc;
  if (flags.jsonl || flags.spans_jsonl) {
    rc = RunJsonl(flags, d);
  } else if (flags.inputs.empty() || (flags.inputs.size() == 1 && flags.inputs[0] == "-")) {
    rc = RunStdin(flags, d);
  } else {
    rc = RunFiles(flags, d);
  }
  if (std::fflush(stdout) != 0) throw CliError(3, "write error on standard output");
  if (rc != 0) throw CliError(rc, "some inputs were not de-identified (see the messages above)");
}

void Register(CLI::App& app) {
  auto flags = std::make_shared<DeidFlags>();
  CLI::App* cmd = app.add_subcommand("deid", "De-identify text, files, folders or JSONL records");
  cmd->add_option("inputs", flags->inputs,
                  "Files or folders (default: standard input; '-' is standard input)");
  cmd->add_option("--out", flags->out,
                  "Write one output per input here (folders recursively) and manifest.json");
  cmd->add_flag(
      "--jsonl", flags->jsonl,
      "Input is JSONL {id,text}; output {id,text,spans:[{start,end,type,category,score}]} "
      "(UTF-8 byte offsets)");
  cmd->add_flag("--spans-jsonl", flags->spans_jsonl,
                "Input is JSONL {id,text}; output predictions {id,spans:[{start,end,type}]} in "
                "UTF-8 byte offsets (score.py --unit utf8)");
  cmd->add_option("--mode", flags->mode,
                  "Replacement: placeholder, mask, generalize, tokenize or surrogate (the last two "
                  "keep the originals in the tenant's vault for `phigate reid`)")
      ->check(CLI::IsMember({"placeholder", "mask", "generalize", "tokenize", "surrogate"}));
  cmd->add_option("--placeholder-format", flags->placeholder_format,
                  "Placeholder text; {type} becomes the category (NAME, DATE, ...)");
  cmd->add_option(
         "--placeholder-types", flags->placeholder_types,
         "coarse: {type} is NAME, LOCATION, DATE, ID, MRN... (default); fine: the category "
         "(STREET_ADDRESS, CITY, HEALTH_PLAN...)")
      ->check(CLI::IsMember({"coarse", "fine"}));
  cmd->add_flag("--drop-year", flags->drop_year, "generalize: replace whole dates, years too");
  cmd->add_option(
      "--zip3-list", flags->zip3_list,
      "generalize: restricted ZIP prefix list of zip3.tsv (hhs2000, census2010, census2020)");
  cmd->add_flag("--skip-binary", flags->skip_binary,
                "Skip binary inputs without failing (they are still listed in the manifest)");
  cmd->add_flag("--no-progress", flags->no_progress, "No progress line on a terminal");
  cmd->add_option("--chunk-bytes", flags->chunk_bytes,
                  "Plain text is scanned in chunks of about this size, cut at line breaks")
      ->check(CLI::Range(size_t{1024}, size_t{1} << 30));
  cmd->add_option("--tenant", flags->tenant, "tokenize/surrogate: the tenant whose vault is used");
  cmd->add_option("--scope", flags->scope,
                  "tokenize/surrogate: tenant (default), conversation:<id>, request:<id> or a bare "
                  "conversation id; the same value gets the same token within a scope");
  cmd->add_option("--store", flags->store,
                  "tokenize/surrogate: vault store URL: sqlite:///path, postgres://..., memory:")
      ->capture_default_str();
  cmd->add_option("--master-key-file", flags->master_key_file,
                  "tokenize/surrogate: file holding the master key (hex or base64); default "
                  "$PHIGATE_MASTER_KEY");
  cmd->add_option("--max-date-shift-days", flags->max_date_shift_days,
                  "surrogate: dates move by one random offset per scope within +-this many days")
      ->check(CLI::Range(1, 3650))
      ->capture_default_str();
  AddEngineFlags(cmd, &flags->engine, "--engine");
  cmd->callback([flags] { RunDeid(*flags); });
}

PHIGATE_REGISTER_COMMAND(Register);

}  // namespace
}  // namespace phigate::cli
