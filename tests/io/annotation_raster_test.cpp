#include "hemapath/io/annotation_raster.h"

#include <gtest/gtest.h>

#include <opencv2/core.hpp>
#include <opencv2/imgproc.hpp>

#include "hemapath/core/error.h"
#include "test_support.h"

namespace hemapath {
namespace {

using test::ScratchDir;
using test::write_file;

AnnotationShape shape(const std::string& name, std::vector<std::vector<cv::Point2d>> rings) {
  return {name, {std::move(rings)}};
}

std::vector<cv::Point2d> box(double x0, double y0, double x1, double y1) {
  return {{x0, y0}, {x1, y0}, {x1, y1}, {x0, y1}};
}

// Level-0 px: a "tumor" square [10, 30)^2 with a square hole [15, 25)^2, then a "stroma"
// triangle x >= 20, y >= 20, x + y < 60.5 overlapping it.
std::vector<AnnotationShape> square_and_triangle() {
  return {shape("tumor", {box(10, 10, 30, 30), box(15, 15, 25, 25)}),
          shape("stroma", {{{20, 20}, {40.5, 20}, {20, 40.5}}})};
}
const std::map<std::string, int> kClasses = {{"tumor", 1}, {"stroma", 2}};

// The expected label at a level-0 point, from the shapes' inequalities (independent of the
// rasteriser). The test regions are chosen so that no pixel centre lies on an edge.
int expected_label(double x, double y) {
  if (x >= 20 && y >= 20 && x + y < 60.5) return 2;
  const bool square = x >= 10 && x < 30 && y >= 10 && y < 30;
  const bool hole = x >= 15 && x < 25 && y >= 15 && y < 25;
  return square && !hole ? 1 : 0;
}

void expect_matches_oracle(const cv::Mat& labels, double x0, double y0, double d) {
  int mismatches = 0;
  for (int j = 0; j < labels.rows; ++j)
    for (int i = 0; i < labels.cols; ++i)
      if (labels.at<uchar>(j, i) != expected_label(x0 + (i + 0.5) * d, y0 + (j + 0.5) * d)) ++mismatches;
  EXPECT_EQ(mismatches, 0);
}

int count(const cv::Mat& labels, int value) { return cv::countNonZero(labels == value); }

TEST(AnnotationRaster, FullResolutionWithOffset) {
  // Region [5, 45)^2 at 1 level-0 px per output px: centres at 5.5, 6.5, ...
  const cv::Mat labels = rasterize_annotations(square_and_triangle(), kClasses, 5, 5, 1, 40, 40);
  ASSERT_EQ(labels.type(), CV_8U);
  ASSERT_EQ(labels.size(), cv::Size(40, 40));
  // Triangle: centres 20.5 + a, 20.5 + b with a + b <= 19: 20 + 19 + ... + 1 = 210.
  EXPECT_EQ(count(labels, 2), 210);
  // Square ring: 400 - 100 (hole) - 75 (under the triangle: [20, 30)^2 less the hole's [20, 25)^2).
  EXPECT_EQ(count(labels, 1), 225);
  EXPECT_EQ(count(labels, 0), 1600 - 210 - 225);
  EXPECT_EQ(labels.at<uchar>(15 - 5, 12 - 5), 1);  // (x 12.5, y 15.5): left arm of the ring
  EXPECT_EQ(labels.at<uchar>(17 - 5, 17 - 5), 0);  // centre of the hole
  EXPECT_EQ(labels.at<uchar>(22 - 5, 22 - 5), 2);  // hole of the square, inside the triangle
  EXPECT_EQ(labels.at<uchar>(27 - 5, 27 - 5), 2);  // ring overridden by the later triangle
  EXPECT_EQ(labels.at<uchar>(9 - 5, 12 - 5), 0);   // y 9.5: above the square
  EXPECT_EQ(labels.at<uchar>(12 - 5, 29 - 5), 1);  // x 29.5: last column inside
  EXPECT_EQ(labels.at<uchar>(12 - 5, 30 - 5), 0);  // x 30.5: outside
  expect_matches_oracle(labels, 5, 5, 1);
}

TEST(AnnotationRaster, DownsampledWithFractionalOffset) {
  // Output px (i, j) covers level-0 [3.5 + 4i, 7.5 + 4i) x [-6.5 + 4j, -2.5 + 4j); centres
  // x = 5.5 + 4i, y = -4.5 + 4j.
  const cv::Mat labels = rasterize_annotations(square_and_triangle(), kClasses, 3.5, -6.5, 4, 12, 14);
  ASSERT_EQ(labels.size(), cv::Size(12, 14));
  // Square: x centres 13.5..29.5 (i 2..6), y 11.5..27.5 (j 4..8): 25; hole i 3..4, j 5..7: 6.
  // Triangle: x + y < 60.5 over x in {21.5, 25.5, ...}, y in {23.5, 27.5, ...}: 4+3+2+1 = 10,
  // 5 of them on the ring.
  EXPECT_EQ(count(labels, 2), 10);
  EXPECT_EQ(count(labels, 1), 25 - 6 - 5);
  EXPECT_EQ(labels.at<uchar>(4, 2), 1);  // (13.5, 11.5)
  EXPECT_EQ(labels.at<uchar>(6, 3), 0);  // (17.5, 19.5): hole
  EXPECT_EQ(labels.at<uchar>(7, 4), 2);  // (21.5, 23.5)
  EXPECT_EQ(labels.at<uchar>(8, 6), 2);  // (29.5, 27.5)
  EXPECT_EQ(labels.at<uchar>(3, 2), 0);  // (13.5, 7.5): above
  expect_matches_oracle(labels, 3.5, -6.5, 4);
}

TEST(AnnotationRaster, LaterShapesOverrideAndHolesShowWhatIsBelow) {
  auto shapes = square_and_triangle();
  std::swap(shapes[0], shapes[1]);  // triangle first, then the square with its hole
  const cv::Mat labels = rasterize_annotations(shapes, kClasses, 5, 5, 1, 40, 40);
  EXPECT_EQ(labels.at<uchar>(27 - 5, 27 - 5), 1);  // the ring is on top now
  EXPECT_EQ(labels.at<uchar>(22 - 5, 22 - 5), 2);  // the triangle shows through the hole
  EXPECT_EQ(labels.at<uchar>(17 - 5, 17 - 5), 0);  // hole over nothing
  EXPECT_EQ(count(labels, 1), 300);
  EXPECT_EQ(count(labels, 2), 210 - 75);
}

TEST(AnnotationRaster, InsideMeansTheCentreIsInside) {
  const std::map<std::string, int> classes = {{"a", 1}, {"b", 2}};
  // Covers the centre (10.5, 10.5) only.
  cv::Mat m = rasterize_annotations({shape("a", {box(10.2, 10.2, 10.8, 10.8)})}, classes, 0, 0, 1, 20, 20);
  EXPECT_EQ(count(m, 1), 1);
  EXPECT_EQ(m.at<uchar>(10, 10), 1);
  // Between centres 10.5 and 11.5: nothing (cv::fillPoly would paint one pixel).
  m = rasterize_annotations({shape("a", {box(10.6, 10, 11.4, 11)})}, classes, 0, 0, 1, 20, 20);
  EXPECT_EQ(count(m, 1), 0);
  // Two squares sharing an edge on pixel boundaries: 4 x 4 each, no overlap, no gap
  // (cv::fillPoly paints 5 x 5 for each).
  m = rasterize_annotations({shape("a", {box(10, 10, 14, 14)}), shape("b", {box(14, 10, 18, 14)})}, classes, 0, 0, 1,
                            20, 20);
  EXPECT_EQ(count(m, 1), 16);
  EXPECT_EQ(count(m, 2), 16);
  EXPECT_EQ(cv::countNonZero(m(cv::Rect(10, 10, 8, 4))), 32);
  // Centres exactly on an edge: inside on the left / top edge, outside on the right / bottom
  // one, so a square [10.5, 14.5)^2 holds the centres 10.5 .. 13.5: 4 x 4.
  m = rasterize_annotations({shape("a", {box(10.5, 10.5, 14.5, 14.5)})}, classes, 0, 0, 1, 20, 20);
  EXPECT_EQ(count(m, 1), 16);
  EXPECT_EQ(m.at<uchar>(10, 10), 1);
  EXPECT_EQ(m.at<uchar>(14, 13), 0);
  EXPECT_EQ(m.at<uchar>(13, 14), 0);
  // A vertex exactly on a scanline (y 12.5, on the square's left side) is crossed once:
  // that row is filled like the others.
  m = rasterize_annotations({shape("a", {{{10, 10}, {14, 10}, {14, 14}, {10, 14}, {10, 12.5}}})}, classes, 0, 0, 1, 20,
                            20);
  EXPECT_EQ(count(m, 1), 16);
  EXPECT_EQ(cv::countNonZero(m.row(12)), 4);
  // Winding direction does not matter.
  auto reversed = box(10, 10, 14, 14);
  std::reverse(reversed.begin(), reversed.end());
  EXPECT_EQ(count(rasterize_annotations({shape("a", {reversed})}, classes, 0, 0, 1, 20, 20), 1), 16);
}

TEST(AnnotationRaster, OverlappingOrLeakingHolesOnlyRemoveArea) {
  const std::map<std::string, int> classes = {{"a", 1}};
  // Two holes overlapping on [6, 10)^2: their union (64 + 64 - 16) is cut out, not their
  // symmetric difference (which the even-odd rule over all rings would give).
  cv::Mat m = rasterize_annotations({shape("a", {box(0, 0, 20, 20), box(2, 2, 10, 10), box(6, 6, 14, 14)})}, classes, 0,
                                    0, 1, 30, 30);
  EXPECT_EQ(count(m, 1), 400 - 112);
  EXPECT_EQ(m.at<uchar>(8, 8), 0);
  // A hole leaking out of its exterior removes the part inside and adds nothing outside.
  m = rasterize_annotations({shape("a", {box(0, 0, 20, 20), box(15, 5, 25, 10)})}, classes, 0, 0, 1, 30, 30);
  EXPECT_EQ(count(m, 1), 400 - 25);
  EXPECT_EQ(m.at<uchar>(7, 22), 0);
}

TEST(AnnotationRaster, AgreesWithPointInPolygonOnRandomShapes) {
  // Non-convex star polygons (with a star hole) at random offsets and downsamples, checked
  // pixel by pixel against cv::pointPolygonTest at the level-0 centre; centres within 1e-3
  // level-0 px of an edge are left out (float precision there, and either answer is right).
  cv::RNG rng(12345);
  const std::map<std::string, int> classes = {{"a", 1}};
  int checked = 0, inside = 0;
  for (int trial = 0; trial < 20; ++trial) {
    const cv::Point2d c(rng.uniform(100.0, 300.0), rng.uniform(100.0, 300.0));
    auto star = [&](double r_min, double r_max) {
      std::vector<cv::Point2d> ring;
      const int n = rng.uniform(5, 14);
      for (int k = 0; k < n; ++k) {
        const double angle = 2 * CV_PI * k / n, r = rng.uniform(r_min, r_max);
        ring.emplace_back(c.x + r * std::cos(angle), c.y + r * std::sin(angle));
      }
      return ring;
    };
    const auto outer = star(40, 120), hole = star(5, 30);
    const double d = rng.uniform(0.7, 6.0), x0 = rng.uniform(0.0, 150.0), y0 = rng.uniform(0.0, 150.0);
    const cv::Mat m = rasterize_annotations({shape("a", {outer, hole})}, classes, x0, y0, d, 64, 64);
    std::vector<cv::Point2f> outer_f(outer.begin(), outer.end()), hole_f(hole.begin(), hole.end());
    for (int j = 0; j < m.rows; ++j)
      for (int i = 0; i < m.cols; ++i) {
        const cv::Point2f p(float(x0 + (i + 0.5) * d), float(y0 + (j + 0.5) * d));
        const double in_outer = cv::pointPolygonTest(outer_f, p, true), in_hole = cv::pointPolygonTest(hole_f, p, true);
        if (std::abs(in_outer) < 1e-3 || std::abs(in_hole) < 1e-3) continue;
        const int expected = in_outer > 0 && in_hole < 0 ? 1 : 0;
        ASSERT_EQ(m.at<uchar>(j, i), expected) << "trial " << trial << " pixel (" << i << ", " << j << ")";
        ++checked;
        inside += expected;
      }
  }
  EXPECT_GT(checked, 20 * 64 * 64 * 9 / 10);
  EXPECT_GT(inside, checked / 10);  // the shapes do cover much of the regions
}

TEST(AnnotationRaster, TilesStitchIntoTheWholeRegion) {
  const auto shapes = square_and_triangle();
  const cv::Mat whole = rasterize_annotations(shapes, kClasses, 5, 5, 2, 20, 20);
  cv::Mat stitched(20, 20, CV_8U, cv::Scalar(99));
  for (int ty = 0; ty < 20; ty += 5)
    for (int tx = 0; tx < 20; tx += 10)
      rasterize_annotations(shapes, kClasses, 5 + 2 * tx, 5 + 2 * ty, 2, 10, 5)
          .copyTo(stitched(cv::Rect(tx, ty, 10, 5)));
  EXPECT_EQ(cv::countNonZero(whole != stitched), 0);
  EXPECT_GT(count(whole, 1), 0);
  EXPECT_GT(count(whole, 2), 0);
}

TEST(AnnotationRaster, ShapesFarOutsideOrSpanningTheRegion) {
  const std::map<std::string, int> classes = {{"a", 7}};
  // Entirely outside: nothing painted.
  EXPECT_EQ(
      cv::countNonZero(rasterize_annotations({shape("a", {box(1000, 1000, 1100, 1100)})}, classes, 0, 0, 1, 32, 32)),
      0);
  // A huge triangle whose edges all lie far outside the region covers all of it.
  const auto big = shape("a", {{{-1e6, -1e6}, {1e6, -1e6}, {0, 1e6}}});
  const cv::Mat m = rasterize_annotations({big}, classes, 100, 200, 8, 32, 16);
  EXPECT_EQ(count(m, 7), 32 * 16);
}

TEST(AnnotationRaster, UnknownClassAndBadArgumentsAreInputErrors) {
  auto shapes = square_and_triangle();
  shapes.push_back(shape("necrosis", {box(5000, 5000, 5010, 5010)}));  // outside the region, still checked
  try {
    rasterize_annotations(shapes, kClasses, 0, 0, 1, 8, 8);
    FAIL() << "expected InputError";
  } catch (const InputError& e) {
    const std::string what = e.what();
    EXPECT_TRUE(test::contains(what, "necrosis")) << what;
    EXPECT_TRUE(test::contains(what, "tumor")) << what;
    EXPECT_TRUE(test::contains(what, "stroma")) << what;
  }
  const auto ok = square_and_triangle();
  EXPECT_THROW(rasterize_annotations(ok, {{"tumor", 0}, {"stroma", 2}}, 0, 0, 1, 8, 8), InputError);
  EXPECT_THROW(rasterize_annotations(ok, {{"tumor", 1}, {"stroma", 256}}, 0, 0, 1, 8, 8), InputError);
  EXPECT_THROW(rasterize_annotations(ok, kClasses, 0, 0, 0, 8, 8), InputError);
  EXPECT_THROW(rasterize_annotations(ok, kClasses, 0, 0, -2, 8, 8), InputError);
  EXPECT_THROW(rasterize_annotations(ok, kClasses, 0, 0, 1, 0, 8), InputError);
  EXPECT_THROW(rasterize_annotations(ok, kClasses, std::nan(""), 0, 1, 8, 8), InputError);
  auto nan_shape = ok;
  nan_shape[0].polygons[0][0][1].x = std::nan("");
  EXPECT_THROW(rasterize_annotations(nan_shape, kClasses, 0, 0, 1, 8, 8), InputError);
  // No shapes: an all-background mask.
  EXPECT_EQ(cv::countNonZero(rasterize_annotations({}, {}, 0, 0, 1, 8, 8)), 0);
}

const char* kCollection = R"({"type": "FeatureCollection", "features": [
  {"type": "Feature",
   "geometry": {"type": "Polygon", "coordinates": [
     [[10, 10], [30, 10], [30, 30], [10, 30], [10, 10]],
     [[15, 15], [25, 15], [25, 25], [15, 25], [15, 15]]]},
   "properties": {"objectType": "annotation", "classification": {"name": "Tumor", "color": [200, 0, 0]}}},
  {"type": "Feature",
   "geometry": {"type": "MultiPolygon", "coordinates": [
     [[[50, 50], [60, 50], [60, 60], [50, 50]]],
     [[[70, 70], [80, 70], [80, 80], [70, 80]]]]},
   "properties": {"class": "Stroma"}},
  {"type": "Feature", "geometry": {"type": "Point", "coordinates": [5, 5]},
   "properties": {"classification": {"name": "Lymphocyte"}}},
  {"type": "Feature", "geometry": {"type": "LineString", "coordinates": [[0, 0], [5, 5]]}, "properties": {}},
  {"type": "Feature", "geometry": {"type": "Polygon", "coordinates": [[[0, 0, 1.5], [4, 0, 1.5], [0, 4, 1.5]]]},
   "properties": {"name": "Necrosis"}},
  {"type": "Feature", "geometry": {"type": "Polygon", "coordinates": [[[0, 0], [4, 0], [4, 1], [0, 1], [0, 0]]]}},
  {"type": "Feature", "geometry": null, "properties": {"classification": {"name": "Tumor"}}},
  {"type": "Feature", "geometry": {"type": "GeometryCollection", "geometries": [
     {"type": "Point", "coordinates": [1, 1]},
     {"type": "Polygon", "coordinates": [[[0, 2], [2, 2], [2, 4], [0, 4], [0, 2]]]}]},
   "properties": {"classification": {"name": "Tumor", "color": [200, 0, 0]}}}
]})";

