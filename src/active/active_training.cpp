#include "hemapath/active/active_training.h"

#include <algorithm>
#include <cmath>
#include <limits>

#include "hemapath/core/error.h"
#include "hemapath/core/log.h"
#include "hemapath/core/random.h"
#include "hemapath/data/batch_loader.h"
#include "hemapath/data/class_balance.h"
#include "hemapath/data/split.h"
#include "hemapath/models/registry.h"
#include "hemapath/train/memory_format.h"
#include "hemapath/train/optimizer.h"

namespace hemapath {

HardAugmentConfig HardAugmentConfig::from_config(const ConfigNode& node) {
  HardAugmentConfig c;
  c.fraction = node.get_number("fraction", c.fraction, 0, 1);
  c.copies = static_cast<int>(node.get_int("copies", c.copies, 0, 100));
  c.by = node.get_choice("by", c.by, {"loss", "predicted_loss"});
  return c;
}

nlohmann::json HardAugmentConfig::to_json() const {
  return {{"fraction", fraction}, {"copies", copies}, {"by", by}};
}

std::vector<size_t> hard_sample_copies(const std::vector<size_t>& labelled, const std::vector<double>& hardness,
                                       double fraction, int copies) {
  if (fraction <= 0 || copies <= 0 || labelled.empty()) return {};
  std::vector<size_t> measured;
  for (size_t i : labelled)
    if (i < hardness.size() && std::isfinite(hardness[i])) measured.push_back(i);
  std::stable_sort(measured.begin(), measured.end(),
                   [&](size_t a, size_t b) { return hardness[a] > hardness[b] || (hardness[a] == hardness[b] && a < b); });
  const auto wanted = static_cast<size_t>(std::ceil(fraction * static_cast<double>(labelled.size()) - 1e-9));
  measured.resize(std::min(measured.size(), wanted));
  std::vector<size_t> out;
  for (int c = 0; c < copies; ++c) out.insert(out.end(), measured.begin(), measured.end());
  return out;
}

ClassifierOptions active_model_options(const TrainConfig& config, int num_classes, bool loss_head) {
  HP_CHECK(config.arch.rfind("resnet", 0) == 0, ConfigError, "active learning trains a ResNet (model.arch: resnet18, ",
           "resnet34 or resnet50, with extra.attention by option); got '", config.arch, "'");
  ClassifierOptions options = config.model;
  options.num_classes = num_classes;
  if (loss_head) options.extra["loss_net"] = true;
  return options;
}

std::shared_ptr<ResNetImpl> train_active_model(const TrainConfig& config, const ActiveTrainOptions& options,
                                               const ClassificationDataset& dataset,
                                               const std::vector<size_t>& labelled, const std::vector<int>& labels,
                                               int num_classes) {
  HP_CHECK(labelled.size() >= 2, InputError, "active learning: a model needs at least 2 labelled samples, got ",
           labelled.size());
  HP_CHECK(!(options.hard_augment && options.hard.by == "predicted_loss" && !options.loss_head), ConfigError,
           "active.hard_augment.by: predicted_loss needs a strategy with a loss head (learned_loss)");
  seed_everything(options.seed);
  ClassifierOptions model_options = active_model_options(config, num_classes, options.loss_head);
  auto model = std::dynamic_pointer_cast<ResNetImpl>(create_classifier(config.arch, model_options));
  model->to(options.device);
  const TrainingLayout layout = classifier_layout(config, *model, options.device);
  use_layout(*model, layout);
  auto optimizer = make_optimizer(config.optimizer, model->parameters());
  LrSchedule schedule(config.schedule, config.optimizer.lr, config.epochs);

  auto loss_options = torch::nn::functional::CrossEntropyFuncOptions().label_smoothing(config.label_smoothing);
  if (config.imbalance == "class_weights") {
    std::vector<int> labelled_labels;
    for (size_t i : labelled) labelled_labels.push_back(labels[i]);
    const std::vector<double> w = class_weights(labelled_labels, num_classes, config.class_weight_power);
    loss_options.weight(torch::tensor(std::vector<float>(w.begin(), w.end())).to(options.device));
  }

  // Hardness of each sample as measured during the previous epoch (NaN: not seen yet).
  std::vector<double> hardness(dataset.size(), std::numeric_limits<double>::quiet_NaN());
  const int detach_from = config.loss_head.first_detached_epoch(config.epochs);
  const auto batch_size = static_cast<size_t>(config.batch_size);
  for (int epoch = 0; epoch < config.epochs; ++epoch) {
    set_learning_rate(*optimizer, schedule.lr_for_epoch(epoch));
    model->train();
    std::vector<size_t> order = epoch_training_order(labelled, labels, num_classes,
                                                     config.imbalance == "balanced_sampling", options.seed, epoch);
    if (options.hard_augment) {
      const std::vector<size_t> copies =
          hard_sample_copies(labelled, hardness, options.hard.fraction, options.hard.copies);
      order.insert(order.end(), copies.begin(), copies.end());
      Rng rng(derive_seed(options.seed, {static_cast<uint64_t>(epoch), 0x4A5D}));
      shuffle_indices(order, rng);
    }
    // A last batch of one sample would break BatchNorm's training statistics.
    BatchLoader loader(dataset, order, config.batch_size, /*augment=*/true, options.seed, epoch,
                       std::max(1, config.workers), /*drop_last=*/order.size() > batch_size);
    while (auto batch = loader.next()) {
      const torch::Tensor images = to_layout(batch->images.to(options.device), layout);
      const torch::Tensor targets = batch->labels.to(options.device);
      optimizer->zero_grad();
      LossTerms terms = classification_loss_terms(*model, images, targets, loss_options, config.loss_head,
                                                  epoch >= detach_from);
      const double value = terms.total.item<double>();
      HP_CHECK(std::isfinite(value), Error, "active-learning training diverged at epoch ", epoch + 1,
               ": the loss is not finite (try a lower learning rate)");
      terms.total.backward();
      optimizer->step();
      const torch::Tensor measure =
          (options.hard.by == "predicted_loss" && terms.predicted_loss.defined() ? terms.predicted_loss
                                                                                 : terms.sample_loss)
              .to(torch::kCPU, torch::kFloat64)
              .contiguous();
      const double* m = measure.data_ptr<double>();
      for (size_t r = 0; r < batch->indices.size(); ++r) hardness[batch->indices[r]] = m[r];
    }
  }
  model->eval();
  return model;
}

}  // namespace hemapath
