// The interpreter: load (tensors, nodes, DEQUANTIZE of constants folded),
// prepare for a batch (op prepare in execution order, ops on known inputs
// computed then, arena plan), invoke.
#include <algorithm>
#include <chrono>
#include <cstring>
#include <deque>
#include <map>
#include <new>
#include <string_view>

#include "kernels/float_kernels.h"
#include "kernels/int8_kernels_x86.h"
#include "kernels/reference/int8_kernels.h"
#include "qlite/runtime.h"
#include "runtime/graph.h"
#include "runtime/memory_planner.h"
#include "runtime/op_record.h"
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

// One worker's copy of the plan: the tensors' data pointers (its own
// intermediates, its window of the graph inputs and outputs) and its scratch.
struct Lane {
  std::vector<RtTensor> tensors;
  std::vector<std::byte*> scratch;
  detail::EvalContext ctx;
  std::vector<int64_t> op_ns;  // profiling: ns per step of `run` in the current invoke
};

// A graph input or output in the shared part of the arena, at the full batch.
struct IoTensor {
  size_t tensor = 0;
  std::byte* base = nullptr;
  size_t image_bytes = 0;
};

// Below this much work per invoke (multiply-accumulates) one thread runs
// everything: handing a tile to a second thread costs more than it saves.
constexpr int64_t kMinParallelWork = int64_t{1} << 21;
// Per-image intermediates of a tile are kept under this many bytes, so that a
// tile's activations stay in the L2 cache (1 MiB per core here) between ops.
// Measured on the int8 seed model at batch 256 (qlite bench, 1 vs 2 threads):
// 64 KiB tiles 1.47-1.56x, 256 KiB 1.62x, 512 KiB 1.71x, 1-thread unchanged.
constexpr size_t kTileBytes = size_t{512} << 10;
// Ops computed while preparing (see Impl::fold_at_prepare) write at most this
// many bytes each, and this many in all; larger results are computed at invoke.
constexpr size_t kMaxFoldBytesPerOp = size_t{1} << 20;
constexpr size_t kMaxFoldBytes = size_t{16} << 20;

// A dynamic node's storage and what it was last prepared for (see
// Impl::prepare_at_invoke).
struct DynamicNode {
  bool valid = false;              // prepared for `signature` since the last prepare()
  std::vector<int64_t> signature;  // input shapes and the run-time values prepare read
  std::vector<size_t> value_inputs;  // the run-time inputs whose values prepare read
  std::vector<std::unique_ptr<std::byte[], AlignedFree>> scratch;
  std::vector<size_t> scratch_capacity;
  std::vector<std::byte*> scratch_ptrs;
};

// A dynamic tensor's buffer: grows when a shape needs more, never shrinks.
struct DynamicBuffer {
  std::unique_ptr<std::byte[], AlignedFree> data;
  size_t capacity = 0;
};

struct SharedState;

struct Interpreter::Impl {
  // Shared by the subgraphs of one interpreter (a CALL_ONCE's subgraph runs
  // in an Impl of its own over the same model).
  std::shared_ptr<const lite::ModelDef> model_ptr;
  size_t subgraph = 0;
  // The resource ops' state (SharedState, below): owned by the main
  // subgraph's Impl, which owns every other subgraph's Impl through it.
  std::unique_ptr<SharedState> owned_shared;
  SharedState* shared = nullptr;
  InterpreterOptions options;
  Isa isa = Isa::kReference;
  const KernelTable* kernels = nullptr;
  std::vector<RtTensor> tensors;
  std::vector<Node> nodes;
  std::vector<size_t> exec;  // nodes not folded at load, in order: prepared for every batch
  std::vector<size_t> run;   // exec less the nodes folded at prepare: what invoke executes
  // Outputs of the nodes folded at prepare, and their storage (valid until the next prepare).
  std::vector<size_t> prepare_folded;
  std::vector<bool> is_prepare_folded;  // by tensor
  std::vector<std::unique_ptr<std::byte[], AlignedFree>> prepare_folded_storage;
  size_t prepare_folded_bytes = 0;
  std::vector<bool> is_graph_output;
  std::vector<std::vector<float>> folded;
  // Copies of the operators that read a folded PAD's input instead of its output.
  std::deque<lite::OperatorDef> rewritten_defs;
  // Storage of the variable tensors (index into `tensors`, bytes), allocated
  // once at load: state survives invokes and re-preparations.
  std::vector<std::pair<size_t, std::vector<std::byte>>> variables;
  std::unique_ptr<std::byte[], AlignedFree> arena;
  size_t arena_capacity = 0, arena_used = 0;
  int batch = 0;
  // Dimension 0 of the first graph input as the file declares it: graph
  // inputs whose declared dimension 0 equals it carry the batch; the others
  // (the second operand of a broadcasting MUL, a SELECT condition) keep their
  // declared shape whatever the batch.
  int declared_batch = 1;
  // A subgraph run by IF or WHILE (CalledSubgraphImpl): its graph inputs take
  // input_shapes, and it always runs as one piece.
  bool called = false;
  std::vector<Shape> input_shapes;
  std::unique_ptr<ThreadPool> pool;
  // The plan: the batch runs as `tiles` tiles of `tile` images (the last one
  // may be shorter), spread over the lanes; one tile = the whole batch at once.
  std::vector<Lane> lanes;
  std::vector<IoTensor> io;
  int tile = 1, tiles = 1;
  // Dynamic shapes: by node and by tensor (sized at load), the bytes they
  // hold (counted against max_arena_bytes with the arena), and whether the
  // current plan has a dynamic node.
  std::vector<DynamicNode> dynamic_nodes;
  std::vector<DynamicBuffer> dynamic_buffers;
  size_t dynamic_bytes = 0;
  bool has_dynamic = false;
  std::vector<int64_t> signature_buf;  // reused: no allocation per invoke
  bool profiling = false;
  std::vector<OpTiming> timings;  // one per step of `run` while profiling

  ~Impl();
  const lite::ModelDef& model() const { return *model_ptr; }
  const lite::SubGraphDef& graph() const { return model().subgraphs[subgraph]; }
  detail::ResourceHost* host() const;
  void load();
  void reset_variables();
  void fold_constants();
  void fold_pads();
  void prepare(int new_batch);
  void prepare_ops(int b, int workers);
  bool foldable_at_prepare(const Node& n) const;
  void fold_at_prepare(Node& n, int b);
  bool separable(int b) const;
  void plan_memory();
  void run_tile(Lane& lane, int first_image, int images);
  void mark_dynamic(Node& n);
  void signature_of(const Node& n, const DynamicNode& d, std::vector<int64_t>& out) const;
  void prepare_at_invoke(Node& n);
  // `out`: the dynamic output the buffer holds (named in the error), or
  // nullptr for scratch.
  std::byte* grow(std::unique_ptr<std::byte[], AlignedFree>& buf, size_t& capacity, size_t bytes, const Node& n,
                  const RtTensor* out);
  void reset_profile();
  void collect_profile();
};

