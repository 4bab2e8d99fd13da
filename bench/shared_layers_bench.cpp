// What sharing a layer costs in training: train_step of a model whose Conv2D
// and Dense are each called twice (later calls run through a call copy that
// takes the weights before forward, and the gradients are summed after
// backward) against the same graph with a separate copy of each layer per
// call (no sharing machinery). Interleaved rounds, medians; only the ratio
// means anything on a shared machine.
//   build/bench/shared_layers_bench [rounds] [steps]
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <vector>

#include "qlite/train.h"

using namespace qlite;

namespace {

// in -> c -> c -> add -> gap -> d -> d -> add -> head; `shared` calls c and d
// twice, otherwise each call has its own layer.
std::unique_ptr<Model> make(bool shared) {
  auto in = layers::Input({16, 16, 16}, "in");
  auto c = layers::Conv2D(16, {3, 3}, {.padding = Padding::kSame, .activation = Activation::kRelu, .name = "c"});
  auto c2 = shared ? c : layers::Conv2D(16, {3, 3}, {.padding = Padding::kSame, .activation = Activation::kRelu,
                                                      .name = "c_copy"});
  auto x1 = c(in);
  auto x2 = c2(x1);
  auto g = layers::GlobalAveragePooling2D(false, "gap")(layers::Add("s1")({x1, x2}));
  auto d = layers::Dense(16, {.activation = Activation::kRelu, .name = "d"});
  auto d2 = shared ? d : layers::Dense(16, {.activation = Activation::kRelu, .name = "d_copy"});
  auto h1 = d(g);
  auto h2 = d2(h1);
  auto out = layers::Dense(10, {.name = "head"})(layers::Add("s2")({h1, h2}));
  auto m = std::make_unique<Model>(in, out, shared ? "shared" : "copies");
  m->build(1);
  m->compile(SGD({.learning_rate = 0.001f}), {.from_logits = true});
  return m;
}

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}

}  // namespace

int main(int argc, char** argv) {
  const int rounds = argc > 1 ? std::atoi(argv[1]) : 15;
  const int steps = argc > 2 ? std::atoi(argv[2]) : 10;
  Tensor x({32, 16, 16, 16});
  Tensor y({32}, DType::kInt32);
  Rng rng(3);
  for (float& v : x.span_f32()) v = rng.uniform(-1.0f, 1.0f);
  for (int64_t i = 0; i < 32; ++i) y.data<int32_t>()[i] = static_cast<int32_t>(i % 10);
  auto shared = make(true), copies = make(false);
  shared->train_step(x, y);  // warm-up: plans, buffers
  copies->train_step(x, y);
  std::vector<double> ts, tc;
  auto time = [&](Model& m) {
    const auto t0 = std::chrono::steady_clock::now();
    for (int s = 0; s < steps; ++s) m.train_step(x, y);
    return std::chrono::duration<double, std::micro>(std::chrono::steady_clock::now() - t0).count() / steps;
  };
  for (int r = 0; r < rounds; ++r) {
    ts.push_back(time(*shared));
    tc.push_back(time(*copies));
  }
  const double s = median(ts), c = median(tc);
  std::printf("train_step, batch 32, %d rounds x %d steps, medians\n", rounds, steps);
  std::printf("  separate copies (baseline): %10.1f us\n", c);
  std::printf("  shared layers:              %10.1f us\n", s);
  std::printf("  shared / copies:            %10.3f\n", s / c);
  return 0;
}
