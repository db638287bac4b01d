#include "hemapath/image/cell_crop.h"

#include <algorithm>
#include <cmath>
#include <vector>

#include <opencv2/imgproc.hpp>

#include "hemapath/core/error.h"

namespace hemapath {
namespace {

// Per-channel median of the crop's outermost pixel ring: the smear background next to
// the cell, robust to a red cell or two touching the edge.
cv::Scalar border_median(const cv::Mat& image) {
  std::vector<cv::Mat> ring{image.row(0), image.row(image.rows - 1), image.col(0).t(),
                            image.col(image.cols - 1).t()};
  cv::Mat pixels;
  cv::hconcat(ring, pixels);  // 1 x N, 3 channels
  std::vector<cv::Mat> channels;
  cv::split(pixels, channels);
  cv::Scalar out;
  for (int c = 0; c < 3; ++c) {
    std::vector<uchar> v(channels[c].begin<uchar>(), channels[c].end<uchar>());
    std::nth_element(v.begin(), v.begin() + v.size() / 2, v.end());
    out[c] = v[v.size() / 2];
  }
  return out;
}

cv::Mat to_square(const cv::Mat& region, const CropOptions& options) {
  const int size = options.size;
  cv::Mat out;
  if (options.mode == "resize") {
    cv::resize(region, out, cv::Size(size, size), 0, 0,
               region.cols > size || region.rows > size ? cv::INTER_AREA : cv::INTER_LINEAR);
    return out;
  }
  const double scale = double(size) / std::max(region.cols, region.rows);
  const int w = std::clamp(int(std::lround(region.cols * scale)), 1, size);
  const int h = std::clamp(int(std::lround(region.rows * scale)), 1, size);
  cv::Mat scaled;
  cv::resize(region, scaled, cv::Size(w, h), 0, 0, scale < 1 ? cv::INTER_AREA : cv::INTER_LINEAR);
  const int left = (size - w) / 2, top = (size - h) / 2;
  cv::copyMakeBorder(scaled, out, top, size - h - top, left, size - w - left, cv::BORDER_CONSTANT,
                     border_median(region));
  return out;
}

void check_image(const cv::Mat& image, const char* what) {
  HP_CHECK(!image.empty() && image.type() == CV_8UC3, InputError, what,
           ": expected a non-empty 8-bit RGB image (CV_8UC3)");
}

}  // namespace

CropOptions CropOptions::from_config(const ConfigNode& node) {
  CropOptions o;
  o.margin = node.get_number("margin", o.margin, 0.0, 2.0);
  o.size = int(node.get_int("size", o.size, 8, 4096));
  o.mode = node.get_choice("mode", o.mode, {"pad", "resize"});
  o.window = int(node.get_int("window", o.window, 0, 4096));
  HP_CHECK(o.window == 0 || o.window >= 8, ConfigError, "crop.window is ", o.window,
           ": expected 0 (the crop size) or a side of at least 8 px");
  return o;
}

nlohmann::json CropOptions::to_json() const {
  return {{"margin", margin}, {"size", size}, {"mode", mode}, {"window", window}};
}

CropOptions CropOptions::from_json(const nlohmann::json& json) {
  ConfigNode node(json, "crop options");
  CropOptions o = from_config(node);
  node.finish();
  return o;
}

cv::Rect cell_box(const cv::Mat& mask, const cv::Size& image_size, double margin,
                  const std::string& source) {
  HP_CHECK(!mask.empty() && mask.channels() == 1, InputError, "mask '", source,
           "' is empty or not single-channel: expected an index mask");
  HP_CHECK(mask.size() == image_size, InputError, "mask '", source, "' is ", mask.cols, "x", mask.rows,
           " but its image is ", image_size.width, "x", image_size.height, ": expected the same size");
  cv::Mat foreground = mask > 0;
  cv::Mat labels, stats, centroids;
  const int n = cv::connectedComponentsWithStats(foreground, labels, stats, centroids, 8, CV_32S);
  HP_CHECK(n > 1, InputError, "mask '", source, "' has no foreground pixels: expected a cell (values > 0)");
  int best = 1;
  for (int i = 2; i < n; ++i)
    if (stats.at<int>(i, cv::CC_STAT_AREA) > stats.at<int>(best, cv::CC_STAT_AREA)) best = i;
  cv::Rect box(stats.at<int>(best, cv::CC_STAT_LEFT), stats.at<int>(best, cv::CC_STAT_TOP),
               stats.at<int>(best, cv::CC_STAT_WIDTH), stats.at<int>(best, cv::CC_STAT_HEIGHT));
  const int grow = int(std::lround(margin * std::max(box.width, box.height)));
  box = cv::Rect(box.x - grow, box.y - grow, box.width + 2 * grow, box.height + 2 * grow);
  return box & cv::Rect(cv::Point(0, 0), image_size);
}

cv::Mat crop_cell(const cv::Mat& image, const cv::Mat& mask, const CropOptions& options,
                  const std::string& source) {
  check_image(image, "crop_cell");
  const cv::Rect box = cell_box(mask, image.size(), options.margin, source);
  return to_square(image(box), options);
}

cv::Mat fit_to_size(const cv::Mat& image, const CropOptions& options) {
  check_image(image, "fit_to_size");
  return to_square(image, options);
}

cv::Mat crop_centred(const cv::Mat& image, const cv::Point2d& centre, int side) {
  check_image(image, "crop_centred");
  HP_CHECK(side >= 1, InputError, "crop side must be at least 1 px, got ", side);
  const int x0 = static_cast<int>(std::floor(centre.x + 0.5)) - side / 2;
  const int y0 = static_cast<int>(std::floor(centre.y + 0.5)) - side / 2;
  const cv::Rect wanted(x0, y0, side, side);
  const cv::Rect inside = wanted & cv::Rect(0, 0, image.cols, image.rows);
  if (inside == wanted) return image(wanted).clone();
  HP_CHECK(!inside.empty(), InputError, "crop centre (", centre.x, ", ", centre.y, ") is more than half a crop outside the image");
  cv::Mat crop;
  cv::copyMakeBorder(image(inside), crop, inside.y - y0, y0 + side - inside.br().y, inside.x - x0,
                     x0 + side - inside.br().x, cv::BORDER_REPLICATE);
  return crop;
}

}  // namespace hemapath
