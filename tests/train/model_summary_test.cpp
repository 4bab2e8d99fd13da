// summary() of the seed model against hand arithmetic, and the console bar.
#include <gtest/gtest.h>

#include <cstdio>
#include <sstream>

#include "model_test_util.h"

namespace qlite {
namespace {

std::vector<std::string> lines(const std::string& s) {
  std::vector<std::string> out;
  std::istringstream in(s);
  for (std::string l; std::getline(in, l);) out.push_back(l);
  return out;
}

// The row of a layer: "name (Type)" at the start, then shape and count.
void expect_row(const std::vector<std::string>& rows, const std::string& layer, const std::string& shape,
                const std::string& params) {
  for (const std::string& r : rows) {
    if (r.rfind(layer + " ", 0) != 0) continue;
    EXPECT_NE(r.find(shape), std::string::npos) << r;
    const std::string tail = r.substr(r.find(shape) + shape.size());
    EXPECT_EQ(tail.substr(tail.find_first_not_of(' ')), params) << r;
    return;
  }
  ADD_FAILURE() << "no row for " << layer;
}

TEST(Summary, SeedModelShapesAndParamCountsByHand) {
  auto m = make_seed_model(10, 0);
  const std::string s = m->summary();
  const auto rows = lines(s);
  EXPECT_EQ(rows.at(0), "Model: \"sequential\"");
  EXPECT_NE(s.find("Layer (type)"), std::string::npos);
  EXPECT_NE(s.find("Output Shape"), std::string::npos);
  EXPECT_NE(s.find("Param #"), std::string::npos);
  EXPECT_EQ(s.find("InputLayer"), std::string::npos);  // Keras omits it for Sequential
  // 28x28x1 -> valid 3x3 conv: 26x26x12, weights 3*3*1*12 + 12 biases = 120.
  // 2x2 pooling: 13x13x12 = 2028 features; dense 2028*10 + 10 = 20290.
  expect_row(rows, "reshape (Reshape)", "(None, 28, 28, 1)", "0");
  expect_row(rows, "conv2d (Conv2D)", "(None, 26, 26, 12)", std::to_string(3 * 3 * 1 * 12 + 12));
  expect_row(rows, "max_pooling2d (MaxPooling2D)", "(None, 13, 13, 12)", "0");
  expect_row(rows, "flatten (Flatten)", "(None, 2028)", "0");
  expect_row(rows, "dense (Dense)", "(None, 10)", std::to_string(13 * 13 * 12 * 10 + 10));
  EXPECT_NE(s.find("Total params: 20,410\n"), std::string::npos) << s;
  EXPECT_NE(s.find("Trainable params: 20,410\n"), std::string::npos);
  EXPECT_NE(s.find("Non-trainable params: 0\n"), std::string::npos);
  EXPECT_EQ(m->count_params(), 120 + 20290);
}

TEST(Summary, UnbuiltModelIsDescribedWithoutBuildingIt) {
  Sequential m;
  m.add(layers::Input({3}));
  m.add(layers::Dense(2));
  const std::string s = m.summary();
  EXPECT_NE(s.find("(None, 2)"), std::string::npos) << s;
  EXPECT_NE(s.find("Total params: 8"), std::string::npos) << s;
  EXPECT_FALSE(m.is_built());
}

TEST(Summary, FunctionalModelListsInputsAndConnections) {
  Model m("graph");
  m.add_node(layers::Input({5}));
  const int a = m.add_node(layers::Dense(4));
  const int b = m.add_node(layers::Dense(4), {0});
  m.add_node(std::make_shared<testing::AddTest>(), {a, b});
  m.build();
  const std::string s = m.summary();
  EXPECT_NE(s.find("input_layer (InputLayer)"), std::string::npos) << s;
  EXPECT_NE(s.find("Connected to"), std::string::npos);
  EXPECT_NE(s.find("dense, dense_1"), std::string::npos) << s;
  EXPECT_NE(s.find("Total params: 48"), std::string::npos) << s;  // 2 * (5*4 + 4)
}

TEST(Progress, ConsoleBarDrawsEpochsAndValidation) {
  std::FILE* f = std::tmpfile();
  ASSERT_NE(f, nullptr);
  auto data = testing::separable_data(60, 3, 2, 1);
  auto m = testing::dense_model(3, 2, 1);
  m->compile(Adam(), {true});
  FitOptions o;
  o.epochs = 2;
  o.batch_size = 10;
  o.validation_split = 0.5;
  o.on_progress = console_progress(f);
  const History h = m->fit(data.x, data.y, o);
  std::rewind(f);
  std::string out;
  for (int c; (c = std::fgetc(f)) != EOF;) out += static_cast<char>(c);
  std::fclose(f);
  EXPECT_NE(out.find("Epoch 1/2\n"), std::string::npos) << out;
  EXPECT_NE(out.find("Epoch 2/2\n"), std::string::npos) << out;
  EXPECT_NE(out.find("3/3 [==============================] - "), std::string::npos) << out;
  char want[128];
  std::snprintf(want, sizeof want, " - loss: %.4f - accuracy: %.4f - val_loss: %.4f - val_accuracy: %.4f\n",
                h.loss[1], h.accuracy[1], h.val_loss[1], h.val_accuracy[1]);
  EXPECT_NE(out.find(want), std::string::npos) << out;
  EXPECT_NE(out.find("/step"), std::string::npos) << out;
}

// Keras 2.9's Progbar, line by line: lines before the last of an epoch give
// the ETA only ("%ds", "%d:%02d" above a minute), the last one the seconds and
// time per step; values not above 1e-3 in magnitude are printed "%.4e".
TEST(Progress, ConsoleBarFollowsKerasProgbar) {
  std::FILE* f = std::tmpfile();
  ASSERT_NE(f, nullptr);
  ProgressCallback bar = console_progress(f);
  FitProgress p;
  p.epochs = 1;
  p.steps = 200;
  p.step = 1;
  p.elapsed_s = 0.5;  // 0.5 s per step: ETA 99.5 s
  p.loss = 2.30431;
  p.accuracy = 0.0625;
  bar(p);
  p.step = 200;
  p.elapsed_s = 3.25;
  p.loss = 0.0004567;
  p.accuracy = 1.0;
  p.epoch_end = true;
  p.val_loss = -0.00012;
  p.val_accuracy = 0.0;
  bar(p);
  std::rewind(f);
  std::string out;
  for (int c; (c = std::fgetc(f)) != EOF;) out += static_cast<char>(c);
  std::fclose(f);
  const std::string first = "  1/200 [..............................] - ETA: 1:39 - loss: 2.3043 - accuracy: 0.0625";
  const std::string last = "200/200 [==============================] - 3s 16ms/step - loss: 4.5670e-04 - accuracy: 1.0000"
                           " - val_loss: -1.2000e-04 - val_accuracy: 0.0000e+00";
  EXPECT_EQ(out, "Epoch 1/1\n\r" + first + "\r" + last + "\n");
}

}  // namespace
}  // namespace qlite
