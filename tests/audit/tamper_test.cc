// Corruption tests (LevelDB log_test.cc style): every kind of edit to the
// stored trail is detected by VerifyTrail, which names the first bad event.
#include <sqlite3.h>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "phigate/audit/audit_log.h"
#include "phigate/audit/record.h"
#include "tests/audit/test_util.h"
#include "tests/testing/status_matchers.h"

namespace phigate::audit {
namespace {

using ::testing::HasSubstr;
using testing::SampleEvent;
using testing::TestSigner;
using testing::TestVerifier;

constexpr int kEvents = 20;

class TamperTest : public ::testing::Test {
 protected:
  void SetUp() override {
    path_ = dir_.file("audit.db");
    AuditLogOptions o;
    o.head_log_interval = 4;
    o.max_batch = 1;  // one head per event: the heads table then names every size
    o.sign_interval = std::chrono::microseconds(0);
    auto store = AuditLogStore::Open("sqlite://" + path_).value();
    auto log = AuditLog::Open(std::move(store), TestSigner(), o).value();
    for (int i = 0; i < kEvents; ++i) ASSERT_TRUE(log->Append(SampleEvent("acme", i)).ok());
    log.reset();
    ASSERT_EQ(sqlite3_open(path_.c_str(), &db_), SQLITE_OK);
    PHIGATE_ASSERT_OK(Verify());
  }
  void TearDown() override { sqlite3_close(db_); }

  Status Verify() {
    auto store = AuditLogStore::Open("sqlite://" + path_).value();
    return VerifyTrail(*store, TenantId("acme"), *TestVerifier()).status();
  }
  void Exec(const std::string& sql) {
    char* err = nullptr;
    ASSERT_EQ(sqlite3_exec(db_, sql.c_str(), nullptr, nullptr, &err), SQLITE_OK) << err;
  }
  std::string Blob(const std::string& sql) {
    sqlite3_stmt* s = nullptr;
    EXPECT_EQ(sqlite3_prepare_v2(db_, sql.c_str(), -1, &s, nullptr), SQLITE_OK);
    std::string out;
    if (sqlite3_step(s) == SQLITE_ROW) {
      out.assign(static_cast<const char*>(sqlite3_column_blob(s, 0)),
                 static_cast<size_t>(sqlite3_column_bytes(s, 0)));
    }
    sqlite3_finalize(s);
    return out;
  }
  // Inserts a well-formed row for `r` at r.seq, as a careful forger would:
  // its stored time, leaf and frame all agree with the record.
  void InsertForged(const audit::Record& r) {
    const std::string frame = EncodeRecord(r).value();
    sqlite3_stmt* s = nullptr;
    ASSERT_EQ(sqlite3_prepare_v2(db_,
                                 "INSERT INTO audit_events (tenant, seq, time_us, record, leaf) "
                                 "VALUES ('acme', ?1, ?2, ?3, ?4)",
                                 -1, &s, nullptr),
              SQLITE_OK);
    const Hash leaf = LeafHash(frame);
    sqlite3_bind_int64(s, 1, static_cast<sqlite3_int64>(r.seq));
    sqlite3_bind_int64(s, 2, r.event.time_us);
    sqlite3_bind_blob(s, 3, frame.data(), static_cast<int>(frame.size()), SQLITE_TRANSIENT);
    sqlite3_bind_blob(s, 4, leaf.data(), 32, SQLITE_TRANSIENT);
    ASSERT_EQ(sqlite3_step(s), SQLITE_DONE);
    sqlite3_finalize(s);
    for (const BlindIndex& b : r.event.subjects) {  // and its subject index rows
      ASSERT_EQ(sqlite3_prepare_v2(db_,
                                   "INSERT INTO audit_subject_buckets (tenant, bucket, subject, "
                                   "seq) VALUES ('acme', ?1 >> 8, ?2, ?1)",
                                   -1, &s, nullptr),
                SQLITE_OK);
      sqlite3_bind_int64(s, 1, static_cast<sqlite3_int64>(r.seq));
      sqlite3_bind_blob(s, 2, b.data(), 32, SQLITE_TRANSIENT);
      ASSERT_EQ(sqlite3_step(s), SQLITE_DONE);
      sqlite3_finalize(s);
    }
  }
  void SetBlob(const std::string& sql, std::string_view v) {
    sqlite3_stmt* s = nullptr;
    ASSERT_EQ(sqlite3_prepare_v2(db_, sql.c_str(), -1, &s, nullptr), SQLITE_OK);
    sqlite3_bind_blob(s, 1, v.data(), static_cast<int>(v.size()), SQLITE_TRANSIENT);
    ASSERT_EQ(sqlite3_step(s), SQLITE_DONE);
    sqlite3_finalize(s);
  }
  std::string Record(int seq) {
    return Blob("SELECT record FROM audit_events WHERE seq = " + std::to_string(seq));
  }
  void SetRecord(int seq, std::string_view r) {
    SetBlob("UPDATE audit_events SET record = ?1 WHERE seq = " + std::to_string(seq), r);
  }
  void SetLeaf(int seq, const Hash& h) {
    SetBlob("UPDATE audit_events SET leaf = ?1 WHERE seq = " + std::to_string(seq), HashBytes(h));
  }
  // Re-encodes record `seq` with its user changed: a valid frame, valid CRC.
  std::string EditedRecord(int seq) {
    auto r = DecodeRecord(Record(seq));
    EXPECT_TRUE(r.ok());
    r->event.user = testing::Id("u_attacker");
    return EncodeRecord(*r).value();
  }
  void ExpectBad(uint64_t seq, std::string_view why) {
    Status s = Verify();
    EXPECT_EQ(s.code(), absl::StatusCode::kDataLoss) << s;
    EXPECT_EQ(FirstBadSeq(s), std::optional<uint64_t>(seq)) << s;
    EXPECT_NE(std::string(s.message()).find(std::string(why)), std::string::npos) << s;
  }

