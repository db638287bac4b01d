// TileThumbnail: painting every tile of a grid gives the slide's thumbnail (as shrinking the
// whole slide would) with no pixel left out, whatever the order the tiles come in.
#include "hemapath/data/tile_thumbnail.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <vector>

#include <opencv2/imgproc.hpp>

#include "hemapath/core/error.h"

namespace hemapath {
namespace {

// A level-0 "slide" with smooth gradients and sharp-edged blocks, nowhere white.
cv::Mat synthetic_slide(cv::Size size) {
  cv::Mat slide(size, CV_8UC3);
  for (int y = 0; y < size.height; ++y)
    for (int x = 0; x < size.width; ++x)
      slide.at<cv::Vec3b>(y, x) =
          cv::Vec3b(static_cast<uchar>(30 + 180 * x / size.width), static_cast<uchar>(30 + 180 * y / size.height), 90);
  cv::rectangle(slide, cv::Rect(100, 80, 300, 200), cv::Scalar(200, 20, 120), cv::FILLED);
  cv::circle(slide, cv::Point(700, 500), 120, cv::Scalar(20, 120, 200), cv::FILLED);
  return slide;
}

// `tile`'s pixels at the grid's resolution, white past the slide's edge, as a reader gives them.
cv::Mat read_tile(const cv::Mat& grid_image, const Tile& tile) {
  cv::Mat rgb(tile.rect.size(), CV_8UC3, cv::Scalar::all(255));
  const cv::Rect inside = tile.rect & cv::Rect(0, 0, grid_image.cols, grid_image.rows);
  grid_image(inside).copyTo(rgb(cv::Rect(inside.tl() - tile.rect.tl(), inside.size())));
  return rgb;
}

TEST(TileThumbnail, EveryTilePaintedGivesTheSlidesThumbnailInAnyOrder) {
  const cv::Size slide_size(1000, 700), thumb_size(200, 140);
  const cv::Mat slide = synthetic_slide(slide_size);
  TileGridOptions o;
  o.mpp = 1.0;  // 2 level-0 px per grid px
  o.tile_size = 128;
  o.overlap = 16;
  const TileGrid grid(slide_size.width, slide_size.height, 0.5, o);
  cv::Mat grid_image;
  cv::resize(slide, grid_image, cv::Size(grid.width(), grid.height()), 0, 0, cv::INTER_AREA);

  TileThumbnail forward(grid, slide_size, thumb_size), backward(grid, slide_size, thumb_size);
  std::vector<Tile> tiles = grid.tiles();
  for (const Tile& t : tiles) forward.paint(t, read_tile(grid_image, t));
  std::reverse(tiles.begin(), tiles.end());
  for (const Tile& t : tiles) backward.paint(t, read_tile(grid_image, t));

  const cv::Mat& thumb = forward.image();
  ASSERT_EQ(thumb.size(), thumb_size);
  EXPECT_EQ(cv::norm(thumb, backward.image(), cv::NORM_INF), 0) << "tiles' places overlap";
  cv::Mat brightest;
  cv::transform(thumb, brightest, cv::Matx13f(1, 0, 0));  // the slide's first channel never exceeds 210
  EXPECT_EQ(cv::countNonZero(brightest > 210), 0) << "a thumbnail pixel was left white";
  cv::Mat expected;
  cv::resize(slide, expected, thumb_size, 0, 0, cv::INTER_AREA);
  EXPECT_LT(cv::norm(thumb, expected, cv::NORM_L1) / thumb.total() / 3, 1.0) << "mean difference per channel";
  // Shrinking in two steps (slide to grid, grid to thumbnail) blurs sharp edges a little
  // differently: larger differences stay on those few pixels.
  cv::Mat differs;
  cv::absdiff(thumb, expected, differs);
  cv::transform(differs, differs, cv::Matx13f(1, 1, 1));
  EXPECT_LT(cv::countNonZero(differs > 10), static_cast<int>(thumb.total() / 50));
}

TEST(TileThumbnail, RefusesPixelsOfTheWrongSize) {
  TileGridOptions o;
  o.tile_size = 64;
  const TileGrid grid(256, 256, 0.5, o);
  TileThumbnail thumbnail(grid, cv::Size(256, 256), cv::Size(64, 64));
  EXPECT_THROW(thumbnail.paint(grid.tiles().front(), cv::Mat(32, 64, CV_8UC3)), InputError);
  EXPECT_THROW(thumbnail.paint(grid.tiles().front(), cv::Mat(64, 64, CV_8UC1)), InputError);
}

}  // namespace
}  // namespace hemapath
