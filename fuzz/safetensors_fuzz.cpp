// libFuzzer target: bytes -> safetensors::parse, and the same bytes as model.json text -> model_from_json.
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <vector>
#include "qlite/train/model.h"
#include "train/safetensors.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::vector<std::byte> buf(size);
  if (size) std::memcpy(buf.data(), data, size);
  try {
    auto f = qlite::safetensors::parse(buf, "fuzz");
    for (auto& [k, e] : f.tensors) {
      [[maybe_unused]] volatile std::byte sink{};
      for (std::byte b : e.bytes) sink = b;  // every span must be readable
      if (static_cast<int64_t>(qlite::shape_numel(e.shape)) * static_cast<int64_t>(qlite::dtype_size(e.dtype)) !=
          static_cast<int64_t>(e.bytes.size()))
        std::abort();
    }
  } catch (const qlite::Error&) {
  }
  auto j = nlohmann::json::parse(reinterpret_cast<const char*>(data), reinterpret_cast<const char*>(data) + size,
                                 nullptr, false);
  if (!j.is_discarded()) {
    try {
      auto m = qlite::model_from_json(j);
    } catch (const qlite::Error&) {
    }
  }
  return 0;
}
