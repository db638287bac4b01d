#include <gtest/gtest.h>

#include <opencv2/imgproc.hpp>

#include "hemapath/core/error.h"
#include "hemapath/image/augment.h"

namespace hemapath {
namespace {

const cv::Vec3b kShape(20, 40, 230);

// An asymmetric shape (so every flip/rotation changes it) drawn in blue on grey, and as
// label 1 in the mask.
struct Scene {
  cv::Mat image, mask;
  explicit Scene(cv::Size size = cv::Size(96, 96)) {
    image = cv::Mat(size, CV_8UC3, cv::Scalar(150, 140, 130));
    mask = cv::Mat(size, CV_8U, cv::Scalar(0));
    std::vector<cv::Point> poly{{25, 20}, {60, 25}, {45, 40}, {40, 70}, {28, 62}};
    cv::fillPoly(image, std::vector<std::vector<cv::Point>>{poly}, cv::Scalar(kShape), cv::LINE_8);
    cv::fillPoly(mask, std::vector<std::vector<cv::Point>>{poly}, cv::Scalar(1), cv::LINE_8);
  }
};

cv::Mat shape_pixels(const cv::Mat& rgb) {
  cv::Mat d;
  cv::absdiff(rgb, cv::Scalar(kShape), d);
  cv::Mat grey;
  cv::transform(d, grey, cv::Matx13f(1, 1, 1));
  return grey < 90;
}

double iou(const cv::Mat& a, const cv::Mat& b) {
  const double inter = cv::countNonZero(a & b), uni = cv::countNonZero(a | b);
  return uni == 0 ? 1.0 : inter / uni;
}

AugmentOptions geometric_only() {
  AugmentOptions o;
  o.hflip = o.vflip = o.rot90 = false;
  return o;
}

TEST(Augment, FlipsAndRot90KeepMaskExactlyAligned) {
  AugmentOptions o = geometric_only();
  o.hflip = o.vflip = o.rot90 = true;
  int changed = 0;
  for (uint64_t seed = 0; seed < 40; ++seed) {
    Scene s;
    Rng rng(seed);
    augment(s.image, &s.mask, o, rng);
    ASSERT_EQ(s.image.size(), cv::Size(96, 96));
    const cv::Mat expected = s.mask == 1;
    EXPECT_EQ(cv::countNonZero(shape_pixels(s.image) != expected), 0) << "seed " << seed;
    changed += cv::countNonZero(expected != (Scene().mask == 1)) > 0;
  }
  EXPECT_GT(changed, 30);  // 1 in 16 draws is the identity
}

TEST(Augment, HorizontalFlipMovesAPixelToItsMirror) {
  AugmentOptions o = geometric_only();
  o.hflip = true;
  bool seen_flip = false;
  for (uint64_t seed = 0; seed < 10; ++seed) {
    cv::Mat image(20, 30, CV_8UC3, cv::Scalar(0, 0, 0));
    image.at<cv::Vec3b>(5, 3) = cv::Vec3b(255, 255, 255);
    Rng rng(seed);
    augment(image, nullptr, o, rng);
    const bool flipped = image.at<cv::Vec3b>(5, 30 - 1 - 3) == cv::Vec3b(255, 255, 255);
    const bool kept = image.at<cv::Vec3b>(5, 3) == cv::Vec3b(255, 255, 255);
    EXPECT_NE(flipped, kept);
    seen_flip = seen_flip || flipped;
  }
  EXPECT_TRUE(seen_flip);
}

TEST(Augment, FreeRotationAndZoomKeepMaskAligned) {
  AugmentOptions o = geometric_only();
  o.hflip = o.rot90 = true;
  o.rotate_degrees = 45;
  o.scale_min = 0.8;
  o.scale_max = 1.25;
  for (uint64_t seed = 0; seed < 30; ++seed) {
    Scene s;
    Rng rng(seed);
    augment(s.image, &s.mask, o, rng);
    const cv::Mat m = s.mask == 1;
    ASSERT_GT(cv::countNonZero(m), 100) << "seed " << seed;
    EXPECT_GT(iou(shape_pixels(s.image), m), 0.9) << "seed " << seed;
    // Nearest-neighbour keeps the mask's values to the original labels.
    EXPECT_EQ(cv::countNonZero(s.mask > 1), 0);
  }
}

TEST(Augment, PhotometricOpsNeverTouchTheMask) {
  AugmentOptions o = geometric_only();
  o.brightness = 0.3;
  o.contrast = 0.3;
  o.channel_shift = 0.1;
  o.channel_scale = 0.2;
  o.hed_sigma = 0.05;
  Scene ref;
  int changed = 0;
  for (uint64_t seed = 0; seed < 10; ++seed) {
    Scene s;
    Rng rng(seed);
    augment(s.image, &s.mask, o, rng);
    EXPECT_EQ(cv::countNonZero(s.mask != ref.mask), 0);
    cv::Mat diff;
    cv::absdiff(s.image, ref.image, diff);
    changed += cv::sum(diff)[0] + cv::sum(diff)[1] + cv::sum(diff)[2] > 0;
  }
  EXPECT_EQ(changed, 10);
}

TEST(Augment, SameSeedSameResultDifferentSeedsDiffer) {
  AugmentOptions o;
  o.rotate_degrees = 30;
  o.scale_min = 0.9;
  o.scale_max = 1.1;
  o.brightness = o.contrast = 0.2;
  o.hed_sigma = 0.05;
  Scene a, b, c;
  Rng ra(7), rb(7), rc(8);
  augment(a.image, &a.mask, o, ra);
  augment(b.image, &b.mask, o, rb);
  augment(c.image, &c.mask, o, rc);
  EXPECT_EQ(cv::norm(a.image, b.image, cv::NORM_INF), 0);
  EXPECT_EQ(cv::norm(a.mask, b.mask, cv::NORM_INF), 0);
  EXPECT_GT(cv::norm(a.image, c.image, cv::NORM_L1), 0);
}

TEST(Augment, DisabledAndNonSquare) {
  AugmentOptions o;
  o.enabled = false;
  o.rotate_degrees = 90;
  Scene s;
  Rng rng(1);
  augment(s.image, &s.mask, o, rng);
  EXPECT_EQ(cv::norm(s.image, Scene().image, cv::NORM_INF), 0);

  AugmentOptions r = geometric_only();
  r.rot90 = true;
  for (uint64_t seed = 0; seed < 8; ++seed) {
    Scene wide(cv::Size(120, 96));
    Rng g(seed);
    augment(wide.image, &wide.mask, r, g);
    EXPECT_EQ(wide.image.size(), cv::Size(120, 96));
    EXPECT_EQ(wide.mask.size(), cv::Size(120, 96));
  }
  cv::Mat bad_mask(10, 10, CV_8U);
  Scene t;
  EXPECT_THROW(augment(t.image, &bad_mask, AugmentOptions{}, rng), InputError);
}

TEST(AugmentOptions, ConfigChecks) {
  auto o = AugmentOptions::from_config(
      ConfigNode::parse("hflip: false\nrotate_degrees: 15\nscale_min: 0.9\nscale_max: 1.1\nhed_sigma: 0.05\n", "a.yaml"));
  EXPECT_FALSE(o.hflip);
  EXPECT_DOUBLE_EQ(o.rotate_degrees, 15);
  EXPECT_DOUBLE_EQ(AugmentOptions::from_json(o.to_json()).hed_sigma, 0.05);
  EXPECT_THROW(AugmentOptions::from_config(ConfigNode::parse("scale_min: 1.2\nscale_max: 1.1\n", "a.yaml")),
               ConfigError);
  EXPECT_THROW(AugmentOptions::from_config(ConfigNode::parse("brightness: 2\n", "a.yaml")), ConfigError);
}

TEST(Augment, UniformStaysInRange) {
  Rng rng(3);
  double lo = 1, hi = 0;
  for (int i = 0; i < 10000; ++i) {
    const double u = uniform(rng, -2, 3);
    ASSERT_GE(u, -2);
    ASSERT_LT(u, 3);
    lo = std::min(lo, u);
    hi = std::max(hi, u);
  }
  EXPECT_LT(lo, -1.9);
  EXPECT_GT(hi, 2.9);
}

}  // namespace
}  // namespace hemapath
