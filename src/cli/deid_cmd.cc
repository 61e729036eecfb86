// `phigate deid`: de-identifies text, files, folders, JSONL and CSV records.
//
//   phigate deid < note.txt                    text in, text with placeholders out
//   phigate deid FILE...                       each file's de-identified text to stdout
//   phigate deid DIR|FILE... --out OUTDIR      one output per input + OUTDIR/manifest.json
//   phigate deid --jsonl < in.jsonl            {"id","text"} -> {"id","text","spans"}
//   phigate deid --spans-jsonl < gold.jsonl    {"id","spans":[{start,end,type}]} (score.py --unit
//   utf8)
//   phigate deid --csv --keep-columns row_id < notes.csv   every field but row_id's
//   phigate deid --mode tokenize --tenant acme --scope conv-42 < note.txt   reversible tokens
//   phigate deid --mode surrogate --tenant acme < note.txt                  realistic surrogates
//
// The reversible modes keep the originals in the tenant's encrypted vault
// (docs/vault.md): --store URL (default sqlite://phigate.db), --master-key-file
// FILE (default $PHIGATE_MASTER_KEY), --scope (default: the tenant scope), the
// same flags as `phigate reid`, which puts the originals back. Each chunk of
// text, surrogate-mode record or field is one vault batch (one transaction),
// tokenize-mode records and CSV fields 256 to a batch; a vault error fails
// those inputs closed (no output for them).
//
// Input handling (docs/deid-cli.md): invalid UTF-8 is sanitised (each invalid
// byte becomes U+FFFD) before detection, so offsets and output always refer to
// valid UTF-8; NUL bytes are kept as text; binary inputs (NUL density,
// LooksBinary) are refused with a per-file error (or skipped with
// --skip-binary); plain text is streamed in chunks cut at line breaks, and a
// single line is always scanned whole. Nothing printed on stderr or written to
// the manifest holds input text.
#include <unistd.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <chrono>
#include <cmath>
#include <condition_variable>
#include <cstdio>
#include <cstring>
#include <exception>
#include <filesystem>
#include <fstream>
#include <functional>
#include <mutex>
#include <optional>
#include <set>
#include <span>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_split.h"
#include "nlohmann/json.hpp"
#include "phigate/core/phi_category.h"
#include "phigate/core/utf8.h"
#include "phigate/detect/propagate.h"
#include "phigate/transform/redactor.h"
#include "phigate/transform/surrogate.h"
#include "phigate/transform/tokenize.h"
#include "phigate/vault/open.h"
#include "phigate/vault/vault.h"
#include "src/cli/cli_util.h"
#include "src/cli/command.h"
#include "src/cli/csv.h"

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
  bool csv = false;
  std::string keep_columns;  // --csv: names or 1-based numbers, comma-separated
  bool no_header = false;
  std::string delimiter = ",";
  std::string mode = "placeholder";
  std::string placeholder_format = "[{type}]";
  std::string placeholder_types = "coarse";
  bool drop_year = false;
  std::string zip3_list = "census2020";
  bool skip_binary = false;
  bool no_progress = false;
  size_t chunk_bytes = size_t{1} << 20;
  size_t jobs = 0;  // threads; 0: one per hardware thread
  EngineFlags engine;
  GroupFlags group;  // --group-field / --group-id-prefix (JSONL input only)
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
  size_t nul = 0, not_utf8 = 0, sampled = 0;
};

// Runs fn(worker, i) for every i in [0, n) on `threads` threads (worker is
// the thread's index, so each thread uses its own scratch), and returns once
// all are done. An exception in any call is rethrown here.
template <class Fn>
void ParallelFor(size_t n, size_t threads, Fn fn) {
  threads = std::min(threads, n);
  if (threads <= 1) {
    for (size_t i = 0; i < n; ++i) fn(size_t{0}, i);
    return;
  }
  std::atomic<size_t> next{0};
  std::mutex mu;
  std::exception_ptr failure;
  auto run = [&](size_t worker) {
    try {
      for (size_t i; (i = next.fetch_add(1, std::memory_order_relaxed)) < n;) fn(worker, i);
    } catch (...) {
      std::lock_guard<std::mutex> lock(mu);
      if (!failure) failure = std::current_exception();
      next.store(n, std::memory_order_relaxed);
    }
  };
  std::vector<std::thread> pool;
  pool.reserve(threads - 1);
  for (size_t w = 1; w < threads; ++w) pool.emplace_back(run, w);
  run(0);
  for (std::thread& t : pool) t.join();
  if (failure) std::rethrow_exception(failure);
}

// Texts (JSONL records, CSV fields) per vault transaction in --mode tokenize
// and surrogate.
constexpr size_t kVaultGroup = 256;

// What an item of ParallelForInOrder calls to wait for its turn.
using Turn = std::function<void()>;

// ParallelFor whose items finish in index order: fn(worker, i, turn) may call
// turn() to wait until every item before i has finished, and item i finishes
// when fn returns (once its turn has come; so on an exception too, and the
// items already started all finish). What fn does after turn() therefore runs
// one item at a time in index order, as on one thread; what it does before
// runs on every thread.
template <class Fn>
void ParallelForInOrder(size_t n, size_t threads, Fn fn) {
  std::mutex mu;
  std::condition_variable cv;
  size_t finished = 0;  // items [0, finished) have finished
  auto wait_turn = [&](size_t i) {
    std::unique_lock<std::mutex> lock(mu);
    cv.wait(lock, [&] { return finished == i; });
  };
  ParallelFor(n, threads, [&](size_t worker, size_t i) {
    struct Finish {
      const decltype(wait_turn)& wait;
      std::mutex& mu;
      std::condition_variable& cv;
      size_t& finished;
      size_t i;
      ~Finish() {
        wait(i);
        {
          std::lock_guard<std::mutex> lock(mu);
          finished = i + 1;
        }
        cv.notify_all();
      }
    } finish{wait_turn, mu, cv, finished, i};
    fn(worker, i, Turn([&wait_turn, i] { wait_turn(i); }));
  });
}

void AddStats(const FileStats& from, FileStats* to) {
  to->bytes_in += from.bytes_in;
  to->bytes_out += from.bytes_out;
  to->findings += from.findings;
  to->invalid_utf8_bytes += from.invalid_utf8_bytes;
  to->nul_bytes += from.nul_bytes;
  for (size_t c = 0; c < kNumPhiCategories; ++c) to->counts[c] += from.counts[c];
}