TEST(GeoJsonAnnotations, ReadsPolygonsHolesAndClasses) {
  ScratchDir dir;
  write_file(dir / "slide.geojson", kCollection);
  const auto shapes = read_geojson_annotations(dir / "slide.geojson");
  ASSERT_EQ(shapes.size(), 5u);  // Point, LineString and null geometries are skipped
  EXPECT_EQ(shapes[0].class_name, "Tumor");
  ASSERT_EQ(shapes[0].polygons.size(), 1u);
  ASSERT_EQ(shapes[0].polygons[0].size(), 2u);     // exterior + hole
  EXPECT_EQ(shapes[0].polygons[0][0].size(), 4u);  // closing point dropped
  EXPECT_EQ(shapes[0].polygons[0][1][2], cv::Point2d(25, 25));
  EXPECT_EQ(shapes[1].class_name, "Stroma");
  ASSERT_EQ(shapes[1].polygons.size(), 2u);
  EXPECT_EQ(shapes[1].polygons[0][0].size(), 3u);
  EXPECT_EQ(shapes[1].polygons[1][0].size(), 4u);  // an unclosed ring is accepted
  EXPECT_EQ(shapes[2].class_name, "Necrosis");
  EXPECT_EQ(shapes[2].polygons[0][0][1], cv::Point2d(4, 0));  // z ignored
  EXPECT_EQ(shapes[3].class_name, "unclassified");
  EXPECT_EQ(shapes[4].class_name, "Tumor");
  ASSERT_EQ(shapes[4].polygons.size(), 1u);  // the GeometryCollection's polygon

  const std::map<std::string, int> classes = {{"Tumor", 1}, {"Stroma", 2}, {"Necrosis", 3}, {"unclassified", 4}};
  const cv::Mat m = rasterize_annotations(shapes, classes, 0, 0, 1, 100, 100);
  EXPECT_EQ(count(m(cv::Rect(10, 10, 20, 20)), 1), 300);  // ring of the square with a hole
  EXPECT_EQ(m.at<uchar>(20, 20), 0);
  EXPECT_EQ(m.at<uchar>(52, 55), 2);  // (55.5, 52.5): below the diagonal, inside the triangle
  EXPECT_EQ(m.at<uchar>(55, 52), 0);  // (52.5, 55.5): outside it
  EXPECT_EQ(m.at<uchar>(75, 75), 2);
  EXPECT_EQ(m.at<uchar>(0, 2), 4);  // unclassified strip painted over Necrosis
  EXPECT_EQ(m.at<uchar>(1, 1), 3);  // Necrosis below the strip
  EXPECT_EQ(m.at<uchar>(2, 0), 1);  // (0.5, 2.5): GeometryCollection's square over Necrosis
  EXPECT_EQ(m.at<uchar>(3, 1), 1);  // (1.5, 3.5): the square alone
  // A JSON array of Features (QuPath's plain export) reads the same.
  const auto collection = nlohmann::json::parse(kCollection);
  write_file(dir / "array.geojson", collection["features"].dump());
  EXPECT_EQ(read_geojson_annotations(dir / "array.geojson").size(), 5u);
}

