// hemapath calibrate: writes a classifier's prior correction (train/prior_correction.h) into a
// new model file, tau chosen on the validation part of the model's own split or on a folder of
// labelled images (e.g. a lab's own validation smears).
#include <cstdio>
#include <filesystem>
#include <memory>
#include <set>

#include "commands.h"
#include "hemapath/core/atomic_file.h"
#include "hemapath/core/device.h"
#include "hemapath/core/error.h"
#include "hemapath/core/log.h"
#include "hemapath/data/classification_dataset.h"
#include "hemapath/models/model_file.h"
#include "hemapath/train/eval_set.h"
#include "hemapath/train/prior_correction.h"

namespace hemapath::cli {
namespace {
namespace fs = std::filesystem;

struct CalibrateCommand {
  ComputeFlags compute;
  std::string model, out, split = "val", data, objective = "loss", precision;
  double tau = -1;  // < 0: chosen on the split
  int symmetries = 1;
};

// 0, 0.05, ..., 1: from no correction to undoing fully balanced weights.
std::vector<double> tau_grid() {
  std::vector<double> taus;
  for (int i = 0; i <= 20; ++i) taus.push_back(i * 0.05);
  return taus;
}

// Tau chosen on images the network learnt from is too small (it is surer of them than of new
// ones), so say when a --data folder repeats training images.
void warn_if_training_images(const EvalSet& train, const EvalSet& chosen_on) {
  std::set<fs::path> training;
  for (size_t i : train.indices) training.insert(fs::weakly_canonical(train.data.samples[i].image_path));
  size_t repeated = 0;
  for (size_t i : chosen_on.indices)
    repeated += training.count(fs::weakly_canonical(chosen_on.data.samples[i].image_path));
  if (repeated > 0)
    logger("calibrate")
        ->warn("{} of the {} images of {} are training images of the model: tau chosen on them undercorrects",
               repeated, chosen_on.indices.size(), chosen_on.description);
}

void run_calibrate(const CalibrateCommand& cmd, const GlobalOptions& global) {
  apply_global(global);
  set_threads(cmd.compute.threads);
  HP_CHECK(!is_same_existing_file(cmd.model, cmd.out), InputError, "calibrate: '", cmd.out,
           "' is the input file: write to another file");
  nlohmann::json header = read_model_header(cmd.model);
  HP_CHECK(header.value("task", "") == "classification", InputError, "calibrate: '", cmd.model,
           "' is not a classifier");
  HP_CHECK(!header.contains("calibration"), InputError, "calibrate: '", cmd.model,
           "' already carries a prior correction (tau ", header["calibration"].value("tau", 0.0),
           "): calibrate the file it was made from");
  const WeightPrecision precision =
      weight_precision(cmd.precision.empty() ? header.value("weights_precision", "float32") : cmd.precision);
  const c10::Device device = resolve_device(cmd.compute.device);
  LoadedClassifier loaded = load_classifier(cmd.model, device);
  HP_CHECK(loaded.header.training.contains("config"), InputError, "calibrate: '", cmd.model,
           "' records no training config, so the class shares of its training images are unknown");

  const EvalSet train = resolve_eval_set(loaded.header, {"", "", "train", {}});
  std::vector<int> train_labels;
  for (size_t i : train.indices) train_labels.push_back(train.data.samples[i].label);
  const std::vector<double> prior = class_shares(train_labels, loaded.header.classes);

  const EvalSet set = cmd.data.empty() ? resolve_eval_set(loaded.header, {"", "", cmd.split, {}})
                                       : resolve_eval_set(loaded.header, {"", cmd.data, "all", {}});
  warn_if_training_images(train, set);
  const ClassificationDataset dataset(set.data.samples, loaded.header.inference_data_options());
  const PredictionResult predictions = predict_dataset(*loaded.model, dataset, set.indices, cmd.compute.batch_size,
                                                       device, cmd.compute.workers, cmd.symmetries);
  const std::vector<PriorCorrectionTrial> trials = try_prior_corrections(
      predictions, loaded.header.classes, prior, cmd.tau < 0 ? tau_grid() : std::vector<double>{0, cmd.tau});
  const size_t chosen = cmd.tau < 0 ? best_prior_correction(trials, cmd.objective) : 1;

  std::printf("%s on %s, %d view(s); training class shares from %zu images\n", cmd.model.c_str(),
              set.description.c_str(), cmd.symmetries, train.indices.size());
  std::printf("%6s %9s %9s %8s\n", "tau", "accuracy", "macro-F1", "loss");
  nlohmann::json tried = nlohmann::json::array();
  for (size_t i = 0; i < trials.size(); ++i) {
    const PriorCorrectionTrial& t = trials[i];
    std::printf("%6.2f %9.4f %9.4f %8.4f%s\n", t.tau, t.accuracy, t.macro_f1, t.loss, i == chosen ? "  <-" : "");
    tried.push_back(to_json(t));
  }

  add_output_bias(*loaded.model, prior_correction_bias(prior, trials[chosen].tau));
  header["calibration"] = {{"method", "prior_correction"},
                           {"tau", trials[chosen].tau},
                           {"chosen_by", cmd.tau < 0 ? cmd.objective : "--tau"},
                           {"class_prior", prior},
                           {"evaluated_on", set.description},
                           {"symmetry_views", cmd.symmetries},
                           {"before", to_json(trials.front())},
                           {"after", to_json(trials[chosen])},
                           {"trials", tried}};
  save_model_file(cmd.out, header, *loaded.model, precision);
  std::printf("tau %.2f: accuracy %.4f -> %.4f, macro-F1 %.4f -> %.4f; written to %s\n", trials[chosen].tau,
              trials.front().accuracy, trials[chosen].accuracy, trials.front().macro_f1, trials[chosen].macro_f1,
              cmd.out.c_str());
}

}  // namespace

void setup_calibrate(CLI::App& app, const GlobalOptions& global) {
  auto cmd = std::make_shared<CalibrateCommand>();
  CLI::App* sub = app.add_subcommand(
      "calibrate",
      "Correct a classifier trained with class weights or balanced sampling for the classes' real shares "
      "(logits + tau x log prior), tau chosen on its validation images");
  sub->add_option("--model", cmd->model, "Classifier model file (.hpm) with its training config")->required();
  sub->add_option("--out", cmd->out, "New model file")->required();
  auto* split =
      sub->add_option("--split", cmd->split, "Part of the model's split that chooses tau: val (default), train or test")
          ->check(CLI::IsMember({"train", "val", "test"}));
  sub->add_option("--data", cmd->data,
                  "Choose tau on every image of this folder instead (labels.csv or class folders), e.g. crops of "
                  "smears the model never learnt from")
      ->excludes(split);
  sub->add_option("--objective", cmd->objective,
                  "What tau optimises on that part: loss (cross-entropy, the default), accuracy or macro_f1")
      ->check(CLI::IsMember(prior_correction_objectives()));
  sub->add_option("--tau", cmd->tau, "Use this tau instead of choosing one (0 = no correction)")
      ->check(CLI::Range(0.0, 4.0));
  sub->add_option("--precision", cmd->precision,
                  "Weights of the new file: float32, float16 or int8 (default: as the input's)")
      ->check(CLI::IsMember(weight_precision_names()));
  add_symmetry_flag(*sub, cmd->symmetries);
  add_compute_flags(*sub, cmd->compute, true);
  sub->callback([cmd, &global] { run_calibrate(*cmd, global); });
}

}  // namespace hemapath::cli
