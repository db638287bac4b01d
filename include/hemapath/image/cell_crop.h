#pragma once
/// Cutting single cells out of a smear: the box around a cell's mask, grown by a margin,
/// brought to a fixed square size by padding (aspect ratio kept) or stretching.
#include <string>

#include <nlohmann/json.hpp>
#include <opencv2/core.hpp>

#include "hemapath/core/config.h"

namespace hemapath {

/// How a cell (or a whole image) becomes a size x size network input.
struct CropOptions {
  double margin = 0.15;      ///< added on each side, as a fraction of the box's larger side
  int size = 96;             ///< output side length, px
  /// "pad": keep the aspect ratio, scale the longer side to `size` and pad the rest with a
  /// flat colour, the per-channel median of the crop's outermost pixel ring (the smear's
  /// background there). A flat colour is used rather than reflection because reflecting
  /// a crop that is clipped at the image edge mirrors the cell itself (a doubled nucleus)
  /// and invents morphology the classifier would learn from.
  /// "resize": stretch to size x size.
  std::string mode = "pad";
  /// For cells cut around a point or centroid (crop_centred, e.g. `hemapath analyze`'s red
  /// cells): the side cut at the smear's own resolution, then resized to `size`, so that a
  /// network can see small cells enlarged; 0 = `size` (no resizing).
  int window = 0;

  int centred_side() const { return window > 0 ? window : size; }

  /// Reads keys margin [0, 2], size [8, 4096], mode (pad|resize), window (0 or [8, 4096]); wrong values throw
  /// ConfigError. Unknown keys are left to the caller's `finish()`.
  static CropOptions from_config(const ConfigNode& node);
  nlohmann::json to_json() const;
  /// The inverse of to_json, with the same checks (ConfigError).
  static CropOptions from_json(const nlohmann::json& json);
};

/// The bounding box (px) of the largest 8-connected foreground region of `mask`
/// (mask > 0: for white cells cytoplasm + nucleus), grown on each side by `margin` times
/// the box's larger side and clipped to the image. Throws InputError naming `source` when
/// the mask has no foreground or its size differs from `image_size`.
cv::Rect cell_box(const cv::Mat& mask, const cv::Size& image_size, double margin,
                  const std::string& source);

/// Crop of `image` (CV_8UC3) around the cell in `mask` (CV_8U/CV_16U, same size),
/// padded or resized to size x size per `options`. `source` names the mask in errors.
cv::Mat crop_cell(const cv::Mat& image, const cv::Mat& mask, const CropOptions& options,
                  const std::string& source);

/// A whole image (no mask) brought to size x size with the same pad/resize rule
/// (the margin is not used).
cv::Mat fit_to_size(const cv::Mat& image, const CropOptions& options);

/// The side x side square of `image` (CV_8UC3) centred on `centre` (px), at the image's own
/// resolution, neighbours and background kept: the view a classifier of point-annotated cells
/// is trained on and, centred on a predicted cell's centroid, sees at inference. Beyond the
/// image border the edge pixels are repeated. InputError for another image type, side < 1.
cv::Mat crop_centred(const cv::Mat& image, const cv::Point2d& centre, int side);

}  // namespace hemapath
