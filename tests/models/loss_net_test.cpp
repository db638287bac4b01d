// The loss-prediction head and its ranking loss.
#include <gtest/gtest.h>

#include "hemapath/core/error.h"
#include "hemapath/models/classifier.h"
#include "hemapath/models/loss_net.h"
#include "hemapath/models/registry.h"
#include "hemapath/models/resnet.h"

namespace hemapath {
namespace {

TEST(LossRanking, MatchesHandComputedPairs) {
  // Pairs (0, 3) and (1, 2). Pair 0: l0 = 2 > l3 = 1, s = +1, p0 - p3 = 0.5 - 0.2 = 0.3 ->
  // max(0, 1 - 0.3) = 0.7. Pair 1: l1 = 0.1 < l2 = 0.4, s = -1, p1 - p2 = 0.9 - (-0.6) = 1.5 ->
  // max(0, 1 + 1.5) = 2.5. Mean 1.6.
  const auto predicted = torch::tensor({0.5f, 0.9f, -0.6f, 0.2f});
  const auto target = torch::tensor({2.0f, 0.1f, 0.4f, 1.0f});
  EXPECT_NEAR(loss_ranking_loss(predicted, target, 1.0).item<double>(), 1.6, 1e-6);
  // A margin of 0.2: max(0, 0.2 - 0.3) = 0 and max(0, 0.2 + 1.5) = 1.7 -> 0.85.
  EXPECT_NEAR(loss_ranking_loss(predicted, target, 0.2).item<double>(), 0.85, 1e-6);
  // Odd batch: the middle sample has no partner. Pair (0, 2): l0 = 3 > l2 = 1, p0 - p2 = 2 -> 0.
  EXPECT_NEAR(loss_ranking_loss(torch::tensor({3.0f, 7.0f, 1.0f}), torch::tensor({3.0f, 0.0f, 1.0f}), 1.0)
                  .item<double>(),
              0.0, 1e-6);
}

TEST(LossRanking, OnlyThePredictionIsDifferentiated) {
  auto predicted = torch::tensor({0.0f, 0.0f}, torch::requires_grad());
  auto target = torch::tensor({1.0f, 0.0f}, torch::requires_grad());
  loss_ranking_loss(predicted, target).backward();
  // d/dp0 of max(0, 1 - (p0 - p1)) = -1, d/dp1 = +1; the target gets nothing.
  EXPECT_TRUE(torch::allclose(predicted.grad(), torch::tensor({-1.0f, 1.0f})));
  EXPECT_FALSE(target.grad().defined());
}

TEST(LossRanking, RefusesBatchesWithoutAPair) {
  EXPECT_THROW(loss_ranking_loss(torch::tensor({1.0f}), torch::tensor({1.0f})), InputError);
  EXPECT_THROW(loss_ranking_loss(torch::zeros({4}), torch::zeros({3})), InputError);
}

TEST(LossNet, OneScalarPerSampleFromEveryStage) {
  LossNet head(std::vector<int64_t>{8, 16}, 4);
  const auto out = head->forward({torch::randn({3, 8, 6, 6}), torch::randn({3, 16, 3, 3})});
  EXPECT_EQ(out.sizes(), (std::vector<int64_t>{3}));
  EXPECT_THROW(head->forward({torch::randn({3, 8, 6, 6})}), InputError);
  // fc.0 (8*4+4) + fc.1 (16*4+4) + out (8+1)
  int64_t n = 0;
  for (const auto& p : head->parameters()) n += p.numel();
  EXPECT_EQ(n, 36 + 68 + 9);
}

TEST(LossNet, ResNetWithALossHeadReadsItsFourStages) {
  ClassifierOptions o;
  o.num_classes = 3;
  o.extra = {{"loss_net", true}, {"loss_net_width", 16}};
  auto model = std::dynamic_pointer_cast<ResNetImpl>(create_classifier("resnet18", o));
  ASSERT_TRUE(model && model->loss_net());
  model->eval();
  const auto x = torch::randn({2, 3, 64, 64});
  const ResNetOutputs out = model->forward_all(x);
  ASSERT_EQ(out.stages.size(), 4u);
  EXPECT_EQ(out.stages[3].size(1), 512);
  EXPECT_TRUE(torch::allclose(out.logits, model->forward(x)));
  EXPECT_EQ(model->loss_net()->forward(out.stages).sizes(), (std::vector<int64_t>{2}));
  EXPECT_TRUE(model->named_parameters().contains("loss_net.out.weight"));
}

}  // namespace
}  // namespace hemapath
