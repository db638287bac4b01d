// hemapath compare: architectures side by side by compute cost (parameters, GFLOPs, latency,
// throughput) and, given a training config, by cross-validated accuracy and macro-F1.
#include <cstdio>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "commands.h"
#include "hemapath/core/device.h"
#include "hemapath/core/error.h"
#include "hemapath/train/model_comparison.h"

namespace hemapath::cli {
namespace {
namespace fs = std::filesystem;

struct CompareCommand {
  ComputeFlags compute;
  std::vector<std::string> archs;
  int size = 128;
  std::string config, cv = "kfold:3", out = "runs/compare", group_by;
  std::optional<int> epochs;
  std::optional<uint64_t> seed;
  std::vector<std::string> overrides;
  bool resume = false;
  int latency_runs = 20;
  int throughput_runs = 3;
};

// "kfold:K" or "5x2" into the scheme and fold count of CvOptions.
void parse_scheme(const std::string& text, CvOptions& cv) {
  if (text == "5x2") {
    cv.scheme = "5x2";
    cv.folds = 2;
    return;
  }
  const std::string prefix = "kfold:";
  int folds = 0;
  bool ok = text.rfind(prefix, 0) == 0 && text.size() > prefix.size() && text.size() <= prefix.size() + 3 &&
            text.find_first_not_of("0123456789", prefix.size()) == std::string::npos;
  if (ok) folds = std::stoi(text.substr(prefix.size()));
  HP_CHECK(ok && folds >= 2 && folds <= 100, ConfigError, "--cv '", text,
           "': expected kfold:K with K in [2, 100] (e.g. kfold:3) or 5x2");
  cv.scheme = "kfold";
  cv.folds = folds;
}

void run_compare(const CompareCommand& cmd, const CLI::App& sub, const GlobalOptions& global) {
  apply_global(global);
  set_threads(cmd.compute.threads);

  ComparisonOptions options;
  options.archs = cmd.archs;
  options.size = cmd.size;
  options.latency_runs = cmd.latency_runs;
  options.throughput_runs = cmd.throughput_runs;
  options.device = resolve_device(cmd.compute.device);
  options.out_dir = cmd.out;
  options.resume = cmd.resume;
  if (cmd.config.empty()) {
    for (const char* flag : {"--cv", "--epochs", "--seed", "--set", "--group-by", "--resume"})
      HP_CHECK(
          sub.count(flag) == 0, ConfigError, flag,
          " applies to the cross-validation, which needs --config (without it only the cost columns are measured)");
  } else {
    parse_scheme(cmd.cv, options.cv);
    std::vector<std::string> overrides = cmd.overrides;
    if (cmd.epochs) overrides.push_back("train.epochs=" + std::to_string(*cmd.epochs));
    if (cmd.seed) overrides.push_back("seed=" + std::to_string(*cmd.seed));
    options.config = TrainConfig::load(cmd.config, overrides);
    options.cv.seed = cmd.seed.value_or(options.config->split.seed);
    options.cv.group_by = cmd.group_by;
  }

  const ComparisonResult result = compare_models(options);
  std::printf("%s", comparison_markdown(result).c_str());
  const fs::path out(cmd.out);
  std::printf("\ntable: %s (also .csv, .json); plot: %s\n", (out / "comparison.md").string().c_str(),
              (out / (result.has_cv() ? "accuracy_vs_latency.png" : "gflops_vs_latency.png")).string().c_str());
}

}  // namespace

void setup_compare(CLI::App& app, const GlobalOptions& global) {
  auto cmd = std::make_shared<CompareCommand>();
  CLI::App* sub =
      app.add_subcommand("compare",
                         "Compare architectures: parameters, GFLOPs, CPU latency and throughput, and with --config the "
                         "cross-validated accuracy and macro-F1. Writes comparison.md/.csv/.json and a scatter plot: "
                         "accuracy_vs_latency.png with --config, gflops_vs_latency.png without");
  sub->add_option("--archs", cmd->archs, "Architectures, comma-separated (e.g. resnet18,mobilenet_v3_small)")
      ->required()
      ->delimiter(',');
  sub->add_option("--size", cmd->size, "Input side length, px (also the crop size of the cross-validation)")
      ->check(CLI::Range(8, 4096));
  sub->add_option("--config", cmd->config,
                  "Training config: each architecture is cross-validated with it (its arch and crop size "
                  "replaced; model.extra kept only for its own arch). Without it only the cost columns")
      ->check(CLI::ExistingFile);
  sub->add_option("--cv", cmd->cv, "Cross-validation scheme: kfold:K or 5x2");
  sub->add_option("--epochs", cmd->epochs, "Number of epochs (overrides train.epochs)")->check(CLI::PositiveNumber);
  sub->add_option("--seed", cmd->seed,
                  "Seed of training and of the fold assignment (default: the config's seed and data.split.seed)");
  sub->add_option("--set", cmd->overrides, "Override a config value: key.path=value (repeatable)");
  sub->add_option("--group-by", cmd->group_by,
                  "Keep groups whole in the folds: a regex over file names or column:NAME of the label CSV");
  sub->add_option("--out", cmd->out, "Output folder; cross-validations go to <out>/cv/<arch>/");
  sub->add_flag("--resume", cmd->resume, "Finish an interrupted comparison in --out, reusing finished folds");
  sub->add_option("--latency-runs", cmd->latency_runs, "Timed batch-1 passes per architecture (median reported)")
      ->check(CLI::Range(1, 100000));
  sub->add_option("--throughput-runs", cmd->throughput_runs, "Timed batch-32 passes per architecture")
      ->check(CLI::Range(1, 100000));
  add_compute_flags(*sub, cmd->compute, false);
  sub->callback([cmd, sub, &global] { run_compare(*cmd, *sub, global); });
}

}  // namespace hemapath::cli
