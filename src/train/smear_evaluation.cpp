#include "hemapath/train/smear_evaluation.h"

#include <algorithm>

#include <opencv2/imgproc.hpp>

#include "hemapath/core/error.h"

namespace hemapath {

RedCellEvaluation::RedCellEvaluation(std::vector<std::string> point_classes, std::vector<std::string> model_classes)
    : model_classes_(std::move(model_classes)), confusion_(static_cast<int>(model_classes_.size())) {
  for (const auto& name : point_classes) {
    auto it = std::find(model_classes_.begin(), model_classes_.end(), name);
    model_index_of_point_class_.push_back(it == model_classes_.end() ? -1 : static_cast<int>(it - model_classes_.begin()));
  }
}

void RedCellEvaluation::add(const SmearResult& result, const std::vector<PointLabel>& points) {
  // Only red cells are matched (the points mark red cells): they hold ids 1..R, white cells above.
  const int red_count = static_cast<int>(result.count(CellKind::red));
  cv::Mat red = result.labels.clone();
  red.setTo(0, result.labels > red_count);
  std::vector<int> class_of_id(red_count + 1, -1);
  for (const auto& cell : result.cells)
    if (cell.kind == CellKind::red) class_of_id[cell.measurement.id] = cell.class_index;
  const PointMatches matches = match_points_to_cells(red, points);
  detection_.add(matches, points.size());
  const InnerCells inner = without_border_cells(red, points);
  inner_detection_.add(match_points_to_cells(inner.labels, inner.points), inner.points.size());
  for (size_t k = 0; k < points.size(); ++k) {
    const int truth = model_index_of_point_class_.at(points[k].label);
    if (matches.cell_of_point[k] > 0 && truth >= 0) confusion_.add(truth, class_of_id[matches.cell_of_point[k]]);
  }
}

std::optional<ClassificationReport> RedCellEvaluation::classes() const {
  if (confusion_.total() == 0) return std::nullopt;
  return classification_report(confusion_, model_classes_);
}

nlohmann::json RedCellEvaluation::to_json() const {
  nlohmann::json out = {{"detection", detection_.to_json()},
                        {"detection_away_from_border", inner_detection_.to_json()}};
  if (auto report = classes()) out["classes_of_matched_cells"] = report->to_json();
  return out;
}

WhiteCellEvaluation::WhiteCellEvaluation(std::vector<std::string> model_classes)
    : model_classes_(std::move(model_classes)), confusion_(static_cast<int>(model_classes_.size())) {}

void WhiteCellEvaluation::add(const SmearResult& result, const std::string& label, const cv::Mat& mask) {
  const SmearCell* largest = nullptr;
  size_t found = 0;
  for (const auto& cell : result.cells)
    if (cell.kind == CellKind::white) {
      ++found;
      if (!largest || cell.measurement.area > largest->measurement.area) largest = &cell;
    }
  if (!label.empty()) {
    auto it = std::find(model_classes_.begin(), model_classes_.end(), label);
    HP_CHECK(it != model_classes_.end(), InputError, "white-cell label '", label, "' is not a class of the model");
    if (largest) confusion_.add(static_cast<int>(it - model_classes_.begin()), largest->class_index);
    ++typed_images_;
    typed_without_cell_ += largest == nullptr;
  }
  if (!mask.empty()) {
    ++masked_images_;
    exactly_one_ += found == 1;
    if (found == 1) {
      const cv::Mat truth = mask != 0, predicted = result.labels == largest->measurement.id;
      const double intersection = cv::countNonZero(truth & predicted), uni = cv::countNonZero(truth | predicted);
      found_matching_ += uni > 0 && intersection / uni >= 0.5;
    }
  }
}

std::optional<ClassificationReport> WhiteCellEvaluation::types() const {
  if (confusion_.total() == 0) return std::nullopt;
  return classification_report(confusion_, model_classes_);
}

nlohmann::json WhiteCellEvaluation::to_json() const {
  nlohmann::json out = nlohmann::json::object();
  if (masked_images_)
    out["detection"] = {{"images", masked_images_},
                        {"exactly_one_found", exactly_one_},
                        {"exactly_one_matching_mask_iou50", found_matching_},
                        {"rate", static_cast<double>(found_matching_) / masked_images_}};
  if (auto report = types()) {
    out["types"] = report->to_json();
    out["types"]["images"] = typed_images_;
    out["types"]["images_without_white_cell"] = typed_without_cell_;
    // Images where no white cell was found count as wrong here.
    out["types"]["accuracy_over_all_images"] = report->accuracy * static_cast<double>(confusion_.total()) / typed_images_;
  }
  return out;
}

}  // namespace hemapath
