// Fuzzes the breach module's parsers: the rule table (operator-edited TSV),
// stored incident records (JSON), notice contexts, templates and dates.
// Properties: nothing crashes; a parsed table yields a plan sorted earliest
// first whose dates are valid; an incident that parses re-serialises to JSON
// that parses to the same record.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "phigate/breach/deadlines.h"
#include "phigate/breach/incident.h"
#include "phigate/breach/notices.h"
#include "phigate/breach/rules.h"
#include "phigate/core/check.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace phigate::breach;  // NOLINT
  if (size > 64 * 1024) return 0;   // input cap
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  (void)ParseDate(text.substr(0, 10));
  (void)ParseNoticeContext(text);
  (void)RenderTemplate(text, {{"x", "1"}, {"incident_id", "INC-2026-0001"}});
  if (auto inc = IncidentFromJson(text); inc.ok()) {
    const std::string once = IncidentToJson(*inc);
    auto again = IncidentFromJson(once);
    PHIGATE_CHECK(again.ok(), "re-serialised incident must parse");
    PHIGATE_CHECK(IncidentToJson(*again) == once, "incident JSON must round-trip");
  }
  if (auto table = RuleTable::Parse(text); table.ok()) {
    IncidentFacts f;
    f.discovery = ParseDate("2026-12-31").value();
    f.residents_by_state = {{"CA", 501}, {"NY", 5001}, {"TX", 250}, {"XX", 1}};
    LawEnforcementDelay le;
    le.oral_statement = ParseDate("2027-01-02").value();
    f.le_delay = le;
    auto plan = ComputeObligations(*table, f);
    if (plan.ok()) {
      const auto& obs = plan->obligations;
      for (size_t i = 0; i < obs.size(); ++i) {
        if (obs[i].due) PHIGATE_CHECK(obs[i].due->ok(), "due dates are valid dates");
        if (i > 0 && obs[i].due) {
          PHIGATE_CHECK(obs[i - 1].due.has_value(), "rows without a date come last");
          PHIGATE_CHECK(
              std::chrono::sys_days{*obs[i - 1].due} <= std::chrono::sys_days{*obs[i].due},
              "plan is sorted earliest first");
        }
      }
    }
  }
  return 0;
}
