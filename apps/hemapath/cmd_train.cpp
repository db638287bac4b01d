// hemapath train: trains a classifier or a segmentation network (the config's `task`) into a
// run folder.
#include <cstdio>
#include <filesystem>
#include <memory>
#include <optional>

#include "commands.h"
#include "hemapath/core/device.h"
#include "hemapath/core/error.h"
#include "hemapath/core/launch_env.h"
#include "hemapath/core/log.h"
#include "hemapath/core/progress.h"
#include "hemapath/train/distributed.h"
#include "hemapath/train/segmentation_trainer.h"
#include "hemapath/train/trainer.h"

namespace hemapath::cli {
namespace {

struct TrainCommand {
  ComputeFlags compute;
  std::string config;
  std::string out;
  bool resume = false;
  std::optional<uint64_t> seed;
  std::optional<uint64_t> split_seed;
  std::optional<int> epochs;
  std::string pretrained;
  std::string freeze;
  std::optional<int> unfreeze_epoch;
  std::optional<double> unfreeze_lr;
  std::vector<std::string> overrides;
  bool distributed = false;
  double dist_timeout = 300;
};

void report_segmentation(const SegmentationTrainConfig& config, const SegmentationTrainResult& r,
                         const std::string& out_dir) {
  if (!r.pretrained.empty()) std::printf("pretrained: %s\n", r.pretrained.c_str());
  std::printf("trained %s on %zu images (val %zu, test %zu held out) for %zu epochs in %.1f s%s\n",
              config.arch.c_str(), r.train_size, r.val_size, r.test_size, r.history.size(), r.seconds,
              r.stopped_early ? " (early stop)" : "");
  if (!r.history.empty() && r.val_size > 0) {
    const SegmentationEpochRecord& best = r.history.at(r.best_epoch - 1);
    std::printf("best epoch %d by %s: val foreground mIoU %.4f, mean IoU %.4f, pixel accuracy %.4f\n", r.best_epoch,
                config.monitor.c_str(), best.val_foreground_miou, best.val_mean_iou, best.val_pixel_accuracy);
  } else if (!r.history.empty()) {
    std::printf("no validation part: best epoch %d by training loss %.4f\n", r.best_epoch,
                r.history.at(r.best_epoch - 1).train_loss);
  }
  double rate = 0;
  for (const auto& e : r.history) rate += e.train_patches_per_second;
  std::printf("throughput: training %.1f patches/s of %d px (mean over epochs)\n",
              r.history.empty() ? 0.0 : rate / r.history.size(), config.patch);
  std::printf("model: %s (best), %s (last); log: %s/log.csv, curves: %s/curves.png\n", r.best_model.c_str(),
              r.last_model.c_str(), out_dir.c_str(), out_dir.c_str());
}

void run_train(const TrainCommand& cmd, const GlobalOptions& global) {
  apply_global(global);
  set_threads(cmd.compute.threads);
  std::vector<std::string> overrides = cmd.overrides;
  if (cmd.seed) overrides.push_back("seed=" + std::to_string(*cmd.seed));
  if (cmd.split_seed) overrides.push_back("data.split.seed=" + std::to_string(*cmd.split_seed));
  if (cmd.epochs) overrides.push_back("train.epochs=" + std::to_string(*cmd.epochs));
  // A path on the command line is relative to the working folder, not to the config's.
  if (!cmd.pretrained.empty())
    overrides.push_back("model.pretrained=" + std::filesystem::absolute(cmd.pretrained).lexically_normal().string());
  if (!cmd.freeze.empty()) overrides.push_back("train.freeze.stages=" + cmd.freeze);
  if (cmd.unfreeze_epoch) overrides.push_back("train.freeze.unfreeze_epoch=" + std::to_string(*cmd.unfreeze_epoch));
  if (cmd.unfreeze_lr) overrides.push_back("train.freeze.unfreeze_lr=" + std::to_string(*cmd.unfreeze_lr));

  TrainRunOptions options;
  options.out_dir = cmd.out.empty() ? "runs/" + std::filesystem::path(cmd.config).stem().string() : cmd.out;
  options.resume = cmd.resume;
  options.device = resolve_device(cmd.compute.device);
  const bool segmentation = config_task(cmd.config, overrides) == "segmentation";
  std::unique_ptr<DistributedGroup> group;
  if (cmd.distributed) {
    const LaunchEnv env = launch_env_from_environment();
    // One GPU per rank on a host: plain "cuda" means the rank's own, LOCAL_RANK.
    if (cmd.compute.device == "cuda") options.device = resolve_device("cuda:" + std::to_string(env.local_rank));
    // One log and one progress bar: rank 0's. The others report warnings and errors only.
    if (env.rank != 0 && !global.verbose) {
      set_verbosity(Verbosity::quiet);
      Progress::set_enabled(false);
    }
    group = std::make_unique<DistributedGroup>(
        env, std::chrono::milliseconds(static_cast<int64_t>(cmd.dist_timeout * 1000)));
    options.group = group.get();
  }
  if (segmentation) {
    const SegmentationTrainConfig config = SegmentationTrainConfig::load(cmd.config, overrides);
    const SegmentationTrainResult result = train_segmenter(config, options);
    if (!group || group->is_main()) report_segmentation(config, result, options.out_dir);
    return;
  }
  TrainConfig config = TrainConfig::load(cmd.config, overrides);
  TrainResult r = train_classifier(config, options);
  if (group && !group->is_main()) return;  // rank 0 reports the run

  double train_rate = 0, val_rate = 0;
  for (const auto& e : r.history) train_rate += e.train_images_per_second, val_rate += e.val_images_per_second;
  const double n = r.history.empty() ? 1 : static_cast<double>(r.history.size());
  if (!r.pretrained.empty()) std::printf("pretrained: %s\n", r.pretrained.c_str());
  std::printf("trained %s on %zu images (val %zu, test %zu held out) for %zu epochs in %.1f s%s\n", config.arch.c_str(),
              r.train_size, r.val_size, r.test_size, r.history.size(), r.seconds,
              r.stopped_early ? " (early stop)" : "");
  if (!r.history.empty() && r.val_size > 0) {
    const EpochRecord& best = r.history.at(r.best_epoch - 1);
    std::printf("best epoch %d by %s: val accuracy %.4f, macro-F1 %.4f, balanced accuracy %.4f\n", r.best_epoch,
                config.monitor.c_str(), best.val_accuracy, best.val_macro_f1, best.val_balanced_accuracy);
  } else if (!r.history.empty()) {
    std::printf("no validation part: best epoch %d by training loss %.4f\n", r.best_epoch,
                r.history.at(r.best_epoch - 1).train_loss);
  }
  if (r.val_size > 0)
    std::printf("throughput: training %.1f images/s, inference %.1f images/s (mean over epochs)\n", train_rate / n,
                val_rate / n);
  else
    std::printf("throughput: training %.1f images/s (mean over epochs)\n", train_rate / n);
  std::printf("model: %s (best), %s (last); log: %s/log.csv, curves: %s/curves.png\n", r.best_model.c_str(),
              r.last_model.c_str(), options.out_dir.c_str(), options.out_dir.c_str());
}

}  // namespace

void setup_train(CLI::App& app, const GlobalOptions& global) {
  auto cmd = std::make_shared<TrainCommand>();
  CLI::App* sub = app.add_subcommand("train", "Train a classifier or a segmentation network (the config's task) from a YAML/JSON config");
  sub->add_option("--config", cmd->config, "Training config (YAML or JSON; see configs/)")->required()->check(CLI::ExistingFile);
  sub->add_option("--out", cmd->out, "Run folder for models, logs and plots (default runs/<config name>)");
  sub->add_flag("--resume", cmd->resume, "Continue the run in --out exactly where it stopped");
  sub->add_option("--seed", cmd->seed, "Seed for initialisation, order and augmentation (overrides 'seed')");
  sub->add_option("--split-seed", cmd->split_seed, "Seed of the train/val/test split (overrides data.split.seed)");
  sub->add_option("--epochs", cmd->epochs, "Number of epochs (overrides train.epochs)")->check(CLI::PositiveNumber);
  sub->add_option("--pretrained", cmd->pretrained,
                  "Start from these weights: a state dict from scripts/convert_torchvision_weights.py, a "
                  "classification model or an autoencoder (.hpm); a head for other classes is re-initialised")
      ->check(CLI::ExistingFile);
  sub->add_option("--freeze", cmd->freeze, "Freeze 'backbone', or the first K backbone stages (overrides train.freeze.stages)");
  sub->add_option("--unfreeze-epoch", cmd->unfreeze_epoch, "1-based epoch from which frozen stages train too")
      ->check(CLI::PositiveNumber);
  sub->add_option("--unfreeze-lr", cmd->unfreeze_lr, "Learning rate of the thawed stages (default: optimizer lr / 10)")
      ->check(CLI::PositiveNumber);
  sub->add_option("--set", cmd->overrides, "Override a config value: key.path=value (repeatable)");
  sub->add_flag("--distributed", cmd->distributed,
                "Data-parallel training: one process per rank, placed by RANK, WORLD_SIZE, MASTER_ADDR and "
                "MASTER_PORT (scripts/launch_local.sh, srun or torchrun-style launchers set them); train.batch_size "
                "is the global batch, shared among the ranks");
  sub->add_option("--dist-timeout", cmd->dist_timeout,
                  "Seconds a rank waits for the others (joining, each exchange) before it stops with an error")
      ->check(CLI::Range(1.0, 86400.0));
  add_compute_flags(*sub, cmd->compute, false);
  sub->callback([cmd, &global] { run_train(*cmd, global); });
}

}  // namespace hemapath::cli
