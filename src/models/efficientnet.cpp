#include "hemapath/models/efficientnet.h"

#include <cmath>
#include <vector>

#include "hemapath/core/error.h"
#include "hemapath/models/layers.h"

namespace hemapath {
namespace {

struct StageConfig {
  int64_t expand_ratio;
  int64_t kernel_size;
  int64_t stride;
  int64_t in_channels;
  int64_t out_channels;
  int64_t num_layers;
};

// EfficientNet-B0's seven stages, before width and depth scaling.
const std::vector<StageConfig>& b0_stages() {
  static const std::vector<StageConfig> stages = {
      {1, 3, 1, 32, 16, 1},  {6, 3, 2, 16, 24, 2},  {6, 5, 2, 24, 40, 2},
      {6, 3, 2, 40, 80, 3},  {6, 5, 1, 80, 112, 3}, {6, 5, 2, 112, 192, 4},
      {6, 3, 1, 192, 320, 1},
  };
  return stages;
}

}  // namespace

MBConvImpl::MBConvImpl(int64_t in_channels, int64_t out_channels, int64_t expand_ratio,
                       int64_t kernel_size, int64_t stride, double stochastic_depth_prob)
    : use_residual_(stride == 1 && in_channels == out_channels),
      stochastic_depth_prob_(stochastic_depth_prob) {
  const int64_t expanded = make_divisible(static_cast<double>(in_channels * expand_ratio), 8);
  torch::nn::Sequential block;
  if (expanded != in_channels) {
    block->push_back(conv_bn_act(
        ConvBnActOptions(in_channels, expanded, 1).activation(ActivationKind::kSiLU)));
  }
  block->push_back(conv_bn_act(ConvBnActOptions(expanded, expanded, kernel_size)
                                   .stride(stride)
                                   .groups(expanded)
                                   .activation(ActivationKind::kSiLU)));
  block->push_back(SqueezeExcitation(
      SqueezeExcitationOptions(expanded, std::max<int64_t>(1, in_channels / 4))
          .activation(ActivationKind::kSiLU)
          .scale_activation(ActivationKind::kSigmoid)));
  block->push_back(conv_bn_act(
      ConvBnActOptions(expanded, out_channels, 1).activation(ActivationKind::kNone)));
  block_ = register_module("block", block);
}

torch::Tensor MBConvImpl::forward(torch::Tensor x) {
  auto out = block_->forward(x);
  if (!use_residual_) return out;
  return stochastic_depth(out, stochastic_depth_prob_, StochasticDepthMode::kRow, is_training()) +
         x;
}

EfficientNetImpl::EfficientNetImpl(const EfficientNetOptions& options) : options_(options) {
  check_head_options(options.num_classes(), options.in_channels(), options.dropout());
  HP_CHECK(options.stochastic_depth_prob() >= 0.0 && options.stochastic_depth_prob() < 1.0,
           ConfigError, "stochastic_depth_prob ", options.stochastic_depth_prob(),
           " is invalid: expected a value in [0, 1)");
  HP_CHECK(options.width_mult() > 0.0 && options.depth_mult() > 0.0, ConfigError,
           "EfficientNet width_mult and depth_mult must be > 0");

  auto channels = [&](int64_t c) {
    return make_divisible(static_cast<double>(c) * options.width_mult(), 8);
  };
  auto depth = [&](int64_t n) {
    return static_cast<int64_t>(std::ceil(static_cast<double>(n) * options.depth_mult()));
  };

  torch::nn::Sequential features;
  const int64_t stem_channels = channels(b0_stages().front().in_channels);
  features->push_back(conv_bn_act(ConvBnActOptions(options.in_channels(), stem_channels, 3)
                                      .stride(2)
                                      .activation(ActivationKind::kSiLU)));

  int64_t total_blocks = 0;
  for (const auto& stage : b0_stages()) total_blocks += depth(stage.num_layers);
  int64_t block_id = 0;
  int64_t last_channels = stem_channels;
  // A stage that halves the resolution closes the previous resolution step (the stem's /2 is
  // closed by the first stride-2 stage, so the step at /2 includes features.1).
  for (const auto& stage : b0_stages()) {
    if (stage.stride != 1) stage_ends_.push_back(features->size() - 1);
    SequentialBlock blocks;
    const int64_t out = channels(stage.out_channels);
    for (int64_t i = 0; i < depth(stage.num_layers); ++i, ++block_id) {
      const double sd_prob = options.stochastic_depth_prob() * static_cast<double>(block_id) /
                             static_cast<double>(total_blocks);
      blocks->push_back(MBConv(i == 0 ? channels(stage.in_channels) : out, out,
                               stage.expand_ratio, stage.kernel_size, i == 0 ? stage.stride : 1,
                               sd_prob));
    }
    features->push_back(blocks);
    last_channels = out;
  }
  const int64_t head_channels = 4 * last_channels;
  features->push_back(conv_bn_act(
      ConvBnActOptions(last_channels, head_channels, 1).activation(ActivationKind::kSiLU)));
  stage_ends_.push_back(features->size() - 1);
  features_ = register_module("features", features);

  classifier_ = register_module(
      "classifier", torch::nn::Sequential(torch::nn::Dropout(options.dropout()),
                                          torch::nn::Linear(head_channels, options.num_classes())));
  init_weights(*this, LinearInit::kUniformFanOut);
}

torch::Tensor EfficientNetImpl::forward_features(torch::Tensor x) { return features_->forward(x); }

std::vector<torch::Tensor> EfficientNetImpl::forward_stage_features(torch::Tensor x) {
  std::vector<torch::Tensor> features;
  size_t index = 0, next = 0;
  for (auto& child : *features_) {
    x = child.forward(x);
    if (next < stage_ends_.size() && stage_ends_[next] == index) {
      features.push_back(x);
      ++next;
    }
    ++index;
  }
  return features;
}

torch::Tensor EfficientNetImpl::forward(torch::Tensor x) {
  x = torch::adaptive_avg_pool2d(forward_features(x), {1, 1}).flatten(1);
  return classifier_->forward(x);
}

}  // namespace hemapath
