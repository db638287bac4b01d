#pragma once
/// Inception-ResNet-v2 (Szegedy et al. 2017). torchvision has none; the layout and state-dict
/// names follow the widely used timm (Cadene) implementation so its weights load by name:
/// stem `conv2d_1a` .. `conv2d_4a`, `mixed_5b`, `repeat` (10 x Block35), `mixed_6a`,
/// `repeat_1` (20 x Block17), `mixed_7a`, `repeat_2` (9 x Block8), `block8`, `conv2d_7b`,
/// `classif`. Every convolution but the residual projections is a `BasicConv2d`
/// {`conv` without bias, `bn` (eps 1e-3)} followed by ReLU.
#include <torch/torch.h>

#include <cstdint>
#include <string>
#include <vector>

#include "hemapath/models/classifier.h"

namespace hemapath {

/// Options of `InceptionResNetV2`.
struct InceptionResNetV2Options {
  TORCH_ARG(int64_t, num_classes) = 1000;
  TORCH_ARG(int64_t, in_channels) = 3;
  /// Dropout before `classif`; timm's default is none, hence 0.
  TORCH_ARG(double, dropout) = 0.0;
};

/// Convolution without bias, BatchNorm (eps 1e-3), ReLU: `conv`, `bn`. Unpadded by default,
/// as the Inception stems and reductions are.
class BasicConv2dImpl : public torch::nn::Module {
 public:
  BasicConv2dImpl(int64_t in_channels, int64_t out_channels, torch::ExpandingArray<2> kernel,
                  int64_t stride = 1, torch::ExpandingArray<2> padding = 0);
  torch::Tensor forward(torch::Tensor x);

 private:
  torch::nn::Conv2d conv_{nullptr};
  torch::nn::BatchNorm2d bn_{nullptr};
};
TORCH_MODULE(BasicConv2d);

/// Which residual Inception block `InceptionResNetBlock` is.
enum class InceptionResNetBlockKind {
  k35,  ///< Block35 (35x35 grid at 299 px, 320 channels)
  k17,  ///< Block17 (17x17, 1088 channels)
  k8,   ///< Block8 (8x8, 2080 channels)
};

/// Residual Inception block: parallel `branch0..2` (Block17 and Block8 have two), their
/// concatenation projected back to the input width by `conv2d` (1x1 with bias), scaled by
/// `scale` and added to the input, then ReLU (unless `relu` is false, as for the last block).
/// [N, C, H, W] -> [N, C, H, W].
class InceptionResNetBlockImpl : public torch::nn::Module {
 public:
  InceptionResNetBlockImpl(InceptionResNetBlockKind kind, double scale, bool relu = true);
  torch::Tensor forward(torch::Tensor x);

 private:
  std::vector<torch::nn::AnyModule> branches_;
  torch::nn::Conv2d conv2d_{nullptr};
  double scale_;
  bool relu_;
};
TORCH_MODULE(InceptionResNetBlock);

/// A block of parallel branches whose outputs are concatenated along channels: `mixed_5b`
/// (192 -> 320), `mixed_6a` (320 -> 1088, /2) and `mixed_7a` (1088 -> 2080, /2).
class InceptionMixedImpl : public torch::nn::Module {
 public:
  /// `name`: "mixed_5b", "mixed_6a" or "mixed_7a".
  explicit InceptionMixedImpl(const std::string& name);
  torch::Tensor forward(torch::Tensor x);

 private:
  std::vector<torch::nn::AnyModule> branches_;
};
TORCH_MODULE(InceptionMixed);

/// Inception-ResNet-v2 classifier: unpadded stem (/8), mixed_5b, 10 Block35 (scale 0.17),
/// mixed_6a (/2), 20 Block17 (0.10), mixed_7a (/2), 9 Block8 (0.20), a last Block8 without
/// ReLU, 1x1 conv to 1536, global average pool, optional dropout, `classif`. The unpadded
/// strided convolutions need H, W >= 75 px (299 is the reference size).
/// [N, in_channels, H, W] (H, W >= 75) -> logits [N, num_classes].
class InceptionResNetV2Impl : public ClassifierImpl {
 public:
  explicit InceptionResNetV2Impl(const InceptionResNetV2Options& options = {});
  torch::Tensor forward(torch::Tensor x) override;
  torch::Tensor forward_features(torch::Tensor x) override;
  std::string head_prefix() const override { return "classif"; }
  const InceptionResNetV2Options& options() const { return options_; }

 private:
  InceptionResNetV2Options options_;
  // Registered at the top level under timm's names; kept here in the order they run.
  std::vector<torch::nn::AnyModule> stages_;
  torch::nn::Linear classif_{nullptr};
};
TORCH_MODULE(InceptionResNetV2);

}  // namespace hemapath
