// Helpers shared by the QAT tests.
#pragma once

#include <gtest/gtest.h>

#include <functional>
#include <string>
#include <vector>

#include "qlite/quant.h"
#include "qlite/train.h"

namespace qlite::quant::testing {

inline Param& param(Layer& l, const std::string& name) {
  for (Param* p : l.params())
    if (p->name == name) return *p;
  throw Error("test: layer '" + l.name() + "' has no param '" + name + "'");
}

inline void fill(Tensor& t, const std::vector<float>& v) {
  EXPECT_EQ(t.numel(), static_cast<int64_t>(v.size()));
  for (size_t i = 0; i < v.size(); ++i) t.f32()[i] = v[i];
}

inline Tensor make(const Shape& shape, const std::vector<float>& v) {
  Tensor t(shape);
  fill(t, v);
  return t;
}

inline Tensor random_tensor(const Shape& shape, uint64_t seed, float lo = 0.0f, float hi = 1.0f) {
  Tensor t(shape);
  Rng rng(seed);
  for (int64_t i = 0; i < t.numel(); ++i) t.f32()[i] = rng.uniform(lo, hi);
  return t;
}

inline Tensor labels(std::vector<int32_t> v) {
  Tensor t({static_cast<int64_t>(v.size())}, DType::kInt32);
  for (size_t i = 0; i < v.size(); ++i) t.data<int32_t>()[i] = v[i];
  return t;
}

inline std::string error_of(const std::function<void()>& fn) {
  try {
    fn();
  } catch (const Error& e) {
    return e.what();
  }
  return "";
}

// A small seed-like model on 8x8 images, built.
inline std::unique_ptr<Sequential> small_model(uint64_t seed = 1) {
  auto m = std::make_unique<Sequential>();
  m->add(layers::Input({8, 8}));
  m->add(layers::Reshape({8, 8, 1}));
  layers::Conv2DOptions co;
  co.activation = Activation::kRelu;
  m->add(layers::Conv2D(4, {3, 3}, co));
  m->add(layers::MaxPooling2D({2, 2}));
  m->add(layers::Flatten());
  m->add(layers::Dense(3));
  m->build(seed);
  return m;
}

}  // namespace qlite::quant::testing
