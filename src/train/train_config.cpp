#include "hemapath/train/train_config.h"

#include <filesystem>

#include "hemapath/core/error.h"
#include "hemapath/train/metrics.h"

namespace hemapath {

const std::vector<std::string>& training_memory_formats() {
  static const std::vector<std::string> names{"channels_last", "contiguous"};
  return names;
}

const std::vector<std::string>& classifier_memory_formats() {
  static const std::vector<std::string> names{"auto", "channels_last", "contiguous", "mkldnn"};
  return names;
}

SplitConfig SplitConfig::from_config(const ConfigNode& split) {
  SplitConfig c;
  c.train = split.get_number("train", c.train, 0, 1);
  c.val = split.get_number("val", c.val, 0, 1);
  c.test = split.get_number("test", c.test, 0, 1);
  c.seed = static_cast<uint64_t>(split.get_int("seed", 1, 0, std::numeric_limits<int64_t>::max()));
  HP_CHECK(std::abs(c.train + c.val + c.test - 1.0) < 1e-6 && c.train > 0, ConfigError, split.where("train"),
           ": train + val + test must be 1 with train > 0");
  c.train_subset = split.get_number("train_subset", 1, 1e-6, 1);
  c.subset_seed = static_cast<uint64_t>(split.get_int("subset_seed", 1, 0, std::numeric_limits<int64_t>::max()));
  c.group_by = split.get<std::string>("group_by", "");
  return c;
}

nlohmann::json SplitConfig::to_json() const {
  nlohmann::json j = {{"train", train},
                      {"val", val},
                      {"test", test},
                      {"seed", seed},
                      {"train_subset", train_subset},
                      {"subset_seed", subset_seed}};
  // Written only when set, so that the configs of models split image by image stay as they were.
  if (!group_by.empty()) j["group_by"] = group_by;
  return j;
}

FreezeConfig FreezeConfig::from_config(const ConfigNode& node, int epochs) {
  FreezeConfig f;
  const nlohmann::json stages = node.get_json("stages", "none");
  if (stages == "backbone") {
    f.stages = FreezeConfig::kBackbone;
  } else if (stages.is_number_integer() && stages.get<int64_t>() >= 1 && stages.get<int64_t>() <= 1000) {
    f.stages = stages.get<int>();
  } else {
    HP_CHECK(stages == "none", ConfigError, node.where("stages"), " is ", stages.dump(),
             ": expected none, backbone or a number of stages >= 1");
  }
  f.unfreeze_epoch = static_cast<int>(node.get_int("unfreeze_epoch", 0, 0, epochs));
  f.unfreeze_lr = node.get_number("unfreeze_lr", 0, 0, 10);
  HP_CHECK(f.stages != 0 || f.unfreeze_epoch == 0, ConfigError, node.where("unfreeze_epoch"),
           " is set but nothing is frozen (set ", node.where("stages"), ")");
  return f;
}

nlohmann::json FreezeConfig::to_json() const {
  return {{"stages", stages}, {"unfreeze_epoch", unfreeze_epoch}, {"unfreeze_lr", unfreeze_lr}};
}

TrainConfig TrainConfig::load(const std::string& file, const std::vector<std::string>& overrides) {
  ConfigNode root = ConfigNode::load_file(file, overrides);
  std::string base = std::filesystem::path(file).parent_path().string();
  return from_config(root, base.empty() ? "." : base);
}

TrainConfig TrainConfig::from_config(const ConfigNode& root, const std::string& base_dir) {
  TrainConfig c;
  root.get_choice("task", "classification", {"classification"});
  c.seed = static_cast<uint64_t>(root.get_int("seed", 1, 0, std::numeric_limits<int64_t>::max()));

  ConfigNode data = root.child("data");
  c.data = DatasetSpec::from_config(data, base_dir);
  c.split = SplitConfig::from_config(data.child("split"));
  c.crop = CropOptions::from_config(data.child("crop"));
  c.workers = static_cast<int>(data.get_int("workers", c.workers, 0, 64));

  ConfigNode model = root.child("model");
  c.arch = model.require<std::string>("arch");
  c.model.dropout = model.get_number("dropout", -1, -1, 0.99);
  c.model.in_channels = 3;
  c.model.extra = model.get_json("extra", nlohmann::json::object());
  c.pretrained = model.get_path("pretrained", base_dir);

  c.normalization = Normalization::from_config(root.child("normalization"));
  c.augment = AugmentOptions::from_config(root.child("augment"));

  ConfigNode train = root.child("train");
  c.epochs = static_cast<int>(train.get_int("epochs", c.epochs, 1, 100000));
  c.batch_size = static_cast<int>(train.get_int("batch_size", c.batch_size, 1, 65536));
  c.micro_batches = static_cast<int>(train.get_int("micro_batches", c.micro_batches, 1, 65536));
  HP_CHECK(c.micro_batches <= c.batch_size, ConfigError, "train.micro_batches ", c.micro_batches,
           " is larger than train.batch_size ", c.batch_size, ": every part needs at least one image");
  c.label_smoothing = train.get_number("label_smoothing", c.label_smoothing, 0, 0.99);
  c.bn_recalibration = train.get<bool>("bn_recalibration", c.bn_recalibration);
  c.imbalance = train.get_choice("imbalance", c.imbalance, {"none", "class_weights", "balanced_sampling"});
  c.class_weight_power = train.get_number("class_weight_power", c.class_weight_power, 0, 2);
  std::vector<std::string> monitors = metric_names();
  monitors.push_back("loss");
  c.monitor = train.get_choice("monitor", c.monitor, monitors);
  c.memory_format = train.get_choice("memory_format", c.memory_format, classifier_memory_formats());
  c.early_stop_patience =
      static_cast<int>(train.child("early_stopping").get_int("patience", c.early_stop_patience, 0, 100000));
  c.optimizer = OptimizerConfig::from_config(train.child("optimizer"));
  c.schedule = ScheduleConfig::from_config(train.child("schedule"));
  c.freeze = FreezeConfig::from_config(train.child("freeze"), c.epochs);
  c.loss_head = LossHeadConfig::from_config(train.child("loss_head"));
  root.finish();
  return c;
}

nlohmann::json TrainConfig::to_json() const {
  return {
      {"task", "classification"},
      {"seed", seed},
      {"data", {{"spec", data.to_json()}, {"split", split.to_json()}, {"crop", crop.to_json()}, {"workers", workers}}},
      {"model", {{"arch", arch}, {"dropout", model.dropout}, {"extra", model.extra}, {"pretrained", pretrained}}},
      {"normalization", normalization.to_json()},
      {"augment", augment.to_json()},
      {"train",
       {{"epochs", epochs},
        {"batch_size", batch_size},
        {"micro_batches", micro_batches},
        {"label_smoothing", label_smoothing},
        {"bn_recalibration", bn_recalibration},
        {"imbalance", imbalance},
        {"class_weight_power", class_weight_power},
        {"monitor", monitor},
        {"memory_format", memory_format},
        {"early_stop_patience", early_stop_patience},
        {"optimizer", optimizer.to_json()},
        {"schedule", schedule.to_json()},
        {"freeze", freeze.to_json()},
        {"loss_head", loss_head.to_json()}}}};
}

}  // namespace hemapath
