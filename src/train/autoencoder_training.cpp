#include "hemapath/train/autoencoder_training.h"

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <limits>

#include <opencv2/core.hpp>

#include "hemapath/core/atomic_file.h"
#include "hemapath/core/config.h"
#include "hemapath/core/error.h"
#include "hemapath/core/log.h"
#include "hemapath/core/progress.h"
#include "hemapath/core/random.h"
#include "hemapath/data/batch_loader.h"
#include "hemapath/data/classification_dataset.h"
#include "hemapath/data/dataset_spec.h"
#include "hemapath/data/split.h"
#include "hemapath/image/tensor_convert.h"
#include "hemapath/io/csv.h"
#include "hemapath/io/image_io.h"
#include "hemapath/io/plot.h"
#include "hemapath/models/autoencoder.h"
#include "hemapath/models/model_file.h"

namespace hemapath {
namespace fs = std::filesystem;

namespace {

const char* kModelName = "autoencoder.hpm";
constexpr size_t kReconstructionCount = 8;

// Mean squared reconstruction error over `order`, one pass; trains when an optimizer is given.
double reconstruction_pass(Autoencoder& model, const ClassificationDataset& data, const std::vector<size_t>& order,
                           const PretrainConfig& config, int epoch, torch::optim::Optimizer* optimizer,
                           const c10::Device& device, Progress* progress) {
  const bool training = optimizer != nullptr;
  BatchLoader loader(data, order, config.batch_size, /*augment=*/training, config.seed, epoch,
                     std::max(1, config.workers), /*drop_last=*/training && order.size() > size_t(config.batch_size));
  model->train(training);
  double sum = 0;
  int64_t seen = 0;
  while (auto batch = loader.next()) {
    const torch::Tensor images = batch->images.to(device);
    double loss_value = 0;
    if (training) {
      optimizer->zero_grad();
      torch::Tensor loss = torch::mse_loss(model->forward(images), images);
      loss_value = loss.item<double>();
      HP_CHECK(std::isfinite(loss_value), Error, "pretraining diverged at epoch ", epoch + 1,
               ": the loss is not finite (try a lower learning rate)");
      loss.backward();
      optimizer->step();
    } else {
      torch::InferenceMode guard;
      loss_value = torch::mse_loss(model->forward(images), images).item<double>();
    }
    sum += loss_value * images.size(0);
    seen += images.size(0);
    if (progress) {
      progress->set_metric("mse", sum / seen);
      progress->advance(images.size(0));
    }
  }
  if (progress) progress->finish();
  return seen ? sum / seen : 0;
}

// Crops in the top row, their reconstructions below, as one PNG.
void write_reconstructions(const fs::path& path, Autoencoder& model, const ClassificationDataset& data,
                           const std::vector<size_t>& indices, const c10::Device& device) {
  std::vector<torch::Tensor> inputs;
  for (size_t k = 0; k < std::min(kReconstructionCount, indices.size()); ++k)
    inputs.push_back(data.image(indices[k], false, 0));
  if (inputs.empty()) return;
  torch::Tensor output;
  {
    torch::InferenceMode guard;
    model->eval();
    output = model->forward(torch::stack(inputs).to(device)).to(torch::kCPU);
  }
  std::vector<cv::Mat> top, bottom;
  for (size_t k = 0; k < inputs.size(); ++k) {
    top.push_back(tensor_to_image(inputs[k], data.options().normalization));
    bottom.push_back(tensor_to_image(output[static_cast<int64_t>(k)], data.options().normalization));
  }
  cv::Mat row_in, row_out, grid;
  cv::hconcat(top, row_in);
  cv::hconcat(bottom, row_out);
  cv::vconcat(row_in, row_out, grid);
  write_image(path.string(), grid);
}

void write_history(const fs::path& dir, const PretrainResult& r) {
  CsvWriter csv({"epoch", "train_mse", "val_mse"});
  PlotSeries train{"train", {}, {}}, val{"validation", {}, {}};
  for (size_t e = 0; e < r.train_loss.size(); ++e) {
    const double val_loss = e < r.val_loss.size() ? r.val_loss[e] : std::numeric_limits<double>::quiet_NaN();
    csv.add_row({std::to_string(e + 1), format_number(r.train_loss[e]), format_number(val_loss)});
    train.x.push_back(e + 1), train.y.push_back(r.train_loss[e]);
    val.x.push_back(e + 1), val.y.push_back(val_loss);
  }
  csv.write((dir / "log.csv").string());
  write_line_plot((dir / "curves.png").string(), {train, val},
                  {"Autoencoder reconstruction error", "epoch", "mean squared error (normalised)"});
}

}  // namespace

PretrainConfig PretrainConfig::load(const std::string& file, const std::vector<std::string>& overrides) {
  const ConfigNode root = ConfigNode::load_file(file, overrides);
  const std::string parent = fs::path(file).parent_path().string();
  const std::string base = parent.empty() ? "." : parent;
  PretrainConfig c;
  root.get_choice("task", "autoencoder", {"autoencoder"});
  c.seed = static_cast<uint64_t>(root.get_int("seed", 1, 0, std::numeric_limits<int64_t>::max()));
  const ConfigNode data = root.child("data");
  c.images = data.get_path("images", base, true);
  c.masks = data.get_path("masks", base);
  c.val_fraction = data.get_number("val", c.val_fraction, 0, 0.5);
  c.crop = CropOptions::from_config(data.child("crop"));
  c.workers = static_cast<int>(data.get_int("workers", c.workers, 0, 64));
  const ConfigNode model = root.child("model");
  c.arch = model.require<std::string>("arch");
  c.extra = model.get_json("extra", nlohmann::json::object());
  c.decoder_width = model.get_int("decoder_width", c.decoder_width, 16, 4096);
  c.normalization = Normalization::from_config(root.child("normalization"));
  c.augment = AugmentOptions::from_config(root.child("augment"));
  const ConfigNode train = root.child("train");
  c.epochs = static_cast<int>(train.get_int("epochs", c.epochs, 1, 100000));
  c.batch_size = static_cast<int>(train.get_int("batch_size", c.batch_size, 1, 4096));
  c.optimizer = OptimizerConfig::from_config(train.child("optimizer"));
  c.schedule = ScheduleConfig::from_config(train.child("schedule"));
  root.finish();
  return c;
}

nlohmann::json PretrainConfig::to_json() const {
  return {{"task", "autoencoder"},
          {"seed", seed},
          {"data",
           {{"images", images}, {"masks", masks}, {"val", val_fraction}, {"crop", crop.to_json()}, {"workers", workers}}},
          {"model", {{"arch", arch}, {"extra", extra}, {"decoder_width", decoder_width}}},
          {"normalization", normalization.to_json()},
          {"augment", augment.to_json()},
          {"train",
           {{"epochs", epochs},
            {"batch_size", batch_size},
            {"optimizer", optimizer.to_json()},
            {"schedule", schedule.to_json()}}}};
}

PretrainResult pretrain_autoencoder(const PretrainConfig& config, const PretrainRunOptions& options) {
  auto log = logger("pretrain");
  const auto started = std::chrono::steady_clock::now();
  HP_CHECK(!options.out_dir.empty(), InputError, "--out: a folder for the run is required");
  const fs::path dir(options.out_dir);
  HP_CHECK(!fs::exists(dir / kModelName), InputError, "--out '", options.out_dir,
           "' already holds an autoencoder: choose another folder");
  seed_everything(config.seed);

  const LabeledSamples data = load_unlabelled_images(config.images, config.masks);
  std::vector<size_t> order = all_indices(data.samples.size());
  Rng split_rng(derive_seed(config.seed, {0xAE}));
  shuffle_indices(order, split_rng);
  const size_t val_count = static_cast<size_t>(std::lround(config.val_fraction * static_cast<double>(order.size())));
  std::vector<size_t> val(order.begin(), order.begin() + static_cast<std::ptrdiff_t>(val_count));
  std::vector<size_t> train(order.begin() + static_cast<std::ptrdiff_t>(val_count), order.end());
  HP_CHECK(!train.empty(), InputError, "pretraining needs at least one training image; '", config.images, "' has ",
           data.samples.size());
  std::sort(val.begin(), val.end());
  log->info("{} unlabelled images: {} train, {} validation", data.samples.size(), train.size(), val.size());

  // Decode everything and build the model before the run folder is touched.
  ClassificationDataset dataset(data.samples, {config.crop, config.augment, config.normalization});
  dataset.preload(std::max(1, config.workers));
  AutoencoderHeader header;
  header.options = {config.arch, config.extra, config.crop.size, config.decoder_width};
  header.crop = config.crop;
  header.normalization = config.normalization;
  if (header.normalization.needs_statistics) {
    std::vector<cv::Mat> crops;
    for (size_t i : train) crops.push_back(dataset.crop(i));
    auto [mean, stdev] = channel_statistics(crops);
    header.normalization.set_statistics(mean, stdev);
  }
  dataset.set_normalization(header.normalization);
  Autoencoder model(header.options);
  model->to(options.device);
  auto optimizer = make_optimizer(config.optimizer, model->parameters());
  LrSchedule schedule(config.schedule, config.optimizer.lr, config.epochs);

  fs::create_directories(dir);
  const nlohmann::json config_json = config.to_json();
  write_text_atomic(dir / "config.json", config_json.dump(2));
  PretrainResult result;
  result.train_size = train.size();
  result.val_size = val.size();
  result.model_path = (dir / kModelName).string();
  double best = std::numeric_limits<double>::infinity();
  for (int epoch = 0; epoch < config.epochs; ++epoch) {
    const double lr = schedule.lr_for_epoch(epoch);
    set_learning_rate(*optimizer, lr);
    std::vector<size_t> epoch_order = train;
    Rng rng(derive_seed(config.seed, {static_cast<uint64_t>(epoch), 0xAE5}));
    shuffle_indices(epoch_order, rng);
    Progress progress("epoch " + std::to_string(epoch + 1) + "/" + std::to_string(config.epochs),
                      static_cast<int64_t>(epoch_order.size()), "img");
    const double train_loss =
        reconstruction_pass(model, dataset, epoch_order, config, epoch, optimizer.get(), options.device, &progress);
    result.train_loss.push_back(train_loss);
    double monitored = train_loss;
    if (!val.empty()) {
      monitored = reconstruction_pass(model, dataset, val, config, epoch, nullptr, options.device, nullptr);
      result.val_loss.push_back(monitored);
    }
    schedule.observe(-monitored);
    log->info("epoch {}/{}: lr {:.2e} train mse {:.4f} | val mse {:.4f}", epoch + 1, config.epochs, lr, train_loss,
              val.empty() ? std::numeric_limits<double>::quiet_NaN() : monitored);
    if (monitored < best) {
      best = monitored;
      result.best_epoch = epoch + 1;
      result.best_val_loss = monitored;
      header.training = {{"config", config_json},     {"epoch", epoch + 1},
                         {"seed", config.seed},        {"train_images", train.size()},
                         {"val_images", val.size()}};
      header.metrics = {{"train_mse", train_loss}, {"val_mse", val.empty() ? nlohmann::json() : nlohmann::json(monitored)}};
      save_model_file(result.model_path, header.to_json(), *model);
      write_reconstructions(dir / "reconstructions.png", model, dataset, val.empty() ? train : val, options.device);
    }
    write_history(dir, result);
  }
  result.seconds = seconds_since(started);
  return result;
}

}  // namespace hemapath
