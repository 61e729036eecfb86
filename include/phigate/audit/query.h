// Queries and reports over the audit trail: filtered events, accounting of
// disclosures per patient (45 CFR 164.528; hipaa-rules.md §6) as Markdown and
// JSON, and JSONL export. Everything returned is PHI-free (ids, enums, counts,
// blind indexes); the patient is named only by a subject blind index.
#ifndef PHIGATE_AUDIT_QUERY_H_
#define PHIGATE_AUDIT_QUERY_H_

#include <cstdint>
#include <functional>
#include <limits>
#include <optional>
#include <string>
#include <vector>

#include "phigate/audit/event.h"
#include "phigate/audit/log_store.h"
#include "phigate/audit/merkle.h"
#include "phigate/core/status.h"

namespace phigate::audit {

struct QueryFilter {
  TenantId tenant;  // required
  std::optional<AuditId> user, feature, vendor;
  std::optional<Outcome> outcome;
  std::optional<EventKind> kind;
  int64_t since_us = std::numeric_limits<int64_t>::min();  // time_us >= since_us
  int64_t until_us = std::numeric_limits<int64_t>::max();  // time_us < until_us
  std::optional<BlindIndex> subject;
  size_t limit = 0;  // 0 = no limit
};

struct StoredEvent {
  uint64_t seq = 0;
  Hash leaf{};
  AuditEvent event;
};

// Calls fn for each matching event in trail order. DataLoss when a stored
// record does not decode (run VerifyTrail to locate it).
Status QueryEach(AuditLogStore& store, const QueryFilter& filter,
                 const std::function<Status(const StoredEvent&)>& fn);
Result<std::vector<StoredEvent>> Query(AuditLogStore& store, const QueryFilter& filter);

// One JSON object (one line, no newline) per event: seq, time (RFC 3339 UTC),
// every field by name, categories by CategoryName, subjects as hex.
std::string EventToJson(const StoredEvent& e);

// One send about a patient (§6.1 content: date, recipient, what, purpose).
// Made from forwarded egress events and from breach/leak events. A send whose
// detected values all left tokenized, surrogated or redacted is listed apart
// (Identifiable() false): no detected value left identifiable, though one the
// detector missed would have.
struct Disclosure {
  uint64_t seq = 0;
  int64_t time_us = 0;
  EventKind kind = EventKind::kEgress;
  AuditId recipient;  // vendor
  AuditId endpoint, model, baa_id;
  AuditId purpose, feature, user, request_id;
  std::vector<std::pair<PhiCategory, uint32_t>> categories;  // found in the request
  // Of those, the values the recipient received as written. Unset for events
  // written before this was recorded: every category then counts as sent.
  std::optional<std::vector<std::pair<PhiCategory, uint32_t>>> sent_as_written;
  std::vector<AuditId> operators;  // names of the operators applied
  // From the same request's ingress event: "answered", "error" (the upstream
  // failed, the client left, or the gateway failed: the vendor may still have
  // received the request), kNotSent (the connection or TLS handshake to the
  // vendor failed before any byte of the request was written),
  // "answer withheld" (by leak detection), or empty (none recorded; breach and
  // leak events).
  std::string delivery;
  static constexpr std::string_view kNotSent = "not sent";

  // A breach or leak event, or a send with a value forwarded as written (or
  // written before that was recorded).
  bool Identifiable() const {
    return kind != EventKind::kEgress || !sent_as_written || !sent_as_written->empty();
  }
  // A send the vendor never received: no disclosure took place.
  bool NotSent() const { return kind == EventKind::kEgress && delivery == kNotSent; }
  // How the accounting lists it: a disclosure, a send whose detected values
  // were all replaced, or a send that never reached the vendor.
  enum class Group { kDisclosure, kDeidentifiedSend, kNotSent };
  Group group() const {
    if (NotSent()) return Group::kNotSent;
    return Identifiable() ? Group::kDisclosure : Group::kDeidentifiedSend;
  }
  // What to list as disclosed: sent_as_written, else (unknown) categories.
  const std::vector<std::pair<PhiCategory, uint32_t>>& Disclosed() const {
    return kind == EventKind::kEgress && sent_as_written ? *sent_as_written : categories;
  }
};

// Disclosures about `subject` in [since_us, until_us), oldest first.
Result<std::vector<Disclosure>> AccountingOfDisclosures(AuditLogStore& store,
                                                        const TenantId& tenant,
                                                        const BlindIndex& subject, int64_t since_us,
                                                        int64_t until_us);
// The same for a patient recorded under several indexes (SubjectIndexesToQuery:
// one per category the identifier can be, and the legacy one): each event
// once, in trail order.
Result<std::vector<Disclosure>> AccountingOfDisclosures(AuditLogStore& store,
                                                        const TenantId& tenant,
                                                        const std::vector<BlindIndex>& subjects,
                                                        int64_t since_us, int64_t until_us);
std::string DisclosuresMarkdown(const TenantId& tenant, const BlindIndex& subject,
                                const std::vector<Disclosure>& d);
std::string DisclosuresJson(const TenantId& tenant, const BlindIndex& subject,
                            const std::vector<Disclosure>& d);
// With every index looked up listed.
std::string DisclosuresMarkdown(const TenantId& tenant, const std::vector<BlindIndex>& subjects,
                                const std::vector<Disclosure>& d);
std::string DisclosuresJson(const TenantId& tenant, const std::vector<BlindIndex>& subjects,
                            const std::vector<Disclosure>& d);

// RFC 3339 UTC with microseconds, and parsing of "2026-11-01" or a full RFC
// 3339 time. InvalidArgument on anything else.
std::string FormatTimeUs(int64_t time_us);
Result<int64_t> ParseTimeUs(std::string_view text);

}  // namespace phigate::audit

#endif  // PHIGATE_AUDIT_QUERY_H_
