#pragma once
/// Everything a classification training run needs, read from one YAML/JSON config.
///
/// ```yaml
/// task: classification
/// seed: 1
/// data:   {labels: CSV | class_folders: DIR, images: DIR, masks: DIR, classes: [..],
///          split: {train: 0.7, val: 0.15, test: 0.15, seed: 1},
///          crop: {margin: 0.15, size: 96, mode: pad}, workers: 2}
/// model:  {arch: resnet18, dropout: 0.2, extra: {}}
/// normalization: {mode: standardize}
/// augment: {hflip: true, rotate_degrees: 180, hed_sigma: 0.03, ...}
/// train:  {epochs: 40, batch_size: 32, label_smoothing: 0.1, imbalance: class_weights,
///          monitor: macro_f1, early_stopping: {patience: 10},
///          optimizer: {name: adamw, lr: 0.001, weight_decay: 0.0001},
///          schedule: {name: cosine, warmup_epochs: 2}}
/// ```
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "hemapath/data/dataset_spec.h"
#include "hemapath/image/augment.h"
#include "hemapath/image/cell_crop.h"
#include "hemapath/image/normalization.h"
#include "hemapath/models/classifier.h"
#include "hemapath/train/optimizer.h"

namespace hemapath {

struct SplitConfig {
  double train = 0.7, val = 0.15, test = 0.15;
  uint64_t seed = 1;
};

struct TrainConfig {
  DatasetSpec data;
  SplitConfig split;
  CropOptions crop;
  int workers = 2;  ///< threads decoding and augmenting batches

  std::string arch = "resnet18";
  ClassifierOptions model;

  Normalization normalization;
  AugmentOptions augment;
  OptimizerConfig optimizer;
  ScheduleConfig schedule;
  int epochs = 30;
  int batch_size = 32;
  double label_smoothing = 0;
  std::string imbalance = "none";  ///< none, class_weights, balanced_sampling
  std::string monitor = "macro_f1";  ///< validation metric that picks the best epoch
  int early_stop_patience = 0;       ///< epochs without improvement before stopping; 0 = off
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
