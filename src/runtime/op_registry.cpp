// The runtime's op records (one line per op in ops/op_list.h, one file per op
// in ops/) and the PrepareContext helpers the ops share.
#include <cctype>

#include "runtime/op_record.h"
#include "runtime/ops/op_types.h"
#include "runtime/ops/op_util.h"
#include "runtime/ops/ops.h"

namespace qlite::runtime::detail {

namespace {

std::vector<OpRecord> make_records() {
  std::vector<OpRecord> records;
#define QLITE_OP(code_, prepare_, types_)                                                      \
  records.push_back(OpRecord{lite::BuiltinOp::code_, lite::builtin_op_name(lite::BuiltinOp::code_), {}, \
                             lite::op_format(lite::BuiltinOp::code_), prepare_, op_types::types_});
#define QLITE_CUSTOM_OP(name_, prepare_, types_)                                                 \
  records.push_back(OpRecord{lite::BuiltinOp::kCustom, std::string("CUSTOM '") + name_ + "'", name_, nullptr, \
                             prepare_, op_types::types_});
#include "runtime/ops/op_list.h"
#undef QLITE_CUSTOM_OP
#undef QLITE_OP
  for (const OpRecord& r : records)
    check(r.format != nullptr || r.code == lite::BuiltinOp::kCustom,
          "runtime: op " + r.name + " has no format in lite/op_format.cpp");
  return records;
}

std::string lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

}  // namespace

bool OpRecord::accepts(lite::TensorType input, lite::TensorType output) const {
  if (types.empty()) return input == output;
  for (const TypeCombo& t : types)
    if (t.input == input && t.output == output) return true;
  return false;
}

std::string OpRecord::types_str() const {
  if (types.empty()) return "any (same in and out)";
  std::string s;
  for (const TypeCombo& t : types) {
    if (!s.empty()) s += ", ";
    s += lower(lite::tensor_type_name(t.input)) + " -> " + lower(lite::tensor_type_name(t.output));
  }
  return s;
}

std::span<const OpRecord> op_records() {
  static const std::vector<OpRecord> records = make_records();
  return records;
}

const OpRecord* find_op_record(lite::BuiltinOp op, std::string_view custom_code) {
  for (const OpRecord& r : op_records())
    if (r.code == op && (op != lite::BuiltinOp::kCustom || r.custom_code == custom_code)) return &r;
  return nullptr;
}

RtTensor& PrepareContext::input(const Node& n, size_t k) const {
  RtTensor* t = optional_input(n, k);
  // Messages built only on failure: a READ_VARIABLE is prepared at every invoke.
  QLITE_OP_CHECK(t != nullptr, n, "input " + std::to_string(k) + " is missing");
  return *t;
}

RtTensor* PrepareContext::optional_input(const Node& n, size_t k) const {
  if (k >= n.def->inputs.size() || n.def->inputs[k] < 0) return nullptr;
  return &tensors_[static_cast<size_t>(n.def->inputs[k])];
}

RtTensor& PrepareContext::output(const Node& n, size_t k) const {
  QLITE_OP_CHECK(k < n.def->outputs.size(), n, "output " + std::to_string(k) + " is missing");
  return tensors_[static_cast<size_t>(n.def->outputs[k])];
}

void PrepareContext::set_output_shape(const Node& n, size_t k, Shape shape) const {
  RtTensor& out = output(n, k);
  const std::vector<int32_t>& declared = out.def->shape;
  // A dynamic output's declared shape is a placeholder (TFLite ignores it too).
  if (!declared.empty() && !out.dynamic && !shapes_follow_inputs_) {
    bool ok = declared.size() == shape.size();
    for (size_t d = 1; ok && d < shape.size(); ++d) ok = declared[d] == shape[d];
    op_check(ok, n,
             "computed output shape " + shape_str(shape) + " disagrees with the shape " +
                 shape_str(Shape(declared.begin(), declared.end())) + " the file declares for '" +
                 out.def->name + "'");
  }
  shape_numel(shape);  // overflow check
  out.shape = std::move(shape);
}

size_t PrepareContext::request_scratch(Node& n, size_t bytes) const {
  n.scratch_bytes.push_back(bytes);
  return n.scratch_bytes.size() - 1;
}

}  // namespace qlite::runtime::detail
