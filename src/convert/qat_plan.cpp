// Planning for quantization-aware models: every number comes from the QAT
// layers' lowered() (the integers their inference-mode evaluation uses), so
// the converted model reproduces QAT predictions exactly. No calibration.
#include "convert/qat_plan.h"

#include "qlite/quant/qat.h"

namespace qlite::convert::detail {

namespace {

ActQuant act(const quant::TensorQuant& t) { return {t.scale, t.zero_point}; }

void check_int8(const quant::TensorQuant& t, const std::string& layer, const char* what) {
  check(t.num_bits == 8 && t.qmin >= -128 && t.qmax <= 127,
        "convert: QAT layer '" + layer + "' has a " + std::to_string(t.num_bits) + "-bit " + what +
            ", which TFLite int8 cannot express");
}

}  // namespace

bool is_quantization_aware(const Model& model) {
  for (size_t i = 0; i < model.num_layers(); ++i) {
    const std::string t = model.layer(i).type();
    if (t == "QuantizeWrapper" || t == "QuantizeLayer") return true;
  }
  return false;
}

std::vector<NodePlan> plan_qat_model(const Model& model, std::vector<const Layer*>& layers) {
  const size_t n = model.num_layers();
  std::vector<NodePlan> plans(n);  // kFloat unless a QAT layer says otherwise
  for (size_t i = 1; i < n; ++i) {
    const Layer& layer = model.layer(i);
    const auto* q = dynamic_cast<const quant::QuantizedLayer*>(&layer);
    if (q == nullptr) continue;  // left float by selective annotation
    // A shared layer's later call reads other inputs: its integers (input
    // parameters, bias, multipliers) come from a copy connected to them, as
    // the copy that ran the call in training and QAT evaluation is.
    std::unique_ptr<Layer> call_copy;
    if (model.nodes()[i].call > 0) {
      call_copy = layer.clone();
      std::vector<Shape> shapes;
      std::vector<Layer*> producers;
      for (int k : model.nodes()[i].inputs) {
        shapes.push_back(model.layer(static_cast<size_t>(k)).output_shape());
        producers.push_back(&model.layer(static_cast<size_t>(k)));
      }
      Rng rng(0);
      call_copy->build(shapes, rng);  // built: keeps the weights
      call_copy->connect_inputs(producers);
      q = dynamic_cast<const quant::QuantizedLayer*>(call_copy.get());
    }
    const quant::LoweredQuant lq = q->lowered();
    check(lq.tflite_compatible, "convert: QAT layer '" + layer.name() +
                                    "' uses a quantization scheme TFLite int8 cannot express");
    check_int8(lq.output, layer.name(), "output");
    NodePlan& p = plans[i];
    p.kind = Kind::kInt8;
    p.out = act(lq.output);
    if (lq.input_quantized) {
      check_int8(lq.input, layer.name(), "input");
      p.in = act(lq.input);
    }
    switch (lq.op) {
      case quant::LoweredOp::kQuantize: {
        p.identity = true;
        // The model input's own quantizer: quantize at the graph boundary.
        if (model.nodes()[i].inputs.at(0) == 0) {
          plans[0].kind = Kind::kInt8;
          plans[0].out = p.out;
        }
        break;
      }
      case quant::LoweredOp::kActivation: {
        // TFLite 2.9 refuses int8 LOGISTIC, TANH, SOFTMAX with other output parameters.
        const std::optional<ActQuant> fixed = fixed_output_quant(lq.spec.op);
        check(!fixed || (fixed->scale == p.out.scale && fixed->zero_point == p.out.zero_point),
              "convert: QAT layer '" + layer.name() + "' quantizes its " + op_kind_name(lq.spec.op) +
                  " output with scale " + std::to_string(p.out.scale) + ", zero point " +
                  std::to_string(p.out.zero_point) + "; TFLite int8 requires scale " + std::to_string(fixed ? fixed->scale : 0.0f) +
                  ", zero point " + std::to_string(fixed ? fixed->zero_point : 0));
        [[fallthrough]];
      }
      case quant::LoweredOp::kConcatenation:
      case quant::LoweredOp::kMean:
      case quant::LoweredOp::kAdd:
        layers[i] = &dynamic_cast<const quant::QuantizeWrapper&>(layer).inner();
        for (const quant::TensorQuant& t : lq.inputs) {
          check_int8(t, layer.name(), "input");
          p.ins.push_back(act(t));
        }
        break;
      case quant::LoweredOp::kPassThrough:
        layers[i] = &dynamic_cast<const quant::QuantizeWrapper&>(layer).inner();
        break;
      case quant::LoweredOp::kConv2D:
      case quant::LoweredOp::kDepthwiseConv2D:
      case quant::LoweredOp::kDense: {
        layers[i] = &dynamic_cast<const quant::QuantizeWrapper&>(layer).inner();
        check(lq.input_quantized, "convert: QAT layer '" + layer.name() + "' has a float input");
        p.weights = IntWeights{lq.weights, lq.weight_scales};
        // The output channels: the weights' quantized dimension (OHWI 0, 1HWC 3, [out, in] 0).
        const auto axis = static_cast<size_t>(lq.quantized_dimension);
        const size_t out_c = axis < lq.weights_shape.size() ? static_cast<size_t>(lq.weights_shape[axis]) : 0;
        p.bias = lq.bias.empty() ? std::vector<int32_t>(out_c, 0) : lq.bias;
        break;
      }
    }
  }
  return plans;
}

}  // namespace qlite::convert::detail
