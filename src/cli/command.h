// Subcommand registry for the `phigate` binary. Each *_cmd.cc file in src/cli/
// registers its subcommands with PHIGATE_REGISTER_COMMAND; main.cc runs them.
//
// Example (src/cli/hello_cmd.cc):
//   namespace phigate::cli {
//   namespace {
//   void Register(CLI::App& app) {
//     auto* cmd = app.add_subcommand("hello", "Say hello");
//     cmd->callback([] { std::puts("hello"); });
//   }
//   PHIGATE_REGISTER_COMMAND(Register);
//   }  // namespace
//   }  // namespace phigate::cli
//
// Callbacks report failure by throwing CliError(exit_code, message): main()
// prints the message (it must hold no PHI) and exits with the code.
#ifndef PHIGATE_CLI_COMMAND_H_
#define PHIGATE_CLI_COMMAND_H_

#include <functional>
#include <stdexcept>
#include <string>
#include <vector>

#include "CLI/CLI.hpp"
#include "phigate/core/status.h"

namespace phigate::cli {

using RegisterFn = void (*)(CLI::App&);

std::vector<RegisterFn>& CommandRegistry();

struct CommandRegistrar {
  explicit CommandRegistrar(RegisterFn fn) { CommandRegistry().push_back(fn); }
};

// Exit codes: 1 = the input or config was bad, 2 = usage, 3 = an internal or I/O failure.
class CliError : public std::runtime_error {
 public:
  CliError(int code, const std::string& message) : std::runtime_error(message), code_(code) {}
  int code() const { return code_; }

 private:
  int code_;
};

// Throws CliError with a message derived from a non-OK status.
inline void ThrowIfError(const Status& s, const std::string& context) {
  if (s.ok()) return;
  const int code =
      (s.code() == absl::StatusCode::kInvalidArgument || s.code() == absl::StatusCode::kNotFound ||
       s.code() == absl::StatusCode::kFailedPrecondition)
          ? 1
          : 3;
  throw CliError(code, context + ": " + std::string(s.message()));
}

}  // namespace phigate::cli

#define PHIGATE_REGISTER_COMMAND(fn) \
  const ::phigate::cli::CommandRegistrar PHIGATE_STATUS_CONCAT_(phigate_cmd_, __LINE__)(fn)

#endif  // PHIGATE_CLI_COMMAND_H_
