#pragma once
/// Colour deconvolution into haematoxylin / eosin / DAB (Ruifrok & Johnston 2001) and the
/// HED stain jitter of Tellez et al. (2018) built on it.
#include <opencv2/core.hpp>

#include "hemapath/core/random.h"

namespace hemapath {

/// HED stain jitter: RGB -> optical density -> H, E, D stain amounts via the
/// Ruifrok-Johnston matrix, each stain channel scaled by U(1-sigma, 1+sigma) and shifted by
/// U(-sigma, sigma) (optical density units, log10), then back to RGB. In place on CV_8UC3
/// RGB. sigma 0 leaves the image unchanged (and draws nothing from `rng`).
void hed_jitter(cv::Mat& rgb, double sigma, Rng& rng);

/// RGB (CV_8UC3, or CV_32FC3 on the 0..255 scale) -> stain amounts H, E, D as CV_32FC3.
/// Optical density is -log10((I + 1) / 256) per channel, so black stays finite; the stain
/// amounts are not clipped, so the conversion inverts exactly.
cv::Mat rgb_to_hed(const cv::Mat& rgb);
/// Stain amounts (CV_32FC3) -> RGB as CV_32FC3 on the 0..255 scale, clipped to [0, 255].
cv::Mat hed_to_rgb(const cv::Mat& hed);

}  // namespace hemapath
