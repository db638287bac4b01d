#pragma once
/// `hemapath al simulate`: active learning replayed on a labelled data set, whose labels are
/// hidden and revealed only for the samples a strategy asks for. A seeded stratified share of
/// the data (data.split.test) is the test set, never scored or selected; the rest is the pool.
/// With `active.test_data` (a data set of its own: labels, images, masks as `data`) that set is
/// the test set and all of `data` is the pool, for data whose samples share a source (cells
/// of one smear) and must be split by source. data.split.train_subset < 1 shrinks the pool to
/// a stratified share. Each (arm, seed) starts from the same seed set, then cycles: train a fresh model on the
/// labelled samples -> test it -> score the unlabelled pool -> reveal the labels of the k picked.
///
/// Config: a classification training config (train/train_config.h: data, crop, model,
/// normalisation, augmentation, the per-cycle training schedule and train.loss_head) plus
/// ```yaml
/// active:
///   arms: [random, entropy, learned_loss, learned_loss+hard]  # a strategy, "+hard" adds
///                                                            # active iterative augmentation
///   seeds: [1, 2, 3]
///   initial: {fraction: 0.1, mode: stratified}   # or mode: random
///   fractions: [0.19, 0.28, 0.37, 0.52]  # labelled share of the pool after each query
///   subset: 0            # score a random subset of this many unlabelled samples (0: all)
///   mc_passes: 10        # dropout samples of bald
///   hard_augment: {fraction: 0.2, copies: 1, by: loss}
///   test_data: {labels: CSV, images: DIR}   # optional
/// ```
/// data.split.val is ignored (there is no model selection inside a cycle: the last epoch's
/// model is tested); train + val form the pool.
///
/// Outputs under the run folder: curves.csv (arm, seed, cycle, labelled, labelled_fraction,
/// accuracy, macro_f1, seconds), summary.csv (mean and std over seeds per arm and fraction),
/// selections.csv (every picked image per arm, seed and cycle), curves.png (accuracy and
/// macro-F1 against the labelled fraction, mean +- std bands), config.json, summary.json.
/// They are rewritten after each (arm, seed), so `resume` continues an interrupted run.
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <c10/core/Device.h>
#include <nlohmann/json.hpp>

#include "hemapath/active/active_training.h"
#include "hemapath/train/train_config.h"

namespace hemapath {

/// One arm of a simulation: a strategy, with or without hard-sample augmentation.
struct ActiveArm {
  std::string strategy;
  bool hard_augment = false;
  /// "entropy" or "learned_loss+hard"; InputError listing the strategies for an unknown one.
  static ActiveArm parse(const std::string& name);
  std::string name() const;
};

struct ActiveConfig {
  TrainConfig train;
  std::vector<ActiveArm> arms;
  std::vector<uint64_t> seeds{1};
  double initial_fraction = 0.1;
  std::string initial_mode = "stratified";  ///< stratified or random
  std::vector<double> fractions;            ///< increasing, in (initial_fraction, 1]
  size_t subset = 0;
  int mc_passes = 10;
  HardAugmentConfig hard;
  std::optional<DatasetSpec> test_data;

  /// Reads and checks `file` (unknown keys and bad values are ConfigErrors naming them), after
  /// "key.path=value" overrides.
  static ActiveConfig load(const std::string& file, const std::vector<std::string>& overrides = {});
  nlohmann::json to_json() const;
};

struct CycleRecord {
  std::string arm;
  uint64_t seed = 0;
  int cycle = 0;  ///< 0: the seed set
  size_t labelled = 0;
  double labelled_fraction = 0;  ///< of the pool
  double accuracy = 0, macro_f1 = 0;
  double seconds = 0;  ///< training + testing + scoring of this cycle
};

/// Mean and sample std over seeds of one arm's cycle.
struct CycleSummary {
  std::string arm;
  int cycle = 0;
  double labelled_fraction = 0;  ///< mean over seeds
  size_t seeds = 0;
  double accuracy_mean = 0, accuracy_std = 0, macro_f1_mean = 0, macro_f1_std = 0;
};

/// Groups `records` by (arm, cycle), arms in first-seen order, cycles ascending.
std::vector<CycleSummary> summarize_cycles(const std::vector<CycleRecord>& records);

struct SimulationOptions {
  std::string out_dir;
  bool resume = false;
  c10::Device device = c10::kCPU;
};

struct SimulationResult {
  std::vector<CycleRecord> records;
  size_t pool_size = 0, test_size = 0;
  nlohmann::json parameters;  ///< arm -> parameter count of its network
  double seconds = 0;
};

/// Runs the simulation (InputError/ConfigError before anything is written for a bad config, a
/// run folder in the way, or a schedule asking for more samples than the pool holds).
SimulationResult simulate_active_learning(const ActiveConfig& config, const SimulationOptions& options);

/// The seed set: a stratified or random `fraction` of `pool` (at least 2 samples), from `seed`.
std::vector<size_t> initial_labelled_set(const std::vector<size_t>& pool, const std::vector<int>& labels,
                                         double fraction, const std::string& mode, uint64_t seed);

}  // namespace hemapath
