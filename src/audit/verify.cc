// VerifyTrail: recompute everything from the stored records and compare with
// what was signed. The first inconsistency is reported as DataLoss naming the
// first bad event ("tenant T: event seq N: ...").
#include <algorithm>
#include <array>
#include <charconv>
#include <condition_variable>
#include <cstring>
#include <deque>
#include <functional>
#include <limits>
#include <memory>
#include <mutex>
#include <nlohmann/json.hpp>
#include <optional>
#include <thread>

#include "absl/strings/str_cat.h"
#include "phigate/audit/audit_log.h"
#include "phigate/audit/query.h"
#include "phigate/audit/record.h"
#include "phigate/crypto/signer.h"

namespace phigate::audit {
namespace {

Status Bad(const TenantId& t, uint64_t seq, std::string_view why) {
  return absl::DataLossError(
      absl::StrCat("tenant ", t.value(), ": event seq ", seq, ": ", ToAbsl(why)));
}

// The first of keys[from..] that verifies `signature` over `message`, or
// nullopt.
std::optional<size_t> SignedBy(TreeHeadKeys keys, std::string_view message,
                               std::string_view signature, size_t from = 0) {
  for (size_t k = from; k < keys.size(); ++k) {
    if (keys[k] != nullptr && keys[k]->Verify(message, signature).ok()) return k;
  }
  return std::nullopt;
}

// Rows of a scan, copied out of the store's buffers.
struct Chunk {
  std::vector<uint64_t> seqs;
  std::vector<int64_t> times;  // the stored time column (queries filter on it)
  std::vector<Hash> leaves;
  std::vector<uint32_t> ends;  // record i = bytes[ends[i-1], ends[i])
  std::string bytes;
  std::vector<uint32_t> node_ends;  // the row's stored Merkle nodes, likewise
  std::string node_bytes;
  std::string_view record(size_t i) const {
    const size_t b = i == 0 ? 0 : ends[i - 1];
    return std::string_view(bytes).substr(b, ends[i] - b);
  }
  std::string_view nodes(size_t i) const {
    const size_t b = i == 0 ? 0 : node_ends[i - 1];
    return std::string_view(node_bytes).substr(b, node_ends[i] - b);
  }
  void Clear() {
    seqs.clear();
    times.clear();
    leaves.clear();
    ends.clear();
    bytes.clear();
    node_ends.clear();
    node_bytes.clear();
  }
};

// Scans the tenant's rows from `from` on a reader thread and calls fn on
// each chunk, in order, on the calling thread. Stops at the first error of
// fn or of the scan and returns it.
Status ScanInChunks(AuditLogStore& store, const TenantId& tenant, uint64_t from,
                    const std::function<Status(const Chunk&)>& fn) {
  constexpr size_t kRows = 8192;
  constexpr size_t kInFlight = 4;
  std::mutex mu;
  std::condition_variable cv;
  std::deque<std::unique_ptr<Chunk>> full, free_chunks;  // guarded by mu
  bool scan_done = false, cancel = false;                // guarded by mu
  Status scan_status;                                    // set before scan_done
  for (size_t i = 0; i < kInFlight; ++i) free_chunks.push_back(std::make_unique<Chunk>());

  std::thread reader([&] {
    std::unique_ptr<Chunk> cur;
    auto take_free = [&]() -> bool {
      std::unique_lock<std::mutex> lock(mu);
      cv.wait(lock, [&] { return cancel || !free_chunks.empty(); });
      if (cancel) return false;
      cur = std::move(free_chunks.front());
      free_chunks.pop_front();
      cur->Clear();
      return true;
    };
    auto hand_over = [&] {
      std::lock_guard<std::mutex> lock(mu);
      full.push_back(std::move(cur));
      cv.notify_all();
    };
    Status s = take_free() ? absl::OkStatus() : absl::CancelledError("verify: stopped");
    if (s.ok()) {
      s = store.Scan(tenant, ScanOptions{.from_seq = from}, [&](const RecordView& v) -> Status {
        cur->seqs.push_back(v.seq);
        cur->times.push_back(v.time_us);
        cur->leaves.push_back(v.leaf);
        cur->bytes.append(v.record);
        cur->ends.push_back(static_cast<uint32_t>(cur->bytes.size()));
        cur->node_bytes.append(v.nodes);
        cur->node_ends.push_back(static_cast<uint32_t>(cur->node_bytes.size()));
        if (cur->seqs.size() == kRows || cur->bytes.size() > (uint32_t{1} << 30)) {
          hand_over();
          if (!take_free()) return absl::CancelledError("verify: stopped");
        }
        return absl::OkStatus();
      });
    }
    if (cur != nullptr && !cur->seqs.empty()) hand_over();
    std::lock_guard<std::mutex> lock(mu);
    scan_status = s;
    scan_done = true;
    cv.notify_all();
  });

  Status result;
  while (true) {
    std::unique_ptr<Chunk> c;
    {
      std::unique_lock<std::mutex> lock(mu);
      cv.wait(lock, [&] { return !full.empty() || scan_done; });
      if (full.empty()) {
        result = scan_status;
        break;
      }
      c = std::move(full.front());
      full.pop_front();
    }
    result = fn(*c);
    {
      std::lock_guard<std::mutex> lock(mu);
      free_chunks.push_back(std::move(c));
      if (!result.ok()) cancel = true;
      cv.notify_all();
    }
    if (!result.ok()) break;
  }
  reader.join();
  return result;
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
  const crypto::Ed25519Verifier* one[] = {&verifier};
  return VerifyCheckpoint(cp, one);
}

Status VerifyCheckpoint(const Checkpoint& cp, TreeHeadKeys keys) {
  // A cut is signed as a cut: a witness checkpoint's head with its `cut`
  // column set to 1 does not verify (it would let anyone with write access
  // to the store drop every record before it).
  if (!SignedBy(keys, cp.cut ? cp.head.CutSignedBytes() : cp.head.SignedBytes(),
                cp.head.signature)) {
    return absl::DataLossError("checkpoint: the signature does not verify");
  }
  PHIGATE_ASSIGN_OR_RETURN(CompactRange r,
                           CompactRange::FromHashes(cp.head.tree_size, cp.compact_range));
  if (r.Root() != cp.head.root) return absl::DataLossError("checkpoint: compact range mismatch");
  return absl::OkStatus();
}

Result<VerifyResult> VerifyTrail(AuditLogStore& store, const TenantId& tenant,
                                 const crypto::Ed25519Verifier& verifier) {
  const crypto::Ed25519Verifier* one[] = {&verifier};
  return VerifyTrail(store, tenant, one);
}

Result<VerifyResult> VerifyTrail(AuditLogStore& store, const TenantId& tenant, TreeHeadKeys keys) {
  if (keys.empty()) return absl::InvalidArgumentError("audit verify: no tree-head key");
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
    if (Status s = VerifyCheckpoint(cp, keys); !s.ok()) {
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
  if (start > 0) {
    // The nodes kept for the dropped events are what a writer reloads and
    // what proofs use: they must fold to the signed cut.
    auto kept = store.GetNodes(tenant, Decompose(0, start));
    if (!kept.ok() && kept.status().code() != absl::StatusCode::kNotFound) return kept.status();
    if (!kept.ok() || *kept != tree.hashes()) {
      return Bad(tenant, start - 1,
                 "the stored Merkle nodes of the events before the retention cut are missing or "
                 "do not match its signed checkpoint (edited); proofs and the next writer would "
                 "fail on them");
    }
  }

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
  // Keys are used in their order along the tree: a head may not be signed by
  // a key older than one that signed a smaller head (heads of one size may
  // mix). So a retired key, perhaps retired because it leaked, cannot sign
  // heads past those of its successor. (Retention cuts above are signed when
  // the cut is made, over an older size: any key of the set.)
  size_t floor = 0, size_max = 0;  // size_max: newest key of the current size
  uint64_t size_of_max = 0;
  for (const SignedTreeHead& h : heads) {
    if (h.tree_size > signed_size) {
      return Bad(tenant, signed_size,
                 absl::StrCat("a signed head at size ", h.tree_size,
                              " is beyond the latest head (head table rolled back)"));
    }
    if (h.tree_size != size_of_max) {
      floor = std::max(floor, size_max);
      size_of_max = h.tree_size;
    }
    const std::optional<size_t> k = SignedBy(keys, h.SignedBytes(), h.signature, floor);
    if (!k) {
      const bool older = floor > 0 && SignedBy(keys.first(floor), h.SignedBytes(), h.signature);
      return Bad(tenant, h.tree_size - 1,
                 older ? absl::StrCat("the tree head at size ", h.tree_size,
                                      " is signed by a key older than the one that signed a "
                                      "smaller head (a retired key signed after its successor)")
                       : absl::StrCat("signature of the tree head at size ", h.tree_size,
                                      " does not verify"));
    }
    size_max = std::max(size_max, *k);
    res.newest_key = *k;
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

  // Per record: only what verification needs. The frame and checksum are
  // checked and seq, previous hash and tenant read without decoding the event
  // (any change to the payload changes the leaf hash, which the chain and the
  // signed roots pin down).
  // The subject index rows of the chunk being checked (the accounting of
  // disclosures selects events by them: a deleted row hides a disclosure, an
  // added one invents one), and the next one to compare.
  // A subject is 32 bytes; [32] = 1 unless the stored row had another length.
  std::vector<std::pair<uint64_t, std::array<char, 33>>> subject_rows;
  size_t next_subject = 0;
  auto check_subjects = [&](uint64_t seq, const RecordHeader& rec) -> Status {
    size_t i = 0;
    for (; next_subject < subject_rows.size() && subject_rows[next_subject].first == seq;
         ++next_subject, ++i) {
      const std::array<char, 33>& b = subject_rows[next_subject].second;
      if (i >= rec.num_subjects() || !b[32] ||
          std::memcmp(b.data(), rec.subjects.data() + 32 * i, 32) != 0) {
        return Bad(tenant, seq, "the subject index names a patient the record does not (edited)");
      }
    }
    if (i != rec.num_subjects()) {
      return Bad(tenant, seq, "a patient of the record is missing from the subject index (edited)");
    }
    return absl::OkStatus();
  };
  auto stray_subject = [&](uint64_t seq) {
    return Bad(tenant, seq, "the subject index names an event that is not in the trail (added)");
  };

  // The Merkle nodes each leaf completes, compared with the ones stored in
  // its row: proofs are built from the stored nodes, and a writer refuses a
  // trail whose nodes do not give its signed root, so an edited node is named
  // here rather than found later. Rows that keep them elsewhere (an empty
  // column) are read back with one GetNodes call at the chunk's end. A bad
  // node is reported at the chunk's end too, so that the chain and the signed
  // heads, which say more about an edited record, are checked first.
  std::vector<Node> completed, elsewhere;
  std::optional<std::pair<uint64_t, std::string>> bad_node;  // seq, why
  auto note_bad = [&](uint64_t seq, std::string why) {
    if (!bad_node || seq < bad_node->first) bad_node.emplace(seq, std::move(why));
  };
  auto note_bad_node = [&](const NodeId& id) {
    note_bad(CompletingLeaf(id),
             absl::StrCat("the stored Merkle node at level ", id.level, " index ", id.index,
                          " is missing or does not match the events (edited); proofs and the "
                          "next writer would fail on it"));
  };
  auto check_row_nodes = [&](uint64_t seq, std::string_view stored) {
    if (stored.empty()) {
      elsewhere.insert(elsewhere.end(), completed.begin(), completed.end());
    } else if (stored.size() != 32 * completed.size()) {
      if (completed.empty()) {
        note_bad(seq, "stored Merkle nodes for an event that completes none (edited)");
      } else {
        note_bad_node(completed[std::min(completed.size() - 1, stored.size() / 32)].id);
      }
    } else {
      for (size_t i = 0; i < completed.size(); ++i) {
        if (std::memcmp(stored.data() + 32 * i, completed[i].hash.data(), 32) != 0) {
          note_bad_node(completed[i].id);
          break;
        }
      }
    }
  };
  auto check_nodes = [&]() -> Status {
    if (!elsewhere.empty()) {
      std::vector<NodeId> ids;
      ids.reserve(elsewhere.size());
      for (const Node& n : elsewhere) ids.push_back(n.id);
      auto stored = store.GetNodes(tenant, ids);
      if (!stored.ok() && stored.status().code() != absl::StatusCode::kNotFound) {
        return stored.status();
      }
      for (size_t i = 0; i < elsewhere.size(); ++i) {
        if (stored.ok() && stored->size() == ids.size() && (*stored)[i] == elsewhere[i].hash) {
          continue;
        }
        if (!stored.ok()) {
          // NotFound does not say which one is missing: read them one by one.
          auto one = store.GetNodes(tenant, std::span<const NodeId>(&ids[i], 1));
          if (one.ok() && one->size() == 1 && (*one)[0] == elsewhere[i].hash) continue;
        }
        note_bad_node(ids[i]);
        break;
      }
      elsewhere.clear();
    }
    if (bad_node) return Bad(tenant, bad_node->first, bad_node->second);
    return absl::OkStatus();
  };

  auto check_record = [&](uint64_t seq, int64_t stored_time, std::string_view record,
                          const Hash& stored_leaf, std::string_view stored_nodes) {
    if (seq != expected) {
      if (seq > expected) return Bad(tenant, expected, "missing (dropped)");
      return Bad(tenant, seq, "out of order");
    }
    auto rec = ParseRecordHeader(record);
    if (!rec.ok()) return Bad(tenant, seq, FromAbsl(rec.status().message()));
    if (rec->seq != seq) {
      return Bad(tenant, seq,
                 absl::StrCat("the record says it is seq ", rec->seq, " (reordered or moved)"));
    }
    if (rec->tenant != tenant.value()) return Bad(tenant, seq, "record of another tenant");
    if (rec->time_us != stored_time) {
      // Time-window queries and the accounting of disclosures select rows by
      // this column: an edited one would hide the event from them.
      return Bad(tenant, seq, "the stored time does not match the record's time (edited)");
    }
    const Hash leaf = LeafHash(record);
    if (leaf != stored_leaf) return Bad(tenant, seq, "stored leaf hash does not match the record");
    if (rec->prev_hash != last_leaf) {
      if (seq == start) return Bad(tenant, seq, "does not chain to the retention checkpoint");
      return Bad(tenant, seq - 1,
                 absl::StrCat("hash does not match the previous-record hash in event seq ", seq,
                              " (edited, or an event was inserted/removed here)"));
    }
    PHIGATE_RETURN_IF_ERROR(check_subjects(seq, *rec));
    completed.clear();
    tree.Append(leaf, &completed);
    check_row_nodes(seq, stored_nodes);
    last_leaf = leaf;
    ++expected;
    ++res.events_checked;
    return check_heads();
  };
  // Two threads: this one checks, a reader thread runs the store scan and
  // copies rows into chunks (reading and hashing overlap; on a busy machine
  // two runnable threads also get twice the CPU share).
  auto load_subjects = [&](uint64_t from, uint64_t to) -> Status {
    subject_rows.clear();
    next_subject = 0;
    return store.ScanSubjects(tenant, from, to, [&](uint64_t seq, std::string_view subject) {
      std::array<char, 33> b{};
      if (subject.size() == 32) {
        std::memcpy(b.data(), subject.data(), 32);
        b[32] = 1;
      }
      subject_rows.emplace_back(seq, b);
      return absl::OkStatus();
    });
  };
  Status st = ScanInChunks(store, tenant, start, [&](const Chunk& c) -> Status {
    if (c.seqs.empty()) return absl::OkStatus();
    // Rows are ascending; a chunk whose seqs are not is reported by
    // check_record before its subjects are compared.
    PHIGATE_RETURN_IF_ERROR(
        load_subjects(c.seqs.front(), std::max(c.seqs.front(), c.seqs.back()) + 1));
    for (size_t i = 0; i < c.seqs.size(); ++i) {
      PHIGATE_RETURN_IF_ERROR(
          check_record(c.seqs[i], c.times[i], c.record(i), c.leaves[i], c.nodes(i)));
    }
    if (next_subject != subject_rows.size()) return stray_subject(subject_rows[next_subject].first);
    return check_nodes();
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
  // Index rows beyond the last event would attach a patient to an event not
  // written yet.
  PHIGATE_RETURN_IF_ERROR(load_subjects(expected, kMaxSeq));
  if (!subject_rows.empty()) return stray_subject(subject_rows.front().first);
  res.tree_size = tree.size();
  res.root = tree.Root();
  res.signed_size = signed_size;
  // Events after the newest signed head: chained and checked above, but no
  // signature pins them yet (not an error; see AuditLogOptions::sign_interval).
  res.unsigned_events = tree.size() - signed_size;
  return res;
}

Status CheckWitnessedHead(AuditLogStore& store, const SignedTreeHead& witnessed,
                          const VerifyResult& verified, const crypto::Ed25519Verifier& verifier) {
  const crypto::Ed25519Verifier* one[] = {&verifier};
  return CheckWitnessedHead(store, witnessed, verified, one);
}

Status CheckWitnessedHead(AuditLogStore& store, const SignedTreeHead& witnessed,
                          const VerifyResult& verified, TreeHeadKeys keys) {
  const std::string who = absl::StrCat("tenant ", witnessed.tenant.value(),
                                       ": the witnessed head at size ", witnessed.tree_size);
  if (witnessed.tenant != verified.tenant) {
    return absl::InvalidArgumentError(absl::StrCat(who, " is of another tenant"));
  }
  if (!SignedBy(keys, witnessed.SignedBytes(), witnessed.signature)) {
    return absl::DataLossError(absl::StrCat(who, ": its signature does not verify"));
  }
  if (witnessed.tree_size > verified.tree_size) {
    return absl::DataLossError(
        absl::StrCat(who, " is beyond the trail's ", verified.tree_size,
                     " events (events dropped, or the heads rolled back and rewritten)"));
  }
  Hash root = verified.root;
  if (witnessed.tree_size < verified.tree_size) {
    auto r = RootAt(witnessed.tree_size, [&](std::span<const NodeId> ids) {
      return store.GetNodes(witnessed.tenant, ids);
    });
    if (!r.ok() && r.status().code() == absl::StatusCode::kNotFound &&
        witnessed.tree_size < verified.first_seq) {
      return absl::FailedPreconditionError(
          absl::StrCat(who, " is older than the retention cut: it cannot be checked"));
    }
    if (!r.ok()) return r.status();
    root = *r;
  }
  if (root != witnessed.root) {
    return absl::DataLossError(
        absl::StrCat(who, ": the trail's first ", witnessed.tree_size,
                     " events do not give its root (rewritten after the witness saw them)"));
  }
  return absl::OkStatus();
}

std::string WitnessedHeadJson(const SignedTreeHead& h, std::string_view raw_public_key) {
  nlohmann::json j;
  j["tenant"] = h.tenant.value();
  j["tree_size"] = h.tree_size;
  j["root"] = HashHex(h.root);
  j["last_leaf"] = HashHex(h.last_leaf);
  j["timestamp"] = FormatTimeUs(h.timestamp_us);
  j["signature"] = crypto::ToHex(h.signature);
  j["public_key"] = crypto::ToHex(raw_public_key);
  return j.dump();
}

Result<SignedTreeHead> ParseWitnessedHead(std::string_view json_line) {
  const auto bad = [] {
    return absl::InvalidArgumentError(
        "witnessed head: not a line of `phigate audit checkpoint` output");
  };
  const nlohmann::json j = nlohmann::json::parse(json_line, nullptr, /*allow_exceptions=*/false);
  if (!j.is_object()) return bad();
  auto str = [&](const char* key) -> std::optional<std::string> {
    auto it = j.find(key);
    if (it == j.end() || !it->is_string()) return std::nullopt;
    return it->get<std::string>();
  };
  auto hash = [&](const char* key) -> std::optional<Hash> {
    auto s = str(key);
    if (!s) return std::nullopt;
    auto bytes = crypto::FromHex(*s);
    if (!bytes.ok()) return std::nullopt;
    auto h = HashFromBytes(*bytes);
    if (!h.ok()) return std::nullopt;
    return *h;
  };
  SignedTreeHead h;
  const auto tenant = str("tenant");
  const auto root = hash("root");
  const auto last = hash("last_leaf");
  const auto time = str("timestamp");
  const auto sig = str("signature");
  auto size = j.find("tree_size");
  if (!tenant || !root || !last || !time || !sig || size == j.end() ||
      !size->is_number_unsigned()) {
    return bad();
  }
  auto t = MakeTenantId(*tenant);
  auto ts = ParseTimeUs(*time);
  auto signature = crypto::FromHex(*sig);
  if (!t.ok() || !ts.ok() || !signature.ok()) return bad();
  h.tenant = *t;
  h.tree_size = size->get<uint64_t>();
  h.root = *root;
  h.last_leaf = *last;
  h.timestamp_us = *ts;
  h.signature = *signature;
  return h;
}

}  // namespace phigate::audit
