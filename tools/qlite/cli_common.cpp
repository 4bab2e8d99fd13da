#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>

#include "cli.h"

namespace qlite::cli {

void write_json_file(const std::string& path, const nlohmann::json& j) {
  const std::string text = j.dump(2) + "\n";
  if (path == "-") {
    std::fwrite(text.data(), 1, text.size(), stdout);
    return;
  }
  namespace fs = std::filesystem;
  const fs::path target(path);
  if (target.has_parent_path() && !fs::exists(target.parent_path()))
    throw Error("cannot write " + path + ": directory " + target.parent_path().string() + " does not exist");
  const std::string tmp = path + ".tmp" + std::to_string(::getpid());
  {
    std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
    if (!out) throw Error("cannot write " + path + ": " + std::strerror(errno));
    out << text;
    out.flush();
    if (!out) {
      std::error_code ec;
      fs::remove(tmp, ec);
      throw Error("cannot write " + path + ": write failed");
    }
  }
  std::error_code ec;
  fs::rename(tmp, target, ec);
  if (ec) {
    fs::remove(tmp, ec);
    throw Error("cannot write " + path + ": " + ec.message());
  }
}

bool show_progress(bool quiet) { return !quiet && ::isatty(STDERR_FILENO); }

nlohmann::json environment_json(int threads) {
  nlohmann::json j;
  j["qlite_version"] = "0.1.0";
  j["isa"] = isa_name(active_isa());
  j["threads"] = threads;
  j["hardware_threads"] = hardware_threads();
  return j;
}

void require_input_matches(const Shape& model_input, const Tensor& x, const std::string& data) {
  const Shape sample(x.shape().begin() + 1, x.shape().end());
  if (model_input != sample)
    throw Error("model input shape " + shape_str(model_input) + " does not match the " + data + " images " +
                shape_str(sample));
}

void require(bool cond, const std::string& message) {
  if (!cond) throw Error(message);
}

}  // namespace qlite::cli
