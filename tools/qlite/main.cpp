// The qlite command-line tool: the only place that parses flags, prints, and exits.
// Exit codes: 0 success, 2 bad usage or bad input (any qlite::Error; always
// one line on stderr), 1 a bug (anything else).
#include <algorithm>
#include <cstdio>
#include <cstring>
#include <exception>
#include <filesystem>
#include <regex>
#include <vector>

#include "cli.h"
#include "qlite/lite.h"

namespace {

// Optimal string alignment distance: a transposition ("trian") costs 1.
size_t edit_distance(const std::string& a, const std::string& b) {
  std::vector<std::vector<size_t>> d(a.size() + 1, std::vector<size_t>(b.size() + 1));
  for (size_t i = 0; i <= a.size(); ++i) d[i][0] = i;
  for (size_t j = 0; j <= b.size(); ++j) d[0][j] = j;
  for (size_t i = 1; i <= a.size(); ++i)
    for (size_t j = 1; j <= b.size(); ++j) {
      d[i][j] = std::min({d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + (a[i - 1] != b[j - 1])});
      if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1]) d[i][j] = std::min(d[i][j], d[i - 2][j - 2] + 1);
    }
  return d[a.size()][b.size()];
}

// "; did you mean 'X'?" for the closest candidate within a few edits, else "".
std::string suggestion(const std::string& word, const std::vector<std::string>& candidates) {
  std::string best;
  size_t best_d = std::string::npos;
  for (const std::string& c : candidates) {
    const size_t d = edit_distance(word, c);
    if (d < best_d) best_d = d, best = c;
  }
  const size_t limit = std::max<size_t>(2, word.size() / 3);
  return best_d <= limit ? "; did you mean '" + best + "'?" : "";
}

std::string joined(const std::vector<std::string>& v) {
  std::string s;
  for (const auto& x : v) s += (s.empty() ? "" : ", ") + x;
  return s;
}

bool looks_like_number(const std::string& s) {
  return s.size() > 1 && s[0] == '-' && (std::isdigit(static_cast<unsigned char>(s[1])) || s[1] == '.');
}

// Names an unknown command or flag before CLI11 parses (its messages neither
// name a misspelt command nor suggest a flag). Returns "" when all is known.
std::string unknown_word(const CLI::App& app, int argc, char** argv) {
  std::vector<std::string> commands;
  for (const CLI::App* s : app.get_subcommands({})) commands.push_back(s->get_name());
  const CLI::App* sub = nullptr;
  int i = 1;
  for (; i < argc; ++i) {
    const std::string w = argv[i];
    if (!w.empty() && w[0] == '-') continue;  // --help, --version: CLI11 handles them
    for (const CLI::App* s : app.get_subcommands({}))
      if (s->get_name() == w) sub = s;
    if (sub == nullptr) return "unknown command '" + w + "'" + suggestion(w, commands) + " (commands: " + joined(commands) + ")";
    break;
  }
  if (sub == nullptr) return "";
  std::vector<std::string> flags;
  for (const CLI::Option* o : sub->get_options()) {
    for (const std::string& n : o->get_lnames()) flags.push_back("--" + n);
    for (const std::string& n : o->get_snames()) flags.push_back("-" + n);
  }
  for (++i; i < argc; ++i) {
    std::string w = argv[i];
    if (w == "--") break;
    if (w.size() < 2 || w[0] != '-' || looks_like_number(w)) continue;
    if (w.rfind("--", 0) == 0) w = w.substr(0, w.find('='));
    else w = w.substr(0, 2);  // -q, -h (short flags take no glued values here)
    if (std::find(flags.begin(), flags.end(), w) == flags.end())
      return "unknown flag '" + w + "' for 'qlite " + sub->get_name() + "'" + suggestion(w, flags) + " (see qlite " +
             sub->get_name() + " --help)";
  }
  return "";
}

// One line for every parse error: "--epochs: must be at least 1" reads
// "--epochs must be at least 1".
std::string parse_message(const CLI::ParseError& e) {
  std::string m = e.what();
  std::replace(m.begin(), m.end(), '\n', ' ');
  static const std::regex kMust("^(-[-A-Za-z0-9]+|[a-z]+): (must .*)$");
  m = std::regex_replace(m, kMust, "$1 $2");
  if (dynamic_cast<const CLI::ExtrasError*>(&e) != nullptr) {
    static const std::regex kExtras("^The following arguments? (was|were) not expected: (.*)$");
    m = std::regex_replace(m, kExtras, "unexpected argument(s): $2");
  }
  if (m == "A subcommand is required") m = "a command is required (train, eval, inspect, run, qat, convert, demo, bench)";
  return m;
}

}  // namespace

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
  const std::string unknown = unknown_word(app, argc, argv);
  if (!unknown.empty()) {
    std::fprintf(stderr, "qlite: error: %s\n", qlite::lite::escape_control(unknown).c_str());
    return 2;
  }
  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForAllHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForVersion& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    std::fprintf(stderr, "qlite: error: %s\n", qlite::lite::escape_control(parse_message(e)).c_str());
    return 2;
  }
  try {
    for (auto& c : commands)
      if (c.sub->parsed()) return c.run();
  } catch (const qlite::Error& e) {
    // Messages may quote names from untrusted files: one line, no control bytes.
    std::fprintf(stderr, "qlite: error: %s\n", qlite::lite::escape_control(e.what()).c_str());
    return 2;
  } catch (const std::filesystem::filesystem_error& e) {
    // A path the user gave that cannot be used (permissions, a loop of links).
    std::fprintf(stderr, "qlite: error: %s\n", qlite::lite::escape_control(e.what()).c_str());
    return 2;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "qlite: internal error: %s\n", qlite::lite::escape_control(e.what()).c_str());
    return 1;
  }
  return 0;
}
