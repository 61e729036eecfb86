// Fuzzes the policy loader and lint over arbitrary bytes (policy files are
// operator-written, but a bad file must never crash the gateway on reload).
// Properties: lint never throws or crashes; when a file loads, every decision it
// makes keeps identifying categories away from targets without coverage.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "phigate/policy/lint.h"
#include "phigate/policy/policy.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace phigate::policy;
  if (size > 64 * 1024) return 0;  // input cap
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  LintOptions lint;
  lint.now = absl::FromUnixSeconds(1796083200);  // fixed: 2026-12-01
  (void)LintString(text, "fuzz.yaml", lint);
  LoadOptions opts;
  opts.lint = lint;
  opts.reject_lint_errors = false;
  auto loaded = Policy::LoadString(text, "fuzz.yaml", opts);
  if (!loaded.ok()) return 0;
  const Policy& p = **loaded;
  const PolicyConfig& cfg = p.config();
  for (const Tenant& t : cfg.tenants) {
    for (const Feature& f : cfg.features) {
      for (const Vendor& v : cfg.vendors) {
        for (const VendorModel& m : v.models) {
          const Decision& d =
              p.DecideForRoles({t.id, "", f.name, v.name, "", m.name, lint.now}, kAllRoles);
          if (!d.allowed) continue;
          for (phigate::PhiCategory c : phigate::AllCategories()) {
            if (PassesIdentifying(d.action(c)) && !d.baa_covered) __builtin_trap();
          }
        }
      }
    }
  }
  return 0;
}
