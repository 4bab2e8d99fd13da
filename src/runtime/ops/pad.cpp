// PAD and PADV2 (TFLite's pad.cc serves both): a constant [rank, 2] paddings
// tensor (int32, or int64, which TFLite 2.9 misreads as int32) adds before[d]
// and after[d] elements to dimension d of a rank 1..5 tensor. The padding
// value is real 0 - the output zero point for int8 / uint8, as TFLite 2.9's
// EvalInt - or PADV2's constant_values scalar. The op copies values, so a
// quantized input, output and constant_values must share scale and zero
// point; TFLite 2.9 does not compare them and re-labels the raw values,
// qlite refuses such a file (docs/TFLITE_FORMAT.md).
#include <cstring>
#include <limits>

#include "kernels/shape_kernels.h"
#include "runtime/ops/op_util.h"
#include "runtime/ops/ops.h"

namespace qlite::runtime::detail {
namespace {

struct PadState : OpState {
  ref::PadGeometry g;
  size_t elem_size = 1;
  alignas(16) std::byte value[16] = {};  // one element of the padding value
};

void eval_pad(const EvalContext& c, const Node& n) {
  const auto& s = n.state_as<PadState>();
  ref::PadGeometry g = s.g;
  g.in_dims[0] = c.scaled(g.in_dims[0]);  // a tile of images (only when dim 0 is not padded)
  kernels::pad(g, s.elem_size, c.input(n, 0).data, s.value, c.output(n, 0).data);
}

// The [rank, 2] values of the paddings tensor, checked.
void read_paddings(const Node& n, const RtTensor& paddings, ref::PadGeometry& g) {
  using T = lite::TensorType;
  require_values(n, paddings, "paddings");
  op_check(paddings.type == T::kInt32 || paddings.type == T::kInt64, n,
           "paddings " + describe(paddings) + " must be INT32 or INT64");
  op_check(paddings.shape == Shape{g.rank, 2}, n,
           "paddings " + describe(paddings) + " must have shape (" + std::to_string(g.rank) +
               ", 2): one (before, after) pair per input dimension");
  for (int d = 0; d < g.rank; ++d) {
    const auto k = static_cast<size_t>(d);
    int64_t v[2];
    for (size_t j = 0; j < 2; ++j)
      v[j] = paddings.type == T::kInt32 ? int64_t{paddings.as<const int32_t>()[2 * k + j]}
                                        : paddings.as<const int64_t>()[2 * k + j];
    op_check(v[0] >= 0 && v[1] >= 0, n,
             "paddings " + describe(paddings) + " has a negative padding (" + std::to_string(v[0]) + ", " +
                 std::to_string(v[1]) + ") for dimension " + std::to_string(d));
    // Dimensions are int32 in the file format and in TFLite. (Each term is
    // below 2^32 when the sum is formed.)
    constexpr int64_t kMax = std::numeric_limits<int32_t>::max();
    op_check(v[0] <= kMax && v[1] <= kMax && g.in_dims[k] + v[0] + v[1] <= kMax, n,
             "paddings " + describe(paddings) + ": dimension " + std::to_string(d) + " padded by (" +
                 std::to_string(v[0]) + ", " + std::to_string(v[1]) + ") exceeds int32");
    g.before[k] = v[0];
    g.after[k] = v[1];
  }
}

void prepare_pad_common(PrepareContext& ctx, Node& n, bool v2) {
  RtTensor& in = ctx.input(n, 0);
  RtTensor& paddings = ctx.input(n, 1);
  RtTensor* constant_values = v2 ? ctx.optional_input(n, 2) : nullptr;
  RtTensor& out = ctx.output(n, 0);
  op_check(in.type == out.type, n, "input " + describe(in) + " and output " + describe(out) + " differ in type");
  using T = lite::TensorType;
  op_check(in.type == T::kFloat32 || in.type == T::kInt8 || in.type == T::kUInt8 || in.type == T::kInt16 ||
               in.type == T::kInt32 || in.type == T::kInt64,
           n, "unsupported type " + describe(in));
  const auto rank = static_cast<int>(in.shape.size());
  op_check(rank >= 1 && rank <= ref::kMaxPadRank, n,
           "input " + describe(in) + " has rank " + std::to_string(rank) + "; PAD supports ranks 1 to " +
               std::to_string(ref::kMaxPadRank) + " (as TensorFlow Lite 2.9)");
  auto& s = n.state_as<PadState>();
  s.g = ref::PadGeometry{};
  s.g.rank = rank;
  for (int d = 0; d < rank; ++d) s.g.in_dims[static_cast<size_t>(d)] = in.shape[static_cast<size_t>(d)];
  read_paddings(n, paddings, s.g);
  s.elem_size = lite::tensor_type_size(in.type);
  if (in.quantized() || out.quantized()) require_same_quantization(n, in, out, "pad copies values");
  std::memset(s.value, 0, sizeof s.value);
  if (constant_values != nullptr) {
    op_check(constant_values->type == in.type, n,
             "constant_values " + describe(*constant_values) + " and input " + describe(in) + " differ in type");
    op_check(constant_values->numel() == 1, n,
             "constant_values " + describe(*constant_values) + " must hold exactly one value");
    if (constant_values->quantized() || out.quantized())
      require_same_quantization(n, *constant_values, out, "the padding value is written as it is");
    // A computed value: the interpreter prepares the op at invoke, once it exists.
    require_values(n, *constant_values, "constant_values");
    std::memcpy(s.value, constant_values->data, s.elem_size);
  } else if (out.quantized()) {
    // Real 0, the output's zero point (inside the type's range: validate()).
    const int32_t zp = out.zero_point();
    if (out.type == T::kInt8) {
      const auto v = static_cast<int8_t>(zp);
      std::memcpy(s.value, &v, 1);
    } else if (out.type == T::kUInt8) {
      const auto v = static_cast<uint8_t>(zp);
      std::memcpy(s.value, &v, 1);
    } else if (out.type == T::kInt16) {
      const auto v = static_cast<int16_t>(zp);
      std::memcpy(s.value, &v, 2);
    }
  }
  Shape shape(static_cast<size_t>(rank));
  for (int d = 0; d < rank; ++d) shape[static_cast<size_t>(d)] = s.g.out_dim(d);
  ctx.set_output_shape(n, 0, shape);
  ref::validate_pad(s.g, "pad");
  n.work = out.numel();
  // Images stay independent unless the batch dimension itself is padded (or
  // the input is a constant, whose dimension 0 is no batch).
  n.separable = s.g.before[0] == 0 && s.g.after[0] == 0 && !in.constant;
  n.eval = eval_pad;
}

}  // namespace

void prepare_pad(PrepareContext& ctx, Node& n) { prepare_pad_common(ctx, n, false); }
void prepare_padv2(PrepareContext& ctx, Node& n) { prepare_pad_common(ctx, n, true); }

}  // namespace qlite::runtime::detail
