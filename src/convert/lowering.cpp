// The Lowering helpers shared by every layer lowering: tensors, operators,
// float <-> int8 boundaries, constants and PTQ weight quantization.
#include "convert/lowering.h"

#include <algorithm>
#include <cmath>
#include <limits>

#include "kernels/reference/int8_kernels.h"
#include "qlite/quant.h"

namespace qlite::convert::detail {

using lite::BuiltinOp;
using lite::TensorType;

std::vector<int32_t> to_i32_shape(const Shape& s, const std::string& what) {
  std::vector<int32_t> out;
  out.reserve(s.size());
  for (int64_t d : s) {
    check(d >= 0 && d <= std::numeric_limits<int32_t>::max(),
          "convert: " + what + " has dimension " + std::to_string(d) + " outside int32");
    out.push_back(static_cast<int32_t>(d));
  }
  return out;
}

std::vector<int32_t> batched(const Shape& per_sample, int32_t batch) {
  std::vector<int32_t> out{batch};
  const auto rest = to_i32_shape(per_sample, "a tensor");
  out.insert(out.end(), rest.begin(), rest.end());
  return out;
}

int32_t Lowering::add_activation(const std::string& name, TensorType type, const Shape& per_sample,
                                 const ActQuant* quant) {
  lite::Quantization q;
  if (quant != nullptr) q = lite::Quantization::per_tensor(quant->scale, quant->zero_point);
  return b_.add_tensor(name, type, batched(per_sample, 1), std::move(q), batched(per_sample, -1));
}

std::pair<std::string, Shape> Lowering::tensor_name_and_sample_shape(int32_t tensor) {
  const lite::TensorDef& t = b_.graph().tensors.at(static_cast<size_t>(tensor));
  Shape sample;
  for (size_t d = 1; d < t.shape.size(); ++d) sample.push_back(t.shape[d]);
  return {t.name, sample};
}

Value Lowering::make_value(const std::string& name, TensorType type, const Shape& per_sample,
                           const ActQuant* quant) {
  Value v;
  v.tensor = add_activation(name, type, per_sample, quant);
  v.type = type;
  v.shape = per_sample;
  if (quant != nullptr) v.quant = *quant;
  return v;
}

void Lowering::add_op(BuiltinOp op, std::vector<int32_t> inputs, std::vector<int32_t> outputs,
                      lite::OpOptions options, int32_t version, const std::string& layer,
                      bool integer, bool io_boundary) {
  b_.add_operator(op, std::move(inputs), std::move(outputs), std::move(options), version);
  ops_.push_back({lite::builtin_op_name(op), layer, integer, io_boundary});
}

Value Lowering::to_float(const Value& v, const std::string& layer) {
  if (!v.is_int8()) return v;
  // The new tensor has the shape of v's tensor, which differs from v.shape
  // where a Flatten was folded into the Dense layer reading it.
  const auto [name, sample] = tensor_name_and_sample_shape(v.tensor);
  Value out = make_value(name + "_float", TensorType::kFloat32, sample);
  out.shape = v.shape;
  // Version 2: int8 input (TFLite op_version.cc).
  add_op(BuiltinOp::kDequantize, {v.tensor}, {out.tensor}, {}, 2, layer, false);
  return out;
}

Value Lowering::to_int8(const Value& v, const ActQuant& q, const std::string& layer) {
  if (v.is_int8() && v.quant.scale == q.scale && v.quant.zero_point == q.zero_point) return v;
  // The new tensor has the shape of v's tensor, which differs from v.shape
  // where a Flatten was folded into the Dense layer reading it.
  const auto [name, sample] = tensor_name_and_sample_shape(v.tensor);
  Value out = make_value(name + "_int8", TensorType::kInt8, sample, &q);
  out.shape = v.shape;
  // From float this is a float op (it reads float activations); int8 -> int8
  // requantization is integer.
  add_op(BuiltinOp::kQuantize, {v.tensor}, {out.tensor}, {}, 1, layer, v.is_int8());
  return out;
}

int32_t Lowering::constant_bytes(const std::string& name, lite::TensorType type, std::vector<int32_t> shape,
                                 std::span<const uint8_t> bytes, lite::Quantization quantization) {
  const int32_t t = b_.add_tensor(name, type, std::move(shape), std::move(quantization));
  std::vector<uint32_t>& same_name = buffers_by_name_[name];
  uint32_t buffer = 0;
  for (uint32_t b : same_name) {
    const std::vector<uint8_t>& held = b_.model().buffers[b];
    if (held.size() == bytes.size() && std::equal(held.begin(), held.end(), bytes.begin())) buffer = b;
  }
  if (buffer == 0) {
    buffer = b_.add_buffer(bytes);
    same_name.push_back(buffer);
  }
  b_.graph().tensors[static_cast<size_t>(t)].buffer = buffer;
  return t;
}

int32_t Lowering::float_constant(const std::string& name, const std::vector<int32_t>& shape,
                                 const std::vector<float>& values, bool as_float16,
                                 const std::string& layer) {
  if (!as_float16) return constant(name, TensorType::kFloat32, shape, values);
  std::vector<uint16_t> half(values.size());
  for (size_t i = 0; i < values.size(); ++i) half[i] = ref::float_to_half(values[i]);
  const int32_t h = constant(name + "_fp16", TensorType::kFloat16, shape, half);
  const int32_t f = b_.add_tensor(name, TensorType::kFloat32, shape);
  // Version 3: float16 input.
  add_op(BuiltinOp::kDequantize, {h}, {f}, {}, 3, layer, false);
  return f;
}

IntWeights quantize_weights(const std::vector<float>& w, const WeightLayout& layout, bool per_channel) {
  const Shape& shape = layout.shape;
  const auto axis = static_cast<size_t>(layout.channel_axis);
  check(axis < shape.size() && static_cast<int64_t>(w.size()) == shape_numel(shape) && !w.empty(),
        "convert: weights of " + std::to_string(w.size()) + " values do not fit " + shape_str(shape));
  const int64_t channels = per_channel ? shape[axis] : 1;
  int64_t inner = 1;  // elements between two entries of the channel axis
  for (size_t d = axis + 1; d < shape.size(); ++d) inner *= shape[d];
  auto channel_of = [&](size_t i) -> size_t {
    return per_channel ? static_cast<size_t>((static_cast<int64_t>(i) / inner) % channels) : 0;
  };
  std::vector<quant::Range> ranges(static_cast<size_t>(channels));
  for (size_t i = 0; i < w.size(); ++i) {
    if (!std::isfinite(w[i])) continue;
    quant::Range& r = ranges[channel_of(i)];
    r.min = std::min(r.min, w[i]);
    r.max = std::max(r.max, w[i]);
  }
  IntWeights r;
  std::vector<quant::QuantParams> params;
  for (const quant::Range& range : ranges) {
    params.push_back(quant::choose_quant_params(range.empty() ? 0.0f : range.min, range.empty() ? 0.0f : range.max,
                                                quant::kWeightScheme));
    r.scales.push_back(params.back().scale);
  }
  r.q.resize(w.size());
  for (size_t i = 0; i < w.size(); ++i) r.q[i] = static_cast<int8_t>(quant::fake_quant_int(w[i], params[channel_of(i)]));
  return r;
}

ActQuant act_quant_from_range(float min, float max) {
  const quant::QuantParams p = quant::choose_quant_params(min, max, quant::kActivationScheme);
  return {p.scale, p.zero_point};
}

}  // namespace qlite::convert::detail

namespace qlite::convert::detail {

const Param* find_param(const Layer& layer, const std::string& name) {
  for (const Param* p : layer.params())
    if (p->name == name) return p;
  return nullptr;
}

std::vector<float> param_values(const Param& p) {
  check(p.value.dtype() == DType::kFloat32, "convert: param '" + p.name + "' is not float32");
  const auto s = p.value.span_f32();
  return {s.begin(), s.end()};
}

}  // namespace qlite::convert::detail
