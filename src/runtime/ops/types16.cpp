// The quantized type combinations TensorFlow Lite 2.9 runs beside the common
// ones, for ops whose other types live in their own files: MEAN of int16,
// int32 and int64 over any axes, the quantized REDUCE_PROD of int8 and int16,
// and MUL of int16 into an 8-bit output. The arithmetic is in
// kernels/reference/types16_kernels.h (bit-exact with TFLite 2.9).
#include "runtime/ops/types16.h"

#include <cmath>

#include "kernels/reference/types16_kernels.h"
#include "runtime/ops/op_util.h"

namespace qlite::runtime::detail {
namespace {

using T = lite::TensorType;

struct ReduceTypes16State : OpState {
  ref::ReduceGeometry g;
  ref::MeanInt16Params mean16;
  ref::ReduceProdParams prod;
  size_t sums = 0, seen = 0;  // scratch indices
};

// The INT32 axes (TFLite reads them as int; constant, or computed at run
// time: the op is then prepared at invoke, as reduce.cpp's) and the geometry
// they give; sets the output's shape.
std::vector<int32_t> reduce_axes(PrepareContext& ctx, Node& n, ReduceTypes16State& s, const char* op,
                                 bool& keep_dims) {
  RtTensor& axes = ctx.input(n, 1);
  require_type(n, axes, T::kInt32, "axes");
  require_values(n, axes, "axes");
  op_check(axes.shape.size() <= 1, n, "axes " + describe(axes) + " must be a scalar or a list");
  const std::vector<int32_t> raw(axes.as<const int32_t>(), axes.as<const int32_t>() + axes.numel());
  s.g = prepare_reduction(ctx, n, op, std::vector<int64_t>(raw.begin(), raw.end()), &keep_dims);
  return raw;
}

void eval_mean_int16(const EvalContext& c, const Node& n) {
  const auto& s = n.state_as<ReduceTypes16State>();
  ref::mean_int16(s.g, s.mean16, c.input(n, 0).as<const int16_t>(), reinterpret_cast<int32_t*>(c.scratch_of(n, s.sums)),
                  c.output(n, 0).as<int16_t>());
}
void eval_mean_int8(const EvalContext& c, const Node& n) {
  const auto& s = n.state_as<ReduceTypes16State>();
  ref::mean_int8(s.g, s.mean16, c.input(n, 0).as<const int8_t>(), reinterpret_cast<int32_t*>(c.scratch_of(n, s.sums)),
                 c.output(n, 0).as<int8_t>());
}
void eval_mean_uint8(const EvalContext& c, const Node& n) {
  const auto& s = n.state_as<ReduceTypes16State>();
  ref::mean_uint8(s.g, s.mean16, c.input(n, 0).as<const uint8_t>(),
                  reinterpret_cast<int32_t*>(c.scratch_of(n, s.sums)), c.output(n, 0).as<uint8_t>());
}
void eval_mean_f32(const EvalContext& c, const Node& n) {
  const auto& s = n.state_as<ReduceTypes16State>();
  ref::mean_f32(s.g, c.input(n, 0).as<const float>(), reinterpret_cast<float*>(c.scratch_of(n, s.sums)),
                c.output(n, 0).as<float>());
}
void eval_mean_int32(const EvalContext& c, const Node& n) {
  const auto& s = n.state_as<ReduceTypes16State>();
  ref::mean_int32(s.g, c.input(n, 0).as<const int32_t>(), reinterpret_cast<int64_t*>(c.scratch_of(n, s.sums)),
                  c.output(n, 0).as<int32_t>());
}
void eval_mean_int64(const EvalContext& c, const Node& n) {
  const auto& s = n.state_as<ReduceTypes16State>();
  ref::mean_int64(s.g, c.input(n, 0).as<const int64_t>(), reinterpret_cast<int64_t*>(c.scratch_of(n, s.sums)),
                  c.output(n, 0).as<int64_t>());
}

template <class Q>
void eval_reduce_prod(const EvalContext& c, const Node& n) {
  const auto& s = n.state_as<ReduceTypes16State>();
  auto* acc = reinterpret_cast<int32_t*>(c.scratch_of(n, s.sums));
  auto* seen = reinterpret_cast<uint8_t*>(c.scratch_of(n, s.seen));
  if constexpr (std::is_same_v<Q, int8_t>) {
    ref::reduce_prod_int8(s.g, s.prod, c.input(n, 0).as<const int8_t>(), acc, seen, c.output(n, 0).as<int8_t>());
  } else {
    ref::reduce_prod_int16(s.g, s.prod, c.input(n, 0).as<const int16_t>(), acc, seen, c.output(n, 0).as<int16_t>());
  }
}

struct MulTypes16State : OpState {
  int64_t count = 0;
  int32_t zero_point = 0;
  ref::ActRange act;
};

void eval_mul_int16_to_int8(const EvalContext& c, const Node& n) {
  const auto& s = n.state_as<MulTypes16State>();
  ref::mul_int16_to_int8(s.count, c.input(n, 0).as<const int16_t>(), c.input(n, 1).as<const int16_t>(), s.zero_point,
                         s.act, c.output(n, 0).as<int8_t>());
}
void eval_mul_int16_to_uint8(const EvalContext& c, const Node& n) {
  const auto& s = n.state_as<MulTypes16State>();
  ref::mul_int16_to_uint8(s.count, c.input(n, 0).as<const int16_t>(), c.input(n, 1).as<const int16_t>(),
                          s.zero_point, s.act, c.output(n, 0).as<uint8_t>());
}

}  // namespace

void prepare_mean_types16(PrepareContext& ctx, Node& n) {
  RtTensor& in = ctx.input(n, 0);
  RtTensor& out = ctx.output(n, 0);
  if (in.type != out.type) unsupported_types(ctx, n);
  auto& s = n.state_as<ReduceTypes16State>();
  bool keep_dims = false;
  const std::vector<int32_t> raw_axes = reduce_axes(ctx, n, s, "MEAN", keep_dims);
  op_check(s.g.reduce_count > 0, n, "input " + describe(in) + ": the mean of no elements is undefined");
  // The quantized means: TFLite's parameters for `method`, int32 sums per output.
  const auto quantized_mean = [&](ref::MeanInt8Method method, EvalFn eval) {
    try {
      s.mean16 = ref::make_mean_int16_params(method, s.g.reduce_count, in.scale(), in.zero_point(), out.scale(),
                                             out.zero_point());
    } catch (const Error& e) {
      op_fail(n, e.what());
    }
    s.sums = ctx.request_scratch(n, static_cast<size_t>(s.g.out_count) * sizeof(int32_t));
    n.eval = eval;
  };
  if (in.type == T::kInt16) {
    require_per_tensor(n, in, "input");
    require_per_tensor(n, out, "output");
    // reduce.cc's Prepare: int16 zero points must be 0.
    op_check(in.zero_point() == 0, n, "int16 input " + describe(in) + " must have zero point 0");
    op_check(out.zero_point() == 0, n, "int16 output " + describe(out) + " must have zero point 0");
    // reduce.cc EvalMeanReferenceOps<int16_t>: the 4-D keep_dims special case
    // first (the axes as written), then equal quantization, then the float path.
    ref::MeanInt8Method method =
        ref::tflite_mean_method(keep_dims, raw_axes, in.scale(), in.zero_point(), out.scale(), out.zero_point());
    if (method == ref::MeanInt8Method::kRequantizeThenDivide && in.shape.size() != 4)
      method = ref::tflite_mean_method(false, raw_axes, in.scale(), in.zero_point(), out.scale(), out.zero_point());
    op_check(method != ref::MeanInt8Method::kRequantizeThenDivide || s.g.reduce_count <= (int64_t{1} << 30), n,
             "too many elements per output");
    quantized_mean(method, eval_mean_int16);
  } else if (in.type == T::kInt8 || in.type == T::kUInt8) {
    // Not the 4-D H, W mean (mean.cpp): EvalMeanReferenceOps' general paths.
    require_per_tensor(n, in, "input");
    require_per_tensor(n, out, "output");
    quantized_mean(
        ref::tflite_mean_method(false, raw_axes, in.scale(), in.zero_point(), out.scale(), out.zero_point()),
        in.type == T::kInt8 ? eval_mean_int8 : eval_mean_uint8);
  } else if (in.type == T::kFloat32) {
    s.sums = ctx.request_scratch(n, static_cast<size_t>(s.g.out_count) * sizeof(float));
    n.eval = eval_mean_f32;
  } else if (in.type == T::kInt32 || in.type == T::kInt64) {
    s.sums = ctx.request_scratch(n, static_cast<size_t>(s.g.out_count) * sizeof(int64_t));
    n.eval = in.type == T::kInt32 ? eval_mean_int32 : eval_mean_int64;
  } else {
    unsupported_types(ctx, n);
  }
}

void prepare_reduce_prod_quantized(PrepareContext& ctx, Node& n) {
  RtTensor& in = ctx.input(n, 0);
  RtTensor& out = ctx.output(n, 0);
  if (in.type != out.type || (in.type != T::kInt8 && in.type != T::kInt16)) unsupported_types(ctx, n);
  require_per_tensor(n, in, "input");
  require_per_tensor(n, out, "output");
  auto& s = n.state_as<ReduceTypes16State>();
  bool keep_dims = false;
  reduce_axes(ctx, n, s, "REDUCE_PROD", keep_dims);
  op_check(s.g.in_count > 0 && s.g.out_count > 0, n, "input " + describe(in) + " has no elements");
  if (in.type == T::kInt16) {
    op_check(in.zero_point() == 0, n, "int16 input " + describe(in) + " must have zero point 0");
    op_check(out.zero_point() == 0, n, "int16 output " + describe(out) + " must have zero point 0");
  }
  try {
    s.prod = ref::make_reduce_prod_params(in.scale(), in.zero_point(), out.scale(), out.zero_point(),
                                          s.g.in_count / s.g.out_count);
  } catch (const Error& e) {
    op_fail(n, e.what());
  }
  s.sums = ctx.request_scratch(n, static_cast<size_t>(s.g.out_count) * sizeof(int32_t));
  s.seen = ctx.request_scratch(n, static_cast<size_t>(s.g.out_count));
  n.eval = in.type == T::kInt8 ? eval_reduce_prod<int8_t> : eval_reduce_prod<int16_t>;
}

void prepare_mul_int16_to_8bit(PrepareContext& ctx, Node& n) {
  RtTensor& a = ctx.input(n, 0);
  RtTensor& b = ctx.input(n, 1);
  RtTensor& out = ctx.output(n, 0);
  if (b.type != T::kInt16 || (out.type != T::kInt8 && out.type != T::kUInt8)) unsupported_types(ctx, n);
  // TFLite 2.9 runs this pair without broadcasting (it would read past the
  // smaller input): qlite requires equal shapes.
  op_check(a.shape == b.shape, n,
           "int16 inputs " + describe(a) + " and " + describe(b) + " must have the same shape for an 8-bit output");
  require_per_tensor(n, a, "input 0");
  require_per_tensor(n, b, "input 1");
  require_per_tensor(n, out, "output");
  auto& s = n.state_as<MulTypes16State>();
  Activation act = Activation::kLinear;
  if (const auto* o = std::get_if<lite::MulOptions>(&n.def->options)) act = to_fused(n, o->activation);
  const bool is_signed = out.type == T::kInt8;
  try {
    s.act = ref::fused_activation_range(act, out.scale(), out.zero_point(), is_signed ? -128 : 0, is_signed ? 127 : 255);
  } catch (const Error& e) {
    op_fail(n, e.what());
  }
  s.zero_point = out.zero_point();
  s.count = a.numel();
  ctx.set_output_shape(n, 0, a.shape);
  n.work = s.count;
  n.separable = false;
  n.eval = is_signed ? eval_mul_int16_to_int8 : eval_mul_int16_to_uint8;
}

}  // namespace qlite::runtime::detail
