#pragma once
/// Instance masks for cells annotated by one point each (no outlines), the training targets of
/// a red-cell segmenter: the smear's cells are found by colour, then each labelled point's
/// cell is grown from a seed at the point over that foreground, deepest first by the distance
/// transform, so touching and overlapping cells are parted along the neck between their
/// centres (a marker-controlled watershed).
#include <vector>

#include <opencv2/core.hpp>

#include "hemapath/data/point_labels.h"

namespace hemapath {

struct PointMaskOptions {
  /// Radius (px) of the seed disc drawn at each point; the seed is part of its cell even where
  /// the colour threshold missed it.
  int seed_radius = 3;
  /// A cell keeps only pixels within this distance (px) of its point, so a point cannot claim
  /// an unlabelled neighbour (a white cell, a platelet clump) that touches it. 0: no limit.
  double max_radius = 0;
  /// Holes of the colour foreground up to this area (px) are filled (the pale centre of a red
  /// cell, a target cell's ring); larger ones (background enclosed by a ring of cells) are kept.
  double max_hole_area = 1500;
  /// Width (px) of the band of background around unlabelled foreground that is marked
  /// unlabelled too: where the colour threshold may have cut a pale cell's edge short.
  int unlabelled_margin = 2;
};

/// Id of the pixels whose cell nobody labelled (see cells_from_points): the largest a 16-bit
/// instance mask holds, so no cell of an image can have it.
constexpr int kUnlabelledCell = 65535;

/// Foreground of a stained smear (CV_8U 0/255): pixels darker in green than the background
/// (Otsu's threshold on the smoothed green channel, where haemoglobin and stained nuclei
/// absorb), opened to drop specks, with small holes filled. InputError unless CV_8UC3 RGB.
cv::Mat colour_foreground(const cv::Mat& rgb, double max_hole_area);

/// The cells of `points` in `rgb` as CV_32S: pixel value k + 1 is the cell of points[k]
/// (0 = background or no labelled cell). A point whose seed another point's overwrote (two
/// points within a seed diameter) gets no pixels. Foreground no point reaches (a cell nobody
/// labelled, a white cell, debris), or that lies beyond `max_radius`, is kUnlabelledCell, with
/// a margin around it: it is neither a labelled cell nor background, and a segmenter that
/// learnt it as background would learn to miss cells. InputError unless CV_8UC3; ConfigError
/// for negative options.
cv::Mat cells_from_points(const cv::Mat& rgb, const std::vector<PointLabel>& points, const PointMaskOptions& options);

}  // namespace hemapath
