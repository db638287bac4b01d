#pragma once
/// Self-supervised pretraining: a convolutional autoencoder (models/autoencoder.h) learns to
/// reconstruct unlabelled cell crops, so that a classifier trained later on few labels can
/// start from its encoder (`hemapath train --pretrained autoencoder.hpm`).
///
/// Config (YAML or JSON; relative paths from the config's folder):
/// ```
/// task:  autoencoder
/// seed:  1
/// data:  {images: DIR, masks: DIR, val: 0.1, crop: {margin: 0.15, size: 112, mode: pad}, workers: 2}
/// model: {arch: resnet18, extra: {}, decoder_width: 256}
/// normalization: {mode: standardize}
/// augment: {hflip: true, rot90: true, ...}
/// train: {epochs: 30, batch_size: 32, optimizer: {name: adamw, lr: 0.001}, schedule: {name: cosine}}
/// ```
/// No labels are read: every image in `images` (with its `<stem>.png` mask when `masks` is
/// given, to cut the cell out as classification does) is a training example.
///
/// The run folder holds autoencoder.hpm (the epoch with the lowest validation loss), log.csv,
/// curves.png, reconstructions.png (validation crops above their reconstructions) and config.json.
#include <cstdint>
#include <string>
#include <vector>

#include <c10/core/Device.h>
#include <nlohmann/json.hpp>

#include "hemapath/image/augment.h"
#include "hemapath/image/cell_crop.h"
#include "hemapath/image/normalization.h"
#include "hemapath/train/optimizer.h"

namespace hemapath {

struct PretrainConfig {
  uint64_t seed = 1;
  std::string images;       ///< folder of unlabelled images
  std::string masks;        ///< optional folder of `<image stem>.png` masks
  double val_fraction = 0.1;  ///< share of the images held out to pick the best epoch, [0, 0.5]
  CropOptions crop;
  int workers = 2;
  std::string arch = "resnet18";
  nlohmann::json extra = nlohmann::json::object();
  int64_t decoder_width = 256;
  Normalization normalization;
  AugmentOptions augment;
  int epochs = 30;
  int batch_size = 32;
  OptimizerConfig optimizer;
  ScheduleConfig schedule;

  /// ConfigError naming the key for unknown keys and wrong values; `overrides` as `key.path=value`.
  static PretrainConfig load(const std::string& file, const std::vector<std::string>& overrides = {});
  nlohmann::json to_json() const;
};

struct PretrainRunOptions {
  std::string out_dir;
  c10::Device device = c10::kCPU;
};

struct PretrainResult {
  size_t train_size = 0, val_size = 0;
  int best_epoch = 0;                      ///< 1-based
  double best_val_loss = 0;                ///< mean squared error on the normalised scale
  std::vector<double> train_loss, val_loss;  ///< per epoch
  std::string model_path;
  double seconds = 0;
};

/// Trains the autoencoder. InputError when out_dir already holds one, or the images cannot be
/// read (nothing is written then); ConfigError for a bad architecture.
PretrainResult pretrain_autoencoder(const PretrainConfig& config, const PretrainRunOptions& options);

}  // namespace hemapath
