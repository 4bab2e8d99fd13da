// Names, sizes and small helpers of the lite model structs.
#include <cstring>
#include <iterator>
#include <limits>

#include "lite/util.h"
#include "qlite/lite.h"

namespace qlite::lite {

size_t tensor_type_size(TensorType t) {
  switch (t) {
    case TensorType::kFloat32: return 4;
    case TensorType::kFloat16: return 2;
    case TensorType::kInt32: return 4;
    case TensorType::kUInt8: return 1;
    case TensorType::kInt64: return 8;
    case TensorType::kBool: return 1;
    case TensorType::kInt16: return 2;
    case TensorType::kComplex64: return 8;
    case TensorType::kInt8: return 1;
    case TensorType::kFloat64: return 8;
    case TensorType::kResource: return 4;
    case TensorType::kString: break;
  }
  throw Error("tflite: tensor type " + std::string(tensor_type_name(t)) +
              " has no fixed element size");
}

const char* tensor_type_name(TensorType t) {
  switch (t) {
    case TensorType::kFloat32: return "FLOAT32";
    case TensorType::kFloat16: return "FLOAT16";
    case TensorType::kInt32: return "INT32";
    case TensorType::kUInt8: return "UINT8";
    case TensorType::kInt64: return "INT64";
    case TensorType::kString: return "STRING";
    case TensorType::kBool: return "BOOL";
    case TensorType::kInt16: return "INT16";
    case TensorType::kComplex64: return "COMPLEX64";
    case TensorType::kInt8: return "INT8";
    case TensorType::kFloat64: return "FLOAT64";
    case TensorType::kResource: return "RESOURCE";
  }
  return "UNKNOWN_TYPE";
}

DType to_dtype(TensorType t) {
  switch (t) {
    case TensorType::kFloat32: return DType::kFloat32;
    case TensorType::kFloat16: return DType::kFloat16;
    case TensorType::kInt32: return DType::kInt32;
    case TensorType::kInt8: return DType::kInt8;
    case TensorType::kUInt8: return DType::kUInt8;
    case TensorType::kInt64: return DType::kInt64;
    default: break;
  }
  throw Error("tflite: tensor type " + std::string(tensor_type_name(t)) +
              " has no qlite DType");
}

TensorType from_dtype(DType t) {
  switch (t) {
    case DType::kFloat32: return TensorType::kFloat32;
    case DType::kFloat16: return TensorType::kFloat16;
    case DType::kInt32: return TensorType::kInt32;
    case DType::kInt8: return TensorType::kInt8;
    case DType::kUInt8: return TensorType::kUInt8;
    case DType::kInt64: return TensorType::kInt64;
  }
  throw Error("tflite: unknown DType");
}

namespace {
// TFLite's schema.fbs BuiltinOperator, in code order: kOpNames[c] is code c.
constexpr const char* kOpNames[] = {
    "ADD", "AVERAGE_POOL_2D", "CONCATENATION", "CONV_2D", "DEPTHWISE_CONV_2D", "DEPTH_TO_SPACE",
    "DEQUANTIZE", "EMBEDDING_LOOKUP", "FLOOR", "FULLY_CONNECTED", "HASHTABLE_LOOKUP",
    "L2_NORMALIZATION", "L2_POOL_2D", "LOCAL_RESPONSE_NORMALIZATION", "LOGISTIC", "LSH_PROJECTION",
    "LSTM", "MAX_POOL_2D", "MUL", "RELU", "RELU_N1_TO_1", "RELU6", "RESHAPE", "RESIZE_BILINEAR",
    "RNN", "SOFTMAX", "SPACE_TO_DEPTH", "SVDF", "TANH", "CONCAT_EMBEDDINGS", "SKIP_GRAM", "CALL",
    "CUSTOM", "EMBEDDING_LOOKUP_SPARSE", "PAD", "UNIDIRECTIONAL_SEQUENCE_RNN", "GATHER",
    "BATCH_TO_SPACE_ND", "SPACE_TO_BATCH_ND", "TRANSPOSE", "MEAN", "SUB", "DIV", "SQUEEZE",
    "UNIDIRECTIONAL_SEQUENCE_LSTM", "STRIDED_SLICE", "BIDIRECTIONAL_SEQUENCE_RNN", "EXP", "TOPK_V2",
    "SPLIT", "LOG_SOFTMAX", "DELEGATE", "BIDIRECTIONAL_SEQUENCE_LSTM", "CAST", "PRELU", "MAXIMUM",
    "ARG_MAX", "MINIMUM", "LESS", "NEG", "PADV2", "GREATER", "GREATER_EQUAL", "LESS_EQUAL",
    "SELECT", "SLICE", "SIN", "TRANSPOSE_CONV", "SPARSE_TO_DENSE", "TILE", "EXPAND_DIMS", "EQUAL",
    "NOT_EQUAL", "LOG", "SUM", "SQRT", "RSQRT", "SHAPE", "POW", "ARG_MIN", "FAKE_QUANT",
    "REDUCE_PROD", "REDUCE_MAX", "PACK", "LOGICAL_OR", "ONE_HOT", "LOGICAL_AND", "LOGICAL_NOT",
    "UNPACK", "REDUCE_MIN", "FLOOR_DIV", "REDUCE_ANY", "SQUARE", "ZEROS_LIKE", "FILL", "FLOOR_MOD",
    "RANGE", "RESIZE_NEAREST_NEIGHBOR", "LEAKY_RELU", "SQUARED_DIFFERENCE", "MIRROR_PAD", "ABS",
    "SPLIT_V", "UNIQUE", "CEIL", "REVERSE_V2", "ADD_N", "GATHER_ND", "COS", "WHERE", "RANK", "ELU",
    "REVERSE_SEQUENCE", "MATRIX_DIAG", "QUANTIZE", "MATRIX_SET_DIAG", "ROUND", "HARD_SWISH", "IF",
    "WHILE", "NON_MAX_SUPPRESSION_V4", "NON_MAX_SUPPRESSION_V5", "SCATTER_ND", "SELECT_V2",
    "DENSIFY", "SEGMENT_SUM", "BATCH_MATMUL", "PLACEHOLDER_FOR_GREATER_OP_CODES", "CUMSUM",
    "CALL_ONCE", "BROADCAST_TO", "RFFT2D", "CONV_3D", "IMAG", "REAL", "COMPLEX_ABS", "HASHTABLE",
    "HASHTABLE_FIND", "HASHTABLE_IMPORT", "HASHTABLE_SIZE", "REDUCE_ALL", "CONV_3D_TRANSPOSE",
    "VAR_HANDLE", "READ_VARIABLE", "ASSIGN_VARIABLE", "BROADCAST_ARGS", "RANDOM_STANDARD_NORMAL",
    "BUCKETIZE", "RANDOM_UNIFORM", "MULTINOMIAL", "GELU", "DYNAMIC_UPDATE_SLICE", "RELU_0_TO_1",
    "UNSORTED_SEGMENT_PROD", "UNSORTED_SEGMENT_MAX", "UNSORTED_SEGMENT_SUM", "ATAN2",
    "UNSORTED_SEGMENT_MIN", "SIGN", "BITCAST", "BITWISE_XOR", "RIGHT_SHIFT", "STABLEHLO_LOGISTIC",
    "STABLEHLO_ADD", "STABLEHLO_DIVIDE", "STABLEHLO_MULTIPLY", "STABLEHLO_MAXIMUM",
    "STABLEHLO_RESHAPE", "STABLEHLO_CLAMP", "STABLEHLO_CONCATENATE", "STABLEHLO_BROADCAST_IN_DIM",
    "STABLEHLO_CONVOLUTION", "STABLEHLO_SLICE", "STABLEHLO_CUSTOM_CALL", "STABLEHLO_REDUCE",
    "STABLEHLO_ABS", "STABLEHLO_AND", "STABLEHLO_COSINE", "STABLEHLO_EXPONENTIAL",
    "STABLEHLO_FLOOR", "STABLEHLO_LOG", "STABLEHLO_MINIMUM", "STABLEHLO_NEGATE", "STABLEHLO_OR",
    "STABLEHLO_POWER", "STABLEHLO_REMAINDER", "STABLEHLO_RSQRT", "STABLEHLO_SELECT",
    "STABLEHLO_SUBTRACT", "STABLEHLO_TANH", "STABLEHLO_SCATTER", "STABLEHLO_COMPARE",
    "STABLEHLO_CONVERT", "STABLEHLO_DYNAMIC_SLICE", "STABLEHLO_DYNAMIC_UPDATE_SLICE",
    "STABLEHLO_PAD", "STABLEHLO_IOTA", "STABLEHLO_DOT_GENERAL", "STABLEHLO_REDUCE_WINDOW",
    "STABLEHLO_SORT", "STABLEHLO_WHILE", "STABLEHLO_GATHER", "STABLEHLO_TRANSPOSE", "DILATE",
    "STABLEHLO_RNG_BIT_GENERATOR", "REDUCE_WINDOW",
};
static_assert(std::size(kOpNames) == kBuiltinOpNameCount);
}  // namespace

std::string builtin_op_name(BuiltinOp op) {
  const auto code = static_cast<int32_t>(op);
  if (code >= 0 && code < kBuiltinOpNameCount) return kOpNames[code];
  return "BUILTIN_" + std::to_string(code);
}

std::optional<BuiltinOp> builtin_op_from_name(std::string_view name) {
  for (int32_t c = 0; c < kBuiltinOpNameCount; ++c)
    if (name == kOpNames[c]) return static_cast<BuiltinOp>(c);
  return std::nullopt;
}

const char* padding_name(Padding p) {
  switch (p) {
    case Padding::kSame: return "SAME";
    case Padding::kValid: return "VALID";
  }
  return "UNKNOWN_PADDING";
}

const char* activation_name(Activation a) { return activation_label(a); }

int64_t tensor_numel(const TensorDef& t) {
  int64_t n = 1;
  for (int32_t d : t.shape) {
    check(d >= 0, "tflite: tensor '" + t.name + "' has negative dimension " + std::to_string(d));
    if (d != 0 && n > kMaxTensorElements / d)
      throw Error("tflite: tensor '" + t.name + "' shape " + dims_str(t.shape) +
                  " has more than 2^40 elements");
    n *= d;
  }
  return n;
}

BuiltinOp ModelDef::op_of(const OperatorDef& op) const {
  check(op.opcode_index < operator_codes.size(),
        "tflite: opcode index " + std::to_string(op.opcode_index) + " out of range");
  return operator_codes[op.opcode_index].builtin;
}

std::span<const uint8_t> ModelDef::data_of(const TensorDef& t) const {
  check(t.buffer < buffers.size(), "tflite: tensor '" + t.name + "' buffer " +
                                       std::to_string(t.buffer) + " out of range");
  return buffers[t.buffer];
}

std::span<const uint8_t> ModelDef::metadata_bytes(const std::string& name) const {
  for (const MetadataDef& m : metadata)
    if (m.name == name && m.buffer < buffers.size()) return buffers[m.buffer];
  return {};
}

std::string dims_str(std::span<const int32_t> dims) {
  std::string s = "[";
  for (size_t i = 0; i < dims.size(); ++i) s += (i ? ", " : "") + std::to_string(dims[i]);
  return s + "]";
}

namespace {
bool same_bits(const std::vector<float>& a, const std::vector<float>& b) {
  return a.size() == b.size() && (a.empty() || std::memcmp(a.data(), b.data(), a.size() * sizeof(float)) == 0);
}
}  // namespace

bool Quantization::operator==(const Quantization& o) const {
  return same_bits(scale, o.scale) && zero_point == o.zero_point && quantized_dimension == o.quantized_dimension &&
         same_bits(min, o.min) && same_bits(max, o.max);
}

}  // namespace qlite::lite
