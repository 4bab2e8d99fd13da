// Config round trips, build errors, and thread-count determinism.
#include "layer_test_util.h"

using namespace qlite;
using namespace qlite::test;

namespace {

std::string error_of(const std::function<void()>& f) {
  try {
    f();
  } catch (const Error& e) {
    return e.what();
  }
  return "(no error)";
}

TEST(Config, RoundTripGivesEquivalentLayer) {
  layers::Conv2DOptions co;
  co.strides = {2, 1};
  co.padding = Padding::kSame;
  co.activation = Activation::kRelu6;
  co.use_bias = false;
  co.name = "c";
  layers::PoolOptions po;
  po.strides = std::array<int, 2>{1, 2};
  po.padding = Padding::kSame;
  po.name = "p";
  layers::DenseOptions dop;
  dop.activation = Activation::kRelu;
  dop.name = "d";
  const std::vector<std::pair<LayerPtr, Shape>> all = {
      {layers::Input({28, 28}, "in"), {28, 28}},
      {layers::Reshape({28, 28, -1}, "r"), {28, 28}},
      {layers::Flatten("f"), {5, 4, 3}},
      {layers::Conv2D(7, {3, 2}, co), {9, 8, 3}},
      {layers::MaxPooling2D({3, 2}, po), {9, 8, 3}},
      {layers::Dense(5, dop), {11}},
  };
  for (const auto& [layer, shape] : all) {
    const json cfg = layer->get_config();
    LayerPtr copy = layer_from_config(layer->type(), cfg);
    EXPECT_EQ(copy->get_config(), cfg) << layer->type();
    EXPECT_EQ(copy->name(), layer->name());
    EXPECT_EQ(copy->type(), layer->type());
    EXPECT_FALSE(copy->built());
    Rng r1(3), r2(3);
    const Shape ins[1] = {shape};
    EXPECT_EQ(layer->build(ins, r1), copy->build(ins, r2)) << layer->type();
    EXPECT_EQ(layer->count_params(), copy->count_params());
    // Same seed, same weights: the copy computes the same function.
    Shape xs{2};
    xs.insert(xs.end(), shape.begin(), shape.end());
    Rng rx(4);
    const Tensor x = random_tensor(xs, rx);
    const Tensor a = run_forward(*layer, x), b = run_forward(*copy, x);
    ASSERT_EQ(a.shape(), b.shape());
    for (int64_t i = 0; i < a.numel(); ++i) ASSERT_EQ(a.f32()[i], b.f32()[i]) << layer->type();
  }
}

TEST(Config, KerasNamesAndDefaults) {
  EXPECT_EQ(layers::Input({2}).layer()->default_name_stem(), "input_layer");
  EXPECT_EQ(layers::Reshape({2})->default_name_stem(), "reshape");
  EXPECT_EQ(layers::Flatten()->default_name_stem(), "flatten");
  EXPECT_EQ(layers::Conv2D(1, {1, 1})->default_name_stem(), "conv2d");
  EXPECT_EQ(layers::MaxPooling2D()->default_name_stem(), "max_pooling2d");
  EXPECT_EQ(layers::Dense(1)->default_name_stem(), "dense");
  // A Keras-written config: ints for pairs, null activation and strides, extra keys ignored.
  LayerPtr c = layer_from_config("Conv2D", json::parse(R"({"name": "k", "filters": 4, "kernel_size": 3,
      "strides": 1, "padding": "same", "activation": null, "kernel_initializer": {"class_name": "GlorotUniform"}})"));
  const json cc = c->get_config();
  EXPECT_EQ(cc["kernel_size"], json({3, 3}));
  EXPECT_EQ(cc["activation"], "linear");
  EXPECT_EQ(cc["use_bias"], true);
  LayerPtr p = layer_from_config("MaxPooling2D", json::parse(R"({"name": "m", "pool_size": [2, 3], "strides": null})"));
  EXPECT_EQ(p->get_config()["strides"], json({2, 3}));
  LayerPtr in = layer_from_config("InputLayer", json::parse(R"({"name": "i", "batch_shape": [null, 28, 28]})"));
  Rng rng;
  EXPECT_EQ(in->build({}, rng), Shape({28, 28}));
  EXPECT_EQ(activation_from_string("relu6"), Activation::kRelu6);
  EXPECT_EQ(activation_name(Activation::kRelu), "relu");
}

TEST(Config, BadConfigsNameTheClass) {
  EXPECT_NE(error_of([] { layer_from_config("Conv3D", json::object()); }).find("Conv3D"), std::string::npos);
  EXPECT_NE(error_of([] { layer_from_config("Dense", json::parse(R"({"units": -3})")); }).find("Dense"),
            std::string::npos);
  EXPECT_NE(error_of([] { layer_from_config("Dense", json::parse(R"({"units": "ten"})")); }).find("units"),
            std::string::npos);
  EXPECT_NE(error_of([] { layer_from_config("Dense", json::parse(R"({"units": 3, "activation": "gelu"})")); })
                .find("gelu"),
            std::string::npos);
  EXPECT_NE(error_of([] { layer_from_config("Conv2D", json::parse(R"({"filters": 3, "kernel_size": 3,
                                               "padding": "causal"})")); })
                .find("causal"),
            std::string::npos);
  EXPECT_NE(error_of([] { layer_from_config("Conv2D", json::parse(R"({"filters": 3, "kernel_size": [3],
                                               "padding": "valid"})")); })
                .find("kernel_size"),
            std::string::npos);
  EXPECT_NE(error_of([] { layer_from_config("Conv2D", json::parse(R"({"filters": 3, "kernel_size": 3,
                                               "dilation_rate": 2})")); })
                .find("dilation"),
            std::string::npos);
  EXPECT_NE(error_of([] { layer_from_config("Reshape", json::parse(R"({"target_shape": [-1, -1]})")); })
                .find("Reshape"),
            std::string::npos);
  EXPECT_THROW(layer_from_config("Flatten", json::array()), Error);
  EXPECT_THROW(layer_from_config("InputLayer", json::parse(R"({"name": "x"})")), Error);
}

TEST(Config, RegisterLayerClass) {
  register_layer_class("MyDense", [](const json& c) { return layer_from_config("Dense", c); });
  EXPECT_EQ(layer_from_config("MyDense", json::parse(R"({"units": 2})"))->type(), "Dense");
  EXPECT_THROW(register_layer_class("Null", nullptr), Error);
}

TEST(BuildErrors, NameTheLayer) {
  Rng rng;
  const Shape rank3[1] = {{4, 4, 1}};
  layers::DenseOptions dop;
  dop.name = "head";
  auto d = layers::Dense(3, dop);
  const std::string e1 = error_of([&] { d->build(rank3, rng); });
  EXPECT_NE(e1.find("head"), std::string::npos) << e1;
  EXPECT_NE(e1.find("Flatten"), std::string::npos) << e1;

  layers::Conv2DOptions co;
  co.name = "big";
  auto c = layers::Conv2D(2, {5, 5}, co);
  const std::string e2 = error_of([&] { c->build(rank3, rng); });
  EXPECT_NE(e2.find("big"), std::string::npos) << e2;
  co.padding = Padding::kSame;  // 'same' accepts a kernel larger than its input
  EXPECT_EQ(layers::Conv2D(2, {5, 5}, co)->build(rank3, rng), Shape({4, 4, 2}));

  const Shape flat[1] = {{16}};
  EXPECT_NE(error_of([&] { layers::Conv2D(2, {1, 1}, co)->build(flat, rng); }).find("big"), std::string::npos);
  EXPECT_THROW(layers::MaxPooling2D({5, 5})->build(rank3, rng), Error);
  EXPECT_THROW(layers::Reshape({5, -1})->build(flat, rng), Error);
  EXPECT_THROW(layers::Reshape({4, 5})->build(flat, rng), Error);
  EXPECT_THROW(layers::Dense(0), Error);

  // Rebuilding keeps the weights for the same shape and refuses another one.
  auto d2 = layers::Dense(3);
  d2->build(flat, rng);
  const float w0 = d2->params()[0]->value.f32()[0];
  d2->build(flat, rng);
  EXPECT_EQ(d2->params()[0]->value.f32()[0], w0);
  const Shape other[1] = {{17}};
  EXPECT_THROW(d2->build(other, rng), Error);
  // A forward with the wrong input shape names the layer.
  const Tensor bad({2, 17});
  EXPECT_NE(error_of([&] { run_forward(*d2, bad); }).find("Dense"), std::string::npos);
}

// The seed chain: reshape -> conv -> pool -> flatten -> dense.
struct Chain {
  std::vector<LayerPtr> layers;
  explicit Chain(uint64_t seed) {
    layers::Conv2DOptions co;
    co.activation = Activation::kRelu;
    layers = {layers::Reshape({28, 28, 1}), layers::Conv2D(12, {3, 3}, co), layers::MaxPooling2D(),
              layers::Flatten(), layers::Dense(10)};
    Rng rng(seed);
    Shape s{28, 28};
    for (auto& l : layers) {
      const Shape ins[1] = {s};
      s = l->build(ins, rng);
    }
  }
  // Forward then backward of L = sum(out * probe); returns outputs and gradients.
  std::pair<Tensor, std::vector<Tensor>> run(const Tensor& x, const Tensor& probe, ThreadPool* pool) {
    std::vector<Tensor> acts(layers.size() + 1);
    acts[0] = x;
    RunContext ctx{true, pool};
    for (size_t i = 0; i < layers.size(); ++i) {
      const Tensor* in[1] = {&acts[i]};
      layers[i]->forward(in, acts[i + 1], ctx);
    }
    Tensor d = probe, dprev;
    // Down to the conv, which needs no input gradient (as in the seed model).
    for (size_t i = layers.size(); i-- > 1;) {
      const Tensor* in[1] = {&acts[i]};
      Tensor* din[1] = {i == 1 ? nullptr : &dprev};
      layers[i]->backward(in, acts[i + 1], d, din, ctx);
      std::swap(d, dprev);
    }
    std::vector<Tensor> grads;
    for (auto& l : layers)
      for (Param* p : l->params()) grads.push_back(p->grad);
    return {acts.back(), grads};
  }
};

TEST(Threads, ForwardExactAndGradientsDeterministic) {
  Rng rng(21);
  const Tensor x = random_tensor({7, 28, 28}, rng, 0.0f, 1.0f);
  const Tensor probe = random_tensor({7, 10}, rng);
  Chain a(5), b(5);
  ThreadPool pool2(2);
  auto [out1, g1] = a.run(x, probe, nullptr);
  auto [out2, g2] = b.run(x, probe, &pool2);
  auto [out3, g3] = b.run(x, probe, &pool2);
  for (int64_t i = 0; i < out1.numel(); ++i) ASSERT_EQ(out1.f32()[i], out2.f32()[i]);
  ASSERT_EQ(g1.size(), 4u);
  for (size_t k = 0; k < g1.size(); ++k) {
    for (int64_t i = 0; i < g1[k].numel(); ++i) {
      ASSERT_EQ(g2[k].f32()[i], g3[k].f32()[i]) << "param " << k << " not reproducible with 2 threads";
      // Chunked partial sums change the summation order, not the value.
      ASSERT_NEAR(g1[k].f32()[i], g2[k].f32()[i], 1e-4f * (1.0f + std::fabs(g1[k].f32()[i])));
    }
  }
}

}  // namespace
