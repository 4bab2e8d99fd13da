// Interop, bit for bit: every file the converter writes runs in the real
// TensorFlow Lite 2.9 interpreter (dlopen, tests/support/tflite_peer.h, shared with
// tests/lite) and in qlite's runtime on the same inputs:
//  - int8 outputs identical;
//  - float32 / float16-weight outputs within 1e-5 relative (to the largest
//    magnitude of the image's logits);
//  - dynamic-range outputs within 1e-3 relative, same arg-max on >= 99.9%.
// Skipped with the reason when the library is not installed
// (scripts/install_peers.sh); under CI=true that is a failure (peer_requirement.h).
#include "interop_test_util.h"
#include "tflite_peer.h"

namespace qlite::test {
namespace {

using convert::IoType;
using convert::Mode;

constexpr int64_t kImages = kInteropImages;

Compared compare_with_tflite(const TfLitePeer& peer, const convert::ConvertResult& r, const Tensor& x) {
  std::vector<int32_t> shape{static_cast<int32_t>(x.dim(0))};
  for (size_t d = 1; d < x.rank(); ++d) shape.push_back(static_cast<int32_t>(x.dim(d)));
  const auto theirs = peer.run(r.bytes, {PeerInput{shape, graph_input_bytes(r, x)}});
  const RunOutput ours = run_qlite(r.bytes, x);
  EXPECT_EQ(theirs.size(), 1u);
  if (theirs.empty()) return {};
  return compare_rows(output_values(ours), output_values(theirs[0].bytes, ours.type), ours.classes);
}

using TfliteInterop = InteropTest;

TEST_F(TfliteInterop, Float32WithinOneInHundredThousand) {
  QLITE_REQUIRE_TFLITE_PEER(peer);
  const Compared c = compare_with_tflite(*peer, convert_with(brief_seed(), Mode::kFloat32), x_);
  EXPECT_EQ(c.rows, kImages);
  EXPECT_LE(c.max_rel, 1e-5);
  EXPECT_EQ(c.argmax_same, c.rows);
}

TEST_F(TfliteInterop, Float16WithinOneInHundredThousand) {
  QLITE_REQUIRE_TFLITE_PEER(peer);
  const Compared c = compare_with_tflite(*peer, convert_with(brief_seed(), Mode::kFloat16), x_);
  EXPECT_EQ(c.rows, kImages);
  EXPECT_LE(c.max_rel, 1e-5);
  EXPECT_EQ(c.argmax_same, c.rows);
}

TEST_F(TfliteInterop, DynamicWithinOneInAThousand) {
  QLITE_REQUIRE_TFLITE_PEER(peer);
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
  QLITE_REQUIRE_TFLITE_PEER(peer);
  for (IoType io : {IoType::kFloat32, IoType::kInt8, IoType::kUInt8}) {
    const auto r = convert_with(brief_seed(), Mode::kInt8, io, &rep_);
    const Compared c = compare_with_tflite(*peer, r, x_);
    EXPECT_EQ(c.rows, kImages) << convert::io_type_name(io);
    EXPECT_EQ(c.exact, c.values) << convert::io_type_name(io) << ", max rel " << c.max_rel;
  }
}

}  // namespace
}  // namespace qlite::test
