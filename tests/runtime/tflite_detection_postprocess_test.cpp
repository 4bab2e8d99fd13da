// CUSTOM 'TFLite_Detection_PostProcess' (the SSD detectors' box decoding and
// non-max suppression) against the real TensorFlow Lite 2.9, which registers
// it with its builtin ops: one-op files written with qlite's writer, their
// options a FlexBuffers map as TFLite's converter writes it, run in both on
// the same input bytes.
//  - seeded random cases: FLOAT32 and UINT8 box encodings, anchors and class
//    predictions, with and without a background column, fast and regular
//    suppression, one to several classes per detection, overlapping anchors
//    (so that suppression drops boxes) and coarse scores (so that ties are
//    common, which is where the sort order shows);
//  - the Coral / TF1 SSD MobileNet shape: 1917 anchors, 90 classes plus
//    background, everything UINT8;
//  - every written slot byte-identical; the slots TFLite leaves unwritten
//    (past the detections) are 0 in qlite;
//  - files TFLite refuses are refused by qlite too.
// A failure under CI=true when the peer is missing (scripts/install_peers.sh).
#include <flatbuffers/flexbuffers.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>
#include <string>
#include <vector>

#include "lite/custom_options.h"
#include "single_op_peer.h"

namespace qlite::test {
namespace {

using T = TensorType;

struct Params {
  int num_boxes = 10, num_classes = 3;
  bool background = true;
  T box_type = T::kFloat32, class_type = T::kFloat32;
  bool regular = false;
  int max_detections = 5, max_classes_per_detection = 1, detections_per_class = 100;
  bool write_detections_per_class = true;
  float score_threshold = 0.3f, iou_threshold = 0.5f;
  float y_scale = 10, x_scale = 10, h_scale = 5, w_scale = 5;
  bool anchors_negative = false;  // an anchor of negative height: decoded ymin > ymax
  int extra_class_columns = 0;    // more than num_classes + 1: refused
  float class_scale = 1.0f / 256;  // UINT8 class predictions' scale
  std::string str() const {
    return "boxes=" + std::to_string(num_boxes) + " classes=" + std::to_string(num_classes) +
           (background ? "+bg" : "") + " box=" + tensor_type_name(box_type) +
           " class=" + tensor_type_name(class_type) + (regular ? " regular" : " fast") +
           " max_det=" + std::to_string(max_detections) + " per_det=" + std::to_string(max_classes_per_detection) +
           " per_class=" + std::to_string(detections_per_class) + " score>=" + std::to_string(score_threshold) +
           " iou>" + std::to_string(iou_threshold);
  }
};

std::vector<uint8_t> options_of(const Params& p) {
  flexbuffers::Builder fb;
  fb.Map([&] {
    fb.Int("max_detections", p.max_detections);
    fb.Int("max_classes_per_detection", p.max_classes_per_detection);
    if (p.write_detections_per_class) fb.Int("detections_per_class", p.detections_per_class);
    fb.Bool("use_regular_nms", p.regular);
    fb.Float("nms_score_threshold", p.score_threshold);
    fb.Float("nms_iou_threshold", p.iou_threshold);
    fb.Int("num_classes", p.num_classes);
    fb.Float("y_scale", p.y_scale);
    fb.Float("x_scale", p.x_scale);
    fb.Float("h_scale", p.h_scale);
    fb.Float("w_scale", p.w_scale);
    // What TFLite's converter adds for quantized models; both runtimes ignore it.
    fb.Bool("_output_quantized", true);
    fb.Bool("_support_output_type_float_in_quantized_op", true);
  });
  fb.Finish();
  return fb.GetBuffer();
}

const Quantization kBoxQ{{0.05f}, {128}};
const Quantization kInt8BoxQ{{0.05f}, {0}};  // only for the refusal of INT8 boxes
const Quantization kAnchorQ{{1.0f / 255}, {0}};
const Quantization kClassQ{{1.0f / 256}, {0}};

uint8_t quantize(float v, const Quantization& q) {
  return static_cast<uint8_t>(std::clamp<long>(std::lround(v / q.scale[0]) + q.zero_point[0], 0, 255));
}

struct Inputs {
  std::vector<uint8_t> boxes, classes, anchors;  // bytes
};

Inputs make_inputs(Rng& rng, const Params& p) {
  Inputs in;
  const int cols = p.num_classes + (p.background ? 1 : 0) + p.extra_class_columns;
  // Anchors on a coarse grid with sizes larger than the spacing, so that
  // neighbouring boxes overlap and suppression has work to do.
  std::vector<float> anchors;
  for (int i = 0; i < p.num_boxes; ++i) {
    const float yc = 0.1f + 0.8f * static_cast<float>(rng.below(8)) / 7;
    const float xc = 0.1f + 0.8f * static_cast<float>(rng.below(8)) / 7;
    float h = rng.uniform(0.1f, 0.4f), w = rng.uniform(0.1f, 0.4f);
    if (p.anchors_negative && i == p.num_boxes / 2) h = -0.3f;
    anchors.insert(anchors.end(), {yc, xc, h, w});
  }
  std::vector<float> boxes;
  for (int i = 0; i < p.num_boxes * 4; ++i) boxes.push_back(rng.uniform(-2.0f, 2.0f));
  // Scores on a grid of 1/16: many exact ties, in float as in uint8.
  std::vector<float> classes;
  for (int i = 0; i < p.num_boxes * cols; ++i) classes.push_back(static_cast<float>(rng.below(17)) / 16 * 0.99f);

  auto bytes_of = [](const std::vector<float>& v, T type, const Quantization& q) {
    std::vector<uint8_t> out;
    if (type == T::kFloat32) {
      out.resize(v.size() * 4);
      std::memcpy(out.data(), v.data(), out.size());
    } else {
      for (float x : v) out.push_back(quantize(x, q));
    }
    return out;
  };
  in.boxes = bytes_of(boxes, p.box_type, kBoxQ);
  in.anchors = bytes_of(anchors, p.box_type, kAnchorQ);
  in.classes = bytes_of(classes, p.class_type, kClassQ);  // the bytes; their scale is p.class_scale
  return in;
}

std::vector<uint8_t> model_of(const Params& p, const Inputs& in) {
  ModelBuilder b;
  const int cols = p.num_classes + (p.background ? 1 : 0) + p.extra_class_columns;
  const bool qbox = p.box_type != T::kFloat32;
  const Quantization box_q = p.box_type == T::kInt8 ? kInt8BoxQ : kBoxQ;
  const int32_t boxes = b.add_tensor("raw_outputs/box_encodings", p.box_type, {1, p.num_boxes, 4},
                                     qbox ? box_q : Quantization{});
  const int32_t classes =
      b.add_tensor("raw_outputs/class_predictions", p.class_type, {1, p.num_boxes, cols},
                   p.class_type != T::kFloat32 ? Quantization{{p.class_scale}, {0}} : Quantization{});
  const int32_t anchors =
      b.add_constant("anchors", p.box_type, {p.num_boxes, 4}, in.anchors, qbox ? kAnchorQ : Quantization{});
  const int n = p.max_detections * p.max_classes_per_detection;
  const int32_t ob = b.add_tensor("TFLite_Detection_PostProcess", T::kFloat32, {1, n, 4});
  const int32_t oc = b.add_tensor("TFLite_Detection_PostProcess:1", T::kFloat32, {1, n});
  const int32_t os = b.add_tensor("TFLite_Detection_PostProcess:2", T::kFloat32, {1, n});
  const int32_t on = b.add_tensor("TFLite_Detection_PostProcess:3", T::kFloat32, {1});
  b.add_custom_operator("TFLite_Detection_PostProcess", {boxes, classes, anchors}, {ob, oc, os, on}, options_of(p));
  b.set_inputs({boxes, classes});
  b.set_outputs({ob, oc, os, on});
  return b.finish();
}

std::vector<float> floats(const std::vector<uint8_t>& bytes) {
  std::vector<float> v(bytes.size() / 4);
  std::memcpy(v.data(), bytes.data(), v.size() * 4);
  return v;
}

// Returns the number of detections compared.
int expect_same(const TfLitePeer& peer, const Params& p, Rng& rng) {
  const Inputs in = make_inputs(rng, p);
  const std::vector<uint8_t> model = model_of(p, in);
  const int cols = p.num_classes + (p.background ? 1 : 0);
  const MultiOutcome ours = run_multi_in_qlite(model, {in.boxes, in.classes});
  std::vector<PeerTensor> theirs;
  try {
    theirs = peer.run(model, {PeerInput{{1, p.num_boxes, 4}, in.boxes}, PeerInput{{1, p.num_boxes, cols}, in.classes}});
  } catch (const Error& e) {
    ADD_FAILURE() << p.str() << ": TFLite failed: " << e.what();
    return 0;
  }
  EXPECT_EQ(ours.error, "") << p.str();
  if (!ours.error.empty() || theirs.size() != 4 || ours.bytes.size() != 4) return 0;
  const int n = p.max_detections * p.max_classes_per_detection;
  for (size_t k = 0; k < 4; ++k)
    EXPECT_EQ(ours.shapes[k], std::vector<int64_t>(theirs[k].shape.begin(), theirs[k].shape.end()))
        << p.str() << " output " << k;
  const float count = floats(theirs[3].bytes).at(0);
  EXPECT_EQ(floats(ours.bytes[3]).at(0), count) << p.str();
  const auto detections = static_cast<int>(count);
  // The slots TFLite writes: fast, per detection the box's top
  // min(max_classes_per_detection, num_classes) classes; regular, the first
  // `detections` slots.
  std::vector<bool> written(static_cast<size_t>(n), false);
  const int per = p.regular ? 1 : std::min(p.max_classes_per_detection, p.num_classes);
  const int stride = p.regular ? 1 : p.max_classes_per_detection;
  for (int d = 0; d < detections; ++d)
    for (int c = 0; c < per; ++c) written.at(static_cast<size_t>(d * stride + c)) = true;
  const std::vector<float> ob = floats(ours.bytes[0]), tb = floats(theirs[0].bytes);
  const std::vector<float> oc = floats(ours.bytes[1]), tc = floats(theirs[1].bytes);
  const std::vector<float> os = floats(ours.bytes[2]), ts = floats(theirs[2].bytes);
  int differing = 0;
  for (int i = 0; i < n; ++i) {
    const auto u = static_cast<size_t>(i);
    if (written[u]) {
      const bool same = std::memcmp(&ob[4 * u], &tb[4 * u], 16) == 0 && std::memcmp(&oc[u], &tc[u], 4) == 0 &&
                        std::memcmp(&os[u], &ts[u], 4) == 0;
      if (!same && differing++ < 3)
        ADD_FAILURE() << p.str() << " slot " << i << ": qlite class " << oc[u] << " score " << os[u] << " box ("
                      << ob[4 * u] << ", " << ob[4 * u + 1] << ", " << ob[4 * u + 2] << ", " << ob[4 * u + 3]
                      << "), TFLite class " << tc[u] << " score " << ts[u] << " box (" << tb[4 * u] << ", "
                      << tb[4 * u + 1] << ", " << tb[4 * u + 2] << ", " << tb[4 * u + 3] << ")";
    } else {
      EXPECT_TRUE(ob[4 * u] == 0 && ob[4 * u + 1] == 0 && ob[4 * u + 2] == 0 && ob[4 * u + 3] == 0 && oc[u] == 0 &&
                  os[u] == 0)
          << p.str() << " slot " << i << " past the detections is not 0";
    }
  }
  EXPECT_EQ(differing, 0) << p.str();
  return detections;
}

void expect_both_refuse(const TfLitePeer& peer, const Params& p, const std::string& ours_contains) {
  Rng rng(7);
  const Inputs in = make_inputs(rng, p);
  const std::vector<uint8_t> model = model_of(p, in);
  const int cols = p.num_classes + (p.background ? 1 : 0) + p.extra_class_columns;
  const MultiOutcome ours = run_multi_in_qlite(model, {in.boxes, in.classes});
  std::string theirs;
  try {
    peer.run(model, {PeerInput{{1, p.num_boxes, 4}, in.boxes}, PeerInput{{1, p.num_boxes, cols}, in.classes}});
  } catch (const Error& e) {
    theirs = e.what();
    if (theirs.empty()) theirs = "failed";
  }
  EXPECT_NE(theirs, "") << p.str() << ": TFLite ran it";
  EXPECT_NE(ours.error.find(ours_contains), std::string::npos) << p.str() << ": qlite said '" << ours.error << "'";
}

TEST(TfliteDetectionPostProcess, RandomCasesMatchTflite) {
  QLITE_REQUIRE_TFLITE_PEER(peer);
  Rng rng(20261207);
  int cases = 0, detections = 0, regular = 0, uint8_cases = 0;
  for (int i = 0; i < 160; ++i) {
    Params p;
    const int sizes[] = {1, 2, 7, 30, 120};
    p.num_boxes = sizes[rng.below(5)];
    p.num_classes = 1 + static_cast<int>(rng.below(6));
    p.background = rng.below(2) == 0;
    p.box_type = rng.below(2) ? T::kUInt8 : T::kFloat32;
    p.class_type = rng.below(2) ? T::kUInt8 : T::kFloat32;
    p.regular = rng.below(3) == 0;
    p.max_detections = 1 + static_cast<int>(rng.below(12));
    p.max_classes_per_detection = p.regular ? 1 : 1 + static_cast<int>(rng.below(4));
    p.detections_per_class = 1 + static_cast<int>(rng.below(8));
    p.write_detections_per_class = rng.below(4) != 0;
    p.score_threshold = rng.below(4) == 0 ? 0.0f : rng.uniform(0.05f, 0.7f);
    p.iou_threshold = rng.below(5) == 0 ? 1.0f : rng.uniform(0.05f, 0.9f);
    if (rng.below(3) == 0) p.y_scale = rng.uniform(1, 20), p.h_scale = rng.uniform(1, 10);
    detections += expect_same(*peer, p, rng);
    ++cases;
    regular += p.regular;
    uint8_cases += p.box_type == T::kUInt8 || p.class_type == T::kUInt8;
  }
  // The generator must exercise what it claims to.
  EXPECT_GT(detections, 200);
  EXPECT_GT(regular, 30);
  EXPECT_GT(uint8_cases, 80);
  RecordProperty("cases", cases);
  RecordProperty("detections", detections);
}

// The SSD MobileNet v1/v2 quantized detectors of TF1's model zoo and Coral:
// 1917 anchors, 90 classes and a background column, UINT8 throughout.
TEST(TfliteDetectionPostProcess, SsdMobileNetShapeMatchesTflite) {
  QLITE_REQUIRE_TFLITE_PEER(peer);
  Rng rng(1917);
  for (const bool regular : {false, true}) {
    Params p;
    p.num_boxes = 1917;
    p.num_classes = 90;
    p.box_type = p.class_type = T::kUInt8;
    p.regular = regular;
    p.max_detections = 10;
    p.max_classes_per_detection = 1;
    p.detections_per_class = 100;
    p.score_threshold = 0.6f;  // the scores are in [0, 0.99]
    p.iou_threshold = 0.6f;
    EXPECT_EQ(expect_same(*peer, p, rng), 10) << p.str();
  }
}

// qlite orders UINT8 scores by their bytes when TFLite's floats rise strictly
// with them; a scale so large that neighbouring bytes both give infinity
// takes the float path. Both must match TFLite.
TEST(TfliteDetectionPostProcess, OverflowingClassScaleMatchesTflite) {
  QLITE_REQUIRE_TFLITE_PEER(peer);
  Rng rng(44);
  for (const bool regular : {false, true})
    for (const float scale : {1e38f, 1.0f / 256}) {
      Params p;
      p.num_boxes = 60;
      p.num_classes = 4;
      p.class_type = T::kUInt8;
      p.class_scale = scale;
      p.regular = regular;
      p.max_classes_per_detection = regular ? 1 : 3;
      p.score_threshold = 0.0f;
      EXPECT_GT(expect_same(*peer, p, rng), 0) << p.str() << " scale " << scale;
    }
}

TEST(TfliteDetectionPostProcess, RefusedWhereTfliteRefuses) {
  QLITE_REQUIRE_TFLITE_PEER(peer);
  Params p;
  p.iou_threshold = 0.0f;
  expect_both_refuse(*peer, p, "nms_iou_threshold");
  p = Params{};
  p.iou_threshold = 1.5f;
  expect_both_refuse(*peer, p, "nms_iou_threshold");
  p = Params{};
  p.extra_class_columns = 1;  // num_classes + 2 columns
  expect_both_refuse(*peer, p, "background");
  p = Params{};
  p.anchors_negative = true;
  expect_both_refuse(*peer, p, "minimum above its maximum");
  p = Params{};
  p.box_type = T::kInt8;  // TFLite 2.9 decodes FLOAT32 and UINT8 only
  expect_both_refuse(*peer, p, "CUSTOM 'TFLite_Detection_PostProcess' with int8 input");
}

TEST(DetectionPostProcess, OptionsAndArity) {
  // Options read as TFLite reads them: a float for an int truncates, a
  // missing detections_per_class is 100, a missing use_regular_nms false.
  flexbuffers::Builder fb;
  fb.Map([&] {
    fb.Double("max_detections", 3.9);
    fb.Int("num_classes", 2);
    fb.String("note", "ignored");
  });
  fb.Finish();
  const auto o = lite::CustomOptions::parse(fb.GetBuffer(), "test");
  EXPECT_EQ(o.int32("max_detections"), 3);
  EXPECT_EQ(o.int32("num_classes"), 2);
  EXPECT_TRUE(o.is_null("detections_per_class"));
  EXPECT_FALSE(o.boolean("use_regular_nms"));
  EXPECT_EQ(o.float32("missing"), 0.0f);
  EXPECT_EQ(o.describe(), "{max_detections=3.9 note=ignored num_classes=2}");
  // Floats FlexBuffers would cast with undefined behaviour saturate (NaN reads 0).
  flexbuffers::Builder odd;
  odd.Map([&] {
    odd.Double("big", 1e30);
    odd.Double("small", -1e30);
    odd.Double("nan", std::nan(""));
    odd.Double("half", -0.5);
  });
  odd.Finish();
  const auto q = lite::CustomOptions::parse(odd.GetBuffer(), "test");
  EXPECT_EQ(q.find("big")->as_int64, std::numeric_limits<int64_t>::max());
  EXPECT_EQ(q.find("small")->as_int64, std::numeric_limits<int64_t>::min());
  EXPECT_EQ(q.find("nan")->as_int64, 0);
  EXPECT_FALSE(q.boolean("nan"));
  EXPECT_FALSE(q.boolean("half"));
  EXPECT_TRUE(q.boolean("big"));

  // Bytes that are not FlexBuffers, or not a map, are refused with a message.
  const std::vector<uint8_t> junk = {0xff, 0xff, 0xff, 0x7f};
  EXPECT_THROW(lite::CustomOptions::parse(junk, "test"), Error);
  flexbuffers::Builder vec;
  vec.Vector([&] { vec.Int(1); });
  vec.Finish();
  EXPECT_THROW(lite::CustomOptions::parse(vec.GetBuffer(), "test"), Error);
  EXPECT_EQ(lite::describe_custom_options(junk), "custom_options(4 B, not a FlexBuffers map)");

  // A file without options, or with junk ones, is refused naming the op.
  Params p;
  Rng rng(1);
  const Inputs in = make_inputs(rng, p);
  lite::ModelDef m = lite::read_model(model_of(p, in));
  m.subgraphs[0].operators[0].custom_options.clear();
  const MultiOutcome none = run_multi_in_qlite(lite::write_model(m), {in.boxes, in.classes});
  EXPECT_NE(none.error.find("TFLite_Detection_PostProcess"), std::string::npos) << none.error;
  EXPECT_NE(none.error.find("no custom options"), std::string::npos) << none.error;
  m.subgraphs[0].operators[0].custom_options = junk;
  const MultiOutcome bad = run_multi_in_qlite(lite::write_model(m), {in.boxes, in.classes});
  EXPECT_NE(bad.error.find("not a well-formed FlexBuffers"), std::string::npos) << bad.error;

  // Options survive a write and a read, and inspect() shows them.
  const lite::ModelDef again = lite::read_model(model_of(p, in));
  EXPECT_EQ(again.subgraphs[0].operators[0].custom_options, options_of(p));
  const std::string text = lite::inspect(again);
  EXPECT_NE(text.find("CUSTOM 'TFLite_Detection_PostProcess' v1 {"), std::string::npos) << text;
  EXPECT_NE(text.find("max_detections=5"), std::string::npos) << text;
  EXPECT_NE(text.find("nms_iou_threshold=0.5"), std::string::npos) << text;

  // A custom op qlite does not know is named in the error.
  lite::ModelDef other = lite::read_model(model_of(p, in));
  other.operator_codes[0].custom_code = "MyPostProcess";
  const MultiOutcome unknown = run_multi_in_qlite(lite::write_model(other), {in.boxes, in.classes});
  EXPECT_NE(unknown.error.find("CUSTOM 'MyPostProcess'"), std::string::npos) << unknown.error;
}

}  // namespace
}  // namespace qlite::test
