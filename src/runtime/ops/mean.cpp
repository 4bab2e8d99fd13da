// MEAN over the spatial axes (1, 2) of an NHWC tensor, the global average
// pooling of MobileNet-style models: float32, int8 and uint8. Other axes and
// the int16 / int32 / int64 means are types16.cpp's. int8 is bit-exact with
// TensorFlow Lite 2.9, which picks one of three arithmetics from keep_dims,
// the axes as written and the quantization (ref::tflite_mean_method).
#include <algorithm>

#include "kernels/float_kernels.h"
#include "kernels/int8_kernels_x86.h"
#include "kernels/reference/uint8_kernels.h"
#include "runtime/ops/op_util.h"
#include "runtime/ops/ops.h"
#include "runtime/ops/types16.h"

namespace qlite::runtime::detail {
namespace {

struct MeanState : OpState {
  int batch = 1, h = 1, w = 1, c = 1;
  ref::MeanInt8Params q;
  Isa isa = Isa::kReference;
  decltype(KernelTable::mean_hw_f32) f32_fn = nullptr;
};

void eval_f32(const EvalContext& c, const Node& n) {
  const auto& s = n.state_as<MeanState>();
  s.f32_fn(static_cast<int>(c.scaled(s.batch)), s.h, s.w, s.c, c.input(n, 0).as<const float>(), c.output(n, 0).as<float>());
}

// AVX2 / AVX-512: the reference's double sums (each channel over the pixels
// in order) are float_bn_sums' (float_kernels.h), channels in the vector
// lanes, into scratch; then the reference's division. Bit-identical to
// ref::mean_hw_f32.
void eval_f32_simd(const EvalContext& c, const Node& n) {
  const auto& s = n.state_as<MeanState>();
  const int batch = static_cast<int>(c.scaled(s.batch));
  const int64_t hw = int64_t{s.h} * s.w;
  const float* in = c.input(n, 0).as<const float>();
  float* out = c.output(n, 0).as<float>();
  double* sum = reinterpret_cast<double*>(c.scratch_of(n, 0));
  const double count = static_cast<double>(s.h) * s.w;
  for (int b = 0; b < batch; ++b) {
    std::fill(sum, sum + s.c, 0.0);
    kernels::float_bn_sums(s.isa, in + b * hw * s.c, hw, s.c, sum);
    for (int ch = 0; ch < s.c; ++ch) out[int64_t{b} * s.c + ch] = static_cast<float>(sum[ch] / count);
  }
}

void eval_int8(const EvalContext& c, const Node& n) {
  const auto& s = n.state_as<MeanState>();
  ref::MeanInt8Params q = s.q;
  q.batch = static_cast<int>(c.scaled(q.batch));
  kernels::mean_hw_int8(s.isa, q, c.input(n, 0).as<const int8_t>(), c.output(n, 0).as<int8_t>());
}

void eval_uint8(const EvalContext& c, const Node& n) {
  const auto& s = n.state_as<MeanState>();
  ref::MeanInt8Params q = s.q;
  q.batch = static_cast<int>(c.scaled(q.batch));
  ref::mean_hw_uint8(q, c.input(n, 0).as<const uint8_t>(), c.output(n, 0).as<uint8_t>());
}

// A 4-D input and INT32 axes that resolve to {1, 2} (in any order, negative
// allowed): the spatial mean below. Other axes go to types16.cpp, and so do
// axes computed at run time until their values are known (the op is then
// prepared at invoke and comes back here).
bool hw_axes(PrepareContext& ctx, const Node& n) {
  const RtTensor& in = ctx.input(n, 0);
  const RtTensor& axes = ctx.input(n, 1);
  if (in.shape.size() != 4 || !(axes.constant || axes.known) || axes.type != lite::TensorType::kInt32) return false;
  std::vector<int32_t> ax(axes.as<const int32_t>(), axes.as<const int32_t>() + axes.numel());
  for (int32_t& a : ax) a = a < 0 ? a + 4 : a;
  std::sort(ax.begin(), ax.end());
  return ax == std::vector<int32_t>{1, 2};
}

}  // namespace

void prepare_mean(PrepareContext& ctx, Node& n) {
  using T = lite::TensorType;
  if (const T t = ctx.input(n, 0).type; t == T::kInt16 || t == T::kInt32 || t == T::kInt64 || !hw_axes(ctx, n)) {
    prepare_mean_types16(ctx, n);  // types16.cpp: any axes
    return;
  }
  RtTensor& in = ctx.input(n, 0);
  RtTensor& axes = ctx.input(n, 1);
  RtTensor& out = ctx.output(n, 0);
  require_rank(n, in, 4, "input");
  require_type(n, axes, lite::TensorType::kInt32, "axes");
  require_values(n, axes, "axes");
  const std::vector<int32_t> raw_axes(axes.as<const int32_t>(), axes.as<const int32_t>() + axes.numel());
  std::vector<int32_t> ax = raw_axes;
  for (int32_t& a : ax) a = a < 0 ? a + 4 : a;
  std::sort(ax.begin(), ax.end());
  op_check(ax == std::vector<int32_t>{1, 2}, n, "only the mean over axes (1, 2) of an NHWC tensor is supported");
  bool keep_dims = false;
  if (const auto* o = std::get_if<lite::ReducerOptions>(&n.def->options)) keep_dims = o->keep_dims;
  auto& s = n.state_as<MeanState>();
  s.batch = dim_int(n, in.shape[0], "batch");
  s.h = dim_int(n, in.shape[1], "height");
  s.w = dim_int(n, in.shape[2], "width");
  s.c = dim_int(n, in.shape[3], "channels");
  n.work = in.numel();
  if (keep_dims) {
    ctx.set_output_shape(n, 0, {s.batch, 1, 1, s.c});
  } else {
    ctx.set_output_shape(n, 0, {s.batch, s.c});
  }
  if (in.type == T::kFloat32 && out.type == T::kFloat32) {
    s.f32_fn = ctx.kernels().mean_hw_f32;
    s.isa = ctx.isa();
    n.eval = eval_f32;
    if (s.isa != Isa::kReference) {
      ctx.request_scratch(n, static_cast<size_t>(s.c) * sizeof(double));
      n.eval = eval_f32_simd;
    }
  } else if (in.type == T::kInt8 && out.type == T::kInt8) {
    require_per_tensor(n, in, "input");
    require_per_tensor(n, out, "output");
    const ref::MeanInt8Method method =
        ref::tflite_mean_method(keep_dims, raw_axes, in.scale(), in.zero_point(), out.scale(), out.zero_point());
    s.q = ref::make_mean_params(s.batch, s.h, s.w, s.c, in.scale(), in.zero_point(), out.scale(),
                                out.zero_point(), method);
    s.isa = ctx.isa();
    n.eval = eval_int8;
  } else if (in.type == T::kUInt8 && out.type == T::kUInt8) {
    require_per_tensor(n, in, "input");
    require_per_tensor(n, out, "output");
    const ref::MeanInt8Method method =
        ref::tflite_mean_method(keep_dims, raw_axes, in.scale(), in.zero_point(), out.scale(), out.zero_point());
    s.q = ref::make_mean_params_uint8(s.batch, s.h, s.w, s.c, in.scale(), in.zero_point(), out.scale(),
                                      out.zero_point(), method);
    n.eval = eval_uint8;
  } else {
    unsupported_types(ctx, n);
  }
}

}  // namespace qlite::runtime::detail
