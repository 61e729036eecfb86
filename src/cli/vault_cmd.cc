// Vault commands:
//
//   phigate reid --tenant acme --scope conv-42 --allow-reidentify < answer.txt
//     (the output of `phigate deid --mode tokenize|surrogate --tenant acme --scope conv-42`)
//   phigate keys rotate --tenant acme [--reencrypt]
//   phigate keys shred --tenant acme
//   phigate keys rewrap --tenant acme --new-master-key-file new.key
//   phigate keys new-master                       prints a fresh master key (hex)
//   phigate vault purge --older-than 30d [--tenant acme]
//
// Common flags: --store URL (default sqlite://phigate.db), --master-key-file
// FILE (default: $PHIGATE_MASTER_KEY). Messages name tenants, counts and key
// versions, never values.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <string>

#include "absl/strings/str_cat.h"
#include "phigate/core/ids.h"
#include "phigate/crypto/key_provider.h"
#include "phigate/transform/reidentify.h"
#include "phigate/vault/open.h"
#include "phigate/vault/vault.h"
#include "src/cli/cli_util.h"
#include "src/cli/command.h"

namespace phigate::cli {
namespace {

constexpr char kDefaultStore[] = "sqlite://phigate.db";

struct VaultFlags {
  std::string store = kDefaultStore;
  std::string tenant;
  std::string master_key_file;
};

void AddVaultFlags(CLI::App* cmd, VaultFlags* f, bool tenant_required = true) {
  cmd->add_option("--store", f->store, "Store URL: sqlite:///path, postgres://..., memory:")
      ->capture_default_str();
  auto* t = cmd->add_option("--tenant", f->tenant, "Tenant id");
  if (tenant_required) t->required();
  cmd->add_option("--master-key-file", f->master_key_file,
                  "File holding the master key (hex or base64); default $PHIGATE_MASTER_KEY");
}

TenantId Tenant(const VaultFlags& f) {
  auto t = MakeTenantId(f.tenant);
  ThrowIfError(t.status(), "--tenant");
  return *t;
}

vault::VaultHandle OpenVault(const VaultFlags& f) {
  auto h = vault::OpenVaultFromConfig(f.store, Tenant(f), f.master_key_file);
  ThrowIfError(h.status(), "vault");
  return std::move(*h);
}

// Key management acts on a tenant that has a vault in the store: a mistyped
// --tenant or a --store relative to the wrong folder must not report
// "keys destroyed" (or create a new, empty database) while the real
// tenant's data is untouched.
bool HasVault(const VaultFlags& f, std::string_view what) {
  RequireExistingSqliteStore(f.store, absl::StrCat(ToAbsl(what), ": no store (check --store)"));
  auto store = store::Store::Open({.url = f.store});
  ThrowIfError(store.status(), "store");
  auto tenants = (*store)->ListTenants();
  ThrowIfError(tenants.status(), "store");
  const TenantId t = Tenant(f);
  return std::find(tenants->begin(), tenants->end(), t) != tenants->end();
}

void RequireExistingVault(const VaultFlags& f, std::string_view what) {
  if (!HasVault(f, what)) {
    throw CliError(1, absl::StrCat(ToAbsl(what), ": tenant ", f.tenant, " has no vault in ",
                                   UrlForDisplay(f.store), " (check --tenant and --store)"));
  }
}

void Write(std::string_view s) {
  if (!s.empty() && std::fwrite(s.data(), 1, s.size(), stdout) != s.size()) {
    throw CliError(3, "cannot write to stdout");
  }
}

void RegisterReid(CLI::App& app) {
  auto* cmd = app.add_subcommand(
      "reid", "Re-identify model output: put back the originals of tokens and surrogates");
  static VaultFlags flags;
  static std::string scope_text = "tenant";
  static bool allow = false, strict = false, report = false, no_surrogates = false;
  AddVaultFlags(cmd, &flags);
  cmd->add_option("--scope", scope_text,
                  "Scope: tenant (default, as for `deid --mode surrogate` without --scope), "
                  "conversation:<id>, request:<id> or a bare conversation id")
      ->capture_default_str();
  cmd->add_flag("--allow-reidentify", allow,
                "Required: the caller is allowed to see PHI again (the output is PHI)");
  cmd->add_flag("--strict", strict, "Only canonical tokens (no tolerant matching)");
  cmd->add_flag("--no-surrogates", no_surrogates, "Restore tokens only");
  cmd->add_flag("--report", report, "Print a JSON report of what was restored on stderr");
  cmd->callback([] {
    if (!allow) {
      throw CliError(1, "re-identification needs --allow-reidentify (its output is PHI)");
    }
    auto scope = vault::ParseScope(scope_text);
    ThrowIfError(scope.status(), "--scope");
    if (!HasVault(flags, "reid")) {
      // Nothing of this tenant can be restored, and opening its vault would
      // create keys for it (a typo of --tenant must leave no trace): the text
      // passes unchanged.
      std::fprintf(stderr,
                   "reid: tenant %s has no vault in this store: nothing re-identified (check "
                   "--tenant and --store)\n",
                   flags.tenant.c_str());
      std::string buf(64 * 1024, '\0');
      size_t n;
      while ((n = std::fread(buf.data(), 1, buf.size(), stdin)) > 0) {
        Write(std::string_view(buf.data(), n));
      }
      if (std::ferror(stdin)) throw CliError(3, "cannot read stdin");
      return;
    }
    vault::VaultHandle h = OpenVault(flags);
    auto reid = transform::Reidentifier::Create(
        *h.vault, *scope,
        {.allow_reidentify = true, .tolerant = !strict, .surrogates = !no_surrogates});
    ThrowIfError(reid.status(), "reid");
    transform::StreamReidentifier stream(std::move(*reid));
    std::string buf(64 * 1024, '\0');
    for (;;) {
      const size_t n = std::fread(buf.data(), 1, buf.size(), stdin);
      if (n > 0) {
        auto out = stream.Feed(std::string_view(buf.data(), n));
        ThrowIfError(out.status(), "reid");
        Write(*out);
      }
      if (n < buf.size()) {
        if (std::ferror(stdin)) throw CliError(3, "cannot read stdin");
        break;
      }
    }
    auto rest = stream.Finish();
    ThrowIfError(rest.status(), "reid");
    Write(*rest);
    std::fflush(stdout);
    if (report) {
      const transform::ReidReport r = stream.reidentifier().Summary();
      std::fprintf(
          stderr,
          "{\"tokens_restored\":%zu,\"tokens_altered\":%zu,\"tokens_unknown\":%zu,"
          "\"surrogates_restored\":%zu,\"surrogates_altered\":%zu,\"dates_restored\":%zu}\n",
          r.tokens_restored, r.tokens_altered, r.tokens_unknown, r.surrogates_restored,
          r.surrogates_altered, r.dates_restored);
    }
  });
}

void RegisterKeys(CLI::App& app) {
  auto* keys = app.add_subcommand("keys", "Tenant key management: rotate, shred, rewrap");
  keys->require_subcommand(1);

  static VaultFlags rot;
  static bool reencrypt = false;
  auto* rotate =
      keys->add_subcommand("rotate", "New data key version (old versions still decrypt)");
  AddVaultFlags(rotate, &rot);
  rotate->add_flag("--reencrypt", reencrypt, "Then re-seal every record under the new version");
  rotate->callback([] {
    RequireExistingVault(rot, "keys rotate");
    vault::VaultHandle h = OpenVault(rot);
    auto v = h.vault->RotateKey();
    ThrowIfError(v.status(), "keys rotate");
    std::printf("tenant %s: data key version %u is now current\n", rot.tenant.c_str(), *v);
    if (reencrypt) {
      auto n = h.vault->ReencryptAll();
      ThrowIfError(n.status(), "keys rotate --reencrypt");
      std::printf("re-encrypted %lld records\n", static_cast<long long>(*n));
    }
  });

  static VaultFlags shr;
  auto* shred = keys->add_subcommand(
      "shred", "Crypto-shred a tenant: destroy its keys and mappings (irreversible)");
  AddVaultFlags(shred, &shr);
  shred->callback([] {
    RequireExistingVault(shr, "keys shred");
    // No key is unwrapped: a tenant whose keys the master key cannot open (left
    // out of a rotation, or its key lost) can still be shredded.
    auto store = store::Store::Open({.url = shr.store});
    ThrowIfError(store.status(), "store");
    auto ts = (*store)->ForTenant(Tenant(shr));
    ThrowIfError(ts.status(), "store");
    const int64_t now = std::chrono::duration_cast<std::chrono::seconds>(
                            std::chrono::system_clock::now().time_since_epoch())
                            .count();
    ThrowIfError(vault::ShredTenant(**ts, now), "keys shred");
    std::printf("tenant %s: keys destroyed; its vault data is unreadable\n", shr.tenant.c_str());
  });

  static VaultFlags rw;
  static std::string new_key_file;
  auto* rewrap = keys->add_subcommand("rewrap", "Master key rotation: re-wrap the tenant's keys");
  AddVaultFlags(rewrap, &rw);
  rewrap->add_option("--new-master-key-file", new_key_file, "The new master key")->required();
  rewrap->callback([] {
    RequireExistingVault(rw, "keys rewrap");
    auto from = vault::LoadMasterKey(rw.master_key_file);
    ThrowIfError(from.status(), "current master key");
    auto to = vault::LoadMasterKey(new_key_file);
    ThrowIfError(to.status(), "new master key");
    auto store = store::Store::Open({.url = rw.store});
    ThrowIfError(store.status(), "store");
    auto ts = (*store)->ForTenant(Tenant(rw));
    ThrowIfError(ts.status(), "store");
    auto n = vault::RewrapTenantKeys(**ts, **from, **to);
    ThrowIfError(n.status(), "keys rewrap");
    std::printf("tenant %s: re-wrapped %d keys under %s\n", rw.tenant.c_str(), *n,
                (*to)->key_id().c_str());
    // Only the vault's keys are wrapped; the others are derived from the key.
    std::fprintf(stderr,
                 "note: the audit trail's signing and patient-index keys and the incident "
                 "records' key are derived from the master key, not wrapped. From now on they "
                 "come from the new key; keep the old key (owner-only file) to read what was "
                 "written before: `phigate audit verify|disclosures --retired-master-key-file "
                 "OLD`, keys.retired_master_key_files for `phigate serve`, "
                 "PHIGATE_RETIRED_MASTER_KEYS for `phigate breach` (then `breach reseal`)\n");
  });

  auto* fresh = keys->add_subcommand("new-master", "Print a new random master key (64 hex chars)");
  fresh->callback([] {
    auto k = crypto::GenerateMasterKeyHex();
    ThrowIfError(k.status(), "keys new-master");
    std::printf("%s\n", k->c_str());
  });
}

void RegisterVaultTokenize(CLI::App* v) {
  static VaultFlags tf;
  static std::string scope_text, category = "OTHER_ID";
  auto* tok = v->add_subcommand(
      "tokenize", "Tokenize one value per stdin line (whole-value; for scripts and smoke tests)");
  AddVaultFlags(tok, &tf);
  tok->add_option("--scope", scope_text, "Scope (as for reid)")->required();
  tok->add_option("--category", category, "PHI category of the values")->capture_default_str();
  tok->callback([] {
    auto scope = vault::ParseScope(scope_text);
    ThrowIfError(scope.status(), "--scope");
    auto cat = ParseCategory(category);
    if (!cat) throw CliError(1, "--category: unknown PHI category");
    vault::VaultHandle h = OpenVault(tf);
    std::vector<std::string> lines;
    std::string line;
    int ch;
    while ((ch = std::fgetc(stdin)) != EOF) {
      if (ch == '\n') {
        lines.push_back(std::move(line));
        line.clear();
      } else {
        line += static_cast<char>(ch);
      }
    }
    if (!line.empty()) lines.push_back(std::move(line));
    std::vector<vault::TokenRequest> reqs;
    for (const auto& l : lines) reqs.push_back({*cat, l});
    auto toks = h.vault->TokenizeBatch(reqs, *scope);
    ThrowIfError(toks.status(), "vault tokenize");
    for (const auto& t : *toks) Write(t + "\n");
  });
}

void RegisterVault(CLI::App& app) {
  auto* v = app.add_subcommand("vault", "Vault maintenance");
  v->require_subcommand(1);
  static VaultFlags pf;
  static std::string older_than;
  auto* purge = v->add_subcommand(
      "purge", "Delete mappings older than a duration; purged tokens no longer re-identify");
  RegisterVaultTokenize(v);
  AddVaultFlags(purge, &pf, /*tenant_required=*/false);
  purge->add_option("--older-than", older_than, "e.g. 30d, 12h")->required();
  purge->callback([] {
    auto secs = vault::ParseDuration(older_than);
    ThrowIfError(secs.status(), "--older-than");
    auto store = store::Store::Open({.url = pf.store});
    ThrowIfError(store.status(), "store");
    std::vector<TenantId> tenants;
    if (!pf.tenant.empty()) {
      tenants.push_back(Tenant(pf));
    } else {
      auto all = (*store)->ListTenants();
      ThrowIfError(all.status(), "store");
      tenants = std::move(*all);
    }
    const int64_t cutoff = std::chrono::duration_cast<std::chrono::seconds>(
                               std::chrono::system_clock::now().time_since_epoch())
                               .count() -
                           *secs;
    int64_t total = 0;
    for (const TenantId& t : tenants) {
      auto ts = (*store)->ForTenant(t);
      ThrowIfError(ts.status(), "store");
      auto n = vault::PurgeMappingsBefore(**ts, cutoff);
      ThrowIfError(n.status(), absl::StrCat("vault purge (tenant ", t.value(), ")"));
      total += *n;
    }
    std::printf("purged %lld mappings across %zu tenants\n", static_cast<long long>(total),
                tenants.size());
  });
}

void Register(CLI::App& app) {
  RegisterReid(app);
  RegisterKeys(app);
  RegisterVault(app);
}
PHIGATE_REGISTER_COMMAND(Register);

}  // namespace
}  // namespace phigate::cli
