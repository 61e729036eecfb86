// The documents the detection benchmarks scan: generated notes (seed 7, the
// project's generator, synthetic values only) and the dev corpus when
// ../shared/data is present.
#ifndef PHIGATE_BENCH_DETECT_CORPORA_H_
#define PHIGATE_BENCH_DETECT_CORPORA_H_

#include <cstdlib>
#include <fstream>
#include <string>
#include <vector>

#include "nlohmann/json.hpp"
#include "phigate/synth/generator.h"

namespace phigate::bench {

// Generated notes, concatenated into documents of about `doc_bytes` each,
// `total_bytes` in all.
inline std::vector<std::string> GeneratedDocs(size_t doc_bytes, size_t total_bytes) {
  synth::GeneratorOptions o;
  o.seed = 7;
  auto gen = synth::Generator::Create(o);
  if (!gen.ok()) return {};
  std::vector<std::string> docs;
  std::string cur;
  size_t total = 0;
  while (total < total_bytes) {
    cur += (*gen)->Generate().text;
    cur += "\n";
    if (cur.size() >= doc_bytes) {
      total += cur.size();
      docs.push_back(std::move(cur));
      cur.clear();
    }
  }
  return docs;
}

// The dev corpus's notes; empty when the file is absent.
// PHIGATE_DEV_CORPUS overrides the path (a worktree has no ../shared beside it).
inline std::vector<std::string> DevCorpus() {
  std::vector<std::string> docs;
  const char* env = std::getenv("PHIGATE_DEV_CORPUS");
  std::ifstream in(env != nullptr && *env != '\0' ? std::string(env)
                                                  : std::string(PHIGATE_SOURCE_DIR) +
                                                        "/../shared/data/physionet_deid_dev.jsonl");
  std::string line;
  while (std::getline(in, line)) docs.push_back(nlohmann::json::parse(line)["text"]);
  return docs;
}

}  // namespace phigate::bench

#endif  // PHIGATE_BENCH_DETECT_CORPORA_H_
