// `phigate train`: trains the sequence tagger (docs/model.md), or measures it
// by k-fold cross-validation by patient. `phigate model-tag`: runs a model on
// a JSONL file and writes predictions that ../shared/tools/score.py reads.
#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "nlohmann/json.hpp"
#include "phigate/core/byte_io.h"
#include "phigate/core/paths.h"
#include "phigate/core/utf8.h"
#include "phigate/detect/engine.h"
#include "phigate/model/tagger.h"
#include "phigate/model/trainer.h"
#include "src/cli/command.h"
#include "src/detect/combine.h"
#include "src/detect/resolve.h"

namespace phigate::cli {
namespace {

namespace pm = ::phigate::model;

struct TrainArgs {
  std::vector<std::string> data;
  std::vector<std::string> extra;
  std::string out;
  uint64_t seed = 1;
  // Defaults: the shipped model's options (models/README.md).
  int epochs = 8;
  uint32_t hash_bits = 18;
  float recall_bias = 16.0f;
  float word_dropout = 0.5f;
  float margin = 10.0f;
  bool average = true;
  int ensemble = 3;
  float miss_cost = 1.0f;
  std::string gazetteers;
  std::string holdout;
  int crossval = 0;
  int64_t fold_seed = -1;  // -1: --seed
  std::string pred_out;
  std::string eval_biases;
  bool stack = false;
  int extended = 1;  // 0: feature set 1/2, 1: 3/4 (extended), 2: 5/6 (context)
  std::string data_dir;
  std::string eval_vetoes;
  std::string veto_out;
};

std::string DefaultGazetteerDir() { return paths::DataDir() + "/gazetteers"; }

std::string ReadAll(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
}

std::vector<std::string> SplitComma(const std::string& s) {
  std::vector<std::string> out;
  std::stringstream ss(s);
  std::string item;
  while (std::getline(ss, item, ',')) {
    if (!item.empty()) out.push_back(item);
  }
  return out;
}

// "0.5,0.6" -> {0.5, 0.6}. Every item must be one number: "0.55 0.6" (a
// space instead of a comma) once parsed silently as 0.55 alone.
std::vector<float> SplitCommaFloats(const std::string& s, const char* option) {
  std::vector<float> out;
  for (const std::string& item : SplitComma(s)) {
    float v = 0.0f;
    if (!absl::SimpleAtof(item, &v)) {
      throw CliError(
          2, absl::StrCat(option, ": '", item, "' is not a number (separate values with commas)"));
    }
    out.push_back(v);
  }
  return out;
}

std::vector<pm::Example> ReadAllData(const std::vector<std::string>& files) {
  std::vector<pm::Example> out;
  for (const std::string& f : files) ThrowIfError(pm::ReadJsonl(f, &out), "reading training data");
  return out;
}

// What the model file records about its training: options and, per input
// file, its size and CRC-32C (models/README.md records the sha256 too).
std::string Metadata(const TrainArgs& a, const std::vector<std::string>& files,
                     const std::string& gazetteer_dir) {
  nlohmann::json j;
  j["trainer"] = "averaged structured perceptron, phigate model format 1";
  j["seed"] = a.seed;
  j["epochs"] = a.epochs;
  j["hash_bits"] = a.hash_bits;
  j["recall_bias"] = a.recall_bias;
  j["word_dropout"] = a.word_dropout;
  j["margin"] = a.margin;
  j["average"] = a.average;
  if (a.ensemble != 1) j["ensemble"] = a.ensemble;
  if (a.miss_cost != 1.0f) j["miss_cost"] = a.miss_cost;
  j["holdout_patients"] = a.holdout;
  j["stacked"] = a.stack;
  if (a.extended >= 1) j["extended"] = true;
  if (a.extended >= 2) j["context"] = true;
  if (a.stack) j["rules_version"] = detect::RulesVersion();
  std::vector<std::string> all = files;
  for (const char* g :
       {"first_names.tsv", "surnames.tsv", "us_cities.tsv", "us_states.tsv", "common_words.txt"}) {
    const std::string p = gazetteer_dir + "/" + g;
    if (std::filesystem::exists(p)) all.push_back(p);
  }
  nlohmann::json fs = nlohmann::json::array();
  for (const std::string& f : all) {
    const std::string bytes = ReadAll(f);
    fs.push_back({{"file", std::filesystem::path(f).filename().string()},
                  {"bytes", bytes.size()},
                  {"crc32c", absl::StrFormat("%08x", Crc32c(bytes))}});
  }
  j["data"] = fs;
  return j.dump();
}

void PrintStats(const pm::TrainStats& st, size_t model_bytes) {
  std::string errs;
  for (size_t e : st.token_errors_per_epoch) absl::StrAppend(&errs, " ", e);
  std::fprintf(stderr,
               "trained on %zu notes, %zu tokens, %d gazetteer files; token errors per epoch:%s; "
               "model %zu bytes\n",
               st.examples, st.tokens, st.gazetteer_files, errs.c_str(), model_bytes);
}

// Predictions in score.py's format, offsets in code points.
std::string PredictionLine(const pm::Example& ex, const std::vector<Finding>& found,
                           const std::vector<pm::EntityType>& types) {
  const Utf8OffsetMap map(ex.text);
  nlohmann::json spans = nlohmann::json::array();
  for (size_t i = 0; i < found.size(); ++i) {
    spans.push_back({{"start", map.ToCodePoint(found[i].begin)},
                     {"end", map.ToCodePoint(found[i].end)},
                     {"type", std::string(pm::EntityTypeName(types[i]))},
                     {"score", found[i].score}});
  }
  nlohmann::json j{{"id", ex.id}, {"spans", spans}};
  return j.dump() + "\n";
}

std::vector<pm::EntityType> TypesOf(const std::vector<Finding>& found) {
  std::vector<pm::EntityType> t;
  for (const Finding& f : found) {
    pm::EntityType e = pm::EntityType::kId;
    for (int k = 0; k < pm::kNumEntityTypes; ++k) {
      if (pm::ToCategory(static_cast<pm::EntityType>(k)) == f.category) {
        e = static_cast<pm::EntityType>(k);
        break;
      }
    }
    t.push_back(e);
  }
  return t;
}

pm::TrainOptions Options(const TrainArgs& a) {
  pm::TrainOptions o;
  o.seed = a.seed;
  o.epochs = a.epochs;
  o.hash_bits = a.hash_bits;
  o.recall_bias = a.recall_bias;
  o.word_dropout = a.word_dropout;
  o.margin = a.margin;
  o.average = a.average;
  o.ensemble = a.ensemble;
  o.miss_cost = a.miss_cost;
  o.gazetteer_dir = a.gazetteers.empty() ? DefaultGazetteerDir() : a.gazetteers;
  o.stacked = a.stack;
  o.extended = a.extended >= 1;
  o.context = a.extended >= 2;
  if (a.stack) o.rules_version = detect::RulesVersion();
  return o;
}

// The rule engine exactly as the stacked combination reads it: every finding,
// resolved, no score filter.
std::unique_ptr<detect::Engine> HintEngine(const TrainArgs& a) {
  detect::EngineOptions eo;
  eo.data_dir = a.data_dir;
  eo.min_score = 0.0f;
  eo.mode = detect::EngineOptions::Mode::kRules;
  auto e = detect::Engine::Create(eo);
  ThrowIfError(e.status(), "creating the rule engine");
  return std::move(e).value();
}

void AddRuleFindings(const detect::Engine& engine, std::vector<pm::Example>* examples) {
  auto ctx = engine.NewContext();
  for (pm::Example& ex : *examples) {
    ThrowIfError(engine.Scan(ex.text, *ctx, &ex.rule_findings),
                 absl::StrFormat("rule engine on record %s", ex.id));
  }
}

// What RuleEngine::Scan returns in `mode` (min_score 0.35, all categories),
// from the rule findings of HintEngine() and a trained tagger.
Findings EngineOutput(const pm::Tagger& tagger, detect::EngineOptions::Mode mode,
                      const pm::Example& ex, float recall_bias,
                      float veto_score = detect::kDefaultVetoScore) {
  Findings out;
  if (mode != detect::EngineOptions::Mode::kModel || tagger.stacked()) out = ex.rule_findings;
  if (mode != detect::EngineOptions::Mode::kRules) {
    Findings tagged;
    pm::TagOptions to;
    to.recall_bias = recall_bias;
    ThrowIfError(detect::RunTagger(tagger, mode, ex.text, &tagged, &out, to, veto_score),
                 "tagging");
  }
  detect::ResolveConflicts(ex.text, &out);
  const float min_score = detect::EngineOptions{}.min_score;
  std::erase_if(out, [&](const Finding& f) { return f.score < min_score; });
  return out;
}

// Predictions in score.py's format (code points), types by CategoryEvalType.
std::string EngineLine(const pm::Example& ex, const Findings& found) {
  const Utf8OffsetMap map(ex.text);
  nlohmann::json spans = nlohmann::json::array();
  for (const Finding& f : found) {
    spans.push_back({{"start", map.ToCodePoint(f.begin)},
                     {"end", map.ToCodePoint(f.end)},
                     {"type", std::string(CategoryEvalType(f.category))},
                     {"score", f.score}});
  }
  nlohmann::json j{{"id", ex.id}, {"spans", spans}};
  return j.dump() + "\n";
}

// For tuning the combination: each resolved rule finding of a held-out note
// (code points), its category, score, whether it is certain, and the tagger's
// veto score for it (the first --eval-biases value).
std::string VetoLine(const pm::Tagger& tagger, const pm::Example& ex, float recall_bias) {
  Findings hints = ex.rule_findings;
  detect::ResolveConflicts(ex.text, &hints);
  Findings tagged;
  std::vector<float> outside;
  pm::TagOptions to;
  to.recall_bias = recall_bias;
  ThrowIfError(tagger.Tag(ex.text, to, hints, &tagged, &outside), "tagging");
  const Utf8OffsetMap map(ex.text);
  nlohmann::json rules = nlohmann::json::array();
  for (size_t i = 0; i < hints.size(); ++i) {
    rules.push_back({{"start", map.ToCodePoint(hints[i].begin)},
                     {"end", map.ToCodePoint(hints[i].end)},
                     {"type", std::string(CategoryEvalType(hints[i].category))},
                     {"score", hints[i].score},
                     {"recognizer", hints[i].recognizer},
                     {"certain", detect::IsCertainRuleFinding(hints[i])},
                     {"outside", outside[i]}});
  }
  nlohmann::json j{{"id", ex.id}, {"rules", rules}};
  return j.dump() + "\n";
}

void RunTrain(const TrainArgs& a) {
  if (a.out.empty()) throw CliError(2, "--out is required (or use --crossval K)");
  std::vector<std::string> files = a.data;
  files.insert(files.end(), a.extra.begin(), a.extra.end());
  std::vector<pm::Example> all = ReadAllData(files);
  const std::vector<std::string> held = SplitComma(a.holdout);
  const std::set<std::string> held_set(held.begin(), held.end());
  std::vector<pm::Example> train;
  for (pm::Example& e : all) {
    if (held_set.count(pm::PatientOf(e.id)) == 0) train.push_back(std::move(e));
  }
  if (a.stack) AddRuleFindings(*HintEngine(a), &train);
  pm::TrainOptions o = Options(a);
  pm::TrainStats st;
  o.metadata = Metadata(a, files, o.gazetteer_dir);
  auto bytes = pm::Train(train, o, &st);
  ThrowIfError(bytes.status(), "training");
  std::ofstream out(a.out, std::ios::binary | std::ios::trunc);
  out.write(bytes->data(), static_cast<std::streamsize>(bytes->size()));
  out.close();
  if (!out) throw CliError(3, "cannot write " + a.out);
  PrintStats(st, bytes->size());
}

void RunCrossval(const TrainArgs& a) {
  if (a.pred_out.empty()) throw CliError(2, "--crossval needs --pred-out PRED.jsonl");
  std::vector<pm::Example> eval = ReadAllData(a.data);
  std::vector<pm::Example> extra = ReadAllData(a.extra);
  // The rule findings of every note: the stacked model's features, and the
  // rules-only / union / combined predictions written next to the model's.
  {
    auto engine = HintEngine(a);
    AddRuleFindings(*engine, &eval);
    if (a.stack) AddRuleFindings(*engine, &extra);
  }
  using Mode = detect::EngineOptions::Mode;
  const std::vector<int> folds = pm::AssignFolds(
      eval, a.crossval, a.fold_seed >= 0 ? static_cast<uint64_t>(a.fold_seed) : a.seed);
  std::vector<float> biases = SplitCommaFloats(a.eval_biases, "--eval-biases");
  if (biases.empty()) biases.push_back(a.recall_bias);
  std::vector<float> vetoes = SplitCommaFloats(a.eval_vetoes, "--eval-vetoes");
  if (vetoes.empty()) vetoes.push_back(detect::kDefaultVetoScore);
  // Per note: rules, then model and union for each recall bias, then both for
  // each recall bias and veto score.
  const size_t per_note = 1 + 2 * biases.size() + biases.size() * vetoes.size();
  struct Column {
    std::string suffix;
    Mode mode;
    float bias;
    float veto;
  };
  std::vector<Column> columns = {{".rules", Mode::kRules, biases[0], 0.0f}};
  const bool many_b = biases.size() > 1, many_v = vetoes.size() > 1;
  for (const char* m : {"model", "union"}) {
    for (float b : biases) {
      columns.push_back({absl::StrCat(".", m, many_b ? absl::StrFormat(".bias%g", b) : ""),
                         std::string(m) == "model" ? Mode::kModel : Mode::kUnion, b, 0.0f});
    }
  }
  for (float b : biases) {
    for (float v : vetoes) {
      columns.push_back({absl::StrCat(".both", many_b ? absl::StrFormat(".bias%g", b) : "",
                                      many_v ? absl::StrFormat(".veto%g", v) : ""),
                         Mode::kBoth, b, v});
    }
  }
  std::vector<std::string> mode_lines(eval.size() * per_note);
  std::vector<std::string> veto_lines(eval.size());
  std::vector<std::string> outputs(biases.size());
  std::vector<std::string> lines(eval.size() * biases.size());
  for (int k = 0; k < a.crossval; ++k) {
    std::vector<pm::Example> train = extra;
    size_t held = 0;
    for (size_t i = 0; i < eval.size(); ++i) {
      if (folds[i] != k) {
        train.push_back(eval[i]);
      } else {
        ++held;
      }
    }
    pm::TrainStats st;
    auto bytes = pm::Train(train, Options(a), &st);
    ThrowIfError(bytes.status(), "training");
    std::fprintf(stderr, "fold %d/%d: %zu held-out notes. ", k + 1, a.crossval, held);
    PrintStats(st, bytes->size());
    auto tagger = pm::Tagger::FromBytes(*bytes);
    ThrowIfError(tagger.status(), "loading the trained model");
    for (size_t i = 0; i < eval.size(); ++i) {
      if (folds[i] != k) continue;
      for (size_t col = 0; col < per_note; ++col) {
        const Column& c = columns[col];
        mode_lines[i * per_note + col] =
            EngineLine(eval[i], EngineOutput(**tagger, c.mode, eval[i], c.bias, c.veto));
      }
      if (!a.veto_out.empty()) veto_lines[i] = VetoLine(**tagger, eval[i], biases[0]);
      for (size_t b = 0; b < biases.size(); ++b) {
        pm::TagOptions to;
        to.recall_bias = biases[b];
        std::vector<Finding> found;
        ThrowIfError((*tagger)->Tag(eval[i].text, to, eval[i].rule_findings, &found), "tagging");
        lines[i * biases.size() + b] = PredictionLine(eval[i], found, TypesOf(found));
      }
    }
  }
  for (size_t b = 0; b < biases.size(); ++b) {
    std::string path = a.pred_out;
    if (biases.size() > 1) {
      const std::string suffix = absl::StrFormat(".bias%g", biases[b]);
      const size_t dot = path.rfind(".jsonl");
      path = dot == std::string::npos ? path + suffix : path.substr(0, dot) + suffix + ".jsonl";
    }
    std::ofstream out(path, std::ios::binary | std::ios::trunc);
    for (size_t i = 0; i < eval.size(); ++i) out << lines[i * biases.size() + b];
    if (!out) throw CliError(3, "cannot write " + path);
    std::fprintf(stderr, "wrote %s\n", path.c_str());
  }
  if (!a.veto_out.empty()) {
    std::ofstream out(a.veto_out, std::ios::binary | std::ios::trunc);
    for (const std::string& l : veto_lines) out << l;
    if (!out) throw CliError(3, "cannot write " + a.veto_out);
  }
  // Engine-mode predictions: PRED.rules.jsonl, PRED.{model,union,both}.jsonl
  // (with several --eval-biases / --eval-vetoes: PRED.both.bias4.veto0.9.jsonl ...).
  for (size_t col = 0; col < per_note; ++col) {
    std::string path = a.pred_out;
    const size_t dot = path.rfind(".jsonl");
    const std::string& suffix = columns[col].suffix;
    path = dot == std::string::npos ? path + suffix : path.substr(0, dot) + suffix + ".jsonl";
    std::ofstream out(path, std::ios::binary | std::ios::trunc);
    for (size_t i = 0; i < eval.size(); ++i) out << mode_lines[i * per_note + col];
    if (!out) throw CliError(3, "cannot write " + path);
    std::fprintf(stderr, "wrote %s (engine output, min score 0.35)\n", path.c_str());
  }
}

void Register(CLI::App& app) {
  auto args = std::make_shared<TrainArgs>();
  auto* cmd = app.add_subcommand(
      "train", "Train the PHI sequence tagger (or cross-validate it by patient with --crossval K)");
  cmd->add_option("--data", args->data, "Labelled JSONL files (id, text, spans; code points)")
      ->required();
  cmd->add_option("--extra-data", args->extra,
                  "JSONL files always trained on (with --crossval: never evaluated)");
  cmd->add_option("--out", args->out, "Model file to write");
  cmd->add_option("--seed", args->seed, "Random seed (shuffling, folds)");
  cmd->add_option("--epochs", args->epochs, "Training epochs");
  cmd->add_option("--hash-bits", args->hash_bits, "log2 of the feature table rows (10..24)");
  cmd->add_option("--recall-bias", args->recall_bias, "Default decoding recall bias");
  cmd->add_option("--word-dropout", args->word_dropout, "Word dropout share for PHI tokens");
  cmd->add_option("--margin", args->margin, "Loss-augmented training margin (0: off)");
  cmd->add_option("--average", args->average, "Average the perceptron weights (1) or not (0)");
  cmd->add_option("--ensemble", args->ensemble,
                  "Train N perceptrons (seeds seed..seed+N-1) and average them into one model");
  cmd->add_option("--miss-cost", args->miss_cost,
                  "Update step for a PHI token decoded as O (other mistakes: 1)");
  cmd->add_option("--gazetteers", args->gazetteers, "Gazetteer folder (default data/gazetteers)");
  cmd->add_option("--holdout-patients", args->holdout,
                  "Comma-separated patient ids whose notes are not trained on");
  cmd->add_option("--crossval", args->crossval, "K: k-fold cross-validation by patient");
  cmd->add_option("--fold-seed", args->fold_seed,
                  "With --crossval: seed of the patient folds (default --seed), so training "
                  "seeds can vary over the same folds (training noise)");
  cmd->add_option("--pred-out", args->pred_out, "With --crossval: held-out predictions JSONL");
  cmd->add_option("--eval-biases", args->eval_biases,
                  "With --crossval: comma-separated recall biases to predict with");
  cmd->add_option("--eval-vetoes", args->eval_vetoes,
                  "With --crossval: comma-separated veto scores for the 'both' predictions");
  cmd->add_option("--veto-out", args->veto_out,
                  "With --crossval: JSONL of every held-out rule finding with its veto score "
                  "(tuning the combination)");
  cmd->add_flag("--stack", args->stack,
                "Stacking: train on the rule engine's findings as features (model feature set 2)");
  cmd->add_option("--extended", args->extended,
                  "Feature set level: 0 (sets 1/2), 1 (default; sets 3/4: line case, clinical "
                  "words, counties, trigger words in the line, word repeats) or 2 (sets 5/6: "
                  "also +-3 words, facility nouns, roles, position after a line's colon)")
      ->check(CLI::Range(0, 2));
  cmd->add_option("--data-dir", args->data_dir,
                  "Rule engine data folder (default: $PHIGATE_DATA_DIR, then the installed or "
                  "source tree's data/)");
  cmd->callback([args] {
    if (args->crossval > 0) {
      RunCrossval(*args);
    } else {
      RunTrain(*args);
    }
  });

  struct TagArgs {
    std::string model, in, out;
    float recall_bias = __builtin_nanf("");
  };
  auto targs = std::make_shared<TagArgs>();
  auto* tag = app.add_subcommand("model-tag",
                                 "Run the tagger alone on a JSONL file (predictions for score.py)");
  tag->add_option("--model", targs->model, "Model file")->required();
  tag->add_option("--in", targs->in, "JSONL with id and text")->required();
  tag->add_option("--out", targs->out, "Predictions JSONL (code point offsets)")->required();
  tag->add_option("--recall-bias", targs->recall_bias, "Recall bias (default: the model's)");
  tag->callback([targs] {
    auto tagger = pm::Tagger::Load(targs->model);
    ThrowIfError(tagger.status(), "loading the model");
    std::vector<pm::Example> notes;
    ThrowIfError(pm::ReadJsonl(targs->in, &notes), "reading input");
    std::ofstream out(targs->out, std::ios::binary | std::ios::trunc);
    pm::TagOptions to;
    to.recall_bias = targs->recall_bias;
    if ((*tagger)->stacked()) AddRuleFindings(*HintEngine(TrainArgs{}), &notes);
    for (const pm::Example& ex : notes) {
      std::vector<Finding> found;
      ThrowIfError((*tagger)->Tag(ex.text, to, ex.rule_findings, &found), "tagging");
      out << PredictionLine(ex, found, TypesOf(found));
    }
    if (!out) throw CliError(3, "cannot write " + targs->out);
  });
}

PHIGATE_REGISTER_COMMAND(Register);

}  // namespace
}  // namespace phigate::cli
