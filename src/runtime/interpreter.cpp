// The interpreter: load (tensors, nodes, constant folding), prepare for a
// batch (op prepare in execution order, arena plan), invoke.
#include <algorithm>
#include <cstring>
#include <new>
#include <string_view>

#include "kernels/reference/int8_kernels.h"
#include "qlite/runtime.h"
#include "runtime/graph.h"
#include "runtime/memory_planner.h"
#include "runtime/ops/op_util.h"

namespace qlite::runtime {

using detail::Node;
using detail::RtTensor;

namespace {

struct AlignedFree {
  void operator()(std::byte* p) const { ::operator delete[](p, std::align_val_t{64}); }
};

Shape to_shape(const std::vector<int32_t>& dims) { return Shape(dims.begin(), dims.end()); }

std::string op_name(const lite::ModelDef& m, const lite::OperatorDef& op) {
  const lite::OperatorCodeDef& code = m.operator_codes[op.opcode_index];
  if (code.builtin == lite::BuiltinOp::kCustom) return "CUSTOM '" + code.custom_code + "'";
  return lite::builtin_op_name(code.builtin);
}

}  // namespace

struct Interpreter::Impl {
  lite::ModelDef model;
  InterpreterOptions options;
  Isa isa = Isa::kReference;
  const KernelTable* kernels = nullptr;
  std::vector<RtTensor> tensors;
  std::vector<Node> nodes;
  std::vector<size_t> exec;  // executed nodes, in order
  std::vector<std::vector<float>> folded;
  std::unique_ptr<std::byte[], AlignedFree> arena;
  size_t arena_capacity = 0, arena_used = 0;
  int batch = 0;
  std::unique_ptr<ThreadPool> pool;
  detail::EvalContext eval_ctx;

