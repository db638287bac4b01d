#pragma once
/// Cell instances from a segmentation: connected components of the foreground, touching
/// cells split by a marker-controlled watershed on the distance transform, then a size
/// filter. Instance maps are CV_32S, 0 = background, instances 1..N.
#include <opencv2/core.hpp>
#include <vector>

namespace hemapath {

/// How instances are cut out of a foreground mask.
///
/// Markers (one per cell) are the h-maxima of the Euclidean distance transform of each
/// connected component: a peak of the distance map (a cell centre) gets its own marker only
/// when every path from it to a higher peak descends by at least `marker_height` px. Two
/// discs of radius r joined by a neck of half-width w have peaks r and a saddle w, so they
/// are split when r - w >= marker_height; bumps of the outline (a px or less) are not. Markers
/// whose pixels lie within about `min_distance` px of each other are then merged, so one cell
/// never gets two seeds closer than that. A component with one marker is kept whole; with
/// several, a marker-controlled watershed (Meyer's priority flood of the inverted distance
/// map, restricted to the component) grows each seed until the cells meet at the necks.
/// Every foreground pixel goes to a cell (no watershed lines), so instances tile the
/// foreground.
struct InstanceOptions {
  /// Probability maps: foreground where p >= threshold (p in [0, 1]).
  double threshold = 0.5;
  /// Instances smaller than this (px) are dropped (become background); 0 keeps all.
  int min_area = 0;
  /// Instances larger than this (px) are dropped; 0 = no upper limit.
  int max_area = 0;
  /// Split touching cells; off = one instance per 8-connected component.
  bool watershed = true;
  /// Minimum dynamic (depth) of a distance-transform peak, px, for it to seed a cell.
  double marker_height = 1.0;
  /// Markers closer than about this many px are merged into one seed; 0 = no merging.
  int min_distance = 3;
  /// Fill holes of the foreground (background regions not 4-connected to the image border)
  /// before labelling, so a nucleus with a pale centre stays one solid instance.
  bool fill_holes = true;
  /// Models that learn cell interiors apart from boundaries: grow cells from the predicted
  /// interiors (true), or treat interior + boundary as foreground and split it by the markers
  /// above (false), for cells whose interior the network sees in pieces (red cells' pale centres).
  bool interior_seeds = true;
};

/// Checks the options. Throws ConfigError naming the field: threshold outside [0, 1],
/// negative areas, max_area below min_area, marker_height <= 0, negative min_distance.
void validate(const InstanceOptions& options);

/// Foreground mask (CV_8U, 0 or 255) of a probability map: CV_32F/CV_64F in [0, 1], or CV_8U
/// scaled 0..255 (p = value / 255). Foreground where p >= threshold. Throws InputError for
/// another type or more than one channel.
cv::Mat foreground_from_probability(const cv::Mat& probability, double threshold);

/// Foreground mask (CV_8U, 0 or 255) of an index map (CV_8U/CV_16U/CV_32S class per pixel):
/// pixels whose class is in `classes`; empty `classes` = every non-zero class.
cv::Mat foreground_from_classes(const cv::Mat& index_map, const std::vector<int>& classes);

/// Instances of a foreground mask (CV_8U, non-zero = foreground, H x W): CV_32S H x W,
/// 0 background, instances numbered 1..N consecutively in raster order of their first pixel.
/// An empty (0 x 0), 1 x 1 or all-background mask gives no instance. Throws InputError for a
/// mask that is not single-channel CV_8U, ConfigError for bad options.
cv::Mat extract_instances(const cv::Mat& foreground, const InstanceOptions& options);

/// Instances of a foreground mask grown from seeds, for networks that learn cell interiors apart
/// from cell boundaries: each 8-connected component of `seeds` (CV_8U, non-zero = interior,
/// same size) within the foreground starts a cell, which claims foreground pixels deepest
/// first (by the distance transform) until it meets its neighbours; foreground no seed reaches
/// becomes one cell per component. Then the size filter and numbering of extract_instances.
/// `watershed`, `marker_height` and `min_distance` do not apply. InputError for masks of other
/// types or sizes.
cv::Mat extract_instances_from_seeds(const cv::Mat& foreground, const cv::Mat& seeds, const InstanceOptions& options);

/// extract_instances(foreground_from_probability(probability, options.threshold), options).
cv::Mat extract_instances_from_probability(const cv::Mat& probability, const InstanceOptions& options);

/// extract_instances(foreground_from_classes(index_map, classes), options).
cv::Mat extract_instances_from_classes(const cv::Mat& index_map, const std::vector<int>& classes,
                                       const InstanceOptions& options);

/// The foreground (CV_8U, non-zero = foreground) with its holes filled: background regions
/// not 4-connected to the image border become foreground (0 or 255).
cv::Mat fill_holes(const cv::Mat& foreground);

/// Marker-controlled watershed: the labelled `markers` (CV_32S, 0 = unlabelled) claim the
/// pixels of `mask` (CV_8U) deepest first by `dist` (CV_32F, e.g. the distance transform,
/// so cells meet at their necks), each growing through 8-connected pixels it reaches.
/// Returns CV_32S: markers' labels over the pixels they reached, 0 elsewhere.
cv::Mat flood_from_markers(const cv::Mat& dist, const cv::Mat& mask, const cv::Mat& markers);

/// Number of distinct non-zero ids in an instance map (CV_8U/CV_16U/CV_32S).
int count_instances(const cv::Mat& labels);

}  // namespace hemapath
