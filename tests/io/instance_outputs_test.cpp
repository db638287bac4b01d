// Instance writers: GeoJSON read back as QuPath would (rings closed, one winding, classes and
// measurements), CSV areas against the 16-bit PNG read back, mask round trips and limits,
// the overlay's colours.
#include "hemapath/io/instance_outputs.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <opencv2/imgproc.hpp>

#include "hemapath/core/error.h"
#include "hemapath/infer/cell_measurements.h"
#include "hemapath/io/csv.h"
#include "hemapath/io/geojson.h"
#include "hemapath/io/image_io.h"
#include "test_support.h"

namespace hemapath {
namespace {
namespace fs = std::filesystem;

// A disc, a rectangle, an L, a single pixel, a one-pixel line and an instance in two parts;
// ids not consecutive.
cv::Mat sample_labels() {
  cv::Mat labels = cv::Mat::zeros(60, 80, CV_32S);
  cv::circle(labels, {15, 15}, 10, cv::Scalar(3), cv::FILLED);
  labels(cv::Rect(35, 5, 20, 8)).setTo(8);
  labels(cv::Rect(5, 35, 16, 16)).setTo(12);
  labels(cv::Rect(13, 43, 8, 8)).setTo(0);
  labels.at<int>(55, 75) = 20;
  labels(cv::Rect(60, 30, 1, 9)).setTo(21);
  labels(cv::Rect(35, 40, 5, 5)).setTo(30);
  labels(cv::Rect(45, 40, 5, 5)).setTo(30);
  return labels;
}

std::vector<InstanceRecord> classified_records(const cv::Mat& labels) {
  auto cells = measure_instances(labels);
  for (size_t i = 0; i < cells.size(); ++i) cells[i].class_index = static_cast<int>(i % 2);
  return to_records(cells);
}

TEST(InstanceOutputs, GeoJsonParsesBackAsClosedConsistentlyWoundClassifiedFeatures) {
  test::ScratchDir dir;
  const cv::Mat labels = sample_labels();
  const auto records = classified_records(labels);
  ClassLegend legend;
  legend.names = {"lymphocyte", "neutrophil"};
  const std::string path = dir / "cells.geojson";
  write_instances_geojson(path, labels, records, legend);

  std::ifstream in(path);
  const nlohmann::json j = nlohmann::json::parse(in);
  EXPECT_EQ(j["type"], "FeatureCollection");
  ASSERT_EQ(j["features"].size(), 6u);
  std::map<int, nlohmann::json> by_id;
  for (const auto& f : j["features"]) {
    EXPECT_EQ(f["type"], "Feature");
    const auto& p = f["properties"];
    EXPECT_EQ(p["objectType"], "detection");
    ASSERT_TRUE(p["classification"].contains("name"));
    ASSERT_EQ(p["classification"]["color"].size(), 3u);
    const int id = p["id"];
    const int cls = p["classification"]["name"] == "lymphocyte" ? 0 : 1;
    const auto colour = legend.colour(cls);
    EXPECT_EQ(p["classification"]["color"][0], colour[0]);
    EXPECT_EQ(p["measurements"]["area_px"], p["area_px"]);
    EXPECT_EQ(p["measurements"]["area_px"].get<double>(), cv::countNonZero(labels == id));
    const auto& g = f["geometry"];
    std::vector<nlohmann::json> polygons;
    if (g["type"] == "Polygon")
      polygons.push_back(g["coordinates"]);
    else
      for (const auto& poly : g["coordinates"]) polygons.push_back(poly);
    for (const auto& poly : polygons) {
      ASSERT_EQ(poly.size(), 1u);  // exterior ring only
      const auto& ring = poly[0];
      ASSERT_GE(ring.size(), 4u);
      EXPECT_EQ(ring.front(), ring.back()) << "ring of instance " << id << " is not closed";
      EXPECT_GT(ring_shoelace(ring), 0) << "ring of instance " << id << " is wound the other way";
      for (const auto& pt : ring) {
        EXPECT_GE(pt[0].get<double>(), 0);
        EXPECT_LE(pt[0].get<double>(), labels.cols);
        EXPECT_GE(pt[1].get<double>(), 0);
        EXPECT_LE(pt[1].get<double>(), labels.rows);
      }
    }
    by_id[id] = g;
  }
  // The rectangle's ring runs through its boundary pixel centres: (20 - 1) x (8 - 1) px^2.
  EXPECT_EQ(by_id[8]["type"], "Polygon");
  EXPECT_DOUBLE_EQ(ring_shoelace(by_id[8]["coordinates"][0]) / 2, 19.0 * 7.0);
  EXPECT_EQ(by_id[8]["coordinates"][0][0][0].get<double>() - 0.5,
            std::floor(by_id[8]["coordinates"][0][0][0].get<double>()));
  // One pixel: the square around it.
  EXPECT_DOUBLE_EQ(ring_shoelace(by_id[20]["coordinates"][0]) / 2, 1.0);
  EXPECT_DOUBLE_EQ(ring_shoelace(by_id[21]["coordinates"][0]) / 2, 9.0);
  EXPECT_EQ(by_id[30]["type"], "MultiPolygon");
  EXPECT_EQ(by_id[30]["coordinates"].size(), 2u);

  GeoJsonOptions annotation;
  annotation.object_type = "annotation";
  EXPECT_EQ(instances_geojson(labels, records, legend, annotation)["features"][0]["properties"]["objectType"],
            "annotation");
  annotation.object_type = "cell";
  EXPECT_THROW(instances_geojson(labels, records, legend, annotation), InputError);
  auto stray = records;
  stray[0].id = 999;
  EXPECT_THROW(instances_geojson(labels, stray, legend), InputError);
}

TEST(InstanceOutputs, CsvAreasMatchPixelCountsOfTheInstancePngReadBack) {
  test::ScratchDir dir;
  const cv::Mat labels = sample_labels();
  const auto records = classified_records(labels);
  ClassLegend legend;
  legend.names = {"a", "b"};
  write_instance_csv(dir / "cells.csv", records, legend);
  write_instance_mask(dir / "instances.png", labels);

  const cv::Mat back = read_mask(dir / "instances.png");
  ASSERT_EQ(back.depth(), CV_16U);
  const auto rows = read_csv(dir / "cells.csv");
  ASSERT_EQ(rows.size(), records.size() + 1);
  EXPECT_EQ(rows[0][0], "id");
  EXPECT_EQ(rows[0][1], "class");
  const auto area_col = std::find(rows[0].begin(), rows[0].end(), "area_px") - rows[0].begin();
  ASSERT_LT(static_cast<size_t>(area_col), rows[0].size());
  for (size_t i = 1; i < rows.size(); ++i) {
    const int id = std::stoi(rows[i][0]);
    EXPECT_EQ(std::stoll(rows[i][area_col]), cv::countNonZero(back == id)) << "instance " << id;
    EXPECT_TRUE(rows[i][1] == "a" || rows[i][1] == "b");
  }
}

TEST(InstanceOutputs, MasksRoundTripAndRejectWhatPngCannotHold) {
  test::ScratchDir dir;
  cv::Mat labels = cv::Mat::zeros(5, 6, CV_32S);
  labels.at<int>(0, 0) = 1;
  labels.at<int>(2, 3) = 60000;
  labels.at<int>(4, 5) = 65535;
  write_instance_mask(dir / "inst.png", labels);
  cv::Mat back = read_mask(dir / "inst.png"), back32;
  ASSERT_EQ(back.type(), CV_16UC1);
  back.convertTo(back32, CV_32S);
  EXPECT_EQ(cv::countNonZero(back32 != labels), 0);

  labels.at<int>(1, 1) = 65536;
  EXPECT_THROW(write_instance_mask(dir / "too_many.png", labels), InputError);
  EXPECT_FALSE(fs::exists(dir / "too_many.png"));

  cv::Mat index = cv::Mat::zeros(3, 3, CV_32S);
  index.at<int>(1, 1) = 3;
  write_index_mask(dir / "index.png", index);
  const cv::Mat ib = read_mask(dir / "index.png");
  EXPECT_EQ(ib.type(), CV_8UC1);
  EXPECT_EQ(ib.at<uchar>(1, 1), 3);
  index.at<int>(0, 0) = 300;
  EXPECT_THROW(write_index_mask(dir / "bad_index.png", index), InputError);
  EXPECT_FALSE(fs::exists(dir / "bad_index.png"));
  for (const auto& e : fs::directory_iterator(dir.path()))
    EXPECT_EQ(e.path().filename().string().find(".tmp"), std::string::npos) << "temporary left behind";
}

TEST(InstanceOutputs, OverlayDrawsOutlinesInClassColoursAndALegend) {
  const cv::Mat labels = sample_labels();
  auto records = classified_records(labels);
  const cv::Mat rgb(labels.size(), CV_8UC3, cv::Scalar(0, 0, 0));
  ClassLegend legend;
  legend.names = {"x", "y"};
  const cv::Mat overlay = render_instance_overlay(rgb, labels, records, legend);
  // The rectangle (id 8) is the second record: class 1. Its top edge is drawn in that colour.
  ASSERT_EQ(records[1].id, 8);
  const auto c = legend.colour(1);
  EXPECT_EQ(overlay.at<cv::Vec3b>(5, 45), cv::Vec3b(c[0], c[1], c[2]));
  EXPECT_EQ(overlay.at<cv::Vec3b>(9, 45), cv::Vec3b(0, 0, 0));  // inside stays as it was
  EXPECT_NE(overlay.at<cv::Vec3b>(1, 1), cv::Vec3b(0, 0, 0));   // legend box
  // Records with classes need names for them.
  EXPECT_THROW(render_instance_overlay(rgb, labels, records, ClassLegend{}), InputError);
  EXPECT_THROW(render_instance_overlay(rgb(cv::Rect(0, 0, 10, 10)), labels, records, legend), InputError);
  // Unclassified, without class names: outlines in the unclassified colour and no legend.
  for (auto& r : records) r.class_index = -1;
  const cv::Mat plain = render_instance_overlay(rgb, labels, records, ClassLegend{});
  const auto u = ClassLegend{}.colour(-1);
  EXPECT_EQ(plain.at<cv::Vec3b>(5, 45), cv::Vec3b(u[0], u[1], u[2]));
  EXPECT_EQ(plain.at<cv::Vec3b>(1, 70), cv::Vec3b(0, 0, 0));
}

}  // namespace
}  // namespace hemapath
