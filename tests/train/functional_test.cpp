// The functional front end: layers called on symbolic tensors, Model(inputs,
// outputs). The graph it records is the one add_node builds by hand: same
// nodes in a valid order, same weights for a seed, same outputs.
#include <gtest/gtest.h>

#include "qlite/train.h"

namespace qlite {
namespace {

Tensor random_input(const Shape& per_sample, int64_t n, uint64_t seed) {
  Shape s{n};
  s.insert(s.end(), per_sample.begin(), per_sample.end());
  Tensor t(s);
  Rng rng(seed);
  for (float& v : t.span_f32()) v = rng.uniform(-1.0f, 1.0f);
  return t;
}

// A residual block written both ways.
std::unique_ptr<Model> by_calls() {
  auto in = layers::Input({6, 6, 2}, "in");
  auto x = layers::Conv2D(4, {3, 3}, {.padding = Padding::kSame, .name = "c1"})(in);
  auto y = layers::BatchNormalization({.name = "bn"})(x);
  y = layers::ReLU(6.0f, "relu")(y);
  y = layers::Conv2D(4, {1, 1}, {.name = "c2"})(y);
  auto s = layers::Add("add")({x, y});
  auto out = layers::Dense(3, {.name = "d"})(layers::GlobalAveragePooling2D(false, "gap")(s));
  return std::make_unique<Model>(in, out, "f");
}

std::unique_ptr<Model> by_nodes() {
  auto m = std::make_unique<Model>("f");
  const int in = m->add_node(layers::Input({6, 6, 2}, "in"));
  const int x = m->add_node(layers::Conv2D(4, {3, 3}, {.padding = Padding::kSame, .name = "c1"}), {in});
  const int bn = m->add_node(layers::BatchNormalization({.name = "bn"}), {x});
  const int r = m->add_node(layers::ReLU(6.0f, "relu"), {bn});
  const int y = m->add_node(layers::Conv2D(4, {1, 1}, {.name = "c2"}), {r});
  const int s = m->add_node(layers::Add("add"), {x, y});
  const int g = m->add_node(layers::GlobalAveragePooling2D(false, "gap"), {s});
  m->add_node(layers::Dense(3, {.name = "d"}), {g});
  return m;
}

TEST(Functional, CallsRecordTheSameGraphAsAddNode) {
  auto a = by_calls(), b = by_nodes();
  ASSERT_EQ(a->num_layers(), b->num_layers());
  for (size_t i = 0; i < a->num_layers(); ++i) {
    EXPECT_EQ(a->layer(i).name(), b->layer(i).name()) << i;
    std::vector<std::string> ia, ib;
    for (int k : a->nodes()[i].inputs) ia.push_back(a->layer(static_cast<size_t>(k)).name());
    for (int k : b->nodes()[i].inputs) ib.push_back(b->layer(static_cast<size_t>(k)).name());
    EXPECT_EQ(ia, ib) << a->layer(i).name();
  }
  a->build(3);
  b->build(3);
  const Tensor x = random_input({6, 6, 2}, 4, 9);
  const Tensor pa = a->predict(x), pb = b->predict(x);
  ASSERT_EQ(pa.shape(), (Shape{4, 3}));
  for (int64_t i = 0; i < pa.numel(); ++i) EXPECT_EQ(pa.f32()[i], pb.f32()[i]) << i;
  EXPECT_EQ(a->to_json(), b->to_json());
}

TEST(Functional, EveryLayerComesAfterWhatItReads) {
  // A diamond whose branches are given out of order: the model still lists
  // each layer after both of its inputs.
  auto in = layers::Input({4});
  auto late = layers::Dense(4, {.name = "late"});
  auto early = layers::Dense(4, {.name = "early"});
  auto a = early(in);
  auto b = late(a);
  auto out = layers::Add("sum")({b, a});
  Model m(in, out);
  std::map<std::string, size_t> at;
  for (size_t i = 0; i < m.num_layers(); ++i) at[m.layer(i).name()] = i;
  EXPECT_LT(at.at("early"), at.at("late"));
  EXPECT_LT(at.at("late"), at.at("sum"));
  EXPECT_EQ(m.layer(m.num_layers() - 1).name(), "sum");
  m.build(1);
  EXPECT_EQ(m.output_shape(), (Shape{4}));
}

TEST(Functional, MistakesAreErrorsNamingTheLayer) {
  auto in = layers::Input({4}, "in");
  auto other = layers::Input({4}, "other");
  // A tensor that does not come from the model's input.
  auto stray = layers::Add("stray")({layers::Dense(4)(in), layers::Dense(4)(other)});
  try {
    Model m(in, stray);
    FAIL() << "expected an error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("'other'"), std::string::npos) << e.what();
  }
  // A layer called twice is shared (tests/train/shared_layer_test.cpp), not a mistake.
  auto shared = layers::Dense(4, {.name = "shared"});
  Model twice(in, layers::Add("twice")({shared(in), shared(in)}));
  EXPECT_EQ(twice.num_calls(1), 2);
  // Wrong number of inputs, and calling an InputLayer.
  EXPECT_THROW(layers::Add()(in), Error);
  const LayerPtr input_layer = in;
  EXPECT_THROW(input_layer(in), Error);
  // Sequential still takes layers::Input as its first layer.
  Sequential seq{layers::Input({4}), layers::Dense(2)};
  seq.build(0);
  EXPECT_EQ(seq.output_shape(), (Shape{2}));
}

}  // namespace
}  // namespace qlite
