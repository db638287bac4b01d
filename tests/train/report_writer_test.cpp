#include "hemapath/train/report_writer.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <fstream>

#include "hemapath/core/error.h"
#include "hemapath/io/csv.h"
#include "hemapath/io/image_io.h"

namespace hemapath {
namespace {
namespace fs = std::filesystem;

// Same matrix as the worked example in metrics_test.cpp:
//   true A: 4 0 1 / true B: 2 0 1 / true C: 0 0 0.
ClassificationReport example_report() {
  ConfusionMatrix m(3);
  const int rows[3][3] = {{4, 0, 1}, {2, 0, 1}, {0, 0, 0}};
  for (int t = 0; t < 3; ++t)
    for (int p = 0; p < 3; ++p)
      for (int k = 0; k < rows[t][p]; ++k) m.add(t, p);
  return classification_report(m, {"A", "B, with comma", "C"});
}

class ReportWriterTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() /
           ("hemapath_report_" + std::string(::testing::UnitTest::GetInstance()->current_test_info()->name()));
    fs::remove_all(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }
  fs::path dir_;
};

TEST_F(ReportWriterTest, WritesFourFilesThatReadBack) {
  const fs::path out = dir_ / "eval";
  write_classification_report(out.string(), example_report(), {{"model", "resnet18"}, {"split", "test"}});

  std::vector<std::string> names;
  for (const auto& e : fs::directory_iterator(out)) names.push_back(e.path().filename().string());
  std::sort(names.begin(), names.end());
  EXPECT_EQ(names, (std::vector<std::string>{"confusion.csv", "confusion.png", "per_class.csv", "report.json"}));

  std::ifstream in(out / "report.json");
  auto j = nlohmann::json::parse(in);
  EXPECT_EQ(j.at("model"), "resnet18");
  EXPECT_EQ(j.at("split"), "test");
  EXPECT_DOUBLE_EQ(j.at("accuracy").get<double>(), 0.5);
  EXPECT_EQ(j.at("confusion_matrix"), nlohmann::json::parse("[[4,0,1],[2,0,1],[0,0,0]]"));

  auto cm = read_csv((out / "confusion.csv").string());
  ASSERT_EQ(cm.size(), 4u);
  EXPECT_EQ(cm[0], (CsvRow{"truth\\predicted", "A", "B, with comma", "C"}));
  EXPECT_EQ(cm[1], (CsvRow{"A", "4", "0", "1"}));
  EXPECT_EQ(cm[2], (CsvRow{"B, with comma", "2", "0", "1"}));
  EXPECT_EQ(cm[3], (CsvRow{"C", "0", "0", "0"}));

  auto pc = read_csv((out / "per_class.csv").string());
  ASSERT_EQ(pc.size(), 6u);
  EXPECT_EQ(pc[0], (CsvRow{"class", "precision", "recall", "f1", "support"}));
  auto num = [&](size_t r, size_t c) { return std::stod(pc[r][c]); };
  EXPECT_EQ(pc[1][0], "A");
  EXPECT_NEAR(num(1, 1), 2.0 / 3.0, 1e-6);
  EXPECT_NEAR(num(1, 2), 0.8, 1e-6);
  EXPECT_NEAR(num(1, 3), 8.0 / 11.0, 1e-6);
  EXPECT_EQ(pc[1][4], "5");
  EXPECT_EQ(pc[2][0], "B, with comma");
  EXPECT_EQ(pc[2][4], "3");
  EXPECT_EQ(pc[3][4], "0");
  EXPECT_EQ(pc[4][0], "macro avg");
  EXPECT_NEAR(num(4, 1), 2.0 / 9.0, 1e-6);
  EXPECT_NEAR(num(4, 2), 4.0 / 15.0, 1e-6);
  EXPECT_NEAR(num(4, 3), 8.0 / 33.0, 1e-6);
  EXPECT_EQ(pc[4][4], "8");
  EXPECT_EQ(pc[5][0], "weighted avg");
  EXPECT_NEAR(num(5, 1), 5.0 / 12.0, 1e-6);
  EXPECT_NEAR(num(5, 2), 0.5, 1e-6);
  EXPECT_NEAR(num(5, 3), 5.0 / 11.0, 1e-6);
  EXPECT_EQ(pc[5][4], "8");

  EXPECT_FALSE(read_image_rgb((out / "confusion.png").string()).empty());
}

TEST_F(ReportWriterTest, ExtraMustBeAnObject) {
  EXPECT_THROW(write_classification_report((dir_ / "x").string(), example_report(), nlohmann::json::array()),
               InputError);
  EXPECT_FALSE(fs::exists(dir_ / "x"));
}

}  // namespace
}  // namespace hemapath
