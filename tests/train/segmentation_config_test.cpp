// Segmentation training configs: the bundled ones load, the task decides the reader, and bad
// values are errors naming the key.
#include <gtest/gtest.h>

#include "hemapath/core/error.h"
#include "hemapath/train/segmentation_config.h"
#include "hemapath/train/train_config.h"
#include "hemapath/train/checkpoint.h"
#include "test_support.h"

namespace hemapath {
namespace {

std::string write_config(const test::ScratchDir& dir, const std::string& extra_lines) {
  const std::string path = dir / "seg.yaml";
  test::write_file(path,
                   "task: segmentation\n"
                   "data: {images: " + (test::shared_data() / "wbc-bccd/images").string() +
                       ", masks: " + (test::shared_data() / "wbc-bccd/masks").string() +
                       ", classes: [background, cytoplasm, nucleus]}\n"
                       "model: {arch: unet}\n" + extra_lines);
  return path;
}

void expect_config_error(const std::string& path, const std::string& part) {
  try {
    SegmentationTrainConfig::load(path);
    FAIL() << "accepted a config that should mention " << part;
  } catch (const ConfigError& e) {
    EXPECT_TRUE(test::contains(e.what(), part)) << e.what();
  }
}

TEST(SegmentationConfig, BundledConfigsLoad) {
  for (const char* name : {"nuclei_unet.yaml", "wbc_segmentation_unet.yaml"}) {
    const std::string path = (test::source_dir() / "configs" / name).string();
    EXPECT_EQ(config_task(path), "segmentation") << name;
    const SegmentationTrainConfig c = SegmentationTrainConfig::load(path);
    EXPECT_EQ(c.arch, "unet");
    EXPECT_EQ(c.split.test, 0.2);
  }
  const SegmentationTrainConfig nuclei =
      SegmentationTrainConfig::load((test::source_dir() / "configs/nuclei_unet.yaml").string());
  EXPECT_EQ(nuclei.output_channels(), 3);  // instance masks as background / interior / boundary
  EXPECT_EQ(nuclei.data.classes, (std::vector<std::string>{"background", "cell", "boundary"}));
  EXPECT_TRUE(nuclei.instances.watershed);
  EXPECT_EQ(config_task((test::source_dir() / "configs/wbc_resnet18.yaml").string()), "classification");
}

TEST(SegmentationConfig, DefaultsAndRoundTrip) {
  test::ScratchDir dir;
  const SegmentationTrainConfig c = SegmentationTrainConfig::load(write_config(dir, ""));
  EXPECT_EQ(c.output_channels(), 3);
  EXPECT_EQ(c.monitor, "foreground_miou");
  EXPECT_EQ(c.memory_format, "contiguous");  // U-Nets train faster in NCHW (bench/run)
  EXPECT_EQ(SegmentationTrainConfig::load(write_config(dir, "train: {memory_format: channels_last}\n")).memory_format,
            "channels_last");
  EXPECT_EQ(c.split.train, 0.8);
  EXPECT_EQ(c.to_json().at("task"), "segmentation");
  EXPECT_EQ(c.to_json().at("data").at("spec").at("classes").size(), 3u);
  // A two-class index problem can keep two softmax outputs.
  test::ScratchDir two;
  const std::string path = two / "two.yaml";
  test::write_file(path, "task: segmentation\ndata: {images: i, masks: m, classes: [bg, fg]}\nmodel: {arch: unet, binary: false}\n");
  EXPECT_EQ(SegmentationTrainConfig::load(path).output_channels(), 2);
}

TEST(SegmentationConfig, UnlabelledPixelsOfInstanceMasksAreLeftOutOfTheLoss) {
  test::ScratchDir dir;
  const std::string path = dir / "points.yaml";
  const std::string data = "data: {images: i, masks: m, mask: instance, target: boundary, unlabelled_id: 65535}\n";
  test::write_file(path, "task: segmentation\n" + data + "model: {arch: unet}\n");
  const SegmentationTrainConfig c = SegmentationTrainConfig::load(path);
  EXPECT_EQ(c.data.unlabelled_id, 65535);
  EXPECT_EQ(c.loss.ignore_index, kUnlabelledTarget);
  EXPECT_EQ(SegmentationDataSpec::from_json(c.data.to_json()).unlabelled_id, 65535);
  test::write_file(path, "task: segmentation\n" + data + "model: {arch: unet}\nloss: {ignore_index: 3}\n");
  expect_config_error(path, "loss.ignore_index");
  // Index masks mark unknown pixels with the ignore index itself.
  test::write_file(path,
                   "task: segmentation\ndata: {images: i, masks: m, classes: [a, b], unlabelled_id: 9}\n"
                   "model: {arch: unet}\n");
  expect_config_error(path, "unlabelled_id");
}

TEST(SegmentationConfig, BadValuesNameTheirKey) {
  test::ScratchDir dir;
  expect_config_error(write_config(dir, "loss: {class_weights: [1, 2]}\n"), "loss.class_weights");
  expect_config_error(write_config(dir, "train: {monitor: accuracy}\n"), "train.monitor");
  expect_config_error(write_config(dir, "train: {memory_format: nhwc}\n"), "train.memory_format");
  expect_config_error(write_config(dir, "data_typo: 1\n"), "data_typo");
  expect_config_error(write_config(dir, "instances: {threshold: 2}\n"), "instances.threshold");
  expect_config_error(write_config(dir, "instances: {min_area: 50, max_area: 10}\n"), "instances.max_area");
  // The classification reader refuses a segmentation config, naming the task key.
  try {
    TrainConfig::load(write_config(dir, ""));
    FAIL() << "read a segmentation config as classification";
  } catch (const ConfigError& e) {
    EXPECT_TRUE(test::contains(e.what(), "task")) << e.what();
  }
}

TEST(TrainingProgress, RecordsTheBestEpochAndStopsAfterPatience) {
  TrainingProgress p;
  EXPECT_TRUE(p.record(0.5, 1, 2));
  EXPECT_FALSE(p.record(0.4, 2, 2));
  EXPECT_FALSE(p.stopped_early);
  EXPECT_TRUE(p.record(0.6, 3, 2));
  EXPECT_EQ(p.epochs_without_improvement, 0);
  EXPECT_FALSE(p.record(0.6, 4, 2));  // equal is no improvement
  EXPECT_FALSE(p.record(0.1, 5, 2));
  EXPECT_TRUE(p.stopped_early);
  EXPECT_EQ(p.best_epoch, 3);
  EXPECT_DOUBLE_EQ(p.best_value, 0.6);
  p.next_epoch = 5;
  const TrainingProgress back = TrainingProgress::from_json(p.to_json({{"a", 1}}));
  EXPECT_EQ(back.best_epoch, 3);
  EXPECT_EQ(back.next_epoch, 5);
  EXPECT_TRUE(back.stopped_early);
  EXPECT_THROW(TrainingProgress::from_json({{"config", 1}}), InputError);
}

}  // namespace
}  // namespace hemapath
