// One record per builtin op the runtime runs, in the spirit of TFLite Micro's
// TFLMRegistration: everything the interpreter, the validator's view of the
// op and `qlite inspect` need to know about it. The table is
// src/runtime/ops/op_list.h (one line per op); adding an op is its file in
// src/runtime/ops/ and that line.
#pragma once

#include <span>
#include <string>
#include <string_view>

#include "lite/op_format.h"
#include "qlite/lite.h"
#include "runtime/graph.h"

namespace qlite::runtime::detail {

// A type combination the op runs: the type of input 0 and of output 0. Other
// operands (weights, bias, axes) are checked by prepare.
struct TypeCombo {
  lite::TensorType input;
  lite::TensorType output;
};

using PrepareFn = void (*)(PrepareContext&, Node&);

struct OpRecord {
  lite::BuiltinOp code;
  std::string name;  // TFLite's name, from lite's table ("CONV_2D"); "CUSTOM 'name'" for a custom op
  // kCustom only: the operator code's custom_code it is registered under.
  std::string_view custom_code;
  // Arity and the builtin-options struct the op reads, with the validator's
  // rule for them (lite/op_format.h); never null for a builtin op, null for a
  // custom one (its options are a FlexBuffers map; prepare checks its arity).
  const lite::OpFormat* format = nullptr;
  // Validates types and shapes (throwing Error with node.label), sets output
  // shapes, fills the node's state and chooses node.eval.
  PrepareFn prepare = nullptr;
  // The (input 0, output 0) types it runs; empty: every type (the op only
  // requires input and output to agree, checked by prepare).
  std::span<const TypeCombo> types;

  bool accepts(lite::TensorType input, lite::TensorType output) const;
  // "int8 -> int8, float32 -> float32"; "any (same in and out)" when types is empty.
  std::string types_str() const;
};

// Every record, in table order.
std::span<const OpRecord> op_records();
// nullptr when the runtime does not run the op; custom_code names a CUSTOM op.
const OpRecord* find_op_record(lite::BuiltinOp op, std::string_view custom_code = {});

}  // namespace qlite::runtime::detail
