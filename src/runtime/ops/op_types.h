// The type combinations (input 0 -> output 0) the runtime's ops accept, named
// once and shared by the lines of op_list.h.
#pragma once

#include "runtime/op_record.h"

namespace qlite::runtime::detail::op_types {

using T = lite::TensorType;

// The same type in and out, float32 or int8.
inline constexpr TypeCombo kFloat32Int8[] = {{T::kFloat32, T::kFloat32}, {T::kInt8, T::kInt8}};
// Any type, output equal to input (RESHAPE and TRANSPOSE only move bytes).
inline constexpr std::span<const TypeCombo> kAnySame{};
inline constexpr TypeCombo kConcatenation[] = {
    {T::kFloat32, T::kFloat32}, {T::kInt8, T::kInt8}, {T::kUInt8, T::kUInt8}, {T::kInt32, T::kInt32},
    {T::kInt16, T::kInt16},     {T::kInt64, T::kInt64}, {T::kBool, T::kBool}};
// The same type in and out, float32, int8 or uint8 (uint8: TF1-era asymmetric
// models; the weighted ops also take uint8 weights with a zero point).
inline constexpr TypeCombo kFloat32Int8UInt8[] = {
    {T::kFloat32, T::kFloat32}, {T::kInt8, T::kInt8}, {T::kUInt8, T::kUInt8}};
// The types TFLite 2.9's PAD / PADV2 run (pad.cc), the same in and out.
inline constexpr TypeCombo kPad[] = {{T::kFloat32, T::kFloat32}, {T::kInt8, T::kInt8},   {T::kUInt8, T::kUInt8},
                                     {T::kInt16, T::kInt16},     {T::kInt32, T::kInt32}, {T::kInt64, T::kInt64}};
inline constexpr TypeCombo kQuantize[] = {{T::kFloat32, T::kInt8}, {T::kFloat32, T::kUInt8},
                                          {T::kInt8, T::kInt8},    {T::kUInt8, T::kInt8},
                                          {T::kInt8, T::kUInt8},   {T::kUInt8, T::kUInt8},
                                          {T::kFloat32, T::kInt16}, {T::kInt16, T::kInt16},
                                          {T::kInt16, T::kInt8}};
// UNIDIRECTIONAL_SEQUENCE_LSTM: float32, or int8 (with an int16 cell state).
inline constexpr TypeCombo kLstm[] = {{T::kFloat32, T::kFloat32}, {T::kInt8, T::kInt8}};
inline constexpr TypeCombo kDequantize[] = {
    {T::kInt8, T::kFloat32}, {T::kUInt8, T::kFloat32}, {T::kFloat16, T::kFloat32}, {T::kInt16, T::kFloat32}};
// CONV_2D, FULLY_CONNECTED and ADD: kFloat32Int8UInt8 and 16x8 (int16
// activations, int8 weights).
inline constexpr TypeCombo kWeighted[] = {
    {T::kFloat32, T::kFloat32}, {T::kInt8, T::kInt8}, {T::kUInt8, T::kUInt8}, {T::kInt16, T::kInt16}};

// RESIZE_BILINEAR / RESIZE_NEAREST_NEIGHBOR: TFLite 2.9's types, the same in and out.
inline constexpr TypeCombo kResize[] = {
    {T::kFloat32, T::kFloat32}, {T::kInt8, T::kInt8}, {T::kUInt8, T::kUInt8}, {T::kInt16, T::kInt16}};

// CAST: every pair of FLOAT32, INT8, UINT8, INT16, INT32, INT64 and BOOL.
#define QLITE_CAST_FROM(x)                                                                               \
  {T::x, T::kFloat32}, {T::x, T::kInt8}, {T::x, T::kUInt8}, {T::x, T::kInt16}, {T::x, T::kInt32}, \
      {T::x, T::kInt64}, {T::x, T::kBool}
inline constexpr TypeCombo kCast[] = {QLITE_CAST_FROM(kFloat32), QLITE_CAST_FROM(kInt8),  QLITE_CAST_FROM(kUInt8),
                                      QLITE_CAST_FROM(kInt16),   QLITE_CAST_FROM(kInt32), QLITE_CAST_FROM(kInt64),
                                      QLITE_CAST_FROM(kBool)};
#undef QLITE_CAST_FROM
// GATHER: TFLite 2.9's value types, the same in and out (GATHER_ND: without BOOL).
inline constexpr TypeCombo kGather[] = {{T::kFloat32, T::kFloat32}, {T::kInt8, T::kInt8},   {T::kUInt8, T::kUInt8},
                                        {T::kInt16, T::kInt16},     {T::kInt32, T::kInt32}, {T::kInt64, T::kInt64},
                                        {T::kBool, T::kBool}};
inline constexpr TypeCombo kGatherNd[] = {{T::kFloat32, T::kFloat32}, {T::kInt8, T::kInt8},   {T::kUInt8, T::kUInt8},
                                          {T::kInt16, T::kInt16},     {T::kInt32, T::kInt32}, {T::kInt64, T::kInt64}};

// SHAPE: any input, INT32 or INT64 out.
inline constexpr TypeCombo kShape[] = {
    {T::kFloat32, T::kInt32}, {T::kInt8, T::kInt32},  {T::kUInt8, T::kInt32}, {T::kInt16, T::kInt32},
    {T::kInt32, T::kInt32},   {T::kInt64, T::kInt32}, {T::kBool, T::kInt32},  {T::kFloat32, T::kInt64},
    {T::kInt8, T::kInt64},    {T::kUInt8, T::kInt64}, {T::kInt16, T::kInt64}, {T::kInt32, T::kInt64},
    {T::kInt64, T::kInt64},   {T::kBool, T::kInt64}};
// FILL: INT32 or INT64 dims (input 0), the value's type out.
inline constexpr TypeCombo kFill[] = {
    {T::kInt32, T::kFloat32}, {T::kInt32, T::kInt8},  {T::kInt32, T::kInt16}, {T::kInt32, T::kInt32},
    {T::kInt32, T::kInt64},   {T::kInt32, T::kBool},  {T::kInt64, T::kFloat32}, {T::kInt64, T::kInt8},
    {T::kInt64, T::kInt16},   {T::kInt64, T::kInt32}, {T::kInt64, T::kInt64}, {T::kInt64, T::kBool}};
inline constexpr TypeCombo kZerosLike[] = {{T::kFloat32, T::kFloat32}, {T::kInt32, T::kInt32}, {T::kInt64, T::kInt64}};

// SPLIT (input 0 is the INT32 axis): FLOAT32, UINT8, INT8, INT16, INT32 parts.
inline constexpr TypeCombo kSplit[] = {{T::kInt32, T::kFloat32}, {T::kInt32, T::kUInt8}, {T::kInt32, T::kInt8},
                                       {T::kInt32, T::kInt16},   {T::kInt32, T::kInt32}};
// SPLIT_V and PACK: the same in and out, with INT64.
inline constexpr TypeCombo kSplitV[] = {{T::kFloat32, T::kFloat32}, {T::kUInt8, T::kUInt8}, {T::kInt8, T::kInt8},
                                        {T::kInt16, T::kInt16},     {T::kInt32, T::kInt32}, {T::kInt64, T::kInt64}};
// UNPACK: with BOOL, without INT64.
inline constexpr TypeCombo kUnpack[] = {{T::kFloat32, T::kFloat32}, {T::kUInt8, T::kUInt8}, {T::kInt8, T::kInt8},
                                        {T::kInt16, T::kInt16},     {T::kInt32, T::kInt32}, {T::kBool, T::kBool}};
// SLICE: with INT64 and BOOL.
inline constexpr TypeCombo kSlice[] = {{T::kFloat32, T::kFloat32}, {T::kUInt8, T::kUInt8}, {T::kInt8, T::kInt8},
                                       {T::kInt16, T::kInt16},     {T::kInt32, T::kInt32}, {T::kInt64, T::kInt64},
                                       {T::kBool, T::kBool}};

// TILE: the same in and out.
inline constexpr TypeCombo kTile[] = {{T::kFloat32, T::kFloat32}, {T::kInt8, T::kInt8},   {T::kUInt8, T::kUInt8},
                                      {T::kInt32, T::kInt32},     {T::kInt64, T::kInt64}, {T::kBool, T::kBool}};
// MIRROR_PAD: the same in and out (TFLite 2.9 fails INT16 at invoke).
inline constexpr TypeCombo kMirrorPad[] = {{T::kFloat32, T::kFloat32}, {T::kInt8, T::kInt8}, {T::kUInt8, T::kUInt8},
                                           {T::kInt32, T::kInt32},     {T::kInt64, T::kInt64}};
// DEPTH_TO_SPACE / SPACE_TO_DEPTH, SPACE_TO_BATCH_ND / BATCH_TO_SPACE_ND: the same in and out.
inline constexpr TypeCombo kDepthSpace[] = {{T::kFloat32, T::kFloat32}, {T::kInt8, T::kInt8}, {T::kUInt8, T::kUInt8},
                                            {T::kInt32, T::kInt32},     {T::kInt64, T::kInt64}};
// ARG_MAX / ARG_MIN: FLOAT32, UINT8, INT8, INT32, BOOL in; INT32 or INT64 out.
inline constexpr TypeCombo kArgMinMax[] = {
    {T::kFloat32, T::kInt32}, {T::kUInt8, T::kInt32}, {T::kInt8, T::kInt32}, {T::kInt32, T::kInt32},
    {T::kBool, T::kInt32},    {T::kFloat32, T::kInt64}, {T::kUInt8, T::kInt64}, {T::kInt8, T::kInt64},
    {T::kInt32, T::kInt64},   {T::kBool, T::kInt64}};
// TOPK_V2: the values' type in and out (output 1 holds INT32 indices).
// BROADCAST_ARGS: two int32 or int64 shapes to one of the same type.
// READ_VARIABLE: a handle (RESOURCE, or an INT32 id) in, a value of any
// fixed-size type out. VAR_HANDLE, ASSIGN_VARIABLE and CALL_ONCE lack an
// input 0 or an output 0; prepare checks their operands.
#define QLITE_FIXED_SIZE_OUT(H)                                                              \
  {H, T::kFloat32}, {H, T::kFloat16}, {H, T::kInt32}, {H, T::kUInt8}, {H, T::kInt64}, {H, T::kBool}, \
      {H, T::kInt16}, {H, T::kComplex64}, {H, T::kInt8}, {H, T::kFloat64}
inline constexpr TypeCombo kReadVariable[] = {QLITE_FIXED_SIZE_OUT(T::kResource),
                                              QLITE_FIXED_SIZE_OUT(T::kInt32)};
inline constexpr std::span<const TypeCombo> kResourceOps{};
// IF: a BOOL condition in, outputs of any fixed-size type. WHILE: each
// output of its loop variable's type (prepare checks them).
inline constexpr TypeCombo kIf[] = {QLITE_FIXED_SIZE_OUT(T::kBool)};
#undef QLITE_FIXED_SIZE_OUT
inline constexpr std::span<const TypeCombo> kWhile{};
inline constexpr TypeCombo kBroadcastArgs[] = {{T::kInt32, T::kInt32}, {T::kInt64, T::kInt64}};
// TFLite_Detection_PostProcess: box encodings FLOAT32 or UINT8 -> FLOAT32 boxes.
inline constexpr TypeCombo kDetectionPostProcess[] = {{T::kFloat32, T::kFloat32}, {T::kUInt8, T::kFloat32}};
inline constexpr TypeCombo kTopK[] = {{T::kFloat32, T::kFloat32}, {T::kUInt8, T::kUInt8}, {T::kInt8, T::kInt8},
                                      {T::kInt32, T::kInt32},     {T::kInt64, T::kInt64}};
// The elementwise math, comparison, logical, select and reduction ops
// (math_binary.cpp, math_unary.cpp, reduce.cpp): TFLite 2.9's type lists.
inline constexpr TypeCombo kMul[] = {{T::kFloat32, T::kFloat32}, {T::kInt32, T::kInt32}, {T::kInt64, T::kInt64},
                                     {T::kInt8, T::kInt8},       {T::kUInt8, T::kUInt8},  {T::kInt16, T::kInt16}};
// RELU, RELU6, LEAKY_RELU, ABS: float32, 8-bit and symmetric int16.
inline constexpr TypeCombo kFloat32Int8UInt8Int16[] = {
    {T::kFloat32, T::kFloat32}, {T::kInt8, T::kInt8}, {T::kUInt8, T::kUInt8}, {T::kInt16, T::kInt16}};
inline constexpr TypeCombo kAbs[] = {{T::kFloat32, T::kFloat32}, {T::kInt8, T::kInt8}, {T::kInt16, T::kInt16}};
inline constexpr TypeCombo kSub[] = {{T::kFloat32, T::kFloat32}, {T::kInt32, T::kInt32}, {T::kInt64, T::kInt64},
                                     {T::kInt8, T::kInt8},       {T::kUInt8, T::kUInt8},  {T::kInt16, T::kInt16}};
inline constexpr TypeCombo kMaxMin[] = {{T::kFloat32, T::kFloat32}, {T::kInt8, T::kInt8},   {T::kUInt8, T::kUInt8},
                                        {T::kInt16, T::kInt16},     {T::kInt32, T::kInt32}, {T::kInt64, T::kInt64}};
inline constexpr TypeCombo kFloat32Int32[] = {{T::kFloat32, T::kFloat32}, {T::kInt32, T::kInt32}};
inline constexpr TypeCombo kSquaredDifference[] = {{T::kFloat32, T::kFloat32}, {T::kInt32, T::kInt32}, {T::kInt8, T::kInt8}};
inline constexpr TypeCombo kFloat32Int32Int64[] = {{T::kFloat32, T::kFloat32}, {T::kInt32, T::kInt32}, {T::kInt64, T::kInt64}};
inline constexpr TypeCombo kEquality[] = {{T::kFloat32, T::kBool}, {T::kInt32, T::kBool}, {T::kInt64, T::kBool},
                                          {T::kInt8, T::kBool},    {T::kUInt8, T::kBool}, {T::kBool, T::kBool}};
inline constexpr TypeCombo kOrdering[] = {{T::kFloat32, T::kBool}, {T::kInt32, T::kBool}, {T::kInt64, T::kBool},
                                          {T::kInt8, T::kBool},    {T::kUInt8, T::kBool}};
inline constexpr TypeCombo kBoolOnly[] = {{T::kBool, T::kBool}};
// SELECT / SELECT_V2: the BOOL condition (input 0) and the values' type.
inline constexpr TypeCombo kSelect[] = {{T::kBool, T::kFloat32}, {T::kBool, T::kInt8},  {T::kBool, T::kUInt8},
                                        {T::kBool, T::kInt16},   {T::kBool, T::kInt32}, {T::kBool, T::kInt64},
                                        {T::kBool, T::kBool}};
inline constexpr TypeCombo kNeg[] = {{T::kFloat32, T::kFloat32}, {T::kInt32, T::kInt32}, {T::kInt64, T::kInt64}};
inline constexpr TypeCombo kFloat32Only[] = {{T::kFloat32, T::kFloat32}};
inline constexpr TypeCombo kReduce[] = {{T::kFloat32, T::kFloat32}, {T::kInt32, T::kInt32}, {T::kInt64, T::kInt64},
                                        {T::kInt8, T::kInt8},       {T::kUInt8, T::kUInt8}};
inline constexpr TypeCombo kReduceProd[] = {{T::kFloat32, T::kFloat32}, {T::kInt32, T::kInt32}, {T::kInt64, T::kInt64}};

// TRANSPOSE_CONV: input 0 is the INT32 output_shape; the output's type
// (float32, int8, uint8, or int16 with int8 weights).
inline constexpr TypeCombo kTransposeConv[] = {
    {T::kInt32, T::kFloat32}, {T::kInt32, T::kInt8}, {T::kInt32, T::kUInt8}, {T::kInt32, T::kInt16}};
// BATCH_MATMUL: float32, int8 and int16, the same in and out.
inline constexpr TypeCombo kBatchMatMul[] = {{T::kFloat32, T::kFloat32}, {T::kInt8, T::kInt8}, {T::kInt16, T::kInt16}};

// DIV: float32, int32 and uint8 (TFLite 2.9's quantized DIV is uint8 only).
inline constexpr TypeCombo kDiv[] = {{T::kFloat32, T::kFloat32}, {T::kInt32, T::kInt32}, {T::kUInt8, T::kUInt8}};

// ADD: kWeighted's types and the integers of shape arithmetic.
inline constexpr TypeCombo kAdd[] = {{T::kFloat32, T::kFloat32}, {T::kInt8, T::kInt8},   {T::kUInt8, T::kUInt8},
                                     {T::kInt16, T::kInt16},     {T::kInt32, T::kInt32}, {T::kInt64, T::kInt64}};

// REDUCE_MAX / REDUCE_MIN: kReduce's types and int16.
inline constexpr TypeCombo kReduceMaxMin[] = {{T::kFloat32, T::kFloat32}, {T::kInt32, T::kInt32},
                                              {T::kInt64, T::kInt64},     {T::kInt8, T::kInt8},
                                              {T::kUInt8, T::kUInt8},     {T::kInt16, T::kInt16}};

// The type combinations of types16.cpp / types16_kernels.h on top of the lists above.
// MUL: kMul and int16 into an 8-bit output.
inline constexpr TypeCombo kMulTypes16[] = {{T::kFloat32, T::kFloat32}, {T::kInt32, T::kInt32}, {T::kInt64, T::kInt64},
                                            {T::kInt8, T::kInt8},       {T::kUInt8, T::kUInt8},  {T::kInt16, T::kInt16},
                                            {T::kInt16, T::kInt8},      {T::kInt16, T::kUInt8}};
// SOFTMAX: the same type in and out (float32, int8, uint8, int16), or 8-bit into int16.
inline constexpr TypeCombo kSoftmax[] = {{T::kFloat32, T::kFloat32}, {T::kInt8, T::kInt8}, {T::kUInt8, T::kUInt8},
                                         {T::kInt16, T::kInt16},     {T::kInt8, T::kInt16}, {T::kUInt8, T::kInt16}};
// MAX_POOL_2D / AVERAGE_POOL_2D: float32, int8, uint8 and int16.
inline constexpr TypeCombo kPool[] = {
    {T::kFloat32, T::kFloat32}, {T::kInt8, T::kInt8}, {T::kUInt8, T::kUInt8}, {T::kInt16, T::kInt16}};
// MEAN: float32, int8, uint8 (over H and W of NHWC), int16, int32, int64 (any axes).
inline constexpr TypeCombo kMean[] = {{T::kFloat32, T::kFloat32}, {T::kInt8, T::kInt8},   {T::kUInt8, T::kUInt8},
                                      {T::kInt16, T::kInt16},     {T::kInt32, T::kInt32}, {T::kInt64, T::kInt64}};
// SUM: kReduce's types and int16.
inline constexpr TypeCombo kSum[] = {{T::kFloat32, T::kFloat32}, {T::kInt32, T::kInt32}, {T::kInt64, T::kInt64},
                                     {T::kInt8, T::kInt8},       {T::kUInt8, T::kUInt8},  {T::kInt16, T::kInt16}};
// REDUCE_PROD: kReduceProd's types and quantized int8 / int16.
inline constexpr TypeCombo kReduceProdTypes16[] = {
    {T::kFloat32, T::kFloat32}, {T::kInt32, T::kInt32}, {T::kInt64, T::kInt64}, {T::kInt8, T::kInt8},
    {T::kInt16, T::kInt16}};
// DEPTHWISE_CONV_2D: kFloat32Int8UInt8 and 16x8 (float32 in and out covers hybrid: int8 filter).
inline constexpr TypeCombo kDepthwise[] = {
    {T::kFloat32, T::kFloat32}, {T::kInt8, T::kInt8}, {T::kUInt8, T::kUInt8}, {T::kInt16, T::kInt16}};

// QUANTIZE: kQuantize and int16 -> int32.
inline constexpr TypeCombo kQuantizeTypes16[] = {{T::kFloat32, T::kInt8}, {T::kFloat32, T::kUInt8},
                                                 {T::kInt8, T::kInt8},    {T::kUInt8, T::kInt8},
                                                 {T::kInt8, T::kUInt8},   {T::kUInt8, T::kUInt8},
                                                 {T::kFloat32, T::kInt16}, {T::kInt16, T::kInt16},
                                                 {T::kInt16, T::kInt8},   {T::kInt16, T::kInt32}};

// BATCH_MATMUL: kBatchMatMul and int8 -> int32.
inline constexpr TypeCombo kBatchMatMulTypes16[] = {
    {T::kFloat32, T::kFloat32}, {T::kInt8, T::kInt8}, {T::kInt16, T::kInt16}, {T::kInt8, T::kInt32}};

}  // namespace qlite::runtime::detail::op_types
