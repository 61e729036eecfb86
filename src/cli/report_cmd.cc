// `phigate report dataflow FILE --out DIR`: the data-flow report for a compliance
// review, as Markdown and Graphviz DOT, plus SVG when `dot` is installed.
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>

#include "absl/time/time.h"
#include "phigate/policy/dataflow.h"
#include "phigate/policy/policy.h"
#include "src/cli/command.h"

namespace phigate::cli {
namespace {

void WriteFile(const std::filesystem::path& p, const std::string& data) {
  std::ofstream out(p, std::ios::binary | std::ios::trunc);
  out << data;
  out.close();
  if (!out) throw CliError(3, "cannot write " + p.string());
}

// Runs `dot -Tsvg in -o out` without a shell. False when dot is missing or fails.
bool RunDot(const std::string& in, const std::string& out) {
  const pid_t pid = ::fork();
  if (pid < 0) return false;
  if (pid == 0) {
    const char* argv[] = {"dot", "-Tsvg", in.c_str(), "-o", out.c_str(), nullptr};
    ::execvp("dot", const_cast<char* const*>(argv));
    ::_exit(127);
  }
  int status = 0;
  if (::waitpid(pid, &status, 0) < 0) return false;
  return WIFEXITED(status) && WEXITSTATUS(status) == 0;
}

struct DataflowArgs {
  std::string file, out = "dataflow", at, tenant;
  bool no_svg = false;
};

void Dataflow(const DataflowArgs& a) {
  policy::LoadOptions opts;
  opts.reject_lint_errors = false;  // report what would happen; `policy check` judges the file
  absl::Time at = absl::Now();
  if (!a.at.empty()) {
    const auto day = policy::ParseDay(a.at);
    if (!day) throw CliError(2, "--at must be YYYY-MM-DD");
    at = absl::FromUnixSeconds(*day * 86400);
  }
  opts.lint.now = at;
  auto loaded = policy::Policy::LoadFile(a.file, opts);
  ThrowIfError(loaded.status(), "report dataflow");
  if (!a.tenant.empty()) {
    // A mistyped tenant gave a report with no flows at all, which reads as
    // "nothing flows".
    const auto& tenants = (*loaded)->config().tenants;
    if (std::none_of(tenants.begin(), tenants.end(),
                     [&](const policy::Tenant& t) { return t.id == a.tenant; })) {
      throw CliError(2, "--tenant " + a.tenant + ": no such tenant in " + a.file);
    }
  }
  policy::DataflowOptions dopts;
  dopts.at = at;
  dopts.tenant = a.tenant;
  const policy::DataflowReport report = policy::BuildDataflowReport(**loaded, dopts);
  std::error_code ec;
  std::filesystem::create_directories(a.out, ec);
  if (ec) throw CliError(3, "cannot create " + a.out);
  const std::filesystem::path dir(a.out);
  WriteFile(dir / "dataflow.md", report.markdown);
  WriteFile(dir / "dataflow.dot", report.dot);
  std::printf("wrote %s\nwrote %s\n", (dir / "dataflow.md").c_str(),
              (dir / "dataflow.dot").c_str());
  if (!a.no_svg) {
    const std::string svg = (dir / "dataflow.svg").string();
    if (RunDot((dir / "dataflow.dot").string(), svg)) {
      std::printf("wrote %s\n", svg.c_str());
    } else {
      std::printf("graphviz `dot` not available: no SVG written\n");
    }
  }
}

void Register(CLI::App& app) {
  auto* report = app.add_subcommand("report", "Reports for compliance reviews");
  report->require_subcommand(1);
  auto* df = report->add_subcommand(
      "dataflow",
      "Features x PHI categories x vendors x BAAs x jurisdictions (Markdown, DOT, SVG)");
  auto args = std::make_shared<DataflowArgs>();
  df->add_option("file", args->file, "Policy YAML file")->required();
  df->add_option("--out", args->out, "Output folder (default: dataflow)");
  df->add_option("--at", args->at, "Compute BAA status and actions at this day (YYYY-MM-DD)");
  df->add_option("--tenant", args->tenant, "Only this tenant");
  df->add_flag("--no-svg", args->no_svg, "Do not run graphviz");
  df->callback([args] { Dataflow(*args); });
}

PHIGATE_REGISTER_COMMAND(Register);

}  // namespace
}  // namespace phigate::cli
