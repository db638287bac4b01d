#include "hemapath/models/unet.h"

#include <utility>

#include "hemapath/core/error.h"
#include "hemapath/models/registry.h"

namespace hemapath {
namespace {

constexpr int64_t kEncoderStages = 5;  // stage features at /2, /4, /8, /16, /32

torch::Tensor upsample2x(const torch::Tensor& x) {
  namespace F = torch::nn::functional;
  return F::interpolate(x, F::InterpolateFuncOptions()
                               .scale_factor(std::vector<double>{2.0, 2.0})
                               .mode(torch::kBilinear)
                               .align_corners(false));
}

}  // namespace

SequentialBlock unet_double_conv(int64_t in_channels, int64_t out_channels) {
  return SequentialBlock(conv_bn_act(ConvBnActOptions(in_channels, out_channels, 3)),
                         conv_bn_act(ConvBnActOptions(out_channels, out_channels, 3)));
}

UNetUpImpl::UNetUpImpl(int64_t in_channels, int64_t skip_channels, int64_t out_channels, UpsamplingKind kind) {
  int64_t up_channels = in_channels;
  if (kind == UpsamplingKind::kTransposed) {
    up_ = register_module("up", torch::nn::ConvTranspose2d(
                                    torch::nn::ConvTranspose2dOptions(in_channels, out_channels, 2).stride(2)));
    up_channels = out_channels;
  }
  conv_ = register_module("conv", unet_double_conv(up_channels + skip_channels, out_channels));
}

torch::Tensor UNetUpImpl::forward(torch::Tensor x, const torch::Tensor& skip) {
  x = up_.is_empty() ? upsample2x(x) : up_->forward(x);
  if (skip.defined()) x = torch::cat({x, skip}, 1);
  return conv_->forward(x);
}

UNetImpl::UNetImpl(const UNetOptions& options) : options_(options) {
  HP_CHECK(options.num_classes() >= 1, ConfigError, "U-Net num_classes is ", options.num_classes(),
           ": expected at least 1 (1 for binary segmentation)");
  HP_CHECK(options.in_channels() >= 1, ConfigError, "U-Net in_channels is ", options.in_channels(),
           ": expected at least 1");
  HP_CHECK(options.width() >= 1, ConfigError, "U-Net width is ", options.width(), ": expected at least 1");
  down_list_ = torch::nn::ModuleList();
  up_list_ = torch::nn::ModuleList();
  const int64_t width = options.width();

  if (options.encoder().empty()) {
    HP_CHECK(options.depth() >= 1 && options.depth() <= 8, ConfigError, "U-Net depth is ", options.depth(),
             ": expected 1 to 8 downsamplings");
    for (int64_t level = 0; level <= options.depth(); ++level) {
      const int64_t in = level == 0 ? options.in_channels() : width << (level - 1);
      down_.push_back(unet_double_conv(in, width << level));
      down_list_->push_back(down_.back());
    }
    for (int64_t level = 0; level < options.depth(); ++level) {
      up_.push_back(UNetUp(width << (level + 1), width << level, width << level, options.upsampling()));
      up_list_->push_back(up_.back());
    }
    register_module("down", down_list_);
  } else {
    ClassifierOptions encoder_options;
    encoder_options.num_classes = 1;  // the head is removed below
    encoder_options.in_channels = options.in_channels();
    encoder_ = register_module("encoder", strip_classifier_head(create_classifier(options.encoder(), encoder_options)));
    // One dry run tells each stage's channels and checks its strides.
    std::vector<int64_t> channels;
    {
      constexpr int64_t kSide = 64;
      torch::NoGradGuard no_grad;
      encoder_->eval();
      const auto features = encoder_->forward_stage_features(torch::zeros({1, options.in_channels(), kSide, kSide}));
      encoder_->train();
      HP_CHECK(static_cast<int64_t>(features.size()) == kEncoderStages, ConfigError, "U-Net encoder '",
               options.encoder(), "' gives ", features.size(), " stage features: expected ", kEncoderStages,
               " (at strides 2 to 32)");
      for (int64_t i = 0; i < kEncoderStages; ++i) {
        HP_CHECK(features[i].size(2) == (kSide >> (i + 1)), ConfigError, "U-Net encoder '", options.encoder(),
                 "': stage feature ", i, " is at stride ", kSide / features[i].size(2), ": expected ", 2 << i);
        channels.push_back(features[i].size(1));
      }
    }
    for (int64_t level = 0; level < kEncoderStages; ++level) {
      const int64_t in = level == kEncoderStages - 1 ? channels.back() : width << (level + 1);
      const int64_t skip = level == 0 ? 0 : channels[level - 1];
      up_.push_back(UNetUp(in, skip, width << level, options.upsampling()));
      up_list_->push_back(up_.back());
    }
  }
  register_module("up", up_list_);
  head_ = register_module("head", torch::nn::Conv2d(torch::nn::Conv2dOptions(width, options.num_classes(), 1)));
  // The decoder as torchvision initialises convolutions; the encoder keeps its own initialisation.
  init_weights(*down_list_, LinearInit::kDefault);
  init_weights(*up_list_, LinearInit::kDefault);
  torch::NoGradGuard no_grad;
  torch::nn::init::kaiming_normal_(head_->weight, 0.0, torch::kFanOut, torch::kReLU);
  head_->bias.zero_();
}

int64_t UNetImpl::output_stride() const {
  return encoder_ ? int64_t{1} << kEncoderStages : int64_t{1} << options_.depth();
}

torch::Tensor UNetImpl::forward(torch::Tensor x) {
  check_input(x, options_.in_channels());
  torch::Tensor y;
  if (encoder_) {
    const auto features = encoder_->forward_stage_features(x);
    y = features.back();
    for (int64_t level = kEncoderStages - 1; level >= 0; --level)
      y = up_[level]->forward(y, level == 0 ? torch::Tensor() : features[level - 1]);
  } else {
    std::vector<torch::Tensor> skips;
    y = x;
    for (size_t level = 0; level < down_.size(); ++level) {
      if (level > 0) y = torch::max_pool2d(y, 2, 2);
      y = down_[level]->forward(y);
      skips.push_back(y);
    }
    for (int64_t level = options_.depth() - 1; level >= 0; --level) y = up_[level]->forward(y, skips[level]);
  }
  return head_->forward(y);
}

}  // namespace hemapath
