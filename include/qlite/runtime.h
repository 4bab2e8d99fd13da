// qlite runtime: an interpreter for .tflite models (float32, dynamic-range
// "hybrid", full int8 and float16-weight models). int8 convolution,
// depthwise, fully connected, pooling, add and mean run the packed x86
// kernels (AVX-512 VNNI / AVX2) and float32 convolution and fully connected
// the patch kernels of the training layers, all bit-exact with (int8) or
// within rounding of (float) the reference kernels of src/kernels/reference,
// which InterpreterOptions::isa = kReference (or QLITE_ISA=reference) runs.
//
// Life cycle: load (validate, fold float16 weights) -> prepare for a batch
// (per-op type and shape checks, output shapes, requantization multipliers,
// weights packed once, kernel choice, one arena for every activation and
// scratch) -> invoke() any number of times. invoke() allocates nothing and
// never moves a tensor; only resize_batch() re-plans. The batch is dimension
// 0 of every graph input; every shape downstream follows it. When every op
// treats images independently, a large batch runs in tiles of images whose
// activations fit in the L2 cache, and tiles go to the worker threads.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <type_traits>
#include <vector>

#include "qlite/core.h"
#include "qlite/lite.h"

namespace qlite::runtime {

struct InterpreterOptions {
  // Worker threads. A batch is split into tiles of images run on separate
  // threads, or (one tile) large convolutions and fully connected layers
  // split their rows; results are bit-identical for every thread count.
  // Models too small to gain from a second thread run on one.
  int num_threads = 1;
  // Kernel path; unset = active_isa() (which honours QLITE_ISA).
  std::optional<Isa> isa;
  // A plan (activations, scratch) above this many bytes is refused with an
  // Error before anything is allocated: a file alone must not decide how
  // much memory the process takes.
  size_t max_arena_bytes = size_t{4} << 30;
  // A WHILE loop that runs more iterations than this fails with an Error
  // naming the op, instead of running for as long as the file says (TFLite
  // has no bound; a condition that never turns false is a hang there).
  int64_t max_loop_iterations = int64_t{1} << 24;
};

// One executed operator's wall time per invoke (Interpreter::set_profiling).
struct OpTiming {
  size_t op_index = 0;   // operator index in subgraph 0
  std::string op_name;   // TFLite's name ("CONV_2D", "CUSTOM 'Foo'")
  // Shapes as prepared (per tile of images when a batch runs in tiles);
  // absent optional inputs are left out.
  std::vector<Shape> input_shapes, output_shapes;
  // Nanoseconds spent in this op during each invoke() since profiling was
  // switched on (or the last re-preparation); summed over tiles and threads
  // when a batch runs in tiles of images.
  std::vector<int64_t> ns;
};

// What a caller needs to feed or read a graph input or output.
struct TensorInfo {
  std::string name;
  lite::TensorType type = lite::TensorType::kFloat32;
  Shape shape;                    // at the current batch
  lite::Quantization quantization;  // empty for float tensors
  size_t nbytes = 0;

  // Per-tensor parameters (scale 0 / zero point 0 when not quantized).
  float scale() const { return quantization.scale.empty() ? 0.0f : quantization.scale[0]; }
  int32_t zero_point() const {
    return quantization.zero_point.empty() ? 0 : static_cast<int32_t>(quantization.zero_point[0]);
  }
};

// Operators of a model's main graph (subgraph 0) the runtime cannot run,
// grouped: an op it has no kernel for ("TRANSPOSE", "CUSTOM 'Foo'"), or an op
// it runs but not with these types ("CONV_2D with uint8 input").
struct UnsupportedOp {
  std::string what;
  std::vector<size_t> operators;  // indices in subgraph 0, ascending
};
// Every group, in order of first appearance; empty when the runtime can run
// every operator (shape and quantization checks happen later, at prepare).
// `subgraph`: the subgraph whose operators are listed (0, the main one; the
// interpreter checks a CALL_ONCE's subgraph when it prepares that op).
std::vector<UnsupportedOp> unsupported_ops(const lite::ModelDef& model, size_t subgraph = 0);
// The group one operator of `subgraph` falls in; "" when the runtime runs it.
std::string unsupported_reason(const lite::ModelDef& model, const lite::OperatorDef& op, size_t subgraph = 0);
// One line: "operators not supported by the qlite runtime: TRANSPOSE x1
// (operator 0); PAD x18 (operators 1, 5, 9, 13, 17, ...)". Loading such a
// model throws Error("runtime: " + this line).
std::string describe_unsupported(std::span<const UnsupportedOp> ops);
// The TFLite names of the builtin ops the runtime runs, each with the
// (input -> output) types it accepts: "CONV_2D: float32 -> float32, int8 -> int8".
std::vector<std::string> supported_ops();

class Interpreter {
 public:
  static std::unique_ptr<Interpreter> from_file(const std::string& path,
                                                const InterpreterOptions& options = {});
  static std::unique_ptr<Interpreter> from_buffer(std::span<const uint8_t> bytes,
                                                  const InterpreterOptions& options = {});
  // Takes a model already in memory (it is validated again).
  static std::unique_ptr<Interpreter> from_model(lite::ModelDef model,
                                                 const InterpreterOptions& options = {});
  ~Interpreter();
  Interpreter(const Interpreter&) = delete;
  Interpreter& operator=(const Interpreter&) = delete;