void Interpreter::Impl::load() {
  const lite::SubGraphDef& g = graph();
  const lite::ModelDef& model = this->model();
  check(subgraph != 0 || !g.inputs.empty(), "runtime: the model has no inputs");
  // Every op the records do not cover, in one error, before anything else.
  if (const std::vector<UnsupportedOp> missing = unsupported_ops(model, subgraph); !missing.empty())
    throw Error("runtime: " + std::string(subgraph == 0 ? "" : "subgraph " + std::to_string(subgraph) + ": ") +
                describe_unsupported(missing));
  tensors.resize(g.tensors.size());
  for (size_t i = 0; i < g.tensors.size(); ++i) {
    const lite::TensorDef& def = g.tensors[i];
    RtTensor& t = tensors[i];
    t.def = &def;
    t.type = def.type;
    t.shape = to_shape(def.shape);
    const std::vector<uint8_t>& buf = model.buffers[def.buffer];
    if (def.is_variable) {
      const std::string what = "runtime: variable tensor " + std::to_string(i) + " '" + def.name + "'";
      check(buf.empty(), what + " has a constant buffer (initial values are not supported)");
      for (int64_t d : t.shape) check(d >= 1, what + " has a dimension below 1");
      const int64_t count = shape_numel(t.shape);  // overflow check
      const size_t width = lite::tensor_type_size(t.type);
      check(width > 0 && static_cast<uint64_t>(count) <= options.max_arena_bytes / width,
            what + " needs more than InterpreterOptions::max_arena_bytes");
      t.variable = true;
      variables.emplace_back(i, std::vector<std::byte>(static_cast<size_t>(count) * width));
      t.data = variables.back().second.data();
      continue;
    }
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
    n.label = (subgraph == 0 ? "" : "subgraph " + std::to_string(subgraph) + " ") + "operator " +
              std::to_string(i) + " (" + op_name(model, *n.def) + ")";
    n.record = detail::find_op_record(n.op, model.operator_codes[n.def->opcode_index].custom_code);
  }
  for (int32_t t : g.inputs) {
    check(!tensors[static_cast<size_t>(t)].constant,
          "runtime: graph input " + std::to_string(t) + " is a constant tensor");
    check(!tensors[static_cast<size_t>(t)].variable,
          "runtime: graph input " + std::to_string(t) + " is a variable tensor");
  }
  is_graph_output.assign(tensors.size(), false);
  is_prepare_folded.assign(tensors.size(), false);
  for (int32_t t : g.outputs) is_graph_output[static_cast<size_t>(t)] = true;
  reset_variables();
  fold_constants();
  fold_pads();
  for (size_t i = 0; i < nodes.size(); ++i)
    if (!nodes[i].folded) exec.push_back(i);
  dynamic_nodes.resize(nodes.size());
  dynamic_buffers.resize(tensors.size());
}

// A node is computed while preparing when everything it reads is known then:
// every input is a constant (of the file, or folded before it), or it is
// SHAPE, which reads only its input's shape. This is what makes the shape
// arithmetic of exported graphs (SHAPE -> STRIDED_SLICE -> PACK -> RESHAPE,
// FILL or TILE with computed sizes) static: the consumers see constant
// shape operands at every batch, as TFLite 2.9 computes such tensors in its
// Prepare when their inputs are constant. Graph outputs and large results
// are left to invoke.
bool Interpreter::Impl::foldable_at_prepare(const Node& n) const {
  if (n.def->inputs.empty()) return false;
  // They read or write state that outlives the preparation (VAR_HANDLE and
  // CALL_ONCE have no inputs: already out above).
  if (n.op == lite::BuiltinOp::kReadVariable || n.op == lite::BuiltinOp::kAssignVariable) return false;
  // They run subgraphs, which may hold such ops (and loop for long).
  if (n.op == lite::BuiltinOp::kIf || n.op == lite::BuiltinOp::kWhile) return false;
  if (n.op != lite::BuiltinOp::kShape) {
    bool any = false;
    for (int32_t t : n.def->inputs) {
      if (t < 0) continue;
      const RtTensor& in = tensors[static_cast<size_t>(t)];
      if (!in.constant || in.variable) return false;
      any = true;
    }
    if (!any) return false;
  }
  size_t bytes = 0;
  for (int32_t t : n.def->outputs) {
    const RtTensor& out = tensors[static_cast<size_t>(t)];
    if (is_graph_output[static_cast<size_t>(t)] || out.variable || out.constant) return false;
    bytes += out.nbytes();
  }
  return bytes <= kMaxFoldBytesPerOp && prepare_folded_bytes + bytes <= kMaxFoldBytes;
}

