// DepthwiseConv2D: finite-difference gradients (input, depthwise_kernel,
// bias) over strides, paddings, multipliers and odd sizes; a hand-worked
// forward; Keras config names, defaults and round trip; Keras' glorot fans;
// thread-count determinism; and its float kernels on every ISA against a
// plain double-precision evaluation.
#include <cmath>

#include "kernels/float_kernels.h"
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

LayerPtr built(LayerPtr l, const Shape& in_shape, uint64_t seed = 1) {
  Rng rng(seed);
  const Shape ins[1] = {in_shape};
  l->build(ins, rng);
  return l;
}

void set_param(Layer& l, const std::string& name, std::vector<float> v) {
  for (Param* p : l.params())
    if (p->name == name) {
      ASSERT_EQ(static_cast<int64_t>(v.size()), p->value.numel()) << name;
      for (size_t i = 0; i < v.size(); ++i) p->value.f32()[i] = v[i];
      return;
    }
  FAIL() << "no param " << name;
}

struct DwCase {
  int64_t n, h, w, cin;
  int mult, kh, kw, sh, sw;
  Padding pad;
  Activation act;
  bool bias;
};

// Checks dL/dx and dL/dparam of a DepthwiseConv2D by central differences.
void check_case(const DwCase& c, int k, Rng& rng) {
  layers::DepthwiseConv2DOptions o;
  o.strides = {c.sh, c.sw};
  o.padding = c.pad;
  o.depth_multiplier = c.mult;
  o.activation = c.act;
  o.use_bias = c.bias;
  o.name = "dw" + std::to_string(k);
  LayerPtr l = layers::DepthwiseConv2D({c.kh, c.kw}, o);
  const Shape ins[1] = {{c.h, c.w, c.cin}};
  l->build(ins, rng);
  // relu6 needs pre-activations beyond 6 for its upper clamp to be exercised.
  const float range = c.act == Activation::kRelu6 ? 4.0f : 1.0f;
  for (Param* p : l->params()) {
    if (p->name == "bias")
      for (float& v : p->value.span_f32()) v = rng.uniform(-0.5f, 0.5f);
    if (p->name == "depthwise_kernel" && c.act == Activation::kRelu6)
      for (float& v : p->value.span_f32()) v *= 2.0f;
  }
  Tensor x = random_tensor({c.n, c.h, c.w, c.cin}, rng, -range, range);
  const Tensor out = run_forward(*l, x);
  ASSERT_EQ(out.dim(3), c.cin * c.mult);
  const Tensor probe = random_tensor(out.shape(), rng);
  const Tensor dx = run_backward(*l, x, out, probe);
  std::vector<Tensor> grads;
  for (Param* p : l->params()) grads.push_back(p->grad);
  check_gradient(o.name + " input", *l, x, x, dx, probe, rng);
  size_t i = 0;
  for (Param* p : l->params()) check_gradient(o.name + " " + p->name, *l, x, p->value, grads[i++], probe, rng);

  // Without an input gradient the activation gradient is fused into the
  // weight-gradient pass: the same weight gradients.
  run_backward(*l, x, out, probe, /*want_dx=*/false);
  i = 0;
  for (Param* p : l->params()) {
    const Tensor& g = grads[i++];
    for (int64_t j = 0; j < g.numel(); ++j)
      ASSERT_NEAR(p->grad.f32()[j], g.f32()[j], 1e-5f * (1.0f + std::fabs(g.f32()[j]))) << o.name << " " << p->name;
  }
}

TEST(DepthwiseGradient, StridesPaddingsMultipliersOddSizes) {
  const DwCase cases[] = {
      {2, 5, 6, 3, 1, 3, 3, 1, 1, Padding::kValid, Activation::kRelu, true},
      {2, 7, 5, 3, 1, 3, 3, 2, 2, Padding::kSame, Activation::kRelu6, true},
      {2, 7, 5, 3, 2, 3, 3, 2, 2, Padding::kSame, Activation::kLinear, true},
      {3, 5, 7, 2, 2, 3, 3, 1, 1, Padding::kSame, Activation::kRelu6, false},
      {1, 9, 7, 5, 3, 2, 3, 2, 1, Padding::kValid, Activation::kLinear, true},
      {2, 6, 6, 17, 1, 3, 3, 2, 2, Padding::kSame, Activation::kRelu, true},
      {2, 5, 5, 1, 2, 5, 5, 1, 1, Padding::kSame, Activation::kLinear, false},
      {1, 3, 3, 4, 2, 3, 3, 1, 1, Padding::kValid, Activation::kRelu, true},
      {2, 8, 7, 3, 2, 4, 2, 3, 2, Padding::kSame, Activation::kRelu6, true},
  };
  Rng rng(17);
  int k = 0;
  for (const DwCase& c : cases) check_case(c, k++, rng);
}

