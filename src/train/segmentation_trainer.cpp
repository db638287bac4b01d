#include "hemapath/train/segmentation_trainer.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <filesystem>

#include "hemapath/core/atomic_file.h"
#include "hemapath/core/error.h"
#include "hemapath/core/log.h"
#include "hemapath/core/progress.h"
#include "hemapath/core/random.h"
#include "hemapath/data/batch_loader.h"
#include "hemapath/io/csv.h"
#include "hemapath/io/plot.h"
#include "hemapath/models/model_file.h"
#include "hemapath/models/pretrained.h"
#include "hemapath/models/segmenter_registry.h"
#include "hemapath/train/distributed.h"
#include "hemapath/train/epoch_loop.h"
#include "hemapath/train/freezing.h"
#include "hemapath/train/memory_format.h"
#include "hemapath/train/segmentation_evaluation.h"
#include "hemapath/train/segmentation_loss.h"

namespace hemapath {
namespace fs = std::filesystem;

namespace {

std::vector<SegmentationEpochRecord> records(const nlohmann::json& history) {
  std::vector<SegmentationEpochRecord> out;
  for (const auto& r : history) out.push_back(SegmentationEpochRecord::from_json(r));
  return out;
}

void write_history(const fs::path& dir, const std::vector<SegmentationEpochRecord>& history,
                   const std::string& monitor) {
  CsvWriter csv({"epoch", "lr", "train_loss", "val_pixel_accuracy", "val_mean_iou", "val_foreground_miou",
                 "val_mean_dice", "seconds", "train_patches_per_s", "val_images_per_s"});
  PlotSeries loss{"train loss", {}, {}}, fg{"val foreground mIoU", {}, {}}, miou{"val mean IoU", {}, {}},
      acc{"val pixel accuracy", {}, {}};
  for (const auto& r : history) {
    csv.add_row({std::to_string(r.epoch), format_number(r.lr), format_number(r.train_loss),
                 format_number(r.val_pixel_accuracy), format_number(r.val_mean_iou),
                 format_number(r.val_foreground_miou), format_number(r.val_mean_dice), format_number(r.seconds, 4),
                 format_number(r.train_patches_per_second, 4), format_number(r.val_images_per_second, 4)});
    const double x = r.epoch;
    loss.x.push_back(x), loss.y.push_back(r.train_loss);
    fg.x.push_back(x), fg.y.push_back(r.val_foreground_miou);
    miou.x.push_back(x), miou.y.push_back(r.val_mean_iou);
    acc.x.push_back(x), acc.y.push_back(r.val_pixel_accuracy);
  }
  csv.write((dir / "log.csv").string());
  write_line_plots((dir / "curves.png").string(), {{loss}, {fg, miou, acc}},
                   {LinePlotOptions{"Loss", "epoch", "segmentation loss"},
                    LinePlotOptions{"Validation (best epoch by " + monitor + ")", "epoch", "score"}});
}

void write_split(const fs::path& dir, const std::vector<SegmentationPair>& pairs, const SplitIndices& split) {
  CsvWriter csv({"image", "mask", "part"});
  auto add = [&](const std::vector<size_t>& part, const char* name) {
    for (size_t i : part) csv.add_row({pairs[i].image_path, pairs[i].mask_path, name});
  };
  add(split.train, "train");
  add(split.val, "val");
  add(split.test, "test");
  csv.write((dir / "split.csv").string());
}

// Every training image `patches_per_image` times, shuffled by the epoch's seed.
std::vector<size_t> epoch_order(const std::vector<size_t>& train, int patches_per_image, uint64_t seed, int epoch) {
  std::vector<size_t> order;
  for (int k = 0; k < patches_per_image; ++k) order.insert(order.end(), train.begin(), train.end());
  Rng rng(derive_seed(seed, {static_cast<uint64_t>(epoch), 0x5E6}));
  std::shuffle(order.begin(), order.end(), rng);
  return order;
}

struct PassTotals {
  double loss_sum = 0;
  int64_t seen = 0;
  double seconds = 0;
  double mean_loss() const { return seen ? loss_sum / seen : 0; }
};

// With a group, each rank runs its part of every batch and the gradients are averaged over
// the ranks before the step.
PassTotals train_one_pass(SegmenterImpl& model, EpochLoop& loop, BatchLoader& loader,
                          const SegmentationLossConfig& loss_config, const c10::Device& device, TrainingLayout layout,
                          DistributedGroup* group, Progress& progress, int epoch) {
  const auto start = std::chrono::steady_clock::now();
  const std::vector<torch::Tensor> parameters = model.parameters();
  torch::optim::Optimizer& optimizer = loop.optimizer();
  PassTotals t;
  while (auto batch = loader.next()) {
    const torch::Tensor images = to_layout(batch->images.to(device), layout), targets = batch->labels.to(device);
    optimizer.zero_grad();
    torch::Tensor loss = segmentation_loss(model.forward(images), targets, loss_config);
    const double value = loss.item<double>();
    HP_CHECK(std::isfinite(value), Error, "training diverged at epoch ", epoch + 1,
             ": the loss is not finite (try a lower learning rate)");
    loss.backward();
    if (group) group->average_gradients(parameters, images.size(0));
    optimizer.step();
    loop.after_step();
    t.loss_sum += value * images.size(0);
    t.seen += images.size(0);
    progress.set_metric("loss", t.mean_loss());
    progress.advance(images.size(0));
  }
  progress.finish();
  t.seconds = seconds_since(start);
  if (group) {
    const std::vector<double> sums = group->sum({t.loss_sum, static_cast<double>(t.seen)});
    t.loss_sum = sums[0];
    t.seen = static_cast<int64_t>(sums[1]);
  }
  return t;
}

}  // namespace

NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE(SegmentationEpochRecord, epoch, lr, train_loss, val_pixel_accuracy, val_mean_iou,
                                   val_foreground_miou, val_mean_dice, seconds, train_patches_per_second,
                                   val_images_per_second)

nlohmann::json SegmentationEpochRecord::to_json() const { return *this; }

SegmentationEpochRecord SegmentationEpochRecord::from_json(const nlohmann::json& j) {
  return j.get<SegmentationEpochRecord>();
}

SplitIndices segmentation_split(const SplitConfig& split, size_t count) {
  return split_for(split, std::vector<int>(count, 0));
}

SegmentationTrainResult train_segmenter(const SegmentationTrainConfig& config, const TrainRunOptions& options) {
  auto log = logger("train");
  const auto started = std::chrono::steady_clock::now();
  const fs::path dir(options.out_dir);
  check_run_folder(options.out_dir, options.resume);
  const nlohmann::json config_json = config.to_json();
  seed_everything(config.seed);

  const std::vector<SegmentationPair> pairs = list_segmentation_pairs(config.data);
  const SplitIndices split = options.split ? *options.split : segmentation_split(config.split, pairs.size());
  HP_CHECK(!split.train.empty(), InputError, "the training split is empty (", pairs.size(), " image + mask pairs)");
  log->info("{} image + mask pairs, {} classes: {} train, {} val, {} test", pairs.size(), config.data.num_classes(),
            split.train.size(), split.val.size(), split.test.size());

  // Data decoded and the network built before the run folder is touched.
  SegmentationDataOptions data_options{config.scale, config.patch, config.augment, config.normalization, config.stain};
  SegmentationDataset dataset(pairs, config.data, data_options);
  dataset.load(std::max(1, config.workers));

  SegmenterOptions model_options;
  model_options.num_classes = config.output_channels();
  model_options.extra = config.extra;
  model_options.in_channels = dataset.input_channels();
  SegmenterPtr model = create_segmenter(config.arch, model_options);
  const bool binary = model_options.num_classes == 1;
  SegmentationTrainResult result;
  if (!config.pretrained.empty() && !options.resume) {
    result.pretrained =
        load_pretrained_segmenter(*model, config.arch, model_options, config.pretrained).summary(config.pretrained);
    log->info("pretrained: {}", result.pretrained);
  }
  model->to(options.device);
  const TrainingLayout layout = training_layout(config.memory_format);
  use_layout(*model, layout);
  EpochLoop loop(*model, frozen_prefixes(*model, config.freeze), config.optimizer, config.schedule, config.freeze,
                 config.epochs, dir, config_json);
  loop.start(options.resume, config.normalization, [&] {
    std::vector<cv::Mat> images;
    for (size_t i : split.train) images.push_back(dataset.image(i));
    return images;
  });
  DistributedGroup* group = options.group;
  loop.join(group, config.seed);
  const bool writes_files = loop.writes_files();
  const BatchPart rank_part = group ? group->batch_part() : BatchPart{};
  const TrainingProgress& state = loop.progress();
  dataset.set_normalization(state.normalization);

  if (writes_files) {
    fs::create_directories(dir);
    write_split(dir, pairs, split);
    write_text_atomic(dir / "config.json", config_json.dump(2));
  }

  SegmenterHeader header;
  header.arch = config.arch;
  header.options = model_options;
  header.classes = config.data.classes;
  header.target = config.data.mask_kind == "instance" ? config.data.target : "classes";
  header.scale = config.scale;
  header.output_stride = model->output_stride();
  header.normalization = state.normalization;
  header.instances = instance_options_to_json(config.instances);

  int epochs_this_run = 0;
  for (int epoch = state.next_epoch; loop.runs(epoch); ++epoch) {
    if (options.stop_after_epochs > 0 && epochs_this_run == options.stop_after_epochs) break;
    const auto epoch_start = std::chrono::steady_clock::now();
    const double lr = loop.begin_epoch(epoch);

    const std::vector<size_t> order = epoch_order(split.train, config.patches_per_image, config.seed, epoch);
    BatchLoader loader([&dataset](size_t i, bool, uint64_t seed) { return dataset.patch(i, seed); }, dataset.size(),
                       order, config.batch_size, /*augment=*/true, config.seed, epoch, std::max(1, config.workers),
                       /*drop_last=*/order.size() > static_cast<size_t>(config.batch_size), rank_part);
    Progress progress("epoch " + std::to_string(epoch + 1) + "/" + std::to_string(config.epochs),
                      static_cast<int64_t>(loader.num_batches()) * config.batch_size / rank_part.count, "patch");
    const PassTotals pass =
        train_one_pass(*model, loop, loader, config.loss, options.device, layout, group, progress, epoch);

    SegmentationEpochRecord record;
    record.epoch = epoch + 1;
    record.lr = lr;
    record.train_loss = pass.mean_loss();
    record.train_patches_per_second = pass.seconds > 0 ? pass.seen / pass.seconds : 0;
    double value = -record.train_loss;
    nlohmann::json metrics = {{"train_loss", record.train_loss}};
    {
      // Validation sees the averaged weights where there are some, as the model files will.
      const AveragedWeightsScope averaged = loop.averaged_weights();
      if (group) group->average_buffers(*model);
      if (!split.val.empty()) {
        // Every rank validates on all validation images: the same weights give the same figures.
        const SegmentationValidation val = validate_segmenter(*model, binary, dataset, split.val, options.device);
        const SegmentationConfusion& c = val.confusion;
        auto finite = [](double v) { return std::isfinite(v) ? v : 0.0; };
        record.val_pixel_accuracy = finite(c.pixel_accuracy());
        record.val_mean_iou = finite(c.mean_iou());
        record.val_foreground_miou = finite(foreground_mean_iou(c));
        record.val_mean_dice = finite(c.mean_dice());
        record.val_images_per_second = val.seconds > 0 ? split.val.size() / val.seconds : 0;
        value = finite(segmentation_metric(c, config.monitor));
        metrics["val"] = c.to_json(config.data.classes);
        metrics["val"]["foreground_miou"] = record.val_foreground_miou;
      }
    }
    record.seconds = seconds_since(epoch_start);
    if (split.val.empty())
      log->info("epoch {}/{}: lr {:.2e} train loss {:.4f} | {:.1f} patches/s train", epoch + 1, config.epochs, lr,
                record.train_loss, record.train_patches_per_second);
    else
      log->info("epoch {}/{}: lr {:.2e} train loss {:.4f} | val pixel acc {:.3f} mIoU {:.3f} foreground mIoU {:.3f} "
                "| {:.1f} patches/s train",
                epoch + 1, config.epochs, lr, record.train_loss, record.val_pixel_accuracy, record.val_mean_iou,
                record.val_foreground_miou, record.train_patches_per_second);

    header.training = loop.training_record(epoch, config.seed, split);
    header.metrics = metrics;
    loop.end_epoch(epoch, value, record.to_json(), header.to_json(), config.early_stop_patience, config.monitor);
    if (writes_files) write_history(dir, records(state.history), split.val.empty() ? "train loss" : config.monitor);
    ++epochs_this_run;
  }
  if (group) group->barrier();  // every rank returns once rank 0's files are written

  result.history = records(state.history);
  loop.report(split, result);
  result.seconds = seconds_since(started);
  return result;
}

}  // namespace hemapath
