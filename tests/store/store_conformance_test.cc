// One conformance suite for every Store backend (Trillian's storage testers,
// LevelDB's table_test): memory and SQLite always, PostgreSQL when
// PHIGATE_TEST_PG_URL is set (each run in its own schema).
#include <libpq-fe.h>

#include <atomic>
#include <cstdlib>
#include <thread>

#include "gtest/gtest.h"
#include "phigate/store/store.h"
#include "tests/store/store_testing.h"
#include "tests/testing/status_matchers.h"

namespace phigate::store {
namespace {

class StoreConformanceTest : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    url_ = testing::FreshStoreUrl(GetParam());
    if (url_.empty()) GTEST_SKIP() << "PHIGATE_TEST_PG_URL not set";
    auto s = Store::Open({.url = url_});
    ASSERT_TRUE(s.ok()) << s.status();
    store_ = std::move(*s);
    a_ = Tenant("tenant-a");
    b_ = Tenant("tenant-b");
  }
  std::unique_ptr<TenantStore> Tenant(const std::string& id) {
    auto t = store_->ForTenant(TenantId(id));
    EXPECT_TRUE(t.ok());
    return std::move(*t);
  }
  // Runs fn in a transaction of `ts` and expects OK.
  template <class F>
  void Tx(TenantStore& ts, F fn) {
    PHIGATE_ASSERT_OK(ts.RunInTransaction([&](Transaction& tx) -> Status { return fn(tx); }));
  }
  std::optional<Record> GetOne(TenantStore& ts, std::string_view ns, std::string_view key) {
    std::optional<Record> out;
    Tx(ts, [&](Transaction& tx) -> Status {
      PHIGATE_ASSIGN_OR_RETURN(out, tx.Get(ns, key));
      return absl::OkStatus();
    });
    return out;
  }

  std::string url_;
  std::unique_ptr<Store> store_;
  std::unique_ptr<TenantStore> a_, b_;
};

TEST_P(StoreConformanceTest, PutGetRoundTripsBinaryValues) {
  const std::string bin("\0\x01\xff\x7f value", 11);
  Tx(*a_, [&](Transaction& tx) -> Status {
    PHIGATE_RETURN_IF_ERROR(tx.Put("ns", "k1", bin, 42));
    return tx.Put("ns", "empty", "", 7);
  });
  auto r = GetOne(*a_, "ns", "k1");
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->value, bin);
  EXPECT_EQ(r->ts, 42);
  EXPECT_EQ(r->key, "k1");
  auto e = GetOne(*a_, "ns", "empty");
  ASSERT_TRUE(e.has_value());
  EXPECT_EQ(e->value, "");
  EXPECT_FALSE(GetOne(*a_, "ns", "missing").has_value());
  EXPECT_FALSE(GetOne(*a_, "other-ns", "k1").has_value());
}

TEST_P(StoreConformanceTest, PutOverwritesValueAndTs) {
  Tx(*a_, [](Transaction& tx) { return tx.Put("ns", "k", "v1", 1); });
  Tx(*a_, [](Transaction& tx) { return tx.Put("ns", "k", "v2", 2); });
  auto r = GetOne(*a_, "ns", "k");
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->value, "v2");
  EXPECT_EQ(r->ts, 2);
}

TEST_P(StoreConformanceTest, PutIfAbsentInsertsOnlyOnce) {
  bool first = false, second = true;
  Tx(*a_, [&](Transaction& tx) -> Status {
    PHIGATE_ASSIGN_OR_RETURN(first, tx.PutIfAbsent("ns", "k", "winner", 1));
    PHIGATE_ASSIGN_OR_RETURN(second, tx.PutIfAbsent("ns", "k", "loser", 2));
    return absl::OkStatus();
  });
  EXPECT_TRUE(first);
  EXPECT_FALSE(second);
  EXPECT_EQ(GetOne(*a_, "ns", "k")->value, "winner");
}

