#pragma once
/// VGG (Simonyan & Zisserman 2015) as torchvision's, with or without BatchNorm. State-dict
/// names and shapes equal torchvision's: `features.N` numbered over every conv, BatchNorm,
/// ReLU and max-pool slot, and `classifier.{0,3,6}` the three linear layers, so its weights
/// load by name.
#include <torch/torch.h>

#include <cstdint>
#include <string>

#include "hemapath/models/classifier.h"

namespace hemapath {

/// Options of `Vgg`.
struct VggOptions {
  /// `depth`: 11, 13, 16 or 19 weight layers (configurations A, B, D, E).
  explicit VggOptions(int64_t depth = 16) : depth_(depth) {}
  TORCH_ARG(int64_t, depth);
  /// A BatchNorm after every convolution (torchvision's `vgg16_bn`).
  TORCH_ARG(bool, batch_norm) = false;
  TORCH_ARG(int64_t, num_classes) = 1000;
  TORCH_ARG(int64_t, in_channels) = 3;
  /// Dropout before the second and the third linear layer (torchvision 0.5).
  TORCH_ARG(double, dropout) = 0.5;
};

/// VGG classifier: `features` (3x3 convolutions with ReLU, five 2x2/2 max-pools, overall /32),
/// adaptive average pool to 7x7 (so any input >= 32 px works), `classifier` {0: Linear
/// (25088 -> 4096), 1: ReLU, 2: Dropout, 3: Linear (4096 -> 4096), 4: ReLU, 5: Dropout,
/// 6: Linear (-> num_classes)}. About 138M parameters, 123M of them in the first linear layer.
/// [N, in_channels, H, W] (H, W >= 32) -> logits [N, num_classes].
class VggImpl : public ClassifierImpl {
 public:
  explicit VggImpl(const VggOptions& options);
  torch::Tensor forward(torch::Tensor x) override;
  torch::Tensor forward_features(torch::Tensor x) override;
  std::vector<Stage> stages() const override;
  std::string head_prefix() const override { return "classifier.6"; }
  const VggOptions& options() const { return options_; }

 private:
  VggOptions options_;
  torch::nn::Sequential features_{nullptr};
  torch::nn::Sequential classifier_{nullptr};
};
TORCH_MODULE(Vgg);

}  // namespace hemapath
