#include "kernels/reference/svdf_kernels.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>

namespace qlite::ref {
namespace {

// Step 1: every value moves one slot towards the front of the flat state; the
// last slot of each filter is overwritten in step 2.
template <class V>
void shift_state(const SvdfShape& s, V* state) {
  const int64_t n = int64_t{s.batch} * s.num_filters * s.memory;
  if (n > 1) std::memmove(state, state + 1, static_cast<size_t>(n - 1) * sizeof(V));
}

// Wrapping int32 arithmetic (TFLite's int32 sums, which overflow on x86 as two's complement).
inline int32_t wrap_add(int32_t a, int32_t b) {
  return static_cast<int32_t>(static_cast<uint32_t>(a) + static_cast<uint32_t>(b));
}
inline int32_t wrap_mul(int32_t a, int32_t b) {
  return static_cast<int32_t>(static_cast<uint32_t>(a) * static_cast<uint32_t>(b));
}

}  // namespace

void svdf_float(const SvdfShape& s, const float* input, const float* weights_feature, const float* weights_time,
                const float* bias, Activation act, float* state, float* scratch, float* output) {
  const int F = s.num_filters, M = s.memory, I = s.input_size, U = s.units();
  shift_state(s, state);
  for (int b = 0; b < s.batch; ++b)
    for (int f = 0; f < F; ++f) {
      float dot = 0.0f;
      for (int i = 0; i < I; ++i) dot += weights_feature[int64_t{f} * I + i] * input[int64_t{b} * I + i];
      state[(int64_t{b} * F + f) * M + (M - 1)] = dot;
    }
  for (int b = 0; b < s.batch; ++b)
    for (int f = 0; f < F; ++f) {
      const float* st = state + (int64_t{b} * F + f) * M;
      float dot = 0.0f;
      for (int m = 0; m < M; ++m) dot += weights_time[int64_t{f} * M + m] * st[m];
      scratch[int64_t{b} * F + f] = dot;
    }
  for (int b = 0; b < s.batch; ++b)
    for (int u = 0; u < U; ++u) {
      float sum = 0.0f;
      for (int r = 0; r < s.rank; ++r) sum += scratch[int64_t{b} * F + int64_t{u} * s.rank + r];
      if (bias) sum += bias[u];
      switch (act) {
        case Activation::kRelu: sum = std::max(sum, 0.0f); break;
        case Activation::kRelu6: sum = std::min(std::max(sum, 0.0f), 6.0f); break;
        case Activation::kReluN1To1: sum = std::min(std::max(sum, -1.0f), 1.0f); break;
        case Activation::kTanh: sum = std::tanh(sum); break;
        default: break;
      }
      output[int64_t{b} * U + u] = sum;
    }
}

void svdf_int8(const SvdfShape& s, const SvdfInt8Params& p, const int8_t* input, const int8_t* weights_feature,
               const int16_t* weights_time, const int32_t* bias, int16_t* state, int32_t* scratch, int8_t* output) {
  const int F = s.num_filters, M = s.memory, I = s.input_size, U = s.units();
  shift_state(s, state);
  for (int b = 0; b < s.batch; ++b)
    for (int f = 0; f < F; ++f) {
      int32_t dot = 0;
      for (int i = 0; i < I; ++i)
        dot = wrap_add(dot, wrap_mul(weights_feature[int64_t{f} * I + i],
                                     int32_t{input[int64_t{b} * I + i]} - p.input_zero_point));
      dot = multiply_by_quantized_multiplier(dot, p.scale1);
      dot = std::clamp<int32_t>(dot, std::numeric_limits<int16_t>::min(), std::numeric_limits<int16_t>::max());
      state[(int64_t{b} * F + f) * M + (M - 1)] = static_cast<int16_t>(dot);
    }
  int32_t* time = scratch;  // [batch, F]
  for (int b = 0; b < s.batch; ++b)
    for (int f = 0; f < F; ++f) {
      const int16_t* st = state + (int64_t{b} * F + f) * M;
      int32_t dot = 0;
      for (int m = 0; m < M; ++m) dot = wrap_add(dot, wrap_mul(weights_time[int64_t{f} * M + m], st[m]));
      time[int64_t{b} * F + f] = dot;
    }
  for (int b = 0; b < s.batch; ++b)
    for (int u = 0; u < U; ++u) {
      int32_t sum = 0;
      for (int r = 0; r < s.rank; ++r) sum = wrap_add(sum, time[int64_t{b} * F + int64_t{u} * s.rank + r]);
      if (bias) sum = wrap_add(sum, bias[u]);
      const int32_t q = wrap_add(multiply_by_quantized_multiplier(sum, p.scale2), p.output_zero_point);
      output[int64_t{b} * U + u] = static_cast<int8_t>(std::clamp<int32_t>(q, -128, 127));
    }
}

}  // namespace qlite::ref
