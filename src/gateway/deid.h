// DeidSession: one request's de-identification and re-identification.
//
// Deidentify() runs the detector over one text field and applies the policy's
// action per category (tokens and surrogates through the tenant's vault,
// placeholders through the redactor). It remembers every replacement it made,
// so the answer to this request can be re-identified without ever looking at
// another request's, scope's or tenant's tokens (isolation by construction).
//
// Not thread-safe: one session per request.
#ifndef PHIGATE_SRC_GATEWAY_DEID_H_
#define PHIGATE_SRC_GATEWAY_DEID_H_

#include <array>
#include <cstdint>
#include <deque>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>
#include <unordered_set>
#include <utility>
#include <vector>

#include "phigate/gateway/interfaces.h"
#include "phigate/transform/tokenize.h"

namespace phigate::gateway {

struct DeidStats {
  std::array<uint32_t, kNumPhiCategories> category_counts{};
  std::array<uint32_t, 5> action_counts{};
  std::array<uint32_t, kNumPhiCategories> sent_as_written{};  // action allow, per category
  uint32_t tokens_minted = 0;        // distinct reversible replacements sent
  uint32_t tokens_reidentified = 0;  // replacements mapped back in the answer
};

// Why Deidentify failed, for the error reply and the metrics.
enum class DeidFailure : uint8_t { kNone, kBlocked, kDetect, kVault, kRedact };

class DeidSession {
 public:
  // `vault` may be null when the decision has no reversible action; `redactor`
  // may be null (then "[CATEGORY]" placeholders). All pointers must outlive the session.
  DeidSession(const Detector& detector, const Redactor* redactor, TokenVault* vault,
              const Decision& decision, std::string scope);

  // Replaces PHI in *text. On error *text is unchanged and failure() says why:
  // PermissionDenied (a blocked category), Unavailable (vault), Internal (detect).
  // One field on its own: Scan + Mint + Apply.
  Status Deidentify(std::string* text);

  // A whole request in one vault transaction: Scan() every text field (detect,
  // check the spans and the blocked categories, collect the values to tokenize),
  // then Mint() once (every new token of every field in one TokenizeBatch,
  // every new surrogate in one SurrogateBatch),
  // then Apply() to the same fields in the same order (substitute). Nothing is
  // written to the vault unless every field scanned clean. Apply() refuses a
  // field that differs from the one scanned at its position (Internal).
  Status Scan(std::string_view text);
  Status Mint();
  Status Apply(std::string* text);
  // Internal unless every scanned field was applied.
  Status FinishFields() const;
  DeidFailure failure() const { return failure_; }

  // Appends `text` with every replacement this session made mapped back to its
  // original (case-insensitive, brackets optional for tokens). With
  // `json_escape`, originals are written JSON-string-escaped (for text that is
  // itself a JSON fragment, e.g. streamed tool-call arguments).
  void Reidentify(std::string_view text, bool json_escape, std::string* out);

  // The number of trailing bytes of `text` that may be the beginning of a
  // replacement (a token split across streamed chunks); hold them back until
  // more text or the end of the field arrives.
  size_t HoldBack(std::string_view text) const;

  // Every token/surrogate sent (for the leak scanner).
  std::vector<std::string> SentReplacements() const;
  // Every PHI value of the request with what was sent for it (token, surrogate,
  // placeholder, or "" when sent as is), for the leak scanner. In memory only.
  std::vector<SentValue> SentValues() const;
  // Calls fn(category, original) for the PHI values of the request, whatever
  // the action (a value may come more than once). In memory only.
  template <class Fn>
  void ForEachValue(Fn&& fn) const {
    for (const Entry& e : map_) fn(e.category, std::string_view(e.original));
    for (const SentValue& v : plain_) fn(v.category, std::string_view(v.original));
  }
  // The de-identified request text that was sent (every field, '\n'-separated).
  const std::string& sent_text() const { return sent_text_; }
  bool has_replacements() const { return !map_.empty(); }
  const DeidStats& stats() const { return stats_; }

 private:
  struct Entry {
    std::string replacement;
    std::string original;
    PhiCategory category;
    bool surrogate;
  };
  struct Variant {  // a spelling of a replacement the answer may contain
    std::string lower;
    size_t entry;
    bool needs_word_boundary;
    // An age surrogate (a bare number): restored only where the answer
    // writes an age (detect::WrittenAsAge), not in "HR 94".
    bool age_number = false;
    // An initial ("M"): not restored inside "M.D." (transform::InAbbreviation).
    bool initial = false;
  };
  // Bytes after a variant that decide whether it is restored there.
  static size_t ContextBytes(const Variant& v);
  Result<std::string> Replace(std::string_view original, const Finding& f);
  Status MintSurrogates(std::vector<std::pair<PhiCategory, std::string>> values);
  // Appends the spellings of map_[entry]; IndexVariants() then sorts them
  // (longest first) and rebuilds the first-byte table, once per batch.
  void AddVariants(size_t entry);
  void IndexVariants();
  static std::string MapKey(bool surrogate, PhiCategory c, std::string_view original);
  size_t AddEntry(Entry e, bool index_variants = true);

  // A field seen by Scan(), waiting for Apply().
  struct ScannedField {
    size_t size;
    size_t hash;
    Findings findings;
  };

  const Detector& detector_;
  const Redactor* redactor_;
  TokenVault* vault_;
  const Decision& decision_;
  std::string scope_;
  DeidFailure failure_ = DeidFailure::kNone;
  std::vector<Entry> map_;
  std::unordered_map<std::string, size_t> index_;                        // MapKey -> map_ entry
  std::vector<std::pair<PhiCategory, std::string>> pending_;             // to mint (Scan -> Mint)
  std::vector<std::pair<PhiCategory, std::string>> pending_surrogates_;  // likewise
  std::unordered_set<std::string> pending_keys_;                         // MapKey of pending_
  std::vector<ScannedField> fields_;
  size_t applied_ = 0;
  std::vector<Variant> variants_;  // sorted longest first
  std::array<bool, 256> first_bytes_{};
  size_t max_variant_ = 0;
  DeidStats stats_;
  std::vector<SentValue> plain_;  // allowed (sent as is) and redacted values
  std::string sent_text_;
  // With a surrogate action: the words the scanned fields keep outside their
  // findings (views into kept_lower_), for MintSurrogates; cleared by Mint().
  transform::KeptWords kept_;
  std::deque<std::string> kept_lower_;
};

}  // namespace phigate::gateway

#endif  // PHIGATE_SRC_GATEWAY_DEID_H_
