#include "hemapath/train/epoch_loop.h"

#include "hemapath/core/error.h"
#include "hemapath/core/log.h"
#include "hemapath/models/model_file.h"
#include "hemapath/train/distributed.h"
#include "hemapath/train/freezing.h"

namespace hemapath {
namespace fs = std::filesystem;

namespace {
const char* kCheckpointName = "checkpoint.pt";
}  // namespace

void check_run_folder(const std::string& out_dir, bool resume) {
  HP_CHECK(!out_dir.empty(), InputError, "--out: a folder for the run is required");
  HP_CHECK(resume || !fs::exists(fs::path(out_dir) / kCheckpointName), InputError, "--out '", out_dir,
           "' already holds a training run: pass --resume to continue it or choose another folder");
}

EpochLoop::EpochLoop(torch::nn::Module& model, std::vector<std::string> frozen, const OptimizerConfig& optimizer,
                     const ScheduleConfig& schedule, const FreezeConfig& freeze, int epochs, fs::path dir,
                     nlohmann::json config)
    : model_(model),
      frozen_(std::move(frozen)),
      freeze_(freeze),
      base_lr_(optimizer.lr),
      unfreeze_lr_(freeze.unfreeze_lr > 0 ? freeze.unfreeze_lr : optimizer.lr / 10),
      epochs_(epochs),
      schedule_(schedule, optimizer.lr, epochs),
      dir_(std::move(dir)),
      config_(std::move(config)) {
  // Frozen stages sit in a second parameter group, whose learning rate applies once they thaw.
  const ParameterPartition parameters = partition_parameters(model_, frozen_);
  optimizer_ = make_optimizer(optimizer, parameters.trainable);
  if (!parameters.frozen.empty()) optimizer_->add_param_group(torch::optim::OptimizerParamGroup(parameters.frozen));
  if (optimizer.ema_decay > 0) {
    average_ = std::make_unique<WeightAverage>(model_, optimizer.ema_decay);
    logger("train")->info("weights averaged over the steps (ema_decay {}): validation and model files use the average",
                          optimizer.ema_decay);
  }
}

void EpochLoop::start(bool resume, const Normalization& normalization,
                      const std::function<std::vector<cv::Mat>()>& training_images) {
  if (resume) {
    progress_ = TrainingProgress::from_json(
        load_training_checkpoint(dir_ / kCheckpointName, model_, *optimizer_, average_.get(), config_));
    schedule_.load_state(progress_.schedule_state);
    logger("train")->info("resuming at epoch {} of {}", progress_.next_epoch + 1, epochs_);
    return;
  }
  progress_ = TrainingProgress();
  progress_.normalization = normalization;
  if (!normalization.needs_statistics) return;
  const auto [mean, stdev] = channel_statistics(training_images());
  progress_.normalization.set_statistics(mean, stdev);
  logger("train")->info(
      "normalisation statistics from the training split: mean {:.3f} {:.3f} {:.3f}, std {:.3f} {:.3f} {:.3f}", mean[0],
      mean[1], mean[2], stdev[0], stdev[1], stdev[2]);
}

void EpochLoop::join(DistributedGroup* group, uint64_t seed) {
  if (!group) return;
  writes_files_ = group->is_main();
  group->start_training(model_, seed, progress_.next_epoch);
  // A new run's average starts from rank 0's weights, as the model now does on every rank.
  if (average_ && progress_.next_epoch == 0) average_->reset();
}

void EpochLoop::after_step() {
  if (average_) average_->update();
}

double EpochLoop::begin_epoch(int epoch) {
  const double lr = schedule_.lr_for_epoch(epoch);
  set_learning_rate(*optimizer_, lr);
  model_.train();
  if (!frozen_.empty()) {
    const bool frozen_now = frozen_in_epoch(freeze_, epoch);
    set_frozen(model_, frozen_, frozen_now);
    const double thawed_lr = unfreeze_lr_ * lr / base_lr_;  // follows the schedule's shape
    optimizer_->param_groups().at(1).options().set_lr(frozen_now ? 0 : thawed_lr);
    if (epoch + 1 == freeze_.unfreeze_epoch)
      logger("train")->info("epoch {}: the frozen stages join training at lr {:.2e}", epoch + 1, thawed_lr);
  }
  return lr;
}

void EpochLoop::end_epoch(int epoch, double value, const nlohmann::json& record, const nlohmann::json& header,
                          int patience, const std::string& monitor) {
  schedule_.observe(value);
  progress_.history.push_back(record);
  const bool improved = progress_.record(value, epoch + 1, patience);
  if (!improved && progress_.stopped_early) {
    logger("train")->info("early stop: no {} improvement for {} epochs (best epoch {})", monitor, patience,
                          progress_.best_epoch);
  }
  progress_.next_epoch = epoch + 1;
  progress_.schedule_state = schedule_.state();
  if (!writes_files_) return;
  {
    const AveragedWeightsScope averaged = averaged_weights();
    if (improved) save_model_file(best_path().string(), header, model_);
    save_model_file(last_path().string(), header, model_);
  }
  save_training_checkpoint(dir_ / kCheckpointName, model_, *optimizer_, average_.get(), progress_.to_json(config_));
}

nlohmann::json EpochLoop::training_record(int epoch, uint64_t seed, const SplitIndices& split) const {
  return {{"config", config_},
          {"epoch", epoch + 1},
          {"seed", seed},
          {"train_images", split.train.size()},
          {"val_images", split.val.size()},
          {"test_images", split.test.size()}};
}

void EpochLoop::report(const SplitIndices& split, TrainOutcome& outcome) const {
  outcome.best_epoch = progress_.best_epoch;
  outcome.best_value = progress_.best_value;
  outcome.stopped_early = progress_.stopped_early;
  outcome.complete = progress_.stopped_early || progress_.next_epoch >= epochs_;
  outcome.best_model = best_path().string();
  outcome.last_model = last_path().string();
  outcome.train_size = split.train.size();
  outcome.val_size = split.val.size();
  outcome.test_size = split.test.size();
}

}  // namespace hemapath
