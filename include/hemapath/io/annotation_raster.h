#pragma once
/// Region annotations of a slide (QuPath's GeoJSON export, or any GeoJSON FeatureCollection
/// in level-0 px) turned into label masks of slide tiles: the training masks of whole-slide
/// segmentation.
///
/// Coordinates are level-0 px with y down, as QuPath writes them: pixel (x, y) covers
/// [x, x + 1) x [y, y + 1), so its centre is (x + 0.5, y + 0.5) (the convention of
/// hemapath's own GeoJSON writer, geojson.h).
#include <map>
#include <opencv2/core.hpp>
#include <string>
#include <vector>

namespace hemapath {

/// The areal geometry of one GeoJSON Feature and its class.
struct AnnotationShape {
  /// properties.classification.name (QuPath), else properties.class, else properties.name,
  /// else "unclassified".
  std::string class_name;
  /// Polygon -> rings -> points (level-0 px). Ring 0 is the exterior, the others are holes.
  /// Rings are stored open (a closing point equal to the first is dropped).
  std::vector<std::vector<std::vector<cv::Point2d>>> polygons;
};

/// The shapes of a GeoJSON file, one per Feature with an areal geometry, in file order.
///
/// Accepted: a FeatureCollection, or a JSON array of Features (QuPath's export without
/// "Export as FeatureCollection"). Geometries: Polygon, MultiPolygon, and GeometryCollection
/// (its Polygon / MultiPolygon members). Point, MultiPoint, LineString and MultiLineString
/// features, and features whose geometry is null (RFC 7946's unlocated feature), enclose no
/// area and are skipped; a GeometryCollection with no areal member is skipped too.
/// Positions may carry a third number (z), which is ignored; rings need not be closed.
///
/// Throws InputError naming `path` (and features[i] when one feature is at fault) when the
/// file is missing or unreadable, not JSON, not a FeatureCollection, a feature has no
/// geometry key, an unknown geometry type, a ring with fewer than 3 distinct points, a
/// position that is not [x, y] of finite numbers, or a class that is not a string.
std::vector<AnnotationShape> read_geojson_annotations(const std::string& path);

/// Label image (CV_8U, height x width) of the level-0 region starting at (x0, y0) (level-0
/// px), sampled every `downsample` level-0 px: output pixel (i, j) covers level-0
/// [x0 + i * downsample, x0 + (i + 1) * downsample) x [y0 + j * downsample, ...), and takes
/// the class of the shape containing its centre (x0 + (i + 0.5) * downsample, ...).
///
/// 0 where no shape covers the centre, else classes.at(class_name) (1..255). Shapes are painted
/// in order, so later features override earlier ones; a hole cuts its own polygon only, so
/// an earlier shape shows through it. The inside test is exact on the centres (a half-open
/// scanline rule: a centre exactly on a left or top edge is inside, on a right or bottom
/// edge outside), so shared edges of adjacent shapes and tiles neither overlap nor gap.
/// Shapes whose bounding box misses the region are skipped without rasterising.
///
/// InputError when a shape's class is not in `classes` (naming it and listing the known
/// ones, whether or not the shape touches the region), a class index is outside 1..255, a
/// coordinate is not finite, downsample <= 0, or width / height < 1.
cv::Mat rasterize_annotations(const std::vector<AnnotationShape>& shapes, const std::map<std::string, int>& classes,
                              double x0, double y0, double downsample, int width, int height);

}  // namespace hemapath
