#include "hemapath/image/tissue_mask.h"

#include <gtest/gtest.h>

#include <opencv2/imgproc.hpp>

#include "hemapath/core/config.h"
#include "hemapath/core/error.h"

namespace hemapath {
namespace {

// Adds seeded Gaussian noise (sigma in 8-bit levels) to every channel, as a scanner's sensor
// and JPEG compression do to a thumbnail.
cv::Mat with_noise(const cv::Mat& rgb, double sigma, uint64_t seed) {
  cv::Mat noise(rgb.size(), CV_16SC3);
  cv::RNG rng(seed);
  rng.fill(noise, cv::RNG::NORMAL, 0, sigma);
  cv::Mat wide, out;
  rgb.convertTo(wide, CV_16SC3);
  wide += noise;
  wide.convertTo(out, CV_8UC3);  // saturates at 0 and 255
  return out;
}

double iou(const cv::Mat& a, const cv::Mat& b) {
  const double inter = cv::countNonZero(a & b), uni = cv::countNonZero(a | b);
  return uni > 0 ? inter / uni : 1.0;
}

// A 300 x 200 thumbnail: glass (near-white) with a pink ellipse holding a glass hole, a purple
// disc, a pale-pink rectangle, a 3 x 3 purple speck, a black pen stroke and a faint magenta
// tint on the glass (saturation ~33, near pale tissue, but summed optical density ~0.07).
struct SyntheticSlide {
  cv::Mat rgb{200, 300, CV_8UC3, cv::Scalar(246, 246, 246)};
  cv::Mat truth{200, 300, CV_8U, cv::Scalar(0)};  // the blobs, hole included (it is filled)
  cv::Point hole{80, 90};
  cv::Rect speck{150, 180, 3, 3};
  cv::Rect pen{20, 120, 5, 70};
  cv::Rect tint{40, 150, 80, 40};

