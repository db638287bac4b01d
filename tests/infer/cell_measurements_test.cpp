// Cell measurements against shapes whose figures are known: a disc, a rectangle, an L.
#include "hemapath/infer/cell_measurements.h"

#include <gtest/gtest.h>

#include <cmath>
#include <opencv2/imgproc.hpp>

#include "hemapath/core/error.h"

namespace hemapath {
namespace {

TEST(CellMeasurements, DiscOfRadiusR) {
  const int r = 20;
  cv::Mat labels = cv::Mat::zeros(100, 120, CV_32S);
  cv::circle(labels, {60, 45}, r, cv::Scalar(7), cv::FILLED);
  const auto cells = measure_instances(labels);
  ASSERT_EQ(cells.size(), 1u);
  const CellMeasurement& c = cells[0];
  EXPECT_EQ(c.id, 7);
  EXPECT_EQ(c.area, cv::countNonZero(labels));
  EXPECT_NEAR(c.area, M_PI * r * r, 0.01 * M_PI * r * r);
  EXPECT_NEAR(c.equivalent_diameter, 2.0 * r, 0.5);
  EXPECT_NEAR(c.perimeter, 2 * M_PI * r, 0.03 * 2 * M_PI * r);
  EXPECT_GT(c.circularity, 0.95);
  EXPECT_LE(c.circularity, 1.0);
  EXPECT_LT(c.eccentricity, 0.05);
  EXPECT_GT(c.solidity, 0.99);
  EXPECT_NEAR(c.centroid_x, 60, 1e-9);
  EXPECT_NEAR(c.centroid_y, 45, 1e-9);
  EXPECT_EQ(c.bbox, cv::Rect(40, 25, 41, 41));
  EXPECT_FALSE(c.has_colour);
}

TEST(CellMeasurements, RectangleBoxCentroidSolidityEccentricityAndColour) {
  cv::Mat labels = cv::Mat::zeros(40, 50, CV_16U);
  labels(cv::Rect(5, 7, 30, 10)).setTo(300);
  cv::Mat rgb(40, 50, CV_8UC3, cv::Scalar(200, 200, 200));
  rgb(cv::Rect(5, 7, 30, 10)).setTo(cv::Scalar(10, 20, 30));
  rgb(cv::Rect(5, 7, 15, 10)).setTo(cv::Scalar(30, 20, 10));  // left half: mean R = G = B = 20
  const auto cells = measure_instances(labels, rgb);
  ASSERT_EQ(cells.size(), 1u);
  const CellMeasurement& c = cells[0];
  EXPECT_EQ(c.id, 300);
  EXPECT_EQ(c.area, 300);
  EXPECT_EQ(c.bbox, cv::Rect(5, 7, 30, 10));
  EXPECT_NEAR(c.centroid_x, 5 + 14.5, 1e-9);
  EXPECT_NEAR(c.centroid_y, 7 + 4.5, 1e-9);
  EXPECT_DOUBLE_EQ(c.solidity, 1.0);
  // Variances of n evenly spaced pixels are (n^2 - 1) / 12 along each side.
  EXPECT_NEAR(c.eccentricity, std::sqrt(1.0 - 99.0 / 899.0), 1e-9);
  EXPECT_NEAR(c.perimeter, 80, 4);  // 2 (30 + 10)
  ASSERT_TRUE(c.has_colour);
  EXPECT_NEAR(c.mean_rgb[0], 20, 1e-9);
  EXPECT_NEAR(c.mean_rgb[1], 20, 1e-9);
  EXPECT_NEAR(c.mean_rgb[2], 20, 1e-9);

  const InstanceRecord r = to_record(c);
  EXPECT_EQ(r.values.front().first, "area_px");
  EXPECT_EQ(r.values.front().second, 300);
  EXPECT_EQ(r.values.back().first, "mean_b");
}

TEST(CellMeasurements, NonConvexShapeSeveralIdsAndMajorityClass) {
  cv::Mat labels = cv::Mat::zeros(40, 60, CV_32S);
  labels(cv::Rect(2, 2, 20, 20)).setTo(4);
  labels(cv::Rect(12, 12, 10, 10)).setTo(0);  // an L of 300 px
  labels(cv::Rect(40, 5, 6, 6)).setTo(2);
  const auto cells = measure_instances(labels);
  ASSERT_EQ(cells.size(), 2u);
  EXPECT_EQ(cells[0].id, 2);  // ascending ids
  EXPECT_EQ(cells[1].id, 4);
  EXPECT_EQ(cells[1].area, 300);
  // Hull of the L: the 400-px square less the triangle beyond the diagonal cut.
  EXPECT_GT(cells[1].solidity, 0.8);
  EXPECT_LT(cells[1].solidity, 0.92);
  EXPECT_LT(cells[1].circularity, cells[0].circularity);

  cv::Mat classes = cv::Mat::zeros(40, 60, CV_8U);
  classes(cv::Rect(2, 2, 20, 20)).setTo(2);
  classes(cv::Rect(2, 2, 5, 5)).setTo(1);  // 25 of the L's 300 px vote for class 1
  classes(cv::Rect(40, 5, 6, 6)).setTo(1);
  auto classified = cells;
  assign_majority_class(classified, labels, classes, 1);
  EXPECT_EQ(classified[0].class_index, 0);  // value 1
  EXPECT_EQ(classified[1].class_index, 1);  // value 2

  EXPECT_THROW(measure_instances(labels, cv::Mat(10, 10, CV_8UC3)), InputError);
  EXPECT_THROW(measure_instances(cv::Mat::zeros(4, 4, CV_32F)), InputError);
  EXPECT_TRUE(measure_instances(cv::Mat::zeros(4, 4, CV_8U)).empty());
}

}  // namespace
}  // namespace hemapath
