#include "hemapath/active/labelling_project.h"

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <iomanip>
#include <limits>
#include <map>
#include <set>
#include <sstream>

#include "hemapath/active/pool_scoring.h"
#include "hemapath/active/selection_strategy.h"
#include "hemapath/core/atomic_file.h"
#include "hemapath/core/error.h"
#include "hemapath/core/log.h"
#include "hemapath/data/dataset_spec.h"
#include "hemapath/io/contact_sheet.h"
#include "hemapath/io/csv.h"
#include "hemapath/models/model_file.h"

namespace hemapath {
namespace fs = std::filesystem;

namespace {

struct Project {
  fs::path dir;
  std::string pool;
  std::vector<std::string> classes;
  int rounds = 0;
  std::string model;
  std::map<std::string, std::string> labelled;  // image (relative to the pool) -> class

  static bool exists(const fs::path& dir) { return fs::exists(dir / "project.json"); }

  static Project load(const fs::path& dir) {
    const fs::path file = dir / "project.json";
    HP_CHECK(fs::exists(file), InputError, "'", dir.string(), "' is not an active-learning project (no project.json)");
    std::ifstream in(file);
    const auto j = nlohmann::json::parse(in, nullptr, /*allow_exceptions=*/false);
    HP_CHECK(j.is_object() && j.contains("pool") && j.contains("classes"), InputError, file.string(),
             " is damaged: expected pool, classes, rounds and model");
    Project p;
    p.dir = dir;
    p.pool = j.at("pool").get<std::string>();
    p.classes = j.at("classes").get<std::vector<std::string>>();
    p.rounds = j.value("rounds", 0);
    p.model = j.value("model", std::string());
    const fs::path labels = dir / "labelled.csv";
    if (fs::exists(labels)) {
      const auto rows = read_csv(labels.string());
      for (size_t r = 1; r < rows.size(); ++r)
        if (rows[r].size() >= 2) p.labelled[rows[r][0]] = rows[r][1];
    }
    return p;
  }

  void save() const {
    fs::create_directories(dir);
    CsvWriter csv({"image", "label"});
    for (const auto& [image, label] : labelled) csv.add_row({image, label});
    csv.write((dir / "labelled.csv").string());
    write_text_atomic(dir / "project.json",
                      nlohmann::json{{"pool", pool}, {"classes", classes}, {"rounds", rounds}, {"model", model}}.dump(2));
  }

  std::string round_folder(int round) const {
    std::ostringstream name;
    name << "round-" << std::setw(3) << std::setfill('0') << round;
    return name.str();
  }

