// int16 LOGISTIC, TANH and SOFTMAX: see int16_activation_kernels.h.
#include "kernels/reference/int16_activation_kernels.h"

#include <algorithm>
#include <bit>
#include <cmath>
#include <string>

#include "kernels/reference/int16_kernels.h"
#include "kernels/reference/lstm_kernels.h"

namespace qlite::ref {
namespace {

void check_scale(float s, const char* op, const char* what) {
  QLITE_CHECK(std::isfinite(s) && s > 0.0f, std::string(op) + " int16: " + what + " scale must be finite and > 0, got " +
                                                std::to_string(s));
}

void check_zero_points(int32_t in_zp, int32_t out_zp, const char* op) {
  QLITE_CHECK(in_zp == 0, std::string(op) + " int16: input zero point must be 0, got " + std::to_string(in_zp));
  QLITE_CHECK(out_zp == 0, std::string(op) + " int16: output zero point must be 0, got " + std::to_string(out_zp));
}

// TFLite 2.9's general-scale multiplier: the input scale times 3 * 4096,
// doubled (with the shift counting) while it stays <= 32767 / 2 and the shift
// <= 30; then converted to int32 as x86 does (out of range: INT32_MIN).
Int16ActivationParams general_scale(float in_scale) {
  Int16ActivationParams p;
  double multiplier = static_cast<double>(in_scale) * 4096.0 * 3.0;
  int shift = 0;
  while (multiplier <= 32767.0 / 2.0 && shift <= 30) {
    ++shift;
    multiplier *= 2.0;
  }
  const int32_t m = multiplier < 2147483648.0 ? static_cast<int32_t>(multiplier) : INT32_MIN;
  p.left_shift = shift;
  p.multiplier = m;
  p.lut = m > 0;
  return p;
}

// The input rescaled to 1/(3 * 4096): (x * multiplier + round) >> shift in
// int32, wrapping as TFLite's int32 product does in practice.
int32_t lut_input(int16_t x, const Int16ActivationParams& p) {
  const int32_t round = p.left_shift > 0 ? int32_t{1} << (p.left_shift - 1) : 0;
  const int64_t wide = int64_t{x} * p.multiplier + round;
  const int32_t v = static_cast<int32_t>(static_cast<uint32_t>(static_cast<uint64_t>(wide)));
  return v >> p.left_shift;
}

uint32_t abs_u32(int32_t v) { return v < 0 ? 0u - static_cast<uint32_t>(v) : static_cast<uint32_t>(v); }

// gemmlowp SaturatingRoundingMultiplyByPOT<1> on int16.
int16_t saturating_double(int16_t x) {
  if (x > 16383) return 32767;
  if (x < -16383) return -32768;
  return static_cast<int16_t>(x * 2);
}

// gen_lut: samples of func * 32768 on [lo, hi] (num - 1 intervals), each
// biased by half the error of linear interpolation at the interval's midpoint,
// clamped to int16.
template <class F>
std::array<int16_t, 513> make_lut(F func, double lo, double hi) {
  constexpr int num = 513;
  std::array<int16_t, 513> t{};
  const double step = (hi - lo) / (num - 1);
  const double half_step = step / 2.0;
  for (int i = 0; i < num - 1; ++i) {
    const double sample = std::round(func(lo + i * step) * 32768.0);
    const double interp = std::round((func(lo + (i + 1) * step) * 32768.0 + std::round(func(lo + i * step) * 32768.0)) / 2.0);
    const double mid = std::round(func(lo + i * step + half_step) * 32768.0);
    const double bias = std::round((interp - mid) / 2.0);
    t[static_cast<size_t>(i)] = static_cast<int16_t>(std::clamp(sample - bias, -32768.0, 32767.0));
  }
  t[num - 1] = static_cast<int16_t>(std::clamp(std::round(func(hi) * 32768.0), -32768.0, 32767.0));
  return t;
}

}  // namespace

// TFLite 2.9's values (common.h sigmoid_table_uint16). They are sigmoid(i /
// 24) * 65536 within one unit but follow no single rounding rule (nearest
// differs in 44 entries, upward in 97), so they are data, not a formula; the
// unit test int16_activation_test.cpp checks each against the function.
const std::array<uint16_t, 256>& sigmoid_table_u16() {
  static constexpr std::array<uint16_t, 256> table = {
    32768, 33451, 34133, 34813, 35493, 36169, 36843, 37513, 38180, 38841, 39498, 40149,
    40794, 41432, 42064, 42688, 43304, 43912, 44511, 45102, 45683, 46255, 46817, 47369,
    47911, 48443, 48964, 49475, 49975, 50464, 50942, 51409, 51865, 52311, 52745, 53169,
    53581, 53983, 54374, 54755, 55125, 55485, 55834, 56174, 56503, 56823, 57133, 57433,
    57724, 58007, 58280, 58544, 58800, 59048, 59288, 59519, 59743, 59959, 60168, 60370,
    60565, 60753, 60935, 61110, 61279, 61441, 61599, 61750, 61896, 62036, 62172, 62302,
    62428, 62549, 62666, 62778, 62886, 62990, 63090, 63186, 63279, 63368, 63454, 63536,
    63615, 63691, 63765, 63835, 63903, 63968, 64030, 64090, 64148, 64204, 64257, 64308,
    64357, 64405, 64450, 64494, 64536, 64576, 64614, 64652, 64687, 64721, 64754, 64786,
    64816, 64845, 64873, 64900, 64926, 64950, 64974, 64997, 65019, 65039, 65060, 65079,
    65097, 65115, 65132, 65149, 65164, 65179, 65194, 65208, 65221, 65234, 65246, 65258,
    65269, 65280, 65291, 65301, 65310, 65319, 65328, 65337, 65345, 65352, 65360, 65367,
    65374, 65381, 65387, 65393, 65399, 65404, 65410, 65415, 65420, 65425, 65429, 65433,
    65438, 65442, 65445, 65449, 65453, 65456, 65459, 65462, 65465, 65468, 65471, 65474,
    65476, 65479, 65481, 65483, 65485, 65488, 65489, 65491, 65493, 65495, 65497, 65498,
    65500, 65501, 65503, 65504, 65505, 65507, 65508, 65509, 65510, 65511, 65512, 65513,
    65514, 65515, 65516, 65517, 65517, 65518, 65519, 65520, 65520, 65521, 65522, 65522,
    65523, 65523, 65524, 65524, 65525, 65525, 65526, 65526, 65526, 65527, 65527, 65528,
    65528, 65528, 65529, 65529, 65529, 65529, 65530, 65530, 65530, 65530, 65531, 65531,
    65531, 65531, 65531, 65532, 65532, 65532, 65532, 65532, 65532, 65533, 65533, 65533,
    65533, 65533, 65533, 65533, 65533, 65534, 65534, 65534, 65534, 65534, 65534, 65534,
    65534, 65534, 65534, 65535,
  };
  return table;
}

Int16ActivationParams make_logistic_int16_params(float in_scale, int32_t in_zp, float out_scale, int32_t out_zp) {
  check_scale(in_scale, "LOGISTIC", "input");
  check_scale(out_scale, "LOGISTIC", "output");
  QLITE_CHECK(static_cast<double>(out_scale) == 1.0 / 32768,
              "LOGISTIC int16: output scale must be 1/32768 (TensorFlow Lite's fixed LOGISTIC output), got " +
                  std::to_string(out_scale));
  check_zero_points(in_zp, out_zp, "LOGISTIC");
  int log2 = 0;
  if (checked_log2(in_scale, &log2) && 12 + log2 == 0) return {};  // gemmlowp, no shift
  return general_scale(in_scale);
}

Int16ActivationParams make_tanh_int16_params(float in_scale, int32_t in_zp, float out_scale, int32_t out_zp) {
  check_scale(in_scale, "TANH", "input");
  check_scale(out_scale, "TANH", "output");
  check_zero_points(in_zp, out_zp, "TANH");
  int out_log2 = 0;
  QLITE_CHECK(checked_log2(out_scale, &out_log2) && out_log2 == -15,
              "TANH int16: output scale must be 2^-15 (TensorFlow Lite's fixed TANH output), got " +
                  std::to_string(out_scale));
  int log2 = 0;
  if (checked_log2(in_scale, &log2) && (12 + log2 == 0 || 12 + log2 == 1)) {
    Int16ActivationParams p;
    p.left_shift = 12 + log2;
    return p;
  }
  return general_scale(in_scale);
}

void logistic_int16(const Int16ActivationParams& p, int64_t n, const int16_t* in, int16_t* out) {
  QLITE_CHECK(n >= 0 && (n == 0 || (in && out)), "logistic_int16: bad tensors");
  QLITE_CHECK(!p.lut || (p.multiplier > 0 && p.left_shift >= 0 && p.left_shift <= 31), "logistic_int16: bad params");
  if (!p.lut) {
    for (int64_t i = 0; i < n; ++i) out[i] = lstm::logistic_q3_12(in[i]);
    return;
  }
  const auto& table = sigmoid_table_u16();
  for (int64_t i = 0; i < n; ++i) {
    const int32_t v = lut_input(in[i], p);
    const uint32_t a = abs_u32(v);
    const uint32_t uh = a >> 9;  // 2^7 for the input's 1/4096 and 4 for the 3 in the multiplier: 1/24 steps
    uint32_t r;
    if (uh >= 255) {
      r = uint32_t{0x7FFF} << 10;
    } else {
      const uint32_t ua = table[uh], ub = table[uh + 1];
      r = (ua << 9) + (a & 0x1FF) * (ub - ua);
    }
    r = v >= 0 ? r + (1u << 9) : (1u << 25) - r + (1u << 9) - 1;
    out[i] = static_cast<int16_t>(r >> 10);
  }
}

void tanh_int16(const Int16ActivationParams& p, int64_t n, const int16_t* in, int16_t* out) {
  QLITE_CHECK(n >= 0 && (n == 0 || (in && out)), "tanh_int16: bad tensors");
  QLITE_CHECK(!p.lut || (p.multiplier > 0 && p.left_shift >= 0 && p.left_shift <= 31), "tanh_int16: bad params");
  if (!p.lut) {
    for (int64_t i = 0; i < n; ++i)
      out[i] = lstm::tanh_q(p.left_shift == 0 ? in[i] : saturating_double(in[i]), 3);
    return;
  }
  const auto& table = sigmoid_table_u16();
  for (int64_t i = 0; i < n; ++i) {
    const int32_t v = lut_input(in[i], p);
    const uint32_t a = abs_u32(v);
    const uint32_t uh = a >> 8;  // sigmoid(2x): half the step of LOGISTIC's
    int32_t r;
    if (uh >= 255) {
      r = int32_t{0xFFFF} << 8;
    } else {
      const uint32_t ua = table[uh], ub = table[uh + 1];
      r = static_cast<int32_t>((ua << 8) + (a & 0xFF) * (ub - ua));
    }
    r = v >= 0 ? r - (1 << 23) + (1 << 7) : -r + (1 << 23) + (1 << 7) - 1;
    out[i] = static_cast<int16_t>(r >> 8);
  }
}

int16_t int16_table_lookup(int16_t value, const std::array<int16_t, 513>& lut) {
  const size_t index = static_cast<size_t>(256 + (value >> 7));  // value >> 7 in [-256, 255]
  const int32_t offset = value & 0x7F;
  const int16_t base = lut[index];
  const int16_t slope = static_cast<int16_t>(lut[index + 1] - lut[index]);
  const int32_t delta = (int32_t{slope} * offset + 64) >> 7;
  return static_cast<int16_t>(base + delta);
}

SoftmaxInt16Params make_softmax_int16_params(float in_scale, int32_t in_zp, float beta, float out_scale,
                                             int32_t out_zp) {
  check_scale(in_scale, "SOFTMAX", "input");
  check_scale(out_scale, "SOFTMAX", "output");
  check_zero_points(in_zp, out_zp, "SOFTMAX");
  QLITE_CHECK(std::abs(out_scale - 1.0f / 32768) <= 0.001f / 32768,
              "SOFTMAX int16: output scale must be 1/32768, got " + std::to_string(out_scale));
  const double rescale = static_cast<double>(in_scale) * static_cast<double>(beta) / (10.0 / 65535.0);
  QLITE_CHECK(std::isfinite(rescale) && rescale >= 0.0 && rescale < 2147483648.0,
              "SOFTMAX int16: input scale times beta (" + std::to_string(rescale) + " after rescaling) is out of range");
  SoftmaxInt16Params p;
  p.input = quantize_multiplier(rescale);
  p.exp_lut = make_lut([](double x) { return std::exp(x); }, -10.0, 0.0);
  p.one_over_one_plus_x_lut = make_lut([](double x) { return 1.0 / (1.0 + x); }, 0.0, 1.0);
  return p;
}

void softmax_int16(const SoftmaxInt16Params& p, int64_t outer, int depth, const int16_t* in, int16_t* out) {
  QLITE_CHECK(outer >= 0 && depth >= 1 && depth <= 65536 && (outer == 0 || (in && out)), "softmax_int16: bad shape");
  for (int64_t r = 0; r < outer; ++r) {
    const int16_t* x = in + r * depth;
    int16_t* y = out + r * depth;
    int16_t max_in_row = INT16_MIN;
    for (int c = 0; c < depth; ++c) max_in_row = std::max(max_in_row, x[c]);
    auto exp_of = [&](int16_t v) {
      const int32_t diff = int32_t{v} - max_in_row;  // [-65535, 0]
      const int32_t scaled = multiply_by_quantized_multiplier(diff, p.input);
      const int32_t sym = std::clamp<int64_t>(int64_t{scaled} + 32767, -32768, 32767);
      return int16_table_lookup(static_cast<int16_t>(sym), p.exp_lut);
    };
    // Q16.15; depth <= 65536 values of at most 32767 stay below 2^31.
    int32_t sum = 0;
    for (int c = 0; c < depth; ++c) sum += exp_of(x[c]);
    const int headroom_plus_one = std::countl_zero(static_cast<uint32_t>(sum));
    // sum >= 1 always (the maximum's exp is ~32767), so headroom_plus_one is in [1, 16].
    const int32_t shifted_sum =
        static_cast<int32_t>(((static_cast<int64_t>(sum) << (headroom_plus_one - 1)) + (1 << 13)) >> 14);
    const int32_t sym_shifted = shifted_sum - ((1 << 15) + (1 << 16));
    const int16_t reciprocal = int16_table_lookup(
        static_cast<int16_t>(std::clamp<int32_t>(sym_shifted, -32768, 32767)), p.one_over_one_plus_x_lut);
    const int right_shift = 31 - headroom_plus_one;
    const int64_t round = int64_t{1} << (right_shift - 1);
    for (int c = 0; c < depth; ++c) {
      const int64_t v = (int64_t{exp_of(x[c])} * reciprocal + round) >> right_shift;
      y[c] = static_cast<int16_t>(std::clamp<int64_t>(v, 0, 32767));
    }
  }
}

}  // namespace qlite::ref
