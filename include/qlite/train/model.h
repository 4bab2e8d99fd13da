// Models: a DAG of layers (Sequential is the chain), with Keras's compile /
// fit / evaluate / predict / summary and save / load.
#pragma once

#include <cstdio>
#include <functional>
#include <initializer_list>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "qlite/fileio.h"
#include "qlite/train/layer.h"
#include "qlite/train/layers.h"

namespace qlite {

// ---- optimizers -----------------------------------------------------------
// Keras' optimizer variables: the number of updates applied and the slots,
// param-major (trainable param i's slot k at slots[i * slot_names().size() + k],
// params in Model::trainable_params() order); no slots before the first update.
struct OptimizerState {
  int64_t iterations = 0;
  std::vector<Tensor> slots;
};

class Optimizer {
 public:
  virtual ~Optimizer() = default;
  virtual std::string name() const = 0;  // "Adam", "SGD"
  // Applies one update to every trainable param from its grad. The optimizer
  // keeps per-param state keyed by position in `params`; the list must be the
  // same (same order, same shapes) on every call.
  virtual void apply(std::span<Param* const> params) = 0;
  virtual json get_config() const = 0;
  virtual std::unique_ptr<Optimizer> clone() const = 0;  // config only, fresh state
  // The slots each trainable param has: {"m", "v"} for Adam, {"momentum"} for
  // SGD with momentum, none for plain SGD.
  virtual std::vector<std::string> slot_names() const = 0;
  virtual OptimizerState state() const = 0;
  // Continues from a saved state; the slots' count and shapes are checked
  // against the params at the next apply() (an Error if they differ).
  virtual void set_state(OptimizerState state) = 0;
  float learning_rate = 0.001f;
};

struct AdamOptions {
  float learning_rate = 0.001f;
  float beta_1 = 0.9f;
  float beta_2 = 0.999f;
  float epsilon = 1e-7f;
};
std::unique_ptr<Optimizer> Adam(AdamOptions options = {});

struct SgdOptions {
  float learning_rate = 0.01f;
  float momentum = 0.0f;
};
std::unique_ptr<Optimizer> SGD(SgdOptions options = {});

// {"class_name": "Adam", "config": {...}} <-> a fresh optimizer (no state).
// Unknown classes and non-numeric fields are an Error.
json optimizer_to_config(const Optimizer& optimizer);
std::unique_ptr<Optimizer> optimizer_from_config(const json& j);

// ---- losses and metrics ---------------------------------------------------
// Sparse categorical cross-entropy over the last axis, mean over the batch.
struct SparseCategoricalCrossentropy {
  bool from_logits = false;  // Keras default; the seed model uses true
};

// Loss value (mean over the batch) and, when dlogits is not null, its gradient
// with respect to the model output (resized to logits' shape).
// Labels outside [0, classes) are an Error.
double sparse_categorical_crossentropy(const Tensor& output, const Tensor& labels, bool from_logits,
                                       Tensor* doutput);
// Number of rows whose arg-max equals the label.
int64_t count_correct(const Tensor& output, const Tensor& labels);

// ---- training ---------------------------------------------------------------
// What fit() throws when the loss (or the weights) stop being finite: Keras'
// TerminateOnNaN, as an Error (the weights are garbage from there). The
// Python binding catches it to stop fit as TerminateOnNaN does.
class TrainingDiverged : public Error {
 public:
  TrainingDiverged(const std::string& message, int epoch, int64_t step)
      : Error(message), epoch(epoch), step(step) {}
  int epoch;     // 0-based
  int64_t step;  // 0-based batch of the epoch; -1 when found after the epoch
};

struct FitProgress {
  int epoch = 0;           // 0-based
  int epochs = 0;
  int64_t step = 0;        // batches done in this epoch
  int64_t steps = 0;       // batches in this epoch
  double elapsed_s = 0;    // since the epoch started
  double loss = 0;         // running mean over the epoch so far
  double accuracy = 0;     // running mean over the epoch so far
  bool epoch_end = false;  // the last report of an epoch; val_* are set when validating
  std::optional<double> val_loss, val_accuracy;
};
using ProgressCallback = std::function<void(const FitProgress&)>;

struct FitOptions {
  int epochs = 1;
  int batch_size = 32;
  double validation_split = 0.0;  // the last fraction of (x, y), as Keras takes it
  bool shuffle = true;
  uint64_t seed = 0;
  // Index of the first epoch this call runs (the shuffle order of epoch e
  // depends on (seed, e)): a run continued with initial_epoch = the epochs
  // already trained shuffles as the uninterrupted run would. Unlike Keras,
  // `epochs` counts the epochs this call runs, not the last index.
  int initial_epoch = 0;
  ProgressCallback on_progress;  // called after every batch and at epoch end
};

struct History {
  std::vector<double> loss, accuracy, val_loss, val_accuracy;  // one entry per epoch
  double images_per_second = 0;  // training throughput over all epochs (excludes validation)
  int64_t train_samples = 0, val_samples = 0;
};

struct EvalResult {
  double loss = 0;
  double accuracy = 0;
  int64_t samples = 0;
};

// A node of the graph: a layer and the nodes it reads (indices of earlier
// nodes). Node 0 is always the InputLayer. A layer called on several tensors
// (a shared layer: one set of weights) is the layer of several nodes, one per
// call; `call` numbers them in node order (Keras' node_index: 0 for the
// first call).
struct Node {
  LayerPtr layer;
  std::vector<int> inputs;
  int call = 0;
};

class Model {
 public:
  Model() = default;
  explicit Model(std::string name) : name_(std::move(name)) {}
  // The functional model from `inputs` (a layers::Input) to `outputs`: every
  // layer `outputs` depends on, each after the layers it reads (Keras'
  // Model(inputs, outputs)). A layer called on several tensors is shared:
  // one node per call, one set of weights. A layer called on a tensor that
  // does not come from `inputs` is an Error naming it.
  Model(const SymbolicTensor& inputs, const SymbolicTensor& outputs, std::string name = "model");
  virtual ~Model() = default;
  Model(const Model&) = delete;
  Model& operator=(const Model&) = delete;
  Model(Model&&) = default;
  Model& operator=(Model&&) = default;

