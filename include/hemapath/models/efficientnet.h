#pragma once
/// EfficientNet (Tan & Le 2019) as torchvision's, B0 by default. State-dict names and shapes
/// equal torchvision's: `features.0` stem {0: conv, 1: bn}, `features.{1..7}.{i}.block.{j}`
/// MBConv blocks (expand, depthwise, SE with `fc1`/`fc2`, project), `features.8` head conv,
/// `classifier.1` the linear layer after dropout at `classifier.0`.
#include <torch/torch.h>

#include <cstdint>
#include <string>
#include <vector>

#include "hemapath/models/classifier.h"

namespace hemapath {

/// Options of `EfficientNet`; the defaults make B0.
struct EfficientNetOptions {
  TORCH_ARG(int64_t, num_classes) = 1000;
  TORCH_ARG(int64_t, in_channels) = 3;
  /// Channel multiplier (B0 1.0, B1 1.0, B2 1.1, B3 1.2 ...), rounded to multiples of 8.
  TORCH_ARG(double, width_mult) = 1.0;
  /// Block-count multiplier (B0 1.0, B1 1.1, B2 1.2, B3 1.4 ...), rounded up per stage.
  TORCH_ARG(double, depth_mult) = 1.0;
  /// Dropout before the linear layer (B0 0.2).
  TORCH_ARG(double, dropout) = 0.2;
  /// Stochastic depth of the last block; block k of n uses prob * k / n (first block 0).
  TORCH_ARG(double, stochastic_depth_prob) = 0.2;
};

/// Mobile inverted bottleneck with squeeze-excitation. `block`: {1x1 expand conv-bn-SiLU
/// (only if expand_ratio != 1), k x k depthwise conv-bn-SiLU (stride), SqueezeExcitation
/// (squeeze = max(1, in / 4), SiLU, sigmoid), 1x1 project conv-bn}. The residual is added, with
/// row-wise stochastic depth in training, when stride is 1 and in == out channels.
class MBConvImpl : public torch::nn::Module {
 public:
  MBConvImpl(int64_t in_channels, int64_t out_channels, int64_t expand_ratio,
             int64_t kernel_size, int64_t stride, double stochastic_depth_prob);
  torch::Tensor forward(torch::Tensor x);
  /// Drop probability of the residual branch in training.
  double stochastic_depth_prob() const { return stochastic_depth_prob_; }

 private:
  torch::nn::Sequential block_{nullptr};
  bool use_residual_;
  double stochastic_depth_prob_;
};
TORCH_MODULE(MBConv);

/// EfficientNet classifier: `features` (stem /2, seven MBConv stages, 1x1 head conv, overall
/// /32), global average pool, `classifier` {0: Dropout, 1: Linear}.
/// [N, in_channels, H, W] (H, W >= 32) -> logits [N, num_classes].
class EfficientNetImpl : public ClassifierImpl {
 public:
  explicit EfficientNetImpl(const EfficientNetOptions& options = {});
  torch::Tensor forward(torch::Tensor x) override;
  torch::Tensor forward_features(torch::Tensor x) override;
  /// The output of the last `features` child before each stride change and of the last one:
  /// B0's features.1 /2 (16 ch), .2 /4 (24), .3 /8 (40), .5 /16 (112), .8 /32 (1280).
  std::vector<torch::Tensor> forward_stage_features(torch::Tensor x) override;
  std::string head_prefix() const override { return "classifier"; }
  const EfficientNetOptions& options() const { return options_; }

 private:
  EfficientNetOptions options_;
  torch::nn::Sequential features_{nullptr};
  torch::nn::Sequential classifier_{nullptr};
  /// Indices of the `features` children whose outputs `forward_stage_features` returns.
  std::vector<size_t> stage_ends_;
};
TORCH_MODULE(EfficientNet);

}  // namespace hemapath
