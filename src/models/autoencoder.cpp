#include "hemapath/models/autoencoder.h"

#include <algorithm>

#include "hemapath/core/error.h"
#include "hemapath/models/layers.h"
#include "hemapath/models/registry.h"

namespace hemapath {

AutoencoderImpl::AutoencoderImpl(const AutoencoderOptions& options) : options_(options) {
  HP_CHECK(options.input_size >= 32, ConfigError, "autoencoder input size is ", options.input_size,
           " px: expected at least 32");
  HP_CHECK(options.decoder_width >= 16, ConfigError, "autoencoder decoder_width is ", options.decoder_width,
           ": expected at least 16");
  ClassifierOptions encoder_options;
  encoder_options.num_classes = 2;  // the head is never run; transfer re-initialises it
  encoder_options.extra = options.extra;
  encoder_ = register_module(kEncoderPrefix, create_classifier(options.arch, encoder_options));

  // One dry run tells the feature map's channels and side, which differ per architecture.
  int64_t channels = 0, side = 0;
  {
    torch::NoGradGuard no_grad;
    encoder_->eval();
    const torch::Tensor features = encoder_->forward_features(torch::zeros({1, 3, options.input_size, options.input_size}));
    encoder_->train();
    channels = features.size(1);
    side = features.size(3);
  }
  decoder_ = torch::nn::Sequential();
  int64_t width = std::min(channels, options.decoder_width);
  decoder_->push_back(conv_bn_act(ConvBnActOptions(channels, width, 1)));
  for (; side < options.input_size; side *= 2) {
    const int64_t next = std::max<int64_t>(16, width / 2);
    decoder_->push_back(torch::nn::Upsample(
        torch::nn::UpsampleOptions().scale_factor(std::vector<double>{2, 2}).mode(torch::kBilinear).align_corners(false)));
    decoder_->push_back(conv_bn_act(ConvBnActOptions(width, next, 3)));
    width = next;
  }
  decoder_->push_back(torch::nn::Conv2d(torch::nn::Conv2dOptions(width, 3, 3).padding(1)));
  register_module("decoder", decoder_);
}

torch::Tensor AutoencoderImpl::encode(torch::Tensor x) { return encoder_->forward_features(std::move(x)); }

torch::Tensor AutoencoderImpl::forward(torch::Tensor x) {
  const int64_t h = x.size(2), w = x.size(3);
  torch::Tensor y = decoder_->forward(encode(std::move(x)));
  if (y.size(2) != h || y.size(3) != w)
    y = torch::nn::functional::interpolate(
        y, torch::nn::functional::InterpolateFuncOptions().size(std::vector<int64_t>{h, w}).mode(torch::kBilinear).align_corners(false));
  return y;
}

}  // namespace hemapath
