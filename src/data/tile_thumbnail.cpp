#include "hemapath/data/tile_thumbnail.h"

#include <algorithm>
#include <cmath>

#include <opencv2/imgproc.hpp>

#include "hemapath/core/error.h"

namespace hemapath {

TileThumbnail::TileThumbnail(const TileGrid& grid, cv::Size slide_size, cv::Size size)
    : scale_x_(grid.downsample() * size.width / slide_size.width),
      scale_y_(grid.downsample() * size.height / slide_size.height),
      image_(size, CV_8UC3, cv::Scalar::all(255)) {}

// Neighbouring keep rectangles share their edges, and so do their rounded places: the places
// tile the thumbnail without gaps or overlaps.
cv::Rect TileThumbnail::place(const cv::Rect& keep) const {
  auto scaled = [](int v, double scale, int limit) {
    return std::clamp(static_cast<int>(std::lround(v * scale)), 0, limit);
  };
  const int x0 = scaled(keep.x, scale_x_, image_.cols), x1 = scaled(keep.x + keep.width, scale_x_, image_.cols);
  const int y0 = scaled(keep.y, scale_y_, image_.rows), y1 = scaled(keep.y + keep.height, scale_y_, image_.rows);
  return {x0, y0, x1 - x0, y1 - y0};
}

void TileThumbnail::paint(const Tile& tile, const cv::Mat& rgb) {
  HP_CHECK(rgb.type() == CV_8UC3 && rgb.size() == tile.rect.size(), InputError, "tile ", tile.index, ": expected ",
           tile.rect.width, "x", tile.rect.height, " RGB pixels to paint into the thumbnail");
  const cv::Rect target = place(tile.keep);
  if (target.area() == 0) return;  // a keep rectangle thinner than a thumbnail pixel
  cv::Mat into = image_(target);
  cv::resize(rgb(cv::Rect(tile.keep.tl() - tile.rect.tl(), tile.keep.size())), into, target.size(), 0, 0,
             cv::INTER_AREA);
}

}  // namespace hemapath
