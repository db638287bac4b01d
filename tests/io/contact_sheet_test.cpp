#include "hemapath/io/contact_sheet.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>

#include "hemapath/core/error.h"

namespace hemapath {
namespace {
namespace fs = std::filesystem;

class ContactSheetTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() /
           ("hemapath_sheet_" + std::string(::testing::UnitTest::GetInstance()->current_test_info()->name()));
    fs::remove_all(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }
  std::string path(const std::string& name) const { return (dir_ / name).string(); }
  // True when nothing (not even a temporary) was left in the output folder.
  bool folder_empty() const { return !fs::exists(dir_) || fs::is_empty(dir_); }
  fs::path dir_;
};

// Distinct, non-grey RGB colours, none of them symmetric in R and B so a channel swap shows.
const cv::Vec3b kColours[] = {{200, 30, 30},  {30, 160, 40},  {20, 40, 220}, {240, 200, 10},
                              {150, 20, 180}, {10, 190, 200}, {90, 60, 10}};

// Item k: a solid image of kColours[k], `w` x `h`, with two caption lines.
std::vector<ContactSheetItem> solid_items(int count, int w = 40, int h = 40) {
  std::vector<ContactSheetItem> items;
  for (int k = 0; k < count; ++k)
    items.push_back({cv::Mat(h, w, CV_8UC3, cv::Scalar(kColours[k][0], kColours[k][1], kColours[k][2])),
                     {"item " + std::to_string(k), "p=0.9"}});
  return items;
}

cv::Vec3b rgb_at(const cv::Mat& bgr, int x, int y) {
  cv::Vec3b p = bgr.at<cv::Vec3b>(y, x);
  return {p[2], p[1], p[0]};
}

TEST_F(ContactSheetTest, GridFollowsColumnsAndEachCellShowsItsImage) {
  const int cell = 64;
  write_contact_sheet(path("five.png"), solid_items(5), 3, cell, "Misclassified");
  write_contact_sheet(path("five_2col.png"), solid_items(5), 2, cell, "Misclassified");
  write_contact_sheet(path("three.png"), solid_items(3), 3, cell, "Misclassified");
  write_contact_sheet(path("seven.png"), solid_items(7), 3, cell, "Misclassified");
  cv::Mat five = cv::imread(path("five.png")), five2 = cv::imread(path("five_2col.png"));
  cv::Mat three = cv::imread(path("three.png")), seven = cv::imread(path("seven.png"));
  ASSERT_FALSE(five.empty());

  // Each extra column adds one column pitch; each extra row one row pitch.
  const int pitch_x = five.cols - five2.cols;
  EXPECT_EQ(pitch_x, cell + 10);
  EXPECT_EQ(five.cols, 10 + 3 * pitch_x);
  EXPECT_EQ(three.cols, five.cols);
  EXPECT_EQ(seven.cols, five.cols);
  const int pitch_y = five.rows - three.rows;  // 2 rows against 1
  EXPECT_GT(pitch_y, cell);
  EXPECT_EQ(seven.rows - five.rows, pitch_y);  // 3 rows against 2
  EXPECT_EQ(five2.rows - five.rows, pitch_y);  // 5 items in 2 columns take 3 rows

  // Cell k's centre: columns from the left margin, rows counted up from the bottom.
  const int top = five.rows - 2 * pitch_y;
  for (int k = 0; k < 5; ++k) {
    int cx = 10 + (k % 3) * pitch_x + cell / 2, cy = top + (k / 3) * pitch_y + cell / 2;
    EXPECT_EQ(rgb_at(five, cx, cy), kColours[k]) << "cell " << k;
  }
  // Past the last item the grid is blank.
  EXPECT_EQ(rgb_at(five, 10 + 2 * pitch_x + cell / 2, top + pitch_y + cell / 2), cv::Vec3b(255, 255, 255));
  // The title is drawn above the grid.
  EXPECT_LT(cv::countNonZero(five(cv::Rect(0, 0, five.cols, top)).reshape(1) < 250), five.cols * top);
  EXPECT_GT(cv::countNonZero(five(cv::Rect(0, 0, five.cols, top)).reshape(1) < 250), 20);
}

TEST_F(ContactSheetTest, ImagesKeepTheirAspectAndCaptionsStayInTheirCell) {
  const int cell = 64;
  auto items = solid_items(2, 100, 50);  // wide images: 64 x 32 in the cell
  items[0].caption = {std::string(80, 'W'), "two", "three", "a fourth line is dropped"};
  items[1].caption = {};
  write_contact_sheet(path("wide.png"), items, 5, cell, "");
  cv::Mat sheet = cv::imread(path("wide.png"));
  ASSERT_FALSE(sheet.empty());
  EXPECT_EQ(sheet.cols, 10 + 2 * (cell + 10));  // two items need only two of the five columns

  // The first image's extent: exactly its colour's bounding box.
  cv::Mat bgr_colour(1, 1, CV_8UC3, cv::Scalar(kColours[0][2], kColours[0][1], kColours[0][0]));
  cv::Mat mask;
  cv::inRange(sheet, bgr_colour.at<cv::Vec3b>(0, 0), bgr_colour.at<cv::Vec3b>(0, 0), mask);
  cv::Rect box = cv::boundingRect(mask);
  EXPECT_EQ(box.width, 64);
  EXPECT_EQ(box.height, 32);
  EXPECT_EQ(box.x, 10);
  EXPECT_EQ(box.y, 10 + 16);  // centred vertically in the cell
  EXPECT_EQ(cv::countNonZero(mask), 64 * 32);

  // The 80-character caption under cell 0 is clipped: nothing is drawn under cell 1.
  cv::Rect under_cell1(10 + cell + 10, 10 + cell + 2, cell, sheet.rows - (10 + cell + 2));
  EXPECT_EQ(cv::countNonZero(sheet(under_cell1).reshape(1) < 255), 0);
  cv::Rect under_cell0(10, 10 + cell + 2, cell, sheet.rows - (10 + cell + 2));
  EXPECT_GT(cv::countNonZero(sheet(under_cell0).reshape(1) < 200), 50);
}

TEST_F(ContactSheetTest, BadInputThrowsAndLeavesNothing) {
  auto good = solid_items(2);
  EXPECT_THROW(write_contact_sheet(path("s.png"), {}, 3, 64, ""), InputError);
  EXPECT_THROW(write_contact_sheet(path("s.jpg"), good, 3, 64, ""), InputError);
  EXPECT_THROW(write_contact_sheet(path("s"), good, 3, 64, ""), InputError);
  EXPECT_THROW(write_contact_sheet(path("s.png"), good, 0, 64, ""), InputError);
  EXPECT_THROW(write_contact_sheet(path("s.png"), good, 3, 15, ""), InputError);
  auto grey = good;
  grey[1].image = cv::Mat(8, 8, CV_8UC1, cv::Scalar(7));
  EXPECT_THROW(write_contact_sheet(path("s.png"), grey, 3, 64, ""), InputError);
  auto floats = good;
  floats[0].image = cv::Mat(8, 8, CV_32FC3, cv::Scalar(0.5, 0.5, 0.5));
  EXPECT_THROW(write_contact_sheet(path("s.png"), floats, 3, 64, ""), InputError);
  auto empty = good;
  empty[1].image = cv::Mat();
  EXPECT_THROW(write_contact_sheet(path("s.png"), empty, 3, 64, ""), InputError);
  try {
    write_contact_sheet(path("s.png"), grey, 3, 64, "");
  } catch (const InputError& e) {
    EXPECT_NE(std::string(e.what()).find("image 2"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("CV_8UC3"), std::string::npos) << e.what();
  }
  EXPECT_TRUE(folder_empty());
}

TEST_F(ContactSheetTest, UnwritableFolderIsAnOutputError) {
  // A plain file where the output's folder should be: the folder cannot be created.
  fs::create_directories(dir_);
  std::ofstream(path("blocker")) << "x";
  EXPECT_THROW(write_contact_sheet(path("blocker/s.png"), solid_items(1), 1, 32, ""), OutputError);
}

}  // namespace
}  // namespace hemapath
