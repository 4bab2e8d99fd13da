// ModelDef -> .tflite bytes, and the ModelBuilder that producers use.
#include <algorithm>
#include <fstream>
#include <map>
#include <set>
#include <string>
#include <type_traits>

#include "flatbuffers/flatbuffers.h"
#include "qlite/fileio.h"
#include "lite/util.h"
#include "qlite/lite.h"
#include "qlite_tflite_generated.h"

namespace qlite::lite {
namespace {

using flatbuffers::FlatBufferBuilder;
using flatbuffers::Offset;

tfl::ActivationFunctionType act(Activation a) {
  return static_cast<tfl::ActivationFunctionType>(a);
}
tfl::Padding pad(Padding p) { return static_cast<tfl::Padding>(p); }

// Tables are built back to front: the fields added first end up last in the
// table. flatc's Create* functions add 1-byte fields last, next to the table's
// 4-byte vtable offset, which then costs up to 3 bytes of padding. When the
// builder is not 4-byte aligned as a table starts (it follows a vtable or a
// byte vector), adding the 1-byte fields first fills that gap instead.
// This never pads more than flatc's order (with k 1-byte fields and the
// builder at s mod 4, (-(s + k)) mod 4 <= (-s) mod 4 + (-k) mod 4) and it leaves
// the aligned case, and so the vtables shared between most tables, as flatc
// lays them out. Readers find fields through the vtable, in any order.
template <class Builder, class Small, class Large>
auto finish_packed(FlatBufferBuilder& fbb, Small&& add_small, Large&& add_large) {
  const bool small_first = fbb.GetSize() % 4 != 0;
  Builder b(fbb);
  if (small_first) add_small(b);
  add_large(b);
  if (!small_first) add_small(b);
  return b.Finish();
}

struct OptionsOut {
  tfl::BuiltinOptions type = tfl::BuiltinOptions::NONE;
  Offset<void> value;
};

// Conv2D, DepthwiseConv2D and Pool2D options: padding and activation (1 byte
// each), the op's own 4-byte fields, then the strides.
template <class Builder, class Options, class Own>
OptionsOut windowed(FlatBufferBuilder& fbb, tfl::BuiltinOptions type, const Options& o, Own&& add_own) {
  const auto t = finish_packed<Builder>(
      fbb,
      [&](auto& b) {
        b.add_fused_activation_function(act(o.activation));
        b.add_padding(pad(o.padding));
      },
      [&](auto& b) {
        add_own(b);
        b.add_stride_h(o.stride_h);
        b.add_stride_w(o.stride_w);
      });
  return {type, t.Union()};
}

OptionsOut write_options(FlatBufferBuilder& fbb, const OpOptions& options,
                         const std::string& where) {
  using T = tfl::BuiltinOptions;
  struct Visitor {
    FlatBufferBuilder& fbb;
    const std::string& where;
    OptionsOut operator()(const std::monostate&) { return {}; }
    OptionsOut operator()(const Conv2DOptions& o) {
      return windowed<tfl::Conv2DOptionsBuilder>(fbb, T::Conv2DOptions, o, [&](auto& b) {
        b.add_dilation_h_factor(o.dilation_h);
        b.add_dilation_w_factor(o.dilation_w);
      });
    }
    OptionsOut operator()(const DepthwiseConv2DOptions& o) {
      return windowed<tfl::DepthwiseConv2DOptionsBuilder>(fbb, T::DepthwiseConv2DOptions, o, [&](auto& b) {
        b.add_dilation_h_factor(o.dilation_h);
        b.add_dilation_w_factor(o.dilation_w);
        b.add_depth_multiplier(o.depth_multiplier);
      });
    }
    OptionsOut operator()(const FullyConnectedOptions& o) {
      return {T::FullyConnectedOptions,
              tfl::CreateFullyConnectedOptions(fbb, act(o.activation),
                                               tfl::FullyConnectedOptionsWeightsFormat::DEFAULT,
                                               o.keep_num_dims, o.asymmetric_quantize_inputs)
                  .Union()};
    }
    OptionsOut operator()(const Pool2DOptions& o) {
      return windowed<tfl::Pool2DOptionsBuilder>(fbb, T::Pool2DOptions, o, [&](auto& b) {
        b.add_filter_height(o.filter_h);
        b.add_filter_width(o.filter_w);
      });
    }
    OptionsOut operator()(const ReshapeOptions& o) {
      return {T::ReshapeOptions,
              tfl::CreateReshapeOptions(fbb, fbb.CreateVector(o.new_shape)).Union()};
    }
    OptionsOut operator()(const SoftmaxOptions& o) {
      return {T::SoftmaxOptions, tfl::CreateSoftmaxOptions(fbb, o.beta).Union()};
    }
    OptionsOut operator()(const AddOptions& o) {
      return {T::AddOptions, tfl::CreateAddOptions(fbb, act(o.activation), o.pot_scale_int16).Union()};
    }
    OptionsOut operator()(const MulOptions& o) {
      return {T::MulOptions, tfl::CreateMulOptions(fbb, act(o.activation)).Union()};
    }
    OptionsOut operator()(const SubOptions& o) {
      return {T::SubOptions, tfl::CreateSubOptions(fbb, act(o.activation), o.pot_scale_int16).Union()};
    }
    OptionsOut operator()(const ConcatenationOptions& o) {
      const auto t = finish_packed<tfl::ConcatenationOptionsBuilder>(
          fbb, [&](auto& b) { b.add_fused_activation_function(act(o.activation)); },
          [&](auto& b) { b.add_axis(o.axis); });
      return {T::ConcatenationOptions, t.Union()};
    }
    OptionsOut operator()(const ReducerOptions& o) {
      return {T::ReducerOptions, tfl::CreateReducerOptions(fbb, o.keep_dims).Union()};
    }
    OptionsOut operator()(const SqueezeOptions& o) {
      return {T::SqueezeOptions,
              tfl::CreateSqueezeOptions(fbb, fbb.CreateVector(o.squeeze_dims)).Union()};
    }
    OptionsOut operator()(const PadOptions&) {
      return {T::PadOptions, tfl::CreatePadOptions(fbb).Union()};
    }
    OptionsOut operator()(const QuantizeOptions&) {
      return {T::QuantizeOptions, tfl::CreateQuantizeOptions(fbb).Union()};
    }
    OptionsOut operator()(const DequantizeOptions&) {
      return {T::DequantizeOptions, tfl::CreateDequantizeOptions(fbb).Union()};
    }
    OptionsOut operator()(const PadV2Options&) {
      return {T::PadV2Options, tfl::CreatePadV2Options(fbb).Union()};
    }
    OptionsOut operator()(const TransposeOptions&) {
      return {T::TransposeOptions, tfl::CreateTransposeOptions(fbb).Union()};
    }
    OptionsOut operator()(const HardSwishOptions&) {
      return {T::HardSwishOptions, tfl::CreateHardSwishOptions(fbb).Union()};
    }
    OptionsOut operator()(const UnidirectionalSequenceLstmOptions& o) {
      return {T::UnidirectionalSequenceLSTMOptions,
              tfl::CreateUnidirectionalSequenceLSTMOptions(fbb, act(o.activation), o.cell_clip, o.proj_clip,
                                                           o.time_major, o.asymmetric_quantize_inputs)
                  .Union()};
    }
    OptionsOut operator()(const ResizeBilinearOptions& o) {
      return {T::ResizeBilinearOptions,
              tfl::CreateResizeBilinearOptions(fbb, 0, 0, o.align_corners, o.half_pixel_centers).Union()};
    }
    OptionsOut operator()(const ResizeNearestNeighborOptions& o) {
      return {T::ResizeNearestNeighborOptions,
              tfl::CreateResizeNearestNeighborOptions(fbb, o.align_corners, o.half_pixel_centers).Union()};
    }
    OptionsOut operator()(const CastOptions& o) {
      return {T::CastOptions, tfl::CreateCastOptions(fbb, static_cast<tfl::TensorType>(o.in_type),
                                                     static_cast<tfl::TensorType>(o.out_type))
                                  .Union()};
    }
    OptionsOut operator()(const GatherOptions& o) {
      return {T::GatherOptions, tfl::CreateGatherOptions(fbb, o.axis, o.batch_dims).Union()};
    }
    OptionsOut operator()(const GatherNdOptions&) {
      return {T::GatherNdOptions, tfl::CreateGatherNdOptions(fbb).Union()};
    }
    OptionsOut operator()(const ExpandDimsOptions&) {
      return {T::ExpandDimsOptions, tfl::CreateExpandDimsOptions(fbb).Union()};
    }
    OptionsOut operator()(const SliceOptions&) { return {T::SliceOptions, tfl::CreateSliceOptions(fbb).Union()}; }
    OptionsOut operator()(const StridedSliceOptions& o) {
      return {T::StridedSliceOptions,
              tfl::CreateStridedSliceOptions(fbb, o.begin_mask, o.end_mask, o.ellipsis_mask, o.new_axis_mask,
                                             o.shrink_axis_mask)
                  .Union()};
    }
    OptionsOut operator()(const SplitOptions& o) {
      return {T::SplitOptions, tfl::CreateSplitOptions(fbb, o.num_splits).Union()};
    }
    OptionsOut operator()(const SplitVOptions& o) {
      return {T::SplitVOptions, tfl::CreateSplitVOptions(fbb, o.num_splits).Union()};
    }
    OptionsOut operator()(const PackOptions& o) {
      return {T::PackOptions, tfl::CreatePackOptions(fbb, o.values_count, o.axis).Union()};
    }
    OptionsOut operator()(const UnpackOptions& o) {
      return {T::UnpackOptions, tfl::CreateUnpackOptions(fbb, o.num, o.axis).Union()};
    }
    OptionsOut operator()(const TileOptions&) { return {T::TileOptions, tfl::CreateTileOptions(fbb).Union()}; }
    OptionsOut operator()(const BroadcastToOptions&) {
      return {T::BroadcastToOptions, tfl::CreateBroadcastToOptions(fbb).Union()};
    }
    OptionsOut operator()(const ReverseV2Options&) {
      return {T::ReverseV2Options, tfl::CreateReverseV2Options(fbb).Union()};
    }
    OptionsOut operator()(const DepthToSpaceOptions& o) {
      return {T::DepthToSpaceOptions, tfl::CreateDepthToSpaceOptions(fbb, o.block_size).Union()};
    }
    OptionsOut operator()(const SpaceToDepthOptions& o) {
      return {T::SpaceToDepthOptions, tfl::CreateSpaceToDepthOptions(fbb, o.block_size).Union()};
    }
    OptionsOut operator()(const BatchToSpaceNdOptions&) {
      return {T::BatchToSpaceNDOptions, tfl::CreateBatchToSpaceNDOptions(fbb).Union()};
    }
    OptionsOut operator()(const SpaceToBatchNdOptions&) {
      return {T::SpaceToBatchNDOptions, tfl::CreateSpaceToBatchNDOptions(fbb).Union()};
    }
    OptionsOut operator()(const MirrorPadOptions& o) {
      return {T::MirrorPadOptions,
              tfl::CreateMirrorPadOptions(fbb, static_cast<tfl::MirrorPadMode>(o.mode)).Union()};
    }
    OptionsOut operator()(const ShapeOptions& o) {
      return {T::ShapeOptions, tfl::CreateShapeOptions(fbb, static_cast<tfl::TensorType>(o.out_type)).Union()};
    }
    OptionsOut operator()(const FillOptions&) { return {T::FillOptions, tfl::CreateFillOptions(fbb).Union()}; }
    OptionsOut operator()(const ZerosLikeOptions&) {
      return {T::ZerosLikeOptions, tfl::CreateZerosLikeOptions(fbb).Union()};
    }
    OptionsOut operator()(const ArgMaxOptions& o) {
      return {T::ArgMaxOptions, tfl::CreateArgMaxOptions(fbb, static_cast<tfl::TensorType>(o.output_type)).Union()};
    }
    OptionsOut operator()(const ArgMinOptions& o) {
      return {T::ArgMinOptions, tfl::CreateArgMinOptions(fbb, static_cast<tfl::TensorType>(o.output_type)).Union()};
    }
    OptionsOut operator()(const TopKV2Options&) {
      return {T::TopKV2Options, tfl::CreateTopKV2Options(fbb).Union()};
    }
    OptionsOut operator()(const TransposeConvOptions& o) {
      return {T::TransposeConvOptions,
              tfl::CreateTransposeConvOptions(fbb, pad(o.padding), o.stride_w, o.stride_h).Union()};
    }
    OptionsOut operator()(const VarHandleOptions& o) {
      const auto container = o.container.empty() ? 0 : fbb.CreateString(o.container);
      const auto shared_name = o.shared_name.empty() ? 0 : fbb.CreateString(o.shared_name);
      return {T::VarHandleOptions, tfl::CreateVarHandleOptions(fbb, container, shared_name).Union()};
    }
    OptionsOut operator()(const CallOnceOptions& o) {
      return {T::CallOnceOptions, tfl::CreateCallOnceOptions(fbb, o.init_subgraph_index).Union()};
    }
    OptionsOut operator()(const IfOptions& o) {
      return {T::IfOptions, tfl::CreateIfOptions(fbb, o.then_subgraph_index, o.else_subgraph_index).Union()};
    }
    OptionsOut operator()(const WhileOptions& o) {
      return {T::WhileOptions, tfl::CreateWhileOptions(fbb, o.cond_subgraph_index, o.body_subgraph_index).Union()};
    }
    OptionsOut operator()(const SvdfOptions& o) {
      return {T::SVDFOptions,
              tfl::CreateSVDFOptions(fbb, o.rank, act(o.activation), o.asymmetric_quantize_inputs).Union()};
    }
    OptionsOut operator()(const BatchMatMulOptions& o) {
      return {T::BatchMatMulOptions,
              tfl::CreateBatchMatMulOptions(fbb, o.adj_x, o.adj_y, o.asymmetric_quantize_inputs).Union()};
    }
    OptionsOut operator()(const LeakyReluOptions& o) {
      return {T::LeakyReluOptions, tfl::CreateLeakyReluOptions(fbb, o.alpha).Union()};
    }
    OptionsOut operator()(const DivOptions& o) {
      return {T::DivOptions, tfl::CreateDivOptions(fbb, act(o.activation)).Union()};
    }
#define QLITE_WRITE_EMPTY(N) \
  OptionsOut operator()(const N&) { return {T::N, tfl::Create##N(fbb).Union()}; }
    QLITE_LITE_EMPTY_MATH_OPTIONS(QLITE_WRITE_EMPTY)
#undef QLITE_WRITE_EMPTY
    OptionsOut operator()(const L2NormOptions& o) {
      return {T::L2NormOptions, tfl::CreateL2NormOptions(fbb, act(o.activation)).Union()};
    }
    OptionsOut operator()(const CumsumOptions& o) {
      return {T::CumsumOptions, tfl::CreateCumsumOptions(fbb, o.exclusive, o.reverse).Union()};
    }
    OptionsOut operator()(const GeluOptions& o) {
      return {T::GeluOptions, tfl::CreateGeluOptions(fbb, o.approximate).Union()};
    }
    OptionsOut operator()(const OtherOptions& o) {
      throw Error("tflite: " + where + ": cannot write builtin options of union type " +
                  std::to_string(o.type_code) + " (not parsed by qlite)");
    }
  };
  return std::visit(Visitor{fbb, where}, options);
}

// Identical vectors, strings and quantization tables are written once and
// referenced from every table that uses them (a flatbuffer is a DAG). Per-tensor
// activation parameters repeat along pass-through ops, per-channel zero points
// repeat between a kernel and its bias: sharing them keeps int8 files small.
class Dedup {
 public:
  explicit Dedup(FlatBufferBuilder& fbb) : fbb_(fbb) {}

  template <class T>
  flatbuffers::Offset<flatbuffers::Vector<T>> vec(const std::vector<T>& v) {
    static_assert(std::is_same_v<T, int32_t> || std::is_same_v<T, int64_t> || std::is_same_v<T, float>);
    auto& cache = vectors_[std::is_same_v<T, int64_t> ? 1 : std::is_same_v<T, float> ? 2 : 0];
    auto [it, added] = cache.try_emplace(bytes_of(v), 0);
    if (added) it->second = fbb_.CreateVector(v).o;
    return it->second;
  }

  Offset<tfl::QuantizationParameters> quant(const Quantization& p) {
    std::string key = bytes_of(std::vector<int32_t>{static_cast<int32_t>(p.min.size()),
                                                    static_cast<int32_t>(p.max.size()),
                                                    static_cast<int32_t>(p.scale.size()), p.quantized_dimension});
    key += bytes_of(p.min) + bytes_of(p.max) + bytes_of(p.scale) + bytes_of(p.zero_point);
    auto [it, added] = quant_.try_emplace(std::move(key), 0);
    if (added)
      it->second = tfl::CreateQuantizationParameters(
                       fbb_, p.min.empty() ? 0 : vec(p.min), p.max.empty() ? 0 : vec(p.max),
                       p.scale.empty() ? 0 : vec(p.scale), p.zero_point.empty() ? 0 : vec(p.zero_point),
                       tfl::QuantizationDetails::NONE, 0, p.quantized_dimension)
                       .o;
    return it->second;
  }

  flatbuffers::Offset<flatbuffers::String> str(const std::string& s) { return fbb_.CreateSharedString(s); }

 private:
  // Keys are the values' bytes: float equality would merge -0 with +0, and a
  // NaN, which compares neither less nor greater, would make the map take it
  // for any other value and hand one tensor another's parameters.
  template <class T>
  static std::string bytes_of(const std::vector<T>& v) {
    return std::string(reinterpret_cast<const char*>(v.data()), v.size() * sizeof(T));
  }
  FlatBufferBuilder& fbb_;
  std::map<std::string, flatbuffers::uoffset_t> vectors_[3];  // 32-bit integer, 64-bit integer, float
  std::map<std::string, flatbuffers::uoffset_t> quant_;
};

// Buffer data vectors are 16-byte aligned and each is followed (in the
// back-to-front build) by its 4-byte length, so after the first one every
// vector of n bytes costs (-(n + 4)) mod 16 bytes of padding and the first
// costs (-n) mod 16: only the choice of the first matters. Empty buffers
// have no data.
std::vector<size_t> data_order(const std::vector<std::vector<uint8_t>>& buffers) {
  std::vector<size_t> order;
  size_t first = buffers.size();
  int best = -1;
  for (size_t i = 0; i < buffers.size(); ++i) {
    if (buffers[i].empty()) continue;
    order.push_back(i);
    const int n = static_cast<int>(buffers[i].size() % 16);
    const int saved = (32 - n - 4) % 16 - (16 - n) % 16;  // padding as a later vector minus as the first
    if (saved > best) best = saved, first = i;
  }
  if (first < buffers.size()) std::stable_partition(order.begin(), order.end(), [&](size_t i) { return i == first; });
  return order;
}

Offset<tfl::Tensor> write_tensor(FlatBufferBuilder& fbb, Dedup& dd, const TensorDef& t) {
  Offset<tfl::QuantizationParameters> q = 0;
  const Quantization& tq = t.quantization;
  // Any field, not just scale and zero point: a file may carry only the
  // informational min/max, and writing must not drop them.
  if (!tq.empty() || !tq.min.empty() || !tq.max.empty() || tq.quantized_dimension != 0) q = dd.quant(tq);
  const auto shape = dd.vec(t.shape);
  const auto sig = t.shape_signature.empty() ? 0 : dd.vec(t.shape_signature);
  const auto name = dd.str(t.name);
  return finish_packed<tfl::TensorBuilder>(
      fbb,
      [&](auto& b) {
        b.add_is_variable(t.is_variable);
        b.add_type(static_cast<tfl::TensorType>(t.type));
      },
      [&](auto& b) {
        b.add_shape_signature(sig);
        b.add_quantization(q);
        b.add_name(name);
        b.add_buffer(t.buffer);
        b.add_shape(shape);
      });
}

}  // namespace

std::vector<uint8_t> write_model(const ModelDef& m, const WriteOptions& options) {
  if (options.validate) validate(m);
  size_t payload = 0;
  for (const auto& b : m.buffers) payload += b.size() + 16;
  FlatBufferBuilder fbb(payload + 4096);

  Dedup dd(fbb);
  // Constant data first, back to back, in the order that needs the least
  // padding; the Buffer tables that point at it follow in index order.
  std::vector<flatbuffers::Offset<flatbuffers::Vector<uint8_t>>> data(m.buffers.size());
  for (const size_t i : data_order(m.buffers)) {
    // The schema's force_align(16): kernels may read constants with aligned loads.
    fbb.ForceVectorAlignment(m.buffers[i].size(), sizeof(uint8_t), 16);
    data[i] = fbb.CreateVector(m.buffers[i]);
  }
  std::vector<Offset<tfl::Buffer>> buffers;
  for (size_t i = 0; i < m.buffers.size(); ++i)
    buffers.push_back(m.buffers[i].empty() ? tfl::CreateBuffer(fbb) : tfl::CreateBuffer(fbb, data[i]));

  std::vector<Offset<tfl::OperatorCode>> codes;
  for (const OperatorCodeDef& c : m.operator_codes) {
    const auto code = static_cast<int32_t>(c.builtin);
    // Old readers see only the 8-bit field; codes from 127 on are marked there
    // by PLACEHOLDER_FOR_GREATER_OP_CODES (127), as TFLite's converter does.
    const auto deprecated = static_cast<int8_t>(std::min(code, 127));
    // The 32-bit field only where the 8-bit one cannot hold the code: every
    // reader takes max(builtin_code, deprecated_builtin_code), the field's
    // default 0 included, which is how files from before the field read.
    const auto custom = c.custom_code.empty() ? 0 : fbb.CreateString(c.custom_code);
    codes.push_back(finish_packed<tfl::OperatorCodeBuilder>(
        fbb, [&](auto& b) { b.add_deprecated_builtin_code(deprecated); },
        [&](auto& b) {
          b.add_builtin_code(static_cast<tfl::BuiltinOperator>(code < 127 ? 0 : code));
          b.add_version(c.version);
          b.add_custom_code(custom);
        }));
  }

  std::vector<Offset<tfl::SubGraph>> subgraphs;
  for (size_t s = 0; s < m.subgraphs.size(); ++s) {
    const SubGraphDef& g = m.subgraphs[s];
    std::vector<Offset<tfl::Tensor>> tensors;
    for (const TensorDef& t : g.tensors) tensors.push_back(write_tensor(fbb, dd, t));
    std::vector<Offset<tfl::Operator>> ops;
    for (size_t i = 0; i < g.operators.size(); ++i) {
      const OperatorDef& op = g.operators[i];
      const OptionsOut o = write_options(fbb, op.options, op_label(m, s, i, op));
      const auto in = dd.vec(op.inputs);
      const auto out = dd.vec(op.outputs);
      const auto inter = op.intermediates.empty() ? 0 : dd.vec(op.intermediates);
      const auto custom = op.custom_options.empty() ? 0 : fbb.CreateVector(op.custom_options);
      ops.push_back(finish_packed<tfl::OperatorBuilder>(
          fbb, [&](auto& b) { b.add_builtin_options_type(o.type); },
          [&](auto& b) {
            if (!op.intermediates.empty()) b.add_intermediates(inter);
            if (!op.custom_options.empty()) b.add_custom_options(custom);  // format FLEXBUFFERS (0), the default
            b.add_builtin_options(o.value);
            b.add_outputs(out);
            b.add_inputs(in);
            b.add_opcode_index(op.opcode_index);
          }));
    }
    const auto tv = fbb.CreateVector(tensors);
    const auto iv = dd.vec(g.inputs);
    const auto ov = dd.vec(g.outputs);
    const auto opv = fbb.CreateVector(ops);
    subgraphs.push_back(tfl::CreateSubGraph(fbb, tv, iv, ov, opv, g.name.empty() ? 0 : dd.str(g.name)));
  }

  std::vector<Offset<tfl::Metadata>> metadata;
  for (const MetadataDef& md : m.metadata)
    metadata.push_back(tfl::CreateMetadata(fbb, dd.str(md.name), md.buffer));

  std::vector<Offset<tfl::SignatureDef>> sigs;
  for (const SignatureDef& sd : m.signature_defs) {
    auto maps = [&](const std::vector<TensorMapDef>& list) {
      std::vector<Offset<tfl::TensorMap>> out;
      for (const TensorMapDef& tm : list)
        out.push_back(tfl::CreateTensorMap(fbb, dd.str(tm.name), tm.tensor_index));
      return fbb.CreateVector(out);
    };
    const auto in = maps(sd.inputs);
    const auto out = maps(sd.outputs);
    sigs.push_back(
        tfl::CreateSignatureDef(fbb, in, out, dd.str(sd.key), 0, sd.subgraph_index));
  }

  const auto codes_v = fbb.CreateVector(codes);
  const auto subgraphs_v = fbb.CreateVector(subgraphs);
  const auto desc = m.description.empty() ? 0 : fbb.CreateString(m.description);
  const auto buffers_v = fbb.CreateVector(buffers);
  const auto metadata_v = fbb.CreateVector(metadata);
  const auto sigs_v = fbb.CreateVector(sigs);
  const auto model = tfl::CreateModel(fbb, m.version, codes_v, subgraphs_v, desc, buffers_v, 0,
                                      metadata_v, sigs_v);
  tfl::FinishModelBuffer(fbb, model);  // writes the "TFL3" identifier
  return {fbb.GetBufferPointer(), fbb.GetBufferPointer() + fbb.GetSize()};
}

void write_model_file(const ModelDef& model, const std::string& path,
                      const WriteOptions& options) {
  write_file_atomic(path, write_model(model, options));
}

// ---- ModelBuilder

ModelBuilder::ModelBuilder(std::string producer) : producer_(std::move(producer)) {
  check(!producer_.empty(), "tflite builder: the producer name must not be empty");
  model_.buffers.emplace_back();  // the empty sentinel every tensor without data points at
  // Unnamed: readers address subgraphs by index (signatures included), and
  // TFLite's conventional "main" would say nothing.
  model_.subgraphs.emplace_back();
}

uint32_t ModelBuilder::add_buffer(std::span<const uint8_t> bytes) {
  check(!bytes.empty(), "tflite builder: a constant buffer must not be empty");
  model_.buffers.emplace_back(bytes.begin(), bytes.end());
  return static_cast<uint32_t>(model_.buffers.size() - 1);
}

int32_t ModelBuilder::add_tensor(std::string name, TensorType type, std::vector<int32_t> shape,
                                 Quantization quantization,
                                 std::vector<int32_t> shape_signature) {
  TensorDef t;
  t.name = std::move(name);
  t.type = type;
  t.shape = std::move(shape);
  t.shape_signature = std::move(shape_signature);
  t.quantization = std::move(quantization);
  graph().tensors.push_back(std::move(t));
  return static_cast<int32_t>(graph().tensors.size() - 1);
}

int32_t ModelBuilder::add_operator(BuiltinOp op, std::vector<int32_t> inputs,
                                   std::vector<int32_t> outputs, OpOptions options,
                                   int32_t version) {
  uint32_t code = 0;
  while (code < model_.operator_codes.size() &&
         !(model_.operator_codes[code].builtin == op && model_.operator_codes[code].version == version))
    ++code;
  if (code == model_.operator_codes.size()) model_.operator_codes.push_back({op, "", version});
  graph().operators.push_back({code, std::move(inputs), std::move(outputs), std::move(options), {}});
  return static_cast<int32_t>(graph().operators.size() - 1);
}

int32_t ModelBuilder::add_custom_operator(std::string custom_code, std::vector<int32_t> inputs,
                                          std::vector<int32_t> outputs, std::vector<uint8_t> custom_options,
                                          int32_t version) {
  check(!custom_code.empty(), "tflite builder: a custom operator needs a name");
  uint32_t code = 0;
  while (code < model_.operator_codes.size() &&
         !(model_.operator_codes[code].builtin == BuiltinOp::kCustom &&
           model_.operator_codes[code].custom_code == custom_code && model_.operator_codes[code].version == version))
    ++code;
  if (code == model_.operator_codes.size())
    model_.operator_codes.push_back({BuiltinOp::kCustom, std::move(custom_code), version});
  OperatorDef op{code, std::move(inputs), std::move(outputs), {}, {}};
  op.custom_options = std::move(custom_options);
  graph().operators.push_back(std::move(op));
  return static_cast<int32_t>(graph().operators.size() - 1);
}

size_t ModelBuilder::add_subgraph(std::string name) {
  model_.subgraphs.emplace_back();
  model_.subgraphs.back().name = std::move(name);
  current_ = model_.subgraphs.size() - 1;
  return current_;
}

void ModelBuilder::use_subgraph(size_t k) {
  check(k < model_.subgraphs.size(), "ModelBuilder: subgraph " + std::to_string(k) + " does not exist");
  current_ = k;
}

ModelDef ModelBuilder::build() const {
  ModelDef m = model_;
  const SubGraphDef& g = m.subgraphs[0];
  // Signature names must be unique and non-empty; fall back to input_<i>/output_<i>.
  auto maps = [&](const std::vector<int32_t>& list, const char* prefix) {
    std::vector<TensorMapDef> out;
    std::set<std::string> seen;
    for (size_t i = 0; i < list.size(); ++i) {
      const int32_t t = list[i];
      std::string name = t >= 0 && static_cast<size_t>(t) < g.tensors.size()
                             ? g.tensors[static_cast<size_t>(t)].name
                             : std::string();
      if (name.empty() || seen.count(name)) name = prefix + std::to_string(i);
      seen.insert(name);
      out.push_back({name, static_cast<uint32_t>(t)});
    }
    return out;
  };
  m.signature_defs.push_back({"serving_default", 0, maps(g.inputs, "input_"),
                              maps(g.outputs, "output_")});
  m.buffers.emplace_back(producer_.begin(), producer_.end());
  m.metadata.push_back({kProducerMetadataName, static_cast<uint32_t>(m.buffers.size() - 1)});
  validate(m);
  return m;
}

}  // namespace qlite::lite
