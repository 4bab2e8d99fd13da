// save_model / load_model: bit-identical round trips, the safetensors layout,
// and Errors (never crashes) for corrupt, truncated or mismatched files and
// for interrupted saves.
#include <gtest/gtest.h>
#include <sys/resource.h>
#include <unistd.h>

#include <csignal>
#include <filesystem>
#include <fstream>

#include "model_test_util.h"
#include "train/model_json.h"
#include "train/safetensors.h"

namespace qlite {
namespace {

namespace fs = std::filesystem;
using testing::same_bits;

class SaveLoad : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() /
           ("qlite_model_test_" + std::to_string(::getpid()) + "_" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
  }
  void TearDown() override {
    std::error_code ec;
    fs::permissions(dir_, fs::perms::owner_all, ec);
    fs::remove_all(dir_, ec);
  }
  std::string dir() const { return dir_.string(); }
  fs::path path(const char* name) const { return dir_ / name; }

  static std::string read(const fs::path& p) {
    std::ifstream in(p, std::ios::binary);
    return {std::istreambuf_iterator<char>(in), {}};
  }
  static void write(const fs::path& p, const std::string& bytes) {
    std::ofstream out(p, std::ios::binary | std::ios::trunc);
    out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
  }
  // A safetensors file from a header text and raw data.
  static std::string safetensors(const std::string& header, const std::string& data) {
    std::string out(8, '\0');
    const uint64_t n = header.size();
    std::memcpy(out.data(), &n, 8);
    return out + header + data;
  }
  // Expects load_model to throw an Error whose message contains every fragment.
  void expect_load_error(std::vector<std::string> fragments) {
    try {
      load_model(dir());
      ADD_FAILURE() << "load_model did not throw";
    } catch (const Error& e) {
      for (const std::string& f : fragments)
        EXPECT_NE(std::string(e.what()).find(f), std::string::npos) << "'" << f << "' not in: " << e.what();
    }
  }

