#include "hemapath/train/segmentation_config.h"

#include <filesystem>
#include <limits>

#include "hemapath/core/error.h"

namespace hemapath {

std::vector<std::string> segmentation_monitor_names() {
  return {"foreground_miou", "mean_iou", "mean_dice", "pixel_accuracy"};
}

int64_t SegmentationTrainConfig::output_channels() const {
  return binary && data.num_classes() == 2 ? 1 : data.num_classes();
}

InstanceOptions instance_options_from_config(const ConfigNode& node) {
  InstanceOptions o;
  o.threshold = node.get_number("threshold", o.threshold, 0, 1);
  o.min_area = static_cast<int>(node.get_int("min_area", o.min_area, 0, std::numeric_limits<int>::max()));
  o.max_area = static_cast<int>(node.get_int("max_area", o.max_area, 0, std::numeric_limits<int>::max()));
  o.watershed = node.get<bool>("watershed", o.watershed);
  o.marker_height = node.get_number("marker_height", o.marker_height, 1e-6, 1e6);
  o.min_distance = static_cast<int>(node.get_int("min_distance", o.min_distance, 0, 100000));
  o.fill_holes = node.get<bool>("fill_holes", o.fill_holes);
  o.interior_seeds = node.get<bool>("interior_seeds", o.interior_seeds);
  HP_CHECK(o.max_area == 0 || o.max_area >= o.min_area, ConfigError, node.where("max_area"), " is ", o.max_area,
           ": expected 0 (no limit) or at least min_area (", o.min_area, ")");
  validate(o);
  return o;
}

nlohmann::json instance_options_to_json(const InstanceOptions& o) {
  return {{"threshold", o.threshold},         {"min_area", o.min_area},           {"max_area", o.max_area},
          {"watershed", o.watershed},         {"marker_height", o.marker_height}, {"min_distance", o.min_distance},
          {"fill_holes", o.fill_holes},       {"interior_seeds", o.interior_seeds}};
}

InstanceOptions instance_options_from_json(const nlohmann::json& json) {
  return instance_options_from_config(ConfigNode(json, "model file", "instances"));
}

std::string config_task(const std::string& file, const std::vector<std::string>& overrides) {
  return ConfigNode::load_file(file, overrides).get<std::string>("task", "classification");
}

SegmentationTrainConfig SegmentationTrainConfig::load(const std::string& file,
                                                      const std::vector<std::string>& overrides) {
  ConfigNode root = ConfigNode::load_file(file, overrides);
  std::string base = std::filesystem::path(file).parent_path().string();
  return from_config(root, base.empty() ? "." : base);
}

SegmentationTrainConfig SegmentationTrainConfig::from_config(const ConfigNode& root, const std::string& base_dir) {
  SegmentationTrainConfig c;
  root.get_choice("task", "segmentation", {"segmentation"});
  c.seed = static_cast<uint64_t>(root.get_int("seed", 1, 0, std::numeric_limits<int64_t>::max()));

  ConfigNode data = root.child("data");
  c.data = SegmentationDataSpec::from_config(data, base_dir);
  if (data.has("split")) c.split = SplitConfig::from_config(data.child("split"));
  HP_CHECK(c.split.train_subset == 1, ConfigError, data.where("split.train_subset"),
           " is not supported for segmentation");
  HP_CHECK(c.split.group_by.empty(), ConfigError, data.where("split.group_by"),
           " is not supported for segmentation: its split is by image already");
  c.scale = data.get_number("scale", c.scale, 0.05, 8);
  c.mpp = data.get_number("mpp", c.mpp, 0, 1000);
  if (data.has("stain")) c.stain = StainNormalizer::load(data.get_path("stain", base_dir, true));
  c.patch = static_cast<int>(data.get_int("patch", c.patch, 16, 8192));
  c.patches_per_image = static_cast<int>(data.get_int("patches_per_image", c.patches_per_image, 1, 1000));
  c.workers = static_cast<int>(data.get_int("workers", c.workers, 0, 64));

  ConfigNode model = root.child("model");
  c.arch = model.require<std::string>("arch");
  c.extra = model.get_json("extra", nlohmann::json::object());
  HP_CHECK(c.extra.is_object(), ConfigError, model.where("extra"), " must be a mapping");
  c.binary = model.get<bool>("binary", c.binary);
  c.pretrained = model.get_path("pretrained", base_dir);

  c.normalization = Normalization::from_config(root.child("normalization"));
  c.augment = AugmentOptions::from_config(root.child("augment"));
  c.loss = SegmentationLossConfig::from_config(root.child("loss"));
  if (c.data.unlabelled_id) {
    // Pixels of unknown class must not count as background.
    if (c.loss.ignore_index < 0) c.loss.ignore_index = kUnlabelledTarget;
    HP_CHECK(c.loss.ignore_index == kUnlabelledTarget, ConfigError, "config '", root.source(),
             "': key 'loss.ignore_index' is ", c.loss.ignore_index, " but data.unlabelled_id makes unknown pixels ",
             kUnlabelledTarget, ": leave it out or set it to ", kUnlabelledTarget);
  }
  const size_t weights_expected = static_cast<size_t>(c.output_channels());
  HP_CHECK(c.loss.class_weights.empty() || c.loss.class_weights.size() == weights_expected, ConfigError,
           "config '", root.source(), "': key 'loss.class_weights' has ", c.loss.class_weights.size(),
           " values: expected ", weights_expected,
           weights_expected == 1 ? " (a binary network takes one weight, the foreground's)" : " (one per class)");

  ConfigNode train = root.child("train");
  c.epochs = static_cast<int>(train.get_int("epochs", c.epochs, 1, 100000));
  c.batch_size = static_cast<int>(train.get_int("batch_size", c.batch_size, 1, 4096));
  c.monitor = train.get_choice("monitor", c.monitor, segmentation_monitor_names());
  c.memory_format = train.get_choice("memory_format", c.memory_format, training_memory_formats());
  c.early_stop_patience =
      static_cast<int>(train.child("early_stopping").get_int("patience", c.early_stop_patience, 0, 100000));
  c.optimizer = OptimizerConfig::from_config(train.child("optimizer"));
  c.schedule = ScheduleConfig::from_config(train.child("schedule"));
  c.freeze = FreezeConfig::from_config(train.child("freeze"), c.epochs);
  c.instances = instance_options_from_config(root.child("instances"));
  root.finish();
  return c;
}

nlohmann::json SegmentationTrainConfig::to_json() const {
  return {{"task", "segmentation"},
          {"seed", seed},
          {"data",
           {{"spec", data.to_json()},
            {"split", split.to_json()},
            {"scale", scale},
            {"mpp", mpp},
            {"stain", stain ? stain->to_json() : nlohmann::json(nullptr)},
            {"patch", patch},
            {"patches_per_image", patches_per_image},
            {"workers", workers}}},
          {"model", {{"arch", arch}, {"extra", extra}, {"binary", binary}, {"pretrained", pretrained}}},
          {"normalization", normalization.to_json()},
          {"augment", augment.to_json()},
          {"loss", loss.to_json()},
          {"train",
           {{"epochs", epochs},
            {"batch_size", batch_size},
            {"monitor", monitor},
            {"memory_format", memory_format},
            {"early_stop_patience", early_stop_patience},
            {"optimizer", optimizer.to_json()},
            {"schedule", schedule.to_json()},
            {"freeze", freeze.to_json()}}},
          {"instances", instance_options_to_json(instances)}};
}

}  // namespace hemapath
