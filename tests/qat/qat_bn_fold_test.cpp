// QAT's batch-norm fold with batch statistics (quant/qat/qat_bn_fold.h,
// QuantizeOptions::freeze_bn_after): with the fake quant removed the folded
// unit computes exactly Conv -> BatchNormalization (training mode while
// unfrozen, inference mode once frozen), its gradients match central
// differences, and through quantize_apply the wrapper trains with batch
// statistics for N steps, then freezes, saves and loads its state, and
// evaluates with the fold of the running statistics.
#include <cmath>
#include <filesystem>

#include "qat_test_util.h"
#include "quant/qat/qat_bn_fold.h"

namespace qlite::quant::testing {
namespace {

using detail::BnFoldUnit;

struct Case {
  const char* what;
  LayerPtr op;  // linear activation, no bias
  Shape input;  // per sample
  Activation act = Activation::kLinear;
};

std::vector<Case> cases() {
  std::vector<Case> c;
  c.push_back({"Conv2D 3x3 same stride 2", layers::Conv2D(4, {3, 3}, {.strides = {2, 2}, .padding = Padding::kSame,
                                                                       .use_bias = false}),
               {5, 5, 3}});
  c.push_back({"DepthwiseConv2D 3x3 multiplier 2",
               layers::DepthwiseConv2D({3, 3}, {.padding = Padding::kSame, .depth_multiplier = 2, .use_bias = false}),
               {4, 4, 3}});
  c.push_back({"Dense", layers::Dense(5, {.use_bias = false}), {6}});
  return c;
}

// A built batch norm with random statistics and affine.
LayerPtr random_bn(const Shape& shape, uint64_t seed) {
  LayerPtr bn = layers::BatchNormalization({.momentum = 0.9f});
  Rng rng(seed);
  const int64_t channels = shape.back();
  const Shape s[] = {shape};
  bn->build(s, rng);
  param(*bn, "gamma").value = random_tensor({channels}, seed + 1, 0.5f, 1.5f);
  param(*bn, "beta").value = random_tensor({channels}, seed + 2, -0.5f, 0.5f);
  param(*bn, "moving_mean").value = random_tensor({channels}, seed + 3, -0.3f, 0.3f);
  param(*bn, "moving_variance").value = random_tensor({channels}, seed + 4, 0.5f, 2.0f);
  return bn;
}

struct Built {
  LayerPtr op, bn;  // the plain composition
  std::unique_ptr<BnFoldUnit> unit;
  Tensor kernel;
};

Built make_unit(const Case& c, uint64_t seed) {
  Built b;
  b.op = LayerPtr(c.op->clone());
  Rng rng(seed);
  Shape in = c.input;
  const Shape shapes[] = {in};
  const Shape out = b.op->build(shapes, rng);
  b.bn = random_bn(out, seed);
  json cfg = b.op->get_config();
  cfg["activation"] = activation_name(c.act);
  cfg["use_bias"] = true;  // the op as the file has it
  b.unit = std::make_unique<BnFoldUnit>(b.op->type(), cfg, LayerPtr(b.bn->clone()));
  b.unit->build(shapes, rng);
  for (Param* p : b.op->params())
    if (p->name != "bias") b.kernel = p->value;
  return b;
}

Tensor batch_of(const Shape& sample, int64_t n, uint64_t seed) {
  Shape s{n};
  s.insert(s.end(), sample.begin(), sample.end());
  return random_tensor(s, seed, -1.0f, 1.0f);
}

Param& bn_param(BnFoldUnit& u, const std::string& name) { return param(*u.batch_norm(), name); }

TEST(QatBnFold, UnfrozenForwardIsConvThenBatchNormInTraining) {
  for (const Case& c : cases()) {
    SCOPED_TRACE(c.what);
    Built b = make_unit(c, 7);
    const Tensor x = batch_of(c.input, 3, 11);
    const Tensor* in[] = {&x};
    const RunContext train{.training = true};
    Tensor z, ref, got;
    b.op->forward(in, z, train);
    const Tensor* zin[] = {&z};
    b.bn->forward(zin, ref, train);  // batch statistics; moving averages updated
    b.unit->forward(b.kernel, in, got, train, /*frozen=*/false, nullptr);
    ASSERT_EQ(got.shape(), ref.shape());
    for (int64_t i = 0; i < ref.numel(); ++i) EXPECT_NEAR(got.f32()[i], ref.f32()[i], 1e-5) << i;
    // The moving averages follow the same batch statistics.
    for (const char* name : {"moving_mean", "moving_variance"}) {
      const Tensor& want = param(*b.bn, name).value;
      const Tensor& have = bn_param(*b.unit, name).value;
      for (int64_t k = 0; k < want.numel(); ++k) EXPECT_NEAR(have.f32()[k], want.f32()[k], 1e-6) << name << k;
    }
  }
}

TEST(QatBnFold, FrozenForwardIsConvThenBatchNormInInferenceAndTheFold) {
  for (const Case& c : cases()) {
    SCOPED_TRACE(c.what);
    Built b = make_unit(c, 17);
    const Tensor x = batch_of(c.input, 2, 19);
    const Tensor* in[] = {&x};
    Tensor z, ref, got;
    b.op->forward(in, z, RunContext{});
    const Tensor* zin[] = {&z};
    b.bn->forward(zin, ref, RunContext{});
    const Tensor mean_before = bn_param(*b.unit, "moving_mean").value;
    b.unit->forward(b.kernel, in, got, RunContext{.training = true}, /*frozen=*/true, nullptr);
    for (int64_t i = 0; i < ref.numel(); ++i) EXPECT_NEAR(got.f32()[i], ref.f32()[i], 1e-5) << i;
    // Frozen: the statistics do not move.
    for (int64_t k = 0; k < mean_before.numel(); ++k)
      EXPECT_EQ(bn_param(*b.unit, "moving_mean").value.f32()[k], mean_before.f32()[k]);
    // folded() is BatchNormalization's inference affine folded into the op.
    Tensor fk;
    std::vector<float> fb;
    b.unit->folded(b.kernel, fk, fb);
    const ChannelAffine a = b.unit->running_affine();
    const int64_t ch = static_cast<int64_t>(a.scale.size());
    for (int64_t i = 0; i < fk.numel(); ++i)
      EXPECT_EQ(fk.f32()[i], b.kernel.f32()[i] * a.scale[static_cast<size_t>(i % ch)]);
    EXPECT_EQ(fb, a.offset);
  }
}

TEST(QatBnFold, ReluSixAppliesAfterTheBatchNorm) {
  const Case c{"Conv2D relu6", layers::Conv2D(3, {1, 1}, {.use_bias = false}), {3, 3, 2}, Activation::kRelu6};
  Built b = make_unit(c, 23);
  param(*b.bn, "gamma").value = make({3}, {4.0f, 5.0f, 6.0f});  // outputs above 6 and below 0
  bn_param(*b.unit, "gamma").value = param(*b.bn, "gamma").value;
  const Tensor x = batch_of(c.input, 4, 29);
  const Tensor* in[] = {&x};
  const RunContext train{.training = true};
  Tensor z, ref, got;
  b.op->forward(in, z, train);
  const Tensor* zin[] = {&z};
  b.bn->forward(zin, ref, train);
  b.unit->forward(b.kernel, in, got, train, false, nullptr);
  int clamped = 0;
  for (int64_t i = 0; i < ref.numel(); ++i) {
    const float want = std::min(std::max(ref.f32()[i], 0.0f), 6.0f);
    clamped += want != ref.f32()[i];
    EXPECT_NEAR(got.f32()[i], want, 1e-5);
  }
  EXPECT_GT(clamped, 0);
}

// Central differences of L = sum(out * r) against backward(): input, kernel,
// gamma, beta; unfrozen and frozen. The running statistics are restored
// before every forward, so each evaluates the same function.
void check_gradients(const Case& c, bool frozen) {
  Built b = make_unit(c, 31);
  const Tensor x0 = batch_of(c.input, 3, 37);
  const Tensor mean0 = bn_param(*b.unit, "moving_mean").value, var0 = bn_param(*b.unit, "moving_variance").value;
  Tensor x = x0, kernel = b.kernel;
  const RunContext train{.training = true};
  Tensor out;
  auto loss = [&](const Tensor& r) {
    bn_param(*b.unit, "moving_mean").value = mean0;
    bn_param(*b.unit, "moving_variance").value = var0;
    const Tensor* in[] = {&x};
    b.unit->forward(kernel, in, out, train, frozen, nullptr);
    double l = 0;
    for (int64_t i = 0; i < out.numel(); ++i) l += static_cast<double>(out.f32()[i]) * r.f32()[i];
    return l;
  };
  {  // one forward for the output shape
    const Tensor* in0[] = {&x};
    b.unit->forward(kernel, in0, out, train, frozen, nullptr);
  }
  const Tensor r = random_tensor(out.shape(), 41, -1.0f, 1.0f);
  loss(r);
  Tensor dx, dk;
  Tensor* din[] = {&dx};
  const Tensor* in[] = {&x};
  b.unit->backward(kernel, in, r, din, dk, train, nullptr);
  const Tensor dgamma = bn_param(*b.unit, "gamma").grad, dbeta = bn_param(*b.unit, "beta").grad;
  const double h = 1e-2;
  auto check = [&](Tensor& v, const Tensor& g, const char* what) {
    for (int64_t i = 0; i < v.numel(); ++i) {
      const float keep = v.f32()[i];
      v.f32()[i] = static_cast<float>(keep + h);
      const double up = loss(r);
      v.f32()[i] = static_cast<float>(keep - h);
      const double down = loss(r);
      v.f32()[i] = keep;
      const double num = (up - down) / (2 * h);
      EXPECT_NEAR(g.f32()[i], num, 2e-3 + 2e-2 * std::abs(num)) << what << " element " << i;
    }
  };
  check(x, dx, "input");
  check(kernel, dk, "kernel");
  check(bn_param(*b.unit, "gamma").value, dgamma, "gamma");
  check(bn_param(*b.unit, "beta").value, dbeta, "beta");
}

TEST(QatBnFold, GradientsMatchFiniteDifferencesUnfrozen) {
  for (const Case& c : cases()) {
    SCOPED_TRACE(c.what);
    check_gradients(c, false);
  }
}

TEST(QatBnFold, GradientsMatchFiniteDifferencesFrozen) {
  for (const Case& c : cases()) {
    SCOPED_TRACE(c.what);
    check_gradients(c, true);
  }
}

// A Conv-BN-ReLU6 / depthwise / Dense-BN model with trained-looking statistics.
std::unique_ptr<Model> bn_model() {
  auto in = layers::Input({6, 6, 2});
  auto x = layers::Conv2D(4, {3, 3}, {.padding = Padding::kSame, .use_bias = true})(in);
  x = layers::BatchNormalization()(x);
  x = layers::ReLU(6.0f)(x);
  x = layers::DepthwiseConv2D({3, 3}, {.use_bias = false})(x);
  x = layers::BatchNormalization()(x);
  x = layers::ReLU(6.0f)(x);
  x = layers::GlobalAveragePooling2D()(x);
  x = layers::Dense(3)(x);
  auto m = std::make_unique<Model>(in, x, "bn_model");
  m->build(1);
  for (size_t i = 0; i < m->num_layers(); ++i)
    if (m->layer(i).type() == "BatchNormalization") {
      const int64_t c = param(m->layer(i), "gamma").value.numel();
      param(m->layer(i), "moving_mean").value = random_tensor({c}, 50 + i, -0.2f, 0.2f);
      param(m->layer(i), "moving_variance").value = random_tensor({c}, 60 + i, 0.5f, 1.5f);
    }
  return m;
}

std::vector<QuantizeWrapper*> bn_wrappers(Model& m) {
  std::vector<QuantizeWrapper*> w;
  for (size_t i = 0; i < m.num_layers(); ++i)
    if (auto* q = dynamic_cast<QuantizeWrapper*>(&m.layer(i)); q && q->batch_norm()) w.push_back(q);
  return w;
}

TEST(QatBnFold, ZeroKeepsTodaysFoldAndNegativeIsRefused) {
  auto m = bn_model();
  auto q0 = quantize_model(*m);
  auto q0b = quantize_model(*m, {.freeze_bn_after = 0});
  EXPECT_TRUE(bn_wrappers(*q0).empty());
  EXPECT_EQ(q0->to_json(), q0b->to_json());
  EXPECT_NE(error_of([&] { quantize_model(*m, {.freeze_bn_after = -1}); }).find("freeze_bn_after must be >= 0"),
            std::string::npos);
}

TEST(QatBnFold, TrainsWithBatchStatisticsThenFreezes) {
  auto m = bn_model();
  auto q = quantize_model(*m, {.freeze_bn_after = 3});
  const auto ws = bn_wrappers(*q);
  ASSERT_EQ(ws.size(), 2u);  // conv and depthwise; the Dense has no batch norm
  // The same ops as with the fold at apply time.
  auto q0 = quantize_model(*m);
  ASSERT_EQ(q->num_layers(), q0->num_layers());
  for (size_t i = 0; i < q->num_layers(); ++i) EXPECT_EQ(q->layer(i).name(), q0->layer(i).name());
  // Before training, both evaluate the same fold of the same statistics; the
  // conv's own bias went into the moving mean, so the numbers agree to rounding.
  const Tensor x = random_tensor({8, 6, 6, 2}, 71, 0.0f, 1.0f);
  const Tensor y = labels({0, 1, 2, 0, 1, 2, 0, 1});
  q->compile(Adam(AdamOptions{.learning_rate = 1e-2f}), SparseCategoricalCrossentropy{true});
  for (int step = 0; step < 5; ++step) {
    const Tensor mean = param(*const_cast<Layer*>(ws[0]->batch_norm()), "moving_mean").value;
    q->train_step(x, y);
    const Tensor& now = param(*const_cast<Layer*>(ws[0]->batch_norm()), "moving_mean").value;
    bool moved = false;
    for (int64_t k = 0; k < now.numel(); ++k) moved = moved || now.f32()[k] != mean.f32()[k];
    EXPECT_EQ(moved, step < 3) << "step " << step;
    EXPECT_EQ(ws[0]->bn_steps(), step + 1);
    EXPECT_EQ(ws[0]->bn_frozen(), step + 1 >= 3);
  }
  // gamma and beta are trained.
  EXPECT_NE(param(*const_cast<Layer*>(ws[1]->batch_norm()), "gamma").value.f32()[0], 1.0f);
  // Inference is the lowered fold: the integer evaluation of lowered().
  const Tensor p = q->predict(x, 4);
  for (int64_t i = 0; i < p.numel(); ++i) EXPECT_TRUE(std::isfinite(p.f32()[i]));
}

TEST(QatBnFold, SavesAndLoadsItsStateAndStepCount) {
  auto m = bn_model();
  auto q = quantize_model(*m, {.freeze_bn_after = 2});
  const Tensor x = random_tensor({8, 6, 6, 2}, 81, 0.0f, 1.0f);
  const Tensor y = labels({0, 1, 2, 0, 1, 2, 0, 1});
  q->compile(Adam(), SparseCategoricalCrossentropy{true});
  q->train_step(x, y);
  const std::string dir = (std::filesystem::temp_directory_path() / "qlite_bn_fold_save").string();
  std::filesystem::remove_all(dir);
  save_model(*q, dir);
  const json j = q->to_json();
  EXPECT_NE(j.dump().find("\"freeze_bn_after\":2"), std::string::npos);
  auto back = load_model(dir);
  const auto wb = bn_wrappers(*back);
  ASSERT_EQ(wb.size(), 2u);
  EXPECT_EQ(wb[0]->bn_steps(), 1);
  EXPECT_EQ(wb[0]->freeze_bn_after(), 2);
  const Tensor a = q->predict(x), b = back->predict(x);
  for (int64_t i = 0; i < a.numel(); ++i) EXPECT_EQ(a.f32()[i], b.f32()[i]);
  // Training on continues identically: one more unfrozen step, then frozen.
  q->train_step(x, y);
  back->train_step(x, y);
  const Tensor a2 = q->predict(x), b2 = back->predict(x);
  for (int64_t i = 0; i < a2.numel(); ++i) EXPECT_EQ(a2.f32()[i], b2.f32()[i]);
  EXPECT_TRUE(bn_wrappers(*back)[0]->bn_frozen());
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace qlite::quant::testing
