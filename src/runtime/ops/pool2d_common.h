// Shared prepare of MAX_POOL_2D and AVERAGE_POOL_2D (same options, shapes and
// quantization rules; the kernels differ).
#pragma once

#include "kernels/int8_kernels_x86.h"
#include "kernels/reference/types16_kernels.h"
#include "kernels/reference/uint8_kernels.h"
#include "runtime/ops/op_util.h"

namespace qlite::runtime::detail {

struct PoolState : OpState {
  ref::WindowGeometry g;
  Activation act = Activation::kLinear;
  ref::PoolInt8Params q;
  Isa isa = Isa::kReference;
  void (*int8_fn)(Isa, const ref::PoolInt8Params&, const int8_t*, int8_t*) = nullptr;
  void (*f32_fn)(const ref::WindowGeometry&, Activation, const float*, float*) = nullptr;
  void (*uint8_fn)(const ref::PoolInt8Params&, const uint8_t*, uint8_t*) = nullptr;
  void (*int16_fn)(const ref::PoolInt8Params&, const int16_t*, int16_t*) = nullptr;
};

inline void eval_pool_int16(const EvalContext& c, const Node& n) {
  const auto& s = n.state_as<PoolState>();
  ref::PoolInt8Params q = s.q;
  q.g.batch = static_cast<int>(c.scaled(q.g.batch));
  s.int16_fn(q, c.input(n, 0).as<const int16_t>(), c.output(n, 0).as<int16_t>());
}

inline void eval_pool_uint8(const EvalContext& c, const Node& n) {
  const auto& s = n.state_as<PoolState>();
  ref::PoolInt8Params q = s.q;
  q.g.batch = static_cast<int>(c.scaled(q.g.batch));
  s.uint8_fn(q, c.input(n, 0).as<const uint8_t>(), c.output(n, 0).as<uint8_t>());
}

inline void eval_pool_f32(const EvalContext& c, const Node& n) {
  const auto& s = n.state_as<PoolState>();
  ref::WindowGeometry g = s.g;
  g.batch = static_cast<int>(c.scaled(g.batch));
  s.f32_fn(g, s.act, c.input(n, 0).as<const float>(), c.output(n, 0).as<float>());
}

inline void eval_pool_int8(const EvalContext& c, const Node& n) {
  const auto& s = n.state_as<PoolState>();
  ref::PoolInt8Params q = s.q;
  q.g.batch = static_cast<int>(c.scaled(q.g.batch));
  s.int8_fn(s.isa, q, c.input(n, 0).as<const int8_t>(), c.output(n, 0).as<int8_t>());
}

// Fills the geometry and chooses float or int8; the output keeps the
// input's scale and zero point (TFLite requires it for int8 pooling).
// uint8 runs the reference uint8 kernel (ref::*_pool2d_uint8), int16 the
// reference int16 one (types16_kernels.h: raw values, as TFLite 2.9, which
// checks no quantization for int16 pooling).
inline void prepare_pool(PrepareContext& ctx, Node& n, decltype(PoolState::int8_fn) int8_fn,
                         decltype(PoolState::f32_fn) f32_fn, decltype(PoolState::uint8_fn) uint8_fn,
                         decltype(PoolState::int16_fn) int16_fn = nullptr) {
  const auto& o = std::get<lite::Pool2DOptions>(n.def->options);
  RtTensor& in = ctx.input(n, 0);
  RtTensor& out = ctx.output(n, 0);
  require_rank(n, in, 4, "input");
  auto& s = n.state_as<PoolState>();
  ref::WindowGeometry& g = s.g;
  g.batch = dim_int(n, in.shape[0], "batch");
  g.in_h = dim_int(n, in.shape[1], "input height");
  g.in_w = dim_int(n, in.shape[2], "input width");
  g.in_c = g.out_c = dim_int(n, in.shape[3], "channels");
  g.kernel_h = o.filter_h, g.kernel_w = o.filter_w;
  g.stride_h = o.stride_h, g.stride_w = o.stride_w;
  g.dilation_h = g.dilation_w = 1;
  ref::apply_padding(g, to_padding(o.padding));
  s.act = to_fused(n, o.activation);
  ctx.set_output_shape(n, 0, {g.batch, g.out_h, g.out_w, g.out_c});
  n.work = work_of({g.batch, g.out_h, g.out_w, g.out_c, g.kernel_h, g.kernel_w}) / 4;
  s.isa = ctx.isa();
  op_check(in.type == out.type, n, "input " + describe(in) + " and output " + describe(out) + " differ in type");
  if (in.type == lite::TensorType::kFloat32) {
    s.f32_fn = f32_fn;
    n.eval = eval_pool_f32;
  } else if (in.type == lite::TensorType::kInt8) {
    require_same_quantization(n, in, out, "pooling keeps the quantization");
    s.q.g = g;
    s.q.act = ref::fused_activation_range(s.act, out.scale(), out.zero_point());
    s.int8_fn = int8_fn;
    n.eval = eval_pool_int8;
  } else if (in.type == lite::TensorType::kUInt8) {
    require_same_quantization(n, in, out, "pooling keeps the quantization");
    s.q.g = g;
    s.q.act = ref::fused_activation_range(s.act, out.scale(), out.zero_point(), 0, 255);
    s.uint8_fn = uint8_fn;
    n.eval = eval_pool_uint8;
  } else if (in.type == lite::TensorType::kInt16 && int16_fn) {
    s.q.g = g;
    s.q.act = ref::ActRange{-32768, 32767};
    if (s.act != Activation::kLinear) {
      require_per_tensor(n, out, "output");
      try {
        s.q.act = ref::fused_activation_range(s.act, out.scale(), out.zero_point(), -32768, 32767);
      } catch (const Error& e) {
        op_fail(n, e.what());
      }
    }
    // The int32 sum of an average (TFLite's) must not wrap: at most 65536 taps.
    op_check(int64_t{g.kernel_h} * g.kernel_w <= 65536, n, "int16 pooling windows larger than 65536 taps are not supported");
    s.int16_fn = int16_fn;
    n.eval = eval_pool_int16;
  } else {
    unsupported_types(ctx, n);
  }
}

}  // namespace qlite::runtime::detail
