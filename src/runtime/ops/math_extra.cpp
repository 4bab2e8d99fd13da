// PRELU (alpha broadcast over the input, up to 4-D as TFLite 2.9), ADD_N,
// CUMSUM, LOG_SOFTMAX and L2_NORMALIZATION over the last axis, and GELU;
// the arithmetic is the reference in kernels/reference/math_kernels.h.
#include "kernels/reference/math_kernels.h"
#include "runtime/ops/elementwise.h"
#include "kernels/reference/quantized_math_kernels.h"
#include "runtime/ops/op_util.h"
#include "runtime/ops/pool2d_common.h"
#include "runtime/ops/ops.h"

namespace qlite::runtime::detail {
namespace {

using T = lite::TensorType;

std::vector<int64_t> dims_of(const RtTensor& t) { return std::vector<int64_t>(t.shape.begin(), t.shape.end()); }

template <class F>
auto checked(const Node& n, F&& f) -> decltype(f()) {
  try {
    return f();
  } catch (const Error& e) {
    op_fail(n, e.what());
  }
}

// ---- PRELU

struct PreluState : OpState {
  ref::BroadcastGeometry g;
  ref::PreluQuantParams q;
};

void eval_prelu_f32(const EvalContext& c, const Node& n) {
  const auto& s = n.state_as<PreluState>();
  ref::broadcast_binary(s.g, s.g.count, c.input(n, 0).as<const float>(), c.input(n, 1).as<const float>(),
                        c.output(n, 0).as<float>(), [](float x, float a) { return x >= 0.0f ? x : x * a; });
}

template <class Q>
void eval_prelu_q(const EvalContext& c, const Node& n) {
  const auto& s = n.state_as<PreluState>();
  ref::broadcast_binary(s.g, s.g.count, c.input(n, 0).as<const Q>(), c.input(n, 1).as<const Q>(), c.output(n, 0).as<Q>(),
                        [&](Q x, Q a) { return static_cast<Q>(ref::prelu_quantized(s.q, x, a)); });
}

}  // namespace

void prepare_prelu(PrepareContext& ctx, Node& n) {
  const RtTensor& in = ctx.input(n, 0);
  const RtTensor& alpha = ctx.input(n, 1);
  const RtTensor& out = ctx.output(n, 0);
  auto& s = n.state_as<PreluState>();
  s.g = checked(n, [&] { return ref::make_broadcast("PRELU", std::vector<std::vector<int64_t>>{dims_of(in), dims_of(alpha)}, 4); });
  const std::vector<int64_t> shape = s.g.out_shape();
  ctx.set_output_shape(n, 0, Shape(shape.begin(), shape.end()));
  n.work = s.g.count;
  n.separable = false;
  if (in.type != alpha.type || in.type != out.type) unsupported_types(ctx, n);
  if (in.type == T::kFloat32) {
    n.eval = eval_prelu_f32;
  } else if (in.type == T::kInt8 || in.type == T::kUInt8) {
    require_per_tensor(n, in, "input");
    require_per_tensor(n, alpha, "alpha");
    require_per_tensor(n, out, "output");
    const bool is_signed = in.type == T::kInt8;
    s.q = checked(n, [&] {
      return ref::make_prelu_params(in.scale(), in.zero_point(), alpha.scale(), alpha.zero_point(), out.scale(),
                                    out.zero_point(), is_signed ? -128 : 0, is_signed ? 127 : 255);
    });
    n.eval = is_signed ? eval_prelu_q<int8_t> : eval_prelu_q<uint8_t>;
  } else {
    unsupported_types(ctx, n);
  }
}

// ---- ADD_N: the inputs summed in order, all of one shape.

namespace {
template <class V>
void eval_add_n(const EvalContext& c, const Node& n) {
  const RtTensor& first = c.input(n, 0);
  const int64_t count = c.scaled(first.numel());
  V* y = c.output(n, 0).as<V>();
  const V* x0 = first.as<const V>();
  std::copy(x0, x0 + count, y);
  for (size_t k = 1; k < n.def->inputs.size(); ++k) {
    const V* x = c.input(n, k).as<const V>();
    for (int64_t i = 0; i < count; ++i) {
      if constexpr (std::is_integral_v<V>)
        y[i] = static_cast<V>(static_cast<std::make_unsigned_t<V>>(y[i]) + static_cast<std::make_unsigned_t<V>>(x[i]));
      else
        y[i] += x[i];
    }
  }
}
}  // namespace

void prepare_add_n(PrepareContext& ctx, Node& n) {
  const RtTensor& a = ctx.input(n, 0);
  op_check(ctx.num_inputs(n) >= 2, n, "needs at least 2 inputs (as TensorFlow Lite 2.9)");
  bool constant = a.constant;
  for (size_t k = 1; k < ctx.num_inputs(n); ++k) {
    const RtTensor& b = ctx.input(n, k);
    op_check(b.shape == a.shape, n, "input " + std::to_string(k) + " " + describe(b) + " differs in shape from " + describe(a));
    if (b.type != a.type) unsupported_types(ctx, n);
    constant = constant || b.constant;
  }
  if (ctx.output(n, 0).type != a.type) unsupported_types(ctx, n);
  ctx.set_output_shape(n, 0, a.shape);
  n.work = work_of({a.numel(), static_cast<int64_t>(ctx.num_inputs(n))});
  n.separable = !constant;
  if (a.type == T::kFloat32) n.eval = eval_add_n<float>;
  else if (a.type == T::kInt32) n.eval = eval_add_n<int32_t>;
  else unsupported_types(ctx, n);
}

// ---- CUMSUM along an axis (constant, or computed: prepared at invoke)

namespace {
struct CumsumState : OpState {
  int64_t outer = 1, axis = 1, inner = 1;
  bool exclusive = false, reverse = false;
};
template <class V>
void eval_cumsum(const EvalContext& c, const Node& n) {
  const auto& s = n.state_as<CumsumState>();
  ref::cumsum(s.outer, s.axis, s.inner, s.exclusive, s.reverse, c.input(n, 0).as<const V>(), c.output(n, 0).as<V>());
}
}  // namespace

void prepare_cumsum(PrepareContext& ctx, Node& n) {
  const RtTensor& in = ctx.input(n, 0);
  const RtTensor& axis = ctx.input(n, 1);
  require_type(n, axis, T::kInt32, "axis");
  op_check(axis.numel() == 1, n, "axis " + describe(axis) + " must hold one value");
  // A computed axis: the interpreter prepares the op at invoke, once it exists.
  require_values(n, axis, "axis");
  const auto rank = static_cast<int64_t>(in.shape.size());
  int64_t a = axis.as<const int32_t>()[0];
  op_check(a >= -rank && a < rank, n, "axis " + std::to_string(a) + " is outside the input's rank " + std::to_string(rank));
  if (a < 0) a += rank;
  auto& s = n.state_as<CumsumState>();
  s = CumsumState{};
  for (int64_t d = 0; d < rank; ++d) {
    if (d < a) s.outer *= in.shape[static_cast<size_t>(d)];
    else if (d == a) s.axis = in.shape[static_cast<size_t>(d)];
    else s.inner *= in.shape[static_cast<size_t>(d)];
  }
  if (const auto* o = std::get_if<lite::CumsumOptions>(&n.def->options)) s.exclusive = o->exclusive, s.reverse = o->reverse;
  if (ctx.output(n, 0).type != in.type) unsupported_types(ctx, n);
  ctx.set_output_shape(n, 0, in.shape);
  n.work = in.numel();
  n.separable = false;
  if (in.type == T::kFloat32) n.eval = eval_cumsum<float>;
  else if (in.type == T::kInt32) n.eval = eval_cumsum<int32_t>;
  else if (in.type == T::kInt64) n.eval = eval_cumsum<int64_t>;
  else unsupported_types(ctx, n);
}

// ---- LOG_SOFTMAX, L2_NORMALIZATION: rows of the last dimension

namespace {
template <void (*Row)(int64_t, const float*, float*)>
void eval_rows(const EvalContext& c, const Node& n) {
  const RtTensor& in = c.input(n, 0);
  const int64_t depth = in.shape.empty() ? 1 : in.shape.back();
  const int64_t count = c.scaled(in.numel());
  const float* x = in.as<const float>();
  float* y = c.output(n, 0).as<float>();
  if (depth <= 0) return;
  for (int64_t r = 0; r < count / depth; ++r) Row(depth, x + r * depth, y + r * depth);
}

void prepare_rows(PrepareContext& ctx, Node& n, EvalFn eval) {
  const RtTensor& in = ctx.input(n, 0);
  op_check(!in.shape.empty(), n, "input " + describe(in) + " needs rank >= 1");
  if (in.type != T::kFloat32 || ctx.output(n, 0).type != T::kFloat32) unsupported_types(ctx, n);
  ctx.set_output_shape(n, 0, in.shape);
  n.work = in.numel();
  n.separable = !in.constant && in.shape.size() >= 2;
  n.eval = eval;
}
}  // namespace

// ---- 8-bit LOG_SOFTMAX and L2_NORMALIZATION (quantized_math_kernels.h)

namespace {

struct QuantRowsState : OpState {
  ref::LogSoftmaxQuantParams log_softmax;
  int32_t input_zero_point = 0;
  int64_t outer = 0;
  int depth = 1;
};

template <class Q, void (*Rows)(const ref::LogSoftmaxQuantParams&, int64_t, int, const Q*, Q*)>
void eval_log_softmax_q(const EvalContext& c, const Node& n) {
  const auto& s = n.state_as<QuantRowsState>();
  Rows(s.log_softmax, c.scaled(s.outer), s.depth, c.input(n, 0).as<const Q>(), c.output(n, 0).as<Q>());
}

template <class Q, void (*Rows)(int32_t, int64_t, int, const Q*, Q*)>
void eval_l2_norm_q(const EvalContext& c, const Node& n) {
  const auto& s = n.state_as<QuantRowsState>();
  Rows(s.input_zero_point, c.scaled(s.outer), s.depth, c.input(n, 0).as<const Q>(), c.output(n, 0).as<Q>());
}

// Shapes and state of the 8-bit row ops; false when the types are not 8-bit.
bool prepare_quant_rows(PrepareContext& ctx, Node& n) {
  const RtTensor& in = ctx.input(n, 0);
  const RtTensor& out = ctx.output(n, 0);
  if (!((in.type == T::kInt8 && out.type == T::kInt8) || (in.type == T::kUInt8 && out.type == T::kUInt8))) return false;
  op_check(!in.shape.empty(), n, "input " + describe(in) + " needs rank >= 1");
  require_per_tensor(n, in, "input");
  require_per_tensor(n, out, "output");
  auto& s = n.state_as<QuantRowsState>();
  s.depth = dim_int(n, in.shape.back(), "row length");
  op_check(s.depth >= 1, n, "input " + describe(in) + " has empty rows");
  s.outer = in.numel() / s.depth;
  s.input_zero_point = in.zero_point();
  ctx.set_output_shape(n, 0, in.shape);
  n.work = in.numel();
  n.separable = !in.constant && in.shape.size() >= 2;
  return true;
}

}  // namespace

void prepare_log_softmax(PrepareContext& ctx, Node& n) {
  if (!prepare_quant_rows(ctx, n)) {
    prepare_rows(ctx, n, eval_rows<ref::log_softmax_row_f32>);
    return;
  }
  // activations.cc LogSoftmaxPrepare / optimized_ops::LogSoftmax.
  auto& s = n.state_as<QuantRowsState>();
  const RtTensor& in = ctx.input(n, 0);
  const RtTensor& out = ctx.output(n, 0);
  const bool is_signed = in.type == T::kInt8;
  try {
    s.log_softmax = ref::make_log_softmax_params(is_signed, in.scale(), out.scale(), out.zero_point());
  } catch (const Error& e) {
    op_fail(n, e.what());
  }
  n.eval = is_signed ? eval_log_softmax_q<int8_t, ref::log_softmax_int8> : eval_log_softmax_q<uint8_t, ref::log_softmax_uint8>;
}

void prepare_l2_normalization(PrepareContext& ctx, Node& n) {
  if (const auto* o = std::get_if<lite::L2NormOptions>(&n.def->options))
    op_check(o->activation == Activation::kLinear, n, "a fused activation is not supported");
  // l2norm.cc: at most 4 dimensions, whatever the type.
  op_check(ctx.input(n, 0).shape.size() <= 4, n, "input " + describe(ctx.input(n, 0)) + " must have rank <= 4");
  if (!prepare_quant_rows(ctx, n)) {
    prepare_rows(ctx, n, eval_rows<ref::l2_normalize_row_f32>);
    return;
  }
  const RtTensor& out = ctx.output(n, 0);
  const bool is_signed = out.type == T::kInt8;
  op_check(static_cast<double>(out.scale()) == 1.0 / 128, n,
           "output " + describe(out) + " must have scale 1/128 (TensorFlow Lite's fixed L2_NORMALIZATION output)");
  op_check(out.zero_point() == (is_signed ? 0 : 128), n,
           "output " + describe(out) + " must have zero point " + (is_signed ? "0" : "128"));
  n.eval = is_signed ? eval_l2_norm_q<int8_t, ref::l2_normalization_int8> : eval_l2_norm_q<uint8_t, ref::l2_normalization_uint8>;
}

// ---- GELU: float32, and int8 / uint8 through TFLite's float lookup table

namespace {
template <bool Approximate>
void gelu_apply(int64_t n, const float* x, float* y) {
  for (int64_t i = 0; i < n; ++i) y[i] = ref::gelu_f32(x[i], Approximate);
}
}  // namespace

void prepare_gelu(PrepareContext& ctx, Node& n) {
  ElementwiseState& s = prepare_elementwise(ctx, n);
  const RtTensor& in = ctx.input(n, 0);
  const RtTensor& out = ctx.output(n, 0);
  bool approximate = false;
  if (const auto* o = std::get_if<lite::GeluOptions>(&n.def->options)) approximate = o->approximate;
  if (in.type == T::kFloat32) {
    s.f32 = approximate ? gelu_apply<true> : gelu_apply<false>;
    n.eval = eval_f32_elementwise;
  } else if (in.type == T::kInt8 || in.type == T::kUInt8) {
    require_per_tensor(n, in, "input");
    require_per_tensor(n, out, "output");
    const bool is_signed = in.type == T::kInt8;
    op_check(std::isfinite(in.scale()) && in.scale() > 0 && std::isfinite(out.scale()) && out.scale() > 0, n,
             "scales must be finite and > 0");
    s.table = ref::make_float_function_table(is_signed, in.scale(), in.zero_point(), out.scale(), out.zero_point(),
                                             [&](float x) { return ref::gelu_f32(x, approximate); });
    n.eval = eval_byte_table;
  } else {
    unsupported_types(ctx, n);
  }
}

// ---- L2_POOL_2D: float32 only (TFLite 2.9 runs no quantized L2 pool)

void prepare_l2_pool2d(PrepareContext& ctx, Node& n) {
  if (ctx.input(n, 0).type != T::kFloat32) unsupported_types(ctx, n);
  prepare_pool(ctx, n, nullptr, ref::l2_pool2d_f32, nullptr);
  ref::validate_geometry(n.state_as<PoolState>().g, "L2_POOL_2D");
}

}  // namespace qlite::runtime::detail
