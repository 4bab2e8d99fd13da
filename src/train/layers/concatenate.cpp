// Concatenate(axis): two or more inputs joined along one axis (Keras counts
// the batch as axis 0; -1 is the last). Lowered to CONCATENATION. TFLite 2.9's
// int8 CONCATENATION wants every input at the output's scale and zero point,
// so QAT gives the concat its own output range and lets each producer that
// feeds only the concat write its output in that range (docs/QUANTIZATION.md,
// "Concatenate").
#include <cstring>

#include "train/layers/builtin_kinds.h"
#include "train/layers/layer_util.h"

namespace qlite {
namespace {

class ConcatenateLayer final : public Layer {
 public:
  ConcatenateLayer(int axis, std::string name) : Layer(std::move(name)), axis_(axis) {
    check(axis != 0, detail::layer_label(*this) + ": axis 0 is the batch; concatenate along a sample axis");
  }
  std::string type() const override { return "Concatenate"; }
  std::string default_name_stem() const override { return "concatenate"; }
  int num_inputs() const override { return kAnyInputs; }

  Shape build(std::span<const Shape> input_shapes, Rng&) override {
    const std::string who = detail::layer_label(*this);
    check(input_shapes.size() >= 2, who + ": expects two or more inputs");
    const Shape& first = input_shapes[0];
    const auto rank = static_cast<int>(first.size());
    check(rank >= 1 && axis_ >= -rank && axis_ <= rank,
          who + ": axis " + std::to_string(axis_) + " is outside inputs of shape (None, " + shape_str(first).substr(1));
    sample_axis_ = axis_ < 0 ? axis_ + rank : axis_ - 1;
    Shape out = first;
    out[static_cast<size_t>(sample_axis_)] = 0;
    for (const Shape& s : input_shapes) {
      bool ok = s.size() == first.size();
      for (size_t d = 0; ok && d < s.size(); ++d) ok = static_cast<int>(d) == sample_axis_ || s[d] == first[d];
      check(ok, who + ": inputs " + shape_str(first) + " and " + shape_str(s) + " differ outside the axis " +
                    std::to_string(axis_));
      out[static_cast<size_t>(sample_axis_)] += s[static_cast<size_t>(sample_axis_)];
    }
    // Blocks of the copy: outer = the sample dims before the axis.
    outer_per_sample_ = 1;
    for (int d = 0; d < sample_axis_; ++d) outer_per_sample_ *= out[static_cast<size_t>(d)];
    len_.clear();
    start_.clear();
    int64_t at = 0;
    for (const Shape& s : input_shapes) {
      len_.push_back(shape_numel(s) / outer_per_sample_);
      start_.push_back(at);
      at += len_.back();
    }
    mark_built(input_shapes, out);
    return out;
  }

  void forward(std::span<const Tensor* const> in, Tensor& out, const RunContext& ctx) override {
    const int64_t n = check_inputs(in);
    out.resize_batched(n, output_shape());
    copy_blocks(ctx, n, [&](size_t k, int64_t o, int64_t at, int64_t len) {
      std::memcpy(out.f32() + at, in[k]->f32() + o * len, static_cast<size_t>(len) * sizeof(float));
    });
  }

  void backward(std::span<const Tensor* const> in, const Tensor&, const Tensor& dout, std::span<Tensor* const> din,
                const RunContext& ctx) override {
    const int64_t n = check_inputs(in);
    detail::check_dout(*this, dout, n);
    for (size_t k = 0; k < din.size(); ++k)
      if (din[k] != nullptr) din[k]->resize(in[k]->shape());
    copy_blocks(ctx, n, [&](size_t k, int64_t o, int64_t at, int64_t len) {
      if (k < din.size() && din[k] != nullptr)
        std::memcpy(din[k]->f32() + o * len, dout.f32() + at, static_cast<size_t>(len) * sizeof(float));
    });
  }

  json get_config() const override {
    return {{"name", name()}, {"axis", axis_}, {"trainable", true}, {"dtype", "float32"}};
  }
  std::unique_ptr<Layer> clone() const override { return std::make_unique<ConcatenateLayer>(*this); }
  // The axis in the per-sample shape (built layers only).
  int sample_axis() const { return sample_axis_; }

 private:
  int64_t check_inputs(std::span<const Tensor* const> in) const {
    if (!built()) throw Error(detail::layer_label(*this) + ": forward/backward before build");
    if (in.size() != input_shapes().size()) throw Error(detail::layer_label(*this) + ": wrong number of inputs");
    const int64_t n = in[0] ? in[0]->dim(0) : 0;
    for (size_t k = 0; k < in.size(); ++k) {
      const Shape& want = input_shapes()[k];
      bool ok = in[k] != nullptr && in[k]->dtype() == DType::kFloat32 && in[k]->rank() == want.size() + 1 &&
                in[k]->dim(0) == n;
      for (size_t d = 0; ok && d < want.size(); ++d) ok = in[k]->dim(d + 1) == want[d];
      if (!ok) throw Error(detail::layer_label(*this) + ": input " + std::to_string(k) + " does not match its built shape");
    }
    return n;
  }

  // f(input k, outer index o, output offset, block length) for every block:
  // outer = the batch times the sample dims before the axis.
  template <class F>
  void copy_blocks(const RunContext& ctx, int64_t n, F&& f) const {
    const int64_t out_block = shape_numel(output_shape()) / outer_per_sample_;
    detail::run_chunks(ctx, n * outer_per_sample_, [&](int64_t o0, int64_t o1, int) {
      for (int64_t o = o0; o < o1; ++o)
        for (size_t k = 0; k < len_.size(); ++k) f(k, o, o * out_block + start_[k], len_[k]);
    });
  }

  int axis_;
  int sample_axis_ = 0;
  int64_t outer_per_sample_ = 1;
  std::vector<int64_t> len_, start_;  // per input: block length and offset in an output block
};

}  // namespace

namespace layers {
LayerPtr Concatenate(int axis, std::string name) { return std::make_shared<ConcatenateLayer>(axis, std::move(name)); }
}  // namespace layers

namespace detail {
namespace {
LayerPtr concatenate_from_config(const json& c) {
  const int axis = c.contains("axis") ? static_cast<int>(config_int(c["axis"], "axis")) : -1;
  return layers::Concatenate(axis, config_name(c));
}
OpSpec concatenate_op_spec(const Layer& layer) {
  // The axis is known once the layer is built (Keras counts the batch).
  const auto& l = dynamic_cast<const ConcatenateLayer&>(layer);
  return {.op = OpKind::kConcatenation, .axis = l.built() ? l.sample_axis() : -1};
}
}  // namespace

LayerKind concatenate_kind() {
  return {.class_name = "Concatenate",
          .from_config = &concatenate_from_config,
          .op = OpKind::kConcatenation,
          .op_spec = &concatenate_op_spec,
          .quant_role = QuantRole::kOutputRange};
}
}  // namespace detail
}  // namespace qlite
