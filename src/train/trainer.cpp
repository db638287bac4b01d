#include "hemapath/train/trainer.h"

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <numeric>

#include "hemapath/core/atomic_file.h"
#include "hemapath/core/error.h"
#include "hemapath/core/log.h"
#include "hemapath/core/progress.h"
#include "hemapath/core/random.h"
#include "hemapath/data/batch_loader.h"
#include "hemapath/data/class_balance.h"
#include "hemapath/data/classification_dataset.h"
#include "hemapath/data/grouped_folds.h"
#include "hemapath/data/split.h"
#include "hemapath/io/csv.h"
#include "hemapath/io/plot.h"
#include "hemapath/models/model_file.h"
#include "hemapath/models/pretrained.h"
#include "hemapath/models/registry.h"
#include "hemapath/train/batch_norm_recalibration.h"
#include "hemapath/train/distributed.h"
#include "hemapath/train/epoch_loop.h"
#include "hemapath/train/evaluate.h"
#include "hemapath/train/freezing.h"
#include "hemapath/train/loss_prediction.h"
#include "hemapath/train/memory_format.h"
#include "hemapath/train/prior_correction.h"

namespace hemapath {
namespace fs = std::filesystem;

namespace {

double monitored_value(const std::string& monitor, const EvalResult& eval) {
  return monitor == "loss" ? -eval.loss : metric_by_name(eval.report, monitor);
}

std::vector<EpochRecord> records(const nlohmann::json& history) {
  std::vector<EpochRecord> out;
  for (const auto& r : history) out.push_back(EpochRecord::from_json(r));
  return out;
}

// Without a validation part (`validated` false) the val columns are left empty and not plotted
// (zeros there would read as a model that gets nothing right), and the training loss picks the
// best epoch instead of `monitor`.
void write_history(const fs::path& dir, const std::vector<EpochRecord>& history, const std::string& monitor,
                   bool validated) {
  CsvWriter csv({"epoch", "lr", "train_loss", "train_accuracy", "val_loss", "val_accuracy", "val_macro_f1",
                 "val_balanced_accuracy", "seconds", "train_images_per_s", "val_images_per_s"});
  PlotSeries train_loss{"train loss", {}, {}}, val_loss{"val loss", {}, {}};
  PlotSeries train_acc{"train accuracy", {}, {}}, val_acc{"val accuracy", {}, {}}, val_f1{"val macro-F1", {}, {}};
  auto val_figure = [&](double v, int digits = 6) { return validated ? format_number(v, digits) : std::string(); };
  for (const auto& r : history) {
    csv.add_row({std::to_string(r.epoch), format_number(r.lr), format_number(r.train_loss),
                 format_number(r.train_accuracy), val_figure(r.val_loss), val_figure(r.val_accuracy),
                 val_figure(r.val_macro_f1), val_figure(r.val_balanced_accuracy), format_number(r.seconds, 4),
                 format_number(r.train_images_per_second, 4), val_figure(r.val_images_per_second, 4)});
    const double x = r.epoch;
    train_loss.x.push_back(x), train_loss.y.push_back(r.train_loss);
    val_loss.x.push_back(x), val_loss.y.push_back(r.val_loss);
    train_acc.x.push_back(x), train_acc.y.push_back(r.train_accuracy);
    val_acc.x.push_back(x), val_acc.y.push_back(r.val_accuracy);
    val_f1.x.push_back(x), val_f1.y.push_back(r.val_macro_f1);
  }
  csv.write((dir / "log.csv").string());
  LinePlotOptions loss_panel{"Loss", "epoch", "cross-entropy"};
  LinePlotOptions metric_panel{std::string(validated ? "Accuracy and macro-F1" : "Training accuracy") +
                                   " (best epoch by " + (validated ? monitor : "train loss") + ")",
                               "epoch", "score"};
  const std::vector<std::vector<PlotSeries>> panels =
      validated ? std::vector<std::vector<PlotSeries>>{{train_loss, val_loss}, {train_acc, val_acc, val_f1}}
                : std::vector<std::vector<PlotSeries>>{{train_loss}, {train_acc}};
  write_line_plots((dir / "curves.png").string(), panels, {loss_panel, metric_panel});
}

void write_split(const fs::path& dir, const LabeledSamples& data, const SplitIndices& split) {
  CsvWriter csv({"image", "label", "part"});
  auto add = [&](const std::vector<size_t>& part, const char* name) {
    for (size_t i : part)
      csv.add_row({data.samples[i].image_path, data.class_names[data.samples[i].label], name});
  };
  add(split.train, "train");
  add(split.val, "val");
  add(split.test, "test");
  csv.write((dir / "split.csv").string());
}

// Sums over one pass of optimisation steps.
struct PassTotals {
  double loss_sum = 0;
  int64_t seen = 0, correct = 0;
  double seconds = 0;
  double mean_loss() const { return seen ? loss_sum / seen : 0; }
  double accuracy() const { return seen ? static_cast<double>(correct) / seen : 0; }
};

// One optimiser step per batch. The batch runs as `micro_batches` parts, each part's mean loss
// weighted by its share of the batch; with a group, the gradients are then averaged over the
// ranks, each of which ran its own part of the global batch.
PassTotals train_one_pass(ClassifierImpl& model, EpochLoop& loop, BatchLoader& loader,
                          const torch::nn::functional::CrossEntropyFuncOptions& loss_options,
                          const LossHeadConfig& head, bool detach_head, const c10::Device& device,
                          TrainingLayout layout, int micro_batches, DistributedGroup* group, Progress& progress,
                          int epoch) {
  const auto start = std::chrono::steady_clock::now();
  const std::vector<torch::Tensor> parameters = model.parameters();
  torch::optim::Optimizer& optimizer = loop.optimizer();
  PassTotals t;
  while (auto batch = loader.next()) {
    torch::Tensor images = batch->images.to(device), targets = batch->labels.to(device);
    const int64_t n = images.size(0);
    const int parts = static_cast<int>(std::min<int64_t>(micro_batches, n));
    optimizer.zero_grad();
    for (int part = 0; part < parts; ++part) {
      const auto [first, last] = part_bounds(static_cast<size_t>(n), {part, parts});
      const torch::Tensor x = to_layout(images.slice(0, first, last), layout), y = targets.slice(0, first, last);
      const LossTerms terms = classification_loss_terms(model, x, y, loss_options, head, detach_head);
      // The reported loss is the classification loss alone, comparable with and without a loss head.
      const double loss_value = terms.classification.item<double>();
      HP_CHECK(std::isfinite(loss_value) && std::isfinite(terms.total.item<double>()), Error,
               "training diverged at epoch ", epoch + 1, ": the loss is not finite (try a lower learning rate)");
      const double share = static_cast<double>(last - first) / static_cast<double>(n);
      (parts == 1 ? terms.total : terms.total * share).backward();
      t.loss_sum += loss_value * static_cast<double>(last - first);
      t.correct += terms.logits.argmax(1).eq(y).sum().item<int64_t>();
    }
    if (group) group->average_gradients(parameters, n);
    optimizer.step();
    loop.after_step();
    t.seen += n;
    progress.set_metric("loss", t.mean_loss());
    progress.advance(n);
  }
  progress.finish();
  t.seconds = seconds_since(start);
  if (group) {
    const std::vector<double> sums = group->sum({t.loss_sum, double(t.seen), double(t.correct)});
    t.loss_sum = sums[0];
    t.seen = static_cast<int64_t>(sums[1]);
    t.correct = static_cast<int64_t>(sums[2]);
  }
  return t;
}

// Validation: in a distributed run each rank predicts every world_size-th image, and the
// confusion counts and loss sums are added over the ranks (the result then holds no
// per-image predictions, only the report, the loss and the rate).
EvalResult evaluate_split(ClassifierImpl& model, const ClassificationDataset& dataset,
                          const std::vector<size_t>& indices, const std::vector<std::string>& class_names,
                          int batch_size, const c10::Device& device, int workers, DistributedGroup* group) {
  if (!group) return evaluate_dataset(model, dataset, indices, class_names, batch_size, device, workers);
  std::vector<size_t> share;
  for (size_t k = static_cast<size_t>(group->rank()); k < indices.size(); k += static_cast<size_t>(group->world_size()))
    share.push_back(indices[k]);
  const int classes = static_cast<int>(class_names.size());
  const size_t cells = static_cast<size_t>(classes) * classes;
  std::vector<double> totals(cells + 3, 0.0);  // confusion counts, loss sum, images, seconds
  if (!share.empty()) {
    const EvalResult mine = evaluate_dataset(model, dataset, share, class_names, batch_size, device, workers);
    const auto rows = mine.report.confusion.rows();
    for (int r = 0; r < classes; ++r)
      for (int c = 0; c < classes; ++c) totals[static_cast<size_t>(r) * classes + c] = double(rows[r][c]);
    totals[cells] = mine.loss * double(share.size());
    totals[cells + 1] = double(share.size());
    totals[cells + 2] = mine.predictions.seconds;
  }
  totals = group->sum(totals);
  ConfusionMatrix confusion(classes);
  for (int r = 0; r < classes; ++r)
    for (int c = 0; c < classes; ++c)
      confusion.add(r, c, static_cast<int64_t>(totals[static_cast<size_t>(r) * classes + c]));
  EvalResult out;
  out.report = classification_report(confusion, class_names);
  out.loss = totals[cells] / totals[cells + 1];
  out.predictions.seconds = totals[cells + 2] / group->world_size();
  out.predictions.images_per_second = out.predictions.seconds > 0 ? totals[cells + 1] / out.predictions.seconds : 0;
  return out;
}

}  // namespace

nlohmann::json EpochRecord::to_json() const {
  return {{"epoch", epoch},
          {"lr", lr},
          {"train_loss", train_loss},
          {"train_accuracy", train_accuracy},
          {"val_loss", val_loss},
          {"val_accuracy", val_accuracy},
          {"val_macro_f1", val_macro_f1},
          {"val_balanced_accuracy", val_balanced_accuracy},
          {"seconds", seconds},
          {"train_images_per_second", train_images_per_second},
          {"val_images_per_second", val_images_per_second}};
}

EpochRecord EpochRecord::from_json(const nlohmann::json& j) {
  EpochRecord r;
  r.epoch = j.at("epoch");
  r.lr = j.at("lr");
  r.train_loss = j.at("train_loss");
  r.train_accuracy = j.at("train_accuracy");
  r.val_loss = j.at("val_loss");
  r.val_accuracy = j.at("val_accuracy");
  r.val_macro_f1 = j.at("val_macro_f1");
  r.val_balanced_accuracy = j.at("val_balanced_accuracy");
  r.seconds = j.at("seconds");
  r.train_images_per_second = j.at("train_images_per_second");
  r.val_images_per_second = j.at("val_images_per_second");
  return r;
}

SplitIndices split_for(const SplitConfig& split, const std::vector<int>& labels,
                       const std::vector<std::string>& groups) {
  HP_CHECK(split.group_by.empty() || !groups.empty(), ConfigError, "data.split.group_by '", split.group_by,
           "' applies to classification data only");
  SplitIndices parts;
  if (groups.empty()) {
    parts = stratified_split(labels, split.train, split.val, split.test, split.seed);
  } else {
    auto grouped = stratified_group_partition(all_indices(labels.size()), labels, groups,
                                              {split.train, split.val, split.test}, split.seed);
    parts = {std::move(grouped[0]), std::move(grouped[1]), std::move(grouped[2])};
  }
  if (split.train_subset < 1)
    parts.train = stratified_split_of(parts.train, labels, split.train_subset, 1 - split.train_subset, 0,
                                      split.subset_seed)
                      .train;
  return parts;
}

SplitIndices split_samples(const SplitConfig& split, const DatasetSpec& spec, const LabeledSamples& data) {
  return split_for(split, data.labels(), sample_groups(spec, data.samples, split.group_by, "data.split.group_by"));
}

TrainResult train_classifier(const TrainConfig& config, const TrainRunOptions& options) {
  auto log = logger("train");
  const auto started = std::chrono::steady_clock::now();
  const fs::path dir(options.out_dir);
  check_run_folder(options.out_dir, options.resume);
  const nlohmann::json config_json = config.to_json();
  seed_everything(config.seed);

  LabeledSamples data = load_samples(config.data);
  const std::vector<int> labels = data.labels();
  const int num_classes = static_cast<int>(data.class_names.size());
  HP_CHECK(num_classes >= 2, InputError, "training needs at least two classes; the data has ", num_classes);
  const SplitIndices split = options.split ? *options.split : split_samples(config.split, config.data, data);
  HP_CHECK(!split.train.empty(), InputError, "the training split is empty");
  log->info(
      "{} images in {} classes: {} train, {} val, {} test{}", data.samples.size(), num_classes, split.train.size(),
      split.val.size(), split.test.size(),
      options.split || config.split.group_by.empty() ? "" : " (groups of '" + config.split.group_by + "' kept whole)");

  // Images are decoded and the model built before the run folder is touched: a corrupt
  // file or a bad model option stops the run with nothing written.
  ClassificationDataOptions data_options{config.crop, config.augment, config.normalization};
  ClassificationDataset dataset(data.samples, data_options);
  dataset.preload(std::max(1, config.workers));

  ClassifierOptions model_options = config.model;
  model_options.num_classes = num_classes;
  ClassifierPtr model = create_classifier(config.arch, model_options);
  TrainResult result;
  if (!config.pretrained.empty() && !options.resume) {
    const PretrainedReport pretrained = load_pretrained(*model, config.pretrained, data.class_names);
    result.pretrained = pretrained.summary(config.pretrained);
    if (pretrained.head_correction_tau != 0) {
      // Fine-tune the network as trained, not as corrected, so that a later `calibrate` does not
      // put a second correction on top of the first.
      const double tau = pretrained.head_correction_tau;
      add_output_bias(*model, prior_correction_bias(pretrained.head_correction_prior, -tau));
      result.pretrained += "; its prior correction (tau " + format_number(tau) + ") taken back out";
    }
    log->info("pretrained: {}", result.pretrained);
  }
  model->to(options.device);
  const TrainingLayout layout = classifier_layout(config, *model, options.device);
  use_layout(*model, layout);
  log->info("training in the {} layout", layout_name(layout));
  EpochLoop loop(*model, frozen_prefixes(*model, config.freeze), config.optimizer, config.schedule, config.freeze,
                 config.epochs, dir, config_json);
  loop.start(options.resume, config.normalization, [&] {
    std::vector<cv::Mat> crops;
    for (size_t i : split.train) crops.push_back(dataset.crop(i));
    return crops;
  });
  DistributedGroup* group = options.group;
  loop.join(group, config.seed);
  const bool writes_files = loop.writes_files();
  const BatchPart rank_part = group ? group->batch_part() : BatchPart{};
  const TrainingProgress& state = loop.progress();
  dataset.set_normalization(state.normalization);

  torch::Tensor class_weight;
  if (config.imbalance == "class_weights") {
    std::vector<int> train_labels;
    for (size_t i : split.train) train_labels.push_back(labels[i]);
    std::vector<double> w = class_weights(train_labels, num_classes, config.class_weight_power);
    class_weight = torch::tensor(std::vector<float>(w.begin(), w.end())).to(options.device);
  }

  auto loss_options = torch::nn::functional::CrossEntropyFuncOptions().label_smoothing(config.label_smoothing);
  if (class_weight.defined()) loss_options.weight(class_weight);

  if (writes_files) {
    fs::create_directories(dir);
    write_split(dir, data, split);
    write_text_atomic(dir / "config.json", config_json.dump(2));
  }

  ClassifierHeader header;
  header.arch = config.arch;
  header.options = model_options;
  header.classes = data.class_names;
  header.crop = config.crop;
  header.normalization = state.normalization;

  int epochs_this_run = 0;
  for (int epoch = state.next_epoch; loop.runs(epoch); ++epoch) {
    if (options.stop_after_epochs > 0 && epochs_this_run == options.stop_after_epochs) break;
    const auto epoch_start = std::chrono::steady_clock::now();
    const double lr = loop.begin_epoch(epoch);

    std::vector<size_t> order = epoch_training_order(split.train, labels, num_classes,
                                                     config.imbalance == "balanced_sampling", config.seed, epoch);
    BatchLoader loader(dataset, order, config.batch_size, /*augment=*/true, config.seed, epoch,
                       std::max(1, config.workers), /*drop_last=*/order.size() > static_cast<size_t>(config.batch_size),
                       rank_part);
    Progress progress("epoch " + std::to_string(epoch + 1) + "/" + std::to_string(config.epochs),
                      static_cast<int64_t>(loader.num_batches()) * config.batch_size / rank_part.count, "img");
    const PassTotals pass = train_one_pass(*model, loop, loader, loss_options, config.loss_head,
                                           epoch >= config.loss_head.first_detached_epoch(config.epochs),
                                           options.device, layout, config.micro_batches, group, progress, epoch);

    EpochRecord record;
    record.epoch = epoch + 1;
    record.lr = lr;
    record.train_loss = pass.mean_loss();
    record.train_accuracy = pass.accuracy();
    record.train_images_per_second = pass.seconds > 0 ? pass.seen / pass.seconds : 0;
    double value = -record.train_loss;
    nlohmann::json metrics = {{"train_loss", record.train_loss}, {"train_accuracy", record.train_accuracy}};
    {
      // Batch-norm recalibration and validation see the averaged weights where there are some,
      // as the model files will.
      const AveragedWeightsScope averaged = loop.averaged_weights();
      if (config.bn_recalibration) {
        BatchLoader images(
            dataset, split.train, config.batch_size, /*augment=*/false, config.seed, epoch, std::max(1, config.workers),
            /*drop_last=*/group && split.train.size() > static_cast<size_t>(config.batch_size), rank_part);
        recalibrate_batch_norm(
            *model,
            [&]() -> std::optional<torch::Tensor> {
              auto batch = images.next();
              if (!batch) return std::nullopt;
              return batch->images.to(options.device);
            },
            [&](const torch::Tensor& x) { return model->forward(x); });
      }
      if (group) group->average_buffers(*model);
      if (!split.val.empty()) {
        EvalResult val = evaluate_split(*model, dataset, split.val, data.class_names, config.batch_size, options.device,
                                        std::max(1, config.workers), group);
        record.val_loss = val.loss;
        record.val_accuracy = val.report.accuracy;
        record.val_macro_f1 = val.report.macro_f1;
        record.val_balanced_accuracy = val.report.balanced_accuracy;
        record.val_images_per_second = val.predictions.images_per_second;
        value = monitored_value(config.monitor, val);
        metrics["val"] = val.report.to_json();
        metrics["val"]["loss"] = val.loss;
      }
    }
    record.seconds = seconds_since(epoch_start);
    if (split.val.empty())
      log->info("epoch {}/{}: lr {:.2e} train loss {:.4f} acc {:.3f} | {:.1f} img/s train", epoch + 1, config.epochs,
                lr, record.train_loss, record.train_accuracy, record.train_images_per_second);
    else
      log->info("epoch {}/{}: lr {:.2e} train loss {:.4f} acc {:.3f} | val loss {:.4f} acc {:.3f} macro-F1 {:.3f} | "
                "{:.1f} img/s train, {:.1f} img/s inference",
                epoch + 1, config.epochs, lr, record.train_loss, record.train_accuracy, record.val_loss,
                record.val_accuracy, record.val_macro_f1, record.train_images_per_second, record.val_images_per_second);

    header.training = loop.training_record(epoch, config.seed, split);
    if (options.split)
      header.training["split_origin"] = options.split_origin.empty() ? "a given split" : options.split_origin;
    header.metrics = metrics;
    loop.end_epoch(epoch, value, record.to_json(), header.to_json(), config.early_stop_patience, config.monitor);
    if (writes_files)
      write_history(dir, records(state.history), config.monitor, !split.val.empty());
    ++epochs_this_run;
  }

  if (group) group->barrier();  // every rank returns once rank 0's files are written
  result.history = records(state.history);
  loop.report(split, result);
  result.seconds = seconds_since(started);
  return result;
}

}  // namespace hemapath
