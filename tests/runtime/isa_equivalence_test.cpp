// Every kernel path the CPU has, with 1 and 2 threads and at several batch
// sizes, gives the reference path's output: byte for byte for int8 outputs,
// within float rounding for float ones; and 2 threads give exactly the bytes
// of 1 thread on the same path. The oracle is the same model on
// Isa::kReference with one thread (plain loops, no tiles, no packing).
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <string>
#include <tuple>

#include "qlite/convert.h"
#include "qlite/runtime.h"
#include "qlite/train.h"
#include "kernels/float_kernels.h"
#include "kernels/int8_kernels_x86.h"
#include "runtime_models.h"

namespace qlite::test {
namespace {

using runtime::Interpreter;
using runtime::InterpreterOptions;

std::vector<Isa> supported_isas() {
  std::vector<Isa> v;
  for (Isa isa : {Isa::kReference, Isa::kAvx2, Isa::kAvx512})
    if (kernels::int8_isa_available(isa) && kernels::isa_supported(isa)) v.push_back(isa);
  return v;
}

// Random inputs in the input's own type (seeded by the batch).
void fill_inputs(Interpreter& it, int batch) {
  Rng rng(static_cast<uint64_t>(batch) * 7919 + 3);
  for (size_t i = 0; i < it.num_inputs(); ++i) {
    auto bytes = it.input_bytes(i);
    if (it.input_info(i).type == lite::TensorType::kFloat32) {
      auto* f = reinterpret_cast<float*>(bytes.data());
      for (size_t k = 0; k < bytes.size() / 4; ++k) f[k] = rng.uniform(-0.2f, 1.2f);
    } else {
      for (std::byte& b : bytes) b = static_cast<std::byte>(rng.next_u64() & 0xff);
    }
  }
}

std::vector<uint8_t> run(const std::vector<uint8_t>& model, Isa isa, int threads, int batch) {
  InterpreterOptions o;
  o.isa = isa;
  o.num_threads = threads;
  auto it = Interpreter::from_buffer(model, o);
  it->resize_batch(batch);
  fill_inputs(*it, batch);
  it->invoke();
  it->invoke();  // a second run must not depend on what the first left in the arena
  std::vector<uint8_t> out;
  for (size_t k = 0; k < it->num_outputs(); ++k) {
    const auto b = it->output_bytes(k);
    const auto* p = reinterpret_cast<const uint8_t*>(b.data());
    out.insert(out.end(), p, p + b.size());
  }
  return out;
}

void expect_same(const std::vector<uint8_t>& model, bool float_output, const std::string& name,
                 std::initializer_list<int> batches = {1, 3, 37}) {
  for (int batch : batches) {
    const std::vector<uint8_t> want = run(model, Isa::kReference, 1, batch);
    for (Isa isa : supported_isas()) {
      const std::vector<uint8_t> one = run(model, isa, 1, batch);
      const std::vector<uint8_t> two = run(model, isa, 2, batch);
      const std::string where = name + " isa " + isa_name(isa) + " batch " + std::to_string(batch);
      EXPECT_EQ(one, two) << where << ": 2 threads differ from 1";
      ASSERT_EQ(one.size(), want.size()) << where;
      if (!float_output) {
        EXPECT_EQ(one, want) << where;
        continue;
      }
      const size_t n = one.size() / 4;
      std::vector<float> a(n), b(n);
      std::memcpy(a.data(), one.data(), n * 4);
      std::memcpy(b.data(), want.data(), n * 4);
      int bad = 0;
      for (size_t i = 0; i < n; ++i)
        if (!(std::abs(a[i] - b[i]) <= 1e-5f * std::max(1.0f, std::abs(b[i]))) && bad++ < 5)
          ADD_FAILURE() << where << " element " << i << ": " << a[i] << " vs reference " << b[i];
    }
  }
}

// The seed model (untrained weights: speed and equality tests need no
// accuracy), calibrated on random images.
const Model& seed_model() {
  static std::unique_ptr<Model> m = [] {
    auto model = make_seed_model(10, 5);
    return std::unique_ptr<Model>(std::move(model));
  }();
  return *m;
}

std::vector<uint8_t> convert_seed(convert::Mode mode, convert::IoType io = convert::IoType::kFloat32) {
  Tensor rep({32, 28, 28});
  Rng rng(11);
  for (float& v : rep.span_f32()) v = rng.uniform();
  convert::ConvertOptions o;
  o.mode = mode;
  o.io = io;
  o.representative = &rep;
  return convert::convert_model(seed_model(), o).bytes;
}

// A MobileNet-style block: depthwise 3x3 (ReLU6) -> conv 1x1 (ReLU6) ->
// ADD with the block input -> MEAN over H, W -> FULLY_CONNECTED. int8 with
// per-channel weights, or float32.
std::vector<uint8_t> mobile_block(int hw, int ch, bool int8, uint64_t seed) {
  using lite::Quantization;
  Rng rng(seed);
  lite::ModelBuilder b;
  const TensorType t = int8 ? TensorType::kInt8 : TensorType::kFloat32;
  auto q = [&](float s, int64_t zp) { return int8 ? Quantization::per_tensor(s, zp) : Quantization{}; };
  const float xs = 0.02f, ds = 0.025f, cs = 0.03f, as = 0.04f, ms = 0.02f, ys = 0.1f;
  const int32_t x = b.add_tensor("x", t, {1, hw, hw, ch}, q(xs, 3), {-1, hw, hw, ch});
  // `channels` scales along `dim` (1 = per tensor); `outs` bias elements.
  auto weights = [&](const std::string& name, std::vector<int32_t> shape, int channels, int32_t dim, float in_scale,
                     int outs) {
    size_t n = 1;
    for (int32_t d : shape) n *= static_cast<size_t>(d);
    const std::vector<float> w = uniform(rng, n, -0.5f, 0.5f);
    std::vector<float> bias = uniform(rng, static_cast<size_t>(outs), -0.2f, 0.2f);
    if (!int8) {
      const int32_t wt = b.add_constant(name + "/w", TensorType::kFloat32, shape, w);
      const int32_t bt = b.add_constant(name + "/b", TensorType::kFloat32, {outs}, bias);
      return std::pair{wt, bt};
    }
    // Per channel along `dim`: scale of channel c over the elements with that index.
    std::vector<float> scales(static_cast<size_t>(channels), 0.0f);
    size_t inner = 1;
    for (size_t d = static_cast<size_t>(dim) + 1; d < shape.size(); ++d) inner *= static_cast<size_t>(shape[d]);
    auto chan = [&](size_t i) { return (i / inner) % static_cast<size_t>(channels); };
    for (size_t i = 0; i < n; ++i) scales[chan(i)] = std::max(scales[chan(i)], std::abs(w[i]) / 127.0f);
    std::vector<int8_t> wq(n);
    for (size_t i = 0; i < n; ++i)
      wq[i] = static_cast<int8_t>(std::clamp<long>(std::lround(w[i] / scales[chan(i)]), -127, 127));
    std::vector<int32_t> bq(static_cast<size_t>(outs));
    std::vector<float> bs(static_cast<size_t>(channels));
    for (size_t c = 0; c < bs.size(); ++c) bs[c] = in_scale * scales[c];
    for (size_t o = 0; o < bq.size(); ++o) bq[o] = static_cast<int32_t>(std::lround(bias[o] / bs[channels == 1 ? 0 : o]));
    const std::vector<int64_t> zeros(static_cast<size_t>(channels), 0);
    const int32_t wt = b.add_constant(name + "/w", TensorType::kInt8, shape, wq, Quantization::per_axis(scales, zeros, dim));
    const int32_t bt = b.add_constant(name + "/b", TensorType::kInt32, {outs}, bq, Quantization::per_axis(bs, zeros, 0));
    return std::pair{wt, bt};
  };
  const auto [dw, dwb] = weights("dw", {1, 3, 3, ch}, ch, 3, xs, ch);
  const int32_t d = b.add_tensor("dw", t, {1, hw, hw, ch}, q(ds, -128), {-1, hw, hw, ch});
  b.add_operator(BuiltinOp::kDepthwiseConv2D, {x, dw, dwb}, {d},
                 lite::DepthwiseConv2DOptions{lite::Padding::kSame, 1, 1, 1, Activation::kRelu6, 1, 1}, 3);
  const auto [pw, pwb] = weights("pw", {ch, 1, 1, ch}, ch, 0, ds, ch);
  const int32_t c = b.add_tensor("pw", t, {1, hw, hw, ch}, q(cs, -128), {-1, hw, hw, ch});
  b.add_operator(BuiltinOp::kConv2D, {d, pw, pwb}, {c},
                 lite::Conv2DOptions{lite::Padding::kValid, 1, 1, Activation::kRelu6, 1, 1}, 3);
  const int32_t a = b.add_tensor("add", t, {1, hw, hw, ch}, q(as, -20), {-1, hw, hw, ch});
  b.add_operator(BuiltinOp::kAdd, {x, c}, {a}, lite::AddOptions{}, 2);
  const int32_t axes = b.add_constant("axes", TensorType::kInt32, {2}, std::vector<int32_t>{1, 2});
  const int32_t m = b.add_tensor("mean", t, {1, ch}, q(ms, -10), {-1, ch});
  b.add_operator(BuiltinOp::kMean, {a, axes}, {m}, lite::ReducerOptions{false}, 2);
  const auto [fw, fb] = weights("fc", {5, ch}, 1, 0, ms, 5);
  const int32_t y = b.add_tensor("y", t, {1, 5}, q(ys, 0), {-1, 5});
  b.add_operator(BuiltinOp::kFullyConnected, {m, fw, fb}, {y}, lite::FullyConnectedOptions{}, 4);
  b.set_inputs({x});
  b.set_outputs({y});
  return lite::write_model(b.build());
}

TEST(IsaEquivalence, SeedInt8FloatIo) {
  expect_same(convert_seed(convert::Mode::kInt8), true, "seed int8 float I/O");
}

TEST(IsaEquivalence, SeedInt8Int8Io) {
  expect_same(convert_seed(convert::Mode::kInt8, convert::IoType::kInt8), false, "seed int8 int8 I/O");
}

TEST(IsaEquivalence, SeedDynamic) { expect_same(convert_seed(convert::Mode::kDynamic), true, "seed dynamic"); }

TEST(IsaEquivalence, SeedFloat32) { expect_same(convert_seed(convert::Mode::kFloat32), true, "seed float32"); }

TEST(IsaEquivalence, SeedFloat16) { expect_same(convert_seed(convert::Mode::kFloat16), true, "seed float16"); }

TEST(IsaEquivalence, CnnWithSamePaddingAndSoftmax) {
  // The runtime tests' CNN: SAME padding (the float path's padded copy), softmax.
  CnnSpec s;
  s.h = s.w = 12, s.c = 3, s.filters = 20;
  const CnnWeights w = make_cnn_weights(s);
  expect_same(lite::write_model(float_cnn(s, w)), true, "float cnn");
  expect_same(lite::write_model(int8_cnn(s, w, {})), true, "int8 cnn");
}

// MEAN alone over the given axes of an NHWC tensor of type t.
std::vector<uint8_t> mean_model(int h, int w, int c, bool keep_dims, TensorType t, const Quantization& in_q,
                                const Quantization& out_q, std::vector<int32_t> axes = {1, 2}) {
  lite::ModelBuilder b;
  const int32_t x = b.add_tensor("x", t, {1, h, w, c}, in_q, {-1, h, w, c});
  const int32_t ax = b.add_constant("axes", TensorType::kInt32, {2}, axes);
  const int32_t y = keep_dims ? b.add_tensor("y", t, {1, 1, 1, c}, out_q, {-1, 1, 1, c})
                              : b.add_tensor("y", t, {1, c}, out_q, {-1, c});
  b.add_operator(BuiltinOp::kMean, {x, ax}, {y}, lite::ReducerOptions{keep_dims}, t == TensorType::kInt8 ? 2 : 1);
  b.set_inputs({x});
  b.set_outputs({y});
  return lite::write_model(b.build());
}
// int8 MEAN alone, through each of TFLite 2.9's three arithmetics
// (ref::tflite_mean_method): keep_dims with axes {1, 2}; equal in / out
// quantization without keep_dims; different quantization without keep_dims.
std::vector<uint8_t> mean_model(int h, int w, int c, bool keep_dims, float out_scale, int32_t out_zp) {
  return mean_model(h, w, c, keep_dims, TensorType::kInt8, Quantization::per_tensor(0.05f, -128),
                    Quantization::per_tensor(out_scale, out_zp));
}

TEST(IsaEquivalence, MeanInt8EveryTfLitePath) {
  for (const auto& [h, w, c] : {std::tuple{7, 7, 33}, std::tuple{1, 1, 5}, std::tuple{1, 13, 64}, std::tuple{3, 5, 17}}) {
    const std::string shape = std::to_string(h) + "x" + std::to_string(w) + "x" + std::to_string(c);
    expect_same(mean_model(h, w, c, true, 0.0173f, 11), false, "mean keep_dims " + shape);
    expect_same(mean_model(h, w, c, true, 0.05f, -128), false, "mean keep_dims equal " + shape);
    expect_same(mean_model(h, w, c, false, 0.05f, -128), false, "mean truncated " + shape);
    expect_same(mean_model(h, w, c, false, 0.0173f, 127), false, "mean float " + shape);
  }
}

// float32 MEAN over H, W (axes written {-3, 2}): AVX2 / AVX-512 sum in
// vector lanes what the reference sums channel by channel, so every path
// gives the same bits.
std::vector<uint8_t> mean_model_f32(int h, int w, int c, bool keep_dims) {
  return mean_model(h, w, c, keep_dims, TensorType::kFloat32, {}, {}, {-3, 2});
}

TEST(IsaEquivalence, MeanFloat32SameBitsOnEveryPath) {
  for (const auto& [h, w, c] : {std::tuple{7, 7, 64}, std::tuple{1, 1, 5}, std::tuple{1, 13, 9}, std::tuple{14, 14, 19}}) {
    const std::string shape = std::to_string(h) + "x" + std::to_string(w) + "x" + std::to_string(c);
    expect_same(mean_model_f32(h, w, c, true), false, "float mean keep_dims " + shape);
    expect_same(mean_model_f32(h, w, c, false), false, "float mean " + shape);
  }
}

TEST(IsaEquivalence, MobileBlockInt8AndFloat) {
  expect_same(mobile_block(10, 16, true, 1), false, "mobile int8");
  expect_same(mobile_block(10, 16, false, 2), true, "mobile float");
}

// A TF1-era uint8 block: conv 3x3 (stride 2) -> depthwise 3x3 (ReLU6) ->
// conv 1x1 -> ADD -> AVERAGE_POOL_2D -> RESHAPE -> FULLY_CONNECTED -> SOFTMAX,
// uint8 weights with zero points that do not fit int8 after the shift
// (packed in the int16 layout), except the 1x1 conv's (zero point 128, the
// VNNI layout on AVX-512).
std::vector<uint8_t> uint8_block(int hw, int ch, uint64_t seed) {
  using lite::Quantization;
  Rng rng(seed);
  lite::ModelBuilder b;
  const TensorType u8 = TensorType::kUInt8;
  auto bytes = [&](size_t n) {
    std::vector<uint8_t> v(n);
    for (auto& x : v) x = static_cast<uint8_t>(rng.below(256));
    return v;
  };
  auto bias = [&](size_t n) {
    std::vector<int32_t> v(n);
    for (auto& x : v) x = static_cast<int32_t>(rng.below(4001)) - 2000;
    return v;
  };
  const int h2 = hw / 2;
  const float xs = 0.02f, ws1 = 0.004f, s1 = 0.05f, ws2 = 0.01f, s2 = 0.03f, ws3 = 0.002f, s3 = 0.04f, sa = 0.05f,
              ws4 = 0.003f, s4 = 0.1f;
  const int32_t x = b.add_tensor("x", u8, {1, hw, hw, 3}, Quantization::per_tensor(xs, 128), {-1, hw, hw, 3});
  const int32_t w1 = b.add_constant("w1", u8, {ch, 3, 3, 3}, bytes(size_t(ch) * 27), Quantization::per_tensor(ws1, 117));
  const int32_t b1 = b.add_constant("b1", TensorType::kInt32, {ch}, bias(ch), Quantization::per_tensor(xs * ws1, 0));
  const int32_t c1 = b.add_tensor("c1", u8, {1, h2, h2, ch}, Quantization::per_tensor(s1, 100), {-1, h2, h2, ch});
  b.add_operator(BuiltinOp::kConv2D, {x, w1, b1}, {c1},
                 lite::Conv2DOptions{lite::Padding::kSame, 2, 2, Activation::kRelu6, 1, 1});
  const int32_t w2 = b.add_constant("w2", u8, {1, 3, 3, ch}, bytes(size_t(ch) * 9), Quantization::per_tensor(ws2, 201));
  const int32_t b2 = b.add_constant("b2", TensorType::kInt32, {ch}, bias(ch), Quantization::per_tensor(s1 * ws2, 0));
  const int32_t d = b.add_tensor("d", u8, {1, h2, h2, ch}, Quantization::per_tensor(s2, 0), {-1, h2, h2, ch});
  b.add_operator(BuiltinOp::kDepthwiseConv2D, {c1, w2, b2}, {d},
                 lite::DepthwiseConv2DOptions{lite::Padding::kSame, 1, 1, 1, Activation::kRelu6, 1, 1});
  const int32_t w3 = b.add_constant("w3", u8, {ch, 1, 1, ch}, bytes(size_t(ch) * ch), Quantization::per_tensor(ws3, 128));
  const int32_t b3 = b.add_constant("b3", TensorType::kInt32, {ch}, bias(ch), Quantization::per_tensor(s2 * ws3, 0));
  const int32_t c3 = b.add_tensor("c3", u8, {1, h2, h2, ch}, Quantization::per_tensor(s3, 130), {-1, h2, h2, ch});
  b.add_operator(BuiltinOp::kConv2D, {d, w3, b3}, {c3}, lite::Conv2DOptions{lite::Padding::kValid, 1, 1});
  const int32_t a = b.add_tensor("a", u8, {1, h2, h2, ch}, Quantization::per_tensor(sa, 120), {-1, h2, h2, ch});
  b.add_operator(BuiltinOp::kAdd, {c1, c3}, {a}, lite::AddOptions{});
  const int32_t p = b.add_tensor("p", u8, {1, 1, 1, ch}, Quantization::per_tensor(sa, 120), {-1, 1, 1, ch});
  lite::Pool2DOptions po;
  po.filter_h = po.filter_w = h2;
  b.add_operator(BuiltinOp::kAveragePool2D, {a}, {p}, po);
  const int32_t r = b.add_tensor("r", u8, {1, ch}, Quantization::per_tensor(sa, 120), {-1, ch});
  b.add_operator(BuiltinOp::kReshape, {p}, {r}, lite::ReshapeOptions{{-1, ch}});
  const int32_t w4 = b.add_constant("w4", u8, {10, ch}, bytes(size_t(ch) * 10), Quantization::per_tensor(ws4, 77));
  const int32_t b4 = b.add_constant("b4", TensorType::kInt32, {10}, bias(10), Quantization::per_tensor(sa * ws4, 0));
  const int32_t f = b.add_tensor("f", u8, {1, 10}, Quantization::per_tensor(s4, 140), {-1, 10});
  b.add_operator(BuiltinOp::kFullyConnected, {r, w4, b4}, {f}, lite::FullyConnectedOptions{});
  const int32_t y = b.add_tensor("y", u8, {1, 10}, Quantization::per_tensor(1.0f / 256, 0), {-1, 10});
  b.add_operator(BuiltinOp::kSoftmax, {f}, {y}, lite::SoftmaxOptions{});
  b.set_inputs({x});
  b.set_outputs({y, a});
  return lite::write_model(b.build());
}

TEST(IsaEquivalence, UInt8Block) {
  expect_same(uint8_block(12, 16, 5), false, "uint8 block");
  // One 80x80 image is enough work for the convolutions to split their rows
  // over two threads; three such images run as tiles.
  expect_same(uint8_block(80, 64, 6), false, "large uint8 block", {1, 3});
}

TEST(IsaEquivalence, LargeImageSplitsRowsOverThreads) {
  // One 40x40x48 image is enough work for the ops to split their rows over
  // two threads; three such images run as tiles.
  expect_same(mobile_block(40, 48, true, 3), false, "large mobile int8", {1, 3});
  expect_same(mobile_block(40, 48, false, 4), true, "large mobile float", {1, 3});
}

}  // namespace
}  // namespace qlite::test

