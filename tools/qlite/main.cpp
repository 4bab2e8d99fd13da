// The qlite command-line tool: the only place that parses flags, prints, and exits.
// Exit codes: 0 success, 2 bad usage or bad input (any qlite::Error), 1 anything else.
#include <cstdio>
#include <exception>
#include <vector>

#include "cli.h"
#include "qlite/lite.h"

int main(int argc, char** argv) {
  CLI::App app{"qlite: train, quantize, convert and run int8 models"};
  app.set_version_flag("--version", "qlite 0.1.0");
  app.require_subcommand(1);
  std::vector<qlite::cli::Command> commands = {
      qlite::cli::add_train(app),
      qlite::cli::add_eval(app),
      qlite::cli::add_inspect(app),
      qlite::cli::add_run(app),
      qlite::cli::add_qat(app),
      qlite::cli::add_convert(app),
      qlite::cli::add_demo(app),
      qlite::cli::add_bench(app),
  };
  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForAllHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForVersion& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    std::fprintf(stderr, "qlite: error: %s (see qlite --help)\n", e.what());
    return 2;
  }
  try {
    for (auto& c : commands)
      if (c.sub->parsed()) return c.run();
  } catch (const qlite::Error& e) {
    // Messages may quote names from untrusted files: one line, no control bytes.
    std::fprintf(stderr, "qlite: error: %s\n", qlite::lite::escape_control(e.what()).c_str());
    return 2;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "qlite: internal error: %s\n", qlite::lite::escape_control(e.what()).c_str());
    return 1;
  }
  return 0;
}
