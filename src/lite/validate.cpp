// Semantic checks of a model: everything an interpreter indexes or sizes by.
// The flatbuffer verifier (reader.cpp) only proves the bytes can be walked;
// this proves the walked values can be trusted:
//  - version 3, at least one subgraph, buffer 0 the empty sentinel;
//  - tensors: known type, dims >= 0 (-1 only in shape_signature, which must
//    match shape elsewhere), element count below 2^40, buffer index in range,
//    constant data size == numel * element size, quantization with equal scale
//    and zero point counts, 1 or shape[quantized_dimension] of them, finite
//    positive scales and zero points inside the type's range;
//  - operators: opcode index in range, tensor indices in range (-1 only for an
//    optional input), arity and options type per builtin op (lite/op_format.h),
//    option values in range (the options struct's rule there), inputs
//    produced before use, no tensor written twice, no constant written;
//  - subgraph inputs/outputs, signature and metadata indices in range.
#include <cmath>
#include <limits>

#include "lite/op_format.h"
#include "lite/util.h"
#include "qlite/lite.h"

namespace qlite::lite {
namespace {

bool valid_type(TensorType t) {
  return (static_cast<int>(t) >= 0 && static_cast<int>(t) <= 10) || t == TensorType::kResource;
}

void zero_point_range(TensorType t, int64_t& lo, int64_t& hi) {
  lo = std::numeric_limits<int64_t>::min();
  hi = std::numeric_limits<int64_t>::max();
  switch (t) {
    case TensorType::kInt8: lo = -128, hi = 127; break;
    case TensorType::kUInt8: lo = 0, hi = 255; break;
    case TensorType::kInt16: lo = -32768, hi = 32767; break;
    case TensorType::kInt32:
      lo = std::numeric_limits<int32_t>::min(), hi = std::numeric_limits<int32_t>::max();
      break;
    default: break;
  }
}

void validate_quantization(const TensorDef& t, const std::string& where) {
  const Quantization& q = t.quantization;
  if (q.empty()) return;
  QLITE_CHECK(q.scale.size() == q.zero_point.size(),
        "tflite: " + where + ": " + std::to_string(q.scale.size()) + " scales but " +
            std::to_string(q.zero_point.size()) + " zero points");
  if (q.scale.size() > 1) {
    QLITE_CHECK(q.quantized_dimension >= 0 &&
              static_cast<size_t>(q.quantized_dimension) < t.shape.size(),
          "tflite: " + where + ": quantized_dimension " + std::to_string(q.quantized_dimension) +
              " outside shape " + dims_str(t.shape));
    const int32_t channels = t.shape[static_cast<size_t>(q.quantized_dimension)];
    QLITE_CHECK(static_cast<int64_t>(q.scale.size()) == channels,
          "tflite: " + where + ": " + std::to_string(q.scale.size()) +
              " per-channel scales for dimension " + std::to_string(q.quantized_dimension) +
              " of size " + std::to_string(channels));
  }
  int64_t lo, hi;
  zero_point_range(t.type, lo, hi);
  for (size_t i = 0; i < q.scale.size(); ++i) {
    QLITE_CHECK(std::isfinite(q.scale[i]) && q.scale[i] > 0.0f,
          "tflite: " + where + ": scale[" + std::to_string(i) + "] = " +
              std::to_string(q.scale[i]) + " is not a finite positive number");
    QLITE_CHECK(q.zero_point[i] >= lo && q.zero_point[i] <= hi,
          "tflite: " + where + ": zero_point[" + std::to_string(i) + "] = " +
              std::to_string(q.zero_point[i]) + " outside the range of " +
              tensor_type_name(t.type));
  }
}

void validate_tensor(const ModelDef& m, size_t sg, size_t i, const TensorDef& t) {
  const std::string where = tensor_label(sg, i, t);
  QLITE_CHECK(valid_type(t.type),
        "tflite: " + where + ": unknown tensor type " + std::to_string(static_cast<int>(t.type)));
  for (int32_t d : t.shape)
    QLITE_CHECK(d >= 0, "tflite: " + where + ": negative dimension in shape " + dims_str(t.shape) +
                      " (dynamic dims belong in shape_signature)");
  if (!t.shape_signature.empty()) {
    QLITE_CHECK(t.shape_signature.size() == t.shape.size(),
          "tflite: " + where + ": shape_signature " + dims_str(t.shape_signature) +
              " has another rank than shape " + dims_str(t.shape));
    for (size_t k = 0; k < t.shape.size(); ++k)
      QLITE_CHECK(t.shape_signature[k] == -1 || t.shape_signature[k] == t.shape[k],
            "tflite: " + where + ": shape_signature " + dims_str(t.shape_signature) +
                " disagrees with shape " + dims_str(t.shape));
  }
  int64_t numel = 0;
  try {
    numel = tensor_numel(t);
  } catch (const Error& e) {
    throw Error("tflite: " + where + ": shape " + dims_str(t.shape) + " has more than 2^40 elements");
  }
  QLITE_CHECK(t.buffer < m.buffers.size(), "tflite: " + where + ": buffer index " +
                                         std::to_string(t.buffer) + " out of range (" +
                                         std::to_string(m.buffers.size()) + " buffers)");
  const size_t bytes = m.buffers[t.buffer].size();
  if (bytes != 0 && t.type != TensorType::kString) {
    const uint64_t expected = static_cast<uint64_t>(numel) * tensor_type_size(t.type);
    QLITE_CHECK(bytes == expected, "tflite: " + where + ": constant buffer " +
                                 std::to_string(t.buffer) + " holds " + std::to_string(bytes) +
                                 " bytes, shape " + dims_str(t.shape) + " of " +
                                 tensor_type_name(t.type) + " needs " + std::to_string(expected));
  }
  validate_quantization(t, where);
}

void validate_operator(const ModelDef& m, size_t sg, size_t i, const OperatorDef& op,
                       std::vector<uint8_t>& ready) {
  const SubGraphDef& g = m.subgraphs[sg];
  const std::string where = op_label(m, sg, i, op);
  QLITE_CHECK(op.opcode_index < m.operator_codes.size(),
        "tflite: " + where + ": opcode index out of range (" +
            std::to_string(m.operator_codes.size()) + " operator codes)");
  const auto n = static_cast<int64_t>(g.tensors.size());
  for (size_t k = 0; k < op.inputs.size(); ++k) {
    const int32_t t = op.inputs[k];
    QLITE_CHECK(t == -1 || (t >= 0 && t < n), "tflite: " + where + ": input " + std::to_string(k) +
                                            " refers to tensor " + std::to_string(t) + " of " +
                                            std::to_string(n));
  }
  for (size_t k = 0; k < op.outputs.size(); ++k) {
    const int32_t t = op.outputs[k];
    QLITE_CHECK(t >= 0 && t < n, "tflite: " + where + ": output " + std::to_string(k) +
                               " refers to tensor " + std::to_string(t) + " of " +
                               std::to_string(n));
  }
  for (size_t k = 0; k < op.intermediates.size(); ++k) {
    const int32_t t = op.intermediates[k];
    QLITE_CHECK(t >= 0 && t < n, "tflite: " + where + ": intermediate " + std::to_string(k) +
                               " refers to tensor " + std::to_string(t) + " of " + std::to_string(n));
  }
  if (const OpFormat* r = op_format(m.op_of(op))) {
    const int nin = static_cast<int>(op.inputs.size());
    QLITE_CHECK(nin >= r->min_in && nin <= r->max_in,
          "tflite: " + where + ": has " + std::to_string(nin) + " inputs, expected " +
              std::to_string(r->min_in) +
              (r->max_in == r->min_in ? ""
               : r->max_in == kAnyInputs ? " or more"
                                      : " to " + std::to_string(r->max_in)));
    for (int k = 0; k < std::min(nin, r->required_in); ++k)
      QLITE_CHECK(op.inputs[static_cast<size_t>(k)] != -1,
            "tflite: " + where + ": required input " + std::to_string(k) + " is missing (-1)");
    QLITE_CHECK(r->num_out == kAnyOutputs ? !op.outputs.empty() : static_cast<int>(op.outputs.size()) == r->num_out,
          "tflite: " + where + ": has " + std::to_string(op.outputs.size()) + " outputs, expected " +
              (r->num_out == kAnyOutputs ? std::string("1 or more") : std::to_string(r->num_out)));
    const int got = static_cast<int>(op.options.index());
    QLITE_CHECK(got == r->options_index || (got == kNoOptions && !r->options_required),
          "tflite: " + where + (got == kNoOptions ? ": builtin options are missing"
                                                  : ": carries builtin options of another op"));
  }
  if (const OptionsRule& rule = options_rule(op.options); rule.check != nullptr) rule.check(g, op, where);
  // (if/throw: the message may only index valid tensors)
  for (int32_t t : op.inputs)
    if (t != -1 && !ready[static_cast<size_t>(t)])
      throw Error("tflite: " + where + ": reads " +
                  tensor_label(sg, static_cast<size_t>(t), g.tensors[static_cast<size_t>(t)]) +
                  " before any operator writes it");
  for (int32_t t : op.outputs) {
    if (ready[static_cast<size_t>(t)])
      throw Error("tflite: " + where + ": writes " +
                  tensor_label(sg, static_cast<size_t>(t), g.tensors[static_cast<size_t>(t)]) +
                  ", which is a graph input, a constant or another operator's output");
    ready[static_cast<size_t>(t)] = 1;
  }
}

void validate_indices(const std::vector<int32_t>& list, size_t n, const std::string& what) {
  for (int32_t t : list)
    QLITE_CHECK(t >= 0 && static_cast<size_t>(t) < n, "tflite: " + what + " refers to tensor " +
                                                    std::to_string(t) + " of " + std::to_string(n));
}

}  // namespace

void validate(const ModelDef& m) {
  QLITE_CHECK(m.version == 3, "tflite: schema version " + std::to_string(m.version) + ", expected 3");
  QLITE_CHECK(!m.subgraphs.empty(), "tflite: model has no subgraph");
  QLITE_CHECK(!m.buffers.empty() && m.buffers[0].empty(),
        "tflite: buffer 0 must exist and be the empty sentinel");
  for (size_t c = 0; c < m.operator_codes.size(); ++c) {
    const OperatorCodeDef& oc = m.operator_codes[c];
    QLITE_CHECK(static_cast<int32_t>(oc.builtin) >= 0,
          "tflite: operator code " + std::to_string(c) + " has negative builtin code");
    QLITE_CHECK(oc.version >= 1, "tflite: operator code " + std::to_string(c) + " (" +
                               builtin_op_name(oc.builtin) + ") has version " +
                               std::to_string(oc.version));
    QLITE_CHECK(oc.builtin != BuiltinOp::kCustom || !oc.custom_code.empty(),
          "tflite: operator code " + std::to_string(c) + " is CUSTOM without a custom_code");
  }
  for (size_t sg = 0; sg < m.subgraphs.size(); ++sg) {
    const SubGraphDef& g = m.subgraphs[sg];
    const std::string where = "subgraph " + std::to_string(sg);
    for (size_t i = 0; i < g.tensors.size(); ++i) validate_tensor(m, sg, i, g.tensors[i]);
    validate_indices(g.inputs, g.tensors.size(), where + " input");
    validate_indices(g.outputs, g.tensors.size(), where + " output");
    std::vector<uint8_t> ready(g.tensors.size(), 0);
    for (size_t i = 0; i < g.tensors.size(); ++i)
      ready[i] = !m.buffers[g.tensors[i].buffer].empty() || g.tensors[i].is_variable;
    for (int32_t t : g.inputs) ready[static_cast<size_t>(t)] = 1;
    for (size_t i = 0; i < g.operators.size(); ++i)
      validate_operator(m, sg, i, g.operators[i], ready);
    for (int32_t t : g.outputs)
      if (!ready[static_cast<size_t>(t)])
        throw Error("tflite: " + where + " output " +
                    tensor_label(sg, static_cast<size_t>(t), g.tensors[static_cast<size_t>(t)]) +
                    " is never written");
  }
  for (size_t i = 0; i < m.metadata.size(); ++i)
    QLITE_CHECK(m.metadata[i].buffer < m.buffers.size(),
          "tflite: metadata '" + m.metadata[i].name + "' buffer " +
              std::to_string(m.metadata[i].buffer) + " out of range");
  for (const SignatureDef& s : m.signature_defs) {
    QLITE_CHECK(s.subgraph_index < m.subgraphs.size(),
          "tflite: signature '" + s.key + "' subgraph " + std::to_string(s.subgraph_index) +
              " out of range");
    const size_t n = m.subgraphs[s.subgraph_index].tensors.size();
    for (const auto* list : {&s.inputs, &s.outputs})
      for (const TensorMapDef& tm : *list)
        QLITE_CHECK(tm.tensor_index < n, "tflite: signature '" + s.key + "' entry '" + tm.name +
                                       "' refers to tensor " + std::to_string(tm.tensor_index) +
                                       " of " + std::to_string(n));
  }
}

}  // namespace qlite::lite
