#include "hemapath/models/vgg.h"

#include <vector>

#include "hemapath/core/error.h"
#include "hemapath/models/layers.h"

namespace hemapath {
namespace {

constexpr int64_t kPool = 0;  // a max-pool in a configuration; other entries are conv widths

std::vector<int64_t> config_for(int64_t depth) {
  switch (depth) {
    case 11:
      return {64, kPool, 128, kPool, 256, 256, kPool, 512, 512, kPool, 512, 512, kPool};
    case 13:
      return {64, 64, kPool, 128, 128, kPool, 256, 256, kPool, 512, 512, kPool, 512, 512, kPool};
    case 16:
      return {64,    64,  kPool, 128, 128,   kPool, 256, 256, 256,
              kPool, 512, 512,   512, kPool, 512,   512, 512, kPool};
    case 19:
      return {64,  64,  kPool, 128, 128,   kPool, 256, 256, 256, 256,  kPool,
              512, 512, 512,   512, kPool, 512,   512, 512, 512, kPool};
    default:
      HP_CHECK(false, ConfigError, "VGG depth ", depth,
               " is not supported: expected 11, 13, 16 or 19");
  }
  return {};
}

}  // namespace

VggImpl::VggImpl(const VggOptions& options) : options_(options) {
  const auto config = config_for(options.depth());
  check_head_options(options.num_classes(), options.in_channels(), options.dropout());

  // Every slot, parameter-free or not, takes an index, as in torchvision's nn.Sequential.
  torch::nn::Sequential features;
  int64_t channels = options.in_channels();
  for (const int64_t width : config) {
    if (width == kPool) {
      features->push_back(torch::nn::MaxPool2d(torch::nn::MaxPool2dOptions(2).stride(2)));
      continue;
    }
    features->push_back(torch::nn::Conv2d(torch::nn::Conv2dOptions(channels, width, 3).padding(1)));
    if (options.batch_norm()) features->push_back(torch::nn::BatchNorm2d(width));
    features->push_back(Activation(ActivationKind::kReLU));
    channels = width;
  }
  features_ = register_module("features", features);

  constexpr int64_t kHidden = 4096;
  classifier_ = register_module(
      "classifier",
      torch::nn::Sequential(
          torch::nn::Linear(channels * 7 * 7, kHidden), Activation(ActivationKind::kReLU),
          torch::nn::Dropout(options.dropout()), torch::nn::Linear(kHidden, kHidden),
          Activation(ActivationKind::kReLU), torch::nn::Dropout(options.dropout()),
          torch::nn::Linear(kHidden, options.num_classes())));
  init_weights(*this, LinearInit::kNormal);
}

torch::Tensor VggImpl::forward_features(torch::Tensor x) { return features_->forward(x); }

// One stage per resolution: the convolutions (and batch norms) up to each max-pool.
std::vector<ClassifierImpl::Stage> VggImpl::stages() const {
  std::vector<Stage> result(1);
  for (const auto& item : features_->named_children()) {
    if (item.value()->as<torch::nn::MaxPool2d>()) {
      result.emplace_back();
    } else if (!item.value()->parameters().empty()) {
      result.back().push_back("features." + item.key());
    }
  }
  result.pop_back();  // nothing follows the last pool
  return result;
}

torch::Tensor VggImpl::forward(torch::Tensor x) {
  x = torch::adaptive_avg_pool2d(forward_features(x), {7, 7}).flatten(1);
  return classifier_->forward(x);
}

}  // namespace hemapath
