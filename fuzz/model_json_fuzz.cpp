// libFuzzer target for model.json: the bytes as the text of a model.json,
// through model_from_json_text (the model.json half of load_model, which
// `qlite eval/convert/qat/train --resume` use; `qlite train --model` reads the
// same architecture through model_from_json). It parses the JSON, rebuilds
// every layer from its config, builds the graph (seed 0), compiles a
// training_config's optimizer and applies its training state. Any input must
// end in a model or qlite::Error: never a crash, a sanitizer report or
// another exception type.
//
// A model that builds is then used as qlite uses it: summary(); each layer
// rebuilt from its own get_config() into a second model that must describe
// the same architecture (what `qlite train --model` does to re-seed it); and,
// when the model is small, a forward pass (predict) on a zero batch whose
// outputs must be finite.
//
// Size caps of this harness (not of qlite): qlite refuses weights above
// kMaxWeightElements (2 GiB of float32) before allocating them, which is still
// more memory than a fuzzer should spend per input. The forward pass and the
// rebuild run only when the work is bounded (kMaxWork below), and single
// allocations above 64 MiB fail (kMaxAllocationBytes: the allocator returns
// null, as it does on a machine without the memory), which qlite's Tensor
// reports as an out-of-memory Error.
//
// QLITE_FUZZ_WRITE_SEEDS=<dir> writes the JSON of the seed model, the
// reference network (applications::MobileNetStyle), a Sequential with every
// single-input layer kind, a functional model with Add and Concatenate, one
// with shared layers, a compiled model with a training_config and a QAT model
// into <dir>.
#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

#include "fuzz_seeds.h"
#include "qlite/quant/qat.h"
#include "qlite/train/applications.h"
#include "qlite/train/model.h"
#include "train/model_json.h"

// The 64 MiB cap on single allocations (see the top of this file): ASan's
// allocator options in sanitizer builds (libFuzzer, scripts/test.sh
// --sanitize), and without ASan (the replay test of the normal build) a
// replacement of aligned_alloc, the allocator qlite's Tensor uses.
constexpr size_t kMaxAllocationBytes = size_t{64} << 20;
#if defined(__SANITIZE_ADDRESS__)
#define QLITE_FUZZ_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define QLITE_FUZZ_ASAN 1
#endif
#endif
#ifdef QLITE_FUZZ_ASAN
extern "C" const char* __asan_default_options() {
  return "allocator_may_return_null=1:max_allocation_size_mb=64";
}
#else
extern "C" void* aligned_alloc(size_t alignment, size_t size) noexcept {
  if (size > kMaxAllocationBytes) {
    errno = ENOMEM;
    return nullptr;
  }
  void* p = nullptr;
  if (posix_memalign(&p, std::max(alignment, sizeof(void*)), size) != 0) return nullptr;
  return p;
}
#endif

