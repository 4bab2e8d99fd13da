// keras.applications-style MobileNetV2 (alpha 1.0, 224x224x3; random weights,
// post-training int8 quantization calibrated on random images) converts and
// runs in qlite's runtime byte for byte as in TensorFlow Lite 2.9: every op
// of a full-size MobileNet (PAD, DEPTHWISE_CONV_2D, CONV_2D with ReLU6, ADD,
// MEAN, FULLY_CONNECTED, SOFTMAX) on real shapes. Ten classes keep the
// softmax output informative (1,000 near-uniform classes would all quantize
// to the same step); the backbone is the full network. Keras' initial
// weights shrink activations about sevenfold per depthwise layer, so an
// untrained network's deep ranges underflow (TFLite then refuses a RELU6
// bound past int32): one training step at learning rate 0 with batch-norm
// momentum 0 sets every moving statistic to the batch's, as a briefly
// trained network has them, and leaves the random weights as they are
// (applications::with_batch_statistics).
#include "convert_test_util.h"
#include "interop_test_util.h"
#include "peer_requirement.h"
#include "tflite_peer.h"

namespace qlite::test {
namespace {

Tensor random_images(int64_t n, uint64_t seed) {
  Tensor x({n, 224, 224, 3});
  Rng rng(seed);
  for (float& v : x.span_f32()) v = rng.uniform(-1.0f, 1.0f);
  return x;
}

TEST(MobileNetV2Interop, Int8PtqFileIdenticalToTflite) {
  const TfLitePeer* peer = TfLitePeer::get();
  QLITE_REQUIRE_PEER(peer != nullptr, "TFLite 2.9 unavailable: " << TfLitePeer::unavailable_reason());
  auto random = applications::MobileNetV2({.classes = 10});
  random->build(7);
  auto m = applications::with_batch_statistics(*random, random_images(4, 3));
  const Tensor rep = random_images(4, 1);
  const auto r = convert_with(*m, convert::Mode::kInt8, convert::IoType::kInt8, &rep);
  std::map<std::string, int> ops;
  for (const auto& op : r.ops) ++ops[op.op];
  EXPECT_EQ(ops["PAD"], 4);
  EXPECT_EQ(ops["DEPTHWISE_CONV_2D"], 17);
  EXPECT_EQ(ops["ADD"], 10);
  EXPECT_EQ(ops["CONV_2D"], 35);  // Conv1, 16 expands, 17 projects, Conv_1
  EXPECT_EQ(ops["SOFTMAX"], 1);
  EXPECT_TRUE(r.integer_only);

  const Tensor x = random_images(2, 2);
  const std::vector<int32_t> shape{2, 224, 224, 3};
  const auto theirs = peer->run(r.bytes, {PeerInput{shape, graph_input_bytes(r, x)}});
  const RunOutput ours = run_qlite(r.bytes, x);
  ASSERT_EQ(theirs.size(), 1u);
  const std::vector<int8_t> t8 = theirs[0].values<int8_t>();
  ASSERT_EQ(t8.size(), ours.raw.size());
  int64_t equal = 0, distinct = 0;
  for (size_t k = 0; k < t8.size(); ++k) {
    equal += t8[k] == ours.raw[k];
    distinct += k > 0 && ours.raw[k] != ours.raw[0];
  }
  EXPECT_EQ(equal, static_cast<int64_t>(t8.size()));
  EXPECT_GT(distinct, 0);  // not a constant output: the comparison says something
}

}  // namespace
}  // namespace qlite::test
