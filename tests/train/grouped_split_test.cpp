// data.split.group_by: a training split that keeps every smear's crops on one side, recomputed
// identically by `eval --split` from the config a model file stores.
#include <gtest/gtest.h>

#include <map>
#include <opencv2/imgcodecs.hpp>
#include <set>

#include "hemapath/core/error.h"
#include "hemapath/models/model_file.h"
#include "hemapath/train/eval_set.h"
#include "hemapath/train/segmentation_config.h"
#include "hemapath/train/trainer.h"
#include "test_support.h"

namespace hemapath {
namespace {

// 40 crops cut from 10 smears (4 each, two of each class); returns the config's path.
std::string write_crops(const test::ScratchDir& dir, const std::string& split) {
  std::string csv = "image,label,source\n";
  for (int smear = 0; smear < 10; ++smear)
    for (int j = 0; j < 4; ++j) {
      const std::string name = "s" + std::to_string(smear) + "_" + std::to_string(j) + ".png";
      cv::imwrite((dir.path() / name).string(), cv::Mat(8, 8, CV_8UC3, cv::Scalar(20 * smear, 9 * j, 100)));
      csv += name + "," + (j % 2 ? "burr" : "normal") + ",smear" + std::to_string(smear) + ".jpg\n";
    }
  test::write_file((dir.path() / "labels.csv").string(), csv);
  const std::string config = (dir.path() / "config.yaml").string();
  test::write_file(config, "task: classification\ndata:\n  labels: labels.csv\n  split: " + split +
                               "\n  crop: {size: 8, mode: resize}\nmodel: {arch: separable_cnn}\n");
  return config;
}

// The smear of each crop, from its file name ("s3_1.png" -> "3").
std::string smear_of(const Sample& s) {
  const std::string name = std::filesystem::path(s.image_path).filename().string();
  return name.substr(1, name.find('_') - 1);
}

// How many smears have crops in more than one part.
int smears_on_two_sides(const SplitIndices& parts, const std::vector<Sample>& samples) {
  std::map<std::string, std::set<int>> sides;
  int part = 0;
  for (const auto* indices : {&parts.train, &parts.val, &parts.test}) {
    for (size_t i : *indices) sides[smear_of(samples[i])].insert(part);
    ++part;
  }
  int straddling = 0;
  for (const auto& [smear, in] : sides) straddling += in.size() > 1;
  return straddling;
}

TEST(GroupedSplit, EachSmearStaysOnOneSideAndEvalRecomputesTheSplit) {
  test::ScratchDir dir;
  const std::string split = "{train: 0.6, val: 0.2, test: 0.2, seed: 5, group_by: 'column:source'}";
  const TrainConfig config = TrainConfig::load(write_crops(dir, split));
  EXPECT_EQ(config.split.group_by, "column:source");
  const LabeledSamples data = load_samples(config.data);
  const SplitIndices parts = split_samples(config.split, config.data, data);
  EXPECT_EQ(parts.train.size() + parts.val.size() + parts.test.size(), 40u);
  EXPECT_EQ(parts.train.size(), 24u);
  EXPECT_EQ(parts.val.size(), 8u);
  EXPECT_EQ(parts.test.size(), 8u);
  EXPECT_EQ(smears_on_two_sides(parts, data.samples), 0);
  EXPECT_EQ(split_samples(config.split, config.data, data).val, parts.val) << "the same seed, the same split";

  // The same crops split one by one put smears on both sides: what the grouping prevents.
  TrainConfig by_crop = config;
  by_crop.split.group_by.clear();
  EXPECT_GT(smears_on_two_sides(split_samples(by_crop.split, by_crop.data, data), data.samples), 0);

  // A model file stores the grouping with its config; eval --split val recomputes that part.
  ClassifierHeader header;
  header.classes = data.class_names;
  header.training["config"] = config.to_json();
  EXPECT_EQ(header.training["config"]["data"]["split"]["group_by"], "column:source");
  EXPECT_FALSE(by_crop.to_json()["data"]["split"].contains("group_by")) << "configs without it stay as they were";
  const EvalSet val = resolve_eval_set(header, {"", "", "val", {}});
  EXPECT_EQ(val.indices, parts.val);

  // A regex over file names groups the same way.
  TrainConfig by_name = config;
  by_name.split.group_by = "^s(\\d+)_";
  EXPECT_EQ(split_samples(by_name.split, by_name.data, data).val, parts.val);
}

// The message of the E that splitting by `group_by` throws.
template <class E>
std::string split_error(TrainConfig config, const LabeledSamples& data, const std::string& group_by) {
  config.split.group_by = group_by;
  return test::error_of<E>([&] { split_samples(config.split, config.data, data); });
}

TEST(GroupedSplit, BadGroupingsAreNamed) {
  test::ScratchDir dir;
  TrainConfig config =
      TrainConfig::load(write_crops(dir, "{train: 0.8, val: 0.2, test: 0, group_by: 'column:patient'}"));
  const LabeledSamples data = load_samples(config.data);
  EXPECT_THROW(split_samples(config.split, config.data, data), InputError);  // no such column
  EXPECT_TRUE(test::contains(split_error<ConfigError>(config, data, "(unclosed"), "data.split.group_by"))
      << "an invalid regex";
  EXPECT_TRUE(test::contains(split_error<InputError>(config, data, "^x"), "s0_0.png")) << "a regex matching no file";
  // One smear cannot fill a training and a validation part.
  config.split.group_by = "\\.png";
  EXPECT_THROW(split_samples(config.split, config.data, data), InputError);

  test::write_file((dir.path() / "seg.yaml").string(),
                   "task: segmentation\ndata: {images: ., masks: ., classes: [background, cell], split: {train: 0.8, "
                   "val: 0.2, test: 0, "
                   "group_by: 'column:source'}}\nmodel: {arch: unet}\n");
  const std::string error =
      test::error_of<ConfigError>([&] { SegmentationTrainConfig::load((dir.path() / "seg.yaml").string()); });
  EXPECT_TRUE(test::contains(error, "group_by")) << error;
}

}  // namespace
}  // namespace hemapath
