#include "hemapath/train/eval_set.h"

#include <filesystem>

#include "hemapath/core/error.h"
#include "hemapath/data/split.h"
#include "hemapath/train/segmentation_config.h"
#include "hemapath/train/segmentation_trainer.h"
#include "hemapath/train/train_config.h"
#include "hemapath/train/trainer.h"

namespace hemapath {
namespace {

std::vector<size_t> pick_part(const SplitIndices& split, size_t total, const std::string& part) {
  if (part == "train") return split.train;
  if (part == "val") return split.val;
  if (part == "test") return split.test;
  return all_indices(total);
}

void check_request(const EvalSetRequest& request) {
  HP_CHECK(request.split == "train" || request.split == "val" || request.split == "test" || request.split == "all",
           InputError, "--split '", request.split, "' is not known: expected train, val, test or all");
  HP_CHECK(request.config.empty() || request.data_dir.empty(), InputError,
           "give either --config or --data, not both");
  HP_CHECK(request.data_dir.empty() || request.split == "all" || request.split == "test", InputError, "--split ",
           request.split, " needs --config: a data folder has no split; it is evaluated whole");
}

}  // namespace

SegmentationEvalSet resolve_segmentation_eval_set(const SegmenterHeader& model, const EvalSetRequest& request) {
  check_request(request);
  SegmentationEvalSet out;
  SplitConfig split;
  std::string source;
  if (!request.config.empty()) {
    const SegmentationTrainConfig config = SegmentationTrainConfig::load(request.config, request.overrides);
    out.spec = config.data;
    split = config.split;
    source = request.config;
  } else {
    HP_CHECK(model.training.contains("config"), InputError,
             "the model file records no training config: pass --config");
    const nlohmann::json& data = model.training.at("config").at("data");
    out.spec = SegmentationDataSpec::from_json(data.at("spec"));
    split = SplitConfig::from_config(ConfigNode(data.at("split"), "the model's training config", "data.split"));
    source = "the model's training config";
  }
  HP_CHECK(out.spec.classes == model.classes, InputError, "the classes of ", source,
           " differ from the model's classes (order included)");
  if (!request.data_dir.empty()) {
    out.spec.images = (std::filesystem::path(request.data_dir) / "images").string();
    out.spec.masks = (std::filesystem::path(request.data_dir) / "masks").string();
    out.pairs = list_segmentation_pairs(out.spec);
    out.description = "all " + std::to_string(out.pairs.size()) + " images of '" + request.data_dir + "'";
    return out;
  }
  const std::vector<SegmentationPair> all = list_segmentation_pairs(out.spec);
  for (size_t i : pick_part(segmentation_split(split, all.size()), all.size(), request.split))
    out.pairs.push_back(all[i]);
  HP_CHECK(!out.pairs.empty(), InputError, "the ", request.split, " split of ", source, " is empty");
  out.description = request.split + " split of " + source + " (" + std::to_string(out.pairs.size()) + " images)";
  return out;
}

EvalSet resolve_eval_set(const ClassifierHeader& model, const EvalSetRequest& request) {
  check_request(request);
  EvalSet out;
  if (!request.data_dir.empty()) {
    out.data = load_samples_for_classes(DatasetSpec::from_folder(request.data_dir), model.classes);
    out.indices = all_indices(out.data.samples.size());
    out.description = "all images of '" + request.data_dir + "'";
    return out;
  }

  DatasetSpec spec;
  SplitConfig split;
  std::string source;
  if (!request.config.empty()) {
    TrainConfig config = TrainConfig::load(request.config, request.overrides);
    spec = config.data;
    split = config.split;
    source = request.config;
  } else {
    HP_CHECK(model.training.contains("config"), InputError,
             "the model file records no training config: pass --config or --data");
    // A fold model's parts are not its config's split: rebuilding that would silently pick other images.
    HP_CHECK(!model.training.contains("split_origin") || request.split == "all", InputError,
             "the model was trained on the parts of ", model.training.value("split_origin", std::string()),
             " (listed in split.csv of its run folder), not on its config's split, so --split ", request.split,
             " cannot be rebuilt from it: evaluate it with --data FOLDER or --split all");
    const nlohmann::json& c = model.training.at("config");
    spec = DatasetSpec::from_json(c.at("data").at("spec"));
    source = "the model's training config";
    // Read as a config's split is, so that every key (and its default) is read one way.
    split = SplitConfig::from_config(ConfigNode(c.at("data").at("split"), source, "data.split"));
  }
  out.data = load_samples(spec);
  HP_CHECK(out.data.class_names == model.classes, InputError, "the classes of ", source,
           " differ from the model's classes (order included)");
  SplitIndices parts = split_samples(split, spec, out.data);
  out.indices = pick_part(parts, out.data.samples.size(), request.split);
  HP_CHECK(!out.indices.empty(), InputError, "the ", request.split, " split of ", source, " is empty");
  out.description = request.split + " split of " + source + " (" + std::to_string(out.indices.size()) + " images)";
  return out;
}

}  // namespace hemapath
