#pragma once
/// Training of a segmentation network from a SegmentationTrainConfig: a seeded split of the
/// image + mask pairs, random augmented patches, whole-image validation (padded to the
/// network's stride), checkpoints, early stopping and exact resumption, as for classifiers.
///
/// The run folder holds best.hpm and last.hpm (model files of task "segmentation"),
/// checkpoint.pt, log.csv and curves.png, split.csv and config.json.
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "hemapath/train/segmentation_config.h"
#include "hemapath/train/trainer.h"

namespace hemapath {

struct SegmentationEpochRecord {
  int epoch = 0;  ///< 1-based
  double lr = 0, train_loss = 0;
  /// Validation figures (0 without a validation part).
  double val_pixel_accuracy = 0, val_mean_iou = 0, val_foreground_miou = 0, val_mean_dice = 0;
  double seconds = 0, train_patches_per_second = 0, val_images_per_second = 0;
  nlohmann::json to_json() const;
  static SegmentationEpochRecord from_json(const nlohmann::json& j);
};

struct SegmentationTrainResult : TrainOutcome {
  std::vector<SegmentationEpochRecord> history;
};

/// The seeded train/val/test split of `count` image + mask pairs.
SplitIndices segmentation_split(const SplitConfig& split, size_t count);

/// Trains as `config` says. InputError when out_dir already holds a run and `resume` is false,
/// when resuming with a different config, or when the data is unusable (nothing is written then).
SegmentationTrainResult train_segmenter(const SegmentationTrainConfig& config, const TrainRunOptions& options);

}  // namespace hemapath
