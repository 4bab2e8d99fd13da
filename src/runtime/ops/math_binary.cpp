// The broadcasting two- and three-input ops: MUL, SUB, MAXIMUM, MINIMUM,
// SQUARED_DIFFERENCE, DIV, POW, FLOOR_DIV, FLOOR_MOD, the comparisons
// (EQUAL, NOT_EQUAL, GREATER, GREATER_EQUAL, LESS, LESS_EQUAL -> BOOL),
// LOGICAL_AND, LOGICAL_OR, SELECT and SELECT_V2. Inputs broadcast as numpy
// (up to 6 dimensions); the per-element arithmetic is the reference
// definition in kernels/reference/math_kernels.h, chosen per type at prepare.
#include <cmath>
#include <functional>

#include "kernels/elementwise_x86.h"
#include "kernels/reference/int16_kernels.h"
#include "kernels/reference/math_kernels.h"
#include "kernels/reference/quantized_math_kernels.h"
#include "runtime/ops/op_util.h"
#include "runtime/ops/ops.h"
#include "runtime/ops/types16.h"

namespace qlite::runtime::detail {
namespace {

using T = lite::TensorType;

struct BinaryState : OpState {
  ref::BroadcastGeometry g;
  ref::FloatActRange fr;
  int32_t imin = std::numeric_limits<int32_t>::min(), imax = std::numeric_limits<int32_t>::max();
  int64_t lmin = std::numeric_limits<int64_t>::min(), lmax = std::numeric_limits<int64_t>::max();
  ref::MulQuantParams mul;
  ref::SubQuantParams sub;
  ref::CompareQuantParams cmp;
  ref::SquaredDifferenceQuantParams sqd;
  bool select_rows = false;  // SELECT with a rank-1 condition over dimension 0
  int64_t row = 1;           // elements per condition entry (select_rows)
  ref::AddInt16Params sub16;  // int16 SUB's power-of-two path
  ref::DivUint8Params div8;   // uint8 DIV
  Isa isa = Isa::kReference;  // 8-bit MUL's kernel path (kernels/elementwise_x86.h)
};

std::vector<int64_t> shape_of(const RtTensor& t) { return std::vector<int64_t>(t.shape.begin(), t.shape.end()); }

const char* op_name(const Node& n) { return n.label.c_str(); }

// Shapes, output shape, work and whether tiles of images may run it.
BinaryState& prepare_broadcast(PrepareContext& ctx, Node& n, size_t inputs) {
  auto& s = n.state_as<BinaryState>();
  std::vector<std::vector<int64_t>> shapes;
  bool any_constant = false;
  for (size_t k = 0; k < inputs; ++k) {
    const RtTensor& t = ctx.input(n, k);
    shapes.push_back(shape_of(t));
    any_constant = any_constant || t.constant;
  }
  try {
    s.g = ref::make_broadcast(op_name(n), shapes);
  } catch (const Error& e) {
    op_fail(n, std::string(e.what()).substr(n.label.size() + 2));
  }
  std::vector<int64_t> out = s.g.out_shape();
  ctx.set_output_shape(n, 0, Shape(out.begin(), out.end()));
  n.work = s.g.count;
  // Tiles of images: only when every input is a per-image tensor of the output's shape.
  n.separable = s.g.same && !any_constant;
  s.select_rows = false;
  return s;
}

// TFLite 2.9 broadcasts SQUARED_DIFFERENCE, POW, FLOOR_DIV, FLOOR_MOD and the
// comparisons through 4-D kernels and aborts (a failed check) on more
// dimensions; same-shape inputs of any rank run elementwise.
void require_4d_broadcast(const PrepareContext& ctx, const Node& n, const BinaryState& s) {
  op_check(s.g.same || s.g.out_rank <= 4, n,
           "inputs " + describe(ctx.input(n, 0)) + " and " + describe(ctx.input(n, 1)) +
               " broadcast over more than 4 dimensions");
}

Activation fused_of(const Node& n) {
  if (const auto* o = std::get_if<lite::MulOptions>(&n.def->options)) return to_fused(n, o->activation);
  if (const auto* o = std::get_if<lite::SubOptions>(&n.def->options)) return to_fused(n, o->activation);
  if (const auto* o = std::get_if<lite::DivOptions>(&n.def->options)) return to_fused(n, o->activation);
  return Activation::kLinear;
}

// CalculateActivationRange<int32_t>.
void int_range(BinaryState& s, Activation act) {
  s.imin = std::numeric_limits<int32_t>::min();
  s.imax = std::numeric_limits<int32_t>::max();
  if (act == Activation::kRelu) s.imin = 0;
  if (act == Activation::kRelu6) s.imin = 0, s.imax = 6;
  if (act == Activation::kReluN1To1) s.imin = -1, s.imax = 1;
}

int64_t count_of(const EvalContext& c, const BinaryState& s) { return s.g.same ? c.scaled(s.g.count) : s.g.count; }

// int8 / uint8 MUL through the vectorized kernels (bit-exact with mul_q).
template <bool Signed>
void eval_mul_q8(const EvalContext& c, const Node& n) {
  const auto& s = n.state_as<BinaryState>();
  kernels::mul_quant8_broadcast(s.isa, s.mul, Signed, s.g, count_of(c, s), c.input(n, 0).as<const uint8_t>(),
                                c.input(n, 1).as<const uint8_t>(), c.output(n, 0).as<uint8_t>());
}

template <class In, class Out, Out (*Fn)(const BinaryState&, In, In)>
void eval_binary(const EvalContext& c, const Node& n) {
  const auto& s = n.state_as<BinaryState>();
  ref::broadcast_binary(s.g, count_of(c, s), c.input(n, 0).as<const In>(), c.input(n, 1).as<const In>(),
                        c.output(n, 0).as<Out>(), [&](In a, In b) { return Fn(s, a, b); });
}

// ---- per-element functions

template <class V>
V wrap_mul(V a, V b) {
  using U = std::make_unsigned_t<V>;
  return static_cast<V>(static_cast<U>(a) * static_cast<U>(b));
}
template <class V>
V wrap_sub(V a, V b) {
  using U = std::make_unsigned_t<V>;
  return static_cast<V>(static_cast<U>(a) - static_cast<U>(b));
}
float clamp_f(const BinaryState& s, float v) { return std::min(std::max(v, s.fr.min), s.fr.max); }
int32_t clamp_i(const BinaryState& s, int32_t v) { return std::min(std::max(v, s.imin), s.imax); }

float mul_f32(const BinaryState& s, float a, float b) { return clamp_f(s, a * b); }
int32_t mul_i32(const BinaryState& s, int32_t a, int32_t b) { return clamp_i(s, wrap_mul(a, b)); }
int64_t mul_i64(const BinaryState& s, int64_t a, int64_t b) {
  return std::min<int64_t>(std::max<int64_t>(wrap_mul(a, b), s.lmin), s.lmax);
}
template <class Q>
Q mul_q(const BinaryState& s, Q a, Q b) {
  return static_cast<Q>(ref::mul_quantized(s.mul, a, b));
}

float sub_f32(const BinaryState& s, float a, float b) { return clamp_f(s, a - b); }
int32_t sub_i32(const BinaryState& s, int32_t a, int32_t b) { return clamp_i(s, wrap_sub(a, b)); }
int64_t sub_i64(const BinaryState&, int64_t a, int64_t b) { return wrap_sub(a, b); }
template <class Q>
Q sub_q(const BinaryState& s, Q a, Q b) {
  return static_cast<Q>(ref::sub_quantized(s.sub, a, b));
}

template <class V>
V max_v(const BinaryState&, V a, V b) {
  return a > b ? a : b;
}
template <class V>
V min_v(const BinaryState&, V a, V b) {
  return a < b ? a : b;
}

float sqdiff_f32(const BinaryState&, float a, float b) { return (a - b) * (a - b); }
int8_t sqdiff_i8(const BinaryState& s, int8_t a, int8_t b) {
  return static_cast<int8_t>(ref::squared_difference_quantized(s.sqd, a, b));
}
int32_t sqdiff_i32(const BinaryState&, int32_t a, int32_t b) {
  const int32_t d = wrap_sub(a, b);
  return wrap_mul(d, d);
}

float div_f32(const BinaryState& s, float a, float b) { return clamp_f(s, a / b); }
int32_t div_i32(const BinaryState& s, int32_t a, int32_t b) {
  // b != 0 is checked before the loop; INT_MIN / -1 wraps as x86 cannot (it traps).
  if (b == -1) return clamp_i(s, wrap_sub(0, a));
  return clamp_i(s, a / b);
}

float pow_f32(const BinaryState&, float a, float b) { return std::pow(a, b); }
int32_t pow_i32(const BinaryState&, int32_t a, int32_t b) { return ref::integer_pow(a, b); }

template <class V>
V floor_div_v(const BinaryState&, V a, V b) {
  if constexpr (std::is_integral_v<V>)
    if (b == -1) return wrap_sub(V{0}, a);
  return ref::floor_div(a, b);
}
template <class V>
V floor_mod_v(const BinaryState&, V a, V b) {
  if constexpr (std::is_integral_v<V>)
    if (b == -1) return V{0};
  return ref::floor_mod(a, b);
}

template <class V, class Cmp>
uint8_t cmp_raw(const BinaryState&, V a, V b) {
  return Cmp{}(a, b) ? 1 : 0;
}
template <class Q, class Cmp>
uint8_t cmp_q(const BinaryState& s, Q a, Q b) {
  return Cmp{}(ref::compare_scaled(a, s.cmp.in1_offset, s.cmp.m1), ref::compare_scaled(b, s.cmp.in2_offset, s.cmp.m2))
             ? 1
             : 0;
}

uint8_t and_b(const BinaryState&, uint8_t a, uint8_t b) { return (a != 0 && b != 0) ? 1 : 0; }
uint8_t or_b(const BinaryState&, uint8_t a, uint8_t b) { return (a != 0 || b != 0) ? 1 : 0; }

// Integer DIV / FLOOR_DIV / FLOOR_MOD refuse a zero divisor as TFLite does
// ("Division by 0"), before any output is written.
template <class V, V (*Fn)(const BinaryState&, V, V)>
void eval_int_division(const EvalContext& c, const Node& n) {
  const RtTensor& b = c.input(n, 1);
  const V* d = b.as<const V>();
  for (int64_t i = 0, e = b.numel(); i < e; ++i)
    if (d[i] == 0) throw Error("runtime: " + n.label + ": division by 0");
  eval_binary<V, V, Fn>(c, n);
}

// POW of integers refuses negative exponents (pow.cc).
void eval_pow_i32(const EvalContext& c, const Node& n) {
  const RtTensor& b = c.input(n, 1);
  const int32_t* e = b.as<const int32_t>();
  for (int64_t i = 0, k = b.numel(); i < k; ++i)
    if (e[i] < 0) throw Error("runtime: " + n.label + ": POW of integers needs exponents >= 0");
  eval_binary<int32_t, int32_t, pow_i32>(c, n);
}

void require_same_types(const PrepareContext& ctx, const Node& n, size_t first, size_t count) {
  const RtTensor& a = ctx.input(n, first);
  for (size_t k = first + 1; k < first + count; ++k)
    if (ctx.input(n, k).type != a.type) unsupported_types(ctx, n);
}

void quant_limits(T t, int32_t& qmin, int32_t& qmax) {
  qmin = t == T::kInt8 ? -128 : t == T::kUInt8 ? 0 : -32768;
  qmax = t == T::kInt8 ? 127 : t == T::kUInt8 ? 255 : 32767;
}

// Runs a reference parameter constructor, turning its Error into the op's.
template <class F>
auto op_params(const Node& n, F&& f) -> decltype(f()) {
  try {
    return f();
  } catch (const Error& e) {
    op_fail(n, e.what());
  }
}

void require_quantized_operands(const Node& n, const RtTensor& a, const RtTensor& b, const RtTensor& out) {
  require_per_tensor(n, a, "input 0");
  require_per_tensor(n, b, "input 1");
  require_per_tensor(n, out, "output");
}

}  // namespace

static void eval_sub_int16_pot(const EvalContext& c, const Node& n) {
  const auto& s = n.state_as<BinaryState>();
  ref::sub_int16_pot(s.sub16, count_of(c, s), c.input(n, 0).as<const int16_t>(), c.input(n, 1).as<const int16_t>(),
                     c.output(n, 0).as<int16_t>());
}

void prepare_mul(PrepareContext& ctx, Node& n) {
  if (ctx.input(n, 0).type == T::kInt16 && ctx.output(n, 0).type != T::kInt16) {
    prepare_mul_int16_to_8bit(ctx, n);  // types16.cpp
    return;
  }
  require_same_types(ctx, n, 0, 2);
  auto& s = prepare_broadcast(ctx, n, 2);
  const RtTensor& a = ctx.input(n, 0);
  const RtTensor& b = ctx.input(n, 1);
  const RtTensor& out = ctx.output(n, 0);
  const Activation act = fused_of(n);
  if (a.type != out.type) unsupported_types(ctx, n);
  if (a.type == T::kFloat32) {
    s.fr = ref::fused_activation_range_f32(act);
    n.eval = eval_binary<float, float, mul_f32>;
  } else if (a.type == T::kInt32) {
    int_range(s, act);
    n.eval = eval_binary<int32_t, int32_t, mul_i32>;
  } else if (a.type == T::kInt64) {
    int_range(s, act);  // CalculateActivationRange<int64_t>: the same bounds, widened
    s.lmin = s.imin == std::numeric_limits<int32_t>::min() ? std::numeric_limits<int64_t>::min() : s.imin;
    s.lmax = s.imax == std::numeric_limits<int32_t>::max() ? std::numeric_limits<int64_t>::max() : s.imax;
    n.eval = eval_binary<int64_t, int64_t, mul_i64>;
  } else if (a.type == T::kInt8 || a.type == T::kUInt8 || a.type == T::kInt16) {
    require_quantized_operands(n, a, b, out);
    int32_t qmin = 0, qmax = 0;
    quant_limits(a.type, qmin, qmax);
    s.mul = op_params(n, [&] {
      return ref::make_mul_params(a.scale(), a.zero_point(), b.scale(), b.zero_point(), out.scale(), out.zero_point(),
                                  act, qmin, qmax);
    });
    s.isa = ctx.isa();
    const bool simd = s.isa != Isa::kReference;
    n.eval = a.type == T::kInt8    ? (simd ? eval_mul_q8<true> : eval_binary<int8_t, int8_t, mul_q<int8_t>>)
             : a.type == T::kUInt8 ? (simd ? eval_mul_q8<false> : eval_binary<uint8_t, uint8_t, mul_q<uint8_t>>)
                                   : eval_binary<int16_t, int16_t, mul_q<int16_t>>;
  } else {
    unsupported_types(ctx, n);
  }
}

void prepare_sub(PrepareContext& ctx, Node& n) {
  require_same_types(ctx, n, 0, 2);
  auto& s = prepare_broadcast(ctx, n, 2);
  const RtTensor& a = ctx.input(n, 0);
  const RtTensor& b = ctx.input(n, 1);
  const RtTensor& out = ctx.output(n, 0);
  const Activation act = fused_of(n);
  if (a.type != out.type) unsupported_types(ctx, n);
  if (a.type == T::kFloat32) {
    s.fr = ref::fused_activation_range_f32(act);
    n.eval = eval_binary<float, float, sub_f32>;
  } else if (a.type == T::kInt32) {
    int_range(s, act);
    n.eval = eval_binary<int32_t, int32_t, sub_i32>;
  } else if (a.type == T::kInt64) {
    n.eval = eval_binary<int64_t, int64_t, sub_i64>;
  } else if (a.type == T::kInt8 || a.type == T::kUInt8) {
    require_quantized_operands(n, a, b, out);
    int32_t qmin = 0, qmax = 0;
    quant_limits(a.type, qmin, qmax);
    s.sub = op_params(n, [&] {
      return ref::make_sub_params(a.scale(), a.zero_point(), b.scale(), b.zero_point(), out.scale(), out.zero_point(),
                                  act, qmin, qmax);
    });
    n.eval = a.type == T::kInt8 ? eval_binary<int8_t, int8_t, sub_q<int8_t>> : eval_binary<uint8_t, uint8_t, sub_q<uint8_t>>;
  } else if (a.type == T::kInt16) {
    // TFLite 2.9's sub.cc: zero points 0; with SubOptions.pot_scale_int16
    // (the default) and every scale a power of two (CheckedLog2), the
    // shift-only path (Sub16, shared with ADD: int16_kernels.h); otherwise
    // the general rescaling with left shift 15.
    require_quantized_operands(n, a, b, out);
    op_check(a.zero_point() == 0 && b.zero_point() == 0 && out.zero_point() == 0, n,
             "int16 inputs and output need zero points 0");
    const auto* o = std::get_if<lite::SubOptions>(&n.def->options);
    int l1 = 0, l2 = 0, lo = 0;
    const bool pot = (o == nullptr || o->pot_scale_int16) && ref::checked_log2(a.scale(), &l1) &&
                     ref::checked_log2(b.scale(), &l2) && ref::checked_log2(out.scale(), &lo);
    if (pot) {
      // TFLite 2.9 broadcasts this path through its general kernel with the
      // general parameters unset; qlite does not reproduce that.
      op_check(s.g.same, n,
               "broadcasting int16 SUB with power-of-two scales (pot_scale_int16) is not supported");
      s.sub16 = op_params(n, [&] {
        return ref::make_add_params_int16(a.scale(), 0, b.scale(), 0, out.scale(), 0, act, true, "SUB");
      });
      n.eval = eval_sub_int16_pot;
    } else {
      s.sub = op_params(n, [&] {
        return ref::make_sub_params(a.scale(), 0, b.scale(), 0, out.scale(), 0, act, -32768, 32767);
      });
      n.eval = eval_binary<int16_t, int16_t, sub_q<int16_t>>;
    }
  } else {
    unsupported_types(ctx, n);
  }
}

namespace {

template <template <class> class F>
void prepare_max_min(PrepareContext& ctx, Node& n) {
  require_same_types(ctx, n, 0, 2);
  prepare_broadcast(ctx, n, 2);
  const RtTensor& a = ctx.input(n, 0);
  if (a.type != ctx.output(n, 0).type) unsupported_types(ctx, n);
  switch (a.type) {
    case T::kFloat32: n.eval = eval_binary<float, float, F<float>::fn>; break;
    case T::kInt8: n.eval = eval_binary<int8_t, int8_t, F<int8_t>::fn>; break;
    case T::kUInt8: n.eval = eval_binary<uint8_t, uint8_t, F<uint8_t>::fn>; break;
    case T::kInt16: n.eval = eval_binary<int16_t, int16_t, F<int16_t>::fn>; break;
    case T::kInt32: n.eval = eval_binary<int32_t, int32_t, F<int32_t>::fn>; break;
    case T::kInt64: n.eval = eval_binary<int64_t, int64_t, F<int64_t>::fn>; break;
    default: unsupported_types(ctx, n);
  }
}
template <class V>
struct MaxF {
  static constexpr V (*fn)(const BinaryState&, V, V) = max_v<V>;
};
template <class V>
struct MinF {
  static constexpr V (*fn)(const BinaryState&, V, V) = min_v<V>;
};

}  // namespace

void prepare_maximum(PrepareContext& ctx, Node& n) { prepare_max_min<MaxF>(ctx, n); }
void prepare_minimum(PrepareContext& ctx, Node& n) { prepare_max_min<MinF>(ctx, n); }

void prepare_squared_difference(PrepareContext& ctx, Node& n) {
  require_same_types(ctx, n, 0, 2);
  require_4d_broadcast(ctx, n, prepare_broadcast(ctx, n, 2));
  const RtTensor& a = ctx.input(n, 0);
  if (a.type != ctx.output(n, 0).type) unsupported_types(ctx, n);
  if (a.type == T::kFloat32) {
    n.eval = eval_binary<float, float, sqdiff_f32>;
  } else if (a.type == T::kInt32) {
    n.eval = eval_binary<int32_t, int32_t, sqdiff_i32>;
  } else if (a.type == T::kInt8) {
    const RtTensor& b = ctx.input(n, 1);
    const RtTensor& out = ctx.output(n, 0);
    require_quantized_operands(n, a, b, out);
    auto& s = n.state_as<BinaryState>();
    s.sqd = op_params(n, [&] {
      return ref::make_squared_difference_params(a.scale(), a.zero_point(), b.scale(), b.zero_point(), out.scale(),
                                                 out.zero_point());
    });
    n.eval = eval_binary<int8_t, int8_t, sqdiff_i8>;
  } else {
    unsupported_types(ctx, n);
  }
}

// uint8 DIV: a divisor equal to its zero point (a real 0) is an error at
// invoke, before any output is written; TFLite 2.9 checks only for raw 0
// bytes, and ignores even that check's result, dividing by 0 undefinedly.
static uint8_t div_u8(const BinaryState& s, uint8_t a, uint8_t b) { return ref::div_uint8(s.div8, a, b); }
static void eval_div_uint8(const EvalContext& c, const Node& n) {
  const auto& s = n.state_as<BinaryState>();
  const RtTensor& b = c.input(n, 1);
  const uint8_t* d = b.as<const uint8_t>();
  for (int64_t i = 0, e = b.numel(); i < e; ++i)
    if (int32_t{d[i]} + s.div8.in2_offset == 0)
      throw Error("runtime: " + n.label + ": division by 0 (divisor " + std::to_string(d[i]) + " is its zero point)");
  eval_binary<uint8_t, uint8_t, div_u8>(c, n);
}

void prepare_div(PrepareContext& ctx, Node& n) {
  require_same_types(ctx, n, 0, 2);
  auto& s = prepare_broadcast(ctx, n, 2);
  const RtTensor& a = ctx.input(n, 0);
  if (a.type != ctx.output(n, 0).type) unsupported_types(ctx, n);
  const Activation act = fused_of(n);
  if (a.type == T::kFloat32) {
    s.fr = ref::fused_activation_range_f32(act);
    n.eval = eval_binary<float, float, div_f32>;
  } else if (a.type == T::kInt32) {
    int_range(s, act);
    n.eval = eval_int_division<int32_t, div_i32>;
  } else if (a.type == T::kUInt8) {
    // div.cc: reference_ops::DivElementwise (quantized_math_kernels.h).
    const RtTensor& b = ctx.input(n, 1);
    const RtTensor& out = ctx.output(n, 0);
    require_quantized_operands(n, a, b, out);
    s.div8 = op_params(n, [&] {
      return ref::make_div_uint8_params(a.scale(), a.zero_point(), b.scale(), b.zero_point(), out.scale(),
                                        out.zero_point(), act);
    });
    n.eval = eval_div_uint8;
  } else {
    unsupported_types(ctx, n);
  }
}

void prepare_pow(PrepareContext& ctx, Node& n) {
  require_same_types(ctx, n, 0, 2);
  require_4d_broadcast(ctx, n, prepare_broadcast(ctx, n, 2));
  const RtTensor& a = ctx.input(n, 0);
  if (a.type != ctx.output(n, 0).type) unsupported_types(ctx, n);
  if (a.type == T::kFloat32) n.eval = eval_binary<float, float, pow_f32>;
  else if (a.type == T::kInt32) n.eval = eval_pow_i32;
  else unsupported_types(ctx, n);
}

void prepare_floor_div(PrepareContext& ctx, Node& n) {
  require_same_types(ctx, n, 0, 2);
  require_4d_broadcast(ctx, n, prepare_broadcast(ctx, n, 2));
  const RtTensor& a = ctx.input(n, 0);
  if (a.type != ctx.output(n, 0).type) unsupported_types(ctx, n);
  if (a.type == T::kFloat32) n.eval = eval_binary<float, float, floor_div_v<float>>;
  else if (a.type == T::kInt32) n.eval = eval_int_division<int32_t, floor_div_v<int32_t>>;
  else unsupported_types(ctx, n);
}

void prepare_floor_mod(PrepareContext& ctx, Node& n) {
  require_same_types(ctx, n, 0, 2);
  require_4d_broadcast(ctx, n, prepare_broadcast(ctx, n, 2));
  const RtTensor& a = ctx.input(n, 0);
  if (a.type != ctx.output(n, 0).type) unsupported_types(ctx, n);
  if (a.type == T::kFloat32) n.eval = eval_binary<float, float, floor_mod_v<float>>;
  else if (a.type == T::kInt32) n.eval = eval_int_division<int32_t, floor_mod_v<int32_t>>;
  else if (a.type == T::kInt64) n.eval = eval_int_division<int64_t, floor_mod_v<int64_t>>;
  else unsupported_types(ctx, n);
}

namespace {

template <class Cmp>
void prepare_comparison(PrepareContext& ctx, Node& n, bool allow_bool) {
  require_same_types(ctx, n, 0, 2);
  auto& s = prepare_broadcast(ctx, n, 2);
  const RtTensor& a = ctx.input(n, 0);
  const RtTensor& b = ctx.input(n, 1);
  require_4d_broadcast(ctx, n, s);
  if (ctx.output(n, 0).type != T::kBool) unsupported_types(ctx, n);
  switch (a.type) {
    case T::kFloat32: n.eval = eval_binary<float, uint8_t, cmp_raw<float, Cmp>>; break;
    case T::kInt32: n.eval = eval_binary<int32_t, uint8_t, cmp_raw<int32_t, Cmp>>; break;
    case T::kInt64: n.eval = eval_binary<int64_t, uint8_t, cmp_raw<int64_t, Cmp>>; break;
    case T::kBool:
      if (!allow_bool) unsupported_types(ctx, n);
      n.eval = eval_binary<uint8_t, uint8_t, cmp_raw<uint8_t, Cmp>>;
      break;
    case T::kInt8:
    case T::kUInt8:
      require_per_tensor(n, a, "input 0");
      require_per_tensor(n, b, "input 1");
      s.cmp = op_params(n, [&] { return ref::make_compare_params(a.scale(), a.zero_point(), b.scale(), b.zero_point()); });
      n.eval = a.type == T::kInt8 ? eval_binary<int8_t, uint8_t, cmp_q<int8_t, Cmp>>
                                  : eval_binary<uint8_t, uint8_t, cmp_q<uint8_t, Cmp>>;
      break;
    default: unsupported_types(ctx, n);
  }
}

}  // namespace

void prepare_equal(PrepareContext& ctx, Node& n) { prepare_comparison<std::equal_to<>>(ctx, n, true); }
void prepare_not_equal(PrepareContext& ctx, Node& n) { prepare_comparison<std::not_equal_to<>>(ctx, n, true); }
void prepare_greater(PrepareContext& ctx, Node& n) { prepare_comparison<std::greater<>>(ctx, n, false); }
void prepare_greater_equal(PrepareContext& ctx, Node& n) { prepare_comparison<std::greater_equal<>>(ctx, n, false); }
void prepare_less(PrepareContext& ctx, Node& n) { prepare_comparison<std::less<>>(ctx, n, false); }
void prepare_less_equal(PrepareContext& ctx, Node& n) { prepare_comparison<std::less_equal<>>(ctx, n, false); }

namespace {
void prepare_logical(PrepareContext& ctx, Node& n, uint8_t (*fn)(const BinaryState&, uint8_t, uint8_t)) {
  prepare_broadcast(ctx, n, 2);
  if (ctx.input(n, 0).type != T::kBool || ctx.input(n, 1).type != T::kBool || ctx.output(n, 0).type != T::kBool)
    unsupported_types(ctx, n);
  n.eval = fn == and_b ? eval_binary<uint8_t, uint8_t, and_b> : eval_binary<uint8_t, uint8_t, or_b>;
}
}  // namespace

void prepare_logical_and(PrepareContext& ctx, Node& n) { prepare_logical(ctx, n, and_b); }
void prepare_logical_or(PrepareContext& ctx, Node& n) { prepare_logical(ctx, n, or_b); }

// ---- SELECT, SELECT_V2: out = cond ? x : y, values copied as bytes

namespace {

template <class V>
void eval_select(const EvalContext& c, const Node& n) {
  const auto& s = n.state_as<BinaryState>();
  const auto* cond = c.input(n, 0).as<const uint8_t>();
  const V* x = c.input(n, 1).as<const V>();
  const V* y = c.input(n, 2).as<const V>();
  V* out = c.output(n, 0).as<V>();
  if (s.select_rows) {
    const int64_t rows = s.g.count / std::max<int64_t>(s.row, 1);
    for (int64_t r = 0; r < rows; ++r) {
      const V* src = (cond[r] != 0 ? x : y) + r * s.row;
      std::copy(src, src + s.row, out + r * s.row);
    }
    return;
  }
  ref::broadcast_ternary(s.g, cond, x, y, out, [](uint8_t k, V a, V b) { return k != 0 ? a : b; });
}

void choose_select_eval(PrepareContext& ctx, Node& n) {
  const RtTensor& x = ctx.input(n, 1);
  const RtTensor& cond = ctx.input(n, 0);
  if (cond.type != T::kBool || x.type != ctx.input(n, 2).type || x.type != ctx.output(n, 0).type)
    unsupported_types(ctx, n);
  switch (x.type) {
    case T::kBool:
    case T::kInt8:
    case T::kUInt8: n.eval = eval_select<uint8_t>; break;
    case T::kInt16: n.eval = eval_select<int16_t>; break;
    case T::kFloat32:
    case T::kInt32: n.eval = eval_select<int32_t>; break;
    case T::kInt64: n.eval = eval_select<int64_t>; break;
    default: unsupported_types(ctx, n);
  }
}

}  // namespace

void prepare_select(PrepareContext& ctx, Node& n) {
  const RtTensor& cond = ctx.input(n, 0);
  const RtTensor& x = ctx.input(n, 1);
  const RtTensor& y = ctx.input(n, 2);
  op_check(x.shape == y.shape, n, "inputs " + describe(x) + " and " + describe(y) + " must have the same shape");
  // select.cc: the condition has x's shape, or rank 1 with x.shape[0] entries
  // (one per row), or is a scalar (SELECT_V2 semantics in 2.9's shared kernel).
  const bool rows = cond.shape.size() == 1 && x.shape.size() > 1 && cond.shape[0] == x.shape[0];
  op_check(cond.shape == x.shape || rows || cond.shape.empty(), n,
           "condition " + describe(cond) + " must have the shape of " + describe(x) +
               ", or rank 1 with one entry per row");
  auto& s = n.state_as<BinaryState>();
  if (rows) {
    s.g = ref::make_broadcast("SELECT", std::vector<std::vector<int64_t>>{shape_of(x)});
    ctx.set_output_shape(n, 0, x.shape);
    s.select_rows = true;
    s.row = x.numel() / std::max<int64_t>(x.shape[0], 1);
    n.work = x.numel();
    n.separable = false;
  } else {
    prepare_broadcast(ctx, n, 3);
  }
  choose_select_eval(ctx, n);
}

void prepare_select_v2(PrepareContext& ctx, Node& n) {
  prepare_broadcast(ctx, n, 3);
  choose_select_eval(ctx, n);
}

}  // namespace qlite::runtime::detail
