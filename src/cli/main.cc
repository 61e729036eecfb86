// The `phigate` command-line tool: every capability as a subcommand.
#include <cstdio>
#include <exception>

#include "src/cli/command.h"

namespace phigate::cli {

std::vector<RegisterFn>& CommandRegistry() {
  static std::vector<RegisterFn> registry;
  return registry;
}

}  // namespace phigate::cli

int main(int argc, char** argv) {
  CLI::App app{"phigate: a PHI firewall for AI (de-identification, policy, vault, audit, gateway)"};
  app.require_subcommand(1);
  app.set_version_flag("--version", "phigate 0.1.0");
  for (auto fn : phigate::cli::CommandRegistry()) fn(app);
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    // Help and --version exit 0; every usage error exits 2, as documented
    // (CLI11's own codes are 105, 109, ...).
    return app.exit(e) == 0 ? 0 : 2;
  } catch (const phigate::cli::CliError& e) {
    std::fprintf(stderr, "phigate: error: %s\n", e.what());
    return e.code();
  } catch (const std::exception& e) {
    // Messages of library exceptions may quote input; print only the type of failure.
    std::fprintf(stderr, "phigate: internal error (%s)\n", "unexpected exception");
    return 3;
  }
  return 0;
}