  fs::path dir_;
};

Tensor random_input(int64_t n, Shape per_sample, uint64_t seed) {
  per_sample.insert(per_sample.begin(), n);
  Tensor x(per_sample);
  Rng rng(seed);
  for (float& v : x.span_f32()) v = rng.uniform();
  return x;
}

TEST_F(SaveLoad, SeedModelRoundTripIsBitIdentical) {
  auto m = make_seed_model(10, 4);
  m->compile(Adam({0.002f}), {true});
  Tensor y({16}, DType::kInt32);
  for (int i = 0; i < 16; ++i) y.data<int32_t>()[i] = i % 10;
  m->train_step(random_input(16, {28, 28}, 1), y);  // weights that are not the initial ones
  save_model(*m, dir());
  EXPECT_TRUE(fs::exists(path("model.json")));
  EXPECT_TRUE(fs::exists(path("model.safetensors")));

  auto loaded = load_model(dir());
  const Tensor x = random_input(40, {28, 28}, 2);
  EXPECT_TRUE(same_bits(m->predict(x), loaded->predict(x)));
  EXPECT_EQ(loaded->to_json(), m->to_json());
  EXPECT_EQ(loaded->class_name(), "Sequential");
  ASSERT_TRUE(loaded->compiled());
  EXPECT_EQ(loaded->optimizer()->get_config(), m->optimizer()->get_config());
  EXPECT_TRUE(loaded->loss().from_logits);
  EXPECT_EQ(loaded->optimizer()->state().iterations, 1);  // the training state came back too
  for (const auto& f : fs::directory_iterator(dir_))  // no temporary files left behind
    EXPECT_TRUE(f.path().filename() == "model.json" || f.path().filename() == "model.safetensors" ||
                f.path().filename() == "optimizer.safetensors")
        << f.path();
}

TEST_F(SaveLoad, SafetensorsLayoutFollowsTheFormat) {
  auto m = testing::dense_model(4, 3, 1);
  save_model(*m, dir());
  const std::string file = read(path("model.safetensors"));
  ASSERT_GE(file.size(), 8u);
  uint64_t n = 0;
  for (int i = 7; i >= 0; --i) n = (n << 8) | static_cast<uint8_t>(file[i]);  // little-endian
  EXPECT_EQ(n % 8, 0u);
  ASSERT_LE(8 + n, file.size());
  const json h = json::parse(file.substr(8, n));
  const size_t data_start = 8 + n;
  EXPECT_EQ(file.size() - data_start, (12u + 3u) * 4u);
  for (const char* name : {"dense/kernel", "dense/bias"}) {
    const json& e = h.at(name);
    EXPECT_EQ(e.at("dtype"), "F32");
    const Param* p = std::string(name) == "dense/kernel" ? m->layer(1).params()[0] : m->layer(1).params()[1];
    EXPECT_EQ(e.at("shape").get<Shape>(), p->value.shape());
    const uint64_t b = e.at("data_offsets")[0], end = e.at("data_offsets")[1];
    ASSERT_EQ(end - b, p->value.nbytes());
    EXPECT_EQ(std::memcmp(file.data() + data_start + b, p->value.raw(), p->value.nbytes()), 0);
  }
  for (const auto& [k, v] : h.at("__metadata__").items()) EXPECT_TRUE(v.is_string()) << k;
  const json mj = json::parse(read(path("model.json")));
  EXPECT_EQ(mj.at("class_name"), "Sequential");
  EXPECT_EQ(mj.at("qlite_version"), "0.1.0");
  EXPECT_EQ(mj.at("config").at("layers").size(), 2u);
  EXPECT_EQ(mj.at("config").at("layers")[1].at("class_name"), "Dense");
}

TEST_F(SaveLoad, FunctionalModelRoundTrip) {
  register_layer_class("AddTest", [](const json& c) -> LayerPtr {
    return std::make_shared<testing::AddTest>(c.at("name").get<std::string>());
  });
  Model m("functional");
  m.add_node(layers::Input({5}));
  const int a = m.add_node(layers::Dense(4));
  const int b = m.add_node(layers::Dense(4), {0});
  m.add_node(std::make_shared<testing::AddTest>(), {a, b});
  m.add_node(layers::Dense(2));
  m.build(3);
  const json j = m.to_json();
  EXPECT_EQ(j.at("class_name"), "Functional");
  EXPECT_EQ(model_from_json(j)->to_json(), j);
  save_model(m, dir());
  auto loaded = load_model(dir());
  EXPECT_EQ(loaded->nodes()[2].inputs, std::vector<int>{0});
  EXPECT_EQ(loaded->nodes()[3].inputs, (std::vector<int>{1, 2}));
  EXPECT_FALSE(loaded->compiled());
  const Tensor x = random_input(9, {5}, 3);
  EXPECT_TRUE(same_bits(m.predict(x), loaded->predict(x)));
}

// A residual block with the MobileNet-class layers: BatchNormalization state
// (moving statistics) and the Add's two inbound nodes survive save and load.
TEST_F(SaveLoad, ResidualBatchNormModelRoundTrip) {
  Model m("residual");
  const int in = m.add_node(layers::Input({6, 6, 2}));
  int x = m.add_node(layers::Conv2D(3, {3, 3}, {.padding = Padding::kSame, .use_bias = false, .name = "c"}), {in});
  x = m.add_node(layers::BatchNormalization({.momentum = 0.9f, .name = "bn"}), {x});
  const int stem = m.add_node(layers::ReLU(6.0f, "r"), {x});
  x = m.add_node(layers::Conv2D(3, {1, 1}, {.name = "c1"}), {stem});
  x = m.add_node(layers::Add("add"), {x, stem});
  x = m.add_node(layers::ActivationLayer(Activation::kRelu), {x});
  x = m.add_node(layers::Flatten(), {x});
  m.add_node(layers::Dense(2), {x});
  m.compile(Adam(), SparseCategoricalCrossentropy{true});
  const Tensor x_train = random_input(16, {6, 6, 2}, 4);
  Tensor y({16}, DType::kInt32);
  for (int i = 0; i < 16; ++i) y.data<int32_t>()[i] = i % 2;
  FitOptions fo;
  fo.batch_size = 8;
  m.fit(x_train, y, fo);  // moves the batch-norm statistics off their start
  const float moved = m.find_layer("bn")->params()[2]->value.f32()[0];
  EXPECT_NE(moved, 0.0f);
  save_model(m, dir());
  auto loaded = load_model(dir());
  EXPECT_EQ(loaded->nodes()[5].inputs, (std::vector<int>{4, 3}));
  EXPECT_EQ(loaded->find_layer("bn")->params()[2]->value.f32()[0], moved);
  EXPECT_EQ(loaded->find_layer("bn")->get_config()["momentum"], 0.9f);
  const Tensor probe = random_input(5, {6, 6, 2}, 3);
  EXPECT_TRUE(same_bits(m.predict(probe), loaded->predict(probe)));
}

TEST_F(SaveLoad, CorruptSafetensorsAreErrorsNamingFileAndTensor) {
  save_model(*testing::dense_model(4, 3, 1), dir());
  const fs::path w = path("model.safetensors");
  const std::string data(60, '\0');  // kernel 48 bytes + bias 12 bytes
  auto header = [](const std::string& kernel, const std::string& bias, const std::string& extra = "") {
    return "{\"dense/kernel\":" + kernel + ",\"dense/bias\":" + bias + extra + "}";
  };
  const std::string k_ok = R"({"dtype":"F32","shape":[4,3],"data_offsets":[0,48]})";
  const std::string b_ok = R"({"dtype":"F32","shape":[3],"data_offsets":[48,60]})";

  write(w, safetensors(header(k_ok, b_ok), data));
  EXPECT_NO_THROW(load_model(dir()));  // the hand-written baseline is valid

  write(w, safetensors(header(R"({"dtype":"I32","shape":[4,3],"data_offsets":[0,48]})", b_ok), data));
  expect_load_error({"model.safetensors", "dense/kernel", "I32"});
  write(w, safetensors(header(R"({"dtype":"F32","shape":[3,4],"data_offsets":[0,48]})", b_ok), data));
  expect_load_error({"model.safetensors", "dense/kernel", "(3, 4)"});
  write(w, safetensors(R"({"dense/kernel":)" + k_ok + "}", data.substr(0, 48)));
  expect_load_error({"model.safetensors", "missing", "dense/bias"});
  write(w, safetensors(header(k_ok, b_ok, R"(,"extra/w":{"dtype":"F32","shape":[1],"data_offsets":[60,64]})"),
                       data + "abcd"));
  expect_load_error({"model.safetensors", "extra/w"});
  write(w, safetensors(header(k_ok, R"({"dtype":"F32","shape":[3],"data_offsets":[40,52]})"), data));
  expect_load_error({"model.safetensors", "overlaps"});
  write(w, safetensors(header(k_ok, R"({"dtype":"F32","shape":[3],"data_offsets":[48,600]})"), data));
  expect_load_error({"model.safetensors", "dense/bias", "outside"});
  write(w, safetensors(header(k_ok, R"({"dtype":"F32","shape":[-3],"data_offsets":[48,60]})"), data));
  expect_load_error({"model.safetensors", "dense/bias"});
  write(w, safetensors(header(k_ok, R"({"dtype":"F32","shape":[3],"data_offsets":[48,60]})"), data + "xx"));
  expect_load_error({"model.safetensors", "trailing"});
  write(w, safetensors(header(k_ok, R"({"dtype":"X9","shape":[3],"data_offsets":[48,60]})"), data));
  expect_load_error({"model.safetensors", "dense/bias", "X9"});
  write(w, safetensors(header(k_ok, R"({"dtype":"F32","shape":[3],"data_offsets":"zero"})"), data));
  expect_load_error({"model.safetensors", "dense/bias"});
  write(w, safetensors("{not json", data));
  expect_load_error({"model.safetensors", "JSON"});
  std::string huge = safetensors(header(k_ok, b_ok), data);
  huge[5] = 0x10;  // header length far beyond the file
  write(w, huge);
  expect_load_error({"model.safetensors", "header length"});
  write(w, "abc");
  expect_load_error({"model.safetensors", "too short"});
  fs::remove(w);
  expect_load_error({"model.safetensors"});
}

// In memory for speed: every truncation and many random byte changes of a
// valid file must give an Error or a valid parse, never a crash (run under
// ASan to see the difference).
TEST_F(SaveLoad, EveryTruncationAndByteFlipIsAnErrorOrAParse) {
  save_model(*testing::dense_model(4, 3, 1), dir());
  const std::string weights = read(path("model.safetensors")), model_json = read(path("model.json"));
  auto parse_weights = [](const std::string& bytes) {
    std::vector<std::byte> buf(bytes.size());
    if (!bytes.empty()) std::memcpy(buf.data(), bytes.data(), bytes.size());
    return safetensors::parse(buf, "w");
  };
  EXPECT_EQ(parse_weights(weights).tensors.size(), 2u);
  for (size_t len = 0; len < weights.size(); ++len)
    EXPECT_THROW(parse_weights(weights.substr(0, len)), Error) << "cut at " << len;
  Rng rng(99);
  for (int trial = 0; trial < 3000; ++trial) {
    std::string wb = weights, jb = model_json;
    for (int k = 0; k < 3; ++k) wb[rng.below(8 + 200)] = static_cast<char>(rng.below(256));  // mostly the header
    for (int k = 0; k < 2; ++k) jb[rng.below(jb.size())] = static_cast<char>(rng.below(256));
    try {
      parse_weights(wb);
    } catch (const Error&) {
    }
    const json j = json::parse(jb, nullptr, /*allow_exceptions=*/false);
    if (j.is_discarded()) continue;
    try {
      model_from_json(j);
    } catch (const Error&) {
    }
  }
  // Through the files too, for a few cuts.
  const fs::path w = path("model.safetensors"), j = path("model.json");
  for (size_t len : {size_t{0}, size_t{7}, size_t{8}, size_t{100}, weights.size() - 1}) {
    write(w, weights.substr(0, len));
    EXPECT_THROW(load_model(dir()), Error) << "safetensors cut at " << len;
  }
  write(w, weights);
  for (size_t len : {size_t{0}, size_t{1}, model_json.size() / 2, model_json.size() - 3}) {
    write(j, model_json.substr(0, len));
    EXPECT_THROW(load_model(dir()), Error) << "model.json cut at " << len;
  }
}

TEST_F(SaveLoad, MalformedModelJsonIsAnErrorNamingTheFile) {
  save_model(*testing::dense_model(4, 3, 1), dir());
  const fs::path j = path("model.json");
  const json good = json::parse(read(j));
  auto with = [&](const std::function<void(json&)>& edit) {
    json v = good;
    edit(v);
    write(j, v.dump());
  };
  write(j, "{\"class_name\": ");
  expect_load_error({"model.json", "JSON"});
  write(j, "[1, 2]");
  expect_load_error({"model.json"});
  with([](json& v) { v["class_name"] = 5; });
  expect_load_error({"model.json", "class_name"});
  with([](json& v) { v["config"]["layers"] = 5; });
  expect_load_error({"model.json", "layers"});
  with([](json& v) { v["config"]["layers"] = json::array(); });
  expect_load_error({"model.json", "layers"});
  with([](json& v) { v["config"]["layers"][1].erase("class_name"); });
  expect_load_error({"model.json", "layer 1", "class_name"});
  with([](json& v) { v["config"]["layers"][1]["class_name"] = "Frobnicate"; });
  expect_load_error({"model.json", "Frobnicate"});
  with([](json& v) { v["config"]["layers"][1]["config"]["units"] = "ten"; });
  expect_load_error({"model.json", "units"});
  with([](json& v) { v["config"]["layers"][1]["config"] = 3; });
  expect_load_error({"model.json", "layer 1", "config"});
  with([](json& v) { v["config"]["layers"][1]["inbound_nodes"] = json::parse(R"([[["ghost", 0, 0, {}]]])"); });
  expect_load_error({"model.json", "ghost"});
  with([](json& v) { v["config"]["layers"][1]["inbound_nodes"] = "x"; });
  expect_load_error({"model.json", "inbound_nodes"});
  with([](json& v) { v["training_config"] = {{"optimizer_config", {{"class_name", "Nadam"}}}}; });
  expect_load_error({"model.json", "Nadam"});
  with([](json& v) { v["config"]["layers"][1]["config"]["units"] = 4; });  // valid JSON, wrong weights
  expect_load_error({"model.safetensors", "dense/kernel", "(4, 4)"});
  fs::remove(j);
  expect_load_error({"model.json"});
}

// model_from_json_text is load_model's model.json half (the fuzz target
// fuzz/model_json_fuzz.cpp feeds it arbitrary bytes): the architecture, the
// compiled optimizer and the JSON training state, without the weight files.
// A bad training state is an Error naming model.json (load_model used to
// report it without the file's name).
TEST_F(SaveLoad, ModelJsonTextIsLoadModelsModelJsonHalf) {
  auto m = testing::dense_model(4, 3, 1);
  m->add(layers::Dropout(0.5f, 3, "drop"));
  m->build(1);
  m->compile(SGD({.learning_rate = 0.1f, .momentum = 0.9f}), {.from_logits = true});
  const testing::Data d = testing::separable_data(8, 4, 3, 2);
  m->fit(d.x, d.y, {.epochs = 2, .batch_size = 4});
  save_model(*m, dir());
  const std::string text = read(path("model.json"));

  const auto t = model_from_json_text(text, "x/model.json");
  ASSERT_TRUE(t->compiled());
  EXPECT_EQ(t->optimizer()->name(), "SGD");
  EXPECT_EQ(t->epochs_trained(), 2);
  EXPECT_TRUE(t->loss().from_logits);
  EXPECT_EQ(t->find_layer("drop")->training_state(), m->find_layer("drop")->training_state());
  EXPECT_EQ(t->to_json(), m->to_json());

  auto error_of = [](const std::string& s) {
    try {
      model_from_json_text(s, "x/model.json");
    } catch (const Error& e) {
      return std::string(e.what());
    }
    return std::string("no error");
  };
  EXPECT_EQ(error_of("{\"class_name\": ").rfind("x/model.json: invalid JSON", 0), 0u);
  EXPECT_EQ(error_of("").rfind("x/model.json: invalid JSON", 0), 0u);
  json j = json::parse(text);
  j["training_config"]["layer_state"] = {{"ghost", {{"steps", 1}}}};
  EXPECT_EQ(error_of(j.dump()).rfind("x/model.json: ", 0), 0u);
  EXPECT_NE(error_of(j.dump()).find("'ghost'"), std::string::npos);
  write(path("model.json"), j.dump());
  expect_load_error({"model.json: ", "'ghost'"});
  j["training_config"]["layer_state"] = {{"drop", "five"}};
  write(path("model.json"), j.dump());
  expect_load_error({"model.json: ", "drop"});
  j["training_config"].erase("layer_state");
  j["training_config"]["optimizer_state"]["iterations"] = -1;
  write(path("model.json"), j.dump());
  expect_load_error({"model.json: ", "iterations"});
}

// A model.json is untrusted: the architecture it describes is bounded before
// any weight is allocated. Each case below asks for 4 to 64 GiB of float32 in
// one tensor; without the check qlite allocated and initialised it (an
// out-of-memory kill on this machine), with it each is a one-line Error naming
// the layer and the tensor, and nothing is allocated.
TEST_F(SaveLoad, ArchitectureAskingForMoreThanTwoGibOfWeightsIsRefusedBeforeAllocating) {
  auto error_of = [](const json& j) {
    try {
      model_from_json_text(j.dump(), "x/model.json");
    } catch (const Error& e) {
      return std::string(e.what());
    }
    return std::string("no error");
  };
  auto m = testing::dense_model(4, 3, 1);
  const json base = m->to_json();
  auto find = [](json& j, const std::string& cls) -> json& {
    for (json& l : j["config"]["layers"])
      if (l["class_name"] == cls) return l["config"];
    throw std::runtime_error("no " + cls);
  };
  {
    json j = base;
    find(j, "Dense")["units"] = 1 << 28;  // kernel (4, 2^28): 2^30 values
    const std::string e = error_of(j);
    EXPECT_NE(e.find("Dense '"), std::string::npos) << e;
    EXPECT_NE(e.find("kernel (4, 268435456)"), std::string::npos) << e;
    EXPECT_NE(e.find("536870912"), std::string::npos) << e;
    EXPECT_EQ(e.find('\n'), std::string::npos) << e;
  }
  // Conv2D, DepthwiseConv2D and BatchNormalization in a functional model.
  auto in = layers::Input({8, 8, 2}, "in");
  auto c = layers::Conv2D(4, {3, 3}, {.padding = Padding::kSame})(in);
  auto d = layers::DepthwiseConv2D({3, 3}, {.padding = Padding::kSame})(c);
  auto b = layers::BatchNormalization()(d);
  auto f = layers::Flatten()(b);
  Model g(in, layers::Dense(2)(f), "g");
  g.build(0);
  const json gj = g.to_json();
  {
    json j = gj;
    find(j, "Conv2D")["filters"] = 1 << 29;  // (3, 3, 2, 2^29)
    EXPECT_NE(error_of(j).find("Conv2D 'conv2d"), std::string::npos) << error_of(j);
  }
  {
    json j = gj;
    find(j, "DepthwiseConv2D")["depth_multiplier"] = 1 << 28;  // (3, 3, 4, 2^28)
    EXPECT_NE(error_of(j).find("depthwise_kernel (3, 3, 4, 268435456)"), std::string::npos) << error_of(j);
  }
  {
    json j = gj;
    for (json& l : j["config"]["layers"])
      if (l["class_name"] == "InputLayer") l["config"]["batch_input_shape"] = json::array({nullptr, 1, 1, 1 << 30});
    find(j, "Conv2D")["kernel_size"] = json::array({1, 1});
    find(j, "Conv2D")["filters"] = 1;
    // Conv2D (1, 1, 2^30, 1) is refused first: every weighted layer checks.
    EXPECT_NE(error_of(j).find("kernel (1, 1, 1073741824, 1)"), std::string::npos) << error_of(j);
  }
}

TEST_F(SaveLoad, LeftoverTemporaryFilesDoNotMatter) {
  fs::create_directories(dir_);
  write(path(".model.json.tmp-AAAAAA"), "{half a fil");
  write(path(".model.safetensors.tmp-BBBBBB"), "garbage");
  auto m = testing::dense_model(4, 3, 2);
  save_model(*m, dir());
  auto loaded = load_model(dir());
  const Tensor x = random_input(5, {4}, 1);
  EXPECT_TRUE(same_bits(m->predict(x), loaded->predict(x)));
}

// A save that fails half-way (here: the file size limit, as a full disk
// would) leaves the previous complete model in place and no temporary files.
TEST_F(SaveLoad, FailedSaveKeepsThePreviousModel) {
  auto first = make_seed_model(10, 1), second = make_seed_model(10, 2);
  save_model(*first, dir());
  rlimit old{};
  ASSERT_EQ(::getrlimit(RLIMIT_FSIZE, &old), 0);
  auto old_handler = std::signal(SIGXFSZ, SIG_IGN);
  rlimit small = old;
  small.rlim_cur = 4096;  // the seed model's weights are ~80 KB
  ASSERT_EQ(::setrlimit(RLIMIT_FSIZE, &small), 0);
  EXPECT_THROW(save_model(*second, dir()), Error);
  ::setrlimit(RLIMIT_FSIZE, &old);
  std::signal(SIGXFSZ, old_handler);

  auto loaded = load_model(dir());
  const Tensor x = random_input(3, {28, 28}, 5);
  EXPECT_TRUE(same_bits(first->predict(x), loaded->predict(x)));
  for (const auto& f : fs::directory_iterator(dir_))
    EXPECT_EQ(f.path().filename().string().find(".tmp"), std::string::npos) << f.path();
}

TEST_F(SaveLoad, ReadOnlyDirectoryIsAnErrorAndKeepsThePreviousModel) {
  if (::geteuid() == 0) GTEST_SKIP() << "root ignores directory permissions";
  auto first = testing::dense_model(4, 3, 1);
  save_model(*first, dir());
  const std::string before = read(path("model.safetensors"));
  fs::permissions(dir_, fs::perms::owner_read | fs::perms::owner_exec);
  EXPECT_THROW(save_model(*testing::dense_model(4, 3, 2), dir()), Error);
  fs::permissions(dir_, fs::perms::owner_all);
  EXPECT_EQ(read(path("model.safetensors")), before);
}

TEST_F(SaveLoad, DirectoryPathThatIsAFileIsAnError) {
  fs::create_directories(dir_);
  write(path("file"), "x");
  EXPECT_THROW(save_model(*testing::dense_model(4, 3, 1), (dir_ / "file").string()), Error);
}

}  // namespace
}  // namespace qlite
