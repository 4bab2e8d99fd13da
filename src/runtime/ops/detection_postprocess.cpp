// CUSTOM 'TFLite_Detection_PostProcess', the SSD detectors' last op, which
// TensorFlow Lite 2.9 registers with its builtin ops (and TFLite Micro as
// DETECTION_POSTPROCESS), computed as its detection_postprocess.cc does:
//  1. decode: each box encoding (y, x, h, w), FLOAT32 or UINT8, against its
//     anchor (ycenter, xcenter, h, w), FLOAT32 or UINT8 like the boxes, in
//     double: ycenter = y / y_scale * anchor_h + anchor_y, half_h =
//     0.5 * exp(h / h_scale) * anchor_h, rounded to float, then the corners
//     (ymin, xmin, ymax, xmax) = centre -/+ half in float;
//  2. scores: the class predictions (FLOAT32, or UINT8 dequantized as
//     float(double(scale) * (q - zero_point))), one background column skipped
//     when the tensor has num_classes + 1 of them;
//  3. non-max suppression, the fast form (each box keeps its top
//     max_classes_per_detection classes, suppression on its best score) or
//     the regular one (use_regular_nms: suppression per class, at most
//     min(detections_per_class, max_detections) each, merged keeping the
//     max_detections best, a later class first on equal scores):
//     scores at or above nms_score_threshold, ordered by a stable sort,
//     a box dropped when its IoU with a kept one exceeds nms_iou_threshold;
//     ties between a box's classes broken by std::partial_sort, which is
//     what TFLite calls.
// Outputs (all FLOAT32): boxes [1, N, 4], classes [1, N], scores [1, N] and
// the count [1], N = max_detections * max_classes_per_detection. TFLite leaves
// the slots past the detections as the memory held before; qlite writes 0.
// Options come from the op's FlexBuffers map (lite/custom_options.h).
#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>
#include <numeric>
#include <type_traits>

#include "lite/custom_options.h"
#include "runtime/ops/op_util.h"
#include "runtime/ops/ops.h"

