#pragma once
/// Cell instances as a GeoJSON FeatureCollection that QuPath imports (File > Import objects,
/// or drag the file onto an open image): one Feature per instance.
///
/// Geometry: a Polygon from the instance's outer contour (a MultiPolygon when it has
/// disconnected parts; holes are not written). Coordinates are image pixels with y down, as
/// QuPath uses: the contour runs through the centres of the boundary pixels, so pixel (x, y)
/// contributes the point (x + 0.5, y + 0.5). An instance too thin for a ring with area (one
/// pixel, a one-pixel line) is written as the rectangle around its pixels.
///
/// Winding: every ring is closed (first point == last) and its shoelace sum
/// sum(x_i * y_{i+1} - x_{i+1} * y_i) over the coordinates as written is positive, i.e. the
/// exterior is counter-clockwise when the numbers are read with y pointing up (RFC 7946's
/// rule). Drawn on the image (y down) such a ring runs clockwise. QuPath accepts either.
///
/// Properties: "objectType" ("detection" by default, or "annotation"), "classification":
/// {"name", "color": [r, g, b]} (QuPath's form), "measurements": {name: number} (what
/// QuPath reads as measurements), and the same numbers again as top-level properties plus
/// "id" (the instance id) for other GIS tools.
#include <nlohmann/json.hpp>
#include <opencv2/core.hpp>
#include <string>
#include <vector>

#include "hemapath/io/instance_outputs.h"

namespace hemapath {

struct GeoJsonOptions {
  /// "detection" (cells; light in QuPath) or "annotation" (editable objects).
  std::string object_type = "detection";
};

/// The FeatureCollection of `records` (one Feature each, in order) over the instance map.
/// Throws InputError when a record's id is not in `labels`, a class is outside the legend,
/// or object_type is neither "detection" nor "annotation".
nlohmann::json instances_geojson(const cv::Mat& labels, const std::vector<InstanceRecord>& records,
                                 const ClassLegend& legend, const GeoJsonOptions& options = {});

/// Writes instances_geojson(...) to `path` atomically.
void write_instances_geojson(const std::string& path, const cv::Mat& labels, const std::vector<InstanceRecord>& records,
                             const ClassLegend& legend, const GeoJsonOptions& options = {});

/// Twice the signed area of a ring by the shoelace formula on its coordinates as written
/// ([[x, y], ...]); positive = counter-clockwise with y up.
double ring_shoelace(const nlohmann::json& ring);

/// The files describing one image's cells, in `dir`: instances.png (16-bit), overlay.png (when
/// `rgb` is given), cells.csv and cells.geojson. Everything is checked before the first write.
void write_cell_files(const std::string& dir, const cv::Mat& rgb, const cv::Mat& labels,
                      const std::vector<InstanceRecord>& records, const ClassLegend& legend,
                      const GeoJsonOptions& options = {});

}  // namespace hemapath
