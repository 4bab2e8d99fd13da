// UNIDIRECTIONAL_SEQUENCE_LSTM reference kernels (see lstm_kernels.h). The
// int16 fixed-point functions follow gemmlowp's generic scalar code on int16
// raw values: plain int16 additions wrap, products use the 16-bit rounding
// doubling high multiply, and the 32-bit constants of its polynomials are
// rounded to 16 bits by a rounding right shift of 16, as gemmlowp does.
#include "kernels/reference/lstm_kernels.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>

namespace qlite::ref::lstm {

namespace {

constexpr int16_t wrap16(int32_t v) { return static_cast<int16_t>(static_cast<uint16_t>(static_cast<uint32_t>(v))); }
constexpr int16_t add16(int16_t a, int16_t b) { return wrap16(int32_t{a} + b); }
constexpr int16_t sub16(int16_t a, int16_t b) { return wrap16(int32_t{a} - b); }
constexpr int16_t neg16(int16_t a) { return wrap16(-int32_t{a}); }

// Rounding doubling high multiply of two Q0.15 values (ARM VQRDMULH on int16).
constexpr int16_t mul16(int16_t a, int16_t b) {
  if (a == b && a == std::numeric_limits<int16_t>::min()) return std::numeric_limits<int16_t>::max();
  const int32_t ab = int32_t{a} * int32_t{b};
  const int32_t nudge = ab >= 0 ? (1 << 14) : (1 - (1 << 14));
  return wrap16((ab + nudge) / (1 << 15));
}

// Rounding right shift on int16, ties away from zero.
constexpr int16_t rdivpot16(int16_t x, int e) {
  const int16_t mask = wrap16((1 << e) - 1);
  const int16_t remainder = static_cast<int16_t>(x & mask);
  const int16_t threshold = wrap16((mask >> 1) + (x < 0 ? 1 : 0));
  return wrap16((x >> e) + (remainder > threshold ? 1 : 0));
}

// x * 2^e: saturating for e > 0, rounding for e < 0.
constexpr int16_t mulpot16(int16_t x, int e) {
  if (e == 0) return x;
  if (e < 0) return rdivpot16(x, -e);
  const int32_t threshold = (1 << (15 - e)) - 1;
  if (x > threshold) return std::numeric_limits<int16_t>::max();
  if (x < -threshold) return std::numeric_limits<int16_t>::min();
  return wrap16(int32_t{x} * (1 << e));
}

constexpr int16_t half_sum16(int16_t a, int16_t b) {
  const int32_t sum = int32_t{a} + b;
  return wrap16((sum + (sum >= 0 ? 1 : -1)) / 2);
}

constexpr int16_t sat_add16(int16_t a, int16_t b) {
  return static_cast<int16_t>(std::clamp<int32_t>(int32_t{a} + b, -32768, 32767));
}

// A 32-bit fixed-point constant in 16 bits.
constexpr int16_t constant16(int32_t v) { return wrap16(rounding_divide_by_pot(v, 16)); }

constexpr int16_t kOneQ0 = 32767;

// exp(a) for a in [-1/4, 0), Q0.15 in and out.
int16_t exp_quarter(int16_t a) {
  const int16_t constant_term = constant16(1895147668);
  const int16_t one_third = constant16(715827883);
  const int16_t x = add16(a, int16_t{1 << 12});  // a + 1/8
  const int16_t x2 = mul16(x, x);
  const int16_t x3 = mul16(x2, x);
  const int16_t x4 = mul16(x2, x2);
  const int16_t x4_over_4 = mulpot16(x4, -2);
  const int16_t poly = mulpot16(add16(mul16(add16(x4_over_4, x3), one_third), x2), -1);
  return sat_add16(constant_term, mul16(constant_term, add16(x, poly)));
}

// exp(a) for a <= 0 with `ib` integer bits; Q0.15 out.
int16_t exp_negative(int16_t a, int ib) {
  const int fb = 15 - ib;
  const int16_t one_quarter = wrap16(1 << (fb - 2));
  const int16_t mask = sub16(one_quarter, 1);
  const int16_t a_mod = sub16(static_cast<int16_t>(a & mask), one_quarter);
  int16_t result = exp_quarter(mulpot16(a_mod, ib));
  const int16_t remainder = sub16(a_mod, a);
  static constexpr int32_t kMultipliers[] = {1672461947, 1302514674, 790015084, 290630308,
                                             39332535,   720401,     242};
  for (int e = -2; e <= 4; ++e) {
    if (ib <= e) continue;
    const int16_t bit = wrap16(1 << (fb + e));
    if ((remainder & bit) != 0) result = mul16(result, constant16(kMultipliers[e + 2]));
  }
  if (ib > 5) {
    const int16_t clamp = constant16(-(1 << (36 - ib)));
    if (a < clamp) result = 0;
  }
  return a == 0 ? kOneQ0 : result;
}

// Newton-Raphson 1 / (1 + a) (as F2) for a in [0, 1], Q0.15.
int16_t reciprocal_f2(int16_t a) {
  const int16_t half_denominator = half_sum16(a, kOneQ0);
  const int16_t c48_17 = constant16(1515870810), c_neg32_17 = constant16(-1010580540);
  const int16_t one_f2 = int16_t{1 << 13};
  int16_t x = add16(c48_17, mul16(half_denominator, c_neg32_17));
  for (int i = 0; i < 3; ++i) {
    const int16_t one_minus = sub16(one_f2, mul16(half_denominator, x));
    x = add16(x, mulpot16(mul16(x, one_minus), 2));
  }
  return x;
}

}  // namespace

int16_t logistic_q3_12(int16_t a) {
  constexpr int kIb = 3;
  const bool positive = a > 0;
  const int16_t abs_a = positive ? a : neg16(a);
  const int16_t e = exp_negative(neg16(abs_a), kIb);
  const int16_t if_positive = mulpot16(reciprocal_f2(e), 1);  // 1 / (1 + e), F2 -> F1 -> F0
  const int16_t if_negative = sub16(kOneQ0, if_positive);
  if (a == 0) return constant16(1 << 30);
  return positive ? if_positive : if_negative;
}

int16_t tanh_q(int16_t a, int ib) {
  const bool negative = a < 0;
  const int16_t n = negative ? a : neg16(a);
  const int16_t e = exp_negative(n, ib + 1);  // exp(2n): the same raw value with one more integer bit
  const int16_t t = mulpot16(sub16(reciprocal_f2(e), int16_t{1 << 13}), 2);  // (1 - e) / (1 + e)
  if (a == 0) return 0;
  return negative ? neg16(t) : t;
}

namespace {

// TFLite's int8 x int8 -> int16 MatrixBatchVectorMultiplyAccumulate: the row's
// sum plus its bias, rescaled, added to the gate with int16 saturation.
void matmul_acc(const int8_t* x, const int32_t* bias, const int8_t* w, QuantizedMultiplier m, int n_batch, int n_in,
                int n_out, int16_t* gate) {
  for (int b = 0; b < n_batch; ++b) {
    for (int r = 0; r < n_out; ++r) {
      int32_t acc = bias[r];
      const int8_t* row = w + static_cast<size_t>(r) * static_cast<size_t>(n_in);
      const int8_t* v = x + static_cast<size_t>(b) * static_cast<size_t>(n_in);
      // Wrapping int32 sums (defined behaviour for rows a hostile file makes long).
      for (int c = 0; c < n_in; ++c)
        acc = static_cast<int32_t>(static_cast<uint32_t>(acc) + static_cast<uint32_t>(int32_t{v[c]} * int32_t{row[c]}));
      acc = multiply_by_quantized_multiplier(acc, m);
      int16_t& out = gate[static_cast<size_t>(b) * static_cast<size_t>(n_out) + static_cast<size_t>(r)];
      out = static_cast<int16_t>(std::clamp<int32_t>(acc + out, -32768, 32767));
    }
  }
}

void int8_gate(const Int8Step& p, int g, const int8_t* input, const int8_t* output_state, int16_t* gate) {
  const size_t count = static_cast<size_t>(p.n_batch) * static_cast<size_t>(p.n_cell);
  std::fill_n(gate, count, int16_t{0});
  matmul_acc(input, p.input_bias[g], p.input_weights[g], p.input_scale[g], p.n_batch, p.n_input, p.n_cell, gate);
  matmul_acc(output_state, p.recurrent_bias[g], p.recurrent_weights[g], p.recurrent_scale[g], p.n_batch, p.n_output,
             p.n_cell, gate);
  if (g == kCellGate) {
    for (size_t i = 0; i < count; ++i) gate[i] = tanh_q(gate[i], 3);
  } else {
    for (size_t i = 0; i < count; ++i) gate[i] = logistic_q3_12(gate[i]);
  }
}

int16_t mul_shift16(int16_t a, int16_t b, int shift) {
  return wrap16(rounding_divide_by_pot(int32_t{a} * int32_t{b}, shift));
}

}  // namespace

void int8_step(const Int8Step& p, const int8_t* input, int8_t* output_state, int16_t* cell_state, int8_t* output,
               int16_t* scratch) {
  const size_t count = static_cast<size_t>(p.n_batch) * static_cast<size_t>(p.n_cell);
  int16_t* gates[4] = {scratch, scratch + count, scratch + 2 * count, scratch + 3 * count};
  int8_gate(p, kForgetGate, input, output_state, gates[kForgetGate]);
  int8_gate(p, kCellGate, input, output_state, gates[kCellGate]);
  if (!p.cifg) int8_gate(p, kInputGate, input, output_state, gates[kInputGate]);
  // The cell: c = f * c + i * g (i = 1 - f with CIFG), int16 with saturation.
  int16_t* f = gates[kForgetGate];
  const int16_t* g = gates[kCellGate];
  for (size_t k = 0; k < count; ++k) cell_state[k] = mul_shift16(f[k], cell_state[k], 15);
  const int update_shift = 30 + p.cell_shift;
  for (size_t k = 0; k < count; ++k) {
    const int16_t i = p.cifg ? wrap16(32767 - f[k]) : gates[kInputGate][k];
    const int16_t u = mul_shift16(i, g[k], update_shift);
    cell_state[k] = static_cast<int16_t>(std::clamp<int32_t>(int32_t{cell_state[k]} + u, -32768, 32767));
  }
  if (p.cell_clip > 0)
    for (size_t k = 0; k < count; ++k) cell_state[k] = std::clamp<int16_t>(cell_state[k], -p.cell_clip, p.cell_clip);
  int8_gate(p, kOutputGate, input, output_state, gates[kOutputGate]);
  // The output: o * tanh(c), rescaled to the hidden state's int8 (whose zero
  // point TFLite subtracts).
  const int16_t* o = gates[kOutputGate];
  for (size_t k = 0; k < count; ++k) {
    const int16_t t = tanh_q(cell_state[k], 15 + p.cell_shift);
    int32_t v = multiply_by_quantized_multiplier(int32_t{o[k]} * int32_t{t}, p.hidden_scale);
    v -= p.hidden_zp;
    output_state[k] = static_cast<int8_t>(std::clamp<int32_t>(v, -128, 127));
  }
  std::memcpy(output, output_state, static_cast<size_t>(p.n_batch) * static_cast<size_t>(p.n_output));
}

namespace {

float apply(FloatAct a, float x) {
  switch (a) {
    case FloatAct::kNone: return x;
    case FloatAct::kRelu: return std::max(0.0f, x);
    case FloatAct::kReluN1To1: return std::clamp(x, -1.0f, 1.0f);
    case FloatAct::kRelu6: return std::clamp(x, 0.0f, 6.0f);
    case FloatAct::kTanh: return std::tanh(x);
    case FloatAct::kSigmoid: return 1.0f / (1.0f + std::exp(-x));
  }
  return x;
}

void float_gate(const FloatStep& p, int g, const float* input, const float* output_state, float* gate) {
  for (int b = 0; b < p.n_batch; ++b) {
    const float* x = input + static_cast<size_t>(b) * static_cast<size_t>(p.n_input);
    const float* h = output_state + static_cast<size_t>(b) * static_cast<size_t>(p.n_output);
    for (int r = 0; r < p.n_cell; ++r) {
      float acc = p.bias[g][r];
      const float* wx = p.input_weights[g] + static_cast<size_t>(r) * static_cast<size_t>(p.n_input);
      const float* wh = p.recurrent_weights[g] + static_cast<size_t>(r) * static_cast<size_t>(p.n_output);
      float sx = 0.0f, sh = 0.0f;
      for (int c = 0; c < p.n_input; ++c) sx += wx[c] * x[c];
      for (int c = 0; c < p.n_output; ++c) sh += wh[c] * h[c];
      acc += sx;
      acc += sh;
      gate[static_cast<size_t>(b) * static_cast<size_t>(p.n_cell) + static_cast<size_t>(r)] =
          apply(g == kCellGate ? p.activation : FloatAct::kSigmoid, acc);
    }
  }
}

}  // namespace

void float_step(const FloatStep& p, const float* input, float* output_state, float* cell_state, float* output,
                float* scratch) {
  const size_t count = static_cast<size_t>(p.n_batch) * static_cast<size_t>(p.n_cell);
  float* gates[4] = {scratch, scratch + count, scratch + 2 * count, scratch + 3 * count};
  if (!p.cifg) float_gate(p, kInputGate, input, output_state, gates[kInputGate]);
  float_gate(p, kForgetGate, input, output_state, gates[kForgetGate]);
  float_gate(p, kCellGate, input, output_state, gates[kCellGate]);
  for (size_t k = 0; k < count; ++k) {
    const float i = p.cifg ? 1.0f - gates[kForgetGate][k] : gates[kInputGate][k];
    cell_state[k] = gates[kForgetGate][k] * cell_state[k] + gates[kCellGate][k] * i;
    if (p.cell_clip > 0.0f) cell_state[k] = std::clamp(cell_state[k], -p.cell_clip, p.cell_clip);
  }
  float_gate(p, kOutputGate, input, output_state, gates[kOutputGate]);
  for (size_t k = 0; k < count; ++k) output_state[k] = gates[kOutputGate][k] * apply(p.activation, cell_state[k]);
  std::memcpy(output, output_state, count * sizeof(float));
}

}  // namespace qlite::ref::lstm
