// Internal helpers shared by the lite reader, writer, validator and inspector.
#pragma once

#include <cstdint>
#include <cstdio>
#include <span>
#include <string>

#include "qlite/lite.h"

namespace qlite::lite {

// No qlite model comes near this; a larger element count means a corrupt or
// hostile file, and rejecting it keeps every byte-size product far from overflow.
inline constexpr int64_t kMaxTensorElements = int64_t{1} << 40;

std::string dims_str(std::span<const int32_t> dims);  // "[1, 28, 28, 1]"

// A float as inspect and the option printers show it: 9 significant digits,
// enough to tell any two floats apart.
inline std::string format_number(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.9g", v);
  return buf;
}

inline std::string tensor_label(size_t subgraph, size_t index, const TensorDef& t) {
  return "subgraph " + std::to_string(subgraph) + " tensor " + std::to_string(index) + " '" +
         t.name + "'";
}

inline std::string op_label(const ModelDef& m, size_t subgraph, size_t index,
                            const OperatorDef& op) {
  std::string name = op.opcode_index < m.operator_codes.size()
                         ? builtin_op_name(m.operator_codes[op.opcode_index].builtin)
                         : "opcode " + std::to_string(op.opcode_index);
  return "subgraph " + std::to_string(subgraph) + " operator " + std::to_string(index) + " (" +
         name + ")";
}

}  // namespace qlite::lite
