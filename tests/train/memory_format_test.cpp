// Training memory layouts: the config names map to layouts, a network's 4-D parameters and
// buffers move to the layout asked for and back, batches are converted (oneDNN's blocked
// layout included), and "auto" picks oneDNN's layout for a ResNet only when its training step
// runs there, leaving the network and the random generator as they were.
#include "hemapath/train/memory_format.h"

#include <gtest/gtest.h>

#include <stdexcept>

#include "hemapath/core/error.h"
#include "hemapath/models/classifier.h"
#include "hemapath/models/registry.h"
#include "hemapath/models/segmenter.h"
#include "hemapath/models/segmenter_registry.h"
#include "hemapath/train/train_config.h"
#include "test_support.h"

namespace hemapath {
namespace {

TEST(TrainingMemoryFormat, EveryConfigNameMapsToALayout) {
  ASSERT_EQ(training_memory_formats(), (std::vector<std::string>{"channels_last", "contiguous"}));
  ASSERT_EQ(classifier_memory_formats(), (std::vector<std::string>{"auto", "channels_last", "contiguous", "mkldnn"}));
  for (const std::string name : {"channels_last", "contiguous", "mkldnn"})
    EXPECT_EQ(layout_name(training_layout(name)), name);
  EXPECT_THROW(training_layout("nhwc"), std::invalid_argument);
  EXPECT_THROW(training_layout("auto"), std::invalid_argument) << "auto is resolved per network";
}

TEST(TrainingMemoryFormat, MovesFourDimensionalWeightsBothWaysAndKeepsTheirValues) {
  torch::manual_seed(1);
  SegmenterOptions options;
  options.num_classes = 2;
  options.extra = {{"depth", 2}, {"width", 4}};
  SegmenterPtr model = create_segmenter("unet", options);
  const torch::Tensor x = torch::rand({1, 3, 32, 32});
  model->eval();
  const torch::Tensor before = model->forward(x);

  use_layout(*model, TrainingLayout::channels_last);
  int64_t moved = 0;  // 1x1 kernels are laid out alike either way: only the others move
  for (const auto& p : model->named_parameters()) {
    if (p.value().dim() != 4) continue;
    EXPECT_TRUE(p.value().is_contiguous(torch::MemoryFormat::ChannelsLast)) << p.key();
    moved += !p.value().is_contiguous();
  }
  EXPECT_GT(moved, 0);
  const torch::Tensor nhwc = to_layout(x, TrainingLayout::channels_last);
  EXPECT_TRUE(nhwc.is_contiguous(torch::MemoryFormat::ChannelsLast));
  EXPECT_TRUE(torch::allclose(model->forward(nhwc), before, 1e-5, 1e-5));

  use_layout(*model, TrainingLayout::mkldnn);  // oneDNN's layout keeps the weights plain
  for (const auto& p : model->named_parameters()) EXPECT_TRUE(p.value().is_contiguous()) << p.key();
  EXPECT_TRUE(torch::allclose(model->forward(x), before, 1e-5, 1e-5));

  const torch::Tensor labels = torch::arange(6).view({2, 3});  // not 4-D: left as it is
  EXPECT_TRUE(to_layout(labels, TrainingLayout::channels_last).is_same(labels));
  EXPECT_TRUE(to_layout(labels, TrainingLayout::mkldnn).is_same(labels));
  const torch::Tensor blocked = to_layout(x, TrainingLayout::mkldnn);
  ASSERT_TRUE(blocked.is_mkldnn());
  EXPECT_TRUE(torch::equal(blocked.to_dense(), x));
}

TrainConfig classifier_config(const std::string& arch, const std::string& memory_format) {
  TrainConfig config;
  config.arch = arch;
  config.memory_format = memory_format;
  config.crop.size = 64;
  return config;
}

ClassifierPtr seeded(const std::string& arch) {
  torch::manual_seed(5);
  ClassifierOptions options;
  options.num_classes = 3;
  ClassifierPtr model = create_classifier(arch, options);
  model->train();
  return model;
}

TEST(TrainingMemoryFormat, AutoTrainsAResNetInOneDnnsLayoutAndLeavesItAsItWas) {
  ClassifierPtr model = seeded("resnet18");
  const torch::Tensor mean_before = model->named_buffers()["bn1.running_mean"].clone();
  torch::manual_seed(9);
  const torch::Tensor expected_draw = torch::rand({4});
  torch::manual_seed(9);
  EXPECT_EQ(classifier_layout(classifier_config("resnet18", "auto"), *model, torch::kCPU), TrainingLayout::mkldnn);
  EXPECT_TRUE(torch::equal(torch::rand({4}), expected_draw)) << "the trial step used the random generator";
  EXPECT_TRUE(torch::equal(model->named_buffers()["bn1.running_mean"], mean_before))
      << "the trial step changed BatchNorm's statistics";
  for (const auto& p : model->parameters()) EXPECT_FALSE(p.grad().defined()) << "a gradient was left behind";

  // A ResNet step in oneDNN's layout gives the plain step's loss and gradients (float rounding).
  const torch::Tensor x = torch::rand({4, 3, 64, 64}), y = torch::tensor({0, 1, 2, 1});
  std::vector<torch::Tensor> losses, grads;
  for (TrainingLayout layout : {TrainingLayout::contiguous, TrainingLayout::mkldnn}) {
    ClassifierPtr m = seeded("resnet18");
    use_layout(*m, layout);
    const torch::Tensor loss = torch::nn::functional::cross_entropy(m->forward(to_layout(x, layout)), y);
    loss.backward();
    losses.push_back(loss.detach());
    grads.push_back(m->named_parameters()["fc.weight"].grad().clone());
  }
  EXPECT_NEAR(losses[0].item<double>(), losses[1].item<double>(), 1e-4);
  EXPECT_LT((grads[0] - grads[1]).abs().max().item<double>(), 1e-3 * grads[0].abs().max().item<double>());
}

TEST(TrainingMemoryFormat, NetworksWithoutOneDnnKernelsGetChannelsLastOrAClearError) {
  ClassifierPtr model = seeded("efficientnet_b0");
  EXPECT_EQ(classifier_layout(classifier_config("efficientnet_b0", "auto"), *model, torch::kCPU),
            TrainingLayout::channels_last)
      << "auto tries oneDNN's layout on ResNets only";
  try {
    classifier_layout(classifier_config("efficientnet_b0", "mkldnn"), *model, torch::kCPU);
    FAIL() << "EfficientNet ran in oneDNN's layout";
  } catch (const ConfigError& e) {
    EXPECT_TRUE(test::contains(e.what(), "train.memory_format mkldnn")) << e.what();
    EXPECT_TRUE(test::contains(e.what(), "efficientnet_b0")) << e.what();
  }
  for (const auto& p : model->parameters()) EXPECT_FALSE(p.grad().defined()) << "a gradient was left behind";
  EXPECT_EQ(classifier_layout(classifier_config("efficientnet_b0", "contiguous"), *model, torch::kCPU),
            TrainingLayout::contiguous);
}

}  // namespace
}  // namespace hemapath