  // Images asked in any earlier round.
  std::set<std::string> asked() const {
    std::set<std::string> out;
    for (int r = 1; r <= rounds; ++r) {
      const fs::path query = dir / round_folder(r) / "query.csv";
      if (!fs::exists(query)) continue;
      const auto rows = read_csv(query.string());
      for (size_t i = 1; i < rows.size(); ++i)
        if (rows[i].size() >= 2) out.insert(rows[i][1]);
    }
    return out;
  }
};

// Pool images by name relative to the pool folder, sorted.
std::vector<std::string> pool_images(const std::string& pool) {
  std::vector<std::string> names;
  for (const auto& s : load_unlabelled_images(pool, "").samples)
    names.push_back(fs::relative(s.image_path, pool).generic_string());
  return names;
}

std::string joined(const std::vector<std::string>& items, size_t limit = 5) {
  std::string out;
  for (size_t i = 0; i < items.size() && i < limit; ++i) out += (i ? ", " : "") + items[i];
  if (items.size() > limit) out += ", ... (" + std::to_string(items.size()) + " in all)";
  return out;
}

}  // namespace

QueryResult query_labels(const QueryOptions& options) {
  const fs::path dir(options.project);
  HP_CHECK(!options.project.empty(), InputError, "al query: --project is required");
  Project project;
  if (Project::exists(dir)) {
    project = Project::load(dir);
    HP_CHECK(options.pool.empty() || fs::equivalent(options.pool, project.pool), InputError, "al query: --pool '",
             options.pool, "' differs from the project's pool '", project.pool, "'");
  } else {
    HP_CHECK(!options.pool.empty(), InputError, "al query: --pool is required to start the project '",
             options.project, "'");
    project.dir = dir;
    project.pool = fs::absolute(options.pool).lexically_normal().string();
  }
  const std::string model_path = options.model.empty() ? project.model : options.model;
  HP_CHECK(!model_path.empty(), InputError, "al query: the project has no model yet: pass --model M.hpm");
  LoadedClassifier loaded = load_classifier(model_path, options.device);
  if (project.classes.empty()) project.classes = loaded.header.classes;
  HP_CHECK(loaded.header.classes == project.classes, InputError, "al query: model '", model_path,
           "' knows the classes ", joined(loaded.header.classes), "; the project's are ", joined(project.classes));
  const auto strategy = make_strategy(options.strategy);

  const std::vector<std::string> names = pool_images(project.pool);
  const std::set<std::string> asked = project.asked();
  std::vector<Sample> samples;
  std::vector<size_t> unlabelled, labelled;
  for (const auto& name : names) {
    Sample s;
    s.image_path = (fs::path(project.pool) / name).string();
    const size_t index = samples.size();
    samples.push_back(s);
    if (project.labelled.count(name)) labelled.push_back(index);
    else if (!asked.count(name)) unlabelled.push_back(index);
  }
  HP_CHECK(options.k >= 1, InputError, "al query: --k must be at least 1");
  HP_CHECK(options.k <= unlabelled.size(), InputError, "al query: --k ", options.k, " is larger than the ",
           unlabelled.size(), " pool images neither labelled nor asked before");

  ClassificationDataset dataset(samples, loaded.header.inference_data_options());
  std::vector<size_t> candidates = unlabelled;
  Rng rng(derive_seed(options.seed, {static_cast<uint64_t>(project.rounds + 1), 0x9E7}));
  if (options.subset > 0 && options.subset < candidates.size()) {
    shuffle_indices(candidates, rng);
    candidates.resize(std::max(options.subset, options.k));
  }
  PoolScoringOptions scoring;
  scoring.needs = strategy->needs();
  scoring.needs.predictions = true;  // the predicted class is shown to the person labelling
  scoring.mc_passes = options.mc_passes;
  scoring.batch_size = options.batch_size;
  scoring.workers = std::max(1, options.workers);
  scoring.seed = options.seed;
  scoring.device = options.device;
  const PoolScores scores = score_pool(*loaded.model, dataset, candidates, labelled, scoring);
  const std::vector<size_t> rows = strategy->select(scores, options.k, rng);
  torch::Tensor strategy_scores;
  if (auto* scoring_strategy = dynamic_cast<const ScoringStrategy*>(strategy.get()))
    strategy_scores = scoring_strategy->score(scores).to(torch::kFloat64).contiguous();

  QueryResult result;
  result.round = project.rounds + 1;
  result.folder = project.round_folder(result.round);
  result.unlabelled = unlabelled.size();
  const fs::path round_dir = dir / result.folder;
  HP_CHECK(!fs::exists(round_dir), OutputError, "al query: '", round_dir.string(), "' already exists");
  CsvWriter query({"rank", "image", "score", "predicted", "probability"});
  CsvWriter template_csv({"image", "label"});
  std::vector<ContactSheetItem> sheet;
  for (size_t rank = 0; rank < rows.size(); ++rank) {
    const size_t row = rows[rank];
    const size_t index = candidates[row];
    QueryItem item;
    item.image = names[index];
    item.score = strategy_scores.defined() ? strategy_scores[row].item<double>()
                                           : std::numeric_limits<double>::quiet_NaN();
    const auto best = scores.probabilities[row].max(0);
    item.predicted = project.classes[std::get<1>(best).item<int64_t>()];
    item.probability = std::get<0>(best).item<double>();
    query.add_row({std::to_string(rank + 1), item.image, format_number(item.score), item.predicted,
                   format_number(item.probability, 4)});
    template_csv.add_row({item.image, ""});
    std::ostringstream p;
    p << std::fixed << std::setprecision(2) << item.probability;
    sheet.push_back({dataset.crop(index).clone(),
                     {"#" + std::to_string(rank + 1) + " " + fs::path(item.image).filename().string(),
                      item.predicted + " " + p.str()}});
    result.items.push_back(item);
  }
  fs::create_directories(round_dir);
  query.write((round_dir / "query.csv").string());
  template_csv.write((round_dir / "to_label.csv").string());
  write_contact_sheet((round_dir / "contact_sheet.png").string(), sheet, 8, 96,
                      "round " + std::to_string(result.round) + ": " + options.strategy + ", most wanted first");
  project.rounds = result.round;
  if (project.model.empty()) project.model = fs::absolute(model_path).lexically_normal().string();
  project.save();
  return result;
}

ImportResult import_labels(const std::string& project_dir, const std::string& labels_csv) {
  Project project = Project::load(project_dir);
  const auto rows = read_csv(labels_csv);
  HP_CHECK(!rows.empty(), InputError, "'", labels_csv, "' is empty: expected an image,label header and rows");
  int image_col = -1, label_col = -1;
  for (size_t c = 0; c < rows[0].size(); ++c) {
    if (rows[0][c] == "image") image_col = static_cast<int>(c);
    if (rows[0][c] == "label") label_col = static_cast<int>(c);
  }
  HP_CHECK(image_col >= 0 && label_col >= 0, InputError, "'", labels_csv,
           "' has no 'image' and 'label' columns in its header");
  const std::vector<std::string> names = pool_images(project.pool);
  const std::set<std::string> pool(names.begin(), names.end());
  const std::set<std::string> classes(project.classes.begin(), project.classes.end());
  std::vector<std::string> unknown_images, unknown_classes, conflicts;
  std::map<std::string, std::string> incoming;
  ImportResult result;
  for (size_t r = 1; r < rows.size(); ++r) {
    const auto& row = rows[r];
    if (row.size() == 1 && row[0].empty()) continue;
    const std::string image = static_cast<size_t>(image_col) < row.size() ? row[image_col] : "";
    const std::string label = static_cast<size_t>(label_col) < row.size() ? row[label_col] : "";
    const std::string where = "row " + std::to_string(r + 1);
    if (label.empty()) {
      ++result.blank;
      continue;
    }
    if (!pool.count(image)) unknown_images.push_back(where + " '" + image + "'");
    if (!classes.count(label)) unknown_classes.push_back(where + " '" + label + "'");
    auto [it, inserted] = incoming.emplace(image, label);
    if (!inserted && it->second != label) conflicts.push_back("'" + image + "' (" + it->second + ", " + label + ")");
  }
  HP_CHECK(unknown_images.empty(), InputError, "'", labels_csv, "' names images that are not in the pool '",
           project.pool, "': ", joined(unknown_images));
  HP_CHECK(unknown_classes.empty(), InputError, "'", labels_csv, "' names unknown classes (expected one of ",
           joined(project.classes, 100), "): ", joined(unknown_classes));
  HP_CHECK(conflicts.empty(), InputError, "'", labels_csv, "' gives images two labels: ", joined(conflicts));
  for (const auto& [image, label] : incoming) {
    auto it = project.labelled.find(image);
    if (it == project.labelled.end()) ++result.added;
    else if (it->second != label) ++result.changed;
    else ++result.unchanged;
    project.labelled[image] = label;
  }
  project.save();
  result.labelled = project.labelled.size();
  return result;
}

TrainResult train_project_model(const std::string& project_dir, const std::string& config_file,
                                const std::vector<std::string>& overrides, const c10::Device& device) {
  Project project = Project::load(project_dir);
  HP_CHECK(!project.labelled.empty(), InputError, "al train: project '", project_dir,
           "' has no labelled images yet: run al import first");
  // The classes that have labels, in the project's order: a class nobody has labelled yet
  // cannot be trained (and is left out of this round's model, with a warning).
  std::set<std::string> present;
  for (const auto& [image, label] : project.labelled) present.insert(label);
  nlohmann::json classes = nlohmann::json::array();
  for (const auto& c : project.classes) {
    if (present.count(c)) classes.push_back(c);
    else logger("active")->warn("class {} has no labelled image yet: this round's model leaves it out", c);
  }
  std::vector<std::string> all = {"data.labels=" + (fs::absolute(project.dir) / "labelled.csv").string(),
                                  "data.images=" + project.pool, "data.classes=" + classes.dump()};
  all.insert(all.end(), overrides.begin(), overrides.end());
  const TrainConfig config = TrainConfig::load(config_file, all);
  TrainRunOptions run;
  run.out_dir = (project.dir / "models" / project.round_folder(project.rounds)).string();
  run.device = device;
  TrainResult result = train_classifier(config, run);
  if (classes.size() == project.classes.size()) {
    project.model = fs::absolute(result.best_model).lexically_normal().string();
    project.save();
  } else {
    logger("active")->warn("the project keeps its model: this one does not know every class");
  }
  return result;
}

}  // namespace hemapath
