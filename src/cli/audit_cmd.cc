// `phigate audit ...`: verify, query, disclosures, export, checkpoint, pubkey,
// retention. Keys: PHIGATE_MASTER_KEY (hex) or --master-key-file; the signing
// key is derived from it unless PHIGATE_AUDIT_SIGNING_KEY names a PEM file.
// Store: --store URL, else PHIGATE_AUDIT_STORE, else sqlite://phigate-audit.db.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <iterator>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "phigate/audit/audit_log.h"
#include "phigate/audit/query.h"
#include "phigate/audit/subject.h"
#include "src/cli/cli_util.h"
#include "src/cli/command.h"

namespace phigate::cli {
namespace {

using namespace phigate::audit;

struct AuditArgs {
  std::string store;
  std::string master_key_file;
  std::vector<std::string> retired_master_key_files;  // oldest first
  std::vector<std::string> public_key_files;          // oldest first
  std::vector<std::string> witness_files;
  std::string tenant;
  std::string user, feature, vendor, outcome, kind;
  std::string since, until;
  std::string patient;
  std::string format = "markdown";
  size_t limit = 0;
  bool all_tenants = false;
  int retention_years = 6;
};

std::string StoreUrl(const AuditArgs& a) {
  if (!a.store.empty()) return a.store;
  const char* env = std::getenv("PHIGATE_AUDIT_STORE");
  if (env != nullptr && *env != '\0') return env;
  return "sqlite://phigate-audit.db";
}

// Every audit command reads (or adds to) a trail the gateway wrote: a SQLite
// store that does not exist is an error, not a new empty one that verifies
// (a cron job without --store checked a fresh phigate-audit.db and said OK).
std::unique_ptr<AuditLogStore> OpenStore(const AuditArgs& a) {
  const std::string url = StoreUrl(a);
  RequireExistingSqliteStore(url,
                             "no audit store (give --store or PHIGATE_AUDIT_STORE; the gateway "
                             "writes <vault>-audit.db beside its vault)");
  auto s = AuditLogStore::Open(url);
  ThrowIfError(s.status(), "audit store");
  return std::move(s).value();
}

std::string MasterKey(const AuditArgs& a) {
  auto k = a.master_key_file.empty() ? MasterKeyFromEnv() : MasterKeyFromFile(a.master_key_file);
  ThrowIfError(k.status(), "audit key");
  return *k;
}

std::shared_ptr<const crypto::Ed25519Signer> Signer(const AuditArgs& a) {
  auto s = SigningKeyFromEnv(MasterKey(a));
  ThrowIfError(s.status(), "signing key");
  return std::shared_ptr<const crypto::Ed25519Signer>(std::move(s).value());
}

// The master keys retired by `phigate keys rewrap`, oldest first: the trail's
// older heads are signed, and its older patients indexed, under keys derived
// from them.
std::vector<std::string> RetiredMasterKeys(const AuditArgs& a) {
  std::vector<std::string> out;
  for (const std::string& file : a.retired_master_key_files) {
    auto k = MasterKeyFromFile(file);
    ThrowIfError(k.status(), "--retired-master-key-file");
    out.push_back(std::move(k).value());
  }
  return out;
}

// The tree-head keys to verify with, oldest first (audit::TreeHeadKeys): those
// of the retired master keys, then --public-key files, or else the current
// master key's.
std::vector<std::unique_ptr<crypto::Ed25519Verifier>> TreeHeadVerifiers(const AuditArgs& a) {
  std::vector<std::unique_ptr<crypto::Ed25519Verifier>> out;
  auto add = [&out](Result<std::unique_ptr<crypto::Ed25519Verifier>> v, const char* what) {
    ThrowIfError(v.status(), what);
    out.push_back(std::move(v).value());
  };
  for (const std::string& master : RetiredMasterKeys(a)) {
    auto s = SigningKeyFromMaster(master);
    ThrowIfError(s.status(), "--retired-master-key-file");
    add(crypto::Ed25519Verifier::FromRawPublicKey((*s)->RawPublicKey()), "verifier");
  }
  // An external verifier needs only the public keys; else derive it like the writer.
  for (const std::string& file : a.public_key_files) {
    std::ifstream in(file, std::ios::binary);
    if (!in) throw CliError(1, "--public-key: cannot open the file");
    std::string pem((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    add(crypto::Ed25519Verifier::FromPem(pem), "--public-key");
  }
  if (a.public_key_files.empty()) {
    add(crypto::Ed25519Verifier::FromRawPublicKey(Signer(a)->RawPublicKey()), "verifier");
  }
  return out;
}

TenantId Tenant(const AuditArgs& a) {
  auto t = MakeTenantId(a.tenant);
  ThrowIfError(t.status(), "--tenant");
  return *t;
}

int64_t Time(const std::string& s, int64_t dflt) {
  if (s.empty()) return dflt;
  auto t = ParseTimeUs(s);
  ThrowIfError(t.status(), "time");
  return *t;
}

int64_t NowUs() {
  return std::chrono::duration_cast<std::chrono::microseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

QueryFilter Filter(const AuditArgs& a) {
  QueryFilter f;
  f.tenant = Tenant(a);
  auto id = [](const std::string& v, const char* flag) -> std::optional<AuditId> {
    if (v.empty()) return std::nullopt;
    auto r = AuditId::Make(v);
    ThrowIfError(r.status(), flag);
    return *r;
  };
  f.user = id(a.user, "--user");
  f.feature = id(a.feature, "--feature");
  f.vendor = id(a.vendor, "--vendor");
  if (!a.outcome.empty()) {
    f.outcome = ParseOutcome(a.outcome);
    if (!f.outcome) throw CliError(2, "--outcome: forwarded, blocked or error");
  }
  if (!a.kind.empty()) {
    f.kind = ParseEventKind(a.kind);
    if (!f.kind) throw CliError(2, "--kind: egress, ingress, reidentify, admin, breach, ...");
  }
  f.since_us = Time(a.since, f.since_us);
  f.until_us = Time(a.until, f.until_us);
  f.limit = a.limit;
  return f;
}

void Verify(const AuditArgs& a) {
  auto store = OpenStore(a);
  const std::vector<std::unique_ptr<crypto::Ed25519Verifier>> owned = TreeHeadVerifiers(a);
  std::vector<const crypto::Ed25519Verifier*> keys;
  for (const auto& v : owned) keys.push_back(v.get());
  // Heads a witness kept (lines of `audit checkpoint` output), by tenant.
  std::map<std::string, std::vector<SignedTreeHead>> witnessed;
  for (const std::string& file : a.witness_files) {
    std::ifstream in(file, std::ios::binary);
    if (!in) throw CliError(1, "--witness: cannot open the file");
    std::string line;
    size_t n = 0;
    while (std::getline(in, line)) {
      ++n;
      if (line.find_first_not_of(" \t\r") == std::string::npos) continue;
      auto h = ParseWitnessedHead(line);
      if (!h.ok()) {
        throw CliError(2, absl::StrCat("--witness: line ", n, ": ", h.status().message()));
      }
      if (!a.tenant.empty() && h->tenant.value() != a.tenant) continue;
      witnessed[h->tenant.value()].push_back(*h);
    }
  }
  std::vector<TenantId> tenants;
  if (!a.tenant.empty()) {
    tenants.push_back(Tenant(a));
  } else {
    auto t = store->Tenants();
    ThrowIfError(t.status(), "tenants");
    tenants = *t;
  }
  bool ok = true;
  // A witnessed tenant the store no longer lists lost its whole trail.
  for (const auto& entry : witnessed) {
    const std::string& name = entry.first;  // a plain reference: lambdas capture it (C++20)
    if (std::none_of(tenants.begin(), tenants.end(),
                     [&name](const TenantId& t) { return t.value() == name; })) {
      ok = false;
      std::printf(
          "BROKEN tenant %s: a witness holds a signed head at size %llu, but the store "
          "has no trail for the tenant\n",
          name.c_str(), static_cast<unsigned long long>(entry.second.front().tree_size));
    }
  }
  for (const TenantId& t : tenants) {
    auto r = VerifyTrail(*store, t, keys);
    if (r.ok() && !a.tenant.empty() && r->events_checked == 0 && r->heads_checked == 0 &&
        r->first_seq == 0) {
      // Nothing at all for the tenant asked for: a mistyped --tenant, not a trail.
      ok = false;
      std::printf("NONE  tenant %s: no audit trail in this store\n", t.value().c_str());
      continue;
    }
    if (r.ok()) {
      std::printf(
          "OK    tenant %s: %llu events (from seq %llu), %llu signed heads, root %s, "
          "%llu newest events not yet covered by a signed head\n",
          t.value().c_str(), static_cast<unsigned long long>(r->events_checked),
          static_cast<unsigned long long>(r->first_seq),
          static_cast<unsigned long long>(r->heads_checked), HashHex(r->root).c_str(),
          static_cast<unsigned long long>(r->unsigned_events));
      if (keys.size() > 1 && r->heads_checked > 0) {
        std::printf("      tenant %s: the newest head is signed by key %zu of %zu (oldest first)\n",
                    t.value().c_str(), r->newest_key + 1, keys.size());
        // Not an error: nothing may have been written since the rotation. But
        // if the gateway has run on the new key, a retired key extended the
        // trail (after a forged retention cut, say): a witness settles it.
        if (r->newest_key + 1 < keys.size()) {
          std::printf(
              "WARN  tenant %s: no head is signed by the newest key yet; if the gateway has run "
              "on it since the rotation, check the trail against a witness (--witness)\n",
              t.value().c_str());
        }
      }
      for (const SignedTreeHead& h : witnessed[t.value()]) {
        const Status s = CheckWitnessedHead(*store, h, *r, keys);
        if (s.ok()) {
          std::printf("OK    tenant %s: the witnessed head at size %llu is in the trail\n",
                      t.value().c_str(), static_cast<unsigned long long>(h.tree_size));
        } else if (s.code() == absl::StatusCode::kFailedPrecondition) {
          std::printf("UNCHECKED %s\n", std::string(s.message()).c_str());
        } else {
          ok = false;
          std::printf("BROKEN %s\n", std::string(s.message()).c_str());
        }
      }
    } else {
      ok = false;
      std::printf("BROKEN %s\n", std::string(r.status().message()).c_str());
    }
  }
  if (tenants.empty()) std::printf("no audit trails in the store\n");
  if (!ok) throw CliError(1, "audit trail verification failed");
}

void QueryCmd(const AuditArgs& a) {
  auto store = OpenStore(a);
  ThrowIfError(QueryEach(*store, Filter(a),
                         [](const StoredEvent& e) {
                           std::printf("%s\n", EventToJson(e).c_str());
                           return absl::OkStatus();
                         }),
               "query");
}

void Export(const AuditArgs& a) {
  if (a.format != "jsonl") throw CliError(2, "--format: jsonl");
  QueryCmd(a);
}

void Disclosures(const AuditArgs& a) {
  if (a.patient.empty()) throw CliError(2, "--patient is required");
  const TenantId tenant = Tenant(a);
  // The identifier's category when its label names one (an MRN and an SSN of
  // the same digits are two patients), else every category; and the index of
  // trails written before categories were part of it. Under the key of each
  // master key: events written before a rotation are indexed under the old one.
  std::vector<std::string> masters = RetiredMasterKeys(a);
  masters.push_back(MasterKey(a));
  Result<std::vector<BlindIndex>> subjects = std::vector<BlindIndex>();
  for (const std::string& master : masters) {
    auto key = TenantAuditKey(master, tenant);
    ThrowIfError(key.status(), "tenant audit key");
    auto more = SubjectIndexesToQuery(*key, a.patient);
    ThrowIfError(more.status(), "--patient");
    subjects->insert(subjects->end(), more->begin(), more->end());
  }
  auto store = OpenStore(a);
  // 164.528: disclosures in the six years before the request by default.
  const int64_t since = Time(a.since, NowUs() - kMinRetentionUs);
  auto ds = AccountingOfDisclosures(*store, tenant, *subjects, since, Time(a.until, INT64_MAX));
  ThrowIfError(ds.status(), "disclosures");
  if (a.format == "json") {
    std::printf("%s\n", DisclosuresJson(tenant, *subjects, *ds).c_str());
  } else {
    std::printf("%s", DisclosuresMarkdown(tenant, *subjects, *ds).c_str());
  }
}

void CheckpointCmd(const AuditArgs& a) {
  auto store = OpenStore(a);
  auto signer = Signer(a);
  std::vector<TenantId> tenants;
  if (!a.tenant.empty()) {
    tenants.push_back(Tenant(a));
  } else {
    auto t = store->Tenants();
    ThrowIfError(t.status(), "tenants");
    tenants = *t;
  }
  auto log = AuditLog::Open(std::move(store), signer);
  ThrowIfError(log.status(), "audit log");
  for (const TenantId& t : tenants) {
    auto cp = (*log)->MakeCheckpoint(t);
    ThrowIfError(cp.status(), "checkpoint");
    std::printf("%s\n", WitnessedHeadJson(cp->head, signer->RawPublicKey()).c_str());
  }
}

void Retention(const AuditArgs& a) {
  if (a.retention_years < 6) throw CliError(2, "--years must be at least 6");
  auto log = AuditLog::Open(OpenStore(a), Signer(a));
  ThrowIfError(log.status(), "audit log");
  const int64_t retention =
      std::max(kMinRetentionUs, int64_t{a.retention_years} * 36525 * 86400 * 1000000 / 100);
  auto n = (*log)->ApplyRetention(Tenant(a), NowUs(), retention);
  ThrowIfError(n.status(), "retention");
  std::printf("dropped %llu events behind a signed retention checkpoint\n",
              static_cast<unsigned long long>(*n));
}

void Register(CLI::App& app) {
  auto args = std::make_shared<AuditArgs>();
  auto* audit = app.add_subcommand("audit", "PHI-free audit trail: verify, query, disclosures");
  audit->require_subcommand(1);
  auto common = [args](CLI::App* c) {
    c->add_option("--store", args->store,
                  "sqlite:///path, postgres://..., memory: (default $PHIGATE_AUDIT_STORE)");
    c->add_option("--master-key-file", args->master_key_file,
                  "file with the hex master key (default $PHIGATE_MASTER_KEY)");
  };
  auto retired = [args](CLI::App* c) {
    c->add_option("--retired-master-key-file", args->retired_master_key_files,
                  "a master key retired by `phigate keys rewrap` (repeat, oldest first): what "
                  "was written before the rotation is read under it");
  };
  auto filters = [args](CLI::App* c) {
    c->add_option("--tenant", args->tenant, "tenant id")->required();
    c->add_option("--user", args->user, "user id");
    c->add_option("--feature", args->feature, "feature id");
    c->add_option("--vendor", args->vendor, "vendor id");
    c->add_option("--outcome", args->outcome, "forwarded | blocked | error");
    c->add_option("--kind", args->kind, "egress | ingress | reidentify | admin | breach | ...");
    c->add_option("--since", args->since, "YYYY-MM-DD or RFC 3339 (inclusive)");
    c->add_option("--until", args->until, "YYYY-MM-DD or RFC 3339 (exclusive)");
    c->add_option("--limit", args->limit, "most events to print");
  };

  auto* verify = audit->add_subcommand("verify", "verify every tenant's trail (or --tenant)");
  common(verify);
  retired(verify);
  verify->add_option("--tenant", args->tenant, "only this tenant");
  verify->add_option("--public-key", args->public_key_files,
                     "tree-head public key (PEM or hex); default: derived from the master key. "
                     "After key rotations give each, oldest first");
  verify->add_option("--witness", args->witness_files,
                     "a file of heads a witness kept (lines of `audit checkpoint` output): each "
                     "must be in the trail (catches heads rolled back and events rewritten)");
  verify->callback([args] { Verify(*args); });

  auto* query = audit->add_subcommand("query", "events as JSON lines");
  common(query);
  filters(query);
  query->callback([args] { QueryCmd(*args); });

  auto* exp = audit->add_subcommand("export", "export events (JSONL)");
  common(exp);
  filters(exp);
  exp->add_option("--format", args->format, "jsonl")
      ->default_val("jsonl")
      ->check(CLI::IsMember({"jsonl"}));
  exp->callback([args] { Export(*args); });

  auto* disc = audit->add_subcommand("disclosures", "accounting of disclosures for one patient");
  common(disc);
  retired(disc);
  disc->add_option("--tenant", args->tenant, "tenant id")->required();
  disc->add_option("--patient", args->patient,
                   "the patient's identifier, e.g. \"MRN 4429871\" (blinded, never stored)")
      ->required();
  disc->add_option("--since", args->since, "default: six years ago");
  disc->add_option("--until", args->until, "end (exclusive)");
  disc->add_option("--format", args->format, "markdown | json")
      ->default_val("markdown")
      ->check(CLI::IsMember({"markdown", "json"}));
  disc->callback([args] { Disclosures(*args); });

  auto* cp = audit->add_subcommand("checkpoint", "sign and store a checkpoint; print it as JSON");
  common(cp);
  cp->add_option("--tenant", args->tenant, "only this tenant");
  cp->callback([args] { CheckpointCmd(*args); });

  auto* pub = audit->add_subcommand("pubkey", "print the tree-head public key (PEM)");
  common(pub);
  pub->callback([args] { std::printf("%s", Signer(*args)->PublicKeyPem().c_str()); });

  auto* ret =
      audit->add_subcommand("retention", "drop events older than --years behind a checkpoint");
  common(ret);
  ret->add_option("--tenant", args->tenant, "tenant id")->required();
  ret->add_option("--years", args->retention_years, "at least 6")->default_val(6);
  ret->callback([args] { Retention(*args); });
}

PHIGATE_REGISTER_COMMAND(Register);

}  // namespace
}  // namespace phigate::cli
