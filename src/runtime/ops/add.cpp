// ADD of two tensors of the same shape (no broadcasting): float32, int8 and
// uint8 (TFLite's left_shift = 20 scheme; uint8 runs the int8 kernels on
// flipped bytes, the reference Isa ref::add_uint8), and int16 (16x8 models:
// TFLite's power-of-two or general kernel, ref::add_int16).
#include "kernels/int8_kernels_x86.h"
#include "kernels/reference/int16_kernels.h"
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
  ref::AddInt8Params q_u8;  // uint8 domain; q holds the int8-domain params
  ref::AddInt16Params q16;
};

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
  kernels::add_int8(s.isa, s.q, len, x, y, out);
  ref::flip_uint8_int8(len, out, out);
}

void eval_f32(const EvalContext& c, const Node& n) {
  const auto& s = n.state_as<AddState>();
  const RtTensor& a = c.input(n, 0);
  s.f32_fn(c.scaled(a.numel()), a.as<const float>(), c.input(n, 1).as<const float>(), s.act, c.output(n, 0).as<float>());
}

void eval_int8(const EvalContext& c, const Node& n) {
  const auto& s = n.state_as<AddState>();
  const RtTensor& a = c.input(n, 0);
  kernels::add_int8(s.isa, s.q, c.scaled(a.numel()), a.as<const int8_t>(), c.input(n, 1).as<const int8_t>(), c.output(n, 0).as<int8_t>());
}

}  // namespace

void prepare_add(PrepareContext& ctx, Node& n) {
  RtTensor& a = ctx.input(n, 0);
  RtTensor& b = ctx.input(n, 1);
  RtTensor& out = ctx.output(n, 0);
  op_check(a.shape == b.shape, n,
           "inputs " + describe(a) + " and " + describe(b) + " differ in shape (broadcasting is not supported)");
  auto& s = n.state_as<AddState>();
  if (const auto* o = std::get_if<lite::AddOptions>(&n.def->options)) s.act = to_fused(n, o->activation);
  ctx.set_output_shape(n, 0, a.shape);
  n.work = a.numel();
  using T = lite::TensorType;
  if (a.type == T::kFloat32 && b.type == T::kFloat32 && out.type == T::kFloat32) {
    s.f32_fn = ctx.kernels().add_f32;
    n.eval = eval_f32;
  } else if (a.type == T::kInt8 && b.type == T::kInt8 && out.type == T::kInt8) {
    require_per_tensor(n, a, "input 0");
    require_per_tensor(n, b, "input 1");
    require_per_tensor(n, out, "output");
    s.q = ref::make_add_params(a.scale(), a.zero_point(), b.scale(), b.zero_point(), out.scale(),
                               out.zero_point(), s.act);
    s.isa = ctx.isa();
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
    if (s.isa == Isa::kReference) {
      n.eval = eval_uint8_ref;
      return;
    }
    ctx.request_scratch(n, 2 * scratch_stride(static_cast<size_t>(a.numel())));
    n.eval = eval_uint8;
  } else {
    unsupported_types(ctx, n);
  }
}

}  // namespace qlite::runtime::detail
