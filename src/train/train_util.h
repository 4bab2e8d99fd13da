// Small helpers shared by the model's source files (not public API).
#pragma once

#include <charconv>
#include <cstdint>
#include <string>

#include "qlite/core.h"

#include <nlohmann/json.hpp>


namespace qlite {
class Model;
}

namespace qlite::detail {

// src/train/finite.cpp: throw "training diverged at epoch E[ step S]: <which>
// is nan; lower the learning rate" when `loss` is not finite (epoch and step
// 0-based here, 1-based in the message; step -1 for none), or when a parameter
// of `model` is not finite or beyond sqrt(FLT_MAX) (see finite.cpp).
void check_not_diverged(double loss, int epoch, int64_t step, const char* which);
void check_not_diverged(const Model& model, int epoch);

inline uint64_t splitmix(uint64_t x) {
  x += 0x9e3779b97f4a7c15ull;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
  return x ^ (x >> 31);
}

// A seed for stream `stream`, item `index` of a user seed. Hashing each part
// keeps (seed, index) pairs from colliding the way seed + index would
// (seed 1 layer 0 vs seed 0 layer 1).
inline uint64_t mix_seed(uint64_t seed, uint64_t stream, uint64_t index) {
  return splitmix(splitmix(splitmix(seed) ^ stream) + index);
}

constexpr uint64_t kStreamLayerInit = 0x4c41594552ull;  // "LAYER"
constexpr uint64_t kStreamShuffle = 0x5348554646ull;    // "SHUFF"

// A float as the shortest decimal that reads back to the same float, so that
// model.json shows 0.001 rather than 0.0010000000474974513.
inline nlohmann::json float_json(float f) {
  char buf[32];
  auto res = std::to_chars(buf, buf + sizeof buf, f);
  double d = 0;
  std::from_chars(buf, res.ptr, d);  // locale-free, unlike stod
  return nlohmann::json(d);
}

}  // namespace qlite::detail
