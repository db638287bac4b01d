// Precise BatchNorm: statistics become exact averages over the given batches, frozen batch
// norms keep theirs, dropout stays out of it, and modes and momenta come back as they were.
#include <gtest/gtest.h>

#include "hemapath/train/batch_norm_recalibration.h"

namespace hemapath {
namespace {

TEST(BatchNormRecalibration, StatisticsBecomeTheAverageOverTheBatches) {
  torch::manual_seed(0);
  torch::nn::Sequential model(torch::nn::Dropout(0.5),
                              torch::nn::BatchNorm2d(torch::nn::BatchNorm2dOptions(2).momentum(0.01)),
                              torch::nn::BatchNorm2d(torch::nn::BatchNorm2dOptions(2)));
  auto* live = model[1]->as<torch::nn::BatchNorm2d>();
  auto* frozen = model[2]->as<torch::nn::BatchNorm2d>();
  model->train();
  frozen->eval();  // as --freeze leaves a frozen stage
  const torch::Tensor frozen_mean = frozen->running_mean.clone();

  std::vector<torch::Tensor> batches = {torch::randn({4, 2, 3, 3}) * 2 + 5, torch::randn({4, 2, 3, 3}) - 1};
  size_t next = 0;
  const int64_t seen = recalibrate_batch_norm(
      *model, [&]() -> std::optional<torch::Tensor> { return next < batches.size() ? std::optional(batches[next++]) : std::nullopt; },
      [&](const torch::Tensor& x) { return model->forward(x); });
  EXPECT_EQ(seen, 8);
  // The mean of the two batch means; dropout (which would zero and rescale inputs) was off.
  const torch::Tensor expected_mean = (batches[0].mean({0, 2, 3}) + batches[1].mean({0, 2, 3})) / 2;
  const torch::Tensor expected_var = (batches[0].var({0, 2, 3}, true) + batches[1].var({0, 2, 3}, true)) / 2;
  EXPECT_TRUE(torch::allclose(live->running_mean, expected_mean, 1e-5, 1e-5)) << live->running_mean;
  EXPECT_TRUE(torch::allclose(live->running_var, expected_var, 1e-5, 1e-5)) << live->running_var;
  EXPECT_TRUE(torch::equal(frozen->running_mean, frozen_mean));
  EXPECT_EQ(live->options.momentum(), 0.01);
  EXPECT_TRUE(model->is_training());
  EXPECT_TRUE(model[0]->is_training());
  EXPECT_TRUE(live->is_training());
  EXPECT_FALSE(frozen->is_training());
}

TEST(BatchNormRecalibration, NoBatchesLeavesTheStatisticsAlone) {
  torch::nn::BatchNorm2d bn(2);
  bn->running_mean.fill_(3);
  const int64_t seen = recalibrate_batch_norm(
      *bn, []() -> std::optional<torch::Tensor> { return std::nullopt; },
      [&](const torch::Tensor& x) { return bn->forward(x); });
  EXPECT_EQ(seen, 0);
  EXPECT_TRUE(torch::equal(bn->running_mean, torch::full({2}, 3.0)));
}

}  // namespace
}  // namespace hemapath