// Runs a prepared node once, now, with the same eval invoke would use (so the
// values are bit-identical), and makes its outputs constants for the rest of
// this preparation.
void Interpreter::Impl::fold_at_prepare(Node& n, int b) {
  for (int32_t t : n.def->outputs) {
    RtTensor& out = tensors[static_cast<size_t>(t)];
    const size_t bytes = std::max<size_t>(out.nbytes(), 1);
    prepare_folded_storage.emplace_back(static_cast<std::byte*>(::operator new[](bytes, std::align_val_t{64})));
    out.data = prepare_folded_storage.back().get();
    prepare_folded_bytes += out.nbytes();
  }
  std::vector<std::unique_ptr<std::byte[], AlignedFree>> scratch;
  std::vector<std::byte*> scratch_ptrs;
  for (size_t bytes : n.scratch_bytes) {
    scratch.emplace_back(static_cast<std::byte*>(::operator new[](std::max<size_t>(bytes, 1), std::align_val_t{64})));
    scratch_ptrs.push_back(scratch.back().get());
  }
  detail::EvalContext ctx;
  ctx.tensors = tensors.data();
  ctx.scratch = scratch_ptrs.data();
  ctx.resources = host();
  ctx.batch = ctx.prepared_batch = b;
  n.scratch_base = 0;
  try {
    n.eval(ctx, n);
  } catch (const Error& e) {
    throw Error("runtime: " + n.label + ": " + e.what());
  }
  for (int32_t t : n.def->outputs) {
    tensors[static_cast<size_t>(t)].constant = true;
    is_prepare_folded[static_cast<size_t>(t)] = true;
    prepare_folded.push_back(static_cast<size_t>(t));
  }
  n.scratch_bytes.clear();
  n.work = 0;
  n.separable = true;
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

// A PAD of the height and width of an int8 NHWC tensor whose only reader is
// an int8 CONV_2D or DEPTHWISE_CONV_2D with VALID padding (PyTorch exports
// pad explicitly so, before every 3x3 convolution) is folded into it: the
// convolution reads the PAD's input with the PAD's amounts as explicit
// padding, and the PAD is not executed. PAD writes the zero point, and a
// padded position read at the zero point adds (x - zero point) * w = 0 to
// the accumulator, as an out-of-image tap of the kernels adds nothing, so
// results are identical. Only cases checked completely here are folded: the
// PAD's own checks (same quantization in and out, constant non-negative
// paddings) and pads below the filter size (as SAME padding has).
void Interpreter::Impl::fold_pads() {
  std::vector<int> readers(tensors.size(), 0);
  for (const Node& n : nodes)
    for (int32_t t : n.def->inputs)
      if (t >= 0) ++readers[static_cast<size_t>(t)];
  std::vector<int> producer_of(tensors.size(), -1);
  for (size_t i = 0; i < nodes.size(); ++i)
    for (int32_t t : nodes[i].def->outputs)
      if (t >= 0) producer_of[static_cast<size_t>(t)] = static_cast<int>(i);
  for (size_t ci = 0; ci < nodes.size(); ++ci) {
    Node& conv = nodes[ci];
    const bool is_conv = conv.op == lite::BuiltinOp::kConv2D;
    if ((!is_conv && conv.op != lite::BuiltinOp::kDepthwiseConv2D) || conv.folded || conv.def->inputs.size() < 2)
      continue;
    lite::Padding padding;
    int dh, dw;
    if (const auto* o = std::get_if<lite::Conv2DOptions>(&conv.def->options))
      padding = o->padding, dh = o->dilation_h, dw = o->dilation_w;
    else if (const auto* d = std::get_if<lite::DepthwiseConv2DOptions>(&conv.def->options))
      padding = d->padding, dh = d->dilation_h, dw = d->dilation_w;
    else
      continue;
    if (padding != lite::Padding::kValid || dh != 1 || dw != 1) continue;
    const int32_t x = conv.def->inputs[0], wt = conv.def->inputs[1];
    if (x < 0 || wt < 0 || conv.def->outputs.empty() || conv.def->outputs[0] < 0) continue;
    const RtTensor& padded = tensors[static_cast<size_t>(x)];
    const RtTensor& w = tensors[static_cast<size_t>(wt)];
    const RtTensor& y = tensors[static_cast<size_t>(conv.def->outputs[0])];
    if (readers[static_cast<size_t>(x)] != 1 || is_graph_output[static_cast<size_t>(x)] || padded.variable ||
        padded.constant)
      continue;
    const int p = producer_of[static_cast<size_t>(x)];
    if (p < 0 || static_cast<size_t>(p) >= ci) continue;
    Node& pad = nodes[static_cast<size_t>(p)];
    if (pad.op != lite::BuiltinOp::kPad || pad.folded || pad.def->inputs.size() != 2 || pad.def->outputs.size() != 1)
      continue;
    const int32_t src = pad.def->inputs[0], pt = pad.def->inputs[1];
    if (src < 0 || pt < 0) continue;
    const RtTensor& in = tensors[static_cast<size_t>(src)];
    const RtTensor& paddings = tensors[static_cast<size_t>(pt)];
    using T = lite::TensorType;
    if (in.type != T::kInt8 || padded.type != T::kInt8 || w.type != T::kInt8 || y.type != T::kInt8) continue;
    const lite::Quantization& qi = in.quant();
    const lite::Quantization& qo = padded.quant();
    if (qi.scale.size() != 1 || qi.zero_point.size() != 1 || qi.scale != qo.scale || qi.zero_point != qo.zero_point)
      continue;
    if (in.def->shape.size() != 4 || padded.def->shape.size() != 4 || w.def->shape.size() != 4) continue;
    int32_t pv[8];
    if (!paddings.constant || paddings.type != T::kInt32 || paddings.shape != Shape{4, 2} ||
        model().buffers[paddings.def->buffer].size() != sizeof pv)
      continue;
    std::memcpy(pv, paddings.data, sizeof pv);
    const int64_t kh = w.def->shape[1], kw = w.def->shape[2];
    if (pv[0] != 0 || pv[1] != 0 || pv[6] != 0 || pv[7] != 0) continue;
    bool ok = true;
    for (int k = 2; k < 6; ++k) ok = ok && pv[k] >= 0 && pv[k] < (k < 4 ? kh : kw);
    if (!ok) continue;
    rewritten_defs.push_back(*conv.def);
    rewritten_defs.back().inputs[0] = src;
    conv.def = &rewritten_defs.back();
    conv.has_folded_pad = true;
    conv.folded_pad = {pv[2], pv[3], pv[4], pv[5]};
    pad.folded = true;
    --readers[static_cast<size_t>(x)];
  }
}

// As TFLite 2.9's ResetVariableTensor: INT8 to its zero point, anything else to zero bytes.
void Interpreter::Impl::reset_variables() {
  for (auto& [index, bytes] : variables) {
    const RtTensor& t = tensors[index];
    int value = 0;
    if (t.type == lite::TensorType::kInt8 && !t.def->quantization.zero_point.empty()) value = t.zero_point();
    std::memset(bytes.data(), value, bytes.size());
  }
}

void Interpreter::Impl::prepare_ops(int b, int workers) {
  const lite::SubGraphDef& g = graph();
  for (size_t t : prepare_folded) {  // computed again at this batch
    tensors[t].constant = false;
    is_prepare_folded[t] = false;
  }
  prepare_folded.clear();
  prepare_folded_storage.clear();
  prepare_folded_bytes = 0;
  run.clear();
  has_dynamic = false;
  for (RtTensor& t : tensors) {
    if (!t.constant && !t.variable) t.data = nullptr;
    t.used = false;
    t.dynamic = false;
  }
  for (size_t k = 0; k < g.inputs.size(); ++k) {
    const int32_t i = g.inputs[k];
    RtTensor& t = tensors[static_cast<size_t>(i)];
    t.shape = to_shape(t.def->shape);
    if (called) t.shape = input_shapes.at(k);
    else if (!t.shape.empty() && (i == g.inputs[0] || t.def->shape[0] == declared_batch)) t.shape[0] = b;
    shape_numel(t.shape);  // overflow check
    t.used = true;
  }
  detail::PrepareContext ctx(tensors, *kernels, model(), workers, host(), subgraph);
  ctx.set_shapes_follow_inputs(called);
  for (size_t pos : exec) {
    Node& n = nodes[pos];
    n.eval = nullptr;
    n.scratch_bytes.clear();
    n.work = 0;
    n.separable = true;
    n.dynamic = false;
    n.prepare_every_invoke = false;
    dynamic_nodes[pos].valid = false;
    bool reads_dynamic = false;
    for (int32_t t : n.def->inputs) {
      if (t < 0) continue;
      tensors[static_cast<size_t>(t)].used = true;
      reads_dynamic = reads_dynamic || tensors[static_cast<size_t>(t)].dynamic;
      // Ops keep what they derive from constants (packed weights) across
      // preparations; a constant computed at this preparation may differ
      // from the last one (its shape or values can follow the batch), so
      // its readers prepare from scratch.
      if (is_prepare_folded[static_cast<size_t>(t)]) {
        n.state.reset();
        n.state_ptr = nullptr;
      }
    }
    for (int32_t t : n.def->outputs) tensors[static_cast<size_t>(t)].used = true;
    if (reads_dynamic) {  // its input shapes are known at invoke only
      mark_dynamic(n);
      run.push_back(pos);
      continue;
    }
    try {
      n.record->prepare(ctx, n);
    } catch (const detail::ValuesAtRunTime&) {  // a shape operand computed at run time
      mark_dynamic(n);
      run.push_back(pos);
      continue;
    } catch (const Error& e) {
      // Kernel helpers (geometry, multipliers) do not know which op called them.
      if (std::string_view(e.what()).starts_with("runtime: ")) throw;
      throw Error("runtime: " + n.label + ": " + e.what());
    }
    check(n.eval != nullptr, "runtime: " + n.label + ": prepare chose no kernel");
    if (foldable_at_prepare(n)) fold_at_prepare(n, b);
    else run.push_back(pos);
  }
  for (int32_t i : g.outputs) tensors[static_cast<size_t>(i)].used = true;
}

// Whether images can run in separate pieces: every op says so, and every
// run-time tensor has the batch (b >= 2) as its dimension 0.
bool Interpreter::Impl::separable(int b) const {
  if (b < 2 || !variables.empty()) return false;  // state is one piece
  if (has_dynamic) return false;  // shapes decided at invoke: one piece
  for (size_t pos : run)
    if (!nodes[pos].separable) return false;
  for (const RtTensor& t : tensors)
    if (t.used && !t.constant && (t.shape.empty() || t.shape[0] != b)) return false;
  return true;
}

void Interpreter::Impl::prepare(int new_batch) {
  check(new_batch >= 1, "runtime: batch must be >= 1, got " + std::to_string(new_batch));
  const int threads = pool->num_threads();
  // First at the full batch: the checks, the shapes the caller sees, the work.
  prepare_ops(new_batch, threads);
  int64_t work = 0;
  size_t image_bytes = 0;
  for (size_t pos : run) work = std::min(work + nodes[pos].work, int64_t{1} << 61);  // each <= 2^60
  const bool split = !called && separable(new_batch);
  if (split)
    for (const RtTensor& t : tensors)
      if (t.used && !t.constant) image_bytes += t.nbytes() / static_cast<size_t>(new_batch);
  int want_lanes = threads > 1 && work >= kMinParallelWork ? std::min(threads, new_batch) : 1;
  tiles = 1;
  if (split) {
    const int64_t per_tile = std::max<int64_t>(1, static_cast<int64_t>(kTileBytes / std::max<size_t>(image_bytes, 1)));
    // The tiling depends on the batch and the model only, never on the
    // thread count: kernels may choose their path by the rows of a call
    // (FULLY_CONNECTED does), and results must not change with --threads.
    const int64_t t = (new_batch + per_tile - 1) / per_tile;
    tiles = static_cast<int>(std::min<int64_t>(t, new_batch));
  }
  // In 64 bits: a file may declare a batch near 2^31 (found by fuzzing).
  tile = static_cast<int>((int64_t{new_batch} + tiles - 1) / tiles);
  tiles = static_cast<int>((int64_t{new_batch} + tile - 1) / tile);
  if (tiles == 1) {
    want_lanes = 1;  // one piece; ops split themselves over the pool
  } else {
    want_lanes = std::min(want_lanes, tiles);
    prepare_ops(tile, 1);  // states and intermediates for one tile
  }
  lanes.resize(static_cast<size_t>(want_lanes));
  batch = new_batch;
  plan_memory();
  if (tiles > 1) {
    // The caller sees the graph inputs and outputs at the full batch.
    for (const IoTensor& e : io) tensors[e.tensor].shape[0] = new_batch;
  }
  reset_profile();
}

void Interpreter::Impl::plan_memory() {
  const lite::SubGraphDef& g = graph();
  const int steps = static_cast<int>(run.size());
  const size_t full = static_cast<size_t>(batch), per_tile = static_cast<size_t>(tile);
  // Graph inputs and outputs: one shared region at the full batch, alive
  // throughout, so that inputs survive an invoke and outputs are never overwritten.
  std::vector<bool> is_io(tensors.size(), false);
  io.clear();
  size_t io_total = 0;
  auto add_io = [&](int32_t i) {
    const auto k = static_cast<size_t>(i);
    if (is_io[k] || tensors[k].constant || tensors[k].variable || tensors[k].dynamic) return;
    is_io[k] = true;
    // At a tile -> at the batch. A graph run as one piece (tile == batch) keeps
    // each tensor's own size: an output whose dimension 0 is not the batch
    // (BATCH_TO_SPACE_ND's) is not a multiple of the tile, and dividing first
    // under-allocated it (found by ASan).
    const size_t nb = tensors[k].nbytes();
    const size_t bytes = per_tile == full ? nb : (nb + per_tile - 1) / per_tile * full;
    io.push_back({k, reinterpret_cast<std::byte*>(io_total), bytes / full});
    io_total += (std::max<size_t>(bytes, 1) + 63) & ~size_t{63};
  };
  for (int32_t t : g.inputs) add_io(t);
  for (int32_t t : g.outputs) add_io(t);

  // One lane's intermediates and scratch, placed by lifetime over the steps.
  std::vector<int> first(tensors.size(), -1), last(tensors.size(), -1);
  for (int step = 0; step < steps; ++step) {
    const Node& n = nodes[run[static_cast<size_t>(step)]];
    for (int32_t t : n.def->outputs)
      if (first[static_cast<size_t>(t)] < 0) first[static_cast<size_t>(t)] = step;
    for (int32_t t : n.def->inputs)
      if (t >= 0) last[static_cast<size_t>(t)] = step;
  }
  std::vector<detail::BufferRequest> requests;
  std::vector<size_t> owner;  // tensor index, or tensors.size() + scratch slot
  for (size_t i = 0; i < tensors.size(); ++i) {
    const RtTensor& t = tensors[i];
    if (t.constant || t.variable || t.dynamic || !t.used || is_io[i]) continue;
    const int f = std::max(first[i], 0);
    requests.push_back({t.nbytes(), f, std::max(last[i], f)});
    owner.push_back(i);
  }
  size_t slots = 0;
  for (int step = 0; step < steps; ++step) {
    Node& n = nodes[run[static_cast<size_t>(step)]];
    if (n.dynamic) continue;  // its scratch is its own (prepare_at_invoke)
    n.scratch_base = slots;
    for (size_t bytes : n.scratch_bytes) {
      requests.push_back({bytes, step, step});
      owner.push_back(tensors.size() + slots++);
    }
  }
  const detail::ArenaPlan plan = detail::plan_arena(requests, 64);
  const size_t lane_bytes = (plan.total + 63) & ~size_t{63};
  const size_t total = io_total + lane_bytes * lanes.size();
  // Buffers of dynamic tensors count too (they are kept across preparations).
  check(total <= options.max_arena_bytes && dynamic_bytes <= options.max_arena_bytes - total,
        "runtime: the plan at batch " + std::to_string(batch) + " needs " + std::to_string(total) +
            " bytes of arena, above InterpreterOptions::max_arena_bytes (" + std::to_string(options.max_arena_bytes) + ")");
  if (total > arena_capacity) {
    arena.reset(static_cast<std::byte*>(::operator new[](std::max<size_t>(total, 64), std::align_val_t{64})));
    arena_capacity = std::max<size_t>(total, 64);
  }
  arena_used = total;
  for (IoTensor& e : io) {
    e.base = arena.get() + reinterpret_cast<size_t>(e.base);
    tensors[e.tensor].data = e.base;
  }
  for (size_t l = 0; l < lanes.size(); ++l) {
    Lane& lane = lanes[l];
    std::byte* base = arena.get() + io_total + l * lane_bytes;
    lane.tensors = tensors;
    lane.scratch.assign(slots, nullptr);
    for (size_t k = 0; k < requests.size(); ++k) {
      if (owner[k] < tensors.size()) lane.tensors[owner[k]].data = base + plan.offsets[k];
      else lane.scratch[owner[k] - tensors.size()] = base + plan.offsets[k];
    }
    // A plan with dynamic nodes runs on the main tensor list (one lane, one
    // tile), where prepare_at_invoke sets the shapes and buffers.
    lane.ctx.tensors = has_dynamic ? tensors.data() : lane.tensors.data();
    lane.ctx.scratch = lane.scratch.data();
    lane.ctx.pool = tiles == 1 && pool->num_threads() > 1 ? pool.get() : nullptr;
    lane.ctx.resources = host();
    lane.ctx.batch = lane.ctx.prepared_batch = tile;
  }
  // The main tensor list shows lane 0's intermediates (tests and tools read it).
  if (!lanes.empty())
    for (size_t i = 0; i < tensors.size(); ++i)
      if (!is_io[i] && !tensors[i].constant && !tensors[i].variable && !tensors[i].dynamic)
        tensors[i].data = lanes[0].tensors[i].data;
}

void Interpreter::Impl::run_tile(Lane& lane, int first_image, int images) {
  for (const IoTensor& e : io) lane.tensors[e.tensor].data = e.base + static_cast<size_t>(first_image) * e.image_bytes;
  lane.ctx.batch = images;
  for (size_t step = 0; step < run.size(); ++step) {
    const size_t pos = run[step];
    Node& n = nodes[pos];
    const bool timed = profiling;
    std::chrono::steady_clock::time_point t0;
    if (timed) [[unlikely]]
      t0 = std::chrono::steady_clock::now();
    if (n.dynamic) {
      prepare_at_invoke(n);
      detail::EvalContext ctx = lane.ctx;
      ctx.scratch = dynamic_nodes[pos].scratch_ptrs.data();
      try {
        n.eval(ctx, n);
      } catch (const Error& e) {
        throw Error("runtime: " + n.label + ": " + e.what());
      }
    } else {
      try {
        n.eval(lane.ctx, n);
      } catch (const Error& e) {
        throw Error("runtime: " + n.label + ": " + e.what());
      }
    }
    if (timed) [[unlikely]]
      lane.op_ns[step] += std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::steady_clock::now() - t0).count();
  }
}

