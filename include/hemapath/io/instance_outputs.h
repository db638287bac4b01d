#pragma once
/// Files describing cell instances: index and 16-bit instance masks, an overlay of the
/// outlines on the image, and a per-instance CSV. The GeoJSON form is in geojson.h. Every
/// writer checks its input before touching the disk and writes atomically.
///
/// Instance maps are single-channel CV_8U, CV_16U or CV_32S, 0 = background, any positive
/// ids. Coordinates are image pixels: x to the right, y down, (0, 0) the top-left pixel.
#include <array>
#include <cstdint>
#include <map>
#include <opencv2/core.hpp>
#include <string>
#include <utility>
#include <vector>

namespace hemapath {

/// One instance as the writers see it: its id in the instance map, its class and its
/// measurements in column order (names like "area_px"). io stays below infer, so the
/// measurement code fills this in (see infer/cell_measurements.h).
struct InstanceRecord {
  int id = 0;
  /// Index into ClassLegend::names; -1 = unclassified.
  int class_index = -1;
  std::vector<std::pair<std::string, double>> values;
};

/// Names and colours of the classes InstanceRecord::class_index refers to.
struct ClassLegend {
  /// class_index i is named names[i]; empty = no classes (every record unclassified).
  std::vector<std::string> names;
  /// Name given to records with class_index -1.
  std::string unclassified = "cell";
  /// RGB colour of a class: plot_colour(class_index); unclassified is yellow (255, 200, 0).
  std::array<uint8_t, 3> colour(int class_index) const;
  /// Name of a class; InputError for an index outside -1..names.size()-1.
  const std::string& name(int class_index) const;
};

/// The instance map as CV_32S. Throws InputError (naming `what`) for another type, more
/// than one channel or a negative id.
cv::Mat instance_map_32s(const cv::Mat& labels, const std::string& what = "instance map");

/// Bounding box (px) of every non-zero id of an instance map.
std::map<int, cv::Rect> instance_boxes(const cv::Mat& labels);

/// Outer contours (cv::findContours RETR_EXTERNAL, every boundary pixel, image coordinates
/// of pixel centres) of every non-zero id; several when an instance has disconnected parts,
/// largest first.
std::map<int, std::vector<std::vector<cv::Point>>> instance_outlines(const cv::Mat& labels);

/// Writes an index (class) mask as an 8-bit PNG. Throws InputError when a value is outside
/// 0..255 or the map is not single-channel integer; OutputError when writing fails.
void write_index_mask(const std::string& path, const cv::Mat& index_map);

/// Writes an instance map as a 16-bit PNG (ids unchanged). Throws InputError when an id is
/// above 65535 (a 16-bit PNG cannot hold it) or negative; OutputError when writing fails.
void write_instance_mask(const std::string& path, const cv::Mat& labels);

/// The image (CV_8UC3 RGB, same size as `labels`) with each instance's outline drawn in its
/// class colour (1 px, 2 px from 1000 px up) and, when the legend has class names, a legend
/// box (top-left) with one colour swatch per class. InputError when the sizes differ, the
/// image is not 8-bit RGB, or a record's class is outside the legend.
cv::Mat render_instance_overlay(const cv::Mat& rgb, const cv::Mat& labels, const std::vector<InstanceRecord>& records,
                                const ClassLegend& legend);

/// Draws a legend box (top-left, light, scaled to the image) with one colour swatch and name per
/// class of `legend` onto `canvas` (CV_8UC3 RGB); nothing for a legend without names.
void draw_legend(cv::Mat& canvas, const ClassLegend& legend);

/// Writes render_instance_overlay(...) as PNG.
void write_instance_overlay(const std::string& path, const cv::Mat& rgb, const cv::Mat& labels,
                            const std::vector<InstanceRecord>& records, const ClassLegend& legend);

/// One row per record: id, class (name), class_index, then the record's values in order
/// (the first record's names are the header; every record must have the same names, else
/// InputError). A header-only file when there is no record.
void write_instance_csv(const std::string& path, const std::vector<InstanceRecord>& records, const ClassLegend& legend);

}  // namespace hemapath
