// qlite lite: the .tflite file format. A plain in-memory model (ModelDef),
// a validating reader (bytes -> ModelDef), a writer (ModelDef -> bytes), a
// small builder for producers, and a text dump.
//
// The flatbuffers code generated from src/lite/schema/qlite_tflite.fbs stays
// inside src/lite; users of this header see only the structs below. Enum
// values equal the public TFLite schema's, so a value read from a file can be
// cast directly.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "qlite/core.h"

namespace qlite::lite {

enum class TensorType : int8_t {
  kFloat32 = 0,
  kFloat16 = 1,
  kInt32 = 2,
  kUInt8 = 3,
  kInt64 = 4,
  kString = 5,
  kBool = 6,
  kInt16 = 7,
  kComplex64 = 8,
  kInt8 = 9,
  kFloat64 = 10,
  // A resource handle (VAR_HANDLE's output): qlite stores it as one int32,
  // the resource id, as TFLite 2.9's VAR_HANDLE writes it.
  kResource = 13,
};

// Bytes per element; throws for kString (variable length).
size_t tensor_type_size(TensorType t);
const char* tensor_type_name(TensorType t);  // "FLOAT32", ...
// The core DType for a tensor type; throws for types core has no DType for.
DType to_dtype(TensorType t);
TensorType from_dtype(DType t);

// TFLite's builtin operators, numbered as the public schema's BuiltinOperator
// (ADD = 0 ... RIGHT_SHIFT = 161). A file may hold any int32 code; codes with
// no enumerator here are kept as their integer value.
enum class BuiltinOp : int32_t {
  kAdd = 0,
  kAveragePool2D = 1,
  kConcatenation = 2,
  kConv2D = 3,
  kDepthwiseConv2D = 4,
  kDepthToSpace = 5,
  kDequantize = 6,
  kEmbeddingLookup = 7,
  kFloor = 8,
  kFullyConnected = 9,
  kHashtableLookup = 10,
  kL2Normalization = 11,
  kL2Pool2D = 12,
  kLocalResponseNormalization = 13,
  kLogistic = 14,
  kLshProjection = 15,
  kLstm = 16,
  kMaxPool2D = 17,
  kMul = 18,
  kRelu = 19,
  kReluN1To1 = 20,
  kRelu6 = 21,
  kReshape = 22,
  kResizeBilinear = 23,
  kRnn = 24,
  kSoftmax = 25,
  kSpaceToDepth = 26,
  kSvdf = 27,
  kTanh = 28,
  kConcatEmbeddings = 29,
  kSkipGram = 30,
  kCall = 31,
  kCustom = 32,
  kEmbeddingLookupSparse = 33,
  kPad = 34,
  kUnidirectionalSequenceRnn = 35,
  kGather = 36,
  kBatchToSpaceNd = 37,
  kSpaceToBatchNd = 38,
  kTranspose = 39,
  kMean = 40,
  kSub = 41,
  kDiv = 42,
  kSqueeze = 43,
  kUnidirectionalSequenceLstm = 44,
  kStridedSlice = 45,
  kBidirectionalSequenceRnn = 46,
  kExp = 47,
  kTopkV2 = 48,
  kSplit = 49,
  kLogSoftmax = 50,
  kDelegate = 51,
  kBidirectionalSequenceLstm = 52,
  kCast = 53,
  kPrelu = 54,
  kMaximum = 55,
  kArgMax = 56,
  kMinimum = 57,
  kLess = 58,
  kNeg = 59,
  kPadV2 = 60,
  kGreater = 61,
  kGreaterEqual = 62,
  kLessEqual = 63,
  kSelect = 64,
  kSlice = 65,
  kSin = 66,
  kTransposeConv = 67,
  kSparseToDense = 68,
  kTile = 69,
  kExpandDims = 70,
  kEqual = 71,
  kNotEqual = 72,
  kLog = 73,
  kSum = 74,
  kSqrt = 75,
  kRsqrt = 76,
  kShape = 77,
  kPow = 78,
  kArgMin = 79,
  kFakeQuant = 80,
  kReduceProd = 81,
  kReduceMax = 82,
  kPack = 83,
  kLogicalOr = 84,
  kOneHot = 85,
  kLogicalAnd = 86,
  kLogicalNot = 87,
  kUnpack = 88,
  kReduceMin = 89,
  kFloorDiv = 90,
  kReduceAny = 91,
  kSquare = 92,
  kZerosLike = 93,
  kFill = 94,
  kFloorMod = 95,
  kRange = 96,
  kResizeNearestNeighbor = 97,
  kLeakyRelu = 98,
  kSquaredDifference = 99,
  kMirrorPad = 100,
  kAbs = 101,
  kSplitV = 102,
  kUnique = 103,
  kCeil = 104,
  kReverseV2 = 105,
  kAddN = 106,
  kGatherNd = 107,
  kCos = 108,
  kWhere = 109,
  kRank = 110,
  kElu = 111,
  kReverseSequence = 112,
  kMatrixDiag = 113,
  kQuantize = 114,
  kMatrixSetDiag = 115,
  kRound = 116,
  kHardSwish = 117,
  kIf = 118,
  kWhile = 119,
  kNonMaxSuppressionV4 = 120,
  kNonMaxSuppressionV5 = 121,
  kScatterNd = 122,
  kSelectV2 = 123,
  kDensify = 124,
  kSegmentSum = 125,
  kBatchMatmul = 126,
  kPlaceholderForGreaterOpCodes = 127,
  kCumsum = 128,
  kCallOnce = 129,
  kBroadcastTo = 130,
  kRfft2d = 131,
  kConv3D = 132,
  kImag = 133,
  kReal = 134,
  kComplexAbs = 135,
  kHashtable = 136,
  kHashtableFind = 137,
  kHashtableImport = 138,
  kHashtableSize = 139,
  kReduceAll = 140,
  kConv3DTranspose = 141,
  kVarHandle = 142,
  kReadVariable = 143,
  kAssignVariable = 144,
  kBroadcastArgs = 145,
  kRandomStandardNormal = 146,
  kBucketize = 147,
  kRandomUniform = 148,
  kMultinomial = 149,
  kGelu = 150,
  kDynamicUpdateSlice = 151,
  kRelu0To1 = 152,
  kUnsortedSegmentProd = 153,
  kUnsortedSegmentMax = 154,
  kUnsortedSegmentSum = 155,
  kAtan2 = 156,
  kUnsortedSegmentMin = 157,
  kSign = 158,
  kBitcast = 159,
  kBitwiseXor = 160,
  kRightShift = 161,
};
// The TFLite name of every code of the public schema ("FULLY_CONNECTED",
// "UNIDIRECTIONAL_SEQUENCE_LSTM", through the StableHLO codes up to
// REDUCE_WINDOW = 205); "BUILTIN_<n>" for codes beyond the table.
std::string builtin_op_name(BuiltinOp op);
// The code of a TFLite builtin-op name ("CAST" -> BuiltinOp::kCast); nullopt
// for a name the table does not hold (names are matched exactly, upper case).
std::optional<BuiltinOp> builtin_op_from_name(std::string_view name);
// Codes 0 .. kBuiltinOpNameCount - 1 have names.
inline constexpr int32_t kBuiltinOpNameCount = 206;

// The project's one Padding and Activation (core.h), numbered as the schema.
using ::qlite::Activation;
using ::qlite::Padding;
const char* padding_name(Padding p);
const char* activation_name(Activation a);

// Affine quantization of a tensor: real = scale * (q - zero_point).
// Empty scale means "not quantized". One entry means per tensor; more means per
// channel along quantized_dimension (one scale and zero point per channel).
struct Quantization {
  std::vector<float> scale;
  std::vector<int64_t> zero_point;
  int32_t quantized_dimension = 0;
  std::vector<float> min;  // informational (for importing back), may be empty
  std::vector<float> max;

