#include "hemapath/train/segmentation_metrics.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <unordered_map>

#include "hemapath/core/error.h"
#include "hemapath/core/json_number.h"

namespace hemapath {
namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

const char* depth_name(int depth) {
  switch (depth) {
    case CV_8U:
      return "8-bit unsigned";
    case CV_8S:
      return "8-bit signed";
    case CV_16U:
      return "16-bit unsigned";
    case CV_16S:
      return "16-bit signed";
    case CV_32S:
      return "32-bit signed";
    case CV_32F:
      return "32-bit float";
    case CV_64F:
      return "64-bit float";
    default:
      return "unknown";
  }
}

// Both maps as CV_32S after the checks every metric shares.
std::pair<cv::Mat, cv::Mat> as_label_pair(const cv::Mat& truth, const cv::Mat& pred) {
  for (const auto& [m, what] : {std::pair<const cv::Mat&, const char*>{truth, "truth"}, {pred, "prediction"}}) {
    HP_CHECK(m.channels() == 1, InputError, what, " label map has ", m.channels(),
             " channels: expected one integer label per pixel");
    HP_CHECK(m.depth() == CV_8U || m.depth() == CV_16U || m.depth() == CV_32S, InputError, what, " label map is ",
             depth_name(m.depth()), ": expected CV_8U, CV_16U or CV_32S integer labels");
  }
  HP_CHECK(truth.size() == pred.size(), InputError, "truth label map is ", truth.cols, "x", truth.rows,
           " px but the prediction is ", pred.cols, "x", pred.rows, " px: expected the same size");
  cv::Mat t, p;
  truth.convertTo(t, CV_32S);
  pred.convertTo(p, CV_32S);
  return {t, p};
}

double mean_defined(const std::vector<double>& values) {
  double sum = 0;
  int n = 0;
  for (double v : values)
    if (!std::isnan(v)) sum += v, ++n;
  return n ? sum / n : kNaN;
}

}  // namespace

// ---- pixel level ----

SegmentationConfusion::SegmentationConfusion(int num_classes, int ignore_index)
    : num_classes_(num_classes), ignore_index_(ignore_index) {
  HP_CHECK(num_classes >= 1, ConfigError, "segmentation metrics need at least one class, got ", num_classes);
  counts_.assign(static_cast<size_t>(num_classes) * num_classes, 0);
}

void SegmentationConfusion::add(const cv::Mat& truth, const cv::Mat& pred) {
  auto [t, p] = as_label_pair(truth, pred);
  // Counted into a copy first so a bad value leaves the matrix as it was.
  std::vector<int64_t> counts = counts_;
  int64_t total = total_;
  for (int y = 0; y < t.rows; ++y) {
    const int* tr = t.ptr<int>(y);
    const int* pr = p.ptr<int>(y);
    for (int x = 0; x < t.cols; ++x) {
      if (ignore_index_ >= 0 && tr[x] == ignore_index_) continue;
      HP_CHECK(tr[x] >= 0 && tr[x] < num_classes_, InputError, "truth label map has class ", tr[x], " at (", x, ", ", y,
               "): expected 0..", num_classes_ - 1,
               ignore_index_ >= 0 ? " or the ignore index " + std::to_string(ignore_index_) : std::string());
      HP_CHECK(pr[x] >= 0 && pr[x] < num_classes_, InputError, "predicted label map has class ", pr[x], " at (", x,
               ", ", y, "): expected 0..", num_classes_ - 1);
      ++counts[static_cast<size_t>(tr[x]) * num_classes_ + pr[x]];
      ++total;
    }
  }
  counts_ = std::move(counts);
  total_ = total;
}

int64_t SegmentationConfusion::at(int truth, int pred) const {
  HP_CHECK(truth >= 0 && truth < num_classes_ && pred >= 0 && pred < num_classes_, InputError, "class pair (", truth,
           ", ", pred, ") is outside 0..", num_classes_ - 1);
  return counts_[static_cast<size_t>(truth) * num_classes_ + pred];
}

std::vector<double> SegmentationConfusion::iou() const {
  std::vector<double> out(num_classes_);
  for (int c = 0; c < num_classes_; ++c) {
    int64_t tp = at(c, c), row = 0, col = 0;
    for (int k = 0; k < num_classes_; ++k) row += at(c, k), col += at(k, c);
    const int64_t denom = row + col - tp;  // TP + FN + FP
    out[c] = denom ? static_cast<double>(tp) / denom : kNaN;
  }
  return out;
}

std::vector<double> SegmentationConfusion::dice() const {
  std::vector<double> out(num_classes_);
  for (int c = 0; c < num_classes_; ++c) {
    int64_t tp = at(c, c), row = 0, col = 0;
    for (int k = 0; k < num_classes_; ++k) row += at(c, k), col += at(k, c);
    const int64_t denom = row + col;  // 2TP + FN + FP
    out[c] = denom ? 2.0 * tp / denom : kNaN;
  }
  return out;
}

