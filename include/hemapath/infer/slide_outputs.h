#pragma once
/// The pieces slide segmentation writes besides the pyramid: maps sampled from the on-disk
/// class raster, class-region polygons, the thumbnail overlay, and each tile's cells as
/// GeoJSON features and CSV rows in slide coordinates.
#include <cstdint>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>
#include <opencv2/core.hpp>

#include "hemapath/io/instance_outputs.h"
#include "hemapath/io/raster_file.h"
#include "hemapath/io/slide_annotation.h"

namespace hemapath {

/// Small maps and class counts of a class raster, from one streaming pass over it.
struct RasterDigest {
  cv::Mat thumbnail;             ///< CV_8U classes at the thumbnail size (nearest sample)
  cv::Mat region_map;            ///< CV_8U classes at the region-map size (nearest sample)
  std::vector<int64_t> counts;   ///< px of each class value 0..num_classes-1 in the raster
};

/// Reads `raster` (1 band) in strips of bounded size and samples it at both sizes (each
/// covering the whole raster). InputError for a value >= num_classes.
RasterDigest digest_class_raster(const RasterFile& raster, cv::Size thumbnail, cv::Size region_map, int num_classes);

/// The class raster scored against a whole-slide annotation, read strip by strip: per-class
/// IoU, foreground IoU (any class > 0) and pixel accuracy over the raster. Annotation classes
/// are matched to `classes` (background first) by name; an unnamed label image's "classK"
/// is class K. `level0_per_px`: level-0 px per raster px. InputError for a class the model
/// does not have.
nlohmann::json score_class_raster(const RasterFile& raster, const SlideAnnotation& truth, double level0_per_px,
                                  const std::vector<std::string>& classes);

/// Writes `path` (atomically): a GeoJSON FeatureCollection with one Feature (objectType
/// "annotation", a Polygon with its holes) per connected region of each class > 0 of
/// `region_map` (CV_8U class indices) of at least `min_area_px` map px, coordinates in level-0
/// px (`level0_per_px` level-0 px per map px), named and coloured by `legend` (class c is
/// legend index c - 1). Rings are closed; exteriors have positive shoelace sums, holes negative.
/// Features are streamed to the file one by one, so a fragmented map does not build one huge
/// document in memory. Returns the number of features.
int64_t write_class_regions(const std::string& path, const cv::Mat& region_map, const ClassLegend& legend,
                            double level0_per_px, double min_area_px = 4);

/// `rgb` (CV_8UC3) with each class > 0 of `classes` (CV_8U, same size) blended in its legend
/// colour (class c = legend index c - 1), and the legend.
cv::Mat class_overlay(const cv::Mat& rgb, const cv::Mat& classes, const ClassLegend& legend);

/// Where a tile lies on the slide and how its pixels scale.
struct TilePlacement {
  cv::Rect keep;              ///< the tile's keep rectangle, tile px
  double x0 = 0, y0 = 0;      ///< tile's top-left, level-0 px
  double downsample = 1;      ///< level-0 px per tile px
  double mpp = 1;             ///< um per tile px
};

/// The cells of one tile as GeoJSON features and CSV rows, in slide coordinates.
struct TileCells {
  std::vector<std::string> features;  ///< one compact JSON Feature each
  std::vector<std::string> csv_rows;  ///< one row each, columns of cell_csv_header()
};

/// The header of the slide cells CSV.
std::string cell_csv_header();

/// The cells of `labels` (tile instance map) whose centroid lies in the keep rectangle, so a
/// cell cut by tile borders is reported once, by the tile that owns its centre. Ids count up
/// from `first_id`; `class_index` per cell (legend index, -1 unclassified) comes from the
/// majority of `class_map` minus 1 when `classify` is set, else every cell is legend index 0.
/// `rgb` (CV_8UC3, tile size) gives mean colours.
TileCells tile_cells(const cv::Mat& labels, const cv::Mat& rgb, const cv::Mat& class_map, bool classify,
                     const TilePlacement& placement, const ClassLegend& legend, int64_t first_id);

}  // namespace hemapath
