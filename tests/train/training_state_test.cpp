// Training state in a saved model: Adam's m, v and step count, SGD's momentum,
// the epoch count and a Dropout's step count round-trip through save_model /
// load_model, so that N epochs, a save, a load and M more epochs give the
// same weights, bit for bit, as one uninterrupted run of N + M epochs. Bad
// optimizer files are Errors.
#include <gtest/gtest.h>

#include <cstring>
#include <filesystem>
#include <functional>
#include <fstream>

#include "model_test_util.h"
#include "temp_dir.h"

namespace qlite {
namespace {

namespace fs = std::filesystem;
using testing::all_weights;
using testing::Data;
using testing::separable_data;
using testing::TempDir;

// Dense -> Dropout -> Dense: trainable weights in two layers and a Dropout
// whose masks depend on how many training steps it ran.
std::unique_ptr<Sequential> small_model(uint64_t seed) {
  auto m = std::make_unique<Sequential>();
  m->add(layers::Input({12}));
  m->add(layers::Dense(16, {.activation = Activation::kRelu}));
  m->add(layers::Dropout(0.25f, 7));
  m->add(layers::Dense(4));
  m->build(seed);
  return m;
}

FitOptions fit_opts(int epochs, int initial_epoch) {
  FitOptions o;
  o.epochs = epochs;
  o.batch_size = 16;
  o.validation_split = 0.1;
  o.seed = 5;
  o.initial_epoch = initial_epoch;
  return o;
}

std::string bytes_of(const std::vector<float>& w) {
  return std::string(reinterpret_cast<const char*>(w.data()), w.size() * sizeof(float));
}

std::string slurp(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), {}};
}

void expect_resume_matches(const std::function<std::unique_ptr<Optimizer>()>& make_opt) {
  const Data d = separable_data(300, 12, 4, 3);
  auto whole = small_model(1);
  whole->compile(make_opt(), {.from_logits = true});
  whole->fit(d.x, d.y, fit_opts(3, 0));

  TempDir tmp;
  auto first = small_model(1);
  first->compile(make_opt(), {.from_logits = true});
  first->fit(d.x, d.y, fit_opts(1, 0));
  save_model(*first, tmp / "m");
  auto resumed = load_model(tmp / "m");
  ASSERT_TRUE(resumed->compiled());
  EXPECT_EQ(resumed->epochs_trained(), 1);
  EXPECT_EQ(resumed->optimizer()->state().iterations, first->optimizer()->state().iterations);
  resumed->fit(d.x, d.y, fit_opts(2, static_cast<int>(resumed->epochs_trained())));
  EXPECT_EQ(resumed->epochs_trained(), 3);
  EXPECT_EQ(bytes_of(all_weights(*resumed)), bytes_of(all_weights(*whole)));

  // Saved again, the continued model's files equal the uninterrupted model's.
  save_model(*whole, tmp / "whole");
  save_model(*resumed, tmp / "resumed");
  for (const char* f : {"model.json", "model.safetensors", "optimizer.safetensors"})
    EXPECT_EQ(slurp(fs::path(tmp / "whole") / f), slurp(fs::path(tmp / "resumed") / f)) << f;
}

TEST(TrainingState, AdamResumeIsBitIdenticalToOneRun) {
  expect_resume_matches([] { return Adam(); });
}

TEST(TrainingState, SgdWithMomentumResumeIsBitIdenticalToOneRun) {
  expect_resume_matches([] { return SGD({.learning_rate = 0.05f, .momentum = 0.9f}); });
}

TEST(TrainingState, WithoutTheStateTheContinuedRunDiffers) {
  // The oracle above is not vacuous: a fresh optimizer (and epoch 0's shuffle) gives other weights.
  const Data d = separable_data(300, 12, 4, 3);
  auto whole = small_model(1);
  whole->compile(Adam(), {.from_logits = true});
  whole->fit(d.x, d.y, fit_opts(2, 0));
  auto part = small_model(1);
  part->compile(Adam(), {.from_logits = true});
  part->fit(d.x, d.y, fit_opts(1, 0));
  part->compile(Adam(), {.from_logits = true});
  part->fit(d.x, d.y, fit_opts(1, 1));
  EXPECT_NE(bytes_of(all_weights(*part)), bytes_of(all_weights(*whole)));
}

TEST(TrainingState, UncompiledModelSavesNoOptimizerFile) {
  TempDir tmp;
  auto m = small_model(1);
  save_model(*m, tmp / "m");
  EXPECT_FALSE(fs::exists(fs::path(tmp / "m") / "optimizer.safetensors"));
  EXPECT_FALSE(load_model(tmp / "m")->compiled());
}

class BadOptimizerFile : public ::testing::Test {
 protected:
  void SetUp() override {
    const Data d = separable_data(100, 12, 4, 3);
    auto m = small_model(1);
    m->compile(Adam(), {.from_logits = true});
    m->fit(d.x, d.y, fit_opts(1, 0));
    save_model(*m, dir());
  }
  std::string dir() const { return tmp_ / "m"; }
  fs::path opt() const { return fs::path(dir()) / "optimizer.safetensors"; }
  void expect_error(const std::string& fragment) {
    try {
      load_model(dir());
      ADD_FAILURE() << "load_model did not throw";
    } catch (const Error& e) {
      EXPECT_NE(std::string(e.what()).find(fragment), std::string::npos) << e.what();
    }
  }
  TempDir tmp_;
};

TEST_F(BadOptimizerFile, MissingFile) {
  fs::remove(opt());
  expect_error("optimizer.safetensors");
}

TEST_F(BadOptimizerFile, TruncatedFile) {
  const std::string b = slurp(opt());
  std::ofstream(opt(), std::ios::binary | std::ios::trunc).write(b.data(), static_cast<std::streamsize>(b.size() / 2));
  expect_error("optimizer.safetensors");
}

TEST_F(BadOptimizerFile, SlotsOfAnotherModel) {
  // Slots of a model with other shapes: named, never copied out of bounds.
  TempDir other;
  auto m = std::make_unique<Sequential>();
  m->add(layers::Input({12}));
  m->add(layers::Dense(8, {.activation = Activation::kRelu}));
  m->add(layers::Dropout(0.25f, 7));
  m->add(layers::Dense(4));
  m->build(1);
  const Data d = separable_data(100, 12, 4, 3);
  m->compile(Adam(), {.from_logits = true});
  m->fit(d.x, d.y, fit_opts(1, 0));
  save_model(*m, other / "m");
  fs::copy_file(fs::path(other / "m") / "optimizer.safetensors", opt(), fs::copy_options::overwrite_existing);
  expect_error("optimizer slot");
}

TEST_F(BadOptimizerFile, EmptySlotsForNonZeroIterations) {
  // A file with no tensors where the step count says there were updates.
  const std::string header = "{\"__metadata__\":{\"format\":\"qlite\"}}";
  std::string bytes(8, '\0');
  const uint64_t n = header.size();
  std::memcpy(bytes.data(), &n, 8);
  bytes += header;
  std::ofstream(opt(), std::ios::binary | std::ios::trunc) << bytes;
  expect_error("no optimizer slots");
}

}  // namespace
}  // namespace qlite
