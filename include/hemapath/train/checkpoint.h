#pragma once
/// The training checkpoint behind --resume: model and optimiser state, the CPU random
/// generator and the loop's own state (a JSON document holding at least "config", the
/// resolved settings the run was started with), written atomically after every epoch.
#include <filesystem>
#include <limits>

#include <nlohmann/json.hpp>
#include <torch/torch.h>

#include "hemapath/image/normalization.h"

namespace hemapath {

class WeightAverage;

/// Where an epoch loop stands: what a checkpoint must restore besides weights, optimiser and
/// RNG for a resumed run to continue exactly as an uninterrupted one.
struct TrainingProgress {
  int next_epoch = 0;  ///< 0-based epoch to run next
  int best_epoch = 0;  ///< 1-based; 0 before the first epoch
  double best_value = -std::numeric_limits<double>::infinity();  ///< monitored figure (higher is better)
  int epochs_without_improvement = 0;
  bool stopped_early = false;
  nlohmann::json history = nlohmann::json::array();  ///< one record per finished epoch
  nlohmann::json schedule_state;
  Normalization normalization;  ///< with the statistics computed at the start of the run

  /// Records 1-based `epoch`'s monitored value: true when it is the best so far; otherwise
  /// counts towards early stopping, setting stopped_early after `patience` such epochs (0: never).
  bool record(double value, int epoch, int patience);
  /// The state with the run's resolved `config`, as checkpoints hold it.
  nlohmann::json to_json(const nlohmann::json& config) const;
  static TrainingProgress from_json(const nlohmann::json& state);
};

/// Writes `state` (which must hold "config") with the model, optimiser, RNG and, when not
/// null, the weight average to `path`.
void save_training_checkpoint(const std::filesystem::path& path, torch::nn::Module& model,
                              torch::optim::Optimizer& optimizer, const WeightAverage* average,
                              const nlohmann::json& state);

/// Restores model, optimiser, RNG and (when not null) the weight average from `path` and
/// returns the loop state. InputError when there is no checkpoint, it cannot be read, or its
/// "config" differs from `config` (resuming with other settings would silently mix two runs);
/// the config is compared before any weights are read.
nlohmann::json load_training_checkpoint(const std::filesystem::path& path, torch::nn::Module& model,
                                        torch::optim::Optimizer& optimizer, WeightAverage* average,
                                        const nlohmann::json& config);

}  // namespace hemapath
