// QUANTIZE: float32 -> int8 / uint8 / int16 (AffineQuantize), and requantization
// between int8 and uint8 tensors and from int16 to int16 / int8 (what TFLite's converter inserts at the ends
// of a model with uint8 I/O): q' = clamp(MBQM(q - zp_in, s_in / s_out) + zp_out);
// and int16 -> int32 the same way (no clamp: the int32 sum wraps, as TFLite's).
#include <cmath>

#include "kernels/elementwise_x86.h"
#include "runtime/ops/op_util.h"
#include "runtime/ops/ops.h"

namespace qlite::runtime::detail {
namespace {

struct QuantizeState : OpState {
  float scale = 1.0f;
  int32_t zero_point = 0;
  int32_t in_zp = 0, qmin = -128, qmax = 127;
  ref::QuantizedMultiplier m;
  ref::RequantizeParams rq;
  decltype(KernelTable::quantize_f32_to_int8) to_int8 = nullptr;
  decltype(KernelTable::quantize_f32_to_uint8) to_uint8 = nullptr;
  decltype(KernelTable::requantize_int8) requantize_int8 = nullptr;
  // 8-bit -> 8-bit requantization on a SIMD path: the 256 results of
  // requantize_one, looked up (kernels/elementwise_x86.h).
  ref::ByteTable table;
  Isa isa = Isa::kReference;
};

void eval_f32_int8(const EvalContext& c, const Node& n) {
  const auto& s = n.state_as<QuantizeState>();
  const RtTensor& in = c.input(n, 0);
  s.to_int8(c.scaled(in.numel()), in.as<const float>(), s.scale, s.zero_point, c.output(n, 0).as<int8_t>());
}

void eval_f32_uint8(const EvalContext& c, const Node& n) {
  const auto& s = n.state_as<QuantizeState>();
  const RtTensor& in = c.input(n, 0);
  s.to_uint8(c.scaled(in.numel()), in.as<const float>(), s.scale, s.zero_point, c.output(n, 0).as<uint8_t>());
}

void eval_f32_int16(const EvalContext& c, const Node& n) {
  const auto& s = n.state_as<QuantizeState>();
  const RtTensor& in = c.input(n, 0);
  ref::quantize_f32_to_int16(c.scaled(in.numel()), in.as<const float>(), s.scale, s.zero_point,
                             c.output(n, 0).as<int16_t>());
}

void eval_int8_int8(const EvalContext& c, const Node& n) {
  const auto& s = n.state_as<QuantizeState>();
  const RtTensor& in = c.input(n, 0);
  s.requantize_int8(s.rq, c.scaled(in.numel()), in.as<const int8_t>(), c.output(n, 0).as<int8_t>());
}

template <class Out>
Out requantize_one(const QuantizeState& s, int32_t x) {
  const int32_t v = ref::multiply_by_quantized_multiplier(x - s.in_zp, s.m) + s.zero_point;
  return static_cast<Out>(std::clamp(v, s.qmin, s.qmax));
}

template <class In, class Out>
void eval_requantize(const EvalContext& c, const Node& n) {
  const auto& s = n.state_as<QuantizeState>();
  const RtTensor& in = c.input(n, 0);
  const In* x = in.as<const In>();
  Out* y = c.output(n, 0).as<Out>();
  const int64_t count = c.scaled(in.numel());
  for (int64_t i = 0; i < count; ++i) y[i] = requantize_one<Out>(s, x[i]);
}

// table[(uint8_t)q] = requantize_one(q) for every q of the input type.
template <class In, class Out>
void make_requantize_table(QuantizeState& s) {
  for (int b = 0; b < 256; ++b) {
    const In q = static_cast<In>(static_cast<uint8_t>(b));
    s.table.v[static_cast<size_t>(b)] = static_cast<uint8_t>(requantize_one<Out>(s, q));
  }
}

void eval_requantize_table(const EvalContext& c, const Node& n) {
  const auto& s = n.state_as<QuantizeState>();
  const RtTensor& in = c.input(n, 0);
  kernels::lookup_bytes(s.isa, s.table, c.scaled(in.numel()), in.as<const uint8_t>(), c.output(n, 0).as<uint8_t>());
}

// int16 -> int32: MBQM(q - zp_in) + zp_out in int32, which wraps around in
// TFLite's int32 arithmetic (its clamp to int32 is then no-op); wrapped here
// without undefined behaviour.
void eval_requantize_int16_int32(const EvalContext& c, const Node& n) {
  const auto& s = n.state_as<QuantizeState>();
  const RtTensor& in = c.input(n, 0);
  const int16_t* x = in.as<const int16_t>();
  int32_t* y = c.output(n, 0).as<int32_t>();
  const int64_t count = c.scaled(in.numel());
  for (int64_t i = 0; i < count; ++i) {
    const int32_t v = ref::multiply_by_quantized_multiplier(int32_t{x[i]} - s.in_zp, s.m);
    y[i] = static_cast<int32_t>(static_cast<uint32_t>(v) + static_cast<uint32_t>(s.zero_point));
  }
}

}  // namespace

void prepare_quantize(PrepareContext& ctx, Node& n) {
  RtTensor& in = ctx.input(n, 0);
  RtTensor& out = ctx.output(n, 0);
  ctx.set_output_shape(n, 0, in.shape);
  require_per_tensor(n, out, "output");
  auto& s = n.state_as<QuantizeState>();
  s.scale = out.scale();
  s.zero_point = out.zero_point();
  n.work = in.numel();
  // The SIMD quantize kernels trust these (the reference checks them per call).
  op_check(std::isfinite(s.scale) && s.scale > 0.0f, n, "output " + describe(out) + " scale must be finite and > 0");
  op_check(out.type != lite::TensorType::kInt8 || (s.zero_point >= -128 && s.zero_point <= 127), n,
           "output " + describe(out) + " zero point is outside int8");
  op_check(out.type != lite::TensorType::kInt16 || (s.zero_point >= -32768 && s.zero_point <= 32767), n,
           "output " + describe(out) + " zero point is outside int16");
  const KernelTable& k = ctx.kernels();
  using T = lite::TensorType;
  const bool out_int8 = out.type == T::kInt8, out_uint8 = out.type == T::kUInt8;
  if (in.type == T::kFloat32 && out_int8) {
    s.to_int8 = k.quantize_f32_to_int8;
    n.eval = eval_f32_int8;
    return;
  }
  if (in.type == T::kFloat32 && out_uint8) {
    s.to_uint8 = k.quantize_f32_to_uint8;
    n.eval = eval_f32_uint8;
    return;
  }
  if (in.type == T::kFloat32 && out.type == T::kInt16) {
    n.eval = eval_f32_int16;
    return;
  }
  if (in.type == T::kInt16 && out.type == T::kInt32) {
    // quantize.cc Requantize<int16_t, int32_t> (found by the type audit).
    require_per_tensor(n, in, "input");
    const int64_t zo = out.quant().zero_point.at(0);
    op_check(zo >= INT32_MIN && zo <= INT32_MAX, n, "output " + describe(out) + " zero point is outside int32");
    s.in_zp = in.zero_point();
    try {
      s.m = ref::quantize_multiplier(static_cast<double>(in.scale()) / static_cast<double>(out.scale()));
    } catch (const Error& e) {
      op_fail(n, e.what());
    }
    n.eval = eval_requantize_int16_int32;
    return;
  }
  const bool in_int16 = in.type == T::kInt16, out_int16 = out.type == T::kInt16;
  // int16 requantizes to int16 and int8 (TFLite 2.9's quantize.cc refuses
  // int8 -> int16); int8 and uint8 to each other.
  const bool ok = in_int16 ? out_int16 || out_int8
                           : (in.type == T::kInt8 || in.type == T::kUInt8) && (out_int8 || out_uint8);
  if (!ok) unsupported_types(ctx, n);
  require_per_tensor(n, in, "input");
  s.in_zp = in.zero_point();
  s.qmin = out_int8 ? -128 : out_int16 ? -32768 : 0;
  s.qmax = out_int8 ? 127 : out_int16 ? 32767 : 255;
  // In double from the float scales, as TFLite's quantize.cc Prepare.
  s.m = ref::quantize_multiplier(static_cast<double>(in.scale()) / static_cast<double>(out.scale()));
  if (in_int16 && out_int16) {
    n.eval = eval_requantize<int16_t, int16_t>;
  } else if (in_int16) {
    n.eval = eval_requantize<int16_t, int8_t>;
  } else if (in.type == T::kInt8 && out_int8) {
    s.rq = ref::make_requantize_params(in.scale(), in.zero_point(), out.scale(), out.zero_point());
    s.requantize_int8 = k.requantize_int8;
    n.eval = eval_int8_int8;
  } else {
    // uint8 <-> int8 (a uint8 model's ends) and uint8 -> uint8: a function of
    // one byte; on a SIMD path its 256-entry table, the same values.
    s.isa = ctx.isa();
    const bool table = s.isa != Isa::kReference;
    if (in.type == T::kUInt8 && out_int8) {
      if (table) make_requantize_table<uint8_t, int8_t>(s);
      n.eval = table ? eval_requantize_table : eval_requantize<uint8_t, int8_t>;
    } else if (in.type == T::kInt8 && out_uint8) {
      if (table) make_requantize_table<int8_t, uint8_t>(s);
      n.eval = table ? eval_requantize_table : eval_requantize<int8_t, uint8_t>;
    } else {
      if (table) make_requantize_table<uint8_t, uint8_t>(s);
      n.eval = table ? eval_requantize_table : eval_requantize<uint8_t, uint8_t>;
    }
  }
}

}  // namespace qlite::runtime::detail
