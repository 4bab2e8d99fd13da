// The graph: naming, validation, seeding, gradients through a DAG (checked
// against finite differences), skipped gradient work, cloning.
#include <gtest/gtest.h>

#include "model_test_util.h"

namespace qlite {
namespace {

using testing::AddTest;
using testing::all_weights;
using testing::Probe;
using testing::separable_data;

TEST(Graph, KerasStyleUniqueNames) {
  Sequential m;
  m.add(layers::Input({4}));
  m.add(layers::Dense(8));
  m.add(layers::Dense(8));
  m.add(layers::Dense(3, {.name = "head"}));
  EXPECT_EQ(m.layer(0).name(), "input_layer");
  EXPECT_EQ(m.layer(1).name(), "dense");
  EXPECT_EQ(m.layer(2).name(), "dense_1");
  EXPECT_EQ(m.layer(3).name(), "head");
  EXPECT_EQ(m.find_layer("dense_1"), &m.layer(2));
  EXPECT_EQ(m.find_layer("nope"), nullptr);
  EXPECT_THROW(m.add(layers::Dense(3, {.name = "dense"})), Error);  // a given name that collides
  EXPECT_EQ(m.num_layers(), 4u);
}

TEST(Graph, StructuralErrors) {
  Sequential m;
  EXPECT_THROW(m.add(layers::Dense(3)), Error);  // first layer must be an InputLayer
  m.add(layers::Input({4}));
  EXPECT_THROW(m.add(layers::Input({4})), Error);
  auto d = layers::Dense(3);
  m.add(d);
  EXPECT_THROW(m.add(d), Error);  // the same layer twice
  EXPECT_THROW(m.add_node(layers::Dense(2), {0}), Error);  // Sequential is a chain
  EXPECT_THROW(m.add_node(layers::Dense(2), {5}), Error);  // not an earlier node
  EXPECT_THROW(m.add(nullptr), Error);

  Model f("f");
  f.add_node(layers::Input({4}));
  f.add_node(layers::Dense(3));
  EXPECT_THROW(f.add_node(std::make_shared<AddTest>(), {1}), Error);  // needs two inputs
  f.add_node(layers::Dense(3), {0});
  EXPECT_THROW(f.build(), Error);  // node 1 feeds nothing: the model would have two outputs
  f.add_node(std::make_shared<AddTest>(), {1, 2});
  EXPECT_NO_THROW(f.build());
}

TEST(Graph, LayerInitDependsOnSeedAndIndexOnly) {
  auto short_model = testing::dense_model(4, 5, 3);
  Sequential longer;
  longer.add(layers::Input({4}));
  longer.add(layers::Dense(5));
  longer.add(layers::Dense(2));
  longer.build(3);
  EXPECT_TRUE(testing::same_bits(short_model->layer(1).params()[0]->value, longer.layer(1).params()[0]->value));
  EXPECT_NE(all_weights(*testing::dense_model(4, 5, 3)), all_weights(*testing::dense_model(4, 5, 4)));
  EXPECT_EQ(all_weights(*make_seed_model(10, 1)), all_weights(*make_seed_model(10, 1)));
  EXPECT_NE(all_weights(*make_seed_model(10, 1)), all_weights(*make_seed_model(10, 2)));
}

// Input -> d1 -> {d2, d3} -> add -> out: d1 feeds two layers, so its output
// gradient is the sum of two contributions. `twice` instead feeds d1 to both
// inputs of one add.
std::unique_ptr<Model> diamond(bool twice) {
  auto m = std::make_unique<Model>("diamond");
  m->add_node(layers::Input({3}));
  const int d1 = m->add_node(layers::Dense(4));  // linear: no kinks to trip the differences
  int a = d1, b = d1;
  if (!twice) {
    a = m->add_node(layers::Dense(4), {d1});
    b = m->add_node(layers::Dense(4), {d1});
  }
  m->add_node(std::make_shared<AddTest>(), {a, b});
  m->add_node(layers::Dense(3));
  m->build(7);
  return m;
}

void check_gradients_against_finite_differences(Model& m, const testing::Data& data) {
  m.compile(SGD({0.0f}), {true});  // lr 0: train_step leaves gradients, not updates
  m.train_step(data.x, data.y);
  for (Param* p : m.trainable_params()) {
    const Tensor grad = p->grad;
    for (int64_t i = 0; i < p->value.numel(); ++i) {
      float& w = p->value.f32()[i];
      const float w0 = w, h = 1e-2f;
      w = w0 + h;
      const double up = m.evaluate(data.x, data.y).loss;
      w = w0 - h;
      const double down = m.evaluate(data.x, data.y).loss;
      w = w0;
      const double fd = (up - down) / (2.0 * h);
      EXPECT_NEAR(grad.f32()[i], fd, 2e-3 + 2e-2 * std::abs(fd)) << p->name << "[" << i << "]";
    }
  }
}

TEST(Graph, GradientsSumWhereANodeFeedsSeveralLayers) {
  auto data = separable_data(16, 3, 3, 4);
  check_gradients_against_finite_differences(*diamond(false), data);
}

TEST(Graph, GradientsSumWhenOneNodeFillsBothInputs) {
  auto data = separable_data(16, 3, 3, 4);
  check_gradients_against_finite_differences(*diamond(true), data);
}

TEST(Graph, NoGradientWorkBeforeTheFirstTrainableLayer) {
  auto data = separable_data(8, 3, 2, 1);
  auto before = std::make_shared<Probe>(), after = std::make_shared<Probe>();
  Sequential m;
  m.add(layers::Input({3}));
  m.add(before);
  m.add(layers::Dense(3));
  m.add(after);
  m.add(layers::Dense(2));
  m.compile(Adam(), {true});
  FitOptions o;
  o.batch_size = 4;
  m.fit(data.x, data.y, o);
  EXPECT_EQ(before->backward_calls, 0);
  EXPECT_EQ(after->backward_calls, 2);
  EXPECT_FALSE(after->din_was_null);

  // A trainable layer directly after the input gets no input gradient to compute.
  auto probe_first = std::make_shared<Probe>();
  Sequential m2;
  m2.add(layers::Input({3}));
  m2.add(layers::Dense(3));
  m2.add(probe_first);
  m2.add(layers::Dense(2));
  m2.compile(Adam(), {true});
  m2.fit(data.x, data.y, o);
  EXPECT_EQ(probe_first->backward_calls, 2);
}

TEST(Graph, CloneIsADeepCopyAndCloneFunctionCanReplace) {
  auto m = make_seed_model(10, 3);
  auto c = m->clone();
  EXPECT_EQ(c->class_name(), "Sequential");
  EXPECT_EQ(c->to_json(), m->to_json());
  EXPECT_EQ(all_weights(*c), all_weights(*m));
  c->layer(5).params()[0]->value.f32()[0] += 1.0f;  // independent storage
  EXPECT_NE(all_weights(*c), all_weights(*m));
  EXPECT_FALSE(c->compiled());

  int calls = 0;
  auto r = clone_model(*m, [&](const Layer& l) -> LayerPtr {
    ++calls;
    if (l.type() == "Dense") return layers::Dense(10, {.name = "replaced"});
    return LayerPtr(l.clone());
  });
  EXPECT_EQ(calls, 6);
  EXPECT_EQ(r->layer(5).name(), "replaced");
  EXPECT_TRUE(r->is_built());
  EXPECT_EQ(r->layer(2).params()[0]->value.f32()[0], m->layer(2).params()[0]->value.f32()[0]);
}

}  // namespace
}  // namespace qlite

namespace qlite {
namespace {

TEST(Graph, FrozenLayersKeepTheirWeights) {
  auto data = testing::separable_data(64, 3, 2, 1);
  Sequential m;
  m.add(layers::Input({3}));
  m.add(layers::Dense(4));
  m.add(layers::Dense(2));
  m.build(1);
  for (Param* p : m.layer(1).params()) p->trainable = false;
  const std::vector<float> w0 = testing::all_weights(m);
  m.compile(Adam({0.1f}), {true});
  EXPECT_EQ(m.trainable_params().size(), 2u);
  FitOptions o;
  o.epochs = 2;
  m.fit(data.x, data.y, o);
  const std::vector<float> w1 = testing::all_weights(m);
  const size_t frozen = 3 * 4 + 4;
  EXPECT_TRUE(std::equal(w0.begin(), w0.begin() + frozen, w1.begin()));
  EXPECT_FALSE(std::equal(w0.begin() + frozen, w0.end(), w1.begin() + frozen));
  EXPECT_EQ(m.count_params(), static_cast<int64_t>(w0.size()));
  EXPECT_NE(m.summary().find("Non-trainable params: 16"), std::string::npos) << m.summary();
}

}  // namespace
}  // namespace qlite
