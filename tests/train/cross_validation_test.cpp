// Cross-validation end to end on a slice of the real white-cell data: every image is tested
// exactly once per replication, groups stay on one side, summaries agree with the folds,
// --resume reuses finished folds, and the 5x2 comparison pairs the right folds.
#include <gtest/gtest.h>

#include <fstream>
#include <map>
#include <regex>
#include <set>

#include "hemapath/core/error.h"
#include "hemapath/io/csv.h"
#include "hemapath/models/model_file.h"
#include "hemapath/train/cross_validation.h"
#include "hemapath/train/eval_set.h"
#include "test_support.h"

namespace hemapath {
namespace {

const char* kTrainBlock = "{epochs: 1, batch_size: 8, optimizer: {name: adam, lr: 0.003}, schedule: {name: constant}}";

// image -> part ("train", "val", "test") from a fold's split.csv.
std::map<std::string, std::string> parts_of(const std::filesystem::path& fold_dir) {
  std::map<std::string, std::string> parts;
  const auto rows = read_csv((fold_dir / "split.csv").string());
  for (size_t r = 1; r < rows.size(); ++r) parts[rows[r][0]] = rows[r][2];
  return parts;
}

// A 2-fold cross-validation of 16 images, one quick epoch per fold, into dir/cv.
TrainConfig tiny_config(const test::ScratchDir& dir) {
  return TrainConfig::load(test::write_tiny_wbc_config(dir.path(), 4, kTrainBlock, "{enabled: false}"));
}
CvOptions two_folds(const test::ScratchDir& dir) {
  CvOptions options;
  options.folds = 2;
  options.out_dir = dir / "cv";
  return options;
}

TEST(CrossValidation, KFoldTestsEveryImageOnceAndSummarisesTheFolds) {
  test::ScratchDir dir;
  const TrainConfig config = tiny_config(dir);
  CvOptions options = two_folds(dir);
  const CvResult result = run_cross_validation(config, options);
  ASSERT_EQ(result.folds.size(), 2u);
  std::map<std::string, int> tested;
  for (const char* fold : {"fold_1_1", "fold_1_2"}) {
    for (const auto& [image, part] : parts_of(dir.path() / "cv" / fold)) tested[image] += part == "test";
  }
  EXPECT_EQ(tested.size(), 16u);
  for (const auto& [image, count] : tested) EXPECT_EQ(count, 1) << image;
  for (const auto& f : result.folds) {
    EXPECT_EQ(f.test_size, 8u);
    EXPECT_EQ(f.train_size + f.val_size, 8u);
    EXPECT_GT(f.val_size, 0u);  // the config's validation share, carved from the training part
  }
  const MetricSummary& accuracy = result.summary.at("accuracy");
  EXPECT_NEAR(accuracy.mean, (result.folds[0].metrics.at("accuracy") + result.folds[1].metrics.at("accuracy")) / 2,
              1e-12);
  for (const char* file : {"folds.csv", "summary.json", "summary.md"})
    EXPECT_TRUE(std::filesystem::exists(dir.path() / "cv" / file)) << file;
  EXPECT_NE(cv_markdown(result).find("| mean +- std |"), std::string::npos);

  // A fold model's parts are not its config's split: eval --split from the stored config is refused.
  const std::string fold_file_path = (dir.path() / "cv" / "fold_1_2" / "best.hpm").string();
  const ClassifierHeader fold_model = ClassifierHeader::from_json(read_model_header(fold_file_path), fold_file_path);
  EXPECT_EQ(fold_model.training.at("split_origin"), "cross-validation fold 1.2");
  EvalSetRequest request;
  request.split = "test";
  const std::string fold_error = test::error_of<InputError>([&] { resolve_eval_set(fold_model, request); });
  EXPECT_TRUE(test::contains(fold_error, "cross-validation fold 1.2")) << fold_error;
  request.split = "all";
  EXPECT_EQ(resolve_eval_set(fold_model, request).indices.size(), 16u);

  // A second run into the same folder is refused; --resume reuses the finished folds as they are.
  EXPECT_THROW(run_cross_validation(config, options), InputError);
  const auto fold_file = dir.path() / "cv" / "fold_1_2" / "fold.json";
  std::ifstream in(fold_file);
  nlohmann::json fold = nlohmann::json::parse(in);
  fold["metrics"]["accuracy"] = 0.123;  // a marker only a reused fold can carry
  test::write_file(fold_file.string(), fold.dump());
  options.resume = true;
  const CvResult resumed = run_cross_validation(config, options);
  EXPECT_DOUBLE_EQ(resumed.folds[1].metrics.at("accuracy"), 0.123);
  EXPECT_DOUBLE_EQ(resumed.folds[0].metrics.at("accuracy"), result.folds[0].metrics.at("accuracy"));
  // Folds made with another config are not reused.
  TrainConfig other = config;
  other.epochs = 2;
  const std::string error = test::error_of<InputError>([&] { run_cross_validation(other, options); });
  EXPECT_TRUE(test::contains(error, "settings differ")) << error;
}

TEST(CrossValidation, RefusesATrainSubsetItWouldIgnore) {
  test::ScratchDir dir;
  TrainConfig config = tiny_config(dir);
  config.split.train_subset = 0.5;
  EXPECT_THROW(run_cross_validation(config, two_folds(dir)), ConfigError);
  EXPECT_FALSE(std::filesystem::exists(dir.path() / "cv"));
}

TEST(CrossValidation, GroupsNeverSitOnBothSides) {
  test::ScratchDir dir;
  const TrainConfig config = tiny_config(dir);
  CvOptions options = two_folds(dir);
  // BloodImage_00012.jpg -> group "0001": ten consecutive smears per group.
  const std::string pattern = "BloodImage_(\\d{4})";
  options.group_by = pattern;
  run_cross_validation(config, options);
  std::map<std::string, std::set<std::string>> sides;  // group -> fold dirs where it was tested
  const std::regex re(pattern);
  size_t images = 0;
  for (const char* fold : {"fold_1_1", "fold_1_2"}) {
    std::map<std::string, std::set<std::string>> parts;  // group -> parts it has images in
    for (const auto& [image, part] : parts_of(dir.path() / "cv" / fold)) {
      std::smatch m;
      ASSERT_TRUE(std::regex_search(image, m, re)) << image;
      if (part == "test") sides[m[1]].insert(fold), ++images;
      parts[m[1]].insert(part);
    }
    // The validation share that picks the best epoch keeps the groups whole too.
    size_t val_groups = 0;
    for (const auto& [group, in] : parts) {
      EXPECT_EQ(in.size(), 1u) << fold << ": group " << group << " in several parts";
      val_groups += in.count("val");
    }
    EXPECT_GE(val_groups, 1u) << fold;
  }
  EXPECT_EQ(images, 16u);
  EXPECT_GE(sides.size(), 2u);
  for (const auto& [group, folds] : sides) EXPECT_EQ(folds.size(), 1u) << group;

  options.out_dir = dir / "cv_bad";
  options.group_by = "column:patient";
  const std::string error = test::error_of<InputError>([&] { run_cross_validation(config, options); });
  EXPECT_TRUE(test::contains(error, "no column 'patient'")) << error;
  EXPECT_FALSE(std::filesystem::exists(dir.path() / "cv_bad"));
}

CvResult five_by_two(double base, double step) {
  CvResult r;
  r.scheme = "5x2";
  for (int rep = 0; rep < 5; ++rep)
    for (int fold = 0; fold < 2; ++fold) {
      FoldResult f;
      f.replication = rep;
      f.fold = fold;
      f.test_size = 10;
      f.metrics["accuracy"] = base + step * (rep + 2 * fold);
      r.folds.push_back(f);
    }
  return r;
}

TEST(CrossValidation, FiveByTwoComparisonPairsTheFoldsAsAMinusB) {
  const CvResult a = five_by_two(0.8, 0.01), b = five_by_two(0.7, 0.005);
  const std::vector<TestResult> tests = compare_five_by_two(a, b, "accuracy");
  ASSERT_EQ(tests.size(), 2u);
  // Differences: rep r fold 0 -> 0.1 + 0.005 r, fold 1 -> 0.11 + 0.005 r; each replication's
  // variance is 2 * 0.005^2 = 5e-5, so t = 0.1 / sqrt(5e-5) = 14.142 (A better: positive).
  EXPECT_NEAR(tests[0].statistic, 0.1 / std::sqrt(5e-5), 1e-6);
  EXPECT_LT(tests[0].p_value, 0.001);
  EXPECT_NEAR(compare_five_by_two(b, a, "accuracy")[0].statistic, -tests[0].statistic, 1e-9);

  CvResult other = b;
  other.folds[3].test_size = 11;
  EXPECT_THROW(compare_five_by_two(a, other, "accuracy"), InputError);
  CvResult kfold = b;
  kfold.scheme = "kfold";
  EXPECT_THROW(compare_five_by_two(a, kfold, "accuracy"), InputError);
}

}  // namespace
}  // namespace hemapath