namespace qlite::runtime::detail {
namespace {

using T = lite::TensorType;

struct Box {  // BoxCornerEncoding
  float ymin, xmin, ymax, xmax;
};
struct CenterSize {
  float y, x, h, w;
};

struct DetectionState : OpState {
  int max_detections = 0, max_classes_per_detection = 0, detections_per_class = 0, num_classes = 0;
  bool regular = false;
  float score_threshold = 0, iou_threshold = 0;
  CenterSize scale{};
  int num_boxes = 0, box_len = 0, classes_with_background = 0, label_offset = 0;
  T box_type = T::kFloat32, class_type = T::kFloat32;
  int box_zp = 0, anchor_zp = 0, class_zp = 0;
  float box_scale = 0, anchor_scale = 0, class_scale = 0;
  // UINT8 class predictions: TFLite's dequantized value of each byte,
  // float(double(scale) * (q - zero_point)), computed once.
  float class_table[256] = {};
  // The table rises strictly with the byte: comparing bytes then orders
  // exactly as comparing TFLite's floats, so suppression reads the bytes and
  // looks up only the scores it keeps (every scale but an extreme one, whose
  // table saturates to infinity).
  bool class_table_rising = false;
  int num_out = 0;  // max_detections * max_classes_per_detection
  // Scratch indices.
  size_t s_boxes = 0, s_areas = 0, s_scores = 0, s_keep_idx = 0, s_keep_val = 0, s_sorted = 0, s_selected = 0,
         s_class_idx = 0, s_max_scores = 0, s_merge_idx = 0, s_merge_val = 0, s_sorted_val = 0;
};

// Scratch views for one invoke.
struct Work {
  Box* boxes;
  float* areas;   // box_area of each decoded box
  float* scores;  // dequantized class predictions (UINT8 only)
  int* keep_idx;
  float* keep_val;
  int* sorted;
  int* selected;
  int* class_idx;
  float* max_scores;
  int* merge_idx;
  float* merge_val;
  float* sorted_val;
};

// TFLite's Dequantizer for box encodings and anchors: float minus the integer
// zero point, times the float scale, in float.
inline float dequantize_box(uint8_t q, int zp, float scale) {
  return (static_cast<float>(q) - static_cast<float>(zp)) * scale;
}

CenterSize read_center_size(const std::byte* data, T type, int64_t offset, int zp, float scale) {
  if (type == T::kFloat32) {
    CenterSize c;
    std::memcpy(&c, data + offset * 4, sizeof c);
    return c;
  }
  const auto* q = reinterpret_cast<const uint8_t*>(data) + offset;
  return {dequantize_box(q[0], zp, scale), dequantize_box(q[1], zp, scale), dequantize_box(q[2], zp, scale),
          dequantize_box(q[3], zp, scale)};
}

void decode_boxes(const DetectionState& s, const std::byte* boxes, const std::byte* anchors, Box* out) {
  const double sy = s.scale.y, sx = s.scale.x, sh = s.scale.h, sw = s.scale.w;
  for (int i = 0; i < s.num_boxes; ++i) {
    const CenterSize b = read_center_size(boxes, s.box_type, int64_t{i} * s.box_len, s.box_zp, s.box_scale);
    const CenterSize a = read_center_size(anchors, s.box_type, int64_t{i} * 4, s.anchor_zp, s.anchor_scale);
    const auto ycenter = static_cast<float>(static_cast<double>(b.y) / sy * static_cast<double>(a.h) +
                                            static_cast<double>(a.y));
    const auto xcenter = static_cast<float>(static_cast<double>(b.x) / sx * static_cast<double>(a.w) +
                                            static_cast<double>(a.x));
    const auto half_h =
        static_cast<float>(0.5 * std::exp(static_cast<double>(b.h) / sh) * static_cast<double>(a.h));
    const auto half_w =
        static_cast<float>(0.5 * std::exp(static_cast<double>(b.w) / sw) * static_cast<double>(a.w));
    out[i] = {ycenter - half_h, xcenter - half_w, ycenter + half_h, xcenter + half_w};
  }
}

inline float box_area(const Box& a) { return (a.ymax - a.ymin) * (a.xmax - a.xmin); }

// TFLite's ComputeIntersectionOverUnion, the areas (box_area) computed once per box.
inline float iou(const Box& a, float area_a, const Box& b, float area_b) {
  if (area_a <= 0 || area_b <= 0) return 0.0f;
  const float ymin = std::max(a.ymin, b.ymin), xmin = std::max(a.xmin, b.xmin);
  const float ymax = std::min(a.ymax, b.ymax), xmax = std::min(a.xmax, b.xmax);
  const float inter = std::max(ymax - ymin, 0.0f) * std::max(xmax - xmin, 0.0f);
  return inter / (area_a + area_b - inter);
}

// Indices of the num_to_sort largest values first. One: the first maximum
// (TFLite's ArgMaxVector); more: std::partial_sort, whose order among equal
// values is its own, as in TFLite.
template <class V>
void decreasing_partial_arg_sort(const V* values, int num_values, int num_to_sort, int* indices) {
  if constexpr (std::is_same_v<V, uint8_t>) {
    if (num_to_sort == 1) {  // the same first maximum, found with a maximum the compiler vectorizes
      uint8_t top = 0;
      for (int i = 0; i < num_values; ++i) top = std::max(top, values[i]);
      int first = 0;
      while (values[first] != top) ++first;
      indices[0] = first;
      return;
    }
  }
  if (num_to_sort == 1) {
    int best = 0;
    for (int i = 1; i < num_values; ++i)
      if (values[i] > values[best]) best = i;
    indices[0] = best;
    return;
  }
  std::iota(indices, indices + num_values, 0);
  std::partial_sort(indices, indices + num_to_sort, indices + num_values,
                    [values](int i, int j) { return values[i] > values[j]; });
}

// Single-class suppression over scores[0, num_boxes): the selected box
// indices in order, at most max_detections. Returns their count.
int nms_single_class(const DetectionState& s, const Work& w, const float* scores, int max_detections,
                     int* selected) {
  int kept = 0;
  for (int i = 0; i < s.num_boxes; ++i)
    if (scores[i] >= s.score_threshold) {
      w.keep_val[kept] = scores[i];
      w.keep_idx[kept] = i;
      ++kept;
    }
  std::iota(w.sorted, w.sorted + kept, 0);
  std::stable_sort(w.sorted, w.sorted + kept, [kv = w.keep_val](int i, int j) { return kv[i] > kv[j]; });
  // TFLite walks the boxes best first and, on selecting one, clears every
  // later box that overlaps it by more than the threshold. A box is thus
  // selected exactly when no box selected before it overlaps it that much,
  // which is what this checks, box by box, against the (at most
  // max_detections) selected ones: the same selection and the same IoU
  // calls (selected box first), without a pass over every later box.
  const int output_size = std::min(kept, max_detections);
  int num_selected = 0;
  for (int i = 0; i < kept && num_selected < output_size; ++i) {
    const int bi = w.keep_idx[w.sorted[i]];
    const Box box_i = w.boxes[bi];
    const float area_i = w.areas[bi];
    bool suppressed = false;
    for (int k = 0; k < num_selected && !suppressed; ++k) {
      const int bk = selected[k];
      suppressed = iou(w.boxes[bk], w.areas[bk], box_i, area_i) > s.iou_threshold;
    }
    if (!suppressed) selected[num_selected++] = bi;
  }
  return num_selected;
}

struct Outputs {
  Box* boxes;
  float* classes;
  float* scores;
  float* count;
};

// scores: FLOAT32 values, or UINT8 bytes whose order is their values'
// (DetectionState::class_table_rising); value() gives the float of one.
template <class V, class Value>
void nms_fast(const DetectionState& s, const Work& w, const V* scores, Value value, const Outputs& o) {
  const int per_anchor = std::min(s.max_classes_per_detection, s.num_classes);
  for (int row = 0; row < s.num_boxes; ++row) {
    const V* box_scores = scores + int64_t{row} * s.classes_with_background + s.label_offset;
    int* idx = w.class_idx + int64_t{row} * s.num_classes;
    decreasing_partial_arg_sort(box_scores, s.num_classes, per_anchor, idx);
    w.max_scores[row] = value(box_scores[idx[0]]);
  }
  const int n = nms_single_class(s, w, w.max_scores, s.max_detections, w.selected);
  for (int k = 0; k < n; ++k) {
    const int b = w.selected[k];
    const V* box_scores = scores + int64_t{b} * s.classes_with_background + s.label_offset;
    const int* idx = w.class_idx + int64_t{b} * s.num_classes;
    for (int col = 0; col < per_anchor; ++col) {
      const int at = s.max_classes_per_detection * k + col;
      o.boxes[at] = w.boxes[b];
      o.classes[at] = static_cast<float>(idx[col]);
      o.scores[at] = value(box_scores[idx[col]]);
    }
  }
  o.count[0] = static_cast<float>(n);
}

template <class V, class Value>
void nms_regular(const DetectionState& s, const Work& w, const V* scores, Value value, const Outputs& o) {
  const int ncwb = s.classes_with_background;
  const int per_class = std::min(s.detections_per_class, s.max_detections);
  float* class_scores = w.max_scores;  // reused: one score per box
  // The kept detections, best first: (index, score) pairs, merged class by
  // class as TFLite 2.9 merges them (std::inplace_merge with a `>=`
  // comparator: on equal scores the later class's detection goes first),
  // then cut to max_detections. Each class keeps at most
  // min(detections_per_class, max_detections).
  int* idx = w.merge_idx;
  float* val = w.merge_val;
  int kept = 0;
  for (int col = 0; col < s.num_classes; ++col) {
    for (int row = 0; row < s.num_boxes; ++row)
      class_scores[row] = value(scores[int64_t{row} * ncwb + col + s.label_offset]);
    const int n = nms_single_class(s, w, class_scores, per_class, w.selected);
    if (n == 0) continue;
    for (int k = 0; k < n; ++k) {
      idx[kept + k] = w.selected[k] * ncwb + col + s.label_offset;
      val[kept + k] = class_scores[w.selected[k]];
    }
    // Merge [0, kept) and [kept, kept + n): a new detection goes first
    // when its score is at least the kept one's.
    const int total = std::min(kept + n, s.max_detections);
    for (int r = 0, a = 0, b = kept; r < total; ++r) {
      const bool take_b = a == kept || (b < kept + n && val[b] >= val[a]);
      const int from = take_b ? b++ : a++;
      w.sorted[r] = idx[from];
      w.sorted_val[r] = val[from];
    }
    std::memcpy(idx, w.sorted, sizeof(int) * static_cast<size_t>(total));
    std::memcpy(val, w.sorted_val, sizeof(float) * static_cast<size_t>(total));
    kept = total;
  }
  for (int k = 0; k < kept; ++k) {
    const int anchor = idx[k] / ncwb;
    o.boxes[k] = w.boxes[anchor];
    o.classes[k] = static_cast<float>(idx[k] - anchor * ncwb - s.label_offset);
    o.scores[k] = val[k];
  }
  o.count[0] = static_cast<float>(kept);
}

void eval_detection_postprocess(const EvalContext& c, const Node& n) {
  const auto& s = n.state_as<DetectionState>();
  Work w{};
  auto sp = [&](size_t k) { return c.scratch_of(n, k); };
  w.boxes = reinterpret_cast<Box*>(sp(s.s_boxes));
  w.areas = reinterpret_cast<float*>(sp(s.s_areas));
  w.scores = reinterpret_cast<float*>(sp(s.s_scores));
  w.keep_idx = reinterpret_cast<int*>(sp(s.s_keep_idx));
  w.keep_val = reinterpret_cast<float*>(sp(s.s_keep_val));
  w.sorted = reinterpret_cast<int*>(sp(s.s_sorted));
  w.selected = reinterpret_cast<int*>(sp(s.s_selected));
  w.class_idx = reinterpret_cast<int*>(sp(s.s_class_idx));
  w.max_scores = reinterpret_cast<float*>(sp(s.s_max_scores));
  w.merge_idx = reinterpret_cast<int*>(sp(s.s_merge_idx));
  w.merge_val = reinterpret_cast<float*>(sp(s.s_merge_val));
  w.sorted_val = reinterpret_cast<float*>(sp(s.s_sorted_val));

  decode_boxes(s, c.input(n, 0).data, c.input(n, 2).data, w.boxes);
  for (int i = 0; i < s.num_boxes; ++i) w.areas[i] = box_area(w.boxes[i]);
  for (int i = 0; i < s.num_boxes; ++i)
    QLITE_OP_CHECK(!(w.boxes[i].ymin > w.boxes[i].ymax || w.boxes[i].xmin > w.boxes[i].xmax), n,
                   "decoded box " + std::to_string(i) + " has its minimum above its maximum (a negative anchor size?)");

  const Outputs o{c.output(n, 0).as<Box>(), c.output(n, 1).as<float>(), c.output(n, 2).as<float>(),
                  c.output(n, 3).as<float>()};
  std::memset(static_cast<void*>(o.boxes), 0, sizeof(Box) * static_cast<size_t>(s.num_out));
  std::memset(o.classes, 0, sizeof(float) * static_cast<size_t>(s.num_out));
  std::memset(o.scores, 0, sizeof(float) * static_cast<size_t>(s.num_out));
  const float* scores = c.input(n, 1).as<float>();
  if (s.class_type == T::kUInt8) {
    const auto* q = c.input(n, 1).as<uint8_t>();
    if (s.class_table_rising) {
      const auto lookup = [t = &s.class_table[0]](uint8_t b) { return t[b]; };
      if (s.regular)
        nms_regular(s, w, q, lookup, o);
      else
        nms_fast(s, w, q, lookup, o);
      return;
    }
    const int64_t count = int64_t{s.num_boxes} * s.classes_with_background;
    for (int64_t i = 0; i < count; ++i) w.scores[i] = s.class_table[q[i]];
    scores = w.scores;
  }
  const auto as_is = [](float v) { return v; };
  if (s.regular)
    nms_regular(s, w, scores, as_is, o);
  else
    nms_fast(s, w, scores, as_is, o);
}

}  // namespace

void prepare_detection_postprocess(PrepareContext& ctx, Node& n) {
  op_check(ctx.num_inputs(n) == 3, n, "takes 3 inputs (box encodings, class predictions, anchors), not " +
                                           std::to_string(ctx.num_inputs(n)));
  op_check(n.def->outputs.size() == 4, n, "has 4 outputs (boxes, classes, scores, count), not " +
                                              std::to_string(n.def->outputs.size()));
  op_check(!n.def->custom_options.empty(), n, "has no custom options (max_detections, num_classes, ...)");
  const lite::CustomOptions opt = lite::CustomOptions::parse(n.def->custom_options, n.label);
  auto& s = n.state_as<DetectionState>();
  s.max_detections = opt.int32("max_detections");
  s.max_classes_per_detection = opt.int32("max_classes_per_detection");
  s.detections_per_class = opt.is_null("detections_per_class") ? 100 : opt.int32("detections_per_class");
  s.regular = opt.is_null("use_regular_nms") ? false : opt.boolean("use_regular_nms");
  s.score_threshold = opt.float32("nms_score_threshold");
  s.iou_threshold = opt.float32("nms_iou_threshold");
  s.num_classes = opt.int32("num_classes");
  s.scale = {opt.float32("y_scale"), opt.float32("x_scale"), opt.float32("h_scale"), opt.float32("w_scale")};

  // Bounds that keep every count and index below in int (TFLite's types).
  constexpr int kMaxCount = 1 << 20;
  op_check(s.max_detections >= 1 && s.max_detections <= kMaxCount, n,
           "max_detections " + std::to_string(s.max_detections) + " must be in [1, 2^20]");
  op_check(s.max_classes_per_detection >= 1 && s.max_classes_per_detection <= kMaxCount / s.max_detections, n,
           "max_classes_per_detection " + std::to_string(s.max_classes_per_detection) +
               " must be at least 1, and times max_detections at most 2^20");
  op_check(!s.regular || s.detections_per_class >= 1, n,
           "detections_per_class " + std::to_string(s.detections_per_class) + " must be at least 1");
  op_check(s.iou_threshold > 0.0f && s.iou_threshold <= 1.0f, n,
           "nms_iou_threshold " + std::to_string(s.iou_threshold) + " must be in (0, 1]");
  op_check(s.num_classes >= 1 && s.num_classes <= kMaxCount, n,
           "num_classes " + std::to_string(s.num_classes) + " must be in [1, 2^20]");

  RtTensor& boxes = ctx.input(n, 0);
  RtTensor& classes = ctx.input(n, 1);
  RtTensor& anchors = ctx.input(n, 2);
  require_rank(n, boxes, 3, "box encodings");
  require_rank(n, classes, 3, "class predictions");
  require_rank(n, anchors, 2, "anchors");
  op_check(boxes.shape[0] == 1 && classes.shape[0] == 1, n,
           "runs a batch of 1 (box encodings " + describe(boxes) + ", class predictions " + describe(classes) + ")");
  op_check(boxes.shape[2] >= 4, n, "box encodings " + describe(boxes) + " must have at least 4 values per box");
  op_check(boxes.shape[1] <= kMaxCount && boxes.shape[2] <= kMaxCount, n,
           "box encodings " + describe(boxes) + " hold more than 2^20 boxes or values per box");
  op_check(classes.shape[1] == boxes.shape[1], n,
           "class predictions " + describe(classes) + " must have one row per box of " + describe(boxes));
  op_check(anchors.shape[0] == boxes.shape[1] && anchors.shape[1] == 4, n,
           "anchors " + describe(anchors) + " must be [boxes, 4] for box encodings " + describe(boxes));
  op_check(classes.shape[2] == s.num_classes || classes.shape[2] == int64_t{s.num_classes} + 1, n,
           "class predictions " + describe(classes) + " must have num_classes (" + std::to_string(s.num_classes) +
               ") columns, or one more for the background");

  const bool types_ok = (boxes.type == T::kFloat32 || boxes.type == T::kUInt8) && anchors.type == boxes.type &&
                        (classes.type == T::kFloat32 || classes.type == T::kUInt8);
  for (size_t k = 0; k < 4; ++k)
    if (ctx.output(n, k).type != T::kFloat32) unsupported_types(ctx, n);
  if (!types_ok) unsupported_types(ctx, n);
  if (boxes.type == T::kUInt8) {
    require_per_tensor(n, boxes, "box encodings");
    require_per_tensor(n, anchors, "anchors");
    s.box_zp = boxes.zero_point();
    s.box_scale = boxes.scale();
    s.anchor_zp = anchors.zero_point();
    s.anchor_scale = anchors.scale();
  }
  if (classes.type == T::kUInt8) {
    require_per_tensor(n, classes, "class predictions");
    s.class_zp = classes.zero_point();
    s.class_scale = classes.scale();
    s.class_table_rising = true;
    for (int q = 0; q < 256; ++q) {
      s.class_table[q] = static_cast<float>(static_cast<double>(s.class_scale) * (q - s.class_zp));
      if (q > 0 && !(s.class_table[q] > s.class_table[q - 1])) s.class_table_rising = false;
    }
  }
  s.box_type = boxes.type;
  s.class_type = classes.type;
  s.num_boxes = static_cast<int>(boxes.shape[1]);
  s.box_len = static_cast<int>(boxes.shape[2]);
  s.classes_with_background = static_cast<int>(classes.shape[2]);
  s.label_offset = s.classes_with_background - s.num_classes;
  s.num_out = s.max_detections * s.max_classes_per_detection;

  ctx.set_output_shape(n, 0, {1, s.num_out, 4});
  ctx.set_output_shape(n, 1, {1, s.num_out});
  ctx.set_output_shape(n, 2, {1, s.num_out});
  ctx.set_output_shape(n, 3, {1});

  const auto nb = static_cast<size_t>(s.num_boxes);
  const auto md = static_cast<size_t>(s.max_detections);
  s.s_boxes = ctx.request_scratch(n, nb * sizeof(Box));
  s.s_areas = ctx.request_scratch(n, nb * sizeof(float));
  s.s_scores = ctx.request_scratch(
      n, classes.type == T::kUInt8 ? nb * static_cast<size_t>(s.classes_with_background) * sizeof(float) : 1);
  s.s_keep_idx = ctx.request_scratch(n, nb * sizeof(int));
  s.s_keep_val = ctx.request_scratch(n, nb * sizeof(float));
  s.s_sorted = ctx.request_scratch(n, (nb + md) * sizeof(int));
  s.s_selected = ctx.request_scratch(n, nb * sizeof(int));
  s.s_class_idx = ctx.request_scratch(n, s.regular ? 1 : nb * static_cast<size_t>(s.num_classes) * sizeof(int));
  s.s_max_scores = ctx.request_scratch(n, nb * sizeof(float));
  s.s_merge_idx = ctx.request_scratch(n, (nb + md) * sizeof(int));
  s.s_merge_val = ctx.request_scratch(n, (nb + md) * sizeof(float));
  s.s_sorted_val = ctx.request_scratch(n, (nb + md) * sizeof(float));
  n.work = work_of({s.num_boxes, s.classes_with_background});
  n.separable = false;
  n.eval = eval_detection_postprocess;
}

}  // namespace qlite::runtime::detail
