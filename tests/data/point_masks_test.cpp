// Point annotations -> instance masks, on synthetic smears whose cells are known discs.
#include <gtest/gtest.h>

#include <opencv2/imgproc.hpp>

#include "hemapath/core/error.h"
#include "hemapath/data/point_labels.h"
#include "hemapath/data/point_masks.h"
#include "test_support.h"

namespace hemapath {
namespace {

struct Disc {
  cv::Point centre;
  int radius;
};

// Light background with pink discs (cells); pale centres like real red cells.
cv::Mat draw_smear(const std::vector<Disc>& discs, cv::Size size = {200, 120}) {
  cv::Mat rgb(size, CV_8UC3, cv::Scalar(235, 230, 225));
  for (const auto& d : discs) cv::circle(rgb, d.centre, d.radius, cv::Scalar(215, 120, 130), cv::FILLED);
  for (const auto& d : discs) cv::circle(rgb, d.centre, d.radius / 3, cv::Scalar(230, 200, 205), cv::FILLED);
  return rgb;
}

double iou(const cv::Mat& a, const cv::Mat& b) {
  return static_cast<double>(cv::countNonZero(a & b)) / cv::countNonZero(a | b);
}

cv::Mat disc_mask(const Disc& d, cv::Size size = {200, 120}) {
  cv::Mat m = cv::Mat::zeros(size, CV_8U);
  cv::circle(m, d.centre, d.radius, cv::Scalar(255), cv::FILLED);
  return m;
}

TEST(PointMasks, EachPointGetsItsDiscAndTouchingDiscsArePartedAtTheNeck) {
  // Two overlapping discs (centres 30 px apart, radii 18) and one apart; one disc unlabelled.
  const std::vector<Disc> discs{{{50, 60}, 18}, {{80, 60}, 18}, {{150, 40}, 15}, {{150, 95}, 12}};
  const cv::Mat rgb = draw_smear(discs);
  const std::vector<PointLabel> points{{{50, 60}, 0}, {{80, 60}, 3}, {{150, 40}, 1}};
  const cv::Mat cells = cells_from_points(rgb, points, {});
  ASSERT_EQ(cells.type(), CV_32S);
  EXPECT_GT(iou(cells == 3, disc_mask(discs[2])), 0.9);
  // The overlapping pair: each cell is its disc up to the neck at x = 65.
  const cv::Mat left = cells == 1, right = cells == 2;
  EXPECT_GT(cv::countNonZero(left), 800);
  EXPECT_GT(cv::countNonZero(right), 800);
  for (int y = 0; y < cells.rows; ++y) {
    for (int x = 0; x < 62; ++x) EXPECT_NE(cells.at<int>(y, x), 2) << x << "," << y;
    for (int x = 69; x < 120; ++x) EXPECT_NE(cells.at<int>(y, x), 1) << x << "," << y;
  }
  const cv::Mat pair = disc_mask(discs[0]) | disc_mask(discs[1]);
  EXPECT_GT(iou(left | right, pair), 0.9);
  // The unlabelled disc is unknown, not background; the pale centres belong to their cells.
  EXPECT_EQ(cv::countNonZero(disc_mask(discs[3]) & (cells != kUnlabelledCell)), 0);
  const cv::Mat margin = disc_mask({discs[3].centre, discs[3].radius + 2}) & ~disc_mask(discs[3]);
  EXPECT_GT(cv::countNonZero(margin & (cells == kUnlabelledCell)), cv::countNonZero(margin) / 2);
  EXPECT_EQ(cells.at<int>(5, 5), 0);
  EXPECT_EQ(cells.at<int>(100, 100), 0);
  EXPECT_EQ(cells.at<int>(60, 50), 1);
  EXPECT_EQ(cells.at<int>(40, 150), 3);
}

TEST(PointMasks, MaxRadiusKeepsACellFromClaimingAnUnlabelledNeighbour) {
  // A labelled disc touching a bigger unlabelled blob (a white cell, say).
  const std::vector<Disc> discs{{{60, 60}, 15}, {{100, 60}, 28}};
  const cv::Mat rgb = draw_smear(discs);
  const std::vector<PointLabel> points{{{60, 60}, 0}};
  const cv::Mat unlimited = cells_from_points(rgb, points, {});
  EXPECT_GT(cv::countNonZero(unlimited == 1), 2000);  // flooded into the blob
  PointMaskOptions options;
  options.max_radius = 18;
  const cv::Mat limited = cells_from_points(rgb, points, options);
  EXPECT_GT(iou(limited == 1, disc_mask(discs[0])), 0.85);
  EXPECT_LE(cv::countNonZero(limited == 1), static_cast<int>(CV_PI * 18 * 18) + 10);
  // What the limit cut off is unknown: the blob is nobody's cell, but no background either.
  EXPECT_GT(cv::countNonZero(disc_mask(discs[1]) & (limited == kUnlabelledCell)), 0.9 * CV_PI * 28 * 28 - 400);
  EXPECT_EQ(cv::countNonZero(unlimited == kUnlabelledCell), 0);
}

TEST(PointMasks, APointOnBackgroundKeepsItsSeedOnly) {
  const cv::Mat rgb = draw_smear({{{60, 60}, 15}});
  PointMaskOptions options;
  options.seed_radius = 2;
  const cv::Mat cells = cells_from_points(rgb, {{{60, 60}, 0}, {{150, 60}, 0}}, options);
  EXPECT_GT(cv::countNonZero(cells == 1), 600);
  EXPECT_LE(cv::countNonZero(cells == 2), 13);
  EXPECT_GT(cv::countNonZero(cells == 2), 0);
}

TEST(PointMasks, RejectsGreyImagesAndNegativeOptions) {
  EXPECT_THROW(cells_from_points(cv::Mat(10, 10, CV_8U, cv::Scalar(0)), {}, {}), InputError);
  PointMaskOptions bad;
  bad.max_radius = -1;
  EXPECT_THROW(cells_from_points(draw_smear({}), {}, bad), ConfigError);
}

TEST(PointLabels, ReadsPointFilesAndNamesTheBadLine) {
  test::ScratchDir dir;
  test::write_file(dir / "ok.txt", "10 20 0\n\n 30.5 40 2\r\n");
  const auto points = read_point_labels(dir / "ok.txt", 3);
  ASSERT_EQ(points.size(), 2u);
  EXPECT_DOUBLE_EQ(points[1].position.x, 30.5);
  EXPECT_EQ(points[1].label, 2);
  test::write_file(dir / "bad.txt", "10 20 0\n10 x 1\n");
  try {
    read_point_labels(dir / "bad.txt", 3);
    FAIL() << "no error";
  } catch (const InputError& e) {
    EXPECT_TRUE(test::contains(e.what(), "bad.txt' line 2")) << e.what();
  }
  test::write_file(dir / "range.txt", "10 20 3\n");
  EXPECT_THROW(read_point_labels(dir / "range.txt", 3), InputError);
  test::write_file(dir / "extra.txt", "10 20 1 4\n");
  EXPECT_THROW(read_point_labels(dir / "extra.txt", 3), InputError);
  EXPECT_THROW(read_point_labels(dir / "missing.txt", 3), InputError);
}

TEST(PointLabels, ClassListsAndClamping) {
  test::ScratchDir dir;
  test::write_file(dir / "classes.txt", "normal\nmacrocyte\n\n");
  EXPECT_EQ(read_class_list(dir / "classes.txt"), (std::vector<std::string>{"normal", "macrocyte"}));
  test::write_file(dir / "twice.txt", "a\nb\na\n");
  EXPECT_THROW(read_class_list(dir / "twice.txt"), InputError);
  test::write_file(dir / "empty.txt", "\n");
  EXPECT_THROW(read_class_list(dir / "empty.txt"), InputError);
  const auto clamped = clamp_points({{{640, 10}, 0}}, cv::Size(640, 480));
  EXPECT_DOUBLE_EQ(clamped[0].position.x, 639);
}

}  // namespace
}  // namespace hemapath