// ---- dynamic shapes
//
// A node whose output shape depends on values known only at invoke (a shape
// operand computed at run time: prepare threw ValuesAtRunTime), or that reads
// such a tensor, is prepared again just before it runs, with the same
// prepare function (one definition of every shape rule), when its input
// shapes or the run-time values its prepare read differ from the last time.
// Its outputs live in buffers of their own, outside the arena plan, that
// grow when a shape needs more and are kept otherwise: once the shapes are
// stable, invoke allocates nothing.

void Interpreter::Impl::mark_dynamic(Node& n) {
  n.dynamic = true;
  n.eval = nullptr;
  n.scratch_bytes.clear();
  n.work = 0;
  n.separable = false;
  has_dynamic = true;
  for (int32_t t : n.def->outputs) {
    RtTensor& out = tensors[static_cast<size_t>(t)];
    if (out.constant || out.variable) continue;  // refused when it is prepared
    out.dynamic = true;
    out.shape = to_shape(out.def->shape);  // what the caller sees before the first invoke
    out.data = nullptr;
  }
}

// Every input's rank and dimensions, then the values prepare read last time.
void Interpreter::Impl::signature_of(const Node& n, const DynamicNode& d, std::vector<int64_t>& out) const {
  out.clear();
  for (int32_t t : n.def->inputs) {
    if (t < 0) {
      out.push_back(-1);
      continue;
    }
    const RtTensor& in = tensors[static_cast<size_t>(t)];
    out.push_back(static_cast<int64_t>(in.shape.size()));
    out.insert(out.end(), in.shape.begin(), in.shape.end());
  }
  for (size_t t : d.value_inputs) {
    const RtTensor& in = tensors[t];
    const size_t bytes = in.nbytes();
    out.push_back(static_cast<int64_t>(bytes));
    const size_t at = out.size();
    out.resize(at + (bytes + 7) / 8, 0);
    if (bytes != 0) std::memcpy(out.data() + at, in.data, bytes);
  }
}

