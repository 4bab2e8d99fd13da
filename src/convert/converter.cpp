// The converter's driver: per-mode planning, the walk over the model's
// nodes, the graph's I/O boundaries and the result summary.
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <set>

#include "convert/check_finite.h"
#include "convert/lowering.h"
#include "convert/qat_plan.h"

namespace qlite::convert {

using detail::ActQuant;
using detail::Kind;
using detail::NodePlan;
using detail::Value;
using lite::BuiltinOp;
using lite::TensorType;

const char* mode_name(Mode m) {
  switch (m) {
    case Mode::kFloat32: return "float32";
    case Mode::kDynamic: return "dynamic";
    case Mode::kInt8: return "int8";
    case Mode::kFloat16: return "float16";
  }
  return "?";
}

Mode mode_from_string(const std::string& s) {
  for (Mode m : {Mode::kFloat32, Mode::kDynamic, Mode::kInt8, Mode::kFloat16})
    if (s == mode_name(m)) return m;
  throw Error("convert: unknown mode '" + s + "' (float32, dynamic, int8, float16)");
}

const char* io_type_name(IoType t) {
  switch (t) {
    case IoType::kFloat32: return "float32";
    case IoType::kInt8: return "int8";
    case IoType::kUInt8: return "uint8";
  }
  return "?";
}

IoType io_type_from_string(const std::string& s) {
  for (IoType t : {IoType::kFloat32, IoType::kInt8, IoType::kUInt8})
    if (s == io_type_name(t)) return t;
  throw Error("convert: unknown I/O type '" + s + "' (float32, int8, uint8)");
}

namespace {

// Runs f for one layer. An Error that does not name the layer already (the
// quantizer's "bias scale inf", "range [...] is too wide for float" from
// finite but huge weights or ranges) is rethrown with the layer's name and
// type, so that every conversion failure says where it is.
template <class F>
auto naming_layer(const Layer& layer, F&& f) -> decltype(f()) {
  try {
    return f();
  } catch (const Error& e) {
    const std::string what = e.what();
    if (what.find("'" + layer.name() + "'") != std::string::npos) throw;
    throw Error("convert: layer '" + layer.name() + "' (" + layer.type() + "): " + what);
  }
}

// The elements of the layer's quantizable weight (its record names it).
int64_t kernel_elements(const Layer& layer) {
  const LayerKind* kind = find_layer_kind(layer.type());
  const Param* k = kind != nullptr && !kind->weight.empty() ? detail::find_param(layer, kind->weight) : nullptr;
  return k != nullptr ? k->value.numel() : 0;
}

// Plans for a float (not quantization-aware) model.
std::vector<NodePlan> plan_float_model(const Model& model, const ConvertOptions& opt) {
  const size_t n = model.num_layers();
  std::vector<NodePlan> plans(n);
  switch (opt.mode) {
    case Mode::kFloat32:
      break;
    case Mode::kFloat16:
      for (size_t i = 1; i < n; ++i)
        if (detail::has_kernel(model.layer(i))) plans[i].kind = Kind::kFloat16Weights;
      break;
    case Mode::kDynamic:
      // Layers without a hybrid form (DepthwiseConv2D) stay float.
      for (size_t i = 1; i < n; ++i) {
        if (detail::has_hybrid_form(model.layer(i))) {
          plans[i].kind = Kind::kHybrid;
          plans[i].quantize_kernel = kernel_elements(model.layer(i)) >= opt.dynamic_min_elements;
        }
      }
      break;
    case Mode::kInt8: {
      check(opt.representative != nullptr,
            "convert: int8 conversion of a float model needs representative images for calibration");
      check(opt.representative_count >= 1, "convert: representative_count must be >= 1");
      const auto ranges = detail::calibrate(model, *opt.representative, opt.representative_count);
      for (size_t i = 0; i < n; ++i) {
        plans[i].kind = Kind::kInt8;
        plans[i].out = naming_layer(model.layer(i),
                                    [&] { return detail::act_quant_from_range(ranges[i].min, ranges[i].max); });
      }
      break;
    }
  }
  return plans;
}

Value lower_node(detail::Lowering& L, const Layer& layer, std::span<const Value> inputs, const NodePlan& plan) {
  const LayerKind& kind = detail::lowerable_kind(layer);
  // A QAT layer states the input parameters it was trained with; they equal
  // the producer's output parameters, so this QUANTIZE is normally a no-op.
  std::vector<Value> in(inputs.begin(), inputs.end());
  if (plan.kind == Kind::kInt8 && quant_role(layer) != QuantRole::kPassThrough) {
    check(plan.ins.empty() || plan.ins.size() == in.size(),
          "convert: layer '" + layer.name() + "' has " + std::to_string(in.size()) + " inputs, its plan " +
              std::to_string(plan.ins.size()));
    for (size_t k = 0; k < in.size(); ++k) {
      if (!plan.ins.empty()) in[k] = L.to_int8(in[k], plan.ins[k], layer.name());
      else if (plan.in) in[k] = L.to_int8(in[k], *plan.in, layer.name());
    }
  }
  return detail::lower_op(L, layer, kind.op_spec(layer), in, plan);
}

// A Flatten whose only reader is a Dense layer (possibly through the input
// quantizer a Dense-only QAT model puts in front of it) needs no op of its
// own: FULLY_CONNECTED (keep_num_dims false) reads any input as rows of its
// weight width, in TFLite, Arm NN and qlite alike, and row-major NHWC order is
// the order Flatten produces. Dropping the RESHAPE saves a tensor and an op.
// `layers` are the layers as lowered (a QAT wrapper's inner layer).
bool folds_into_dense(const Model& model, const std::vector<const Layer*>& layers,
                      const std::vector<NodePlan>& plans, size_t i) {
  // The record's words for Flatten: a RESHAPE to one dimension per sample.
  if (lowered_op(*layers[i]) != OpKind::kReshape || layers[i]->output_shape().size() != 1) return false;
  auto only_reader = [&](size_t node) -> std::optional<size_t> {
    std::optional<size_t> reader;
    for (size_t j = node + 1; j < model.num_layers(); ++j)
      for (int k : model.nodes()[j].inputs)
        if (static_cast<size_t>(k) == node) {
          if (reader) return std::nullopt;
          reader = j;
        }
    return reader;
  };
  // Input quantizers and layers without an op (Dropout) between them keep the tensor.
  std::optional<size_t> r = only_reader(i);
  while (r && (plans[*r].identity || lowered_op(*layers[*r]) == OpKind::kIdentity)) r = only_reader(*r);
  return r && lowered_op(*layers[*r]) == OpKind::kFullyConnected;
}

void rename(detail::Lowering& L, int32_t tensor, const std::string& name) {
  L.builder().graph().tensors[static_cast<size_t>(tensor)].name = name;
}

}  // namespace

ConvertResult convert_model(const Model& source, const ConvertOptions& opt) {
  detail::check_finite_model(source);
  check(source.is_built() && source.num_layers() >= 2,
        "convert: the model must be built and have at least one layer after its input");
  // The graph QAT trains on: clamps fused into the op before them (rewrite.h).
  // A QAT model was rewritten by quantize_apply already; this finds nothing
  // more there but layers it left float.
  const RewrittenModel rewritten = rewrite_for_lowering(source);
  const Model& model = *rewritten.model;
  check(opt.io == IoType::kFloat32 || opt.mode == Mode::kInt8,
        std::string("convert: --io ") + io_type_name(opt.io) + " needs int8 mode (got " +
            mode_name(opt.mode) + ")");
  const size_t n = model.num_layers();

  const bool qat = detail::is_quantization_aware(model);
  std::vector<NodePlan> plans;
  std::vector<const Layer*> layers(n);
  for (size_t i = 0; i < n; ++i) layers[i] = &model.layer(i);
  if (qat) {
    check(opt.mode == Mode::kInt8, std::string("convert: '") + model.name() +
                                       "' is quantization-aware; convert it in int8 mode (got " +
                                       mode_name(opt.mode) + ")");
    plans = detail::plan_qat_model(model, layers);
  } else {
    plans = plan_float_model(model, opt);
  }
  for (size_t i = 1; i < n; ++i)
    if (!plans[i].identity) detail::lowerable_kind(*layers[i]);  // every layer has a lowering, before any work

  detail::Lowering L(opt);
  // No description: the mode it would name is in the tensors' types, which
  // `qlite inspect` reads as the file's precision, and the producer metadata
  // names qlite. In a 22 KB int8 file every string counts.
  const std::string in_name = model.layer(0).name();
  const Shape in_shape = model.input_shape();
  const NodePlan& in_plan = plans[0];

  // ---- graph input
  std::vector<Value> values(n);
  Value graph_in;
  if (opt.io == IoType::kFloat32) {
    graph_in = L.make_value(in_name, TensorType::kFloat32, in_shape);
    values[0] = graph_in;
    if (in_plan.kind == Kind::kInt8) {
      values[0] = L.make_value(in_name + "_int8", TensorType::kInt8, in_shape, &in_plan.out);
      L.add_op(BuiltinOp::kQuantize, {graph_in.tensor}, {values[0].tensor}, {}, 1, "", false, true);
    }
  } else {
    check(in_plan.kind == Kind::kInt8, "convert: integer I/O asked for, but the model input '" + in_name +
                                           "' stays float");
    if (opt.io == IoType::kInt8) {
      graph_in = L.make_value(in_name, TensorType::kInt8, in_shape, &in_plan.out);
      values[0] = graph_in;
    } else {
      const ActQuant u{in_plan.out.scale, in_plan.out.zero_point + 128};
      graph_in = L.make_value(in_name, TensorType::kUInt8, in_shape, &u);
      values[0] = L.make_value(in_name + "_int8", TensorType::kInt8, in_shape, &in_plan.out);
      L.add_op(BuiltinOp::kQuantize, {graph_in.tensor}, {values[0].tensor}, {}, 1, "", true, true);
    }
  }

  // ---- the layers, in node order (inputs always precede their readers)
  for (size_t i = 1; i < n; ++i) {
    std::vector<Value> ins;
    for (int k : model.nodes()[i].inputs) ins.push_back(values[static_cast<size_t>(k)]);
    const Value& in = ins.at(0);
    const NodePlan& plan = plans[i];
    if (plan.identity) {  // an input quantizer of a QAT model: its range is the tensor's
      values[i] = plan.kind == Kind::kInt8 ? L.to_int8(in, plan.out, layers[i]->name()) : in;
      continue;
    }
    if (folds_into_dense(model, layers, plans, i)) {  // FULLY_CONNECTED flattens its input itself
      values[i] = in;
      values[i].shape = layers[i]->output_shape();
      continue;
    }
    values[i] = naming_layer(*layers[i], [&] { return lower_node(L, *layers[i], ins, plan); });
    // A shared layer's later call is its own op (reading the same weight
    // buffer); its output tensor is named by the call, as summary() names it.
    if (const int call = model.nodes()[i].call; call > 0 && values[i].tensor != in.tensor)
      rename(L, values[i].tensor, layers[i]->name() + "[" + std::to_string(call) + "]");
  }

  // ---- graph output
  const std::string out_name = layers[n - 1]->name();
  Value out = values[n - 1];
  check(out.tensor != graph_in.tensor, "convert: model '" + model.name() + "' computes nothing (its layers write no op)");
  if (opt.io == IoType::kFloat32) {
    if (out.is_int8()) {
      rename(L, out.tensor, out_name + "_int8");
      Value f = L.make_value(out_name, TensorType::kFloat32, out.shape);
      L.add_op(BuiltinOp::kDequantize, {out.tensor}, {f.tensor}, {}, 2, "", false, true);
      out = f;
    }
  } else {
    check(out.is_int8(), "convert: integer I/O asked for, but the output of layer '" + out_name +
                             "' is float");
    if (opt.io == IoType::kUInt8) {
      rename(L, out.tensor, out_name + "_int8");
      const ActQuant u{out.quant.scale, out.quant.zero_point + 128};
      Value q = L.make_value(out_name, TensorType::kUInt8, out.shape, &u);
      L.add_op(BuiltinOp::kQuantize, {out.tensor}, {q.tensor}, {}, 1, "", true, true);
      out = q;
    }
  }
  L.builder().set_inputs({graph_in.tensor});
  L.builder().set_outputs({out.tensor});

  ConvertResult r;
  r.ops = L.ops();
  r.integer_only = true;
  for (const OpSummary& op : r.ops) {
    if (op.integer || op.io_boundary) continue;
    r.integer_only = false;
    r.float_ops.push_back(op.op + " (" + op.layer + ")");
  }
  if (opt.mode == Mode::kInt8 && opt.io != IoType::kFloat32 && !r.integer_only) {
    for (const OpSummary& op : r.ops)
      check(op.integer || op.io_boundary,
            std::string("convert: ") + io_type_name(opt.io) + " I/O needs an integer-only model, but " +
                op.op + " of layer '" + op.layer + "' computes in float");
  }
  r.quantization_aware = qat;
  // A -1 batch in shape_signature matters only where a caller resizes: the
  // graph's inputs and outputs. Every runtime recomputes intermediate shapes
  // (RESHAPE reads -1 from its options), so intermediates carry
  // none: it keeps int8 files small.
  {
    lite::SubGraphDef& g = L.builder().graph();
    std::vector<bool> boundary(g.tensors.size(), false);
    for (int32_t t : g.inputs) boundary[static_cast<size_t>(t)] = true;
    for (int32_t t : g.outputs) boundary[static_cast<size_t>(t)] = true;
    for (size_t t = 0; t < g.tensors.size(); ++t)
      if (!boundary[t]) g.tensors[t].shape_signature.clear();
  }
  r.model = L.builder().build();
  r.bytes = lite::write_model(r.model);
  r.size_bytes = r.bytes.size();
  return r;
}

void write_file_atomic(const std::string& path, const std::vector<uint8_t>& bytes) {
  qlite::write_file_atomic(path, std::span<const uint8_t>(bytes));  // qlite/fileio.h
}

}  // namespace qlite::convert
