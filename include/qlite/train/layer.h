// The layer interface of the training graph. Each layer owns its config,
// its weights and its forward/backward, kept separable so that QAT can wrap a
// layer and the converter can lower it (docs/DESIGN.md).
#pragma once

#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "qlite/core.h"

namespace qlite {

// The most scalars one weight tensor, and all the weights of one model, may
// hold: 2^29 float32 values, 2 GiB, the most a .tflite file (and so any model
// qlite converts) can hold. Layers refuse larger weights before allocating
// them (a model.json is untrusted input).
inline constexpr int64_t kMaxWeightElements = int64_t{1} << 29;

using json = nlohmann::json;

// A trainable (or state) variable of a layer. Gradients are written by
// Layer::backward (overwritten, never accumulated across calls).
struct Param {
  std::string name;       // "kernel", "bias" (unique within the layer)
  Tensor value;
  Tensor grad;            // same shape as value; empty for non-trainable state
  bool trainable = true;  // false: saved and loaded, never updated by an optimizer
};

// What a forward/backward call may use besides its tensors.
struct RunContext {
  bool training = false;
  ThreadPool* pool = nullptr;  // never null when called from Model; may be null in tests
};

// Hooks through which a wrapping layer (QAT's QuantizeWrapper) works on the
// inner layer's output block by block while the block is still in cache,
// instead of in extra passes over the whole batch. Called from the pool's
// workers; `chunk` is the calling worker's chunk index (0 <= chunk <
// ctx.pool->num_threads(), 0 without a pool), and one chunk never runs on two
// workers at once.
class OutputHooks {
 public:
  virtual ~OutputHooks() = default;
  // forward has written out[0, n), a run of whole samples, activation applied.
  virtual void on_forward(int chunk, const float* out, int64_t n) = 0;
  // backward: dz[0, n) = the gradient to use in place of dout[0, n) (out is
  // the layer's output at the same positions). dz never aliases dout or out.
  virtual void on_backward(int chunk, const float* out, const float* dout, float* dz, int64_t n) = 0;
  // True when on_backward's dz already includes the layer's activation
  // derivative (the hook recorded what it needs during forward): the layer
  // then applies none itself, and `out` may hold values the wrapper changed
  // in place after forward.
  virtual bool applies_activation_gradient() const { return false; }
};

class Layer {
 public:
  explicit Layer(std::string name = "") : name_(std::move(name)) {}
  virtual ~Layer() = default;

  const std::string& name() const { return name_; }
  void set_name(std::string name) { name_ = std::move(name); }

  // The Keras class name ("Conv2D"); also the "class_name" in model.json.
  virtual std::string type() const = 0;
  // Lower-case stem used to make unique default names ("conv2d" -> conv2d, conv2d_1, ...).
  virtual std::string default_name_stem() const = 0;
  // How many inputs the layer reads; kAnyInputs: two or more (Concatenate).
  static constexpr int kAnyInputs = -1;
  virtual int num_inputs() const { return 1; }

  // Creates the weights (initialised from rng) for these per-sample input
  // shapes (no batch dimension) and returns the per-sample output shape.
  // Throws Error naming the layer when the shapes do not fit it.
  // Calling build again with the same shapes keeps the existing weights.
  virtual Shape build(std::span<const Shape> input_shapes, Rng& rng) = 0;
  bool built() const { return built_; }
  const Shape& output_shape() const { return output_shape_; }
  const std::vector<Shape>& input_shapes() const { return input_shapes_; }

  // Batched forward: in[i] has shape [N, input_shapes[i]...]; out is resized
  // by the layer to [N, output_shape...]. May keep per-batch state (such as
  // pooling argmax) for the backward pass that follows.
  virtual void forward(std::span<const Tensor* const> in, Tensor& out, const RunContext& ctx) = 0;

  // Given forward's inputs and output and dL/dout, writes every trainable
  // Param::grad and, for each din[i] that is not null, dL/din[i] (resized by
  // the layer). A null din[i] means no gradient is needed for that input,
  // and the layer should skip that work.
  virtual void backward(std::span<const Tensor* const> in, const Tensor& out, const Tensor& dout,
                        std::span<Tensor* const> din, const RunContext& ctx) = 0;

  // forward / backward with OutputHooks: on_forward covers every output
  // element once; backward uses on_backward's dz (applied before the
  // activation gradient) instead of dout. False, having done nothing, when
  // the layer does not support hooks.
  virtual bool forward_hooked(std::span<const Tensor* const> in, Tensor& out, const RunContext& ctx,
                              OutputHooks& hooks) {
    (void)in, (void)out, (void)ctx, (void)hooks;
    return false;
  }
  virtual bool backward_hooked(std::span<const Tensor* const> in, const Tensor& out, const Tensor& dout,
                               std::span<Tensor* const> din, const RunContext& ctx, OutputHooks& hooks) {
    (void)in, (void)out, (void)dout, (void)din, (void)ctx, (void)hooks;
    return false;
  }