double SegmentationConfusion::pixel_accuracy() const {
  if (total_ == 0) return kNaN;
  int64_t correct = 0;
  for (int c = 0; c < num_classes_; ++c) correct += at(c, c);
  return static_cast<double>(correct) / total_;
}

double SegmentationConfusion::mean_iou() const { return mean_defined(iou()); }
double SegmentationConfusion::mean_dice() const { return mean_defined(dice()); }

nlohmann::json SegmentationConfusion::to_json(const std::vector<std::string>& class_names) const {
  HP_CHECK(class_names.empty() || static_cast<int>(class_names.size()) == num_classes_, InputError, "got ",
           class_names.size(), " class names for ", num_classes_, " classes");
  nlohmann::json matrix = nlohmann::json::array(), iou_j = nlohmann::json::array(), dice_j = nlohmann::json::array();
  for (int t = 0; t < num_classes_; ++t) {
    nlohmann::json row = nlohmann::json::array();
    for (int p = 0; p < num_classes_; ++p) row.push_back(at(t, p));
    matrix.push_back(row);
  }
  for (double v : iou()) iou_j.push_back(number_or_null(v));
  for (double v : dice()) dice_j.push_back(number_or_null(v));
  nlohmann::json j = {{"num_classes", num_classes_},
                      {"ignore_index", ignore_index_},
                      {"pixels", total_},
                      {"confusion_matrix", matrix},
                      {"iou", iou_j},
                      {"dice", dice_j},
                      {"pixel_accuracy", number_or_null(pixel_accuracy())},
                      {"mean_iou", number_or_null(mean_iou())},
                      {"mean_dice", number_or_null(mean_dice())},
                      {"mean_over", "classes present in truth or prediction"}};
  if (!class_names.empty()) j["class_names"] = class_names;
  return j;
}

// ---- object level ----

InstanceOverlap instance_overlap(const cv::Mat& truth, const cv::Mat& pred) {
  auto [t, p] = as_label_pair(truth, pred);
  std::unordered_map<int, int64_t> ta, pa;
  std::unordered_map<uint64_t, int64_t> inter;
  for (int y = 0; y < t.rows; ++y) {
    const int* tr = t.ptr<int>(y);
    const int* pr = p.ptr<int>(y);
    for (int x = 0; x < t.cols; ++x) {
      HP_CHECK(tr[x] >= 0, InputError, "truth instance map has negative id ", tr[x], " at (", x, ", ", y,
               "): expected 0 (background) or a positive id");
      HP_CHECK(pr[x] >= 0, InputError, "predicted instance map has negative id ", pr[x], " at (", x, ", ", y,
               "): expected 0 (background) or a positive id");
      if (tr[x]) ++ta[tr[x]];
      if (pr[x]) ++pa[pr[x]];
      if (tr[x] && pr[x]) ++inter[(static_cast<uint64_t>(tr[x]) << 32) | static_cast<uint32_t>(pr[x])];
    }
  }
  InstanceOverlap o;
  auto fill = [](const std::unordered_map<int, int64_t>& areas, std::vector<int>& ids, std::vector<int64_t>& out) {
    for (const auto& kv : areas) ids.push_back(kv.first);
    std::sort(ids.begin(), ids.end());
    for (int id : ids) out.push_back(areas.at(id));
  };
  fill(ta, o.truth_ids, o.truth_areas);
  fill(pa, o.pred_ids, o.pred_areas);
  for (const auto& [key, n] : inter) {
    InstancePair pair;
    pair.truth_id = static_cast<int>(key >> 32);
    pair.pred_id = static_cast<int>(key & 0xffffffffu);
    pair.intersection = n;
    pair.union_area = ta.at(pair.truth_id) + pa.at(pair.pred_id) - n;
    pair.iou = static_cast<double>(n) / pair.union_area;
    o.pairs.push_back(pair);
  }
  std::sort(o.pairs.begin(), o.pairs.end(), [](const InstancePair& a, const InstancePair& b) {
    return a.truth_id != b.truth_id ? a.truth_id < b.truth_id : a.pred_id < b.pred_id;
  });
  return o;
}

double MatchCounts::precision() const {
  if (tp + fp == 0) return fn == 0 ? 1.0 : 0.0;
  return static_cast<double>(tp) / (tp + fp);
}
double MatchCounts::recall() const {
  if (tp + fn == 0) return fp == 0 ? 1.0 : 0.0;
  return static_cast<double>(tp) / (tp + fn);
}
double MatchCounts::f1() const {
  const int64_t denom = 2 * tp + fp + fn;
  return denom ? 2.0 * tp / denom : 1.0;
}
MatchCounts& MatchCounts::operator+=(const MatchCounts& other) {
  tp += other.tp, fp += other.fp, fn += other.fn;
  return *this;
}

