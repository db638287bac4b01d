#pragma once
/// Random geometric and photometric augmentation of CV_8UC3 RGB images, with an optional
/// aligned mask that follows the geometry only.
#include <nlohmann/json.hpp>
#include <opencv2/core.hpp>

#include "hemapath/core/config.h"
#include "hemapath/core/random.h"

namespace hemapath {

/// Which augmentations run and how strong they are. All ranges are symmetric around
/// "no change"; zero switches an operation off.
struct AugmentOptions {
  bool enabled = true;
  bool hflip = true;             ///< mirror left-right with probability 1/2
  bool vflip = true;             ///< mirror top-bottom with probability 1/2
  bool rot90 = true;             ///< rotate by k*90 degrees, k uniform in 0..3 (only 0/180 for non-square images, so the size never changes)
  double rotate_degrees = 0;     ///< free rotation in [-d, d] degrees (borders reflected)
  double scale_min = 1.0;        ///< random zoom in [scale_min, scale_max] about the centre,
  double scale_max = 1.0;        ///< cropped or (reflect-)padded back to the same size
  double brightness = 0;         ///< intensity factor in 1 +- brightness
  double contrast = 0;           ///< contrast factor (about the image mean) in 1 +- contrast
  double channel_shift = 0;      ///< per-channel additive shift in +- channel_shift * 255
  double channel_scale = 0;      ///< per-channel factor in 1 +- channel_scale
  double hed_sigma = 0;          ///< HED stain jitter strength (see stain_augment.h)

  /// Reads the keys named like the fields; ranges: rotate_degrees [0, 180], scale_min/max
  /// [0.1, 10] with min <= max, the photometric strengths [0, 1]. ConfigError otherwise.
  static AugmentOptions from_config(const ConfigNode& node);
  nlohmann::json to_json() const;
  /// The inverse of to_json, with the same checks (ConfigError).
  static AugmentOptions from_json(const nlohmann::json& json);
};

/// Applies a random augmentation drawn from `rng` to `image` (CV_8UC3 RGB) in place:
/// flips, rot90, then one combined rotation+zoom warp (bilinear, reflected borders), then
/// HED jitter, channel scale/shift, contrast and brightness. `mask` (may be nullptr; any
/// single-channel type, same size) gets exactly the same geometric transform with
/// nearest-neighbour interpolation and no photometric change. Deterministic for a given
/// rng state; nothing happens when `options.enabled` is false. InputError on a wrong
/// image type or a mask of another size.
void augment(cv::Mat& image, cv::Mat* mask, const AugmentOptions& options, Rng& rng);

/// A uniform double in [lo, hi) from the top 53 bits of one draw (the same on every
/// platform, unlike std::uniform_real_distribution).
double uniform(Rng& rng, double lo, double hi);

}  // namespace hemapath
