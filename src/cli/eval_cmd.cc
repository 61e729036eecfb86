// `phigate eval GOLD.jsonl [--pred PRED.jsonl]`: scores PHI detection with the
// metrics of ../shared/tools/score.py (include/phigate/detect/evaluation.h).
// Without --pred it runs the detection engine on every record's text.
//
// Default output holds figures, types, ids and offsets only, never text.
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <string>
#include <unordered_map>
#include <vector>

#include "absl/strings/str_format.h"
#include "phigate/core/paths.h"
#include "phigate/core/utf8.h"
#include "phigate/detect/evaluation.h"
#include "phigate/detect/propagate.h"
#include "phigate/model/tagger.h"
#include "src/cli/cli_util.h"
#include "src/cli/command.h"
#include "src/detect/combine.h"

namespace phigate::cli {
namespace {

struct EvalFlags {
  std::string gold;
  std::string pred;
  std::string unit = "cp";
  bool json = false;
  bool show_misses = false;
  bool years_as_phi = false;
  bool compare = false;
  EngineFlags engine;
  GroupFlags group;
};

std::string Pct(double x) { return std::isnan(x) ? "  n/a" : absl::StrFormat("%5.1f", 100 * x); }

double Ratio(int64_t a, int64_t b) {
  return b != 0 ? static_cast<double>(a) / static_cast<double>(b) : std::nan("");
}

void PrintTable(const std::string& name, const detect::EvalResult& r, double scan_seconds,
                double bytes, bool show_misses) {
  std::printf("== %s  (%lld notes, missing predictions: %lld)\n", name.c_str(),
              static_cast<long long>(r.notes), static_cast<long long>(r.missing_predictions));
  std::printf("  any-PHI char recall %s%%  char precision %s%%  F1 %s\n",
              Pct(r.chars.recall()).c_str(), Pct(r.chars.precision()).c_str(),
              Pct(r.chars.f1()).c_str());
  std::printf("  token recall        %s%%  token precision %s%%  F1 %s\n",
              Pct(r.tokens.recall()).c_str(), Pct(r.tokens.precision()).c_str(),
              Pct(r.tokens.f1()).c_str());
  std::printf("  entity recall full  %s%%  any-overlap %s%%  entities missed entirely: %lld/%lld\n",
              Pct(Ratio(r.entities_full, r.entities_total)).c_str(),
              Pct(Ratio(r.entities_any, r.entities_total)).c_str(),
              static_cast<long long>(r.entities_missed()),
              static_cast<long long>(r.entities_total));
  std::printf(
      "  per gold type: entities | full%% any%% | char%% | token%% typed-token%% | missed\n");
  for (const auto& [type, v] : r.per_type) {
    if (v.entities == 0 && v.tokens_gold == 0) continue;
    std::printf("    %-9s %6lld | %s %s | %s | %s %s | %lld\n", type.c_str(),
                static_cast<long long>(v.entities), Pct(Ratio(v.entities_full, v.entities)).c_str(),
                Pct(Ratio(v.entities_any, v.entities)).c_str(),
                Pct(Ratio(v.chars_caught, v.chars_gold)).c_str(),
                Pct(Ratio(v.tokens_caught, v.tokens_gold)).c_str(),
                Pct(Ratio(v.tokens_caught_typed, v.tokens_gold)).c_str(),
                static_cast<long long>(v.entities - v.entities_any));
  }
  if (!r.per_pred_type.empty()) {
    std::printf("  per predicted type: tokens, token precision\n");
    for (const auto& [type, v] : r.per_pred_type) {
      std::printf("    %-9s %7lld  %s%%\n", type.c_str(), static_cast<long long>(v.tokens),
                  Pct(Ratio(v.tokens_gold, v.tokens)).c_str());
    }
  }
  std::printf("  records without PHI flagged (over-redaction): %lld/%lld\n",
              static_cast<long long>(r.no_phi_flagged), static_cast<long long>(r.no_phi_records));
  if (scan_seconds > 0) {
    std::printf("  throughput: %.1f notes/s, %.2f MB/s (%.3f s detection over %s)\n",
                static_cast<double>(r.notes) / scan_seconds, bytes / 1e6 / scan_seconds,
                scan_seconds, HumanBytes(bytes).c_str());
  }
  if (show_misses) {
    std::printf("  entities missed entirely (id, type, code point offsets):\n");
    for (const detect::Miss& m : r.misses) {
      std::printf("    %s %s [%lld, %lld)\n", m.id.c_str(), m.type.c_str(),
                  static_cast<long long>(m.start), static_cast<long long>(m.end));
    }
  }
}

// A stacked tagger trained with other rules than this build's still works
// (same hint encoding) but was tuned on other rule findings: say so.
void NoteModelRules(const EngineFlags& flags) {
  const std::string path = flags.model_path.empty() ? paths::ModelPath() : flags.model_path;
  auto tagger = model::Tagger::Load(path);
  if (!tagger.ok()) return;  // the engine reports it
  bool same = true;
  if (detect::CheckModelCompatible(**tagger, &same).ok() && !same) {
    std::fprintf(stderr,
                 "note: the tagger model was trained with rules '%s'; these rules are '%s' "
                 "(retrain it with phigate train --stack for figures of this build)\n",
                 (*tagger)->rules_version().c_str(), detect::RulesVersion().c_str());
  }
}

// Reads the gold JSONL file, calling fn(record, line number) for each record;
// blank lines are skipped, a bad line or an unreadable file throws CliError.
template <class Fn>
void ForEachGold(const std::string& path, Fn fn, std::string_view group_field = {}) {
  std::FILE* in = std::fopen(path.c_str(), "rb");
  if (in == nullptr) throw CliError(1, "cannot open " + path);
  std::string_view line;
  size_t lineno = 0;
  try {
    while (ReadLine(in, &line, path)) {
      ++lineno;
      if (line.find_first_not_of(" \t\r\n\f\v") == std::string_view::npos) continue;
      auto gold = detect::ParseGoldLine(line, group_field);
      if (!gold.ok()) {
        throw CliError(
            1, absl::StrFormat("%s line %d: %s", path, lineno, FromAbsl(gold.status().message())));
      }
      fn(std::move(gold).value(), lineno);
    }
  } catch (...) {
    std::fclose(in);
    throw;
  }
  std::fclose(in);
}

// --compare: every engine mode on the same gold notes, one line each.
void RunCompare(const EvalFlags& flags) {
  if (!flags.pred.empty()) throw CliError(2, "--compare runs the engine; it takes no --pred");
  detect::ScoreOptions opts;
  opts.years_as_phi = flags.years_as_phi;
  opts.unit = detect::OffsetUnit::kUtf8;
  std::vector<detect::GoldRecord> golds;
  ForEachGold(flags.gold,
              [&](detect::GoldRecord gold, size_t) { golds.push_back(std::move(gold)); });
  NoteModelRules(flags.engine);
  std::printf("%-6s | char recall | char precision |   F1  | entities missed | MB/s\n", "mode");
  for (const char* mode : {"rules", "model", "union", "both"}) {
    EngineFlags ef = flags.engine;
    ef.engine_mode = mode;
    detect::EngineOptions eo = ToEngineOptions(ef);
    eo.mode = detect::ParseMode(mode).value_or(detect::EngineOptions::Mode::kRules);
    auto engine = detect::Engine::Create(eo);
    ThrowIfError(engine.status(), absl::StrFormat("engine mode %s", mode));
    auto ctx = (*engine)->NewContext();
    detect::Scorer scorer(opts);
    Findings findings;
    double seconds = 0, bytes = 0;
    for (const detect::GoldRecord& g : golds) {
      const auto t0 = std::chrono::steady_clock::now();
      Status scan = (*engine)->Scan(g.text, *ctx, &findings);
      seconds += std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
      ThrowIfError(scan, absl::StrFormat("detection failed on record %s", g.id));
      bytes += static_cast<double>(g.text.size());
      const std::vector<detect::PredSpan> spans = detect::FindingsToPredSpans(findings);
      ThrowIfError(scorer.Add(g, &spans), absl::StrFormat("record %s", g.id));
    }
    detect::EvalResult r = scorer.Finish();
    std::printf("%-6s |     %s%%  |        %s%%  | %s | %7lld/%-7lld | %.2f\n", mode,
                Pct(r.chars.recall()).c_str(), Pct(r.chars.precision()).c_str(),
                Pct(r.chars.f1()).c_str(), static_cast<long long>(r.entities_missed()),
                static_cast<long long>(r.entities_total),
                seconds > 0 ? bytes / 1e6 / seconds : 0.0);
  }
}

// Predicted spans as findings (byte offsets) for PropagateInGroup: NAME and
// LOCATION spans as names and places, any other type as an identifier (they
// only mark text as covered). Spans outside the text are clipped.
Findings PredToFindings(std::string_view text, const std::vector<detect::PredSpan>& spans,
                        detect::OffsetUnit unit) {
  const Utf8OffsetMap map(text);
  const auto limit =
      static_cast<int64_t>(unit == detect::OffsetUnit::kUtf8 ? text.size() : map.code_points());
  Findings out;
  for (const detect::PredSpan& p : spans) {
    const int64_t b = std::clamp<int64_t>(p.start, 0, limit);
    const int64_t e = std::clamp<int64_t>(p.end, b, limit);
    Finding f;
    f.category = p.type == "NAME"       ? PhiCategory::kName
                 : p.type == "LOCATION" ? PhiCategory::kLocation
                                        : PhiCategory::kOtherId;
    f.begin = unit == detect::OffsetUnit::kUtf8 ? static_cast<size_t>(b)
                                                : map.ToByte(static_cast<size_t>(b));
    f.end = unit == detect::OffsetUnit::kUtf8 ? static_cast<size_t>(e)
                                              : map.ToByte(static_cast<size_t>(e));
    f.score = 1;
    out.push_back(f);
  }
  return out;
}

// Appends the findings PropagateInGroup added (kPropagatedRecognizer) to
// *spans, in `unit`.
void AddPropagated(std::string_view text, const Findings& found, detect::OffsetUnit unit,
                   std::vector<detect::PredSpan>* spans) {
  const Utf8OffsetMap map(text);
  for (const Finding& f : found) {
    if (f.recognizer != detect::kPropagatedRecognizer) continue;
    detect::PredSpan p;
    p.start = static_cast<int64_t>(unit == detect::OffsetUnit::kUtf8 ? f.begin
                                                                     : map.ToCodePoint(f.begin));
    p.end =
        static_cast<int64_t>(unit == detect::OffsetUnit::kUtf8 ? f.end : map.ToCodePoint(f.end));
    p.type = std::string(CategoryEvalType(f.category));
    spans->push_back(std::move(p));
  }
}

void RunEval(const EvalFlags& flags) {
  if (flags.compare) {
    if (flags.group.enabled()) throw CliError(2, "--compare does not group records");
    RunCompare(flags);
    return;
  }
  detect::ScoreOptions opts;
  opts.years_as_phi = flags.years_as_phi;
  opts.collect_misses = flags.show_misses;

  std::unordered_map<std::string, std::vector<detect::PredSpan>> preds;
  std::unique_ptr<detect::Engine> engine;
  if (!flags.pred.empty()) {
    auto unit = detect::ParseOffsetUnit(flags.unit);
    ThrowIfError(unit.status(), "--unit");
    opts.unit = *unit;
    if (flags.group.enabled() && opts.unit == detect::OffsetUnit::kUtf16) {
      throw CliError(2, "--group-field/--group-id-prefix with --pred need --unit cp or utf8");
    }
    auto loaded = detect::LoadPredictions(flags.pred);
    ThrowIfError(loaded.status(), "predictions");
    preds = std::move(loaded).value();
  } else {
    opts.unit = detect::OffsetUnit::kUtf8;  // the engine reports byte offsets
    if (flags.engine.engine_mode != "rules") NoteModelRules(flags.engine);
    engine = MakeEngine(flags.engine);
  }

  detect::Scorer scorer(opts);
  std::unique_ptr<detect::ScanContext> ctx = engine ? engine->NewContext() : nullptr;
  double scan_seconds = 0, bytes = 0;
  // Records are scored a group at a time (one record each without grouping):
  // the engine's findings or the predictions of every record of the group,
  // made consistent across it (detect/propagate.h) when grouping is on.
  const bool grouping = flags.group.enabled();
  std::vector<detect::GoldRecord> group;
  std::vector<size_t> linenos;
  std::string current;
  size_t propagated = 0, groups = 0;
  auto flush = [&] {
    if (group.empty()) return;
    ++groups;
    const size_t n = group.size();
    std::vector<Findings> found(n);
    std::vector<std::vector<detect::PredSpan>> spans(n);
    std::vector<bool> predicted(n, true);
    std::vector<std::string_view> texts(n);
    for (size_t i = 0; i < n; ++i) {
      const detect::GoldRecord& g = group[i];
      if (engine) {
        const auto t0 = std::chrono::steady_clock::now();
        Status scan = engine->Scan(g.text, *ctx, &found[i]);
        scan_seconds +=
            std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
        ThrowIfError(scan, absl::StrFormat("detection failed on record %s", g.id));
        bytes += static_cast<double>(g.text.size());
        texts[i] = g.text;
        continue;
      }
      auto it = preds.find(g.key);
      predicted[i] = it != preds.end();
      if (!predicted[i]) continue;  // scored as missing, left out of the group
      spans[i] = it->second;
      if (grouping) {
        texts[i] = g.text;
        found[i] = PredToFindings(g.text, spans[i], opts.unit);
      }
    }
    if (grouping) propagated += detect::PropagateInGroup(texts, found);
    for (size_t i = 0; i < n; ++i) {
      if (engine) {
        spans[i] = detect::FindingsToPredSpans(found[i]);
      } else if (grouping && predicted[i]) {
        AddPropagated(group[i].text, found[i], opts.unit, &spans[i]);
      }
      Status s = scorer.Add(group[i], predicted[i] ? &spans[i] : nullptr);
      ThrowIfError(s, absl::StrFormat("%s line %d", flags.gold, linenos[i]));
    }
    group.clear();
    linenos.clear();
  };
  ForEachGold(
      flags.gold,
      [&](detect::GoldRecord gold, size_t lineno) {
        std::string key = GroupOf(flags.group, gold.id, gold.group);
        if (!group.empty() && (key.empty() || key != current)) flush();
        current = std::move(key);
        group.push_back(std::move(gold));
        linenos.push_back(lineno);
        if (!grouping) flush();
      },
      flags.group.field);
  flush();
  if (grouping) {
    std::fprintf(stderr, "grouped: %zu groups; %zu findings added by consistency in a group\n",
                 groups, propagated);
  }
  detect::EvalResult r = scorer.Finish();
  if (flags.json) {
    std::string out = r.ToJson(1);
    if (engine) {
      // Throughput as a trailing member, like score.py's "throughput".
      out.pop_back();  // '}'
      while (!out.empty() && (out.back() == '\n' || out.back() == ' ')) out.pop_back();
      out += absl::StrFormat(
          ",\n \"throughput\": {\"seconds\": %.6f, \"bytes\": %.0f, \"mb_per_s\": %.3f, "
          "\"notes_per_s\": %.1f, \"engine_mode\": \"%s\"}\n}",
          scan_seconds, bytes, scan_seconds > 0 ? bytes / 1e6 / scan_seconds : 0.0,
          scan_seconds > 0 ? static_cast<double>(r.notes) / scan_seconds : 0.0,
          flags.engine.engine_mode);
    }
    std::printf("%s\n", out.c_str());
  } else {
    const std::string name =
        engine ? "phigate (engine: " + flags.engine.engine_mode + ")" : flags.pred;
    PrintTable(name, r, scan_seconds, bytes, flags.show_misses);
  }
}

void Register(CLI::App& app) {
  auto flags = std::make_shared<EvalFlags>();
  CLI::App* cmd = app.add_subcommand(
      "eval", "Score PHI detection on a gold JSONL corpus (the metrics of score.py)");
  cmd->add_option("gold", flags->gold, "Gold JSONL: {id, text, spans:[{start,end,type,phi?}]}")
      ->required();
  cmd->add_option("--pred", flags->pred,
                  "Score these predictions ({id, spans:[{start,end,type}]}) instead of running "
                  "the engine");
  cmd->add_option("--unit", flags->unit, "Offset unit of --pred: cp (default), utf8, utf16")
      ->check(CLI::IsMember({"cp", "utf8", "utf16"}));
  cmd->add_flag("--json", flags->json, "Print the result as JSON (score.py's keys)");
  cmd->add_flag("--show-misses", flags->show_misses,
                "List entities missed entirely: record id, type, offsets (no text)");
  cmd->add_flag("--years-as-phi", flags->years_as_phi,
                "Count year-only DATE spans as PHI (score.py --years-as-phi)");
  cmd->add_flag("--compare", flags->compare,
                "Run every engine mode (rules, model, union, both) and print them side by side");
  AddEngineFlags(cmd, &flags->engine, "--mode");
  AddGroupFlags(cmd, &flags->group);
  cmd->callback([flags] { RunEval(*flags); });
}

PHIGATE_REGISTER_COMMAND(Register);

}  // namespace
}  // namespace phigate::cli
