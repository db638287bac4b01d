#include "hemapath/infer/cell_measurements.h"

#include <algorithm>
#include <cmath>
#include <map>
#include <opencv2/imgproc.hpp>

#include "hemapath/core/error.h"

namespace hemapath {
namespace {

// Vossepoel & Smeulders (1982) length of a closed 8-connected chain: 0.980 per axis step,
// 1.406 per diagonal step, -0.091 per change of direction. Unbiased for straight edges at any
// angle, where plain step lengths (1 and sqrt 2) read ~5% long.
double chain_length(const std::vector<cv::Point>& chain) {
  if (chain.size() < 2) return 0;
  int axis = 0, diagonal = 0, corners = 0;
  cv::Point first_step, previous;
  for (size_t i = 0; i < chain.size(); ++i) {
    const cv::Point step = chain[(i + 1) % chain.size()] - chain[i];
    (step.x != 0 && step.y != 0 ? diagonal : axis)++;
    if (i == 0)
      first_step = step;
    else if (step != previous)
      ++corners;
    previous = step;
  }
  if (previous != first_step) ++corners;
  return 0.980 * axis + 1.406 * diagonal - 0.091 * corners;
}

// Pixels whose centres lie in the convex polygon `hull` (integer vertices): per row, the
// polygon's x-interval, so the count matches the pixel-count area.
int64_t pixels_in_convex(const std::vector<cv::Point>& hull) {
  if (hull.empty()) return 0;
  int top = hull[0].y, bottom = hull[0].y;
  for (const auto& p : hull) top = std::min(top, p.y), bottom = std::max(bottom, p.y);
  int64_t count = 0;
  for (int y = top; y <= bottom; ++y) {
    double lo = 1e300, hi = -1e300;
    for (size_t i = 0; i < hull.size(); ++i) {
      const cv::Point a = hull[i], b = hull[(i + 1) % hull.size()];
      if (y < std::min(a.y, b.y) || y > std::max(a.y, b.y)) continue;
      if (a.y == b.y) {
        lo = std::min({lo, double(a.x), double(b.x)}), hi = std::max({hi, double(a.x), double(b.x)});
      } else {
        const double x = a.x + double(y - a.y) * (b.x - a.x) / (b.y - a.y);
        lo = std::min(lo, x), hi = std::max(hi, x);
      }
    }
    if (hi >= lo) count += static_cast<int64_t>(std::floor(hi + 1e-9) - std::ceil(lo - 1e-9) + 1);
  }
  return count;
}

}  // namespace

std::vector<CellMeasurement> measure_instances(const cv::Mat& labels, const cv::Mat& rgb) {
  const cv::Mat l = instance_map_32s(labels);
  if (!rgb.empty()) {
    HP_CHECK(rgb.type() == CV_8UC3, InputError, "image for cell colours must be 8-bit RGB (3 channels)");
    HP_CHECK(rgb.size() == l.size(), InputError, "image is ", rgb.cols, "x", rgb.rows, " px but the instance map is ",
             l.cols, "x", l.rows, " px: expected the same size");
  }
  std::vector<CellMeasurement> cells;
  for (const auto& [id, box] : instance_boxes(l)) {
    const cv::Mat mask = l(box) == id;
    CellMeasurement c;
    c.id = id;
    c.bbox = box;
    const cv::Moments m = cv::moments(mask, true);
    c.area = static_cast<int64_t>(std::llround(m.m00));
    c.centroid_x = box.x + m.m10 / m.m00;
    c.centroid_y = box.y + m.m01 / m.m00;
    // The eigenvalues of the pixel covariance matrix are proportional to the squared semi-axes
    // of the ellipse with the same second moments, so minor^2 / major^2 = small / large.
    const double a = m.mu20 / m.m00, b = m.mu11 / m.m00, d = m.mu02 / m.m00;
    const double root = std::sqrt(std::max(0.0, (a - d) * (a - d) / 4 + b * b));
    const double large = (a + d) / 2 + root, small = std::max(0.0, (a + d) / 2 - root);
    c.eccentricity = large > 0 ? std::sqrt(std::max(0.0, 1.0 - small / large)) : 0.0;

    std::vector<std::vector<cv::Point>> contours;
    cv::findContours(mask.clone(), contours, cv::RETR_EXTERNAL, cv::CHAIN_APPROX_NONE);
    std::vector<cv::Point> all;
    // The chain runs through boundary pixel centres, half a pixel inside the outline; for a
    // closed convex curve moving out by 0.5 px adds 2 pi 0.5 = pi to the length.
    for (const auto& contour : contours) {
      c.perimeter += chain_length(contour) + M_PI;
      all.insert(all.end(), contour.begin(), contour.end());
    }
    c.equivalent_diameter = std::sqrt(4.0 * c.area / M_PI);
    c.circularity = c.perimeter > 0 ? std::min(1.0, 4.0 * M_PI * c.area / (c.perimeter * c.perimeter)) : 0.0;
    // The hull is counted in pixels, as the area is: the polygon area through pixel centres
    // of a w x h rectangle is (w-1)(h-1), which would put solidity above 1; and
    // cv::fillConvexPoly also paints pixels its edges merely graze, which would put it low.
    std::vector<cv::Point> hull;
    cv::convexHull(all, hull);
    const int64_t hull_area = std::max<int64_t>(c.area, pixels_in_convex(hull));
    c.solidity = static_cast<double>(c.area) / hull_area;
    if (!rgb.empty()) {
      const cv::Scalar mean = cv::mean(rgb(box), mask);
      c.has_colour = true;
      c.mean_rgb = {mean[0], mean[1], mean[2]};
    }
    cells.push_back(c);
  }
  return cells;
}

void assign_majority_class(std::vector<CellMeasurement>& cells, const cv::Mat& labels, const cv::Mat& class_map,
                           int offset) {
  const cv::Mat l = instance_map_32s(labels);
  const cv::Mat k = instance_map_32s(class_map, "class map");
  HP_CHECK(k.size() == l.size(), InputError, "class map is ", k.cols, "x", k.rows, " px but the instance map is ",
           l.cols, "x", l.rows, " px: expected the same size");
  for (auto& c : cells) {
    std::map<int, int64_t> votes;
    for (int y = c.bbox.y; y < c.bbox.y + c.bbox.height; ++y)
      for (int x = c.bbox.x; x < c.bbox.x + c.bbox.width; ++x)
        if (l.at<int>(y, x) == c.id && k.at<int>(y, x) >= offset) ++votes[k.at<int>(y, x) - offset];
    c.class_index = -1;
    int64_t best = 0;
    for (const auto& [cls, n] : votes)  // ascending, so ties keep the smaller class
      if (n > best) best = n, c.class_index = cls;
  }
}

InstanceRecord to_record(const CellMeasurement& c) {
  InstanceRecord r;
  r.id = c.id;
  r.class_index = c.class_index;
  r.values = {{"area_px", static_cast<double>(c.area)},
              {"perimeter_px", c.perimeter},
              {"equivalent_diameter_px", c.equivalent_diameter},
              {"circularity", c.circularity},
              {"eccentricity", c.eccentricity},
              {"solidity", c.solidity},
              {"centroid_x", c.centroid_x},
              {"centroid_y", c.centroid_y},
              {"bbox_x", static_cast<double>(c.bbox.x)},
              {"bbox_y", static_cast<double>(c.bbox.y)},
              {"bbox_w", static_cast<double>(c.bbox.width)},
              {"bbox_h", static_cast<double>(c.bbox.height)}};
  if (c.has_colour) {
    r.values.emplace_back("mean_r", c.mean_rgb[0]);
    r.values.emplace_back("mean_g", c.mean_rgb[1]);
    r.values.emplace_back("mean_b", c.mean_rgb[2]);
  }
  return r;
}

std::vector<InstanceRecord> to_records(const std::vector<CellMeasurement>& cells) {
  std::vector<InstanceRecord> out;
  out.reserve(cells.size());
  for (const auto& c : cells) out.push_back(to_record(c));
  return out;
}

}  // namespace hemapath