TEST_P(StoreConformanceTest, ReplaceIfEqualIsACompareAndSet) {
  const std::string bin("\0old\xff", 5);
  Tx(*a_, [&](Transaction& tx) { return tx.Put("ns", "k", bin, 9); });
  bool wrong = true, right = false, again = true, absent = true, other_tenant = true;
  Tx(*a_, [&](Transaction& tx) -> Status {
    PHIGATE_ASSIGN_OR_RETURN(wrong, tx.ReplaceIfEqual("ns", "k", "not it", "x"));
    PHIGATE_ASSIGN_OR_RETURN(right, tx.ReplaceIfEqual("ns", "k", bin, "new"));
    PHIGATE_ASSIGN_OR_RETURN(again, tx.ReplaceIfEqual("ns", "k", bin, "newer"));
    PHIGATE_ASSIGN_OR_RETURN(absent, tx.ReplaceIfEqual("ns", "missing", "", "y"));
    return absl::OkStatus();
  });
  Tx(*b_, [&](Transaction& tx) -> Status {
    PHIGATE_ASSIGN_OR_RETURN(other_tenant, tx.ReplaceIfEqual("ns", "k", "new", "theirs"));
    return absl::OkStatus();
  });
  EXPECT_FALSE(wrong);
  EXPECT_TRUE(right);
  EXPECT_FALSE(again);
  EXPECT_FALSE(absent);
  EXPECT_FALSE(other_tenant);
  auto r = GetOne(*a_, "ns", "k");
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->value, "new");
  EXPECT_EQ(r->ts, 9) << "the timestamp is kept";
  EXPECT_FALSE(GetOne(*a_, "ns", "missing").has_value()) << "nothing inserted";
}

TEST_P(StoreConformanceTest, BatchOperationsKeepOrder) {
  std::vector<Record> recs = {{"b", "vb", 1}, {"a", "va", 2}, {"b", "dup", 3}, {"c", "vc", 4}};
  std::vector<bool> flags;
  Tx(*a_, [&](Transaction& tx) -> Status {
    PHIGATE_RETURN_IF_ERROR(tx.Put("ns", "c", "existing", 9));
    PHIGATE_ASSIGN_OR_RETURN(flags, tx.PutIfAbsentMany("ns", recs));
    return absl::OkStatus();
  });
  EXPECT_EQ(flags, (std::vector<bool>{true, true, false, false}));
  std::vector<std::optional<Record>> got;
  const std::vector<std::string> keys = {"c", "zz", "a", "b"};
  Tx(*a_, [&](Transaction& tx) -> Status {
    PHIGATE_ASSIGN_OR_RETURN(got, tx.GetMany("ns", keys));
    return absl::OkStatus();
  });
  ASSERT_EQ(got.size(), 4u);
  EXPECT_EQ(got[0]->value, "existing");
  EXPECT_FALSE(got[1].has_value());
  EXPECT_EQ(got[2]->value, "va");
  EXPECT_EQ(got[3]->value, "vb");

  std::vector<Record> upserts = {{"a", "A", 5}, {"d", "D", 6}, {"a", "A2", 7}};
  Tx(*a_, [&](Transaction& tx) { return tx.PutMany("ns", upserts); });
  EXPECT_EQ(GetOne(*a_, "ns", "a")->value, "A2");
  EXPECT_EQ(GetOne(*a_, "ns", "d")->ts, 6);
}

TEST_P(StoreConformanceTest, ScanByPrefixInKeyOrderWithPaging) {
  Tx(*a_, [](Transaction& tx) -> Status {
    for (const char* k : {"p/3", "p/1", "q/1", "p/2", "o/9", "p/10"}) {
      PHIGATE_RETURN_IF_ERROR(tx.Put("ns", k, k, 1));
    }
    return absl::OkStatus();
  });
  std::vector<Record> page1, page2, all, past_end, past_prefix;
  Tx(*a_, [&](Transaction& tx) -> Status {
    PHIGATE_ASSIGN_OR_RETURN(page1, tx.Scan("ns", "p/", {.limit = 2}));
    PHIGATE_ASSIGN_OR_RETURN(page2,
                             tx.Scan("ns", "p/", {.start_after = page1.back().key, .limit = 10}));
    PHIGATE_ASSIGN_OR_RETURN(all, tx.Scan("ns", "", {}));
    // After the last key of all (the memory store once started over there)
    // and after the last key of the prefix: nothing.
    PHIGATE_ASSIGN_OR_RETURN(past_end, tx.Scan("ns", "", {.start_after = "q/1"}));
    PHIGATE_ASSIGN_OR_RETURN(past_prefix, tx.Scan("ns", "p/", {.start_after = "p/3"}));
    return absl::OkStatus();
  });
  EXPECT_TRUE(past_end.empty());
  EXPECT_TRUE(past_prefix.empty());
  ASSERT_EQ(page1.size(), 2u);
  EXPECT_EQ(page1[0].key, "p/1");
  EXPECT_EQ(page1[1].key, "p/10");
  ASSERT_EQ(page2.size(), 2u);
  EXPECT_EQ(page2[0].key, "p/2");
  EXPECT_EQ(page2[1].key, "p/3");
  EXPECT_EQ(all.size(), 6u);
  EXPECT_EQ(all.front().key, "o/9");
}

