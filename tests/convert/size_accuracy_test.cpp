// Size and accuracy of the converted seed model per mode.
//  - Size: the int8 file is at most 0.27x the float32 file, float16 at most 0.52x.
//  - Accuracy (Slow: trains the one-epoch baseline on all 60,000 images):
//    on the 10,000 test images, run in qlite's runtime, full-integer PTQ is
//    within 1 point of the float model, dynamic-range within 0.5, float16
//    within 0.05.
#include <cstdio>

#include "convert_test_util.h"

namespace qlite::test {
namespace {

using convert::Mode;

TEST(ConvertSize, Int8AndFloat16FilesAreSmallEnough) {
  REQUIRE_FASHION(ds);
  const Tensor rep = rows(ds->train.x, 0, 100);
  const Model& m = brief_seed();
  const size_t f32 = convert_with(m, Mode::kFloat32).size_bytes;
  const size_t i8 = convert_with(m, Mode::kInt8, convert::IoType::kFloat32, &rep).size_bytes;
  const size_t f16 = convert_with(m, Mode::kFloat16).size_bytes;
  const size_t dyn = convert_with(m, Mode::kDynamic).size_bytes;
  const size_t i8io = convert_with(m, Mode::kInt8, convert::IoType::kInt8, &rep).size_bytes;
  std::printf("[ sizes    ] float32 %zu, int8 %zu (%.4fx), int8 I/O %zu (%.4fx), float16 %zu (%.4fx), "
              "dynamic %zu (%.4fx)\n",
              f32, i8, double(i8) / f32, i8io, double(i8io) / f32, f16, double(f16) / f32, dyn, double(dyn) / f32);
  // The target is 0.27x. The int8 weights and biases alone are 0.251x of the
  // float payload; with float I/O the QUANTIZE/DEQUANTIZE tensors and ops add
  // about 160 bytes, and the file meets it only because the writer shares
  // identical vectors, strings and quantization tables, packs 1-byte fields
  // into alignment gaps, writes no description or subgraph name, gives RESHAPE
  // no shape tensor and folds Flatten into FULLY_CONNECTED (0.2699x).
  EXPECT_LE(double(i8io), 0.27 * double(f32));
  EXPECT_LE(double(i8), 0.27 * double(f32));
  EXPECT_LE(double(f16), 0.52 * double(f32));
  EXPECT_LT(dyn, f32);
}

TEST(ConvertAccuracy, PerModeWithinTheIssueBoundsSlow) {
  REQUIRE_FASHION(ds);
  auto m = train_seed(*ds, ds->train.x.dim(0), 1);
  const Tensor& x = ds->test.x;
  const Tensor& y = ds->test.y;
  const EvalResult base = m->evaluate(x, y, 256);
  const Tensor rep = rows(ds->train.x, 0, convert::kDefaultRepresentativeCount);
  auto acc = [&](Mode mode) {
    const auto r = convert_with(*m, mode, convert::IoType::kFloat32, mode == Mode::kInt8 ? &rep : nullptr);
    const RunOutput out = run_qlite(r.bytes, x);
    const double a = double(count_correct_rows(out.values, out.classes, y)) / double(x.dim(0));
    std::printf("[ accuracy ] %-8s %.4f (%zu bytes)\n", convert::mode_name(mode), a, r.size_bytes);
    return a;
  };
  std::printf("[ accuracy ] model    %.4f\n", base.accuracy);
  const double f32 = acc(Mode::kFloat32), i8 = acc(Mode::kInt8), dyn = acc(Mode::kDynamic), f16 = acc(Mode::kFloat16);
  EXPECT_NEAR(f32, base.accuracy, 1e-4);
  EXPECT_LE(std::fabs(i8 - f32), 0.01);
  EXPECT_LE(std::fabs(dyn - f32), 0.005);
  EXPECT_LE(std::fabs(f16 - f32), 0.0005);
}

}  // namespace
}  // namespace qlite::test
