// Internal structures of the interpreter shared by the ops: tensors as the
// runtime sees them, nodes, and the prepare / eval contexts.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "qlite/lite.h"
#include "runtime/kernel_table.h"

namespace qlite::runtime::detail {

struct RtTensor {
  const lite::TensorDef* def = nullptr;
  lite::TensorType type = lite::TensorType::kFloat32;
  Shape shape;             // current shape (set by the graph input or the producing op's prepare)
  bool constant = false;   // data lives in the model (or in folded storage), never in the arena
  bool variable = false;   // is_variable: persistent storage outside the arena, kept across invokes
  bool used = false;       // read or written by an executed op, or a graph input/output
  // Its shape depends on values known only at invoke (an op's shape operand
  // computed at run time, or a dynamic input): the interpreter prepares its
  // producer just before running it, and it lives outside the arena plan.
  bool dynamic = false;
  // Set by the interpreter while it prepares an op at invoke: the tensor's
  // values are computed, so prepare may read them (require_values()).
  bool known = false;
  // Set by require_values() when prepare read a run-time tensor's values:
  // the interpreter prepares the op again when those values change.
  mutable bool value_read = false;
  std::byte* data = nullptr;

  size_t nbytes() const;
  int64_t numel() const { return shape_numel(shape); }
  const lite::Quantization& quant() const { return def->quantization; }
  bool quantized() const { return !def->quantization.scale.empty(); }
  float scale() const { return def->quantization.scale.at(0); }
  int32_t zero_point() const { return static_cast<int32_t>(def->quantization.zero_point.at(0)); }
  template <class T>
  T* as() const { return reinterpret_cast<T*>(data); }
};

struct Node;
struct EvalContext;
struct OpRecord;

// A resource variable's value: ASSIGN_VARIABLE's copy of a tensor (its type,
// shape and bytes; the next assignment may change all three, as in TFLite).
struct ResourceVariable {
  lite::TensorType type = lite::TensorType::kFloat32;
  Shape shape;
  std::vector<std::byte> data;
};

// A subgraph run by an op (IF's branches, WHILE's condition and body): an
// interpreter of its own over the same model, sharing the resource state,
// prepared for the shapes of the op's operands. Made by
// ResourceHost::open_subgraph, owned by the op's state.
class CalledSubgraph {
 public:
  virtual ~CalledSubgraph() = default;
  virtual size_t num_inputs() const = 0;
  virtual size_t num_outputs() const = 0;
  // The file's declaration of graph input i (its type, before prepare).
  virtual const RtTensor& declared_input(size_t i) const = 0;
  // Prepares it with graph input i of shape shapes[i] (nothing to do when
  // they are those of the last call). Errors name the op n and the subgraph.
  virtual void prepare(const Node& n, std::span<const Shape> shapes) = 0;
  // After prepare: its graph inputs (to copy into) and outputs (to copy
  // from after run()); an output's shape is known after prepare.
  virtual RtTensor& input(size_t i) = 0;
  virtual const RtTensor& output(size_t i) const = 0;
  virtual void run() = 0;
};

// What the resource ops share across the subgraphs of one interpreter
// (TFLite 2.9: the interpreter's resource ids, resources and initialization
// status map). Implemented by the interpreter.
class ResourceHost {
 public:
  virtual ~ResourceHost() = default;
  // The id of a VAR_HANDLE's (container, shared_name). TFLite 2.9 numbers
  // them from 0 in the order it creates the ops (subgraph by subgraph), and
  // so does the interpreter, so that a handle given as an INT32 constant
  // names the same variable in both.
  virtual int32_t resource_id(const std::string& container, const std::string& shared_name) const = 0;
  // nullptr: never assigned.
  virtual const ResourceVariable* variable(int32_t id) const = 0;
  virtual void assign(int32_t id, const RtTensor& value) = 0;
  // CALL_ONCE: at prepare, checks subgraph k and prepares it (once); at
  // eval, runs it unless it has run since the interpreter was made (or
  // its state was last reset).
  virtual void prepare_init_subgraph(const Node& n, int32_t k, size_t caller_subgraph) = 0;
  virtual void call_once(const Node& n, int32_t k) = 0;
  // IF / WHILE: subgraph k, called by op n of subgraph `caller`, loaded
  // (not yet prepared). Refuses an index out of range and the caller's own.
  virtual std::unique_ptr<CalledSubgraph> open_subgraph(const Node& n, int32_t k, size_t caller,
                                                        const char* role) = 0;
  // The most iterations one WHILE may run (InterpreterOptions).
  virtual int64_t max_loop_iterations() const = 0;
};
using EvalFn = void (*)(const EvalContext&, const Node&);

// Prepared, op-specific data; kept across re-preparations so that weights are
// packed once (ops rebuild only the shape-dependent parts).
struct OpState {
  virtual ~OpState() = default;
};

// Explicit padding of a CONV_2D / DEPTHWISE_CONV_2D that replaces its own
// VALID padding: a PAD in front of it was folded into it at load
// (Interpreter::Impl::fold_pads).
struct FoldedPad {
  int top = 0, bottom = 0, left = 0, right = 0;
};

struct Node {
  size_t index = 0;  // operator index in the subgraph (for messages)
  lite::BuiltinOp op = lite::BuiltinOp::kAdd;
  const OpRecord* record = nullptr;  // the op's record (runtime/op_record.h)
  const lite::OperatorDef* def = nullptr;
  std::string label;  // "operator 3 (CONV_2D)"
  bool folded = false;  // computed once at load (constant inputs only), or folded into its consumer; not executed
  // Prepared at invoke, just before it runs: it reads a dynamic tensor, or a
  // shape operand (sizes, axes, paddings) computed at run time.
  bool dynamic = false;
  bool has_folded_pad = false;  // folded_pad applies (and def is the rewritten copy reading the PAD's input)
  FoldedPad folded_pad;
  EvalFn eval = nullptr;
  std::unique_ptr<OpState> state;
  OpState* state_ptr = nullptr;  // state.get(), read on the invoke path
  std::vector<size_t> scratch_bytes;  // requested at prepare
  size_t scratch_base = 0;            // index of scratch 0 in a lane's scratch table
  // Multiply-accumulates (or element operations) at the prepared batch; the
  // interpreter decides from their sum whether a second thread pays off.
  int64_t work = 0;
  // False when an image's outputs depend on other images (set by prepare):
  // the graph then runs as one piece, never in tiles of images.
  bool separable = true;
  // Set by the prepare of a dynamic node whose output shape follows state
  // the signature does not see (READ_VARIABLE's variable): prepared again
  // at every invoke.
  bool prepare_every_invoke = false;

