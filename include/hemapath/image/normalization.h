#pragma once
/// How 8-bit RGB pixels become network input values, recorded in model files so that
/// prediction normalises exactly as training did.
#include <array>
#include <string>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>
#include <opencv2/core.hpp>

#include "hemapath/core/config.h"

namespace hemapath {

struct Normalization {
  /// "unit": x/255 in [0,1]; "symmetric": x/127.5 - 1 in [-1,1];
  /// "standardize": (x/255 - mean)/std per channel.
  std::string mode = "unit";
  std::array<double, 3> mean{0, 0, 0};  ///< RGB, on the [0,1] scale; used by "standardize"
  std::array<double, 3> std{1, 1, 1};   ///< RGB, on the [0,1] scale, > 0; used by "standardize"
  /// True for "standardize" when mean/std were not given: the trainer must compute them on
  /// the training split (channel_statistics) and call set_statistics before use.
  bool needs_statistics = false;

  /// Keys mode (unit|symmetric|standardize), mean, std (3 numbers each, std > 0; only
  /// allowed with standardize, optional there). ConfigError on wrong values.
  static Normalization from_config(const ConfigNode& node);
  nlohmann::json to_json() const;
  /// The inverse of to_json, with the same checks (ConfigError).
  static Normalization from_json(const nlohmann::json& json);

  /// Sets mean/std (on [0,1]) and clears needs_statistics.
  void set_statistics(const std::array<double, 3>& mean, const std::array<double, 3>& std);
  /// Per-channel affine map of a raw pixel value x in [0,255]: value = x * scale + offset.
  void affine(std::array<double, 3>& scale, std::array<double, 3>& offset) const;
};

/// Per-channel mean and population std (on [0,1]) over all pixels of the given CV_8UC3
/// RGB images, accumulated image by image in double precision. InputError when `images`
/// is empty or an image is empty or of another type.
std::pair<std::array<double, 3>, std::array<double, 3>> channel_statistics(
    const std::vector<cv::Mat>& images);

}  // namespace hemapath
