#pragma once
/// MobileNetV3 (Howard et al. 2019), Large and Small, as torchvision's. State-dict names and
/// shapes equal torchvision's: `features.0` stem {0: conv, 1: bn}, `features.{1..n}.block.{j}`
/// inverted-residual blocks (expand, depthwise, SE with `fc1`/`fc2`, project), `features.{n+1}`
/// the last 1x1 conv, `classifier.{0,3}` the two linear layers.
#include <torch/torch.h>

#include <cstdint>
#include <string>

#include "hemapath/models/classifier.h"
#include "hemapath/models/layers.h"

namespace hemapath {

/// Which of the two published configurations.
enum class MobileNetV3Variant { kLarge, kSmall };

/// Options of `MobileNetV3`.
struct MobileNetV3Options {
  explicit MobileNetV3Options(MobileNetV3Variant variant = MobileNetV3Variant::kLarge)
      : variant_(variant) {}
  TORCH_ARG(MobileNetV3Variant, variant);
  TORCH_ARG(int64_t, num_classes) = 1000;
  TORCH_ARG(int64_t, in_channels) = 3;
  /// Channel multiplier; channels are rounded with `make_divisible(c * width_mult, 8)`.
  TORCH_ARG(double, width_mult) = 1.0;
  /// Dropout between the two linear layers of the classifier.
  TORCH_ARG(double, dropout) = 0.2;
};

/// One bottleneck row of the MobileNetV3 tables (channels before width scaling).
struct InvertedResidualConfig {
  int64_t in_channels;
  int64_t kernel_size;
  int64_t expanded_channels;
  int64_t out_channels;
  bool use_se;
  ActivationKind activation;  ///< kReLU ("RE") or kHardswish ("HS")
  int64_t stride;
};

/// Inverted residual. `block`: {1x1 expand conv-bn-act (only if expanded != in), k x k
/// depthwise conv-bn-act (stride), SqueezeExcitation (squeeze = make_divisible(expanded / 4),
/// ReLU, hardsigmoid; only if use_se), 1x1 project conv-bn}. BatchNorm eps 1e-3, momentum 0.01.
/// The residual is added when stride is 1 and in == out channels.
class InvertedResidualImpl : public torch::nn::Module {
 public:
  /// `config` channels are the final (already width-scaled) ones.
  explicit InvertedResidualImpl(const InvertedResidualConfig& config);
  torch::Tensor forward(torch::Tensor x);

 private:
  torch::nn::Sequential block_{nullptr};
  bool use_residual_;
};
TORCH_MODULE(InvertedResidual);

/// MobileNetV3 classifier: `features` (3x3/2 stem conv-bn-hardswish, bottlenecks, 1x1 conv to
/// 6x the last bottleneck's width, overall /32), global average pool, `classifier` {0: Linear
/// (-> 1280 Large / 1024 Small), 1: hardswish, 2: Dropout, 3: Linear}.
/// [N, in_channels, H, W] (H, W >= 32) -> logits [N, num_classes].
class MobileNetV3Impl : public ClassifierImpl {
 public:
  explicit MobileNetV3Impl(const MobileNetV3Options& options = MobileNetV3Options());
  torch::Tensor forward(torch::Tensor x) override;
  torch::Tensor forward_features(torch::Tensor x) override;
  std::string head_prefix() const override { return "classifier.3"; }
  const MobileNetV3Options& options() const { return options_; }

 private:
  MobileNetV3Options options_;
  torch::nn::Sequential features_{nullptr};
  torch::nn::Sequential classifier_{nullptr};
};
TORCH_MODULE(MobileNetV3);

}  // namespace hemapath