  // Fusing a clamp activation into the layer before it (Model's training
  // step does this on its own; the results are the same bits as running the
  // two layers one after the other, with one pass over memory less each way).
  // clamp_upper: for a layer that is y = min(max(x, 0), hi) and nothing else
  // (ReLU, ReLU6), its hi (+inf for ReLU); otherwise none.
  virtual std::optional<float> clamp_upper() const { return std::nullopt; }
  // Training forward with such a clamp fused: out = clamp(layer(in), 0, hi).
  // False, having done nothing, when the layer cannot fuse one.
  virtual bool forward_clamped(std::span<const Tensor* const> in, Tensor& out, const RunContext& ctx, float hi) {
    (void)in, (void)out, (void)ctx, (void)hi;
    return false;
  }
  // The backward of the fused pair after forward_clamped: out is the
  // clamp's output and dout dL/d(clamp output). False, having done nothing,
  // when the layer cannot fuse a clamp.
  virtual bool backward_clamped(std::span<const Tensor* const> in, const Tensor& out, const Tensor& dout,
                                std::span<Tensor* const> din, const RunContext& ctx, float hi) {
    (void)in, (void)out, (void)dout, (void)din, (void)ctx, (void)hi;
    return false;
  }

  // Weights and state, in a stable order. Empty for layers without weights.
  virtual std::vector<Param*> params() { return {}; }
  std::vector<const Param*> params() const;
  int64_t count_params() const;  // number of scalars in all params (trainable or not)

  // Keras-style config: everything but the weights needed to rebuild the layer
  // (always includes "name"). layer_from_config(type(), get_config()) gives an
  // equivalent, unbuilt layer.
  virtual json get_config() const = 0;
  // State that training changes besides the params (a Dropout's count of
  // training forwards, which seeds its next mask); null when there is none.
  // Saved with a compiled model so that continued training matches an
  // uninterrupted run.
  virtual json training_state() const { return nullptr; }
  virtual void set_training_state(const json& state) { (void)state; }

  // A deep copy, weights included (same name).
  virtual std::unique_ptr<Layer> clone() const = 0;

  // Called by Model::build with the layers feeding this one, in input order
  // (owned by the same model; valid until the graph changes). Layers that
  // depend on their producers override it: a QAT wrapper reads the
  // quantization of its input from the layer that produces it.
  virtual void connect_inputs(std::span<Layer* const> producers) { (void)producers; }

 protected:
  // Subclasses call this at the end of build().
  void mark_built(std::span<const Shape> input_shapes, Shape output_shape) {
    input_shapes_.assign(input_shapes.begin(), input_shapes.end());
    output_shape_ = std::move(output_shape);
    built_ = true;
  }

 private:
  std::string name_;
  bool built_ = false;
  Shape output_shape_;
  std::vector<Shape> input_shapes_;
};

class SymbolicTensor;

// A shared handle to a layer. Calling it on symbolic tensors records a node
// of a functional graph, as Keras' layer(x) does:
//   auto in = layers::Input({28, 28, 1});
//   auto x = layers::Conv2D(16, {3, 3})(in);
//   auto y = layers::Add()({x, in2});
//   Model model(in, y);
// Nothing is built or run by the call; Model(inputs, outputs) orders the
// recorded nodes and checks them.
class LayerPtr : public std::shared_ptr<Layer> {
 public:
  using std::shared_ptr<Layer>::shared_ptr;
  LayerPtr() = default;
  LayerPtr(std::shared_ptr<Layer> p) : std::shared_ptr<Layer>(std::move(p)) {}  // NOLINT: implicit by design
  SymbolicTensor operator()(const SymbolicTensor& x) const;
  SymbolicTensor operator()(const std::vector<SymbolicTensor>& xs) const;
};

// The output of a layer called on symbolic tensors (Keras' KerasTensor): the
// layer and the tensors it read. layers::Input returns one; it converts to
// its InputLayer, so Sequential{layers::Input(...), ...} keeps working.
class SymbolicTensor {
 public:
  SymbolicTensor(LayerPtr layer, std::vector<SymbolicTensor> inputs);
  const LayerPtr& layer() const { return node_->layer; }
  const std::vector<SymbolicTensor>& inputs() const { return node_->inputs; }
  operator LayerPtr() const { return node_->layer; }  // NOLINT: implicit by design
  const void* id() const { return node_.get(); }  // identity of this call

 private:
  struct Record {
    LayerPtr layer;
    std::vector<SymbolicTensor> inputs;
  };
  std::shared_ptr<const Record> node_;
};

// Rebuilds a layer from its Keras class name and config (model.json).
// Throws Error naming the class when it is unknown or the config is invalid.
LayerPtr layer_from_config(const std::string& class_name, const json& config);

// Registration hook for layer classes defined outside the train area
// (QAT wrappers register themselves this way).
using LayerFactory = LayerPtr (*)(const json& config);
void register_layer_class(const std::string& class_name, LayerFactory factory);

}  // namespace qlite
