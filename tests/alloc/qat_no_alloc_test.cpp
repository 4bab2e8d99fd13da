// QAT models (whole and Dense-only), once warmed up, allocate nothing per
// training step or per evaluate batch.
#include <gtest/gtest.h>

#include "counting_new.h"
#include "qlite/quant.h"
#include "qlite/train.h"

using namespace qlite;

namespace {

std::unique_ptr<Model> qat_model(bool dense_only) {
  auto base = make_seed_model(10, 1);
  if (!dense_only) return quant::quantize_model(*base);
  auto a = clone_model(*base, [](const Layer& l) -> LayerPtr {
    LayerPtr c(l.clone());
    return l.type() == "Dense" ? quant::quantize_annotate_layer(c) : c;
  });
  return quant::quantize_apply(*a);
}

void fill(Tensor& x, Tensor& y, uint64_t seed) {
  Rng rng(seed);
  for (float& v : x.span_f32()) v = rng.uniform();
  for (int64_t i = 0; i < y.numel(); ++i) y.data<int32_t>()[i] = static_cast<int32_t>(rng.below(10));
}

}  // namespace

TEST(NoAlloc, QatTrainStepAfterWarmUp) {
  for (bool dense_only : {false, true})
    for (int threads : {1, 2})
      for (int64_t batch : {32, 500}) {
        auto model = qat_model(dense_only);
        model->compile(Adam(), SparseCategoricalCrossentropy{true});
        model->set_threads(threads);
        Tensor x({batch, 28, 28}), y({batch}, DType::kInt32);
        fill(x, y, 7);
        model->train_step(x, y);  // warm-up: buffers reach their size
        model->train_step(x, y);
        const long n = alloc_testing::allocations_during([&] {
          for (int i = 0; i < 3; ++i) model->train_step(x, y);
        });
        EXPECT_EQ(n, 0) << "QAT training step allocated: dense_only=" << dense_only << " threads=" << threads
                        << " batch=" << batch;
      }
}

// Lowered numbers and kernel parameters are cached by the QAT layers, and the
// int8 reference kernels build their check messages only on failure.
TEST(NoAlloc, QatEvaluateAllocatesNothingPerBatch) {
  for (bool dense_only : {false, true}) {
    auto model = qat_model(dense_only);
    model->compile(Adam(), SparseCategoricalCrossentropy{true});
    Tensor x({256, 28, 28}), y({256}, DType::kInt32);
    fill(x, y, 9);
    model->train_step(x, y);  // ranges and weights move: lowered numbers must be redone once
    model->evaluate(x, y, 32);
    Tensor x1({32, 28, 28}), y1({32}, DType::kInt32);
    fill(x1, y1, 3);
    const long one_batch = alloc_testing::allocations_during([&] { model->evaluate(x1, y1, 32); });
    const long eight_batches = alloc_testing::allocations_during([&] { model->evaluate(x, y, 32); });
    EXPECT_LE(eight_batches, one_batch) << "QAT evaluate allocates per batch, dense_only=" << dense_only;
  }
}
