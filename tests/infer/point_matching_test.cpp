// Detection scored against one point per true cell.
#include <gtest/gtest.h>

#include <opencv2/imgproc.hpp>

#include "hemapath/core/error.h"
#include "hemapath/infer/point_matching.h"

namespace hemapath {
namespace {

cv::Mat three_cells() {
  cv::Mat labels = cv::Mat::zeros(50, 100, CV_32S);
  cv::rectangle(labels, cv::Rect(0, 0, 20, 20), cv::Scalar(1), cv::FILLED);
  cv::rectangle(labels, cv::Rect(30, 0, 20, 20), cv::Scalar(2), cv::FILLED);
  cv::rectangle(labels, cv::Rect(60, 0, 30, 20), cv::Scalar(7), cv::FILLED);
  return labels;
}

TEST(PointMatching, ACellWithExactlyOnePointIsATruePositive) {
  // Cell 1 holds one point, cell 2 one, cell 7 two (a merge), one point is on background.
  const std::vector<PointLabel> points{{{5, 5}, 0}, {{40, 10}, 1}, {{65, 5}, 0}, {{85, 15}, 2}, {{50, 40}, 0}};
  const PointMatches m = match_points_to_cells(three_cells(), points);
  EXPECT_EQ(m.cells, 3);
  EXPECT_EQ(m.matched, 2);
  EXPECT_EQ(m.cell_of_point, (std::vector<int>{1, 2, 0, 0, 0}));
  DetectionScore score;
  score.add(m, points.size());
  EXPECT_DOUBLE_EQ(score.precision(), 2.0 / 3);
  EXPECT_DOUBLE_EQ(score.recall(), 2.0 / 5);
  EXPECT_NEAR(score.f1(), 2 * (2.0 / 3) * 0.4 / (2.0 / 3 + 0.4), 1e-12);
  EXPECT_DOUBLE_EQ(score.mean_count_error(), 2.0 / 5);  // 3 cells for 5 points
}

TEST(PointMatching, PointsRoundToTheirPixelAndCountErrorsAverageOverImages) {
  const std::vector<PointLabel> edge{{{19.4, 0}, 0}, {{19.6, 0}, 0}};  // pixel 19 is cell 1, pixel 20 background
  const PointMatches m = match_points_to_cells(three_cells(), edge);
  EXPECT_EQ(m.cell_of_point, (std::vector<int>{1, 0}));
  DetectionScore score;
  score.add(m, 2);  // 3 cells for 2 points: 50%
  score.add(match_points_to_cells(cv::Mat::zeros(10, 10, CV_16U), {{{1, 1}, 0}}), 1);  // 0 cells: 100%
  EXPECT_DOUBLE_EQ(score.mean_count_error(), 0.75);
  EXPECT_EQ(score.to_json()["images"], 2);
  EXPECT_THROW(match_points_to_cells(cv::Mat::zeros(5, 5, CV_32F), {}), InputError);
}

TEST(PointMatching, BorderCellsAndTheirPointsAreLeftOutOfTheInnerScore) {
  cv::Mat labels = three_cells();                                              // cells 1, 2 and 7 touch the top border
  cv::rectangle(labels, cv::Rect(10, 25, 15, 15), cv::Scalar(4), cv::FILLED);  // clear of it
  // A point in border cell 2, one in cell 4, one on background near the border.
  const std::vector<PointLabel> points{{{40, 10}, 1}, {{15, 30}, 0}, {{60, 48}, 2}};
  const InnerCells inner = without_border_cells(labels, points);
  EXPECT_EQ(cv::countNonZero(inner.labels), 15 * 15);
  EXPECT_EQ(inner.labels.at<int>(30, 15), 4);
  ASSERT_EQ(inner.points.size(), 2u);
  EXPECT_EQ(inner.points[0].label, 0);
  EXPECT_EQ(inner.points[1].label, 2);  // on background: still a cell the detector missed
  const PointMatches m = match_points_to_cells(inner.labels, inner.points);
  EXPECT_EQ(m.cells, 1);
  EXPECT_EQ(m.matched, 1);
  EXPECT_EQ(labels.at<int>(5, 5), 1);  // the input is left alone
}

TEST(PointMatching, NoCellsNoPointsIsPerfectNotNan) {
  DetectionScore score;
  score.add(match_points_to_cells(cv::Mat::zeros(10, 10, CV_32S), {}), 0);
  EXPECT_DOUBLE_EQ(score.precision(), 1);
  EXPECT_DOUBLE_EQ(score.recall(), 1);
  EXPECT_DOUBLE_EQ(score.mean_count_error(), 0);
}

}  // namespace
}  // namespace hemapath
