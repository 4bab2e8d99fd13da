// .tflite bytes -> ModelDef. Order of trust: size and identifier first, then
// the flatbuffers verifier (every offset, vector length and union inside the
// bytes), then conversion into owned structs, then validate() for the meaning.
#include <cstring>
#include <fstream>
#include <iterator>
#include <memory>

#include "flatbuffers/flatbuffers.h"
#include "lite/util.h"
#include "qlite/fileio.h"
#include "qlite/lite.h"
#include "qlite_tflite_generated.h"

namespace qlite::lite {
namespace {

static_assert(FLATBUFFERS_LITTLEENDIAN, "the reader copies flatbuffer scalars as stored (little-endian)");

// Elements are copied bytewise, not read in place: the verifier checks only a
// vector's 4-byte length prefix for alignment, so the 8-byte zero points of a
// hostile file may sit at 4 mod 8 (found by fuzz/tflite_reader_fuzz.cpp).
template <class T, class U>
std::vector<T> to_vector(const flatbuffers::Vector<U>* v) {
  std::vector<T> out;
  if (v == nullptr) return out;
  out.resize(v->size());
  const uint8_t* raw = v->Data();
  for (size_t i = 0; i < out.size(); ++i) {
    U x;
    std::memcpy(&x, raw + i * sizeof(U), sizeof(U));
    out[i] = static_cast<T>(x);
  }
  return out;
}

std::string to_string(const flatbuffers::String* s) {
  return s == nullptr ? std::string() : std::string(s->c_str(), s->size());
}

Activation act(tfl::ActivationFunctionType a) { return static_cast<Activation>(a); }
Padding pad(tfl::Padding p) { return static_cast<Padding>(p); }

OpOptions read_options(const tfl::Operator* op, const std::string& where) {
  using T = tfl::BuiltinOptions;
  if (op->builtin_options_type() == T::NONE) return std::monostate{};
  // The verifier accepts a union type without its table; the accessors would
  // then return nullptr.
  check(op->builtin_options() != nullptr,
        "tflite: " + where + ": builtin options type " +
            std::to_string(static_cast<int>(op->builtin_options_type())) + " without a table");
  switch (op->builtin_options_type()) {
    case T::Conv2DOptions: {
      const auto* o = op->builtin_options_as_Conv2DOptions();
      return Conv2DOptions{pad(o->padding()), o->stride_w(), o->stride_h(),
                           act(o->fused_activation_function()), o->dilation_w_factor(),
                           o->dilation_h_factor()};
    }
    case T::DepthwiseConv2DOptions: {
      const auto* o = op->builtin_options_as_DepthwiseConv2DOptions();
      return DepthwiseConv2DOptions{pad(o->padding()),
                                    o->stride_w(),
                                    o->stride_h(),
                                    o->depth_multiplier(),
                                    act(o->fused_activation_function()),
                                    o->dilation_w_factor(),
                                    o->dilation_h_factor()};
    }
    case T::FullyConnectedOptions: {
      const auto* o = op->builtin_options_as_FullyConnectedOptions();
      check(o->weights_format() == tfl::FullyConnectedOptionsWeightsFormat::DEFAULT,
            "tflite: " + where + ": shuffled fully-connected weights are not supported");
      return FullyConnectedOptions{act(o->fused_activation_function()), o->keep_num_dims(),
                                   o->asymmetric_quantize_inputs()};
    }
    case T::Pool2DOptions: {
      const auto* o = op->builtin_options_as_Pool2DOptions();
      return Pool2DOptions{pad(o->padding()),    o->stride_w(),      o->stride_h(),
                           o->filter_width(),    o->filter_height(), act(o->fused_activation_function())};
    }
    case T::ReshapeOptions:
      return ReshapeOptions{to_vector<int32_t>(op->builtin_options_as_ReshapeOptions()->new_shape())};
    case T::SoftmaxOptions: return SoftmaxOptions{op->builtin_options_as_SoftmaxOptions()->beta()};
    case T::AddOptions: {
      const auto* o = op->builtin_options_as_AddOptions();
      return AddOptions{act(o->fused_activation_function()), o->pot_scale_int16()};
    }
    case T::MulOptions:
      return MulOptions{act(op->builtin_options_as_MulOptions()->fused_activation_function())};
    case T::SubOptions:
      return SubOptions{act(op->builtin_options_as_SubOptions()->fused_activation_function()),
                        op->builtin_options_as_SubOptions()->pot_scale_int16()};
    case T::ConcatenationOptions: {
      const auto* o = op->builtin_options_as_ConcatenationOptions();
      return ConcatenationOptions{o->axis(), act(o->fused_activation_function())};
    }
    case T::ReducerOptions: return ReducerOptions{op->builtin_options_as_ReducerOptions()->keep_dims()};
    case T::SqueezeOptions:
      return SqueezeOptions{
          to_vector<int32_t>(op->builtin_options_as_SqueezeOptions()->squeeze_dims())};
    case T::PadOptions: return PadOptions{};
    case T::QuantizeOptions: return QuantizeOptions{};
    case T::DequantizeOptions: return DequantizeOptions{};
    case T::PadV2Options: return PadV2Options{};
    case T::TransposeOptions: return TransposeOptions{};
    case T::HardSwishOptions: return HardSwishOptions{};
    case T::UnidirectionalSequenceLSTMOptions: {
      const auto* o = op->builtin_options_as_UnidirectionalSequenceLSTMOptions();
      return UnidirectionalSequenceLstmOptions{act(o->fused_activation_function()), o->cell_clip(), o->proj_clip(),
                                               o->time_major(), o->asymmetric_quantize_inputs()};
    }
    case T::ResizeBilinearOptions: {
      const auto* o = op->builtin_options_as_ResizeBilinearOptions();
      return ResizeBilinearOptions{o->align_corners(), o->half_pixel_centers()};
    }
    case T::ResizeNearestNeighborOptions: {
      const auto* o = op->builtin_options_as_ResizeNearestNeighborOptions();
      return ResizeNearestNeighborOptions{o->align_corners(), o->half_pixel_centers()};
    }
    case T::CastOptions: {
      const auto* o = op->builtin_options_as_CastOptions();
      return CastOptions{static_cast<TensorType>(o->in_data_type()), static_cast<TensorType>(o->out_data_type())};
    }
    case T::GatherOptions: {
      const auto* o = op->builtin_options_as_GatherOptions();
      return GatherOptions{o->axis(), o->batch_dims()};
    }
    case T::GatherNdOptions: return GatherNdOptions{};
    case T::ExpandDimsOptions: return ExpandDimsOptions{};
    case T::SliceOptions: return SliceOptions{};
    case T::StridedSliceOptions: {
      const auto* o = op->builtin_options_as_StridedSliceOptions();
      return StridedSliceOptions{o->begin_mask(), o->end_mask(), o->ellipsis_mask(), o->new_axis_mask(),
                                 o->shrink_axis_mask()};
    }
    case T::SplitOptions: return SplitOptions{op->builtin_options_as_SplitOptions()->num_splits()};
    case T::SplitVOptions: return SplitVOptions{op->builtin_options_as_SplitVOptions()->num_splits()};
    case T::PackOptions: {
      const auto* o = op->builtin_options_as_PackOptions();
      return PackOptions{o->values_count(), o->axis()};
    }
    case T::UnpackOptions: {
      const auto* o = op->builtin_options_as_UnpackOptions();
      return UnpackOptions{o->num(), o->axis()};
    }
    case T::TileOptions: return TileOptions{};
    case T::BroadcastToOptions: return BroadcastToOptions{};
    case T::ReverseV2Options: return ReverseV2Options{};
    case T::DepthToSpaceOptions:
      return DepthToSpaceOptions{op->builtin_options_as_DepthToSpaceOptions()->block_size()};
    case T::SpaceToDepthOptions:
      return SpaceToDepthOptions{op->builtin_options_as_SpaceToDepthOptions()->block_size()};
    case T::BatchToSpaceNDOptions: return BatchToSpaceNdOptions{};
    case T::SpaceToBatchNDOptions: return SpaceToBatchNdOptions{};
    case T::MirrorPadOptions:
      return MirrorPadOptions{static_cast<MirrorPadMode>(op->builtin_options_as_MirrorPadOptions()->mode())};
    case T::ShapeOptions:
      return ShapeOptions{static_cast<TensorType>(op->builtin_options_as_ShapeOptions()->out_type())};
    case T::FillOptions: return FillOptions{};
    case T::ZerosLikeOptions: return ZerosLikeOptions{};
    case T::ArgMaxOptions:
      return ArgMaxOptions{static_cast<TensorType>(op->builtin_options_as_ArgMaxOptions()->output_type())};
    case T::ArgMinOptions:
      return ArgMinOptions{static_cast<TensorType>(op->builtin_options_as_ArgMinOptions()->output_type())};
    case T::TopKV2Options: return TopKV2Options{};
    case T::TransposeConvOptions: {
      const auto* o = op->builtin_options_as_TransposeConvOptions();
      return TransposeConvOptions{pad(o->padding()), o->stride_w(), o->stride_h()};
    }
    case T::VarHandleOptions: {
      const auto* o = op->builtin_options_as_VarHandleOptions();
      return VarHandleOptions{to_string(o->container()), to_string(o->shared_name())};
    }
    case T::CallOnceOptions:
      return CallOnceOptions{op->builtin_options_as_CallOnceOptions()->init_subgraph_index()};
    case T::IfOptions: {
      const auto* o = op->builtin_options_as_IfOptions();
      return IfOptions{o->then_subgraph_index(), o->else_subgraph_index()};
    }
    case T::WhileOptions: {
      const auto* o = op->builtin_options_as_WhileOptions();
      return WhileOptions{o->cond_subgraph_index(), o->body_subgraph_index()};
    }
    case T::SVDFOptions: {
      const auto* o = op->builtin_options_as_SVDFOptions();
      return SvdfOptions{o->rank(), act(o->fused_activation_function()), o->asymmetric_quantize_inputs()};
    }
    case T::BatchMatMulOptions: {
      const auto* o = op->builtin_options_as_BatchMatMulOptions();
      return BatchMatMulOptions{o->adj_x(), o->adj_y(), o->asymmetric_quantize_inputs()};
    }
    case T::LeakyReluOptions: return LeakyReluOptions{op->builtin_options_as_LeakyReluOptions()->alpha()};
    case T::DivOptions:
      return DivOptions{act(op->builtin_options_as_DivOptions()->fused_activation_function())};
#define QLITE_READ_EMPTY(N) \
  case T::N: return N{};
      QLITE_LITE_EMPTY_MATH_OPTIONS(QLITE_READ_EMPTY)
#undef QLITE_READ_EMPTY
    case T::L2NormOptions:
      return L2NormOptions{act(op->builtin_options_as_L2NormOptions()->fused_activation_function())};
    case T::CumsumOptions: {
      const auto* o = op->builtin_options_as_CumsumOptions();
      return CumsumOptions{o->exclusive(), o->reverse()};
    }
    case T::GeluOptions: return GeluOptions{op->builtin_options_as_GeluOptions()->approximate()};
    default: break;
  }
  return OtherOptions{static_cast<int32_t>(op->builtin_options_type())};
}

TensorDef read_tensor(const tfl::Tensor* t, const std::string& where) {
  TensorDef out;
  out.name = to_string(t->name());
  out.type = static_cast<TensorType>(t->type());
  check((static_cast<int>(out.type) >= 0 && static_cast<int>(out.type) <= 10) || out.type == TensorType::kResource,
        "tflite: " + where + " '" + out.name + "': unsupported tensor type " +
            std::to_string(static_cast<int>(out.type)));
  out.shape = to_vector<int32_t>(t->shape());
  out.shape_signature = to_vector<int32_t>(t->shape_signature());
  out.buffer = t->buffer();
  out.is_variable = t->is_variable();
  check(t->sparsity() == nullptr,
        "tflite: " + where + " '" + out.name + "': sparse tensors are not supported");
  if (const tfl::QuantizationParameters* q = t->quantization()) {
    check(q->details_type() == tfl::QuantizationDetails::NONE,
          "tflite: " + where + " '" + out.name + "': custom quantization is not supported");
    out.quantization.scale = to_vector<float>(q->scale());
    out.quantization.zero_point = to_vector<int64_t>(q->zero_point());
    out.quantization.quantized_dimension = q->quantized_dimension();
    out.quantization.min = to_vector<float>(q->min());
    out.quantization.max = to_vector<float>(q->max());
  }
  return out;
}

ModelDef convert(const tfl::Model* fm) {
  ModelDef m;
  m.version = fm->version();
  m.description = to_string(fm->description());
  if (const auto* codes = fm->operator_codes()) {
    for (flatbuffers::uoffset_t i = 0; i < codes->size(); ++i) {
      const tfl::OperatorCode* c = codes->Get(i);
      OperatorCodeDef oc;
      // TFLite's rule: the 8-bit field holds codes below 127, the 32-bit one all codes.
      oc.builtin = static_cast<BuiltinOp>(
          std::max(static_cast<int32_t>(c->deprecated_builtin_code()),
                   static_cast<int32_t>(c->builtin_code())));
      oc.custom_code = to_string(c->custom_code());
      oc.version = c->version();
      m.operator_codes.push_back(std::move(oc));
    }
  }
  if (const auto* buffers = fm->buffers()) {
    for (flatbuffers::uoffset_t i = 0; i < buffers->size(); ++i) {
      const tfl::Buffer* b = buffers->Get(i);
      check(b->offset() <= 1 && b->size() == 0,
            "tflite: buffer " + std::to_string(i) +
                " keeps its data outside the flatbuffer (models over 2 GB are not supported)");
      const auto* data = b->data();
      if (data != nullptr)
        m.buffers.emplace_back(data->data(), data->data() + data->size());
      else
        m.buffers.emplace_back();
    }
  }
  if (const auto* subgraphs = fm->subgraphs()) {
    for (flatbuffers::uoffset_t s = 0; s < subgraphs->size(); ++s) {
      const tfl::SubGraph* fg = subgraphs->Get(s);
      SubGraphDef g;
      g.name = to_string(fg->name());
      if (const auto* tensors = fg->tensors())
        for (flatbuffers::uoffset_t i = 0; i < tensors->size(); ++i)
          g.tensors.push_back(read_tensor(
              tensors->Get(i), "subgraph " + std::to_string(s) + " tensor " + std::to_string(i)));
      g.inputs = to_vector<int32_t>(fg->inputs());
      g.outputs = to_vector<int32_t>(fg->outputs());
      if (const auto* ops = fg->operators()) {
        for (flatbuffers::uoffset_t i = 0; i < ops->size(); ++i) {
          const tfl::Operator* fo = ops->Get(i);
          const std::string where = "subgraph " + std::to_string(s) + " operator " + std::to_string(i);
          OperatorDef op;
          op.opcode_index = fo->opcode_index();
          op.inputs = to_vector<int32_t>(fo->inputs());
          op.outputs = to_vector<int32_t>(fo->outputs());
          op.options = read_options(fo, where);
          op.intermediates = to_vector<int32_t>(fo->intermediates());
          if (const auto* co = fo->custom_options(); co != nullptr && co->size() > 0) {
            check(fo->custom_options_format() == tfl::CustomOptionsFormat::FLEXBUFFERS,
                  "tflite: " + where + ": custom_options_format " +
                      std::to_string(static_cast<int>(fo->custom_options_format())) + " is not FLEXBUFFERS");
            op.custom_options.assign(co->data(), co->data() + co->size());
          }
          g.operators.push_back(std::move(op));
        }
      }
      m.subgraphs.push_back(std::move(g));
    }
  }
  if (const auto* metadata = fm->metadata())
    for (const tfl::Metadata* md : *metadata)
      m.metadata.push_back({to_string(md->name()), md->buffer()});
  if (const auto* sigs = fm->signature_defs()) {
    for (const tfl::SignatureDef* sd : *sigs) {
      SignatureDef s;
      s.key = to_string(sd->signature_key());
      s.subgraph_index = sd->subgraph_index();
      auto maps = [](const flatbuffers::Vector<flatbuffers::Offset<tfl::TensorMap>>* v) {
        std::vector<TensorMapDef> out;
        if (v)
          for (const tfl::TensorMap* tm : *v) out.push_back({to_string(tm->name()), tm->tensor_index()});
        return out;
      };
      s.inputs = maps(sd->inputs());
      s.outputs = maps(sd->outputs());
      m.signature_defs.push_back(std::move(s));
    }
  }
  return m;
}

}  // namespace

ModelDef read_model(std::span<const uint8_t> bytes) {
  check(bytes.size() >= 8, "tflite: " + std::to_string(bytes.size()) +
                               " bytes are too few for a TFLite flatbuffer");
  check(bytes.size() < FLATBUFFERS_MAX_BUFFER_SIZE, "tflite: file larger than 2 GB");
  if (!flatbuffers::BufferHasIdentifier(bytes.data(), tfl::ModelIdentifier())) {
    std::string got;
    for (size_t i = 4; i < 8; ++i) {
      const char c = static_cast<char>(bytes[i]);
      got += (c >= 32 && c < 127) ? std::string(1, c) : "\\x" + std::to_string(bytes[i]);
    }
    throw Error("tflite: file identifier is '" + got + "', expected 'TFL3' (not a TFLite model)");
  }
  // Flatbuffer scalars are read in place: work on a 16-byte aligned copy when the
  // caller's bytes are not aligned (force_align(16) on buffer data relies on it).
  std::vector<uint8_t> aligned;
  const uint8_t* data = bytes.data();
  if (reinterpret_cast<uintptr_t>(data) % 16 != 0) {
    aligned.assign(bytes.begin(), bytes.end());
    data = aligned.data();
  }
  flatbuffers::Verifier::Options vopts;
  vopts.max_depth = 64;
  vopts.max_tables = 1000000;
  flatbuffers::Verifier verifier(data, bytes.size(), vopts);
  check(tfl::VerifyModelBuffer(verifier),
        "tflite: flatbuffer verification failed (truncated or corrupt file)");
  ModelDef m = convert(tfl::GetModel(data));
  validate(m);
  return m;
}

ModelDef read_model_file(const std::string& path) {
  // A FlatBuffer, and so a .tflite file, is smaller than 2 GiB.
  std::vector<uint8_t> bytes;
  try {
    bytes = read_file_bounded(path, (uint64_t{1} << 31) - 1, "model file");
  } catch (const Error& e) {
    throw Error(std::string("tflite: ") + e.what());
  }
  try {
    return read_model(bytes);
  } catch (const Error& e) {
    throw Error(path + ": " + e.what());
  }
}

}  // namespace qlite::lite
