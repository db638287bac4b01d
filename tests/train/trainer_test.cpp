// End-to-end training on a slice of the real white-cell data: the loss falls, model files
// reload to the same figures, --resume and re-runs with one seed give identical weights.
#include "hemapath/train/trainer.h"

#include <gtest/gtest.h>

#include "hemapath/core/error.h"
#include "hemapath/infer/predictor.h"
#include "hemapath/io/csv.h"
#include "hemapath/models/classifier.h"
#include "hemapath/models/model_file.h"
#include "hemapath/models/registry.h"
#include "hemapath/train/eval_set.h"
#include "test_support.h"
#include "weight_average_runs.h"

namespace hemapath {
namespace {

std::string tiny_config(const test::ScratchDir& dir, int per_class, const std::string& train_block,
                        const std::string& augment = "{rotate_degrees: 30, hed_sigma: 0.02, brightness: 0.1}") {
  return test::write_tiny_wbc_config(dir.path(), per_class, train_block, augment);
}

// Every parameter and buffer of two model files, compared bit for bit.
bool same_classifier_weights(const std::string& a, const std::string& b) {
  LoadedClassifier x = load_classifier(a, torch::kCPU), y = load_classifier(b, torch::kCPU);
  auto px = x.model->named_parameters(), py = y.model->named_parameters();
  for (const auto& p : px)
    if (!torch::equal(p.value(), py[p.key()])) return false;
  auto bx = x.model->named_buffers(), by = y.model->named_buffers();
  for (const auto& b : bx)
    if (!torch::equal(b.value(), by[b.key()])) return false;
  return !px.is_empty();
}

TEST(Trainer, LossFallsAndModelFilesReloadToTheSameFigures) {
  test::ScratchDir dir;
  TrainConfig config = TrainConfig::load(
      tiny_config(dir, 6, "{epochs: 12, batch_size: 4, optimizer: {name: adam, lr: 0.003, weight_decay: 0}, "
                          "schedule: {name: constant}}", "{enabled: false}"));
  TrainRunOptions options;
  options.out_dir = dir / "run";
  TrainResult r = train_classifier(config, options);
  ASSERT_EQ(r.history.size(), 12u);
  EXPECT_TRUE(r.complete);
  EXPECT_EQ(r.train_size + r.val_size + r.test_size, 24u);
  EXPECT_LT(r.history.back().train_loss, 0.6 * r.history.front().train_loss)
      << "first " << r.history.front().train_loss << " last " << r.history.back().train_loss;
  for (const char* name : {"best.hpm", "last.hpm", "checkpoint.pt", "log.csv", "curves.png", "split.csv", "config.json"})
    EXPECT_TRUE(std::filesystem::exists(dir.path() / "run" / name)) << name;

  // The reloaded model reproduces the validation figures recorded while training.
  LoadedClassifier last = load_classifier(r.last_model, torch::kCPU);
  EvalSet val = resolve_eval_set(last.header, {"", "", "val", {}});
  ClassificationDataset data(val.data.samples, last.header.inference_data_options());
  EvalResult e = evaluate_dataset(*last.model, data, val.indices, last.header.classes, 4, torch::kCPU, 1);
  EXPECT_NEAR(e.loss, r.history.back().val_loss, 1e-5);
  EXPECT_DOUBLE_EQ(e.report.accuracy, r.history.back().val_accuracy);
  EXPECT_DOUBLE_EQ(last.header.metrics.at("val").at("accuracy").get<double>(), r.history.back().val_accuracy);

  // And the predictor (as `hemapath predict` uses it) gives the same probabilities.
  std::vector<Sample> samples;
  for (size_t i : val.indices) samples.push_back(val.data.samples[i]);
  ClassifierPredictor predictor(r.last_model, {});
  PredictionResult p = predictor.predict(samples);
  EXPECT_TRUE(torch::allclose(p.probabilities, e.predictions.probabilities, 1e-6, 1e-7));
}

TEST(Trainer, ResumeGivesTheWeightsOfAnUninterruptedRunAndSeedsRepeat) {
  test::ScratchDir dir;
  const std::string train_block =
      "{epochs: 4, batch_size: 4, label_smoothing: 0.1, imbalance: class_weights, "
      "optimizer: {name: adamw, lr: 0.002}, schedule: {name: cosine, warmup_epochs: 1}}";
  TrainConfig config = TrainConfig::load(tiny_config(dir, 4, train_block));

  TrainRunOptions whole;
  whole.out_dir = dir / "whole";
  train_classifier(config, whole);

  TrainRunOptions again = whole;
  again.out_dir = dir / "again";
  train_classifier(config, again);
  EXPECT_TRUE(same_classifier_weights(dir / "whole/last.hpm", dir / "again/last.hpm"))
      << "one seed, two runs, other weights";

  TrainRunOptions interrupted = whole;
  interrupted.out_dir = dir / "interrupted";
  interrupted.stop_after_epochs = 2;
  TrainResult first = train_classifier(config, interrupted);
  EXPECT_FALSE(first.complete);
  EXPECT_FALSE(same_classifier_weights(dir / "whole/last.hpm", dir / "interrupted/last.hpm"));
  interrupted.stop_after_epochs = 0;
  interrupted.resume = true;
  TrainResult rest = train_classifier(config, interrupted);
  EXPECT_TRUE(rest.complete);
  EXPECT_EQ(rest.history.size(), 4u);
  EXPECT_TRUE(same_classifier_weights(dir / "whole/last.hpm", dir / "interrupted/last.hpm")) << "resume diverged";

  TrainConfig other_seed = config;
  other_seed.seed = 8;
  TrainRunOptions other = whole;
  other.out_dir = dir / "other";
  train_classifier(other_seed, other);
  EXPECT_FALSE(same_classifier_weights(dir / "whole/last.hpm", dir / "other/last.hpm"));
}

// train.optimizer.ema_decay: the live weights train exactly as without it, validation and
// the model files use the average, and an interrupted run resumes to the same average.
TEST(Trainer, WeightAveragingKeepsTheTrainingPathSavesTheAverageAndResumes) {
  test::ScratchDir dir;
  TrainConfig averaged = TrainConfig::load(tiny_config(
      dir, 6, "{epochs: 6, batch_size: 4, bn_recalibration: true, "
              "optimizer: {name: adam, lr: 0.003, weight_decay: 0, ema_decay: 0.8}, "
              "schedule: {name: constant}}", "{enabled: false}"));
  const auto [with, without] = test::train_with_and_without_weight_average(averaged, dir, train_classifier);
  ASSERT_EQ(with.history.size(), without.history.size());
  EXPECT_FALSE(same_classifier_weights(with.last_model, without.last_model));

  // The recorded validation figures are those of the saved (averaged) weights.
  LoadedClassifier last = load_classifier(with.last_model, torch::kCPU);
  EvalSet val = resolve_eval_set(last.header, {"", "", "val", {}});
  ClassificationDataset data(val.data.samples, last.header.inference_data_options());
  EvalResult e = evaluate_dataset(*last.model, data, val.indices, last.header.classes, 4, torch::kCPU, 1);
  EXPECT_NEAR(e.loss, with.history.back().val_loss, 1e-5);
  EXPECT_GT(std::abs(with.history.back().val_loss - without.history.back().val_loss), 1e-3);

  TrainRunOptions interrupted;
  interrupted.out_dir = dir / "interrupted";
  interrupted.stop_after_epochs = 3;
  train_classifier(averaged, interrupted);
  interrupted.stop_after_epochs = 0;
  interrupted.resume = true;
  EXPECT_TRUE(train_classifier(averaged, interrupted).complete);
  EXPECT_TRUE(same_classifier_weights(with.last_model, dir / "interrupted/last.hpm")) << "resume lost the average";

  // Switching averaging on for a run started without it is another config, named as such.
  TrainRunOptions switched;
  switched.out_dir = dir / "plain";
  switched.resume = true;
  const std::string message = test::error_of<InputError>([&] { train_classifier(averaged, switched); });
  EXPECT_NE(message.find("config differs"), std::string::npos) << message;
}

TEST(Trainer, RefusesToOverwriteARunOrResumeWithAnotherConfig) {
  test::ScratchDir dir;
  TrainConfig config = TrainConfig::load(
      tiny_config(dir, 3, "{epochs: 1, batch_size: 4, optimizer: {name: sgd, lr: 0.01}, schedule: {name: step}}"));
  TrainRunOptions options;
  options.out_dir = dir / "run";
  train_classifier(config, options);
  try {
    train_classifier(config, options);
    FAIL() << "overwrote a run";
  } catch (const InputError& e) {
    EXPECT_NE(std::string(e.what()).find("--resume"), std::string::npos) << e.what();
  }
  config.optimizer.lr = 0.02;
  options.resume = true;
  try {
    train_classifier(config, options);
    FAIL() << "resumed with another config";
  } catch (const InputError& e) {
    EXPECT_NE(std::string(e.what()).find("config differs"), std::string::npos) << e.what();
  }
}

// Training on every labelled image (val 0, as for a final model): the best epoch is the one
// with the lowest training loss, and log.csv leaves the val columns empty instead of zeros.
TEST(Trainer, WithoutAValidationPartTheTrainingLossPicksTheBestEpoch) {
  test::ScratchDir dir;
  TrainConfig config = TrainConfig::load(tiny_config(dir, 4, "{epochs: 4, batch_size: 4}", "{enabled: false}"));
  config.split.train = 0.75, config.split.val = 0, config.split.test = 0.25;
  TrainRunOptions options;
  options.out_dir = dir / "run";
  TrainResult r = train_classifier(config, options);
  ASSERT_EQ(r.history.size(), 4u);
  EXPECT_EQ(r.val_size, 0u);
  EXPECT_EQ(r.train_size, 12u);
  int lowest = 1;
  for (const EpochRecord& e : r.history)
    if (e.train_loss < r.history.at(lowest - 1).train_loss) lowest = e.epoch;
  EXPECT_EQ(r.best_epoch, lowest);
  EXPECT_FALSE(load_classifier(r.best_model, torch::kCPU).header.metrics.contains("val"));

  const std::vector<CsvRow> log = read_csv((dir.path() / "run" / "log.csv").string());
  ASSERT_EQ(log.size(), 5u);  // header and 4 epochs
  for (size_t row = 1; row < log.size(); ++row) {
    EXPECT_FALSE(log[row].at(2).empty()) << "train_loss of epoch " << row;
    for (size_t column : {4, 5, 6, 7, 10}) EXPECT_TRUE(log[row].at(column).empty()) << log[0].at(column);
  }
}

// With bn_recalibration the saved statistics come from one pass over all 8 training images
// in batches of 3 (3 batches), not from the 2 optimisation steps (the last partial batch dropped).
TEST(Trainer, MemoryFormatDefaultsToAutoAndABadOneIsNamed) {
  test::ScratchDir dir;
  EXPECT_EQ(TrainConfig::load(tiny_config(dir, 4, "{epochs: 1}")).memory_format, "auto");
  EXPECT_EQ(TrainConfig::load(tiny_config(dir, 4, "{epochs: 1, memory_format: mkldnn}")).memory_format, "mkldnn");
  EXPECT_EQ(TrainConfig::load(tiny_config(dir, 4, "{epochs: 1, memory_format: contiguous}")).memory_format,
            "contiguous");
  try {
    TrainConfig::load(tiny_config(dir, 4, "{epochs: 1, memory_format: nhwc}"));
    FAIL() << "accepted memory_format nhwc";
  } catch (const ConfigError& e) {
    EXPECT_TRUE(test::contains(e.what(), "train.memory_format")) << e.what();
  }
}

TEST(Trainer, BatchNormRecalibrationReestimatesTheStatistics) {
  test::ScratchDir dir;
  const std::string path = tiny_config(dir, 4, "{epochs: 1, batch_size: 3, bn_recalibration: true}", "{enabled: false}");
  for (const bool recalibrate : {true, false}) {
    TrainRunOptions options;
    options.out_dir = dir / (recalibrate ? "on" : "off");
    const TrainResult r =
        train_classifier(TrainConfig::load(path, {std::string("train.bn_recalibration=") + (recalibrate ? "true" : "false")}), options);
    ASSERT_EQ(r.train_size, 8u);
    LoadedClassifier model = load_classifier(r.last_model, torch::kCPU);
    const torch::Tensor tracked = model.model->named_buffers()["features.0.1.num_batches_tracked"];
    EXPECT_EQ(tracked.item<int64_t>(), recalibrate ? 3 : 2);
  }
}

}  // namespace
}  // namespace hemapath
