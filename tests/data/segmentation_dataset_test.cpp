// Segmentation pairs: targets from instance masks, patches whose mask follows the image
// through augmentation, and clear errors for pairs that do not fit.
#include <gtest/gtest.h>

#include <opencv2/imgproc.hpp>

#include "hemapath/core/error.h"
#include "hemapath/data/segmentation_dataset.h"
#include "hemapath/io/image_io.h"
#include "test_support.h"

namespace hemapath {
namespace {

SegmentationDataSpec index_spec(const test::ScratchDir& dir) {
  SegmentationDataSpec spec;
  spec.images = dir / "images";
  spec.masks = dir / "masks";
  spec.classes = {"background", "cell"};
  return spec;
}

// An image whose red channel is bright exactly where the mask says "cell".
void write_pair(const test::ScratchDir& dir, const std::string& stem, int rows, int cols, uint64_t seed) {
  cv::Mat mask(rows, cols, CV_8U, cv::Scalar(0));
  Rng rng(seed);
  for (int k = 0; k < 6; ++k)
    cv::circle(mask, {int(uniform(rng, 0, cols)), int(uniform(rng, 0, rows))}, int(uniform(rng, 3, 12)), 1, -1);
  cv::Mat image(rows, cols, CV_8UC3, cv::Scalar(40, 90, 160));
  image.setTo(cv::Scalar(220, 90, 160), mask);
  std::filesystem::create_directories(dir.path() / "images");
  std::filesystem::create_directories(dir.path() / "masks");
  write_image(dir / ("images/" + stem + ".png"), image);
  write_image(dir / ("masks/" + stem + ".png"), mask);
}

TEST(SegmentationDataset, InstanceMasksBecomeForegroundOrBoundaryTargets) {
  cv::Mat ids(6, 8, CV_16U, cv::Scalar(0));
  ids(cv::Rect(1, 1, 3, 4)).setTo(7);  // two touching cells
  ids(cv::Rect(4, 1, 3, 4)).setTo(300);
  const cv::Mat fg = instance_targets(ids, "foreground");
  EXPECT_EQ(cv::countNonZero(fg), 24);
  EXPECT_EQ(fg.at<uint8_t>(0, 0), 0);
  const cv::Mat boundary = instance_targets(ids, "boundary");
  EXPECT_EQ(boundary.at<uint8_t>(2, 3), 2);  // cell 7 next to cell 300
  EXPECT_EQ(boundary.at<uint8_t>(2, 4), 2);  // and the other side
  EXPECT_EQ(boundary.at<uint8_t>(1, 2), 2);  // next to the background
  EXPECT_EQ(boundary.at<uint8_t>(2, 2), 1);  // interior
  EXPECT_EQ(boundary.at<uint8_t>(0, 0), 0);
  EXPECT_EQ(cv::countNonZero(boundary == 1), 2 * 2);  // 3x4 cells keep a 1x2 interior each

  // Cell 300 unlabelled: its pixels are unknown, and cell 7's side next to it is boundary.
  const cv::Mat partial = instance_targets(ids, "boundary", 300);
  EXPECT_EQ(cv::countNonZero(partial == kUnlabelledTarget), 12);
  EXPECT_EQ(partial.at<uint8_t>(2, 4), kUnlabelledTarget);
  EXPECT_EQ(partial.at<uint8_t>(2, 3), 2);
  EXPECT_EQ(partial.at<uint8_t>(2, 2), 1);
  EXPECT_EQ(partial.at<uint8_t>(0, 0), 0);
  EXPECT_EQ(cv::countNonZero(instance_targets(ids, "foreground", 300) == 1), 12);
}

TEST(SegmentationDataset, PatchesKeepMaskAndImageAligned) {
  test::ScratchDir dir;
  write_pair(dir, "a", 50, 70, 1);
  write_pair(dir, "b", 20, 30, 2);  // smaller than the patch: padded
  SegmentationDataOptions options;
  options.patch = 32;
  options.augment.rot90 = true;  // flips and rot90 only: exact for image and mask alike
  SegmentationDataset data(list_segmentation_pairs(index_spec(dir)), index_spec(dir), options);
  data.load(2);
  ASSERT_EQ(data.size(), 2u);
  for (size_t i = 0; i < data.size(); ++i) {
    for (uint64_t seed = 0; seed < 8; ++seed) {
      auto [image, target] = data.patch(i, seed);
      ASSERT_EQ(image.sizes(), (std::vector<int64_t>{3, 32, 32}));
      ASSERT_EQ(target.sizes(), (std::vector<int64_t>{32, 32}));
      // Red above 0.5 (unit normalisation) exactly where the target says cell, except the
      // padding of the small image, whose reflected pixels carry no target.
      const torch::Tensor red = image[0] > 0.5;
      const torch::Tensor cell = target == 1;
      if (i == 0) EXPECT_TRUE(torch::equal(red, cell)) << "seed " << seed;
      else EXPECT_TRUE(torch::equal(red.logical_and(cell), cell)) << "seed " << seed;
    }
  }
  // Same seed, same patch; another seed, another one.
  EXPECT_TRUE(torch::equal(data.patch(0, 5).first, data.patch(0, 5).first));
  EXPECT_FALSE(torch::equal(data.patch(0, 5).first, data.patch(0, 6).first));
  auto [image, target] = data.whole(1);
  EXPECT_EQ(image.sizes(), (std::vector<int64_t>{3, 20, 30}));
  EXPECT_EQ(target.sum().item<int64_t>(), cv::countNonZero(data.target(1)));
}

TEST(SegmentationDataset, RealNucleiInstanceMasks) {
  SegmentationDataSpec spec;
  spec.images = (test::shared_data() / "nuclei-dsb2018" / "images").string();
  spec.masks = (test::shared_data() / "nuclei-dsb2018" / "masks").string();
  spec.mask_kind = "instance";
  spec.target = "boundary";
  spec.classes = {"background", "cell", "boundary"};
  std::vector<SegmentationPair> pairs = list_segmentation_pairs(spec);
  ASSERT_EQ(pairs.size(), 84u);
  pairs.resize(3);
  SegmentationDataset data(pairs, spec, {});
  data.load(2);
  for (size_t i = 0; i < data.size(); ++i) {
    double hi = 0;
    cv::minMaxLoc(data.target(i), nullptr, &hi);
    EXPECT_EQ(hi, 2) << pairs[i].mask_path;
    EXPECT_EQ(data.target(i).size(), data.image(i).size());
  }
}

TEST(SegmentationDataset, PairsThatDoNotFitAreErrorsNamingTheFiles) {
  test::ScratchDir dir;
  write_pair(dir, "a", 20, 20, 1);
  write_image(dir / "masks/a.png", cv::Mat(21, 20, CV_8U, cv::Scalar(0)));
  SegmentationDataset sized(list_segmentation_pairs(index_spec(dir)), index_spec(dir), {});
  try {
    sized.load(1);
    FAIL() << "expected an error";
  } catch (const InputError& e) {
    EXPECT_NE(std::string(e.what()).find("a.png' is 20 x 21 px but its image"), std::string::npos) << e.what();
  }
  write_image(dir / "masks/a.png", cv::Mat(20, 20, CV_8U, cv::Scalar(3)));
  SegmentationDataset classes(list_segmentation_pairs(index_spec(dir)), index_spec(dir), {});
  try {
    classes.load(1);
    FAIL() << "expected an error";
  } catch (const InputError& e) {
    EXPECT_NE(std::string(e.what()).find("holds class 3: expected 0..1"), std::string::npos) << e.what();
  }
  // An empty mask and a 1x1 image are fine.
  write_image(dir / "masks/a.png", cv::Mat(20, 20, CV_8U, cv::Scalar(0)));
  write_image(dir / "images/b.png", cv::Mat(1, 1, CV_8UC3, cv::Scalar(1, 2, 3)));
  write_image(dir / "masks/b.png", cv::Mat(1, 1, CV_8U, cv::Scalar(1)));
  SegmentationDataOptions options;
  options.patch = 16;
  SegmentationDataset fine(list_segmentation_pairs(index_spec(dir)), index_spec(dir), options);
  fine.load(1);
  EXPECT_EQ(fine.patch(1, 0).second.sum().item<int64_t>(), 1);
  EXPECT_EQ(fine.patch(0, 0).second.sum().item<int64_t>(), 0);

  SegmentationDataSpec missing = index_spec(dir);
  missing.masks = dir / "nowhere";
  EXPECT_THROW(list_segmentation_pairs(missing), InputError);
}

}  // namespace
}  // namespace hemapath

