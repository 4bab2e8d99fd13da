// Helpers shared by the model tests: synthetic data, small models, test-only layers.
#pragma once

#include <cstring>
#include <memory>
#include <vector>

#include "qlite/train/model.h"

namespace qlite::testing {

struct Data {
  Tensor x, y;
};

// Labels are the arg-max of a fixed random linear map, so a Dense layer can
// separate the classes exactly.
inline Data separable_data(int64_t n, int features, int classes, uint64_t seed) {
  Rng rng(seed);
  std::vector<float> w(static_cast<size_t>(features) * classes);
  for (float& v : w) v = rng.normal();
  Data d{Tensor({n, features}), Tensor({n}, DType::kInt32)};
  for (int64_t i = 0; i < n; ++i) {
    float* x = d.x.f32() + i * features;
    for (int f = 0; f < features; ++f) x[f] = rng.uniform(-1, 1);
    int best = 0;
    float best_v = -1e30f;
    for (int c = 0; c < classes; ++c) {
      float s = 0;
      for (int f = 0; f < features; ++f) s += x[f] * w[f * classes + c];
      if (s > best_v) best_v = s, best = c;
    }
    d.y.data<int32_t>()[i] = best;
  }
  return d;
}

inline std::unique_ptr<Sequential> dense_model(int features, int classes, uint64_t seed) {
  auto m = std::make_unique<Sequential>();
  m->add(layers::Input({features}));
  m->add(layers::Dense(classes));
  m->build(seed);
  return m;
}

inline Tensor slice_rows(const Tensor& t, int64_t begin, int64_t end) {
  Shape s = t.shape();
  s[0] = end - begin;
  Tensor out(s, t.dtype());
  const size_t row = t.nbytes() / static_cast<size_t>(t.dim(0));
  std::memcpy(out.raw(), static_cast<const char*>(t.raw()) + begin * row, out.nbytes());
  return out;
}

// All weights of a model, in order, for bit-exact comparisons.
inline std::vector<float> all_weights(Model& m) {
  std::vector<float> out;
  for (const Node& n : m.nodes())
    for (Param* p : n.layer->params())
      out.insert(out.end(), p->value.f32(), p->value.f32() + p->value.numel());
  return out;
}

inline bool same_bits(const Tensor& a, const Tensor& b) {
  return a.shape() == b.shape() && a.dtype() == b.dtype() &&
         std::memcmp(a.raw(), b.raw(), a.nbytes()) == 0;
}

// out = a + b, for graph tests (two inputs, gradient passes to both).
class AddTest final : public Layer {
 public:
  explicit AddTest(std::string name = "") : Layer(std::move(name)) {}
  std::string type() const override { return "AddTest"; }
  std::string default_name_stem() const override { return "add_test"; }
  int num_inputs() const override { return 2; }
  Shape build(std::span<const Shape> in, Rng&) override {
    check(in.size() == 2 && in[0] == in[1], "AddTest: needs two equal shapes");
    mark_built(in, in[0]);
    return in[0];
  }
  void forward(std::span<const Tensor* const> in, Tensor& out, const RunContext&) override {
    out.resize(in[0]->shape());
    for (int64_t i = 0; i < out.numel(); ++i) out.f32()[i] = in[0]->f32()[i] + in[1]->f32()[i];
  }
  void backward(std::span<const Tensor* const>, const Tensor&, const Tensor& dout,
                std::span<Tensor* const> din, const RunContext&) override {
    for (Tensor* d : din)
      if (d) *d = dout;
  }
  json get_config() const override { return {{"name", name()}}; }
  std::unique_ptr<Layer> clone() const override { return std::make_unique<AddTest>(*this); }
};

// Identity that records how backward was called.
class Probe final : public Layer {
 public:
  std::string type() const override { return "Probe"; }
  std::string default_name_stem() const override { return "probe"; }
  Shape build(std::span<const Shape> in, Rng&) override {
    mark_built(in, in[0]);
    return in[0];
  }
  void forward(std::span<const Tensor* const> in, Tensor& out, const RunContext&) override { out = *in[0]; }
  void backward(std::span<const Tensor* const>, const Tensor&, const Tensor& dout,
                std::span<Tensor* const> din, const RunContext&) override {
    ++backward_calls;
    din_was_null = din[0] == nullptr;
    if (din[0]) *din[0] = dout;
  }
  json get_config() const override { return {{"name", name()}}; }
  std::unique_ptr<Layer> clone() const override { return std::make_unique<Probe>(*this); }
  int backward_calls = 0;
  bool din_was_null = false;
};

}  // namespace qlite::testing
