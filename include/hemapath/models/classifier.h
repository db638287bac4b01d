#pragma once
/// The classifier interface every image-classification network implements.
#include <torch/torch.h>

#include <nlohmann/json.hpp>

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace hemapath {

/// Options every classifier takes.
struct ClassifierOptions {
  int64_t num_classes = 1000;
  int64_t in_channels = 3;
  double dropout = -1;  ///< < 0: the architecture's default (torchvision's)
  /// Architecture-specific options (documented per arch in registry.h); unknown keys ->
  /// ConfigError naming the key.
  nlohmann::json extra = nlohmann::json::object();
};

/// Base of every classifier: float images [N, in_channels, H, W] -> logits [N, num_classes].
class ClassifierImpl : public torch::nn::Module {
 public:
  virtual torch::Tensor forward(torch::Tensor x) = 0;
  /// Prefix of the final classification layer's parameters ("fc" for ResNet, "classifier"
  /// for EfficientNet, "classifier.3" for MobileNetV3 ...): re-initialised when fine-tuning to
  /// new classes. Match it with a trailing '.', e.g. "classifier.3.weight".
  virtual std::string head_prefix() const = 0;
  /// The backbone's feature map before global pooling and the head, [N, C, h, w]: what an
  /// autoencoder trains as its encoder.
  virtual torch::Tensor forward_features(torch::Tensor x) = 0;

  /// A stage: the parameter-name prefixes (each matched with a trailing '.') of one step of the
  /// backbone. `--freeze K` freezes the first K stages; all of them are the backbone.
  using Stage = std::vector<std::string>;
  /// The backbone's stages from input to output, the head excluded. Default: each top-level
  /// child with parameters other than the head's, with a "features" sequence split into its
  /// children (torchvision's layout for EfficientNet, MobileNetV3 ...).
  virtual std::vector<Stage> stages() const;

  /// The backbone's feature maps after each resolution step, input to output: what a U-Net
  /// takes as its skip connections. Each is [N, C_i, H / s_i, W / s_i]; ResNet and
  /// EfficientNet give five, at strides s = 2, 4, 8, 16, 32 (the last is `forward_features`).
  /// Default: ConfigError "<arch> cannot serve as a U-Net encoder".
  virtual std::vector<torch::Tensor> forward_stage_features(torch::Tensor x);
};

using ClassifierPtr = std::shared_ptr<ClassifierImpl>;

}  // namespace hemapath
