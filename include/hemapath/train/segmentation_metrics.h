#pragma once
/// Segmentation metrics from label maps: pixel-level (confusion matrix, IoU, Dice, pixel
/// accuracy, mean IoU) for semantic maps, and object-level (matching at an IoU threshold,
/// precision/recall/F1, the Data Science Bowl 2018 score, the aggregated Jaccard index) for
/// instance maps. Label maps are single-channel cv::Mat of CV_8U, CV_16U or CV_32S, one
/// integer per pixel; truth and prediction must have the same size.
#include <cstdint>
#include <nlohmann/json.hpp>
#include <opencv2/core.hpp>
#include <string>
#include <utility>
#include <vector>

namespace hemapath {

/// Pixel counts of (true class, predicted class) accumulated over any number of label-map
/// pairs; classes are 0..num_classes-1.
class SegmentationConfusion {
 public:
  /// `ignore_index`: truth pixels with this value are skipped (e.g. 255 for "unlabelled");
  /// a negative value ignores nothing. Throws ConfigError when `num_classes` < 1.
  explicit SegmentationConfusion(int num_classes, int ignore_index = -1);

  /// Counts every pixel of one pair of maps (H x W each). Throws InputError when a map is
  /// not single-channel CV_8U/CV_16U/CV_32S, the sizes differ, or a value (other than
  /// `ignore_index` in truth) lies outside 0..num_classes-1; nothing is counted then.
  void add(const cv::Mat& truth, const cv::Mat& pred);

  int num_classes() const { return num_classes_; }
  int ignore_index() const { return ignore_index_; }
  /// Pixels counted (ignored pixels excluded).
  int64_t total() const { return total_; }
  /// Pixels of class `truth` predicted as `pred`; InputError when out of range.
  int64_t at(int truth, int pred) const;

  /// Per-class IoU (Jaccard) TP / (TP + FP + FN); NaN for a class absent from both truth
  /// and prediction (0 / 0).
  std::vector<double> iou() const;
  /// Per-class Dice (F1) 2TP / (2TP + FP + FN); NaN for a class absent from both.
  std::vector<double> dice() const;
  /// Correct pixels / counted pixels; NaN when nothing was counted.
  double pixel_accuracy() const;
  /// Mean IoU over the classes present in truth or prediction (those whose IoU is defined;
  /// a class absent from both is skipped rather than counted as 0 or 1). NaN when none.
  double mean_iou() const;
  /// Mean Dice over the same classes as mean_iou().
  double mean_dice() const;

  /// {"num_classes", "ignore_index", "pixels", "confusion_matrix" (rows = truth),
  /// "iou", "dice" (null where undefined), "pixel_accuracy", "mean_iou", "mean_dice",
  /// "class_names" when given}. InputError when `class_names` is non-empty and its size is
  /// not num_classes().
  nlohmann::json to_json(const std::vector<std::string>& class_names = {}) const;

 private:
  int num_classes_;
  int ignore_index_;
  int64_t total_ = 0;
  std::vector<int64_t> counts_;  // row-major [truth][pred]
};

/// Overlap of one true and one predicted instance (areas in px).
struct InstancePair {
  int truth_id = 0, pred_id = 0;
  int64_t intersection = 0, union_area = 0;
  double iou = 0;
};

/// Areas of the instances of two instance maps (0 = background, any positive ids, not
/// necessarily consecutive) and every overlapping pair: a sparse IoU matrix.
struct InstanceOverlap {
  /// Ids present, ascending, with their areas in px.
  std::vector<int> truth_ids, pred_ids;
  std::vector<int64_t> truth_areas, pred_areas;
  /// Every (truth, pred) pair with a non-empty intersection, ordered by truth id then pred id.
  std::vector<InstancePair> pairs;
};

/// Computes the overlaps. Throws InputError for a map of another type, a size mismatch or a
/// negative id.
InstanceOverlap instance_overlap(const cv::Mat& truth, const cv::Mat& pred);

/// Object counts at one IoU threshold.
struct MatchCounts {
  int64_t tp = 0, fp = 0, fn = 0;
  /// TP / (TP + FP); with no predictions: 1 when there was nothing to find, else 0.
  double precision() const;
  /// TP / (TP + FN); with no true objects: 1 when nothing was predicted, else 0.
  double recall() const;
  /// 2TP / (2TP + FP + FN); 1 when both sides are empty.
  double f1() const;
  MatchCounts& operator+=(const MatchCounts& other);
};

/// One-to-one matches at an IoU threshold.
struct InstanceMatching {
  /// (truth id, pred id) of each match.
  std::vector<std::pair<int, int>> matches;
  MatchCounts counts;
};

/// Matches instances whose IoU is strictly above `iou_threshold` (the DSB 2018 rule),
/// greedily by descending IoU so each instance is matched at most once. For thresholds
/// >= 0.5 the greedy order does not matter: an instance can have IoU > 0.5 with at most one
/// instance of the other map (two such partners would each cover more than half of it), so
/// the matches are exactly the pairs above the threshold. Throws InputError unless
/// 0 <= iou_threshold < 1.
InstanceMatching match_instances(const InstanceOverlap& overlap, double iou_threshold);

/// Data Science Bowl 2018 score of one image: the mean over t in {0.5, 0.55, ..., 0.95} of
/// TP(t) / (TP(t) + FP(t) + FN(t)). An image with no true and no predicted instance scores 1
/// (nothing to find, nothing claimed); one side empty and the other not scores 0.
double dsb_average_precision(const InstanceOverlap& overlap);

/// Aggregated Jaccard index terms (Kumar et al. 2017, IEEE TMI): each true instance G is
/// paired with the prediction S of highest IoU among those overlapping it (a prediction may
/// serve several true instances); C += |G n S|, U += |G u S|; a true instance overlapping no
/// prediction adds |G| to U; every prediction never chosen adds its area to U.
struct AjiTerms {
  int64_t intersection = 0, union_area = 0;
  /// C / U; 1 when U == 0 (both maps empty).
  double value() const;
};

/// AJI terms of one image pair.
AjiTerms aggregated_jaccard(const InstanceOverlap& overlap);

/// Object-level figures of one image or of a data set.
struct InstanceMetrics {
  int64_t images = 0;
  int64_t truth_instances = 0, pred_instances = 0;
  /// Counts at IoU > 0.5; precision, recall and F1 from them.
  MatchCounts at50;
  double precision = 0, recall = 0, f1 = 0;
  /// DSB 2018 score: one image's, or the mean of the per-image scores over a data set (as the
  /// competition ranked entries).
  double dsb_map = 0;
  /// Aggregated Jaccard index; over a data set C and U are summed over images before the
  /// ratio (so large images weigh more).
  double aji = 0;
  AjiTerms aji_terms;

  nlohmann::json to_json() const;
};

/// All object-level figures of one pair of instance maps.
InstanceMetrics evaluate_instances(const cv::Mat& truth, const cv::Mat& pred);

/// Accumulates object-level figures over images: counts at 0.5 and AJI terms are summed,
/// DSB scores averaged per image.
class InstanceMetricsAccumulator {
 public:
  /// Adds one image pair (see instance_overlap for the checks).
  void add(const cv::Mat& truth, const cv::Mat& pred);
  /// The data-set figures; every figure is NaN when no image was added.
  InstanceMetrics result() const;

 private:
  int64_t images_ = 0, truth_instances_ = 0, pred_instances_ = 0;
  MatchCounts at50_;
  AjiTerms aji_;
  double dsb_sum_ = 0;
};

}  // namespace hemapath
