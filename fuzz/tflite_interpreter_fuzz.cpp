// libFuzzer target for the whole load path of a .tflite file: read + validate,
// Interpreter preparation (per-op type and shape checks, weight packing,
// memory plan), a batch resize, and invokes on zeroed inputs. Any input
// must end in a running interpreter or qlite::Error: never a crash, a
// sanitizer report, another exception type or an unbounded allocation.
// Built by scripts/fuzz.sh (CMake option QLITE_BUILD_FUZZ with clang).
//
// QLITE_FUZZ_WRITE_SEEDS=<dir> writes small valid models covering every op
// kind the runtime prepares (int8, float, per-channel, float I/O) into <dir>
// first, so mutation starts from real files; any .tflite copied into the
// corpus directory (e.g. converter output) is mutated too.
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include <flatbuffers/flexbuffers.h>

#include "../tests/runtime/lstm_models.h"
#include "../tests/runtime/math_models.h"
#include "fuzz_seeds.h"
#include "qlite/lite.h"
#include "qlite/runtime.h"

namespace {

using namespace qlite::lite;

// TFLite_Detection_PostProcess's FlexBuffers options, as TFLite's converter writes them.
std::vector<uint8_t> detection_options(bool regular) {
  flexbuffers::Builder fb;
  fb.Map([&] {
    fb.Int("max_detections", 4);
    fb.Int("max_classes_per_detection", regular ? 1 : 2);
    fb.Int("detections_per_class", 3);
    fb.Bool("use_regular_nms", regular);
    fb.Float("nms_score_threshold", 0.0f);
    fb.Float("nms_iou_threshold", 0.5f);
    fb.Int("num_classes", 2);
    fb.Float("y_scale", 10.0f);
    fb.Float("x_scale", 10.0f);
    fb.Float("h_scale", 5.0f);
    fb.Float("w_scale", 5.0f);
  });
  fb.Finish();
  return fb.GetBuffer();
}

std::vector<std::vector<uint8_t>> seed_models() {
  std::vector<std::vector<uint8_t>> seeds;
  {  // int8: QUANTIZE-free FULLY_CONNECTED + RESHAPE + SOFTMAX
    ModelBuilder b;
    const int32_t x = b.add_tensor("x", TensorType::kInt8, {1, 4}, Quantization::per_tensor(0.05f, -3), {-1, 4});
    const int32_t w = b.add_constant("w", TensorType::kInt8, {3, 4}, std::vector<int8_t>{1, -2, 3, -4, 5, -6, 7, -8, 9, -10, 11, -12},
                                     Quantization::per_tensor(0.02f, 0));
    const int32_t bias = b.add_constant("b", TensorType::kInt32, {3}, std::vector<int32_t>{1, 2, 3},
                                        Quantization::per_tensor(0.001f, 0));
    const int32_t h = b.add_tensor("h", TensorType::kInt8, {1, 3}, Quantization::per_tensor(0.1f, 2));
    const int32_t y = b.add_tensor("y", TensorType::kInt8, {1, 3}, Quantization::per_tensor(1.0f / 256, -128), {-1, 3});
    b.add_operator(BuiltinOp::kFullyConnected, {x, w, bias}, {h}, FullyConnectedOptions{Activation::kRelu});
    b.add_operator(BuiltinOp::kSoftmax, {h}, {y}, SoftmaxOptions{1.0f});
    b.set_inputs({x});
    b.set_outputs({y});
    seeds.push_back(b.finish());
  }
  {  // int8 conv (per-channel) + depthwise + add + mean, float I/O
    ModelBuilder b;
    const auto q = Quantization::per_tensor(0.05f, -10);
    const int32_t x = b.add_tensor("x", TensorType::kFloat32, {1, 6, 6, 2}, {}, {-1, 6, 6, 2});
    const int32_t xq = b.add_tensor("xq", TensorType::kInt8, {1, 6, 6, 2}, q);
    const int32_t k = b.add_constant("k", TensorType::kInt8, {3, 3, 3, 2}, std::vector<int8_t>(54, 3),
                                     Quantization::per_axis({0.01f, 0.02f, 0.03f}, {0, 0, 0}, 0));
    const int32_t kb = b.add_constant("kb", TensorType::kInt32, {3}, std::vector<int32_t>{10, -20, 30},
                                      Quantization::per_axis({0.0005f, 0.001f, 0.0015f}, {0, 0, 0}, 0));
    const int32_t c = b.add_tensor("c", TensorType::kInt8, {1, 6, 6, 3}, q);
    const int32_t d = b.add_constant("d", TensorType::kInt8, {1, 3, 3, 3}, std::vector<int8_t>(27, -5),
                                     Quantization::per_axis({0.01f, 0.01f, 0.02f}, {0, 0, 0}, 3));
    const int32_t dc = b.add_tensor("dc", TensorType::kInt8, {1, 6, 6, 3}, q);
    const int32_t s = b.add_tensor("s", TensorType::kInt8, {1, 6, 6, 3}, Quantization::per_tensor(0.1f, 0));
    const int32_t axes = b.add_constant("axes", TensorType::kInt32, {2}, std::vector<int32_t>{1, 2});
    const int32_t m = b.add_tensor("m", TensorType::kInt8, {1, 3}, Quantization::per_tensor(0.1f, 0));
    const int32_t y = b.add_tensor("y", TensorType::kFloat32, {1, 3}, {}, {-1, 3});
    b.add_operator(BuiltinOp::kQuantize, {x}, {xq}, {});
    b.add_operator(BuiltinOp::kConv2D, {xq, k, kb}, {c}, Conv2DOptions{Padding::kSame, 1, 1, Activation::kRelu6});
    DepthwiseConv2DOptions dopt;
    dopt.padding = Padding::kSame;
    dopt.stride_w = dopt.stride_h = 1;
    dopt.depth_multiplier = 1;
    b.add_operator(BuiltinOp::kDepthwiseConv2D, {c, d, -1}, {dc}, dopt);
    b.add_operator(BuiltinOp::kAdd, {c, dc}, {s}, AddOptions{Activation::kLinear});
    b.add_operator(BuiltinOp::kMean, {s, axes}, {m}, ReducerOptions{false});
    b.add_operator(BuiltinOp::kDequantize, {m}, {y}, {});
    b.set_inputs({x});
    b.set_outputs({y});
    seeds.push_back(b.finish());
  }
  {  // float32 conv + pool + concatenation + reshape
    ModelBuilder b;
    const int32_t x = b.add_tensor("x", TensorType::kFloat32, {1, 6, 6, 2}, {}, {-1, 6, 6, 2});
    const int32_t k = b.add_constant("k", TensorType::kFloat32, {3, 3, 3, 2}, std::vector<float>(54, 0.5f));
    const int32_t c = b.add_tensor("c", TensorType::kFloat32, {1, 4, 4, 3});
    const int32_t p = b.add_tensor("p", TensorType::kFloat32, {1, 2, 2, 3});
    const int32_t cat = b.add_tensor("cat", TensorType::kFloat32, {1, 2, 2, 6});
    const int32_t y = b.add_tensor("y", TensorType::kFloat32, {1, 24}, {}, {-1, 24});
    b.add_operator(BuiltinOp::kConv2D, {x, k, -1}, {c}, Conv2DOptions{Padding::kValid, 1, 1, Activation::kRelu});
    b.add_operator(BuiltinOp::kAveragePool2D, {c}, {p}, Pool2DOptions{Padding::kValid, 2, 2, 2, 2});
    b.add_operator(BuiltinOp::kConcatenation, {p, p}, {cat}, ConcatenationOptions{3});
    b.add_operator(BuiltinOp::kReshape, {cat}, {y}, ReshapeOptions{{-1, 24}});
    b.set_inputs({x});
    b.set_outputs({y});
    seeds.push_back(b.finish());
  }
  {  // TF1-era uint8: conv + depthwise (uint8 weights with zero points) + avg pool + FC + softmax
    ModelBuilder b;
    const int32_t x = b.add_tensor("x", TensorType::kUInt8, {1, 6, 6, 2}, Quantization::per_tensor(0.02f, 128), {-1, 6, 6, 2});
    const int32_t k = b.add_constant("k", TensorType::kUInt8, {3, 3, 3, 2}, std::vector<uint8_t>(54, 200),
                                     Quantization::per_tensor(0.01f, 120));
    const int32_t kb = b.add_constant("kb", TensorType::kInt32, {3}, std::vector<int32_t>{10, -20, 30},
                                      Quantization::per_tensor(0.02f * 0.01f, 0));
    const int32_t c = b.add_tensor("c", TensorType::kUInt8, {1, 6, 6, 3}, Quantization::per_tensor(0.05f, 10));
    const int32_t d = b.add_constant("d", TensorType::kUInt8, {1, 3, 3, 3}, std::vector<uint8_t>(27, 7),
                                     Quantization::per_tensor(0.03f, 201));
    const int32_t dc = b.add_tensor("dc", TensorType::kUInt8, {1, 6, 6, 3}, Quantization::per_tensor(0.1f, 0));
    const int32_t p = b.add_tensor("p", TensorType::kUInt8, {1, 1, 1, 3}, Quantization::per_tensor(0.1f, 0));
    const int32_t r = b.add_tensor("r", TensorType::kUInt8, {1, 3}, Quantization::per_tensor(0.1f, 0));
    const int32_t f = b.add_constant("f", TensorType::kUInt8, {4, 3}, std::vector<uint8_t>(12, 90),
                                     Quantization::per_tensor(0.02f, 100));
    const int32_t h = b.add_tensor("h", TensorType::kUInt8, {1, 4}, Quantization::per_tensor(0.2f, 128));
    const int32_t y = b.add_tensor("y", TensorType::kUInt8, {1, 4}, Quantization::per_tensor(1.0f / 256, 0), {-1, 4});
    b.add_operator(BuiltinOp::kConv2D, {x, k, kb}, {c}, Conv2DOptions{Padding::kSame, 1, 1, Activation::kRelu6});
    DepthwiseConv2DOptions dopt;
    dopt.depth_multiplier = 1;
    b.add_operator(BuiltinOp::kDepthwiseConv2D, {c, d, -1}, {dc}, dopt);
    b.add_operator(BuiltinOp::kAveragePool2D, {dc}, {p}, Pool2DOptions{Padding::kValid, 6, 6, 6, 6});
    b.add_operator(BuiltinOp::kReshape, {p}, {r}, ReshapeOptions{{-1, 3}});
    b.add_operator(BuiltinOp::kFullyConnected, {r, f, -1}, {h}, FullyConnectedOptions{});
    b.add_operator(BuiltinOp::kSoftmax, {h}, {y}, SoftmaxOptions{1.0f});
    b.set_inputs({x});
    b.set_outputs({y});
    seeds.push_back(b.finish());
  }
  // UNIDIRECTIONAL_SEQUENCE_LSTM with variable state: int8 (intermediates,
  // int16 cell state) and float, batch-major and time-major.
  for (const bool int8 : {true, false}) {
    qlite::test::LstmSpec spec;
    spec.int8 = int8;
    spec.time_major = !int8;
    spec.cifg = !int8;
    spec.time = 3, spec.n_input = 3, spec.n_cell = 4;
    seeds.push_back(write_model(qlite::test::lstm_model(spec)));
  }
  // The elementwise math, comparison, select and reduction ops (int8, float32, int32, bool).
  seeds.push_back(write_model(qlite::test::math_models::math_chain()));
  seeds.push_back(write_model(qlite::test::math_models::float_int_chain()));
  {  // int8 TRANSPOSE_CONV (per-channel weights, int32 bias, stride 2) then BATCH_MATMUL with a constant rhs
    ModelBuilder b;
    const int32_t x = b.add_tensor("x", TensorType::kInt8, {1, 3, 3, 2}, Quantization::per_tensor(0.05f, -3), {-1, 3, 3, 2});
    const int32_t os = b.add_constant("os", TensorType::kInt32, {4}, std::vector<int32_t>{1, 6, 6, 3});
    const int32_t w = b.add_constant("w", TensorType::kInt8, {3, 3, 3, 2}, std::vector<int8_t>(54, 5),
                                     Quantization::per_axis({0.01f, 0.02f, 0.03f}, {0, 0, 0}, 0));
    const int32_t bias = b.add_constant("b", TensorType::kInt32, {3}, std::vector<int32_t>{7, -8, 9},
                                        Quantization::per_axis({0.0005f, 0.001f, 0.0015f}, {0, 0, 0}, 0));
    const int32_t t = b.add_tensor("t", TensorType::kInt8, {1, 6, 6, 3}, Quantization::per_tensor(0.1f, 4));
    const int32_t rhs = b.add_constant("rhs", TensorType::kInt8, {4, 3}, std::vector<int8_t>{1, -2, 3, -4, 5, -6, 7, -8, 9, -10, 11, -12},
                                       Quantization::per_tensor(0.02f, 1));
    const int32_t y = b.add_tensor("y", TensorType::kInt8, {1, 6, 6, 4}, Quantization::per_tensor(0.2f, -5));
    b.add_operator(BuiltinOp::kTransposeConv, {os, w, x, bias}, {t}, TransposeConvOptions{Padding::kSame, 2, 2});
    b.add_operator(BuiltinOp::kBatchMatmul, {t, rhs}, {y}, BatchMatMulOptions{false, true, false});
    b.set_inputs({x});
    b.set_outputs({y});
    seeds.push_back(b.finish());
  }
  {  // float32 BATCH_MATMUL of two inputs with broadcast batch dimensions, then TRANSPOSE_CONV (VALID, no bias)
    ModelBuilder b;
    const int32_t x = b.add_tensor("x", TensorType::kFloat32, {2, 2, 3, 4});
    const int32_t z = b.add_tensor("z", TensorType::kFloat32, {2, 1, 4, 2});
    const int32_t m = b.add_tensor("m", TensorType::kFloat32, {2, 2, 3, 2});
    const int32_t os = b.add_constant("os", TensorType::kInt32, {4}, std::vector<int32_t>{2, 3, 3, 1});
    const int32_t w = b.add_constant("w", TensorType::kFloat32, {1, 2, 1, 2}, std::vector<float>{0.5f, -1.0f, 2.0f, 0.25f});
    const int32_t y = b.add_tensor("y", TensorType::kFloat32, {2, 3, 3, 1});
    b.add_operator(BuiltinOp::kBatchMatmul, {x, z}, {m}, BatchMatMulOptions{});
    b.add_operator(BuiltinOp::kTransposeConv, {os, w, m, -1}, {y}, TransposeConvOptions{Padding::kValid, 1, 1});
    b.set_inputs({x, z});
    b.set_outputs({y});
    seeds.push_back(b.finish());
  }
  {  // int16 (16x8) LOGISTIC -> TANH -> SOFTMAX -> power-of-two SUB: TFLite's fixed output scale 2^-15
    ModelBuilder b;
    const Quantization in_q = Quantization::per_tensor(1.0f / 4096, 0), out_q = Quantization::per_tensor(1.0f / 32768, 0);
    const int32_t x = b.add_tensor("x", TensorType::kInt16, {1, 2, 8}, in_q, {-1, 2, 8});
    const int32_t l = b.add_tensor("l", TensorType::kInt16, {1, 2, 8}, out_q);
    const int32_t t = b.add_tensor("t", TensorType::kInt16, {1, 2, 8}, out_q);
    const int32_t m = b.add_tensor("m", TensorType::kInt16, {1, 2, 8}, out_q);
    const int32_t y = b.add_tensor("y", TensorType::kInt16, {1, 2, 8}, out_q);
    b.add_operator(BuiltinOp::kLogistic, {x}, {l});
    b.add_operator(BuiltinOp::kTanh, {l}, {t});
    b.add_operator(BuiltinOp::kSoftmax, {t}, {m}, SoftmaxOptions{1.0f});
    b.add_operator(BuiltinOp::kSub, {m, l}, {y}, SubOptions{});
    b.set_inputs({x});
    b.set_outputs({y});
    seeds.push_back(b.finish());
  }
  {  // int8 RSQRT -> L2_NORMALIZATION -> LOG_SOFTMAX (TFLite's fixed output parameters)
    ModelBuilder b;
    const int32_t x = b.add_tensor("x", TensorType::kInt8, {1, 3, 4}, Quantization::per_tensor(0.05f, -128), {-1, 3, 4});
    const int32_t r = b.add_tensor("r", TensorType::kInt8, {1, 3, 4}, Quantization::per_tensor(0.1f, -20));
    const int32_t n = b.add_tensor("n", TensorType::kInt8, {1, 3, 4}, Quantization::per_tensor(1.0f / 128, 0));
    const int32_t y = b.add_tensor("y", TensorType::kInt8, {1, 3, 4}, Quantization::per_tensor(16.0f / 256, 127));
    b.add_operator(BuiltinOp::kRsqrt, {x}, {r});
    b.add_operator(BuiltinOp::kL2Normalization, {r}, {n}, L2NormOptions{});
    b.add_operator(BuiltinOp::kLogSoftmax, {n}, {y}, LogSoftmaxOptions{});
    b.set_inputs({x});
    b.set_outputs({y});
    seeds.push_back(b.finish());
  }
  {  // shape arithmetic computed while preparing: RESHAPE(x, PACK(STRIDED_SLICE(SHAPE(x)), -1)), then uint8 DIV
    ModelBuilder b;
    const Quantization q = Quantization::per_tensor(0.5f, 10);
    const int32_t x = b.add_tensor("x", TensorType::kUInt8, {1, 2, 3}, q, {-1, 2, 3});
    const int32_t s = b.add_tensor("s", TensorType::kInt32, {3});
    const int32_t begin = b.add_constant("begin", TensorType::kInt32, {1}, std::vector<int32_t>{0});
    const int32_t end = b.add_constant("end", TensorType::kInt32, {1}, std::vector<int32_t>{1});
    const int32_t stride = b.add_constant("stride", TensorType::kInt32, {1}, std::vector<int32_t>{1});
    const int32_t batch = b.add_tensor("batch", TensorType::kInt32, {});
    const int32_t minus1 = b.add_constant("minus1", TensorType::kInt32, {}, std::vector<int32_t>{-1});
    const int32_t shape = b.add_tensor("shape", TensorType::kInt32, {2});
    const int32_t f = b.add_tensor("f", TensorType::kUInt8, {1, 6}, q, {-1, 6});
    const int32_t d = b.add_constant("d", TensorType::kUInt8, {6}, std::vector<uint8_t>{11, 12, 20, 30, 200, 255}, q);
    const int32_t y = b.add_tensor("y", TensorType::kUInt8, {1, 6}, Quantization::per_tensor(0.25f, 3), {-1, 6});
    StridedSliceOptions so;
    so.shrink_axis_mask = 1;
    b.add_operator(BuiltinOp::kShape, {x}, {s}, ShapeOptions{TensorType::kInt32});
    b.add_operator(BuiltinOp::kStridedSlice, {s, begin, end, stride}, {batch}, so);
    b.add_operator(BuiltinOp::kPack, {batch, minus1}, {shape}, PackOptions{2, 0});
    b.add_operator(BuiltinOp::kReshape, {x, shape}, {f}, ReshapeOptions{});
    b.add_operator(BuiltinOp::kDiv, {f, d}, {y}, DivOptions{});
    b.set_inputs({x});
    b.set_outputs({y});
    seeds.push_back(b.finish());
  }
  {  // dynamic shapes: PAD with its paddings a graph input -> ADD, TILE with its
     // multiples a graph input -> RESHAPE to a shape input (prepared at invoke)
    ModelBuilder b;
    const int32_t x = b.add_tensor("x", TensorType::kFloat32, {1, 4, 4, 1}, {}, {-1, 4, 4, 1});
    const int32_t pads = b.add_tensor("paddings", TensorType::kInt32, {4, 2});
    const int32_t p = b.add_tensor("p", TensorType::kFloat32, {1, 4, 4, 1});
    const int32_t a = b.add_tensor("a", TensorType::kFloat32, {1, 4, 4, 1});
    const int32_t mult = b.add_tensor("multiples", TensorType::kInt32, {4});
    const int32_t t = b.add_tensor("t", TensorType::kFloat32, {1, 4, 4, 1});
    const int32_t shape = b.add_tensor("shape", TensorType::kInt32, {1});
    const int32_t r = b.add_tensor("r", TensorType::kFloat32, {16});
    b.add_operator(BuiltinOp::kPad, {x, pads}, {p}, PadOptions{});
    b.add_operator(BuiltinOp::kAdd, {p, p}, {a}, AddOptions{});
    b.add_operator(BuiltinOp::kTile, {a, mult}, {t}, TileOptions{});
    b.add_operator(BuiltinOp::kReshape, {t, shape}, {r}, ReshapeOptions{});
    b.set_inputs({x, pads, mult, shape});
    b.set_outputs({a, r});
    seeds.push_back(b.finish());
  }
  {  // types16: DEPTHWISE_CONV_2D 16x8 -> int16 MAX_POOL / AVERAGE_POOL -> MUL int16 -> int8 ->
     // quantized REDUCE_PROD -> SOFTMAX int8 -> int16, and int16 MEAN over axis 3, QUANTIZE int16 -> int32
    ModelBuilder b;
    const Quantization q16 = Quantization::per_tensor(1.0f / 4096, 0), q8 = Quantization::per_tensor(1.0f / 128, 0);
    const int32_t x = b.add_tensor("x", TensorType::kInt16, {1, 6, 6, 2}, q16, {-1, 6, 6, 2});
    const int32_t w = b.add_constant("w", TensorType::kInt8, {1, 3, 3, 4}, std::vector<int8_t>(36, 3),
                                     Quantization::per_axis({0.01f, 0.02f, 0.03f, 0.04f}, {0, 0, 0, 0}, 3));
    const int32_t bias = b.add_constant("bias", TensorType::kInt64, {4}, std::vector<int64_t>{5, -5, 7, -7},
                                        Quantization::per_axis({0.01f / 4096, 0.02f / 4096, 0.03f / 4096, 0.04f / 4096},
                                                               {0, 0, 0, 0}, 0));
    const int32_t t1 = b.add_tensor("t1", TensorType::kInt16, {1, 6, 6, 4}, q16);
    const int32_t t2 = b.add_tensor("t2", TensorType::kInt16, {1, 3, 3, 4}, q16);
    const int32_t t3 = b.add_tensor("t3", TensorType::kInt16, {1, 3, 3, 4}, q16);
    const int32_t t4 = b.add_tensor("t4", TensorType::kInt8, {1, 3, 3, 4}, q8);
    const int32_t ax = b.add_constant("ax", TensorType::kInt32, {2}, std::vector<int32_t>{1, 2});
    const int32_t t5 = b.add_tensor("t5", TensorType::kInt8, {1, 4}, q8);
    const int32_t y = b.add_tensor("y", TensorType::kInt16, {1, 4}, Quantization::per_tensor(1.0f / 32768, 0));
    const int32_t ax3 = b.add_constant("ax3", TensorType::kInt32, {1}, std::vector<int32_t>{3});
    const int32_t m = b.add_tensor("m", TensorType::kInt16, {1, 3, 3}, Quantization::per_tensor(1.0f / 2048, 0));
    const int32_t z = b.add_tensor("z", TensorType::kInt32, {1, 3, 3}, Quantization::per_tensor(1.0f / 65536, 3));
    DepthwiseConv2DOptions dw;
    dw.depth_multiplier = 2;
    b.add_operator(BuiltinOp::kDepthwiseConv2D, {x, w, bias}, {t1}, dw);
    Pool2DOptions pool;
    pool.filter_h = pool.filter_w = pool.stride_h = pool.stride_w = 2;
    b.add_operator(BuiltinOp::kMaxPool2D, {t1}, {t2}, pool);
    pool.filter_h = pool.filter_w = 3;
    pool.stride_h = pool.stride_w = 1;
    pool.padding = Padding::kSame;
    b.add_operator(BuiltinOp::kAveragePool2D, {t2}, {t3}, pool);
    b.add_operator(BuiltinOp::kMul, {t2, t3}, {t4}, MulOptions{});
    b.add_operator(BuiltinOp::kReduceProd, {t4, ax}, {t5}, ReducerOptions{false});
    b.add_operator(BuiltinOp::kSoftmax, {t5}, {y}, SoftmaxOptions{1.0f});
    b.add_operator(BuiltinOp::kMean, {t3, ax3}, {m}, ReducerOptions{false});
    b.add_operator(BuiltinOp::kQuantize, {m}, {z});
    b.set_inputs({x});
    b.set_outputs({y, z});
    seeds.push_back(b.finish());
  }
  {  // hybrid DEPTHWISE_CONV_2D (float input, int8 filter per channel, float bias), then float MEAN over axis 3
    ModelBuilder b;
    const int32_t x = b.add_tensor("x", TensorType::kFloat32, {1, 4, 4, 2}, Quantization{}, {-1, 4, 4, 2});
    const int32_t w = b.add_constant("w", TensorType::kInt8, {1, 2, 2, 2}, std::vector<int8_t>{1, -2, 3, -4, 5, -6, 7, -8},
                                     Quantization::per_axis({0.01f, 0.02f}, {0, 0}, 3));
    const int32_t bias = b.add_constant("bias", TensorType::kFloat32, {2}, std::vector<float>{0.5f, -0.5f});
    const int32_t t = b.add_tensor("t", TensorType::kFloat32, {1, 4, 4, 2});
    const int32_t ax = b.add_constant("ax", TensorType::kInt32, {1}, std::vector<int32_t>{-1});
    const int32_t y = b.add_tensor("y", TensorType::kFloat32, {1, 4, 4, 1});
    b.add_operator(BuiltinOp::kDepthwiseConv2D, {x, w, bias}, {t}, DepthwiseConv2DOptions{});
    b.add_operator(BuiltinOp::kMean, {t, ax}, {y}, ReducerOptions{true});
    b.set_inputs({x});
    b.set_outputs({y});
    seeds.push_back(b.finish());
  }
  {  // operands computed at run time (a graph input plus a constant, so zeroed
     // inputs give valid values): TRANSPOSE_CONV's output_shape, then hybrid
     // BATCH_MATMUL (float x constant int8, asymmetric inputs), CUMSUM's axis
     // and PADV2's constant_values
    ModelBuilder b;
    const int32_t x = b.add_tensor("x", TensorType::kFloat32, {1, 3, 3, 2});
    const int32_t os_in = b.add_tensor("os_in", TensorType::kInt32, {4});
    const int32_t os_c = b.add_constant("os_c", TensorType::kInt32, {4}, std::vector<int32_t>{1, 6, 6, 3});
    const int32_t os = b.add_tensor("os", TensorType::kInt32, {4});
    b.add_operator(BuiltinOp::kAdd, {os_in, os_c}, {os}, AddOptions{});
    const int32_t w = b.add_constant("w", TensorType::kFloat32, {3, 3, 3, 2}, std::vector<float>(54, 0.25f));
    const int32_t t = b.add_tensor("t", TensorType::kFloat32, {1, 6, 6, 3});
    b.add_operator(BuiltinOp::kTransposeConv, {os, w, x}, {t}, TransposeConvOptions{Padding::kSame, 2, 2});
    const int32_t r = b.add_constant("r", TensorType::kInt8, {3, 4}, std::vector<int8_t>{1, -2, 3, -4, 5, -6, 7, -8, 9, -10, 11, -12},
                                     Quantization::per_tensor(0.02f, 0));
    const int32_t u = b.add_tensor("u", TensorType::kFloat32, {1, 6, 6, 4});
    b.add_operator(BuiltinOp::kBatchMatmul, {t, r}, {u}, BatchMatMulOptions{false, false, true});
    const int32_t ax_in = b.add_tensor("ax_in", TensorType::kInt32, {});
    const int32_t ax_c = b.add_constant("ax_c", TensorType::kInt32, {}, std::vector<int32_t>{2});
    const int32_t ax = b.add_tensor("ax", TensorType::kInt32, {});
    b.add_operator(BuiltinOp::kAdd, {ax_in, ax_c}, {ax}, AddOptions{});
    const int32_t cs = b.add_tensor("cs", TensorType::kFloat32, {1, 6, 6, 4});
    b.add_operator(BuiltinOp::kCumsum, {u, ax}, {cs}, CumsumOptions{false, true});
    const int32_t v_in = b.add_tensor("v_in", TensorType::kFloat32, {});
    const int32_t v_c = b.add_constant("v_c", TensorType::kFloat32, {}, std::vector<float>{0.5f});
    const int32_t v = b.add_tensor("v", TensorType::kFloat32, {});
    b.add_operator(BuiltinOp::kAdd, {v_in, v_c}, {v}, AddOptions{});
    const int32_t pads = b.add_constant("pads", TensorType::kInt32, {4, 2}, std::vector<int32_t>{0, 0, 1, 0, 0, 2, 0, 0});
    const int32_t y = b.add_tensor("y", TensorType::kFloat32, {1, 7, 8, 4});
    b.add_operator(BuiltinOp::kPadV2, {cs, pads, v}, {y}, PadV2Options{});
    b.set_inputs({x, os_in, ax_in, v_in});
    b.set_outputs({y});
    seeds.push_back(b.finish());
  }
  {  // quantized MEAN (int16) and REDUCE_PROD (int8) over axes computed at run
     // time (a graph input plus a constant: zeroed inputs give (1, 2))
    ModelBuilder b;
    const Quantization q16 = Quantization::per_tensor(1.0f / 1024, 0), q8 = Quantization::per_tensor(0.05f, 2);
    const int32_t x = b.add_tensor("x", TensorType::kInt16, {1, 3, 4, 2}, q16);
    const int32_t ax_in = b.add_tensor("ax_in", TensorType::kInt32, {2});
    const int32_t ax_c = b.add_constant("ax_c", TensorType::kInt32, {2}, std::vector<int32_t>{1, 2});
    const int32_t ax = b.add_tensor("ax", TensorType::kInt32, {2});
    b.add_operator(BuiltinOp::kAdd, {ax_in, ax_c}, {ax}, AddOptions{});
    const int32_t m = b.add_tensor("m", TensorType::kInt16, {1, 1, 1, 2}, q16);
    b.add_operator(BuiltinOp::kMean, {x, ax}, {m}, ReducerOptions{true});
    const int32_t x8 = b.add_tensor("x8", TensorType::kInt8, {1, 3, 4, 2}, q8);
    const int32_t p = b.add_tensor("p", TensorType::kInt8, {1, 2}, q8);
    b.add_operator(BuiltinOp::kReduceProd, {x8, ax}, {p}, ReducerOptions{false});
    b.set_inputs({x, ax_in, x8});
    b.set_outputs({m, p});
    seeds.push_back(b.finish());
  }
  {  // RESIZE_BILINEAR's vectorized float paths: float32 2x (the 2x2 kernel),
     // then uint8 with half-pixel centers to an odd size, 9 channels (a vector
     // and a tail)
    ModelBuilder b;
    const Quantization q = Quantization::per_tensor(0.02f, 7);
    const int32_t x = b.add_tensor("x", TensorType::kFloat32, {1, 3, 3, 9}, {}, {-1, 3, 3, 9});
    const int32_t size1 = b.add_constant("size1", TensorType::kInt32, {2}, std::vector<int32_t>{6, 6});
    const int32_t up = b.add_tensor("up", TensorType::kFloat32, {1, 6, 6, 9});
    const int32_t uq = b.add_tensor("uq", TensorType::kUInt8, {1, 6, 6, 9}, q);
    const int32_t size2 = b.add_constant("size2", TensorType::kInt32, {2}, std::vector<int32_t>{5, 7});
    const int32_t r = b.add_tensor("r", TensorType::kUInt8, {1, 5, 7, 9}, q);
    const int32_t y = b.add_tensor("y", TensorType::kFloat32, {1, 5, 7, 9}, {}, {-1, 5, 7, 9});
    b.add_operator(BuiltinOp::kResizeBilinear, {x, size1}, {up}, ResizeBilinearOptions{false, false});
    b.add_operator(BuiltinOp::kQuantize, {up}, {uq}, {});
    b.add_operator(BuiltinOp::kResizeBilinear, {uq, size2}, {r}, ResizeBilinearOptions{false, true});
    b.add_operator(BuiltinOp::kDequantize, {r}, {y}, {});
    b.set_inputs({x});
    b.set_outputs({y});
    seeds.push_back(b.finish());
  }
  for (const bool int8 : {false, true}) {  // SVDF with its variable state, float32 and int8
    ModelBuilder b;
    const TensorType ft = int8 ? TensorType::kInt8 : TensorType::kFloat32;
    const Quantization q8 = int8 ? Quantization::per_tensor(0.05f, 3) : Quantization{};
    const int32_t in = b.add_tensor("in", ft, {2, 3}, q8);
    const int32_t wf = int8 ? b.add_constant("wf", ft, {4, 3}, std::vector<int8_t>{1, -2, 3, 4, 5, -6, 7, 8, 9, 10, 11, 12},
                                             Quantization::per_tensor(0.02f, 0))
                            : b.add_constant("wf", ft, {4, 3}, std::vector<float>(12, 0.5f));
    const int32_t wt = int8 ? b.add_constant("wt", TensorType::kInt16, {4, 2}, std::vector<int16_t>{1, 2, 3, 4, 5, 6, 7, 8},
                                             Quantization::per_tensor(0.001f, 0))
                            : b.add_constant("wt", ft, {4, 2}, std::vector<float>(8, 0.25f));
    const int32_t state = b.add_tensor("state", int8 ? TensorType::kInt16 : ft, {2, 8},
                                       int8 ? Quantization::per_tensor(0.004f, 0) : Quantization{});
    b.graph().tensors[static_cast<size_t>(state)].is_variable = true;
    const int32_t out = b.add_tensor("out", ft, {2, 2}, int8 ? Quantization::per_tensor(0.01f, -5) : Quantization{});
    b.add_operator(BuiltinOp::kSvdf, {in, wf, wt, -1, state}, {out}, SvdfOptions{2, qlite::Activation::kRelu, false});
    b.set_inputs({in});
    b.set_outputs({out});
    seeds.push_back(b.finish());
  }
  {  // BROADCAST_ARGS of a run-time shape and a constant one
    ModelBuilder b;
    const int32_t a = b.add_tensor("a", TensorType::kInt32, {3});
    const int32_t c = b.add_constant("c", TensorType::kInt32, {2}, std::vector<int32_t>{1, 4});
    const int32_t out = b.add_tensor("out", TensorType::kInt32, {3});
    b.add_operator(BuiltinOp::kBroadcastArgs, {a, c}, {out});
    b.set_inputs({a});
    b.set_outputs({out});
    seeds.push_back(b.finish());
  }
  {  // resource variables: CALL_ONCE of an init subgraph, a [1, 3] accumulator and a scalar counter
    ModelBuilder b;
    b.add_subgraph("init");
    const int32_t ih = b.add_tensor("h", TensorType::kResource, {});
    const int32_t iv = b.add_constant("initial", TensorType::kFloat32, {1, 3}, std::vector<float>{1, 2, 3});
    const int32_t ic = b.add_constant("zero", TensorType::kFloat32, {}, std::vector<float>{0});
    const int32_t id = b.add_constant("id_count", TensorType::kInt32, {}, std::vector<int32_t>{1});
    b.add_operator(BuiltinOp::kVarHandle, {}, {ih}, VarHandleOptions{"", "acc"});
    b.add_operator(BuiltinOp::kAssignVariable, {ih, iv}, {});
    b.add_operator(BuiltinOp::kAssignVariable, {id, ic}, {});
    b.use_subgraph(0);
    const int32_t x = b.add_tensor("x", TensorType::kFloat32, {1, 3});
    const int32_t h = b.add_tensor("h", TensorType::kResource, {});
    const int32_t prev = b.add_tensor("prev", TensorType::kFloat32, {1, 3});
    const int32_t acc = b.add_tensor("acc", TensorType::kFloat32, {1, 3});
    const int32_t hc = b.add_constant("id_count", TensorType::kInt32, {}, std::vector<int32_t>{1});
    const int32_t c = b.add_tensor("c", TensorType::kFloat32, {});
    const int32_t c1 = b.add_tensor("c1", TensorType::kFloat32, {});
    b.add_operator(BuiltinOp::kCallOnce, {}, {}, CallOnceOptions{1});
    b.add_operator(BuiltinOp::kVarHandle, {}, {h}, VarHandleOptions{"", "acc"});
    b.add_operator(BuiltinOp::kReadVariable, {h}, {prev});
    b.add_operator(BuiltinOp::kAdd, {prev, x}, {acc}, AddOptions{});
    b.add_operator(BuiltinOp::kAssignVariable, {h, acc}, {});
    b.add_operator(BuiltinOp::kReadVariable, {hc}, {c});
    b.add_operator(BuiltinOp::kAdd, {c, c}, {c1}, AddOptions{});
    b.add_operator(BuiltinOp::kAssignVariable, {hc, c1}, {});
    b.set_inputs({x});
    b.set_outputs({acc, c1});
    seeds.push_back(b.finish());
  }
  {  // WHILE (a counter and an accumulator) whose body holds an IF (add or subtract the step)
    ModelBuilder b;
    auto vars = [&b] {
      return std::vector<int32_t>{b.add_tensor("i", TensorType::kInt32, {}), b.add_tensor("lim", TensorType::kInt32, {}),
                                  b.add_tensor("acc", TensorType::kFloat32, {1, 3}),
                                  b.add_tensor("step", TensorType::kFloat32, {1, 3})};
    };
    b.add_subgraph("cond");
    {
      const std::vector<int32_t> v = vars();
      const int32_t c = b.add_tensor("c", TensorType::kBool, {});
      b.add_operator(BuiltinOp::kLess, {v[0], v[1]}, {c});
      b.set_inputs(v);
      b.set_outputs({c});
    }
    b.add_subgraph("body");
    {
      const std::vector<int32_t> v = vars();
      const int32_t one = b.add_constant("one", TensorType::kInt32, {}, std::vector<int32_t>{1});
      const int32_t two = b.add_constant("two", TensorType::kInt32, {}, std::vector<int32_t>{2});
      const int32_t i1 = b.add_tensor("i1", TensorType::kInt32, {});
      const int32_t m = b.add_tensor("m", TensorType::kInt32, {});
      const int32_t even = b.add_tensor("even", TensorType::kBool, {});
      const int32_t acc1 = b.add_tensor("acc1", TensorType::kFloat32, {1, 3});
      b.add_operator(BuiltinOp::kAdd, {v[0], one}, {i1}, AddOptions{});
      b.add_operator(BuiltinOp::kFloorMod, {v[0], two}, {m});
      b.add_operator(BuiltinOp::kLess, {m, one}, {even});
      b.add_operator(BuiltinOp::kIf, {even, v[2], v[3]}, {acc1}, IfOptions{3, 4});
      b.set_inputs(v);
      b.set_outputs({i1, v[1], acc1, v[3]});
    }
    for (const BuiltinOp op : {BuiltinOp::kAdd, BuiltinOp::kSub}) {
      b.add_subgraph();
      const int32_t a = b.add_tensor("a", TensorType::kFloat32, {1, 3});
      const int32_t s = b.add_tensor("s", TensorType::kFloat32, {1, 3});
      const int32_t o = b.add_tensor("o", TensorType::kFloat32, {1, 3});
      if (op == BuiltinOp::kAdd) b.add_operator(op, {a, s}, {o}, AddOptions{});
      else b.add_operator(op, {a, s}, {o}, SubOptions{});
      b.set_inputs({a, s});
      b.set_outputs({o});
    }
    b.use_subgraph(0);
    const std::vector<int32_t> in = vars(), out = vars();
    b.add_operator(BuiltinOp::kWhile, in, out, WhileOptions{1, 2});
    b.set_inputs(in);
    b.set_outputs({out[0], out[2]});
    seeds.push_back(b.finish());
  }
  for (const bool regular : {false, true}) {  // CUSTOM 'TFLite_Detection_PostProcess', uint8 and float
    ModelBuilder b;
    const Quantization qb = Quantization::per_tensor(0.05f, 128), qa = Quantization::per_tensor(1.0f / 255, 0);
    const TensorType bt = regular ? TensorType::kFloat32 : TensorType::kUInt8;
    const int32_t boxes = b.add_tensor("boxes", bt, {1, 6, 4}, regular ? Quantization{} : qb);
    const int32_t classes = b.add_tensor("classes", TensorType::kUInt8, {1, 6, 3}, qa);
    std::vector<uint8_t> anchor_bytes;
    for (int i = 0; i < 6; ++i)
      for (const float v : {0.2f + 0.1f * i, 0.5f, 0.3f, 0.3f}) {
        if (regular) {
          const auto* f = reinterpret_cast<const uint8_t*>(&v);
          anchor_bytes.insert(anchor_bytes.end(), f, f + 4);
        } else {
          anchor_bytes.push_back(static_cast<uint8_t>(v * 255));
        }
      }
    const int32_t anchors = b.add_constant("anchors", bt, {6, 4}, anchor_bytes, regular ? Quantization{} : qa);
    // max_detections x max_classes_per_detection slots (detection_options):
    // the fast seed's 8 were declared 4, so it was refused at load and only
    // its mutations that happened to fix the shape reached the op.
    const int32_t slots = regular ? 4 : 8;
    const int32_t ob = b.add_tensor("det_boxes", TensorType::kFloat32, {1, slots, 4});
    const int32_t oc = b.add_tensor("det_classes", TensorType::kFloat32, {1, slots});
    const int32_t os = b.add_tensor("det_scores", TensorType::kFloat32, {1, slots});
    const int32_t on = b.add_tensor("num_detections", TensorType::kFloat32, {1});
    b.add_custom_operator("TFLite_Detection_PostProcess", {boxes, classes, anchors}, {ob, oc, os, on},
                          detection_options(regular));
    b.set_inputs({boxes, classes});
    b.set_outputs({ob, oc, os, on});
    seeds.push_back(b.finish());
  }
  return seeds;
}

void run(qlite::runtime::Interpreter& it) {
  for (size_t i = 0; i < it.num_inputs(); ++i) {
    auto in = it.input_bytes(i);
    std::memset(in.data(), 0, in.size());
  }
  it.invoke();
}

}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  qlite::fuzz::write_seeds("runtime_seed_", seed_models());
  return 0;
}

// Planning is fuzzed at any size the options allow; invoking only when the
// plan is small, since a valid file can describe billions of multiply-adds
// (a wide output times a kernel as large as the file), which is work, not a bug.
constexpr size_t kInvokeArenaBytes = size_t{64} << 10;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  try {
    qlite::runtime::InterpreterOptions o;
    o.max_arena_bytes = size_t{64} << 20;
    o.max_loop_iterations = 64;  // a WHILE that never ends is the file's, not a bug
    auto it = qlite::runtime::Interpreter::from_buffer({data, size}, o);
    if (it->arena_bytes() <= kInvokeArenaBytes) run(*it);
    it->resize_batch(3);
    it->reset_variables();
    if (it->arena_bytes() <= kInvokeArenaBytes) run(*it);
  } catch (const qlite::Error&) {
  }
  return 0;
}
