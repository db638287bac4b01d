#pragma once
/// The interface every semantic-segmentation network implements.
#include <torch/torch.h>

#include <nlohmann/json.hpp>

#include <cstdint>
#include <memory>
#include <string>

#include "hemapath/models/classifier.h"

namespace hemapath {

/// Options every segmenter takes.
struct SegmenterOptions {
  /// Output channels: 1 for binary segmentation (one logit, sigmoid / BCE), else one per class
  /// (softmax / cross-entropy).
  int64_t num_classes = 1;
  int64_t in_channels = 3;
  /// Architecture-specific options (documented per arch in segmenter_registry.h); unknown or
  /// mistyped keys -> ConfigError naming the key.
  nlohmann::json extra = nlohmann::json::object();
};

/// Base of every segmenter: float images [N, in_channels, H, W], H and W multiples of
/// `output_stride()`, -> per-pixel logits [N, num_classes, H, W] at the input resolution.
class SegmenterImpl : public torch::nn::Module {
 public:
  virtual torch::Tensor forward(torch::Tensor x) = 0;
  /// The factor H and W must be multiples of (the network's total downsampling): the trainer and
  /// predictors pad inputs to it. InputError from `forward` otherwise.
  virtual int64_t output_stride() const = 0;
  /// Name of the submodule holding a classifier backbone (e.g. "encoder", "backbone"), whose
  /// parameter names below it are the classifier's (torchvision's): what `--freeze` freezes and
  /// `--pretrained` loads into. Empty when the network has none.
  virtual std::string encoder_prefix() const { return ""; }
  /// The classifier backbone under `encoder_prefix()` (its head removed), or null.
  ClassifierPtr encoder() const;

 protected:
  /// InputError unless `x` is [N, in_channels, H, W] with H, W positive multiples of
  /// `output_stride()`; the message names the size and the nearest valid padded size.
  void check_input(const torch::Tensor& x, int64_t in_channels) const;
};

using SegmenterPtr = std::shared_ptr<SegmenterImpl>;

/// Removes a classifier's head from its registered submodules so that, used as a segmentation
/// backbone, its parameters are the backbone's only: nothing untrained and gradient-less to
/// freeze, count or synchronise. Its names are otherwise unchanged. ConfigError when the head
/// is not a top-level submodule (e.g. MobileNetV3's "classifier.3"). Returns `classifier`.
ClassifierPtr strip_classifier_head(ClassifierPtr classifier);

}  // namespace hemapath