  testing::TempDir dir_;
  std::string path_;
  sqlite3* db_ = nullptr;
};

TEST_F(TamperTest, FlippedByteInRecordIsChecksumError) {
  std::string r = Record(7);
  r[30] = static_cast<char>(r[30] ^ 1);
  SetRecord(7, r);
  ExpectBad(7, "checksum");
}

TEST_F(TamperTest, EditedFieldWithFixedChecksumIsDetected) {
  SetRecord(7, EditedRecord(7));
  ExpectBad(7, "leaf hash");
}

TEST_F(TamperTest, EditedFieldWithFixedChecksumAndLeafBreaksTheChain) {
  // Seq 5: no signed head ends there, so the chain is what catches it.
  const std::string r = EditedRecord(5);
  SetRecord(5, r);
  SetLeaf(5, LeafHash(r));
  ExpectBad(5, "previous-record hash in event seq 6");
}

TEST_F(TamperTest, EditedLastEventIsCaughtByTheSignedHead) {
  const std::string r = EditedRecord(kEvents - 1);
  SetRecord(kEvents - 1, r);
  SetLeaf(kEvents - 1, LeafHash(r));
  ExpectBad(kEvents - 1, "signed tree head");
}

TEST_F(TamperTest, DroppedEventIsNamed) {
  Exec("DELETE FROM audit_events WHERE seq = 5");
  ExpectBad(5, "missing");
}

TEST_F(TamperTest, TruncatedTrailIsNamed) {
  Exec("DELETE FROM audit_events WHERE seq >= 12");
  ExpectBad(12, "truncated");
}

TEST_F(TamperTest, DroppedLastEventIsTruncation) {
  Exec("DELETE FROM audit_events WHERE seq = 19");
  ExpectBad(19, "truncated");
}

TEST_F(TamperTest, ReorderedEventsAreNamed) {
  const std::string r3 = Record(3), r4 = Record(4);
  SetRecord(3, r4);
  SetRecord(4, r3);
  SetLeaf(3, LeafHash(r4));
  SetLeaf(4, LeafHash(r3));
  ExpectBad(3, "reordered");
}

TEST_F(TamperTest, EventInsertedAtTheEndIsReportedAsUnsigned) {
  // A well-formed record that chains correctly, but nobody signed it: it is
  // counted as the unsigned tail (a cleanly closed log leaves none).
  const std::string last = Record(kEvents - 1);
  InsertForged(audit::Record{kEvents, LeafHash(last), SampleEvent("acme", 99)});
  auto store = AuditLogStore::Open("sqlite://" + path_).value();
  PHIGATE_ASSERT_OK_AND_ASSIGN(VerifyResult v,
                               VerifyTrail(*store, TenantId("acme"), *TestVerifier()));
  EXPECT_EQ(v.signed_size, static_cast<uint64_t>(kEvents));
  EXPECT_EQ(v.unsigned_events, 1u);
}

// Amortised signing (sign_interval > 0): a running log whose newest events
// are not signed yet.
class UnsignedTailTamperTest : public TamperTest {
 protected:
  void SetUp() override {
    TamperTest::SetUp();
    if (HasFatalFailure()) return;
    AuditLogOptions o;
    o.sign_interval = std::chrono::hours(1);
    log_ =
        AuditLog::Open(AuditLogStore::Open("sqlite://" + path_).value(), TestSigner(), o).value();
    // The first commit after reopening signs (head at kEvents + 1); the
    // next four stay unsigned for the hour.
    for (int i = 0; i < 5; ++i) ASSERT_TRUE(log_->Append(SampleEvent("acme", 100 + i)).ok());
    auto store = AuditLogStore::Open("sqlite://" + path_).value();
    auto v = VerifyTrail(*store, TenantId("acme"), *TestVerifier());
    ASSERT_TRUE(v.ok()) << v.status();
    ASSERT_EQ(v->signed_size, static_cast<uint64_t>(kEvents + 1));
    ASSERT_EQ(v->unsigned_events, 4u);
  }
  void TearDown() override {
    log_.reset();
    TamperTest::TearDown();
  }
  std::unique_ptr<AuditLog> log_;
};

TEST_F(UnsignedTailTamperTest, EditedSignedEventIsDetected) {
  const std::string r = EditedRecord(kEvents);  // covered by the head at kEvents + 1
  SetRecord(kEvents, r);
  SetLeaf(kEvents, LeafHash(r));
  Status s = Verify();
  EXPECT_EQ(s.code(), absl::StatusCode::kDataLoss) << s;
  EXPECT_EQ(FirstBadSeq(s), std::optional<uint64_t>(kEvents)) << s;
}

TEST_F(UnsignedTailTamperTest, EditedUnsignedEventBreaksTheChain) {
  const int seq = kEvents + 2;
  const std::string r = EditedRecord(seq);
  SetRecord(seq, r);
  SetLeaf(seq, LeafHash(r));
  ExpectBad(seq, "previous-record hash in event seq " + std::to_string(seq + 1));
}

TEST_F(UnsignedTailTamperTest, RewrittenLastUnsignedEventIsDetectedOnceTheNextHeadIsSigned) {
  // The newest event, rewritten with a fixed checksum and leaf, chains to
  // nothing after it: before the next signed head nothing can tell.
  const int seq = kEvents + 4;
  const std::string r = EditedRecord(seq);
  SetRecord(seq, r);
  SetLeaf(seq, LeafHash(r));
  PHIGATE_EXPECT_OK(Verify());
  // The writer signs the tree it built from what it committed, so the
  // signed head disagrees with the stored record.
  PHIGATE_ASSERT_OK(log_->SignHeads());
  ExpectBad(seq, "signed tree head");
}

TEST_F(TamperTest, EventInsertedInTheMiddleIsNamed) {
  // Shift 10.. up by one and put a forged, correctly chained record at 10.
  Exec("UPDATE audit_events SET seq = seq + 1000 WHERE seq >= 10");
  Exec("UPDATE audit_events SET seq = seq - 999 WHERE seq >= 1000");
  Exec("UPDATE audit_subject_buckets SET seq = seq + 1000 WHERE seq >= 10");
  Exec(
      "UPDATE audit_subject_buckets SET seq = seq - 999, bucket = (seq - 999) >> 8 "
      "WHERE seq >= 1000");
  InsertForged(audit::Record{10, LeafHash(Record(9)), SampleEvent("acme", 77)});
  // Event 10 chains and looks fine by itself; the displaced original now at
  // 11 says it is seq 10, so the trail breaks right after the insertion.
  ExpectBad(11, "reordered or moved");
}

TEST_F(TamperTest, FlippedSignatureByteOfLatestHeadIsNamed) {
  std::string sig = Blob("SELECT signature FROM audit_heads");
  sig[5] = static_cast<char>(sig[5] ^ 0x80);
  SetBlob("UPDATE audit_heads SET signature = ?1", sig);
  ExpectBad(kEvents - 1, "signature");
}

TEST_F(TamperTest, FlippedSignatureByteInHeadLogIsNamed) {
  std::string sig = Blob("SELECT signature FROM audit_head_log WHERE tree_size = 8");
  ASSERT_EQ(sig.size(), 64u);
  sig[0] = static_cast<char>(sig[0] ^ 1);
  SetBlob("UPDATE audit_head_log SET signature = ?1 WHERE tree_size = 8", sig);
  ExpectBad(7, "signature");
}

TEST_F(TamperTest, RewrittenSuffixIsCaughtByTheHeadLog) {
  // The attacker edits event 9 and re-chains every later record (valid frames,
  // valid leaves, valid chain) but cannot sign: the head at size 12 disagrees.
  Hash prev = LeafHash(Record(8));
  for (int seq = 9; seq < kEvents; ++seq) {
    auto r = DecodeRecord(Record(seq)).value();
    if (seq == 9) r.event.user = testing::Id("u_attacker");
    r.prev_hash = prev;
    const std::string frame = EncodeRecord(r).value();
    SetRecord(seq, frame);
    prev = LeafHash(frame);
    SetLeaf(seq, prev);
  }
  Status s = Verify();
  EXPECT_EQ(s.code(), absl::StatusCode::kDataLoss);
  ASSERT_TRUE(FirstBadSeq(s).has_value()) << s;
  EXPECT_GE(*FirstBadSeq(s), 8u) << s;  // narrowed to the window (8, 12]
  EXPECT_LE(*FirstBadSeq(s), 11u) << s;
}

// Queries and the accounting of disclosures select rows by the stored time
// column: moving an event out of a query's window must not pass verify.
TEST_F(TamperTest, EditedTimeColumnIsNamed) {
  Exec("UPDATE audit_events SET time_us = 0 WHERE seq = 6");
  ExpectBad(6, "stored time does not match");
}

// `audit verify` without --tenant checks every tenant the store lists: a
// tenant whose head row was deleted must still be listed (from its events
// and head log) — it printed "no audit trails in the store" and exited 0.
TEST_F(TamperTest, DeletedHeadRowStillListsTheTrailAndIsNamed) {
  Exec("DELETE FROM audit_heads");
  auto store = AuditLogStore::Open("sqlite://" + path_).value();
  PHIGATE_ASSERT_OK_AND_ASSIGN(std::vector<TenantId> tenants, store->Tenants());
  EXPECT_EQ(tenants, std::vector<TenantId>{TenantId("acme")});
  ExpectBad(0, "head table rolled back");
}

// The accounting of disclosures selects events by the subject index: a
// deleted row hides a disclosure from the patient's report, an added one
// attributes an event to another patient.
TEST_F(TamperTest, DeletedSubjectIndexRowIsNamed) {
  Exec("DELETE FROM audit_subject_buckets WHERE seq = 6");
  ExpectBad(6, "missing from the subject index");
}

TEST_F(TamperTest, SubjectIndexRowMovedToAnotherEventIsNamed) {
  Exec("UPDATE audit_subject_buckets SET seq = 7 WHERE seq = 6");
  ExpectBad(6, "missing from the subject index");
}

TEST_F(TamperTest, SubjectIndexRowAddedIsNamed) {
  // Event 6 attributed to event 5's patient too.
  Exec(
      "INSERT INTO audit_subject_buckets (tenant, bucket, subject, seq) SELECT tenant, bucket, "
      "subject, 6 FROM audit_subject_buckets WHERE seq = 5");
  ExpectBad(6, "names a patient the record does not");
}

TEST_F(TamperTest, SubjectIndexRowForAFutureEventIsNamed) {
  Exec(
      "INSERT INTO audit_subject_buckets (tenant, bucket, subject, seq) SELECT tenant, 0, "
      "subject, 200 FROM audit_subject_buckets WHERE seq = 5");
  ExpectBad(200, "not in the trail");
}

// Proofs are built from the stored Merkle nodes, and a writer refuses a
// trail whose nodes do not give its signed root: verify names an edited or
// deleted node instead of saying OK about a store the gateway cannot use.
TEST_F(TamperTest, EditedMerkleNodeIsNamed) {
  Exec("UPDATE audit_events SET nodes = zeroblob(32) WHERE seq = 1");
  ExpectBad(1, "Merkle node at level 1 index 0");
}

TEST_F(TamperTest, DeletedMerkleNodesAreNamed) {
  Exec("UPDATE audit_events SET nodes = x'' WHERE seq = 3");
  ExpectBad(3, "Merkle node at level 1 index 1");
}

// After a retention cut, the nodes kept for the dropped events are what a
// writer reloads and what proofs use: an edited one is named too.
TEST_F(TamperTest, EditedMerkleNodeBeforeARetentionCutIsNamed) {
  {
    auto log =
        AuditLog::Open(AuditLogStore::Open("sqlite://" + path_).value(), TestSigner()).value();
    const int64_t seven_years = int64_t{7} * 365 * 24 * 3600 * 1000000;
    PHIGATE_ASSERT_OK_AND_ASSIGN(
        uint64_t dropped,
        log->ApplyRetention(TenantId("acme"), SampleEvent("acme", 0).time_us + seven_years));
    ASSERT_EQ(dropped, static_cast<uint64_t>(kEvents));
  }
  PHIGATE_ASSERT_OK(Verify());
  Exec("UPDATE audit_nodes SET hash = zeroblob(32) WHERE level = 4 AND idx = 0");
  ExpectBad(kEvents - 1, "before the retention cut");
}

// Trails written before events.nodes existed (and rows cut by retention)
// keep their nodes in the nodes table: read from there, they verify.
TEST_F(TamperTest, NodesKeptInTheNodesTableVerify) {
  Exec(
      "INSERT INTO audit_nodes (tenant, level, idx, hash) SELECT tenant, 1, 1, substr(nodes, 1, "
      "32) FROM audit_events WHERE seq = 3");
  Exec(
      "INSERT INTO audit_nodes (tenant, level, idx, hash) SELECT tenant, 2, 0, substr(nodes, 33, "
      "32) FROM audit_events WHERE seq = 3");
  Exec("UPDATE audit_events SET nodes = x'' WHERE seq = 3");
  PHIGATE_EXPECT_OK(Verify());
  Exec("UPDATE audit_nodes SET hash = zeroblob(32) WHERE level = 2");
  ExpectBad(3, "Merkle node at level 2 index 0");
}

// The limit of a trail kept in one database (docs/audit.md): roll the heads
// back to an older genuine head, drop the events after it, and let the next
// writer append (and sign) others. The store alone then verifies. A head a
// witness kept from before the rollback catches it.
TEST_F(TamperTest, RolledBackAndRewrittenTrailIsCaughtByAWitnessedHead) {
  const TenantId acme("acme");
  std::string line;
  {
    auto store = AuditLogStore::Open("sqlite://" + path_).value();
    PHIGATE_ASSERT_OK_AND_ASSIGN(std::optional<SignedTreeHead> latest, store->LatestHead(acme));
    ASSERT_TRUE(latest.has_value());
    ASSERT_EQ(latest->tree_size, static_cast<uint64_t>(kEvents));
    // What `phigate audit checkpoint` prints and the witness keeps.
    line = WitnessedHeadJson(*latest, TestSigner()->RawPublicKey());
  }
  PHIGATE_ASSERT_OK_AND_ASSIGN(SignedTreeHead witnessed, ParseWitnessedHead(line));
  Exec("DELETE FROM audit_heads");
  Exec("INSERT INTO audit_heads SELECT * FROM audit_head_log WHERE tree_size = 8");
  Exec("DELETE FROM audit_head_log WHERE tree_size > 8");
  Exec("DELETE FROM audit_events WHERE seq >= 8");
  Exec("DELETE FROM audit_subject_buckets WHERE seq >= 8");
  {
    AuditLogOptions o;
    o.sign_interval = std::chrono::microseconds(0);
    auto log =
        AuditLog::Open(AuditLogStore::Open("sqlite://" + path_).value(), TestSigner(), o).value();
    for (int i = 100; i < 100 + kEvents; ++i)
      PHIGATE_ASSERT_OK(log->Append(SampleEvent("acme", i)));
  }
  auto store = AuditLogStore::Open("sqlite://" + path_).value();
  PHIGATE_ASSERT_OK_AND_ASSIGN(VerifyResult v, VerifyTrail(*store, acme, *TestVerifier()));
  ASSERT_EQ(v.tree_size, static_cast<uint64_t>(8 + kEvents));  // the store alone: OK
  Status s = CheckWitnessedHead(*store, witnessed, v, *TestVerifier());
  EXPECT_EQ(s.code(), absl::StatusCode::kDataLoss) << s;
  EXPECT_THAT(std::string(s.message()), HasSubstr("rewritten")) << s;

  // A head from before the rollback point is still in the forged trail, a
  // witnessed head beyond the trail is named, and a forged signature is refused.
  PHIGATE_ASSERT_OK_AND_ASSIGN(std::vector<SignedTreeHead> log_heads, store->HeadLog(acme));
  ASSERT_FALSE(log_heads.empty());
  EXPECT_LE(log_heads.front().tree_size, 8u);  // written before the rollback point
  PHIGATE_EXPECT_OK(CheckWitnessedHead(*store, log_heads.front(), v, *TestVerifier()));
  SignedTreeHead beyond = witnessed;  // genuinely signed, for more events than the trail has
  beyond.tree_size = 1000;
  PHIGATE_ASSERT_OK_AND_ASSIGN(beyond.signature, TestSigner()->Sign(beyond.SignedBytes()));
  Status b = CheckWitnessedHead(*store, beyond, v, *TestVerifier());
  EXPECT_EQ(b.code(), absl::StatusCode::kDataLoss) << b;
  EXPECT_THAT(std::string(b.message()), HasSubstr("beyond the trail's 28 events")) << b;
  SignedTreeHead forged = log_heads.front();
  forged.signature[0] = static_cast<char>(forged.signature[0] ^ 1);
  Status f = CheckWitnessedHead(*store, forged, v, *TestVerifier());
  EXPECT_THAT(std::string(f.message()), HasSubstr("signature")) << f;
  EXPECT_FALSE(ParseWitnessedHead("{\"tenant\":\"acme\"}").ok());
  EXPECT_FALSE(ParseWitnessedHead("not json").ok());
}

// A master key rotation: the trail's first heads are signed by the old key
// (TestSigner), the later ones by the new key. Verified with both, oldest first.
std::shared_ptr<const crypto::Ed25519Signer> RotatedSigner() {
  return std::shared_ptr<const crypto::Ed25519Signer>(
      crypto::Ed25519Signer::FromSeed(std::string(32, '\x09')).value());
}

// Appends events [from, to) to the fixture's trail, signed by `signer`, with
// the fixture's options (a head per event, every 4th in the head log).
void AppendSigned(const std::string& path, std::shared_ptr<const crypto::Ed25519Signer> signer,
                  int from, int to) {
  AuditLogOptions o;
  o.head_log_interval = 4;
  o.max_batch = 1;
  o.sign_interval = std::chrono::microseconds(0);
  auto log = AuditLog::Open(AuditLogStore::Open("sqlite://" + path).value(), signer, o).value();
  for (int i = from; i < to; ++i) PHIGATE_ASSERT_OK(log->Append(SampleEvent("acme", i)));
}

TEST_F(TamperTest, TrailSignedAcrossAKeyRotationVerifiesWithBothKeysOldestFirst) {
  const TenantId acme("acme");
  AppendSigned(path_, RotatedSigner(), kEvents, 2 * kEvents);
  auto store = AuditLogStore::Open("sqlite://" + path_).value();
  auto old_key = TestVerifier();
  auto new_key = crypto::Ed25519Verifier::FromRawPublicKey(RotatedSigner()->RawPublicKey()).value();
  const crypto::Ed25519Verifier* both[] = {old_key.get(), new_key.get()};
  PHIGATE_ASSERT_OK_AND_ASSIGN(VerifyResult v, VerifyTrail(*store, acme, both));
  EXPECT_EQ(v.tree_size, static_cast<uint64_t>(2 * kEvents));
  EXPECT_EQ(v.newest_key, 1u);  // the newest head is the new key's
  // Either key alone: the other key's heads do not verify.
  EXPECT_EQ(VerifyTrail(*store, acme, *old_key).status().code(), absl::StatusCode::kDataLoss);
  EXPECT_EQ(VerifyTrail(*store, acme, *new_key).status().code(), absl::StatusCode::kDataLoss);
  // Newest first is the wrong order: the keys are checked in their order
  // along the tree, so the old key's heads would follow the new key's.
  const crypto::Ed25519Verifier* reversed[] = {new_key.get(), old_key.get()};
  Status r = VerifyTrail(*store, acme, reversed).status();
  EXPECT_EQ(r.code(), absl::StatusCode::kDataLoss) << r;
  EXPECT_THAT(std::string(r.message()), HasSubstr("older than the one that signed a smaller head"));
  // A witnessed head of either key is checked.
  PHIGATE_ASSERT_OK_AND_ASSIGN(std::vector<SignedTreeHead> heads, store->HeadLog(acme));
  ASSERT_GE(heads.size(), 2u);
  PHIGATE_EXPECT_OK(CheckWitnessedHead(*store, heads.front(), v, both));
  PHIGATE_EXPECT_OK(CheckWitnessedHead(*store, heads.back(), v, both));
  EXPECT_EQ(VerifyTrail(*store, acme, TreeHeadKeys()).status().code(),
            absl::StatusCode::kInvalidArgument);
}

TEST_F(TamperTest, RetiredKeySigningPastItsSuccessorIsNamed) {
  // After the rotation, a holder of the retired key appends and signs heads
  // beyond the new key's (a rewrite it could not sign with the new key).
  const TenantId acme("acme");
  AppendSigned(path_, RotatedSigner(), kEvents, kEvents + 8);
  AppendSigned(path_, TestSigner(), kEvents + 8, kEvents + 12);
  auto store = AuditLogStore::Open("sqlite://" + path_).value();
  auto old_key = TestVerifier();
  auto new_key = crypto::Ed25519Verifier::FromRawPublicKey(RotatedSigner()->RawPublicKey()).value();
  const crypto::Ed25519Verifier* both[] = {old_key.get(), new_key.get()};
  Status s = VerifyTrail(*store, acme, both).status();
  EXPECT_EQ(s.code(), absl::StatusCode::kDataLoss) << s;
  EXPECT_THAT(std::string(s.message()), HasSubstr("a retired key signed after its successor"));
  // Named at the first head of the retired key's events that the head log
  // keeps (every 4th size).
  ASSERT_TRUE(FirstBadSeq(s).has_value()) << s;
  EXPECT_GE(*FirstBadSeq(s), static_cast<uint64_t>(kEvents + 8)) << s;
  EXPECT_LT(*FirstBadSeq(s), static_cast<uint64_t>(kEvents + 12)) << s;
}

TEST_F(TamperTest, RecordMovedToAnotherTenantIsDetected) {
  Exec("UPDATE audit_events SET tenant = 'globex' WHERE seq = 3");
  ExpectBad(3, "missing");
}

}  // namespace
}  // namespace phigate::audit
