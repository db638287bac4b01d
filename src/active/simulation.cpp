#include "hemapath/active/simulation.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>

#include "hemapath/active/pool_scoring.h"
#include "hemapath/active/selection_strategy.h"
#include "hemapath/core/atomic_file.h"
#include "hemapath/core/error.h"
#include "hemapath/core/log.h"
#include "hemapath/core/progress.h"
#include "hemapath/data/split.h"
#include "hemapath/io/csv.h"
#include "hemapath/io/plot.h"
#include "hemapath/models/complexity.h"
#include "hemapath/models/registry.h"
#include "hemapath/train/cv_statistics.h"
#include "hemapath/train/evaluate.h"

namespace hemapath {
namespace fs = std::filesystem;

ActiveArm ActiveArm::parse(const std::string& name) {
  ActiveArm arm;
  const std::string suffix = "+hard";
  arm.strategy = name;
  if (name.size() > suffix.size() && name.compare(name.size() - suffix.size(), suffix.size(), suffix) == 0) {
    arm.strategy = name.substr(0, name.size() - suffix.size());
    arm.hard_augment = true;
  }
  make_strategy(arm.strategy);  // InputError listing the names for an unknown one
  return arm;
}

std::string ActiveArm::name() const { return strategy + (hard_augment ? "+hard" : ""); }

ActiveConfig ActiveConfig::load(const std::string& file, const std::vector<std::string>& overrides) {
  ConfigNode root = ConfigNode::load_file(file, overrides);
  ActiveConfig c;
  ConfigNode active = root.child("active");
  for (const auto& name : active.get<std::vector<std::string>>("arms", {"random", "entropy"}))
    c.arms.push_back(ActiveArm::parse(name));
  HP_CHECK(!c.arms.empty(), ConfigError, active.where("arms"), " is empty: expected at least one strategy");
  c.seeds = active.get<std::vector<uint64_t>>("seeds", c.seeds);
  HP_CHECK(!c.seeds.empty(), ConfigError, active.where("seeds"), " is empty");
  ConfigNode initial = active.child("initial");
  c.initial_fraction = initial.get_number("fraction", c.initial_fraction, 1e-6, 1);
  c.initial_mode = initial.get_choice("mode", c.initial_mode, {"stratified", "random"});
  c.fractions = active.get<std::vector<double>>("fractions", {});
  double previous = c.initial_fraction;
  for (double f : c.fractions) {
    HP_CHECK(f > previous && f <= 1, ConfigError, active.where("fractions"),
             " must increase from initial.fraction (", c.initial_fraction, ") up to at most 1; got ", f,
             " after ", previous);
    previous = f;
  }
  c.subset = static_cast<size_t>(active.get_int("subset", 0, 0, 100000000));
  c.mc_passes = static_cast<int>(active.get_int("mc_passes", c.mc_passes, 2, 1000));
  c.hard = HardAugmentConfig::from_config(active.child("hard_augment"));
  const std::string base = fs::path(file).parent_path().string();
  if (active.has("test_data")) c.test_data = DatasetSpec::from_config(active.child("test_data"), base.empty() ? "." : base);
  active.finish();
  c.train = TrainConfig::from_config(root, base.empty() ? "." : base);
  HP_CHECK(c.train.split.group_by.empty(), ConfigError, "config '", file,
           "': data.split.group_by is not supported by active learning, whose pool and test set are split image by "
           "image");
  HP_CHECK(c.test_data || c.train.split.test > 0, ConfigError, "config '", file,
           "': data.split.test is 0 and there is no active.test_data: active learning needs a held-out test set");
  return c;
}

nlohmann::json ActiveConfig::to_json() const {
  nlohmann::json arm_names = nlohmann::json::array();
  for (const auto& a : arms) arm_names.push_back(a.name());
  return {{"train", train.to_json()},
          {"active",
           {{"arms", arm_names},
            {"seeds", seeds},
            {"initial", {{"fraction", initial_fraction}, {"mode", initial_mode}}},
            {"fractions", fractions},
            {"subset", subset},
            {"mc_passes", mc_passes},
            {"hard_augment", hard.to_json()},
            {"test_data", test_data ? test_data->to_json() : nlohmann::json()}}}};
}

std::vector<size_t> initial_labelled_set(const std::vector<size_t>& pool, const std::vector<int>& labels,
                                         double fraction, const std::string& mode, uint64_t seed) {
  HP_CHECK(pool.size() >= 2, InputError, "active learning: the pool holds ", pool.size(),
           " samples: expected at least 2");
  const auto wanted = std::max<size_t>(2, static_cast<size_t>(std::lround(fraction * pool.size())));
  std::vector<size_t> picked;
  if (mode == "stratified") {
    picked = stratified_split_of(pool, labels, fraction, 1 - fraction, 0, seed).train;
  } else {
    picked = pool;
    Rng rng(derive_seed(seed, {0x1A17}));
    shuffle_indices(picked, rng);
    picked.resize(std::min(wanted, picked.size()));
  }
  HP_CHECK(picked.size() >= 2, InputError, "active learning: an initial fraction of ", fraction, " of ",
           pool.size(), " samples labels fewer than 2");
  std::sort(picked.begin(), picked.end());
  return picked;
}

namespace {

std::vector<CycleRecord> read_records(const fs::path& path) {
  std::vector<CycleRecord> out;
  if (!fs::exists(path)) return out;
  const auto rows = read_csv(path.string());
  for (size_t r = 1; r < rows.size(); ++r) {
    const auto& f = rows[r];
    HP_CHECK(f.size() >= 8, InputError, path.string(), ": row ", r + 1, " has ", f.size(), " fields: expected 8");
    CycleRecord c;
    c.arm = f[0];
    c.seed = std::stoull(f[1]);
    c.cycle = std::stoi(f[2]);
    c.labelled = std::stoull(f[3]);
    c.labelled_fraction = std::stod(f[4]);
    c.accuracy = std::stod(f[5]);
    c.macro_f1 = std::stod(f[6]);
    c.seconds = std::stod(f[7]);
    out.push_back(c);
  }
  return out;
}

}  // namespace

std::vector<CycleSummary> summarize_cycles(const std::vector<CycleRecord>& records) {
  std::vector<std::string> arms;
  std::map<std::pair<std::string, int>, std::vector<const CycleRecord*>> groups;
  for (const auto& c : records) {
    if (std::find(arms.begin(), arms.end(), c.arm) == arms.end()) arms.push_back(c.arm);
    groups[{c.arm, c.cycle}].push_back(&c);
  }
  std::vector<CycleSummary> out;
  for (const auto& arm : arms) {
    for (const auto& [key, group] : groups) {
      if (key.first != arm) continue;
      std::vector<double> a, f, x;
      for (const auto* c : group) a.push_back(c->accuracy), f.push_back(c->macro_f1), x.push_back(c->labelled_fraction);
      CycleSummary s;
      s.arm = arm;
      s.cycle = key.second;
      s.seeds = group.size();
      s.labelled_fraction = summarize(x).mean;
      const MetricSummary sa = summarize(a), sf = summarize(f);
      s.accuracy_mean = sa.mean, s.accuracy_std = sa.std;
      s.macro_f1_mean = sf.mean, s.macro_f1_std = sf.std;
      out.push_back(s);
    }
  }
  return out;
}

namespace {

void write_records(const fs::path& dir, const std::vector<CycleRecord>& records,
                   const std::vector<std::array<std::string, 5>>& selections) {
  CsvWriter curves({"arm", "seed", "cycle", "labelled", "labelled_fraction", "accuracy", "macro_f1", "seconds"});
  for (const auto& c : records)
    curves.add_row({c.arm, std::to_string(c.seed), std::to_string(c.cycle), std::to_string(c.labelled),
                    format_number(c.labelled_fraction, 4), format_number(c.accuracy), format_number(c.macro_f1),
                    format_number(c.seconds, 4)});
  curves.write((dir / "curves.csv").string());

  CsvWriter picks({"arm", "seed", "cycle", "image", "label"});
  for (const auto& s : selections) picks.add_row({s[0], s[1], s[2], s[3], s[4]});
  picks.write((dir / "selections.csv").string());

  CsvWriter summary({"arm", "cycle", "labelled_fraction", "seeds", "accuracy_mean", "accuracy_std", "macro_f1_mean",
                     "macro_f1_std"});
  std::vector<PlotSeries> accuracy, macro_f1;
  for (const CycleSummary& c : summarize_cycles(records)) {
    summary.add_row({c.arm, std::to_string(c.cycle), format_number(c.labelled_fraction, 4), std::to_string(c.seeds),
                     format_number(c.accuracy_mean), format_number(c.accuracy_std), format_number(c.macro_f1_mean),
                     format_number(c.macro_f1_std)});
    if (accuracy.empty() || accuracy.back().name != c.arm) {
      accuracy.push_back({c.arm, {}, {}});
      macro_f1.push_back({c.arm, {}, {}});
    }
    auto add = [&](PlotSeries& s, double mean, double std) {
      s.x.push_back(c.labelled_fraction);
      s.y.push_back(mean);
      s.y_low.push_back(mean - std);
      s.y_high.push_back(mean + std);
    };
    add(accuracy.back(), c.accuracy_mean, c.accuracy_std);
    add(macro_f1.back(), c.macro_f1_mean, c.macro_f1_std);
  }
  summary.write((dir / "summary.csv").string());
  if (!records.empty())
    write_line_plots((dir / "curves.png").string(), {accuracy, macro_f1},
                     {{"Test accuracy (mean +- std over seeds)", "labelled fraction of the pool", "accuracy"},
                      {"Test macro-F1 (mean +- std over seeds)", "labelled fraction of the pool", "macro-F1"}});
}

}  // namespace

SimulationResult simulate_active_learning(const ActiveConfig& config, const SimulationOptions& options) {
  auto log = logger("active");
  const auto started = std::chrono::steady_clock::now();
  const fs::path dir(options.out_dir);
  HP_CHECK(!options.out_dir.empty(), InputError, "--out: a folder for the simulation is required");
  HP_CHECK(options.resume || !fs::exists(dir / "curves.csv"), InputError, "--out '", options.out_dir,
           "' already holds a simulation: pass --resume to continue it or choose another folder");
  const nlohmann::json config_json = config.to_json();
  if (options.resume && fs::exists(dir / "config.json")) {
    std::ifstream in(dir / "config.json");
    const auto saved = nlohmann::json::parse(in, nullptr, /*allow_exceptions=*/false);
    HP_CHECK(saved == config_json, InputError, "cannot resume ", dir.string(),
             ": it was run with other settings (config.json differs)");
  }
  const TrainConfig& train = config.train;

  LabeledSamples data = load_samples(train.data);
  const int num_classes = static_cast<int>(data.class_names.size());
  HP_CHECK(num_classes >= 2, InputError, "active learning needs at least two classes; the data has ", num_classes);
  std::vector<size_t> pool, test;
  if (config.test_data) {
    pool = all_indices(data.samples.size());
    const LabeledSamples test_samples = load_samples_for_classes(*config.test_data, data.class_names);
    for (const auto& s : test_samples.samples) {
      test.push_back(data.samples.size());
      data.samples.push_back(s);
    }
  } else {
    const SplitIndices parts = stratified_split(data.labels(), train.split.train + train.split.val, 0,
                                                train.split.test, train.split.seed);
    pool = parts.train;
    test = parts.test;
  }
  const std::vector<int> labels = data.labels();
  if (train.split.train_subset < 1)
    pool = stratified_split_of(pool, labels, train.split.train_subset, 1 - train.split.train_subset, 0,
                               train.split.subset_seed)
               .train;
  HP_CHECK(!test.empty(), InputError, "active learning: the test set is empty");
  // Every step of the schedule must add samples, from every seed's initial set.
  std::map<uint64_t, std::vector<size_t>> initial_sets;
  for (uint64_t seed : config.seeds) {
    initial_sets[seed] = initial_labelled_set(pool, labels, config.initial_fraction, config.initial_mode, seed);
    size_t labelled = initial_sets[seed].size();
    for (double f : config.fractions) {
      const auto target = static_cast<size_t>(std::lround(f * pool.size()));
      HP_CHECK(target > labelled, InputError, "active learning: fraction ", f, " of a pool of ", pool.size(),
               " asks for ", target, " labelled samples, no more than the ", labelled, " before it (seed ", seed, ")");
      labelled = target;
    }
  }
  (void)active_model_options(train, num_classes, false);  // ConfigError unless a ResNet

  ClassificationDataset dataset(data.samples, {train.crop, train.augment, train.normalization});
  dataset.preload(std::max(1, train.workers));
  // Pool images are unlabelled but not secret: their pixel statistics are fair to use.
  if (train.normalization.needs_statistics) {
    std::vector<cv::Mat> crops;
    for (size_t i : pool) crops.push_back(dataset.crop(i));
    Normalization n = train.normalization;
    const auto [mean, stdev] = channel_statistics(crops);
    n.set_statistics(mean, stdev);
    dataset.set_normalization(n);
  }
  log->info("{} samples in {} classes: pool {}, test {}; {} arms x {} seeds, {} cycles each", data.samples.size(),
            num_classes, pool.size(), test.size(), config.arms.size(), config.seeds.size(),
            config.fractions.size() + 1);

  SimulationResult result;
  result.pool_size = pool.size();
  result.test_size = test.size();
  for (const auto& arm : config.arms) {
    const ClassifierOptions o =
        active_model_options(train, num_classes, make_strategy(arm.strategy)->needs().loss_head);
    result.parameters[arm.name()] = count_parameters(*create_classifier(train.arch, o));
  }

  fs::create_directories(dir);
  write_text_atomic(dir / "config.json", config_json.dump(2));
  // Finished (arm, seed) pairs of an interrupted run are kept; unfinished ones start again.
  const size_t cycles = config.fractions.size() + 1;
  std::vector<CycleRecord> previous = options.resume ? read_records(dir / "curves.csv") : std::vector<CycleRecord>{};
  std::vector<std::array<std::string, 5>> selections;
  if (options.resume && fs::exists(dir / "selections.csv")) {
    const auto rows = read_csv((dir / "selections.csv").string());
    for (size_t r = 1; r < rows.size(); ++r)
      if (rows[r].size() == 5) selections.push_back({rows[r][0], rows[r][1], rows[r][2], rows[r][3], rows[r][4]});
  }
  auto finished = [&](const std::string& arm, uint64_t seed) {
    return std::count_if(previous.begin(), previous.end(),
                         [&](const CycleRecord& c) { return c.arm == arm && c.seed == seed; }) ==
           static_cast<long>(cycles);
  };
  for (const auto& c : previous)
    if (finished(c.arm, c.seed)) result.records.push_back(c);
  selections.erase(std::remove_if(selections.begin(), selections.end(),
                                  [&](const auto& s) { return !finished(s[0], std::stoull(s[1])); }),
                   selections.end());

  for (const auto& arm : config.arms) {
    const auto strategy = make_strategy(arm.strategy);
    for (uint64_t seed : config.seeds) {
      if (finished(arm.name(), seed)) {
        log->info("{} seed {}: already done", arm.name(), seed);
        continue;
      }
      std::vector<size_t> labelled = initial_sets.at(seed);
      for (size_t cycle = 0; cycle < cycles; ++cycle) {
        const auto cycle_start = std::chrono::steady_clock::now();
        ActiveTrainOptions train_options;
        train_options.loss_head = strategy->needs().loss_head;
        train_options.hard_augment = arm.hard_augment;
        train_options.hard = config.hard;
        train_options.seed = derive_seed(seed, {static_cast<uint64_t>(cycle), 0x7A11});
        train_options.device = options.device;
        auto model = train_active_model(train, train_options, dataset, labelled, labels, num_classes);
        const EvalResult eval = evaluate_dataset(*model, dataset, test, data.class_names, train.batch_size,
                                                 options.device, std::max(1, train.workers));
        CycleRecord record;
        record.arm = arm.name();
        record.seed = seed;
        record.cycle = static_cast<int>(cycle);
        record.labelled = labelled.size();
        record.labelled_fraction = static_cast<double>(labelled.size()) / pool.size();
        record.accuracy = eval.report.accuracy;
        record.macro_f1 = eval.report.macro_f1;

        if (cycle + 1 < cycles) {
          const auto target = static_cast<size_t>(std::lround(config.fractions[cycle] * pool.size()));
          HP_CHECK(target > labelled.size(), InputError, "active learning: fraction ", config.fractions[cycle],
                   " of a pool of ", pool.size(), " adds no sample to the ", labelled.size(), " labelled");
          const size_t k = target - labelled.size();
          std::vector<size_t> unlabelled;
          std::set_difference(pool.begin(), pool.end(), labelled.begin(), labelled.end(),
                              std::back_inserter(unlabelled));
          Rng rng(derive_seed(seed, {static_cast<uint64_t>(cycle), 0x5E1E}));
          if (config.subset > 0 && config.subset < unlabelled.size()) {
            shuffle_indices(unlabelled, rng);
            unlabelled.resize(std::max(config.subset, k));
          }
          PoolScoringOptions scoring;
          scoring.needs = strategy->needs();
          scoring.mc_passes = config.mc_passes;
          scoring.batch_size = train.batch_size;
          scoring.workers = std::max(1, train.workers);
          scoring.seed = train_options.seed;
          scoring.device = options.device;
          PoolScores scores;
          scores.count = unlabelled.size();
          if (scoring.needs.predictions) scores = score_pool(*model, dataset, unlabelled, labelled, scoring);
          for (size_t row : strategy->select(scores, k, rng)) {
            const size_t picked = unlabelled[row];
            labelled.push_back(picked);
            selections.push_back({arm.name(), std::to_string(seed), std::to_string(cycle + 1),
                                  data.samples[picked].image_path, data.class_names[labels[picked]]});
          }
          std::sort(labelled.begin(), labelled.end());
        }
        record.seconds = seconds_since(cycle_start);
        log->info("{} seed {} cycle {}: {} labelled ({:.1f}% of the pool): test accuracy {:.4f}, macro-F1 {:.4f} ({:.0f} s)",
                  record.arm, seed, cycle, record.labelled, 100 * record.labelled_fraction, record.accuracy,
                  record.macro_f1, record.seconds);
        result.records.push_back(record);
      }
      write_records(dir, result.records, selections);
    }
  }
  result.seconds = seconds_since(started);
  write_records(dir, result.records, selections);
  write_text_atomic(dir / "summary.json",
                    nlohmann::json{{"pool", result.pool_size},
                                   {"test", result.test_size},
                                   {"classes", data.class_names},
                                   {"parameters", result.parameters},
                                   {"seconds", result.seconds}}
                        .dump(2));
  return result;
}

}  // namespace hemapath
