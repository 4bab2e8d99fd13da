// Shared layers (a layer object called on several tensors, issue 12): one
// set of weights, one node per call. Checked against a hand-computed
// forward pass, finite differences, an unshared model with tied copies of
// the weights (whose gradients, summed, must be the shared gradient bit for
// bit), and the layer run call by call on its own (batch-norm statistics).
#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <functional>

#include "model_test_util.h"
#include "qlite/train.h"
#include "temp_dir.h"

namespace qlite {
namespace {

namespace fs = std::filesystem;

Tensor random_input(const Shape& per_sample, int64_t n, uint64_t seed) {
  Shape s{n};
  s.insert(s.end(), per_sample.begin(), per_sample.end());
  Tensor t(s);
  Rng rng(seed);
  for (float& v : t.span_f32()) v = rng.uniform(-1.0f, 1.0f);
  return t;
}

Tensor labels(std::initializer_list<int32_t> v) {
  Tensor y({static_cast<int64_t>(v.size())}, DType::kInt32);
  int64_t i = 0;
  for (int32_t c : v) y.data<int32_t>()[i++] = c;
  return y;
}

Param& param(Layer& l, const std::string& name) {
  for (Param* p : l.params())
    if (p->name == name) return *p;
  throw Error("no param " + name);
}

void set(Param& p, std::initializer_list<float> v) {
  ASSERT_EQ(p.value.numel(), static_cast<int64_t>(v.size()));
  std::copy(v.begin(), v.end(), p.value.f32());
}

// y = d(d(x)) + d(x) with one Dense d, by hand.
TEST(SharedLayers, ForwardByHand) {
  auto in = layers::Input({2}, "in");
  auto d = layers::Dense(2, {.name = "d"});
  auto a = d(in);
  auto b = d(a);
  Model m(in, layers::Add("sum")({a, b}), "shared");
  m.build(0);
  ASSERT_EQ(m.num_layers(), 4u);  // in, d (call 0), d (call 1), sum
  EXPECT_EQ(&m.layer(1), &m.layer(2));
  EXPECT_EQ(m.nodes()[1].call, 0);
  EXPECT_EQ(m.nodes()[2].call, 1);
  EXPECT_EQ(m.num_calls(1), 2);
  EXPECT_EQ(m.unique_layers().size(), 3u);
  EXPECT_EQ(m.count_params(), 6);            // kernel 2x2 + bias 2, once
  EXPECT_EQ(m.trainable_params().size(), 2u);
  set(param(*d, "kernel"), {1, 2, 3, 4});    // [in, out]
  set(param(*d, "bias"), {0.5f, -1.0f});
  Tensor x({1, 2});
  x.f32()[0] = 1, x.f32()[1] = -1;
  // a = [1 - 3, 2 - 4] + b = [-1.5, -3]; d(a) = [-1.5 - 9, -3 - 12] + b = [-10, -16].
  const Tensor y = m.predict(x);
  EXPECT_EQ(y.f32()[0], -11.5f);
  EXPECT_EQ(y.f32()[1], -19.0f);
}

// A shared Conv2D and a shared Dense, both with tanh (the pre-activation
// each call keeps for its backward is per call), into a classifier.
struct Built {
  std::unique_ptr<Model> model;
  LayerPtr conv, dense, head;
};

Built shared_model() {
  auto in = layers::Input({5, 5, 2}, "in");
  auto c = layers::Conv2D(2, {3, 3}, {.padding = Padding::kSame, .activation = Activation::kTanh, .name = "c"});
  auto x1 = c(in);
  auto x2 = c(x1);
  auto g = layers::GlobalAveragePooling2D(false, "gap")(layers::Add("s1")({x1, x2}));
  auto d = layers::Dense(2, {.activation = Activation::kTanh, .name = "d"});
  auto h1 = d(g);
  auto h2 = d(h1);
  auto head = layers::Dense(3, {.name = "head"});
  auto out = head(layers::Add("s2")({h1, h2}));
  Built b{std::make_unique<Model>(in, out, "tied"), c, d, head};
  b.model->build(7);
  for (Layer* l : b.model->unique_layers())  // biases start at zero; make them matter
    for (Param* p : l->params())
      if (p->name == "bias") {
        Rng rng(31);
        for (float& v : p->value.span_f32()) v = rng.uniform(-0.3f, 0.3f);
      }
  return b;
}

// The same graph with a separate copy of c and d for each call.
Built tied_copies(const Built& s) {
  auto in = layers::Input({5, 5, 2}, "in");
  LayerPtr ca(s.conv->clone()), cb(s.conv->clone()), da(s.dense->clone()), db(s.dense->clone());
  ca->set_name("c");
  cb->set_name("c_copy");
  da->set_name("d");
  db->set_name("d_copy");
  auto x1 = ca(in);
  auto x2 = cb(x1);
  auto g = layers::GlobalAveragePooling2D(false, "gap")(layers::Add("s1")({x1, x2}));
  auto h1 = da(g);
  auto h2 = db(h1);
  LayerPtr head(s.head->clone());
  auto out = head(layers::Add("s2")({h1, h2}));
  Built b{std::make_unique<Model>(in, out, "tied"), ca, da, head};
  b.model->build(7);  // the copies keep their weights
  return b;
}

TEST(SharedLayers, GradientIsTheSumOverCallsOfTiedCopies) {
  Built s = shared_model();
  Built t = tied_copies(s);
  const Tensor x = random_input({5, 5, 2}, 4, 3);
  const Tensor y = labels({0, 2, 1, 2});
  // lr 0: the step leaves the weights, the gradients stay in Param::grad.
  s.model->compile(SGD({.learning_rate = 0.0f}), {.from_logits = true});
  t.model->compile(SGD({.learning_rate = 0.0f}), {.from_logits = true});
  const auto [ls, cs] = s.model->train_step(x, y);
  const auto [lt, ct] = t.model->train_step(x, y);
  EXPECT_EQ(ls, lt);
  EXPECT_EQ(s.model->trainable_params().size(), 6u);  // c, d, head: kernel and bias each, once
  EXPECT_EQ(t.model->trainable_params().size(), 10u);
  for (const char* name : {"c", "d"}) {
    Layer& shared = *s.model->find_layer(name);
    Layer& first = *t.model->find_layer(name);
    Layer& second = *t.model->find_layer(std::string(name) + "_copy");
    for (const char* p : {"kernel", "bias"}) {
      const Tensor& g = param(shared, p).grad;
      const Tensor& g1 = param(first, p).grad;
      const Tensor& g2 = param(second, p).grad;
      ASSERT_EQ(g.shape(), g1.shape());
      for (int64_t i = 0; i < g.numel(); ++i)
        ASSERT_EQ(g.f32()[i], g1.f32()[i] + g2.f32()[i]) << name << "/" << p << " " << i;
    }
  }
}

TEST(SharedLayers, GradientMatchesFiniteDifferences) {
  Built s = shared_model();
  Model& m = *s.model;
  const Tensor x = random_input({5, 5, 2}, 3, 5);
  const Tensor y = labels({1, 0, 2});
  m.compile(SGD({.learning_rate = 0.0f}), {.from_logits = true});
  m.train_step(x, y);
  auto loss = [&] { return m.evaluate(x, y, 8).loss; };
  int checked = 0;
  for (const char* name : {"c", "d"})
    for (const char* p : {"kernel", "bias"}) {
      Param& w = param(*m.find_layer(name), p);
      const Tensor g = w.grad;
      for (int64_t i = 0; i < w.value.numel(); i += 2) {
        const float keep = w.value.f32()[i];
        const float h = 1e-2f;
        w.value.f32()[i] = keep + h;
        const double up = loss();
        w.value.f32()[i] = keep - h;
        const double down = loss();
        w.value.f32()[i] = keep;
        const double fd = (up - down) / (2.0 * h);
        EXPECT_NEAR(g.f32()[i], fd, 2e-3 + 2e-2 * std::fabs(fd)) << name << "/" << p << " " << i;
        ++checked;
      }
    }
  EXPECT_GE(checked, 20);
}

// Keras: each call of a shared BatchNormalization updates the moving
// averages in turn. The oracle runs a copy of the layer on each call's input
// one after the other.
TEST(SharedLayers, BatchNormMovingStatisticsUpdateOncePerCall) {
  auto in = layers::Input({3}, "in");
  auto bn = layers::BatchNormalization({.momentum = 0.5f, .name = "bn"});
  auto dz = layers::Dense(3, {.name = "z"});
  auto a = bn(in);
  auto b = bn(dz(in));
  Model m(in, layers::Dense(2, {.name = "head"})(layers::Add("sum")({a, b})), "bn2");
  m.build(2);
  std::unique_ptr<Layer> alone = bn->clone();
  const Tensor x = random_input({3}, 6, 8);
  // Call 1 reads x, call 2 z(x) with the weights before the step.
  Tensor z;
  const Tensor* xp[1] = {&x};
  ThreadPool pool(1);
  RunContext ctx{true, &pool};
  std::unique_ptr<Layer> zcopy = dz->clone();
  zcopy->forward(xp, z, ctx);
  m.compile(SGD({.learning_rate = 0.1f}), {.from_logits = true});
  m.train_step(x, labels({0, 1, 1, 0, 1, 0}));
  Tensor o1, o2;
  alone->forward(xp, o1, ctx);
  const Tensor* zp[1] = {&z};
  alone->forward(zp, o2, ctx);
  for (const char* p : {"moving_mean", "moving_variance"}) {
    const Tensor& got = param(*bn, p).value;
    const Tensor& want = param(*alone, p).value;
    for (int64_t i = 0; i < got.numel(); ++i) EXPECT_EQ(got.f32()[i], want.f32()[i]) << p << " " << i;
  }
  // And by hand for the mean: 0.5 * (0.5 * 0 + 0.5 * mean(x)) + 0.5 * mean(z).
  for (int64_t c = 0; c < 3; ++c) {
    double mx = 0, mz = 0;
    for (int64_t r = 0; r < 6; ++r) mx += x.f32()[r * 3 + c], mz += z.f32()[r * 3 + c];
    EXPECT_NEAR(param(*bn, "moving_mean").value.f32()[c], 0.25 * mx / 6 + 0.5 * mz / 6, 1e-6) << c;
  }
}

TEST(SharedLayers, MistakesAreErrorsNamingTheLayer) {
  // Calls on different shapes.
  auto in = layers::Input({4}, "in");
  auto d = layers::Dense(4, {.name = "shared"});
  auto a = d(layers::Dense(3, {.name = "narrow"})(in));
  auto b = d(in);
  Model m(in, layers::Add("sum")({a, b}));
  try {
    m.build(0);
    FAIL() << "expected an error";
  } catch (const Error& e) {
    const std::string what = e.what();
    EXPECT_NE(what.find("'shared'"), std::string::npos) << what;
    EXPECT_EQ(what.find('\n'), std::string::npos) << what;
  }
  // Sequential models are chains of distinct layers.
  auto l = layers::Dense(4);
  Sequential seq{layers::Input({4}), l};
  EXPECT_THROW(seq.add(l), Error);
}

TEST(SharedLayers, SummaryListsASharedLayerOnceWithEveryCall) {
  Built s = shared_model();
  const std::string text = s.model->summary();
  size_t rows = 0;
  for (size_t at = text.find("\nd (Dense)"); at != std::string::npos; at = text.find("\nd (Dense)", at + 1)) ++rows;
  EXPECT_EQ(rows, 1u) << text;
  // d reads gap (call 0) and its own output (call 0, from call 1).
  const size_t row = text.find("\nd (Dense)");
  const std::string line = text.substr(row + 1, text.find('\n', row + 1) - row - 1);
  EXPECT_NE(line.find("gap, d"), std::string::npos) << line;
  // s2 reads d's two calls.
  EXPECT_NE(text.find("d, d[1]"), std::string::npos) << text;
  // Params once: conv 3*3*2*2 + 2, dense 2*2 + 2, head 2*3 + 3.
  EXPECT_EQ(s.model->count_params(), 38 + 6 + 9);
  EXPECT_NE(text.find("Total params: 53\n"), std::string::npos) << text;
}

TEST(SharedLayers, CloneKeepsTheSharing) {
  Built s = shared_model();
  std::unique_ptr<Model> c = clone_model(*s.model);
  ASSERT_EQ(c->num_layers(), s.model->num_layers());
  for (size_t i = 0; i < c->num_layers(); ++i) {
    EXPECT_EQ(c->nodes()[i].call, s.model->nodes()[i].call) << i;
    EXPECT_EQ(c->num_calls(i), s.model->num_calls(i)) << i;
  }
  EXPECT_EQ(c->count_params(), s.model->count_params());
  const Tensor x = random_input({5, 5, 2}, 3, 1);
  const Tensor p = s.model->predict(x), q = c->predict(x);
  for (int64_t i = 0; i < p.numel(); ++i) EXPECT_EQ(p.f32()[i], q.f32()[i]) << i;
}

class SharedSaveLoad : public ::testing::Test {
 protected:
  testing::TempDir tmp_;
  std::string dir() const { return (tmp_.path / "m").string(); }
  // v written as the saved model.json: loading must fail with one line
  // holding every word.
  void expect_load_error(const json& v, const std::vector<std::string>& words) {
    std::ofstream(fs::path(dir()) / "model.json") << v.dump();
    try {
      load_model(dir());
      ADD_FAILURE() << "expected an error for " << v["config"].dump();
    } catch (const Error& e) {
      const std::string what = e.what();
      EXPECT_EQ(what.find('\n'), std::string::npos) << what;
      for (const std::string& w : words) EXPECT_NE(what.find(w), std::string::npos) << what;
    }
  }
};

TEST_F(SharedSaveLoad, RoundTripIsBitIdenticalAndWritesTheLayerOnce) {
  Built s = shared_model();
  const Tensor x = random_input({5, 5, 2}, 8, 2);
  s.model->compile(Adam({.learning_rate = 0.01f}), {.from_logits = true});
  s.model->train_step(x, labels({0, 1, 2, 0, 1, 2, 0, 1}));
  save_model(*s.model, dir());
  std::unique_ptr<Model> back = load_model(dir());
  ASSERT_EQ(back->num_layers(), s.model->num_layers());
  for (size_t i = 0; i < back->num_layers(); ++i) {
    EXPECT_EQ(back->layer(i).name(), s.model->layer(i).name()) << i;
    EXPECT_EQ(back->nodes()[i].inputs, s.model->nodes()[i].inputs) << i;
    EXPECT_EQ(back->nodes()[i].call, s.model->nodes()[i].call) << i;
  }
  const Tensor p = s.model->predict(x), q = back->predict(x);
  for (int64_t i = 0; i < p.numel(); ++i) EXPECT_EQ(p.f32()[i], q.f32()[i]) << i;
  // Training on continues identically (optimizer slots stored once per weight).
  const Tensor y = labels({2, 2, 1, 0, 1, 0, 0, 1});
  s.model->train_step(x, y);
  back->train_step(x, y);
  EXPECT_EQ(testing::all_weights(*s.model), testing::all_weights(*back));

  std::ifstream f(fs::path(dir()) / "model.json");
  const json j = json::parse(f);
  const json& ls = j["config"]["layers"];
  ASSERT_EQ(ls.size(), 7u);  // in, c, s1, gap, d, s2, head: nothing twice
  int seen_d = 0;
  for (const json& l : ls) {
    if (l["name"] == "c") {
      ASSERT_EQ(l["inbound_nodes"].size(), 2u);
      EXPECT_EQ(l["inbound_nodes"][0], json::parse(R"([["in", 0, 0, {}]])"));
      EXPECT_EQ(l["inbound_nodes"][1], json::parse(R"([["c", 0, 0, {}]])"));
    }
    if (l["name"] == "s2") {
      EXPECT_EQ(l["inbound_nodes"][0], json::parse(R"([["d", 0, 0, {}], ["d", 1, 0, {}]])"));
    }
    seen_d += l["name"] == "d";
  }
  EXPECT_EQ(seen_d, 1);
}

TEST_F(SharedSaveLoad, ALaterCallMayReadALayerListedAfterIt) {
  // d, relu, d: d's second call reads relu, which the file lists after d.
  auto in = layers::Input({3}, "in");
  auto d = layers::Dense(3, {.name = "d"});
  auto a = d(in);
  auto b = d(layers::ReLU(std::nullopt, "r")(a));
  Model m(in, layers::Add("sum")({a, b}), "late");
  m.build(4);
  save_model(m, dir());
  std::unique_ptr<Model> back = load_model(dir());
  ASSERT_EQ(back->num_layers(), 5u);
  EXPECT_EQ(back->nodes()[3].call, 1);
  const Tensor x = random_input({3}, 5, 6);
  const Tensor p = m.predict(x), q = back->predict(x);
  for (int64_t i = 0; i < p.numel(); ++i) EXPECT_EQ(p.f32()[i], q.f32()[i]) << i;
}

TEST_F(SharedSaveLoad, HostileInboundNodesAreOneLineErrors) {
  auto in = layers::Input({3}, "in");
  auto d = layers::Dense(3, {.name = "d"});
  auto a = d(in);
  auto b = d(layers::ReLU(std::nullopt, "r")(a));
  Model m(in, layers::Add("sum")({a, b}), "late");
  m.build(4);
  save_model(m, dir());
  const fs::path jp = fs::path(dir()) / "model.json";
  std::ifstream f(jp);
  json good = json::parse(f);
  f.close();
  // The calls alone, as Keras writes them (qlite_node_order has its own test).
  good["config"].erase("qlite_node_order");
  // layers: 0 in, 1 d (calls: [in], [r]), 2 r ([d 0]), 3 sum ([d 0], [d 1])
  auto expect_error = [&](const std::function<void(json&)>& edit, const std::vector<std::string>& words) {
    json v = good;
    edit(v);
    expect_load_error(v, words);
  };
  auto& L = good["config"]["layers"];
  ASSERT_EQ(L[1]["name"], "d");
  ASSERT_EQ(L[3]["name"], "sum");
  // node_index past the calls, negative, not an integer; an InputLayer node 1.
  expect_error([](json& v) { v["config"]["layers"][3]["inbound_nodes"][0][1][1] = 2; }, {"model.json", "'d'", "node 2"});
  expect_error([](json& v) { v["config"]["layers"][3]["inbound_nodes"][0][1][1] = -1; }, {"model.json", "node_index"});
  expect_error([](json& v) { v["config"]["layers"][3]["inbound_nodes"][0][1][1] = "one"; }, {"model.json", "node_index"});
  expect_error([](json& v) { v["config"]["layers"][2]["inbound_nodes"][0][0][1] = 1; },
               {"model.json", "'r'", "cycle"});  // r reads d's call 1, which reads r
  expect_error([](json& v) { v["config"]["layers"][1]["inbound_nodes"][1][0] = json::parse(R"(["d", 1, 0, {}])"); },
               {"model.json", "'d'", "cycle"});  // d's call 1 reads itself
  expect_error([](json& v) { v["config"]["layers"][1]["inbound_nodes"][0][0][1] = 1; }, {"model.json", "'in'", "node 1"});
  expect_error([](json& v) { v["config"]["layers"][1]["inbound_nodes"][1] = json::array(); }, {"model.json", "inbound"});
}

// d's second call reads d's first, so it is ready before r, which the model
// added first: in, d, r, d[1], sum. Calls alone would load as in, d, d[1],
// r, sum; qlite_node_order keeps the model's order, and with it the order in
// which d's gradient sums its calls, so training goes on bit for bit.
TEST_F(SharedSaveLoad, InterleavedCallsKeepTheirNodeOrder) {
  auto in = layers::Input({4}, "in");
  auto d = layers::Dense(4, {.name = "d"});
  auto a = d(in);
  auto r = layers::ReLU(std::nullopt, "r")(a);
  Model m(in, layers::Dense(3, {.name = "head"})(layers::Add("sum")({r, d(a)})), "interleaved");
  m.build(4);
  m.compile(Adam({.learning_rate = 0.01f}), {.from_logits = true});
  const Tensor x = random_input({4}, 6, 11);
  m.train_step(x, labels({0, 1, 2, 0, 1, 2}));
  const std::vector<std::string> want = {"in", "d", "r", "d", "sum", "head"};
  ASSERT_EQ(m.num_layers(), want.size());
  for (size_t i = 0; i < want.size(); ++i) ASSERT_EQ(m.layer(i).name(), want[i]) << i;
  save_model(m, dir());
  std::unique_ptr<Model> back = load_model(dir());
  ASSERT_EQ(back->num_layers(), m.num_layers());
  for (size_t i = 0; i < m.num_layers(); ++i) {
    EXPECT_EQ(back->layer(i).name(), m.layer(i).name()) << i;
    EXPECT_EQ(back->nodes()[i].call, m.nodes()[i].call) << i;
    EXPECT_EQ(back->nodes()[i].inputs, m.nodes()[i].inputs) << i;
  }
  const Tensor y = labels({2, 1, 0, 2, 1, 0});
  for (int step = 0; step < 3; ++step) {
    m.train_step(x, y);
    back->train_step(x, y);
  }
  EXPECT_EQ(testing::all_weights(m), testing::all_weights(*back));

  // Without the key (a Keras file, or an older qlite's), the calls load in
  // the order they become ready, and the model still computes the same.
  const fs::path jp = fs::path(dir()) / "model.json";
  json j;
  {
    std::ifstream f(jp);
    j = json::parse(f);
  }
  ASSERT_TRUE(j["config"].contains("qlite_node_order"));
  EXPECT_EQ(j["config"]["qlite_node_order"][3], json::parse(R"(["d", 1])"));
  json plain = j;
  plain["config"].erase("qlite_node_order");
  std::ofstream(jp) << plain.dump();
  std::unique_ptr<Model> keras_order = load_model(dir());
  EXPECT_EQ(keras_order->layer(2).name(), "d");
  EXPECT_EQ(keras_order->layer(3).name(), "r");

  // A hostile order is a one-line error naming the key.
  auto expect_error = [&](const std::function<void(json&)>& edit, const std::string& word) {
    json v = j;
    edit(v["config"]["qlite_node_order"]);
    expect_load_error(v, {"qlite_node_order", word});
  };
  expect_error([](json& o) { o.erase(o.size() - 1); }, "6 nodes");
  expect_error([](json& o) { o = "in"; }, "6 nodes");
  expect_error([](json& o) { o[2] = json::parse(R"(["r"])"); }, "entry 2");
  expect_error([](json& o) { o[2] = json::parse(R"(["nope", 0])"); }, "'nope'");
  expect_error([](json& o) { o[2] = json::parse(R"(["r", 1])"); }, "next node is 0");
  expect_error([](json& o) { o[4] = json::parse(R"(["d", 2])"); }, "more nodes of 'd'");
  expect_error([](json& o) { std::swap(o[2], o[4]); }, "before a node it reads");  // sum before r
  expect_error([](json& o) { std::swap(o[0], o[1]); }, "before a node it reads");  // d before in
}

}  // namespace
}  // namespace qlite
