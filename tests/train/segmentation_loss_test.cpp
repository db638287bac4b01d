// Segmentation losses against PyTorch's own functions and hand-worked cases.
#include <gtest/gtest.h>

#include <cmath>

#include "hemapath/core/error.h"
#include "hemapath/train/segmentation_loss.h"

namespace hemapath {
namespace {

namespace F = torch::nn::functional;

struct Case {
  torch::Tensor logits, targets;
};

Case random_case(int64_t classes) {
  torch::manual_seed(3);
  return {torch::randn({2, classes, 5, 4}), torch::randint(0, std::max<int64_t>(classes, 2), {2, 5, 4})};
}

TEST(SegmentationLoss, CrossEntropyMatchesPyTorchWithWeightsAndIgnoredPixels) {
  Case c = random_case(3);
  c.targets[0][0][0] = 255;
  c.targets[1][4][3] = 255;
  const std::vector<double> weights = {0.5, 2.0, 1.0};
  const torch::Tensor expected = F::cross_entropy(
      c.logits, c.targets, F::CrossEntropyFuncOptions().weight(torch::tensor({0.5f, 2.0f, 1.0f})).ignore_index(255));
  EXPECT_NEAR(pixel_cross_entropy(c.logits, c.targets, weights, 255).item<double>(), expected.item<double>(), 1e-6);
  const Case plain = random_case(3);
  EXPECT_NEAR(pixel_cross_entropy(plain.logits, plain.targets, {}, -1).item<double>(),
              F::cross_entropy(plain.logits, plain.targets).item<double>(), 1e-6);
}

TEST(SegmentationLoss, BinaryCrossEntropyMatchesPyTorchsPosWeight) {
  Case c = random_case(1);
  const torch::Tensor expected = F::binary_cross_entropy_with_logits(
      c.logits.squeeze(1), c.targets.to(torch::kFloat),
      F::BinaryCrossEntropyWithLogitsFuncOptions().pos_weight(torch::tensor({3.0f})));
  EXPECT_NEAR(pixel_cross_entropy(c.logits, c.targets, {3.0}, -1).item<double>(), expected.item<double>(), 1e-6);
}

TEST(SegmentationLoss, FocalWithGammaZeroIsCrossEntropyAndDownweightsEasyPixels) {
  Case c = random_case(3);
  EXPECT_NEAR(focal_loss(c.logits, c.targets, 0, {}, -1).item<double>(),
              pixel_cross_entropy(c.logits, c.targets, {}, -1).item<double>(), 1e-6);
  // One pixel, p_t = 0.9 (two classes, logits 0 and log 9): -(0.1)^2 log 0.9.
  const torch::Tensor logits = torch::tensor({0.0f, std::log(9.0f)}).view({1, 2, 1, 1});
  const torch::Tensor target = torch::ones({1, 1, 1}, torch::kLong);
  EXPECT_NEAR(focal_loss(logits, target, 2, {}, -1).item<double>(), -0.01 * std::log(0.9), 1e-6);
}

TEST(SegmentationLoss, DiceByHand) {
  // Binary, 4 pixels; probabilities 0.5 everywhere (logit 0); two foreground targets:
  // (2 * 1 + 1) / (2 + 2 + 1) = 0.6, loss 0.4.
  const torch::Tensor logits = torch::zeros({1, 1, 2, 2});
  const torch::Tensor targets = torch::tensor({1, 0, 1, 0}, torch::kLong).view({1, 2, 2});
  EXPECT_NEAR(soft_dice_loss(logits, targets, -1).item<double>(), 0.4, 1e-6);
  // Confident and right: loss near 0; confident and wrong: near 1 (less the smoothing).
  const torch::Tensor right = (targets.to(torch::kFloat) * 40 - 20).unsqueeze(1);
  EXPECT_LT(soft_dice_loss(right, targets, -1).item<double>(), 1e-6);
  EXPECT_NEAR(soft_dice_loss(-right, targets, -1).item<double>(), 1 - 1.0 / 5, 1e-6);
  // Ignored pixels count nowhere: changing their prediction changes nothing.
  torch::Tensor ignored = targets.clone();
  ignored[0][0][1] = 7;
  torch::Tensor moved = logits.clone();
  moved[0][0][0][1] = 5;
  EXPECT_NEAR(soft_dice_loss(logits, ignored, 7).item<double>(), soft_dice_loss(moved, ignored, 7).item<double>(), 1e-7);
}

TEST(SegmentationLoss, WeightedSumOfTheTermsAndGradients) {
  Case c = random_case(3);
  SegmentationLossConfig config;
  config.cross_entropy = 0.5;
  config.dice = 2;
  config.focal = 1;
  config.focal_gamma = 1.5;
  torch::Tensor logits = c.logits.clone().requires_grad_(true);
  const torch::Tensor total = segmentation_loss(logits, c.targets, config);
  const double expected = 0.5 * pixel_cross_entropy(c.logits, c.targets, {}, -1).item<double>() +
                          2 * soft_dice_loss(c.logits, c.targets, -1).item<double>() +
                          focal_loss(c.logits, c.targets, 1.5, {}, -1).item<double>();
  EXPECT_NEAR(total.item<double>(), expected, 1e-6);
  total.backward();
  EXPECT_TRUE(logits.grad().isfinite().all().item<bool>());
  EXPECT_GT(logits.grad().abs().sum().item<double>(), 0);
}

TEST(SegmentationLoss, BadTargetsAreErrorsNamingTheProblem) {
  SegmentationLossConfig config;
  Case c = random_case(3);
  c.targets[0][1][1] = 3;
  try {
    segmentation_loss(c.logits, c.targets, config);
    FAIL() << "expected an error";
  } catch (const InputError& e) {
    EXPECT_NE(std::string(e.what()).find("class 3: expected 0..2"), std::string::npos) << e.what();
  }
  EXPECT_THROW(segmentation_loss(c.logits, c.targets.slice(1, 0, 4), config), InputError);  // shape
  config.class_weights = {1, 2};
  EXPECT_THROW(segmentation_loss(c.logits, random_case(3).targets, config), InputError);
}

}  // namespace
}  // namespace hemapath
