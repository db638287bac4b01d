// hemapath pretrain: self-supervised autoencoder pretraining on unlabelled images; its encoder
// later starts a classifier (`hemapath train --pretrained RUN/autoencoder.hpm`).
#include <cstdio>
#include <filesystem>
#include <memory>
#include <optional>

#include "commands.h"
#include "hemapath/core/device.h"
#include "hemapath/train/autoencoder_training.h"

namespace hemapath::cli {
namespace {

struct PretrainCommand {
  ComputeFlags compute;
  std::string config, out;
  std::optional<uint64_t> seed;
  std::optional<int> epochs;
  std::vector<std::string> overrides;
};

void run_pretrain(const PretrainCommand& cmd, const GlobalOptions& global) {
  apply_global(global);
  set_threads(cmd.compute.threads);
  std::vector<std::string> overrides = cmd.overrides;
  if (cmd.seed) overrides.push_back("seed=" + std::to_string(*cmd.seed));
  if (cmd.epochs) overrides.push_back("train.epochs=" + std::to_string(*cmd.epochs));
  const PretrainConfig config = PretrainConfig::load(cmd.config, overrides);
  PretrainRunOptions options;
  options.out_dir = cmd.out.empty() ? "runs/" + std::filesystem::path(cmd.config).stem().string() : cmd.out;
  options.device = resolve_device(cmd.compute.device);
  const PretrainResult r = pretrain_autoencoder(config, options);
  std::printf("pretrained a %s autoencoder on %zu unlabelled images (%zu held out) for %zu epochs in %.1f s\n",
              config.arch.c_str(), r.train_size, r.val_size, r.train_loss.size(), r.seconds);
  std::printf("best epoch %d: reconstruction mse %.4f (train %.4f)\n", r.best_epoch, r.best_val_loss,
              r.train_loss.at(r.best_epoch - 1));
  std::printf("model: %s; log: %s/log.csv, reconstructions: %s/reconstructions.png\n", r.model_path.c_str(),
              options.out_dir.c_str(), options.out_dir.c_str());
  std::printf("use it: hemapath train --config CFG --pretrained %s (model.arch must be %s)\n", r.model_path.c_str(),
              config.arch.c_str());
}

}  // namespace

void setup_pretrain(CLI::App& app, const GlobalOptions& global) {
  auto cmd = std::make_shared<PretrainCommand>();
  CLI::App* sub = app.add_subcommand("pretrain", "Pretrain an encoder as an autoencoder on unlabelled images");
  sub->add_option("--config", cmd->config, "Pretraining config (YAML or JSON; see configs/)")
      ->required()
      ->check(CLI::ExistingFile);
  sub->add_option("--out", cmd->out, "Run folder (default runs/<config name>)");
  sub->add_option("--seed", cmd->seed, "Seed for initialisation, order and augmentation (overrides 'seed')");
  sub->add_option("--epochs", cmd->epochs, "Number of epochs (overrides train.epochs)")->check(CLI::PositiveNumber);
  sub->add_option("--set", cmd->overrides, "Override a config value: key.path=value (repeatable)");
  add_compute_flags(*sub, cmd->compute, false);
  sub->callback([cmd, &global] { run_pretrain(*cmd, global); });
}

}  // namespace hemapath::cli