std::byte* Interpreter::Impl::grow(std::unique_ptr<std::byte[], AlignedFree>& buf, size_t& capacity, size_t bytes,
                                   const Node& n, const RtTensor* out) {
  if (bytes <= capacity && buf) return buf.get();
  const std::string what = out ? "output " + detail::describe(*out) : std::string("scratch");
  const size_t want = std::max<size_t>(bytes, 64);
  const size_t others = arena_used + dynamic_bytes - capacity;
  check(want <= options.max_arena_bytes && others <= options.max_arena_bytes - want,
        "runtime: " + n.label + ": " + what + " needs " + std::to_string(bytes) +
            " bytes; with the rest of the plan that is above InterpreterOptions::max_arena_bytes (" +
            std::to_string(options.max_arena_bytes) + ")");
  buf.reset(static_cast<std::byte*>(::operator new[](want, std::align_val_t{64})));
  dynamic_bytes = others - arena_used + want;
  capacity = want;
  return buf.get();
}

void Interpreter::Impl::prepare_at_invoke(Node& n) {
  DynamicNode& d = dynamic_nodes[n.index];
  if (d.valid && !n.prepare_every_invoke) {
    signature_of(n, d, signature_buf);
    if (signature_buf == d.signature) return;  // the shapes of the last invoke hold
  }
  d.valid = false;
  for (int32_t t : n.def->inputs) {
    if (t < 0) continue;
    RtTensor& in = tensors[static_cast<size_t>(t)];
    in.known = true;
    in.value_read = false;
  }
  auto forget = [&] {
    for (int32_t t : n.def->inputs)
      if (t >= 0) tensors[static_cast<size_t>(t)].known = false;
  };
  n.eval = nullptr;
  n.scratch_bytes.clear();
  n.work = 0;
  n.prepare_every_invoke = false;
  detail::PrepareContext ctx(tensors, *kernels, model(), pool->num_threads(), host(), subgraph);
  ctx.set_shapes_follow_inputs(called);
  try {
    n.record->prepare(ctx, n);
  } catch (const Error& e) {
    forget();
    if (std::string_view(e.what()).starts_with("runtime: ")) throw;
    throw Error("runtime: " + n.label + ": " + e.what());
  }
  forget();
  if (n.eval == nullptr) throw Error("runtime: " + n.label + ": prepare chose no kernel");
  d.value_inputs.clear();
  for (int32_t t : n.def->inputs)
    if (t >= 0 && tensors[static_cast<size_t>(t)].value_read && !tensors[static_cast<size_t>(t)].constant)
      d.value_inputs.push_back(static_cast<size_t>(t));
  // Outputs: bounded like the arena (a hostile shape value must not allocate
  // without limit), in their own buffers.
  for (int32_t t : n.def->outputs) {
    RtTensor& out = tensors[static_cast<size_t>(t)];
    if (!out.dynamic) {  // a variable: its storage has the file's shape
      check(out.shape == to_shape(out.def->shape),
            "runtime: " + n.label + ": output " + detail::describe(out) + " is a variable tensor of shape " +
                shape_str(to_shape(out.def->shape)) + "; its shape cannot change at invoke");
      continue;
    }
    const size_t width = lite::tensor_type_size(out.type);
    const int64_t count = out.numel();
    // (The message is built only on failure: a READ_VARIABLE is prepared
    // again at every invoke, which must not allocate.)
    if (width == 0 || static_cast<uint64_t>(count) > options.max_arena_bytes / width)
      throw Error("runtime: " + n.label + ": output " + detail::describe(out) +
                  " needs more than InterpreterOptions::max_arena_bytes (" + std::to_string(options.max_arena_bytes) +
                  ")");
    DynamicBuffer& b = dynamic_buffers[static_cast<size_t>(t)];
    out.data = grow(b.data, b.capacity, out.nbytes(), n, &out);
  }
  d.scratch.resize(n.scratch_bytes.size());
  d.scratch_capacity.resize(n.scratch_bytes.size(), 0);
  d.scratch_ptrs.resize(n.scratch_bytes.size());
  for (size_t k = 0; k < n.scratch_bytes.size(); ++k)
    d.scratch_ptrs[k] = grow(d.scratch[k], d.scratch_capacity[k], n.scratch_bytes[k], n, nullptr);
  n.scratch_base = 0;
  signature_of(n, d, d.signature);
  // The next invoke compares into signature_buf: room for it now, so that an
  // invoke with unchanged shapes allocates nothing.
  signature_buf.reserve(d.signature.size());
  d.valid = true;
}

