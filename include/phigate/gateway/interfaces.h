// The gateway's seams: small interfaces for every module the request path
// depends on (auth, policy, vault, audit, leak scan). `phigate serve` wires
// them to the real modules (src/gateway/real_adapters.cc); tests use fakes.
//
// Every type here carries ids, categories, counts and reasons, never PHI text,
// except the arguments of TokenVault (the original value it must store).
//
// Example:
//   Principal who = auth.Authenticate("pg_live_...").value();
//   Decision d = policy.Decide({who, "scribe", "openai", "https://...", "gpt-4o"}).value();
//   if (!d.allowed) refuse(403);
//   Action a = d.ActionFor(PhiCategory::kName);  // kTokenize
#ifndef PHIGATE_GATEWAY_INTERFACES_H_
#define PHIGATE_GATEWAY_INTERFACES_H_

#include <array>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "phigate/core/finding.h"
#include "phigate/core/ids.h"
#include "phigate/core/phi_category.h"
#include "phigate/core/status.h"

namespace phigate::gateway {

// What the transform stage does with one PHI category (the policy's decision table).
enum class Action : uint8_t {
  kAllow,      // send the original text
  kTokenize,   // replace by an opaque typed token kept in the vault
  kSurrogate,  // replace by a realistic fake value kept in the vault
  kRedact,     // replace by a placeholder, irreversible
  kBlock,      // refuse the whole request if the category is present
};
std::string_view ActionName(Action a);

// Who is calling, from the API key. Bound to exactly one tenant.
struct Principal {
  TenantId tenant;
  UserId user;
  std::vector<std::string> roles;
  std::string key_id;           // a stable, non-secret id of the API key (for audit)
  std::string default_feature;  // feature bound to the key; "" = must come from the header
};

// Verifies an API key. Unauthenticated for an unknown key; the message never
// quotes the key.
class Authenticator {
 public:
  virtual ~Authenticator() = default;
  virtual Result<Principal> Authenticate(std::string_view api_key) const = 0;
};

struct DecisionRequest {
  const Principal* principal = nullptr;
  std::string_view feature;
  std::string_view vendor;    // the policy's vendor id, e.g. "openai"
  std::string_view endpoint;  // upstream base URL
  std::string_view model;     // the model the upstream will be asked for
};

// The policy decision for one request. PHI-free.
struct Decision {
  bool allowed = false;
  std::vector<std::string> reasons;  // human-readable, PHI-free; the first explains a deny
  std::array<Action, kNumPhiCategories> actions{};  // per category, default kAllow(0)
  std::string policy_version;           // hash or version of the loaded policy (cache keys, audit)
  std::string baa_id;                   // "" when none applies
  std::string purpose;                  // the feature's declared purpose
  std::string token_scope = "request";  // "request", "conversation" or "tenant"
  // Tokens/surrogates in the answer are mapped back for this caller (feature and role allow).
  bool reidentify = false;

