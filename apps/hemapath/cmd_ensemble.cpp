// hemapath ensemble: joins trained classifiers of the same classes and inputs into one model
// file whose predictions are their mean log-probabilities (models/ensemble.h).
#include <cstdio>
#include <filesystem>
#include <memory>

#include "commands.h"
#include "hemapath/models/ensemble.h"

namespace hemapath::cli {
namespace {

struct EnsembleCommand {
  std::vector<std::string> members;
  std::string out, precision = "float16";
};

void run_ensemble(const EnsembleCommand& cmd, const GlobalOptions& global) {
  apply_global(global);
  const WeightPrecision precision = weight_precision(cmd.precision);
  const ClassifierHeader header = save_ensemble_file(cmd.members, cmd.out, precision);
  std::printf("ensemble of %zu classifiers (", cmd.members.size());
  for (size_t i = 0; i < cmd.members.size(); ++i) {
    const nlohmann::json& member = header.options.extra["members"][i];
    const nlohmann::json& training = header.training["members"][i];
    std::printf("%s%s %s seed %s", i ? ", " : "", cmd.members[i].c_str(), member["arch"].get<std::string>().c_str(),
                training.value("seed", nlohmann::json()).dump().c_str());
  }
  std::printf(") -> %s (%.1f MB, %s weights)\n", cmd.out.c_str(), std::filesystem::file_size(cmd.out) / 1e6,
              cmd.precision.c_str());
}

}  // namespace

void setup_ensemble(CLI::App& app, const GlobalOptions& global) {
  auto cmd = std::make_shared<EnsembleCommand>();
  CLI::App* sub = app.add_subcommand(
      "ensemble",
      "Join trained classifiers (same classes, crop and normalisation) into one model file that averages "
      "their log-probabilities");
  sub->add_option("models", cmd->members, "Classifier model files (.hpm), at least two")->required();
  sub->add_option("--out", cmd->out, "The ensemble's model file")->required();
  add_precision_flag(*sub, cmd->precision);
  sub->callback([cmd, &global] { run_ensemble(*cmd, global); });
}

}  // namespace hemapath::cli
