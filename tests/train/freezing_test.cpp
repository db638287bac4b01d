// Fine-tuning controls: which stages --freeze covers, that frozen weights and batch-norm
// statistics stay put until the unfreeze epoch, and training on a share of the train part.
#include <gtest/gtest.h>

#include "hemapath/core/error.h"
#include "hemapath/models/model_file.h"
#include "hemapath/models/registry.h"
#include "hemapath/models/weight_import.h"
#include "hemapath/train/freezing.h"
#include "hemapath/train/trainer.h"
#include "test_support.h"

namespace hemapath {
namespace {

ClassifierPtr resnet18() {
  torch::manual_seed(0);
  ClassifierOptions options;
  options.num_classes = 3;
  return create_classifier("resnet18", options);
}

TEST(Freezing, PrefixesFollowTheStages) {
  auto model = resnet18();
  FreezeConfig freeze;
  EXPECT_TRUE(frozen_prefixes(*model, freeze).empty());
  freeze.stages = 2;
  EXPECT_EQ(frozen_prefixes(*model, freeze), (std::vector<std::string>{"conv1", "bn1", "layer1"}));
  freeze.stages = FreezeConfig::kBackbone;
  EXPECT_EQ(frozen_prefixes(*model, freeze),
            (std::vector<std::string>{"conv1", "bn1", "layer1", "layer2", "layer3", "layer4"}));
  freeze.stages = 6;
  try {
    frozen_prefixes(*model, freeze);
    FAIL() << "expected an error";
  } catch (const ConfigError& e) {
    EXPECT_NE(std::string(e.what()).find("train.freeze.stages is 6 but this architecture has 5 stages"),
              std::string::npos)
        << e.what();
  }
}

TEST(Freezing, FrozenModulesGetNoGradientAndKeepTheirStatistics) {
  auto model = resnet18();
  FreezeConfig freeze;
  freeze.stages = FreezeConfig::kBackbone;
  const auto prefixes = frozen_prefixes(*model, freeze);
  const ParameterPartition parts = partition_parameters(*model, prefixes);
  EXPECT_EQ(parts.trainable.size(), 2u);  // fc.weight, fc.bias
  EXPECT_EQ(parts.trainable.size() + parts.frozen.size(), model->parameters().size());

  model->train();
  set_frozen(*model, prefixes, true);
  const torch::Tensor mean_before = model->named_buffers()["bn1.running_mean"].clone();
  torch::nn::functional::cross_entropy(model->forward(torch::randn({4, 3, 64, 64})), torch::tensor({0, 1, 2, 0}))
      .backward();
  for (const auto& p : model->named_parameters()) {
    const bool head = p.key().rfind("fc.", 0) == 0;
    EXPECT_EQ(p.value().grad().defined(), head) << p.key();
  }
  EXPECT_TRUE(torch::equal(model->named_buffers()["bn1.running_mean"], mean_before));

  set_frozen(*model, prefixes, false);
  model->train();
  model->forward(torch::randn({4, 3, 64, 64}));
  EXPECT_FALSE(torch::equal(model->named_buffers()["bn1.running_mean"], mean_before));
}

TEST(Freezing, EpochWindow) {
  FreezeConfig freeze;
  freeze.stages = 1;
  freeze.unfreeze_epoch = 3;  // 1-based: epochs 1 and 2 frozen
  EXPECT_TRUE(frozen_in_epoch(freeze, 0));
  EXPECT_TRUE(frozen_in_epoch(freeze, 1));
  EXPECT_FALSE(frozen_in_epoch(freeze, 2));
  freeze.unfreeze_epoch = 0;
  EXPECT_TRUE(frozen_in_epoch(freeze, 100));
  freeze.stages = 0;
  EXPECT_FALSE(frozen_in_epoch(freeze, 0));
}

// End to end: a pretrained start with the first two stages frozen for one epoch, then thawed.
TEST(Freezing, TrainerKeepsFrozenStagesUntilTheUnfreezeEpoch) {
  test::ScratchDir dir;
  const std::string config_path = test::write_tiny_wbc_config(
      dir.path(), 4, "{epochs: 2, batch_size: 4, optimizer: {name: adam, lr: 0.01, weight_decay: 0}, schedule: {name: constant}}",
      "{enabled: false}");
  TrainRunOptions first;
  first.out_dir = dir / "source";
  const std::string source = train_classifier(TrainConfig::load(config_path), first).last_model;
  const StateDict start = state_dict_of(*load_classifier(source, torch::kCPU).model);

  // Two epochs, thawing at the second; `epochs_run` 1 stops as an interruption would.
  const auto finetune = [&](const std::string& out, int epochs_run) {
    TrainConfig config = TrainConfig::load(
        config_path, {"model.pretrained=" + source, "train.freeze.stages=2", "train.freeze.unfreeze_epoch=2"});
    TrainRunOptions options;
    options.out_dir = dir / out;
    options.stop_after_epochs = epochs_run;
    TrainResult r = train_classifier(config, options);
    EXPECT_NE(r.pretrained.find("loaded"), std::string::npos) << r.pretrained;
    return state_dict_of(*load_classifier(r.last_model, torch::kCPU).model);
  };
  const auto frozen_prefix = [](const std::string& name) {
    return name.rfind("features.0.", 0) == 0 || name.rfind("features.1.", 0) == 0;
  };
  // After epoch 1, still frozen: stages 1-2 equal the source, the rest moved.
  const StateDict after_one = finetune("frozen", 1);
  size_t moved = 0, frozen = 0;
  for (const auto& [name, tensor] : after_one) {
    if (frozen_prefix(name)) {
      ++frozen;
      EXPECT_TRUE(torch::equal(tensor, start.at(name))) << name;
    } else {
      moved += !torch::equal(tensor, start.at(name));
    }
  }
  EXPECT_GT(frozen, 0u);
  EXPECT_GT(moved, 0u);
  // Thawed in epoch 2: the early stages train too.
  const StateDict after_two = finetune("thawed", 2);
  size_t thawed = 0;
  for (const auto& [name, tensor] : after_two)
    if (frozen_prefix(name) && tensor.is_floating_point()) thawed += !torch::equal(tensor, start.at(name));
  EXPECT_GT(thawed, 0u);
}

TEST(Freezing, ConfigErrorsNameTheKey) {
  test::ScratchDir dir;
  const std::string config_path = test::write_tiny_wbc_config(dir.path(), 2, "{epochs: 3}", "{enabled: false}");
  const auto message = [&](const std::vector<std::string>& overrides) {
    try {
      TrainConfig::load(config_path, overrides);
    } catch (const ConfigError& e) {
      return std::string(e.what());
    }
    return std::string("no error");
  };
  EXPECT_NE(message({"train.freeze.stages=head"}).find("train.freeze.stages"), std::string::npos);
  EXPECT_NE(message({"train.freeze.unfreeze_epoch=2"}).find("nothing is frozen"), std::string::npos);
  EXPECT_NE(message({"train.freeze.stages=1", "train.freeze.unfreeze_epoch=9"}).find("train.freeze.unfreeze_epoch"),
            std::string::npos);
  EXPECT_NE(message({"data.split.train_subset=0"}).find("data.split.train_subset"), std::string::npos);
}

TEST(Freezing, TrainSubsetKeepsAStratifiedShareOfTheTrainPartOnly) {
  std::vector<int> labels;
  for (int c = 0; c < 4; ++c)
    for (int i = 0; i < 25; ++i) labels.push_back(c);
  SplitConfig split;
  const SplitIndices full = split_for(split, labels);
  split.train_subset = 0.2;
  const SplitIndices part = split_for(split, labels);
  EXPECT_EQ(part.val, full.val);
  EXPECT_EQ(part.test, full.test);
  // Each class has 17 training images (25 x 0.7, the remainders going to val and test);
  // 20% of 17 is 3.4, rounded to 3 per class.
  EXPECT_EQ(part.train.size(), 12u);
  for (size_t i : part.train) EXPECT_TRUE(std::binary_search(full.train.begin(), full.train.end(), i));
  std::vector<int> per_class(4, 0);
  for (size_t i : part.train) ++per_class[labels[i]];
  EXPECT_EQ(per_class, (std::vector<int>{3, 3, 3, 3}));
  split.subset_seed = 2;
  EXPECT_NE(split_for(split, labels).train, part.train);
}

}  // namespace
}  // namespace hemapath
