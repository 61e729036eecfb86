// Lint tests: each check fires on a minimal file, with the right code, severity
// and position, and stays quiet on the demo config.
#include "phigate/policy/lint.h"

#include <algorithm>
#include <set>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "phigate/policy/policy.h"
#include "tests/policy/policy_fixture.h"
#include "tests/testing/status_matchers.h"

namespace phigate::policy {
namespace {

using ::testing::HasSubstr;

LintOptions At2026() {
  LintOptions o;
  o.now = testing::Day("2026-11-30");
  return o;
}

std::vector<Diagnostic> Lint(std::string_view yaml) { return LintString(yaml, "t.yaml", At2026()); }

const Diagnostic* Find(const std::vector<Diagnostic>& diags, std::string_view code,
                       std::string_view substr = "") {
  for (const Diagnostic& d : diags) {
    if (d.code == code && d.message.find(substr) != std::string::npos) return &d;
  }
  return nullptr;
}

std::string Dump(const std::vector<Diagnostic>& diags) {
  std::string out;
  for (const Diagnostic& d : diags) out += FormatDiagnostic(d) + "\n";
  return out;
}

constexpr std::string_view kHead = R"yaml(version: 1
keys: {master_key_env: PHIGATE_MASTER_KEY}
tenants:
  - id: demo
    jurisdictions: [US-HIPAA]
)yaml";

std::string WithHead(std::string_view rest) { return std::string(kHead) + std::string(rest); }

TEST(LintTest, DemoConfigIsClean) {
  const auto diags = LintFile(phigate::testing::SourceDir() + "/config/demo.yaml", At2026());
  EXPECT_FALSE(HasErrors(diags)) << Dump(diags);
  for (const Diagnostic& d : diags) {
    EXPECT_NE(d.severity, Severity::kWarning) << FormatDiagnostic(d);
  }
}

TEST(LintTest, UnknownKeysAreErrorsWithPositionAndSuggestion) {
  const auto diags = Lint(WithHead(R"yaml(vendors:
  - name: oa
    kind: openai
    api_base: https://oa.example/v1
    models: [m1]
    regoin: us
featuers: []
)yaml"));
  const Diagnostic* d = Find(diags, "PG002", "'regoin'");
  ASSERT_NE(d, nullptr) << Dump(diags);
  EXPECT_EQ(d->severity, Severity::kError);
  EXPECT_EQ(d->loc.line, 11u);
  EXPECT_EQ(d->loc.column, 5u);
  EXPECT_THAT(d->hint, HasSubstr("region"));
  const Diagnostic* top = Find(diags, "PG002", "'featuers'");
  ASSERT_NE(top, nullptr);
  EXPECT_EQ(top->loc.line, 12u);
  EXPECT_THAT(top->hint, HasSubstr("features"));
  EXPECT_THAT(FormatDiagnostic(*d), HasSubstr("t.yaml:11:5: error: PG002"));
}

TEST(LintTest, OtherModulesSectionsPassThroughUntouched) {
  const std::string yaml = WithHead(R"yaml(gateway:
  listen: 127.0.0.1:0
  some_gateway_key: {nested: [1, 2]}
server: {threads: 4}
store: {url: "sqlite:///tmp/x.db"}
audit: {anything: true}
breach: {anything: true}
vault: {anything: true}
)yaml");
  const auto diags = Lint(yaml);
  EXPECT_EQ(Find(diags, "PG002"), nullptr) << Dump(diags);
  ParseOutput p = ParsePolicy(yaml, "t.yaml");
  ASSERT_NE(p.config, nullptr);
  ASSERT_TRUE(p.config->other_sections.contains("gateway"));
  EXPECT_EQ(p.config->other_sections.at("gateway"),
            "gateway:\n  listen: 127.0.0.1:0\n  some_gateway_key: {nested: [1, 2]}\n");
  EXPECT_EQ(p.config->other_sections.at("server"), "server: {threads: 4}\n");
}

TEST(LintTest, SyntaxErrorHasALine) {
  const auto diags = Lint("version: 1\ntenants:\n  - id: [unclosed\n");
  ASSERT_FALSE(diags.empty());
  EXPECT_EQ(diags[0].code, "PG001");
  EXPECT_GE(diags[0].loc.line, 3u);
}

TEST(LintTest, DeepNestingIsRefused) {
  const auto diags = Lint(std::string(5000, '[') + std::string(5000, ']'));
  ASSERT_EQ(diags.size(), 1u);
  EXPECT_EQ(diags[0].code, "PG001");
}

struct ExampleRow {
  const char* file;
  std::vector<std::string> must_have;  // codes
  bool errors;
};

TEST(LintTest, ExampleConfigsShowEachCheck) {
  const std::vector<ExampleRow> rows = {
      {"no-baa.yaml", {"PG010"}, true},
      {"uncovered-model.yaml", {"PG011"}, true},
      {"expiring-baa.yaml", {"PG012", "PG013"}, false},
      {"typos.yaml", {"PG002"}, true},
      {"weak-settings.yaml", {"PG030", "PG031", "PG033"}, true},
      {"contradictions.yaml", {"PG021", "PG022"}, true},
  };
  for (const ExampleRow& r : rows) {
    SCOPED_TRACE(r.file);
    const auto diags =
        LintFile(phigate::testing::SourceDir() + "/config/examples/" + r.file, At2026());
    std::set<std::string> codes;
    for (const Diagnostic& d : diags) codes.insert(d.code);
    for (const std::string& c : r.must_have)
      EXPECT_TRUE(codes.contains(c)) << c << "\n" << Dump(diags);
    EXPECT_EQ(HasErrors(diags), r.errors) << Dump(diags);
  }
}

TEST(LintTest, PhiToVendorWithoutBaaPointsAtTheRoute) {
  const auto diags = Lint(WithHead(R"yaml(vendors:
  - {name: nb, kind: openai, api_base: "https://nb.example/v1", models: [m1]}
features:
  - name: f
    purpose: operations
    phi: {NAME: allow, DATE: tokenize}
    routes:
      - {vendor: nb, models: [m1]}
)yaml"));
  const Diagnostic* d = Find(diags, "PG010");
  ASSERT_NE(d, nullptr) << Dump(diags);
  EXPECT_EQ(d->loc.line, 13u);
  EXPECT_THAT(d->message, HasSubstr("NAME"));
  EXPECT_THAT(d->message, ::testing::Not(HasSubstr("DATE")));
  // Tokenized data needs no BAA: no diagnostic.
  const auto ok = Lint(WithHead(R"yaml(vendors:
  - {name: nb, kind: openai, api_base: "https://nb.example/v1", models: [m1]}
features:
  - name: f
    purpose: operations
    phi: {NAME: tokenize}
    routes:
      - {vendor: nb, models: [m1]}
)yaml"));
  EXPECT_FALSE(HasErrors(ok)) << Dump(ok);
}

std::string ExpiringAt(std::string_view expires) {
  return WithHead(absl::StrCat(R"yaml(vendors:
  - name: a
    kind: anthropic
    api_base: https://a.example/v1
    models: [c1]
    baa: {id: B1, signed: 2026-01-01, expires: )yaml",
                               ToAbsl(expires), R"yaml(, endpoints: [messages], models: [c1]}
)yaml"));
}

TEST(LintTest, BaaExpiryWarningWindowIs30Days) {
  EXPECT_NE(Find(Lint(ExpiringAt("2026-12-29")), "PG012"), nullptr);  // 29 days
  EXPECT_NE(Find(Lint(ExpiringAt("2026-11-30")), "PG012"), nullptr);  // today
  EXPECT_EQ(Find(Lint(ExpiringAt("2026-12-30")), "PG012"), nullptr);  // 30 days
  const auto expired = Lint(ExpiringAt("2026-11-29"));
  EXPECT_NE(Find(expired, "PG013", "expired"), nullptr);
  EXPECT_EQ(Find(expired, "PG012"), nullptr);
}

std::string BaaCovering(std::string_view endpoints, std::string_view models) {
  return WithHead(absl::StrCat(R"yaml(vendors:
  - name: a
    kind: anthropic
    api_base: https://a.example/v1
    models: [c1]
    baa: {id: B1, signed: 2026-01-01, expires: 2027-06-30, endpoints: )yaml",
                               ToAbsl(endpoints), ", models: ", ToAbsl(models), R"yaml(}
)yaml"));
}

// A BAA claiming to cover everything is a warning, for endpoints as for models.
TEST(LintTest, BaaCoveringEveryEndpointOrModelIsFlagged) {
  EXPECT_EQ(Find(Lint(BaaCovering("[messages]", "[c1]")), "PG021"), nullptr);
  EXPECT_NE(Find(Lint(BaaCovering("[messages]", "[\"*\"]")), "PG021", "every model"), nullptr);
  EXPECT_NE(Find(Lint(BaaCovering("[\"*\"]", "[c1]")), "PG021", "every endpoint"), nullptr);
}

TEST(LintTest, RouteToUndeclaredVendorOrModel) {
  const auto diags = Lint(WithHead(R"yaml(vendors:
  - {name: v, kind: openai, api_base: "https://v.example/v1", models: [m1]}
features:
  - name: f
    purpose: operations
    routes:
      - {vendor: ghost, models: [m1]}
      - {vendor: v, models: [m2]}
)yaml"));
  EXPECT_NE(Find(diags, "PG020", "'ghost'"), nullptr) << Dump(diags);
  EXPECT_NE(Find(diags, "PG020", "'m2'"), nullptr) << Dump(diags);
  EXPECT_TRUE(HasErrors(diags));
}

TEST(LintTest, WeakTlsOnlyMattersOffLoopback) {
  const auto loopback = Lint(WithHead(R"yaml(vendors:
  - {name: l, kind: self-hosted, inside_boundary: true, api_base: "http://127.0.0.1:9/v1", models: [m], tls: {verify: false}}
)yaml"));
  EXPECT_EQ(Find(loopback, "PG030"), nullptr) << Dump(loopback);
  const auto remote = Lint(WithHead(R"yaml(vendors:
  - {name: r, kind: openai, api_base: "http://r.example/v1", models: [m]}
)yaml"));
  EXPECT_NE(Find(remote, "PG030"), nullptr) << Dump(remote);
  // A name that only starts like a loopback address is not one.
  const auto lookalike = Lint(WithHead(R"yaml(vendors:
  - {name: r, kind: openai, api_base: "http://127.0.0.1.attacker-synthetic.example/v1", models: [m]}
)yaml"));
  EXPECT_NE(Find(lookalike, "PG030"), nullptr) << Dump(lookalike);
  const auto wide = Lint(WithHead(R"yaml(vendors:
  - {name: l, kind: self-hosted, inside_boundary: true, api_base: "http://127.1.2.3:9/v1", models: [m]}
)yaml"));
  EXPECT_EQ(Find(wide, "PG030"), nullptr) << Dump(wide);
}

TEST(LintTest, MissingMasterKeyIsAWarning) {
  const auto diags = Lint("version: 1\ntenants:\n  - {id: t, jurisdictions: [US-HIPAA]}\n");
  const Diagnostic* d = Find(diags, "PG031");
  ASSERT_NE(d, nullptr);
  EXPECT_EQ(d->severity, Severity::kWarning);
}

TEST(LintTest, StructuralErrors) {
  const auto diags = Lint(R"yaml(version: 1
keys: {master_key_env: PHIGATE_MASTER_KEY}
tenants:
  - {id: t, jurisdictions: [US-HIPAA, ATLANTIS]}
  - {id: t, jurisdictions: [US-HIPAA]}
users:
  - {id: u, tenant: nowhere, roles: [surgeon], api_key_sha256: not-hex}
  - {id: u1, tenant: t, roles: [clinician], api_key_sha256: ee344f245bd9fd0e3f948bcd6de5d56dfc64157241269b9c8c4f857be90da3d4}
  - {id: u2, tenant: t, roles: [analyst], api_key_sha256: EE344F245BD9FD0E3F948BCD6DE5D56DFC64157241269B9C8C4F857BE90DA3D4}
  - {id: u3, tenant: t, roles: [analyst], key_env: SHARED_KEY}
  - {id: u4, tenant: t, roles: [analyst], key_env: SHARED_KEY}
  - {id: u5, tenant: t, roles: [analyst], key_env: pg_live_SYNTHETICSECRET123}
vendors:
  - name: v
    kind: openai
    api_base: https://v.example/v1
    models: [m]
    baa: {id: B, signed: 2026-02-30, expires: 2026-01-01, endpoints: [x], models: [m]}
features:
  - {name: f, purpose: gossip, phi: {SPLEEN: allow, NAME: maybe}, routes: [{vendor: v, models: [m]}]}
)yaml");
  EXPECT_NE(Find(diags, "PG006", "ATLANTIS"), nullptr) << Dump(diags);
  EXPECT_NE(Find(diags, "PG005", "tenant 't'"), nullptr);
  EXPECT_NE(Find(diags, "PG005", "user 'u2' has the same API key as user 'u1'"), nullptr)
      << Dump(diags);
  EXPECT_NE(Find(diags, "PG005", "user 'u4' reads its key from the same variable as user 'u3'"),
            nullptr)
      << Dump(diags);
  // A key pasted where the variable's name goes is refused and never echoed.
  EXPECT_NE(Find(diags, "PG003", "user 'u5': key_env is not the name"), nullptr) << Dump(diags);
  EXPECT_EQ(Dump(diags).find("SYNTHETICSECRET"), std::string::npos) << Dump(diags);
  EXPECT_NE(Find(diags, "PG006", "nowhere"), nullptr);
  EXPECT_NE(Find(diags, "PG003", "unknown role"), nullptr);
  EXPECT_NE(Find(diags, "PG003", "64 hex"), nullptr);
  EXPECT_NE(Find(diags, "PG003", "not a valid date"), nullptr);
  EXPECT_NE(Find(diags, "PG003", "purpose"), nullptr);
  EXPECT_NE(Find(diags, "PG003", "unknown PHI category"), nullptr);
  EXPECT_NE(Find(diags, "PG003", "unknown action"), nullptr);
}

// A half-written `residency:` dropped a built-in's requirement (TX: us).
TEST(LintTest, AnEmptyResidencyIsAnError) {
  for (const char* value : {"", " []"}) {
    const auto diags =
        Lint(WithHead(std::string("jurisdictions:\n  - id: TX\n    residency:") + value + "\n"));
    EXPECT_NE(Find(diags, "PG003", "residency lists no region"), nullptr) << Dump(diags);
  }
}

TEST(LintTest, LoaderRefusesWhatLintCallsAnError) {
  const std::string yaml = WithHead(R"yaml(vendors:
  - {name: nb, kind: openai, api_base: "https://nb.example/v1", models: [m1]}
features:
  - {name: f, purpose: operations, phi: {NAME: allow}, routes: [{vendor: nb, models: [m1]}]}
)yaml");
  const auto strict = Policy::LoadString(yaml, "t.yaml", LoadOptions{});
  ASSERT_FALSE(strict.ok());
  EXPECT_EQ(strict.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(strict.status().message()), HasSubstr("PG010"));
  EXPECT_THAT(std::string(strict.status().message()), HasSubstr("t.yaml:"));
  LoadOptions lax;
  lax.reject_lint_errors = false;
  PHIGATE_EXPECT_OK(Policy::LoadString(yaml, "t.yaml", lax));
  // Structural errors are refused either way.
  EXPECT_FALSE(Policy::LoadString("version: 1\ntenantz: []\n", "t.yaml", lax).ok());
}

TEST(LintTest, MessagesCarryNoKeyMaterial) {
  // A plaintext key pasted into the hash field must not be echoed back.
  const auto diags = Lint(WithHead(R"yaml(users:
  - {id: u, tenant: demo, roles: [analyst], api_key_sha256: pg_live_SECRET_VALUE_123}
)yaml"));
  ASSERT_NE(Find(diags, "PG003"), nullptr);
  for (const Diagnostic& d : diags) {
    EXPECT_THAT(FormatDiagnostic(d), ::testing::Not(HasSubstr("SECRET_VALUE")));
  }
}

}  // namespace
}  // namespace phigate::policy
