// Segmentation through the command line: `train` reads the task from the config, `eval` and
// `predict` from the model file; outputs as documented; bad input exits 2 with nothing written.
#include <gtest/gtest.h>

#include <fstream>
#include <nlohmann/json.hpp>
#include <opencv2/core.hpp>

#include "hemapath/io/csv.h"
#include "hemapath/io/image_io.h"
#include "hemapath/models/model_file.h"
#include "test_support.h"

namespace hemapath {
namespace {
namespace fs = std::filesystem;
using test::contains;

// Trains a tiny U-Net on 6 nucleus tiles once for every test of this file.
class SegmentationCli : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = new test::ScratchDir();
    test::link_nuclei_tiles(dir_->path(), 6);
    test::write_file(*dir_ / "seg.yaml",
                     "task: segmentation\nseed: 1\n"
                     "data: {images: images, masks: masks, mask: instance, scale: 0.5, patch: 64, workers: 1,\n"
                     "       split: {train: 0.5, val: 0.17, test: 0.33, seed: 1}}\n"
                     "model: {arch: unet, extra: {depth: 2, width: 8}}\n"
                     "normalization: {mode: standardize}\n"
                     "loss: {cross_entropy: 1, dice: 1}\n"
                     "train: {epochs: 3, batch_size: 4, optimizer: {name: adam, lr: 0.01}}\n"
                     "instances: {min_area: 4}\n");
    train_ = test::run_cli("train --threads 1 --config '" + *dir_ / "seg.yaml" + "' --out '" + *dir_ / "run" + "'");
  }
  static void TearDownTestSuite() { delete dir_; }

  static std::string model() { return *dir_ / "run/best.hpm"; }
  static test::ScratchDir* dir_;
  static test::CommandResult train_;
};
test::ScratchDir* SegmentationCli::dir_ = nullptr;
test::CommandResult SegmentationCli::train_;

TEST_F(SegmentationCli, TrainReportsTheSegmentationRun) {
  ASSERT_EQ(train_.exit_code, 0) << train_.output;
  EXPECT_TRUE(contains(train_.output, "trained unet on 3 images (val 1, test 2 held out) for 3 epochs"))
      << train_.output;
  EXPECT_TRUE(contains(train_.output, "val foreground mIoU")) << train_.output;
  const auto info = test::run_cli("info '" + model() + "'");
  EXPECT_EQ(info.exit_code, 0) << info.output;
  EXPECT_TRUE(contains(info.output, "task segmentation, 2 classes: background cell")) << info.output;
  EXPECT_TRUE(contains(info.output, "validation: foreground mIoU")) << info.output;
}

TEST_F(SegmentationCli, EvalScoresPixelsAndCellsOfTheTestSplit) {
  ASSERT_EQ(train_.exit_code, 0) << train_.output;
  const auto r = test::run_cli("eval --threads 1 --model '" + model() + "' --out '" + *dir_ / "eval" +
                               "' --record-in '" + *dir_ / "recorded.hpm" + "'");
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_TRUE(contains(r.output, "test split of the model's training config (2 images)")) << r.output;
  EXPECT_TRUE(contains(r.output, "foreground mIoU")) << r.output;
  EXPECT_TRUE(contains(r.output, "cells (distance-transform watershed)")) << r.output;
  EXPECT_TRUE(contains(r.output, "DSB mAP")) << r.output;
  std::ifstream in(*dir_ / "eval/report.json");
  const nlohmann::json report = nlohmann::json::parse(in);
  EXPECT_EQ(report.at("images"), 2);
  EXPECT_TRUE(report.at("instances").contains("dsb_map"));
  EXPECT_EQ(report.at("pixels").at("class_names"), (nlohmann::json{"background", "cell"}));
  EXPECT_EQ(read_csv(*dir_ / "eval/per_image.csv").size(), 3u);  // header + 2 images
  // --record-in: the figures in a copy of the model's header, and `info` lists them.
  const nlohmann::json recorded = read_model_header(*dir_ / "recorded.hpm").at("evaluations").at(0);
  EXPECT_EQ(recorded.at("images"), 2);
  EXPECT_EQ(recorded.at("foreground_miou"), report.at("foreground_miou"));
  EXPECT_EQ(recorded.at("cell_f1"), report.at("instances").at("f1"));
  const auto info = test::run_cli("info '" + *dir_ / "recorded.hpm" + "'");
  EXPECT_TRUE(contains(info.output, "evaluated on test split of the model's training config (2 images)"))
      << info.output;

  const auto plain = test::run_cli("eval --threads 1 --model '" + model() + "' --no-watershed");
  ASSERT_EQ(plain.exit_code, 0) << plain.output;
  EXPECT_TRUE(contains(plain.output, "cells (connected components)")) << plain.output;

  const auto bad_split = test::run_cli("eval --model '" + model() + "' --split nonsense");
  EXPECT_EQ(bad_split.exit_code, 2);
  EXPECT_TRUE(contains(bad_split.output, "--split 'nonsense'")) << bad_split.output;
}