  const std::string& name() const { return name_; }
  virtual std::string class_name() const { return "Functional"; }

  // Adds a layer reading the given nodes (empty: the previous node) and
  // returns its node index. The first layer must be an InputLayer. A layer
  // with an empty name gets a Keras-style unique name (dense, dense_1, ...);
  // a given name that another layer has is an Error. Adding a layer object
  // that is already in a functional model adds another call of it (a shared
  // layer: same weights, gradients summed over the calls); a Sequential
  // model refuses it.
  int add_node(LayerPtr layer, std::vector<int> inputs = {});

  // Creates the weights of every layer not yet built; layer i draws from a
  // generator seeded by (seed, i), so a layer's initial weights do not depend
  // on the layers after it. fit builds with FitOptions::seed, evaluate and
  // predict with 0, when the model is not yet built; summary() of an unbuilt
  // model describes a built copy. Every layer but the last must feed a later
  // one (the last layer is the model's one output). A shared layer is built
  // at its first call; its other calls must read inputs of the same shapes.
  // Throws Error naming the layer whose shapes do not fit.
  void build(uint64_t seed = 0);
  bool is_built() const;

  const std::vector<Node>& nodes() const { return nodes_; }
  size_t num_layers() const { return nodes_.size(); }
  Layer& layer(size_t i) const { return *nodes_.at(i).layer; }
  Layer* find_layer(const std::string& name) const;  // nullptr when absent
  // Every layer once (a shared layer at its first call), in node order:
  // what holds the model's weights.
  std::vector<Layer*> unique_layers() const;
  // How many nodes call this node's layer (1 unless it is shared).
  int num_calls(size_t node) const;
  const Shape& input_shape() const;   // per sample
  const Shape& output_shape() const;  // per sample

  void compile(std::unique_ptr<Optimizer> optimizer, SparseCategoricalCrossentropy loss = {});
  bool compiled() const { return optimizer_ != nullptr; }
  Optimizer* optimizer() const { return optimizer_.get(); }
  const SparseCategoricalCrossentropy& loss() const { return loss_; }

  // Threads used by fit/evaluate/predict (default 1). Results are
  // deterministic for a given seed and thread count.
  void set_threads(int n);
  int threads() const;

  // fit and evaluate need compile() (the loss comes from it). Changing
  // Param::trainable takes effect at the next compile() or fit(); the
  // optimizer's state is per param list, so re-compile after such a change.
  History fit(const Tensor& x, const Tensor& y, const FitOptions& options);
  EvalResult evaluate(const Tensor& x, const Tensor& y, int batch_size = 32);
  Tensor predict(const Tensor& x, int batch_size = 32);

  // One training step on a batch: forward, loss, backward, optimizer update.
  // Returns {loss, correct}. Exposed for custom loops and benchmarks.
  std::pair<double, int64_t> train_step(const Tensor& x, const Tensor& y);

