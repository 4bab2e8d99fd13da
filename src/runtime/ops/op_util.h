// Checks and conversions shared by the ops' prepare functions. They run at
// prepare time only, so building message strings here costs nothing per invoke.
#pragma once

#include <initializer_list>

#include <algorithm>
#include <string>

#include "kernels/reference/geometry.h"
#include "kernels/reference/math_kernels.h"
#include "kernels/reference/requantize.h"
#include "kernels/reference/uint8_kernels.h"
#include "runtime/graph.h"

namespace qlite::runtime::detail {

[[noreturn]] void op_fail(const Node& n, const std::string& message);
// The message is built even when the check passes: fine once per op at
// prepare. Checks that run per channel or per element, or per invoke, use
// QLITE_OP_CHECK, which builds it only on failure.
inline void op_check(bool cond, const Node& n, const std::string& message) {
  if (!cond) op_fail(n, message);
}
#define QLITE_OP_CHECK(cond, n, msg)                                  \
  do {                                                                \
    if (!(cond)) ::qlite::runtime::detail::op_fail(n, msg);           \
  } while (0)

std::string describe(const RtTensor& t);  // "'name' INT8 (1, 28, 28, 1)"

// Thrown by require_values() when an operand that decides the output's shape
// is computed at run time: the interpreter then prepares the op at invoke,
// once the values exist (TFLite 2.9's dynamic tensors).
class ValuesAtRunTime : public Error {
 public:
  using Error::Error;
};

// Prepare is about to read t's values (a shape, sizes, axes, paddings): fine
// for a constant, and for a run-time tensor while the interpreter prepares
// the op at invoke (t.known; noted in t.value_read so the op is prepared
// again when they change). Otherwise throws ValuesAtRunTime.
inline void require_values(const Node& n, const RtTensor& t, const std::string& what) {
  if (t.constant) return;
  if (t.known) {
    t.value_read = true;
    return;
  }
  throw ValuesAtRunTime(n.label + ": " + what + " " + describe(t) + " is computed at run time");
}
Activation to_fused(const Node& n, lite::Activation a);
Padding to_padding(lite::Padding p);
// Fills g.out_h/out_w and the pads from the op's padding mode, or from the
// explicit padding of a PAD folded into the op (Node::folded_pad); the other
// fields of g must be set.
void apply_op_padding(const Node& n, ref::WindowGeometry& g, lite::Padding p);
// A dimension as int, checked to fit (kernels index with int).
int dim_int(const Node& n, int64_t v, const char* what);

void require_rank(const Node& n, const RtTensor& t, size_t rank, const char* what);
void require_type(const Node& n, const RtTensor& t, lite::TensorType type, const char* what);
// Quantized with exactly one scale and zero point.
void require_per_tensor(const Node& n, const RtTensor& t, const char* what);
void require_same_quantization(const Node& n, const RtTensor& a, const RtTensor& b, const char* what);
// "An unsupported combination": names every input and output type.
[[noreturn]] void unsupported_types(const PrepareContext& ctx, const Node& n);

// Symmetric int8 weights: zero points all 0, 1 or `channels` scales along
// `dim`. Returns the scales.
std::vector<float> weight_scales(const Node& n, const RtTensor& w, int64_t channels, int32_t dim,
                                 const char* what);
// int32 bias of a quantized conv / FC: a scale present, equal to
// input_scale * weight_scale[c] within TFLite's tolerance, zero point 0.
void check_bias_int32(const Node& n, const RtTensor& bias, int64_t channels, float input_scale,
                      const std::vector<float>& w_scales, float output_scale);
// The same rule for a bias of another integer type (int64: the 16x8 ops).
void check_bias_quantized(const Node& n, const RtTensor& bias, lite::TensorType type, int64_t channels,
                          float input_scale, const std::vector<float>& w_scales, float output_scale);
// The checks and numbers of a 16x8 weighted op (CONV_2D, FULLY_CONNECTED):
// int16 input and output with zero point 0, int8 weights (per-channel along
// dimension 0 or per-tensor, zero points 0), an optional int64 or int32 bias
// with TFLite's scale rule. Sets bias64, the multipliers (`multipliers` is the
// op's rule, requantize.h) and the fused activation's range in int16.
void prepare_16x8(const Node& n, const RtTensor& in, const RtTensor& w, const RtTensor* bias, const RtTensor& out,
                  int64_t channels, const char* weights_name, bool& bias64,
                  std::vector<ref::QuantizedMultiplier>& requant, ref::ActRange& act_range, Activation act,
                  std::vector<ref::QuantizedMultiplier> (*multipliers)(float, const std::vector<float>&, float));
// Float bias [channels].
void check_bias_f32(const Node& n, const RtTensor& bias, int64_t channels);

// Below this much work (multiply-accumulates) an op runs on one thread: waking
// a worker costs more than it saves.
constexpr int64_t kMinSplitWork = int64_t{1} << 21;

// A work estimate (multiply-adds) for threading decisions, saturated at 2^60:
// a hostile file's dimensions can overflow int64 (found by fuzzing), and the
// interpreter adds up to a few thousand of them.
inline int64_t work_of(std::initializer_list<int64_t> factors) {
  constexpr int64_t kCap = int64_t{1} << 60;
  int64_t w = 1;
  for (int64_t f : factors)
    if (__builtin_mul_overflow(w, f, &w) || w > kCap) return kCap;
  return w;
}

// fn(begin, end, chunk) over [0, units): split over the pool when the call's
// work pays for it, else inline as chunk 0. chunk < the pool's threads picks
// the worker's scratch.
template <class F>
void split_work(const EvalContext& c, int64_t units, int64_t work, F&& fn) {
  if (c.pool && work >= kMinSplitWork && units > 1) c.pool->parallel_for(units, fn, 1);
  else fn(int64_t{0}, units, 0);
}

// Bytes of one worker's scratch, rounded so that workers' slices stay 64-byte aligned.
inline size_t scratch_stride(size_t bytes) { return (bytes + 63) & ~size_t{63}; }

// Output rows [u0, u1) of a batch of images, counted over (image, row):
// fn(image, y0, y1) per image touched.
template <class F>
void for_image_rows(int64_t u0, int64_t u1, int out_h, F&& fn) {
  while (u0 < u1) {
    const int64_t img = u0 / out_h;
    const int y0 = static_cast<int>(u0 % out_h);
    const int y1 = static_cast<int>(std::min<int64_t>(out_h, y0 + (u1 - u0)));
    fn(img, y0, y1);
    u0 += y1 - y0;
  }
}

// The uint8 fast path of a weighted op (CONV_2D, DEPTHWISE_CONV_2D,
// FULLY_CONNECTED) once its parameters are set: the constant weights packed
// once for the int8 kernels (pack() returns the packed form, which has
// `scratch_bytes`), one scratch slice per worker (scratch 0) and one for the
// flipped input (scratch 1), then `eval`.
template <class State, class Pack, class Eval>
void prepare_uint8_packed(PrepareContext& ctx, Node& n, State& s, const RtTensor& in, const RtTensor& w,
                          const RtTensor* bias, const char* weights_name, Pack&& pack, Eval eval) {
  if (!s.packed_ready) {
    op_check(w.constant, n, std::string(weights_name) + " " + describe(w) + " must be constant");
    if (bias) op_check(bias->constant, n, "bias " + describe(*bias) + " must be constant");
    s.packed = pack();
    s.packed_ready = true;
  }
  s.stride = scratch_stride(std::max<size_t>(s.packed.scratch_bytes, 1));
  ctx.request_scratch(n, s.stride * static_cast<size_t>(ctx.workers()));
  ctx.request_scratch(n, static_cast<size_t>(in.numel()));
  n.eval = eval;
}

// A windowed int8 kernel (CONV_2D, DEPTHWISE_CONV_2D) run on uint8 tensors:
// the batch is flipped once into scratch 1 (a uint8 value minus 128 is the
// int8 value, its zero point shifted alike), rows(in_image, out_image, y0,
// y1, chunk_scratch) computes output rows [y0, y1) of one image with the
// int8 kernel, and each band is flipped back in place. Scratch 0 holds one
// `stride` slice per worker.
template <class Rows>
void eval_uint8_windowed(const EvalContext& c, const Node& n, const ref::WindowGeometry& g, size_t stride,
                         Rows&& rows) {
  const int64_t in_img = int64_t{g.in_h} * g.in_w * g.in_c, out_img = int64_t{g.out_h} * g.out_w * g.out_c;
  auto* in = reinterpret_cast<int8_t*>(c.scratch_of(n, 1));
  ref::flip_uint8_int8(c.scaled(g.batch) * in_img, c.input(n, 0).data, in);
  int8_t* out = c.output(n, 0).as<int8_t>();
  std::byte* scratch = c.scratch_of(n, 0);
  const int64_t row = int64_t{g.out_w} * g.out_c;
  split_work(c, c.scaled(g.batch) * g.out_h, c.scaled(n.work), [&](int64_t u0, int64_t u1, int chunk) {
    void* sc = scratch + static_cast<size_t>(chunk) * stride;
    for_image_rows(u0, u1, g.out_h, [&](int64_t img, int y0, int y1) {
      int8_t* o = out + img * out_img;
      rows(in + img * in_img, o, y0, y1, sc);
      ref::flip_uint8_int8((y1 - y0) * row, o + y0 * row, o + y0 * row);
    });
  });
}

// A reduction of input 0 over `axes` (SUM, MEAN, REDUCE_*; TFLite's
// reduce.cc ResizeOutputTensor): its geometry, with output 0's shape set by
// the node's keep_dims (returned in *keep_dims when asked) and the node's
// work. Reductions run as one piece (not split into tiles of images).
ref::ReduceGeometry prepare_reduction(PrepareContext& ctx, Node& n, const char* op, const std::vector<int64_t>& axes,
                                      bool* keep_dims = nullptr);

}  // namespace qlite::runtime::detail
