// Prior correction of a classifier trained against class imbalance: the arithmetic, the
// choice of tau, the bias written into the network (ensembles included) and `hemapath calibrate`.
#include "hemapath/train/prior_correction.h"

#include <gtest/gtest.h>

#include <cmath>
#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>

#include "hemapath/core/error.h"
#include "hemapath/models/ensemble.h"
#include "hemapath/models/model_file.h"
#include "hemapath/models/pretrained.h"
#include "hemapath/models/registry.h"
#include "hemapath/train/eval_set.h"
#include "hemapath/train/trainer.h"
#include "test_support.h"

namespace hemapath {
namespace {

ClassifierOptions small_cnn(int classes) {
  ClassifierOptions o;
  o.num_classes = classes;
  o.extra = {{"width", 0.25}};
  return o;
}

// A fresh separable CNN in eval mode whose head is scaled up, so that its classes differ clearly.
ClassifierPtr scaled_model(uint64_t seed, int classes) {
  torch::manual_seed(seed);
  ClassifierPtr model = create_classifier("separable_cnn", small_cnn(classes));
  torch::NoGradGuard no_grad;
  for (auto& p : model->named_parameters())
    if (p.key().rfind(model->head_prefix() + ".", 0) == 0) p.value().mul_(30);
  model->eval();
  return model;
}

TEST(PriorCorrection, SharesAndCorrectedProbabilities) {
  const std::vector<std::string> names = {"normal", "burr", "teardrop"};
  const std::vector<double> prior = class_shares({0, 0, 1, 2, 0, 0, 1, 0}, names);
  EXPECT_EQ(prior, (std::vector<double>{0.625, 0.25, 0.125}));
  const std::string error = test::error_of<InputError>([&] { class_shares({0, 0, 1}, names); });
  EXPECT_TRUE(test::contains(error, "teardrop")) << error;

  const torch::Tensor p = torch::tensor({{0.2, 0.5, 0.3}, {0.6, 0.3, 0.1}});
  EXPECT_TRUE(torch::allclose(corrected_probabilities(p, prior, 0), p, 1e-6, 1e-7));
  // tau = 1: p_c * prior_c, renormalised.
  const torch::Tensor expected = p * torch::tensor(prior, torch::kFloat);
  EXPECT_TRUE(torch::allclose(corrected_probabilities(p, prior, 1), expected / expected.sum(1, true), 1e-6, 1e-7));
}

TEST(PriorCorrection, TauIsChosenByTheObjectiveWithTiesToTheSmallest) {
  // Three "normal" cells the network calls "burr" by a small margin, one real burr cell.
  PredictionResult predictions;
  predictions.probabilities = torch::tensor({{0.45, 0.55}, {0.4, 0.6}, {0.48, 0.52}, {0.1, 0.9}});
  predictions.predicted = {1, 1, 1, 1};
  predictions.labels = {0, 0, 0, 1};
  const std::vector<std::string> names = {"normal", "burr"};
  const std::vector<double> prior = {0.8, 0.2};
  const auto trials = try_prior_corrections(predictions, names, prior, {0, 0.25, 0.5, 1});
  ASSERT_EQ(trials.size(), 4u);
  EXPECT_DOUBLE_EQ(trials[0].accuracy, 0.25);
  EXPECT_NEAR(trials[0].loss, score_predictions(predictions, names).loss, 1e-6);
  EXPECT_DOUBLE_EQ(trials[2].accuracy, 1.0);  // log(0.8/0.2) / 2 = 0.69 outweighs every margin
  EXPECT_DOUBLE_EQ(trials[3].accuracy, 1.0);
  EXPECT_EQ(best_prior_correction(trials, "accuracy"), 2u) << "a tie goes to the smaller tau";
  EXPECT_LT(trials[2].loss, trials[0].loss);
  EXPECT_EQ(best_prior_correction(trials, "loss"),
            static_cast<size_t>(std::min_element(trials.begin(), trials.end(),
                                                 [](const auto& a, const auto& b) { return a.loss < b.loss; }) -
                                trials.begin()));
  EXPECT_THROW(best_prior_correction(trials, "f2"), ConfigError);
}

TEST(PriorCorrection, OutputBiasShiftsTheLogitsOfAModelAndOfAnEnsemble) {
  const std::vector<double> bias = {-0.5, 0.25, 1.0};
  const torch::Tensor shift = torch::tensor(bias, torch::kFloat);
  const torch::Tensor x = torch::rand({2, 3, 32, 32});
  torch::NoGradGuard no_grad;

  ClassifierPtr model = scaled_model(3, 3);
  const torch::Tensor before = model->forward(x).clone();
  add_output_bias(*model, bias);
  EXPECT_TRUE(torch::allclose(model->forward(x), before + shift, 1e-4, 1e-5));

  // An ensemble's output is a mean of log-probabilities: the shift holds up to a constant per row,
  // which leaves its probabilities those of (output + bias).
  auto ensemble =
      std::make_shared<EnsembleClassifierImpl>(std::vector<ClassifierPtr>{scaled_model(4, 3), scaled_model(5, 3)});
  ensemble->eval();
  const torch::Tensor mean_before = ensemble->forward(x).clone();
  add_output_bias(*ensemble, bias);
  EXPECT_TRUE(torch::allclose(torch::log_softmax(ensemble->forward(x), 1), torch::log_softmax(mean_before + shift, 1),
                              1e-4, 1e-5));

  const std::string error = test::error_of<ModelFileError>([&] { add_output_bias(*model, {1.0, 2.0}); });
  EXPECT_TRUE(test::contains(error, "2 values")) << error;
}

// A classifier model file whose stored config splits 48 crops (36 normal, 12 burr) in halves.
std::string save_crop_model(const test::ScratchDir& dir) {
  std::string csv = "image,label\n";
  for (int i = 0; i < 48; ++i) {
    const std::string name = "c" + std::to_string(i) + ".png";
    cv::Mat crop(32, 32, CV_8UC3, cv::Scalar(90 + 3 * i, 150 - 2 * i, 170));
    cv::circle(crop, {16, 16}, 6 + i % 5, cv::Scalar(40, 60 + i, 140), -1);
    cv::imwrite((dir.path() / name).string(), crop);
    csv += name + (i % 4 == 3 ? ",burr\n" : ",normal\n");
  }
  test::write_file((dir.path() / "labels.csv").string(), csv);
  const std::string config_file = (dir.path() / "config.yaml").string();
  test::write_file(config_file,
                   "task: classification\ndata:\n  labels: labels.csv\n  split: {train: 0.5, val: 0.5, test: 0}\n"
                   "  crop: {size: 32, mode: resize}\nmodel: {arch: separable_cnn, extra: {width: 0.25}}\n");
  const TrainConfig config = TrainConfig::load(config_file);
  ClassifierHeader h;
  h.arch = "separable_cnn";
  h.options = small_cnn(2);
  h.classes = load_samples(config.data).class_names;
  h.crop.size = 32;
  h.training = {{"seed", 1}, {"epoch", 1}, {"config", config.to_json()}};
  const std::string path = dir / "model.hpm";
  save_model_file(path, h.to_json(), *scaled_model(6, 2));
  return path;
}

double accuracy_on(const std::string& model_file, const EvalSetRequest& request) {
  LoadedClassifier loaded = load_classifier(model_file, torch::kCPU);
  const EvalSet val = resolve_eval_set(loaded.header, request);
  ClassificationDataset data(val.data.samples, loaded.header.inference_data_options());
  return evaluate_dataset(*loaded.model, data, val.indices, loaded.header.classes, 8, torch::kCPU, 1).report.accuracy;
}

double val_accuracy(const std::string& model_file) { return accuracy_on(model_file, {"", "", "val", {}}); }

TEST(PriorCorrection, CalibrateWritesTheChosenCorrectionIntoANewModelFile) {
  test::ScratchDir dir;
  const std::string model = save_crop_model(dir), out = dir / "calibrated.hpm";
  test::CommandResult r = test::run_cli("calibrate --model " + model + " --out " + out + " --threads 1");
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_TRUE(test::contains(r.output, "<-")) << r.output;

  const nlohmann::json c = read_model_header(out).at("calibration");
  EXPECT_EQ(c.at("class_prior"), (std::vector<double>{0.25, 0.75}));  // burr, normal among the 24 training crops
  EXPECT_EQ(c.at("trials").size(), 21u);
  double lowest_loss = 1e9;
  for (const auto& t : c.at("trials")) lowest_loss = std::min(lowest_loss, t.at("loss").get<double>());
  EXPECT_DOUBLE_EQ(c.at("after").at("loss").get<double>(), lowest_loss);
  // The figures recorded are what the two files give on the validation crops.
  EXPECT_DOUBLE_EQ(val_accuracy(model), c.at("before").at("accuracy").get<double>());
  EXPECT_DOUBLE_EQ(val_accuracy(out), c.at("after").at("accuracy").get<double>());

  r = test::run_cli("info " + out);
  EXPECT_TRUE(test::contains(r.output, "prior correction: tau")) << r.output;

  // With a given tau, the new file's probabilities are the old ones corrected by it.
  const std::string fixed = dir / "fixed.hpm";
  r = test::run_cli("calibrate --model " + model + " --out " + fixed + " --tau 0.5");
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_DOUBLE_EQ(read_model_header(fixed).at("calibration").at("tau").get<double>(), 0.5);
  LoadedClassifier a = load_classifier(model, torch::kCPU), b = load_classifier(fixed, torch::kCPU);
  const torch::Tensor x = torch::rand({3, 3, 32, 32});
  torch::NoGradGuard no_grad;
  const torch::Tensor expected = corrected_probabilities(torch::softmax(a.model->forward(x), 1), {0.25, 0.75}, 0.5);
  EXPECT_FALSE(torch::allclose(expected, torch::softmax(a.model->forward(x), 1), 1e-3, 1e-3));
  EXPECT_TRUE(torch::allclose(torch::softmax(b.model->forward(x), 1), expected, 1e-4, 1e-5));

  // Refused, exit 2, nothing written.
  const std::string refused = dir / "refused.hpm";
  for (const auto& [args, needle] : std::vector<std::pair<std::string, std::string>>{
           {"--model " + out, "already carries a prior correction"},
           {"--model " + model + " --objective f2", "--objective"},
           {"--model " + model + " --split all", "--split"},
           {"--model " + (test::source_dir() / "models/wbc_unet.hpm").string(), "not a classifier"}}) {
    r = test::run_cli("calibrate " + args + " --out " + refused);
    EXPECT_EQ(r.exit_code, 2) << args << "\n" << r.output;
    EXPECT_TRUE(test::contains(r.output, needle)) << args << "\n" << r.output;
    EXPECT_FALSE(std::filesystem::exists(refused)) << args;
  }
  r = test::run_cli("ensemble " + model + " " + out + " --out " + refused);
  EXPECT_EQ(r.exit_code, 2) << r.output;
  EXPECT_TRUE(test::contains(r.output, "carries a prior correction")) << r.output;
  EXPECT_FALSE(std::filesystem::exists(refused));
  r = test::run_cli("calibrate --model " + model + " --out " + model);
  EXPECT_EQ(r.exit_code, 2) << r.output;
  EXPECT_TRUE(test::contains(r.output, "is the input file")) << r.output;
}

// 20 crops of smears the model never saw, in `dir`/name/ with their labels.csv.
std::string write_new_crops(const test::ScratchDir& dir, const std::string& name) {
  const std::filesystem::path folder = dir.path() / name;
  std::filesystem::create_directories(folder);
  std::string csv = "image,label\n";
  for (int i = 0; i < 20; ++i) {
    cv::Mat crop(32, 32, CV_8UC3, cv::Scalar(120 - 2 * i, 140 + i, 160));
    cv::circle(crop, {15, 17}, 5 + i % 4, cv::Scalar(50 + i, 70, 130), -1);
    cv::imwrite((folder / ("n" + std::to_string(i) + ".png")).string(), crop);
    csv += "n" + std::to_string(i) + (i % 2 ? ".png,burr\n" : ".png,normal\n");
  }
  test::write_file((folder / "labels.csv").string(), csv);
  return folder.string();
}

TEST(PriorCorrection, CalibrateCanChooseTauOnAFolderOfNewImages) {
  test::ScratchDir dir;
  const std::string model = save_crop_model(dir), lab = write_new_crops(dir, "lab"), out = dir / "calibrated.hpm";
  test::CommandResult r = test::run_cli("calibrate --model " + model + " --data " + lab + " --out " + out);
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_FALSE(test::contains(r.output, "training images of the model")) << r.output;

  const nlohmann::json c = read_model_header(out).at("calibration");
  EXPECT_TRUE(test::contains(c.at("evaluated_on").get<std::string>(), lab)) << c.dump();
  // The class shares are still those of the training part; the figures are the folder's.
  EXPECT_EQ(c.at("class_prior"), (std::vector<double>{0.25, 0.75}));
  EXPECT_DOUBLE_EQ(accuracy_on(model, {"", lab, "all", {}}), c.at("before").at("accuracy").get<double>());
  EXPECT_DOUBLE_EQ(accuracy_on(out, {"", lab, "all", {}}), c.at("after").at("accuracy").get<double>());
  EXPECT_NE(accuracy_on(model, {"", "", "val", {}}), c.at("before").at("accuracy").get<double>());

  // A folder that repeats the model's training crops is used, with a warning counting them.
  std::string csv = "image,label\n";
  for (int i = 0; i < 48; ++i) csv += (dir.path() / ("c" + std::to_string(i) + ".png")).string() + ",normal\n";
  std::filesystem::create_directories(dir.path() / "mixed");
  test::write_file((dir.path() / "mixed/labels.csv").string(), csv);
  r = test::run_cli("calibrate --model " + model + " --data " + (dir / "mixed") + " --out " + (dir / "mixed.hpm"));
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_TRUE(test::contains(r.output, "24 of the 48 images")) << r.output;

  // Refused, exit 2, nothing written.
  const std::string refused = dir / "refused.hpm";
  for (const auto& [args, needle] : std::vector<std::pair<std::string, std::string>>{
           {"--data " + lab + " --split val", "--split"},
           {"--data " + (dir / "missing"), "missing"}}) {
    r = test::run_cli("calibrate --model " + model + " " + args + " --out " + refused);
    EXPECT_EQ(r.exit_code, 2) << args << "\n" << r.output;
    EXPECT_TRUE(test::contains(r.output, needle)) << args << "\n" << r.output;
    EXPECT_FALSE(std::filesystem::exists(refused)) << args;
  }
}

TEST(PriorCorrection, FineTuningFromACorrectedFileStartsFromTheNetworkAsTrained) {
  test::ScratchDir dir;
  const std::string model = save_crop_model(dir), corrected = dir / "corrected.hpm";
  test::CommandResult r = test::run_cli("calibrate --model " + model + " --out " + corrected + " --tau 0.5");
  ASSERT_EQ(r.exit_code, 0) << r.output;

  // The report carries the file's correction; taking it back gives the uncorrected logits.
  ClassifierPtr fresh = create_classifier("separable_cnn", small_cnn(2));
  const PretrainedReport report = load_pretrained(*fresh, corrected);
  EXPECT_DOUBLE_EQ(report.head_correction_tau, 0.5);
  EXPECT_EQ(report.head_correction_prior, (std::vector<double>{0.25, 0.75}));
  EXPECT_EQ(load_pretrained(*create_classifier("separable_cnn", small_cnn(2)), model).head_correction_tau, 0);
  add_output_bias(*fresh, prior_correction_bias(report.head_correction_prior, -report.head_correction_tau));
  fresh->eval();
  LoadedClassifier original = load_classifier(model, torch::kCPU);
  const torch::Tensor x = torch::rand({3, 3, 32, 32});
  torch::NoGradGuard no_grad;
  EXPECT_TRUE(torch::allclose(fresh->forward(x), original.model->forward(x), 1e-5, 1e-5));

  // So `train --pretrained` from the corrected file trains the same network as from the original.
  const std::string config = dir / "config.yaml";
  r = test::run_cli("train --config " + config + " --pretrained " + corrected + " --epochs 1 --threads 1 --out " +
                    (dir / "from_corrected"));
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_TRUE(test::contains(r.output, "prior correction (tau 0.5) taken back out")) << r.output;
  r = test::run_cli("train --config " + config + " --pretrained " + model + " --epochs 1 --threads 1 --out " +
                    (dir / "from_original"));
  ASSERT_EQ(r.exit_code, 0) << r.output;
  LoadedClassifier a = load_classifier(dir / "from_corrected/last.hpm", torch::kCPU);
  LoadedClassifier b = load_classifier(dir / "from_original/last.hpm", torch::kCPU);
  EXPECT_TRUE(torch::allclose(a.model->forward(x), b.model->forward(x), 1e-4, 1e-4));
}

TEST(PriorCorrection, AModelWithoutItsTrainingConfigIsRefused) {
  test::ScratchDir dir;
  ClassifierHeader h;
  h.arch = "separable_cnn";
  h.options = small_cnn(2);
  h.classes = {"burr", "normal"};
  h.crop.size = 32;
  const std::string model = dir / "bare.hpm", out = dir / "out.hpm";
  save_model_file(model, h.to_json(), *scaled_model(7, 2));
  test::CommandResult r = test::run_cli("calibrate --model " + model + " --out " + out);
  EXPECT_EQ(r.exit_code, 2) << r.output;
  EXPECT_TRUE(test::contains(r.output, "records no training config")) << r.output;
  EXPECT_FALSE(std::filesystem::exists(out));
}

}  // namespace
}  // namespace hemapath
