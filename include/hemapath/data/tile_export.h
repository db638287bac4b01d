#pragma once
/// Slide tiles as training data: the TileGrid's tiles (with enough tissue) written as image
/// files, optionally with aligned mask tiles from an annotation and context patches at a
/// coarser mpp around the same centres (multi-resolution pairs), and a CSV of where each came
/// from. The output folder appears whole or not at all.
///
/// Layout: tiles/<row>_<col>.<ext>, masks/<row>_<col>.png (8-bit class indices, 0 =
/// background), context/<row>_<col>.<ext>, tiles.csv (index, col, row, x, y, width, height in
/// level-0 px, mpp, tissue fraction, file names), thumbnail.png and tissue.png.
#include <optional>
#include <string>
#include <vector>

#include "hemapath/data/tile_grid.h"
#include "hemapath/image/tissue_mask.h"
#include "hemapath/io/slide_reader.h"

namespace hemapath {

struct TileExportOptions {
  TileGridOptions grid;          ///< mpp, tile size, overlap, min_tissue
  TissueOptions tissue;
  int thumbnail_size = 2048;     ///< longer side of thumbnail.png / tissue.png, px
  std::string format = "png";    ///< "png" or "jpg" for image tiles
  /// A label image aligned to the whole slide (8-bit class indices, any size: it is stretched
  /// over the slide) or a GeoJSON FeatureCollection of polygons in level-0 px; empty = none.
  std::string annotation;
  /// Class names for GeoJSON annotations, index 1 upwards; empty = the shapes' classes sorted.
  std::vector<std::string> classes;
  std::optional<double> context_mpp;  ///< context patches at this mpp (coarser than grid.mpp)
  int context_size = 0;               ///< context patch side, px (default: the tile size)
};

struct TileExportSummary {
  int tiles = 0, grid_tiles = 0;
  std::vector<std::string> classes;  ///< mask class names, index 1 upwards (when masks are written)
};

/// Writes the tiles of `slide` into `out_dir` (which must not exist yet). InputError/ConfigError
/// for bad options or annotations, before anything is written.
TileExportSummary export_tiles(const SlideReader& slide, const TileExportOptions& options, const std::string& out_dir);

}  // namespace hemapath
