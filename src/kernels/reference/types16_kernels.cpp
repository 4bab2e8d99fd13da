// Reference kernels of types16_kernels.h.
#include "kernels/reference/types16_kernels.h"

#include <algorithm>
#include <array>
#include <cmath>
#include <limits>
#include <string>

#include "kernels/reference/int16_kernels.h"
#include "kernels/reference/int8_detail.h"

namespace qlite::ref {
namespace {

// gemmlowp's SaturatingRoundingDoublingHighMul for int16.
int16_t srdhm16(int16_t a, int16_t b) {
  if (a == b && a == std::numeric_limits<int16_t>::min()) return std::numeric_limits<int16_t>::max();
  const int32_t ab = int32_t{a} * int32_t{b};
  const int32_t nudge = ab >= 0 ? (1 << 14) : (1 - (1 << 14));
  return static_cast<int16_t>((ab + nudge) / (1 << 15));
}

// gemmlowp's RoundingDivideByPOT for int16 (ties away from zero).
int16_t rdpot16(int16_t x, int exponent) {
  const int32_t mask = (1 << exponent) - 1;
  const int32_t remainder = int32_t{x} & mask;
  const int32_t threshold = (mask >> 1) + (x < 0 ? 1 : 0);
  return static_cast<int16_t>((int32_t{x} >> exponent) + (remainder > threshold ? 1 : 0));
}

// Strides of the output index per input dimension (0 on reduced ones).
std::array<int64_t, kMaxReduceRank> out_strides(const ReduceGeometry& g) {
  std::array<int64_t, kMaxReduceRank> out_stride{};
  int64_t s = 1;
  for (size_t d = g.in_dims.size(); d-- > 0;) {
    if (!g.reduced[d]) {
      out_stride[d] = s;
      s *= g.in_dims[d];
    }
  }
  return out_stride;
}

// fn(output index, input index) in the input's row-major order.
template <class Fn>
void for_each_reduced(const ReduceGeometry& g, Fn fn) {
  const auto stride = out_strides(g);
  const auto rank = g.in_dims.size();
  std::array<int64_t, kMaxReduceRank> idx{};
  int64_t o = 0;
  for (int64_t i = 0; i < g.in_count; ++i) {
    fn(o, i);
    for (size_t d = rank; d-- > 0;) {
      o += stride[d];
      if (++idx[d] < g.in_dims[d]) break;
      o -= stride[d] * g.in_dims[d];
      idx[d] = 0;
    }
  }
}

template <class V>
void mean_wide(const ReduceGeometry& g, const V* in, int64_t* sums, V* out) {
  QLITE_CHECK(g.reduce_count > 0 && (g.in_count == 0 || (in && sums && out)), "mean: invalid tensors");
  std::fill(sums, sums + g.out_count, int64_t{0});
  for_each_reduced(g, [&](int64_t o, int64_t i) {
    sums[o] = static_cast<int64_t>(static_cast<uint64_t>(sums[o]) + static_cast<uint64_t>(int64_t{in[i]}));
  });
  for (int64_t o = 0; o < g.out_count; ++o) out[o] = static_cast<V>(sums[o] / g.reduce_count);
}

template <class Q>
void reduce_prod(const ReduceGeometry& g, const ReduceProdParams& p, const Q* in, int32_t* acc, uint8_t* seen,
                 Q* out) {
  QLITE_CHECK(g.in_count == 0 || (in && acc && seen && out), "reduce_prod: null tensor");
  QLITE_CHECK(p.scaling.shift >= -31 && p.scaling.shift <= 7, "reduce_prod: scaling shift outside [-31, 7]");
  std::fill(seen, seen + g.out_count, uint8_t{0});
  std::fill(acc, acc + g.out_count, int32_t{0});
  for_each_reduced(g, [&](int64_t o, int64_t i) {
    const int32_t x = int32_t{in[i]} - p.input_zero_point;
    if (!seen[o]) {
      acc[o] = x;
      seen[o] = 1;
    } else {
      acc[o] = multiply_by_quantized_multiplier_int64(int64_t{acc[o]} * x, p.scaling.multiplier, p.scaling.shift);
    }
  });
  for (int64_t o = 0; o < g.out_count; ++o) {
    const int64_t r =
        int64_t{multiply_by_quantized_multiplier_int64(acc[o], p.scaling.multiplier, p.scaling.shift)} +
        p.output_zero_point;
    out[o] = static_cast<Q>(std::clamp<int64_t>(r, std::numeric_limits<Q>::min(), std::numeric_limits<Q>::max()));
  }
}

}  // namespace

// max_pool2d_int16 and average_pool2d_int16 share int8_pool.cpp's loops.

int32_t mul_int16_to_8bit_value(int16_t a, int16_t b, int32_t output_zero_point, const ActRange& act) {
  const int16_t rescaled = rdpot16(srdhm16(a, b), 8);
  // TFLite clamps in int16 (std::min<int16_t>): the bounds minus the zero
  // point are within int16 for 8-bit outputs.
  int16_t clamped = std::min<int16_t>(static_cast<int16_t>(act.max - output_zero_point), rescaled);
  clamped = std::max<int16_t>(static_cast<int16_t>(act.min - output_zero_point), clamped);
  return output_zero_point + clamped;
}

void mul_int16_to_int8(int64_t n, const int16_t* a, const int16_t* b, int32_t output_zero_point, const ActRange& act,
                       int8_t* out) {
  detail::check_zero_point(output_zero_point, "mul_int16_to_int8 output");
  detail::check_act(act, "mul_int16_to_int8");
  for (int64_t i = 0; i < n; ++i) out[i] = static_cast<int8_t>(mul_int16_to_8bit_value(a[i], b[i], output_zero_point, act));
}

void mul_int16_to_uint8(int64_t n, const int16_t* a, const int16_t* b, int32_t output_zero_point, const ActRange& act,
                        uint8_t* out) {
  QLITE_CHECK(output_zero_point >= 0 && output_zero_point <= 255, "mul_int16_to_uint8: zero point outside [0, 255]");
  QLITE_CHECK(act.min >= 0 && act.max <= 255 && act.min <= act.max, "mul_int16_to_uint8: activation outside uint8");
  for (int64_t i = 0; i < n; ++i)
    out[i] = static_cast<uint8_t>(mul_int16_to_8bit_value(a[i], b[i], output_zero_point, act));
}

void softmax_int8_to_int16(const SoftmaxInt8Params& p, int64_t outer, int depth, const int8_t* in, int16_t* out) {
  detail::softmax_8bit(p, outer, depth, in, out, "softmax_int8_to_int16");
}
void softmax_uint8_to_int16(const SoftmaxInt8Params& p, int64_t outer, int depth, const uint8_t* in, int16_t* out) {
  detail::softmax_8bit(p, outer, depth, in, out, "softmax_uint8_to_int16");
}

MeanInt16Params make_mean_int16_params(MeanInt8Method method, int64_t count, float input_scale,
                                       int32_t input_zero_point, float output_scale, int32_t output_zero_point) {
  QLITE_CHECK(count > 0, "make_mean_int16_params: the mean needs at least one element");
  QLITE_CHECK(std::isfinite(input_scale) && input_scale > 0.0f && std::isfinite(output_scale) && output_scale > 0.0f,
              "make_mean_int16_params: scales must be finite and > 0");
  QLITE_CHECK(input_zero_point >= -32768 && input_zero_point <= 32767 && output_zero_point >= -32768 &&
                  output_zero_point <= 32767,
              "make_mean_int16_params: zero points must be within int16");
  MeanInt16Params p;
  p.method = method;
  p.count = count;
  p.input_zero_point = input_zero_point;
  p.output_zero_point = output_zero_point;
  if (method == MeanInt8Method::kRequantizeThenDivide) {
    p.requant = quantize_multiplier(static_cast<double>(input_scale) / static_cast<double>(output_scale));
  } else if (method == MeanInt8Method::kFloatRescale) {
    p.scale = input_scale / output_scale;
    p.bias = static_cast<float>(-input_zero_point) * p.scale;
    // An infinite quotient would make 0 * scale NaN, whose conversion is undefined.
    QLITE_CHECK(std::isfinite(p.scale) && std::isfinite(p.bias),
                "make_mean_int16_params: input scale / output scale is not finite");
  }
  return p;
}

int16_t mean_int16_from_sum(const MeanInt16Params& p, int32_t raw_sum) {
  const int64_t n = p.count;
  switch (p.method) {
    case MeanInt8Method::kRequantizeThenDivide: {
      // TFLite's int32 accumulator of (x - zp) terms, wrapping as it would.
      const auto acc_in = static_cast<int32_t>(static_cast<uint32_t>(raw_sum) -
                                               static_cast<uint32_t>(static_cast<int64_t>(n) * p.input_zero_point));
      const int32_t acc = multiply_by_quantized_multiplier(acc_in, p.requant);
      // (acc +- n/2) / n in int32 (n is an int there).
      const auto ni = static_cast<int32_t>(n);
      const int32_t half = ni / 2;
      const int32_t num = static_cast<int32_t>(acc > 0 ? static_cast<uint32_t>(acc) + static_cast<uint32_t>(half)
                                                       : static_cast<uint32_t>(acc) - static_cast<uint32_t>(half));
      return static_cast<int16_t>(std::clamp<int64_t>(int64_t{num / ni} + p.output_zero_point, -32768, 32767));
    }
    case MeanInt8Method::kTruncatedMean:
      return static_cast<int16_t>(raw_sum / n);
    case MeanInt8Method::kFloatRescale: {
      const float mean = static_cast<float>(raw_sum) / static_cast<float>(n);
      const volatile float scaled = mean * p.scale;  // rounded to float before the add, as TFLite
      float r = std::round(scaled + p.bias) + static_cast<float>(p.output_zero_point);
      r = std::min(r, 32767.0f);
      r = std::max(r, -32768.0f);
      return static_cast<int16_t>(r);
    }
  }
  return 0;
}

void mean_int16(const ReduceGeometry& g, const MeanInt16Params& p, const int16_t* in, int32_t* sums, int16_t* out) {
  QLITE_CHECK(p.count == g.reduce_count && p.count > 0, "mean_int16: count does not match the geometry");
  QLITE_CHECK(p.method != MeanInt8Method::kRequantizeThenDivide || p.count <= std::numeric_limits<int32_t>::max(),
              "mean_int16: too many elements per output");
  QLITE_CHECK(g.in_count == 0 || (in && sums && out), "mean_int16: null tensor");
  std::fill(sums, sums + g.out_count, int32_t{0});
  for_each_reduced(g, [&](int64_t o, int64_t i) {
    sums[o] = static_cast<int32_t>(static_cast<uint32_t>(sums[o]) + static_cast<uint32_t>(int32_t{in[i]}));
  });
  for (int64_t o = 0; o < g.out_count; ++o) out[o] = mean_int16_from_sum(p, sums[o]);
}

namespace {

template <class Q>
void mean_8bit(const ReduceGeometry& g, const MeanInt16Params& p, const Q* in, int32_t* sums, Q* out, const char* op) {
  QLITE_CHECK(p.count == g.reduce_count && p.count > 0, std::string(op) + ": count does not match the geometry");
  QLITE_CHECK(p.method != MeanInt8Method::kRequantizeThenDivide, std::string(op) + ": not the general path");
  QLITE_CHECK(g.in_count == 0 || (in && sums && out), std::string(op) + ": null tensor");
  std::fill(sums, sums + g.out_count, int32_t{0});
  for_each_reduced(g, [&](int64_t o, int64_t i) {
    sums[o] = static_cast<int32_t>(static_cast<uint32_t>(sums[o]) + static_cast<uint32_t>(int32_t{in[i]}));
  });
  constexpr float lo = std::numeric_limits<Q>::min(), hi = std::numeric_limits<Q>::max();
  for (int64_t o = 0; o < g.out_count; ++o) {
    if (p.method == MeanInt8Method::kTruncatedMean) {
      out[o] = static_cast<Q>(sums[o] / p.count);  // a mean of Q values: within Q
    } else {
      const float mean = static_cast<float>(sums[o]) / static_cast<float>(p.count);
      const volatile float scaled = mean * p.scale;  // rounded to float before the add, as TFLite
      float r = std::round(scaled + p.bias) + static_cast<float>(p.output_zero_point);
      r = std::min(r, hi);
      r = std::max(r, lo);
      out[o] = static_cast<Q>(r);
    }
  }
}

}  // namespace

void mean_int8(const ReduceGeometry& g, const MeanInt16Params& p, const int8_t* in, int32_t* sums, int8_t* out) {
  mean_8bit(g, p, in, sums, out, "mean_int8");
}
void mean_uint8(const ReduceGeometry& g, const MeanInt16Params& p, const uint8_t* in, int32_t* sums, uint8_t* out) {
  mean_8bit(g, p, in, sums, out, "mean_uint8");
}

void mean_f32(const ReduceGeometry& g, const float* in, float* sums, float* out) {
  QLITE_CHECK(g.reduce_count > 0 && (g.in_count == 0 || (in && sums && out)), "mean_f32: invalid tensors");
  std::fill(sums, sums + g.out_count, 0.0f);
  for_each_reduced(g, [&](int64_t o, int64_t i) { sums[o] += in[i]; });
  for (int64_t o = 0; o < g.out_count; ++o) out[o] = sums[o] / static_cast<float>(g.reduce_count);
}

void mean_int32(const ReduceGeometry& g, const int32_t* in, int64_t* sums, int32_t* out) {
  mean_wide(g, in, sums, out);
}
void mean_int64(const ReduceGeometry& g, const int64_t* in, int64_t* sums, int64_t* out) {
  mean_wide(g, in, sums, out);
}

ReduceProdParams make_reduce_prod_params(float input_scale, int32_t input_zero_point, float output_scale,
                                         int32_t output_zero_point, int64_t count) {
  if (!(std::isfinite(input_scale) && input_scale > 0.0f && std::isfinite(output_scale) && output_scale > 0.0f))
    throw Error("REDUCE_PROD: scales must be finite and > 0");
  if (count <= 0) throw Error("REDUCE_PROD: the product needs at least one element");
  // reduce.cc GetQuantProdScaling, in double.
  const double scaling = static_cast<double>(input_scale) /
                         std::pow(static_cast<double>(output_scale), 1.0 / static_cast<double>(count));
  if (!std::isfinite(scaling) || scaling >= 256.0)
    throw Error("REDUCE_PROD: per-step scaling " + std::to_string(scaling) + " is outside TFLite's range");
  ReduceProdParams p;
  p.scaling = quantize_multiplier(scaling);
  if (p.scaling.shift < -31 || p.scaling.shift > 7)
    throw Error("REDUCE_PROD: per-step scaling " + std::to_string(scaling) + " is outside TFLite's range");
  p.input_zero_point = input_zero_point;
  p.output_zero_point = output_zero_point;
  return p;
}

void reduce_prod_int8(const ReduceGeometry& g, const ReduceProdParams& p, const int8_t* in, int32_t* acc,
                      uint8_t* seen, int8_t* out) {
  reduce_prod(g, p, in, acc, seen, out);
}
void reduce_prod_int16(const ReduceGeometry& g, const ReduceProdParams& p, const int16_t* in, int32_t* acc,
                       uint8_t* seen, int16_t* out) {
  reduce_prod(g, p, in, acc, seen, out);
}

}  // namespace qlite::ref

