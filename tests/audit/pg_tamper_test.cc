// Corruption tests on the PostgreSQL layout (runs when PHIGATE_TEST_PG_URL is
// set): edits made with SQL on the server are detected by VerifyTrail, which
// names the first bad event, and a Merkle node edited inside a row's `nodes`
// column (docs/formats/audit_log.md §6) makes proofs fail against the signed
// root.
#include <libpq-fe.h>

#include "gtest/gtest.h"
#include "phigate/audit/audit_log.h"
#include "phigate/audit/record.h"
#include "tests/audit/test_util.h"
#include "tests/testing/status_matchers.h"

namespace phigate::audit {
namespace {

using testing::SampleEvent;
using testing::TestSigner;
using testing::TestVerifier;

constexpr int kEvents = 20;

class PgTamperTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (testing::PgUrl() == nullptr) GTEST_SKIP() << "PHIGATE_TEST_PG_URL not set";
    opts_.table_prefix = testing::UniquePrefix();
    AuditLogOptions o;
    o.head_log_interval = 4;
    o.max_batch = 1;  // one head per event
    o.sign_interval = std::chrono::microseconds(0);
    auto log = AuditLog::Open(Store(), TestSigner(), o).value();
    for (int i = 0; i < kEvents; ++i) ASSERT_TRUE(log->Append(SampleEvent("acme", i)).ok());
    log.reset();
    conn_ = PQconnectdb(testing::PgUrl());
    ASSERT_EQ(PQstatus(conn_), CONNECTION_OK);
    PHIGATE_ASSERT_OK(Verify());
  }
  void TearDown() override {
    if (conn_ != nullptr) PQfinish(conn_);
    testing::DropPgTables(opts_.table_prefix);
  }

  std::unique_ptr<AuditLogStore> Store() {
    return AuditLogStore::Open(testing::PgUrl(), opts_).value();
  }
  Status Verify() {
    auto store = Store();
    return VerifyTrail(*store, TenantId("acme"), *TestVerifier()).status();
  }
  std::string T(const std::string& table) const { return opts_.table_prefix + table; }
  void Exec(const std::string& sql) {
    PGresult* r = PQexec(conn_, sql.c_str());
    EXPECT_EQ(PQresultStatus(r), PGRES_COMMAND_OK) << PQerrorMessage(conn_);
    PQclear(r);
  }
  // Runs `sql` with one bytea parameter ($1, binary).
  void ExecBytes(const std::string& sql, std::string_view v) {
    const char* values[] = {v.data()};
    const int lengths[] = {static_cast<int>(v.size())};
    const int formats[] = {1};
    PGresult* r = PQexecParams(conn_, sql.c_str(), 1, nullptr, values, lengths, formats, 1);
    EXPECT_EQ(PQresultStatus(r), PGRES_COMMAND_OK) << PQerrorMessage(conn_);
    PQclear(r);
  }
  std::string Bytes(const std::string& sql) {
    PGresult* r = PQexecParams(conn_, sql.c_str(), 0, nullptr, nullptr, nullptr, nullptr, 1);
    std::string out;
    if (PQresultStatus(r) == PGRES_TUPLES_OK && PQntuples(r) == 1) {
      out.assign(PQgetvalue(r, 0, 0), static_cast<size_t>(PQgetlength(r, 0, 0)));
    }
    PQclear(r);
    return out;
  }
  std::string Record(int seq) {
    return Bytes("SELECT record FROM " + T("events") + " WHERE seq = " + std::to_string(seq));
  }
  void SetRecord(int seq, std::string_view rec) {
    ExecBytes("UPDATE " + T("events") + " SET record = $1 WHERE seq = " + std::to_string(seq), rec);
  }
  void ExpectBad(uint64_t seq, std::string_view why) {
    Status s = Verify();
    EXPECT_EQ(s.code(), absl::StatusCode::kDataLoss) << s;
    EXPECT_EQ(FirstBadSeq(s), std::optional<uint64_t>(seq)) << s;
    EXPECT_NE(std::string(s.message()).find(std::string(why)), std::string::npos) << s;
  }

  AuditStoreOptions opts_;
  PGconn* conn_ = nullptr;
};

TEST_F(PgTamperTest, FlippedByteInRecordIsChecksumError) {
  std::string r = Record(7);
  ASSERT_FALSE(r.empty());
  r[30] = static_cast<char>(r[30] ^ 1);
  SetRecord(7, r);
  ExpectBad(7, "checksum");
}

