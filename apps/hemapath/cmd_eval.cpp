// hemapath eval: scores a model on labelled images and writes a report.
#include <cstdio>
#include <memory>

#include "commands.h"
#include "hemapath/core/device.h"
#include "hemapath/data/classification_dataset.h"
#include "hemapath/models/model_file.h"
#include "hemapath/train/eval_set.h"
#include "hemapath/train/evaluate.h"
#include "hemapath/train/report_writer.h"

namespace hemapath::cli {
namespace {

struct EvalCommand {
  ComputeFlags compute;
  std::string model;
  EvalSetRequest set;
  std::string out;
};

void run_eval(const EvalCommand& cmd, const GlobalOptions& global) {
  apply_global(global);
  set_threads(cmd.compute.threads);
  const c10::Device device = resolve_device(cmd.compute.device);
  LoadedClassifier loaded = load_classifier(cmd.model, device);
  EvalSet set = resolve_eval_set(loaded.header, cmd.set);

  ClassificationDataset dataset(set.data.samples, loaded.header.inference_data_options());
  EvalResult r = evaluate_dataset(*loaded.model, dataset, set.indices, loaded.header.classes,
                                  cmd.compute.batch_size, device, cmd.compute.workers);

  std::printf("%s on %s\n", cmd.model.c_str(), set.description.c_str());
  std::printf("accuracy %.4f  balanced accuracy %.4f  macro-F1 %.4f  weighted-F1 %.4f  loss %.4f\n", r.report.accuracy,
              r.report.balanced_accuracy, r.report.macro_f1, r.report.weighted_f1, r.loss);
  std::printf("%-14s %9s %9s %9s %8s\n", "class", "precision", "recall", "f1", "support");
  for (const auto& c : r.report.per_class)
    std::printf("%-14s %9.4f %9.4f %9.4f %8lld\n", c.name.c_str(), c.precision, c.recall, c.f1,
                static_cast<long long>(c.support));
  std::printf("inference: %.1f images/s (%zu images in %.2f s, decoding included)\n", r.predictions.images_per_second,
              set.indices.size(), r.predictions.seconds);
  if (!cmd.out.empty()) {
    nlohmann::json extra = {{"model", cmd.model},
                            {"evaluated_on", set.description},
                            {"loss", r.loss},
                            {"images_per_second", r.predictions.images_per_second}};
    write_classification_report(cmd.out, r.report, extra);
    std::printf("report: %s/report.json, confusion.csv, confusion.png, per_class.csv\n", cmd.out.c_str());
  }
}

}  // namespace

void setup_eval(CLI::App& app, const GlobalOptions& global) {
  auto cmd = std::make_shared<EvalCommand>();
  CLI::App* sub = app.add_subcommand("eval", "Evaluate a classifier on labelled images");
  sub->add_option("--model", cmd->model, "Model file (.hpm)")->required();
  auto* config = sub->add_option("--config", cmd->set.config,
                                 "Training config: evaluates a part of its split (default: the config stored in the model)");
  sub->add_option("--data", cmd->set.data_dir, "Folder: labels.csv (+ images/, masks/) or class folders, evaluated whole")
      ->excludes(config);
  sub->add_option("--split", cmd->set.split, "train, val, test or all");
  sub->add_option("--set", cmd->set.overrides, "Override a value of --config: key.path=value");
  sub->add_option("--out", cmd->out, "Folder for report.json, confusion.csv/.png, per_class.csv");
  add_compute_flags(*sub, cmd->compute, true);
  sub->callback([cmd, &global] { run_eval(*cmd, global); });
}

}  // namespace hemapath::cli
