#pragma once
/// A slide's thumbnail pieced together from the tiles a run reads anyway, so that a run which
/// reads every tile need not read the slide's whole level a second time for its overlay.
#include <opencv2/core.hpp>

#include "hemapath/data/tile_grid.h"

namespace hemapath {

class TileThumbnail {
 public:
  /// A white thumbnail of `size` px over `grid`'s slide, which is `slide_size` level-0 px.
  TileThumbnail(const TileGrid& grid, cv::Size slide_size, cv::Size size);

  /// Shrinks the keep rectangle of `tile` (whose pixels at the grid's resolution are `rgb`,
  /// `tile.rect`-sized) into its place. Tiles' keep rectangles do not overlap, so tiles may
  /// be painted from several threads at once.
  void paint(const Tile& tile, const cv::Mat& rgb);

  /// The thumbnail (CV_8UC3): complete once every tile of the grid is painted.
  const cv::Mat& image() const { return image_; }

 private:
  cv::Rect place(const cv::Rect& keep) const;

  double scale_x_, scale_y_;  // thumbnail px per grid px
  cv::Mat image_;
};

}  // namespace hemapath