TEST_F(PgTamperTest, EditedFieldWithFixedChecksumAndLeafBreaksTheChain) {
  auto rec = DecodeRecord(Record(5));
  ASSERT_TRUE(rec.ok()) << rec.status();
  rec->event.user = testing::Id("u_attacker");
  const std::string edited = EncodeRecord(*rec).value();
  SetRecord(5, edited);
  ExecBytes("UPDATE " + T("events") + " SET leaf = $1 WHERE seq = 5", HashBytes(LeafHash(edited)));
  ExpectBad(5, "previous-record hash in event seq 6");
}

TEST_F(PgTamperTest, DroppedEventIsNamed) {
  Exec("DELETE FROM " + T("events") + " WHERE seq = 5");
  ExpectBad(5, "missing");
}

TEST_F(PgTamperTest, TruncatedTrailIsNamed) {
  Exec("DELETE FROM " + T("events") + " WHERE seq >= 12");
  ExpectBad(12, "truncated");
}

TEST_F(PgTamperTest, EditedMerkleNodeInARowFailsTheProof) {
  // Node (level 1, idx 0) = H(leaf 0, leaf 1) lives in row 1's `nodes` column;
  // the inclusion proof of leaf 2 in the 20-leaf tree needs it.
  const std::string nodes = Bytes("SELECT nodes FROM " + T("events") + " WHERE seq = 1");
  ASSERT_EQ(nodes.size(), 32u);
  std::string bad = nodes;
  bad[0] = static_cast<char>(bad[0] ^ 1);
  ExecBytes("UPDATE " + T("events") + " SET nodes = $1 WHERE seq = 1", bad);
  auto log = AuditLog::Open(Store(), TestSigner()).value();
  PHIGATE_ASSERT_OK_AND_ASSIGN(InclusionProofResult p, log->ProveInclusion(TenantId("acme"), 2));
  EXPECT_EQ(VerifyInclusion(2, p.head.tree_size, p.leaf, p.path, p.head.root).code(),
            absl::StatusCode::kDataLoss);
}

TEST_F(PgTamperTest, UnsignedTailIsCheckedAndItsRewriteDetectedOnceSigned) {
  // Amortised signing: the first commit after reopening signs (head at 21),
  // the next four stay unsigned for the hour.
  AuditLogOptions o;
  o.sign_interval = std::chrono::hours(1);
  auto log = AuditLog::Open(Store(), TestSigner(), o).value();
  for (int i = 0; i < 5; ++i) PHIGATE_ASSERT_OK(log->Append(SampleEvent("acme", 100 + i)));
  {
    auto store = Store();
    PHIGATE_ASSERT_OK_AND_ASSIGN(VerifyResult v,
                                 VerifyTrail(*store, TenantId("acme"), *TestVerifier()));
    EXPECT_EQ(v.signed_size, static_cast<uint64_t>(kEvents + 1));
    EXPECT_EQ(v.unsigned_events, 4u);
  }
  // Rewrite the newest (unsigned) event with a valid frame and leaf: nothing
  // after it chains to it, so only the next signed head can tell.
  // Rewrites event |seq|'s user with a valid frame and a matching leaf hash.
  const auto rewrite_user = [&](int seq) {
    auto rec = DecodeRecord(Record(seq));
    ASSERT_TRUE(rec.ok()) << rec.status();
    rec->event.user = testing::Id("u_attacker");
    const std::string edited = EncodeRecord(*rec).value();
    SetRecord(seq, edited);
    ExecBytes("UPDATE " + T("events") + " SET leaf = $1 WHERE seq = " + std::to_string(seq),
              HashBytes(LeafHash(edited)));
  };
  const int seq = kEvents + 4;
  rewrite_user(seq);
  PHIGATE_EXPECT_OK(Verify());
  PHIGATE_ASSERT_OK(log->SignHeads());
  ExpectBad(seq, "signed tree head");
  // A signed event edited the same way is caught at once.
  rewrite_user(kEvents);
  ExpectBad(kEvents, "");
}

TEST_F(PgTamperTest, EditedMerkleNodeIsRefusedByTheNextWriter) {
  // Node (level 4, idx 0) is in row 15 and is part of the compact range of
  // the 20-leaf tree: a writer reloading the tree must not extend it.
  const std::string nodes = Bytes("SELECT nodes FROM " + T("events") + " WHERE seq = 15");
  ASSERT_EQ(nodes.size(), 4 * 32u);
  std::string bad = nodes;
  bad[3 * 32] = static_cast<char>(bad[3 * 32] ^ 1);
  ExecBytes("UPDATE " + T("events") + " SET nodes = $1 WHERE seq = 15", bad);
  auto log = AuditLog::Open(Store(), TestSigner()).value();
  EXPECT_EQ(log->Append(SampleEvent("acme", 99)).status().code(), absl::StatusCode::kDataLoss);
}

}  // namespace
}  // namespace phigate::audit
