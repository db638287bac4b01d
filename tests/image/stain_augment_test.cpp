#include <gtest/gtest.h>

#include <cmath>

#include "hemapath/image/stain_augment.h"
#include "hemapath/io/image_io.h"

namespace hemapath {
namespace {

cv::Mat random_rgb(int rows, int cols, uint64_t seed) {
  cv::Mat m(rows, cols, CV_8UC3);
  cv::RNG rng(seed);
  rng.fill(m, cv::RNG::UNIFORM, 0, 256);
  return m;
}

TEST(Stain, RoundTripRecoversRgb) {
  const cv::Mat rgb = random_rgb(32, 48, 1);
  cv::Mat back = hed_to_rgb(rgb_to_hed(rgb));
  ASSERT_EQ(back.type(), CV_32FC3);
  cv::Mat ref;
  rgb.convertTo(ref, CV_32F);
  EXPECT_LT(cv::norm(back, ref, cv::NORM_INF), 0.02);

  const cv::Mat real = read_image_rgb(std::string(HEMAPATH_SHARED_DATA) + "/wbc-bccd/images/BloodImage_00001.jpg");
  real.convertTo(ref, CV_32F);
  EXPECT_LT(cv::norm(hed_to_rgb(rgb_to_hed(real)), ref, cv::NORM_INF), 0.02);
}

TEST(Stain, PureHaematoxylinDeconvolvesToHOnly) {
  // Haematoxylin OD direction (Ruifrok & Johnston), unit length, amount 0.5 in log10 OD.
  const double h[3] = {0.65, 0.70, 0.29};
  const double norm = std::sqrt(h[0] * h[0] + h[1] * h[1] + h[2] * h[2]);
  cv::Mat rgb(2, 2, CV_32FC3);
  cv::Vec3f px;
  for (int c = 0; c < 3; ++c) px[c] = float(256 * std::pow(10.0, -0.5 * h[c] / norm) - 1);
  rgb.setTo(cv::Scalar(px[0], px[1], px[2]));
  const cv::Vec3f hed = rgb_to_hed(rgb).at<cv::Vec3f>(1, 1);
  EXPECT_NEAR(hed[0], 0.5, 1e-4);
  EXPECT_NEAR(hed[1], 0.0, 1e-4);
  EXPECT_NEAR(hed[2], 0.0, 1e-4);
  // White has no stain at all.
  cv::Mat white(1, 1, CV_8UC3, cv::Scalar(255, 255, 255));
  EXPECT_LT(cv::norm(rgb_to_hed(white), cv::NORM_INF), 1e-5);
}

TEST(Stain, JitterSigmaZeroIsIdentityAndPositiveChangesColour) {
  const cv::Mat rgb = random_rgb(16, 16, 2);
  cv::Mat a = rgb.clone();
  Rng rng(5);
  hed_jitter(a, 0.0, rng);
  EXPECT_EQ(cv::norm(a, rgb, cv::NORM_INF), 0);

  cv::Mat b = rgb.clone(), c = rgb.clone();
  Rng r1(9), r2(9);
  hed_jitter(b, 0.05, r1);
  hed_jitter(c, 0.05, r2);
  EXPECT_EQ(b.type(), CV_8UC3);
  EXPECT_EQ(cv::norm(b, c, cv::NORM_INF), 0);  // same rng state, same result
  EXPECT_GT(cv::norm(b, rgb, cv::NORM_L1), 0);
  // Light jitter: colours move, but not wildly.
  EXPECT_LT(cv::norm(b, rgb, cv::NORM_L1) / double(rgb.total() * 3), 40);
}

}  // namespace
}  // namespace hemapath