  size_t num_inputs() const;
  size_t num_outputs() const;
  TensorInfo input_info(size_t i) const;
  TensorInfo output_info(size_t i) const;
  std::vector<TensorInfo> inputs() const;
  std::vector<TensorInfo> outputs() const;

  // Current batch (dimension 0 of the graph inputs) and re-preparation for a
  // new one. n >= 1. A no-op when n is the current batch.
  int batch() const;
  // Whether graph input i follows the batch (dimension 0 resized by
  // resize_batch): the first input, and those whose declared dimension 0
  // equals the first input's. The others (a shape or sizes fed at run time, a
  // broadcast operand) keep the file's shape.
  bool input_follows_batch(size_t i) const;
  void resize_batch(int n);

  // Raw bytes of an input / output at the current batch. Valid until the next
  // resize_batch(); stable across invoke() calls.
  std::span<std::byte> input_bytes(size_t i);
  std::span<const std::byte> output_bytes(size_t i) const;

  // Typed views; T must match the tensor type (float, int8_t, uint8_t, int32_t).
  template <class T>
  std::span<T> input_data(size_t i) {
    auto b = input_bytes(i);
    check_type(input_type(i), type_tag<T>(), "input", i);
    return {reinterpret_cast<T*>(b.data()), b.size() / sizeof(T)};
  }
  template <class T>
  std::span<const T> output_data(size_t i) const {
    auto b = output_bytes(i);
    check_type(output_type(i), type_tag<T>(), "output", i);
    return {reinterpret_cast<const T*>(b.data()), b.size() / sizeof(T)};
  }

  // Runs the graph. Variable tensors (TFLite's is_variable: an LSTM's output
  // and cell state) keep their values from one invoke() to the next, and so
  // do resource variables (ASSIGN_VARIABLE / READ_VARIABLE; a CALL_ONCE
  // runs its initialization subgraph on the first invoke only).
  // An op whose output shape depends on values computed at run time (a shape,
  // sizes, paddings, axes that are graph inputs or computed from them) is
  // prepared just before it runs, as TFLite 2.9 resizes its dynamic tensors:
  // output_info() and output_bytes() give the shape of the last invoke (a
  // dynamic output has no bytes before the first invoke). A value the op
  // refuses fails the invoke (Error, one line naming the op).
  void invoke();
  // Sets every variable tensor back to its initial value, as TFLite 2.9's
  // ResetVariableTensors does: the zero point for INT8, zero bytes for every
  // other type. Variables start so at load. It also returns the resource
  // variables to their state before the first invoke (none assigned, every
  // CALL_ONCE to run again), which TFLite 2.9's reset leaves as they are:
  // there, only a new interpreter starts them over.
  void reset_variables();
  // Number of variable tensors in the graph.
  size_t num_variables() const;
  // Whether an invoke can depend on the ones before it: variable tensors,
  // or resource variables and CALL_ONCE (in any subgraph). `qlite run` then
  // feeds a batch one sample at a time.
  bool has_state() const;

  // Per-op timing. Off by default, and then invoke() pays one predictable
  // branch per op. set_profiling(true) clears the record and makes every
  // later invoke() append each executed op's wall time (steady clock) to
  // op_timings(), one entry per executed op in execution order (ops computed
  // at load or prepare are not executed, so not listed). Re-preparing
  // (resize_batch) clears the record again.
  void set_profiling(bool on);
  bool profiling() const;
  const std::vector<OpTiming>& op_timings() const;

  // The kernel path chosen and the arena size of the current plan (with the
  // plans of the subgraphs CALL_ONCE, IF and WHILE run).
  Isa isa() const;
  size_t arena_bytes() const;
  // Bytes held for tensors whose shapes are decided at invoke (and their ops'
  // scratch): they grow when a shape needs more and are kept otherwise. With
  // arena_bytes(), bounded by InterpreterOptions::max_arena_bytes.
  size_t dynamic_bytes() const;
  // Number of operators executed per invoke (constant-folded ones excluded).
  size_t num_executed_ops() const;
  const lite::ModelDef& model() const;
  ThreadPool& thread_pool();

  struct Impl;

 private:
  explicit Interpreter(std::unique_ptr<Impl> impl);
  lite::TensorType input_type(size_t i) const;
  lite::TensorType output_type(size_t i) const;
  static void check_type(lite::TensorType actual, lite::TensorType wanted, const char* what,
                         size_t i);
  template <class T>
  static constexpr lite::TensorType type_tag() {
    if constexpr (std::is_same_v<std::remove_const_t<T>, float>) return lite::TensorType::kFloat32;
    else if constexpr (std::is_same_v<std::remove_const_t<T>, int8_t>) return lite::TensorType::kInt8;
    else if constexpr (std::is_same_v<std::remove_const_t<T>, uint8_t>) return lite::TensorType::kUInt8;
    else if constexpr (std::is_same_v<std::remove_const_t<T>, int32_t>) return lite::TensorType::kInt32;
    else static_assert(sizeof(T) == 0, "unsupported element type");
  }
  std::unique_ptr<Impl> impl_;
};

}  // namespace qlite::runtime
