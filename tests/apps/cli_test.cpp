// The command line as a user meets it: help, info, predict, and every kind of bad input
// giving a clear message, exit code 2 and no output file.
#include <gtest/gtest.h>

#include <regex>

#include "hemapath/io/csv.h"
#include "hemapath/models/classifier.h"
#include "hemapath/models/model_file.h"
#include "hemapath/models/registry.h"
#include "test_support.h"

namespace hemapath {
namespace {

namespace fs = std::filesystem;

class Cli : public ::testing::Test {
 protected:
  void SetUp() override {
    ClassifierHeader h;
    h.arch = "separable_cnn";
    h.options.num_classes = 4;
    h.options.extra = {{"width", 0.25}};
    h.classes = {"NEUTROPHIL", "EOSINOPHIL", "LYMPHOCYTE", "MONOCYTE"};
    h.crop.size = 32;
    torch::manual_seed(1);
    model_ = dir_ / "wbc.hpm";
    save_model_file(model_, h.to_json(), *create_classifier(h.arch, h.options));
  }
  ClassifierHeader read_classifier_header() const {
    return ClassifierHeader::from_json(read_model_header(model_), model_);
  }
  std::string images() const { return (test::shared_data() / "wbc-bccd" / "images").string(); }
  std::string masks() const { return (test::shared_data() / "wbc-bccd" / "masks").string(); }
  std::string image(int n) const {
    char name[64];
    std::snprintf(name, sizeof name, "BloodImage_%05d.jpg", n);
    return images() + "/" + name;
  }
  void expect_usage_error(const std::string& args, const std::string& needle) {
    test::CommandResult r = test::run_cli(args);
    EXPECT_EQ(r.exit_code, 2) << args << "\n" << r.output;
    EXPECT_NE(r.output.find(needle), std::string::npos) << args << "\n" << r.output;
  }