// The profile's op list for the current plan, with no samples yet.
void Interpreter::Impl::reset_profile() {
  timings.clear();
  for (Lane& lane : lanes) lane.op_ns.clear();
  if (!profiling) return;
  for (size_t pos : run) {
    const Node& n = nodes[pos];
    OpTiming t;
    t.op_index = n.index;
    t.op_name = op_name(model(), *n.def);
    for (int32_t i : n.def->inputs)
      if (i >= 0) t.input_shapes.push_back(tensors[static_cast<size_t>(i)].shape);
    for (int32_t i : n.def->outputs) t.output_shapes.push_back(tensors[static_cast<size_t>(i)].shape);
    timings.push_back(std::move(t));
  }
  for (Lane& lane : lanes) lane.op_ns.assign(run.size(), 0);
}

// After an invoke: each op's time, summed over the lanes, becomes one sample.
void Interpreter::Impl::collect_profile() {
  for (size_t step = 0; step < timings.size(); ++step) {
    int64_t total = 0;
    for (Lane& lane : lanes) {
      total += lane.op_ns[step];
      lane.op_ns[step] = 0;
    }
    timings[step].ns.push_back(total);
  }
}

// ---- resource variables and CALL_ONCE (runtime/ops/resource_ops.cpp)

struct SharedState final : detail::ResourceHost {
  Interpreter::Impl* root = nullptr;
  std::map<std::pair<std::string, std::string>, int32_t> ids;
  std::map<int32_t, detail::ResourceVariable> variables;
  // By subgraph index: the Impl of a CALL_ONCE's subgraph, made when the
  // CALL_ONCE is first prepared; whether it has run; whether it is being
  // prepared (a CALL_ONCE reaching it again is a cycle).
  std::vector<std::unique_ptr<Interpreter::Impl>> subgraphs;
  std::vector<uint8_t> initialized, preparing;
  // The interpreters of the subgraphs IF and WHILE run (owned by the ops'
  // states; each registers itself while it exists), for reset().
  std::vector<Interpreter::Impl*> called;
  bool resource_ops = false;  // the model has VAR_HANDLE, READ_VARIABLE, ASSIGN_VARIABLE or CALL_ONCE
  int depth = 0;  // CALL_ONCE, IF and WHILE subgraphs being prepared inside one another
  // Deeper chains are refused: each level is a nested prepare (and invoke)
  // on the stack, and a file may chain as many subgraphs as it likes.
  static constexpr int kMaxDepth = 16;

  // Ids as TFLite 2.9 gives them (its VAR_HANDLE Init, called as the
  // interpreter is built): from 0, in order of first appearance of each
  // (container, shared_name) over the operators of every subgraph in turn.
  // CALL_ONCE's subgraphs first: IF and WHILE ops inside them unregister
  // their subgraphs from `called`, which must still exist then.
  ~SharedState() override { subgraphs.clear(); }

