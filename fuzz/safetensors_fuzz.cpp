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
      volatile std::byte sink{};
      for (std::byte b : e.bytes) sink = b;  // every span must be readable
      if (qlite::shape_numel(e.shape) * qlite::dtype_size(e.dtype) != (int64_t)e.bytes.size()) std::abort();
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