namespace {

using namespace qlite;

std::vector<uint8_t> bytes_of(const json& j) {
  const std::string s = j.dump(1);
  return {s.begin(), s.end()};
}

std::vector<std::vector<uint8_t>> seed_jsons() {
  std::vector<std::vector<uint8_t>> seeds;
  seeds.push_back(bytes_of(make_seed_model(10)->to_json()));
  seeds.push_back(bytes_of(applications::MobileNetStyle()->to_json()));
  {  // every single-input layer kind, in a Sequential
    Sequential m({layers::Input({8, 8, 2}).layer(),
                  layers::ZeroPadding2D({{{1, 0}, {0, 1}}}),
                  layers::Conv2D(4, {3, 3}, {.strides = {1, 1}, .activation = Activation::kRelu}),
                  layers::BatchNormalization(),
                  layers::ReLU(6.0f),
                  layers::DepthwiseConv2D({3, 3}, {.padding = Padding::kSame, .depth_multiplier = 2}),
                  layers::ActivationLayer(Activation::kRelu6),
                  layers::MaxPooling2D({2, 2}),
                  layers::AveragePooling2D({2, 2}, {.strides = std::array<int, 2>{1, 1}, .padding = Padding::kSame}),
                  layers::Dropout(0.25f, 7),
                  layers::Reshape({4, -1}),
                  layers::Flatten(),
                  layers::Dense(5, {.activation = Activation::kSoftmax})},
                 "every_kind");
    m.build(0);
    seeds.push_back(bytes_of(m.to_json()));
  }
  {  // multi-input layers, functional; GlobalAveragePooling2D
    auto in = layers::Input({6, 6, 3}, "in");
    auto a = layers::Conv2D(3, {1, 1}, {.padding = Padding::kSame})(in);
    auto s = layers::Add()({in, a});
    auto c = layers::Concatenate(-1)({s, in});
    auto g = layers::GlobalAveragePooling2D(true)(c);
    auto f = layers::Flatten()(g);
    auto out = layers::Dense(2)(f);
    Model m(in, out, "functional");
    m.build(0);
    seeds.push_back(bytes_of(m.to_json()));
  }
  {  // shared layers: a Conv2D and a Dense called twice, a later call reading a layer listed after it
    auto in = layers::Input({5, 5, 2}, "in");
    auto c = layers::Conv2D(2, {3, 3}, {.padding = Padding::kSame, .name = "c"});
    auto x1 = c(in);
    auto x2 = c(layers::ReLU(std::nullopt, "r")(x1));
    auto g = layers::GlobalAveragePooling2D(false, "gap")(layers::Add("s1")({x1, x2}));
    auto d = layers::Dense(2, {.name = "d"});
    auto out = layers::Add("s2")({d(g), d(d(g))});
    Model m(in, out, "shared");
    m.build(0);
    seeds.push_back(bytes_of(m.to_json()));
  }
  {  // a compiled model: training_config with optimizer state and a Dropout's layer state
    auto m = make_seed_model(10);
    m->add(layers::Dropout(0.5f, 3, "drop"));
    m->build(0);
    m->compile(Adam({.learning_rate = 0.01f}), {.from_logits = true});
    json j = m->to_json();
    j["training_config"] = {
        {"loss", {{"class_name", "SparseCategoricalCrossentropy"}, {"config", {{"from_logits", true}}}}},
        {"optimizer_config", optimizer_to_config(*m->optimizer())},
        {"optimizer_state", {{"iterations", 12}, {"slots", "optimizer.safetensors"}}},
        {"epochs_trained", 2},
        {"layer_state", {{"drop", json{{"steps", 5}}}}}};
    seeds.push_back(bytes_of(j));
    j["training_config"]["optimizer_config"] = optimizer_to_config(*SGD({.learning_rate = 0.1f, .momentum = 0.9f}));
    seeds.push_back(bytes_of(j));
  }
  seeds.push_back(bytes_of(quant::quantize_model(*make_seed_model(10))->to_json()));
  return seeds;
}

// An upper bound of the multiply-adds of a forward pass: per layer, its
// parameters times its output positions (exact for Conv2D, DepthwiseConv2D
// and Dense), or without parameters its input size times its output positions
// (bounds pooling windows and copies).
constexpr double kMaxWork = 2e7;

double numel(const Shape& s, size_t dims) {
  double n = 1;
  for (size_t k = 0; k < dims && k < s.size(); ++k) n *= static_cast<double>(s[k]);
  return n;
}

double forward_work(const Model& m) {
  double work = 0;
  for (const Node& n : m.nodes()) {
    const Shape& out = n.layer->output_shape();
    const double positions = out.empty() ? 1 : numel(out, out.size() - 1);
    double in = 0;
    for (int k : n.inputs) in += numel(m.nodes()[k].layer->output_shape(), SIZE_MAX);
    const double params = static_cast<double>(static_cast<const Layer&>(*n.layer).count_params());
    work += (params > 0 ? params : std::max(in, 1.0)) * positions + numel(out, SIZE_MAX);
  }
  return work;
}

[[noreturn]] void fail(const char* what) {
  std::fprintf(stderr, "model_json_fuzz: %s\n", what);
  std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  quant::register_qat_layers();  // qlite convert and qat load QAT model directories
  fuzz::write_seeds("model_json_seed_", seed_jsons(), ".json");
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::unique_ptr<Model> model;
  try {
    model = model_from_json_text(std::string_view(reinterpret_cast<const char*>(data), size), "fuzz");
  } catch (const Error&) {
    return 0;
  }
  if (!model->is_built()) fail("model_from_json_text returned an unbuilt model");
  try {
    (void)model->summary();
  } catch (const Error&) {
  }
  if (forward_work(*model) > kMaxWork) return 0;

  // qlite train --model: the same graph from fresh layers made from each
  // layer's get_config(), built with another seed; it must be accepted and
  // describe the same architecture.
  std::unique_ptr<Model> fresh;
  try {
    fresh = fresh_model_from_config(*model);
    fresh->build(1);
  } catch (const Error& e) {
    std::fprintf(stderr, "model_json_fuzz: rebuilding from get_config failed: %s\n", e.what());
    std::abort();
  }
  if (fresh->to_json() != model->to_json()) fail("the model rebuilt from get_config differs");

  Shape batch{1};
  for (int64_t d : model->input_shape()) batch.push_back(d);
  Tensor x(batch);
  x.zero();
  try {
    const Tensor y = model->predict(x, 1);
    for (int64_t i = 0; i < y.numel(); ++i)
      if (!std::isfinite(y.f32()[i])) fail("a forward pass on zeros gave a non-finite output");
  } catch (const Error&) {
    // e.g. out of memory within the 64 MiB allocation cap
  }
  return 0;
}
