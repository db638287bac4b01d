#include "hemapath/train/cross_validation.h"

#include <filesystem>
#include <fstream>

#include "hemapath/core/atomic_file.h"
#include "hemapath/core/error.h"
#include "hemapath/core/log.h"
#include "hemapath/core/random.h"
#include "hemapath/data/classification_dataset.h"
#include "hemapath/data/grouped_folds.h"
#include "hemapath/data/split.h"
#include "hemapath/io/csv.h"
#include "hemapath/models/model_file.h"
#include "hemapath/train/evaluate.h"
#include "hemapath/train/metrics.h"
#include "hemapath/train/trainer.h"

namespace hemapath {
namespace fs = std::filesystem;

namespace {

const char* kFoldResult = "fold.json";
const char* kSetupFile = "cv_config.json";

// One fold's parts before the validation share is carved out of the training part.
struct FoldPlan {
  int replication = 0, fold = 0;
  std::vector<size_t> train, test;
};

std::vector<FoldPlan> plan_folds(const std::vector<int>& labels, const std::vector<std::string>& groups,
                                 const CvOptions& options) {
  std::vector<FoldPlan> plans;
  if (options.scheme == "5x2") {
    const auto halves = five_by_two_splits(labels, groups, options.seed);
    for (size_t r = 0; r < halves.size(); ++r) {
      plans.push_back({static_cast<int>(r), 0, halves[r].first, halves[r].second});
      plans.push_back({static_cast<int>(r), 1, halves[r].second, halves[r].first});
    }
    return plans;
  }
  HP_CHECK(options.scheme == "kfold", ConfigError, "--scheme '", options.scheme, "' is not known: expected kfold or 5x2");
  const auto folds = stratified_group_kfold(labels, groups, options.folds, options.seed);
  for (size_t f = 0; f < folds.size(); ++f) {
    FoldPlan plan{0, static_cast<int>(f), {}, folds[f]};
    for (size_t g = 0; g < folds.size(); ++g)
      if (g != f) plan.train.insert(plan.train.end(), folds[g].begin(), folds[g].end());
    std::sort(plan.train.begin(), plan.train.end());
    plans.push_back(std::move(plan));
  }
  return plans;
}

// The validation share of the config's split (val / (train + val)) carved from the training part,
// keeping `groups` whole when there are any.
SplitIndices fold_split(const FoldPlan& plan, const std::vector<int>& labels, const std::vector<std::string>& groups,
                        const TrainConfig& config, uint64_t seed) {
  const double val_share = config.split.val / (config.split.train + config.split.val);
  SplitIndices parts;
  if (val_share > 0) {
    const uint64_t fold_seed =
        derive_seed(seed, {static_cast<uint64_t>(plan.replication), static_cast<uint64_t>(plan.fold), 0xC5});
    if (groups.empty()) {
      parts = stratified_split_of(plan.train, labels, 1 - val_share, val_share, 0, fold_seed);
    } else {
      auto grouped = stratified_group_partition(plan.train, labels, groups, {1 - val_share, val_share}, fold_seed);
      parts.train = std::move(grouped[0]);
      parts.val = std::move(grouped[1]);
    }
  } else {
    parts.train = plan.train;
  }
  parts.test = plan.test;
  return parts;
}

nlohmann::json fold_to_json(const FoldResult& f) {
  return {{"replication", f.replication}, {"fold", f.fold},         {"train_size", f.train_size},
          {"val_size", f.val_size},       {"test_size", f.test_size}, {"best_epoch", f.best_epoch},
          {"seconds", f.seconds},         {"metrics", f.metrics}};
}

FoldResult fold_from_json(const nlohmann::json& j) {
  FoldResult f;
  f.replication = j.at("replication");
  f.fold = j.at("fold");
  f.train_size = j.at("train_size");
  f.val_size = j.at("val_size");
  f.test_size = j.at("test_size");
  f.best_epoch = j.at("best_epoch");
  f.seconds = j.at("seconds");
  f.metrics = j.at("metrics").get<std::map<std::string, double>>();
  return f;
}

// Trains one fold and tests its best model on the held-out part.
FoldResult run_fold(const TrainConfig& config, const CvOptions& options, const FoldPlan& plan,
                    const LabeledSamples& data, const std::vector<std::string>& val_groups, const fs::path& dir) {
  const fs::path result_file = dir / kFoldResult;
  if (options.resume && fs::is_regular_file(result_file)) {
    try {
      std::ifstream in(result_file);
      return fold_from_json(nlohmann::json::parse(in));
    } catch (const nlohmann::json::exception& e) {
      throw InputError("--resume: '" + result_file.string() + "' is damaged (" + e.what() + ")");
    }
  }
  const std::vector<int> labels = data.labels();
  TrainRunOptions run;
  run.out_dir = dir.string();
  run.device = options.device;
  run.resume = options.resume && fs::exists(dir / "checkpoint.pt");
  run.split = fold_split(plan, labels, val_groups, config, options.seed);
  run.split_origin =
      "cross-validation fold " + std::to_string(plan.replication + 1) + "." + std::to_string(plan.fold + 1);
  const TrainResult trained = train_classifier(config, run);

  LoadedClassifier best = load_classifier(trained.best_model, options.device);
  ClassificationDataset test_data(data.samples, best.header.inference_data_options());
  const EvalResult eval = evaluate_dataset(*best.model, test_data, run.split->test, data.class_names,
                                           config.batch_size, options.device, std::max(1, config.workers));
  FoldResult f;
  f.replication = plan.replication;
  f.fold = plan.fold;
  f.train_size = run.split->train.size();
  f.val_size = run.split->val.size();
  f.test_size = run.split->test.size();
  f.best_epoch = trained.best_epoch;
  f.seconds = trained.seconds;
  for (const auto& name : metric_names()) f.metrics[name] = metric_by_name(eval.report, name);
  write_text_atomic(result_file, fold_to_json(f).dump(2));
  return f;
}

void write_summary(const fs::path& dir, const CvResult& result) {
  std::vector<std::string> columns = {"replication", "fold", "train", "val", "test", "best_epoch", "seconds"};
  const std::vector<std::string> metrics = metric_names();
  columns.insert(columns.end(), metrics.begin(), metrics.end());
  CsvWriter csv(columns);
  for (const auto& f : result.folds) {
    std::vector<std::string> row = {std::to_string(f.replication + 1), std::to_string(f.fold + 1),
                                    std::to_string(f.train_size),      std::to_string(f.val_size),
                                    std::to_string(f.test_size),       std::to_string(f.best_epoch),
                                    format_number(f.seconds, 4)};
    for (const auto& m : metrics) row.push_back(format_number(f.metrics.at(m)));
    csv.add_row(row);
  }
  csv.write((dir / "folds.csv").string());
  write_text_atomic(dir / "summary.json", result.to_json().dump(2));
  write_text_atomic(dir / "summary.md", cv_markdown(result));
}

}  // namespace

nlohmann::json CvResult::to_json() const {
  nlohmann::json folds_json = nlohmann::json::array();
  for (const auto& f : folds) folds_json.push_back(fold_to_json(f));
  nlohmann::json summary_json = nlohmann::json::object();
  for (const auto& [name, s] : summary) summary_json[name] = {{"mean", s.mean}, {"std", s.std}, {"values", s.values}};
  return {{"arch", arch}, {"scheme", scheme}, {"folds", folds_json}, {"summary", summary_json}};
}

CvResult CvResult::from_json(const nlohmann::json& j) {
  CvResult r;
  r.arch = j.at("arch");
  r.scheme = j.at("scheme");
  for (const auto& f : j.at("folds")) r.folds.push_back(fold_from_json(f));
  for (const auto& [name, s] : j.at("summary").items()) r.summary[name] = summarize(s.at("values"));
  return r;
}

std::string cv_markdown(const CvResult& result) {
  const std::vector<std::string> metrics = metric_names();
  std::string md = "| fold | train | test |";
  std::string rule = "|---|---:|---:|";
  for (const auto& m : metrics) md += " " + m + " |", rule += "---:|";
  md += "\n" + rule + "\n";
  for (const auto& f : result.folds) {
    md += "| " + (result.scheme == "5x2" ? std::to_string(f.replication + 1) + "." : std::string()) +
          std::to_string(f.fold + 1) + " | " + std::to_string(f.train_size) + " | " + std::to_string(f.test_size) + " |";
    for (const auto& m : metrics) md += " " + format_number(f.metrics.at(m), 4) + " |";
    md += "\n";
  }
  md += "| mean +- std | | |";
  for (const auto& m : metrics)
    md += " " + format_number(result.summary.at(m).mean, 4) + " +- " + format_number(result.summary.at(m).std, 3) + " |";
  return md + "\n";
}

CvResult run_cross_validation(const TrainConfig& config, const CvOptions& options) {
  auto log = logger("cv");
  HP_CHECK(!options.out_dir.empty(), InputError, "--out: a folder for the cross-validation is required");
  HP_CHECK(config.split.train_subset == 1, ConfigError,
           "data.split.train_subset applies to single training runs; cross-validation trains on whole folds: "
           "remove it (or shorten the runs with --epochs)");
  const fs::path dir(options.out_dir);
  HP_CHECK(options.resume || !fs::exists(dir / "fold_1_1"), InputError, "--out '", options.out_dir,
           "' already holds a cross-validation: pass --resume to finish it or choose another folder");
  const LabeledSamples data = load_samples(config.data);
  const std::vector<int> labels = data.labels();
  const std::vector<std::string> fold_groups = sample_groups(config.data, data.samples, options.group_by, "--group-by");
  // Validation images keep the groups of data.split.group_by whole, or else those of the folds.
  const std::vector<std::string> val_groups =
      config.split.group_by.empty()
          ? fold_groups
          : sample_groups(config.data, data.samples, config.split.group_by, "data.split.group_by");
  const std::vector<FoldPlan> plans = plan_folds(labels, fold_groups, options);

  // Finished folds are reused on --resume only when they were made the same way.
  const nlohmann::json setup = {{"config", config.to_json()},
                                {"scheme", options.scheme},
                                {"folds", options.scheme == "5x2" ? 2 : options.folds},
                                {"seed", options.seed},
                                {"group_by", options.group_by}};
  const fs::path setup_file = dir / kSetupFile;
  if (options.resume && fs::is_regular_file(setup_file)) {
    std::ifstream in(setup_file);
    const nlohmann::json before = nlohmann::json::parse(in, nullptr, /*allow_exceptions=*/false);
    HP_CHECK(before == setup, InputError, "--resume: the config or cross-validation settings differ from those the ",
             "folds in '", options.out_dir, "' were made with; use the same ones or another --out folder");
  }
  fs::create_directories(dir);
  write_text_atomic(setup_file, setup.dump(2));

  CvResult result;
  result.arch = config.arch;
  result.scheme = options.scheme;
  for (const auto& plan : plans) {
    log->info("{} {} fold {}/{}: {} training, {} test images", config.arch, options.scheme, result.folds.size() + 1,
              plans.size(), plan.train.size(), plan.test.size());
    const fs::path fold_dir = dir / ("fold_" + std::to_string(plan.replication + 1) + "_" + std::to_string(plan.fold + 1));
    result.folds.push_back(run_fold(config, options, plan, data, val_groups, fold_dir));
    log->info("fold {}: test accuracy {:.4f}, macro-F1 {:.4f}", result.folds.size(),
              result.folds.back().metrics.at("accuracy"), result.folds.back().metrics.at("macro_f1"));
  }
  for (const auto& name : metric_names()) {
    std::vector<double> values;
    for (const auto& f : result.folds) values.push_back(f.metrics.at(name));
    result.summary[name] = summarize(values);
  }
  write_summary(dir, result);
  return result;
}

std::vector<TestResult> compare_five_by_two(const CvResult& a, const CvResult& b, const std::string& metric) {
  HP_CHECK(a.scheme == "5x2" && b.scheme == "5x2" && a.folds.size() == 10 && b.folds.size() == 10, InputError,
           "the 5x2cv tests need two complete 5x2 cross-validations (--scheme 5x2)");
  FiveByTwo differences{};
  for (size_t i = 0; i < 10; ++i) {
    const FoldResult &fa = a.folds[i], &fb = b.folds[i];
    HP_CHECK(fa.replication == fb.replication && fa.fold == fb.fold && fa.test_size == fb.test_size, InputError,
             "the two cross-validations were not run on the same folds (fold ", i + 1, " differs)");
    differences[fa.replication][fa.fold] = fa.metrics.at(metric) - fb.metrics.at(metric);
  }
  return {five_by_two_t_test(differences), five_by_two_f_test(differences)};
}

}  // namespace hemapath
