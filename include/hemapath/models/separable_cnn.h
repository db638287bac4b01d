#pragma once
/// A compact depthwise-separable CNN for small cell crops (white-cell classification), in the
/// spirit of LeucoCyteNet's SeparableConv2D network. Layout (channels at width 1.0):
///
///   features.0            stem: 3x3/2 conv (no bias) {0} + BatchNorm {1} + ReLU {2}  -> 32, /2
///   features.{1..4}       stages to 64, 128, 256, 384 channels, each
///     .0 and .1           {0: SeparableConv2d (`depthwise` 3x3, `pointwise` 1x1, no bias),
///                          1: BatchNorm2d, 2: ReLU}
///     .2                  2x2 max-pool (ceil mode, so odd sizes keep their border)  -> /2
///   global average pool, `dropout`, `classifier` (Linear 384 -> num_classes).
///
/// Overall stride 32; about 0.39 M parameters at 4 classes. Every channel count is
/// `make_divisible(c * width, 8)`.
#include <torch/torch.h>

#include <cstdint>
#include <string>

#include "hemapath/models/classifier.h"

namespace hemapath {

/// Options of `SeparableCnn`.
struct SeparableCnnOptions {
  TORCH_ARG(int64_t, num_classes) = 4;
  TORCH_ARG(int64_t, in_channels) = 3;
  /// Channel multiplier of every layer (> 0).
  TORCH_ARG(double, width) = 1.0;
  /// Dropout before the linear classifier.
  TORCH_ARG(double, dropout) = 0.3;
};

/// The separable CNN described above. [N, in_channels, H, W] (H, W >= 32) -> logits
/// [N, num_classes].
class SeparableCnnImpl : public ClassifierImpl {
 public:
  explicit SeparableCnnImpl(const SeparableCnnOptions& options = {});
  torch::Tensor forward(torch::Tensor x) override;
  torch::Tensor forward_features(torch::Tensor x) override;
  std::string head_prefix() const override { return "classifier"; }
  const SeparableCnnOptions& options() const { return options_; }

 private:
  SeparableCnnOptions options_;
  torch::nn::Sequential features_{nullptr};
  torch::nn::Dropout dropout_{nullptr};
  torch::nn::Linear classifier_{nullptr};
};
TORCH_MODULE(SeparableCnn);

}  // namespace hemapath
