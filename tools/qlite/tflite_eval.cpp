#include "tflite_eval.h"

#include <algorithm>
#include <cstring>

#include "cli.h"
#include "kernels/reference/int8_kernels.h"

namespace qlite::cli {

void fill_input(runtime::Interpreter& it, const float* pixels, int64_t count, const std::string& what) {
  const runtime::TensorInfo in0 = it.input_info(0);
  require(shape_numel(in0.shape) == count, what + ": input " + shape_str(in0.shape) + " does not hold " +
                                               std::to_string(count) + " values");
  switch (in0.type) {
    case lite::TensorType::kFloat32:
      std::memcpy(it.input_bytes(0).data(), pixels, static_cast<size_t>(count) * sizeof(float));
      break;
    case lite::TensorType::kInt8:
      ref::quantize_f32_to_int8(count, pixels, in0.scale(), in0.zero_point(), it.input_data<int8_t>(0).data());
      break;
    case lite::TensorType::kUInt8:
      ref::quantize_f32_to_uint8(count, pixels, in0.scale(), in0.zero_point(), it.input_data<uint8_t>(0).data());
      break;
    default:
      throw Error(what + ": input type " + lite::tensor_type_name(in0.type) + " is not supported by eval");
  }
}

TfliteAccuracy tflite_accuracy(runtime::Interpreter& it, const Split& split, int batch_size,
                               const std::string& what, const std::string& data) {
  require(it.num_inputs() == 1 && it.num_outputs() == 1, what + ": eval needs a model with one input and one output");
  require(batch_size >= 1, "eval batch size must be at least 1");
  const Tensor& x = split.x;
  const int64_t n = x.dim(0);
  require(n >= 1, "the " + data + " test split is empty");
  const int64_t image = x.numel() / n;
  const runtime::TensorInfo in0 = it.input_info(0);
  require(!in0.shape.empty() && shape_numel(in0.shape) / in0.shape[0] == image,
          "model input " + shape_str(in0.shape) + " does not hold one " + data + " image " +
              shape_str(Shape(x.shape().begin() + 1, x.shape().end())) + " per batch row");
  TfliteAccuracy r;
  for (int64_t start = 0; start < n; start += batch_size) {
    const int batch = static_cast<int>(std::min<int64_t>(batch_size, n - start));
    it.resize_batch(batch);
    fill_input(it, x.data<float>() + start * image, int64_t{batch} * image, what);
    it.invoke();
    const runtime::TensorInfo out = it.output_info(0);
    const int64_t classes = shape_numel(out.shape) / batch;
    const std::byte* raw = it.output_bytes(0).data();
    for (int b = 0; b < batch; ++b) {
      auto value = [&](int64_t c) -> double {
        const int64_t i = int64_t{b} * classes + c;
        switch (out.type) {
          case lite::TensorType::kFloat32: return reinterpret_cast<const float*>(raw)[i];
          case lite::TensorType::kInt8: return reinterpret_cast<const int8_t*>(raw)[i];
          case lite::TensorType::kUInt8: return reinterpret_cast<const uint8_t*>(raw)[i];
          default:
            throw Error(what + ": output type " + lite::tensor_type_name(out.type) + " is not supported by eval");
        }
      };
      int64_t best = 0;
      for (int64_t c = 1; c < classes; ++c)
        if (value(c) > value(best)) best = c;
      r.correct += best == split.y.data<int32_t>()[start + b];
    }
  }
  r.samples = n;
  r.accuracy = static_cast<double>(r.correct) / static_cast<double>(n);
  return r;
}

}  // namespace qlite::cli
