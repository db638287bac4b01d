#pragma once
/// Scoring cell detection against point annotations (one point per true cell, no outlines):
/// a predicted cell that contains exactly one point is a true positive, matched to that point.
#include <cstdint>
#include <vector>

#include <nlohmann/json.hpp>
#include <opencv2/core.hpp>

#include "hemapath/data/point_labels.h"

namespace hemapath {

struct PointMatches {
  /// Per point: the id of the cell it is matched to; 0 when unmatched (the point lies on
  /// background or shares its cell with another point).
  std::vector<int> cell_of_point;
  int64_t cells = 0;    ///< predicted cells (distinct non-zero ids)
  int64_t matched = 0;  ///< cells holding exactly one point = true positives
};

/// Matches `points` (image pixels; rounded to the pixel they fall in) to the cells of the
/// instance map `labels` (single-channel integer ids, 0 background). InputError for another
/// map type.
PointMatches match_points_to_cells(const cv::Mat& labels, const std::vector<PointLabel>& points);

/// The cells of `labels` clear of the image border (cells touching it set to 0) and the points
/// that lie outside the removed cells. Annotators pass over the cells the border cuts, so a
/// detector's border cells are no false positives, nor a point on one a miss. InputError as
/// match_points_to_cells.
struct InnerCells {
  cv::Mat labels;  ///< CV_32S
  std::vector<PointLabel> points;
};
InnerCells without_border_cells(const cv::Mat& labels, const std::vector<PointLabel>& points);

/// Detection counts summed over images, and the per-image count errors.
struct DetectionScore {
  int64_t points = 0, cells = 0, matched = 0;
  /// |cells - points| / points per image with at least one point.
  std::vector<double> count_errors;

  void add(const PointMatches& matches, size_t point_count);
  double precision() const;  ///< matched / cells (1 when no cell was predicted)
  double recall() const;     ///< matched / points (1 when there is no point)
  double f1() const;
  /// Mean of count_errors, 0 when empty: the mean absolute percentage error of the counts / 100.
  double mean_count_error() const;
  nlohmann::json to_json() const;
};

}  // namespace hemapath
