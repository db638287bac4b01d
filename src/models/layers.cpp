#include "hemapath/models/layers.h"

#include <cmath>

#include "hemapath/core/error.h"

namespace hemapath {

int64_t make_divisible(double value, int64_t divisor, int64_t min_value) {
  if (min_value <= 0) min_value = divisor;
  const auto rounded =
      static_cast<int64_t>(value + static_cast<double>(divisor) / 2.0) / divisor * divisor;
  int64_t result = std::max(min_value, rounded);
  if (static_cast<double>(result) < 0.9 * value) result += divisor;
  return result;
}

torch::Tensor apply_activation(const torch::Tensor& x, ActivationKind kind) {
  switch (kind) {
    case ActivationKind::kNone:
      return x;
    case ActivationKind::kReLU:
      return torch::relu(x);
    case ActivationKind::kSiLU:
      return torch::silu(x);
    case ActivationKind::kHardswish:
      return torch::hardswish(x);
    case ActivationKind::kSigmoid:
      return torch::sigmoid(x);
    case ActivationKind::kHardsigmoid:
      return torch::hardsigmoid(x);
  }
  return x;
}

SequentialBlock conv_bn_act(const ConvBnActOptions& o) {
  const int64_t padding = (o.kernel_size() - 1) / 2 * o.dilation();
  SequentialBlock seq;
  seq->push_back(torch::nn::Conv2d(torch::nn::Conv2dOptions(o.in_channels(), o.out_channels(),
                                                            o.kernel_size())
                                       .stride(o.stride())
                                       .padding(padding)
                                       .dilation(o.dilation())
                                       .groups(o.groups())
                                       .bias(false)));
  seq->push_back(torch::nn::BatchNorm2d(
      torch::nn::BatchNorm2dOptions(o.out_channels()).eps(o.bn_eps()).momentum(o.bn_momentum())));
  if (o.activation() != ActivationKind::kNone) seq->push_back(Activation(o.activation()));
  return seq;
}

SqueezeExcitationImpl::SqueezeExcitationImpl(const SqueezeExcitationOptions& options)
    : options_(options) {
  fc1_ = register_module(
      "fc1", torch::nn::Conv2d(torch::nn::Conv2dOptions(options.input_channels(),
                                                        options.squeeze_channels(), 1)));
  fc2_ = register_module(
      "fc2", torch::nn::Conv2d(torch::nn::Conv2dOptions(options.squeeze_channels(),
                                                        options.input_channels(), 1)));
}

torch::Tensor SqueezeExcitationImpl::forward(torch::Tensor x) {
  auto scale = torch::adaptive_avg_pool2d(x, {1, 1});
  scale = apply_activation(fc1_->forward(scale), options_.activation());
  scale = apply_activation(fc2_->forward(scale), options_.scale_activation());
  return x * scale;
}

SeparableConv2dImpl::SeparableConv2dImpl(const SeparableConv2dOptions& o) {
  depthwise_ = register_module(
      "depthwise",
      torch::nn::Conv2d(torch::nn::Conv2dOptions(o.in_channels(), o.in_channels(), o.kernel_size())
                            .stride(o.stride())
                            .padding((o.kernel_size() - 1) / 2)
                            .groups(o.in_channels())
                            .bias(o.bias())));
  pointwise_ = register_module(
      "pointwise",
      torch::nn::Conv2d(
          torch::nn::Conv2dOptions(o.in_channels(), o.out_channels(), 1).bias(o.bias())));
}

torch::Tensor SeparableConv2dImpl::forward(torch::Tensor x) {
  return pointwise_->forward(depthwise_->forward(x));
}

SequentialBlock separable_conv_bn_act(const SeparableConv2dOptions& options,
                                      ActivationKind activation) {
  SequentialBlock seq;
  seq->push_back(SeparableConv2d(options));
  seq->push_back(torch::nn::BatchNorm2d(options.out_channels()));
  if (activation != ActivationKind::kNone) seq->push_back(Activation(activation));
  return seq;
}

torch::Tensor stochastic_depth(const torch::Tensor& x, double p, StochasticDepthMode mode,
                               bool training) {
  HP_CHECK(p >= 0.0 && p <= 1.0, ConfigError, "stochastic depth probability ", p,
           " is invalid: expected a value in [0, 1]");
  if (!training || p == 0.0) return x;
  const double survival = 1.0 - p;
  std::vector<int64_t> shape(static_cast<size_t>(x.dim()), 1);
  if (mode == StochasticDepthMode::kRow) shape[0] = x.size(0);
  auto noise = torch::empty(shape, x.options()).bernoulli_(survival);
  if (survival > 0.0) noise.div_(survival);
  return x * noise;
}

void init_weights(torch::nn::Module& module, LinearInit linear) {
  torch::NoGradGuard no_grad;
  for (const auto& child : module.modules(/*include_self=*/false)) {
    if (auto* conv = child->as<torch::nn::Conv2d>()) {
      torch::nn::init::kaiming_normal_(conv->weight, 0.0, torch::kFanOut, torch::kReLU);
      if (conv->bias.defined()) conv->bias.zero_();
    } else if (auto* bn = child->as<torch::nn::BatchNorm2d>()) {
      if (bn->weight.defined()) bn->weight.fill_(1.0);
      if (bn->bias.defined()) bn->bias.zero_();
    } else if (auto* gn = child->as<torch::nn::GroupNorm>()) {
      if (gn->weight.defined()) gn->weight.fill_(1.0);
      if (gn->bias.defined()) gn->bias.zero_();
    } else if (auto* fc = child->as<torch::nn::Linear>()) {
      if (linear == LinearInit::kUniformFanOut) {
        const double range = 1.0 / std::sqrt(static_cast<double>(fc->options.out_features()));
        fc->weight.uniform_(-range, range);
        if (fc->bias.defined()) fc->bias.zero_();
      } else if (linear == LinearInit::kNormal) {
        fc->weight.normal_(0.0, 0.01);
        if (fc->bias.defined()) fc->bias.zero_();
      }
    }
  }
}

void check_head_options(int64_t num_classes, int64_t in_channels, double dropout) {
  HP_CHECK(num_classes >= 1, ConfigError, "num_classes must be >= 1, got ", num_classes);
  HP_CHECK(in_channels >= 1, ConfigError, "in_channels must be >= 1, got ", in_channels);
  HP_CHECK(dropout >= 0.0 && dropout < 1.0, ConfigError, "dropout ", dropout, " is invalid: expected a value in [0, 1)");
}

}  // namespace hemapath
