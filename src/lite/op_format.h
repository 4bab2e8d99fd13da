// What the file format says about a builtin op, in one place: per options
// struct, how its values are checked and printed (OptionsRule); per op, its
// arity and the options struct it reads (OpFormat). The validator, inspect()
// and the runtime's op records (src/runtime/op_record.h) read these tables
// instead of switching over op codes or option types.
#pragma once

#include <string>
#include <string_view>

#include "qlite/lite.h"

namespace qlite::lite {

// One per alternative of OpOptions (std::monostate and OtherOptions included).
struct OptionsRule {
  std::string_view name;  // the schema's table name, "Conv2DOptions"; "" for std::monostate
  int index = 0;          // the alternative's index in OpOptions
  // Throws Error naming `where` when a value is out of range (nullptr: nothing to check).
  void (*check)(const SubGraphDef& g, const OperatorDef& op, const std::string& where) = nullptr;
  // "padding=SAME stride=1x1 ..."; "" when there is nothing to show.
  std::string (*describe)(const OpOptions& options) = nullptr;
};

// The rule for the options an operator carries.
const OptionsRule& options_rule(const OpOptions& options);

// The alternative index of T in OpOptions.
template <class T, size_t I = 0>
constexpr int options_index_of() {
  if constexpr (I == std::variant_size_v<OpOptions>) {
    return -1;
  } else if constexpr (std::is_same_v<std::variant_alternative_t<I, OpOptions>, T>) {
    return static_cast<int>(I);
  } else {
    return options_index_of<T, I + 1>();
  }
}
inline constexpr int kNoOptions = options_index_of<std::monostate>();
inline constexpr int kAnyInputs = 1 << 30;
// As OpFormat::num_out: one or more outputs (SPLIT, SPLIT_V, UNPACK).
inline constexpr int kAnyOutputs = 1 << 30;

// The validator's rule for one builtin op.
struct OpFormat {
  BuiltinOp op;
  int min_in, max_in, required_in;  // the first required_in inputs may not be -1
  int num_out;
  int options_index;      // the OpOptions alternative this op reads; kNoOptions: none
  bool options_required;  // false: std::monostate also accepted
  std::string_view options_name() const;  // "Conv2DOptions"; "" when the op reads none
};

// nullptr for ops whose format qlite does not check (their operands are then
// only range-checked).
const OpFormat* op_format(BuiltinOp op);

}  // namespace qlite::lite
