// `hemapath compare` as a user meets it: a tiny run with cross-validation on a slice of the
// real white-cell data (table with accuracy columns, plot, per-architecture folds, --resume),
// and bad input giving exit code 2, a message naming the option and no output.
#include <gtest/gtest.h>

#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "hemapath/io/csv.h"
#include "test_support.h"

namespace hemapath {
namespace {

namespace fs = std::filesystem;

using test::contains;

using test::read_text;

// Four images per class, 32 px crops; the compact network at a quarter width (its `extra`
// applies to it only: mobilenet_v3_small gets its defaults).
std::string tiny_config(const test::ScratchDir& dir) {
  const std::string csv = test::write_wbc_slice(dir.path(), 4);
  const std::string config =
      "seed: 5\n"
      "data:\n"
      "  labels: " +
      csv +
      "\n"
      "  masks: " +
      (test::shared_data() / "wbc-bccd" / "masks").string() +
      "\n"
      "  classes: [NEUTROPHIL, EOSINOPHIL, LYMPHOCYTE, MONOCYTE]\n"
      "  split: {train: 0.5, val: 0.25, test: 0.25, seed: 3}\n"
      "  crop: {size: 96, margin: 0.1}\n"
      "  workers: 2\n"
      "model: {arch: separable_cnn, extra: {width: 0.25}}\n"
      "normalization: {mode: standardize}\n"
      "augment: {hflip: true}\n"
      "train: {epochs: 30, batch_size: 4, optimizer: {name: adam, lr: 0.003}}\n";
  const std::string path = dir / "config.yaml";
  test::write_file(path, config);
  return path;
}

TEST(CompareCli, CrossValidatedRunWritesTableWithAccuracyAndPlotAndResumes) {
  test::ScratchDir dir;
  const std::string config = tiny_config(dir);
  const fs::path out = dir.path() / "compare";
  // --size 32 replaces the config's crop size, --epochs its 30 epochs.
  const std::string args = "compare --archs separable_cnn,mobilenet_v3_small --size 32 --config '" + config +
                           "' --cv kfold:2 --epochs 2 --latency-runs 2 --throughput-runs 1 --threads 1 --out '" +
                           out.string() + "'";
  test::CommandResult r = test::run_cli(args);
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_TRUE(contains(
      r.output, "| arch | params (M) | GFLOPs | latency b1 (ms) | throughput b32 (img/s) | accuracy | macro-F1 |"))
      << r.output;
  EXPECT_TRUE(contains(r.output, "| separable_cnn |")) << r.output;
  EXPECT_TRUE(contains(r.output, "| mobilenet_v3_small |")) << r.output;
  EXPECT_TRUE(contains(r.output, "kfold:2")) << r.output;
  EXPECT_TRUE(fs::is_regular_file(out / "accuracy_vs_latency.png"));
  for (const char* name : {"comparison.md", "comparison.csv", "comparison.json"})
    EXPECT_TRUE(fs::is_regular_file(out / name)) << name;
  for (const char* arch : {"separable_cnn", "mobilenet_v3_small"}) {
    EXPECT_TRUE(fs::is_regular_file(out / "cv" / arch / "summary.json")) << arch;
    EXPECT_TRUE(fs::is_directory(out / "cv" / arch / "fold_1_2")) << arch;
    EXPECT_FALSE(fs::exists(out / "cv" / arch / "fold_1_3")) << arch;
  }

  const auto csv = read_csv((out / "comparison.csv").string());
  ASSERT_EQ(csv.size(), 3u);
  ASSERT_EQ(csv[0][6], "accuracy_mean");
  for (size_t i = 1; i < 3; ++i) {
    const double accuracy = std::stod(csv[i][6]), macro_f1 = std::stod(csv[i][8]);
    EXPECT_GE(accuracy, 0.0);
    EXPECT_LE(accuracy, 1.0);
    EXPECT_GE(macro_f1, 0.0);
    EXPECT_LE(macro_f1, 1.0);
    EXPECT_EQ(csv[i][10], "2");  // folds
    // The figures are the architecture's own cross-validation summary.
    const nlohmann::json summary =
        nlohmann::json::parse(read_text(out / "cv" / csv[i][0] / "summary.json")).at("summary");
    EXPECT_NEAR(accuracy, summary.at("accuracy").at("mean").get<double>(), 1e-5) << csv[i][0];
    EXPECT_NEAR(macro_f1, summary.at("macro_f1").at("mean").get<double>(), 1e-5) << csv[i][0];
    EXPECT_EQ(nlohmann::json::parse(read_text(out / "cv" / csv[i][0] / "summary.json")).at("arch"), csv[i][0]);
  }
  // The quarter-width compact network is smaller than its default 0.39 M: the config's
  // `extra` reached it.
  EXPECT_LT(std::stod(csv[1][1]), 0.2e6) << csv[1][1];

  // Without --resume the finished folds are not overwritten ...
  r = test::run_cli(args);
  EXPECT_EQ(r.exit_code, 2) << r.output;
  EXPECT_TRUE(contains(r.output, "--resume")) << r.output;
  // ... with it they are reused: the same cross-validated figures.
  r = test::run_cli(args + " --resume");
  ASSERT_EQ(r.exit_code, 0) << r.output;
  const auto again = read_csv((out / "comparison.csv").string());
  ASSERT_EQ(again.size(), 3u);
  for (size_t i = 1; i < 3; ++i)
    for (size_t c : {6, 7, 8, 9}) EXPECT_EQ(again[i][c], csv[i][c]) << again[i][0] << " column " << csv[0][c];
}

TEST(CompareCli, BadInputExitsTwoNamingTheOptionAndWritesNothing) {
  test::ScratchDir dir;
  const std::string config = tiny_config(dir);
  const fs::path out = dir.path() / "compare";
  const std::string out_flag = " --out '" + out.string() + "'";
  auto expect_usage_error = [&](const std::string& args, const std::vector<std::string>& needles) {
    const test::CommandResult r = test::run_cli(args + out_flag);
    EXPECT_EQ(r.exit_code, 2) << args << "\n" << r.output;
    for (const auto& needle : needles) EXPECT_TRUE(contains(r.output, needle)) << args << "\n" << r.output;
    EXPECT_FALSE(fs::exists(out)) << args;
  };
  expect_usage_error("compare --archs resnet18,resnet19 --size 64", {"--archs", "resnet19", "mobilenet_v3_small"});
  expect_usage_error("compare --archs resnet18 --size 0", {"--size"});
  expect_usage_error("compare --archs resnet18 --size 64 --config '" + config + "' --cv kfold:1", {"--cv", "kfold:1"});
  expect_usage_error("compare --archs resnet18 --size 64 --config '" + config + "' --cv 3fold", {"--cv", "3fold"});
  expect_usage_error("compare --archs resnet18 --size 64 --epochs 2", {"--epochs", "--config"});
  expect_usage_error("compare --size 64", {"--archs"});
}

}  // namespace
}  // namespace hemapath
