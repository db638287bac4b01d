#pragma once
/// Everything a classification training run needs, read from one YAML/JSON config.
///
/// ```yaml
/// task: classification
/// seed: 1
/// data:   {labels: CSV | class_folders: DIR, images: DIR, masks: DIR, classes: [..],
///          split: {train: 0.7, val: 0.15, test: 0.15, seed: 1},
///          crop: {margin: 0.15, size: 96, mode: pad}, workers: 2}
///          (split may add train_subset: 0.2, subset_seed: 1 to train on a share of the train part)
/// model:  {arch: resnet18, dropout: 0.2, extra: {}, pretrained: FILE}
/// normalization: {mode: standardize}
/// augment: {hflip: true, rotate_degrees: 180, hed_sigma: 0.03, ...}
/// train:  {epochs: 40, batch_size: 32, label_smoothing: 0.1, imbalance: class_weights,
///          monitor: macro_f1, early_stopping: {patience: 10}, memory_format: auto,
///          optimizer: {name: adamw, lr: 0.001, weight_decay: 0.0001},
///          schedule: {name: cosine, warmup_epochs: 2},
///          freeze: {stages: backbone | none | K, unfreeze_epoch: 5, unfreeze_lr: 0.0001},
///          bn_recalibration: false, micro_batches: 1,
///          loss_head: {weight: 1, margin: 1, detach_epoch: 0}}   (models with extra.loss_net)
/// ```
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "hemapath/data/dataset_spec.h"
#include "hemapath/image/augment.h"
#include "hemapath/image/cell_crop.h"
#include "hemapath/image/normalization.h"
#include "hemapath/models/classifier.h"
#include "hemapath/train/loss_prediction.h"
#include "hemapath/train/optimizer.h"

namespace hemapath {

struct SplitConfig {
  double train = 0.7, val = 0.15, test = 0.15;
  uint64_t seed = 1;
  /// Share of the training part actually trained on (stratified), for scarce-label
  /// experiments; val and test stay as they are.
  double train_subset = 1;
  uint64_t subset_seed = 1;  ///< which subset
  /// Keeps each group of images on one side of the split: "column:NAME" of the label CSV
  /// (e.g. column:source, the smear a crop was cut from) or a regex over file names (its first
  /// capture group). Empty: images are split one by one.
  std::string group_by;

  /// data.split: {train, val, test, seed, train_subset, subset_seed, group_by}; fractions
  /// summing to 1 with train > 0. ConfigError naming the key otherwise.
  static SplitConfig from_config(const ConfigNode& node);
  nlohmann::json to_json() const;
};

/// The values train.memory_format takes for segmenters: "channels_last" (NHWC) and
/// "contiguous" (NCHW).
const std::vector<std::string>& training_memory_formats();
/// The values it takes for classifiers: those, "mkldnn" (oneDNN's blocked layout) and "auto"
/// (train/memory_format.h).
const std::vector<std::string>& classifier_memory_formats();

/// Fine-tuning: which backbone stages start frozen and when they join training.
struct FreezeConfig {
  static constexpr int kBackbone = -1;
  int stages = 0;          ///< 0: nothing frozen; K: the first K stages; kBackbone: every stage
  int unfreeze_epoch = 0;  ///< 1-based epoch from which the frozen stages train too; 0: never
  double unfreeze_lr = 0;  ///< their learning rate then (follows the schedule's shape); 0: optimizer lr / 10

  /// train.freeze: {stages: none | backbone | K, unfreeze_epoch, unfreeze_lr}, for a run of
  /// `epochs` epochs. ConfigError naming the key.
  static FreezeConfig from_config(const ConfigNode& node, int epochs);
  nlohmann::json to_json() const;
};

struct TrainConfig {
  DatasetSpec data;
  SplitConfig split;
  CropOptions crop;
  int workers = 2;  ///< threads decoding and augmenting batches

  std::string arch = "resnet18";
  ClassifierOptions model;
  std::string pretrained;  ///< weights to start from (state dict or .hpm); empty: random initialisation
  FreezeConfig freeze;

  Normalization normalization;
  AugmentOptions augment;
  OptimizerConfig optimizer;
  ScheduleConfig schedule;
  int epochs = 30;
  int batch_size = 32;  ///< the global batch: with --distributed, shared among the ranks
  /// Gradient accumulation: each batch runs as this many near-equal parts, one backward pass
  /// each, then one optimiser step (less memory; BatchNorm sees each part on its own).
  int micro_batches = 1;
  double label_smoothing = 0;
  std::string imbalance = "none";  ///< none, class_weights, balanced_sampling
  double class_weight_power = 1;   ///< exponent of the inverse-frequency weights (class_balance.h)
  std::string monitor = "macro_f1";  ///< validation metric that picks the best epoch
  /// train.memory_format: the layout the network trains in (train/memory_format.h); "auto":
  /// oneDNN's blocked layout for ResNets on the CPU, channels-last for the others.
  std::string memory_format = "auto";
  int early_stop_patience = 0;       ///< epochs without improvement before stopping; 0 = off
  /// Re-estimate batch-norm statistics over the training images before each evaluation
  /// (train/batch_norm_recalibration.h): for short schedules and slow BN momenta.
  bool bn_recalibration = false;
  LossHeadConfig loss_head;  ///< for a ResNet with extra.loss_net (train/loss_prediction.h)
  uint64_t seed = 1;

  /// Reads and checks `file` (unknown keys and bad values are ConfigErrors naming them),
  /// after applying "key.path=value" overrides. Relative data paths are taken from the
  /// config file's folder.
  static TrainConfig load(const std::string& file, const std::vector<std::string>& overrides = {});
  /// Reads an already parsed config.
  static TrainConfig from_config(const ConfigNode& root, const std::string& base_dir);
  /// The resolved settings, stored in model files and checked on --resume.
  nlohmann::json to_json() const;
};

}  // namespace hemapath
