#include "hemapath/data/tile_grid.h"

#include <algorithm>
#include <cmath>

#include "hemapath/core/error.h"
#include "hemapath/image/tissue_mask.h"

namespace hemapath {

TileGrid::TileGrid(int64_t width, int64_t height, double slide_mpp, const TileGridOptions& options,
                   const std::optional<TissueMap>& tissue)
    : options_(options), slide_mpp_(slide_mpp) {
  HP_CHECK(width > 0 && height > 0, InputError, "tile grid: the slide has no pixels (", width, "x", height, ")");
  HP_CHECK(slide_mpp > 0, InputError, "tile grid: the slide's resolution must be > 0 um/px, got ", slide_mpp);
  HP_CHECK(options.mpp > 0, ConfigError, "--mpp must be > 0 um/px, got ", options.mpp);
  HP_CHECK(options.tile_size > 0, ConfigError, "--size must be > 0 px, got ", options.tile_size);
  HP_CHECK(options.overlap >= 0 && options.overlap < options.tile_size && options.overlap % 2 == 0, ConfigError,
           "--overlap must be even and in [0, size) px, got ", options.overlap, " with size ", options.tile_size);
  HP_CHECK(options.min_tissue >= 0 && options.min_tissue <= 1, ConfigError, "--min-tissue must be in [0, 1], got ",
           options.min_tissue);
  downsample_ = options.mpp / slide_mpp;
  width_ = std::max(1, static_cast<int>(std::lround(width / downsample_)));
  height_ = std::max(1, static_cast<int>(std::lround(height / downsample_)));
  const int stride = options.tile_size - options.overlap;
  auto count = [&](int extent) {
    if (extent <= options.tile_size) return 1;
    return (extent - options.overlap + stride - 1) / stride;
  };
  cols_ = count(width_);
  rows_ = count(height_);
  for (int r = 0; r < rows_; ++r) {
    for (int c = 0; c < cols_; ++c) {
      Tile t = tile(c, r);
      if (tissue && options.min_tissue > 0) {
        const double scale = downsample_ / tissue->downsample;  // mask px per grid px
        // Over the part the tile owns: an edge tile that is mostly beyond the slide still owns
        // the slide's last pixels, which may well be tissue.
        t.tissue = tissue_fraction(tissue->mask, cv::Rect2d(t.keep.x * scale, t.keep.y * scale,
                                                            t.keep.width * scale, t.keep.height * scale));
        if (t.tissue < options.min_tissue) continue;
      }
      tiles_.push_back(t);
    }
  }
}

int TileGrid::span_begin(int i) const { return i * (options_.tile_size - options_.overlap); }

int TileGrid::keep_begin(int i) const { return i == 0 ? 0 : span_begin(i) + options_.overlap / 2; }

int TileGrid::keep_end(int i, int count, int extent) const {
  return i == count - 1 ? extent : keep_begin(i + 1);
}

Tile TileGrid::tile(int col, int row) const {
  HP_CHECK(col >= 0 && col < cols_ && row >= 0 && row < rows_, InputError, "tile (", col, ", ", row,
           ") is outside the ", cols_, "x", rows_, " grid");
  Tile t;
  t.col = col;
  t.row = row;
  t.index = static_cast<int64_t>(row) * cols_ + col;
  t.rect = cv::Rect(span_begin(col), span_begin(row), options_.tile_size, options_.tile_size);
  const int kx = keep_begin(col), ky = keep_begin(row);
  t.keep = cv::Rect(kx, ky, keep_end(col, cols_, width_) - kx, keep_end(row, rows_, height_) - ky);
  t.x0 = t.rect.x * downsample_;
  t.y0 = t.rect.y * downsample_;
  return t;
}

cv::Point2d TileGrid::context_origin(const Tile& tile, int size, double mpp) const {
  HP_CHECK(size > 0 && mpp > 0, ConfigError, "context patch: size and mpp must be > 0, got ", size, " px at ", mpp,
           " um/px");
  const double cx = tile.x0 + options_.tile_size * downsample_ / 2;
  const double cy = tile.y0 + options_.tile_size * downsample_ / 2;
  const double half = size * (mpp / slide_mpp_) / 2;  // level-0 px
  return {cx - half, cy - half};
}

}  // namespace hemapath
