#pragma once
/// The training loss of a classifier, and of its loss-prediction head when it has one (a ResNet
/// built with extra.loss_net: models/loss_net.h): cross-entropy + weight x the head's ranking
/// loss, with the head's gradient into the backbone stopped from a set epoch on. Used by every
/// classifier training loop, so a model trained by `hemapath train` has a working head for
/// `al query --strategy learned_loss`.
#include <torch/torch.h>

#include <nlohmann/json.hpp>

#include "hemapath/core/config.h"
#include "hemapath/models/classifier.h"

namespace hemapath {

/// train.loss_head: the loss-prediction term (ignored for models without a head).
struct LossHeadConfig {
  double weight = 1.0;   ///< lambda of classification + lambda * ranking loss
  double margin = 1.0;   ///< of the ranking loss
  /// 1-based epoch from which the head reads detached features, so its gradient no longer
  /// shapes the backbone (the paper stops it at 120 of 200 epochs); 0: at 60% of the epochs.
  int detach_epoch = 0;
  static LossHeadConfig from_config(const ConfigNode& node);
  nlohmann::json to_json() const;
  /// The 0-based first epoch with detached features in a run of `epochs`.
  int first_detached_epoch(int epochs) const;
};

/// The terms of one training step.
struct LossTerms {
  torch::Tensor total;            ///< classification + weight * ranking (0-d)
  torch::Tensor classification;   ///< mean cross-entropy as `loss_options` define it (0-d)
  torch::Tensor ranking;          ///< ranking loss of the head (undefined without one)
  torch::Tensor sample_loss;      ///< [B] per-sample cross-entropy, detached
  torch::Tensor predicted_loss;   ///< [B] the head's output, detached (undefined without one)
  torch::Tensor logits;           ///< [B, C]
};

/// The loss of one batch of `images` [B, 3, H, W] with class `targets` [B]. With a loss head and
/// `detach_features` the head reads detached stage features, so `ranking` has no gradient path
/// into the backbone. A batch of one sample has no pair to rank: its ranking term is 0.
LossTerms classification_loss_terms(ClassifierImpl& model, const torch::Tensor& images, const torch::Tensor& targets,
                                    const torch::nn::functional::CrossEntropyFuncOptions& loss_options,
                                    const LossHeadConfig& head, bool detach_features);

}  // namespace hemapath
