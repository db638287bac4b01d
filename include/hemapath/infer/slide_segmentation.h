#pragma once
/// Segmentation of a whole slide, tile by tile: tissue found on a thumbnail, tiles of the
/// TileGrid at the working mpp read and normalised on worker threads ahead of the network,
/// batched through it, and each tile's keep rectangle stitched into an on-disk raster, so
/// memory does not grow with the slide's area. The outputs (in the output folder):
///   classes.tif      pyramidal tiled TIFF of class indices (0 = background) at the working
///                    mpp, which it carries (QuPath, OpenSlide and viewers open it)
///   overlay.png      the slide's thumbnail with the classes blended in, and a legend
///   tissue.png       the tissue mask of the thumbnail (white = tissue)
///   regions.geojson  one polygon (with holes) per connected region of each class, traced on
///                    a map of at most `region_map_size` px, in level-0 px (QuPath annotations)
///   cells.geojson, cells.csv   for cell models: every cell, in level-0 px (QuPath detections)
///   summary.json     sizes, timings (tiles/s), peak memory, area per class (um^2), cells,
///                    and with a truth annotation per-class and foreground IoU
/// Interrupted runs leave `partial/` behind; `resume` then skips the tiles it finished.
#include <cstdint>
#include <map>
#include <optional>
#include <string>

#include <nlohmann/json.hpp>

#include "hemapath/image/stain_normalization.h"
#include "hemapath/image/tissue_mask.h"
#include "hemapath/infer/instances.h"
#include "hemapath/infer/tile_model.h"
#include "hemapath/io/slide_reader.h"

namespace hemapath {

struct SlideSegmentOptions {
  /// Working resolution, um/px; default the model's own, else the slide's level 0.
  std::optional<double> mpp;
  /// Tile side, px at the working mpp; default the model's, else 512. A multiple of the
  /// model's stride.
  std::optional<int> tile_size;
  /// Px shared by neighbouring tiles; each tile's outer overlap/2 px are discarded, so it
  /// should exceed twice the network's border effects (and a cell's diameter, for cells). Even,
  /// a multiple of the model's stride.
  int overlap = 64;
  /// Tiles per forward pass; 0 chooses it for throughput (up to 2^18 px per batch: one
  /// 512 px tile, four of 256 px).
  int batch_size = 0;
  int workers = 2;         ///< threads reading and normalising tiles ahead of the network
  double min_tissue = 0.05;  ///< tiles with less tissue (fraction) are not run; 0 runs all
  TissueOptions tissue;
  int thumbnail_size = 2048;   ///< longer side of thumbnail, overlay and tissue mask, px
  int region_map_size = 4096;  ///< longer side of the map region polygons are traced on, px
  /// Applied to every tile before the network; default the model's own (its data.stain).
  std::optional<StainNormalizer> stain;
  /// Cut cells out of each tile (default: for models whose target is foreground or boundary).
  std::optional<bool> cells;
  std::optional<InstanceOptions> instances;  ///< default: the model's own settings
  bool resume = false;
  /// A whole-slide annotation to score the result against (label image or GeoJSON, see
  /// slide_annotation.h); its class names, index 1 upwards (default: its own).
  std::string truth;
  std::vector<std::string> truth_classes;
  int tiff_threads = 0;  ///< libvips threads for the pyramid; 0 = its default
};

/// What a run did (also written as summary.json).
struct SlideSegmentSummary {
  nlohmann::json json;
};

/// Segments `slide` with `model` into `out_dir` (created). InputError/ConfigError for bad
/// options or inputs (before anything is written), OutputError when writing fails; `resume`
/// without a matching partial run is an InputError saying so.
SlideSegmentSummary segment_slide(const SlideReader& slide, TileModel& model, const SlideSegmentOptions& options,
                                  const std::string& out_dir);

/// Peak resident memory of this process so far, MiB (getrusage).
double peak_rss_mib();

}  // namespace hemapath
