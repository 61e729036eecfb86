// AuditEvent: one PHI-free record of what the gateway did.
//
// The type has no field that can carry text: every string is an AuditId (1..128
// characters of [A-Za-z0-9_.:/-], no spaces, checked when made), every other
// field is an enum, a count, a time or a keyed hash. A patient appears only as a
// subject blind index: HMAC-SHA256 of the patient's normalised identifier under
// a per-tenant audit key (see subject.h), so "every disclosure of this patient"
// can be answered without storing who the patient is.
//
// Example:
//   AuditEvent e;
//   e.time_us = NowMicros();
//   e.kind = EventKind::kEgress;
//   e.tenant = tenant;                                  // TenantId
//   PHIGATE_ASSIGN_OR_RETURN(e.user, AuditId::Make("u17"));
//   e.AddCategoryCount(PhiCategory::kMrn, 2);
//   e.subjects.push_back(subject_index);
//   e.outcome = Outcome::kForwarded;
#ifndef PHIGATE_AUDIT_EVENT_H_
#define PHIGATE_AUDIT_EVENT_H_

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "phigate/core/ids.h"
#include "phigate/core/phi_category.h"
#include "phigate/core/status.h"

namespace phigate::audit {

inline constexpr size_t kMaxAuditIdLength = 128;

// A validated identifier: ids, enum names, versions, host/paths. Never text.
class AuditId {
 public:
  AuditId() = default;  // empty: "not set"
  // InvalidArgument unless 1..128 characters of [A-Za-z0-9_.:/-]. The message
  // names the offset of the first bad character, never the value.
  static Result<AuditId> Make(std::string_view raw);
  static bool IsValid(std::string_view raw);
  const std::string& value() const { return value_; }
  bool empty() const { return value_.empty(); }
  friend bool operator==(const AuditId&, const AuditId&) = default;
  friend auto operator<=>(const AuditId&, const AuditId&) = default;

 private:
  explicit AuditId(std::string v) : value_(std::move(v)) {}
  std::string value_;
};

enum class EventKind : uint8_t {
  kEgress = 1,          // a request left (or was refused) towards an upstream model
  kIngress = 2,         // an answer came back
  kReidentify = 3,      // tokens were mapped back to real values for a caller
  kAdmin = 4,           // configuration, keys, retention
  kBreach = 5,          // an impermissible disclosure / incident
  kAccess = 6,          // a person read PHI (console, vault lookup)
  kExport = 7,          // data exported (right of access, bulk de-identification)
  kPolicyOverride = 8,  // a policy was overridden
  kBreakGlass = 9,      // emergency access
  kLeak = 10,           // the leak scanner found PHI that was not sent
};
inline constexpr uint8_t kMaxEventKind = 10;

enum class Decision : uint8_t { kAllow = 1, kDeny = 2 };
enum class Outcome : uint8_t { kForwarded = 1, kBlocked = 2, kError = 3 };

// Reason code of a failed ingress event whose upstream never received a byte
// of the request (connection or TLS handshake failed first): the accounting
// of disclosures marks that send "not sent".
inline constexpr std::string_view kReasonUpstreamNotSent = "upstream_not_sent";

// Operators applied to the request, as a bit set (one bit per operator).
enum class OperatorKind : uint8_t {
  kRedact = 0,
  kTokenize,
  kSurrogate,
  kDateShift,
  kHash,
  kMask,
  kGeneralize,
  kAllow,  // passed through unchanged (BAA covered)
  kBlock,
};
inline constexpr uint8_t kNumOperatorKinds = 9;

std::string_view EventKindName(EventKind k);  // "egress", "ingress", ...
std::optional<EventKind> ParseEventKind(std::string_view s);
std::string_view DecisionName(Decision d);  // "allow" / "deny"
std::string_view OutcomeName(Outcome o);    // "forwarded" / "blocked" / "error"
std::optional<Outcome> ParseOutcome(std::string_view s);
std::string_view OperatorName(OperatorKind o);  // "redact", "tokenize", ...

// 32-byte keyed hash of a patient's normalised identifier (subject.h).
using BlindIndex = std::array<uint8_t, 32>;

struct AuditEvent {
  int64_t time_us = 0;  // microseconds since the Unix epoch, UTC
  EventKind kind = EventKind::kEgress;
  TenantId tenant;  // required
  AuditId user;     // unique user or service principal
  AuditId role;
  AuditId feature;
  AuditId purpose;  // purpose of use: treatment, operations, research...
  AuditId request_id;
  AuditId vendor;  // recipient
  AuditId endpoint;
  AuditId model;
  AuditId baa_id;
  AuditId policy_version;
  Decision decision = Decision::kAllow;
  Outcome outcome = Outcome::kForwarded;
  std::vector<AuditId> reasons;  // reason codes, e.g. "no_baa", "category_blocked:SSN"
  std::vector<std::pair<PhiCategory, uint32_t>> category_counts;
  // Of category_counts, the values forwarded as written (operator allow):
  // what reached the recipient identifiable. The rest were tokenized,
  // surrogated, redacted or blocked. Unset in events written before it was
  // recorded (record version 1): the accounting of disclosures then has to
  // count every category as disclosed.
  std::optional<std::vector<std::pair<PhiCategory, uint32_t>>> sent_as_written;
  uint32_t operators = 0;  // bit set of OperatorKind
  uint32_t tokens_minted = 0;
  uint32_t tokens_reidentified = 0;
  std::vector<BlindIndex> subjects;  // patients concerned

  void AddCategoryCount(PhiCategory c, uint32_t n);
  void AddOperator(OperatorKind o) { operators |= uint32_t{1} << static_cast<uint32_t>(o); }
  bool HasOperator(OperatorKind o) const { return (operators >> static_cast<uint32_t>(o)) & 1u; }
  // Sorts and merges reasons, categories and subjects into their canonical
  // order (what Encode writes and Decode requires).
  void Canonicalize();
  // OK when the event can be encoded: tenant valid, enums in range, no more
  // than 255 reasons / subjects, counts non-zero.
  Status Validate() const;

  friend bool operator==(const AuditEvent&, const AuditEvent&) = default;
};

}  // namespace phigate::audit

#endif  // PHIGATE_AUDIT_EVENT_H_
