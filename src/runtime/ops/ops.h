// Prepare entry points of the ops, one file each in this folder.
#pragma once

#include "runtime/graph.h"

namespace qlite::runtime::detail {

void prepare_conv2d(PrepareContext&, Node&);
void prepare_depthwise_conv2d(PrepareContext&, Node&);
void prepare_fully_connected(PrepareContext&, Node&);
void prepare_max_pool2d(PrepareContext&, Node&);
void prepare_average_pool2d(PrepareContext&, Node&);
void prepare_reshape(PrepareContext&, Node&);
void prepare_softmax(PrepareContext&, Node&);
void prepare_quantize(PrepareContext&, Node&);
void prepare_dequantize(PrepareContext&, Node&);
void prepare_add(PrepareContext&, Node&);
void prepare_mean(PrepareContext&, Node&);
void prepare_concatenation(PrepareContext&, Node&);

}  // namespace qlite::runtime::detail
