// VerifyTrail: recompute everything from the stored records and compare with
// what was signed. The first inconsistency is reported as DataLoss naming the
// first bad event ("tenant T: event seq N: ...").
#include <algorithm>
#include <charconv>

#include "absl/strings/str_cat.h"
#include "phigate/audit/audit_log.h"
#include "phigate/audit/record.h"

namespace phigate::audit {
namespace {

Status Bad(const TenantId& t, uint64_t seq, std::string_view why) {
  return absl::DataLossError(
      absl::StrCat("tenant ", t.value(), ": event seq ", seq, ": ", ToAbsl(why)));
}

Status CheckSignature(const SignedTreeHead& h, const crypto::Ed25519Verifier& v) {
  return v.Verify(h.SignedBytes(), h.signature);
}

}  // namespace

std::optional<uint64_t> FirstBadSeq(const Status& status) {
  const std::string_view msg = FromAbsl(status.message());
  static constexpr std::string_view kKey = "event seq ";
  const size_t at = msg.find(kKey);
  if (at == std::string_view::npos) return std::nullopt;
  uint64_t v = 0;
  const char* b = msg.data() + at + kKey.size();
  auto [p, ec] = std::from_chars(b, msg.data() + msg.size(), v);
  if (ec != std::errc() || p == b) return std::nullopt;
  return v;
}

Status VerifyCheckpoint(const Checkpoint& cp, const crypto::Ed25519Verifier& verifier) {
  PHIGATE_RETURN_IF_ERROR(CheckSignature(cp.head, verifier));
  PHIGATE_ASSIGN_OR_RETURN(CompactRange r,
                           CompactRange::FromHashes(cp.head.tree_size, cp.compact_range));
  if (r.Root() != cp.head.root) return absl::DataLossError("checkpoint: compact range mismatch");
  return absl::OkStatus();
}

Result<VerifyResult> VerifyTrail(AuditLogStore& store, const TenantId& tenant,
                                 const crypto::Ed25519Verifier& verifier) {
  VerifyResult res;
  res.tenant = tenant;
  PHIGATE_ASSIGN_OR_RETURN(std::optional<SignedTreeHead> latest, store.LatestHead(tenant));
  PHIGATE_ASSIGN_OR_RETURN(std::vector<Checkpoint> cps, store.Checkpoints(tenant));
  PHIGATE_ASSIGN_OR_RETURN(std::vector<SignedTreeHead> log, store.HeadLog(tenant));

  // Start after the latest retention cut, from its signed compact range.
  CompactRange tree;
  Hash last_leaf{};
  uint64_t start = 0;
  for (const Checkpoint& cp : cps) {
    if (!cp.cut || cp.head.tree_size < start) continue;
    if (Status s = VerifyCheckpoint(cp, verifier); !s.ok()) {
      return Bad(tenant, cp.head.tree_size == 0 ? 0 : cp.head.tree_size - 1,
                 absl::StrCat("retention checkpoint at size ", cp.head.tree_size,
                              " does not verify: ", s.message()));
    }
    ++res.heads_checked;
    PHIGATE_ASSIGN_OR_RETURN(tree, CompactRange::FromHashes(cp.head.tree_size, cp.compact_range));
    last_leaf = cp.head.last_leaf;
    start = cp.head.tree_size;
  }
  res.first_seq = start;

  // Every signed head after the cut, in tree-size order; the latest last.
  std::vector<SignedTreeHead> heads;
  for (const SignedTreeHead& h : log) {
    if (h.tree_size > start) heads.push_back(h);
  }
  for (const Checkpoint& cp : cps) {
    if (!cp.cut && cp.head.tree_size > start) heads.push_back(cp.head);
  }
  uint64_t signed_size = start;
  if (latest) {
    heads.push_back(*latest);
    signed_size = std::max(signed_size, latest->tree_size);
  }
  std::stable_sort(heads.begin(), heads.end(),
                   [](const auto& a, const auto& b) { return a.tree_size < b.tree_size; });
  for (const SignedTreeHead& h : heads) {
    if (h.tree_size > signed_size) {
      return Bad(tenant, signed_size,
                 absl::StrCat("a signed head at size ", h.tree_size,
                              " is beyond the latest head (head table rolled back)"));
    }
    if (Status s = CheckSignature(h, verifier); !s.ok()) {
      return Bad(
          tenant, h.tree_size - 1,
          absl::StrCat("signature of the tree head at size ", h.tree_size, " does not verify"));
    }
    ++res.heads_checked;
  }

  size_t next_head = 0;
  uint64_t window_start = start;  // first seq after the previous checked head
  uint64_t expected = start;
  auto check_heads = [&]() -> Status {
    while (next_head < heads.size() && heads[next_head].tree_size == tree.size()) {
      const SignedTreeHead& h = heads[next_head++];
      if (h.last_leaf != last_leaf) {
        return Bad(tenant, h.tree_size - 1,
                   "does not match the last leaf hash of the signed tree head (edited)");
      }
      if (h.root != tree.Root()) {
        return Bad(tenant, window_start,
                   absl::StrCat("events ", window_start, "..", h.tree_size - 1,
                                " do not match the root of the signed tree head at size ",
                                h.tree_size, " (rewritten)"));
      }
      window_start = h.tree_size;
    }
    return absl::OkStatus();
  };
  PHIGATE_RETURN_IF_ERROR(check_heads());

  Status st = store.Scan(tenant, ScanOptions{.from_seq = start}, [&](const RecordView& v) {
    if (v.seq != expected) {
      if (v.seq > expected) return Bad(tenant, expected, "missing (dropped)");
      return Bad(tenant, v.seq, "out of order");
    }
    if (v.seq >= signed_size) {
      return Bad(tenant, v.seq, "not covered by any signed tree head (inserted)");
    }
    auto rec = DecodeRecord(v.record);
    if (!rec.ok()) return Bad(tenant, v.seq, FromAbsl(rec.status().message()));
    if (rec->seq != v.seq) {
      return Bad(tenant, v.seq,
                 absl::StrCat("the record says it is seq ", rec->seq, " (reordered or moved)"));
    }
    if (rec->event.tenant != tenant) return Bad(tenant, v.seq, "record of another tenant");
    const Hash leaf = LeafHash(v.record);
    if (leaf != v.leaf) return Bad(tenant, v.seq, "stored leaf hash does not match the record");
    if (rec->prev_hash != last_leaf) {
      if (v.seq == start) return Bad(tenant, v.seq, "does not chain to the retention checkpoint");
      return Bad(tenant, v.seq - 1,
                 absl::StrCat("hash does not match the previous-record hash in event seq ", v.seq,
                              " (edited, or an event was inserted/removed here)"));
    }
    tree.Append(leaf, nullptr);
    last_leaf = leaf;
    ++expected;
    ++res.events_checked;
    return check_heads();
  });
  PHIGATE_RETURN_IF_ERROR(st);
  if (expected < signed_size) {
    return Bad(tenant, expected,
               absl::StrCat("missing: the signed tree head covers ", signed_size,
                            " events but the trail ends here (truncated)"));
  }
  if (next_head != heads.size()) {
    return Bad(tenant, expected, "a signed tree head was not reached (truncated)");
  }
  res.tree_size = tree.size();
  res.root = tree.Root();
  return res;
}

}  // namespace phigate::audit
