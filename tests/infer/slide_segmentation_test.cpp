// Slide segmentation end to end with small exact models: the stitched map does not depend on
// the tile size or overlap (no seams), an interrupted run resumes to the same result, cells cut
// by tile borders are counted once, and the outputs agree with each other.
#include <gtest/gtest.h>

#include <opencv2/imgproc.hpp>

#include "hemapath/core/error.h"
#include "hemapath/core/random.h"
#include "hemapath/infer/slide_segmentation.h"
#include "hemapath/io/image_io.h"
#include "test_support.h"

namespace hemapath {
namespace {
namespace fs = std::filesystem;

// A translation-equivariant two-layer convolutional net (receptive field radius 2 px) whose
// integer weights act on the integer pixel values, so every sum is exact and the result for a
// pixel never depends on the tile it was computed in.
class ExactConvModel : public TileModel {
 public:
  explicit ExactConvModel(int fail_after_calls = -1) : fail_after_(fail_after_calls) {
    info_.source = "exact-conv";
    info_.kind = "test";
    info_.classes = {"background", "stroma", "nuclei"};
    torch::manual_seed(3);
    // Double precision: oneDNN's float algorithms (Winograd and the like) round, the plain
    // double convolution sums integers exactly.
    w1_ = torch::randint(-2, 3, {4, 3, 3, 3}).to(torch::kDouble);
    w2_ = torch::randint(-2, 3, {3, 4, 3, 3}).to(torch::kDouble);
  }
  torch::Tensor probabilities(const torch::Tensor& tiles) override {
    if (fail_after_ >= 0 && calls_++ >= fail_after_) throw Error("simulated interruption");
    torch::NoGradGuard guard;
    // "unit" normalisation undone and centred: integers, so every sum below is exact.
    const torch::Tensor x = torch::round(tiles.to(torch::kDouble) * 255) - 128;
    const torch::Tensor h = torch::relu(torch::conv2d(x, w1_, {}, 1, 1));
    // Integer logits tie often, and argmax may break ties differently for other tensor shapes:
    // 3 * logits + class index orders every tie the same way without reordering anything else.
    const torch::Tensor logits = 3 * torch::conv2d(h, w2_, {}, 1, 1) + torch::arange(3).view({1, 3, 1, 1});
    // One-hot of the argmax: exact, so the stitched class map is comparable bit for bit.
    return torch::one_hot(logits.argmax(1), 3).permute({0, 3, 1, 2}).to(torch::kFloat);
  }
  // The class map of the whole image at once: tiles start at the slide's top-left edge (where
  // the network zero-pads) and reach past its right and bottom edges (where they read white).
  cv::Mat reference(const cv::Mat& rgb) {
    cv::Mat padded;
    cv::copyMakeBorder(rgb, padded, 0, 8, 0, 8, cv::BORDER_CONSTANT, cv::Scalar(255, 255, 255));
    const torch::Tensor t =
        torch::from_blob(padded.data, {padded.rows, padded.cols, 3}, torch::kUInt8).permute({2, 0, 1}).to(torch::kFloat) / 255;
    const torch::Tensor classes = probabilities(t.unsqueeze(0)).argmax(1)[0].to(torch::kUInt8).contiguous();
    cv::Mat map(padded.rows, padded.cols, CV_8U, classes.data_ptr<uint8_t>());
    return map(cv::Rect(0, 0, rgb.cols, rgb.rows)).clone();
  }

