// The seed article's workflow with the qlite C++ API only: train the seed
// model, make it quantization-aware (whole model, then only its Dense layer),
// fine-tune, convert to .tflite, and evaluate the converted file in the qlite
// runtime. Usage: example_quantize_seed [--subset N] [--data NAME|DIR] [--out FILE]
// (--subset N: only the first N training and N test images; --out: where to
// save the quantized .tflite).
#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>

#include "qlite/convert.h"
#include "qlite/data.h"
#include "qlite/quant.h"
#include "qlite/runtime.h"
#include "qlite/train.h"

using namespace qlite;

namespace {

// Test accuracy of a float-I/O .tflite model run by the qlite runtime.
double evaluate_tflite(const std::vector<uint8_t>& bytes, const Split& test) {
  auto it = runtime::Interpreter::from_buffer(bytes);
  const int64_t n = test.x.dim(0), image = test.x.numel() / n;
  int64_t correct = 0;
  for (int64_t start = 0; start < n; start += 256) {
    const int batch = static_cast<int>(std::min<int64_t>(256, n - start));
    it->resize_batch(batch);
    std::span<float> in = it->input_data<float>(0);
    std::memcpy(in.data(), test.x.data<float>() + start * image, in.size_bytes());
    it->invoke();
    std::span<const float> out = it->output_data<float>(0);
    const int64_t classes = static_cast<int64_t>(out.size()) / batch;
    for (int b = 0; b < batch; ++b) {
      const float* row = out.data() + b * classes;
      correct += std::max_element(row, row + classes) - row == test.y.data<int32_t>()[start + b];
    }
  }
  return static_cast<double>(correct) / static_cast<double>(n);
}

FitOptions recipe(int batch_size) {
  FitOptions fo;
  fo.epochs = 1;
  fo.batch_size = batch_size;
  fo.validation_split = 0.1;
  return fo;
}

std::unique_ptr<Optimizer> adam(float lr) {
  AdamOptions o;
  o.learning_rate = lr;
  return Adam(o);
}

}  // namespace

int main(int argc, char** argv) {
  int64_t subset = 0;
  std::string data = "fashion-mnist", out;
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    if (arg == "--subset" && i + 1 < argc) subset = std::atoll(argv[++i]);
    else if (arg == "--data" && i + 1 < argc) data = argv[++i];
    else if (arg == "--out" && i + 1 < argc) out = argv[++i];
    else {
      std::fprintf(stderr, "usage: %s [--subset N] [--data NAME|DIR] [--out FILE]\n", argv[0]);
      return 2;
    }
  }
  try {
    Dataset ds = load_dataset(data);
    Split train = ds.train, test = ds.test;
    if (subset > 0 && subset < train.x.dim(0)) train = take(ds.train, 0, subset);
    if (subset > 0 && subset < test.x.dim(0)) test = take(ds.test, 0, subset);

    // 1. Build and train the float model (the article's architecture).
    layers::Conv2DOptions relu;
    relu.activation = Activation::kRelu;
    Sequential model({
        layers::Input({28, 28}),
        layers::Reshape({28, 28, 1}),
        layers::Conv2D(12, {3, 3}, relu),
        layers::MaxPooling2D({2, 2}),
        layers::Flatten(),
        layers::Dense(ds.num_classes),
    });
    model.compile(adam(1e-3f), SparseCategoricalCrossentropy{.from_logits = true});
    model.fit(train.x, train.y, recipe(32));
    const double baseline = model.evaluate(test.x, test.y).accuracy;

    // 2. quantize_model, fine-tuned on a subset (1,000 images, batch 500).
    const Split small = take(train, 0, std::min<int64_t>(1000, train.x.dim(0)));
    auto q_aware = quant::quantize_model(model);
    q_aware->compile(adam(1e-3f), SparseCategoricalCrossentropy{.from_logits = true});
    q_aware->fit(small.x, small.y, recipe(500));
    const double qat = q_aware->evaluate(test.x, test.y).accuracy;  // exact int8 evaluation

    // 3. Only the Dense layer: quantize_annotate_layer through clone_model, then quantize_apply.
    auto annotated = clone_model(model, [](const Layer& layer) -> LayerPtr {
      LayerPtr copy(layer.clone());
      return layer.type() == "Dense" ? quant::quantize_annotate_layer(copy) : copy;
    });
    auto q_dense = quant::quantize_apply(*annotated);
    q_dense->compile(adam(1e-3f), SparseCategoricalCrossentropy{.from_logits = true});
    q_dense->fit(small.x, small.y, recipe(500));
    const double qat_dense = q_dense->evaluate(test.x, test.y).accuracy;

    // 4. Convert: float32, and the QAT model with default optimizations (full
    //    integer with float I/O); PTQ of the float model for comparison.
    convert::ConvertOptions f32;
    const convert::ConvertResult float_tflite = convert::convert_model(model, f32);
    convert::ConvertOptions int8;
    int8.mode = convert::Mode::kInt8;
    const convert::ConvertResult qat_tflite = convert::convert_model(*q_aware, int8);
    int8.representative = &train.x;
    const convert::ConvertResult ptq_tflite = convert::convert_model(model, int8);
    if (!out.empty()) convert::write_file_atomic(out, qat_tflite.bytes);

    // 5. Evaluate the converted files with the runtime.
    std::printf("float baseline (Keras-side):       %.4f\n", baseline);
    std::printf("QAT whole model (int8 evaluate):   %.4f\n", qat);
    std::printf("QAT Dense only (int8 evaluate):    %.4f\n", qat_dense);
    std::printf("float32 .tflite (runtime):         %.4f  %zu bytes\n", evaluate_tflite(float_tflite.bytes, test),
                float_tflite.size_bytes);
    std::printf("PTQ int8 .tflite (runtime):        %.4f  %zu bytes\n", evaluate_tflite(ptq_tflite.bytes, test),
                ptq_tflite.size_bytes);
    std::printf("QAT int8 .tflite (runtime):        %.4f  %zu bytes, integer only: %s\n",
                evaluate_tflite(qat_tflite.bytes, test), qat_tflite.size_bytes, qat_tflite.integer_only ? "yes" : "no");
    if (!out.empty()) std::printf("wrote %s\n", out.c_str());
  } catch (const Error& e) {
    std::fprintf(stderr, "error: %s\n", e.what());
    return 1;
  }
  return 0;
}