  Action ActionFor(PhiCategory c) const { return actions[static_cast<size_t>(c)]; }
  void SetAll(Action a) { actions.fill(a); }
};

// The policy engine. Decide() runs per request: must be fast and thread-safe.
// PermissionDenied/NotFound are turned into a refusal; any error refuses.
class PolicyDecider {
 public:
  virtual ~PolicyDecider() = default;
  virtual Result<Decision> Decide(const DecisionRequest& request) const = 0;
  // True once a valid policy is loaded (for /readyz).
  virtual bool loaded() const = 0;
};

// Reversible replacements, bound to one tenant. Thread-safe.
class TokenVault {
 public:
  virtual ~TokenVault() = default;
  // Returns the token for `original` in `scope`, minting one if new. The same
  // value gets the same token within the scope. Any error must refuse the request.
  virtual Result<std::string> Tokenize(PhiCategory category, std::string_view original,
                                       std::string_view scope) = 0;
  // Tokens for many values at once (one vault transaction), in request order.
  // The default calls Tokenize() for each.
  virtual Result<std::vector<std::string>> TokenizeBatch(
      const std::vector<std::pair<PhiCategory, std::string_view>>& values, std::string_view scope) {
    return EachValue(values,
                     [&](PhiCategory c, std::string_view v) { return Tokenize(c, v, scope); });
  }
  // TokenizeBatch for a scope the caller tokenizes into only this once (a
  // request's own scope): the vault may skip its value index for it. The
  // default is TokenizeBatch.
  virtual Result<std::vector<std::string>> TokenizeBatchOnce(
      const std::vector<std::pair<PhiCategory, std::string_view>>& values, std::string_view scope) {
    return TokenizeBatch(values, scope);
  }
  // Same with a realistic surrogate of the same category.
  virtual Result<std::string> Surrogate(PhiCategory category, std::string_view original,
                                        std::string_view scope) = 0;
  // Surrogates for many values at once (one vault transaction), in request
  // order. The default calls Surrogate() for each.
  virtual Result<std::vector<std::string>> SurrogateBatch(
      const std::vector<std::pair<PhiCategory, std::string_view>>& values, std::string_view scope) {
    return EachValue(values,
                     [&](PhiCategory c, std::string_view v) { return Surrogate(c, v, scope); });
  }
  // SurrogateBatch in which a new candidate that `avoid` holds is drawn again,
  // as a collision is: one whose words the request keeps as text would be
  // put back there in the answer. The default ignores `avoid`.
  virtual Result<std::vector<std::string>> SurrogateBatchAvoiding(
      const std::vector<std::pair<PhiCategory, std::string_view>>& values, std::string_view scope,
      const std::function<bool(std::string_view candidate)>& avoid) {
    (void)avoid;
    return SurrogateBatch(values, scope);
  }
  // Breach containment: a new data key encrypts from now on (old ones still
  // decrypt). Vaults without key management refuse.
  virtual Status RotateKey() { return absl::UnimplementedError("this vault cannot rotate keys"); }

