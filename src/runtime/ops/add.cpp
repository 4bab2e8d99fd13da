// ADD: float32, int8 and
// uint8 (TFLite's left_shift = 20 scheme; uint8 runs the int8 kernels on
// flipped bytes, the reference Isa ref::add_uint8), and int16 (16x8 models:
// TFLite's power-of-two or general kernel, ref::add_int16), int32 and int64
// (shape arithmetic: the wrapping sum clamped to the fused activation). Inputs of
// different shapes broadcast (numpy rules, up to 4-D, as TFLite 2.9) through
// the reference kernels.
#include <limits>
#include <type_traits>

#include "kernels/int8_kernels_x86.h"
#include "kernels/runtime_float.h"
#include "kernels/reference/int16_kernels.h"
#include "kernels/reference/math_kernels.h"
#include "kernels/reference/reference_float.h"
#include "kernels/reference/uint8_kernels.h"
#include "runtime/ops/op_util.h"
#include "runtime/ops/ops.h"

namespace qlite::runtime::detail {
namespace {

struct AddState : OpState {
  Activation act = Activation::kLinear;
  ref::AddInt8Params q;
  Isa isa = Isa::kReference;
  decltype(KernelTable::add_f32) f32_fn = nullptr;
  ref::FloatActRange f32_range;  // the clamp of act, for eval_f32_simd
  ref::AddInt8Params q_u8;  // uint8 domain; q holds the int8-domain params
  kernels::PreparedAddInt8 q_simd;  // q with the SIMD kernels' constants (prepare_int8_kernel)
  ref::AddInt16Params q16;
  // Inputs of different shapes: numpy broadcasting through the reference
  // kernels one element at a time (TFLite 2.9 broadcasts ADD up to 4-D).
  bool broadcast = false;
  ref::BroadcastGeometry g;
};

template <class V, class F>
void eval_broadcast(const EvalContext& c, const Node& n, F&& one) {
  const auto& s = n.state_as<AddState>();
  ref::broadcast_binary(s.g, s.g.count, c.input(n, 0).as<const V>(), c.input(n, 1).as<const V>(),
                        c.output(n, 0).as<V>(), [&](V a, V b) {
                          V out;
                          one(s, a, b, out);
                          return out;
                        });
}
void eval_broadcast_f32(const EvalContext& c, const Node& n) {
  eval_broadcast<float>(c, n, [](const AddState& s, float a, float b, float& y) { ref::add_f32(1, &a, &b, s.act, &y); });
}
void eval_broadcast_int8(const EvalContext& c, const Node& n) {
  eval_broadcast<int8_t>(c, n, [](const AddState& s, int8_t a, int8_t b, int8_t& y) { ref::add_int8(s.q, 1, &a, &b, &y); });
}
void eval_broadcast_uint8(const EvalContext& c, const Node& n) {
  eval_broadcast<uint8_t>(c, n,
                          [](const AddState& s, uint8_t a, uint8_t b, uint8_t& y) { ref::add_uint8(s.q_u8, 1, &a, &b, &y); });
}
void eval_broadcast_int16(const EvalContext& c, const Node& n) {
  eval_broadcast<int16_t>(c, n,
                          [](const AddState& s, int16_t a, int16_t b, int16_t& y) { ref::add_int16(s.q16, 1, &a, &b, &y); });
}

// int32 / int64 ADD (add.cc EvalAdd): the sum wrapping as TFLite's integer
// addition does in practice, clamped to CalculateActivationRange<T>.
template <class V>
V add_int_clamped(const AddState& s, V a, V b) {
  using U = std::make_unsigned_t<V>;
  const V sum = static_cast<V>(static_cast<U>(a) + static_cast<U>(b));
  V lo = std::numeric_limits<V>::lowest(), hi = std::numeric_limits<V>::max();
  if (s.act == Activation::kRelu) lo = 0;
  if (s.act == Activation::kRelu6) lo = 0, hi = 6;
  if (s.act == Activation::kReluN1To1) lo = -1, hi = 1;
  return std::min(std::max(sum, lo), hi);
}
template <class V>
void eval_int_add(const EvalContext& c, const Node& n) {
  const auto& s = n.state_as<AddState>();
  const V* a = c.input(n, 0).as<const V>();
  const V* b = c.input(n, 1).as<const V>();
  V* y = c.output(n, 0).as<V>();
  for (int64_t i = 0, e = c.scaled(c.input(n, 0).numel()); i < e; ++i) y[i] = add_int_clamped(s, a[i], b[i]);
}
template <class V>
void eval_broadcast_int_add(const EvalContext& c, const Node& n) {
  eval_broadcast<V>(c, n, [](const AddState& s, V a, V b, V& y) { y = add_int_clamped(s, a, b); });
}

void eval_int16(const EvalContext& c, const Node& n) {
  const auto& s = n.state_as<AddState>();
  const RtTensor& a = c.input(n, 0);
  ref::add_int16(s.q16, c.scaled(a.numel()), a.as<const int16_t>(), c.input(n, 1).as<const int16_t>(),
                 c.output(n, 0).as<int16_t>());
}

void eval_uint8_ref(const EvalContext& c, const Node& n) {
  const auto& s = n.state_as<AddState>();
  const RtTensor& a = c.input(n, 0);
  ref::add_uint8(s.q_u8, c.scaled(a.numel()), a.as<const uint8_t>(), c.input(n, 1).as<const uint8_t>(),
                 c.output(n, 0).as<uint8_t>());
}

void eval_uint8(const EvalContext& c, const Node& n) {
  const auto& s = n.state_as<AddState>();
  const RtTensor& a = c.input(n, 0);
  const int64_t len = c.scaled(a.numel());
  auto* x = reinterpret_cast<int8_t*>(c.scratch_of(n, 0));
  int8_t* y = x + scratch_stride(static_cast<size_t>(a.numel()));
  ref::flip_uint8_int8(len, a.data, x);
  ref::flip_uint8_int8(len, c.input(n, 1).data, y);
  int8_t* out = c.output(n, 0).as<int8_t>();
  kernels::add_int8(s.isa, s.q_simd, len, x, y, out);
  ref::flip_uint8_int8(len, out, out);
}

void eval_f32(const EvalContext& c, const Node& n) {
  const auto& s = n.state_as<AddState>();
  const RtTensor& a = c.input(n, 0);
  s.f32_fn(c.scaled(a.numel()), a.as<const float>(), c.input(n, 1).as<const float>(), s.act, c.output(n, 0).as<float>());
}

// AVX2 / AVX-512, a clamp fused (or none): the same elements as ref::add_f32.
void eval_f32_simd(const EvalContext& c, const Node& n) {
  const auto& s = n.state_as<AddState>();
  const RtTensor& a = c.input(n, 0);
  kernels::add_f32_clamped(s.isa, c.scaled(a.numel()), a.as<const float>(), c.input(n, 1).as<const float>(),
                           s.f32_range.min, s.f32_range.max, c.output(n, 0).as<float>());
}

void eval_int8(const EvalContext& c, const Node& n) {
  const auto& s = n.state_as<AddState>();
  const RtTensor& a = c.input(n, 0);
  kernels::add_int8(s.isa, s.q_simd, c.scaled(a.numel()), a.as<const int8_t>(), c.input(n, 1).as<const int8_t>(),
                    c.output(n, 0).as<int8_t>());
}

// The SIMD kernels' constants, derived here once rather than on every
// invoke; the reference ISA reads q_simd.p only.
void prepare_int8_kernel(AddState& s, const Node& n) {
  s.q_simd = kernels::PreparedAddInt8{};
  s.q_simd.p = s.q;
  if (s.isa == Isa::kReference || s.broadcast) return;
  try {
    s.q_simd = kernels::prepare_add_int8(s.q);
  } catch (const Error& e) {
    op_fail(n, e.what());
  }
}

}  // namespace

void prepare_add(PrepareContext& ctx, Node& n) {
  RtTensor& a = ctx.input(n, 0);
  RtTensor& b = ctx.input(n, 1);
  RtTensor& out = ctx.output(n, 0);
  auto& s = n.state_as<AddState>();
  s.broadcast = a.shape != b.shape;
  if (s.broadcast) {
    try {
      s.g = ref::make_broadcast("ADD", std::vector<std::vector<int64_t>>{{a.shape.begin(), a.shape.end()},
                                                                        {b.shape.begin(), b.shape.end()}},
                                4);
    } catch (const Error& e) {
      op_fail(n, "inputs " + describe(a) + " and " + describe(b) + " do not broadcast within 4 dimensions");
    }
    const std::vector<int64_t> shape = s.g.out_shape();
    ctx.set_output_shape(n, 0, Shape(shape.begin(), shape.end()));
    n.work = s.g.count;
    n.separable = false;  // an operand without the batch dimension
  } else {
    ctx.set_output_shape(n, 0, a.shape);
    n.work = a.numel();
  }
  if (const auto* o = std::get_if<lite::AddOptions>(&n.def->options)) s.act = to_fused(n, o->activation);
  using T = lite::TensorType;
  if (a.type == T::kFloat32 && b.type == T::kFloat32 && out.type == T::kFloat32) {
    s.f32_fn = ctx.kernels().add_f32;
    n.eval = eval_f32;
    s.isa = ctx.isa();
    if (s.isa != Isa::kReference && ref::is_clamp_activation(s.act)) {
      s.f32_range = ref::fused_activation_range_f32(s.act);
      n.eval = eval_f32_simd;
    }
  } else if (a.type == T::kInt8 && b.type == T::kInt8 && out.type == T::kInt8) {
    require_per_tensor(n, a, "input 0");
    require_per_tensor(n, b, "input 1");
    require_per_tensor(n, out, "output");
    s.q = ref::make_add_params(a.scale(), a.zero_point(), b.scale(), b.zero_point(), out.scale(),
                               out.zero_point(), s.act);
    s.isa = ctx.isa();
    prepare_int8_kernel(s, n);
    n.eval = eval_int8;
  } else if (a.type == T::kInt16 && b.type == T::kInt16 && out.type == T::kInt16) {
    require_per_tensor(n, a, "input 0");
    require_per_tensor(n, b, "input 1");
    require_per_tensor(n, out, "output");
    const auto* o = std::get_if<lite::AddOptions>(&n.def->options);
    try {
      s.q16 = ref::make_add_params_int16(a.scale(), a.zero_point(), b.scale(), b.zero_point(), out.scale(),
                                         out.zero_point(), s.act, o == nullptr || o->pot_scale_int16);
    } catch (const Error& e) {
      op_fail(n, e.what());
    }
    n.eval = eval_int16;
  } else if (a.type == T::kUInt8 && b.type == T::kUInt8 && out.type == T::kUInt8) {
    require_per_tensor(n, a, "input 0");
    require_per_tensor(n, b, "input 1");
    require_per_tensor(n, out, "output");
    s.q_u8 = ref::make_add_params_uint8(a.scale(), a.zero_point(), b.scale(), b.zero_point(), out.scale(),
                                        out.zero_point(), s.act);
    s.q = ref::add_params_int8_domain(s.q_u8);
    s.isa = ctx.isa();
    prepare_int8_kernel(s, n);
    if (s.isa == Isa::kReference || s.broadcast) {
      n.eval = eval_uint8_ref;
    } else {
      ctx.request_scratch(n, 2 * scratch_stride(static_cast<size_t>(a.numel())));
      n.eval = eval_uint8;
    }
  } else if ((a.type == T::kInt32 || a.type == T::kInt64) && b.type == a.type && out.type == a.type) {
    if (s.act != Activation::kLinear && s.act != Activation::kRelu && s.act != Activation::kRelu6 &&
        s.act != Activation::kReluN1To1)
      op_fail(n, "fused activation " + std::string(lite::activation_name(s.act)) + " is not supported on integers");
    const bool i32 = a.type == T::kInt32;
    n.eval = s.broadcast ? (i32 ? eval_broadcast_int_add<int32_t> : eval_broadcast_int_add<int64_t>)
                         : (i32 ? eval_int_add<int32_t> : eval_int_add<int64_t>);
    return;
  } else {
    unsupported_types(ctx, n);
  }
  if (s.broadcast) {
    if (a.type == T::kInt16) {
      // TFLite 2.9 broadcasts int16 ADD through its general kernel only.
      op_check(!s.q16.pot, n, "broadcasting int16 ADD with power-of-two scales (pot_scale_int16) is not supported");
    }
    n.eval = a.type == T::kFloat32 ? eval_broadcast_f32
             : a.type == T::kInt8  ? eval_broadcast_int8
             : a.type == T::kUInt8 ? eval_broadcast_uint8
                                   : eval_broadcast_int16;
  }
}

}  // namespace qlite::runtime::detail
