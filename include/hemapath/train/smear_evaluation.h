#pragma once
/// Scoring `hemapath analyze` against what the data sets record: red cells against one
/// labelled point per cell (detection by point-in-cell matching, then the classes of the
/// matched cells), white cells against a per-image type label and a cell mask.
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>
#include <opencv2/core.hpp>

#include "hemapath/data/point_labels.h"
#include "hemapath/infer/point_matching.h"
#include "hemapath/infer/smear_analysis.h"
#include "hemapath/train/metrics.h"

namespace hemapath {

class RedCellEvaluation {
 public:
  /// `point_classes`: names of the points' class indices; `model_classes`: the red-cell
  /// classifier's. Points of classes the model does not know (e.g. 'uncategorised') count for
  /// detection only.
  RedCellEvaluation(std::vector<std::string> point_classes, std::vector<std::string> model_classes);
  void add(const SmearResult& result, const std::vector<PointLabel>& points);
  const DetectionScore& detection() const { return detection_; }
  /// The same without the cells that touch the image border and the points in them
  /// (without_border_cells).
  const DetectionScore& inner_detection() const { return inner_detection_; }
  /// Classes of the matched cells against their points' classes; nullopt before any match.
  std::optional<ClassificationReport> classes() const;
  nlohmann::json to_json() const;

 private:
  std::vector<std::string> model_classes_;
  std::vector<int> model_index_of_point_class_;  // -1: not a model class
  DetectionScore detection_, inner_detection_;
  ConfusionMatrix confusion_;
};

class WhiteCellEvaluation {
 public:
  explicit WhiteCellEvaluation(std::vector<std::string> model_classes);
  /// One image: `label` its white-cell type (empty when unknown or not a model class: not
  /// scored), `mask` its white-cell mask (non-zero = the cell; empty when unknown). The type is
  /// read from the largest white cell found; images where none is found are counted apart
  /// (and as wrong in the JSON's accuracy_over_all_images).
  void add(const SmearResult& result, const std::string& label, const cv::Mat& mask);
  /// Types of the images where a white cell was found; nullopt before any.
  std::optional<ClassificationReport> types() const;
  nlohmann::json to_json() const;

 private:
  std::vector<std::string> model_classes_;
  ConfusionMatrix confusion_;
  int64_t typed_images_ = 0, typed_without_cell_ = 0;
  int64_t masked_images_ = 0, exactly_one_ = 0, found_matching_ = 0;
};

}  // namespace hemapath
