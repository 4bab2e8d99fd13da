// The OutputHooks protocol of Layer (qlite/train/layer.h) for layers whose
// plain and hooked passes are one code path: the layer D writes forward_impl /
// backward_impl taking the hooks or null, and HookedLayer<D> maps Layer's four
// entry points onto them. Static dispatch keeps the plain passes specialised
// for null hooks: with virtual *_impl instead, Dense backward measured 11%
// slower (bench/layers_bench BM_SeedLayer/4/1, 41.8 -> 46.6 us).
#pragma once

#include "kernels/float_kernels.h"
#include "qlite/train/layer.h"
#include "train/layers/activation_math.h"
#include "train/layers/layer_util.h"

namespace qlite::detail {

// D also provides `Activation activation() const`. An activation that is not
// fusable (sigmoid, softmax, tanh, hard_swish) is applied here, after the op:
// the op runs with no activation into a kept pre-activation tensor (its
// kernels see kernel_act() == kLinear), the activation maps it to the output,
// and backward takes the activation's gradient before the op's. Hooks (QAT)
// are refused for such layers: the shared rewrite splits the activation off
// before QAT wraps the op.
template <class D>
class HookedLayer : public Layer {
 public:
  using Layer::Layer;

  void forward(std::span<const Tensor* const> in, Tensor& out, const RunContext& ctx) final {
    const Activation a = self().activation();
    if (activation_fusable(a)) return self().forward_impl(in, out, ctx, nullptr);
    self().forward_impl(in, pre_, ctx, nullptr);
    out.resize(pre_.shape());
    const int64_t cols = output_shape().back();
    activation_forward(a, pre_.f32(), out.f32(), pre_.numel() / cols, cols, ctx.pool);
  }

  bool forward_hooked(std::span<const Tensor* const> in, Tensor& out, const RunContext& ctx,
                      OutputHooks& hooks) final {
    if (!activation_fusable(self().activation())) return false;
    self().forward_impl(in, out, ctx, &hooks);
    return true;
  }

  void backward(std::span<const Tensor* const> in, const Tensor& out, const Tensor& dout, std::span<Tensor* const> din,
                const RunContext& ctx) final {
    const Activation a = self().activation();
    if (activation_fusable(a)) return self().backward_impl(in, out, dout, din, ctx, nullptr);
    if (pre_.shape() != out.shape() || dout.shape() != out.shape())
      throw Error(layer_label(*this) + ": backward without a matching forward");
    dpre_.resize(out.shape());
    const int64_t cols = output_shape().back();
    activation_backward(a, pre_.f32(), out.f32(), dout.f32(), dpre_.f32(), out.numel() / cols, cols, ctx.pool);
    self().backward_impl(in, pre_, dpre_, din, ctx, nullptr);
  }

  bool backward_hooked(std::span<const Tensor* const> in, const Tensor& out, const Tensor& dout,
                       std::span<Tensor* const> din, const RunContext& ctx, OutputHooks& hooks) final {
    if (!activation_fusable(self().activation())) return false;
    self().backward_impl(in, out, dout, din, ctx, &hooks);
    return true;
  }

 private:
  D& self() { return static_cast<D&>(*this); }
  Tensor pre_, dpre_;  // unfused activation: the op's output before it, and its gradient
};

// dz[0, n) = the gradient at the activation's input for outputs out[0, n):
// the hooks' replacement for dout when there are hooks, then the activation
// derivative unless the hooks already applied it. Without hooks and with a
// linear activation dz is left untouched (the caller reads dout instead).
inline void pre_activation_gradient(Isa isa, Activation act, OutputHooks* hooks, int chunk, const float* out,
                                    const float* dout, float* dz, int64_t n) {
  if (hooks) {
    hooks->on_backward(chunk, out, dout, dz, n);
    if (act != Activation::kLinear && !hooks->applies_activation_gradient())
      kernels::float_act_backward(isa, kernel_act(act), out, dz, dz, n);
  } else if (act != Activation::kLinear) {
    kernels::float_act_backward(isa, kernel_act(act), out, dout, dz, n);
  }
}

}  // namespace qlite::detail
