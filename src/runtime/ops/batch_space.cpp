// SPACE_TO_BATCH_ND and BATCH_TO_SPACE_ND, as TensorFlow Lite 2.9's
// space_to_batch_nd.cc and batch_to_space_nd.cc: 3-D (one spatial
// dimension) or 4-D NHWC input, constant INT32 block_shape and paddings /
// crops. SPACE_TO_BATCH_ND pads with the output zero point (memset as TFLite
// does, byte by byte), 0 for unquantized tensors. Types FLOAT32, UINT8, INT8,
// INT32, INT64 (TFLite 2.9 fails INT16 at invoke); quantized input and output
// share scale and zero point.
#include <cstring>
#include <limits>

#include "runtime/ops/data_util.h"
#include "runtime/ops/ops.h"

namespace qlite::runtime::detail {
namespace {

using T = lite::TensorType;

struct BatchSpaceState : OpState {
  int64_t in_b = 0, in_h = 0, in_w = 0, out_b = 0, out_h = 0, out_w = 0, depth = 0;
  int64_t block_h = 1, block_w = 1, pad_top = 0, pad_left = 0;  // crops for BATCH_TO_SPACE_ND
  size_t elem_size = 1;
  int pad_byte = 0;
};

void eval_space_to_batch(const EvalContext& c, const Node& n) {
  const auto& s = n.state_as<BatchSpaceState>();
  const std::byte* in = c.input(n, 0).data;
  std::byte* out = c.output(n, 0).data;
  const size_t pixel = static_cast<size_t>(s.depth) * s.elem_size;
  for (int64_t ob = 0; ob < s.out_b; ++ob) {
    const int64_t ib = ob % s.in_b, shift_w = (ob / s.in_b) % s.block_w, shift_h = (ob / s.in_b) / s.block_w;
    for (int64_t oh = 0; oh < s.out_h; ++oh)
      for (int64_t ow = 0; ow < s.out_w; ++ow) {
        std::byte* o = out + static_cast<size_t>((ob * s.out_h + oh) * s.out_w + ow) * pixel;
        const int64_t h = oh * s.block_h + shift_h - s.pad_top, w = ow * s.block_w + shift_w - s.pad_left;
        if (h < 0 || h >= s.in_h || w < 0 || w >= s.in_w) std::memset(o, s.pad_byte, pixel);
        else std::memcpy(o, in + static_cast<size_t>((ib * s.in_h + h) * s.in_w + w) * pixel, pixel);
      }
  }
}

void eval_batch_to_space(const EvalContext& c, const Node& n) {
  const auto& s = n.state_as<BatchSpaceState>();
  const std::byte* in = c.input(n, 0).data;
  std::byte* out = c.output(n, 0).data;
  const size_t pixel = static_cast<size_t>(s.depth) * s.elem_size;
  for (int64_t ib = 0; ib < s.in_b; ++ib) {
    const int64_t ob = ib % s.out_b, offset = ib / s.out_b;
    for (int64_t ih = 0; ih < s.in_h; ++ih) {
      const int64_t oh = ih * s.block_h + offset / s.block_w - s.pad_top;
      if (oh < 0 || oh >= s.out_h) continue;
      for (int64_t iw = 0; iw < s.in_w; ++iw) {
        const int64_t ow = iw * s.block_w + offset % s.block_w - s.pad_left;
        if (ow < 0 || ow >= s.out_w) continue;
        std::memcpy(out + static_cast<size_t>((ob * s.out_h + oh) * s.out_w + ow) * pixel,
                    in + static_cast<size_t>((ib * s.in_h + ih) * s.in_w + iw) * pixel, pixel);
      }
    }
  }
}

void prepare_batch_space(PrepareContext& ctx, Node& n, bool to_batch) {
  RtTensor& in = ctx.input(n, 0);
  RtTensor& block_t = ctx.input(n, 1);
  RtTensor& pad_t = ctx.input(n, 2);
  RtTensor& out = ctx.output(n, 0);
  if (!(in.type == T::kFloat32 || in.type == T::kUInt8 || in.type == T::kInt8 || in.type == T::kInt32 ||
        in.type == T::kInt64) ||
      in.type != out.type)
    unsupported_types(ctx, n);
  if (in.quantized() || out.quantized()) require_same_quantization(n, in, out, "the op copies values");
  const auto rank = static_cast<int64_t>(in.shape.size());
  op_check(rank == 3 || rank == 4, n, "input " + describe(in) + " must have rank 3 or 4 (as TensorFlow Lite 2.9)");
  const int64_t spatial = rank - 2;
  op_check(block_t.type == T::kInt32 && pad_t.type == T::kInt32, n, "block_shape and paddings / crops must be INT32");
  const std::vector<int64_t> block = constant_ints(n, block_t, "block_shape");
  const std::vector<int64_t> pads = constant_ints(n, pad_t, to_batch ? "paddings" : "crops");
  op_check(block_t.shape == Shape{spatial}, n,
           "block_shape " + describe(block_t) + " must hold " + std::to_string(spatial) + " values");
  op_check(pad_t.shape == (Shape{spatial, 2}), n,
           describe(pad_t) + " must have shape (" + std::to_string(spatial) + ", 2)");
  auto& s = n.state_as<BatchSpaceState>();
  s = BatchSpaceState{};
  s.elem_size = lite::tensor_type_size(in.type);
  s.in_b = in.shape[0], s.in_h = in.shape[1], s.in_w = rank == 4 ? in.shape[2] : 1, s.depth = in.shape.back();
  s.block_h = block[0], s.block_w = spatial == 2 ? block[1] : 1;
  op_check(s.block_h >= 1 && s.block_w >= 1 && s.block_h <= 65536 && s.block_w <= 65536, n,
           "block_shape " + describe(block_t) + " must hold values >= 1");
  const int64_t top = pads[0], bottom = pads[1], left = spatial == 2 ? pads[2] : 0, right = spatial == 2 ? pads[3] : 0;
  constexpr int64_t kMax = std::numeric_limits<int32_t>::max();
  op_check(top >= 0 && bottom >= 0 && left >= 0 && right >= 0 && top <= kMax && bottom <= kMax && left <= kMax &&
               right <= kMax,
           n, describe(pad_t) + " must hold values >= 0");
  s.pad_top = top, s.pad_left = left;
  Shape shape;
  if (to_batch) {
    const int64_t ph = s.in_h + top + bottom, pw = s.in_w + left + right;
    op_check(ph % s.block_h == 0 && pw % s.block_w == 0, n,
             "the padded spatial dimensions of " + describe(in) + " are not multiples of block_shape");
    s.out_b = s.in_b * s.block_h * s.block_w, s.out_h = ph / s.block_h, s.out_w = pw / s.block_w;
    op_check(s.out_b <= kMax, n, "the output batch exceeds int32");
    shape = rank == 4 ? Shape{s.out_b, s.out_h, s.out_w, s.depth} : Shape{s.out_b, s.out_h, s.depth};
    if (out.quantized() && out.type != T::kFloat32) s.pad_byte = out.zero_point() & 0xff;
    n.eval = eval_space_to_batch;
  } else {
    op_check(s.in_b % (s.block_h * s.block_w) == 0, n,
             "the batch of " + describe(in) + " is not a multiple of the block's size");
    s.out_b = s.in_b / (s.block_h * s.block_w);
    s.out_h = s.in_h * s.block_h - top - bottom, s.out_w = s.in_w * s.block_w - left - right;
    op_check(s.out_h >= 0 && s.out_w >= 0, n, "crops " + describe(pad_t) + " remove more than the spatial dimensions");
    shape = rank == 4 ? Shape{s.out_b, s.out_h, s.out_w, s.depth} : Shape{s.out_b, s.out_h, s.depth};
    n.eval = eval_batch_to_space;
  }
  ctx.set_output_shape(n, 0, shape);
  n.work = std::max(in.numel(), out.numel());
  n.separable = false;
}

}  // namespace

void prepare_space_to_batch_nd(PrepareContext& ctx, Node& n) { prepare_batch_space(ctx, n, true); }
void prepare_batch_to_space_nd(PrepareContext& ctx, Node& n) { prepare_batch_space(ctx, n, false); }

}  // namespace qlite::runtime::detail