  explicit SharedState(Interpreter::Impl& main) : root(&main) {
    const lite::ModelDef& m = main.model();
    for (const lite::SubGraphDef& g : m.subgraphs)
      for (const lite::OperatorDef& op : g.operators) {
        using B = lite::BuiltinOp;
        const B code = m.op_of(op);
        resource_ops = resource_ops || code == B::kVarHandle || code == B::kReadVariable ||
                       code == B::kAssignVariable || code == B::kCallOnce;
        if (code != B::kVarHandle) continue;
        lite::VarHandleOptions o;
        if (const auto* p = std::get_if<lite::VarHandleOptions>(&op.options)) o = *p;
        ids.emplace(std::make_pair(o.container, o.shared_name), static_cast<int32_t>(ids.size()));
      }
    subgraphs.resize(m.subgraphs.size());
    initialized.assign(m.subgraphs.size(), 0);
    preparing.assign(m.subgraphs.size(), 0);
    preparing[0] = 1;  // the main subgraph is always running
  }

  int32_t resource_id(const std::string& container, const std::string& shared_name) const override {
    const auto it = ids.find({container, shared_name});
    check(it != ids.end(), "runtime: VAR_HANDLE '" + container + "'/'" + shared_name + "' has no id");
    return it->second;
  }
  const detail::ResourceVariable* variable(int32_t id) const override {
    const auto it = variables.find(id);
    return it == variables.end() ? nullptr : &it->second;
  }
  // The value's type, shape and bytes (the vectors keep their capacity: an
  // assignment of an unchanged shape allocates nothing).
  void assign(int32_t id, const RtTensor& value) override {
    detail::ResourceVariable& v = variables[id];
    v.type = value.type;
    v.shape = value.shape;
    v.data.assign(value.data, value.data + value.nbytes());
  }

  // TFLite 2.9's CALL_ONCE checks (a subgraph in range, not the caller's own,
  // without inputs or outputs) before it has run; the interpreter also
  // refuses a cycle of CALL_ONCEs, which TFLite would recurse into forever.
  void prepare_init_subgraph(const Node& n, int32_t k, size_t caller) override {
    const size_t count = subgraphs.size();
    detail::op_check(k >= 0 && static_cast<size_t>(k) < count, n,
                     "init_subgraph_index " + std::to_string(k) + " is not one of the model's " +
                         std::to_string(count) + " subgraphs");
    const auto i = static_cast<size_t>(k);
    detail::op_check(i != caller, n, "init_subgraph_index " + std::to_string(k) + " is the subgraph of the CALL_ONCE itself");
    if (initialized[i] || subgraphs[i]) return;
    const lite::SubGraphDef& g = root->model().subgraphs[i];
    detail::op_check(g.inputs.empty() && g.outputs.empty(), n,
                     "subgraph " + std::to_string(k) + " has " + std::to_string(g.inputs.size()) + " inputs and " +
                         std::to_string(g.outputs.size()) + " outputs; an init subgraph has none");
    enter(n, i);
    try {
      auto sub = load_subgraph(i, false);
      sub->prepare(1);
      subgraphs[i] = std::move(sub);
    } catch (...) {
      leave(i);
      throw;
    }
    leave(i);
  }

  // Marks subgraph i as being prepared inside op n (CALL_ONCE, IF or WHILE),
  // or refuses a cycle (which TFLite would recurse into without end) and
  // nesting beyond kMaxDepth.
  void enter(const Node& n, size_t i) {
    QLITE_OP_CHECK(!preparing[i], n,
                   "subgraph " + std::to_string(i) + " is reached again through " + lite::builtin_op_name(n.op) +
                       " (a cycle)");
    QLITE_OP_CHECK(depth < kMaxDepth, n,
                   "subgraphs called through CALL_ONCE, IF and WHILE nest more than " + std::to_string(kMaxDepth) +
                       " deep");
    preparing[i] = 1;
    ++depth;
  }

  // An Impl of subgraph i over the same model and state, one thread, loaded;
  // `called`: run by IF or WHILE (CalledSubgraphImpl).
  std::unique_ptr<Interpreter::Impl> load_subgraph(size_t i, bool called) {
    auto sub = std::make_unique<Interpreter::Impl>();
    sub->model_ptr = root->model_ptr;
    sub->subgraph = i;
    sub->shared = this;
    sub->options = root->options;
    sub->isa = root->isa;
    sub->kernels = root->kernels;
    sub->called = called;
    sub->pool = std::make_unique<ThreadPool>(1);
    sub->load();
    return sub;
  }
  void leave(size_t i) {
    preparing[i] = 0;
    --depth;
  }

  std::unique_ptr<detail::CalledSubgraph> open_subgraph(const Node& n, int32_t k, size_t caller,
                                                        const char* role) override;
  int64_t max_loop_iterations() const override { return root->options.max_loop_iterations; }

  void call_once(const Node&, int32_t k) override {
    const auto i = static_cast<size_t>(k);
    if (initialized[i]) return;
    Interpreter::Impl& sub = *subgraphs[i];  // made by prepare_init_subgraph
    sub.run_tile(sub.lanes[0], 0, sub.batch);
    initialized[i] = 1;  // after the run, as TFLite marks it: a failed run is tried again
  }

  // The arenas of every subgraph CALL_ONCE, IF and WHILE run, at any depth.
  size_t subgraph_arena_bytes() const {
    size_t total = 0;
    for (const auto& sub : subgraphs)
      if (sub) total += sub->arena_used;
    for (const Interpreter::Impl* sub : called) total += sub->arena_used;
    return total;
  }

  // The state before the first invoke: no variable, no CALL_ONCE run, and
  // the variable tensors of every other subgraph at their reset values.
  void reset() {
    variables.clear();
    std::fill(initialized.begin(), initialized.end(), 0);
    for (auto& sub : subgraphs)
      if (sub) sub->reset_variables();
    for (Interpreter::Impl* sub : called) sub->reset_variables();
  }
};

// A subgraph IF or WHILE runs: an Impl of its own over the same model (one
// thread, one piece), prepared for the shapes the op passes it.
class CalledSubgraphImpl final : public detail::CalledSubgraph {
 public:
  CalledSubgraphImpl(SharedState& shared, size_t index)
      : shared_(shared), index_(index), impl_(shared.load_subgraph(index, true)) {
    shared.called.push_back(impl_.get());
  }
  ~CalledSubgraphImpl() override { std::erase(shared_.called, impl_.get()); }

