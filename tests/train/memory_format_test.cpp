// Training memory layouts: the config names map to torch layouts, a network's 4-D parameters
// and buffers move to the layout asked for and back, and other tensors are left alone.
#include "hemapath/train/memory_format.h"

#include <gtest/gtest.h>

#include <stdexcept>

#include "hemapath/models/segmenter.h"
#include "hemapath/models/segmenter_registry.h"
#include "hemapath/train/train_config.h"

namespace hemapath {
namespace {

TEST(TrainingMemoryFormat, EveryConfigNameMapsToALayout) {
  ASSERT_EQ(training_memory_formats(), (std::vector<std::string>{"channels_last", "contiguous"}));
  EXPECT_EQ(training_memory_format("channels_last"), torch::MemoryFormat::ChannelsLast);
  EXPECT_EQ(training_memory_format("contiguous"), torch::MemoryFormat::Contiguous);
  EXPECT_THROW(training_memory_format("nhwc"), std::invalid_argument);
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

  use_memory_format(*model, torch::MemoryFormat::ChannelsLast);
  int64_t moved = 0;  // 1x1 kernels are laid out alike either way: only the others move
  for (const auto& p : model->named_parameters()) {
    if (p.value().dim() != 4) continue;
    EXPECT_TRUE(p.value().is_contiguous(torch::MemoryFormat::ChannelsLast)) << p.key();
    moved += !p.value().is_contiguous();
  }
  EXPECT_GT(moved, 0);
  const torch::Tensor nhwc = to_memory_format(x, torch::MemoryFormat::ChannelsLast);
  EXPECT_TRUE(nhwc.is_contiguous(torch::MemoryFormat::ChannelsLast));
  EXPECT_TRUE(torch::allclose(model->forward(nhwc), before, 1e-5, 1e-5));

  use_memory_format(*model, torch::MemoryFormat::Contiguous);
  for (const auto& p : model->named_parameters()) EXPECT_TRUE(p.value().is_contiguous()) << p.key();
  EXPECT_TRUE(torch::allclose(model->forward(x), before, 1e-5, 1e-5));

  const torch::Tensor labels = torch::arange(6).view({2, 3});  // not 4-D: left as it is
  EXPECT_TRUE(to_memory_format(labels, torch::MemoryFormat::ChannelsLast).is_same(labels));
}

}  // namespace
}  // namespace hemapath