namespace qlite::ref {
namespace {

void check_depthwise(const WindowGeometry& g, int depth_multiplier, const char* op) {
  validate_geometry(g, op);
  QLITE_CHECK(depth_multiplier > 0 && int64_t{g.in_c} * depth_multiplier == g.out_c,
              std::string(op) + ": output channels must be input channels x depth_multiplier");
}

// fn(input value, weight index) for the taps of output (b, oy, ox, oc) inside the image.
template <class In, class Fn>
void for_depthwise_taps(const WindowGeometry& g, int depth_multiplier, const In* input, int b, int oy, int ox,
                        int oc, Fn fn) {
  const int ic = oc / depth_multiplier;
  for (int ky = 0; ky < g.kernel_h; ++ky) {
    const int64_t iy = int64_t{oy} * g.stride_h - g.pad_top + int64_t{ky} * g.dilation_h;
    if (iy < 0 || iy >= g.in_h) continue;
    for (int kx = 0; kx < g.kernel_w; ++kx) {
      const int64_t ix = int64_t{ox} * g.stride_w - g.pad_left + int64_t{kx} * g.dilation_w;
      if (ix < 0 || ix >= g.in_w) continue;
      fn(input[((int64_t{b} * g.in_h + iy) * g.in_w + ix) * g.in_c + ic],
         (int64_t{ky} * g.kernel_w + kx) * g.out_c + oc);
    }
  }
}

}  // namespace

void depthwise_conv2d_int16x8(const DepthwiseInt8Params& p, const int16_t* input, const int8_t* weights,
                              const int64_t* bias, int16_t* output) {
  const WindowGeometry& g = p.g;
  check_depthwise(g, p.depth_multiplier, "depthwise_conv2d_int16x8");
  QLITE_CHECK(p.input_zero_point == 0 && p.output_zero_point == 0, "depthwise_conv2d_int16x8: zero points must be 0");
  QLITE_CHECK(p.requant.size() == 1 || p.requant.size() == static_cast<size_t>(g.out_c),
              "depthwise_conv2d_int16x8: one multiplier or one per output channel");
  for (const QuantizedMultiplier& m : p.requant)
    QLITE_CHECK(m.shift >= -31 && m.shift <= 7, "depthwise_conv2d_int16x8: multiplier shift outside [-31, 7]");
  QLITE_CHECK(p.act.min >= -32768 && p.act.max <= 32767 && p.act.min <= p.act.max,
              "depthwise_conv2d_int16x8: activation range outside int16");
  QLITE_CHECK(input && weights && output, "depthwise_conv2d_int16x8: null tensor");
  for (int b = 0; b < g.batch; ++b)
    for (int oy = 0; oy < g.out_h; ++oy)
      for (int ox = 0; ox < g.out_w; ++ox)
        for (int oc = 0; oc < g.out_c; ++oc) {
          int64_t acc = 0;
          for_depthwise_taps(g, p.depth_multiplier, input, b, oy, ox, oc,
                             [&](int16_t x, int64_t wi) { acc += int64_t{weights[wi]} * x; });
          // TFLite adds the int64 bias in int64 (it may wrap only for biases
          // near int64's limits: wrap here too, without UB).
          if (bias) acc = static_cast<int64_t>(static_cast<uint64_t>(acc) + static_cast<uint64_t>(bias[oc]));
          const QuantizedMultiplier& m = p.requant.size() == 1 ? p.requant[0] : p.requant[static_cast<size_t>(oc)];
          const int32_t v = multiply_by_quantized_multiplier_int64(acc, m.multiplier, m.shift);
          output[((int64_t{b} * g.out_h + oy) * g.out_w + ox) * g.out_c + oc] =
              static_cast<int16_t>(std::clamp(v, p.act.min, p.act.max));
        }
}

void depthwise_conv2d_hybrid(const DepthwiseHybridParams& p, const float* input, const int8_t* weights,
                             const float* bias, const HybridScratch& scratch, float* output) {
  const WindowGeometry& g = p.g;
  check_depthwise(g, p.depth_multiplier, "depthwise_conv2d_hybrid");
  QLITE_CHECK(p.weight_scales.size() == static_cast<size_t>(g.out_c),
              "depthwise_conv2d_hybrid: one weight scale per output channel");
  QLITE_CHECK(input && weights && output && scratch.quantized && scratch.scaling && scratch.offsets,
              "depthwise_conv2d_hybrid: null tensor");
  const FloatActRange act = fused_activation_range_f32(p.act);
  const int64_t image = int64_t{g.in_h} * g.in_w * g.in_c;
  for (int b = 0; b < g.batch; ++b)
    hybrid_quantize_asymmetric(input + b * image, image, scratch.quantized + b * image, &scratch.scaling[b],
                               &scratch.offsets[b]);
  for (int b = 0; b < g.batch; ++b) {
    const int8_t* q = scratch.quantized + b * image;
    const int32_t zp = scratch.offsets[b];
    for (int oy = 0; oy < g.out_h; ++oy)
      for (int ox = 0; ox < g.out_w; ++ox)
        for (int oc = 0; oc < g.out_c; ++oc) {
          int32_t acc = 0;
          for_depthwise_taps(g, p.depth_multiplier, q, 0, oy, ox, oc,
                             [&](int8_t x, int64_t wi) { acc += int32_t{weights[wi]} * (int32_t{x} - zp); });
          float v = static_cast<float>(acc);
          v = v * scratch.scaling[b] * p.weight_scales[static_cast<size_t>(oc)];
          if (bias) v += bias[oc];
          output[((int64_t{b} * g.out_h + oy) * g.out_w + ox) * g.out_c + oc] = std::min(std::max(v, act.min), act.max);
        }
  }
}

}  // namespace qlite::ref

