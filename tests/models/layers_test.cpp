#include <gtest/gtest.h>

#include <cmath>
#include <vector>

#include "hemapath/core/error.h"
#include "hemapath/models/efficientnet.h"
#include "hemapath/models/layers.h"
#include "models/model_test_util.h"

namespace hemapath {
namespace {

TEST(ModelsLayers, MakeDivisibleFollowsTorchvision) {
  EXPECT_EQ(make_divisible(32, 8), 32);
  EXPECT_EQ(make_divisible(18, 8), 24);  // 16 would lose more than 10%
  EXPECT_EQ(make_divisible(4, 8), 8);    // never below the divisor
  EXPECT_EQ(make_divisible(35.2, 8), 32);
  EXPECT_EQ(make_divisible(36, 8), 40);  // rounds half up
  EXPECT_EQ(make_divisible(120, 8), 120);
  EXPECT_EQ(make_divisible(3, 8, 16), 16);
}

TEST(ModelsLayers, ConvBnActLayout) {
  auto block = conv_bn_act(ConvBnActOptions(3, 16, 3).stride(2).activation(ActivationKind::kNone));
  EXPECT_EQ(block->size(), 2u);  // no activation slot when there is none
  const auto shapes = testing::state_dict_shapes(*block);
  EXPECT_EQ(shapes.at("0.weight"), (std::vector<int64_t>{16, 3, 3, 3}));
  EXPECT_EQ(shapes.count("0.bias"), 0u);
  EXPECT_EQ(shapes.at("1.running_var"), (std::vector<int64_t>{16}));
  auto with_act = conv_bn_act(ConvBnActOptions(3, 16, 5).activation(ActivationKind::kHardswish));
  EXPECT_EQ(with_act->size(), 3u);
  with_act->eval();
  // Padding keeps the size at stride 1; stride 2 halves it.
  EXPECT_EQ(with_act->forward(torch::randn({1, 3, 17, 17})).sizes().vec(),
            (std::vector<int64_t>{1, 16, 17, 17}));
  block->eval();
  EXPECT_EQ(block->forward(torch::randn({1, 3, 17, 17})).sizes().vec(),
            (std::vector<int64_t>{1, 16, 9, 9}));
}

TEST(ModelsLayers, ActivationsMatchTheirDefinitions) {
  const auto x = torch::linspace(-5, 5, 101);
  EXPECT_TRUE(torch::allclose(apply_activation(x, ActivationKind::kHardswish),
                              x * torch::clamp(x + 3, 0, 6) / 6));
  EXPECT_TRUE(torch::allclose(apply_activation(x, ActivationKind::kHardsigmoid),
                              torch::clamp(x + 3, 0, 6) / 6));
  EXPECT_TRUE(torch::allclose(apply_activation(x, ActivationKind::kSiLU), x * torch::sigmoid(x)));
  EXPECT_TRUE(torch::equal(apply_activation(x, ActivationKind::kNone), x));
}

TEST(ModelsLayers, SqueezeExcitationRescalesChannels) {
  torch::manual_seed(0);
  SqueezeExcitation se(SqueezeExcitationOptions(16, 4));
  EXPECT_EQ(testing::parameter_count(*se), 16 * 4 + 4 + 4 * 16 + 16);
  const auto x = torch::rand({2, 16, 5, 5});
  const auto y = se->forward(x);
  // A sigmoid gate in (0, 1), constant over space within each channel.
  const auto ratio = y / x;
  EXPECT_TRUE((ratio > 0).all().item<bool>());
  EXPECT_TRUE((ratio < 1).all().item<bool>());
  EXPECT_TRUE(torch::allclose(ratio, ratio.select(2, 0).select(2, 0).unsqueeze(-1).unsqueeze(-1)
                                         .expand_as(ratio)));
}

TEST(ModelsLayers, SeparableConvHasFewerWeights) {
  SeparableConv2d sep(SeparableConv2dOptions(32, 64));
  EXPECT_EQ(testing::parameter_count(*sep), 32 * 9 + 32 * 64);
  const auto shapes = testing::state_dict_shapes(*sep);
  EXPECT_EQ(shapes.at("depthwise.weight"), (std::vector<int64_t>{32, 1, 3, 3}));
  EXPECT_EQ(shapes.at("pointwise.weight"), (std::vector<int64_t>{64, 32, 1, 1}));
  EXPECT_EQ(sep->forward(torch::randn({1, 32, 9, 9})).sizes().vec(),
            (std::vector<int64_t>{1, 64, 9, 9}));
  SeparableConv2d strided(SeparableConv2dOptions(8, 8).stride(2).kernel_size(5));
  EXPECT_EQ(strided->forward(torch::randn({1, 8, 9, 9})).sizes().vec(),
            (std::vector<int64_t>{1, 8, 5, 5}));
}

TEST(ModelsLayers, StochasticDepthDropsWholeRowsAndKeepsTheMean) {
  torch::manual_seed(0);
  const auto x = torch::ones({4000, 3, 2, 2});
  EXPECT_TRUE(torch::equal(stochastic_depth(x, 0.3, StochasticDepthMode::kRow, false), x));
  EXPECT_TRUE(torch::equal(stochastic_depth(x, 0.0, StochasticDepthMode::kRow, true), x));

  const auto y = stochastic_depth(x, 0.25, StochasticDepthMode::kRow, true);
  const auto per_row = y.flatten(1);
  // Each sample is either dropped entirely or kept and scaled by 1 / (1 - p).
  EXPECT_TRUE(torch::equal(per_row.amin(1), per_row.amax(1)));
  const auto kept = (per_row.select(1, 0) > 0).to(torch::kDouble).mean().item<double>();
  EXPECT_NEAR(kept, 0.75, 0.03);
  EXPECT_NEAR(per_row.select(1, 0).max().item<double>(), 1.0 / 0.75, 1e-6);
  EXPECT_NEAR(y.mean().item<double>(), 1.0, 0.05);

  const auto batch = stochastic_depth(x, 0.5, StochasticDepthMode::kBatch, true);
  EXPECT_TRUE(torch::equal(batch.flatten().amin(0), batch.flatten().amax(0)));
  EXPECT_THROW(stochastic_depth(x, 1.5, StochasticDepthMode::kRow, true), ConfigError);
}

TEST(ModelsLayers, InitWeightsFollowsTorchvision) {
  torch::manual_seed(0);
  torch::nn::Sequential net(torch::nn::Conv2d(torch::nn::Conv2dOptions(64, 256, 3)),
                            torch::nn::BatchNorm2d(256), torch::nn::Linear(256, 500));
  {
    torch::NoGradGuard no_grad;
    for (auto& p : net->parameters()) p.fill_(0.5);
  }
  init_weights(*net, LinearInit::kUniformFanOut);
  const auto params = net->named_parameters();
  // Kaiming normal, fan_out = 256 * 9: std = sqrt(2 / fan_out).
  EXPECT_NEAR(params["0.weight"].std().item<double>(), std::sqrt(2.0 / (256 * 9)), 0.002);
  EXPECT_EQ(params["0.bias"].abs().sum().item<double>(), 0.0);
  EXPECT_TRUE(torch::equal(params["1.weight"], torch::ones({256})));
  EXPECT_EQ(params["1.bias"].abs().sum().item<double>(), 0.0);
  EXPECT_LE(params["2.weight"].abs().max().item<double>(), 1.0 / std::sqrt(500.0));
  EXPECT_EQ(params["2.bias"].abs().sum().item<double>(), 0.0);

  init_weights(*net, LinearInit::kNormal);
  EXPECT_NEAR(net->named_parameters()["2.weight"].std().item<double>(), 0.01, 0.001);
}

TEST(ModelsLayers, EfficientNetStochasticDepthGrowsLinearly) {
  EfficientNet net(EfficientNetOptions().num_classes(4));
  std::vector<double> probs;
  for (const auto& module : net->modules(/*include_self=*/false)) {
    if (auto* block = module->as<MBConv>()) probs.push_back(block->stochastic_depth_prob());
  }
  ASSERT_EQ(probs.size(), 16u);
  for (size_t i = 0; i < probs.size(); ++i) EXPECT_NEAR(probs[i], 0.2 * i / 16.0, 1e-12) << i;
}

}  // namespace
}  // namespace hemapath
