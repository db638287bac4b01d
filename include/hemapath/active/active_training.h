#pragma once
/// Training one active-learning cycle's classifier on the labelled part of a pool: a ResNet
/// (optionally with attention, train/registry extra options) whose loss head learns to rank the
/// samples' losses (models/loss_net.h), and, by option, active iterative augmentation: every
/// epoch the hardest labelled samples of the previous epoch are added again as freshly
/// augmented copies.
#include <cstdint>
#include <string>
#include <vector>

#include <c10/core/Device.h>
#include <torch/torch.h>

#include "hemapath/core/config.h"
#include "hemapath/data/classification_dataset.h"
#include "hemapath/models/resnet.h"
#include "hemapath/train/train_config.h"

namespace hemapath {

/// active.loss_head: the loss-prediction term.
struct LossHeadConfig {
  double weight = 1.0;   ///< lambda of classification + lambda * ranking loss
  double margin = 1.0;   ///< of the ranking loss
  /// 1-based epoch from which the loss head reads detached features, so its gradient no longer
  /// shapes the backbone (the paper stops it at 120 of 200 epochs); 0: the same 60% of the epochs.
  int detach_epoch = 0;
  int64_t width = 128;
  static LossHeadConfig from_config(const ConfigNode& node);
  nlohmann::json to_json() const;
  /// The 0-based first epoch with detached features in a run of `epochs`.
  int first_detached_epoch(int epochs) const;
};

/// active.hard_augment: active iterative augmentation.
struct HardAugmentConfig {
  double fraction = 0.2;  ///< share of the labelled samples counted as hard each epoch
  int copies = 1;         ///< augmented copies added of each hard sample
  std::string by = "loss";  ///< loss (last epoch's true loss) or predicted_loss (the loss head's)
  static HardAugmentConfig from_config(const ConfigNode& node);
  nlohmann::json to_json() const;
};

/// One cycle's training settings.
struct ActiveTrainOptions {
  bool loss_head = false;     ///< train a loss head jointly (the model gets extra.loss_net)
  bool hard_augment = false;  ///< active iterative augmentation
  LossHeadConfig head;
  HardAugmentConfig hard;
  uint64_t seed = 1;          ///< initialisation, order and augmentation
  c10::Device device = c10::kCPU;
};

/// The terms of one training step.
struct ActiveLossTerms {
  torch::Tensor total;            ///< classification + weight * ranking (0-d)
  torch::Tensor classification;   ///< mean cross-entropy as the config defines it (0-d)
  torch::Tensor ranking;          ///< ranking loss of the loss head (undefined without one)
  torch::Tensor sample_loss;      ///< [B] per-sample cross-entropy, detached
  torch::Tensor predicted_loss;   ///< [B] the loss head's output, detached (undefined without one)
  torch::Tensor logits;           ///< [B, C]
};

/// The loss of one batch. With a loss head and `detach_features`, the head reads detached stage
/// features, so `ranking` has no gradient path into the backbone. A batch of one sample has no
/// pair to rank: its ranking term is 0.
ActiveLossTerms active_loss(ResNetImpl& model, const torch::Tensor& images, const torch::Tensor& targets,
                            const torch::nn::functional::CrossEntropyFuncOptions& loss_options,
                            const LossHeadConfig& head, bool detach_features);

/// The augmented copies active iterative augmentation adds to an epoch: the ceil(fraction * n)
/// `labelled` samples with the highest `hardness` (indexed by dataset index; NaN = not yet
/// measured, never picked; ties to the lower index), each `copies` times. Empty when fraction
/// or copies is 0.
std::vector<size_t> hard_sample_copies(const std::vector<size_t>& labelled, const std::vector<double>& hardness,
                                       double fraction, int copies);

/// The model config's ResNet options with a loss head added when `loss_head`; ConfigError when the
/// architecture is not a ResNet (only it has the stages the loss head reads).
ClassifierOptions active_model_options(const TrainConfig& config, int num_classes, bool loss_head);

/// Trains a fresh model of `config`'s architecture for config.epochs on `labelled` (dataset
/// indices; `labels` holds every sample's class), with config's optimiser, schedule, augmentation,
/// label smoothing and imbalance handling. The dataset's normalisation must be final. Returns
/// the model in eval mode. InputError when fewer than 2 samples are labelled.
std::shared_ptr<ResNetImpl> train_active_model(const TrainConfig& config, const ActiveTrainOptions& options,
                                               const ClassificationDataset& dataset,
                                               const std::vector<size_t>& labelled, const std::vector<int>& labels,
                                               int num_classes);

}  // namespace hemapath
