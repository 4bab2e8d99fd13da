// SQUEEZE, EXPAND_DIMS, SHAPE, FILL, ZEROS_LIKE and BROADCAST_ARGS, as
// TensorFlow Lite 2.9's squeeze.cc, expand_dims.cc, shape.cc, fill.cc,
// zeros_like.cc and broadcast_args.cc. SQUEEZE
// and EXPAND_DIMS only change the shape (any type; quantized input and output
// share scale and zero point). EXPAND_DIMS' axis and FILL's dims must be
// constant (a run-time shape is a later step of dynamic shapes).
#include <algorithm>
#include <cstring>
#include <limits>

#include "runtime/ops/data_util.h"
#include "runtime/ops/ops.h"

namespace qlite::runtime::detail {
namespace {

using T = lite::TensorType;

struct ShapeOpState : OpState {
  std::vector<std::byte> bytes;  // SHAPE's output, FILL's one value
};

void eval_constant_bytes(const EvalContext& c, const Node& n) {
  const auto& s = n.state_as<ShapeOpState>();
  if (!s.bytes.empty()) std::memcpy(c.output(n, 0).data, s.bytes.data(), s.bytes.size());
}

void eval_fill(const EvalContext& c, const Node& n) {
  const RtTensor& value = c.input(n, 1);
  const RtTensor& out = c.output(n, 0);
  const size_t width = lite::tensor_type_size(out.type);
  const auto count = static_cast<size_t>(out.numel());
  for (size_t i = 0; i < count; ++i) std::memcpy(out.data + i * width, value.data, width);
}

// BROADCAST_ARGS: the shape two shapes broadcast to, numpy's rule aligned at
// the last dimension (a missing dimension reads 1). TFLite 2.9 reads each
// value into an int, so int64 values keep their low 32 bits, and stops the
// process (TFLITE_CHECK) on two sizes that do not broadcast; qlite fails the
// invoke naming them.
template <class V>
void broadcast_args_values(const Node& n, const V* a, int64_t na, const V* b, int64_t nb, V* out, int64_t nout) {
  for (int64_t i = 0; i < nout; ++i) {
    const auto da = static_cast<int32_t>(i < na ? a[na - 1 - i] : V{1});
    const auto db = static_cast<int32_t>(i < nb ? b[nb - 1 - i] : V{1});
    QLITE_OP_CHECK(da == 1 || db == 1 || da == db, n,
                   "shapes do not broadcast: " + std::to_string(da) + " against " + std::to_string(db) +
                       " at dimension " + std::to_string(nout - 1 - i) + " of the output");
    out[nout - 1 - i] = static_cast<V>(da == 1 ? db : da);
  }
}

void eval_broadcast_args(const EvalContext& c, const Node& n) {
  const RtTensor& a = c.input(n, 0);
  const RtTensor& b = c.input(n, 1);
  const RtTensor& out = c.output(n, 0);
  if (out.type == T::kInt32)
    broadcast_args_values(n, a.as<int32_t>(), a.numel(), b.as<int32_t>(), b.numel(), out.as<int32_t>(), out.numel());
  else
    broadcast_args_values(n, a.as<int64_t>(), a.numel(), b.as<int64_t>(), b.numel(), out.as<int64_t>(), out.numel());
}

void eval_zeros(const EvalContext& c, const Node& n) {
  const RtTensor& out = c.output(n, 0);
  std::memset(out.data, 0, static_cast<size_t>(c.scaled(static_cast<int64_t>(out.nbytes()))));
}

void require_same_type_and_quantization(const Node& n, const RtTensor& in, const RtTensor& out, const char* what) {
  op_check(in.type == out.type, n, "input " + describe(in) + " and output " + describe(out) + " differ in type");
  if (in.quantized() || out.quantized()) require_same_quantization(n, in, out, what);
}

}  // namespace

void prepare_squeeze(PrepareContext& ctx, Node& n) {
  RtTensor& in = ctx.input(n, 0);
  RtTensor& out = ctx.output(n, 0);
  require_same_type_and_quantization(n, in, out, "squeeze keeps the values");
  op_check(in.type != T::kString, n, "input " + describe(in) + ": STRING tensors are not supported");
  const auto rank = static_cast<int64_t>(in.shape.size());
  op_check(rank <= 8, n, "input " + describe(in) + " has rank above 8 (TensorFlow Lite's limit)");
  std::vector<bool> drop(static_cast<size_t>(rank), false);
  const auto* o = std::get_if<lite::SqueezeOptions>(&n.def->options);
  if (o == nullptr || o->squeeze_dims.empty()) {
    for (int64_t d = 0; d < rank; ++d) drop[static_cast<size_t>(d)] = in.shape[static_cast<size_t>(d)] == 1;
  } else {
    for (int32_t v : o->squeeze_dims) {
      const int d = normalize_axis(n, v, rank, "squeeze_dims entry");
      op_check(in.shape[static_cast<size_t>(d)] == 1, n,
               "squeeze_dims entry " + std::to_string(v) + ": dimension " + std::to_string(d) + " of " + describe(in) +
                   " is not 1");
      drop[static_cast<size_t>(d)] = true;
    }
  }
  Shape shape;
  for (int64_t d = 0; d < rank; ++d)
    if (!drop[static_cast<size_t>(d)]) shape.push_back(in.shape[static_cast<size_t>(d)]);
  ctx.set_output_shape(n, 0, shape);
  n.separable = rank > 0 && !drop[0] && !in.constant;
  n.eval = eval_copy_bytes;
}

void prepare_expand_dims(PrepareContext& ctx, Node& n) {
  RtTensor& in = ctx.input(n, 0);
  RtTensor& axis_t = ctx.input(n, 1);
  RtTensor& out = ctx.output(n, 0);
  require_same_type_and_quantization(n, in, out, "expand_dims keeps the values");
  op_check(in.type != T::kString, n, "input " + describe(in) + ": STRING tensors are not supported");
  const std::vector<int64_t> axis = constant_ints(n, axis_t, "axis");
  op_check(axis.size() == 1, n, "axis " + describe(axis_t) + " must hold exactly one value");
  const auto rank = static_cast<int64_t>(in.shape.size());
  const int a = normalize_axis(n, axis[0], rank + 1, "axis");
  Shape shape = in.shape;
  shape.insert(shape.begin() + a, 1);
  ctx.set_output_shape(n, 0, shape);
  n.separable = a > 0 && !in.constant;
  n.eval = eval_copy_bytes;
}

void prepare_shape(PrepareContext& ctx, Node& n) {
  RtTensor& in = ctx.input(n, 0);
  RtTensor& out = ctx.output(n, 0);
  const auto* o = std::get_if<lite::ShapeOptions>(&n.def->options);
  op_check(o != nullptr && (o->out_type == T::kInt32 || o->out_type == T::kInt64), n,
           "out_type must be INT32 or INT64 (ShapeOptions)");
  op_check(out.type == o->out_type, n,
           "output " + describe(out) + " differs from out_type " + lite::tensor_type_name(o->out_type));
  auto& s = n.state_as<ShapeOpState>();
  const size_t width = out.type == T::kInt32 ? 4 : 8;
  s.bytes.assign(in.shape.size() * width, std::byte{0});
  for (size_t d = 0; d < in.shape.size(); ++d) {
    if (width == 4) {
      const auto v = static_cast<int32_t>(in.shape[d]);
      std::memcpy(s.bytes.data() + 4 * d, &v, 4);
    } else {
      const int64_t v = in.shape[d];
      std::memcpy(s.bytes.data() + 8 * d, &v, 8);
    }
  }
  ctx.set_output_shape(n, 0, Shape{static_cast<int64_t>(in.shape.size())});
  n.separable = false;
  n.eval = eval_constant_bytes;
}

void prepare_fill(PrepareContext& ctx, Node& n) {
  RtTensor& dims_t = ctx.input(n, 0);
  RtTensor& value = ctx.input(n, 1);
  RtTensor& out = ctx.output(n, 0);
  op_check(value.type == T::kFloat32 || value.type == T::kInt8 || value.type == T::kInt16 || value.type == T::kInt32 ||
               value.type == T::kInt64 || value.type == T::kBool,
           n, "value " + describe(value) + ": FILL runs FLOAT32, INT8, INT16, INT32, INT64 and BOOL");
  op_check(value.shape.empty(), n, "value " + describe(value) + " must be a scalar");
  require_same_type_and_quantization(n, value, out, "fill writes the value as it is");
  op_check(dims_t.shape.size() == 1, n, "dims " + describe(dims_t) + " must be 1-D");
  const std::vector<int64_t> dims = constant_ints(n, dims_t, "dims");
  Shape shape;
  for (int64_t d : dims) {
    op_check(d >= 0 && d <= std::numeric_limits<int32_t>::max(), n,
             "dims " + describe(dims_t) + " holds " + std::to_string(d) + "; dimensions must be >= 0");
    shape.push_back(d);
  }
  ctx.set_output_shape(n, 0, shape);
  n.work = out.numel();
  n.separable = false;
  n.eval = eval_fill;
}

void prepare_zeros_like(PrepareContext& ctx, Node& n) {
  RtTensor& in = ctx.input(n, 0);
  RtTensor& out = ctx.output(n, 0);
  op_check(in.type == T::kFloat32 || in.type == T::kInt32 || in.type == T::kInt64, n,
           "input " + describe(in) + ": ZEROS_LIKE runs INT64, INT32 and FLOAT32 (as TensorFlow Lite 2.9)");
  op_check(in.type == out.type, n, "input " + describe(in) + " and output " + describe(out) + " differ in type");
  ctx.set_output_shape(n, 0, in.shape);
  n.separable = !in.constant;
  n.eval = eval_zeros;
}

void prepare_broadcast_args(PrepareContext& ctx, Node& n) {
  RtTensor& a = ctx.input(n, 0);
  RtTensor& b = ctx.input(n, 1);
  RtTensor& out = ctx.output(n, 0);
  op_check((a.type == T::kInt32 || a.type == T::kInt64) && b.type == a.type && out.type == a.type, n,
           "shapes " + describe(a) + ", " + describe(b) + " and output " + describe(out) +
               " must all be INT32 or all INT64");
  require_rank(n, a, 1, "shape 0");
  require_rank(n, b, 1, "shape 1");
  const int64_t size = std::max(a.shape[0], b.shape[0]);
  op_check(size >= 1, n, "both shapes are empty");
  ctx.set_output_shape(n, 0, Shape{size});
  n.separable = false;
  n.eval = eval_broadcast_args;
}

}  // namespace qlite::runtime::detail
