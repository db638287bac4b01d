#pragma once
/// Stain normalisation: maps an H&E image to the colour appearance of a reference image, so
/// that models see one staining protocol. Reinhard et al. (2001) match colour statistics in
/// CIE L*a*b*; Macenko et al. (2009) estimate the haematoxylin and eosin optical-density
/// vectors of each image and swap the source's for the reference's.
///
/// Units: RGB is 8-bit (0..255). Optical density (OD) is -log10(I / io) per channel with I
/// clamped to >= 1 (black stays finite) and OD clamped to >= 0 (I >= io absorbs nothing).
/// Stain concentrations are in the same log10 OD units (OD = concentration x unit vector).
#include <nlohmann/json.hpp>
#include <opencv2/core.hpp>
#include <string>

namespace hemapath {

/// Settings of the Macenko stain estimation; stored with a fitted normaliser because apply()
/// estimates each source image's stains with the same settings.
struct MacenkoOptions {
  /// Percentile (in [0, 50)) of the stain angles taken as the extreme H and E directions;
  /// 1 means the 1st and 99th percentiles, robust to a few outlying pixels.
  double alpha = 1.0;
  /// OD threshold (log10 units, >= 0): a pixel is tissue when its OD is >= beta in every
  /// channel. With io 240, 0.15 means darker than about 170 in R, G and B. (The usual Python
  /// ports use natural-log OD; their beta 0.15 corresponds to 0.065 here.)
  double beta = 0.15;
  /// Transmitted (background) light intensity on the 0..255 scale, in (0, 255].
  double io = 240;
};

/// Fewest tissue pixels (OD >= beta in every channel) Macenko needs in an image: with fewer
/// the alpha-percentile angles rest on a handful of pixels and the stains are guesswork.
inline constexpr int kMacenkoMinTissuePixels = 100;

/// The 3x2 H/E stain matrix (columns: haematoxylin then eosin unit OD vectors; rows R, G, B)
/// that Macenko et al. (2009) estimate from a CV_8UC3 RGB image: OD of the tissue pixels
/// (OD >= beta in every channel), the plane of the two largest eigenvectors of their OD
/// covariance, the alpha / (100 - alpha) percentile angles of the pixels in that plane; the
/// column with the larger red OD component is haematoxylin, as the usual implementations
/// decide. InputError for an empty or non-CV_8UC3 image, fewer than kMacenkoMinTissuePixels
/// tissue pixels, or tissue of a single colour (the two extreme directions under 1 degree
/// apart); ConfigError for options out of range.
cv::Matx32d estimate_macenko_stains(const cv::Mat& rgb, const MacenkoOptions& options = {});

/// A stain normalisation method with the target statistics fitted on a reference image;
/// small, saved as JSON so the same appearance can be reproduced later (e.g. at prediction).
struct StainNormalizer {
  /// "reinhard" or "macenko"; empty when not fitted.
  std::string method;

  /// reinhard: per-channel mean and population std of the reference in OpenCV's float
  /// CIE L*a*b* (L 0..100, a and b about -127..127).
  cv::Vec3d lab_mean{0, 0, 0};
  cv::Vec3d lab_std{0, 0, 0};

  /// macenko: the reference's stain matrix (columns H, E: unit OD vectors; rows R, G, B).
  cv::Matx32d stains = cv::Matx32d::zeros();
  /// macenko: the reference's 99th-percentile H and E concentrations (log10 OD units) over
  /// its tissue pixels, the scale each source's concentrations are matched to.
  cv::Vec2d max_concentrations{0, 0};
  /// macenko: settings used for the reference and for every image apply() sees.
  MacenkoOptions options;

  /// Fits `method` ("reinhard" or "macenko") to a CV_8UC3 RGB reference image. InputError for
  /// an empty or non-CV_8UC3 image and, for macenko, when the reference has too few tissue
  /// pixels (OD >= beta in every channel) to estimate its stains or a stain is absent;
  /// ConfigError for an unknown method (listing the valid ones) or options out of range.
  static StainNormalizer fit(const std::string& method, const cv::Mat& reference_rgb,
                             const MacenkoOptions& options = {});

  /// Maps a CV_8UC3 RGB image to the reference's stain appearance; returns CV_8UC3 RGB of the
  /// same size.
  /// - reinhard: each L*a*b* channel is shifted and scaled so its mean and std over the whole
  ///   image become the reference's (a channel with std ~0 is only shifted). Being global,
  ///   white background stays near-white when the reference has background too.
  /// - macenko: concentrations are the least-squares fit of each pixel's OD to the image's own
  ///   stain matrix, each stain scaled so its 99th percentile over tissue pixels matches the
  ///   reference's, then recomposed with the reference's stain matrix: I = io * 10^-OD. Pixels
  ///   with no absorption (>= io in every channel) come out as io grey, so background stays
  ///   near-white.
  ///   Rule for images without enough tissue (fewer than kMacenkoMinTissuePixels pixels with
  ///   OD >= beta in every channel): when at least 99% of the pixels are background (OD < beta
  ///   in every channel, i.e. lighter than io * 10^-beta) the image is returned unchanged (a
  ///   copy), as there is no stain to normalise; otherwise InputError, because the stains cannot
  ///   be estimated and a guessed mapping would silently distort the colours.
  /// InputError also for an empty or non-CV_8UC3 image and (macenko) single-colour tissue;
  /// ConfigError when the normaliser is not fitted.
  cv::Mat apply(const cv::Mat& rgb) const;

  /// {"method", then reinhard: "lab_mean", "lab_std" (3 numbers each, L*a*b*); macenko:
  /// "haematoxylin_od", "eosin_od" (unit RGB OD vectors), "max_concentrations" ([H, E], log10
  /// OD), "alpha", "beta", "io"}. Doubles are written so that they read back bit-exact.
  nlohmann::json to_json() const;
  /// The inverse of to_json. ConfigError naming `source` and the field for a missing, unknown,
  /// mistyped or out-of-range field or an unknown method. Stain vectors that are not unit
  /// length are normalised (hand-written published vectors often are not).
  static StainNormalizer from_json(const nlohmann::json& json, const std::string& source);

  /// Writes to_json() to `path` atomically (temp file + rename); OutputError on failure.
  void save(const std::string& path) const;
  /// Reads a file written by save(). InputError naming the file when it is missing,
  /// unreadable or not JSON; ConfigError (an InputError) naming it and the field when a field
  /// is wrong.
  static StainNormalizer load(const std::string& path);
};

}  // namespace hemapath
