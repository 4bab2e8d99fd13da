// Activation functions applied as a separate stage (activation_math.h).
#include "train/layers/activation_math.h"

#include <algorithm>
#include <cmath>
#include <string>

namespace qlite::detail {
namespace {

constexpr int64_t kMinChunk = int64_t{1} << 14;

float hard_swish(float x) { return x * std::fmin(std::fmax(x + 3.0f, 0.0f), 6.0f) / 6.0f; }

[[noreturn]] void unsupported(Activation a) {
  throw Error(std::string("training layers have no float activation ") + activation_label(a));
}

}  // namespace

void activation_forward(Activation a, const float* z, float* y, int64_t rows, int64_t cols, ThreadPool* pool) {
  const int64_t n = rows * cols;
  if (a == Activation::kSoftmax) {
    parallel_for(pool, rows, [&](int64_t r0, int64_t r1, int) {
      for (int64_t r = r0; r < r1; ++r) {
        const float* zr = z + r * cols;
        float* yr = y + r * cols;
        float m = zr[0];
        for (int64_t c = 1; c < cols; ++c) m = std::fmax(m, zr[c]);
        float sum = 0.0f;
        for (int64_t c = 0; c < cols; ++c) sum += (yr[c] = std::exp(zr[c] - m));
        const float inv = 1.0f / sum;
        for (int64_t c = 0; c < cols; ++c) yr[c] *= inv;
      }
    }, std::max<int64_t>(1, kMinChunk / std::max<int64_t>(cols, 1)));
    return;
  }
  auto each = [&](auto f) {
    parallel_for(pool, n, [&](int64_t b, int64_t e, int) {
      for (int64_t i = b; i < e; ++i) y[i] = f(z[i]);
    }, kMinChunk);
  };
  switch (a) {
    case Activation::kLinear: return each([](float x) { return x; });
    case Activation::kRelu: return each([](float x) { return std::fmax(x, 0.0f); });
    case Activation::kRelu6: return each([](float x) { return std::fmin(std::fmax(x, 0.0f), 6.0f); });
    case Activation::kTanh: return each([](float x) { return std::tanh(x); });
    case Activation::kSigmoid: return each([](float x) { return 1.0f / (1.0f + std::exp(-x)); });
    case Activation::kHardSwish: return each(hard_swish);
    default: unsupported(a);
  }
}

void activation_backward(Activation a, const float* z, const float* y, const float* dy, float* dz, int64_t rows,
                         int64_t cols, ThreadPool* pool) {
  const int64_t n = rows * cols;
  if (a == Activation::kSoftmax) {
    parallel_for(pool, rows, [&](int64_t r0, int64_t r1, int) {
      for (int64_t r = r0; r < r1; ++r) {
        const float* yr = y + r * cols;
        const float* gr = dy + r * cols;
        float dot = 0.0f;
        for (int64_t c = 0; c < cols; ++c) dot += gr[c] * yr[c];
        float* out = dz + r * cols;
        for (int64_t c = 0; c < cols; ++c) out[c] = yr[c] * (gr[c] - dot);
      }
    }, std::max<int64_t>(1, kMinChunk / std::max<int64_t>(cols, 1)));
    return;
  }
  // f(i) = the derivative at element i.
  auto each = [&](auto f) {
    parallel_for(pool, n, [&](int64_t b, int64_t e, int) {
      for (int64_t i = b; i < e; ++i) dz[i] = dy[i] * f(i);
    }, kMinChunk);
  };
  switch (a) {
    case Activation::kLinear: return each([](int64_t) { return 1.0f; });
    case Activation::kRelu: return each([&](int64_t i) { return z[i] > 0.0f ? 1.0f : 0.0f; });
    case Activation::kRelu6: return each([&](int64_t i) { return z[i] > 0.0f && z[i] < 6.0f ? 1.0f : 0.0f; });
    case Activation::kTanh: return each([&](int64_t i) { return 1.0f - y[i] * y[i]; });
    case Activation::kSigmoid: return each([&](int64_t i) { return y[i] * (1.0f - y[i]); });
    case Activation::kHardSwish:
      // d/dx x * relu6(x + 3) / 6 = relu6(x + 3) / 6 + x * relu6'(x + 3) / 6.
      return each([&](int64_t i) {
        const float x = z[i];
        if (x <= -3.0f) return 0.0f;
        if (x >= 3.0f) return 1.0f;
        return (2.0f * x + 3.0f) / 6.0f;
      });
    default: unsupported(a);
  }
}

}  // namespace qlite::detail
