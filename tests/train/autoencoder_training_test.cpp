// Autoencoder pretraining on a few real smears: the reconstruction error falls, the run folder
// holds a loadable model whose header records the best epoch, and bad input writes nothing.
#include <gtest/gtest.h>

#include "hemapath/core/error.h"
#include "hemapath/data/dataset_spec.h"
#include "hemapath/models/model_file.h"
#include "hemapath/train/autoencoder_training.h"
#include "test_support.h"

namespace hemapath {
namespace {

std::string write_config(const std::filesystem::path& dir, const std::string& images, const std::string& extra = "") {
  const std::string path = (dir / "pretrain.yaml").string();
  test::write_file(path, "task: autoencoder\nseed: 3\n"
                         "data: {images: " + images + ", masks: " +
                             (test::shared_data() / "wbc-bccd" / "masks").string() +
                             ", val: 0.25, crop: {size: 32}, workers: 2}\n"
                             "model: {arch: separable_cnn, extra: {width: 0.25}, decoder_width: 32}\n"
                             "normalization: {mode: standardize}\n"
                             "augment: {enabled: false}\n"
                             "train: {epochs: 8, batch_size: 3, optimizer: {name: adam, lr: 0.003, weight_decay: 0}, "
                             "schedule: {name: constant}}\n" + extra);
  return path;
}

TEST(AutoencoderTraining, ReconstructionErrorFallsAndTheBestEpochIsSaved) {
  test::ScratchDir dir;
  const PretrainConfig config = PretrainConfig::load(write_config(dir.path(), test::link_wbc_images(dir.path(), 12)));
  PretrainRunOptions options;
  options.out_dir = dir / "run";
  const PretrainResult r = pretrain_autoencoder(config, options);
  EXPECT_EQ(r.train_size + r.val_size, 12u);
  EXPECT_EQ(r.val_size, 3u);
  ASSERT_EQ(r.train_loss.size(), 8u);
  ASSERT_EQ(r.val_loss.size(), 8u);
  EXPECT_LT(r.train_loss.back(), 0.8 * r.train_loss.front())
      << "first " << r.train_loss.front() << " last " << r.train_loss.back();
  EXPECT_DOUBLE_EQ(r.best_val_loss, *std::min_element(r.val_loss.begin(), r.val_loss.end()));
  EXPECT_LT(r.best_val_loss, 0.9 * r.val_loss.front());  // it generalises to held-out cells
  for (const char* name : {"autoencoder.hpm", "log.csv", "curves.png", "reconstructions.png", "config.json"})
    EXPECT_TRUE(std::filesystem::exists(dir.path() / "run" / name)) << name;

  const LoadedAutoencoder loaded = load_autoencoder(r.model_path, torch::kCPU);
  EXPECT_EQ(loaded.header.training.at("epoch").get<int>(), r.best_epoch);
  EXPECT_DOUBLE_EQ(loaded.header.metrics.at("val_mse").get<double>(), r.best_val_loss);
  EXPECT_EQ(loaded.header.normalization.mode, "standardize");
  EXPECT_FALSE(loaded.header.normalization.needs_statistics);  // fitted on the training images

  // The same folder again is refused rather than overwritten.
  EXPECT_THROW(pretrain_autoencoder(config, options), InputError);
}

TEST(AutoencoderTraining, BadInputIsAnErrorAndWritesNothing) {
  test::ScratchDir dir;
  PretrainConfig config = PretrainConfig::load(write_config(dir.path(), (dir.path() / "nowhere").string()));
  PretrainRunOptions options;
  options.out_dir = dir / "run";
  try {
    pretrain_autoencoder(config, options);
    FAIL() << "expected an error";
  } catch (const InputError& e) {
    EXPECT_NE(std::string(e.what()).find("nowhere' does not exist"), std::string::npos) << e.what();
  }
  EXPECT_FALSE(std::filesystem::exists(dir.path() / "run"));

  // Images without masks: none usable.
  const auto images = dir.path() / "other";
  std::filesystem::create_directories(images);
  std::filesystem::copy_file(test::shared_data() / "wbc-bccd" / "images" / "BloodImage_00000.jpg",
                             images / "unmatched.jpg");
  config.images = images.string();
  try {
    pretrain_autoencoder(config, options);
    FAIL() << "expected an error";
  } catch (const InputError& e) {
    EXPECT_NE(std::string(e.what()).find("none has a mask"), std::string::npos) << e.what();
  }
  EXPECT_FALSE(std::filesystem::exists(dir.path() / "run"));

  try {
    PretrainConfig::load(write_config(dir.path(), images.string(), "labels: x.csv\n"));
    FAIL() << "expected an error";
  } catch (const ConfigError& e) {
    EXPECT_NE(std::string(e.what()).find("'labels' is not a known setting"), std::string::npos) << e.what();
  }
}

}  // namespace
}  // namespace hemapath