  bool empty() const { return scale.empty() && zero_point.empty(); }
  bool per_channel() const { return scale.size() > 1; }
  static Quantization per_tensor(float scale, int64_t zero_point) {
    return Quantization{{scale}, {zero_point}, 0, {}, {}};
  }
  static Quantization per_axis(std::vector<float> scales, std::vector<int64_t> zero_points,
                               int32_t dim) {
    return Quantization{std::move(scales), std::move(zero_points), dim, {}, {}};
  }
  // Bit for bit, as the file holds them: float == would call a NaN min/max
  // unequal to itself and -0 equal to +0.
  bool operator==(const Quantization& o) const;
};

struct TensorDef {
  std::string name;
  TensorType type = TensorType::kFloat32;
  std::vector<int32_t> shape;
  // Same rank as shape, -1 where a dimension may change at run time (batch);
  // empty when the shape is fixed.
  std::vector<int32_t> shape_signature;
  uint32_t buffer = 0;  // 0 = no constant data (buffer 0 is the empty sentinel)
  Quantization quantization;
  bool is_variable = false;
  bool operator==(const TensorDef&) const = default;
};

// ---- builtin options (one struct per options table qlite knows)
struct Conv2DOptions {
  Padding padding = Padding::kSame;
  int32_t stride_w = 1, stride_h = 1;
  Activation activation = Activation::kLinear;
  int32_t dilation_w = 1, dilation_h = 1;
  bool operator==(const Conv2DOptions&) const = default;
};
struct DepthwiseConv2DOptions {
  Padding padding = Padding::kSame;
  int32_t stride_w = 1, stride_h = 1;
  int32_t depth_multiplier = 1;
  Activation activation = Activation::kLinear;
  int32_t dilation_w = 1, dilation_h = 1;
  bool operator==(const DepthwiseConv2DOptions&) const = default;
};
struct FullyConnectedOptions {
  Activation activation = Activation::kLinear;
  bool keep_num_dims = false;
  bool asymmetric_quantize_inputs = false;
  bool operator==(const FullyConnectedOptions&) const = default;
};
struct Pool2DOptions {
  Padding padding = Padding::kValid;
  int32_t stride_w = 1, stride_h = 1;
  int32_t filter_w = 1, filter_h = 1;
  Activation activation = Activation::kLinear;
  bool operator==(const Pool2DOptions&) const = default;
};
struct ReshapeOptions {
  std::vector<int32_t> new_shape;
  bool operator==(const ReshapeOptions&) const = default;
};
struct SoftmaxOptions {
  float beta = 1.0f;
  bool operator==(const SoftmaxOptions&) const = default;
};
struct AddOptions {
  Activation activation = Activation::kLinear;
  // int16 only: with power-of-two scales, TFLite's special shift-only kernel
  // (the schema's default); false selects the general rescaling one.
  bool pot_scale_int16 = true;
  bool operator==(const AddOptions&) const = default;
};
struct MulOptions {
  Activation activation = Activation::kLinear;
  bool operator==(const MulOptions&) const = default;
};
struct SubOptions {
  Activation activation = Activation::kLinear;
  // int16 only, as AddOptions': with power-of-two scales and zero points 0,
  // TFLite's shift-only kernel (the schema's default).
  bool pot_scale_int16 = true;
  bool operator==(const SubOptions&) const = default;
};
struct ConcatenationOptions {
  int32_t axis = 0;
  Activation activation = Activation::kLinear;
  bool operator==(const ConcatenationOptions&) const = default;
};
struct ReducerOptions {  // MEAN (and the other reductions)
  bool keep_dims = false;
  bool operator==(const ReducerOptions&) const = default;
};
struct SqueezeOptions {
  std::vector<int32_t> squeeze_dims;
  bool operator==(const SqueezeOptions&) const = default;
};
// Options tables without fields; writing them (as TFLite's converter does) is optional.
struct PadOptions {
  bool operator==(const PadOptions&) const = default;
};
struct QuantizeOptions {
  bool operator==(const QuantizeOptions&) const = default;
};
struct DequantizeOptions {
  bool operator==(const DequantizeOptions&) const = default;
};
struct PadV2Options {
  bool operator==(const PadV2Options&) const = default;
};
struct TransposeOptions {
  bool operator==(const TransposeOptions&) const = default;
};
struct HardSwishOptions {
  bool operator==(const HardSwishOptions&) const = default;
};
struct UnidirectionalSequenceLstmOptions {
  Activation activation = Activation::kLinear;  // of the cell and the output (TANH in practice)
  float cell_clip = 0.0f, proj_clip = 0.0f;     // 0: no clipping
  bool time_major = false;                      // [time, batch, input] when true, else [batch, time, input]
  bool asymmetric_quantize_inputs = false;      // hybrid (float input, int8 weights) only
  bool operator==(const UnidirectionalSequenceLstmOptions&) const = default;
};

struct LeakyReluOptions {
  float alpha = 0.0f;  // the slope below 0 (the schema's default)
  bool operator==(const LeakyReluOptions&) const = default;
};
struct DivOptions {
  Activation activation = Activation::kLinear;
  bool operator==(const DivOptions&) const = default;
};
struct L2NormOptions {
  Activation activation = Activation::kLinear;
  bool operator==(const L2NormOptions&) const = default;
};
struct CumsumOptions {
  bool exclusive = false, reverse = false;
  bool operator==(const CumsumOptions&) const = default;
};
struct GeluOptions {
  bool approximate = false;  // the tanh approximation instead of erf
  bool operator==(const GeluOptions&) const = default;
};
// Fieldless options tables of the elementwise math, comparison, logical,
// select and resource-variable ops (TFLite's converter writes them; the ops
// read nothing from them).
// X(struct name) in OpOptions order.
#define QLITE_LITE_EMPTY_MATH_OPTIONS(X)                                                            \
  X(MaximumMinimumOptions) X(LessOptions) X(LessEqualOptions) X(GreaterOptions) X(GreaterEqualOptions) \
  X(EqualOptions) X(NotEqualOptions) X(NegOptions) X(AbsOptions) X(ExpOptions) X(CosOptions)          \
  X(SquareOptions) X(SquaredDifferenceOptions) X(PowOptions) X(FloorDivOptions) X(FloorModOptions)    \
  X(LogicalAndOptions) X(LogicalOrOptions) X(LogicalNotOptions) X(SelectOptions) X(SelectV2Options)   \
  X(LogSoftmaxOptions) X(AddNOptions) X(ReadVariableOptions) X(AssignVariableOptions)
#define QLITE_LITE_DECLARE_EMPTY_OPTIONS(N) \
  struct N {                                \
    bool operator==(const N&) const = default; \
  };
QLITE_LITE_EMPTY_MATH_OPTIONS(QLITE_LITE_DECLARE_EMPTY_OPTIONS)
#undef QLITE_LITE_DECLARE_EMPTY_OPTIONS
#define QLITE_LITE_COMMA_NAME(N) , N

// An options table qlite does not parse, kept by its union type code so that
// inspect() can show it; the writer refuses it.
struct OtherOptions {
  int32_t type_code = 0;
  bool operator==(const OtherOptions&) const = default;
};

// ---- the data-movement, shape and resize ops' options (TFLite 2.9's tables)
struct ResizeBilinearOptions {
  bool align_corners = false;
  bool half_pixel_centers = false;
  bool operator==(const ResizeBilinearOptions&) const = default;
};
struct ResizeNearestNeighborOptions {
  bool align_corners = false;
  bool half_pixel_centers = false;
  bool operator==(const ResizeNearestNeighborOptions&) const = default;
};
struct CastOptions {  // informational: CAST converts between its tensors' types
  TensorType in_type = TensorType::kFloat32;
  TensorType out_type = TensorType::kFloat32;
  bool operator==(const CastOptions&) const = default;
};
struct GatherOptions {
  int32_t axis = 0;
  int32_t batch_dims = 0;
  bool operator==(const GatherOptions&) const = default;
};
struct GatherNdOptions {
  bool operator==(const GatherNdOptions&) const = default;
};
struct ExpandDimsOptions {
  bool operator==(const ExpandDimsOptions&) const = default;
};
struct SliceOptions {
  bool operator==(const SliceOptions&) const = default;
};
struct StridedSliceOptions {
  int32_t begin_mask = 0, end_mask = 0, ellipsis_mask = 0, new_axis_mask = 0, shrink_axis_mask = 0;
  bool operator==(const StridedSliceOptions&) const = default;
};
struct SplitOptions {
  int32_t num_splits = 0;
  bool operator==(const SplitOptions&) const = default;
};
struct SplitVOptions {
  int32_t num_splits = 0;
  bool operator==(const SplitVOptions&) const = default;
};
struct PackOptions {
  int32_t values_count = 0;
  int32_t axis = 0;
  bool operator==(const PackOptions&) const = default;
};
struct UnpackOptions {
  int32_t num = 0;
  int32_t axis = 0;
  bool operator==(const UnpackOptions&) const = default;
};
struct TileOptions {
  bool operator==(const TileOptions&) const = default;
};
struct BroadcastToOptions {
  bool operator==(const BroadcastToOptions&) const = default;
};
struct ReverseV2Options {
  bool operator==(const ReverseV2Options&) const = default;
};
struct DepthToSpaceOptions {
  int32_t block_size = 0;
  bool operator==(const DepthToSpaceOptions&) const = default;
};
struct SpaceToDepthOptions {
  int32_t block_size = 0;
  bool operator==(const SpaceToDepthOptions&) const = default;
};
struct BatchToSpaceNdOptions {
  bool operator==(const BatchToSpaceNdOptions&) const = default;
};
struct SpaceToBatchNdOptions {
  bool operator==(const SpaceToBatchNdOptions&) const = default;
};
enum class MirrorPadMode : int8_t { kReflect = 0, kSymmetric = 1 };
struct MirrorPadOptions {
  MirrorPadMode mode = MirrorPadMode::kReflect;
  bool operator==(const MirrorPadOptions&) const = default;
};
struct ShapeOptions {
  TensorType out_type = TensorType::kInt32;  // the file's absent field reads as FLOAT32 (0)
  bool operator==(const ShapeOptions&) const = default;
};
struct FillOptions {
  bool operator==(const FillOptions&) const = default;
};
struct ZerosLikeOptions {
  bool operator==(const ZerosLikeOptions&) const = default;
};
struct ArgMaxOptions {
  TensorType output_type = TensorType::kInt64;
  bool operator==(const ArgMaxOptions&) const = default;
};
struct ArgMinOptions {
  TensorType output_type = TensorType::kInt64;
  bool operator==(const ArgMinOptions&) const = default;
};
struct TopKV2Options {
  bool operator==(const TopKV2Options&) const = default;
};
// TRANSPOSE_CONV (TFLite 2.9's table: no fused activation).
struct TransposeConvOptions {
  Padding padding = Padding::kSame;
  int32_t stride_w = 1, stride_h = 1;
  bool operator==(const TransposeConvOptions&) const = default;
};
struct BatchMatMulOptions {
  bool adj_x = false, adj_y = false;
  bool asymmetric_quantize_inputs = false;  // hybrid (float x int8) only
  bool operator==(const BatchMatMulOptions&) const = default;
};
// SVDF (TFLite 2.9's SVDFOptions).
struct SvdfOptions {
  int32_t rank = 0;
  Activation activation = Activation::kLinear;
  bool asymmetric_quantize_inputs = false;  // hybrid only
  bool operator==(const SvdfOptions&) const = default;
};

// VAR_HANDLE: the variable a handle names (TFLite 2.9's VarHandleOptions;
// absent strings read as "").
struct VarHandleOptions {
  std::string container;
  std::string shared_name;
  bool operator==(const VarHandleOptions&) const = default;
};
// CALL_ONCE: the subgraph it runs once per interpreter (CallOnceOptions).
struct CallOnceOptions {
  int32_t init_subgraph_index = 0;
  bool operator==(const CallOnceOptions&) const = default;
};
// IF: the subgraphs it runs when its condition is true or false (IfOptions).
struct IfOptions {
  int32_t then_subgraph_index = 0;
  int32_t else_subgraph_index = 0;
  bool operator==(const IfOptions&) const = default;
};
// WHILE: the condition and body subgraphs of its loop (WhileOptions).
struct WhileOptions {
  int32_t cond_subgraph_index = 0;
  int32_t body_subgraph_index = 0;
  bool operator==(const WhileOptions&) const = default;
};

// std::monostate = no options table in the file.
using OpOptions =
    std::variant<std::monostate, Conv2DOptions, DepthwiseConv2DOptions, FullyConnectedOptions,
                 Pool2DOptions, ReshapeOptions, SoftmaxOptions, AddOptions, MulOptions, SubOptions,
                 ConcatenationOptions, ReducerOptions, SqueezeOptions, PadOptions, QuantizeOptions,
                 DequantizeOptions, PadV2Options, TransposeOptions, HardSwishOptions,
                 UnidirectionalSequenceLstmOptions, LeakyReluOptions,
                 DivOptions QLITE_LITE_EMPTY_MATH_OPTIONS(QLITE_LITE_COMMA_NAME), L2NormOptions, CumsumOptions,
                 GeluOptions, OtherOptions, ResizeBilinearOptions,
                 ResizeNearestNeighborOptions, CastOptions, GatherOptions, GatherNdOptions, ExpandDimsOptions,
                 SliceOptions, StridedSliceOptions, SplitOptions, SplitVOptions, PackOptions, UnpackOptions,
                 TileOptions, BroadcastToOptions, ReverseV2Options, DepthToSpaceOptions, SpaceToDepthOptions,
                 BatchToSpaceNdOptions, SpaceToBatchNdOptions, MirrorPadOptions, ShapeOptions, FillOptions,
                 ZerosLikeOptions, ArgMaxOptions, ArgMinOptions, TopKV2Options,
                 TransposeConvOptions, BatchMatMulOptions, SvdfOptions, VarHandleOptions,
                 CallOnceOptions, IfOptions, WhileOptions>;

struct OperatorCodeDef {
  BuiltinOp builtin = BuiltinOp::kAdd;  // max(deprecated_builtin_code, builtin_code) on read
  std::string custom_code;              // only for BuiltinOp::kCustom
  int32_t version = 1;
  bool operator==(const OperatorCodeDef&) const = default;
};

struct OperatorDef {
  uint32_t opcode_index = 0;
  std::vector<int32_t> inputs;  // -1 = omitted optional input (e.g. no bias)
  std::vector<int32_t> outputs;
  OpOptions options;
  // Tensors an op keeps for itself; the integer LSTM reads the quantization
  // of its gate and hidden-state intermediates from them.
  std::vector<int32_t> intermediates;
  // A CUSTOM op's options as the file stores them (a FlexBuffers map, the
  // only custom_options_format TFLite defines); empty when there are none.
  std::vector<uint8_t> custom_options;
  bool operator==(const OperatorDef&) const = default;
};

struct SubGraphDef {
  std::string name;
  std::vector<TensorDef> tensors;
  std::vector<int32_t> inputs;
  std::vector<int32_t> outputs;
  std::vector<OperatorDef> operators;  // in execution order
  bool operator==(const SubGraphDef&) const = default;
};

struct MetadataDef {
  std::string name;
  uint32_t buffer = 0;
  bool operator==(const MetadataDef&) const = default;
};

struct TensorMapDef {
  std::string name;
  uint32_t tensor_index = 0;
  bool operator==(const TensorMapDef&) const = default;
};

struct SignatureDef {
  std::string key;  // "serving_default"
  uint32_t subgraph_index = 0;
  std::vector<TensorMapDef> inputs;
  std::vector<TensorMapDef> outputs;
  bool operator==(const SignatureDef&) const = default;
};

struct ModelDef {
  uint32_t version = 3;
  std::string description;
  std::vector<OperatorCodeDef> operator_codes;
  std::vector<SubGraphDef> subgraphs;  // subgraphs[0] is the main graph
  std::vector<std::vector<uint8_t>> buffers;  // buffers[0] is the empty sentinel
  std::vector<MetadataDef> metadata;
  std::vector<SignatureDef> signature_defs;

