// `hemapath analyze` as a lab meets it: the bundled models on sample smears, files that agree
// with each other and with the annotations' counts, and a batch with bad files in it.
#include <gtest/gtest.h>

#include <fstream>
#include <map>
#include <nlohmann/json.hpp>

#include "hemapath/io/csv.h"
#include "hemapath/io/image_io.h"
#include "test_support.h"

namespace hemapath {
namespace {
namespace fs = std::filesystem;

using test::contains;
using test::read_json;

std::string samples(const std::string& name) { return (test::source_dir() / "data/samples" / name).string(); }

size_t column(const CsvRow& header, const std::string& name) {
  return static_cast<size_t>(std::find(header.begin(), header.end(), name) - header.begin());
}

TEST(AnalyzeCli, BundledModelsOnSampleSmearsGiveConsistentFiles) {
  test::ScratchDir dir;
  const auto result = test::run_cli("-q analyze " + samples("smears/chula_15.jpg") + " " +
                                    samples("smears/bccd_BloodImage_00012.jpg") + " --points " +
                                    samples("smear_points") + " --threads 2 --out " + (dir / "out"));
  ASSERT_EQ(result.exit_code, 0) << result.output;
  const auto batch = read_csv(dir / "out/summary.csv");
  ASSERT_EQ(batch.size(), 3u);
  for (const std::string stem : {"chula_15", "bccd_BloodImage_00012"}) {
    const fs::path folder = dir.path() / "out" / stem;
    for (const char* file : {"overlay.png", "instances.png", "cells.csv", "cells.geojson", "summary.json"})
      EXPECT_TRUE(fs::exists(folder / file)) << stem << "/" << file;
    const auto summary = read_json(folder / "summary.json");
    const auto cells = read_csv((folder / "cells.csv").string());
    const auto geojson = read_json(folder / "cells.geojson");
    const size_t red = summary["red_cells"]["count"], white = summary["white_cells"]["count"];
    EXPECT_EQ(cells.size() - 1, red + white);
    EXPECT_EQ(geojson["features"].size(), red + white);
    std::map<std::string, int> per_class;
    for (size_t r = 1; r < cells.size(); ++r) ++per_class[cells[r][column(cells[0], "class")]];
    for (const auto& [name, entry] : summary["red_cells"]["classes"].items())
      EXPECT_EQ(entry["count"].get<int>(), per_class[name]) << name;
    const auto row = std::find_if(batch.begin(), batch.end(),
                                  [&](const CsvRow& r) { return contains(r[0], stem); });
    ASSERT_NE(row, batch.end());
    EXPECT_EQ((*row)[column(batch[0], "status")], "ok");
    EXPECT_EQ(std::stoul((*row)[column(batch[0], "red_cells")]), red);
    EXPECT_EQ(std::stoul((*row)[column(batch[0], "white_cells")]), white);
    const cv::Mat instances = read_mask((folder / "instances.png").string());
    EXPECT_EQ(instances.size(), cv::Size(640, 480));
  }
  // The Chula smear: red cells in the tens, about as many as its labelled points.
  const auto chula = read_json(dir.path() / "out/chula_15/summary.json");
  const int points = 99;
  EXPECT_GT(chula["red_cells"]["count"].get<int>(), points * 0.7);
  EXPECT_LT(chula["red_cells"]["count"].get<int>(), points * 1.3);
  // The BCCD smear has one white cell, a neutrophil.
  const auto bccd = read_json(dir.path() / "out/bccd_BloodImage_00012/summary.json");
  EXPECT_EQ(bccd["white_cells"]["count"], 1);
  // Scored against the Chula points (the BCCD image has no point file and is not scored).
  const auto evaluation = read_json(dir.path() / "out/evaluation.json");
  EXPECT_EQ(evaluation["red_cells"]["detection"]["points"], points);
  EXPECT_EQ(evaluation["red_cells"]["images_without_point_file"], 1);
  EXPECT_GT(evaluation["red_cells"]["detection"]["f1"].get<double>(), 0.7);
}

TEST(AnalyzeCli, BadFilesInABatchAreReportedAndTheRestAnalysed) {
  test::ScratchDir dir;
  const fs::path in = dir.path() / "in";
  fs::create_directories(in);
  fs::copy_file(samples("smears/chula_151.jpg"), in / "good.jpg");
  test::write_file((in / "corrupt.jpg").string(), "not a jpeg at all");
  write_image((in / "tiny.png").string(), cv::Mat(12, 12, CV_8UC3, cv::Scalar(200, 150, 150)));
  write_image((in / "blank.png").string(), cv::Mat(240, 320, CV_8UC3, cv::Scalar(128, 128, 128)));
  test::write_file((in / "notes.txt").string(), "skipped: not an image");
  const auto result = test::run_cli("analyze " + in.string() + " --threads 2 --out " + (dir / "out"));
  EXPECT_EQ(result.exit_code, 2) << result.output;
  EXPECT_TRUE(contains(result.output, "2 of 4 inputs could not be analysed")) << result.output;
  EXPECT_TRUE(contains(result.output, "corrupt.jpg")) << result.output;
  EXPECT_TRUE(contains(result.output, "12x12 px")) << result.output;
  const auto batch = read_csv(dir / "out/summary.csv");
  ASSERT_EQ(batch.size(), 5u);
  std::map<std::string, std::string> status;
  for (size_t r = 1; r < batch.size(); ++r) status[fs::path(batch[r][0]).filename().string()] = batch[r][1];
  EXPECT_EQ(status, (std::map<std::string, std::string>{
                        {"blank.png", "ok"}, {"corrupt.jpg", "error"}, {"good.jpg", "ok"}, {"tiny.png", "error"}}));
  EXPECT_TRUE(fs::exists(dir.path() / "out/good/cells.geojson"));
  EXPECT_FALSE(fs::exists(dir.path() / "out/corrupt"));
  // A smear with no cells: counts are zero and the percentages 0, not NaN.
  const auto blank = read_json(dir.path() / "out/blank/summary.json");
  EXPECT_EQ(blank["red_cells"]["count"], 0);
  EXPECT_EQ(blank["white_cells"]["count"], 0);
}

TEST(AnalyzeCli, MissingModelOrInputNamesIt) {
  test::ScratchDir dir;
  auto r = test::run_cli("analyze " + samples("smears/chula_15.jpg") + " --model-rbc-cls " + (dir / "none.hpm") +
                         " --out " + (dir / "out"));
  EXPECT_EQ(r.exit_code, 2) << r.output;
  EXPECT_TRUE(contains(r.output, "none.hpm")) << r.output;
  EXPECT_FALSE(fs::exists(dir.path() / "out"));
  r = test::run_cli("analyze " + samples("smears/chula_15.jpg") + " --red-scale 0 --out " + (dir / "out1"));
  EXPECT_EQ(r.exit_code, 2) << r.output;
  EXPECT_TRUE(contains(r.output, "--red-scale")) << r.output;
  r = test::run_cli("analyze " + samples("smears/chula_15.jpg") + " --plan fastest --out " + (dir / "out4"));
  EXPECT_EQ(r.exit_code, 2) << r.output;
  EXPECT_TRUE(contains(r.output, "--plan 'fastest'") && contains(r.output, "channels_last")) << r.output;
  r = test::run_cli("analyze " + samples("smears/chula_15.jpg") + " --mixed-precision --out " + (dir / "out5"));
  EXPECT_EQ(r.exit_code, 2) << r.output;
  EXPECT_TRUE(contains(r.output, "CUDA")) << r.output;
  r = test::run_cli("analyze " + samples("smears/chula_15.jpg") + " --red-symmetries 3 --out " + (dir / "out6"));
  EXPECT_EQ(r.exit_code, 2) << r.output;
  EXPECT_TRUE(contains(r.output, "--red-symmetries: 3 not in {1,2,4,8,16}")) << r.output;
  EXPECT_FALSE(fs::exists(dir.path() / "out4") || fs::exists(dir.path() / "out5") || fs::exists(dir.path() / "out6"));
  r = test::run_cli("analyze " + (dir / "missing.jpg") + " " + samples("README.md") + " --out " + (dir / "out2"));
  EXPECT_EQ(r.exit_code, 2) << r.output;
  EXPECT_TRUE(contains(r.output, "missing.jpg' does not exist")) << r.output;
  EXPECT_TRUE(contains(r.output, "README.md' is not an image file")) << r.output;
  // A model of the wrong task where a classifier is expected.
  r = test::run_cli("analyze " + samples("smears/chula_15.jpg") + " --model-rbc-cls " +
                    (test::source_dir() / "models/rbc_unet.hpm").string() + " --out " + (dir / "out3"));
  EXPECT_EQ(r.exit_code, 2) << r.output;
  EXPECT_TRUE(contains(r.output, "rbc_unet.hpm")) << r.output;
}

TEST(ConvertCli, ChangesPrecisionAndCellOptionsAndRefusesBadOnes) {
  test::ScratchDir dir;
  const std::string model = (test::source_dir() / "models/wbc_unet.hpm").string();
  auto r = test::run_cli("convert " + model + " " + (dir / "full.hpm") +
                         " --precision float32 --instances min_area=500 watershed=true");
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_GT(fs::file_size(dir / "full.hpm"), 1.8 * fs::file_size(model));
  r = test::run_cli("info " + (dir / "full.hpm") + " --json");
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_TRUE(contains(r.output, "\"min_area\": 500") || contains(r.output, "\"min_area\":500")) << r.output;
  r = test::run_cli("convert " + model + " " + (dir / "bad.hpm") + " --instances marker_height=-1");
  EXPECT_EQ(r.exit_code, 2) << r.output;
  EXPECT_TRUE(contains(r.output, "marker_height")) << r.output;
  EXPECT_FALSE(fs::exists(dir.path() / "bad.hpm"));
  r = test::run_cli("convert " + (test::source_dir() / "models/wbc_separable_cnn.hpm").string() + " " +
                    (dir / "cls.hpm") + " --instances min_area=5");
  EXPECT_EQ(r.exit_code, 2) << r.output;
  EXPECT_TRUE(contains(r.output, "segmentation models")) << r.output;
}

}  // namespace
}  // namespace hemapath