  const lite::SubGraphDef& graph() const { return model.subgraphs[0]; }
  void load();
  void fold_constants();
  void prepare(int new_batch);
  void plan_memory();
};

void Interpreter::Impl::load() {
  const lite::SubGraphDef& g = graph();
  check(!g.inputs.empty(), "runtime: the model has no inputs");
  tensors.resize(g.tensors.size());
  for (size_t i = 0; i < g.tensors.size(); ++i) {
    const lite::TensorDef& def = g.tensors[i];
    RtTensor& t = tensors[i];
    t.def = &def;
    t.type = def.type;
    t.shape = to_shape(def.shape);
    check(!def.is_variable, "runtime: tensor " + std::to_string(i) + " '" + def.name +
                                "' is a variable tensor, which the runtime does not support");
    const std::vector<uint8_t>& buf = model.buffers[def.buffer];
    if (!buf.empty()) {
      t.constant = true;
      // The buffers are owned by `model`, which outlives the tensors.
      t.data = reinterpret_cast<std::byte*>(const_cast<uint8_t*>(buf.data()));
    }
  }
  nodes.resize(g.operators.size());
  for (size_t i = 0; i < g.operators.size(); ++i) {
    Node& n = nodes[i];
    n.index = i;
    n.def = &g.operators[i];
    n.op = model.op_of(*n.def);
    n.label = "operator " + std::to_string(i) + " (" + op_name(model, *n.def) + ")";
    if (detail::find_op_kernel(n.op) == nullptr || n.op == lite::BuiltinOp::kCustom)
      throw Error("runtime: " + n.label + " is not supported by the qlite runtime");
  }
  for (int32_t t : g.inputs) {
    check(!tensors[static_cast<size_t>(t)].constant,
          "runtime: graph input " + std::to_string(t) + " is a constant tensor");
  }
  fold_constants();
  for (size_t i = 0; i < nodes.size(); ++i)
    if (!nodes[i].folded) exec.push_back(i);
}

// DEQUANTIZE of a constant (float16 weights, or int8 weights of a model that
// keeps them quantized) is computed once here; the op disappears from the plan.
void Interpreter::Impl::fold_constants() {
  for (Node& n : nodes) {
    if (n.op != lite::BuiltinOp::kDequantize) continue;
    RtTensor& in = tensors[static_cast<size_t>(n.def->inputs[0])];
    RtTensor& out = tensors[static_cast<size_t>(n.def->outputs[0])];
    if (!in.constant) continue;
    detail::op_check(out.type == lite::TensorType::kFloat32, n,
                     "output " + detail::describe(out) + " must be FLOAT32");
    detail::op_check(in.numel() == out.numel(), n,
                     "input " + detail::describe(in) + " and output " + detail::describe(out) +
                         " differ in size");
    std::vector<float> values(static_cast<size_t>(in.numel()));
    const int64_t count = in.numel();
    switch (in.type) {
      case lite::TensorType::kFloat16:
        ref::dequantize_f16(count, in.as<const uint16_t>(), values.data());
        break;
      case lite::TensorType::kInt8: {
        const lite::Quantization& q = in.quant();
        detail::op_check(!q.scale.empty(), n, "input " + detail::describe(in) + " is not quantized");
        if (q.scale.size() == 1) {
          ref::dequantize_int8(count, in.as<const int8_t>(), q.scale[0],
                               static_cast<int32_t>(q.zero_point[0]), values.data());
        } else {
          // Per channel along quantized_dimension: the channel of flat index i
          // is (i / inner) % channels.
          const auto dim = static_cast<size_t>(q.quantized_dimension);
          int64_t inner = 1;
          for (size_t d = dim + 1; d < in.shape.size(); ++d) inner *= in.shape[d];
          const int64_t channels = in.shape[dim];
          for (int64_t i = 0; i < count; ++i) {
            const auto c = static_cast<size_t>((i / inner) % channels);
            ref::dequantize_int8(1, in.as<const int8_t>() + i, q.scale[c],
                                 static_cast<int32_t>(q.zero_point[c]), values.data() + i);
          }
        }
        break;
      }
      default:
        detail::op_fail(n, std::string("constant input of type ") + lite::tensor_type_name(in.type) +
                               " cannot be dequantized");
    }
    folded.push_back(std::move(values));
    out.constant = true;
    out.data = reinterpret_cast<std::byte*>(folded.back().data());
    out.shape = to_shape(out.def->shape);
    n.folded = true;
  }
}

void Interpreter::Impl::prepare(int new_batch) {
  check(new_batch >= 1, "runtime: batch must be >= 1, got " + std::to_string(new_batch));
  const lite::SubGraphDef& g = graph();
  for (RtTensor& t : tensors) {
    if (!t.constant) t.data = nullptr;
    t.used = false;
  }
  for (int32_t i : g.inputs) {
    RtTensor& t = tensors[static_cast<size_t>(i)];
    t.shape = to_shape(t.def->shape);
    if (!t.shape.empty()) t.shape[0] = new_batch;
    shape_numel(t.shape);  // overflow check
    t.used = true;
  }
  detail::PrepareContext ctx(tensors, *kernels, model);
  for (size_t pos : exec) {
    Node& n = nodes[pos];
    n.eval = nullptr;
    n.scratch_bytes.clear();
    for (int32_t t : n.def->inputs)
      if (t >= 0) tensors[static_cast<size_t>(t)].used = true;
    for (int32_t t : n.def->outputs) tensors[static_cast<size_t>(t)].used = true;
    try {
      detail::find_op_kernel(n.op)->prepare(ctx, n);
    } catch (const Error& e) {
      // Kernel helpers (geometry, multipliers) do not know which op called them.
      if (std::string_view(e.what()).starts_with("runtime: ")) throw;
      throw Error("runtime: " + n.label + ": " + e.what());
    }
    check(n.eval != nullptr, "runtime: " + n.label + ": prepare chose no kernel");
  }
  for (int32_t i : g.outputs) tensors[static_cast<size_t>(i)].used = true;
  batch = new_batch;
  plan_memory();
}

void Interpreter::Impl::plan_memory() {
  const lite::SubGraphDef& g = graph();
  const int steps = static_cast<int>(exec.size());
  const int end = std::max(steps - 1, 0);
  // Lifetimes over execution steps. Graph inputs and outputs live throughout,
  // so that inputs survive an invoke and outputs are never overwritten.
  std::vector<int> first(tensors.size(), -1), last(tensors.size(), -1);
  for (int step = 0; step < steps; ++step) {
    const Node& n = nodes[exec[static_cast<size_t>(step)]];
    for (int32_t t : n.def->outputs)
      if (first[static_cast<size_t>(t)] < 0) first[static_cast<size_t>(t)] = step;
    for (int32_t t : n.def->inputs)
      if (t >= 0) last[static_cast<size_t>(t)] = step;
  }
  for (int32_t t : g.inputs) first[static_cast<size_t>(t)] = 0, last[static_cast<size_t>(t)] = end;
  for (int32_t t : g.outputs) last[static_cast<size_t>(t)] = end;

  std::vector<detail::BufferRequest> requests;
  std::vector<std::byte**> targets;
  for (size_t i = 0; i < tensors.size(); ++i) {
    RtTensor& t = tensors[i];
    if (t.constant || !t.used) continue;
    const int f = std::max(first[i], 0);
    const int l = std::max(last[i], f);
    requests.push_back({t.nbytes(), f, l});
    targets.push_back(&t.data);
  }
  for (int step = 0; step < steps; ++step) {
    Node& n = nodes[exec[static_cast<size_t>(step)]];
    n.scratch.assign(n.scratch_bytes.size(), nullptr);
    for (size_t k = 0; k < n.scratch_bytes.size(); ++k) {
      requests.push_back({n.scratch_bytes[k], step, step});
      targets.push_back(&n.scratch[k]);
    }
  }
  const detail::ArenaPlan plan = detail::plan_arena(requests, 64);
  if (plan.total > arena_capacity) {
    arena.reset(static_cast<std::byte*>(::operator new[](plan.total, std::align_val_t{64})));
    arena_capacity = plan.total;
  }
  arena_used = plan.total;
  for (size_t k = 0; k < requests.size(); ++k) *targets[k] = arena.get() + plan.offsets[k];
  eval_ctx.tensors = tensors.data();
  eval_ctx.pool = pool.get();
}

size_t detail::RtTensor::nbytes() const {
  return static_cast<size_t>(numel()) * lite::tensor_type_size(type);
}

// ---- public API

Interpreter::Interpreter(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Interpreter::~Interpreter() = default;

std::unique_ptr<Interpreter> Interpreter::from_model(lite::ModelDef model,
                                                     const InterpreterOptions& options) {
  lite::validate(model);
  check(options.num_threads >= 1, "runtime: num_threads must be >= 1");
  auto impl = std::make_unique<Impl>();
  impl->model = std::move(model);
  impl->options = options;
  impl->isa = options.isa.value_or(active_isa());
  impl->kernels = &kernel_table(impl->isa);
  impl->pool = std::make_unique<ThreadPool>(options.num_threads);
  impl->load();
  const RtTensor& first_input = impl->tensors[static_cast<size_t>(impl->graph().inputs[0])];
  const int initial = first_input.def->shape.empty() ? 1 : std::max(first_input.def->shape[0], 1);
  impl->prepare(initial);
  return std::unique_ptr<Interpreter>(new Interpreter(std::move(impl)));
}

std::unique_ptr<Interpreter> Interpreter::from_buffer(std::span<const uint8_t> bytes,
                                                      const InterpreterOptions& options) {
  return from_model(lite::read_model(bytes), options);
}

std::unique_ptr<Interpreter> Interpreter::from_file(const std::string& path,
                                                    const InterpreterOptions& options) {
  return from_model(lite::read_model_file(path), options);
}

size_t Interpreter::num_inputs() const { return impl_->graph().inputs.size(); }
size_t Interpreter::num_outputs() const { return impl_->graph().outputs.size(); }

namespace {
TensorInfo info_of(const RtTensor& t) {
  TensorInfo info;
  info.name = t.def->name;
  info.type = t.type;
  info.shape = t.shape;
  info.quantization = t.def->quantization;
  info.nbytes = t.nbytes();
  return info;
}
}  // namespace

TensorInfo Interpreter::input_info(size_t i) const {
  check(i < num_inputs(), "runtime: input " + std::to_string(i) + " out of range");
  return info_of(impl_->tensors[static_cast<size_t>(impl_->graph().inputs[i])]);
}
TensorInfo Interpreter::output_info(size_t i) const {
  check(i < num_outputs(), "runtime: output " + std::to_string(i) + " out of range");
  return info_of(impl_->tensors[static_cast<size_t>(impl_->graph().outputs[i])]);
}
std::vector<TensorInfo> Interpreter::inputs() const {
  std::vector<TensorInfo> v;
  for (size_t i = 0; i < num_inputs(); ++i) v.push_back(input_info(i));
  return v;
}
std::vector<TensorInfo> Interpreter::outputs() const {
  std::vector<TensorInfo> v;
  for (size_t i = 0; i < num_outputs(); ++i) v.push_back(output_info(i));
  return v;
}

int Interpreter::batch() const { return impl_->batch; }

void Interpreter::resize_batch(int n) {
  if (n == impl_->batch) return;
  const int old = impl_->batch;
  try {
    impl_->prepare(n);
  } catch (...) {
    impl_->prepare(old);  // leave the interpreter usable at the previous batch
    throw;
  }
}

std::span<std::byte> Interpreter::input_bytes(size_t i) {
  check(i < num_inputs(), "runtime: input " + std::to_string(i) + " out of range");
  RtTensor& t = impl_->tensors[static_cast<size_t>(impl_->graph().inputs[i])];
  return {t.data, t.nbytes()};
}

std::span<const std::byte> Interpreter::output_bytes(size_t i) const {
  check(i < num_outputs(), "runtime: output " + std::to_string(i) + " out of range");
  const RtTensor& t = impl_->tensors[static_cast<size_t>(impl_->graph().outputs[i])];
  return {t.data, t.nbytes()};
}

lite::TensorType Interpreter::input_type(size_t i) const { return input_info(i).type; }
lite::TensorType Interpreter::output_type(size_t i) const { return output_info(i).type; }

void Interpreter::check_type(lite::TensorType actual, lite::TensorType wanted, const char* what,
                             size_t i) {
  check(actual == wanted, std::string("runtime: ") + what + " " + std::to_string(i) + " is " +
                              lite::tensor_type_name(actual) + ", not " + lite::tensor_type_name(wanted));
}

void Interpreter::invoke() {
  Impl& m = *impl_;
  for (size_t pos : m.exec) {
    const Node& n = m.nodes[pos];
    try {
      n.eval(m.eval_ctx, n);
    } catch (const Error& e) {
      throw Error("runtime: " + n.label + ": " + e.what());
    }
  }
}

Isa Interpreter::isa() const { return impl_->isa; }
size_t Interpreter::arena_bytes() const { return impl_->arena_used; }
size_t Interpreter::num_executed_ops() const { return impl_->exec.size(); }
const lite::ModelDef& Interpreter::model() const { return impl_->model; }
ThreadPool& Interpreter::thread_pool() { return *impl_->pool; }

}  // namespace qlite::runtime
