// QAT of DepthwiseConv2D: one weight range per output channel c * multiplier
// + m (the kernel's last two axes flattened, as the layer record says, and
// as the file stores them on dimension 3), the training forward on that
// grid, configs that name another axis refused, and the integer evaluation
// equal to qlite's runtime on the converted file value for value.
#include <cmath>
#include <cstring>
#include <filesystem>
#include <set>

#include <unistd.h>

#include "qat_test_util.h"
#include "qlite/convert.h"
#include "qlite/runtime.h"

namespace qlite::quant {
namespace {
using namespace testing;

// Input(6, 6, 3) -> DepthwiseConv2D(3x3, 'same', multiplier 2, relu6) -> Flatten -> Dense(3).
std::unique_ptr<Sequential> depthwise_model() {
  auto m = std::make_unique<Sequential>();
  m->add(layers::Input({6, 6, 3}));
  m->add(layers::DepthwiseConv2D({3, 3}, {.padding = Padding::kSame, .depth_multiplier = 2,
                                          .activation = Activation::kRelu6, .name = "dw"}));
  m->add(layers::Flatten());
  m->add(layers::Dense(3));
  m->build(4);
  return m;
}

TEST(QatDepthwise, WeightRangesArePerOutputChannel) {
  auto m = depthwise_model();
  auto q = quantize_model(*m);
  Layer& dw = *q->find_layer("quant_dw");
  const Tensor& k = param(dw, "depthwise_kernel").value;  // [3, 3, 3, 2]
  const Tensor& lo = param(dw, "depthwise_kernel_min").value;
  const Tensor& hi = param(dw, "depthwise_kernel_max").value;
  ASSERT_EQ(lo.shape(), Shape{6});
  // Element i of the kernel is output channel i % 6 = c * 2 + m.
  for (int64_t c = 0; c < 6; ++c) {
    float a = 0;
    for (int64_t i = c; i < k.numel(); i += 6) a = std::max(a, std::fabs(k.f32()[i]));
    EXPECT_EQ(hi.f32()[c], a) << c;
    EXPECT_EQ(lo.f32()[c], -a) << c;
  }
  const LoweredQuant L = static_cast<const QuantizedLayer&>(dw).lowered();
  EXPECT_EQ(L.op, LoweredOp::kDepthwiseConv2D);
  EXPECT_EQ(L.weights_shape, (Shape{1, 3, 3, 6}));
  EXPECT_EQ(L.quantized_dimension, 3);
  ASSERT_EQ(L.weight_scales.size(), 6u);
  for (int64_t c = 0; c < 6; ++c) {
    EXPECT_FLOAT_EQ(L.weight_scales[c], hi.f32()[c] / 127.0f);
    int big = 0;
    for (int64_t t = 0; t < 9; ++t) big = std::max(big, std::abs(int{L.weights[t * 6 + c]}));
    EXPECT_EQ(big, 127) << c;  // each channel's largest weight uses the full narrow range
  }
  // The training forward fake-quantizes the kernel on the same grids: the
  // inner layer's weights are the integers times their channel's scale.
  const Tensor x = random_tensor({2, 6, 6, 3}, 3, -1.0f, 1.0f);
  Tensor out;
  const Tensor* in[] = {&x};
  q->find_layer("quantize_layer")->forward(in, out, RunContext{true, nullptr});
  const Tensor* in2[] = {&out};
  Tensor y;
  dw.forward(in2, y, RunContext{true, nullptr});
  const Tensor& used = static_cast<const QuantizeWrapper&>(dw).inner().params()[0]->value;
  for (int64_t i = 0; i < used.numel(); ++i)
    EXPECT_FLOAT_EQ(used.f32()[i], static_cast<float>(L.weights[static_cast<size_t>(i)]) * L.weight_scales[i % 6]) << i;
}

TEST(QatDepthwise, ConfigMustNameTheOutputChannel) {
  auto m = depthwise_model();
  const Layer& dw = *m->find_layer("dw");
  auto with_axis = [&](int axis) {
    auto annotated = clone_model(*m, [&](const Layer& l) -> LayerPtr {
      LayerPtr c(l.clone());
      if (l.type() != "DepthwiseConv2D") return c;
      auto cfg = std::make_shared<LayerQuantizeConfig>(
          std::vector<WeightQuantizer>{{"depthwise_kernel", QuantizerSpec::last_value(kWeightScheme, true, axis)}},
          QuantizerSpec::moving_average());
      return quantize_annotate_layer(c, cfg);
    });
    return quantize_apply(*annotated);
  };
  EXPECT_EQ(param(*with_axis(-1)->find_layer("quant_dw"), "depthwise_kernel_max").value.numel(), 6);
  // Axis 3 is the multiplier alone (tfmot's per-axis choice): not what the file can hold.
  try {
    with_axis(3);
    ADD_FAILURE() << "axis 3 accepted";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("output channel (axis -1)"), std::string::npos) << e.what();
  }
  // The default registry entry is the one the record describes.
  const QuantizeConfigPtr d = default_quantize_config(dw);
  ASSERT_NE(d, nullptr);
  ASSERT_EQ(d->weight_quantizers().size(), 1u);
  EXPECT_EQ(d->weight_quantizers()[0].param, "depthwise_kernel");
  EXPECT_TRUE(d->weight_quantizers()[0].quantizer.options.per_axis);
  EXPECT_EQ(d->weight_quantizers()[0].quantizer.options.axis, -1);
}

// After a few training steps, QAT inference equals the converted file run by
// qlite's runtime on every value.
TEST(QatDepthwise, IntegerEvaluationEqualsTheFile) {
  auto m = depthwise_model();
  auto q = quantize_model(*m);
  q->compile(Adam(), SparseCategoricalCrossentropy{true});
  const Tensor x = random_tensor({64, 6, 6, 3}, 9, -1.0f, 1.0f);
  Tensor y({64}, DType::kInt32);
  for (int64_t i = 0; i < 64; ++i) y.data<int32_t>()[i] = static_cast<int32_t>(i % 3);
  FitOptions fo;
  fo.batch_size = 16;
  q->fit(x, y, fo);
  const Tensor sim = q->predict(x);
  convert::ConvertOptions o;
  o.mode = convert::Mode::kInt8;
  const convert::ConvertResult r = convert::convert_model(*q, o);
  auto interp = runtime::Interpreter::from_buffer(r.bytes);
  interp->resize_batch(64);
  auto dst = interp->input_bytes(0);
  ASSERT_EQ(dst.size(), static_cast<size_t>(x.numel()) * 4);
  std::memcpy(dst.data(), x.raw(), dst.size());
  interp->invoke();
  auto ob = interp->output_bytes(0);
  ASSERT_EQ(ob.size(), static_cast<size_t>(sim.numel()) * 4);
  std::vector<float> dep(static_cast<size_t>(sim.numel()));
  std::memcpy(dep.data(), ob.data(), ob.size());
  int64_t differ = 0;
  std::set<float> values;
  for (int64_t i = 0; i < sim.numel(); ++i) {
    differ += sim.f32()[i] != dep[static_cast<size_t>(i)];
    values.insert(sim.f32()[i]);
  }
  EXPECT_EQ(differ, 0);
  EXPECT_GT(values.size(), 20u);  // the outputs are not a constant
}

// A trained QAT model with a depthwise layer saves and loads: its six
// per-channel ranges come back and predictions are bit-identical.
TEST(QatDepthwise, SaveLoadIsBitIdentical) {
  auto m = depthwise_model();
  auto q = quantize_model(*m);
  q->compile(Adam(), SparseCategoricalCrossentropy{true});
  const Tensor x = random_tensor({12, 6, 6, 3}, 5, -1.0f, 1.0f);
  FitOptions fo;
  fo.batch_size = 4;
  q->fit(x, labels({0, 1, 2, 0, 1, 2, 0, 1, 2, 0, 1, 2}), fo);
  const Tensor before = q->predict(x);
  const auto dir = std::filesystem::temp_directory_path() / ("qlite_qat_dw_" + std::to_string(::getpid()));
  save_model(*q, dir.string());
  auto back = load_model(dir.string());
  std::filesystem::remove_all(dir);
  EXPECT_EQ(back->to_json(), q->to_json());
  EXPECT_EQ(param(*back->find_layer("quant_dw"), "depthwise_kernel_max").value.numel(), 6);
  const Tensor after = back->predict(x);
  ASSERT_EQ(after.shape(), before.shape());
  for (int64_t i = 0; i < after.numel(); ++i) ASSERT_EQ(after.f32()[i], before.f32()[i]) << i;
}

}  // namespace
}  // namespace qlite::quant
