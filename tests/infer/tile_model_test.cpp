// Tile models: a TorchScript module exported by PyTorch (with its JSON sidecar) gives PyTorch's
// own probabilities, and runs through slide segmentation to PyTorch's class map; sidecar and
// file errors name the file and the key.
#include <gtest/gtest.h>

#include <fstream>
#include <iostream>

#include <opencv2/imgproc.hpp>

#include "hemapath/core/error.h"
#include "hemapath/infer/slide_segmentation.h"
#include "hemapath/infer/tile_model.h"
#include "hemapath/io/image_io.h"
#include "hemapath/models/weight_import.h"
#include "test_support.h"

namespace hemapath {
namespace {
namespace fs = std::filesystem;

// Exports the model for `rgb` into `dir`: "" on success, "skip: ..." without python3-torch.
std::string export_model(const cv::Mat& rgb, const fs::path& dir) {
  if (std::string(HEMAPATH_PYTHON).empty()) return "skip: python3 was not found at configure time";
  const std::string python = std::string("'") + HEMAPATH_PYTHON + "'";
  if (std::system((python + " -c 'import torch, numpy' > /dev/null 2>&1").c_str()) != 0)
    return "skip: " + std::string(HEMAPATH_PYTHON) + " cannot import torch (scripts/setup.sh installs python3-torch)";
  std::ofstream(dir / "image.rgb", std::ios::binary)
      .write(reinterpret_cast<const char*>(rgb.data), static_cast<std::streamsize>(rgb.total() * 3));
  const std::string command = "OMP_NUM_THREADS=1 " + python + " '" + HEMAPATH_TEST_PYTHON_DIR +
                              "/export_torchscript_tile_model.py' --out '" + dir.string() + "' --image '" +
                              (dir / "image.rgb").string() + "' --width " + std::to_string(rgb.cols) + " --height " +
                              std::to_string(rgb.rows) + " > '" + (dir / "export.log").string() + "' 2>&1";
  if (std::system(command.c_str()) != 0) return "export failed: " + test::read_text(dir / "export.log");
  return "";
}

TEST(TileModel, TorchScriptMatchesPyTorchOnTilesAndAcrossTheSlide) {
  test::ScratchDir dir;
  const SlideReader cmu((test::shared_data() / "slides" / "CMU-1-Small-Region.svs").string());
  const cv::Mat rgb = cmu.read_region(0, 700, 1500, 150, 120);
  const std::string failure = export_model(rgb, dir.path());
  if (failure.rfind("skip: ", 0) == 0) GTEST_SKIP() << failure.substr(6);
  ASSERT_EQ(failure, "");

  const auto model = TileModel::load(dir / "model.pt", torch::kCPU);
  EXPECT_EQ(model->info().kind, "torchscript");
  EXPECT_EQ(model->info().classes, (std::vector<std::string>{"background", "stroma", "tumour"}));
  ASSERT_TRUE(model->info().mpp);
  EXPECT_DOUBLE_EQ(*model->info().mpp, 0.5);
  EXPECT_EQ(model->info().normalization.mode, "standardize");

  const StateDict reference = read_state_dict(dir / "reference.pt");
  const torch::Tensor p = model->probabilities(reference.at("input"));
  const double diff = (p - reference.at("probabilities")).abs().max().item<double>();
  std::cout << "[ parity   ] torchscript tile model: max abs diff " << diff << "\n";
  EXPECT_LT(diff, 1e-5);

  // Through the slide pipeline: 64 px tiles, 16 px overlap, beside PyTorch's whole-image map.
  write_image(dir / "slide.png", rgb);
  const SlideReader slide(dir / "slide.png", SlideOpenOptions{0.5});
  SlideSegmentOptions o;
  o.overlap = 16;
  o.min_tissue = 0;
  o.thumbnail_size = 64;
  const nlohmann::json s = segment_slide(slide, *model, o, dir / "out").json;
  EXPECT_EQ(s["tile"].get<int>(), 64) << "the sidecar's tile size is the default";
  const SlideReader classes_tif(dir / "out/classes.tif");
  cv::Mat classes;
  cv::cvtColor(classes_tif.read_region(0, 0, 0, rgb.cols, rgb.rows), classes, cv::COLOR_RGB2GRAY);
  const torch::Tensor expected = reference.at("padded_classes").to(torch::kUInt8).contiguous();
  const cv::Mat expected_map(rgb.rows, rgb.cols, CV_8U, expected.data_ptr<uint8_t>());
  const int differing = cv::countNonZero(classes != expected_map);
  std::cout << "[ parity   ] torchscript slide map: " << differing << " of " << rgb.total() << " px differ\n";
  EXPECT_LE(differing, static_cast<int>(rgb.total() / 1000)) << "only exact near-ties may flip";
  double lo = 0, hi = 0;
  cv::minMaxLoc(expected_map, &lo, &hi);
  EXPECT_GT(hi, lo) << "a degenerate reference (one class everywhere) would prove nothing";
}

TEST(TileModel, SidecarErrorsNameTheKey) {
  TileModelInfo info;
  auto message = [&](const nlohmann::json& sidecar) {
    try {
      read_torchscript_sidecar(sidecar, "m.json", info);
    } catch (const ModelFileError& e) {
      return std::string(e.what());
    }
    return std::string("no error");
  };
  EXPECT_TRUE(test::contains(message({{"mpp", 0.5}}), "'classes'"));
  EXPECT_TRUE(test::contains(message({{"classes", {"bg"}}}), "at least two"));
  EXPECT_TRUE(test::contains(message({{"classes", {"bg", "fg"}}, {"mpp", -1}}), "'mpp'"));
  EXPECT_TRUE(test::contains(message({{"classes", {"bg", "fg"}}, {"output", "scores"}}), "'output'"));
  EXPECT_TRUE(test::contains(message({{"classes", {"bg", "fg"}}, {"normalization", {{"mode", "standardize"}}}}),
                             "'normalization'"));
  EXPECT_EQ(message({{"classes", {"bg", "fg"}}, {"mpp", 1.0}, {"tile_size", 128}}), "no error");
  EXPECT_EQ(info.tile_size.value_or(0), 128);
}

TEST(TileModel, UnusableFilesAreModelFileErrors) {
  test::ScratchDir dir;
  EXPECT_THROW(TileModel::load(dir / "missing.pt", torch::kCPU), ModelFileError);
  std::ofstream(dir / "weights.bin") << "x";
  EXPECT_THROW(TileModel::load(dir / "weights.bin", torch::kCPU), ModelFileError);
  std::ofstream(dir / "lonely.pt") << "not torchscript";
  try {
    TileModel::load(dir / "lonely.pt", torch::kCPU);
    FAIL();
  } catch (const ModelFileError& e) {
    EXPECT_TRUE(test::contains(e.what(), "sidecar")) << e.what();
  }
  std::ofstream(dir / "lonely.json") << R"({"classes": ["bg", "fg"]})";
  try {
    TileModel::load(dir / "lonely.pt", torch::kCPU);
    FAIL();
  } catch (const ModelFileError& e) {
    EXPECT_TRUE(test::contains(e.what(), "TorchScript")) << e.what();
  }
}

}  // namespace
}  // namespace hemapath
