// uint8 (TF1-era asymmetric) ops against the real TensorFlow Lite 2.9: random
// one-op .tflite files (uint8 activations and weights with zero points,
// per-tensor scales, int32 bias) run in TFLite and in qlite on every kernel
// path this CPU has (the reference Isa runs ref::*_uint8, the others the int8
// kernels through pack_*_uint8); the output bytes must be identical.
// A failure under CI=true when the peer is missing (scripts/install_peers.sh).
#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

#include "qlite/runtime.h"
#include "isa_runs.h"
#include "single_op_peer.h"

namespace qlite::test {
namespace {

using T = TensorType;

int pick(Rng& rng, int lo, int hi) { return lo + static_cast<int>(rng.below(static_cast<uint64_t>(hi - lo + 1))); }
int32_t rand_zp(Rng& rng) {
  const int32_t edges[] = {0, 1, 128, 254, 255};
  return rng.below(3) == 0 ? edges[rng.below(5)] : pick(rng, 0, 255);
}
std::vector<uint8_t> rand_bytes(Rng& rng, int64_t n) {
  std::vector<uint8_t> v(static_cast<size_t>(n));
  for (auto& b : v) b = static_cast<uint8_t>(rng.below(256));
  return v;
}
Activation rand_act(Rng& rng) {
  const Activation a[] = {Activation::kLinear, Activation::kRelu, Activation::kRelu6, Activation::kReluN1To1};
  return a[rng.below(4)];
}

struct Case {
  std::vector<uint8_t> model, input;
  std::vector<int32_t> in_shape;
  std::string what;
};

// Scales: the output scale near the accumulator's real spread so that outputs
// are not all saturated; w_zp 128 sometimes (every w - zw inside int8).
struct Scales {
  float in, w, out;
  int32_t in_zp, w_zp, out_zp;
};
Scales rand_scales(Rng& rng, int k) {
  Scales s;
  s.in = std::exp2(static_cast<float>(pick(rng, -9, -2))) * (0.5f + rng.uniform());
  s.w = std::exp2(static_cast<float>(pick(rng, -10, -4))) * (0.5f + rng.uniform());
  s.out = s.in * s.w * std::sqrt(static_cast<float>(k)) * 128.0f * (0.05f + rng.uniform());
  s.in_zp = rand_zp(rng);
  s.w_zp = rng.below(4) == 0 ? 128 : rand_zp(rng);
  s.out_zp = rand_zp(rng);
  return s;
}

// Biases of the size of the accumulator's spread (k terms): a few output steps.
std::vector<int32_t> rand_bias(Rng& rng, int n, int k) {
  const int64_t spread = static_cast<int64_t>(256.0 * std::sqrt(static_cast<double>(k))) + 1;
  std::vector<int32_t> b(static_cast<size_t>(n));
  for (auto& x : b) x = static_cast<int32_t>(static_cast<int64_t>(rng.below(2 * spread + 1)) - spread);
  return b;
}

Case conv_case(Rng& rng, bool depthwise) {
  Case c;
  const int batch = pick(rng, 1, 2), h = pick(rng, 1, 12), w = pick(rng, 1, 12);
  const int cin = depthwise ? pick(rng, 1, 40) : (rng.below(2) ? pick(rng, 1, 4) : pick(rng, 5, 48));
  const int mult = depthwise && rng.below(4) == 0 ? pick(rng, 2, 3) : 1;
  const int cout = depthwise ? cin * mult : pick(rng, 1, 40);
  const int kh = pick(rng, 1, 4), kw = pick(rng, 1, 4), sh = pick(rng, 1, 2), sw = pick(rng, 1, 2);
  const int dh = rng.below(4) == 0 ? 2 : 1, dw = rng.below(4) == 0 ? 2 : 1;
  Padding pad = rng.below(2) ? Padding::kSame : Padding::kValid;
  if ((kh - 1) * dh + 1 > h || (kw - 1) * dw + 1 > w) pad = Padding::kSame;
  const Scales s = rand_scales(rng, depthwise ? kh * kw : kh * kw * cin);
  const Activation act = rand_act(rng);
  ModelBuilder b;
  c.in_shape = {batch, h, w, cin};
  const int32_t x = b.add_tensor("x", T::kUInt8, c.in_shape, Quantization::per_tensor(s.in, s.in_zp));
  const std::vector<int32_t> w_shape =
      depthwise ? std::vector<int32_t>{1, kh, kw, cout} : std::vector<int32_t>{cout, kh, kw, cin};
  const int64_t w_n = int64_t{kh} * kw * cout * (depthwise ? 1 : cin);
  const int32_t wt = b.add_constant("w", T::kUInt8, w_shape, rand_bytes(rng, w_n), Quantization::per_tensor(s.w, s.w_zp));
  const int32_t bias = b.add_constant("b", T::kInt32, {cout}, rand_bias(rng, cout, depthwise ? kh * kw : kh * kw * cin), Quantization::per_tensor(s.in * s.w, 0));
  const int oh = pad == Padding::kSame ? (h + sh - 1) / sh : (h - (kh - 1) * dh - 1) / sh + 1;
  const int ow = pad == Padding::kSame ? (w + sw - 1) / sw : (w - (kw - 1) * dw - 1) / sw + 1;
  const int32_t y = b.add_tensor("y", T::kUInt8, {batch, oh, ow, cout}, Quantization::per_tensor(s.out, s.out_zp));
  if (depthwise) {
    lite::DepthwiseConv2DOptions o;
    o.padding = pad;
    o.stride_h = sh, o.stride_w = sw, o.dilation_h = dh, o.dilation_w = dw;
    o.depth_multiplier = mult;
    o.activation = act;
    b.add_operator(BuiltinOp::kDepthwiseConv2D, {x, wt, bias}, {y}, o);
  } else {
    lite::Conv2DOptions o;
    o.padding = pad;
    o.stride_h = sh, o.stride_w = sw, o.dilation_h = dh, o.dilation_w = dw;
    o.activation = act;
    b.add_operator(BuiltinOp::kConv2D, {x, wt, bias}, {y}, o);
  }
  b.set_inputs({x});
  b.set_outputs({y});
  c.model = b.finish();
  c.input = rand_bytes(rng, int64_t{batch} * h * w * cin);
  c.what = std::string(depthwise ? "DEPTHWISE_CONV_2D" : "CONV_2D") + " in " + std::to_string(batch) + "x" +
           std::to_string(h) + "x" + std::to_string(w) + "x" + std::to_string(cin) + " out_c " + std::to_string(cout) +
           " k " + std::to_string(kh) + "x" + std::to_string(kw) + " s " + std::to_string(sh) + std::to_string(sw) +
           " d " + std::to_string(dh) + std::to_string(dw) + " zp in/w/out " + std::to_string(s.in_zp) + "/" +
           std::to_string(s.w_zp) + "/" + std::to_string(s.out_zp);
  return c;
}

Case fc_case(Rng& rng) {
  Case c;
  const int batch = pick(rng, 1, 5), in = rng.below(3) == 0 ? pick(rng, 100, 300) : pick(rng, 1, 64);
  const int out = pick(rng, 1, 40);
  const Scales s = rand_scales(rng, in);
  ModelBuilder b;
  c.in_shape = {batch, in};
  const int32_t x = b.add_tensor("x", T::kUInt8, c.in_shape, Quantization::per_tensor(s.in, s.in_zp));
  const int32_t wt = b.add_constant("w", T::kUInt8, {out, in}, rand_bytes(rng, int64_t{out} * in),
                                    Quantization::per_tensor(s.w, s.w_zp));
  const int32_t bias = b.add_constant("b", T::kInt32, {out}, rand_bias(rng, out, in), Quantization::per_tensor(s.in * s.w, 0));
  const int32_t y = b.add_tensor("y", T::kUInt8, {batch, out}, Quantization::per_tensor(s.out, s.out_zp));
  lite::FullyConnectedOptions o;
  o.activation = rand_act(rng);
  b.add_operator(BuiltinOp::kFullyConnected, {x, wt, bias}, {y}, o);
  b.set_inputs({x});
  b.set_outputs({y});
  c.model = b.finish();
  c.input = rand_bytes(rng, int64_t{batch} * in);
  c.what = "FULLY_CONNECTED " + std::to_string(batch) + "x" + std::to_string(in) + " -> " + std::to_string(out) +
           " zp in/w/out " + std::to_string(s.in_zp) + "/" + std::to_string(s.w_zp) + "/" + std::to_string(s.out_zp);
  return c;
}

// Every case in TFLite and on every qlite path; returns the outputs compared
// (bytes) and how many of them lie strictly inside (0, 255): a suite of
// saturated outputs would prove little.
struct Compared {
  int64_t outputs = 0, interior = 0;
};
Compared check_cases(const TfLitePeer& peer, const std::vector<Case>& cases) {
  Compared r;
  for (const Case& c : cases) {
    SCOPED_TRACE(c.what);
    const Outcome theirs = run_in_tflite(peer, c.model, c.in_shape, c.input);
    EXPECT_EQ(theirs.error, "");
    if (!theirs.error.empty()) continue;
    for (Isa isa : runtime_isas()) {
      const Outcome ours = run_on(isa, c.model, c.input);
      EXPECT_EQ(ours.error, "") << isa_name(isa);
      if (!ours.error.empty()) continue;
      EXPECT_EQ(ours.bytes.size(), theirs.bytes.size()) << isa_name(isa);
      if (ours.bytes.size() != theirs.bytes.size()) continue;
      int diff = 0;
      for (size_t i = 0; i < ours.bytes.size(); ++i) diff += ours.bytes[i] != theirs.bytes[i];
      EXPECT_EQ(diff, 0) << isa_name(isa) << ": " << diff << " of " << ours.bytes.size() << " bytes differ";
    }
    r.outputs += static_cast<int64_t>(theirs.bytes.size());
    for (uint8_t v : theirs.bytes) r.interior += v != 0 && v != 255;
  }
  return r;
}

TEST(TfLiteUInt8, Conv2DMatchesTfLite) {
  QLITE_REQUIRE_TFLITE_PEER(peer);
  Rng rng(1401);
  std::vector<Case> cases;
  for (int i = 0; i < 120; ++i) cases.push_back(conv_case(rng, false));
  const Compared n = check_cases(*peer, cases);
  std::printf("uint8 CONV_2D: %zu files, %lld outputs (%lld inside (0, 255)) compared on %zu paths\n", cases.size(),
              static_cast<long long>(n.outputs), static_cast<long long>(n.interior), runtime_isas().size());
  EXPECT_GT(n.interior, n.outputs * 2 / 5);  // the rest: fused ReLUs at zero point 0, edge zero points
}

TEST(TfLiteUInt8, DepthwiseConv2DMatchesTfLite) {
  QLITE_REQUIRE_TFLITE_PEER(peer);
  Rng rng(1402);
  std::vector<Case> cases;
  for (int i = 0; i < 120; ++i) cases.push_back(conv_case(rng, true));
  const Compared n = check_cases(*peer, cases);
  std::printf("uint8 DEPTHWISE_CONV_2D: %zu files, %lld outputs (%lld inside (0, 255)) compared\n", cases.size(),
              static_cast<long long>(n.outputs), static_cast<long long>(n.interior));
  EXPECT_GT(n.interior, n.outputs * 2 / 5);  // the rest: fused ReLUs at zero point 0, edge zero points
}

TEST(TfLiteUInt8, FullyConnectedMatchesTfLite) {
  QLITE_REQUIRE_TFLITE_PEER(peer);
  Rng rng(1403);
  std::vector<Case> cases;
  for (int i = 0; i < 120; ++i) cases.push_back(fc_case(rng));
  const Compared n = check_cases(*peer, cases);
  std::printf("uint8 FULLY_CONNECTED: %zu files, %lld outputs (%lld inside (0, 255)) compared\n", cases.size(),
              static_cast<long long>(n.outputs), static_cast<long long>(n.interior));
  EXPECT_GT(n.interior, n.outputs * 2 / 5);  // the rest: fused ReLUs at zero point 0, edge zero points
}

// One op: input x (graph input), an optional constant second input, output y.
struct OneOp {
  BuiltinOp op;
  T in_type;
  std::vector<int32_t> in_shape;
  Quantization in_q;
  T out_type;
  std::vector<int32_t> out_shape;
  Quantization out_q;
  lite::OpOptions options;
  std::vector<uint8_t> second;  // constant second input (same type and shape as x), empty: none
  Quantization second_q;
};
Case one_op_case(Rng& rng, const OneOp& o, const std::string& what) {
  ModelBuilder b;
  Case c;
  c.in_shape = o.in_shape;
  const int32_t x = b.add_tensor("x", o.in_type, o.in_shape, o.in_q);
  std::vector<int32_t> ins = {x};
  if (!o.second.empty()) ins.push_back(b.add_constant("k", o.in_type, o.in_shape, o.second, o.second_q));
  const int32_t y = b.add_tensor("y", o.out_type, o.out_shape, o.out_q);
  b.add_operator(o.op, ins, {y}, o.options);
  b.set_inputs({x});
  b.set_outputs({y});
  c.model = b.finish();
  int64_t n = 1;
  for (int32_t d : o.in_shape) n *= d;
  if (o.in_type == T::kFloat32) {
    std::vector<float> v(static_cast<size_t>(n));
    const float range = 300.0f * o.out_q.scale.at(0);  // past both ends of the output's range
    for (float& f : v) f = rng.uniform(-range, range);
    c.input = as_bytes(v);
  } else {
    c.input = rand_bytes(rng, n * static_cast<int64_t>(lite::tensor_type_size(o.in_type)));
  }
  c.what = what;
  return c;
}

Quantization rand_q(Rng& rng) {
  return Quantization::per_tensor(std::exp2(rng.uniform(-10.0f, 2.0f)), rand_zp(rng));
}

TEST(TfLiteUInt8, PoolsMatchTfLite) {
  QLITE_REQUIRE_TFLITE_PEER(peer);
  Rng rng(1404);
  std::vector<Case> cases;
  for (int i = 0; i < 80; ++i) {
    const bool avg = i % 2 == 0;
    const int batch = pick(rng, 1, 2), h = pick(rng, 1, 12), w = pick(rng, 1, 12), ch = pick(rng, 1, 20);
    lite::Pool2DOptions po;
    po.filter_h = pick(rng, 1, std::min(h, 5));
    po.filter_w = pick(rng, 1, std::min(w, 5));
    po.stride_h = pick(rng, 1, 3);
    po.stride_w = pick(rng, 1, 3);
    po.padding = rng.below(2) ? Padding::kSame : Padding::kValid;
    po.activation = rand_act(rng);
    const int oh = po.padding == Padding::kSame ? (h + po.stride_h - 1) / po.stride_h : (h - po.filter_h) / po.stride_h + 1;
    const int ow = po.padding == Padding::kSame ? (w + po.stride_w - 1) / po.stride_w : (w - po.filter_w) / po.stride_w + 1;
    const Quantization q = rand_q(rng);
    cases.push_back(one_op_case(rng,
                                OneOp{avg ? BuiltinOp::kAveragePool2D : BuiltinOp::kMaxPool2D, T::kUInt8,
                                      {batch, h, w, ch}, q, T::kUInt8, {batch, oh, ow, ch}, q, po, {}, {}},
                                std::string(avg ? "AVERAGE_POOL_2D" : "MAX_POOL_2D") + " case " + std::to_string(i)));
  }
  // MobileNet v1's global pool: 4x4 over 4x4x256.
  lite::Pool2DOptions po;
  po.filter_h = po.filter_w = 4;
  const Quantization q = Quantization::per_tensor(0.02352f, 0);
  cases.push_back(one_op_case(rng, OneOp{BuiltinOp::kAveragePool2D, T::kUInt8, {1, 4, 4, 256}, q, T::kUInt8,
                                         {1, 1, 1, 256}, q, po, {}, {}},
                              "AVERAGE_POOL_2D 4x4x256"));
  // Windows of more than 257 taps: a 16-bit sum of uint8 values would wrap.
  for (int k : {17, 32}) {
    po.filter_h = po.filter_w = k;
    cases.push_back(one_op_case(rng, OneOp{BuiltinOp::kAveragePool2D, T::kUInt8, {1, k, k, 8}, q, T::kUInt8,
                                           {1, 1, 1, 8}, q, po, {}, {}},
                                "AVERAGE_POOL_2D " + std::to_string(k) + "x" + std::to_string(k)));
  }
  check_cases(*peer, cases);
}

TEST(TfLiteUInt8, SoftmaxMatchesTfLite) {
  QLITE_REQUIRE_TFLITE_PEER(peer);
  Rng rng(1405);
  std::vector<Case> cases;
  for (int i = 0; i < 60; ++i) {
    const int rows = pick(rng, 1, 4), depth = i % 6 == 0 ? 1001 : pick(rng, 1, 64);
    lite::SoftmaxOptions so;
    so.beta = i % 3 == 0 ? 1.0f : rng.uniform(0.1f, 3.0f);
    cases.push_back(one_op_case(rng,
                                OneOp{BuiltinOp::kSoftmax, T::kUInt8, {rows, depth}, rand_q(rng), T::kUInt8, {rows, depth},
                                      Quantization::per_tensor(1.0f / 256, 0), so, {}, {}},
                                "SOFTMAX " + std::to_string(rows) + "x" + std::to_string(depth)));
  }
  check_cases(*peer, cases);
}

TEST(TfLiteUInt8, AddMatchesTfLite) {
  QLITE_REQUIRE_TFLITE_PEER(peer);
  Rng rng(1406);
  std::vector<Case> cases;
  for (int i = 0; i < 60; ++i) {
    const std::vector<int32_t> shape = {pick(rng, 1, 3), pick(rng, 1, 9), pick(rng, 1, 9), pick(rng, 1, 17)};
    int64_t n = 1;
    for (int32_t d : shape) n *= d;
    lite::AddOptions ao;
    ao.activation = rand_act(rng);
    cases.push_back(one_op_case(rng,
                                OneOp{BuiltinOp::kAdd, T::kUInt8, shape, rand_q(rng), T::kUInt8, shape, rand_q(rng), ao,
                                      rand_bytes(rng, n), rand_q(rng)},
                                "ADD case " + std::to_string(i)));
  }
  check_cases(*peer, cases);
}

// MEAN over H and W: each of TFLite's three uint8 paths (keep_dims with axes
// {1, 2}; equal quantization; the float rescale).
TEST(TfLiteUInt8, MeanMatchesTfLite) {
  QLITE_REQUIRE_TFLITE_PEER(peer);
  Rng rng(1408);
  std::vector<Case> cases;
  for (int i = 0; i < 60; ++i) {
    const int batch = pick(rng, 1, 2), h = pick(rng, 1, 9), w = pick(rng, 1, 9), ch = pick(rng, 1, 20);
    const bool keep = i % 3 != 2;
    const Quantization in_q = rand_q(rng);
    const Quantization out_q = i % 3 == 1 ? in_q : rand_q(rng);
    const std::vector<int32_t> axes = i % 4 == 3 ? std::vector<int32_t>{2, 1} : std::vector<int32_t>{1, 2};
    ModelBuilder b;
    Case c;
    c.in_shape = {batch, h, w, ch};
    const int32_t x = b.add_tensor("x", T::kUInt8, c.in_shape, in_q);
    const int32_t ax = b.add_constant("axes", T::kInt32, {2}, axes);
    const int32_t y = b.add_tensor("y", T::kUInt8, keep ? std::vector<int32_t>{batch, 1, 1, ch} : std::vector<int32_t>{batch, ch},
                                   out_q);
    lite::ReducerOptions ro;
    ro.keep_dims = keep;
    b.add_operator(BuiltinOp::kMean, {x, ax}, {y}, ro);
    b.set_inputs({x});
    b.set_outputs({y});
    c.model = b.finish();
    c.input = rand_bytes(rng, int64_t{batch} * h * w * ch);
    c.what = "MEAN case " + std::to_string(i) + (keep ? " keep_dims" : "");
    cases.push_back(c);
  }
  check_cases(*peer, cases);
}

TEST(TfLiteUInt8, ReshapeConcatenationQuantizeDequantizeMatchTfLite) {
  QLITE_REQUIRE_TFLITE_PEER(peer);
  Rng rng(1407);
  std::vector<Case> cases;
  for (int i = 0; i < 20; ++i) {
    const Quantization q = rand_q(rng);
    const int a = pick(rng, 1, 6), b = pick(rng, 1, 6), c = pick(rng, 1, 6);
    cases.push_back(one_op_case(rng, OneOp{BuiltinOp::kReshape, T::kUInt8, {1, a, b, c}, q, T::kUInt8, {1, a * b * c}, q,
                                           lite::ReshapeOptions{{1, a * b * c}}, {}, {}},
                                "RESHAPE"));
    lite::ConcatenationOptions co;
    co.axis = 3;
    cases.push_back(one_op_case(rng, OneOp{BuiltinOp::kConcatenation, T::kUInt8, {1, a, b, c}, q, T::kUInt8,
                                           {1, a, b, 2 * c}, q, co, rand_bytes(rng, int64_t{a} * b * c), q},
                                "CONCATENATION"));
    const std::vector<int32_t> shape = {2, a, b, c};
    cases.push_back(one_op_case(rng, OneOp{BuiltinOp::kQuantize, T::kFloat32, shape, {}, T::kUInt8, shape, rand_q(rng),
                                           lite::QuantizeOptions{}, {}, {}},
                                "QUANTIZE float32 -> uint8"));
    for (auto [from, to] : {std::pair{T::kUInt8, T::kInt8}, std::pair{T::kInt8, T::kUInt8}, std::pair{T::kUInt8, T::kUInt8}}) {
      Quantization in_q = rand_q(rng), out_q = rand_q(rng);
      if (from == T::kInt8) in_q.zero_point[0] -= 128;
      if (to == T::kInt8) out_q.zero_point[0] -= 128;
      // TFLite 2.9 requantizes uint8 <-> int8 only with equal scales and zero points 128 apart.
      if (from != to) {
        out_q.scale = in_q.scale;
        out_q.zero_point[0] = in_q.zero_point[0] + (from == T::kUInt8 ? -128 : 128);
      }
      cases.push_back(one_op_case(rng, OneOp{BuiltinOp::kQuantize, from, shape, in_q, to, shape, out_q,
                                             lite::QuantizeOptions{}, {}, {}},
                                  std::string("QUANTIZE ") + lite::tensor_type_name(from) + " -> " +
                                      lite::tensor_type_name(to)));
    }
    cases.push_back(one_op_case(rng, OneOp{BuiltinOp::kDequantize, T::kUInt8, shape, rand_q(rng), T::kFloat32, shape,
                                           {}, lite::DequantizeOptions{}, {}, {}},
                                "DEQUANTIZE uint8"));
  }
  check_cases(*peer, cases);
}

}  // namespace
}  // namespace qlite::test
