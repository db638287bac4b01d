#include "hemapath/image/tissue_mask.h"

#include <algorithm>
#include <array>
#include <cmath>
#include <opencv2/imgproc.hpp>
#include <vector>

#include "hemapath/core/error.h"

namespace hemapath {
namespace {

struct OtsuSplit {
  bool found = false;  // false when the histogram has a single occupied level
  int threshold = 0;   // the high class is > threshold
  double mean_low = 0, mean_high = 0;
};

// Otsu's threshold of bins [0, last] of a 256-bin histogram, computed here rather than with
// cv::threshold so that the population can be a subset of the pixels and of the levels, and
// so that a one-level histogram is reported as "no split" instead of a threshold that puts
// everything in one class.
OtsuSplit otsu(const std::array<double, 256>& hist, int last = 255) {
  double total = 0, sum = 0;
  for (int k = 0; k <= last; ++k) {
    total += hist[k];
    sum += k * hist[k];
  }
  OtsuSplit best;
  double best_var = -1, w0 = 0, sum0 = 0;
  for (int t = 0; t < last; ++t) {
    w0 += hist[t];
    sum0 += t * hist[t];
    const double w1 = total - w0;
    if (w0 <= 0 || w1 <= 0) continue;
    const double m0 = sum0 / w0, m1 = (sum - sum0) / w1;
    const double var = w0 * w1 * (m0 - m1) * (m0 - m1);
    if (var > best_var) {
      best_var = var;
      best = {true, t, m0, m1};
    }
  }
  return best;
}

cv::Mat ellipse_kernel(int radius) {
  return cv::getStructuringElement(cv::MORPH_ELLIPSE, cv::Size(2 * radius + 1, 2 * radius + 1));
}

void check_options(const TissueOptions& o) {
  HP_CHECK(o.min_saturation >= 0 && o.min_saturation <= 255, ConfigError,
           "tissue option min_saturation = ", o.min_saturation, ": expected a number in [0, 255]");
  HP_CHECK(o.closing_px >= 0 && o.closing_px <= 256, ConfigError, "tissue option closing_px = ", o.closing_px,
           ": expected a radius in [0, 256] thumbnail px");
  HP_CHECK(o.opening_px >= 0 && o.opening_px <= 256, ConfigError, "tissue option opening_px = ", o.opening_px,
           ": expected a radius in [0, 256] thumbnail px");
  HP_CHECK(o.min_area_fraction >= 0 && o.min_area_fraction <= 1, ConfigError,
           "tissue option min_area_fraction = ", o.min_area_fraction, ": expected a fraction in [0, 1]");
  HP_CHECK(o.background_od >= 0 && o.background_od <= 3, ConfigError, "tissue option background_od = ", o.background_od,
           ": expected an optical density in [0, 3]");
  HP_CHECK(o.dark_value >= 0 && o.dark_value <= 255, ConfigError, "tissue option dark_value = ", o.dark_value,
           ": expected a value in [0, 255]");
  HP_CHECK(o.min_contrast >= 0 && o.min_contrast <= 255, ConfigError, "tissue option min_contrast = ", o.min_contrast,
           ": expected a number in [0, 255]");
}

}  // namespace

TissueOptions TissueOptions::from_config(const ConfigNode& node) {
  TissueOptions o;
  o.min_saturation = node.get_number("min_saturation", o.min_saturation, 0.0, 255.0);
  o.closing_px = int(node.get_int("closing_px", o.closing_px, 0, 256));
  o.opening_px = int(node.get_int("opening_px", o.opening_px, 0, 256));
  o.min_area_fraction = node.get_number("min_area_fraction", o.min_area_fraction, 0.0, 1.0);
  o.fill_holes = node.get<bool>("fill_holes", o.fill_holes);
  o.background_od = node.get_number("background_od", o.background_od, 0.0, 3.0);
  o.dark_value = int(node.get_int("dark_value", o.dark_value, 0, 255));
  o.min_contrast = node.get_number("min_contrast", o.min_contrast, 0.0, 255.0);
  return o;
}

cv::Mat detect_tissue(const cv::Mat& thumbnail_rgb, const TissueOptions& options) {
  HP_CHECK(!thumbnail_rgb.empty(), InputError, "tissue detection: the thumbnail is empty: expected an RGB image");
  HP_CHECK(thumbnail_rgb.type() == CV_8UC3, InputError, "tissue detection: the thumbnail has OpenCV type ",
           thumbnail_rgb.type(), " (", thumbnail_rgb.channels(), " channels): expected 8-bit RGB (CV_8UC3)");
  check_options(options);

  cv::Mat hsv;
  cv::cvtColor(thumbnail_rgb, hsv, cv::COLOR_RGB2HSV);

  // Optical density per 8-bit level (Beer-Lambert: stain absorbs light, glass does not).
  // Summed over R, G and B it separates glass from tissue by how much light is absorbed,
  // which saturation alone cannot: faint grey debris and the slightly tinted glass of some
  // scanners have low OD, while pale-stained tissue (fat septa, mucin) still absorbs.
  std::array<double, 256> od{};
  for (int i = 0; i < 256; ++i) od[i] = -std::log10(std::max(i, 1) / 255.0);

  // Pass 1: the saturation histogram of all pixels that are not near-black. Near-black pixels
  // (pen ink, black scanner borders, dirt) are left out because their saturation is noise
  // (a tiny V makes S = (max - min) / max swing wildly). Glass stays in: it is the low
  // mode Otsu needs. Taking only non-white pixels instead would leave Otsu a population of
  // tissue alone on a clean slide, which it would then split into pale and dark tissue.
  const int rows = thumbnail_rgb.rows, cols = thumbnail_rgb.cols;
  std::array<double, 256> hist{};
  for (int y = 0; y < rows; ++y) {
    const auto* p = hsv.ptr<cv::Vec3b>(y);
    for (int x = 0; x < cols; ++x)
      if (p[x][2] >= options.dark_value) hist[p[x][1]] += 1;
  }
  cv::Mat mask(rows, cols, CV_8U, cv::Scalar(0));
  OtsuSplit split = otsu(hist);
  // A blank thumbnail (all glass, all one colour, or one colour plus sensor noise) has a
  // one-level histogram or two Otsu classes that differ by noise only: report no tissue
  // rather than the noisy half of the glass.
  if (!split.found || split.mean_high - split.mean_low < options.min_contrast) return mask;
  // H&E saturation is often three-moded (glass, pale eosin / fat septa, dense haematoxylin),
  // and one Otsu split then falls between the two stains and drops the pale tissue. So the
  // low class is split again for as long as it still holds two populations that differ by
  // min_contrast: the final threshold sits just above the glass mode. Noise inside the glass
  // mode never differs by that much, so the descent stops there. (Terminates: each threshold
  // is below the previous one.)
  for (OtsuSplit low = otsu(hist, split.threshold); low.found && low.mean_high - low.mean_low >= options.min_contrast;
       low = otsu(hist, split.threshold))
    split = low;
  const double threshold = std::max<double>(split.threshold, options.min_saturation);

  // Pass 2: tissue = saturated (stain is coloured, glass is grey) and absorbing (not
  // near-white) and not near-black.
  for (int y = 0; y < rows; ++y) {
    const auto* p = hsv.ptr<cv::Vec3b>(y);
    const auto* rgb = thumbnail_rgb.ptr<cv::Vec3b>(y);
    auto* m = mask.ptr<uchar>(y);
    for (int x = 0; x < cols; ++x) {
      if (p[x][2] < options.dark_value || p[x][1] <= threshold) continue;
      if (od[rgb[x][0]] + od[rgb[x][1]] + od[rgb[x][2]] < options.background_od) continue;
      m[x] = 255;
    }
  }

  // Closing first: at thumbnail scale loose stroma and fatty tissue break into fragments
  // separated by one or two glass-coloured pixels; joining them keeps one tissue region
  // instead of a lace the area filter below would partly discard.
  if (options.closing_px > 0) cv::morphologyEx(mask, mask, cv::MORPH_CLOSE, ellipse_kernel(options.closing_px));
  // Opening then drops isolated specks (dust, stray stained debris) and thin spurs.
  if (options.opening_px > 0) cv::morphologyEx(mask, mask, cv::MORPH_OPEN, ellipse_kernel(options.opening_px));

  // Hole filling: background fully enclosed by tissue (vessel lumina, tears, fat vacuoles)
  // belongs to the specimen; tiles there still hold tissue at their edges and the
  // annotations usually cover them. Background reachable from outside the image, 4-connected
  // (the dual of the 8-connected tissue components below), is the only true background.
  if (options.fill_holes) {
    cv::Mat padded;
    cv::copyMakeBorder(mask, padded, 1, 1, 1, 1, cv::BORDER_CONSTANT, cv::Scalar(0));
    cv::floodFill(padded, cv::Point(0, 0), cv::Scalar(255), nullptr, cv::Scalar(), cv::Scalar(), 4);
    mask.setTo(255, padded(cv::Rect(1, 1, cols, rows)) == 0);
  }

  // Small components: specks that survived the opening (pen dots, bubbles' rims, debris)
  // would each cost a tile read for nothing.
  const double min_area = options.min_area_fraction * double(rows) * double(cols);
  if (min_area > 0) {
    cv::Mat labels, stats, centroids;
    const int n = cv::connectedComponentsWithStats(mask, labels, stats, centroids, 8, CV_32S);
    std::vector<uchar> keep(size_t(n), 0);
    for (int i = 1; i < n; ++i) keep[size_t(i)] = stats.at<int>(i, cv::CC_STAT_AREA) >= min_area ? 255 : 0;
    for (int y = 0; y < rows; ++y) {
      const int* l = labels.ptr<int>(y);
      auto* m = mask.ptr<uchar>(y);
      for (int x = 0; x < cols; ++x) m[x] = keep[size_t(l[x])];
    }
  }
  return mask;
}

double tissue_fraction(const cv::Mat& mask, const cv::Rect2d& rect) {
  HP_CHECK(!mask.empty() && mask.type() == CV_8U, InputError, "tissue fraction: the mask has OpenCV type ", mask.type(),
           ": expected a single-channel 8-bit mask (CV_8U)");
  HP_CHECK(std::isfinite(rect.x) && std::isfinite(rect.y) && std::isfinite(rect.width) && std::isfinite(rect.height),
           InputError, "tissue fraction: rectangle (", rect.x, ", ", rect.y, ", ", rect.width, " x ", rect.height,
           ") is not finite: expected mask px");
  const double xa = std::max(rect.x, 0.0), xb = std::min(rect.x + rect.width, double(mask.cols));
  const double ya = std::max(rect.y, 0.0), yb = std::min(rect.y + rect.height, double(mask.rows));
  if (xb <= xa || yb <= ya) return 0.0;
  // Pixel (x, y) covers [x, x + 1) x [y, y + 1); its weight is the area it shares with the
  // clipped rectangle, so the sum of weights is exactly that rectangle's area.
  const int c0 = int(std::floor(xa)), c1 = std::min(int(std::ceil(xb)), mask.cols);
  const int r0 = int(std::floor(ya)), r1 = std::min(int(std::ceil(yb)), mask.rows);
  double tissue = 0;
  for (int r = r0; r < r1; ++r) {
    const double wy = std::min(r + 1.0, yb) - std::max(double(r), ya);
    const uchar* m = mask.ptr<uchar>(r);
    double row = 0;
    for (int c = c0; c < c1; ++c)
      if (m[c]) row += std::min(c + 1.0, xb) - std::max(double(c), xa);
    tissue += wy * row;
  }
  return std::clamp(tissue / ((xb - xa) * (yb - ya)), 0.0, 1.0);
}

}  // namespace hemapath
