#include "hemapath/image/stain_augment.h"

#include <cmath>

#include "hemapath/core/error.h"
#include "hemapath/image/augment.h"

namespace hemapath {
namespace {

// Rows: optical-density vectors (R, G, B) of haematoxylin, eosin and DAB as published by
// Ruifrok & Johnston (2001), normalised to unit length.
cv::Matx33d stain_matrix() {
  cv::Matx33d m(0.65, 0.70, 0.29,  //
                0.07, 0.99, 0.11,  //
                0.27, 0.57, 0.78);
  for (int r = 0; r < 3; ++r) {
    const double n = std::sqrt(m(r, 0) * m(r, 0) + m(r, 1) * m(r, 1) + m(r, 2) * m(r, 2));
    for (int c = 0; c < 3; ++c) m(r, c) /= n;
  }
  return m;
}

// With od and stains as row vectors, od = stains * M. cv::transform multiplies column
// vectors, so it takes M^T (stains -> od) and (M^T)^-1 (od -> stains).
const cv::Matx33f& od_from_stains() {
  static const cv::Matx33f m = cv::Matx33f(stain_matrix().t());
  return m;
}
const cv::Matx33f& stains_from_od() {
  static const cv::Matx33f m = cv::Matx33f(stain_matrix().t().inv());
  return m;
}

const double kLn10 = std::log(10.0);

}  // namespace

cv::Mat rgb_to_hed(const cv::Mat& rgb) {
  HP_CHECK(!rgb.empty() && (rgb.type() == CV_8UC3 || rgb.type() == CV_32FC3), InputError,
           "rgb_to_hed: expected a CV_8UC3 or CV_32FC3 RGB image");
  cv::Mat od;
  rgb.convertTo(od, CV_32F, 1.0 / 256, 1.0 / 256);  // (I + 1) / 256 in (0, 1]
  cv::log(od, od);
  od.convertTo(od, CV_32F, -1.0 / kLn10);  // -log10
  cv::Mat hed;
  cv::transform(od, hed, stains_from_od());
  return hed;
}

cv::Mat hed_to_rgb(const cv::Mat& hed) {
  HP_CHECK(!hed.empty() && hed.type() == CV_32FC3, InputError, "hed_to_rgb: expected a CV_32FC3 image");
  cv::Mat od;
  cv::transform(hed, od, od_from_stains());
  od.convertTo(od, CV_32F, -kLn10);
  cv::Mat rgb;
  cv::exp(od, rgb);
  rgb.convertTo(rgb, CV_32F, 256.0, -1.0);
  cv::max(rgb, 0.0, rgb);
  cv::min(rgb, 255.0, rgb);
  return rgb;
}

void hed_jitter(cv::Mat& rgb, double sigma, Rng& rng) {
  HP_CHECK(!rgb.empty() && rgb.type() == CV_8UC3, InputError, "hed_jitter: expected a CV_8UC3 RGB image");
  if (sigma <= 0) return;
  cv::Scalar scale, shift;
  for (int c = 0; c < 3; ++c) {
    scale[c] = uniform(rng, 1 - sigma, 1 + sigma);
    shift[c] = uniform(rng, -sigma, sigma);
  }
  cv::Mat hed = rgb_to_hed(rgb);
  cv::multiply(hed, scale, hed);
  cv::add(hed, shift, hed);
  hed_to_rgb(hed).convertTo(rgb, CV_8U);
}

}  // namespace hemapath
