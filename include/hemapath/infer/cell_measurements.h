#pragma once
/// Shape, position and colour of each instance of an instance map, the per-cell table of
/// the instance and slide workflows.
#include <array>
#include <opencv2/core.hpp>
#include <string>
#include <vector>

#include "hemapath/io/instance_outputs.h"

namespace hemapath {

/// Measurements of one instance. Lengths in px, areas in px^2, coordinates in image pixels
/// (x right, y down, pixel centres at integer coordinates).
struct CellMeasurement {
  int id = 0;
  /// Pixel count.
  int64_t area = 0;
  /// Length of the outline from the outer contour (cv::findContours, 8-connected chain through
  /// the boundary pixel centres): the Vossepoel-Smeulders chain length (unbiased for edges at
  /// any angle) plus pi for the half pixel between those centres and the outline; summed over
  /// disconnected parts. At most 3.5% long for discs of radius >= 8 px (1.2% at 20 px), 3-5%
  /// short for squares of 30-10 px; objects one or two px thin read short.
  double perimeter = 0;
  /// Diameter of the disc of the same area, sqrt(4 area / pi).
  double equivalent_diameter = 0;
  /// 4 pi area / perimeter^2, capped at 1 (as ImageJ): 0.93-0.99 for a disc of radius
  /// 8-40 px (lower for smaller ones), 0.83-0.87 for a square of 30-10 px (exactly pi/4 =
  /// 0.785), small for elongated or ragged shapes.
  double circularity = 0;
  /// Of the ellipse with the same second moments: sqrt(1 - minor^2 / major^2), 0 for a
  /// disc, towards 1 for a line.
  double eccentricity = 0;
  /// Area / pixel count of the filled convex hull of the instance; 1 for convex shapes.
  double solidity = 0;
  /// Mean of the instance's pixels (centre of mass).
  double centroid_x = 0, centroid_y = 0;
  /// Bounding box of the instance's pixels: x, y of the top-left pixel, width, height.
  cv::Rect bbox;
  /// Mean R, G, B (0..255) under the instance; only when an image was given.
  bool has_colour = false;
  std::array<double, 3> mean_rgb{0, 0, 0};
  /// Class index (e.g. majority class; see assign_majority_class), -1 = unclassified.
  int class_index = -1;
};

/// Measures every non-zero id of `labels` (single-channel CV_8U/CV_16U/CV_32S, any ids),
/// ascending by id. `rgb` is empty or CV_8UC3 RGB of the same size (then mean colours are
/// filled in). Throws InputError for another map type, a negative id, or an image of another
/// size or type.
std::vector<CellMeasurement> measure_instances(const cv::Mat& labels, const cv::Mat& rgb = cv::Mat());

/// Sets each cell's class_index to the most frequent value of `class_map` (single-channel
/// integer, same size as `labels`) under it, minus `offset` (e.g. offset 1 when class map
/// value 1 is class index 0 and 0 is background); values below `offset` are not counted, and a
/// cell with no counted pixel stays -1. Ties go to the smaller class. InputError on a size
/// or type mismatch.
void assign_majority_class(std::vector<CellMeasurement>& cells, const cv::Mat& labels, const cv::Mat& class_map,
                           int offset = 0);

/// The measurements as writer records, columns in this order: area_px, perimeter_px,
/// equivalent_diameter_px, circularity, eccentricity, solidity, centroid_x, centroid_y,
/// bbox_x, bbox_y, bbox_w, bbox_h, then mean_r, mean_g, mean_b when the cell has colour.
InstanceRecord to_record(const CellMeasurement& cell);
std::vector<InstanceRecord> to_records(const std::vector<CellMeasurement>& cells);

}  // namespace hemapath
