#include "qlite/train/model.h"

namespace qlite {

std::unique_ptr<Sequential> make_seed_model(int num_classes, uint64_t seed) {
  check(num_classes >= 1, "make_seed_model: num_classes must be >= 1, got " + std::to_string(num_classes));
  layers::Conv2DOptions conv;
  conv.activation = Activation::kRelu;
  auto model = std::make_unique<Sequential>(
      std::initializer_list<LayerPtr>{layers::Input({28, 28}), layers::Reshape({28, 28, 1}),
                                      layers::Conv2D(12, {3, 3}, conv), layers::MaxPooling2D({2, 2}),
                                      layers::Flatten(), layers::Dense(num_classes)},
      "sequential");
  model->build(seed);
  return model;
}

}  // namespace qlite
