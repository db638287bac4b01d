#pragma once
/// What every trainer does around its epochs: the run folder, an optimiser whose frozen
/// backbone stages sit in their own parameter group (thawed at train.freeze.unfreeze_epoch
/// with their own learning rate), the learning-rate schedule, the resumable loop state, and
/// after each epoch the best and last model files and the checkpoint. With
/// train.optimizer.ema_decay, it also keeps a moving average of the weights, which validation
/// (inside averaged_weights()) and the model files use while training goes on from the live ones.
#include <filesystem>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>
#include <opencv2/core.hpp>
#include <torch/torch.h>

#include "hemapath/data/split.h"
#include "hemapath/train/checkpoint.h"
#include "hemapath/train/optimizer.h"
#include "hemapath/train/train_config.h"
#include "hemapath/train/train_outcome.h"
#include "hemapath/train/weight_average.h"

namespace hemapath {

class DistributedGroup;

/// InputError when `out_dir` is empty, or holds a run and `resume` is false. Trainers call it
/// before reading any data, so a wrong folder costs nothing.
void check_run_folder(const std::string& out_dir, bool resume);

class EpochLoop {
 public:
  /// `model` on its device; `frozen` the module prefixes train.freeze covers (freezing.h).
  EpochLoop(torch::nn::Module& model, std::vector<std::string> frozen, const OptimizerConfig& optimizer,
            const ScheduleConfig& schedule, const FreezeConfig& freeze, int epochs, std::filesystem::path dir,
            nlohmann::json config);

  /// With `resume`, restores model, optimiser, RNG, schedule and loop state from the run
  /// folder's checkpoint (InputError as load_training_checkpoint); otherwise starts at epoch 0
  /// with `normalization`, fitting its statistics, when it needs them, on `training_images()`.
  /// progress().normalization is then what the data must use.
  void start(bool resume, const Normalization& normalization,
             const std::function<std::vector<cv::Mat>()>& training_images);
  TrainingProgress& progress() { return progress_; }
  torch::optim::Optimizer& optimizer() { return *optimizer_; }
  const std::filesystem::path& dir() const { return dir_; }
  std::filesystem::path best_path() const { return dir_ / "best.hpm"; }
  std::filesystem::path last_path() const { return dir_ / "last.hpm"; }
  /// For a distributed run, after start(): every rank starts from rank 0's weights with its
  /// own random stream (DistributedGroup::start_training), and only rank 0 writes model files
  /// and checkpoints; the others keep the same loop state. Nothing with a null `group`.
  void join(DistributedGroup* group, uint64_t seed);
  /// Whether this process writes the run folder (one process, or rank 0).
  bool writes_files() const { return writes_files_; }
  /// Whether 0-based `epoch` is still to run.
  bool runs(int epoch) const { return epoch < epochs_ && !progress_.stopped_early; }

  /// Before 0-based `epoch`: sets its learning rate, puts the model in training mode and
  /// freezes or thaws the frozen stages. Returns the learning rate.
  double begin_epoch(int epoch);
  /// After each optimiser step: updates the weight average, if any.
  void after_step();
  /// While the returned scope lives the model holds the averaged weights (the live ones
  /// without an average): trainers validate inside it.
  AveragedWeightsScope averaged_weights() { return AveragedWeightsScope(average_.get()); }

  /// After it, outside averaged_weights(): appends `record` to the history, reports `value`
  /// (the monitored figure, higher is better) to the schedule and the early stopping, writes
  /// best.hpm when it improved and last.hpm (the averaged weights where there are some), and
  /// the checkpoint (live weights and average). `header` is the model file header of this epoch.
  void end_epoch(int epoch, double value, const nlohmann::json& record, const nlohmann::json& header,
                 int patience, const std::string& monitor);

  /// The model file header's `training` record after 0-based `epoch`: the config, the epoch,
  /// the seed and the sizes of the split's parts.
  nlohmann::json training_record(int epoch, uint64_t seed, const SplitIndices& split) const;
  /// Fills `outcome` from the loop state and `split`: all of it but `seconds` and `pretrained`.
  void report(const SplitIndices& split, TrainOutcome& outcome) const;

 private:
  torch::nn::Module& model_;
  std::vector<std::string> frozen_;
  FreezeConfig freeze_;
  double base_lr_, unfreeze_lr_;
  int epochs_;
  std::unique_ptr<torch::optim::Optimizer> optimizer_;
  std::unique_ptr<WeightAverage> average_;
  LrSchedule schedule_;
  std::filesystem::path dir_;
  nlohmann::json config_;
  TrainingProgress progress_;
  bool writes_files_ = true;
};

}  // namespace hemapath