namespace hemapath {
namespace {

// Context patches (multi-resolution networks): every image comes with a context patch of the
// same size, augmented with the same draws so the two stay centred on one point.
TEST(SegmentationDataset, ContextPatchesFollowTheImageThroughAugmentation) {
  test::ScratchDir dir;
  write_pair(dir, "a", 48, 48, 3);
  write_pair(dir, "b", 48, 48, 4);
  std::filesystem::create_directories(dir.path() / "context");
  // Each context patch is its image, so aligned augmentation keeps the two halves equal.
  for (const char* stem : {"a", "b"})
    std::filesystem::copy_file(dir.path() / "images" / (std::string(stem) + ".png"),
                               dir.path() / "context" / (std::string(stem) + ".png"));
  SegmentationDataSpec spec = index_spec(dir);
  spec.context = dir / "context";
  SegmentationDataOptions options;
  options.patch = 48;
  options.augment.rotate_degrees = 30;
  options.augment.scale_min = 0.8;
  options.augment.scale_max = 1.2;
  options.augment.hed_sigma = 0.05;
  SegmentationDataset data(list_segmentation_pairs(spec), spec, options);
  data.load(1);
  EXPECT_EQ(data.input_channels(), 6);
  for (uint64_t seed = 0; seed < 6; ++seed) {
    const auto [input, target] = data.patch(seed % 2, seed);
    ASSERT_EQ(input.sizes(), (std::vector<int64_t>{6, 48, 48}));
    EXPECT_TRUE(torch::equal(input.narrow(0, 0, 3), input.narrow(0, 3, 3))) << "seed " << seed;
  }
  const auto whole = data.whole(0).first;
  EXPECT_EQ(whole.size(0), 6);
  EXPECT_EQ(spec.to_json()["context"], spec.context);
  EXPECT_EQ(SegmentationDataSpec::from_json(spec.to_json()).context, spec.context);
}

TEST(SegmentationDataset, ContextErrorsNameTheFiles) {
  test::ScratchDir dir;
  write_pair(dir, "a", 48, 48, 3);
  SegmentationDataSpec spec = index_spec(dir);
  spec.context = dir / "context";
  EXPECT_THROW(list_segmentation_pairs(spec), InputError);  // no context folder
  std::filesystem::create_directories(dir.path() / "context");
  try {
    list_segmentation_pairs(spec);
    FAIL() << "a missing context patch must be named";
  } catch (const InputError& e) {
    EXPECT_TRUE(test::contains(e.what(), "context patch")) << e.what();
  }
  write_image(dir / "context/a.png", cv::Mat(40, 48, CV_8UC3, cv::Scalar(1, 2, 3)));
  SegmentationDataOptions options;
  options.patch = 48;
  SegmentationDataset wrong_size(list_segmentation_pairs(spec), spec, options);
  EXPECT_THROW(wrong_size.load(1), InputError);
  write_image(dir / "context/a.png", cv::Mat(48, 48, CV_8UC3, cv::Scalar(1, 2, 3)));
  options.patch = 32;  // a crop would move the tile's centre away from its context's
  SegmentationDataset cropped(list_segmentation_pairs(spec), spec, options);
  EXPECT_THROW(cropped.load(1), ConfigError);
}

}  // namespace
}  // namespace hemapath
