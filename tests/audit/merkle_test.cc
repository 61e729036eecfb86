#include "phigate/audit/merkle.h"

#include <map>

#include "gtest/gtest.h"
#include "tests/testing/status_matchers.h"

namespace phigate::audit {
namespace {

// The RFC 6962 definition, recursively, as the reference.
Hash Mth(const std::vector<Hash>& leaves, uint64_t b, uint64_t e) {
  if (e - b == 1) return leaves[b];
  uint64_t k = 1;
  while (k * 2 < e - b) k *= 2;
  return NodeHash(Mth(leaves, b, b + k), Mth(leaves, b + k, e));
}

class MerkleTest : public ::testing::Test {
 protected:
  void Build(uint64_t n) {
    leaves_.clear();
    nodes_.clear();
    CompactRange r;
    std::vector<Node> done;
    for (uint64_t i = 0; i < n; ++i) {
      const Hash h = LeafHash("record " + std::to_string(i));
      leaves_.push_back(h);
      nodes_[NodeId{0, i}] = h;
      done.clear();
      r.Append(h, &done);
      for (const Node& d : done) nodes_[d.id] = d.hash;
      ASSERT_EQ(r.Root(), Mth(leaves_, 0, i + 1)) << "size " << i + 1;
    }
  }
  NodeFetcher Fetcher() {
    return [this](std::span<const NodeId> ids) -> Result<std::vector<Hash>> {
      std::vector<Hash> out;
      for (const NodeId& id : ids) {
        auto it = nodes_.find(id);
        if (it == nodes_.end()) return absl::NotFoundError("node");
        out.push_back(it->second);
      }
      return out;
    };
  }
  std::vector<Hash> leaves_;
  std::map<NodeId, Hash> nodes_;
};

TEST_F(MerkleTest, EmptyRootIsSha256OfNothing) {
  EXPECT_EQ(HashHex(EmptyRoot()),
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  EXPECT_EQ(CompactRange().Root(), EmptyRoot());
}

TEST_F(MerkleTest, DomainSeparation) {
  // A leaf can never be confused with a node of the same bytes.
  const Hash a = LeafHash("x"), b = LeafHash("y");
  std::string cat(HashBytes(a));
  cat += HashBytes(b);
  EXPECT_NE(LeafHash(cat), NodeHash(a, b));
}

TEST_F(MerkleTest, InclusionProofsVerifyForEveryLeafAndSize) {
  Build(40);
  for (uint64_t n = 1; n <= 40; ++n) {
    const Hash root = Mth(leaves_, 0, n);
    PHIGATE_ASSERT_OK_AND_ASSIGN(Hash at, RootAt(n, Fetcher()));
    EXPECT_EQ(at, root);
    for (uint64_t m = 0; m < n; ++m) {
      PHIGATE_ASSERT_OK_AND_ASSIGN(auto proof, InclusionProof(m, n, Fetcher()));
      PHIGATE_EXPECT_OK(VerifyInclusion(m, n, leaves_[m], proof, root));
      // A wrong leaf, index or a damaged path fails.
      EXPECT_FALSE(VerifyInclusion(m, n, leaves_[(m + 1) % n], proof, root).ok() && n > 1);
      if (!proof.empty()) {
        auto bad = proof;
        bad[0][0] ^= 1;
        EXPECT_FALSE(VerifyInclusion(m, n, leaves_[m], bad, root).ok());
      }
    }
  }
}

TEST_F(MerkleTest, ConsistencyProofsVerifyForEveryPair) {
  Build(40);
  for (uint64_t n = 1; n <= 40; ++n) {
    for (uint64_t m = 1; m <= n; ++m) {
      PHIGATE_ASSERT_OK_AND_ASSIGN(auto proof, ConsistencyProof(m, n, Fetcher()));
      const Hash r1 = Mth(leaves_, 0, m), r2 = Mth(leaves_, 0, n);
      PHIGATE_EXPECT_OK(VerifyConsistency(m, n, r1, r2, proof)) << m << " " << n;
      if (m < n) {
        Hash wrong = r1;
        wrong[3] ^= 1;
        EXPECT_FALSE(VerifyConsistency(m, n, wrong, r2, proof).ok());
        EXPECT_FALSE(VerifyConsistency(m, n, r1, wrong, proof).ok());
      }
    }
  }
}

TEST_F(MerkleTest, CompactRangeRoundTrip) {
  Build(37);
  std::vector<Hash> hashes;
  for (const NodeId& id : Decompose(0, 37)) hashes.push_back(nodes_.at(id));
  PHIGATE_ASSERT_OK_AND_ASSIGN(CompactRange r, CompactRange::FromHashes(37, hashes));
  EXPECT_EQ(r.Root(), Mth(leaves_, 0, 37));
  EXPECT_FALSE(CompactRange::FromHashes(36, hashes).ok());
}

}  // namespace
}  // namespace phigate::audit
