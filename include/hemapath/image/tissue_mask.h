#pragma once
/// Tissue detection on a whole-slide thumbnail, to decide which tiles of a slide are worth
/// reading. Works on a small RGB overview (a few thousand px a side at most), never on level 0.
///
/// Method (each step's reason is in tissue_mask.cpp):
///  1. candidates: pixels that are neither near-white glass (optical density summed over
///     R, G, B below `background_od`) nor near-black (HSV value below `dark_value`: pen ink,
///     scanner borders, dust);
///  2. tissue: candidates whose HSV saturation is above an Otsu threshold of the saturation
///     histogram of all pixels that are not near-black (the glass gives Otsu its low mode),
///     raised to `min_saturation`. Otsu's low class is split again while it still holds two
///     populations whose mean saturations differ by `min_contrast`, so pale tissue is not
///     cut off by a split between pale and dark stain. No tissue at all when the first
///     split's classes differ by less than `min_contrast` (a blank or one-colour thumbnail);
///  3. closing (join fragments), opening (drop specks), hole filling, and removal of
///     8-connected components smaller than `min_area_fraction` of the thumbnail.
/// Known limit: coloured pen marks (blue, green) are saturated and count as tissue.
#include <opencv2/core.hpp>

#include "hemapath/core/config.h"

namespace hemapath {

/// Settings of detect_tissue. Saturation and value are on OpenCV's 0..255 scale.
struct TissueOptions {
  /// Floor under Otsu's saturation threshold (0..255); 0 = Otsu alone.
  double min_saturation = 0.0;
  /// Radius (thumbnail px) of the elliptical closing that joins tissue fragments; 0 = none.
  int closing_px = 2;
  /// Radius (thumbnail px) of the elliptical opening that drops specks; 0 = none.
  int opening_px = 1;
  /// Components smaller than this fraction (0..1) of the thumbnail's area (thumbnail px²)
  /// are dropped.
  double min_area_fraction = 0.0005;
  /// Fill background regions enclosed by tissue (lumina, tears, pale nuclei-free areas).
  bool fill_holes = true;
  /// Summed optical density (-log10(I / 255) over R, G, B) below which a pixel is glass.
  double background_od = 0.1;
  /// HSV value (0..255) below which a pixel is ink, border or dirt, never tissue.
  int dark_value = 20;
  /// Smallest gap (0..255) between the mean saturations of Otsu's two classes for them to be
  /// two populations (glass and tissue, or pale and dark tissue) rather than noise of one.
  double min_contrast = 20.0;

  /// Reads keys min_saturation [0, 255], closing_px [0, 256], opening_px [0, 256],
  /// min_area_fraction [0, 1], fill_holes, background_od [0, 3], dark_value [0, 255],
  /// min_contrast [0, 255]; wrong values throw ConfigError. Unknown keys are left to the
  /// caller's `finish()`.
  static TissueOptions from_config(const ConfigNode& node);
};

/// Tissue mask of `thumbnail_rgb` (CV_8UC3, RGB order, any size, thumbnail px): CV_8U of the
/// same size, 255 = tissue, 0 = background. An all-zero mask when the thumbnail is blank
/// (white, or any single colour). InputError for an empty image or another type;
/// ConfigError for options out of range.
cv::Mat detect_tissue(const cv::Mat& thumbnail_rgb, const TissueOptions& options = {});

/// Fraction (0..1) of the area of `rect_in_mask_px` (mask px, continuous coordinates: pixel
/// (x, y) covers [x, x + 1) x [y, y + 1)) that is tissue (mask > 0). The rectangle is first
/// clipped to the mask; partly covered pixels count by their covered area, so tile rectangles
/// mapped from level-0 px to thumbnail px need no rounding. 0 for an empty intersection.
/// InputError when `mask` is not single-channel CV_8U or the rectangle is not finite.
double tissue_fraction(const cv::Mat& mask, const cv::Rect2d& rect_in_mask_px);

}  // namespace hemapath
