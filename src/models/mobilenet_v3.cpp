#include "hemapath/models/mobilenet_v3.h"

#include <vector>

#include "hemapath/core/error.h"

namespace hemapath {
namespace {

// MobileNetV3 uses TensorFlow's BatchNorm settings.
constexpr double kMobileNetBnEps = 1e-3;
constexpr double kMobileNetBnMomentum = 0.01;

constexpr ActivationKind RE = ActivationKind::kReLU;
constexpr ActivationKind HS = ActivationKind::kHardswish;

// Tables 1 and 2 of the paper: in, kernel, expanded, out, SE, activation, stride.
const std::vector<InvertedResidualConfig>& large_config() {
  static const std::vector<InvertedResidualConfig> config = {
      {16, 3, 16, 16, false, RE, 1},    {16, 3, 64, 24, false, RE, 2},
      {24, 3, 72, 24, false, RE, 1},    {24, 5, 72, 40, true, RE, 2},
      {40, 5, 120, 40, true, RE, 1},    {40, 5, 120, 40, true, RE, 1},
      {40, 3, 240, 80, false, HS, 2},   {80, 3, 200, 80, false, HS, 1},
      {80, 3, 184, 80, false, HS, 1},   {80, 3, 184, 80, false, HS, 1},
      {80, 3, 480, 112, true, HS, 1},   {112, 3, 672, 112, true, HS, 1},
      {112, 5, 672, 160, true, HS, 2},  {160, 5, 960, 160, true, HS, 1},
      {160, 5, 960, 160, true, HS, 1},
  };
  return config;
}

const std::vector<InvertedResidualConfig>& small_config() {
  static const std::vector<InvertedResidualConfig> config = {
      {16, 3, 16, 16, true, RE, 2},   {16, 3, 72, 24, false, RE, 2},
      {24, 3, 88, 24, false, RE, 1},  {24, 5, 96, 40, true, HS, 2},
      {40, 5, 240, 40, true, HS, 1},  {40, 5, 240, 40, true, HS, 1},
      {40, 5, 120, 48, true, HS, 1},  {48, 5, 144, 48, true, HS, 1},
      {48, 5, 288, 96, true, HS, 2},  {96, 5, 576, 96, true, HS, 1},
      {96, 5, 576, 96, true, HS, 1},
  };
  return config;
}

ConvBnActOptions bn_options(ConvBnActOptions options) {
  return options.bn_eps(kMobileNetBnEps).bn_momentum(kMobileNetBnMomentum);
}

}  // namespace

InvertedResidualImpl::InvertedResidualImpl(const InvertedResidualConfig& c)
    : use_residual_(c.stride == 1 && c.in_channels == c.out_channels) {
  torch::nn::Sequential block;
  if (c.expanded_channels != c.in_channels) {
    block->push_back(conv_bn_act(bn_options(
        ConvBnActOptions(c.in_channels, c.expanded_channels, 1).activation(c.activation))));
  }
  block->push_back(
      conv_bn_act(bn_options(ConvBnActOptions(c.expanded_channels, c.expanded_channels,
                                              c.kernel_size)
                                 .stride(c.stride)
                                 .groups(c.expanded_channels)
                                 .activation(c.activation))));
  if (c.use_se) {
    block->push_back(SqueezeExcitation(
        SqueezeExcitationOptions(c.expanded_channels,
                                 make_divisible(static_cast<double>(c.expanded_channels / 4), 8))
            .activation(ActivationKind::kReLU)
            .scale_activation(ActivationKind::kHardsigmoid)));
  }
  block->push_back(conv_bn_act(bn_options(
      ConvBnActOptions(c.expanded_channels, c.out_channels, 1).activation(ActivationKind::kNone))));
  block_ = register_module("block", block);
}

torch::Tensor InvertedResidualImpl::forward(torch::Tensor x) {
  auto out = block_->forward(x);
  return use_residual_ ? out + x : out;
}

MobileNetV3Impl::MobileNetV3Impl(const MobileNetV3Options& options) : options_(options) {
  check_head_options(options.num_classes(), options.in_channels(), options.dropout());
  HP_CHECK(options.width_mult() > 0.0, ConfigError, "MobileNetV3 width_mult ",
           options.width_mult(), " is invalid: expected a value > 0");

  auto channels = [&](int64_t c) {
    return make_divisible(static_cast<double>(c) * options.width_mult(), 8);
  };
  const bool large = options.variant() == MobileNetV3Variant::kLarge;
  const auto& config = large ? large_config() : small_config();

  torch::nn::Sequential features;
  const int64_t stem_channels = channels(config.front().in_channels);
  features->push_back(conv_bn_act(bn_options(ConvBnActOptions(options.in_channels(),
                                                              stem_channels, 3)
                                                 .stride(2)
                                                 .activation(ActivationKind::kHardswish))));
  for (auto row : config) {
    row.in_channels = channels(row.in_channels);
    row.expanded_channels = channels(row.expanded_channels);
    row.out_channels = channels(row.out_channels);
    features->push_back(InvertedResidual(row));
  }
  const int64_t last_in = channels(config.back().out_channels);
  const int64_t last_out = 6 * last_in;
  features->push_back(conv_bn_act(bn_options(
      ConvBnActOptions(last_in, last_out, 1).activation(ActivationKind::kHardswish))));
  features_ = register_module("features", features);

  const int64_t last_channel = channels(large ? 1280 : 1024);
  classifier_ = register_module(
      "classifier",
      torch::nn::Sequential(torch::nn::Linear(last_out, last_channel),
                            Activation(ActivationKind::kHardswish),
                            torch::nn::Dropout(options.dropout()),
                            torch::nn::Linear(last_channel, options.num_classes())));
  init_weights(*this, LinearInit::kNormal);
}

torch::Tensor MobileNetV3Impl::forward_features(torch::Tensor x) { return features_->forward(x); }

torch::Tensor MobileNetV3Impl::forward(torch::Tensor x) {
  x = torch::adaptive_avg_pool2d(forward_features(x), {1, 1}).flatten(1);
  return classifier_->forward(x);
}

}  // namespace hemapath
