// Shared pieces of the converter tests: Fashion-MNIST, a briefly trained
// seed model (trained once per process), and running .tflite bytes in
// qlite's runtime.
#pragma once

#include <gtest/gtest.h>

#include <algorithm>
#include <cstring>
#include <memory>
#include <span>
#include <vector>

#include "kernels/reference/int8_kernels.h"
#include "qlite/convert.h"
#include "qlite/data.h"
#include "qlite/quant/qat.h"
#include "qlite/runtime.h"
#include "qlite/train.h"

namespace qlite::test {

// Fashion-MNIST, loaded once; nullptr when the dataset is not installed.
inline const Dataset* fashion() {
  static std::unique_ptr<Dataset> ds = [] {
    try {
      return std::make_unique<Dataset>(load_dataset("fashion-mnist"));
    } catch (const Error&) {
      return std::unique_ptr<Dataset>();
    }
  }();
  return ds.get();
}

#define REQUIRE_FASHION(ds)                          \
  const Dataset* ds = ::qlite::test::fashion();      \
  if (ds == nullptr) GTEST_SKIP() << "Fashion-MNIST not installed (apt-get install dataset-fashion-mnist)"

// Rows [begin, end) of a float tensor [N, ...].
inline Tensor rows(const Tensor& x, int64_t begin, int64_t end) {
  Shape s = x.shape();
  s[0] = end - begin;
  Tensor out(s, x.dtype());
  const size_t row = x.nbytes() / static_cast<size_t>(x.dim(0));
  std::memcpy(out.raw(), static_cast<const char*>(x.raw()) + begin * row, row * static_cast<size_t>(end - begin));
  return out;
}

// The seed model trained for one epoch on the first `images` training images.
inline std::unique_ptr<Model> train_seed(const Dataset& ds, int64_t images, uint64_t seed = 1) {
  auto m = make_seed_model(10, seed);
  m->compile(Adam(), SparseCategoricalCrossentropy{true});
  FitOptions fo;
  fo.epochs = 1;
  fo.batch_size = 32;
  fo.seed = seed;
  const Split part = take(ds.train, 0, images);
  m->fit(part.x, part.y, fo);
  return m;
}

// Fashion-MNIST images [N, 28, 28] as the NHWC batch [N, 28, 28, 1] the
// convolutional networks read.
inline Tensor nhwc_images(const Tensor& x) {
  Tensor t = x;
  t.reshape({x.dim(0), x.dim(1), x.dim(2), 1});
  return t;
}

// The reference MobileNet-style network (applications::MobileNetStyle)
// trained in float for one epoch on the first 20,000 training images
// (Adam 1e-3, batch 32, 2 threads), the start of the deploy tests' QAT runs.
inline std::unique_ptr<Model> train_mobilenet_style(const Dataset& ds, uint64_t seed) {
  auto m = applications::MobileNetStyle();
  m->compile(Adam(), SparseCategoricalCrossentropy{true});
  m->set_threads(2);
  const Split part = take(ds.train, 0, 20000);
  m->fit(nhwc_images(part.x), part.y, {.epochs = 1, .batch_size = 32, .seed = seed, .on_progress = {}});
  return m;
}

// A seed model trained briefly (3,000 images), shared by the fast tests.
inline const Model& brief_seed() {
  static std::unique_ptr<Model> m = train_seed(*fashion(), 3000);
  return *m;
}

inline int argmax(const float* v, int n) {
  return static_cast<int>(std::max_element(v, v + n) - v);
}

// Runs float32 images through a model in qlite's runtime; the input is
// converted to the model's input type with its own parameters (round half
// away from zero, as QUANTIZE does) and the output dequantized.
struct RunOutput {
  std::vector<float> values;   // dequantized (or float) outputs
  std::vector<int32_t> raw;    // integer outputs when the output is int8/uint8
  lite::TensorType type = lite::TensorType::kFloat32;
  int64_t classes = 0;
};

inline std::vector<uint8_t> input_bytes_for(const Tensor& x, lite::TensorType type, float scale, int32_t zp) {
  const int64_t n = x.numel();
  std::vector<uint8_t> bytes;
  if (type == lite::TensorType::kFloat32) {
    bytes.resize(static_cast<size_t>(n) * 4);
    std::memcpy(bytes.data(), x.raw(), bytes.size());
    return bytes;
  }
  // As the file's own QUANTIZE would (TFLite's arithmetic, int8_kernels.h).
  bytes.resize(static_cast<size_t>(n));
  if (type == lite::TensorType::kUInt8)
    ref::quantize_f32_to_uint8(n, x.f32(), scale, zp, bytes.data());
  else
    ref::quantize_f32_to_int8(n, x.f32(), scale, zp, reinterpret_cast<int8_t*>(bytes.data()));
  return bytes;
}

inline RunOutput run_qlite(std::span<const uint8_t> model, const Tensor& x) {
  auto interp = runtime::Interpreter::from_buffer(model);
  interp->resize_batch(static_cast<int>(x.dim(0)));
  const runtime::TensorInfo in = interp->input_info(0);
  const std::vector<uint8_t> bytes = input_bytes_for(x, in.type, in.scale(), in.zero_point());
  auto dst = interp->input_bytes(0);
  EXPECT_EQ(dst.size(), bytes.size());
  std::memcpy(dst.data(), bytes.data(), std::min(dst.size(), bytes.size()));
  interp->invoke();
  const runtime::TensorInfo out = interp->output_info(0);
  RunOutput r;
  r.type = out.type;
  r.classes = out.shape.back();
  auto ob = interp->output_bytes(0);
  if (out.type == lite::TensorType::kFloat32) {
    r.values.resize(ob.size() / 4);
    std::memcpy(r.values.data(), ob.data(), ob.size());
  } else {
    for (size_t i = 0; i < ob.size(); ++i) {
      const int32_t q = out.type == lite::TensorType::kUInt8 ? static_cast<int32_t>(static_cast<uint8_t>(ob[i]))
                                                             : static_cast<int32_t>(static_cast<int8_t>(ob[i]));
      r.raw.push_back(q);
      r.values.push_back(out.scale() * static_cast<float>(q - out.zero_point()));
    }
  }
  return r;
}

inline int64_t count_correct_rows(const std::vector<float>& v, int64_t classes, const Tensor& labels) {
  int64_t ok = 0;
  for (int64_t i = 0; i < labels.dim(0); ++i)
    ok += argmax(v.data() + i * classes, static_cast<int>(classes)) == labels.data<int32_t>()[i];
  return ok;
}

inline convert::ConvertResult convert_with(const Model& m, convert::Mode mode,
                                           convert::IoType io = convert::IoType::kFloat32,
                                           const Tensor* rep = nullptr) {
  convert::ConvertOptions o;
  o.mode = mode;
  o.io = io;
  o.representative = rep;
  return convert::convert_model(m, o);
}

// A float model trained one epoch (Adam, batch 32, seed) on training images
// [0, float_images) of Fashion-MNIST, and its QAT model (quantize_model, Adam
// 1e-4) trained one epoch on the next qat_images.
struct FloatAndQat {
  std::unique_ptr<Model> float_model, qat;
};
inline FloatAndQat train_float_and_qat(std::unique_ptr<Model> model, int64_t float_images, int64_t qat_images,
                                       uint64_t seed, bool from_logits = true) {
  const Dataset& ds = *fashion();
  FloatAndQat r;
  r.float_model = std::move(model);
  r.float_model->compile(Adam(), SparseCategoricalCrossentropy{from_logits});
  FitOptions fo;
  fo.epochs = 1;
  fo.batch_size = 32;
  fo.seed = seed;
  const Split part = take(ds.train, 0, float_images);
  r.float_model->fit(part.x, part.y, fo);
  r.qat = quant::quantize_model(*r.float_model);
  r.qat->compile(Adam(AdamOptions{.learning_rate = 1e-4f}), SparseCategoricalCrossentropy{from_logits});
  const Split more = take(ds.train, float_images, float_images + qat_images);
  r.qat->fit(more.x, more.y, fo);
  return r;
}

// QAT inference against an int8 file in qlite's runtime on images x:
// values equal, rows of the same class (`classes` values a row).
struct QatFileAgreement {
  int64_t equal = 0, values = 0, same_class = 0, rows = 0;
  std::vector<float> file_values;
};
inline QatFileAgreement qat_file_agreement(Model& q, std::span<const uint8_t> file, const Tensor& x, int classes) {
  const Tensor sim = q.predict(x, 256);
  RunOutput dep = run_qlite(file, x);
  QatFileAgreement a;
  EXPECT_EQ(dep.values.size(), static_cast<size_t>(sim.numel()));
  if (dep.values.size() != static_cast<size_t>(sim.numel())) return a;
  a.values = sim.numel();
  a.rows = sim.numel() / classes;
  for (int64_t k = 0; k < a.values; ++k) a.equal += sim.f32()[k] == dep.values[static_cast<size_t>(k)];
  for (int64_t i = 0; i < a.rows; ++i)
    a.same_class += argmax(sim.f32() + i * classes, classes) == argmax(dep.values.data() + i * classes, classes);
  a.file_values = std::move(dep.values);
  return a;
}

}  // namespace qlite::test
