// Model comparison without training (cost columns, files, checks before any work) and the
// table and plot of a result with cross-validation figures. The end-to-end run with
// cross-validation is in tests/apps/compare_cli_test.cpp.
#include "hemapath/train/model_comparison.h"

#include <gtest/gtest.h>

#include <cmath>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "hemapath/core/error.h"
#include "hemapath/io/csv.h"
#include "hemapath/models/classifier.h"
#include "hemapath/models/complexity.h"
#include "hemapath/models/registry.h"
#include "test_support.h"

namespace hemapath {
namespace {

namespace fs = std::filesystem;

using test::contains;

using test::read_text;

ComparisonOptions quick_options(const std::string& out_dir) {
  ComparisonOptions options;
  options.archs = {"separable_cnn", "mobilenet_v3_small"};
  options.size = 64;
  options.warmup_runs = 1;
  options.latency_runs = 3;
  options.throughput_batch = 4;
  options.throughput_runs = 1;
  options.out_dir = out_dir;
  return options;
}

TEST(ModelComparison, CostColumnsMatchTheCountersAndFilesAreWritten) {
  test::ScratchDir dir;
  const fs::path out = dir.path() / "compare";
  const ComparisonResult result = compare_models(quick_options(out.string()));

  ASSERT_EQ(result.rows.size(), 2u);
  EXPECT_FALSE(result.has_cv());
  EXPECT_EQ(result.size, 64);
  EXPECT_GE(result.threads, 1);
  EXPECT_EQ(result.device, "cpu");
  for (size_t i = 0; i < 2; ++i) {
    const ComparisonRow& row = result.rows[i];
    // Rows in the order asked for, figures as an independent count of a fresh model gives.
    EXPECT_EQ(row.arch, quick_options("").archs[i]);
    ClassifierOptions options;
    options.num_classes = 4;
    auto model = create_classifier(row.arch, options);
    EXPECT_EQ(row.parameters, count_parameters(*model)) << row.arch;
    EXPECT_DOUBLE_EQ(row.gflops, count_forward_flops(*model, 64, 64).gflops()) << row.arch;
    EXPECT_GT(row.gflops, 0);
    EXPECT_GT(row.latency_ms, 0);
    EXPECT_LE(row.latency_min_ms, row.latency_ms);
    EXPECT_GT(row.throughput, 0);
    EXPECT_FALSE(row.has_cv());
    EXPECT_TRUE(std::isnan(row.accuracy_mean));
  }
  // mobilenet_v3_small has ~4x the parameters of the compact network at default width.
  EXPECT_GT(result.rows[1].parameters, 3 * result.rows[0].parameters);

  for (const char* name : {"comparison.md", "comparison.csv", "comparison.json", "gflops_vs_latency.png"})
    EXPECT_TRUE(fs::is_regular_file(out / name)) << name;
  EXPECT_FALSE(fs::exists(out / "accuracy_vs_latency.png"));
  EXPECT_FALSE(fs::exists(out / "cv"));

  const std::string md = read_text(out / "comparison.md");
  EXPECT_EQ(md, comparison_markdown(result));
  // Parameters in millions, 3 significant digits: 0.39 M at 4 classes.
  EXPECT_TRUE(contains(md, "| separable_cnn | " + format_number(result.rows[0].parameters / 1e6, 3) + " |")) << md;
  EXPECT_NEAR(result.rows[0].parameters / 1e6, 0.39, 0.005);
  EXPECT_TRUE(contains(md, "| mobilenet_v3_small |")) << md;
  EXPECT_FALSE(contains(md, "accuracy")) << md;

  const auto csv = read_csv((out / "comparison.csv").string());
  ASSERT_EQ(csv.size(), 3u);
  EXPECT_EQ(csv[0][0], "arch");
  EXPECT_EQ(csv[0][6], "accuracy_mean");
  EXPECT_EQ(csv[2][0], "mobilenet_v3_small");
  EXPECT_EQ(csv[2][1], std::to_string(result.rows[1].parameters));
  EXPECT_EQ(csv[2][6], "");  // no cross-validation

  const nlohmann::json json = nlohmann::json::parse(read_text(out / "comparison.json"));
  EXPECT_EQ(json.at("input_size"), 64);
  EXPECT_TRUE(json.at("cv_scheme").is_null());
  ASSERT_EQ(json.at("rows").size(), 2u);
  EXPECT_EQ(json.at("rows")[0].at("arch"), "separable_cnn");
  EXPECT_TRUE(json.at("rows")[0].at("accuracy_mean").is_null());
  EXPECT_DOUBLE_EQ(json.at("rows")[1].at("gflops").get<double>(), result.rows[1].gflops);
}

TEST(ModelComparison, BadRequestsFailBeforeAnyWorkWithNothingWritten) {
  test::ScratchDir dir;
  const fs::path out = dir.path() / "compare";
  auto expect_error = [&](const ComparisonOptions& options, const std::vector<std::string>& needles) {
    try {
      compare_models(options);
      ADD_FAILURE() << "expected InputError for " << needles.front();
    } catch (const InputError& e) {
      for (const auto& needle : needles) EXPECT_TRUE(contains(e.what(), needle)) << e.what();
    }
    EXPECT_FALSE(fs::exists(out)) << needles.front();
  };

  ComparisonOptions options = quick_options(out.string());
  options.archs = {"separable_cnn", "resnet19"};
  // The registry's message: the name, and the valid ones.
  expect_error(options, {"--archs", "resnet19", "resnet18", "mobilenet_v3_small", "inception_resnet_v2"});
  options.archs = {"resnet18", "resnet18"};
  expect_error(options, {"--archs", "resnet18", "twice"});
  options.archs = {};
  expect_error(options, {"--archs"});

  options = quick_options(out.string());
  options.size = 4;
  expect_error(options, {"--size 4"});
  options = quick_options(out.string());
  options.latency_runs = 0;
  expect_error(options, {"--latency-runs"});
  // A network that cannot take the size, found before anything is timed or trained.
  options = quick_options(out.string());
  options.archs = {"separable_cnn", "inception_resnet_v2"};
  expect_error(options, {"--size 64", "inception_resnet_v2"});

  // Cross-validation: weights of one architecture cannot start every architecture ...
  options = quick_options(out.string());
  options.config.emplace();
  options.config->pretrained = "resnet18_imagenet.pt";
  expect_error(options, {"model.pretrained", "resnet18_imagenet.pt"});
  // ... and folds already in the folder need --resume.
  options.config->pretrained.clear();
  fs::create_directories(out / "cv" / "mobilenet_v3_small" / "fold_1_1");
  try {
    compare_models(options);
    ADD_FAILURE() << "expected InputError for an existing cross-validation";
  } catch (const InputError& e) {
    EXPECT_TRUE(contains(e.what(), "--resume")) << e.what();
    EXPECT_TRUE(contains(e.what(), "mobilenet_v3_small")) << e.what();
  }
  EXPECT_FALSE(fs::exists(out / "comparison.md"));
}

// The columns and plot a result with cross-validation figures gets (the figures here are
// made up; compare_cli_test runs a real cross-validation).
TEST(ModelComparison, CrossValidatedResultGetsAccuracyColumnsAndPlot) {
  ComparisonResult result;
  result.size = 96;
  result.threads = 2;
  result.device = "cpu";
  result.latency_runs = 5;
  result.throughput_batch = 32;
  result.throughput_runs = 2;
  result.cv_scheme = "kfold:3";
  for (const auto& [arch, acc] : {std::pair<std::string, double>{"resnet18", 0.8512}, {"vgg16", 0.9034}}) {
    ComparisonRow row;
    row.arch = arch;
    row.parameters = 11178564;
    row.gflops = 0.6;
    row.latency_ms = arch == "vgg16" ? 40 : 10;
    row.latency_min_ms = row.latency_ms - 1;
    row.throughput = 150;
    row.accuracy_mean = acc;
    row.accuracy_std = 0.021;
    row.macro_f1_mean = acc - 0.1;
    row.macro_f1_std = 0.05;
    row.folds = 3;
    result.rows.push_back(row);
  }
  const std::string md = comparison_markdown(result);
  EXPECT_TRUE(contains(md, "| accuracy | macro-F1 |")) << md;
  EXPECT_TRUE(contains(md, "| resnet18 | 11.2 | 0.6 | 10.00 | 150.0 | 0.8512 +- 0.021 | 0.7512 +- 0.050 |")) << md;
  EXPECT_TRUE(contains(md, "kfold:3")) << md;

  test::ScratchDir dir;
  write_comparison(result, dir.path().string());
  EXPECT_TRUE(fs::is_regular_file(dir.path() / "accuracy_vs_latency.png"));
  EXPECT_FALSE(fs::exists(dir.path() / "gflops_vs_latency.png"));
  const auto csv = read_csv(dir / "comparison.csv");
  ASSERT_EQ(csv.size(), 3u);
  EXPECT_EQ(csv[2][0], "vgg16");
  EXPECT_EQ(csv[2][6], "0.9034");
  EXPECT_EQ(csv[2][10], "3");
  const nlohmann::json json = nlohmann::json::parse(read_text(dir.path() / "comparison.json"));
  EXPECT_EQ(json.at("cv_scheme"), "kfold:3");
  EXPECT_DOUBLE_EQ(json.at("rows")[0].at("macro_f1_std").get<double>(), 0.05);
}

}  // namespace
}  // namespace hemapath
