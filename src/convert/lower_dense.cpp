// Dense -> FULLY_CONNECTED. Keras kernels are [in, out]; TFLite wants [out, in].
// Integer weights are per tensor: TFLite 2.9 mis-computes per-channel
// FULLY_CONNECTED and Arm NN aborts on it (docs/TFLITE_FORMAT.md).
#include "convert/lowering.h"

namespace qlite::convert::detail {

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
  lite::FullyConnectedOptions opts;
  opts.activation = fused_activation(layer);
  // Hybrid version 3: symmetric input quantization (op_version.cc).
  return lower_weighted(L, layer, in, plan,
                        {.layer_type = "Dense",
                         .units = "units",
                         .kernel = std::move(w),
                         .kernel_shape = {fout, fin},
                         .out_channels = fout,
                         .per_channel = false,
                         .op = lite::BuiltinOp::kFullyConnected,
                         .options = opts,
                         .int8_version = 4,
                         .hybrid_version = 3});
}

}  // namespace qlite::convert::detail
