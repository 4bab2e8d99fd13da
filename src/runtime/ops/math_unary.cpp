// The one-input elementwise math ops: RELU, RELU6, RELU_N1_TO_1, RELU_0_TO_1,
// LEAKY_RELU, ABS, NEG, EXP, LOG, SQRT, RSQRT, SQUARE, SIN, COS, CEIL, FLOOR,
// ROUND, ELU and LOGICAL_NOT. Output shape and type are the input's; 8-bit
// quantized inputs run through a 256-entry table made at prepare from the
// reference definition (kernels/reference/math_kernels.h), float32 through a
// per-element function.
#include <cmath>

#include "kernels/elementwise_x86.h"
#include "kernels/reference/math_kernels.h"
#include "kernels/reference/quantized_math_kernels.h"
#include "runtime/ops/elementwise.h"
#include "runtime/ops/op_util.h"
#include "runtime/ops/ops.h"

namespace qlite::runtime::detail {
namespace {

using T = lite::TensorType;

// The int16 paths evaluate the reference definition per element (no table).
struct QuantUnaryState : ElementwiseState {
  ref::ReluQuantParams relu;
  ref::LeakyReluQuantParams leaky;
  ref::AbsQuantParams abs;
  int32_t rsqrt_min = 0;  // int8 RSQRT: the smallest input value it is defined for (the zero point)
};

template <int32_t (*F)(const QuantUnaryState&, int32_t)>
void eval_int16(const EvalContext& c, const Node& n) {
  const auto& s = n.state_as<QuantUnaryState>();
  const RtTensor& in = c.input(n, 0);
  const int16_t* x = in.as<const int16_t>();
  int16_t* y = c.output(n, 0).as<int16_t>();
  for (int64_t i = 0, e = c.scaled(in.numel()); i < e; ++i) y[i] = static_cast<int16_t>(F(s, x[i]));
}
int32_t relu_i16(const QuantUnaryState& s, int32_t q) { return ref::relu_quantized(s.relu, q); }
int32_t leaky_i16(const QuantUnaryState& s, int32_t q) { return ref::leaky_relu_quantized(s.leaky, q); }
int32_t abs_i16(const QuantUnaryState& s, int32_t q) { return ref::abs_quantized(s.abs, q); }

// int16 activations: symmetric (zero points 0), as TFLite 2.9 requires.
bool prepare_int16(const Node& n, const RtTensor& in, const RtTensor& out) {
  if (in.type != lite::TensorType::kInt16) return false;
  require_per_tensor(n, in, "input");
  require_per_tensor(n, out, "output");
  op_check(in.zero_point() == 0 && out.zero_point() == 0, n,
           "int16 input " + describe(in) + " and output " + describe(out) + " need zero points 0");
  return true;
}

template <class F>
auto params_or_fail(const Node& n, F&& f) -> decltype(f()) {
  try {
    return f();
  } catch (const Error& e) {
    op_fail(n, e.what());
  }
}

template <float (*F)(float)>
void apply_f32(int64_t n, const float* x, float* y) {
  for (int64_t i = 0; i < n; ++i) y[i] = F(x[i]);
}

template <class V, V (*F)(V)>
void eval_typed(const EvalContext& c, const Node& n) {
  const RtTensor& in = c.input(n, 0);
  const V* x = in.as<const V>();
  V* y = c.output(n, 0).as<V>();
  for (int64_t i = 0, e = c.scaled(in.numel()); i < e; ++i) y[i] = F(x[i]);
}

template <class Q, class F>
void quantized_table(Node& n, ElementwiseState& s, const RtTensor& in, const RtTensor& out, F&& make) {
  require_per_tensor(n, in, "input");
  require_per_tensor(n, out, "output");
  try {
    s.table = make(std::is_same_v<Q, int8_t>, in.scale(), in.zero_point(), out.scale(), out.zero_point(),
                   std::is_same_v<Q, int8_t> ? -128 : 0, std::is_same_v<Q, int8_t> ? 127 : 255);
  } catch (const Error& e) {
    op_fail(n, e.what());
  }
  n.eval = eval_byte_table;
}

// RELU family: float clamp, or the quantized ReluX.
template <int Lo, int Hi>  // bounds; Hi = 1000: none
float relu_f(float x) {
  const float lo = static_cast<float>(Lo);
  if constexpr (Hi == 1000) return x < lo ? lo : x;
  else return std::min(std::max(x, lo), static_cast<float>(Hi));
}

template <int Lo, int Hi>
void prepare_relu_family(PrepareContext& ctx, Node& n) {
  auto& q = n.state_as<QuantUnaryState>();
  ElementwiseState& s = prepare_elementwise(ctx, n);
  const RtTensor& in = ctx.input(n, 0);
  const RtTensor& out = ctx.output(n, 0);
  if (in.type == T::kFloat32) {
    s.f32 = apply_f32<relu_f<Lo, Hi>>;
    n.eval = eval_f32_elementwise;
    return;
  }
  auto make = [](bool is_signed, float si, int32_t zi, float so, int32_t zo, int32_t qmin, int32_t qmax) {
    const float hi = Hi == 1000 ? std::numeric_limits<float>::infinity() : static_cast<float>(Hi);
    const ref::ReluQuantParams p = ref::make_relu_params(static_cast<float>(Lo), hi, si, zi, so, zo, qmin, qmax);
    return ref::make_byte_table(is_signed, [&](int32_t q) { return ref::relu_quantized(p, q); });
  };
  if (in.type == T::kInt8) {
    quantized_table<int8_t>(n, s, in, out, make);
  } else if (in.type == T::kUInt8) {
    quantized_table<uint8_t>(n, s, in, out, make);
  } else if (prepare_int16(n, in, out)) {
    const float hi = Hi == 1000 ? std::numeric_limits<float>::infinity() : static_cast<float>(Hi);
    q.relu = params_or_fail(n, [&] {
      return ref::make_relu_params(static_cast<float>(Lo), hi, in.scale(), 0, out.scale(), 0, -32768, 32767);
    });
    n.eval = eval_int16<relu_i16>;
  } else {
    unsupported_types(ctx, n);
  }
}

float neg_f(float x) { return -x; }
int32_t neg_i32(int32_t x) { return static_cast<int32_t>(0u - static_cast<uint32_t>(x)); }
int64_t neg_i64(int64_t x) { return static_cast<int64_t>(uint64_t{0} - static_cast<uint64_t>(x)); }
float abs_f(float x) { return std::fabs(x); }
float exp_f(float x) { return std::exp(x); }
float log_f(float x) { return std::log(x); }
float sqrt_f(float x) { return std::sqrt(x); }
float rsqrt_f(float x) { return 1.0f / std::sqrt(x); }
float square_f(float x) { return x * x; }
float sin_f(float x) { return std::sin(x); }
float cos_f(float x) { return std::cos(x); }
float ceil_f(float x) { return std::ceil(x); }
float floor_f(float x) { return std::floor(x); }
float round_f(float x) { return ref::round_half_even(x); }
float elu_f(float x) { return x < 0.0f ? std::expm1(x) : x; }
uint8_t not_b(uint8_t x) { return x != 0 ? 0 : 1; }

// A float32-only op.
template <float (*F)(float)>
void prepare_float_unary(PrepareContext& ctx, Node& n) {
  ElementwiseState& s = prepare_elementwise(ctx, n);
  if (ctx.input(n, 0).type != T::kFloat32) unsupported_types(ctx, n);
  s.f32 = apply_f32<F>;
  n.eval = eval_f32_elementwise;
}

}  // namespace

void prepare_relu(PrepareContext& ctx, Node& n) { prepare_relu_family<0, 1000>(ctx, n); }
void prepare_relu6(PrepareContext& ctx, Node& n) { prepare_relu_family<0, 6>(ctx, n); }
void prepare_relu_n1_to_1(PrepareContext& ctx, Node& n) { prepare_relu_family<-1, 1>(ctx, n); }
void prepare_relu_0_to_1(PrepareContext& ctx, Node& n) { prepare_relu_family<0, 1>(ctx, n); }

void prepare_leaky_relu(PrepareContext& ctx, Node& n) {
  auto& q = n.state_as<QuantUnaryState>();
  ElementwiseState& s = prepare_elementwise(ctx, n);
  const RtTensor& in = ctx.input(n, 0);
  const RtTensor& out = ctx.output(n, 0);
  float alpha = 0.0f;
  if (const auto* o = std::get_if<lite::LeakyReluOptions>(&n.def->options)) alpha = o->alpha;
  if (in.type == T::kFloat32) {
    s.param = alpha;
    n.eval = [](const EvalContext& c, const Node& node) {
      const float a = node.state_as<ElementwiseState>().param;
      const RtTensor& x = c.input(node, 0);
      const float* src = x.as<const float>();
      float* dst = c.output(node, 0).as<float>();
      for (int64_t i = 0, e = c.scaled(x.numel()); i < e; ++i) dst[i] = src[i] > 0.0f ? src[i] : src[i] * a;
    };
    return;
  }
  auto make = [alpha](bool is_signed, float si, int32_t zi, float so, int32_t zo, int32_t qmin, int32_t qmax) {
    const ref::LeakyReluQuantParams p = ref::make_leaky_relu_params(alpha, si, zi, so, zo, qmin, qmax);
    return ref::make_byte_table(is_signed, [&](int32_t q) { return ref::leaky_relu_quantized(p, q); });
  };
  if (in.type == T::kInt8) {
    quantized_table<int8_t>(n, s, in, out, make);
  } else if (in.type == T::kUInt8) {
    quantized_table<uint8_t>(n, s, in, out, make);
  } else if (prepare_int16(n, in, out)) {
    q.leaky = params_or_fail(n, [&] {
      return ref::make_leaky_relu_params(alpha, in.scale(), 0, out.scale(), 0, -32768, 32767);
    });
    n.eval = eval_int16<leaky_i16>;
  } else {
    unsupported_types(ctx, n);
  }
}

void prepare_abs(PrepareContext& ctx, Node& n) {
  auto& q = n.state_as<QuantUnaryState>();
  ElementwiseState& s = prepare_elementwise(ctx, n);
  const RtTensor& in = ctx.input(n, 0);
  const RtTensor& out = ctx.output(n, 0);
  if (in.type == T::kFloat32) {
    s.f32 = apply_f32<abs_f>;
    n.eval = eval_f32_elementwise;
  } else if (in.type == T::kInt8) {
    quantized_table<int8_t>(n, s, in, out,
                            [](bool is_signed, float si, int32_t zi, float so, int32_t zo, int32_t qmin, int32_t qmax) {
                              const ref::AbsQuantParams p = ref::make_abs_params(si, zi, so, zo, qmin, qmax);
                              return ref::make_byte_table(is_signed, [&](int32_t v) { return ref::abs_quantized(p, v); });
                            });
  } else if (prepare_int16(n, in, out)) {
    q.abs = params_or_fail(n, [&] { return ref::make_abs_params(in.scale(), 0, out.scale(), 0, -32768, 32767); });
    n.eval = eval_int16<abs_i16>;
  } else {
    unsupported_types(ctx, n);
  }
}

void prepare_neg(PrepareContext& ctx, Node& n) {
  ElementwiseState& s = prepare_elementwise(ctx, n);
  const RtTensor& in = ctx.input(n, 0);
  if (in.type == T::kFloat32) {
    s.f32 = apply_f32<neg_f>;
    n.eval = eval_f32_elementwise;
  } else if (in.type == T::kInt32) {
    n.eval = eval_typed<int32_t, neg_i32>;
  } else if (in.type == T::kInt64) {
    n.eval = eval_typed<int64_t, neg_i64>;
  } else {
    unsupported_types(ctx, n);
  }
}

void prepare_exp(PrepareContext& ctx, Node& n) { prepare_float_unary<exp_f>(ctx, n); }
void prepare_log(PrepareContext& ctx, Node& n) { prepare_float_unary<log_f>(ctx, n); }
void prepare_sqrt(PrepareContext& ctx, Node& n) { prepare_float_unary<sqrt_f>(ctx, n); }
namespace {

// int8 RSQRT: the table of ref::rsqrt_int8, after checking every input value
// is at least the zero point (TFLite 2.9 fails the invoke otherwise:
// "Rsqrt is only defined for positive values").
void eval_rsqrt_int8(const EvalContext& c, const Node& n) {
  const auto& s = n.state_as<QuantUnaryState>();
  const RtTensor& in = c.input(n, 0);
  const int8_t* x = in.as<const int8_t>();
  const int64_t count = c.scaled(in.numel());
  for (int64_t i = 0; i < count; ++i)
    if (x[i] < s.rsqrt_min)
      throw Error(n.label + ": input value " + std::to_string(x[i]) + " at " + std::to_string(i) +
                  " is below the zero point " + std::to_string(s.rsqrt_min) +
                  " (RSQRT is only defined for values >= 0, as in TensorFlow Lite)");
  kernels::lookup_bytes(s.isa, s.table, count, reinterpret_cast<const uint8_t*>(x), c.output(n, 0).as<uint8_t>());
}

}  // namespace

void prepare_rsqrt(PrepareContext& ctx, Node& n) {
  auto& q = n.state_as<QuantUnaryState>();
  ElementwiseState& s = prepare_elementwise(ctx, n);
  const RtTensor& in = ctx.input(n, 0);
  const RtTensor& out = ctx.output(n, 0);
  if (in.type == T::kFloat32) {
    s.f32 = apply_f32<rsqrt_f>;
    n.eval = eval_f32_elementwise;
  } else if (in.type == T::kInt8) {
    // elementwise.cc RsqrtEvalQuantized: gemmlowp inverse square root, then
    // the output multiplier (kernels/reference/quantized_math_kernels.h).
    require_per_tensor(n, in, "input");
    require_per_tensor(n, out, "output");
    const ref::RsqrtInt8Params p = params_or_fail(
        n, [&] { return ref::make_rsqrt_int8_params(in.scale(), in.zero_point(), out.scale(), out.zero_point()); });
    s.table = ref::make_byte_table(true, [&](int32_t v) {
      return v < p.input_zero_point ? 0 : int32_t{ref::rsqrt_int8(p, static_cast<int8_t>(v))};
    });
    q.rsqrt_min = p.input_zero_point;
    n.eval = eval_rsqrt_int8;
  } else {
    unsupported_types(ctx, n);
  }
}
void prepare_square(PrepareContext& ctx, Node& n) { prepare_float_unary<square_f>(ctx, n); }
void prepare_sin(PrepareContext& ctx, Node& n) { prepare_float_unary<sin_f>(ctx, n); }
void prepare_cos(PrepareContext& ctx, Node& n) { prepare_float_unary<cos_f>(ctx, n); }
void prepare_ceil(PrepareContext& ctx, Node& n) { prepare_float_unary<ceil_f>(ctx, n); }
void prepare_floor(PrepareContext& ctx, Node& n) { prepare_float_unary<floor_f>(ctx, n); }
void prepare_round(PrepareContext& ctx, Node& n) { prepare_float_unary<round_f>(ctx, n); }

void prepare_elu(PrepareContext& ctx, Node& n) {
  ElementwiseState& s = prepare_elementwise(ctx, n);
  const RtTensor& in = ctx.input(n, 0);
  const RtTensor& out = ctx.output(n, 0);
  if (in.type == T::kFloat32) {
    s.f32 = apply_f32<elu_f>;
    n.eval = eval_f32_elementwise;
  } else if (in.type == T::kInt8) {
    // activations.cc EluPrepare: PopulateLookupTable with expf(x) - 1 below 0.
    quantized_table<int8_t>(n, s, in, out, [](bool is_signed, float si, int32_t zi, float so, int32_t zo, int32_t, int32_t) {
      return ref::make_float_function_table(is_signed, si, zi, so, zo,
                                            [](float x) { return x < 0.0f ? std::exp(x) - 1.0f : x; });
    });
  } else {
    unsupported_types(ctx, n);
  }
}

void prepare_logical_not(PrepareContext& ctx, Node& n) {
  prepare_elementwise(ctx, n);
  if (ctx.input(n, 0).type != T::kBool) unsupported_types(ctx, n);
  n.eval = eval_typed<uint8_t, not_b>;
}

}  // namespace qlite::runtime::detail
