#include "hemapath/infer/point_matching.h"

#include <algorithm>
#include <cmath>
#include <map>
#include <numeric>

#include "hemapath/io/instance_outputs.h"

namespace hemapath {
namespace {

// The pixel a point falls in (halves round up).
cv::Point pixel_of(const PointLabel& point) {
  return {static_cast<int>(std::floor(point.position.x + 0.5)), static_cast<int>(std::floor(point.position.y + 0.5))};
}

}  // namespace

PointMatches match_points_to_cells(const cv::Mat& labels, const std::vector<PointLabel>& points) {
  const cv::Mat ids = instance_map_32s(labels, "predicted instance map");
  PointMatches out;
  out.cell_of_point.assign(points.size(), 0);
  std::map<int, int> points_in_cell;
  for (size_t k = 0; k < points.size(); ++k) {
    const cv::Point at = pixel_of(points[k]);
    if (!cv::Rect(0, 0, ids.cols, ids.rows).contains(at)) continue;
    if (const int id = ids.at<int>(at); id > 0) {
      out.cell_of_point[k] = id;
      ++points_in_cell[id];
    }
  }
  for (int& id : out.cell_of_point)
    if (id > 0 && points_in_cell[id] != 1) id = 0;
  for (const auto& [id, count] : points_in_cell) out.matched += count == 1;
  out.cells = static_cast<int64_t>(instance_boxes(ids).size());
  return out;
}

InnerCells without_border_cells(const cv::Mat& labels, const std::vector<PointLabel>& points) {
  InnerCells out{instance_map_32s(labels, "predicted instance map").clone(), {}};
  cv::Mat& ids = out.labels;
  std::vector<int> border_ids;
  for (int x = 0; x < ids.cols; ++x)
    border_ids.insert(border_ids.end(), {ids.at<int>(0, x), ids.at<int>(ids.rows - 1, x)});
  for (int y = 0; y < ids.rows; ++y)
    border_ids.insert(border_ids.end(), {ids.at<int>(y, 0), ids.at<int>(y, ids.cols - 1)});
  std::sort(border_ids.begin(), border_ids.end());
  border_ids.erase(std::unique(border_ids.begin(), border_ids.end()), border_ids.end());
  auto on_border = [&](int id) { return id > 0 && std::binary_search(border_ids.begin(), border_ids.end(), id); };
  for (const PointLabel& p : points) {
    const cv::Point at = pixel_of(p);
    if (!cv::Rect(0, 0, ids.cols, ids.rows).contains(at) || !on_border(ids.at<int>(at))) out.points.push_back(p);
  }
  ids.forEach<int>([&](int& id, const int*) {
    if (on_border(id)) id = 0;
  });
  return out;
}

void DetectionScore::add(const PointMatches& matches, size_t point_count) {
  points += static_cast<int64_t>(point_count);
  cells += matches.cells;
  matched += matches.matched;
  if (point_count > 0)
    count_errors.push_back(std::abs(static_cast<double>(matches.cells) - static_cast<double>(point_count)) /
                           static_cast<double>(point_count));
}

double DetectionScore::precision() const { return cells ? static_cast<double>(matched) / cells : 1.0; }
double DetectionScore::recall() const { return points ? static_cast<double>(matched) / points : 1.0; }
double DetectionScore::f1() const {
  const double p = precision(), r = recall();
  return p + r > 0 ? 2 * p * r / (p + r) : 0.0;
}
double DetectionScore::mean_count_error() const {
  if (count_errors.empty()) return 0;
  return std::accumulate(count_errors.begin(), count_errors.end(), 0.0) / static_cast<double>(count_errors.size());
}

nlohmann::json DetectionScore::to_json() const {
  return {{"points", points},        {"cells", cells},         {"matched", matched},
          {"precision", precision()}, {"recall", recall()},     {"f1", f1()},
          {"images", count_errors.size()}, {"count_mape_percent", 100 * mean_count_error()}};
}

}  // namespace hemapath