TEST_F(SegmentationCli, PredictWritesMapsCellsAndASummary) {
  ASSERT_EQ(train_.exit_code, 0) << train_.output;
  const fs::path out = dir_->path() / "pred";
  const auto r = test::run_cli("predict --threads 1 --model '" + model() + "' '" + *dir_ / "images" + "' --out '" +
                               out.string() + "'");
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_TRUE(contains(r.output, "6 images segmented")) << r.output;
  const std::vector<CsvRow> summary = read_csv((out / "summary.csv").string());
  ASSERT_EQ(summary.size(), 7u);  // header + 6 images
  const std::string stem = fs::path(summary[1][0]).stem().string();
  for (const char* f : {"classes.png", "foreground.png", "instances.png", "overlay.png", "cells.csv", "cells.geojson"})
    EXPECT_TRUE(fs::exists(out / stem / f)) << f;
  const cv::Mat instances = read_mask((out / stem / "instances.png").string());
  EXPECT_EQ(instances.size(), cv::Size(320, 256));  // the image's own size, not the model's half scale
  EXPECT_EQ(instances.depth(), CV_16U);
  const std::vector<CsvRow> cells = read_csv((out / stem / "cells.csv").string());
  EXPECT_EQ(std::to_string(cells.size() - 1), summary[1][1]);
}

TEST_F(SegmentationCli, BadInputExitsTwoWithNothingWritten) {
  ASSERT_EQ(train_.exit_code, 0) << train_.output;
  // A corrupt image among good ones: refused before any result is written.
  test::ScratchDir inputs;
  fs::copy_file(fs::directory_iterator(dir_->path() / "images")->path(), inputs.path() / "good.png");
  test::write_file(inputs / "broken.png", "not a png");
  const fs::path out = inputs.path() / "out";
  const auto r = test::run_cli("predict --model '" + model() + "' '" + inputs.path().string() + "' --out '" +
                               out.string() + "'");
  EXPECT_EQ(r.exit_code, 2) << r.output;
  EXPECT_TRUE(contains(r.output, "broken.png")) << r.output;
  EXPECT_FALSE(fs::exists(out));

  // A mask that does not fit its image stops training before the run folder exists.
  test::ScratchDir data;
  test::link_nuclei_tiles(data.path(), 2);
  const fs::path mask = *fs::directory_iterator(data.path() / "masks");
  fs::remove(mask.string());
  write_image(mask.string(), cv::Mat(30, 40, CV_16U, cv::Scalar(0)));
  test::write_file(data / "seg.yaml",
                   "task: segmentation\ndata: {images: images, masks: masks, mask: instance}\nmodel: {arch: unet}\n");
  const auto t = test::run_cli("train --config '" + data / "seg.yaml" + "' --out '" + data / "run" + "'");
  EXPECT_EQ(t.exit_code, 2) << t.output;
  EXPECT_TRUE(contains(t.output, mask.filename().string())) << t.output;
  EXPECT_TRUE(contains(t.output, "40 x 30 px")) << t.output;
  EXPECT_FALSE(fs::exists(data.path() / "run"));

  // Labels outside the class range of an index-mask config.
  test::ScratchDir index;
  fs::create_directories(index.path() / "images");
  fs::create_directories(index.path() / "masks");
  write_image(index / "images/a.png", cv::Mat(16, 16, CV_8UC3, cv::Scalar(9, 9, 9)));
  write_image(index / "masks/a.png", cv::Mat(16, 16, CV_8U, cv::Scalar(5)));
  test::write_file(index / "seg.yaml", "task: segmentation\ndata: {images: images, masks: masks, classes: [bg, cell]}\n"
                                       "model: {arch: unet}\n");
  const auto labels = test::run_cli("train --config '" + index / "seg.yaml" + "' --out '" + index / "run" + "'");
  EXPECT_EQ(labels.exit_code, 2) << labels.output;
  EXPECT_TRUE(contains(labels.output, "holds class 5: expected 0..1")) << labels.output;
}

}  // namespace
}  // namespace hemapath
