// Property test: for random policies and random requests (seeded PRNG), no
// decision lets an identifying category (allow, surrogate) through to a vendor
// without an active BAA covering that exact vendor + endpoint + model, and every
// decision respects minimum necessary and the jurisdiction floors.
#include <random>
#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "phigate/policy/policy.h"
#include "tests/testing/status_matchers.h"

namespace phigate::policy {
namespace {

constexpr Day kBase = 20500;  // 2026-02-16
const std::vector<std::string> kEndpoints = {"chat/completions", "responses", "messages"};
const std::vector<std::string> kRegions = {"us", "us-east-1", "eu", ""};

class Gen {
 public:
  explicit Gen(uint64_t seed) : rng_(seed) {}
  int Int(int lo, int hi) { return std::uniform_int_distribution<int>(lo, hi)(rng_); }
  bool Coin(int percent = 50) { return Int(0, 99) < percent; }
  template <class T>
  const T& Pick(const std::vector<T>& v) {
    return v[static_cast<size_t>(Int(0, static_cast<int>(v.size()) - 1))];
  }
  Action AnyAction() { return static_cast<Action>(Int(0, 4)); }

  PolicyConfig Config() {
    PolicyConfig cfg;
    cfg.version = "prop";
    cfg.jurisdictions = BuiltinJurisdictions();
    for (int i = 0; i < 2; ++i) {
      Jurisdiction j;
      j.id = "J" + std::to_string(i);
      j.floors.fill(Action::kAllow);
      for (int k = 0; k < 4; ++k) j.floors[static_cast<size_t>(Int(0, 22))] = AnyAction();
      j.require_zero_data_retention = Coin(30);
      j.require_no_training = Coin(30);
      if (Coin(30)) j.residency = {Coin() ? "us" : "eu"};
      cfg.jurisdictions.push_back(j);
    }
    const int nv = Int(1, 4);
    for (int i = 0; i < nv; ++i) {
      Vendor v;
      v.name = "v" + std::to_string(i);
      v.kind = static_cast<VendorKind>(Int(0, 4));
      v.inside_boundary = v.kind == VendorKind::kSelfHosted && Coin();
      v.region = Pick(kRegions);
      const int ne = Int(1, 3);
      for (int e = 0; e < ne; ++e) v.endpoints.push_back(kEndpoints[static_cast<size_t>(e)]);
      const int nm = Int(1, 4);
      for (int m = 0; m < nm; ++m) v.models.push_back({"m" + std::to_string(m), "", {}});
      const int nb = Int(0, 3);
      for (int b = 0; b < nb; ++b) {
        Baa baa;
        baa.id = v.name + "-baa" + std::to_string(b);
        baa.signed_day = kBase + Int(-400, 200);
        baa.expires_day = baa.signed_day + Int(0, 400);
        for (const std::string& e : kEndpoints) {
          if (Coin(60)) baa.endpoints.push_back(e);
        }
        if (Coin(10)) baa.endpoints.push_back("*");
        for (int m = 0; m < 5; ++m) {
          if (Coin(50)) baa.models.push_back("m" + std::to_string(m));
        }
        if (Coin(10)) baa.models.push_back("m*");
        if (Coin(20)) baa.regions = {Pick(kRegions)};
        baa.zero_data_retention = Coin();
        baa.no_training = Coin();
        v.baas.push_back(baa);
      }
      cfg.vendors.push_back(v);
    }
    const int nf = Int(1, 4);
    for (int i = 0; i < nf; ++i) {
      Feature f;
      f.name = "f" + std::to_string(i);
      f.purpose = "treatment";
      f.roles = static_cast<RoleSet>(Int(1, 7));
      f.reidentify_answers = Coin();
      for (int k = 0; k < 8; ++k) f.phi[static_cast<size_t>(Int(0, 22))] = AnyAction();
      f.unlisted = Coin() ? Action::kRedact : Action::kBlock;
      f.on_missing_baa = static_cast<OnMissingBaa>(Int(0, 3));
      for (const Vendor& v : cfg.vendors) {
        if (!Coin(70)) continue;
        Route r;
        r.vendor = v.name;
        if (Coin(30)) {
          r.models = {"*"};
        } else {
          for (const VendorModel& m : v.models) {
            if (Coin()) r.models.push_back(m.name);
          }
        }
        f.routes.push_back(r);
      }
      cfg.features.push_back(f);
    }
    const std::vector<std::string> jids = {"US-HIPAA", "CA", "NY", "TX", "J0", "J1"};
    for (int i = 0; i < 2; ++i) {
      Tenant t;
      t.id = "t" + std::to_string(i);
      for (const std::string& j : jids) {
        if (Coin(40)) t.jurisdictions.push_back(j);
      }
      if (t.jurisdictions.empty()) t.jurisdictions.push_back("US-HIPAA");
      if (Coin(30)) t.features.push_back(Pick(cfg.features).name);
      cfg.tenants.push_back(t);
      for (int u = 0; u < 2; ++u) {
        User user;
        user.id = t.id + "-u" + std::to_string(u);
        user.tenant = t.id;
        user.roles = static_cast<RoleSet>(Int(1, 7));
        cfg.users.push_back(user);
      }
    }
    return cfg;
  }

  std::string Maybe(const std::string& real, const char* fake) { return Coin(90) ? real : fake; }

