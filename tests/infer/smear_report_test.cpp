// The files of one analysed smear tell the same story: cells.csv, cells.geojson, summary.json.
#include <gtest/gtest.h>

#include <algorithm>
#include <map>
#include <opencv2/imgproc.hpp>

#include "hemapath/infer/smear_report.h"
#include "hemapath/io/csv.h"
#include "hemapath/io/image_io.h"
#include "test_support.h"

namespace hemapath {
namespace {

SmearCell cell_of(const CellMeasurement& measurement, CellKind kind, std::vector<float> p) {
  SmearCell cell;
  cell.kind = kind;
  cell.probabilities = std::move(p);
  cell.class_index = static_cast<int>(std::max_element(cell.probabilities.begin(), cell.probabilities.end()) -
                                      cell.probabilities.begin());
  cell.measurement = measurement;
  return cell;
}

// Three red cells (normal, normal, target) and one white cell (LYMPHOCYTE).
SmearResult example(cv::Mat& rgb) {
  rgb = cv::Mat(60, 100, CV_8UC3, cv::Scalar(230, 225, 220));
  SmearResult r;
  r.labels = cv::Mat::zeros(rgb.size(), CV_32S);
  cv::circle(r.labels, {15, 15}, 8, cv::Scalar(1), cv::FILLED);
  cv::circle(r.labels, {40, 15}, 8, cv::Scalar(2), cv::FILLED);
  cv::circle(r.labels, {65, 15}, 8, cv::Scalar(3), cv::FILLED);
  cv::circle(r.labels, {50, 42}, 14, cv::Scalar(4), cv::FILLED);
  const std::vector<CellMeasurement> m = measure_instances(r.labels, rgb);
  r.cells = {cell_of(m[0], CellKind::red, {0.9f, 0.1f}), cell_of(m[1], CellKind::red, {0.6f, 0.4f}),
             cell_of(m[2], CellKind::red, {0.2f, 0.8f}), cell_of(m[3], CellKind::white, {0.1f, 0.7f, 0.2f})};
  r.seconds.red_segmentation = 0.5;
  return r;
}

TEST(SmearReport, CsvGeoJsonAndSummaryAgree) {
  test::ScratchDir dir;
  cv::Mat rgb;
  const SmearResult result = example(rgb);
  const SmearClasses classes{{"normal", "target"}, {"NEUTROPHIL", "LYMPHOCYTE", "MONOCYTE"}};
  write_smear_files(dir / "s1", rgb, result, classes, "s1.png");

  const auto rows = read_csv(dir / "s1/cells.csv");
  ASSERT_EQ(rows.size(), 5u);
  const CsvRow& header = rows[0];
  auto column = [&](const std::string& name) { return std::find(header.begin(), header.end(), name) - header.begin(); };
  ASSERT_LT(column("p_LYMPHOCYTE"), static_cast<long>(header.size()));
  EXPECT_EQ(rows[3][column("class")], "target");
  EXPECT_EQ(rows[4][column("type")], "white");
  EXPECT_EQ(rows[4][column("class")], "LYMPHOCYTE");
  EXPECT_EQ(rows[4][column("p_normal")], "");  // not a red cell
  EXPECT_EQ(rows[1][column("p_NEUTROPHIL")], "");
  EXPECT_EQ(rows[3][column("p_target")], "0.8");

  const auto geojson = nlohmann::json::parse(test::read_text(dir / "s1/cells.geojson"));
  ASSERT_EQ(geojson["features"].size(), 4u);
  std::map<std::string, int> geo_counts, csv_counts;
  for (const auto& f : geojson["features"]) ++geo_counts[f["properties"]["classification"]["name"]];
  for (size_t r = 1; r < rows.size(); ++r) ++csv_counts[rows[r][column("class")]];
  EXPECT_EQ(geo_counts, csv_counts);
  EXPECT_EQ(geojson["features"][3]["properties"]["measurements"]["p_LYMPHOCYTE"], 0.7f);

  const auto summary = nlohmann::json::parse(test::read_text(dir / "s1/summary.json"));
  EXPECT_EQ(summary["red_cells"]["count"], 3);
  EXPECT_EQ(summary["red_cells"]["classes"]["normal"]["count"], csv_counts["normal"]);
  EXPECT_NEAR(summary["red_cells"]["classes"]["target"]["percent"].get<double>(), 100.0 / 3, 1e-9);
  EXPECT_EQ(summary["white_cells"]["classes"]["LYMPHOCYTE"]["percent"], 100.0);
  EXPECT_EQ(summary["white_cells"]["classes"]["MONOCYTE"]["count"], 0);
  EXPECT_EQ(summary["seconds"]["total"], 0.5);

  const cv::Mat instances = read_mask(dir / "s1/instances.png");
  EXPECT_EQ(instances.at<uint16_t>(42, 50), 4);
  const cv::Mat overlay = read_image_rgb(dir / "s1/overlay.png");
  EXPECT_EQ(overlay.size(), rgb.size());
  EXPECT_GT(cv::norm(overlay, rgb, cv::NORM_L1), 0);  // outlines drawn
}

TEST(SmearReport, BatchTableHasARowPerImageAndMarksFailures) {
  test::ScratchDir dir;
  cv::Mat rgb;
  const SmearResult result = example(rgb);
  SmearBatchTable table({{"normal", "target"}, {"NEUTROPHIL", "LYMPHOCYTE", "MONOCYTE"}});
  table.add("a.png", result);
  table.add_failure("b.png", "cannot decode");
  table.write(dir / "summary.csv");
  const auto rows = read_csv(dir / "summary.csv");
  ASSERT_EQ(rows.size(), 3u);
  EXPECT_EQ(rows[0], (CsvRow{"image", "status", "red_cells", "white_cells", "red_normal", "red_target",
                             "white_NEUTROPHIL", "white_LYMPHOCYTE", "white_MONOCYTE", "seconds", "error"}));
  EXPECT_EQ(rows[1], (CsvRow{"a.png", "ok", "3", "1", "2", "1", "0", "1", "0", "0.5", ""}));
  EXPECT_EQ(rows[2][1], "error");
  EXPECT_EQ(rows[2].size(), rows[0].size());
  EXPECT_EQ(rows[2].back(), "cannot decode");
}

TEST(SmearReport, AnEmptySmearHasZeroPercentNotNan) {
  SmearResult empty;
  empty.labels = cv::Mat::zeros(10, 10, CV_32S);
  const auto summary = smear_summary(empty, {{"normal"}, {"NEUTROPHIL"}}, "grey.png", {10, 10});
  EXPECT_EQ(summary["red_cells"]["count"], 0);
  EXPECT_EQ(summary["red_cells"]["classes"]["normal"]["percent"], 0.0);
}

}  // namespace
}  // namespace hemapath