namespace qlite::test {
namespace {

// CONV_2D (3x3, `cin` -> `filters`, stride `cs`, SAME or VALID, ReLU) ->
// MAX_POOL_2D (`pk` x `pk`, stride `ps`, SAME or VALID, an activation) ->
// RESHAPE -> FULLY_CONNECTED (`classes`), float32: the shapes the runtime's
// float kernels special-case (few input channels, ragged channel counts,
// odd widths, pools with padding, long and short dot products).
struct FloatNet {
  int h, w, cin, filters, cs;
  lite::Padding cpad;
  int pk, ps;
  lite::Padding ppad;
  Activation pact;
  int classes;
};

int out_dim(int in, int k, int s, lite::Padding p) {
  return p == lite::Padding::kSame ? (in + s - 1) / s : (in - k) / s + 1;
}

std::vector<uint8_t> float_net(const FloatNet& s, uint64_t seed) {
  Rng rng(seed);
  lite::ModelBuilder b;
  const int ch = out_dim(s.h, 3, s.cs, s.cpad), cw = out_dim(s.w, 3, s.cs, s.cpad);
  const int ph = out_dim(ch, s.pk, s.ps, s.ppad), pw = out_dim(cw, s.pk, s.ps, s.ppad);
  const int feat = ph * pw * s.filters;
  const int32_t x = b.add_tensor("x", TensorType::kFloat32, {1, s.h, s.w, s.cin}, {}, {-1, s.h, s.w, s.cin});
  const int32_t wt = b.add_constant("conv/w", TensorType::kFloat32, {s.filters, 3, 3, s.cin},
                                    uniform(rng, static_cast<size_t>(s.filters * 9 * s.cin), -0.5f, 0.5f));
  const int32_t bt = b.add_constant("conv/b", TensorType::kFloat32, {s.filters},
                                    uniform(rng, static_cast<size_t>(s.filters), -0.2f, 0.2f));
  const int32_t c = b.add_tensor("conv", TensorType::kFloat32, {1, ch, cw, s.filters}, {}, {-1, ch, cw, s.filters});
  b.add_operator(BuiltinOp::kConv2D, {x, wt, bt}, {c},
                 lite::Conv2DOptions{s.cpad, s.cs, s.cs, Activation::kRelu, 1, 1});
  const int32_t p = b.add_tensor("pool", TensorType::kFloat32, {1, ph, pw, s.filters}, {}, {-1, ph, pw, s.filters});
  b.add_operator(BuiltinOp::kMaxPool2D, {c}, {p}, lite::Pool2DOptions{s.ppad, s.ps, s.ps, s.pk, s.pk, s.pact});
  const int32_t shape = b.add_constant("flat/shape", TensorType::kInt32, {2}, std::vector<int32_t>{-1, feat});
  const int32_t fl = b.add_tensor("flat", TensorType::kFloat32, {1, feat}, {}, {-1, feat});
  b.add_operator(BuiltinOp::kReshape, {p, shape}, {fl}, lite::ReshapeOptions{{-1, feat}});
  const int32_t fw = b.add_constant("fc/w", TensorType::kFloat32, {s.classes, feat},
                                    uniform(rng, static_cast<size_t>(s.classes * feat), -0.2f, 0.2f));
  const int32_t fb = b.add_constant("fc/b", TensorType::kFloat32, {s.classes},
                                    uniform(rng, static_cast<size_t>(s.classes), -0.1f, 0.1f));
  const int32_t y = b.add_tensor("y", TensorType::kFloat32, {1, s.classes}, {}, {-1, s.classes});
  b.add_operator(BuiltinOp::kFullyConnected, {fl, fw, fb}, {y}, lite::FullyConnectedOptions{});
  b.set_inputs({x});
  b.set_outputs({y});
  return lite::write_model(b.build());
}

TEST(IsaEquivalence, FloatNetsOfAwkwardShapes) {
  using P = lite::Padding;
  const FloatNet nets[] = {
      {28, 28, 1, 12, 1, P::kValid, 2, 2, P::kValid, Activation::kLinear, 10},  // the seed's shapes
      {9, 7, 1, 1, 1, P::kSame, 3, 2, P::kSame, Activation::kRelu6, 1},
      {11, 13, 2, 5, 2, P::kValid, 2, 1, P::kValid, Activation::kLinear, 3},
      {13, 9, 3, 17, 1, P::kSame, 3, 3, P::kSame, Activation::kReluN1To1, 13},
      {10, 15, 4, 40, 2, P::kSame, 2, 2, P::kSame, Activation::kRelu, 7},
      {17, 17, 5, 33, 1, P::kValid, 1, 1, P::kValid, Activation::kLinear, 2},  // FC K = 7425
      {7, 7, 5, 8, 1, P::kValid, 5, 5, P::kValid, Activation::kLinear, 9},     // FC K = 8
  };
  uint64_t seed = 100;
  for (const FloatNet& s : nets) {
    const std::string name = "float net " + std::to_string(s.h) + "x" + std::to_string(s.w) + "x" +
                             std::to_string(s.cin) + " filters " + std::to_string(s.filters);
    expect_same(float_net(s, seed++), true, name, {1, 2, 7, 8, 37});
  }
}

}  // namespace
}  // namespace qlite::test