TEST_P(StoreConformanceTest, DeleteDeletePrefixAndDeleteOlderThan) {
  Tx(*a_, [](Transaction& tx) -> Status {
    PHIGATE_RETURN_IF_ERROR(tx.Put("ns", "x/1", "1", 10));
    PHIGATE_RETURN_IF_ERROR(tx.Put("ns", "x/2", "2", 20));
    PHIGATE_RETURN_IF_ERROR(tx.Put("ns", "y/1", "3", 30));
    return tx.Put("other", "x/1", "4", 5);
  });
  bool deleted = false, again = true;
  int64_t n_prefix = 0, n_old = 0;
  Tx(*a_, [&](Transaction& tx) -> Status {
    PHIGATE_ASSIGN_OR_RETURN(deleted, tx.Delete("ns", "x/1"));
    PHIGATE_ASSIGN_OR_RETURN(again, tx.Delete("ns", "x/1"));
    PHIGATE_ASSIGN_OR_RETURN(n_prefix, tx.DeletePrefix("ns", "x/"));
    PHIGATE_ASSIGN_OR_RETURN(n_old, tx.DeleteOlderThan("ns", 31));
    return absl::OkStatus();
  });
  EXPECT_TRUE(deleted);
  EXPECT_FALSE(again);
  EXPECT_EQ(n_prefix, 1);
  EXPECT_EQ(n_old, 1);
  EXPECT_TRUE(GetOne(*a_, "other", "x/1").has_value());
}

TEST_P(StoreConformanceTest, TenantsNeverSeeEachOthersRecords) {
  Tx(*a_, [](Transaction& tx) { return tx.Put("ns", "shared-key", "a-secret", 1); });
  EXPECT_FALSE(GetOne(*b_, "ns", "shared-key").has_value());
  std::vector<Record> scanned;
  bool deleted = true;
  int64_t n = -1;
  Tx(*b_, [&](Transaction& tx) -> Status {
    PHIGATE_ASSIGN_OR_RETURN(scanned, tx.Scan("ns", "", {}));
    PHIGATE_ASSIGN_OR_RETURN(deleted, tx.Delete("ns", "shared-key"));
    PHIGATE_ASSIGN_OR_RETURN(n, tx.DeleteOlderThan("ns", 1000));
    PHIGATE_ASSIGN_OR_RETURN(bool ins, tx.PutIfAbsent("ns", "shared-key", "b-value", 1));
    return ins ? absl::OkStatus() : absl::InternalError("b could not insert its own key");
  });
  EXPECT_TRUE(scanned.empty());
  EXPECT_FALSE(deleted);
  EXPECT_EQ(n, 0);
  EXPECT_EQ(GetOne(*a_, "ns", "shared-key")->value, "a-secret");
  EXPECT_EQ(GetOne(*b_, "ns", "shared-key")->value, "b-value");
  PHIGATE_ASSERT_OK_AND_ASSIGN(auto tenants, store_->ListTenants());
  ASSERT_EQ(tenants.size(), 2u);
  EXPECT_EQ(tenants[0].value(), "tenant-a");
}