  BuiltinOp op_of(const OperatorDef& op) const;  // throws Error for a bad opcode index
  // The constant data of a tensor, empty when it has none.
  std::span<const uint8_t> data_of(const TensorDef& t) const;
  // The bytes of the metadata entry with this name; empty span when absent.
  std::span<const uint8_t> metadata_bytes(const std::string& name) const;
  bool operator==(const ModelDef&) const = default;
};

// Element count of a tensor's shape (overflow-checked).
int64_t tensor_numel(const TensorDef& t);

// Checks everything an interpreter relies on (see reader.cpp for the list) and
// throws Error naming the subgraph, tensor or operator at fault.
void validate(const ModelDef& model);

// Parses and validates .tflite bytes. The result owns copies of all data, so
// the bytes may be freed afterwards.
ModelDef read_model(std::span<const uint8_t> bytes);
ModelDef read_model_file(const std::string& path);

struct WriteOptions {
  bool validate = true;  // false only to produce deliberately broken files in tests
};
std::vector<uint8_t> write_model(const ModelDef& model, const WriteOptions& options = {});
void write_model_file(const ModelDef& model, const std::string& path,
                      const WriteOptions& options = {});

// Human-readable dump: inputs, outputs, every tensor (type, shape, quantization,
// constant size), every operator with its options, metadata and signatures.
// Strings from the file are printed through escape_control.
std::string inspect(const ModelDef& model);
struct InspectOptions {
  // A note shown after operator `op` of subgraph `subgraph` (qlite inspect
  // marks the ops the runtime cannot run); "" for none.
  std::function<std::string(const ModelDef&, size_t subgraph, const OperatorDef& op)> op_note;
};
std::string inspect(const ModelDef& model, const InspectOptions& options);

// Text from an untrusted file made safe to print: control bytes (below 0x20,
// and 0x7F), which could move a terminal's cursor or fake a line, become \xNN.
std::string escape_control(std::string_view text);

// The metadata entry a qlite-written model carries to name its producer.
inline constexpr const char* kProducerMetadataName = "qlite_producer";

// Builds a model, one subgraph unless add_subgraph() is called. Buffer 0 (the sentinel) exists from the start;
// operator codes are shared between operators with the same (op, version).
// build() adds a "serving_default" signature over the subgraph's inputs and
// outputs (named after the tensors) and the producer metadata entry, then validates.
class ModelBuilder {
 public:
  explicit ModelBuilder(std::string producer = "qlite");

