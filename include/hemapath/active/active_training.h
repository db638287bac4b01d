#pragma once
/// Training one active-learning cycle's classifier on the labelled part of a pool: a ResNet
/// (optionally with attention, models/registry.h extra options) whose loss head learns to rank
/// the samples' losses (train/loss_prediction.h), and, by option, active iterative augmentation: every
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
#include "hemapath/train/loss_prediction.h"
#include "hemapath/train/train_config.h"

namespace hemapath {

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
  bool loss_head = false;     ///< train a loss head jointly (the model gets extra.loss_net; train.loss_head)
  bool hard_augment = false;  ///< active iterative augmentation
  HardAugmentConfig hard;
  uint64_t seed = 1;          ///< initialisation, order and augmentation
  c10::Device device = c10::kCPU;
};

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
