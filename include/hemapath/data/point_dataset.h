#pragma once
/// Training data for the two red-cell stages, built from point annotations (one `x y class`
/// line per cell, data/point_labels.h): a seeded image-level train/test split, instance masks
/// for the segmenter (data/point_masks.h) and centred crops for the classifier.
///
/// Layout written under `out` (which must not exist; it is built in a sibling temporary folder
/// and renamed at the end, so a failed run leaves nothing):
///   split.csv                    image,part (train | test),points,labelled_share, one row per
///                                image; labelled_share: the share of the mask's non-background
///                                pixels in labelled cells, unlabelled regions touching the image
///                                border left out (near 1: every cell clear of the border labelled)
///   train/masks/<stem>.png       16-bit instance masks (id k = the k-th line of the point file,
///                                65535 = foreground no point labels: data.unlabelled_id)
///   test/masks/<stem>.png
///   test/images/<image>          the held-out smears, copied, for `hemapath analyze`
///   crops/train/labels.csv       image,label,source,x,y (crops of the classes kept)
///   crops/train/<stem>_<k>.png   side x side crops centred on each point
///   crops/test/...
#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "hemapath/data/point_masks.h"

namespace hemapath {

struct PointDatasetOptions {
  std::string images;        ///< folder of smears
  std::string points;        ///< folder of `<image stem>.txt` point files
  std::string classes_file;  ///< class names, one per line, in index order
  std::string out;
  /// Share of smears held out; 0 puts every smear in train/ (crops to train on), 1 every smear in
  /// test/ (a lab's own annotated smears to score or calibrate a model on).
  double test_fraction = 0.2;
  uint64_t seed = 1;
  int crop = 64;  ///< crop side, px, at the smear's resolution
  /// Classes that get no crop (their cells still get masks: they are cells all the same).
  std::vector<std::string> exclude;
  PointMaskOptions masks;
};

struct PointDatasetSummary {
  size_t train_images = 0, test_images = 0;
  size_t train_points = 0, test_points = 0;
  std::map<std::string, size_t> train_crops, test_crops;  ///< per class
  size_t empty_cells = 0;  ///< points whose cell got no pixel (a seed overwritten by a close neighbour)
};

/// Builds the layout above. Every point file is read and checked before anything is written.
/// InputError naming the file when an image has no point file (or is unreadable), a point file is
/// malformed, or an excluded class is unknown; ConfigError for a test fraction outside [0, 1] or a
/// crop side below 8; OutputError when `out` exists.
PointDatasetSummary build_point_dataset(const PointDatasetOptions& options);

}  // namespace hemapath