// De-identifies chunks of text and JSONL records on `jobs` threads, each with
// its own scan context; outputs, statistics and messages come out in input
// order, byte for byte what one thread writes. In the reversible modes the
// scans run on every thread; the replacements then take kVaultGroup records
// or CSV fields per vault transaction (ReplaceMany), and plain-text chunks
// one at a time in input order (ForEach), so the vault sees the same calls in
// the same order for any number of threads.
class Deidentifier {
 public:
  Deidentifier(const DeidFlags& flags, const detect::Engine& engine, ReplacementOptions ropts,
               size_t jobs)
      : flags_(flags), engine_(engine), ropts_(std::move(ropts)) {
    workers_.resize(std::max<size_t>(jobs, 1));
    for (Worker& w : workers_) w.ctx = engine.NewContext();
  }

  size_t jobs() const { return workers_.size(); }
  bool reversible() const { return ropts_.reversible(); }

  // Runs fn(worker, i, turn) for i in [0, n) on jobs() threads; Replace and
  // Finish wait for `turn` before a reversible replacement.
  template <class Fn>
  void ForEach(size_t n, Fn fn) {
    if (reversible()) {
      ParallelForInOrder(n, jobs(), fn);
    } else {
      ParallelFor(n, jobs(), [&](size_t worker, size_t i) { fn(worker, i, Turn()); });
    }
  }

  // A text scanned, ready for its replacement.
  struct Prepared {
    std::string sanitized;  // the text with invalid UTF-8 replaced, when it had any
    std::string_view text;  // the raw text or `sanitized`
    Findings findings;
  };

  // A chunk scanned and kept for a later reversible replacement (small files
  // into OUTDIR: ReplaceMany for many files at once).
  struct ScannedChunk {
    std::string text;  // the chunk, invalid UTF-8 replaced
    Findings findings;
  };

  // Scans `raw` into *p (which must outlive nothing but the replacement); adds to *st.
  Status Prepare(size_t worker, std::string_view raw, FileStats* st, Prepared* p) {
    p->text = raw;
    if (FindInvalidUtf8(raw) != std::string_view::npos) {
      p->sanitized = SanitizeUtf8(raw);
      st->invalid_utf8_bytes += static_cast<int64_t>((p->sanitized.size() - raw.size()) / 2);
      p->text = p->sanitized;
    }
    st->nul_bytes += static_cast<int64_t>(std::count(raw.begin(), raw.end(), '\0'));
    PHIGATE_RETURN_IF_ERROR(engine_.Scan(p->text, *workers_[worker].ctx, &p->findings));
    Count(p->findings, st);
    return absl::OkStatus();
  }

  // Scans one chunk of text and returns its replacement; adds to *st. In the
  // reversible modes a non-empty `turn` is waited for before the replacement.
  Result<std::string> Replace(size_t worker, std::string_view raw, FileStats* st,
                              const Turn& turn = Turn()) {
    Prepared p;
    PHIGATE_RETURN_IF_ERROR(Prepare(worker, raw, st, &p));
    if (turn) turn();
    PHIGATE_ASSIGN_OR_RETURN(std::string replaced, ApplyReplacement(p.text, p.findings, ropts_));
    st->bytes_out += static_cast<int64_t>(replaced.size());
    return replaced;
  }

  // --mode tokenize and surrogate batch the vault's work of many texts (ReplaceMany).
  bool batches_vault() const { return reversible(); }

  // The reversible replacements of texts[i] with *findings[i], in input
  // order, kVaultGroup texts per vault transaction (transform::TokenizeTexts
  // or SurrogateTexts: a vault error fails the texts of its group only).
  void ReplaceMany(std::span<const std::string_view> texts,
                   std::span<const Findings* const> findings,
                   std::vector<Result<std::string>>* out) {
    out->clear();
    out->reserve(texts.size());
    transform::ReversibleOptions ro;
    ro.generator = ropts_.generator.get();
    ro.max_date_shift_days = ropts_.max_date_shift_days;
    std::vector<Result<std::string>> part;
    for (size_t b = 0; b < texts.size(); b += kVaultGroup) {
      const size_t len = std::min(kVaultGroup, texts.size() - b);
      if (ropts_.mode == ReplacementMode::kTokenize) {
        transform::TokenizeTexts(texts.subspan(b, len), findings.subspan(b, len),
                                 *ropts_.vault.vault, ropts_.scope, &part);
      } else {
        transform::SurrogateTexts(texts.subspan(b, len), findings.subspan(b, len),
                                  *ropts_.vault.vault, ropts_.scope, ro, &part);
      }
      for (auto& r : part) out->push_back(std::move(r));
    }
  }