  test::ScratchDir dir_;
  std::string model_;
};

TEST_F(Cli, HelpListsEverySubcommand) {
  test::CommandResult r = test::run_cli("--help");
  EXPECT_EQ(r.exit_code, 0);
  for (const char* s : {"train", "eval", "predict", "info", "--verbose", "--quiet"})
    EXPECT_NE(r.output.find(s), std::string::npos) << s;
  r = test::run_cli("train --help");
  for (const char* s : {"--config", "--resume", "--seed", "--threads", "--device", "--set"})
    EXPECT_NE(r.output.find(s), std::string::npos) << s;
  EXPECT_EQ(test::run_cli("").exit_code, 2);
  EXPECT_EQ(test::run_cli("frobnicate").exit_code, 2);
}

TEST_F(Cli, PredictWritesOneRowPerImageWithProbabilities) {
  const std::string out = dir_ / "out/pred.csv";
  test::CommandResult r =
      test::run_cli("predict --model " + model_ + " " + image(0) + " " + image(1) + " --masks " + masks() +
                    " --out " + out + " --threads 1");
  ASSERT_EQ(r.exit_code, 0) << r.output;
  auto rows = read_csv(out);
  ASSERT_EQ(rows.size(), 3u);
  EXPECT_EQ(rows[0], (CsvRow{"image", "mask", "predicted", "probability", "p_NEUTROPHIL", "p_EOSINOPHIL",
                             "p_LYMPHOCYTE", "p_MONOCYTE"}));
  double sum = 0;
  for (int c = 4; c < 8; ++c) sum += std::stod(rows[1][c]);
  EXPECT_NEAR(sum, 1.0, 1e-3);
  EXPECT_NE(r.output.find("images/s"), std::string::npos);
}

// --plan auto times the layouts once per network, input shape and machine: the next run reads
// its choice from $HEMAPATH_CACHE_DIR.
TEST_F(Cli, AutoPlanIsRememberedBetweenRuns) {
  std::string inputs;
  for (int i = 0; i < 12; ++i) inputs += " " + image(i);  // one batch each: enough to decide
  const std::string cache = dir_ / "cache";
  const std::string command = "HEMAPATH_CACHE_DIR=" + cache + " " + HEMAPATH_CLI + " -v predict --model " + model_ +
                              inputs + " --masks " + masks() + " --batch-size 1 --threads 1 --plan auto --out ";
  const std::regex timed(
      R"(inference plan (mkldnn|channels_last) on input \[1, 3, 32, 32\] \(channels_last [0-9.]+ s, mkldnn [0-9.]+ s\))");
  test::CommandResult first = test::run_shell(command + (dir_ / "first.csv"));
  ASSERT_EQ(first.exit_code, 0) << first.output;
  EXPECT_TRUE(std::regex_search(first.output, timed)) << first.output;
  EXPECT_FALSE(test::contains(first.output, "remembered")) << first.output;
  ASSERT_TRUE(fs::exists(cache + "/inference-plans.json"));
  test::CommandResult second = test::run_shell(command + (dir_ / "second.csv"));
  ASSERT_EQ(second.exit_code, 0) << second.output;
  EXPECT_TRUE(test::contains(second.output, "remembered in " + cache)) << second.output;
  EXPECT_FALSE(std::regex_search(second.output, timed)) << second.output;  // no trial
}

TEST_F(Cli, BadInputsAreNamedWithExitCodeTwoAndNoOutput) {
  const std::string out = dir_ / "pred.csv";
  expect_usage_error("predict --model " + model_ + " " + dir_ / "nope.jpg" + " --out " + out, "nope.jpg");
  test::write_file(dir_ / "corrupt.jpg", "this is not a jpeg");
  expect_usage_error("predict --model " + model_ + " " + dir_ / "corrupt.jpg" + " --out " + out, "corrupt.jpg");
  EXPECT_FALSE(fs::exists(out));

  const std::string bytes = [&] {
    std::ifstream in(model_, std::ios::binary);
    return std::string(std::istreambuf_iterator<char>(in), {});
  }();
  test::write_file(dir_ / "cut.hpm", bytes.substr(0, bytes.size() - 10));
  expect_usage_error("predict --model " + dir_ / "cut.hpm" + " " + image(0) + " --out " + out, "truncated");
  nlohmann::json other_task = read_model_header(model_);
  other_task["task"] = "autoencoder";
  {
    torch::manual_seed(1);
    ClassifierOptions o;
    o.num_classes = 4;
    o.extra = {{"width", 0.25}};
    save_model_file(dir_ / "other_task.hpm", other_task, *create_classifier("separable_cnn", o));
  }
  expect_usage_error("predict --model " + dir_ / "other_task.hpm" + " " + image(0) + " --out " + out, "task 'autoencoder': expected a classification model");
  EXPECT_FALSE(fs::exists(out));

  // Configs: unreadable, malformed, a misspelt key, a bad value, an unknown class, an empty set.
  expect_usage_error("train --config " + dir_ / "missing.yaml", "missing.yaml");
  test::write_file(dir_ / "broken.yaml", "data: [unclosed\n");
  expect_usage_error("train --config " + dir_ / "broken.yaml" + " --out " + dir_ / "run", "not valid YAML");
  const std::string data_block = "data: {labels: " + (test::shared_data() / "wbc-bccd/labels.csv").string() +
                                 ", images: " + images() + ", masks: " + masks();
  test::write_file(dir_ / "typo.yaml", data_block + "}\nmodel: {arch: separable_cnn}\ntrain: {epochz: 3}\n");
  expect_usage_error("train --config " + dir_ / "typo.yaml" + " --out " + dir_ / "run", "'train.epochz'");
  test::write_file(dir_ / "badlr.yaml", data_block + "}\nmodel: {arch: separable_cnn}\ntrain: {optimizer: {lr: -1}}\n");
  expect_usage_error("train --config " + dir_ / "badlr.yaml" + " --out " + dir_ / "run", "'train.optimizer.lr'");
  test::write_file(dir_ / "arch.yaml", data_block + "}\nmodel: {arch: resnet19}\n");
  expect_usage_error("train --config " + dir_ / "arch.yaml" + " --out " + dir_ / "run", "resnet19");
  test::write_file(dir_ / "class.yaml", data_block + ", classes: [NEUTROPHIL, MYELOCYTE]}\nmodel: {arch: separable_cnn}\n");
  expect_usage_error("train --config " + dir_ / "class.yaml" + " --out " + dir_ / "run", "MYELOCYTE");
  test::write_file(dir_ / "empty.csv", "image,label\n");
  test::write_file(dir_ / "empty.yaml", "data: {labels: " + dir_ / "empty.csv" + "}\nmodel: {arch: separable_cnn}\n");
  expect_usage_error("train --config " + dir_ / "empty.yaml" + " --out " + dir_ / "run", "no usable images");
  test::write_file(dir_ / "withcorrupt.csv", "image,label\n" + image(0) + ",NEUTROPHIL\n" + image(1) +
                                                  ",EOSINOPHIL\n" + dir_ / "corrupt.jpg" + ",EOSINOPHIL\n");
  test::write_file(dir_ / "corrupt.yaml", "data: {labels: " + dir_ / "withcorrupt.csv" +
                                               "}\nmodel: {arch: separable_cnn}\ntrain: {epochs: 1}\n");
  expect_usage_error("train --config " + dir_ / "corrupt.yaml" + " --out " + dir_ / "run", "corrupt.jpg");
  EXPECT_FALSE(fs::exists(dir_ / "run"));

  // Evaluating on data with a class the model does not know.
  test::write_file(dir_ / "evaldata/labels.csv", "image,label\n" + image(0) + ",BLAST\n");
  expect_usage_error("eval --model " + model_ + " --data " + dir_ / "evaldata", "BLAST");
  expect_usage_error("predict --model " + model_ + " " + image(0) + " --device cuda", "CUDA");
  expect_usage_error("predict --model " + model_ + " " + image(0) + " --device tpu", "tpu");
}

TEST_F(Cli, InfoDescribesModelsImagesAndSlides) {
  test::CommandResult r = test::run_cli("info " + model_ + " " + image(0) + " " +
                                        (test::shared_data() / "slides/CMU-1-Small-Region.svs").string());
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_NE(r.output.find("separable_cnn"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("640 x 480"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("aperio"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("2220 x 2967"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("0.499"), std::string::npos) << r.output;
  expect_usage_error("info " + (test::shared_data() / "slides/unopenable.tiff").string(), "unopenable.tiff");
}

// `eval --record-in` writes a copy of the model whose header holds the printed figures, the
// weights byte for byte the same (a float16 file is not re-encoded), and `info` lists them.
TEST_F(Cli, EvalRecordsItsFiguresInACopyOfTheModel) {
  torch::manual_seed(3);
  ClassifierHeader h = read_classifier_header();
  const std::string half = dir_ / "half.hpm";
  save_model_file(half, h.to_json(), *create_classifier(h.arch, h.options), WeightPrecision::float16);
  test::write_file(dir_ / "evaldata/labels.csv", "image,label\n" + image(0) + ",NEUTROPHIL\n" + image(1) +
                                                     ",LYMPHOCYTE\n" + image(2) + ",MONOCYTE\n");
  const std::string recorded = dir_ / "recorded.hpm";
  test::CommandResult r = test::run_cli("eval --model " + half + " --data " + dir_ / "evaldata" + " --out " +
                                        dir_ / "report" + " --record-in " + recorded + " --symmetries 2 --threads 1");
  ASSERT_EQ(r.exit_code, 0) << r.output;

  const nlohmann::json report = test::read_json(dir_ / "report/report.json");
  const nlohmann::json header = read_model_header(recorded);
  ASSERT_EQ(header.at("evaluations").size(), 1u);
  const nlohmann::json& e = header["evaluations"][0];
  EXPECT_EQ(e.at("images").get<int>(), 3);
  EXPECT_EQ(e.at("symmetry_views").get<int>(), 2);
  EXPECT_DOUBLE_EQ(e.at("accuracy").get<double>(), report.at("accuracy").get<double>());
  EXPECT_DOUBLE_EQ(e.at("macro_f1").get<double>(), report.at("macro_f1").get<double>());
  EXPECT_EQ(e.at("per_class_f1").size(), 4u);
  EXPECT_EQ(header.at("weights_precision"), "float16");

  LoadedClassifier before = load_classifier(half, torch::kCPU), after = load_classifier(recorded, torch::kCPU);
  auto theirs = after.model->named_parameters();
  for (const auto& p : before.model->named_parameters())
    EXPECT_TRUE(torch::equal(p.value(), theirs[p.key()])) << p.key();

  r = test::run_cli("info " + recorded);
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_TRUE(test::contains(r.output, "evaluated on")) << r.output;
  EXPECT_TRUE(test::contains(r.output, "(3 images, 2 view(s))")) << r.output;

  expect_usage_error("eval --model " + half + " --data " + dir_ / "evaldata" + " --out " + dir_ / "refused" +
                         " --record-in " + half,
                     "is the model being evaluated");
  EXPECT_FALSE(fs::exists(dir_ / "refused"));
  EXPECT_FALSE(read_model_header(half).contains("evaluations"));
}

// `ensemble` joins classifiers into one file that predict and info take as they take one.
TEST_F(Cli, EnsembleJoinsClassifiersIntoOneModelFile) {
  ClassifierHeader h = read_classifier_header();
  torch::manual_seed(2);
  const std::string second = dir_ / "wbc2.hpm";
  save_model_file(second, h.to_json(), *create_classifier(h.arch, h.options));
  const std::string ensemble = dir_ / "both.hpm";
  test::CommandResult r = test::run_cli("ensemble " + model_ + " " + second + " --out " + ensemble);
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_TRUE(test::contains(r.output, "ensemble of 2 classifiers")) << r.output;
  r = test::run_cli("info " + ensemble);
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_TRUE(test::contains(r.output, "model: ensemble")) << r.output;
  EXPECT_TRUE(test::contains(r.output, "member wbc2.hpm")) << r.output;
  const std::string out = dir_ / "pred.csv";
  r = test::run_cli("predict --model " + ensemble + " " + image(0) + " --out " + out + " --threads 1");
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_EQ(read_csv(out).size(), 2u);

  const std::string refused = dir_ / "refused.hpm";
  expect_usage_error("ensemble " + model_ + " --out " + refused, "at least two");
  const std::string segmenter = (test::source_dir() / "models/wbc_unet.hpm").string();
  expect_usage_error("ensemble " + model_ + " " + segmenter + " --out " + refused, "wbc_unet.hpm");
  EXPECT_FALSE(fs::exists(refused));
}

}  // namespace
}  // namespace hemapath
