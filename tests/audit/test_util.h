// Helpers shared by the audit tests. Synthetic values only.
#ifndef PHIGATE_TESTS_AUDIT_TEST_UTIL_H_
#define PHIGATE_TESTS_AUDIT_TEST_UTIL_H_

#include <libpq-fe.h>
#include <unistd.h>

#include <atomic>
#include <cstdlib>
#include <filesystem>
#include <random>
#include <string>

#include "gtest/gtest.h"
#include "phigate/audit/audit_log.h"
#include "phigate/audit/event.h"
#include "phigate/audit/log_store.h"
#include "phigate/crypto/signer.h"
#include "tests/testing/temp_dir.h"

namespace phigate::audit::testing {

inline AuditId Id(std::string_view s) {
  auto r = AuditId::Make(s);
  EXPECT_TRUE(r.ok()) << r.status();
  return r.ok() ? *r : AuditId();
}

// A deterministic signer (fixed test seed).
inline std::shared_ptr<const crypto::Ed25519Signer> TestSigner() {
  auto s = crypto::Ed25519Signer::FromSeed(std::string(32, '\x07'));
  return std::shared_ptr<const crypto::Ed25519Signer>(std::move(s).value());
}
inline std::unique_ptr<crypto::Ed25519Verifier> TestVerifier() {
  return crypto::Ed25519Verifier::FromRawPublicKey(TestSigner()->RawPublicKey()).value();
}

inline AuditEvent SampleEvent(const std::string& tenant, int i) {
  AuditEvent e;
  e.time_us = int64_t{1795000000} * 1000000 + int64_t{i} * 1000;
  e.kind = EventKind::kEgress;
  e.tenant = TenantId(tenant);
  e.user = Id("u" + std::to_string(i % 7));
  e.role = Id("clinician");
  e.feature = Id(i % 2 ? "summarize" : "triage");
  e.purpose = Id("treatment");
  e.request_id = Id("req-" + std::to_string(i));
  e.vendor = Id(i % 3 ? "openai" : "anthropic");
  e.endpoint = Id("/v1/chat/completions");
  e.model = Id("gpt-4o");
  e.baa_id = Id("baa-2026-01");
  e.policy_version = Id("p7");
  e.decision = Decision::kAllow;
  e.outcome = i % 5 == 4 ? Outcome::kBlocked : Outcome::kForwarded;
  e.reasons.push_back(Id("baa_covered"));
  e.AddCategoryCount(PhiCategory::kName, 1 + static_cast<uint32_t>(i % 3));
  e.AddCategoryCount(PhiCategory::kMrn, 1);
  // Trails mix both record versions: i % 4 == 3 is written as before
  // (version 1, nothing recorded), even i sent the MRN as written, the
  // others sent nothing identifiable.
  if (i % 4 != 3) {
    e.sent_as_written.emplace();
    if (i % 2 == 0) e.sent_as_written->emplace_back(PhiCategory::kMrn, 1);
  }
  e.AddOperator(OperatorKind::kTokenize);
  e.tokens_minted = 2;
  BlindIndex b{};
  b[0] = static_cast<uint8_t>(i % 11);
  e.subjects.push_back(b);
  return e;
}

// A fresh directory under TMPDIR, removed at destruction (tests/testing).
using ::phigate::testing::TempDir;

// A unique table prefix per test run, for PostgreSQL.
inline std::string UniquePrefix() {
  static std::atomic<int> n{0};
  std::random_device rd;
  return "t" + std::to_string(::getpid()) + "_" + std::to_string(rd() % 100000) + "_" +
         std::to_string(n++) + "_";
}

inline const char* PgUrl() {
  const char* u = std::getenv("PHIGATE_TEST_PG_URL");
  return (u != nullptr && *u != '\0') ? u : nullptr;
}

// Drops the tables a test created under `prefix` (PostgreSQL only).
inline void DropPgTables(const std::string& prefix) {
  if (PgUrl() == nullptr || prefix.empty()) return;
  PGconn* c = PQconnectdb(PgUrl());
  if (PQstatus(c) == CONNECTION_OK) {
    std::string sql = "SET client_min_messages = warning; DROP TABLE IF EXISTS ";
    const char* tables[] = {"events", "subjects", "subject_buckets", "nodes",
                            "heads",  "head_log", "checkpoints"};
    for (size_t i = 0; i < std::size(tables); ++i) sql += (i ? ", " : "") + prefix + tables[i];
    PQclear(PQexec(c, sql.c_str()));
  }
  PQfinish(c);
}

}  // namespace phigate::audit::testing

#endif  // PHIGATE_TESTS_AUDIT_TEST_UTIL_H_