  // Streams `in` to `out` in chunks cut at line breaks (a blank line when one
  // is near), jobs() * 2 chunks at a time on every thread, or (worker >= 0)
  // one at a time on that worker's thread alone. Returns BinaryInput through
  // *binary (and OK) when refused. On an error, the chunks before the one
  // that failed have been written, none after it. With `scanned` (worker >= 0
  // only) the chunks are scanned into it, not replaced nor written.
  Status Stream(std::FILE* in, const std::string& in_name, std::FILE* out,
                const std::string& out_name, FileStats* st, BinaryInput* binary, int worker = -1,
                std::vector<ScannedChunk>* scanned = nullptr) {
    std::string buf;
    std::vector<char> block(size_t{1} << 20);
    std::vector<std::string> batch;
    bool first = true, eof = false;
    const size_t target = std::max<size_t>(flags_.chunk_bytes, 1024);
    const size_t max_line = engine_.options().max_text_bytes;
    // About 2 MiB of text per thread per batch (at least two chunks each), so
    // small chunks do not make the threads wait on each other between batches.
    const size_t per_thread = std::max<size_t>(2, (size_t{2} << 20) / target);
    const size_t batch_chunks = worker < 0 ? jobs() * per_thread : 1;
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
          binary->not_utf8 = CountInvalidUtf8(sample);
          binary->sampled = sample.size();
          return absl::OkStatus();
        }
      }
      if (first) continue;
      // Chunks of about `target` bytes from buf[pos, ...): cut at the last blank
      // line in the chunk's second half, else at the last line break before
      // `target`, else (a line longer than `target`) after that line.
      size_t pos = 0;
      while (buf.size() - pos >= target) {
        const std::string_view rest = std::string_view(buf).substr(pos);
        size_t cut = rest.rfind("\n\n", target - 1);
        if (cut != std::string_view::npos && cut >= target / 2) {
          cut += 2;
        } else {
          cut = rest.rfind('\n', target - 1);
          if (cut == std::string_view::npos) cut = rest.find('\n', target);
          if (cut == std::string_view::npos) break;  // one long line: keep reading it whole
          ++cut;
        }
        batch.emplace_back(rest.substr(0, cut));
        pos += cut;
        if (batch.size() >= batch_chunks) {
          PHIGATE_RETURN_IF_ERROR(WriteChunks(&batch, worker, st, out, out_name, scanned));
        }
      }
      buf.erase(0, pos);
      if (buf.size() > max_line) {
        return absl::ResourceExhaustedError(
            absl::StrFormat("%s: a line longer than %d bytes; split the input", in_name, max_line));
      }
    }
    if (!buf.empty()) batch.push_back(std::move(buf));
    return WriteChunks(&batch, worker, st, out, out_name, scanned);
  }

  // A JSONL record's outcome: its output line, or (ok false) why it was not
  // written: malformed, or detection or replacement failed.
  struct RecordResult {
    bool ok = false;
    std::string line;  // the output line, or the error
    FileStats stats;
  };
  // Processes `lines` (JSONL records) on jobs() threads; results in order.
  void Records(const std::vector<std::string>& lines, std::vector<RecordResult>* results) {
    if (batches_vault() && !flags_.spans_jsonl) {
      std::vector<Scanned> scanned;
      ScanRecords(lines, &scanned);
      FinishRecords(&scanned, scanned.size(), results);
      return;
    }
    results->assign(lines.size(), RecordResult{});
    ForEach(lines.size(), [&](size_t worker, size_t i, const Turn& turn) {
      RecordResult& r = (*results)[i];
      r.ok = Record(worker, lines[i], &r.line, &r.stats, turn);
    });
  }

  // A JSONL record after phase one: parsed and its text scanned (ok), or why
  // not (error). `group` is its --group-field / --group-id-prefix group.
  struct Scanned {
    bool ok = false;
    std::string error;
    Json j;
    std::string group;
    Findings findings;
    FileStats stats;
    // --mode tokenize|surrogate: the replaced text, made for many records at once
    // (ReplaceMany) before Finish.
    std::optional<Result<std::string>> replaced;
  };

  // Scans `lines` (JSONL records) on jobs() threads into *out, in order.
  void ScanRecords(const std::vector<std::string>& lines, std::vector<Scanned>* out) {
    out->assign(lines.size(), Scanned{});
    ParallelFor(lines.size(), jobs(),
                [&](size_t worker, size_t i) { Scan(worker, lines[i], &(*out)[i]); });
  }

  // Phase two of records[0, n): replacement and the output line, on jobs()
  // threads; results in order.
  void FinishRecords(std::vector<Scanned>* records, size_t n, std::vector<RecordResult>* results) {
    const bool batched = batches_vault() && !flags_.spans_jsonl;
    if (batched) {
      std::vector<std::string_view> texts;
      std::vector<const Findings*> findings;
      std::vector<size_t> which;
      for (size_t i = 0; i < n; ++i) {
        Scanned& rec = (*records)[i];
        if (!rec.ok) continue;
        texts.push_back(rec.j.find("text")->get_ref<const std::string&>());
        findings.push_back(&rec.findings);
        which.push_back(i);
      }
      std::vector<Result<std::string>> replaced;
      ReplaceMany(texts, findings, &replaced);
      for (size_t k = 0; k < which.size(); ++k)
        (*records)[which[k]].replaced = std::move(replaced[k]);
    }
    results->assign(n, RecordResult{});
    auto finish = [&](size_t, size_t i, const Turn& turn) {
      RecordResult& r = (*results)[i];
      Scanned& rec = (*records)[i];
      r.ok = rec.ok && Finish(&rec, &r.line, turn);
      if (!rec.ok) r.line = rec.error;
      r.stats = rec.stats;
    };
    if (batched) {  // the vault's work is done: nothing left to order
      ParallelFor(n, jobs(), [&](size_t w, size_t i) { finish(w, i, Turn()); });
    } else {
      ForEach(n, finish);
    }
  }

 private:
  struct Worker {
    std::unique_ptr<detect::ScanContext> ctx;
    Findings findings;
  };

  // Replaces the chunks of *batch on jobs() threads (worker < 0) or on
  // `worker`'s, and writes them in order; stops at the first failed chunk.
  // Empties *batch.
  Status WriteChunks(std::vector<std::string>* batch, int worker, FileStats* st, std::FILE* out,
                     const std::string& out_name, std::vector<ScannedChunk>* scanned) {
    if (scanned != nullptr) {
      for (std::string& chunk : *batch) {
        Prepared p;
        PHIGATE_RETURN_IF_ERROR(Prepare(static_cast<size_t>(std::max(worker, 0)), chunk, st, &p));
        ScannedChunk& c = scanned->emplace_back();
        c.text = p.sanitized.empty() ? std::move(chunk) : std::move(p.sanitized);
        c.findings = std::move(p.findings);
      }
      batch->clear();
      return absl::OkStatus();
    }
    std::vector<Result<std::string>> replaced(batch->size(), std::string());
    std::vector<FileStats> stats(batch->size());
    if (worker >= 0) {
      for (size_t i = 0; i < batch->size(); ++i) {
        replaced[i] = Replace(static_cast<size_t>(worker), (*batch)[i], &stats[i]);
      }
    } else {
      ForEach(batch->size(), [&](size_t w, size_t i, const Turn& turn) {
        replaced[i] = Replace(w, (*batch)[i], &stats[i], turn);
      });
    }
    batch->clear();
    for (size_t i = 0; i < replaced.size(); ++i) {
      AddStats(stats[i], st);
      PHIGATE_RETURN_IF_ERROR(replaced[i].status());
      WriteAll(out, *replaced[i], out_name);
    }
    return absl::OkStatus();
  }

  bool Record(size_t worker, std::string_view line, std::string* out, FileStats* st,
              const Turn& turn) {
    Scanned rec;
    Scan(worker, line, &rec);
    const bool ok = rec.ok && Finish(&rec, out, turn);
    if (!rec.ok) *out = rec.error;
    *st = rec.stats;
    return ok;
  }

  void Scan(size_t worker, std::string_view line, Scanned* r) {
    Worker& w = workers_[worker];
    r->j = Json::parse(line.begin(), line.end(), nullptr, /*allow_exceptions=*/false);
    if (r->j.is_discarded() || !r->j.is_object()) {
      r->error = "not a JSON object (or invalid UTF-8 in a string)";
      return;
    }
    auto text = r->j.find("text");
    if (text == r->j.end() || !text->is_string()) {
      r->error = "no string \"text\"";
      return;
    }
    const std::string& t = text->get_ref<const std::string&>();
    r->stats.bytes_in += static_cast<int64_t>(t.size());
    Status s = engine_.Scan(t, *w.ctx, &r->findings);
    if (!s.ok()) {
      r->error = absl::StrCat("detection failed: ", s.message());
      return;
    }
    if (flags_.group.enabled()) {
      auto id = r->j.find("id");
      std::string id_text;
      if (id != r->j.end()) id_text = id->is_string() ? id->get<std::string>() : id->dump();
      std::string field_value;
      if (!flags_.group.field.empty()) {
        auto g = r->j.find(flags_.group.field);
        if (g != r->j.end()) field_value = g->is_string() ? g->get<std::string>() : g->dump();
      }
      r->group = GroupOf(flags_.group, id_text, field_value);
    }
    r->ok = true;
  }

  bool Finish(Scanned* r, std::string* out, const Turn& turn) {
    FileStats* st = &r->stats;
    const Json& j = r->j;
    const std::string& t = j.find("text")->get_ref<const std::string&>();
    Count(r->findings, st);
    OJson o;
    o["id"] = j.contains("id") ? OJson::parse(j["id"].dump()) : OJson(nullptr);
    if (!flags_.spans_jsonl) {
      if (turn) turn();
      auto replaced = r->replaced.has_value() ? *std::move(r->replaced)
                                              : ApplyReplacement(t, r->findings, ropts_);
      if (!replaced.ok()) {
        *out = std::string(FromAbsl(replaced.status().message()));
        return false;
      }
      o["text"] = *std::move(replaced);
    }
    OJson spans = OJson::array();
    for (const Finding& f : r->findings) {
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
    *out = o.dump(-1, ' ', false, OJson::error_handler_t::replace);
    out->push_back('\n');
    return true;
  }

  static void Count(const Findings& findings, FileStats* st) {
    st->findings += static_cast<int64_t>(findings.size());
    for (const Finding& f : findings) ++st->counts[static_cast<size_t>(f.category)];
  }

  const DeidFlags& flags_;
  const detect::Engine& engine_;
  ReplacementOptions ropts_;
  std::vector<Worker> workers_;
};

