#pragma once
/// FCN (Long et al. 2015) as torchvision's `fcn_resnet50` without the auxiliary head: state-dict
/// names and shapes equal torchvision's (`backbone.{conv1,bn1,layer1..4}.*`, `classifier.{0,1,4}.*`),
/// so its weights load by name.
#include <torch/torch.h>

#include <cstdint>
#include <string>

#include "hemapath/models/resnet.h"
#include "hemapath/models/segmenter.h"

namespace hemapath {

/// A ResNet-`depth` (18, 34 or 50) backbone for FCN and DeepLabV3 as torchvision builds it:
/// replace_stride_with_dilation {false, true, true} (output stride 8), no `fc` (removed by
/// strip_classifier_head; parameter names are the classifier's). forward_features gives
/// [N, C, H/8, W/8] with C = 2048 for ResNet-50, 512 for ResNet-18/34.
ResNet dilated_resnet_backbone(int64_t depth, int64_t in_channels);

/// Options of `Fcn`.
struct FcnOptions {
  TORCH_ARG(int64_t, num_classes) = 1;
  TORCH_ARG(int64_t, in_channels) = 3;
  /// ResNet depth of the backbone: 50 (torchvision's), or 18 / 34 (hemapath's lighter variants,
  /// basic blocks dilated in both convolutions).
  TORCH_ARG(int64_t, backbone_depth) = 50;
};

/// torchvision's FCNHead: Sequential {0: conv3x3 in -> in/4 (no bias), 1: BatchNorm2d, 2: ReLU,
/// 3: Dropout(0.1), 4: conv1x1 in/4 -> num_classes (bias)}. [N, in, h, w] -> [N, num_classes, h, w].
torch::nn::Sequential fcn_head(int64_t in_channels, int64_t num_classes);

/// FCN-ResNet: `backbone` (dilated ResNet, /8), `classifier` (fcn_head), logits bilinearly
/// upsampled (align_corners=false) to the input size.
/// [N, in_channels, H, W] (H, W multiples of 8) -> logits [N, num_classes, H, W].
class FcnImpl : public SegmenterImpl {
 public:
  explicit FcnImpl(const FcnOptions& options = {});
  torch::Tensor forward(torch::Tensor x) override;
  int64_t output_stride() const override { return 8; }
  std::string encoder_prefix() const override { return "backbone"; }
  const FcnOptions& options() const { return options_; }

 private:
  FcnOptions options_;
  ResNet backbone_{nullptr};
  torch::nn::Sequential classifier_{nullptr};
};
TORCH_MODULE(Fcn);

/// Bilinear (align_corners=false) resize of logits [N, C, h, w] to [N, C, height, width].
torch::Tensor resize_logits(const torch::Tensor& logits, int64_t height, int64_t width);

}  // namespace hemapath
