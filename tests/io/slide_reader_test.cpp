// SlideReader on the real fixtures: level and mpp arithmetic, reads at a chosen mpp against
// direct level reads, plain images as one-level slides, thread-safe concurrent reads, clear
// errors for broken files; the pyramidal TIFF writer round trip through OpenSlide.
#include <gtest/gtest.h>

#include <atomic>
#include <iostream>
#include <thread>

#include <opencv2/imgproc.hpp>

#include "hemapath/core/error.h"
#include "hemapath/io/image_io.h"
#include "hemapath/io/pyramid_tiff.h"
#include "hemapath/io/raster_file.h"
#include "hemapath/io/slide_reader.h"
#include "test_support.h"

namespace hemapath {
namespace {
namespace fs = std::filesystem;

std::string slide_path(const std::string& name) { return (test::shared_data() / "slides" / name).string(); }

double mean_abs_diff(const cv::Mat& a, const cv::Mat& b) {
  cv::Mat d;
  cv::absdiff(a, b, d);
  const cv::Scalar m = cv::mean(d);
  return (m[0] + m[1] + m[2]) / 3;
}

// A five-level pyramid (downsamples 1, 2, 4, 8, 16) of CMU-1-Small-Region written by hemapath's
// own libvips writer, JPEG like a scanner's, carrying the source's 0.499 um/px.
std::string cmu_pyramid(const test::ScratchDir& dir) {
  const SlideReader source(slide_path("CMU-1-Small-Region.svs"));
  const cv::Mat rgb = source.read_region(0, 0, 0, static_cast<int>(source.width()), static_cast<int>(source.height()));
  RasterFile raster = RasterFile::create(dir / "cmu.raw", rgb.cols, rgb.rows, 3);
  raster.write(cv::Rect(0, 0, rgb.cols, rgb.rows), rgb);
  PyramidTiffOptions o;
  o.mpp = 0.499;
  o.compression = "jpeg";
  o.shrink = "mean";
  write_pyramidal_tiff(raster.path(), rgb.cols, rgb.rows, 3, dir / "cmu.tif", o);
  return dir / "cmu.tif";
}

TEST(SlideReader, BoxesTiffLevelsAndMppArithmetic) {
  const SlideReader slide(slide_path("boxes.tiff"));
  EXPECT_EQ(slide.vendor(), "generic-tiff");
  ASSERT_EQ(slide.levels().size(), 4u);
  EXPECT_EQ(slide.width(), 300);
  EXPECT_EQ(slide.height(), 250);
  EXPECT_EQ(slide.levels()[1].width, 150);
  EXPECT_NEAR(slide.levels()[1].downsample, 2, 1e-9);
  // Its resolution tag is a 72 dpi default, not a microscope's: no mpp, and a clear error.
  EXPECT_FALSE(slide.mpp_x());
  try {
    slide.require_mpp();
    FAIL() << "a slide without mpp must say so";
  } catch (const InputError& e) {
    EXPECT_TRUE(test::contains(e.what(), "--slide-mpp")) << e.what();
  }
  // With an override: reads at 2 and 4 um/px of a 1 um/px slide come from levels 1 and 2.
  const SlideReader one(slide_path("boxes.tiff"), SlideOpenOptions{1.0});
  EXPECT_DOUBLE_EQ(one.require_mpp(), 1.0);
  EXPECT_EQ(one.best_level(1), 0);
  EXPECT_EQ(one.best_level(2), 1);
  EXPECT_EQ(one.best_level(3), 1);
  EXPECT_EQ(one.best_level(100), 3);
  for (int level : {1, 2}) {
    const double mpp = one.levels()[level].downsample;
    const cv::Mat direct = one.read_region(level, 40, 20, 50, 40);
    const cv::Mat at_mpp = one.read_region_at_mpp(40, 20, 50, 40, mpp);
    EXPECT_EQ(cv::norm(direct, at_mpp, cv::NORM_INF), 0) << "level " << level;
  }
}

TEST(SlideReader, FivelevelPyramidReadsAtEveryMpp) {
  test::ScratchDir dir;
  const std::string path = cmu_pyramid(dir);
  const SlideReader slide(path);
  ASSERT_GE(slide.levels().size(), 5u);
  ASSERT_TRUE(slide.mpp_x());
  EXPECT_NEAR(*slide.mpp_x(), 0.499, 1e-3) << "the TIFF resolution tags carry the mpp";
  const SlideReader source(slide_path("CMU-1-Small-Region.svs"));
  // A 1000 x 800 level-0 px field read at each resolution.
  for (double mpp : {0.5, 1.0, 2.0, 4.0}) {
    const int w = static_cast<int>(std::lround(1000 * 0.499 / mpp)), h = static_cast<int>(std::lround(800 * 0.499 / mpp));
    const cv::Mat tile = slide.read_region_at_mpp(600, 900, w, h, mpp);
    ASSERT_EQ(tile.size(), cv::Size(w, h)) << mpp;
    // Content: the source's level 0 shrunk to the same size by area averaging.
    cv::Mat reference;
    cv::resize(source.read_region(0, 600, 900, 1000, 800), reference, tile.size(), 0, 0, cv::INTER_AREA);
    // Blurred, so the sub-pixel offsets of rounded level sizes and JPEG noise do not count.
    cv::GaussianBlur(reference, reference, {0, 0}, 1.5);
    cv::Mat blurred;
    cv::GaussianBlur(tile, blurred, {0, 0}, 1.5);
    const double diff = mean_abs_diff(blurred, reference);
    std::cout << "[ content  ] " << mpp << " um/px: mean abs diff " << diff << " from an area resize of level 0\n";
    EXPECT_LT(diff, 4.0) << "at " << mpp << " um/px";
    // Against a direct OpenSlide read of the level it came from.
    const int level = slide.best_level(mpp / 0.499);
    EXPECT_EQ(level, mpp < 0.9 ? 0 : mpp < 1.9 ? 1 : mpp < 3.9 ? 2 : 3);
  }
  // Exactly a level's resolution: the pixels are that level's, untouched.
  const double level2_mpp = 0.499 * slide.levels()[2].downsample;
  EXPECT_EQ(cv::norm(slide.read_region_at_mpp(400, 400, 64, 48, level2_mpp), slide.read_region(2, 400, 400, 64, 48),
                     cv::NORM_INF),
            0);
}

TEST(SlideReader, OutsideTheSlideIsWhite) {
  const SlideReader slide(slide_path("CMU-1-Small-Region.svs"));
  const cv::Mat region = slide.read_region(0, -20, -10, 40, 30);
  EXPECT_EQ(region.at<cv::Vec3b>(0, 0), cv::Vec3b(255, 255, 255));
  EXPECT_EQ(region.at<cv::Vec3b>(5, 15), cv::Vec3b(255, 255, 255));
  const cv::Mat corner = slide.read_region(0, 2200, 2950, 40, 30);
  EXPECT_EQ(corner.at<cv::Vec3b>(29, 39), cv::Vec3b(255, 255, 255));
}

TEST(SlideReader, PlainImagesAreOneLevelSlides) {
  test::ScratchDir dir;
  cv::Mat image(60, 80, CV_8UC3, cv::Scalar(10, 120, 200));
  write_image(dir / "plain.png", image);
  EXPECT_EQ(image.at<cv::Vec3b>(0, 0), cv::Vec3b(10, 120, 200)) << "writing must leave the caller's pixels alone";
  const SlideReader slide(dir / "plain.png", SlideOpenOptions{0.5});
  EXPECT_EQ(slide.vendor(), "image");
  ASSERT_EQ(slide.levels().size(), 1u);
  EXPECT_EQ(slide.width(), 80);
  const cv::Mat region = slide.read_region(0, 70, 50, 20, 20);
  EXPECT_EQ(region.at<cv::Vec3b>(0, 0), cv::Vec3b(10, 120, 200));
  EXPECT_EQ(region.at<cv::Vec3b>(15, 15), cv::Vec3b(255, 255, 255));
  EXPECT_EQ(slide.read_region_at_mpp(0, 0, 40, 30, 1.0).size(), cv::Size(40, 30));
  EXPECT_TRUE(slide.associated_images().empty());
}

TEST(SlideReader, ConcurrentReadsMatchSerialReads) {
  const SlideReader slide(slide_path("CMU-1-Small-Region.svs"));
  std::vector<cv::Mat> serial;
  for (int i = 0; i < 16; ++i) serial.push_back(slide.read_region(0, 100 * i, 77 * i, 128, 128));
  std::atomic<int> mismatches{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t)
    threads.emplace_back([&, t] {
      for (int r = 0; r < 4; ++r)
        for (int i = t; i < 16; i += 4)
          if (cv::norm(slide.read_region(0, 100 * i, 77 * i, 128, 128), serial[i], cv::NORM_INF) != 0) ++mismatches;
    });
  for (auto& t : threads) t.join();
  EXPECT_EQ(mismatches, 0);
}

TEST(SlideReader, PropertiesThumbnailAndAssociatedImages) {
  const SlideReader slide(slide_path("CMU-1-Small-Region.svs"));
  EXPECT_EQ(slide.vendor(), "aperio");
  EXPECT_NEAR(slide.require_mpp(), 0.499, 1e-9);
  ASSERT_TRUE(slide.objective_power());
  EXPECT_EQ(*slide.objective_power(), 20);
  const cv::Mat thumb = slide.thumbnail(300);
  EXPECT_EQ(std::max(thumb.cols, thumb.rows), 300);
  EXPECT_NEAR(static_cast<double>(thumb.cols) / thumb.rows, 2220.0 / 2967, 0.01);
  const auto names = slide.associated_images();
  ASSERT_FALSE(names.empty());
  EXPECT_FALSE(slide.read_associated_image(names.front()).empty());
  EXPECT_THROW(slide.read_associated_image("no-such-image"), InputError);
  EXPECT_THROW(slide.read_region(5, 0, 0, 10, 10), InputError);
}

TEST(SlideReader, BrokenFilesGiveClearErrors) {
  for (const char* name : {"unopenable.tiff", "unreadable.svs"}) {
    try {
      SlideReader slide(slide_path(name));
      FAIL() << name << " must not open";
    } catch (const InputError& e) {
      EXPECT_TRUE(test::contains(e.what(), name)) << e.what();
    }
  }
  EXPECT_THROW(SlideReader(slide_path("missing.svs")), InputError);
  test::ScratchDir dir;
  std::ofstream(dir / "notes.txt") << "not a slide";
  try {
    SlideReader slide(dir / "notes.txt");
    FAIL();
  } catch (const InputError& e) {
    EXPECT_TRUE(test::contains(e.what(), "neither a format OpenSlide reads")) << e.what();
  }
}

TEST(PyramidTiff, ClassMapRoundTripThroughOpenSlide) {
  test::ScratchDir dir;
  // Class stripes 0..3, 700 x 500 px: pyramid levels must keep labels (mode), not average them.
  cv::Mat classes(500, 700, CV_8U);
  for (int y = 0; y < classes.rows; ++y)
    for (int x = 0; x < classes.cols; ++x) classes.at<uint8_t>(y, x) = static_cast<uint8_t>((x / 64 + y / 48) % 4);
  RasterFile raster = RasterFile::create(dir / "c.raw", classes.cols, classes.rows, 1);
  raster.write(cv::Rect(0, 0, 350, 500), classes(cv::Rect(0, 0, 350, 500)));
  raster.write(cv::Rect(350, 0, 350, 500), classes(cv::Rect(350, 0, 350, 500)));
  EXPECT_EQ(cv::norm(raster.read(cv::Rect(0, 0, 700, 500)), classes, cv::NORM_INF), 0);
  PyramidTiffOptions o;
  o.mpp = 2.0;
  o.tile_size = 128;
  write_pyramidal_tiff(raster.path(), 700, 500, 1, dir / "classes.tif", o);
  const SlideReader slide(dir / "classes.tif");
  EXPECT_EQ(slide.vendor(), "generic-tiff");
  ASSERT_GE(slide.levels().size(), 3u);
  ASSERT_TRUE(slide.mpp_x());
  EXPECT_NEAR(*slide.mpp_x(), 2.0, 1e-3);
  cv::Mat grey;
  cv::cvtColor(slide.read_region(0, 0, 0, 700, 500), grey, cv::COLOR_RGB2GRAY);
  EXPECT_EQ(cv::norm(grey, classes, cv::NORM_INF), 0) << "deflate is lossless";
  cv::Mat level1;
  cv::cvtColor(slide.read_region(1, 0, 0, 350, 250), level1, cv::COLOR_RGB2GRAY);
  double lo = 0, hi = 0;
  cv::minMaxLoc(level1, &lo, &hi);
  EXPECT_LE(hi, 3) << "a shrunk level holds class labels only";
  std::vector<int> seen(256, 0);
  for (int y = 0; y < level1.rows; ++y)
    for (int x = 0; x < level1.cols; ++x) seen[level1.at<uint8_t>(y, x)] = 1;
  EXPECT_EQ(seen[0] + seen[1] + seen[2] + seen[3], 4);
}

TEST(RasterFile, RejectsRectanglesOutsideAndWrongShapes) {
  test::ScratchDir dir;
  RasterFile raster = RasterFile::create(dir / "r.raw", 10, 8, 1);
  EXPECT_THROW(raster.write(cv::Rect(5, 5, 10, 2), cv::Mat(2, 10, CV_8U)), InputError);
  EXPECT_THROW(raster.write(cv::Rect(0, 0, 2, 2), cv::Mat(2, 2, CV_8UC3)), InputError);
  EXPECT_EQ(cv::countNonZero(raster.read(cv::Rect(0, 0, 10, 8))), 0) << "a new raster is zeros";
  EXPECT_THROW(RasterFile::open(dir / "r.raw", 11, 8, 1), InputError);
  EXPECT_THROW(RasterFile::open(dir / "missing.raw", 10, 8, 1), InputError);
}

}  // namespace
}  // namespace hemapath