std::string BinaryMessage(const BinaryInput& b) {
  return absl::StrFormat(
      "looks binary (%d NUL bytes, %d bytes not UTF-8 in the first %d bytes); not processed "
      "(--skip-binary to skip such inputs without failing)",
      b.nul, b.not_utf8, b.sampled);
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

// Records of one group held back at most: a longer run of one group is made
// consistent in parts of this many records.
constexpr size_t kMaxGroupRecords = size_t{1} << 16;

// Groups consecutive records of records[0, n) (failed ones go with the record
// before them) and makes each group's findings consistent. Returns the
// number of findings added.
size_t PropagateGroups(std::vector<Deidentifier::Scanned>* records, size_t n) {
  size_t added = 0;
  for (size_t b = 0; b < n;) {
    size_t e = b + 1;
    const std::string& g = (*records)[b].group;
    while (e < n && (!(*records)[e].ok || (!g.empty() && (*records)[e].group == g))) ++e;
    std::vector<std::string_view> texts;
    std::vector<Findings> found;
    std::vector<size_t> index;
    for (size_t i = b; i < e; ++i) {
      Deidentifier::Scanned& r = (*records)[i];
      if (!r.ok) continue;
      texts.push_back(r.j.find("text")->get_ref<const std::string&>());
      found.push_back(std::move(r.findings));
      index.push_back(i);
    }
    added += detect::PropagateInGroup(texts, found);
    for (size_t k = 0; k < index.size(); ++k) (*records)[index[k]].findings = std::move(found[k]);
    b = e;
  }
  return added;
}

// The start of the last group of records[0, n): where records from it on
// share its group (or failed); n when the last record has no group.
size_t LastGroupStart(const std::vector<Deidentifier::Scanned>& records, size_t n) {
  size_t last = n;
  while (last > 0 && !records[last - 1].ok) --last;
  if (last == 0 || records[last - 1].group.empty()) return n;
  const std::string& g = records[last - 1].group;
  size_t b = last - 1;
  while (b > 0 && (!records[b - 1].ok || records[b - 1].group == g)) --b;
  return b;
}

// One input of --jsonl / --csv: a file, or standard input for "-"; closed
// when it goes out of scope (also when an error is thrown).
class RecordInput {
 public:
  explicit RecordInput(const std::string& name)
      : stdin_(name == "-"),
        file_(stdin_ ? stdin : std::fopen(name.c_str(), "rb")),
        what_(stdin_ ? "standard input" : name) {
    if (file_ == nullptr) throw CliError(1, "cannot open " + name + ": " + std::strerror(errno));
  }
  ~RecordInput() {
    if (!stdin_) std::fclose(file_);
  }
  RecordInput(const RecordInput&) = delete;
  RecordInput& operator=(const RecordInput&) = delete;
  std::FILE* file() const { return file_; }
  const std::string& what() const { return what_; }  // for messages

 private:
  bool stdin_;
  std::FILE* file_;
  std::string what_;
};

// The inputs named on the command line, or standard input.
std::vector<std::string> InputsOrStdin(const DeidFlags& flags) {
  return flags.inputs.empty() ? std::vector<std::string>{"-"} : flags.inputs;
}

// JSONL from stdin or the input files to stdout. Grouped, a group never spans
// two input files.
int RunJsonl(const DeidFlags& flags, Deidentifier& d) {
  int rc = 0;
  FileStats st;
  const bool grouping = flags.group.enabled();
  size_t propagated = 0, oversized = 0;
  for (const std::string& name : InputsOrStdin(flags)) {
    const RecordInput input(name);
    std::FILE* in = input.file();
    const std::string& what = input.what();
    std::string_view line;
    size_t lineno = 0;
    // Records go to the threads in batches of about 4 MiB or 4096 lines.
    // Grouped, the last group of a batch waits (scanned) for the next one.
    std::vector<std::string> lines;
    std::vector<size_t> linenos, pending_linenos;
    std::vector<Deidentifier::RecordResult> results;
    std::vector<Deidentifier::Scanned> scanned, pending;
    size_t batch_bytes = 0;
    bool more = true;
    auto report = [&](const std::vector<size_t>& at, size_t n) {
      for (size_t i = 0; i < n; ++i) {
        AddStats(results[i].stats, &st);
        if (!results[i].ok) {
          std::fprintf(stderr, "phigate: error: %s line %zu: %s; record not written\n",
                       what.c_str(), at[i], results[i].line.c_str());
          rc = 1;
          continue;
        }
        WriteAll(stdout, results[i].line, "standard output");
      }
    };
    while (more) {
      more = ReadLine(in, &line, what);
      if (more) {
        ++lineno;
        if (line.find_first_not_of(" \t\r\f\v") == std::string_view::npos) continue;
        lines.emplace_back(line);
        linenos.push_back(lineno);
        batch_bytes += line.size();
        if (lines.size() < 4096 && batch_bytes < (size_t{4} << 20)) continue;
      }
      if (!grouping) {
        d.Records(lines, &results);
        report(linenos, results.size());
      } else {
        d.ScanRecords(lines, &scanned);
        for (auto& r : scanned) pending.push_back(std::move(r));
        pending_linenos.insert(pending_linenos.end(), linenos.begin(), linenos.end());
        size_t cut = more ? LastGroupStart(pending, pending.size()) : pending.size();
        if (cut == 0 && pending.size() >= kMaxGroupRecords) {
          cut = pending.size();
          ++oversized;
        }
        propagated += PropagateGroups(&pending, cut);
        d.FinishRecords(&pending, cut, &results);
        report(pending_linenos, cut);
        pending.erase(pending.begin(), pending.begin() + static_cast<std::ptrdiff_t>(cut));
        pending_linenos.erase(pending_linenos.begin(),
                              pending_linenos.begin() + static_cast<std::ptrdiff_t>(cut));
      }
      lines.clear();
      linenos.clear();
      batch_bytes = 0;
    }
  }
  if (grouping) {
    std::fprintf(stderr, "phigate: grouped records: %zu findings added by consistency in a group\n",
                 propagated);
    if (oversized > 0) {
      std::fprintf(stderr,
                   "phigate: note: a group ran over %zu records and was made consistent in "
                   "parts\n",
                   kMaxGroupRecords);
    }
  }
  return rc;
}

// The delimiter of --delimiter: one character, or "tab".
char CsvDelimiter(const std::string& d) {
  if (d == "tab" || d == "\\t") return '\t';
  if (d.size() != 1 || d == "\"" || d == "\r" || d == "\n") {
    throw CliError(2, "--delimiter is one character (not a quote or a line break), or tab");
  }
  return d[0];
}

// The columns of --keep-columns (0-based), by header name or 1-based number.
std::vector<bool> KeptColumns(const DeidFlags& flags, const CsvRecord* header, size_t width,
                              const std::string& what) {
  std::vector<bool> keep(width, false);
  if (flags.keep_columns.empty()) return keep;
  for (const std::string& item :
       std::vector<std::string>(absl::StrSplit(flags.keep_columns, ','))) {
    size_t column = width;
    if (header != nullptr) {
      for (size_t c = 0; c < header->size(); ++c) {
        if ((*header)[c] == item) column = c;
      }
    }
    size_t number = 0;
    if (column == width && absl::SimpleAtoi(item, &number) && number >= 1 && number <= width) {
      column = number - 1;
    }
    if (column == width) {
      throw CliError(2, absl::StrCat("--keep-columns: ", what, " has no column ", item,
                                     header != nullptr ? " (a header name or a number from 1)"
                                                       : " (numbers from 1: --no-header)"));
    }
    keep[column] = true;
  }
  return keep;
}

// CSV (RFC 4180) from stdin or the input files to stdout. Every field is
// de-identified on its own (as `phigate deid` would de-identify that text)
// but for the --keep-columns. The header record (unless --no-header) is
// treated the same: a real header's names hold no identifiers and come out
// unchanged, and a file without a header read without --no-header leaks
// nothing; a header name that changes is reported by column number. A record
// with another number of fields than the first, or with a field that fails,
// is reported by number and not written; malformed CSV ends that input there
// (the records before it are written).
int RunCsv(const DeidFlags& flags, Deidentifier& d) {
  const char delim = CsvDelimiter(flags.delimiter);
  int rc = 0;
  for (const std::string& name : InputsOrStdin(flags)) {
    const RecordInput input(name);
    std::FILE* in = input.file();
    const std::string& what = input.what();
    CsvReader reader(delim);
    std::vector<CsvRecord> records;
    size_t next_number = 1;  // of records[0]
    size_t width = 0;        // fields of the first record; 0 until it is read
    std::vector<bool> keep;
    std::string eol, out;
    // Replaces the fields of `records` (on every thread) and writes them.
    auto flush = [&] {
      CsvRecord header;  // as read: set while the header record is in `records`
      if (width == 0 && !records.empty()) {
        width = records[0].size();
        eol = reader.crlf() ? "\r\n" : "\n";
        if (!flags.no_header) header = records[0];
        keep = KeptColumns(flags, flags.no_header ? nullptr : &header, width, what);
      }
      struct Item {
        size_t record, field;
        Result<std::string> text = std::string();
        FileStats stats;
      };
      std::vector<Item> items;
      for (size_t r = 0; r < records.size(); ++r) {
        if (records[r].size() != width) continue;
        for (size_t f = 0; f < width; ++f) {
          if (!keep[f] && !records[r][f].empty()) items.push_back(Item{r, f});
        }
      }
      if (d.batches_vault()) {  // scans on every thread, then the vault in groups
        std::vector<Deidentifier::Prepared> prepared(items.size());
        ParallelFor(items.size(), d.jobs(), [&](size_t worker, size_t k) {
          Item& it = items[k];
          const Status s = d.Prepare(worker, records[it.record][it.field], &it.stats, &prepared[k]);
          if (!s.ok()) it.text = s;
        });
        std::vector<std::string_view> texts;
        std::vector<const Findings*> findings;
        std::vector<size_t> which;
        for (size_t k = 0; k < items.size(); ++k) {
          if (!items[k].text.ok()) continue;
          texts.push_back(prepared[k].text);
          findings.push_back(&prepared[k].findings);
          which.push_back(k);
        }
        std::vector<Result<std::string>> replaced;
        d.ReplaceMany(texts, findings, &replaced);
        for (size_t j = 0; j < which.size(); ++j) {
          Item& it = items[which[j]];
          if (replaced[j].ok()) it.stats.bytes_out += static_cast<int64_t>(replaced[j]->size());
          it.text = std::move(replaced[j]);
        }
      } else {
        d.ForEach(items.size(), [&](size_t worker, size_t k, const Turn& turn) {
          Item& it = items[k];
          it.text = d.Replace(worker, records[it.record][it.field], &it.stats, turn);
        });
      }
      size_t k = 0;
      for (size_t r = 0; r < records.size(); ++r) {
        const size_t number = next_number + r;
        if (records[r].size() != width) {
          std::fprintf(stderr,
                       "phigate: error: %s record %zu: %zu fields, the first record has %zu; "
                       "record not written\n",
                       what.c_str(), number, records[r].size(), width);
          rc = 1;
          continue;
        }
        bool ok = true;
        for (; k < items.size() && items[k].record == r; ++k) {
          if (!items[k].text.ok()) {
            if (ok) {
              std::fprintf(stderr,
                           "phigate: error: %s record %zu field %zu: %s; record not written\n",
                           what.c_str(), number, items[k].field + 1,
                           std::string(items[k].text.status().message()).c_str());
            }
            ok = false;
            continue;
          }
          records[r][items[k].field] = *std::move(items[k].text);
        }
        if (!ok) {
          rc = 1;
          continue;
        }
        AppendCsvRecord(records[r], delim, eol, &out);
        if (r == 0 && !header.empty()) {
          for (size_t f = 0; f < width; ++f) {
            if (records[0][f] == header[f]) continue;
            std::fprintf(stderr,
                         "phigate: warning: %s header column %zu held an identifier and was "
                         "de-identified; if the first record is data, pass --no-header\n",
                         what.c_str(), f + 1);
          }
        }
      }
      WriteAll(stdout, out, "standard output");
      out.clear();
      next_number += records.size();
      records.clear();
    };
    std::vector<char> block(size_t{1} << 20);
    size_t batch_bytes = 0;
    bool first_block = true;
    Status status;
    for (;;) {
      const size_t n = std::fread(block.data(), 1, block.size(), in);
      if (n == 0) {
        if (std::ferror(in))
          throw CliError(1, "read error on " + what + ": " + std::strerror(errno));
        break;
      }
      std::string_view bytes(block.data(), n);
      if (first_block) {
        first_block = false;
        if (bytes.substr(0, 3) == "\xEF\xBB\xBF") {  // a UTF-8 byte order mark stays in front
          WriteAll(stdout, bytes.substr(0, 3), "standard output");
          bytes.remove_prefix(3);
        }
      }
      status = reader.Feed(bytes, &records);
      batch_bytes += bytes.size();
      if (!status.ok()) break;
      if (records.size() >= 4096 || batch_bytes >= (size_t{4} << 20)) {
        flush();
        batch_bytes = 0;
      }
    }
    if (status.ok()) status = reader.Finish(&records);
    flush();
    if (!status.ok()) {
      std::fprintf(stderr, "phigate: error: %s: %s; the rest of it was not written\n", what.c_str(),
                   std::string(status.message()).c_str());
      rc = 1;
    }
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
      // The folder's own name: "notes/" and "notes" alike; "." and ".." by
      // the folder they are.
      fs::path norm = fs::absolute(p, ec).lexically_normal();
      if (!norm.has_filename()) norm = norm.parent_path();  // "notes/" -> "notes"
      std::string name = norm.filename().string();
      if (name.empty()) name = "input";  // the root folder
      const std::string prefix = single_dir ? "" : name + "/";
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
          st.input = prefix + it->path().lexically_relative(p).generic_string();
          st.status = "error";
          st.error = !link                   ? "not a regular file"
                     : it->is_directory(ec2) ? "symbolic link to a folder, not followed"
                                             : "broken symbolic link";
          errors->push_back(st);
          continue;
        }
        // lexically_relative, not fs::relative: a symbolic link keeps its
        // own name (fs::relative follows it to its target's path).
        found.push_back({it->path(), prefix + it->path().lexically_relative(p).generic_string()});
      }
      std::sort(found.begin(), found.end(),
                [](const Job& a, const Job& b) { return a.rel < b.rel; });
      jobs.insert(jobs.end(), found.begin(), found.end());
    } else {
      jobs.push_back({p, p.filename().string()});
    }
  }
  // OUTDIR/manifest.json is the manifest's: an input of that name would lose
  // its output to it.
  std::set<std::string> seen = {"manifest.json"};
  for (const Job& j : jobs) {
    if (flags.out.empty()) continue;
    if (!seen.insert(j.rel).second) {
      throw CliError(2, "two inputs would both be written to " + j.rel + " in " + flags.out);
    }
    // Fail closed: nothing is ever written outside OUTDIR, nor over an input.
    const fs::path rel(j.rel);
    bool outside = rel.empty() || rel.is_absolute() || rel.has_root_name();
    for (const fs::path& part : rel) outside = outside || part == "..";
    if (outside) throw CliError(2, "refusing to write outside " + flags.out + ": " + j.rel);
    std::error_code ec2, ec3;
    const fs::path target = fs::weakly_canonical(fs::path(flags.out) / rel, ec2);
    if (!ec2 && target == fs::weakly_canonical(j.input, ec3) && !ec3) {
      throw CliError(2, "the output " + (fs::path(flags.out) / rel).string() +
                            " would overwrite its input: give another --out");
    }
  }
  return jobs;
}

