// `phigate paths [--check]`: where this program reads the files it ships with
// (phigate/core/paths.h), and with --check whether each of them loads. After
// an install (`cmake --install`, docs/install.md) it tells whether the
// installed tree is the one in use.
#include <cstdio>
#include <filesystem>
#include <memory>
#include <string>

#include "phigate/breach/rules.h"
#include "phigate/core/paths.h"
#include "phigate/model/tagger.h"
#include "src/cli/command.h"
#include "src/detect/lexicon.h"

namespace phigate::cli {
namespace {

namespace fs = std::filesystem;

void Print(const char* key, const std::string& value) {
  std::printf("%s=%s\n", key, value.c_str());
}

// One line per file; false when it does not load. The messages name files,
// never their contents.
bool Check() {
  bool ok = true;
  const std::string data = paths::DataDir();
  if (auto lex = detect::Lexicon::Load(data); lex.ok()) {
    Print("check.lexicon", (*lex)->from_snapshot() ? "ok (from the snapshot)"
                                                   : "ok (built from the data folder's files)");
  } else {
    Print("check.lexicon", "error: " + std::string(lex.status().message()));
    ok = false;
  }
  if (auto table = breach::RuleTable::LoadDefault(); table.ok()) {
    Print("check.breach_rules", "ok");
  } else {
    Print("check.breach_rules", "error: " + std::string(table.status().message()));
    ok = false;
  }
  if (auto tagger = model::Tagger::Load(paths::ModelPath()); tagger.ok()) {
    Print("check.model", "ok");
  } else {
    Print("check.model", "error: " + std::string(tagger.status().message()));
    ok = false;
  }
  std::error_code ec;
  const bool templates = fs::is_regular_file(fs::path(paths::TemplateDir()) / "hhs_portal.md", ec);
  Print("check.templates", templates ? "ok" : "error: no hhs_portal.md in the folder");
  ok = ok && templates;
  return ok;
}

void Register(CLI::App& app) {
  auto check = std::make_shared<bool>(false);
  auto* cmd = app.add_subcommand(
      "paths", "Where phigate reads its data, model, notice templates and lexicon snapshot");
  cmd->add_flag("--check", *check, "Also load each of them; exit 1 when one fails");
  cmd->callback([check] {
    const std::string installed = paths::InstalledShareDir();
    Print("installed", installed.empty() ? "no" : installed);
    Print("data_dir", paths::DataDir());
    Print("model", paths::ModelPath());
    Print("templates", paths::TemplateDir());
    const std::string snapshot = paths::LexiconSnapshotPath();
    Print("lexicon_snapshot", snapshot.empty() ? "none" : snapshot);
    std::fflush(stdout);
    if (*check && !Check()) {
      std::fflush(stdout);
      throw CliError(1, "a file phigate ships with did not load (see check.* above)");
    }
  });
}

PHIGATE_REGISTER_COMMAND(Register);

}  // namespace
}  // namespace phigate::cli
