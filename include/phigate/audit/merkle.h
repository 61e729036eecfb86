// RFC 6962 (Certificate Transparency) Merkle tree hashing, compact ranges and
// proofs, as in transparency-dev/merkle: leaf = SHA-256(0x00 || record),
// node = SHA-256(0x01 || left || right), empty tree = SHA-256("").
//
// Proofs are built from stored node hashes: level 0 is the leaf hashes, level
// L > 0 holds the root of every complete, aligned subtree of 2^L leaves. A
// NodeFetcher returns them in one call, so a store can answer a whole proof
// with one query.
#ifndef PHIGATE_AUDIT_MERKLE_H_
#define PHIGATE_AUDIT_MERKLE_H_

#include <array>
#include <cstdint>
#include <functional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "phigate/core/status.h"

namespace phigate::audit {

using Hash = std::array<uint8_t, 32>;

Hash LeafHash(std::string_view record);
Hash NodeHash(const Hash& left, const Hash& right);
Hash EmptyRoot();
std::string HashHex(const Hash& h);
std::string_view HashBytes(const Hash& h);
Result<Hash> HashFromBytes(std::string_view bytes);  // exactly 32 bytes

// A complete aligned subtree: leaves [index << level, (index + 1) << level).
struct NodeId {
  uint32_t level = 0;
  uint64_t index = 0;
  friend bool operator==(const NodeId&, const NodeId&) = default;
  friend auto operator<=>(const NodeId&, const NodeId&) = default;
};
struct Node {
  NodeId id;
  Hash hash{};
};

// The leaf whose append completes node `id` (the last leaf of its subtree).
// Stores keep a node's hash in that leaf's row (docs/formats/audit_log.md §6).
inline uint64_t CompletingLeaf(const NodeId& id) { return ((id.index + 1) << id.level) - 1; }

// Returns the hashes of the given nodes, in the same order. Non-OK when one is
// missing (NotFound) or the store fails.
using NodeFetcher = std::function<Result<std::vector<Hash>>(std::span<const NodeId>)>;

// The complete subtrees that cover [begin, end), left to right.
// REQUIRES: begin is a multiple of the largest power of two <= end - begin
// (true for every range of an RFC 6962 decomposition and for begin = 0).
std::vector<NodeId> Decompose(uint64_t begin, uint64_t end);

// The frontier of a tree of `size` leaves: one hash per set bit of size. Lets
// a writer append leaves and compute the root in O(log n) memory.
class CompactRange {
 public:
  CompactRange() = default;
  // From the decomposition of [0, size): hashes of Decompose(0, size) in order.
  static Result<CompactRange> FromHashes(uint64_t size, std::vector<Hash> hashes);
  // Appends a leaf hash; adds every subtree it completes (level >= 1) to *completed.
  void Append(const Hash& leaf, std::vector<Node>* completed);
  Hash Root() const;
  uint64_t size() const { return size_; }
  // Hashes of Decompose(0, size()), left (largest) to right.
  const std::vector<Hash>& hashes() const { return hashes_; }

 private:
  uint64_t size_ = 0;
  std::vector<Hash> hashes_;
};

// RFC 6962 audit path for leaf `index` in the tree of the first `size` leaves.
Result<std::vector<Hash>> InclusionProof(uint64_t index, uint64_t size, const NodeFetcher& fetch);
// RFC 6962 consistency proof between the trees of `first` and `second` leaves.
// REQUIRES: 0 < first <= second.
Result<std::vector<Hash>> ConsistencyProof(uint64_t first, uint64_t second,
                                           const NodeFetcher& fetch);
// Root of the first `size` leaves from stored nodes.
Result<Hash> RootAt(uint64_t size, const NodeFetcher& fetch);

// RFC 9162 2.1.3.2 / 2.1.4.2. OK or DataLoss (proof does not match the root).
Status VerifyInclusion(uint64_t index, uint64_t size, const Hash& leaf, std::span<const Hash> proof,
                       const Hash& root);
Status VerifyConsistency(uint64_t first, uint64_t second, const Hash& first_root,
                         const Hash& second_root, std::span<const Hash> proof);

}  // namespace phigate::audit

#endif  // PHIGATE_AUDIT_MERKLE_H_