InstanceMatching match_instances(const InstanceOverlap& overlap, double iou_threshold) {
  HP_CHECK(iou_threshold >= 0 && iou_threshold < 1, InputError, "IoU threshold ", iou_threshold, " is outside [0, 1)");
  std::vector<const InstancePair*> candidates;
  for (const auto& p : overlap.pairs)
    if (p.iou > iou_threshold) candidates.push_back(&p);
  // Ties broken by ids so the result does not depend on hash order.
  std::stable_sort(candidates.begin(), candidates.end(),
                   [](const InstancePair* a, const InstancePair* b) { return a->iou > b->iou; });
  std::unordered_map<int, bool> truth_used, pred_used;
  InstanceMatching m;
  for (const InstancePair* p : candidates) {
    if (truth_used[p->truth_id] || pred_used[p->pred_id]) continue;
    truth_used[p->truth_id] = pred_used[p->pred_id] = true;
    m.matches.emplace_back(p->truth_id, p->pred_id);
  }
  m.counts.tp = static_cast<int64_t>(m.matches.size());
  m.counts.fn = static_cast<int64_t>(overlap.truth_ids.size()) - m.counts.tp;
  m.counts.fp = static_cast<int64_t>(overlap.pred_ids.size()) - m.counts.tp;
  return m;
}

double dsb_average_precision(const InstanceOverlap& overlap) {
  if (overlap.truth_ids.empty() && overlap.pred_ids.empty()) return 1.0;
  double sum = 0;
  for (int i = 0; i < 10; ++i) {
    const MatchCounts c = match_instances(overlap, 0.5 + 0.05 * i).counts;
    sum += static_cast<double>(c.tp) / (c.tp + c.fp + c.fn);
  }
  return sum / 10;
}

double AjiTerms::value() const { return union_area ? static_cast<double>(intersection) / union_area : 1.0; }

AjiTerms aggregated_jaccard(const InstanceOverlap& overlap) {
  AjiTerms terms;
  std::unordered_map<int, bool> used;
  size_t k = 0;  // pairs are sorted by truth id
  for (size_t i = 0; i < overlap.truth_ids.size(); ++i) {
    const int id = overlap.truth_ids[i];
    const InstancePair* best = nullptr;
    for (; k < overlap.pairs.size() && overlap.pairs[k].truth_id == id; ++k)
      if (!best || overlap.pairs[k].iou > best->iou) best = &overlap.pairs[k];
    if (best) {
      terms.intersection += best->intersection;
      terms.union_area += best->union_area;
      used[best->pred_id] = true;
    } else {
      terms.union_area += overlap.truth_areas[i];
    }
  }
  for (size_t j = 0; j < overlap.pred_ids.size(); ++j)
    if (!used.count(overlap.pred_ids[j])) terms.union_area += overlap.pred_areas[j];
  return terms;
}

nlohmann::json InstanceMetrics::to_json() const {
  return {{"images", images},
          {"truth_instances", truth_instances},
          {"pred_instances", pred_instances},
          {"iou_threshold", 0.5},
          {"tp", at50.tp},
          {"fp", at50.fp},
          {"fn", at50.fn},
          {"precision", number_or_null(precision)},
          {"recall", number_or_null(recall)},
          {"f1", number_or_null(f1)},
          {"dsb_map", number_or_null(dsb_map)},
          {"aji", number_or_null(aji)},
          {"aji_intersection", aji_terms.intersection},
          {"aji_union", aji_terms.union_area}};
}

InstanceMetrics evaluate_instances(const cv::Mat& truth, const cv::Mat& pred) {
  InstanceMetricsAccumulator acc;
  acc.add(truth, pred);
  return acc.result();
}

void InstanceMetricsAccumulator::add(const cv::Mat& truth, const cv::Mat& pred) {
  const InstanceOverlap o = instance_overlap(truth, pred);
  const AjiTerms aji = aggregated_jaccard(o);
  ++images_;
  truth_instances_ += static_cast<int64_t>(o.truth_ids.size());
  pred_instances_ += static_cast<int64_t>(o.pred_ids.size());
  at50_ += match_instances(o, 0.5).counts;
  aji_.intersection += aji.intersection;
  aji_.union_area += aji.union_area;
  dsb_sum_ += dsb_average_precision(o);
}

InstanceMetrics InstanceMetricsAccumulator::result() const {
  InstanceMetrics m;
  m.images = images_;
  m.truth_instances = truth_instances_;
  m.pred_instances = pred_instances_;
  m.at50 = at50_;
  m.aji_terms = aji_;
  if (images_ == 0) {
    m.precision = m.recall = m.f1 = m.dsb_map = m.aji = kNaN;
    return m;
  }
  m.precision = at50_.precision();
  m.recall = at50_.recall();
  m.f1 = at50_.f1();
  m.dsb_map = dsb_sum_ / images_;
  m.aji = aji_.value();
  return m;
}

}  // namespace hemapath
