// Notification plan rendering and notice drafts. Drafts are Markdown rendered
// from templates the tenant can edit (templates/breach/*.md) with a small
// "{{placeholder}}" substitution: unknown placeholders are an error, so a typo
// in a template cannot silently drop a required element.
//
// Example:
//   PHIGATE_ASSIGN_OR_RETURN(NoticeContext ctx, LoadNoticeContext("notice.json"));
//   PHIGATE_ASSIGN_OR_RETURN(auto drafts, DraftNotices(inc, plan, ctx, DefaultTemplateDir()));
//   for (const NoticeDraft& d : drafts) Write(out_dir + "/" + d.filename, d.markdown);
#ifndef PHIGATE_BREACH_NOTICES_H_
#define PHIGATE_BREACH_NOTICES_H_

#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "phigate/breach/deadlines.h"
#include "phigate/breach/incident.h"
#include "phigate/core/status.h"

namespace phigate::breach {

// Replaces every "{{name}}" (name = [a-z0-9_]+, spaces inside the braces
// allowed) by vars[name]. InvalidArgument naming the first unknown placeholder
// or an unterminated "{{".
Result<std::string> RenderTemplate(std::string_view tmpl,
                                   const std::map<std::string, std::string>& vars);

// What the tenant writes once per incident (no PHI of any individual: this
// text goes to every recipient). Missing fields render as "[TO FILL: ...]"
// and are listed in NoticeDraft::missing.
struct NoticeContext {
  std::string entity_name;
  std::string entity_type;        // "Healthcare provider", "Health plan", "Business associate"
  std::string what_happened;      // 164.404(c)(1)(A), without the dates (added from the incident)
  std::string steps_individuals;  // (C)
  std::string what_we_are_doing;  // (D)
  std::string toll_free_phone;    // (E) contact procedures: at least one of these four
  std::string contact_email;
  std::string website;
  std::string postal_address;
  std::string safeguards_before;  // HHS portal: safeguards in place before the breach
  std::string actions_taken;      // HHS portal: actions taken in response
  std::string breach_type;  // HHS portal: "Hacking/IT Incident", "Unauthorized Access/Disclosure"
  std::string location;     // HHS portal: "Network Server", "Other"
  // FTC Health Breach Notification Rule (PHR vendors, 16 CFR 318.6(a)): full
  // identification, to the extent known, of any third party that acquired
  // the information. Used only in the FTC drafts.
  std::string third_parties;
};
// JSON object with the field names above. InvalidArgument on malformed input.
Result<NoticeContext> ParseNoticeContext(std::string_view json);
Result<NoticeContext> LoadNoticeContext(const std::string& path);

struct NoticeDraft {
  // "individual-notice.md", "hhs-portal.md", "ftc-notice.md", "media-CA.md", "state-TX.md"
  std::string filename;
  std::string markdown;
  std::vector<std::string> missing;  // required elements with no text yet
};

// paths::TemplateDir(): $PHIGATE_TEMPLATE_DIR, the installed tree, the source
// tree's templates/breach (phigate/core/paths.h).
std::string DefaultTemplateDir();

// Plain-language list of the PHI types involved ("full names; Social Security numbers").
std::string DescribePhiTypes(const CategorySet& categories);

// The plan as a Markdown table, earliest first, with days left from `today`.
std::string PlanMarkdown(const PlanResult& plan, const Date& today);

// Drafts for the plan's obligations: the individual notice, HHS portal fields
// (when HHS is owed), one media statement per state with a media obligation,
// one notice per state with regulator/AG obligations, and plan.md. Reads the
// templates individual_notice.md, hhs_portal.md, media_statement.md,
// state_ag_notice.md from template_dir.
Result<std::vector<NoticeDraft>> DraftNotices(const Incident& inc, const PlanResult& plan,
                                              const NoticeContext& ctx,
                                              const std::string& template_dir);

}  // namespace phigate::breach

#endif  // PHIGATE_BREACH_NOTICES_H_
