#pragma once
/// Everything a segmentation training run needs, read from one YAML/JSON config in the same
/// format as classification (train_config.h), with `task: segmentation`:
///
/// ```yaml
/// task: segmentation
/// seed: 1
/// data:   {images: DIR, masks: DIR, mask: index|instance, target: foreground|boundary,
///          classes: [background, cytoplasm, nucleus],
///          split: {train: 0.8, val: 0, test: 0.2, seed: 1},
///          scale: 1.0, patch: 256, patches_per_image: 4, workers: 2}
/// model:  {arch: unet, extra: {depth: 4, width: 32}, binary: true, pretrained: FILE}
/// normalization: {mode: standardize}
/// augment: {hflip: true, vflip: true, rot90: true, ...}
/// loss:   {cross_entropy: 1, dice: 1, focal: 0, class_weights: [..], ignore_index: -1}
/// train:  {epochs: 60, batch_size: 8, monitor: foreground_miou, early_stopping: {patience: 0},
///          memory_format: contiguous,
///          optimizer: {name: adamw, lr: 0.001, weight_decay: 0.0001}, schedule: {name: cosine},
///          freeze: {stages: backbone, unfreeze_epoch: 5}}
/// instances: {threshold: 0.5, watershed: true, min_area: 10, ...}   # how predict cuts cells
/// ```
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "hemapath/data/segmentation_dataset.h"
#include "hemapath/image/augment.h"
#include "hemapath/image/normalization.h"
#include "hemapath/infer/instances.h"
#include "hemapath/train/optimizer.h"
#include "hemapath/train/segmentation_loss.h"
#include "hemapath/train/train_config.h"

namespace hemapath {

/// Validation figures that can pick the best epoch.
std::vector<std::string> segmentation_monitor_names();

struct SegmentationTrainConfig {
  uint64_t seed = 1;
  SegmentationDataSpec data;
  SplitConfig split = [] {
    SplitConfig s;  // segmentation defaults: 80% train, 20% test, no validation part
    s.train = 0.8;
    s.val = 0;
    s.test = 0.2;
    return s;
  }();
  double scale = 1;           ///< images and masks are resized by this factor before the network
  /// um per px of the training images (data.mpp), when known: slide inference then works at
  /// mpp / scale unless told otherwise. 0 = unknown.
  double mpp = 0;
  /// data.stain: a stain normaliser JSON file (StainNormalizer::save) applied to every image as
  /// it is loaded; stored whole in the model file so slide inference applies it too.
  std::optional<StainNormalizer> stain;
  int patch = 256;            ///< side of the square training patches, px (at `scale`)
  int patches_per_image = 1;  ///< random patches drawn from every training image per epoch
  int workers = 2;

  std::string arch = "unet";
  nlohmann::json extra = nlohmann::json::object();
  /// Two classes are learnt as one sigmoid output (binary cross-entropy) unless false.
  bool binary = true;
  std::string pretrained;  ///< weights for the classifier backbone (see load_encoder_weights)

  Normalization normalization;
  AugmentOptions augment;
  SegmentationLossConfig loss;
  OptimizerConfig optimizer;
  ScheduleConfig schedule;
  FreezeConfig freeze;
  int epochs = 60;
  int batch_size = 8;
  /// Validation figure that picks the best epoch: foreground_miou (mean IoU over the
  /// non-background classes), mean_iou, mean_dice or pixel_accuracy. Without a validation part
  /// the training loss does.
  std::string monitor = "foreground_miou";
  /// train.memory_format: the layout the network trains in (train/memory_format.h); the U-Net
  /// and MRN train faster in NCHW.
  std::string memory_format = "contiguous";
  int early_stop_patience = 0;
  InstanceOptions instances;

  /// Output channels of the network: 1 for a binary two-class problem, else the class count.
  int64_t output_channels() const;

  /// Reads and checks `file` after "key.path=value" overrides; relative paths from the
  /// config's folder. ConfigError naming the key for unknown keys and bad values.
  static SegmentationTrainConfig load(const std::string& file, const std::vector<std::string>& overrides = {});
  static SegmentationTrainConfig from_config(const ConfigNode& root, const std::string& base_dir);
  nlohmann::json to_json() const;
};

/// The `task` a training config declares ("classification" when absent). ConfigError naming
/// the file when it cannot be read.
std::string config_task(const std::string& file, const std::vector<std::string>& overrides = {});

/// InstanceOptions from a config mapping (keys named as the fields), checked by validate().
InstanceOptions instance_options_from_config(const ConfigNode& node);
nlohmann::json instance_options_to_json(const InstanceOptions& options);
InstanceOptions instance_options_from_json(const nlohmann::json& json);

}  // namespace hemapath
