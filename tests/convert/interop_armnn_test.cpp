// Interop with Arm NN (armnn_test_util.h) on the seed model: int8 outputs
// within 1 step of qlite's on >= 99.9% of values, same arg-max on >= 99.9% of
// images; float32 outputs within 1e-4 relative.
#include "armnn_test_util.h"

namespace qlite::test {
namespace {

using convert::IoType;
using convert::Mode;

constexpr int64_t kImages = kInteropImages;

using ArmnnInterop = InteropTest;

TEST_F(ArmnnInterop, Int8WithinOneStep) {
  REQUIRE_ARMNN();
  for (IoType io : {IoType::kInt8, IoType::kFloat32}) {
    const auto r = convert_with(brief_seed(), Mode::kInt8, io, &rep_);
    const auto& g = r.model.subgraphs[0];
    const lite::TensorType out_type = g.tensors[g.outputs[0]].type;
    const std::vector<uint8_t> theirs_bytes = run_armnn(r, graph_input_bytes(r, x_), convert::io_type_name(io));
    const RunOutput ours = run_qlite(r.bytes, x_);
    // In steps of the int8 output scale.
    std::vector<float> theirs = output_values(theirs_bytes, out_type);
    std::vector<float> mine = output_values(ours);
    if (io == IoType::kFloat32) {
      // Float I/O: the dequantized values, in units of the int8 output scale.
      const float s = g.tensors[g.operators.back().inputs[0]].quantization.scale[0];
      for (float& v : theirs) v /= s;
      for (float& v : mine) v /= s;
    }
    const Compared c = compare_rows(mine, theirs, 10, 1e-3f);
    ASSERT_EQ(c.rows, kImages) << convert::io_type_name(io);
    EXPECT_GE(c.within_one * 1000, c.values * 999) << convert::io_type_name(io) << ": " << c.within_one << "/"
                                                  << c.values;
    EXPECT_GE(c.argmax_same * 1000, kImages * 999) << convert::io_type_name(io);
    RecordProperty(std::string("exact_") + convert::io_type_name(io),
                   std::to_string(c.exact) + "/" + std::to_string(c.values));
  }
}

TEST_F(ArmnnInterop, Float32WithinOneInTenThousand) {
  REQUIRE_ARMNN();
  const auto r = convert_with(brief_seed(), Mode::kFloat32);
  const std::vector<uint8_t> theirs_bytes = run_armnn(r, graph_input_bytes(r, x_), "f32");
  const RunOutput ours = run_qlite(r.bytes, x_);
  const Compared c = compare_rows(ours.values, output_values(theirs_bytes, lite::TensorType::kFloat32), 10);
  ASSERT_EQ(c.rows, kImages);
  EXPECT_LE(c.max_rel, 1e-4);
  EXPECT_GE(c.argmax_same * 1000, kImages * 999);
}

}  // namespace
}  // namespace qlite::test
