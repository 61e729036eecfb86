// `phigate serve --config phigate.yaml`: the PHI gateway (docs/gateway.md).
#include <chrono>
#include <cstdio>
#include <string>

#include "phigate/gateway/gateway.h"
#include "phigate/gateway/serve.h"
#include "src/cli/command.h"

namespace phigate::cli {
namespace {

struct ServeArgs {
  std::string config = "phigate.yaml";
  std::string listen;
  std::string store;
  std::string audit;
  std::string data_dir;
  int io_threads = 0;
  bool no_watch = false;
  int wal_checkpoint_ms = -1;  // -1: ServeOptions' default
  bool two_writes_per_wal_frame = false;
};

void Register(CLI::App& app) {
  auto args = std::make_shared<ServeArgs>();
  auto* cmd = app.add_subcommand("serve", "Run the OpenAI/Anthropic-compatible PHI gateway");
  cmd->add_option("--config,-c", args->config, "Policy + server/gateway YAML file");
  cmd->add_option("--listen", args->listen, "host:port (overrides server.listen)");
  cmd->add_option("--store", args->store,
                  "Vault store URL: sqlite:///path.db or postgres://... (overrides gateway.store)");
  cmd->add_option("--audit-store", args->audit, "Audit store URL (default: beside the vault)");
  cmd->add_option("--data-dir", args->data_dir,
                  "Folder with gazetteers/ (default: $PHIGATE_DATA_DIR, then the installed or "
                  "source tree's data/; phigate paths)");
  cmd->add_option("--io-threads", args->io_threads, "IO threads (overrides server.io_threads)");
  cmd->add_flag("--no-watch", args->no_watch, "Do not reload the policy file on change");
  cmd->add_option("--wal-checkpoint-ms", args->wal_checkpoint_ms,
                  "Background WAL checkpoint interval of the SQLite vault and audit files "
                  "(default 200; 0: SQLite's own auto-checkpoints only)");
  cmd->add_flag("--two-writes-per-wal-frame", args->two_writes_per_wal_frame,
                "SQLite's own WAL writes (frame header and page in two system calls; for A/B "
                "measurements)");
  cmd->callback([args] {
    gateway::ServeOptions so;
    so.store_url = args->store;
    so.audit_url = args->audit;
    so.data_dir = args->data_dir;
    so.watch_policy = !args->no_watch;
    so.coalesce_wal_frames = !args->two_writes_per_wal_frame;
    if (args->wal_checkpoint_ms >= 0) {
      so.wal_checkpoint_interval = std::chrono::milliseconds(args->wal_checkpoint_ms);
    }
    auto stack = gateway::ServeStack::Build(args->config, so);
    ThrowIfError(stack.status(), "serve");
    gateway::GatewayConfig cfg = (*stack)->config();
    if (!args->listen.empty()) {
      const size_t colon = args->listen.rfind(':');
      if (colon == std::string::npos) throw CliError(2, "--listen wants host:port");
      cfg.server.address = args->listen.substr(0, colon);
      cfg.server.port = static_cast<uint16_t>(std::stoi(args->listen.substr(colon + 1)));
    }
    if (args->io_threads > 0) cfg.server.io_threads = args->io_threads;
    auto gw = gateway::Gateway::Create(cfg, (*stack)->deps());
    ThrowIfError(gw.status(), "serve");
    ThrowIfError((*gw)->Start(), "serve");
    (*gw)->HandleSignals();
    std::fprintf(stderr, "phigate serve: listening on %s:%u (%d io threads, %s)\n%s",
                 cfg.server.address.c_str(), static_cast<unsigned>((*gw)->port()),
                 cfg.server.io_threads, cfg.server.tls_cert_file.empty() ? "plain HTTP" : "TLS",
                 (*stack)->Describe().c_str());
    std::fflush(stderr);
    (*gw)->Wait();
    std::fprintf(stderr, "phigate serve: stopped\n");
  });
}
PHIGATE_REGISTER_COMMAND(Register);

}  // namespace
}  // namespace phigate::cli
