#pragma once
/// Building blocks shared by the classifiers: conv-bn-activation, squeeze-excitation,
/// depthwise-separable convolution, stochastic depth, torchvision's channel rounding and
/// weight initialisation. Blocks are laid out like torchvision's so weights load by name.
#include <torch/torch.h>

#include <cstdint>

namespace hemapath {

/// torchvision's `_make_divisible`: rounds `value` to the nearest multiple of `divisor`, at
/// least `min_value` (`divisor` when <= 0), and adds one `divisor` when rounding down lost more
/// than 10%. Used for channel counts so they match torchvision's for every width multiplier.
int64_t make_divisible(double value, int64_t divisor = 8, int64_t min_value = 0);

/// Element-wise activations used by the blocks.
enum class ActivationKind { kNone, kReLU, kSiLU, kHardswish, kSigmoid, kHardsigmoid };

/// Applies `kind` to `x` (kNone returns `x`).
torch::Tensor apply_activation(const torch::Tensor& x, ActivationKind kind);

/// A parameter-free activation module: it takes a numbered slot in a Sequential exactly where
/// torchvision has its activation, so the indices of the layers after it agree.
class ActivationImpl : public torch::nn::Module {
 public:
  explicit ActivationImpl(ActivationKind kind = ActivationKind::kReLU) : kind_(kind) {}
  torch::Tensor forward(torch::Tensor x) { return apply_activation(x, kind_); }
  ActivationKind kind() const { return kind_; }

 private:
  ActivationKind kind_;
};
TORCH_MODULE(Activation);

/// A Sequential with a plain Tensor -> Tensor forward, so it can be nested inside another
/// Sequential as torchvision nests nn.Sequential (LibTorch's own forward is a template,
/// which a Sequential cannot store).
class SequentialBlockImpl : public torch::nn::SequentialImpl {
 public:
  using SequentialImpl::SequentialImpl;
  torch::Tensor forward(torch::Tensor x) { return SequentialImpl::forward(std::move(x)); }
};
TORCH_MODULE(SequentialBlock);

/// Options of `conv_bn_act`.
struct ConvBnActOptions {
  ConvBnActOptions(int64_t in_channels, int64_t out_channels, int64_t kernel_size)
      : in_channels_(in_channels), out_channels_(out_channels), kernel_size_(kernel_size) {}
  TORCH_ARG(int64_t, in_channels);
  TORCH_ARG(int64_t, out_channels);
  TORCH_ARG(int64_t, kernel_size);
  TORCH_ARG(int64_t, stride) = 1;
  TORCH_ARG(int64_t, groups) = 1;
  TORCH_ARG(int64_t, dilation) = 1;
  TORCH_ARG(ActivationKind, activation) = ActivationKind::kReLU;
  TORCH_ARG(double, bn_eps) = 1e-5;
  TORCH_ARG(double, bn_momentum) = 0.1;
};

/// torchvision's Conv2dNormActivation: Sequential {0: Conv2d without bias, padded to keep the
/// size at stride 1; 1: BatchNorm2d; 2: activation (omitted for kNone)}.
SequentialBlock conv_bn_act(const ConvBnActOptions& options);

/// Options of `SqueezeExcitation`.
struct SqueezeExcitationOptions {
  SqueezeExcitationOptions(int64_t input_channels, int64_t squeeze_channels)
      : input_channels_(input_channels), squeeze_channels_(squeeze_channels) {}
  TORCH_ARG(int64_t, input_channels);
  TORCH_ARG(int64_t, squeeze_channels);
  TORCH_ARG(ActivationKind, activation) = ActivationKind::kReLU;
  TORCH_ARG(ActivationKind, scale_activation) = ActivationKind::kSigmoid;
};

/// Squeeze-and-excitation (Hu et al. 2018) as torchvision's: global average pool, `fc1`
/// (1x1 conv with bias, C -> squeeze), activation, `fc2` (squeeze -> C), scale activation,
/// then channel-wise rescaling of the input. [N, C, H, W] -> [N, C, H, W].
class SqueezeExcitationImpl : public torch::nn::Module {
 public:
  explicit SqueezeExcitationImpl(const SqueezeExcitationOptions& options);
  torch::Tensor forward(torch::Tensor x);

 private:
  SqueezeExcitationOptions options_;
  torch::nn::Conv2d fc1_{nullptr};
  torch::nn::Conv2d fc2_{nullptr};
};
TORCH_MODULE(SqueezeExcitation);

/// Options of `SeparableConv2d`.
struct SeparableConv2dOptions {
  SeparableConv2dOptions(int64_t in_channels, int64_t out_channels)
      : in_channels_(in_channels), out_channels_(out_channels) {}
  TORCH_ARG(int64_t, in_channels);
  TORCH_ARG(int64_t, out_channels);
  TORCH_ARG(int64_t, kernel_size) = 3;
  TORCH_ARG(int64_t, stride) = 1;
  TORCH_ARG(bool, bias) = false;  ///< off by default: a BatchNorm normally follows
};

/// Depthwise-separable convolution (Keras' SeparableConv2D): `depthwise` (k x k, one filter
/// per input channel, size-preserving padding, stride) then `pointwise` (1x1, in -> out).
/// Roughly k*k times fewer weights than a full k x k convolution.
class SeparableConv2dImpl : public torch::nn::Module {
 public:
  explicit SeparableConv2dImpl(const SeparableConv2dOptions& options);
  torch::Tensor forward(torch::Tensor x);

 private:
  torch::nn::Conv2d depthwise_{nullptr};
  torch::nn::Conv2d pointwise_{nullptr};
};
TORCH_MODULE(SeparableConv2d);

/// Sequential {0: SeparableConv2d (no bias), 1: BatchNorm2d, 2: activation (omitted for kNone)}.
SequentialBlock separable_conv_bn_act(const SeparableConv2dOptions& options,
                                      ActivationKind activation = ActivationKind::kReLU);

/// How stochastic depth draws its mask: one draw per sample (kRow) or one for the batch (kBatch).
enum class StochasticDepthMode { kRow, kBatch };

/// Stochastic depth (Huang et al. 2016) on a residual branch `x` [N, ...]: in training, zeroes
/// it with probability `p` and scales what survives by 1/(1-p) so the expectation is kept;
/// outside training (or p == 0) returns `x` unchanged. p must lie in [0, 1].
torch::Tensor stochastic_depth(const torch::Tensor& x, double p, StochasticDepthMode mode,
                               bool training);

/// Checks the options every classifier shares: ConfigError unless num_classes >= 1,
/// in_channels >= 1 and dropout in [0, 1).
void check_head_options(int64_t num_classes, int64_t in_channels, double dropout);

/// How `init_weights` initialises Linear layers, per torchvision model family.
enum class LinearInit {
  kDefault,        ///< keep LibTorch's default (as torchvision's ResNet)
  kUniformFanOut,  ///< U(-1/sqrt(out), 1/sqrt(out)), bias 0 (EfficientNet)
  kNormal,         ///< N(0, 0.01), bias 0 (MobileNetV3)
};

/// Initialises every submodule of `module` as torchvision does: Conv2d weights Kaiming-normal
/// (fan_out, ReLU gain) with zero bias, BatchNorm2d/GroupNorm weight 1 and bias 0, Linear per
/// `linear`.
void init_weights(torch::nn::Module& module, LinearInit linear);

}  // namespace hemapath