  SyntheticSlide() {
    const cv::Scalar pink(235, 160, 200), purple(140, 80, 170), pale(235, 190, 215);
    cv::ellipse(rgb, cv::Point(80, 90), cv::Size(50, 35), 0, 0, 360, pink, cv::FILLED);
    cv::ellipse(truth, cv::Point(80, 90), cv::Size(50, 35), 0, 0, 360, 255, cv::FILLED);
    cv::circle(rgb, hole, 6, cv::Scalar(246, 246, 246), cv::FILLED);
    cv::circle(rgb, cv::Point(210, 110), 40, purple, cv::FILLED);
    cv::circle(truth, cv::Point(210, 110), 40, 255, cv::FILLED);
    cv::rectangle(rgb, cv::Rect(230, 10, 50, 30), pale, cv::FILLED);
    cv::rectangle(truth, cv::Rect(230, 10, 50, 30), 255, cv::FILLED);
    rgb(speck).setTo(purple);
    rgb(pen).setTo(cv::Scalar(5, 5, 5));
    rgb(tint).setTo(cv::Scalar(253, 220, 253));
    rgb = with_noise(rgb, 3.0, 7);
  }
};

TEST(TissueMask, FindsBlobsFillsHolesDropsSpecksAndInk) {
  const SyntheticSlide slide;
  const cv::Mat mask = detect_tissue(slide.rgb);
  ASSERT_EQ(mask.type(), CV_8U);
  ASSERT_EQ(mask.size(), slide.rgb.size());
  EXPECT_EQ(cv::countNonZero((mask != 0) & (mask != 255)), 0) << "mask values must be 0 or 255";
  EXPECT_GT(iou(mask, slide.truth), 0.9);
  // Each blob is found on its own (IoU alone could hide a missing small one).
  EXPECT_GT(cv::countNonZero(mask(cv::Rect(230, 10, 50, 30))), 0.9 * 50 * 30);
  EXPECT_GT(cv::countNonZero(mask(cv::Rect(190, 90, 40, 40))), 0.95 * 40 * 40);
  EXPECT_EQ(mask.at<uchar>(slide.hole), 255) << "the glass hole inside the pink blob is filled";
  EXPECT_EQ(cv::countNonZero(mask(slide.speck + cv::Size(4, 4) - cv::Point(2, 2))), 0) << "the speck is dropped";
  EXPECT_EQ(cv::countNonZero(mask(slide.pen)), 0) << "black ink is never tissue";
  EXPECT_EQ(cv::countNonZero(mask(slide.tint)), 0) << "tinted glass absorbs too little to be tissue";
  EXPECT_EQ(cv::countNonZero(mask(cv::Rect(0, 0, 20, 20))), 0) << "glass is background";
}

TEST(TissueMask, EachCleanupStepDoesItsJob) {
  const SyntheticSlide slide;
  TissueOptions raw;
  raw.fill_holes = false;
  raw.min_area_fraction = 0;
  raw.opening_px = 0;
  const cv::Mat mask = detect_tissue(slide.rgb, raw);
  // Without the cleanup the hole is background and the speck is tissue: the defaults'
  // results above come from the cleanup steps, not from the thresholding.
  EXPECT_EQ(mask.at<uchar>(slide.hole), 0);
  EXPECT_GT(cv::countNonZero(mask(slide.speck)), 0);
  // Opening alone leaves a 3 x 3 speck (an elliptical 3 x 3 kernel fits in it); the area
  // filter (0.0005 * 60000 px = 30 px) removes it.
  TissueOptions opened = raw;
  opened.opening_px = 1;
  EXPECT_GT(cv::countNonZero(detect_tissue(slide.rgb, opened)(slide.speck)), 0);
  opened.min_area_fraction = 0.0005;
  EXPECT_EQ(cv::countNonZero(detect_tissue(slide.rgb, opened)(slide.speck)), 0);
}

TEST(TissueMask, SaturationFloorRaisesOtsu) {
  const SyntheticSlide slide;
  TissueOptions options;
  // The purple disc's saturation is ~135, the pink ~81, the pale ~52 (0..255 scale).
  options.min_saturation = 110;
  const cv::Mat mask = detect_tissue(slide.rgb, options);
  EXPECT_GT(cv::countNonZero(mask(cv::Rect(190, 90, 40, 40))), 0.95 * 40 * 40);
  EXPECT_EQ(cv::countNonZero(mask(cv::Rect(50, 70, 20, 15))), 0) << "pink is below the floor";
  options.min_saturation = 250;
  EXPECT_EQ(cv::countNonZero(detect_tissue(slide.rgb, options)), 0);
}

TEST(TissueMask, BlankThumbnailsHaveNoTissue) {
  const cv::Size size(160, 120);
  const std::vector<std::pair<std::string, cv::Mat>> blanks = {
      {"white", cv::Mat(size, CV_8UC3, cv::Scalar(255, 255, 255))},
      {"grey", cv::Mat(size, CV_8UC3, cv::Scalar(128, 128, 128))},
      {"pink", cv::Mat(size, CV_8UC3, cv::Scalar(235, 160, 200))},
      {"black", cv::Mat(size, CV_8UC3, cv::Scalar(0, 0, 0))},
      {"noisy white", with_noise(cv::Mat(size, CV_8UC3, cv::Scalar(246, 246, 246)), 3.0, 1)},
      {"noisy grey", with_noise(cv::Mat(size, CV_8UC3, cv::Scalar(200, 200, 200)), 3.0, 2)},
      {"noisy pink", with_noise(cv::Mat(size, CV_8UC3, cv::Scalar(235, 160, 200)), 3.0, 3)},
  };
  for (const auto& [name, rgb] : blanks) {
    const cv::Mat mask = detect_tissue(rgb);
    EXPECT_EQ(mask.size(), size) << name;
    EXPECT_EQ(cv::countNonZero(mask), 0) << name;
  }
}

TEST(TissueMask, RejectsBadInputAndOptions) {
  EXPECT_THROW(detect_tissue(cv::Mat()), InputError);
  EXPECT_THROW(detect_tissue(cv::Mat(10, 10, CV_8U, cv::Scalar(0))), InputError);
  EXPECT_THROW(detect_tissue(cv::Mat(10, 10, CV_8UC4, cv::Scalar(0))), InputError);
  const cv::Mat rgb(10, 10, CV_8UC3, cv::Scalar(255, 255, 255));
  TissueOptions bad;
  bad.closing_px = -1;
  EXPECT_THROW(detect_tissue(rgb, bad), ConfigError);
  bad = {};
  bad.min_area_fraction = 1.5;
  EXPECT_THROW(detect_tissue(rgb, bad), ConfigError);
}

TEST(TissueMask, OptionsFromConfig) {
  const ConfigNode node(nlohmann::json{{"closing_px", 4}, {"fill_holes", false}, {"min_saturation", 30.5}},
                        "tissue.yaml");
  const TissueOptions o = TissueOptions::from_config(node);
  EXPECT_EQ(o.closing_px, 4);
  EXPECT_FALSE(o.fill_holes);
  EXPECT_DOUBLE_EQ(o.min_saturation, 30.5);
  EXPECT_EQ(o.opening_px, TissueOptions{}.opening_px);
  EXPECT_NO_THROW(node.finish());
  const ConfigNode bad(nlohmann::json{{"opening_px", -2}}, "tissue.yaml");
  EXPECT_THROW(TissueOptions::from_config(bad), ConfigError);
}

TEST(TissueFraction, KnownRectangles) {
  cv::Mat mask(100, 100, CV_8U, cv::Scalar(0));
  mask(cv::Rect(20, 20, 40, 40)).setTo(255);  // tissue on [20, 60) x [20, 60)
  EXPECT_DOUBLE_EQ(tissue_fraction(mask, cv::Rect2d(25, 25, 10, 10)), 1.0);
  EXPECT_DOUBLE_EQ(tissue_fraction(mask, cv::Rect2d(40, 20, 40, 40)), 0.5);
  EXPECT_DOUBLE_EQ(tissue_fraction(mask, cv::Rect2d(50, 50, 20, 20)), 0.25);
  EXPECT_DOUBLE_EQ(tissue_fraction(mask, cv::Rect2d(70, 70, 20, 20)), 0.0);
  // Partly covered pixels count by area: [19.5, 20.5) is half glass, half tissue.
  EXPECT_DOUBLE_EQ(tissue_fraction(mask, cv::Rect2d(19.5, 30, 1, 1)), 0.5);
  EXPECT_NEAR(tissue_fraction(mask, cv::Rect2d(17.25, 30.5, 4, 2.5)), 1.25 / 4, 1e-12);
  // Clipped to the mask: only [0, 40) x [20, 40) remains, half of it tissue.
  EXPECT_DOUBLE_EQ(tissue_fraction(mask, cv::Rect2d(-40, 20, 80, 20)), 0.5);
  // Empty intersections.
  EXPECT_EQ(tissue_fraction(mask, cv::Rect2d(120, 20, 10, 10)), 0.0);
  EXPECT_EQ(tissue_fraction(mask, cv::Rect2d(-30, -30, 10, 10)), 0.0);
  EXPECT_EQ(tissue_fraction(mask, cv::Rect2d(30, 30, 0, 10)), 0.0);
  EXPECT_EQ(tissue_fraction(mask, cv::Rect2d(30, 30, -5, 10)), 0.0);
  EXPECT_THROW(tissue_fraction(cv::Mat(10, 10, CV_8UC3), cv::Rect2d(0, 0, 1, 1)), InputError);
  EXPECT_THROW(tissue_fraction(mask, cv::Rect2d(std::nan(""), 0, 1, 1)), InputError);
}

TEST(TissueFraction, DetectedMaskOfSyntheticSlide) {
  const SyntheticSlide slide;
  const cv::Mat mask = detect_tissue(slide.rgb);
  EXPECT_GT(tissue_fraction(mask, cv::Rect2d(190, 90, 40, 40)), 0.95);  // inside the purple disc
  EXPECT_LT(tissue_fraction(mask, cv::Rect2d(0, 0, 20, 20)), 0.01);     // glass corner
}

}  // namespace
}  // namespace hemapath
