// Prepare entry points of the ops, one file each in this folder; declared
// from the table (op_list.h).
#pragma once

#include "runtime/graph.h"

namespace qlite::runtime::detail {

#define QLITE_OP(code, prepare, types) void prepare(PrepareContext&, Node&);
#define QLITE_CUSTOM_OP(name, prepare, types) void prepare(PrepareContext&, Node&);
#include "runtime/ops/op_list.h"
#undef QLITE_CUSTOM_OP
#undef QLITE_OP

}  // namespace qlite::runtime::detail
