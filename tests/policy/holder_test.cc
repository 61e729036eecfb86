// Reload tests: a good file swaps atomically, a bad file keeps the old policy,
// the watcher reloads on file change, request and SIGHUP, and stops cleanly.
#include "phigate/policy/holder.h"

#include <chrono>
#include <csignal>
#include <filesystem>
#include <fstream>
#include <random>
#include <string>
#include <thread>

#include "gtest/gtest.h"
#include "tests/policy/policy_fixture.h"
#include "tests/testing/status_matchers.h"

namespace phigate::policy {
namespace {

std::string PolicyWithModel(std::string_view model) {
  return absl::StrCat(R"yaml(version: 1
keys: {master_key_env: PHIGATE_MASTER_KEY}
tenants:
  - {id: acme, jurisdictions: [US-HIPAA]}
users:
  - {id: doc, tenant: acme, roles: [clinician], api_key_sha256: ee344f245bd9fd0e3f948bcd6de5d56dfc64157241269b9c8c4f857be90da3d4}
vendors:
  - {name: local, kind: self-hosted, inside_boundary: true, api_base: "http://127.0.0.1:1/v1", models: [)yaml",
                      ToAbsl(model), R"yaml(]}
features:
  - {name: chat, purpose: operations, routes: [{vendor: local, models: ["*"]}]}
)yaml");
}

class HolderTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::random_device rd;
    dir_ = std::filesystem::temp_directory_path() /
           ("phigate_policy_holder_" + std::to_string(rd()) + std::to_string(::getpid()));
    std::filesystem::create_directories(dir_);
    path_ = (dir_ / "phigate.yaml").string();
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  void Write(const std::string& text) {
    // Write-then-rename, as editors and config managers do.
    const std::string tmp = path_ + ".tmp";
    {
      std::ofstream out(tmp, std::ios::trunc);
      out << text;
    }
    std::filesystem::rename(tmp, path_);
  }

  bool Allowed(const PolicyHolder& h, std::string_view model) {
    return h.Current()
        ->Decide({"acme", "doc", "chat", "local", "", model, testing::Day("2026-03-01")})
        .allowed;
  }

  // Waits (bounded) for `pred`; the bound only guards against a hang.
  template <class F>
  static bool Eventually(F pred) {
    for (int i = 0; i < 2000; ++i) {
      if (pred()) return true;
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
    return pred();
  }

  std::filesystem::path dir_;
  std::string path_;
};

TEST_F(HolderTest, GoodFileSwapsBadFileKeepsOld) {
  Write(PolicyWithModel("m1"));
  PHIGATE_ASSERT_OK_AND_ASSIGN(auto holder, PolicyHolder::Create(path_, LoadOptions{}));
  EXPECT_EQ(holder->generation(), 1u);
  const std::shared_ptr<const Policy> first = holder->Current();
  EXPECT_TRUE(Allowed(*holder, "m1"));

  Write("version: 1\ntenants: [unclosed\n");
  const Status bad = holder->Reload();
  EXPECT_EQ(bad.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(holder->Current(), first);
  EXPECT_EQ(holder->generation(), 1u);
  EXPECT_EQ(holder->last_error().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_TRUE(Allowed(*holder, "m1"));

  // A file lint calls an error (PHI to a vendor without a BAA) is refused too.
  std::string leak = PolicyWithModel("m1");
  leak.replace(leak.find("features:"), 9,
               R"yaml(  - {name: nb, kind: openai, api_base: "https://nb.example/v1", models: [x]}
features:
  - {name: leak, purpose: operations, phi: {NAME: allow}, routes: [{vendor: nb, models: [x]}]})yaml");
  Write(leak);
  const Status lint_error = holder->Reload();
  EXPECT_NE(std::string(lint_error.message()).find("PG010"), std::string::npos) << lint_error;
  EXPECT_EQ(holder->Current(), first);

  std::filesystem::remove(path_);
  EXPECT_EQ(holder->Reload().code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(holder->Current(), first);

  Write(PolicyWithModel("m2"));
  PHIGATE_ASSERT_OK(holder->Reload());
  EXPECT_EQ(holder->generation(), 2u);
  EXPECT_NE(holder->Current(), first);
  EXPECT_TRUE(Allowed(*holder, "m2"));
  EXPECT_FALSE(Allowed(*holder, "m1"));
  PHIGATE_EXPECT_OK(holder->last_error());
  // The old snapshot stays usable by whoever still holds it.
  EXPECT_TRUE(first->Decide({"acme", "doc", "chat", "local", "", "m1", testing::Day("2026-03-01")})
                  .allowed);
}

TEST_F(HolderTest, CreateFailsOnABadFirstFile) {
  Write("version: 1\n");
  EXPECT_FALSE(PolicyHolder::Create(path_, LoadOptions{}).ok());
}

TEST_F(HolderTest, WatcherReloadsOnFileChange) {
  Write(PolicyWithModel("m1"));
  PHIGATE_ASSERT_OK_AND_ASSIGN(auto holder, PolicyHolder::Create(path_, LoadOptions{}));
  std::atomic<int> failures{0};
  WatchOptions opts;
  opts.poll_interval = std::chrono::milliseconds(10);
  opts.on_reload = [&](const Status& s, uint64_t) {
    if (!s.ok()) failures.fetch_add(1);
  };
  PHIGATE_ASSERT_OK_AND_ASSIGN(auto watcher, PolicyWatcher::Start(*holder, opts));
  Write(PolicyWithModel("m2-longer-name"));
  ASSERT_TRUE(Eventually([&] { return holder->generation() == 2; }));
  EXPECT_TRUE(Allowed(*holder, "m2-longer-name"));

  Write("version: 1\ntenants: [unclosed\n");
  ASSERT_TRUE(Eventually([&] { return failures.load() >= 1; }));
  EXPECT_EQ(holder->generation(), 2u);
  EXPECT_TRUE(Allowed(*holder, "m2-longer-name"));
  watcher->Stop();
  watcher->Stop();  // idempotent
}

TEST_F(HolderTest, WatcherReloadsOnRequestAndSighup) {
  Write(PolicyWithModel("m1"));
  PHIGATE_ASSERT_OK_AND_ASSIGN(auto holder, PolicyHolder::Create(path_, LoadOptions{}));
  WatchOptions opts;
  opts.poll_interval = std::chrono::milliseconds(20);
  PHIGATE_ASSERT_OK_AND_ASSIGN(auto watcher, PolicyWatcher::Start(*holder, opts));
  watcher->RequestReload();
  ASSERT_TRUE(Eventually([&] { return watcher->attempts() >= 1; }));
  EXPECT_EQ(holder->generation(), 2u);

  PolicyWatcher::InstallSighupHandler();
  const uint64_t before = watcher->attempts();
  ASSERT_EQ(std::raise(SIGHUP), 0);
  ASSERT_TRUE(Eventually([&] { return watcher->attempts() > before; }));
  std::signal(SIGHUP, SIG_DFL);
}

TEST_F(HolderTest, ConcurrentReadersDuringReloads) {
  Write(PolicyWithModel("m1"));
  PHIGATE_ASSERT_OK_AND_ASSIGN(auto holder, PolicyHolder::Create(path_, LoadOptions{}));
  std::atomic<bool> stop{false};
  std::atomic<uint64_t> decisions{0};
  std::thread reader([&] {
    while (!stop.load()) {
      auto p = holder->Current();
      const Decision& d =
          p->Decide({"acme", "doc", "chat", "local", "", "m1", testing::Day("2026-03-01")});
      ASSERT_FALSE(d.reasons.empty());
      decisions.fetch_add(1);
    }
  });
  for (int i = 0; i < 20; ++i) {
    Write(PolicyWithModel(i % 2 == 0 ? "m1" : "m1, m3"));
    PHIGATE_EXPECT_OK(holder->Reload());
  }
  stop.store(true);
  reader.join();
  EXPECT_EQ(holder->generation(), 21u);
  EXPECT_GT(decisions.load(), 0u);
}

}  // namespace
}  // namespace phigate::policy