  // Keras-like table: layer (type), output shape, params; totals. Sequential
  // models omit the InputLayer row; functional ones list it and add a
  // "Connected to" column.
  std::string summary() const;
  int64_t count_params() const;
  std::vector<Param*> trainable_params();
  // Epochs fit() completed on this model (saved with a compiled model, so
  // that qlite train --resume continues the epoch count and shuffle order).
  int64_t epochs_trained() const { return epochs_trained_; }
  void set_epochs_trained(int64_t epochs) { epochs_trained_ = epochs; }

  // Deep copy: same architecture and weights; compiled state is not copied.
  std::unique_ptr<Model> clone() const;

  json to_json() const;  // architecture only (model.json)

 protected:
  std::string name_ = "model";
  std::vector<Node> nodes_;
  std::unique_ptr<Optimizer> optimizer_;
  SparseCategoricalCrossentropy loss_;
  int64_t epochs_trained_ = 0;

 private:
  struct Runtime;  // activations, gradients, thread pool; reused across steps
  std::shared_ptr<Runtime> rt_;
  Runtime& runtime();
  void invalidate_plan();
  void prepare();  // which nodes need gradients, reused buffers; once per graph change
  void check_x(const Tensor& x, const char* what) const;
  void check_y(const Tensor& y, int64_t rows, const char* what) const;
  void forward_batch(const Tensor& x, bool training);
  std::pair<double, int64_t> train_batch(const Tensor& x, const Tensor& y);
  EvalResult evaluate_rows(const Tensor& x, const Tensor& y, int64_t begin, int64_t end,
                           int batch_size);
};

class Sequential : public Model {
 public:
  explicit Sequential(std::string name = "sequential") : Model(std::move(name)) {}
  Sequential(std::initializer_list<LayerPtr> layers, std::string name = "sequential");
  std::string class_name() const override { return "Sequential"; }
  Sequential& add(LayerPtr layer);
};

// Clones a model, passing each layer through clone_function (which may return
// a replacement, e.g. an annotated layer); the default deep-copies it. A
// shared layer is passed once, at its first call, and its copy is shared by
// the same calls in the clone.
std::unique_ptr<Model> clone_model(const Model& model,
                                   const std::function<LayerPtr(const Layer&)>& clone_function = {});

// Rebuilds a model from to_json() output (weights freshly initialised).
std::unique_ptr<Model> model_from_json(const json& j);

// Saves DIR/model.json and DIR/model.safetensors atomically (qlite/fileio.h:
// both written to temporary names, then renamed), creating DIR when needed.
// Weights are named "<layer>/<param>" ("dense/kernel"). A compiled model also
// saves its training state: model.json's training_config holds the optimizer
// config, its iteration count, the epochs trained and each layer's training
// state (a Dropout's step count), and DIR/optimizer.safetensors the slots
// ("<layer>/<param>/m", ".../v" for Adam). A save that fails leaves a
// previously saved model in DIR intact.
void save_model(const Model& model, const std::string& dir);
// The same files staged into `staging` (written, not yet in place), for a
// caller that commits them together with other outputs. DIR's parent must exist.
void stage_model(const Model& model, const std::string& dir, StagedFiles& staging);
// The first float parameter of `model` holding NaN or +-Inf, described as
// "layer 'dense' parameter 'kernel' holds nan (element 3 of 7840)"; empty when
// every parameter is finite. check_finite_params throws Error(what + ": " + it).
// save_model refuses such a model; fit() stops when it produces one.
std::string first_non_finite_param(const Model& model);
void check_finite_params(const Model& model, const std::string& what);
// Loads a model saved by save_model; predictions are bit-identical. A model
// saved after compile() comes back compiled with the same loss, optimizer
// config and optimizer state (Adam's m, v and step count), so that training
// it further gives the same weights as one uninterrupted run.
std::unique_ptr<Model> load_model(const std::string& dir);
// Copies the weights of DIR/model.safetensors into `model` (an architecture
// with the same layer names and parameter shapes; every tensor must be used).
void load_weights(Model& model, const std::string& dir);

// The seed architecture: Input(28,28) -> Reshape(28,28,1) -> Conv2D(12,3x3,relu)
// -> MaxPooling2D(2x2) -> Flatten -> Dense(num_classes).
std::unique_ptr<Sequential> make_seed_model(int num_classes = 10, uint64_t seed = 0);

// A progress reporter that draws a Keras-like live bar on a terminal stream.
ProgressCallback console_progress(std::FILE* stream);

}  // namespace qlite
