// BatchNormalization with the clamp after it fused (forward_clamped /
// backward_clamped, which Model's training step uses for BatchNormalization
// -> ReLU / ReLU(6)): the same bits as the two layers run one after the
// other, output, parameter gradients and input gradient, with and without a
// thread pool; and Model takes the fused path only where nothing else reads
// the batch norm's output.
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <vector>

#include "qlite/train.h"

namespace qlite {
namespace {

bool same_bits(const Tensor& a, const Tensor& b) {
  return a.shape() == b.shape() && std::memcmp(a.f32(), b.f32(), a.numel() * sizeof(float)) == 0;
}

Tensor random_tensor(const Shape& s, Rng& rng, float lo, float hi) {
  Tensor t(s);
  for (float& v : t.span_f32()) v = rng.uniform(lo, hi);
  return t;
}

TEST(ClampFusion, BatchNormThenClampMatchesTheTwoLayersBitForBit) {
  ThreadPool pool(2);
  for (ThreadPool* p : {static_cast<ThreadPool*>(nullptr), &pool}) {
    for (std::optional<float> max_value : {std::optional<float>(6.0f), std::optional<float>()}) {
      for (int64_t c : {1, 5, 16, 37}) {
        Rng rng(static_cast<uint64_t>(c) * 7 + (max_value ? 1 : 0));
        const Shape sample{5, 3, c};
        LayerPtr bn_a = layers::BatchNormalization({.name = "bn"});
        LayerPtr relu = layers::ReLU(max_value);
        const Shape shapes[] = {sample};
        bn_a->build(shapes, rng);
        relu->build(shapes, rng);
        // gamma and beta away from 1 and 0, so the clamp cuts on both sides.
        for (Param* q : bn_a->params()) {
          if (!q->trainable) continue;
          for (float& v : q->value.span_f32()) v = rng.uniform(q->name == "gamma" ? 0.5f : -1.0f, 3.0f);
        }
        std::unique_ptr<Layer> bn_b = bn_a->clone();
        ASSERT_EQ(relu->clamp_upper(), max_value ? *max_value : INFINITY);

        const Tensor x = random_tensor({7, 5, 3, c}, rng, -4.0f, 9.0f);
        const Tensor dy = random_tensor({7, 5, 3, c}, rng, -1.0f, 1.0f);
        const RunContext ctx{true, p};
        const Tensor* in[] = {&x};
        // Two layers.
        Tensor mid, out_a, dmid, dx_a;
        bn_a->forward(in, mid, ctx);
        const Tensor* mid_in[] = {&mid};
        relu->forward(mid_in, out_a, ctx);
        Tensor* dmid_out[] = {&dmid};
        relu->backward(mid_in, out_a, dy, dmid_out, ctx);
        Tensor* dx_a_out[] = {&dx_a};
        bn_a->backward(in, mid, dmid, dx_a_out, ctx);
        // Fused.
        Tensor out_b, dx_b;
        ASSERT_TRUE(bn_b->forward_clamped(in, out_b, ctx, *relu->clamp_upper()));
        Tensor* dx_b_out[] = {&dx_b};
        ASSERT_TRUE(bn_b->backward_clamped(in, out_b, dy, dx_b_out, ctx, *relu->clamp_upper()));

        EXPECT_TRUE(same_bits(out_a, out_b)) << "c=" << c;
        EXPECT_TRUE(same_bits(dx_a, dx_b)) << "c=" << c;
        const auto pa = bn_a->params(), pb = bn_b->params();
        ASSERT_EQ(pa.size(), pb.size());
        for (size_t i = 0; i < pa.size(); ++i) {
          EXPECT_TRUE(same_bits(pa[i]->value, pb[i]->value)) << pa[i]->name << " c=" << c;
          if (pa[i]->trainable) {
            EXPECT_TRUE(same_bits(pa[i]->grad, pb[i]->grad)) << pa[i]->name << " c=" << c;
          }
        }
      }
    }
  }
}

TEST(ClampFusion, OnlyClampsOfferToFuseAndInferenceDoesNot) {
  EXPECT_EQ(layers::ReLU(6.0f)->clamp_upper(), 6.0f);
  EXPECT_FALSE(layers::Dense(3)->clamp_upper().has_value());
  EXPECT_FALSE(layers::BatchNormalization({})->clamp_upper().has_value());
  LayerPtr bn = layers::BatchNormalization({});
  Rng rng(1);
  const Shape shapes[] = {Shape{4}};
  bn->build(shapes, rng);
  Tensor x({2, 4}), out;
  const Tensor* in[] = {&x};
  EXPECT_FALSE(bn->forward_clamped(in, out, RunContext{false, nullptr}, 6.0f));
  LayerPtr dense = layers::Dense(3);
  dense->build(shapes, rng);
  EXPECT_FALSE(dense->forward_clamped(in, out, RunContext{true, nullptr}, 6.0f));
}

// Model fuses BatchNorm -> ReLU6 only when the ReLU is the batch norm's one
// reader. fused: BN -> r1, Add(r1, r1) -> Dense (fuses). plain: BN -> r1 and
// BN -> r2, Add(r1, r2) -> Dense (two readers: nothing fuses). Both compute
// the same function and gradients (r1 and r2 are the same bits, and the
// Add's two equal gradients sum the same way), so training must agree bit
// for bit.
TEST(ClampFusion, ModelTrainingWithAndWithoutFusionAgrees) {
  auto make = [](bool two_readers) {
    auto m = std::make_unique<Model>("m");
    const int in = m->add_node(layers::Input({6}));
    const int bn = m->add_node(layers::BatchNormalization({.name = "bn"}), {in});
    const int r1 = m->add_node(layers::ReLU(6.0f, "r1"), {bn});
    const int r2 = two_readers ? m->add_node(layers::ReLU(6.0f, "r2"), {bn}) : r1;
    const int add = m->add_node(layers::Add("add"), {r1, r2});
    m->add_node(layers::Dense(3, {.name = "dense"}), {add});
    m->build(5);
    m->compile(Adam(), SparseCategoricalCrossentropy{.from_logits = true});
    return m;
  };
  auto fused = make(false), plain = make(true);
  for (const char* name : {"bn", "dense"}) {  // the same starting weights (initialisers are seeded per node)
    const auto pa = fused->find_layer(name)->params(), pb = plain->find_layer(name)->params();
    for (size_t i = 0; i < pa.size(); ++i) pb[i]->value = pa[i]->value;
  }
  Rng rng(3);
  Tensor x = random_tensor({16, 6}, rng, -3.0f, 3.0f);
  Tensor y({16}, DType::kInt32);
  for (int64_t i = 0; i < 16; ++i) y.data<int32_t>()[i] = static_cast<int32_t>(i % 3);
  for (int step = 0; step < 5; ++step) {
    const auto a = fused->train_step(x, y);
    const auto b = plain->train_step(x, y);
    EXPECT_EQ(a.first, b.first) << "step " << step;
  }
  for (const char* name : {"bn", "dense"}) {
    const auto pa = fused->find_layer(name)->params(), pb = plain->find_layer(name)->params();
    for (size_t i = 0; i < pa.size(); ++i) EXPECT_TRUE(same_bits(pa[i]->value, pb[i]->value)) << name;
  }
}

}  // namespace
}  // namespace qlite