  size_t num_inputs() const override { return impl_->graph().inputs.size(); }
  size_t num_outputs() const override { return impl_->graph().outputs.size(); }
  const RtTensor& declared_input(size_t i) const override {
    return impl_->tensors[static_cast<size_t>(impl_->graph().inputs[i])];
  }
  void prepare(const Node& n, std::span<const Shape> shapes) override {
    if (prepared_ && std::equal(shapes.begin(), shapes.end(), impl_->input_shapes.begin(), impl_->input_shapes.end()))
      return;
    prepared_ = false;
    shared_.enter(n, index_);
    try {
      impl_->input_shapes.assign(shapes.begin(), shapes.end());
      impl_->prepare(1);
    } catch (...) {
      shared_.leave(index_);
      throw;
    }
    shared_.leave(index_);
    prepared_ = true;
  }
  RtTensor& input(size_t i) override { return impl_->tensors[static_cast<size_t>(impl_->graph().inputs[i])]; }
  const RtTensor& output(size_t i) const override {
    return impl_->tensors[static_cast<size_t>(impl_->graph().outputs[i])];
  }
  void run() override {
    try {
      impl_->run_tile(impl_->lanes[0], 0, impl_->batch);
    } catch (const Error& e) {
      // The caller's label goes in front; the subgraph's op names itself.
      constexpr std::string_view prefix = "runtime: ";
      const std::string_view what = e.what();
      throw Error(std::string(what.starts_with(prefix) ? what.substr(prefix.size()) : what));
    }
  }

 private:
  SharedState& shared_;
  size_t index_;
  std::unique_ptr<Interpreter::Impl> impl_;
  bool prepared_ = false;
};

std::unique_ptr<detail::CalledSubgraph> SharedState::open_subgraph(const Node& n, int32_t k, size_t caller,
                                                                   const char* role) {
  const size_t count = subgraphs.size();
  detail::op_check(k >= 0 && static_cast<size_t>(k) < count, n,
                   std::string(role) + " subgraph " + std::to_string(k) + " is not one of the model's " +
                       std::to_string(count) + " subgraphs");
  const auto i = static_cast<size_t>(k);
  detail::op_check(i != caller, n,
                   std::string(role) + " subgraph " + std::to_string(k) + " is the subgraph of the op itself");
  return std::make_unique<CalledSubgraphImpl>(*this, i);
}

Interpreter::Impl::~Impl() = default;
detail::ResourceHost* Interpreter::Impl::host() const { return shared; }

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
  impl->model_ptr = std::make_shared<const lite::ModelDef>(std::move(model));
  impl->options = options;
  impl->isa = options.isa.value_or(active_isa());
  check(kernels::int8_isa_available(impl->isa) && kernels::isa_supported(impl->isa),
        std::string("runtime: ISA ") + isa_name(impl->isa) + " is not supported by this CPU");
  impl->kernels = &kernel_table(impl->isa);
  impl->pool = std::make_unique<ThreadPool>(options.num_threads);
  impl->owned_shared = std::make_unique<SharedState>(*impl);
  impl->shared = impl->owned_shared.get();
  impl->load();
  const RtTensor& first_input = impl->tensors[static_cast<size_t>(impl->graph().inputs[0])];
  const int initial = first_input.def->shape.empty() ? 1 : std::max(first_input.def->shape[0], 1);
  impl->declared_batch = initial;
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
  QLITE_CHECK(i < num_inputs(), "runtime: input " + std::to_string(i) + " out of range");
  return info_of(impl_->tensors[static_cast<size_t>(impl_->graph().inputs[i])]);
}
TensorInfo Interpreter::output_info(size_t i) const {
  QLITE_CHECK(i < num_outputs(), "runtime: output " + std::to_string(i) + " out of range");
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

bool Interpreter::input_follows_batch(size_t i) const {
  QLITE_CHECK(i < num_inputs(), "runtime: input " + std::to_string(i) + " out of range");
  const lite::SubGraphDef& g = impl_->graph();
  const lite::TensorDef& def = g.tensors[static_cast<size_t>(g.inputs[i])];
  return !def.shape.empty() && (i == 0 || def.shape[0] == impl_->declared_batch);
}

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
  QLITE_CHECK(i < num_inputs(), "runtime: input " + std::to_string(i) + " out of range");
  RtTensor& t = impl_->tensors[static_cast<size_t>(impl_->graph().inputs[i])];
  return {t.data, t.nbytes()};
}

std::span<const std::byte> Interpreter::output_bytes(size_t i) const {
  QLITE_CHECK(i < num_outputs(), "runtime: output " + std::to_string(i) + " out of range");
  const RtTensor& t = impl_->tensors[static_cast<size_t>(impl_->graph().outputs[i])];
  if (t.data == nullptr) return {};  // a dynamic output before the first invoke
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
  if (m.profiling) [[unlikely]] {
    // Times left by an invoke that threw are not this invoke's.
    for (Lane& lane : m.lanes) std::fill(lane.op_ns.begin(), lane.op_ns.end(), 0);
  }
  if (m.tiles == 1) {
    m.run_tile(m.lanes[0], 0, m.batch);
    if (m.profiling) [[unlikely]] m.collect_profile();
    return;
  }
  // Tiles in order, chunk c of the pool on lane c: the same tiles land on the
  // same lane every time, and every image's result is independent of its tile.
  auto body = [&m](int64_t t0, int64_t t1, int chunk) {
    Lane& lane = m.lanes[static_cast<size_t>(chunk)];
    for (int64_t t = t0; t < t1; ++t) {
      const int first = static_cast<int>(t) * m.tile;
      m.run_tile(lane, first, std::min(m.tile, m.batch - first));
    }
  };
  if (m.lanes.size() > 1) m.pool->parallel_for(m.tiles, body, 1);
  else body(0, m.tiles, 0);
  if (m.profiling) [[unlikely]] m.collect_profile();
}

void Interpreter::set_profiling(bool on) {
  impl_->profiling = on;
  impl_->reset_profile();
}
bool Interpreter::profiling() const { return impl_->profiling; }
const std::vector<OpTiming>& Interpreter::op_timings() const { return impl_->timings; }

void Interpreter::reset_variables() {
  impl_->reset_variables();
  impl_->shared->reset();
}
size_t Interpreter::num_variables() const { return impl_->variables.size(); }
bool Interpreter::has_state() const { return !impl_->variables.empty() || impl_->shared->resource_ops; }

Isa Interpreter::isa() const { return impl_->isa; }
size_t Interpreter::arena_bytes() const { return impl_->arena_used + impl_->shared->subgraph_arena_bytes(); }
size_t Interpreter::dynamic_bytes() const { return impl_->dynamic_bytes; }
size_t Interpreter::num_executed_ops() const { return impl_->run.size(); }
const lite::ModelDef& Interpreter::model() const { return impl_->model(); }
ThreadPool& Interpreter::thread_pool() { return *impl_->pool; }

}  // namespace qlite::runtime