  // The op's state as S, created on first use. An op prepared again (at
  // invoke) may take another path with another state type (MEAN's spatial
  // path and its general one): the state is then replaced.
  template <class S>
  S& state_as() {
    if (!state || !dynamic_cast<S*>(state.get())) {
      state = std::make_unique<S>();
      state_ptr = state.get();
    }
    return static_cast<S&>(*state);
  }
  template <class S>
  const S& state_as() const {
    return *static_cast<const S*>(state_ptr);
  }
};

class PrepareContext {
 public:
  PrepareContext(std::vector<RtTensor>& tensors, const KernelTable& kernels, const lite::ModelDef& model,
                 int workers, ResourceHost* resources = nullptr, size_t subgraph = 0)
      : tensors_(tensors), kernels_(kernels), model_(model), workers_(workers), resources_(resources),
        subgraph_(subgraph) {}

  const KernelTable& kernels() const { return kernels_; }
  Isa isa() const { return kernels_.isa; }
  // Threads an op may split itself over (conv, depthwise and FC ask for one
  // scratch per worker).
  int workers() const { return workers_; }
  const lite::ModelDef& model() const { return model_; }
  // The interpreter's resource state (never null inside an interpreter) and
  // the index of the subgraph being prepared.
  ResourceHost* resources() const { return resources_; }
  size_t subgraph() const { return subgraph_; }
  size_t num_inputs(const Node& n) const { return n.def->inputs.size(); }
  // Input k; throws naming the op when it is absent (-1 or beyond the list).
  RtTensor& input(const Node& n, size_t k) const;
  // Input k or nullptr when the optional input is absent.
  RtTensor* optional_input(const Node& n, size_t k) const;
  RtTensor& output(const Node& n, size_t k) const;
  // Sets an output's shape; dimensions other than the batch (dim 0) must
  // agree with the shape the file declares, which catches inconsistent
  // models, unless shapes follow the inputs (below).
  void set_output_shape(const Node& n, size_t k, Shape shape) const;
  // A subgraph run by IF or WHILE takes the shapes its caller passes (a
  // loop may grow a variable at every iteration); as in TFLite, its
  // tensors' declared shapes then say nothing.
  void set_shapes_follow_inputs(bool on) { shapes_follow_inputs_ = on; }
  // Work space for the op's eval, valid only while the op runs.
  size_t request_scratch(Node& n, size_t bytes) const;

 private:
  std::vector<RtTensor>& tensors_;
  const KernelTable& kernels_;
  const lite::ModelDef& model_;
  int workers_ = 1;
  ResourceHost* resources_ = nullptr;
  size_t subgraph_ = 0;
  bool shapes_follow_inputs_ = false;
};

// What an op's eval sees: the tensors and scratch of one lane (a worker's
// copy of the plan), and how many images this call covers. The interpreter
// runs a batch-separable graph in tiles of images, so `batch` may be below
// the batch the op was prepared for (`prepared_batch`); every op scales its
// batch-dependent counts with scaled().
struct EvalContext {
  const RtTensor* tensors = nullptr;
  std::byte* const* scratch = nullptr;
  // Non-null when the op may split itself over threads (one tile only).
  ThreadPool* pool = nullptr;
  ResourceHost* resources = nullptr;  // the resource ops' shared state
  int batch = 1, prepared_batch = 1;

  const RtTensor& input(const Node& n, size_t k) const {
    return tensors[static_cast<size_t>(n.def->inputs[k])];
  }
  const RtTensor* optional_input(const Node& n, size_t k) const {
    if (k >= n.def->inputs.size() || n.def->inputs[k] < 0) return nullptr;
    return &tensors[static_cast<size_t>(n.def->inputs[k])];
  }
  const RtTensor& output(const Node& n, size_t k) const {
    return tensors[static_cast<size_t>(n.def->outputs[k])];
  }
  std::byte* scratch_of(const Node& n, size_t k) const { return scratch[n.scratch_base + k]; }
  // A count proportional to the batch, taken at the prepared batch, for this call.
  int64_t scaled(int64_t v) const { return batch == prepared_batch ? v : v / prepared_batch * batch; }
};

}  // namespace qlite::runtime::detail
