#pragma once
/// Comparison of classifier architectures by accuracy against compute cost: parameters,
/// GFLOPs (counted from the layers at run time, see models/complexity.h), latency at batch 1
/// and throughput at batch 32 on this machine, and, given a training config, the
/// cross-validated accuracy and macro-F1 of each architecture trained with it.
///
/// The output folder holds comparison.md, comparison.csv, comparison.json, a scatter plot
/// (accuracy_vs_latency.png with cross-validation, gflops_vs_latency.png without) and, with
/// cross-validation, one cross-validation folder per architecture (cv/<arch>/).
#include <c10/core/Device.h>

#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "hemapath/train/cross_validation.h"
#include "hemapath/train/train_config.h"

namespace hemapath {

struct ComparisonOptions {
  std::vector<std::string> archs;  ///< registered classifier names, in table order
  int size = 128;                  ///< input side length, px (square inputs; the CV crop size)
  int64_t num_classes = 4;         ///< head size for the cost figures without a config
  int warmup_runs = 3;             ///< untimed passes before each timing (allocator, oneDNN caches)
  int latency_runs = 20;           ///< timed batch-1 passes; the median is reported
  int throughput_batch = 32;
  int throughput_runs = 3;  ///< timed passes at throughput_batch after one untimed one
  int threads = 0;          ///< intra-op threads for the timings; 0 keeps the current setting
  c10::Device device = c10::kCPU;
  std::string out_dir;  ///< where the files go; empty: nothing is written
  bool resume = false;  ///< reuse finished cross-validation folds in out_dir/cv/<arch>

  /// With a config, each architecture is cross-validated: the config is copied, its arch set
  /// to the architecture and its crop size to `size`. Without one, only the cost columns.
  std::optional<TrainConfig> config;
  /// scheme, folds, seed and group_by of the cross-validation; out_dir, device and resume are
  /// set from the fields above.
  CvOptions cv;
};

/// One architecture's figures. The cross-validation fields are NaN when none was run.
struct ComparisonRow {
  std::string arch;
  int64_t parameters = 0;
  double gflops = 0;          ///< GMACs of convolutions and matrix products, one image
  double latency_ms = 0;      ///< median over latency_runs, batch 1
  double latency_min_ms = 0;  ///< fastest batch-1 pass
  double throughput = 0;      ///< images/s at throughput_batch
  double accuracy_mean, accuracy_std, macro_f1_mean, macro_f1_std;
  int folds = 0;          ///< cross-validation folds behind the means; 0: none
  double cv_seconds = 0;  ///< time the cross-validation took (0 when all folds were reused)
  ComparisonRow();
  bool has_cv() const { return folds > 0; }
};

struct ComparisonResult {
  int size = 0;
  int threads = 0;  ///< intra-op threads the timings ran with
  std::string device;
  int latency_runs = 0, throughput_batch = 0, throughput_runs = 0;
  std::string cv_scheme;            ///< e.g. "kfold:3" or "5x2"; empty without cross-validation
  std::vector<ComparisonRow> rows;  ///< one per architecture, in the order asked for
  bool has_cv() const { return !cv_scheme.empty(); }
  nlohmann::json to_json() const;
};

/// Measures every architecture and, with a config, cross-validates it; writes the files
/// when options.out_dir is set. Every check runs before any work: an unknown architecture
/// is an InputError naming --archs and listing the valid names; a size outside [8, 4096],
/// run counts below 1, a network that cannot take the size (e.g. inception_resnet_v2 below
/// 75 px), and without resume an out_dir/cv/<arch> that already holds folds are InputErrors
/// too, with nothing written.
ComparisonResult compare_models(const ComparisonOptions& options);

/// The table: arch, params (M), GFLOPs, latency (ms), throughput (img/s) and, with
/// cross-validation, accuracy and macro-F1 as mean +- std.
std::string comparison_markdown(const ComparisonResult& result);

/// Writes comparison.md, comparison.csv, comparison.json and the scatter plot into `dir`
/// (each atomically).
void write_comparison(const ComparisonResult& result, const std::string& dir);

}  // namespace hemapath