  uint32_t add_buffer(std::span<const uint8_t> bytes);
  template <class T>
  uint32_t add_buffer_of(const std::vector<T>& values) {
    return add_buffer({reinterpret_cast<const uint8_t*>(values.data()), values.size() * sizeof(T)});
  }

  // A tensor without data (activation or graph input/output).
  int32_t add_tensor(std::string name, TensorType type, std::vector<int32_t> shape,
                     Quantization quantization = {}, std::vector<int32_t> shape_signature = {});
  // A constant tensor; the values' byte size must match the shape and type.
  template <class T>
  int32_t add_constant(std::string name, TensorType type, std::vector<int32_t> shape,
                       const std::vector<T>& values, Quantization quantization = {}) {
    const int32_t t = add_tensor(std::move(name), type, std::move(shape), std::move(quantization));
    graph().tensors[static_cast<size_t>(t)].buffer = add_buffer_of(values);
    return t;
  }

  int32_t add_operator(BuiltinOp op, std::vector<int32_t> inputs, std::vector<int32_t> outputs,
                       OpOptions options = {}, int32_t version = 1);
  // A CUSTOM op named `custom_code` ("TFLite_Detection_PostProcess") with its
  // FlexBuffers options.
  int32_t add_custom_operator(std::string custom_code, std::vector<int32_t> inputs, std::vector<int32_t> outputs,
                              std::vector<uint8_t> custom_options = {}, int32_t version = 1);
  void set_inputs(std::vector<int32_t> inputs) { graph().inputs = std::move(inputs); }
  void set_outputs(std::vector<int32_t> outputs) { graph().outputs = std::move(outputs); }
  void set_description(std::string d) { model_.description = std::move(d); }
  void set_graph_name(std::string name) { graph().name = std::move(name); }

  // Adds an empty subgraph (a CALL_ONCE's initialization graph) and makes
  // it the one the calls above write to; returns its index. use_subgraph(0)
  // goes back to the main one. Tensor indices are per subgraph; buffers and
  // operator codes are shared.
  size_t add_subgraph(std::string name = {});
  void use_subgraph(size_t k);

  ModelDef& model() { return model_; }
  SubGraphDef& graph() { return model_.subgraphs[current_]; }

  ModelDef build() const;
  std::vector<uint8_t> finish() const { return write_model(build()); }

 private:
  ModelDef model_;
  std::string producer_;
  size_t current_ = 0;
};

}  // namespace qlite::lite
