// Building the red-cell training data from point files: layout, split, crops, errors.
#include <gtest/gtest.h>

#include <filesystem>
#include <opencv2/imgproc.hpp>

#include "hemapath/core/error.h"
#include "hemapath/data/point_dataset.h"
#include "hemapath/io/csv.h"
#include "hemapath/io/image_io.h"
#include "test_support.h"

namespace hemapath {
namespace {
namespace fs = std::filesystem;

// Five smears with two cells each (classes 0 and 2), points in `dir`/points.
PointDatasetOptions write_smears(const test::ScratchDir& dir) {
  for (int i = 0; i < 5; ++i) {
    cv::Mat rgb(80, 120, CV_8UC3, cv::Scalar(235, 230, 225));
    cv::circle(rgb, {30, 40}, 12, cv::Scalar(210, 110, 120), cv::FILLED);
    cv::circle(rgb, {80, 40}, 12, cv::Scalar(210, 110, 120), cv::FILLED);
    if (i == 0) {  // two cells without a point, one cut by the border (annotators skip those)
      cv::circle(rgb, {106, 40}, 10, cv::Scalar(210, 110, 120), cv::FILLED);
      cv::circle(rgb, {60, 78}, 10, cv::Scalar(210, 110, 120), cv::FILLED);
    }
    write_image(dir / ("images/s" + std::to_string(i) + ".png"), rgb);
    test::write_file(dir / ("points/s" + std::to_string(i) + ".txt"), "30 40 0\n80 40 2\n");
  }
  test::write_file(dir / "classes.txt", "normal\ntarget\nuncategorised\n");
  PointDatasetOptions o;
  o.images = dir / "images";
  o.points = dir / "points";
  o.classes_file = dir / "classes.txt";
  o.out = dir / "out";
  o.crop = 16;
  return o;
}

TEST(PointDataset, WritesMasksCropsAndASeededImageSplit) {
  test::ScratchDir dir;
  PointDatasetOptions o = write_smears(dir);
  o.exclude = {"uncategorised"};
  const PointDatasetSummary s = build_point_dataset(o);
  EXPECT_EQ(s.train_images, 4u);
  EXPECT_EQ(s.test_images, 1u);
  EXPECT_EQ(s.train_crops.at("normal"), 4u);
  EXPECT_EQ(s.train_crops.count("uncategorised"), 0u);  // excluded: no crop, still a cell in the mask
  EXPECT_EQ(s.empty_cells, 0u);

  const auto split = read_csv(dir / "out/split.csv");
  ASSERT_EQ(split.size(), 6u);
  EXPECT_EQ(split[0], (CsvRow{"image", "part", "points", "labelled_share"}));
  std::string test_image, s0_part;
  for (size_t i = 1; i < split.size(); ++i) {
    const auto& row = split[i];
    if (row[1] == "test") test_image = row[0];
    EXPECT_EQ(row[2], "2");
    if (row[0] == "s0.png") {
      s0_part = row[1];
      // Two labelled discs of radius 12 and an inner unlabelled one of 10 (+2 px margin): 2/3.
      EXPECT_NEAR(std::stod(row[3]), 2.0 / 3, 0.05) << row[3];
    } else {
      EXPECT_EQ(row[3], "1") << row[0];
    }
  }
  const cv::Mat s0 = read_mask(dir / ("out/" + s0_part + "/masks/s0.png"));
  EXPECT_EQ(s0.at<uint16_t>(40, 106), kUnlabelledCell);
  EXPECT_EQ(s0.at<uint16_t>(76, 60), kUnlabelledCell);
  EXPECT_EQ(s0.at<uint16_t>(5, 5), 0);
  const std::string stem = fs::path(test_image).stem().string();
  EXPECT_TRUE(fs::exists(dir / ("out/test/images/" + test_image)));
  EXPECT_TRUE(fs::exists(dir / ("out/test/masks/" + stem + ".png")));
  EXPECT_FALSE(fs::exists(dir / ("out/train/masks/" + stem + ".png")));
  const cv::Mat mask = read_mask(dir / ("out/test/masks/" + stem + ".png"));
  EXPECT_EQ(mask.depth(), CV_16U);
  EXPECT_EQ(mask.at<uint16_t>(40, 30), 1);
  EXPECT_EQ(mask.at<uint16_t>(40, 80), 2);  // the excluded class's cell is in the mask

  const auto crops = read_csv(dir / "out/crops/train/labels.csv");
  ASSERT_EQ(crops.size(), 5u);
  EXPECT_EQ(crops[0], (CsvRow{"image", "label", "source", "x", "y"}));
  EXPECT_EQ(crops[1][1], "normal");
  const cv::Mat crop = read_image_rgb(dir / ("out/crops/train/" + crops[1][0]));
  EXPECT_EQ(crop.size(), cv::Size(16, 16));

  // The same seed gives the same split; the output folder is never overwritten.
  EXPECT_THROW(build_point_dataset(o), OutputError);
  o.out = dir / "again";
  build_point_dataset(o);
  EXPECT_EQ(test::read_text(dir / "again/split.csv"), test::read_text(dir / "out/split.csv"));
}

TEST(PointDataset, ATestFractionOfZeroOrOnePutsEverySmearOnOneSide) {
  test::ScratchDir dir;
  PointDatasetOptions o = write_smears(dir);
  for (double fraction : {0.0, 1.0}) {
    o.test_fraction = fraction;
    o.out = dir / ("out" + std::to_string(static_cast<int>(fraction)));
    const PointDatasetSummary s = build_point_dataset(o);
    const bool all_test = fraction == 1.0;
    EXPECT_EQ(s.train_images, all_test ? 0u : 5u) << fraction;
    EXPECT_EQ(s.test_images, all_test ? 5u : 0u) << fraction;
    const auto train_crops = read_csv(o.out + "/crops/train/labels.csv");
    const auto test_crops = read_csv(o.out + "/crops/test/labels.csv");
    EXPECT_EQ(train_crops.size(), all_test ? 1u : 11u) << fraction;  // header + 2 crops a smear
    EXPECT_EQ(test_crops.size(), all_test ? 11u : 1u) << fraction;
    const auto split = read_csv(o.out + "/split.csv");
    for (size_t i = 1; i < split.size(); ++i) EXPECT_EQ(split[i][1], all_test ? "test" : "train") << fraction;
  }
}

TEST(PointDataset, BadInputLeavesNothingBehind) {
  test::ScratchDir dir;
  PointDatasetOptions o = write_smears(dir);
  test::write_file(dir / "points/s3.txt", "30 40 0\n80 40 9\n");  // class 9 of 3
  try {
    build_point_dataset(o);
    FAIL() << "no error";
  } catch (const InputError& e) {
    EXPECT_TRUE(test::contains(e.what(), "s3.txt' line 2")) << e.what();
  }
  EXPECT_FALSE(fs::exists(dir / "out"));
  fs::remove(dir / "points/s3.txt");
  EXPECT_THROW(build_point_dataset(o), InputError);  // an image without a point file
  EXPECT_FALSE(fs::exists(dir / "out"));
  test::write_file(dir / "points/s3.txt", "30 40 0\n");
  o.exclude = {"nonsense"};
  EXPECT_THROW(build_point_dataset(o), InputError);
  o.exclude.clear();
  for (double fraction : {-0.1, 1.5}) {
    o.test_fraction = fraction;
    EXPECT_THROW(build_point_dataset(o), ConfigError) << fraction;
    EXPECT_FALSE(fs::exists(dir / "out"));
  }
}

}  // namespace
}  // namespace hemapath
