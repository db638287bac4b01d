#include <gtest/gtest.h>

#include "hemapath/models/classifier.h"
#include "hemapath/models/registry.h"
#include "hemapath/models/separable_cnn.h"
#include "models/model_test_util.h"

namespace hemapath {
namespace {

ClassifierOptions four_classes(double width = 1.0) {
  ClassifierOptions options;
  options.num_classes = 4;
  options.extra = {{"width", width}};
  return options;
}

// Stem 3x3 conv-bn, then per stage two (depthwise 3x3 + pointwise 1x1 + BN), then the head.
int64_t expected_parameters(int64_t in, const std::vector<int64_t>& widths, int64_t classes) {
  int64_t total = in * widths[0] * 9 + 2 * widths[0];
  for (size_t i = 1; i < widths.size(); ++i) {
    const int64_t a = widths[i - 1], b = widths[i];
    total += a * 9 + a * b + 2 * b;
    total += b * 9 + b * b + 2 * b;
  }
  return total + widths.back() * classes + classes;
}

TEST(ModelsSeparableCnn, CompactAndMatchesItsDocumentedLayout) {
  torch::manual_seed(0);
  auto model = create_classifier("separable_cnn", four_classes());
  const int64_t count = testing::parameter_count(*model);
  EXPECT_LT(count, 1000000);
  EXPECT_EQ(count, expected_parameters(3, {32, 64, 128, 256, 384}, 4));
  const auto shapes = testing::state_dict_shapes(*model);
  EXPECT_EQ(shapes.at("features.0.0.weight"), (std::vector<int64_t>{32, 3, 3, 3}));
  EXPECT_EQ(shapes.at("features.1.0.0.depthwise.weight"), (std::vector<int64_t>{32, 1, 3, 3}));
  EXPECT_EQ(shapes.at("features.1.0.0.pointwise.weight"), (std::vector<int64_t>{64, 32, 1, 1}));
  EXPECT_EQ(shapes.at("features.4.1.1.running_mean"), (std::vector<int64_t>{384}));
  EXPECT_EQ(shapes.at("classifier.weight"), (std::vector<int64_t>{4, 384}));
  EXPECT_EQ(model->head_prefix(), "classifier");
}

TEST(ModelsSeparableCnn, WidthScalesChannels) {
  torch::manual_seed(0);
  const int64_t base =
      testing::parameter_count(*create_classifier("separable_cnn", four_classes()));
  const int64_t half =
      testing::parameter_count(*create_classifier("separable_cnn", four_classes(0.5)));
  const int64_t wide =
      testing::parameter_count(*create_classifier("separable_cnn", four_classes(1.5)));
  EXPECT_EQ(half, expected_parameters(3, {16, 32, 64, 128, 192}, 4));
  EXPECT_LT(half, base);
  EXPECT_GT(wide, base);
}

TEST(ModelsSeparableCnn, DefaultDropoutIsPointThree) {
  SeparableCnn model;
  EXPECT_DOUBLE_EQ(model->options().dropout(), 0.3);
  EXPECT_EQ(model->options().num_classes(), 4);
}

TEST(ModelsSeparableCnn, OddAndSmallSizesKeepTheirBorder) {
  torch::manual_seed(0);
  auto model = create_classifier("separable_cnn", four_classes());
  model->eval();
  torch::NoGradGuard no_grad;
  EXPECT_EQ(model->forward(torch::randn({2, 3, 45, 77})).sizes().vec(),
            (std::vector<int64_t>{2, 4}));
  EXPECT_EQ(model->forward(torch::randn({2, 3, 20, 20})).sizes().vec(),
            (std::vector<int64_t>{2, 4}));
}

TEST(ModelsSeparableCnn, LearnsASmallProblem) {
  // Two classes told apart by brightness: a few steps must lower the loss.
  torch::manual_seed(0);
  ClassifierOptions options;
  options.num_classes = 2;
  options.extra = {{"width", 0.25}};
  auto model = create_classifier("separable_cnn", options);
  torch::optim::Adam optimizer(model->parameters(), torch::optim::AdamOptions(1e-2));
  const auto labels = torch::tensor({0, 1, 0, 1, 0, 1, 0, 1});
  const auto images = torch::randn({8, 3, 32, 32}) * 0.1 +
                      labels.to(torch::kFloat).view({8, 1, 1, 1}) * 2.0 - 1.0;
  model->train();
  double first = 0, last = 0;
  for (int step = 0; step < 15; ++step) {
    optimizer.zero_grad();
    const auto loss = torch::nn::functional::cross_entropy(model->forward(images), labels);
    loss.backward();
    optimizer.step();
    if (step == 0) first = loss.item<double>();
    last = loss.item<double>();
  }
  EXPECT_LT(last, first * 0.5);
}

}  // namespace
}  // namespace hemapath