 private:
  std::mt19937_64 rng_;
};

bool Glob(const std::string& p, const std::string& v) {
  if (p == "*") return true;
  if (!p.empty() && p.back() == '*') return v.compare(0, p.size() - 1, p, 0, p.size() - 1) == 0;
  return p == v;
}

// Independent oracle: is identifying data permitted to this target at time t?
bool Permitted(const PolicyConfig& cfg, const Tenant& tenant, const Vendor& v,
               const std::string& endpoint, const std::string& model, int64_t t) {
  // Inside the boundary: permitted, unless it declares a region the tenant's
  // residency rules exclude.
  const bool in_boundary = v.kind == VendorKind::kSelfHosted && v.inside_boundary;
  bool zdr = false, nt = false;
  for (const std::string& jid : tenant.jurisdictions) {
    const Jurisdiction* j = cfg.FindJurisdiction(jid);
    if (j == nullptr) return false;
    zdr = zdr || j->require_zero_data_retention;
    nt = nt || j->require_no_training;
    if (!j->residency.empty() && (!in_boundary || !v.region.empty())) {
      bool ok = false;
      for (const std::string& r : j->residency) {
        ok = ok || (!v.region.empty() && v.region.rfind(r, 0) == 0);
      }
      if (!ok) return false;
    }
  }
  if (in_boundary) return true;
  for (const Baa& b : v.baas) {
    const bool active = t >= b.signed_day * 86400 && t < (b.expires_day + 1) * 86400;
    bool e_ok = false, m_ok = false;
    for (const std::string& e : b.endpoints) e_ok = e_ok || Glob(e, endpoint);
    for (const std::string& m : b.models) m_ok = m_ok || Glob(m, model);
    bool r_ok = b.regions.empty();
    for (const std::string& r : b.regions) r_ok = r_ok || r == v.region;
    if (active && e_ok && m_ok && r_ok && (!zdr || b.zero_data_retention) &&
        (!nt || b.no_training)) {
      return true;
    }
  }
  return false;
}

TEST(PolicyPropertyTest, NoIdentifierReachesAVendorWithoutAnActiveCoveringBaa) {
  Gen g(0x5eed'f00d);
  size_t checked = 0, allowed = 0, identifying = 0;
  for (int round = 0; round < 300; ++round) {
    const PolicyConfig cfg = g.Config();
    PHIGATE_ASSERT_OK_AND_ASSIGN(auto policy, Policy::FromConfig(cfg));
    for (int i = 0; i < 200; ++i) {
      const Tenant& tenant = g.Pick(cfg.tenants);
      const User& user = g.Pick(cfg.users);
      const Feature& feature = g.Pick(cfg.features);
      const Vendor& vendor = g.Pick(cfg.vendors);
      const std::string model = g.Maybe(g.Pick(vendor.models).name, "mX");
      std::string endpoint = g.Coin(20) ? "" : g.Maybe(g.Pick(vendor.endpoints), "files");
      // Times near BAA boundaries, where off-by-one errors live.
      int64_t t = (kBase + g.Int(-500, 500)) * 86400 + g.Int(0, 86399);
      if (!vendor.baas.empty() && g.Coin(50)) {
        const Baa& b = g.Pick(vendor.baas);
        const int64_t edges[] = {b.active_from() - 1, b.active_from(), b.active_until() - 1,
                                 b.active_until()};
        t = edges[g.Int(0, 3)];
      }
      const std::string user_id = g.Maybe(user.id, "ghost");
      const std::string feature_name = g.Maybe(feature.name, "fX");
      const std::string vendor_name = g.Maybe(vendor.name, "vX");
      DecisionRequest req{
          tenant.id, user_id, feature_name, vendor_name, endpoint, model, absl::FromUnixSeconds(t)};
      const Decision& d = policy->Decide(req);
      ++checked;
      if (!d.allowed) {
        for (PhiCategory c : AllCategories()) ASSERT_EQ(d.action(c), Action::kBlock);
        continue;
      }
      ++allowed;
      // Allowed implies every id was known and consistent.
      ASSERT_EQ(req.user, user.id);
      ASSERT_EQ(user.tenant, tenant.id);
      ASSERT_NE(user.roles & feature.roles, 0);
      const std::string ep = endpoint.empty() ? vendor.endpoints[0] : endpoint;
      const bool permitted = Permitted(cfg, tenant, vendor, ep, model, t);
      ASSERT_EQ(d.baa_covered, permitted) << "round " << round << " request " << i;
      for (PhiCategory c : AllCategories()) {
        const auto ci = static_cast<size_t>(c);
        const Action a = d.action(c);
        if (PassesIdentifying(a)) {
          ++identifying;
          ASSERT_TRUE(permitted) << "identifying " << CategoryName(c) << " to " << vendor.name
                                 << " round " << round << " request " << i;
        }
        // Minimum necessary: never looser than declared (or the unlisted action).
        const Action declared = feature.phi[ci].value_or(feature.unlisted);
        ASSERT_GE(static_cast<int>(a), static_cast<int>(declared));
        // Jurisdiction floors: never looser than any of the tenant's.
        for (const std::string& jid : tenant.jurisdictions) {
          const Jurisdiction* j = cfg.FindJurisdiction(jid);
          ASSERT_NE(j, nullptr);
          ASSERT_GE(static_cast<int>(a), static_cast<int>(j->floors[ci]));
        }
      }
      ASSERT_EQ(d.reidentify, feature.reidentify_answers && (user.roles & kReidentifyRoles) != 0);
    }
  }
  EXPECT_EQ(checked, 60000u);
  // The generator must exercise both outcomes, or the property proves nothing.
  EXPECT_GT(allowed, 1000u);
  EXPECT_GT(identifying, 1000u);
}

}  // namespace
}  // namespace phigate::policy
