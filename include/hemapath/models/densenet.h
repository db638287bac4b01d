#pragma once
/// DenseNet (Huang et al. 2017) as torchvision's, BC variant (1x1 bottleneck, compression
/// 0.5). State-dict names and shapes equal torchvision's: `features.conv0`, `features.norm0`,
/// `features.denseblock{1..4}.denselayer{i}.{norm1,conv1,norm2,conv2}`,
/// `features.transition{1..3}.{norm,conv}`, `features.norm5`, `classifier`.
#include <torch/torch.h>

#include <cstdint>
#include <string>
#include <vector>

#include "hemapath/models/classifier.h"

namespace hemapath {

/// Options of `DenseNet`.
struct DenseNetOptions {
  /// `depth`: 121, 169 or 201 (growth 32, stem 64) or 161 (growth 48, stem 96).
  explicit DenseNetOptions(int64_t depth = 121) : depth_(depth) {}
  TORCH_ARG(int64_t, depth);
  TORCH_ARG(int64_t, num_classes) = 1000;
  TORCH_ARG(int64_t, in_channels) = 3;
  /// Dropout before `classifier`; torchvision's DenseNet has none, hence 0.
  TORCH_ARG(double, dropout) = 0.0;
};

/// Bottleneck layer of a dense block: `norm1`, ReLU, `conv1` (1x1, in -> bn_size * growth),
/// `norm2`, ReLU, `conv2` (3x3, -> growth). [N, in, H, W] -> [N, growth, H, W]: only the new
/// features; the block concatenates them to its input.
class DenseLayerImpl : public torch::nn::Module {
 public:
  DenseLayerImpl(int64_t in_channels, int64_t growth_rate, int64_t bn_size);
  torch::Tensor forward(torch::Tensor x);

 private:
  torch::nn::BatchNorm2d norm1_{nullptr}, norm2_{nullptr};
  torch::nn::Conv2d conv1_{nullptr}, conv2_{nullptr};
};
TORCH_MODULE(DenseLayer);

/// `num_layers` dense layers `denselayer{1..n}`, each fed the concatenation of the block's
/// input and every earlier layer's output. [N, in, H, W] -> [N, in + n * growth, H, W].
class DenseBlockImpl : public torch::nn::Module {
 public:
  DenseBlockImpl(int64_t num_layers, int64_t in_channels, int64_t growth_rate, int64_t bn_size);
  torch::Tensor forward(torch::Tensor x);

 private:
  std::vector<DenseLayer> layers_;
};
TORCH_MODULE(DenseBlock);

/// DenseNet classifier: `features` (7x7/2 stem, 3x3/2 max-pool, four dense blocks joined by
/// transitions {norm, ReLU, 1x1 conv halving the channels, 2x2/2 average pool}, `norm5`;
/// overall /32), ReLU, global average pool, optional dropout, `classifier`.
/// [N, in_channels, H, W] (H, W >= 32) -> logits [N, num_classes].
class DenseNetImpl : public ClassifierImpl {
 public:
  explicit DenseNetImpl(const DenseNetOptions& options);
  torch::Tensor forward(torch::Tensor x) override;
  torch::Tensor forward_features(torch::Tensor x) override;
  std::vector<Stage> stages() const override;
  std::string head_prefix() const override { return "classifier"; }
  const DenseNetOptions& options() const { return options_; }

 private:
  DenseNetOptions options_;
  torch::nn::Sequential features_{nullptr};
  torch::nn::Linear classifier_{nullptr};
};
TORCH_MODULE(DenseNet);

}  // namespace hemapath
