// Reference int8 add, quantize, dequantize, requantize and softmax.
#include <bit>
#include <cmath>
#include <cstring>
#include <string>

#include "kernels/reference/int8_detail.h"
#include "kernels/reference/int8_kernels.h"

namespace qlite::ref {

AddInt8Params make_add_params(float scale1, int32_t zp1, float scale2, int32_t zp2, float out_scale,
                              int32_t out_zp, Activation act) {
  for (float s : {scale1, scale2, out_scale})
    QLITE_CHECK(std::isfinite(s) && s > 0.0f, "make_add_params: scales must be finite and > 0");
  detail::check_zero_point(zp1, "make_add_params input1");
  detail::check_zero_point(zp2, "make_add_params input2");
  detail::check_zero_point(out_zp, "make_add_params output");
  AddInt8Params p;
  p.input1_zero_point = zp1;
  p.input2_zero_point = zp2;
  p.output_zero_point = out_zp;
  p.left_shift = 20;
  // Same double arithmetic as TFLite's add.cc Prepare.
  const double twice_max = 2.0 * std::max<double>(scale1, scale2);
  p.input1 = quantize_multiplier(static_cast<double>(scale1) / twice_max);
  p.input2 = quantize_multiplier(static_cast<double>(scale2) / twice_max);
  p.output = quantize_multiplier(twice_max / (static_cast<double>(int64_t{1} << p.left_shift) * out_scale));
  p.act = fused_activation_range(act, out_scale, out_zp);
  return p;
}

void add_int8(const AddInt8Params& p, int64_t n, const int8_t* a, const int8_t* b, int8_t* output) {
  QLITE_CHECK(n >= 0, "add_int8: negative size");
  QLITE_CHECK(p.left_shift >= 0 && p.left_shift <= 22, "add_int8: left_shift must be in [0, 22]");
  detail::check_zero_point(p.input1_zero_point, "add_int8 input1");
  detail::check_zero_point(p.input2_zero_point, "add_int8 input2");
  detail::check_zero_point(p.output_zero_point, "add_int8 output");
  detail::check_act(p.act, "add_int8");
  // TFLite calls these "SmallerThanOneExp": a positive shift would mean M >= 1.
  QLITE_CHECK(p.input1.shift <= 0 && p.input2.shift <= 0, "add_int8: input multipliers must be < 1");
  QLITE_CHECK(n == 0 || (a && b && output), "add_int8: null tensor");
  for (int64_t i = 0; i < n; ++i) {
    // |x - zp| <= 255, so the shifted values stay below 2^28 for left_shift <= 20.
    const int32_t x1 = (int32_t{a[i]} - p.input1_zero_point) * (int32_t{1} << p.left_shift);
    const int32_t x2 = (int32_t{b[i]} - p.input2_zero_point) * (int32_t{1} << p.left_shift);
    const int32_t s1 = multiply_by_quantized_multiplier(x1, p.input1);
    const int32_t s2 = multiply_by_quantized_multiplier(x2, p.input2);
    output[i] = detail::requant_output(int64_t{s1} + s2, p.output, p.output_zero_point, p.act, "add_int8");
  }
}

namespace {

template <class Q>
void quantize_impl(int64_t n, const float* x, float scale, int32_t zero_point, Q* q, int32_t qmin, int32_t qmax,
                   const char* op) {
  QLITE_CHECK(n >= 0, std::string(op) + ": negative size");
  QLITE_CHECK(std::isfinite(scale) && scale > 0.0f, std::string(op) + ": scale must be finite and > 0");
  QLITE_CHECK(zero_point >= qmin && zero_point <= qmax, std::string(op) + ": zero point out of range");
  QLITE_CHECK(n == 0 || (x && q), std::string(op) + ": null tensor");
  for (int64_t i = 0; i < n; ++i)
    q[i] = static_cast<Q>(std::clamp<int32_t>(affine_quantize_unclamped(x[i], scale, zero_point), qmin, qmax));
}

template <class Q>
void dequantize_impl(int64_t n, const Q* q, float scale, int32_t zero_point, float* x, const char* op) {
  QLITE_CHECK(n >= 0, std::string(op) + ": negative size");
  QLITE_CHECK(std::isfinite(scale), std::string(op) + ": scale must be finite");
  QLITE_CHECK(n == 0 || (x && q), std::string(op) + ": null tensor");
  // TFLite computes in double from the float scale; scale * (q - zp) is exact
  // in double, so rounding once to float equals a correctly rounded float product.
  for (int64_t i = 0; i < n; ++i)
    x[i] = static_cast<float>(static_cast<double>(scale) * (int32_t{q[i]} - zero_point));
}

}  // namespace

void quantize_f32_to_int8(int64_t n, const float* x, float scale, int32_t zero_point, int8_t* q) {
  quantize_impl(n, x, scale, zero_point, q, -128, 127, "quantize_f32_to_int8");
}
void quantize_f32_to_uint8(int64_t n, const float* x, float scale, int32_t zero_point, uint8_t* q) {
  quantize_impl(n, x, scale, zero_point, q, 0, 255, "quantize_f32_to_uint8");
}
void dequantize_int8(int64_t n, const int8_t* q, float scale, int32_t zero_point, float* x) {
  dequantize_impl(n, q, scale, zero_point, x, "dequantize_int8");
}
void dequantize_uint8(int64_t n, const uint8_t* q, float scale, int32_t zero_point, float* x) {
  dequantize_impl(n, q, scale, zero_point, x, "dequantize_uint8");
}

void quantize_f32_to_int16(int64_t n, const float* x, float scale, int32_t zero_point, int16_t* q) {
  quantize_impl(n, x, scale, zero_point, q, -32768, 32767, "quantize_f32_to_int16");
}
void dequantize_int16(int64_t n, const int16_t* q, float scale, int32_t zero_point, float* x) {
  dequantize_impl(n, q, scale, zero_point, x, "dequantize_int16");
}

float half_to_float(uint16_t h) {
  const uint32_t sign = uint32_t{h & 0x8000u} << 16;
  const uint32_t exp = (h >> 10) & 0x1fu;
  uint32_t mant = h & 0x3ffu;
  uint32_t bits;
  if (exp == 0x1f) {
    bits = sign | 0x7f800000u | (mant << 13);  // Inf or NaN (payload kept)
  } else if (exp != 0) {
    bits = sign | ((exp + 112u) << 23) | (mant << 13);  // rebias 15 -> 127
  } else if (mant == 0) {
    bits = sign;
  } else {
    // Subnormal half: normalise into a float exponent.
    int e = -1;
    do {
      mant <<= 1;
      ++e;
    } while ((mant & 0x400u) == 0);
    bits = sign | (static_cast<uint32_t>(112 - e) << 23) | ((mant & 0x3ffu) << 13);
  }
  return std::bit_cast<float>(bits);
}

uint16_t float_to_half(float f) {
  const uint32_t x = std::bit_cast<uint32_t>(f);
  const uint16_t sign = static_cast<uint16_t>((x >> 16) & 0x8000u);
  const uint32_t abs = x & 0x7fffffffu;
  if (abs >= 0x7f800000u) return static_cast<uint16_t>(sign | 0x7c00u | (abs > 0x7f800000u ? 0x200u : 0u));
  if (abs >= 0x477ff000u) return static_cast<uint16_t>(sign | 0x7c00u);  // rounds to >= 65520: Inf
  if (abs < 0x38800000u) {
    // Result is subnormal (or zero): value / 2^-24 rounded to nearest even.
    if (abs < 0x33000000u) return sign;  // below half of the smallest subnormal
    const uint32_t e = abs >> 23;
    const uint32_t m = (abs & 0x7fffffu) | 0x800000u;
    const uint32_t shift = 126u - e;  // bits to drop so that the unit is 2^-24
    uint32_t r = m >> shift;
    const uint32_t rem = m & ((1u << shift) - 1u);
    const uint32_t half = 1u << (shift - 1u);
    if (rem > half || (rem == half && (r & 1u))) ++r;
    return static_cast<uint16_t>(sign | r);
  }
  // Normal: rebias and round the 13 dropped bits to nearest even; a carry into
  // the exponent is correct (it may produce Inf only above the check above).
  uint32_t r = ((abs >> 13) - (112u << 10));
  const uint32_t rem = abs & 0x1fffu;
  if (rem > 0x1000u || (rem == 0x1000u && (r & 1u))) ++r;
  return static_cast<uint16_t>(sign | r);
}

void dequantize_f16(int64_t n, const uint16_t* h, float* x) {
  QLITE_CHECK(n >= 0, "dequantize_f16: negative size");
  QLITE_CHECK(n == 0 || (x && h), "dequantize_f16: null tensor");
  for (int64_t i = 0; i < n; ++i) x[i] = half_to_float(h[i]);
}

RequantizeParams make_requantize_params(float in_scale, int32_t in_zp, float out_scale, int32_t out_zp) {
  QLITE_CHECK(std::isfinite(in_scale) && in_scale > 0.0f && std::isfinite(out_scale) && out_scale > 0.0f,
              "make_requantize_params: scales must be finite and > 0");
  detail::check_zero_point(in_zp, "make_requantize_params input");
  detail::check_zero_point(out_zp, "make_requantize_params output");
  RequantizeParams p;
  p.input_zero_point = in_zp;
  p.output_zero_point = out_zp;
  p.requant = quantize_multiplier(static_cast<double>(in_scale) / static_cast<double>(out_scale));
  return p;
}

void requantize_int8(const RequantizeParams& p, int64_t n, const int8_t* in, int8_t* out) {
  QLITE_CHECK(n >= 0, "requantize_int8: negative size");
  detail::check_zero_point(p.input_zero_point, "requantize_int8 input");
  detail::check_zero_point(p.output_zero_point, "requantize_int8 output");
  QLITE_CHECK(n == 0 || (in && out), "requantize_int8: null tensor");
  const ActRange full{-128, 127};
  for (int64_t i = 0; i < n; ++i)
    out[i] = detail::requant_output(int64_t{in[i]} - p.input_zero_point, p.requant, p.output_zero_point, full,
                                    "requantize_int8");
}

SoftmaxInt8Params make_softmax_params(float input_scale, float beta, float output_scale, int32_t output_zero_point) {
  QLITE_CHECK(std::isfinite(input_scale) && input_scale > 0.0f, "make_softmax_params: input scale must be > 0");
  QLITE_CHECK(std::isfinite(beta) && beta > 0.0f, "make_softmax_params: beta must be > 0");
  QLITE_CHECK(std::isfinite(output_scale) && output_scale > 0.0f, "make_softmax_params: output scale must be > 0");
  detail::check_zero_point(output_zero_point, "make_softmax_params output");
  SoftmaxInt8Params p;
  const float scale = -input_scale * beta;  // float, as TFLite's PopulateSoftmaxLookupTable
  for (int32_t d = 0; d <= 255; ++d) p.table[255 - d] = std::exp(scale * static_cast<float>(d));
  p.output_scale = output_scale;
  p.output_zero_point = output_zero_point;
  return p;
}

void softmax_int8(const SoftmaxInt8Params& p, int64_t outer, int depth, const int8_t* in, int8_t* out) {
  detail::check_zero_point(p.output_zero_point, "softmax_int8 output");
  detail::softmax_8bit(p, outer, depth, in, out, "softmax_int8");
}

}  // namespace qlite::ref