 private:
  torch::Tensor w1_, w2_;
  int fail_after_, calls_ = 0;
};

// Foreground wherever a pixel is dark: a cell model with no receptive field to speak of.
class DarkCellModel : public TileModel {
 public:
  DarkCellModel() {
    info_.source = "dark-cells";
    info_.kind = "test";
    info_.classes = {"background", "nucleus"};
    info_.target = "foreground";
  }
  torch::Tensor probabilities(const torch::Tensor& tiles) override {
    const torch::Tensor p = (tiles.mean(1, true) < 0.5).to(torch::kFloat);
    return torch::cat({1 - p, p}, 1);
  }
};

cv::Mat tissue_crop() {
  const SlideReader cmu((test::shared_data() / "slides" / "CMU-1-Small-Region.svs").string());
  return cmu.read_region(0, 900, 1200, 157, 113);  // odd sizes: partial tiles at both far edges
}

cv::Mat read_classes(const fs::path& tif) {
  const SlideReader slide(tif.string());
  cv::Mat grey;
  cv::cvtColor(slide.read_region(0, 0, 0, static_cast<int>(slide.width()), static_cast<int>(slide.height())), grey,
               cv::COLOR_RGB2GRAY);
  return grey;
}

SlideSegmentOptions exact_options(int tile, int overlap) {
  SlideSegmentOptions o;
  o.tile_size = tile;
  o.overlap = overlap;
  o.min_tissue = 0;
  o.batch_size = 3;
  o.workers = 2;
  o.thumbnail_size = 64;
  return o;
}

TEST(SlideSegmentation, StitchedMapIsIdenticalWhateverTheTiling) {
  test::ScratchDir dir;
  const cv::Mat rgb = tissue_crop();
  write_image(dir / "slide.png", rgb);
  const SlideReader slide(dir / "slide.png", SlideOpenOptions{0.5});
  ExactConvModel model;
  const cv::Mat reference = model.reference(rgb);
  for (int c = 0; c < 3; ++c)  // a map of one class everywhere would prove nothing
    EXPECT_GT(cv::countNonZero(reference == c), static_cast<int>(reference.total() / 50)) << "class " << c;
  int i = 0;
  for (auto [tile, overlap] : std::vector<std::pair<int, int>>{{32, 8}, {48, 16}, {64, 4}, {200, 8}}) {
    const fs::path out = dir.path() / ("run" + std::to_string(i++));
    const nlohmann::json s = segment_slide(slide, model, exact_options(tile, overlap), out.string()).json;
    const cv::Mat classes = read_classes(out / "classes.tif");
    ASSERT_EQ(classes.size(), rgb.size());
    EXPECT_EQ(cv::countNonZero(classes != reference), 0) << "tile " << tile << ", overlap " << overlap;
    EXPECT_FALSE(fs::exists(out / "partial")) << "a finished run leaves no partial state";
  }
  // Without overlap the tiles' zero padding shows at their seams: the check can fail.
  const nlohmann::json s = segment_slide(slide, model, exact_options(32, 0), (dir.path() / "seams").string()).json;
  EXPECT_GT(cv::countNonZero(read_classes(dir.path() / "seams" / "classes.tif") != reference), 0);
}

// Without a tissue filter, the thumbnail under the overlay is pieced together from the tiles
// as they are read; with one, it is read from the slide first. Both show the same slide.
TEST(SlideSegmentation, WithoutATissueFilterTheOverlayIsPiecedFromTheTiles) {
  test::ScratchDir dir;
  write_image(dir / "slide.png", tissue_crop());
  const SlideReader slide(dir / "slide.png", SlideOpenOptions{0.25});
  ExactConvModel model;
  SlideSegmentOptions pieced = exact_options(48, 8), read = pieced;
  read.min_tissue = 1e-9;  // a filter that keeps every tile with any tissue: all of them here
  const nlohmann::json a = segment_slide(slide, model, pieced, dir / "pieced").json;
  const nlohmann::json b = segment_slide(slide, model, read, dir / "read").json;
  ASSERT_EQ(a["tiles_run"], b["tiles_run"]);
  const cv::Mat from_tiles = read_image_rgb((dir.path() / "pieced" / "overlay.png").string());
  const cv::Mat from_slide = read_image_rgb((dir.path() / "read" / "overlay.png").string());
  ASSERT_EQ(from_tiles.size(), from_slide.size());
  EXPECT_LT(cv::norm(from_tiles, from_slide, cv::NORM_L1) / from_tiles.total() / 3, 2.0)
      << "mean difference per channel";
  EXPECT_TRUE(fs::exists(dir.path() / "pieced" / "tissue.png"));
}

TEST(SlideSegmentation, InterruptedRunResumesToTheSameResult) {
  test::ScratchDir dir;
  const cv::Mat rgb = tissue_crop();
  write_image(dir / "slide.png", rgb);
  const SlideReader slide(dir / "slide.png", SlideOpenOptions{0.5});
  const SlideSegmentOptions o = exact_options(32, 8);
  ExactConvModel whole;
  segment_slide(slide, whole, o, dir / "whole");

  ExactConvModel failing(/*fail_after_calls=*/2);
  EXPECT_THROW(segment_slide(slide, failing, o, dir / "resumed"), Error);
  EXPECT_TRUE(fs::exists(dir.path() / "resumed" / "partial" / "journal.jsonl"));
  EXPECT_FALSE(fs::exists(dir.path() / "resumed" / "classes.tif")) << "no output before the run finishes";

  SlideSegmentOptions resume = o;
  resume.resume = true;
  ExactConvModel rest;
  const nlohmann::json s = segment_slide(slide, rest, resume, dir / "resumed").json;
  EXPECT_EQ(s["tiles_resumed"].get<int>(), 6) << "two batches of three tiles were finished";
  EXPECT_EQ(s["tiles_run"].get<int>() + s["tiles_resumed"].get<int>(), s["tiles_with_tissue"].get<int>());
  EXPECT_EQ(cv::countNonZero(read_classes(dir.path() / "resumed" / "classes.tif") !=
                             read_classes(dir.path() / "whole" / "classes.tif")),
            0);

  // Resuming a finished run, or with other settings, is refused with a reason.
  try {
    segment_slide(slide, rest, resume, dir / "resumed");
    FAIL() << "nothing left to resume";
  } catch (const InputError& e) {
    EXPECT_TRUE(test::contains(e.what(), "no interrupted run")) << e.what();
  }
  ExactConvModel failing_again(1);
  EXPECT_THROW(segment_slide(slide, failing_again, o, dir / "other"), Error);
  SlideSegmentOptions changed = resume;
  changed.overlap = 16;
  try {
    segment_slide(slide, rest, changed, dir / "other");
    FAIL() << "settings differ";
  } catch (const InputError& e) {
    EXPECT_TRUE(test::contains(e.what(), "other settings")) << e.what();
  }
}

TEST(SlideSegmentation, CellsAcrossTileBordersAreCountedOnce) {
  test::ScratchDir dir;
  // 40 dark discs of radius 5 on white, many across the borders of 64 px tiles.
  cv::Mat rgb(300, 260, CV_8UC3, cv::Scalar(255, 255, 255));
  Rng rng(7);
  std::vector<cv::Point> centres;
  while (centres.size() < 40) {
    const cv::Point c(8 + static_cast<int>(rng() % 244), 8 + static_cast<int>(rng() % 284));
    bool apart = true;
    for (const auto& o : centres) apart = apart && cv::norm(o - c) > 14;
    if (!apart) continue;
    centres.push_back(c);
    cv::circle(rgb, c, 5, cv::Scalar(60, 20, 90), cv::FILLED);
  }
  write_image(dir / "slide.png", rgb);
  const SlideReader slide(dir / "slide.png", SlideOpenOptions{0.25});
  DarkCellModel model;
  SlideSegmentOptions o = exact_options(64, 24);
  const nlohmann::json s = segment_slide(slide, model, o, dir / "out").json;
  ASSERT_TRUE(s.contains("cells"));
  EXPECT_EQ(s["cells"].get<int>(), 40);
  const nlohmann::json cells = test::read_json(dir.path() / "out" / "cells.geojson");
  ASSERT_EQ(cells["features"].size(), 40u);
  const std::string csv = test::read_text(dir.path() / "out" / "cells.csv");
  EXPECT_EQ(std::count(csv.begin(), csv.end(), '\n'), 41) << "header + one row per cell";
  // Every disc is found once, at its centre, with its area in um^2 (0.25 um/px).
  for (const cv::Point& c : centres) {
    int found = 0;
    for (const auto& f : cells["features"]) {
      const auto& m = f["properties"]["measurements"];
      if (std::hypot(m["centroid_x"].get<double>() - (c.x + 0.5), m["centroid_y"].get<double>() - (c.y + 0.5)) < 1.0) {
        ++found;
        EXPECT_NEAR(m["area_um2"].get<double>(), 81 * 0.0625, 1.0);
        EXPECT_EQ(f["properties"]["classification"]["name"], "cell");
      }
    }
    EXPECT_EQ(found, 1) << "disc at " << c;
  }
  // The region polygons, the area table and the overlay agree with the map.
  const nlohmann::json summary = test::read_json(dir.path() / "out" / "summary.json");
  EXPECT_NEAR(summary["class_area_um2"]["nucleus"].get<double>(), 40 * 81 * 0.0625, 40 * 4 * 0.0625);
  EXPECT_EQ(test::read_json(dir.path() / "out" / "regions.geojson")["features"].size(), 40u);
  EXPECT_TRUE(fs::exists(dir.path() / "out" / "overlay.png"));
  EXPECT_TRUE(fs::exists(dir.path() / "out" / "tissue.png"));
}

TEST(SlideSegmentation, ASlideWithoutCellsGivesEmptyCellFiles) {
  test::ScratchDir dir;
  write_image(dir / "slide.png", cv::Mat(120, 100, CV_8UC3, cv::Scalar(255, 255, 255)));
  const SlideReader slide(dir / "slide.png", SlideOpenOptions{0.25});
  DarkCellModel model;
  SlideSegmentOptions o = exact_options(64, 24);
  o.min_tissue = 0.5;  // a white slide has no tissue: no tile runs at all
  const nlohmann::json s = segment_slide(slide, model, o, dir / "out").json;
  EXPECT_EQ(s["tiles_with_tissue"].get<int>(), 0);
  EXPECT_EQ(s["cells"].get<int>(), 0);
  const std::string csv = test::read_text(dir.path() / "out" / "cells.csv");
  EXPECT_EQ(std::count(csv.begin(), csv.end(), '\n'), 1) << "the header alone";
  EXPECT_EQ(test::read_json(dir.path() / "out" / "cells.geojson")["features"].size(), 0u);
}

TEST(SlideSegmentation, BadOptionsFailBeforeWriting) {
  test::ScratchDir dir;
  write_image(dir / "slide.png", cv::Mat(50, 50, CV_8UC3, cv::Scalar(200, 100, 150)));
  const SlideReader slide(dir / "slide.png", SlideOpenOptions{0.5});
  ExactConvModel model;
  SlideSegmentOptions o = exact_options(32, 8);
  o.batch_size = -1;
  EXPECT_THROW(segment_slide(slide, model, o, dir / "a"), ConfigError);
  // 0 chooses the batch for throughput: as many 32 px tiles as make 2^18 px.
  o.batch_size = 0;
  EXPECT_EQ(segment_slide(slide, model, o, dir / "auto").json.at("batch_size"), 256);
  o = exact_options(32, 7);
  EXPECT_THROW(segment_slide(slide, model, o, dir / "b"), ConfigError);
  EXPECT_FALSE(fs::exists(dir.path() / "a"));
  const SlideReader no_mpp(dir / "slide.png");
  EXPECT_THROW(segment_slide(no_mpp, model, exact_options(32, 8), dir / "c"), InputError);
}

}  // namespace
}  // namespace hemapath
