// Names, sizes and small helpers of the lite model structs.
#include <cstring>
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

std::string builtin_op_name(BuiltinOp op) {
  switch (op) {
    case BuiltinOp::kAdd: return "ADD";
    case BuiltinOp::kAveragePool2D: return "AVERAGE_POOL_2D";
    case BuiltinOp::kConcatenation: return "CONCATENATION";
    case BuiltinOp::kConv2D: return "CONV_2D";
    case BuiltinOp::kDepthwiseConv2D: return "DEPTHWISE_CONV_2D";
    case BuiltinOp::kDequantize: return "DEQUANTIZE";
    case BuiltinOp::kFullyConnected: return "FULLY_CONNECTED";
    case BuiltinOp::kLogistic: return "LOGISTIC";
    case BuiltinOp::kMaxPool2D: return "MAX_POOL_2D";
    case BuiltinOp::kMul: return "MUL";
    case BuiltinOp::kRelu: return "RELU";
    case BuiltinOp::kRelu6: return "RELU6";
    case BuiltinOp::kReshape: return "RESHAPE";
    case BuiltinOp::kSoftmax: return "SOFTMAX";
    case BuiltinOp::kTanh: return "TANH";
    case BuiltinOp::kCustom: return "CUSTOM";
    case BuiltinOp::kPad: return "PAD";
    case BuiltinOp::kTranspose: return "TRANSPOSE";
    case BuiltinOp::kMean: return "MEAN";
    case BuiltinOp::kSub: return "SUB";
    case BuiltinOp::kSqueeze: return "SQUEEZE";
    case BuiltinOp::kPadV2: return "PADV2";
    case BuiltinOp::kQuantize: return "QUANTIZE";
    case BuiltinOp::kHardSwish: return "HARD_SWISH";
  }
  return "BUILTIN_" + std::to_string(static_cast<int32_t>(op));
}

const char* padding_name(Padding p) {
  switch (p) {
    case Padding::kSame: return "SAME";
    case Padding::kValid: return "VALID";
  }
  return "UNKNOWN_PADDING";
}

const char* activation_name(Activation a) {
  switch (a) {
    case Activation::kLinear: return "NONE";
    case Activation::kRelu: return "RELU";
    case Activation::kReluN1To1: return "RELU_N1_TO_1";
    case Activation::kRelu6: return "RELU6";
    case Activation::kTanh: return "TANH";
    case Activation::kSignBit: return "SIGN_BIT";
  }
  return "UNKNOWN_ACTIVATION";
}

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