// One channel, multiplier 2, two input channels: every output channel
// c * 2 + m reads input channel c through its own taps.
TEST(DepthwiseForward, HandWorkedMultiplierTwo) {
  layers::DepthwiseConv2DOptions o;
  o.depth_multiplier = 2;
  auto l = built(layers::DepthwiseConv2D({2, 2}, o), {3, 3, 2});
  EXPECT_EQ(l->output_shape(), Shape({2, 2, 4}));
  // [ky][kx][c][m]: (c0, m0) the top-left tap, (c0, m1) bottom-right, (c1, m0)
  // all four taps, (c1, m1) twice the top-right tap.
  set_param(*l, "depthwise_kernel", {1, 0, 1, 0, 0, 0, 1, 2, 0, 0, 1, 0, 0, 1, 1, 0});
  set_param(*l, "bias", {0, 10, 0.5f, 0});
  // Channel 0 = 1..9, channel 1 = -(1..9).
  std::vector<float> v;
  for (int i = 1; i <= 9; ++i) {
    v.push_back(static_cast<float>(i));
    v.push_back(-static_cast<float>(i));
  }
  const Tensor y = run_forward(*l, make_tensor({1, 3, 3, 2}, v));
  const std::vector<float> want = {1, 15, -11.5f, -4, 2, 16, -15.5f, -6, 4, 18, -23.5f, -10, 5, 19, -27.5f, -12};
  ASSERT_EQ(y.shape(), Shape({1, 2, 2, 4}));
  for (size_t i = 0; i < want.size(); ++i) EXPECT_FLOAT_EQ(y.f32()[i], want[i]) << "element " << i;
}

TEST(DepthwiseForward, HandWorkedSameStrideTwoRelu) {
  // 4x4 input, 3x3 kernel, stride 2: pad_total = 1, all of it after (TF rule).
  layers::DepthwiseConv2DOptions o;
  o.strides = {2, 2};
  o.padding = Padding::kSame;
  o.activation = Activation::kRelu;
  auto l = built(layers::DepthwiseConv2D({3, 3}, o), {4, 4, 1});
  set_param(*l, "depthwise_kernel", std::vector<float>(9, 1.0f));
  set_param(*l, "bias", {-50});
  std::vector<float> v(16);
  for (size_t i = 0; i < v.size(); ++i) v[i] = static_cast<float>(i + 1);
  // Windows {1,2,3,5,6,7,9,10,11} = 54, {3,4,7,8,11,12} = 45, {9..11,13..15} = 72, {11,12,15,16} = 54.
  const Tensor y = run_forward(*l, make_tensor({1, 4, 4, 1}, v));
  const std::vector<float> want = {4, 0, 22, 4};
  ASSERT_EQ(y.shape(), Shape({1, 2, 2, 1}));
  for (size_t i = 0; i < want.size(); ++i) EXPECT_FLOAT_EQ(y.f32()[i], want[i]) << "element " << i;
}

