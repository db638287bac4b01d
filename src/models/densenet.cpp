#include "hemapath/models/densenet.h"

#include <vector>

#include "hemapath/core/error.h"
#include "hemapath/models/layers.h"

namespace hemapath {
namespace {

constexpr int64_t kBnSize = 4;

struct DenseNetConfig {
  int64_t growth_rate;
  int64_t stem_channels;
  std::vector<int64_t> block_layers;
};

DenseNetConfig config_for(int64_t depth) {
  switch (depth) {
    case 121:
      return {32, 64, {6, 12, 24, 16}};
    case 161:
      return {48, 96, {6, 12, 36, 24}};
    case 169:
      return {32, 64, {6, 12, 32, 32}};
    case 201:
      return {32, 64, {6, 12, 48, 32}};
    default:
      HP_CHECK(false, ConfigError, "DenseNet depth ", depth,
               " is not supported: expected 121, 161, 169 or 201");
  }
  return {};
}

torch::nn::Conv2d conv(int64_t in, int64_t out, int64_t kernel, int64_t stride = 1,
                       int64_t padding = 0) {
  return torch::nn::Conv2d(
      torch::nn::Conv2dOptions(in, out, kernel).stride(stride).padding(padding).bias(false));
}

// torchvision's `_Transition`, names kept so its weights load.
SequentialBlock transition(int64_t in, int64_t out) {
  SequentialBlock seq;
  seq->push_back("norm", torch::nn::BatchNorm2d(in));
  seq->push_back("relu", Activation(ActivationKind::kReLU));
  seq->push_back("conv", conv(in, out, 1));
  seq->push_back("pool", torch::nn::AvgPool2d(torch::nn::AvgPool2dOptions(2).stride(2)));
  return seq;
}

}  // namespace

DenseLayerImpl::DenseLayerImpl(int64_t in_channels, int64_t growth_rate, int64_t bn_size) {
  norm1_ = register_module("norm1", torch::nn::BatchNorm2d(in_channels));
  conv1_ = register_module("conv1", conv(in_channels, bn_size * growth_rate, 1));
  norm2_ = register_module("norm2", torch::nn::BatchNorm2d(bn_size * growth_rate));
  conv2_ = register_module("conv2", conv(bn_size * growth_rate, growth_rate, 3, 1, 1));
}

torch::Tensor DenseLayerImpl::forward(torch::Tensor x) {
  auto out = conv1_->forward(torch::relu(norm1_->forward(x)));
  return conv2_->forward(torch::relu(norm2_->forward(out)));
}

DenseBlockImpl::DenseBlockImpl(int64_t num_layers, int64_t in_channels, int64_t growth_rate,
                               int64_t bn_size) {
  for (int64_t i = 0; i < num_layers; ++i) {
    layers_.push_back(
        register_module("denselayer" + std::to_string(i + 1),
                        DenseLayer(in_channels + i * growth_rate, growth_rate, bn_size)));
  }
}

torch::Tensor DenseBlockImpl::forward(torch::Tensor x) {
  std::vector<torch::Tensor> features{std::move(x)};
  for (auto& layer : layers_) features.push_back(layer->forward(torch::cat(features, 1)));
  return torch::cat(features, 1);
}

DenseNetImpl::DenseNetImpl(const DenseNetOptions& options) : options_(options) {
  const DenseNetConfig config = config_for(options.depth());
  check_head_options(options.num_classes(), options.in_channels(), options.dropout());

  torch::nn::Sequential features;
  features->push_back("conv0", conv(options.in_channels(), config.stem_channels, 7, 2, 3));
  features->push_back("norm0", torch::nn::BatchNorm2d(config.stem_channels));
  features->push_back("relu0", Activation(ActivationKind::kReLU));
  features->push_back("pool0",
                      torch::nn::MaxPool2d(torch::nn::MaxPool2dOptions(3).stride(2).padding(1)));
  int64_t channels = config.stem_channels;
  const auto blocks = config.block_layers.size();
  for (size_t i = 0; i < blocks; ++i) {
    const int64_t layers = config.block_layers[i];
    features->push_back("denseblock" + std::to_string(i + 1),
                        DenseBlock(layers, channels, config.growth_rate, kBnSize));
    channels += layers * config.growth_rate;
    if (i + 1 < blocks) {
      features->push_back("transition" + std::to_string(i + 1), transition(channels, channels / 2));
      channels /= 2;
    }
  }
  features->push_back("norm5", torch::nn::BatchNorm2d(channels));
  features_ = register_module("features", features);
  classifier_ = register_module("classifier", torch::nn::Linear(channels, options.num_classes()));

  init_weights(*this, LinearInit::kDefault);
  // torchvision's DenseNet differs from the shared init: Kaiming fan_in (not fan_out) for
  // convolutions and a zero linear bias.
  torch::NoGradGuard no_grad;
  for (const auto& module : modules(/*include_self=*/false)) {
    if (auto* c = module->as<torch::nn::Conv2d>()) torch::nn::init::kaiming_normal_(c->weight);
  }
  classifier_->bias.zero_();
}

torch::Tensor DenseNetImpl::forward_features(torch::Tensor x) { return torch::relu(features_->forward(x)); }

// The stem, then each dense block with the transition (or final norm) that follows it.
std::vector<ClassifierImpl::Stage> DenseNetImpl::stages() const {
  std::vector<Stage> result(1);
  for (const auto& item : features_->named_children()) {
    if (item.value()->parameters().empty()) continue;
    if (item.key().rfind("denseblock", 0) == 0) result.emplace_back();
    result.back().push_back("features." + item.key());
  }
  return result;
}

torch::Tensor DenseNetImpl::forward(torch::Tensor x) {
  x = torch::adaptive_avg_pool2d(forward_features(x), {1, 1}).flatten(1);
  if (options_.dropout() > 0.0) x = torch::dropout(x, options_.dropout(), is_training());
  return classifier_->forward(x);
}

}  // namespace hemapath
