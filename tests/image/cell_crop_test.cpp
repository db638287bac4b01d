#include <gtest/gtest.h>

#include <opencv2/imgproc.hpp>

#include "hemapath/core/error.h"
#include "hemapath/image/cell_crop.h"
#include "hemapath/io/image_io.h"

namespace hemapath {
namespace {

// A filled disc drawn pixel by pixel so its extent is known exactly: x in [cx-r, cx+r].
void disc(cv::Mat& mask, int cx, int cy, int r, uchar value) {
  for (int y = 0; y < mask.rows; ++y)
    for (int x = 0; x < mask.cols; ++x)
      if ((x - cx) * (x - cx) + (y - cy) * (y - cy) <= r * r) mask.at<uchar>(y, x) = value;
}

TEST(CellBox, LargestRegionGrownByMarginAndClipped) {
  cv::Mat mask(150, 200, CV_8U, cv::Scalar(0));
  disc(mask, 120, 60, 20, 2);  // nucleus label: any value > 0 is foreground
  disc(mask, 120, 60, 10, 1);
  disc(mask, 30, 120, 5, 1);   // smaller region, ignored
  EXPECT_EQ(cell_box(mask, mask.size(), 0.0, "m.png"), cv::Rect(100, 40, 41, 41));
  // grow = round(0.25 * 41) = 10 on each side
  EXPECT_EQ(cell_box(mask, mask.size(), 0.25, "m.png"), cv::Rect(90, 30, 61, 61));
  // Cut by the image corner: visible pixels x in [0, 30], y in [0, 25] (31 x 26), so
  // grow = round(0.25 * 31) = 8, and the low sides are clipped at 0.
  cv::Mat edge(150, 200, CV_8U, cv::Scalar(0));
  disc(edge, 10, 5, 20, 1);
  EXPECT_EQ(cell_box(edge, edge.size(), 0.25, "m.png"), cv::Rect(0, 0, 30 + 8 + 1, 25 + 8 + 1));
}

TEST(CellBox, EmptyOrMismatchedMaskNamesTheSource) {
  cv::Mat empty(50, 60, CV_8U, cv::Scalar(0));
  try {
    cell_box(empty, empty.size(), 0.1, "cells/empty_mask.png");
    FAIL() << "expected InputError";
  } catch (const InputError& e) {
    EXPECT_NE(std::string(e.what()).find("cells/empty_mask.png"), std::string::npos) << e.what();
  }
  cv::Mat m(50, 60, CV_8U, cv::Scalar(1));
  EXPECT_THROW(cell_box(m, cv::Size(61, 50), 0.1, "x.png"), InputError);
  cv::Mat image(50, 61, CV_8UC3, cv::Scalar(1, 2, 3));
  EXPECT_THROW(crop_cell(image, m, CropOptions{}, "x.png"), InputError);
}

// A 60x30 cell (grey ring 2 px wide around red) in a larger image.
struct WideCell {
  cv::Mat image{120, 160, CV_8UC3, cv::Scalar(180, 170, 160)};
  cv::Mat mask{120, 160, CV_8U, cv::Scalar(0)};
  WideCell() {
    mask(cv::Rect(40, 50, 60, 30)).setTo(1);
    image(cv::Rect(42, 52, 56, 26)).setTo(cv::Scalar(255, 0, 0));
  }
};

cv::Rect red_box(const cv::Mat& rgb) {
  cv::Mat red;
  cv::inRange(rgb, cv::Scalar(200, 0, 0), cv::Scalar(255, 60, 60), red);
  return cv::boundingRect(red);
}

TEST(CropCell, PadKeepsAspectRatioAndPadsWithBackground) {
  WideCell cell;
  CropOptions o;
  o.margin = 0;
  o.size = 96;
  cv::Mat out = crop_cell(cell.image, cell.mask, o, "m.png");
  ASSERT_EQ(out.size(), cv::Size(96, 96));
  ASSERT_EQ(out.type(), CV_8UC3);
  // 60x30 scaled by 96/60 -> 96x48, centred: 24 rows of padding above and below.
  for (int y : {0, 23, 72, 95})
    for (int x : {0, 48, 95}) EXPECT_EQ(out.at<cv::Vec3b>(y, x), cv::Vec3b(180, 170, 160)) << y << "," << x;
  const cv::Rect r = red_box(out);
  const double aspect = double(r.width) / r.height;  // 56/26 in the source
  EXPECT_NEAR(aspect, 56.0 / 26.0, 0.15);
  EXPECT_NEAR(r.y + r.height / 2.0, 48, 1.5);
}

TEST(CropCell, ResizeStretchesToSquare) {
  WideCell cell;
  CropOptions o;
  o.margin = 0;
  o.size = 64;
  o.mode = "resize";
  cv::Mat out = crop_cell(cell.image, cell.mask, o, "m.png");
  ASSERT_EQ(out.size(), cv::Size(64, 64));
  const cv::Rect r = red_box(out);
  // 56x26 of 60x30 stretched to 64x64: about 60x55.
  EXPECT_NEAR(r.width, 56.0 * 64 / 60, 2);
  EXPECT_NEAR(r.height, 26.0 * 64 / 30, 2);
}

TEST(CropCell, FitToSizePadsWholeImage) {
  cv::Mat image(40, 80, CV_8UC3, cv::Scalar(10, 20, 30));
  CropOptions o;
  o.size = 32;
  cv::Mat out = fit_to_size(image, o);
  ASSERT_EQ(out.size(), cv::Size(32, 32));
  EXPECT_EQ(out.at<cv::Vec3b>(0, 0), cv::Vec3b(10, 20, 30));
  EXPECT_EQ(out.at<cv::Vec3b>(16, 16), cv::Vec3b(10, 20, 30));
}

TEST(CropCell, RealWhiteCellMask) {
  const std::string root = std::string(HEMAPATH_SHARED_DATA) + "/wbc-bccd/";
  const cv::Mat image = read_image_rgb(root + "images/BloodImage_00000.jpg");
  const cv::Mat mask = read_mask(root + "masks/BloodImage_00000.png");
  // Independent reference: the bounding rectangle of the largest external contour.
  std::vector<std::vector<cv::Point>> contours;
  cv::findContours(mask > 0, contours, cv::RETR_EXTERNAL, cv::CHAIN_APPROX_NONE);
  ASSERT_FALSE(contours.empty());
  size_t best = 0;
  for (size_t i = 1; i < contours.size(); ++i)
    if (cv::contourArea(contours[i]) > cv::contourArea(contours[best])) best = i;
  const cv::Rect expected = cv::boundingRect(contours[best]);
  EXPECT_EQ(cell_box(mask, image.size(), 0.0, "m"), expected);
  const int grow = int(std::lround(0.15 * std::max(expected.width, expected.height)));
  const cv::Rect grown = cv::Rect(expected.x - grow, expected.y - grow, expected.width + 2 * grow,
                                  expected.height + 2 * grow) &
                         cv::Rect(0, 0, image.cols, image.rows);
  EXPECT_EQ(cell_box(mask, image.size(), 0.15, "m"), grown);
  const cv::Mat crop = crop_cell(image, mask, CropOptions{}, "m");
  EXPECT_EQ(crop.size(), cv::Size(96, 96));
  EXPECT_EQ(crop.type(), CV_8UC3);
}

TEST(CropOptions, ConfigAndJson) {
  auto node = ConfigNode::parse("margin: 0.2\nsize: 64\nmode: resize\n", "c.yaml");
  const CropOptions o = CropOptions::from_config(node);
  EXPECT_DOUBLE_EQ(o.margin, 0.2);
  EXPECT_EQ(o.size, 64);
  EXPECT_EQ(o.mode, "resize");
  const CropOptions back = CropOptions::from_json(o.to_json());
  EXPECT_EQ(back.size, 64);
  EXPECT_EQ(back.mode, "resize");
  EXPECT_EQ(o.centred_side(), 64);  // no window: cut at the input side
  const CropOptions windowed =
      CropOptions::from_json(CropOptions::from_config(ConfigNode::parse("size: 96\nwindow: 64\n", "c.yaml")).to_json());
  EXPECT_EQ(windowed.centred_side(), 64);
  EXPECT_EQ(windowed.size, 96);
  // A header written before windows existed reads as no window.
  EXPECT_EQ(CropOptions::from_json({{"margin", 0}, {"size", 64}, {"mode", "resize"}}).centred_side(), 64);
  EXPECT_THROW(CropOptions::from_config(ConfigNode::parse("window: 4\n", "c.yaml")), ConfigError);
  EXPECT_THROW(CropOptions::from_config(ConfigNode::parse("mode: crop\n", "c.yaml")), ConfigError);
  EXPECT_THROW(CropOptions::from_config(ConfigNode::parse("size: 2\n", "c.yaml")), ConfigError);
  EXPECT_THROW(CropOptions::from_config(ConfigNode::parse("margin: -0.1\n", "c.yaml")), ConfigError);
}

TEST(CropCentred, CutsAroundThePointAndRepeatsEdgesBeyondTheImage) {
  cv::Mat image(40, 60, CV_8UC3);
  for (int y = 0; y < image.rows; ++y)
    for (int x = 0; x < image.cols; ++x) image.at<cv::Vec3b>(y, x) = cv::Vec3b(x, y, 7);
  const cv::Mat inside = crop_centred(image, {30.4, 20.0}, 10);
  ASSERT_EQ(inside.size(), cv::Size(10, 10));
  EXPECT_EQ(inside.at<cv::Vec3b>(0, 0), cv::Vec3b(25, 15, 7));  // rounded centre (30, 20) at (5, 5)
  EXPECT_EQ(inside.at<cv::Vec3b>(5, 5), cv::Vec3b(30, 20, 7));
  const cv::Mat corner = crop_centred(image, {1, 1}, 8);
  ASSERT_EQ(corner.size(), cv::Size(8, 8));
  EXPECT_EQ(corner.at<cv::Vec3b>(0, 0), cv::Vec3b(0, 0, 7));  // replicated edge
  EXPECT_EQ(corner.at<cv::Vec3b>(7, 7), cv::Vec3b(4, 4, 7));
  EXPECT_THROW(crop_centred(image, {200, 200}, 8), InputError);
  EXPECT_THROW(crop_centred(image, {10, 10}, 0), InputError);
}

}  // namespace
}  // namespace hemapath