TEST(DepthwiseConfig, KerasNamesDefaultsAndRoundTrip) {
  layers::DepthwiseConv2DOptions o;
  o.strides = {2, 1};
  o.padding = Padding::kSame;
  o.depth_multiplier = 3;
  o.activation = Activation::kRelu6;
  o.use_bias = false;
  o.name = "dw";
  LayerPtr l = layers::DepthwiseConv2D({3, 2}, o);
  EXPECT_EQ(l->type(), "DepthwiseConv2D");
  EXPECT_EQ(l->default_name_stem(), "depthwise_conv2d");
  const json cfg = l->get_config();
  EXPECT_EQ(cfg, json::parse(R"({"name": "dw", "kernel_size": [3, 2], "strides": [2, 1], "padding": "same",
      "depth_multiplier": 3, "data_format": "channels_last", "dilation_rate": [1, 1], "groups": 1,
      "activation": "relu6", "use_bias": false,
      "depthwise_initializer": {"class_name": "GlorotUniform", "config": {"seed": null}},
      "bias_initializer": {"class_name": "Zeros", "config": {"seed": null}},
      "trainable": true, "dtype": "float32"})"));
  LayerPtr copy = layer_from_config("DepthwiseConv2D", cfg);
  EXPECT_EQ(copy->get_config(), cfg);
  EXPECT_FALSE(copy->built());
  // Same seed, same weights: the copy computes the same function.
  built(l, {7, 6, 2}, 3);
  built(copy, {7, 6, 2}, 3);
  EXPECT_EQ(l->count_params(), 3 * 2 * 2 * 3);  // no bias
  Rng rx(4);
  const Tensor x = random_tensor({2, 7, 6, 2}, rx);
  const Tensor a = run_forward(*l, x), b = run_forward(*copy, x);
  ASSERT_EQ(a.shape(), Shape({2, 4, 6, 6}));
  ASSERT_EQ(a.shape(), b.shape());
  for (int64_t i = 0; i < a.numel(); ++i) ASSERT_EQ(a.f32()[i], b.f32()[i]);

  // A Keras-written config: an int kernel size, null activation, Keras'
  // initializer keys (ignored); defaults stride 1, 'valid', multiplier 1, bias.
  LayerPtr k = layer_from_config("DepthwiseConv2D", json::parse(R"({"name": "k", "kernel_size": 3, "strides": 1,
      "padding": "valid", "activation": null, "dilation_rate": 1, "groups": 1,
      "depthwise_initializer": {"class_name": "GlorotUniform"}, "bias_initializer": {"class_name": "Zeros"}})"));
  const json kc = k->get_config();
  EXPECT_EQ(kc["kernel_size"], json({3, 3}));
  EXPECT_EQ(kc["strides"], json({1, 1}));
  EXPECT_EQ(kc["depth_multiplier"], 1);
  EXPECT_EQ(kc["activation"], "linear");
  EXPECT_EQ(kc["use_bias"], true);
  const LayerKind& kind = layer_kind(*k);
  EXPECT_EQ(kind.op, OpKind::kDepthwiseConv2D);
  EXPECT_STREQ(op_kind_name(kind.op), "DEPTHWISE_CONV_2D");
  EXPECT_EQ(kind.weight, "depthwise_kernel");
  EXPECT_EQ(kind.output_channel_axes, 2);
  EXPECT_EQ(kind.op_spec(*l).depth_multiplier, 3);
  EXPECT_EQ(weight_output_channels(kind, {3, 3, 5, 2}), 10);
}

TEST(DepthwiseConfig, UnsupportedOptionsAreErrors) {
  auto err = [](const char* text) { return error_of([&] { layer_from_config("DepthwiseConv2D", json::parse(text)); }); };
  EXPECT_NE(err(R"({"kernel_size": 3, "dilation_rate": 2})").find("dilation_rate"), std::string::npos);
  EXPECT_NE(err(R"({"kernel_size": 3, "data_format": "channels_first"})").find("channels_first"), std::string::npos);
  EXPECT_NE(err(R"({"kernel_size": 3, "depth_multiplier": 0})").find("depth_multiplier"), std::string::npos);
  EXPECT_NE(err(R"({"kernel_size": 3, "activation": "elu"})").find("elu"), std::string::npos);
  EXPECT_NE(err(R"({"strides": 2})").find("kernel_size"), std::string::npos);
  EXPECT_NE(err(R"({"kernel_size": 3, "padding": "causal"})").find("causal"), std::string::npos);
  const std::string e = error_of([] { built(layers::DepthwiseConv2D({5, 5}, {.name = "small"}), {4, 4, 2}); });
  EXPECT_NE(e.find("DepthwiseConv2D 'small'"), std::string::npos) << e;
}

// Keras' glorot_uniform for shape (kh, kw, in, multiplier): fan_in =
// kh*kw*in, fan_out = kh*kw*multiplier; the bias starts at zero.
TEST(DepthwiseInit, GlorotFansAsKerasComputesThem) {
  auto l = built(layers::DepthwiseConv2D({3, 3}, {.depth_multiplier = 2, .name = "init"}), {8, 8, 16}, 7);
  const Param* k = l->params()[0];
  ASSERT_EQ(k->value.shape(), Shape({3, 3, 16, 2}));
  const float limit = std::sqrt(6.0f / (9 * 16 + 9 * 2));
  float lo = 1, hi = -1;
  for (float v : k->value.span_f32()) {
    lo = std::min(lo, v);
    hi = std::max(hi, v);
  }
  EXPECT_GE(lo, -limit);
  EXPECT_LE(hi, limit);
  EXPECT_LT(lo, -0.8f * limit);  // the whole range is used (288 draws)
  EXPECT_GT(hi, 0.8f * limit);
  for (float v : l->params()[1]->value.span_f32()) EXPECT_EQ(v, 0.0f);
}

