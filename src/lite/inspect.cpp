// A human-readable dump of a model, for `qlite inspect` and for test failures.
#include <cstdio>
#include <sstream>

#include "lite/custom_options.h"
#include "lite/op_format.h"
#include "lite/util.h"
#include "qlite/lite.h"

namespace qlite::lite {
namespace {

template <class T>
std::string list_str(const std::vector<T>& v, size_t limit = 8) {
  std::string s = "[";
  for (size_t i = 0; i < v.size() && i < limit; ++i) {
    if (i) s += ", ";
    if constexpr (std::is_floating_point_v<T>)
      s += format_number(v[i]);
    else
      s += std::to_string(v[i]);
  }
  if (v.size() > limit) s += ", ... (" + std::to_string(v.size()) + ")";
  return s + "]";
}

std::string quant_str(const Quantization& q) {
  if (q.empty()) return "";
  if (!q.per_channel() && q.scale.size() == 1 && q.zero_point.size() == 1)
    return " scale=" + format_number(q.scale[0]) + " zero_point=" + std::to_string(q.zero_point[0]);
  return " per-axis(dim " + std::to_string(q.quantized_dimension) + ") scale=" +
         list_str(q.scale) + " zero_point=" + list_str(q.zero_point);
}

std::string tensor_str(const ModelDef& m, const TensorDef& t) {
  std::string s = "'" + escape_control(t.name) + "' " + tensor_type_name(t.type) + " " + dims_str(t.shape);
  if (!t.shape_signature.empty() && t.shape_signature != t.shape)
    s += " signature " + dims_str(t.shape_signature);
  if (t.buffer < m.buffers.size() && !m.buffers[t.buffer].empty())
    s += " const(buffer " + std::to_string(t.buffer) + ", " +
         std::to_string(m.buffers[t.buffer].size()) + " B)";
  if (t.is_variable) s += " variable";
  return s + quant_str(t.quantization);
}

std::string printable(std::span<const uint8_t> bytes) {
  std::string s;
  for (uint8_t c : bytes) {
    if (c == 0) break;  // TFLite pads some metadata strings with zeros
    if (c < 32 || c >= 127) return std::to_string(bytes.size()) + " B binary";
    s += static_cast<char>(c);
  }
  return "\"" + s + "\"";
}

// What a model computes in, read off its graph rather than a label, so that it
// holds for files qlite did not write: the types of each op's output and, for
// the weighted ops, of their weights. QUANTIZE and DEQUANTIZE only convert.
std::string precision(const ModelDef& m) {
  bool float16_weights = false, hybrid = false, integer = false, floating = false;
  for (const SubGraphDef& g : m.subgraphs) {
    auto type_of = [&](const std::vector<int32_t>& list, size_t k, TensorType& t) {
      if (k >= list.size() || list[k] < 0 || static_cast<size_t>(list[k]) >= g.tensors.size()) return false;
      t = g.tensors[static_cast<size_t>(list[k])].type;
      return true;
    };
    for (const OperatorDef& op : g.operators) {
      if (op.opcode_index >= m.operator_codes.size()) continue;
      const BuiltinOp b = m.operator_codes[op.opcode_index].builtin;
      TensorType in{}, out{};
      if (b == BuiltinOp::kDequantize) {
        float16_weights |= type_of(op.inputs, 0, in) && in == TensorType::kFloat16;
        continue;
      }
      if (b == BuiltinOp::kQuantize || !type_of(op.outputs, 0, out)) continue;
      if (out != TensorType::kFloat32) {
        integer = true;
        continue;
      }
      floating = true;
      TensorType w{};
      const bool weighted = b == BuiltinOp::kConv2D || b == BuiltinOp::kDepthwiseConv2D ||
                            b == BuiltinOp::kFullyConnected;
      hybrid |= weighted && type_of(op.inputs, 1, w) && (w == TensorType::kInt8 || w == TensorType::kUInt8);
    }
  }
  if (float16_weights) return "float16 weights, float32 compute";
  if (hybrid) return "dynamic range: int8 weights, float32 activations";
  if (integer && !floating) return "full integer";
  if (integer) return "mixed: integer and float32 ops";
  return "float32";
}

}  // namespace

std::string escape_control(std::string_view text) {
  std::string s;
  s.reserve(text.size());
  for (const char ch : text) {
    const auto c = static_cast<unsigned char>(ch);
    if (c >= 0x20 && c != 0x7F) {
      s += ch;
      continue;
    }
    char hex[5];
    std::snprintf(hex, sizeof hex, "\\x%02X", c);
    s += hex;
  }
  return s;
}

std::string inspect(const ModelDef& m) { return inspect(m, InspectOptions{}); }

std::string inspect(const ModelDef& m, const InspectOptions& options) {
  std::ostringstream out;
  out << "TFLite model: schema version " << m.version << ", " << m.subgraphs.size()
      << " subgraph(s), " << m.operator_codes.size() << " operator code(s), " << m.buffers.size()
      << " buffer(s)\n";
  out << "precision: " << precision(m) << "\n";
  if (!m.description.empty()) out << "description: " << escape_control(m.description) << "\n";
  for (const MetadataDef& md : m.metadata) {
    out << "metadata '" << escape_control(md.name) << "' (buffer " << md.buffer << ")";
    if (md.buffer < m.buffers.size()) out << ": " << printable(m.buffers[md.buffer]);
    out << "\n";
  }
  for (const SignatureDef& s : m.signature_defs) {
    out << "signature '" << escape_control(s.key) << "' on subgraph " << s.subgraph_index << ": inputs {";
    for (size_t i = 0; i < s.inputs.size(); ++i)
      out << (i ? ", " : "") << escape_control(s.inputs[i].name) << ": " << s.inputs[i].tensor_index;
    out << "} outputs {";
    for (size_t i = 0; i < s.outputs.size(); ++i)
      out << (i ? ", " : "") << escape_control(s.outputs[i].name) << ": " << s.outputs[i].tensor_index;
    out << "}\n";
  }
  for (size_t sg = 0; sg < m.subgraphs.size(); ++sg) {
    const SubGraphDef& g = m.subgraphs[sg];
    auto tensor_ref = [&](int32_t t) {
      if (t < 0 || static_cast<size_t>(t) >= g.tensors.size())
        return std::string(t == -1 ? "(none)" : "(bad index " + std::to_string(t) + ")");
      return std::to_string(t) + " " + tensor_str(m, g.tensors[static_cast<size_t>(t)]);
    };
    out << "subgraph " << sg << " '" << escape_control(g.name) << "': " << g.tensors.size() << " tensor(s), "
        << g.operators.size() << " operator(s)\n";
    for (int32_t t : g.inputs) out << "  input  " << tensor_ref(t) << "\n";
    for (int32_t t : g.outputs) out << "  output " << tensor_ref(t) << "\n";
    out << "  tensors:\n";
    for (size_t i = 0; i < g.tensors.size(); ++i)
      out << "    " << i << " " << tensor_str(m, g.tensors[i]) << "\n";
    out << "  operators:\n";
    for (size_t i = 0; i < g.operators.size(); ++i) {
      const OperatorDef& op = g.operators[i];
      out << "    " << i << " ";
      if (op.opcode_index < m.operator_codes.size()) {
        const OperatorCodeDef& c = m.operator_codes[op.opcode_index];
        out << (c.builtin == BuiltinOp::kCustom ? "CUSTOM '" + escape_control(c.custom_code) + "'"
                                                : builtin_op_name(c.builtin))
            << " v" << c.version;
      } else {
        out << "(opcode " << op.opcode_index << " out of range)";
      }
      const OptionsRule& rule = options_rule(op.options);
      const std::string opts = rule.describe ? rule.describe(op.options) : "";
      if (!opts.empty()) out << " " << opts;
      if (!op.custom_options.empty()) out << " " << describe_custom_options(op.custom_options);
      if (options.op_note) {
        const std::string note = options.op_note(m, sg, op);
        if (!note.empty()) out << "  [" << escape_control(note) << "]";
      }
      out << "\n      inputs " << list_str(op.inputs, 64) << " outputs "
          << list_str(op.outputs, 64) << "\n";
    }
  }
  return out.str();
}

}  // namespace qlite::lite
