// The format tables of src/lite/op_format.h: one OptionsRule per OpOptions
// alternative, one OpFormat per builtin op whose operands qlite checks.
#include "lite/op_format.h"

#include <cmath>
#include <cstdio>

#include "lite/util.h"
#include "qlite_tflite_generated.h"

namespace qlite::lite {
namespace {

bool valid_activation(Activation a) { return static_cast<int>(a) >= 0 && static_cast<int>(a) <= 5; }
bool valid_padding(Padding p) { return p == Padding::kSame || p == Padding::kValid; }

void check_positive(int32_t v, const char* what, const std::string& where) {
  check(v >= 1, "tflite: " + where + ": " + what + " = " + std::to_string(v) + " must be >= 1");
}
void check_padding(Padding p, const std::string& where) {
  check(valid_padding(p), "tflite: " + where + ": unknown padding " + std::to_string(static_cast<int>(p)));
}
void check_activation(Activation a, const std::string& where) {
  check(valid_activation(a),
        "tflite: " + where + ": unknown fused activation " + std::to_string(static_cast<int>(a)));
}

std::string act_str(Activation a) { return std::string("activation=") + activation_name(a); }

// ---- one check / describe pair per options struct
template <class T>
const T& as(const OpOptions& o) {
  return std::get<T>(o);
}
template <class T>
const T& as_op(const OperatorDef& op) {
  return std::get<T>(op.options);
}

void check_conv(const SubGraphDef&, const OperatorDef& op, const std::string& where) {
  const auto& o = as_op<Conv2DOptions>(op);
  check_padding(o.padding, where), check_activation(o.activation, where);
  check_positive(o.stride_w, "stride_w", where), check_positive(o.stride_h, "stride_h", where);
  check_positive(o.dilation_w, "dilation_w", where), check_positive(o.dilation_h, "dilation_h", where);
}
std::string describe_conv(const OpOptions& v) {
  const auto& o = as<Conv2DOptions>(v);
  return std::string("padding=") + padding_name(o.padding) + " stride=" + std::to_string(o.stride_h) + "x" +
         std::to_string(o.stride_w) + " dilation=" + std::to_string(o.dilation_h) + "x" +
         std::to_string(o.dilation_w) + " " + act_str(o.activation);
}

void check_depthwise(const SubGraphDef&, const OperatorDef& op, const std::string& where) {
  const auto& o = as_op<DepthwiseConv2DOptions>(op);
  check_padding(o.padding, where), check_activation(o.activation, where);
  check_positive(o.stride_w, "stride_w", where), check_positive(o.stride_h, "stride_h", where);
  check_positive(o.dilation_w, "dilation_w", where), check_positive(o.dilation_h, "dilation_h", where);
  check(o.depth_multiplier >= 0, "tflite: " + where + ": negative depth_multiplier");
}
std::string describe_depthwise(const OpOptions& v) {
  const auto& o = as<DepthwiseConv2DOptions>(v);
  return std::string("padding=") + padding_name(o.padding) + " stride=" + std::to_string(o.stride_h) + "x" +
         std::to_string(o.stride_w) + " dilation=" + std::to_string(o.dilation_h) + "x" +
         std::to_string(o.dilation_w) + " depth_multiplier=" + std::to_string(o.depth_multiplier) + " " +
         act_str(o.activation);
}

void check_pool(const SubGraphDef&, const OperatorDef& op, const std::string& where) {
  const auto& o = as_op<Pool2DOptions>(op);
  check_padding(o.padding, where), check_activation(o.activation, where);
  check_positive(o.stride_w, "stride_w", where), check_positive(o.stride_h, "stride_h", where);
  check_positive(o.filter_w, "filter_width", where), check_positive(o.filter_h, "filter_height", where);
}
std::string describe_pool(const OpOptions& v) {
  const auto& o = as<Pool2DOptions>(v);
  return std::string("padding=") + padding_name(o.padding) + " filter=" + std::to_string(o.filter_h) + "x" +
         std::to_string(o.filter_w) + " stride=" + std::to_string(o.stride_h) + "x" + std::to_string(o.stride_w) +
         " " + act_str(o.activation);
}

void check_fc(const SubGraphDef&, const OperatorDef& op, const std::string& where) {
  check_activation(as_op<FullyConnectedOptions>(op).activation, where);
}
std::string describe_fc(const OpOptions& v) {
  const auto& o = as<FullyConnectedOptions>(v);
  return act_str(o.activation) + (o.keep_num_dims ? " keep_num_dims" : "") +
         (o.asymmetric_quantize_inputs ? " asymmetric_quantize_inputs" : "");
}

// ADD, MUL, SUB: a fused activation only.
template <class T>
void check_activation_only(const SubGraphDef&, const OperatorDef& op, const std::string& where) {
  check_activation(as_op<T>(op).activation, where);
}
template <class T>
std::string describe_activation_only(const OpOptions& v) {
  return act_str(as<T>(v).activation);
}

void check_concat(const SubGraphDef& g, const OperatorDef& op, const std::string& where) {
  const auto& o = as_op<ConcatenationOptions>(op);
  check_activation(o.activation, where);
  if (!op.outputs.empty()) {
    const size_t out = static_cast<size_t>(op.outputs[0]);
    const auto rank = static_cast<int32_t>(g.tensors[out].shape.size());
    check(o.axis >= -rank && o.axis < rank, "tflite: " + where + ": axis " + std::to_string(o.axis) +
                                                " outside rank " + std::to_string(rank));
  }
}
std::string describe_concat(const OpOptions& v) {
  const auto& o = as<ConcatenationOptions>(v);
  return "axis=" + std::to_string(o.axis) + " " + act_str(o.activation);
}

void check_reshape(const SubGraphDef&, const OperatorDef& op, const std::string& where) {
  const auto& o = as_op<ReshapeOptions>(op);
  int unknown = 0;
  for (int32_t d : o.new_shape) {
    check(d >= -1, "tflite: " + where + ": new_shape " + dims_str(o.new_shape) + " has a dimension below -1");
    unknown += d == -1;
  }
  check(unknown <= 1, "tflite: " + where + ": new_shape " + dims_str(o.new_shape) + " has more than one -1");
}
std::string describe_reshape(const OpOptions& v) { return "new_shape=" + dims_str(as<ReshapeOptions>(v).new_shape); }

void check_softmax(const SubGraphDef&, const OperatorDef& op, const std::string& where) {
  check(std::isfinite(as_op<SoftmaxOptions>(op).beta), "tflite: " + where + ": beta is not finite");
}
std::string describe_softmax(const OpOptions& v) { return "beta=" + format_number(as<SoftmaxOptions>(v).beta); }

std::string describe_reducer(const OpOptions& v) {
  return std::string("keep_dims=") + (as<ReducerOptions>(v).keep_dims ? "true" : "false");
}
std::string describe_squeeze(const OpOptions& v) {
  return "squeeze_dims=" + dims_str(as<SqueezeOptions>(v).squeeze_dims);
}
std::string describe_other(const OpOptions& v) {
  const int32_t code = as<OtherOptions>(v).type_code;
  const char* name = tfl::EnumNameBuiltinOptions(static_cast<tfl::BuiltinOptions>(code));
  if (name != nullptr && *name != '\0') return std::string(name) + " (not parsed)";
  return "options(union type " + std::to_string(code) + ", not parsed)";
}

void check_lstm(const SubGraphDef&, const OperatorDef& op, const std::string& where) {
  const auto& o = as_op<UnidirectionalSequenceLstmOptions>(op);
  check_activation(o.activation, where);
  check(std::isfinite(o.cell_clip) && o.cell_clip >= 0 && std::isfinite(o.proj_clip) && o.proj_clip >= 0,
        "tflite: " + where + ": cell_clip and proj_clip must be finite and >= 0");
}
std::string describe_lstm(const OpOptions& v) {
  const auto& o = as<UnidirectionalSequenceLstmOptions>(v);
  return act_str(o.activation) + " cell_clip=" + format_number(o.cell_clip) + " proj_clip=" +
         format_number(o.proj_clip) + " time_major=" + (o.time_major ? "true" : "false") +
         (o.asymmetric_quantize_inputs ? " asymmetric_quantize_inputs=true" : "");
}

// ---- the data-movement, shape and resize ops
std::string bool_str(bool b) { return b ? "true" : "false"; }
void check_type_field(TensorType t, const char* what, const std::string& where) {
  check(static_cast<int>(t) >= 0 && static_cast<int>(t) <= 10,
        "tflite: " + where + ": " + what + " " + std::to_string(static_cast<int>(t)) + " is no tensor type");
}
template <class T>
std::string describe_resize(const OpOptions& v) {
  const auto& o = as<T>(v);
  return "align_corners=" + bool_str(o.align_corners) + " half_pixel_centers=" + bool_str(o.half_pixel_centers);
}
void check_cast(const SubGraphDef&, const OperatorDef& op, const std::string& where) {
  const auto& o = as_op<CastOptions>(op);
  check_type_field(o.in_type, "in_data_type", where), check_type_field(o.out_type, "out_data_type", where);
}
std::string describe_cast(const OpOptions& v) {
  const auto& o = as<CastOptions>(v);
  return std::string("in_data_type=") + tensor_type_name(o.in_type) + " out_data_type=" + tensor_type_name(o.out_type);
}
std::string describe_gather(const OpOptions& v) {
  const auto& o = as<GatherOptions>(v);
  return "axis=" + std::to_string(o.axis) + " batch_dims=" + std::to_string(o.batch_dims);
}
std::string describe_strided_slice(const OpOptions& v) {
  const auto& o = as<StridedSliceOptions>(v);
  return "begin_mask=" + std::to_string(o.begin_mask) + " end_mask=" + std::to_string(o.end_mask) +
         " ellipsis_mask=" + std::to_string(o.ellipsis_mask) + " new_axis_mask=" + std::to_string(o.new_axis_mask) +
         " shrink_axis_mask=" + std::to_string(o.shrink_axis_mask);
}
template <class T>
std::string describe_num_splits(const OpOptions& v) {
  return "num_splits=" + std::to_string(as<T>(v).num_splits);
}
std::string describe_pack(const OpOptions& v) {
  const auto& o = as<PackOptions>(v);
  return "values_count=" + std::to_string(o.values_count) + " axis=" + std::to_string(o.axis);
}
std::string describe_unpack(const OpOptions& v) {
  const auto& o = as<UnpackOptions>(v);
  return "num=" + std::to_string(o.num) + " axis=" + std::to_string(o.axis);
}
template <class T>
std::string describe_block(const OpOptions& v) {
  return "block_size=" + std::to_string(as<T>(v).block_size);
}
void check_mirror_pad(const SubGraphDef&, const OperatorDef& op, const std::string& where) {
  const auto m = static_cast<int>(as_op<MirrorPadOptions>(op).mode);
  check(m == 0 || m == 1, "tflite: " + where + ": unknown mirror pad mode " + std::to_string(m));
}
std::string describe_mirror_pad(const OpOptions& v) {
  return std::string("mode=") + (as<MirrorPadOptions>(v).mode == MirrorPadMode::kReflect ? "REFLECT" : "SYMMETRIC");
}
void check_shape(const SubGraphDef&, const OperatorDef& op, const std::string& where) {
  check_type_field(as_op<ShapeOptions>(op).out_type, "out_type", where);
}
std::string describe_shape(const OpOptions& v) {
  return std::string("out_type=") + tensor_type_name(as<ShapeOptions>(v).out_type);
}
template <class T>
void check_arg(const SubGraphDef&, const OperatorDef& op, const std::string& where) {
  check_type_field(as_op<T>(op).output_type, "output_type", where);
}
template <class T>
std::string describe_arg(const OpOptions& v) {
  return std::string("output_type=") + tensor_type_name(as<T>(v).output_type);
}

void check_leaky_relu(const SubGraphDef&, const OperatorDef& op, const std::string& where) {
  check(std::isfinite(as_op<LeakyReluOptions>(op).alpha), "tflite: " + where + ": alpha is not finite");
}
std::string describe_leaky_relu(const OpOptions& v) { return "alpha=" + format_number(as<LeakyReluOptions>(v).alpha); }

std::string describe_cumsum(const OpOptions& v) {
  const auto& o = as<CumsumOptions>(v);
  return std::string("exclusive=") + (o.exclusive ? "true" : "false") + " reverse=" + (o.reverse ? "true" : "false");
}
std::string describe_gelu(const OpOptions& v) {
  return std::string("approximate=") + (as<GeluOptions>(v).approximate ? "true" : "false");
}

void check_transpose_conv(const SubGraphDef&, const OperatorDef& op, const std::string& where) {
  const auto& o = as_op<TransposeConvOptions>(op);
  check_padding(o.padding, where);
  check_positive(o.stride_w, "stride_w", where), check_positive(o.stride_h, "stride_h", where);
}
std::string describe_transpose_conv(const OpOptions& v) {
  const auto& o = as<TransposeConvOptions>(v);
  return std::string("padding=") + padding_name(o.padding) + " stride=" + std::to_string(o.stride_h) + "x" +
         std::to_string(o.stride_w);
}
std::string describe_batch_matmul(const OpOptions& v) {
  const auto& o = as<BatchMatMulOptions>(v);
  return std::string("adj_x=") + (o.adj_x ? "true" : "false") + " adj_y=" + (o.adj_y ? "true" : "false") +
         (o.asymmetric_quantize_inputs ? " asymmetric_quantize_inputs" : "");
}

void check_svdf(const SubGraphDef&, const OperatorDef& op, const std::string& where) {
  const auto& o = as_op<SvdfOptions>(op);
  check_activation(o.activation, where);
  check(o.rank >= 1, "tflite: " + where + ": rank " + std::to_string(o.rank) + " must be at least 1");
}
std::string describe_svdf(const OpOptions& v) {
  const auto& o = as<SvdfOptions>(v);
  return "rank=" + std::to_string(o.rank) + " " + act_str(o.activation) +
         (o.asymmetric_quantize_inputs ? " asymmetric_quantize_inputs" : "");
}

std::string describe_var_handle(const OpOptions& v) {
  const auto& o = as<VarHandleOptions>(v);
  return "container='" + o.container + "' shared_name='" + o.shared_name + "'";
}
void check_call_once(const SubGraphDef&, const OperatorDef& op, const std::string& where) {
  const int32_t k = as_op<CallOnceOptions>(op).init_subgraph_index;
  check(k >= 0, "tflite: " + where + ": init_subgraph_index " + std::to_string(k) + " is negative");
}
std::string describe_call_once(const OpOptions& v) {
  return "init_subgraph_index=" + std::to_string(as<CallOnceOptions>(v).init_subgraph_index);
}
// IF / WHILE: subgraph indices are checked against the model by the runtime.
void check_subgraph_index(int32_t k, const char* field, const std::string& where) {
  check(k >= 0, "tflite: " + where + ": " + field + " " + std::to_string(k) + " is negative");
}
void check_if(const SubGraphDef&, const OperatorDef& op, const std::string& where) {
  const auto& o = as_op<IfOptions>(op);
  check_subgraph_index(o.then_subgraph_index, "then_subgraph_index", where);
  check_subgraph_index(o.else_subgraph_index, "else_subgraph_index", where);
}
std::string describe_if(const OpOptions& v) {
  const auto& o = as<IfOptions>(v);
  return "then_subgraph_index=" + std::to_string(o.then_subgraph_index) +
         " else_subgraph_index=" + std::to_string(o.else_subgraph_index);
}
void check_while(const SubGraphDef&, const OperatorDef& op, const std::string& where) {
  const auto& o = as_op<WhileOptions>(op);
  check_subgraph_index(o.cond_subgraph_index, "cond_subgraph_index", where);
  check_subgraph_index(o.body_subgraph_index, "body_subgraph_index", where);
}
std::string describe_while(const OpOptions& v) {
  const auto& o = as<WhileOptions>(v);
  return "cond_subgraph_index=" + std::to_string(o.cond_subgraph_index) +
         " body_subgraph_index=" + std::to_string(o.body_subgraph_index);
}

template <class T>
constexpr OptionsRule rule(std::string_view name, decltype(OptionsRule::check) c,
                           decltype(OptionsRule::describe) d) {
  return {name, options_index_of<T>(), c, d};
}

// In OpOptions order (checked below).
constexpr OptionsRule kOptionsRules[] = {
    rule<std::monostate>("", nullptr, nullptr),
    rule<Conv2DOptions>("Conv2DOptions", check_conv, describe_conv),
    rule<DepthwiseConv2DOptions>("DepthwiseConv2DOptions", check_depthwise, describe_depthwise),
    rule<FullyConnectedOptions>("FullyConnectedOptions", check_fc, describe_fc),
    rule<Pool2DOptions>("Pool2DOptions", check_pool, describe_pool),
    rule<ReshapeOptions>("ReshapeOptions", check_reshape, describe_reshape),
    rule<SoftmaxOptions>("SoftmaxOptions", check_softmax, describe_softmax),
    rule<AddOptions>("AddOptions", check_activation_only<AddOptions>, describe_activation_only<AddOptions>),
    rule<MulOptions>("MulOptions", check_activation_only<MulOptions>, describe_activation_only<MulOptions>),
    rule<SubOptions>("SubOptions", check_activation_only<SubOptions>, describe_activation_only<SubOptions>),
    rule<ConcatenationOptions>("ConcatenationOptions", check_concat, describe_concat),
    rule<ReducerOptions>("ReducerOptions", nullptr, describe_reducer),
    rule<SqueezeOptions>("SqueezeOptions", nullptr, describe_squeeze),
    rule<PadOptions>("PadOptions", nullptr, nullptr),
    rule<QuantizeOptions>("QuantizeOptions", nullptr, nullptr),
    rule<DequantizeOptions>("DequantizeOptions", nullptr, nullptr),
    rule<PadV2Options>("PadV2Options", nullptr, nullptr),
    rule<TransposeOptions>("TransposeOptions", nullptr, nullptr),
    rule<HardSwishOptions>("HardSwishOptions", nullptr, nullptr),
    rule<UnidirectionalSequenceLstmOptions>("UnidirectionalSequenceLSTMOptions", check_lstm, describe_lstm),
    rule<LeakyReluOptions>("LeakyReluOptions", check_leaky_relu, describe_leaky_relu),
    rule<DivOptions>("DivOptions", check_activation_only<DivOptions>, describe_activation_only<DivOptions>),
#define QLITE_EMPTY_RULE(N) rule<N>(#N, nullptr, nullptr),
    QLITE_LITE_EMPTY_MATH_OPTIONS(QLITE_EMPTY_RULE)
#undef QLITE_EMPTY_RULE
    rule<L2NormOptions>("L2NormOptions", check_activation_only<L2NormOptions>, describe_activation_only<L2NormOptions>),
    rule<CumsumOptions>("CumsumOptions", nullptr, describe_cumsum),
    rule<GeluOptions>("GeluOptions", nullptr, describe_gelu),
    rule<OtherOptions>("", nullptr, describe_other),
    rule<ResizeBilinearOptions>("ResizeBilinearOptions", nullptr, describe_resize<ResizeBilinearOptions>),
    rule<ResizeNearestNeighborOptions>("ResizeNearestNeighborOptions", nullptr,
                                       describe_resize<ResizeNearestNeighborOptions>),
    rule<CastOptions>("CastOptions", check_cast, describe_cast),
    rule<GatherOptions>("GatherOptions", nullptr, describe_gather),
    rule<GatherNdOptions>("GatherNdOptions", nullptr, nullptr),
    rule<ExpandDimsOptions>("ExpandDimsOptions", nullptr, nullptr),
    rule<SliceOptions>("SliceOptions", nullptr, nullptr),
    rule<StridedSliceOptions>("StridedSliceOptions", nullptr, describe_strided_slice),
    rule<SplitOptions>("SplitOptions", nullptr, describe_num_splits<SplitOptions>),
    rule<SplitVOptions>("SplitVOptions", nullptr, describe_num_splits<SplitVOptions>),
    rule<PackOptions>("PackOptions", nullptr, describe_pack),
    rule<UnpackOptions>("UnpackOptions", nullptr, describe_unpack),
    rule<TileOptions>("TileOptions", nullptr, nullptr),
    rule<BroadcastToOptions>("BroadcastToOptions", nullptr, nullptr),
    rule<ReverseV2Options>("ReverseV2Options", nullptr, nullptr),
    rule<DepthToSpaceOptions>("DepthToSpaceOptions", nullptr, describe_block<DepthToSpaceOptions>),
    rule<SpaceToDepthOptions>("SpaceToDepthOptions", nullptr, describe_block<SpaceToDepthOptions>),
    rule<BatchToSpaceNdOptions>("BatchToSpaceNDOptions", nullptr, nullptr),
    rule<SpaceToBatchNdOptions>("SpaceToBatchNDOptions", nullptr, nullptr),
    rule<MirrorPadOptions>("MirrorPadOptions", check_mirror_pad, describe_mirror_pad),
    rule<ShapeOptions>("ShapeOptions", check_shape, describe_shape),
    rule<FillOptions>("FillOptions", nullptr, nullptr),
    rule<ZerosLikeOptions>("ZerosLikeOptions", nullptr, nullptr),
    rule<ArgMaxOptions>("ArgMaxOptions", check_arg<ArgMaxOptions>, describe_arg<ArgMaxOptions>),
    rule<ArgMinOptions>("ArgMinOptions", check_arg<ArgMinOptions>, describe_arg<ArgMinOptions>),
    rule<TopKV2Options>("TopKV2Options", nullptr, nullptr),
    rule<TransposeConvOptions>("TransposeConvOptions", check_transpose_conv, describe_transpose_conv),
    rule<BatchMatMulOptions>("BatchMatMulOptions", nullptr, describe_batch_matmul),
    rule<SvdfOptions>("SVDFOptions", check_svdf, describe_svdf),
    rule<VarHandleOptions>("VarHandleOptions", nullptr, describe_var_handle),
    rule<CallOnceOptions>("CallOnceOptions", check_call_once, describe_call_once),
    rule<IfOptions>("IfOptions", check_if, describe_if),
    rule<WhileOptions>("WhileOptions", check_while, describe_while),
};
static_assert(std::size(kOptionsRules) == std::variant_size_v<OpOptions>, "one rule per OpOptions alternative");
constexpr bool rules_in_order() {
  for (size_t i = 0; i < std::size(kOptionsRules); ++i)
    if (kOptionsRules[i].index != static_cast<int>(i)) return false;
  return true;
}
static_assert(rules_in_order(), "kOptionsRules must follow the OpOptions order");

template <class T>
constexpr int opt() {
  return options_index_of<T>();
}

constexpr OpFormat kFormats[] = {
    {BuiltinOp::kAdd, 2, 2, 2, 1, opt<AddOptions>(), false},
    {BuiltinOp::kAveragePool2D, 1, 1, 1, 1, opt<Pool2DOptions>(), true},
    {BuiltinOp::kConcatenation, 1, kAnyInputs, kAnyInputs, 1, opt<ConcatenationOptions>(), true},
    {BuiltinOp::kConv2D, 2, 3, 2, 1, opt<Conv2DOptions>(), true},
    {BuiltinOp::kDepthwiseConv2D, 2, 3, 2, 1, opt<DepthwiseConv2DOptions>(), true},
    {BuiltinOp::kDequantize, 1, 1, 1, 1, opt<DequantizeOptions>(), false},
    {BuiltinOp::kFullyConnected, 2, 3, 2, 1, opt<FullyConnectedOptions>(), false},
    {BuiltinOp::kLogistic, 1, 1, 1, 1, kNoOptions, false},
    {BuiltinOp::kMaxPool2D, 1, 1, 1, 1, opt<Pool2DOptions>(), true},
    {BuiltinOp::kMul, 2, 2, 2, 1, opt<MulOptions>(), false},
    {BuiltinOp::kRelu, 1, 1, 1, 1, kNoOptions, false},
    {BuiltinOp::kRelu6, 1, 1, 1, 1, kNoOptions, false},
    {BuiltinOp::kReshape, 1, 2, 1, 1, opt<ReshapeOptions>(), false},
    {BuiltinOp::kSoftmax, 1, 1, 1, 1, opt<SoftmaxOptions>(), false},
    {BuiltinOp::kTanh, 1, 1, 1, 1, kNoOptions, false},
    {BuiltinOp::kPad, 2, 2, 2, 1, opt<PadOptions>(), false},
    // PADV2: input, paddings and the optional constant_values (absent or -1:
    // pad with real 0, as PAD does).
    {BuiltinOp::kPadV2, 2, 3, 2, 1, opt<PadV2Options>(), false},
    {BuiltinOp::kTranspose, 2, 2, 2, 1, opt<TransposeOptions>(), false},
    {BuiltinOp::kHardSwish, 1, 1, 1, 1, opt<HardSwishOptions>(), false},
    {BuiltinOp::kMean, 2, 2, 2, 1, opt<ReducerOptions>(), false},
    {BuiltinOp::kSub, 2, 2, 2, 1, opt<SubOptions>(), false},
    {BuiltinOp::kSqueeze, 1, 1, 1, 1, opt<SqueezeOptions>(), false},
    {BuiltinOp::kQuantize, 1, 1, 1, 1, opt<QuantizeOptions>(), false},
    // 24 inputs (TFLite's lstm_shared.h order), 20 in files from before
    // layer normalization; input 0 and the two state tensors (18, 19) required
    // by the kernel, which checks the rest.
    {BuiltinOp::kUnidirectionalSequenceLstm, 20, 24, 1, 1, opt<UnidirectionalSequenceLstmOptions>(), true},
    // Data-movement, shape and resize ops. SPLIT, SPLIT_V and UNPACK have
    // one or more outputs (kAnyOutputs; the op checks the count).
    {BuiltinOp::kResizeBilinear, 2, 2, 2, 1, opt<ResizeBilinearOptions>(), false},
    {BuiltinOp::kResizeNearestNeighbor, 2, 2, 2, 1, opt<ResizeNearestNeighborOptions>(), false},
    {BuiltinOp::kCast, 1, 1, 1, 1, opt<CastOptions>(), false},
    {BuiltinOp::kGather, 2, 2, 2, 1, opt<GatherOptions>(), false},
    {BuiltinOp::kGatherNd, 2, 2, 2, 1, opt<GatherNdOptions>(), false},
    {BuiltinOp::kExpandDims, 2, 2, 2, 1, opt<ExpandDimsOptions>(), false},
    {BuiltinOp::kSlice, 3, 3, 3, 1, opt<SliceOptions>(), false},
    {BuiltinOp::kStridedSlice, 4, 4, 4, 1, opt<StridedSliceOptions>(), false},
    {BuiltinOp::kSplit, 2, 2, 2, kAnyOutputs, opt<SplitOptions>(), false},
    {BuiltinOp::kSplitV, 3, 3, 3, kAnyOutputs, opt<SplitVOptions>(), false},
    {BuiltinOp::kPack, 1, kAnyInputs, kAnyInputs, 1, opt<PackOptions>(), false},
    {BuiltinOp::kUnpack, 1, 1, 1, kAnyOutputs, opt<UnpackOptions>(), false},
    {BuiltinOp::kTile, 2, 2, 2, 1, opt<TileOptions>(), false},
    {BuiltinOp::kBroadcastTo, 2, 2, 2, 1, opt<BroadcastToOptions>(), false},
    {BuiltinOp::kReverseV2, 2, 2, 2, 1, opt<ReverseV2Options>(), false},
    {BuiltinOp::kDepthToSpace, 1, 1, 1, 1, opt<DepthToSpaceOptions>(), false},
    {BuiltinOp::kSpaceToDepth, 1, 1, 1, 1, opt<SpaceToDepthOptions>(), false},
    {BuiltinOp::kBatchToSpaceNd, 3, 3, 3, 1, opt<BatchToSpaceNdOptions>(), false},
    {BuiltinOp::kSpaceToBatchNd, 3, 3, 3, 1, opt<SpaceToBatchNdOptions>(), false},
    {BuiltinOp::kMirrorPad, 2, 2, 2, 1, opt<MirrorPadOptions>(), false},
    {BuiltinOp::kShape, 1, 1, 1, 1, opt<ShapeOptions>(), false},
    {BuiltinOp::kFill, 2, 2, 2, 1, opt<FillOptions>(), false},
    {BuiltinOp::kZerosLike, 1, 1, 1, 1, opt<ZerosLikeOptions>(), false},
    {BuiltinOp::kBroadcastArgs, 2, 2, 2, 1, kNoOptions, false},
    {BuiltinOp::kArgMax, 2, 2, 2, 1, opt<ArgMaxOptions>(), false},
    {BuiltinOp::kArgMin, 2, 2, 2, 1, opt<ArgMinOptions>(), false},
    {BuiltinOp::kTopkV2, 2, 2, 2, 2, opt<TopKV2Options>(), false},
    // The elementwise math, comparison, logical, select and reduction ops.
    {BuiltinOp::kMaximum, 2, 2, 2, 1, opt<MaximumMinimumOptions>(), false},
    {BuiltinOp::kMinimum, 2, 2, 2, 1, opt<MaximumMinimumOptions>(), false},
    {BuiltinOp::kSquaredDifference, 2, 2, 2, 1, opt<SquaredDifferenceOptions>(), false},
    {BuiltinOp::kDiv, 2, 2, 2, 1, opt<DivOptions>(), false},
    {BuiltinOp::kPow, 2, 2, 2, 1, opt<PowOptions>(), false},
    {BuiltinOp::kFloorDiv, 2, 2, 2, 1, opt<FloorDivOptions>(), false},
    {BuiltinOp::kFloorMod, 2, 2, 2, 1, opt<FloorModOptions>(), false},
    {BuiltinOp::kEqual, 2, 2, 2, 1, opt<EqualOptions>(), false},
    {BuiltinOp::kNotEqual, 2, 2, 2, 1, opt<NotEqualOptions>(), false},
    {BuiltinOp::kGreater, 2, 2, 2, 1, opt<GreaterOptions>(), false},
    {BuiltinOp::kGreaterEqual, 2, 2, 2, 1, opt<GreaterEqualOptions>(), false},
    {BuiltinOp::kLess, 2, 2, 2, 1, opt<LessOptions>(), false},
    {BuiltinOp::kLessEqual, 2, 2, 2, 1, opt<LessEqualOptions>(), false},
    {BuiltinOp::kLogicalAnd, 2, 2, 2, 1, opt<LogicalAndOptions>(), false},
    {BuiltinOp::kLogicalOr, 2, 2, 2, 1, opt<LogicalOrOptions>(), false},
    {BuiltinOp::kPrelu, 2, 2, 2, 1, kNoOptions, false},
    {BuiltinOp::kReluN1To1, 1, 1, 1, 1, kNoOptions, false},
    {BuiltinOp::kRelu0To1, 1, 1, 1, 1, kNoOptions, false},
    {BuiltinOp::kLog, 1, 1, 1, 1, kNoOptions, false},
    {BuiltinOp::kSqrt, 1, 1, 1, 1, kNoOptions, false},
    {BuiltinOp::kRsqrt, 1, 1, 1, 1, kNoOptions, false},
    {BuiltinOp::kSin, 1, 1, 1, 1, kNoOptions, false},
    {BuiltinOp::kCeil, 1, 1, 1, 1, kNoOptions, false},
    {BuiltinOp::kFloor, 1, 1, 1, 1, kNoOptions, false},
    {BuiltinOp::kRound, 1, 1, 1, 1, kNoOptions, false},
    {BuiltinOp::kElu, 1, 1, 1, 1, kNoOptions, false},
    {BuiltinOp::kLeakyRelu, 1, 1, 1, 1, opt<LeakyReluOptions>(), false},
    {BuiltinOp::kAbs, 1, 1, 1, 1, opt<AbsOptions>(), false},
    {BuiltinOp::kNeg, 1, 1, 1, 1, opt<NegOptions>(), false},
    {BuiltinOp::kExp, 1, 1, 1, 1, opt<ExpOptions>(), false},
    {BuiltinOp::kSquare, 1, 1, 1, 1, opt<SquareOptions>(), false},
    {BuiltinOp::kCos, 1, 1, 1, 1, opt<CosOptions>(), false},
    {BuiltinOp::kLogicalNot, 1, 1, 1, 1, opt<LogicalNotOptions>(), false},
    {BuiltinOp::kSelect, 3, 3, 3, 1, opt<SelectOptions>(), false},
    {BuiltinOp::kSelectV2, 3, 3, 3, 1, opt<SelectV2Options>(), false},
    {BuiltinOp::kSum, 2, 2, 2, 1, opt<ReducerOptions>(), false},
    {BuiltinOp::kReduceMax, 2, 2, 2, 1, opt<ReducerOptions>(), false},
    {BuiltinOp::kReduceMin, 2, 2, 2, 1, opt<ReducerOptions>(), false},
    {BuiltinOp::kReduceProd, 2, 2, 2, 1, opt<ReducerOptions>(), false},
    {BuiltinOp::kAddN, 1, kAnyInputs, kAnyInputs, 1, opt<AddNOptions>(), false},
    {BuiltinOp::kCumsum, 2, 2, 2, 1, opt<CumsumOptions>(), false},
    {BuiltinOp::kLogSoftmax, 1, 1, 1, 1, opt<LogSoftmaxOptions>(), false},
    {BuiltinOp::kL2Normalization, 1, 1, 1, 1, opt<L2NormOptions>(), false},
    {BuiltinOp::kGelu, 1, 1, 1, 1, opt<GeluOptions>(), false},
    {BuiltinOp::kL2Pool2D, 1, 1, 1, 1, opt<Pool2DOptions>(), true},
    // output_shape, weights, input and the optional bias (absent or -1).
    {BuiltinOp::kTransposeConv, 3, 4, 3, 1, opt<TransposeConvOptions>(), true},
    {BuiltinOp::kBatchMatmul, 2, 2, 2, 1, opt<BatchMatMulOptions>(), false},
    // input, weights_feature, weights_time, bias (may be -1), state (a variable tensor)
    {BuiltinOp::kSvdf, 5, 5, 3, 1, opt<SvdfOptions>(), true},
    // Resource variables: a handle (RESOURCE, or an INT32 id), then the value.
    {BuiltinOp::kVarHandle, 0, 0, 0, 1, opt<VarHandleOptions>(), false},
    {BuiltinOp::kReadVariable, 1, 1, 1, 1, opt<ReadVariableOptions>(), false},
    {BuiltinOp::kAssignVariable, 2, 2, 2, 0, opt<AssignVariableOptions>(), false},
    {BuiltinOp::kCallOnce, 0, 0, 0, 0, opt<CallOnceOptions>(), true},
    // IF: the condition, then the branches' inputs; WHILE: the loop variables
    // (as many outputs as inputs, checked by the op).
    {BuiltinOp::kIf, 1, kAnyInputs, kAnyInputs, kAnyOutputs, opt<IfOptions>(), true},
    {BuiltinOp::kWhile, 1, kAnyInputs, kAnyInputs, kAnyOutputs, opt<WhileOptions>(), true},
};

}  // namespace

const OptionsRule& options_rule(const OpOptions& options) { return kOptionsRules[options.index()]; }

std::string_view OpFormat::options_name() const {
  return options_index == kNoOptions ? std::string_view() : kOptionsRules[static_cast<size_t>(options_index)].name;
}

const OpFormat* op_format(BuiltinOp op) {
  for (const OpFormat& f : kFormats)
    if (f.op == op) return &f;
  return nullptr;
}

}  // namespace qlite::lite
