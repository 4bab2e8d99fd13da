// PAD folded into the CONV_2D / DEPTHWISE_CONV_2D it feeds (Interpreter::
// Impl::fold_pads): PyTorch exports pad explicitly before every 3x3
// convolution (PAD, then a VALID convolution). Each graph runs in TensorFlow
// Lite 2.9 (which executes the PAD) and in qlite on every kernel path this
// CPU has: bytes identical, and the PAD is not executed exactly when it can
// be folded (a second reader, a pad as large as the filter, PADV2 or a
// convolution with SAME padding keep it).
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <string>
#include <vector>

#include "isa_runs.h"
#include "qlite_run.h"
#include "single_op_peer.h"

namespace qlite::test {
namespace {

using T = TensorType;
using lite::BuiltinOp;
using lite::ModelBuilder;
using lite::Quantization;

struct Case {
  bool depthwise = false;
  int h = 9, w = 8, c = 5, out_c = 6, k = 3, stride = 1;
  int top = 1, bottom = 1, left = 1, right = 1;
  bool second_reader = false;  // the PAD's output is also a graph output
  bool same = false;           // the convolution pads SAME on top of the PAD
  int32_t in_zp = -3;
  uint64_t seed = 1;
  std::string name() const {
    return std::string(depthwise ? "DW" : "CONV") + " " + std::to_string(h) + "x" + std::to_string(w) + "x" +
           std::to_string(c) + " k" + std::to_string(k) + " s" + std::to_string(stride) + " pad " +
           std::to_string(top) + "," + std::to_string(bottom) + "," + std::to_string(left) + "," +
           std::to_string(right) + (second_reader ? " +reader" : "") + (same ? " SAME" : "");
  }
};

int out_dim(int in, int k, int s, bool same) { return same ? (in + s - 1) / s : (in - k) / s + 1; }

std::vector<uint8_t> pad_conv_model(const Case& cs) {
  Rng rng(cs.seed);
  ModelBuilder b;
  const float xs = 0.05f, ys = 0.11f;
  const int32_t x = b.add_tensor("x", T::kInt8, {1, cs.h, cs.w, cs.c}, Quantization::per_tensor(xs, cs.in_zp),
                                 {-1, cs.h, cs.w, cs.c});
  const int ph = cs.h + cs.top + cs.bottom, pw = cs.w + cs.left + cs.right;
  const int32_t paddings = b.add_constant("paddings", T::kInt32, {4, 2},
                                          std::vector<int32_t>{0, 0, cs.top, cs.bottom, cs.left, cs.right, 0, 0});
  const int32_t p = b.add_tensor("padded", T::kInt8, {1, ph, pw, cs.c}, Quantization::per_tensor(xs, cs.in_zp),
                                 {-1, ph, pw, cs.c});
  b.add_operator(BuiltinOp::kPad, {x, paddings}, {p}, lite::PadOptions{});
  const int oc = cs.depthwise ? cs.c : cs.out_c;
  const std::vector<int32_t> wshape =
      cs.depthwise ? std::vector<int32_t>{1, cs.k, cs.k, cs.c} : std::vector<int32_t>{oc, cs.k, cs.k, cs.c};
  const size_t n = static_cast<size_t>(cs.k * cs.k * cs.c * (cs.depthwise ? 1 : oc));
  std::vector<int8_t> wq(n);
  for (int8_t& v : wq) v = static_cast<int8_t>(static_cast<int>(rng.below(255)) - 127);
  std::vector<float> scales(static_cast<size_t>(oc)), bscales(static_cast<size_t>(oc));
  for (size_t o = 0; o < scales.size(); ++o) {
    scales[o] = 0.002f + 0.001f * static_cast<float>(o);
    bscales[o] = xs * scales[o];
  }
  std::vector<int32_t> bias(static_cast<size_t>(oc));
  for (int32_t& v : bias) v = static_cast<int32_t>(rng.below(4001)) - 2000;
  const std::vector<int64_t> zeros(static_cast<size_t>(oc), 0);
  const int32_t wt = b.add_constant("w", T::kInt8, wshape, wq, Quantization::per_axis(scales, zeros, cs.depthwise ? 3 : 0));
  const int32_t bt = b.add_constant("b", T::kInt32, {oc}, bias, Quantization::per_axis(bscales, zeros, 0));
  const int oh = out_dim(ph, cs.k, cs.stride, cs.same), ow = out_dim(pw, cs.k, cs.stride, cs.same);
  const int32_t y = b.add_tensor("y", T::kInt8, {1, oh, ow, oc}, Quantization::per_tensor(ys, 4), {-1, oh, ow, oc});
  const lite::Padding pad = cs.same ? lite::Padding::kSame : lite::Padding::kValid;
  if (cs.depthwise)
    b.add_operator(BuiltinOp::kDepthwiseConv2D, {p, wt, bt}, {y},
                   lite::DepthwiseConv2DOptions{pad, cs.stride, cs.stride, 1, Activation::kRelu6, 1, 1}, 3);
  else
    b.add_operator(BuiltinOp::kConv2D, {p, wt, bt}, {y},
                   lite::Conv2DOptions{pad, cs.stride, cs.stride, Activation::kRelu6, 1, 1}, 3);
  b.set_inputs({x});
  if (cs.second_reader) b.set_outputs({y, p});
  else b.set_outputs({y});
  return lite::write_model(b.build());
}

// Runs the case at batches 1 and 3 on every path; returns the executed op count.
size_t expect_same(const TfLitePeer& peer, const Case& cs) {
  const std::vector<uint8_t> model = pad_conv_model(cs);
  Rng rng(cs.seed + 100);
  size_t executed = 0;
  for (int batch : {1, 3}) {
    std::vector<uint8_t> input(static_cast<size_t>(batch * cs.h * cs.w * cs.c));
    for (uint8_t& v : input) v = static_cast<uint8_t>(rng.below(256));
    const auto want = peer.run(model, {PeerInput{{batch, cs.h, cs.w, cs.c}, input}});
    EXPECT_FALSE(want.empty()) << cs.name();
    if (want.empty()) continue;
    for (Isa isa : runtime_isas()) {
      const MultiOutcome q = run_multi_in_qlite(model, {input}, {.isa = isa, .batch = batch});
      EXPECT_EQ(q.error, "") << cs.name() << " " << isa_name(isa);
      if (!q.error.empty()) continue;
      EXPECT_EQ(q.bytes.at(0), want[0].bytes) << cs.name() << " " << isa_name(isa) << " batch " << batch;
      if (cs.second_reader) {
        EXPECT_EQ(q.bytes.at(1), want.at(1).bytes) << cs.name() << " " << isa_name(isa);
      }
      executed = q.executed_ops;
    }
  }
  return executed;
}

TEST(PadFold, PadBeforeConvolutionsIsFoldedWithIdenticalResults) {
  QLITE_REQUIRE_TFLITE_PEER(peer);
  int cases = 0;
  uint64_t seed = 1;
  for (bool dw : {false, true})
    for (int stride : {1, 2})
      for (int k : {1, 3, 5})
        for (int top = 0; top < k; ++top)
          for (int bottom = 0; bottom < k; bottom += std::max(1, k - 2))
            for (int left : {0, k - 1}) {
              Case cs;
              cs.depthwise = dw, cs.stride = stride, cs.k = k;
              cs.top = top, cs.bottom = bottom, cs.left = left, cs.right = (left + 1) % k;
              // Awkward sizes: odd, and channels that are not a multiple of the vector width.
              cs.h = 7 + static_cast<int>(seed % 4), cs.w = 6 + static_cast<int>(seed % 5);
              cs.c = dw ? 17 + static_cast<int>(seed % 3) * 8 : 3 + static_cast<int>(seed % 4) * 7;
              cs.out_c = 5 + static_cast<int>(seed % 3) * 13;
              cs.in_zp = static_cast<int32_t>(seed * 37 % 256) - 128;
              cs.seed = seed++;
              EXPECT_EQ(expect_same(*peer, cs), 1u) << cs.name() << ": the PAD should be folded";
              ++cases;
            }
  EXPECT_GT(cases, 50);
}

TEST(PadFold, MobileNetV2LayersFromPyTorch) {
  QLITE_REQUIRE_TFLITE_PEER(peer);
  // The shapes of the PyTorch export: the 3-channel stem at stride 2, depthwise at strides 1 and 2.
  Case stem;
  stem.h = stem.w = 32, stem.c = 3, stem.out_c = 32, stem.stride = 2;
  EXPECT_EQ(expect_same(*peer, stem), 1u);
  Case dw1;
  dw1.depthwise = true, dw1.h = dw1.w = 14, dw1.c = 144;
  EXPECT_EQ(expect_same(*peer, dw1), 1u);
  Case dw2 = dw1;
  dw2.stride = 2, dw2.c = 96, dw2.h = dw2.w = 28;
  EXPECT_EQ(expect_same(*peer, dw2), 1u);
}

TEST(PadFold, PadsThatCannotBeFoldedStillRun) {
  QLITE_REQUIRE_TFLITE_PEER(peer);
  Case reader;  // the padded tensor is read again (here: a graph output)
  reader.second_reader = true;
  EXPECT_EQ(expect_same(*peer, reader), 2u);
  Case large;  // a pad as large as the filter: windows of padding alone
  large.top = 3;
  EXPECT_EQ(expect_same(*peer, large), 2u);
  Case same;  // SAME padding on top of the PAD
  same.same = true;
  EXPECT_EQ(expect_same(*peer, same), 2u);
  Case dw_same = same;
  dw_same.depthwise = true;
  EXPECT_EQ(expect_same(*peer, dw_same), 2u);
}

}  // namespace
}  // namespace qlite::test
