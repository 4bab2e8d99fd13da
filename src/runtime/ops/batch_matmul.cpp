// BATCH_MATMUL, as TensorFlow Lite 2.9's batch_matmul.cc: lhs and rhs of
// ranks 2..4 whose batch dimensions broadcast, adj_x / adj_y transposing the
// last two dimensions of either; rhs constant or computed. Types: float32,
// int8 (per-tensor scales, zero points on all three tensors) and int16 (zero
// points 0), the same type in and out; and int8 -> int32 (raw sums,
// types16_kernels.h); and TFLite 2.9's hybrid form: float32 lhs, constant
// int8 rhs (symmetric, one scale), float32 output, the lhs rows quantized at
// run time (asymmetric_quantize_inputs chooses the asymmetric quantizer).
// The arithmetic is ref::batch_matmul_* (src/kernels/reference/matmul_kernels.h).
#include <algorithm>
#include <cmath>

#include "kernels/reference/matmul_kernels.h"
#include "kernels/reference/types16_kernels.h"
#include "runtime/ops/op_util.h"
#include "runtime/ops/ops.h"

namespace qlite::runtime::detail {
namespace {

using T = lite::TensorType;

struct BatchMatMulState : OpState {
  ref::BatchMatMulInt8Params q;  // q.s for every type
  ref::BatchMatMulHybridParams hybrid;
  ref::BatchMatMulHybridScratchSizes hybrid_sizes;
};

// The hybrid kernel's work space, laid out in one scratch request (each
// piece 64-byte aligned).
struct HybridLayout {
  size_t quantized = 0, scaling = 0, offsets = 0, row_sums = 0, transposed = 0, total = 0;
};
HybridLayout hybrid_layout(const ref::BatchMatMulHybridScratchSizes& z, bool adj_x) {
  auto up = [](size_t b) { return (b + 63) / 64 * 64; };
  HybridLayout l;
  l.quantized = 0;
  l.scaling = up(static_cast<size_t>(z.lhs_elements));
  l.offsets = l.scaling + up(static_cast<size_t>(z.lhs_rows) * sizeof(float));
  l.row_sums = l.offsets + up(static_cast<size_t>(z.lhs_rows) * sizeof(int32_t));
  l.transposed = l.row_sums + up(static_cast<size_t>(z.row_sums) * sizeof(int32_t));
  l.total = l.transposed + (adj_x ? up(static_cast<size_t>(z.lhs_elements) * sizeof(float)) : 0);
  return l;
}

void eval_hybrid(const EvalContext& c, const Node& n) {
  const auto& s = n.state_as<BatchMatMulState>();
  const HybridLayout l = hybrid_layout(s.hybrid_sizes, s.hybrid.s.adj_x);
  std::byte* base = c.scratch_of(n, 0);
  ref::BatchMatMulHybridScratch sc;
  sc.quantized = reinterpret_cast<int8_t*>(base + l.quantized);
  sc.scaling = reinterpret_cast<float*>(base + l.scaling);
  sc.offsets = reinterpret_cast<int32_t*>(base + l.offsets);
  sc.row_sums = reinterpret_cast<int32_t*>(base + l.row_sums);
  sc.lhs_transposed = s.hybrid.s.adj_x ? reinterpret_cast<float*>(base + l.transposed) : nullptr;
  ref::batch_matmul_hybrid(s.hybrid, c.input(n, 0).as<const float>(), c.input(n, 1).as<const int8_t>(), sc,
                           c.output(n, 0).as<float>());
}

void eval_f32(const EvalContext& c, const Node& n) {
  const auto& s = n.state_as<BatchMatMulState>();
  ref::batch_matmul_f32(s.q.s, c.input(n, 0).as<const float>(), c.input(n, 1).as<const float>(),
                        c.output(n, 0).as<float>());
}

void eval_int8(const EvalContext& c, const Node& n) {
  const auto& s = n.state_as<BatchMatMulState>();
  ref::batch_matmul_int8(s.q, c.input(n, 0).as<const int8_t>(), c.input(n, 1).as<const int8_t>(),
                         c.output(n, 0).as<int8_t>());
}

void eval_int16(const EvalContext& c, const Node& n) {
  const auto& s = n.state_as<BatchMatMulState>();
  ref::batch_matmul_int16(s.q.s, s.q.requant, c.input(n, 0).as<const int16_t>(), c.input(n, 1).as<const int16_t>(),
                          c.output(n, 0).as<int16_t>());
}

void eval_int8_int32(const EvalContext& c, const Node& n) {
  const auto& s = n.state_as<BatchMatMulState>();
  ref::batch_matmul_int8_to_int32(s.q, c.input(n, 0).as<const int8_t>(), c.input(n, 1).as<const int8_t>(),
                                  c.output(n, 0).as<int32_t>());
}

}  // namespace

void prepare_batch_matmul(PrepareContext& ctx, Node& n) {
  RtTensor& lhs = ctx.input(n, 0);
  RtTensor& rhs = ctx.input(n, 1);
  RtTensor& out = ctx.output(n, 0);
  lite::BatchMatMulOptions o;
  if (const auto* p = std::get_if<lite::BatchMatMulOptions>(&n.def->options)) o = *p;
  const bool hybrid = lhs.type == T::kFloat32 && rhs.type == T::kInt8;
  if (hybrid && out.type != T::kFloat32) unsupported_types(ctx, n);
  const bool f32 = lhs.type == T::kFloat32, i8 = lhs.type == T::kInt8, i16 = lhs.type == T::kInt16;
  // int8 x int8 -> int32 (TFLite 2.9's EvalInt8Int32: raw accumulators).
  const bool i8_i32 = i8 && rhs.type == T::kInt8 && out.type == T::kInt32;
  if (!hybrid && (!(f32 || i8 || i16) || rhs.type != lhs.type || (out.type != lhs.type && !i8_i32)))
    unsupported_types(ctx, n);
  // TensorFlow Lite 2.9 takes ranks 2 to 4 (later versions 5).
  op_check(lhs.shape.size() >= 2 && lhs.shape.size() <= 4 && rhs.shape.size() >= 2 && rhs.shape.size() <= 4, n,
           "lhs " + describe(lhs) + " and rhs " + describe(rhs) + " must have ranks 2 to 4 (as TensorFlow Lite 2.9)");
  std::vector<int64_t> out_shape;
  ref::BatchMatMulShape shape;
  try {
    shape = ref::make_batch_matmul_shape(lhs.shape, rhs.shape, o.adj_x, o.adj_y, out_shape);
  } catch (const Error& e) {
    op_fail(n, e.what());
  }
  auto& s = n.state_as<BatchMatMulState>();
  s.q = ref::BatchMatMulInt8Params{};
  s.q.s = shape;
  if (hybrid) {
    // TFLite 2.9 sums the rhs rows once, at the first invoke: a computed rhs
    // would keep stale sums there, so qlite takes constant weights only.
    op_check(rhs.constant, n, "hybrid FLOAT32 x INT8: the int8 rhs " + describe(rhs) + " must be constant");
    // TFLite 2.9 reads params.scale (a per-channel tensor has none) and no zero point.
    const std::vector<float> ws = weight_scales(n, rhs, 1, 0, "hybrid int8 rhs");
    op_check(ws.size() == 1 && std::isfinite(ws[0]) && ws[0] > 0.0f, n,
             "hybrid int8 rhs " + describe(rhs) + " needs one finite scale > 0");
    op_check(shape.k() > 0, n, "hybrid FLOAT32 x INT8: depth 0 (lhs " + describe(lhs) + ")");
    s.hybrid.s = shape;
    s.hybrid.rhs_scale = ws[0];
    s.hybrid.asymmetric_inputs = o.asymmetric_quantize_inputs;
    s.hybrid_sizes = ref::batch_matmul_hybrid_scratch(shape);
    ctx.request_scratch(n, std::max<size_t>(hybrid_layout(s.hybrid_sizes, shape.adj_x).total, 1));
    n.eval = eval_hybrid;
  } else if (f32) {
    n.eval = eval_f32;
  } else if (i8_i32) {
    require_per_tensor(n, lhs, "lhs");
    require_per_tensor(n, rhs, "rhs");
    // TFLite 2.9 multiplies the raw values here: the zero points are ignored
    // (measured: Int8ToInt32BatchMatMulMatchesTfLite).
    s.q.lhs_zero_point = 0, s.q.rhs_zero_point = 0;
    n.eval = eval_int8_int32;
  } else {
    require_per_tensor(n, lhs, "lhs");
    require_per_tensor(n, rhs, "rhs");
    require_per_tensor(n, out, "output");
    s.q.requant = ref::batch_matmul_multiplier(lhs.scale(), rhs.scale(), out.scale());
    if (i8) {
      s.q.lhs_zero_point = lhs.zero_point(), s.q.rhs_zero_point = rhs.zero_point();
      s.q.out_zero_point = out.zero_point();
      // TFLite 2.9 runs int8 through ruy's GEMM, which rounds half up.
      s.q.rounding = ref::Rounding::kHalfUp;
      n.eval = eval_int8;
    } else {
      op_check(lhs.zero_point() == 0 && rhs.zero_point() == 0 && out.zero_point() == 0, n,
               "int16 lhs, rhs and output must have zero point 0");
      op_check(s.q.requant.shift >= -31 && s.q.requant.shift <= 7, n,
               "effective scale lhs x rhs / output is outside TFLite's range (shift " +
                   std::to_string(s.q.requant.shift) + ")");
      n.eval = eval_int16;
    }
  }
  ctx.set_output_shape(n, 0, Shape(out_shape.begin(), out_shape.end()));
  n.work = work_of({shape.out_batch[0], shape.out_batch[1], shape.out_batch[2], shape.m(), shape.n(), shape.k()});
  n.separable = false;  // batch dimensions may broadcast
}

}  // namespace qlite::runtime::detail
