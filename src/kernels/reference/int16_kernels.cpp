// Reference 16x8 kernels (int16_kernels.h).
#include "kernels/reference/int16_kernels.h"

#include <algorithm>
#include <cmath>
#include <string>

namespace qlite::ref {
namespace {

void check_16x8(const std::vector<QuantizedMultiplier>& requant, int channels, int32_t in_zp, int32_t out_zp,
                const ActRange& act, const char* op) {
  QLITE_CHECK(in_zp == 0 && out_zp == 0, std::string(op) + ": int16 zero points must be 0");
  QLITE_CHECK(requant.size() == 1 || requant.size() == static_cast<size_t>(channels),
              std::string(op) + ": need 1 or " + std::to_string(channels) + " multipliers");
  for (const QuantizedMultiplier& m : requant)
    QLITE_CHECK(m.multiplier >= 0 && m.shift >= -31 && m.shift <= 7,
                std::string(op) + ": multiplier outside TFLite's range (shift " + std::to_string(m.shift) + ")");
  QLITE_CHECK(act.min <= act.max && act.min >= -32768 && act.max <= 32767,
              std::string(op) + ": activation range outside int16");
}

// The two instantiations (int16_kernels.h): int64 bias, or int32 bias / none.
int16_t requant16(int64_t acc, bool wide, const QuantizedMultiplier& m, const ActRange& act) {
  const int32_t v = wide ? multiply_by_quantized_multiplier_int64(acc, m.multiplier, m.shift)
                         : multiply_by_quantized_multiplier_single_round(
                               static_cast<int32_t>(static_cast<uint64_t>(acc)), m.multiplier, m.shift);
  return static_cast<int16_t>(std::clamp(v, act.min, act.max));
}

}  // namespace

int32_t multiply_by_quantized_multiplier_int64(int64_t x, int32_t multiplier, int shift) {
  const int32_t reduced = multiplier < 0x7FFF0000 ? (multiplier + (1 << 15)) >> 16 : 0x7FFF;
  const int total_shift = 15 - shift;  // 8 .. 46
  const __int128 v = static_cast<__int128>(x) * reduced + (static_cast<__int128>(1) << (total_shift - 1));
  // TFLite keeps the sum in int64 and narrows the shifted value to int32.
  return static_cast<int32_t>(static_cast<int64_t>(v) >> total_shift);
}

int32_t multiply_by_quantized_multiplier_single_round(int32_t x, int32_t multiplier, int shift) {
  const int total_shift = 31 - shift;  // 24 .. 62
  // |x * M0| < 2^62 and the rounding term < 2^61: no int64 overflow.
  return static_cast<int32_t>((int64_t{x} * multiplier + (int64_t{1} << (total_shift - 1))) >> total_shift);
}

void conv2d_int16x8(const ConvInt8Params& p, const int16_t* input, const int8_t* weights, const int64_t* bias64,
                    const int32_t* bias32, int16_t* output) {
  const WindowGeometry& g = p.g;
  validate_geometry(g, "conv2d_int16x8");
  check_16x8(p.requant, g.out_c, p.input_zero_point, p.output_zero_point, p.act, "conv2d_int16x8");
  QLITE_CHECK(input && weights && output, "conv2d_int16x8: null tensor");
  QLITE_CHECK(!(bias64 && bias32), "conv2d_int16x8: one bias at most");
  for (int b = 0; b < g.batch; ++b)
    for (int oy = 0; oy < g.out_h; ++oy)
      for (int ox = 0; ox < g.out_w; ++ox)
        for (int oc = 0; oc < g.out_c; ++oc) {
          int64_t acc = 0;
          for (int ky = 0; ky < g.kernel_h; ++ky) {
            const int iy = oy * g.stride_h - g.pad_top + ky * g.dilation_h;
            if (iy < 0 || iy >= g.in_h) continue;
            for (int kx = 0; kx < g.kernel_w; ++kx) {
              const int ix = ox * g.stride_w - g.pad_left + kx * g.dilation_w;
              if (ix < 0 || ix >= g.in_w) continue;
              const int16_t* in_px = input + ((int64_t{b} * g.in_h + iy) * g.in_w + ix) * g.in_c;
              const int8_t* w_px = weights + ((int64_t{oc} * g.kernel_h + ky) * g.kernel_w + kx) * g.in_c;
              for (int ic = 0; ic < g.in_c; ++ic) acc += int64_t{w_px[ic]} * in_px[ic];
            }
          }
          if (bias64) acc += bias64[oc];
          if (bias32) acc += bias32[oc];
          const QuantizedMultiplier& m = p.requant.size() == 1 ? p.requant[0] : p.requant[static_cast<size_t>(oc)];
          output[((int64_t{b} * g.out_h + oy) * g.out_w + ox) * g.out_c + oc] = requant16(acc, bias64 != nullptr, m, p.act);
        }
}

void fully_connected_int16x8(const FullyConnectedInt8Params& p, const int16_t* input, const int8_t* weights,
                             const int64_t* bias64, const int32_t* bias32, int16_t* output) {
  QLITE_CHECK(p.batch > 0 && p.in_features > 0 && p.out_features > 0,
              "fully_connected_int16x8: dimensions must be positive");
  check_16x8(p.requant, p.out_features, p.input_zero_point, p.output_zero_point, p.act, "fully_connected_int16x8");
  QLITE_CHECK(input && weights && output, "fully_connected_int16x8: null tensor");
  QLITE_CHECK(!(bias64 && bias32), "fully_connected_int16x8: one bias at most");
  for (int b = 0; b < p.batch; ++b) {
    const int16_t* x = input + int64_t{b} * p.in_features;
    for (int o = 0; o < p.out_features; ++o) {
      const int8_t* w = weights + int64_t{o} * p.in_features;
      int64_t acc = 0;
      for (int k = 0; k < p.in_features; ++k) acc += int64_t{w[k]} * x[k];
      if (bias64) acc += bias64[o];
      if (bias32) acc += bias32[o];
      const QuantizedMultiplier& m = p.requant.size() == 1 ? p.requant[0] : p.requant[static_cast<size_t>(o)];
      output[int64_t{b} * p.out_features + o] = requant16(acc, bias64 != nullptr, m, p.act);
    }
  }
}

bool checked_log2(float x, int* log2_result) {
  const float x_log2 = std::log(x) * (1.0f / std::log(2.0f));
  const float rounded = std::round(x_log2);
  // A finite positive float's log2 lies within [-150, 128]; others are no power of two.
  if (!std::isfinite(rounded)) {
    *log2_result = 0;
    return false;
  }
  *log2_result = static_cast<int>(rounded);
  return std::abs(x_log2 - rounded) < 1e-3f;
}

namespace {

// gemmlowp's RoundingDivideByPOT on int16 (round half away from zero).
int16_t rounding_divide_by_pot16(int16_t x, int exponent) {
  const int32_t mask = (1 << exponent) - 1;
  const int32_t remainder = x & mask;
  const int32_t threshold = (mask >> 1) + (x < 0 ? 1 : 0);
  return static_cast<int16_t>((x >> exponent) + (remainder > threshold ? 1 : 0));
}

}  // namespace

AddInt16Params make_add_params_int16(float scale1, int32_t zp1, float scale2, int32_t zp2, float out_scale,
                                     int32_t out_zp, Activation act, bool pot_scale_int16, const char* op) {
  for (float sc : {scale1, scale2, out_scale})
    QLITE_CHECK(std::isfinite(sc) && sc > 0.0f, "make_add_params_int16: scales must be finite and > 0");
  QLITE_CHECK(zp1 == 0 && zp2 == 0 && out_zp == 0, std::string("int16 ") + op + ": zero points must be 0");
  AddInt16Params p;
  p.act = fused_activation_range(act, out_scale, 0, -32768, 32767);
  int l1 = 0, l2 = 0, lo = 0;
  p.pot = pot_scale_int16 && checked_log2(scale1, &l1) && checked_log2(scale2, &l2) && checked_log2(out_scale, &lo);
  if (p.pot) {
    p.input1_shift = l1 - lo;
    p.input2_shift = l2 - lo;
    QLITE_CHECK(p.input1_shift == 0 || p.input2_shift == 0,
                std::string("int16 ") + op + " with power-of-two scales: one input's scale must equal the output's");
    QLITE_CHECK(p.input1_shift <= 0 && p.input2_shift <= 0,
                std::string("int16 ") + op + " with power-of-two scales: an input scale exceeds the output's");
    return p;
  }
  AddInt8Params& g = p.general;
  g.left_shift = 15;
  const double twice_max = 2.0 * std::max<double>(scale1, scale2);
  g.input1 = quantize_multiplier(static_cast<double>(scale1) / twice_max);
  g.input2 = quantize_multiplier(static_cast<double>(scale2) / twice_max);
  g.output = quantize_multiplier(twice_max / (static_cast<double>(int64_t{1} << g.left_shift) * out_scale));
  g.act = p.act;
  return p;
}

namespace {

// The power-of-two path of ADD (add.cc AddFunc16 / Add16) and SUB (Sub16):
// the input whose scale is the output's taken as is, the other divided by
// 2^shift (gemmlowp RoundingDivideByPOT on int16), then a + sign * b
// saturated to int16 and clamped to the activation range.
void pot_combine16(const AddInt16Params& p, int sign, int64_t n, const int16_t* a, const int16_t* b,
                   int16_t* output) {
  QLITE_CHECK(p.input1_shift <= 0 && p.input2_shift <= 0 && (p.input1_shift == 0 || p.input2_shift == 0) &&
                  p.input1_shift >= -15 && p.input2_shift >= -15,
              "int16 power-of-two ADD / SUB: shifts out of range");
  for (int64_t i = 0; i < n; ++i) {
    const int32_t x = p.input1_shift == 0 ? a[i] : rounding_divide_by_pot16(a[i], -p.input1_shift);
    const int32_t y = p.input2_shift == 0 ? b[i] : rounding_divide_by_pot16(b[i], -p.input2_shift);
    const int32_t v = std::clamp<int32_t>(x + sign * y, -32768, 32767);  // SaturatingAdd / SaturatingSub
    output[i] = static_cast<int16_t>(std::clamp(v, p.act.min, p.act.max));
  }
}

}  // namespace

void sub_int16_pot(const AddInt16Params& p, int64_t n, const int16_t* a, const int16_t* b, int16_t* output) {
  QLITE_CHECK(n >= 0, "sub_int16_pot: negative size");
  QLITE_CHECK(n == 0 || (a && b && output), "sub_int16_pot: null tensor");
  QLITE_CHECK(p.pot, "sub_int16_pot: parameters of the general path");
  QLITE_CHECK(p.act.min <= p.act.max && p.act.min >= -32768 && p.act.max <= 32767, "sub_int16_pot: activation range");
  pot_combine16(p, -1, n, a, b, output);
}

void add_int16(const AddInt16Params& p, int64_t n, const int16_t* a, const int16_t* b, int16_t* output) {
  QLITE_CHECK(n >= 0, "add_int16: negative size");
  QLITE_CHECK(n == 0 || (a && b && output), "add_int16: null tensor");
  QLITE_CHECK(p.act.min <= p.act.max && p.act.min >= -32768 && p.act.max <= 32767, "add_int16: activation range");
  if (p.pot) {
    pot_combine16(p, 1, n, a, b, output);
    return;
  }
  const AddInt8Params& g = p.general;
  QLITE_CHECK(g.left_shift == 15 && g.input1.shift <= 0 && g.input2.shift <= 0,
              "add_int16: general parameters out of range");
  for (int64_t i = 0; i < n; ++i) {
    // |x| <= 2^15, so x * 2^15 stays within int32.
    const int32_t x1 = int32_t{a[i]} * (int32_t{1} << g.left_shift);
    const int32_t x2 = int32_t{b[i]} * (int32_t{1} << g.left_shift);
    const int32_t sum = multiply_by_quantized_multiplier(x1, g.input1) + multiply_by_quantized_multiplier(x2, g.input2);
    const int32_t v = multiply_by_quantized_multiplier(sum, g.output);
    output[i] = static_cast<int16_t>(std::clamp(v, p.act.min, p.act.max));
  }
}

}  // namespace qlite::ref