namespace qlite::ref {

void batch_matmul_int8_to_int32(const BatchMatMulInt8Params& p, const int8_t* lhs, const int8_t* rhs, int32_t* out) {
  const BatchMatMulShape& s = p.s;
  QLITE_CHECK(lhs && rhs && out, "batch_matmul_int8_to_int32: null tensor");
  const int64_t m = s.m(), n = s.n(), k = s.k();
  // Element strides of one matrix, as matmul_kernels.cpp's mat_strides.
  const int64_t li = s.adj_x ? 1 : s.lhs_cols, lk = s.adj_x ? s.lhs_cols : 1;
  const int64_t rk = s.adj_y ? 1 : s.rhs_cols, rj = s.adj_y ? s.rhs_cols : 1;
  const int64_t lmat = s.lhs_rows * s.lhs_cols, rmat = s.rhs_rows * s.rhs_cols;
  for (int64_t b0 = 0; b0 < s.out_batch[0]; ++b0)
    for (int64_t b1 = 0; b1 < s.out_batch[1]; ++b1)
      for (int64_t b2 = 0; b2 < s.out_batch[2]; ++b2) {
        auto index = [&](const int64_t* dims) {
          const int64_t i0 = dims[0] == 1 ? 0 : b0, i1 = dims[1] == 1 ? 0 : b1, i2 = dims[2] == 1 ? 0 : b2;
          return (i0 * dims[1] + i1) * dims[2] + i2;
        };
        const int64_t lo = index(s.lhs_batch) * lmat, ro = index(s.rhs_batch) * rmat;
        const int64_t oo = ((b0 * s.out_batch[1] + b1) * s.out_batch[2] + b2) * m * n;
        for (int64_t i = 0; i < m; ++i)
          for (int64_t j = 0; j < n; ++j) {
            uint32_t acc = 0;
            for (int64_t d = 0; d < k; ++d)
              acc += static_cast<uint32_t>((int32_t{lhs[lo + i * li + d * lk]} - p.lhs_zero_point) *
                                           (int32_t{rhs[ro + d * rk + j * rj]} - p.rhs_zero_point));
            out[oo + i * n + j] = static_cast<int32_t>(acc);
          }
      }
}

}  // namespace qlite::ref
