// hemapath eval: scores a classification or segmentation model (the model file's task) on
// labelled images and writes a report.
#include <cstdio>
#include <filesystem>
#include <memory>

#include "commands.h"
#include "hemapath/core/atomic_file.h"
#include "hemapath/core/device.h"
#include "hemapath/core/error.h"
#include "hemapath/data/classification_dataset.h"
#include "hemapath/infer/predictor.h"
#include "hemapath/io/csv.h"
#include "hemapath/models/model_file.h"
#include "hemapath/train/eval_set.h"
#include "hemapath/train/evaluate.h"
#include "hemapath/train/report_writer.h"
#include "hemapath/train/segmentation_config.h"
#include "hemapath/train/segmentation_evaluation.h"

namespace hemapath::cli {
namespace {

struct EvalCommand {
  ComputeFlags compute;
  std::string model;
  EvalSetRequest set;
  std::string out;
  CellFlags cells;
  int symmetries = 1;
  std::string record_in;  ///< --record-in: a copy of the model with these figures in its header
};

// --record-in: adds `figures` to the header's "evaluations" list in a copy of the model file,
// so that a bundled model carries its held-out figures (`hemapath info` shows them).
void record_evaluation(const EvalCommand& cmd, const nlohmann::json& figures) {
  if (cmd.record_in.empty()) return;
  nlohmann::json header = read_model_header(cmd.model);
  header["evaluations"].push_back(figures);
  copy_model_file_with_header(cmd.model, cmd.record_in, header);
  std::printf("recorded in the header of %s\n", cmd.record_in.c_str());
}

void write_segmentation_report(const std::string& out, const SegmentationEvaluation& e,
                               const std::vector<std::string>& classes, nlohmann::json extra) {
  nlohmann::json report = e.to_json(classes);
  report.update(extra);
  CsvWriter csv({"image", "pixel_accuracy", "foreground_miou", "cells_true", "cells_predicted", "f1_at_0.5",
                 "dsb_map", "aji"});
  for (const auto& s : e.per_image) {
    std::vector<std::string> row = {s.image, format_number(s.pixel_accuracy), format_number(s.foreground_miou)};
    if (s.instances)
      for (double v : {double(s.instances->truth_instances), double(s.instances->pred_instances), s.instances->f1,
                       s.instances->dsb_map, s.instances->aji})
        row.push_back(format_number(v));
    row.resize(8);
    csv.add_row(row);
  }
  std::filesystem::create_directories(out);
  csv.write((std::filesystem::path(out) / "per_image.csv").string());
  write_text_atomic(std::filesystem::path(out) / "report.json", report.dump(2) + "\n");
}

void run_segmentation_eval(const EvalCommand& cmd, const c10::Device& device) {
  const SegmentationPredictor predictor(cmd.model, device);
  const SegmenterHeader& header = predictor.header();
  const SegmentationEvalSet set = resolve_segmentation_eval_set(header, cmd.set);
  const InstanceOptions cells = cmd.cells.applied_to(predictor.instance_options());
  const SegmentationEvaluation e = evaluate_segmentation(predictor, set.pairs, set.spec, cells);

  std::printf("%s on %s\n", cmd.model.c_str(), set.description.c_str());
  std::printf("pixel accuracy %.4f  mean IoU %.4f  foreground mIoU %.4f  mean Dice %.4f  foreground IoU %.4f\n",
              e.confusion.pixel_accuracy(), e.confusion.mean_iou(), foreground_mean_iou(e.confusion),
              e.confusion.mean_dice(), e.foreground.iou()[1]);
  std::printf("%-14s %9s %9s\n", "class", "IoU", "Dice");
  const std::vector<double> iou = e.confusion.iou(), dice = e.confusion.dice();
  for (size_t c = 0; c < header.classes.size(); ++c)
    std::printf("%-14s %9.4f %9.4f\n", header.classes[c].c_str(), iou[c], dice[c]);
  if (e.instances) {
    const InstanceMetrics& m = *e.instances;
    std::printf("cells (%s): %lld true, %lld predicted; at IoU 0.5 precision %.4f recall %.4f F1 %.4f; "
                "DSB mAP %.4f; AJI %.4f\n",
                predictor.cell_separation(cells).c_str(), static_cast<long long>(m.truth_instances),
                static_cast<long long>(m.pred_instances), m.precision, m.recall, m.f1, m.dsb_map, m.aji);
  }
  std::printf("inference: %.1f images/s (%zu images in %.2f s, decoding and cell extraction included)\n",
              e.images_per_second, set.pairs.size(), e.seconds);
  nlohmann::json figures = {{"evaluated_on", set.description},
                             {"images", set.pairs.size()},
                             {"pixel_accuracy", e.confusion.pixel_accuracy()},
                             {"mean_iou", e.confusion.mean_iou()},
                             {"foreground_miou", foreground_mean_iou(e.confusion)}};
  if (e.instances) figures["cell_f1"] = e.instances->f1;
  record_evaluation(cmd, figures);
  if (!cmd.out.empty()) {
    write_segmentation_report(cmd.out, e, header.classes,
                              {{"model", cmd.model},
                               {"evaluated_on", set.description},
                               {"instance_options", instance_options_to_json(cells)}});
    std::printf("report: %s/report.json, per_image.csv\n", cmd.out.c_str());
  }
}

void run_eval(const EvalCommand& cmd, const GlobalOptions& global) {
  apply_global(global);
  set_threads(cmd.compute.threads);
  const c10::Device device = resolve_device(cmd.compute.device);
  HP_CHECK(cmd.record_in.empty() || !is_same_existing_file(cmd.model, cmd.record_in), InputError, "--record-in: '", cmd.record_in, "' is the model being evaluated: write to another file");
  if (read_model_header(cmd.model).value("task", "") == "segmentation") return run_segmentation_eval(cmd, device);
  LoadedClassifier loaded = load_classifier(cmd.model, device);
  EvalSet set = resolve_eval_set(loaded.header, cmd.set);

  ClassificationDataset dataset(set.data.samples, loaded.header.inference_data_options());
  EvalResult r = score_predictions(predict_dataset(*loaded.model, dataset, set.indices, cmd.compute.batch_size, device,
                                                   cmd.compute.workers, cmd.symmetries),
                                   loaded.header.classes);

  std::printf("%s on %s\n", cmd.model.c_str(), set.description.c_str());
  std::printf("accuracy %.4f  balanced accuracy %.4f  macro-F1 %.4f  weighted-F1 %.4f  loss %.4f\n", r.report.accuracy,
              r.report.balanced_accuracy, r.report.macro_f1, r.report.weighted_f1, r.loss);
  std::printf("%-14s %9s %9s %9s %8s\n", "class", "precision", "recall", "f1", "support");
  for (const auto& c : r.report.per_class)
    std::printf("%-14s %9.4f %9.4f %9.4f %8lld\n", c.name.c_str(), c.precision, c.recall, c.f1,
                static_cast<long long>(c.support));
  std::printf("inference: %.1f images/s (%zu images in %.2f s, decoding included)\n", r.predictions.images_per_second,
              set.indices.size(), r.predictions.seconds);
  nlohmann::json per_class_f1 = nlohmann::json::object();
  for (const auto& c : r.report.per_class) per_class_f1[c.name] = c.f1;
  record_evaluation(cmd, {{"evaluated_on", set.description},
                          {"images", set.indices.size()},
                          {"symmetry_views", cmd.symmetries},
                          {"accuracy", r.report.accuracy},
                          {"balanced_accuracy", r.report.balanced_accuracy},
                          {"macro_f1", r.report.macro_f1},
                          {"loss", r.loss},
                          {"per_class_f1", per_class_f1}});
  if (!cmd.out.empty()) {
    nlohmann::json extra = {{"model", cmd.model},
                            {"evaluated_on", set.description},
                            {"loss", r.loss},
                            {"symmetry_views", cmd.symmetries},
                            {"images_per_second", r.predictions.images_per_second}};
    write_classification_report(cmd.out, r.report, extra);
    std::vector<Sample> evaluated;
    for (size_t i : set.indices) evaluated.push_back(set.data.samples[i]);
    write_predictions_csv((std::filesystem::path(cmd.out) / "predictions.csv").string(), evaluated, r.predictions,
                          loaded.header.classes);
    std::printf("report: %s/report.json, confusion.csv, confusion.png, per_class.csv, predictions.csv\n",
                cmd.out.c_str());
  }
}

}  // namespace

void setup_eval(CLI::App& app, const GlobalOptions& global) {
  auto cmd = std::make_shared<EvalCommand>();
  CLI::App* sub = app.add_subcommand("eval", "Evaluate a classification or segmentation model on labelled images");
  sub->add_option("--model", cmd->model, "Model file (.hpm)")->required();
  auto* config = sub->add_option("--config", cmd->set.config,
                                 "Training config: evaluates a part of its split (default: the config stored in the model)");
  sub->add_option("--data", cmd->set.data_dir,
                  "Folder evaluated whole: labels.csv (+ images/, masks/) or class folders (classification), "
                  "images/ + masks/ (segmentation)")
      ->excludes(config);
  sub->add_option("--split", cmd->set.split, "train, val, test or all");
  sub->add_option("--set", cmd->set.overrides, "Override a value of --config: key.path=value");
  sub->add_option("--out", cmd->out,
                  "Folder for the report: report.json, confusion.csv/.png, per_class.csv (classification); "
                  "report.json, per_image.csv (segmentation)");
  sub->add_option("--record-in", cmd->record_in,
                  "Also write a copy of the model whose header records these figures (weights unchanged; "
                  "`hemapath info` lists them)");
  add_cell_flags(*sub, cmd->cells);
  add_symmetry_flag(*sub, cmd->symmetries);
  add_compute_flags(*sub, cmd->compute, true);
  sub->callback([cmd, &global] { run_eval(*cmd, global); });
}

}  // namespace hemapath::cli
