#pragma once
/// Training of a classifier from a TrainConfig: split, epochs, validation, checkpoints,
/// early stopping and exact resumption.
///
/// A run folder holds: best.hpm and last.hpm (model files), checkpoint.pt (optimiser,
/// RNG and loop state for --resume), log.csv and curves.png (per-epoch figures),
/// split.csv (which image went where) and config.json (the resolved settings).
#include <optional>
#include <string>
#include <vector>

#include <c10/core/Device.h>
#include <nlohmann/json.hpp>

#include "hemapath/data/dataset_spec.h"
#include "hemapath/data/split.h"
#include "hemapath/train/train_config.h"
#include "hemapath/train/train_outcome.h"

namespace hemapath {

class DistributedGroup;

struct TrainRunOptions {
  std::string out_dir;
  bool resume = false;             ///< continue the run in out_dir exactly where it stopped
  c10::Device device = c10::kCPU;
  int stop_after_epochs = 0;       ///< end this invocation after N epochs (0: run to the end), as an interruption would
  /// Parts to use instead of the config's split (cross-validation folds); indices into the
  /// config's samples.
  std::optional<SplitIndices> split;
  /// What made `split` (e.g. "cross-validation fold 1.2"); the model files record it, so that
  /// a later `eval --split` does not rebuild the config's split in its place.
  std::string split_origin;
  /// A data-parallel run (train/distributed.h): this process trains its rank's part of every
  /// batch and validates its share of the validation images; figures are summed over the
  /// ranks, and only rank 0 writes the run folder. nullptr: one process.
  DistributedGroup* group = nullptr;
};

struct EpochRecord {
  int epoch = 0;  ///< 1-based
  double lr = 0, train_loss = 0, train_accuracy = 0;
  double val_loss = 0, val_accuracy = 0, val_macro_f1 = 0, val_balanced_accuracy = 0;
  double seconds = 0, train_images_per_second = 0, val_images_per_second = 0;
  nlohmann::json to_json() const;
  static EpochRecord from_json(const nlohmann::json& j);
};

struct TrainResult : TrainOutcome {
  std::vector<EpochRecord> history;
};

/// Trains as `config` says. Throws InputError when out_dir already holds a run and
/// `resume` is false, or when resuming with a different config.
TrainResult train_classifier(const TrainConfig& config, const TrainRunOptions& options);

/// The stratified train/val/test split a config defines over its samples' labels; `groups`
/// (one id per label) keep each group on one side. InputError when split.group_by is set but
/// no groups are given.
SplitIndices split_for(const SplitConfig& split, const std::vector<int>& labels,
                       const std::vector<std::string>& groups = {});
/// split_for with the groups split.group_by names in `data` (read with `spec`).
SplitIndices split_samples(const SplitConfig& split, const DatasetSpec& spec, const LabeledSamples& data);

}  // namespace hemapath
