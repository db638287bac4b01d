#pragma once
/// ResNet (He et al. 2016) as torchvision's: v1.5, the stride of a bottleneck block on its 3x3
/// convolution. State-dict names and shapes equal torchvision's (`conv1`, `bn1`,
/// `layer{1..4}.{i}.conv{1,2,3}`, `bn{1,2,3}`, `downsample.{0,1}`, `fc`), so its weights load
/// by name.
#include <torch/torch.h>

#include <cstdint>
#include <string>
#include <vector>

#include "hemapath/models/attention.h"
#include "hemapath/models/classifier.h"
#include "hemapath/models/loss_net.h"

namespace hemapath {

/// Options of `ResNet`.
struct ResNetOptions {
  /// `depth`: 18 or 34 (basic blocks), 50, 101 or 152 (bottleneck blocks).
  explicit ResNetOptions(int64_t depth = 18) : depth_(depth) {}
  TORCH_ARG(int64_t, depth);
  TORCH_ARG(int64_t, num_classes) = 1000;
  TORCH_ARG(int64_t, in_channels) = 3;
  /// Dropout before `fc`; torchvision's ResNet has none, hence 0.
  TORCH_ARG(double, dropout) = 0.0;
  /// Zero the last BatchNorm weight of every block so each starts as the identity.
  TORCH_ARG(bool, zero_init_residual) = false;
  /// torchvision's `replace_stride_with_dilation` for layer2, layer3, layer4: a true entry keeps
  /// that stage at its input resolution and dilates its 3x3 convolutions instead (DeepLab's
  /// atrous backbone; {false, true, true} gives output stride 8). Parameter shapes are unchanged.
  TORCH_ARG(std::vector<bool>, replace_stride_with_dilation) = std::vector<bool>{false, false, false};
  /// An attention module (attention.h) on every block's residual branch, before the shortcut is
  /// added, registered as `attention` so torchvision's names stay as they are.
  TORCH_ARG(AttentionKind, attention) = AttentionKind::kNone;
  TORCH_ARG(int64_t, attention_reduction) = 16;  ///< r of SE and CBAM
  /// A loss-prediction head (`loss_net`, loss_net.h) over layer1..layer4, for active learning.
  TORCH_ARG(bool, loss_net) = false;
  TORCH_ARG(int64_t, loss_net_width) = 128;
};

/// What one pass of a ResNet gives the active-learning code.
struct ResNetOutputs {
  torch::Tensor logits;                 ///< [N, num_classes]
  torch::Tensor embedding;              ///< [N, C] globally pooled layer4 features (before dropout and fc)
  std::vector<torch::Tensor> stages;    ///< layer1 .. layer4 outputs, what the loss head reads
};

/// Two 3x3 convolutions (ResNet-18/34): `conv1` (stride), `bn1`, `conv2`, `bn2`, and a
/// `downsample` {0: 1x1 conv, 1: BatchNorm2d} on the shortcut when the shape changes.
/// `dilation` > 1 dilates both 3x3 convolutions (padding = dilation): torchvision refuses it for
/// basic blocks; hemapath allows it so ResNet-18/34 can serve as dilated segmentation backbones.
class BasicBlockImpl : public torch::nn::Module {
 public:
  static constexpr int64_t kExpansion = 1;
  BasicBlockImpl(int64_t in_channels, int64_t planes, int64_t stride, int64_t dilation = 1,
                 AttentionKind attention = AttentionKind::kNone, int64_t reduction = 16);
  torch::Tensor forward(torch::Tensor x);
  /// The BatchNorm closing the residual branch (zeroed by `zero_init_residual`).
  torch::nn::BatchNorm2d last_bn() const { return bn2_; }

 private:
  torch::nn::Conv2d conv1_{nullptr}, conv2_{nullptr};
  torch::nn::BatchNorm2d bn1_{nullptr}, bn2_{nullptr};
  torch::nn::Sequential downsample_{nullptr};
  std::shared_ptr<AttentionImpl> attention_;
};
TORCH_MODULE(BasicBlock);

/// 1x1 reduce, 3x3 (stride), 1x1 expand x4 (ResNet-50 and deeper): `conv1..3`, `bn1..3`,
/// `downsample` as in `BasicBlock`. `dilation` dilates the 3x3 convolution (as torchvision's).
class BottleneckImpl : public torch::nn::Module {
 public:
  static constexpr int64_t kExpansion = 4;
  BottleneckImpl(int64_t in_channels, int64_t planes, int64_t stride, int64_t dilation = 1,
                 AttentionKind attention = AttentionKind::kNone, int64_t reduction = 16);
  torch::Tensor forward(torch::Tensor x);
  /// The BatchNorm closing the residual branch (zeroed by `zero_init_residual`).
  torch::nn::BatchNorm2d last_bn() const { return bn3_; }

 private:
  torch::nn::Conv2d conv1_{nullptr}, conv2_{nullptr}, conv3_{nullptr};
  torch::nn::BatchNorm2d bn1_{nullptr}, bn2_{nullptr}, bn3_{nullptr};
  torch::nn::Sequential downsample_{nullptr};
  std::shared_ptr<AttentionImpl> attention_;
};
TORCH_MODULE(Bottleneck);

/// ResNet classifier: 7x7/2 stem, 3x3/2 max-pool, four stages (/4 .. /32), global average
/// pool, `fc`. [N, in_channels, H, W] (H, W >= 32) -> logits [N, num_classes].
class ResNetImpl : public ClassifierImpl {
 public:
  explicit ResNetImpl(const ResNetOptions& options);
  torch::Tensor forward(torch::Tensor x) override;
  torch::Tensor forward_features(torch::Tensor x) override;
  /// {relu(bn1(conv1)) /2, layer1 /4, layer2 /8, layer3 /16, layer4 /32}; a stage whose stride
  /// is replaced by dilation keeps its input's stride (e.g. /8, /8 for layer3, layer4).
  std::vector<torch::Tensor> forward_stage_features(torch::Tensor x) override;
  std::vector<Stage> stages() const override;
  std::string head_prefix() const override { return "fc"; }
  const ResNetOptions& options() const { return options_; }

  /// Logits, pooled embedding and stage outputs of one pass (forward's logits).
  ResNetOutputs forward_all(torch::Tensor x);
  /// The classification head on pooled embeddings [N, C] -> logits; `sample_dropout` applies the
  /// head's dropout whatever the mode, which is what MC-dropout sampling needs.
  torch::Tensor classify_embedding(const torch::Tensor& embedding, bool sample_dropout);
  /// The loss head (null unless options.loss_net).
  LossNet loss_net() const { return loss_net_; }

 private:
  /// Global average pool of `features` to [N, C], as a plain tensor.
  static torch::Tensor pooled(const torch::Tensor& features);
  template <typename Block>
  torch::nn::Sequential make_stage(int64_t& in_channels, int64_t& dilation, int64_t planes,
                                   int64_t blocks, int64_t stride, bool dilate);

  ResNetOptions options_;
  torch::nn::Conv2d conv1_{nullptr};
  torch::nn::BatchNorm2d bn1_{nullptr};
  torch::nn::Sequential layer1_{nullptr}, layer2_{nullptr}, layer3_{nullptr}, layer4_{nullptr};
  torch::nn::Linear fc_{nullptr};
  LossNet loss_net_{nullptr};
};
TORCH_MODULE(ResNet);

}  // namespace hemapath