// Writes one input's output through `body` to OUTDIR/<rel>, through a
// temporary file renamed into place only when complete (fail closed: no
// partial output), or to standard output; the outcome goes into *st.
void WriteOutput(
    const DeidFlags& flags, const Job& job, FileStats* st,
    absl::FunctionRef<Status(std::FILE* out, const std::string& out_name, BinaryInput* bin)> body) {
  const bool to_dir = !flags.out.empty();
  std::error_code ec;
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
      st->status = "error";
      st->error = absl::StrCat("cannot write ", out_name, ": ", std::strerror(errno));
      return;
    }
  }
  BinaryInput bin;
  Status s;
  try {
    s = body(out, out_name, &bin);
  } catch (const CliError& e) {
    s = absl::DataLossError(e.what());
  }
  if (!s.ok()) {
    st->status = "error";
    st->error = std::string(FromAbsl(s.message()));
  } else if (bin.sampled > 0) {
    st->status = flags.skip_binary ? "skipped_binary" : "binary";
    st->error = BinaryMessage(bin);
  }
  if (!to_dir) return;
  const bool flushed = std::fclose(out) == 0;
  if (st->status == "ok" && !flushed) {
    st->status = "error";
    st->error = "write error on " + out_name;
  }
  if (st->status == "ok") {
    fs::rename(tmp, final_path, ec);
    if (ec) {
      st->status = "error";
      st->error = "cannot rename into " + out_name + ": " + ec.message();
    } else {
      st->output = job.rel;
    }
  }
  if (st->status != "ok") fs::remove(tmp, ec);  // fail closed: no partial output
}

