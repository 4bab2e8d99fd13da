// Replays fuzz inputs without libFuzzer: linked with one fuzz/*_fuzz.cpp
// into fuzz_replay_<target> by the normal build (GCC or clang, also the
// ASan + UBSan build), it calls LLVMFuzzerTestOneInput on every regular file
// of the directories given. CTest runs it as fuzz.replay.<target> over
// fuzz/corpus/<target> and fuzz/regressions/<target> (fuzz/CMakeLists.txt).
//
// A missing or unreadable directory, a directory without files, or an
// unreadable file fails the run (exit 1): a replay that reads nothing must not
// pass. A crash or sanitizer report in the target fails it too.
#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size);
extern "C" __attribute__((weak)) int LLVMFuzzerInitialize(int* argc, char*** argv);

int main(int argc, char** argv) {
  namespace fs = std::filesystem;
  if (argc < 2) {
    std::fprintf(stderr, "usage: %s DIR...\n", argv[0]);
    return 2;
  }
  if (LLVMFuzzerInitialize != nullptr) LLVMFuzzerInitialize(&argc, &argv);
  for (int a = 1; a < argc; ++a) {
    const fs::path dir = argv[a];
    std::error_code ec;
    if (!fs::is_directory(dir, ec)) {
      std::fprintf(stderr, "replay: %s is not a directory\n", dir.c_str());
      return 1;
    }
    std::vector<fs::path> files;
    for (fs::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec))
      if (it->is_regular_file()) files.push_back(it->path());
    if (ec) {
      std::fprintf(stderr, "replay: cannot list %s: %s\n", dir.c_str(), ec.message().c_str());
      return 1;
    }
    if (files.empty()) {
      std::fprintf(stderr, "replay: %s holds no input files\n", dir.c_str());
      return 1;
    }
    std::sort(files.begin(), files.end());
    size_t bytes = 0;
    for (const fs::path& f : files) {
      std::ifstream in(f, std::ios::binary);
      std::vector<uint8_t> data((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
      if (in.bad()) {
        std::fprintf(stderr, "replay: cannot read %s\n", f.c_str());
        return 1;
      }
      // libFuzzer passes a distinct allocation of exactly `size` bytes, so
      // ASan sees a read past the input; copy likewise.
      std::vector<uint8_t> exact(data.begin(), data.end());
      LLVMFuzzerTestOneInput(exact.empty() ? nullptr : exact.data(), exact.size());
      bytes += exact.size();
    }
    std::printf("replay: %zu files (%zu bytes) from %s\n", files.size(), bytes, dir.c_str());
  }
  return 0;
}
