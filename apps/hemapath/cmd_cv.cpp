// hemapath cv: stratified k-fold or 5x2 cross-validation of a training config, optionally
// against a second config on the same folds with Dietterich's and Alpaydin's 5x2cv tests.
#include <cstdio>
#include <filesystem>
#include <memory>
#include <optional>

#include "commands.h"
#include "hemapath/core/atomic_file.h"
#include "hemapath/core/device.h"
#include "hemapath/core/error.h"
#include "hemapath/io/csv.h"
#include "hemapath/train/cross_validation.h"

namespace hemapath::cli {
namespace {
namespace fs = std::filesystem;

struct CvCommand {
  ComputeFlags compute;
  std::string config, compare, out, scheme = "kfold", group_by;
  int folds = 5;
  std::optional<uint64_t> seed;
  std::optional<int> epochs;
  bool resume = false;
  std::vector<std::string> overrides;
};

TrainConfig load_config(const std::string& file, const CvCommand& cmd) {
  std::vector<std::string> overrides = cmd.overrides;
  if (cmd.epochs) overrides.push_back("train.epochs=" + std::to_string(*cmd.epochs));
  return TrainConfig::load(file, overrides);
}

std::string stem(const std::string& file) { return fs::path(file).stem().string(); }

void print_result(const std::string& name, const CvResult& r) {
  std::printf("\n## %s (%s, %s, %zu folds)\n\n%s", name.c_str(), r.arch.c_str(), r.scheme.c_str(), r.folds.size(),
              cv_markdown(r).c_str());
}

// Both tests on the two headline metrics, as a Markdown table.
std::string comparison_markdown(const std::string& a, const std::string& b, const CvResult& ra, const CvResult& rb) {
  std::string md = "| metric | " + a + " mean +- std | " + b + " mean +- std | test | statistic | df | p-value |\n"
                   "|---|---:|---:|---|---:|---:|---:|\n";
  for (const std::string metric : {"accuracy", "macro_f1"}) {
    for (const TestResult& t : compare_five_by_two(ra, rb, metric)) {
      const auto &sa = ra.summary.at(metric), &sb = rb.summary.at(metric);
      const std::string df = t.df2 > 0 ? format_number(t.df1) + ", " + format_number(t.df2) : format_number(t.df1);
      md += "| " + metric + " | " + format_number(sa.mean, 4) + " +- " + format_number(sa.std, 3) + " | " +
            format_number(sb.mean, 4) + " +- " + format_number(sb.std, 3) + " | " + t.name + " | " +
            format_number(t.statistic, 4) + " | " + df + " | " + format_number(t.p_value, 4) + " |\n";
    }
  }
  return md;
}

void run_cv(const CvCommand& cmd, const GlobalOptions& global) {
  apply_global(global);
  set_threads(cmd.compute.threads);
  HP_CHECK(cmd.compare.empty() || cmd.scheme == "5x2", ConfigError,
           "--compare runs the 5x2cv paired tests: it needs --scheme 5x2");
  const TrainConfig config = load_config(cmd.config, cmd);
  std::optional<TrainConfig> other;
  if (!cmd.compare.empty()) other = load_config(cmd.compare, cmd);

  CvOptions options;
  options.scheme = cmd.scheme;
  options.folds = cmd.folds;
  options.seed = cmd.seed.value_or(config.split.seed);
  options.group_by = cmd.group_by;
  options.device = resolve_device(cmd.compute.device);
  options.resume = cmd.resume;
  const std::string out = cmd.out.empty() ? "runs/cv_" + stem(cmd.config) : cmd.out;
  const std::string name_a = stem(cmd.config), name_b = other ? stem(cmd.compare) : "";
  HP_CHECK(!other || name_a != name_b, ConfigError, "--config and --compare have the same file name '", name_a,
           "': their results would share a folder");

  options.out_dir = other ? (fs::path(out) / name_a).string() : out;
  const CvResult a = run_cross_validation(config, options);
  print_result(name_a, a);
  if (!other) return;
  options.out_dir = (fs::path(out) / name_b).string();
  const CvResult b = run_cross_validation(*other, options);
  print_result(name_b, b);
  const std::string md = comparison_markdown(name_a, name_b, a, b);
  write_text_atomic(fs::path(out) / "comparison.md", md);
  std::printf("\n## %s vs %s: 5x2cv paired t-test (Dietterich 1998) and combined F-test (Alpaydin 1999)\n\n%s",
              name_a.c_str(), name_b.c_str(), md.c_str());
}

}  // namespace

void setup_cv(CLI::App& app, const GlobalOptions& global) {
  auto cmd = std::make_shared<CvCommand>();
  CLI::App* sub = app.add_subcommand("cv", "Cross-validate a training config (k-fold or 5x2), optionally against another");
  sub->add_option("--config", cmd->config, "Training config (YAML or JSON)")->required()->check(CLI::ExistingFile);
  sub->add_option("--compare", cmd->compare, "Second config, run on the same folds and compared by the 5x2cv tests")
      ->check(CLI::ExistingFile);
  sub->add_option("--scheme", cmd->scheme, "kfold (stratified k-fold) or 5x2 (five stratified halvings)")
      ->check(CLI::IsMember({"kfold", "5x2"}));
  sub->add_option("--folds", cmd->folds, "k of k-fold")->check(CLI::Range(2, 100));
  sub->add_option("--seed", cmd->seed, "Seed of the fold assignment (default: the config's data.split.seed)");
  sub->add_option("--group-by", cmd->group_by,
                  "Keep groups whole: a regex over file names (first capture group, else the match) or "
                  "column:NAME of the label CSV");
  sub->add_option("--out", cmd->out, "Output folder (default runs/cv_<config name>)");
  sub->add_flag("--resume", cmd->resume, "Finish a cross-validation in --out, reusing finished folds");
  sub->add_option("--epochs", cmd->epochs, "Number of epochs (overrides train.epochs)")->check(CLI::PositiveNumber);
  sub->add_option("--set", cmd->overrides, "Override a config value in both configs: key.path=value (repeatable)");
  add_compute_flags(*sub, cmd->compute, false);
  sub->callback([cmd, &global] { run_cv(*cmd, global); });
}

}  // namespace hemapath::cli
