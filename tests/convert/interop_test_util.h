// Shared pieces of the interop tests (TensorFlow Lite, Arm NN): the images,
// the input bytes a converted graph takes, and a row-by-row comparison of
// qlite's outputs with the other implementation's.
#pragma once

#include <cmath>
#include <cstring>
#include <initializer_list>
#include <span>
#include <vector>

#include "convert_test_util.h"
#include "tflite_peer.h"

namespace qlite::test {

constexpr int64_t kInteropImages = 1000;

// The first kInteropImages test images, and 100 training images for calibration.
class InteropTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (fashion() == nullptr) GTEST_SKIP() << "Fashion-MNIST not installed";
    x_ = rows(fashion()->test.x, 0, kInteropImages);
    rep_ = rows(fashion()->train.x, 0, 100);
  }
  Tensor x_, rep_;
};

// x as input 0 of the converted graph takes it: its type, scale and zero point.
inline std::vector<uint8_t> graph_input_bytes(const convert::ConvertResult& r, const Tensor& x) {
  const auto& g = r.model.subgraphs[0];
  const auto& in = g.tensors[static_cast<size_t>(g.inputs[0])];
  const float scale = in.quantization.scale.empty() ? 0.0f : in.quantization.scale[0];
  const int32_t zp = in.quantization.zero_point.empty() ? 0 : static_cast<int32_t>(in.quantization.zero_point[0]);
  return input_bytes_for(x, in.type, scale, zp);
}

// Raw output bytes as numbers: float32 as is, int8 and uint8 as their integers.
inline std::vector<float> output_values(std::span<const uint8_t> bytes, lite::TensorType type) {
  std::vector<float> v;
  if (type == lite::TensorType::kFloat32) {
    v.resize(bytes.size() / 4);
    if (!v.empty()) std::memcpy(v.data(), bytes.data(), v.size() * 4);
    return v;
  }
  const bool u8 = type == lite::TensorType::kUInt8;
  for (uint8_t b : bytes) v.push_back(u8 ? b : static_cast<int8_t>(b));
  return v;
}

// qlite's outputs on the same scale: float32 values, or the raw integers.
inline std::vector<float> output_values(const RunOutput& ours) {
  if (ours.type == lite::TensorType::kFloat32) return ours.values;
  return std::vector<float>(ours.raw.begin(), ours.raw.end());
}

struct Compared {
  int64_t values = 0, rows = 0;
  int64_t exact = 0;          // |a - b| <= slack
  int64_t within_one = 0;     // |a - b| <= 1 + slack
  double max_rel = 0;         // max |a - b| / max|row of b|
  int64_t argmax_same = 0;
};

// Compares ours (a) with theirs (b), `classes` values a row. `slack` absorbs
// float rounding where the values are dequantized integer steps.
inline Compared compare_rows(const std::vector<float>& a, const std::vector<float>& b, int64_t classes,
                             float slack = 0.0f) {
  Compared c;
  EXPECT_EQ(a.size(), b.size());
  if (a.size() != b.size() || classes <= 0) return c;
  c.values = static_cast<int64_t>(a.size());
  c.rows = c.values / classes;
  for (int64_t row = 0; row < c.rows; ++row) {
    const float* ra = a.data() + row * classes;
    const float* rb = b.data() + row * classes;
    float mag = 0;
    for (int64_t j = 0; j < classes; ++j) mag = std::max(mag, std::fabs(rb[j]));
    for (int64_t j = 0; j < classes; ++j) {
      const float d = std::fabs(ra[j] - rb[j]);
      c.exact += d <= slack;
      c.within_one += d <= 1.0f + slack;
      if (mag > 0) c.max_rel = std::max(c.max_rel, static_cast<double>(d / mag));
    }
    c.argmax_same += argmax(ra, static_cast<int>(classes)) == argmax(rb, static_cast<int>(classes));
  }
  return c;
}

// Runs an int8 file (int8 or float I/O) on x ([N, ...], the file's input at
// batch N) in TFLite 2.9 and in qlite's runtime: {outputs equal, outputs},
// float outputs compared exactly. Sizes that differ are a test failure (and
// {0, 1}).
struct Int8Agreement {
  int64_t equal = 0, total = 0;
};
inline Int8Agreement int8_agreement(const TfLitePeer& peer, const convert::ConvertResult& r, const Tensor& x) {
  const std::vector<int32_t> shape(x.shape().begin(), x.shape().end());
  const auto theirs = peer.run(r.bytes, {PeerInput{shape, graph_input_bytes(r, x)}});
  const RunOutput ours = run_qlite(r.bytes, x);
  const std::vector<float> mine = output_values(ours);
  const auto& g = r.model.subgraphs[0];
  const std::vector<float> t =
      theirs.size() == 1u ? output_values(theirs[0].bytes, g.tensors[static_cast<size_t>(g.outputs[0])].type)
                          : std::vector<float>{};
  if (t.size() != mine.size() || t.empty()) {
    ADD_FAILURE() << "TFLite gave " << theirs.size() << " outputs (" << t.size() << " values), qlite "
                  << mine.size() << " values";
    return {0, 1};
  }
  Int8Agreement a{0, static_cast<int64_t>(t.size())};
  for (size_t k = 0; k < t.size(); ++k) a.equal += t[k] == mine[k];
  return a;
}

// Each model converted to int8 (int8 I/O; a float model calibrated on the
// first 100 training images) gives TFLite 2.9's bytes on the first 500 test
// images of Fashion-MNIST.
inline void expect_int8_files_identical_to_tflite(const TfLitePeer& peer, const Dataset& ds,
                                                  std::initializer_list<const Model*> models) {
  const Tensor x = rows(ds.test.x, 0, 500);
  const Tensor rep = rows(ds.train.x, 0, 100);
  for (const Model* m : models) {
    const auto r = convert_with(*m, convert::Mode::kInt8, convert::IoType::kInt8, &rep);
    const Int8Agreement a = int8_agreement(peer, r, x);
    EXPECT_EQ(a.equal, a.total) << m->name();
  }
}

}  // namespace qlite::test