// Runs fn(in, in_name) on the opened input file; a file that cannot be read
// is an error in *st.
void ReadInput(const Job& job, FileStats* st,
               absl::FunctionRef<void(std::FILE* in, const std::string& in_name)> fn) {
  st->input = job.rel;
  const std::string in_name = job.input.string();
  std::FILE* in = std::fopen(in_name.c_str(), "rb");
  if (in == nullptr) {
    st->status = "error";
    st->error = absl::StrCat("cannot read: ", std::strerror(errno));
    return;
  }
  fn(in, in_name);
  std::fclose(in);
}

// De-identifies one input file into OUTDIR or to standard output
// (WriteOutput). `worker` >= 0: on that worker's thread alone; -1: the
// file's chunks on every thread.
FileStats ProcessFile(const DeidFlags& flags, Deidentifier& d, const Job& job, int worker) {
  FileStats st;
  ReadInput(job, &st, [&](std::FILE* in, const std::string& in_name) {
    WriteOutput(flags, job, &st,
                [&](std::FILE* out, const std::string& out_name, BinaryInput* bin) {
                  return d.Stream(in, in_name, out, out_name, &st, bin, worker);
                });
  });
  return st;
}

// Small files into OUTDIR in the reversible modes: scanned on every thread,
// then their replacements made together (ReplaceMany: kVaultGroup chunks per
// vault transaction, in input order, so the vault sees the same calls for
// any number of threads), then written on every thread. The outcomes are
// those ProcessFile gives the files one by one.
void ProcessSmallFilesReversibly(const DeidFlags& flags, Deidentifier& d, std::span<const Job> jobs,
                                 std::vector<FileStats>* results) {
  struct Scanned {
    FileStats st;
    Status status;
    BinaryInput bin;
    std::vector<Deidentifier::ScannedChunk> chunks;
    std::vector<Result<std::string>> replaced;
  };
  std::vector<Scanned> files(jobs.size());
  ParallelFor(jobs.size(), d.jobs(), [&](size_t worker, size_t k) {
    Scanned& f = files[k];
    ReadInput(jobs[k], &f.st, [&](std::FILE* in, const std::string& in_name) {
      try {
        f.status =
            d.Stream(in, in_name, nullptr, "", &f.st, &f.bin, static_cast<int>(worker), &f.chunks);
      } catch (const CliError& e) {
        f.status = absl::DataLossError(e.what());
      }
    });
  });
  std::vector<std::string_view> texts;
  std::vector<const Findings*> findings;
  for (const Scanned& f : files) {
    if (f.st.status != "ok" || !f.status.ok() || f.bin.sampled > 0) continue;
    for (const auto& c : f.chunks) {
      texts.push_back(c.text);
      findings.push_back(&c.findings);
    }
  }
  std::vector<Result<std::string>> replaced;
  d.ReplaceMany(texts, findings, &replaced);
  size_t next = 0;
  for (Scanned& f : files) {
    if (f.st.status != "ok" || !f.status.ok() || f.bin.sampled > 0) continue;
    for (size_t c = 0; c < f.chunks.size(); ++c) f.replaced.push_back(std::move(replaced[next++]));
  }
  results->assign(jobs.size(), FileStats());
  ParallelFor(jobs.size(), d.jobs(), [&](size_t, size_t k) {
    Scanned& f = files[k];
    FileStats& st = (*results)[k];
    st = std::move(f.st);
    if (st.status != "ok") return;  // unreadable: as ProcessFile reports it
    WriteOutput(flags, jobs[k], &st,
                [&](std::FILE* out, const std::string& out_name, BinaryInput* bin) -> Status {
                  *bin = f.bin;
                  PHIGATE_RETURN_IF_ERROR(f.status);
                  if (bin->sampled > 0) return absl::OkStatus();
                  for (Result<std::string>& r : f.replaced) {
                    PHIGATE_RETURN_IF_ERROR(r.status());
                    st.bytes_out += static_cast<int64_t>(r->size());
                    WriteAll(out, *r, out_name);
                  }
                  return absl::OkStatus();
                });
  });
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
  // Reports one file's outcome, in input order.
  auto report = [&](FileStats st, size_t done) {
    const std::string in_name = jobs[done - 1].input.string();
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
    progress.Update(done, total_bytes);
    results.push_back(std::move(st));
  };
  // Into OUTDIR, small files go to the threads a batch at a time (one file
  // per thread; in the reversible modes ProcessSmallFilesReversibly, so many
  // of them share a vault transaction, on one thread too); a file of a chunk
  // or more alone, its chunks on every thread. To standard output files go in
  // order, each on every thread.
  // A reversible batch is held in memory until its vault transaction: at most
  // kVaultGroup files and about 2 MiB per thread (at least 4 MiB).
  const size_t batch_files = d.reversible() ? kVaultGroup : d.jobs() * 8;
  const uintmax_t batch_bytes = std::max<uintmax_t>(4, 2 * d.jobs()) << 20;
  size_t next = 0;
  while (next < jobs.size()) {
    size_t end = next;
    if (to_dir && (d.jobs() > 1 || d.reversible())) {
      uintmax_t bytes = 0;
      while (end < jobs.size() && end - next < batch_files) {
        const auto size = fs::file_size(jobs[end].input, ec);
        if (!ec && size >= flags.chunk_bytes) break;
        if (d.reversible() && end > next && !ec && bytes + size > batch_bytes) break;
        bytes += ec ? 0 : size;
        ++end;
      }
    }
    if (end == next) {
      report(ProcessFile(flags, d, jobs[next], -1), next + 1);
      ++next;
      continue;
    }
    std::vector<FileStats> batch(end - next);
    if (d.reversible()) {
      ProcessSmallFilesReversibly(flags, d, std::span(jobs).subspan(next, end - next), &batch);
    } else {
      ParallelFor(batch.size(), d.jobs(), [&](size_t worker, size_t k) {
        batch[k] = ProcessFile(flags, d, jobs[next + k], static_cast<int>(worker));
      });
    }
    for (size_t k = 0; k < batch.size(); ++k) report(std::move(batch[k]), next + k + 1);
    next = end;
  }
  progress.Done();
  if (to_dir) {
    OJson m;
    m["tool"] = kToolVersion;
    m["engine"] = {{"mode", flags.engine.engine_mode},
                   {"data_dir", ResolveDataDir(flags.engine)},
                   {"gazetteers", GazetteerFingerprint(ResolveDataDir(flags.engine))}};
    const detect::EngineOptions eo = ToEngineOptions(flags.engine);
    // floats -> 4 decimals, so 0.6 is written 0.6
    m["engine"]["min_score"] = std::round(eo.min_score * 1e4) / 1e4;
    if (flags.engine.engine_mode == "both") {
      m["engine"]["veto"] = std::round(eo.veto_score * 1e4) / 1e4;
    }
    if (flags.engine.engine_mode != "rules") {
      const std::string model = detect::ResolvedModelPath(eo);
      m["engine"]["model"] = {{"file", fs::path(model).filename().string()},
                              {"fingerprint", FileFingerprint(model)}};
    }
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
    FileStats totals;
    int64_t ok = 0, failed = 0, skipped = 0;
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
      AddStats(st, &totals);
      if (st.status == "ok") {
        ++ok;
      } else if (st.status == "skipped_binary") {
        ++skipped;
      } else {
        ++failed;
      }
    }
    m["totals"] = {{"files", results.size()},
                   {"ok", ok},
                   {"failed", failed},
                   {"skipped", skipped},
                   {"bytes_in", totals.bytes_in},
                   {"bytes_out", totals.bytes_out},
                   {"findings", totals.findings},
                   {"counts", CountsJson(totals.counts)}};
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
  if (flags.csv && (flags.jsonl || flags.spans_jsonl))
    throw CliError(2, "--csv and --jsonl/--spans-jsonl exclude each other");
  if (!flags.csv && (!flags.keep_columns.empty() || flags.no_header || flags.delimiter != ","))
    throw CliError(2, "--keep-columns, --no-header and --delimiter are for --csv input");
  if (flags.csv && flags.group.enabled())
    throw CliError(2, "--group-field/--group-id-prefix group JSONL records, not --csv");
  if (flags.csv && !flags.out.empty())
    throw CliError(2, "--csv writes to standard output; redirect it instead of --out");
  if (flags.group.enabled() && !flags.jsonl && !flags.spans_jsonl)
    throw CliError(
        2, "--group-field/--group-id-prefix group JSONL records: add --jsonl or --spans-jsonl");
  if ((flags.jsonl || flags.spans_jsonl) && !flags.out.empty()) {
    throw CliError(2,
                   "--jsonl/--spans-jsonl write to standard output; redirect it instead of --out");
  }
  if (!flags.out.empty() && flags.inputs.empty())
    throw CliError(2, "--out needs input files or folders");
  ReplacementOptions ropts = MakeReplacementOptions(flags);
  std::unique_ptr<detect::Engine> engine = MakeEngine(flags.engine);
  const size_t jobs =
      flags.jobs > 0 ? flags.jobs : std::max<size_t>(std::thread::hardware_concurrency(), 1);
  Deidentifier d(flags, *engine, std::move(ropts), jobs);
  // A plain array: it outlives static destructors, so the exit-time flush is safe.
  static char stdout_buf[1 << 20];
  std::setvbuf(stdout, stdout_buf, _IOFBF, sizeof stdout_buf);
  int rc;
  if (flags.jsonl || flags.spans_jsonl) {
    rc = RunJsonl(flags, d);
  } else if (flags.csv) {
    rc = RunCsv(flags, d);
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
  CLI::App* cmd =
      app.add_subcommand("deid", "De-identify text, files, folders, JSONL or CSV records");
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
  cmd->add_flag("--csv", flags->csv,
                "Input is CSV (RFC 4180) with a header record; output the same CSV, every field "
                "(header names too) de-identified on its own but the --keep-columns");
  cmd->add_option("--keep-columns", flags->keep_columns,
                  "--csv: columns written as they are (header names or numbers from 1, "
                  "comma-separated), e.g. row_id,note_type");
  cmd->add_flag("--no-header", flags->no_header,
                "--csv: the first record is data, not a header (--keep-columns then takes "
                "numbers only)");
  cmd->add_option("--delimiter", flags->delimiter, "--csv: field delimiter, one character or tab")
      ->capture_default_str();
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
  cmd->add_option("--jobs,-j", flags->jobs,
                  "Threads for detection and replacement (default: one per hardware thread); "
                  "the output is the same for any number (tokenize/surrogate: the scans on every "
                  "thread, the vault's replacements one at a time in input order)")
      ->check(CLI::Range(size_t{0}, size_t{256}));
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
  AddGroupFlags(cmd, &flags->group);
  cmd->callback([flags] { RunDeid(*flags); });
}

PHIGATE_REGISTER_COMMAND(Register);

}  // namespace
}  // namespace phigate::cli
