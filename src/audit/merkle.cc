#include "phigate/audit/merkle.h"

#include <algorithm>
#include <bit>
#include <cstring>
#include <map>

#include "absl/strings/str_cat.h"
#include "phigate/crypto/signer.h"

namespace phigate::audit {
namespace {

uint64_t LargestPow2Below(uint64_t n) {  // REQUIRES: n > 1
  return std::bit_floor(n - 1);
}

// MTH of [begin, end) from the hashes of Decompose(begin, end).
Hash Fold(std::span<const Hash> parts) {
  Hash acc = parts.back();
  for (size_t i = parts.size() - 1; i-- > 0;) acc = NodeHash(parts[i], acc);
  return acc;
}

struct Range {
  uint64_t begin, end;
};

// Fetches every node that the ranges decompose into (one call), then folds.
Result<std::vector<Hash>> RangeHashes(const std::vector<Range>& ranges, const NodeFetcher& fetch) {
  std::vector<NodeId> ids;
  std::vector<std::pair<size_t, size_t>> spans;
  for (const Range& r : ranges) {
    auto d = Decompose(r.begin, r.end);
    spans.emplace_back(ids.size(), d.size());
    ids.insert(ids.end(), d.begin(), d.end());
  }
  std::vector<Hash> hashes;
  if (!ids.empty()) {
    PHIGATE_ASSIGN_OR_RETURN(hashes, fetch(ids));
    if (hashes.size() != ids.size()) return absl::InternalError("merkle: fetcher size mismatch");
  }
  std::vector<Hash> out;
  out.reserve(ranges.size());
  for (auto [off, n] : spans) out.push_back(Fold(std::span<const Hash>(hashes).subspan(off, n)));
  return out;
}

}  // namespace

Hash LeafHash(std::string_view record) {
  static constexpr char kZero = 0;
  return crypto::Sha256(std::string_view(&kZero, 1), record);
}

Hash NodeHash(const Hash& left, const Hash& right) {
  // One contiguous buffer: a single update is faster than three.
  char buf[65];
  buf[0] = 1;
  std::memcpy(buf + 1, left.data(), 32);
  std::memcpy(buf + 33, right.data(), 32);
  return crypto::Sha256(std::string_view(buf, sizeof(buf)));
}

Hash EmptyRoot() { return crypto::Sha256(std::string_view()); }

std::string_view HashBytes(const Hash& h) {
  return std::string_view(reinterpret_cast<const char*>(h.data()), h.size());
}
std::string HashHex(const Hash& h) { return crypto::ToHex(HashBytes(h)); }

Result<Hash> HashFromBytes(std::string_view bytes) {
  if (bytes.size() != 32) return absl::DataLossError("hash: expected 32 bytes");
  Hash h;
  std::memcpy(h.data(), bytes.data(), 32);
  return h;
}

std::vector<NodeId> Decompose(uint64_t begin, uint64_t end) {
  std::vector<NodeId> out;
  while (begin < end) {
    uint32_t level = static_cast<uint32_t>(std::bit_width(end - begin) - 1);
    if (begin != 0) {
      level = std::min<uint32_t>(level, static_cast<uint32_t>(std::countr_zero(begin)));
    }
    out.push_back(NodeId{level, begin >> level});
    begin += uint64_t{1} << level;
  }
  return out;
}

Result<CompactRange> CompactRange::FromHashes(uint64_t size, std::vector<Hash> hashes) {
  if (hashes.size() != static_cast<size_t>(std::popcount(size))) {
    return absl::DataLossError("compact range: hash count does not match the size");
  }
  CompactRange r;
  r.size_ = size;
  r.hashes_ = std::move(hashes);
  return r;
}

void CompactRange::Append(const Hash& leaf, std::vector<Node>* completed) {
  Hash carry = leaf;
  uint32_t level = 0;
  uint64_t index = size_;  // index of `carry` at `level`
  while ((size_ >> level) & 1u) {
    carry = NodeHash(hashes_.back(), carry);
    hashes_.pop_back();
    ++level;
    index >>= 1;
    if (completed != nullptr) completed->push_back(Node{NodeId{level, index}, carry});
  }
  hashes_.push_back(carry);
  ++size_;
}

Hash CompactRange::Root() const {
  if (hashes_.empty()) return EmptyRoot();
  return Fold(hashes_);
}

Result<std::vector<Hash>> InclusionProof(uint64_t index, uint64_t size, const NodeFetcher& fetch) {
  if (index >= size) {
    return absl::InvalidArgumentError(
        absl::StrCat("inclusion proof: leaf ", index, " is not in a tree of size ", size));
  }
  std::vector<Range> ranges;
  uint64_t lo = 0, hi = size;
  while (hi - lo > 1) {
    const uint64_t k = LargestPow2Below(hi - lo);
    if (index < lo + k) {
      ranges.push_back({lo + k, hi});
      hi = lo + k;
    } else {
      ranges.push_back({lo, lo + k});
      lo += k;
    }
  }
  std::reverse(ranges.begin(), ranges.end());
  return RangeHashes(ranges, fetch);
}

Result<std::vector<Hash>> ConsistencyProof(uint64_t first, uint64_t second,
                                           const NodeFetcher& fetch) {
  if (first == 0 || first > second) {
    return absl::InvalidArgumentError(
        absl::StrCat("consistency proof: bad sizes ", first, " and ", second));
  }
  std::vector<Range> ranges;
  uint64_t lo = 0, hi = second, m = first;
  bool whole = true;
  while (true) {
    if (m == hi - lo) {
      if (!whole) ranges.push_back({lo, hi});
      break;
    }
    const uint64_t k = LargestPow2Below(hi - lo);
    if (m <= k) {
      ranges.push_back({lo + k, hi});
      hi = lo + k;
    } else {
      ranges.push_back({lo, lo + k});
      m -= k;
      lo += k;
      whole = false;
    }
  }
  std::reverse(ranges.begin(), ranges.end());
  return RangeHashes(ranges, fetch);
}

Result<Hash> RootAt(uint64_t size, const NodeFetcher& fetch) {
  if (size == 0) return EmptyRoot();
  PHIGATE_ASSIGN_OR_RETURN(auto h, RangeHashes({{0, size}}, fetch));
  return h[0];
}

Status VerifyInclusion(uint64_t index, uint64_t size, const Hash& leaf, std::span<const Hash> proof,
                       const Hash& root) {
  if (index >= size) return absl::DataLossError("inclusion: index beyond tree size");
  uint64_t fn = index, sn = size - 1;
  Hash r = leaf;
  for (const Hash& p : proof) {
    if (sn == 0) return absl::DataLossError("inclusion: proof too long");
    if ((fn & 1) || fn == sn) {
      r = NodeHash(p, r);
      if (!(fn & 1)) {
        while (!(fn & 1) && fn != 0) {
          fn >>= 1;
          sn >>= 1;
        }
      }
    } else {
      r = NodeHash(r, p);
    }
    fn >>= 1;
    sn >>= 1;
  }
  if (sn != 0) return absl::DataLossError("inclusion: proof too short");
  if (r != root) return absl::DataLossError("inclusion: root mismatch");
  return absl::OkStatus();
}

Status VerifyConsistency(uint64_t first, uint64_t second, const Hash& first_root,
                         const Hash& second_root, std::span<const Hash> proof) {
  if (first > second) return absl::DataLossError("consistency: first > second");
  if (first == second) {
    if (!proof.empty()) return absl::DataLossError("consistency: proof must be empty");
    if (first_root != second_root) return absl::DataLossError("consistency: roots differ");
    return absl::OkStatus();
  }
  if (first == 0) {
    if (!proof.empty()) return absl::DataLossError("consistency: proof must be empty");
    return absl::OkStatus();
  }
  std::vector<Hash> path(proof.begin(), proof.end());
  if (std::has_single_bit(first)) path.insert(path.begin(), first_root);
  if (path.empty()) return absl::DataLossError("consistency: empty proof");
  uint64_t fn = first - 1, sn = second - 1;
  while (fn & 1) {
    fn >>= 1;
    sn >>= 1;
  }
  Hash fr = path[0], sr = path[0];
  for (size_t i = 1; i < path.size(); ++i) {
    const Hash& c = path[i];
    if (sn == 0) return absl::DataLossError("consistency: proof too long");
    if ((fn & 1) || fn == sn) {
      fr = NodeHash(c, fr);
      sr = NodeHash(c, sr);
      if (!(fn & 1)) {
        while (!(fn & 1) && fn != 0) {
          fn >>= 1;
          sn >>= 1;
        }
      }
    } else {
      sr = NodeHash(sr, c);
    }
    fn >>= 1;
    sn >>= 1;
  }
  if (sn != 0) return absl::DataLossError("consistency: proof too short");
  if (fr != first_root) return absl::DataLossError("consistency: first root mismatch");
  if (sr != second_root) return absl::DataLossError("consistency: second root mismatch");
  return absl::OkStatus();
}

}  // namespace phigate::audit
