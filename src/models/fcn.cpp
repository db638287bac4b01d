#include "hemapath/models/fcn.h"

#include <vector>

#include "hemapath/core/error.h"

namespace hemapath {

ResNet dilated_resnet_backbone(int64_t depth, int64_t in_channels) {
  HP_CHECK(depth == 18 || depth == 34 || depth == 50, ConfigError, "segmentation backbone resnet", depth,
           " is not supported: expected resnet18, resnet34 or resnet50");
  ResNet backbone(ResNetOptions(depth)
                      .num_classes(1)  // the head is removed: keep it tiny until then
                      .in_channels(in_channels)
                      .replace_stride_with_dilation({false, true, true}));
  strip_classifier_head(backbone.ptr());
  return backbone;
}

torch::nn::Sequential fcn_head(int64_t in_channels, int64_t num_classes) {
  const int64_t inter = in_channels / 4;
  return torch::nn::Sequential(
      torch::nn::Conv2d(torch::nn::Conv2dOptions(in_channels, inter, 3).padding(1).bias(false)),
      torch::nn::BatchNorm2d(inter), torch::nn::ReLU(), torch::nn::Dropout(0.1),
      torch::nn::Conv2d(torch::nn::Conv2dOptions(inter, num_classes, 1)));
}

torch::Tensor resize_logits(const torch::Tensor& logits, int64_t height, int64_t width) {
  namespace F = torch::nn::functional;
  return F::interpolate(logits, F::InterpolateFuncOptions()
                                    .size(std::vector<int64_t>{height, width})
                                    .mode(torch::kBilinear)
                                    .align_corners(false));
}

FcnImpl::FcnImpl(const FcnOptions& options) : options_(options) {
  HP_CHECK(options.num_classes() >= 1 && options.in_channels() >= 1, ConfigError, "FCN num_classes (",
           options.num_classes(), ") and in_channels (", options.in_channels(), ") must be at least 1");
  backbone_ = register_module("backbone", dilated_resnet_backbone(options.backbone_depth(), options.in_channels()));
  const int64_t channels = options.backbone_depth() == 50 ? 2048 : 512;
  classifier_ = register_module("classifier", fcn_head(channels, options.num_classes()));
}

torch::Tensor FcnImpl::forward(torch::Tensor x) {
  check_input(x, options_.in_channels());
  const int64_t h = x.size(2), w = x.size(3);
  return resize_logits(classifier_->forward(backbone_->forward_features(x)), h, w);
}

}  // namespace hemapath
