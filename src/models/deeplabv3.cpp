#include "hemapath/models/deeplabv3.h"

#include "hemapath/core/error.h"

namespace hemapath {
namespace {

torch::nn::Sequential conv_bn_relu(int64_t in, int64_t out, int64_t kernel, int64_t dilation) {
  return torch::nn::Sequential(torch::nn::Conv2d(torch::nn::Conv2dOptions(in, out, kernel)
                                                     .padding(kernel / 2 * dilation)
                                                     .dilation(dilation)
                                                     .bias(false)),
                               torch::nn::BatchNorm2d(out), torch::nn::ReLU());
}

}  // namespace

ASPPPoolingImpl::ASPPPoolingImpl(int64_t in_channels, int64_t out_channels) {
  // Registered under torchvision's indices; the pool and ReLU hold no parameters.
  register_module("0", torch::nn::AdaptiveAvgPool2d(1));
  conv_ = register_module("1", torch::nn::Conv2d(torch::nn::Conv2dOptions(in_channels, out_channels, 1).bias(false)));
  bn_ = register_module("2", torch::nn::BatchNorm2d(out_channels));
  register_module("3", torch::nn::ReLU());
}

torch::Tensor ASPPPoolingImpl::forward(torch::Tensor x) {
  const int64_t h = x.size(2), w = x.size(3);
  auto y = torch::relu(bn_->forward(conv_->forward(torch::adaptive_avg_pool2d(x, {1, 1}))));
  return resize_logits(y, h, w);
}

ASPPImpl::ASPPImpl(int64_t in_channels, const std::vector<int64_t>& rates, int64_t out_channels) {
  torch::nn::ModuleList convs;
  branches_.push_back(conv_bn_relu(in_channels, out_channels, 1, 1));
  for (const int64_t rate : rates) branches_.push_back(conv_bn_relu(in_channels, out_channels, 3, rate));
  for (const auto& branch : branches_) convs->push_back(branch);
  pooling_ = ASPPPooling(in_channels, out_channels);
  convs->push_back(pooling_);
  register_module("convs", convs);
  const int64_t total = static_cast<int64_t>(branches_.size() + 1) * out_channels;
  project_ = register_module(
      "project", torch::nn::Sequential(
                     torch::nn::Conv2d(torch::nn::Conv2dOptions(total, out_channels, 1).bias(false)),
                     torch::nn::BatchNorm2d(out_channels), torch::nn::ReLU(), torch::nn::Dropout(0.5)));
}

torch::Tensor ASPPImpl::forward(torch::Tensor x) {
  std::vector<torch::Tensor> outputs;
  for (auto& branch : branches_) outputs.push_back(branch->forward(x));
  outputs.push_back(pooling_->forward(x));
  return project_->forward(torch::cat(outputs, 1));
}

torch::nn::Sequential deeplab_head(int64_t in_channels, int64_t num_classes) {
  return torch::nn::Sequential(ASPP(in_channels, std::vector<int64_t>{12, 24, 36}),
                               torch::nn::Conv2d(torch::nn::Conv2dOptions(256, 256, 3).padding(1).bias(false)),
                               torch::nn::BatchNorm2d(256), torch::nn::ReLU(),
                               torch::nn::Conv2d(torch::nn::Conv2dOptions(256, num_classes, 1)));
}

DeepLabV3Impl::DeepLabV3Impl(const DeepLabV3Options& options) : options_(options) {
  HP_CHECK(options.num_classes() >= 1 && options.in_channels() >= 1, ConfigError, "DeepLabV3 num_classes (",
           options.num_classes(), ") and in_channels (", options.in_channels(), ") must be at least 1");
  backbone_ = register_module("backbone", dilated_resnet_backbone(options.backbone_depth(), options.in_channels()));
  const int64_t channels = options.backbone_depth() == 50 ? 2048 : 512;
  classifier_ = register_module("classifier", deeplab_head(channels, options.num_classes()));
}

torch::Tensor DeepLabV3Impl::forward(torch::Tensor x) {
  check_input(x, options_.in_channels());
  HP_CHECK(!is_training() || x.size(0) >= 2, InputError, "DeepLabV3 needs batches of at least 2 images in ",
           "training (its image pooling branch normalises a 1x1 map over the batch), got ", x.size(0));
  const int64_t h = x.size(2), w = x.size(3);
  return resize_logits(classifier_->forward(backbone_->forward_features(x)), h, w);
}

}  // namespace hemapath
