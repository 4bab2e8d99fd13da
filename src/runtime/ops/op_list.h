// The runtime's ops: one line each, QLITE_OP(code, prepare, types), where
// code is the lite::BuiltinOp enumerator, prepare the op's entry point (in
// its file in this folder) and types its accepted (input 0, output 0) type
// combinations (op_types.h). The name and the options format come from lite's
// tables by code. Included by op_registry.cpp, which defines QLITE_OP.
QLITE_OP(kConv2D, prepare_conv2d, kWeighted)
QLITE_OP(kDepthwiseConv2D, prepare_depthwise_conv2d, kFloat32Int8UInt8)
QLITE_OP(kFullyConnected, prepare_fully_connected, kWeighted)
QLITE_OP(kMaxPool2D, prepare_max_pool2d, kFloat32Int8UInt8)
QLITE_OP(kAveragePool2D, prepare_average_pool2d, kFloat32Int8UInt8)
QLITE_OP(kReshape, prepare_reshape, kAnySame)
QLITE_OP(kSoftmax, prepare_softmax, kFloat32Int8UInt8)
QLITE_OP(kQuantize, prepare_quantize, kQuantize)
QLITE_OP(kDequantize, prepare_dequantize, kDequantize)
QLITE_OP(kAdd, prepare_add, kWeighted)
QLITE_OP(kMean, prepare_mean, kFloat32Int8UInt8)
QLITE_OP(kConcatenation, prepare_concatenation, kConcatenation)
QLITE_OP(kPad, prepare_pad, kPad)
QLITE_OP(kPadV2, prepare_padv2, kPad)
QLITE_OP(kTranspose, prepare_transpose, kAnySame)
QLITE_OP(kLogistic, prepare_logistic, kFloat32Int8UInt8)
QLITE_OP(kTanh, prepare_tanh, kFloat32Int8UInt8)
QLITE_OP(kHardSwish, prepare_hard_swish, kFloat32Int8UInt8)
QLITE_OP(kUnidirectionalSequenceLstm, prepare_lstm, kLstm)
QLITE_OP(kResizeBilinear, prepare_resize_bilinear, kResize)
QLITE_OP(kResizeNearestNeighbor, prepare_resize_nearest_neighbor, kResize)