void expect_input_error(const std::string& path, const std::vector<std::string>& parts) {
  try {
    read_geojson_annotations(path);
    ADD_FAILURE() << "expected InputError for " << path;
  } catch (const InputError& e) {
    EXPECT_TRUE(test::contains(e.what(), path)) << e.what();
    for (const auto& part : parts) EXPECT_TRUE(test::contains(e.what(), part)) << e.what();
  }
}

TEST(GeoJsonAnnotations, MalformedFilesNameTheFileAndFeature) {
  ScratchDir dir;
  const std::string square = R"({"type": "Polygon", "coordinates": [[[0, 0], [4, 0], [4, 4], [0, 4]]]})";
  auto collection = [&](const std::string& second_feature) {
    return R"({"type": "FeatureCollection", "features": [{"type": "Feature", "geometry": )" + square +
           R"(, "properties": {}}, )" + second_feature + "]}";
  };
  const std::vector<std::tuple<std::string, std::string, std::vector<std::string>>> cases = {
      {"not_json.geojson", "{\"type\": \"FeatureCollection\", ", {"not valid JSON"}},
      {"geometry.geojson", R"({"type": "Polygon", "coordinates": []})", {"FeatureCollection"}},
      {"no_features.geojson", R"({"type": "FeatureCollection"})", {"features"}},
      {"missing_geometry.geojson", collection(R"({"type": "Feature", "properties": {}})"), {"features[1]", "geometry"}},
      {"not_feature.geojson", collection("[1, 2]"), {"features[1]"}},
      {"string_coordinate.geojson",
       collection(
           R"({"type": "Feature", "geometry": {"type": "Polygon", "coordinates": [[[0, 0], ["a", 1], [2, 2]]]}})"),
       {"features[1].geometry.coordinates[0][1]"}},
      {"short_ring.geojson",
       collection(R"({"type": "Feature", "geometry": {"type": "Polygon", "coordinates": [[[0, 0], [3, 3], [0, 0]]]}})"),
       {"features[1]", "at least 3"}},
      {"flat_coordinates.geojson",
       collection(R"({"type": "Feature", "geometry": {"type": "Polygon", "coordinates": [0, 0, 4, 4]}})"),
       {"features[1]"}},
      {"no_coordinates.geojson",
       collection(R"({"type": "Feature", "geometry": {"type": "MultiPolygon"}})"),
       {"features[1]", "coordinates"}},
      {"unknown_type.geojson",
       collection(R"({"type": "Feature", "geometry": {"type": "Circle", "coordinates": [0, 0]}})"),
       {"features[1]", "Circle"}},
      {"numeric_class.geojson",
       collection(R"({"type": "Feature", "geometry": )" + square +
                  R"(, "properties": {"classification": {"name": 3}}})"),
       {"features[1]", "classification"}},
  };
  for (const auto& [name, text, parts] : cases) {
    write_file(dir / name, text);
    expect_input_error(dir / name, parts);
  }
  expect_input_error(dir / "missing.geojson", {"cannot be opened"});
}

}  // namespace
}  // namespace hemapath
