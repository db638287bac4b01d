// `hemapath instances` as a user meets it: a synthetic probability map and image in, the
// instance mask, overlay, CSV, GeoJSON and summary out; index and instance masks; bad input
// exiting 2 with a message naming the file and nothing written.
#include <gtest/gtest.h>

#include <fstream>
#include <nlohmann/json.hpp>
#include <opencv2/imgproc.hpp>

#include "hemapath/io/csv.h"
#include "hemapath/io/image_io.h"
#include "test_support.h"

namespace hemapath {
namespace {
namespace fs = std::filesystem;

using test::contains;
using test::read_json;

// Two touching discs and one apart, p = 0.9 on p = 0.05 (8-bit: 230 on 13), with a little
// seeded noise that never crosses 0.5.
cv::Mat probability_map() {
  cv::Mat map(80, 120, CV_8U, cv::Scalar(13));
  cv::circle(map, {25, 40}, 13, cv::Scalar(230), cv::FILLED);
  cv::circle(map, {47, 40}, 13, cv::Scalar(230), cv::FILLED);
  cv::circle(map, {95, 30}, 9, cv::Scalar(230), cv::FILLED);
  cv::Mat noise(map.size(), CV_8U);
  cv::RNG rng(11);
  rng.fill(noise, cv::RNG::UNIFORM, 0, 20);
  return map + noise;
}

TEST(InstancesCli, ProbabilityMapWithImageWritesAllOutputs) {
  test::ScratchDir dir;
  write_image(dir / "map.png", probability_map());
  cv::Mat rgb(80, 120, CV_8UC3, cv::Scalar(240, 230, 250));
  write_image(dir / "image.png", rgb);
  const fs::path out = dir.path() / "out";
  const auto r = test::run_cli("instances '" + (dir / "map.png") + "' --image '" + (dir / "image.png") + "' --out '" +
                               out.string() + "' --min-area 20");
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_TRUE(contains(r.output, "3 cells")) << r.output;
  EXPECT_TRUE(contains(r.output, "probability")) << r.output;
  for (const char* f : {"instances.png", "overlay.png", "cells.csv", "cells.geojson", "summary.json"})
    EXPECT_TRUE(fs::exists(out / f)) << f;

  const cv::Mat instances = read_mask((out / "instances.png").string());
  EXPECT_EQ(instances.depth(), CV_16U);
  double hi = 0;
  cv::minMaxLoc(instances, nullptr, &hi);
  EXPECT_EQ(hi, 3);
  const nlohmann::json summary = read_json(out / "summary.json");
  EXPECT_EQ(summary["count"], 3);
  EXPECT_EQ(summary["map_type"], "probability");
  EXPECT_EQ(summary["foreground_px"].get<int>(), cv::countNonZero(instances));
  EXPECT_EQ(read_json(out / "cells.geojson")["features"].size(), 3u);
  const auto rows = read_csv((out / "cells.csv").string());
  ASSERT_EQ(rows.size(), 4u);
  EXPECT_EQ(rows[0].back(), "mean_b");  // colour columns with --image
  EXPECT_EQ(rows[1].back(), "250");

  // Without watershed the touching pair is one cell.
  const auto merged =
      test::run_cli("instances '" + (dir / "map.png") + "' --no-watershed --out '" + (dir / "merged") + "'");
  ASSERT_EQ(merged.exit_code, 0) << merged.output;
  EXPECT_EQ(read_json(dir.path() / "merged" / "summary.json")["count"], 2);
  EXPECT_FALSE(fs::exists(dir.path() / "merged" / "overlay.png"));
}

TEST(InstancesCli, IndexMaskWithClassesAndInstanceMaskMeasuredAsIs) {
  test::ScratchDir dir;
  cv::Mat index = cv::Mat::zeros(40, 60, CV_8U);
  index(cv::Rect(2, 2, 10, 10)).setTo(1);
  index(cv::Rect(20, 2, 10, 10)).setTo(2);
  index(cv::Rect(40, 2, 10, 10)).setTo(2);
  write_image(dir / "index.png", index);
  const auto r = test::run_cli("instances '" + (dir / "index.png") + "' --classes rbc,wbc --out '" + (dir / "a") + "'");
  ASSERT_EQ(r.exit_code, 0) << r.output;
  const nlohmann::json s = read_json(dir.path() / "a" / "summary.json");
  EXPECT_EQ(s["map_type"], "index");
  EXPECT_EQ(s["per_class"]["rbc"], 1);
  EXPECT_EQ(s["per_class"]["wbc"], 2);
  const auto features = read_json(dir.path() / "a" / "cells.geojson")["features"];
  ASSERT_EQ(features.size(), 3u);
  EXPECT_EQ(features[0]["properties"]["classification"]["name"], "rbc");
  // Only class 2 as foreground.
  const auto only = test::run_cli("instances '" + (dir / "index.png") + "' --foreground 2 --out '" + (dir / "b") + "'");
  ASSERT_EQ(only.exit_code, 0) << only.output;
  EXPECT_EQ(read_json(dir.path() / "b" / "summary.json")["count"], 2);

  // A 16-bit instance mask keeps its ids, even touching ones.
  cv::Mat inst = cv::Mat::zeros(30, 30, CV_16U);
  inst(cv::Rect(2, 2, 8, 8)).setTo(500);
  inst(cv::Rect(10, 2, 8, 8)).setTo(7);
  write_image(dir / "inst.png", inst);
  const auto m = test::run_cli("instances '" + (dir / "inst.png") + "' --out '" + (dir / "c") + "'");
  ASSERT_EQ(m.exit_code, 0) << m.output;
  const auto rows = read_csv((dir.path() / "c" / "cells.csv").string());
  ASSERT_EQ(rows.size(), 3u);
  EXPECT_EQ(rows[1][0], "7");
  EXPECT_EQ(rows[2][0], "500");
  const cv::Mat back = read_mask((dir.path() / "c" / "instances.png").string());
  EXPECT_EQ(back.at<uint16_t>(5, 5), 500);
}

TEST(InstancesCli, BadInputExitsTwoNamingTheFileAndWritesNothing) {
  test::ScratchDir dir;
  write_image(dir / "map.png", probability_map());
  write_image(dir / "small.png", cv::Mat(10, 10, CV_8UC3, cv::Scalar(1, 2, 3)));
  cv::Mat index = cv::Mat::zeros(20, 20, CV_8U);
  index(cv::Rect(2, 2, 5, 5)).setTo(3);
  write_image(dir / "index.png", index);
  const fs::path out = dir.path() / "out";

  const auto missing = test::run_cli("instances '" + (dir / "nope.png") + "' --out '" + out.string() + "'");
  EXPECT_EQ(missing.exit_code, 2) << missing.output;
  EXPECT_TRUE(contains(missing.output, "nope.png")) << missing.output;

  const auto size = test::run_cli("instances '" + (dir / "map.png") + "' --image '" + (dir / "small.png") +
                                  "' --out '" + out.string() + "'");
  EXPECT_EQ(size.exit_code, 2) << size.output;
  EXPECT_TRUE(contains(size.output, "small.png")) << size.output;

  const auto classes =
      test::run_cli("instances '" + (dir / "index.png") + "' --classes a,b --out '" + out.string() + "'");
  EXPECT_EQ(classes.exit_code, 2) << classes.output;
  EXPECT_TRUE(contains(classes.output, "index.png")) << classes.output;
  EXPECT_TRUE(contains(classes.output, "--classes")) << classes.output;

  EXPECT_FALSE(fs::exists(out));
}

}  // namespace
}  // namespace hemapath
