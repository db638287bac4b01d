#include "hemapath/io/plot.h"

#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <limits>

#include "hemapath/core/error.h"
#include "hemapath/io/image_io.h"

namespace hemapath {
namespace {
namespace fs = std::filesystem;

class PlotTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() /
           ("hemapath_plot_" + std::string(::testing::UnitTest::GetInstance()->current_test_info()->name()));
    fs::remove_all(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }
  std::string path(const std::string& name) const { return (dir_ / name).string(); }
  // True when nothing (not even a temporary) was left in the output folder.
  bool folder_empty() const { return !fs::exists(dir_) || fs::is_empty(dir_); }
  fs::path dir_;
};

int64_t count_colour(const cv::Mat& rgb, std::array<uint8_t, 3> c) {
  int64_t n = 0;
  for (int y = 0; y < rgb.rows; ++y)
    for (int x = 0; x < rgb.cols; ++x) {
      const auto& p = rgb.at<cv::Vec3b>(y, x);
      if (p[0] == c[0] && p[1] == c[1] && p[2] == c[2]) ++n;
    }
  return n;
}

int64_t count_non_white(const cv::Mat& rgb) {
  return static_cast<int64_t>(rgb.total()) - count_colour(rgb, {255, 255, 255});
}

TEST_F(PlotTest, LinePlotHasRequestedSizeAndSeriesColours) {
  const double nan = std::numeric_limits<double>::quiet_NaN();
  // Different y ranges on one axis, a NaN gap, and a single finite point.
  std::vector<PlotSeries> series = {
      {"train loss", {1, 2, 3, 4, 5, 6}, {2.3, 1.6, nan, 0.9, 0.7, 0.6}},
      {"val accuracy", {1, 2, 3, 4, 5, 6}, {0.31, 0.52, 0.64, 0.70, 0.74, 0.75}},
      {"lone", {3, 4}, {1.2, nan}},
  };
  LinePlotOptions o{"Training", "epoch", "value", 700, 420};
  write_line_plot(path("curves.png"), series, o);
  cv::Mat img = read_image_rgb(path("curves.png"));
  EXPECT_EQ(img.cols, 700);
  EXPECT_EQ(img.rows, 420);
  EXPECT_GT(count_colour(img, plot_colour(0)), 50);
  EXPECT_GT(count_colour(img, plot_colour(1)), 50);
  EXPECT_GT(count_colour(img, plot_colour(2)), 5);
  EXPECT_GT(count_colour(img, {255, 255, 255}), img.total() / 2);  // mostly background
}

TEST_F(PlotTest, FlatAndEmptySeriesStillDraw) {
  std::vector<PlotSeries> series = {{"flat", {0, 1, 2}, {0.5, 0.5, 0.5}}, {"nothing", {}, {}}};
  write_line_plot(path("flat.png"), series, LinePlotOptions{});
  cv::Mat img = read_image_rgb(path("flat.png"));
  EXPECT_EQ(img.cols, 900);
  EXPECT_EQ(img.rows, 560);
  EXPECT_GT(count_colour(img, plot_colour(0)), 50);
}

TEST_F(PlotTest, StackedPanelsShareOneImage) {
  std::vector<std::vector<PlotSeries>> panels = {
      {{"train", {1, 2, 3}, {1.0, 0.6, 0.4}}, {"val", {1, 2, 3}, {1.1, 0.8, 0.7}}},
      {{"macro F1", {1, 2, 3}, {0.4, 0.6, 0.7}}}};
  std::vector<LinePlotOptions> options = {{"Loss", "epoch", "loss", 800, 300}, {"Metric", "epoch", "F1", 700, 250}};
  write_line_plots(path("panels.png"), panels, options);
  cv::Mat img = read_image_rgb(path("panels.png"));
  EXPECT_EQ(img.cols, 800);
  EXPECT_EQ(img.rows, 550);
  // The second panel's only series is drawn in the first colour, below the first panel.
  EXPECT_GT(count_colour(img(cv::Rect(0, 300, 700, 250)), plot_colour(0)), 20);
  EXPECT_GT(count_colour(img(cv::Rect(0, 0, 800, 300)), plot_colour(1)), 20);
}

TEST_F(PlotTest, BadLinePlotInputThrowsAndLeavesNothing) {
  LinePlotOptions o;
  EXPECT_THROW(write_line_plot(path("a.png"), {}, o), InputError);
  EXPECT_THROW(write_line_plot(path("a.png"), {{"s", {1, 2}, {1}}}, o), InputError);
  EXPECT_THROW(write_line_plot(path("a.jpg"), {{"s", {1}, {1}}}, o), InputError);
  EXPECT_THROW(write_line_plot(path("a.png"), {{"s", {1}, {1}}}, LinePlotOptions{"", "", "", 50, 50}), InputError);
  EXPECT_THROW(write_line_plots(path("a.png"), {{{"s", {1}, {1}}}}, {}), InputError);
  EXPECT_THROW(write_line_plots(path("a.png"), {}, {}), InputError);
  EXPECT_THROW(write_line_plots(path("a.png"), {{{"s", {1}, {1}}}, {}}, {o, o}), InputError);
  EXPECT_TRUE(folder_empty());
}

// A band pixel of series 0 over white: 25% of the series colour, 75% background.
cv::Vec3b band_colour() {
  auto c = plot_colour(0);
  cv::Vec3b b;
  for (int k = 0; k < 3; ++k) b[k] = cv::saturate_cast<uint8_t>(255 + 0.25 * (c[k] - 255));
  return b;
}

bool near(const cv::Vec3b& a, const cv::Vec3b& b, int tolerance) {
  for (int k = 0; k < 3; ++k)
    if (std::abs(a[k] - b[k]) > tolerance) return false;
  return true;
}

// White background or a grey grid line: no series' tint.
bool neutral(const cv::Vec3b& p) { return p[0] == p[1] && p[1] == p[2] && p[0] >= 200; }

// Tinted toward series 0 (blue): what band pixels are, and neither background nor grid is.
bool tinted(const cv::Vec3b& p) { return p[2] > p[0] + 15; }

TEST_F(PlotTest, BandIsFilledBetweenLowAndHighUnderTheLine) {
  const double nan = std::numeric_limits<double>::quiet_NaN();
  std::vector<double> x, y, low, high;
  for (int i = 0; i <= 10; ++i) {
    x.push_back(i);
    y.push_back(5);
    low.push_back(4);
    high.push_back(i == 1 ? nan : 6);  // breaks the band around x = 1
  }
  // A second series stretches the y axis to 0..10 so there is room above and below the band.
  std::vector<PlotSeries> series = {{"", x, y, low, high}, {"", {0, 0}, {0, 10}}};
  write_line_plot(path("band.png"), series, LinePlotOptions{"", "", "", 800, 500});
  cv::Mat img = read_image_rgb(path("band.png"));
  ASSERT_EQ(img.cols, 800);

  // Locate the line (y = 5) and its x extent from the pixels in exactly the series colour.
  auto c = plot_colour(0);
  int xmin = img.cols, xmax = -1;
  std::vector<int> rows;
  for (int r = 0; r < img.rows; ++r)
    for (int col = 0; col < img.cols; ++col)
      if (img.at<cv::Vec3b>(r, col) == cv::Vec3b(c[0], c[1], c[2])) {
        xmin = std::min(xmin, col);
        xmax = std::max(xmax, col);
        rows.push_back(r);
      }
  ASSERT_FALSE(rows.empty());
  std::nth_element(rows.begin(), rows.begin() + rows.size() / 2, rows.end());
  const int line_row = rows[rows.size() / 2];

  // Between markers 5 and 6: tinted from the line up to y = 6, then only background or grid.
  const int col = xmin + static_cast<int>(0.55 * (xmax - xmin));
  int above = 0;
  while (line_row - 3 - above > 0 && tinted(img.at<cv::Vec3b>(line_row - 3 - above, col))) ++above;
  int below = 0;
  while (line_row + 3 + below < img.rows && tinted(img.at<cv::Vec3b>(line_row + 3 + below, col))) ++below;
  EXPECT_GT(above, 15);
  EXPECT_NEAR(above, below, 3);  // symmetric band 4..6 around the line at 5
  const cv::Vec3b inside = img.at<cv::Vec3b>(line_row - 3 - above / 2, col);
  EXPECT_TRUE(near(inside, band_colour(), 2)) << inside;
  EXPECT_FALSE(near(inside, cv::Vec3b(c[0], c[1], c[2]), 20));
  EXPECT_GT(count_colour(img, {band_colour()[0], band_colour()[1], band_colour()[2]}), 5000);
  for (int r = line_row - 3 - above - 3; r > line_row - 3 * above; --r)
    EXPECT_TRUE(neutral(img.at<cv::Vec3b>(r, col))) << "row " << r << " " << img.at<cv::Vec3b>(r, col);
  const cv::Vec3b outside = img.at<cv::Vec3b>(line_row - 2 * above, col);
  EXPECT_TRUE(neutral(outside)) << outside;

  // Around x = 1 the band is broken by the NaN: nothing tinted just above the line.
  const int gap_col = xmin + static_cast<int>(0.1 * (xmax - xmin));
  for (int r = line_row - 8; r > line_row - above; --r)
    EXPECT_TRUE(neutral(img.at<cv::Vec3b>(r, gap_col))) << "row " << r;
}

TEST_F(PlotTest, BandWidensTheAxisAndMismatchedBandsThrow) {
  // The line alone spans nothing; the axis must cover the band so none of it leaves the frame.
  std::vector<PlotSeries> series = {{"mean +- std", {1, 2, 3}, {5, 5, 5}, {0, -2, 1}, {9, 12, 8}}};
  write_line_plot(path("wide.png"), series, LinePlotOptions{});
  cv::Mat img = read_image_rgb(path("wide.png"));
  int64_t band = 0, margin = 0;
  for (int r = 0; r < img.rows; ++r)
    for (int col = 0; col < img.cols; ++col)
      if (tinted(img.at<cv::Vec3b>(r, col)) && near(img.at<cv::Vec3b>(r, col), band_colour(), 2))
        ++(r < 15 || r >= img.rows - 15 ? margin : band);
  EXPECT_GT(band, 20000);
  EXPECT_EQ(margin, 0);

  LinePlotOptions o;
  EXPECT_THROW(write_line_plot(path("b.png"), {{"s", {1, 2}, {1, 2}, {0}, {2, 3}}}, o), InputError);
  EXPECT_THROW(write_line_plot(path("b.png"), {{"s", {1, 2}, {1, 2}, {0, 1}, {}}}, o), InputError);
  EXPECT_THROW(write_line_plot(path("b.png"), {{"s", {1, 2}, {1, 2}, {}, {2, 3}}}, o), InputError);
  EXPECT_THROW(write_line_plots(path("b.png"), {{{"ok", {1}, {1}}}, {{"s", {1}, {1}, {0, 1}, {2, 3}}}}, {o, o}),
               InputError);
  try {
    write_line_plot(path("b.png"), {{"val loss", {1, 2}, {1, 2}, {0}, {2, 3}}}, o);
  } catch (const InputError& e) {
    EXPECT_NE(std::string(e.what()).find("'val loss'"), std::string::npos) << e.what();
  }
  EXPECT_FALSE(fs::exists(path("b.png")));
}

TEST_F(PlotTest, HeatmapShowsRowFractionsAndRejectsBadMatrices) {
  // Row 0 is all on the diagonal: its diagonal cell takes the darkest colour.
  write_matrix_heatmap(path("cm.png"), {{5, 0, 0}, {1, 3, 0}, {0, 2, 7}}, {"neutrophil", "lymphocyte", "monocyte"},
                       "Confusion matrix");
  cv::Mat img = read_image_rgb(path("cm.png"));
  ASSERT_FALSE(img.empty());
  EXPECT_GT(img.cols, 200);
  EXPECT_GT(img.rows, 150);
  EXPECT_GT(count_colour(img, {8, 48, 107}), 500);
  EXPECT_GT(count_non_white(img), 5000);

  EXPECT_THROW(write_matrix_heatmap(path("b.png"), {}, {}, "t"), InputError);
  EXPECT_THROW(write_matrix_heatmap(path("b.png"), {{1, 2}}, {"a"}, "t"), InputError);
  EXPECT_THROW(write_matrix_heatmap(path("b.png"), {{1, 2}, {3, 4}}, {"a"}, "t"), InputError);
  EXPECT_THROW(write_matrix_heatmap(path("b.png"), {{1, -2}, {3, 4}}, {"a", "b"}, "t"), InputError);
  EXPECT_FALSE(fs::exists(path("b.png")));
  fs::remove(path("cm.png"));
  EXPECT_TRUE(folder_empty());
}

TEST_F(PlotTest, HeatmapWithEmptyRowAndSingleClass) {
  write_matrix_heatmap(path("one.png"), {{4}}, {"only"}, "");
  write_matrix_heatmap(path("gap.png"), {{2, 1}, {0, 0}}, {"a", "b"}, "with an empty row");
  EXPECT_FALSE(read_image_rgb(path("one.png")).empty());
  EXPECT_FALSE(read_image_rgb(path("gap.png")).empty());
}

TEST_F(PlotTest, ScatterPlotDrawsPointsInTheirColours) {
  std::vector<ScatterPoint> points = {{12.0, 0.91, "resnet50"},
                                      {3.1, 0.88, "mobilenet_v3"},
                                      {25.0, 0.93, "densenet201"},
                                      {std::nan(""), 0.5, "skipped"},
                                      {3.3, 0.881, "compact"}};
  write_scatter_plot(path("scatter.png"), points, {"Accuracy vs latency", "latency (ms)", "accuracy", 640, 480});
  cv::Mat img = read_image_rgb(path("scatter.png"));
  EXPECT_EQ(img.cols, 640);
  EXPECT_EQ(img.rows, 480);
  EXPECT_GT(count_colour(img, plot_colour(0)), 20);
  EXPECT_GT(count_colour(img, plot_colour(1)), 20);
  EXPECT_GT(count_colour(img, plot_colour(4)), 20);
  EXPECT_EQ(count_colour(img, plot_colour(3)), 0);  // the NaN point is not drawn

  EXPECT_THROW(write_scatter_plot(path("s.png"), {}, {}), InputError);
  EXPECT_THROW(write_scatter_plot(path("s.bmp"), points, {}), InputError);
  EXPECT_FALSE(fs::exists(path("s.png")));
}

}  // namespace
}  // namespace hemapath
