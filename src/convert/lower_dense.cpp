// Dense -> FULLY_CONNECTED. Keras kernels are [in, out]; TFLite wants [out, in].
// Integer weights are per tensor: TFLite 2.9 mis-computes per-channel
// FULLY_CONNECTED and Arm NN aborts on it (TFLITE_NOTES.md).
#include "convert/lowering.h"

namespace qlite::convert::detail {

using lite::TensorType;

Value lower_dense(Lowering& L, const Layer& layer, const Value& in, const NodePlan& plan) {
  const std::string& name = layer.name();
  check(in.shape.size() == 1, "convert: Dense layer '" + name +
                                  "' needs a flat per-sample input (add a Flatten), got " +
                                  shape_str(in.shape));
  const Param* kernel = find_param(layer, "kernel");
  check(kernel != nullptr && kernel->value.rank() == 2,
        "convert: Dense layer '" + name + "' has no 2-D kernel");
  const int64_t fin = kernel->value.dim(0), fout = kernel->value.dim(1);
  check(fin == in.shape[0], "convert: Dense layer '" + name + "' kernel expects " +
                                std::to_string(fin) + " inputs, got " + std::to_string(in.shape[0]));
  const std::vector<float> k = param_values(*kernel);
  std::vector<float> w(k.size());
  for (int64_t o = 0; o < fout; ++o)
    for (int64_t i = 0; i < fin; ++i)
      w[static_cast<size_t>(o * fin + i)] = k[static_cast<size_t>(i * fout + o)];
  const Param* bias_p = find_param(layer, "bias");
  const std::vector<float> bias =
      bias_p != nullptr ? param_values(*bias_p) : std::vector<float>(static_cast<size_t>(fout), 0.0f);
  check(static_cast<int64_t>(bias.size()) == fout,
        "convert: Dense layer '" + name + "' bias size does not match its units");
  lite::FullyConnectedOptions opts;
  opts.activation = fused_activation(layer);
  const std::vector<int32_t> wshape = to_i32_shape({fout, fin}, "Dense kernel of '" + name + "'");
  const std::vector<int32_t> bshape = {static_cast<int32_t>(fout)};
  auto& b = L.builder();
  const Shape out_shape = layer.output_shape();

  if (plan.kind == Kind::kInt8) {
    const Value x = in.is_int8() ? in : L.to_int8(in, plan.in.value(), name);
    const IntWeights iw = plan.weights ? *plan.weights : quantize_weights(w, fout, false);
    check(iw.q.size() == w.size() && iw.scales.size() == 1,
          "convert: Dense layer '" + name + "' integer weights must be per tensor and match its kernel");
    const std::vector<int32_t> qb = plan.bias ? *plan.bias : quantize_bias(bias, x.quant.scale, iw.scales);
    check(static_cast<int64_t>(qb.size()) == fout,
          "convert: Dense layer '" + name + "' integer bias does not match its units");
    const int32_t wt = b.add_constant(name + "/kernel", TensorType::kInt8, wshape, iw.q,
                                      lite::Quantization::per_tensor(iw.scales[0], 0));
    const int32_t bt =
        b.add_constant(name + "/bias", TensorType::kInt32, bshape, qb,
                       lite::Quantization::per_tensor(bias_scales(x.quant.scale, iw.scales)[0], 0));
    Value y = L.make_value(name, TensorType::kInt8, out_shape, &plan.out);
    L.add_op(lite::BuiltinOp::kFullyConnected, {x.tensor, wt, bt}, {y.tensor}, opts, 4, name, true);
    return y;
  }

  const Value x = L.to_float(in, name);
  int32_t wt = -1;
  int32_t version = 1;
  if (plan.kind == Kind::kHybrid && plan.quantize_kernel) {
    const IntWeights iw = quantize_weights(w, fout, false);
    wt = b.add_constant(name + "/kernel", TensorType::kInt8, wshape, iw.q,
                        lite::Quantization::per_tensor(iw.scales[0], 0));
    version = 3;  // hybrid, symmetric input quantization (op_version.cc)
  } else {
    wt = L.float_constant(name + "/kernel", wshape, w, plan.kind == Kind::kFloat16Weights, name);
  }
  const int32_t bt = L.float_constant(name + "/bias", bshape, bias, plan.kind == Kind::kFloat16Weights, name);
  Value y = L.make_value(name, TensorType::kFloat32, out_shape);
  L.add_op(lite::BuiltinOp::kFullyConnected, {x.tensor, wt, bt}, {y.tensor}, opts, version, name, false);
  return y;
}

}  // namespace qlite::convert::detail
