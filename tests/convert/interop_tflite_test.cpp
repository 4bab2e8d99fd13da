// Interop, bit for bit: every file the converter writes runs in the real
// TensorFlow Lite 2.9 interpreter (dlopen, tests/support/tflite_peer.h, shared with
// tests/lite) and in qlite's runtime on the same inputs:
//  - int8 outputs identical;
//  - float32 / float16-weight outputs within 1e-5 relative (to the largest
//    magnitude of the image's logits);
//  - dynamic-range outputs within 1e-3 relative, same arg-max on >= 99.9%.
// Skipped with the reason when the library is not installed
// (scripts/install_peers.sh).
#include <cmath>

#include "convert_test_util.h"
#include "tflite_peer.h"

namespace qlite::test {
namespace {

using convert::IoType;
using convert::Mode;

constexpr int64_t kImages = 1000;

#define REQUIRE_PEER(peer)                          \
  const TfLitePeer* peer = TfLitePeer::get();       \
  if (peer == nullptr) GTEST_SKIP() << "TFLite 2.9 unavailable: " << TfLitePeer::unavailable_reason()

struct Compared {
  int64_t values = 0, rows = 0;
  int64_t exact = 0;          // identical values
  double max_rel = 0;         // max |a - b| / max|row of b|
  int64_t argmax_same = 0;
};

Compared compare_with_tflite(const TfLitePeer& peer, const convert::ConvertResult& r, const Tensor& x) {
  const auto& g = r.model.subgraphs[0];
  const auto& in = g.tensors[static_cast<size_t>(g.inputs[0])];
  const float scale = in.quantization.scale.empty() ? 0.0f : in.quantization.scale[0];
  const int32_t zp = in.quantization.zero_point.empty() ? 0 : static_cast<int32_t>(in.quantization.zero_point[0]);
  std::vector<int32_t> shape{static_cast<int32_t>(x.dim(0))};
  for (size_t d = 1; d < x.rank(); ++d) shape.push_back(static_cast<int32_t>(x.dim(d)));
  const auto theirs = peer.run(r.bytes, {PeerInput{shape, input_bytes_for(x, in.type, scale, zp)}});
  const RunOutput ours = run_qlite(r.bytes, x);
  EXPECT_EQ(theirs.size(), 1u);
  Compared c;
  if (theirs.empty()) return c;
  std::vector<float> tv;
  if (ours.type == lite::TensorType::kFloat32) {
    tv = theirs[0].values<float>();
  } else {
    const bool u8 = ours.type == lite::TensorType::kUInt8;
    for (uint8_t b : theirs[0].bytes) tv.push_back(u8 ? b : static_cast<int8_t>(b));
  }
  EXPECT_EQ(tv.size(), ours.values.size());
  if (tv.size() != ours.values.size()) return c;
  const int64_t k = ours.classes;
  c.values = static_cast<int64_t>(tv.size());
  c.rows = c.values / k;
  for (int64_t row = 0; row < c.rows; ++row) {
    std::vector<float> a(static_cast<size_t>(k)), b(static_cast<size_t>(k));
    float mag = 0;
    for (int64_t j = 0; j < k; ++j) {
      const size_t i = static_cast<size_t>(row * k + j);
      a[j] = ours.type == lite::TensorType::kFloat32 ? ours.values[i] : static_cast<float>(ours.raw[i]);
      b[j] = tv[i];
      mag = std::max(mag, std::fabs(b[j]));
    }
    for (int64_t j = 0; j < k; ++j) {
      c.exact += a[j] == b[j];
      if (mag > 0) c.max_rel = std::max(c.max_rel, static_cast<double>(std::fabs(a[j] - b[j]) / mag));
    }
    c.argmax_same += argmax(a.data(), static_cast<int>(k)) == argmax(b.data(), static_cast<int>(k));
  }
  return c;
}

class TfliteInterop : public ::testing::Test {
 protected:
  void SetUp() override {
    if (fashion() == nullptr) GTEST_SKIP() << "Fashion-MNIST not installed";
    x_ = rows(fashion()->test.x, 0, kImages);
    rep_ = rows(fashion()->train.x, 0, 100);
  }
  Tensor x_, rep_;
};

TEST_F(TfliteInterop, Float32WithinOneInHundredThousand) {
  REQUIRE_PEER(peer);
  const Compared c = compare_with_tflite(*peer, convert_with(brief_seed(), Mode::kFloat32), x_);
  EXPECT_EQ(c.rows, kImages);
  EXPECT_LE(c.max_rel, 1e-5);
  EXPECT_EQ(c.argmax_same, c.rows);
}

TEST_F(TfliteInterop, Float16WithinOneInHundredThousand) {
  REQUIRE_PEER(peer);
  const Compared c = compare_with_tflite(*peer, convert_with(brief_seed(), Mode::kFloat16), x_);
  EXPECT_EQ(c.rows, kImages);
  EXPECT_LE(c.max_rel, 1e-5);
  EXPECT_EQ(c.argmax_same, c.rows);
}

TEST_F(TfliteInterop, DynamicWithinOneInAThousand) {
  REQUIRE_PEER(peer);
  for (int64_t min_elements : {convert::kTfliteDynamicMinElements, int64_t{0}}) {
    convert::ConvertOptions o;
    o.mode = Mode::kDynamic;
    o.dynamic_min_elements = min_elements;
    const Compared c = compare_with_tflite(*peer, convert::convert_model(brief_seed(), o), x_);
    EXPECT_EQ(c.rows, kImages);
    EXPECT_LE(c.max_rel, 1e-3) << "min elements " << min_elements;
    EXPECT_GE(c.argmax_same * 1000, c.rows * 999) << "min elements " << min_elements;
  }
}

TEST_F(TfliteInterop, Int8IdenticalForEveryIoType) {
  REQUIRE_PEER(peer);
  for (IoType io : {IoType::kFloat32, IoType::kInt8, IoType::kUInt8}) {
    const auto r = convert_with(brief_seed(), Mode::kInt8, io, &rep_);
    const Compared c = compare_with_tflite(*peer, r, x_);
    EXPECT_EQ(c.rows, kImages) << convert::io_type_name(io);
    EXPECT_EQ(c.exact, c.values) << convert::io_type_name(io) << ", max rel " << c.max_rel;
  }
}

}  // namespace
}  // namespace qlite::test