// The pool splits the batch: outputs are exact, weight gradients are the
// chunk partials reduced in chunk order (reproducible, equal up to rounding).
TEST(DepthwiseThreads, ForwardExactGradientsDeterministic) {
  Rng rng(23);
  auto make = [] {
    return built(layers::DepthwiseConv2D({3, 3}, {.strides = {2, 2}, .padding = Padding::kSame,
                                                  .depth_multiplier = 2, .activation = Activation::kRelu6, .name = "t"}),
                 {9, 9, 5}, 5);
  };
  LayerPtr a = make(), b = make();
  const Tensor x = random_tensor({7, 9, 9, 5}, rng, -2.0f, 2.0f);
  ThreadPool pool(2);
  const Tensor ya = run_forward(*a, x), yb = run_forward(*b, x, &pool);
  for (int64_t i = 0; i < ya.numel(); ++i) ASSERT_EQ(ya.f32()[i], yb.f32()[i]);
  const Tensor probe = random_tensor(ya.shape(), rng);
  const Tensor dxa = run_backward(*a, x, ya, probe);
  const Tensor dxb = run_backward(*b, x, yb, probe, true, &pool);
  for (int64_t i = 0; i < dxa.numel(); ++i) ASSERT_EQ(dxa.f32()[i], dxb.f32()[i]);  // per image: exact
  std::vector<Tensor> first;
  for (Param* p : b->params()) first.push_back(p->grad);
  run_backward(*b, x, yb, probe, true, &pool);
  for (size_t k = 0; k < first.size(); ++k) {
    const Param* pa = a->params()[k];
    const Param* pb = b->params()[k];
    for (int64_t i = 0; i < first[k].numel(); ++i) {
      ASSERT_EQ(pb->grad.f32()[i], first[k].f32()[i]) << "not reproducible with 2 threads";
      ASSERT_NEAR(pa->grad.f32()[i], pb->grad.f32()[i], 1e-4f * (1.0f + std::fabs(pa->grad.f32()[i])));
    }
  }
}

// ---- the float kernels on every ISA this CPU has (the reference always) ----

struct DwProblem {
  kernels::DepthwiseGeom g;
  std::string desc;
};

DwProblem random_dw(Rng& rng) {
  DwProblem p;
  kernels::DepthwiseGeom& g = p.g;
  g.kh = 1 + static_cast<int>(rng.below(5));
  g.kw = 1 + static_cast<int>(rng.below(5));
  g.sh = 1 + static_cast<int>(rng.below(3));
  g.sw = 1 + static_cast<int>(rng.below(3));
  g.H = g.kh + static_cast<int64_t>(rng.below(9));
  g.W = g.kw + static_cast<int64_t>(rng.below(30));
  g.C = 1 + static_cast<int64_t>(rng.below(40));
  g.OH = (g.H - g.kh) / g.sh + 1;
  g.OW = (g.W - g.kw) / g.sw + 1;
  p.desc = std::to_string(g.H) + "x" + std::to_string(g.W) + "x" + std::to_string(g.C) + " k" +
           std::to_string(g.kh) + "x" + std::to_string(g.kw) + " s" + std::to_string(g.sh) + "," +
           std::to_string(g.sw);
  return p;
}

std::vector<Isa> every_isa() {
  std::vector<Isa> out;
  for (Isa isa : {Isa::kReference, Isa::kAvx2, Isa::kAvx512})
    if (kernels::isa_supported(isa)) out.push_back(isa);
  return out;
}

std::vector<float> rand_vec(size_t n, Rng& rng) {
  std::vector<float> v(n);
  for (float& f : v) f = rng.uniform(-1.0f, 1.0f);
  return v;
}

