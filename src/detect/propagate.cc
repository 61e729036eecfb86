#include "phigate/detect/propagate.h"

#include <algorithm>
#include <array>
#include <cstdint>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/ascii.h"
#include "src/detect/lexicon.h"

namespace phigate::detect {
namespace {

bool IsWordByte(unsigned char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c >= 0x80;
}

// One whole-word occurrence of a word in a note of the group.
struct Occurrence {
  size_t note;
  size_t begin;
  size_t end;
};

struct WordStats {
  std::vector<Occurrence> occurrences;
  size_t found = 0;
  // How many found occurrences had each category (indexed by PhiCategory).
  std::array<size_t, kNumPhiCategories> by_category{};
};

}  // namespace

bool IsPropagatedCategory(PhiCategory c) {
  const std::string_view t = CategoryEvalType(c);
  return t == "NAME" || t == "LOCATION";
}

// Calls fn(begin, end) for each word of `t` with at least min_letters bytes,
// with *key its ASCII-lower-cased bytes.
template <class Fn>
void ForEachWord(std::string_view t, size_t min_letters, std::string* key, Fn fn) {
  for (size_t b = 0; b < t.size();) {
    if (!IsWordByte(static_cast<unsigned char>(t[b]))) {
      ++b;
      continue;
    }
    size_t e = b;
    while (e < t.size() && IsWordByte(static_cast<unsigned char>(t[e]))) ++e;
    if (e - b >= min_letters) {
      key->assign(t.substr(b, e - b));
      absl::AsciiStrToLower(key);
      fn(b, e);
    }
    b = e;
  }
}

size_t PropagateInGroup(std::span<const std::string_view> texts, std::span<Findings> findings,
                        const PropagateOptions& options) {
  const size_t n = std::min(texts.size(), findings.size());
  // Per note: the category of the name/place finding covering each byte (-1:
  // none) and whether any finding covers it.
  std::vector<std::vector<int8_t>> place_or_name(n);
  std::vector<std::vector<bool>> covered(n);
  // The category of the name or place finding covering all of [b, e), or -1.
  auto found_as = [&](size_t i, size_t b, size_t e) -> int {
    const int cat = place_or_name[i][b];
    for (size_t k = b + 1; cat >= 0 && k < e; ++k) {
      if (place_or_name[i][k] < 0) return -1;
    }
    return cat;
  };
  // Pass 1: the words found at least once as a name or place (frame words
  // aside): the only ones that may propagate.
  absl::flat_hash_map<std::string, WordStats> words;
  std::string key;
  for (size_t i = 0; i < n; ++i) {
    const std::string_view t = texts[i];
    place_or_name[i].assign(t.size(), -1);
    covered[i].assign(t.size(), false);
    bool any = false;
    for (const Finding& f : findings[i]) {
      const size_t e = std::min(f.end, t.size());
      const bool named = IsPropagatedCategory(f.category);
      any = any || named;
      for (size_t k = f.begin; k < e; ++k) {
        covered[i][k] = true;
        if (named) place_or_name[i][k] = static_cast<int8_t>(f.category);
      }
    }
    if (!any) continue;
    ForEachWord(t, options.min_letters, &key, [&](size_t b, size_t e) {
      if (found_as(i, b, e) >= 0 && !words.contains(key) && !IsFrameWord(key)) {
        words.try_emplace(key);
      }
    });
  }
  if (words.empty()) return 0;
  // Pass 2: every occurrence of those words, found or not.
  for (size_t i = 0; i < n; ++i) {
    ForEachWord(texts[i], options.min_letters, &key, [&](size_t b, size_t e) {
      auto it = words.find(key);
      if (it == words.end()) return;
      WordStats& w = it->second;
      w.occurrences.push_back({i, b, e});
      const int cat = found_as(i, b, e);
      if (cat >= 0) {
        ++w.found;
        ++w.by_category[static_cast<size_t>(cat)];
      }
    });
  }
  size_t added = 0;
  for (const auto& entry : words) {
    const WordStats& w = entry.second;
    if (w.found < std::max<size_t>(options.min_found, 1) ||
        static_cast<double>(w.found) <
            options.min_share * static_cast<double>(w.occurrences.size())) {
      continue;
    }
    const auto most = std::max_element(w.by_category.begin(), w.by_category.end());
    const auto category = static_cast<PhiCategory>(most - w.by_category.begin());
    for (const Occurrence& o : w.occurrences) {
      bool free = true;
      for (size_t k = o.begin; free && k < o.end; ++k) free = !covered[o.note][k];
      if (!free) continue;
      findings[o.note].push_back(
          Finding{category, o.begin, o.end, options.score, kPropagatedRecognizer});
      ++added;
    }
  }
  for (size_t i = 0; i < n; ++i) {
    std::stable_sort(findings[i].begin(), findings[i].end(),
                     [](const Finding& a, const Finding& b) { return a.begin < b.begin; });
  }
  return added;
}

}  // namespace phigate::detect
