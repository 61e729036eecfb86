// Developer tool (not a test): scores the rules engine on a gold JSONL corpus
// and, with --fp / --fn, lists false-positive predictions (with the
// recognizer that made them) or missed gold spans, each with a little context.
// It prints corpus text: use it only on the evaluation corpora and generated
// notes, never on real PHI.
//
//   detect_probe GOLD.jsonl [--fp] [--fn] [--type NAME]
#include <cstdio>
#include <fstream>
#include <iostream>
#include <map>
#include <string>
#include <vector>

#include "phigate/core/phi_category.h"
#include "phigate/detect/engine.h"
#include "phigate/detect/evaluation.h"

namespace {

using phigate::detect::GoldRecord;

// Code point offset -> byte offset.
size_t ByteOf(const std::string& s, int64_t cp) {
  size_t i = 0;
  int64_t k = 0;
  while (i < s.size() && k < cp) {
    const auto c = static_cast<unsigned char>(s[i]);
    i += c < 0x80 ? 1 : c < 0xE0 ? 2 : c < 0xF0 ? 3 : 4;
    ++k;
  }
  return std::min(i, s.size());
}

std::string Ctx(const std::string& t, size_t b, size_t e) {
  const size_t cb = b > 30 ? b - 30 : 0;
  const size_t ce = std::min(t.size(), e + 30);
  std::string out = t.substr(cb, b - cb) + "[[" + t.substr(b, e - b) + "]]" + t.substr(e, ce - e);
  for (char& c : out) {
    if (c == '\n' || c == '\t' || c == '\r') c = ' ';
  }
  return out;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) {
    std::fprintf(stderr, "usage: detect_probe GOLD.jsonl [--fp] [--fn] [--type T]\n");
    return 2;
  }
  bool fp = false, fn = false;
  std::string only;
  for (int i = 2; i < argc; ++i) {
    const std::string a = argv[i];
    if (a == "--fp") fp = true;
    if (a == "--fn") fn = true;
    if (a == "--type" && i + 1 < argc) only = argv[++i];
  }
  auto engine = phigate::detect::Engine::Create({});
  if (!engine.ok()) {
    std::fprintf(stderr, "engine: %s\n", std::string(engine.status().message()).c_str());
    return 1;
  }
  std::ifstream in(argv[1]);
  std::string line;
  phigate::detect::Scorer scorer(
      {.unit = phigate::detect::OffsetUnit::kUtf8, .collect_misses = true});
  std::map<std::string, long> fp_by_rec;
  while (std::getline(in, line)) {
    if (line.empty()) continue;
    auto gold = phigate::detect::ParseGoldLine(line);
    if (!gold.ok()) return 1;
    auto found = (*engine)->Scan(gold->text);
    if (!found.ok()) return 1;
    auto pred = phigate::detect::FindingsToPredSpans(*found);
    if (!scorer.Add(*gold, &pred).ok()) return 1;
    const std::string& t = gold->text;
    // Byte mask of gold (PHI or neutral) characters.
    std::vector<uint8_t> mask(t.size(), 0);
    for (const auto& g : gold->spans) {
      const size_t b = ByteOf(t, g.start), e = ByteOf(t, g.end);
      for (size_t k = b; k < e; ++k) mask[k] = g.phi && !g.year_only ? 2 : 1;
    }
    if (fp) {
      for (const auto& f : *found) {
        size_t bad = 0;
        for (size_t k = f.begin; k < f.end; ++k) {
          bad += (mask[k] == 0 && t[k] != ' ' && t[k] != '\n') ? 1 : 0;
        }
        if (bad == 0) continue;
        const std::string type(phigate::CategoryEvalType(f.category));
        if (!only.empty() && type != only) continue;
        fp_by_rec[type + "/" + std::string(f.recognizer)] += static_cast<long>(bad);
        std::printf("FP\t%s\t%s\t%zu\t%s\t%s\n", type.c_str(), std::string(f.recognizer).c_str(),
                    bad, gold->id.c_str(), Ctx(t, f.begin, f.end).c_str());
      }
    }
    if (fn) {
      for (const auto& g : gold->spans) {
        if (!g.phi || g.year_only) continue;
        if (!only.empty() && g.type != only) continue;
        const size_t b = ByteOf(t, g.start), e = ByteOf(t, g.end);
        size_t covered = 0;
        for (const auto& f : *found) {
          for (size_t k = std::max(b, f.begin); k < std::min(e, f.end); ++k) ++covered;
        }
        if (covered < e - b) {
          std::printf("FN\t%s\t%s\t%zu/%zu\t%s\n", g.type.c_str(), gold->id.c_str(), covered, e - b,
                      Ctx(t, b, e).c_str());
        }
      }
    }
  }
  const auto r = scorer.Finish();
  std::printf("SUMMARY recall %.2f%% precision %.2f%% missed %lld tp_chars %lld pred_chars %lld\n",
              100 * r.chars.recall(), 100 * r.chars.precision(),
              static_cast<long long>(r.entities_missed()),
              static_cast<long long>(r.chars.pred_in_gold), static_cast<long long>(r.chars.pred));
  for (const auto& [type, s] : r.per_type) {
    std::printf(
        "TYPE %-12s chars %lld/%lld (%.1f%%) entities missed %lld/%lld\n", type.c_str(),
        static_cast<long long>(s.chars_caught), static_cast<long long>(s.chars_gold),
        s.chars_gold
            ? 100.0 * static_cast<double>(s.chars_caught) / static_cast<double>(s.chars_gold)
            : 0.0,
        static_cast<long long>(s.entities - s.entities_any), static_cast<long long>(s.entities));
  }
  for (const auto& [k, v] : fp_by_rec) std::printf("FPREC %s %ld\n", k.c_str(), v);
  return 0;
}
