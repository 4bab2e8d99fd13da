// The reference MobileNet-style network QAT-trained with batch statistics for
// the first 50 steps and frozen after (QuantizeOptions::freeze_bn_after,
// `qlite qat --freeze-bn-after 50`): the converted file holds the fold of
// the running statistics, and QAT's evaluation is exactly that file. On the
// first 2,000 Fashion-MNIST test images: QAT's integer evaluation equals
// qlite's runtime on the file value for value (zero prediction mismatches),
// and the file's int8 outputs equal TensorFlow Lite 2.9's byte for byte.
#include "convert_test_util.h"
#include "interop_test_util.h"
#include "qlite/quant/qat.h"
#include "tflite_peer.h"

namespace qlite::test {
namespace {

using convert::IoType;
using convert::Mode;

struct Trained {
  std::unique_ptr<Model> qat;
  std::vector<const quant::QuantizeWrapper*> bn_wrappers;
  Tensor test_x;
};

const Trained& trained() {
  static Trained t = [] {
    const Dataset& ds = *fashion();
    Trained out;
    auto f = train_mobilenet_style(ds, 3);
    // 3,200 images at batch 32: 100 steps, the first 50 with batch statistics.
    out.qat = quant::quantize_model(*f, {.freeze_bn_after = 50});
    out.qat->compile(Adam(AdamOptions{.learning_rate = 1e-4f}), SparseCategoricalCrossentropy{true});
    out.qat->set_threads(2);
    const Split q = take(ds.train, 20000, 23200);
    out.qat->fit(nhwc_images(q.x), q.y,
                 {.epochs = 1, .batch_size = 32, .validation_split = 0.0, .seed = 3, .on_progress = {}});
    for (size_t i = 0; i < out.qat->num_layers(); ++i)
      if (const auto* w = dynamic_cast<const quant::QuantizeWrapper*>(&out.qat->layer(i)); w && w->batch_norm())
        out.bn_wrappers.push_back(w);
    out.test_x = nhwc_images(rows(ds.test.x, 0, 2000));
    return out;
  }();
  return t;
}

TEST(BnFreezeDeploy, EveryConvBatchNormTrainedThenFroze) {
  REQUIRE_FASHION(ds);
  const Trained& t = trained();
  EXPECT_EQ(t.bn_wrappers.size(), 7u);  // the stem, three depthwise and three pointwise convs
  for (const quant::QuantizeWrapper* w : t.bn_wrappers) {
    EXPECT_EQ(w->bn_steps(), 100);
    EXPECT_TRUE(w->bn_frozen());
  }
  const auto r = convert_with(*t.qat, Mode::kInt8, IoType::kInt8);
  std::vector<std::string> ops;
  for (const auto& op : r.ops) ops.push_back(op.op);
  EXPECT_EQ(ops, (std::vector<std::string>{"CONV_2D", "DEPTHWISE_CONV_2D", "CONV_2D", "DEPTHWISE_CONV_2D", "CONV_2D",
                                           "DEPTHWISE_CONV_2D", "CONV_2D", "ADD", "MEAN", "FULLY_CONNECTED"}));
}

TEST(BnFreezeDeploy, QatEqualsTheFileInQliteRuntime) {
  REQUIRE_FASHION(ds);
  const Trained& t = trained();
  const auto r = convert_with(*t.qat, Mode::kInt8, IoType::kInt8);
  Model& qat = *t.qat;
  const Tensor sim = qat.predict(t.test_x, 256);
  const RunOutput dep = run_qlite(r.bytes, t.test_x);
  ASSERT_EQ(dep.values.size(), static_cast<size_t>(sim.numel()));
  int64_t equal = 0, same_class = 0;
  for (int64_t k = 0; k < sim.numel(); ++k) equal += sim.f32()[k] == dep.values[static_cast<size_t>(k)];
  const int64_t n = t.test_x.dim(0);
  for (int64_t i = 0; i < n; ++i)
    same_class += argmax(sim.f32() + i * 10, 10) == argmax(dep.values.data() + i * 10, 10);
  EXPECT_EQ(equal, sim.numel());
  EXPECT_EQ(same_class, n);  // zero prediction mismatches
  EXPECT_GT(count_correct_rows(dep.values, 10, take(ds->test, 0, n).y), n * 6 / 10);  // it learned
}

TEST(BnFreezeDeploy, FileIdenticalToTflite) {
  REQUIRE_FASHION(ds);
  const TfLitePeer* peer = TfLitePeer::get();
  QLITE_REQUIRE_PEER(peer != nullptr, "TFLite 2.9 unavailable: " << TfLitePeer::unavailable_reason());
  const Trained& t = trained();
  for (IoType io : {IoType::kInt8, IoType::kFloat32}) {
    const auto r = convert_with(*t.qat, Mode::kInt8, io);
    const Int8Agreement a = int8_agreement(*peer, r, t.test_x);
    EXPECT_EQ(a.equal, a.total) << convert::io_type_name(io) << " I/O";
    EXPECT_GT(a.total, 0);
  }
}

}  // namespace
}  // namespace qlite::test
