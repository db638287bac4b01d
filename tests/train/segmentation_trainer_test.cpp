// End-to-end segmentation training on a few real nucleus tiles: the loss falls, the model file
// reloads to the recorded validation figures, --resume equals an uninterrupted run, and a
// frozen pretrained encoder stays as it was loaded.
#include <gtest/gtest.h>

#include <filesystem>

#include "hemapath/infer/segmentation_predictor.h"
#include "hemapath/core/random.h"
#include "hemapath/io/image_io.h"
#include "hemapath/models/segmenter_registry.h"
#include "hemapath/models/model_file.h"
#include "hemapath/train/segmentation_evaluation.h"
#include "hemapath/train/segmentation_trainer.h"
#include "../models/model_test_util.h"
#include "test_support.h"
#include "weight_average_runs.h"

namespace hemapath {
namespace {
namespace fs = std::filesystem;

// A small U-Net on 8 tiles at half size (160x128): 5 train, 1 val, 2 test.
std::string tiny_config(const fs::path& dir, const std::string& train_block, const std::string& model_block = "") {
  test::link_nuclei_tiles(dir, 8);
  const std::string path = (dir / "seg.yaml").string();
  test::write_file(path,
                   "task: segmentation\nseed: 3\n"
                   "data: {images: images, masks: masks, mask: instance, target: foreground, scale: 0.5, patch: 64,\n"
                   "       patches_per_image: 2, workers: 1, split: {train: 0.65, val: 0.1, test: 0.25, seed: 1}}\n" +
                       (model_block.empty() ? "model: {arch: unet, extra: {depth: 2, width: 8}}\n" : model_block) +
                       "normalization: {mode: standardize}\n"
                       "augment: {hflip: true, vflip: true, rot90: true}\n"
                       "loss: {cross_entropy: 1, dice: 1}\n"
                       "train: " + train_block + "\n");
  return path;
}

bool same_tensors(const torch::OrderedDict<std::string, torch::Tensor>& a,
                  const torch::OrderedDict<std::string, torch::Tensor>& b, const std::string& prefix = "") {
  size_t compared = 0;
  for (const auto& item : a) {
    if (item.key().rfind(prefix, 0) != 0) continue;
    if (!torch::equal(item.value(), b[item.key()])) return false;
    ++compared;
  }
  return compared > 0;
}

bool same_segmenter_weights(const std::string& x, const std::string& y) {
  LoadedSegmenter a = load_segmenter(x, torch::kCPU), b = load_segmenter(y, torch::kCPU);
  return same_tensors(a.model->named_parameters(), b.model->named_parameters()) &&
         same_tensors(a.model->named_buffers(), b.model->named_buffers());
}

TEST(SegmentationTrainer, LossFallsAndTheModelFileReloadsToTheRecordedFigures) {
  torch::set_num_threads(1);
  test::ScratchDir dir;
  const SegmentationTrainConfig config = SegmentationTrainConfig::load(tiny_config(
      dir.path(), "{epochs: 6, batch_size: 4, optimizer: {name: adam, lr: 0.01, weight_decay: 0}, schedule: {name: constant}}"));
  TrainRunOptions options;
  options.out_dir = dir / "run";
  const SegmentationTrainResult r = train_segmenter(config, options);
  ASSERT_EQ(r.history.size(), 6u);
  EXPECT_EQ(r.train_size, 5u);
  EXPECT_EQ(r.val_size, 1u);
  EXPECT_EQ(r.test_size, 2u);
  EXPECT_LT(r.history.back().train_loss, 0.7 * r.history.front().train_loss)
      << "first " << r.history.front().train_loss << " last " << r.history.back().train_loss;
  EXPECT_GT(r.history.at(r.best_epoch - 1).val_foreground_miou, 0);  // some nuclei found on the val tile
  for (const char* name : {"best.hpm", "last.hpm", "checkpoint.pt", "log.csv", "curves.png", "split.csv", "config.json"})
    EXPECT_TRUE(fs::exists(dir.path() / "run" / name)) << name;

  // The header describes the network, and reloading reproduces the recorded validation IoU.
  LoadedSegmenter last = load_segmenter(r.last_model, torch::kCPU);
  EXPECT_EQ(last.header.classes, (std::vector<std::string>{"background", "cell"}));
  EXPECT_TRUE(last.header.binary());
  EXPECT_EQ(last.header.target, "foreground");
  EXPECT_EQ(last.header.output_stride, 4);
  EXPECT_DOUBLE_EQ(last.header.scale, 0.5);
  EXPECT_FALSE(last.header.normalization.needs_statistics);
  SegmentationDataset data(list_segmentation_pairs(config.data), config.data, {0.5, 64, {}, last.header.normalization, {}});
  data.load(1);
  const SplitIndices split = segmentation_split(config.split, data.size());
  const SegmentationValidation v = validate_segmenter(*last.model, true, data, split.val, torch::kCPU);
  EXPECT_NEAR(foreground_mean_iou(v.confusion), r.history.back().val_foreground_miou, 1e-12);

  // The predictor works at the model's scale and answers at the image's own size.
  SegmentationPredictor predictor(r.last_model, torch::kCPU);
  const cv::Mat rgb = read_image_rgb(data.pair(0).image_path);
  const SegmentationMaps maps = predictor.predict(rgb);
  ASSERT_EQ(maps.probabilities.size(), 2u);
  EXPECT_EQ(maps.classes.size(), rgb.size());
  cv::Mat sum = maps.probabilities[0] + maps.probabilities[1];
  double lo = 0, hi = 0;
  cv::minMaxLoc(sum, &lo, &hi);
  EXPECT_NEAR(lo, 1, 1e-5);
  EXPECT_NEAR(hi, 1, 1e-5);
}

// train.optimizer.ema_decay: the live weights follow the same path, and validation and the
// model file hold their average.
TEST(SegmentationTrainer, WeightAveragingKeepsTheTrainingPathAndValidatesTheSavedAverage) {
  torch::set_num_threads(1);
  test::ScratchDir dir;
  const SegmentationTrainConfig averaged = SegmentationTrainConfig::load(tiny_config(
      dir.path(), "{epochs: 4, batch_size: 4, optimizer: {name: adam, lr: 0.01, weight_decay: 0, ema_decay: 0.8}, "
                  "schedule: {name: constant}}"));
  const auto [with, without] = test::train_with_and_without_weight_average(averaged, dir, train_segmenter);
  ASSERT_EQ(with.history.size(), without.history.size());
  EXPECT_FALSE(same_segmenter_weights(with.last_model, without.last_model));

  LoadedSegmenter last = load_segmenter(with.last_model, torch::kCPU);
  SegmentationDataset data(list_segmentation_pairs(averaged.data), averaged.data,
                           {0.5, 64, {}, last.header.normalization, {}});
  data.load(1);
  const SplitIndices split = segmentation_split(averaged.split, data.size());
  const SegmentationValidation v = validate_segmenter(*last.model, true, data, split.val, torch::kCPU);
  EXPECT_NEAR(foreground_mean_iou(v.confusion), with.history.back().val_foreground_miou, 1e-12);
  EXPECT_NE(with.history.back().val_pixel_accuracy, without.history.back().val_pixel_accuracy);
}

TEST(SegmentationTrainer, ResumeGivesTheWeightsOfAnUninterruptedRun) {
  torch::set_num_threads(1);
  test::ScratchDir dir;
  const SegmentationTrainConfig config = SegmentationTrainConfig::load(
      tiny_config(dir.path(), "{epochs: 3, batch_size: 4, optimizer: {name: adamw, lr: 0.003}, schedule: {name: cosine}}"));
  TrainRunOptions whole;
  whole.out_dir = dir / "whole";
  train_segmenter(config, whole);

  TrainRunOptions interrupted = whole;
  interrupted.out_dir = dir / "interrupted";
  interrupted.stop_after_epochs = 2;
  EXPECT_FALSE(train_segmenter(config, interrupted).complete);
  EXPECT_FALSE(same_segmenter_weights(dir / "whole/last.hpm", dir / "interrupted/last.hpm"));
  interrupted.stop_after_epochs = 0;
  interrupted.resume = true;
  const SegmentationTrainResult rest = train_segmenter(config, interrupted);
  EXPECT_TRUE(rest.complete);
  EXPECT_EQ(rest.history.size(), 3u);
  EXPECT_TRUE(same_segmenter_weights(dir / "whole/last.hpm", dir / "interrupted/last.hpm")) << "resume diverged";

  // A finished run is not overwritten, nor resumed with other settings.
  EXPECT_THROW(train_segmenter(config, whole), InputError);
  SegmentationTrainConfig other = config;
  other.loss.dice = 0;
  TrainRunOptions resume_other = whole;
  resume_other.resume = true;
  try {
    train_segmenter(other, resume_other);
    FAIL() << "resumed with another config";
  } catch (const InputError& e) {
    EXPECT_TRUE(test::contains(e.what(), "config differs")) << e.what();
  }
}

// The layout is a matter of speed only: a run in NHWC ends at the weights of the NCHW run, up
// to float rounding (a batch laid out wrongly would train something else: differences of 0.01
// and more).
TEST(SegmentationTrainer, EitherMemoryFormatTrainsTheSameWeights) {
  torch::set_num_threads(1);
  test::ScratchDir dir;
  SegmentationTrainConfig config = SegmentationTrainConfig::load(tiny_config(
      dir.path(), "{epochs: 2, batch_size: 4, optimizer: {name: sgd, lr: 0.05}, schedule: {name: constant}}"));
  std::vector<LoadedSegmenter> trained;
  for (const std::string format : {"contiguous", "channels_last"}) {
    config.memory_format = format;
    TrainRunOptions options;
    options.out_dir = dir / format;
    trained.push_back(load_segmenter(train_segmenter(config, options).last_model, torch::kCPU));
  }
  const auto a = trained[0].model->named_parameters(), b = trained[1].model->named_parameters();
  double largest = 0;
  for (const auto& item : a) largest = std::max(largest, (item.value() - b[item.key()]).abs().max().item<double>());
  EXPECT_LT(largest, 1e-3);
  EXPECT_FALSE(same_segmenter_weights(dir / "contiguous/last.hpm", dir / "channels_last/last.hpm"))
      << "the two layouts ran the very same arithmetic: the format was not applied";
}

TEST(SegmentationTrainer, FrozenPretrainedEncoderKeepsItsWeights) {
  torch::set_num_threads(1);
  test::ScratchDir dir;
  const std::string classifier = testing::save_classifier(dir / "resnet18.hpm", "resnet18", 4);
  const SegmentationTrainConfig config = SegmentationTrainConfig::load(tiny_config(
      dir.path(), "{epochs: 1, batch_size: 4, freeze: {stages: backbone}}",
      "model: {arch: unet, extra: {depth: 5, width: 8, encoder: resnet18}, pretrained: resnet18.hpm}\n"));
  TrainRunOptions options;
  options.out_dir = dir / "run";
  const SegmentationTrainResult r = train_segmenter(config, options);
  EXPECT_TRUE(test::contains(r.pretrained, "resnet18.hpm")) << r.pretrained;

  LoadedClassifier source = load_classifier(classifier, torch::kCPU);
  LoadedSegmenter trained = load_segmenter(r.last_model, torch::kCPU);
  const auto encoder = trained.model->encoder()->named_parameters();
  const auto encoder_buffers = trained.model->encoder()->named_buffers();
  size_t checked = 0;
  for (const auto& p : encoder) {
    EXPECT_TRUE(torch::equal(p.value(), source.model->named_parameters()[p.key()])) << p.key() << " moved";
    ++checked;
  }
  for (const auto& b : encoder_buffers)  // frozen batch norms keep their statistics
    EXPECT_TRUE(torch::equal(b.value(), source.model->named_buffers()[b.key()])) << b.key() << " changed";
  EXPECT_GT(checked, 50u);

  // The decoder did learn: it left the initialisation the run started from.
  seed_everything(config.seed);
  SegmenterOptions fresh_options;
  fresh_options.num_classes = 1;
  fresh_options.extra = config.extra;
  const SegmenterPtr fresh = create_segmenter(config.arch, fresh_options);
  size_t decoder_tensors = 0, moved = 0;
  for (const auto& p : trained.model->named_parameters()) {
    if (p.key().rfind("encoder.", 0) == 0) continue;
    ++decoder_tensors;
    moved += !torch::equal(p.value(), fresh->named_parameters()[p.key()]);
  }
  EXPECT_GT(decoder_tensors, 0u);
  EXPECT_EQ(moved, decoder_tensors);
}

TEST(SegmentationTrainer, DataThatDoesNotFitStopsBeforeAnythingIsWritten) {
  test::ScratchDir dir;
  const std::string config_path = tiny_config(dir.path(), "{epochs: 1}");
  // One mask of the wrong size.
  const fs::path mask = dir.path() / "masks" / fs::directory_iterator(dir.path() / "masks")->path().filename();
  fs::remove(mask);
  write_image(mask.string(), cv::Mat(10, 12, CV_16U, cv::Scalar(0)));
  TrainRunOptions options;
  options.out_dir = dir / "run";
  try {
    train_segmenter(SegmentationTrainConfig::load(config_path), options);
    FAIL() << "trained on a mask of the wrong size";
  } catch (const InputError& e) {
    EXPECT_TRUE(test::contains(e.what(), mask.filename().string())) << e.what();
    EXPECT_TRUE(test::contains(e.what(), "12 x 10 px")) << e.what();
  }
  EXPECT_FALSE(fs::exists(dir.path() / "run"));
}

}  // namespace
}  // namespace hemapath
