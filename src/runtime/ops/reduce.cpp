// The reductions SUM, REDUCE_MAX, REDUCE_MIN and REDUCE_PROD over a constant
// list of axes (int32 or int64; negative axes count from the end, repeats
// allowed), with keep_dims. Integers wrap as TFLite's int arithmetic does;
// 8-bit SUM with different input and output quantization rescales as
// TFLite 2.9's QuantizedMeanOrSum (ref::quantized_sum_output), with equal
// ones it sums the raw values in the type.
#include "kernels/reference/math_kernels.h"
#include "runtime/ops/op_util.h"
#include "runtime/ops/ops.h"
#include "runtime/ops/types16.h"

namespace qlite::runtime::detail {
namespace {

using T = lite::TensorType;

enum class Kind { kSum, kMax, kMin, kProd };

struct ReduceState : OpState {
  ref::ReduceGeometry g;
  float si = 1, so = 1;
  int32_t zi = 0, zo = 0;
};

template <class V>
V wrap_add(V a, V b) {
  if constexpr (std::is_integral_v<V>) {
    using U = std::make_unsigned_t<V>;
    return static_cast<V>(static_cast<U>(a) + static_cast<U>(b));
  } else {
    return a + b;
  }
}
template <class V>
V wrap_mul(V a, V b) {
  if constexpr (std::is_integral_v<V>) {
    using U = std::make_unsigned_t<V>;
    return static_cast<V>(static_cast<U>(a) * static_cast<U>(b));
  } else {
    return a * b;
  }
}

template <class V, Kind K>
void eval_reduce(const EvalContext& c, const Node& n) {
  const auto& s = n.state_as<ReduceState>();
  const V* in = c.input(n, 0).as<const V>();
  V* out = c.output(n, 0).as<V>();
  if constexpr (K == Kind::kSum) {
    ref::reduce(s.g, in, out, V{0}, [](V a, V x) { return wrap_add(a, x); });
  } else if constexpr (K == Kind::kProd) {
    ref::reduce(s.g, in, out, V{1}, [](V a, V x) { return wrap_mul(a, x); });
  } else if constexpr (K == Kind::kMax) {
    ref::reduce(s.g, in, out, std::numeric_limits<V>::lowest(), [](V a, V x) { return x > a ? x : a; });
  } else {
    ref::reduce(s.g, in, out, std::numeric_limits<V>::max(), [](V a, V x) { return x < a ? x : a; });
  }
}

// 8-bit SUM with rescaling: the raw int32 sums, then the float step.
template <class Q>
void eval_sum_rescaled(const EvalContext& c, const Node& n) {
  const auto& s = n.state_as<ReduceState>();
  const Q* in = c.input(n, 0).as<const Q>();
  Q* out = c.output(n, 0).as<Q>();
  auto* acc = reinterpret_cast<int32_t*>(c.scratch_of(n, 0));
  ref::reduce(s.g, in, acc, int32_t{0}, [](int32_t a, Q x) { return a + int32_t{x}; });
  for (int64_t o = 0; o < s.g.out_count; ++o)
    out[o] = static_cast<Q>(ref::quantized_sum_output(acc[o], s.g.reduce_count, s.si, s.zi, s.so, s.zo));
}

template <Kind K>
void prepare_reduce(PrepareContext& ctx, Node& n, const char* name) {
  RtTensor& in = ctx.input(n, 0);
  RtTensor& axes = ctx.input(n, 1);
  RtTensor& out = ctx.output(n, 0);
  require_values(n, axes, "axes");
  op_check(axes.type == T::kInt32 || axes.type == T::kInt64, n, "axes " + describe(axes) + " must be INT32 or INT64");
  op_check(axes.shape.size() <= 1, n, "axes " + describe(axes) + " must be a scalar or a list");
  std::vector<int64_t> ax;
  for (int64_t i = 0, e = axes.numel(); i < e; ++i)
    ax.push_back(axes.type == T::kInt32 ? int64_t{axes.as<const int32_t>()[i]} : axes.as<const int64_t>()[i]);
  auto& s = n.state_as<ReduceState>();
  s.g = prepare_reduction(ctx, n, name, ax);
  if (in.type != out.type) unsupported_types(ctx, n);
  switch (in.type) {
    case T::kFloat32: n.eval = eval_reduce<float, K>; return;
    case T::kInt32: n.eval = eval_reduce<int32_t, K>; return;
    case T::kInt64: n.eval = eval_reduce<int64_t, K>; return;
    case T::kInt8:
    case T::kUInt8: {
      if (K == Kind::kProd) unsupported_types(ctx, n);
      const bool is_signed = in.type == T::kInt8;
      if (K == Kind::kSum && in.quantized() && out.quantized()) {
        require_per_tensor(n, in, "input");
        require_per_tensor(n, out, "output");
        if (in.scale() != out.scale() || in.zero_point() != out.zero_point()) {
          s.si = in.scale(), s.so = out.scale(), s.zi = in.zero_point(), s.zo = out.zero_point();
          op_check(std::isfinite(s.si) && s.si > 0 && std::isfinite(s.so) && s.so > 0, n, "scales must be finite and > 0");
          ctx.request_scratch(n, static_cast<size_t>(s.g.out_count) * sizeof(int32_t));
          n.eval = is_signed ? eval_sum_rescaled<int8_t> : eval_sum_rescaled<uint8_t>;
          return;
        }
      }
      n.eval = is_signed ? eval_reduce<int8_t, K> : eval_reduce<uint8_t, K>;
      return;
    }
    case T::kInt16:
      // reduce.cc: REDUCE_MAX / REDUCE_MIN of int16 compare the raw values,
      // and refuse an output quantization other than the input's; SUM of
      // int16 (EvalSum: no rescaling for int16) adds the raw values in int16.
      if (K != Kind::kMax && K != Kind::kMin && K != Kind::kSum) unsupported_types(ctx, n);
      require_per_tensor(n, in, "input");
      require_per_tensor(n, out, "output");
      op_check(in.scale() == out.scale() && in.zero_point() == out.zero_point(), n,
               "int16 output " + describe(out) + " must have the input's quantization " + describe(in));
      n.eval = eval_reduce<int16_t, K>;
      return;
    default: unsupported_types(ctx, n);
  }
}

}  // namespace

void prepare_sum(PrepareContext& ctx, Node& n) { prepare_reduce<Kind::kSum>(ctx, n, "SUM"); }
void prepare_reduce_max(PrepareContext& ctx, Node& n) { prepare_reduce<Kind::kMax>(ctx, n, "REDUCE_MAX"); }
void prepare_reduce_min(PrepareContext& ctx, Node& n) { prepare_reduce<Kind::kMin>(ctx, n, "REDUCE_MIN"); }
void prepare_reduce_prod(PrepareContext& ctx, Node& n) {
  // reduce.cc EvalProd: quantized int8 / int16 rescale every product (types16.cpp).
  const RtTensor& in = ctx.input(n, 0);
  if ((in.type == T::kInt8 || in.type == T::kInt16) && in.quantized()) {
    prepare_reduce_prod_quantized(ctx, n);
    return;
  }
  prepare_reduce<Kind::kProd>(ctx, n, "REDUCE_PROD");
}

}  // namespace qlite::runtime::detail
