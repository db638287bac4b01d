// hemapath predict: classifies images (a CSV of classes) or segments them (maps, cells and
// their measurements), as the model file's task says.
#include <cstdio>
#include <filesystem>
#include <map>
#include <memory>

#include "commands.h"
#include "hemapath/core/device.h"
#include "hemapath/core/error.h"
#include "hemapath/infer/predictor.h"
#include "hemapath/models/model_file.h"
#include "segmentation_predict.h"

namespace hemapath::cli {
namespace {

struct PredictCommand {
  ComputeFlags compute;
  std::string model;
  std::vector<std::string> inputs;
  std::string masks;
  std::string out;
  CellFlags cells;
  int symmetries = 1;
};

void run_predict(const PredictCommand& cmd, const GlobalOptions& global) {
  apply_global(global);
  set_threads(cmd.compute.threads);
  if (read_model_header(cmd.model).value("task", "") == "segmentation") {
    HP_CHECK(cmd.masks.empty(), InputError, "--masks applies to classification models; '", cmd.model,
             "' is a segmentation model");
    return predict_segmentation(cmd.model, cmd.inputs, cmd.out.empty() ? "predictions" : cmd.out, cmd.cells,
                                cmd.compute.inference());
  }
  PredictorOptions options;
  options.inference = cmd.compute.inference();
  options.batch_size = cmd.compute.batch_size;
  options.workers = cmd.compute.workers;
  options.symmetries = cmd.symmetries;
  ClassifierPredictor predictor(cmd.model, options);
  std::vector<Sample> samples = collect_prediction_inputs(cmd.inputs, cmd.masks);
  PredictionResult result = predictor.predict(samples);

  namespace fs = std::filesystem;
  std::string out = cmd.out.empty() ? "predictions.csv" : cmd.out;
  if (fs::is_directory(out) || fs::path(out).extension() != ".csv") out = (fs::path(out) / "predictions.csv").string();
  const auto& classes = predictor.header().classes;
  write_predictions_csv(out, samples, result, classes);

  std::map<std::string, int> counts;
  for (int k : result.predicted) ++counts[classes[k]];
  std::printf("%zu images classified by %s in %.2f s (%.1f images/s)\n", samples.size(), cmd.model.c_str(),
              result.seconds, result.images_per_second);
  for (const auto& c : classes)
    std::printf("  %-14s %5d  %5.1f%%\n", c.c_str(), counts[c], 100.0 * counts[c] / samples.size());
  std::printf("predictions: %s\n", out.c_str());
}

}  // namespace

void setup_predict(CLI::App& app, const GlobalOptions& global) {
  auto cmd = std::make_shared<PredictCommand>();
  CLI::App* sub = app.add_subcommand(
      "predict", "Classify or segment images (files, folders or CSV lists) with a model file");
  sub->add_option("--model", cmd->model, "Model file (.hpm)")->required();
  sub->add_option("inputs", cmd->inputs, "Images, folders of images, or CSV files with an 'image' column")->required();
  sub->add_option("--masks", cmd->masks,
                  "Folder of <image stem>.png cell masks: each cell is cut out as in training (otherwise the whole "
                  "image is the cell)");
  sub->add_option("--out", cmd->out,
                  "Classification: output CSV file, or a folder to hold predictions.csv (default predictions.csv). "
                  "Segmentation: output folder (default predictions/)");
  add_cell_flags(*sub, cmd->cells);
  add_symmetry_flag(*sub, cmd->symmetries);
  add_compute_flags(*sub, cmd->compute, true);
  add_inference_flags(*sub, cmd->compute);
  sub->callback([cmd, &global] { run_predict(*cmd, global); });
}

}  // namespace hemapath::cli
