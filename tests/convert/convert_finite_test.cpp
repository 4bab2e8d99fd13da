// The converter refuses non-finite weights and QAT ranges (a diverged run)
// with a message naming the layer, instead of writing NaN scales or integers
// quantized from garbage.
#include <gtest/gtest.h>

#include <limits>
#include <regex>

#include "qlite/convert.h"
#include "qlite/quant/qat.h"
#include "qlite/train.h"

namespace qlite {
namespace {

std::unique_ptr<Sequential> small_model() {
  auto m = std::make_unique<Sequential>();
  m->add(layers::Input({4}));
  m->add(layers::Dense(3));
  m->build(1);
  return m;
}

std::string convert_error(const Model& m, convert::Mode mode) {
  convert::ConvertOptions o;
  o.mode = mode;
  try {
    convert::convert_model(m, o);
  } catch (const Error& e) {
    return e.what();
  }
  return "";
}

TEST(ConvertFinite, RefusesNonFiniteWeightsNamingTheLayer) {
  auto m = small_model();
  EXPECT_EQ(convert_error(*m, convert::Mode::kFloat32), "");
  m->layer(1).params()[0]->value.f32()[2] = std::numeric_limits<float>::infinity();
  for (convert::Mode mode : {convert::Mode::kFloat32, convert::Mode::kDynamic, convert::Mode::kFloat16}) {
    const std::string msg = convert_error(*m, mode);
    EXPECT_NE(msg.find("layer '" + m->layer(1).name() + "'"), std::string::npos) << msg;
    EXPECT_NE(msg.find("holds inf"), std::string::npos) << msg;
  }
}

TEST(ConvertFinite, RefusesNonFiniteQatRangesNamingTheLayer) {
  quant::register_qat_layers();
  auto q = quant::quantize_model(*small_model());
  EXPECT_EQ(convert_error(*q, convert::Mode::kInt8), "");
  Param* range = nullptr;
  std::string layer;
  for (const Node& n : q->nodes())
    for (Param* p : n.layer->params())
      if (range == nullptr && p->name.find("max") != std::string::npos) range = p, layer = n.layer->name();
  ASSERT_NE(range, nullptr);
  range->value.f32()[0] = std::numeric_limits<float>::quiet_NaN();
  const std::string msg = convert_error(*q, convert::Mode::kInt8);
  EXPECT_NE(msg.find("layer '" + layer + "' parameter '" + range->name + "' holds nan"), std::string::npos) << msg;
}

// Finite weights too large to quantize (every weight 1e30 or 3e38, as a run
// that diverged without reaching inf leaves them): the int8 conversion fails
// in the quantizer (a bias scale or a weight range past float), and the
// message names the layer and prints its numbers short. Two Dense layers: the
// second one's bias scale (input scale x weight scale) overflows at 1e30.
TEST(ConvertFinite, WeightsTooLargeToQuantizeNameTheLayer) {
  for (const float big : {1e30f, 3e38f}) {
    Sequential m;
    m.add(layers::Input({4}));
    m.add(layers::Dense(3));
    m.add(layers::Dense(2));
    m.build(1);
    for (size_t l = 1; l < m.num_layers(); ++l)
      for (Param* p : m.layer(l).params())
        for (int64_t i = 0; i < p->value.numel(); ++i) p->value.f32()[i] = big;
    Tensor rep({2, 4});
    for (int64_t i = 0; i < rep.numel(); ++i) rep.data<float>()[i] = 0.25f * static_cast<float>(i);
    convert::ConvertOptions o;
    o.mode = convert::Mode::kInt8;
    o.representative = &rep;
    std::string msg;
    try {
      convert::convert_model(m, o);
    } catch (const Error& e) {
      msg = e.what();
    }
    ASSERT_FALSE(msg.empty()) << big;
    const bool names_a_layer = msg.rfind("convert: layer '" + m.layer(1).name() + "' (Dense): ", 0) == 0 ||
                               msg.rfind("convert: layer '" + m.layer(2).name() + "' (Dense): ", 0) == 0;
    EXPECT_TRUE(names_a_layer) << msg;
    EXPECT_FALSE(std::regex_search(msg, std::regex("[0-9]{12}"))) << msg;
  }
}

}  // namespace
}  // namespace qlite