TEST(DepthwiseKernels, EveryIsaMatchesAPlainDoubleEvaluation) {
  Rng rng(31);
  for (int trial = 0; trial < 60; ++trial) {
    const DwProblem p = random_dw(rng);
    const kernels::DepthwiseGeom& g = p.g;
    const int64_t taps = int64_t{g.kh} * g.kw, in_n = g.H * g.W * g.C, out_n = g.OH * g.OW * g.C;
    const std::vector<float> x = rand_vec(static_cast<size_t>(in_n), rng), w = rand_vec(taps * g.C, rng),
                             b = rand_vec(g.C, rng), dout = rand_vec(out_n, rng);
    // Plain double sums, with each term's magnitude for the rounding bound.
    std::vector<double> fwd(out_n), fwd_mag(out_n), dw(taps * g.C, 0), dw_mag(taps * g.C, 0), db(g.C, 0),
        db_mag(g.C, 0), dx(in_n, 0), dx_mag(in_n, 0);
    for (int64_t oy = 0; oy < g.OH; ++oy)
      for (int64_t ox = 0; ox < g.OW; ++ox)
        for (int64_t c = 0; c < g.C; ++c) {
          const int64_t o = (oy * g.OW + ox) * g.C + c;
          double s = b[c], m = std::fabs(b[c]);
          for (int ky = 0; ky < g.kh; ++ky)
            for (int kx = 0; kx < g.kw; ++kx) {
              const int64_t i = ((oy * g.sh + ky) * g.W + ox * g.sw + kx) * g.C + c, t = (ky * g.kw + kx) * g.C + c;
              s += double{x[i]} * w[t];
              m += std::fabs(double{x[i]} * w[t]);
              dw[t] += double{x[i]} * dout[o];
              dw_mag[t] += std::fabs(double{x[i]} * dout[o]);
              dx[i] += double{dout[o]} * w[t];
              dx_mag[i] += std::fabs(double{dout[o]} * w[t]);
            }
          fwd[o] = s;
          fwd_mag[o] = m;
          db[c] += dout[o];
          db_mag[c] += std::fabs(dout[o]);
        }
    auto near = [&](const std::vector<float>& got, const std::vector<double>& want, const std::vector<double>& mag,
                    const std::string& what) {
      ASSERT_EQ(got.size(), want.size());
      for (size_t i = 0; i < got.size(); ++i)
        ASSERT_LE(std::fabs(got[i] - want[i]), 1e-5 * mag[i] + 1e-7) << what << " " << p.desc << " element " << i;
    };
    for (Isa isa : every_isa()) {
      const std::string name = isa_name(isa);
      std::vector<float> y(out_n), gw(taps * g.C, 0.0f), gb(g.C, 0.0f), gx(in_n, -7.0f);
      kernels::float_depthwise_forward(isa, g, x.data(), w.data(), b.data(), kernels::FloatAct::kLinear, y.data());
      near(y, fwd, fwd_mag, name + " forward");
      kernels::float_depthwise_wgrad(isa, g, x.data(), dout.data(), nullptr, kernels::FloatAct::kLinear, gw.data(),
                                     gb.data());
      near(gw, dw, dw_mag, name + " wgrad");
      near(gb, db, db_mag, name + " bias grad");
      kernels::float_depthwise_dgrad(isa, g, dout.data(), w.data(), gx.data());  // overwrites every element
      near(gx, dx, dx_mag, name + " dgrad");
      // Fused activations: relu6 on the forward, its derivative in wgrad.
      std::vector<float> y6(out_n), gw6(taps * g.C, 0.0f);
      kernels::float_depthwise_forward(isa, g, x.data(), w.data(), b.data(), kernels::FloatAct::kRelu6, y6.data());
      std::vector<double> dw6(taps * g.C, 0);
      for (int64_t o = 0; o < out_n; ++o) {
        ASSERT_EQ(y6[o], std::min(std::max(y[o], 0.0f), 6.0f)) << name;
        const bool pass = y6[o] > 0.0f && y6[o] < 6.0f;
        const int64_t c = o % g.C, px = o / g.C, oy = px / g.OW, ox = px % g.OW;
        for (int ky = 0; ky < g.kh; ++ky)
          for (int kx = 0; kx < g.kw; ++kx)
            if (pass)
              dw6[(ky * g.kw + kx) * g.C + c] += double{x[((oy * g.sh + ky) * g.W + ox * g.sw + kx) * g.C + c]} * dout[o];
      }
      kernels::float_depthwise_wgrad(isa, g, x.data(), dout.data(), y6.data(), kernels::FloatAct::kRelu6, gw6.data(),
                                     nullptr);
      near(gw6, dw6, dw_mag, name + " relu6 wgrad");
    }
  }
}

TEST(DepthwiseKernels, WindowsOutsideTheImageAreAnError) {
  kernels::DepthwiseGeom g;
  g.H = g.W = 4;
  g.C = 1;
  g.OH = g.OW = 3;
  g.kh = g.kw = 3;
  std::vector<float> buf(64);
  EXPECT_NE(error_of([&] {
              kernels::float_depthwise_forward(Isa::kReference, g, buf.data(), buf.data(), nullptr,
                                               kernels::FloatAct::kLinear, buf.data());
            }).find("windows"),
            std::string::npos);
}

}  // namespace
