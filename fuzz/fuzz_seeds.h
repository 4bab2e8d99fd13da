// Shared by the fuzz targets: writes a target's seed inputs into the corpus
// directory named by $QLITE_FUZZ_WRITE_SEEDS (scripts/fuzz.sh sets it), so
// that mutation starts from real files. Not a fuzz target itself (a header).
#pragma once

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

namespace qlite::fuzz {

inline void write_seeds(const char* prefix, const std::vector<std::vector<uint8_t>>& seeds,
                        const char* extension = ".tflite") {
  const char* dir = std::getenv("QLITE_FUZZ_WRITE_SEEDS");
  if (dir == nullptr) return;
  int i = 0;
  for (const auto& bytes : seeds) {
    const std::string path = std::string(dir) + "/" + prefix + std::to_string(i++) + extension;
    if (FILE* f = std::fopen(path.c_str(), "wb")) {
      std::fwrite(bytes.data(), 1, bytes.size(), f);
      std::fclose(f);
    }
  }
}

}  // namespace qlite::fuzz
