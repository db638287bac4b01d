#pragma once
/// Cross-validation of a training config: stratified k-fold or Dietterich's 5x2, optionally
/// keeping groups (slides, patients) whole. Each fold trains a model on its training part
/// (with a validation share carved from it by the config's split fractions, which picks the
/// best epoch) and is tested on the held-out part.
///
/// The output folder holds one run folder per fold (fold_<r>_<f>/), folds.csv (every metric of
/// every fold), summary.json (per-fold and mean +- std of every metric), summary.md and
/// cv_config.json (the config and fold settings, which --resume must match).
#include <map>
#include <string>
#include <vector>

#include <c10/core/Device.h>
#include <nlohmann/json.hpp>

#include "hemapath/train/cv_statistics.h"
#include "hemapath/train/train_config.h"

namespace hemapath {

struct CvOptions {
  std::string scheme = "kfold";  ///< "kfold" or "5x2"
  int folds = 5;                 ///< k for "kfold" (5x2 always has 10 folds)
  uint64_t seed = 1;             ///< seed of the fold assignment
  std::string group_by;          ///< regex over file names, or "column:NAME" of the labels CSV; empty: no groups
  std::string out_dir;
  c10::Device device = c10::kCPU;
  bool resume = false;           ///< reuse folds already finished in out_dir (same config)
};

/// The test figures of one fold.
struct FoldResult {
  int replication = 0;  ///< 0-based; always 0 for k-fold
  int fold = 0;         ///< 0-based within the replication
  size_t train_size = 0, val_size = 0, test_size = 0;
  int best_epoch = 0;
  double seconds = 0;
  std::map<std::string, double> metrics;  ///< every name of metric_names(), on the test part
};

struct CvResult {
  std::string arch;
  std::string scheme;
  std::vector<FoldResult> folds;                  ///< in (replication, fold) order
  std::map<std::string, MetricSummary> summary;   ///< per metric over folds
  nlohmann::json to_json() const;
  static CvResult from_json(const nlohmann::json& j);
};

/// The per-fold table with a mean +- std row, in Markdown.
std::string cv_markdown(const CvResult& result);

/// Runs every fold (ConfigError for a bad scheme, fold count or grouping; InputError as in
/// train_classifier) and writes the summary files.
CvResult run_cross_validation(const TrainConfig& config, const CvOptions& options);

/// Dietterich's t-test and Alpaydin's F-test on `metric` between two 5x2 results made on the
/// same folds. InputError when either is not a 5x2 result or the folds differ in size.
std::vector<TestResult> compare_five_by_two(const CvResult& a, const CvResult& b, const std::string& metric);

}  // namespace hemapath
