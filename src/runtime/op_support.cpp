// Which operators of a model the runtime can run, read from the op records:
// the interpreter refuses a model with one error listing all of them, and
// `qlite inspect` marks them.
#include <algorithm>
#include <cctype>

#include "qlite/runtime.h"
#include "runtime/op_record.h"

namespace qlite::runtime {
namespace {

std::string lower_type(lite::TensorType t) {
  std::string s = lite::tensor_type_name(t);
  for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

const lite::TensorDef* tensor_at(const lite::SubGraphDef& g, const std::vector<int32_t>& list) {
  if (list.empty() || list[0] < 0 || static_cast<size_t>(list[0]) >= g.tensors.size()) return nullptr;
  return &g.tensors[static_cast<size_t>(list[0])];
}

}  // namespace

std::string unsupported_reason(const lite::ModelDef& m, const lite::OperatorDef& op, size_t subgraph) {
  check(op.opcode_index < m.operator_codes.size(),
        "runtime: opcode index " + std::to_string(op.opcode_index) + " out of range");
  const lite::OperatorCodeDef& code = m.operator_codes[op.opcode_index];
  const detail::OpRecord* r = detail::find_op_record(code.builtin, code.custom_code);
  if (r == nullptr)
    return code.builtin == lite::BuiltinOp::kCustom ? "CUSTOM '" + code.custom_code + "'"
                                                    : lite::builtin_op_name(code.builtin);
  const lite::SubGraphDef& g = m.subgraphs.at(subgraph);
  const lite::TensorDef* in = tensor_at(g, op.inputs);
  const lite::TensorDef* out = tensor_at(g, op.outputs);
  if (in == nullptr || out == nullptr || r->accepts(in->type, out->type)) return "";
  bool input_known = false;
  for (const detail::TypeCombo& t : r->types) input_known |= t.input == in->type;
  if (!input_known && !r->types.empty()) return r->name + " with " + lower_type(in->type) + " input";
  return r->name + " with " + lower_type(in->type) + " input and " + lower_type(out->type) + " output";
}

std::vector<UnsupportedOp> unsupported_ops(const lite::ModelDef& m, size_t subgraph) {
  std::vector<UnsupportedOp> groups;
  if (subgraph >= m.subgraphs.size()) return groups;
  const lite::SubGraphDef& g = m.subgraphs[subgraph];
  for (size_t i = 0; i < g.operators.size(); ++i) {
    std::string what = unsupported_reason(m, g.operators[i], subgraph);
    if (what.empty()) continue;
    auto it = std::find_if(groups.begin(), groups.end(), [&](const UnsupportedOp& u) { return u.what == what; });
    if (it == groups.end()) it = groups.insert(groups.end(), UnsupportedOp{std::move(what), {}});
    it->operators.push_back(i);
  }
  return groups;
}

std::string describe_unsupported(std::span<const UnsupportedOp> ops) {
  constexpr size_t kShown = 5;
  std::string s = "operators not supported by the qlite runtime: ";
  for (size_t k = 0; k < ops.size(); ++k) {
    const UnsupportedOp& u = ops[k];
    if (k) s += "; ";
    s += u.what + " x" + std::to_string(u.operators.size()) +
         (u.operators.size() == 1 ? " (operator " : " (operators ");
    for (size_t i = 0; i < u.operators.size() && i < kShown; ++i)
      s += (i ? ", " : "") + std::to_string(u.operators[i]);
    s += u.operators.size() > kShown ? ", ...)" : ")";
  }
  return s;
}

std::vector<std::string> supported_ops() {
  std::vector<std::string> out;
  for (const detail::OpRecord& r : detail::op_records()) out.push_back(r.name + ": " + r.types_str());
  return out;
}

}  // namespace qlite::runtime
