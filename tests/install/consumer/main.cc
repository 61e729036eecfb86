// Reads a note on stdin and writes it with typed placeholders, through the
// installed library's public headers only. `deid_consumer paths` prints the
// data folder the library resolved instead; `deid_consumer policy FILE USER
// MODEL` prints one policy decision (tenant acme, feature scribe, vendor openai);
// `deid_consumer serve CONFIG STORE_URL` embeds the gateway (phigate::gateway,
// as `phigate serve` wires it) on a port of the system's choosing, prints
// "port=N" and serves until SIGTERM.
#include <cstdio>
#include <iostream>
#include <iterator>
#include <string>
#include <string_view>

#include "phigate/core/paths.h"
#include "phigate/detect/engine.h"
#include "phigate/gateway/gateway.h"
#include "phigate/gateway/serve.h"
#include "phigate/policy/policy.h"
#include "phigate/transform/redactor.h"

int main(int argc, char** argv) {
  if (argc > 1 && std::string_view(argv[1]) == "paths") {
    std::printf("installed=%s\ndata_dir=%s\n", phigate::paths::InstalledShareDir().c_str(),
                phigate::paths::DataDir().c_str());
    return 0;
  }
  if (argc > 4 && std::string_view(argv[1]) == "policy") {
    auto policy = phigate::policy::Policy::LoadFile(argv[2], {});
    if (!policy.ok()) {
      std::fprintf(stderr, "deid_consumer: the policy did not load\n");
      return 1;
    }
    const auto& d = (*policy)->Decide({.tenant = "acme",
                                       .user = argv[3],
                                       .feature = "scribe",
                                       .vendor = "openai",
                                       .model = argv[4],
                                       .at = absl::Now()});
    std::printf("allowed=%d baa_covered=%d\n", d.allowed ? 1 : 0, d.baa_covered ? 1 : 0);
    return 0;
  }
  if (argc > 3 && std::string_view(argv[1]) == "serve") {
    phigate::gateway::ServeOptions options;
    options.store_url = argv[3];
    options.watch_policy = false;
    auto stack = phigate::gateway::ServeStack::Build(argv[2], options);
    if (!stack.ok()) {
      std::fprintf(stderr, "deid_consumer: %s\n", std::string(stack.status().message()).c_str());
      return 1;
    }
    phigate::gateway::GatewayConfig config = (*stack)->config();
    config.server.address = "127.0.0.1";
    config.server.port = 0;
    auto gateway = phigate::gateway::Gateway::Create(config, (*stack)->deps());
    if (!gateway.ok() || !(*gateway)->Start().ok()) {
      std::fprintf(stderr, "deid_consumer: the gateway did not start\n");
      return 1;
    }
    (*gateway)->HandleSignals();
    std::printf("port=%u\n", static_cast<unsigned>((*gateway)->port()));
    std::fflush(stdout);
    (*gateway)->Wait();
    return 0;
  }
  phigate::detect::EngineOptions options;
  options.mode = phigate::detect::EngineOptions::Mode::kRules;
  auto engine = phigate::detect::Engine::Create(options);
  auto redactor = phigate::transform::Redactor::Create({});
  if (!engine.ok() || !redactor.ok()) {
    std::fprintf(stderr, "deid_consumer: cannot load the engine\n");
    return 1;
  }
  const std::string text{std::istreambuf_iterator<char>(std::cin), {}};
  auto findings = (*engine)->Scan(text);
  if (!findings.ok()) return 1;
  auto out = (*redactor)->Apply(text, *findings);
  if (!out.ok()) return 1;
  std::fwrite(out->data(), 1, out->size(), stdout);
  return 0;
}
