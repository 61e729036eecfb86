#include "phigate/audit/query.h"

#include <algorithm>
#include <map>
#include <nlohmann/json.hpp>

#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "phigate/audit/record.h"
#include "phigate/audit/subject.h"

namespace phigate::audit {

std::string FormatTimeUs(int64_t time_us) {
  return absl::FormatTime("%Y-%m-%dT%H:%M:%E6SZ", absl::FromUnixMicros(time_us),
                          absl::UTCTimeZone());
}

Result<int64_t> ParseTimeUs(std::string_view text) {
  absl::Time t;
  std::string err;
  if (absl::ParseTime("%Y-%m-%d", ToAbsl(text), absl::UTCTimeZone(), &t, &err) ||
      absl::ParseTime(absl::RFC3339_full, ToAbsl(text), absl::UTCTimeZone(), &t, &err)) {
    return absl::ToUnixMicros(t);
  }
  return absl::InvalidArgumentError("time: expected YYYY-MM-DD or RFC 3339");
}

Status QueryEach(AuditLogStore& store, const QueryFilter& f,
                 const std::function<Status(const StoredEvent&)>& fn) {
  size_t n = 0;
  ScanOptions so;
  so.since_us = f.since_us;
  so.until_us = f.until_us;
  so.subject = f.subject;
  Status s = store.Scan(f.tenant, so, [&](const RecordView& v) -> Status {
    auto rec = DecodeRecord(v.record);
    if (!rec.ok()) {
      return absl::DataLossError(absl::StrCat("event seq ", v.seq, ": ", rec.status().message()));
    }
    const AuditEvent& e = rec->event;
    if ((f.user && e.user != *f.user) || (f.feature && e.feature != *f.feature) ||
        (f.vendor && e.vendor != *f.vendor) || (f.outcome && e.outcome != *f.outcome) ||
        (f.kind && e.kind != *f.kind)) {
      return absl::OkStatus();
    }
    PHIGATE_RETURN_IF_ERROR(fn(StoredEvent{v.seq, v.leaf, std::move(rec->event)}));
    if (f.limit != 0 && ++n >= f.limit) return absl::CancelledError("limit");
    return absl::OkStatus();
  });
  if (s.code() == absl::StatusCode::kCancelled) return absl::OkStatus();
  return s;
}

Result<std::vector<StoredEvent>> Query(AuditLogStore& store, const QueryFilter& filter) {
  std::vector<StoredEvent> out;
  PHIGATE_RETURN_IF_ERROR(QueryEach(store, filter, [&](const StoredEvent& e) {
    out.push_back(e);
    return absl::OkStatus();
  }));
  return out;
}

namespace {

nlohmann::json Categories(const std::vector<std::pair<PhiCategory, uint32_t>>& cats) {
  nlohmann::json j = nlohmann::json::object();
  for (const auto& [c, n] : cats) j[std::string(CategoryName(c))] = n;
  return j;
}

std::vector<AuditId> OperatorIds(uint32_t bits) {
  std::vector<AuditId> out;
  for (uint8_t i = 0; i < kNumOperatorKinds; ++i) {
    if ((bits >> i) & 1u) {
      out.push_back(*AuditId::Make(OperatorName(static_cast<OperatorKind>(i))));
    }
  }
  return out;
}

std::string Or(const AuditId& id, std::string_view dflt = "-") {
  return id.empty() ? std::string(dflt) : id.value();
}

}  // namespace

std::string EventToJson(const StoredEvent& s) {
  const AuditEvent& e = s.event;
  nlohmann::json j;
  j["seq"] = s.seq;
  j["leaf"] = HashHex(s.leaf);
  j["time"] = FormatTimeUs(e.time_us);
  j["kind"] = std::string(EventKindName(e.kind));
  j["tenant"] = e.tenant.value();
  const std::pair<const char*, const AuditId*> ids[] = {{"user", &e.user},
                                                        {"role", &e.role},
                                                        {"feature", &e.feature},
                                                        {"purpose", &e.purpose},
                                                        {"request_id", &e.request_id},
                                                        {"vendor", &e.vendor},
                                                        {"endpoint", &e.endpoint},
                                                        {"model", &e.model},
                                                        {"baa_id", &e.baa_id},
                                                        {"policy_version", &e.policy_version}};
  for (const auto& [name, id] : ids) {
    if (!id->empty()) j[name] = id->value();
  }
  j["decision"] = std::string(DecisionName(e.decision));
  j["outcome"] = std::string(OutcomeName(e.outcome));
  j["reasons"] = nlohmann::json::array();
  for (const AuditId& r : e.reasons) j["reasons"].push_back(r.value());
  j["categories"] = Categories(e.category_counts);
  if (e.sent_as_written) j["sent_as_written"] = Categories(*e.sent_as_written);
  j["operators"] = nlohmann::json::array();
  for (const AuditId& o : OperatorIds(e.operators)) j["operators"].push_back(o.value());
  j["tokens_minted"] = e.tokens_minted;
  j["tokens_reidentified"] = e.tokens_reidentified;
  j["subjects"] = nlohmann::json::array();
  for (const BlindIndex& b : e.subjects) j["subjects"].push_back(BlindIndexHex(b));
  return j.dump();
}

Result<std::vector<Disclosure>> AccountingOfDisclosures(AuditLogStore& store,
                                                        const TenantId& tenant,
                                                        const BlindIndex& subject, int64_t since_us,
                                                        int64_t until_us) {
  QueryFilter f;
  f.tenant = tenant;
  f.subject = subject;
  f.since_us = since_us;
  f.until_us = until_us;
  std::vector<Disclosure> out;
  // The ingress event of each request: what became of the send.
  std::map<std::string, std::string> delivery;
  PHIGATE_RETURN_IF_ERROR(QueryEach(store, f, [&](const StoredEvent& s) {
    const AuditEvent& e = s.event;
    if (e.kind == EventKind::kIngress && !e.request_id.empty()) {
      const bool not_sent = e.outcome == Outcome::kError &&
                            std::any_of(e.reasons.begin(), e.reasons.end(), [](const AuditId& r) {
                              return r.value() == kReasonUpstreamNotSent;
                            });
      delivery[e.request_id.value()] = e.outcome == Outcome::kForwarded ? "answered"
                                       : not_sent ? std::string(Disclosure::kNotSent)
                                       : e.outcome == Outcome::kError ? "error"
                                                                      : "answer withheld";
      return absl::OkStatus();
    }
    const bool egress = e.kind == EventKind::kEgress && e.outcome == Outcome::kForwarded;
    const bool impermissible = e.kind == EventKind::kBreach || e.kind == EventKind::kLeak;
    if (!egress && !impermissible) return absl::OkStatus();
    Disclosure d;
    d.seq = s.seq;
    d.time_us = e.time_us;
    d.kind = e.kind;
    d.recipient = e.vendor;
    d.endpoint = e.endpoint;
    d.model = e.model;
    d.baa_id = e.baa_id;
    d.purpose = e.purpose;
    d.feature = e.feature;
    d.user = e.user;
    d.request_id = e.request_id;
    d.categories = e.category_counts;
    d.sent_as_written = e.sent_as_written;
    d.operators = OperatorIds(e.operators);
    out.push_back(std::move(d));
    return absl::OkStatus();
  }));
  for (Disclosure& d : out) {
    if (d.kind != EventKind::kEgress || d.request_id.empty()) continue;
    auto it = delivery.find(d.request_id.value());
    if (it != delivery.end()) d.delivery = it->second;
  }
  return out;
}

Result<std::vector<Disclosure>> AccountingOfDisclosures(AuditLogStore& store,
                                                        const TenantId& tenant,
                                                        const std::vector<BlindIndex>& subjects,
                                                        int64_t since_us, int64_t until_us) {
  std::vector<Disclosure> out;
  for (const BlindIndex& s : subjects) {
    PHIGATE_ASSIGN_OR_RETURN(std::vector<Disclosure> d,
                             AccountingOfDisclosures(store, tenant, s, since_us, until_us));
    for (Disclosure& x : d) out.push_back(std::move(x));
  }
  std::stable_sort(out.begin(), out.end(),
                   [](const Disclosure& a, const Disclosure& b) { return a.seq < b.seq; });
  out.erase(std::unique(out.begin(), out.end(),
                        [](const Disclosure& a, const Disclosure& b) { return a.seq == b.seq; }),
            out.end());
  return out;
}

std::string DisclosuresMarkdown(const TenantId& tenant, const BlindIndex& subject,
                                const std::vector<Disclosure>& ds) {
  return DisclosuresMarkdown(tenant, std::vector<BlindIndex>{subject}, ds);
}

std::string DisclosuresMarkdown(const TenantId& tenant, const std::vector<BlindIndex>& subjects,
                                const std::vector<Disclosure>& ds) {
  std::string hexes;
  for (const BlindIndex& s : subjects) {
    absl::StrAppend(&hexes, hexes.empty() ? "`" : ", `", BlindIndexHex(s), "`");
  }
  using Group = Disclosure::Group;
  auto count = [&](Group g) {
    return std::count_if(ds.begin(), ds.end(), [g](const Disclosure& d) { return d.group() == g; });
  };
  std::string out = absl::StrCat(
      "# Accounting of disclosures\n\n- tenant: `", tenant.value(), "`\n- subject (blind index",
      subjects.size() > 1 ? "es" : "", "): ", hexes, "\n- disclosures: ", count(Group::kDisclosure),
      "\n- sends in which every detected value was replaced (tokenized, surrogated or redacted; "
      "a value the detector missed would have gone as written): ",
      count(Group::kDeidentifiedSend),
      "\n- sends that never reached the recipient (the connection failed before the request was "
      "written): ",
      count(Group::kNotSent), "\n");
  auto table = [&](Group want) {
    out +=
        "| date (UTC) | recipient | endpoint / model | BAA | what (PHI categories) | delivery | "
        "purpose | feature | kind | request | event |\n"
        "|---|---|---|---|---|---|---|---|---|---|---|\n";
    for (const Disclosure& d : ds) {
      if (d.group() != want) continue;
      // Disclosures name what left identifiable; the other sends what was
      // found (and replaced, or never sent).
      const bool disclosed = want == Group::kDisclosure;
      const auto& cats = disclosed ? d.Disclosed() : d.categories;
      std::string what;
      for (const auto& [c, n] : cats) {
        absl::StrAppend(&what, what.empty() ? "" : ", ", ToAbsl(CategoryName(c)), " x", n);
      }
      if (what.empty()) what.push_back('-');
      if (disclosed && d.kind == EventKind::kEgress && !d.sent_as_written) {
        what += " (recorded before per-category actions: all counted)";
      }
      if (!d.operators.empty()) {
        std::string ops;
        for (const AuditId& o : d.operators) {
          absl::StrAppend(&ops, ops.empty() ? "" : "+", o.value());
        }
        absl::StrAppend(&what, " (", ops, ")");
      }
      absl::StrAppend(&out, "| ", FormatTimeUs(d.time_us), " | ", Or(d.recipient), " | ",
                      Or(d.endpoint), " / ", Or(d.model), " | ", Or(d.baa_id), " | ", what, " | ",
                      d.delivery.empty() ? "-" : d.delivery, " | ", Or(d.purpose), " | ",
                      Or(d.feature), " | ", ToAbsl(EventKindName(d.kind)), " | ", Or(d.request_id),
                      " | ", d.seq, " |\n");
    }
  };
  out += "\n";
  table(Group::kDisclosure);
  if (count(Group::kDeidentifiedSend) > 0) {
    out += "\n## Sends with no detected value sent as written\n\n";
    table(Group::kDeidentifiedSend);
  }
  if (count(Group::kNotSent) > 0) {
    out += "\n## Sends that never reached the recipient\n\n";
    table(Group::kNotSent);
  }
  return out;
}

std::string DisclosuresJson(const TenantId& tenant, const BlindIndex& subject,
                            const std::vector<Disclosure>& ds) {
  return DisclosuresJson(tenant, std::vector<BlindIndex>{subject}, ds);
}

std::string DisclosuresJson(const TenantId& tenant, const std::vector<BlindIndex>& subjects,
                            const std::vector<Disclosure>& ds) {
  nlohmann::json j;
  j["tenant"] = tenant.value();
  j["subject"] = subjects.empty() ? "" : BlindIndexHex(subjects.front());
  j["subjects"] = nlohmann::json::array();
  for (const BlindIndex& s : subjects) j["subjects"].push_back(BlindIndexHex(s));
  j["disclosures"] = nlohmann::json::array();
  j["deidentified_sends"] = nlohmann::json::array();
  j["not_sent"] = nlohmann::json::array();
  for (const Disclosure& d : ds) {
    nlohmann::json x;
    x["seq"] = d.seq;
    x["date"] = FormatTimeUs(d.time_us);
    x["kind"] = std::string(EventKindName(d.kind));
    x["recipient"] = d.recipient.value();
    x["endpoint"] = d.endpoint.value();
    x["model"] = d.model.value();
    x["baa_id"] = d.baa_id.value();
    const Disclosure::Group g = d.group();
    x["what"] = Categories(g == Disclosure::Group::kDisclosure ? d.Disclosed() : d.categories);
    x["found"] = Categories(d.categories);
    x["sent_as_written"] =
        d.sent_as_written ? Categories(*d.sent_as_written) : nlohmann::json(nullptr);
    x["delivery"] = d.delivery;
    x["operators"] = nlohmann::json::array();
    for (const AuditId& o : d.operators) x["operators"].push_back(o.value());
    x["purpose"] = d.purpose.value();
    x["feature"] = d.feature.value();
    x["user"] = d.user.value();
    x["request_id"] = d.request_id.value();
    j[g == Disclosure::Group::kDisclosure         ? "disclosures"
      : g == Disclosure::Group::kDeidentifiedSend ? "deidentified_sends"
                                                  : "not_sent"]
        .push_back(std::move(x));
  }
  return j.dump(2);
}

}  // namespace phigate::audit
