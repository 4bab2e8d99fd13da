// The qlite command-line tool: the only place that parses flags, prints, and exits.
#include <cstdio>
#include <exception>

#include <CLI/CLI.hpp>

#include "qlite/core.h"

int main(int argc, char** argv) {
  CLI::App app{"qlite: train, quantize, convert and run int8 models"};
  app.set_version_flag("--version", "qlite 0.1.0");
  app.require_subcommand(1);
  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForVersion& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    std::fprintf(stderr, "qlite: %s\n", e.what());
    return 2;
  }
  return 0;
}
