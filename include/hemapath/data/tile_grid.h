#pragma once
/// The tiles a slide is cut into at a working resolution. "Grid px" are pixels at the grid's
/// mpp (the working resolution); "level-0 px" are the slide's own. Tiles are `tile_size` px
/// squares `tile_size - overlap` px apart, the first at (0, 0); the last row and column may
/// reach past the slide (those pixels read as white). For stitching, each tile also owns a
/// "keep" rectangle: the tiles' keep rectangles partition the grid exactly, each lying at
/// least overlap/2 px inside its tile except along the slide's own edges, so a network whose
/// border effects reach less than overlap/2 px stitches without seams.
#include <cstdint>
#include <optional>
#include <vector>

#include <opencv2/core.hpp>

namespace hemapath {

struct TileGridOptions {
  double mpp = 0.5;      ///< working resolution, um per grid px (> 0)
  int tile_size = 512;   ///< tile side, grid px (> 0)
  int overlap = 0;       ///< px shared by neighbouring tiles (even, 0 <= overlap < tile_size)
  /// Keep only tiles whose keep rectangle (the part of the slide they own) has at least this
  /// tissue fraction (0..1) when a tissue mask is given; 0 keeps every tile.
  double min_tissue = 0;
};

/// One tile.
struct Tile {
  int64_t index = 0;       ///< row * cols + col over the full grid (stable across filters)
  int col = 0, row = 0;
  cv::Rect rect;           ///< the tile, grid px (may extend past the grid's size)
  cv::Rect keep;           ///< the part whose result is kept when stitching, grid px
  double x0 = 0, y0 = 0;   ///< the tile's top-left, level-0 px
  double tissue = 1;       ///< tissue fraction under the keep rectangle (1 without a mask)
};

/// A tissue mask (CV_8U, non-zero = tissue) of the whole slide at `downsample` level-0 px per
/// mask px (e.g. a thumbnail's).
struct TissueMap {
  cv::Mat mask;
  double downsample = 1;
};

class TileGrid {
 public:
  /// A grid over a slide of `width` x `height` level-0 px at `slide_mpp` um/px. ConfigError
  /// naming the option for a bad size, overlap, mpp or threshold.
  TileGrid(int64_t width, int64_t height, double slide_mpp, const TileGridOptions& options,
           const std::optional<TissueMap>& tissue = std::nullopt);

  const TileGridOptions& options() const { return options_; }
  int width() const { return width_; }     ///< the slide's size in grid px (rounded)
  int height() const { return height_; }   ///< the slide's size in grid px (rounded)
  int cols() const { return cols_; }
  int rows() const { return rows_; }
  /// Level-0 px per grid px.
  double downsample() const { return downsample_; }
  /// Tiles kept by the tissue filter, in raster order.
  const std::vector<Tile>& tiles() const { return tiles_; }
  /// Every tile of the grid (kept or not), in raster order.
  Tile tile(int col, int row) const;

  /// A square of `size` px at `mpp` um/px centred on `tile`'s centre: its top-left in level-0
  /// px (the context patch of a multi-resolution pair).
  cv::Point2d context_origin(const Tile& tile, int size, double mpp) const;

 private:
  int span_begin(int i) const;
  int keep_begin(int i) const;
  int keep_end(int i, int count, int extent) const;

  TileGridOptions options_;
  double slide_mpp_, downsample_;
  int width_, height_, cols_, rows_;
  std::vector<Tile> tiles_;
};

}  // namespace hemapath