 protected:
  // The batch defaults: fn(category, value) for each value, in order; the
  // first error fails the batch.
  template <class Fn>
  static Result<std::vector<std::string>> EachValue(
      const std::vector<std::pair<PhiCategory, std::string_view>>& values, Fn fn) {
    std::vector<std::string> out;
    out.reserve(values.size());
    for (const auto& [c, v] : values) {
      Result<std::string> t = fn(c, v);
      if (!t.ok()) return t.status();
      out.push_back(std::move(t).value());
    }
    return out;
  }
};

// Hands out tenant-bound vaults. Thread-safe.
class VaultProvider {
 public:
  virtual ~VaultProvider() = default;
  virtual Result<std::shared_ptr<TokenVault>> ForTenant(const TenantId& tenant) = 0;
  virtual bool ready() const = 0;  // store open and keys loaded (for /readyz)
};

enum class AuditPhase : uint8_t {
  kEgress,
  kIngress,
  kRefused,
  kBreach,  // a leak-scan containment action (api "breach.containment")
};
enum class AuditOutcome : uint8_t { kForwarded, kBlocked, kError, kAnswered, kCached };

// Reason code of an ingress record whose upstream never received a byte of
// the request (the connection or TLS handshake failed first); the accounting
// of disclosures lists such a send as not sent (audit::kReasonUpstreamNotSent).
inline constexpr std::string_view kReasonUpstreamNotSent = "upstream_not_sent";

// One PHI-free audit event. There is no field for text by construction.
struct AuditRecord {
  AuditPhase phase = AuditPhase::kEgress;
  AuditOutcome outcome = AuditOutcome::kForwarded;
  TenantId tenant;
  UserId user;
  std::vector<std::string> roles;
  std::string key_id;
  std::string feature;
  std::string purpose;
  std::string request_id;
  std::string api;  // "openai.chat", "openai.embeddings", "openai.responses", "anthropic.messages"
  std::string vendor;
  std::string endpoint;
  std::string model;
  std::string baa_id;
  std::string policy_version;
  std::vector<std::string> reasons;
  std::array<uint32_t, kNumPhiCategories> category_counts{};
  std::array<uint32_t, 5> action_counts{};  // indexed by Action
  // Values of each category forwarded as written (Action::kAllow): what the
  // recipient received identifiable.
  std::array<uint32_t, kNumPhiCategories> sent_as_written{};
  uint32_t tokens_minted = 0;
  uint32_t tokens_reidentified = 0;
  int http_status = 0;
  // The patients concerned: hex of their subject blind indexes (keyed HMACs
  // from SubjectIndexer, never the identifiers), sorted, without duplicates.
  std::vector<std::string> subject_refs;
};

// Durably commits audit events. Commit() returns only when the event survives
// a crash of the process; any error refuses the request (no audit, no egress).
class AuditSink {
 public:
  virtual ~AuditSink() = default;
  virtual Status Commit(const AuditRecord& record) = 0;
  virtual bool ready() const = 0;
};

// Turns a patient identifier found in a request into its subject blind index
// for the audit trail (in `serve`: audit::SubjectIndex under the tenant's
// audit key), so "every disclosure of this patient" can be answered without
// storing who the patient is. Thread-safe.
class SubjectIndexer {
 public:
  virtual ~SubjectIndexer() = default;
  // True for the categories whose values name a patient (MRN, health plan
  // beneficiary number, SSN).
  virtual bool NamesPatient(PhiCategory c) const {
    return c == PhiCategory::kMrn || c == PhiCategory::kHealthPlan || c == PhiCategory::kSsn;
  }
  // Hex of the blind index (64 digits). InvalidArgument when the identifier
  // normalises to nothing; messages never quote it.
  // `category` is the finding's (one NamesPatient() accepts): an MRN and an SSN
  // with the same digits are two patients.
  virtual Result<std::string> Index(const TenantId& tenant, PhiCategory category,
                                    std::string_view identifier) const = 0;
};

enum class LeakVerdict : uint8_t {
  kClean,     // deliver the answer
  kWithhold,  // refuse it (502) and deliver nothing
  kRedact,    // deliver it with LeakScanResult::redact replaced by "[REDACTED]"
};

// One PHI value of the request and what was sent upstream for it. Holds PHI:
// in memory only, never logged.
struct SentValue {
  PhiCategory category = PhiCategory::kName;
  std::string original;
  std::string replacement;  // token, surrogate or placeholder; "" = sent as is
};

// What the leak scanner knows about the request an answer belongs to.
// Pointers and views live for the duration of the call.
struct LeakScanContext {
  const Principal* who = nullptr;
  std::string_view request_id;
  std::string_view feature;
  std::string_view vendor;
  std::string_view policy_version;
  std::string_view scope;       // the token scope ("conv:<id>", "tenant" or the request id)
  std::string_view session_id;  // the conversation (x-phigate-conversation) or the request id
  const std::vector<SentValue>* sent_values = nullptr;
  std::string_view sent_text;  // the de-identified request text that left
  bool from_cache = false;     // the answer came from the gateway's own cache
};

struct LeakScanResult {
  LeakVerdict verdict = LeakVerdict::kClean;
  // kRedact: substrings of the scanned answer to replace (in memory only).
  std::vector<std::string> redact;
  std::string incident_id;  // PHI-free; "" when nothing was detected
};

// Scans the model's answer (de-identified form, before re-identification) for
// PHI that this request did not send. Thread-safe.
class LeakScanner {
 public:
  virtual ~LeakScanner() = default;
  // `sent_replacements` are the tokens/surrogates this request sent.
  virtual Result<LeakVerdict> Scan(const Principal& who, std::string_view answer,
                                   const std::vector<std::string>& sent_replacements) = 0;
  // The gateway calls this one. The default runs Scan() with the replacements
  // of ctx.sent_values. Any error withholds the answer (fail closed).
  virtual Result<LeakScanResult> ScanAnswer(const LeakScanContext& ctx, std::string_view answer) {
    std::vector<std::string> sent;
    if (ctx.sent_values != nullptr) {
      for (const SentValue& v : *ctx.sent_values) {
        if (!v.replacement.empty()) sent.push_back(v.replacement);
      }
    }
    Result<LeakVerdict> v = Scan(*ctx.who, answer, sent);
    if (!v.ok()) return v.status();
    LeakScanResult r;
    r.verdict = *v;
    return r;
  }
};

// Finds PHI spans in text (the detect engine behind an interface so tests can
// pin findings). Thread-safe.
class Detector {
 public:
  virtual ~Detector() = default;
  virtual Status Scan(std::string_view text, Findings* out) const = 0;
};

// Irreversible replacement text for a redacted span (e.g. "[NAME]").
class Redactor {
 public:
  virtual ~Redactor() = default;
  virtual Result<std::string> Redact(std::string_view original, const Finding& finding) const = 0;
};

}  // namespace phigate::gateway

#endif  // PHIGATE_GATEWAY_INTERFACES_H_
