// Reference kernels of the elementwise math, comparison, logical, select and
// reduction ops (MUL, SUB, MAXIMUM, MINIMUM, SQUARED_DIFFERENCE, DIV, POW,
// FLOOR_DIV, FLOOR_MOD, EQUAL ... LESS_EQUAL, LOGICAL_*, SELECT, SELECT_V2,
// RELU ... RELU_0_TO_1, LEAKY_RELU, ABS, NEG, the float unary functions, SUM,
// REDUCE_MAX / MIN / PROD): THE spec of these ops, written from TensorFlow
// Lite 2.9's kernels (tests/runtime/tflite_math_ops_test.cpp compares them
// with the real library, byte for byte on integer outputs).
//
// Broadcasting follows numpy (and TFLite's CalculateShapeForBroadcast): shapes
// are aligned at their last dimension, a dimension of 1 stretches, any other
// mismatch is an error. Quantized elementwise ops of one 8-bit input are
// defined one value at a time; the runtime evaluates them through a 256-entry
// table made from these definitions (ByteTable).
#pragma once

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdint>
#include <limits>
#include <span>
#include <vector>

#include "kernels/reference/activation_kernels.h"
#include "kernels/reference/geometry.h"
#include "kernels/reference/requantize.h"

namespace qlite::ref {

// ---- broadcasting

inline constexpr int kMaxBroadcastRank = 6;

// Up to three inputs broadcast to one output, every shape right-aligned and
// padded to `rank` dimensions; strides are 0 along stretched dimensions.
struct BroadcastGeometry {
  int rank = 1;      // padded rank (>= 1)
  int out_rank = 0;  // the output's own rank (the largest input rank)
  int inputs = 2;
  std::array<int64_t, kMaxBroadcastRank> dims{};
  std::array<std::array<int64_t, kMaxBroadcastRank>, 3> strides{};
  int64_t count = 0;  // output elements
  bool same = false;  // every input has the output's shape: a flat loop
  std::vector<int64_t> out_shape() const;
};

// Throws Error naming `op` when the shapes do not broadcast or a rank exceeds
// `max_rank` (<= kMaxBroadcastRank).
BroadcastGeometry make_broadcast(const char* op, std::span<const std::vector<int64_t>> shapes,
                                 int max_rank = kMaxBroadcastRank);

// One step of the broadcast walk: advances the per-input offsets `off` to the
// next run of the output, over dimensions top..0 (the odometer's digits in
// `idx`; the runs cover the dimensions after top).
template <size_t N>
inline void broadcast_step(const BroadcastGeometry& g, int top, std::array<int64_t, kMaxBroadcastRank>& idx,
                           std::array<int64_t, N>& off) {
  for (int d = top; d >= 0; --d) {
    const auto u = static_cast<size_t>(d);
    for (size_t k = 0; k < N; ++k) off[k] += g.strides[k][u];
    if (++idx[u] < g.dims[u]) return;
    for (size_t k = 0; k < N; ++k) off[k] -= g.strides[k][u] * g.dims[u];
    idx[u] = 0;
  }
}

// out[i] = f(a[ia], b[ib]) over the broadcast output, in row-major order.
template <class A, class B, class O, class F>
void broadcast_binary(const BroadcastGeometry& g, int64_t count, const A* a, const B* b, O* out, F&& f) {
  if (g.same) {
    for (int64_t i = 0; i < count; ++i) out[i] = f(a[i], b[i]);
    return;
  }
  const int r = g.rank;
  const int64_t inner = g.dims[static_cast<size_t>(r - 1)];
  if (inner == 0 || count == 0) return;
  const int64_t sa = g.strides[0][static_cast<size_t>(r - 1)], sb = g.strides[1][static_cast<size_t>(r - 1)];
  std::array<int64_t, kMaxBroadcastRank> idx{};
  std::array<int64_t, 2> off{};
  for (int64_t o = 0; o < count; o += inner) {
    for (int64_t k = 0; k < inner; ++k) out[o + k] = f(a[off[0] + k * sa], b[off[1] + k * sb]);
    broadcast_step(g, r - 2, idx, off);
  }
}

// out[i] = f(a[ia], b[ib], c[ic]) (SELECT_V2).
template <class A, class B, class C, class O, class F>
void broadcast_ternary(const BroadcastGeometry& g, const A* a, const B* b, const C* c, O* out, F&& f) {
  if (g.same) {
    for (int64_t i = 0; i < g.count; ++i) out[i] = f(a[i], b[i], c[i]);
    return;
  }
  const int r = g.rank;
  const int64_t inner = g.dims[static_cast<size_t>(r - 1)];
  if (inner == 0 || g.count == 0) return;
  const auto last = static_cast<size_t>(r - 1);
  const int64_t sa = g.strides[0][last], sb = g.strides[1][last], sc = g.strides[2][last];
  std::array<int64_t, kMaxBroadcastRank> idx{};
  std::array<int64_t, 3> off{};
  for (int64_t o = 0; o < g.count; o += inner) {
    for (int64_t k = 0; k < inner; ++k)
      out[o + k] = f(a[off[0] + k * sa], b[off[1] + k * sb], c[off[2] + k * sc]);
    broadcast_step(g, r - 2, idx, off);
  }
}

// MultiplyByQuantizedMultiplier's int64 overload (TFLite 2.9 common.h), which
// its int16 kernels reach: the multiplier rounded to 16 bits, one rounding
// (half up) by 2^(15 - shift).
constexpr int32_t multiply_by_quantized_multiplier_64(int64_t x, QuantizedMultiplier m) {
  const int total_shift = 31 - m.shift;
  const int64_t v = x * int64_t{m.multiplier} + (int64_t{1} << (total_shift - 1));
  return static_cast<int32_t>(v >> total_shift);
}

// ---- quantized binary arithmetic (int8, uint8, int16: qmin / qmax name the type)

// MUL (mul.cc): M = (float)(s1 * s2 / so) widened to double, QuantizeMultiplier;
// out = zo + MBQM((x - z1) * (y - z2), M), clamped to the fused activation.
struct MulQuantParams {
  int32_t in1_offset = 0, in2_offset = 0, out_offset = 0;
  QuantizedMultiplier m;
  ActRange act;
};
MulQuantParams make_mul_params(float s1, int32_t zp1, float s2, int32_t zp2, float so, int32_t zpo, Activation act,
                               int32_t qmin, int32_t qmax);
inline int32_t mul_quantized(const MulQuantParams& p, int32_t x, int32_t y) {
  const int32_t prod = (x + p.in1_offset) * (y + p.in2_offset);  // |.| <= 65536^2 / 2 for int16
  const int64_t v = int64_t{multiply_by_quantized_multiplier(prod, p.m)} + p.out_offset;
  return static_cast<int32_t>(std::clamp<int64_t>(v, p.act.min, p.act.max));
}

// SUB (sub.cc, ADD's arithmetic with the difference): both inputs shifted
// left by 20 (8-bit) or 15 (int16), scaled by s_i / (2 max(s1, s2)), the
// difference scaled by 2 max(s1, s2) / (2^left_shift so).
struct SubQuantParams {
  int32_t in1_offset = 0, in2_offset = 0, out_offset = 0;
  int left_shift = 20;
  QuantizedMultiplier m1, m2, out;
  ActRange act;
};
SubQuantParams make_sub_params(float s1, int32_t zp1, float s2, int32_t zp2, float so, int32_t zpo, Activation act,
                               int32_t qmin, int32_t qmax);
inline int32_t sub_quantized(const SubQuantParams& p, int32_t x, int32_t y) {
  const int32_t a = multiply_by_quantized_multiplier((x + p.in1_offset) * (1 << p.left_shift), p.m1);
  const int32_t b = multiply_by_quantized_multiplier((y + p.in2_offset) * (1 << p.left_shift), p.m2);
  const int64_t v = int64_t{multiply_by_quantized_multiplier(a - b, p.out)} + p.out_offset;
  return static_cast<int32_t>(std::clamp<int64_t>(v, p.act.min, p.act.max));
}

// SQUARED_DIFFERENCE of int8 (squared_difference.cc): both inputs shifted
// left by 7, scaled by s_i / (2 max(s1, s2)), the difference squared in
// int32 and scaled by (2 max)^2 / (2^14 so); no fused activation. Every
// multiplier must be below 1 (TFLite aborts otherwise; qlite refuses).
struct SquaredDifferenceQuantParams {
  int32_t in1_offset = 0, in2_offset = 0, out_offset = 0;
  QuantizedMultiplier m1, m2, out;
};
SquaredDifferenceQuantParams make_squared_difference_params(float s1, int32_t zp1, float s2, int32_t zp2, float so,
                                                            int32_t zpo);
inline int32_t squared_difference_quantized(const SquaredDifferenceQuantParams& p, int32_t x, int32_t y) {
  const int32_t a = multiply_by_quantized_multiplier((x + p.in1_offset) * (1 << 7), p.m1);
  const int32_t b = multiply_by_quantized_multiplier((y + p.in2_offset) * (1 << 7), p.m2);
  const int32_t d = a - b;  // |d| <= 255 * 2^7: the square fits int32
  const int64_t v = int64_t{multiply_by_quantized_multiplier(d * d, p.out)} + p.out_offset;
  return static_cast<int32_t>(std::clamp<int64_t>(v, -128, 127));
}

// Comparisons of 8-bit values (comparisons.cc): each input rescaled by its
// own scale (QuantizeMultiplierSmallerThanOneExp(scale): TFLite 2.9 aborts on
// a scale >= 1, qlite refuses it) after a left shift of 8; the scaled values
// are compared.
struct CompareQuantParams {
  int32_t in1_offset = 0, in2_offset = 0;
  QuantizedMultiplier m1, m2;
};
CompareQuantParams make_compare_params(float s1, int32_t zp1, float s2, int32_t zp2);
inline int32_t compare_scaled(int32_t x, int32_t offset, QuantizedMultiplier m) {
  return multiply_by_quantized_multiplier((x + offset) * (1 << 8), m);
}

// ---- integer and float scalar functions TFLite 2.9 defines its own way

// FLOOR_DIV: floor(a / b) (ints: rounded toward -inf; b == 0 is refused by the op).
template <class T>
T floor_div(T a, T b) {
  if constexpr (std::is_floating_point_v<T>) {
    return std::floor(a / b);
  } else {
    T q = a / b;
    if ((a % b != 0) && ((a < 0) != (b < 0))) --q;
    return q;
  }
}
// FLOOR_MOD: the remainder with the divisor's sign (std::fmod corrected for floats).
template <class T>
T floor_mod(T a, T b) {
  if constexpr (std::is_floating_point_v<T>) {
    const T r = std::fmod(a, b);
    return (r != 0 && ((r < 0) != (b < 0))) ? r + b : r;
  } else {
    const T r = a % b;
    return (r != 0 && ((r < 0) != (b < 0))) ? r + b : r;
  }
}
// POW of integers (pow.cc IntegerPow): repeated squaring with int wrap-around;
// a negative exponent is refused by the op.
template <class T>
T integer_pow(T base, T exp) {
  using U = std::make_unsigned_t<T>;
  U result = 1, b = static_cast<U>(base);
  while (exp) {
    if (exp & 1) result = static_cast<U>(result * b);
    exp >>= 1;
    b = static_cast<U>(b * b);
  }
  return static_cast<T>(result);
}
// ROUND: half to even (reference_ops::RoundToNearest).
inline float round_half_even(float x) {
  const float f = std::floor(x);
  const float diff = x - f;
  if (diff < 0.5f || (diff == 0.5f && std::fmod(f, 2.0f) == 0.0f)) return f;
  return f + 1.0f;
}

// ---- quantized one-input ops, one 8-bit value at a time

// RELU, RELU6, RELU_N1_TO_1, RELU_0_TO_1 (activations.cc QuantizedReluX):
// out = zo + MBQM(q - zi, QuantizeMultiplier(si / so)), clamped to
// [max(qmin, zo + (int)roundf(lo / so)), min(qmax, zo + (int)roundf(hi / so))]
// (hi = +inf: qmax), the float to int conversion as x86 does it.
struct ReluQuantParams {
  bool wide = false;  // int16: the int64 MultiplyByQuantizedMultiplier
  int32_t in_zp = 0, out_zp = 0;
  QuantizedMultiplier m;
  int32_t act_min = 0, act_max = 0;
};
ReluQuantParams make_relu_params(float lo, float hi, float si, int32_t zi, float so, int32_t zo, int32_t qmin,
                                 int32_t qmax);
int32_t relu_quantized(const ReluQuantParams& p, int32_t q);

// LEAKY_RELU (activations.cc): two multipliers, identity si / so and
// (float)(si * alpha) / so; x - zi >= 0 takes the identity.
struct LeakyReluQuantParams {
  bool wide = false;  // int16: the int64 MultiplyByQuantizedMultiplier
  int32_t in_zp = 0, out_zp = 0;
  QuantizedMultiplier identity, alpha;
  int32_t qmin = -128, qmax = 127;
};
LeakyReluQuantParams make_leaky_relu_params(float alpha, float si, int32_t zi, float so, int32_t zo, int32_t qmin,
                                            int32_t qmax);
int32_t leaky_relu_quantized(const LeakyReluQuantParams& p, int32_t q);

// ABS of int8 (elementwise.cc AbsEvalQuantized): |q - zi|, rescaled by
// QuantizeMultiplier(si / so) only when the scales differ, plus zo, clamped.
struct AbsQuantParams {
  bool wide = false;  // int16: the int64 MultiplyByQuantizedMultiplier
  int32_t in_zp = 0, out_zp = 0;
  bool rescale = false;
  QuantizedMultiplier m;
  int32_t qmin = -128, qmax = 127;
};
AbsQuantParams make_abs_params(float si, int32_t zi, float so, int32_t zo, int32_t qmin, int32_t qmax);
int32_t abs_quantized(const AbsQuantParams& p, int32_t q);

// A table of f over every value of an 8-bit type as TFLite 2.9's
// PopulateLookupTable computes it (float arithmetic, roundf, x86 conversion,
// clamp): ELU.
template <class F>
ByteTable make_float_function_table(bool is_signed, float si, int32_t zi, float so, int32_t zo, F&& f) {
  const int32_t lo = is_signed ? -128 : 0, hi = is_signed ? 127 : 255;
  const float inverse_scale = 1.0f / so;
  ByteTable t;
  for (int32_t q = lo; q <= hi; ++q) {
    const float x = si * static_cast<float>(q - zi);
    const float r = std::round(f(x) * inverse_scale);
    const int32_t v = std::clamp(x86_float_to_int32(r + static_cast<float>(zo)), lo, hi);
    t.v[static_cast<uint8_t>(q)] = static_cast<uint8_t>(v);
  }
  return t;
}
// table[(uint8_t)q] = f(q) for every q of the type (is_signed: int8).
template <class F>
ByteTable make_byte_table(bool is_signed, F&& f) {
  const int32_t lo = is_signed ? -128 : 0, hi = is_signed ? 127 : 255;
  ByteTable t;
  for (int32_t q = lo; q <= hi; ++q) t.v[static_cast<uint8_t>(q)] = static_cast<uint8_t>(std::clamp(f(q), lo, hi));
  return t;
}

// PRELU of 8-bit values (prelu.cc): x = q - zi; x >= 0: MBQM(x, si / so),
// else MBQM(x * (a - za), si * sa / so) (float quotients widened); + zo, clamped.
struct PreluQuantParams {
  int32_t in_zp = 0, alpha_zp = 0, out_zp = 0;
  QuantizedMultiplier identity, alpha;
  int32_t qmin = -128, qmax = 127;
};
PreluQuantParams make_prelu_params(float si, int32_t zi, float sa, int32_t za, float so, int32_t zo, int32_t qmin,
                                   int32_t qmax);
inline int32_t prelu_quantized(const PreluQuantParams& p, int32_t q, int32_t a) {
  const int32_t x = q - p.in_zp;
  const int32_t m = x >= 0 ? multiply_by_quantized_multiplier(x, p.identity)
                           : multiply_by_quantized_multiplier(x * (a - p.alpha_zp), p.alpha);
  return static_cast<int32_t>(std::clamp<int64_t>(int64_t{m} + p.out_zp, p.qmin, p.qmax));
}

// GELU in float (gelu.h): approximate: 0.5 x (1 + tanh(sqrt(2 / pi) (x + 0.044715 x^3))),
// else 0.5 x (1 + erf(x / sqrt(2))); both in float, so below x = -4 or so the
// 1 + ... cancels and the results are a few 1e-7 from the true function.
float gelu_f32(float x, bool approximate);

// LOG_SOFTMAX of one row: x - max - log(sum(exp(x - max))).
void log_softmax_row_f32(int64_t n, const float* x, float* y);
// L2_NORMALIZATION of one row: x / max(sqrt(sum x^2), 1e-6).
void l2_normalize_row_f32(int64_t n, const float* x, float* y);

// L2_POOL_2D of float32 NHWC (reference_ops::L2Pool): sqrt(sum of squares /
// count) over the taps inside the input, clamped to the fused activation.
void l2_pool2d_f32(const WindowGeometry& g, Activation act, const float* in, float* out);

// CUMSUM along one axis of a tensor viewed as [outer, axis, inner].
template <class V>
void cumsum(int64_t outer, int64_t axis, int64_t inner, bool exclusive, bool reverse, const V* x, V* y) {
  for (int64_t o = 0; o < outer; ++o)
    for (int64_t i = 0; i < inner; ++i) {
      V acc = V{0};
      for (int64_t k = 0; k < axis; ++k) {
        const int64_t a = reverse ? axis - 1 - k : k;
        const int64_t at = (o * axis + a) * inner + i;
        if (exclusive) {
          y[at] = acc;
          acc = static_cast<V>(acc + x[at]);
        } else {
          acc = static_cast<V>(acc + x[at]);
          y[at] = acc;
        }
      }
    }
}

// ---- reductions

// Reductions take inputs of rank <= 8 (no allocation while they run).
inline constexpr size_t kMaxReduceRank = 8;

// The input viewed as [outer, reduced..., ] by a set of axes: for every output
// element, the input elements reduced into it. Axes are resolved (negative
// ones + rank) and deduplicated; the output keeps every non-reduced dimension
// in order.
struct ReduceGeometry {
  std::vector<int64_t> in_dims;
  std::vector<bool> reduced;  // per input dimension
  int64_t out_count = 0, in_count = 0, reduce_count = 1;
};
// Throws Error naming `op` for an axis outside [-rank, rank).
ReduceGeometry make_reduce(const char* op, const std::vector<int64_t>& in_shape, std::span<const int64_t> axes);
// The output shape: reduced dims removed, or kept as 1 when keep_dims.
std::vector<int64_t> reduce_output_shape(const ReduceGeometry& g, bool keep_dims);
// out[o] = fold of in over the elements mapped to o, starting from init:
// acc = f(acc, x) in the input's row-major order (TFLite's ReduceImpl order).
template <class T, class Acc, class F>
void reduce(const ReduceGeometry& g, const T* in, Acc* acc, Acc init, F&& f) {
  std::fill(acc, acc + g.out_count, init);
  const auto rank = g.in_dims.size();  // <= kMaxReduceRank (make_reduce)
  std::array<int64_t, kMaxReduceRank> out_stride{}, idx{};
  int64_t s = 1;
  for (size_t d = rank; d-- > 0;) {
    if (!g.reduced[d]) {
      out_stride[d] = s;
      s *= g.in_dims[d];
    }
  }
  int64_t o = 0;
  for (int64_t i = 0; i < g.in_count; ++i) {
    acc[o] = f(acc[o], in[i]);
    for (size_t d = rank; d-- > 0;) {
      o += out_stride[d];
      if (++idx[d] < g.in_dims[d]) break;
      o -= out_stride[d] * g.in_dims[d];
      idx[d] = 0;
    }
  }
}

// SUM of 8-bit values with different input and output quantization
// (reference_ops::QuantizedMeanOrSum, compute_sum): the int32 sum s of the
// raw values, then (int32)roundf(s * (si / so) + (-zi * (si / so) * n)) + zo,
// every step in float, stored with the type's wrap-around (no clamp).
int32_t quantized_sum_output(int32_t raw_sum, int64_t n, float si, int32_t zi, float so, int32_t zo);

}  // namespace qlite::ref
