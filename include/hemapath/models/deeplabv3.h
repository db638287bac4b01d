#pragma once
/// DeepLabV3 (Chen et al. 2017) as torchvision's `deeplabv3_resnet50` without the auxiliary head:
/// state-dict names and shapes equal torchvision's (`backbone.*` as FCN's,
/// `classifier.0.convs.{0..4}.*`, `classifier.0.project.{0,1}.*`, `classifier.{1,2,4}.*`), so its
/// weights load by name.
#include <torch/torch.h>

#include <cstdint>
#include <string>
#include <vector>

#include "hemapath/models/fcn.h"
#include "hemapath/models/resnet.h"
#include "hemapath/models/segmenter.h"

namespace hemapath {

/// ASPP's image-level branch: {0: global average pool, 1: conv1x1 (no bias), 2: BatchNorm2d,
/// 3: ReLU}, then bilinear upsampling back to the input's size. [N, in, h, w] -> [N, out, h, w].
/// As torchvision's, it needs N >= 2 in training (BatchNorm over a 1x1 map).
class ASPPPoolingImpl : public torch::nn::Module {
 public:
  ASPPPoolingImpl(int64_t in_channels, int64_t out_channels);
  torch::Tensor forward(torch::Tensor x);

 private:
  torch::nn::Conv2d conv_{nullptr};
  torch::nn::BatchNorm2d bn_{nullptr};
};
TORCH_MODULE(ASPPPooling);

/// Atrous spatial pyramid pooling: `convs` {0: 1x1 conv-bn-relu, 1..k: 3x3 conv-bn-relu dilated
/// by each rate, k+1: ASPPPooling}, concatenated, then `project` {0: conv1x1 (no bias), 1: bn,
/// 2: ReLU, 3: Dropout(0.5)}. [N, in, h, w] -> [N, out_channels, h, w].
class ASPPImpl : public torch::nn::Module {
 public:
  ASPPImpl(int64_t in_channels, const std::vector<int64_t>& rates, int64_t out_channels = 256);
  torch::Tensor forward(torch::Tensor x);

 private:
  std::vector<torch::nn::Sequential> branches_;
  ASPPPooling pooling_{nullptr};
  torch::nn::Sequential project_{nullptr};
};
TORCH_MODULE(ASPP);

/// torchvision's DeepLabHead: Sequential {0: ASPP(in, {12, 24, 36}), 1: conv3x3 256 -> 256 (no
/// bias), 2: BatchNorm2d, 3: ReLU, 4: conv1x1 256 -> num_classes (bias)}.
torch::nn::Sequential deeplab_head(int64_t in_channels, int64_t num_classes);

/// Options of `DeepLabV3`.
struct DeepLabV3Options {
  TORCH_ARG(int64_t, num_classes) = 1;
  TORCH_ARG(int64_t, in_channels) = 3;
  /// ResNet depth of the backbone: 50 (torchvision's), or 18 / 34 (as `FcnOptions`).
  TORCH_ARG(int64_t, backbone_depth) = 50;
};

/// DeepLabV3-ResNet: `backbone` (dilated ResNet, /8), `classifier` (deeplab_head), logits
/// bilinearly upsampled (align_corners=false) to the input size.
/// [N, in_channels, H, W] (H, W multiples of 8; N >= 2 in training, else InputError)
/// -> logits [N, num_classes, H, W].
class DeepLabV3Impl : public SegmenterImpl {
 public:
  explicit DeepLabV3Impl(const DeepLabV3Options& options = {});
  torch::Tensor forward(torch::Tensor x) override;
  int64_t output_stride() const override { return 8; }
  std::string encoder_prefix() const override { return "backbone"; }
  const DeepLabV3Options& options() const { return options_; }

 private:
  DeepLabV3Options options_;
  ResNet backbone_{nullptr};
  torch::nn::Sequential classifier_{nullptr};
};
TORCH_MODULE(DeepLabV3);

}  // namespace hemapath
