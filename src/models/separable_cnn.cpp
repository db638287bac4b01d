#include "hemapath/models/separable_cnn.h"

#include "hemapath/core/error.h"
#include "hemapath/models/layers.h"

namespace hemapath {

SeparableCnnImpl::SeparableCnnImpl(const SeparableCnnOptions& options) : options_(options) {
  check_head_options(options.num_classes(), options.in_channels(), options.dropout());
  HP_CHECK(options.width() > 0.0, ConfigError, "separable_cnn width ", options.width(),
           " is invalid: expected a value > 0");

  auto channels = [&](int64_t c) {
    return make_divisible(static_cast<double>(c) * options.width(), 8);
  };

  torch::nn::Sequential features;
  int64_t in = channels(32);
  features->push_back(conv_bn_act(ConvBnActOptions(options.in_channels(), in, 3).stride(2)));
  for (const int64_t stage_channels : {64, 128, 256, 384}) {
    const int64_t out = channels(stage_channels);
    features->push_back(SequentialBlock(
        separable_conv_bn_act(SeparableConv2dOptions(in, out)),
        separable_conv_bn_act(SeparableConv2dOptions(out, out)),
        torch::nn::MaxPool2d(torch::nn::MaxPool2dOptions(2).stride(2).ceil_mode(true))));
    in = out;
  }
  features_ = register_module("features", features);
  dropout_ = register_module("dropout", torch::nn::Dropout(options.dropout()));
  classifier_ = register_module("classifier", torch::nn::Linear(in, options.num_classes()));
  init_weights(*this, LinearInit::kNormal);
}

torch::Tensor SeparableCnnImpl::forward_features(torch::Tensor x) { return features_->forward(x); }

torch::Tensor SeparableCnnImpl::forward(torch::Tensor x) {
  x = torch::adaptive_avg_pool2d(forward_features(x), {1, 1}).flatten(1);
  return classifier_->forward(dropout_->forward(x));
}

}  // namespace hemapath
