// Reference uint8 convolution, depthwise convolution, fully connected and
// pools (uint8_kernels.h).
#include "kernels/reference/uint8_kernels.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>
#include <string>

#include "kernels/reference/int8_detail.h"

namespace qlite::ref {
namespace {

void check_zp_u8(int32_t zp, const char* what) {
  QLITE_CHECK(zp >= 0 && zp <= 255, std::string(what) + ": uint8 zero point " + std::to_string(zp) +
                                        " outside [0, 255]");
}
void check_act_u8(const ActRange& a, const char* op) {
  QLITE_CHECK(a.min >= 0 && a.max <= 255 && a.min <= a.max,
              std::string(op) + ": activation range [" + std::to_string(a.min) + ", " + std::to_string(a.max) +
                  "] is not a non-empty part of [0, 255]");
}
uint8_t requant_u8(int64_t acc, const QuantizedMultiplier& m, Rounding r, int32_t zp, const ActRange& act,
                   const char* op) {
  if (acc < std::numeric_limits<int32_t>::min() || acc > std::numeric_limits<int32_t>::max())
    throw Error(std::string(op) + ": int32 accumulator overflow");
  int64_t o = int64_t{multiply_by_quantized_multiplier(static_cast<int32_t>(acc), m, r)} + zp;
  if (o < act.min) o = act.min;
  if (o > act.max) o = act.max;
  return static_cast<uint8_t>(o);
}

}  // namespace

std::vector<QuantizedMultiplier> make_uint8_requant(float input_scale, float weight_scale, float output_scale) {
  detail::check_op_scales(input_scale, {weight_scale}, output_scale, "make_uint8_requant");
  return {quantize_multiplier(fully_connected_effective_multiplier(input_scale, weight_scale, output_scale))};
}

void conv2d_uint8(const ConvInt8Params& p, int32_t wzp, const uint8_t* input, const uint8_t* weights,
                  const int32_t* bias, uint8_t* output) {
  const WindowGeometry& g = p.g;
  validate_geometry(g, "conv2d_uint8");
  check_zp_u8(p.input_zero_point, "conv2d_uint8 input");
  check_zp_u8(wzp, "conv2d_uint8 weights");
  check_zp_u8(p.output_zero_point, "conv2d_uint8 output");
  check_act_u8(p.act, "conv2d_uint8");
  detail::check_requant(p.requant, g.out_c, "conv2d_uint8");
  QLITE_CHECK(input && weights && output, "conv2d_uint8: null tensor");
  for (int b = 0; b < g.batch; ++b)
    for (int oy = 0; oy < g.out_h; ++oy)
      for (int ox = 0; ox < g.out_w; ++ox)
        for (int oc = 0; oc < g.out_c; ++oc) {
          int64_t acc = 0;
          for (int ky = 0; ky < g.kernel_h; ++ky) {
            const int iy = oy * g.stride_h - g.pad_top + ky * g.dilation_h;
            if (iy < 0 || iy >= g.in_h) continue;  // padding: the input zero point, contributes nothing
            for (int kx = 0; kx < g.kernel_w; ++kx) {
              const int ix = ox * g.stride_w - g.pad_left + kx * g.dilation_w;
              if (ix < 0 || ix >= g.in_w) continue;
              const uint8_t* x = input + ((int64_t{b} * g.in_h + iy) * g.in_w + ix) * g.in_c;
              const uint8_t* w = weights + ((int64_t{oc} * g.kernel_h + ky) * g.kernel_w + kx) * g.in_c;
              for (int ic = 0; ic < g.in_c; ++ic)
                acc += (int64_t{w[ic]} - wzp) * (int64_t{x[ic]} - p.input_zero_point);
            }
          }
          if (bias) acc += bias[oc];
          const QuantizedMultiplier& m = p.requant.size() == 1 ? p.requant[0] : p.requant[oc];
          output[((int64_t{b} * g.out_h + oy) * g.out_w + ox) * g.out_c + oc] =
              requant_u8(acc, m, Rounding::kHalfUp, p.output_zero_point, p.act, "conv2d_uint8");
        }
}

void depthwise_conv2d_uint8(const DepthwiseInt8Params& p, int32_t wzp, const uint8_t* input,
                            const uint8_t* weights, const int32_t* bias, uint8_t* output) {
  const WindowGeometry& g = p.g;
  validate_geometry(g, "depthwise_conv2d_uint8");
  QLITE_CHECK(p.depth_multiplier > 0 && int64_t{g.in_c} * p.depth_multiplier == g.out_c,
              "depthwise_conv2d_uint8: out_c must equal in_c * depth_multiplier");
  check_zp_u8(p.input_zero_point, "depthwise_conv2d_uint8 input");
  check_zp_u8(wzp, "depthwise_conv2d_uint8 weights");
  check_zp_u8(p.output_zero_point, "depthwise_conv2d_uint8 output");
  check_act_u8(p.act, "depthwise_conv2d_uint8");
  detail::check_requant(p.requant, g.out_c, "depthwise_conv2d_uint8");
  QLITE_CHECK(input && weights && output, "depthwise_conv2d_uint8: null tensor");
  for (int b = 0; b < g.batch; ++b)
    for (int oy = 0; oy < g.out_h; ++oy)
      for (int ox = 0; ox < g.out_w; ++ox)
        for (int oc = 0; oc < g.out_c; ++oc) {
          const int ic = oc / p.depth_multiplier;
          int64_t acc = 0;
          for (int ky = 0; ky < g.kernel_h; ++ky) {
            const int iy = oy * g.stride_h - g.pad_top + ky * g.dilation_h;
            if (iy < 0 || iy >= g.in_h) continue;
            for (int kx = 0; kx < g.kernel_w; ++kx) {
              const int ix = ox * g.stride_w - g.pad_left + kx * g.dilation_w;
              if (ix < 0 || ix >= g.in_w) continue;
              const int32_t x = input[((int64_t{b} * g.in_h + iy) * g.in_w + ix) * g.in_c + ic];
              const int32_t w = weights[(int64_t{ky} * g.kernel_w + kx) * g.out_c + oc];
              acc += int64_t{w - wzp} * (x - p.input_zero_point);
            }
          }
          if (bias) acc += bias[oc];
          const QuantizedMultiplier& m = p.requant.size() == 1 ? p.requant[0] : p.requant[oc];
          output[((int64_t{b} * g.out_h + oy) * g.out_w + ox) * g.out_c + oc] =
              requant_u8(acc, m, Rounding::kDoubleRounding, p.output_zero_point, p.act, "depthwise_conv2d_uint8");
        }
}

void fully_connected_uint8(const FullyConnectedInt8Params& p, int32_t wzp, const uint8_t* input,
                           const uint8_t* weights, const int32_t* bias, uint8_t* output) {
  QLITE_CHECK(p.batch > 0 && p.in_features > 0 && p.out_features > 0,
              "fully_connected_uint8: dimensions must be positive");
  check_zp_u8(p.input_zero_point, "fully_connected_uint8 input");
  check_zp_u8(wzp, "fully_connected_uint8 weights");
  check_zp_u8(p.output_zero_point, "fully_connected_uint8 output");
  check_act_u8(p.act, "fully_connected_uint8");
  detail::check_requant(p.requant, p.out_features, "fully_connected_uint8");
  QLITE_CHECK(input && weights && output, "fully_connected_uint8: null tensor");
  for (int b = 0; b < p.batch; ++b) {
    const uint8_t* x = input + int64_t{b} * p.in_features;
    for (int o = 0; o < p.out_features; ++o) {
      const uint8_t* w = weights + int64_t{o} * p.in_features;
      int64_t acc = 0;
      for (int k = 0; k < p.in_features; ++k) acc += (int64_t{w[k]} - wzp) * (int64_t{x[k]} - p.input_zero_point);
      if (bias) acc += bias[o];
      const QuantizedMultiplier& m = p.requant.size() == 1 ? p.requant[0] : p.requant[o];
      output[int64_t{b} * p.out_features + o] =
          requant_u8(acc, m, Rounding::kHalfUp, p.output_zero_point, p.act, "fully_connected_uint8");
    }
  }
}

namespace {
template <bool kMax>
void pool_u8(const PoolInt8Params& p, const uint8_t* input, uint8_t* output, const char* op) {
  const WindowGeometry& g = p.g;
  validate_geometry(g, op);
  QLITE_CHECK(g.in_c == g.out_c, std::string(op) + ": channels must be equal");
  QLITE_CHECK(g.dilation_h == 1 && g.dilation_w == 1, std::string(op) + ": pooling has no dilation");
  check_act_u8(p.act, op);
  QLITE_CHECK(input && output, std::string(op) + ": null tensor");
  for (int b = 0; b < g.batch; ++b)
    for (int oy = 0; oy < g.out_h; ++oy)
      for (int ox = 0; ox < g.out_w; ++ox)
        for (int c = 0; c < g.out_c; ++c) {
          int32_t acc = 0, count = 0;
          // Only the taps inside the input (TFLite's filter_y_start /
          // filter_y_end): the window comes from the file's options, not
          // from a weight tensor, so it can be far larger than the input.
          const int64_t y0 = int64_t{oy} * g.stride_h - g.pad_top, x0 = int64_t{ox} * g.stride_w - g.pad_left;
          const int64_t y_end = std::min<int64_t>(y0 + g.kernel_h, g.in_h);
          const int64_t x_end = std::min<int64_t>(x0 + g.kernel_w, g.in_w);
          for (int64_t iy = std::max<int64_t>(y0, 0); iy < y_end; ++iy) {
            for (int64_t ix = std::max<int64_t>(x0, 0); ix < x_end; ++ix) {
              const int32_t x = input[((int64_t{b} * g.in_h + iy) * g.in_w + ix) * g.in_c + c];
              if constexpr (kMax) acc = count == 0 ? x : std::max(acc, x);
              else acc += x;
              ++count;
            }
          }
          QLITE_CHECK(count > 0, std::string(op) + ": window at (" + std::to_string(oy) + ", " + std::to_string(ox) +
                                     ") lies entirely in the padding");
          int32_t v = kMax ? acc : (acc + count / 2) / count;
          v = std::min(std::max(v, p.act.min), p.act.max);
          output[((int64_t{b} * g.out_h + oy) * g.out_w + ox) * g.out_c + c] = static_cast<uint8_t>(v);
        }
}
}  // namespace

void average_pool2d_uint8(const PoolInt8Params& p, const uint8_t* input, uint8_t* output) {
  pool_u8<false>(p, input, output, "average_pool2d_uint8");
}
void max_pool2d_uint8(const PoolInt8Params& p, const uint8_t* input, uint8_t* output) {
  pool_u8<true>(p, input, output, "max_pool2d_uint8");
}

void softmax_uint8(const SoftmaxInt8Params& p, int64_t outer, int depth, const uint8_t* in, uint8_t* out) {
  QLITE_CHECK(outer >= 0 && depth > 0, "softmax_uint8: invalid shape");
  QLITE_CHECK(outer == 0 || (in && out), "softmax_uint8: null tensor");
  for (int64_t r = 0; r < outer; ++r) {
    const uint8_t* x = in + r * depth;
    uint8_t* y = out + r * depth;
    int32_t max_val = 0;
    for (int j = 0; j < depth; ++j) max_val = std::max(max_val, int32_t{x[j]});
    const int32_t base = 255 - max_val;  // base + x in [0, 255]
    float sum = 0.0f;
    for (int j = 0; j < depth; ++j) sum += p.table[base + x[j]];
    const float inv = 1.0f / (sum * p.output_scale);
    for (int j = 0; j < depth; ++j) {
      const float prob = std::fmin(p.table[base + x[j]] * inv, 1.0e6f);  // guards the cast for odd scales
      const int32_t q = static_cast<int32_t>(prob + 0.5f);
      y[j] = static_cast<uint8_t>(std::clamp(q, 0, 255));
    }
  }
}

AddInt8Params make_add_params_uint8(float scale1, int32_t zp1, float scale2, int32_t zp2, float out_scale,
                                    int32_t out_zp, Activation act) {
  check_zp_u8(zp1, "make_add_params_uint8 input1");
  check_zp_u8(zp2, "make_add_params_uint8 input2");
  check_zp_u8(out_zp, "make_add_params_uint8 output");
  // The multipliers depend on the scales only; the activation bounds
  // (zp + round(r / scale), clamped) move with the zero point.
  AddInt8Params p = make_add_params(scale1, zp1 - 128, scale2, zp2 - 128, out_scale, out_zp - 128, act);
  p.input1_zero_point = zp1;
  p.input2_zero_point = zp2;
  p.output_zero_point = out_zp;
  p.act = fused_activation_range(act, out_scale, out_zp, 0, 255);
  return p;
}

AddInt8Params add_params_int8_domain(AddInt8Params p) {
  p.input1_zero_point -= 128;
  p.input2_zero_point -= 128;
  p.output_zero_point -= 128;
  p.act.min -= 128;
  p.act.max -= 128;
  return p;
}

void add_uint8(const AddInt8Params& p, int64_t n, const uint8_t* a, const uint8_t* b, uint8_t* output) {
  QLITE_CHECK(n >= 0, "add_uint8: negative size");
  QLITE_CHECK(p.left_shift >= 0 && p.left_shift <= 22, "add_uint8: left_shift must be in [0, 22]");
  check_zp_u8(p.input1_zero_point, "add_uint8 input1");
  check_zp_u8(p.input2_zero_point, "add_uint8 input2");
  check_zp_u8(p.output_zero_point, "add_uint8 output");
  check_act_u8(p.act, "add_uint8");
  QLITE_CHECK(p.input1.shift <= 0 && p.input2.shift <= 0, "add_uint8: input multipliers must be < 1");
  QLITE_CHECK(n == 0 || (a && b && output), "add_uint8: null tensor");
  for (int64_t i = 0; i < n; ++i) {
    const int32_t x1 = (int32_t{a[i]} - p.input1_zero_point) * (int32_t{1} << p.left_shift);
    const int32_t x2 = (int32_t{b[i]} - p.input2_zero_point) * (int32_t{1} << p.left_shift);
    const int32_t s1 = multiply_by_quantized_multiplier(x1, p.input1);
    const int32_t s2 = multiply_by_quantized_multiplier(x2, p.input2);
    output[i] = requant_u8(int64_t{s1} + s2, p.output, Rounding::kDoubleRounding, p.output_zero_point, p.act,
                           "add_uint8");
  }
}

MeanInt8Params make_mean_params_uint8(int batch, int h, int w, int c, float input_scale, int32_t input_zero_point,
                                      float output_scale, int32_t output_zero_point, MeanInt8Method method) {
  check_zp_u8(input_zero_point, "make_mean_params_uint8 input");
  check_zp_u8(output_zero_point, "make_mean_params_uint8 output");
  // The int8 helper fills the shared fields (and checks dimensions and
  // scales); its zero-point checks see the int8-domain values.
  MeanInt8Params p = make_mean_params(batch, h, w, c, input_scale, input_zero_point - 128, output_scale,
                                      output_zero_point - 128, method);
  p.input_zero_point = input_zero_point;
  p.output_zero_point = output_zero_point;
  p.act = {0, 255};
  if (method == MeanInt8Method::kRequantizeThenDivide) {
    const float n = static_cast<float>(h) * static_cast<float>(w);
    p.requant = quantize_multiplier(static_cast<double>(input_scale / (n * output_scale)));
    // int * float, then / float: float arithmetic; +-0.5 in float, then
    // truncated toward zero (half away from zero, unless the add rounds).
    const volatile float shifted = static_cast<float>(input_zero_point) * input_scale;
    float q = shifted / output_scale;
    QLITE_CHECK(std::isfinite(q) && std::abs(q) < 2.0e9f, "make_mean_params_uint8: zero point term out of range");
    q = q > 0 ? q + 0.5f : q - 0.5f;
    p.int_bias = output_zero_point - static_cast<int32_t>(q);
  } else if (method == MeanInt8Method::kFloatRescale) {
    p.bias = static_cast<float>(-input_zero_point) * p.scale;
  }
  return p;
}

uint8_t mean_uint8_from_sum(const MeanInt8Params& p, int32_t raw_sum) {
  const int32_t n = p.h * p.w;
  int64_t v = 0;
  switch (p.method) {
    case MeanInt8Method::kRequantizeThenDivide:
      v = int64_t{multiply_by_quantized_multiplier(raw_sum, p.requant)} + p.int_bias;
      break;
    case MeanInt8Method::kTruncatedMean:
      v = raw_sum / n;
      break;
    case MeanInt8Method::kFloatRescale: {
      const float mean = static_cast<float>(raw_sum) / static_cast<float>(n);
      const volatile float scaled = mean * p.scale;  // rounded to float before the add, as TFLite
      float r = std::round(scaled + p.bias) + static_cast<float>(p.output_zero_point);
      r = std::min(r, 255.0f);
      r = std::max(r, 0.0f);
      v = static_cast<int32_t>(r);
      break;
    }
  }
  return static_cast<uint8_t>(std::clamp<int64_t>(v, p.act.min, p.act.max));
}

void mean_hw_uint8(const MeanInt8Params& p, const uint8_t* input, uint8_t* output) {
  QLITE_CHECK(p.batch > 0 && p.h > 0 && p.w > 0 && p.c > 0, "mean_hw_uint8: dimensions must be positive");
  QLITE_CHECK(int64_t{p.h} * p.w * 255 < (int64_t{1} << 31), "mean_hw_uint8: window too large for int32 sum");
  check_zp_u8(p.input_zero_point, "mean_hw_uint8 input");
  check_zp_u8(p.output_zero_point, "mean_hw_uint8 output");
  check_act_u8(p.act, "mean_hw_uint8");
  QLITE_CHECK(input && output, "mean_hw_uint8: null tensor");
  for (int b = 0; b < p.batch; ++b)
    for (int c = 0; c < p.c; ++c) {
      int32_t sum = 0;
      for (int y = 0; y < p.h; ++y)
        for (int x = 0; x < p.w; ++x) sum += input[((int64_t{b} * p.h + y) * p.w + x) * p.c + c];
      output[int64_t{b} * p.c + c] = mean_uint8_from_sum(p, sum);
    }
}

void flip_uint8_int8(int64_t n, const void* in, void* out) {
  const auto* s = static_cast<const uint8_t*>(in);
  auto* d = static_cast<uint8_t*>(out);
  // Eight bytes at a time (the compiler vectorizes the loop further).
  int64_t i = 0;
  for (; i + 8 <= n; i += 8) {
    uint64_t v;
    std::memcpy(&v, s + i, 8);
    v ^= 0x8080808080808080ull;
    std::memcpy(d + i, &v, 8);
  }
  for (; i < n; ++i) d[i] = static_cast<uint8_t>(s[i] ^ 0x80u);
}

}  // namespace qlite::ref