TEST_P(StoreConformanceTest, FailedTransactionLeavesNothingBehind) {
  Tx(*a_, [](Transaction& tx) { return tx.Put("ns", "keep", "old", 1); });
  Status s = a_->RunInTransaction([](Transaction& tx) -> Status {
    PHIGATE_RETURN_IF_ERROR(tx.Put("ns", "new", "v", 1));
    PHIGATE_RETURN_IF_ERROR(tx.Put("ns", "keep", "changed", 2));
    PHIGATE_ASSIGN_OR_RETURN(bool d, tx.Delete("ns", "keep"));
    (void)d;
    return absl::FailedPreconditionError("caller aborts");
  });
  EXPECT_EQ(s.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_FALSE(GetOne(*a_, "ns", "new").has_value());
  EXPECT_EQ(GetOne(*a_, "ns", "keep")->value, "old");
}

TEST_P(StoreConformanceTest, RejectsBadKeysWithoutEchoingThem) {
  Status s = a_->RunInTransaction(
      [](Transaction& tx) -> Status { return tx.Put("ns", std::string("bad\0key", 7), "v", 1); });
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(std::string(s.message()).find("bad"), std::string::npos);
  s = a_->RunInTransaction([](Transaction& tx) { return tx.Put("", "k", "v", 1); });
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
}

TEST_P(StoreConformanceTest, ConcurrentPutIfAbsentHasExactlyOneWinner) {
  // Two Store instances (separate connections) when the backend is shared.
  std::unique_ptr<Store> second;
  if (GetParam() != "memory") {
    auto s = Store::Open({.url = url_});
    ASSERT_TRUE(s.ok()) << s.status();
    second = std::move(*s);
  }
  constexpr int kThreads = 4, kKeys = 20;
  std::atomic<int> winners[kKeys] = {};
  std::atomic<int> errors{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      Store& st = (second != nullptr && t % 2 == 1) ? *second : *store_;
      auto ts = st.ForTenant(TenantId("tenant-a"));
      if (!ts.ok()) {
        ++errors;
        return;
      }
      for (int k = 0; k < kKeys; ++k) {
        Status s = (*ts)->RunInTransaction([&](Transaction& tx) -> Status {
          PHIGATE_ASSIGN_OR_RETURN(
              bool ins, tx.PutIfAbsent("race", absl::StrCat("k", k), absl::StrCat("t", t), 1));
          if (ins) ++winners[k];
          return absl::OkStatus();
        });
        if (!s.ok()) ++errors;
      }
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(errors.load(), 0);
  for (int k = 0; k < kKeys; ++k) EXPECT_EQ(winners[k].load(), 1) << k;
}

TEST_P(StoreConformanceTest, DataSurvivesReopenAndSchemaIsVersioned) {
  if (GetParam() == "memory") GTEST_SKIP() << "memory store is not persistent";
  Tx(*a_, [](Transaction& tx) { return tx.Put("ns", "k", "v", 1); });
  a_.reset();
  b_.reset();
  store_.reset();
  PHIGATE_ASSERT_OK_AND_ASSIGN(auto reopened, Store::Open({.url = url_}));
  PHIGATE_ASSERT_OK_AND_ASSIGN(int version, reopened->SchemaVersion());
  EXPECT_EQ(version, 4);  // SQLite and PostgreSQL are both at level 4
  PHIGATE_ASSERT_OK_AND_ASSIGN(auto a, reopened->ForTenant(TenantId("tenant-a")));
  std::optional<Record> r;
  PHIGATE_ASSERT_OK(a->RunInTransaction([&](Transaction& tx) -> Status {
    PHIGATE_ASSIGN_OR_RETURN(r, tx.Get("ns", "k"));
    return absl::OkStatus();
  }));
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->value, "v");
}

INSTANTIATE_TEST_SUITE_P(Backends, StoreConformanceTest,
                         ::testing::Values("memory", "sqlite", "postgres"),
                         [](const auto& p) { return p.param; });

TEST(StoreOpenTest, UnknownSchemeIsInvalidArgument) {
  EXPECT_EQ(Store::Open({.url = "mysql://x"}).status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(Store::Open({.url = "sqlite://"}).status().code(), absl::StatusCode::kInvalidArgument);
}

// Counts the schemas named `schema` on the test server.
int SchemaCount(const std::string& schema) {
  PGconn* c = PQconnectdb(testing::PgUrl());
  int n = -1;
  if (PQstatus(c) == CONNECTION_OK) {
    const char* params[] = {schema.c_str()};
    PGresult* r = PQexecParams(c, "SELECT count(*) FROM pg_namespace WHERE nspname = $1", 1,
                               nullptr, params, nullptr, nullptr, 0);
    if (PQresultStatus(r) == PGRES_TUPLES_OK) n = std::atoi(PQgetvalue(r, 0, 0));
    PQclear(r);
  }
  PQfinish(c);
  return n;
}

// The schemas FreshStoreUrl names are dropped again (at exit; here by hand),
// so a long-lived server does not keep one per test.
TEST(CreatedSchemasTest, DropAllDropsTheSchemasOfThisProcess) {
  if (testing::PgUrl() == nullptr) GTEST_SKIP() << "PHIGATE_TEST_PG_URL not set";
  const std::string url = testing::FreshStoreUrl("postgres");
  const std::string schema = url.substr(url.find("phigate_schema=") + 15);
  {
    auto s = Store::Open({.url = url});
    ASSERT_TRUE(s.ok()) << s.status();
    auto t = (*s)->ForTenant(TenantId("tenant-a"));
    ASSERT_TRUE(t.ok());
    PHIGATE_ASSERT_OK((*t)->RunInTransaction(
        [](Transaction& tx) -> Status { return tx.Put("ns", "k", "v", 1); }));
  }
  ASSERT_EQ(SchemaCount(schema), 1);
  EXPECT_GE(testing::CreatedSchemas::Get().DropAll(), 1);
  EXPECT_EQ(SchemaCount(schema), 0);
  EXPECT_EQ(testing::CreatedSchemas::Get().DropAll(), 0);  // nothing left to drop
}

}  // namespace
}  // namespace phigate::store
