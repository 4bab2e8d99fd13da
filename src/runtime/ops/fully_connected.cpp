// FULLY_CONNECTED: float32, full int8 and hybrid (float input, int8 weights
// per tensor, as TFLite 2.9's EvalHybrid). The input is flattened to
// [numel / in_features, in_features], as TFLite does.
#include "kernels/float_kernels.h"
#include "kernels/int8_kernels_x86.h"
#include "kernels/reference/int16_kernels.h"
#include "kernels/reference/uint8_kernels.h"
#include "kernels/runtime_float.h"
#include "kernels/x86/hybrid_x86.h"
#include "runtime/ops/op_util.h"
#include "runtime/ops/ops.h"

namespace qlite::runtime::detail {
namespace {

// Below this many rows the float path runs dot products instead of the patch kernel.
constexpr int64_t kDotRows = 8;

struct FcState : OpState {
  int batch = 1, in = 0, out = 0;  // batch = rows at the prepared batch
  Activation act = Activation::kLinear;
  Isa isa = Isa::kReference;
  ref::FullyConnectedInt8Params q;
  kernels::PackedFullyConnectedInt8 packed;
  bool packed_ready = false;
  size_t stride = 0;  // scratch bytes per worker
  // float32 patch path: weights transposed to [in][out] once.
  bool patch = false;
  kernels::FloatAct fact = kernels::FloatAct::kLinear;
  std::vector<float> wt;
  bool wt_ready = false;
  std::vector<int64_t> offs;
  decltype(KernelTable::fully_connected_f32) f32_fn = nullptr;
  kernels::FcF32SmallFn f32_small = nullptr;      // short dots (kernels::kSmallFcK), resolved at prepare
  kernels::FullyConnectedInt8Fn int8_fn = nullptr;  // `packed`'s kernel, resolved at prepare
  // hybrid: weights packed once for the interpreter's Isa (the reference Isa keeps none).
  kernels::PackedFcHybrid hybrid;
  bool hybrid_ready = false;
  // uint8: the reference Isa runs ref::fully_connected_uint8; the others
  // `packed` (pack_fully_connected_uint8) on the input flipped to int8.
  int32_t weight_zero_point = 0;
  ref::FullyConnectedInt8Params q_u8;  // uint8 domain
  // 16x8: int16 activations, int8 weights, int64 or int32 bias (reference kernel, in `q`)
  bool bias64 = false;
};

void eval_int16(const EvalContext& c, const Node& n) {
  const auto& s = n.state_as<FcState>();
  const RtTensor* bias = c.optional_input(n, 2);
  ref::FullyConnectedInt8Params p = s.q;
  p.batch = static_cast<int>(c.scaled(s.batch));
  ref::fully_connected_int16x8(p, c.input(n, 0).as<const int16_t>(), c.input(n, 1).as<const int8_t>(),
                               bias && s.bias64 ? bias->as<const int64_t>() : nullptr,
                               bias && !s.bias64 ? bias->as<const int32_t>() : nullptr, c.output(n, 0).as<int16_t>());
}

void eval_uint8_ref(const EvalContext& c, const Node& n) {
  const auto& s = n.state_as<FcState>();
  const RtTensor* bias = c.optional_input(n, 2);
  ref::FullyConnectedInt8Params p = s.q_u8;
  p.batch = static_cast<int>(c.scaled(s.batch));
  ref::fully_connected_uint8(p, s.weight_zero_point, c.input(n, 0).as<const uint8_t>(),
                             c.input(n, 1).as<const uint8_t>(), bias ? bias->as<const int32_t>() : nullptr,
                             c.output(n, 0).as<uint8_t>());
}

void eval_uint8(const EvalContext& c, const Node& n) {
  const auto& s = n.state_as<FcState>();
  auto* in = reinterpret_cast<int8_t*>(c.scratch_of(n, 1));
  ref::flip_uint8_int8(c.scaled(s.batch) * s.in, c.input(n, 0).data, in);
  int8_t* out = c.output(n, 0).as<int8_t>();
  std::byte* scratch = c.scratch_of(n, 0);
  split_work(c, c.scaled(s.batch), c.scaled(n.work), [&](int64_t r0, int64_t r1, int chunk) {
    kernels::fully_connected_int8(s.packed, static_cast<int>(r1 - r0), in + r0 * s.in, out + r0 * s.out,
                                  scratch + static_cast<size_t>(chunk) * s.stride);
    ref::flip_uint8_int8((r1 - r0) * s.out, out + r0 * s.out, out + r0 * s.out);
  });
}

void eval_f32(const EvalContext& c, const Node& n) {
  const auto& s = n.state_as<FcState>();
  const RtTensor* bias = c.optional_input(n, 2);
  const float* b = bias ? bias->as<const float>() : nullptr;
  const float* in = c.input(n, 0).as<const float>();
  float* out = c.output(n, 0).as<float>();
  const int64_t rows = c.scaled(s.batch);
  if (!s.patch) {
    s.f32_fn(static_cast<int>(rows), s.in, s.out, in, c.input(n, 1).as<const float>(), b, s.act, out);
    return;
  }
  // A few rows: dot products over the weights as stored ([out][in]), several
  // accumulators per output (the patch kernel would run one FMA chain per
  // row). The choice depends on the call's rows only, never on the split
  // between threads, so thread counts do not change the bits.
  if (rows < kDotRows && s.in <= kernels::kSmallFcK) {  // a short dot: broadcasts, no horizontal sums
    split_work(c, rows, c.scaled(n.work), [&](int64_t r0, int64_t r1, int) {
      s.f32_small(r1 - r0, s.in, s.out, in + r0 * s.in, s.wt.data(), b, s.fact, out + r0 * s.out);
    });
    return;
  }
  if (rows < kDotRows) {
    const float* w = c.input(n, 1).as<const float>();
    split_work(c, rows, c.scaled(n.work), [&](int64_t r0, int64_t r1, int) {
      kernels::fc_f32_dot(s.isa, r1 - r0, s.in, s.out, in + r0 * s.in, w, b, s.fact, out + r0 * s.out);
    });
    return;
  }
  split_work(c, rows, c.scaled(n.work), [&](int64_t r0, int64_t r1, int) {
    kernels::PatchGeom pg;
    pg.rows = 1;
    pg.cols = r1 - r0;
    pg.in_col = s.in;
    pg.offs = s.offs.data();
    pg.R = s.in;
    pg.C = s.out;
    pg.out_col = s.out;
    kernels::float_patch_forward(s.isa, pg, in + r0 * s.in, s.wt.data(), b, s.fact, out + r0 * s.out);
  });
}

void eval_int8(const EvalContext& c, const Node& n) {
  const auto& s = n.state_as<FcState>();
  const int8_t* in = c.input(n, 0).as<const int8_t>();
  int8_t* out = c.output(n, 0).as<int8_t>();
  std::byte* scratch = c.scratch_of(n, 0);
  const int64_t rows = c.scaled(s.batch);
  if (rows == 0) return;
  split_work(c, rows, c.scaled(n.work), [&](int64_t r0, int64_t r1, int chunk) {
    s.int8_fn(s.packed, static_cast<int>(r1 - r0), in + r0 * s.in, out + r0 * s.out,
              scratch + static_cast<size_t>(chunk) * s.stride);
  });
}

// Rows are quantized one by one (one scale per row), so any split of the
// rows between threads gives the same bits.
void eval_hybrid(const EvalContext& c, const Node& n) {
  const auto& s = n.state_as<FcState>();
  const RtTensor* bias = c.optional_input(n, 2);
  const float* b = bias ? bias->as<const float>() : nullptr;
  const float* in = c.input(n, 0).as<const float>();
  const int8_t* w = c.input(n, 1).as<const int8_t>();
  float* out = c.output(n, 0).as<float>();
  std::byte* scratch = c.scratch_of(n, 0);
  split_work(c, c.scaled(s.batch), c.scaled(n.work), [&](int64_t r0, int64_t r1, int chunk) {
    kernels::fully_connected_hybrid(s.hybrid, static_cast<int>(r1 - r0), in + r0 * s.in, w, b,
                                    scratch + static_cast<size_t>(chunk) * s.stride, out + r0 * s.out);
  });
}

}  // namespace

void prepare_fully_connected(PrepareContext& ctx, Node& n) {
  lite::FullyConnectedOptions o;
  if (const auto* p = std::get_if<lite::FullyConnectedOptions>(&n.def->options)) o = *p;
  RtTensor& in = ctx.input(n, 0);
  RtTensor& w = ctx.input(n, 1);
  RtTensor* bias = ctx.optional_input(n, 2);
  RtTensor& out = ctx.output(n, 0);
  require_rank(n, w, 2, "weights");
  op_check(!in.shape.empty(), n, "input " + describe(in) + " must not be a scalar");
  auto& s = n.state_as<FcState>();
  s.out = dim_int(n, w.shape[0], "output features");
  s.in = dim_int(n, w.shape[1], "input features");
  op_check(in.numel() % s.in == 0, n,
           "input " + describe(in) + " does not split into rows of " + std::to_string(s.in) +
               " features (weights " + describe(w) + ")");
  s.batch = dim_int(n, in.numel() / s.in, "batch");
  if (o.keep_num_dims) {
    op_check(in.shape.back() == s.in, n,
             "keep_num_dims needs the input's last dimension to be " + std::to_string(s.in));
    Shape shape = in.shape;
    shape.back() = s.out;
    ctx.set_output_shape(n, 0, shape);
  } else {
    ctx.set_output_shape(n, 0, {s.batch, s.out});
  }
  s.act = to_fused(n, o.activation);
  s.isa = ctx.isa();
  n.work = work_of({s.batch, s.in, s.out});
  n.separable = in.shape[0] > 0 && (in.numel() / in.shape[0]) % s.in == 0;
  const KernelTable& k = ctx.kernels();

  using T = lite::TensorType;
  if (in.type == T::kFloat32 && w.type == T::kFloat32 && out.type == T::kFloat32) {
    if (bias) check_bias_f32(n, *bias, s.out);
    s.f32_fn = k.fully_connected_f32;
    s.patch = s.isa != Isa::kReference && s.act != Activation::kReluN1To1;
    s.fact = s.act == Activation::kRelu    ? kernels::FloatAct::kRelu
             : s.act == Activation::kRelu6 ? kernels::FloatAct::kRelu6
                                                     : kernels::FloatAct::kLinear;
    if (s.patch && !s.wt_ready) {
      op_check(w.constant, n, "weights " + describe(w) + " must be constant");
      const float* wo = w.as<const float>();
      s.wt.resize(static_cast<size_t>(s.in) * static_cast<size_t>(s.out));
      for (int64_t o2 = 0; o2 < s.out; ++o2)
        for (int64_t i = 0; i < s.in; ++i) s.wt[static_cast<size_t>(i * s.out + o2)] = wo[o2 * s.in + i];
      s.offs.resize(static_cast<size_t>(s.in));
      for (int64_t i = 0; i < s.in; ++i) s.offs[static_cast<size_t>(i)] = i;
      s.wt_ready = true;
    }
    if (s.patch) s.f32_small = kernels::fc_f32_small_fn(s.isa);
    n.eval = eval_f32;
  } else if (in.type == T::kFloat32 && w.type == T::kInt8 && out.type == T::kFloat32) {
    if (bias) check_bias_f32(n, *bias, s.out);
    const std::vector<float> ws = weight_scales(n, w, s.out, 0, "weights");
    // TFLite 2.9's hybrid FC applies params.scale (the first scale) to every
    // row; running per-channel weights would silently differ from it.
    op_check(ws.size() == 1, n, "hybrid FULLY_CONNECTED needs per-tensor weights " + describe(w));
    if (!s.hybrid_ready) {
      // Weights computed at run time cannot be packed: they take the reference path.
      s.hybrid = kernels::pack_fully_connected_hybrid(w.constant ? s.isa : Isa::kReference,
                                                      {s.batch, s.in, s.out, ws[0], o.asymmetric_quantize_inputs, s.act},
                                                      w.as<const int8_t>());
      s.hybrid_ready = true;
    }
    // The kernel works through the rows in fixed chunks: scratch per worker, whatever the batch.
    s.stride = scratch_stride(s.hybrid.scratch_bytes);
    ctx.request_scratch(n, s.stride * static_cast<size_t>(ctx.workers()));
    n.eval = eval_hybrid;
  } else if (in.type == T::kInt8 && w.type == T::kInt8 && out.type == T::kInt8) {
    require_per_tensor(n, in, "input");
    require_per_tensor(n, out, "output");
    const std::vector<float> ws = weight_scales(n, w, s.out, 0, "weights");
    if (bias) check_bias_int32(n, *bias, s.out, in.scale(), ws, out.scale());
    s.q.batch = s.batch;
    s.q.in_features = s.in;
    s.q.out_features = s.out;
    s.q.input_zero_point = in.zero_point();
    s.q.output_zero_point = out.zero_point();
    // TFLite 2.9 forms the per-tensor multiplier from a float product
    // (requantize.h); the kernel requantizes round-half-up as ruy does.
    s.q.requant = ref::fully_connected_multipliers(in.scale(), ws, out.scale());
    s.q.act = ref::fused_activation_range(s.act, out.scale(), out.zero_point());
    if (!s.packed_ready) {
      op_check(w.constant, n, "weights " + describe(w) + " must be constant");
      if (bias) op_check(bias->constant, n, "bias " + describe(*bias) + " must be constant");
      s.packed = kernels::pack_fully_connected_int8(s.isa, s.q, w.as<const int8_t>(),
                                                    bias ? bias->as<const int32_t>() : nullptr);
      s.packed_ready = true;
    }
    s.int8_fn = kernels::fully_connected_int8_fn(s.packed);
    s.stride = scratch_stride(std::max<size_t>(s.packed.scratch_bytes, 1));
    ctx.request_scratch(n, s.stride * static_cast<size_t>(ctx.workers()));
    n.eval = eval_int8;
  } else if (in.type == T::kInt16 && w.type == T::kInt8 && out.type == T::kInt16) {
    prepare_16x8(n, in, w, bias, out, s.out, "weights", s.bias64, s.q.requant, s.q.act, s.act,
                 ref::fully_connected_multipliers);
    // TFLite 2.9's 16x8 FULLY_CONNECTED takes one multiplier (params.output_multiplier).
    op_check(s.q.requant.size() == 1, n, "16x8 FULLY_CONNECTED needs per-tensor weights " + describe(w));
    s.q.batch = s.batch;
    s.q.in_features = s.in;
    s.q.out_features = s.out;
    s.q.input_zero_point = s.q.output_zero_point = 0;
    n.eval = eval_int16;
  } else if (in.type == T::kUInt8 && w.type == T::kUInt8 && out.type == T::kUInt8) {
    require_per_tensor(n, in, "input");
    require_per_tensor(n, w, "weights");
    require_per_tensor(n, out, "output");
    if (bias) check_bias_int32(n, *bias, s.out, in.scale(), {w.scale()}, out.scale());
    s.weight_zero_point = w.zero_point();
    s.q_u8.batch = s.batch;
    s.q_u8.in_features = s.in;
    s.q_u8.out_features = s.out;
    s.q_u8.input_zero_point = in.zero_point();
    s.q_u8.output_zero_point = out.zero_point();
    s.q_u8.requant = ref::make_uint8_requant(in.scale(), w.scale(), out.scale());
    s.q_u8.act = ref::fused_activation_range(s.act, out.scale(), out.zero_point(), 0, 255);
    if (ctx.isa() == Isa::kReference) {
      n.eval = eval_uint8_ref;
      return;
    }
    prepare_uint8_packed(ctx, n, s, in, w, bias, "weights", [&] {
      return kernels::pack_fully_connected_uint8(ctx.isa(), s.q_u8, s.weight_zero_point, w.as<const uint8_t>(),
          bias ? bias->as<const int32_t>() : nullptr);
    }, eval_uint8);
  } else {
    unsupported_types(ctx, n);
  }
}

}  // namespace qlite::runtime::detail
