#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include <unistd.h>

#include "hemapath/core/error.h"
#include "hemapath/io/image_io.h"
#include "hemapath/io/label_table.h"

namespace hemapath {
namespace {
namespace fs = std::filesystem;

// A fresh folder under the system temp dir, removed afterwards.
struct TempDir {
  fs::path path;
  TempDir() {
    const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
    path = fs::temp_directory_path() /
           ("hemapath_" + std::string(info->name()) + "_" + std::to_string(::getpid()));
    fs::remove_all(path);
    fs::create_directories(path);
  }
  ~TempDir() { fs::remove_all(path); }
  std::string operator/(const std::string& name) const { return (path / name).string(); }
};

void tiny_image(const std::string& path) {
  fs::create_directories(fs::path(path).parent_path());
  write_image(path, cv::Mat(4, 4, CV_8UC3, cv::Scalar(1, 2, 3)));
}

void write_text(const std::string& path, const std::string& text) {
  std::ofstream(path) << text;
}

TEST(LabelCsv, GoodRowsKeptBadRowsCountedByReason) {
  TempDir dir;
  for (const char* f : {"a.png", "b.png", "c.png", "d.png", "e.png", "f.png", "sub/h.jpg"}) tiny_image(dir / f);
  // Columns in the "wrong" order: found by name.
  write_text(dir / "labels.csv",
             "Label,Image\n"
             "NEUTROPHIL,a.png\n"
             "\"LYMPHOCYTE\",\"b.png\"\n"
             "MONOCYTE,missing.png\n"
             ",c.png\n"
             "\"NEUTROPHIL,EOSINOPHIL\",d.png\n"
             "NEUTROPHIL;MONOCYTE,e.png\n"
             "NEUTROPHIL,f.png,EOSINOPHIL\n"
             "\n"
             "EOSINOPHIL,a.png\n"
             " EOSINOPHIL ,sub/h.jpg\n");
  const LabelTable t = read_label_csv(dir / "labels.csv", dir.path.string());
  ASSERT_EQ(t.items.size(), 3u);
  EXPECT_EQ(t.items[0].image_path, dir / "a.png");
  EXPECT_EQ(t.items[0].label, "NEUTROPHIL");
  EXPECT_EQ(t.items[1].image_path, dir / "b.png");
  EXPECT_EQ(t.items[1].label, "LYMPHOCYTE");
  EXPECT_EQ(t.items[2].image_path, dir / "sub/h.jpg");
  EXPECT_EQ(t.items[2].label, "EOSINOPHIL");
  EXPECT_EQ(t.skipped.at("image file missing"), 1);
  EXPECT_EQ(t.skipped.at("empty label"), 1);
  EXPECT_EQ(t.skipped.at("multiple labels"), 3);
  EXPECT_EQ(t.skipped.at("duplicate image"), 1);
  EXPECT_EQ(t.skipped.size(), 4u);
  ASSERT_EQ(t.skipped_examples.size(), 5u);
  EXPECT_EQ(t.skipped_examples[0], dir / "labels.csv" + ":4: image file missing");
}

TEST(LabelCsv, MissingFileOrHeaderIsInputError) {
  TempDir dir;
  EXPECT_THROW(read_label_csv(dir / "nope.csv", dir.path.string()), InputError);
  write_text(dir / "noheader.csv", "a.png,NEUTROPHIL\n");
  try {
    read_label_csv(dir / "noheader.csv", dir.path.string());
    FAIL() << "expected InputError";
  } catch (const InputError& e) {
    EXPECT_NE(std::string(e.what()).find("noheader.csv"), std::string::npos) << e.what();
  }
}

// --group-by column:NAME reads another column, keyed by the image path read_label_csv gives.
TEST(LabelCsv, OtherColumnByResolvedImagePath) {
  TempDir dir;
  write_text(dir / "labels.csv", "image,label,Patient\na.png,NEUTROPHIL,p1\nsub/b.png,EOSINOPHIL, p2 \n,X,p3\n");
  const auto values = read_label_column(dir / "labels.csv", dir / "images", "patient");
  ASSERT_EQ(values.size(), 2u);  // the row without an image is left out
  EXPECT_EQ(values.at(label_image_path("a.png", dir / "images")), "p1");
  EXPECT_EQ(values.at((dir.path / "images" / "sub" / "b.png").string()), "p2");  // trimmed, case-blind header
  try {
    read_label_column(dir / "labels.csv", dir.path.string(), "slide");
    FAIL() << "expected InputError";
  } catch (const InputError& e) {
    EXPECT_NE(std::string(e.what()).find("has no column 'slide'"), std::string::npos) << e.what();
  }
}

TEST(LabelCsv, RealBccdLabels) {
  const std::string root = std::string(HEMAPATH_SHARED_DATA) + "/wbc-bccd";
  const LabelTable t = read_label_csv(root + "/labels.csv", root + "/images");
  EXPECT_EQ(t.items.size(), 351u);
  EXPECT_TRUE(t.skipped.empty());
}

TEST(ClassFolders, OneItemPerImageSortedByClass) {
  TempDir dir;
  tiny_image(dir / "root/B/3.png");
  tiny_image(dir / "root/A/2.jpg");
  tiny_image(dir / "root/A/1.png");
  write_text(dir / "root/B/notes.txt", "x");
  write_text(dir / "root/readme.txt", "x");
  fs::create_directories(dir / "root/.hidden");
  tiny_image(dir / "root/.hidden/9.png");
  const LabelTable t = scan_class_folders(dir / "root");
  ASSERT_EQ(t.items.size(), 3u);
  EXPECT_EQ(t.items[0].label, "A");
  EXPECT_EQ(fs::path(t.items[0].image_path).filename(), "1.png");
  EXPECT_EQ(t.items[1].label, "A");
  EXPECT_EQ(t.items[2].label, "B");
  EXPECT_EQ(t.skipped.at("not an image file"), 1);
  EXPECT_EQ(t.skipped.at("file outside class folders"), 1);

  EXPECT_THROW(scan_class_folders(dir / "absent"), InputError);
  fs::create_directories(dir / "empty/A");
  EXPECT_THROW(scan_class_folders(dir / "empty"), InputError);
}

}  // namespace
}  // namespace hemapath
