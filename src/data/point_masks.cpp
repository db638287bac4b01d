#include "hemapath/data/point_masks.h"

#include <opencv2/imgproc.hpp>

#include "hemapath/core/error.h"
#include "hemapath/infer/instances.h"

namespace hemapath {

cv::Mat colour_foreground(const cv::Mat& rgb, double max_hole_area) {
  HP_CHECK(!rgb.empty() && rgb.type() == CV_8UC3, InputError, "colour_foreground needs an 8-bit RGB image");
  cv::Mat green;
  cv::extractChannel(rgb, green, 1);
  cv::GaussianBlur(green, green, cv::Size(5, 5), 0);
  cv::Mat foreground;
  cv::threshold(green, foreground, 0, 255, cv::THRESH_BINARY_INV | cv::THRESH_OTSU);
  cv::morphologyEx(foreground, foreground, cv::MORPH_OPEN,
                   cv::getStructuringElement(cv::MORPH_ELLIPSE, cv::Size(5, 5)));
  // Fill the holes up to max_hole_area: pale cell centres, not the background ringed by a clump.
  const cv::Mat holes = fill_holes(foreground) & ~foreground;
  cv::Mat hole_ids, stats, centroids;
  const int n = cv::connectedComponentsWithStats(holes, hole_ids, stats, centroids, 4, CV_32S);
  for (int k = 1; k < n; ++k)
    if (stats.at<int>(k, cv::CC_STAT_AREA) <= max_hole_area) foreground.setTo(255, hole_ids == k);
  return foreground;
}

cv::Mat cells_from_points(const cv::Mat& rgb, const std::vector<PointLabel>& points, const PointMaskOptions& options) {
  HP_CHECK(options.seed_radius >= 0 && options.max_radius >= 0 && options.max_hole_area >= 0 &&
               options.unlabelled_margin >= 0,
           ConfigError,
           "point mask options (seed radius, max radius, max hole area, unlabelled margin) must not be negative");
  cv::Mat foreground = colour_foreground(rgb, options.max_hole_area);
  cv::Mat markers = cv::Mat::zeros(rgb.size(), CV_32S);
  for (size_t k = 0; k < points.size(); ++k) {
    const cv::Point centre(cvRound(points[k].position.x), cvRound(points[k].position.y));
    cv::circle(markers, centre, options.seed_radius, cv::Scalar(static_cast<int>(k) + 1), cv::FILLED);
  }
  foreground |= markers != 0;
  cv::Mat dist;
  cv::distanceTransform(foreground, dist, cv::DIST_L2, cv::DIST_MASK_PRECISE, CV_32F);
  cv::Mat cells = flood_from_markers(dist, foreground, markers);
  if (options.max_radius > 0) {
    const double limit = options.max_radius * options.max_radius;
    for (int y = 0; y < cells.rows; ++y)
      for (int x = 0; x < cells.cols; ++x) {
        int& id = cells.at<int>(y, x);
        if (id == 0) continue;
        const cv::Point2d d = cv::Point2d(x, y) - points[id - 1].position;
        if (d.dot(d) > limit) id = 0;
      }
  }
  cv::Mat unlabelled = foreground & (cells == 0);
  if (options.unlabelled_margin > 0) {
    const int side = 2 * options.unlabelled_margin + 1;
    cv::dilate(unlabelled, unlabelled, cv::getStructuringElement(cv::MORPH_ELLIPSE, {side, side}));
  }
  cells.setTo(kUnlabelledCell, unlabelled & (cells == 0));
  return cells;
}

}  // namespace hemapath
