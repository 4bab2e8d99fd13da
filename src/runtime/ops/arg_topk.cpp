// ARG_MAX, ARG_MIN and TOPK_V2, as TensorFlow Lite 2.9's arg_min_max.cc and
// topk_v2.cc. ARG_MAX / ARG_MIN: FLOAT32, UINT8, INT8, INT32 and BOOL input,
// a constant one-value axis, INT32 or INT64 indices (output_type); ties keep
// the first index (TFLite compares with a strict > / <). TOPK_V2: the k
// largest of each last-axis row of FLOAT32, UINT8, INT8, INT32 or INT64,
// sorted, equal values in index order, with their INT32 indices; k constant.
#include <algorithm>
#include <cstring>
#include <limits>
#include <numeric>

#include "runtime/ops/data_util.h"
#include "runtime/ops/ops.h"

namespace qlite::runtime::detail {
namespace {

using T = lite::TensorType;

struct ArgState : OpState {
  int64_t outer = 1, axis_size = 1, inner = 1;
  bool is_max = true;
  T in_type = T::kFloat32, out_type = T::kInt32;
};

template <class V>
void arg_rows(const ArgState& s, const V* in, std::byte* out) {
  for (int64_t o = 0; o < s.outer; ++o)
    for (int64_t i = 0; i < s.inner; ++i) {
      const V* row = in + o * s.axis_size * s.inner + i;
      V best = row[0];
      int64_t at = 0;
      for (int64_t a = 1; a < s.axis_size; ++a) {
        const V v = row[a * s.inner];
        if (s.is_max ? v > best : v < best) best = v, at = a;
      }
      const auto k = static_cast<size_t>(o * s.inner + i);
      if (s.out_type == T::kInt32) {
        const auto v = static_cast<int32_t>(at);
        std::memcpy(out + 4 * k, &v, 4);
      } else {
        std::memcpy(out + 8 * k, &at, 8);
      }
    }
}

void eval_arg(const EvalContext& c, const Node& n) {
  const auto& s = n.state_as<ArgState>();
  const std::byte* in = c.input(n, 0).data;
  std::byte* out = c.output(n, 0).data;
  switch (s.in_type) {
    case T::kFloat32: arg_rows(s, reinterpret_cast<const float*>(in), out); break;
    case T::kUInt8: arg_rows(s, reinterpret_cast<const uint8_t*>(in), out); break;
    case T::kBool: arg_rows(s, reinterpret_cast<const uint8_t*>(in), out); break;
    case T::kInt8: arg_rows(s, reinterpret_cast<const int8_t*>(in), out); break;
    default: arg_rows(s, reinterpret_cast<const int32_t*>(in), out); break;
  }
}

template <class Options>
void prepare_arg(PrepareContext& ctx, Node& n, bool is_max) {
  RtTensor& in = ctx.input(n, 0);
  RtTensor& axis_t = ctx.input(n, 1);
  RtTensor& out = ctx.output(n, 0);
  const auto* o = std::get_if<Options>(&n.def->options);
  const T want = o ? o->output_type : T::kFloat32;
  op_check(want == T::kInt32 || want == T::kInt64, n,
           std::string("output_type ") + lite::tensor_type_name(want) + " must be INT32 or INT64");
  if (!(in.type == T::kFloat32 || in.type == T::kUInt8 || in.type == T::kInt8 || in.type == T::kInt32 ||
        in.type == T::kBool) ||
      out.type != want)
    unsupported_types(ctx, n);
  const std::vector<int64_t> axis_v = constant_ints(n, axis_t, "axis");
  op_check(axis_v.size() == 1, n, "axis " + describe(axis_t) + " must hold one value");
  const auto rank = static_cast<int64_t>(in.shape.size());
  op_check(rank >= 1, n, "input " + describe(in) + " must have rank 1 or more");
  const int axis = normalize_axis(n, axis_v[0], rank, "axis");
  op_check(in.shape[static_cast<size_t>(axis)] >= 1, n, "input " + describe(in) + " is empty along the axis");
  auto& s = n.state_as<ArgState>();
  s.outer = product(in.shape, 0, static_cast<size_t>(axis));
  s.axis_size = in.shape[static_cast<size_t>(axis)];
  s.inner = product(in.shape, static_cast<size_t>(axis) + 1, in.shape.size());
  s.is_max = is_max;
  s.in_type = in.type;
  s.out_type = out.type;
  Shape shape = in.shape;
  shape.erase(shape.begin() + axis);
  ctx.set_output_shape(n, 0, shape);
  n.work = in.numel();
  n.separable = false;
  n.eval = eval_arg;
}

struct TopKState : OpState {
  int64_t rows = 0, row = 0, k = 0;
  T type = T::kFloat32;
};

template <class V>
void topk_rows(const TopKState& s, const V* in, V* values, int32_t* indices, int32_t* order) {
  for (int64_t r = 0; r < s.rows; ++r) {
    const V* x = in + r * s.row;
    std::iota(order, order + s.row, 0);
    std::partial_sort(order, order + s.k, order + s.row, [x](int32_t a, int32_t b) {
      return x[a] > x[b] || (x[a] == x[b] && a < b);
    });
    for (int64_t i = 0; i < s.k; ++i) {
      values[r * s.k + i] = x[order[i]];
      indices[r * s.k + i] = order[i];
    }
  }
}

void eval_topk(const EvalContext& c, const Node& n) {
  const auto& s = n.state_as<TopKState>();
  const std::byte* in = c.input(n, 0).data;
  std::byte* v = c.output(n, 0).data;
  auto* idx = c.output(n, 1).as<int32_t>();
  auto* order = reinterpret_cast<int32_t*>(c.scratch_of(n, 0));
  switch (s.type) {
    case T::kFloat32: topk_rows(s, reinterpret_cast<const float*>(in), reinterpret_cast<float*>(v), idx, order); break;
    case T::kUInt8: topk_rows(s, reinterpret_cast<const uint8_t*>(in), reinterpret_cast<uint8_t*>(v), idx, order); break;
    case T::kInt8: topk_rows(s, reinterpret_cast<const int8_t*>(in), reinterpret_cast<int8_t*>(v), idx, order); break;
    case T::kInt32: topk_rows(s, reinterpret_cast<const int32_t*>(in), reinterpret_cast<int32_t*>(v), idx, order); break;
    default: topk_rows(s, reinterpret_cast<const int64_t*>(in), reinterpret_cast<int64_t*>(v), idx, order); break;
  }
}

}  // namespace

void prepare_arg_max(PrepareContext& ctx, Node& n) { prepare_arg<lite::ArgMaxOptions>(ctx, n, true); }
void prepare_arg_min(PrepareContext& ctx, Node& n) { prepare_arg<lite::ArgMinOptions>(ctx, n, false); }

void prepare_topk_v2(PrepareContext& ctx, Node& n) {
  RtTensor& in = ctx.input(n, 0);
  RtTensor& k_t = ctx.input(n, 1);
  RtTensor& values = ctx.output(n, 0);
  RtTensor& indices = ctx.output(n, 1);
  if (!(in.type == T::kFloat32 || in.type == T::kUInt8 || in.type == T::kInt8 || in.type == T::kInt32 ||
        in.type == T::kInt64) ||
      values.type != in.type)
    unsupported_types(ctx, n);
  op_check(indices.type == T::kInt32, n, "indices output " + describe(indices) + " must be INT32");
  if (in.quantized() || values.quantized()) require_same_quantization(n, in, values, "top-k copies values");
  op_check(k_t.type == T::kInt32 && k_t.numel() == 1, n, "k " + describe(k_t) + " must be one INT32 value");
  const int64_t k = constant_ints(n, k_t, "k")[0];
  op_check(!in.shape.empty(), n, "input " + describe(in) + " must have rank 1 or more");
  const int64_t row = in.shape.back();
  op_check(k >= 0 && k <= row, n,
           "k " + std::to_string(k) + " must lie in [0, " + std::to_string(row) + "], the last dimension of " + describe(in));
  op_check(row <= std::numeric_limits<int32_t>::max(), n, "rows longer than int32 are not supported");
  auto& s = n.state_as<TopKState>();
  s.row = row;
  s.rows = row == 0 ? 0 : in.numel() / row;
  s.k = k;
  s.type = in.type;
  Shape shape = in.shape;
  shape.back() = k;
  ctx.set_output_shape(n, 0, shape);
  ctx.set_output_shape(n, 1, shape);
  ctx.request_scratch(n, static_cast<size_t>(row) * sizeof(int32_t));
  n.work = in.numel();
  n.separable = false;
  n.eval = eval_topk;
}

}  // namespace qlite::runtime::detail
