#pragma once
/// OpenCV images <-> LibTorch tensors.
#include <opencv2/core.hpp>
#include <torch/torch.h>

#include "hemapath/image/normalization.h"

namespace hemapath {

/// CV_8UC3 RGB HxW -> contiguous float tensor [3,H,W] (CPU) normalised by `norm`.
/// InputError on another image type; ConfigError when `norm` still needs statistics.
torch::Tensor image_to_tensor(const cv::Mat& rgb, const Normalization& norm);

/// Float [3,H,W] (normalised by `norm`, any device) -> CV_8UC3 RGB, rounded and clipped
/// (for overlays and contact sheets). InputError on another shape.
cv::Mat tensor_to_image(const torch::Tensor& chw, const Normalization& norm);

}  // namespace hemapath
